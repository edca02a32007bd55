/* tests/unit/test_live.c — live capture's descriptor for poll(2) (live_fd), which the egress
 * monitor will wait on beside its socket: not readable while there is nothing to take,
 * readable once a packet is in the ring, quiet again when it is drained, readable when the
 * capture stops. Captures on the loopback interface with a filter on a port of its own, so
 * needs root (or cap_net_raw); skipped otherwise. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "capture/capture.h"

static bool readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	return poll(&p, 1, ms) == 1 && (p.revents & POLLIN);
}

static void send_udp(uint16_t port, const char *msg)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(s >= 0);
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(sendto(s, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof to), (ssize_t)strlen(msg));
	close(s);
}

static void test_live_fd(void **state)
{
	(void)state;
	struct live_opts o = { .ifaces = { "lo" }, .nifs = 1, .bpf = "udp dst port 45679 and host 127.0.0.1", .ring_mb = 1 };
	char err[512];
	int why = 0;
	struct live *l = live_open(&o, err, sizeof err, &why);
	if (!l) {
		fprintf(stderr, "SKIP live_fd: %s\n", err);
		skip();
	}
	assert_int_equal(live_start(l, err, sizeof err), 0);
	int fd = live_fd(l);
	assert_false(readable(fd, 0));
	send_udp(45679, "pktscope live_fd");
	assert_true(readable(fd, 10000)); /* a bound for failing, not a timing: it comes in ms */
	struct pkt_meta m;
	const uint8_t *d;
	bool timed_out;
	assert_int_equal(live_next(l, &m, &d, 0, &timed_out), SRC_OK);
	assert_true(m.caplen >= 16 && memcmp(d + m.caplen - 16, "pktscope live_fd", 16) == 0);
	assert_int_equal(live_next(l, &m, &d, 0, &timed_out), SRC_EOF);
	assert_true(timed_out);
	assert_false(readable(fd, 0)); /* drained: quiet until the next packet */
	send_udp(45679, "pktscope live_fd");
	assert_true(readable(fd, 10000));
	live_stop(l);
	assert_true(readable(fd, 0));
	assert_int_equal(live_next(l, &m, &d, 0, &timed_out), SRC_OK); /* what the ring held */
	assert_int_equal(live_next(l, &m, &d, 0, &timed_out), SRC_EOF);
	assert_false(timed_out); /* stopped and drained */
	live_close(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(test_live_fd) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
