/* cli/cmd_list_interfaces.c — `pktscope list-interfaces`: what libpcap can capture on,
 * with descriptions, addresses and up/running flags. */
#include "cli/cli.h"
#include "util/sbuf.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static void print_addr(const struct sockaddr *sa, const struct sockaddr *mask)
{
	char buf[INET6_ADDRSTRLEN];
	int bits = 0;
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, buf, sizeof buf);
		if (mask) bits = __builtin_popcount(((const struct sockaddr_in *)mask)->sin_addr.s_addr);
	} else if (sa->sa_family == AF_INET6) {
		inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, buf, sizeof buf);
		if (mask) {
			const uint8_t *m = ((const struct sockaddr_in6 *)mask)->sin6_addr.s6_addr;
			for (int i = 0; i < 16; i++) bits += __builtin_popcount(m[i]);
		}
	} else {
		return;
	}
	if (mask) printf("      %s/%d\n", buf, bits);
	else printf("      %s\n", buf);
}

static int run_list_interfaces(int argc, char **argv)
{
	(void)argv;
	if (argc > 1) {
		cli_error("list-interfaces takes no arguments");
		return EXIT_USAGE;
	}
	char err[PCAP_ERRBUF_SIZE];
	pcap_if_t *all;
	if (pcap_findalldevs(&all, err) < 0) {
		cli_error("cannot list interfaces: %s", err);
		return EXIT_INPUT;
	}
	int i = 0;
	for (pcap_if_t *d = all; d; d = d->next) {
		printf("%d. %s", ++i, d->name);
		char flags[96];
		struct sbuf sb;
		sb_init_fixed(&sb, flags, sizeof flags - 1);
		if (d->flags & PCAP_IF_UP) sb_puts(&sb, ", Up");
		if (d->flags & PCAP_IF_RUNNING) sb_puts(&sb, ", Running");
		if (d->flags & PCAP_IF_LOOPBACK) sb_puts(&sb, ", Loopback");
		if (sb.len) printf(" [%s]", sb_cstr(&sb) + 2);
		if (d->description) printf(" (%s)", d->description);
		putchar('\n');
		for (pcap_addr_t *a = d->addresses; a; a = a->next)
			if (a->addr) print_addr(a->addr, a->netmask);
	}
	if (!i) puts("no interfaces found (capturing may need root or cap_net_raw: see README)");
	pcap_freealldevs(all);
	return EXIT_OK;
}

const struct command cmd_list_interfaces = { "list-interfaces", "list capture interfaces", run_list_interfaces };
