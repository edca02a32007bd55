/* egress/service.c — the socket's requests answered (see service.h). */
#include "egress/service.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capture/capture.h"
#include "egress/baseline.h"
#include "egress/monitor.h"
#include "egress/report.h"
#include "egress/server.h"
#include "egress/store.h"
#include "util/jsonr.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#ifndef PKTSCOPE_VERSION
#define PKTSCOPE_VERSION "0"
#endif

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void js(struct sbuf *sb, const char *k, const char *v)
{
	sb_printf(sb, ",\"%s\":", k);
	if (v && *v) sb_json_str(sb, v, strlen(v));
	else sb_puts(sb, "null");
}

static const char *ctext(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

static sqlite3 *rdb(struct service *s, char *err, size_t errlen)
{
	if (s->rdb) return s->rdb;
	sqlite3 *db = NULL;
	if (sqlite3_open_v2(s->dbpath, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", s->dbpath, db ? sqlite3_errmsg(db) : "out of memory");
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 2000);
	return s->rdb = db;
}

void service_close(struct service *s)
{
	if (s->rdb) sqlite3_close(s->rdb);
	s->rdb = NULL;
}

/* The reply's head: {"type":T[,"id":N],"data": */
static void head(struct sbuf *sb, struct server_client *c, const char *type)
{
	sb_printf(sb, "{\"type\":\"%s\"", type);
	if (server_request_id(c) >= 0) sb_printf(sb, ",\"id\":%lld", (long long)server_request_id(c));
	sb_puts(sb, ",\"data\":");
}

static void send_reply(struct server_client *c, struct sbuf *sb)
{
	if (sb->trunc) server_error(c, "the reply is larger than %u MB: ask for less (a shorter time range, a limit)", SERVER_MAX_REPLY >> 20);
	else server_reply(c, sb->buf, sb->len);
}

/* ---- the live table ---- */

struct live_walk {
	struct sbuf *sb;
	int n;
	/* processes: per executable */
	struct proc_agg *procs;
	int nprocs, capprocs;
};

static void conn_json(void *ctx, const struct monitor_conn_view *v)
{
	struct live_walk *w = ctx;
	struct sbuf *sb = w->sb;
	if (v->closed) return;
	sb_printf(sb, "%s{\"id\":%llu,\"proto\":\"%s\",\"direction\":\"%s\",\"local\":{\"addr\":\"%s\",\"port\":%u},"
		      "\"remote\":{\"addr\":\"%s\",\"port\":%u}",
		  w->n++ ? "," : "", (unsigned long long)v->id, v->proto, v->direction, v->laddr, v->lport, v->raddr, v->rport);
	if (v->pid) {
		sb_printf(sb, ",\"process\":{\"pid\":%d", v->pid);
		js(sb, "name", v->pname);
		js(sb, "exe", v->exe);
		sb_putc(sb, '}');
	} else {
		sb_puts(sb, ",\"process\":null");
	}
	js(sb, "name", v->name);
	js(sb, "name_source", v->name_source);
	js(sb, "registrable_domain", v->registrable);
	js(sb, "country", v->country);
	if (v->asn) sb_printf(sb, ",\"asn\":%u", v->asn);
	js(sb, "as_org", v->as_org);
	sb_printf(sb, ",\"bytes_out\":%llu,\"bytes_in\":%llu,\"start_ms\":%lld,\"last_ms\":%lld}", (unsigned long long)v->bytes_out,
		  (unsigned long long)v->bytes_in, (long long)v->start_ms, (long long)v->last_ms);
}

struct proc_agg {
	char exe[512], name[64];
	uint64_t conns, live, bytes_out, bytes_in, dests;
	int64_t first_ms, last_ms;
};

static struct proc_agg *agg_of(struct live_walk *w, const char *exe)
{
	for (int i = 0; i < w->nprocs; i++)
		if (!strcmp(w->procs[i].exe, exe)) return &w->procs[i];
	if (w->nprocs == w->capprocs) {
		w->capprocs = w->capprocs ? w->capprocs * 2 : 64;
		w->procs = xrealloc(w->procs, (size_t)w->capprocs * sizeof *w->procs);
	}
	struct proc_agg *a = &w->procs[w->nprocs++];
	memset(a, 0, sizeof *a);
	snprintf(a->exe, sizeof a->exe, "%s", exe);
	return a;
}

static void proc_live(void *ctx, const struct monitor_conn_view *v)
{
	struct live_walk *w = ctx;
	if (v->closed || !v->pid || !v->exe[0]) return;
	struct proc_agg *a = agg_of(w, v->exe);
	if (!a->name[0]) snprintf(a->name, sizeof a->name, "%s", v->pname);
	a->live++;
	a->bytes_out += v->bytes_out;
	a->bytes_in += v->bytes_in;
	if (!a->first_ms || v->start_ms < a->first_ms) a->first_ms = v->start_ms;
	if (v->last_ms > a->last_ms) a->last_ms = v->last_ms;
}

static int cmp_agg(const void *a, const void *b)
{
	const struct proc_agg *x = a, *y = b;
	uint64_t bx = x->bytes_out + x->bytes_in, by = y->bytes_out + y->bytes_in;
	return bx < by ? 1 : bx > by ? -1 : strcmp(x->exe, y->exe);
}

/* ---- requests ---- */

struct req {
	struct service *s;
	struct server_client *c;
	struct jobj o;
	char type[32];
	int64_t since, until, now;
	char program[512];
};

static bool opt_i64(struct req *r, const char *key, int64_t *out)
{
	const struct jv *v = jsonr_get(&r->o, key);
	if (!v || v->type == JV_NULL) return true;
	if (jsonr_i64(v, out) == 0) return true;
	server_error(r->c, "%s: an integer expected", key);
	return false;
}

static bool opt_str(struct req *r, const char *key, char *out, size_t cap)
{
	out[0] = '\0';
	const struct jv *v = jsonr_get(&r->o, key);
	if (!v || v->type == JV_NULL) return true;
	if (jsonr_str(v, out, cap) == 0) return true;
	server_error(r->c, "%s: a string (of at most %zu bytes) expected", key, cap - 1);
	return false;
}

static bool range(struct req *r)
{
	r->since = r->now - 86400000;
	r->until = r->now + 1;
	if (!opt_i64(r, "since_ms", &r->since) || !opt_i64(r, "until_ms", &r->until)) return false;
	if (r->until <= r->since) {
		server_error(r->c, "until_ms must be after since_ms");
		return false;
	}
	return true;
}

static void db_error(struct req *r, sqlite3 *db)
{
	server_error(r->c, "the store: %s", db ? sqlite3_errmsg(db) : "cannot be opened");
}

static void do_status(struct req *r)
{
	struct service *s = r->s;
	struct sbuf sb;
	sb_init_grow(&sb, 4096, 1u << 20);
	head(&sb, r->c, "status");
	int64_t ends = s->bl ? baseline_learning_ends(s->bl) : 0;
	bool active = s->bl && baseline_active(s->bl, r->now);
	sb_printf(&sb, "{\"pid\":%d,\"version\":\"%s\",\"protocol\":%d,\"started_ms\":%lld,\"uptime_s\":%lld", (int)getpid(),
		  PKTSCOPE_VERSION, SERVER_PROTOCOL, (long long)s->started_ms, (long long)((r->now - s->started_ms) / 1000));
	js(&sb, "state_dir", s->state_dir);
	js(&sb, "store", s->dbpath);
	js(&sb, "socket", s->socket_path);
	js(&sb, "interfaces", s->interfaces);
	js(&sb, "attribution", s->attribution);
	sb_printf(&sb, ",\"baseline\":{\"state\":\"%s\"", !s->bl ? "off" : active ? "active" : "learning");
	if (ends) sb_printf(&sb, ",\"learning_ends_ms\":%lld", (long long)ends);
	else sb_puts(&sb, ",\"learning_ends_ms\":null");
	sb_putc(&sb, '}');
	struct monitor_stats ms;
	monitor_stats(s->mon, &ms);
	struct live_walk w = { 0 };
	monitor_each(s->mon, proc_live, &w);
	sb_printf(&sb, ",\"live_connections\":%u,\"live_processes\":%d,\"packets\":%llu,\"connections\":%llu,\"attributed\":%llu,"
		       "\"unknown\":%llu,\"named\":%llu",
		  monitor_live(s->mon), w.nprocs, (unsigned long long)ms.packets, (unsigned long long)ms.conns,
		  (unsigned long long)ms.attributed, (unsigned long long)ms.unknown, (unsigned long long)ms.named);
	free(w.procs);
	uint64_t kernel = 0, ring = 0;
	for (int k = 0; s->live && k < live_count(s->live); k++) {
		struct live_stats ls;
		live_stats(s->live, k, &ls);
		kernel += ls.kernel_dropped + ls.if_dropped;
		ring += ls.ring_dropped;
	}
	sb_printf(&sb, ",\"dropped\":{\"kernel\":%llu,\"pktscope\":%llu,\"store_rows\":%llu}", (unsigned long long)kernel,
		  (unsigned long long)ring, (unsigned long long)ms.store_dropped);
	sb_printf(&sb, ",\"evicted\":{\"connections\":%llu,\"names\":%llu,\"processes\":%llu}", (unsigned long long)ms.conns_evicted,
		  (unsigned long long)ms.names_evicted, (unsigned long long)ms.procs_evicted);
	char err[300];
	sqlite3 *db = rdb(s, err, sizeof err);
	static const struct { const char *key, *sql; } counts[] = {
		{ "programs", "SELECT count(*) FROM baseline_seen WHERE kind = 'program'" },
		{ "destinations", "SELECT count(*) FROM destinations" },
		{ "alerts", "SELECT count(*) FROM alerts" },
		{ "alerts_unacknowledged", "SELECT count(*) FROM alerts WHERE acked_ms IS NULL" },
		{ "stored_connections", "SELECT count(*) FROM connections" },
	};
	for (size_t i = 0; db && i < sizeof counts / sizeof *counts; i++) {
		sqlite3_stmt *st;
		long long v = -1;
		if (sqlite3_prepare_v2(db, counts[i].sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int64(st, 0);
			sqlite3_finalize(st);
		}
		if (v >= 0) sb_printf(&sb, ",\"%s\":%lld", counts[i].key, v);
	}
	struct server_stats ss;
	server_stats(s->srv, &ss);
	sb_printf(&sb, ",\"clients\":%d,\"subscribers\":%d,\"events_lost\":%llu,\"refused\":%llu}}", ss.clients, ss.subscribers,
		  (unsigned long long)ss.events_lost, (unsigned long long)(ss.refused_access + s->denied));
	send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_connections(struct req *r)
{
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "connections");
	sb_putc(&sb, '[');
	struct live_walk w = { .sb = &sb };
	monitor_each(r->s->mon, conn_json, &w);
	sb_puts(&sb, "]}");
	send_reply(r->c, &sb);
	sb_free(&sb);
}

/* The destination a row is counted under: its registrable domain, else its name, else its
 * address. */
#define DEST_EXPR "coalesce(nullif(d.registrable, ''), nullif(c.name, ''), c.remote_addr)"

static void do_processes(struct req *r)
{
	if (!range(r)) return;
	char err[300];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL;
	if (!db || sqlite3_prepare_v2(db,
				      "SELECT e.path, e.name, count(*), sum(c.bytes_out), sum(c.bytes_in), count(DISTINCT " DEST_EXPR "),"
				      " min(c.start_ms), max(c.end_ms) FROM connections c JOIN executables e ON e.id = c.exe_id"
				      " LEFT JOIN destinations d ON d.id = c.dest_id WHERE c.start_ms >= ?1 AND c.start_ms < ?2 GROUP BY e.path",
				      -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
	struct live_walk w = { 0 };
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct proc_agg *a = agg_of(&w, ctext(st, 0));
		snprintf(a->name, sizeof a->name, "%s", ctext(st, 1));
		a->conns = (uint64_t)sqlite3_column_int64(st, 2);
		a->bytes_out = (uint64_t)sqlite3_column_int64(st, 3);
		a->bytes_in = (uint64_t)sqlite3_column_int64(st, 4);
		a->dests = (uint64_t)sqlite3_column_int64(st, 5);
		a->first_ms = sqlite3_column_int64(st, 6);
		a->last_ms = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(w.procs);
		db_error(r, db);
		return;
	}
	if (r->until > r->now) monitor_each(r->s->mon, proc_live, &w); /* the range reaches now: live ones too */
	qsort(w.procs, (size_t)w.nprocs, sizeof *w.procs, cmp_agg);
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "processes");
	sb_putc(&sb, '[');
	for (int i = 0; i < w.nprocs; i++) {
		struct proc_agg *a = &w.procs[i];
		sb_puts(&sb, i ? ",{\"exe\":" : "{\"exe\":");
		sb_json_str(&sb, a->exe, strlen(a->exe));
		js(&sb, "name", a->name);
		sb_printf(&sb, ",\"connections\":%llu,\"live\":%llu,\"bytes_out\":%llu,\"bytes_in\":%llu,\"destinations\":%llu,"
			       "\"first_ms\":%lld,\"last_ms\":%lld}",
			  (unsigned long long)a->conns, (unsigned long long)a->live, (unsigned long long)a->bytes_out,
			  (unsigned long long)a->bytes_in, (unsigned long long)a->dests, (long long)a->first_ms, (long long)a->last_ms);
	}
	sb_puts(&sb, "]}");
	free(w.procs);
	send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_destinations(struct req *r)
{
	char by[16];
	if (!range(r) || !opt_str(r, "program", r->program, sizeof r->program) || !opt_str(r, "by", by, sizeof by)) return;
	bool org = !strcmp(by, "org");
	if (by[0] && !org && strcmp(by, "destination")) {
		server_error(r->c, "by: destination or org");
		return;
	}
	char err[300], sql[1200];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL;
	/* by org: the AS organisation, else the AS number, else the destination itself */
	snprintf(sql, sizeof sql,
		 "SELECT %s AS dest, max(d.country), max(d.asn), max(d.as_org), count(*), sum(c.bytes_out), sum(c.bytes_in),"
		 " min(c.start_ms), max(c.end_ms), count(DISTINCT c.remote_addr), max(c.remote_addr), count(DISTINCT c.exe_id),"
		 " count(DISTINCT " DEST_EXPR ") FROM connections c LEFT JOIN executables e ON e.id = c.exe_id"
		 " LEFT JOIN destinations d ON d.id = c.dest_id WHERE c.start_ms >= ?1 AND c.start_ms < ?2"
		 " AND (?3 = '' OR e.path = ?3) AND c.outbound = 1 GROUP BY dest ORDER BY sum(c.bytes_out) + sum(c.bytes_in) DESC",
		 org ? "coalesce(nullif(d.as_org, ''), 'AS' || nullif(d.asn, 0), " DEST_EXPR ")" : DEST_EXPR);
	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
	sqlite3_bind_text(st, 3, r->program, -1, SQLITE_STATIC);
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "destinations");
	sb_putc(&sb, '[');
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		sb_puts(&sb, n++ ? ",{\"destination\":" : "{\"destination\":");
		sb_json_str(&sb, ctext(st, 0), strlen(ctext(st, 0)));
		js(&sb, "country", ctext(st, 1));
		if (sqlite3_column_int64(st, 2)) sb_printf(&sb, ",\"asn\":%lld", (long long)sqlite3_column_int64(st, 2));
		js(&sb, "as_org", ctext(st, 3));
		sb_printf(&sb, ",\"connections\":%lld,\"bytes_out\":%lld,\"bytes_in\":%lld,\"first_ms\":%lld,\"last_ms\":%lld,\"addresses\":%lld",
			  (long long)sqlite3_column_int64(st, 4), (long long)sqlite3_column_int64(st, 5), (long long)sqlite3_column_int64(st, 6),
			  (long long)sqlite3_column_int64(st, 7), (long long)sqlite3_column_int64(st, 8), (long long)sqlite3_column_int64(st, 9));
		js(&sb, "address", ctext(st, 10));
		sb_printf(&sb, ",\"programs\":%lld,\"destinations\":%lld}", (long long)sqlite3_column_int64(st, 11),
			  (long long)sqlite3_column_int64(st, 12));
	}
	sqlite3_finalize(st);
	sb_puts(&sb, "]}");
	if (rc != SQLITE_DONE) db_error(r, db);
	else send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_history(struct req *r)
{
	int64_t limit = SERVICE_HISTORY_LIMIT;
	if (!range(r) || !opt_str(r, "program", r->program, sizeof r->program) || !opt_i64(r, "limit", &limit)) return;
	if (limit < 1 || limit > SERVICE_HISTORY_MAX) {
		server_error(r->c, "limit: 1 to %d", SERVICE_HISTORY_MAX);
		return;
	}
	char err[300];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL, *cnt = NULL;
	const char *where = " WHERE c.start_ms >= ?1 AND c.start_ms < ?2 AND (?3 = '' OR e.path = ?3)";
	char sql[1200];
	snprintf(sql, sizeof sql,
		 "SELECT c.id, c.start_ms, c.end_ms, c.state, c.proto, c.remote_addr, c.remote_port, c.local_port, c.outbound,"
		 " e.path, e.name, c.pid, c.name, c.name_source, d.registrable, d.country, d.asn, d.as_org, c.bytes_out, c.bytes_in,"
		 " c.community_id FROM connections c LEFT JOIN executables e ON e.id = c.exe_id LEFT JOIN destinations d"
		 " ON d.id = c.dest_id%s ORDER BY c.start_ms DESC, c.id DESC LIMIT ?4", where);
	char csql[400];
	snprintf(csql, sizeof csql,
		 "SELECT count(*), coalesce(sum(c.bytes_out), 0), coalesce(sum(c.bytes_in), 0) FROM connections c"
		 " LEFT JOIN executables e ON e.id = c.exe_id%s", where);
	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_prepare_v2(db, csql, -1, &cnt, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		db_error(r, db);
		return;
	}
	for (int i = 0; i < 2; i++) {
		sqlite3_stmt *q = i ? cnt : st;
		sqlite3_bind_int64(q, 1, r->since);
		sqlite3_bind_int64(q, 2, r->until);
		sqlite3_bind_text(q, 3, r->program, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int64(st, 4, limit);
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "history");
	long long total = 0, out = 0, in = 0;
	if (sqlite3_step(cnt) == SQLITE_ROW) {
		total = sqlite3_column_int64(cnt, 0);
		out = sqlite3_column_int64(cnt, 1);
		in = sqlite3_column_int64(cnt, 2);
	}
	sqlite3_finalize(cnt);
	sb_printf(&sb, "{\"since_ms\":%lld,\"until_ms\":%lld,\"total\":%lld,\"bytes_out\":%lld,\"bytes_in\":%lld,\"connections\":[",
		  (long long)r->since, (long long)r->until, total, out, in);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int proto = sqlite3_column_int(st, 4);
		sb_printf(&sb, "%s{\"id\":%lld,\"start_ms\":%lld,\"end_ms\":%lld,\"state\":\"%s\",\"proto\":\"%s\",\"remote\":{\"addr\":",
			  n++ ? "," : "", (long long)sqlite3_column_int64(st, 0), (long long)sqlite3_column_int64(st, 1),
			  (long long)sqlite3_column_int64(st, 2), ctext(st, 3),
			  proto == 6 ? "tcp" : proto == 17 ? "udp" : proto == 1 ? "icmp" : proto == 58 ? "icmpv6" : "ip");
		sb_json_str(&sb, ctext(st, 5), strlen(ctext(st, 5)));
		sb_printf(&sb, ",\"port\":%d},\"local_port\":%d,\"direction\":\"%s\"", sqlite3_column_int(st, 6), sqlite3_column_int(st, 7),
			  sqlite3_column_int(st, 8) ? "outbound" : "inbound");
		js(&sb, "exe", ctext(st, 9));
		js(&sb, "process", ctext(st, 10));
		if (sqlite3_column_type(st, 11) != SQLITE_NULL) sb_printf(&sb, ",\"pid\":%d", sqlite3_column_int(st, 11));
		js(&sb, "name", ctext(st, 12));
		js(&sb, "name_source", ctext(st, 13));
		js(&sb, "registrable_domain", ctext(st, 14));
		js(&sb, "country", ctext(st, 15));
		if (sqlite3_column_int64(st, 16)) sb_printf(&sb, ",\"asn\":%lld", (long long)sqlite3_column_int64(st, 16));
		js(&sb, "as_org", ctext(st, 17));
		sb_printf(&sb, ",\"bytes_out\":%lld,\"bytes_in\":%lld", (long long)sqlite3_column_int64(st, 18),
			  (long long)sqlite3_column_int64(st, 19));
		js(&sb, "community_id", ctext(st, 20));
		sb_putc(&sb, '}');
	}
	sqlite3_finalize(st);
	sb_puts(&sb, "]}}");
	if (rc != SQLITE_DONE) db_error(r, db);
	else send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_compare(struct req *r)
{
	int64_t t[4] = { -1, -1, -1, -1 };
	static const char *const keys[] = { "a_since_ms", "a_until_ms", "b_since_ms", "b_until_ms" };
	for (int i = 0; i < 4; i++) {
		if (!opt_i64(r, keys[i], &t[i])) return;
		if (t[i] < 0) {
			server_error(r->c, "compare needs a_since_ms, a_until_ms, b_since_ms and b_until_ms");
			return;
		}
	}
	if (t[1] <= t[0] || t[3] <= t[2]) {
		server_error(r->c, "each range's until must be after its since");
		return;
	}
	char err[300];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL;
	/* seen in a range: (program, destination, country) */
	const char *sql =
		"WITH seen AS (SELECT e.path AS p, " DEST_EXPR " AS dst, nullif(d.country, '') AS cc, c.start_ms AS t, c.bytes_out AS bo,"
		" c.bytes_in AS bi FROM connections c LEFT JOIN executables e ON e.id = c.exe_id LEFT JOIN destinations d ON d.id = c.dest_id"
		" WHERE c.outbound = 1 AND ((c.start_ms >= ?1 AND c.start_ms < ?2) OR (c.start_ms >= ?3 AND c.start_ms < ?4))),"
		" a AS (SELECT * FROM seen WHERE t >= ?1 AND t < ?2), b AS (SELECT * FROM seen WHERE t >= ?3 AND t < ?4)"
		" SELECT 'program', p, '' FROM (SELECT DISTINCT p FROM b WHERE p IS NOT NULL EXCEPT SELECT p FROM a)"
		" UNION ALL SELECT 'destination', p, dst FROM (SELECT DISTINCT coalesce(p, '') AS p, dst FROM b EXCEPT SELECT coalesce(p, ''), dst FROM a)"
		" UNION ALL SELECT 'country', cc, '' FROM (SELECT DISTINCT cc FROM b WHERE cc IS NOT NULL EXCEPT SELECT cc FROM a)"
		" UNION ALL SELECT 'count_a', count(*), coalesce(sum(bo) + sum(bi), 0) FROM a"
		" UNION ALL SELECT 'count_b', count(*), coalesce(sum(bo) + sum(bi), 0) FROM b";
	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	for (int i = 0; i < 4; i++) sqlite3_bind_int64(st, i + 1, t[i]);
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "compare");
	sb_printf(&sb, "{\"a\":{\"since_ms\":%lld,\"until_ms\":%lld},\"b\":{\"since_ms\":%lld,\"until_ms\":%lld}", (long long)t[0],
		  (long long)t[1], (long long)t[2], (long long)t[3]);
	static const char *const parts[] = { "program", "destination", "country" };
	struct sbuf part[3];
	int np[3] = { 0 };
	for (int i = 0; i < 3; i++) sb_init_grow(&part[i], 1024, SERVER_MAX_REPLY / 4);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *kind = ctext(st, 0);
		if (!strncmp(kind, "count_", 6)) {
			sb_printf(&sb, ",\"connections_%c\":%lld,\"bytes_%c\":%lld", kind[6], (long long)sqlite3_column_int64(st, 1), kind[6],
				  (long long)sqlite3_column_int64(st, 2));
			continue;
		}
		for (int i = 0; i < 3; i++) {
			if (strcmp(kind, parts[i])) continue;
			struct sbuf *p = &part[i];
			if (np[i]++) sb_putc(p, ',');
			if (i == 1) {
				sb_puts(p, "{\"exe\":");
				if (*ctext(st, 1)) sb_json_str(p, ctext(st, 1), strlen(ctext(st, 1)));
				else sb_puts(p, "null");
				sb_puts(p, ",\"destination\":");
				sb_json_str(p, ctext(st, 2), strlen(ctext(st, 2)));
				sb_putc(p, '}');
			} else {
				sb_json_str(p, ctext(st, 1), strlen(ctext(st, 1)));
			}
		}
	}
	sqlite3_finalize(st);
	static const char *const names[] = { "new_programs", "new_destinations", "new_countries" };
	for (int i = 0; i < 3; i++) {
		sb_printf(&sb, ",\"%s\":[", names[i]);
		sb_put(&sb, part[i].buf, part[i].len);
		sb_putc(&sb, ']');
		if (part[i].trunc) sb.trunc = true;
		sb_free(&part[i]);
	}
	sb_puts(&sb, "}}");
	if (rc != SQLITE_DONE) db_error(r, db);
	else send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_alerts(struct req *r)
{
	int64_t since = 0;
	bool all = false;
	const struct jv *a = jsonr_get(&r->o, "all");
	if (!opt_i64(r, "since_ms", &since)) return;
	if (a && jsonr_bool(a, &all) < 0) {
		server_error(r->c, "all: true or false expected");
		return;
	}
	struct sbuf lines;
	sb_init_grow(&lines, 1 << 16, SERVER_MAX_REPLY);
	char err[600];
	if (report_alerts(r->s->dbpath, since, true, all, &lines, err, sizeof err) < 0) {
		server_error(r->c, "%s", err);
		sb_free(&lines);
		return;
	}
	/* NDJSON lines into one array (a JSON text holds no raw newline) */
	for (size_t i = 0; i + 1 < lines.len; i++)
		if (lines.buf[i] == '\n') lines.buf[i] = ',';
	struct sbuf sb;
	sb_init_grow(&sb, lines.len + 64, SERVER_MAX_REPLY);
	head(&sb, r->c, "alerts");
	sb_putc(&sb, '[');
	sb_put(&sb, lines.buf, lines.len ? lines.len - 1 : 0);
	sb_puts(&sb, "]}");
	if (lines.trunc) sb.trunc = true;
	send_reply(r->c, &sb);
	sb_free(&sb);
	sb_free(&lines);
}

static void do_new(struct req *r)
{
	int64_t since = r->now - 86400000;
	if (!opt_i64(r, "since_ms", &since)) return;
	struct sbuf obj;
	sb_init_grow(&obj, 1 << 14, SERVER_MAX_REPLY);
	char err[600];
	if (report_new(r->s->dbpath, since, true, &obj, err, sizeof err) < 0) {
		server_error(r->c, "%s", err);
		sb_free(&obj);
		return;
	}
	struct sbuf sb;
	sb_init_grow(&sb, obj.len + 64, SERVER_MAX_REPLY);
	head(&sb, r->c, "new");
	sb_put(&sb, obj.buf, obj.len && obj.buf[obj.len - 1] == '\n' ? obj.len - 1 : obj.len);
	sb_putc(&sb, '}');
	if (obj.trunc) sb.trunc = true;
	send_reply(r->c, &sb);
	sb_free(&sb);
	sb_free(&obj);
}

static void ok(struct req *r, const char *type, const char *message)
{
	struct sbuf sb;
	sb_init_grow(&sb, 512, 1 << 16);
	head(&sb, r->c, type);
	sb_puts(&sb, "{\"message\":");
	sb_json_str(&sb, message, strlen(message));
	sb_puts(&sb, "}}");
	send_reply(r->c, &sb);
	sb_free(&sb);
}

static bool admin(struct req *r, const char *what)
{
	if (server_access(r->c) == SRV_ADMIN) return true;
	r->s->denied++;
	fprintf(stderr, "pktscope: monitor: socket: uid %u (pid %d) may not %s: permission denied\n", (unsigned)server_uid(r->c),
		(int)server_pid(r->c), what);
	server_error(r->c, "permission denied: only root or the monitor's own user may %s", what);
	return false;
}

static void do_ack(struct req *r)
{
	int64_t id = -1;
	if (!opt_i64(r, "id", &id) || !admin(r, "acknowledge alerts")) return;
	if (id < 1) {
		server_error(r->c, "ack needs the alert's id");
		return;
	}
	char err[600], msg[80];
	int rc = report_ack(r->s->dbpath, (uint64_t)id, r->now, err, sizeof err);
	if (rc < 0) server_error(r->c, "%s", err);
	else if (rc == 1) server_error(r->c, "there is no alert #%lld", (long long)id);
	else {
		snprintf(msg, sizeof msg, "alert #%lld acknowledged", (long long)id);
		ok(r, "ack", msg);
	}
}

static void do_known(struct req *r)
{
	char op[16], dest[512];
	if (!opt_str(r, "op", op, sizeof op) || !opt_str(r, "program", r->program, sizeof r->program) ||
	    !opt_str(r, "destination", dest, sizeof dest))
		return;
	if (!strcmp(op, "list")) {
		char err[300];
		sqlite3 *db = rdb(r->s, err, sizeof err);
		sqlite3_stmt *st = NULL;
		if (!db || sqlite3_prepare_v2(db, "SELECT program, destination, added_ms FROM known ORDER BY program, destination", -1, &st,
					      NULL) != SQLITE_OK) {
			db_error(r, db);
			return;
		}
		struct sbuf sb;
		sb_init_grow(&sb, 4096, SERVER_MAX_REPLY);
		head(&sb, r->c, "known");
		sb_putc(&sb, '[');
		int n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			sb_puts(&sb, n++ ? ",{\"program\":" : "{\"program\":");
			sb_json_str(&sb, ctext(st, 0), strlen(ctext(st, 0)));
			js(&sb, "destination", ctext(st, 1));
			sb_printf(&sb, ",\"added_ms\":%lld}", (long long)sqlite3_column_int64(st, 2));
		}
		sqlite3_finalize(st);
		sb_puts(&sb, "]}");
		send_reply(r->c, &sb);
		sb_free(&sb);
		return;
	}
	if (strcmp(op, "add") && strcmp(op, "remove")) {
		server_error(r->c, "known: op is add, remove or list");
		return;
	}
	if (!r->program[0]) {
		server_error(r->c, "known %s needs a program", op);
		return;
	}
	if (!admin(r, "change the known list")) return;
	struct sbuf out;
	sb_init_grow(&out, 1024, 1 << 16);
	char err[600];
	int rc = report_known(r->s->dbpath, op, r->program, dest[0] ? dest : NULL, r->now, &out, err, sizeof err);
	if (rc < 0) {
		server_error(r->c, "%s", err);
	} else {
		if (r->s->bl) store_load_known(r->s->store, r->s->bl); /* in force now */
		if (out.len && out.buf[out.len - 1] == '\n') out.len--;
		sb_putc(&out, '\0');
		ok(r, "known", out.buf);
	}
	sb_free(&out);
}

static void do_subscribe(struct req *r)
{
	unsigned events = SERVER_EV_ALL;
	const struct jv *ev = jsonr_get(&r->o, "events");
	char name[16];
	if (ev && ev->type != JV_NULL) {
		events = 0;
		size_t pos = 0;
		bool bad;
		while (jsonr_next_str(ev, &pos, name, sizeof name, &bad)) {
			int bit = server_event_bit(name);
			if (!bit) {
				server_error(r->c, "events: '%s' is not one (open, update, close, alert, info)", name);
				return;
			}
			events |= (unsigned)bit;
		}
		if (bad || !events) {
			server_error(r->c, "events: a list of open, update, close, alert, info");
			return;
		}
	}
	if (!opt_str(r, "program", r->program, sizeof r->program)) return;
	server_subscribe(r->c, events, r->program);
	struct sbuf sb;
	sb_init_grow(&sb, 256, 4096);
	sb_puts(&sb, "{\"type\":\"subscribed\"");
	if (server_request_id(r->c) >= 0) sb_printf(&sb, ",\"id\":%lld", (long long)server_request_id(r->c));
	sb_puts(&sb, ",\"events\":[");
	static const char *const names[] = { "open", "update", "close", "alert", "info" };
	for (int i = 0, n = 0; i < 5; i++)
		if (events & (1u << i)) sb_printf(&sb, "%s\"%s\"", n++ ? "," : "", names[i]);
	sb_puts(&sb, "]}");
	send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_stop(struct req *r)
{
	if (!admin(r, "stop the monitor")) return;
	fprintf(stderr, "pktscope: monitor: stopping: asked by uid %u (pid %d)\n", (unsigned)server_uid(r->c), (int)server_pid(r->c));
	r->s->stop = true;
	char line[64];
	int n = snprintf(line, sizeof line, "{\"type\":\"stopping\"");
	if (server_request_id(r->c) >= 0) n += snprintf(line + n, sizeof line - (size_t)n, ",\"id\":%lld", (long long)server_request_id(r->c));
	n += snprintf(line + n, sizeof line - (size_t)n, "}");
	server_reply(r->c, line, (size_t)n);
}

static void do_hello(struct req *r)
{
	int64_t proto = -1;
	const struct jv *v = jsonr_get(&r->o, "protocol");
	if (!v || jsonr_i64(v, &proto) < 0) {
		server_error(r->c, "hello needs the protocol the client speaks: {\"type\":\"hello\",\"protocol\":%d}", SERVER_PROTOCOL);
		return;
	}
	if (proto != SERVER_PROTOCOL) {
		server_error(r->c, "protocol %lld is not spoken here: this monitor (pktscope %s) speaks protocol %d", (long long)proto,
			     PKTSCOPE_VERSION, SERVER_PROTOCOL);
		return;
	}
	server_hello_done(r->c);
	char line[128];
	int n = snprintf(line, sizeof line, "{\"type\":\"ready\",\"protocol\":%d}", SERVER_PROTOCOL);
	server_reply(r->c, line, (size_t)n);
}

void service_handle(void *ctx, struct server_client *c, const char *line, size_t len)
{
	struct req *r = xcalloc(1, sizeof *r); /* the parsed object is 1.3 kB: off the stack */
	r->s = ctx;
	r->c = c;
	r->now = now_ms();
	char err[200];
	if (jsonr_object(line, len, &r->o, err, sizeof err) < 0) {
		server_malformed(c);
		server_error(c, "not a JSON object: %s", err);
		free(r);
		return;
	}
	int64_t id;
	const struct jv *idv = jsonr_get(&r->o, "id");
	if (idv && jsonr_i64(idv, &id) == 0 && id >= 0) server_set_request_id(c, id);
	if (jsonr_str(jsonr_get(&r->o, "type"), r->type, sizeof r->type) < 0) {
		server_malformed(c);
		server_error(c, "a request needs a \"type\" (a string)");
		free(r);
		return;
	}
	static const struct { const char *name; void (*fn)(struct req *); } reqs[] = {
		{ "status", do_status }, { "connections", do_connections }, { "processes", do_processes },
		{ "destinations", do_destinations }, { "history", do_history }, { "compare", do_compare },
		{ "alerts", do_alerts }, { "new", do_new }, { "ack", do_ack }, { "known", do_known },
		{ "subscribe", do_subscribe }, { "stop", do_stop },
	};
	if (!strcmp(r->type, "hello")) {
		do_hello(r);
	} else if (!server_said_hello(c)) {
		server_error(c, "say hello first: {\"type\":\"hello\",\"protocol\":%d}", SERVER_PROTOCOL);
	} else {
		size_t i;
		for (i = 0; i < sizeof reqs / sizeof *reqs && strcmp(reqs[i].name, r->type); i++) {
		}
		if (i < sizeof reqs / sizeof *reqs) {
			reqs[i].fn(r);
		} else {
			server_malformed(c);
			server_error(c, "unknown request '%s' (status, connections, processes, destinations, history, compare, alerts, new,"
					" ack, known, subscribe, stop)", r->type);
		}
	}
	free(r);
}

void service_event(void *ctx, const char *event, const char *program, const char *line, size_t len)
{
	struct service *s = ctx;
	int bit = server_event_bit(event);
	if (bit && s->srv) server_publish(s->srv, (unsigned)bit, program, line, len);
}
