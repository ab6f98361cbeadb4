/* SPDX-License-Identifier: Apache-2.0 */
/* Resuming a log without losing or repeating lines (log_cursor.h). */
#include "log_cursor.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/rfc3339.h"

size_t devkit__log_ts_parse(const char *line, size_t len, devkit__log_ts *ts)
{
	char tok[48];
	size_t n = 0;
	while (n < len && line[n] != ' ')
		n++;
	/* "2006-01-02T15:04:05Z" is the shortest the kubelet writes */
	if (n < 20 || n >= sizeof(tok))
		return 0;
	memcpy(tok, line, n);
	tok[n] = '\0';
	int32_t nsec = 0;
	char *dot = strchr(tok, '.');
	if (dot) {
		/* the fraction, to the nanosecond; cut out so that the rest parses
		 * as whole seconds */
		char *p = dot + 1;
		int digits = 0;
		int32_t scale = 100000000;
		while (isdigit((unsigned char)*p)) {
			if (digits++ < 9) {
				nsec += (*p - '0') * scale;
				scale /= 10;
			}
			p++;
		}
		if (digits == 0)
			return 0;
		memmove(dot, p, strlen(p) + 1);
	}
	time_t sec;
	if (devkit__rfc3339_parse(tok, &sec) != 0)
		return 0;
	ts->sec = (int64_t)sec;
	ts->nsec = nsec;
	return n;
}

int devkit__log_ts_cmp(const devkit__log_ts *a, const devkit__log_ts *b)
{
	if (a->sec != b->sec)
		return a->sec < b->sec ? -1 : 1;
	if (a->nsec != b->nsec)
		return a->nsec < b->nsec ? -1 : 1;
	return 0;
}

int devkit__log_cursor_take(devkit__log_cursor *c, const devkit__log_ts *ts)
{
	if (!ts)
		return DEVKIT__LOG_DELIVER;
	if (c->resuming && c->have) {
		int cmp = devkit__log_ts_cmp(ts, &c->last);
		if (cmp < 0)
			return DEVKIT__LOG_DROP;
		if (cmp == 0 && c->skip > 0) {
			c->skip--;
			return DEVKIT__LOG_DROP;
		}
	}
	/* past the overlap: every later line is new */
	c->resuming = 0;
	if (c->have && devkit__log_ts_cmp(ts, &c->last) == 0) {
		c->same++;
	} else {
		c->have = 1;
		c->last = *ts;
		c->same = 1;
	}
	return DEVKIT__LOG_DELIVER;
}

void devkit__log_cursor_resume(devkit__log_cursor *c)
{
	c->resuming = c->have;
	c->skip = c->same;
}

void devkit__log_cursor_since(const devkit__log_cursor *c, char *out, size_t cap)
{
	char buf[32];
	devkit__rfc3339_format((time_t)c->last.sec, buf);
	snprintf(out, cap, "%s", buf);
}
