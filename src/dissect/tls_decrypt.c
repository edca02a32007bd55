/* dissect/tls_decrypt.c — TLS record decryption with secrets from a key log
 * (dissect/keylog.h): TLS 1.3 (RFC 8446 §5.2, §7) from its traffic secrets, with key
 * updates, and TLS 1.2 AEAD suites (RFC 5288 AES-GCM, RFC 7905 ChaCha20-Poly1305) from the
 * master secret (RFC 5246 §6.3). CBC suites and TLS 1.0/1.1 are not decrypted. The key
 * schedule's HKDF-Expand-Label and the AEAD are shared with QUIC (dissect/quic.c). */
#include "dissect/app_internal.h"
#include "dissect/keylog.h"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <string.h>

void tls13_expand_label(const EVP_MD *md, const uint8_t *secret, size_t slen, const char *label, uint8_t *out,
			size_t olen)
{
	/* HkdfLabel (RFC 8446 §7.1): length (2), "tls13 " + label (1 + n), empty context (1) */
	uint8_t info[80];
	size_t ll = strlen(label), k = 0;
	if (ll > sizeof info - 12) ll = sizeof info - 12;
	info[k++] = (uint8_t)(olen >> 8);
	info[k++] = (uint8_t)olen;
	info[k++] = (uint8_t)(6 + ll);
	memcpy(info + k, "tls13 ", 6);
	k += 6;
	memcpy(info + k, label, ll);
	k += ll;
	info[k++] = 0;
	/* HKDF-Expand (RFC 5869 §2.3): T(i) = HMAC(PRK, T(i-1) | info | i) */
	uint8_t t[EVP_MAX_MD_SIZE], in[EVP_MAX_MD_SIZE + sizeof info + 1];
	unsigned int tl = 0;
	size_t done = 0;
	for (uint8_t i = 1; done < olen; i++) {
		size_t n = 0;
		memcpy(in, t, tl);
		n += tl;
		memcpy(in + n, info, k);
		n += k;
		in[n++] = i;
		HMAC(md, secret, (int)slen, in, n, t, &tl);
		if (!tl) return;
		size_t c = olen - done < tl ? olen - done : tl;
		memcpy(out + done, t, c);
		done += c;
	}
}

bool tls_aead_open(const EVP_CIPHER *cipher, const uint8_t *key, const uint8_t nonce[12], const uint8_t *aad,
		   size_t aadlen, const uint8_t *ct, size_t ctlen, uint8_t *out)
{
	if (ctlen < 16 || ctlen > INT32_MAX) return false;
	EVP_CIPHER_CTX *x = EVP_CIPHER_CTX_new();
	int l = 0, l2 = 0;
	bool ok = x && EVP_DecryptInit_ex(x, cipher, NULL, NULL, NULL) == 1 &&
		  EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_IVLEN, 12, NULL) == 1 &&
		  EVP_DecryptInit_ex(x, NULL, NULL, key, nonce) == 1 &&
		  EVP_DecryptUpdate(x, NULL, &l, aad, (int)aadlen) == 1 &&
		  EVP_DecryptUpdate(x, out, &l, ct, (int)(ctlen - 16)) == 1 &&
		  EVP_CIPHER_CTX_ctrl(x, EVP_CTRL_AEAD_SET_TAG, 16, (void *)(ct + ctlen - 16)) == 1 &&
		  EVP_DecryptFinal_ex(x, out + l, &l2) == 1;
	EVP_CIPHER_CTX_free(x);
	return ok;
}

/* What a cipher suite needs: its AEAD, key length, hash, and for TLS 1.2 the implicit
 * nonce's length (4 for GCM's salt, 12 for ChaCha20-Poly1305's whole nonce). */
struct suite {
	const EVP_CIPHER *cipher;
	const EVP_MD *md;
	uint8_t klen, fixed_iv;
};

static bool suite_of(uint16_t id, struct suite *s)
{
	switch (id) {
	case 0x1301: case 0x009c: case 0x009e: case 0xc02b: case 0xc02f: /* AES-128-GCM, SHA-256 */
		*s = (struct suite){ EVP_aes_128_gcm(), EVP_sha256(), 16, 4 };
		return true;
	case 0x1302: case 0x009d: case 0x009f: case 0xc02c: case 0xc030: /* AES-256-GCM, SHA-384 */
		*s = (struct suite){ EVP_aes_256_gcm(), EVP_sha384(), 32, 4 };
		return true;
	case 0x1303: case 0xcca8: case 0xcca9: case 0xccaa: /* ChaCha20-Poly1305, SHA-256 */
		*s = (struct suite){ EVP_chacha20_poly1305(), EVP_sha256(), 32, 12 };
		return true;
	default:
		return false;
	}
}

/* A direction's keys from a TLS 1.3 traffic secret (RFC 8446 §7.3); sequence from 0. */
static void keys13(struct tls_dec *d, const struct suite *s, const uint8_t *secret, size_t slen)
{
	memcpy(d->secret, secret, slen);
	d->slen = (uint8_t)slen;
	tls13_expand_label(s->md, secret, slen, "key", d->key, s->klen);
	tls13_expand_label(s->md, secret, slen, "iv", d->iv, 12);
	d->seq = 0;
	d->on = true;
	d->pending = false;
	d->tls12 = false;
}

/* The direction that sent the ClientHello is the TLS client. */
static int role_dir(const struct tls_state *t, bool server) { return server ? !t->client_dir : t->client_dir; }

void tls_keys_server_hello(struct tls_state *t, const struct keylog *k)
{
	struct suite s;
	if (!k || !t->have_randoms || !suite_of(t->cipher, &s)) return;
	t->key_gen = keylog_generation(k);
	uint8_t secret[KEYLOG_MAX_SECRET];
	if (t->version == TLS_V1_3) {
		size_t n;
		if ((n = keylog_find(k, KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET, t->client_random, secret))) {
			keys13(&t->dec[role_dir(t, false)], &s, secret, n);
			t->keys_found = true;
		}
		if ((n = keylog_find(k, KL_SERVER_HANDSHAKE_TRAFFIC_SECRET, t->client_random, secret))) {
			keys13(&t->dec[role_dir(t, true)], &s, secret, n);
			t->keys_found = true;
		}
		return;
	}
	if (t->version != TLS_V1_2 || keylog_find(k, KL_CLIENT_RANDOM, t->client_random, secret) != 48) return;
	/* key_block = PRF(master_secret, "key expansion", server_random + client_random)
	 * (RFC 5246 §6.3): client key, server key, client IV, server IV for AEAD suites */
	uint8_t seed[64], block[2 * 32 + 2 * 12];
	memcpy(seed, t->server_random, 32);
	memcpy(seed + 32, t->client_random, 32);
	size_t need = 2u * s.klen + 2u * s.fixed_iv;
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "TLS1-PRF", NULL);
	EVP_KDF_CTX *kc = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)EVP_MD_get0_name(s.md), 0),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SECRET, secret, 48),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, "key expansion", 13),
		OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SEED, seed, sizeof seed),
		OSSL_PARAM_construct_end(),
	};
	bool ok = kc && EVP_KDF_derive(kc, block, need, params) == 1;
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
	if (!ok) return;
	t->keys_found = true;
	for (int server = 0; server < 2; server++) {
		struct tls_dec *d = &t->dec[role_dir(t, server)];
		memcpy(d->key, block + (size_t)server * s.klen, s.klen);
		memset(d->iv, 0, sizeof d->iv);
		memcpy(d->iv, block + 2u * s.klen + (size_t)server * s.fixed_iv, s.fixed_iv);
		d->seq = 0;
		d->tls12 = true;
		d->pending = true; /* from the ChangeCipherSpec this side sends */
		d->on = false;
	}
}

bool tls_keys_late(struct tls_state *t, const struct keylog *k)
{
	if (t->keys_found || !t->have_randoms || keylog_generation(k) == t->key_gen) return false;
	tls_keys_server_hello(t, k);
	if (!t->keys_found) return false;
	/* TLS 1.2: a side whose ChangeCipherSpec went by while its keys were not known */
	for (int d = 0; d < 2; d++)
		if (t->dec[d].pending && t->encrypted[d]) tls_keys_change_cipher_spec(t, d);
	return true;
}

void tls_keys_change_cipher_spec(struct tls_state *t, int dir)
{
	struct tls_dec *d = &t->dec[dir];
	if (!d->pending) return;
	d->pending = false;
	d->on = true;
	d->seq = 0;
}

void tls_keys_finished(struct tls_state *t, const struct keylog *k, int dir)
{
	struct suite s;
	uint8_t secret[KEYLOG_MAX_SECRET];
	if (t->version != TLS_V1_3 || !t->dec[dir].on || !suite_of(t->cipher, &s)) return;
	bool server = dir != t->client_dir;
	size_t n = keylog_find(k, server ? KL_SERVER_TRAFFIC_SECRET_0 : KL_CLIENT_TRAFFIC_SECRET_0, t->client_random,
			       secret);
	if (n) keys13(&t->dec[dir], &s, secret, n);
	else t->dec[dir].on = false;
}

void tls_keys_update(struct tls_state *t, int dir)
{
	struct suite s;
	struct tls_dec *d = &t->dec[dir];
	if (t->version != TLS_V1_3 || !d->on || !suite_of(t->cipher, &s)) return;
	uint8_t next[KEYLOG_MAX_SECRET];
	tls13_expand_label(s.md, d->secret, d->slen, "traffic upd", next, d->slen); /* RFC 8446 §7.2 */
	keys13(d, &s, next, d->slen);
}

long tls_decrypt_record(struct tls_state *t, int dir, const uint8_t *rec, size_t n, uint8_t *out, uint8_t *type)
{
	struct tls_dec *d = &t->dec[dir];
	struct suite s;
	if (!d->on || n < 5 || !suite_of(t->cipher, &s)) return -1;
	const uint8_t *body = rec + 5;
	size_t blen = n - 5;
	uint8_t nonce[12];
	if (d->tls12) {
		/* GCM: salt + the record's explicit 8-byte nonce; ChaCha20: IV xor sequence.
		 * Additional data: sequence, type, version, plaintext length (RFC 5246 §6.2.3.3) */
		size_t explicit_len = s.fixed_iv == 4 ? 8 : 0;
		if (blen < explicit_len + 16) return -1;
		memcpy(nonce, d->iv, 12);
		if (explicit_len) memcpy(nonce + 4, body, 8);
		else
			for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(d->seq >> (8 * i));
		size_t plen = blen - explicit_len - 16;
		uint8_t aad[13];
		for (int i = 0; i < 8; i++) aad[i] = (uint8_t)(d->seq >> (56 - 8 * i));
		aad[8] = rec[0];
		aad[9] = rec[1];
		aad[10] = rec[2];
		aad[11] = (uint8_t)(plen >> 8);
		aad[12] = (uint8_t)plen;
		if (!tls_aead_open(s.cipher, d->key, nonce, aad, sizeof aad, body + explicit_len, blen - explicit_len, out))
			return -1;
		d->seq++;
		*type = rec[0];
		return (long)plen;
	}
	/* TLS 1.3: nonce = IV xor sequence, additional data = the record header; the content
	 * type is the last non-zero byte of the plaintext (RFC 8446 §5.2, §5.3) */
	memcpy(nonce, d->iv, 12);
	for (int i = 0; i < 8; i++) nonce[11 - i] ^= (uint8_t)(d->seq >> (8 * i));
	if (!tls_aead_open(s.cipher, d->key, nonce, rec, 5, body, blen, out)) return -1;
	d->seq++;
	size_t plen = blen - 16;
	while (plen && !out[plen - 1]) plen--;
	if (!plen) return -1; /* all padding: no content type */
	*type = out[--plen];
	return (long)plen;
}
