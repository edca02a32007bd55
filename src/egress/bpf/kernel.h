/* egress/bpf/kernel.h — the few kernel structures attrib.bpf.c reads, declared by field
 * name only: CO-RE relocates each access to the running kernel's layout, so nothing here
 * depends on the headers of the kernel it was built on. */
#ifndef PKTSCOPE_EGRESS_BPF_KERNEL_H
#define PKTSCOPE_EGRESS_BPF_KERNEL_H

#define CORE __attribute__((preserve_access_index))

struct ns_common { unsigned int inum; } CORE;
struct net { struct ns_common ns; unsigned long long net_cookie; } CORE;
typedef struct { struct net *net; } possible_net_t;
struct sock_common { unsigned short skc_family; possible_net_t skc_net; } CORE;
struct sock { struct sock_common __sk_common; } CORE;
struct sk_buff { struct sock *sk; unsigned int len; unsigned char *data; } CORE;
struct nsproxy { struct net *net_ns; } CORE;
typedef struct { unsigned int val; } kuid_t;
typedef struct { unsigned int val; } kgid_t;
struct cred { kuid_t uid; kgid_t gid; } CORE;
struct mm_struct { unsigned long arg_start, arg_end; } CORE;
struct super_block { unsigned int s_dev; } CORE;
struct inode { unsigned long i_ino; struct super_block *i_sb; } CORE;
struct file { struct inode *f_inode; } CORE;
struct linux_binprm { const char *filename; struct file *file; } CORE;
struct task_struct {
	int pid, tgid;
	unsigned long long start_boottime;
	char comm[16];
	struct task_struct *real_parent;
	const struct cred *real_cred;
	struct mm_struct *mm;
	struct nsproxy *nsproxy;
} CORE;

#endif
