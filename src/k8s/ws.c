/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One Kubernetes WebSocket (ws.h): credentials, then name resolution with
 * c-ares (libwebsockets 4.1 as packaged would call a blocking getaddrinfo
 * on the I/O thread; it gets a numeric address instead), then the
 * libwebsockets client on the engine's context, then channel messages.
 *
 * Lifetime: the object is freed when its wsi is destroyed
 * (LWS_CALLBACK_WSI_DESTROY) once it has ended, or at once when it ends
 * before it had a wsi. Callbacks that name a connection already ended
 * (their owner aborted it) are ignored.
 */
#include "ws_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "core/hostport.h"
#include "core/resolve.h"
#include "k8s_client.h"
#include "k8s_status.h"
#include "tls_pem.h"
#include "ws_refusal.h"
#include "ws_tls.h"

enum {
	ST_START,     /* waiting for the first loop turn */
	ST_CREDS,     /* credentials being fetched (exec plugin, token file) */
	ST_RESOLVE,
	ST_CONNECT,   /* TCP, TLS, HTTP upgrade */
	ST_STATUS,    /* upgrade refused: asking again over HTTP for the Status */
	ST_OPEN,
	ST_DONE
};

typedef struct out_msg {
	devkit__list node;
	size_t len;              /* the message, channel byte included */
	unsigned char buf[];     /* LWS_PRE bytes of room, then the message */
} out_msg;

struct devkit__ws {
	devkit__list node;       /* wc->conns */
	devkit__ws_ctx *wc;
	devkit_k8s *k;
	const devkit__ws_handler *h;   /* NULL once the owner is gone */
	void *data;
	int state;
	char *path;              /* with the server URL's path prefix */
	char *api_path;          /* without it */
	char *protocols;
	char what[256];
	unsigned int timeout_ms;
	lws_sorted_usec_list_t sul_start, sul_timeout;
	devkit__k8s_waiter waiter;
	devkit__resolve *resolve;
	devkit__http_xfer *status_req;
	struct lws *wsi;
	int wsi_alive;           /* a wsi exists that may still call us */
	int connecting;          /* inside lws_client_connect_via_info */
	devkit__ws_vhost *vhost;
	char *token;             /* secret */
	uint64_t generation;
	int reauthed;
	int tls, insecure;
	char server_name[256];   /* Host header, SNI, the certificate's name */
	char connect_host[256];
	int connect_port;
	char address[INET6_ADDRSTRLEN];
	char tls_why[256];
	char protocol[64];
	devkit__list outq;
	size_t out_bytes;
	int closing;             /* close once the queue is written */
	int rx_channel;          /* channel of the message being received, -1 between */
	int paused;
	int http_status;         /* of a refused upgrade */
	char conn_error[160];
	int peer_closed;
};

/* Inside a libwebsockets callback on this thread (flow control changes are
 * applied differently from inside and outside). */
static _Thread_local int in_lws;

static void release(devkit__ws *w);

devkit__ws *devkit__ws_of_node(devkit__list *node)
{
	return devkit__container_of(node, devkit__ws, node);
}

/* --- the end ------------------------------------------------------------------ */

static void free_outq(devkit__ws *w)
{
	while (!devkit__list_empty(&w->outq)) {
		out_msg *m = devkit__container_of(w->outq.next, out_msg, node);
		devkit__list_remove(&m->node);
		free(m);
	}
	w->out_bytes = 0;
}

static void really_free(devkit__ws *w)
{
	devkit__list_remove(&w->node);
	free_outq(w);
	devkit__secret_free(w->token);
	free(w->path);
	free(w->api_path);
	free(w->protocols);
	free(w);
}

/* Free once ended and no wsi can call back any more. */
static void release(devkit__ws *w)
{
	if (w->state != ST_DONE || w->wsi_alive || w->connecting)
		return;
	devkit__ws_vhost_put(w->vhost);
	w->vhost = NULL;
	really_free(w);
}

/* libwebsockets 4.1 arms its uv timer for the earliest scheduled event only
 * when it services (from its idle handle, after I/O): an event scheduled
 * from outside its callbacks (our loop turns) would wait for whatever the
 * timer was armed for before. Waking its service makes it look again. */
static void schedule(devkit__ws *w, lws_sorted_usec_list_t *sul, sul_cb_t cb, lws_usec_t us)
{
	lws_sul_schedule(w->wc->lws, 0, sul, cb, us);
	lws_cancel_service(w->wc->lws);
}

static void kill_wsi(devkit__ws *w)
{
	if (w->wsi_alive && w->wsi && !w->wc->stopping) {
		lws_set_timeout(w->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
		lws_cancel_service(w->wc->lws);
	}
}

/* End with rc (0: closed normally); tell the owner; free when possible. */
static void finish(devkit__ws *w, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void finish(devkit__ws *w, int rc, const char *fmt, ...)
{
	if (w->state == ST_DONE)
		return;
	w->state = ST_DONE;
	if (!w->wc->stopping) {
		lws_sul_cancel(&w->sul_start);
		lws_sul_cancel(&w->sul_timeout);
	}
	devkit__k8s_creds_unwait(&w->waiter);
	devkit__resolve_cancel(w->resolve);
	w->resolve = NULL;
	devkit__http_cancel(w->status_req);
	w->status_req = NULL;
	free_outq(w);
	char msg[1024] = "";
	if (fmt) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(msg, sizeof(msg), fmt, ap);
		va_end(ap);
	}
	const devkit__ws_handler *h = w->h;
	w->h = NULL;
	kill_wsi(w);
	if (h)
		h->closed(w->data, rc, msg);
	release(w);
}

/* --- connecting ---------------------------------------------------------------- */

static void do_connect(devkit__ws *w)
{
	struct lws_client_connect_info ci;
	memset(&ci, 0, sizeof(ci));
	ci.context = w->wc->lws;
	ci.vhost = devkit__ws_vhost_lws(w->vhost);
	ci.address = w->address;
	ci.port = w->connect_port;
	ci.path = w->path;
	ci.host = w->server_name;
	ci.origin = NULL;
	ci.protocol = w->protocols;
	ci.local_protocol_name = devkit__ws_protocols[0].name;
	/* HTTP/1.1 only: with "h2" offered, a server that picks it (an API
	 * server does) gets a WebSocket-over-h2 upgrade libwebsockets 4.1
	 * does not do. */
	ci.alpn = "http/1.1";
	ci.opaque_user_data = w;
	ci.pwsi = &w->wsi;
	if (w->tls) {
		/* The name check is ours (ws_tls.c), so that IP literals and
		 * tls-server-name work the same whatever libwebsockets does. */
		ci.ssl_connection = LCCSCF_USE_SSL | LCCSCF_SKIP_SERVER_CERT_HOSTNAME_CHECK;
		if (w->insecure)
			ci.ssl_connection |= LCCSCF_ALLOW_SELFSIGNED | LCCSCF_ALLOW_EXPIRED |
				LCCSCF_ALLOW_INSECURE;
	}
	w->state = ST_CONNECT;
	w->wsi_alive = 1;
	w->connecting = 1;
	struct lws *wsi = lws_client_connect_via_info(&ci);
	w->connecting = 0;
	if (!wsi) {
		/* Failed inside the call; the error callback may have run already. */
		w->wsi_alive = 0;
		w->wsi = NULL;
		if (w->state != ST_DONE)
			finish(w, DEVKIT_ECONNREFUSED, "%s: cannot connect to %s port %d%s%s", w->what,
				w->address, w->connect_port, w->conn_error[0] ? ": " : "", w->conn_error);
		else
			release(w);
	}
}

static void on_resolved(void *data, int status, const char *message,
	const struct sockaddr_storage *addrs, int count)
{
	devkit__ws *w = data;
	w->resolve = NULL;
	if (status < 0 || count < 1) {
		finish(w, status < 0 ? status : DEVKIT_ENOTFOUND, "%s: %s", w->what,
			message ? message : "the API server's name did not resolve");
		return;
	}
	const struct sockaddr_storage *a = &addrs[0];
	const void *ip = a->ss_family == AF_INET6 ? (const void *)&((const struct sockaddr_in6 *)a)->sin6_addr
		: (const void *)&((const struct sockaddr_in *)a)->sin_addr;
	inet_ntop(a->ss_family, ip, w->address, sizeof(w->address));
	do_connect(w);
}

static void on_creds(devkit__k8s_waiter *wt, int rc, const char *message)
{
	devkit__ws *w = devkit__container_of(wt, devkit__ws, waiter);
	if (rc < 0) {
		finish(w, rc, "%s: %s", w->what, message ? message : devkit_strerror(rc));
		return;
	}
	devkit_k8s *k = w->k;
	const char *token, *cert, *key;
	devkit__k8s_creds_current(k, &token, &cert, &key, &w->generation);
	devkit__secret_free(w->token);
	w->token = token ? strdup(token) : NULL;
	if (token && !w->token) {
		finish(w, DEVKIT_ENOMEM, "%s: out of memory", w->what);
		return;
	}
	/* An exec plugin's certificate replaces the kubeconfig's, as in requests. */
	if (!cert) {
		cert = k->cfg.cert_pem;
		key = k->cfg.key_pem;
	}
	devkit__ws_vhost_put(w->vhost);
	char why[256] = "";
	w->vhost = devkit__ws_vhost_get(w->wc, w->tls, w->tls ? k->cfg.ca_pem : NULL,
		w->tls ? cert : NULL, w->tls ? key : NULL, why, sizeof(why));
	if (!w->vhost) {
		finish(w, DEVKIT_EINVAL, "%s: TLS: %s", w->what, why);
		return;
	}
	w->state = ST_RESOLVE;
	if (devkit__resolve_start(k->ctx, w->connect_host, w->connect_port, on_resolved, w,
		&w->resolve) != 0) {
		const devkit_error *e = devkit_error_last();
		finish(w, e ? e->code : DEVKIT_ERROR, "%s: %s", w->what,
			e ? e->message : "cannot resolve the API server's name");
	}
}

static void on_start(lws_sorted_usec_list_t *sul)
{
	devkit__ws *w = devkit__container_of(sul, devkit__ws, sul_start);
	w->state = ST_CREDS;
	devkit__k8s_creds_get(w->k, &w->waiter);
}

static void on_timeout(lws_sorted_usec_list_t *sul)
{
	devkit__ws *w = devkit__container_of(sul, devkit__ws, sul_timeout);
	if (w->state < ST_OPEN)
		finish(w, DEVKIT_ETIMEOUT, "%s: no WebSocket from %s port %d within %u ms", w->what,
			w->address[0] ? w->address : w->connect_host, w->connect_port, w->timeout_ms);
}

/* --- a refused upgrade ------------------------------------------------------------ */

static void on_status_answer(void *data, const devkit__http_response *res)
{
	devkit__ws *w = data;
	w->status_req = NULL;
	long status = w->http_status;
	/* The same refusal again: its body is the server's Status. */
	int same = res->rc == 0 && res->status == status;
	char reason[64], msg[1024];
	devkit__k8s_status_message(status, same ? res->body : NULL, same ? res->body_len : 0, w->what,
		"GET", w->api_path, w->k->cfg.who, reason, sizeof(reason), msg, sizeof(msg));
	int rc = devkit__k8s_status_rc(status);
	finish(w, rc < 0 ? rc : DEVKIT_EPROTO, "%s", msg);
}

static void refused(devkit__ws *w, int status)
{
	w->http_status = status;
	if (status == 401 && !w->reauthed && devkit__k8s_creds_rejected(w->k, w->generation)) {
		/* Expired or rotated: fetch the credentials again and try once more. */
		w->reauthed = 1;
		w->state = ST_START;
		schedule(w, &w->sul_start, on_start, 1);
		return;
	}
	w->state = ST_STATUS;
	const char *token, *cert, *key;
	uint64_t generation;
	devkit__k8s_creds_current(w->k, &token, &cert, &key, &generation);
	devkit__ws_refusal_req r = { .path = w->api_path, .protocols = w->protocols,
		.token = w->token, .cert_pem = cert, .key_pem = key, .timeout_ms = w->timeout_ms };
	w->status_req = devkit__ws_refusal_fetch(w->k, &r, on_status_answer, w);
	if (!w->status_req) {
		devkit__http_response none = { .rc = DEVKIT_ERROR };
		on_status_answer(w, &none);
	}
}

static void connection_error(devkit__ws *w, struct lws *wsi, const char *why)
{
	snprintf(w->conn_error, sizeof(w->conn_error), "%s", why ? why : "");
	if (w->state != ST_CONNECT)
		return;
	int status = (int)lws_http_client_http_response(wsi);
	if (status >= 300 && status != 101) {
		refused(w, status);
		return;
	}
	if (w->tls_why[0]) {
		finish(w, DEVKIT_EPROTO, "%s: TLS with %s port %d: %s", w->what, w->address,
			w->connect_port, w->tls_why);
		return;
	}
	int rc = DEVKIT_EIO;
	if (why && (strstr(why, "connect") || strstr(why, "refused")))
		rc = DEVKIT_ECONNREFUSED;
	else if (why && (strcasestr(why, "tls") || strcasestr(why, "ssl")))
		rc = DEVKIT_EPROTO;
	finish(w, rc, "%s: WebSocket to %s port %d failed: %s", w->what, w->address, w->connect_port,
		why && *why ? why : "the connection closed during the handshake");
}

/* --- the callback ----------------------------------------------------------------- */

static devkit__ws *ws_of(struct lws *wsi)
{
	return wsi ? lws_get_opaque_user_data(wsi) : NULL;
}

static int on_writeable(devkit__ws *w, struct lws *wsi)
{
	if (!devkit__list_empty(&w->outq)) {
		out_msg *m = devkit__container_of(w->outq.next, out_msg, node);
		devkit__list_remove(&m->node);
		w->out_bytes -= m->len;
		int n = lws_write(wsi, m->buf + LWS_PRE, m->len, LWS_WRITE_BINARY);
		free(m);
		if (n < 0) {
			finish(w, DEVKIT_EIO, "%s: the connection failed while sending", w->what);
			return -1;
		}
		if (!devkit__list_empty(&w->outq))
			lws_callback_on_writable(wsi);
		if (w->h && w->h->writable && w->out_bytes < DEVKIT__WS_OUT_LOW)
			w->h->writable(w->data);
		return 0;
	}
	if (w->closing) {
		lws_close_reason(wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
		return -1;
	}
	return 0;
}

static void on_receive(devkit__ws *w, struct lws *wsi, const unsigned char *in, size_t len)
{
	int last = lws_is_final_fragment(wsi) && lws_remaining_packet_payload(wsi) == 0;
	if (w->rx_channel < 0) {
		if (len == 0) /* an empty message has no channel: nothing to say */
			return;
		w->rx_channel = in[0];
		in++;
		len--;
	}
	int channel = w->rx_channel;
	if (last)
		w->rx_channel = -1;
	if (w->h)
		w->h->message(w->data, channel, (const char *)in, len, last);
}

static void apply_pause(devkit__ws *w)
{
	if (!w->wsi_alive || !w->wsi || w->state != ST_OPEN)
		return;
	int how = (w->paused ? LWS_RXFLOW_REASON_APPLIES_DISABLE : LWS_RXFLOW_REASON_APPLIES_ENABLE) |
		LWS_RXFLOW_REASON_USER_BOOL;
	if (!in_lws)
		how |= LWS_RXFLOW_REASON_FLAG_PROCESS_NOW;
	lws_rx_flow_control(w->wsi, how);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
	size_t len)
{
	devkit__ws *w = ws_of(wsi);
	if (!w)
		return 0;
	int rc = 0;
	in_lws++;
	switch (reason) {
	case LWS_CALLBACK_OPENSSL_PERFORM_SERVER_CERT_VERIFICATION:
		/* user: the X509_STORE_CTX; len: OpenSSL's verdict. 0 accepts. */
		rc = devkit__ws_tls_verify(user, (int)len, w->insecure, w->server_name, w->tls_why,
			sizeof(w->tls_why)) ? 0 : 1;
		break;
	case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: {
		unsigned char **p = in, *end = *p + len;
		static const char agent[] = "libdevkit/" DEVKIT_VERSION;
		if (lws_add_http_header_by_name(wsi, (const unsigned char *)"user-agent:",
			(const unsigned char *)agent, (int)strlen(agent), p, end))
			rc = -1;
		if (!rc && w->token) {
			char *auth = devkit__k8s_strdup_printf("Bearer %s", w->token);
			if (!auth || lws_add_http_header_by_name(wsi, (const unsigned char *)"authorization:",
				(const unsigned char *)auth, (int)strlen(auth), p, end))
				rc = -1;
			devkit__secret_free(auth);
		}
		break;
	}
	case LWS_CALLBACK_CLIENT_FILTER_PRE_ESTABLISH:
		/* The chosen subprotocol: the header is gone by ESTABLISHED. */
		if (lws_hdr_copy(wsi, w->protocol, sizeof(w->protocol), WSI_TOKEN_PROTOCOL) < 0)
			w->protocol[0] = '\0';
		break;
	case LWS_CALLBACK_CLIENT_ESTABLISHED:
		if (w->state != ST_CONNECT)
			break;
		w->state = ST_OPEN;
		lws_sul_cancel(&w->sul_timeout);
		if (w->paused)
			apply_pause(w);
		if (!devkit__list_empty(&w->outq) || w->closing)
			lws_callback_on_writable(wsi);
		if (w->h)
			w->h->open(w->data, w->protocol);
		break;
	case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
		connection_error(w, wsi, in);
		break;
	case LWS_CALLBACK_CLIENT_RECEIVE:
		if (w->state == ST_OPEN)
			on_receive(w, wsi, in, len);
		break;
	case LWS_CALLBACK_CLIENT_WRITEABLE:
		if (w->state == ST_OPEN)
			rc = on_writeable(w, wsi);
		else if (w->state == ST_DONE)
			rc = -1;
		break;
	case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
		w->peer_closed = 1;
		break;
	case LWS_CALLBACK_CLIENT_CLOSED:
		if (w->state == ST_OPEN) {
			if (w->peer_closed || w->closing)
				finish(w, 0, NULL);
			else
				finish(w, DEVKIT_EIO, "%s: the connection to %s port %d was lost", w->what,
					w->address, w->connect_port);
		} else if (w->state == ST_CONNECT) {
			connection_error(w, wsi, "closed before the handshake finished");
		}
		break;
	case LWS_CALLBACK_WSI_DESTROY:
		/* Nothing of this wsi may reach us any more (w may go now). */
		lws_set_opaque_user_data(wsi, NULL);
		if (w->wsi == wsi) {
			w->wsi = NULL;
			w->wsi_alive = 0;
			/* Either ends it (and frees it), or it was over already. */
			if (w->state == ST_CONNECT && !w->connecting)
				connection_error(w, wsi, w->conn_error[0] ? w->conn_error : NULL);
			else
				release(w);
		}
		break;
	default:
		break;
	}
	in_lws--;
	return rc;
}

const struct lws_protocols devkit__ws_protocols[] = {
	{ "devkit-k8s", callback, 0, 64 * 1024, 0, NULL, 0 },
	{ NULL, NULL, 0, 0, 0, NULL, 0 }
};

/* --- the owner's side --------------------------------------------------------------- */

/* "https://host:port/prefix" -> TLS, host, port, prefix. */
static int parse_server(devkit__ws *w, const char *server, const char **prefix)
{
	int tls = strncasecmp(server, "https://", 8) == 0;
	if (!tls && strncasecmp(server, "http://", 7) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: server \"%s\" is not http(s)://", w->what,
			server);
	const char *hp = server + (tls ? 8 : 7);
	size_t n = strcspn(hp, "/");
	char text[300];
	snprintf(text, sizeof(text), "%.*s", (int)n, hp);
	devkit__hostport parsed;
	if (devkit__hostport_parse(text, 0, tls ? 443 : 80, &parsed) != 0)
		return DEVKIT_EINVAL;
	w->tls = tls;
	snprintf(w->server_name, sizeof(w->server_name), "%s", parsed.host);
	snprintf(w->connect_host, sizeof(w->connect_host), "%s", parsed.host);
	w->connect_port = parsed.port;
	*prefix = hp + n;
	return 0;
}

devkit__ws *devkit__ws_open(devkit_k8s *k, const devkit__ws_opts *o, const devkit__ws_handler *h,
	void *data)
{
	if (!k || !o || !o->path || !o->protocols || !h) {
		devkit__error_set(DEVKIT_EINVAL, "WebSocket without a path, protocols or handler");
		return NULL;
	}
	if (k->closed) {
		devkit__error_set(DEVKIT_ECLOSED, "the Kubernetes client is closed");
		return NULL;
	}
	devkit__ws *w = calloc(1, sizeof(*w));
	if (!w) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	devkit__list_init(&w->node);
	devkit__list_init(&w->outq);
	devkit__list_init(&w->waiter.node);
	w->waiter.ready = on_creds;
	w->k = k;
	w->h = h;
	w->data = data;
	w->rx_channel = -1;
	w->insecure = k->cfg.insecure;
	w->timeout_ms = o->timeout_ms ? o->timeout_ms : k->timeout_ms;
	snprintf(w->what, sizeof(w->what), "%s", o->what ? o->what : o->path);
	const char *prefix = "";
	if (parse_server(w, k->cfg.server, &prefix) != 0) {
		free(w);
		return NULL;
	}
	if (k->cfg.tls_server_name)
		snprintf(w->server_name, sizeof(w->server_name), "%s", k->cfg.tls_server_name);
	if (k->connect_to) {
		devkit__hostport ct;
		if (devkit__hostport_parse(k->connect_to, 0, w->connect_port, &ct) != 0) {
			free(w);
			return NULL;
		}
		snprintf(w->connect_host, sizeof(w->connect_host), "%s", ct.host);
		w->connect_port = ct.port;
	}
	w->path = devkit__k8s_strdup_printf("%s%s", prefix, o->path);
	w->api_path = strdup(o->path);
	w->protocols = strdup(o->protocols);
	w->wc = devkit__ws_ctx_get(k->ctx);
	if (!w->path || !w->api_path || !w->protocols || !w->wc) {
		if (w->wc)
			devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		free(w->path);
		free(w->api_path);
		free(w->protocols);
		free(w);
		return NULL;
	}
	if (w->wc->stopping) {
		free(w->path);
		free(w->api_path);
		free(w->protocols);
		free(w);
		devkit__error_set(DEVKIT_ECLOSED, "the devkit context is shutting down");
		return NULL;
	}
	devkit__list_push(&w->wc->conns, &w->node);
	/* The first step runs on the next turn: never a callback before we return. */
	schedule(w, &w->sul_start, on_start, 1);
	schedule(w, &w->sul_timeout, on_timeout, (lws_usec_t)w->timeout_ms * 1000);
	return w;
}

static int queue(devkit__ws *w, int channel, const void *bytes, size_t len)
{
	size_t head = channel >= 0 ? 1 : 0;
	out_msg *m = malloc(sizeof(*m) + LWS_PRE + head + len);
	if (!m)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	m->len = head + len;
	if (head)
		m->buf[LWS_PRE] = (unsigned char)channel;
	if (len)
		memcpy(m->buf + LWS_PRE + head, bytes, len);
	devkit__list_push(&w->outq, &m->node);
	w->out_bytes += m->len;
	return 0;
}

static void want_write(devkit__ws *w)
{
	if (w->state == ST_OPEN && w->wsi_alive && w->wsi)
		lws_callback_on_writable(w->wsi);
}

int devkit__ws_send(devkit__ws *w, int channel, const void *bytes, size_t len)
{
	if (!w || w->state == ST_DONE || w->closing)
		return devkit__error_set(DEVKIT_ECLOSED, "the WebSocket is closed");
	const char *p = bytes;
	do {
		size_t n = len > DEVKIT__WS_MAX_MESSAGE ? DEVKIT__WS_MAX_MESSAGE : len;
		if (queue(w, channel, p, n) != 0)
			return DEVKIT_ENOMEM;
		p += n;
		len -= n;
	} while (len > 0);
	want_write(w);
	return 0;
}

int devkit__ws_send_raw(devkit__ws *w, const void *bytes, size_t len)
{
	if (!w || w->state == ST_DONE || w->closing)
		return devkit__error_set(DEVKIT_ECLOSED, "the WebSocket is closed");
	if (queue(w, -1, bytes, len) != 0)
		return DEVKIT_ENOMEM;
	want_write(w);
	return 0;
}

size_t devkit__ws_queued(const devkit__ws *w)
{
	return w ? w->out_bytes : 0;
}

void devkit__ws_pause(devkit__ws *w, int paused)
{
	if (!w || w->state == ST_DONE || w->paused == !!paused)
		return;
	w->paused = !!paused;
	apply_pause(w);
}

void devkit__ws_close(devkit__ws *w)
{
	if (!w || w->state == ST_DONE || w->closing)
		return;
	if (w->state != ST_OPEN) {
		finish(w, 0, NULL);
		return;
	}
	w->closing = 1;
	lws_callback_on_writable(w->wsi);
}

void devkit__ws_abort(devkit__ws *w)
{
	if (!w)
		return;
	w->h = NULL;
	finish(w, DEVKIT_ECLOSED, NULL);
}

/* --- the context's shutdown --------------------------------------------------------- */

int devkit__ws_shutdown_conn(devkit__ws *w)
{
	if (w->state == ST_DONE)
		return 0;
	/* Before the context goes: its timers are ours to cancel now. */
	lws_sul_cancel(&w->sul_start);
	lws_sul_cancel(&w->sul_timeout);
	finish(w, DEVKIT_ECLOSED, "%s: the devkit context is shutting down", w->what);
	return 1;
}

void devkit__ws_free_leftover(devkit__ws *w)
{
	/* The context is gone, and its vhosts with it. */
	w->vhost = NULL;
	w->state = ST_DONE;
	really_free(w);
}
