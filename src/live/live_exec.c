/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small scripts in the container, run through exec as `sh -c`: the live
 * workflow's building block (deploy, app control, debug, Arthas).
 */
#include "live_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int devkit__live_sh(devkit_k8s *k8s, const devkit__live_target *t, const char *what,
	const char *script, const char *stdin_data, size_t stdin_len, devkit_buf *out,
	devkit_buf *err, int *exit_code)
{
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = t->namespace_name;
	o.pod = t->pod;
	o.container = t->container;
	o.command = script;
	int rc = devkit_exec_run(k8s, &o, stdin_data, stdin_len, out, err, exit_code);
	if (rc < 0) {
		char name[300];
		return devkit__error_set(rc, "%s in %s: %s", what,
			devkit__live_target_name(k8s, t, name, sizeof(name)), devkit_error_last()->message);
	}
	return 0;
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
