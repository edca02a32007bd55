/* egress/client.c — see client.h. */
#include "egress/client.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "egress/server.h"
#include "util/jsonr.h"
#include "util/sbuf.h"
#include "util/xalloc.h"

#define CLIENT_BUF 65536

struct monitor_client {
	int fd;
	char *buf;             /* read, not yet handed out: [off, len) */
	size_t off, len;
	char path[108];
	int timeout_ms;        /* client_call's wait for a reply */
};

void client_socket_path(const char *path, const char *state_dir, const char *own_state_dir, char *out, size_t cap)
{
	if (path && *path) {
		snprintf(out, cap, "%s", path);
		return;
	}
	if (state_dir && *state_dir) {
		snprintf(out, cap, "%s/%s", state_dir, CLIENT_SOCKET_NAME);
		return;
	}
	snprintf(out, cap, "%s/%s", own_state_dir, CLIENT_SOCKET_NAME);
	if (access(out, F_OK) == 0) return;
	snprintf(out, cap, "%s/%s", CLIENT_ROOT_STATE_DIR, CLIENT_SOCKET_NAME);
}

int client_fd(const struct monitor_client *c) { return c->fd; }

void client_close(struct monitor_client *c)
{
	if (!c) return;
	close(c->fd);
	free(c->buf);
	free(c);
}

int client_send(struct monitor_client *c, const char *line, char *err, size_t errlen)
{
	size_t n = strlen(line);
	char *msg = xmalloc(n + 1);
	memcpy(msg, line, n);
	msg[n] = '\n';
	size_t off = 0;
	while (off <= n) {
		ssize_t w = send(c->fd, msg + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR) continue;
		if (w < 0) {
			snprintf(err, errlen, "the monitor at %s: %s", c->path, strerror(errno));
			free(msg);
			return -1;
		}
		off += (size_t)w;
	}
	free(msg);
	return 0;
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int client_read(struct monitor_client *c, struct sbuf *out, int timeout_ms, char *err, size_t errlen)
{
	sb_reset(out);
	int64_t until = timeout_ms >= 0 ? mono_ms() + timeout_ms : -1;
	for (;;) {
		char *nl = c->len > c->off ? memchr(c->buf + c->off, '\n', c->len - c->off) : NULL;
		size_t upto = nl ? (size_t)(nl - c->buf) : c->len;
		sb_put(out, c->buf + c->off, upto - c->off);
		c->off = upto;
		if (nl) {
			c->off++;
			sb_putc(out, '\0');
			out->len--;
			if (out->trunc) {
				snprintf(err, errlen, "a reply larger than %zu bytes", out->max ? out->max : out->cap);
				return -1;
			}
			return 1;
		}
		c->off = c->len = 0;
		int wait = -1;
		if (until >= 0) {
			int64_t left = until - mono_ms();
			if (left <= 0) return 2;
			wait = (int)left;
		}
		struct pollfd p = { .fd = c->fd, .events = POLLIN };
		int pr = poll(&p, 1, wait);
		if (pr < 0 && errno == EINTR) return 2; /* a signal: the caller decides */
		if (pr == 0) return 2;
		ssize_t r = read(c->fd, c->buf, CLIENT_BUF);
		if (r < 0 && (errno == EINTR || errno == EAGAIN)) continue;
		if (r < 0) {
			snprintf(err, errlen, "the monitor at %s: %s", c->path, strerror(errno));
			return -1;
		}
		if (r == 0) return 0;
		c->len = (size_t)r;
	}
}

/* An error reply's message into err: true when line is one. */
static bool error_reply(const char *line, size_t len, char *err, size_t errlen)
{
	struct jobj o;
	char type[16], e[200];
	if (jsonr_object(line, len, &o, e, sizeof e) < 0) {
		snprintf(err, errlen, "an unexpected reply from the monitor: %.100s", line);
		return true;
	}
	if (jsonr_str(jsonr_get(&o, "type"), type, sizeof type) < 0 || strcmp(type, "error")) return false;
	if (jsonr_str(jsonr_get(&o, "message"), err, errlen) < 0) snprintf(err, errlen, "the monitor refused, without a reason");
	return true;
}

int client_call(struct monitor_client *c, const char *line, struct sbuf *out, char *err, size_t errlen)
{
	if (client_send(c, line, err, errlen) < 0) return -1;
	int rc = client_read(c, out, c->timeout_ms, err, errlen);
	if (rc == 0) snprintf(err, errlen, "the monitor at %s closed the connection", c->path);
	if (rc == 2) snprintf(err, errlen, "the monitor at %s did not answer in %.1f s", c->path, c->timeout_ms / 1000.0);
	if (rc != 1) return -1;
	return error_reply(out->buf, out->len, err, errlen) ? -2 : 0;
}

void client_set_timeout(struct monitor_client *c, int timeout_ms) { c->timeout_ms = timeout_ms; }

struct monitor_client *client_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: a socket path must be shorter than %zu bytes", path, sizeof sa.sun_path);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		int e = errno;
		snprintf(err, errlen, "cannot connect to the monitor at %s: %s%s", path, strerror(e),
			 e == ENOENT || e == ECONNREFUSED ? " (is `pktscope monitor run` running? --state-dir or --socket find another)"
			 : e == EACCES ? " (the monitor answers root, its own user and members of group pktscope)" : "");
		close(fd);
		return NULL;
	}
	struct monitor_client *c = xcalloc(1, sizeof *c);
	c->fd = fd;
	c->timeout_ms = 30000;
	c->buf = xmalloc(CLIENT_BUF);
	snprintf(c->path, sizeof c->path, "%s", path);
	struct sbuf line;
	sb_init_grow(&line, 1024, 1 << 16);
	int rc = client_read(c, &line, 10000, err, errlen);
	if (rc != 1) {
		if (rc == 0) snprintf(err, errlen, "the monitor at %s closed the connection", path);
		if (rc == 2) snprintf(err, errlen, "the monitor at %s did not say hello in 10 s", path);
		goto fail;
	}
	if (error_reply(line.buf, line.len, err, errlen)) goto fail;
	char hello[64];
	snprintf(hello, sizeof hello, "{\"type\":\"hello\",\"protocol\":%d}", SERVER_PROTOCOL);
	if (client_call(c, hello, &line, err, errlen) < 0) goto fail;
	sb_free(&line);
	return c;
fail:
	sb_free(&line);
	client_close(c);
	return NULL;
}
