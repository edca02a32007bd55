/* egress/geo.c — .mmdb lookups (see geo.h). */
#include "egress/geo.h"

#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include "util/xalloc.h"

struct geo {
	MMDB_s country, asn;
	bool have_country, have_asn;
};

static int open_db(MMDB_s *db, const char *path, const char *what, char *err, size_t errlen)
{
	int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
	if (rc == MMDB_SUCCESS) return 0;
	snprintf(err, errlen, "%s database %s: %s", what, path,
		 rc == MMDB_IO_ERROR ? "cannot be read" : MMDB_strerror(rc));
	return -1;
}

struct geo *geo_open(const char *country_db, const char *asn_db, char *err, size_t errlen)
{
	struct geo *g = xcalloc(1, sizeof *g);
	if (country_db && *country_db) {
		if (open_db(&g->country, country_db, "country", err, errlen) < 0) {
			free(g);
			return NULL;
		}
		g->have_country = true;
	}
	if (asn_db && *asn_db) {
		if (open_db(&g->asn, asn_db, "ASN", err, errlen) < 0) {
			geo_close(g);
			return NULL;
		}
		g->have_asn = true;
	}
	return g;
}

int geo_verify(const char *path, const char *kind, char *desc, size_t desclen, char *err, size_t errlen)
{
	MMDB_s db;
	if (open_db(&db, path, kind, err, errlen) < 0) return -1;
	const char *type = db.metadata.database_type ? db.metadata.database_type : "";
	bool country = !strcmp(kind, "country");
	bool ok = country ? strstr(type, "Country") || strstr(type, "City") : strstr(type, "ASN") != NULL;
	if (!ok) snprintf(err, errlen, "%s is a \"%s\" database, not a%s one", path, type, country ? " country" : "n ASN");
	else {
		time_t t = (time_t)db.metadata.build_epoch;
		struct tm tm;
		char when[32] = "?";
		if (gmtime_r(&t, &tm)) strftime(when, sizeof when, "%Y-%m-%d", &tm);
		snprintf(desc, desclen, "%s, built %s, %llu nodes", type, when, (unsigned long long)db.metadata.node_count);
	}
	MMDB_close(&db);
	return ok ? 0 : -1;
}

void geo_close(struct geo *g)
{
	if (!g) return;
	if (g->have_country) MMDB_close(&g->country);
	if (g->have_asn) MMDB_close(&g->asn);
	free(g);
}

static bool in4(const uint8_t *a, uint32_t net, int bits)
{
	uint32_t v = (uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];
	return bits == 0 || (v >> (32 - bits)) == (net >> (32 - bits));
}

bool geo_is_global(int family, const uint8_t *a)
{
	if (family == 6) {
		static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
		if (!memcmp(a, mapped, 12)) return geo_is_global(4, a + 12);
		if ((a[0] & 0xe0) != 0x20) return false; /* only 2000::/3 is global unicast */
		if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8) return false; /* 2001:db8::/32 */
		if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x00 && a[3] < 0x02) return false; /* 2001::/23 special */
		if (a[0] == 0x20 && a[1] == 0x02) return false; /* 6to4 */
		return true;
	}
	static const struct { uint32_t net; int bits; } special[] = {
		{ 0x00000000, 8 },  { 0x0a000000, 8 },  { 0x64400000, 10 }, { 0x7f000000, 8 },  { 0xa9fe0000, 16 },
		{ 0xac100000, 12 }, { 0xc0000000, 24 }, { 0xc0000200, 24 }, { 0xc0586300, 24 }, { 0xc0a80000, 16 },
		{ 0xc6120000, 15 }, { 0xc6336400, 24 }, { 0xcb007100, 24 }, { 0xe0000000, 4 },  { 0xf0000000, 4 },
	};
	for (size_t i = 0; i < sizeof special / sizeof special[0]; i++)
		if (in4(a, special[i].net, special[i].bits)) return false;
	return true;
}

static int lookup(const MMDB_s *db, int family, const uint8_t *addr, MMDB_lookup_result_s *res)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	if (family == 4) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		memcpy(&s4->sin_addr, addr, 4);
	} else {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		memcpy(&s6->sin6_addr, addr, 16);
	}
	int mmdb_err = 0;
	*res = MMDB_lookup_sockaddr((MMDB_s *)db, (const struct sockaddr *)&ss, &mmdb_err);
	return mmdb_err == MMDB_SUCCESS && res->found_entry ? 0 : -1;
}

bool geo_lookup(const struct geo *g, int family, const uint8_t *addr, struct geo_result *r)
{
	memset(r, 0, sizeof *r);
	if (!g || !geo_is_global(family, addr)) return false;
	bool any = false;
	MMDB_lookup_result_s res;
	MMDB_entry_data_s d;
	if (g->have_country && lookup(&g->country, family, addr, &res) == 0) {
		/* the country the address is in; a registered one when the file has only that */
		if ((MMDB_get_value(&res.entry, &d, "country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data) ||
		    (MMDB_get_value(&res.entry, &d, "registered_country", "iso_code", NULL) == MMDB_SUCCESS && d.has_data)) {
			if (d.type == MMDB_DATA_TYPE_UTF8_STRING && d.data_size == 2) {
				memcpy(r->country, d.utf8_string, 2);
				any = true;
			}
		}
	}
	if (g->have_asn && lookup(&g->asn, family, addr, &res) == 0) {
		if (MMDB_get_value(&res.entry, &d, "autonomous_system_number", NULL) == MMDB_SUCCESS && d.has_data &&
		    d.type == MMDB_DATA_TYPE_UINT32) {
			r->asn = d.uint32;
			any = true;
		}
		if (MMDB_get_value(&res.entry, &d, "autonomous_system_organization", NULL) == MMDB_SUCCESS && d.has_data &&
		    d.type == MMDB_DATA_TYPE_UTF8_STRING) {
			size_t n = d.data_size < sizeof r->as_org - 1 ? d.data_size : sizeof r->as_org - 1;
			memcpy(r->as_org, d.utf8_string, n);
			r->as_org[n] = '\0';
		}
	}
	return any;
}
