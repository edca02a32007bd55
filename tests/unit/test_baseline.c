/* Unit tests for the baseline and its five signals (egress/baseline.h), driven by a
 * simulated clock: days pass in microseconds. Country and ASN come from the corpus's
 * MaxMind test databases through geo.h, as the monitor looks them up. Also: the store
 * round trip (a restart continues the baseline), dpkg's database. argv[1]: the corpus. */
#include "helpers.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "egress/baseline.h"
#include "egress/geo.h"
#include "egress/ident.h"
#include "egress/store.h"

static const char *corpus;

#define DAY 86400000LL
#define T0 1764547200000LL /* 2025-12-01T00:00:00Z */

struct rec {
	struct bl_alert a[64];
	int n, info, changes, seen, volume;
	char last_change_how[32];
	int64_t learning;
};

static void on_alert(void *ctx, const struct bl_alert *a)
{
	struct rec *r = ctx;
	if (a->severity == BL_INFO) r->info++;
	if (r->n < 64) r->a[r->n] = *a;
	r->n++;
}
static void on_change(void *ctx, const char *p, const char *o, const char *n, const char *how, const char *d, uint64_t id, int64_t ms)
{
	(void)p, (void)o, (void)n, (void)d, (void)id, (void)ms;
	struct rec *r = ctx;
	r->changes++;
	snprintf(r->last_change_how, sizeof r->last_change_how, "%s", how);
}
static void on_seen(void *ctx, const char *p, const char *k, const char *v, int64_t ms)
{
	(void)p, (void)k, (void)v, (void)ms;
	((struct rec *)ctx)->seen++;
}
static void on_learning(void *ctx, int64_t ms) { ((struct rec *)ctx)->learning = ms; }

static struct baseline *mk(struct rec *r, struct bl_config *c)
{
	memset(r, 0, sizeof *r);
	struct bl_sink s = { .ctx = r, .alert = on_alert, .change = on_change, .seen = on_seen, .learning = on_learning };
	return baseline_new(c, &s);
}

static struct bl_conn conn(const char *prog, const char *name, const char *reg, const char *addr)
{
	return (struct bl_conn){ .program = prog, .name = strrchr(prog, '/') ? strrchr(prog, '/') + 1 : prog, .exe = prog,
				 .pid = 42, .addr = addr, .dest_name = name, .name_source = name ? "sni" : NULL,
				 .registrable = reg, .proto = 6, .port = 443, .community_id = "1:abc" };
}

static void test_learning_and_destinations(void **state)
{
	(void)state;
	struct bl_config c;
	bl_config_default(&c);
	struct rec r;
	struct baseline *b = mk(&r, &c);
	struct bl_conn x = conn("/usr/bin/curl", "www.example.com", "example.com", "93.184.216.34");
	baseline_connection(b, &x, T0);
	assert_int_equal(r.learning, T0);
	assert_false(baseline_active(b, T0 + 6 * DAY));
	/* during learning: new programs and destinations, no alert */
	struct bl_conn y = conn("/usr/bin/curl", "api.other.org", "other.org", "198.18.0.1");
	baseline_connection(b, &y, T0 + DAY);
	assert_int_equal(r.n, 0);
	assert_true(baseline_active(b, T0 + 7 * DAY));
	/* after: a known destination is quiet, a new one alerts once */
	baseline_connection(b, &x, T0 + 8 * DAY);
	assert_int_equal(r.n, 0);
	struct bl_conn z = conn("/usr/bin/curl", "cdn.third.net", "third.net", "198.18.0.2");
	baseline_connection(b, &z, T0 + 8 * DAY);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].kind, BL_NEW_DEST);
	assert_int_equal(r.a[0].severity, BL_NOTICE);
	assert_int_equal(r.a[0].id, 1);
	assert_string_equal(r.a[0].title, "curl contacted a new destination: third.net");
	assert_non_null(strstr(r.a[0].evidence, "\"name\":\"cdn.third.net\""));
	assert_non_null(strstr(r.a[0].evidence, "\"name_source\":\"sni\""));
	baseline_connection(b, &z, T0 + 8 * DAY + 1000);
	struct bl_conn z2 = conn("/usr/bin/curl", "img.third.net", "third.net", "198.18.0.3"); /* same domain */
	baseline_connection(b, &z2, T0 + 8 * DAY + 2000);
	assert_int_equal(r.n, 1);
	/* unnamed: the address is the destination */
	struct bl_conn u = conn("/usr/bin/curl", NULL, NULL, "198.18.9.9");
	baseline_connection(b, &u, T0 + 9 * DAY);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.a[1].title, "curl contacted a new destination: 198.18.9.9");
	/* a program marked known, and a program and destination */
	baseline_known_add(b, "/usr/bin/curl", "fourth.io");
	struct bl_conn k = conn("/usr/bin/curl", "x.fourth.io", "fourth.io", "198.18.0.4");
	baseline_connection(b, &k, T0 + 9 * DAY);
	assert_int_equal(r.n, 2);
	baseline_known_add(b, "/usr/bin/curl", NULL);
	struct bl_conn k2 = conn("/usr/bin/curl", "x.fifth.io", "fifth.io", "198.18.0.5");
	baseline_connection(b, &k2, T0 + 9 * DAY);
	assert_int_equal(r.n, 2);
	struct bl_stats st;
	baseline_stats(b, &st);
	assert_int_equal(st.suppressed_known, 2);
	baseline_free(b);
}

static void test_new_program(void **state)
{
	(void)state;
	struct bl_config c;
	bl_config_default(&c);
	c.learning_ms = 5000;
	struct rec r;
	struct baseline *b = mk(&r, &c);
	struct bl_conn x = conn("/usr/bin/curl", "www.example.com", "example.com", "93.184.216.34");
	baseline_connection(b, &x, T0);
	struct bl_conn n = conn("/tmp/dropper", "www.example.com", "example.com", "93.184.216.34");
	baseline_connection(b, &n, T0 + 6000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].kind, BL_NEW_PROGRAM);
	assert_int_equal(r.a[0].severity, BL_WARNING);
	assert_string_equal(r.a[0].title, "dropper made its first outbound connection (to www.example.com)");
	/* its next destinations in the hour after: learned quietly */
	struct bl_conn n2 = conn("/tmp/dropper", "evil.example.net", "example.net", "198.18.1.1");
	baseline_connection(b, &n2, T0 + 60000);
	assert_int_equal(r.n, 1);
	/* past the hour, a new one alerts */
	struct bl_conn n3 = conn("/tmp/dropper", "more.example.org", "example.org", "198.18.1.2");
	baseline_connection(b, &n3, T0 + 2 * 3600000);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.a[1].kind, BL_NEW_DEST);
	baseline_free(b);
}

static void a4(uint8_t *a, const char *s) { assert_int_equal(inet_pton(AF_INET, s, a), 1); }

static void test_geo(void **state)
{
	(void)state;
	char cdb[1024], adb[1024], err[512];
	snprintf(cdb, sizeof cdb, "%s/maxmind/test-data/GeoIP2-Country-Test.mmdb", corpus);
	snprintf(adb, sizeof adb, "%s/maxmind/test-data/GeoLite2-ASN-Test.mmdb", corpus);
	struct geo *g = geo_open(cdb, adb, err, sizeof err);
	assert_non_null(g);
	struct bl_config c;
	bl_config_default(&c);
	c.learning_ms = DAY;
	struct rec r;
	struct baseline *b = mk(&r, &c);
	/* learned: a US address of one network */
	const char *addrs[] = { "214.78.120.5", "2.125.160.216", "1.128.0.1" };
	struct geo_result gr[3];
	uint8_t a[16];
	for (int i = 0; i < 3; i++) {
		a4(a, addrs[i]);
		memset(&gr[i], 0, sizeof gr[i]);
		geo_lookup(g, 4, a, &gr[i]);
	}
	assert_string_equal(gr[0].country, "US");
	assert_string_equal(gr[1].country, "GB");
	assert_int_equal(gr[2].asn, 1221);
	struct bl_conn x = conn("/usr/bin/app", "api.app.com", "app.com", addrs[0]);
	x.country = gr[0].country;
	baseline_connection(b, &x, T0);
	/* a known domain, now in a new country: new_geo */
	struct bl_conn y = x;
	y.addr = addrs[1];
	y.country = gr[1].country;
	baseline_connection(b, &y, T0 + 2 * DAY);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].kind, BL_NEW_GEO);
	assert_string_equal(r.a[0].title, "app connected to a new country: GB (api.app.com)");
	assert_string_equal(r.a[0].country, "GB");
	/* a known domain and country, a new network: new_geo with the AS and its organisation */
	struct bl_conn z = x;
	z.addr = addrs[2];
	z.asn = gr[2].asn;
	z.as_org = gr[2].as_org;
	baseline_connection(b, &z, T0 + 2 * DAY);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.a[1].title, "app connected to a new network: AS1221 (Telstra Pty Ltd) (api.app.com)");
	assert_non_null(strstr(r.a[1].evidence, "\"asn\":1221"));
	/* a new domain in a new country: one alert (the destination), the country in its evidence */
	struct bl_conn w = conn("/usr/bin/app", "x.elsewhere.jp", "elsewhere.jp", "2.125.160.217");
	w.country = "JP";
	baseline_connection(b, &w, T0 + 3 * DAY);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.a[2].kind, BL_NEW_DEST);
	assert_non_null(strstr(r.a[2].evidence, "\"new_country\":true"));
	/* an unnamed address of a known network is not new */
	struct bl_conn v = conn("/usr/bin/app", NULL, NULL, "1.128.0.2");
	v.asn = 1221;
	baseline_connection(b, &v, T0 + 3 * DAY);
	struct bl_conn v2 = conn("/usr/bin/app", NULL, NULL, "1.128.0.3");
	v2.asn = 1221;
	baseline_connection(b, &v2, T0 + 3 * DAY);
	assert_int_equal(r.n, 3); /* unnamed: its ASN is the destination, and AS1221 is known */
	baseline_free(b);
	geo_close(g);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

static void test_volume(void **state)
{
	(void)state;
	struct bl_config c;
	bl_config_default(&c);
	c.learning_ms = DAY;
	struct rec r;
	struct baseline *b = mk(&r, &c);
	uint64_t seed = 7;
	/* a week of a steady, noisy workload: 0–3 MB a minute, idle a third of the time, and a
	 * 20 MB upload every hour on the hour; a backup program sending 30–40 MB every minute */
	int64_t t = T0;
	for (int min = 0; min < 7 * 1440; min++, t += 60000) {
		uint64_t x = lcg(&seed) % 3 == 0 ? 0 : lcg(&seed) % 3000000;
		if (min % 60 == 0) x += 20000000;
		baseline_bytes(b, "/usr/bin/sync", "sync", "/usr/bin/sync", x, t + 1000);
		baseline_bytes(b, "/usr/bin/backup", "backup", "/usr/bin/backup", 30000000 + lcg(&seed) % 10000000, t + 2000);
		baseline_tick(b, t + 59000);
	}
	baseline_tick(b, t + 60000);
	printf("volume: false positives on a steady week (two programs, %d intervals each): %d\n", 7 * 1440, r.n);
	assert_int_equal(r.n, 0);
	/* then 60 MB in one minute: far outside */
	baseline_bytes(b, "/usr/bin/sync", "sync", "/usr/bin/sync", 60000000, t + 1000);
	baseline_tick(b, t + 61000);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].kind, BL_VOLUME);
	assert_non_null(strstr(r.a[0].title, "sync: 60 MB up in 1 min, "));
	assert_non_null(strstr(r.a[0].title, "× its usual"));
	assert_non_null(strstr(r.a[0].evidence, "\"bytes\":60000000"));
	/* again within the cooldown: suppressed */
	t += 120000;
	baseline_bytes(b, "/usr/bin/sync", "sync", "/usr/bin/sync", 200000000, t + 1000);
	baseline_tick(b, t + 61000);
	assert_int_equal(r.n, 1);
	struct bl_stats st;
	baseline_stats(b, &st);
	assert_int_equal(st.suppressed_cooldown, 1);
	/* a new program's burst: not before it has min_samples intervals of history */
	baseline_bytes(b, "/usr/bin/new", "new", "/usr/bin/new", 90000000, t + 1000);
	baseline_tick(b, t + 61000);
	assert_int_equal(r.n, 1);
	/* idle intervals are zeros: a program quiet for an hour, then 50 MB, alerts */
	int64_t u = t + 120000;
	baseline_bytes(b, "/usr/bin/quiet", "quiet", "/usr/bin/quiet", 1000, u);
	u += 3600000;
	baseline_bytes(b, "/usr/bin/quiet", "quiet", "/usr/bin/quiet", 50000000, u);
	baseline_tick(b, u + 60000);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.a[1].severity, BL_WARNING); /* critical from 10× the threshold (the 8 MiB floor) */
	assert_string_equal(r.a[1].title, "quiet: 50 MB up in 1 min, its usual is under 1 kB (largest before: 1.0 kB)");
	baseline_free(b);
}

static void test_identity(void **state)
{
	(void)state;
	struct bl_config c;
	bl_config_default(&c);
	c.learning_ms = 1000;
	struct rec r;
	struct baseline *b = mk(&r, &c);
	struct bl_conn x = conn("/usr/bin/tool", "www.example.com", "example.com", "93.184.216.34");
	x.id = (struct bl_identity){ .sha256 = "aaaa", .package = "tool", .version = "1.0", .verified = true };
	baseline_connection(b, &x, T0);
	/* upgraded by dpkg: an info record, no alert */
	x.id = (struct bl_identity){ .sha256 = "bbbb", .package = "tool", .version = "1.1", .verified = true,
				     .writer = BLW_PACKAGE_MANAGER, .writer_pid = 99, .writer_exe = "/usr/bin/dpkg" };
	baseline_connection(b, &x, T0 + DAY);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.info, 1);
	assert_int_equal(r.a[0].id, 0);
	assert_string_equal(r.a[0].title, "tool: updated by dpkg: tool 1.0 → 1.1");
	assert_string_equal(r.last_change_how, "package");
	/* a process started before the update still runs the old binary: nothing */
	x.id = (struct bl_identity){ .sha256 = "aaaa", .package = "tool", .version = "1.1" };
	baseline_connection(b, &x, T0 + DAY);
	assert_int_equal(r.n, 1);
	/* rewritten by its own updater: notice */
	x.id = (struct bl_identity){ .sha256 = "cccc", .writer = BLW_SELF, .writer_pid = 5, .writer_exe = "/usr/bin/tool" };
	baseline_connection(b, &x, T0 + 2 * DAY);
	assert_int_equal(r.n, 2);
	assert_int_equal(r.a[1].severity, BL_NOTICE);
	/* unexplained (does not verify, no package manager wrote it): critical, once */
	x.id = (struct bl_identity){ .sha256 = "dddd", .package = "tool", .verified = false, .writer = BLW_OTHER,
				     .writer_pid = 7, .writer_exe = "/usr/bin/dash" };
	baseline_connection(b, &x, T0 + 3 * DAY);
	assert_int_equal(r.n, 3);
	assert_int_equal(r.a[2].kind, BL_IDENTITY);
	assert_int_equal(r.a[2].severity, BL_CRITICAL);
	assert_non_null(strstr(r.a[2].title, "written by /usr/bin/dash (pid 7)"));
	assert_non_null(strstr(r.a[2].evidence, "\"old_sha256\":\"cccc\""));
	assert_non_null(strstr(r.a[2].evidence, "\"new_sha256\":\"dddd\""));
	baseline_connection(b, &x, T0 + 3 * DAY + 10);
	assert_int_equal(r.n, 3);
	/* unknown writer, but the file verifies against dpkg's md5sums: the package's */
	x.id = (struct bl_identity){ .sha256 = "eeee", .package = "tool", .version = "1.2", .verified = true };
	baseline_connection(b, &x, T0 + 4 * DAY);
	assert_int_equal(r.n, 4);
	assert_int_equal(r.a[3].severity, BL_INFO);
	baseline_free(b);
}

static void test_program_key(void **state)
{
	(void)state;
	char k[512];
	bl_program_key("/usr/bin/curl", "curl -s http://x/", k, sizeof k);
	assert_string_equal(k, "/usr/bin/curl");
	bl_program_key("/usr/bin/python3.11", "python3 -u /opt/sync/run.py --fast", k, sizeof k);
	assert_string_equal(k, "/usr/bin/python3.11 /opt/sync/run.py");
	bl_program_key("/usr/bin/python3.11", "python3 -c print(1)", k, sizeof k);
	assert_string_equal(k, "/usr/bin/python3.11");
	bl_program_key("/usr/bin/firefox (deleted)", "firefox", k, sizeof k);
	assert_string_equal(k, "/usr/bin/firefox");
	char t[32];
	bl_bytes_text(38200000, t, sizeof t);
	assert_string_equal(t, "38 MB");
	bl_bytes_text(900, t, sizeof t);
	assert_string_equal(t, "900 B");
}

/* The store keeps what the baseline learned: a second run continues it. */
static void store_seen_cb(void *ctx, const char *p, const char *k, const char *v, int64_t ms) { store_seen(ctx, p, k, v, ms); }
static void store_alert_cb(void *ctx, const struct bl_alert *a) { store_alert(ctx, a); }
static void store_cool_cb(void *ctx, const char *k, int64_t until) { store_cooldown(ctx, k, until); }
static void store_learn_cb(void *ctx, int64_t ms)
{
	char v[32];
	snprintf(v, sizeof v, "%lld", (long long)ms);
	store_meta(ctx, "learning_start_ms", v);
}

static void test_store_round_trip(void **state)
{
	(void)state;
	char dir[] = "/tmp/pktscope-bl-XXXXXX", path[128], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/monitor.db", dir);
	struct bl_config c;
	bl_config_default(&c);
	struct store *s = store_open(path, err, sizeof err);
	assert_non_null(s);
	struct bl_sink sink = { .ctx = s, .seen = store_seen_cb, .alert = store_alert_cb, .cooldown = store_cool_cb,
				.learning = store_learn_cb };
	struct baseline *b = baseline_new(&c, &sink);
	assert_int_equal(store_load_baseline(s, b, T0, err, sizeof err), 0);
	struct bl_conn x = conn("/usr/bin/curl", "www.example.com", "example.com", "93.184.216.34");
	baseline_connection(b, &x, T0);
	struct bl_conn y = conn("/usr/bin/curl", "new.other.org", "other.org", "198.18.0.1");
	baseline_connection(b, &y, T0 + 8 * DAY);
	baseline_free(b);
	assert_int_equal(store_close(s, err, sizeof err), 0);
	/* the second run: active at once, nothing known alerts again, the next alert is #2 */
	s = store_open(path, err, sizeof err);
	assert_non_null(s);
	struct rec r;
	b = mk(&r, &c);
	assert_int_equal(store_load_baseline(s, b, T0 + 9 * DAY, err, sizeof err), 0);
	assert_int_equal(baseline_learning_ends(b), T0 + 7 * DAY);
	baseline_connection(b, &x, T0 + 9 * DAY);
	baseline_connection(b, &y, T0 + 9 * DAY);
	assert_int_equal(r.n, 0);
	struct bl_conn z = conn("/usr/bin/curl", "x.third.net", "third.net", "198.18.0.2");
	baseline_connection(b, &z, T0 + 9 * DAY);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.a[0].id, 2);
	baseline_free(b);
	assert_int_equal(store_close(s, err, sizeof err), 0);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_dpkg(void **state)
{
	(void)state;
	char dir[] = "/tmp/pktscope-dpkg-XXXXXX", p[256];
	assert_non_null(mkdtemp(dir));
	snprintf(p, sizeof p, "%s/info", dir);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof p, "%s/info/tool:amd64.md5sums", dir);
	FILE *f = fopen(p, "w");
	fputs("0123456789abcdef0123456789abcdef  usr/share/doc/tool/README\n"
	      "fedcba9876543210fedcba9876543210  bin/tool\n", f);
	fclose(f);
	snprintf(p, sizeof p, "%s/status", dir);
	f = fopen(p, "w");
	fputs("Package: tool\nStatus: install ok installed\nArchitecture: i386\nVersion: 0.9\n\n"
	      "Package: tool\nStatus: install ok installed\nArchitecture: amd64\nVersion: 2.4-1\n\n", f);
	fclose(f);
	char pkg[64], ver[64], md5[33];
	/* /usr/bin/tool is listed as bin/tool (merged /usr) */
	assert_true(ident_dpkg_lookup(dir, "/usr/bin/tool", pkg, sizeof pkg, ver, sizeof ver, md5));
	assert_string_equal(pkg, "tool");
	assert_string_equal(ver, "2.4-1");
	assert_string_equal(md5, "fedcba9876543210fedcba9876543210");
	assert_false(ident_dpkg_lookup(dir, "/usr/bin/other", pkg, sizeof pkg, ver, sizeof ver, md5));
	assert_false(ident_dpkg_lookup(dir, "/usr/bin/too", pkg, sizeof pkg, ver, sizeof ver, md5));
	char cmd[256];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(int argc, char **argv)
{
	corpus = argc > 1 ? argv[1] : "../shared/corpus";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_learning_and_destinations), cmocka_unit_test(test_new_program),
		cmocka_unit_test(test_geo), cmocka_unit_test(test_volume), cmocka_unit_test(test_identity),
		cmocka_unit_test(test_program_key), cmocka_unit_test(test_store_round_trip), cmocka_unit_test(test_dpkg),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
