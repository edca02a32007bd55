/* flow/tcp_analysis.c — TCP sequence analysis: the tcp.analysis.* flags Wireshark sets,
 * checked in Wireshark's order so that a segment gets the same verdict here as there.
 * Sequence numbers compare modulo 2^32 (RFC 9293 §3.4), so wrap-around is not a gap or a
 * retransmission. Window is the segment's window, scaled when the scale is known. */
#include "flow/flow.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"


static bool lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static bool le(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }
static bool gt(uint32_t a, uint32_t b) { return (int32_t)(a - b) > 0; }

/* Out-of-order threshold: the handshake RTT when known, else 3 ms (Wireshark's default). */
static int64_t ooo_threshold(const struct flow *f)
{
	return f->initial_rtt_ns > 0 ? f->initial_rtt_ns : 3000000;
}

void tcp_side_release(struct tcp_side *side, size_t *unacked_total)
{
	*unacked_total -= side->nunacked;
	free(side->unacked);
	side->unacked = NULL;
	side->nunacked = side->cap_unacked = 0;
}

static void remember_segment(struct tcp_side *fwd, uint32_t seq, uint32_t nextseq, uint64_t frame, int64_t now,
			     size_t *unacked_total)
{
	if (*unacked_total >= FLOW_MAX_UNACKED_TOTAL && fwd->nunacked == 0) return; /* only RTT samples are lost */
	if (fwd->nunacked == FLOW_MAX_UNACKED || (*unacked_total >= FLOW_MAX_UNACKED_TOTAL && fwd->nunacked)) {
		/* forget this side's oldest */
		memmove(fwd->unacked, fwd->unacked + 1, (fwd->nunacked - 1) * sizeof fwd->unacked[0]);
		fwd->nunacked--;
		(*unacked_total)--;
	}
	if (fwd->nunacked == fwd->cap_unacked) {
		fwd->cap_unacked = fwd->cap_unacked ? fwd->cap_unacked * 2 : 2;
		fwd->unacked = xrealloc(fwd->unacked, fwd->cap_unacked * sizeof *fwd->unacked);
	}
	fwd->unacked[fwd->nunacked++] = (struct tcp_unacked){ seq, nextseq, frame, now, false };
	(*unacked_total)++;
}

/* Karn's rule: a segment sent again yields no RTT sample when it is acknowledged. */
static void mark_retransmitted(struct tcp_side *fwd, uint32_t seq)
{
	for (uint32_t i = 0; i < fwd->nunacked; i++)
		if (le(fwd->unacked[i].seq, seq) && lt(seq, fwd->unacked[i].nextseq)) fwd->unacked[i].retransmitted = true;
}

/* The ACK in this segment against the other side's unacknowledged segments, as Wireshark
 * does: an exact match of a segment's end gives acks_frame and ack_rtt; segments wholly
 * acknowledged are dropped; a partly acknowledged one is trimmed. */
static void process_ack(struct flow *f, struct tcp_side *rev, uint32_t ack, int64_t now, size_t *unacked_total,
			struct tcp_analysis *out)
{
	uint32_t keep = 0;
	for (uint32_t i = 0; i < rev->nunacked; i++) {
		struct tcp_unacked *u = &rev->unacked[i];
		if (ack == u->nextseq) {
			out->acks_frame = u->frame;
			out->ack_rtt_ns = now - u->time_ns;
			if (!u->retransmitted) { /* RFC 6298 §2: SRTT = 7/8 SRTT + 1/8 R */
				int64_t r = now - u->time_ns;
				f->srtt_ns = f->srtt_ns < 0 ? r : f->srtt_ns + (r - f->srtt_ns) / 8;
			}
			continue;
		}
		if (gt(ack, u->seq) && le(ack, u->nextseq)) {
			u->seq = ack;
		} else if (!gt(u->nextseq, ack)) {
			continue; /* old: wholly acknowledged */
		}
		rev->unacked[keep++] = *u;
	}
	*unacked_total -= rev->nunacked - keep;
	rev->nunacked = keep;
	if (!keep && rev->cap_unacked) tcp_side_release(rev, unacked_total); /* all acknowledged: give the memory back */
}

void tcp_analyze(struct flow *f, int dir, const struct tcp_segment *s, uint32_t window, uint64_t frame,
		 int64_t now, size_t *unacked_total, struct tcp_analysis *out)
{
	struct tcp_side *fwd = &f->tcp[dir], *rev = &f->tcp[!dir];
	uint32_t seq = s->seq, ack = s->ack, len = s->len;
	uint16_t fl = s->flags;
	uint32_t flags = 0;
	memset(out, 0, sizeof *out);

	if (!fwd->nextseq_set) {
		/* The first segment in this direction: nothing to compare it with. */
		goto finished_fwd;
	}
	/* Zero window probe: one byte at the next sequence number into a closed window. */
	if (len == 1 && seq == fwd->nextseq && rev->window_set && rev->window == 0) {
		flags |= TA_ZERO_WINDOW_PROBE;
		goto finished_fwd;
	}
	if (window == 0 && !(fl & (TCP_RST | TCP_FIN | TCP_SYN))) flags |= TA_ZERO_WINDOW;
	/* Lost segment: data beyond what we expected means we missed something. */
	if (gt(seq, fwd->nextseq) && !(fl & TCP_RST)) {
		flags |= TA_LOST_SEGMENT;
		fwd->bif_off = true; /* until the other side acknowledges something */
	}
	/* Keep-alive: no or one byte, one before the next expected sequence number. */
	if (len <= 1 && !(fl & (TCP_SYN | TCP_FIN | TCP_RST)) && fwd->nextseq - 1 == seq) flags |= TA_KEEP_ALIVE;
	/* Window update: nothing new but the window. */
	if (len == 0 && window && fwd->window_set && window != fwd->window && seq == fwd->nextseq &&
	    fwd->lastack_set && ack == fwd->lastack && !(fl & (TCP_SYN | TCP_FIN | TCP_RST)))
		flags |= TA_WINDOW_UPDATE;
	/* Window full: this segment fills the receiver's advertised window. */
	if (len > 0 && rev->window_set && rev->lastack_set && seq + len == rev->lastack + rev->window &&
	    !(fl & (TCP_SYN | TCP_FIN | TCP_RST)))
		flags |= TA_WINDOW_FULL;
	/* Keep-alive ACK: the answer to the other side's keep-alive. */
	if (len == 0 && fwd->window_set && window == fwd->window && seq == fwd->nextseq && fwd->lastack_set &&
	    ack == fwd->lastack && (rev->last_flags & TA_KEEP_ALIVE) && !(fl & (TCP_SYN | TCP_FIN | TCP_RST))) {
		flags |= TA_KEEP_ALIVE_ACK;
		goto finished_fwd;
	}
	/* Duplicate ACK: nothing new at all, the same ACK and window again. */
	if (len == 0 && window && fwd->window_set && window == fwd->window && seq == fwd->nextseq &&
	    fwd->lastack_set && ack == fwd->lastack && !(fl & (TCP_SYN | TCP_FIN | TCP_RST))) {
		fwd->dupacknum++;
		flags |= TA_DUPLICATE_ACK;
		out->dupack_num = fwd->dupacknum;
		out->dupack_frame = fwd->lastnondupack;
	}

finished_fwd:
	/* A new acknowledgement number ends a run of duplicate ACKs. */
	if (!fwd->lastack_set || ack != fwd->lastack) {
		fwd->lastnondupack = frame;
		fwd->dupacknum = 0;
	}
	/* ACKed lost segment: this acknowledges data from the other side we never saw. It is
	 * reported once per loss, also while the other side only sends pure ACKs. */
	if (rev->maxseqtobeacked && gt(ack, rev->maxseqtobeacked) && (fl & TCP_ACK)) {
		flags |= TA_ACK_LOST_SEGMENT;
		rev->maxseqtobeacked = rev->nextseq;
	}
	/* Retransmission, fast retransmission, out of order or spurious retransmission: data
	 * (or SYN/FIN) that does not advance the sequence number, checked in Wireshark's
	 * order. A keep-alive is none of them. */
	if ((len > 0 || (fl & (TCP_SYN | TCP_FIN))) && !(flags & TA_KEEP_ALIVE)) {
		bool not_advanced = fwd->nextseq_set && lt(seq, fwd->nextseq);
		/* Fast and spurious retransmissions are retransmissions too (tcp.analysis.
		 * retransmission is set with them, as in tshark 4.0). */
		if (not_advanced && len > 0 && rev->lastack_set && le(seq + len, rev->lastack)) {
			flags |= TA_SPURIOUS_RETRANSMISSION | TA_RETRANSMISSION;
		} else if (not_advanced && rev->dupacknum >= 2 && rev->lastack == seq && now - rev->lastack_time < 20000000) {
			flags |= TA_FAST_RETRANSMISSION | TA_RETRANSMISSION;
		} else if (not_advanced && now - fwd->nextseq_time < ooo_threshold(f) &&
			   fwd->nextseq != seq + len + ((fl & (TCP_SYN | TCP_FIN)) ? 1 : 0)) {
			/* a repeated SYN or FIN ends where the first did: a retransmission */
			flags |= TA_OUT_OF_ORDER;
		} else if (not_advanced) {
			flags |= TA_RETRANSMISSION;
		}
		if (not_advanced) mark_retransmitted(fwd, seq);
	}

	uint32_t nextseq = seq + len + ((fl & (TCP_SYN | TCP_FIN)) ? 1 : 0);
	if (!fwd->nextseq_set || gt(nextseq, fwd->nextseq)) {
		if (!(flags & TA_ZERO_WINDOW_PROBE)) {
			if (len > 0 || (fl & (TCP_SYN | TCP_FIN))) remember_segment(fwd, seq, nextseq, frame, now, unacked_total);
			fwd->nextseq = nextseq;
			fwd->nextseq_set = true;
			fwd->nextseq_time = now;
		}
	}
	/* 'Max seq to be acked' follows nextseq only while the sequence space is continuous,
	 * so an ACK beyond it reveals data we never saw (Wireshark's rule). */
	if ((seq == fwd->maxseqtobeacked || !fwd->maxseqtobeacked) && !(flags & TA_ZERO_WINDOW_PROBE))
		fwd->maxseqtobeacked = fwd->nextseq;
	fwd->lastack = ack; /* stored for every segment, as Wireshark does */
	fwd->lastack_set = true;
	fwd->lastack_time = now;
	if (fl & TCP_ACK) {
		process_ack(f, rev, ack, now, unacked_total, out);
		rev->bif_off = false;
	}
	out->in_flight_known = len > 0 && !fwd->bif_off;
	fwd->window = window;
	fwd->window_set = true;
	fwd->last_flags = flags;
	out->flags |= flags;
}
