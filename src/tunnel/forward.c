/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Forwards: the listeners of a tunnel.
 *  LOCAL   (-L) a local listener; each connection opens a direct-tcpip channel
 *          to a fixed host:port as the bastion sees it.
 *  DYNAMIC (-D) a local listener speaking SOCKS5/SOCKS4/HTTP proxy; the
 *          destination comes from each client's request.
 *  REMOTE  (-R) tcpip-forward on the bastion; each forwarded-tcpip channel is
 *          connected to a local host:port. Requested again after a reconnect,
 *          on the same port when the bastion chose it the first time, so that
 *          whatever advertised that port (a registry entry) stays right.
 */
#include "tunnel_int.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int devkit_forward_options_init(devkit_forward_options *opts, unsigned int version)
{
	static const devkit_forward_options defaults = DEVKIT_FORWARD_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_FORWARD_OPTIONS_VERSION, "devkit_forward_options_init");
}

static const char *kind_name(devkit_forward_kind k)
{
	return k == DEVKIT_FORWARD_LOCAL ? "local" : k == DEVKIT_FORWARD_DYNAMIC ? "dynamic" : "remote";
}

/* --- memory and closing ------------------------------------------------------- */

void devkit__forward_free_memory(devkit_forward *f)
{
	free(f->bind_address);
	free(f->target_host);
	free(f->proxy_username);
	if (f->proxy_password) {
		explicit_bzero(f->proxy_password, strlen(f->proxy_password)); /* a secret */
		free(f->proxy_password);
	}
	free(f);
}

static void maybe_release(devkit_forward *f)
{
	if (!f->closing || f->handles > 0)
		return;
	/* A listen request still in flight keeps the forward until it completes. */
	if (devkit__list_linked(&f->listen_node))
		return;
	devkit__call *call = f->free_call;
	devkit_ctx *ctx = f->tunnel->ctx;
	devkit__forward_free_memory(f);
	if (call)
		devkit__call_done(call, ctx, 0);
}

void devkit__forward_handle_closed(devkit_forward *f)
{
	f->handles--;
	maybe_release(f);
}

static void on_listener_closed(uv_handle_t *h)
{
	devkit_forward *f = h->data;
	devkit_tunnel *t = f->tunnel;
	devkit__forward_handle_closed(f);
	devkit__tunnel_handle_closed(t);
}

/* A forward whose listener could not start: freed once that handle has closed. */
void devkit__forward_abandon(devkit_forward *f)
{
	f->closing = 1;
	f->free_call = NULL;
	devkit__list_init(&f->node);
	if (f->listening) {
		f->listening = 0;
		uv_close((uv_handle_t *)&f->listener, on_listener_closed);
	} else {
		maybe_release(f);
	}
}

/* A REMOTE forward whose devkit_tunnel_add_forward fails: the application never
 * gets it, so it must not live on (nor come back after a reconnect). */
static void fail_add(devkit_forward *f, int code, const char *msg)
{
	devkit__call_fail(f->add_call, f->tunnel->ctx, code, "%s", msg);
	f->add_call = NULL;
	f->closing = 1;
	devkit__list_remove(&f->node);
	devkit__list_remove(&f->listen_node);
	maybe_release(f);
}

void devkit__forward_listen_dropped(devkit_forward *f)
{
	devkit__list_remove(&f->listen_node);
	maybe_release(f); /* a forward freed while its request was in flight */
}

static int listen_in_flight(devkit_forward *f)
{
	devkit__session *s = f->tunnel->session;
	return s && s->listen_queue.next == &f->listen_node;
}

void devkit__forward_shutdown(devkit_forward *f)
{
	if (f->closing)
		return;
	f->closing = 1;
	devkit_tunnel *t = f->tunnel;
	devkit__list_remove(&f->node);
	if (f->add_call) {
		devkit__call_fail(f->add_call, t->ctx, DEVKIT_ECLOSED, "the forward was closed");
		f->add_call = NULL;
	}
	if (f->listening) {
		f->listening = 0;
		uv_close((uv_handle_t *)&f->listener, on_listener_closed);
	}
	if (f->ssh_listener) {
		libssh2_channel_forward_cancel(f->ssh_listener);
		f->ssh_listener = NULL;
		if (t->session)
			devkit__session_flush(t->session);
	}
	if (!listen_in_flight(f))
		devkit__list_remove(&f->listen_node);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &f->links)
		devkit__link_close(devkit__container_of(pos, devkit__link, fwd_node), 0);
	maybe_release(f);
}

/* --- local listeners ---------------------------------------------------------- */

static void on_connection(uv_stream_t *server, int status)
{
	devkit_forward *f = server->data;
	if (status < 0 || f->closing)
		return;
	devkit__link *l = devkit__link_new(f);
	if (!l)
		return;
	if (uv_accept(server, (uv_stream_t *)&l->tcp) != 0) {
		devkit__link_close(l, 1);
		return;
	}
	uv_tcp_nodelay(&l->tcp, 1);
	if (f->redirect) {
		devkit__redirect_accept(f, l);
		return;
	}
	if (f->kind == DEVKIT_FORWARD_DYNAMIC) {
		l->state = LINK_HANDSHAKE;
		devkit__link_start_local(l);
		return;
	}
	l->target_host = strdup(f->target_host);
	l->target_port = f->target_port;
	if (!l->target_host) {
		devkit__link_close(l, 1);
		return;
	}
	/* Read at once: what the client sends before the channel is open is kept
	 * (bounded) and sent first. */
	devkit__link_enqueue_open(l);
	devkit__link_start_local(l);
}

static int parse_bind(const char *address, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (strcmp(address, "localhost") == 0)
		address = "127.0.0.1";
	if (uv_ip4_addr(address, port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(address, port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -1;
}

int devkit__forward_start_listener(devkit_forward *f, char *msg, size_t msglen)
{
	devkit_tunnel *t = f->tunnel;
	struct sockaddr_storage ss;
	if (parse_bind(f->bind_address, f->bind_port, &ss) != 0) {
		snprintf(msg, msglen, "cannot listen on '%s': not an IP address", f->bind_address);
		return DEVKIT_EINVAL;
	}
	uv_tcp_init(&t->ctx->loop, &f->listener);
	f->listener.data = f;
	f->listening = 1;
	f->handles++;
	t->handles++;
	int rc = uv_tcp_bind(&f->listener, (const struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&f->listener, 4096, on_connection);
	if (rc != 0) {
		snprintf(msg, msglen, "cannot listen on %s:%d: %s", f->bind_address, f->bind_port,
			uv_strerror(rc));
		return rc == UV_EADDRINUSE ? DEVKIT_EEXISTS : rc == UV_EACCES ? DEVKIT_EFORBIDDEN : DEVKIT_EIO;
	}
	struct sockaddr_storage bound;
	int len = sizeof(bound);
	uv_tcp_getsockname(&f->listener, (struct sockaddr *)&bound, &len);
	f->bound_port = ntohs(bound.ss_family == AF_INET ? ((struct sockaddr_in *)&bound)->sin_port
		: ((struct sockaddr_in6 *)&bound)->sin6_port);
	return 0;
}

/* --- remote forwards ---------------------------------------------------------- */

void devkit__forward_session_up(devkit_forward *f, devkit__session *s)
{
	if (f->kind != DEVKIT_FORWARD_REMOTE || f->closing)
		return;
	f->ssh_listener = NULL;
	devkit__list_remove(&f->listen_node);
	devkit__list_push(&s->listen_queue, &f->listen_node);
}

void devkit__forward_session_lost(devkit_forward *f)
{
	f->ssh_listener = NULL; /* freed with the session */
	devkit__list_remove(&f->listen_node);
	if (f->add_call) {
		char msg[300];
		snprintf(msg, sizeof(msg),
			"remote forward %s:%d: the bastion connection was lost", f->bind_address, f->bind_port);
		fail_add(f, DEVKIT_EIO, msg);
		return;
	}
	maybe_release(f);
}

int devkit__forward_request_step(devkit__session *s)
{
	while (!devkit__list_empty(&s->listen_queue)) {
		devkit_forward *f = devkit__container_of(s->listen_queue.next, devkit_forward, listen_node);
		int want = f->bound_port ? f->bound_port : f->bind_port;
		int bound = 0;
		LIBSSH2_LISTENER *l = libssh2_channel_forward_listen_ex(s->ssh, f->bind_address, want,
			&bound, 64);
		if (!l && libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
			return 0;
		devkit__list_remove(&f->listen_node);
		if (f->closing) {
			if (l)
				libssh2_channel_forward_cancel(l);
			maybe_release(f);
			continue;
		}
		if (!l) {
			if (want != f->bind_port) {
				/* The port we had is taken now: take any, and say it changed. */
				devkit__log(s->t->ctx, DEVKIT_LOG_WARN,
					"remote forward %llu: port %d is no longer available on the bastion",
					(unsigned long long)f->id, want);
				__atomic_store_n(&f->bound_port, 0, __ATOMIC_RELAXED);
				devkit__list_push(&s->listen_queue, &f->listen_node);
				continue;
			}
			char msg[512];
			devkit__ssh_error(s, "", msg, sizeof(msg));
			char full[800];
			snprintf(full, sizeof(full), "remote forward %s:%d: the bastion refused to listen%s "
				"(the port may be in use, or forwarding disabled by AllowTcpForwarding)",
				f->bind_address, want, msg);
			if (f->add_call) {
				fail_add(f, DEVKIT_EEXISTS, full);
			} else {
				devkit__tunnel_emit(s->t, DEVKIT_EVENT_FORWARD_FAILED, f->id, DEVKIT_EEXISTS, "%s", full);
			}
			continue;
		}
		f->ssh_listener = l;
		/* Read by devkit_forward_port() on other threads. */
		__atomic_store_n(&f->bound_port, bound > 0 ? bound : want, __ATOMIC_RELAXED);
		devkit__tunnel_emit(s->t, DEVKIT_EVENT_FORWARD_READY, f->id, 0,
			"remote forward listening on the bastion at %s:%d -> %s:%d", f->bind_address,
			f->bound_port, f->target_host, f->target_port);
		if (f->add_call) {
			devkit__call_done(f->add_call, s->t->ctx, 0);
			f->add_call = NULL;
		}
	}
	return 0;
}

void devkit__forward_accept_remote(devkit__session *s)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &s->t->forwards) {
		devkit_forward *f = devkit__container_of(pos, devkit_forward, node);
		if (!f->ssh_listener)
			continue;
		LIBSSH2_CHANNEL *ch;
		while ((ch = libssh2_channel_forward_accept(f->ssh_listener)) != NULL) {
			devkit__link *l = devkit__link_new(f);
			if (!l) {
				devkit__session_close_channel(s, ch);
				continue;
			}
			devkit__link_attach_remote(l, s, ch);
		}
	}
}

/* --- public API ----------------------------------------------------------- */

static void do_add(devkit__call *call)
{
	devkit_forward *f = call->arg;
	devkit_tunnel *t = f->tunnel;
	if (t->closing) {
		devkit__call_fail(call, t->ctx, DEVKIT_ECLOSED, "the tunnel is closed");
		devkit__forward_free_memory(f);
		return;
	}
	f->id = devkit__ctx_next_id(t->ctx);
	if (f->kind == DEVKIT_FORWARD_REMOTE) {
		devkit__session *s = t->session;
		if (!s || s->stage != STAGE_UP) {
			devkit__call_fail(call, t->ctx, DEVKIT_ECLOSED,
				"remote forward %s:%d: the tunnel is not connected (state %s)", f->bind_address,
				f->bind_port, devkit_tunnel_state_name(t->state));
			devkit__forward_free_memory(f);
			return;
		}
		devkit__list_push(&t->forwards, &f->node);
		f->add_call = call;
		devkit__list_push(&s->listen_queue, &f->listen_node);
		devkit__session_pump(s);
		return;
	}
	char msg[512];
	int rc = devkit__forward_start_listener(f, msg, sizeof(msg));
	if (rc < 0) {
		devkit__call_fail(call, t->ctx, rc, "%s forward: %s", kind_name(f->kind), msg);
		devkit__forward_abandon(f);
		return;
	}
	devkit__list_push(&t->forwards, &f->node);
	if (f->kind == DEVKIT_FORWARD_LOCAL)
		devkit__tunnel_emit(t, DEVKIT_EVENT_FORWARD_READY, f->id, 0,
			"local forward listening on %s:%d -> %s:%d (via the bastion)", f->address,
			f->bound_port, f->target_host, f->target_port);
	else
		devkit__tunnel_emit(t, DEVKIT_EVENT_FORWARD_READY, f->id, 0,
			"SOCKS5/SOCKS4/HTTP proxy listening on %s:%d", f->address, f->bound_port);
	devkit__call_done(call, t->ctx, 0);
}

static int is_loopback(const char *address)
{
	struct in_addr a4;
	struct in6_addr a6;
	if (strcmp(address, "localhost") == 0)
		return 1;
	if (inet_pton(AF_INET, address, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, address, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}

static char *dup_or_null(const char *s, int *oom)
{
	if (!s)
		return NULL;
	char *d = strdup(s);
	if (!d)
		*oom = 1;
	return d;
}

int devkit_tunnel_add_forward(devkit_forward **out, devkit_tunnel *t, const devkit_forward_options *o)
{
	if (!out || !t || !o)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_add_forward: out, tunnel and options are required");
	*out = NULL;
	if (o->version != DEVKIT_FORWARD_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_add_forward: options version %u is not %u",
			o->version, DEVKIT_FORWARD_OPTIONS_VERSION);
	if (o->kind != DEVKIT_FORWARD_LOCAL && o->kind != DEVKIT_FORWARD_DYNAMIC && o->kind != DEVKIT_FORWARD_REMOTE)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_tunnel_add_forward: unknown kind %d", (int)o->kind);
	const char *kind = kind_name(o->kind);
	if (o->bind_port < 0 || o->bind_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "%s forward: bind port %d is not in 0..65535", kind, o->bind_port);
	if (o->kind != DEVKIT_FORWARD_DYNAMIC) {
		if (!o->target_host || !*o->target_host)
			return devkit__error_set(DEVKIT_EINVAL, "%s forward: no target host given", kind);
		if (o->target_port < 1 || o->target_port > 65535)
			return devkit__error_set(DEVKIT_EINVAL, "%s forward: target port %d is not in 1..65535",
				kind, o->target_port);
	}
	const char *bind = o->bind_address && *o->bind_address ? o->bind_address : "127.0.0.1";
	if (o->kind != DEVKIT_FORWARD_REMOTE && !is_loopback(bind) && !o->allow_non_loopback)
		return devkit__error_set(DEVKIT_EINVAL,
			"%s forward: refusing to listen on %s, which is not a loopback address: anyone on "
			"the network could use the tunnel (set allow_non_loopback if you mean it)", kind, bind);
	if ((o->proxy_username == NULL) != (o->proxy_password == NULL))
		return devkit__error_set(DEVKIT_EINVAL, "%s forward: give both proxy username and password, or neither", kind);

	devkit_forward *f = calloc(1, sizeof(*f));
	if (!f)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	int oom = 0;
	f->tunnel = t;
	f->kind = o->kind;
	f->bind_port = o->bind_port;
	f->target_port = o->target_port;
	f->bind_address = dup_or_null(bind, &oom);
	f->target_host = dup_or_null(o->target_host, &oom);
	f->proxy_username = dup_or_null(o->proxy_username, &oom);
	f->proxy_password = dup_or_null(o->proxy_password, &oom);
	f->stats.version = DEVKIT_FORWARD_STATS_VERSION;
	/* Set once, before any other thread can see the forward: the address is
	 * what was asked for (the port is what changes). */
	snprintf(f->address, sizeof(f->address), "%s", bind);
	devkit__list_init(&f->links);
	devkit__list_init(&f->node);
	devkit__list_init(&f->listen_node);
	if (oom) {
		devkit__forward_free_memory(f);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	devkit__call call = { .fn = do_add, .arg = f };
	int rc = devkit__call_run(t->ctx, &call);
	if (rc < 0)
		return rc; /* the loop has released f */
	*out = f;
	return 0;
}

static void do_forward_free(devkit__call *call)
{
	devkit_forward *f = call->arg;
	f->free_call = call;
	devkit__forward_shutdown(f);
}

void devkit_forward_free(devkit_forward *f)
{
	if (!f)
		return;
	devkit__call call = { .fn = do_forward_free, .arg = f };
	devkit__call_run(f->tunnel->ctx, &call);
}

uint64_t devkit_forward_id(const devkit_forward *f) { return f ? f->id : 0; }
int devkit_forward_port(const devkit_forward *f)
{
	return f ? __atomic_load_n(&f->bound_port, __ATOMIC_RELAXED) : DEVKIT_EINVAL;
}
const char *devkit_forward_address(const devkit_forward *f) { return f ? f->address : NULL; }
int devkit_forward_kind_of(const devkit_forward *f) { return f ? (int)f->kind : DEVKIT_EINVAL; }

static void fill_stats(void *object, void *out)
{
	*(devkit_forward_stats *)out = ((devkit_forward *)object)->stats;
}

int devkit_forward_get_stats(devkit_forward *f, devkit_forward_stats *out)
{
	return devkit__get_stats(f ? f->tunnel->ctx : NULL, f, out, DEVKIT_FORWARD_STATS_VERSION,
		"devkit_forward_get_stats", fill_stats);
}
