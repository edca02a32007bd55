/* The egress monitor's parts without the network: the DNS answer cache and registrable
 * domains, .mmdb lookups with MaxMind's test databases (and their broken ones), the
 * socket-table and proc-connector parsers on crafted messages, the store's schema and
 * batches. argv[1]: the corpus directory. */
#include "helpers.h"

#include <arpa/inet.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/inet_diag.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dissect/dissect.h"
#include "egress/geo.h"
#include "egress/names.h"
#include "egress/proc.h"
#include "egress/store.h"

static const char *corpus;

static void a4(uint8_t *a, const char *s) { inet_pton(AF_INET, s, a); }
static void a6(uint8_t *a, const char *s) { inet_pton(AF_INET6, s, a); }

static void test_names(void **state)
{
	(void)state;
	struct name_cache *nc = names_new(4);
	uint8_t a[16], b[16];
	a4(a, "93.184.216.34");
	a4(b, "93.184.216.35");
	/* the name asked for, for the TTL but at least the floor; the asker's own first */
	names_add_dns(nc, 100, 4, a, "www.example.com", 30, 1000);
	assert_string_equal(names_lookup(nc, 100, 4, a, 1000), "www.example.com");
	assert_string_equal(names_lookup(nc, 7, 4, a, 1000), "www.example.com"); /* globally too */
	assert_non_null(names_lookup(nc, 0, 4, a, 1000 + NAMES_TTL_FLOOR_S));
	assert_null(names_lookup(nc, 0, 4, a, 1000 + NAMES_TTL_FLOOR_S + 1)); /* expired */
	names_add_dns(nc, 100, 4, a, "www.example.com", 3600, 2000);
	names_add_dns(nc, 200, 4, a, "cdn.other.net", 3600, 2001); /* another program, the same address */
	assert_string_equal(names_lookup(nc, 100, 4, a, 2002), "www.example.com");
	assert_string_equal(names_lookup(nc, 200, 4, a, 2002), "cdn.other.net");
	assert_string_equal(names_lookup(nc, 300, 4, a, 2002), "cdn.other.net"); /* the latest globally */
	assert_null(names_lookup(nc, 100, 4, b, 2002));
	assert_null(names_lookup(nc, 100, 6, a, 2002));
	/* bounded: four answers; the oldest go, counted */
	for (int i = 0; i < 10; i++) {
		uint8_t c[4] = { 10, 0, 0, (uint8_t)i };
		names_add_dns(nc, 0, 4, c, "x.test", 60, 3000);
	}
	struct names_stats st;
	names_stats(nc, &st);
	assert_int_equal(st.entries, 4);
	assert_true(st.evicted >= 8);
	uint8_t last[4] = { 10, 0, 0, 9 }, first[4] = { 10, 0, 0, 0 };
	assert_non_null(names_lookup(nc, 0, 4, last, 3000));
	assert_null(names_lookup(nc, 0, 4, first, 3000));
	/* registrable domains from the Public Suffix List */
	char r[256];
	names_registrable(nc, "www.example.co.uk", r, sizeof r);
	assert_string_equal(r, "example.co.uk");
	names_registrable(nc, "a.b.Example.COM.", r, sizeof r);
	assert_string_equal(r, "example.com");
	names_registrable(nc, "foo.github.io", r, sizeof r); /* a private suffix of the list */
	assert_string_equal(r, "foo.github.io");
	names_registrable(nc, "www.example.test", r, sizeof r);
	assert_string_equal(r, "example.test");
	names_registrable(nc, "localhost", r, sizeof r);
	assert_string_equal(r, "localhost");
	/* an address is its own: not "0.2" of 10.77.0.2 */
	names_registrable(nc, "10.77.0.2", r, sizeof r);
	assert_string_equal(r, "10.77.0.2");
	names_registrable(nc, "2001:db8::1", r, sizeof r);
	assert_string_equal(r, "2001:db8::1");
	names_free(nc);
}

static void test_geo(void **state)
{
	(void)state;
	char c[1024], as[1024], err[512];
	snprintf(c, sizeof c, "%s/maxmind/test-data/GeoIP2-Country-Test.mmdb", corpus);
	snprintf(as, sizeof as, "%s/maxmind/test-data/GeoLite2-ASN-Test.mmdb", corpus);
	struct geo *g = geo_open(c, as, err, sizeof err);
	assert_non_null(g);
	uint8_t a[16];
	struct geo_result r;
	a4(a, "214.78.120.5");
	assert_true(geo_lookup(g, 4, a, &r));
	assert_string_equal(r.country, "US");
	a4(a, "1.128.0.1");
	assert_true(geo_lookup(g, 4, a, &r));
	assert_int_equal(r.asn, 1221);
	assert_string_equal(r.as_org, "Telstra Pty Ltd");
	a6(a, "2001:218::1");
	assert_true(geo_lookup(g, 6, a, &r));
	assert_string_equal(r.country, "JP");
	/* never looked up: private, CGNAT, loopback, documentation, multicast, ULA, link-local */
	const char *v4[] = { "10.1.2.3", "100.64.0.1", "127.0.0.1", "192.0.2.1", "198.51.100.7", "203.0.113.9",
			     "224.0.0.251", "169.254.1.1", "172.16.5.5", "192.168.1.1", "0.1.2.3", "255.255.255.255" };
	for (size_t i = 0; i < sizeof v4 / sizeof v4[0]; i++) {
		a4(a, v4[i]);
		assert_false(geo_is_global(4, a));
		assert_false(geo_lookup(g, 4, a, &r));
	}
	const char *v6[] = { "fd77::1", "fe80::1", "::1", "ff02::1", "2001:db8::1", "::ffff:10.0.0.1" };
	for (size_t i = 0; i < sizeof v6 / sizeof v6[0]; i++) {
		a6(a, v6[i]);
		assert_false(geo_is_global(6, a));
	}
	a6(a, "::ffff:1.128.0.1");
	assert_true(geo_is_global(6, a));
	a4(a, "8.8.8.8");
	assert_true(geo_is_global(4, a));
	geo_close(g);
	/* missing and broken files: a message, never a crash */
	assert_null(geo_open("/nonexistent.mmdb", NULL, err, sizeof err));
	assert_non_null(strstr(err, "/nonexistent.mmdb"));
	const char *bad[] = { "maxmind/bad-data/libmaxminddb/libmaxminddb-metadata-marker-only.mmdb",
			      "maxmind/bad-data/libmaxminddb/libmaxminddb-corrupt-search-tree.mmdb",
			      "maxmind/test-data/MaxMind-DB-test-broken-search-tree-24.mmdb",
			      "maxmind/test-data/GeoIP2-City-Test-Invalid-Node-Count.mmdb", "README.md" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		snprintf(c, sizeof c, "%s/%s", corpus, bad[i]);
		err[0] = '\0';
		g = geo_open(c, NULL, err, sizeof err);
		if (g) { /* opened: lookups must still be safe */
			for (int k = 0; k < 256; k++) {
				uint8_t x[4] = { (uint8_t)k, 1, 2, 3 };
				geo_lookup(g, 4, x, &r);
			}
			geo_close(g);
		} else {
			assert_non_null(strstr(err, "country database"));
		}
	}
}

static void test_parsers(void **state)
{
	(void)state;
	struct inet_diag_msg m;
	memset(&m, 0, sizeof m);
	m.idiag_family = AF_INET;
	m.idiag_inode = 123456;
	m.idiag_uid = 1000;
	m.id.idiag_sport = htons(40000);
	m.id.idiag_dport = htons(443);
	m.id.idiag_cookie[0] = 0x89abcdef;
	m.id.idiag_cookie[1] = 0x1234567;
	a4((uint8_t *)m.id.idiag_src, "10.0.0.1");
	a4((uint8_t *)m.id.idiag_dst, "93.184.216.34");
	uint64_t inode;
	uint32_t uid;
	int fam;
	uint8_t s[16], d[16];
	uint16_t sp, dp;
	uint64_t cookie;
	assert_int_equal(proc_parse_diag(&m, sizeof m, &inode, &uid, &fam, s, &sp, d, &dp, &cookie), 0);
	assert_int_equal(inode, 123456);
	assert_true(cookie == 0x0123456789abcdefull);
	assert_int_equal(uid, 1000);
	assert_int_equal(fam, 4);
	assert_int_equal(sp, 40000);
	assert_int_equal(dp, 443);
	assert_int_equal(s[0], 10);
	assert_int_equal(proc_parse_diag(&m, sizeof m - 1, &inode, &uid, &fam, s, &sp, d, &dp, &cookie), -1); /* short */
	m.idiag_family = AF_UNIX;
	assert_int_equal(proc_parse_diag(&m, sizeof m, &inode, &uid, &fam, s, &sp, d, &dp, &cookie), -1);

	uint8_t buf[sizeof(struct cn_msg) + sizeof(struct proc_event)];
	struct cn_msg cn = { .id = { CN_IDX_PROC, CN_VAL_PROC }, .len = sizeof(struct proc_event) };
	struct proc_event ev;
	memset(&ev, 0, sizeof ev);
	ev.what = PROC_EVENT_EXEC;
	ev.event_data.exec.process_pid = 4242;
	ev.event_data.exec.process_tgid = 4242;
	memcpy(buf, &cn, sizeof cn);
	memcpy(buf + sizeof cn, &ev, sizeof ev);
	pid_t pid, tgid;
	assert_int_equal(proc_parse_cn(buf, sizeof buf, &pid, &tgid), 2);
	assert_int_equal(pid, 4242);
	ev.what = PROC_EVENT_EXIT;
	ev.event_data.exit.process_pid = 7;
	ev.event_data.exit.process_tgid = 5;
	memcpy(buf + sizeof cn, &ev, sizeof ev);
	assert_int_equal(proc_parse_cn(buf, sizeof buf, &pid, &tgid), 3);
	assert_int_equal(tgid, 5);
	ev.what = PROC_EVENT_FORK;
	ev.event_data.fork.child_pid = 9;
	ev.event_data.fork.child_tgid = 9;
	memcpy(buf + sizeof cn, &ev, sizeof ev);
	assert_int_equal(proc_parse_cn(buf, sizeof buf, &pid, &tgid), 1);
	assert_int_equal(proc_parse_cn(buf, 10, &pid, &tgid), -1); /* short */
	cn.len = 60000; /* a length past the message */
	memcpy(buf, &cn, sizeof cn);
	assert_int_equal(proc_parse_cn(buf, sizeof buf, &pid, &tgid), -1);
	cn.id.idx = 99;
	memcpy(buf, &cn, sizeof cn);
	assert_int_equal(proc_parse_cn(buf, sizeof buf, &pid, &tgid), 0);
	/* fuzz-ish: every prefix of a valid message, and noise, parse or refuse without harm */
	for (size_t n = 0; n <= sizeof buf; n++) proc_parse_cn(buf, n, &pid, &tgid);
	for (size_t n = 0; n <= sizeof m; n++) proc_parse_diag(&m, n, &inode, &uid, &fam, s, &sp, d, &dp, &cookie);
}

static void test_store(void **state)
{
	(void)state;
	char dir[] = "/tmp/pktscope-store-XXXXXX", path[64], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/m.db", dir);
	struct store *s = store_open(path, err, sizeof err);
	assert_non_null(s);
	struct store_conn c;
	memset(&c, 0, sizeof c);
	const int64_t day = 86400000;
	int64_t now = (int64_t)time(NULL) * 1000;
	c.start_ms = now - 2000;
	c.end_ms = now - 1000;
	c.state = "closed";
	c.proto = 6;
	c.family = 4;
	strcpy(c.laddr, "10.0.0.1");
	strcpy(c.raddr, "93.184.216.34");
	c.lport = 40000;
	c.rport = 443;
	c.outbound = true;
	c.pid = 42;
	c.uid = 1000;
	strcpy(c.exe, "/usr/bin/curl");
	strcpy(c.pname, "curl");
	strcpy(c.cmdline, "curl https://www.example.com/");
	c.proc_start_ms = 123450;
	c.netns = 4026531840u;
	c.encrypted_dns = NULL;
	c.name_hidden = "dns_over_https";
	c.how = "socket_table";
	strcpy(c.name, "www.example.com");
	strcpy(c.name_source, "sni");
	strcpy(c.registrable, "example.com");
	c.bytes_out = 500;
	c.bytes_in = 9000;
	for (int i = 0; i < 3; i++) assert_true(store_add(s, &c));
	store_name(s, "93.184.216.34", "www.example.com", "dns", 900);
	assert_int_equal(store_flush(s, err, sizeof err), 0);
	struct store_stats ss;
	store_stats(s, &ss);
	assert_int_equal(ss.written, 3);
	assert_int_equal(ss.batches, 1);
	c.start_ms = c.end_ms = now - 10 * day; /* old */
	assert_true(store_add(s, &c));
	assert_int_equal(store_close(s, err, sizeof err), 0); /* written at close, by the writer */
	/* opened again: the schema is there, not made twice; retention (5 days, applied by the
	 * writer) keeps the first-seen tables */
	s = store_open(path, err, sizeof err);
	assert_non_null(s);
	store_set_retention(s, 5 * day, 0);
	assert_int_equal(store_flush(s, err, sizeof err), 0);
	assert_int_equal(store_close(s, err, sizeof err), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
		"SELECT (SELECT count(*) FROM connections), (SELECT count(*) FROM executables),"
		" (SELECT count(*) FROM destinations), (SELECT count(*) FROM names), (SELECT user_version FROM pragma_user_version),"
		" (SELECT registrable FROM destinations),"
		" (SELECT count(*) FROM processes WHERE pid = 42 AND start_ms = 123450 AND cmdline = 'curl https://www.example.com/'),"
		" (SELECT count(*) FROM connections WHERE process_id IS NOT NULL AND name_hidden = 'dns_over_https')",
		-1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	assert_int_equal(sqlite3_column_int(st, 1), 1);
	assert_int_equal(sqlite3_column_int(st, 2), 1);
	assert_int_equal(sqlite3_column_int(st, 3), 1);
	assert_int_equal(sqlite3_column_int(st, 4), STORE_SCHEMA_VERSION);
	assert_string_equal((const char *)sqlite3_column_text(st, 5), "example.com");
	assert_int_equal(sqlite3_column_int(st, 6), 1); /* one process, three connections */
	assert_int_equal(sqlite3_column_int(st, 7), 3);
	sqlite3_finalize(st);
	/* a store from a newer pktscope is refused, not damaged */
	assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(store_open(path, err, sizeof err));
	assert_non_null(strstr(err, "newer"));
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* Whether every hour of table hourly from hourly_from on adds up to the connections that
 * start in it, and no hour before it is kept. */
static void assert_hours_exact(sqlite3 *db)
{
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db,
		"WITH f AS (SELECT CAST(value AS INTEGER) AS v FROM meta WHERE key = 'hourly_from'),"
		" c AS (SELECT start_ms / 3600000 * 3600000 AS h, coalesce(exe_id, 0) AS x, dest_id AS dd, coalesce(name, '') AS n,"
		"  outbound AS o, count(*) AS k, sum(bytes_out) AS bo, sum(bytes_in) AS bi, min(start_ms) AS f1, max(end_ms) AS l1"
		"  FROM connections, f WHERE start_ms >= f.v GROUP BY 1, 2, 3, 4, 5),"
		" hh AS (SELECT hour_ms, exe_id, dest_id, name, outbound, conns, bytes_out, bytes_in, first_ms, last_ms FROM hourly)"
		" SELECT (SELECT count(*) FROM (SELECT * FROM c EXCEPT SELECT * FROM hh)), (SELECT count(*) FROM (SELECT * FROM hh EXCEPT"
		"  SELECT * FROM c)), (SELECT count(*) FROM hourly, f WHERE hour_ms < f.v), (SELECT count(*) FROM hourly)",
		-1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0); /* a connection's hour missing or different */
	assert_int_equal(sqlite3_column_int(st, 1), 0); /* an hour with more than its connections */
	assert_int_equal(sqlite3_column_int(st, 2), 0); /* an hour kept before hourly_from */
	assert_true(sqlite3_column_int(st, 3) > 0);
	sqlite3_finalize(st);
}

/* The hourly table (what a day's views add up): built with the connections in the same
 * batches, exact from hourly_from on after retention by age and by size. */
static void test_store_hours(void **state)
{
	(void)state;
	char dir[] = "/tmp/pktscope-hours-XXXXXX", path[64], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/m.db", dir);
	struct store *s = store_open(path, err, sizeof err);
	assert_non_null(s);
	const int64_t hour = 3600000, t0 = 1796000000000LL / hour * hour;
	struct store_conn c;
	memset(&c, 0, sizeof c);
	c.state = "closed";
	c.proto = 17;
	c.family = 4;
	c.outbound = true;
	c.how = "replay";
	strcpy(c.laddr, "10.0.0.2");
	/* 48 hours, 40 connections an hour to 5 addresses; a third named, some by curl; one
	 * in eight lasts 5 hours (it ends after hours that retention empties) */
	for (int i = 0; i < 48 * 40; i++) {
		c.start_ms = t0 + (int64_t)i * hour / 40;
		c.end_ms = c.start_ms + (i % 8 ? 2000 : 5 * hour);
		snprintf(c.raddr, sizeof c.raddr, "100.64.0.%d", 1 + i % 5);
		snprintf(c.name, sizeof c.name, "%s", i % 3 ? "" : "api.example.test");
		snprintf(c.exe, sizeof c.exe, "%s", i % 4 ? "" : "/usr/bin/curl");
		c.bytes_out = 100 + (uint64_t)i;
		c.bytes_in = 1000 + (uint64_t)i;
		assert_true(store_add(s, &c));
	}
	assert_int_equal(store_flush(s, err, sizeof err), 0);
	sqlite3 *db;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_hours_exact(db);
	/* by age, on a clock 30 hours after the start: the hours before the cutoff go */
	assert_int_equal(store_retain(s, t0 + 30 * hour + hour / 3, 12 * hour, 0, err, sizeof err), 0);
	assert_hours_exact(db);
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'hourly_from'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_true(sqlite3_column_int64(st, 0) == t0 + 19 * hour); /* the hour after the cutoff (18 h 20 min) */
	sqlite3_finalize(st);
	/* by size: the oldest tenths go until the file is under 64 kB */
	assert_int_equal(store_retain(s, t0 + 30 * hour, 0, 64 * 1024, err, sizeof err), 0);
	assert_hours_exact(db);
	sqlite3_close(db);
	assert_int_equal(store_close(s, err, sizeof err), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The process a pcapng comment pktscope wrote names, read back as proc.* fields; a comment
 * that is not quite one gives none, whatever its bytes. */
static void test_proc_note(void **state)
{
	(void)state;
	dissect_init();
	struct packet *p = packet_new();
	static const uint8_t frame[14] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x88, 0xb5 };
	struct pkt_meta m = { .number = 1, .caplen = 14, .wirelen = 14, .linktype = 1, .ts_digits = 9 };
	const char *good = "pktscope: TCP Retransmission; process \"my \\\"app\\\"\" pid 4242 uid 1000 exe \"/opt/a b/app\" "
			   "cmdline \"app --x \\\"y\\\"\"";
	m.note = (const uint8_t *)good;
	m.note_len = (uint32_t)strlen(good);
	packet_begin(p, &m, frame);
	dissect_frame(p);
	const struct fval *f = pk_find(p, F_PROC_NAME);
	assert_non_null(f);
	assert_int_equal(f->v.b.n, 8);
	assert_memory_equal(f->v.b.p, "my \"app\"", 8);
	assert_int_equal(pk_find(p, F_PROC_PID)->v.u, 4242);
	assert_int_equal(pk_find(p, F_PROC_UID)->v.u, 1000);
	f = pk_find(p, F_PROC_EXE);
	assert_true(f && f->v.b.n == 12 && !memcmp(f->v.b.p, "/opt/a b/app", 12));
	f = pk_find(p, F_PROC_CMDLINE);
	assert_true(f && f->v.b.n == 11 && !memcmp(f->v.b.p, "app --x \"y\"", 11));
	static const char *const bad[] = {
		"pktscope: process \"curl\" pid 12",                     /* no uid */
		"pktscope: process \"curl pid 12 uid 0",                  /* the name never closes */
		"pktscope: process \"curl\" pid x uid 0",
		"pktscope: process \"curl\" pid 12 uid 0 exe \"/usr/bin/cu", /* the exe never closes */
		"pktscope: process curl pid 12 uid 0",
		"pktscope: process \"",
		"pktscope: process",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		m.note = (const uint8_t *)bad[i];
		m.note_len = (uint32_t)strlen(bad[i]);
		packet_begin(p, &m, frame);
		dissect_frame(p);
		assert_null(pk_find(p, F_PROC_NAME));
	}
	/* every prefix of the good one, in a buffer of its own size: no read past it (ASan) */
	for (uint32_t n = 0; n < strlen(good); n++) {
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, good, n);
		m.note = copy;
		m.note_len = n;
		packet_begin(p, &m, frame);
		dissect_frame(p);
		free(copy);
	}
	packet_free(p);
}

int main(int argc, char **argv)
{
	corpus = argc > 1 ? argv[1] : "../shared/corpus";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_geo),
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_store),
		cmocka_unit_test(test_store_hours),
		cmocka_unit_test(test_proc_note),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
