/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private declarations of the sidecar's request parsers (see proxy_proto.h):
 * proxy_proto.c holds the entry points, protocol detection and the helpers
 * below, proxy_socks.c SOCKS5 and SOCKS4/4a, proxy_http.c HTTP proxying.
 */
#ifndef DEVKIT_TUNNEL_PROXY_INT_H
#define DEVKIT_TUNNEL_PROXY_INT_H

#include <stdarg.h>
#include <stddef.h>

#include "proxy_proto.h"

/* devkit__proxy.state */
enum {
	ST_START = 0,
	ST_S5_GREETING,
	ST_S5_AUTH,
	ST_S5_REQUEST,
	ST_S4_REQUEST,
	ST_HTTP_HEAD,
	ST_READY,
	ST_FAILED,
};

/* A stage finished and consumed its bytes: run the next one. */
#define STEP_AGAIN 2

/* ---- shared helpers (proxy_proto.c) ------------------------------------- */

/* Are a user name or password configured? */
int devkit__proxy_auth_required(const devkit__proxy *p);
/* Constant-time comparison with the configured user name and password. */
int devkit__proxy_credentials_match(const devkit__proxy *p, const void *user, size_t ulen,
	const void *pass, size_t plen);
int devkit__proxy_ascii_alpha(int c);
/* Is `s` fit for a host name: no NUL, control or space character? */
int devkit__proxy_name_ok(const char *s, size_t n);

/* Record why in p->error and fail (no reply). */
devkit__proxy_status devkit__proxy_set_failed(devkit__proxy *p, const char *fmt, va_list ap);
devkit__proxy_status devkit__proxy_fail(devkit__proxy *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
devkit__proxy_status devkit__proxy_fail_oom(devkit__proxy *p);
/* Append to `reply` unless it is NULL: 0 or an error code. */
int devkit__proxy_put(devkit__bytes *reply, const void *data, size_t n);

/* ---- SOCKS (proxy_socks.c) ---------------------------------------------- */

/* Stages: DEVKIT__PROXY_NEED_MORE, _READY, _FAILED or STEP_AGAIN. */
int devkit__proxy_s5_greeting(devkit__proxy *p, devkit__bytes *reply);
int devkit__proxy_s5_auth(devkit__proxy *p, devkit__bytes *reply);
int devkit__proxy_s5_request(devkit__proxy *p, devkit__bytes *reply);
int devkit__proxy_s4_request(devkit__proxy *p, devkit__bytes *reply);

/* Replies: REP `rep` for SOCKS5, CD `cd` for SOCKS4. */
int devkit__proxy_s5_reply(devkit__bytes *reply, unsigned char rep);
int devkit__proxy_s4_reply(devkit__bytes *reply, unsigned char cd);

/* ---- HTTP (proxy_http.c) ------------------------------------------------ */

/* Stage: the request head, up to DEVKIT__PROXY_MAX_HEAD bytes. */
int devkit__proxy_http_head(devkit__proxy *p, devkit__bytes *reply);
/* A complete response the client can show: the body is `text` plus a newline. */
int devkit__proxy_http_error_reply(devkit__bytes *reply, int status, const char *text);

#endif
