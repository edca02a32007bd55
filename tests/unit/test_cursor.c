/* tests/unit/test_cursor.c — the bounded cursor and the string builder. */
#include "helpers.h"

#include "util/cursor.h"
#include "util/sbuf.h"

static void test_reads_and_sticky_error(void **state)
{
	(void)state;
	const uint8_t b[] = { 0x12, 0x34, 0x56, 0x78, 0x9a };
	struct cur c = cur_make(b, sizeof b);
	assert_int_equal(cur_be16(&c), 0x1234);
	assert_int_equal(cur_be24(&c), 0x56789a);
	assert_false(c.err);
	assert_int_equal(cur_u8(&c), 0); /* past the end: 0 and the error */
	assert_true(c.err);
	assert_int_equal(cur_be32(&c), 0);
	assert_int_equal(cur_left(&c), 0);
}

static void test_sub_cursor_narrows(void **state)
{
	(void)state;
	const uint8_t b[] = { 1, 2, 3, 4, 5, 6 };
	struct cur c = cur_make(b, sizeof b);
	cur_skip(&c, 1);
	struct cur s = cur_sub(&c, 3);
	assert_false(s.err);
	assert_int_equal(cur_left(&s), 3);
	assert_int_equal(cur_off(&s), 1); /* offsets stay frame offsets */
	assert_int_equal(cur_u8(&c), 5);  /* parent moved past the sub-cursor */
	cur_skip(&s, 3);
	assert_int_equal(cur_u8(&s), 0);
	assert_true(s.err);
	assert_false(c.err);
	struct cur big = cur_sub(&c, 100); /* longer than what is left: both marked */
	assert_true(big.err);
	assert_true(c.err);
	assert_int_equal(cur_left(&big), 1);
}

static void test_little_endian_and_peek(void **state)
{
	(void)state;
	const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04 };
	struct cur c = cur_make(b, sizeof b);
	assert_int_equal(cur_peek_be16(&c, 2), 0x0304);
	assert_int_equal(cur_peek_u8(&c, 9), 0);
	assert_false(c.err);
	assert_int_equal(cur_le32(&c), 0x04030201);
}

static void test_json_escaping(void **state)
{
	(void)state;
	char buf[256];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	const uint8_t in[] = { 'a', '"', '\\', '\n', 0x01, 0xc3, 0xa9, 0xff, 0xe2, 0x82, 'z' };
	sb_json_str(&sb, in, sizeof in);
	/* quote and backslash escaped, control bytes as \u, valid UTF-8 kept, invalid -> U+FFFD */
	assert_string_equal(sb_cstr(&sb), "\"a\\\"\\\\\\n\\u0001\xc3\xa9\\ufffd\\ufffd\\ufffdz\"");
}

static void test_fixed_builder_truncates(void **state)
{
	(void)state;
	char buf[8];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	sb_puts(&sb, "0123456789");
	assert_true(sb.trunc);
	assert_string_equal(sb_cstr(&sb), "0123456");
}

static void test_number_and_time_formats(void **state)
{
	(void)state;
	char buf[128];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	sb_u64(&sb, 18446744073709551615ull);
	sb_putc(&sb, ' ');
	sb_hex(&sb, 0x12, 4);
	sb_putc(&sb, ' ');
	sb_fixed(&sb, 1500, 3);
	sb_putc(&sb, ' ');
	sb_rfc3339(&sb, 1418145369, 924505488, 9);
	sb_putc(&sb, ' ');
	sb_rfc3339(&sb, 0, 5000, 6);
	assert_string_equal(sb_cstr(&sb),
			    "18446744073709551615 0012 1.500 2014-12-09T17:16:09.924505488Z 1970-01-01T00:00:00.000005Z");
}

static void test_ipv6_text_is_rfc5952(void **state)
{
	(void)state;
	char buf[64];
	struct sbuf sb;
	sb_init_fixed(&sb, buf, sizeof buf - 1);
	const uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	sb_ipv6(&sb, a);
	assert_string_equal(sb_cstr(&sb), "2001:db8:0:1::1");
}

static void test_hexbytes_chunks_and_bounds(void **state)
{
	(void)state;
	static uint8_t in[5000];
	static char out[16000];
	for (size_t i = 0; i < sizeof in; i++) in[i] = (uint8_t)i;
	struct sbuf sb;
	sb_init_fixed(&sb, out, sizeof out - 1);
	sb_putc(&sb, '"');
	sb_hexbytes(&sb, in, sizeof in, ':');
	sb_putc(&sb, '"');
	const char *s = sb_cstr(&sb);
	assert_int_equal(strlen(s), 2 + sizeof in * 3 - 1);
	assert_memory_equal(s, "\"00:01:02", 9);
	assert_memory_equal(s + 1 + 4095 * 3, "ff:00:01", 8); /* across the 4096-byte chunk */
	assert_memory_equal(s + strlen(s) - 4, ":87\"", 4);
	/* a bounded builder that cannot hold it all stops at its maximum, without a leading ':' */
	char small[12];
	sb_init_fixed(&sb, small, sizeof small - 1);
	sb_puts(&sb, "x=");
	sb_hexbytes(&sb, in + 1, 8, ':');
	assert_true(sb.trunc);
	assert_string_equal(sb_cstr(&sb), "x=01:02:03:");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_and_sticky_error),
		cmocka_unit_test(test_sub_cursor_narrows),
		cmocka_unit_test(test_little_endian_and_peek),
		cmocka_unit_test(test_json_escaping),
		cmocka_unit_test(test_fixed_builder_truncates),
		cmocka_unit_test(test_number_and_time_formats),
		cmocka_unit_test(test_ipv6_text_is_rfc5952),
		cmocka_unit_test(test_hexbytes_chunks_and_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
