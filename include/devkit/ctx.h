/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The engine: one I/O thread running one event loop. Every socket, timer and SSH
 * session of the library lives on that thread; public functions are thread-safe
 * and hand their work to it. See docs/threading.md.
 */
#ifndef DEVKIT_CTX_H
#define DEVKIT_CTX_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_ctx devkit_ctx;

typedef enum devkit_log_level {
	DEVKIT_LOG_ERROR = 0,
	DEVKIT_LOG_WARN = 1,
	DEVKIT_LOG_INFO = 2,
	DEVKIT_LOG_DEBUG = 3,
	DEVKIT_LOG_TRACE = 4
} devkit_log_level;

/** A log line. Runs on the I/O thread: do not block, do not call back into libdevkit. */
typedef void (*devkit_log_cb)(devkit_log_level level, const char *message, void *payload);

typedef enum devkit_event_type {
	DEVKIT_EVENT_NONE = 0,
	DEVKIT_EVENT_TUNNEL_STATE = 1,   /* state: a devkit_tunnel_state */
	DEVKIT_EVENT_FORWARD_READY = 2,  /* a forward listens: address/port say where */
	DEVKIT_EVENT_FORWARD_FAILED = 3, /* a forward could not be (re)established */
	DEVKIT_EVENT_EVENTS_DROPPED = 4, /* the queue was full; count in `attempt` */
	DEVKIT_EVENT_LOG = 5,            /* a log line (with log_events): level in `state` */
	DEVKIT_EVENT_REGISTRATION_STATE = 6, /* state: a devkit_registration_state (registry.h);
	                                      * object_id: the registration; address/port: what
	                                      * is advertised; error/message: why */
	DEVKIT_EVENT_REPLICA_STAGE = 7   /* state: a devkit_replica_stage (replica.h);
	                                  * object_id: the replica; address: the Pod's name;
	                                  * message: what happened */
} devkit_event_type;

typedef enum devkit_tunnel_state {
	DEVKIT_TUNNEL_CONNECTING = 1,
	DEVKIT_TUNNEL_UP = 2,
	DEVKIT_TUNNEL_RECONNECTING = 3,
	DEVKIT_TUNNEL_DOWN = 4,   /* gave up, or reconnect disabled */
	DEVKIT_TUNNEL_CLOSED = 5  /* closed by the application */
} devkit_tunnel_state;

/** One event. Self-contained: every string is stored inline. */
typedef struct devkit_event {
	devkit_event_type type;
	uint64_t tunnel_id;   /* tunnel the event is about (devkit_tunnel_id) */
	uint64_t forward_id;  /* forward the event is about, 0 if none */
	int state;            /* TUNNEL_STATE: the new devkit_tunnel_state */
	int error;            /* the devkit_error_code behind a failure, 0 if none */
	int port;             /* FORWARD_READY: the bound port */
	int attempt;          /* RECONNECTING: attempt number; EVENTS_DROPPED: count */
	char address[128];    /* FORWARD_READY: the bound address */
	char message[384];    /* human-readable; never contains secrets */
	uint64_t object_id;   /* the registration (later: replica, capture) the event is about */
} devkit_event;

/**
 * Optional event callback, for callers that accept running on the I/O thread.
 * When set, events go to it instead of the queue read by devkit_ctx_poll().
 */
typedef void (*devkit_event_cb)(const devkit_event *event, void *payload);

typedef struct devkit_ctx_options {
	unsigned int version;
	devkit_log_level log_level;   /* default DEVKIT_LOG_WARN */
	devkit_log_cb log_cb;         /* default NULL: the library prints nothing */
	void *log_payload;
	devkit_event_cb event_cb;     /* default NULL: events are queued */
	void *event_payload;
	unsigned int event_queue_max; /* default 4096; beyond it the oldest are dropped */
	/** Also queue log lines (at or above log_level) as DEVKIT_EVENT_LOG events,
	 *  for applications that must not run code on the I/O thread. Default 0. */
	int log_events;
} devkit_ctx_options;

#define DEVKIT_CTX_OPTIONS_VERSION 1
#define DEVKIT_CTX_OPTIONS_INIT { DEVKIT_CTX_OPTIONS_VERSION, DEVKIT_LOG_WARN, NULL, NULL, NULL, NULL, 4096, 0 }

/** Fill `opts` with defaults. Returns DEVKIT_EINVAL for an unknown version. */
DEVKIT_EXTERN(int) devkit_ctx_options_init(devkit_ctx_options *opts, unsigned int version);

/** Start an engine and its I/O thread. `opts` may be NULL for defaults. */
DEVKIT_EXTERN(int) devkit_ctx_new(devkit_ctx **out, const devkit_ctx_options *opts);

/**
 * Stop the engine: closes every tunnel still open, joins the I/O thread, frees.
 * Tunnels and forwards not freed before are freed too: pointers to them become
 * invalid. Threads blocked in devkit_ctx_poll() return 0 first. Accepts NULL.
 * Must not be called from a callback (the I/O thread).
 */
DEVKIT_EXTERN(void) devkit_ctx_free(devkit_ctx *ctx);

/**
 * Take the next event. Waits up to `timeout_ms` (0: do not wait, -1: forever).
 * Returns 1 with `*event` filled, 0 if none arrived in time, or a negative error.
 */
DEVKIT_EXTERN(int) devkit_ctx_poll(devkit_ctx *ctx, devkit_event *event, int timeout_ms);

/**
 * A file descriptor that is readable while events are queued, for callers with
 * their own loop (select/poll/epoll). Read events with devkit_ctx_poll(ctx, ev, 0).
 * Owned by the context: do not read from or close it.
 */
DEVKIT_EXTERN(int) devkit_ctx_event_fd(devkit_ctx *ctx);

/** Change the log level at run time. */
DEVKIT_EXTERN(void) devkit_ctx_set_log_level(devkit_ctx *ctx, devkit_log_level level);

/** A short name for an event type ("tunnel-state"), a tunnel state ("up"). */
DEVKIT_EXTERN(const char *) devkit_event_type_name(int type);
DEVKIT_EXTERN(const char *) devkit_tunnel_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif
