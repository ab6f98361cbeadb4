/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_arthas_run / devkit_arthas_start: Arthas attached to a JVM in a
 * container, in the three steps of arthas_int.h, then arthas-boot itself:
 *
 *   java -jar H/arthas-boot.jar --arthas-home H --telnet-port P
 *        --http-port -1 [-c COMMAND] PID
 *
 * --arthas-home is the copy we made: arthas-boot then never looks for
 * another version on the network (Pods often have no way out). The HTTP
 * console is off (-1) and the telnet port is one nobody listens on in the
 * Pod (arthas_site.c), so Arthas does not clash with the app or with an
 * Arthas attached to another JVM. The Arthas server stays in the JVM after
 * the call, as arthas-boot leaves it: the next call finds it on the same
 * port and connects at once, without attaching again. The Arthas command
 * `stop` ends it.
 */
#include "arthas_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/bytes.h"
#include "core/error.h"

#define DEFAULT_TIMEOUT_MS 120000

int devkit_arthas_options_init(devkit_arthas_options *opts, unsigned int version)
{
	static const devkit_arthas_options defaults = DEVKIT_ARTHAS_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_ARTHAS_OPTIONS_VERSION, "devkit_arthas_options_init");
}

int devkit__arthas_left(const devkit__arthas_call *c, const char *step)
{
	int64_t left = c->deadline_ms - (int64_t)devkit__live_now_ms();
	if (left > 0)
		return left > 0x7fffffff ? 0x7fffffff : (int)left;
	unsigned int t = c->opts->timeout_ms ? c->opts->timeout_ms : DEFAULT_TIMEOUT_MS;
	char name[300];
	return devkit__error_set(DEVKIT_ETIMEOUT, "%s: %s in %s: not done within the call's %u ms "
		"(timeout_ms)", c->fn, step,
		devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)), t);
}

int devkit__arthas_collect(const devkit__arthas_call *c, devkit_exec *e, const char *what,
	devkit__bytes *out, devkit__bytes *err, int *exit_code)
{
	devkit_buf b = DEVKIT_BUF_INIT;
	int stream = 0, n, left;
	for (;;) {
		left = devkit__arthas_left(c, what);
		if (left < 0)
			return left;
		n = devkit_exec_read(e, &stream, &b, left);
		if (n == DEVKIT_ETIMEOUT)
			continue; /* the deadline decides, at the top */
		if (n <= 0)
			break;
		devkit__bytes *to = stream == DEVKIT_EXEC_STDERR ? err : out;
		int rc = to ? devkit__bytes_append(to, b.ptr, b.size) : 0;
		devkit_buf_dispose(&b);
		if (rc < 0)
			return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
	}
	char name[300];
	if (n == 0) {
		left = devkit__arthas_left(c, what);
		if (left < 0)
			return left;
		n = devkit_exec_wait(e, left, exit_code);
		if (n == DEVKIT_ETIMEOUT)
			return devkit__arthas_left(c, what) < 0 ? devkit_error_last()->code
				: devkit__error_set(n, "%s: %s in %s: no exit status in time", c->fn, what,
					devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)));
	}
	if (n < 0)
		return devkit__error_set(n, "%s: %s in %s: %s", c->fn, what,
			devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)),
			devkit_error_last()->message);
	return 0;
}

int devkit__arthas_script_error(const devkit__arthas_call *c, const char *what, int exit_code,
	const char *err, size_t err_len)
{
	int code;
	switch (exit_code) {
	case 21: code = DEVKIT_ENOTFOUND; break;
	case 22: case 26: code = DEVKIT_EINVAL; break;
	case 23: case 25: case 127: code = DEVKIT_EUNSUPPORTED; break;
	case 24: code = DEVKIT_EEXISTS; break;
	default: code = DEVKIT_EIO; break;
	}
	/* the last line of stderr: the script's own words, or the failing tool's */
	size_t end = err ? err_len : 0;
	while (end && (err[end - 1] == '\n' || err[end - 1] == '\r' || err[end - 1] == ' '))
		end--;
	size_t start = end;
	while (start && err[start - 1] != '\n')
		start--;
	char name[300];
	devkit__live_target_name(c->k8s, &c->target, name, sizeof(name));
	if (code == DEVKIT_EIO || exit_code == 127)
		return devkit__error_set(code, "%s: %s in %s: %.*s (exit status %d)", c->fn, what, name,
			(int)(end - start), end > start ? err + start : "no message", exit_code);
	return devkit__error_set(code, "%s: %s in %s: %.*s", c->fn, what, name,
		(int)(end - start), err + start);
}

int devkit__arthas_sh(const devkit__arthas_call *c, const char *what, const char *script,
	devkit_buf *out)
{
	if (out)
		memset(out, 0, sizeof(*out));
	int left = devkit__arthas_left(c, what);
	if (left < 0)
		return left;
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = c->target.namespace_name;
	o.pod = c->target.pod;
	o.container = c->target.container;
	o.command = "sh -s";
	o.stdin_enabled = 1;
	o.timeout_ms = (unsigned int)left;
	devkit_exec *e = NULL;
	char name[300];
	int rc = devkit_exec_start(&e, c->k8s, &o);
	if (rc < 0)
		return devkit__error_set(rc, "%s: %s in %s: %s", c->fn, what,
			devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)),
			devkit_error_last()->message);
	/* The script ends with exit: sh needs no end of stdin, which a
	 * v4.channel.k8s.io server cannot pass on. */
	rc = devkit_exec_write(e, script, strlen(script));
	if (rc == 0)
		rc = devkit_exec_write(e, "\nexit $?\n", 9);
	if (rc == 0) {
		int closed = devkit_exec_close_stdin(e);
		rc = closed == DEVKIT_EUNSUPPORTED ? 0 : closed;
	}
	devkit__bytes o_bytes = DEVKIT__BYTES_INIT, err = DEVKIT__BYTES_INIT;
	int code = -1;
	if (rc < 0)
		rc = devkit__error_set(rc, "%s: %s in %s: %s", c->fn, what,
			devkit__live_target_name(c->k8s, &c->target, name, sizeof(name)),
			devkit_error_last()->message);
	else
		rc = devkit__arthas_collect(c, e, what, out ? &o_bytes : NULL, &err, &code);
	devkit_exec_free(e);
	if (rc == 0 && code != 0)
		rc = devkit__arthas_script_error(c, what, code, err.data, err.len);
	if (rc == 0 && out) {
		if (devkit__bytes_append(&o_bytes, "", 1) < 0) {
			rc = devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", c->fn);
		} else {
			o_bytes.len--;
			devkit__bytes_give(&o_bytes, out);
		}
	}
	devkit__bytes_free(&o_bytes);
	devkit__bytes_free(&err);
	return rc;
}

char *devkit__arthas_boot_script(const devkit__arthas_site *s, const char *command)
{
	char *qh = devkit__live_sh_quote(s->home), *qj = devkit__live_sh_quote(s->java);
	char *qr = devkit__live_sh_quote(s->root);
	char *qc = command ? devkit__live_sh_quote(command) : NULL;
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int rc = qh && qj && qr && (qc || !command) ? devkit__bytes_printf(&b,
		/* The container's JAVA_TOOL_OPTIONS and friends are the app's (a JDWP
		 * agent in them would fail to bind its port a second time); Arthas's
		 * own JVMs run without them. */
		"unset JAVA_TOOL_OPTIONS _JAVA_OPTIONS JDK_JAVA_OPTIONS\n"
		/* remembered for the next call (arthas_site.c) */
		"echo %d >%s/arthas/port-%d 2>/dev/null\n"
		"exec %s -jar %s/arthas-boot.jar --arthas-home %s --telnet-port %d --http-port -1 "
		"%s%s %d 2>&1\n", s->port, qr, s->pid, qj, qh, qh, s->port, qc ? "-c " : "",
		qc ? qc : "", s->pid) : -1;
	free(qh);
	free(qj);
	free(qr);
	free(qc);
	if (rc < 0) {
		devkit__bytes_free(&b);
		return NULL;
	}
	return b.data;
}

/* "[arthas@123]$" with the newlines the client sometimes puts inside. */
static int bare_prompt(const char *p, const char *end)
{
	static const char head[] = "[arthas";
	for (size_t i = 0; head[i]; i++, p++)
		if (p >= end || *p != head[i])
			return 0;
	while (p < end && *p == '\n')
		p++;
	if (p >= end || *p++ != '@')
		return 0;
	const char *digits = p;
	while (p < end && *p >= '0' && *p <= '9')
		p++;
	if (p == digits || end - p != 2 || p[0] != ']' || p[1] != '$')
		return 0;
	return 1;
}

size_t devkit__arthas_tidy(char *t, size_t len)
{
	size_t w = 0;
	for (size_t i = 0; i < len; i++)
		if (t[i] != '\r')
			t[w++] = t[i];
	len = w;
	t[len] = '\0';
	/* from the first prompt at the start of a line */
	for (size_t i = 0; i < len; i++) {
		if ((i == 0 || t[i - 1] == '\n') && strncmp(t + i, "[arthas@", 8) == 0) {
			memmove(t, t + i, len - i + 1);
			len -= i;
			break;
		}
	}
	/* "[arthas@1]$ sc demo.* | plaintext": the client's addition, not the user's */
	static const char plain[] = " | plaintext";
	const size_t pl = sizeof(plain) - 1;
	w = 0;
	for (size_t i = 0; i < len;) {
		size_t e = i;
		while (e < len && t[e] != '\n')
			e++;
		size_t keep = e - i;
		if (strncmp(t + i, "[arthas@", 8) == 0 && keep >= pl &&
			memcmp(t + e - pl, plain, pl) == 0)
			keep -= pl;
		memmove(t + w, t + i, keep);
		w += keep;
		if (e < len)
			t[w++] = '\n';
		i = e < len ? e + 1 : e;
	}
	len = w;
	/* the empty prompt the console ends with */
	while (len && (t[len - 1] == '\n' || t[len - 1] == ' '))
		len--;
	for (size_t i = len; i > 0; i--) {
		if (t[i - 1] == '[' && (i == 1 || t[i - 2] == '\n')) {
			if (bare_prompt(t + i - 1, t + len)) {
				len = i - 1;
				while (len && t[len - 1] == '\n')
					len--;
			}
			break;
		}
	}
	if (len)
		t[len++] = '\n';
	t[len] = '\0';
	return len;
}

static int check_options(const char *fn, devkit_k8s *k8s, const devkit_arthas_options *o)
{
	if (!k8s || !o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the client and options are required", fn);
	if (o->version != DEVKIT_ARTHAS_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_arthas_options_init)", fn, o->version, DEVKIT_ARTHAS_OPTIONS_VERSION);
	if (!o->pod || !*o->pod)
		return devkit__error_set(DEVKIT_EINVAL, "%s: which Pod? pod is required", fn);
	if (o->pid < 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: pid %d is not a process id", fn, o->pid);
	return 0;
}

/* Steps 1 and 2: the site with the package in place. */
static int set_up(devkit__arthas_call *c, devkit__arthas_site *s)
{
	devkit__arthas_pkg p;
	int rc = devkit__arthas_pkg_open(&p, c->fn, c->opts->package);
	if (rc < 0)
		return rc;
	rc = devkit__arthas_look(c, &p, s);
	/* a directory is always handed to devkit_deploy: it sends only what changed */
	if (rc == 0 && (!s->present || p.is_dir)) {
		rc = devkit__arthas_copy(c, &p, s);
		if (rc < 0)
			devkit__arthas_site_free(s);
	}
	devkit__arthas_pkg_close(&p);
	return rc;
}

static void call_init(devkit__arthas_call *c, devkit_k8s *k8s, const devkit_arthas_options *o)
{
	c->k8s = k8s;
	c->opts = o;
	c->target.namespace_name = o->namespace_name;
	c->target.pod = o->pod;
	c->target.container = o->container;
	c->fn = "arthas"; /* errors past the arguments read "arthas: <step> in <Pod>: why" */
	c->deadline_ms = (int64_t)devkit__live_now_ms() + (o->timeout_ms ? o->timeout_ms : DEFAULT_TIMEOUT_MS);
}

static void exec_options(const devkit__arthas_call *c, devkit_exec_options *o, const char *script,
	int left)
{
	devkit_exec_options_init(o, DEVKIT_EXEC_OPTIONS_VERSION);
	o->namespace_name = c->target.namespace_name;
	o->pod = c->target.pod;
	o->container = c->target.container;
	o->command = script;
	o->timeout_ms = (unsigned int)left;
}

int devkit_arthas_run(devkit_k8s *k8s, const devkit_arthas_options *opts, devkit_buf *out,
	int *exit_code)
{
	static const char fn[] = "devkit_arthas_run";
	if (out)
		memset(out, 0, sizeof(*out));
	if (exit_code)
		*exit_code = -1;
	int rc = check_options(fn, k8s, opts);
	if (rc < 0)
		return rc;
	if (!opts->command || !*opts->command)
		return devkit__error_set(DEVKIT_EINVAL, "%s: no Arthas command to run (\"thread -n 3\"; "
			"devkit_arthas_start for the console)", fn);
	devkit__arthas_call c;
	call_init(&c, k8s, opts);
	devkit__arthas_site s;
	rc = set_up(&c, &s);
	if (rc < 0)
		return rc;
	static const char what[] = "running Arthas";
	char *script = devkit__arthas_boot_script(&s, opts->command);
	devkit__arthas_site_free(&s);
	if (!script)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	int left = devkit__arthas_left(&c, what);
	if (left < 0) {
		free(script);
		return left;
	}
	devkit_exec_options o;
	exec_options(&c, &o, script, left);
	devkit_exec *e = NULL;
	rc = devkit_exec_start(&e, k8s, &o);
	free(script);
	if (rc < 0) {
		char name[300];
		return devkit__error_set(rc, "%s: %s in %s: %s", c.fn, what,
			devkit__live_target_name(k8s, &c.target, name, sizeof(name)),
			devkit_error_last()->message);
	}
	/* stderr is joined to stdout in the script; anything the shell itself
	 * says comes after */
	devkit__bytes text = DEVKIT__BYTES_INIT;
	int code = -1;
	rc = devkit__arthas_collect(&c, e, what, &text, &text, &code);
	devkit_exec_free(e);
	/* room for the newline and the terminator tidy may add */
	if ((rc == 0 || rc == DEVKIT_ETIMEOUT) && devkit__bytes_append(&text, "\0", 2) < 0)
		rc = devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	if (rc == DEVKIT_ETIMEOUT) {
		/* where it stopped: "[INFO] Try to attach process 42", a watch's last hit */
		text.len = devkit__arthas_tidy(text.data, text.len - 2);
		size_t end = text.len;
		while (end && text.data[end - 1] == '\n')
			end--;
		size_t start = end;
		while (start && text.data[start - 1] != '\n')
			start--;
		char why[1024];
		snprintf(why, sizeof(why), "%s", devkit_error_last()->message);
		devkit__error_set(rc, "%s; the last it printed: %.*s", why,
			end > start ? (int)(end - start > 300 ? 300 : end - start) : 7,
			end > start ? text.data + start : "nothing");
	}
	if (rc < 0) {
		devkit__bytes_free(&text);
		return rc;
	}
	text.len = devkit__arthas_tidy(text.data, text.len - 2);
	if (exit_code)
		*exit_code = code;
	if (out)
		devkit__bytes_give(&text, out);
	devkit__bytes_free(&text);
	return 0;
}

int devkit_arthas_start(devkit_exec **out, devkit_k8s *k8s, const devkit_arthas_options *opts)
{
	static const char fn[] = "devkit_arthas_start";
	if (out)
		*out = NULL;
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "%s: out is required", fn);
	int rc = check_options(fn, k8s, opts);
	if (rc < 0)
		return rc;
	devkit__arthas_call c;
	call_init(&c, k8s, opts);
	devkit__arthas_site s;
	rc = set_up(&c, &s);
	if (rc < 0)
		return rc;
	static const char what[] = "starting Arthas's console";
	char *script = devkit__arthas_boot_script(&s, NULL);
	devkit__arthas_site_free(&s);
	if (!script)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	int left = devkit__arthas_left(&c, what);
	if (left < 0) {
		free(script);
		return left;
	}
	devkit_exec_options o;
	exec_options(&c, &o, script, left);
	o.tty = 1;
	o.stdin_enabled = 1;
	rc = devkit_exec_start(out, k8s, &o);
	free(script);
	if (rc < 0) {
		char name[300];
		return devkit__error_set(rc, "%s: %s in %s: %s", c.fn, what,
			devkit__live_target_name(k8s, &c.target, name, sizeof(name)),
			devkit_error_last()->message);
	}
	return 0;
}
