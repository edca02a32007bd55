/* dissect/quic.c — QUIC (RFC 9000) long headers for v1, v2 (RFC 9369) and the late drafts,
 * version negotiation and Retry, short headers on flows already known to be QUIC, and
 * Initial packet decryption (RFC 9001 §5: keys from the client's Destination Connection
 * ID, header protection removed, AES-128-GCM through libcrypto). CRYPTO frames are
 * reassembled across Initial packets into the hellos, which dissect/tls.c decodes (SNI,
 * ALPN, JA4 with the `q` prefix). Long headers are validated strictly (known version,
 * connection ID lengths, lengths that fit the datagram) so that other UDP is not QUIC. */
#include "dissect/app_internal.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define QUIC_MAX_CID 20
#define QUIC_MAX_PACKETS 8      /* coalesced packets decoded per datagram */
#define QUIC_MAX_FRAMES 256     /* frames decoded per packet */

void quic_state_free(struct quic_state *q)
{
	if (!q) return;
	for (int d = 0; d < 2; d++) {
		free(q->crypto[d]);
		free(q->crypto_seen[d]);
	}
	free(q);
}

enum quic_family { QF_NONE, QF_V1, QF_V2, QF_D29, QF_D23, QF_T50, QF_T51 };

static enum quic_family family(uint32_t v)
{
	if (v == 1) return QF_V1;
	if (v == 0x6b3343cf) return QF_V2;
	if (v >= 0xff00001d && v <= 0xff000020) return QF_D29;
	if (v == 0xff000021 || v == 0xff000022) return QF_V1; /* drafts 33 and 34 took v1's salt */
	if (v >= 0xff000017 && v <= 0xff00001c) return QF_D23;
	if (v == 0xfaceb002) return QF_D23; /* mvfst's draft-27 */
	if (v == 0x54303530) return QF_T50; /* Google QUIC over TLS, "T050" */
	if (v == 0x54303531) return QF_T51; /* "T051" */
	/* A reserved version (RFC 9000 §15) forces negotiation; the interop runner's clients
	 * protect such Initials with draft-29's salt (the corpus's quic_interop_V capture
	 * decrypts only with it), which is what tshark tries for them too. */
	if ((v & 0x0f0f0f0f) == 0x0a0a0a0a) return QF_D29;
	return QF_NONE;
}

/* The long packet type in v1 numbering (v2 renumbers them, RFC 9369 §3.2). */
static uint8_t long_type(uint8_t first, uint32_t version)
{
	uint8_t t = (first >> 4) & 3;
	if (family(version) == QF_V2) t = (uint8_t)((t + 3) & 3); /* 1→0 Initial, 2→1 0-RTT, 3→2 Handshake, 0→3 Retry */
	return t;
}

static bool varint(struct cur *c, uint64_t *v)
{
	if (!cur_has(c, 1)) return false;
	uint8_t b = cur_u8(c);
	int n = 1 << (b >> 6);
	uint64_t x = b & 0x3f;
	for (int i = 1; i < n; i++) x = x << 8 | cur_u8(c);
	*v = x;
	return !c->err;
}

/* ---- Initial secrets (RFC 9001 §5.2, RFC 9369 §3.3) ---- */

static void hkdf_expand_label(const uint8_t *secret, size_t slen, const char *label, uint8_t *out, size_t olen)
{
	uint8_t info[64];
	size_t ll = strlen(label);
	size_t k = 0;
	info[k++] = (uint8_t)(olen >> 8);
	info[k++] = (uint8_t)olen;
	info[k++] = (uint8_t)(6 + ll);
	memcpy(info + k, "tls13 ", 6);
	k += 6;
	memcpy(info + k, label, ll);
	k += ll;
	info[k++] = 0;
	info[k++] = 1; /* HKDF-Expand's counter: one block covers every output here */
	uint8_t t[EVP_MAX_MD_SIZE];
	unsigned int tl = 0;
	HMAC(EVP_sha256(), secret, (int)slen, info, k, t, &tl);
	memcpy(out, t, olen);
}

static bool derive_keys(struct quic_state *q, uint32_t version, const uint8_t *dcid, size_t dlen)
{
	static const uint8_t salt_v1[20] = { 0x38, 0x76, 0x2c, 0xf7, 0xf5, 0x59, 0x34, 0xb3, 0x4d, 0x17,
					     0x9a, 0xe6, 0xa4, 0xc8, 0x0c, 0xad, 0xcc, 0xbb, 0x7f, 0x0a };
	static const uint8_t salt_v2[20] = { 0x0d, 0xed, 0xe3, 0xde, 0xf7, 0x00, 0xa6, 0xdb, 0x81, 0x93,
					     0x81, 0xbe, 0x6e, 0x26, 0x9d, 0xcb, 0xf9, 0xbd, 0x2e, 0xd9 };
	static const uint8_t salt_d29[20] = { 0xaf, 0xbf, 0xec, 0x28, 0x99, 0x93, 0xd2, 0x4c, 0x9e, 0x97,
					      0x86, 0xf1, 0x9c, 0x61, 0x11, 0xe0, 0x43, 0x90, 0xa8, 0x99 };
	static const uint8_t salt_d23[20] = { 0xc3, 0xee, 0xf7, 0x12, 0xc7, 0x2e, 0xbb, 0x5a, 0x11, 0xa7,
					      0xd2, 0x43, 0x2b, 0xb4, 0x63, 0x65, 0xbe, 0xf9, 0xf5, 0x02 };
	static const uint8_t salt_t50[20] = { 0x7f, 0xf5, 0x79, 0xe5, 0xac, 0xd0, 0x72, 0x91, 0x55, 0x80,
					      0x30, 0x4c, 0x43, 0xa2, 0x36, 0x7c, 0x60, 0x48, 0x83, 0x10 };
	static const uint8_t salt_t51[20] = { 0x7a, 0x4e, 0xde, 0xf4, 0xe7, 0xcc, 0xee, 0x5f, 0xa4, 0x50,
					      0x6c, 0x19, 0x12, 0x4f, 0xc8, 0xcc, 0xda, 0x6e, 0x03, 0x3d };
	enum quic_family f = family(version);
	const uint8_t *salt = f == QF_V1 ? salt_v1 : f == QF_V2 ? salt_v2 : f == QF_D29 ? salt_d29 : f == QF_D23 ? salt_d23
			    : f == QF_T50 ? salt_t50 : f == QF_T51 ? salt_t51 : NULL;
	if (!salt) return false;
	uint8_t initial[32];
	unsigned int il = 0;
	HMAC(EVP_sha256(), salt, 20, dcid, dlen, initial, &il); /* HKDF-Extract */
	bool v2 = f == QF_V2;
	for (int d = 0; d < 2; d++) {
		uint8_t secret[32];
		hkdf_expand_label(initial, 32, d == 0 ? "client in" : "server in", secret, 32);
		hkdf_expand_label(secret, 32, v2 ? "quicv2 key" : "quic key", q->key[d], 16);
		hkdf_expand_label(secret, 32, v2 ? "quicv2 iv" : "quic iv", q->iv[d], 12);
		hkdf_expand_label(secret, 32, v2 ? "quicv2 hp" : "quic hp", q->hp[d], 16);
	}
	q->have_keys = true;
	q->version = version;
	return true;
}

static bool aes_ecb(const uint8_t key[16], const uint8_t in[16], uint8_t out[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0;
	bool ok = x && EVP_EncryptInit_ex(x, EVP_aes_128_ecb(), NULL, key, NULL) == 1 &&
		  EVP_CIPHER_CTX_set_padding(x, 0) == 1 && EVP_EncryptUpdate(x, out, &l, in, 16) == 1 && l == 16;
	EVP_CIPHER_CTX_free(x);
	return ok;
}

static bool aes_gcm_open(const uint8_t key[16], const uint8_t nonce[12], const uint8_t *aad, size_t aadlen,
			 const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (ctlen < 16) return false;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0;
	bool ok = x && EVP_DecryptInit_ex(x, EVP_aes_128_gcm(), NULL, key, nonce) == 1 &&
		  EVP_DecryptUpdate(x, NULL, &l, aad, (int)aadlen) == 1 &&
		  EVP_DecryptUpdate(x, out, &l, ct, (int)(ctlen - 16)) == 1 &&
		  EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_GCM_SET_TAG, 16, (void *)(ct + ctlen - 16)) == 1 &&
		  EVP_DecryptFinal_ex(x, out + l, &l2) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok;
}

/* Removes header protection from a long-header packet: pkt[0..pn_off) is the header up to
 * the packet number, `avail` bytes of the packet were captured. The unprotected header
 * (through the packet number) goes to hdr, its packet number to *pn and its length to
 * *pnl. False when the sample (RFC 9001 §5.4.2) was not captured. */
static bool unprotect(const uint8_t hp[16], const uint8_t *pkt, size_t pn_off, size_t avail, uint8_t *hdr,
		      size_t hcap, uint64_t *pn, size_t *pnl)
{
	if (avail < pn_off + 4 + 16 || pn_off + 4 > hcap) return false;
	uint8_t mask[16];
	if (!aes_ecb(hp, pkt + pn_off + 4, mask)) return false;
	memcpy(hdr, pkt, pn_off + 4);
	hdr[0] ^= mask[0] & 0x0f;
	size_t l = (size_t)(hdr[0] & 3) + 1;
	uint64_t n = 0;
	for (size_t i = 0; i < l; i++) {
		hdr[pn_off + i] ^= mask[1 + i];
		n = n << 8 | hdr[pn_off + i];
	}
	*pn = n;
	*pnl = l;
	return true;
}

/* Decrypts a protected Initial packet whose header unprotect() rebuilt in hdr: the packet
 * ends at pn_off + len. On success the plaintext is in out (*outlen bytes). */
static bool open_initial(const struct quic_state *q, int dir, const uint8_t *pkt, const uint8_t *hdr, size_t pn_off,
			 size_t pnl, size_t len, uint64_t pn, uint8_t *out, size_t *outlen)
{
	if (len < pnl + 16) return false;
	uint8_t nonce[12];
	memcpy(nonce, q->iv[dir], 12);
	for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	size_t ctlen = len - pnl;
	if (!aes_gcm_open(q->key[dir], nonce, hdr, pn_off + pnl, pkt + pn_off + pnl, ctlen, out)) return false;
	*outlen = ctlen - 16;
	return true;
}

/* Remembers a connection ID an endpoint chose. */
static void add_cid(struct quic_state *q, const uint8_t *cid, size_t n)
{
	if (!n || n > QUIC_MAX_CID) return;
	for (int i = 0; i < q->ncids; i++)
		if (q->cid_len[i] == n && !memcmp(q->cid[i], cid, n)) return;
	int i = q->ncids < QUIC_MAX_CIDS ? q->ncids++ : q->next_cid;
	q->next_cid = (uint8_t)((i + 1) % QUIC_MAX_CIDS);
	memcpy(q->cid[i], cid, n);
	q->cid_len[i] = (uint8_t)n;
}

/* Puts CRYPTO bytes at their offset; decodes the hello once its message is whole. */
static void crypto_data(struct app_flow *a, struct packet *p, int dir, uint64_t off, const uint8_t *b, size_t n)
{
	struct quic_state *q = a->quic;
	if (q->hello_done[dir] || off >= QUIC_MAX_CRYPTO) return;
	if (n > QUIC_MAX_CRYPTO - off) n = (size_t)(QUIC_MAX_CRYPTO - off);
	if (!q->crypto[dir]) {
		q->crypto[dir] = xmalloc(QUIC_MAX_CRYPTO);
		q->crypto_seen[dir] = xcalloc(QUIC_MAX_CRYPTO / 8, 1);
	}
	memcpy(q->crypto[dir] + off, b, n);
	for (size_t i = 0; i < n; i++) q->crypto_seen[dir][(off + i) >> 3] |= (uint8_t)(1u << ((off + i) & 7));
	uint32_t e = q->crypto_end[dir];
	while (e < QUIC_MAX_CRYPTO && (q->crypto_seen[dir][e >> 3] & (1u << (e & 7)))) e++;
	q->crypto_end[dir] = e;
	const uint8_t *m = q->crypto[dir];
	struct cur h = cur_make(m, e); /* the hello's handshake header: type, length (3) */
	cur_u8(&h);
	size_t len = cur_be24(&h);
	if (h.err || cur_left(&h) < len) return;
	q->hello_done[dir] = true;
	/* the TLS layer tshark shows in the packet that completes the hello: its bytes are the
	 * CRYPTO stream's, decrypted and collected, not the frame's; QUIC's frames go on after it */
	if (!a->tls) a->tls = xcalloc(1, sizeof *a->tls);
	a->tls->quic = true;
	uint16_t parent = p->cur_parent, layer = p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0];
	struct pk_msg msg = pk_msg_begin(p, m, 4 + len, PB_DECRYPTED);
	struct cur c = cur_make(m, 4 + len);
	int slot = app_proto(p, F_TLS, &c);
	tls_handshake_message(a->tls, p, dir, m, 4 + len);
	c.pos = c.end;
	pk_proto_end(p, slot, &c);
	pk_msg_end(p, msg, 4 + len);
	p->cur_parent = parent;
	p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0] = layer;
	p->ntrees = 0;
}

/* The frames of a decrypted Initial. */
static void frame_list(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, struct sbuf *sb)
{
	struct cur c = cur_make(b, n);
	uint8_t last = 0xff;
	for (int i = 0; i < QUIC_MAX_FRAMES && cur_left(&c); i++) {
		uint64_t type;
		if (!varint(&c, &type)) break;
		if (type == 0) { /* PADDING: one entry for the run */
			while (cur_left(&c) && *c.pos == 0) cur_skip(&c, 1);
			if (sb && last != 0) sb_puts(sb, ", PADDING");
			pk_uint(p, F_QUIC_FRAME_TYPE, 0, 0, 0);
			last = 0;
			continue;
		}
		pk_uint(p, F_QUIC_FRAME_TYPE, type, 0, 0);
		if (sb && (type != last || type != 6)) {
			sb_puts(sb, ", ");
			sb_puts(sb, vn_name(vn_quic_frame_type, type > 0x30 ? 0x30 : (uint32_t)type, "Unknown"));
		}
		last = (uint8_t)type;
		uint64_t x, y, z;
		switch (type) {
		case 0x01: break;
		case 0x02: case 0x03: {
			uint64_t ranges;
			if (!varint(&c, &x) || !varint(&c, &y) || !varint(&c, &ranges) || !varint(&c, &z)) return;
			for (uint64_t r = 0; r < ranges && r < 256; r++)
				if (!varint(&c, &x) || !varint(&c, &y)) return;
			if (ranges >= 256) return;
			if (type == 0x03 && (!varint(&c, &x) || !varint(&c, &y) || !varint(&c, &z))) return;
			break;
		}
		case 0x06: {
			uint64_t off, len;
			if (!varint(&c, &off) || !varint(&c, &len)) return;
			pk_uint(p, F_QUIC_CRYPTO_OFFSET, off, 0, 0);
			pk_uint(p, F_QUIC_CRYPTO_LENGTH, len, 0, 0);
			const uint8_t *d = cur_bytes(&c, (size_t)len);
			if (!d) return;
			crypto_data(a, p, dir, off, d, (size_t)len);
			break;
		}
		case 0x1c: case 0x1d: {
			if (!varint(&c, &x)) return;
			if (type == 0x1c && !varint(&c, &y)) return;
			if (!varint(&c, &z) || !cur_skip(&c, (size_t)z)) return;
			break;
		}
		default:
			if (type == 0x08 && (family(a->quic->version) == QF_T50 || family(a->quic->version) == QF_T51)) {
				/* Google's T05x numbers CRYPTO 0x08 (offset, length, data as in v1) */
				uint64_t off, len;
				if (!varint(&c, &off) || !varint(&c, &len)) return;
				const uint8_t *d = cur_bytes(&c, (size_t)len);
				if (!d) return;
				crypto_data(a, p, dir, off, d, (size_t)len);
				break;
			}
			return; /* not allowed in Initial packets: stop here */
		}
	}
}

/* The frames of a decrypted Initial: offsets within the plaintext. */
static void frames(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, struct sbuf *sb)
{
	struct pk_msg msg = pk_msg_begin(p, b, n, PB_DECRYPTED);
	frame_list(a, p, dir, b, n, sb);
	pk_msg_end(p, msg, n);
}

static void hexcid(struct sbuf *sb, const uint8_t *b, size_t n)
{
	sb_hexbytes(sb, b, n, 0);
}

/* One long-header packet at c; returns false when it is not a valid one. `validate` only
 * checks, recording nothing. */
static bool long_packet(struct packet *p, struct cur *c, bool validate, struct sbuf *sb, int dir)
{
	const uint8_t *start = c->pos;
	uint8_t first = cur_u8(c);
	uint32_t version = cur_be32(c);
	uint8_t dcil = cur_u8(c);
	if (c->err || !(first & 0x80) || dcil > QUIC_MAX_CID) return false;
	const uint8_t *dcid = cur_bytes(c, dcil);
	uint8_t scil = cur_u8(c);
	if (c->err || scil > QUIC_MAX_CID) return false;
	const uint8_t *scid = cur_bytes(c, scil);
	if (c->err) return false;
	if (version == 0) { /* version negotiation: a list of versions follows */
		if (cur_left(c) < 4 || cur_left(c) % 4) return false;
		if (validate) return true;
		int slot = app_proto(p, F_QUIC, c);
		pk_uint(p, F_QUIC_HEADER_FORM, 1, 0, 1);
		pk_uint(p, F_QUIC_VERSION, 0, 1, 4);
		pk_uint(p, F_QUIC_DCIL, dcil, 5, 1);
		if (dcil) pk_bytes(p, F_QUIC_DCID, dcid, dcil, 6);
		pk_uint(p, F_QUIC_SCIL, scil, 0, 1);
		if (scil) pk_bytes(p, F_QUIC_SCID, scid, scil, 0);
		while (cur_left(c) >= 4) pk_be32(p, c, F_QUIC_SUPPORTED_VERSION);
		pk_proto_end(p, slot, c);
		if (sb) sb_puts(sb, "Version Negotiation");
		return true;
	}
	if (family(version) == QF_NONE) return false;
	uint8_t type = long_type(first, version);
	uint64_t token_len = 0, len = 0;
	const uint8_t *token = NULL;
	if (type == 3) { /* Retry: token, then a 16-byte integrity tag */
		if (cur_left(c) < 16) return false;
		if (validate) return true;
		struct app_flow *ra = app_flow_get(p);
		if (ra && ra->quic) { /* new keys from the client's next Initial; its CRYPTO stream is
				       * not restarted: the hello it repeats counts as a retransmission, as
				       * tshark counts it (resetting it disagrees on 3 corpus captures) */
			struct quic_state *q = ra->quic;
			q->have_keys = false;
		}
	} else {
		/* a datagram cut short (a snapshot length, an ICMP quote) is decoded as far as it
		 * was captured, as tshark does, and so is one to or from UDP port 443, which
		 * tshark gives QUIC by its port; others must hold what their lengths say */
		bool lenient = p->udp_cut || p->udp_sport == 443 || p->udp_dport == 443;
		if (type == 0) {
			if (!varint(c, &token_len) || (token_len > cur_left(c) && !lenient)) return false;
			if (token_len > cur_left(c)) token_len = cur_left(c);
			token = cur_bytes(c, (size_t)token_len);
		}
		if (!varint(c, &len) || len < 1 || (len > cur_left(c) && !lenient)) return false;
		if (validate) return true;
	}
	int slot = app_proto(p, F_QUIC, c);
	uint32_t base = (uint32_t)(start - c->base);
	pk_uint(p, F_QUIC_HEADER_FORM, 1, base, 1);
	pk_bool(p, F_QUIC_FIXED_BIT, first & 0x40, base, 1);
	if (family(version) == QF_V2) pk_uint(p, F_QUIC_LONG_PACKET_TYPE_V2, (first >> 4) & 3, base, 1);
	else pk_uint(p, F_QUIC_LONG_PACKET_TYPE, type, base, 1);
	pk_uint(p, F_QUIC_VERSION, version, base + 1, 4);
	pk_uint(p, F_QUIC_DCIL, dcil, base + 5, 1);
	if (dcil) pk_bytes(p, F_QUIC_DCID, dcid, dcil, base + 6);
	pk_uint(p, F_QUIC_SCIL, scil, base + 6 + dcil, 1);
	if (scil) pk_bytes(p, F_QUIC_SCID, scid, scil, base + 7 + dcil);
	if (sb) {
		sb_puts(sb, vn_name(vn_quic_long_type, type, "Unknown"));
		if (dcil) { sb_puts(sb, ", DCID="); hexcid(sb, dcid, dcil); }
		if (scil) { sb_puts(sb, ", SCID="); hexcid(sb, scid, scil); }
	}
	if (type == 3) {
		size_t tl = cur_left(c) - 16;
		if (tl) pk_bytes(p, F_QUIC_RETRY_TOKEN, c->pos, (uint32_t)tl, cur_off(c));
		cur_skip(c, tl);
		pk_bytes(p, F_QUIC_RETRY_INTEGRITY_TAG, c->pos, 16, cur_off(c));
		cur_skip(c, 16);
		pk_proto_end(p, slot, c);
		return true;
	}
	if (type == 0) {
		pk_uint(p, F_QUIC_TOKEN_LENGTH, token_len, 0, 0);
		if (token_len) pk_bytes(p, F_QUIC_TOKEN, token, (uint32_t)token_len, (uint32_t)(token - c->base));
	}
	pk_uint(p, F_QUIC_LENGTH, len, 0, 0);
	size_t pn_off = (size_t)(c->pos - start);
	bool whole = len <= cur_left(c);
	size_t avail = pn_off + (whole ? (size_t)len : cur_left(c));
	struct cur rest = cur_sub(c, whole ? (size_t)len : cur_left(c));
	struct app_flow *a = p->nest ? NULL : app_flow_get(p); /* a quoted packet changes no state */
	if (a) {
		if (!a->quic) a->quic = xcalloc(1, sizeof *a->quic);
		struct quic_state *q = a->quic;
		q->known = true;
		add_cid(q, scid, scil);
		/* Initial keys come from the DCID of the client's first Initial, of its first one
		 * after a Retry, or of its first one in the version a Version Negotiation chose
		 * (RFC 9001 §5.2) */
		if (dir == 0 && type == 0 && (!q->have_keys || q->version != version)) {
			derive_keys(q, version, dcid, dcil);
		}
		uint8_t hdr[2048];
		uint64_t pn = 0;
		size_t pnl = 0;
		if (type == 0 && q->have_keys && pn_off + len < QUIC_MAX_PLAIN &&
		    unprotect(q->hp[dir], start, pn_off, avail, hdr, sizeof hdr, &pn, &pnl)) {
			pk_uint(p, F_QUIC_PACKET_NUMBER, pn, 0, 0);
			if (sb) sb_printf(sb, ", PKN: %llu", (unsigned long long)pn);
			uint8_t *plain = pk_work(p, PK_WORK_QUIC_PLAIN, QUIC_MAX_PLAIN);
			size_t pl = 0;
			if (!whole) {
				/* cut short: nothing to decrypt */
			} else if (open_initial(q, dir, start, hdr, pn_off, pnl, (size_t)len, pn, plain, &pl)) {
				/* frames point into the plaintext: keep a copy the fields can use */
				frames(a, p, dir, plain, pl, sb);
			} else {
				pk_string(p, F_QUIC_DECRYPTION_FAILED, "Initial packet could not be decrypted", 37, 0, 0);
			}
		}
	}
	cur_skip(&rest, cur_left(&rest));
	pk_proto_end(p, slot, c);
	return true;
}

/* A short-header packet on a flow known to be QUIC: its DCID is shown when it is a
 * connection ID an endpoint chose (tshark finds the connection by it); the fixed bit may
 * be clear (RFC 9287 greases it). */
static void short_packet(struct packet *p, struct cur *c, const struct quic_state *q, struct sbuf *sb)
{
	size_t n = cur_left(c);
	int slot = app_proto(p, F_QUIC, c);
	pk_uint(p, F_QUIC_HEADER_FORM, 0, cur_off(c), 1);
	pk_add(p, F_QUIC_SHORT, cur_off(c), (uint32_t)n);
	const uint8_t *dcid = NULL;
	size_t dl = 0;
	for (int i = 0; i < q->ncids && !dcid; i++)
		if (n > 1u + q->cid_len[i] && !memcmp(c->pos + 1, q->cid[i], q->cid_len[i])) {
			dcid = c->pos + 1;
			dl = q->cid_len[i];
		}
	if (dcid) pk_bytes(p, F_QUIC_DCID, dcid, (uint32_t)dl, cur_off(c) + 1);
	pk_bytes(p, F_QUIC_REMAINING_PAYLOAD, c->pos, (uint32_t)n, cur_off(c));
	cur_skip(c, n);
	pk_proto_end(p, slot, c);
	if (sb) {
		sb_puts(sb, "Protected Payload (KP0)");
		if (dcid) {
			sb_puts(sb, ", DCID=");
			hexcid(sb, dcid, dl);
		}
	}
}

bool dissect_quic(struct packet *p, struct cur *c)
{
	size_t n = cur_left(c);
	if (n < 7) return false;
	uint8_t first = *c->pos;
	struct app_flow *a = p->app ? *p->app : NULL;
	bool known = a && a->quic && a->quic->known;
	if (!(first & 0x80)) { /* short header: only on a flow already known to be QUIC */
		if (!known || p->nest) return false;
		short_packet(p, c, a->quic, pk_col(p, "QUIC"));
		return true;
	}
	struct cur v = *c;
	if (!long_packet(p, &v, true, NULL, 0)) return false;
	struct sbuf *sb = pk_col(p, "QUIC");
	int dir = p->app ? p->app_dir : 0;
	for (int i = 0; i < QUIC_MAX_PACKETS && cur_left(c) && (*c->pos & 0x80); i++) {
		struct cur probe = *c;
		if (!long_packet(p, &probe, true, NULL, dir)) break;
		if (i && sb) sb_puts(sb, ", ");
		long_packet(p, c, false, sb, dir);
	}
	/* a 1-RTT packet may follow the long ones in the same datagram (RFC 9000 §12.2) */
	a = p->app ? *p->app : NULL;
	if (cur_left(c) && !(*c->pos & 0x80) && a && a->quic && a->quic->known && !p->nest) {
		if (sb) sb_puts(sb, ", ");
		short_packet(p, c, a->quic, sb);
	}
	if (cur_left(c)) pk_data(p, c);
	return true;
}
