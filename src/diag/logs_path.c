/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The log request of each connection. timestamps=true always: that is how
 * a reconnect resumes (log_cursor.h). The caller's tailLines/sinceSeconds/
 * sinceTime choose where the log starts; once a line was delivered, a
 * reconnect starts at that line's second instead (tailLines would skip what
 * was written while the connection was down).
 */
#include "diag_int.h"
#include "logs_int.h"

#include <stdio.h>
#include <string.h>

static void add(char *out, size_t cap, size_t *len, const char *key, const char *value)
{
	char esc[512];
	devkit__diag_query_escape(value, esc, sizeof(esc));
	int w = snprintf(out + *len, cap - *len, "&%s=%s", key, esc);
	if (w > 0 && (size_t)w < cap - *len)
		*len += (size_t)w;
}

void devkit__logs_path(const devkit_logs *l, char *out, size_t cap)
{
	char num[32];
	int w = snprintf(out, cap, "/api/v1/namespaces/%s/pods/%s/log?timestamps=true", l->ns,
		l->pod);
	size_t len = w > 0 && (size_t)w < cap ? (size_t)w : 0;
	if (l->container)
		add(out, cap, &len, "container", l->container);
	/* the previous instance has ended: there is nothing to follow */
	if (l->follow && !l->previous)
		add(out, cap, &len, "follow", "true");
	if (l->previous)
		add(out, cap, &len, "previous", "true");
	if (l->cursor.have) {
		char since[40];
		devkit__log_cursor_since(&l->cursor, since, sizeof(since));
		add(out, cap, &len, "sinceTime", since);
		return;
	}
	if (l->tail_lines >= 0) {
		snprintf(num, sizeof(num), "%lld", l->tail_lines);
		add(out, cap, &len, "tailLines", num);
	}
	if (l->since_time) {
		add(out, cap, &len, "sinceTime", l->since_time);
	} else if (l->since_seconds > 0) {
		/* nothing delivered yet, but time went by since the first request:
		 * the window still starts where the caller asked */
		uint64_t elapsed_s = (uv_hrtime() / 1000000u - l->started_ms) / 1000u;
		snprintf(num, sizeof(num), "%lld", l->since_seconds + (long long)elapsed_s);
		add(out, cap, &len, "sinceSeconds", num);
	}
}
