/* tests/unit/test_json.c — the NDJSON shape: nesting by field name, "_value" for fields
 * with children, arrays for repeated fields, quoted packets under their ICMP message. */
#include "helpers.h"
#include "frames.h"

#include "output/output.h"

static const char *json_of(const uint8_t *b, size_t n)
{
	static char out[65536];
	struct sbuf sb;
	sb_init_fixed(&sb, out, sizeof out - 1);
	struct packet *p = decode(b, n, LT_ETHERNET, 0);
	out_json_packet(&sb, p);
	assert_false(sb.trunc);
	return sb_cstr(&sb);
}

static void test_nesting_and_value_key(void **state)
{
	(void)state;
	const char *j = json_of(tcp_syn, sizeof tcp_syn);
	assert_non_null(strstr(j, "{\"protocols\":[\"eth\",\"ip\",\"tcp\"]"));
	assert_non_null(strstr(j, "\"ip\":{\"version\":4,\"hdr_len\":20,"));
	assert_non_null(strstr(j, "\"src\":\"10.77.0.1\""));
	assert_non_null(strstr(j, "\"flags\":{\"_value\":2,\"res\":false,"));
	assert_non_null(strstr(j, "\"syn\":true"));
	assert_non_null(strstr(j, "\"mss_val\":1220"));
	assert_non_null(strstr(j, "\"wscale\":{\"shift\":10,\"multiplier\":1024}"));
	assert_non_null(strstr(j, "\"option_kind\":[2,4,8,1,3]"));
	assert_int_equal(j[strlen(j) - 1], '\n');
	assert_int_equal(j[strlen(j) - 2], '}');
}

static void test_frame_metadata(void **state)
{
	(void)state;
	const char *j = json_of(arp_request, sizeof arp_request);
	assert_non_null(strstr(j, "\"frame\":{\"number\":1,\"time\":\"1970-01-01T00:00:00.000000Z\","));
	assert_non_null(strstr(j, "\"len\":42,\"cap_len\":42"));
	assert_non_null(strstr(j, "\"encap_type\":1"));
	assert_non_null(strstr(j, "\"arp\":{\"hw\":{\"type\":1,\"size\":6}"));
}

static void test_quoted_packet_nests_under_icmp(void **state)
{
	(void)state;
	static uint8_t b[128];
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02\x08\x00", 14);
	static const uint8_t rest[] = { 0x45, 0, 0, 56, 0, 1, 0, 0, 64, 1, 0, 0, 10, 0, 0, 2, 10, 0, 0, 1,
					3, 3, 0, 0, 0, 0, 0, 0,
					0x45, 0, 0, 60, 0, 2, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
					0x13, 0x88, 0, 53, 0, 40, 0, 0 };
	memcpy(b + 14, rest, sizeof rest);
	const char *j = json_of(b, 14 + sizeof rest);
	const char *icmp = strstr(j, "\"icmp\":{");
	assert_non_null(icmp);
	assert_non_null(strstr(icmp, "\"ip\":{"));
	assert_non_null(strstr(icmp, "\"udp\":{\"srcport\":5000"));
	/* the outer ip object has one src, not an array */
	assert_non_null(strstr(j, "\"src\":\"10.0.0.2\""));
	assert_null(strstr(j, "\"src\":[\""));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nesting_and_value_key),
		cmocka_unit_test(test_frame_metadata),
		cmocka_unit_test(test_quoted_packet_nests_under_icmp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
