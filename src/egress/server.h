/* egress/server.h — the monitor's Unix socket: newline-delimited JSON each way, served from
 * the monitor's own loop (poll, non-blocking, no thread per client).
 *
 * Who may do what is decided by the peer's credentials (SO_PEERCRED, SO_PEERGROUPS) when
 * it connects: root and the daemon's own user may do everything; members of the group
 * (default "pktscope") may read; anyone else is told "permission denied", logged, and
 * disconnected. Every line is capped (SERVER_MAX_LINE), so are the clients
 * (SERVER_MAX_CLIENTS) and what waits to be sent to each: a reply that would not fit is
 * refused with an error, and a subscriber that does not keep up loses events — counted,
 * and told with a {"event":"lost"} line once it has room again — instead of slowing the
 * monitor. Malformed input gets an error reply; the connection stays usable. */
#ifndef PKTSCOPE_EGRESS_SERVER_H
#define PKTSCOPE_EGRESS_SERVER_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define SERVER_PROTOCOL 1
#define SERVER_MAX_LINE 65536            /* a request line, newline included */
#define SERVER_MAX_CLIENTS 32
#define SERVER_MAX_REPLY (64u << 20)     /* what one client may have waiting */
#define SERVER_MAX_BACKLOG (1u << 20)    /* a subscriber's waiting events past which they are lost */

enum srv_access { SRV_NONE, SRV_READ, SRV_ADMIN };

struct server;
struct server_client;

/* Each complete line from a client that may read. */
typedef void (*server_handler)(void *ctx, struct server_client *c, const char *line, size_t len);

struct server_opts {
	const char *path;        /* the socket */
	const char *group;       /* readers' group; NULL: "pktscope" */
	const char *version;     /* said in the hello */
	server_handler handle;
	void *ctx;
};

/* Binds path (a stale socket there is replaced: the caller holds the state directory's
 * lock), mode 0660, group-owned by the readers' group when it exists. NULL with err. */
struct server *server_open(const struct server_opts *o, char *err, size_t errlen);
/* Removes the socket and stops listening: a stopping monitor is found by no new client,
 * while those connected (one waiting for `stop` to finish) stay until server_close. */
void server_unlisten(struct server *s);
/* Closes every client (and the socket, if still there). */
void server_close(struct server *s);

/* The descriptors to poll: fills p (room for SERVER_MAX_CLIENTS + 1) and returns how many. */
int server_pollfds(struct server *s, struct pollfd *p);
/* After poll: accepts, reads (handing each line to the handler), writes. */
void server_service(struct server *s, const struct pollfd *p, int n);

/* Queues one reply line (without its newline) for c; false (and an error reply instead)
 * when it would exceed SERVER_MAX_REPLY. */
bool server_reply(struct server_client *c, const char *line, size_t len);
/* An error reply: {"type":"error","message":...} (with the request's id when it had one). */
void server_error(struct server_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum srv_access server_access(const struct server_client *c);
uid_t server_uid(const struct server_client *c);
pid_t server_pid(const struct server_client *c);
/* The request id of the line being handled (echoed in replies), or -1. */
void server_set_request_id(struct server_client *c, int64_t id);
int64_t server_request_id(const struct server_client *c);
bool server_said_hello(const struct server_client *c);
/* Counts a malformed request (server_stats). */
void server_malformed(struct server_client *c);

void server_hello_done(struct server_client *c);

/* Subscriptions: events is a bitmask of SERVER_EV_*; program, when not empty, a substring
 * the event's program must contain. */
enum { SERVER_EV_OPEN = 1, SERVER_EV_UPDATE = 2, SERVER_EV_CLOSE = 4, SERVER_EV_ALERT = 8, SERVER_EV_INFO = 16,
       SERVER_EV_ALL = 31 };
int server_event_bit(const char *name); /* 0 when unknown */
void server_subscribe(struct server_client *c, unsigned events, const char *program);
/* An event line (without its newline) to every subscriber that wants it. */
void server_publish(struct server *s, unsigned event, const char *program, const char *line, size_t len);

struct server_stats {
	uint64_t accepted, refused_access, refused_full, malformed, events_lost;
	int clients, subscribers;
};
void server_stats(const struct server *s, struct server_stats *st);

#endif
