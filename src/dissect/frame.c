/* dissect/frame.c — the frame layer: capture metadata as fields, then the link type's
 * decoder, then the protocol chain as `frame.protocols`. */
#include "dissect/decoders.h"

#include <string.h>

static void record_protocols(struct packet *p)
{
	if (p->mask && !(p->mask->bits[F_FRAME_PROTOCOLS >> 3] & (1u << (F_FRAME_PROTOCOLS & 7)))) return;
	char buf[512];
	size_t n = 0;
	for (uint8_t i = 1; i < p->nprotos; i++) { /* [0] is frame itself */
		const struct field_def *f = &field_defs[p->protos[i]];
		if (n + f->name_len + 1 >= sizeof buf) break;
		if (n) buf[n++] = ':';
		memcpy(buf + n, f->name, f->name_len);
		n += f->name_len;
	}
	pk_string(p, F_FRAME_PROTOCOLS, buf, n, 0, 0);
}

void dissect_frame(struct packet *p)
{
	const struct pkt_meta *m = &p->meta;
	struct cur c = cur_make(p->data, m->caplen);
	pk_proto(p, F_FRAME, &c);
	pk_uint(p, F_FRAME_NUMBER, m->number, 0, 0);
	if (!m->no_time) { /* a simple packet block or a custom block has none */
		struct fval *f = pk_add(p, F_FRAME_TIME, 0, 0);
		if (f) {
			f->v.t.sec = m->ts_sec;
			f->v.t.nsec = m->ts_nsec;
		}
		f = pk_add(p, F_FRAME_TIME_EPOCH, 0, 0);
		if (f) {
			f->v.t.sec = m->ts_sec;
			f->v.t.nsec = m->ts_nsec;
		}
		f = pk_add(p, F_FRAME_TIME_RELATIVE, 0, 0);
		if (f) {
			f->v.t.sec = p->rel_neg ? -p->rel_sec : p->rel_sec;
			f->v.t.nsec = p->rel_nsec;
			f->neg = p->rel_neg; /* sign for values between -1 and 0 s */
		}
	}
	if (m->record == PKT_RECORD_PACKET) {
		pk_uint(p, F_FRAME_INTERFACE_ID, m->ifindex, 0, 0);
		if (m->ifname) pk_string(p, F_FRAME_INTERFACE_NAME, m->ifname, strlen(m->ifname), 0, 0);
		pk_uint(p, F_FRAME_ENCAP_TYPE, (uint64_t)m->linktype, 0, 0);
	}
	pk_uint(p, F_FRAME_LEN, m->wirelen, 0, 0);
	pk_uint(p, F_FRAME_CAP_LEN, m->caplen, 0, 0);
	if (m->comment_len) pk_bytes(p, F_FRAME_COMMENT, m->comment, m->comment_len, 0);

	if (m->record == PKT_RECORD_CUSTOM) dissect_custom_block(p, &c);
	else if (m->record == PKT_RECORD_JOURNAL) dissect_journal(p, &c);
	else dissect_linktype(p, m->linktype, &c);

	if (p->fields_overflow) {
		p->nfields -= 2; /* make room to say so */
		p->fields_overflow = false;
		pk_broken(p, "frame", "too many fields in one packet; the rest were not recorded");
		p->fields_overflow = true;
	}
	record_protocols(p);
}
