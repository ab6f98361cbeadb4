/* SPDX-License-Identifier: Apache-2.0 */
#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "bytes.h"
#include "error.h"

/* The engine's multi handle and its timer (ctx->http). */
typedef struct http_multi {
	devkit_ctx *ctx;
	CURLM *multi;
	uv_timer_t timer;
	int transfers;      /* live transfers */
	int sockets;        /* live uv_poll handles */
	int stopping;
	int closed;         /* the timer's close callback ran */
} http_multi;

/* One socket curl watches: a uv_poll, freed by its close callback. */
typedef struct http_socket {
	uv_poll_t poll;
	http_multi *m;
	curl_socket_t fd;
} http_socket;

struct devkit__http_xfer {
	http_multi *m;
	CURL *easy;
	struct curl_slist *headers;
	struct curl_slist *connect_to;
	char *body;              /* the request body, owned */
	int added;               /* in the multi handle */
	devkit__bytes response;
	long retry_after_s;
	int (*on_data)(void *data, const char *bytes, size_t len);
	int aborted;             /* on_data asked to stop */
	devkit__http_cb cb;
	void *data;
	char error[CURL_ERROR_SIZE];
};

static void multi_maybe_free(http_multi *m);

/* --- libcurl callbacks ------------------------------------------------------ */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *userdata)
{
	devkit__http_xfer *x = userdata;
	size_t n = size * nmemb;
	if (x->on_data) {
		long status = 0;
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
		/* Error answers are collected for the message, not streamed. */
		if (status >= 200 && status < 300) {
			if (x->on_data(x->data, ptr, n) != 0) {
				x->aborted = 1;
				return 0;
			}
			return n;
		}
	}
	/* A registry or API answer larger than this is not one we asked for. */
	if (x->response.len + n > 64u * 1024 * 1024)
		return 0;
	return devkit__bytes_append(&x->response, ptr, n) == 0 ? n : 0;
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *userdata)
{
	devkit__http_xfer *x = userdata;
	size_t n = size * nitems;
	static const char name[] = "retry-after:";
	if (n > sizeof(name) && strncasecmp(buf, name, sizeof(name) - 1) == 0) {
		char value[32];
		size_t len = n - (sizeof(name) - 1);
		if (len >= sizeof(value))
			len = sizeof(value) - 1;
		memcpy(value, buf + sizeof(name) - 1, len);
		value[len] = '\0';
		char *end;
		long s = strtol(value, &end, 10);
		/* Only the delta-seconds form; an HTTP-date is rare from the servers we talk to. */
		if (end != value && s >= 0)
			x->retry_after_s = s;
	}
	return n;
}

static int map_curl_error(CURLcode code)
{
	switch (code) {
	case CURLE_COULDNT_CONNECT:
		return DEVKIT_ECONNREFUSED;
	case CURLE_OPERATION_TIMEDOUT:
		return DEVKIT_ETIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return DEVKIT_ENOTFOUND;
	case CURLE_OUT_OF_MEMORY:
		return DEVKIT_ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return DEVKIT_EINVAL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CACERT_BADFILE:
		return DEVKIT_EPROTO;
	default:
		return DEVKIT_EIO;
	}
}

static void finish(devkit__http_xfer *x, CURLcode code)
{
	devkit__http_response res = { 0 };
	res.retry_after_s = x->retry_after_s;
	if (code == CURLE_OK) {
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
	} else if (x->aborted) {
		res.rc = DEVKIT_ECLOSED;
		res.error = "stopped by the reader";
		curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &res.status);
	} else {
		res.rc = map_curl_error(code);
		res.error = x->error[0] ? x->error : curl_easy_strerror(code);
	}
	if (devkit__bytes_append(&x->response, "", 1) == 0)
		x->response.len--; /* NUL-terminate without counting it */
	/* The callback may start new transfers: finish this one first, keeping
	 * the body and the error text it will read. */
	devkit__bytes body = x->response;
	memset(&x->response, 0, sizeof(x->response));
	char error[CURL_ERROR_SIZE];
	if (res.error) {
		snprintf(error, sizeof(error), "%s", res.error);
		res.error = error;
	}
	res.body = body.data ? body.data : "";
	res.body_len = body.len;
	devkit__http_cb cb = x->cb;
	void *data = x->data;
	x->cb = NULL;
	devkit__http_cancel(x);
	cb(data, &res);
	devkit__bytes_free(&body);
}

static void check_done(http_multi *m)
{
	CURLMsg *msg;
	int pending;
	while ((msg = curl_multi_info_read(m->multi, &pending))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		devkit__http_xfer *x = NULL;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if (x && x->cb)
			finish(x, msg->data.result);
	}
}

static void on_poll(uv_poll_t *handle, int status, int events)
{
	http_socket *s = handle->data;
	http_multi *m = s->m;
	int flags = 0;
	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	int running;
	curl_multi_socket_action(m->multi, s->fd, flags, &running);
	check_done(m);
}

static void on_timer(uv_timer_t *timer)
{
	http_multi *m = timer->data;
	int running;
	curl_multi_socket_action(m->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(m);
}

static int on_timeout_change(CURLM *multi, long timeout_ms, void *userp)
{
	(void)multi;
	http_multi *m = userp;
	if (timeout_ms < 0)
		uv_timer_stop(&m->timer);
	else /* 0 means "now": still through the loop, never from inside a curl call */
		uv_timer_start(&m->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

static void on_socket_closed(uv_handle_t *h)
{
	http_socket *s = h->data;
	http_multi *m = s->m;
	m->sockets--;
	free(s);
	multi_maybe_free(m);
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	(void)easy;
	http_multi *m = userp;
	http_socket *s = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (s) {
			uv_poll_stop(&s->poll);
			curl_multi_assign(m->multi, fd, NULL);
			uv_close((uv_handle_t *)&s->poll, on_socket_closed);
		}
		return 0;
	}
	if (!s) {
		s = calloc(1, sizeof(*s));
		if (!s)
			return -1;
		s->m = m;
		s->fd = fd;
		if (uv_poll_init_socket(&m->ctx->loop, &s->poll, fd) != 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		m->sockets++;
		curl_multi_assign(m->multi, fd, s);
	}
	int events = 0;
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&s->poll, events, on_poll);
	return 0;
}

/* --- the multi handle ------------------------------------------------------- */

static void on_timer_closed(uv_handle_t *h)
{
	http_multi *m = h->data;
	m->closed = 1;
	multi_maybe_free(m);
}

/* Free once stopping, with no transfer, no socket and the timer closed. */
static void multi_maybe_free(http_multi *m)
{
	if (!m->stopping || m->transfers > 0)
		return;
	if (!m->closed) {
		if (!uv_is_closing((uv_handle_t *)&m->timer))
			uv_close((uv_handle_t *)&m->timer, on_timer_closed);
		return;
	}
	if (m->sockets > 0)
		return;
	if (m->multi) {
		curl_multi_cleanup(m->multi);
		m->multi = NULL;
	}
	if (m->ctx->http == m)
		m->ctx->http = NULL;
	free(m);
}

/* curl_global_init is not thread-safe in older libcurl: once per process. */
static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static http_multi *multi_get(devkit_ctx *ctx)
{
	if (ctx->http)
		return ctx->http;
	static uv_once_t once = UV_ONCE_INIT;
	uv_once(&once, global_init);
	http_multi *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->ctx = ctx;
	m->multi = curl_multi_init();
	if (!m->multi) {
		free(m);
		return NULL;
	}
	uv_timer_init(&ctx->loop, &m->timer);
	m->timer.data = m;
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timeout_change);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	ctx->http = m;
	return m;
}

void devkit__http_shutdown(devkit_ctx *ctx)
{
	http_multi *m = ctx->http;
	if (!m)
		return;
	m->stopping = 1;
	multi_maybe_free(m);
}

/* --- requests ---------------------------------------------------------------- */

int devkit__http_status_rc(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400:
	case 405:
	case 406:
	case 413:
	case 415:
	case 422:
		return DEVKIT_EINVAL;
	case 401:
		return DEVKIT_EAUTH;
	case 403:
		return DEVKIT_EFORBIDDEN;
	case 404:
	case 410: /* Gone: a watch's resourceVersion is too old */
		return DEVKIT_ENOTFOUND;
	case 409:
		return DEVKIT_EEXISTS;
	case 408:
		return DEVKIT_ETIMEOUT;
	default:
		if (status == 429 || status >= 500)
			return DEVKIT_EIO;
		return status >= 400 ? DEVKIT_EINVAL : DEVKIT_EPROTO;
	}
}

void devkit__http_describe(const devkit__http_request *req, char *out, size_t cap)
{
	const char *url = req->url ? req->url : "";
	size_t len = strcspn(url, "?#");
	snprintf(out, cap, "%s %.*s", req->method ? req->method : "GET", (int)len, url);
}

static int set_connect_to(devkit__http_xfer *x, const char *connect_to)
{
	/* "::host:port" applies to any URL host and port (CURLOPT_CONNECT_TO). */
	char entry[300];
	const char *colon = strrchr(connect_to, ':');
	if (!colon || colon == connect_to)
		return devkit__error_set(DEVKIT_EINVAL, "connect_to \"%s\" is not host:port",
			connect_to);
	if (connect_to[0] != '[' && memchr(connect_to, ':', (size_t)(colon - connect_to)))
		snprintf(entry, sizeof(entry), "::[%.*s]%s", (int)(colon - connect_to), connect_to,
			colon);
	else
		snprintf(entry, sizeof(entry), "::%s", connect_to);
	x->connect_to = curl_slist_append(NULL, entry);
	if (!x->connect_to)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	curl_easy_setopt(x->easy, CURLOPT_CONNECT_TO, x->connect_to);
	return 0;
}

static int configure(devkit__http_xfer *x, const devkit__http_request *req)
{
	CURL *e = x->easy;
	const char *method = req->method ? req->method : "GET";
	curl_easy_setopt(e, CURLOPT_URL, req->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, x);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, x->error);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	/* Only http and https: a registry URL must never become file:// or gopher://. */
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	/* No proxy from the environment: requests go where the options say (through
	 * the tunnel when connect_to points at a forward), not to a corporate proxy. */
	curl_easy_setopt(e, CURLOPT_PROXY, "");
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(req->timeout_ms ? req->timeout_ms : 10000));
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS,
		(long)(req->timeout_ms ? req->timeout_ms : 10000));
	curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(e, CURLOPT_USERAGENT, "libdevkit/" DEVKIT_VERSION);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);

	if (strcmp(method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method);
	if (req->body) {
		x->body = malloc(req->body_len + 1);
		if (!x->body)
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		memcpy(x->body, req->body, req->body_len);
		x->body[req->body_len] = '\0';
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, x->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
	}
	/* "Expect: 100-continue" costs a round trip (or a 1 s wait) for nothing here. */
	x->headers = curl_slist_append(NULL, "Expect:");
	for (const char *const *h = req->headers; h && *h; h++)
		x->headers = curl_slist_append(x->headers, *h);
	if (!x->headers)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, x->headers);

	if (req->connect_to && req->connect_to[0] && set_connect_to(x, req->connect_to) != 0)
		return DEVKIT_EINVAL;
	if (req->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, req->ca_file);
	if (req->insecure) {
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (req->ca_pem) {
		struct curl_blob blob = { (void *)req->ca_pem, strlen(req->ca_pem), CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_CAINFO_BLOB, &blob);
	}
	if (req->client_cert_pem) {
		struct curl_blob blob = { (void *)req->client_cert_pem, strlen(req->client_cert_pem),
			CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLCERT_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLCERTTYPE, "PEM");
	}
	if (req->client_key_pem) {
		struct curl_blob blob = { (void *)req->client_key_pem, strlen(req->client_key_pem),
			CURL_BLOB_COPY };
		curl_easy_setopt(e, CURLOPT_SSLKEY_BLOB, &blob);
		curl_easy_setopt(e, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (req->client_cert_file)
		curl_easy_setopt(e, CURLOPT_SSLCERT, req->client_cert_file);
	if (req->client_key_file)
		curl_easy_setopt(e, CURLOPT_SSLKEY, req->client_key_file);
	x->on_data = req->on_data;
	if (req->on_data) /* a watch lasts as long as the server keeps it open */
		curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 0L);
	if (req->username) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, req->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, req->password ? req->password : "");
	}
	return 0;
}

devkit__http_xfer *devkit__http_start(devkit_ctx *ctx, const devkit__http_request *req,
	devkit__http_cb cb, void *data)
{
	if (!req->url || !cb) {
		devkit__error_set(DEVKIT_EINVAL, "HTTP request without a URL or callback");
		return NULL;
	}
	http_multi *m = multi_get(ctx);
	if (!m) {
		devkit__error_set(DEVKIT_ENOMEM, "cannot set up libcurl");
		return NULL;
	}
	if (m->stopping) {
		devkit__error_set(DEVKIT_ECLOSED, "the devkit context is shutting down");
		return NULL;
	}
	devkit__http_xfer *x = calloc(1, sizeof(*x));
	if (!x || !(x->easy = curl_easy_init())) {
		free(x);
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	x->m = m;
	x->cb = cb;
	x->data = data;
	x->retry_after_s = -1;
	if (configure(x, req) != 0) {
		x->cb = NULL;
		curl_slist_free_all(x->headers);
		curl_slist_free_all(x->connect_to);
		curl_easy_cleanup(x->easy);
		free(x->body);
		free(x);
		return NULL;
	}
	if (curl_multi_add_handle(m->multi, x->easy) != CURLM_OK) {
		x->cb = NULL;
		devkit__http_cancel(x);
		devkit__error_set(DEVKIT_ERROR, "libcurl refused the request");
		return NULL;
	}
	x->added = 1;
	m->transfers++;
	return x;
}

void devkit__http_cancel(devkit__http_xfer *x)
{
	if (!x)
		return;
	http_multi *m = x->m;
	int added = x->added;
	if (added)
		curl_multi_remove_handle(m->multi, x->easy);
	curl_easy_cleanup(x->easy);
	curl_slist_free_all(x->headers);
	curl_slist_free_all(x->connect_to);
	devkit__bytes_free(&x->response);
	free(x->body);
	free(x);
	if (added) {
		m->transfers--;
		multi_maybe_free(m);
	}
}
