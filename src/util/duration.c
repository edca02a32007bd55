/* util/duration.c — see duration.h. */
#include "util/duration.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int parse_duration_ms(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "min", 60000 }, { "h", 3600000 }, { "d", 86400000 },
		{ "w", 604800000 },
	};
	if (s[0] < '0' || s[0] > '9') return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || v > (1ull << 40)) return -1;
	for (size_t i = 0; i < sizeof units / sizeof *units; i++)
		if (!strcmp(end, units[i].unit)) {
			*ms = (int64_t)v * units[i].ms;
			return 0;
		}
	return -1;
}
