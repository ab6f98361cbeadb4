/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small scripts in the container, run through exec as `sh -c`: the live
 * workflow's building block (deploy, app control, debug, Arthas).
 */
#include "live_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "core/bytes.h"
#include "core/error.h"

const char *devkit__live_target_name(devkit_k8s *k8s, const devkit__live_target *t, char *buf,
	size_t cap)
{
	const char *ns = t->namespace_name ? t->namespace_name : devkit_k8s_namespace(k8s);
	if (t->container)
		snprintf(buf, cap, "%s/%s (%s)", ns ? ns : "", t->pod ? t->pod : "", t->container);
	else
		snprintf(buf, cap, "%s/%s", ns ? ns : "", t->pod ? t->pod : "");
	return buf;
}

uint64_t devkit__live_now_ms(void)
{
	return uv_hrtime() / 1000000u;
}

/* Read both streams to their end and wait for the exit code, by deadline. */
static int collect(devkit_exec *e, uint64_t deadline, devkit__bytes *out, devkit__bytes *err,
	int *exit_code)
{
	for (;;) {
		uint64_t now = devkit__live_now_ms();
		if (now >= deadline)
			return DEVKIT_ETIMEOUT;
		int stream = 0;
		devkit_buf chunk = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(e, &stream, &chunk, (int)(deadline - now));
		if (n > 0) {
			devkit__bytes *to = stream == DEVKIT_EXEC_STDERR ? err : out;
			int rc = devkit__bytes_append(to, chunk.ptr, chunk.size);
			devkit_buf_dispose(&chunk);
			if (rc < 0)
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			continue;
		}
		devkit_buf_dispose(&chunk);
		if (n == DEVKIT_ETIMEOUT)
			return DEVKIT_ETIMEOUT;
		if (n < 0)
			return n;
		now = devkit__live_now_ms();
		return devkit_exec_wait(e, now < deadline ? (int)(deadline - now) : 0, exit_code);
	}
}

static void give(devkit__bytes *b, devkit_buf *to)
{
	if (!to)
		return;
	if (devkit__bytes_append(b, "", 1) == 0)
		b->len--;
	devkit__bytes_give(b, to);
}

int devkit__live_sh(devkit_k8s *k8s, const devkit__live_target *t, const char *what,
	const char *script, const char *stdin_data, size_t stdin_len, devkit_buf *out,
	devkit_buf *err, int *exit_code)
{
	unsigned int limit = t->timeout_ms ? t->timeout_ms : DEVKIT__LIVE_SH_TIMEOUT_MS;
	uint64_t deadline = devkit__live_now_ms() + limit;
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = t->namespace_name;
	o.pod = t->pod;
	o.container = t->container;
	o.command = script;
	o.stdin_enabled = stdin_data != NULL;
	o.timeout_ms = limit;
	if (out)
		memset(out, 0, sizeof(*out));
	if (err)
		memset(err, 0, sizeof(*err));
	if (exit_code)
		*exit_code = -1;
	devkit_exec *e = NULL;
	devkit__bytes ob = { 0 }, eb = { 0 };
	int code = -1;
	int rc = devkit_exec_start(&e, k8s, &o);
	if (rc == 0 && stdin_data) {
		/* small inputs: written whole, then EOF (or, on a v4 server, the
		 * script reads exactly what it was told to) */
		rc = devkit_exec_write(e, stdin_data, stdin_len);
		if (rc == 0) {
			int crc = devkit_exec_close_stdin(e);
			if (crc < 0 && crc != DEVKIT_EUNSUPPORTED)
				rc = crc;
		}
	}
	if (rc == 0)
		rc = collect(e, deadline, &ob, &eb, &code);
	devkit_exec_free(e);
	char name[300];
	if (rc == DEVKIT_ETIMEOUT)
		rc = devkit__error_set(rc, "%s in %s: not done within %u ms", what,
			devkit__live_target_name(k8s, t, name, sizeof(name)), limit);
	else if (rc < 0)
		rc = devkit__error_set(rc, "%s in %s: %s", what,
			devkit__live_target_name(k8s, t, name, sizeof(name)), devkit_error_last()->message);
	if (rc == 0) {
		give(&ob, out);
		give(&eb, err);
		if (exit_code)
			*exit_code = code;
	}
	devkit__bytes_free(&ob);
	devkit__bytes_free(&eb);
	return rc;
}

/* The last non-empty line of s, trimmed, into buf. */
static const char *last_line(const char *s, size_t len, char *buf, size_t cap)
{
	while (len && (s[len - 1] == '\n' || s[len - 1] == '\r' || s[len - 1] == ' '))
		len--;
	size_t start = len;
	while (start && s[start - 1] != '\n')
		start--;
	size_t n = len - start < cap - 1 ? len - start : cap - 1;
	memcpy(buf, s + start, n);
	buf[n] = '\0';
	return buf;
}

int devkit__live_sh_ok(devkit_k8s *k8s, const devkit__live_target *t, const char *what,
	const char *script, devkit_buf *out)
{
	devkit_buf err = { 0 };
	int code = -1;
	int rc = devkit__live_sh(k8s, t, what, script, NULL, 0, out, &err, &code);
	if (rc == 0 && code != 0) {
		char name[300], line[400];
		last_line(err.ptr ? err.ptr : "", err.size, line, sizeof(line));
		rc = devkit__error_set(code == 127 ? DEVKIT_EUNSUPPORTED : DEVKIT_EIO,
			"%s in %s: %s (exit status %d)", what,
			devkit__live_target_name(k8s, t, name, sizeof(name)),
			line[0] ? line : "no message", code);
		if (out)
			devkit_buf_dispose(out);
	}
	devkit_buf_dispose(&err);
	return rc;
}

char *devkit__live_sh_quote(const char *s)
{
	size_t n = 3;
	for (const char *p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	char *q = malloc(n), *w = q;
	if (!q)
		return NULL;
	*w++ = '\'';
	for (const char *p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(w, "'\\''", 4);
			w += 4;
		} else {
			*w++ = *p;
		}
	}
	*w++ = '\'';
	*w = '\0';
	return q;
}
