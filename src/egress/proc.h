/* egress/proc.h — which program owns a connection: the platform's attribution behind one
 * interface (proc_linux.c). Never a guess: a result says how it was matched, or why it
 * could not be.
 *
 * Linux with eBPF (ebpf.h, bpf/attrib.bpf.c): the kernel records, in process context, who
 * made, connected or sent on each socket and which tuple each socket sent, and what each
 * process executed; a lookup reads that first, so a process that lived 5 ms is named.
 *
 * Linux without eBPF, and for sockets the kernel side did not see made (those older than
 * the monitor, accepted ones): the kernel's socket table (NETLINK_SOCK_DIAG: tuple → socket
 * inode, uid, cookie) and an inode → process index. Without eBPF the index is kept current by
 * the netlink proc connector (exec, fork, exit) rather than by reading all of /proc on a
 * miss: a miss scans the file descriptors of the processes known, those of the socket's uid
 * first and the newest first. The connector exists only in the first network namespace (and
 * needs CAP_NET_ADMIN); with eBPF it is not used (the kernel side records the same), and a
 * miss reads /proc's list again (at most every 2 ms), only the new processes' details. A
 * process's executable is opened when it is first seen (its exec), so its identity (path,
 * device, inode) survives its exit. */
#ifndef PKTSCOPE_EGRESS_PROC_H
#define PKTSCOPE_EGRESS_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define PROC_NAME_MAX 16    /* the kernel's comm, NUL included */
#define PROC_EXE_MAX 512
#define PROC_CMDLINE_MAX 512
#define PROC_MAX_TRACKED 16384 /* processes known at once (about 1.2 kB each); past it exited ones go */

enum proc_how {
	PH_UNKNOWN,         /* see enum proc_why */
	PH_SOCKET_EXACT,    /* the socket table had this connection's socket */
	PH_SOCKET_BOUND,    /* an unconnected socket bound to the local port (a UDP client, a listener) */
	PH_KERNEL_EVENT,    /* eBPF: the kernel said so when the socket was made, connected or sent */
};
enum proc_why {
	PW_NONE,
	PW_NO_SOCKET,       /* no socket has this tuple (closed, or in TIME-WAIT, before it was seen) */
	PW_NO_OWNER,        /* the socket exists but no process holds it (its owner exited) */
	PW_NOT_LOCAL,       /* neither end is an address of this machine */
	PW_NO_PORTS,        /* a protocol without ports (ICMP, raw IP), without eBPF */
	PW_NO_RECORD,       /* eBPF saw no socket send it: the kernel's own (an ICMP error), or
			     * a raw or ICMP socket older than the monitor */
	PW_UNAVAILABLE,     /* the socket table cannot be read here */
	PW_REPLAY,          /* read from a capture file: no processes to ask */
};
const char *proc_how_str(enum proc_how h);
const char *proc_why_str(enum proc_why w);

struct proc_info {
	pid_t pid;
	uid_t uid;
	char name[PROC_NAME_MAX];
	char exe[PROC_EXE_MAX];
	uint64_t exe_dev, exe_ino;      /* the executable file itself, read at exec (0 unknown) */
	char cmdline[PROC_CMDLINE_MAX]; /* arguments joined by spaces */
	uint64_t netns;                 /* network namespace inode, 0 when unknown */
	char cgroup[128];               /* the process's cgroup v2 path (a container's) */
	int64_t start_ns;               /* when it was first seen */
	int64_t boot_start_ms;          /* when it started (its fork), ms since boot in 10 ms steps; with the pid,
					 * one process among all that had the pid; 0 when unknown */
	bool exited;
};

struct proc_result {
	enum proc_how how;
	enum proc_why why;              /* when how is PH_UNKNOWN */
	uint64_t inode;                 /* the socket, 0 when none */
	uid_t uid;                      /* the socket's owner (known even when the process is not) */
	uint64_t cookie;                /* the socket's cookie, when the kernel side gave it */
	bool other_netns;               /* the socket is another network namespace's */
	struct proc_info proc;          /* when how is not PH_UNKNOWN */
};

struct proc_attr;
/* Opens the kernel side (eBPF, when want_ebpf and it loads and attaches), the socket table
 * and the proc connector (the connector needs CAP_NET_ADMIN; without it processes are found
 * by their descriptors alone); what is missing is said in *note. NULL with the reason in
 * err when the socket table cannot be read at all. */
struct proc_attr *proc_attr_open(bool want_ebpf, char *note, size_t notelen, char *err, size_t errlen);
/* Each executable opened when a process is first seen (at its exec, with the connector) is
 * handed to fn, the descriptor fn's to keep or close: ident.h hashes the very file that ran
 * through it, never a path opened again later. */
void proc_attr_on_exe(struct proc_attr *pa, void (*fn)(void *ctx, int fd), void *ctx);
/* Whether the kernel side (eBPF) is attributing; when it could not load, *note said why. */
bool proc_attr_kernel(const struct proc_attr *pa);
void proc_attr_close(struct proc_attr *pa);
/* A descriptor to poll for process events (-1 when there is none), and the events it has
 * (proc_attr_lookup reads them too, before it looks for a socket's owner). */
int proc_attr_fd(const struct proc_attr *pa);
void proc_attr_events(struct proc_attr *pa);
/* Who owns the connection proto (6 or 17) between local and remote (family 4 or 6;
 * addresses 4 or 16 bytes). */
void proc_attr_lookup(struct proc_attr *pa, int proto, int family, const uint8_t *laddr, uint16_t lport,
		      const uint8_t *raddr, uint16_t rport, struct proc_result *out);
/* The kernel side's record alone, in any network namespace (for traffic routed or bridged
 * through this machine, whose client may be a process in a container here); false when it
 * has none or there is no kernel side. */
bool proc_attr_lookup_kernel(struct proc_attr *pa, int proto, int family, const uint8_t *laddr, uint16_t lport,
			     const uint8_t *raddr, uint16_t rport, struct proc_result *out);
/* A process by pid (from the table, or read now). false when unknown. */
bool proc_attr_process(struct proc_attr *pa, pid_t pid, struct proc_info *out);
/* Whether addr is an address of one of this namespace's interfaces (refreshed on a miss,
 * at most once a second). */
bool proc_attr_is_local(struct proc_attr *pa, int family, const uint8_t *addr);

struct proc_stats { uint64_t lookups, kernel, exact, bound, unknown, fd_scans, events, evicted; };
void proc_attr_stats(const struct proc_attr *pa, struct proc_stats *st);

/* Parsing, exposed for the unit tests: a SOCK_DIAG answer (inet_diag_msg) into inode, uid
 * and the socket's cookie; 0, or -1 when the message is short or not one. */
int proc_parse_diag(const void *msg, size_t len, uint64_t *inode, uint32_t *uid, int *family, uint8_t *src,
		    uint16_t *sport, uint8_t *dst, uint16_t *dport, uint64_t *cookie);
/* A proc connector message: its event (1 fork, 2 exec, 3 exit, 0 other, -1 malformed) and
 * the process it is about. */
int proc_parse_cn(const void *msg, size_t len, pid_t *pid, pid_t *tgid);

#endif
