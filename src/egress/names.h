/* egress/names.h — naming the machine's destinations from what is on the wire.
 *
 * A DNS answer names an address: the name the program asked for (a CNAME chain leads back
 * to it), kept for the answer's TTL but at least NAMES_TTL_FLOOR_S (programs keep using an
 * address past a short TTL). Answers are kept per asking program first (the process the
 * answer went to) and globally, so a lookup for a connection tries the program's own
 * answers before anyone's. A connection's own SNI or HTTP Host names it better than any
 * answer (names_best). Registrable domains come from the Public Suffix List (libpsl).
 *
 * Bounded: at most `cap` answers; past it the oldest is evicted (counted). */
#ifndef PKTSCOPE_EGRESS_NAMES_H
#define PKTSCOPE_EGRESS_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NAMES_MAX_LEN 255          /* a DNS name's text, RFC 1035 §2.3.4 */
#define NAMES_TTL_FLOOR_S 300      /* an answer names its address at least this long */
#define NAMES_DEFAULT_CAP 65536

/* Where a name came from, best last: a connection's own SNI or Host beats an answer. */
enum name_src { NSRC_NONE, NSRC_DNS, NSRC_HTTP_HOST, NSRC_SNI, NSRC_QUIC_SNI };
const char *name_src_str(enum name_src s); /* "dns", "http_host", "sni", "quic_sni", "" */

struct name_cache;
struct name_cache *names_new(size_t cap);
void names_free(struct name_cache *nc);

/* A DNS answer seen at now_s: `addr` (4 or 16 bytes) is `asked` (the question's name),
 * for `ttl` seconds, as answered to process `pid` (0: not known). */
void names_add_dns(struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, const char *asked,
		   uint32_t ttl, int64_t now_s);
/* The name an answer gave addr, the asking process's own first; NULL when none is current.
 * Valid until the next names_add_dns. */
const char *names_lookup(const struct name_cache *nc, uint32_t pid, int family, const uint8_t *addr, int64_t now_s);

struct names_stats { uint64_t entries, evicted, expired_hits; };
void names_stats(const struct name_cache *nc, struct names_stats *st);

/* The registrable domain of name ("www.example.co.uk" → "example.co.uk") into out, from
 * the Public Suffix List; the name itself when it has none (an address, a single label, a
 * public suffix). */
void names_registrable(const struct name_cache *nc, const char *name, char *out, size_t cap);

#endif
