/* egress/monitor.h — the egress monitor's engine: packets in (from every interface the
 * monitor captures on), connections out — each tied to the program that made it (proc.h),
 * named from the wire (names.h), placed on the map (geo.h), stored (store.h) and, with
 * --json, written as NDJSON events: opened, updated (at most once a second per connection),
 * closed. The event schema is MONITOR_SCHEMA, documented in the README. */
#ifndef PKTSCOPE_EGRESS_MONITOR_H
#define PKTSCOPE_EGRESS_MONITOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect/packet.h"

#define MONITOR_SCHEMA 1
#define MONITOR_MAX_CONNS 262144 /* connections followed at once (the flow table's cap) */

struct sbuf;
struct geo;
struct store;
struct proc_attr;
struct baseline;
struct ident;

/* An NDJSON event line, without its newline: its event ("open", "update", "close", "alert",
 * "info") and the program it is about (its executable, or NULL). */
typedef void (*monitor_event_fn)(void *ctx, const char *event, const char *program, const char *line, size_t len);

struct monitor_opts {
	struct sbuf *json;         /* NDJSON events here, or NULL */
	monitor_event_fn event;    /* and/or each event line to this, or NULL */
	void *event_ctx;
	struct store *store;       /* or NULL */
	struct geo *geo;           /* or NULL */
	struct proc_attr *proc;    /* or NULL: nothing is attributed (unavailable) */
	bool replay;               /* packets from a capture file: the client end of each
				    * connection is taken as this machine's, and no process is */
	struct baseline *baseline; /* or NULL: each outbound connection of a program is judged
				    * (baseline.h) once its name is settled, its bytes counted */
	struct ident *ident;       /* or NULL: binaries are not hashed (no identity signal) */
};

struct monitor;
struct monitor *monitor_new(const struct monitor_opts *o);
/* One captured packet. */
void monitor_packet(struct monitor *m, const struct pkt_meta *meta, const uint8_t *data);
/* The wall clock moved on (ns since the epoch): updates are written, idle connections end,
 * the store is flushed about once a second. */
void monitor_tick(struct monitor *m, int64_t now_ns);
/* Every connection still open ends ("open_at_shutdown"), everything is stored. */
void monitor_finish(struct monitor *m);
void monitor_free(struct monitor *m);

struct monitor_stats {
	uint64_t packets, conns, attributed, unknown, named, store_dropped, conns_evicted;
	uint64_t names_evicted, procs_evicted; /* names past the cache's cap; exited processes forgotten */
};
void monitor_stats(const struct monitor *m, struct monitor_stats *st);

/* A connection being followed, as the monitor's socket shows it. */
struct monitor_conn_view {
	uint64_t id;
	const char *proto;            /* "tcp", "udp", "icmp"... */
	const char *direction;        /* "outbound", "inbound", "local" */
	char laddr[46], raddr[46];
	uint16_t lport, rport;
	int pid;                      /* 0: not attributed */
	const char *pname, *exe;      /* "" when not attributed */
	const char *name, *name_source; /* "" when unnamed */
	char registrable[256];
	const char *country, *as_org;
	uint32_t asn;
	uint64_t bytes_out, bytes_in;
	int64_t start_ms, last_ms;
	bool closed;
};
/* Each connection followed now (closed ones still lingering included), in no order. */
void monitor_each(struct monitor *m, void (*fn)(void *ctx, const struct monitor_conn_view *v), void *ctx);
uint32_t monitor_live(const struct monitor *m);

#endif
