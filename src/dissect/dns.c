/* dissect/dns.c — DNS (RFC 1035 and successors) over UDP, TCP (two-byte length framing over
 * the reassembled stream, RFC 7766), mDNS (RFC 6762) and LLMNR (RFC 4795): header and
 * flags, all four sections, the common record types, EDNS0 options with client subnet
 * (RFC 7871), SVCB/HTTPS (RFC 9460), DNSSEC summaries, and query/response matching within
 * the flow by transaction ID. Names are decompressed with a pointer-hop cap. */
#include "dissect/app_internal.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define DNS_MAX_HOPS 64        /* compression pointers followed in one name */
#define DNS_MAX_NAME 1024      /* presentation length of a name we build (255 octets escaped) */
#define DNS_MAX_RRS 512        /* records decoded per message */
#define DNS_RETRANSMIT_NS 5000000000ll /* tshark's dns.retransmission_timer: 5 s */

/* Reads the (possibly compressed) name at c into out in presentation form as tshark
 * shows it: labels joined by '.', "<Root>" for the root, bytes outside printable ASCII
 * and UTF-8 as \\ooo, "<Name too long>" past 255 characters or DNS_MAX_HOPS pointers,
 * "<Unknown extended label>" for RFC 6891 label types. Returns its length and its label
 * count in *labels; the cursor ends after the name as stored. */
static size_t read_name(struct cur *c, const uint8_t *msg, size_t msglen, char *out, unsigned *labels, bool *bad)
{
	size_t o = 0;
	unsigned hops = 0, nl = 0;
	size_t pos = (size_t)(c->pos - msg);
	bool jumped = false, too_long = false, extended = false, loops = false;
	size_t seen[DNS_MAX_HOPS];
	size_t end_pos = pos;
	*bad = false;
	for (;;) {
		if (pos >= msglen) {
			*bad = true;
			break;
		}
		uint8_t len = msg[pos];
		if (len == 0) {
			pos++;
			break;
		}
		if ((len & 0xc0) == 0xc0) {
			if (pos + 1 >= msglen) {
				*bad = true;
				pos += 2;
				break;
			}
			size_t target = (size_t)(len & 0x3f) << 8 | msg[pos + 1];
			for (unsigned k = 0; k < hops && !loops; k++) loops = seen[k] == target;
			if (loops || hops == DNS_MAX_HOPS) {
				too_long = !loops;
				if (!jumped) end_pos = pos + 2;
				jumped = true;
				break;
			}
			seen[hops++] = target;
			if (!jumped) end_pos = pos + 2;
			jumped = true;
			pos = target;
			continue;
		}
		if (len & 0xc0) {
			extended = true;
			pos++;
			break;
		}
		if (pos + 1 + len > msglen) {
			*bad = true;
			pos = msglen;
			break;
		}
		if (nl++ && o < DNS_MAX_NAME - 1) out[o++] = '.';
		for (uint8_t i = 0; i < len && o < DNS_MAX_NAME - 5; i++) {
			uint8_t ch = msg[pos + 1 + i];
			if ((ch >= 0x20 && ch < 0x7f) || ch >= 0x80) {
				out[o++] = (char)ch;
			} else {
				out[o++] = '\\';
				out[o++] = (char)('0' + (ch >> 6));
				out[o++] = (char)('0' + ((ch >> 3) & 7));
				out[o++] = (char)('0' + (ch & 7));
			}
		}
		if (o > 255) too_long = true;
		pos += 1 + (size_t)len;
		if (too_long) break;
	}
	if (!jumped) end_pos = pos;
	if ((too_long || loops) && !jumped) { /* find the stored end: labels until 0 or a pointer */
		size_t q = (size_t)(c->pos - msg);
		while (q < msglen && msg[q] && (msg[q] & 0xc0) != 0xc0) q += 1 + (size_t)msg[q];
		end_pos = q < msglen && (msg[q] & 0xc0) == 0xc0 ? q + 2 : q + 1;
	}
	size_t cur_pos = (size_t)(c->pos - msg);
	if (end_pos > msglen) end_pos = msglen;
	if (end_pos > cur_pos) cur_skip(c, end_pos - cur_pos);
	else if (end_pos < cur_pos) c->err = true;
	*labels = nl;
	const char *special = extended ? "<Unknown extended label>" : loops ? "<Name contains a pointer that loops>"
			      : too_long ? "<Name too long>" : nl == 0 ? "<Root>" : NULL;
	if (special) {
		o = strlen(special);
		memcpy(out, special, o);
	}
	out[o] = '\0';
	return o;
}

static void put_name(struct packet *p, enum field_id id, const char *name, size_t n, uint32_t off, uint32_t len)
{
	pk_string(p, id, name, n, off, len);
}

struct dns_ctx {
	struct packet *p;
	const uint8_t *msg;
	size_t msglen;
	struct sbuf *info;
};

static void rdata(struct dns_ctx *x, struct cur *r, uint16_t type)
{
	struct packet *p = x->p;
	char name[DNS_MAX_NAME];
	unsigned labels;
	bool bad;
	struct sbuf *sb = x->info;
	uint32_t off = cur_off(r);
	switch (type) {
	case DNS_A:
		if (cur_left(r) == 4) {
			const uint8_t *a = pk_ipv4(p, r, F_DNS_A);
			if (sb && a) { sb_puts(sb, " A "); sb_ipv4(sb, a); }
			return;
		}
		break;
	case DNS_AAAA:
		if (cur_left(r) == 16) {
			const uint8_t *a = pk_ipv6(p, r, F_DNS_AAAA);
			if (sb && a) { sb_puts(sb, " AAAA "); sb_ipv6(sb, a); }
			return;
		}
		break;
	case DNS_NS: case DNS_CNAME: case DNS_PTR: {
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		enum field_id id = type == DNS_NS ? F_DNS_NS : type == DNS_CNAME ? F_DNS_CNAME : F_DNS_PTR_DOMAIN_NAME;
		put_name(p, id, name, n, off, cur_off(r) - off);
		if (sb) { sb_puts(sb, type == DNS_NS ? " NS " : type == DNS_CNAME ? " CNAME " : " PTR "); sb_puts(sb, name); }
		return;
	}
	case DNS_MX: {
		uint16_t pref = pk_be16(p, r, F_DNS_MX_PREFERENCE);
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_MX_MAIL_EXCHANGE, name, n, off + 2, cur_off(r) - off - 2);
		if (sb) sb_printf(sb, " MX %u %s", pref, name);
		return;
	}
	case DNS_TXT:
		if (sb) sb_puts(sb, " TXT");
		while (cur_left(r)) {
			uint8_t l = pk_u8(p, r, F_DNS_TXT_LENGTH);
			uint32_t o = cur_off(r);
			const uint8_t *t = cur_bytes(r, l);
			if (!t) break;
			pk_string(p, F_DNS_TXT, (const char *)t, l, o, l);
		}
		return;
	case DNS_SOA: {
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_SOA_MNAME, name, n, off, cur_off(r) - off);
		if (sb) { sb_puts(sb, " SOA "); sb_puts(sb, name); }
		uint32_t o2 = cur_off(r);
		n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_SOA_RNAME, name, n, o2, cur_off(r) - o2);
		pk_be32(p, r, F_DNS_SOA_SERIAL_NUMBER);
		pk_be32(p, r, F_DNS_SOA_REFRESH_INTERVAL);
		pk_be32(p, r, F_DNS_SOA_RETRY_INTERVAL);
		pk_be32(p, r, F_DNS_SOA_EXPIRE_LIMIT);
		pk_be32(p, r, F_DNS_SOA_MINIMUM_TTL);
		return;
	}
	case DNS_SRV: {
		uint16_t pr = pk_be16(p, r, F_DNS_SRV_PRIORITY);
		uint16_t w = pk_be16(p, r, F_DNS_SRV_WEIGHT);
		uint16_t port = pk_be16(p, r, F_DNS_SRV_PORT);
		uint32_t o2 = cur_off(r);
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_SRV_TARGET, name, n, o2, cur_off(r) - o2);
		if (sb) sb_printf(sb, " SRV %u %u %u %s", pr, w, port, name);
		return;
	}
	case DNS_CAA: {
		pk_u8(p, r, F_DNS_CAA_FLAGS);
		uint8_t tl = cur_u8(r);
		uint32_t o = cur_off(r);
		const uint8_t *tag = cur_bytes(r, tl);
		if (tag) pk_string(p, F_DNS_CAA_TAG, (const char *)tag, tl, o, tl);
		size_t vl = cur_left(r);
		o = cur_off(r);
		const uint8_t *v = cur_bytes(r, vl);
		if (v) pk_string(p, F_DNS_CAA_VALUE, (const char *)v, vl, o, (uint32_t)vl);
		if (sb) sb_puts(sb, " CAA");
		return;
	}
	case DNS_SVCB: case DNS_HTTPS: {
		pk_be16(p, r, F_DNS_SVCB_SVCPRIORITY);
		uint32_t o2 = cur_off(r);
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_SVCB_TARGETNAME, name, n, o2, cur_off(r) - o2);
		while (cur_left(r) >= 4) {
			uint16_t key = pk_be16(p, r, F_DNS_SVCB_SVCPARAM_KEY);
			uint16_t vl = pk_be16(p, r, F_DNS_SVCB_SVCPARAM_VALUE_LENGTH);
			struct cur v = cur_sub(r, vl);
			if (v.err) break;
			if (key == DNS_SVC_ALPN) {
				while (cur_left(&v)) {
					uint8_t l = cur_u8(&v);
					uint32_t o = cur_off(&v);
					const uint8_t *s = cur_bytes(&v, l);
					if (!s) break;
					pk_string(p, F_DNS_SVCB_SVCPARAM_ALPN_IDENTIFIER, (const char *)s, l, o, l);
				}
			} else if (key == DNS_SVC_PORT && vl == 2) {
				pk_be16(p, &v, F_DNS_SVCB_SVCPARAM_PORT);
			} else if (key == DNS_SVC_IPV4HINT) {
				while (cur_left(&v) >= 4) pk_ipv4(p, &v, F_DNS_SVCB_SVCPARAM_IPV4HINT_IP);
			} else if (key == DNS_SVC_IPV6HINT) {
				while (cur_left(&v) >= 16) pk_ipv6(p, &v, F_DNS_SVCB_SVCPARAM_IPV6HINT_IP);
			}
		}
		if (sb) sb_puts(sb, type == DNS_SVCB ? " SVCB" : " HTTPS");
		return;
	}
	case DNS_DS: case DNS_CDS:
		pk_be16(p, r, F_DNS_DS_KEY_ID);
		pk_u8(p, r, F_DNS_DS_ALGORITHM);
		pk_u8(p, r, F_DNS_DS_DIGEST_TYPE);
		if (cur_left(r)) pk_bytes(p, F_DNS_DS_DIGEST, r->pos, (uint32_t)cur_left(r), cur_off(r));
		if (sb) sb_puts(sb, " DS");
		return;
	case DNS_DNSKEY: case DNS_CDNSKEY: {
		/* key tag: RFC 4034 Appendix B over the whole RDATA */
		uint32_t ac = 0;
		size_t n = cur_left(r);
		for (size_t i = 0; i < n; i++) ac += (i & 1) ? r->pos[i] : (uint32_t)r->pos[i] << 8;
		ac += (ac >> 16) & 0xffff;
		pk_be16(p, r, F_DNS_DNSKEY_FLAGS);
		pk_u8(p, r, F_DNS_DNSKEY_PROTOCOL);
		pk_u8(p, r, F_DNS_DNSKEY_ALGORITHM);
		pk_uint(p, F_DNS_DNSKEY_KEY_ID, ac & 0xffff, off, (uint32_t)n);
		if (sb) sb_puts(sb, " DNSKEY");
		return;
	}
	case DNS_NSEC: case DNS_NSEC3: { /* NSEC, NSEC3: the types in the bitmap, as dns.resp.type (as tshark);
			    * a cut bitmap makes the message malformed (r's error reaches the caller) */
		if (type == DNS_NSEC) {
			size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
			(void)n;
		} else {
			cur_skip(r, 4);
			cur_skip(r, cur_u8(r)); /* salt */
			cur_skip(r, cur_u8(r)); /* next hashed owner */
		}
		while (cur_left(r) >= 2 && !r->err) {
			uint8_t window = cur_u8(r), blen = cur_u8(r);
			if (blen > 32) break;
			size_t have = cur_left(r) < blen ? cur_left(r) : blen; /* a cut bitmap shows what it has */
			const uint8_t *bits = cur_bytes(r, have);
			for (unsigned i = 0; bits && i < (unsigned)have * 8; i++)
				if (bits[i >> 3] & (0x80 >> (i & 7))) pk_uint(p, F_DNS_RESP_TYPE, (uint32_t)window << 8 | i, off, 0);
			if (have < blen) {
				r->err = true;
				break;
			}
		}
		if (sb) sb_puts(sb, type == DNS_NSEC ? " NSEC" : " NSEC3");
		return;
	}
	case DNS_RRSIG: {
		uint16_t covered = pk_be16(p, r, F_DNS_RRSIG_TYPE_COVERED);
		pk_u8(p, r, F_DNS_RRSIG_ALGORITHM);
		pk_u8(p, r, F_DNS_RRSIG_LABELS);
		pk_be32(p, r, F_DNS_RRSIG_ORIGINAL_TTL);
		pk_be32(p, r, F_DNS_RRSIG_SIGNATURE_EXPIRATION);
		pk_be32(p, r, F_DNS_RRSIG_SIGNATURE_INCEPTION);
		pk_be16(p, r, F_DNS_RRSIG_KEY_TAG);
		uint32_t o2 = cur_off(r);
		size_t n = read_name(r, x->msg, x->msglen, name, &labels, &bad);
		put_name(p, F_DNS_RRSIG_SIGNERS_NAME, name, n, o2, cur_off(r) - o2);
		if (sb) sb_printf(sb, " RRSIG %s", vn_name(vn_dns_type, covered, "Unknown"));
		return;
	}
	default:
		break;
	}
	if (cur_left(r)) pk_bytes(p, F_DNS_DATA, r->pos, (uint32_t)cur_left(r), cur_off(r));
	if (sb) {
		const char *tn = vn_lookup(vn_dns_type, type);
		if (tn) sb_printf(sb, " %s", tn);
		else sb_printf(sb, " Unknown (%u)", type);
	}
}

/* EDNS0 options; false when one overruns the record or a client subnet is malformed (as
 * tshark, which stops decoding the message there). */
static bool edns_options(struct packet *p, struct cur *r)
{
	while (cur_left(r)) {
		int slot = pk_tree(p, F_DNS_OPT, r);
		uint16_t code = pk_be16(p, r, F_DNS_OPT_CODE);
		uint16_t len = pk_be16(p, r, F_DNS_OPT_LEN);
		struct cur o = cur_sub(r, len);
		if (r->err || o.err) return false;
		if (code == 8 && len >= 4) {
			uint16_t fam = pk_be16(p, &o, F_DNS_OPT_CLIENT_FAMILY);
			pk_u8(p, &o, F_DNS_OPT_CLIENT_NETMASK);
			pk_u8(p, &o, F_DNS_OPT_CLIENT_SCOPE);
			uint8_t a[16] = { 0 };
			size_t n = cur_left(&o), max = fam == 1 ? 4 : fam == 2 ? 16 : 0;
			if (!max || n > max) return false;
			uint32_t off = cur_off(&o);
			cur_copy(&o, a, n);
			pk_addr(p, fam == 1 ? F_DNS_OPT_CLIENT_ADDR4 : F_DNS_OPT_CLIENT_ADDR6, a, off);
		} else if (len) {
			pk_bytes(p, F_DNS_OPT_DATA, o.pos, len, cur_off(&o));
		}
		cur_skip(&o, cur_left(&o));
		pk_proto_end(p, slot, &o);
	}
	return true;
}

/* One resource record; false when the message ends inside it. */
static bool resource_record(struct dns_ctx *x, struct cur *c, bool mdns, bool show)
{
	struct packet *p = x->p;
	char name[DNS_MAX_NAME];
	unsigned labels;
	bool bad;
	uint32_t off = cur_off(c);
	size_t nl = read_name(c, x->msg, x->msglen, name, &labels, &bad);
	uint32_t noff = off, nlen = cur_off(c) - off;
	uint16_t type = cur_be16(c);
	uint16_t cls = cur_be16(c);
	uint32_t ttl = cur_be32(c);
	uint16_t rdlen = cur_be16(c);
	if (bad) c->err = true; /* a name running off the message */
	if (c->err) return false;
	if (rdlen > cur_left(c)) { /* tshark shows nothing of a record whose data overruns */
		c->err = true;
		return false;
	}
	put_name(p, F_DNS_RESP_NAME, name, nl, noff, nlen);
	pk_open(p, pk_last(p, F_DNS_RESP_NAME)); /* the record's values under its name */
	pk_uint(p, F_DNS_RESP_TYPE, type, noff + nlen, 2);
	struct sbuf *sb = show ? x->info : NULL;
	if (type == DNS_OPT) {
		pk_uint(p, F_DNS_RR_UDP_PAYLOAD_SIZE, cls, noff + nlen + 2, 2);
		pk_uint(p, F_DNS_RESP_EXT_RCODE, ttl >> 24, noff + nlen + 4, 1);
		pk_uint(p, F_DNS_RESP_EDNS0_VERSION, (ttl >> 16) & 0xff, noff + nlen + 5, 1);
		pk_bool(p, F_DNS_RESP_Z_DO, ttl & 0x8000, noff + nlen + 6, 2);
		pk_uint(p, F_DNS_RESP_LEN, rdlen, noff + nlen + 8, 2);
		struct cur r = cur_sub(c, rdlen);
		if (r.err) return false;
		if (sb) sb_puts(sb, " OPT");
		if (!edns_options(p, &r)) {
			c->err = true;
			return false;
		}
		return true;
	}
	if (mdns) {
		pk_uint(p, F_DNS_RESP_CLASS, cls & 0x7fff, noff + nlen + 2, 2);
		pk_bool(p, F_DNS_RESP_CACHE_FLUSH, cls & 0x8000, noff + nlen + 2, 2);
	} else {
		pk_uint(p, F_DNS_RESP_CLASS, cls, noff + nlen + 2, 2);
	}
	pk_uint(p, F_DNS_RESP_TTL, ttl, noff + nlen + 4, 4);
	pk_uint(p, F_DNS_RESP_LEN, rdlen, noff + nlen + 8, 2);
	struct cur r = cur_sub(c, rdlen);
	if (r.err) return false;
	x->info = sb;
	if (rdlen) { /* empty RDATA (UPDATE deletions, RFC 2136 §2.5) has no value */
		rdata(x, &r, type);
		if (r.err && (type == DNS_NSEC || type == DNS_NSEC3)) {
			c->err = true;
			return false;
		}
	}
	else if (sb) sb_printf(sb, " %s", vn_name(vn_dns_type, type, "Unknown"));
	return true;
}

static void dns_message_in(struct packet *p, struct cur *c, struct sbuf *sb, uint32_t scope, enum field_id proto,
			   int layer);

void dns_message(struct packet *p, struct cur *c, struct sbuf *sb, uint32_t scope, enum field_id proto)
{
	dns_message_in(p, c, sb, scope, proto, -1);
}

static void dns_message_in(struct packet *p, struct cur *c, struct sbuf *sb, uint32_t scope, enum field_id proto,
			   int layer)
{
	const uint8_t *msg = c->pos;
	size_t msglen = cur_left(c);
	int slot = layer >= 0 ? layer : app_proto(p, proto, c);
	uint16_t id = pk_be16(p, c, F_DNS_ID);
	uint32_t foff = cur_off(c);
	uint16_t flags = pk_be16(p, c, F_DNS_FLAGS);
	bool response = flags & 0x8000;
	if (!response && p->links && !p->nest) { /* known from a first pass (-2) */
		uint64_t answer = frame_links_get(p->links, LINK_DNS, p->meta.number, id);
		if (answer) pk_uint(p, F_DNS_RESPONSE_IN, answer, 0, 0);
	}
	uint8_t opcode = (flags >> 11) & 15;
	uint8_t rcode = flags & 15;
	pk_bool(p, F_DNS_FLAGS_RESPONSE, response, foff, 2);
	pk_uint(p, F_DNS_FLAGS_OPCODE, opcode, foff, 2);
	if (response) pk_bool(p, F_DNS_FLAGS_AUTHORITATIVE, flags & 0x0400, foff, 2);
	pk_bool(p, F_DNS_FLAGS_TRUNCATED, flags & 0x0200, foff, 2);
	pk_bool(p, F_DNS_FLAGS_RECDESIRED, flags & 0x0100, foff, 2);
	if (response) pk_bool(p, F_DNS_FLAGS_RECAVAIL, flags & 0x0080, foff, 2);
	pk_bool(p, F_DNS_FLAGS_Z, flags & 0x0040, foff, 2);
	if (response) pk_bool(p, F_DNS_FLAGS_AUTHENTICATED, flags & 0x0020, foff, 2);
	pk_bool(p, F_DNS_FLAGS_CHECKDISABLE, flags & 0x0010, foff, 2);
	if (response) pk_uint(p, F_DNS_FLAGS_RCODE, rcode, foff, 2);
	bool update = opcode == 5; /* RFC 2136 names the sections zone, prerequisite, update */
	uint16_t qd = pk_be16(p, c, update ? F_DNS_COUNT_ZONES : F_DNS_COUNT_QUERIES);
	uint16_t an = pk_be16(p, c, update ? F_DNS_COUNT_PREREQUISITES : F_DNS_COUNT_ANSWERS);
	uint16_t ns = pk_be16(p, c, update ? F_DNS_COUNT_UPDATES : F_DNS_COUNT_AUTH_RR);
	uint16_t ar = pk_be16(p, c, F_DNS_COUNT_ADD_RR);
	if (c->err) {
		pk_broken(p, "dns", "DNS header cut short");
		return;
	}
	bool mdns = p->proto_col && strcmp(p->proto_col, "MDNS") == 0;
	struct dns_ctx x = { p, msg, msglen, NULL };
	if (sb) {
		sb_printf(sb, "%s%s 0x%04x", opcode == 0 ? "Standard query" : vn_name(vn_dns_opcode, opcode, "Unknown operation"),
			  response ? " response" : "", id);
		if (response && rcode) sb_printf(sb, " %s", vn_name(vn_dns_rcode, rcode, "Unknown error"));
	}
	/* questions */
	for (unsigned i = 0; i < qd && i < DNS_MAX_RRS; i++) {
		char name[DNS_MAX_NAME];
		unsigned labels;
		bool bad;
		uint32_t off = cur_off(c);
		size_t nl = read_name(c, msg, msglen, name, &labels, &bad);
		uint16_t type = cur_be16(c), cls = cur_be16(c);
		if (bad) c->err = true;
		if (c->err) break;
		uint32_t nlen = cur_off(c) - off - 4;
		struct pk_scope s = pk_scope_save(p);
		pk_string(p, F_DNS_QRY_NAME, name, nl, off, nlen);
		pk_open(p, pk_last(p, F_DNS_QRY_NAME)); /* the question's values under its name */
		pk_uint(p, F_DNS_QRY_NAME_LEN, strcmp(name, "<Root>") == 0 ? 6 : nl, off, nlen);
		pk_uint(p, F_DNS_COUNT_LABELS, labels, off, nlen);
		pk_uint(p, F_DNS_QRY_TYPE, type, off + nlen, 2);
		if (mdns) {
			pk_uint(p, F_DNS_QRY_CLASS, cls & 0x7fff, off + nlen + 2, 2);
			pk_bool(p, F_DNS_QRY_QU, cls & 0x8000, off + nlen + 2, 2);
		} else {
			pk_uint(p, F_DNS_QRY_CLASS, cls, off + nlen + 2, 2);
		}
		pk_scope_restore(p, s);
		if (sb) {
			const char *tn = vn_lookup(vn_dns_type, type);
			if (tn) sb_printf(sb, " %s %s", tn, name);
			else sb_printf(sb, " Unknown (%u) %s", type, name);
		}
	}
	unsigned total = (unsigned)an + ns + ar;
	for (unsigned i = 0; i < total && i < DNS_MAX_RRS && !c->err; i++) {
		x.info = sb;
		struct pk_scope s = pk_scope_save(p);
		bool ok = resource_record(&x, c, mdns, true);
		pk_scope_restore(p, s);
		if (!ok) break;
	}
	if (c->err) pk_broken(p, "dns", "DNS message cut short");
	/* matching, within the flow */
	struct app_flow *a = app_flow_get(p);
	if (a) {
		if (!a->dns) a->dns = xcalloc(1, sizeof *a->dns);
		struct dns_state *d = a->dns;
		int64_t now = pk_time_ns(&p->meta);
		/* tshark's transactions: a query repeating the ID of an unanswered one within
		 * DNS_RETRANSMIT_NS is a retransmission of it; an answer belongs to the latest
		 * transaction with its ID, and only the first answer names its query */
		struct dns_pending *t = NULL;
		uint32_t key = (uint32_t)id | scope << 16;
		for (uint32_t i = d->n; i-- > 0;) {
			if (d->q[i].key == key && d->q[i].frame < p->meta.number) {
				t = &d->q[i];
				break;
			}
		}
		if (!response) {
			if (!t || t->answered || now - t->ns >= DNS_RETRANSMIT_NS) {
				if (d->n == DNS_MAX_PENDING) { /* forget the oldest */
					memmove(d->q, d->q + 1, (d->n - 1) * sizeof *d->q);
					d->n--;
				}
				if (d->n == d->cap) {
					d->cap = d->cap ? d->cap * 2 : 1; /* most flows carry one query */
					d->q = xrealloc(d->q, d->cap * sizeof *d->q);
				}
				d->q[d->n++] = (struct dns_pending){ key, p->meta.number, 0, now };
			}
		} else if (t && !t->answered) {
			t->answered = p->meta.number;
		}
		/* tshark links a broken answer to its query (response_in) but shows response_to
		 * only on an answer it read whole */
		if (response && t && t->answered == p->meta.number && (!c->err || p->links_pass)) {
			pk_uint(p, F_DNS_RESPONSE_TO, t->frame, 0, 0);
			pk_reltime(p, F_DNS_TIME, now - t->ns);
		}
		/* Every query answered: nothing to remember (a late duplicate answer gets no
		 * response_to, as in tshark, and a new query starts a new transaction either
		 * way), so a flow of one lookup keeps no state. */
		bool open = false;
		for (uint32_t i = 0; i < d->n && !open; i++) open = !d->q[i].answered;
		if (!open) {
			free(d->q);
			free(d);
			a->dns = NULL;
			if (app_flow_is_empty(a)) {
				app_flow_free(a);
				*p->app = NULL;
			}
		}
	}
	pk_proto_end(p, slot, c);
}

void dissect_dns(struct packet *p, struct cur *c)
{
	/* the UDP port decides the flavour; the Protocol column says which */
	const char *col = "DNS";
	enum field_id proto = F_DNS;
	uint16_t s = p->udp_sport, d = p->udp_dport;
	if (s == 5353 || d == 5353) {
		col = "MDNS";
		proto = F_MDNS;
	} else if (s == 5355 || d == 5355) {
		col = "LLMNR";
		proto = F_LLMNR;
	}
	struct sbuf *sb = pk_col(p, col);
	if (!p->nest) p->proto_col = col; /* mDNS decoding looks at it even without Info */
	dns_message(p, c, sb, 0, proto);
}

long dns_tcp_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	(void)a;
	(void)dir;
	struct cur h = cur_make(b, n);
	size_t len = cur_be16(&h); /* RFC 1035 §4.2.2: a two-byte length before each message */
	if (h.err) {
		*need = 2;
		return 0;
	}
	if (n < 2 + len) {
		*need = 2 + len;
		return 0;
	}
	if (len < 12) return (long)(2 + len);
	/* field values point into the message: one in the frame lives as long as the packet,
	 * one collected from several segments is copied to the arena first */
	const uint8_t *m = b;
	if (!pk_in_frame(p, b, 2 + len)) {
		if (p->arena_used + 2 + len > PKT_ARENA_SIZE) return (long)(2 + len);
		uint8_t *copy = p->arena + p->arena_used;
		memcpy(copy, b, 2 + len);
		p->arena_used += (uint32_t)(2 + len);
		m = copy;
	}
	struct pk_msg msg = pk_msg_begin(p, m, 2 + len, PB_REASSEMBLED);
	struct cur c = cur_make(m, 2 + len);
	struct sbuf *sb = app_info(p, "DNS");
	int slot = app_proto(p, F_DNS, &c); /* the layer begins with the length, as tshark's */
	pk_be16(p, &c, F_DNS_LENGTH);
	dns_message_in(p, &c, sb, 0, F_DNS, slot);
	pk_msg_end(p, msg, 2 + len);
	return (long)(2 + len);
}
