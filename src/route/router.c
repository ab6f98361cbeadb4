/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The router: a control socket for routed processes, a redirect port on
 * 127.0.0.1 and ::1 (the same number on both, so the shim needs one), and the
 * table of announced connections keyed by their source port.
 */
#include "route_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

/* An announced connection that does not arrive within this time is forgotten
 * (its process died between announcing and connecting). */
#define ROUTE_TTL_MS 30000
#define ROUTES_MAX 65536

int devkit_router_options_init(devkit_router_options *opts, unsigned int version)
{
	static const devkit_router_options defaults = DEVKIT_ROUTER_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_ROUTER_OPTIONS_VERSION, "devkit_router_options_init");
}

/* --- the table ---------------------------------------------------------------- */

static void entry_free(route_entry *e)
{
	devkit_router *r = e->router;
	devkit__list_remove(&e->node);
	r->nroutes--;
	if (e->ch) {
		devkit__redirect_drop_channel(r->tunnel, e->ch, e->session_gen);
		e->ch = NULL;
	}
	if (e->open_pending && devkit__open_withdraw(&e->open))
		e->router = NULL; /* the open is in flight: its callback frees the entry */
	else
		free(e);
	devkit__router_handle_closed(r); /* entries count as handles while they are in the table */
}

static route_entry *find(devkit_router *r, int src_port)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &r->routes) {
		route_entry *e = devkit__container_of(pos, route_entry, node);
		if (e->src_port == src_port)
			return e;
	}
	return NULL;
}

static const char *answer_for(int code)
{
	switch (code) {
	case DEVKIT_ETIMEOUT: return "TIMEOUT";
	case DEVKIT_ENOTFOUND: return "UNREACHABLE";
	case DEVKIT_ECONNREFUSED:
	case DEVKIT_EFORBIDDEN: return "REFUSED";
	default: return "ERROR";
	}
}

static void entry_opened(devkit__open_req *req, LIBSSH2_CHANNEL *ch, int code, const char *why)
{
	route_entry *e = devkit__container_of(req, route_entry, open);
	e->open_pending = 0;
	devkit_router *r = e->router;
	if (!r) {
		/* Forgotten while in flight. */
		if (ch)
			devkit__session_close_channel(req->session, ch);
		free(e);
		return;
	}
	/* The entry is settled before the answer goes out. */
	route_client *waiter = e->waiter;
	e->waiter = NULL;
	if (!ch) {
		r->stats.refused++;
		entry_free(e);
		if (waiter)
			devkit__route_reply(waiter, "%s %s", answer_for(code), why);
		return;
	}
	if (!waiter) {
		e->ch = ch;
		e->session_gen = r->tunnel->sessions_up;
		entry_free(e); /* nobody waits for it any more: drops the channel */
		return;
	}
	e->ch = ch;
	e->session_gen = r->tunnel->sessions_up;
	devkit__route_reply(waiter, "OK %d", r->port);
}

int devkit__route_add(devkit_router *r, route_client *waiter, int src_port, const char *host, int port)
{
	route_entry *old = find(r, src_port);
	if (old)
		entry_free(old); /* the port was reused: the newest announcement wins */
	if (r->nroutes >= ROUTES_MAX)
		return DEVKIT_ENOMEM;
	route_entry *e = calloc(1, sizeof(*e));
	if (!e)
		return DEVKIT_ENOMEM;
	e->router = r;
	e->src_port = src_port;
	snprintf(e->host, sizeof(e->host), "%s", host);
	e->port = port;
	e->deadline = uv_now(&r->ctx->loop) + ROUTE_TTL_MS;
	devkit__list_push(&r->routes, &e->node);
	r->nroutes++;
	r->handles++;
	if (waiter) {
		e->waiter = waiter;
		e->open.host = e->host;
		e->open.port = e->port;
		e->open.done = entry_opened;
		e->open_pending = 1;
		e->deadline = uv_now(&r->ctx->loop) + (uint64_t)r->open_timeout_ms + ROUTE_TTL_MS;
		devkit__open_submit(r->tunnel, &e->open);
	}
	return 0;
}

/* A client that goes away leaves its OPEN without anyone to answer. */
void devkit__route_client_gone(devkit_router *r, route_client *c)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &r->routes) {
		route_entry *e = devkit__container_of(pos, route_entry, node);
		if (e->waiter == c)
			e->waiter = NULL;
	}
}

static int lookup(void *data, int family, int src_port, devkit__redirect_target *out)
{
	devkit_router *r = data;
	(void)family;
	route_entry *e = find(r, src_port);
	if (!e || e->open_pending) {
		r->stats.refused++;
		return -1;
	}
	snprintf(out->host, sizeof(out->host), "%s", e->host);
	out->port = e->port;
	out->ch = e->ch;
	out->session_gen = e->session_gen;
	e->ch = NULL; /* the link owns it now */
	r->stats.routed++;
	entry_free(e);
	return 0;
}

static void on_timer(uv_timer_t *timer)
{
	devkit_router *r = timer->data;
	uint64_t now = uv_now(&r->ctx->loop);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &r->routes) {
		route_entry *e = devkit__container_of(pos, route_entry, node);
		if (e->waiter && e->open_pending &&
			now >= e->deadline - ROUTE_TTL_MS) {
			devkit__route_reply(e->waiter, "TIMEOUT no answer from %s:%d in %d ms", e->host,
				e->port, r->open_timeout_ms);
			e->waiter = NULL;
		}
		if (now >= e->deadline)
			entry_free(e);
	}
}

/* --- lifetime --------------------------------------------------------------- */

static void router_free_memory(devkit_router *r)
{
	if (r->path && r->path_bound)
		unlink(r->path);
	if (r->dir)
		rmdir(r->dir);
	free(r->path);
	free(r->dir);
	free(r);
}

void devkit__router_handle_closed(devkit_router *r)
{
	if (--r->handles > 0 || !r->closing)
		return;
	devkit__call *call = r->free_call;
	devkit_ctx *ctx = r->ctx;
	router_free_memory(r);
	if (call)
		devkit__call_done(call, ctx, 0);
}

static void on_timer_closed(uv_handle_t *h)
{
	devkit__router_handle_closed(h->data);
}

static void router_shutdown(devkit_router *r)
{
	if (r->closing)
		return;
	r->closing = 1;
	devkit__ctx_untrack(&r->closeable);
	devkit__route_control_stop(r);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &r->routes)
		entry_free(devkit__container_of(pos, route_entry, node));
	if (r->listen4)
		devkit__forward_shutdown(r->listen4);
	if (r->listen6)
		devkit__forward_shutdown(r->listen6);
	uv_timer_stop(&r->timer);
	uv_close((uv_handle_t *)&r->timer, on_timer_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	router_shutdown(devkit__container_of(c, devkit_router, closeable));
}

/* Listen on 127.0.0.1:P and [::1]:P with one P; retry if ::1 has P taken. */
static int start_redirect(devkit_router *r, char *msg, size_t msglen)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		int rc = devkit__redirect_start(r->tunnel, "127.0.0.1", 0, &r->redirect, &r->listen4, msg, msglen);
		if (rc < 0)
			return rc;
		r->port = r->listen4->bound_port;
		devkit_forward *f6 = NULL;
		char msg6[256];
		rc = devkit__redirect_start(r->tunnel, "::1", r->port, &r->redirect, &f6, msg6, sizeof(msg6));
		if (rc == 0) {
			r->listen6 = f6;
			return 0;
		}
		if (rc != DEVKIT_EEXISTS) {
			/* No IPv6 loopback here: IPv4 alone will do. */
			return 0;
		}
		devkit__forward_shutdown(r->listen4);
		r->listen4 = NULL;
	}
	snprintf(msg, msglen, "cannot find a port free on both 127.0.0.1 and ::1");
	return DEVKIT_EEXISTS;
}

static void do_start(devkit__call *call)
{
	devkit_router *r = call->arg;
	devkit_tunnel *t = r->tunnel;
	if (t->closing) {
		devkit__call_fail(call, r->ctx, DEVKIT_ECLOSED, "router: the tunnel is closed");
		router_free_memory(r);
		return;
	}
	uv_timer_init(&r->ctx->loop, &r->timer);
	r->timer.data = r;
	r->handles = 1; /* the timer */
	r->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(r->ctx, &r->closeable);
	char msg[512];
	int rc = start_redirect(r, msg, sizeof(msg));
	if (rc == 0)
		rc = devkit__route_control_start(r, msg, sizeof(msg));
	if (rc < 0) {
		devkit__call_fail(call, r->ctx, rc, "router: %s", msg);
		router_shutdown(r);
		return;
	}
	uv_timer_start(&r->timer, on_timer, 1000, 1000);
	devkit__call_done(call, r->ctx, 0);
}

static void do_free(devkit__call *call)
{
	devkit_router *r = call->arg;
	r->free_call = call;
	router_shutdown(r);
}

int devkit_router_start(devkit_router **out, devkit_tunnel *t, const devkit_router_options *o)
{
	if (!out || !t || !o)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_router_start: out, tunnel and options are required");
	*out = NULL;
	if (o->version != DEVKIT_ROUTER_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_router_start: options version %u is not %u",
			o->version, DEVKIT_ROUTER_OPTIONS_VERSION);
	devkit_router *r = calloc(1, sizeof(*r));
	if (!r)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->tunnel = t;
	r->ctx = t->ctx;
	r->dns = o->dns;
	r->open_timeout_ms = o->open_timeout_ms > 0 ? o->open_timeout_ms : 15000;
	r->redirect.lookup = lookup;
	r->redirect.data = r;
	devkit__list_init(&r->routes);
	devkit__list_init(&r->clients);
	if (o->control_path) {
		r->path = strdup(o->control_path);
	} else {
		const char *tmp = getenv("TMPDIR");
		if (asprintf(&r->dir, "%s/devkit-run.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
			r->dir = NULL;
		if (r->dir && !mkdtemp(r->dir)) {
			int err = errno;
			free(r->dir);
			free(r);
			return devkit__error_set(DEVKIT_EIO, "devkit_router_start: cannot make a private directory: %s",
				strerror(err));
		}
		if (r->dir && asprintf(&r->path, "%s/control.sock", r->dir) < 0)
			r->path = NULL;
	}
	if (!r->path) {
		router_free_memory(r);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	devkit__call call = { .fn = do_start, .arg = r };
	int rc = devkit__call_run(t->ctx, &call);
	if (rc < 0)
		return rc;
	*out = r;
	return 0;
}

void devkit_router_free(devkit_router *r)
{
	if (!r)
		return;
	devkit__call call = { .fn = do_free, .arg = r };
	devkit__call_run(r->ctx, &call);
}

const char *devkit_router_control_path(const devkit_router *r)
{
	return r ? r->path : NULL;
}

static void fill_stats(void *object, void *out)
{
	*(devkit_router_stats *)out = ((devkit_router *)object)->stats;
}

int devkit_router_get_stats(devkit_router *r, devkit_router_stats *out)
{
	return devkit__get_stats(r ? r->ctx : NULL, r, out, DEVKIT_ROUTER_STATS_VERSION,
		"devkit_router_get_stats", fill_stats);
}
