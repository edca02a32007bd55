/* util/sbuf.h — the string builder: one type for two jobs.
 *
 * A bounded builder (sb_init_fixed) writes into caller storage and truncates at its hard
 * maximum, setting `trunc` (per-packet Info text, names). An output builder (sb_init_fd)
 * owns a large buffer and writes it to a file descriptor whenever it fills, so output is
 * one write(2) per ~1 MiB, never one per field. Appends never fail; an output builder
 * remembers the first write error in `werr` (errno) for the caller to report.
 */
#ifndef PKTSCOPE_UTIL_SBUF_H
#define PKTSCOPE_UTIL_SBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct sbuf {
	char *buf;
	size_t len;
	size_t cap;
	int fd;      /* -1: bounded builder */
	bool trunc;  /* bounded builder hit its maximum */
	bool owned;  /* buf was allocated by sb_init_fd */
	int werr;    /* first write error (errno), output builders only */
	size_t max;  /* a growing builder's hard maximum (0: it does not grow) */
};

void sb_init_fixed(struct sbuf *sb, char *storage, size_t cap);
/* Output builder over fd with a buffer of `cap` bytes (allocated; sb_free releases it). */
void sb_init_fd(struct sbuf *sb, int fd, size_t cap);
/* A builder in memory that grows as needed up to max bytes, then truncates (sets trunc). */
void sb_init_grow(struct sbuf *sb, size_t initial, size_t max);
void sb_free(struct sbuf *sb);
/* Writes what is buffered (output builders); returns 0 or -1 with werr set. */
int sb_flush(struct sbuf *sb);
static inline void sb_reset(struct sbuf *sb) { sb->len = 0; sb->trunc = false; }
/* NUL-terminates a bounded builder's text and returns it (storage must have cap+1). */
const char *sb_cstr(struct sbuf *sb);

/* Makes room for n bytes; returns how many of them can be written (< n only when a
 * bounded builder is full). */
size_t sb_room(struct sbuf *sb, size_t n);

static inline void sb_putc(struct sbuf *sb, char ch)
{
	if (sb->len < sb->cap || sb_room(sb, 1)) sb->buf[sb->len++] = ch;
}

/* The slow path of sb_put: flushing, or truncating a bounded builder. */
void sb_put_slow(struct sbuf *sb, const void *p, size_t n);

/* Inline: the text output calls these a dozen times per line, almost always with room. */
static inline void sb_put(struct sbuf *sb, const void *p, size_t n)
{
	if (sb->cap - sb->len >= n) {
		memcpy(sb->buf + sb->len, p, n);
		sb->len += n;
		return;
	}
	sb_put_slow(sb, p, n);
}

static inline void sb_puts(struct sbuf *sb, const char *s) { sb_put(sb, s, strlen(s)); }
void sb_printf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sb_u64(struct sbuf *sb, uint64_t v);
void sb_i64(struct sbuf *sb, int64_t v);
/* Lower-case hex, zero-padded to at least `digits` digits, without a prefix. */
void sb_hex(struct sbuf *sb, uint64_t v, int digits);
/* frac digits of v / 10^frac_digits after a decimal point: sb_fixed(sb, 1500, 3) -> 1.500 */
void sb_fixed(struct sbuf *sb, uint64_t v, int frac_digits);
void sb_ipv4(struct sbuf *sb, const uint8_t a[4]);
void sb_ipv6(struct sbuf *sb, const uint8_t a[16]);
void sb_mac(struct sbuf *sb, const uint8_t a[6]);
/* Bytes as "aa:bb:cc" (sep ':'), or run together when sep is 0. */
void sb_hexbytes(struct sbuf *sb, const uint8_t *p, size_t n, char sep);
/* A JSON string literal with quotes: control bytes escaped, invalid UTF-8 as U+FFFD. */
void sb_json_str(struct sbuf *sb, const void *p, size_t n);
/* Text for a terminal or TSV: valid UTF-8 kept, control bytes, tab and invalid UTF-8
 * become '.'. */
void sb_text(struct sbuf *sb, const uint8_t *p, size_t n);
/* RFC 3339 UTC time with `frac` fractional digits (6 or 9): 2024-01-02T03:04:05.123456Z */
void sb_rfc3339(struct sbuf *sb, int64_t sec, uint32_t nsec, int frac);

#endif
