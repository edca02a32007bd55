/* util/duration.h — "500ms", "5s", "10m", "24h", "7d", "2w": a length of time, as the
 * command line and the configuration write it. */
#ifndef PKTSCOPE_UTIL_DURATION_H
#define PKTSCOPE_UTIL_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* 0, or -1 when s is not a whole number followed by ms, s, m (min), h, d or w. */
int parse_duration_ms(const char *s, int64_t *ms);
/* The other way, for people: "500 ms", "5 s", "1 min", "7 d", "1 h 30 min" (the largest
 * unit and, when there is a remainder, the next one down, truncated). Returns out. */
const char *format_duration_ms(int64_t ms, char *out, size_t cap);

#endif
