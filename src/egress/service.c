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
#include "util/hash.h"
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

/* The connections of a time range as rows to add up (conns, bytes, first and last ms per
 * program, destination, name and direction): the store's hourly table for the whole hours
 * inside the range where it is exact, the connections themselves for the rest. A day of
 * millions of connections is a few thousand rows per hour. Parameters p..p+3: the range
 * and the hours taken from the table (span_bind). */
static void span_sql(struct sbuf *sb, const char *name, int p)
{
	sb_printf(sb,
		  "%s AS (SELECT exe_id, dest_id, name, outbound, conns, bytes_out, bytes_in, first_ms, last_ms FROM hourly"
		  " WHERE hour_ms >= ?%d AND hour_ms < ?%d UNION ALL SELECT coalesce(exe_id, 0), coalesce(dest_id, 0),"
		  " coalesce(name, ''), outbound, 1, bytes_out, bytes_in, start_ms, end_ms FROM connections"
		  " WHERE (start_ms >= ?%d AND start_ms < ?%d) OR (start_ms >= ?%d AND start_ms < ?%d))",
		  name, p + 2, p + 3, p, p + 2, p + 3, p + 1);
}

/* The destination of a span's row s (joined to destinations d): as DEST_EXPR. */
#define SPAN_DEST "coalesce(nullif(d.registrable, ''), nullif(s.name, ''), d.addr)"

static int64_t hour_floor(int64_t ms) { return ms / STORE_HOUR_MS * STORE_HOUR_MS; }

static void span_bind(sqlite3 *db, sqlite3_stmt *st, int p, int64_t since, int64_t until)
{
	int64_t from = 0; /* where the hourly table is exact */
	sqlite3_stmt *m;
	if (sqlite3_prepare_v2(db, "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'hourly_from'", -1, &m, NULL) == SQLITE_OK) {
		if (sqlite3_step(m) == SQLITE_ROW) from = sqlite3_column_int64(m, 0);
		sqlite3_finalize(m);
	}
	int64_t a = hour_floor(since + STORE_HOUR_MS - 1), b = hour_floor(until);
	if (a < from) a = from;
	if (a >= b) a = b = until; /* no whole hour: the connections alone */
	sqlite3_bind_int64(st, p, since);
	sqlite3_bind_int64(st, p + 1, until);
	sqlite3_bind_int64(st, p + 2, a);
	sqlite3_bind_int64(st, p + 3, b);
}

static void do_processes(struct req *r)
{
	if (!range(r)) return;
	char err[300];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL;
	char sql[1500];
	struct sbuf q;
	sb_init_fixed(&q, sql, sizeof sql);
	sb_puts(&q, "WITH ");
	span_sql(&q, "s", 1);
	sb_puts(&q, " SELECT e.path, e.name, sum(s.conns), sum(s.bytes_out), sum(s.bytes_in), count(DISTINCT " SPAN_DEST "),"
		    " min(s.first_ms), max(s.last_ms) FROM s JOIN executables e ON e.id = s.exe_id"
		    " LEFT JOIN destinations d ON d.id = s.dest_id GROUP BY e.path");
	sb_cstr(&q);
	if (!db || q.trunc || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	span_bind(db, st, 1, r->since, r->until);
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

/* destinations of one program: the stored rows, then its open connections added (the
 * destinations it talks to now). */
struct dest_agg {
	char dest[256], country[4], as_org[128], address[46];
	int64_t asn, conns, live, bytes_out, bytes_in, first_ms, last_ms, addresses, programs, dests;
};

struct dest_walk {
	const char *program;
	bool org;
	struct dest_agg *d;
	int n, cap;
	int *slot;                     /* open addressing over d by name: index + 1, 0 free */
	size_t nslots;
	struct hash_seed seed;
};

static size_t dest_slot(const struct dest_walk *w, const char *dest)
{
	size_t i = (size_t)siphash13(&w->seed, dest, strlen(dest)) & (w->nslots - 1);
	while (w->slot[i] && strcmp(w->d[w->slot[i] - 1].dest, dest)) i = (i + 1) & (w->nslots - 1);
	return i;
}

static struct dest_agg *dest_of(struct dest_walk *w, const char *dest)
{
	if ((size_t)w->n * 2 >= w->nslots) { /* half full at most: the slots again, twice as many */
		w->nslots = w->nslots ? w->nslots * 2 : 1024;
		free(w->slot);
		w->slot = xcalloc(w->nslots, sizeof *w->slot);
		for (int i = 0; i < w->n; i++) w->slot[dest_slot(w, w->d[i].dest)] = i + 1;
	}
	size_t i = dest_slot(w, dest);
	if (w->slot[i]) return &w->d[w->slot[i] - 1];
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->d = xrealloc(w->d, (size_t)w->cap * sizeof *w->d);
	}
	struct dest_agg *a = &w->d[w->n++];
	memset(a, 0, sizeof *a);
	snprintf(a->dest, sizeof a->dest, "%s", dest);
	w->slot[i] = w->n;
	return a;
}

static void dest_live(void *ctx, const struct monitor_conn_view *v)
{
	struct dest_walk *w = ctx;
	if (v->closed || strcmp(v->direction, "outbound") || strcmp(v->exe, w->program)) return;
	const char *dest = v->registrable[0] ? v->registrable : v->name[0] ? v->name : v->raddr;
	char asn[24];
	snprintf(asn, sizeof asn, "AS%u", v->asn);
	if (w->org) dest = v->as_org[0] ? v->as_org : v->asn ? asn : dest;
	struct dest_agg *a = dest_of(w, dest);
	if (!a->conns && !a->live) { /* new here */
		snprintf(a->country, sizeof a->country, "%s", v->country);
		a->asn = v->asn;
		snprintf(a->as_org, sizeof a->as_org, "%s", v->as_org);
		snprintf(a->address, sizeof a->address, "%s", v->raddr);
		a->addresses = a->programs = a->dests = 1;
		a->first_ms = v->start_ms;
	}
	a->conns++;
	a->live++;
	a->bytes_out += (int64_t)v->bytes_out;
	a->bytes_in += (int64_t)v->bytes_in;
	if (v->start_ms < a->first_ms) a->first_ms = v->start_ms;
	if (v->last_ms > a->last_ms) a->last_ms = v->last_ms;
}

static int cmp_dest(const void *x, const void *y)
{
	const struct dest_agg *a = x, *b = y;
	int64_t ba = a->bytes_out + a->bytes_in, bb = b->bytes_out + b->bytes_in;
	return ba < bb ? 1 : ba > bb ? -1 : strcmp(a->dest, b->dest);
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
	char err[300], sql[2000];
	sqlite3 *db = rdb(r->s, err, sizeof err);
	sqlite3_stmt *st = NULL;
	struct sbuf q;
	sb_init_fixed(&q, sql, sizeof sql);
	sb_puts(&q, "WITH ");
	span_sql(&q, "s", 1);
	/* by org: the AS organisation, else the AS number, else the destination itself */
	sb_printf(&q,
		  " SELECT %s AS dest, max(d.country), max(d.asn), max(d.as_org), sum(s.conns), sum(s.bytes_out), sum(s.bytes_in),"
		  " min(s.first_ms), max(s.last_ms), count(DISTINCT s.dest_id), max(d.addr), count(DISTINCT nullif(s.exe_id, 0)),"
		  " count(DISTINCT " SPAN_DEST ") FROM s LEFT JOIN executables e ON e.id = s.exe_id"
		  " LEFT JOIN destinations d ON d.id = s.dest_id WHERE (?5 = '' OR e.path = ?5) AND s.outbound = 1"
		  " GROUP BY dest ORDER BY sum(s.bytes_out) + sum(s.bytes_in) DESC",
		  org ? "coalesce(nullif(d.as_org, ''), 'AS' || nullif(d.asn, 0), " SPAN_DEST ")" : SPAN_DEST);
	sb_cstr(&q);
	if (!db || q.trunc || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	span_bind(db, st, 1, r->since, r->until);
	sqlite3_bind_text(st, 5, r->program, -1, SQLITE_STATIC);
	struct dest_walk w = { .program = r->program, .org = org, .seed = hash_seed_random() };
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dest_agg *a = dest_of(&w, ctext(st, 0));
		snprintf(a->country, sizeof a->country, "%s", ctext(st, 1));
		a->asn = sqlite3_column_int64(st, 2);
		snprintf(a->as_org, sizeof a->as_org, "%s", ctext(st, 3));
		a->conns = sqlite3_column_int64(st, 4);
		a->bytes_out = sqlite3_column_int64(st, 5);
		a->bytes_in = sqlite3_column_int64(st, 6);
		a->first_ms = sqlite3_column_int64(st, 7);
		a->last_ms = sqlite3_column_int64(st, 8);
		a->addresses = sqlite3_column_int64(st, 9);
		snprintf(a->address, sizeof a->address, "%s", ctext(st, 10));
		a->programs = sqlite3_column_int64(st, 11);
		a->dests = sqlite3_column_int64(st, 12);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(w.d);
		free(w.slot);
		db_error(r, db);
		return;
	}
	/* one program's, up to now: its open connections too (everyone's stay the stored ones,
	 * whose distinct counts of programs and addresses are exact) */
	if (r->program[0] && r->until > r->now) monitor_each(r->s->mon, dest_live, &w);
	qsort(w.d, (size_t)w.n, sizeof *w.d, cmp_dest);
	struct sbuf sb;
	sb_init_grow(&sb, 1 << 16, SERVER_MAX_REPLY);
	head(&sb, r->c, "destinations");
	sb_putc(&sb, '[');
	for (int i = 0; i < w.n; i++) {
		const struct dest_agg *a = &w.d[i];
		sb_puts(&sb, i ? ",{\"destination\":" : "{\"destination\":");
		sb_json_str(&sb, a->dest, strlen(a->dest));
		js(&sb, "country", a->country);
		if (a->asn) sb_printf(&sb, ",\"asn\":%lld", (long long)a->asn);
		js(&sb, "as_org", a->as_org);
		sb_printf(&sb, ",\"connections\":%lld,\"live\":%lld,\"bytes_out\":%lld,\"bytes_in\":%lld,\"first_ms\":%lld,\"last_ms\":%lld,"
			       "\"addresses\":%lld",
			  (long long)a->conns, (long long)a->live, (long long)a->bytes_out, (long long)a->bytes_in, (long long)a->first_ms,
			  (long long)a->last_ms, (long long)a->addresses);
		js(&sb, "address", a->address);
		sb_printf(&sb, ",\"programs\":%lld,\"destinations\":%lld}", (long long)a->programs, (long long)a->dests);
	}
	sb_puts(&sb, "]}");
	free(w.d);
	free(w.slot);
	send_reply(r->c, &sb);
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
	/* one program's: by its index (exe_id, start_ms), not a walk back through everyone's */
	const char *where = r->program[0] ? " WHERE c.exe_id IN (SELECT id FROM executables WHERE path = ?3) AND c.start_ms >= ?1"
					    " AND c.start_ms < ?2"
					  : " WHERE c.start_ms >= ?1 AND c.start_ms < ?2 AND ?3 = ''";
	char sql[1200];
	snprintf(sql, sizeof sql,
		 "SELECT c.id, c.start_ms, c.end_ms, c.state, c.proto, c.remote_addr, c.remote_port, c.local_port, c.outbound,"
		 " e.path, e.name, c.pid, c.name, c.name_source, d.registrable, d.country, d.asn, d.as_org, c.bytes_out, c.bytes_in,"
		 " c.community_id FROM connections c LEFT JOIN executables e ON e.id = c.exe_id LEFT JOIN destinations d"
		 " ON d.id = c.dest_id%s ORDER BY c.start_ms DESC, c.id DESC LIMIT ?4", where);
	/* the totals: the hours of the range from the hourly table */
	char csql[1200];
	struct sbuf q;
	sb_init_fixed(&q, csql, sizeof csql);
	sb_puts(&q, "WITH ");
	span_sql(&q, "s", 1);
	sb_puts(&q, " SELECT coalesce(sum(conns), 0), coalesce(sum(bytes_out), 0), coalesce(sum(bytes_in), 0) FROM s"
		    " WHERE ?5 = '' OR exe_id IN (SELECT id FROM executables WHERE path = ?5)");
	sb_cstr(&q);
	if (!db || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK || sqlite3_prepare_v2(db, csql, -1, &cnt, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		db_error(r, db);
		return;
	}
	sqlite3_bind_int64(st, 1, r->since);
	sqlite3_bind_int64(st, 2, r->until);
	sqlite3_bind_text(st, 3, r->program, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, limit);
	span_bind(db, cnt, 1, r->since, r->until);
	sqlite3_bind_text(cnt, 5, r->program, -1, SQLITE_STATIC);
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
	/* seen in each range: (program, destination, country) */
	char sql[3000];
	struct sbuf q;
	sb_init_fixed(&q, sql, sizeof sql);
	sb_puts(&q, "WITH ");
	span_sql(&q, "sa", 1);
	sb_puts(&q, ", ");
	span_sql(&q, "sb", 5);
	sb_puts(&q, ", a AS (SELECT e.path AS p, " SPAN_DEST " AS dst, nullif(d.country, '') AS cc, s.conns AS n, s.bytes_out + s.bytes_in AS bytes"
		    " FROM sa s LEFT JOIN executables e ON e.id = s.exe_id LEFT JOIN destinations d ON d.id = s.dest_id WHERE s.outbound = 1),"
		    " b AS (SELECT e.path AS p, " SPAN_DEST " AS dst, nullif(d.country, '') AS cc, s.conns AS n, s.bytes_out + s.bytes_in AS bytes"
		    " FROM sb s LEFT JOIN executables e ON e.id = s.exe_id LEFT JOIN destinations d ON d.id = s.dest_id WHERE s.outbound = 1)"
		    " SELECT 'program', p, '' FROM (SELECT DISTINCT p FROM b WHERE p IS NOT NULL EXCEPT SELECT p FROM a)"
		    " UNION ALL SELECT 'destination', p, dst FROM (SELECT DISTINCT coalesce(p, '') AS p, dst FROM b EXCEPT SELECT coalesce(p, ''), dst FROM a)"
		    " UNION ALL SELECT 'country', cc, '' FROM (SELECT DISTINCT cc FROM b WHERE cc IS NOT NULL EXCEPT SELECT cc FROM a)"
		    " UNION ALL SELECT 'count_a', coalesce(sum(n), 0), coalesce(sum(bytes), 0) FROM a"
		    " UNION ALL SELECT 'count_b', coalesce(sum(n), 0), coalesce(sum(bytes), 0) FROM b");
	sb_cstr(&q);
	if (!db || q.trunc || sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		db_error(r, db);
		return;
	}
	span_bind(db, st, 1, t[0], t[1]);
	span_bind(db, st, 5, t[2], t[3]);
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

/* "format": "text" asked (the command line's own output, as a string), or JSON. */
static bool want_text(struct req *r, bool *text)
{
	char f[16];
	if (!opt_str(r, "format", f, sizeof f)) return false;
	*text = !strcmp(f, "text");
	if (f[0] && !*text && strcmp(f, "json")) {
		server_error(r->c, "format: json or text");
		return false;
	}
	return true;
}

static void text_reply(struct req *r, const char *type, const struct sbuf *text)
{
	struct sbuf sb;
	sb_init_grow(&sb, text->len + 256, SERVER_MAX_REPLY);
	head(&sb, r->c, type);
	sb_json_str(&sb, text->buf, text->len);
	sb_putc(&sb, '}');
	if (text->trunc) sb.trunc = true;
	send_reply(r->c, &sb);
	sb_free(&sb);
}

static void do_alerts(struct req *r)
{
	int64_t since = 0;
	bool all = false, text = false;
	const struct jv *a = jsonr_get(&r->o, "all");
	if (!opt_i64(r, "since_ms", &since) || !want_text(r, &text)) return;
	if (a && jsonr_bool(a, &all) < 0) {
		server_error(r->c, "all: true or false expected");
		return;
	}
	struct sbuf lines;
	sb_init_grow(&lines, 1 << 16, SERVER_MAX_REPLY);
	char err[600];
	if (report_alerts(r->s->dbpath, since, !text, all, &lines, err, sizeof err) < 0) {
		server_error(r->c, "%s", err);
		sb_free(&lines);
		return;
	}
	if (text) {
		text_reply(r, "alerts", &lines);
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
	bool text = false;
	if (!opt_i64(r, "since_ms", &since) || !want_text(r, &text)) return;
	struct sbuf obj;
	sb_init_grow(&obj, 1 << 14, SERVER_MAX_REPLY);
	char err[600];
	if (report_new(r->s->dbpath, since, !text, &obj, err, sizeof err) < 0) {
		server_error(r->c, "%s", err);
		sb_free(&obj);
		return;
	}
	if (text) {
		text_reply(r, "new", &obj);
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
	bool text = false;
	if (!opt_str(r, "op", op, sizeof op) || !opt_str(r, "program", r->program, sizeof r->program) ||
	    !opt_str(r, "destination", dest, sizeof dest) || !want_text(r, &text))
		return;
	if (!strcmp(op, "list") && text) {
		struct sbuf out;
		sb_init_grow(&out, 4096, SERVER_MAX_REPLY);
		char err[600];
		if (report_known(r->s->dbpath, "list", NULL, NULL, r->now, &out, err, sizeof err) < 0) server_error(r->c, "%s", err);
		else text_reply(r, "known", &out);
		sb_free(&out);
		return;
	}
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
	if (out.len && out.buf[out.len - 1] == '\n') out.len--;
	sb_putc(&out, '\0');
	if (rc < 0) {
		server_error(r->c, "%s", err);
	} else if (rc == 1) {
		server_error(r->c, "%s", out.buf); /* "was not known: …" */
	} else {
		if (r->s->bl) store_load_known(r->s->store, r->s->bl); /* in force now */
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
