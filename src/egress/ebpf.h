/* egress/ebpf.h — the kernel side of attribution, seen from user space (ebpf_linux.c):
 * load and attach bpf/attrib.bpf.c, then ask its maps. Used by proc_linux.c (and
 * `pktscope --version`, for the library's version).
 * Whether it works is decided at run time, by loading and attaching; the reason it does
 * not is kept for the user. Built without libbpf, ebpf_open always says so. */
#ifndef PKTSCOPE_EGRESS_EBPF_H
#define PKTSCOPE_EGRESS_EBPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "egress/bpf/attrib.h"

struct ebpf;
/* NULL with the reason in why when the programs cannot be loaded or attached. */
struct ebpf *ebpf_open(char *why, size_t whylen);
void ebpf_close(struct ebpf *e);
/* The socket that sent proto from local to remote and its owner: first as a socket of the
 * caller's network namespace, then of any (*other_netns set). false when the kernel side
 * never saw the tuple leave. For ICMP echo, lport is the identifier and rport 0. */
bool ebpf_flow(struct ebpf *e, int proto, int family, const uint8_t *laddr, uint16_t lport,
	       const uint8_t *raddr, uint16_t rport, struct attrib_flow *out, bool *other_netns);
/* What process tgid last executed (kept after it exits); false when not recorded. */
bool ebpf_exec(struct ebpf *e, uint32_t tgid, struct attrib_exec *out);
/* libbpf's version ("v1.1"), or NULL when built without it. */
const char *ebpf_library(void);

#endif
