/* egress/names.c — the DNS answer cache and registrable domains (see names.h). */
#include "egress/names.h"

#include <arpa/inet.h>

#include <libpsl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/hash.h"
#include "util/xalloc.h"

#define NONE UINT32_MAX

struct answer {
	uint32_t pid;          /* the asking process; 0: the global entry */
	uint8_t family;
	uint8_t addr[16];
	int64_t expires_s;
	uint32_t next;         /* the next answer in its bucket */
	uint32_t bucket;
	bool used;
	char name[NAMES_MAX_LEN + 1];
};

struct name_cache {
	struct answer *a;      /* a ring: when full, the oldest is replaced */
	uint32_t cap, ring;
	uint64_t entries, evicted;
	uint32_t *buckets;     /* heads; a power of two, at least twice cap */
	uint32_t mask;
	struct hash_seed seed;
	const psl_ctx_t *psl;   /* the system's list (publicsuffix), else libpsl's own */
	psl_ctx_t *psl_owned;
};

const char *name_src_str(enum name_src s)
{
	switch (s) {
	case NSRC_DNS: return "dns";
	case NSRC_HTTP_HOST: return "http_host";
	case NSRC_SNI: return "sni";
	case NSRC_QUIC_SNI: return "quic_sni";
	case NSRC_NONE: break;
	}
	return "";
}

struct name_cache *names_new(size_t cap)
{
	struct name_cache *nc = xcalloc(1, sizeof *nc);
	nc->cap = cap ? (uint32_t)cap : NAMES_DEFAULT_CAP;
	nc->a = xcalloc(nc->cap, sizeof *nc->a);
	uint32_t nb = 16;
	while (nb < 2 * nc->cap) nb *= 2;
	nc->buckets = xmalloc(nb * sizeof *nc->buckets);
	memset(nc->buckets, 0xff, nb * sizeof *nc->buckets);
	nc->mask = nb - 1;
	nc->seed = hash_seed_random();
	nc->psl = nc->psl_owned = psl_latest(NULL);
	if (!nc->psl) nc->psl = psl_builtin();
	return nc;
}

void names_free(struct name_cache *nc)
{
	if (!nc) return;
	free(nc->a);
	free(nc->buckets);
	psl_free(nc->psl_owned);
	free(nc);
}

static uint32_t bucket_of(const struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr)
{
	uint8_t key[21];
	memcpy(key, &pid, 4);
	key[4] = (uint8_t)family;
	memset(key + 5, 0, 16);
	memcpy(key + 5, addr, family == 4 ? 4 : 16);
	return (uint32_t)siphash13(&nc->seed, key, sizeof key) & nc->mask;
}

static struct answer *find(const struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, uint32_t b)
{
	size_t n = family == 4 ? 4 : 16;
	for (uint32_t i = nc->buckets[b]; i != NONE; i = nc->a[i].next) {
		struct answer *e = &nc->a[i];
		if (e->pid == pid && e->family == family && !memcmp(e->addr, addr, n)) return e;
	}
	return NULL;
}

static void unlink_answer(struct name_cache *nc, uint32_t i)
{
	uint32_t *p = &nc->buckets[nc->a[i].bucket];
	while (*p != i) p = &nc->a[*p].next;
	*p = nc->a[i].next;
	nc->a[i].used = false;
	nc->entries--;
}

static void put(struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, const char *name, int64_t expires)
{
	uint32_t b = bucket_of(nc, pid, family, addr);
	struct answer *e = find(nc, pid, family, addr, b);
	if (!e) {
		uint32_t i = nc->ring;
		nc->ring = (nc->ring + 1) % nc->cap;
		if (nc->a[i].used) {
			unlink_answer(nc, i);
			nc->evicted++;
		}
		e = &nc->a[i];
		e->pid = pid;
		e->family = (uint8_t)family;
		memset(e->addr, 0, sizeof e->addr);
		memcpy(e->addr, addr, family == 4 ? 4 : 16);
		e->bucket = b;
		e->next = nc->buckets[b];
		e->used = true;
		nc->buckets[b] = i;
		nc->entries++;
	}
	snprintf(e->name, sizeof e->name, "%s", name);
	e->expires_s = expires;
}

void names_add_dns(struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, const char *asked,
		   uint32_t ttl, int64_t now_s)
{
	if ((family != 4 && family != 6) || !asked || !*asked) return;
	int64_t expires = now_s + (ttl > NAMES_TTL_FLOOR_S ? ttl : NAMES_TTL_FLOOR_S);
	if (pid) put(nc, pid, family, addr, asked, expires);
	put(nc, 0, family, addr, asked, expires);
}

const char *names_lookup(const struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, int64_t now_s)
{
	if (family != 4 && family != 6) return NULL;
	const struct answer *e = pid ? find(nc, pid, family, addr, bucket_of(nc, pid, family, addr)) : NULL;
	if (!e || e->expires_s < now_s) e = find(nc, 0, family, addr, bucket_of(nc, 0, family, addr));
	return e && e->expires_s >= now_s ? e->name : NULL;
}

void names_stats(const struct name_cache *nc, struct names_stats *st)
{
	st->entries = nc->entries;
	st->evicted = nc->evicted;
	st->expired_hits = 0;
}

void names_registrable(const struct name_cache *nc, const char *name, char *out, size_t cap)
{
	char lower[NAMES_MAX_LEN + 1];
	size_t n = 0;
	for (; name[n] && n < NAMES_MAX_LEN; n++) lower[n] = (char)(name[n] >= 'A' && name[n] <= 'Z' ? name[n] + 32 : name[n]);
	while (n && lower[n - 1] == '.') n--; /* the root's dot */
	lower[n] = '\0';
	/* an address (a Host header or SNI that names one) has no domain: itself */
	uint8_t a[16];
	const char *r = NULL;
	if (inet_pton(AF_INET, lower, a) != 1 && inet_pton(AF_INET6, lower, a) != 1 && nc->psl)
		r = psl_registrable_domain(nc->psl, lower);
	snprintf(out, cap, "%s", r ? r : lower);
}
