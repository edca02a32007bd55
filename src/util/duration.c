/* util/duration.c — see duration.h. */
#include "util/duration.h"

#include <errno.h>
#include <stdio.h>
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

const char *format_duration_ms(int64_t ms, char *out, size_t cap)
{
	static const struct { int64_t ms; const char *unit; } units[] = {
		{ 86400000, "d" }, { 3600000, "h" }, { 60000, "min" }, { 1000, "s" }, { 1, "ms" },
	};
	if (ms < 1) ms = 0;
	size_t i = 0;
	while (i + 1 < sizeof units / sizeof *units && ms < units[i].ms) i++;
	int64_t rest = i + 1 < sizeof units / sizeof *units ? ms % units[i].ms / units[i + 1].ms : 0;
	if (rest)
		snprintf(out, cap, "%lld %s %lld %s", (long long)(ms / units[i].ms), units[i].unit, (long long)rest,
			 units[i + 1].unit);
	else
		snprintf(out, cap, "%lld %s", (long long)(ms / units[i].ms), units[i].unit);
	return out;
}
