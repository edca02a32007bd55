/* filter/lexer.c — splits a display filter into tokens: words (field names and unquoted
 * values: 10.0.0.0/8, 00:1b:21, fe80::1, 0x12, 8000..8100), quoted strings with
 * Wireshark's escapes, character constants and operators. Keywords (and, eq, contains…)
 * are words the lexer recognises. */
#include "filter/internal.h"

#include <stdio.h>
#include <string.h>

#include "util/xalloc.h"

static bool is_word_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == ':' || c == '/' || c == '-';
}

static const struct { const char *word; enum tok kind; } keywords[] = {
	{ "and", TK_AND }, { "or", TK_OR }, { "xor", TK_XOR }, { "not", TK_NOT },
	{ "eq", TK_EQ }, { "ne", TK_NE }, { "all_eq", TK_ALL_EQ }, { "any_ne", TK_ANY_NE },
	{ "lt", TK_LT }, { "gt", TK_GT }, { "le", TK_LE }, { "ge", TK_GE },
	{ "contains", TK_CONTAINS }, { "matches", TK_MATCHES }, { "in", TK_IN },
	{ "any", TK_ANY }, { "all", TK_ALL }, { "bitand", TK_BITAND },
};

/* Operators, longest first so "===" wins over "==". */
static const struct { const char *text; enum tok kind; } operators[] = {
	{ "===", TK_ALL_EQ }, { "!==", TK_ANY_NE }, { "==", TK_EQ }, { "!=", TK_NE }, { "<=", TK_LE },
	{ ">=", TK_GE }, { "&&", TK_AND }, { "||", TK_OR }, { "^^", TK_XOR },
	{ "<", TK_LT }, { ">", TK_GT }, { "~", TK_MATCHES }, { "&", TK_BITAND }, { "!", TK_NOT },
	{ "(", TK_LPAREN }, { ")", TK_RPAREN }, { "{", TK_LBRACE }, { "}", TK_RBRACE },
	{ "[", TK_LBRACKET }, { "]", TK_RBRACKET }, { ",", TK_COMMA },
	{ "${", TK_FIELDREF }, { "+", TK_PLUS }, { "*", TK_STAR }, { "%", TK_PERCENT }, { "#", TK_HASH },
};

static int fail(struct df_error *err, size_t pos, size_t len, const char *msg)
{
	snprintf(err->msg, sizeof err->msg, "%s", msg);
	err->pos = (uint32_t)pos;
	err->len = (uint32_t)(len ? len : 1);
	return -1;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* Appends code point cp as UTF-8 (for \u and \U escapes). */
static size_t put_utf8(uint8_t *o, uint32_t cp)
{
	if (cp < 0x80) { o[0] = (uint8_t)cp; return 1; }
	if (cp < 0x800) { o[0] = (uint8_t)(0xc0 | cp >> 6); o[1] = (uint8_t)(0x80 | (cp & 0x3f)); return 2; }
	if (cp < 0x10000) {
		o[0] = (uint8_t)(0xe0 | cp >> 12); o[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (uint8_t)(0xf0 | cp >> 18); o[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decodes one escape after the backslash at s[*i]; writes its bytes to o and returns how
 * many, or -1 (message in err). *i is left on the escape's last character. */
static int unescape(const char *s, size_t len, size_t *i, uint8_t *o, struct df_error *err)
{
	size_t at = *i - 1;
	if (*i >= len) return fail(err, at, 1, "a backslash at the end of the filter");
	char c = s[*i];
	static const char simple[] = "a\ab\bf\fn\nr\rt\tv\v\\\\\"\"''";
	for (size_t k = 0; simple[k]; k += 2)
		if (c == simple[k]) { o[0] = (uint8_t)simple[k + 1]; return 1; }
	if (c == 'x') {
		int v = 0, nd = 0;
		while (nd < 2 && *i + 1 < len && hexval(s[*i + 1]) >= 0) { v = v * 16 + hexval(s[++*i]); nd++; }
		if (!nd) return fail(err, at, 2, "\\x needs one or two hexadecimal digits");
		o[0] = (uint8_t)v;
		return 1;
	}
	if (c >= '0' && c <= '7') {
		int v = c - '0', nd = 1;
		while (nd < 3 && *i + 1 < len && s[*i + 1] >= '0' && s[*i + 1] <= '7') { v = v * 8 + (s[++*i] - '0'); nd++; }
		if (v > 255) return fail(err, at, (size_t)nd + 1, "an octal escape above \\377");
		o[0] = (uint8_t)v;
		return 1;
	}
	if (c == 'u' || c == 'U') {
		int want = c == 'u' ? 4 : 8;
		uint32_t cp = 0;
		for (int k = 0; k < want; k++) {
			if (*i + 1 >= len || hexval(s[*i + 1]) < 0)
				return fail(err, at, 2, c == 'u' ? "\\u needs four hexadecimal digits" : "\\U needs eight hexadecimal digits");
			cp = cp * 16 + (uint32_t)hexval(s[++*i]);
		}
		if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return fail(err, at, (size_t)want + 2, "not a Unicode code point");
		return (int)put_utf8(o, cp);
	}
	char msg[64];
	snprintf(msg, sizeof msg, "unknown escape \\%c", c);
	return fail(err, at, 2, msg);
}

/* A quoted string starting at s[start] ('"', or 'r"' for a raw string). */
static int lex_string(const char *s, size_t len, size_t *i, struct lexed *out, size_t *sused, struct token *t,
		      struct df_error *err)
{
	size_t start = *i;
	bool raw = s[*i] == 'r';
	if (raw) ++*i;
	++*i; /* the opening quote */
	t->kind = TK_STRING;
	t->str = (uint32_t)*sused;
	for (;; ++*i) {
		if (*i >= len) return fail(err, start, 1, "a string without its closing quote");
		char c = s[*i];
		if (c == '"') break;
		if (c == '\\' && !raw) {
			++*i;
			int n = unescape(s, len, i, out->strbuf + *sused, err);
			if (n < 0) return -1;
			*sused += (size_t)n;
		} else if (c == '\\' && raw && *i + 1 < len && s[*i + 1] == '"') {
			out->strbuf[(*sused)++] = '\\'; /* r"\"" keeps both, as a regex wants */
			out->strbuf[(*sused)++] = '"';
			++*i;
		} else {
			out->strbuf[(*sused)++] = (uint8_t)c;
		}
	}
	++*i;
	t->slen = (uint32_t)(*sused - t->str);
	t->len = (uint32_t)(*i - start);
	return 0;
}

static int lex_char(const char *s, size_t len, size_t *i, struct token *t, struct df_error *err)
{
	size_t start = (*i)++;
	uint8_t b[4];
	if (*i >= len) return fail(err, start, 1, "a character constant without its closing quote");
	if (s[*i] == '\\') {
		++*i;
		int n = unescape(s, len, i, b, err);
		if (n < 0) return -1;
		if (n != 1) return fail(err, start, *i - start + 1, "a character constant must be one byte");
	} else {
		b[0] = (uint8_t)s[*i];
	}
	++*i;
	if (*i >= len || s[*i] != '\'') return fail(err, start, 1, "a character constant without its closing quote");
	++*i;
	t->kind = TK_CHAR;
	t->ch = b[0];
	t->len = (uint32_t)(*i - start);
	return 0;
}

int df_lex(const char *s, size_t len, struct lexed *out, struct df_error *err)
{
	/* Every token takes at least one byte, every decoded string byte (UTF-8 from \u
	 * included) at most its escape's bytes: both buffers are bounded by len. */
	out->toks = xcalloc(len + 1, sizeof *out->toks);
	out->strbuf = xmalloc(len + 4);
	out->n = 0;
	size_t sused = 0, i = 0;
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') { i++; continue; }
		struct token *t = &out->toks[out->n];
		t->pos = (uint32_t)i;
		if (c == '"' || (c == 'r' && i + 1 < len && s[i + 1] == '"')) {
			if (lex_string(s, len, &i, out, &sused, t, err) < 0) goto failed;
			out->n++;
			continue;
		}
		if (c == '\'') {
			if (lex_char(s, len, &i, t, err) < 0) goto failed;
			out->n++;
			continue;
		}
		if (is_word_char(c)) {
			size_t start = i;
			while (i < len && is_word_char((unsigned char)s[i])) i++;
			t->kind = TK_WORD;
			t->len = (uint32_t)(i - start);
			for (size_t k = 0; k < sizeof keywords / sizeof keywords[0]; k++)
				if (strlen(keywords[k].word) == t->len && !memcmp(keywords[k].word, s + start, t->len))
					t->kind = keywords[k].kind;
			out->n++;
			continue;
		}
		bool found = false;
		for (size_t k = 0; k < sizeof operators / sizeof operators[0]; k++) {
			size_t ol = strlen(operators[k].text);
			if (i + ol <= len && !memcmp(s + i, operators[k].text, ol)) {
				t->kind = operators[k].kind;
				t->len = (uint32_t)ol;
				i += ol;
				found = true;
				break;
			}
		}
		if (!found) {
			char msg[64];
			if (c == '=') snprintf(msg, sizeof msg, "'=' is not an operator: write == to compare");
			else if (c >= 0x20 && c < 0x7f) snprintf(msg, sizeof msg, "unexpected character '%c'", c);
			else snprintf(msg, sizeof msg, "unexpected byte 0x%02x", c);
			fail(err, i, 1, msg);
			goto failed;
		}
		out->n++;
	}
	out->toks[out->n] = (struct token){ .kind = TK_END, .pos = (uint32_t)len, .len = 0 };
	out->n++;
	return 0;
failed:
	df_lexed_free(out);
	return -1;
}

void df_lexed_free(struct lexed *l)
{
	free(l->toks);
	free(l->strbuf);
	l->toks = NULL;
	l->strbuf = NULL;
}
