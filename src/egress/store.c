/* egress/store.c — the monitor's SQLite store (see store.h). One writer thread owns the
 * database once it is open: the monitor's thread only appends to a queue under a mutex;
 * the writer takes the whole queue (swapping buffers) about once a second, or sooner when
 * it fills, and writes it in one transaction, then applies retention now and then. */
#include "egress/store.h"

#include <errno.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/baseline.h"
#include "util/xalloc.h"

struct pending_name { char addr[46], name[256], source[16]; int64_t ms; };

/* The baseline's records: each kind one statement, its text and numbers in order. */
enum op_kind { OP_META, OP_SEEN, OP_IDENTITY, OP_CHANGE, OP_ALERT, OP_COOLDOWN, OP_VOLUME, OP_COUNT };
static const char *const op_sql[OP_COUNT] = {
	[OP_META] = "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET value = ?2",
	[OP_SEEN] = "INSERT INTO baseline_seen (program, kind, value, first_seen_ms) VALUES (?1, ?2, ?3, ?4)"
		    " ON CONFLICT DO NOTHING",
	[OP_IDENTITY] = "INSERT INTO identities (program, sha256, package, version, first_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5)"
			" ON CONFLICT (program, sha256) DO UPDATE SET first_seen_ms = ?5, package = ?3, version = ?4",
	[OP_CHANGE] = "INSERT INTO identity_changes (program, old_sha256, new_sha256, how, detail, ts_ms, alert_id)"
		      " VALUES (?1, ?2, ?3, ?4, ?5, ?6, nullif(?7, 0))",
	[OP_ALERT] = "INSERT INTO alerts (id, ts_ms, kind, severity, program, name, exe, pid, package, destination, address,"
		     " country, asn, as_org, community_id, dedup_key, title, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7,"
		     " nullif(?8, 0), ?9, ?10, ?11, ?12, nullif(?13, 0), ?14, ?15, ?16, ?17, ?18)",
	[OP_COOLDOWN] = "INSERT INTO cooldowns (key, until_ms) VALUES (?1, ?2) ON CONFLICT (key) DO UPDATE SET until_ms = ?2",
	[OP_VOLUME] = "INSERT INTO volume (program, interval_start_ms, bytes) VALUES (?1, ?2, ?3)"
		      " ON CONFLICT DO UPDATE SET bytes = ?3",
};
#define OP_TEXTS 5
struct pending_op {
	enum op_kind kind;
	char *t[OP_TEXTS];  /* owned; NULL binds NULL */
	int64_t n[3];
	struct bl_alert *alert;
};

#define WRITE_EVERY_MS 1000      /* a batch at most about this often */
#define WRITE_SOONER_ROWS 4096    /* or as soon as this many wait */
#define RETAIN_EVERY_MS 600000    /* retention runs every ten minutes (and at start) */

struct batch {
	struct store_conn *q;
	size_t nq, capq;
	struct pending_name *names;
	size_t nnames, capnames;
	struct pending_op *ops;
	size_t nops, capops;
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_exe, *ins_dest, *ins_conn, *ins_name, *ins_proc; /* the upserts return the row's id */
	sqlite3_stmt *ins_hour;       /* the connection added to its hour (table hourly) */
	sqlite3_stmt *op_st[OP_COUNT];
	sqlite3 *rdb;                 /* the monitor's thread's own connection, for reading */
	pthread_mutex_t mu;
	pthread_cond_t wake, done;
	pthread_t writer;
	bool running, stop;
	struct batch in, out;         /* appended to under mu; written by the writer alone */
	uint64_t asked, finished;     /* flush requests and the ones written */
	char err[256];                /* the writer's last failure, until said */
	int64_t max_age_ms;           /* retention (0: none) */
	uint64_t max_bytes;
	int64_t retained_ms;
	int64_t clock_ms;             /* a replay's clock, or 0 (store_set_clock) */
	bool wait;                    /* a replay: a full queue waits for the writer (store_set_wait) */
	struct store_stats st;
};

static void *writer_main(void *arg);

/* Each migration takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 1: programs, destinations, names, connections */
	"CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;"
	"CREATE TABLE executables (id INTEGER PRIMARY KEY, path TEXT NOT NULL, uid INTEGER NOT NULL,"
	"  name TEXT NOT NULL, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
	"  UNIQUE (path, uid)) STRICT;"
	"CREATE TABLE destinations (id INTEGER PRIMARY KEY, addr TEXT NOT NULL UNIQUE, name TEXT,"
	"  name_source TEXT, registrable TEXT, country TEXT, asn INTEGER, as_org TEXT,"
	"  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL) STRICT;"
	"CREATE INDEX destinations_registrable ON destinations (registrable);"
	"CREATE TABLE names (addr TEXT NOT NULL, name TEXT NOT NULL, source TEXT NOT NULL,"
	"  first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, PRIMARY KEY (addr, name, source)) STRICT;"
	"CREATE TABLE connections (id INTEGER PRIMARY KEY, start_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
	"  state TEXT NOT NULL, proto INTEGER NOT NULL, family INTEGER NOT NULL, local_addr TEXT NOT NULL,"
	"  local_port INTEGER NOT NULL, remote_addr TEXT NOT NULL, remote_port INTEGER NOT NULL,"
	"  outbound INTEGER NOT NULL, exe_id INTEGER REFERENCES executables (id), pid INTEGER, uid INTEGER,"
	"  attribution TEXT NOT NULL, unknown_why TEXT, dest_id INTEGER REFERENCES destinations (id),"
	"  name TEXT, name_source TEXT, community_id TEXT, sni TEXT, ja4 TEXT,"
	"  bytes_out INTEGER NOT NULL, bytes_in INTEGER NOT NULL, packets_out INTEGER NOT NULL,"
	"  packets_in INTEGER NOT NULL) STRICT;"
	"CREATE INDEX connections_start ON connections (start_ms);"
	"CREATE INDEX connections_exe ON connections (exe_id, start_ms);"
	"CREATE INDEX connections_dest ON connections (dest_id, start_ms);",
	/* 2: processes (one row per process: pid and start), hidden names, encrypted DNS */
	"CREATE TABLE processes (id INTEGER PRIMARY KEY, pid INTEGER NOT NULL, start_ms INTEGER NOT NULL,"
	"  exe_id INTEGER REFERENCES executables (id), name TEXT NOT NULL, uid INTEGER NOT NULL, cmdline TEXT,"
	"  netns INTEGER, cgroup TEXT, first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL,"
	"  UNIQUE (pid, start_ms, exe_id)) STRICT;"
	"CREATE INDEX processes_exe ON processes (exe_id);"
	"ALTER TABLE connections ADD COLUMN process_id INTEGER REFERENCES processes (id);"
	"ALTER TABLE connections ADD COLUMN name_hidden TEXT;"
	"ALTER TABLE connections ADD COLUMN encrypted_dns TEXT;"
	"CREATE INDEX connections_process ON connections (process_id);",
	/* 3: the baseline (first-seen keys, binaries, volume), alerts, cooldowns, the known list */
	"CREATE TABLE baseline_seen (program TEXT NOT NULL, kind TEXT NOT NULL, value TEXT NOT NULL,"
	"  first_seen_ms INTEGER NOT NULL, PRIMARY KEY (program, kind, value)) STRICT, WITHOUT ROWID;"
	"CREATE INDEX baseline_seen_time ON baseline_seen (first_seen_ms);"
	"CREATE TABLE identities (id INTEGER PRIMARY KEY, program TEXT NOT NULL, sha256 TEXT NOT NULL, package TEXT,"
	"  version TEXT, first_seen_ms INTEGER NOT NULL, UNIQUE (program, sha256)) STRICT;"
	"CREATE TABLE identity_changes (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, program TEXT NOT NULL,"
	"  old_sha256 TEXT, new_sha256 TEXT NOT NULL, how TEXT NOT NULL, detail TEXT NOT NULL, alert_id INTEGER) STRICT;"
	"CREATE INDEX identity_changes_time ON identity_changes (ts_ms);"
	"CREATE TABLE alerts (id INTEGER PRIMARY KEY, ts_ms INTEGER NOT NULL, kind TEXT NOT NULL, severity TEXT NOT NULL,"
	"  program TEXT NOT NULL, name TEXT, exe TEXT, pid INTEGER, package TEXT, destination TEXT, address TEXT,"
	"  country TEXT, asn INTEGER, as_org TEXT, community_id TEXT, dedup_key TEXT NOT NULL, title TEXT NOT NULL,"
	"  evidence TEXT NOT NULL, acked_ms INTEGER) STRICT;"
	"CREATE INDEX alerts_time ON alerts (ts_ms);"
	"CREATE TABLE cooldowns (key TEXT PRIMARY KEY, until_ms INTEGER NOT NULL) STRICT;"
	"CREATE TABLE known (program TEXT NOT NULL, destination TEXT NOT NULL DEFAULT '', added_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (program, destination)) STRICT;"
	"CREATE TABLE volume (program TEXT NOT NULL, interval_start_ms INTEGER NOT NULL, bytes INTEGER NOT NULL,"
	"  PRIMARY KEY (program, interval_start_ms)) STRICT, WITHOUT ROWID;",
	/* 4: the connections added up per hour, program, destination and name (what a day's
	 * views read instead of millions of rows: egress/service.c); exact for the hours from
	 * meta hourly_from on (retention moves it: store_retain) */
	"CREATE TABLE hourly (hour_ms INTEGER NOT NULL, exe_id INTEGER NOT NULL, dest_id INTEGER NOT NULL, name TEXT NOT NULL,"
	"  outbound INTEGER NOT NULL, conns INTEGER NOT NULL, bytes_out INTEGER NOT NULL, bytes_in INTEGER NOT NULL,"
	"  first_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL, PRIMARY KEY (hour_ms, exe_id, dest_id, name, outbound))"
	"  STRICT, WITHOUT ROWID;"
	"INSERT INTO hourly SELECT start_ms / 3600000 * 3600000, coalesce(exe_id, 0), coalesce(dest_id, 0), coalesce(name, ''),"
	"  outbound, count(*), sum(bytes_out), sum(bytes_in), min(start_ms), max(end_ms) FROM connections GROUP BY 1, 2, 3, 4, 5;"
	"INSERT OR REPLACE INTO meta (key, value) VALUES ('hourly_from', '0');"
	/* no query looks connections up by destination, and its random order cost each batch a
	 * page per row once the index outgrew the cache */
	"DROP INDEX connections_dest;",
};

static int fail(struct store *s, char *err, size_t errlen, const char *what)
{
	snprintf(err, errlen, "%s: %s", what, s && s->db ? sqlite3_errmsg(s->db) : "out of memory");
	return -1;
}

static int prepare(struct store *s, sqlite3_stmt **st, const char *sql, char *err, size_t errlen)
{
	return sqlite3_prepare_v2(s->db, sql, -1, st, NULL) == SQLITE_OK ? 0 : fail(s, err, errlen, "preparing");
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK) return fail(s, err, errlen, "reading the schema version");
	int v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	sqlite3_finalize(st);
	int nmig = (int)(sizeof migrations / sizeof migrations[0]);
	if (v > nmig) {
		snprintf(err, errlen, "the store has schema version %d, newer than this pktscope's %d", v, nmig);
		return -1;
	}
	for (; v < nmig; v++) {
		char sql[64];
		snprintf(sql, sizeof sql, "PRAGMA user_version = %d", v + 1);
		if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, migrations[v], NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, sql, NULL, NULL, NULL) != SQLITE_OK ||
		    sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
			fail(s, err, errlen, "migrating the schema");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

struct store *store_open(const char *path, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof *s);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->wake, NULL);
	pthread_cond_init(&s->done, NULL);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		fail(s, err, errlen, path);
		sqlite3_close(s->db);
		free(s);
		return NULL;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (sqlite3_exec(s->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON",
			 NULL, NULL, NULL) != SQLITE_OK ||
	    migrate(s, err, errlen) < 0 ||
	    prepare(s, &s->ins_exe,
		    "INSERT INTO executables (path, uid, name, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?4)"
		    " ON CONFLICT (path, uid) DO UPDATE SET last_seen_ms = max(last_seen_ms, ?4), name = ?3 RETURNING id",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_dest,
		    "INSERT INTO destinations (addr, name, name_source, registrable, country, asn, as_org, first_seen_ms,"
		    " last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (addr) DO UPDATE SET"
		    " last_seen_ms = max(last_seen_ms, ?8), name = coalesce(?2, name), name_source = coalesce(?3, name_source),"
		    " registrable = coalesce(?4, registrable), country = coalesce(?5, country), asn = coalesce(?6, asn),"
		    " as_org = coalesce(?7, as_org) RETURNING id",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_conn,
		    "INSERT INTO connections (start_ms, end_ms, state, proto, family, local_addr, local_port, remote_addr,"
		    " remote_port, outbound, exe_id, pid, uid, attribution, unknown_why, dest_id, name, name_source,"
		    " community_id, sni, ja4, bytes_out, bytes_in, packets_out, packets_in, process_id, name_hidden,"
		    " encrypted_dns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,"
		    " ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28)",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_proc,
		    "INSERT INTO processes (pid, start_ms, exe_id, name, uid, cmdline, netns, cgroup, first_seen_ms, last_seen_ms)"
		    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9) ON CONFLICT (pid, start_ms, exe_id) DO UPDATE SET"
		    " last_seen_ms = max(last_seen_ms, ?9), cmdline = coalesce(?6, cmdline), netns = coalesce(?7, netns),"
		    " cgroup = coalesce(?8, cgroup) RETURNING id",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_hour,
		    "INSERT INTO hourly VALUES (?1 / " STORE_HOUR_MS_TEXT " * " STORE_HOUR_MS_TEXT ", ?2, ?3, ?4, ?5, 1, ?6, ?7, ?1, ?8)"
		    " ON CONFLICT DO UPDATE SET conns = conns + 1, bytes_out = bytes_out + ?6, bytes_in = bytes_in + ?7,"
		    " first_ms = min(first_ms, ?1), last_ms = max(last_ms, ?8)",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_name,
		    "INSERT INTO names (addr, name, source, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?4)"
		    " ON CONFLICT DO UPDATE SET last_seen_ms = max(last_seen_ms, ?4)",
		    err, errlen) < 0) {
		if (!err[0]) fail(s, err, errlen, path);
		store_close(s, NULL, 0);
		return NULL;
	}
	for (int i = 0; i < OP_COUNT; i++)
		if (prepare(s, &s->op_st[i], op_sql[i], err, errlen) < 0) {
			store_close(s, NULL, 0);
			return NULL;
		}
	if (sqlite3_open_v2(path, &s->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(s->rdb));
		store_close(s, NULL, 0);
		return NULL;
	}
	sqlite3_busy_timeout(s->rdb, 5000);
	if (pthread_create(&s->writer, NULL, writer_main, s) != 0) {
		snprintf(err, errlen, "%s: starting the writer thread", path);
		store_close(s, NULL, 0);
		return NULL;
	}
	s->running = true;
	return s;
}

/* Whether the queue takes one more row (under mu); a row it cannot take is counted. A
 * replay (store_set_wait) waits for the writer instead, with a batch's worth queued. */
static bool room(struct store *s)
{
	for (;;) {
		const struct batch *b = &s->in;
		size_t queued = b->nq + b->nnames + b->nops;
		if (queued < (s->wait ? WRITE_SOONER_ROWS : STORE_MAX_QUEUED)) return true;
		if (!s->wait || !s->running || s->stop) break;
		pthread_cond_signal(&s->wake);
		pthread_cond_wait(&s->done, &s->mu);
	}
	s->st.dropped++;
	return false;
}

void store_set_wait(struct store *s, bool wait)
{
	pthread_mutex_lock(&s->mu);
	s->wait = wait;
	pthread_mutex_unlock(&s->mu);
}

bool store_add(struct store *s, const struct store_conn *c)
{
	pthread_mutex_lock(&s->mu);
	struct batch *b = &s->in;
	bool ok = room(s);
	if (ok) {
		if (b->nq == b->capq) {
			b->capq = b->capq ? b->capq * 2 : 256;
			b->q = xrealloc(b->q, b->capq * sizeof *b->q);
		}
		b->q[b->nq++] = *c;
		if (b->nq == WRITE_SOONER_ROWS) pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->mu);
	return ok;
}

void store_name(struct store *s, const char *addr, const char *name, const char *source, int64_t ms)
{
	pthread_mutex_lock(&s->mu);
	struct batch *b = &s->in;
	if (!room(s)) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (b->nnames == b->capnames) {
		b->capnames = b->capnames ? b->capnames * 2 : 64;
		b->names = xrealloc(b->names, b->capnames * sizeof *b->names);
	}
	struct pending_name *n = &b->names[b->nnames++];
	snprintf(n->addr, sizeof n->addr, "%s", addr);
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->source, sizeof n->source, "%s", source);
	n->ms = ms;
	pthread_mutex_unlock(&s->mu);
}

/* Queues a baseline record: texts copied (NULL stays NULL), numbers as given. */
static void add_op(struct store *s, enum op_kind kind, const char *const *t, int nt, const int64_t *n, int nn,
		   const struct bl_alert *a)
{
	pthread_mutex_lock(&s->mu);
	struct batch *b = &s->in;
	if (!room(s)) {
		pthread_mutex_unlock(&s->mu);
		return;
	}
	if (b->nops == b->capops) {
		b->capops = b->capops ? b->capops * 2 : 64;
		b->ops = xrealloc(b->ops, b->capops * sizeof *b->ops);
	}
	struct pending_op *o = &b->ops[b->nops++];
	memset(o, 0, sizeof *o);
	o->kind = kind;
	for (int i = 0; i < nt && i < OP_TEXTS; i++) o->t[i] = t[i] ? xstrdup(t[i]) : NULL;
	for (int i = 0; i < nn && i < 3; i++) o->n[i] = n[i];
	if (a) {
		o->alert = xmalloc(sizeof *a);
		*o->alert = *a;
	}
	pthread_mutex_unlock(&s->mu);
}

void store_meta(struct store *s, const char *key, const char *value)
{
	const char *t[] = { key, value };
	add_op(s, OP_META, t, 2, NULL, 0, NULL);
}

void store_seen(struct store *s, const char *program, const char *kind, const char *value, int64_t ms)
{
	const char *t[] = { program, kind, value };
	add_op(s, OP_SEEN, t, 3, &ms, 1, NULL);
}

void store_identity(struct store *s, const char *program, const char *sha256, const char *package, const char *version,
		    int64_t ms)
{
	const char *t[] = { program, sha256, package, version };
	add_op(s, OP_IDENTITY, t, 4, &ms, 1, NULL);
}

void store_change(struct store *s, const char *program, const char *old_sha, const char *new_sha, const char *how,
		  const char *detail, uint64_t alert_id, int64_t ms)
{
	const char *t[] = { program, old_sha, new_sha, how, detail };
	int64_t n[] = { ms, (int64_t)alert_id };
	add_op(s, OP_CHANGE, t, 5, n, 2, NULL);
}

void store_alert(struct store *s, const struct bl_alert *a) { add_op(s, OP_ALERT, NULL, 0, NULL, 0, a); }

void store_cooldown(struct store *s, const char *key, int64_t until_ms)
{
	const char *t[] = { key };
	add_op(s, OP_COOLDOWN, t, 1, &until_ms, 1, NULL);
}

void store_volume(struct store *s, const char *program, int64_t start_ms, uint64_t bytes)
{
	const char *t[] = { program };
	int64_t n[] = { start_ms, (int64_t)bytes };
	add_op(s, OP_VOLUME, t, 1, n, 2, NULL);
}

static void text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v && *v) sqlite3_bind_text(st, i, v, -1, SQLITE_TRANSIENT);
	else sqlite3_bind_null(st, i);
}

static int step(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE || rc == SQLITE_ROW ? 0 : -1;
}

/* Runs an upsert that returns its row's id; 0, or -1. */
static int upsert_id(sqlite3_stmt *st, int64_t *id)
{
	int rc = sqlite3_step(st);
	*id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	if (rc == SQLITE_ROW) rc = sqlite3_step(st); /* to its end: the statement completes */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE && *id ? 0 : -1;
}

static int write_conn(struct store *s, const struct store_conn *c)
{
	int64_t exe_id = 0, dest_id = 0;
	if (c->exe[0]) {
		sqlite3_bind_text(s->ins_exe, 1, c->exe, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_exe, 2, c->uid);
		sqlite3_bind_text(s->ins_exe, 3, c->pname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_exe, 4, c->start_ms);
		if (upsert_id(s->ins_exe, &exe_id) < 0) return -1;
	}
	int64_t proc_id = 0;
	if (c->pid) {
		sqlite3_stmt *p = s->ins_proc;
		sqlite3_bind_int64(p, 1, c->pid);
		sqlite3_bind_int64(p, 2, c->proc_start_ms);
		if (exe_id) sqlite3_bind_int64(p, 3, exe_id);
		sqlite3_bind_text(p, 4, c->pname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(p, 5, c->uid);
		text_or_null(p, 6, c->cmdline);
		if (c->netns) sqlite3_bind_int64(p, 7, (int64_t)c->netns);
		text_or_null(p, 8, c->cgroup);
		sqlite3_bind_int64(p, 9, c->start_ms);
		if (upsert_id(p, &proc_id) < 0) return -1;
	}
	sqlite3_bind_text(s->ins_dest, 1, c->raddr, -1, SQLITE_STATIC);
	text_or_null(s->ins_dest, 2, c->name);
	text_or_null(s->ins_dest, 3, c->name_source);
	text_or_null(s->ins_dest, 4, c->registrable);
	text_or_null(s->ins_dest, 5, c->country);
	if (c->asn) sqlite3_bind_int64(s->ins_dest, 6, c->asn);
	text_or_null(s->ins_dest, 7, c->as_org);
	sqlite3_bind_int64(s->ins_dest, 8, c->start_ms);
	if (upsert_id(s->ins_dest, &dest_id) < 0) return -1;
	sqlite3_stmt *st = s->ins_conn;
	sqlite3_bind_int64(st, 1, c->start_ms);
	sqlite3_bind_int64(st, 2, c->end_ms);
	sqlite3_bind_text(st, 3, c->state, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 4, c->proto);
	sqlite3_bind_int(st, 5, c->family);
	sqlite3_bind_text(st, 6, c->laddr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 7, c->lport);
	sqlite3_bind_text(st, 8, c->raddr, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 9, c->rport);
	sqlite3_bind_int(st, 10, c->outbound);
	if (exe_id) sqlite3_bind_int64(st, 11, exe_id);
	if (c->pid) sqlite3_bind_int(st, 12, c->pid), sqlite3_bind_int64(st, 13, c->uid);
	sqlite3_bind_text(st, 14, c->how, -1, SQLITE_STATIC);
	text_or_null(st, 15, c->why);
	if (dest_id) sqlite3_bind_int64(st, 16, dest_id);
	text_or_null(st, 17, c->name);
	text_or_null(st, 18, c->name_source);
	text_or_null(st, 19, c->community_id);
	text_or_null(st, 20, c->sni);
	text_or_null(st, 21, c->ja4);
	sqlite3_bind_int64(st, 22, (int64_t)c->bytes_out);
	sqlite3_bind_int64(st, 23, (int64_t)c->bytes_in);
	sqlite3_bind_int64(st, 24, (int64_t)c->pkts_out);
	sqlite3_bind_int64(st, 25, (int64_t)c->pkts_in);
	if (proc_id) sqlite3_bind_int64(st, 26, proc_id);
	text_or_null(st, 27, c->name_hidden);
	text_or_null(st, 28, c->encrypted_dns);
	if (step(st) < 0) return -1;
	st = s->ins_hour;
	sqlite3_bind_int64(st, 1, c->start_ms);
	sqlite3_bind_int64(st, 2, exe_id);
	sqlite3_bind_int64(st, 3, dest_id);
	sqlite3_bind_text(st, 4, c->name, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, c->outbound);
	sqlite3_bind_int64(st, 6, (int64_t)c->bytes_out);
	sqlite3_bind_int64(st, 7, (int64_t)c->bytes_in);
	sqlite3_bind_int64(st, 8, c->end_ms);
	return step(st);
}

static void bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v) sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else sqlite3_bind_null(st, i);
}

static int write_op(struct store *s, const struct pending_op *o)
{
	/* each kind's texts, then its numbers */
	static const int texts[OP_COUNT] = { [OP_META] = 2, [OP_SEEN] = 3, [OP_IDENTITY] = 4, [OP_CHANGE] = 5,
					     [OP_COOLDOWN] = 1, [OP_VOLUME] = 1 };
	static const int nums[OP_COUNT] = { [OP_SEEN] = 1, [OP_IDENTITY] = 1, [OP_CHANGE] = 2, [OP_COOLDOWN] = 1,
					    [OP_VOLUME] = 2 };
	sqlite3_stmt *st = s->op_st[o->kind];
	const struct bl_alert *a = o->alert;
	if (o->kind == OP_ALERT) {
		sqlite3_bind_int64(st, 1, (int64_t)a->id);
		sqlite3_bind_int64(st, 2, a->ts_ms);
		sqlite3_bind_text(st, 3, bl_kind_str(a->kind), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, bl_severity_str(a->severity), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, a->program, -1, SQLITE_STATIC);
		text_or_null(st, 6, a->name);
		text_or_null(st, 7, a->exe);
		sqlite3_bind_int(st, 8, a->pid);
		text_or_null(st, 9, a->package);
		text_or_null(st, 10, a->dest);
		text_or_null(st, 11, a->addr);
		text_or_null(st, 12, a->country);
		sqlite3_bind_int64(st, 13, a->asn);
		text_or_null(st, 14, a->as_org);
		text_or_null(st, 15, a->community_id);
		sqlite3_bind_text(st, 16, a->key, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 17, a->title, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 18, a->evidence, -1, SQLITE_STATIC);
		return step(st);
	}
	for (int i = 0; i < texts[o->kind]; i++) bind_text(st, i + 1, o->t[i]);
	for (int i = 0; i < nums[o->kind]; i++) sqlite3_bind_int64(st, texts[o->kind] + 1 + i, o->n[i]);
	return step(st);
}

static void free_ops(struct batch *b)
{
	for (size_t i = 0; i < b->nops; i++) {
		for (int k = 0; k < OP_TEXTS; k++) free(b->ops[i].t[k]);
		free(b->ops[i].alert);
	}
	b->nops = 0;
}

/* Writes the batch the writer took, in one transaction (the writer thread alone). */
static int write_batch(struct store *s, struct batch *b, char *err, size_t errlen)
{
	if (!b->nq && !b->nnames && !b->nops) return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail(s, err, errlen, "beginning a write");
	for (size_t i = 0; i < b->nq; i++)
		if (write_conn(s, &b->q[i]) < 0) {
			fail(s, err, errlen, "writing a connection");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	for (size_t i = 0; i < b->nnames; i++) {
		sqlite3_bind_text(s->ins_name, 1, b->names[i].addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_name, 2, b->names[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_name, 3, b->names[i].source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_name, 4, b->names[i].ms);
		if (step(s->ins_name) < 0) {
			fail(s, err, errlen, "writing a name");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	for (size_t i = 0; i < b->nops; i++)
		if (write_op(s, &b->ops[i]) < 0) {
			fail(s, err, errlen, "writing the baseline");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, err, errlen, "committing");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void *writer_main(void *arg)
{
	struct store *s = arg;
	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (!s->stop && s->asked == s->finished && s->in.nq < WRITE_SOONER_ROWS) {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += WRITE_EVERY_MS / 1000;
			if (pthread_cond_timedwait(&s->wake, &s->mu, &until) == ETIMEDOUT) break;
		}
		uint64_t asked = s->asked;
		bool stop = s->stop;
		struct batch t = s->out; /* the buffers swap: the monitor appends while this writes */
		s->out = s->in;
		s->in = t;
		s->in.nq = s->in.nnames = 0;
		int64_t age = s->max_age_ms, clock = s->clock_ms;
		uint64_t bytes = s->max_bytes;
		pthread_mutex_unlock(&s->mu);

		char err[256] = "";
		size_t rows = s->out.nq;
		int rc = write_batch(s, &s->out, err, sizeof err);
		int64_t now = clock ? clock : wall_ms();
		if (rc == 0 && clock >= 0 && (age || bytes) && now - s->retained_ms >= RETAIN_EVERY_MS) {
			rc = store_retain(s, now, age, bytes, err, sizeof err);
			s->retained_ms = now;
		}

		pthread_mutex_lock(&s->mu);
		if (rc < 0) {
			memcpy(s->err, err, sizeof s->err);
			s->st.dropped += rows;
		} else if (rows || s->out.nnames) {
			s->st.written += rows;
			s->st.batches++;
		}
		s->out.nq = s->out.nnames = 0;
		free_ops(&s->out);
		s->finished = asked;
		pthread_cond_broadcast(&s->done);
		if (stop) break;
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

int store_flush(struct store *s, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->mu);
	uint64_t want = ++s->asked;
	pthread_cond_signal(&s->wake);
	while (s->finished < want && s->running) pthread_cond_wait(&s->done, &s->mu);
	int rc = 0;
	if (s->err[0]) {
		snprintf(err, errlen, "%s", s->err);
		s->err[0] = '\0';
		rc = -1;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

bool store_failed(struct store *s, char *err, size_t errlen)
{
	pthread_mutex_lock(&s->mu);
	bool failed = s->err[0] != '\0';
	if (failed) {
		snprintf(err, errlen, "%s", s->err);
		s->err[0] = '\0';
	}
	pthread_mutex_unlock(&s->mu);
	return failed;
}

void store_set_retention(struct store *s, int64_t max_age_ms, uint64_t max_bytes)
{
	pthread_mutex_lock(&s->mu);
	s->max_age_ms = max_age_ms;
	s->max_bytes = max_bytes;
	s->retained_ms = 0; /* applied at the next batch */
	pthread_mutex_unlock(&s->mu);
}

void store_set_clock(struct store *s, int64_t now_ms)
{
	pthread_mutex_lock(&s->mu);
	s->clock_ms = now_ms;
	pthread_mutex_unlock(&s->mu);
}

/* Connections that start before cutoff may be gone: so are the hours of table hourly that
 * held them (those that begin before it), and it is exact from the next hour on. */
static int hours_gone(struct store *s, int64_t cutoff, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (prepare(s, &st, "DELETE FROM hourly WHERE hour_ms < ?1", err, errlen) < 0) return -1;
	sqlite3_bind_int64(st, 1, cutoff);
	int rc = step(st);
	sqlite3_finalize(st);
	if (rc < 0 || prepare(s, &st,
			      "INSERT INTO meta (key, value) VALUES ('hourly_from', ?1) ON CONFLICT (key) DO UPDATE"
			      " SET value = max(CAST(value AS INTEGER), ?1)",
			      err, errlen) < 0)
		return fail(s, err, errlen, "retention of the hours");
	sqlite3_bind_int64(st, 1, (cutoff + STORE_HOUR_MS - 1) / STORE_HOUR_MS * STORE_HOUR_MS);
	rc = step(st);
	sqlite3_finalize(st);
	return rc < 0 ? fail(s, err, errlen, "retention of the hours") : 0;
}

static int retain(struct store *s, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (max_age_ms > 0) {
		/* those that ended before the cutoff, found by their start (the index) */
		if (prepare(s, &st, "DELETE FROM connections WHERE start_ms < ?1 AND end_ms < ?1", err, errlen) < 0) return -1;
		sqlite3_bind_int64(st, 1, now_ms - max_age_ms);
		int rc = step(st);
		sqlite3_finalize(st);
		if (rc < 0) return fail(s, err, errlen, "retention by age");
		if (hours_gone(s, now_ms - max_age_ms, err, errlen) < 0) return -1;
	}
	/* the baseline's volume beyond the longest window, and cooldowns past */
	if (max_age_ms > 0 || max_bytes) {
		if (prepare(s, &st, "DELETE FROM volume WHERE interval_start_ms < ?1", err, errlen) < 0) return -1;
		sqlite3_bind_int64(st, 1, now_ms - STORE_VOLUME_KEEP_MS);
		int rc = step(st);
		sqlite3_finalize(st);
		if (rc < 0) return fail(s, err, errlen, "retention of volume");
		if (prepare(s, &st, "DELETE FROM cooldowns WHERE until_ms < ?1", err, errlen) < 0) return -1;
		sqlite3_bind_int64(st, 1, now_ms);
		rc = step(st);
		sqlite3_finalize(st);
		if (rc < 0) return fail(s, err, errlen, "retention of cooldowns");
	}
	if (max_bytes) {
		/* the file's pages in use; the oldest tenth of connections (by their start, the
		 * index's order) go until under */
		for (int round = 0; round < 20; round++) {
			if (prepare(s, &st, "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count,"
					    " pragma_freelist_count, pragma_page_size", err, errlen) < 0)
				return -1;
			uint64_t used = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
			sqlite3_finalize(st);
			if (used <= max_bytes) break;
			if (prepare(s, &st, "SELECT start_ms FROM connections ORDER BY start_ms LIMIT 1"
					    " OFFSET (SELECT count(*) FROM connections) / 10", err, errlen) < 0)
				return -1;
			bool any = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL;
			int64_t last = any ? sqlite3_column_int64(st, 0) : 0;
			sqlite3_finalize(st);
			if (!any) break; /* only first-seen tables left: never deleted */
			if (prepare(s, &st, "DELETE FROM connections WHERE start_ms <= ?1", err, errlen) < 0) return -1;
			sqlite3_bind_int64(st, 1, last);
			int rc = step(st);
			sqlite3_finalize(st);
			if (rc < 0) return fail(s, err, errlen, "retention by size");
			if (hours_gone(s, last + 1, err, errlen) < 0) return -1;
		}
	}
	/* a process whose connections are all gone goes too (programs stay: executables) */
	if ((max_age_ms > 0 || max_bytes) &&
	    sqlite3_exec(s->db, "DELETE FROM processes WHERE NOT EXISTS (SELECT 1 FROM connections c WHERE c.process_id = processes.id)",
			 NULL, NULL, NULL) != SQLITE_OK)
		return fail(s, err, errlen, "retention of processes");
	return 0;
}

int store_retain(struct store *s, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes, char *err, size_t errlen)
{
	/* one transaction: the connections and their hours go together, or neither */
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail(s, err, errlen, "beginning retention");
	if (retain(s, now_ms, max_age_ms, max_bytes, err, errlen) < 0) {
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, err, errlen, "committing retention");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return 0;
}

static const char *col(sqlite3_stmt *st, int i) { return (const char *)sqlite3_column_text(st, i); }

int store_load_known(struct store *s, struct baseline *b)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(s->rdb, "SELECT program, destination FROM known", -1, &st, NULL) != SQLITE_OK) return -1;
	baseline_known_clear(b);
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *d = col(st, 1);
		baseline_known_add(b, col(st, 0), d && *d ? d : NULL);
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

int store_load_baseline(struct store *s, struct baseline *b, int64_t now_ms, char *err, size_t errlen)
{
	static const char *const q[] = {
		"SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'learning_start_ms'",
		"SELECT program, kind, value FROM baseline_seen",
		"SELECT program, sha256, package, version FROM identities ORDER BY first_seen_ms, id",
		"SELECT key, until_ms FROM cooldowns WHERE until_ms > ?1",
		("SELECT program, interval_start_ms, bytes FROM volume WHERE interval_start_ms >= ?1 - ?2"
		 " ORDER BY program, interval_start_ms"),
		"SELECT coalesce(max(id), 0) + 1 FROM alerts",
	};
	for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(s->rdb, q[i], -1, &st, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "reading the baseline: %s", sqlite3_errmsg(s->rdb));
			return -1;
		}
		sqlite3_bind_int64(st, 1, now_ms);
		sqlite3_bind_int64(st, 2, STORE_VOLUME_KEEP_MS);
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			switch (i) {
			case 0: baseline_load_learning(b, sqlite3_column_int64(st, 0)); break;
			case 1: baseline_load_seen(b, col(st, 0), col(st, 1), col(st, 2)); break;
			case 2: baseline_load_identity(b, col(st, 0), col(st, 1), col(st, 2), col(st, 3)); break;
			case 3: baseline_load_cooldown(b, col(st, 0), sqlite3_column_int64(st, 1)); break;
			case 4: baseline_load_volume(b, col(st, 0), sqlite3_column_int64(st, 1), (uint64_t)sqlite3_column_int64(st, 2)); break;
			case 5: baseline_load_next_alert(b, (uint64_t)sqlite3_column_int64(st, 0)); break;
			}
		}
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			snprintf(err, errlen, "reading the baseline: %s", sqlite3_errmsg(s->rdb));
			return -1;
		}
	}
	if (store_load_known(s, b) < 0) {
		snprintf(err, errlen, "reading the known list: %s", sqlite3_errmsg(s->rdb));
		return -1;
	}
	return 0;
}

void store_stats(struct store *s, struct store_stats *st)
{
	pthread_mutex_lock(&s->mu);
	*st = s->st;
	pthread_mutex_unlock(&s->mu);
}

int store_close(struct store *s, char *err, size_t errlen)
{
	if (!s) return 0;
	char e[256];
	int rc = 0;
	if (s->running) {
		pthread_mutex_lock(&s->mu);
		s->stop = true;
		s->asked++;
		pthread_cond_signal(&s->wake);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->writer, NULL);
		if (s->err[0]) {
			snprintf(err ? err : e, err ? errlen : sizeof e, "%s", s->err);
			rc = -1;
		}
	}
	sqlite3_finalize(s->ins_exe);
	sqlite3_finalize(s->ins_dest);
	sqlite3_finalize(s->ins_conn);
	sqlite3_finalize(s->ins_hour);
	sqlite3_finalize(s->ins_name);
	sqlite3_finalize(s->ins_proc);
	for (int i = 0; i < OP_COUNT; i++) sqlite3_finalize(s->op_st[i]);
	sqlite3_close(s->db);
	sqlite3_close(s->rdb);
	free_ops(&s->in);
	free_ops(&s->out);
	free(s->in.ops);
	free(s->out.ops);
	free(s->in.q);
	free(s->in.names);
	free(s->out.q);
	free(s->out.names);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->wake);
	pthread_cond_destroy(&s->done);
	free(s);
	return rc;
}
