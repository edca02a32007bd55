/* egress/ebpf_linux.c — loads bpf/attrib.bpf.c (its skeleton is generated at build time),
 * attaches its socket programs to the root of the cgroup v2 hierarchy (every process's
 * sockets pass through them) and its process programs to the scheduler's raw tracepoints.
 * Links, not pinned attachments: they go away with the monitor, even after SIGKILL. */
#define _GNU_SOURCE
#include "egress/ebpf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#ifdef PKTSCOPE_EBPF
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdarg.h>

#include "attrib.skel.h"
#include "util/xalloc.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

struct ebpf {
	struct attrib_bpf *skel;
	struct bpf_link *links[16];
	int nlinks;
	int flows_fd, execs_fd;
	uint64_t netns;      /* this namespace's cookie */
};

static char libbpf_last[256]; /* libbpf's last warning: the kernel's reason for a refusal */

__attribute__((format(printf, 2, 0))) static int on_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG) return 0;
	char line[256];
	vsnprintf(line, sizeof line, fmt, ap);
	size_t n = strlen(line);
	while (n && (line[n - 1] == '\n' || line[n - 1] == ' ')) line[--n] = '\0';
	if (n) memcpy(libbpf_last, line, n + 1);
	return 0;
}

/* The root of the cgroup v2 hierarchy, opened: the mount of type cgroup2 in this mount
 * namespace's table, or else a mount of our own, detached at once (`ip netns exec` mounts a
 * fresh /sys without the cgroup mounts; the hierarchy mounted again is the same one). */
static int cgroup2_root(void)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (f) {
		char line[4096];
		while (fgets(line, sizeof line, f)) {
			/* id parent major:minor root mountpoint options [optional...] - type source super */
			char *sep = strstr(line, " - ");
			if (!sep || strncmp(sep + 3, "cgroup2 ", 8)) continue;
			char root[1024], mnt[1024];
			if (sscanf(line, "%*s %*s %*s %1023s %1023s", root, mnt) != 2 || strcmp(root, "/")) continue;
			int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (fd >= 0) {
				fclose(f);
				return fd;
			}
		}
		fclose(f);
	}
	char dir[] = "/tmp/pktscope-cgroup.XXXXXX";
	if (!mkdtemp(dir)) return -1;
	int fd = -1;
	if (mount("cgroup2", dir, "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) == 0) {
		fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		umount2(dir, MNT_DETACH);
	}
	rmdir(dir);
	return fd;
}

static bool attach(struct ebpf *e, struct bpf_link *l, const char *what, char *why, size_t whylen)
{
	if (!l) {
		snprintf(why, whylen, "attaching %s: %s", what, strerror(errno));
		return false;
	}
	e->links[e->nlinks++] = l;
	return true;
}

struct ebpf *ebpf_open(char *why, size_t whylen)
{
	libbpf_set_print(on_libbpf);
	libbpf_last[0] = '\0';
	int cgfd = cgroup2_root();
	if (cgfd < 0) {
		snprintf(why, whylen, "no cgroup v2 hierarchy is mounted, and mounting one failed: %s", strerror(errno));
		return NULL;
	}
	struct attrib_bpf *skel = attrib_bpf__open_and_load();
	if (!skel) {
		int err = errno;
		close(cgfd);
		snprintf(why, whylen, "loading the eBPF programs: %s%s%s", strerror(err), libbpf_last[0] ? ": " : "",
			 libbpf_last);
		return NULL;
	}
	struct ebpf *e = xcalloc(1, sizeof *e);
	e->skel = skel;
	bool ok = true;
	struct bpf_program *cgprogs[] = { skel->progs.sock_create, skel->progs.connect4, skel->progs.connect6,
					   skel->progs.sendmsg4, skel->progs.sendmsg6, skel->progs.skb_egress };
	for (size_t i = 0; ok && i < sizeof cgprogs / sizeof *cgprogs; i++)
		ok = attach(e, bpf_program__attach_cgroup(cgprogs[i], cgfd), bpf_program__name(cgprogs[i]), why, whylen);
	close(cgfd);
	static const char *const tps[] = { "sched_process_exec", "sched_process_fork", "sched_process_exit", "net_dev_queue" };
	struct bpf_program *tpprogs[] = { skel->progs.on_exec, skel->progs.on_fork, skel->progs.on_exit, skel->progs.dev_queue };
	for (size_t i = 0; ok && i < 4; i++)
		ok = attach(e, bpf_program__attach_raw_tracepoint(tpprogs[i], tps[i]), tps[i], why, whylen);
	e->flows_fd = bpf_map__fd(skel->maps.flows);
	e->execs_fd = bpf_map__fd(skel->maps.execs);
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socklen_t sl = sizeof e->netns;
	if (ok && (s < 0 || getsockopt(s, SOL_SOCKET, SO_NETNS_COOKIE, &e->netns, &sl) < 0)) {
		snprintf(why, whylen, "this kernel does not give network namespace cookies (SO_NETNS_COOKIE)");
		ok = false;
	}
	if (s >= 0) close(s);
	if (!ok) {
		ebpf_close(e);
		return NULL;
	}
	return e;
}

void ebpf_close(struct ebpf *e)
{
	if (!e) return;
	for (int i = 0; i < e->nlinks; i++) bpf_link__destroy(e->links[i]);
	attrib_bpf__destroy(e->skel);
	free(e);
}

bool ebpf_flow(struct ebpf *e, int proto, int family, const uint8_t *laddr, uint16_t lport, const uint8_t *raddr,
	       uint16_t rport, struct attrib_flow *out, bool *other_netns)
{
	struct attrib_flow_key k;
	memset(&k, 0, sizeof k);
	size_t al = family == 4 ? 4 : 16;
	memcpy(k.laddr, laddr, al);
	memcpy(k.raddr, raddr, al);
	k.lport = lport;
	k.rport = rport;
	k.family = (uint8_t)family;
	k.proto = (uint8_t)proto;
	k.netns = e->netns;
	*other_netns = false;
	if (bpf_map_lookup_elem(e->flows_fd, &k, out) == 0) return true;
	k.netns = 0; /* any namespace's: the last socket that sent this tuple */
	if (bpf_map_lookup_elem(e->flows_fd, &k, out) != 0) return false;
	*other_netns = true;
	return true;
}

bool ebpf_exec(struct ebpf *e, uint32_t tgid, struct attrib_exec *out)
{
	return bpf_map_lookup_elem(e->execs_fd, &tgid, out) == 0;
}

const char *ebpf_library(void) { return libbpf_version_string(); }

#else /* built without libbpf */

struct ebpf { int unused; };

struct ebpf *ebpf_open(char *why, size_t whylen)
{
	snprintf(why, whylen, "pktscope was built without eBPF (libbpf, clang and bpftool were not found)");
	return NULL;
}
void ebpf_close(struct ebpf *e) { (void)e; }
bool ebpf_flow(struct ebpf *e, int proto, int family, const uint8_t *laddr, uint16_t lport, const uint8_t *raddr,
	       uint16_t rport, struct attrib_flow *out, bool *other_netns)
{
	(void)e, (void)proto, (void)family, (void)laddr, (void)lport, (void)raddr, (void)rport, (void)out;
	*other_netns = false;
	return false;
}
bool ebpf_exec(struct ebpf *e, uint32_t tgid, struct attrib_exec *out)
{
	(void)e, (void)tgid, (void)out;
	return false;
}
const char *ebpf_library(void) { return NULL; }
#endif
