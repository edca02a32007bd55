/* tests/egress/scen.c — the traffic of the egress scenarios that no everyday program makes
 * on demand: the system calls a monitor must see through (sendmmsg/recvmmsg, sendfile,
 * splice, io_uring), raw IP, frames injected through a packet socket, many short TCP
 * connections and a slow drip; and the servers they talk to. Every mode moves an exact
 * number of bytes and exits 0, or says why not and exits 1. TCP is paced (see pace()).
 *
 *   pktscope-scen tcp-sink PORT                 accept, read to EOF, close (IPv4 and IPv6)
 *   pktscope-scen udp-echo PORT                 send each datagram back
 *   pktscope-scen sendmmsg HOST PORT N SIZE     N datagrams in batches, their echoes by recvmmsg
 *   pktscope-scen udp HOST PORT N SIZE          N datagrams, one sendto each
 *   pktscope-scen sendfile HOST PORT BYTES      a file sent with sendfile(2)
 *   pktscope-scen splice HOST PORT BYTES        a file through a pipe with splice(2)
 *   pktscope-scen uring HOST PORT BYTES         connect and send through io_uring
 *   pktscope-scen raw HOST PROTO N SIZE         N raw IPv4 packets of protocol PROTO
 *   pktscope-scen afpacket IF SRC DST MAC PORT N SIZE
 *                                               N UDP frames built by hand, sent on IF
 *   pktscope-scen tcp-conns HOST PORT N         N connections of 100 bytes each
 *   pktscope-scen drip HOST PORT SECONDS        100 bytes every 100 ms on one connection */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#ifdef HAVE_LIBURING
#include <liburing.h>
#endif

static void die(const char *what)
{
	fprintf(stderr, "pktscope-scen: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long num(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (*end || v < 0) {
		fprintf(stderr, "pktscope-scen: not a number: %s\n", s);
		exit(2);
	}
	return v;
}

static struct addrinfo *resolve(const char *host, const char *port, int type)
{
	struct addrinfo hints = { .ai_socktype = type, .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	int rc = getaddrinfo(host, port, &hints, &ai);
	if (rc) {
		fprintf(stderr, "pktscope-scen: %s: %s\n", host, gai_strerror(rc));
		exit(2);
	}
	return ai;
}

/* TCP is paced at 300 Mbit/s (the kernel's pacing, SO_MAX_PACING_RATE; PKTSCOPE_SCEN_RATE
 * sets another, in bytes a second): the scenarios
 * measure attribution, not whether a capture on a small machine keeps up with a flood. */
#define PACING_BYTES_PER_S 37500000u

static void pace(int fd)
{
	const char *env = getenv("PKTSCOPE_SCEN_RATE"); /* bytes a second, for slower builds (ASan) */
	unsigned rate = env ? (unsigned)strtoul(env, NULL, 10) : PACING_BYTES_PER_S;
	if (setsockopt(fd, SOL_SOCKET, SO_MAX_PACING_RATE, &rate, sizeof rate) < 0) die("SO_MAX_PACING_RATE");
}

static int connected(const char *host, const char *port, int type)
{
	struct addrinfo *ai = resolve(host, port, type);
	int fd = socket(ai->ai_family, ai->ai_socktype, 0);
	if (fd >= 0 && type == SOCK_STREAM) pace(fd);
	if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) die("connect");
	freeaddrinfo(ai);
	return fd;
}

static int listening(const char *port, int type)
{
	int fd = socket(AF_INET6, type, 0), off = 0, on = 1;
	if (fd < 0) die("socket");
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons((uint16_t)num(port)) };
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0) die("bind");
	if (type == SOCK_STREAM && listen(fd, 512) < 0) die("listen");
	return fd;
}

/* A file of n bytes in memory (for sendfile and splice). */
static int payload_file(long n)
{
	int fd = memfd_create("scen", 0);
	if (fd < 0 || ftruncate(fd, n) < 0) die("memfd");
	return fd;
}

/* Ends a TCP client: no more to send, then the server's close. */
static void finish(int fd)
{
	char buf[4096];
	shutdown(fd, SHUT_WR);
	while (read(fd, buf, sizeof buf) > 0) {}
	close(fd);
}

static void write_all(int fd, const char *b, size_t n)
{
	while (n) {
		ssize_t w = write(fd, b, n);
		if (w < 0) die("write");
		b += w;
		n -= (size_t)w;
	}
}

__attribute__((noreturn)) static void tcp_sink(const char *port)
{
	int l = listening(port, SOCK_STREAM);
	signal(SIGCHLD, SIG_IGN);
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) continue;
		if (fork() == 0) {
			char buf[65536];
			while (read(c, buf, sizeof buf) > 0) {}
			close(c);
			_exit(0);
		}
		close(c);
	}
}

__attribute__((noreturn)) static void udp_echo(const char *port)
{
	int fd = listening(port, SOCK_DGRAM);
	char buf[65536];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fl);
		if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
}

static int mmsg(const char *host, const char *port, long n, long size)
{
	int fd = connected(host, port, SOCK_DGRAM);
	enum { BATCH = 32 };
	static char bufs[BATCH][65536];
	struct mmsghdr msgs[BATCH];
	struct iovec iov[BATCH];
	for (long sent = 0; sent < n;) {
		int k = (int)(n - sent < BATCH ? n - sent : BATCH);
		for (int i = 0; i < k; i++) {
			iov[i] = (struct iovec){ bufs[i], (size_t)size };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		int r = sendmmsg(fd, msgs, (unsigned)k, 0);
		if (r < 0) die("sendmmsg");
		sent += r;
		usleep(2000); /* the echoes are not dropped by a full receive buffer */
	}
	long got = 0;
	struct timeval to = { 1, 0 }; /* recvmmsg's own timeout is only looked at between datagrams */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &to, sizeof to);
	while (got < n) {
		for (int i = 0; i < BATCH; i++) {
			iov[i] = (struct iovec){ bufs[i], sizeof bufs[i] };
			msgs[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &iov[i], .msg_iovlen = 1 } };
		}
		int r = recvmmsg(fd, msgs, BATCH, MSG_WAITFORONE, NULL);
		if (r <= 0) break;
		got += r;
	}
	close(fd);
	printf("%ld %ld\n", n, got); /* sent, echoes received */
	return 0;
}

static int udp(const char *host, const char *port, long n, long size)
{
	int fd = connected(host, port, SOCK_DGRAM);
	static char buf[65536];
	for (long i = 0; i < n; i++) {
		if (send(fd, buf, (size_t)size, 0) < 0) die("send");
		if (i % 64 == 63) usleep(1000);
	}
	close(fd);
	return 0;
}

static int do_sendfile(const char *host, const char *port, long bytes)
{
	int f = payload_file(bytes), fd = connected(host, port, SOCK_STREAM);
	off_t off = 0;
	while (off < bytes)
		if (sendfile(fd, f, &off, (size_t)(bytes - off)) < 0) die("sendfile");
	finish(fd);
	return 0;
}

static int do_splice(const char *host, const char *port, long bytes)
{
	int f = payload_file(bytes), fd = connected(host, port, SOCK_STREAM), p[2];
	if (pipe(p) < 0) die("pipe");
	loff_t off = 0;
	while (off < bytes) {
		ssize_t in = splice(f, &off, p[1], NULL, 65536, SPLICE_F_MOVE);
		if (in <= 0) die("splice in");
		while (in > 0) {
			ssize_t out = splice(p[0], NULL, fd, NULL, (size_t)in, SPLICE_F_MOVE);
			if (out <= 0) die("splice out");
			in -= out;
		}
	}
	finish(fd);
	return 0;
}

static int uring(const char *host, const char *port, long bytes)
{
#ifdef HAVE_LIBURING
	struct io_uring ring;
	int rc = io_uring_queue_init(8, &ring, 0);
	if (rc < 0) {
		errno = -rc;
		die("io_uring_queue_init");
	}
	struct addrinfo *ai = resolve(host, port, SOCK_STREAM);
	int fd = socket(ai->ai_family, SOCK_STREAM, 0);
	if (fd < 0) die("socket");
	pace(fd);
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);
	io_uring_prep_connect(sqe, fd, ai->ai_addr, ai->ai_addrlen);
	io_uring_submit(&ring);
	struct io_uring_cqe *cqe;
	if (io_uring_wait_cqe(&ring, &cqe) < 0 || cqe->res < 0) {
		errno = cqe ? -cqe->res : EIO;
		die("io_uring connect");
	}
	io_uring_cqe_seen(&ring, cqe);
	static char buf[65536];
	for (long left = bytes; left > 0;) {
		size_t k = left < (long)sizeof buf ? (size_t)left : sizeof buf;
		sqe = io_uring_get_sqe(&ring);
		io_uring_prep_send(sqe, fd, buf, k, 0);
		io_uring_submit(&ring);
		if (io_uring_wait_cqe(&ring, &cqe) < 0 || cqe->res <= 0) {
			errno = cqe && cqe->res < 0 ? -cqe->res : EIO;
			die("io_uring send");
		}
		left -= cqe->res;
		io_uring_cqe_seen(&ring, cqe);
	}
	io_uring_queue_exit(&ring);
	freeaddrinfo(ai);
	finish(fd);
	return 0;
#else
	(void)host, (void)port, (void)bytes;
	fprintf(stderr, "pktscope-scen: built without liburing\n");
	return 3;
#endif
}

static int raw(const char *host, long proto, long n, long size)
{
	int fd = socket(AF_INET, SOCK_RAW, (int)proto);
	if (fd < 0) die("raw socket");
	struct sockaddr_in sa = { .sin_family = AF_INET };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) die("address");
	static char buf[65536];
	for (long i = 0; i < n; i++)
		if (sendto(fd, buf, (size_t)size, 0, (struct sockaddr *)&sa, sizeof sa) < 0) die("sendto");
	close(fd);
	return 0;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	for (size_t i = 0; i + 1 < n; i += 2) s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1) s += (uint32_t)p[n - 1] << 8;
	while (s >> 16) s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static int afpacket(char **a)
{
	const char *ifname = a[0];
	long port = num(a[4]), n = num(a[5]), size = num(a[6]);
	int fd = socket(AF_PACKET, SOCK_RAW, 0);
	if (fd < 0) die("packet socket");
	struct ifreq ifr;
	memset(&ifr, 0, sizeof ifr);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0) die("SIOCGIFHWADDR");
	uint8_t frame[1514];
	if (size > (long)sizeof frame - 42) size = (long)sizeof frame - 42;
	memset(frame, 0, sizeof frame);
	unsigned m[6];
	if (sscanf(a[3], "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) die("MAC");
	for (int i = 0; i < 6; i++) frame[i] = (uint8_t)m[i];
	memcpy(frame + 6, ifr.ifr_hwaddr.sa_data, 6);
	frame[12] = 0x08;
	uint8_t *ip = frame + 14, *u = ip + 20;
	size_t iplen = 20 + 8 + (size_t)size;
	ip[0] = 0x45;
	ip[2] = (uint8_t)(iplen >> 8);
	ip[3] = (uint8_t)iplen;
	ip[8] = 64;
	ip[9] = 17;
	if (inet_pton(AF_INET, a[1], ip + 12) != 1 || inet_pton(AF_INET, a[2], ip + 16) != 1) die("address");
	uint16_t c = csum(ip, 20);
	ip[10] = (uint8_t)(c >> 8);
	ip[11] = (uint8_t)c;
	u[0] = 0xc3; /* source port 50000 */
	u[1] = 0x50;
	u[2] = (uint8_t)(port >> 8);
	u[3] = (uint8_t)port;
	u[4] = (uint8_t)((8 + size) >> 8);
	u[5] = (uint8_t)(8 + size); /* checksum 0: none, as IPv4 UDP allows */
	struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(ifname), .sll_halen = 6 };
	memcpy(sll.sll_addr, frame, 6);
	for (long i = 0; i < n; i++)
		if (sendto(fd, frame, 14 + iplen, 0, (struct sockaddr *)&sll, sizeof sll) < 0) die("sendto");
	close(fd);
	return 0;
}

static int tcp_conns(const char *host, const char *port, long n)
{
	char msg[100];
	memset(msg, 'x', sizeof msg);
	for (long i = 0; i < n; i++) {
		int fd = connected(host, port, SOCK_STREAM);
		write_all(fd, msg, sizeof msg);
		finish(fd);
	}
	return 0;
}

static int drip(const char *host, const char *port, long seconds)
{
	int fd = connected(host, port, SOCK_STREAM);
	char msg[100];
	memset(msg, 'd', sizeof msg);
	for (long i = 0; i < seconds * 10; i++) {
		write_all(fd, msg, sizeof msg);
		usleep(100000);
	}
	finish(fd);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN);
	const char *m = argc > 1 ? argv[1] : "";
	if (!strcmp(m, "tcp-sink") && argc == 3) tcp_sink(argv[2]);
	if (!strcmp(m, "udp-echo") && argc == 3) udp_echo(argv[2]);
	if (!strcmp(m, "sendmmsg") && argc == 6) return mmsg(argv[2], argv[3], num(argv[4]), num(argv[5]));
	if (!strcmp(m, "udp") && argc == 6) return udp(argv[2], argv[3], num(argv[4]), num(argv[5]));
	if (!strcmp(m, "sendfile") && argc == 5) return do_sendfile(argv[2], argv[3], num(argv[4]));
	if (!strcmp(m, "splice") && argc == 5) return do_splice(argv[2], argv[3], num(argv[4]));
	if (!strcmp(m, "uring") && argc == 5) return uring(argv[2], argv[3], num(argv[4]));
	if (!strcmp(m, "raw") && argc == 6) return raw(argv[2], num(argv[3]), num(argv[4]), num(argv[5]));
	if (!strcmp(m, "afpacket") && argc == 9) return afpacket(argv + 2);
	if (!strcmp(m, "tcp-conns") && argc == 5) return tcp_conns(argv[2], argv[3], num(argv[4]));
	if (!strcmp(m, "drip") && argc == 5) return drip(argv[2], argv[3], num(argv[4]));
	fprintf(stderr, "usage: see tests/egress/scen.c\n");
	return 2;
}
