/* dissect/keylog.h — TLS secrets for decryption: the NSS key log format that browsers,
 * curl and OpenSSL write when SSLKEYLOGFILE is set, read from a file (--tls-keylog) or from
 * a pcapng Decryption Secrets Block, and looked up by a handshake's client random.
 *
 * One line per secret: LABEL <client random, 64 hex digits> <secret, hex>. The labels
 * kept are TLS 1.3's traffic secrets (RFC 8446 §7.1) and CLIENT_RANDOM, the TLS 1.2 master
 * secret; the others are read and ignored. Bounded: at most KEYLOG_MAX_SESSIONS handshakes
 * (a full log starts over with the next one), a line longer than KEYLOG_MAX_LINE is skipped.
 */
#ifndef PKTSCOPE_DISSECT_KEYLOG_H
#define PKTSCOPE_DISSECT_KEYLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KEYLOG_MAX_SESSIONS 65536
#define KEYLOG_MAX_LINE 512
#define KEYLOG_MAX_SECRET 48 /* SHA-384's length, and the TLS 1.2 master secret's */

enum keylog_label {
	KL_CLIENT_RANDOM,                    /* TLS <= 1.2: the master secret */
	KL_CLIENT_EARLY_TRAFFIC_SECRET,
	KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET,
	KL_SERVER_HANDSHAKE_TRAFFIC_SECRET,
	KL_CLIENT_TRAFFIC_SECRET_0,
	KL_SERVER_TRAFFIC_SECRET_0,
	KL__COUNT
};

struct keylog;

struct keylog *keylog_new(void);
void keylog_free(struct keylog *k);
/* Takes key log text (whole lines; a line cut at the end of b is taken as it stands).
 * Returns the number of secrets added or replaced. */
size_t keylog_add(struct keylog *k, const char *b, size_t n);
/* Reads a key log file. 0, or -1 with the reason in err. */
int keylog_load_file(struct keylog *k, const char *path, char *err, size_t errlen);
/* Follows a key log file being written (a browser's SSLKEYLOGFILE during a live capture):
 * opens it now — before privileges are given up — and reads what it holds; then
 * keylog_refresh reads the lines appended since. 0, or -1 with the reason in err. */
int keylog_follow(struct keylog *k, const char *path, char *err, size_t errlen);
/* Reads the whole lines added to the followed file since the last call (from the start
 * again when the file was truncated); nothing when no file is followed. */
void keylog_refresh(struct keylog *k);
/* The secret of `label` for the handshake whose ClientHello had client_random: its
 * length (copied to out), or 0 when the log has none. */
size_t keylog_find(const struct keylog *k, enum keylog_label label, const uint8_t client_random[32],
		   uint8_t out[KEYLOG_MAX_SECRET]);
/* Handshakes known. */
size_t keylog_count(const struct keylog *k);
/* Changes whenever secrets are added: a handshake whose secrets were missing is looked up
 * again only then. */
uint64_t keylog_generation(const struct keylog *k);
/* Whether a file is followed (keylog_follow): its secrets may come after their packets. */
bool keylog_following(const struct keylog *k);

/* A Decryption Secrets Block's payload for the pipeline: type is the block's secrets
 * type; TLS key logs (0x544c534b) are taken, others ignored. ctx is a struct keylog. */
#define KEYLOG_DSB_TLS 0x544c534bu
void keylog_dsb(void *ctx, uint32_t type, const uint8_t *b, size_t n);

#endif
