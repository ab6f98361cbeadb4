/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One WebSocket to the Kubernetes API server, on the engine loop, with the
 * Kubernetes channel framing (every message starts with a channel byte):
 * what exec/attach (v5/v4.channel.k8s.io) and port-forward
 * (v4.channel.k8s.io) are built on. libwebsockets does the protocol, on the
 * engine's own libuv loop (ws_ctx.c); this layer adds the client's
 * credentials (bearer token header, client certificate, CA, insecure,
 * tls-server-name, connect_to), the handshake timeout, bounded output and
 * receive flow control, and turns a refused upgrade into the server's own
 * Status message.
 *
 * Everything here runs on the I/O thread. Handler callbacks never run
 * before devkit__ws_open returns; `closed` runs exactly once (unless the
 * owner aborts first), after which no callback runs and the object is gone.
 */
#ifndef DEVKIT_K8S_WS_H
#define DEVKIT_K8S_WS_H

#include <stddef.h>

#include "devkit/k8s.h"

typedef struct devkit__ws devkit__ws;

typedef struct devkit__ws_handler {
	/* The upgrade succeeded; `protocol` is the subprotocol the server chose. */
	void (*open)(void *data, const char *protocol);
	/* Part of a message on `channel`; `last` marks its end (a large message
	 * comes in several parts, each with the same channel). */
	void (*message)(void *data, int channel, const char *bytes, size_t len, int last);
	/* Queued output fell below DEVKIT__WS_OUT_LOW: send more. May be NULL. */
	void (*writable)(void *data);
	/* The end: rc 0 after a close by either side, else the failure (before
	 * or after open) with a message naming the operation, no secrets. */
	void (*closed)(void *data, int rc, const char *message);
} devkit__ws_handler;

typedef struct devkit__ws_opts {
	const char *path;       /* "/api/v1/namespaces/dev/pods/web/exec?command=ls&stdout=true" */
	const char *protocols;  /* offered, in order: "v5.channel.k8s.io,v4.channel.k8s.io" */
	const char *what;       /* for messages: "exec in pod dev/web" */
	unsigned int timeout_ms;/* connect and handshake; 0: the client's request timeout */
} devkit__ws_opts;

/* Output above this many bytes means "wait for `writable`". */
#define DEVKIT__WS_OUT_HIGH (256u * 1024)
#define DEVKIT__WS_OUT_LOW (64u * 1024)
/* Largest message devkit__ws_send makes; longer data becomes several. One
 * goes out per writable callback (a loop turn), so larger messages move
 * bulk stdin faster (bench/live.sh: a 100 MiB deploy 0.62 s at 32 KiB,
 * 0.46 s at 128 KiB); servers read messages of up to 32 MiB. */
#define DEVKIT__WS_MAX_MESSAGE (128u * 1024)

/* Start connecting. NULL with the thread's last error when it cannot start. */
devkit__ws *devkit__ws_open(devkit_k8s *k, const devkit__ws_opts *o, const devkit__ws_handler *h,
	void *data);

/* Queue `len` bytes on `channel` (len 0 sends the channel byte alone). Never
 * refuses for size: the owner watches devkit__ws_queued(). 0 or DEVKIT_E*. */
int devkit__ws_send(devkit__ws *w, int channel, const void *bytes, size_t len);
/* Queue one message as is: its first byte is the channel (a close signal). */
int devkit__ws_send_raw(devkit__ws *w, const void *bytes, size_t len);
size_t devkit__ws_queued(const devkit__ws *w);

/* Stop (1) or resume (0) reading from the server: what arrives meanwhile
 * stays in the kernel and TCP pushes back on the server. */
void devkit__ws_pause(devkit__ws *w, int paused);

/* Close normally once the queued output is written; `closed` follows. */
void devkit__ws_close(devkit__ws *w);

/* Drop the connection now; no callback runs any more. Accepts NULL. */
void devkit__ws_abort(devkit__ws *w);

#endif
