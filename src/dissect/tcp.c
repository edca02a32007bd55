/* dissect/tcp.c — TCP header (RFC 9293 §3.1) and options: MSS, window scale (RFC 7323
 * §2), SACK-permitted and SACK blocks (RFC 2018), timestamps (RFC 7323 §3), TCP Fast Open
 * (RFC 7413). Info text follows tshark's. Sequence numbers are raw here; relative numbers
 * need the flow table. */
#include "dissect/decoders.h"

#include <string.h>

/* Flag names in Wireshark's Info order (low bit first). */
static const struct { uint16_t bit; const char *name; } flag_names[] = {
	{ TCP_FIN, "FIN" }, { TCP_SYN, "SYN" }, { TCP_RST, "RST" }, { TCP_PSH, "PSH" }, { TCP_ACK, "ACK" },
	{ TCP_URG, "URG" }, { TCP_ECE, "ECE" }, { TCP_CWR, "CWR" }, { TCP_AE, "AE" }, { TCP_RESERVED, "Reserved" },
};

static void tcp_flag_fields(struct packet *p, uint16_t flags, uint32_t off)
{
	static const enum field_id ids[] = { F_TCP_FLAGS_FIN, F_TCP_FLAGS_SYN, F_TCP_FLAGS_RESET,
		F_TCP_FLAGS_PUSH, F_TCP_FLAGS_ACK, F_TCP_FLAGS_URG, F_TCP_FLAGS_ECE, F_TCP_FLAGS_CWR,
		F_TCP_FLAGS_AE };
	pk_uint(p, F_TCP_FLAGS, flags, off, 2);
	pk_bool(p, F_TCP_FLAGS_RES, flags & TCP_RESERVED, off, 1);
	for (int i = 8; i >= 0; i--) pk_bool(p, ids[i], flags & (1u << i), off, 2);
	/* tcp.flags.str: 12 positions, high bit first, "·" (U+00B7) where a flag is clear. */
	if (!pk_wants(p, F_TCP_FLAGS_STR)) return;
	static const char letters[] = "RRRACEUAPRSF";
	char str[12 * 2];
	size_t n = 0;
	for (int bit = 11; bit >= 0; bit--) {
		if (flags & (1u << bit)) {
			str[n++] = letters[11 - bit];
		} else {
			str[n++] = (char)0xc2;
			str[n++] = (char)0xb7;
		}
	}
	pk_string(p, F_TCP_FLAGS_STR, str, n, off, 2);
}

static void info_flags(struct sbuf *sb, uint16_t flags)
{
	sb_putc(sb, '[');
	bool first = true;
	for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
		if (!(flags & flag_names[i].bit)) continue;
		if (!first) sb_puts(sb, ", ");
		sb_puts(sb, flag_names[i].name);
		first = false;
	}
	if (first) sb_puts(sb, "<None>");
	sb_putc(sb, ']');
}

/* Options, RFC 9293 §3.1: kinds 0 and 1 are one byte, the rest kind-length-value. A
 * length under 2 or past the header stops the walk, so it always advances. With a packet,
 * the fields are recorded and the window scale shift goes to *wscale; with an sbuf, the
 * Info text is written (it follows Len= in the line). The one walk serves both, so the
 * text printed later reads the options exactly as the fields did. */
static uint8_t opt_u8(struct packet *p, struct cur *c, enum field_id id) { return p ? pk_u8(p, c, id) : cur_u8(c); }
static uint16_t opt_be16(struct packet *p, struct cur *c, enum field_id id) { return p ? pk_be16(p, c, id) : cur_be16(c); }
static uint32_t opt_be32(struct packet *p, struct cur *c, enum field_id id) { return p ? pk_be32(p, c, id) : cur_be32(c); }

static void tcp_options(struct packet *p, struct cur *o, struct sbuf *sb, int8_t *wscale)
{
	while (cur_left(o)) {
		uint32_t off = cur_off(o);
		uint8_t kind = cur_u8(o);
		if (p) pk_uint(p, F_TCP_OPTION_KIND, kind, off, 1);
		if (kind == 0) break;
		if (kind == 1) continue;
		uint8_t len = cur_u8(o);
		if (o->err || len < 2 || (size_t)len - 2 > cur_left(o)) {
			if (p) pk_broken(p, "tcp", "TCP option length is bad");
			return;
		}
		if (p) pk_uint(p, F_TCP_OPTION_LEN, len, off + 1, 1);
		struct cur v = cur_sub(o, (size_t)len - 2);
		switch (kind) {
		case 2:
			if (len != 4) break;
			{
				uint16_t mss = opt_be16(p, &v, F_TCP_OPTIONS_MSS_VAL);
				if (sb) { sb_puts(sb, " MSS="); sb_u64(sb, mss); }
			}
			break;
		case 3: {
			if (len != 3) break;
			uint8_t shift = opt_u8(p, &v, F_TCP_OPTIONS_WSCALE_SHIFT);
			if (shift > 14) shift = 14; /* RFC 7323 §2.3 */
			if (wscale) *wscale = (int8_t)shift;
			if (p) pk_uint(p, F_TCP_OPTIONS_WSCALE_MULTIPLIER, 1u << shift, off + 2, 1);
			if (sb) { sb_puts(sb, " WS="); sb_u64(sb, 1u << shift); }
			break;
		}
		case 4:
			if (p) pk_add(p, F_TCP_OPTIONS_SACK_PERM, off, len);
			if (sb) sb_puts(sb, " SACK_PERM");
			break;
		case 5:
			while (cur_left(&v) >= 8) {
				uint32_t le = opt_be32(p, &v, F_TCP_OPTIONS_SACK_LE);
				uint32_t re = opt_be32(p, &v, F_TCP_OPTIONS_SACK_RE);
				if (sb) { sb_puts(sb, " SLE="); sb_u64(sb, le); sb_puts(sb, " SRE="); sb_u64(sb, re); }
			}
			break;
		case 8:
			if (len != 10) break;
			{
				uint32_t tsval = opt_be32(p, &v, F_TCP_OPTIONS_TIMESTAMP_TSVAL);
				uint32_t tsecr = opt_be32(p, &v, F_TCP_OPTIONS_TIMESTAMP_TSECR);
				if (sb) { sb_puts(sb, " TSval="); sb_u64(sb, tsval); sb_puts(sb, " TSecr="); sb_u64(sb, tsecr); }
			}
			break;
		case 34:
			if (len == 2) {
				if (p) pk_add(p, F_TCP_OPTIONS_TFO_REQUEST, off, 2);
				if (sb) sb_puts(sb, " TFO=R");
			} else {
				if (p) pk_bytes(p, F_TCP_OPTIONS_TFO_COOKIE, v.pos, (uint32_t)cur_left(&v), cur_off(&v));
				if (sb) sb_puts(sb, " TFO=C");
			}
			break;
		}
	}
}

void tcp_info_text(struct sbuf *sb, const struct packet *p)
{
	const struct tcp_info_rec *t = &p->tcp_info;
	sb_put(sb, t->note, t->note_len);
	sb_u64(sb, t->sport);
	sb_puts(sb, " \xe2\x86\x92 "); /* → as tshark prints it */
	sb_u64(sb, t->dport);
	sb_putc(sb, ' ');
	info_flags(sb, t->flags);
	sb_puts(sb, " Seq=");
	sb_u64(sb, t->seq);
	if (t->flags & TCP_ACK) {
		sb_puts(sb, " Ack=");
		sb_u64(sb, t->ack);
	}
	sb_puts(sb, " Win=");
	sb_u64(sb, t->win);
	if (t->flags & TCP_URG) {
		sb_puts(sb, " Urg=");
		sb_u64(sb, t->urg);
	}
	sb_puts(sb, " Len=");
	sb_u64(sb, t->len);
	if (t->opts_len && t->opts_off + t->opts_len <= p->meta.caplen) {
		char text[160]; /* the options' part of the line is capped on its own */
		struct sbuf ot;
		sb_init_fixed(&ot, text, sizeof text - 1);
		struct cur o = cur_make(p->data + t->opts_off, t->opts_len);
		tcp_options(NULL, &o, &ot, NULL);
		sb_put(sb, text, ot.len);
	}
}

/* Keeps what the Info line needs; it is formatted only if the line is printed. */
static void tcp_info_keep(struct packet *p, const struct tcp_segment *s, uint16_t urg, uint32_t opts_off,
			  uint32_t opts_len)
{
	struct tcp_info_rec *t = &p->tcp_info;
	size_t nl = strnlen(s->note, sizeof s->note);
	t->note_len = (uint8_t)(nl < sizeof t->note ? nl : sizeof t->note);
	memcpy(t->note, s->note, t->note_len);
	t->sport = s->sport;
	t->dport = s->dport;
	t->flags = s->flags;
	t->seq = s->relative ? s->rel_seq : s->seq;
	t->ack = s->relative ? s->rel_ack : s->ack;
	t->win = s->window_scaled >= 0 ? (uint64_t)s->window_scaled : s->window;
	t->urg = urg;
	t->len = s->len;
	t->opts_off = opts_off;
	t->opts_len = opts_len;
	t->pending = true;
}

void dissect_tcp(struct packet *p, struct cur *c)
{
	int slot = pk_proto(p, F_TCP, c);
	pk_col(p, "TCP");
	uint32_t hdr_off = cur_off(c);
	uint16_t sport = pk_be16(p, c, F_TCP_SRCPORT);
	uint16_t dport = pk_be16(p, c, F_TCP_DSTPORT);
	uint32_t seq_off = cur_off(c);
	uint32_t seq = cur_be32(c);
	uint32_t ack = cur_be32(c);
	uint32_t hoff = cur_off(c);
	uint16_t hf = cur_be16(c);
	uint16_t win = pk_be16(p, c, F_TCP_WINDOW_SIZE_VALUE);
	pk_be16(p, c, F_TCP_CHECKSUM);
	uint16_t urg = pk_be16(p, c, F_TCP_URGENT_POINTER);
	if (c->err) {
		pk_broken(p, "tcp", "TCP header cut short");
		return;
	}
	size_t hlen = (size_t)(hf >> 12) * 4;
	uint16_t flags = hf & 0x0fff;
	pk_uint(p, F_TCP_SEQ_RAW, seq, seq_off, 4);
	pk_uint(p, F_TCP_ACK_RAW, ack, seq_off + 4, 4);
	pk_uint(p, F_TCP_HDR_LEN, hlen, hoff, 1);
	tcp_flag_fields(p, flags, hoff);
	if (hlen < 20) {
		pk_uint(p, F_TCP_SEQ, seq, seq_off, 4);
		pk_uint(p, F_TCP_ACK, ack, seq_off + 4, 4);
		pk_broken(p, "tcp", "Bogus TCP header length (less than 20)");
		return;
	}
	struct tcp_segment s = { .sport = sport, .dport = dport, .seq = seq, .ack = ack, .flags = flags,
				 .window = win, .wscale = -1, .hdr_off = hdr_off, .window_scaled = -1 };
	struct cur opts = cur_sub(c, hlen - 20);
	bool opts_cut = opts.err;
	uint32_t opts_off = cur_off(&opts), opts_len = (uint32_t)cur_left(&opts);
	if (hlen > 20) {
		pk_bytes(p, F_TCP_OPTIONS, opts.pos, opts_len, opts_off);
		tcp_options(p, &opts, NULL, &s.wscale);
	}
	/* The segment's length is what IP says it carries: a snapshot length may have cut the
	 * captured bytes short, but sequence numbers count the real ones. */
	uint32_t captured = (uint32_t)cur_left(c);
	uint32_t payload_start = hdr_off + (uint32_t)hlen;
	s.len = captured;
	if (p->nest == 0 && p->ip_end) s.len = p->ip_end > payload_start ? p->ip_end - payload_start : 0;
	s.payload = c->pos;
	s.captured = captured < s.len ? captured : s.len;
	s.payload_off = cur_off(c);
	if (p->tracker && p->l3_src.type != AT_NONE) {
		s.family = p->l3_src.type == AT_IPV6 ? 6 : 4;
		s.src = p->l3_src.a;
		s.dst = p->l3_dst.a;
		s.quoted = p->nest > 0;
		p->tracker->tcp(p->tracker->ctx, p, &s);
	}
	if (p->nest == 0) {
		pk_uint(p, F_TCP_LEN, s.len, s.payload_off, 0); /* as tshark: not for a quoted header */
		p->tcp_hdr.seen = true;
		p->tcp_hdr.flags = flags;
		p->tcp_hdr.dport = dport;
		p->tcp_hdr.seq = s.relative ? s.rel_seq : seq;
		p->tcp_hdr.len = s.len;
	}
	pk_uint(p, F_TCP_SEQ, s.relative ? s.rel_seq : seq, seq_off, 4);
	if (s.len || (flags & (TCP_SYN | TCP_FIN))) { /* each takes one sequence number */
		uint32_t next = (s.relative ? s.rel_seq : seq) + s.len + ((flags & TCP_SYN) ? 1 : 0) + ((flags & TCP_FIN) ? 1 : 0);
		pk_uint(p, F_TCP_NXTSEQ, next, 0, 0);
	}
	pk_uint(p, F_TCP_ACK, s.relative ? s.rel_ack : ack, seq_off + 4, 4);
	if (s.window_scaled >= 0) pk_uint(p, F_TCP_WINDOW_SIZE, (uint64_t)s.window_scaled, hoff + 2, 2);
	if (pk_col(p, "TCP")) tcp_info_keep(p, &s, urg, opts_off, hlen > 20 && !opts_cut ? opts_len : 0);
	if (opts_cut) {
		pk_broken(p, "tcp", "TCP header length exceeds packet");
		return;
	}
	pk_proto_end(p, slot, c);
	if (captured) pk_bytes(p, F_TCP_PAYLOAD, c->pos, captured, cur_off(c));
	cur_skip(c, captured);
	if (p->tracker && p->l3_src.type != AT_NONE && !s.quoted) p->tracker->tcp_payload(p->tracker->ctx, p, &s);
}
