/* tui/inspect.c — `pktscope inspect`: what the egress monitor knows, on a full screen, from
 * its socket (egress/service.h has the protocol). Five views: the connections followed now,
 * the programs and their destinations, the destinations by domain or organisation, the
 * alerts (acknowledged, marked known, followed to their program from here), and the stored
 * history over any time window, with what changed between a window and the one before.
 *
 * The screen polls: the status each second, the view shown every second (live
 * connections) or five (what comes from the store, which a day of connections makes a
 * heavier query). When the monitor goes away the last state stays on screen under a
 * "disconnected" line and a new connection is tried each second. */
#include "tui/tui.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "egress/client.h"
#include "egress/server.h"
#include "tui/widgets.h"
#include "util/duration.h"
#include "util/jsonr.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

enum tab { T_CONNS, T_PROCS, T_DOMAINS, T_ALERTS, T_HISTORY, T__COUNT };
static const char *const tab_names[T__COUNT] = { "Connections", "Processes", "Domains", "Alerts", "History" };
enum pair { P_TAB = 1, P_CRIT, P_WARN, P_NOTICE, P_INFO, P_BAR, P_BAR_ERR, P_HEAD, P_NEW };
enum sort { S_BYTES, S_RATE, S_AGE, S__COUNT };
static const char *const sort_names[S__COUNT] = { "bytes", "rate", "age" };

#define TEXT_MAX 512
#define LIVE_REFRESH_MS 1000
#define STORE_REFRESH_MS 5000
#define CALL_TIMEOUT_MS 5000
#define DAY_MS 86400000LL

/* History's window widths, smallest first */
static const int64_t zooms[] = { 60000, 300000, 900000, 3600000, 6 * 3600000LL, DAY_MS, 7 * DAY_MS, 30 * DAY_MS };
#define NZOOMS ((int)(sizeof zooms / sizeof *zooms))
#define ZOOM_DEFAULT 3 /* an hour */

struct row {
	char *text;            /* as drawn */
	char *hay;             /* what search looks in, lower case */
	char key[TEXT_MAX];     /* the program (exe) of the row, or the destination of a Domains row */
	char key2[TEXT_MAX];    /* an alert's destination */
	int64_t id;            /* a connection's or an alert's */
	uint64_t bytes;
	double rate;
	int64_t start;
	int pair;              /* colour */
	bool dim, bold;
};

struct table {
	struct row *r;
	int n, cap;
	int sel, top;
	bool loaded;
};

struct prev { uint64_t id, bytes; };

struct insp {
	const struct inspect_opts *o;
	struct monitor_client *c;
	struct sbuf line;
	bool color;
	char why[1024];        /* disconnected: why */
	int64_t lost_ms, next_try;
	/* the status line's facts */
	char state[16], access[8];
	int64_t learning_ends;
	long long live, unacked, programs;
	enum tab tab;
	struct table t[T__COUNT];
	int64_t next_fetch[T__COUNT], next_status;
	/* search: a substring of the rows shown */
	bool searching;
	char search[128];
	/* connections: sorted by; the previous sample for the rate */
	enum sort sort;
	struct prev *prev;
	int nprev;
	int64_t prev_ms;
	/* processes: the program drilled into (its destinations), or "" */
	char drill[TEXT_MAX], drill_name[64];
	/* domains: by organisation instead */
	bool by_org;
	/* history: the window [until - zooms[zoom], until), until following now when live;
	 * one program's, or everyone's; the "what changed" comparison instead of the list */
	int64_t h_until;
	bool h_live, compare;
	int zoom;
	char h_prog[TEXT_MAX];
	long long h_total, h_out, h_in, cmp_a, cmp_b, cmp_bytes_a, cmp_bytes_b;
	char msg[1024];
	bool msg_err, help;
};

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void say(struct insp *v, bool err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void say(struct insp *v, bool err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof v->msg, fmt, ap);
	va_end(ap);
	v->msg_err = err;
}

static attr_t pair(const struct insp *v, int p) { return v->color && p ? COLOR_PAIR(p) : 0; }

/* ---- formatting ---- */

static const char *bytes_text(uint64_t b, char *out, size_t cap)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB" };
	double x = (double)b;
	int u = 0;
	while (x >= 1000 && u < 4) x /= 1000, u++;
	if (!u) snprintf(out, cap, "%llu B", (unsigned long long)b);
	else snprintf(out, cap, x < 10 ? "%.1f %s" : "%.0f %s", x, units[u]);
	return out;
}

static const char *age_text(int64_t ms, char *out, size_t cap)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;
	if (s < 60) snprintf(out, cap, "%llds", (long long)s);
	else if (s < 3600) snprintf(out, cap, "%lldm", (long long)(s / 60));
	else if (s < 86400) snprintf(out, cap, "%lldh", (long long)(s / 3600));
	else snprintf(out, cap, "%lldd", (long long)(s / 86400));
	return out;
}

/* Local time: "2026-11-30 21:04:05" (date: with the date) */
static const char *time_text(int64_t ms, bool date, char *out, size_t cap)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, cap, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M:%S", &tm);
	return out;
}

/* Cells appended to a row: the text cut or padded to w columns, then a space. */
static void cell(char *row, size_t cap, const char *s, int w, bool right)
{
	tw_cell(row, cap, s, w, right);
	size_t n = strlen(row);
	if (n + 1 < cap) row[n] = ' ', row[n + 1] = '\0';
}

/* A view's columns: the header's name, the width (0: the flexible one, what the others
 * leave), right-aligned or not. */
struct col {
	const char *name;
	int w;
	bool right;
};
#define NCOLS(a) ((int)(sizeof a / sizeof *a))
static const struct col conn_cols[] = { { "Process", 14, 0 }, { "PID", 7, 1 }, { "Destination", 0, 0 }, { "Remote", 24, 0 },
					{ "Proto", 5, 0 }, { "Geo", 9, 0 }, { "Out", 9, 1 }, { "In", 9, 1 }, { "Rate", 10, 1 },
					{ "Age", 5, 1 } };
static const struct col proc_cols[] = { { "Program", 16, 0 }, { "Executable", 0, 0 }, { "Conns", 8, 1 }, { "Live", 6, 1 },
					{ "Dests", 6, 1 }, { "Out", 9, 1 }, { "In", 9, 1 }, { "Last", 9, 1 } };
static const struct col dest_cols[] = { { "Destination", 0, 0 }, { "Geo", 9, 0 }, { "Organisation", 20, 0 }, { "Conns", 8, 1 },
					{ "Out", 9, 1 }, { "In", 9, 1 }, { "Last", 9, 1 } };
static const struct col dom_cols[] = { { "Domain", 0, 0 }, { "Geo", 9, 0 }, { "Organisation", 20, 0 }, { "Conns", 8, 1 },
				       { "Programs", 9, 1 }, { "Addresses", 10, 1 }, { "Out", 9, 1 }, { "In", 9, 1 }, { "Last", 8, 1 } };
static const struct col org_cols[] = { { "Organisation", 0, 0 }, { "Geo", 9, 0 }, { "Conns", 8, 1 }, { "Programs", 9, 1 },
				       { "Domains", 10, 1 }, { "Out", 9, 1 }, { "In", 9, 1 }, { "Last", 8, 1 } };
static const struct col alert_cols[] = { { "Alert", 6, 0 }, { "", 1, 0 }, { "Time", 19, 0 }, { "Severity", 8, 0 },
					 { "Kind", 21, 0 }, { "What", 0, 0 } };
static const struct col hist_cols[] = { { "Started", 19, 0 }, { "Process", 14, 0 }, { "Destination", 0, 0 }, { "Remote", 23, 0 },
					{ "Port", 9, 0 }, { "Out", 8, 1 }, { "In", 8, 1 }, { "Lasted", 8, 1 } };

/* One row (or, vals NULL, the header): each value cut or padded to its column. */
static void cells(char *out, size_t cap, const struct col *c, int n, const char *const *vals)
{
	int used = 1;
	for (int i = 0; i < n; i++) used += c[i].w + 1;
	int fw = COLS - used;
	if (fw < 12) fw = 12;
	out[0] = '\0';
	for (int i = 0; i < n; i++) cell(out, cap, vals ? vals[i] : c[i].name, c[i].w ? c[i].w : fw, c[i].right);
}

/* ---- tables ---- */

static void table_clear(struct table *t)
{
	for (int i = 0; i < t->n; i++) free(t->r[i].text), free(t->r[i].hay);
	t->n = 0;
}

static struct row *table_add(struct table *t, const char *text, const char *extra)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 128;
		t->r = xrealloc(t->r, (size_t)t->cap * sizeof *t->r);
	}
	struct row *r = &t->r[t->n++];
	memset(r, 0, sizeof *r);
	r->text = xstrdup(text);
	size_t a = strlen(text), b = extra ? strlen(extra) : 0;
	r->hay = xmalloc(a + b + 2);
	for (size_t i = 0; i < a; i++) r->hay[i] = (char)tolower((unsigned char)text[i]);
	r->hay[a] = ' ';
	for (size_t i = 0; i < b; i++) r->hay[a + 1 + i] = (char)tolower((unsigned char)extra[i]);
	r->hay[a + 1 + b] = '\0';
	return r;
}

static bool matches(const struct insp *v, const struct row *r)
{
	if (!v->search[0]) return true;
	char needle[sizeof v->search];
	size_t i = 0;
	for (; v->search[i]; i++) needle[i] = (char)tolower((unsigned char)v->search[i]);
	needle[i] = '\0';
	return strstr(r->hay, needle) != NULL;
}

/* The rows shown (those the search keeps): their indexes into t->r, count returned. */
static int shown(const struct insp *v, const struct table *t, int *idx)
{
	int n = 0;
	for (int i = 0; i < t->n; i++)
		if (matches(v, &t->r[i])) idx[n++] = i;
	return n;
}

static struct row *selected(struct insp *v)
{
	struct table *t = &v->t[v->tab];
	int *idx = xmalloc(((size_t)t->n + 1) * sizeof *idx);
	int n = shown(v, t, idx);
	if (t->sel >= n) t->sel = n - 1; /* G, or a list that shrank: its last row */
	struct row *r = t->sel >= 0 && t->sel < n ? &t->r[idx[t->sel]] : NULL;
	free(idx);
	return r;
}

/* ---- talking to the monitor ---- */

static void disconnect(struct insp *v, const char *why)
{
	client_close(v->c);
	v->c = NULL;
	snprintf(v->why, sizeof v->why, "%s", why);
	v->lost_ms = now_ms();
	v->next_try = v->lost_ms + 1000;
}

/* A request: its reply's data in d (o holds the parsed reply). false: said why (a refusal
 * on the status line; a broken connection as disconnected). */
static bool call(struct insp *v, const char *req, struct jobj *o, const struct jv **d)
{
	if (!v->c) return false;
	char err[600];
	int rc = client_call(v->c, req, &v->line, err, sizeof err);
	if (rc == -2) {
		say(v, true, "%s", err);
		return false;
	}
	if (rc < 0) {
		disconnect(v, err);
		return false;
	}
	if (jsonr_object(v->line.buf, v->line.len, o, err, sizeof err) < 0 || !(*d = jsonr_get(o, "data"))) {
		say(v, true, "an unexpected reply from the monitor: %s", err);
		return false;
	}
	return true;
}

static void str_of(const struct jobj *o, const char *key, char *out, size_t cap)
{
	if (jsonr_str(jsonr_get(o, key), out, cap) < 0) out[0] = '\0';
}

static long long num_of(const struct jobj *o, const char *key)
{
	int64_t x;
	return jsonr_i64(jsonr_get(o, key), &x) == 0 ? (long long)x : 0;
}

static void fetch_status(struct insp *v)
{
	struct jobj o, d, b;
	const struct jv *dv;
	char err[200];
	if (!call(v, "{\"type\":\"status\"}", &o, &dv) || jsonr_sub(dv, &d, err, sizeof err) < 0) return;
	v->live = num_of(&d, "live_connections");
	v->unacked = num_of(&d, "alerts_unacknowledged");
	v->programs = num_of(&d, "programs");
	if (jsonr_sub(jsonr_get(&d, "baseline"), &b, err, sizeof err) == 0) {
		str_of(&b, "state", v->state, sizeof v->state);
		v->learning_ends = num_of(&b, "learning_ends_ms");
	}
}

static int cmp_prev(const void *a, const void *b)
{
	const struct prev *x = a, *y = b;
	return x->id < y->id ? -1 : x->id > y->id;
}

static enum sort sort_by; /* qsort's comparison has no context */

static int cmp_conn(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	enum sort s = sort_by;
	if (s == S_RATE && x->rate != y->rate) return x->rate < y->rate ? 1 : -1;
	if (s == S_AGE && x->start != y->start) return x->start < y->start ? 1 : -1; /* newest first */
	if (x->bytes != y->bytes) return x->bytes < y->bytes ? 1 : -1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static void sort_conns(struct insp *v)
{
	struct table *t = &v->t[T_CONNS];
	sort_by = v->sort;
	qsort(t->r, (size_t)t->n, sizeof *t->r, cmp_conn);
}

/* "tcp" → "TCP", "icmpv6" → "ICMP6" */
static void proto_text(char *p)
{
	if (!strcmp(p, "icmpv6")) strcpy(p, "icmp6");
	for (; *p; p++) *p = (char)toupper((unsigned char)*p);
}

/* Geo column: "DE AS3320", "DE", "-" */
static void geo_text(const struct jobj *o, char *out, size_t cap)
{
	char cc[8];
	str_of(o, "country", cc, sizeof cc);
	long long asn = num_of(o, "asn");
	if (cc[0] && asn) snprintf(out, cap, "%s AS%lld", cc, asn);
	else if (cc[0]) snprintf(out, cap, "%s", cc);
	else if (asn) snprintf(out, cap, "AS%lld", asn);
	else snprintf(out, cap, "-");
}

static void fetch_conns(struct insp *v)
{
	struct jobj o, e, sub;
	const struct jv *d;
	if (!call(v, "{\"type\":\"connections\"}", &o, &d)) return;
	struct table *t = &v->t[T_CONNS];
	table_clear(t);
	int64_t now = now_ms();
	double dt = v->prev_ms ? (double)(now - v->prev_ms) / 1000.0 : 0;
	struct prev *next = NULL;
	int nnext = 0, capnext = 0;
	size_t pos = 0;
	struct jv el;
	char err[200];
	while (jsonr_next(d, &pos, &el)) {
		if (jsonr_sub(&el, &e, err, sizeof err) < 0) continue;
		char proc[64] = "?", pid[16] = "", exe[TEXT_MAX] = "", name[256], reg[256], raddr[64], proto[8], geo[32], org[128],
		     remote[96], ob[16], ib[16], rb[24], ab[16], text[TW_LINE_MAX] = "", extra[1024];
		if (jsonr_sub(jsonr_get(&e, "process"), &sub, err, sizeof err) == 0) {
			str_of(&sub, "name", proc, sizeof proc);
			str_of(&sub, "exe", exe, sizeof exe);
			snprintf(pid, sizeof pid, "%lld", num_of(&sub, "pid"));
		}
		long long rport = 0;
		raddr[0] = '\0';
		if (jsonr_sub(jsonr_get(&e, "remote"), &sub, err, sizeof err) == 0) {
			str_of(&sub, "addr", raddr, sizeof raddr);
			rport = num_of(&sub, "port");
		}
		str_of(&e, "name", name, sizeof name);
		str_of(&e, "registrable_domain", reg, sizeof reg);
		str_of(&e, "proto", proto, sizeof proto);
		str_of(&e, "as_org", org, sizeof org);
		geo_text(&e, geo, sizeof geo);
		proto_text(proto);
		if (!strncmp(proto, "ICMP", 4)) snprintf(remote, sizeof remote, "%s", raddr); /* no ports */
		else snprintf(remote, sizeof remote, strchr(raddr, ':') ? "[%s]:%lld" : "%s:%lld", raddr, rport);
		uint64_t id = (uint64_t)num_of(&e, "id"), out = (uint64_t)num_of(&e, "bytes_out"), in = (uint64_t)num_of(&e, "bytes_in");
		int64_t start = num_of(&e, "start_ms");
		/* the rate: bytes since the last sample, or since the start for a new one */
		double rate = 0;
		struct prev key = { id, 0 }, *pv = v->prev ? bsearch(&key, v->prev, (size_t)v->nprev, sizeof *v->prev, cmp_prev) : NULL;
		if (pv && dt > 0) rate = (double)(out + in - pv->bytes) / dt;
		else if (now > start) rate = (double)(out + in) * 1000.0 / (double)(now - start);
		if (nnext == capnext) capnext = capnext ? capnext * 2 : 256, next = xrealloc(next, (size_t)capnext * sizeof *next);
		next[nnext++] = (struct prev){ id, out + in };
		bytes_text((uint64_t)rate, rb, sizeof rb);
		strcat(rb, "/s");
		const char *vals[] = { proc, pid, name[0] ? name : raddr, remote, proto, geo, bytes_text(out, ob, sizeof ob),
				       bytes_text(in, ib, sizeof ib), rb, age_text(now - start, ab, sizeof ab) };
		cells(text, sizeof text, conn_cols, NCOLS(conn_cols), vals);
		snprintf(extra, sizeof extra, "%s %s %s %s", exe, reg, org, raddr);
		struct row *r = table_add(t, text, extra);
		snprintf(r->key, sizeof r->key, "%s", exe);
		r->id = (int64_t)id;
		r->bytes = out + in;
		r->rate = rate;
		r->start = start;
	}
	qsort(next, (size_t)nnext, sizeof *next, cmp_prev);
	free(v->prev);
	v->prev = next;
	v->nprev = nnext;
	v->prev_ms = now;
	sort_conns(v);
	t->loaded = true;
}

static void range_text(int64_t since, int64_t until, char *out, size_t cap)
{
	char a[32], b[32], w[32];
	snprintf(out, cap, "%s → %s (%s)", time_text(since, true, a, sizeof a), time_text(until, true, b, sizeof b),
		 format_duration_ms(until - since, w, sizeof w));
}

static void fetch_procs(struct insp *v)
{
	struct jobj o, e;
	const struct jv *d;
	char req[TEXT_MAX + 128], err[200];
	struct sbuf rq;
	sb_init_fixed(&rq, req, sizeof req);
	if (v->drill[0]) {
		sb_puts(&rq, "{\"type\":\"destinations\",\"program\":");
		sb_json_str(&rq, v->drill, strlen(v->drill));
		sb_puts(&rq, "}");
	} else {
		sb_puts(&rq, "{\"type\":\"processes\"}");
	}
	sb_putc(&rq, '\0');
	if (!call(v, req, &o, &d)) return;
	struct table *t = &v->t[T_PROCS];
	table_clear(t);
	int64_t now = now_ms();
	size_t pos = 0;
	struct jv el;
	while (jsonr_next(d, &pos, &el)) {
		if (jsonr_sub(&el, &e, err, sizeof err) < 0) continue;
		char text[TW_LINE_MAX] = "", a[TEXT_MAX], b[128], n1[24], n2[24], ob[16], ib[16], ab[16], geo[32];
		uint64_t out = (uint64_t)num_of(&e, "bytes_out"), in = (uint64_t)num_of(&e, "bytes_in");
		struct row *r;
		if (v->drill[0]) { /* the program's destinations */
			str_of(&e, "destination", a, sizeof a);
			str_of(&e, "as_org", b, sizeof b);
			geo_text(&e, geo, sizeof geo);
			snprintf(n1, sizeof n1, "%lld", num_of(&e, "connections"));
			const char *vals[] = { a, geo, b[0] ? b : "-", n1, bytes_text(out, ob, sizeof ob), bytes_text(in, ib, sizeof ib),
					       age_text(now - num_of(&e, "last_ms"), ab, sizeof ab) };
			cells(text, sizeof text, dest_cols, NCOLS(dest_cols), vals);
			r = table_add(t, text, NULL);
			snprintf(r->key, sizeof r->key, "%s", v->drill);
		} else {
			str_of(&e, "exe", a, sizeof a);
			str_of(&e, "name", b, sizeof b);
			snprintf(n1, sizeof n1, "%lld", num_of(&e, "connections"));
			snprintf(n2, sizeof n2, "%lld", num_of(&e, "destinations"));
			char live[24];
			snprintf(live, sizeof live, "%lld", num_of(&e, "live"));
			const char *vals[] = { b, a, n1, live, n2, bytes_text(out, ob, sizeof ob), bytes_text(in, ib, sizeof ib),
					       age_text(now - num_of(&e, "last_ms"), ab, sizeof ab) };
			cells(text, sizeof text, proc_cols, NCOLS(proc_cols), vals);
			r = table_add(t, text, NULL);
			snprintf(r->key, sizeof r->key, "%s", a);
		}
		r->bytes = out + in;
	}
	t->loaded = true;
}

static void fetch_domains(struct insp *v)
{
	struct jobj o, e;
	const struct jv *d;
	char err[200];
	if (!call(v, v->by_org ? "{\"type\":\"destinations\",\"by\":\"org\"}" : "{\"type\":\"destinations\"}", &o, &d)) return;
	struct table *t = &v->t[T_DOMAINS];
	table_clear(t);
	int64_t now = now_ms();
	size_t pos = 0;
	struct jv el;
	while (jsonr_next(d, &pos, &el)) {
		if (jsonr_sub(&el, &e, err, sizeof err) < 0) continue;
		char text[TW_LINE_MAX] = "", dest[TEXT_MAX], org[128], geo[32], n1[24], n2[24], n3[24], ob[16], ib[16], ab[16];
		str_of(&e, "destination", dest, sizeof dest);
		str_of(&e, "as_org", org, sizeof org);
		geo_text(&e, geo, sizeof geo);
		snprintf(n1, sizeof n1, "%lld", num_of(&e, "connections"));
		snprintf(n2, sizeof n2, "%lld", num_of(&e, "programs"));
		snprintf(n3, sizeof n3, "%lld", num_of(&e, v->by_org ? "destinations" : "addresses"));
		uint64_t out = (uint64_t)num_of(&e, "bytes_out"), in = (uint64_t)num_of(&e, "bytes_in");
		bytes_text(out, ob, sizeof ob);
		bytes_text(in, ib, sizeof ib);
		age_text(now - num_of(&e, "last_ms"), ab, sizeof ab);
		if (v->by_org) {
			const char *vals[] = { dest, geo, n1, n2, n3, ob, ib, ab };
			cells(text, sizeof text, org_cols, NCOLS(org_cols), vals);
		} else {
			const char *vals[] = { dest, geo, org[0] ? org : "-", n1, n2, n3, ob, ib, ab };
			cells(text, sizeof text, dom_cols, NCOLS(dom_cols), vals);
		}
		struct row *r = table_add(t, text, org);
		snprintf(r->key, sizeof r->key, "%s", dest);
		r->bytes = out + in;
	}
	t->loaded = true;
}

static int severity_pair(const char *sev)
{
	return !strcmp(sev, "critical") ? P_CRIT : !strcmp(sev, "warning") ? P_WARN : !strcmp(sev, "notice") ? P_NOTICE : P_INFO;
}

static void fetch_alerts(struct insp *v)
{
	struct jobj o, e, sub;
	const struct jv *d;
	char err[200];
	if (!call(v, "{\"type\":\"alerts\",\"all\":true}", &o, &d)) return;
	struct table *t = &v->t[T_ALERTS];
	table_clear(t);
	size_t pos = 0;
	struct jv el;
	while (jsonr_next(d, &pos, &el)) {
		if (jsonr_sub(&el, &e, err, sizeof err) < 0) continue;
		char text[TW_LINE_MAX] = "", ts[40], sev[16], kind[32], title[1024], id[24], prog[TEXT_MAX] = "", dest[TEXT_MAX] = "",
		     label[48];
		str_of(&e, "ts", ts, sizeof ts);
		str_of(&e, "severity", sev, sizeof sev);
		str_of(&e, "kind", kind, sizeof kind);
		str_of(&e, "title", title, sizeof title);
		bool acked = false;
		jsonr_bool(jsonr_get(&e, "acked"), &acked);
		if (jsonr_sub(jsonr_get(&e, "program"), &sub, err, sizeof err) == 0) str_of(&sub, "key", prog, sizeof prog);
		if (jsonr_sub(jsonr_get(&e, "destination"), &sub, err, sizeof err) == 0) str_of(&sub, "name", dest, sizeof dest);
		/* "2026-11-30T21:04:05.123Z": the date and the second */
		char *dot = strchr(ts, '.');
		if (dot) *dot = '\0';
		char *tee = strchr(ts, 'T');
		if (tee) *tee = ' ';
		snprintf(id, sizeof id, "#%lld", num_of(&e, "id"));
		snprintf(label, sizeof label, "[%s]", kind);
		const char *vals[] = { id, acked ? "✓" : " ", ts, sev, label, title };
		cells(text, sizeof text, alert_cols, NCOLS(alert_cols), vals);
		struct row *r = table_add(t, text, prog);
		snprintf(r->key, sizeof r->key, "%s", prog);
		snprintf(r->key2, sizeof r->key2, "%s", dest);
		r->id = num_of(&e, "id");
		r->pair = severity_pair(sev);
		r->bold = !strcmp(sev, "critical") && !acked;
		r->dim = acked;
	}
	/* newest first */
	for (int i = 0, j = t->n - 1; i < j; i++, j--) {
		struct row x = t->r[i];
		t->r[i] = t->r[j];
		t->r[j] = x;
	}
	t->loaded = true;
}

static int64_t h_since(const struct insp *v) { return v->h_until - zooms[v->zoom]; }

static void history_req(struct insp *v, struct sbuf *rq)
{
	if (v->h_live) v->h_until = now_ms() + 1;
	if (v->compare) {
		int64_t w = zooms[v->zoom], b0 = h_since(v);
		sb_printf(rq, "{\"type\":\"compare\",\"a_since_ms\":%lld,\"a_until_ms\":%lld,\"b_since_ms\":%lld,\"b_until_ms\":%lld}",
			  (long long)(b0 - w), (long long)b0, (long long)b0, (long long)v->h_until);
		return;
	}
	sb_printf(rq, "{\"type\":\"history\",\"since_ms\":%lld,\"until_ms\":%lld", (long long)h_since(v), (long long)v->h_until);
	if (v->h_prog[0]) {
		sb_puts(rq, ",\"program\":");
		sb_json_str(rq, v->h_prog, strlen(v->h_prog));
	}
	sb_putc(rq, '}');
}

static void fetch_compare(struct insp *v, const struct jv *d)
{
	struct jobj o, e;
	char err[200], s[TEXT_MAX], text[TW_LINE_MAX];
	struct table *t = &v->t[T_HISTORY];
	if (jsonr_sub(d, &o, err, sizeof err) < 0) return;
	table_clear(t);
	v->cmp_a = num_of(&o, "connections_a");
	v->cmp_b = num_of(&o, "connections_b");
	v->cmp_bytes_a = num_of(&o, "bytes_a");
	v->cmp_bytes_b = num_of(&o, "bytes_b");
	static const struct { const char *key, *title; } parts[] = {
		{ "new_programs", "New programs" }, { "new_destinations", "New destinations (program → destination)" },
		{ "new_countries", "New countries" },
	};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
		const struct jv *arr = jsonr_get(&o, parts[i].key);
		int n = 0;
		size_t pos = 0;
		struct jv el;
		while (jsonr_next(arr, &pos, &el)) n++;
		snprintf(text, sizeof text, "%s: %d", parts[i].title, n);
		struct row *h = table_add(t, text, NULL);
		h->bold = true;
		h->pair = P_HEAD;
		pos = 0;
		while (jsonr_next(arr, &pos, &el)) {
			if (el.type == JV_OBJ && jsonr_sub(&el, &e, err, sizeof err) == 0) {
				char exe[TEXT_MAX];
				str_of(&e, "exe", exe, sizeof exe);
				str_of(&e, "destination", s, sizeof s);
				snprintf(text, sizeof text, "  %s → %s", exe[0] ? exe : "(no program)", s);
				snprintf(table_add(t, text, NULL)->key, TEXT_MAX, "%s", exe);
			} else if (jsonr_str(&el, s, sizeof s) == 0) {
				snprintf(text, sizeof text, "  %s", s);
				struct row *r = table_add(t, text, NULL);
				if (i == 0) snprintf(r->key, sizeof r->key, "%s", s);
			}
			t->r[t->n - 1].pair = P_NEW;
		}
		table_add(t, "", NULL);
	}
}

static void fetch_history(struct insp *v)
{
	struct jobj o, h, e, sub;
	const struct jv *d;
	char req[TEXT_MAX + 256], err[200];
	struct sbuf rq;
	sb_init_fixed(&rq, req, sizeof req);
	history_req(v, &rq);
	sb_putc(&rq, '\0');
	if (!call(v, req, &o, &d)) return;
	struct table *t = &v->t[T_HISTORY];
	t->loaded = true;
	if (v->compare) {
		fetch_compare(v, d);
		return;
	}
	if (jsonr_sub(d, &h, err, sizeof err) < 0) return;
	table_clear(t);
	v->h_total = num_of(&h, "total");
	v->h_out = num_of(&h, "bytes_out");
	v->h_in = num_of(&h, "bytes_in");
	size_t pos = 0;
	struct jv el;
	while (jsonr_next(jsonr_get(&h, "connections"), &pos, &el)) {
		if (jsonr_sub(&el, &e, err, sizeof err) < 0) continue;
		char text[TW_LINE_MAX] = "", tb[32], proc[64], exe[TEXT_MAX], name[256], raddr[64] = "", remote[96], proto[8], pp[24], ob[16],
		     ib[16], db[32];
		long long rport = 0;
		str_of(&e, "process", proc, sizeof proc);
		str_of(&e, "exe", exe, sizeof exe);
		str_of(&e, "name", name, sizeof name);
		str_of(&e, "proto", proto, sizeof proto);
		if (jsonr_sub(jsonr_get(&e, "remote"), &sub, err, sizeof err) == 0) {
			str_of(&sub, "addr", raddr, sizeof raddr);
			rport = num_of(&sub, "port");
		}
		proto_text(proto);
		snprintf(remote, sizeof remote, strchr(raddr, ':') ? "[%s]" : "%s", raddr);
		if (!strncmp(proto, "ICMP", 4)) snprintf(pp, sizeof pp, "%s", proto);
		else snprintf(pp, sizeof pp, "%s/%lld", proto, rport);
		int64_t start = num_of(&e, "start_ms"), end = num_of(&e, "end_ms");
		uint64_t out = (uint64_t)num_of(&e, "bytes_out"), in = (uint64_t)num_of(&e, "bytes_in");
		const char *vals[] = { time_text(start, true, tb, sizeof tb), proc[0] ? proc : "?", name[0] ? name : raddr, remote, pp,
				       bytes_text(out, ob, sizeof ob), bytes_text(in, ib, sizeof ib), age_text(end - start, db, sizeof db) };
		cells(text, sizeof text, hist_cols, NCOLS(hist_cols), vals);
		struct row *r = table_add(t, text, exe);
		snprintf(r->key, sizeof r->key, "%s", exe);
		r->start = start;
		r->bytes = out + in;
	}
}

static void (*const fetchers[T__COUNT])(struct insp *) = { fetch_conns, fetch_procs, fetch_domains, fetch_alerts, fetch_history };

/* The view shown again now (a key changed what it asks), and later on its own clock. */
static void refresh_view(struct insp *v)
{
	if (!v->c) return;
	fetchers[v->tab](v);
	bool live = v->tab == T_CONNS || v->tab == T_ALERTS;
	v->next_fetch[v->tab] = now_ms() + (live ? LIVE_REFRESH_MS : STORE_REFRESH_MS);
}

static bool try_connect(struct insp *v)
{
	char err[1024];
	struct monitor_client *c = client_connect(v->o->socket, err, sizeof err);
	if (!c) {
		snprintf(v->why, sizeof v->why, "%s", err);
		v->next_try = now_ms() + 1000;
		return false;
	}
	client_set_timeout(c, CALL_TIMEOUT_MS);
	v->c = c;
	v->why[0] = '\0';
	return true;
}

/* ---- drawing ---- */

static void draw_tabs(struct insp *v)
{
	char bar[TW_LINE_MAX];
	int k = snprintf(bar, sizeof bar, " pktscope inspect ");
	tw_line(0, bar, (size_t)k, A_BOLD | pair(v, P_BAR) | A_REVERSE);
	int x = k;
	for (int i = 0; i < T__COUNT && x < COLS; i++) {
		char label[64];
		int n = i == T_ALERTS && v->unacked ? snprintf(label, sizeof label, " %d %s (%lld) ", i + 1, tab_names[i], v->unacked)
						    : snprintf(label, sizeof label, " %d %s ", i + 1, tab_names[i]);
		attr_t a = i == (int)v->tab ? (pair(v, P_TAB) | A_REVERSE | A_BOLD) : A_NORMAL;
		if (!v->color && i == (int)v->tab) a = A_REVERSE | A_BOLD;
		attrset(a);
		mvaddnstr(0, x + 1, label, COLS - x - 1 > 0 ? COLS - x - 1 : 0);
		x += 1 + (int)tw_columns(label, (size_t)n);
	}
	attrset(A_NORMAL);
}

/* The view's title (row 1) and its columns' header (row 2). */
static void view_head(struct insp *v, char *title, size_t tcap, char *head, size_t hcap)
{
	char a[160], b[32], c[32];
	head[0] = '\0';
	switch (v->tab) {
	case T_CONNS:
		snprintf(title, tcap, "Live connections (%d) · sorted by %s (s)", v->t[T_CONNS].n, sort_names[v->sort]);
		cells(head, hcap, conn_cols, NCOLS(conn_cols), NULL);
		break;
	case T_PROCS:
		if (v->drill[0]) {
			snprintf(title, tcap, "Destinations of %s (%s) · last 24 h · h its history · Esc back", v->drill_name, v->drill);
			cells(head, hcap, dest_cols, NCOLS(dest_cols), NULL);
		} else {
			snprintf(title, tcap, "Programs (%d) · last 24 h", v->t[T_PROCS].n);
			cells(head, hcap, proc_cols, NCOLS(proc_cols), NULL);
		}
		break;
	case T_DOMAINS:
		snprintf(title, tcap, "%s (%d) · last 24 h · o: by %s", v->by_org ? "Organisations" : "Domains", v->t[T_DOMAINS].n,
			 v->by_org ? "domain" : "organisation");
		if (v->by_org) cells(head, hcap, org_cols, NCOLS(org_cols), NULL);
		else cells(head, hcap, dom_cols, NCOLS(dom_cols), NULL);
		break;
	case T_ALERTS:
		snprintf(title, tcap, "Alerts (%d, %lld not acknowledged)",
			 v->t[T_ALERTS].n, v->unacked);
		cells(head, hcap, alert_cols, NCOLS(alert_cols), NULL);
		break;
	case T_HISTORY:
		range_text(h_since(v), v->h_until, a, sizeof a);
		if (v->compare) {
			char d[32];
			snprintf(title, tcap, "What changed: %s against the %s before · %lld connections (%s), before %lld (%s)",
				 a, format_duration_ms(zooms[v->zoom], c, sizeof c), v->cmp_b, bytes_text((uint64_t)v->cmp_bytes_b, b, sizeof b),
				 v->cmp_a, bytes_text((uint64_t)v->cmp_bytes_a, d, sizeof d));
			break;
		}
		{
			char o[16], i[16];
			snprintf(title, tcap, "History %s%s · %s%s · %lld connections, ↑%s ↓%s%s",
				 a, v->h_live ? " (now)" : "", v->h_prog[0] ? v->h_prog : "every program", v->h_prog[0] ? " (x: all)" : "",
				 v->h_total, bytes_text((uint64_t)v->h_out, o, sizeof o), bytes_text((uint64_t)v->h_in, i, sizeof i),
				 v->h_total > v->t[T_HISTORY].n ? " (the newest shown)" : "");
		}
		cells(head, hcap, hist_cols, NCOLS(hist_cols), NULL);
		break;
	default: break;
	}
}

static void draw_table(struct insp *v)
{
	char title[TW_LINE_MAX], head[TW_LINE_MAX], line[TW_LINE_MAX];
	view_head(v, title, sizeof title, head, sizeof head);
	if (v->searching || v->search[0]) {
		size_t n = strlen(title);
		snprintf(title + n, sizeof title - n, " · search: %s%s", v->search, v->searching ? "_" : "");
	}
	tw_line(1, title, strlen(title), A_BOLD);
	tw_line(2, head, strlen(head), A_UNDERLINE | A_BOLD);
	struct table *t = &v->t[v->tab];
	int rows = LINES - 4;
	if (rows < 1) rows = 1;
	int *idx = xmalloc(((size_t)t->n + 1) * sizeof *idx);
	int n = shown(v, t, idx);
	if (t->sel >= n) t->sel = n - 1;
	if (t->sel < 0) t->sel = 0;
	if (t->sel < t->top) t->top = t->sel;
	if (t->sel >= t->top + rows) t->top = t->sel - rows + 1;
	if (t->top > 0 && t->top > n - rows) t->top = n > rows ? n - rows : 0;
	for (int y = 0; y < rows; y++) {
		int i = t->top + y;
		if (i >= n) {
			const char *empty = y ? "" : !t->loaded ? "  (asking the monitor…)"
						  : v->tab == T_PROCS && v->drill[0] ? "  (no destination in the last 24 hours)"
						  : "  (nothing here)";
			tw_line(3 + y, empty, strlen(empty), A_DIM);
			continue;
		}
		const struct row *r = &t->r[idx[i]];
		attr_t a = pair(v, r->pair) | (r->dim ? A_DIM : 0) | (r->bold ? A_BOLD : 0);
		if (i == t->sel) a |= A_REVERSE;
		snprintf(line, sizeof line, "%s", r->text);
		tw_line(3 + y, line, strlen(line), a);
	}
	free(idx);
}

static void draw_status(struct insp *v)
{
	char buf[TW_LINE_MAX], until[48], t[32];
	int k;
	if (!v->c) {
		k = snprintf(buf, sizeof buf, " DISCONNECTED at %s: the last state stays on screen; reconnecting every second · q quits │ %s",
			     time_text(v->lost_ms, false, t, sizeof t), v->why);
		tw_line(LINES - 1, buf, (size_t)k, pair(v, P_BAR_ERR) | A_REVERSE | A_BOLD);
		return;
	}
	const char *state = v->state[0] ? v->state : "?";
	until[0] = '\0';
	if (!strcmp(state, "learning") && v->learning_ends) snprintf(until, sizeof until, " until %s", time_text(v->learning_ends, true, t, sizeof t));
	static const char *const hints[T__COUNT] = {
		"s sort  / search  1-5 views  ? help  q quit",
		"Enter destinations  h history  / search  ? help  q quit",
		"o by domain/organisation  / search  ? help  q quit",
		"a ack  m/M mark known  Enter program  ? help  q quit",
		"[ ] move  + - zoom  n now  c what changed  ? help  q quit",
	};
	k = snprintf(buf, sizeof buf, " %s%s │ %lld live │ %lld programs │ %lld alerts waiting │ %s", state, until, v->live, v->programs,
		     v->unacked, v->msg[0] ? v->msg : hints[v->tab]);
	tw_line(LINES - 1, buf, (size_t)k, (v->msg_err ? pair(v, P_BAR_ERR) : pair(v, P_BAR)) | A_REVERSE);
}

static const char *const help_lines[] = {
	"pktscope inspect — keys",
	"",
	"  q, Ctrl-C        quit",
	"  1-5, Tab/S-Tab   the views: Connections, Processes, Domains, Alerts, History",
	"  j/k, Down/Up     next / previous row; PgDn/PgUp a page; g/G first / last",
	"  /                search the view's rows as you type (Enter keeps it, Esc clears)",
	"  r                ask the monitor again now",
	"  Connections      s: sort by bytes, rate, age",
	"  Processes        Enter: the program's destinations (Esc back); h: its history",
	"  Domains          o: by organisation / by domain",
	"  Alerts           a: acknowledge; m: mark the program and destination known; M: mark the",
	"                   program known (no more alerts for it); Enter: the program's destinations",
	"  History          [ ]: the window back / forward; + -: zoom in / out; n: up to now;",
	"                   c: what changed (the window against the one before); x: every program",
	"",
	"  Acknowledging and marking known need root or the monitor's own user.",
};

static void draw(struct insp *v)
{
	curs_set(0);
	draw_tabs(v);
	if (v->help) {
		int n = (int)(sizeof help_lines / sizeof *help_lines);
		for (int r = 1; r < LINES - 1; r++) {
			const char *s = r - 1 < n ? help_lines[r - 1] : "";
			tw_line(r, s, strlen(s), r == 1 ? A_BOLD : 0);
		}
	} else {
		draw_table(v);
	}
	draw_status(v);
	refresh();
}

/* ---- keys ---- */

static void switch_tab(struct insp *v, enum tab t)
{
	v->tab = t;
	v->search[0] = '\0';
	v->searching = false;
	v->msg[0] = '\0';
	refresh_view(v);
}

static void admin_request(struct insp *v, const char *req, const char *done)
{
	struct jobj o;
	const struct jv *d;
	if (!call(v, req, &o, &d)) return;
	struct jobj m;
	char err[200], text[400];
	if (jsonr_sub(d, &m, err, sizeof err) == 0 && jsonr_str(jsonr_get(&m, "message"), text, sizeof text) == 0) say(v, false, "%s", text);
	else say(v, false, "%s", done);
	fetch_status(v);
	refresh_view(v);
}

static void alert_key(struct insp *v, int ch)
{
	struct row *r = selected(v);
	if (!r) return;
	char req[3 * TEXT_MAX];
	struct sbuf rq;
	sb_init_fixed(&rq, req, sizeof req);
	if (ch == 'a') {
		sb_printf(&rq, "{\"type\":\"ack\",\"id\":%lld}", (long long)r->id);
	} else {
		if (!r->key[0]) {
			say(v, true, "alert #%lld names no program", (long long)r->id);
			return;
		}
		sb_puts(&rq, "{\"type\":\"known\",\"op\":\"add\",\"program\":");
		sb_json_str(&rq, r->key, strlen(r->key));
		if (ch == 'm' && r->key2[0]) {
			sb_puts(&rq, ",\"destination\":");
			sb_json_str(&rq, r->key2, strlen(r->key2));
		}
		sb_putc(&rq, '}');
	}
	sb_putc(&rq, '\0');
	admin_request(v, req, "done");
}

/* Processes drilled into one program: from a Processes row or an alert's program. */
static void drill_into(struct insp *v, const char *exe)
{
	snprintf(v->drill, sizeof v->drill, "%s", exe);
	const char *slash = strrchr(exe, '/');
	snprintf(v->drill_name, sizeof v->drill_name, "%s", slash ? slash + 1 : exe);
	v->t[T_PROCS].sel = v->t[T_PROCS].top = 0;
	v->t[T_PROCS].loaded = false;
	table_clear(&v->t[T_PROCS]);
	switch_tab(v, T_PROCS);
}

static void history_of(struct insp *v, const char *exe)
{
	snprintf(v->h_prog, sizeof v->h_prog, "%s", exe);
	v->compare = false;
	v->t[T_HISTORY].sel = v->t[T_HISTORY].top = 0;
	switch_tab(v, T_HISTORY);
}

static void history_key(struct insp *v, int ch)
{
	int64_t w = zooms[v->zoom], now = now_ms();
	switch (ch) {
	case '[': v->h_until -= w, v->h_live = false; break;
	case ']':
		v->h_until += w;
		if (v->h_until > now) v->h_live = true;
		break;
	case '+': case '=':
		if (v->zoom > 0) v->zoom--;
		break;
	case '-': case '_':
		if (v->zoom + 1 < NZOOMS) v->zoom++;
		break;
	case 'n': v->h_live = true; break;
	case 'c': v->compare = !v->compare; break;
	case 'x': v->h_prog[0] = '\0'; break;
	default: return;
	}
	v->t[T_HISTORY].sel = v->t[T_HISTORY].top = 0;
	refresh_view(v);
}

static void move_sel(struct insp *v, int delta)
{
	struct table *t = &v->t[v->tab];
	t->sel += delta;
	if (t->sel < 0) t->sel = 0; /* the end is clamped when drawn */
}

static bool key(struct insp *v, int ch)
{
	if (v->help) {
		v->help = false;
		return true;
	}
	if (v->searching) {
		size_t n = strlen(v->search);
		if (ch == 27) v->search[0] = '\0', v->searching = false;
		else if (ch == '\n' || ch == KEY_ENTER) v->searching = false;
		else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) v->search[n - 1] = '\0';
		else if (ch >= 0x20 && ch < 0x100 && ch != 127 && n + 1 < sizeof v->search) v->search[n] = (char)ch, v->search[n + 1] = '\0';
		v->t[v->tab].sel = v->t[v->tab].top = 0;
		return true;
	}
	int page = LINES - 5 > 1 ? LINES - 5 : 1;
	switch (ch) {
	case 'q': return false;
	case '?': v->help = true; return true;
	case '1': case '2': case '3': case '4': case '5': switch_tab(v, (enum tab)(ch - '1')); return true;
	case '\t': case KEY_RIGHT: switch_tab(v, (enum tab)((v->tab + 1) % T__COUNT)); return true;
	case KEY_BTAB: case KEY_LEFT: switch_tab(v, (enum tab)((v->tab + T__COUNT - 1) % T__COUNT)); return true;
	case 'j': case KEY_DOWN: move_sel(v, 1); return true;
	case 'k': case KEY_UP: move_sel(v, -1); return true;
	case KEY_NPAGE: case ' ': move_sel(v, page); return true;
	case KEY_PPAGE: move_sel(v, -page); return true;
	case 'g': case KEY_HOME: v->t[v->tab].sel = 0; return true;
	case 'G': case KEY_END: v->t[v->tab].sel = 1 << 30; return true;
	case '/': v->searching = true; return true;
	case 27:
		if (v->search[0]) v->search[0] = '\0';
		else if (v->tab == T_PROCS && v->drill[0]) v->drill[0] = '\0', refresh_view(v);
		v->msg[0] = '\0';
		return true;
	case 'r':
		v->msg[0] = '\0';
		fetch_status(v);
		refresh_view(v);
		return true;
	case KEY_RESIZE: refresh_view(v); return true; /* the columns laid out for the new width */
	default: break;
	}
	switch (v->tab) {
	case T_CONNS:
		if (ch == 's') {
			v->sort = (enum sort)((v->sort + 1) % S__COUNT);
			sort_conns(v);
		}
		break;
	case T_PROCS: {
		struct row *r = selected(v);
		if ((ch == '\n' || ch == KEY_ENTER) && r && !v->drill[0]) drill_into(v, r->key);
		else if (ch == 'h' && r) history_of(v, r->key);
		else if ((ch == KEY_BACKSPACE || ch == 127) && v->drill[0]) v->drill[0] = '\0', refresh_view(v);
		break;
	}
	case T_DOMAINS:
		if (ch == 'o') {
			v->by_org = !v->by_org;
			v->t[T_DOMAINS].sel = v->t[T_DOMAINS].top = 0;
			refresh_view(v);
		}
		break;
	case T_ALERTS: {
		struct row *r = selected(v);
		if (ch == 'a' || ch == 'm' || ch == 'M') alert_key(v, ch);
		else if ((ch == '\n' || ch == KEY_ENTER) && r && r->key[0]) drill_into(v, r->key);
		break;
	}
	case T_HISTORY: history_key(v, ch); break;
	default: break;
	}
	return true;
}

static void setup_colors(struct insp *v)
{
	v->color = has_colors() && !getenv("NO_COLOR");
	if (!v->color) return;
	start_color();
	use_default_colors();
	init_pair(P_TAB, COLOR_CYAN, -1);
	init_pair(P_CRIT, COLOR_RED, -1);
	init_pair(P_WARN, COLOR_MAGENTA, -1);
	init_pair(P_NOTICE, COLOR_YELLOW, -1);
	init_pair(P_INFO, -1, -1);
	init_pair(P_BAR, COLOR_WHITE, -1);
	init_pair(P_BAR_ERR, COLOR_RED, -1);
	init_pair(P_HEAD, COLOR_CYAN, -1);
	init_pair(P_NEW, COLOR_GREEN, -1);
}

int tui_inspect(const struct inspect_opts *o)
{
	static struct insp v; /* the tables' heads: not on the stack */
	memset(&v, 0, sizeof v);
	v.o = o;
	v.zoom = ZOOM_DEFAULT;
	v.h_live = true;
	sb_init_grow(&v.line, 1 << 16, SERVER_MAX_REPLY);
	/* the first connection before the terminal is taken: an error is printed plainly */
	if (!try_connect(&v)) {
		fprintf(stderr, "pktscope: %s\n", v.why);
		sb_free(&v.line);
		return 1;
	}
	tw_begin();
	setup_colors(&v);
	fetch_status(&v);
	refresh_view(&v);
	v.next_status = now_ms() + LIVE_REFRESH_MS;
	bool running = true;
	while (running && !tw_quit()) {
		draw(&v);
		timeout(100);
		int ch = getch();
		if (ch != ERR) {
			running = key(&v, ch);
			timeout(0);
			while (running && (ch = getch()) != ERR) running = key(&v, ch);
			continue;
		}
		int64_t now = now_ms();
		if (!v.c) {
			if (now >= v.next_try && try_connect(&v)) {
				say(&v, false, "connected again");
				for (int i = 0; i < T__COUNT; i++) v.next_fetch[i] = 0;
				v.next_status = 0;
			}
			continue;
		}
		if (now >= v.next_status) {
			fetch_status(&v);
			v.next_status = now + LIVE_REFRESH_MS;
		}
		/* a history window that ends in the past does not change */
		bool still = v.tab == T_HISTORY && !v.h_live;
		if (v.c && now >= v.next_fetch[v.tab] && !still) refresh_view(&v);
	}
	tw_end();
	for (int i = 0; i < T__COUNT; i++) {
		table_clear(&v.t[i]);
		free(v.t[i].r);
	}
	free(v.prev);
	client_close(v.c);
	sb_free(&v.line);
	return 0;
}
