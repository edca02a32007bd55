/* dissect/tls.c — TLS (RFC 5246, RFC 8446) from a reassembled TCP stream, and the hellos
 * QUIC carries in CRYPTO frames: the record layer, handshake messages that span records,
 * ClientHello and ServerHello with every extension in order, Certificate (TLS <= 1.2)
 * through libcrypto's X.509 parser, and the fingerprints JA3/JA3S (Salesforce's
 * definition) and JA4/JA4S (FoxIO's specification, ja4/spec/JA4.md in the corpus). */
#include "dissect/app_internal.h"
#include "dissect/keylog.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define TLS_MAX_RECORD (16384 + 2048) /* TLSCiphertext.length limit (RFC 5246 §6.2.3) */
#define TLS_MAX_LIST 32768            /* ciphers, extensions, groups... kept for fingerprints
				       * (a 16-bit length holds at most 32767 two-byte values) */

void tls_state_free(struct tls_state *t)
{
	if (!t) return;
	free(t->hs[0]);
	free(t->hs[1]);
	app_flow_free(t->inner);
	free(t->held[0]);
	free(t->held[1]);
	OPENSSL_cleanse(t->dec, sizeof t->dec);
	free(t);
}

static bool is_grease(uint32_t v) { return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff); }

static const char *version_col(uint16_t v)
{
	switch (v) {
	case SSL_V3: return "SSLv3";
	case TLS_V1_0: return "TLSv1";
	case TLS_V1_1: return "TLSv1.1";
	case TLS_V1_2: return "TLSv1.2";
	case TLS_V1_3: return "TLSv1.3";
	default: return "TLS";
	}
}

/* The two characters JA4 and JA4S use for a TLS version. */
static const char *ja4_version(uint32_t v)
{
	switch (v) {
	case TLS_V1_3: return "13";
	case TLS_V1_2: return "12";
	case TLS_V1_1: return "11";
	case TLS_V1_0: return "10";
	case SSL_V3: return "s3";
	case SSL_V2: return "s2";
	case DTLS_V1_0: return "d1";
	case DTLS_V1_2: return "d2";
	case DTLS_V1_3: return "d3";
	default: return "00";
	}
}

static void hex_digest(const EVP_MD *md, const char *s, size_t n, char *out, size_t chars)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int dl = 0;
	EVP_Digest(s, n, d, &dl, md, NULL);
	static const char hx[] = "0123456789abcdef";
	size_t k = 0;
	for (unsigned int i = 0; i < dl && k + 2 <= chars; i++) {
		out[k++] = hx[d[i] >> 4];
		out[k++] = hx[d[i] & 15];
	}
	out[k] = '\0';
}

/* What one hello carries that the fingerprints and Info need. */
struct hello {
	uint16_t version;                 /* legacy_version */
	uint16_t ciphers[TLS_MAX_LIST];
	uint16_t exts[TLS_MAX_LIST];
	uint16_t groups[TLS_MAX_LIST];
	uint8_t pfmts[TLS_MAX_LIST];
	uint16_t sigalgs[TLS_MAX_LIST];
	uint16_t nciphers, nexts, ngroups, npfmts, nsigalgs;
	uint32_t max_supported;           /* highest non-GREASE supported_versions value, 0 if none */
	const uint8_t *alpn;              /* first ALPN value */
	uint8_t alpn_len;
	bool have_alpn, sni;
	bool inner_bad;                   /* a vector inside an extension overran it */
	char sni_name[256];
};

/* One hello is decoded at a time per packet record: its lists (up to TLS_MAX_LIST entries,
 * 290 KB in all) live in the record's work buffer, reused rather than allocated for every
 * hello. */
static struct hello *hello_begin(struct packet *p)
{
	struct hello *h = pk_work(p, PK_WORK_TLS_HELLO, sizeof *h);
	h->version = 0;
	h->nciphers = h->nexts = h->ngroups = h->npfmts = h->nsigalgs = 0;
	h->max_supported = 0;
	h->alpn = NULL;
	h->alpn_len = 0;
	h->have_alpn = h->sni = h->inner_bad = false;
	h->sni_name[0] = '\0';
	return h;
}

static void put_list_dec(struct sbuf *sb, const uint16_t *v, size_t n)
{
	bool first = true;
	for (size_t i = 0; i < n; i++) {
		if (is_grease(v[i])) continue;
		if (!first) sb_putc(sb, '-');
		first = false;
		sb_u64(sb, v[i]);
	}
}

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Appends the 4-digit hex values of v (GREASE and the excluded values left out). */
static size_t put_hex_list(struct sbuf *sb, const uint16_t *v, size_t n, bool sorted, bool skip_sni_alpn)
{
	uint16_t *tmp = xmalloc((n ? n : 1) * sizeof *tmp);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (is_grease(v[i])) continue;
		if (skip_sni_alpn && (v[i] == TLS_EXT_SERVER_NAME || v[i] == TLS_EXT_ALPN)) continue;
		tmp[k++] = v[i];
	}
	if (sorted) qsort(tmp, k, sizeof tmp[0], cmp_u16);
	for (size_t i = 0; i < k; i++) {
		if (i) sb_putc(sb, ',');
		sb_hex(sb, tmp[i], 4);
	}
	free(tmp);
	return k;
}

static size_t count_non_grease(const uint16_t *v, size_t n)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) k += !is_grease(v[i]);
	return k;
}

static bool alnum(uint8_t c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

/* JA4's ALPN characters: the first and last of the first value, or of its hex form when
 * either is not alphanumeric (the current specification), "00" when there is none. */
static void ja4_alpn(const struct hello *h, char out[3])
{
	static const char hx[] = "0123456789abcdef";
	if (!h->have_alpn || !h->alpn_len) {
		strcpy(out, "00");
		return;
	}
	uint8_t f = h->alpn[0], l = h->alpn[h->alpn_len - 1];
	if (alnum(f) && alnum(l)) {
		out[0] = (char)f;
		out[1] = (char)l;
	} else {
		out[0] = hx[f >> 4];
		out[1] = hx[l & 15];
	}
	out[2] = '\0';
}

/* JA3 as tshark computes it: none when the cipher list overruns the hello, only
 * "version,ciphers," when what follows the ciphers is broken. */
enum ja3_form { JA3_NONE, JA3_SHORT, JA3_FULL };

static void client_fingerprints(struct packet *p, const struct hello *h, char proto, enum ja3_form form)
{
	size_t cap = (size_t)(h->nciphers + h->nexts + h->ngroups + h->npfmts + h->nsigalgs) * 6 + 64;
	char *buf = xmalloc(cap), hash[65];
	struct sbuf sb;
	bool want_ja3 = form != JA3_NONE && (pk_wants(p, F_TLS_HANDSHAKE_JA3) || pk_wants(p, F_TLS_HANDSHAKE_JA3_FULL));
	bool want_ja4 = pk_wants(p, F_TLS_HANDSHAKE_JA4) || pk_wants(p, F_TLS_HANDSHAKE_JA4_R);
	if (want_ja4) {
		char a[16], alpn[3];
		ja4_alpn(h, alpn);
		size_t nc = count_non_grease(h->ciphers, h->nciphers), ne = count_non_grease(h->exts, h->nexts);
		snprintf(a, sizeof a, "%c%s%c%02u%02u%s", proto,
			 ja4_version(h->max_supported ? h->max_supported : h->version), h->sni ? 'd' : 'i',
			 (unsigned)(nc > 99 ? 99 : nc), (unsigned)(ne > 99 ? 99 : ne), alpn);
		size_t cl_cap = (size_t)h->nciphers * 5 + 2, el_cap = (size_t)(h->nexts + h->nsigalgs) * 5 + 4;
		char *cl = xmalloc(cl_cap), *el = xmalloc(el_cap);
		struct sbuf cs, es;
		sb_init_fixed(&cs, cl, cl_cap - 1);
		sb_init_fixed(&es, el, el_cap - 1);
		size_t kc = put_hex_list(&cs, h->ciphers, h->nciphers, true, false);
		size_t ke = put_hex_list(&es, h->exts, h->nexts, true, true);
		if (h->nsigalgs) {
			sb_putc(&es, '_');
			for (size_t i = 0; i < h->nsigalgs; i++) {
				if (i) sb_putc(&es, ',');
				sb_hex(&es, h->sigalgs[i], 4);
			}
		}
		char hb[13] = "000000000000", hc[13] = "000000000000";
		if (kc) hex_digest(EVP_sha256(), cl, cs.len, hb, 12);
		if (ke) hex_digest(EVP_sha256(), el, es.len, hc, 12);
		sb_init_fixed(&sb, buf, cap - 1);
		sb_printf(&sb, "%s_%s_%s", a, hb, hc);
		pk_string(p, F_TLS_HANDSHAKE_JA4, buf, sb.len, 0, 0);
		sb_init_fixed(&sb, buf, cap - 1);
		sb_puts(&sb, a);
		sb_putc(&sb, '_');
		sb_put(&sb, cl, cs.len);
		sb_putc(&sb, '_');
		sb_put(&sb, el, es.len);
		pk_string(p, F_TLS_HANDSHAKE_JA4_R, buf, sb.len, 0, 0);
		free(cl);
		free(el);
	}
	if (want_ja3) {
		sb_init_fixed(&sb, buf, cap - 1);
		sb_u64(&sb, h->version);
		sb_putc(&sb, ',');
		put_list_dec(&sb, h->ciphers, h->nciphers);
		sb_putc(&sb, ',');
		if (form == JA3_FULL) {
			put_list_dec(&sb, h->exts, h->nexts);
			sb_putc(&sb, ',');
			put_list_dec(&sb, h->groups, h->ngroups);
			sb_putc(&sb, ',');
			for (size_t i = 0; i < h->npfmts; i++) {
				if (i) sb_putc(&sb, '-');
				sb_u64(&sb, h->pfmts[i]);
			}
		}
		pk_string(p, F_TLS_HANDSHAKE_JA3_FULL, buf, sb.len, 0, 0);
		hex_digest(EVP_md5(), buf, sb.len, hash, 32);
		pk_string(p, F_TLS_HANDSHAKE_JA3, hash, 32, 0, 0);
	}
	free(buf);
}

static void server_fingerprints(struct packet *p, const struct hello *h, uint16_t cipher, bool quic)
{
	char buf[TLS_MAX_LIST > 4096 ? 4096 : TLS_MAX_LIST], hash[33];
	struct sbuf sb;
	if (pk_wants(p, F_TLS_HANDSHAKE_JA4S) || pk_wants(p, F_TLS_HANDSHAKE_JA4S_R)) {
		char a[16], alpn[3] = "00";
		if (h->have_alpn && h->alpn_len) {
			alpn[0] = (char)h->alpn[0];
			alpn[1] = (char)h->alpn[h->alpn_len - 1];
		}
		size_t ne = h->nexts;
		snprintf(a, sizeof a, "%c%s%02u%s", quic ? 'q' : 't', ja4_version(h->max_supported ? h->max_supported : h->version),
			 (unsigned)(ne > 99 ? 99 : ne), alpn);
		char el[2048];
		struct sbuf es;
		sb_init_fixed(&es, el, sizeof el - 1);
		for (size_t i = 0; i < h->nexts; i++) {
			if (i) sb_putc(&es, ',');
			sb_hex(&es, h->exts[i], 4);
		}
		char hc[13] = "000000000000";
		if (h->nexts) hex_digest(EVP_sha256(), el, es.len, hc, 12);
		sb_init_fixed(&sb, buf, sizeof buf - 1);
		sb_printf(&sb, "%s_%04x_%s", a, cipher, hc);
		pk_string(p, F_TLS_HANDSHAKE_JA4S, buf, sb.len, 0, 0);
		sb_init_fixed(&sb, buf, sizeof buf - 1);
		sb_printf(&sb, "%s_%04x_", a, cipher);
		sb_put(&sb, el, es.len);
		pk_string(p, F_TLS_HANDSHAKE_JA4S_R, buf, sb.len, 0, 0);
	}
	if (pk_wants(p, F_TLS_HANDSHAKE_JA3S) || pk_wants(p, F_TLS_HANDSHAKE_JA3S_FULL)) {
		sb_init_fixed(&sb, buf, sizeof buf - 1);
		sb_u64(&sb, h->version);
		sb_putc(&sb, ',');
		sb_u64(&sb, cipher);
		sb_putc(&sb, ',');
		put_list_dec(&sb, h->exts, h->nexts);
		pk_string(p, F_TLS_HANDSHAKE_JA3S_FULL, buf, sb.len, 0, 0);
		hex_digest(EVP_md5(), buf, sb.len, hash, 32);
		pk_string(p, F_TLS_HANDSHAKE_JA3S, hash, 32, 0, 0);
	}
}

/* Reads a big-endian value of `size` bytes and records it (copied offsets: within the message). */
static uint32_t rd(struct packet *p, struct cur *c, enum field_id id, int size)
{
	uint32_t off = cur_off(c);
	uint32_t v = size == 1 ? cur_u8(c) : size == 2 ? cur_be16(c) : size == 3 ? cur_be24(c) : cur_be32(c);
	if (!c->err && id != F__COUNT) pk_uint(p, id, v, off, (uint32_t)size);
	return v;
}

static void rd_bytes(struct packet *p, struct cur *c, enum field_id id, size_t n)
{
	uint32_t off = cur_off(c);
	const uint8_t *b = cur_bytes(c, n);
	if (b && n) pk_bytes_copy(p, id, b, (uint32_t)n, off, (uint32_t)n);
}

static void ext_server_name(struct packet *p, struct cur *e, struct hello *h)
{
	uint16_t list = (uint16_t)rd(p, e, F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME_LIST_LEN, 2);
	struct cur l = cur_sub(e, list);
	if (l.err) h->inner_bad = true;
	while (cur_left(&l) >= 3 && !l.err) {
		rd(p, &l, F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME_TYPE, 1);
		uint16_t n = (uint16_t)rd(p, &l, F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME_LEN, 2);
		uint32_t off = cur_off(&l);
		const uint8_t *name = cur_bytes(&l, n);
		if (!name) break;
		pk_string(p, F_TLS_HANDSHAKE_EXTENSIONS_SERVER_NAME, (const char *)name, n, off, n);
		if (!h->sni_name[0]) {
			size_t k = n < sizeof h->sni_name - 1 ? n : sizeof h->sni_name - 1;
			memcpy(h->sni_name, name, k);
			h->sni_name[k] = '\0';
		}
	}
}

static void ext_alpn(struct packet *p, struct cur *e, struct hello *h)
{
	uint16_t list = (uint16_t)rd(p, e, F_TLS_HANDSHAKE_EXTENSIONS_ALPN_LEN, 2);
	struct cur l = cur_sub(e, list);
	if (l.err) h->inner_bad = true;
	while (cur_left(&l) >= 1 && !l.err) {
		uint8_t n = (uint8_t)rd(p, &l, F_TLS_HANDSHAKE_EXTENSIONS_ALPN_STR_LEN, 1);
		uint32_t off = cur_off(&l);
		const uint8_t *s = cur_bytes(&l, n);
		if (!s) break;
		pk_string(p, F_TLS_HANDSHAKE_EXTENSIONS_ALPN_STR, (const char *)s, n, off, n);
		if (!h->have_alpn) {
			h->have_alpn = true;
			h->alpn = s;
			h->alpn_len = n;
		}
	}
}

/* A list of 16-bit values after a length of `lsize` bytes, recorded as `id` and kept. */
static void ext_u16_list(struct packet *p, struct cur *e, int lsize, enum field_id len_id, enum field_id id,
			 uint16_t *keep, uint16_t *nkeep, bool *bad)
{
	uint32_t len = rd(p, e, len_id, lsize);
	struct cur l = cur_sub(e, len);
	if (l.err) *bad = true;
	while (cur_left(&l) >= 2) {
		uint16_t v = (uint16_t)rd(p, &l, id, 2);
		if (keep && *nkeep < TLS_MAX_LIST) keep[(*nkeep)++] = v;
	}
}

static void ext_key_share(struct packet *p, struct cur *e, bool client)
{
	struct cur l = *e;
	if (client) {
		uint16_t len = (uint16_t)rd(p, e, F_TLS_HANDSHAKE_EXTENSIONS_KEY_SHARE_CLIENT_LENGTH, 2);
		l = cur_sub(e, len);
	}
	while (cur_left(&l) >= 4 && !l.err) {
		rd(p, &l, F_TLS_HANDSHAKE_EXTENSIONS_KEY_SHARE_GROUP, 2);
		uint16_t kl = (uint16_t)rd(p, &l, F_TLS_HANDSHAKE_EXTENSIONS_KEY_SHARE_KEY_EXCHANGE_LENGTH, 2);
		if (!cur_skip(&l, kl)) break;
		if (!client) break;
	}
}

/* Returns false when the extension block's length overruns the hello (tshark then gives
 * JA3 only its first two parts); an extension that overruns the block ends the walk. */
static bool one_extension(struct packet *p, struct cur *all, struct hello *h, bool client);

static bool extensions(struct packet *p, struct cur *c, struct hello *h, bool client)
{
	if (!cur_left(c)) return true;
	uint16_t total = (uint16_t)rd(p, c, F_TLS_HANDSHAKE_EXTENSIONS_LENGTH, 2);
	struct cur all = cur_sub(c, total);
	bool ok = !all.err && !c->err;
	if (!ok) return false; /* tshark reads none of them then */
	while (cur_left(&all) >= 4 && !h->inner_bad) { /* a broken inner vector ends it, as tshark's exception */
		struct pk_scope scope = pk_scope_save(p);
		bool more = one_extension(p, &all, h, client);
		pk_scope_restore(p, scope);
		if (!more) break;
	}
	return ok;
}

/* One extension of a hello, its values under its type; false when it overran the list. */
static bool one_extension(struct packet *p, struct cur *all, struct hello *h, bool client)
{
	uint16_t type = (uint16_t)rd(p, all, F_TLS_HANDSHAKE_EXTENSION_TYPE, 2);
	pk_open(p, pk_last(p, F_TLS_HANDSHAKE_EXTENSION_TYPE));
	uint16_t len = (uint16_t)rd(p, all, F_TLS_HANDSHAKE_EXTENSION_LEN, 2);
	if (h->nexts < TLS_MAX_LIST) h->exts[h->nexts++] = type;
	struct cur e = cur_sub(all, len);
	if (e.err) return false;
	if (!len) { /* an empty extension (a server's server_name) has no vectors to read */
		if (type == TLS_EXT_SERVER_NAME && client) h->sni = true;
		return true;
	}
	switch (type) {
	case TLS_EXT_SERVER_NAME:
		if (client) {
			h->sni = true;
			ext_server_name(p, &e, h);
		}
		break;
	case TLS_EXT_SUPPORTED_GROUPS:
		ext_u16_list(p, &e, 2, F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_GROUPS_LENGTH,
			     F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_GROUP, h->groups, &h->ngroups, &h->inner_bad);
		break;
	case TLS_EXT_EC_POINT_FORMATS: {
		uint8_t n = (uint8_t)rd(p, &e, F_TLS_HANDSHAKE_EXTENSIONS_EC_POINT_FORMATS_LENGTH, 1);
		for (uint8_t i = 0; i < n && cur_left(&e); i++) {
			uint8_t v = (uint8_t)rd(p, &e, F_TLS_HANDSHAKE_EXTENSIONS_EC_POINT_FORMAT, 1);
			if (h->npfmts < TLS_MAX_LIST) h->pfmts[h->npfmts++] = v;
		}
		break;
	}
	case TLS_EXT_SIGNATURE_ALGORITHMS:
		ext_u16_list(p, &e, 2, F_TLS_HANDSHAKE_SIG_HASH_ALG_LEN, F_TLS_HANDSHAKE_SIG_HASH_ALG, h->sigalgs,
			     &h->nsigalgs, &h->inner_bad);
		break;
	case TLS_EXT_ALPN:
		ext_alpn(p, &e, h);
		break;
	case TLS_EXT_SUPPORTED_VERSIONS: {
		uint16_t vers[TLS_MAX_LIST];
		uint16_t nv = 0;
		if (client) {
			ext_u16_list(p, &e, 1, F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_VERSIONS_LEN,
				     F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_VERSION, vers, &nv, &h->inner_bad);
		} else if (cur_left(&e) >= 2) {
			vers[nv++] = (uint16_t)rd(p, &e, F_TLS_HANDSHAKE_EXTENSIONS_SUPPORTED_VERSION, 2);
		}
		for (uint16_t i = 0; i < nv; i++)
			if (!is_grease(vers[i]) && vers[i] > h->max_supported) h->max_supported = vers[i];
		break;
	}
	case TLS_EXT_PSK_KEY_EXCHANGE_MODES: {
		uint8_t n = (uint8_t)rd(p, &e, F_TLS_EXTENSION_PSK_KE_MODES_LENGTH, 1);
		for (uint8_t i = 0; i < n && cur_left(&e); i++) rd(p, &e, F_TLS_EXTENSION_PSK_KE_MODE, 1);
		break;
	}
	case TLS_EXT_KEY_SHARE:
		ext_key_share(p, &e, client);
		break;
	case TLS_EXT_ECH:
		if (client && cur_left(&e) >= 1) {
			uint8_t t = (uint8_t)rd(p, &e, F_TLS_ECH_CLIENT_HELLO_TYPE, 1);
			if (t == 0 && cur_skip(&e, 4)) rd(p, &e, F_TLS_ECH_CONFIG_ID, 1);
		}
		break;
	default:
		break;
	}
	return true;
}

/* proto: 't' (TLS over TCP), 'q' (QUIC) or 'd' (DTLS, whose hello has a cookie) */
static void client_hello(struct packet *p, struct cur *c, char proto)
{
	struct hello *h = hello_begin(p);
	h->version = (uint16_t)rd(p, c, F_TLS_HANDSHAKE_VERSION, 2);
	rd_bytes(p, c, F_TLS_HANDSHAKE_RANDOM, 32);
	uint8_t sl = (uint8_t)rd(p, c, F_TLS_HANDSHAKE_SESSION_ID_LENGTH, 1);
	if (sl) rd_bytes(p, c, F_TLS_HANDSHAKE_SESSION_ID, sl);
	if (proto == 'd') cur_skip(c, cur_u8(c)); /* the cookie (RFC 6347 §4.2.1) */
	uint16_t cl = (uint16_t)rd(p, c, F_TLS_HANDSHAKE_CIPHER_SUITES_LENGTH, 2);
	struct cur cs = cur_sub(c, cl);
	while (cur_left(&cs) >= 2) {
		uint16_t v = (uint16_t)rd(p, &cs, F_TLS_HANDSHAKE_CIPHERSUITE, 2);
		if (h->nciphers < TLS_MAX_LIST) h->ciphers[h->nciphers++] = v;
	}
	/* Fingerprints from what could be read, JA3 as tshark: none when the cipher vector is
	 * broken (an odd length, or past the hello) or a vector inside an extension overruns
	 * it; only "version,ciphers," when the extension block's length overruns the hello. */
	enum ja3_form form = JA3_NONE;
	if (!cs.err && !(cl & 1)) {
		uint8_t ml = (uint8_t)rd(p, c, F_TLS_HANDSHAKE_COMP_METHODS_LENGTH, 1);
		for (uint8_t i = 0; i < ml && cur_left(c); i++) rd(p, c, F_TLS_HANDSHAKE_COMP_METHOD, 1);
		form = !c->err && extensions(p, c, h, true) ? JA3_FULL : JA3_SHORT;
		if (h->inner_bad) form = JA3_NONE;
	}
	client_fingerprints(p, h, proto, form);
}

/* RFC 8446 §4.1.3: a ServerHello with this random is a HelloRetryRequest. */
static const uint8_t hrr_random[32] = {
	0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
	0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

/* The protocol the server chose by ALPN: the decrypted application data is decoded as it. */
static void keep_alpn(struct tls_state *t, const struct hello *h)
{
	if (!h->have_alpn || !h->alpn || h->alpn_len >= sizeof t->alpn) return;
	memcpy(t->alpn, h->alpn, h->alpn_len);
	t->alpn[h->alpn_len] = '\0';
}

static bool server_hello(struct tls_state *t, struct packet *p, struct cur *c)
{
	struct hello *h = hello_begin(p);
	h->version = (uint16_t)rd(p, c, F_TLS_HANDSHAKE_VERSION, 2);
	const uint8_t *rnd = cur_bytes(c, 32);
	bool hrr = rnd && memcmp(rnd, hrr_random, 32) == 0;
	if (rnd) pk_bytes_copy(p, F_TLS_HANDSHAKE_RANDOM, rnd, 32, cur_off(c) - 32, 32);
	uint8_t sl = (uint8_t)rd(p, c, F_TLS_HANDSHAKE_SESSION_ID_LENGTH, 1);
	if (sl) rd_bytes(p, c, F_TLS_HANDSHAKE_SESSION_ID, sl);
	uint16_t cipher = (uint16_t)rd(p, c, F_TLS_HANDSHAKE_CIPHERSUITE, 2);
	rd(p, c, F_TLS_HANDSHAKE_COMP_METHOD, 1);
	if (!c->err) {
		extensions(p, c, h, false);
		server_fingerprints(p, h, cipher, t->quic);
		t->version = h->max_supported ? (uint16_t)h->max_supported : h->version;
		t->cipher = cipher;
		keep_alpn(t, h);
	}
	return hrr;
}

/* TLS 1.3's EncryptedExtensions (RFC 8446 §4.3.1), seen when decrypted: ALPN's choice. */
static void encrypted_extensions(struct tls_state *t, struct packet *p, struct cur *c)
{
	struct hello *h = hello_begin(p);
	extensions(p, c, h, false);
	keep_alpn(t, h);
}

static void put_asn1_time(struct packet *p, enum field_id id, const ASN1_TIME *at)
{
	struct tm tm;
	if (!at || !ASN1_TIME_to_tm(at, &tm)) return;
	struct fval *f = pk_add(p, id, 0, 0);
	if (!f) return;
	int64_t y = tm.tm_year + 1900, m = tm.tm_mon + 1;
	/* days from civil (proleptic Gregorian), valid for any year */
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + tm.tm_mday - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;
	f->v.t.sec = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
	f->v.t.nsec = 0;
}

static void put_cn(struct packet *p, enum field_id id, const X509_NAME *name)
{
	int i = name ? X509_NAME_get_index_by_NID(name, NID_commonName, -1) : -1;
	if (i < 0) return;
	const ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i));
	if (s) pk_string(p, id, (const char *)ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s), 0, 0);
}

static void certificate_fields(struct packet *p, const uint8_t *der, size_t n)
{
	const unsigned char *q = der;
	X509 *x = d2i_X509(NULL, &q, (long)n);
	if (!x) return;
	const ASN1_INTEGER *serial = X509_get0_serialNumber(x);
	if (serial) {
		char hex[130];
		struct sbuf sb;
		sb_init_fixed(&sb, hex, sizeof hex - 1);
		sb_hexbytes(&sb, serial->data, (size_t)serial->length > 64 ? 64 : (size_t)serial->length, 0);
		pk_string(p, F_X509AF_SERIALNUMBER, hex, sb.len, 0, 0);
	}
	put_cn(p, F_X509AF_SUBJECT_CN, X509_get_subject_name(x));
	put_cn(p, F_X509AF_ISSUER_CN, X509_get_issuer_name(x));
	put_asn1_time(p, F_X509AF_NOTBEFORE, X509_get0_notBefore(x));
	put_asn1_time(p, F_X509AF_NOTAFTER, X509_get0_notAfter(x));
	/* self-signed: its issuer is its subject and its own key verifies its signature */
	if (pk_wants(p, F_X509AF_SELF_SIGNED)) {
		const unsigned char *sd, *id;
		size_t sl, il;
		bool self = X509_NAME_get0_der(X509_get_subject_name(x), &sd, &sl) == 1 &&
			    X509_NAME_get0_der(X509_get_issuer_name(x), &id, &il) == 1 && sl == il && !memcmp(sd, id, sl);
		EVP_PKEY *key = self ? X509_get0_pubkey(x) : NULL;
		pk_bool(p, F_X509AF_SELF_SIGNED, self && key && X509_verify(x, key) == 1, 0, 0);
		ERR_clear_error();
	}
	GENERAL_NAMES *sans = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; sans && i < sk_GENERAL_NAME_num(sans) && i < 256; i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, i);
		if (g->type == GEN_DNS) {
			pk_string(p, F_X509CE_DNSNAME, (const char *)ASN1_STRING_get0_data(g->d.dNSName),
				  (size_t)ASN1_STRING_length(g->d.dNSName), 0, 0);
		} else if (g->type == GEN_IPADD) {
			char a[64];
			struct sbuf sb;
			sb_init_fixed(&sb, a, sizeof a - 1);
			int l = ASN1_STRING_length(g->d.iPAddress);
			const uint8_t *b = ASN1_STRING_get0_data(g->d.iPAddress);
			if (l == 4) sb_ipv4(&sb, b);
			else if (l == 16) sb_ipv6(&sb, b);
			else continue;
			pk_string(p, F_X509CE_IPADDRESS, a, sb.len, 0, 0);
		}
	}
	GENERAL_NAMES_free(sans);
	X509_free(x);
}

/* A Certificate message: a list of DER certificates. TLS 1.3's (RFC 8446 §4.4.2) starts
 * with a request context and follows each certificate with its extensions. */
static void certificate(struct packet *p, struct cur *c, bool tls13)
{
	if (tls13) cur_skip(c, (uint8_t)rd(p, c, F__COUNT, 1));
	uint32_t total = rd(p, c, F_TLS_HANDSHAKE_CERTIFICATES_LENGTH, 3);
	struct cur all = cur_sub(c, total);
	for (int i = 0; cur_left(&all) >= 3 && i < 16; i++) {
		uint32_t n = rd(p, &all, F_TLS_HANDSHAKE_CERTIFICATE_LENGTH, 3);
		const uint8_t *der = cur_bytes(&all, n);
		if (!der) break;
		certificate_fields(p, der, n);
		if (tls13 && !cur_skip(&all, cur_be16(&all))) break;
	}
}

static void handshake_message(struct tls_state *t, struct packet *p, int dir, const uint8_t *m, size_t n)
{
	struct cur c = cur_make(m, n);
	int slot = pk_tree(p, F_TLS_HANDSHAKE, &c);
	uint8_t type = (uint8_t)rd(p, &c, F_TLS_HANDSHAKE_TYPE, 1);
	uint32_t len = rd(p, &c, F_TLS_HANDSHAKE_LENGTH, 3);
	struct cur body = cur_sub(&c, len);
	const char *name = vn_name(vn_tls_handshake_type, type, "Unknown Handshake Message");
	if (type == TLS_CLIENT_HELLO) {
		if (cur_left(&body) >= 34) { /* version, random: the key log's key */
			memcpy(t->client_random, body.pos + 2, 32);
			t->have_client_random = true;
			t->have_randoms = false;
			t->client_dir = (uint8_t)dir;
		}
		client_hello(p, &body, t->quic ? 'q' : 't');
	} else if (type == TLS_SERVER_HELLO) {
		const uint8_t *random = cur_left(&body) >= 34 ? body.pos + 2 : NULL;
		if (server_hello(t, p, &body)) {
			name = "Hello Retry Request";
		} else if (t->have_client_random && random) {
			memcpy(t->server_random, random, 32);
			t->have_randoms = true;
			if (!t->quic) tls_keys_server_hello(t, p->keylog); /* QUIC derives its own */
		}
	} else if (type == TLS_ENCRYPTED_EXTENSIONS) {
		encrypted_extensions(t, p, &body);
	} else if (type == TLS_CERTIFICATE) {
		certificate(p, &body, t->version == TLS_V1_3 || t->quic);
	} else if (type == TLS_FINISHED && !t->quic) {
		tls_keys_finished(t, p->keylog, dir); /* the records after it use the next keys */
	} else if (type == TLS_KEY_UPDATE && !t->quic) {
		tls_keys_update(t, dir);
	}
	pk_proto_end(p, slot, &c);
	if (t->quic) return; /* QUIC writes its own Info */
	struct sbuf *sb = app_info(p, version_col(t->version ? t->version : TLS_V1_0));
	if (sb) sb_puts(sb, name);
}

/* A handshake message lies in its record, or was collected from several records. */
void tls_handshake_message(struct tls_state *t, struct packet *p, int dir, const uint8_t *m, size_t n)
{
	struct pk_msg msg = pk_msg_begin(p, m, n, t->quic ? PB_DECRYPTED : PB_REASSEMBLED);
	handshake_message(t, p, dir, m, n);
	pk_msg_end(p, msg, n);
}

/* Handshake bytes of one record: whole messages are decoded, a partial one is kept until
 * the records that complete it arrive. */
static void handshake_records(struct tls_state *t, struct packet *p, int dir, const uint8_t *b, size_t n)
{
	if (t->hs_skip[dir]) { /* the rest of a message too long to collect */
		size_t k = t->hs_skip[dir] < n ? t->hs_skip[dir] : n;
		t->hs_skip[dir] -= (uint32_t)k;
		b += k;
		n -= k;
		if (!n) return;
	}
	if (t->hs_len[dir]) {
		if (app_buf_append(&t->hs[dir], &t->hs_len[dir], &t->hs_cap[dir], b, n, APP_MAX_MSG)) {
			b = t->hs[dir];
			n = t->hs_len[dir];
		} else {
			/* too long to keep (a certificate chain of 500 KB): its fields are lost, not
			 * the stream, which goes on after it by its length */
			struct cur h = cur_make(t->hs[dir], t->hs_len[dir]);
			cur_u8(&h);
			size_t total = 4 + (size_t)cur_be24(&h), have = t->hs_len[dir];
			t->hs_len[dir] = 0;
			if (h.err || total <= have) return;
			size_t rest = total - have; /* in this record and the next ones */
			if (rest >= n) {
				t->hs_skip[dir] = (uint32_t)(rest - n);
				return;
			}
			b += rest; /* the next message starts in this record */
			n -= rest;
		}
	}
	struct cur c = cur_make(b, n);
	while (cur_left(&c) >= 4) { /* type (1), length (3), body: RFC 8446 §4 */
		const uint8_t *m = c.pos;
		cur_u8(&c);
		uint32_t len = cur_be24(&c);
		if (!cur_skip(&c, len)) {
			c.pos = m; /* incomplete: kept for the next record */
			break;
		}
		tls_handshake_message(t, p, dir, m, 4 + (size_t)len);
	}
	size_t used = (size_t)(c.pos - b), rest = n - used;
	if (b == t->hs[dir]) {
		memmove(t->hs[dir], t->hs[dir] + used, rest);
		t->hs_len[dir] = (uint32_t)rest;
	} else if (rest && !app_buf_append(&t->hs[dir], &t->hs_len[dir], &t->hs_cap[dir], b + used, rest, APP_MAX_MSG)) {
		t->hs_len[dir] = 0;
	}
}

static void record_header(struct packet *p, struct cur *c)
{
	pk_tree(p, F_TLS_RECORD, c);
	rd(p, c, F_TLS_RECORD_CONTENT_TYPE, 1);
	rd(p, c, F_TLS_RECORD_VERSION, 2);
	rd(p, c, F_TLS_RECORD_LENGTH, 2);
}

/* An SSL 2.0-format ClientHello (RFC 6101 §E.2, still sent by old clients to offer TLS):
 * its 3-byte cipher specs are not TLS cipher suites, so its fingerprints count none. */
static long sslv2_client_hello(struct app_flow *a, struct packet *p, const uint8_t *b, size_t n, size_t *need)
{
	struct cur hdr = cur_make(b, n);
	size_t len = cur_be16(&hdr) & 0x7fff; /* the high bit marks SSL 2.0's 2-byte header */
	if (len < 9) return -1;
	if (n < 2 + len) {
		*need = 2 + len;
		return 0;
	}
	if (!a->tls) a->tls = xcalloc(1, sizeof *a->tls);
	struct cur c = cur_make(b, 2 + len);
	int slot = app_proto(p, F_TLS, &c);
	cur_skip(&c, 2);
	rd(p, &c, F_TLS_HANDSHAKE_TYPE, 1); /* 1, ClientHello, as the TLS message type */
	struct hello *h = hello_begin(p);
	h->version = (uint16_t)rd(p, &c, F_TLS_HANDSHAKE_VERSION, 2);
	if (pk_wants(p, F_TLS_HANDSHAKE_JA4) || pk_wants(p, F_TLS_HANDSHAKE_JA4_R)) {
		char ja4[64];
		snprintf(ja4, sizeof ja4, "t%si000000_000000000000_000000000000", ja4_version(h->version));
		pk_string(p, F_TLS_HANDSHAKE_JA4, ja4, strlen(ja4), 0, 0);
		snprintf(ja4, sizeof ja4, "t%si000000__", ja4_version(h->version));
		pk_string(p, F_TLS_HANDSHAKE_JA4_R, ja4, strlen(ja4), 0, 0);
	}
	c.pos = c.end;
	pk_proto_end(p, slot, &c);
	struct sbuf *sb = app_info(p, "SSLv2");
	if (sb) sb_puts(sb, "Client Hello");
	return (long)(2 + len);
}

/* tshark adds one TLS layer per run of records its dissector is handed — a segment's
 * payload, or a record collected from several segments — and its bytes start at the run's
 * first record: `tls[0]` is that record's content type. Later records of the run are
 * children of the same layer, which grows over them. */
static int tls_layer(struct packet *p, const struct cur *c)
{
	int slot = p->app_run_layer;
	if (slot >= 0 && slot < p->nfields && p->fields[slot].id == F_TLS) {
		p->cur_parent = (uint16_t)slot;
		p->ntrees = 0;
		return slot;
	}
	slot = app_proto(p, F_TLS, c);
	if (slot >= 0 && p->cur_buf == 0 && p->app_run && p->app_run != c->pos && pk_in_frame(p, p->app_run, 0)) {
		struct fval *f = &p->fields[slot];
		uint32_t start = (uint32_t)(p->app_run - p->data);
		if (start < f->off) {
			f->len += f->off - start;
			f->off = start;
		}
	}
	p->app_run_layer = slot;
	return slot;
}

/* An alert in the clear or decrypted: level and description (RFC 8446 §6). */
static void alert_message(struct packet *p, struct cur *c, const char *col)
{
	pk_tree(p, F_TLS_ALERT_MESSAGE, c);
	uint8_t level = (uint8_t)rd(p, c, F_TLS_ALERT_MESSAGE_LEVEL, 1);
	uint8_t desc = (uint8_t)rd(p, c, F_TLS_ALERT_MESSAGE_DESC, 1);
	struct sbuf *sb = app_info(p, col);
	if (sb)
		sb_printf(sb, "Alert (Level: %s, Description: %s)", vn_name(vn_tls_alert_level, level, "Unknown"),
			  vn_name(vn_tls_alert_desc, desc, "Unknown"));
}

/* Decrypted application data goes to the protocol ALPN chose (HTTP/2, HTTP/1.x; else
 * whatever the bytes show), as a stream of its own inside the TLS one. Its layers follow
 * TLS's, as tshark shows them. */
static void app_data(struct app_flow *a, struct tls_state *t, struct packet *p, int dir, const uint8_t *m, size_t n)
{
	if (!t->inner) {
		t->inner = xcalloc(1, sizeof *t->inner);
		if (!strcmp(t->alpn, "h2")) t->inner->proto = AP_HTTP2;
		else if (!strncmp(t->alpn, "http/1", 6)) t->inner->proto = AP_HTTP;
	}
	p->decrypted = true;
	const uint8_t *run = p->app_run;
	int run_layer = p->app_run_layer;
	uint16_t parent = p->cur_parent, layer = p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0];
	app_stream_data(&t->inner, p, dir, a->cport, a->sport, m, n);
	p->app_run = run;
	p->app_run_layer = run_layer;
	p->cur_parent = parent;
	p->layer[p->nest < PKT_MAX_DEPTH ? p->nest : 0] = layer;
	p->ntrees = 0;
}

/* A record that was decrypted: its content, whose bytes are the plaintext's. */
static void decrypted(struct app_flow *a, struct tls_state *t, struct packet *p, int dir, const uint8_t *m, size_t n,
		      uint8_t type, const char *col)
{
	struct pk_msg msg = pk_msg_begin(p, m, n, PB_DECRYPTED);
	struct sbuf *sb = NULL;
	struct cur c = cur_make(m, n);
	switch (type) {
	case TLS_HANDSHAKE:
		handshake_records(t, p, dir, m, n);
		break;
	case TLS_ALERT:
		if (n == 2) {
			alert_message(p, &c, col);
		}
		break;
	case TLS_APPLICATION_DATA: {
		/* the inner protocol's first message in a packet starts its Info afresh, as
		 * tshark's HTTP/2 replaces the TLS Info before it */
		uint8_t before = p->app_msgs;
		bool first = t->inner_frame != p->meta.number;
		if (first) p->app_msgs = 0;
		app_data(a, t, p, dir, m, n);
		if (p->app_msgs) {
			t->inner_frame = p->meta.number;
		} else {
			p->app_msgs = before; /* it showed nothing yet */
			bool partial = t->inner && (t->inner->dir[dir].len || t->inner->dir[dir].skip);
			if ((sb = app_info(p, col))) sb_puts(sb, partial ? "[TLS segment of a reassembled PDU]" : "Application Data");
		}
		break;
	}
	default:
		break;
	}
	pk_msg_end(p, msg, n);
}

/* A protected record whose secrets are not known yet, kept to be decrypted when they are. */
static void hold(struct tls_state *t, int dir, const uint8_t *rec, size_t n)
{
	if (t->held_dropped[dir]) return;
	if (!app_buf_append(&t->held[dir], &t->held_len[dir], &t->held_cap[dir], rec, n, TLS_MAX_HELD)) {
		t->held_dropped[dir] = true; /* too much before the secrets: their order is lost */
		free(t->held[dir]);
		t->held[dir] = NULL;
		t->held_len[dir] = t->held_cap[dir] = 0;
		t->dec[dir].on = false;
	}
}

/* The records held for direction dir, decrypted and decoded now (in this packet). */
static void replay_held(struct app_flow *a, struct tls_state *t, struct packet *p, int dir, const char *col)
{
	if (t->held_dropped[dir]) t->dec[dir].on = false;
	uint8_t *buf = t->held[dir];
	uint32_t n = t->held_len[dir];
	t->held[dir] = NULL;
	t->held_len[dir] = t->held_cap[dir] = 0;
	for (uint32_t off = 0; off + 5 <= n && t->dec[dir].on;) {
		uint32_t len = (uint32_t)buf[off + 3] << 8 | buf[off + 4];
		if (off + 5 + len > n) break;
		uint8_t *plain = pk_keep(p, len);
		uint8_t inner = 0;
		long pl = tls_decrypt_record(t, dir, buf + off, 5 + len, plain, &inner);
		if (pl >= 0) decrypted(a, t, p, dir, plain, (size_t)pl, inner, col);
		off += 5 + len;
	}
	free(buf);
}

long tls_take(struct app_flow *a, struct packet *p, int dir, const uint8_t *b, size_t n, size_t *need)
{
	struct cur h = cur_make(b, n);
	uint16_t first = cur_be16(&h);
	uint8_t v2_type = cur_u8(&h);
	if (!h.err && (first & 0x8000) && v2_type == TLS_CLIENT_HELLO && dir == 0 && !a->tls)
		return sslv2_client_hello(a, p, b, n, need);
	h = cur_make(b, n); /* the record header: type, version, length (RFC 8446 §5.1) */
	uint8_t type = cur_u8(&h);
	uint16_t version = cur_be16(&h);
	size_t len = cur_be16(&h);
	if (h.err) {
		*need = 5;
		return 0;
	}
	if (type < TLS_CHANGE_CIPHER_SPEC || type > TLS_HEARTBEAT || version >> 8 != 3 || (version & 0xff) > 4 ||
	    len > TLS_MAX_RECORD)
		return -1;
	if (!a->tls) a->tls = xcalloc(1, sizeof *a->tls);
	struct tls_state *t = a->tls;
	if (n < 5 + len) {
		*need = 5 + len;
		return 0;
	}
	struct cur c = cur_make(b, 5 + len);
	int slot = tls_layer(p, &c);
	record_header(p, &c);
	const char *col = version_col(t->version ? t->version : version);
	struct sbuf *sb = NULL;
	bool protected_record = type != TLS_CHANGE_CIPHER_SPEC && (type == TLS_APPLICATION_DATA || t->encrypted[dir]);
	if (protected_record && !t->keys_found && t->have_randoms && p->keylog && !t->quic) {
		if (tls_keys_late(t, p->keylog)) {
			replay_held(a, t, p, !t->client_dir, col); /* the server's flight came first */
			replay_held(a, t, p, t->client_dir, col);
		} else if (keylog_following(p->keylog)) {
			hold(t, dir, b, 5 + len);
		}
	}
	if (t->dec[dir].on && protected_record) {
		uint8_t *plain = pk_keep(p, len);
		uint8_t inner = 0;
		long pl = tls_decrypt_record(t, dir, b, 5 + len, plain, &inner);
		if (pl >= 0) {
			decrypted(a, t, p, dir, plain, (size_t)pl, inner, col);
			c.pos = c.end;
			pk_proto_end(p, slot, &c);
			return (long)(5 + len);
		}
	}
	switch (type) {
	case TLS_CHANGE_CIPHER_SPEC:
		pk_add(p, F_TLS_CHANGE_CIPHER_SPEC, 5, (uint32_t)len);
		tls_keys_change_cipher_spec(t, dir);
		/* TLS 1.3's is for middleboxes only (RFC 8446 §D.4): a second ClientHello after a
		 * HelloRetryRequest still follows in the clear */
		if (t->version != TLS_V1_3) t->encrypted[dir] = true;
		if ((sb = app_info(p, col))) sb_puts(sb, "Change Cipher Spec");
		break;
	case TLS_ALERT:
		if (t->encrypted[dir] || len != 2) {
			if ((sb = app_info(p, col))) sb_puts(sb, "Encrypted Alert");
		} else {
			alert_message(p, &c, col);
		}
		break;
	case TLS_HANDSHAKE:
		/* after ChangeCipherSpec a record is taken as encrypted unless it is exactly one
		 * well-formed handshake message (a ClientHello after a HelloRetryRequest whose
		 * server side was not captured) */
		if (t->encrypted[dir]) {
			struct cur m = cur_make(b + 5, len);
			uint8_t ht = cur_u8(&m);
			uint32_t hl = cur_be24(&m);
			if (!m.err && (ht == TLS_CLIENT_HELLO || ht == TLS_SERVER_HELLO) && hl + 4 == len)
				t->encrypted[dir] = false;
		}
		if (t->encrypted[dir]) {
			if ((sb = app_info(p, col))) sb_puts(sb, "Encrypted Handshake Message");
		} else {
			handshake_records(t, p, dir, b + 5, len);
		}
		break;
	case TLS_APPLICATION_DATA:
		pk_uint(p, F_TLS_APP_DATA_LEN, len, 5, 0);
		if ((sb = app_info(p, col))) sb_puts(sb, "Application Data");
		break;
	default:
		if ((sb = app_info(p, col))) sb_puts(sb, "Heartbeat");
		break;
	}
	c.pos = c.end;
	pk_proto_end(p, slot, &c);
	return (long)(5 + len);
}

/* ---- DTLS ---- */

static bool dtls_version(uint16_t v) { return v == DTLS_V1_0 || v == DTLS_V1_2 || v == DTLS_V1_3; }

/* Whether b[0..n) is a run of DTLS records that fills the datagram exactly. */
static bool dtls_records(const uint8_t *b, size_t n)
{
	int count = 0;
	struct cur c = cur_make(b, n);
	while (cur_left(&c)) { /* type, version, epoch (2), sequence (6), length: RFC 6347 §4.1 */
		uint8_t type = cur_u8(&c);
		uint16_t version = cur_be16(&c);
		cur_skip(&c, 8);
		uint16_t len = cur_be16(&c);
		if (c.err || type < TLS_CHANGE_CIPHER_SPEC || type > DTLS_ACK || !dtls_version(version) ||
		    !cur_skip(&c, len) || ++count > 64)
			return false;
	}
	return count > 0;
}

/* DTLS records: their headers, and the JA4 of an unfragmented ClientHello (the only DTLS
 * fields recorded so far; Wireshark files the rest under dtls.*, not tls.*). */
bool dissect_dtls(struct packet *p, struct cur *c)
{
	if (!dtls_records(c->pos, cur_left(c))) return false;
	int slot = app_proto(p, F_DTLS, c);
	struct sbuf *sb = NULL;
	bool first = true;
	while (cur_left(c) >= 13) {
		uint8_t type = pk_u8(p, c, F_DTLS_RECORD_CONTENT_TYPE);
		uint16_t version = pk_be16(p, c, F_DTLS_RECORD_VERSION);
		uint16_t epoch = pk_be16(p, c, F_DTLS_RECORD_EPOCH);
		cur_skip(c, 6);
		uint16_t len = pk_be16(p, c, F_DTLS_RECORD_LENGTH);
		struct cur r = cur_sub(c, len);
		if (first) {
			sb = pk_col(p, version == DTLS_V1_0 ? "DTLSv1.0" : version == DTLS_V1_2 ? "DTLSv1.2" : "DTLSv1.3");
			first = false;
		} else if (sb) {
			sb_puts(sb, ", ");
		}
		if (type == TLS_HANDSHAKE && epoch) {
			if (sb) sb_puts(sb, "Encrypted Handshake Message");
		} else if (type == TLS_HANDSHAKE && cur_left(&r) >= 12) {
			uint8_t ht = pk_u8(p, &r, F_DTLS_HANDSHAKE_TYPE);
			uint32_t mlen = cur_be24(&r);
			cur_skip(&r, 2);
			uint32_t foff = cur_be24(&r), flen = cur_be24(&r);
			if (sb) sb_puts(sb, vn_name(vn_tls_handshake_type, ht, "Unknown Handshake Message"));
			const uint8_t *hello = NULL;
			if (ht == TLS_CLIENT_HELLO && foff == 0 && flen == mlen && cur_left(&r) >= mlen) {
				hello = r.pos;
			} else if (ht == TLS_CLIENT_HELLO && flen <= cur_left(&r) && mlen <= APP_MAX_MSG && (uint64_t)foff + flen <= mlen) {
				/* a fragmented ClientHello: collected in order, per flow */
				struct app_flow *a = app_flow_get(p);
				if (a) {
					if (!a->tls) a->tls = xcalloc(1, sizeof *a->tls);
					struct tls_state *t = a->tls;
					int d = p->app_dir;
					if (foff == 0) t->hs_len[d] = 0;
					if (foff == t->hs_len[d] &&
					    app_buf_append(&t->hs[d], &t->hs_len[d], &t->hs_cap[d], r.pos, flen, APP_MAX_MSG) &&
					    t->hs_len[d] == mlen) {
						hello = t->hs[d];
						t->hs_len[d] = 0;
					}
				}
			}
			if (hello) {
				struct field_mask only_ja4 = { { 0 } };
				field_mask_add(&only_ja4, F_TLS_HANDSHAKE_JA4);
				field_mask_add(&only_ja4, F_TLS_HANDSHAKE_JA4_R);
				const struct field_mask *saved = p->mask;
				bool wanted = pk_wants(p, F_TLS_HANDSHAKE_JA4) || pk_wants(p, F_TLS_HANDSHAKE_JA4_R);
				p->mask = &only_ja4;
				struct pk_msg msg = pk_msg_begin(p, hello, mlen, PB_REASSEMBLED);
				struct cur body = cur_make(hello, mlen);
				if (wanted) client_hello(p, &body, 'd');
				pk_msg_end(p, msg, mlen);
				p->mask = saved;
			}
		} else if (sb) {
			sb_puts(sb, type == TLS_APPLICATION_DATA ? "Application Data" : vn_name(vn_tls_content_type, type, "Unknown"));
		}
	}
	pk_proto_end(p, slot, c);
	return true;
}
