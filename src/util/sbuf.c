/* util/sbuf.c — see sbuf.h. */
#include "util/sbuf.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void sb_init_fixed(struct sbuf *sb, char *storage, size_t cap)
{
	*sb = (struct sbuf){ .buf = storage, .cap = cap, .fd = -1 };
}

void sb_init_fd(struct sbuf *sb, int fd, size_t cap)
{
	*sb = (struct sbuf){ .buf = xmalloc(cap), .cap = cap, .fd = fd, .owned = true };
}

void sb_init_grow(struct sbuf *sb, size_t initial, size_t max)
{
	*sb = (struct sbuf){ .buf = xmalloc(initial + 1), .cap = initial, .fd = -1, .owned = true, .max = max };
}

void sb_free(struct sbuf *sb)
{
	if (sb->owned) free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->cap = 0;
}

int sb_flush(struct sbuf *sb)
{
	if (sb->fd < 0) return 0;
	size_t off = 0;
	while (off < sb->len && !sb->werr) {
		ssize_t w = write(sb->fd, sb->buf + off, sb->len - off);
		if (w < 0) {
			if (errno == EINTR) continue;
			sb->werr = errno;
			break;
		}
		off += (size_t)w;
	}
	sb->len = 0;
	return sb->werr ? -1 : 0;
}

const char *sb_cstr(struct sbuf *sb)
{
	sb->buf[sb->len] = '\0';
	return sb->buf;
}

size_t sb_room(struct sbuf *sb, size_t n)
{
	if (sb->cap - sb->len >= n) return n;
	if (sb->fd >= 0) {
		sb_flush(sb);
		if (sb->cap >= n) return n;
		return sb->cap; /* caller writes in pieces */
	}
	if (sb->max > sb->cap) { /* growing: twice, or what is needed, up to the maximum */
		size_t want = sb->cap * 2 > sb->len + n ? sb->cap * 2 : sb->len + n;
		if (want > sb->max) want = sb->max;
		sb->buf = xrealloc(sb->buf, want + 1); /* + 1: room for sb_cstr's NUL */
		sb->cap = want;
		if (sb->cap - sb->len >= n) return n;
	}
	sb->trunc = true;
	return sb->cap - sb->len;
}

void sb_put_slow(struct sbuf *sb, const void *p, size_t n)
{
	const char *s = p;
	while (n) {
		size_t k = sb_room(sb, n);
		if (!k) return;
		memcpy(sb->buf + sb->len, s, k);
		sb->len += k;
		s += k;
		n -= k;
		if (sb->fd < 0) return;
	}
}


void sb_printf(struct sbuf *sb, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0) return;
	if ((size_t)n >= sizeof tmp) n = sizeof tmp - 1;
	sb_put(sb, tmp, (size_t)n);
}

/* "00" to "99": decimal numbers are written two digits per division (a text line holds a
 * dozen numbers of up to ten digits; this was the hottest function of `read`). */
static const char two_digits[200] = "0001020304050607080910111213141516171819"
				    "2021222324252627282930313233343536373839"
				    "4041424344454647484950515253545556575859"
				    "6061626364656667686970717273747576777879"
				    "8081828384858687888990919293949596979899";

/* Writes v's n decimal digits backwards, ending at end. */
static void put_digits(char *end, uint64_t v)
{
	while (v > UINT32_MAX) {
		uint32_t r = (uint32_t)(v % 100);
		v /= 100;
		end -= 2;
		memcpy(end, two_digits + 2 * r, 2);
	}
	uint32_t w = (uint32_t)v; /* the rest in 32-bit arithmetic: cheaper divisions */
	while (w >= 100) {
		uint32_t r = w % 100;
		w /= 100;
		end -= 2;
		memcpy(end, two_digits + 2 * r, 2);
	}
	if (w >= 10) memcpy(end - 2, two_digits + 2 * w, 2);
	else end[-1] = (char)('0' + w);
}

static unsigned decimal_len(uint64_t v)
{
	unsigned n = 1;
	for (uint64_t p = 10; n < 20 && v >= p; p *= 10) n++;
	return n;
}

void sb_u64(struct sbuf *sb, uint64_t v)
{
	unsigned n = decimal_len(v);
	if (sb->cap - sb->len >= n) { /* straight into the buffer: no copy, no library call */
		put_digits(sb->buf + sb->len + n, v);
		sb->len += n;
		return;
	}
	char tmp[20];
	put_digits(tmp + n, v);
	sb_put_slow(sb, tmp, n);
}

void sb_i64(struct sbuf *sb, int64_t v)
{
	if (v < 0) {
		sb_putc(sb, '-');
		sb_u64(sb, (uint64_t)0 - (uint64_t)v);
	} else {
		sb_u64(sb, (uint64_t)v);
	}
}

static const char hexdig[] = "0123456789abcdef";

void sb_hex(struct sbuf *sb, uint64_t v, int digits)
{
	char tmp[16];
	int i = sizeof tmp;
	do {
		tmp[--i] = hexdig[v & 15];
		v >>= 4;
	} while (v || (int)sizeof tmp - i < digits);
	sb_put(sb, tmp + i, sizeof tmp - (size_t)i);
}

void sb_fixed(struct sbuf *sb, uint64_t v, int frac_digits)
{
	uint64_t div = 1;
	for (int i = 0; i < frac_digits; i++) div *= 10;
	sb_u64(sb, v / div);
	if (frac_digits <= 0) return;
	sb_putc(sb, '.');
	char tmp[20];
	uint64_t f = v % div;
	for (int i = frac_digits - 1; i >= 0; i--) {
		tmp[i] = (char)('0' + f % 10);
		f /= 10;
	}
	sb_put(sb, tmp, (size_t)frac_digits);
}

void sb_ipv4(struct sbuf *sb, const uint8_t a[4])
{
	for (int i = 0; i < 4; i++) {
		if (i) sb_putc(sb, '.');
		sb_u64(sb, a[i]);
	}
}

void sb_ipv6(struct sbuf *sb, const uint8_t a[16])
{
	char tmp[INET6_ADDRSTRLEN];
	/* glibc's inet_ntop follows RFC 5952 (longest zero run of two or more, lower case). */
	if (inet_ntop(AF_INET6, a, tmp, sizeof tmp)) sb_puts(sb, tmp);
}

void sb_mac(struct sbuf *sb, const uint8_t a[6]) { sb_hexbytes(sb, a, 6, ':'); }

void sb_hexbytes(struct sbuf *sb, const uint8_t *p, size_t n, char sep)
{
	/* In chunks written straight into the buffer: payloads make this the hot path of
	 * NDJSON output. */
	size_t per = sep ? 3 : 2;
	bool first = true;
	while (n) {
		size_t chunk = n < 4096 ? n : 4096;
		size_t need = chunk * per;
		if (sb_room(sb, need) < need) {
			for (size_t i = 0; i < chunk; i++) { /* a bounded builder near its end */
				if (sep && !(first && i == 0)) sb_putc(sb, sep);
				sb_putc(sb, hexdig[p[i] >> 4]);
				sb_putc(sb, hexdig[p[i] & 15]);
			}
			return;
		}
		char *o = sb->buf + sb->len;
		for (size_t i = 0; i < chunk; i++) {
			*o++ = hexdig[p[i] >> 4];
			*o++ = hexdig[p[i] & 15];
			if (sep) *o++ = sep;
		}
		sb->len += need;
		p += chunk;
		n -= chunk;
		first = false;
		if (sep && !n) sb->len--; /* no separator after the last byte */
	}
}

/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no surrogates, at most
 * U+10FFFF), or 0 when the bytes there are not one. */
static size_t utf8_seq_len(const uint8_t *p, size_t n)
{
	uint8_t b = p[0];
	size_t len;
	uint8_t lo = 0x80, hi = 0xbf;
	if (b >= 0xc2 && b <= 0xdf) len = 2;
	else if (b >= 0xe0 && b <= 0xef) {
		len = 3;
		if (b == 0xe0) lo = 0xa0;
		if (b == 0xed) hi = 0x9f;
	} else if (b >= 0xf0 && b <= 0xf4) {
		len = 4;
		if (b == 0xf0) lo = 0x90;
		if (b == 0xf4) hi = 0x8f;
	} else return 0;
	if (n < len) return 0;
	if (p[1] < lo || p[1] > hi) return 0;
	for (size_t i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf) return 0;
	return len;
}

void sb_json_str(struct sbuf *sb, const void *data, size_t n)
{
	const uint8_t *p = data;
	sb_putc(sb, '"');
	size_t i = 0;
	while (i < n) {
		size_t run = i;
		while (run < n && p[run] >= 0x20 && p[run] < 0x80 && p[run] != '"' && p[run] != '\\')
			run++;
		if (run > i) {
			sb_put(sb, p + i, run - i);
			i = run;
			continue;
		}
		uint8_t b = p[i];
		if (b == '"' || b == '\\') {
			sb_putc(sb, '\\');
			sb_putc(sb, (char)b);
			i++;
		} else if (b < 0x20 || b == 0x7f) {
			switch (b) {
			case '\n': sb_puts(sb, "\\n"); break;
			case '\r': sb_puts(sb, "\\r"); break;
			case '\t': sb_puts(sb, "\\t"); break;
			default:
				sb_puts(sb, "\\u00");
				sb_putc(sb, hexdig[b >> 4]);
				sb_putc(sb, hexdig[b & 15]);
			}
			i++;
		} else {
			size_t k = utf8_seq_len(p + i, n - i);
			if (k) {
				sb_put(sb, p + i, k);
				i += k;
			} else {
				sb_puts(sb, "\\ufffd");
				i++;
			}
		}
	}
	sb_putc(sb, '"');
}

void sb_text(struct sbuf *sb, const uint8_t *p, size_t n)
{
	size_t i = 0;
	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			sb_putc(sb, (char)p[i++]);
			continue;
		}
		size_t k = p[i] >= 0x80 ? utf8_seq_len(p + i, n - i) : 0;
		if (k) {
			sb_put(sb, p + i, k);
			i += k;
		} else {
			sb_putc(sb, '.');
			i++;
		}
	}
}

static void put2(struct sbuf *sb, unsigned v)
{
	sb_putc(sb, (char)('0' + v / 10 % 10));
	sb_putc(sb, (char)('0' + v % 10));
}

void sb_rfc3339(struct sbuf *sb, int64_t sec, uint32_t nsec, int frac)
{
	time_t t = (time_t)sec;
	struct tm tm;
	if (!gmtime_r(&t, &tm)) {
		sb_puts(sb, "1970-01-01T00:00:00Z");
		return;
	}
	int year = tm.tm_year + 1900;
	if (year < 0 || year > 9999) year = year < 0 ? 0 : 9999;
	put2(sb, (unsigned)year / 100);
	put2(sb, (unsigned)year % 100);
	sb_putc(sb, '-');
	put2(sb, (unsigned)tm.tm_mon + 1);
	sb_putc(sb, '-');
	put2(sb, (unsigned)tm.tm_mday);
	sb_putc(sb, 'T');
	put2(sb, (unsigned)tm.tm_hour);
	sb_putc(sb, ':');
	put2(sb, (unsigned)tm.tm_min);
	sb_putc(sb, ':');
	put2(sb, (unsigned)tm.tm_sec);
	if (frac > 0) {
		uint32_t f = nsec;
		for (int i = frac; i < 9; i++) f /= 10;
		char tmp[9];
		for (int i = frac - 1; i >= 0; i--) {
			tmp[i] = (char)('0' + f % 10);
			f /= 10;
		}
		sb_putc(sb, '.');
		sb_put(sb, tmp, (size_t)frac);
	}
	sb_putc(sb, 'Z');
}
