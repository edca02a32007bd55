/* tests/unit/test_jsonr.c — reading JSON (util/jsonr): the monitor socket's requests. What
 * RFC 8259 allows is read, what it does not is refused with the byte it went wrong at. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "util/jsonr.h"

static int parse(const char *t, struct jobj *o, char *err)
{
	return jsonr_object(t, strlen(t), o, err, 200);
}

static void test_members_and_getters(void **state)
{
	(void)state;
	struct jobj o;
	char err[200], s[64];
	const char *t = " {\"type\":\"history\", \"since_ms\": -1700000000000, \"all\":true, \"none\":null,"
			" \"x\":1.5e3, \"events\":[\"open\", \"close\"], \"sub\":{\"a\":[{}]}, \"u\":\"caf\\u00e9 \\ud83d\\ude00\\n\"} ";
	assert_int_equal(parse(t, &o, err), 0);
	assert_int_equal(o.n, 8);
	assert_int_equal(jsonr_str(jsonr_get(&o, "type"), s, sizeof s), 0);
	assert_string_equal(s, "history");
	int64_t n;
	assert_int_equal(jsonr_i64(jsonr_get(&o, "since_ms"), &n), 0);
	assert_true(n == -1700000000000LL);
	assert_int_equal(jsonr_i64(jsonr_get(&o, "x"), &n), -1); /* not an integer */
	bool b = false;
	assert_int_equal(jsonr_bool(jsonr_get(&o, "all"), &b), 0);
	assert_true(b);
	assert_int_equal(jsonr_get(&o, "none")->type, JV_NULL);
	assert_null(jsonr_get(&o, "missing"));
	assert_int_equal(jsonr_str(jsonr_get(&o, "u"), s, sizeof s), 0);
	assert_string_equal(s, "caf\xc3\xa9 \xf0\x9f\x98\x80\n");
	assert_int_equal(jsonr_str(jsonr_get(&o, "u"), s, 5), -1); /* does not fit */
	size_t pos = 0;
	bool bad;
	assert_true(jsonr_next_str(jsonr_get(&o, "events"), &pos, s, sizeof s, &bad));
	assert_string_equal(s, "open");
	assert_true(jsonr_next_str(jsonr_get(&o, "events"), &pos, s, sizeof s, &bad));
	assert_string_equal(s, "close");
	assert_false(jsonr_next_str(jsonr_get(&o, "events"), &pos, s, sizeof s, &bad));
	assert_false(bad);
	struct jobj sub;
	assert_int_equal(jsonr_sub(jsonr_get(&o, "sub"), &sub, err, sizeof err), 0);
	assert_int_equal(sub.n, 1);
	assert_int_equal(jsonr_get(&sub, "a")->type, JV_ARR);
	assert_int_equal(parse("{\"n\":9223372036854775807,\"m\":-9223372036854775808,\"o\":9223372036854775808}", &o, err), 0);
	assert_int_equal(jsonr_i64(jsonr_get(&o, "m"), &n), 0);
	assert_true(n == INT64_MIN);
	assert_int_equal(jsonr_i64(jsonr_get(&o, "o"), &n), -1); /* past int64 */
}

/* An array's elements one by one, of any type, nested ones whole; objects read by jsonr_sub. */
static void test_array_elements(void **state)
{
	(void)state;
	struct jobj o, e;
	char err[200], s[32];
	assert_int_equal(parse("{\"data\":[ {\"id\":1,\"n\":\"a]\"} ,{\"id\":2,\"l\":[1,[2]]}, 3 ,\"x\",null,[],{}]}", &o, err), 0);
	const struct jv *arr = jsonr_get(&o, "data"), *v;
	struct jv el;
	size_t pos = 0;
	int64_t id;
	assert_true(jsonr_next(arr, &pos, &el));
	assert_int_equal(el.type, JV_OBJ);
	assert_int_equal(jsonr_sub(&el, &e, err, sizeof err), 0);
	assert_int_equal(jsonr_str(jsonr_get(&e, "n"), s, sizeof s), 0);
	assert_string_equal(s, "a]"); /* a bracket inside a string does not end the element */
	assert_true(jsonr_next(arr, &pos, &el));
	assert_int_equal(jsonr_sub(&el, &e, err, sizeof err), 0);
	assert_int_equal(jsonr_i64(jsonr_get(&e, "id"), &id), 0);
	assert_int_equal(id, 2);
	assert_non_null(v = jsonr_get(&e, "l"));
	assert_int_equal(v->rawlen, 7);
	static const enum jv_type rest[] = { JV_NUM, JV_STR, JV_NULL, JV_ARR, JV_OBJ };
	for (int i = 0; i < 5; i++) {
		assert_true(jsonr_next(arr, &pos, &el));
		assert_int_equal(el.type, rest[i]);
	}
	assert_false(jsonr_next(arr, &pos, &el));
	pos = 0;
	assert_false(jsonr_next(jsonr_get(&e, "id"), &pos, &el)); /* not an array */
	assert_int_equal(parse("{\"data\":[]}", &o, err), 0);
	pos = 0;
	assert_false(jsonr_next(jsonr_get(&o, "data"), &pos, &el));
}

static void test_refusals_say_where(void **state)
{
	(void)state;
	static const struct { const char *text, *err; } cases[] = {
		{ "", "at byte 0: a JSON object expected" },
		{ "[1]", "at byte 0: a JSON object expected" },
		{ "{\"a\":1,}", "at byte 7: a member name (a string) expected" },
		{ "{\"a\" 1}", "at byte 5: ':' expected" },
		{ "{\"a\":01}", "at byte 6: ',' or '}' expected" },
		{ "{\"a\":1.}", "at byte 7: a bad number" },
		{ "{\"a\":tru}", "at byte 5: a value expected" },
		{ "{\"a\":\"\\x\"}", "at byte 6: an unknown escape" },
		{ "{\"a\":\"\\ud800\"}", "at byte 12: a lone surrogate in a \\u escape" },
		{ "{\"a\":\"\\udc00\"}", "at byte 12: a lone surrogate in a \\u escape" },
		{ "{\"a\":\"\xc3\x28\"}", "at byte 6: invalid UTF-8 in a string" },
		{ "{\"a\":\"\xed\xa0\x80\"}", "at byte 6: invalid UTF-8 in a string" }, /* an encoded surrogate */
		{ "{\"a\":\"tab\there\"}", "at byte 9: a control character in a string" },
		{ "{\"a\":\"open", "at byte 10: an unterminated string" },
		{ "{\"a\":1,\"a\":2}", "at byte 7: a duplicate member name" },
		{ "{\"x\":{\"a\":1,\"a\":2}}", "at byte 12: a duplicate member name" },
		{ "{\"a\":1} x", "at byte 8: text after the object" },
		{ "{\"a\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}", "at byte 20: nested too deeply" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct jobj o;
		char err[200] = "";
		assert_int_equal(parse(cases[i].text, &o, err), -1);
		assert_string_equal(err, cases[i].err);
	}
	struct jobj o;
	char err[200];
	assert_int_equal(jsonr_object("{\"a\":\"\\u0000\"}", 14, &o, err, sizeof err), 0);
	char s[8];
	assert_int_equal(jsonr_str(jsonr_get(&o, "a"), s, sizeof s), -1); /* a NUL cannot be a C string */
	char many[1200] = "{";
	for (int i = 0; i <= JSONR_MAX_KEYS; i++) snprintf(many + strlen(many), sizeof many - strlen(many), "%s\"k%d\":%d", i ? "," : "", i, i);
	strcat(many, "}");
	assert_int_equal(parse(many, &o, err), -1);
	assert_non_null(strstr(err, "too many members"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_members_and_getters),
		cmocka_unit_test(test_array_elements),
		cmocka_unit_test(test_refusals_say_where),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
