/* SPDX-License-Identifier: Apache-2.0 */
#include "engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "error.h"
#include "http.h"
#include "resolve.h"

const char *devkit_version(int *major, int *minor, int *patch)
{
	if (major)
		*major = DEVKIT_VERSION_MAJOR;
	if (minor)
		*minor = DEVKIT_VERSION_MINOR;
	if (patch)
		*patch = DEVKIT_VERSION_PATCH;
	return DEVKIT_VERSION;
}

int devkit_ctx_options_init(devkit_ctx_options *opts, unsigned int version)
{
	static const devkit_ctx_options defaults = DEVKIT_CTX_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_CTX_OPTIONS_VERSION, "devkit_ctx_options_init");
}

/* --- calls into the loop -------------------------------------------------- */

int devkit__on_loop(devkit_ctx *ctx)
{
	uv_thread_t self = uv_thread_self();
	return uv_thread_equal(&self, &ctx->thread);
}

int devkit__call_run(devkit_ctx *ctx, devkit__call *call)
{
	if (!ctx)
		return devkit__error_set(DEVKIT_EINVAL, "context is NULL");
	if (devkit__on_loop(ctx))
		return devkit__error_set(DEVKIT_EINVAL,
			"libdevkit functions that wait cannot be called from a callback on the I/O thread");
	call->rc = 0;
	call->done = 0;
	call->message[0] = '\0';
	call->next = NULL;

	uv_mutex_lock(&ctx->lock);
	if (ctx->stopping) {
		uv_mutex_unlock(&ctx->lock);
		return devkit__error_set(DEVKIT_ECLOSED, "the devkit context is shutting down");
	}
	if (ctx->calls_tail)
		ctx->calls_tail->next = call;
	else
		ctx->calls_head = call;
	ctx->calls_tail = call;
	uv_mutex_unlock(&ctx->lock);
	uv_async_send(&ctx->wakeup);

	uv_mutex_lock(&ctx->lock);
	while (!call->done)
		uv_cond_wait(&ctx->calls_cond, &ctx->lock);
	uv_mutex_unlock(&ctx->lock);

	if (call->rc < 0)
		return devkit__error_set_str(call->rc, call->message[0] ? call->message : NULL);
	return call->rc;
}

void devkit__call_done(devkit__call *call, devkit_ctx *ctx, int rc)
{
	if (rc < 0 && !call->message[0]) {
		const devkit_error *e = devkit_error_last();
		snprintf(call->message, sizeof(call->message), "%s",
			e && e->code == rc ? e->message : devkit_strerror(rc));
	}
	uv_mutex_lock(&ctx->lock);
	call->rc = rc;
	call->done = 1;
	uv_cond_broadcast(&ctx->calls_cond);
	uv_mutex_unlock(&ctx->lock);
}

int devkit__call_fail(devkit__call *call, devkit_ctx *ctx, int rc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(call->message, sizeof(call->message), fmt, ap);
	va_end(ap);
	devkit__call_done(call, ctx, rc);
	return rc;
}

typedef struct stats_args {
	devkit_ctx *ctx;
	void *object;
	void *out;
	devkit__stats_fill fill;
} stats_args;

static void do_get_stats(devkit__call *call)
{
	stats_args *a = call->arg;
	unsigned int version = *(unsigned int *)a->out;
	a->fill(a->object, a->out);
	*(unsigned int *)a->out = version;
	devkit__call_done(call, a->ctx, 0);
}

int devkit__get_stats(devkit_ctx *ctx, void *object, void *out, unsigned int known,
	const char *name, devkit__stats_fill fill)
{
	if (!ctx || !object || !out)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the object and out are required", name);
	unsigned int version = *(unsigned int *)out;
	if (version != known)
		return devkit__error_set(DEVKIT_EINVAL, "%s: stats version %u is not %u "
			"(initialise with the _STATS_INIT macro)", name, version, known);
	stats_args a = { ctx, object, out, fill };
	devkit__call call = { .fn = do_get_stats, .arg = &a };
	return devkit__call_run(ctx, &call);
}

/* --- the I/O thread ------------------------------------------------------- */

static void shutdown_loop(devkit_ctx *ctx)
{
	/* Each tracked object untracks itself while shutting down. */
	while (ctx->tracked.next != &ctx->tracked) {
		devkit__closeable *c = ctx->tracked.next;
		devkit__ctx_untrack(c);
		c->shutdown(c);
	}
	devkit__resolver_free(ctx);
	devkit__http_shutdown(ctx);
	uv_close((uv_handle_t *)&ctx->wakeup, NULL);
}

static void on_wakeup(uv_async_t *async)
{
	devkit_ctx *ctx = async->data;
	uv_mutex_lock(&ctx->lock);
	devkit__call *calls = ctx->calls_head;
	ctx->calls_head = ctx->calls_tail = NULL;
	int stopping = ctx->stopping;
	uv_mutex_unlock(&ctx->lock);

	while (calls) {
		devkit__call *next = calls->next;
		/* The caller may return as soon as fn completes the call: read `next` first. */
		calls->fn(calls);
		calls = next;
	}
	if (stopping)
		shutdown_loop(ctx);
}

static void io_thread(void *arg)
{
	devkit_ctx *ctx = arg;
	/* The application's signal handlers must not run on our thread, and a
	 * write to a socket whose peer has gone must fail with EPIPE rather than
	 * kill the process with SIGPIPE: block them all here (SIGPIPE is sent to
	 * the writing thread, so blocking it here is enough). */
	sigset_t all;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, NULL);
	uv_run(&ctx->loop, UV_RUN_DEFAULT);
}

int devkit_ctx_new(devkit_ctx **out, const devkit_ctx_options *opts)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_ctx_new: out is NULL");
	*out = NULL;
	if (opts && opts->version != DEVKIT_CTX_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL,
			"devkit_ctx_new: options version %u is not %u", opts->version,
			DEVKIT_CTX_OPTIONS_VERSION);

	devkit_ctx *ctx = calloc(1, sizeof(*ctx));
	if (!ctx)
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_ctx_new: out of memory");
	if (opts)
		ctx->opts = *opts;
	else
		devkit_ctx_options_init(&ctx->opts, DEVKIT_CTX_OPTIONS_VERSION);
	ctx->log_level = ctx->opts.log_level;
	ctx->events_max = ctx->opts.event_queue_max ? ctx->opts.event_queue_max : 4096;
	/* The ring starts small and doubles up to events_max as events pile up. */
	ctx->events_cap = ctx->events_max < 16 ? ctx->events_max : 16;
	ctx->tracked.next = ctx->tracked.prev = &ctx->tracked;
	ctx->next_id = 1;

	int rc;
	ctx->events = calloc(ctx->events_cap, sizeof(devkit_event));
	if (!ctx->events) {
		rc = devkit__error_set(DEVKIT_ENOMEM, "devkit_ctx_new: out of memory");
		goto fail_alloc;
	}
	ctx->event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (ctx->event_fd < 0) {
		rc = devkit__error_set(DEVKIT_EIO, "devkit_ctx_new: eventfd: %s", strerror(errno));
		goto fail_alloc;
	}
	if ((rc = uv_loop_init(&ctx->loop)) != 0) {
		rc = devkit__error_set(DEVKIT_ERROR, "devkit_ctx_new: uv_loop_init: %s", uv_strerror(rc));
		goto fail_fd;
	}
	uv_mutex_init(&ctx->lock);
	uv_cond_init(&ctx->calls_cond);
	uv_cond_init(&ctx->events_cond);
	uv_async_init(&ctx->loop, &ctx->wakeup, on_wakeup);
	ctx->wakeup.data = ctx;
	if ((rc = uv_thread_create(&ctx->thread, io_thread, ctx)) != 0) {
		rc = devkit__error_set(DEVKIT_ERROR, "devkit_ctx_new: cannot start the I/O thread: %s",
			uv_strerror(rc));
		uv_close((uv_handle_t *)&ctx->wakeup, NULL);
		uv_run(&ctx->loop, UV_RUN_DEFAULT);
		uv_loop_close(&ctx->loop);
		uv_cond_destroy(&ctx->events_cond);
		uv_cond_destroy(&ctx->calls_cond);
		uv_mutex_destroy(&ctx->lock);
		goto fail_fd;
	}
	*out = ctx;
	return 0;

fail_fd:
	close(ctx->event_fd);
fail_alloc:
	free(ctx->events);
	free(ctx);
	return rc;
}

void devkit_ctx_free(devkit_ctx *ctx)
{
	if (!ctx)
		return;
	uv_mutex_lock(&ctx->lock);
	ctx->stopping = 1;
	uv_mutex_unlock(&ctx->lock);
	uv_async_send(&ctx->wakeup);
	uv_thread_join(&ctx->thread);

	/* Calls that raced with shutdown never ran: complete them. */
	for (devkit__call *c = ctx->calls_head, *next; c; c = next) {
		next = c->next;
		devkit__call_fail(c, ctx, DEVKIT_ECLOSED, "the devkit context was freed");
	}
	/* Wake any thread still blocked in devkit_ctx_poll() and wait until it
	 * has left, so that the lock can be destroyed. */
	uv_mutex_lock(&ctx->lock);
	uv_cond_broadcast(&ctx->events_cond);
	while (ctx->pollers > 0)
		uv_cond_wait(&ctx->events_cond, &ctx->lock);
	uv_mutex_unlock(&ctx->lock);

	uv_loop_close(&ctx->loop);
	uv_cond_destroy(&ctx->events_cond);
	uv_cond_destroy(&ctx->calls_cond);
	uv_mutex_destroy(&ctx->lock);
	close(ctx->event_fd);
	free(ctx->events);
	free(ctx);
}

void devkit__ctx_track(devkit_ctx *ctx, devkit__closeable *c)
{
	c->next = &ctx->tracked;
	c->prev = ctx->tracked.prev;
	ctx->tracked.prev->next = c;
	ctx->tracked.prev = c;
}

void devkit__ctx_untrack(devkit__closeable *c)
{
	if (!c->next)
		return;
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->next = c->prev = NULL;
}

uint64_t devkit__ctx_next_id(devkit_ctx *ctx)
{
	return ctx->next_id++;
}

/* --- events --------------------------------------------------------------- */

static void event_fd_set(devkit_ctx *ctx, int readable)
{
	uint64_t v = 1;
	ssize_t n;
	if (readable)
		n = write(ctx->event_fd, &v, sizeof(v));
	else
		n = read(ctx->event_fd, &v, sizeof(v));
	(void)n; /* EAGAIN means it already was in that state */
}

/* Double the ring (called with the lock held); on failure the queue just
 * stays at its size and drops the oldest. */
static void grow_events(devkit_ctx *ctx)
{
	unsigned int cap = ctx->events_cap * 2 > ctx->events_max ? ctx->events_max : ctx->events_cap * 2;
	devkit_event *ring = calloc(cap, sizeof(*ring));
	if (!ring)
		return;
	for (unsigned int i = 0; i < ctx->events_count; i++)
		ring[i] = ctx->events[(ctx->events_head + i) % ctx->events_cap];
	free(ctx->events);
	ctx->events = ring;
	ctx->events_head = 0;
	ctx->events_cap = cap;
}

void devkit__event_emit(devkit_ctx *ctx, const devkit_event *ev)
{
	if (ctx->opts.event_cb) {
		ctx->opts.event_cb(ev, ctx->opts.event_payload);
		return;
	}
	uv_mutex_lock(&ctx->lock);
	if (ctx->events_count == ctx->events_cap && ctx->events_cap < ctx->events_max)
		grow_events(ctx);
	if (ctx->events_count == ctx->events_cap) {
		/* Drop the oldest: a stalled reader must not make memory grow. */
		ctx->events_head = (ctx->events_head + 1) % ctx->events_cap;
		ctx->events_count--;
		ctx->events_dropped++;
	}
	unsigned int slot = (ctx->events_head + ctx->events_count) % ctx->events_cap;
	ctx->events[slot] = *ev;
	if (ctx->events_count++ == 0)
		event_fd_set(ctx, 1);
	uv_cond_broadcast(&ctx->events_cond);
	uv_mutex_unlock(&ctx->lock);
}

static void do_post_event(devkit__call *call)
{
	void **a = call->arg;
	devkit__event_emit(a[0], a[1]);
	devkit__call_done(call, a[0], 0);
}

int devkit__event_post(devkit_ctx *ctx, const devkit_event *ev)
{
	if (devkit__on_loop(ctx)) {
		devkit__event_emit(ctx, ev);
		return 0;
	}
	/* Through the loop, so that an event_cb still runs on the I/O thread. */
	void *args[2] = { ctx, (void *)ev };
	devkit__call call = { .fn = do_post_event, .arg = args };
	return devkit__call_run(ctx, &call);
}

static int take_event(devkit_ctx *ctx, devkit_event *ev)
{
	if (ctx->events_dropped) {
		memset(ev, 0, sizeof(*ev));
		ev->type = DEVKIT_EVENT_EVENTS_DROPPED;
		ev->attempt = (int)ctx->events_dropped;
		snprintf(ev->message, sizeof(ev->message),
			"%llu events were dropped: the event queue was full",
			(unsigned long long)ctx->events_dropped);
		ctx->events_dropped = 0;
		return 1;
	}
	if (ctx->events_count == 0)
		return 0;
	*ev = ctx->events[ctx->events_head];
	ctx->events_head = (ctx->events_head + 1) % ctx->events_cap;
	if (--ctx->events_count == 0)
		event_fd_set(ctx, 0);
	return 1;
}

int devkit_ctx_poll(devkit_ctx *ctx, devkit_event *ev, int timeout_ms)
{
	if (!ctx || !ev)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_ctx_poll: ctx and event are required");
	uv_mutex_lock(&ctx->lock);
	ctx->pollers++;
	int got = take_event(ctx, ev);
	if (!got && timeout_ms != 0) {
		uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
		while (!got && !ctx->stopping) {
			if (timeout_ms < 0) {
				uv_cond_wait(&ctx->events_cond, &ctx->lock);
			} else {
				uint64_t now = uv_hrtime();
				if (now >= deadline)
					break;
				uv_cond_timedwait(&ctx->events_cond, &ctx->lock, deadline - now);
			}
			got = take_event(ctx, ev);
		}
	}
	if (--ctx->pollers == 0 && ctx->stopping)
		uv_cond_broadcast(&ctx->events_cond);
	uv_mutex_unlock(&ctx->lock);
	return got;
}

int devkit_ctx_event_fd(devkit_ctx *ctx)
{
	return ctx ? ctx->event_fd : -1;
}

void devkit_ctx_set_log_level(devkit_ctx *ctx, devkit_log_level level)
{
	if (ctx)
		__atomic_store_n(&ctx->log_level, (int)level, __ATOMIC_RELAXED);
}

const char *devkit_event_type_name(int type)
{
	switch (type) {
	case DEVKIT_EVENT_TUNNEL_STATE: return "tunnel-state";
	case DEVKIT_EVENT_FORWARD_READY: return "forward-ready";
	case DEVKIT_EVENT_FORWARD_FAILED: return "forward-failed";
	case DEVKIT_EVENT_EVENTS_DROPPED: return "events-dropped";
	case DEVKIT_EVENT_LOG: return "log";
	case DEVKIT_EVENT_REGISTRATION_STATE: return "registration-state";
	case DEVKIT_EVENT_REPLICA_STAGE: return "replica-stage";
	default: return "none";
	}
}

const char *devkit_tunnel_state_name(int state)
{
	switch (state) {
	case DEVKIT_TUNNEL_CONNECTING: return "connecting";
	case DEVKIT_TUNNEL_UP: return "up";
	case DEVKIT_TUNNEL_RECONNECTING: return "reconnecting";
	case DEVKIT_TUNNEL_DOWN: return "down";
	case DEVKIT_TUNNEL_CLOSED: return "closed";
	default: return "unknown";
	}
}

/* --- logging -------------------------------------------------------------- */

void devkit__log(devkit_ctx *ctx, devkit_log_level level, const char *fmt, ...)
{
	if (!ctx || !devkit__log_enabled(ctx, level))
		return;
	char line[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (ctx->opts.log_cb)
		ctx->opts.log_cb(level, line, ctx->opts.log_payload);
	if (ctx->opts.log_events) {
		devkit_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = DEVKIT_EVENT_LOG;
		ev.state = (int)level;
		size_t n = strnlen(line, sizeof(ev.message) - 1); /* long lines are cut */
		memcpy(ev.message, line, n);
		devkit__event_emit(ctx, &ev);
	}
}
