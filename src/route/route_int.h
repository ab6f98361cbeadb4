/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the router (the engine side of the LD_PRELOAD shim).
 * Built on the tunnel's internals: channel requests (open.c) and redirect
 * forwards (redirect.c).
 */
#ifndef DEVKIT_ROUTE_INT_H
#define DEVKIT_ROUTE_INT_H

#include "devkit/route.h"
#include "tunnel/tunnel_int.h"

typedef struct route_client route_client;

/* Where a source port's connection goes, announced by ROUTE or OPEN. */
typedef struct route_entry {
	devkit__list node;
	devkit_router *router;
	int src_port;
	char host[64];
	int port;
	uint64_t deadline;        /* forgotten if no connection arrives by then */
	devkit__open_req open;    /* OPEN: the channel, opened before the connect */
	int open_pending;
	LIBSSH2_CHANNEL *ch;
	uint64_t session_gen;
	route_client *waiter;     /* OPEN: the client waiting for the answer */
} route_entry;

struct route_client {
	devkit__list node;
	devkit_router *router;
	uv_pipe_t pipe;
	devkit__bytes in;
	int busy;                 /* a request is being answered */
	int closing;
	int refs;                 /* the pipe, plus work in the thread pool */
};

struct devkit_router {
	devkit__closeable closeable;
	devkit_tunnel *tunnel;
	devkit_ctx *ctx;
	devkit_dns *dns;
	char *dir;                /* our private directory, if we made one */
	char *path;
	int open_timeout_ms;
	uv_pipe_t server;
	int server_open;          /* initialised and not yet closed */
	int path_bound;           /* we created the socket file */
	uv_timer_t timer;
	int handles;
	int closing;
	devkit__call *free_call;
	devkit__redirect redirect;
	devkit_forward *listen4, *listen6;
	int port;                 /* the redirect port, the same on 127.0.0.1 and ::1 */
	devkit__list routes;
	unsigned int nroutes;
	devkit__list clients;
	devkit_router_stats stats;
};

/* route_control.c: the unix-socket server and its line protocol */
int devkit__route_control_start(devkit_router *r, char *msg, size_t msglen);
void devkit__route_control_stop(devkit_router *r);
void devkit__route_reply(route_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* router.c */
void devkit__router_handle_closed(devkit_router *r);
int devkit__route_add(devkit_router *r, route_client *waiter, int src_port, const char *host, int port);
void devkit__route_client_gone(devkit_router *r, route_client *c);

#endif
