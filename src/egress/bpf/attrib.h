/* egress/bpf/attrib.h — what the kernel side of attribution (attrib.bpf.c) records, in the
 * layout both sides share: fixed-width fields, explicit padding, no pointers. */
#ifndef PKTSCOPE_EGRESS_BPF_ATTRIB_H
#define PKTSCOPE_EGRESS_BPF_ATTRIB_H

#include <linux/types.h>

#define ATTRIB_COMM 16
#define ATTRIB_PATH 256
#define ATTRIB_ARGS 256
#define ATTRIB_MAX_SOCKS 65536   /* sockets whose creator is remembered */
#define ATTRIB_MAX_FLOWS 65536   /* tuples whose socket is remembered */
#define ATTRIB_MAX_EXECS 8192    /* processes whose exec is remembered (about 600 B each) */

/* A socket's owner: the process that created it, or the last one that connected or sent
 * on it. */
struct attrib_owner {
	__u32 tgid, pid, uid, gid;
	__u64 when_ns;            /* CLOCK_BOOTTIME */
	char comm[ATTRIB_COMM];
};

/* Whether proto's tuples carry ports (TCP, UDP, SCTP, UDP-Lite); the others (ICMP, raw IP)
 * are one flow per address pair, as in the flow table. */
static inline int attrib_has_ports(unsigned proto)
{
	return proto == 6 || proto == 17 || proto == 132 || proto == 136;
}

/* A tuple as its local end sent it: addresses in network order (IPv4 in the first four
 * bytes), ports in host order. */
struct attrib_flow_key {
	__u64 netns;              /* the socket's network namespace cookie, 0 when unknown */
	__u8 laddr[16], raddr[16];
	__u16 lport, rport;
	__u8 family, proto;       /* family 4 or 6 */
	__u8 pad[2];
};

struct attrib_flow {
	__u64 cookie;             /* the socket */
	__u64 netns;              /* its network namespace cookie */
	struct attrib_owner owner;/* tgid 0: the socket was made before the monitor, or in the kernel (accept) */
};

/* A process's exec: what it runs, with what, as whom. Kept after its exit (LRU). */
struct attrib_exec {
	__u32 tgid, ppid, uid, exited;
	__u64 exec_ns, exit_ns;   /* CLOCK_BOOTTIME: its exec (or fork, for a child that did not exec), its exit */
	__u64 ino, dev;           /* the executable file */
	__u64 start_ns;           /* the process's start (its fork), CLOCK_BOOTTIME: /proc's starttime */
	__u32 netns_ino, args_len;
	char comm[ATTRIB_COMM];
	char exe[ATTRIB_PATH];    /* the path given to execve */
	char args[ATTRIB_ARGS];   /* NUL-separated, args_len bytes */
};

#endif
