/* egress/service.h — what the monitor answers on its socket (server.h carries the lines).
 *
 * Protocol 1. The server says {"type":"hello","protocol":1,"version":…,"access":"read"|
 * "admin"} when a client connects; the client answers {"type":"hello","protocol":1} before
 * anything else (a client that speaks another protocol is told which one this is). Then one
 * request per line, {"type":NAME, …, "id":N optional}, one reply line each,
 * {"type":NAME,"id":N,"data":…} or {"type":"error","id":N,"message":…}:
 *
 *   status                                   the monitor's state and counters
 *   connections                              the connections followed now
 *   processes    [since_ms] [until_ms]       per program: connections, bytes, destinations
 *                                            (stored ones in the range, and live ones)
 *   destinations [program] [since_ms] [until_ms] [by]  per destination (registrable domain,
 *                                            else name, else address), of one program (its
 *                                            open connections too) or all (stored ones);
 *                                            by "org": per AS organisation (else AS number,
 *                                            else destination)
 *   history      [program] [since_ms] [until_ms] [limit]  stored connections, newest first
 *   compare      a_since_ms a_until_ms b_since_ms b_until_ms  programs, destinations and
 *                                            countries seen in the second range, not the first
 *   alerts       [since_ms] [all] [format]   alerts (unacknowledged unless all)
 *   new          [since_ms] [format]         the "what is new" digest (`monitor new`)
 *   ack          id                          (admin)
 *   known        op: add|remove|list, program, [destination] [format]  (add/remove: admin)
 *   subscribe    [events: ["open","update","close","alert","info"]] [program]
 *                then the event lines of `monitor run --json` (and {"event":"lost"})
 *   stop                                     (admin) the monitor stores everything, exits
 *
 * format "text": the data is a string, what `pktscope monitor alerts|new|known list` print.
 * Times are ms since the epoch; a range's end is exclusive; since defaults to 24 hours
 * back, until to now. */
#ifndef PKTSCOPE_EGRESS_SERVICE_H
#define PKTSCOPE_EGRESS_SERVICE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct server;
struct server_client;
struct monitor;
struct baseline;
struct store;
struct live;

#define SERVICE_HISTORY_LIMIT 1000      /* rows a history reply has unless asked */
#define SERVICE_HISTORY_MAX 200000

struct service {
	struct server *srv;
	struct monitor *mon;
	struct baseline *bl;
	struct store *store;
	struct live *live;             /* or NULL (a file replayed) */
	const char *dbpath, *state_dir, *socket_path, *attribution;
	const char *interfaces;        /* "eth0 lo" */
	int64_t started_ms;
	bool stop;                     /* a client asked the monitor to stop */
	void *rdb;                     /* the read-only store connection for queries (sqlite3 *) */
	uint64_t denied;               /* requests refused for want of rights */
};

/* server_handler: one request line. */
void service_handle(void *ctx, struct server_client *c, const char *line, size_t len);
/* monitor_event_fn: an event to the subscribers. */
void service_event(void *ctx, const char *event, const char *program, const char *line, size_t len);
void service_close(struct service *s);

#endif
