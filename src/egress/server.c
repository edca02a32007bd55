#define _GNU_SOURCE /* struct ucred, SO_PEERGROUPS */
/* egress/server.c — see server.h. */
#include "egress/server.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "util/sbuf.h"
#include "util/xalloc.h"

#ifndef SO_PEERGROUPS
#define SO_PEERGROUPS 59
#endif

struct server_client {
	struct server *s;
	int fd;
	uid_t uid;
	gid_t gid;
	pid_t pid;
	enum srv_access access;
	bool hello;
	bool skipping;           /* in an over-long line: everything up to its newline goes */
	char *in;                /* SERVER_MAX_LINE */
	size_t inlen;
	char *out;               /* what waits to be written, from outoff */
	size_t outlen, outoff, outcap;
	unsigned events;         /* subscribed to (0: not a subscriber) */
	char program[256];
	uint64_t lost;           /* events it lost since it was last told */
	int64_t req_id;
};

struct server {
	struct server_opts o;
	char path[108];
	int fd;
	gid_t group;
	bool have_group;
	uid_t self;
	struct server_client *c[SERVER_MAX_CLIENTS];
	int n;
	struct server_stats st;
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("pktscope: monitor: socket: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

struct server *server_open(const struct server_opts *o, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (strlen(o->path) >= sizeof sa.sun_path) {
		snprintf(err, errlen, "%s: a socket path must be shorter than %zu bytes", o->path, sizeof sa.sun_path);
		return NULL;
	}
	struct server *s = xcalloc(1, sizeof *s);
	s->o = *o;
	snprintf(s->path, sizeof s->path, "%s", o->path);
	memcpy(sa.sun_path, o->path, strlen(o->path));
	s->self = geteuid();
	struct group *g = getgrnam(o->group ? o->group : "pktscope");
	if (g) {
		s->group = g->gr_gid;
		s->have_group = true;
	}
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(err, errlen, "socket: %s", strerror(errno));
		free(s);
		return NULL;
	}
	unlink(o->path); /* a dead daemon's: the caller holds the lock, no live one is there */
	mode_t old = umask(0117); /* born 0660: no moment when others could connect */
	int rc = bind(s->fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0 || listen(s->fd, 16) < 0) {
		snprintf(err, errlen, "%s: %s", o->path, strerror(errno));
		close(s->fd);
		free(s);
		return NULL;
	}
	if (s->have_group && chown(o->path, (uid_t)-1, s->group) < 0)
		logf_("%s: cannot give it to group %s: %s", o->path, o->group ? o->group : "pktscope", strerror(errno));
	return s;
}

static void drop(struct server *s, int k)
{
	struct server_client *c = s->c[k];
	close(c->fd);
	free(c->in);
	free(c->out);
	free(c);
	s->c[k] = s->c[--s->n];
}

void server_unlisten(struct server *s)
{
	if (!s || s->fd < 0) return;
	close(s->fd);
	unlink(s->path);
	s->fd = -1;
}

void server_close(struct server *s)
{
	if (!s) return;
	server_unlisten(s);
	while (s->n) drop(s, s->n - 1);
	free(s);
}

static bool queue(struct server_client *c, const char *p, size_t n, size_t cap)
{
	if (c->outoff && c->outoff == c->outlen) c->outoff = c->outlen = 0;
	if (c->outlen - c->outoff + n + 1 > cap) return false;
	if (c->outlen + n + 1 > c->outcap) {
		if (c->outoff) { /* slide what is left to the front first */
			memmove(c->out, c->out + c->outoff, c->outlen - c->outoff);
			c->outlen -= c->outoff;
			c->outoff = 0;
		}
		if (c->outlen + n + 1 > c->outcap) {
			size_t want = c->outcap ? c->outcap : 4096;
			while (want < c->outlen + n + 1) want *= 2;
			c->out = xrealloc(c->out, want);
			c->outcap = want;
		}
	}
	memcpy(c->out + c->outlen, p, n);
	c->outlen += n;
	c->out[c->outlen++] = '\n';
	return true;
}

void server_error(struct server_client *c, const char *fmt, ...)
{
	char msg[600], line[1400];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	struct sbuf sb;
	sb_init_fixed(&sb, line, sizeof line - 1);
	sb_puts(&sb, "{\"type\":\"error\"");
	if (c->req_id >= 0) sb_printf(&sb, ",\"id\":%lld", (long long)c->req_id);
	sb_puts(&sb, ",\"message\":");
	sb_json_str(&sb, msg, strlen(msg));
	sb_putc(&sb, '}');
	queue(c, line, sb.len, SERVER_MAX_REPLY + sizeof line); /* an error always gets through */
}

bool server_reply(struct server_client *c, const char *line, size_t len)
{
	if (queue(c, line, len, SERVER_MAX_REPLY)) return true;
	server_error(c, "the reply (%zu bytes) is larger than %u MB: ask for less (a shorter time range, a limit)", len,
		     SERVER_MAX_REPLY >> 20);
	return false;
}

enum srv_access server_access(const struct server_client *c) { return c->access; }
uid_t server_uid(const struct server_client *c) { return c->uid; }
pid_t server_pid(const struct server_client *c) { return c->pid; }
void server_set_request_id(struct server_client *c, int64_t id) { c->req_id = id; }
int64_t server_request_id(const struct server_client *c) { return c->req_id; }
bool server_said_hello(const struct server_client *c) { return c->hello; }
void server_hello_done(struct server_client *c) { c->hello = true; }
void server_malformed(struct server_client *c) { c->s->st.malformed++; }

int server_event_bit(const char *name)
{
	static const char *const names[] = { "open", "update", "close", "alert", "info" };
	for (int i = 0; i < 5; i++)
		if (!strcmp(name, names[i])) return 1 << i;
	return 0;
}

void server_subscribe(struct server_client *c, unsigned events, const char *program)
{
	c->events = events;
	snprintf(c->program, sizeof c->program, "%s", program ? program : "");
}

void server_publish(struct server *s, unsigned event, const char *program, const char *line, size_t len)
{
	for (int k = 0; k < s->n; k++) {
		struct server_client *c = s->c[k];
		if (!(c->events & event)) continue;
		if (c->program[0] && (!program || !strstr(program, c->program))) continue;
		if (c->lost) { /* room again: first say what it missed */
			char m[160];
			int ml = snprintf(m, sizeof m, "{\"event\":\"lost\",\"count\":%llu,\"message\":\"%llu events lost\"}",
					  (unsigned long long)c->lost, (unsigned long long)c->lost);
			if (!queue(c, m, (size_t)ml, SERVER_MAX_BACKLOG)) {
				c->lost++;
				s->st.events_lost++;
				continue;
			}
			c->lost = 0;
		}
		if (!queue(c, line, len, SERVER_MAX_BACKLOG)) {
			c->lost++;
			s->st.events_lost++;
		}
	}
}

void server_stats(const struct server *s, struct server_stats *st)
{
	*st = s->st;
	st->clients = s->n;
	st->subscribers = 0;
	for (int k = 0; k < s->n; k++)
		if (s->c[k]->events) st->subscribers++;
}

/* Is gid among the peer's groups (its primary one, or those SO_PEERGROUPS gives)? */
static bool in_group(int fd, gid_t primary, gid_t gid)
{
	if (primary == gid) return true;
	gid_t groups[256];
	socklen_t len = sizeof groups;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0) return false;
	for (size_t i = 0; i < len / sizeof *groups; i++)
		if (groups[i] == gid) return true;
	return false;
}

static void accept_one(struct server *s)
{
	int fd = accept4(s->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0) return;
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(fd);
		return;
	}
	enum srv_access access = cr.uid == 0 || cr.uid == s->self ? SRV_ADMIN
			       : s->have_group && in_group(fd, cr.gid, s->group) ? SRV_READ : SRV_NONE;
	char msg[300];
	int ml = 0;
	if (access == SRV_NONE) {
		s->st.refused_access++;
		logf_("permission denied to uid %u (pid %d): not root, the monitor's user or in group %s", (unsigned)cr.uid,
		      (int)cr.pid, s->o.group ? s->o.group : "pktscope");
		ml = snprintf(msg, sizeof msg,
			      "{\"type\":\"error\",\"message\":\"permission denied: the monitor answers root, its own user and"
			      " members of group %s\"}\n", s->o.group ? s->o.group : "pktscope");
	} else if (s->n == SERVER_MAX_CLIENTS) {
		s->st.refused_full++;
		ml = snprintf(msg, sizeof msg, "{\"type\":\"error\",\"message\":\"too many clients (%d): try again later\"}\n",
			      SERVER_MAX_CLIENTS);
	}
	if (ml) {
		if (write(fd, msg, (size_t)ml) < 0) { /* a best effort: it is going anyway */
		}
		close(fd);
		return;
	}
	struct server_client *c = xcalloc(1, sizeof *c);
	c->s = s;
	c->fd = fd;
	c->uid = cr.uid;
	c->gid = cr.gid;
	c->pid = cr.pid;
	c->access = access;
	c->req_id = -1;
	c->in = xmalloc(SERVER_MAX_LINE);
	s->c[s->n++] = c;
	s->st.accepted++;
	ml = snprintf(msg, sizeof msg, "{\"type\":\"hello\",\"protocol\":%d,\"version\":\"%s\",\"pid\":%d,\"access\":\"%s\"}",
		      SERVER_PROTOCOL, s->o.version ? s->o.version : "", (int)getpid(), access == SRV_ADMIN ? "admin" : "read");
	queue(c, msg, (size_t)ml, SERVER_MAX_REPLY);
}

/* Reads what there is; false when the client is gone. */
static bool read_some(struct server *s, struct server_client *c)
{
	for (;;) {
		ssize_t r = read(c->fd, c->in + c->inlen, SERVER_MAX_LINE - c->inlen);
		if (r == 0) return false;
		if (r < 0) return errno == EAGAIN || errno == EINTR;
		size_t start = 0, end = c->inlen + (size_t)r;
		for (size_t i = c->inlen; i < end; i++) {
			if (c->in[i] != '\n') continue;
			size_t n = i - start;
			if (c->skipping) {
				c->skipping = false;
			} else {
				if (n && c->in[start + n - 1] == '\r') n--;
				c->req_id = -1;
				if (n) s->o.handle(s->o.ctx, c, c->in + start, n);
			}
			start = i + 1;
		}
		memmove(c->in, c->in + start, end - start);
		c->inlen = end - start;
		if (c->inlen == SERVER_MAX_LINE) { /* no newline in a whole line's room */
			if (!c->skipping) {
				s->st.malformed++;
				c->req_id = -1;
				server_error(c, "a line longer than %d bytes: skipped up to its end", SERVER_MAX_LINE);
			}
			c->skipping = true;
			c->inlen = 0;
		}
		if ((size_t)r < SERVER_MAX_LINE / 2) return true; /* likely all there was; poll says if not */
	}
}

/* Writes what waits; false when the client is gone. */
static bool write_some(struct server_client *c)
{
	while (c->outoff < c->outlen) {
		ssize_t w = write(c->fd, c->out + c->outoff, c->outlen - c->outoff);
		if (w < 0) return errno == EAGAIN || errno == EINTR;
		c->outoff += (size_t)w;
	}
	c->outoff = c->outlen = 0;
	if (c->outcap > (1u << 20)) { /* a large reply went: give its room back */
		free(c->out);
		c->out = NULL;
		c->outcap = 0;
	}
	return true;
}

int server_pollfds(struct server *s, struct pollfd *p)
{
	p[0] = (struct pollfd){ .fd = s->fd, .events = POLLIN };
	for (int k = 0; k < s->n; k++)
		p[k + 1] = (struct pollfd){ .fd = s->c[k]->fd,
					    .events = (short)(POLLIN | (s->c[k]->outlen > s->c[k]->outoff ? POLLOUT : 0)) };
	return s->n + 1;
}

void server_service(struct server *s, const struct pollfd *p, int n)
{
	/* clients by descriptor: the set changes as they go */
	for (int i = n - 1; i >= 1; i--) {
		if (!p[i].revents) continue;
		int k;
		for (k = 0; k < s->n && s->c[k]->fd != p[i].fd; k++) {
		}
		if (k == s->n) continue;
		struct server_client *c = s->c[k];
		bool alive = true;
		if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) alive = read_some(s, c);
		if (alive) alive = write_some(c);
		if (!alive) drop(s, k);
	}
	/* replies queued by handlers for clients that were not ready to write */
	for (int k = s->n - 1; k >= 0; k--)
		if (s->c[k]->outlen > s->c[k]->outoff && !write_some(s->c[k])) drop(s, k);
	if (n > 0 && p[0].revents & POLLIN)
		for (int i = 0; i < 8; i++) {
			int before = s->n;
			uint64_t refused = s->st.refused_access + s->st.refused_full;
			accept_one(s);
			if (s->n == before && s->st.refused_access + s->st.refused_full == refused) break; /* nothing waiting */
		}
}
