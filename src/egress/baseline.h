/* egress/baseline.h — what is normal for each program, and the five alerts when something
 * is not. Pure logic: no clock of its own (every call says what time it is, so the unit
 * tests drive days in microseconds), no SQLite (what it learns and raises goes out through
 * a sink; what was learned before comes back in through the baseline_load_* calls).
 *
 * Learning: from the first observation for `learning_ms` (7 days) the baseline fills and
 * nothing alerts. The start is persisted; the length is a setting, so `--learning 5s` on a
 * store a week old is simply active.
 *
 * A program is its executable's path (for an interpreter, the interpreter and its script).
 * Novelty, per program: registrable domain (an unnamed address: its ASN, else itself),
 * country, ASN, remote port/protocol, and the program itself.
 *
 * The five signals:
 *  1. new_process_dest (notice): a destination the program never contacted.
 *  2. new_process_egress (warning): the program's first-ever outbound connection. Its next
 *     destinations for an hour are learned quietly (the user has just been told about it).
 *  3. new_geo (notice): a country or ASN new to the program (folded into 1 when both are new
 *     at once: one alert per connection, the other novelties in its evidence).
 *  4. volume_spike (warning; critical at 10× the threshold): per program, the bytes sent in
 *     each interval (60 s), idle intervals counted as zero, over the last `window` intervals
 *     (a day). The interval alerts when it is at least `floor_bytes`, at least `min_samples`
 *     intervals are known, and it is both far outside the usual range — median + 10 ×
 *     1.4826 × MAD (a robust σ: one past burst moves neither, where a mean or an EWMA is
 *     dragged up by it and then lets the next one through, or down by the idle zeros and
 *     then fires on anything) — and more than twice the largest interval of the window (a
 *     program that uploads 20 MB every hour has done it before: no alert).
 *  5. identity_change: the program's binary is not the one learned (SHA-256), and it
 *     connects out. Explained by the package manager (its writer was dpkg, or the file
 *     verifies against dpkg's md5sums): an info record, no alert. Written by the program
 *     itself (its updater): notice. Unexplained: critical.
 * Duplicates are suppressed by a cooldown per key (persisted), and programs or program and
 * destination pairs marked known never alert. */
#ifndef PKTSCOPE_EGRESS_BASELINE_H
#define PKTSCOPE_EGRESS_BASELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_TEXT_MAX 512
#define BL_KEY_MAX (2 * BL_TEXT_MAX + 32) /* "dest|PROGRAM|DESTINATION" */
#define BL_EVIDENCE_MAX 2048
#define BL_MAX_KEYS (1u << 22)   /* first-seen keys held (16 bytes each: 64 MB at most) */
#define BL_MAX_PROGRAMS 65536    /* programs with volume or identity state */
#define BL_MAX_WINDOW 10080      /* volume intervals kept per program, at most a week's minutes */

enum bl_kind { BL_NEW_DEST = 1, BL_NEW_PROGRAM, BL_NEW_GEO, BL_VOLUME, BL_IDENTITY };
enum bl_severity { BL_INFO, BL_NOTICE, BL_WARNING, BL_CRITICAL };
const char *bl_kind_str(enum bl_kind k);
const char *bl_severity_str(enum bl_severity s);

struct bl_config {
	int64_t learning_ms;     /* 7 days */
	int64_t interval_ms;     /* volume interval: 60 s */
	int window;              /* intervals remembered: 1440 (a day of minutes) */
	int min_samples;         /* intervals known before the volume signal speaks: 30 */
	uint64_t floor_bytes;    /* an interval below this never alerts: 8 MiB */
	int64_t cooldown_ms;     /* the same alert again at most this often: 1 hour */
};
void bl_config_default(struct bl_config *c);

/* Who wrote a changed binary (ident_linux.c finds out). */
enum bl_writer { BLW_UNKNOWN, BLW_PACKAGE_MANAGER, BLW_SELF, BLW_OTHER };

/* A program's executable as it is now. */
struct bl_identity {
	const char *sha256;          /* hex; NULL: unreadable (no identity signal) */
	const char *package;         /* the dpkg package that owns the path, or NULL */
	const char *version;         /* its installed version */
	bool verified;               /* the file's MD5 is the one dpkg's md5sums list */
	enum bl_writer writer;       /* who last wrote the file, when it was seen */
	int writer_pid;
	const char *writer_exe;
};

struct bl_conn {
	const char *program;         /* the key (see above) */
	const char *name, *exe;      /* the process's short name and executable */
	int pid;
	uint32_t uid;
	struct bl_identity id;
	const char *addr;            /* remote address, text */
	const char *dest_name, *name_source, *registrable; /* NULL: unnamed */
	const char *country;         /* NULL or "" unknown */
	uint32_t asn;
	const char *as_org;
	int proto;
	uint16_t port;
	const char *community_id;
};

/* An alert, or an info record (severity BL_INFO: a binary updated by the package manager). */
struct bl_alert {
	uint64_t id;                 /* 0 for info records */
	int64_t ts_ms;
	enum bl_kind kind;
	enum bl_severity severity;
	char key[BL_KEY_MAX];        /* the cooldown's key */
	char title[BL_TEXT_MAX];
	char program[BL_TEXT_MAX], name[32], exe[BL_TEXT_MAX], package[128];
	int pid;
	char dest[BL_TEXT_MAX], addr[46], community_id[64], country[4], as_org[128];
	uint32_t asn;
	char evidence[BL_EVIDENCE_MAX]; /* a JSON object */
};

/* Where what is learned and raised goes (each may be NULL). */
struct bl_sink {
	void *ctx;
	void (*learning)(void *ctx, int64_t start_ms);
	/* a first-seen key: kind "program", "domain", "asn", "country", "addr", "port" */
	void (*seen)(void *ctx, const char *program, const char *kind, const char *value, int64_t ms);
	void (*alert)(void *ctx, const struct bl_alert *a);
	/* the program's binary as learned (first, or adopted after a change) */
	void (*identity)(void *ctx, const char *program, const char *sha256, const char *package, const char *version, int64_t ms);
	/* a binary change, how it was explained, and the alert it raised (0: none) */
	void (*change)(void *ctx, const char *program, const char *old_sha, const char *new_sha, const char *how,
		       const char *detail, uint64_t alert_id, int64_t ms);
	void (*cooldown)(void *ctx, const char *key, int64_t until_ms);
	/* a volume interval closed with bytes > 0 */
	void (*volume)(void *ctx, const char *program, int64_t interval_start_ms, uint64_t bytes);
};

struct baseline;
struct baseline *baseline_new(const struct bl_config *c, const struct bl_sink *sink);
void baseline_free(struct baseline *b);

/* What the store had (call before the first event). */
void baseline_load_learning(struct baseline *b, int64_t start_ms);
void baseline_load_seen(struct baseline *b, const char *program, const char *kind, const char *value);
void baseline_load_identity(struct baseline *b, const char *program, const char *sha256, const char *package, const char *version);
void baseline_load_cooldown(struct baseline *b, const char *key, int64_t until_ms);
void baseline_load_volume(struct baseline *b, const char *program, int64_t interval_start_ms, uint64_t bytes);
void baseline_load_next_alert(struct baseline *b, uint64_t next_id);
/* The known list, replaced whole (dest NULL: the whole program). */
void baseline_known_clear(struct baseline *b);
void baseline_known_add(struct baseline *b, const char *program, const char *dest);

/* An outbound connection of a program, once its name is settled. */
void baseline_connection(struct baseline *b, const struct bl_conn *c, int64_t now_ms);
/* Bytes the program sent (counted in the interval now falls in). */
void baseline_bytes(struct baseline *b, const char *program, const char *name, const char *exe, uint64_t bytes, int64_t now_ms);
/* Time moved on: volume intervals that ended are judged. */
void baseline_tick(struct baseline *b, int64_t now_ms);

/* learning: until when (ms), or 0 when it has not started */
int64_t baseline_learning_ends(const struct baseline *b);
bool baseline_active(const struct baseline *b, int64_t now_ms);

struct bl_stats { uint64_t alerts, info, suppressed_cooldown, suppressed_known, keys, keys_full; };
void baseline_stats(const struct baseline *b, struct bl_stats *st);

/* The key of a program: its executable, or for an interpreter running a script, the
 * interpreter and the script ("/usr/bin/python3.11 /opt/x/sync.py"). */
void bl_program_key(const char *exe, const char *cmdline, char *out, size_t cap);

/* "38.2 MB", "512 kB", "900 B" (decimal units, as network people count). */
void bl_bytes_text(uint64_t n, char *out, size_t cap);

#endif
