/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Requests of the blocking calls (events, report): JSON through the public
 * client, and text (pod logs, which the public call refuses as "not JSON")
 * as a raw request on the loop that this thread waits for.
 */
#include "diag_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/engine.h"
#include "core/error.h"
#include "k8s/k8s_int.h"

typedef struct text_args {
	devkit_k8s *k;
	const char *path;
	devkit__bytes body;
	devkit__call *call;
} text_args;

static void on_text(void *data, const devkit__k8s_answer *a)
{
	text_args *t = data;
	devkit_ctx *ctx = devkit__k8s_ctx(t->k);
	if (a->rc < 0) {
		devkit__call_fail(t->call, ctx, a->rc, "%s", a->message);
		return;
	}
	if (devkit__bytes_append(&t->body, a->body, a->body_len) != 0) {
		devkit__call_fail(t->call, ctx, DEVKIT_ENOMEM, "out of memory");
		return;
	}
	devkit__call_done(t->call, ctx, 0);
}

static void do_text(devkit__call *call)
{
	text_args *t = call->arg;
	t->call = call;
	devkit__k8s_req_opts o = { .path = t->path, .accept = "*/*", .raw = 1, .retries = -1 };
	if (!devkit__k8s_start(t->k, &o, on_text, t))
		devkit__call_done(call, devkit__k8s_ctx(t->k), devkit_error_last()->code);
}

int devkit__diag_get_text(devkit_k8s *k, const char *path, devkit_buf *out)
{
	text_args t = { .k = k, .path = path };
	devkit__call call = { .fn = do_text, .arg = &t };
	int rc = devkit__call_run(devkit__k8s_ctx(k), &call);
	/* NUL-terminated for text, the terminator not counted */
	if (rc == 0 && devkit__bytes_append(&t.body, "", 1) != 0)
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	else if (rc == 0)
		t.body.len--;
	if (rc < 0) {
		devkit__bytes_free(&t.body);
		return rc;
	}
	devkit__bytes_give(&t.body, out);
	return 0;
}

void devkit__diag_query_escape(const char *in, char *out, size_t cap)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)in; *p && n + 4 < cap; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '-' || *p == '.' || *p == '_' || *p == '~') {
			out[n++] = (char)*p;
		} else {
			out[n++] = '%';
			out[n++] = hex[*p >> 4];
			out[n++] = hex[*p & 15];
		}
	}
	if (cap)
		out[n < cap ? n : cap - 1] = '\0';
}

int devkit__diag_check_name(const char *fn, const char *what, const char *value)
{
	if (!value || !*value)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the %s is required", fn, what);
	if (strlen(value) > 253)
		return devkit__error_set(DEVKIT_EINVAL, "%s: %s \"%.40s...\" is longer than 253 "
			"characters", fn, what, value);
	for (const char *p = value; *p; p++)
		if (*p == '/' || *p == '?' || *p == '#' || *p == '%' || (unsigned char)*p <= ' ')
			return devkit__error_set(DEVKIT_EINVAL, "%s: %s \"%s\" is not a Kubernetes name "
				"(it has '%c')", fn, what, value, *p > ' ' ? *p : '?');
	return 0;
}
