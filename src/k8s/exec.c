/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec/attach sessions: the channel protocol on top of ws.c, and the public
 * streaming API (exec_int.h says how the threads share a session).
 *
 * Channels: 0 stdin, 1 stdout, 2 stderr, 3 error (one Status message at
 * the end), 4 resize ({"Width":W,"Height":H}); v5.channel.k8s.io adds 255,
 * the close signal, whose one data byte names the stream to close (0:
 * stdin). Flow control both ways: above DEVKIT__EXEC_OUT_HIGH unread bytes
 * the WebSocket is not read (the kernel's window closes, the server and
 * then the command wait); stdin moves to the WebSocket only while its
 * queue is short, and writers wait while DEVKIT__EXEC_IN_HIGH is pending.
 */
#include "exec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "exec_path.h"
#include "k8s_client.h"

#define V5 "v5.channel.k8s.io"

const char *devkit__exec_offer = V5 ",v4.channel.k8s.io";

typedef struct seg {
	devkit__list node;
	int stream;
	devkit__bytes b;
} seg;

int devkit_exec_options_init(devkit_exec_options *opts, unsigned int version)
{
	static const devkit_exec_options defaults = DEVKIT_EXEC_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_EXEC_OPTIONS_VERSION, "devkit_exec_options_init");
}

/* --- memory --------------------------------------------------------------------- */

void devkit__exec_discard(devkit_exec *e)
{
	while (!devkit__list_empty(&e->segs)) {
		seg *s = devkit__container_of(e->segs.next, seg, node);
		devkit__list_remove(&s->node);
		devkit__bytes_free(&s->b);
		free(s);
	}
	devkit__bytes_free(&e->stdin_buf);
	devkit__bytes_free(&e->errch);
	uv_cond_destroy(&e->cond);
	uv_mutex_destroy(&e->lock);
	free(e);
}

devkit_exec *devkit__exec_new(devkit_k8s *k, const devkit_exec_options *o, char **path)
{
	const char *ns = o->namespace_name && o->namespace_name[0] ? o->namespace_name
		: devkit_k8s_namespace(k);
	*path = devkit__exec_path(o, ns);
	if (!*path)
		return NULL;
	devkit_exec *e = calloc(1, sizeof(*e));
	if (!e) {
		free(*path);
		*path = NULL;
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	e->k = k;
	e->ctx = devkit__k8s_ctx(k);
	e->stdin_enabled = o->stdin_enabled;
	e->tty = o->tty;
	/* Until the handshake succeeds the session is the loop's to free. */
	e->user_freed = 1;
	const char *c = o->container && o->container[0] ? o->container : NULL;
	if (c)
		snprintf(e->what, sizeof(e->what), "%s container %s of pod %s/%s",
			o->attach ? "attach to" : "exec in", c, ns, o->pod);
	else
		snprintf(e->what, sizeof(e->what), "%s pod %s/%s", o->attach ? "attach to" : "exec in",
			ns, o->pod);
	devkit__list_init(&e->segs);
	uv_mutex_init(&e->lock);
	uv_cond_init(&e->cond);
	return e;
}

/* --- the end ---------------------------------------------------------------------- */

static void on_wake_closed(uv_handle_t *h)
{
	devkit_exec *e = h->data;
	uv_mutex_lock(&e->lock);
	e->loop_done = 1;
	int freed = e->user_freed;
	uv_mutex_unlock(&e->lock);
	if (freed)
		devkit__exec_discard(e);
}

/* Record the end (lock held): what ended it matters only without a Status. */
static void mark_ended(devkit_exec *e, int rc, const char *message)
{
	if (e->ended)
		return;
	e->ended = 1;
	if (rc < 0 && !e->have_status) {
		e->end_rc = rc;
		snprintf(e->end_msg, sizeof(e->end_msg), "%s", message && *message ? message
			: devkit_strerror(rc));
	}
	uv_cond_broadcast(&e->cond);
}

int devkit__exec_outcome(devkit_exec *e, int *exit_code)
{
	if (e->have_status) {
		if (e->status.rc == 0) {
			if (exit_code)
				*exit_code = e->status.exit_code;
			return 0;
		}
		return devkit__error_set(e->status.rc, "%s: %s", e->what, e->status.message);
	}
	if (e->end_rc < 0)
		return devkit__error_set_str(e->end_rc, e->end_msg);
	return devkit__error_set(DEVKIT_EPROTO, "%s: the server ended the session without a Status",
		e->what);
}

static void complete(devkit__call **slot, devkit_ctx *ctx, int rc, const char *message)
{
	devkit__call *call = *slot;
	*slot = NULL;
	if (!call)
		return;
	if (rc < 0)
		devkit__call_fail(call, ctx, rc, "%s", message && *message ? message
			: devkit_strerror(rc));
	else
		devkit__call_done(call, ctx, rc);
}

void devkit__exec_teardown(devkit_exec *e, int rc, const char *message)
{
	if (e->closing)
		return;
	devkit__ws *ws = e->ws;
	e->ws = NULL;
	devkit__ws_abort(ws);
	devkit__ctx_untrack(&e->closeable);
	if (rc >= 0)
		rc = DEVKIT_ECLOSED;
	complete(&e->start_call, e->ctx, rc, message);
	complete(&e->run_call, e->ctx, rc, message);
	uv_mutex_lock(&e->lock);
	mark_ended(e, rc, message);
	e->closing = 1;
	uv_mutex_unlock(&e->lock);
	uv_close((uv_handle_t *)&e->wake, on_wake_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit_exec *e = devkit__container_of(c, devkit_exec, closeable);
	char msg[320];
	snprintf(msg, sizeof(msg), "%s: the devkit context is shutting down", e->what);
	devkit__exec_teardown(e, DEVKIT_ECLOSED, msg);
}

/* --- stdin -------------------------------------------------------------------------- */

/* Up to `cap` bytes of stdin for the WebSocket: the caller's memory when
 * collecting, else what writers left in stdin_buf. */
static size_t take_stdin(devkit_exec *e, char *buf, size_t cap)
{
	size_t n;
	if (e->in) {
		n = e->in_len - e->in_off < cap ? e->in_len - e->in_off : cap;
		if (n)
			memcpy(buf, e->in + e->in_off, n);
		e->in_off += n;
		return n;
	}
	uv_mutex_lock(&e->lock);
	size_t avail = devkit__bytes_avail(&e->stdin_buf);
	n = avail < cap ? avail : cap;
	if (n) {
		memcpy(buf, devkit__bytes_head(&e->stdin_buf), n);
		devkit__bytes_consume(&e->stdin_buf, n);
		uv_cond_broadcast(&e->cond); /* writers waiting for room */
	}
	uv_mutex_unlock(&e->lock);
	return n;
}

static void pump_stdin(devkit_exec *e)
{
	if (!e->ws || !e->protocol[0] || e->stdin_closed)
		return;
	char buf[DEVKIT__WS_MAX_MESSAGE];
	while (devkit__ws_queued(e->ws) < DEVKIT__WS_OUT_HIGH) {
		size_t n = take_stdin(e, buf, sizeof(buf));
		if (n == 0)
			break;
		if (devkit__ws_send(e->ws, 0, buf, n) != 0)
			return;
	}
	uv_mutex_lock(&e->lock);
	int close_now = e->stdin_close && (!e->in || e->in_off >= e->in_len) &&
		devkit__bytes_avail(&e->stdin_buf) == 0;
	uv_mutex_unlock(&e->lock);
	if (close_now && e->v5) {
		/* The close signal: channel 255, then the stream to close. */
		static const unsigned char signal_stdin[2] = { 255, 0 };
		e->stdin_closed = 1;
		devkit__ws_send_raw(e->ws, signal_stdin, sizeof(signal_stdin));
	}
}

/* --- the WebSocket's handler ----------------------------------------------------------- */

static void on_open(void *data, const char *protocol)
{
	devkit_exec *e = data;
	uv_mutex_lock(&e->lock);
	snprintf(e->protocol, sizeof(e->protocol), "%s", protocol && *protocol ? protocol
		: "v4.channel.k8s.io");
	e->v5 = strcmp(e->protocol, V5) == 0;
	if (e->start_call)
		e->user_freed = 0; /* devkit_exec_start hands it over now */
	uv_mutex_unlock(&e->lock);
	if (e->run_call && e->in && !e->v5) {
		char msg[512];
		snprintf(msg, sizeof(msg), "%s: the server speaks %s, which cannot close stdin "
			"(v5.channel.k8s.io, Kubernetes 1.29+, can)", e->what, e->protocol);
		devkit__exec_teardown(e, DEVKIT_EUNSUPPORTED, msg);
		return;
	}
	complete(&e->start_call, e->ctx, 0, NULL);
	pump_stdin(e);
}

static void add_output(devkit_exec *e, int stream, const char *bytes, size_t len)
{
	if (e->run_call) {
		devkit__bytes *to = stream == DEVKIT_EXEC_STDOUT ? e->out : e->err;
		if (to && devkit__bytes_append(to, bytes, len) != 0) {
			char msg[320];
			snprintf(msg, sizeof(msg), "%s: out of memory for the output", e->what);
			devkit__exec_teardown(e, DEVKIT_ENOMEM, msg);
		}
		return;
	}
	int pause = 0, failed = 0;
	uv_mutex_lock(&e->lock);
	seg *tail = devkit__list_empty(&e->segs) ? NULL
		: devkit__container_of(e->segs.prev, seg, node);
	if (!tail || tail->stream != stream) {
		tail = calloc(1, sizeof(*tail));
		if (tail) {
			tail->stream = stream;
			devkit__list_push(&e->segs, &tail->node);
		}
	}
	if (!tail || devkit__bytes_append(&tail->b, bytes, len) != 0) {
		failed = 1;
	} else {
		e->out_bytes += len;
		uv_cond_broadcast(&e->cond);
		if (e->out_bytes > DEVKIT__EXEC_OUT_HIGH && !e->rx_paused)
			pause = e->rx_paused = 1;
	}
	uv_mutex_unlock(&e->lock);
	if (failed) {
		char msg[320];
		snprintf(msg, sizeof(msg), "%s: out of memory for the output", e->what);
		devkit__exec_teardown(e, DEVKIT_ENOMEM, msg);
	} else if (pause) {
		devkit__ws_pause(e->ws, 1);
	}
}

static void on_message(void *data, int channel, const char *bytes, size_t len, int last)
{
	devkit_exec *e = data;
	if (channel == DEVKIT_EXEC_STDOUT || channel == DEVKIT_EXEC_STDERR) {
		if (len)
			add_output(e, channel, bytes, len);
		return;
	}
	if (channel != 3)
		return; /* nothing else is sent to clients */
	if (e->errch.len + len > 64 * 1024 || devkit__bytes_append(&e->errch, bytes, len) != 0)
		return; /* a Status is small: ignore what is not one */
	if (!last)
		return;
	devkit__exec_status st;
	devkit__exec_status_parse(devkit__bytes_head(&e->errch), devkit__bytes_avail(&e->errch), &st);
	devkit__bytes_reset(&e->errch);
	uv_mutex_lock(&e->lock);
	if (!e->have_status) {
		e->have_status = 1;
		e->status = st;
		uv_cond_broadcast(&e->cond);
	}
	uv_mutex_unlock(&e->lock);
}

static void on_writable(void *data)
{
	pump_stdin(data);
}

static void on_closed(void *data, int rc, const char *message)
{
	devkit_exec *e = data;
	e->ws = NULL;
	if (e->start_call) {
		/* The handshake failed: devkit_exec_start reports it. */
		devkit__exec_teardown(e, rc < 0 ? rc : DEVKIT_EPROTO, message);
		return;
	}
	uv_mutex_lock(&e->lock);
	mark_ended(e, rc, message);
	int outcome = 0, exit_code = 0;
	char msg[1024] = "";
	if (e->run_call) {
		outcome = devkit__exec_outcome(e, &exit_code);
		if (outcome < 0)
			snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
	}
	uv_mutex_unlock(&e->lock);
	if (e->run_call) {
		if (outcome == 0 && e->exit_code_out)
			*e->exit_code_out = exit_code;
		complete(&e->run_call, e->ctx, outcome, msg);
		devkit__exec_teardown(e, DEVKIT_ECLOSED, NULL);
	}
}

static const devkit__ws_handler handler = { on_open, on_message, on_writable, on_closed };

/* --- the loop's side of the application's calls ------------------------------------------ */

static void send_resize(devkit_exec *e)
{
	uv_mutex_lock(&e->lock);
	int pending = e->resize_pending, cols = e->resize_cols, rows = e->resize_rows;
	e->resize_pending = 0;
	uv_mutex_unlock(&e->lock);
	if (!pending || !e->ws)
		return;
	char json[64];
	int n = snprintf(json, sizeof(json), "{\"Width\":%d,\"Height\":%d}", cols, rows);
	devkit__ws_send(e->ws, 4, json, (size_t)n);
}

static void on_wake(uv_async_t *a)
{
	devkit_exec *e = a->data;
	uv_mutex_lock(&e->lock);
	int freed = e->user_freed;
	int resume = e->rx_paused && e->out_bytes < DEVKIT__EXEC_OUT_LOW;
	if (resume)
		e->rx_paused = 0;
	uv_mutex_unlock(&e->lock);
	if (freed) {
		char msg[320];
		snprintf(msg, sizeof(msg), "%s: freed", e->what);
		devkit__exec_teardown(e, DEVKIT_ECLOSED, msg);
		return;
	}
	if (resume)
		devkit__ws_pause(e->ws, 0);
	send_resize(e);
	pump_stdin(e);
}

int devkit__exec_open(devkit_exec *e, const char *path, unsigned int timeout_ms)
{
	uv_async_init(&e->ctx->loop, &e->wake, on_wake);
	e->wake.data = e;
	e->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(e->ctx, &e->closeable);
	devkit__ws_opts wo = { .path = path, .protocols = devkit__exec_offer, .what = e->what,
		.timeout_ms = timeout_ms };
	e->ws = devkit__ws_open(e->k, &wo, &handler, e);
	if (!e->ws) {
		const devkit_error *err = devkit_error_last();
		int rc = err ? err->code : DEVKIT_ERROR;
		char msg[768];
		snprintf(msg, sizeof(msg), "%s: %s", e->what, err ? err->message : "cannot start");
		devkit__exec_teardown(e, rc, msg);
		return rc;
	}
	return 0;
}

/* --- the public API ----------------------------------------------------------------------- */

typedef struct start_args {
	devkit_exec *e;
	const char *path;
	unsigned int timeout_ms;
	int on_loop;             /* the loop saw it: the loop frees it on failure */
} start_args;

static void do_start(devkit__call *call)
{
	start_args *a = call->arg;
	a->on_loop = 1;
	a->e->start_call = call;
	devkit__exec_open(a->e, a->path, a->timeout_ms);
}

static int check_options(const char *fn, devkit_k8s *k, const devkit_exec_options *o)
{
	if (!k || !o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the client and options are required", fn);
	if (o->version != DEVKIT_EXEC_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_exec_options_init)", fn, o->version, DEVKIT_EXEC_OPTIONS_VERSION);
	return 0;
}

int devkit_exec_start(devkit_exec **out, devkit_k8s *k, const devkit_exec_options *o)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_start: out is NULL");
	*out = NULL;
	int rc = check_options("devkit_exec_start", k, o);
	if (rc)
		return rc;
	char *path;
	devkit_exec *e = devkit__exec_new(k, o, &path);
	if (!e)
		return devkit_error_last()->code;
	start_args a = { e, path, o->timeout_ms, 0 };
	devkit__call call = { .fn = do_start, .arg = &a };
	rc = devkit__call_run(e->ctx, &call);
	free(path);
	if (rc != 0) {
		if (!a.on_loop)
			devkit__exec_discard(e);
		return rc;
	}
	*out = e;
	return 0;
}

/* Wait on the session's condition (lock held). 1 if the time ran out. */
static int timed_wait(devkit_exec *e, int timeout_ms, uint64_t deadline)
{
	if (timeout_ms < 0) {
		uv_cond_wait(&e->cond, &e->lock);
		return 0;
	}
	uint64_t now = uv_hrtime();
	if (now >= deadline)
		return 1;
	uv_cond_timedwait(&e->cond, &e->lock, deadline - now);
	return 0;
}

static int ended_error(devkit_exec *e)
{
	if (e->end_rc < 0)
		return devkit__error_set_str(e->end_rc, e->end_msg);
	return devkit__error_set(DEVKIT_ECLOSED, "%s: the session has ended", e->what);
}

int devkit_exec_write(devkit_exec *e, const void *data, size_t len)
{
	if (!e || (!data && len))
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_write: the session is NULL");
	if (!e->stdin_enabled)
		return devkit__error_set(DEVKIT_EINVAL, "%s: stdin is not enabled (stdin_enabled)",
			e->what);
	const char *p = data;
	int rc = 0;
	uv_mutex_lock(&e->lock);
	while (len > 0) {
		if (e->stdin_close) {
			rc = devkit__error_set(DEVKIT_EINVAL, "%s: stdin is closed", e->what);
			break;
		}
		if (e->ended || e->closing) {
			rc = ended_error(e);
			break;
		}
		size_t pending = devkit__bytes_avail(&e->stdin_buf);
		if (pending >= DEVKIT__EXEC_IN_HIGH) {
			uv_cond_wait(&e->cond, &e->lock);
			continue;
		}
		size_t n = DEVKIT__EXEC_IN_HIGH - pending < len ? DEVKIT__EXEC_IN_HIGH - pending : len;
		if (devkit__bytes_append(&e->stdin_buf, p, n) != 0) {
			rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			break;
		}
		p += n;
		len -= n;
		uv_async_send(&e->wake);
	}
	uv_mutex_unlock(&e->lock);
	return rc;
}

int devkit_exec_close_stdin(devkit_exec *e)
{
	if (!e)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_close_stdin: the session is NULL");
	if (!e->stdin_enabled)
		return devkit__error_set(DEVKIT_EINVAL, "%s: stdin is not enabled", e->what);
	int rc = 0;
	uv_mutex_lock(&e->lock);
	if (!e->v5) {
		rc = devkit__error_set(DEVKIT_EUNSUPPORTED, "%s: the server speaks %s, which cannot "
			"close stdin (v5.channel.k8s.io, Kubernetes 1.29+, can)", e->what, e->protocol);
	} else if (!e->stdin_close && !e->closing) {
		e->stdin_close = 1;
		uv_async_send(&e->wake);
	}
	uv_mutex_unlock(&e->lock);
	return rc;
}

int devkit_exec_read(devkit_exec *e, int *stream, devkit_buf *out, int timeout_ms)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (stream)
		*stream = 0;
	if (!e || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_read: the session and out are "
			"required");
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc;
	uv_mutex_lock(&e->lock);
	for (;;) {
		if (!devkit__list_empty(&e->segs)) {
			seg *s = devkit__container_of(e->segs.next, seg, node);
			devkit__list_remove(&s->node);
			size_t n = devkit__bytes_avail(&s->b);
			e->out_bytes -= n;
			if (stream)
				*stream = s->stream;
			/* NUL-terminated for text, not counted. */
			if (devkit__bytes_append(&s->b, "", 1) == 0)
				s->b.len--;
			devkit__bytes_give(&s->b, out);
			free(s);
			if (e->rx_paused && e->out_bytes < DEVKIT__EXEC_OUT_LOW && !e->closing)
				uv_async_send(&e->wake);
			rc = n > (size_t)0x7fffffff ? 0x7fffffff : (int)n;
			break;
		}
		if (e->ended) {
			rc = e->end_rc < 0 ? devkit__error_set_str(e->end_rc, e->end_msg) : 0;
			break;
		}
		if (timeout_ms == 0 || timed_wait(e, timeout_ms, deadline)) {
			rc = devkit__error_set(DEVKIT_ETIMEOUT, "%s: no output within %d ms", e->what,
				timeout_ms);
			break;
		}
	}
	uv_mutex_unlock(&e->lock);
	return rc;
}

int devkit_exec_resize(devkit_exec *e, int cols, int rows)
{
	if (!e || cols <= 0 || rows <= 0 || cols > 65535 || rows > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_resize: a session and a size of "
			"1..65535 columns and rows are required");
	if (!e->tty)
		return devkit__error_set(DEVKIT_EINVAL, "%s: no terminal (tty) to resize", e->what);
	int rc = 0;
	uv_mutex_lock(&e->lock);
	if (e->ended || e->closing) {
		rc = ended_error(e);
	} else {
		e->resize_cols = cols;
		e->resize_rows = rows;
		e->resize_pending = 1;
		uv_async_send(&e->wake);
	}
	uv_mutex_unlock(&e->lock);
	return rc;
}

int devkit_exec_wait(devkit_exec *e, int timeout_ms, int *exit_code)
{
	if (exit_code)
		*exit_code = -1;
	if (!e)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_wait: the session is NULL");
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc;
	uv_mutex_lock(&e->lock);
	for (;;) {
		if (e->have_status || e->ended) {
			rc = devkit__exec_outcome(e, exit_code);
			break;
		}
		if (timeout_ms == 0 || timed_wait(e, timeout_ms, deadline)) {
			rc = devkit__error_set(DEVKIT_ETIMEOUT, "%s: still running after %d ms", e->what,
				timeout_ms);
			break;
		}
	}
	uv_mutex_unlock(&e->lock);
	return rc;
}

const char *devkit_exec_protocol(const devkit_exec *e)
{
	return e ? e->protocol : NULL;
}

void devkit_exec_free(devkit_exec *e)
{
	if (!e)
		return;
	uv_mutex_lock(&e->lock);
	e->user_freed = 1;
	int loop_done = e->loop_done;
	if (!loop_done && !e->closing)
		uv_async_send(&e->wake);
	uv_mutex_unlock(&e->lock);
	if (loop_done)
		devkit__exec_discard(e);
}
