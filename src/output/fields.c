/* output/fields.c — `-T fields -e FIELD…` lines, formatted as tshark formats them so the
 * agreement tests can compare column by column. */
#include "output/output.h"
#include <stdio.h>

static void put_time(struct sbuf *sb, int64_t sec, uint32_t nsec, bool neg, int digits)
{
	if (neg || sec < 0) {
		sb_putc(sb, '-');
		if (sec < 0) sec = -sec;
	}
	uint64_t frac = digits == 9 ? nsec : nsec / 1000;
	uint64_t div = digits == 9 ? 1000000000ull : 1000000ull;
	sb_fixed(sb, (uint64_t)sec * div + frac, digits);
}

void out_field_text(struct sbuf *sb, const struct packet *p, const struct fval *f)
{
	const struct field_def *d = &field_defs[f->id];
	switch (d->type) {
	case FT_PROTO:
	case FT_NONE:
		sb_putc(sb, '1');
		break;
	case FT_BOOL:
		sb_putc(sb, f->v.u ? '1' : '0');
		break;
	case FT_UINT:
		if (d->base == BASE_HEX) {
			int digits = f->len ? (int)f->len * 2 : 2;
			if (digits > 16) digits = 16;
			sb_puts(sb, "0x");
			sb_hex(sb, f->v.u, digits);
		} else {
			sb_u64(sb, f->v.u);
		}
		break;
	case FT_INT: sb_i64(sb, f->v.i); break;
	case FT_IPV4: sb_ipv4(sb, f->v.addr); break;
	case FT_IPV6: sb_ipv6(sb, f->v.addr); break;
	case FT_ETHER: sb_mac(sb, f->v.addr); break;
	case FT_BYTES: sb_hexbytes(sb, f->v.b.p, f->v.b.n, 0); break; /* tshark -T fields: no separator */
	case FT_STRING: sb_text(sb, f->v.b.p, f->v.b.n); break;
	case FT_ABSTIME: sb_rfc3339(sb, f->v.t.sec, f->v.t.nsec, p->meta.ts_digits); break;
	case FT_EPOCH: put_time(sb, f->v.t.sec, f->v.t.nsec, false, 9); break;
	case FT_RELTIME: put_time(sb, f->v.t.sec, f->v.t.nsec, f->neg, 9); break;
	case FT_FLOAT: { /* Wireshark's FT_FLOAT: 6 significant digits */
		char buf[32];
		int n = snprintf(buf, sizeof buf, "%.6g", f->v.d);
		if (n > 0) sb_put(sb, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
		break;
	}
	}
}

void out_fields_line(struct sbuf *sb, const struct packet *p, const int *ids, int n, char sep)
{
	for (int i = 0; i < n; i++) {
		if (i) sb_putc(sb, sep);
		if (ids[i] < 0) continue;
		bool first = true;
		for (uint16_t k = 0; k < p->nfields; k++) {
			const struct fval *f = &p->fields[k];
			if (f->id != ids[i]) continue;
			if (!first) sb_putc(sb, ',');
			first = false;
			out_field_text(sb, p, f);
		}
	}
	sb_putc(sb, '\n');
}
