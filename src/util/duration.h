/* util/duration.h — "500ms", "5s", "10m", "24h", "7d", "2w": a length of time, as the
 * command line and the configuration write it. */
#ifndef PKTSCOPE_UTIL_DURATION_H
#define PKTSCOPE_UTIL_DURATION_H

#include <stdint.h>

/* 0, or -1 when s is not a whole number followed by ms, s, m (min), h, d or w. */
int parse_duration_ms(const char *s, int64_t *ms);

#endif
