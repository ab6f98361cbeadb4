/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The protocols of the dynamic forward (the "sidecar" port): SOCKS5 (RFC 1928,
 * with RFC 1929 username/password), SOCKS4/4a and HTTP proxying (CONNECT and
 * absolute-URI requests), told apart by the first byte the client sends.
 *
 * Pure parsing and reply building, no I/O, so every malformed input can be
 * unit-tested. The forwarder feeds the client's bytes in with
 * devkit__proxy_feed() until it reports a complete request, sends whatever
 * reply bytes the parser produced, opens the channel, then calls
 * devkit__proxy_reply_success() or devkit__proxy_reply_failure().
 */
#ifndef DEVKIT_TUNNEL_PROXY_PROTO_H
#define DEVKIT_TUNNEL_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "../core/bytes.h"

typedef enum devkit__proxy_kind {
	DEVKIT__PROXY_UNKNOWN = 0,
	DEVKIT__PROXY_SOCKS4 = 4,   /* SOCKS4 and SOCKS4a */
	DEVKIT__PROXY_SOCKS5 = 5,
	DEVKIT__PROXY_HTTP_CONNECT = 10,
	DEVKIT__PROXY_HTTP_PLAIN = 11  /* GET http://host/path HTTP/1.1 ... */
} devkit__proxy_kind;

typedef enum devkit__proxy_status {
	DEVKIT__PROXY_NEED_MORE = 0, /* consumed what it could; feed more bytes */
	DEVKIT__PROXY_READY = 1,     /* request complete: host/port are set */
	DEVKIT__PROXY_FAILED = -1    /* bad request: send `reply` (if any), then close */
} devkit__proxy_status;

/* Largest request head accepted (SOCKS requests are far smaller; an HTTP head
 * beyond this is refused with 431, so a client cannot make memory grow). */
#define DEVKIT__PROXY_MAX_HEAD 16384

typedef struct devkit__proxy {
	/* configuration, set before the first feed (borrowed; may be NULL) */
	const char *username;
	const char *password;

	/* result */
	devkit__proxy_kind kind;
	char host[256];     /* a name (resolved on the bastion, never locally) or an IP literal,
	                       IPv6 without brackets */
	uint16_t port;
	char error[160];    /* why the request was refused, for logs; never holds the password */

	/* private state */
	int state;
	size_t scan;        /* HTTP: offset in `in` where the CRLFCRLF search resumes */
	devkit__bytes in;   /* buffered client bytes not yet parsed */
	devkit__bytes head; /* HTTP_PLAIN: the request head rewritten to origin form,
	                       Proxy-* headers removed, "Connection: close" forced;
	                       to be sent to the server first */
} devkit__proxy;

void devkit__proxy_init(devkit__proxy *p, const char *username, const char *password);
void devkit__proxy_free(devkit__proxy *p);

/*
 * Feed `len` client bytes. Bytes to send back to the client at once (SOCKS5
 * method selection, RFC 1929 status, error replies) are appended to `reply`.
 * When READY, any bytes the client sent after its request (e.g. the start of a
 * TLS handshake after CONNECT, or an HTTP body) are left in `p->in` for the
 * caller to forward after the head: devkit__proxy_leftover().
 */
devkit__proxy_status devkit__proxy_feed(devkit__proxy *p, const void *data, size_t len,
	devkit__bytes *reply);

/* Bytes that followed the request (valid after READY). */
const char *devkit__proxy_leftover(const devkit__proxy *p, size_t *len);

/* The reply to send once the channel to host:port is open.
 * SOCKS5: success with BND.ADDR 0.0.0.0:0; SOCKS4: 0x5a; CONNECT: "HTTP/1.1 200
 * Connection established"; HTTP_PLAIN: nothing (the server answers). */
int devkit__proxy_reply_success(devkit__proxy *p, devkit__bytes *reply);

/* The reply when the channel could not be opened. `devkit_err` is a
 * devkit_error_code: ECONNREFUSED -> SOCKS5 0x05 / SOCKS4 0x5b / HTTP 502,
 * ENOTFOUND -> 0x04 / 0x5b / 502, ETIMEOUT -> 0x04 / 0x5b / 504,
 * anything else -> 0x01 / 0x5b / 502. `why` goes in the HTTP body. */
int devkit__proxy_reply_failure(devkit__proxy *p, int devkit_err, const char *why,
	devkit__bytes *reply);

#endif
