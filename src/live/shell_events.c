/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's Events (shell_int.h): each POST is started on the
 * engine loop and the caller goes on at once, so a slow or refusing API
 * server never holds up the user's terminal. A refusal (RBAC: no create
 * on events) is said once at WARN; the shell goes on. At the end the
 * session waits a little for what is still in flight, so that the last
 * command's Event is not lost when the process exits right after.
 *
 * The state is shared by the session (one reference), each request in
 * flight (one each) and the engine's list of things to close (one, so that
 * the session learns when devkit_ctx_free stops the engine: from then on
 * the engine is not touched), and freed by whoever lets go last: a request
 * may end after the session is gone.
 */
#include "shell_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <uv.h>

#include "core/engine.h"
#include "core/error.h"
#include "core/list.h"
#include "k8s/k8s_int.h"

struct devkit__shell_events {
	uv_mutex_t lock;
	uv_cond_t cond;
	int refs;          /* the session's and one per request in flight */
	int inflight;
	int failures;      /* guarded by lock: the first is said at WARN */
	int gone;          /* the engine stopped (devkit_ctx_free): ctx is not to be used */
	int tracked;       /* closeable is in the engine's list (loop thread only) */
	devkit__closeable closeable;
	devkit_k8s *k8s;
	devkit_ctx *ctx;
	char path[400];    /* /api/v1/namespaces/NS/events */
	char what[300];
};

typedef struct post {
	devkit__shell_events *ev;
	char *body;
} post;

static void release(devkit__shell_events *ev, int done_one)
{
	uv_mutex_lock(&ev->lock);
	if (done_one) {
		ev->inflight--;
		uv_cond_broadcast(&ev->cond);
	}
	int last = --ev->refs == 0;
	uv_mutex_unlock(&ev->lock);
	if (last) {
		uv_cond_destroy(&ev->cond);
		uv_mutex_destroy(&ev->lock);
		free(ev);
	}
}

/* The engine stops: no more posts or log lines through it. Loop thread. */
static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit__shell_events *ev = devkit__container_of(c, devkit__shell_events, closeable);
	devkit__ctx_untrack(c);
	ev->tracked = 0;
	uv_mutex_lock(&ev->lock);
	ev->gone = 1;
	uv_mutex_unlock(&ev->lock);
	release(ev, 0);
}

static void track(devkit__call *call)
{
	devkit__shell_events *ev = call->arg;
	ev->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(ev->ctx, &ev->closeable);
	ev->tracked = 1;
	devkit__call_done(call, ev->ctx, 0);
}

static void untrack(devkit__call *call)
{
	devkit__shell_events *ev = call->arg;
	devkit_ctx *ctx = ev->ctx;
	if (ev->tracked) {
		devkit__ctx_untrack(&ev->closeable);
		ev->tracked = 0;
		release(ev, 0);
	}
	devkit__call_done(call, ctx, 0);
}

devkit__shell_events *devkit__shell_events_new(devkit_k8s *k8s, const char *ns,
	const char *what)
{
	devkit__shell_events *ev = calloc(1, sizeof(*ev));
	if (!ev)
		return NULL;
	if (uv_mutex_init(&ev->lock) != 0) {
		free(ev);
		return NULL;
	}
	if (uv_cond_init(&ev->cond) != 0) {
		uv_mutex_destroy(&ev->lock);
		free(ev);
		return NULL;
	}
	ev->k8s = k8s;
	ev->ctx = devkit__k8s_ctx(k8s);
	snprintf(ev->path, sizeof(ev->path), "/api/v1/namespaces/%s/events", ns);
	snprintf(ev->what, sizeof(ev->what), "%s", what);
	ev->refs = 2;  /* the session's and the engine list's */
	devkit__call call = { .fn = track, .arg = ev };
	if (devkit__call_run(ev->ctx, &call) < 0) {
		uv_cond_destroy(&ev->cond);
		uv_mutex_destroy(&ev->lock);
		free(ev);
		return NULL;
	}
	return ev;
}

/* Log a failure: the first at WARN, the others at DEBUG (one refusal per
 * command would drown the terminal). Any thread. */
static void failed(devkit__shell_events *ev, const char *message)
{
	uv_mutex_lock(&ev->lock);
	int first = ev->failures++ == 0, gone = ev->gone;
	uv_mutex_unlock(&ev->lock);
	if (gone)
		return;
	if (first)
		devkit__log(ev->ctx, DEVKIT_LOG_WARN, "shell %s: cannot record the command as an "
			"Event: %s; the shell goes on (the audit log, if any, still has it; further "
			"failures are logged at debug level)", ev->what, message);
	else
		devkit__log(ev->ctx, DEVKIT_LOG_DEBUG, "shell %s: cannot record the command as an "
			"Event: %s", ev->what, message);
}

static void on_posted(void *data, const devkit__k8s_answer *a)
{
	post *p = data;
	if (a->rc < 0)
		failed(p->ev, a->message && *a->message ? a->message : devkit_strerror(a->rc));
	release(p->ev, 1);
	free(p->body);
	free(p);
}

static void start_post(devkit__call *call)
{
	post *p = call->arg;
	devkit_ctx *ctx = p->ev->ctx; /* p may be freed below */
	if (!devkit__k8s_request_start(p->ev->k8s, "POST", p->ev->path, p->body, on_posted, p)) {
		failed(p->ev, devkit_error_last()->message);
		release(p->ev, 1);
		free(p->body);
		free(p);
	}
	/* the caller goes on now; on_posted ends the request */
	devkit__call_done(call, ctx, 0);
}

void devkit__shell_events_post(devkit__shell_events *ev, char *body)
{
	post *p = body ? calloc(1, sizeof(*p)) : NULL;
	if (!p) {
		free(body);
		failed(ev, "out of memory");
		return;
	}
	p->ev = ev;
	p->body = body;
	uv_mutex_lock(&ev->lock);
	int gone = ev->gone;
	if (!gone) {
		ev->refs++;
		ev->inflight++;
	}
	uv_mutex_unlock(&ev->lock);
	devkit__call call = { .fn = start_post, .arg = p };
	if (gone || devkit__call_run(ev->ctx, &call) < 0) {
		/* the engine is stopping or gone: start_post did not run */
		if (!gone)
			release(ev, 1);
		free(p->body);
		free(p);
	}
}

void devkit__shell_events_free(devkit__shell_events *ev, unsigned int timeout_ms)
{
	if (!ev)
		return;
	uint64_t deadline = uv_hrtime() + (uint64_t)timeout_ms * 1000000u;
	uv_mutex_lock(&ev->lock);
	while (ev->inflight > 0) {
		uint64_t now = uv_hrtime();
		if (now >= deadline || uv_cond_timedwait(&ev->cond, &ev->lock, deadline - now) != 0)
			break;
	}
	int gone = ev->gone;
	uv_mutex_unlock(&ev->lock);
	if (!gone) {
		/* a failure means the engine is stopping: its shutdown lets go */
		devkit__call call = { .fn = untrack, .arg = ev };
		devkit__call_run(ev->ctx, &call);
	}
	release(ev, 0);
}
