/* tests/unit/test_pcapng.c — the pcapng reader on crafted files: sections of both byte
 * orders, interfaces with different link types and timestamp resolutions, comments, and
 * the broken lengths a hostile file uses. */
#include "helpers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "capture/capture.h"
#include "capture/writer.h"

struct blob {
	uint8_t b[4096];
	size_t n;
	bool be;
};

static void put32(struct blob *x, uint32_t v)
{
	if (x->be) v = __builtin_bswap32(v);
	memcpy(x->b + x->n, &v, 4);
	x->n += 4;
}

static void put16(struct blob *x, uint16_t v)
{
	if (x->be) v = __builtin_bswap16(v);
	memcpy(x->b + x->n, &v, 2);
	x->n += 2;
}

static void shb(struct blob *x, bool be)
{
	x->be = be;
	put32(x, 0x0A0D0D0A);
	put32(x, 28);
	put32(x, 0x1A2B3C4D);
	put16(x, 1);
	put16(x, 0);
	put32(x, 0xffffffff);
	put32(x, 0xffffffff);
	put32(x, 28);
}

static void idb(struct blob *x, uint16_t linktype, int tsresol)
{
	uint32_t len = tsresol >= 0 ? 20 + 8 + 4 : 20;
	put32(x, 1);
	put32(x, len);
	put16(x, linktype);
	put16(x, 0);
	put32(x, 0);
	if (tsresol >= 0) {
		put16(x, 9);
		put16(x, 1);
		x->b[x->n] = (uint8_t)tsresol;
		memset(x->b + x->n + 1, 0, 3);
		x->n += 4;
		put32(x, 0); /* opt_endofopt */
	}
	put32(x, len);
}

static void epb(struct blob *x, uint32_t ifid, uint64_t ts, const uint8_t *data, uint32_t caplen,
		const char *comment)
{
	uint32_t pad = (4 - caplen % 4) % 4;
	uint32_t clen = comment ? (uint32_t)strlen(comment) : 0;
	uint32_t opts = comment ? 4 + clen + (4 - clen % 4) % 4 + 4 : 0;
	uint32_t len = 32 + caplen + pad + opts;
	put32(x, 6);
	put32(x, len);
	put32(x, ifid);
	put32(x, (uint32_t)(ts >> 32));
	put32(x, (uint32_t)ts);
	put32(x, caplen);
	put32(x, caplen);
	memcpy(x->b + x->n, data, caplen);
	memset(x->b + x->n + caplen, 0, pad);
	x->n += caplen + pad;
	if (comment) {
		put16(x, 1);
		put16(x, (uint16_t)clen);
		memcpy(x->b + x->n, comment, clen);
		memset(x->b + x->n + clen, 0, (4 - clen % 4) % 4);
		x->n += clen + (4 - clen % 4) % 4;
		put32(x, 0);
	}
	put32(x, len);
}

static struct pcapng_reader *open_blob(struct blob *x, FILE **f)
{
	*f = fmemopen(x->b, x->n, "rb");
	assert_non_null(*f);
	uint8_t m[4];
	assert_int_equal(fread(m, 1, 4, *f), 4);
	return pcapng_open(*f, m);
}

static const uint8_t frame[] = { 0x45, 0, 0, 20, 0, 0, 0, 0, 64, 6, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8 };

static void test_sections_interfaces_resolutions(void **state)
{
	(void)state;
	static struct blob x;
	x.n = 0;
	shb(&x, false);
	idb(&x, 1, 9);    /* Ethernet, nanoseconds */
	idb(&x, 101, -1); /* raw IP, default microseconds */
	epb(&x, 1, 1500000001ull * 1000000 + 250000, frame, sizeof frame, "hello");
	epb(&x, 0, 1500000002ull * 1000000000 + 7, frame, sizeof frame, NULL);
	shb(&x, true);    /* a second, big-endian section with its own interface table */
	idb(&x, 229, 3);  /* IPv6, milliseconds */
	epb(&x, 0, 1500000003ull * 1000 + 9, frame, sizeof frame, NULL);

	FILE *f;
	struct pcapng_reader *r = open_blob(&x, &f);
	struct pkt_meta m;
	const uint8_t *d;
	assert_int_equal(pcapng_next(r, &m, &d), SRC_OK);
	assert_int_equal(m.linktype, 101);
	assert_int_equal(m.ts_sec, 1500000001);
	assert_int_equal(m.ts_nsec, 250000000);
	assert_int_equal(m.ts_digits, 6);
	assert_int_equal(m.comment_len, 5);
	assert_memory_equal(m.comment, "hello", 5);
	assert_memory_equal(d, frame, sizeof frame);
	assert_int_equal(pcapng_next(r, &m, &d), SRC_OK);
	assert_int_equal(m.linktype, 1);
	assert_int_equal(m.ts_sec, 1500000002);
	assert_int_equal(m.ts_nsec, 7);
	assert_int_equal(m.ts_digits, 9);
	assert_int_equal(pcapng_next(r, &m, &d), SRC_OK);
	assert_int_equal(m.linktype, 229);
	assert_int_equal(m.ifindex, 0);
	assert_int_equal(m.ts_sec, 1500000003);
	assert_int_equal(m.ts_nsec, 9000000);
	assert_int_equal(pcapng_next(r, &m, &d), SRC_EOF);
	pcapng_close(r);
	fclose(f);
}

static enum src_status read_all(struct blob *x, const char **why)
{
	FILE *f;
	struct pcapng_reader *r = open_blob(x, &f);
	struct pkt_meta m;
	const uint8_t *d;
	enum src_status st;
	while ((st = pcapng_next(r, &m, &d)) == SRC_OK) {}
	static char msg[256];
	snprintf(msg, sizeof msg, "%s", pcapng_error(r));
	*why = msg;
	pcapng_close(r);
	fclose(f);
	return st;
}

static void test_hostile_lengths(void **state)
{
	(void)state;
	static struct blob x;
	const char *why;
	/* a block length that is not a multiple of 4 */
	x.n = 0;
	shb(&x, false);
	idb(&x, 1, -1);
	size_t at = x.n;
	epb(&x, 0, 0, frame, sizeof frame, NULL);
	memcpy(x.b + at + 4, "\x2d\x00\x00\x00", 4);
	assert_int_equal(read_all(&x, &why), SRC_ERROR);
	assert_non_null(strstr(why, "bad block length"));
	/* a 4 GiB block: refused before any allocation */
	memcpy(x.b + at + 4, "\xfc\xff\xff\xff", 4);
	assert_int_equal(read_all(&x, &why), SRC_ERROR);
	assert_non_null(strstr(why, "bad block length"));
	/* a captured length longer than its block */
	x.n = 0;
	shb(&x, false);
	idb(&x, 1, -1);
	at = x.n;
	epb(&x, 0, 0, frame, sizeof frame, NULL);
	memcpy(x.b + at + 20, "\x00\x10\x00\x00", 4);
	assert_int_equal(read_all(&x, &why), SRC_ERROR);
	assert_non_null(strstr(why, "exceeds its block"));
	/* a packet on an interface that was never described */
	x.n = 0;
	shb(&x, false);
	epb(&x, 3, 0, frame, sizeof frame, NULL);
	assert_int_equal(read_all(&x, &why), SRC_ERROR);
	assert_non_null(strstr(why, "interface 3"));
	/* a file cut in the middle of a block */
	x.n = 0;
	shb(&x, false);
	idb(&x, 1, -1);
	epb(&x, 0, 0, frame, sizeof frame, NULL);
	x.n -= 10;
	assert_int_equal(read_all(&x, &why), SRC_ERROR);
	assert_non_null(strstr(why, "middle of a block"));
}

/* Our writer's blocks read back by our reader: interfaces with their names and link
 * types, nanosecond times, a comment, a statistics block in between (skipped). */
static void test_writer_round_trip(void **state)
{
	(void)state;
	char path[] = "/tmp/pktscope-test-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	close(fd);
	char err[256];
	struct pcapng_writer *w = pcapng_writer_open(path, "pktscope test", err, sizeof err);
	assert_non_null(w);
	assert_int_equal(pcapng_writer_add_interface(w, "eth0", LT_ETHERNET, 0, "tcp port 80", err, sizeof err), 0);
	assert_int_equal(pcapng_writer_add_interface(w, "tun0", LT_RAW, 1500, NULL, err, sizeof err), 1);
	static const uint8_t a[] = { 1, 2, 3, 4, 5 }, b[] = { 0x45, 0, 0, 20 };
	struct pkt_meta m = { .ts_sec = 1700000000, .ts_nsec = 123456789, .caplen = sizeof a, .wirelen = 60 };
	assert_int_equal(pcapng_writer_packet(w, 0, &m, a, "hello", 5, "pktscope: note", err, sizeof err), 0);
	assert_int_equal(pcapng_writer_stats(w, 0, 1700000001, 0, 10, 2, err, sizeof err), 0);
	m = (struct pkt_meta){ .ts_sec = 1700000002, .ts_nsec = 1, .caplen = sizeof b, .wirelen = sizeof b };
	assert_int_equal(pcapng_writer_packet(w, 1, &m, b, NULL, 0, NULL, err, sizeof err), 0);
	assert_int_equal(pcapng_writer_packet(w, 2, &m, b, NULL, 0, NULL, err, sizeof err), -1); /* no such interface */
	assert_int_equal(pcapng_writer_close(w, err, sizeof err), 0);

	struct pkt_source *s = src_open_file(path, err, sizeof err);
	assert_non_null(s);
	const uint8_t *data;
	assert_int_equal(src_next(s, &m, &data), SRC_OK);
	assert_int_equal(m.linktype, LT_ETHERNET);
	assert_string_equal(m.ifname, "eth0");
	assert_int_equal(m.ts_sec, 1700000000);
	assert_int_equal(m.ts_nsec, 123456789);
	assert_int_equal(m.ts_digits, 9);
	assert_int_equal(m.caplen, 5);
	assert_int_equal(m.wirelen, 60);
	assert_memory_equal(data, a, 5);
	assert_int_equal(m.comment_len, 5);
	assert_memory_equal(m.comment, "hello", 5);
	assert_int_equal(src_next(s, &m, &data), SRC_OK);
	assert_int_equal(m.linktype, LT_RAW);
	assert_string_equal(m.ifname, "tun0");
	assert_int_equal(m.ts_nsec, 1);
	assert_int_equal(m.comment_len, 0);
	assert_int_equal(src_next(s, &m, &data), SRC_EOF);
	src_close(s);
	unlink(path);
}

static const char *ring_path(void *ctx, uint32_t seq) { return pwriter_ring_path(ctx, seq); }
static uint32_t ring_newest(void *ctx) { return pwriter_ring_newest(ctx); }

/* Ring files read as one capture while they are written: every packet once, in order,
 * across the files; offsets name the file; a file the ring removed is an error to read
 * again, and a reader that starts later begins at the oldest file still there. */
static void test_ring_chain(void **state)
{
	(void)state;
	char dir[] = "/tmp/pktscope-ring-XXXXXX", path[64];
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/r.pcapng", dir);
	struct packet_writer ws = { .path = path, .pcapng = true };
	assert_int_equal(pwriter_ring_option(&ws, "filesize:1"), 0); /* 1000 bytes a file */
	assert_int_equal(pwriter_ring_option(&ws, "files:3"), 0);
	char err[256];
	assert_int_equal(pwriter_open(&ws, LT_ETHERNET, err, sizeof err), 0);
	struct src_files files = { ring_path, ring_newest, &ws };
	struct pkt_source *s = src_open_chain(&files, 1);
	src_set_tail(s, true);
	uint8_t pkt[200] = { 0 };
	struct pkt_meta m = { .caplen = sizeof pkt, .wirelen = sizeof pkt, .linktype = LT_ETHERNET, .ifname = "eth0" };
	const uint8_t *data;
	uint64_t first_off = 0;
	int got = 0;
	for (int i = 0; i < 40; i++) {
		pkt[0] = (uint8_t)i;
		assert_int_equal(pwriter_packet(&ws, &m, pkt, NULL), 0);
		assert_int_equal(pwriter_flush(&ws), 0);
		if (i % 3 == 2) /* the reader keeps up, a few packets behind */
			while (src_next(s, &m, &data) == SRC_OK) {
				assert_int_equal(data[0], got);
				if (got == 0) first_off = m.offset;
				got++;
			}
		m.caplen = m.wirelen = sizeof pkt;
	}
	while (src_next(s, &m, &data) == SRC_OK) assert_int_equal(data[0], got++);
	assert_int_equal(got, 40);
	assert_true(ws.seq > 3);
	assert_int_equal(src_chain_file(first_off), 1);
	assert_int_equal(src_chain_file(m.offset), ws.seq);
	/* the newest is read again; the first file is gone */
	assert_int_equal(src_read_at(s, m.offset, &m, &data), SRC_OK);
	assert_int_equal(data[0], 39);
	assert_int_equal(src_read_at(s, first_off, &m, &data), SRC_ERROR);
	assert_non_null(strstr(src_error(s), "ring file 1 was removed"));
	src_close(s);
	/* a reader from the oldest file still there: the last three files' packets */
	s = src_open_chain(&files, ws.seq - 2);
	int n = 0, last = -1;
	while (src_next(s, &m, &data) == SRC_OK) {
		assert_true(data[0] > last);
		last = data[0];
		n++;
	}
	assert_int_equal(last, 39);
	assert_true(n > 0 && n < 40);
	src_close(s);
	/* one from file 1 skips the removed files */
	s = src_open_chain(&files, 1);
	int n2 = 0;
	while (src_next(s, &m, &data) == SRC_OK) n2++;
	assert_int_equal(n2, n);
	src_close(s);
	for (uint32_t k = 1; k <= ws.seq; k++)
		if (pwriter_ring_path(&ws, k)) unlink(pwriter_ring_path(&ws, k));
	assert_int_equal(pwriter_close(&ws, LT_ETHERNET), 0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sections_interfaces_resolutions),
		cmocka_unit_test(test_hostile_lengths),
		cmocka_unit_test(test_writer_round_trip),
		cmocka_unit_test(test_ring_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
