/* fuzz/fuzz_netlink.c — libFuzzer harness for the kernel messages the egress monitor parses:
 * a NETLINK_SOCK_DIAG answer (inet_diag_msg) and a proc connector event, each from the
 * input's bytes at every length. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "egress/proc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t buf[4096];
	if (size > sizeof buf) size = sizeof buf;
	memcpy(buf, data, size); /* aligned, as the kernel's messages are */
	uint64_t inode;
	uint32_t uid;
	int family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
	uint64_t cookie;
	proc_parse_diag(buf, size, &inode, &uid, &family, src, &sport, dst, &dport, &cookie);
	pid_t pid, tgid;
	proc_parse_cn(buf, size, &pid, &tgid);
	return 0;
}
