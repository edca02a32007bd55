/* egress/report.h — where the baseline's records go while the monitor runs (the store,
 * NDJSON events, standard error, the system journal), and reading them back for people
 * (`pktscope monitor alerts|ack|known|new`).
 *
 * The journal gets every alert and info record with structured fields (PKTSCOPE_KIND,
 * PKTSCOPE_SEVERITY, PKTSCOPE_PROGRAM, PKTSCOPE_EXE, PKTSCOPE_PID, PKTSCOPE_DESTINATION,
 * PKTSCOPE_COMMUNITY_ID, PKTSCOPE_EVIDENCE…) through sd_journal_send; where there is no
 * journal (its socket absent), syslog (daemon facility) gets the message line. */
#ifndef PKTSCOPE_EGRESS_REPORT_H
#define PKTSCOPE_EGRESS_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress/baseline.h"
#include "egress/monitor.h"

struct store;
struct sbuf;

/* Whether the journal is written through libsystemd (else syslog): for --version. */
bool report_has_journal(void);

struct report_out {
	struct store *store;      /* or NULL */
	struct sbuf *json;        /* NDJSON "alert" and "info" events, or NULL */
	monitor_event_fn event;   /* and/or each event line to this, or NULL */
	void *event_ctx;
	bool to_stderr;           /* "[ALERT][severity] kind — title" lines */
	bool to_journal;          /* the journal, else syslog */
};
/* A sink for baseline_new() writing to out (which must outlive the baseline). */
void report_sink(struct report_out *out, struct bl_sink *sink);
/* The message and fields an alert is sent to the journal with (for the tests). */
void report_journal(const struct bl_alert *a);

/* `monitor alerts`: alerts since since_ms (0: all), newest last; text or NDJSON. */
int report_alerts(const char *db, int64_t since_ms, bool json, bool all, struct sbuf *out, char *err, size_t errlen);
/* `monitor ack ID`: 0, 1 when there is no such alert, -1 (err). */
int report_ack(const char *db, uint64_t id, int64_t now_ms, char *err, size_t errlen);
/* `monitor known add|remove|list` (dest NULL: the whole program). add/remove: 0, 1 when
 * there was nothing to remove, -1 (err). */
int report_known(const char *db, const char *op, const char *program, const char *dest, int64_t now_ms,
		 struct sbuf *out, char *err, size_t errlen);
/* `monitor new --since`: what is new since since_ms (text or one JSON object). */
int report_new(const char *db, int64_t since_ms, bool json, struct sbuf *out, char *err, size_t errlen);

#endif
