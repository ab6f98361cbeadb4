/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Between the engine's libwebsockets context (ws_ctx.c) and the connections
 * on it (ws.c). I/O thread only.
 */
#ifndef DEVKIT_K8S_WS_INT_H
#define DEVKIT_K8S_WS_INT_H

#include <libwebsockets.h>

#include "core/engine.h"
#include "core/list.h"
#include "ws.h"

typedef struct devkit__ws_vhost devkit__ws_vhost;

/* The engine's libwebsockets context: created on first use, on the engine's
 * own loop (a "foreign loop" to libwebsockets), torn down by the engine's
 * shutdown. */
typedef struct devkit__ws_ctx {
	devkit_ctx *ctx;
	struct lws_context *lws;   /* NULL once libwebsockets has freed it */
	devkit__closeable closeable;
	devkit__list conns;        /* devkit__ws, live or waiting for their wsi to go */
	devkit__list vhosts;       /* devkit__ws_vhost, one per TLS configuration */
	uv_timer_t timer;          /* idle vhost sweep; at shutdown, the second destroy */
	int stopping;
	int destroy_tries;
	struct devkit__ws_ctx *next; /* the process's list of engines with a context */
} devkit__ws_ctx;

/* The connections' protocol table (ws.c): one entry, shared by every vhost. */
extern const struct lws_protocols devkit__ws_protocols[];

/* The engine's context, made on first use. NULL with the last error set. */
devkit__ws_ctx *devkit__ws_ctx_get(devkit_ctx *ctx);

/* A vhost for plain connections (tls 0) or for this TLS material, shared by
 * every connection with the same material and kept a while after the last
 * one. NULL with the reason in `why`. */
devkit__ws_vhost *devkit__ws_vhost_get(devkit__ws_ctx *wc, int tls, const char *ca_pem,
	const char *cert_pem, const char *key_pem, char *why, size_t cap);
struct lws_vhost *devkit__ws_vhost_lws(const devkit__ws_vhost *v);
void devkit__ws_vhost_put(devkit__ws_vhost *v);

/* How long an unused vhost (and its TLS context with the client key) is
 * kept for the next connection. Tests shorten it. */
extern unsigned int devkit__ws_vhost_linger_ms;

/* ws.c, for the context's shutdown: end a connection with ECLOSED (its
 * owner hears it; returns 1 if it was live, 0 if it had ended), and free one whose wsi libwebsockets has dropped
 * without a word (after the context is gone). */
int devkit__ws_shutdown_conn(devkit__ws *w);
void devkit__ws_free_leftover(devkit__ws *w);
devkit__ws *devkit__ws_of_node(devkit__list *node);

#endif
