/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine behind devkit_ctx: one I/O thread running one libuv loop.
 *
 * Other threads never touch loop objects. They hand a devkit__call to the loop
 * (devkit__call_run: locked queue + uv_async_send) and sleep until the loop
 * completes it with devkit__call_done — which may happen much later, e.g. when
 * an SSH handshake finishes. Every call is always completed, also on shutdown,
 * so the waiting thread can keep the call on its stack.
 */
#ifndef DEVKIT_CORE_ENGINE_H
#define DEVKIT_CORE_ENGINE_H

#include <uv.h>

#include "devkit/ctx.h"

typedef struct devkit__call devkit__call;
typedef void (*devkit__call_fn)(devkit__call *call);

struct devkit__call {
	devkit__call_fn fn;  /* runs on the I/O thread */
	void *arg;           /* the operation's input/output, owned by the caller */
	int rc;
	int done;
	char message[1024];  /* error message when rc < 0 */
	devkit__call *next;
};

/* Something on the loop that must be torn down when the engine stops
 * (a tunnel). Linked into the context by devkit__ctx_track. */
typedef struct devkit__closeable devkit__closeable;
struct devkit__closeable {
	void (*shutdown)(devkit__closeable *c); /* start closing; runs on the I/O thread */
	devkit__closeable *prev, *next;
};

struct devkit_ctx {
	uv_loop_t loop;
	uv_thread_t thread;
	uv_async_t wakeup;
	uv_mutex_t lock;         /* guards calls, stopping and the event queue */
	uv_cond_t calls_cond;
	uv_cond_t events_cond;
	devkit__call *calls_head, *calls_tail;
	int stopping;

	devkit_event *events;    /* ring buffer */
	unsigned int events_head, events_count, events_cap, events_max;
	int pollers;             /* threads inside devkit_ctx_poll() */
	uint64_t events_dropped;
	int event_fd;            /* eventfd, readable while the queue is not empty */

	devkit_ctx_options opts;
	int log_level;           /* changed from any thread: atomics */
	devkit__closeable tracked; /* sentinel of the list of live tunnels */
	void *resolver;          /* devkit__resolver, created on first use */
	void *http;              /* libcurl multi on the loop (http.c), created on first use */
	uint64_t next_id;        /* ids for tunnels and forwards (loop thread only) */
};

/* Run `call->fn(call)` on the I/O thread and wait until it is done. Returns
 * call->rc; on failure the calling thread's last error carries call->message. */
int devkit__call_run(devkit_ctx *ctx, devkit__call *call);

/* Complete a call (I/O thread). With rc < 0 and no message set yet, the I/O
 * thread's own last error message is used. */
void devkit__call_done(devkit__call *call, devkit_ctx *ctx, int rc);
/* Complete a call with a formatted error. Returns rc. */
int devkit__call_fail(devkit__call *call, devkit_ctx *ctx, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The body of every devkit_X_get_stats(): check the arguments and the
 * caller's stats version (the first field of every stats struct), then run
 * `fill(object, out)` on the I/O thread, where the counters live. `name` is
 * the public function's name, for messages. */
typedef void (*devkit__stats_fill)(void *object, void *out);
int devkit__get_stats(devkit_ctx *ctx, void *object, void *out, unsigned int known,
	const char *name, devkit__stats_fill fill);

/* 1 on the I/O thread of ctx. */
int devkit__on_loop(devkit_ctx *ctx);

/* Queue an event for the application (I/O thread). */
void devkit__event_emit(devkit_ctx *ctx, const devkit_event *ev);
/* The same from any thread (a public call's own thread): hops onto the loop. */
int devkit__event_post(devkit_ctx *ctx, const devkit_event *ev);

void devkit__ctx_track(devkit_ctx *ctx, devkit__closeable *c);
void devkit__ctx_untrack(devkit__closeable *c);

uint64_t devkit__ctx_next_id(devkit_ctx *ctx);

/* Logging from the I/O thread (or any thread: the callback is the caller's). */
void devkit__log(devkit_ctx *ctx, devkit_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define devkit__log_enabled(ctx, level) \
	(((ctx)->opts.log_cb || (ctx)->opts.log_events) && \
		(int)(level) <= __atomic_load_n(&(ctx)->log_level, __ATOMIC_RELAXED))

#endif
