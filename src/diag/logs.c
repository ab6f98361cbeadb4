/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_logs: a container's log read on the engine loop and handed to a
 * reader thread (or a file), surviving broken connections.
 *
 * Each connection is one streamed GET .../log?timestamps=true. Its bytes
 * are cut into lines; each line's timestamp goes through the cursor
 * (log_cursor.h), which drops what a resumed request sends again; the
 * timestamp is then removed unless the caller asked for it. When the
 * stream ends:
 *   - with an error (connection reset, a proxy's idle timeout, a truncated
 *     chunk, 5xx after the client's retries): reconnect after a backoff,
 *     from the last line's second; give up after max_reconnects attempts
 *     in a row that brought nothing new;
 *   - with an API error (4xx: Pod gone, container not there or not
 *     started): the log ends with the server's message;
 *   - cleanly: without follow that is the end; with follow the API server
 *     also ends the stream when the container stops, so the Pod is read: a
 *     container still running means the connection was cut (an API server
 *     or kubelet restart) and we reconnect, otherwise the log has ended.
 * A reader that falls behind by DEVKIT__LOGS_HIGH bytes stops the stream;
 * once it has read down to DEVKIT__LOGS_LOW the stream is resumed the same
 * way as after a cut, so memory stays bounded and nothing is lost.
 */
#include "diag_int.h"

#include "k8s/k8s_int.h"
#include "logs_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/list.h"
#include "core/rfc3339.h"

#define BACKOFF_FIRST_MS 250u
#define BACKOFF_MAX_MS 8000u
#define DEFAULT_MAX_RECONNECTS 10u

static void connect_stream(devkit_logs *l);
static void teardown(devkit_logs *l, int rc, const char *message);

/* --- the end ------------------------------------------------------------------------ */

/* Backlog of unread or unwritten lines (lock held for the queue). */
static size_t backlog_locked(const devkit_logs *l)
{
	return l->fd >= 0 ? devkit__logs_file_backlog(l) : devkit__bytes_avail(&l->queue);
}

static void mark_ended(devkit_logs *l, int rc, const char *message)
{
	uv_mutex_lock(&l->lock);
	if (!l->ended) {
		l->ended = 1;
		l->end_rc = rc;
		snprintf(l->end_msg, sizeof(l->end_msg), "%s", message);
	}
	uv_cond_broadcast(&l->cond);
	uv_mutex_unlock(&l->lock);
}

/* End the log: at once for a reader (it still gets the queued lines first),
 * after the last write for a file (the end means the file is complete). */
static void finish(devkit_logs *l, int rc, const char *message)
{
	if (l->ending)
		return;
	l->ending = 1;
	l->end_rc_pending = rc;
	snprintf(l->end_msg_pending, sizeof(l->end_msg_pending), "%s", message);
	/* inside the stream's own data callback it cannot be cancelled: the
	 * callback returns non-zero instead, which ends it */
	if (!l->in_data) {
		devkit__k8s_request_cancel(l->req);
		l->req = NULL;
	}
	devkit__k8s_request_cancel(l->check);
	l->check = NULL;
	uv_timer_stop(&l->timer);
	devkit__logs_drained(l);
}

void devkit__logs_fail(devkit_logs *l, int rc, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(l, rc, msg);
}

static void finish_ok(devkit_logs *l, const char *why)
{
	char msg[1024];
	snprintf(msg, sizeof(msg), "%s has ended%s%s", l->what, why ? ": " : "", why ? why : "");
	finish(l, DEVKIT_ECLOSED, msg);
}

static void discard(devkit_logs *l)
{
	if (l->fd >= 0)
		close(l->fd);
	devkit__bytes_free(&l->partial);
	devkit__bytes_free(&l->fout);
	devkit__bytes_free(&l->fbusy);
	devkit__bytes_free(&l->queue);
	uv_cond_destroy(&l->cond);
	uv_mutex_destroy(&l->lock);
	free(l->ns);
	free(l->pod);
	free(l->container);
	free(l->since_time);
	free(l->file);
	free(l);
}

/* The loop is done with the handle once its handles are closed and no
 * file write is in flight. */
static void maybe_loop_done(devkit_logs *l)
{
	if (l->handles > 0 || l->fs_busy)
		return;
	uv_mutex_lock(&l->lock);
	int already = l->loop_done;
	l->loop_done = 1;
	int freed = l->user_freed;
	uv_mutex_unlock(&l->lock);
	if (!already && freed)
		discard(l);
}

void devkit__logs_drained(devkit_logs *l)
{
	uv_mutex_lock(&l->lock);
	int closing = l->closing;
	/* resume once the stream that was stopped has ended (on_end) */
	int resume = l->paused && backlog_locked(l) < DEVKIT__LOGS_LOW && !l->ending &&
		!closing && !l->req && !l->check;
	if (resume)
		l->paused = 0;
	uv_mutex_unlock(&l->lock);
	if (closing) {
		maybe_loop_done(l);
		return;
	}
	if (l->ending) {
		/* a file is complete once its last write is done */
		if (l->fd < 0 || (!l->fs_busy && devkit__logs_file_backlog(l) == 0))
			mark_ended(l, l->end_rc_pending, l->end_msg_pending);
		return;
	}
	if (resume) {
		/* resumed like after a cut, but it is no failure */
		devkit__log_cursor_resume(&l->cursor);
		uv_mutex_lock(&l->lock);
		l->stats.reconnects++;
		uv_mutex_unlock(&l->lock);
		connect_stream(l);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	devkit_logs *l = h->data;
	l->handles--;
	maybe_loop_done(l);
}

static void teardown(devkit_logs *l, int rc, const char *message)
{
	uv_mutex_lock(&l->lock);
	int closing = l->closing;
	l->closing = 1;
	uv_mutex_unlock(&l->lock);
	if (closing)
		return;
	devkit__ctx_untrack(&l->closeable);
	devkit__k8s_request_cancel(l->req);
	devkit__k8s_request_cancel(l->check);
	l->req = l->check = NULL;
	mark_ended(l, rc, message);
	uv_close((uv_handle_t *)&l->timer, on_handle_closed);
	uv_close((uv_handle_t *)&l->wake, on_handle_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit_logs *l = devkit__container_of(c, devkit_logs, closeable);
	char msg[600];
	snprintf(msg, sizeof(msg), "%s: the devkit context is shutting down", l->what);
	teardown(l, DEVKIT_ECLOSED, msg);
}

static void on_wake(uv_async_t *a)
{
	devkit_logs *l = a->data;
	uv_mutex_lock(&l->lock);
	int freed = l->user_freed;
	uv_mutex_unlock(&l->lock);
	if (freed) {
		char msg[600];
		snprintf(msg, sizeof(msg), "%s: closed", l->what);
		teardown(l, DEVKIT_ECLOSED, msg);
		return;
	}
	devkit__logs_drained(l);
}

/* --- lines ---------------------------------------------------------------------------- */

static void deliver(devkit_logs *l, const char *text, size_t len)
{
	if (l->fd >= 0 && (devkit__logs_file_put(l, text, len) != 0 ||
		devkit__logs_file_put(l, "\n", 1) != 0)) {
		devkit__logs_fail(l, DEVKIT_ENOMEM, "%s: out of memory", l->what);
		return;
	}
	uv_mutex_lock(&l->lock);
	if (l->fd < 0 && (devkit__bytes_append(&l->queue, text, len) != 0 ||
		devkit__bytes_append(&l->queue, "\n", 1) != 0)) {
		uv_mutex_unlock(&l->lock);
		devkit__logs_fail(l, DEVKIT_ENOMEM, "%s: out of memory", l->what);
		return;
	}
	l->stats.lines++;
	l->stats.bytes += len + 1;
	if (backlog_locked(l) >= DEVKIT__LOGS_HIGH)
		l->paused = 1;
	uv_cond_broadcast(&l->cond);
	uv_mutex_unlock(&l->lock);
	l->failures = 0;
}

static void take_line(devkit_logs *l, const char *line, size_t len)
{
	devkit__log_ts ts;
	size_t tslen = devkit__log_ts_parse(line, len, &ts);
	if (devkit__log_cursor_take(&l->cursor, tslen ? &ts : NULL) == DEVKIT__LOG_DROP) {
		uv_mutex_lock(&l->lock);
		l->stats.duplicates_dropped++;
		uv_mutex_unlock(&l->lock);
		return;
	}
	if (tslen && !l->timestamps) {
		/* "TIMESTAMP text": the space after it is the kubelet's, not the app's */
		size_t skip = tslen < len ? tslen + 1 : tslen;
		line += skip;
		len -= skip;
	}
	deliver(l, line, len);
}

static int on_data(void *data, const char *bytes, size_t len)
{
	devkit_logs *l = data;
	if (l->ending)
		return 1;
	l->in_data = 1;
	if (devkit__bytes_append(&l->partial, bytes, len) != 0)
		devkit__logs_fail(l, DEVKIT_ENOMEM, "%s: out of memory", l->what);
	while (!l->ending) {
		const char *head = devkit__bytes_head(&l->partial);
		size_t avail = devkit__bytes_avail(&l->partial);
		const char *nl = memchr(head, '\n', avail);
		if (!nl) {
			if (avail >= DEVKIT__LOGS_MAX_LINE) {
				take_line(l, head, avail);
				devkit__bytes_consume(&l->partial, avail);
			}
			break;
		}
		take_line(l, head, (size_t)(nl - head));
		devkit__bytes_consume(&l->partial, (size_t)(nl - head) + 1);
	}
	l->in_data = 0;
	uv_mutex_lock(&l->lock);
	int paused = l->paused;
	uv_mutex_unlock(&l->lock);
	/* stopping ends the request with DEVKIT_ECLOSED; on_end sees `paused` */
	return paused || l->ending;
}

/* --- connections ---------------------------------------------------------------------- */

static void on_timer(uv_timer_t *t)
{
	devkit_logs *l = t->data;
	devkit__log_cursor_resume(&l->cursor);
	uv_mutex_lock(&l->lock);
	l->stats.reconnects++;
	uv_mutex_unlock(&l->lock);
	connect_stream(l);
}

static void reconnect_later(devkit_logs *l, const char *why)
{
	unsigned int max = l->max_reconnects ? l->max_reconnects : DEFAULT_MAX_RECONNECTS;
	if (++l->failures > max) {
		devkit__logs_fail(l, DEVKIT_EIO, "%s: gave up after %u reconnects that brought "
			"nothing new; the last: %s", l->what, max, why);
		return;
	}
	unsigned int delay = BACKOFF_FIRST_MS << (l->failures > 6 ? 5 : l->failures - 1);
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	if (devkit__log_enabled(l->ctx, DEVKIT_LOG_INFO))
		devkit__log(l->ctx, DEVKIT_LOG_INFO, "%s: %s; reconnecting in %u ms", l->what, why,
			delay);
	uv_timer_start(&l->timer, on_timer, delay, 0);
}

/* The container's state after a clean end of a followed stream. */
static void on_checked(void *data, const devkit__k8s_answer *a)
{
	devkit_logs *l = data;
	l->check = NULL;
	if (a->rc == DEVKIT_ENOTFOUND) {
		devkit__logs_fail(l, DEVKIT_ENOTFOUND, "%s: the Pod was deleted", l->what);
		return;
	}
	if (a->rc < 0) {
		reconnect_later(l, a->message);
		return;
	}
	json_error_t jerr;
	json_t *pod = json_loadb(a->body, a->body_len, 0, &jerr);
	const json_t *cs = l->container ? devkit__json_find_named(devkit__json_path(pod,
		"status.containerStatuses"), l->container) : NULL;
	if (!cs && l->container)
		cs = devkit__json_find_named(devkit__json_path(pod, "status.initContainerStatuses"),
			l->container);
	if (!cs)
		cs = json_array_get(devkit__json_path(pod, "status.containerStatuses"), 0);
	int running = devkit__json_path(cs, "state.running") != NULL;
	const char *reason = devkit__json_path_str(cs, "state.terminated.reason");
	char why[256];
	snprintf(why, sizeof(why), "the container %s%s%s", running ? "runs" : "stopped",
		reason ? ": " : "", reason ? reason : "");
	json_decref(pod);
	if (running)
		reconnect_later(l, "the server ended the stream while the container runs");
	else
		finish_ok(l, why);
}

static void on_end(void *data, const devkit__k8s_answer *a)
{
	devkit_logs *l = data;
	l->req = NULL;
	if (l->ending)
		return;
	uv_mutex_lock(&l->lock);
	int paused = l->paused;
	uv_mutex_unlock(&l->lock);
	if (a->rc == 0) {
		/* a clean end: an unfinished last line is the last line */
		size_t avail = devkit__bytes_avail(&l->partial);
		if (avail)
			take_line(l, devkit__bytes_head(&l->partial), avail);
		devkit__bytes_reset(&l->partial);
		if (!l->follow || l->previous) {
			finish_ok(l, NULL);
			return;
		}
		char path[700];
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", l->ns, l->pod);
		l->check = devkit__k8s_request_start(l->k, "GET", path, NULL, on_checked, l);
		if (!l->check)
			reconnect_later(l, devkit_error_last() ? devkit_error_last()->message : "?");
		return;
	}
	/* an unfinished line is sent again by the next request */
	devkit__bytes_reset(&l->partial);
	if (paused) {
		devkit__logs_drained(l);
		return;
	}
	if (a->rc == DEVKIT_ECLOSED && a->status == 0) {
		/* the client was closed or the engine is stopping: it is over */
		devkit__logs_fail(l, a->rc, "%s", a->message);
		return;
	}
	if (a->status >= 400 && a->status < 500 && a->status != 408 && a->status != 429) {
		/* the API's answer: the Pod or container is not there, or not yet */
		devkit__logs_fail(l, a->rc, "%s", a->message);
		return;
	}
	reconnect_later(l, a->message);
}

static void connect_stream(devkit_logs *l)
{
	char path[2048];
	devkit__logs_path(l, path, sizeof(path));
	if (devkit__log_enabled(l->ctx, DEVKIT_LOG_DEBUG))
		devkit__log(l->ctx, DEVKIT_LOG_DEBUG, "%s: GET %s", l->what, path);
	l->req = devkit__k8s_stream_start(l->k, path, on_data, on_end, l);
	if (!l->req) {
		const devkit_error *e = devkit_error_last();
		devkit__logs_fail(l, e ? e->code : DEVKIT_ERROR, "%s: %s", l->what,
			e ? e->message : "cannot start the request");
	}
}

static void do_start(devkit__call *call)
{
	devkit_logs *l = call->arg;
	uv_timer_init(&l->ctx->loop, &l->timer);
	l->timer.data = l;
	uv_async_init(&l->ctx->loop, &l->wake, on_wake);
	l->wake.data = l;
	l->handles = 2;
	l->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(l->ctx, &l->closeable);
	connect_stream(l);
	devkit__call_done(call, l->ctx, 0);
}

/* --- the public calls ---------------------------------------------------------------- */

int devkit_logs_options_init(devkit_logs_options *opts, unsigned int version)
{
	static const devkit_logs_options defaults = DEVKIT_LOGS_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_LOGS_OPTIONS_VERSION, "devkit_logs_options_init");
}

static char *dup_or_null(const char *s, int *failed)
{
	char *d = s ? strdup(s) : NULL;
	if (s && !d)
		*failed = 1;
	return d;
}

static int check_options(const devkit_logs_options *o)
{
	const char *fn = "devkit_logs_start";
	if (!o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the options are required", fn);
	if (o->version != DEVKIT_LOGS_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_logs_options_init)", fn, o->version, DEVKIT_LOGS_OPTIONS_VERSION);
	int rc = devkit__diag_check_name(fn, "Pod name", o->pod);
	if (rc == 0 && o->namespace_name)
		rc = devkit__diag_check_name(fn, "namespace", o->namespace_name);
	if (rc == 0 && o->container)
		rc = devkit__diag_check_name(fn, "container name", o->container);
	if (rc < 0)
		return rc;
	if (o->since_seconds < 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: since_seconds %lld is negative", fn,
			o->since_seconds);
	if (o->since_seconds > 0 && o->since_time)
		return devkit__error_set(DEVKIT_EINVAL, "%s: since_seconds and since_time exclude "
			"each other", fn);
	time_t t;
	if (o->since_time && devkit__rfc3339_parse(o->since_time, &t) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: since_time \"%s\" is not an RFC 3339 time "
			"(2024-05-01T12:00:00Z)", fn, o->since_time);
	if (o->tail_lines < -1)
		return devkit__error_set(DEVKIT_EINVAL, "%s: tail_lines %lld: -1 (all) or a count, "
			"please", fn, o->tail_lines);
	return 0;
}

int devkit_logs_start(devkit_logs **out, devkit_k8s *k8s, const devkit_logs_options *o)
{
	if (!out || !k8s)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_logs_start: out and the client are "
			"required");
	*out = NULL;
	int rc = check_options(o);
	if (rc < 0)
		return rc;
	const char *ns = o->namespace_name;
	json_t *pod = NULL;
	rc = devkit__diag_read_pod("devkit_logs_start", k8s, &ns, o->pod, &pod);
	if (rc < 0)
		return rc;
	devkit_logs *l = calloc(1, sizeof(*l));
	if (!l) {
		json_decref(pod);
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_logs_start: out of memory");
	}
	int failed = 0;
	l->k = k8s;
	l->ctx = devkit__k8s_ctx(k8s);
	l->fd = -1;
	l->ns = dup_or_null(ns, &failed);
	l->pod = dup_or_null(o->pod, &failed);
	l->container = dup_or_null(o->container ? o->container : devkit__k8s_default_container(pod), &failed);
	l->since_time = dup_or_null(o->since_time, &failed);
	l->file = dup_or_null(o->file, &failed);
	json_decref(pod);
	l->follow = o->follow;
	l->previous = o->previous;
	l->timestamps = o->timestamps;
	l->since_seconds = o->since_seconds;
	l->tail_lines = o->tail_lines;
	l->max_reconnects = o->max_reconnects;
	l->started_ms = uv_hrtime() / 1000000u;
	l->stats.version = DEVKIT_LOGS_STATS_VERSION;
	snprintf(l->what, sizeof(l->what), "%slog of %s/%s%s%s%s", l->previous ? "previous " : "",
		ns, o->pod, l->container ? " (container " : "", l->container ? l->container : "",
		l->container ? ")" : "");
	uv_mutex_init(&l->lock);
	uv_cond_init(&l->cond);
	if (failed) {
		discard(l);
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_logs_start: out of memory");
	}
	if (l->file) {
		/* opened here, on the caller's thread: a file that cannot be
		 * written is the caller's error, said at once */
		l->fd = open(l->file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (l->fd < 0) {
			rc = devkit__error_set(DEVKIT_EIO, "%s: cannot open %s: %s", l->what, l->file,
				strerror(errno));
			discard(l);
			return rc;
		}
	}
	devkit__call call = { .fn = do_start, .arg = l };
	rc = devkit__call_run(l->ctx, &call);
	if (rc < 0) {
		discard(l);
		return rc;
	}
	*out = l;
	return 0;
}

int devkit_logs_read(devkit_logs *l, devkit_buf *line, int timeout_ms)
{
	if (!l || !line)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_logs_read: the log and line are "
			"required");
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc = 0, wake = 0;
	uv_mutex_lock(&l->lock);
	for (;;) {
		size_t avail = devkit__bytes_avail(&l->queue);
		if (avail > 0) {
			const char *head = devkit__bytes_head(&l->queue);
			const char *nl = memchr(head, '\n', avail);
			size_t n = nl ? (size_t)(nl - head) : avail;
			char *s = malloc(n + 1);
			if (!s) {
				rc = devkit__error_set(DEVKIT_ENOMEM, "devkit_logs_read: out of memory");
				break;
			}
			memcpy(s, head, n);
			s[n] = '\0';
			devkit__bytes_consume(&l->queue, n + (nl ? 1 : 0));
			devkit_buf_dispose(line);
			line->ptr = s;
			line->size = n;
			line->reserved = n + 1;
			wake = l->paused && devkit__bytes_avail(&l->queue) < DEVKIT__LOGS_LOW &&
				!l->closing;
			rc = 1;
			break;
		}
		if (l->ended) {
			rc = devkit__error_set_str(l->end_rc, l->end_msg);
			break;
		}
		if (timeout_ms == 0)
			break;
		if (timeout_ms < 0) {
			uv_cond_wait(&l->cond, &l->lock);
			continue;
		}
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&l->cond, &l->lock, deadline - now);
	}
	/* sent with the lock held: the loop closes `wake` only after setting
	 * `closing` under the same lock */
	if (wake)
		uv_async_send(&l->wake);
	uv_mutex_unlock(&l->lock);
	return rc;
}

int devkit_logs_get_stats(devkit_logs *l, devkit_logs_stats *stats)
{
	if (!l || !stats)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_logs_get_stats: the log and stats "
			"are required");
	if (stats->version != DEVKIT_LOGS_STATS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_logs_get_stats: stats version %u is "
			"not %u (initialise with DEVKIT_LOGS_STATS_INIT)", stats->version,
			DEVKIT_LOGS_STATS_VERSION);
	uv_mutex_lock(&l->lock);
	*stats = l->stats;
	uv_mutex_unlock(&l->lock);
	return 0;
}

void devkit_logs_free(devkit_logs *l)
{
	if (!l)
		return;
	uv_mutex_lock(&l->lock);
	l->user_freed = 1;
	int loop_done = l->loop_done;
	if (!loop_done && !l->closing)
		uv_async_send(&l->wake);
	uv_mutex_unlock(&l->lock);
	if (loop_done)
		discard(l);
}
