/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine on its own: contexts come and go, options are versioned, the event
 * queue wakes pollers and select()-style loops, errors are per thread. These
 * are the threading tests that also run under ThreadSanitizer.
 */
#include <criterion/criterion.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include <devkit.h>

#include "core/engine.h"

Test(engine, options_init_fills_defaults)
{
	devkit_ctx_options o;
	memset(&o, 0xff, sizeof(o));
	cr_assert_eq(devkit_ctx_options_init(&o, DEVKIT_CTX_OPTIONS_VERSION), 0);
	cr_assert_eq(o.version, DEVKIT_CTX_OPTIONS_VERSION);
	cr_assert_eq(o.log_level, DEVKIT_LOG_WARN);
	cr_assert_null(o.log_cb);
	cr_assert_eq(o.event_queue_max, 4096);
}

Test(engine, unknown_options_version_is_refused_with_a_reason)
{
	devkit_ctx_options o;
	cr_assert_eq(devkit_ctx_options_init(&o, 999), DEVKIT_EINVAL);
	const devkit_error *e = devkit_error_last();
	cr_assert_not_null(e);
	cr_assert_eq(e->code, DEVKIT_EINVAL);
	cr_assert(strstr(e->message, "999") != NULL, "message: %s", e->message);

	devkit_ctx *ctx = NULL;
	o.version = 7;
	cr_assert_eq(devkit_ctx_new(&ctx, &o), DEVKIT_EINVAL);
	cr_assert_null(ctx);
}

Test(engine, new_and_free_many_times)
{
	for (int i = 0; i < 200; i++) {
		devkit_ctx *ctx = NULL;
		cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
		cr_assert_not_null(ctx);
		devkit_ctx_free(ctx);
	}
	devkit_ctx_free(NULL); /* accepted */
}

Test(engine, poll_times_out_without_events)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 0);
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 30), 0);
	devkit_ctx_free(ctx);
}

typedef struct emit_args {
	devkit_ctx *ctx;
	int count;
} emit_args;

static void do_emit(devkit__call *call)
{
	emit_args *a = call->arg;
	for (int i = 0; i < a->count; i++) {
		devkit_event ev;
		memset(&ev, 0, sizeof(ev));
		ev.type = DEVKIT_EVENT_TUNNEL_STATE;
		ev.state = DEVKIT_TUNNEL_UP;
		ev.attempt = i;
		devkit__event_emit(a->ctx, &ev);
	}
	devkit__call_done(call, a->ctx, 0);
}

static void emit_from_loop(devkit_ctx *ctx, int count)
{
	emit_args a = { ctx, count };
	devkit__call call = { .fn = do_emit, .arg = &a };
	cr_assert_eq(devkit__call_run(ctx, &call), 0);
}

Test(engine, events_arrive_in_order_and_event_fd_follows_the_queue)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	int fd = devkit_ctx_event_fd(ctx);
	cr_assert_geq(fd, 0);
	struct pollfd p = { .fd = fd, .events = POLLIN };
	cr_assert_eq(poll(&p, 1, 0), 0, "readable before any event");

	emit_from_loop(ctx, 3);
	cr_assert_eq(poll(&p, 1, 1000), 1, "not readable with 3 events queued");

	devkit_event ev;
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
		cr_assert_eq(ev.type, DEVKIT_EVENT_TUNNEL_STATE);
		cr_assert_eq(ev.attempt, i);
	}
	cr_assert_eq(poll(&p, 1, 0), 0, "still readable with the queue empty");
	devkit_ctx_free(ctx);
}

Test(engine, a_full_queue_drops_the_oldest_and_says_how_many)
{
	devkit_ctx_options o = DEVKIT_CTX_OPTIONS_INIT;
	o.event_queue_max = 8;
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, &o), 0);
	emit_from_loop(ctx, 20);
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.type, DEVKIT_EVENT_EVENTS_DROPPED);
	cr_assert_eq(ev.attempt, 12);
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.attempt, 12, "the oldest kept event is #12, got #%d", ev.attempt);
	devkit_ctx_free(ctx);
}

static void *late_emitter(void *arg)
{
	usleep(50 * 1000);
	emit_from_loop(arg, 1);
	return NULL;
}

Test(engine, poll_wakes_up_when_another_thread_causes_an_event)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	pthread_t th;
	pthread_create(&th, NULL, late_emitter, ctx);
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 5000), 1);
	pthread_join(th, NULL);
	devkit_ctx_free(ctx);
}

typedef struct hammer {
	devkit_ctx *ctx;
	int *counter;
} hammer;

static void count_call(devkit__call *call)
{
	hammer *h = call->arg;
	(*h->counter)++; /* runs on the I/O thread only: no lock needed */
	devkit__call_done(call, h->ctx, 0);
}

static void *hammer_calls(void *arg)
{
	hammer *h = arg;
	for (int i = 0; i < 2000; i++) {
		devkit__call call = { .fn = count_call, .arg = h };
		if (devkit__call_run(h->ctx, &call) != 0)
			return (void *)1;
	}
	return NULL;
}

Test(engine, calls_from_many_threads_all_run_on_the_io_thread)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	int counter = 0;
	hammer h = { ctx, &counter };
	pthread_t th[8];
	for (int i = 0; i < 8; i++)
		pthread_create(&th[i], NULL, hammer_calls, &h);
	for (int i = 0; i < 8; i++) {
		void *rv;
		pthread_join(th[i], &rv);
		cr_assert_null(rv);
	}
	cr_assert_eq(counter, 8 * 2000);
	devkit_ctx_free(ctx);
}

static void fail_call(devkit__call *call)
{
	devkit__call_fail(call, call->arg, DEVKIT_ETIMEOUT, "the thing %s took too long", "X");
}

Test(engine, a_failed_call_sets_the_callers_last_error)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_error_clear();
	devkit__call call = { .fn = fail_call, .arg = ctx };
	cr_assert_eq(devkit__call_run(ctx, &call), DEVKIT_ETIMEOUT);
	const devkit_error *e = devkit_error_last();
	cr_assert_not_null(e);
	cr_assert_eq(e->code, DEVKIT_ETIMEOUT);
	cr_assert_str_eq(e->message, "the thing X took too long");
	devkit_ctx_free(ctx);
}

static void *error_in_other_thread(void *arg)
{
	(void)arg;
	devkit_ctx_options o;
	devkit_ctx_options_init(&o, 12345);
	return (void *)devkit_error_last();
}

Test(engine, errors_are_per_thread)
{
	devkit_error_clear();
	pthread_t th;
	pthread_create(&th, NULL, error_in_other_thread, NULL);
	void *other;
	pthread_join(th, &other);
	cr_assert_not_null(other);
	cr_assert_null(devkit_error_last(), "another thread's error leaked into this one");
}

Test(engine, strerror_names_every_code)
{
	for (int code = DEVKIT_OK; code >= DEVKIT_EFORBIDDEN; code--)
		cr_assert_str_neq(devkit_strerror(code), "unknown error", "code %d", code);
	cr_assert_str_eq(devkit_strerror(-1000), "unknown error");
}

Test(engine, version_matches_the_header)
{
	int major, minor, patch;
	cr_assert_str_eq(devkit_version(&major, &minor, &patch), DEVKIT_VERSION);
	cr_assert_eq(major, DEVKIT_VERSION_MAJOR);
	cr_assert_eq(minor, DEVKIT_VERSION_MINOR);
	cr_assert_eq(patch, DEVKIT_VERSION_PATCH);
}

static void *poll_forever(void *arg)
{
	devkit_event ev;
	return (void *)(intptr_t)devkit_ctx_poll(arg, &ev, -1);
}

Test(engine, freeing_the_context_releases_a_thread_blocked_in_poll)
{
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	pthread_t th;
	pthread_create(&th, NULL, poll_forever, ctx);
	usleep(50 * 1000);
	devkit_ctx_free(ctx);
	void *rv;
	pthread_join(th, &rv);
	cr_assert_eq((intptr_t)rv, 0, "poll returned %d", (int)(intptr_t)rv);
}

typedef struct log_args {
	devkit_ctx *ctx;
} log_args;

static void do_log(devkit__call *call)
{
	log_args *a = call->arg;
	devkit__log(a->ctx, DEVKIT_LOG_INFO, "hello %d", 42);
	devkit__log(a->ctx, DEVKIT_LOG_DEBUG, "too detailed for INFO");
	devkit__call_done(call, a->ctx, 0);
}

Test(engine, log_lines_can_be_read_as_events)
{
	devkit_ctx_options o = DEVKIT_CTX_OPTIONS_INIT;
	o.log_events = 1;
	o.log_level = DEVKIT_LOG_INFO;
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, &o), 0);
	log_args a = { ctx };
	devkit__call call = { .fn = do_log, .arg = &a };
	cr_assert_eq(devkit__call_run(ctx, &call), 0);
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.type, DEVKIT_EVENT_LOG);
	cr_assert_eq(ev.state, DEVKIT_LOG_INFO);
	cr_assert_str_eq(ev.message, "hello 42");
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 0, "a DEBUG line passed an INFO level");
	devkit_ctx_free(ctx);
}

Test(engine, the_queue_grows_to_its_maximum_before_dropping)
{
	devkit_ctx_options o = DEVKIT_CTX_OPTIONS_INIT;
	o.event_queue_max = 100;
	devkit_ctx *ctx;
	cr_assert_eq(devkit_ctx_new(&ctx, &o), 0);
	emit_from_loop(ctx, 100);
	devkit_event ev;
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
		cr_assert_eq(ev.attempt, i, "event %d came as %d", i, ev.attempt);
	}
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 0);
	devkit_ctx_free(ctx);
}
