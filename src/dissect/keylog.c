/* dissect/keylog.c — the NSS key log (SSLKEYLOGFILE) format, kept in a table keyed by
 * client random. The format is NSS's ("NSS Key Log Format", also the IETF draft
 * draft-ietf-tls-keylogfile); Wireshark reads the same lines from its preference or from
 * a pcapng Decryption Secrets Block. */
#include "dissect/keylog.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/hash.h"
#include "util/xalloc.h"

struct session {
	uint8_t random[32];
	bool used;
	uint8_t len[KL__COUNT];               /* 0: not in the log */
	uint8_t secret[KL__COUNT][KEYLOG_MAX_SECRET];
};

struct keylog {
	struct session *slots; /* open addressing, a power of two, at most half full */
	size_t cap, count;
	struct hash_seed seed;
	uint64_t generation;   /* secrets added so far: a look that failed may succeed now */
	int fd;                /* the followed file, or -1 */
	off_t pos;             /* bytes of it read */
	char part[KEYLOG_MAX_LINE + 1]; /* a line not yet ended */
	size_t npart;
	bool skipping;         /* inside a line too long to keep */
};

static const char *const label_names[KL__COUNT] = {
	[KL_CLIENT_RANDOM] = "CLIENT_RANDOM",
	[KL_CLIENT_EARLY_TRAFFIC_SECRET] = "CLIENT_EARLY_TRAFFIC_SECRET",
	[KL_CLIENT_HANDSHAKE_TRAFFIC_SECRET] = "CLIENT_HANDSHAKE_TRAFFIC_SECRET",
	[KL_SERVER_HANDSHAKE_TRAFFIC_SECRET] = "SERVER_HANDSHAKE_TRAFFIC_SECRET",
	[KL_CLIENT_TRAFFIC_SECRET_0] = "CLIENT_TRAFFIC_SECRET_0",
	[KL_SERVER_TRAFFIC_SECRET_0] = "SERVER_TRAFFIC_SECRET_0",
};

struct keylog *keylog_new(void)
{
	struct keylog *k = xcalloc(1, sizeof *k);
	k->seed = hash_seed_random();
	k->fd = -1;
	return k;
}

void keylog_free(struct keylog *k)
{
	if (!k) return;
	if (k->fd >= 0) close(k->fd);
	free(k->slots);
	free(k);
}

size_t keylog_count(const struct keylog *k) { return k ? k->count : 0; }
uint64_t keylog_generation(const struct keylog *k) { return k ? k->generation : 0; }
bool keylog_following(const struct keylog *k) { return k && k->fd >= 0; }

static struct session *slot_for(const struct keylog *k, const uint8_t random[32])
{
	if (!k->cap) return NULL;
	size_t mask = k->cap - 1;
	for (size_t i = (size_t)siphash13(&k->seed, random, 32) & mask;; i = (i + 1) & mask) {
		struct session *s = &k->slots[i];
		if (!s->used || !memcmp(s->random, random, 32)) return s;
	}
}

static void grow(struct keylog *k)
{
	struct session *old = k->slots;
	size_t oldcap = k->cap;
	k->cap = oldcap ? oldcap * 2 : 64;
	k->slots = xcalloc(k->cap, sizeof *k->slots);
	for (size_t i = 0; i < oldcap; i++)
		if (old[i].used) *slot_for(k, old[i].random) = old[i];
	free(old);
}

static struct session *insert(struct keylog *k, const uint8_t random[32])
{
	struct session *s = k->cap ? slot_for(k, random) : NULL;
	if (s && s->used) return s;
	if (k->count >= KEYLOG_MAX_SESSIONS) { /* full: start over */
		memset(k->slots, 0, k->cap * sizeof *k->slots);
		k->count = 0;
	}
	if ((k->count + 1) * 2 > k->cap) grow(k);
	s = slot_for(k, random);
	memset(s, 0, sizeof *s);
	s->used = true;
	memcpy(s->random, random, 32);
	k->count++;
	return s;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Hex digits s[0..n) into out (n / 2 bytes, at most cap); the byte count, or -1. */
static long unhex(const char *s, size_t n, uint8_t *out, size_t cap)
{
	if (n % 2 || n / 2 > cap) return -1;
	for (size_t i = 0; i < n; i += 2) {
		int hi = hexval(s[i]), lo = hexval(s[i + 1]);
		if (hi < 0 || lo < 0) return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return (long)(n / 2);
}

/* One line without its end: false when it is not a secret we keep. */
static bool add_line(struct keylog *k, const char *l, size_t n)
{
	const char *sp1 = memchr(l, ' ', n);
	if (!sp1) return false;
	size_t ll = (size_t)(sp1 - l);
	int label = -1;
	for (int i = 0; i < KL__COUNT; i++)
		if (strlen(label_names[i]) == ll && !memcmp(l, label_names[i], ll)) label = i;
	if (label < 0) return false;
	const char *r = sp1 + 1, *end = l + n;
	const char *sp2 = memchr(r, ' ', (size_t)(end - r));
	if (!sp2) return false;
	uint8_t random[32], secret[KEYLOG_MAX_SECRET];
	if (unhex(r, (size_t)(sp2 - r), random, sizeof random) != 32) return false;
	const char *v = sp2 + 1;
	while (end > v && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r')) end--;
	long sl = unhex(v, (size_t)(end - v), secret, sizeof secret);
	if (sl < 16) return false;
	struct session *s = insert(k, random);
	k->generation++;
	s->len[label] = (uint8_t)sl;
	memcpy(s->secret[label], secret, (size_t)sl);
	return true;
}

size_t keylog_add(struct keylog *k, const char *b, size_t n)
{
	size_t added = 0;
	while (n) {
		const char *nl = memchr(b, '\n', n);
		size_t ll = nl ? (size_t)(nl - b) : n;
		if (ll <= KEYLOG_MAX_LINE && ll && b[0] != '#' && add_line(k, b, ll)) added++;
		if (!nl) break;
		n -= ll + 1;
		b = nl + 1;
	}
	return added;
}

int keylog_load_file(struct keylog *k, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char line[KEYLOG_MAX_LINE + 2];
	while (fgets(line, sizeof line, f)) {
		size_t n = strlen(line);
		if (n && line[n - 1] != '\n' && !feof(f)) { /* too long: skipped to its end */
			int c;
			while ((c = fgetc(f)) != EOF && c != '\n') {}
			continue;
		}
		keylog_add(k, line, n);
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		snprintf(err, errlen, "%s: read error", path);
		return -1;
	}
	return 0;
}

int keylog_follow(struct keylog *k, const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (k->fd >= 0) close(k->fd);
	k->fd = fd;
	k->pos = 0;
	k->npart = 0;
	k->skipping = false;
	keylog_refresh(k);
	return 0;
}

void keylog_refresh(struct keylog *k)
{
	if (!k || k->fd < 0) return;
	struct stat st;
	if (fstat(k->fd, &st) < 0) return;
	if (st.st_size < k->pos) { /* truncated: read it again from the start */
		k->pos = 0;
		k->npart = 0;
		k->skipping = false;
	}
	char buf[8192];
	while (k->pos < st.st_size) {
		ssize_t n = pread(k->fd, buf, sizeof buf, k->pos);
		if (n <= 0) break;
		k->pos += n;
		for (ssize_t i = 0; i < n; i++) {
			if (buf[i] == '\n') {
				if (!k->skipping) keylog_add(k, k->part, k->npart);
				k->npart = 0;
				k->skipping = false;
			} else if (k->npart < KEYLOG_MAX_LINE) {
				k->part[k->npart++] = buf[i];
			} else {
				k->skipping = true; /* too long: not a key log line */
			}
		}
	}
}

size_t keylog_find(const struct keylog *k, enum keylog_label label, const uint8_t client_random[32],
		   uint8_t out[KEYLOG_MAX_SECRET])
{
	if (!k || !k->count) return 0;
	const struct session *s = slot_for(k, client_random);
	if (!s || !s->used || !s->len[label]) return 0;
	memcpy(out, s->secret[label], s->len[label]);
	return s->len[label];
}

void keylog_dsb(void *ctx, uint32_t type, const uint8_t *b, size_t n)
{
	if (type == KEYLOG_DSB_TLS) keylog_add(ctx, (const char *)b, n);
}
