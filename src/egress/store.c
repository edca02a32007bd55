/* egress/store.c — the monitor's SQLite store (see store.h). */
#include "egress/store.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct pending_name { char addr[46], name[256], source[16]; int64_t ms; };

struct store {
	sqlite3 *db;
	sqlite3_stmt *ins_exe, *get_exe, *ins_dest, *get_dest, *ins_conn, *ins_name;
	struct store_conn *q;
	size_t nq, capq;
	struct pending_name *names;
	size_t nnames, capnames;
	struct store_stats st;
};

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
		    " ON CONFLICT (path, uid) DO UPDATE SET last_seen_ms = max(last_seen_ms, ?4), name = ?3",
		    err, errlen) < 0 ||
	    prepare(s, &s->get_exe, "SELECT id FROM executables WHERE path = ?1 AND uid = ?2", err, errlen) < 0 ||
	    prepare(s, &s->ins_dest,
		    "INSERT INTO destinations (addr, name, name_source, registrable, country, asn, as_org, first_seen_ms,"
		    " last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8) ON CONFLICT (addr) DO UPDATE SET"
		    " last_seen_ms = max(last_seen_ms, ?8), name = coalesce(?2, name), name_source = coalesce(?3, name_source),"
		    " registrable = coalesce(?4, registrable), country = coalesce(?5, country), asn = coalesce(?6, asn),"
		    " as_org = coalesce(?7, as_org)",
		    err, errlen) < 0 ||
	    prepare(s, &s->get_dest, "SELECT id FROM destinations WHERE addr = ?1", err, errlen) < 0 ||
	    prepare(s, &s->ins_conn,
		    "INSERT INTO connections (start_ms, end_ms, state, proto, family, local_addr, local_port, remote_addr,"
		    " remote_port, outbound, exe_id, pid, uid, attribution, unknown_why, dest_id, name, name_source,"
		    " community_id, sni, ja4, bytes_out, bytes_in, packets_out, packets_in) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
		    " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
		    err, errlen) < 0 ||
	    prepare(s, &s->ins_name,
		    "INSERT INTO names (addr, name, source, first_seen_ms, last_seen_ms) VALUES (?1, ?2, ?3, ?4, ?4)"
		    " ON CONFLICT DO UPDATE SET last_seen_ms = max(last_seen_ms, ?4)",
		    err, errlen) < 0) {
		if (!err[0]) fail(s, err, errlen, path);
		store_close(s, NULL, 0);
		return NULL;
	}
	return s;
}

bool store_add(struct store *s, const struct store_conn *c)
{
	if (s->nq == STORE_MAX_QUEUED) {
		s->st.dropped++;
		return false;
	}
	if (s->nq == s->capq) {
		s->capq = s->capq ? s->capq * 2 : 256;
		s->q = xrealloc(s->q, s->capq * sizeof *s->q);
	}
	s->q[s->nq++] = *c;
	return true;
}

void store_name(struct store *s, const char *addr, const char *name, const char *source, int64_t ms)
{
	if (s->nnames == STORE_MAX_QUEUED) {
		s->st.dropped++;
		return;
	}
	if (s->nnames == s->capnames) {
		s->capnames = s->capnames ? s->capnames * 2 : 64;
		s->names = xrealloc(s->names, s->capnames * sizeof *s->names);
	}
	struct pending_name *n = &s->names[s->nnames++];
	snprintf(n->addr, sizeof n->addr, "%s", addr);
	snprintf(n->name, sizeof n->name, "%s", name);
	snprintf(n->source, sizeof n->source, "%s", source);
	n->ms = ms;
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

static int64_t id_of(sqlite3_stmt *st)
{
	int64_t id = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return id;
}

static int write_conn(struct store *s, const struct store_conn *c)
{
	int64_t exe_id = 0, dest_id = 0;
	if (c->exe[0]) {
		sqlite3_bind_text(s->ins_exe, 1, c->exe, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_exe, 2, c->uid);
		sqlite3_bind_text(s->ins_exe, 3, c->pname, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_exe, 4, c->start_ms);
		if (step(s->ins_exe) < 0) return -1;
		sqlite3_bind_text(s->get_exe, 1, c->exe, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->get_exe, 2, c->uid);
		exe_id = id_of(s->get_exe);
	}
	sqlite3_bind_text(s->ins_dest, 1, c->raddr, -1, SQLITE_STATIC);
	text_or_null(s->ins_dest, 2, c->name);
	text_or_null(s->ins_dest, 3, c->name_source);
	text_or_null(s->ins_dest, 4, c->registrable);
	text_or_null(s->ins_dest, 5, c->country);
	if (c->asn) sqlite3_bind_int64(s->ins_dest, 6, c->asn);
	text_or_null(s->ins_dest, 7, c->as_org);
	sqlite3_bind_int64(s->ins_dest, 8, c->start_ms);
	if (step(s->ins_dest) < 0) return -1;
	sqlite3_bind_text(s->get_dest, 1, c->raddr, -1, SQLITE_STATIC);
	dest_id = id_of(s->get_dest);
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
	return step(st);
}

int store_flush(struct store *s, char *err, size_t errlen)
{
	if (!s->nq && !s->nnames) return 0;
	if (sqlite3_exec(s->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return fail(s, err, errlen, "beginning a write");
	for (size_t i = 0; i < s->nq; i++)
		if (write_conn(s, &s->q[i]) < 0) {
			fail(s, err, errlen, "writing a connection");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	for (size_t i = 0; i < s->nnames; i++) {
		sqlite3_bind_text(s->ins_name, 1, s->names[i].addr, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_name, 2, s->names[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_text(s->ins_name, 3, s->names[i].source, -1, SQLITE_STATIC);
		sqlite3_bind_int64(s->ins_name, 4, s->names[i].ms);
		if (step(s->ins_name) < 0) {
			fail(s, err, errlen, "writing a name");
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
	}
	if (sqlite3_exec(s->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		fail(s, err, errlen, "committing");
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	s->st.written += s->nq;
	s->st.batches++;
	s->nq = 0;
	s->nnames = 0;
	return 0;
}

int store_retain(struct store *s, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	if (max_age_ms > 0) {
		if (prepare(s, &st, "DELETE FROM connections WHERE end_ms < ?1", err, errlen) < 0) return -1;
		sqlite3_bind_int64(st, 1, now_ms - max_age_ms);
		int rc = step(st);
		sqlite3_finalize(st);
		if (rc < 0) return fail(s, err, errlen, "retention by age");
	}
	if (max_bytes) {
		/* the file's pages in use; the oldest tenth of connections go until under */
		for (int round = 0; round < 20; round++) {
			if (prepare(s, &st, "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count,"
					    " pragma_freelist_count, pragma_page_size", err, errlen) < 0)
				return -1;
			uint64_t used = sqlite3_step(st) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(st, 0) : 0;
			sqlite3_finalize(st);
			if (used <= max_bytes) break;
			if (sqlite3_exec(s->db, "DELETE FROM connections WHERE id IN (SELECT id FROM connections ORDER BY end_ms"
					 " LIMIT max(1, (SELECT count(*) FROM connections) / 10))", NULL, NULL, NULL) != SQLITE_OK)
				return fail(s, err, errlen, "retention by size");
			if (sqlite3_changes(s->db) == 0) break; /* only first-seen tables left: never deleted */
		}
	}
	return 0;
}

void store_stats(const struct store *s, struct store_stats *st) { *st = s->st; }

int store_close(struct store *s, char *err, size_t errlen)
{
	if (!s) return 0;
	char e[256];
	int rc = s->db ? store_flush(s, err ? err : e, err ? errlen : sizeof e) : 0;
	sqlite3_finalize(s->ins_exe);
	sqlite3_finalize(s->get_exe);
	sqlite3_finalize(s->ins_dest);
	sqlite3_finalize(s->get_dest);
	sqlite3_finalize(s->ins_conn);
	sqlite3_finalize(s->ins_name);
	sqlite3_close(s->db);
	free(s->q);
	free(s->names);
	free(s);
	return rc;
}
