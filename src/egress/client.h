/* egress/client.h — talking to a running monitor over its socket (service.h has the
 * protocol): `monitor status|stop|events`, `inspect`. */
#ifndef PKTSCOPE_EGRESS_CLIENT_H
#define PKTSCOPE_EGRESS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLIENT_ROOT_STATE_DIR "/var/lib/pktscope" /* root's monitor: found by everyone's clients */
#define CLIENT_SOCKET_NAME "monitor.sock"

struct sbuf;
struct monitor_client;

/* The socket to use: path when given, else state_dir's, else the user's own state
 * directory's when a monitor is there, else root's (CLIENT_ROOT_STATE_DIR). */
void client_socket_path(const char *path, const char *state_dir, const char *own_state_dir, char *out, size_t cap);
/* Connects and says hello; NULL with the reason in err ("cannot connect to the monitor at
 * PATH: …", "permission denied: …"). */
struct monitor_client *client_connect(const char *path, char *err, size_t errlen);
void client_close(struct monitor_client *c);
int client_fd(const struct monitor_client *c);
/* Sends one request line (without its newline). 0 or -1 (err). */
int client_send(struct monitor_client *c, const char *line, char *err, size_t errlen);
/* The next line from the monitor into out (reset first, NUL-terminated): 1, 0 when the
 * monitor closed the connection, -1 (err). timeout_ms < 0 waits as long as it takes;
 * on a timeout, 2. */
int client_read(struct monitor_client *c, struct sbuf *out, int timeout_ms, char *err, size_t errlen);
/* A request and its reply: the reply's whole line in out, 0; -2 with the monitor's own
 * message in err for an error reply (the connection stays usable); -1 when the connection
 * failed (closed, no answer in time). */
int client_call(struct monitor_client *c, const char *line, struct sbuf *out, char *err, size_t errlen);
/* How long client_call waits for a reply (30 s unless set; the inspector waits less and
 * shows the monitor as not answering). */
void client_set_timeout(struct monitor_client *c, int timeout_ms);

#endif
