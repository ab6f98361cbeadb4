/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Durations as people write them: "30s", "500ms", "8h", "1h30m", "1.5s"; a
 * bare 0 means zero. A bare number is refused: "ttl: 30" could be seconds or
 * milliseconds, and guessing wrong is a silent failure.
 */
#include "config_int.h"

#include <stdio.h>
#include <string.h>

#define MAX_MS 1000000000000000ULL /* ~31700 years: far past every range, no overflow */

int cfg_parse_duration(const char *t, unsigned long long *ms)
{
	unsigned long long total = 0;

	if (!strcmp(t, "0")) {
		*ms = 0;
		return 0;
	}
	if (!*t)
		return -1;
	while (*t) {
		unsigned long long whole = 0, frac = 0, scale = 1, unit;
		size_t n = strspn(t, "0123456789");
		if (n == 0 || n > 15)
			return -1;
		for (size_t i = 0; i < n; i++)
			whole = whole * 10 + (unsigned)(t[i] - '0');
		t += n;
		if (*t == '.') {
			n = strspn(t + 1, "0123456789");
			if (n == 0 || n > 9)
				return -1;
			for (size_t i = 0; i < n; i++) {
				frac = frac * 10 + (unsigned)(t[1 + i] - '0');
				scale *= 10;
			}
			t += 1 + n;
		}
		if (!strncmp(t, "ms", 2))
			unit = 1, t += 2;
		else if (*t == 's')
			unit = 1000, t++;
		else if (*t == 'm')
			unit = 60000, t++;
		else if (*t == 'h')
			unit = 3600000, t++;
		else
			return -1;
		/* A fraction must come out in whole milliseconds: "1.5ms" is not. */
		if ((frac * unit) % scale != 0)
			return -1;
		if (whole > MAX_MS / unit)
			return -1;
		total += whole * unit + frac * unit / scale;
		if (total > MAX_MS)
			return -1;
	}
	*ms = total;
	return 0;
}

void cfg_format_duration(unsigned long long ms, char *buf, size_t size)
{
	static const struct { unsigned long long ms; const char *unit; } units[] = {
		{ 3600000, "h" }, { 60000, "m" }, { 1000, "s" }, { 1, "ms" }
	};
	size_t len = 0;

	if (ms == 0) {
		snprintf(buf, size, "0");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && len < size; i++) {
		if (ms >= units[i].ms) {
			len += (size_t)snprintf(buf + len, size - len, "%llu%s", ms / units[i].ms,
				units[i].unit);
			ms %= units[i].ms;
		}
	}
}
