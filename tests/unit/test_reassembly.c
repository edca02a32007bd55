/* tests/unit/test_reassembly.c — stream reassembly through a consumer of our own:
 * reordering, overlapping retransmissions (first bytes win), sequence wrap-around, gaps
 * skipped at the caps and at the end, snapshot-cut payloads. */
#include "helpers.h"

#include "flow/flow.h"

struct sink {
	char buf[8192];
	size_t len;
	uint64_t gaps, gap_bytes, frames[64];
	int nframes;
	bool closed;
};

static void on_data(void *cctx, const struct flow *f, int dir, const uint8_t *p, size_t n, uint64_t frame)
{
	(void)f;
	struct sink *s = cctx;
	assert_int_equal(dir, 0);
	assert_true(s->len + n < sizeof s->buf);
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	if (s->nframes < 64) s->frames[s->nframes++] = frame;
}

static void on_gap(void *cctx, const struct flow *f, int dir, uint64_t len, uint64_t frame)
{
	(void)f;
	(void)dir;
	(void)frame;
	struct sink *s = cctx;
	s->gaps++;
	s->gap_bytes += len;
	memset(s->buf + s->len, '_', len); /* show the hole */
	s->len += len;
}

static void on_close(void *cctx, const struct flow *f)
{
	(void)f;
	((struct sink *)cctx)->closed = true;
}

static const struct stream_consumer consumer = { on_data, on_gap, on_close };

static void seg(struct reasm *r, uint32_t seq, uint16_t flags, const char *data, uint64_t frame, struct reasm_stats *st)
{
	uint32_t n = (uint32_t)strlen(data);
	reasm_tcp(r, NULL, 0, seq, flags, (const uint8_t *)data, n, n, frame, st);
}

static void test_in_order_and_reordered(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, &s);
	seg(r, 1000, 0x02, "", 1, &st);          /* SYN: data starts at 1001 */
	seg(r, 1001, 0x10, "hello ", 2, &st);
	seg(r, 1013, 0x10, "there", 4, &st);     /* arrives before its predecessor: held */
	assert_int_equal(s.len, 6);
	seg(r, 1007, 0x10, "world ", 3, &st);    /* fills the hole: both delivered */
	assert_int_equal(s.len, 17);
	assert_memory_equal(s.buf, "hello world there", 17);
	assert_int_equal(s.frames[1], 3);
	assert_int_equal(s.frames[2], 4);        /* each chunk keeps its own frame number */
	reasm_finish(r, NULL, &st);
	assert_true(s.closed);
	assert_int_equal(st.gaps, 0);
}

static void test_overlap_first_wins(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, &s);
	seg(r, 1, 0x10, "abcdef", 1, &st);
	seg(r, 4, 0x10, "XYZghi", 2, &st);       /* overlaps "def": only "ghi" is new */
	seg(r, 1, 0x10, "abcdef", 3, &st);       /* a plain retransmission adds nothing */
	reasm_finish(r, NULL, &st);
	assert_int_equal(s.len, 9);
	assert_memory_equal(s.buf, "abcdefghi", 9);
	assert_int_equal(st.overlap_bytes, 3 + 6);
}

static void test_wraparound(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, &s);
	seg(r, 0xfffffffcu, 0x10, "1234", 1, &st);
	seg(r, 0x00000004u, 0x10, "9abc", 3, &st); /* after the wrap, early */
	seg(r, 0x00000000u, 0x10, "5678", 2, &st);
	reasm_finish(r, NULL, &st);
	assert_int_equal(s.len, 12);
	assert_memory_equal(s.buf, "123456789abc", 12);
}

static void test_gap_reported_at_end_and_snaplen(void **state)
{
	(void)state;
	struct sink s = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, &s);
	seg(r, 1, 0x10, "abc", 1, &st);
	seg(r, 10, 0x10, "xyz", 2, &st);          /* 4..9 never arrive */
	/* a segment of 5 bytes of which the snapshot length kept 2 */
	reasm_tcp(r, NULL, 0, 13, 0x10, (const uint8_t *)"12", 5, 2, 3, &st);
	reasm_finish(r, NULL, &st);
	assert_int_equal(s.len, 3 + 6 + 3 + 2 + 3);
	assert_memory_equal(s.buf, "abc______xyz12___", 17);
	assert_int_equal(st.gaps, 2);
	assert_int_equal(st.gap_bytes, 9);
}

static void test_hole_skipped_at_cap(void **state)
{
	(void)state;
	static char big[2048];
	memset(big, 'x', sizeof big - 1);
	struct sink s = { 0 };
	struct reasm_stats st = { 0 };
	struct reasm *r = reasm_new(&consumer, &s);
	seg(r, 1, 0x10, "a", 1, &st);
	/* segments after a hole, past the per-direction segment cap: the hole is skipped
	 * instead of holding data forever */
	for (uint32_t i = 0; i < REASM_MAX_SEGS_PER_DIR + 10; i++)
		reasm_tcp(r, NULL, 0, 100 + i, 0x10, (const uint8_t *)"b", 1, 1, 2 + i, &st);
	assert_true(st.gaps >= 1);
	assert_true(st.held_now <= REASM_MAX_HELD_TOTAL);
	reasm_finish(r, NULL, &st);
	assert_int_equal(st.gaps, 1);
	assert_int_equal(st.gap_bytes, 98);
	assert_int_equal(st.bytes_delivered, 1 + REASM_MAX_SEGS_PER_DIR + 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_order_and_reordered),
		cmocka_unit_test(test_overlap_first_wins),
		cmocka_unit_test(test_wraparound),
		cmocka_unit_test(test_gap_reported_at_end_and_snaplen),
		cmocka_unit_test(test_hole_skipped_at_cap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
