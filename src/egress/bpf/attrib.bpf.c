/* egress/bpf/attrib.bpf.c — the kernel side of attribution: who made each socket and which
 * tuple each socket sent, recorded in process context, so a process that lives 5 ms is
 * still named after it is gone.
 *
 *   cgroup/sock_create        a socket is made: its creator (process context)
 *   cgroup/connect4|6         a socket connects: the process that connects it
 *   cgroup/sendmsg4|6         an unconnected datagram is sent: the process that sends it
 *   cgroup_skb/egress         a packet leaves a socket: its tuple → the socket and its owner,
 *                             keyed with its network namespace and without (written once per
 *                             tuple; a lookup otherwise)
 *   raw_tracepoint net_dev_queue
 *                             a frame a packet socket (AF_PACKET) hands to a device, in the
 *                             sender's context: its IP tuple → the sender (no socket hook sees it)
 *   raw_tracepoint sched_process_exec|fork|exit
 *                             what each process runs (path, arguments, file), kept after exit
 *
 * Every program allows what it sees: this is a monitor, never a filter. */
#include <linux/bpf.h>
#include <stdbool.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "attrib.h"
#include "kernel.h"

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ATTRIB_MAX_SOCKS);
	__type(key, __u64);
	__type(value, struct attrib_owner);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ATTRIB_MAX_FLOWS);
	__type(key, struct attrib_flow_key);
	__type(value, struct attrib_flow);
} flows SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, ATTRIB_MAX_EXECS);
	__type(key, __u32);
	__type(value, struct attrib_exec);
} execs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct attrib_exec);
} scratch SEC(".maps");

/* The process running now, as a socket's owner. */
static __always_inline void current_owner(struct attrib_owner *o)
{
	__u64 pt = bpf_get_current_pid_tgid(), ug = bpf_get_current_uid_gid();
	o->tgid = pt >> 32;
	o->pid = (__u32)pt;
	o->uid = (__u32)ug;
	o->gid = ug >> 32;
	o->when_ns = bpf_ktime_get_boot_ns();
	bpf_get_current_comm(o->comm, sizeof o->comm);
}

static __always_inline void own(__u64 cookie)
{
	struct attrib_owner o = { 0 };
	current_owner(&o);
	struct attrib_owner *old = bpf_map_lookup_elem(&socks, &cookie);
	if (old && old->tgid == o.tgid) return;
	bpf_map_update_elem(&socks, &cookie, &o, BPF_ANY);
}

/* The addresses and protocol of an IP header (its first 20 bytes for IPv4, 40 for IPv6,
 * copied to h), and where its transport header starts; false for a later fragment. */
static __always_inline bool ip_tuple(const __u8 *h, bool v6, struct attrib_flow_key *k, __u32 *l4)
{
	if (v6) {
		k->family = 6;
		k->proto = h[6];
		*l4 = 40;
		__builtin_memcpy(k->laddr, h + 8, 16);
		__builtin_memcpy(k->raddr, h + 24, 16);
		return true;
	}
	if ((h[6] & 0x1f) || h[7]) return false; /* a later fragment: no ports */
	k->family = 4;
	k->proto = h[9];
	*l4 = (h[0] & 0x0f) * 4;
	__builtin_memcpy(k->laddr, h + 12, 4);
	__builtin_memcpy(k->raddr, h + 16, 4);
	return true;
}

/* Records the tuple's socket and owner, keyed with its namespace and without (found from a
 * namespace that sees the traffic routed or bridged). */
static __always_inline void put_flow(struct attrib_flow_key *k, const struct attrib_flow *v)
{
	bpf_map_update_elem(&flows, k, v, BPF_ANY);
	k->netns = 0;
	bpf_map_update_elem(&flows, k, v, BPF_ANY);
}

SEC("cgroup/sock_create")
int sock_create(struct bpf_sock *sk)
{
	own(bpf_get_socket_cookie(sk));
	return 1;
}

/* connect and unconnected sends: the process doing it owns the socket from then on */
#define OWNER_HOOK(section, name)                    \
	SEC(section) int name(struct bpf_sock_addr *ctx) \
	{                                                \
		own(bpf_get_socket_cookie(ctx));         \
		return 1;                                \
	}
OWNER_HOOK("cgroup/connect4", connect4)
OWNER_HOOK("cgroup/connect6", connect6)
OWNER_HOOK("cgroup/sendmsg4", sendmsg4)
OWNER_HOOK("cgroup/sendmsg6", sendmsg6)

SEC("cgroup_skb/egress")
int skb_egress(struct __sk_buff *skb)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	if (!cookie) return 1;
	struct attrib_flow_key k = { 0 };
	__u8 h[40];
	__u32 l4;
	bool v6 = skb->protocol == bpf_htons(0x86dd);
	if (!v6 && skb->protocol != bpf_htons(0x0800)) return 1;
	if (bpf_skb_load_bytes(skb, 0, h, v6 ? 40 : 20) || !ip_tuple(h, v6, &k, &l4)) return 1;
	if (attrib_has_ports(k.proto)) {
		__u16 p[2];
		if (bpf_skb_load_bytes(skb, l4, p, sizeof p)) return 1;
		k.lport = bpf_ntohs(p[0]);
		k.rport = bpf_ntohs(p[1]);
	}
	k.netns = bpf_get_netns_cookie(skb);
	struct attrib_flow *f = bpf_map_lookup_elem(&flows, &k);
	if (f && f->cookie == cookie) return 1;
	struct attrib_owner *o = bpf_map_lookup_elem(&socks, &cookie);
	/* a socket with no owner on record (the kernel's own: an ICMP echo reply on loopback
	 * has its request's tuple) never replaces a program's */
	if (!o && f && f->owner.tgid) return 1;
	struct attrib_flow v = { .cookie = cookie, .netns = k.netns };
	if (o) v.owner = *o;
	put_flow(&k, &v);
	return 1;
}

/* The tuple of an IPv4 or IPv6 packet at p (kernel memory), as the flow table keys it;
 * false when it is neither. */
static __always_inline bool tuple_at(const unsigned char *p, __u16 ethertype, struct attrib_flow_key *k)
{
	__u8 h[40];
	__u32 l4;
	bool v6 = ethertype == 0x86dd;
	if (!v6 && ethertype != 0x0800) return false;
	if (bpf_probe_read_kernel(h, v6 ? 40 : 20, p) || !ip_tuple(h, v6, k, &l4)) return false;
	if (attrib_has_ports(k->proto)) {
		__u16 ports[2];
		if (bpf_probe_read_kernel(ports, sizeof ports, p + (l4 & 0x3c))) return false;
		k->lport = bpf_ntohs(ports[0]);
		k->rport = bpf_ntohs(ports[1]);
	}
	return true;
}

SEC("raw_tracepoint/net_dev_queue")
int dev_queue(struct bpf_raw_tracepoint_args *ctx)
{
	struct sk_buff *skb = (struct sk_buff *)ctx->args[0];
	struct sock *sk = BPF_CORE_READ(skb, sk);
	if (!sk || BPF_CORE_READ(sk, __sk_common.skc_family) != 17) return 0; /* AF_PACKET only */
	const unsigned char *d = BPF_CORE_READ(skb, data);
	__u8 eth[18];
	if (bpf_probe_read_kernel(eth, sizeof eth, d)) return 0;
	__u16 type = (__u16)eth[12] << 8 | eth[13];
	__u32 off = 14;
	if (type == 0x8100 || type == 0x88a8) { /* one VLAN tag */
		type = (__u16)eth[16] << 8 | eth[17];
		off = 18;
	}
	struct attrib_flow_key k = { 0 };
	if (!tuple_at(d + off, type, &k)) return 0;
	k.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
	struct attrib_flow *f = bpf_map_lookup_elem(&flows, &k);
	if (f && f->owner.tgid == bpf_get_current_pid_tgid() >> 32) return 0;
	struct attrib_flow v = { .cookie = 0, .netns = k.netns };
	current_owner(&v.owner);
	put_flow(&k, &v);
	return 0;
}

static __always_inline void exec_of(struct attrib_exec *e, struct task_struct *t)
{
	e->tgid = BPF_CORE_READ(t, tgid);
	e->ppid = BPF_CORE_READ(t, real_parent, tgid);
	e->uid = BPF_CORE_READ(t, real_cred, uid.val);
	e->netns_ino = BPF_CORE_READ(t, nsproxy, net_ns, ns.inum);
	e->start_ns = BPF_CORE_READ(t, start_boottime);
	BPF_CORE_READ_STR_INTO(&e->comm, t, comm);
}

SEC("raw_tracepoint/sched_process_exec")
int on_exec(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	struct linux_binprm *b = (struct linux_binprm *)ctx->args[2];
	__u32 zero = 0;
	struct attrib_exec *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!e) return 0;
	__builtin_memset(e, 0, sizeof *e);
	exec_of(e, t);
	e->exec_ns = bpf_ktime_get_boot_ns();
	e->ino = BPF_CORE_READ(b, file, f_inode, i_ino);
	e->dev = BPF_CORE_READ(b, file, f_inode, i_sb, s_dev);
	const char *fn = BPF_CORE_READ(b, filename);
	bpf_probe_read_kernel_str(e->exe, sizeof e->exe, fn);
	unsigned long a0 = BPF_CORE_READ(t, mm, arg_start), a1 = BPF_CORE_READ(t, mm, arg_end);
	unsigned long n = a1 > a0 ? a1 - a0 : 0;
	if (n > ATTRIB_ARGS) n = ATTRIB_ARGS;
	if (n && bpf_probe_read_user(e->args, n & (ATTRIB_ARGS - 1 | ATTRIB_ARGS), (const void *)a0) == 0)
		e->args_len = n;
	bpf_map_update_elem(&execs, &e->tgid, e, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_fork")
int on_fork(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid)) return 0; /* a thread */
	__u32 ptgid = BPF_CORE_READ(parent, tgid), zero = 0;
	struct attrib_exec *pe = bpf_map_lookup_elem(&execs, &ptgid);
	struct attrib_exec *e = bpf_map_lookup_elem(&scratch, &zero);
	if (!pe || !e) return 0; /* a parent from before the monitor: the child is read from /proc */
	__builtin_memcpy(e, pe, sizeof *e);
	exec_of(e, child);
	e->ppid = ptgid;
	e->exec_ns = bpf_ktime_get_boot_ns(); /* the image is the parent's; the process starts now */
	e->exited = 0;
	e->exit_ns = 0;
	bpf_map_update_elem(&execs, &e->tgid, e, BPF_ANY);
	return 0;
}

SEC("raw_tracepoint/sched_process_exit")
int on_exit(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *t = (struct task_struct *)ctx->args[0];
	if (BPF_CORE_READ(t, pid) != BPF_CORE_READ(t, tgid)) return 0;
	__u32 tgid = BPF_CORE_READ(t, tgid);
	struct attrib_exec *e = bpf_map_lookup_elem(&execs, &tgid);
	if (e) {
		e->exited = 1;
		e->exit_ns = bpf_ktime_get_boot_ns();
	}
	return 0;
}
