/* egress/report.c — the baseline's records out (store, NDJSON, stderr, journal) and back in
 * for people (see report.h). */
#include "egress/report.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#ifdef PKTSCOPE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

#include "egress/store.h"
#include "util/sbuf.h"

#define JOURNAL_SOCKET "/run/systemd/journal/socket"

/* ---- out ---- */

static void js(struct sbuf *sb, const char *k, const char *v)
{
	sb_printf(sb, ",\"%s\":", k);
	if (v && *v) sb_json_str(sb, v, strlen(v));
	else sb_puts(sb, "null");
}

static void ts_text(struct sbuf *sb, int64_t ms)
{
	sb_rfc3339(sb, ms / 1000, (uint32_t)(ms % 1000) * 1000000u, 3);
}

bool report_has_journal(void)
{
#ifdef PKTSCOPE_SYSTEMD
	return true;
#else
	return false;
#endif
}

static int priority(enum bl_severity s)
{
	return s == BL_CRITICAL ? LOG_CRIT : s == BL_WARNING ? LOG_WARNING : s == BL_NOTICE ? LOG_NOTICE : LOG_INFO;
}

void report_journal(const struct bl_alert *a)
{
	char msg[BL_TEXT_MAX + 64];
	snprintf(msg, sizeof msg, "[%s] %s: %s", bl_severity_str(a->severity), bl_kind_str(a->kind), a->title);
#ifdef PKTSCOPE_SYSTEMD
	if (access(JOURNAL_SOCKET, W_OK) == 0) {
		sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", priority(a->severity), "SYSLOG_IDENTIFIER=pktscope",
				"PKTSCOPE_ALERT_ID=%llu", (unsigned long long)a->id, "PKTSCOPE_KIND=%s", bl_kind_str(a->kind),
				"PKTSCOPE_SEVERITY=%s", bl_severity_str(a->severity), "PKTSCOPE_PROGRAM=%s", a->program,
				"PKTSCOPE_NAME=%s", a->name, "PKTSCOPE_EXE=%s", a->exe, "PKTSCOPE_PID=%d", a->pid,
				"PKTSCOPE_PACKAGE=%s", a->package, "PKTSCOPE_DESTINATION=%s", a->dest,
				"PKTSCOPE_ADDRESS=%s", a->addr, "PKTSCOPE_COUNTRY=%s", a->country, "PKTSCOPE_ASN=%u", a->asn,
				"PKTSCOPE_COMMUNITY_ID=%s", a->community_id, "PKTSCOPE_EVIDENCE=%s", a->evidence, NULL);
		return;
	}
#endif
	openlog("pktscope", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	syslog(priority(a->severity), "%s", msg);
	closelog();
}

static void on_learning(void *ctx, int64_t start_ms)
{
	struct report_out *o = ctx;
	char v[32];
	snprintf(v, sizeof v, "%lld", (long long)start_ms);
	if (o->store) store_meta(o->store, "learning_start_ms", v);
}

static void on_seen(void *ctx, const char *program, const char *kind, const char *value, int64_t ms)
{
	struct report_out *o = ctx;
	if (o->store) store_seen(o->store, program, kind, value, ms);
}

static void on_alert(void *ctx, const struct bl_alert *a)
{
	struct report_out *o = ctx;
	if (o->store && a->severity != BL_INFO) store_alert(o->store, a); /* info: identity_changes has it */
	if (o->to_stderr) {
		if (a->severity == BL_INFO) fprintf(stderr, "[INFO] %s — %s\n", bl_kind_str(a->kind), a->title);
		else fprintf(stderr, "[ALERT][%s] %s — %s\n", bl_severity_str(a->severity), bl_kind_str(a->kind), a->title);
	}
	if (o->to_journal) report_journal(a);
	if (!o->json && !o->event) return;
	char line[BL_EVIDENCE_MAX + BL_TEXT_MAX * 16]; /* every text escaped at worst */
	struct sbuf lb, *sb = &lb;
	sb_init_fixed(&lb, line, sizeof line);
	sb_printf(sb, "{\"schema\":1,\"event\":\"%s\",\"ts\":\"", a->severity == BL_INFO ? "info" : "alert");
	ts_text(sb, a->ts_ms);
	sb_putc(sb, '"');
	if (a->id) sb_printf(sb, ",\"id\":%llu", (unsigned long long)a->id);
	sb_printf(sb, ",\"kind\":\"%s\",\"severity\":\"%s\"", bl_kind_str(a->kind), bl_severity_str(a->severity));
	js(sb, "title", a->title);
	sb_puts(sb, ",\"program\":{");
	sb_puts(sb, "\"key\":");
	sb_json_str(sb, a->program, strlen(a->program));
	js(sb, "name", a->name);
	js(sb, "exe", a->exe);
	if (a->pid) sb_printf(sb, ",\"pid\":%d", a->pid);
	js(sb, "package", a->package);
	sb_puts(sb, "},\"destination\":");
	if (a->addr[0]) {
		sb_puts(sb, "{\"name\":");
		sb_json_str(sb, a->dest, strlen(a->dest));
		js(sb, "address", a->addr);
		js(sb, "country", a->country);
		if (a->asn) sb_printf(sb, ",\"asn\":%u", a->asn);
		js(sb, "as_org", a->as_org);
		sb_putc(sb, '}');
	} else {
		sb_puts(sb, "null");
	}
	js(sb, "community_id", a->community_id);
	sb_printf(sb, ",\"evidence\":%s}", a->evidence[0] ? a->evidence : "{}");
	if (lb.trunc) return;
	if (o->json) {
		sb_put(o->json, line, lb.len);
		sb_putc(o->json, '\n');
		sb_flush(o->json);
	}
	if (o->event) o->event(o->event_ctx, a->severity == BL_INFO ? "info" : "alert", a->exe[0] ? a->exe : a->program, line, lb.len);
}

static void on_identity(void *ctx, const char *program, const char *sha, const char *package, const char *version, int64_t ms)
{
	struct report_out *o = ctx;
	if (o->store) store_identity(o->store, program, sha, package, version, ms);
}

static void on_change(void *ctx, const char *program, const char *old_sha, const char *new_sha, const char *how,
		      const char *detail, uint64_t alert_id, int64_t ms)
{
	struct report_out *o = ctx;
	if (o->store) store_change(o->store, program, old_sha, new_sha, how, detail, alert_id, ms);
}

static void on_cooldown(void *ctx, const char *key, int64_t until_ms)
{
	struct report_out *o = ctx;
	if (o->store) store_cooldown(o->store, key, until_ms);
}

static void on_volume(void *ctx, const char *program, int64_t start_ms, uint64_t bytes)
{
	struct report_out *o = ctx;
	if (o->store) store_volume(o->store, program, start_ms, bytes);
}

void report_sink(struct report_out *out, struct bl_sink *sink)
{
	*sink = (struct bl_sink){ out, on_learning, on_seen, on_alert, on_identity, on_change, on_cooldown, on_volume };
}

/* ---- back in ---- */

static sqlite3 *open_db(const char *path, bool write, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	if (access(path, F_OK) != 0) {
		snprintf(err, errlen, "%s: no monitor store here (has `pktscope monitor run` run with this state directory?)", path);
		return NULL;
	}
	if (sqlite3_open_v2(path, &db, write ? SQLITE_OPEN_READWRITE : SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_stmt *st;
	int v = 0;
	if (sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL) == SQLITE_OK) {
		if (sqlite3_step(st) == SQLITE_ROW) v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	if (v < 3) {
		snprintf(err, errlen, "%s: the store has no baseline yet (schema %d); run `pktscope monitor run` once", path, v);
		sqlite3_close(db);
		return NULL;
	}
	return db;
}

static int db_fail(sqlite3 *db, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", sqlite3_errmsg(db));
	sqlite3_close(db);
	return -1;
}

static const char *ctext(sqlite3_stmt *st, int i)
{
	const char *t = (const char *)sqlite3_column_text(st, i);
	return t ? t : "";
}

int report_alerts(const char *path, int64_t since_ms, bool json, bool all, struct sbuf *out, char *err, size_t errlen)
{
	sqlite3 *db = open_db(path, false, err, errlen);
	if (!db) return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, ts_ms, kind, severity, program, name, exe, pid, package, destination, address,"
			       " country, asn, as_org, community_id, title, evidence, acked_ms FROM alerts"
			       " WHERE ts_ms >= ?1 AND (?2 OR acked_ms IS NULL) ORDER BY ts_ms, id",
			       -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen);
	sqlite3_bind_int64(st, 1, since_ms);
	sqlite3_bind_int(st, 2, all);
	int n = 0, rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		n++;
		int64_t ts = sqlite3_column_int64(st, 1);
		bool acked = sqlite3_column_type(st, 17) != SQLITE_NULL;
		if (json) {
			sb_printf(out, "{\"id\":%lld,\"ts\":\"", (long long)sqlite3_column_int64(st, 0));
			ts_text(out, ts);
			sb_putc(out, '"');
			js(out, "kind", ctext(st, 2));
			js(out, "severity", ctext(st, 3));
			js(out, "title", ctext(st, 15));
			sb_puts(out, ",\"program\":{\"key\":");
			sb_json_str(out, ctext(st, 4), strlen(ctext(st, 4)));
			js(out, "name", ctext(st, 5));
			js(out, "exe", ctext(st, 6));
			if (sqlite3_column_type(st, 7) != SQLITE_NULL) sb_printf(out, ",\"pid\":%d", sqlite3_column_int(st, 7));
			js(out, "package", ctext(st, 8));
			sb_puts(out, "},\"destination\":");
			if (*ctext(st, 10)) {
				sb_puts(out, "{\"name\":");
				sb_json_str(out, ctext(st, 9), strlen(ctext(st, 9)));
				js(out, "address", ctext(st, 10));
				js(out, "country", ctext(st, 11));
				if (sqlite3_column_type(st, 12) != SQLITE_NULL) sb_printf(out, ",\"asn\":%lld", (long long)sqlite3_column_int64(st, 12));
				js(out, "as_org", ctext(st, 13));
				sb_putc(out, '}');
			} else {
				sb_puts(out, "null");
			}
			js(out, "community_id", ctext(st, 14));
			sb_printf(out, ",\"acked\":%s,\"evidence\":%s}\n", acked ? "true" : "false", ctext(st, 16));
		} else {
			sb_printf(out, "#%-4lld ", (long long)sqlite3_column_int64(st, 0));
			ts_text(out, ts);
			sb_printf(out, "  %-8s  %-18s  %s%s\n", ctext(st, 3), ctext(st, 2), ctext(st, 15), acked ? "  (acknowledged)" : "");
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) return db_fail(db, err, errlen);
	if (!json && !n) sb_puts(out, all ? "no alerts\n" : "no alerts waiting (--all shows the acknowledged too)\n");
	sqlite3_close(db);
	return 0;
}

int report_ack(const char *path, uint64_t id, int64_t now_ms, char *err, size_t errlen)
{
	sqlite3 *db = open_db(path, true, err, errlen);
	if (!db) return -1;
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "UPDATE alerts SET acked_ms = coalesce(acked_ms, ?1) WHERE id = ?2", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen);
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, (int64_t)id);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) return db_fail(db, err, errlen);
	int changed = sqlite3_changes(db);
	sqlite3_close(db);
	return changed ? 0 : 1;
}

/* The program a user named: a path as it is, a bare name by the programs seen. */
static int resolve_program(sqlite3 *db, const char *name, char *out, size_t cap, char *err, size_t errlen)
{
	if (name[0] == '/') {
		snprintf(out, cap, "%s", name);
		return 0;
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT program FROM baseline_seen WHERE kind = 'program' ORDER BY program", -1, &st, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "%s", sqlite3_errmsg(db));
		return -1;
	}
	int found = 0;
	char others[512] = "";
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *p = ctext(st, 0);
		const char *base = strrchr(p, '/');
		base = base ? base + 1 : p;
		size_t n = strlen(name);
		if (strncmp(base, name, n) || (base[n] && base[n] != ' ')) continue;
		if (found++ == 0) snprintf(out, cap, "%s", p);
		size_t ol = strlen(others);
		snprintf(others + ol, sizeof others - ol, "%s%s", ol ? ", " : "", p);
	}
	sqlite3_finalize(st);
	if (found == 1) return 0;
	if (!found) snprintf(err, errlen, "no program called '%s' has been seen: give its path", name);
	else snprintf(err, errlen, "'%s' could be any of: %s; give the path", name, others);
	return -1;
}

int report_known(const char *path, const char *op, const char *program, const char *dest, int64_t now_ms,
		 struct sbuf *out, char *err, size_t errlen)
{
	bool list = !strcmp(op, "list");
	sqlite3 *db = open_db(path, !list, err, errlen);
	if (!db) return -1;
	sqlite3_stmt *st;
	if (list) {
		if (sqlite3_prepare_v2(db, "SELECT program, destination, added_ms FROM known ORDER BY program, destination", -1, &st, NULL) != SQLITE_OK)
			return db_fail(db, err, errlen);
		int n = 0;
		while (sqlite3_step(st) == SQLITE_ROW) {
			n++;
			sb_printf(out, "%s%s%s  (since ", ctext(st, 0), *ctext(st, 1) ? " → " : "", ctext(st, 1));
			ts_text(out, sqlite3_column_int64(st, 2));
			sb_puts(out, ")\n");
		}
		sqlite3_finalize(st);
		if (!n) sb_puts(out, "nothing is marked known\n");
		sqlite3_close(db);
		return 0;
	}
	char prog[BL_TEXT_MAX];
	if (resolve_program(db, program, prog, sizeof prog, err, errlen) < 0) {
		sqlite3_close(db);
		return -1;
	}
	bool add = !strcmp(op, "add");
	const char *sql = add ? "INSERT INTO known (program, destination, added_ms) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING"
			      : "DELETE FROM known WHERE program = ?1 AND destination = ?2";
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, errlen);
	sqlite3_bind_text(st, 1, prog, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, dest ? dest : "", -1, SQLITE_STATIC);
	if (add) sqlite3_bind_int64(st, 3, now_ms);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) return db_fail(db, err, errlen);
	int changed = sqlite3_changes(db);
	sb_printf(out, "%s %s%s%s\n", add ? (changed ? "known:" : "already known:") : changed ? "no longer known:" : "was not known:",
		  prog, dest ? " → " : "", dest ? dest : "");
	sqlite3_close(db);
	return !add && !changed ? 1 : 0;
}

int report_new(const char *path, int64_t since_ms, bool json, struct sbuf *out, char *err, size_t errlen)
{
	sqlite3 *db = open_db(path, false, err, errlen);
	if (!db) return -1;
	static const struct { const char *key, *title, *sql; } parts[] = {
		{ "programs", "New programs (first outbound connection)",
		  "SELECT program, '', '', first_seen_ms FROM baseline_seen WHERE kind = 'program' AND first_seen_ms >= ?1"
		  " ORDER BY first_seen_ms" },
		{ "destinations", "New destinations, by program",
		  "SELECT program, kind, value, first_seen_ms FROM baseline_seen WHERE kind IN ('domain', 'addr')"
		  " AND first_seen_ms >= ?1 UNION ALL SELECT program, kind, value, first_seen_ms FROM baseline_seen s"
		  " WHERE kind = 'asn' AND first_seen_ms >= ?1 AND NOT EXISTS (SELECT 1 FROM baseline_seen d WHERE"
		  " d.program = s.program AND d.kind = 'domain') ORDER BY 1, 4" },
		{ "places", "New countries and networks, by program",
		  "SELECT program, kind, value, first_seen_ms FROM baseline_seen WHERE kind IN ('country', 'asn')"
		  " AND first_seen_ms >= ?1 ORDER BY program, first_seen_ms" },
		{ "binaries", "Binaries that changed",
		  "SELECT program, how, detail, ts_ms, alert_id FROM identity_changes WHERE ts_ms >= ?1 ORDER BY ts_ms" },
	};
	if (json) {
		sb_puts(out, "{\"since\":\"");
		ts_text(out, since_ms);
		sb_putc(out, '"');
	} else {
		sb_puts(out, "What is new since ");
		ts_text(out, since_ms);
		sb_puts(out, ":\n");
	}
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, parts[i].sql, -1, &st, NULL) != SQLITE_OK) return db_fail(db, err, errlen);
		sqlite3_bind_int64(st, 1, since_ms);
		if (json) sb_printf(out, ",\"%s\":[", parts[i].key);
		else sb_printf(out, "\n%s:\n", parts[i].title);
		int n = 0;
		bool binaries = !strcmp(parts[i].key, "binaries");
		while (sqlite3_step(st) == SQLITE_ROW) {
			const char *prog = ctext(st, 0), *a = ctext(st, 1), *b = ctext(st, 2);
			int64_t ms = sqlite3_column_int64(st, 3);
			if (json) {
				sb_puts(out, n ? ",{\"program\":" : "{\"program\":");
				sb_json_str(out, prog, strlen(prog));
				if (binaries) {
					js(out, "how", a);
					js(out, "detail", b);
					if (sqlite3_column_type(st, 4) != SQLITE_NULL)
						sb_printf(out, ",\"alert_id\":%lld", (long long)sqlite3_column_int64(st, 4));
				} else if (*a) {
					js(out, "kind", a);
					js(out, "value", b);
				}
				sb_puts(out, ",\"first_seen\":\"");
				ts_text(out, ms);
				sb_puts(out, "\"}");
			} else {
				sb_puts(out, "  ");
				ts_text(out, ms);
				sb_printf(out, "  %s", prog);
				if (binaries) {
					sb_printf(out, "  %s: %s", a, b);
					if (sqlite3_column_type(st, 4) != SQLITE_NULL)
						sb_printf(out, "  (alert #%lld)", (long long)sqlite3_column_int64(st, 4));
				} else if (*a) {
					sb_printf(out, "  %s %s", !strcmp(a, "addr") ? "address" : a, b);
				}
				sb_putc(out, '\n');
			}
			n++;
		}
		sqlite3_finalize(st);
		if (json) sb_putc(out, ']');
		else if (!n) sb_puts(out, "  none\n");
	}
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "SELECT severity, count(*), count(acked_ms) FROM alerts WHERE ts_ms >= ?1 GROUP BY severity"
				   " ORDER BY CASE severity WHEN 'critical' THEN 0 WHEN 'warning' THEN 1 ELSE 2 END", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, err, errlen);
	sqlite3_bind_int64(st, 1, since_ms);
	if (json) sb_puts(out, ",\"alerts\":{");
	else sb_puts(out, "\nAlerts:");
	int n = 0;
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (json) sb_printf(out, "%s\"%s\":%d", n ? "," : "", ctext(st, 0), sqlite3_column_int(st, 1));
		else sb_printf(out, "%s %d %s (%d acknowledged)", n ? "," : "", sqlite3_column_int(st, 1), ctext(st, 0), sqlite3_column_int(st, 2));
		n++;
	}
	sqlite3_finalize(st);
	if (json) sb_puts(out, "}}\n");
	else sb_puts(out, n ? "\n" : " none\n");
	sqlite3_close(db);
	return 0;
}
