/* tests/unit/test_flow.c — the flow table (canonical keys, collisions, growth, eviction,
 * the cap, retired stream numbers) and TCP analysis on crafted segment sequences:
 * reordering, retransmission, duplicate ACKs, keep-alives, sequence wrap-around. */
#include "helpers.h"

#include "flow/flow.h"

static const uint8_t A[4] = { 10, 0, 0, 1 }, B[4] = { 10, 0, 0, 2 };

static int evicted;
static void count_evict(void *ctx, const struct flow *f)
{
	(void)ctx;
	(void)f;
	evicted++;
}

static void test_key_is_canonical(void **state)
{
	(void)state;
	struct flow_key k1, k2;
	int d1, d2;
	flow_key_make(&k1, 4, 6, A, 1234, B, 80, &d1);
	flow_key_make(&k2, 4, 6, B, 80, A, 1234, &d2);
	assert_memory_equal(&k1, &k2, sizeof k1);
	assert_int_not_equal(d1, d2);
}

static void test_insert_lookup_grow_and_cap(void **state)
{
	(void)state;
	struct flow_limits l;
	flow_limits_default(&l);
	l.max_flows = 5000;
	evicted = 0;
	struct flow_table *t = flow_table_new(&l, count_evict, NULL);
	struct flow_key k;
	int dir;
	bool created;
	/* 20000 flows from one /16 (the tcpdump address-cache trap): the table grows, stays
	 * at its cap, and evicts the least recently used ones, reporting each. */
	for (uint32_t i = 0; i < 20000; i++) {
		uint8_t a[4] = { 10, 0, (uint8_t)(i >> 8), (uint8_t)i };
		flow_key_make(&k, 4, 17, a, 5000, B, 53, &dir);
		flow_lookup_or_insert(t, &k, (int64_t)i, &created);
		assert_true(created);
	}
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.flows_now, 5000);
	assert_int_equal(st.flows_evicted_cap, 15000);
	assert_int_equal(evicted, 15000);
	assert_true(st.buckets >= 4096);
	/* the most recent one is still there, the first one is not */
	uint8_t last[4] = { 10, 0, (uint8_t)(19999 >> 8), (uint8_t)19999 };
	flow_key_make(&k, 4, 17, last, 5000, B, 53, &dir);
	flow_lookup_or_insert(t, &k, 20000, &created);
	assert_false(created);
	flow_table_free(t);
	assert_int_equal(evicted, 20000); /* freeing reports the rest */
}

static void test_idle_expiry_and_retired_stream(void **state)
{
	(void)state;
	struct flow_limits l;
	flow_limits_default(&l);
	l.idle_ns = 1000;
	struct flow_table *t = flow_table_new(&l, NULL, NULL);
	struct flow_key k;
	int dir;
	bool created;
	flow_key_make(&k, 4, 17, A, 1, B, 2, &dir);
	struct flow *f = flow_lookup_or_insert(t, &k, 0, &created);
	f->stream = flow_next_stream(t, 17);
	flow_expire(t, 500);
	flow_lookup_or_insert(t, &k, 600, &created);
	assert_false(created);
	flow_expire(t, 5000);
	struct flow_stats st;
	flow_table_stats(t, &st);
	assert_int_equal(st.flows_now, 0);
	assert_int_equal(st.flows_evicted_idle, 1);
	assert_int_equal(flow_retired_stream(t, &k), 0); /* the 5-tuple keeps its number */
	flow_table_free(t);
}

/* A TCP conversation driven through the real decoder with a tracker. */
struct conv {
	struct flow_tracker *tr;
	uint64_t frame;
	int64_t t_ns;
	uint8_t buf[128];
};

static struct packet *seg(struct conv *c, bool from_a, uint32_t seq, uint32_t ack, uint8_t flags,
			  uint16_t win, uint16_t len, int64_t dt_us)
{
	static struct packet p;
	c->t_ns += dt_us * 1000;
	uint8_t *b = c->buf;
	memset(b, 0, sizeof c->buf);
	b[0] = 0x45;
	b[2] = 0;
	b[3] = (uint8_t)(40 + len);
	b[8] = 64;
	b[9] = 6;
	memcpy(b + 12, from_a ? A : B, 4);
	memcpy(b + 16, from_a ? B : A, 4);
	uint8_t *t = b + 20;
	t[0] = from_a ? 0x04 : 0x00; t[1] = from_a ? 0xd2 : 0x50; /* 1234 <-> 80 */
	t[2] = from_a ? 0x00 : 0x04; t[3] = from_a ? 0x50 : 0xd2;
	t[4] = (uint8_t)(seq >> 24); t[5] = (uint8_t)(seq >> 16); t[6] = (uint8_t)(seq >> 8); t[7] = (uint8_t)seq;
	t[8] = (uint8_t)(ack >> 24); t[9] = (uint8_t)(ack >> 16); t[10] = (uint8_t)(ack >> 8); t[11] = (uint8_t)ack;
	t[12] = 0x50;
	t[13] = flags;
	t[14] = (uint8_t)(win >> 8);
	t[15] = (uint8_t)win;
	dissect_init();
	struct pkt_meta m = { .number = ++c->frame, .caplen = 40u + len, .wirelen = 40u + len, .linktype = LT_RAW,
			      .ts_sec = c->t_ns / 1000000000, .ts_nsec = (uint32_t)(c->t_ns % 1000000000), .ts_digits = 6 };
	p.tracker = flow_tracker_iface(c->tr);
	packet_begin(&p, &m, b);
	dissect_frame(&p);
	return &p;
}

#define SYN 0x02
#define ACK 0x10
#define PSH 0x08
#define FIN 0x01

static void test_relative_numbers_and_streams(void **state)
{
	(void)state;
	struct conv c = { .tr = flow_tracker_new(NULL, NULL, NULL) };
	struct packet *p = seg(&c, true, 1000, 0, SYN, 64240, 0, 0);
	assert_int_equal(fu(p, "tcp.stream"), 0);
	assert_int_equal(fu(p, "tcp.seq"), 0);
	assert_int_equal(fu(p, "tcp.seq_raw"), 1000);
	p = seg(&c, false, 5000, 1001, SYN | ACK, 65160, 0, 100);
	assert_int_equal(fu(p, "tcp.seq"), 0);
	assert_int_equal(fu(p, "tcp.ack"), 1);
	p = seg(&c, true, 1001, 5001, ACK, 500, 0, 100);
	assert_int_equal(fu(p, "tcp.seq"), 1);
	assert_int_equal(fu(p, "tcp.ack"), 1);
	assert_true(has(p, "tcp.analysis.initial_rtt"));
	/* a new SYN on the same ports with another ISN is a new stream */
	p = seg(&c, true, 900000, 0, SYN, 64240, 0, 100);
	assert_int_equal(fu(p, "tcp.stream"), 1);
	assert_non_null(strstr(info(p), "[TCP Port numbers reused]"));
	flow_tracker_free(c.tr);
}

static void test_retransmission_dupack_reorder(void **state)
{
	(void)state;
	struct conv c = { .tr = flow_tracker_new(NULL, NULL, NULL) };
	seg(&c, true, 100, 0, SYN, 1000, 0, 0);
	seg(&c, false, 900, 101, SYN | ACK, 1000, 0, 1000);
	seg(&c, true, 101, 901, ACK, 1000, 0, 1000);
	seg(&c, true, 101, 901, PSH | ACK, 1000, 10, 1000);
	struct packet *p = seg(&c, false, 901, 111, ACK, 1000, 0, 1000);
	assert_int_equal(fu(p, "tcp.analysis.acks_frame"), 4);
	assert_true(has(p, "tcp.analysis.ack_rtt"));
	/* the same data again a long time later: a retransmission */
	p = seg(&c, true, 101, 901, PSH | ACK, 1000, 10, 500000);
	assert_true(has(p, "tcp.analysis.retransmission"));
	assert_non_null(strstr(info(p), "[TCP Spurious Retransmission]")); /* it was acked already */
	/* more data, then the receiver repeats its ACK of 111 twice: duplicates #1 and #2
	 * of the ACK in frame 5 */
	seg(&c, true, 111, 901, PSH | ACK, 1000, 10, 1000);
	p = seg(&c, false, 901, 111, ACK, 1000, 0, 1000);
	assert_true(has(p, "tcp.analysis.duplicate_ack"));
	assert_int_equal(fu(p, "tcp.analysis.duplicate_ack_num"), 1);
	assert_int_equal(fu(p, "tcp.analysis.duplicate_ack_frame"), 5);
	p = seg(&c, false, 901, 111, ACK, 1000, 0, 1000);
	assert_int_equal(fu(p, "tcp.analysis.duplicate_ack_num"), 2);
	assert_non_null(strstr(info(p), "[TCP Dup ACK 5#2] "));
	struct flow_stats fs;
	flow_table_stats(flow_tracker_table(c.tr), &fs);
	assert_true(fs.unacked_now > 0); /* segments 111..121 not yet acknowledged */
	/* data beyond the next expected byte: a segment is missing; then the missing one
	 * arrives right after: out of order */
	p = seg(&c, true, 131, 901, PSH | ACK, 1000, 10, 1000);
	assert_true(has(p, "tcp.analysis.lost_segment"));
	p = seg(&c, true, 121, 901, PSH | ACK, 1000, 10, 100);
	assert_true(has(p, "tcp.analysis.out_of_order"));
	assert_false(has(p, "tcp.analysis.retransmission"));
	flow_tracker_finish(c.tr);
	flow_table_stats(flow_tracker_table(c.tr), &fs);
	assert_int_equal(fs.unacked_now, 0); /* the table's account goes back to zero */
	flow_tracker_free(c.tr);
}

static void test_keepalive_is_not_a_retransmission(void **state)
{
	(void)state;
	struct conv c = { .tr = flow_tracker_new(NULL, NULL, NULL) };
	seg(&c, true, 100, 0, SYN, 1000, 0, 0);
	seg(&c, false, 900, 101, SYN | ACK, 1000, 0, 1000);
	seg(&c, true, 101, 901, ACK, 1000, 0, 1000);
	/* one byte at next-1 after a long silence, as Linux keep-alives are */
	struct packet *p = seg(&c, true, 100, 901, ACK, 1000, 1, 60000000);
	assert_true(has(p, "tcp.analysis.keep_alive"));
	assert_false(has(p, "tcp.analysis.retransmission"));
	p = seg(&c, false, 901, 101, ACK, 1000, 0, 1000);
	assert_true(has(p, "tcp.analysis.keep_alive_ack"));
	flow_tracker_free(c.tr);
}

static void test_sequence_wraparound(void **state)
{
	(void)state;
	struct conv c = { .tr = flow_tracker_new(NULL, NULL, NULL) };
	uint32_t isn = 0xfffffff0u;
	seg(&c, true, isn, 0, SYN, 1000, 0, 0);
	seg(&c, false, 7, isn + 1, SYN | ACK, 1000, 0, 1000);
	seg(&c, true, isn + 1, 8, ACK, 1000, 0, 1000);
	struct packet *p = seg(&c, true, isn + 1, 8, PSH | ACK, 1000, 20, 1000);
	p = seg(&c, true, isn + 21, 8, PSH | ACK, 1000, 20, 1000); /* crosses 2^32 */
	assert_int_equal(fu(p, "tcp.seq_raw"), 5);
	assert_int_equal(fu(p, "tcp.seq"), 21);
	assert_false(has(p, "tcp.analysis.retransmission"));
	assert_false(has(p, "tcp.analysis.lost_segment"));
	assert_false(has(p, "tcp.analysis.out_of_order"));
	p = seg(&c, false, 8, isn + 41, ACK, 1000, 0, 1000);
	assert_int_equal(fu(p, "tcp.ack"), 41);
	assert_false(has(p, "tcp.analysis.ack_lost_segment"));
	flow_tracker_free(c.tr);
}

/* The specification's published values (seeds 0 and 1), in both directions. */
static void test_community_id_vectors(void **state)
{
	(void)state;
	static const uint8_t a[4] = { 1, 2, 3, 4 }, b[4] = { 5, 6, 7, 8 };
	static const uint8_t v6a[16] = { 0xfe, 0x80, 0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d };
	static const uint8_t v6b[16] = { 0xfe, 0x80, 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d };
	static const struct {
		uint16_t seed;
		uint8_t family, proto;
		uint16_t sport, dport;
		const char *want;
	} v[] = {
		{ 0, 4, 6, 1122, 3344, "1:wCb3OG7yAFWelaUydu0D+125CLM=" },
		{ 0, 4, 17, 1122, 3344, "1:0Mu9InQx6z4ZiCZM/7HXi2WMhOg=" },
		{ 0, 4, 1, 8, 0, "1:crodRHL2FEsHjbv3UkRrfbs4bZ0=" },
		{ 0, 4, 46, 0, 0, "1:ikv3kmf89luf73WPz1jOs49S768=" },
		{ 0, 6, 58, 128, 0, "1:0bf7hyMJUwt3fMED7z8LIfRpBeo=" },
		{ 1, 4, 6, 1122, 3344, "1:HhA1B+6CoLbiKPEs5nhNYN4XWfk=" },
		{ 1, 4, 17, 1122, 3344, "1:OShq+iKDAMVouh/4bMxB9Sz4amw=" },
		{ 1, 4, 1, 8, 0, "1:9pr4ZGTICiuZoIh90RRYE2RyXpU=" },
	};
	char out[COMMUNITY_ID_LEN];
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
		const uint8_t *s = v[i].family == 6 ? v6a : a, *d = v[i].family == 6 ? v6b : b;
		community_id_v1(out, v[i].seed, v[i].family, s, d, v[i].proto, v[i].sport, v[i].dport);
		assert_string_equal(out, v[i].want);
		/* the other direction: ports swapped, or the ICMP reply type */
		uint16_t rs = v[i].dport, rd = v[i].sport;
		if (v[i].proto == 1) { rs = 0; rd = 0; }
		if (v[i].proto == 58) { rs = 129; rd = 0; }
		community_id_v1(out, v[i].seed, v[i].family, d, s, v[i].proto, rs, rd);
		assert_string_equal(out, v[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_is_canonical),
		cmocka_unit_test(test_insert_lookup_grow_and_cap),
		cmocka_unit_test(test_idle_expiry_and_retired_stream),
		cmocka_unit_test(test_relative_numbers_and_streams),
		cmocka_unit_test(test_retransmission_dupack_reorder),
		cmocka_unit_test(test_keepalive_is_not_a_retransmission),
		cmocka_unit_test(test_sequence_wraparound),
		cmocka_unit_test(test_community_id_vectors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
