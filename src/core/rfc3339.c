/* SPDX-License-Identifier: Apache-2.0 */
#include "rfc3339.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

int devkit__rfc3339_parse_ms(const char *s, int64_t *ms)
{
	if (!s)
		return -1;
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int year, mon, day, hour, min, sec, frac_ms = 0;
	if (digits(&s, 4, &year) || *s++ != '-' || digits(&s, 2, &mon) || *s++ != '-' ||
		digits(&s, 2, &day) || (*s != 'T' && *s != 't'))
		return -1;
	s++;
	if (digits(&s, 2, &hour) || *s++ != ':' || digits(&s, 2, &min) || *s++ != ':' ||
		digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		s++;
		int scale = 100, any = 0;
		while (isdigit((unsigned char)*s)) {
			frac_ms += (*s - '0') * scale;
			scale /= 10;
			s++;
			any = 1;
		}
		if (!any)
			return -1;
	}
	int offset_min = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -1;
		offset_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*s || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac_ms;
	return 0;
}

int devkit__rfc3339_parse(const char *s, time_t *out)
{
	int64_t ms;
	if (devkit__rfc3339_parse_ms(s, &ms) != 0)
		return -1;
	*out = (time_t)(ms / 1000);
	return 0;
}

void devkit__rfc3339_format(time_t t, char out[32])
{
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
