/* pipeline/config.c — the TOML subset of config.toml (TOML 1.0: tables, bare keys, basic and
 * literal strings, integers, booleans, comments), read line by line with every size
 * capped, and checked against the keys pktscope knows. */
#include "pipeline/config.h"
#include "util/duration.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "filter/filter.h"
#include "util/xalloc.h"

enum table { T_NONE, T_CAPTURE, T_DISPLAY, T_FILTERS, T_MONITOR };

struct parse {
	const char *name;
	unsigned line;
	char *err;
	size_t errlen;
	enum table table;
	bool seen[5];             /* a table may appear once */
	bool seen_key[32];        /* capture.default_interface, snaplen, buffer_mb, display.color_scheme,
				   * capture.disk_budget_mb, then the [monitor] keys (MON_SLOT + their index) */
};

__attribute__((format(printf, 2, 3)))
static int fail(struct parse *ps, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->errlen, "%s:%u: %s", ps->name, ps->line, msg);
	return -1;
}

static const char *skip_ws(const char *s, const char *end)
{
	while (s < end && (*s == ' ' || *s == '\t')) s++;
	return s;
}

/* The rest of the line after a value: blanks, then nothing or a comment. */
static int line_end(struct parse *ps, const char *s, const char *end)
{
	s = skip_ws(s, end);
	if (s < end && *s != '#') return fail(ps, "unexpected \"%.*s\" after the value", (int)(end - s > 20 ? 20 : end - s), s);
	return 0;
}

static bool bare_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

static size_t put_utf8(char *o, uint32_t cp)
{
	if (cp < 0x80) { o[0] = (char)cp; return 1; }
	if (cp < 0x800) { o[0] = (char)(0xc0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3f)); return 2; }
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f)); o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9') return c - '0';
	if (c >= 'a' && c <= 'f') return c - 'a' + 10;
	if (c >= 'A' && c <= 'F') return c - 'A' + 10;
	return -1;
}

/* A basic ("…", escapes) or literal ('…') string on one line; *out is allocated. */
static int parse_string(struct parse *ps, const char **sp, const char *end, char **out)
{
	const char *s = *sp;
	char quote = *s++;
	if (s + 1 < end && s[0] == quote && s[1] == quote) return fail(ps, "multi-line strings are not supported here");
	char *buf = xmalloc((size_t)(end - s) + 1), *o = buf;
	for (;; s++) {
		if (s >= end) {
			free(buf);
			return fail(ps, "a string without its closing %c", quote);
		}
		if (*s == quote) break;
		if ((unsigned char)*s < 0x20 && *s != '\t') {
			free(buf);
			return fail(ps, "a control character inside a string");
		}
		if (*s != '\\' || quote == '\'') {
			*o++ = *s;
			continue;
		}
		if (++s >= end) { /* a backslash that ends the line: the string never closes */
			free(buf);
			return fail(ps, "a string without its closing %c", quote);
		}
		switch (*s) {
		case 'b': *o++ = '\b'; break;
		case 't': *o++ = '\t'; break;
		case 'n': *o++ = '\n'; break;
		case 'f': *o++ = '\f'; break;
		case 'r': *o++ = '\r'; break;
		case '"': *o++ = '"'; break;
		case '\\': *o++ = '\\'; break;
		case 'u': case 'U': {
			int n = *s == 'u' ? 4 : 8;
			uint32_t cp = 0;
			for (int i = 0; i < n; i++) {
				if (s + 1 >= end || hexval(s[1]) < 0) {
					free(buf);
					return fail(ps, "\\%c needs %d hexadecimal digits", n == 4 ? 'u' : 'U', n);
				}
				cp = cp * 16 + (uint32_t)hexval(*++s);
			}
			if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
				free(buf);
				return fail(ps, "\\u%04X is not a Unicode scalar value", cp);
			}
			o += put_utf8(o, cp);
			break;
		}
		default:
			free(buf);
			return fail(ps, "unknown escape \\%c in a string", *s);
		}
	}
	*o = '\0';
	*sp = s + 1;
	*out = buf;
	return 0;
}

/* A TOML integer (decimal with optional sign and single underscores between digits). */
static int parse_int(struct parse *ps, const char **sp, const char *end, long *out)
{
	const char *s = *sp;
	bool neg = false;
	if (s < end && (*s == '+' || *s == '-')) neg = *s++ == '-';
	long v = 0;
	bool digit = false, under = false;
	for (; s < end && ((*s >= '0' && *s <= '9') || *s == '_'); s++) {
		if (*s == '_') {
			if (!digit || under) return fail(ps, "a misplaced _ in a number");
			under = true;
			continue;
		}
		under = false;
		if (v > (LONG_MAX - 9) / 10) return fail(ps, "a number too large");
		v = v * 10 + (*s - '0');
		digit = true;
	}
	if (!digit || under) return fail(ps, "a value must be a \"string\", a number or true/false");
	*out = neg ? -v : v;
	*sp = s;
	return 0;
}

static int want_string(struct parse *ps, const char **sp, const char *end, const char *key, char **out)
{
	if (*sp >= end || (**sp != '"' && **sp != '\'')) return fail(ps, "%s takes a quoted string", key);
	return parse_string(ps, sp, end, out);
}

static int want_int(struct parse *ps, const char **sp, const char *end, const char *key, long lo, long hi, int *out)
{
	long v = 0;
	if (*sp >= end || !((**sp >= '0' && **sp <= '9') || **sp == '-' || **sp == '+')) return fail(ps, "%s takes a number", key);
	if (parse_int(ps, sp, end, &v) < 0) return -1;
	if (v < lo || v > hi) return fail(ps, "%s must be %ld to %ld, not %ld", key, lo, hi, v);
	*out = (int)v;
	return 0;
}

static int want_bool(struct parse *ps, const char **sp, const char *end, const char *key, int *out)
{
	const char *s = *sp;
	if (end - s >= 4 && !memcmp(s, "true", 4)) *out = 1, *sp = s + 4;
	else if (end - s >= 5 && !memcmp(s, "false", 5)) *out = 0, *sp = s + 5;
	else return fail(ps, "%s takes true or false", key);
	return 0;
}

static int set_once(struct parse *ps, int slot, const char *key)
{
	if (ps->seen_key[slot]) return fail(ps, "%s is set twice", key);
	ps->seen_key[slot] = true;
	return 0;
}

static int key_value(struct parse *ps, struct config *c, const char *key, size_t klen, const char *s, const char *end)
{
	char name[64];
	if (klen >= sizeof name) return fail(ps, "a key longer than %zu characters", sizeof name - 1);
	memcpy(name, key, klen);
	name[klen] = '\0';
	char *str = NULL;
	int rc;
	switch (ps->table) {
	case T_NONE:
		return fail(ps, "\"%s\" outside a table: put it under [capture], [display], [filters] or [monitor]", name);
	case T_CAPTURE:
		if (!strcmp(name, "default_interface")) {
			if (set_once(ps, 0, name) < 0 || want_string(ps, &s, end, name, &str) < 0) return -1;
			if (!*str || strlen(str) > 255) {
				free(str);
				return fail(ps, "default_interface must be an interface name");
			}
			c->default_interface = str;
		} else if (!strcmp(name, "snaplen")) {
			if (set_once(ps, 1, name) < 0 || want_int(ps, &s, end, name, 1, 262144, &c->snaplen) < 0) return -1;
		} else if (!strcmp(name, "buffer_mb")) {
			if (set_once(ps, 2, name) < 0 || want_int(ps, &s, end, name, 1, 4096, &c->buffer_mb) < 0) return -1;
		} else if (!strcmp(name, "disk_budget_mb")) {
			if (set_once(ps, 4, name) < 0 || want_int(ps, &s, end, name, 1, 1 << 30, &c->disk_budget_mb) < 0) return -1;
		} else {
			return fail(ps, "unknown key \"%s\" in [capture] (there are default_interface, snaplen, buffer_mb, disk_budget_mb)",
				    name);
		}
		break;
	case T_DISPLAY:
		if (strcmp(name, "color_scheme"))
			return fail(ps, "unknown key \"%s\" in [display] (there is color_scheme)", name);
		if (set_once(ps, 3, name) < 0 || want_string(ps, &s, end, name, &str) < 0) return -1;
		if (strcmp(str, "auto") && strcmp(str, "dark") && strcmp(str, "light") && strcmp(str, "mono")) {
			rc = fail(ps, "color_scheme is auto, dark, light or mono, not \"%.40s\"", str);
			free(str);
			return rc;
		}
		c->color_scheme = str;
		break;
	case T_MONITOR: {
		static const char *const strs[] = { "interfaces", "capture_filter", "state_dir", "geoip_country_db", "geoip_asn_db",
						    "geoip_url" };
		char **strv[] = { &c->mon.interfaces, &c->mon.capture_filter, &c->mon.state_dir, &c->mon.geoip_country_db,
				  &c->mon.geoip_asn_db, &c->mon.geoip_url };
		static const struct { const char *name; long lo, hi; } ints[] = { { "retention_days", 1, 36500 },
										  { "max_db_mb", 1, 1 << 20 } };
		int *intv[] = { &c->mon.retention_days, &c->mon.max_db_mb };
		enum { MON_SLOT = 5 };
		for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
			if (strcmp(name, strs[i])) continue;
			if (set_once(ps, MON_SLOT + (int)i, name) < 0 || want_string(ps, &s, end, name, &str) < 0) return -1;
			if (!*str) {
				free(str);
				return fail(ps, "%s must not be empty", name);
			}
			*strv[i] = str;
			return line_end(ps, s, end);
		}
		for (size_t i = 0; i < sizeof ints / sizeof *ints; i++) {
			if (strcmp(name, ints[i].name)) continue;
			if (set_once(ps, MON_SLOT + 8 + (int)i, name) < 0 || want_int(ps, &s, end, name, ints[i].lo, ints[i].hi, intv[i]) < 0)
				return -1;
			return line_end(ps, s, end);
		}
		if (!strcmp(name, "ebpf") || !strcmp(name, "journal")) {
			int on = 0, journal = name[0] == 'j';
			if (set_once(ps, MON_SLOT + (journal ? 17 : 10), name) < 0 || want_bool(ps, &s, end, name, &on) < 0) return -1;
			*(journal ? &c->mon.journal : &c->mon.ebpf) = on ? 1 : -1;
			return line_end(ps, s, end);
		}
		/* the baseline (egress/baseline.h) */
		static const char *const durs[] = { "learning", "volume_interval", "cooldown" };
		int64_t *durv[] = { &c->mon.learning_ms, &c->mon.volume_interval_ms, &c->mon.cooldown_ms };
		for (size_t i = 0; i < sizeof durs / sizeof *durs; i++) {
			if (strcmp(name, durs[i])) continue;
			if (set_once(ps, MON_SLOT + 11 + (int)i, name) < 0 || want_string(ps, &s, end, name, &str) < 0) return -1;
			int64_t ms;
			if (parse_duration_ms(str, &ms) < 0 || ms <= 0) {
				rc = fail(ps, "%s is a length of time such as \"5s\", \"10m\", \"24h\" or \"7d\", not \"%.40s\"", name, str);
				free(str);
				return rc;
			}
			free(str);
			*durv[i] = ms;
			return line_end(ps, s, end);
		}
		static const struct { const char *name; long lo, hi; } vints[] = {
			{ "volume_floor_mb", 1, 1 << 20 }, { "volume_window", 2, 10080 }, { "volume_min_samples", 1, 10080 } };
		int *vintv[] = { &c->mon.volume_floor_mb, &c->mon.volume_window, &c->mon.volume_min_samples };
		for (size_t i = 0; i < sizeof vints / sizeof *vints; i++) {
			if (strcmp(name, vints[i].name)) continue;
			if (set_once(ps, MON_SLOT + 14 + (int)i, name) < 0 ||
			    want_int(ps, &s, end, name, vints[i].lo, vints[i].hi, vintv[i]) < 0)
				return -1;
			return line_end(ps, s, end);
		}
		return fail(ps, "unknown key \"%s\" in [monitor] (there are interfaces, capture_filter, state_dir, "
			    "geoip_country_db, geoip_asn_db, geoip_url, retention_days, max_db_mb, ebpf, learning, "
			    "volume_interval, volume_floor_mb, volume_window, volume_min_samples, cooldown, journal)", name);
	}
	case T_FILTERS: {
		if (config_filter(c, name)) return fail(ps, "filter \"%s\" is defined twice", name);
		if (c->nfilters == CONFIG_MAX_FILTERS) return fail(ps, "more than %d saved filters", CONFIG_MAX_FILTERS);
		if (want_string(ps, &s, end, name, &str) < 0) return -1;
		struct df_error e;
		struct df_filter *f = df_compile(str, &e);
		if (!f) {
			rc = fail(ps, "filter \"%s\" does not compile: %s", name, e.msg);
			free(str);
			return rc;
		}
		df_free(f);
		c->filters = xrealloc(c->filters, (c->nfilters + 1) * sizeof *c->filters);
		c->filters[c->nfilters++] = (struct saved_filter){ xstrdup(name), str };
		break;
	}
	}
	return line_end(ps, s, end);
}

static int table_header(struct parse *ps, const char *s, const char *end)
{
	const char *close = memchr(s, ']', (size_t)(end - s));
	if (s + 1 < end && s[1] == '[') return fail(ps, "arrays of tables are not used in this file");
	if (!close) return fail(ps, "a table name without its closing ]");
	const char *n = skip_ws(s + 1, close), *ne = close;
	while (ne > n && (ne[-1] == ' ' || ne[-1] == '\t')) ne--;
	static const struct { const char *name; enum table t; } tables[] = {
		{ "capture", T_CAPTURE }, { "display", T_DISPLAY }, { "filters", T_FILTERS }, { "monitor", T_MONITOR },
	};
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
		if (strlen(tables[i].name) != (size_t)(ne - n) || memcmp(tables[i].name, n, (size_t)(ne - n))) continue;
		if (ps->seen[tables[i].t]) return fail(ps, "[%s] appears twice", tables[i].name);
		ps->seen[tables[i].t] = true;
		ps->table = tables[i].t;
		return line_end(ps, close + 1, end);
	}
	return fail(ps, "unknown table [%.*s] (there are [capture], [display], [filters] and [monitor])", (int)(ne - n > 40 ? 40 : ne - n), n);
}

static int parse_line(struct parse *ps, struct config *c, const char *s, const char *end)
{
	s = skip_ws(s, end);
	if (s == end || *s == '#') return 0;
	if (*s == '[') return table_header(ps, s, end);
	const char *key = s;
	size_t klen;
	if (*s == '"') { /* a quoted key, for filter names with other characters */
		char *q;
		if (parse_string(ps, &s, end, &q) < 0) return -1;
		klen = strlen(q);
		char tmp[64];
		if (klen >= sizeof tmp) {
			free(q);
			return fail(ps, "a key longer than 63 characters");
		}
		memcpy(tmp, q, klen + 1);
		free(q);
		s = skip_ws(s, end);
		if (s == end || *s != '=') return fail(ps, "a key must be followed by =");
		return key_value(ps, c, tmp, klen, skip_ws(s + 1, end), end);
	}
	while (s < end && bare_key_char(*s)) s++;
	klen = (size_t)(s - key);
	if (!klen) return fail(ps, "expected a key, a [table] or a comment, not \"%.*s\"", (int)(end - s > 20 ? 20 : end - s), s);
	s = skip_ws(s, end);
	if (s < end && *s == '.') return fail(ps, "dotted keys are not used in this file");
	if (s == end || *s != '=') return fail(ps, "\"%.*s\" must be followed by = and a value", (int)(klen > 40 ? 40 : klen), key);
	s = skip_ws(s + 1, end);
	if (s == end || *s == '#') return fail(ps, "\"%.*s\" has no value", (int)(klen > 40 ? 40 : klen), key);
	return key_value(ps, c, key, klen, s, end);
}

int config_parse(const char *text, size_t len, const char *name, struct config *c, char *err, size_t errlen)
{
	struct parse ps = { .name = name, .err = err, .errlen = errlen };
	const char *s = text, *end = text + len;
	if (len >= 3 && !memcmp(s, "\xef\xbb\xbf", 3)) s += 3; /* a UTF-8 byte order mark */
	while (s < end) {
		ps.line++;
		const char *nl = memchr(s, '\n', (size_t)(end - s));
		const char *le = nl ? nl : end;
		if (le > s && le[-1] == '\r') le--;
		size_t n = le > s ? (size_t)(le - s) : 0;
		if (memchr(s, '\0', n)) return fail(&ps, "a NUL byte: this is not a text file");
		if (parse_line(&ps, c, s, le) < 0) return -1;
		s = nl ? nl + 1 : end;
	}
	return 0;
}

int config_load(const char *path, struct config *c, char *err, size_t errlen)
{
	memset(c, 0, sizeof *c);
	char def[4096];
	bool explicit_path = path != NULL;
	if (!path) {
		const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
		if (xdg && *xdg) snprintf(def, sizeof def, "%s/pktscope/config.toml", xdg);
		else if (home && *home) snprintf(def, sizeof def, "%s/.config/pktscope/config.toml", home);
		else return 0;
		path = def;
	}
	FILE *f = fopen(path, "rb");
	if (!f) {
		if (!explicit_path && errno == ENOENT) return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = xmalloc(CONFIG_MAX_BYTES + 1);
	size_t n = fread(buf, 1, CONFIG_MAX_BYTES + 1, f);
	bool bad = ferror(f);
	fclose(f);
	int rc = 0;
	if (bad) {
		snprintf(err, errlen, "%s: cannot be read", path);
		rc = -1;
	} else if (n > CONFIG_MAX_BYTES) {
		snprintf(err, errlen, "%s: larger than %u bytes: not a configuration file", path, CONFIG_MAX_BYTES);
		rc = -1;
	} else {
		rc = config_parse(buf, n, path, c, err, errlen);
	}
	free(buf);
	if (rc == 0) c->path = xstrdup(path);
	else config_free(c);
	return rc;
}

const char *config_filter(const struct config *c, const char *name)
{
	for (size_t i = 0; i < c->nfilters; i++)
		if (!strcmp(c->filters[i].name, name)) return c->filters[i].expr;
	return NULL;
}

void config_free(struct config *c)
{
	for (size_t i = 0; i < c->nfilters; i++) {
		free(c->filters[i].name);
		free(c->filters[i].expr);
	}
	free(c->filters);
	free(c->path);
	free(c->default_interface);
	free(c->color_scheme);
	free(c->mon.interfaces);
	free(c->mon.capture_filter);
	free(c->mon.state_dir);
	free(c->mon.geoip_country_db);
	free(c->mon.geoip_asn_db);
	free(c->mon.geoip_url);
	memset(c, 0, sizeof *c);
}
