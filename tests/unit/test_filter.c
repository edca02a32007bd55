/* tests/unit/test_filter.c — the display-filter engine on real frames from the lab sample:
 * the semantics tshark 4.0 cannot check for us (xor, lowercase booleans, any/all corner
 * cases), precedence, error positions and the caps. The comparison with tshark over whole
 * captures is tests/filter/conformance.py. */
#include "helpers.h"
#include "frames.h"

#include "filter/filter.h"

static bool matches(const struct packet *p, const char *text)
{
	struct df_error err;
	struct df_filter *f = df_compile(text, &err);
	if (!f) fail_msg("%s: %s", text, err.msg);
	bool r = df_match(f, p);
	df_free(f);
	return r;
}

/* Compiling fails with a message containing `want` about filter columns [pos, pos+len). */
static void refused(const char *text, const char *want, uint32_t pos, uint32_t len)
{
	struct df_error err;
	dissect_init();
	struct df_filter *f = df_compile(text, &err);
	if (f) fail_msg("%s was accepted", text);
	if (!strstr(err.msg, want)) fail_msg("%s: message %s, want %s", text, err.msg, want);
	assert_int_equal(err.pos, pos);
	assert_int_equal(err.len, len);
}

static struct packet *dns_query(void) { return decode(dns_query_udp, sizeof dns_query_udp, LT_ETHERNET, 0); }

static void test_multi_value_semantics(void **state)
{
	(void)state;
	struct packet *p = dns_query(); /* 10.77.0.1:55494 -> 10.77.0.2:53 */
	assert_true(matches(p, "udp.port == 53"));
	assert_false(matches(p, "udp.port != 53"));   /* != : no value equals */
	assert_true(matches(p, "udp.port !== 53"));   /* !== : some value differs */
	assert_false(matches(p, "udp.port === 53"));  /* === : every value equals */
	assert_true(matches(p, "udp.port === 53 or udp.port === 55494") == false);
	assert_true(matches(p, "any udp.port == 55494"));
	assert_false(matches(p, "all udp.port == 53"));
	assert_true(matches(p, "all udp.port > 52"));
	assert_true(matches(p, "ip.addr == 10.77.0.2 and ip.addr == 10.77.0.1"));
	assert_true(matches(p, "ip.addr != 10.77.0.3"));
	/* a field that is absent makes every comparison false, != and all included */
	assert_false(matches(p, "tcp.port != 80"));
	assert_false(matches(p, "all tcp.port != 80"));
	assert_true(matches(p, "not tcp.port == 80"));
	assert_true(matches(p, "tcp.port not in {80}"));
	assert_false(matches(p, "count(tcp.port) == 0"));
	assert_true(matches(p, "count(udp.port) == 2"));
	/* field against field: some pair */
	assert_true(matches(p, "ip.src < ip.dst"));
	assert_false(matches(p, "udp.srcport == udp.dstport"));
}

static void test_logic_and_precedence(void **state)
{
	(void)state;
	struct packet *p = dns_query();
	/* xor sits between and and or */
	assert_true(matches(p, "udp xor udp and tcp"));  /* udp xor (udp and tcp) */
	assert_true(matches(p, "udp or udp xor udp"));   /* udp or (udp xor udp) */
	assert_false(matches(p, "(udp or udp) xor udp"));
	assert_true(matches(p, "udp ^^ tcp"));
	assert_false(matches(p, "udp ^^ dns"));
	assert_true(matches(p, "tcp or udp and dns"));
	assert_false(matches(p, "(tcp or udp) and tcp"));
	assert_true(matches(p, "not tcp and !arp"));
	assert_true(matches(p, "!!udp && !(tcp || arp)"));
	assert_true(matches(p, "udp xor tcp xor arp")); /* true xor false xor false */
	assert_false(matches(p, "udp xor dns xor arp"));
}

static void test_literals(void **state)
{
	(void)state;
	struct packet *p = dns_query();
	assert_true(matches(p, "udp.dstport == 0x35 and udp.dstport == 065 and udp.dstport == 0b110101"));
	assert_true(matches(p, "dns.flags.response == false and dns.flags.recdesired == true"));
	assert_true(matches(p, "dns.flags.response == False and dns.flags.recdesired == 1"));
	assert_true(matches(p, "ip.proto == \"udp\""));  /* value names, case-insensitive */
	assert_true(matches(p, "ip.dst == 10.0.0.0/8 and ip.dst == 10.77.0.2/32 and !(ip.dst == 10.77.1.0/24)"));
	assert_true(matches(p, "ip.dst in {192.168.0.0/16, 10.77.0.0/30}"));
	assert_true(matches(p, "ip.dst in {10.77.0.1..10.77.0.5}"));
	assert_true(matches(p, "eth.src == 96:ef:b8:17:8c:73 and eth.src == 96-ef-b8-17-8c-73 and eth.src == 96ef.b817.8c73"));
	assert_true(matches(p, "dns.qry.name == \"www.example.test\""));
	assert_true(matches(p, "dns.qry.name == \"www\\x2eexample\\056test\""));
	assert_true(matches(p, "dns.qry.name == \"\\u0077ww.example.test\""));
	assert_true(matches(p, "dns.qry.name contains \"example\" and dns.qname contains r\"ample\""));
	assert_true(matches(p, "udp.payload[0] == 0x51 and udp.payload[0] == 'Q'"));
	assert_true(matches(p, "ipv4 and ipv4.src == 10.77.0.1"));
}

static void test_slices_and_functions(void **state)
{
	(void)state;
	struct packet *p = dns_query();
	assert_true(matches(p, "eth.src[0:3] == 96:ef:b8"));
	assert_true(matches(p, "eth.src[-1] == 73 and eth.src[-2:2] == 8c:73"));
	assert_true(matches(p, "eth.src[1-2] == ef:b8 and eth.src[:2] == 96:ef and eth.src[4:] == 8c:73"));
	assert_true(matches(p, "eth.src[0:1,5:1] == 96:73"));          /* ranges joined */
	assert_false(matches(p, "eth.src[4:3] == 8c:73:00"));          /* past the end: no value */
	assert_true(matches(p, "frame[12:2] == 08:00 and ip[0] == 45 and ip[0] & 0xf0 == 0x40"));
	assert_true(matches(p, "udp contains \"example\" and frame contains 07:65:78"));
	assert_true(matches(p, "len(dns.qry.name) == 16 and len(eth.src) == 6 and len(udp) == 8"));
	assert_true(matches(p, "upper(dns.qry.name) == \"WWW.EXAMPLE.TEST\" and lower(dns.qry.name) contains \"test\""));
	assert_true(matches(p, "dns.qry.name matches \"EXAMPLE\\\\.TEST$\""));   /* case-insensitive */
	assert_false(matches(p, "dns.qry.name matches \"(?-i)EXAMPLE\""));
	assert_true(matches(p, "dns.qry.name ~ \"^w{3}\\\\.\""));
	assert_true(matches(p, "dns.flags & 0x0100 and !(dns.flags & 0x8000)"));
	assert_true(matches(p, "udp.port in {1..52, 53, 100..200}"));
	assert_false(matches(p, "udp.port in {1..52, 54}"));
}

static void test_errors(void **state)
{
	(void)state;
	refused("tcp.prot == 80", "did you mean \"tcp.port\"", 0, 8);
	refused("tcp.port == abc", "\"abc\" is not a valid value for tcp.port (an unsigned integer)", 12, 3);
	refused("(tcp.port == 80", "unbalanced parenthesis", 0, 1);
	refused("tcp.port == 80)", "unbalanced parenthesis", 14, 1);
	refused("tcp.port in {80 443}", "separated by commas", 16, 3);
	refused("http.host matches \"(\"", "invalid regular expression", 18, 3);
	refused("", "the filter is empty", 0, 1);
	/* caps: 64 levels are fine, 65 are not; DF_MAX_LEN bytes are fine, one more is not */
	char deep[256] = { 0 };
	memset(deep, '(', 64);
	strcat(deep, "udp");
	memset(deep + strlen(deep), ')', 64);
	struct df_error err;
	struct df_filter *f = df_compile(deep, &err);
	assert_non_null(f);
	df_free(f);
	memset(deep, 0, sizeof deep);
	memset(deep, '(', 65);
	strcat(deep, "udp");
	memset(deep + strlen(deep), ')', 65);
	refused(deep, "nests deeper than 64", 64, 1);
	char *longf = malloc(DF_MAX_LEN + 2);
	memset(longf, ' ', DF_MAX_LEN + 1);
	memcpy(longf, "udp", 3);
	longf[DF_MAX_LEN] = '\0';
	f = df_compile(longf, &err);
	assert_non_null(f);
	df_free(f);
	longf[DF_MAX_LEN] = ' ';
	longf[DF_MAX_LEN + 1] = '\0';
	refused(longf, "the limit is 4096", DF_MAX_LEN, 1);
	free(longf);
}

static void test_mask_names_what_is_read(void **state)
{
	(void)state;
	dissect_init();
	struct df_error err;
	struct df_filter *f = df_compile("tcp.port == 443 and ip.src == 10.0.0.1", &err);
	assert_non_null(f);
	struct field_mask m = { 0 };
	df_mask_add(f, &m);
	size_t bits = 0;
	for (size_t i = 0; i < sizeof m.bits; i++) bits += (size_t)__builtin_popcount(m.bits[i]);
	assert_int_equal(bits, 3);
	assert_true(m.bits[F_TCP_SRCPORT >> 3] & (1u << (F_TCP_SRCPORT & 7)));
	assert_true(m.bits[F_TCP_DSTPORT >> 3] & (1u << (F_TCP_DSTPORT & 7)));
	assert_true(m.bits[F_IP_SRC >> 3] & (1u << (F_IP_SRC & 7)));
	df_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_multi_value_semantics),
		cmocka_unit_test(test_logic_and_precedence),
		cmocka_unit_test(test_literals),
		cmocka_unit_test(test_slices_and_functions),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_mask_names_what_is_read),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
