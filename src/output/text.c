/* output/text.c — one summary line per packet, columns as tshark prints them:
 * No., Time (since the first packet), Source, Destination, Protocol, Length, Info. */
#include "output/output.h"

#include <string.h>

static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

static void put_addr(struct sbuf *sb, const struct addr *a)
{
	switch (a->type) {
	case AT_IPV4: sb_ipv4(sb, a->a); break;
	case AT_IPV6: sb_ipv6(sb, a->a); break;
	case AT_ETHER:
		if (!memcmp(a->a, bcast, 6)) sb_puts(sb, "Broadcast");
		else sb_mac(sb, a->a);
		if (a->role) sb_puts(sb, a->role == ADDR_ROLE_RA ? " (RA)" : " (TA)");
		break;
	default: break;
	}
}

/* Writes s right- or left-aligned in a column of `width`. */
static void pad_to(struct sbuf *sb, size_t start, size_t width, bool right)
{
	size_t n = sb->len - start;
	if (n >= width) return;
	size_t pad = width - n;
	if (sb_room(sb, pad) < pad) return;
	if (right) {
		memmove(sb->buf + start + pad, sb->buf + start, n);
		memset(sb->buf + start, ' ', pad);
	} else {
		memset(sb->buf + sb->len, ' ', pad);
	}
	sb->len += pad;
}

static void column(struct sbuf *sb, size_t width, bool right, void (*put)(struct sbuf *, const void *), const void *arg)
{
	/* Make sure the column is in one piece of the buffer before aligning it. */
	sb_room(sb, 128);
	size_t start = sb->len;
	put(sb, arg);
	pad_to(sb, start, width, right);
}

static void put_addr_v(struct sbuf *sb, const void *a) { put_addr(sb, a); }
static void put_str_v(struct sbuf *sb, const void *s) { sb_puts(sb, s); }
static void put_u64_v(struct sbuf *sb, const void *v) { sb_u64(sb, *(const uint64_t *)v); }

static void put_reltime(struct sbuf *sb, const void *arg)
{
	const struct packet *p = arg;
	if (p->meta.no_time) return; /* blank, as tshark leaves it */
	int digits = p->meta.ts_digits == 9 ? 9 : 6;
	uint64_t frac = digits == 9 ? p->rel_nsec : p->rel_nsec / 1000;
	uint64_t div = digits == 9 ? 1000000000ull : 1000000ull;
	if (p->rel_neg) sb_putc(sb, '-');
	sb_fixed(sb, (uint64_t)p->rel_sec * div + frac, digits);
}

void out_text_line(struct sbuf *sb, const struct packet *p)
{
	const struct addr *src = p->net_src.type ? &p->net_src : &p->dl_src;
	const struct addr *dst = p->net_src.type ? &p->net_dst : &p->dl_dst;
	uint64_t num = p->meta.number, len = p->meta.wirelen;
	column(sb, 5, true, put_u64_v, &num);
	sb_putc(sb, ' ');
	column(sb, p->meta.ts_digits == 9 ? 14 : 11, true, put_reltime, p);
	sb_putc(sb, ' ');
	column(sb, 15, true, put_addr_v, src);
	sb_puts(sb, " \xe2\x86\x92 ");
	column(sb, 15, false, put_addr_v, dst);
	sb_putc(sb, ' ');
	column(sb, 6, false, put_str_v, p->proto_col ? p->proto_col : "N/A");
	sb_putc(sb, ' ');
	column(sb, 5, true, put_u64_v, &len);
	sb_putc(sb, ' ');
	/* Info is our own bounded text; printable already except addresses and names. */
	pk_info_write(sb, p);
	if (p->short_frame) sb_puts(sb, " [Packet size limited during capture]");
	else if (p->malformed) sb_puts(sb, " [Malformed Packet]");
	sb_putc(sb, '\n');
}
