/* SPDX-License-Identifier: Apache-2.0 */
#include "k8s_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/http.h"
#include "devkit/common.h"

int devkit__k8s_status_rc(long status)
{
	return devkit__http_status_rc(status);
}

static const char *phrase(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 410: return "Gone";
	case 413: return "Request Entity Too Large";
	case 415: return "Unsupported Media Type";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

/* Copy path segment `s` (up to '/', '?' or the end) into out; returns the
 * rest after the '/', or NULL at the end. */
static const char *segment(const char *s, char *out, size_t cap)
{
	size_t n = strcspn(s, "/?#");
	snprintf(out, cap, "%.*s", (int)n, s);
	return s[n] == '/' ? s + n + 1 : NULL;
}

void devkit__k8s_target_of(const char *method, const char *path, devkit__k8s_target *t)
{
	memset(t, 0, sizeof(*t));
	char seg[8][128];
	int n = 0;
	const char *p = path[0] == '/' ? path + 1 : path;
	while (p && *p && n < 8)
		p = segment(p, seg[n++], sizeof(seg[0]));
	/* /api/v1/... or /apis/<group>/<version>/... */
	int i;
	const char *group = "";
	if (n >= 2 && strcmp(seg[0], "api") == 0) {
		i = 2;
	} else if (n >= 3 && strcmp(seg[0], "apis") == 0) {
		group = seg[1];
		i = 3;
	} else {
		i = n;
	}
	if (n - i >= 3 && strcmp(seg[i], "namespaces") == 0) {
		snprintf(t->namespace_name, sizeof(t->namespace_name), "%s", seg[i + 1]);
		i += 2;
	}
	if (i < n) {
		snprintf(t->resource, sizeof(t->resource), "%s%s%s", seg[i], *group ? "." : "", group);
		if (i + 1 < n)
			snprintf(t->name, sizeof(t->name), "%s", seg[i + 1]);
		if (i + 2 < n) {
			size_t used = strlen(t->resource);
			snprintf(t->resource + used, sizeof(t->resource) - used, "/%s", seg[i + 2]);
		}
	}
	const char *query = strchr(path, '?');
	int watch = query && (strstr(query, "watch=true") || strstr(query, "watch=1"));
	const char *verb = "get";
	if (!method || strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0)
		verb = watch ? "watch" : t->name[0] ? "get" : "list";
	else if (strcmp(method, "POST") == 0)
		verb = "create";
	else if (strcmp(method, "PUT") == 0)
		verb = "update";
	else if (strcmp(method, "PATCH") == 0)
		verb = "patch";
	else if (strcmp(method, "DELETE") == 0)
		verb = t->name[0] ? "delete" : "deletecollection";
	snprintf(t->verb, sizeof(t->verb), "%s", verb);
}

/* The server's words: its Status message, or the first line of a body that
 * is not JSON (a proxy's error page), without control characters. */
static void server_words(const char *body, size_t len, char *out, size_t cap, char *reason,
	size_t rcap)
{
	out[0] = '\0';
	reason[0] = '\0';
	json_t *doc = len ? json_loadb(body, len, 0, NULL) : NULL;
	if (doc) {
		json_t *m = json_object_get(doc, "message"), *r = json_object_get(doc, "reason");
		if (json_is_string(m))
			snprintf(out, cap, "%s", json_string_value(m));
		if (json_is_string(r))
			snprintf(reason, rcap, "%s", json_string_value(r));
		json_decref(doc);
	} else if (len) {
		size_t n = strcspn(body, "\r\n");
		snprintf(out, cap, "%.*s", (int)(n > 200 ? 200 : n), body);
	}
	for (char *p = out; *p; p++)
		if ((unsigned char)*p < ' ')
			*p = ' ';
}

void devkit__k8s_status_message(long status, const char *body, size_t body_len,
	const char *what, const char *method, const char *path, const char *who,
	char *reason, size_t reason_cap, char *out, size_t cap)
{
	char words[512];
	server_words(body, body_len, words, sizeof(words), reason, reason_cap);
	const char *ph = phrase(status);
	int used = snprintf(out, cap, "%s: %ld%s%s%s%s", what, status, *ph ? " " : "", ph,
		*words ? ": " : "", words);
	if (used < 0 || (size_t)used >= cap)
		return;
	char hint[1024] = "";
	if (status == 403 && !strstr(words, "cannot ")) {
		devkit__k8s_target t;
		devkit__k8s_target_of(method, path, &t);
		char ns[160] = "";
		if (t.namespace_name[0])
			snprintf(ns, sizeof(ns), " in namespace \"%s\"", t.namespace_name);
		snprintf(hint, sizeof(hint), " (cannot %s %s%s%s%s%s)", t.verb,
			t.resource[0] ? t.resource : "this path", t.name[0] ? " \"" : "", t.name,
			t.name[0] ? "\"" : "", ns);
	} else if (status == 401) {
		snprintf(hint, sizeof(hint), " (the credentials of %s were rejected: expired or revoked?)",
			who ? who : "the client");
	}
	snprintf(out + used, cap - (size_t)used, "%s", hint);
}
