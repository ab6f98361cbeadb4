/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Asynchronous name resolution on the engine loop with c-ares (never a
 * blocking getaddrinfo on the I/O thread).
 */
#ifndef DEVKIT_CORE_RESOLVE_H
#define DEVKIT_CORE_RESOLVE_H

#include <sys/socket.h>

#include "engine.h"

typedef struct devkit__resolve devkit__resolve;

/* status: 0 with `addrs` (count >= 1), or a negative DEVKIT_E* code with a message.
 * The addresses are only valid during the callback. */
typedef void (*devkit__resolve_cb)(void *data, int status, const char *message,
	const struct sockaddr_storage *addrs, int count);

/* Resolve host:port (TCP). IP literals answer at once — still through the
 * callback, but never before this function returns. */
int devkit__resolve_start(devkit_ctx *ctx, const char *host, int port,
	devkit__resolve_cb cb, void *data, devkit__resolve **out);
/* Forget a pending resolution: its callback will not run. */
void devkit__resolve_cancel(devkit__resolve *r);

void devkit__resolver_free(devkit_ctx *ctx);

#endif
