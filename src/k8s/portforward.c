/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Port-forward to a Pod port: a local listener; each accepted connection
 * gets its own port-forward WebSocket (v4.channel.k8s.io, one port per
 * request: data on channel 0, errors on channel 1). The server starts
 * each channel with a message of two bytes, the port in little-endian
 * order; after that, channel 0 carries the connection's bytes and channel
 * 1 the reason the kubelet could not connect or forward.
 *
 * Flow control: above DEVKIT__WS_OUT_HIGH queued for the server the local
 * socket is not read; above PF_LOCAL_HIGH written but not yet taken by the
 * local socket the WebSocket is not read.
 *
 * The WebSocket protocol has no half-close: a local EOF ends the forwarded
 * connection once what was read is sent (the kubelet then closes its side
 * to the Pod), and the end of the WebSocket shuts the local socket down
 * once what came from the Pod is written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/list.h"
#include "devkit/exec.h"
#include "exec_int.h"
#include "exec_path.h"
#include "k8s_client.h"
#include "ws.h"

#define PF_LOCAL_HIGH (1024u * 1024)
#define PF_LOCAL_LOW (256u * 1024)
#define PF_READ_SIZE (64u * 1024)

typedef struct pf_link pf_link;

struct devkit_pod_forward {
	devkit_k8s *k;
	devkit_ctx *ctx;
	char *path;
	char what[300];
	int pod_port;
	int port;                 /* the local one (atomic: read from any thread) */
	uv_tcp_t listener;
	devkit__closeable closeable;
	devkit__list links;
	int handles;              /* open uv handles: the listener and each link's socket */
	int closing;
	uv_mutex_t lock;
	int user_freed, loop_done;
	devkit_forward *tunneled; /* devkit_pod_forward_start_tunnel: the whole forward */
};

struct pf_link {
	devkit__list node;        /* f->links */
	devkit_pod_forward *f;
	uv_tcp_t sock;
	uv_shutdown_t shutdown;
	devkit__ws *ws;
	int reading;              /* the local socket is being read */
	int local_eof;
	int closing;              /* the socket is being closed */
	int shutting;             /* uv_shutdown in flight */
	int seen[2];              /* the port prefix of channel 0 and 1 arrived */
	int paused;               /* the WebSocket is not read */
	size_t to_local;          /* bytes in uv_write requests */
	char error[256];          /* what the kubelet said on channel 1 */
};

typedef struct pf_write {
	uv_write_t req;
	pf_link *l;
	size_t len;
	char data[];
} pf_write;

/* --- the end of a link and of the forward ---------------------------------------- */

static void forward_maybe_done(devkit_pod_forward *f)
{
	if (!f->closing || f->handles > 0)
		return;
	uv_mutex_lock(&f->lock);
	f->loop_done = 1;
	int freed = f->user_freed;
	uv_mutex_unlock(&f->lock);
	if (freed) {
		uv_mutex_destroy(&f->lock);
		free(f->path);
		free(f);
	}
}

static void on_sock_closed(uv_handle_t *h)
{
	pf_link *l = h->data;
	devkit_pod_forward *f = l->f;
	devkit__list_remove(&l->node);
	free(l);
	f->handles--;
	forward_maybe_done(f);
}

static void link_close(pf_link *l)
{
	if (l->closing)
		return;
	l->closing = 1;
	devkit__ws *ws = l->ws;
	l->ws = NULL;
	devkit__ws_abort(ws);
	uv_close((uv_handle_t *)&l->sock, on_sock_closed);
}

static void on_shutdown_done(uv_shutdown_t *req, int status)
{
	(void)status;
	pf_link *l = req->data;
	l->shutting = 0;
	link_close(l);
}

/* The Pod side ended: write what came, then FIN, then close. */
static void link_finish_local(pf_link *l)
{
	if (l->closing || l->shutting)
		return;
	l->shutting = 1;
	l->shutdown.data = l;
	if (uv_shutdown(&l->shutdown, (uv_stream_t *)&l->sock, on_shutdown_done) != 0) {
		l->shutting = 0;
		link_close(l);
	}
}

/* --- the local socket ------------------------------------------------------------------ */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	(void)h, (void)suggested;
	buf->base = malloc(PF_READ_SIZE);
	buf->len = buf->base ? PF_READ_SIZE : 0;
}

static void on_local_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	pf_link *l = s->data;
	if (n > 0 && l->ws) {
		if (devkit__ws_send(l->ws, 0, buf->base, (size_t)n) != 0) {
			link_close(l);
		} else if (devkit__ws_queued(l->ws) > DEVKIT__WS_OUT_HIGH) {
			uv_read_stop(s);
			l->reading = 0;
		}
	} else if (n < 0) {
		uv_read_stop(s);
		l->reading = 0;
		l->local_eof = 1;
		/* No half-close over this protocol: end it once the bytes are sent. */
		if (l->ws)
			devkit__ws_close(l->ws);
		else
			link_close(l);
	}
	free(buf->base);
}

static void start_reading(pf_link *l)
{
	if (l->reading || l->local_eof || l->closing || !l->ws)
		return;
	if (uv_read_start((uv_stream_t *)&l->sock, on_alloc, on_local_read) == 0)
		l->reading = 1;
	else
		link_close(l);
}

static void on_local_written(uv_write_t *req, int status)
{
	pf_write *w = (pf_write *)req;
	pf_link *l = w->l;
	l->to_local -= w->len;
	free(w);
	if (status < 0) {
		link_close(l);
		return;
	}
	if (l->paused && l->to_local < PF_LOCAL_LOW && l->ws) {
		l->paused = 0;
		devkit__ws_pause(l->ws, 0);
	}
}

static void write_local(pf_link *l, const char *bytes, size_t len)
{
	if (l->closing || l->shutting)
		return;
	pf_write *w = malloc(sizeof(*w) + len);
	if (!w) {
		link_close(l);
		return;
	}
	w->l = l;
	w->len = len;
	memcpy(w->data, bytes, len);
	uv_buf_t b = uv_buf_init(w->data, (unsigned int)len);
	if (uv_write(&w->req, (uv_stream_t *)&l->sock, &b, 1, on_local_written) != 0) {
		free(w);
		link_close(l);
		return;
	}
	l->to_local += len;
	if (l->to_local > PF_LOCAL_HIGH && !l->paused && l->ws) {
		l->paused = 1;
		devkit__ws_pause(l->ws, 1);
	}
}

/* --- the WebSocket ---------------------------------------------------------------------- */

static void on_ws_open(void *data, const char *protocol)
{
	(void)protocol;
	start_reading(data);
}

static void on_ws_message(void *data, int channel, const char *bytes, size_t len, int last)
{
	pf_link *l = data;
	if (channel != 0 && channel != 1)
		return;
	if (!l->seen[channel]) {
		/* The port prefix: a message of its own, two bytes. */
		if (last)
			l->seen[channel] = 1;
		return;
	}
	if (channel == 0) {
		if (len)
			write_local(l, bytes, len);
		return;
	}
	size_t used = strlen(l->error);
	if (used + 1 < sizeof(l->error))
		snprintf(l->error + used, sizeof(l->error) - used, "%.*s", (int)len, bytes);
}

static void on_ws_writable(void *data)
{
	start_reading(data);
}

static void on_ws_closed(void *data, int rc, const char *message)
{
	pf_link *l = data;
	devkit_pod_forward *f = l->f;
	l->ws = NULL;
	if (l->error[0])
		devkit__log(f->ctx, DEVKIT_LOG_WARN, "%s: %s", f->what, l->error);
	else if (rc < 0)
		devkit__log(f->ctx, DEVKIT_LOG_WARN, "%s", message);
	if (rc < 0 || l->error[0])
		link_close(l);
	else
		link_finish_local(l);
}

static const devkit__ws_handler pf_handler = { on_ws_open, on_ws_message, on_ws_writable,
	on_ws_closed };

/* --- the listener -------------------------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	devkit_pod_forward *f = server->data;
	if (status < 0 || f->closing)
		return;
	pf_link *l = calloc(1, sizeof(*l));
	if (!l)
		return;
	l->f = f;
	uv_tcp_init(&f->ctx->loop, &l->sock);
	l->sock.data = l;
	f->handles++;
	devkit__list_push(&f->links, &l->node);
	if (uv_accept(server, (uv_stream_t *)&l->sock) != 0) {
		link_close(l);
		return;
	}
	uv_tcp_nodelay(&l->sock, 1);
	devkit__ws_opts o = { .path = f->path, .protocols = "v4.channel.k8s.io", .what = f->what };
	l->ws = devkit__ws_open(f->k, &o, &pf_handler, l);
	if (!l->ws) {
		devkit__log(f->ctx, DEVKIT_LOG_WARN, "%s: %s", f->what, devkit_error_last()->message);
		link_close(l);
	}
}

static void on_listener_closed(uv_handle_t *h)
{
	devkit_pod_forward *f = h->data;
	f->handles--;
	forward_maybe_done(f);
}

static void teardown(devkit_pod_forward *f)
{
	if (f->closing)
		return;
	f->closing = 1;
	devkit__ctx_untrack(&f->closeable);
	while (!devkit__list_empty(&f->links)) {
		pf_link *l = devkit__container_of(f->links.next, pf_link, node);
		devkit__list_remove(&l->node);  /* on_sock_closed removes it again: harmless */
		link_close(l);
	}
	uv_close((uv_handle_t *)&f->listener, on_listener_closed);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	teardown(devkit__container_of(c, devkit_pod_forward, closeable));
}

/* --- the public API ------------------------------------------------------------------------ */

typedef struct start_args {
	devkit_pod_forward *f;
	struct sockaddr_storage addr;
	const char *bind_text;
	int on_loop;
} start_args;

static void do_start(devkit__call *call)
{
	start_args *a = call->arg;
	devkit_pod_forward *f = a->f;
	a->on_loop = 1;
	devkit__list_init(&f->links);
	uv_tcp_init(&f->ctx->loop, &f->listener);
	f->listener.data = f;
	f->handles = 1;
	f->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(f->ctx, &f->closeable);
	int rc = uv_tcp_bind(&f->listener, (const struct sockaddr *)&a->addr, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&f->listener, 128, on_connection);
	if (rc != 0) {
		/* The forward is the loop's to free now: it tears down, then frees. */
		uv_mutex_lock(&f->lock);
		f->user_freed = 1;
		uv_mutex_unlock(&f->lock);
		teardown(f);
		devkit__call_fail(call, f->ctx, rc == UV_EADDRINUSE ? DEVKIT_EEXISTS : DEVKIT_EIO,
			"%s: cannot listen on %s: %s", f->what, a->bind_text, uv_strerror(rc));
		return;
	}
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&f->listener, (struct sockaddr *)&bound, &len);
	int port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
		: ((struct sockaddr_in *)&bound)->sin_port);
	__atomic_store_n(&f->port, port, __ATOMIC_RELEASE);
	if (devkit__log_enabled(f->ctx, DEVKIT_LOG_INFO))
		devkit__log(f->ctx, DEVKIT_LOG_INFO, "%s: listening on %s port %d", f->what, a->bind_text,
			port);
	devkit__call_done(call, f->ctx, 0);
}

int devkit_pod_forward_start(devkit_pod_forward **out, devkit_k8s *k, const char *namespace_name,
	const char *pod, int pod_port, const char *bind_address, int bind_port)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_pod_forward_start: out is NULL");
	*out = NULL;
	if (!k || !pod || !pod[0] || pod_port < 1 || pod_port > 65535 || bind_port < 0 ||
		bind_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_pod_forward_start: the client, a pod, "
			"a pod port of 1..65535 and a bind port of 0..65535 are required");
	const char *ns = namespace_name && namespace_name[0] ? namespace_name
		: devkit_k8s_namespace(k);
	const char *bind = bind_address && bind_address[0] ? bind_address : "127.0.0.1";
	start_args a = { .bind_text = bind };
	if (uv_ip4_addr(bind, bind_port, (struct sockaddr_in *)&a.addr) != 0 &&
		uv_ip6_addr(bind, bind_port, (struct sockaddr_in6 *)&a.addr) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_pod_forward_start: bind address \"%s\" "
			"is not an IP address", bind);
	devkit_pod_forward *f = calloc(1, sizeof(*f));
	char *ens = devkit__url_escape(ns), *epod = devkit__url_escape(pod);
	if (f && ens && epod)
		f->path = devkit__k8s_strdup_printf("/api/v1/namespaces/%s/pods/%s/portforward?ports=%d",
			ens, epod, pod_port);
	free(ens);
	free(epod);
	if (!f || !f->path) {
		free(f);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	f->k = k;
	f->ctx = devkit__k8s_ctx(k);
	f->pod_port = pod_port;
	snprintf(f->what, sizeof(f->what), "port-forward to pod %s/%s port %d", ns, pod, pod_port);
	uv_mutex_init(&f->lock);
	a.f = f;
	devkit__call call = { .fn = do_start, .arg = &a };
	int rc = devkit__call_run(f->ctx, &call);
	if (rc != 0) {
		if (!a.on_loop) {
			uv_mutex_destroy(&f->lock);
			free(f->path);
			free(f);
		}
		return rc;
	}
	*out = f;
	return 0;
}

devkit_pod_forward *devkit__pod_forward_wrap(devkit_forward *tunneled)
{
	devkit_pod_forward *f = calloc(1, sizeof(*f));
	if (f)
		f->tunneled = tunneled;
	return f;
}

int devkit_pod_forward_port(const devkit_pod_forward *f)
{
	if (f && f->tunneled)
		return devkit_forward_port(f->tunneled);
	return f ? __atomic_load_n(&f->port, __ATOMIC_ACQUIRE) : -1;
}

static void do_close(devkit__call *call)
{
	devkit_pod_forward *f = call->arg;
	devkit_ctx *ctx = f->ctx;
	/* Tear down first, so the listener is closed when free returns (a
	 * connect right after it is refused); teardown may free the forward
	 * (user_freed is set), hence ctx kept aside. */
	teardown(f);
	devkit__call_done(call, ctx, 0);
}

void devkit_pod_forward_free(devkit_pod_forward *f)
{
	if (!f)
		return;
	if (f->tunneled) {
		devkit_forward_free(f->tunneled);
		free(f);
		return;
	}
	uv_mutex_lock(&f->lock);
	f->user_freed = 1;
	int done = f->loop_done;
	uv_mutex_unlock(&f->lock);
	if (done) {
		uv_mutex_destroy(&f->lock);
		free(f->path);
		free(f);
		return;
	}
	/* The loop frees it once its handles are closed. If the engine is
	 * stopping, its shutdown does the same. */
	devkit__call call = { .fn = do_close, .arg = f };
	devkit__call_run(f->ctx, &call);
}
