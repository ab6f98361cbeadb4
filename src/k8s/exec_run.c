/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_run.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/bytes.h"
#include "core/error.h"
#include "tls_pem.h"

/* An ExecCredential is a few KiB; more is not one. */
#define MAX_OUTPUT (1024 * 1024)

extern char **environ;

struct devkit__exec_run {
	uv_process_t proc;
	uv_pipe_t out;
	uv_timer_t timer;
	int handles;          /* initialised handles not yet closed */
	int closing;
	int exited, eof, timed_out, too_big;
	int64_t exit_status;
	int term_signal;
	devkit__bytes output;
	devkit__exec_done cb; /* NULL once cancelled or reported */
	void *data;
	unsigned int timeout_ms;
	char *api_version;
	char *what;           /* "exec plugin \"aws\" of user \"dev\" ..." */
	char *hint;           /* installHint */
	char buf[16384];      /* read buffer (one per run: engines run on several threads) */
};

static void run_free(devkit__exec_run *r)
{
	if (r->output.data)
		OPENSSL_cleanse(r->output.data, r->output.cap);
	OPENSSL_cleanse(r->buf, sizeof(r->buf));
	devkit__bytes_free(&r->output);
	free(r->api_version);
	free(r->what);
	free(r->hint);
	free(r);
}

static void on_closed(uv_handle_t *h)
{
	devkit__exec_run *r = h->data;
	if (--r->handles == 0)
		run_free(r);
}

static void close_all(devkit__exec_run *r)
{
	if (r->closing)
		return;
	r->closing = 1;
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_closed);
	if (!uv_is_closing((uv_handle_t *)&r->out))
		uv_close((uv_handle_t *)&r->out, on_closed);
	uv_close((uv_handle_t *)&r->proc, on_closed);
}

static void report(devkit__exec_run *r)
{
	devkit__exec_done cb = r->cb;
	r->cb = NULL;
	if (!cb)
		return;
	char msg[768];
	if (r->timed_out) {
		snprintf(msg, sizeof(msg), "%s: no answer within %u ms", r->what, r->timeout_ms);
		cb(r->data, DEVKIT_ETIMEOUT, msg, NULL);
	} else if (r->too_big) {
		snprintf(msg, sizeof(msg), "%s: its output is larger than %d bytes", r->what,
			MAX_OUTPUT);
		cb(r->data, DEVKIT_EAUTH, msg, NULL);
	} else if (r->term_signal) {
		snprintf(msg, sizeof(msg), "%s: killed by signal %d", r->what, r->term_signal);
		cb(r->data, DEVKIT_EAUTH, msg, NULL);
	} else if (r->exit_status != 0) {
		/* stderr went to ours, as kubectl leaves it: the plugin's own words are there. */
		snprintf(msg, sizeof(msg), "%s: exit status %lld (its messages went to stderr)%s%s",
			r->what, (long long)r->exit_status, r->hint ? "; " : "", r->hint ? r->hint : "");
		cb(r->data, DEVKIT_EAUTH, msg, NULL);
	} else {
		devkit__exec_cred cred;
		char why[256];
		if (devkit__exec_cred_parse(r->output.data ? r->output.data : "", r->output.len,
			r->api_version, &cred, why, sizeof(why)) != 0) {
			snprintf(msg, sizeof(msg), "%s: %s", r->what, why);
			cb(r->data, DEVKIT_EAUTH, msg, NULL);
		} else {
			cb(r->data, 0, NULL, &cred);
			devkit__exec_cred_clear(&cred);
		}
	}
}

/* Done when the process has exited and its output is complete. A plugin
 * killed at the timeout is reported at once, but its handles wait for the
 * exit (closing a live process handle would leave a zombie) for a grace
 * period. */
static void maybe_finish(devkit__exec_run *r)
{
	if (r->closing)
		return;
	if (r->exited && (r->eof || r->too_big || r->timed_out || !r->cb)) {
		report(r);
		close_all(r);
	}
}

/* The plugin and everything it started. Never once it has exited: its pid
 * (and group id) may already belong to another process. */
static void kill_tree(devkit__exec_run *r)
{
	if (r->exited)
		return;
	if (r->proc.pid > 0)
		kill(-r->proc.pid, SIGKILL);
	uv_process_kill(&r->proc, SIGKILL);
}

static void on_exit_cb(uv_process_t *p, int64_t exit_status, int term_signal)
{
	devkit__exec_run *r = p->data;
	r->exited = 1;
	r->exit_status = exit_status;
	r->term_signal = term_signal;
	maybe_finish(r);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)suggested;
	devkit__exec_run *r = h->data;
	buf->base = r->buf;
	buf->len = sizeof(r->buf);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	devkit__exec_run *r = s->data;
	if (n > 0) {
		if (r->output.len + (size_t)n > MAX_OUTPUT) {
			r->too_big = 1;
			kill_tree(r);
		} else if (devkit__bytes_append(&r->output, buf->base, (size_t)n) != 0) {
			r->too_big = 1;
		}
		OPENSSL_cleanse(buf->base, (size_t)n);
		if (!r->too_big)
			return;
	}
	if (n < 0 || r->too_big) {
		r->eof = 1;
		uv_read_stop(s);
		maybe_finish(r);
	}
}

#define GRACE_MS 5000

static void on_timeout(uv_timer_t *t)
{
	devkit__exec_run *r = t->data;
	if (r->timed_out) { /* no exit seen within the grace period: give up on it */
		close_all(r);
		return;
	}
	r->timed_out = 1;
	kill_tree(r);
	report(r);
	uv_timer_start(&r->timer, on_timeout, GRACE_MS, 0);
	maybe_finish(r);
}

static int has_name(char **env, const char *entry)
{
	size_t n = strcspn(entry, "=");
	for (; env && *env; env++)
		if (strncmp(*env, entry, n) == 0 && (*env)[n] == '=')
			return 1;
	return 0;
}

/* Our environment, minus what the kubeconfig overrides, plus its env and
 * KUBERNETES_EXEC_INFO. The strings are borrowed, except the last one. */
static char **make_env(const devkit__k8s_exec *spec, char **info)
{
	size_t n = 0, extra = 0;
	for (char **e = environ; e && *e; e++)
		n++;
	for (char **e = spec->env; e && *e; e++)
		extra++;
	char **env = calloc(n + extra + 2, sizeof(char *));
	*info = malloc(strlen(spec->exec_info) + sizeof("KUBERNETES_EXEC_INFO="));
	if (!env || !*info) {
		free(env);
		free(*info);
		return NULL;
	}
	sprintf(*info, "KUBERNETES_EXEC_INFO=%s", spec->exec_info);
	size_t i = 0;
	for (char **e = environ; e && *e; e++)
		if (!has_name(spec->env, *e) && strncmp(*e, "KUBERNETES_EXEC_INFO=", 21) != 0)
			env[i++] = *e;
	for (char **e = spec->env; e && *e; e++)
		env[i++] = *e;
	env[i++] = *info;
	env[i] = NULL;
	return env;
}

devkit__exec_run *devkit__exec_run_start(devkit_ctx *ctx, const devkit__k8s_exec *spec,
	unsigned int timeout_ms, const char *who, devkit__exec_done cb, void *data)
{
	devkit__exec_run *r = calloc(1, sizeof(*r));
	if (!r) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	r->cb = cb;
	r->data = data;
	r->timeout_ms = timeout_ms;
	r->api_version = strdup(spec->api_version);
	r->what = devkit__k8s_strdup_printf("exec plugin \"%s\" of %s", spec->argv[0], who);
	if (spec->install_hint)
		r->hint = strdup(spec->install_hint);
	char *info = NULL;
	char **env = make_env(spec, &info);
	if (!r->api_version || !r->what || (spec->install_hint && !r->hint) || !env) {
		free(env);
		free(info);
		run_free(r);
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	uv_loop_t *loop = &ctx->loop;
	uv_pipe_init(loop, &r->out, 0);
	uv_timer_init(loop, &r->timer);
	r->out.data = r->timer.data = r->proc.data = r;
	r->handles = 3; /* uv_spawn initialises the process handle even when it fails */

	uv_stdio_container_t stdio[3];
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&r->out;
	stdio[2].flags = UV_INHERIT_FD;
	stdio[2].data.fd = 2;
	uv_process_options_t o;
	memset(&o, 0, sizeof(o));
	o.file = spec->argv[0];
	o.args = spec->argv;
	o.env = env;
	o.exit_cb = on_exit_cb;
	o.stdio_count = 3;
	o.stdio = stdio;
	/* Its own process group, so that a timeout kills what it started too
	 * (a shell script's children would otherwise linger). */
	o.flags = UV_PROCESS_DETACHED;
	int err = uv_spawn(loop, &r->proc, &o);
	free(env);
	devkit__secret_free(info);
	if (err != 0) {
		devkit__error_set(err == UV_ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EAUTH,
			"%s: cannot run it: %s%s%s", r->what, uv_strerror(err), r->hint ? "; " : "",
			r->hint ? r->hint : "");
		r->cb = NULL;
		close_all(r);
		return NULL;
	}
	uv_read_start((uv_stream_t *)&r->out, on_alloc, on_read);
	uv_timer_start(&r->timer, on_timeout, timeout_ms, 0);
	return r;
}

void devkit__exec_run_cancel(devkit__exec_run *r)
{
	if (!r)
		return;
	r->cb = NULL;
	kill_tree(r);
	/* Closing the process handle before it exited would leave a zombie: wait
	 * for the exit (or the timeout) as usual, reporting nothing. */
	maybe_finish(r);
}
