/* tests/unit/test_config.c — the config.toml subset: every key, TOML's string forms, and
 * for each kind of mistake the line and the words the user sees. */
#include "helpers.h"

#include "pipeline/config.h"

static void parse_ok(const char *text, struct config *c)
{
	char err[300];
	dissect_init(); /* saved filters are compiled, so field names must be registered */
	memset(c, 0, sizeof *c);
	if (config_parse(text, strlen(text), "t.toml", c, err, sizeof err) < 0) fail_msg("%s", err);
}

static void parse_err(const char *text, const char *want)
{
	char err[300];
	struct config c = { 0 };
	dissect_init();
	if (config_parse(text, strlen(text), "t.toml", &c, err, sizeof err) == 0) fail_msg("accepted: %s", text);
	if (!strstr(err, want)) fail_msg("message \"%s\", want \"%s\"", err, want);
	config_free(&c);
}

static void test_every_key(void **state)
{
	(void)state;
	struct config c;
	parse_ok("\xef\xbb\xbf# pktscope\r\n"
		 "[capture]\r\n"
		 "default_interface = \"eth0\"   # the wire\n"
		 "snaplen=65_535\n"
		 "  buffer_mb = +8\n"
		 "  disk_budget_mb = 300\n"
		 "\n"
		 "[ display ]\n"
		 "color_scheme = 'dark'\n"
		 "[filters]\n"
		 "https = \"tcp.port == 443\"\n"
		 "dns-lab = \"dns.qry.name contains \\\"ex\\u0061mple\\\"\"\n"
		 "\"with space\" = 'ip.addr == 10.0.0.0/8' # quoted key, literal string\n",
		 &c);
	assert_string_equal(c.default_interface, "eth0");
	assert_int_equal(c.snaplen, 65535);
	assert_int_equal(c.buffer_mb, 8);
	assert_int_equal(c.disk_budget_mb, 300);
	assert_string_equal(c.color_scheme, "dark");
	assert_int_equal(c.nfilters, 3);
	assert_string_equal(config_filter(&c, "https"), "tcp.port == 443");
	assert_string_equal(config_filter(&c, "dns-lab"), "dns.qry.name contains \"example\"");
	assert_string_equal(config_filter(&c, "with space"), "ip.addr == 10.0.0.0/8");
	assert_null(config_filter(&c, "nope"));
	config_free(&c);
	parse_ok("[monitor]\n"
		 "interfaces = \"eth0,wlan0\"\n"
		 "capture_filter = 'not port 22'\n"
		 "state_dir = \"/srv/pktscope\"\n"
		 "geoip_country_db = \"/x/c.mmdb\"\n"
		 "geoip_asn_db = \"/x/a.mmdb\"\n"
		 "retention_days = 7\n"
		 "max_db_mb = 64\n"
		 "ebpf = false # the socket table only\n",
		 &c);
	assert_string_equal(c.mon.interfaces, "eth0,wlan0");
	assert_string_equal(c.mon.capture_filter, "not port 22");
	assert_string_equal(c.mon.state_dir, "/srv/pktscope");
	assert_string_equal(c.mon.geoip_country_db, "/x/c.mmdb");
	assert_string_equal(c.mon.geoip_asn_db, "/x/a.mmdb");
	assert_int_equal(c.mon.retention_days, 7);
	assert_int_equal(c.mon.max_db_mb, 64);
	assert_int_equal(c.mon.ebpf, -1);
	config_free(&c);
	parse_ok("[monitor]\nebpf = true\n", &c);
	assert_int_equal(c.mon.ebpf, 1);
	config_free(&c);
	parse_err("[monitor]\nebpf = yes\n", "t.toml:2: ebpf takes true or false");
	parse_err("[monitor]\nretention_days = 0\n", "t.toml:2: retention_days must be 1 to 36500, not 0");
	parse_err("[monitor]\nstate_dir = \"\"\n", "t.toml:2: state_dir must not be empty");
	parse_err("[monitor]\nmax_db_mb = 5\nmax_db_mb = 6\n", "t.toml:3: max_db_mb is set twice");
	parse_err("[monitor]\nlearn = 1\n", "unknown key \"learn\" in [monitor]");
	parse_ok("", &c); /* an empty file is a valid one */
	assert_int_equal(c.nfilters, 0);
	config_free(&c);
}

static void test_mistakes_name_line_and_problem(void **state)
{
	(void)state;
	parse_err("[capture]\nsnaplen = \"x\"\n", "t.toml:2: snaplen takes a number");
	parse_err("[capture]\nsnaplen = 0\n", "t.toml:2: snaplen must be 1 to 262144, not 0");
	parse_err("[capture]\nbuffer_mb = 99999\n", "buffer_mb must be 1 to 4096");
	parse_err("[capture]\ndisk_budget_mb = 0\n", "disk_budget_mb must be 1 to");
	parse_err("[capture]\nsnaplen = 1__0\n", "a misplaced _ in a number");
	parse_err("[capture]\nsnaplen = 99999999999999999999999\n", "a number too large");
	parse_err("[capture]\nsnaplen = 10\nsnaplen = 20\n", "t.toml:3: snaplen is set twice");
	parse_err("[capture]\nsnaplen = 10 20\n", "unexpected \"20\" after the value");
	parse_err("[capture]\ninterface = \"eth0\"\n", "unknown key \"interface\" in [capture] (there are default_interface");
	parse_err("[display]\ncolor_scheme = \"pink\"\n", "color_scheme is auto, dark, light or mono, not \"pink\"");
	parse_err("[capture]\n[capture]\n", "t.toml:2: [capture] appears twice");
	parse_err("[capturez]\n", "unknown table [capturez]");
	parse_err("[capture\n", "a table name without its closing ]");
	parse_err("[[filters]]\n", "arrays of tables are not used");
	parse_err("snaplen = 10\n", "t.toml:1: \"snaplen\" outside a table");
	parse_err("[filters]\nhttps\n", "\"https\" must be followed by = and a value");
	parse_err("[filters]\nhttps =\n", "\"https\" has no value");
	parse_err("[filters]\nhttps = tcp\n", "https takes a quoted string");
	parse_err("[filters]\nhttps = \"tcp\nudp\"\n", "a string without its closing \"");
	parse_err("[filters]\nx = \"a\\qb\"\n", "unknown escape \\q in a string");
	/* found by fuzz_config: a backslash ending the line ran past the end of the input */
	parse_err("\" A \\", "t.toml:1: a string without its closing \"");
	parse_err("[filters]\nx = \"tcp\\", "t.toml:2: a string without its closing \"");
	parse_err("[filters]\nx = \"\\u12\"\n", "\\u needs 4 hexadecimal digits");
	parse_err("[filters]\nx = \"\"\"tcp\"\"\"\n", "multi-line strings are not supported");
	parse_err("[filters]\nbad = \"tcp.prot == 1\"\n", "t.toml:2: filter \"bad\" does not compile: unknown field \"tcp.prot\"");
	parse_err("[filters]\na = \"tcp\"\na = \"udp\"\n", "filter \"a\" is defined twice");
	parse_err("[filters]\na.b = \"tcp\"\n", "dotted keys are not used");
	parse_err("[filters]\n= \"tcp\"\n", "expected a key, a [table] or a comment");
	parse_err("[filters]\na = \"t\x01\"\n", "a control character inside a string");
	char nul[] = "[filters]\na = \"tcp\"\x00\n";
	struct config c = { 0 };
	char err[200];
	assert_int_equal(config_parse(nul, sizeof nul - 1, "t.toml", &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "t.toml:2: a NUL byte"));
	config_free(&c);
}

static void test_load_paths(void **state)
{
	(void)state;
	struct config c;
	char err[300];
	dissect_init();
	assert_int_equal(config_load("/nonexistent/pktscope.toml", &c, err, sizeof err), -1); /* --config must exist */
	assert_non_null(strstr(err, "No such file or directory"));
	setenv("XDG_CONFIG_HOME", "/nonexistent", 1);                                           /* the default may not */
	assert_int_equal(config_load(NULL, &c, err, sizeof err), 0);
	assert_null(c.path);
	config_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_mistakes_name_line_and_problem),
		cmocka_unit_test(test_load_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
