/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP(S) requests on the engine loop: libcurl's multi-socket interface
 * driven by uv_poll and one uv_timer (the pattern of curl's multi-uv example).
 * Registries (Nacos, Eureka, Consul, etcd) and the Kubernetes client use it.
 *
 * One multi handle per engine, made on first use. Every function here runs on
 * the I/O thread. A request's callback runs exactly once, never before
 * devkit__http_start() returns, unless the request is cancelled first.
 */
#ifndef DEVKIT_CORE_HTTP_H
#define DEVKIT_CORE_HTTP_H

#include <stddef.h>

#include "engine.h"

typedef struct devkit__http_xfer devkit__http_xfer;

typedef struct devkit__http_request {
	const char *method;           /* "GET" when NULL */
	const char *url;
	const char *const *headers;   /* "Name: value", NULL-terminated; may be NULL */
	const char *body;             /* copied; NULL: no body */
	size_t body_len;
	unsigned int timeout_ms;      /* whole request; 0: 10 s */
	const char *connect_to;       /* "host:port": connect there instead of the URL's
	                               * host (TLS still checks the URL's name) */
	const char *ca_file;          /* NULL: the system's CAs */
	int insecure;                 /* skip TLS verification */
	const char *username;         /* HTTP Basic; never logged */
	const char *password;
	/* TLS material in memory (kubeconfig *-data), PEM; NULL: none. Copied by
	 * libcurl. ca_pem replaces ca_file and the system CAs. */
	const char *ca_pem;
	const char *client_cert_pem;
	const char *client_key_pem;   /* a secret: never logged */
	const char *client_cert_file; /* the same from files */
	const char *client_key_file;
	/* Streaming (watches, logs): when set, the body is handed to on_data as it
	 * arrives instead of being collected; res->body is then empty. Return 0 to
	 * go on, non-zero to abort the transfer (it then ends with rc DEVKIT_ECLOSED). */
	int (*on_data)(void *data, const char *bytes, size_t len);
} devkit__http_request;

typedef struct devkit__http_response {
	int rc;                /* 0: an HTTP answer arrived (any status); < 0: DEVKIT_E* */
	long status;           /* HTTP status, 0 if none */
	const char *body;      /* NUL-terminated, valid during the callback */
	size_t body_len;
	const char *error;     /* rc < 0: what failed ("connection refused") */
	long retry_after_s;    /* Retry-After in seconds, -1 if absent */
} devkit__http_response;

typedef void (*devkit__http_cb)(void *data, const devkit__http_response *res);

/* Start a request. Returns the transfer, or NULL with the thread's last error set. */
devkit__http_xfer *devkit__http_start(devkit_ctx *ctx, const devkit__http_request *req,
	devkit__http_cb cb, void *data);

/* Abandon a transfer: its callback will not run. Accepts NULL. */
void devkit__http_cancel(devkit__http_xfer *x);

/* The devkit code for an HTTP status: 0 for 2xx; 400/405/406/413/415/422
 * DEVKIT_EINVAL, 401 EAUTH, 403 EFORBIDDEN, 404/410 ENOTFOUND, 409 EEXISTS,
 * 408 ETIMEOUT, 429 and 5xx EIO (worth retrying), other 4xx EINVAL, 1xx/3xx
 * EPROTO (not an answer an API gives). Registries and the k8s client share it. */
int devkit__http_status_rc(long status);

/* "GET http://h:p/path": method and URL without query or credentials, for
 * messages (a query may hold a token). */
void devkit__http_describe(const devkit__http_request *req, char *out, size_t cap);

/* The engine is stopping: close the multi handle once no transfer is left. */
void devkit__http_shutdown(devkit_ctx *ctx);

#endif
