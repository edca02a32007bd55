/* egress/store.h — the monitor's record in SQLite: programs (executables), the processes
 * that ran them, destinations, the names they had and where each came from, and one row per
 * connection (TCP, UDP — QUIC included — and
 * ICMP), closed, timed out or still open at shutdown.
 *
 * WAL, STRICT tables, a versioned schema (PRAGMA user_version, migrations in order). Rows are
 * queued and written by one writer thread in one transaction about once a second (sooner
 * when many wait), never one per packet; the queue is bounded (STORE_MAX_QUEUED rows and
 * names) and what it had to drop, or what a failed write lost, is counted.
 * Retention removes connection rows by age and keeps the file under a size, never the
 * first-seen tables (programs, destinations, names, the baseline's keys and binaries, alerts).
 * Schema 3 adds the baseline (baseline.h): baseline_seen, identities, identity_changes,
 * alerts, cooldowns, known, volume. */
#ifndef PKTSCOPE_EGRESS_STORE_H
#define PKTSCOPE_EGRESS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STORE_SCHEMA_VERSION 4
#define STORE_HOUR_MS 3600000LL /* the hourly table's step */
#define STORE_HOUR_MS_TEXT "3600000"
#define STORE_VOLUME_KEEP_MS (8 * 86400000LL) /* volume intervals kept: more than the longest window (a week) */
#define STORE_MAX_QUEUED 16384 /* about 2 kB a row: 32 MB at most, waiting */

struct store_conn {
	int64_t start_ms, end_ms;
	const char *state;            /* "closed", "timeout", "open_at_shutdown" */
	int proto, family;
	char laddr[46], raddr[46];
	uint16_t lport, rport;
	bool outbound;
	int pid;
	uint32_t uid;
	char exe[512], pname[16];
	const char *how;              /* the attribution, or "unknown" */
	char why[96];
	char name[256], name_source[16], registrable[256];
	char country[3];
	uint32_t asn;
	char as_org[128];
	char community_id[64], sni[256], ja4[64];
	int64_t proc_start_ms;        /* with pid: which process (ms since boot), 0 unknown */
	char cmdline[512], cgroup[128];
	uint64_t netns;
	const char *name_hidden, *encrypted_dns; /* or NULL */
	uint64_t bytes_out, bytes_in, pkts_out, pkts_in;
};

struct store;
struct baseline;
struct bl_alert;
/* Opens (creating, migrating) path. NULL with the reason in err. */
struct store *store_open(const char *path, char *err, size_t errlen);
/* Queues a connection row (copied); false when the queue was full (counted). */
bool store_add(struct store *s, const struct store_conn *c);
/* A name an address had: kept once per (address, name, source), with first and last seen. */
void store_name(struct store *s, const char *addr, const char *name, const char *source, int64_t ms);
/* Has the writer write what is queued now, and waits for it; 0, or -1 with the reason the
 * writer last failed (said once) in err. */
int store_flush(struct store *s, char *err, size_t errlen);
/* Whether the writer failed since the last look (without waiting), the reason in err. */
bool store_failed(struct store *s, char *err, size_t errlen);
/* Retention the writer applies now and every ten minutes: connection rows older than
 * max_age_ms go, and past max_bytes the oldest (0: no limit). */
void store_set_retention(struct store *s, int64_t max_age_ms, uint64_t max_bytes);
/* A replay's clock (the file's time, ms), which retention counts from instead of the wall
 * clock: a day of capture replayed keeps what the settings keep of a day. 0: the wall clock;
 * negative: a replay whose time is not known yet (no retention until it is). */
void store_set_clock(struct store *s, int64_t now_ms);
/* A replay: a full queue waits for the writer instead of dropping rows (a file can wait;
 * a live capture never does). */
void store_set_wait(struct store *s, bool wait);
/* Deletes connection rows older than max_age_ms and, past max_bytes, the oldest until under
 * it (0: no limit); 0 or -1. The writer thread's: call it only before any row is added, or
 * use store_set_retention. */
int store_retain(struct store *s, int64_t now_ms, int64_t max_age_ms, uint64_t max_bytes, char *err, size_t errlen);
/* The baseline's records (the sink of baseline.h), queued and written with the connections,
 * in order, in the same transactions. */
void store_meta(struct store *s, const char *key, const char *value);
void store_seen(struct store *s, const char *program, const char *kind, const char *value, int64_t ms);
void store_identity(struct store *s, const char *program, const char *sha256, const char *package, const char *version,
		    int64_t ms);
void store_change(struct store *s, const char *program, const char *old_sha, const char *new_sha, const char *how,
		  const char *detail, uint64_t alert_id, int64_t ms);
void store_alert(struct store *s, const struct bl_alert *a);
void store_cooldown(struct store *s, const char *key, int64_t until_ms);
void store_volume(struct store *s, const char *program, int64_t start_ms, uint64_t bytes);
/* The baseline as stored, into b (before its first event), through a connection of the
 * caller's thread; 0 or -1 (err). */
int store_load_baseline(struct store *s, struct baseline *b, int64_t now_ms, char *err, size_t errlen);
/* The known list again (`monitor known` changes it from another process); 0 or -1. */
int store_load_known(struct store *s, struct baseline *b);
struct store_stats { uint64_t written, dropped, batches; };
void store_stats(struct store *s, struct store_stats *st);
/* Writes what is queued, stops the writer and closes; 0 or -1 (err). */
int store_close(struct store *s, char *err, size_t errlen);

#endif
