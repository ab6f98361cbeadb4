/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One API request on the loop: credentials, then HTTP through core/http.c,
 * then the answer judged: 2xx (checked to be JSON), 401 (credentials fetched
 * again once), 429/5xx and connection failures (retried with backoff,
 * Retry-After honoured up to a cap), anything else an error with the
 * server's message.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "core/http.h"
#include "k8s_client.h"
#include "k8s_status.h"
#include "tls_pem.h"

#define BACKOFF_FIRST_MS 250u
#define BACKOFF_MAX_MS 8000u
/* A server asking for minutes would hold a caller for minutes: cap it. */
#define RETRY_AFTER_MAX_MS 30000u

struct devkit__k8s_req {
	devkit_k8s *k;
	devkit__list node;          /* k->requests */
	devkit__k8s_waiter waiter;  /* in k->creds.waiters while a fetch runs */
	char *method;
	char *path;
	char *body;
	size_t body_len;
	char *content_type;
	char *accept;
	int raw;
	devkit__k8s_data_cb on_data;
	unsigned int timeout_ms;
	unsigned int retries;
	devkit__k8s_cb cb;
	void *data;
	devkit__http_xfer *xfer;
	uv_timer_t timer;           /* the first try and every backoff */
	unsigned int tries;         /* HTTP tries sent (a 401 re-authentication not counted) */
	int reauthed;
	int got_data;
	int finished;
	uint64_t generation;        /* of the credentials sent */
	char what[512];             /* "GET https://h:6443/api/v1/pods", no query */
};

static void req_free(uv_handle_t *h)
{
	devkit__k8s_req *r = h->data;
	free(r->method);
	free(r->path);
	free(r->body);
	free(r->content_type);
	free(r->accept);
	free(r);
}

/* End the request: report (unless cancelled), then free once the timer has closed. */
static void finish(devkit__k8s_req *r, int rc, long status, const char *body, size_t body_len,
	const char *reason, const char *message)
{
	if (r->finished)
		return;
	r->finished = 1;
	devkit__list_remove(&r->node);
	devkit__k8s_creds_unwait(&r->waiter);
	devkit__http_cancel(r->xfer);
	r->xfer = NULL;
	uv_timer_stop(&r->timer);
	devkit__k8s_cb cb = r->cb;
	r->cb = NULL;
	if (cb) {
		devkit__k8s_answer a = {
			.rc = rc,
			.status = status,
			.body = body ? body : "",
			.body_len = body ? body_len : 0,
			.reason = reason ? reason : "",
			.message = message ? message : "",
		};
		cb(r->data, &a);
	}
	uv_close((uv_handle_t *)&r->timer, req_free);
}

static void fail(devkit__k8s_req *r, int rc, long status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void fail(devkit__k8s_req *r, int rc, long status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	finish(r, rc, status, NULL, 0, NULL, msg);
}

static void attempt(devkit__k8s_req *r);

static void on_timer(uv_timer_t *t)
{
	attempt(t->data);
}

static void retry_later(devkit__k8s_req *r, long retry_after_s)
{
	unsigned int delay = BACKOFF_FIRST_MS << (r->tries > 6 ? 5 : r->tries - 1);
	if (delay > BACKOFF_MAX_MS)
		delay = BACKOFF_MAX_MS;
	if (retry_after_s >= 0)
		delay = retry_after_s * 1000 > RETRY_AFTER_MAX_MS ? RETRY_AFTER_MAX_MS
			: (unsigned int)retry_after_s * 1000;
	if (devkit__log_enabled(r->k->ctx, DEVKIT_LOG_DEBUG))
		devkit__log(r->k->ctx, DEVKIT_LOG_DEBUG, "%s: try %u of %u failed, again in %u ms",
			r->what, r->tries, r->retries + 1, delay);
	uv_timer_start(&r->timer, on_timer, delay, 0);
}

static int retryable_transport(int rc)
{
	return rc == DEVKIT_ECONNREFUSED || rc == DEVKIT_ETIMEOUT || rc == DEVKIT_EIO;
}

static void on_success(devkit__k8s_req *r, const devkit__http_response *res)
{
	if (!r->raw && !r->on_data && res->body_len > 0) {
		json_error_t je;
		json_t *doc = json_loadb(res->body, res->body_len, JSON_DECODE_ANY, &je);
		if (!doc) {
			/* The position only: je.text may quote the body (a Secret's data). */
			fail(r, DEVKIT_EPROTO, res->status,
				"%s: %ld, but the answer is not JSON (line %d column %d of %zu bytes)", r->what,
				res->status, je.line, je.column, res->body_len);
			return;
		}
		json_decref(doc);
	}
	finish(r, 0, res->status, res->body, res->body_len, NULL, NULL);
}

static void on_answer(void *data, const devkit__http_response *res)
{
	devkit__k8s_req *r = data;
	r->xfer = NULL;
	devkit_k8s *k = r->k;
	if (res->rc < 0) {
		if (res->rc == DEVKIT_ECLOSED && r->got_data) {
			fail(r, DEVKIT_ECLOSED, res->status, "%s: stopped by the reader", r->what);
		} else if (retryable_transport(res->rc) && !r->got_data && r->tries <= r->retries) {
			retry_later(r, -1);
		} else {
			fail(r, res->rc, res->status, "%s: %s: %s%s%s (%u %s)", r->what,
				devkit_strerror(res->rc), res->error ? res->error : "",
				k->connect_to ? " via " : "", k->connect_to ? k->connect_to : "", r->tries,
				r->tries == 1 ? "try" : "tries");
		}
		return;
	}
	long status = res->status;
	if (status >= 200 && status < 300) {
		on_success(r, res);
		return;
	}
	if (status == 401 && !r->reauthed && devkit__k8s_creds_rejected(k, r->generation)) {
		/* Expired or rotated: fetch again and try once more, not counted as a retry. */
		r->reauthed = 1;
		attempt(r);
		return;
	}
	if ((status == 429 || status >= 500) && r->tries <= r->retries) {
		retry_later(r, res->retry_after_s);
		return;
	}
	char msg[1024], reason[64];
	devkit__k8s_status_message(status, res->body, res->body_len, r->what, r->method, r->path,
		k->cfg.who, reason, sizeof(reason), msg, sizeof(msg));
	if (status == 429 || status >= 500) {
		size_t used = strlen(msg);
		snprintf(msg + used, sizeof(msg) - used, " (%u %s)", r->tries,
			r->tries == 1 ? "try" : "tries");
	}
	finish(r, devkit__k8s_status_rc(status), status, res->body, res->body_len, reason, msg);
}

static int on_stream_data(void *data, const char *bytes, size_t len)
{
	devkit__k8s_req *r = data;
	r->got_data = 1;
	return r->on_data(r->data, bytes, len);
}

static void send_now(devkit__k8s_req *r)
{
	devkit_k8s *k = r->k;
	const char *token, *cert, *key;
	devkit__k8s_creds_current(k, &token, &cert, &key, &r->generation);
	char *url = devkit__k8s_strdup_printf("%s%s", k->url_base, r->path);
	char *auth = token ? devkit__k8s_strdup_printf("Authorization: Bearer %s", token) : NULL;
	char *accept = devkit__k8s_strdup_printf("Accept: %s", r->accept);
	char *ctype = r->body ? devkit__k8s_strdup_printf("Content-Type: %s", r->content_type)
		: NULL;
	if (!url || (token && !auth) || !accept || (r->body && !ctype)) {
		free(url);
		devkit__secret_free(auth);
		free(accept);
		free(ctype);
		fail(r, DEVKIT_ENOMEM, 0, "%s: out of memory", r->what);
		return;
	}
	const char *headers[4];
	int n = 0;
	if (auth)
		headers[n++] = auth;
	headers[n++] = accept;
	if (ctype)
		headers[n++] = ctype;
	headers[n] = NULL;
	devkit__http_request req = {
		.method = r->method,
		.url = url,
		.headers = headers,
		.body = r->body,
		.body_len = r->body_len,
		.timeout_ms = r->timeout_ms,
		.connect_to = k->connect_to,
		.insecure = k->cfg.insecure,
		.ca_pem = k->cfg.ca_pem,
		.client_cert_pem = cert,
		.client_key_pem = key,
		.on_data = r->on_data ? on_stream_data : NULL,
	};
	r->tries++;
	r->xfer = devkit__http_start(k->ctx, &req, on_answer, r);
	free(url);
	devkit__secret_free(auth);
	free(accept);
	free(ctype);
	if (!r->xfer) {
		const devkit_error *e = devkit_error_last();
		fail(r, e ? e->code : DEVKIT_ERROR, 0, "%s: %s", r->what,
			e ? e->message : "cannot start the request");
	}
}

static void on_creds(devkit__k8s_waiter *w, int rc, const char *message)
{
	devkit__k8s_req *r = devkit__container_of(w, devkit__k8s_req, waiter);
	if (rc < 0)
		fail(r, rc, 0, "%s: %s", r->what, message ? message : devkit_strerror(rc));
	else
		send_now(r);
}

static void attempt(devkit__k8s_req *r)
{
	devkit__k8s_creds_get(r->k, &r->waiter);
}

static int dup_or_null(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return !src || *dst ? 0 : -1;
}

static devkit__k8s_req *start_error(int code, const char *fmt, const char *arg)
{
	devkit__error_set(code, fmt, arg);
	return NULL;
}

devkit__k8s_req *devkit__k8s_start(devkit_k8s *k, const devkit__k8s_req_opts *o,
	devkit__k8s_cb cb, void *data)
{
	if (!k || !o || !o->path || !cb)
		return start_error(DEVKIT_EINVAL, "%s", "Kubernetes request without a path or callback");
	if (k->closed)
		return start_error(DEVKIT_ECLOSED, "%s", "the Kubernetes client is closed");
	if (o->path[0] != '/')
		return start_error(DEVKIT_EINVAL, "Kubernetes request path \"%s\" does not start with '/'",
			o->path);
	for (const char *p = o->path; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return start_error(DEVKIT_EINVAL,
				"Kubernetes request path \"%s\" has a space or control character (escape it)",
				o->path);
	const char *method = o->method ? o->method : "GET";
	int patch = strcmp(method, "PATCH") == 0;
	devkit__k8s_req *r = calloc(1, sizeof(*r));
	if (!r)
		return start_error(DEVKIT_ENOMEM, "%s", "out of memory");
	r->k = k;
	r->cb = cb;
	r->data = data;
	r->raw = o->raw;
	r->on_data = o->on_data;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : k->timeout_ms;
	r->retries = o->retries >= 0 ? (unsigned int)o->retries : k->retries;
	r->body_len = o->body ? (o->body_len ? o->body_len : strlen(o->body)) : 0;
	r->waiter.ready = on_creds;
	devkit__list_init(&r->waiter.node);
	if (dup_or_null(&r->method, method) || dup_or_null(&r->path, o->path) ||
		dup_or_null(&r->content_type, o->content_type ? o->content_type
			: patch ? "application/merge-patch+json" : "application/json") ||
		dup_or_null(&r->accept, o->accept ? o->accept : "application/json") ||
		(o->body && !(r->body = malloc(r->body_len + 1)))) {
		uv_handle_t fake = { .data = r };
		req_free(&fake);
		return start_error(DEVKIT_ENOMEM, "%s", "out of memory");
	}
	if (o->body) {
		memcpy(r->body, o->body, r->body_len);
		r->body[r->body_len] = '\0';
	}
	size_t qlen = strcspn(o->path, "?#");
	snprintf(r->what, sizeof(r->what), "%s %s%.*s", method, k->cfg.server, (int)qlen, o->path);
	uv_timer_init(&k->ctx->loop, &r->timer);
	r->timer.data = r;
	devkit__list_push(&k->requests, &r->node);
	/* The first try also goes through the loop: the callback must never run
	 * before this function returns (credentials may be ready at once). */
	uv_timer_start(&r->timer, on_timer, 0, 0);
	return r;
}

devkit__k8s_req *devkit__k8s_request_start(devkit_k8s *k, const char *method, const char *path,
	const char *body, devkit__k8s_cb cb, void *data)
{
	devkit__k8s_req_opts o = { .method = method, .path = path, .body = body, .retries = -1 };
	return devkit__k8s_start(k, &o, cb, data);
}

devkit__k8s_req *devkit__k8s_stream_start(devkit_k8s *k, const char *path,
	devkit__k8s_data_cb on_data, devkit__k8s_cb cb, void *data)
{
	if (!on_data) {
		devkit__error_set(DEVKIT_EINVAL, "Kubernetes stream without a data callback");
		return NULL;
	}
	devkit__k8s_req_opts o = { .path = path, .on_data = on_data, .accept = "*/*", .raw = 1,
		.retries = -1 };
	return devkit__k8s_start(k, &o, cb, data);
}

void devkit__k8s_request_cancel(devkit__k8s_req *r)
{
	if (!r || r->finished)
		return;
	r->cb = NULL;
	finish(r, DEVKIT_ECLOSED, 0, NULL, 0, NULL, NULL);
}

void devkit__k8s_requests_close(devkit_k8s *k)
{
	while (!devkit__list_empty(&k->requests)) {
		devkit__k8s_req *r = devkit__container_of(k->requests.next, devkit__k8s_req, node);
		fail(r, DEVKIT_ECLOSED, 0, "%s: the Kubernetes client was closed", r->what);
	}
}
