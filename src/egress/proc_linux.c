/* egress/proc_linux.c — process attribution on Linux (see proc.h): the kernel side's record
 * first (ebpf_linux.c), then the socket table through NETLINK_SOCK_DIAG, processes through
 * the netlink proc connector (when there is no kernel side) or /proc, a socket's owner
 * through the descriptors of the processes known. */
#define _GNU_SOURCE
#include "egress/proc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include "egress/ebpf.h"
#include "util/xalloc.h"

#define INODE_MAP_CAP (1u << 17)   /* socket inodes remembered; when full, forgotten all at once */
#define EXITED_KEEP_NS (60 * 1000000000LL) /* an exited process still names its sockets this long */
#define MISS_RETRY_NS (200 * 1000000LL)   /* an inode no scan found is not scanned for again sooner */
#define LOCAL_REFRESH_NS 1000000000LL
#define RESCAN_NS (2 * 1000000LL) /* without process events, /proc's list is read again at most this often */
#define MAX_LOCAL_ADDRS 256

struct pent {
	struct proc_info info;
	int64_t exit_ns;
	bool used, known;   /* known: info read */
};

struct inode_slot { uint64_t inode; pid_t pid; int64_t miss_ns; };

struct proc_attr {
	struct ebpf *bpf;   /* the kernel side, or NULL (see ebpf.h) */
	int diag;           /* NETLINK_SOCK_DIAG */
	int cn;             /* NETLINK_CONNECTOR, or -1 */
	uint32_t seq;
	struct pent *p;     /* open addressing by pid; cap a power of two */
	uint32_t pcap, pcount;
	struct inode_slot *ino;
	uint32_t ino_count;
	struct { uint8_t family, addr[16]; } local[MAX_LOCAL_ADDRS];
	int nlocal;
	int64_t local_ns;
	int64_t rescan_ns;  /* without the connector: /proc read again at most every RESCAN_NS */
	bool resync;        /* the connector lost events (its buffer overflowed) */
	void (*on_exe)(void *ctx, int fd); /* each executable opened, handed over */
	void *on_exe_ctx;
	struct proc_stats st;
	uint8_t buf[1 << 16];
};

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void proc_attr_on_exe(struct proc_attr *pa, void (*fn)(void *ctx, int fd), void *ctx)
{
	pa->on_exe = fn;
	pa->on_exe_ctx = ctx;
}

const char *proc_how_str(enum proc_how h)
{
	switch (h) {
	case PH_SOCKET_EXACT: return "socket_table";
	case PH_SOCKET_BOUND: return "socket_table_bound";
	case PH_KERNEL_EVENT: return "ebpf";
	case PH_UNKNOWN: break;
	}
	return "unknown";
}

const char *proc_why_str(enum proc_why w)
{
	switch (w) {
	case PW_NO_SOCKET: return "no socket has this connection (closed before it was seen)";
	case PW_NO_OWNER: return "its process exited before it was seen";
	case PW_NOT_LOCAL: return "neither end is an address of this machine";
	case PW_NO_PORTS: return "a protocol without ports (raw or ICMP socket)";
	case PW_NO_RECORD: return "no socket sent it (the kernel's own message, or a socket older than the monitor)";
	case PW_UNAVAILABLE: return "the socket table cannot be read";
	case PW_REPLAY: return "read from a capture file";
	case PW_NONE: break;
	}
	return "";
}

/* ---- processes ---- */

static struct pent *pslot(struct proc_attr *pa, pid_t pid, bool add)
{
	uint32_t mask = pa->pcap - 1, i = ((uint32_t)pid * 2654435761u) & mask;
	for (uint32_t n = 0; n < pa->pcap; n++, i = (i + 1) & mask) {
		struct pent *e = &pa->p[i];
		if (e->used && e->info.pid == pid) return e;
		if (!e->used) {
			if (!add) return NULL;
			if (pa->pcount + 1 > pa->pcap / 2) return NULL; /* kept at most half full */
			memset(e, 0, sizeof *e);
			e->used = true;
			e->info.pid = pid;
			pa->pcount++;
			return e;
		}
	}
	return NULL;
}

/* Drops the processes that exited long enough ago (and, when still full, every exited
 * one) into a table of `newcap` slots: rebuilt, as open addressing cannot simply delete. */
static void rebuild(struct proc_attr *pa, bool all_exited, uint32_t newcap)
{
	int64_t now = now_ns();
	struct pent *old = pa->p;
	uint32_t cap = pa->pcap;
	pa->pcap = newcap;
	pa->p = xcalloc(newcap, sizeof *pa->p);
	pa->pcount = 0;
	for (uint32_t i = 0; i < cap; i++) {
		if (!old[i].used) continue;
		if (old[i].info.exited && (all_exited || now - old[i].exit_ns > EXITED_KEEP_NS)) {
			pa->st.evicted++;
			continue;
		}
		struct pent *e = pslot(pa, old[i].info.pid, true);
		if (e) *e = old[i];
	}
	free(old);
}

static struct pent *padd(struct proc_attr *pa, pid_t pid)
{
	struct pent *e = pslot(pa, pid, true);
	if (e) return e;
	rebuild(pa, false, pa->pcap);
	if (pa->pcount + 1 > pa->pcap / 4 && pa->pcap < 2 * PROC_MAX_TRACKED) /* still crowded: grow */
		rebuild(pa, false, pa->pcap * 2);
	if ((e = pslot(pa, pid, true))) return e;
	rebuild(pa, true, pa->pcap);
	return pslot(pa, pid, true);
}

static ssize_t read_small(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) return -1;
	ssize_t n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0) return -1;
	buf[n] = '\0';
	return n;
}

static int64_t started_ns(pid_t pid);

/* Reads what /proc says of pid into info; false when it is gone. */
static bool read_info(struct proc_attr *pa, pid_t pid, struct proc_info *info)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", pid);
	if (read_small(path, buf, sizeof buf) < 0) return false;
	const char *u = strstr(buf, "\nUid:");
	if (u) info->uid = (uid_t)strtoul(u + 5, NULL, 10);
	snprintf(path, sizeof path, "/proc/%d/comm", pid);
	if (read_small(path, info->name, sizeof info->name) > 0) info->name[strcspn(info->name, "\n")] = '\0';
	snprintf(path, sizeof path, "/proc/%d/exe", pid);
	ssize_t n = readlink(path, info->exe, sizeof info->exe - 1);
	info->exe[n > 0 ? n : 0] = '\0';
	/* the file itself, opened through the link: its identity stays when the path is
	 * replaced or the process is gone */
	int efd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat est;
	if (efd >= 0 && fstat(efd, &est) == 0) {
		info->exe_dev = (uint64_t)est.st_dev;
		info->exe_ino = (uint64_t)est.st_ino;
	}
	if (efd >= 0 && pa->on_exe) pa->on_exe(pa->on_exe_ctx, efd); /* theirs to keep */
	else if (efd >= 0) close(efd);
	snprintf(path, sizeof path, "/proc/%d/cmdline", pid);
	n = read_small(path, info->cmdline, sizeof info->cmdline);
	for (ssize_t i = 0; n > 0 && i < n - 1; i++)
		if (info->cmdline[i] == '\0') info->cmdline[i] = ' ';
	int64_t started = started_ns(pid);
	info->boot_start_ms = started > 0 ? started / 10000000 * 10 : 0; /* 10 ms ticks, as the kernel side rounds */
	snprintf(path, sizeof path, "/proc/%d/ns/net", pid);
	struct stat st;
	info->netns = stat(path, &st) == 0 ? (uint64_t)st.st_ino : 0;
	snprintf(path, sizeof path, "/proc/%d/cgroup", pid);
	info->cgroup[0] = '\0';
	if (read_small(path, buf, sizeof buf) > 0) {
		const char *c = strstr(buf, "0::");
		if (c) snprintf(info->cgroup, sizeof info->cgroup, "%.*s", (int)strcspn(c + 3, "\n"), c + 3);
	}
	return true;
}

static void seen(struct proc_attr *pa, pid_t pid, bool exec)
{
	struct pent *e = padd(pa, pid);
	if (!e) return;
	if (exec || !e->known) {
		struct proc_info info = e->info;
		if (read_info(pa, pid, &info)) {
			e->info = info;
			e->known = true;
		}
		if (!e->info.start_ns) e->info.start_ns = now_ns();
	}
	e->info.exited = false;
}

static void scan_proc(struct proc_attr *pa)
{
	DIR *d = opendir("/proc");
	if (!d) return;
	struct dirent *de;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 0) continue;
		struct pent *e = pslot(pa, (pid_t)pid, false);
		if (!e || !e->known) seen(pa, (pid_t)pid, false);
	}
	closedir(d);
}

/* ---- socket inodes ---- */

static struct inode_slot *islot(struct proc_attr *pa, uint64_t inode, bool add)
{
	uint32_t mask = INODE_MAP_CAP - 1, i = (uint32_t)(inode * 0x9e3779b97f4a7c15ull >> 40) & mask;
	for (;; i = (i + 1) & mask) {
		struct inode_slot *s = &pa->ino[i];
		if (s->inode == inode) return s;
		if (!s->inode) {
			if (!add) return NULL;
			if (pa->ino_count + 1 > INODE_MAP_CAP / 2) { /* full: forget, the scans find them again */
				memset(pa->ino, 0, INODE_MAP_CAP * sizeof *pa->ino);
				pa->ino_count = 0;
				return islot(pa, inode, true);
			}
			s->inode = inode;
			pa->ino_count++;
			return s;
		}
	}
}

/* Reads pid's descriptors into the inode map; true when `want` is among them. */
static bool scan_fds(struct proc_attr *pa, pid_t pid, uint64_t want)
{
	char path[64], link[64];
	snprintf(path, sizeof path, "/proc/%d/fd", pid);
	DIR *d = opendir(path);
	if (!d) return false;
	pa->st.fd_scans++;
	bool found = false;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.') continue;
		char fdp[600];
		snprintf(fdp, sizeof fdp, "%s/%s", path, de->d_name);
		ssize_t n = readlink(fdp, link, sizeof link - 1);
		if (n < 9 || memcmp(link, "socket:[", 8)) continue;
		link[n] = '\0';
		uint64_t ino = strtoull(link + 8, NULL, 10);
		if (!ino) continue;
		struct inode_slot *s = islot(pa, ino, true);
		s->pid = pid;
		s->miss_ns = 0;
		if (ino == want) found = true;
	}
	closedir(d);
	return found;
}

static int cand_cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? 1 : x > y ? -1 : 0;
}

/* The process holding socket `inode` (owned by uid): the map, else a scan of the processes
 * known, the socket's uid first and the newest first. 0 when none holds it. */
static pid_t owner_of(struct proc_attr *pa, uint64_t inode, uid_t uid)
{
	struct inode_slot *s = islot(pa, inode, false);
	if (s && s->pid) return s->pid;
	int64_t now = now_ns();
	if (s && s->miss_ns && now - s->miss_ns < MISS_RETRY_NS) return 0;
	/* no events (or some were lost): /proc is how new processes are met */
	if ((pa->cn < 0 || pa->resync) && now - pa->rescan_ns > RESCAN_NS) {
		scan_proc(pa);
		pa->rescan_ns = now;
		pa->resync = false;
	}
	/* the candidates: the socket's uid first, the newest first within each */
	struct cand { int64_t key; pid_t pid; } *c = xmalloc((pa->pcount + 1) * sizeof *c);
	uint32_t n = 0;
	for (uint32_t i = 0; i < pa->pcap; i++) {
		const struct pent *e = &pa->p[i];
		if (!e->used || e->info.exited || !e->known) continue;
		c[n].key = e->info.start_ns - (e->info.uid == uid ? 0 : INT64_MAX / 2);
		c[n++].pid = e->info.pid;
	}
	qsort(c, n, sizeof *c, cand_cmp);
	pid_t found = 0;
	for (uint32_t i = 0; i < n && !found; i++)
		if (scan_fds(pa, c[i].pid, inode)) found = c[i].pid;
	free(c);
	if (found) return found;
	s = islot(pa, inode, true);
	s->pid = 0;
	s->miss_ns = now;
	return 0;
}

/* ---- the socket table ---- */

int proc_parse_diag(const void *msg, size_t len, uint64_t *inode, uint32_t *uid, int *family, uint8_t *src,
		    uint16_t *sport, uint8_t *dst, uint16_t *dport, uint64_t *cookie)
{
	if (len < sizeof(struct inet_diag_msg)) return -1;
	struct inet_diag_msg m;
	memcpy(&m, msg, sizeof m);
	if (m.idiag_family != AF_INET && m.idiag_family != AF_INET6) return -1;
	*inode = m.idiag_inode;
	*uid = m.idiag_uid;
	*family = m.idiag_family == AF_INET ? 4 : 6;
	memcpy(src, m.id.idiag_src, 16);
	memcpy(dst, m.id.idiag_dst, 16);
	*sport = ntohs(m.id.idiag_sport);
	*dport = ntohs(m.id.idiag_dport);
	*cookie = (uint64_t)m.id.idiag_cookie[1] << 32 | m.id.idiag_cookie[0]; /* the kernel's socket cookie */
	return 0;
}

struct diag_hit { uint64_t inode; uint32_t uid; bool found; uint64_t cookie; };

/* One request: exact (a tuple) or a dump matched by local port. Returns 0, or -1 when the
 * table could not be read. */
static int diag_query(struct proc_attr *pa, int proto, int af, const uint8_t *src, uint16_t sport, const uint8_t *dst,
		      uint16_t dport, bool dump, const uint8_t *laddr, uint16_t lport, struct diag_hit *hit)
{
	struct {
		struct nlmsghdr nh;
		struct inet_diag_req_v2 r;
	} req;
	memset(&req, 0, sizeof req);
	req.nh.nlmsg_len = sizeof req;
	req.nh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	req.nh.nlmsg_seq = ++pa->seq;
	req.r.sdiag_family = (uint8_t)af;
	req.r.sdiag_protocol = (uint8_t)proto;
	req.r.idiag_states = ~0u;
	req.r.id.idiag_cookie[0] = req.r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if (!dump) {
		req.r.id.idiag_sport = htons(sport);
		req.r.id.idiag_dport = htons(dport);
		memcpy(req.r.id.idiag_src, src, af == AF_INET ? 4 : 16);
		memcpy(req.r.id.idiag_dst, dst, af == AF_INET ? 4 : 16);
	}
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };
	if (sendto(pa->diag, &req, sizeof req, 0, (struct sockaddr *)&nl, sizeof nl) < 0) return -1;
	size_t alen = af == AF_INET ? 4 : 16;
	static const uint8_t any[16];
	bool answered = false;
	for (;;) {
		ssize_t n = recv(pa->diag, pa->buf, sizeof pa->buf, 0);
		if (n < 0 && errno == EINTR) continue;
		if (n < 0) return -1;
		for (struct nlmsghdr *h = (struct nlmsghdr *)pa->buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			/* an earlier request's answer left unread is skipped: read on to this one's */
			if (h->nlmsg_seq != pa->seq) continue;
			answered = true;
			if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) return 0; /* ENOENT: none */
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) continue;
			uint64_t inode;
			uint32_t uid;
			int fam;
			uint8_t s[16], d[16];
			uint16_t sp, dp;
			uint64_t cookie;
			if (proc_parse_diag(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, &inode, &uid, &fam, s, &sp, d, &dp, &cookie) < 0)
				continue;
			if (!dump) {
				*hit = (struct diag_hit){ inode, uid, true, cookie };
				continue; /* read on to the end of the answer */
			}
			/* a socket bound to the local port, on its address or on any, not connected */
			if (!hit->found && sp == lport && dp == 0 && (!memcmp(s, laddr, alen) || !memcmp(s, any, alen)))
				*hit = (struct diag_hit){ inode, uid, true, cookie };
		}
		if (!dump && answered) return 0;
	}
}

/* The netlink proc connector, listening: exec, fork and exit as they happen. -1 with errno
 * when it cannot be (it exists only in the first network namespace, needs CAP_NET_ADMIN). */
static int open_connector(void)
{
	int fd = socket(PF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_CONNECTOR);
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = CN_IDX_PROC, .nl_pid = 0 };
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) goto fail;
	/* a netlink header, a connector header, the operation: built byte by byte */
	uint8_t msg[NLMSG_HDRLEN + sizeof(struct cn_msg) + sizeof(enum proc_cn_mcast_op)];
	memset(msg, 0, sizeof msg);
	struct nlmsghdr nh = { .nlmsg_len = sizeof msg, .nlmsg_type = NLMSG_DONE };
	struct cn_msg cn = { .id = { .idx = CN_IDX_PROC, .val = CN_VAL_PROC }, .len = sizeof(enum proc_cn_mcast_op) };
	enum proc_cn_mcast_op op = PROC_CN_MCAST_LISTEN;
	memcpy(msg, &nh, sizeof nh);
	memcpy(msg + NLMSG_HDRLEN, &cn, sizeof cn);
	memcpy(msg + NLMSG_HDRLEN + sizeof cn, &op, sizeof op);
	if (send(fd, msg, sizeof msg, 0) == (ssize_t)sizeof msg) return fd;
fail:;
	int e = errno;
	if (fd >= 0) close(fd);
	errno = e;
	return -1;
}

struct proc_attr *proc_attr_open(bool want_ebpf, char *note, size_t notelen, char *err, size_t errlen)
{
	if (notelen) note[0] = '\0';
	int diag = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (diag < 0) {
		snprintf(err, errlen, "the socket table (NETLINK_SOCK_DIAG): %s", strerror(errno));
		return NULL;
	}
	struct timeval tv = { .tv_sec = 1 };
	setsockopt(diag, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	struct proc_attr *pa = xcalloc(1, sizeof *pa);
	pa->diag = diag;
	pa->pcap = 1024; /* grows to 2 * PROC_MAX_TRACKED */
	pa->p = xcalloc(pa->pcap, sizeof *pa->p);
	pa->ino = xcalloc(INODE_MAP_CAP, sizeof *pa->ino);
	pa->cn = -1;
	char why[384];
	if (want_ebpf && (pa->bpf = ebpf_open(why, sizeof why))) {
		/* the kernel side records every exec, fork and exit itself: the connector would
		 * only have /proc read again at each process start */
	} else {
		size_t n = 0;
		if (want_ebpf) n = (size_t)snprintf(note, notelen, "no eBPF attribution (%s): short-lived processes may be missed; ", why);
		if (n >= notelen) n = notelen ? notelen - 1 : 0;
		if ((pa->cn = open_connector()) < 0)
			snprintf(note + n, notelen - n,
				 "no process events (the netlink proc connector: %s): new processes are found by reading /proc",
				 strerror(errno));
		else if (n >= 2)
			note[n - 2] = '\0'; /* no "; " after the last */
	}
	scan_proc(pa);
	return pa;
}

bool proc_attr_kernel(const struct proc_attr *pa) { return pa->bpf != NULL; }

void proc_attr_close(struct proc_attr *pa)
{
	if (!pa) return;
	ebpf_close(pa->bpf);
	close(pa->diag);
	if (pa->cn >= 0) close(pa->cn);
	free(pa->p);
	free(pa->ino);
	free(pa);
}

int proc_attr_fd(const struct proc_attr *pa) { return pa->cn; }

int proc_parse_cn(const void *msg, size_t len, pid_t *pid, pid_t *tgid)
{
	if (len < sizeof(struct cn_msg)) return -1;
	struct cn_msg cn;
	memcpy(&cn, msg, sizeof cn);
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC) return 0;
	if (len < sizeof cn + offsetof(struct proc_event, event_data) || cn.len > len - sizeof cn) return -1;
	struct proc_event ev;
	memset(&ev, 0, sizeof ev);
	memcpy(&ev, (const uint8_t *)msg + sizeof cn, cn.len < sizeof ev ? cn.len : sizeof ev);
	switch (ev.what) {
	case PROC_EVENT_FORK:
		*pid = ev.event_data.fork.child_pid;
		*tgid = ev.event_data.fork.child_tgid;
		return 1;
	case PROC_EVENT_EXEC:
		*pid = ev.event_data.exec.process_pid;
		*tgid = ev.event_data.exec.process_tgid;
		return 2;
	case PROC_EVENT_EXIT:
		*pid = ev.event_data.exit.process_pid;
		*tgid = ev.event_data.exit.process_tgid;
		return 3;
	default:
		return 0;
	}
}

void proc_attr_events(struct proc_attr *pa)
{
	if (pa->cn < 0) return;
	for (;;) {
		ssize_t n = recv(pa->cn, pa->buf, sizeof pa->buf, 0);
		if (n < 0 && errno == ENOBUFS) { /* events were lost: /proc is read again at the next miss */
			pa->resync = true;
			continue;
		}
		if (n <= 0) return;
		for (struct nlmsghdr *h = (struct nlmsghdr *)pa->buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			pid_t pid, tgid;
			int what = proc_parse_cn(NLMSG_DATA(h), h->nlmsg_len - NLMSG_HDRLEN, &pid, &tgid);
			if (what <= 0 || pid != tgid) continue; /* threads are their process */
			pa->st.events++;
			if (what == 3) {
				struct pent *e = pslot(pa, pid, false);
				if (e) {
					e->info.exited = true;
					e->exit_ns = now_ns();
				}
			} else {
				if (what == 1) { /* a new process: not the one that had this pid before */
					struct pent *e = pslot(pa, pid, false);
					if (e) e->known = false, e->info.start_ns = 0;
				}
				seen(pa, pid, what == 2);
				struct pent *e = pslot(pa, pid, false);
				if (e && what == 2) e->info.start_ns = now_ns();
			}
		}
	}
}

bool proc_attr_process(struct proc_attr *pa, pid_t pid, struct proc_info *out)
{
	struct pent *e = pslot(pa, pid, false);
	if (!e || !e->known) {
		seen(pa, pid, false);
		e = pslot(pa, pid, false);
	}
	if (!e || !e->known) return false;
	*out = e->info;
	return true;
}

static void load_local(struct proc_attr *pa)
{
	struct ifaddrs *ifa;
	pa->nlocal = 0;
	pa->local_ns = now_ns();
	if (getifaddrs(&ifa) < 0) return;
	for (struct ifaddrs *i = ifa; i && pa->nlocal < MAX_LOCAL_ADDRS; i = i->ifa_next) {
		if (!i->ifa_addr) continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			pa->local[pa->nlocal].family = 4;
			memcpy(pa->local[pa->nlocal++].addr, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, 4);
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			pa->local[pa->nlocal].family = 6;
			memcpy(pa->local[pa->nlocal++].addr, &((struct sockaddr_in6 *)i->ifa_addr)->sin6_addr, 16);
		}
	}
	freeifaddrs(ifa);
}

bool proc_attr_is_local(struct proc_attr *pa, int family, const uint8_t *addr)
{
	for (int pass = 0; pass < 2; pass++) {
		if (family == 4 && addr[0] == 127) return true;
		for (int i = 0; i < pa->nlocal; i++)
			if (pa->local[i].family == family && !memcmp(pa->local[i].addr, addr, family == 4 ? 4 : 16)) return true;
		if (pass == 0 && now_ns() - pa->local_ns < LOCAL_REFRESH_NS && pa->nlocal) return false;
		load_local(pa);
	}
	return false;
}

/* Joins the args the kernel side copied (NUL-separated) with spaces. */
static void join_args(char *dst, size_t cap, const char *args, size_t len)
{
	size_t n = len < cap - 1 ? len : cap - 1;
	memcpy(dst, args, n);
	while (n && dst[n - 1] == '\0') n--;
	for (size_t i = 0; i < n; i++)
		if (dst[i] == '\0') dst[i] = ' ';
	dst[n] = '\0';
}

/* When pid started, in CLOCK_BOOTTIME nanoseconds (/proc/PID/stat's 22nd field, in clock
 * ticks); -1 when it is gone. */
static int64_t started_ns(pid_t pid)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	if (read_small(path, buf, sizeof buf) < 0) return -1;
	const char *p = strrchr(buf, ')'); /* the comm may hold spaces and parentheses */
	if (!p) return -1;
	for (int field = 2; field < 22 && *p; p++)
		if (*p == ' ') field++;
	long hz = sysconf(_SC_CLK_TCK);
	return (int64_t)strtoull(p, NULL, 10) * (1000000000LL / (hz > 0 ? hz : 100));
}

/* What the kernel side recorded when the socket was made, connected or sent: its owner then,
 * and what that process ran. A process still there adds what /proc says (the executable's
 * resolved path, its cgroup), but only when it started before it owned the socket and has
 * not executed anything since: a pid reused is never taken for its predecessor. */
static bool from_kernel(struct proc_attr *pa, int proto, int family, const uint8_t *laddr, uint16_t lport,
			const uint8_t *raddr, uint16_t rport, struct proc_result *out)
{
	if (!pa->bpf) return false;
	struct attrib_flow f;
	bool other_netns;
	bool ports = attrib_has_ports((unsigned)proto);
	if (!ebpf_flow(pa->bpf, proto, family, laddr, ports ? lport : 0, raddr, ports ? rport : 0, &f, &other_netns) ||
	    !f.owner.tgid) /* made before the monitor, or by the kernel (accepted): the socket table knows */
		return false;
	struct proc_info *p = &out->proc;
	out->how = PH_KERNEL_EVENT;
	out->uid = f.owner.uid;
	out->cookie = f.cookie;
	out->other_netns = other_netns;
	p->pid = (pid_t)f.owner.tgid;
	p->uid = f.owner.uid;
	/* the sending thread's name until the process's is known (a thread may rename itself) */
	snprintf(p->name, sizeof p->name, "%.*s", (int)sizeof f.owner.comm, f.owner.comm);
	struct attrib_exec x;
	bool have_x = ebpf_exec(pa->bpf, f.owner.tgid, &x);
	if (have_x && x.exec_ns > f.owner.when_ns) return true; /* it ran something else since */
	if (have_x) {
		snprintf(p->name, sizeof p->name, "%.*s", (int)sizeof x.comm, x.comm);
		snprintf(p->exe, sizeof p->exe, "%.*s", (int)sizeof x.exe, x.exe);
		join_args(p->cmdline, sizeof p->cmdline, x.args, x.args_len < sizeof x.args ? x.args_len : sizeof x.args);
		p->netns = x.netns_ino;
		p->boot_start_ms = (int64_t)(x.start_ns / 10000000) * 10; /* in /proc's clock ticks */
		p->exe_dev = (uint64_t)makedev((unsigned)(x.dev >> 20), (unsigned)(x.dev & 0xfffff)); /* the kernel's dev_t, as stat says it */
		p->exe_ino = x.ino;
		p->exited = x.exited != 0;
		if (p->exited) return true;
	}
	int64_t start = started_ns(p->pid);
	if (start < 0 || start > (int64_t)f.owner.when_ns + 20000000LL) { /* gone, or a newer process */
		p->exited = true;
		return true;
	}
	proc_attr_events(pa);
	struct pent *e = pslot(pa, p->pid, false);
	if (!e || !e->known || e->info.exited) {
		seen(pa, p->pid, false);
		e = pslot(pa, p->pid, false);
	}
	if (e && e->known && !e->info.exited) {
		struct proc_info live = e->info; /* what /proc would not say (another user's, after a drop) stays */
		if (!live.cmdline[0]) snprintf(live.cmdline, sizeof live.cmdline, "%s", p->cmdline);
		if (!live.exe[0]) snprintf(live.exe, sizeof live.exe, "%s", p->exe);
		if (!live.netns) live.netns = p->netns;
		if (!live.exe_ino) live.exe_dev = p->exe_dev, live.exe_ino = p->exe_ino;
		*p = live;
	}
	return true;
}

bool proc_attr_lookup_kernel(struct proc_attr *pa, int proto, int family, const uint8_t *laddr, uint16_t lport,
			     const uint8_t *raddr, uint16_t rport, struct proc_result *out)
{
	memset(out, 0, sizeof *out);
	if (!from_kernel(pa, proto, family, laddr, lport, raddr, rport, out)) {
		memset(out, 0, sizeof *out);
		return false;
	}
	pa->st.lookups++;
	pa->st.kernel++;
	return true;
}

void proc_attr_lookup(struct proc_attr *pa, int proto, int family, const uint8_t *laddr, uint16_t lport,
		      const uint8_t *raddr, uint16_t rport, struct proc_result *out)
{
	memset(out, 0, sizeof *out);
	pa->st.lookups++;
	if (from_kernel(pa, proto, family, laddr, lport, raddr, rport, out)) {
		pa->st.kernel++;
		return;
	}
	if (proto != 6 && proto != 17) {
		out->why = pa->bpf ? PW_NO_RECORD : PW_NO_PORTS;
		pa->st.unknown++;
		return;
	}
	/* an IPv4 connection may be an IPv6 socket's (dual stack): asked both ways */
	uint8_t l6[16], r6[16];
	int af = family == 4 ? AF_INET : AF_INET6;
	struct diag_hit hit = { 0 };
	bool bound = false;
	int rc = 0;
	for (int pass = 0; pass < 2 && !hit.found && rc == 0; pass++) {
		const uint8_t *la = laddr, *ra = raddr;
		int qaf = af;
		if (pass == 1) {
			if (family != 4) break;
			static const uint8_t pre[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
			memcpy(l6, pre, 12);
			memcpy(l6 + 12, laddr, 4);
			memcpy(r6, pre, 12);
			memcpy(r6 + 12, raddr, 4);
			la = l6, ra = r6, qaf = AF_INET6;
		}
		/* TCP's exact lookup takes the local end as source; UDP's takes the packet's
		 * source, the remote end, as the kernel's receive path does */
		if (proto == 6) rc = diag_query(pa, proto, qaf, la, lport, ra, rport, false, NULL, 0, &hit);
		else rc = diag_query(pa, proto, qaf, ra, rport, la, lport, false, NULL, 0, &hit);
		if (!hit.found && rc == 0 && proto == 17)
			rc = diag_query(pa, proto, qaf, la, lport, ra, rport, false, NULL, 0, &hit);
		if (!hit.found && rc == 0) {
			rc = diag_query(pa, proto, qaf, NULL, 0, NULL, 0, true, la, lport, &hit);
			bound = hit.found;
		}
	}
	if (rc < 0) {
		out->why = PW_UNAVAILABLE;
		pa->st.unknown++;
		return;
	}
	if (!hit.found || !hit.inode) { /* TIME-WAIT sockets have no inode: their process closed them */
		out->why = PW_NO_SOCKET;
		pa->st.unknown++;
		return;
	}
	out->inode = hit.inode;
	out->uid = hit.uid;
	out->cookie = hit.cookie;
	proc_attr_events(pa); /* the processes started since the last look: the owner may be one */
	pid_t pid = owner_of(pa, hit.inode, hit.uid);
	struct pent *e = pid ? pslot(pa, pid, false) : NULL;
	if (!e || !e->known) {
		out->why = PW_NO_OWNER;
		pa->st.unknown++;
		return;
	}
	out->how = bound ? PH_SOCKET_BOUND : PH_SOCKET_EXACT;
	out->proc = e->info;
	if (bound) pa->st.bound++;
	else pa->st.exact++;
}

void proc_attr_stats(const struct proc_attr *pa, struct proc_stats *st) { *st = pa->st; }
