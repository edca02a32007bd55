/* tests/unit/test_defrag.c — IP reassembly's rules (dissect/defrag.c) and its bounds. The
 * decoders' use of it, on real bytes and against tshark, is in the golden fragments tests. */
#include "helpers.h"

#include "dissect/defrag.h"

#include <string.h>

static struct defrag_key key(uint32_t id)
{
	struct defrag_key k;
	memset(&k, 0, sizeof k);
	k.family = 4;
	k.proto = 17;
	k.id = id;
	k.src[0] = 10;
	k.dst[0] = 10;
	k.dst[3] = 2;
	return k;
}

#define SEC INT64_C(1000000000)

static void out_of_order_completes_on_the_gap(void **state)
{
	(void)state;
	struct defrag *d = defrag_new();
	struct defrag_key k = key(1);
	uint8_t a[16], b[16], c[8];
	memset(a, 'a', sizeof a);
	memset(b, 'b', sizeof b);
	memset(c, 'c', sizeof c);
	struct defrag_done out;
	assert_int_equal(defrag_add(d, &k, 0, 1, 32, false, c, sizeof c, &out), DEFRAG_HELD); /* tail first */
	assert_int_equal(defrag_add(d, &k, 0, 2, 0, true, a, sizeof a, &out), DEFRAG_HELD);
	struct defrag_key other = key(2); /* another ID: its own datagram */
	assert_int_equal(defrag_add(d, &other, 0, 3, 16, true, b, sizeof b, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, &k, 0, 4, 16, true, b, sizeof b, &out), DEFRAG_DONE);
	assert_int_equal(out.len, 40);
	assert_memory_equal(out.data, "aaaaaaaaaaaaaaaabbbbbbbbbbbbbbbbcccccccc", 40);
	assert_int_equal(out.npieces, 3);
	assert_int_equal(out.pieces[0].frame, 2); /* in offset order */
	assert_int_equal(out.pieces[1].frame, 4);
	assert_int_equal(out.pieces[2].frame, 1);
	assert_false(out.errors);
	struct defrag_stats st = defrag_stats(d);
	assert_int_equal(st.completed, 1);
	assert_int_equal(st.held, 1); /* ID 2 still waits */
	/* the same key again starts a new datagram */
	assert_int_equal(defrag_add(d, &k, 0, 5, 32, false, c, sizeof c, &out), DEFRAG_HELD);
	defrag_free(d);
}

static void overlaps_keep_the_first_placed_bytes(void **state)
{
	(void)state;
	struct defrag *d = defrag_new();
	struct defrag_key k = key(7);
	struct defrag_done out;
	assert_int_equal(defrag_add(d, &k, 0, 1, 0, true, (const uint8_t *)"AAAAAAAAAAAAAAAA", 16, &out), DEFRAG_HELD);
	/* the same 8 bytes again, then conflicting ones over [8, 16) and a tail past the end */
	assert_int_equal(defrag_add(d, &k, 0, 2, 0, true, (const uint8_t *)"AAAAAAAA", 8, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, &k, 0, 3, 8, false, (const uint8_t *)"XXXXXXXXBBBBBBBB", 16, &out), DEFRAG_DONE);
	assert_int_equal(out.len, 24);
	assert_memory_equal(out.data, "AAAAAAAAAAAAAAAABBBBBBBB", 24);
	assert_int_equal(out.npieces, 3);
	assert_int_equal(out.pieces[0].frame, 1);
	assert_int_equal(out.pieces[0].flags, 0);
	assert_int_equal(out.pieces[1].frame, 2); /* equal offsets: arrival order */
	assert_int_equal(out.pieces[1].flags, DEFRAG_OVERLAP);
	assert_int_equal(out.pieces[2].flags, DEFRAG_OVERLAP | DEFRAG_CONFLICT);
	assert_true(out.errors);
	defrag_free(d);
}

static void second_tail_and_too_long(void **state)
{
	(void)state;
	struct defrag *d = defrag_new();
	struct defrag_key k = key(9);
	struct defrag_done out;
	uint8_t x[24];
	memset(x, 'x', sizeof x);
	assert_int_equal(defrag_add(d, &k, 0, 1, 8, false, x, 8, &out), DEFRAG_HELD);   /* length 16 */
	assert_int_equal(defrag_add(d, &k, 0, 2, 8, false, x, 16, &out), DEFRAG_HELD);  /* another tail */
	assert_int_equal(defrag_add(d, &k, 0, 3, 0, true, x, 8, &out), DEFRAG_DONE);
	assert_int_equal(out.len, 16); /* the first tail's length stands */
	assert_int_equal(out.pieces[2].frame, 2);
	assert_true(out.pieces[2].flags & DEFRAG_TOOLONG);
	assert_true(out.pieces[2].flags & DEFRAG_MULTITAIL);
	assert_true(out.errors);
	defrag_free(d);
}

static void bounds_refuse_expire_and_evict(void **state)
{
	(void)state;
	struct defrag *d = defrag_new();
	struct defrag_key k = key(11);
	struct defrag_done out;
	uint8_t x[8] = { 0 };
	/* past the largest datagram */
	assert_int_equal(defrag_add(d, &k, 0, 1, DEFRAG_MAX_DATAGRAM - 4, true, x, 8, &out), DEFRAG_REFUSED);
	/* a head that waits longer than the timeout is dropped: its tail then waits alone */
	assert_int_equal(defrag_add(d, &k, 0, 2, 0, true, x, 8, &out), DEFRAG_HELD);
	assert_int_equal(defrag_add(d, &k, DEFRAG_TIMEOUT_NS + SEC, 3, 8, false, x, 8, &out), DEFRAG_HELD);
	struct defrag_stats st = defrag_stats(d);
	assert_int_equal(st.refused, 1);
	assert_int_equal(st.expired, 1);
	assert_int_equal(st.held, 1);
	/* more datagrams than DEFRAG_MAX_HELD: the oldest go, the count stays at the bound */
	for (uint32_t i = 0; i < DEFRAG_MAX_HELD + 10; i++) {
		struct defrag_key ki = key(100000 + i);
		assert_int_equal(defrag_add(d, &ki, DEFRAG_TIMEOUT_NS + SEC, 4 + i, 0, true, x, 8, &out), DEFRAG_HELD);
	}
	st = defrag_stats(d);
	assert_int_equal(st.held, DEFRAG_MAX_HELD);
	assert_int_equal(st.evicted, 11);
	/* pieces of one datagram are capped */
	struct defrag_key many = key(12);
	enum defrag_status last = DEFRAG_HELD;
	for (uint32_t i = 0; i <= DEFRAG_MAX_PIECES && last == DEFRAG_HELD; i++)
		last = defrag_add(d, &many, DEFRAG_TIMEOUT_NS + SEC, 100000, 8, true, x, 8, &out);
	assert_int_equal(last, DEFRAG_REFUSED);
	assert_true(defrag_stats(d).held_bytes <= DEFRAG_MAX_BYTES);
	defrag_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(out_of_order_completes_on_the_gap),
		cmocka_unit_test(overlaps_keep_the_first_placed_bytes),
		cmocka_unit_test(second_tail_and_too_long),
		cmocka_unit_test(bounds_refuse_expire_and_evict),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
