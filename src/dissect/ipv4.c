/* dissect/ipv4.c — IPv4 (RFC 791) with options (RFC 791 §3.1, RFC 2113 router alert) and
 * fragment fields. The payload is cut to the header's total length, so link-layer padding
 * never reaches TCP or UDP. Fragments are reassembled (dissect/defrag.h) and the datagram
 * is decoded in the frame that completes it; ip_reassemble serves IPv6 too. */
#include "dissect/decoders.h"
#include "dissect/defrag.h"

/* Options are type-length-value except EOL (0) and NOP (1), RFC 791 §3.1. A length below 2
 * or past the header ends the walk: the loop always advances. */
static void ipv4_options(struct packet *p, struct cur *opts)
{
	while (cur_left(opts)) {
		uint32_t off = cur_off(opts);
		uint8_t type = cur_u8(opts);
		pk_uint(p, F_IP_OPT_TYPE, type, off, 1);
		if (type == 0) break;
		if (type == 1) continue;
		uint8_t len = cur_u8(opts);
		if (opts->err || len < 2 || len - 2 > (int)cur_left(opts)) {
			pk_broken(p, "ip", "IPv4 option length is bad");
			return;
		}
		pk_uint(p, F_IP_OPT_LEN, len, off + 1, 1);
		struct cur body = cur_sub(opts, (size_t)len - 2);
		switch (type) {
		case 7: case 68: case 131: case 137: /* RR, timestamp, LSRR, SSRR: pointer first */
			pk_u8(p, &body, F_IP_OPT_PTR);
			break;
		case 148:
			if (len == 4) pk_be16(p, &body, F_IP_OPT_RA);
			break;
		}
		if (cur_left(&body)) pk_bytes(p, F_IP_OPT_DATA, body.pos, (uint32_t)cur_left(&body), cur_off(&body));
	}
}

static void ipproto_info(struct packet *p, uint8_t proto)
{
	struct sbuf *sb = pk_col(p, "IPv4");
	if (!sb) return;
	sb_puts(sb, vn_name(vn_ipproto, proto, "Unknown protocol"));
	sb_puts(sb, " (");
	sb_u64(sb, proto);
	sb_putc(sb, ')');
}

static void fragment_info(struct packet *p, uint8_t proto, uint16_t frag, uint16_t id)
{
	struct sbuf *sb = pk_col(p, "IPv4");
	if (!sb) return;
	sb_puts(sb, "Fragmented IP protocol (proto=");
	sb_puts(sb, vn_name(vn_ipproto_short, proto, "Unknown"));
	sb_putc(sb, ' ');
	sb_u64(sb, proto);
	sb_puts(sb, ", off=");
	sb_u64(sb, (uint64_t)frag * 8);
	sb_puts(sb, ", ID=");
	sb_hex(sb, id, 4);
	sb_putc(sb, ')');
	/* tshark's -2 names the frame that completes the datagram */
	uint64_t in = p->links ? frame_links_get(p->links, LINK_IPFRAG, p->meta.number, 4) : 0;
	if (in) {
		sb_puts(sb, " [Reassembled in #");
		sb_u64(sb, in);
		sb_putc(sb, ']');
	}
}

/* ---- reassembly, for both IP versions ---- */

struct frag_fields {
	enum field_id fragments, fragment, error, overlap, conflict, multitail, toolong, count, length, data, in;
};

static const struct frag_fields frag_fields4 = {
	F_IP_FRAGMENTS, F_IP_FRAGMENT, F_IP_FRAGMENT_ERROR, F_IP_FRAGMENT_OVERLAP, F_IP_FRAGMENT_OVERLAP_CONFLICT,
	F_IP_FRAGMENT_MULTIPLETAILS, F_IP_FRAGMENT_TOOLONGFRAGMENT, F_IP_FRAGMENT_COUNT, F_IP_REASSEMBLED_LENGTH,
	F_IP_REASSEMBLED_DATA, F_IP_REASSEMBLED_IN,
};
static const struct frag_fields frag_fields6 = {
	F_IPV6_FRAGMENTS, F_IPV6_FRAGMENT, F_IPV6_FRAGMENT_ERROR, F_IPV6_FRAGMENT_OVERLAP,
	F_IPV6_FRAGMENT_OVERLAP_CONFLICT, F_IPV6_FRAGMENT_MULTIPLETAILS, F_IPV6_FRAGMENT_TOOLONGFRAGMENT,
	F_IPV6_FRAGMENT_COUNT, F_IPV6_REASSEMBLED_LENGTH, F_IPV6_REASSEMBLED_DATA, F_IPV6_REASSEMBLED_IN,
};

/* Wireshark's fragment tree, in the reassembled buffer: one entry per piece (named an
 * error when its bytes conflict, run too long or make a second tail), its marks under it,
 * then the count and the datagram. */
static void fragment_tree(struct packet *p, const struct frag_fields *ff, const struct defrag_done *d)
{
	struct cur all = cur_make(d->data, d->len);
	int tree = pk_tree(p, ff->fragments, &all);
	if (tree >= 0 && field_defs[ff->fragments].type == FT_BYTES) {
		p->fields[tree].v.b.p = d->data;
		p->fields[tree].v.b.n = d->len;
	}
	for (uint32_t i = 0; i < d->npieces; i++) {
		const struct defrag_piece *pc = &d->pieces[i];
		uint32_t off = pc->off < d->len ? pc->off : d->len;
		uint32_t len = pc->len < d->len - off ? pc->len : d->len - off;
		struct cur r = cur_make(d->data + off, len);
		r.base = d->data;
		bool bad = pc->flags & (DEFRAG_CONFLICT | DEFRAG_TOOLONG | DEFRAG_MULTITAIL);
		int slot = pk_tree(p, bad ? ff->error : ff->fragment, &r);
		if (slot >= 0) p->fields[slot].v.u = pc->frame;
		if (pc->flags & DEFRAG_OVERLAP) pk_bool(p, ff->overlap, true, off, len);
		if (pc->flags & DEFRAG_CONFLICT) pk_bool(p, ff->conflict, true, off, len);
		if (pc->flags & DEFRAG_MULTITAIL) pk_bool(p, ff->multitail, true, off, len);
		if (pc->flags & DEFRAG_TOOLONG) pk_bool(p, ff->toolong, true, off, len);
		pk_proto_end(p, slot, &all);
	}
	pk_uint(p, ff->count, d->npieces, 0, 0);
	pk_uint(p, ff->length, d->len, 0, 0);
	pk_bytes(p, ff->data, d->data, d->len, 0);
	cur_skip(&all, d->len);
	pk_proto_end(p, tree, &all);
}

bool ip_reassemble(struct packet *p, const struct defrag_key *k, uint32_t off, bool more, uint8_t proto,
		   const struct cur *payload)
{
	const struct frag_fields *ff = k->family == 6 ? &frag_fields6 : &frag_fields4;
	if (p->nest) return false; /* a quoted packet is a copy: never part of a datagram */
	if (!p->defrag) p->defrag = defrag_new();
	struct defrag_done d;
	enum defrag_status st = defrag_add(p->defrag, k, pk_time_ns(&p->meta), p->meta.number, off, more,
					   payload->pos, (uint32_t)cur_left(payload), &d);
	if (st == DEFRAG_REFUSED) return false;
	p->ip_fragment = true;
	if (st == DEFRAG_HELD) {
		uint64_t in = p->links ? frame_links_get(p->links, LINK_IPFRAG, p->meta.number, k->family) : 0;
		if (in) pk_uint(p, ff->in, in, 0, 0);
		return false;
	}
	struct pk_msg msg = pk_msg_begin(p, d.data, d.len, PB_REASSEMBLED);
	fragment_tree(p, ff, &d);
	struct cur dg = cur_make(d.data, d.len);
	p->ip_end = d.len; /* where the datagram ends, in its own buffer */
	dissect_ipproto(p, proto, &dg);
	pk_msg_end(p, msg, d.len);
	return true;
}

/* Out of the common path's way: most packets are no fragment. */
__attribute__((noinline, cold)) static bool ipv4_reassemble(struct packet *p, uint8_t proto, uint16_t id, uint16_t ff,
							    const uint8_t *src, const uint8_t *dst,
							    const struct cur *payload)
{
	struct defrag_key k = { .family = 4, .proto = proto, .id = id };
	memcpy(k.src, src, 4);
	memcpy(k.dst, dst, 4);
	ipproto_info(p, proto);
	return ip_reassemble(p, &k, (uint32_t)(ff & 0x1fff) * 8, ff & 0x2000, proto, payload);
}

void dissect_ipv4(struct packet *p, struct cur *c)
{
	struct cur start = *c; /* the header's first byte */
	if ((cur_peek_u8(c, 0) >> 4) == 6) { /* as Wireshark: an IPv6 header where IPv4 was announced */
		dissect_ipv6(p, c);
		return;
	}
	int slot = pk_proto(p, F_IP, c);
	pk_col(p, "IPv4");
	uint32_t off = cur_off(c);
	uint8_t vhl = cur_u8(c);
	uint8_t version = vhl >> 4;
	size_t hlen = (size_t)(vhl & 15) * 4;
	if (!c->err) {
		pk_uint(p, F_IP_VERSION, version, off, 1);
		pk_uint(p, F_IP_HDR_LEN, hlen, off, 1);
	}
	/* Like Wireshark, stop before the addresses when the header cannot be an IPv4 header:
	 * a filter on ip.src must not match bytes that are not one. */
	if (c->err || version != 4) {
		pk_broken(p, "ip", c->err ? "IPv4 header cut short" : "Bogus IPv4 version");
		return;
	}
	if (hlen < 20) {
		pk_broken(p, "ip", "Bogus IPv4 header length (less than 20)");
		return;
	}
	uint8_t tos = cur_u8(c);
	uint16_t total = pk_be16(p, c, F_IP_LEN);
	if (!c->err) {
		pk_uint(p, F_IP_DSFIELD, tos, off + 1, 1);
		pk_uint(p, F_IP_DSFIELD_DSCP, tos >> 2, off + 1, 1);
		pk_uint(p, F_IP_DSFIELD_ECN, tos & 3, off + 1, 1);
	}
	if (!c->err && total && total < hlen) {
		pk_broken(p, "ip", "Bogus IPv4 total length (less than header length)");
		return;
	}
	uint16_t id = pk_be16(p, c, F_IP_ID);
	uint16_t ff = cur_be16(c);
	if (!c->err) {
		pk_uint(p, F_IP_FLAGS, ff >> 13, off + 6, 1);
		pk_bool(p, F_IP_FLAGS_RB, ff & 0x8000, off + 6, 1);
		pk_bool(p, F_IP_FLAGS_DF, ff & 0x4000, off + 6, 1);
		pk_bool(p, F_IP_FLAGS_MF, ff & 0x2000, off + 6, 1);
		pk_uint(p, F_IP_FRAG_OFFSET, ff & 0x1fff, off + 6, 2);
	}
	uint8_t ttl = pk_u8(p, c, F_IP_TTL);
	uint8_t proto = pk_u8(p, c, F_IP_PROTO);
	pk_be16(p, c, F_IP_CHECKSUM);
	const uint8_t *src = pk_ipv4(p, c, F_IP_SRC);
	const uint8_t *dst = pk_ipv4(p, c, F_IP_DST);
	if (c->err) {
		pk_broken(p, "ip", "IPv4 header cut short");
		return;
	}
	pk_set_net(p, AT_IPV4, src, dst);
	if (p->nest == 0) p->ip_ttl = ttl;

	/* Total length 0 is what TSO captures show: take the captured length, as Wireshark does. */
	size_t len = total ? total : cur_left(&start);
	if (p->nest == 0) p->ip_end = ip_reported_end(p, &start, len);
	struct cur ip = cur_sub(&start, len); /* err set when the frame holds less than len */
	*c = start;                           /* the caller sees what follows: padding */
	cur_skip(&ip, 20);
	if (hlen > 20) {
		struct cur opts = cur_sub(&ip, hlen - 20);
		ipv4_options(p, &opts);
		if (opts.err && ip.err) {
			pk_broken(p, "ip", "IPv4 options cut short");
			return;
		}
	}
	bool cut = ip.err;
	pk_proto_end(p, slot, &ip);
	ip.err = false;
	if (cut) pk_broken(p, "ip", "IPv4 total length exceeds packet length");

	/* A fragment waits for the rest of its datagram: the frame that completes it decodes
	 * the whole. A first fragment cut short by the snapshot length cannot be reassembled
	 * and is decoded as far as it goes (Wireshark's rule, and ours). */
	bool fragment = (ff & 0x2000) || (ff & 0x1fff);
	if (fragment && !cut && ipv4_reassemble(p, proto, id, ff, src, dst, &ip)) return;
	if (fragment && !((ff & 0x1fff) == 0 && cut && p->short_frame)) {
		fragment_info(p, proto, ff & 0x1fff, id);
		p->info_locked = p->nest == 0;
		pk_data(p, &ip);
		return;
	}
	ipproto_info(p, proto);
	dissect_ipproto(p, proto, &ip);
}
