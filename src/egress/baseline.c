/* egress/baseline.c — the baseline and the five signals (see baseline.h). */
#define _GNU_SOURCE
#include "egress/baseline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/duration.h"
#include "util/hash.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

/* Titles are cut at their buffer on purpose (a 4 kB path has no place in a one-line title);
 * keys are sized to hold what goes in them. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

#define MAD_SIGMAS 10.0      /* how many robust σ above the median an interval must be */
#define MAD_TO_SIGMA 1.4826  /* MAD × this estimates σ for normally distributed values */
#define PEAK_FACTOR 2.0      /* and more than this times the window's largest interval */
#define CRITICAL_FACTOR 10.0 /* a spike this many times its threshold is critical */

const char *bl_kind_str(enum bl_kind k)
{
	switch (k) {
	case BL_NEW_DEST: return "new_process_dest";
	case BL_NEW_PROGRAM: return "new_process_egress";
	case BL_NEW_GEO: return "new_geo";
	case BL_VOLUME: return "volume_spike";
	case BL_IDENTITY: return "identity_change";
	}
	return "?";
}

const char *bl_severity_str(enum bl_severity s)
{
	static const char *const n[] = { "info", "notice", "warning", "critical" };
	return s <= BL_CRITICAL ? n[s] : "?";
}

void bl_config_default(struct bl_config *c)
{
	*c = (struct bl_config){ .learning_ms = 7 * 86400000LL, .interval_ms = 60000, .window = 1440,
				 .min_samples = 30, .floor_bytes = 8u << 20, .cooldown_ms = 3600000 };
}

/* ---- a set of 64-bit hashes, and a map of them to times (open addressing, grows) ---- */

struct hset {
	uint64_t *k;   /* 0 = empty (a hash of 0 is stored as 1) */
	int64_t *v;    /* or NULL: a set */
	uint32_t cap, n;
};

static uint32_t hs_find(const struct hset *s, uint64_t h)
{
	uint32_t mask = s->cap - 1, i = (uint32_t)h & mask;
	while (s->k[i] && s->k[i] != h) i = (i + 1) & mask;
	return i;
}

static void hs_grow(struct hset *s, bool values)
{
	struct hset old = *s;
	s->cap = old.cap ? old.cap * 2 : 1024;
	s->k = xcalloc(s->cap, sizeof *s->k);
	s->v = values ? xcalloc(s->cap, sizeof *s->v) : NULL;
	for (uint32_t i = 0; i < old.cap; i++)
		if (old.k[i]) {
			uint32_t j = hs_find(s, old.k[i]);
			s->k[j] = old.k[i];
			if (values) s->v[j] = old.v[i];
		}
	free(old.k);
	free(old.v);
}

/* Adds h; true when it was not there. */
static bool hs_add(struct hset *s, uint64_t h, bool values, int64_t v)
{
	h = h ? h : 1;
	if ((s->n + 1) * 2 > s->cap) hs_grow(s, values);
	uint32_t i = hs_find(s, h);
	if (values) s->v[i] = v;
	if (s->k[i]) return false;
	s->k[i] = h;
	s->n++;
	return true;
}

static bool hs_has(const struct hset *s, uint64_t h, int64_t *v)
{
	if (!s->cap) return false;
	h = h ? h : 1;
	uint32_t i = hs_find(s, h);
	if (!s->k[i]) return false;
	if (v) *v = s->v[i];
	return true;
}

static void hs_free(struct hset *s)
{
	free(s->k);
	free(s->v);
	memset(s, 0, sizeof *s);
}

/* ---- programs: identity and volume ---- */

struct sample { int64_t idx; uint64_t bytes; };

struct prog {
	char *key;
	char sha[65], package[128], version[64];
	bool has_identity;
	char name[32], exe[BL_TEXT_MAX];
	/* volume: intervals are numbered now / interval_ms */
	int64_t first_idx;           /* its first interval with traffic; -1 none yet */
	int64_t cur_idx;
	uint64_t cur_bytes;
	struct sample *ring;         /* nonzero intervals, oldest first, within the window */
	uint32_t nring, capring;
};

struct baseline {
	struct bl_config c;
	struct bl_sink sink;
	struct hash_seed seed;
	int64_t learning_start;      /* 0: not started */
	struct hset seen, known, cool, progidx; /* progidx: hash → index + 1 in progs */
	struct prog **progs;
	uint32_t nprogs, capprogs;
	uint64_t next_alert;
	struct bl_stats st;
};

static uint64_t hkey(const struct baseline *b, const char *a, const char *c, const char *d)
{
	char buf[3 * BL_TEXT_MAX];
	int n = snprintf(buf, sizeof buf, "%s%c%s%c%s", a, 0, c ? c : "", 0, d ? d : "");
	return siphash13(&b->seed, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static struct prog *prog_get(struct baseline *b, const char *key, bool add)
{
	uint64_t h = hkey(b, "prog", key, NULL);
	int64_t idx;
	if (hs_has(&b->progidx, h, &idx)) return b->progs[idx - 1];
	if (!add || b->nprogs >= BL_MAX_PROGRAMS) return NULL;
	if (b->nprogs == b->capprogs) {
		b->capprogs = b->capprogs ? b->capprogs * 2 : 64;
		b->progs = xrealloc(b->progs, b->capprogs * sizeof *b->progs);
	}
	struct prog *p = xcalloc(1, sizeof *p);
	p->key = xstrdup(key);
	p->first_idx = -1;
	b->progs[b->nprogs++] = p;
	hs_add(&b->progidx, h, true, b->nprogs);
	return p;
}

struct baseline *baseline_new(const struct bl_config *c, const struct bl_sink *sink)
{
	struct baseline *b = xcalloc(1, sizeof *b);
	b->c = *c;
	if (b->c.window < 1) b->c.window = 1;
	if (b->c.window > BL_MAX_WINDOW) b->c.window = BL_MAX_WINDOW;
	if (b->c.interval_ms < 1) b->c.interval_ms = 1;
	if (sink) b->sink = *sink;
	b->seed = hash_seed_random();
	b->next_alert = 1;
	return b;
}

void baseline_free(struct baseline *b)
{
	if (!b) return;
	for (uint32_t i = 0; i < b->nprogs; i++) {
		free(b->progs[i]->key);
		free(b->progs[i]->ring);
		free(b->progs[i]);
	}
	free(b->progs);
	hs_free(&b->seen);
	hs_free(&b->known);
	hs_free(&b->cool);
	hs_free(&b->progidx);
	free(b);
}

/* ---- loading ---- */

void baseline_load_learning(struct baseline *b, int64_t start_ms) { b->learning_start = start_ms; }

static bool seen_add(struct baseline *b, const char *program, const char *kind, const char *value)
{
	if (b->seen.n >= BL_MAX_KEYS) { /* full: nothing more is learned, and nothing new alerts */
		b->st.keys_full++;
		return false;
	}
	return hs_add(&b->seen, hkey(b, kind, program, value), false, 0);
}

void baseline_load_seen(struct baseline *b, const char *program, const char *kind, const char *value)
{
	seen_add(b, program, kind, value);
}

static void set_identity(struct prog *p, const char *sha, const char *package, const char *version)
{
	snprintf(p->sha, sizeof p->sha, "%s", sha);
	snprintf(p->package, sizeof p->package, "%s", package ? package : "");
	snprintf(p->version, sizeof p->version, "%s", version ? version : "");
	p->has_identity = true;
}

void baseline_load_identity(struct baseline *b, const char *program, const char *sha256, const char *package, const char *version)
{
	struct prog *p = prog_get(b, program, true);
	if (p) set_identity(p, sha256, package, version);
	seen_add(b, program, "identity", sha256);
}

void baseline_load_cooldown(struct baseline *b, const char *key, int64_t until_ms)
{
	hs_add(&b->cool, hkey(b, "cool", key, NULL), true, until_ms);
}

static void ring_push(struct baseline *b, struct prog *p, int64_t idx, uint64_t bytes)
{
	/* what fell out of the window goes */
	uint32_t drop = 0;
	while (drop < p->nring && p->ring[drop].idx <= idx - b->c.window) drop++;
	if (drop) {
		memmove(p->ring, p->ring + drop, (p->nring - drop) * sizeof *p->ring);
		p->nring -= drop;
	}
	if (p->nring == (uint32_t)b->c.window) { /* cannot happen with distinct intervals; kept safe */
		memmove(p->ring, p->ring + 1, (p->nring - 1) * sizeof *p->ring);
		p->nring--;
	}
	if (p->nring == p->capring) {
		p->capring = p->capring ? p->capring * 2 : 16;
		if (p->capring > (uint32_t)b->c.window) p->capring = (uint32_t)b->c.window;
		p->ring = xrealloc(p->ring, p->capring * sizeof *p->ring);
	}
	p->ring[p->nring++] = (struct sample){ idx, bytes };
}

void baseline_load_volume(struct baseline *b, const char *program, int64_t interval_start_ms, uint64_t bytes)
{
	struct prog *p = prog_get(b, program, true);
	if (!p || !bytes) return;
	int64_t idx = interval_start_ms / b->c.interval_ms;
	if (p->first_idx < 0 || idx < p->first_idx) p->first_idx = idx;
	if (p->nring && idx <= p->ring[p->nring - 1].idx) return; /* in order only */
	ring_push(b, p, idx, bytes);
	p->cur_idx = idx + 1;
}

void baseline_load_next_alert(struct baseline *b, uint64_t next_id)
{
	if (next_id > b->next_alert) b->next_alert = next_id;
}

void baseline_known_clear(struct baseline *b) { hs_free(&b->known); }

void baseline_known_add(struct baseline *b, const char *program, const char *dest)
{
	hs_add(&b->known, hkey(b, "known", program, dest), false, 0);
}

/* ---- learning ---- */

static void observe(struct baseline *b, int64_t now_ms)
{
	if (b->learning_start) return;
	b->learning_start = now_ms;
	if (b->sink.learning) b->sink.learning(b->sink.ctx, now_ms);
}

int64_t baseline_learning_ends(const struct baseline *b)
{
	return b->learning_start ? b->learning_start + b->c.learning_ms : 0;
}

bool baseline_active(const struct baseline *b, int64_t now_ms)
{
	return b->learning_start && now_ms >= b->learning_start + b->c.learning_ms;
}

/* ---- raising ---- */

static bool known(const struct baseline *b, const char *program, const char *dest)
{
	return hs_has(&b->known, hkey(b, "known", program, NULL), NULL) ||
	       (dest && hs_has(&b->known, hkey(b, "known", program, dest), NULL));
}

/* Whether key is cooling down at now; if not, it starts to (and is said to the sink). */
static bool cooling(struct baseline *b, const char *key, int64_t now_ms)
{
	uint64_t h = hkey(b, "cool", key, NULL);
	int64_t until;
	if (hs_has(&b->cool, h, &until) && now_ms < until) return true;
	hs_add(&b->cool, h, true, now_ms + b->c.cooldown_ms);
	if (b->sink.cooldown) b->sink.cooldown(b->sink.ctx, key, now_ms + b->c.cooldown_ms);
	return false;
}

static void json_field(struct sbuf *sb, const char *k, const char *v)
{
	if (sb->len > 1) sb_putc(sb, ',');
	sb_json_str(sb, k, strlen(k));
	sb_putc(sb, ':');
	if (v) sb_json_str(sb, v, strlen(v));
	else sb_puts(sb, "null");
}

static void json_num(struct sbuf *sb, const char *k, double v)
{
	if (sb->len > 1) sb_putc(sb, ',');
	sb_json_str(sb, k, strlen(k));
	if (!isfinite(v)) sb_puts(sb, ":null");
	else if (v == floor(v) && fabs(v) < 9e15) sb_printf(sb, ":%.0f", v);
	else sb_printf(sb, ":%.3f", v);
}

static void json_bool(struct sbuf *sb, const char *k, bool v)
{
	if (sb->len > 1) sb_putc(sb, ',');
	sb_json_str(sb, k, strlen(k));
	sb_puts(sb, v ? ":true" : ":false");
}

static void alert_start(struct bl_alert *a, enum bl_kind kind, enum bl_severity sev, const char *program,
			const char *name, const char *exe, int pid, int64_t now_ms)
{
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->severity = sev;
	a->ts_ms = now_ms;
	a->pid = pid;
	snprintf(a->program, sizeof a->program, "%s", program);
	snprintf(a->name, sizeof a->name, "%s", name ? name : "");
	snprintf(a->exe, sizeof a->exe, "%s", exe ? exe : "");
}

static void alert_dest(struct bl_alert *a, const struct bl_conn *c)
{
	snprintf(a->dest, sizeof a->dest, "%s", c->dest_name ? c->dest_name : c->addr);
	snprintf(a->addr, sizeof a->addr, "%s", c->addr);
	snprintf(a->community_id, sizeof a->community_id, "%s", c->community_id ? c->community_id : "");
	snprintf(a->country, sizeof a->country, "%s", c->country ? c->country : "");
	snprintf(a->as_org, sizeof a->as_org, "%s", c->as_org ? c->as_org : "");
	a->asn = c->asn;
	if (c->id.package) snprintf(a->package, sizeof a->package, "%s", c->id.package);
}

static void raise(struct baseline *b, struct bl_alert *a)
{
	if (a->severity == BL_INFO) {
		b->st.info++;
	} else {
		a->id = b->next_alert++;
		b->st.alerts++;
	}
	if (b->sink.alert) b->sink.alert(b->sink.ctx, a);
}

/* The destination's evidence: where it is and how it was named. */
static void dest_evidence(struct sbuf *sb, const struct bl_conn *c)
{
	json_field(sb, "address", c->addr);
	json_num(sb, "port", c->port);
	json_field(sb, "protocol", c->proto == 6 ? "tcp" : c->proto == 17 ? "udp" : c->proto == 1 ? "icmp" : "ip");
	json_field(sb, "name", c->dest_name);
	json_field(sb, "name_source", c->name_source);
	json_field(sb, "registrable_domain", c->registrable);
	json_field(sb, "country", c->country && *c->country ? c->country : NULL);
	if (c->asn) json_num(sb, "asn", c->asn);
	else json_field(sb, "asn", NULL);
	json_field(sb, "as_org", c->as_org && *c->as_org ? c->as_org : NULL);
}

/* ---- signal 5: the binary ---- */

/* Whether the binary changed since it was learned; raises what the change calls for.
 * Returns the alert raised (its id), 0 when none. */
static uint64_t identity_check(struct baseline *b, struct prog *p, const struct bl_conn *c, bool active, int64_t now_ms)
{
	const struct bl_identity *id = &c->id;
	if (!id->sha256 || !*id->sha256) return 0;
	if (!p->has_identity) { /* first seen: learned */
		set_identity(p, id->sha256, id->package, id->version);
		seen_add(b, p->key, "identity", id->sha256);
		if (b->sink.identity) b->sink.identity(b->sink.ctx, p->key, id->sha256, id->package, id->version, now_ms);
		return 0;
	}
	if (!strcmp(p->sha, id->sha256)) return 0;
	/* a binary it had before: a process started before an update still runs the old one */
	if (!seen_add(b, p->key, "identity", id->sha256)) return 0;
	char old_sha[65], old_version[64];
	snprintf(old_sha, sizeof old_sha, "%s", p->sha);
	snprintf(old_version, sizeof old_version, "%s", p->version);
	bool by_package = id->writer == BLW_PACKAGE_MANAGER || (id->package && id->verified);
	const char *how = by_package ? "package" : id->writer == BLW_SELF ? "updater" : "unexplained";
	char detail[BL_TEXT_MAX];
	if (by_package)
		snprintf(detail, sizeof detail, "updated by dpkg: %s %s → %s", id->package ? id->package : "?",
			 old_version[0] ? old_version : "?", id->version ? id->version : "?");
	else if (id->writer == BLW_SELF)
		snprintf(detail, sizeof detail, "rewritten by its own updater (%s, pid %d)", id->writer_exe ? id->writer_exe : "?",
			 id->writer_pid);
	else if (id->writer == BLW_OTHER)
		snprintf(detail, sizeof detail, "written by %s (pid %d), not by the package manager",
			 id->writer_exe && *id->writer_exe ? id->writer_exe : "?", id->writer_pid);
	else
		snprintf(detail, sizeof detail, "changed by an unknown writer; %s", id->package ? "does not verify against dpkg's md5sums" : "not from a package");
	set_identity(p, id->sha256, id->package, id->version); /* the new one is the program now */
	if (b->sink.identity) b->sink.identity(b->sink.ctx, p->key, id->sha256, id->package, id->version, now_ms);
	uint64_t alert_id = 0;
	enum bl_severity sev = by_package ? BL_INFO : id->writer == BLW_SELF ? BL_NOTICE : BL_CRITICAL;
	if (active && (sev == BL_INFO || !known(b, p->key, NULL))) {
		struct bl_alert a;
		alert_start(&a, BL_IDENTITY, sev, p->key, c->name, c->exe, c->pid, now_ms);
		alert_dest(&a, c);
		snprintf(a.key, sizeof a.key, "identity|%s|%s", p->key, id->sha256);
		if (sev == BL_INFO)
			snprintf(a.title, sizeof a.title, "%s: %s", c->name, detail);
		else
			snprintf(a.title, sizeof a.title, "%s: its binary changed since it was learned (%s), then it connected to %s",
				 c->name, detail, a.dest);
		struct sbuf sb;
		sb_init_fixed(&sb, a.evidence, sizeof a.evidence);
		sb_putc(&sb, '{');
		json_field(&sb, "how", how);
		json_field(&sb, "detail", detail);
		json_field(&sb, "old_sha256", old_sha);
		json_field(&sb, "new_sha256", id->sha256);
		json_field(&sb, "package", id->package);
		json_field(&sb, "old_version", old_version[0] ? old_version : NULL);
		json_field(&sb, "new_version", id->version);
		json_bool(&sb, "verified_by_dpkg", id->verified);
		if (id->writer_pid) json_num(&sb, "writer_pid", id->writer_pid);
		json_field(&sb, "writer_exe", id->writer_exe && *id->writer_exe ? id->writer_exe : NULL);
		dest_evidence(&sb, c);
		sb_putc(&sb, '}');
		sb_cstr(&sb);
		if (sev != BL_INFO && cooling(b, a.key, now_ms)) {
			b->st.suppressed_cooldown++;
		} else {
			raise(b, &a);
			alert_id = a.id;
		}
	} else if (active) {
		b->st.suppressed_known++;
	}
	if (b->sink.change) b->sink.change(b->sink.ctx, p->key, old_sha, id->sha256, how, detail, alert_id, now_ms);
	return alert_id;
}

/* ---- signals 1, 2, 3 ---- */

void baseline_connection(struct baseline *b, const struct bl_conn *c, int64_t now_ms)
{
	observe(b, now_ms);
	bool active = baseline_active(b, now_ms);
	struct prog *p = prog_get(b, c->program, true);
	if (p) {
		snprintf(p->name, sizeof p->name, "%s", c->name ? c->name : "");
		snprintf(p->exe, sizeof p->exe, "%s", c->exe ? c->exe : "");
	}
	/* what is new about this connection, for this program */
	bool new_program = seen_add(b, c->program, "program", "");
	char label[BL_TEXT_MAX], asn[16] = "";
	if (c->asn) snprintf(asn, sizeof asn, "AS%u", c->asn);
	const char *label_kind = c->registrable && *c->registrable ? "domain" : c->asn ? "asn" : "addr";
	snprintf(label, sizeof label, "%s", *label_kind == 'd' ? c->registrable : c->asn ? asn : c->addr);
	bool dest_is_asn = !strcmp(label_kind, "asn");
	bool new_dest = seen_add(b, c->program, label_kind, label);
	bool new_country = c->country && *c->country && seen_add(b, c->program, "country", c->country);
	bool new_asn = dest_is_asn ? new_dest : c->asn && seen_add(b, c->program, "asn", asn);
	char port[24];
	snprintf(port, sizeof port, "%s/%u", c->proto == 6 ? "tcp" : c->proto == 17 ? "udp" : "ip", c->port);
	bool new_port = seen_add(b, c->program, "port", port);
	if (b->sink.seen) {
		if (new_program) b->sink.seen(b->sink.ctx, c->program, "program", "", now_ms);
		if (new_dest) b->sink.seen(b->sink.ctx, c->program, label_kind, label, now_ms);
		if (new_country) b->sink.seen(b->sink.ctx, c->program, "country", c->country, now_ms);
		if (new_asn && !dest_is_asn) b->sink.seen(b->sink.ctx, c->program, "asn", asn, now_ms);
		if (new_port) b->sink.seen(b->sink.ctx, c->program, "port", port, now_ms);
	}
	/* 5 first: a changed binary is the one thing said about this connection */
	if (p && identity_check(b, p, c, active && !new_program, now_ms)) return;
	if (!active || known(b, c->program, NULL) || known(b, c->program, label)) {
		if (active && (new_program || new_dest || new_country || new_asn)) b->st.suppressed_known++;
		return;
	}
	struct bl_alert a;
	if (new_program) {
		char key[BL_KEY_MAX];
		snprintf(key, sizeof key, "egress|%s", c->program);
		if (cooling(b, key, now_ms)) {
			b->st.suppressed_cooldown++;
			return;
		}
		alert_start(&a, BL_NEW_PROGRAM, BL_WARNING, c->program, c->name, c->exe, c->pid, now_ms);
		alert_dest(&a, c);
		snprintf(a.key, sizeof a.key, "%s", key);
		snprintf(a.title, sizeof a.title, "%s made its first outbound connection (to %s)", c->name, a.dest);
		/* its next destinations are learned quietly for a while: the user was just told */
		char quiet[BL_KEY_MAX];
		snprintf(quiet, sizeof quiet, "newprogram|%s", c->program);
		cooling(b, quiet, now_ms);
	} else if (new_dest || new_country || new_asn) {
		char quiet[BL_KEY_MAX];
		snprintf(quiet, sizeof quiet, "newprogram|%s", c->program);
		int64_t until;
		if (hs_has(&b->cool, hkey(b, "cool", quiet, NULL), &until) && now_ms < until) return;
		enum bl_kind kind = new_dest ? BL_NEW_DEST : BL_NEW_GEO;
		alert_start(&a, kind, BL_NOTICE, c->program, c->name, c->exe, c->pid, now_ms);
		alert_dest(&a, c);
		if (new_dest) {
			snprintf(a.key, sizeof a.key, "dest|%s|%s", c->program, label);
			snprintf(a.title, sizeof a.title, "%s contacted a new destination: %s", c->name, label);
		} else if (new_country) {
			snprintf(a.key, sizeof a.key, "geo|%s|cc|%s", c->program, c->country);
			snprintf(a.title, sizeof a.title, "%s connected to a new country: %s (%s)", c->name, c->country, a.dest);
		} else {
			snprintf(a.key, sizeof a.key, "geo|%s|asn|%u", c->program, c->asn);
			snprintf(a.title, sizeof a.title, "%s connected to a new network: AS%u%s%s%s (%s)", c->name, c->asn,
				 c->as_org && *c->as_org ? " (" : "", c->as_org && *c->as_org ? c->as_org : "",
				 c->as_org && *c->as_org ? ")" : "", a.dest);
		}
		if (cooling(b, a.key, now_ms)) {
			b->st.suppressed_cooldown++;
			return;
		}
	} else {
		return;
	}
	struct sbuf sb;
	sb_init_fixed(&sb, a.evidence, sizeof a.evidence);
	sb_putc(&sb, '{');
	json_field(&sb, "destination", label);
	json_field(&sb, "destination_kind", label_kind);
	json_bool(&sb, "new_program", new_program);
	json_bool(&sb, "new_destination", new_dest);
	json_bool(&sb, "new_country", new_country);
	json_bool(&sb, "new_asn", new_asn);
	json_bool(&sb, "new_port", new_port);
	json_field(&sb, "sha256", c->id.sha256);
	json_field(&sb, "package", c->id.package);
	json_num(&sb, "uid", c->uid);
	dest_evidence(&sb, c);
	sb_putc(&sb, '}');
	sb_cstr(&sb);
	raise(b, &a);
}

/* ---- signal 4: volume ---- */

static int cmp_u64(const void *x, const void *y)
{
	uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
	return a < b ? -1 : a > b;
}

static double median_sorted(const uint64_t *v, uint32_t n)
{
	return n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

void bl_bytes_text(uint64_t n, char *out, size_t cap)
{
	static const char *const unit[] = { "B", "kB", "MB", "GB", "TB" };
	double v = (double)n;
	int u = 0;
	while (v >= 1000 && u < 4) v /= 1000, u++;
	if (u == 0) snprintf(out, cap, "%llu B", (unsigned long long)n);
	else snprintf(out, cap, v < 10 ? "%.1f %s" : "%.0f %s", v, unit[u]);
}

/* Judges program p's interval that just ended with x bytes. */
static void volume_close(struct baseline *b, struct prog *p, int64_t idx, uint64_t x, int64_t now_ms)
{
	int64_t start_ms = idx * b->c.interval_ms;
	if (b->sink.volume) b->sink.volume(b->sink.ctx, p->key, start_ms, x);
	int64_t known_n = idx - p->first_idx; /* intervals before this one, idle ones included */
	if (known_n > b->c.window) known_n = b->c.window;
	bool judge = baseline_active(b, now_ms) && x >= b->c.floor_bytes && known_n >= b->c.min_samples &&
		     !known(b, p->key, NULL);
	if (judge) {
		uint32_t n = (uint32_t)known_n, k = 0;
		uint64_t *v = xcalloc(n, sizeof *v), peak = 0;
		double sum = 0;
		for (uint32_t i = 0; i < p->nring; i++)
			if (p->ring[i].idx > idx - known_n - 1 && p->ring[i].idx < idx && k < n) {
				v[k++] = p->ring[i].bytes;
				sum += (double)p->ring[i].bytes;
				if (p->ring[i].bytes > peak) peak = p->ring[i].bytes;
			}
		/* the idle intervals are zeros: v is n long, zeros first once sorted */
		qsort(v, n, sizeof *v, cmp_u64);
		double med = median_sorted(v, n);
		for (uint32_t i = 0; i < n; i++) {
			double d = fabs((double)v[i] - med);
			v[i] = (uint64_t)d;
		}
		qsort(v, n, sizeof *v, cmp_u64);
		double mad = median_sorted(v, n), sigma = MAD_TO_SIGMA * mad;
		free(v);
		double mean = sum / n;
		double threshold = fmax(med + MAD_SIGMAS * sigma, PEAK_FACTOR * (double)peak);
		threshold = fmax(threshold, (double)b->c.floor_bytes);
		char key[BL_KEY_MAX];
		snprintf(key, sizeof key, "volume|%s", p->key);
		if ((double)x > threshold) {
			if (cooling(b, key, now_ms)) {
				b->st.suppressed_cooldown++;
			} else {
				struct bl_alert a;
				enum bl_severity sev = (double)x >= CRITICAL_FACTOR * threshold ? BL_CRITICAL : BL_WARNING;
				alert_start(&a, BL_VOLUME, sev, p->key, p->name, p->exe, 0, now_ms);
				snprintf(a.key, sizeof a.key, "%s", key);
				char xs[32], us[32], ps[32], dur[32], ratio[48];
				bl_bytes_text(x, xs, sizeof xs);
				bl_bytes_text((uint64_t)mean, us, sizeof us);
				bl_bytes_text(peak, ps, sizeof ps);
				format_duration_ms(b->c.interval_ms, dur, sizeof dur);
				if (mean >= 1000) snprintf(ratio, sizeof ratio, "%.0f× its usual %s", (double)x / mean, us);
				else snprintf(ratio, sizeof ratio, "its usual is under 1 kB");
				snprintf(a.title, sizeof a.title, "%s: %s up in %s, %s (largest before: %s)", p->name[0] ? p->name : p->key,
					 xs, dur, ratio, ps);
				struct sbuf sb;
				sb_init_fixed(&sb, a.evidence, sizeof a.evidence);
				sb_putc(&sb, '{');
				json_num(&sb, "bytes", (double)x);
				json_num(&sb, "interval_ms", (double)b->c.interval_ms);
				json_num(&sb, "interval_start_ms", (double)start_ms);
				json_num(&sb, "intervals", (double)n);
				json_num(&sb, "mean", mean);
				json_num(&sb, "median", med);
				json_num(&sb, "mad", mad);
				json_num(&sb, "peak", (double)peak);
				json_num(&sb, "threshold", threshold);
				json_num(&sb, "times_usual", mean >= 1 ? (double)x / mean : INFINITY);
				json_num(&sb, "robust_z", sigma > 0 ? ((double)x - med) / sigma : INFINITY);
				sb_putc(&sb, '}');
				sb_cstr(&sb);
				raise(b, &a);
			}
		}
	}
	ring_push(b, p, idx, x);
}

void baseline_bytes(struct baseline *b, const char *program, const char *name, const char *exe, uint64_t bytes, int64_t now_ms)
{
	if (!bytes) return;
	observe(b, now_ms);
	struct prog *p = prog_get(b, program, true);
	if (!p) return;
	if (name && *name) snprintf(p->name, sizeof p->name, "%s", name);
	if (exe && *exe) snprintf(p->exe, sizeof p->exe, "%s", exe);
	int64_t idx = now_ms / b->c.interval_ms;
	if (p->cur_bytes && idx > p->cur_idx) { /* its last interval ended (the tick was late) */
		volume_close(b, p, p->cur_idx, p->cur_bytes, now_ms);
		p->cur_bytes = 0;
	}
	if (p->first_idx < 0) p->first_idx = idx;
	if (idx >= p->cur_idx || !p->cur_bytes) p->cur_idx = idx;
	p->cur_bytes += bytes;
}

void baseline_tick(struct baseline *b, int64_t now_ms)
{
	int64_t idx = now_ms / b->c.interval_ms;
	for (uint32_t i = 0; i < b->nprogs; i++) {
		struct prog *p = b->progs[i];
		if (p->cur_bytes && idx > p->cur_idx) {
			volume_close(b, p, p->cur_idx, p->cur_bytes, now_ms);
			p->cur_bytes = 0;
		}
	}
}

void baseline_stats(const struct baseline *b, struct bl_stats *st)
{
	*st = b->st;
	st->keys = b->seen.n;
}

/* ---- program keys ---- */

static bool is_interpreter(const char *base)
{
	static const char *const names[] = { "python", "perl", "ruby", "node", "nodejs", "bash", "sh", "dash", "zsh",
					     "php", "lua", "tclsh", "Rscript", "pwsh" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t n = strlen(names[i]);
		/* python3, python3.11, perl5.36, lua5.4: the name and a version */
		if (!strncmp(base, names[i], n) && strspn(base + n, "0123456789.") == strlen(base + n)) return true;
	}
	return false;
}

void bl_program_key(const char *exe, const char *cmdline, char *out, size_t cap)
{
	size_t n = strlen(exe);
	static const char deleted[] = " (deleted)"; /* the binary was replaced under it: the same program */
	if (n > sizeof deleted - 1 && !strcmp(exe + n - (sizeof deleted - 1), deleted)) n -= sizeof deleted - 1;
	const char *base = memrchr(exe, '/', n);
	base = base ? base + 1 : exe;
	char b[64];
	snprintf(b, sizeof b, "%.*s", (int)(exe + n - base), base);
	if (cmdline && is_interpreter(b)) {
		/* the first argument that is not an option: the script (not for -c/-e code) */
		const char *s = cmdline + strcspn(cmdline, " ");
		while (*s == ' ') s++;
		while (*s == '-') {
			if (!strncmp(s, "-c", 2) || !strncmp(s, "-e", 2) || !strncmp(s, "-m", 2)) { s = ""; break; }
			s += strcspn(s, " ");
			while (*s == ' ') s++;
		}
		size_t sl = strcspn(s, " ");
		if (sl) {
			snprintf(out, cap, "%.*s %.*s", (int)n, exe, (int)sl, s);
			return;
		}
	}
	snprintf(out, cap, "%.*s", (int)n, exe);
}
