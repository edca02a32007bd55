/* dissect/quic.c — QUIC (RFC 9000) long headers for v1, v2 (RFC 9369) and the late drafts,
 * version negotiation and Retry, short headers on flows already known to be QUIC, and
 * packet protection (RFC 9001 §5): Initial packets always (keys from the client's
 * Destination Connection ID), Handshake and 1-RTT packets when a key log (dissect/keylog.h)
 * has the handshake's traffic secrets — AES-GCM with AES header protection, ChaCha20-
 * Poly1305 with ChaCha20's. Frames are decoded (RFC 9000 §19); CRYPTO frames are
 * reassembled per level into handshake messages, which dissect/tls.c decodes (SNI, ALPN,
 * JA4 with the `q` prefix, and the encrypted handshake when keys are known).
 * NEW_CONNECTION_ID frames teach the connection IDs short headers carry. Long headers are
 * validated strictly (known version, connection ID lengths, lengths that fit the datagram)
 * so that other UDP is not QUIC. 0-RTT packets and key updates are not decrypted. */
#include "dissect/app_internal.h"
#include "dissect/keylog.h"

#include <openssl/crypto.h>
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
	for (int l = 0; l < QL__COUNT; l++)
		for (int d = 0; d < 2; d++) {
			free(q->crypto[l][d].buf);
			free(q->crypto[l][d].seen);
		}
	OPENSSL_cleanse(q->keys, sizeof q->keys);
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

/* ---- keys (RFC 9001 §5) ---- */

/* A level's packet protection from a TLS secret: "quic key", "quic iv", "quic hp" (v2:
 * "quicv2 …", RFC 9369 §3.3.2). */
static void keys_from_secret(struct quic_keys *k, const EVP_MD *md, const uint8_t *secret, size_t slen, uint8_t klen,
			     bool chacha, bool v2)
{
	tls13_expand_label(md, secret, slen, v2 ? "quicv2 key" : "quic key", k->key, klen);
	tls13_expand_label(md, secret, slen, v2 ? "quicv2 iv" : "quic iv", k->iv, 12);
	tls13_expand_label(md, secret, slen, v2 ? "quicv2 hp" : "quic hp", k->hp, klen);
	k->klen = klen;
	k->chacha = chacha;
	k->on = true;
}

/* Initial keys from the client's Destination Connection ID (RFC 9001 §5.2). */
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
	for (int d = 0; d < 2; d++) {
		uint8_t secret[32];
		tls13_expand_label(EVP_sha256(), initial, 32, d == 0 ? "client in" : "server in", secret, 32);
		keys_from_secret(&q->keys[QL_INITIAL][d], EVP_sha256(), secret, 32, 16, false, f == QF_V2);
	}
	q->have_keys = true;
	q->version = version;
	q->largest_pn[QL_INITIAL][0] = q->largest_pn[QL_INITIAL][1] = 0;
	return true;
}

/* Handshake and 1-RTT keys from the key log, once the ServerHello named the suite: the
 * handshake and first application traffic secrets of the ClientHello's random. */
static void tls_level_keys(struct quic_state *q, const struct tls_state *t, const struct keylog *k)
{
	if (q->tls_keys_found || !k || !t->have_randoms || (q->tls_key_tried && keylog_generation(k) == q->tls_key_gen))
		return;
	q->tls_key_tried = true;
	q->tls_key_gen = keylog_generation(k);
	const EVP_MD *md = t->cipher == 0x1302 ? EVP_sha384() : EVP_sha256();
	uint8_t klen = t->cipher == 0x1301 ? 16 : 32;
	bool chacha = t->cipher == 0x1303;
	if (t->cipher < 0x1301 || t->cipher > 0x1303) return;
	static const enum keylog_label labels[2][2] = {
		{ KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET, KL_SERVER_HANDSHAKE_TRAFFIC_SECRET },
		{ KL_CLIENT_TRAFFIC_SECRET_0, KL_SERVER_TRAFFIC_SECRET_0 },
	};
	for (int l = 0; l < 2; l++)
		for (int server = 0; server < 2; server++) {
			uint8_t secret[KEYLOG_MAX_SECRET];
			size_t n = keylog_find(k, labels[l][server], t->client_random, secret);
			int dir = server ? !t->client_dir : t->client_dir;
			if (!n) continue;
			keys_from_secret(&q->keys[l ? QL_APP : QL_HANDSHAKE][dir], md, secret, n, klen, chacha,
					 family(q->version) == QF_V2);
			q->tls_keys_found = true;
		}
}

/* The header protection mask (RFC 9001 §5.4.3, §5.4.4) from the 16-byte sample. */
static bool hp_mask(const struct quic_keys *k, const uint8_t sample[16], uint8_t mask[16])
{
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0;
	bool ok;
	if (k->chacha) { /* ChaCha20 with the sample as counter and nonce, over five zeros */
		static const uint8_t zeros[16];
		ok = x && EVP_EncryptInit_ex(x, EVP_chacha20(), NULL, k->hp, sample) == 1 &&
		     EVP_EncryptUpdate(x, mask, &l, zeros, 16) == 1;
	} else {
		ok = x && EVP_EncryptInit_ex(x, k->klen == 32 ? EVP_aes_256_ecb() : EVP_aes_128_ecb(), NULL, k->hp, NULL) == 1 &&
		     EVP_CIPHER_CTX_set_padding(x, 0) == 1 && EVP_EncryptUpdate(x, mask, &l, sample, 16) == 1 && l == 16;
	}
	EVP_CIPHER_CTX_free(x);
	return ok;
}

/* The full packet number from its truncated form (RFC 9000 §A.3). */
static uint64_t full_pn(uint64_t largest, uint64_t truncated, size_t nbytes)
{
	uint64_t expected = largest + 1, win = (uint64_t)1 << (nbytes * 8), hwin = win / 2, mask = win - 1;
	uint64_t cand = (expected & ~mask) | truncated;
	if (cand + hwin <= expected && cand < ((uint64_t)1 << 62) - win) return cand + win;
	if (cand > expected + hwin && cand >= win) return cand - win;
	return cand;
}

/* Removes header protection: pkt[0..pn_off) is the header up to the packet number,
 * `avail` bytes of the packet were captured. The unprotected header (through the packet
 * number) goes to hdr, the truncated packet number to *pn and its length to *pnl. False
 * when the sample (RFC 9001 §5.4.2) was not captured. */
static bool unprotect(const struct quic_keys *k, const uint8_t *pkt, size_t pn_off, size_t avail, uint8_t *hdr,
		      size_t hcap, uint64_t *pn, size_t *pnl)
{
	if (avail < pn_off + 4 + 16 || pn_off + 4 > hcap) return false;
	uint8_t mask[16];
	if (!hp_mask(k, pkt + pn_off + 4, mask)) return false;
	memcpy(hdr, pkt, pn_off + 4);
	hdr[0] ^= mask[0] & ((hdr[0] & 0x80) ? 0x0f : 0x1f);
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

/* Decrypts a packet whose header unprotect() rebuilt in hdr: the payload ends at
 * pn_off + len. On success the plaintext is in out (*outlen bytes). */
static bool open_packet(const struct quic_keys *k, const uint8_t *pkt, const uint8_t *hdr, size_t pn_off, size_t pnl,
			size_t len, uint64_t pn, uint8_t *out, size_t *outlen)
{
	if (len < pnl + 16) return false;
	uint8_t nonce[12];
	memcpy(nonce, k->iv, 12);
	for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(pn >> (8 * i));
	const EVP_CIPHER *aead = k->chacha ? EVP_chacha20_poly1305() : k->klen == 32 ? EVP_aes_256_gcm() : EVP_aes_128_gcm();
	size_t ctlen = len - pnl;
	if (!tls_aead_open(aead, k->key, nonce, hdr, pn_off + pnl, pkt + pn_off + pnl, ctlen, out)) return false;
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

/* Puts CRYPTO bytes of a level at their offset; decodes each handshake message once it is
 * whole and the ones before it were decoded. */
static void crypto_data(struct app_flow *a, struct packet *p, int dir, int level, uint64_t off, const uint8_t *b,
			size_t n)
{
	struct quic_state *q = a->quic;
	struct quic_crypto *cs = &q->crypto[level][dir];
	if (off >= QUIC_MAX_CRYPTO) return;
	if (n > QUIC_MAX_CRYPTO - off) n = (size_t)(QUIC_MAX_CRYPTO - off);
	if (!cs->buf) {
		cs->buf = xmalloc(QUIC_MAX_CRYPTO);
		cs->seen = xcalloc(QUIC_MAX_CRYPTO / 8, 1);
	}
	for (size_t i = 0; i < n; i++) { /* the first copy of a byte stays: later ones repeat it */
		size_t o = (size_t)off + i;
		if (cs->seen[o >> 3] & (1u << (o & 7))) continue;
		cs->buf[o] = b[i];
		cs->seen[o >> 3] |= (uint8_t)(1u << (o & 7));
	}
	uint32_t e = cs->end;
	while (e < QUIC_MAX_CRYPTO && (cs->seen[e >> 3] & (1u << (e & 7)))) e++;
	cs->end = e;
	if (!a->tls) a->tls = xcalloc(1, sizeof *a->tls);
	a->tls->quic = true;
	/* the TLS layer tshark shows in the packet that completes a message: its bytes are the
	 * CRYPTO stream's, decrypted and collected, not the frame's; QUIC's frames go on after */
	uint16_t parent = p->cur_parent, layer = p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0];
	for (;;) {
		const uint8_t *m = cs->buf + cs->used;
		struct cur h = cur_make(m, cs->end - cs->used); /* type, length (3) */
		cur_u8(&h);
		size_t len = cur_be24(&h);
		if (h.err || cur_left(&h) < len) break;
		struct pk_msg msg = pk_msg_begin(p, m, 4 + len, PB_DECRYPTED);
		struct cur c = cur_make(m, 4 + len);
		int slot = app_proto(p, F_TLS, &c);
		tls_handshake_message(a->tls, p, dir, m, 4 + len);
		c.pos = c.end;
		pk_proto_end(p, slot, &c);
		pk_msg_end(p, msg, 4 + len);
		cs->used += (uint32_t)(4 + len);
		p->cur_parent = parent;
		p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0] = layer;
		p->ntrees = 0;
	}
	if (level == QL_INITIAL) tls_level_keys(q, a->tls, p->keylog);
}

/* A frame's name in Info, short as tshark writes it past the handshake frames. */
static const struct val_name info_labels[] = {
	{ 0x01, "PING" }, { 0x02, "ACK" }, { 0x03, "ACK_ECN" }, { 0x04, "RS" }, { 0x05, "SS" }, { 0x06, "CRYPTO" },
	{ 0x07, "NT" }, { 0x08, "STREAM" }, { 0x10, "MD" }, { 0x11, "MSD" }, { 0x12, "MS" }, { 0x13, "MS" },
	{ 0x14, "DB" }, { 0x15, "SDB" }, { 0x16, "SB" }, { 0x17, "SB" }, { 0x18, "NCI" }, { 0x19, "RCI" },
	{ 0x1a, "PC" }, { 0x1b, "PR" }, { 0x1c, "CC" }, { 0x1d, "CC" }, { 0x1e, "DONE" }, { 0x30, "DG" },
	{ 0x31, "DG" }, { 0xaf, "AF" }, { 0x02f5, "TS" }, { 0, NULL }
};

/* Skips a frame's varint fields; false when they run past the packet. */
static bool skip_varints(struct cur *c, int n)
{
	uint64_t x;
	for (int i = 0; i < n; i++)
		if (!varint(c, &x)) return false;
	return true;
}

/* The frames of a decrypted packet (RFC 9000 §19), at its level. */
static void frame_list(struct app_flow *a, struct packet *p, int dir, int level, const uint8_t *b, size_t n,
		       struct sbuf *sb)
{
	struct cur c = cur_make(b, n);
	uint64_t last = 0xff;
	bool gquic = family(a->quic->version) == QF_T50 || family(a->quic->version) == QF_T51;
	for (int i = 0; i < QUIC_MAX_FRAMES && cur_left(&c); i++) {
		uint64_t type, x, y, z;
		if (!varint(&c, &type)) break;
		if (type == 0) { /* PADDING: one entry for the run */
			while (cur_left(&c) && *c.pos == 0) cur_skip(&c, 1);
			if (sb && last != 0) sb_puts(sb, ", PADDING");
			pk_uint(p, F_QUIC_FRAME_TYPE, 0, 0, 0);
			last = 0;
			continue;
		}
		pk_uint(p, F_QUIC_FRAME_TYPE, type, 0, 0);
		bool crypto = type == 0x06 || (type == 0x08 && gquic); /* T05x numbers CRYPTO 0x08 */
		if (sb) {
			sb_puts(sb, ", ");
			uint32_t t = crypto ? 0x06 : type >= 0x08 && type <= 0x0f ? 0x08 : type > UINT32_MAX ? UINT32_MAX : (uint32_t)type;
			sb_puts(sb, vn_name(info_labels, t, "Unknown"));
		}
		last = type;
		/* the stream a frame is about, in Info as tshark writes it: STREAM(3) */
		if (sb && !crypto && ((type >= 0x08 && type <= 0x0f) || type == 0x04 || type == 0x05 || type == 0x11 || type == 0x15)) {
			struct cur id = c;
			if (varint(&id, &x)) sb_printf(sb, "(%llu)", (unsigned long long)x);
		}
		if (crypto) {
			uint64_t off, len;
			if (!varint(&c, &off) || !varint(&c, &len)) return;
			pk_uint(p, F_QUIC_CRYPTO_OFFSET, off, 0, 0);
			pk_uint(p, F_QUIC_CRYPTO_LENGTH, len, 0, 0);
			const uint8_t *d = cur_bytes(&c, (size_t)len);
			if (!d) return;
			crypto_data(a, p, dir, level, off, d, (size_t)len);
			continue;
		}
		switch (type) {
		case 0x01: case 0x1e: break; /* PING, HANDSHAKE_DONE */
		case 0x02: case 0x03: { /* ACK: largest, delay, ranges, first range [, ECN counts] */
			uint64_t ranges;
			if (!varint(&c, &x) || !varint(&c, &y) || !varint(&c, &ranges) || !varint(&c, &z)) return;
			if (ranges >= 256 || !skip_varints(&c, 2 * (int)ranges)) return;
			if (type == 0x03 && !skip_varints(&c, 3)) return;
			break;
		}
		case 0x04: if (!skip_varints(&c, 3)) return; break; /* RESET_STREAM */
		case 0x05: if (!skip_varints(&c, 2)) return; break; /* STOP_SENDING */
		case 0x07: /* NEW_TOKEN */
			if (!varint(&c, &x) || !cur_skip(&c, (size_t)x)) return;
			break;
		case 0x08: case 0x09: case 0x0a: case 0x0b: case 0x0c: case 0x0d: case 0x0e: case 0x0f: {
			/* STREAM: id, [offset], [length] (else to the end), data */
			uint64_t len = 0;
			if (!varint(&c, &x)) return;
			if ((type & 0x04) && !varint(&c, &y)) return;
			if (type & 0x02) {
				if (!varint(&c, &len)) return;
			} else {
				len = cur_left(&c);
			}
			if (!cur_skip(&c, (size_t)len)) return;
			break;
		}
		case 0x10: case 0x12: case 0x13: case 0x14: case 0x16: case 0x17: case 0x19: /* one value */
			if (!skip_varints(&c, 1)) return;
			break;
		case 0x11: case 0x15: if (!skip_varints(&c, 2)) return; break; /* MAX_/STREAM_DATA_BLOCKED */
		case 0x18: { /* NEW_CONNECTION_ID: sequence, retire prior to, length, CID, reset token */
			if (!skip_varints(&c, 2) || !cur_has(&c, 1)) return;
			uint8_t l = cur_u8(&c);
			const uint8_t *cid = cur_bytes(&c, l);
			if (!cid || l > QUIC_MAX_CID || !cur_skip(&c, 16)) return;
			add_cid(a->quic, cid, l);
			break;
		}
		case 0x1a: case 0x1b: if (!cur_skip(&c, 8)) return; break; /* PATH_CHALLENGE/RESPONSE */
		case 0x1c: case 0x1d: /* CONNECTION_CLOSE: code, [frame type], reason */
			if (!varint(&c, &x)) return;
			if (type == 0x1c && !varint(&c, &y)) return;
			if (!varint(&c, &z) || !cur_skip(&c, (size_t)z)) return;
			break;
		case 0xaf: /* ACK_FREQUENCY (draft-ietf-quic-ack-frequency-01): three values, a flags byte */
			if (!skip_varints(&c, 3) || !cur_skip(&c, 1)) return;
			break;
		case 0x02f5: if (!skip_varints(&c, 1)) return; break; /* TIME_STAMP (draft-huitema) */
		case 0x30: cur_skip(&c, cur_left(&c)); break; /* DATAGRAM to the end */
		case 0x31: /* DATAGRAM with a length */
			if (!varint(&c, &x) || !cur_skip(&c, (size_t)x)) return;
			break;
		default:
			return; /* unknown: the rest cannot be told apart */
		}
	}
}

/* The frames of a decrypted packet: offsets within the plaintext. */
static void frames(struct app_flow *a, struct packet *p, int dir, int level, const uint8_t *b, size_t n,
		   struct sbuf *sb)
{
	struct pk_msg msg = pk_msg_begin(p, b, n, PB_DECRYPTED);
	frame_list(a, p, dir, level, b, n, sb);
	pk_msg_end(p, msg, n);
}

/* Removes protection from the packet at start (its packet number at pn_off, `avail`
 * bytes captured, `len` after pn_off when whole, 0 when cut short) with the level's keys,
 * shows its packet number, and decodes its frames. */
static void protected_payload(struct app_flow *a, struct packet *p, int dir, int level, const uint8_t *start,
			      size_t pn_off, size_t avail, size_t len, struct sbuf *sb)
{
	struct quic_state *q = a->quic;
	const struct quic_keys *k = &q->keys[level][dir];
	if (!k->on && level != QL_INITIAL && a->tls) tls_level_keys(q, a->tls, p->keylog); /* written late */
	/* the unprotected header, for the AEAD's associated data: as long as an Initial's token */
	uint8_t *hdr = pk_work(p, PK_WORK_QUIC_HEADER, QUIC_MAX_PLAIN);
	uint64_t tpn = 0;
	size_t pnl = 0;
	if (!k->on || pn_off + len >= QUIC_MAX_PLAIN || !unprotect(k, start, pn_off, avail, hdr, QUIC_MAX_PLAIN, &tpn, &pnl))
		return;
	uint64_t pn = full_pn(q->largest_pn[level][dir], tpn, pnl);
	pk_uint(p, F_QUIC_PACKET_NUMBER, pn, 0, 0);
	if (sb) sb_printf(sb, ", PKN: %llu", (unsigned long long)pn);
	if (!len) return; /* cut short: nothing to decrypt */
	uint8_t *plain = pk_keep(p, len);
	size_t pl = 0;
	if (open_packet(k, start, hdr, pn_off, pnl, len, pn, plain, &pl)) {
		if (pn > q->largest_pn[level][dir]) q->largest_pn[level][dir] = pn;
		frames(a, p, dir, level, plain, pl, sb);
	} else if (level == QL_INITIAL) {
		pk_string(p, F_QUIC_DECRYPTION_FAILED, "Initial packet could not be decrypted", 37, 0, 0);
	}
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
		if (sb) {
			sb_puts(sb, "Version Negotiation");
			if (dcil) { sb_puts(sb, ", DCID="); hexcid(sb, dcid, dcil); }
			if (scil) { sb_puts(sb, ", SCID="); hexcid(sb, scid, scil); }
		}
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
		if (type != 3) q->empty_cid[dir] = scil == 0;
		/* Initial keys come from the DCID of the client's first Initial, of its first one
		 * after a Retry, or of its first one in the version a Version Negotiation chose
		 * (RFC 9001 §5.2) */
		if (dir == 0 && type == 0 && (!q->have_keys || q->version != version)) {
			derive_keys(q, version, dcid, dcil);
		}
		if (type == 0 || type == 2) /* Initial, Handshake; 0-RTT needs the early secret */
			protected_payload(a, p, dir, type == 0 ? QL_INITIAL : QL_HANDSHAKE, start, pn_off, avail,
					  whole ? (size_t)len : 0, sb);
	}
	cur_skip(&rest, cur_left(&rest));
	pk_proto_end(p, slot, c);
	return true;
}

/* A short-header packet on a flow known to be QUIC: its DCID is shown when it is a
 * connection ID an endpoint chose (tshark finds the connection by it); the fixed bit may
 * be clear (RFC 9287 greases it). */
static void short_packet(struct packet *p, struct cur *c, struct app_flow *a, struct sbuf *sb)
{
	struct quic_state *q = a->quic;
	size_t n = cur_left(c);
	const uint8_t *start = c->pos;
	int slot = app_proto(p, F_QUIC, c);
	pk_uint(p, F_QUIC_HEADER_FORM, 0, cur_off(c), 1);
	pk_add(p, F_QUIC_SHORT, cur_off(c), (uint32_t)n);
	const uint8_t *dcid = NULL;
	size_t dl = 0;
	for (int i = 0; i < q->ncids && !dcid; i++)
		if (n > 1u + q->cid_len[i] && !memcmp(start + 1, q->cid[i], q->cid_len[i])) {
			dcid = start + 1;
			dl = q->cid_len[i];
		}
	int dir = p->app_dir;
	bool found = dcid || q->empty_cid[!dir]; /* the connection, by its ID or by the flow */
	if (dcid) pk_bytes(p, F_QUIC_DCID, dcid, (uint32_t)dl, cur_off(c) + 1);
	if (sb) {
		sb_puts(sb, "Protected Payload (KP0)");
		if (dcid) {
			sb_puts(sb, ", DCID=");
			hexcid(sb, dcid, dl);
		}
	}
	if (found) protected_payload(a, p, dir, QL_APP, start, 1 + dl, n, p->udp_cut ? 0 : n - 1 - dl, sb);
	if (!found || !q->keys[QL_APP][dir].on) pk_bytes(p, F_QUIC_REMAINING_PAYLOAD, start, (uint32_t)n, cur_off(c));
	cur_skip(c, n);
	pk_proto_end(p, slot, c);
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
		short_packet(p, c, a, pk_col(p, "QUIC"));
		return true;
	}
	struct cur v = *c;
	if (!long_packet(p, &v, true, NULL, 0)) return false;
	struct sbuf *sb = pk_col(p, "QUIC");
	int dir = p->app ? p->app_dir : 0;
	/* Packets coalesced in a datagram share the first one's DCID; what follows with another
	 * is not taken as a packet (RFC 9000 §12.2): padding of random bytes, as Firefox sends */
	const uint8_t *dcid = c->pos + 6;
	uint8_t dcil = c->pos[5];
	for (int i = 0; i < QUIC_MAX_PACKETS && cur_left(c) && (*c->pos & 0x80); i++) {
		struct cur probe = *c;
		if (!long_packet(p, &probe, true, NULL, dir)) break;
		if (i && (c->pos[5] != dcil || memcmp(c->pos + 6, dcid, dcil))) break;
		if (i) sb = pk_col(p, "QUIC"); /* tshark's Info is the datagram's last packet's */
		long_packet(p, c, false, sb, dir);
	}
	/* a 1-RTT packet may follow the long ones in the same datagram */
	a = p->app ? *p->app : NULL;
	if (cur_left(c) > 1u + dcil && !(*c->pos & 0x80) && !memcmp(c->pos + 1, dcid, dcil) && a && a->quic &&
	    a->quic->known && !p->nest) {
		short_packet(p, c, a, pk_col(p, "QUIC"));
	}
	if (cur_left(c)) pk_data(p, c);
	return true;
}
