/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's record (shell_int.h): one JSON line per command for
 * the audit log, and the same as a core/v1 Event on the Pod.
 */
#include "shell_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "devkit/common.h"

void devkit__shell_time(int64_t ms, char out[32])
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&t, &tm);
	char whole[24];
	strftime(whole, sizeof(whole), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%.19s.%03dZ", whole, (int)(ms % 1000));
}

/* The length of the UTF-8 sequence at s (1..4), or 0 when it is not one
 * (overlong forms, surrogates and values past U+10FFFF are not). */
static size_t utf8_seq(const unsigned char *s, size_t len)
{
	unsigned char c = s[0];
	size_t n;
	unsigned int cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF) {
		n = 2;
		cp = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		cp = c & 0x0F;
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len < n)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3F);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
		(n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
		return 0;
	return n;
}

int devkit__shell_utf8_clean(const char *in, size_t len, devkit__bytes *out)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t i = 0;
	while (i < len) {
		size_t start = i, n;
		while (i < len && (n = utf8_seq(s + i, len - i)) > 0)
			i += n;
		if (i > start && devkit__bytes_append(out, in + start, i - start) != 0)
			return DEVKIT_ENOMEM;
		if (i < len) {
			if (devkit__bytes_append(out, "\xEF\xBF\xBD", 3) != 0)
				return DEVKIT_ENOMEM;
			i++;
		}
	}
	return 0;
}

/* A JSON string of any bytes, or JSON null for NULL. */
static json_t *jstr(const char *s, size_t len)
{
	if (!s)
		return json_null();
	devkit__bytes b = DEVKIT__BYTES_INIT;
	json_t *j = NULL;
	if (devkit__shell_utf8_clean(s, len, &b) == 0)
		j = json_stringn(b.data ? b.data : "", b.len);
	devkit__bytes_free(&b);
	return j;
}

static json_t *jtime(int64_t ms)
{
	char t[32];
	if (ms <= 0)
		return json_null();
	devkit__shell_time(ms, t);
	return json_string(t);
}

char *devkit__shell_record_json(const devkit__shell_record *r)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	int bad = json_object_set_new(o, "time", jtime(r->time_ms)) ||
		json_object_set_new(o, "end_time", jtime(r->end_time_ms)) ||
		json_object_set_new(o, "user", jstr(r->user, r->user ? strlen(r->user) : 0)) ||
		json_object_set_new(o, "namespace", jstr(r->namespace_name,
			r->namespace_name ? strlen(r->namespace_name) : 0)) ||
		json_object_set_new(o, "pod", jstr(r->pod, r->pod ? strlen(r->pod) : 0)) ||
		json_object_set_new(o, "container", jstr(r->container,
			r->container ? strlen(r->container) : 0)) ||
		json_object_set_new(o, "command", jstr(r->command, r->command_len)) ||
		json_object_set_new(o, "exit_status", r->exit_status < 0 ? json_null() :
			json_integer(r->exit_status));
	char *text = bad ? NULL : json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!text)
		return NULL;
	size_t n = strlen(text);
	char *line = realloc(text, n + 2);
	if (!line) {
		free(text);
		return NULL;
	}
	line[n] = '\n';
	line[n + 1] = '\0';
	return line;
}

/* The longest prefix of s (at most max bytes) that does not cut a UTF-8
 * sequence. */
static size_t utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

char *devkit__shell_event_message(const devkit__shell_record *r)
{
	char tail[64];
	if (r->exit_status >= 0)
		snprintf(tail, sizeof(tail), " (exit %d)", r->exit_status);
	else
		snprintf(tail, sizeof(tail), " (not finished when the session closed)");
	const char *c = r->command ? r->command : "(a command whose text the shell did not keep)";
	size_t clen = r->command ? r->command_len : strlen(c);
	const char *u = r->user ? r->user : "";
	devkit__bytes cmd = DEVKIT__BYTES_INIT, user = DEVKIT__BYTES_INIT;
	char *msg = NULL;
	if (devkit__shell_utf8_clean(c, clen, &cmd) == 0 &&
		devkit__shell_utf8_clean(u, strlen(u), &user) == 0) {
		const char *ut = user.data ? user.data : "", *ct = cmd.data ? cmd.data : "";
		size_t ulen = utf8_cut(ut, user.len, DEVKIT__SHELL_EVENT_MESSAGE_MAX / 4);
		size_t fixed = ulen + strlen(" ran: ") + strlen(tail) + strlen("...");
		size_t keep = utf8_cut(ct, cmd.len, DEVKIT__SHELL_EVENT_MESSAGE_MAX - fixed);
		if (asprintf(&msg, "%.*s ran: %.*s%s%s", (int)ulen, ut, (int)keep, ct,
			keep < cmd.len ? "..." : "", tail) < 0)
			msg = NULL;
	}
	devkit__bytes_free(&cmd);
	devkit__bytes_free(&user);
	return msg;
}

char *devkit__shell_event_json(const devkit__shell_record *r, const char *name,
	const char *pod_uid)
{
	char *msg = devkit__shell_event_message(r);
	if (!msg)
		return NULL;
	char first[32], last[32];
	/* metav1.Time: whole seconds */
	time_t t0 = (time_t)(r->time_ms / 1000);
	time_t t1 = (time_t)((r->end_time_ms > 0 ? r->end_time_ms : r->time_ms) / 1000);
	strftime(first, sizeof(first), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t0, &(struct tm){ 0 }));
	strftime(last, sizeof(last), "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t1, &(struct tm){ 0 }));
	json_t *involved = json_pack("{s:s, s:s, s:s, s:s}", "apiVersion", "v1", "kind", "Pod",
		"namespace", r->namespace_name, "name", r->pod);
	if (involved && pod_uid)
		json_object_set_new(involved, "uid", json_string(pod_uid));
	if (involved && r->container) {
		char path[300];
		snprintf(path, sizeof(path), "spec.containers{%s}", r->container);
		json_object_set_new(involved, "fieldPath", json_string(path));
	}
	json_t *ev = involved ? json_pack("{s:s, s:s, s:{s:s, s:s}, s:o, s:s, s:s, s:s, s:{s:s}, "
		"s:s, s:s, s:i}",
		"apiVersion", "v1", "kind", "Event",
		"metadata", "name", name, "namespace", r->namespace_name,
		"involvedObject", involved,
		"reason", "DevkitShellCommand", "message", msg, "type", "Normal",
		"source", "component", "devkit-shell",
		"firstTimestamp", first, "lastTimestamp", last, "count", 1) : NULL;
	free(msg);
	if (!ev)
		return NULL;
	char *text = json_dumps(ev, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(ev);
	return text;
}
