/* egress/geo.h — country and ASN of a global address, from MaxMind-format (.mmdb) files
 * through libmaxminddb: GeoLite2 / GeoIP2 Country or City files and the DB-IP lite files
 * `pktscope geoip update` fetches. Non-global addresses (private, loopback, CGNAT,
 * link-local, documentation, multicast, ...) are never looked up. */
#ifndef PKTSCOPE_EGRESS_GEO_H
#define PKTSCOPE_EGRESS_GEO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct geo;

struct geo_result {
	char country[3];      /* ISO 3166-1 alpha-2, "" when unknown */
	uint32_t asn;         /* 0 when unknown */
	char as_org[128];
};

/* Opens the files given (either may be NULL). NULL with the reason in err when a file
 * given cannot be opened or is not a MaxMind database. */
struct geo *geo_open(const char *country_db, const char *asn_db, char *err, size_t errlen);
void geo_close(struct geo *g);
/* Fills r for addr (4 or 16 bytes); false, r empty, when addr is not global or unknown. */
bool geo_lookup(const struct geo *g, int family, const uint8_t *addr, struct geo_result *r);
/* Whether addr is a global unicast address (not private, loopback, CGNAT, link-local,
 * documentation, benchmarking, multicast, reserved; for IPv6 also ULA, and an
 * IPv4-mapped address as its IPv4). */
bool geo_is_global(int family, const uint8_t *addr);
/* Whether path is a MaxMind-format database of kind "country" (a Country or City file) or
 * "asn"; 0 with its type and build date in desc, or -1 with the reason in err. */
int geo_verify(const char *path, const char *kind, char *desc, size_t desclen, char *err, size_t errlen);

#endif
