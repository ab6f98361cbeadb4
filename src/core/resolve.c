/* SPDX-License-Identifier: Apache-2.0 */
/*
 * c-ares driven by libuv: c-ares tells us which sockets it wants watched
 * (ARES_OPT_SOCK_STATE_CB); each gets a uv_poll, and one timer follows
 * ares_timeout(). This is the c-ares equivalent of curl's multi-uv pattern.
 */
#include "resolve.h"

#include <ares.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

typedef struct watch {
	uv_poll_t poll;
	ares_socket_t fd;
	struct resolver *r;
	struct watch *next;
} watch;

typedef struct resolver {
	devkit_ctx *ctx;
	ares_channel channel;
	uv_timer_t timer;
	watch *watches;
} resolver;

struct devkit__resolve {
	resolver *r;
	devkit__resolve_cb cb;
	void *data;
	int cancelled;
	int port;
	char host[256];
	uv_idle_t literal; /* answers IP literals, and early answers, on the next loop turn */
	int starting;      /* inside devkit__resolve_start */
	/* An answer c-ares gave from inside ares_getaddrinfo (names from
	 * /etc/hosts such as localhost), kept for the next loop turn. */
	int early;
	int early_status;
	char early_msg[512];
	struct sockaddr_storage early_addrs[8];
	int early_count;
};

static void arm_timer(resolver *r);

static void on_poll(uv_poll_t *p, int status, int events)
{
	watch *w = p->data;
	ares_socket_t rfd = ARES_SOCKET_BAD, wfd = ARES_SOCKET_BAD;
	if (status < 0 || (events & UV_READABLE))
		rfd = w->fd;
	if (status < 0 || (events & UV_WRITABLE))
		wfd = w->fd;
	resolver *r = w->r;
	ares_process_fd(r->channel, rfd, wfd);
	arm_timer(r);
}

static void on_close_free(uv_handle_t *h) { free(h->data); }

static void sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	resolver *r = data;
	watch **pp = &r->watches, *w;
	for (w = *pp; w && w->fd != fd; pp = &w->next, w = *pp)
		;
	if (!readable && !writable) {
		if (w) {
			*pp = w->next;
			uv_poll_stop(&w->poll);
			uv_close((uv_handle_t *)&w->poll, on_close_free);
		}
		return;
	}
	if (!w) {
		w = calloc(1, sizeof(*w));
		if (!w)
			return; /* the query will time out */
		if (uv_poll_init_socket(&r->ctx->loop, &w->poll, fd) != 0) {
			free(w);
			return;
		}
		w->fd = fd;
		w->r = r;
		w->poll.data = w;
		w->next = r->watches;
		r->watches = w;
	}
	uv_poll_start(&w->poll, (readable ? UV_READABLE : 0) | (writable ? UV_WRITABLE : 0), on_poll);
}

static void on_timer(uv_timer_t *t)
{
	resolver *r = t->data;
	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(r);
}

static void arm_timer(resolver *r)
{
	struct timeval tv, *tvp = ares_timeout(r->channel, NULL, &tv);
	if (!tvp) {
		uv_timer_stop(&r->timer);
		return;
	}
	uint64_t ms = (uint64_t)tvp->tv_sec * 1000 + (uint64_t)tvp->tv_usec / 1000;
	uv_timer_start(&r->timer, on_timer, ms ? ms : 1, 0);
}

static void library_init(void) { ares_library_init(ARES_LIB_INIT_ALL); }

static resolver *get_resolver(devkit_ctx *ctx)
{
	if (ctx->resolver)
		return ctx->resolver;
	static uv_once_t once = UV_ONCE_INIT;
	uv_once(&once, library_init);
	resolver *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	r->ctx = ctx;
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = r;
	int st = ares_init_options(&r->channel, &o, ARES_OPT_SOCK_STATE_CB);
	if (st != ARES_SUCCESS) {
		devkit__error_set(DEVKIT_ERROR, "cannot start the resolver: %s", ares_strerror(st));
		free(r);
		return NULL;
	}
	uv_timer_init(&ctx->loop, &r->timer);
	r->timer.data = r;
	ctx->resolver = r;
	return r;
}

static int literal_address(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *in4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, host, &in4->sin_addr) == 1) {
		in4->sin_family = AF_INET;
		in4->sin_port = htons((uint16_t)port);
		return 1;
	}
	if (inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		return 1;
	}
	return 0;
}

static void free_resolve(uv_handle_t *h) { free(h->data); }

static void on_early(uv_idle_t *idle)
{
	devkit__resolve *q = idle->data;
	uv_idle_stop(idle);
	q->early = 0;
	if (!q->cancelled)
		q->cb(q->data, q->early_status, q->early_status ? q->early_msg : NULL, q->early_addrs,
			q->early_count);
	uv_close((uv_handle_t *)&q->literal, free_resolve);
}

static void finish(devkit__resolve *q, int status, const char *msg,
	const struct sockaddr_storage *addrs, int count)
{
	if (q->starting) {
		/* Never call back before devkit__resolve_start has returned. */
		q->early = 1;
		q->early_status = status;
		snprintf(q->early_msg, sizeof(q->early_msg), "%s", msg ? msg : "");
		q->early_count = count > 8 ? 8 : count;
		for (int i = 0; i < q->early_count; i++)
			q->early_addrs[i] = addrs[i];
		uv_idle_start(&q->literal, on_early);
		return;
	}
	if (!q->cancelled)
		q->cb(q->data, status, msg, addrs, count);
	uv_close((uv_handle_t *)&q->literal, free_resolve);
}

static void on_literal(uv_idle_t *idle)
{
	devkit__resolve *q = idle->data;
	uv_idle_stop(idle);
	struct sockaddr_storage ss;
	literal_address(q->host, q->port, &ss);
	finish(q, 0, NULL, &ss, 1);
}

static void on_addrinfo(void *arg, int status, int timeouts, struct ares_addrinfo *res)
{
	devkit__resolve *q = arg;
	(void)timeouts;
	if (status != ARES_SUCCESS || !res || !res->nodes) {
		char msg[512];
		int code = (status == ARES_ENOTFOUND || status == ARES_ENODATA) ? DEVKIT_ENOTFOUND
			: status == ARES_ETIMEOUT ? DEVKIT_ETIMEOUT
			: status == ARES_ECANCELLED || status == ARES_EDESTRUCTION ? DEVKIT_ECLOSED
			: DEVKIT_ENOTFOUND;
		snprintf(msg, sizeof(msg), "cannot resolve '%s': %s", q->host,
			status == ARES_SUCCESS ? "no addresses" : ares_strerror(status));
		finish(q, code, msg, NULL, 0);
		if (res)
			ares_freeaddrinfo(res);
		return;
	}
	struct sockaddr_storage addrs[8];
	int n = 0;
	for (struct ares_addrinfo_node *nd = res->nodes; nd && n < 8; nd = nd->ai_next) {
		if (nd->ai_addrlen > sizeof(addrs[0]))
			continue;
		memset(&addrs[n], 0, sizeof(addrs[n]));
		memcpy(&addrs[n], nd->ai_addr, nd->ai_addrlen);
		n++;
	}
	ares_freeaddrinfo(res);
	finish(q, 0, NULL, addrs, n);
}

int devkit__resolve_start(devkit_ctx *ctx, const char *host, int port,
	devkit__resolve_cb cb, void *data, devkit__resolve **out)
{
	if (strlen(host) >= sizeof(((devkit__resolve *)0)->host))
		return devkit__error_set(DEVKIT_EINVAL, "host name too long: '%.64s...'", host);
	devkit__resolve *q = calloc(1, sizeof(*q));
	if (!q)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	q->cb = cb;
	q->data = data;
	q->port = port;
	snprintf(q->host, sizeof(q->host), "%s", host);
	uv_idle_init(&ctx->loop, &q->literal);
	q->literal.data = q;

	struct sockaddr_storage ss;
	if (literal_address(host, port, &ss)) {
		uv_idle_start(&q->literal, on_literal);
	} else {
		resolver *r = get_resolver(ctx);
		if (!r) {
			uv_close((uv_handle_t *)&q->literal, free_resolve);
			return DEVKIT_ERROR;
		}
		q->r = r;
		char service[8];
		snprintf(service, sizeof(service), "%d", port);
		struct ares_addrinfo_hints hints;
		memset(&hints, 0, sizeof(hints));
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = ARES_AI_NUMERICSERV;
		q->starting = 1;
		ares_getaddrinfo(r->channel, host, service, &hints, on_addrinfo, q);
		q->starting = 0;
		arm_timer(r);
	}
	if (out)
		*out = q;
	return 0;
}

void devkit__resolve_cancel(devkit__resolve *q)
{
	if (q)
		q->cancelled = 1;
}

void devkit__resolver_free(devkit_ctx *ctx)
{
	resolver *r = ctx->resolver;
	if (!r)
		return;
	ctx->resolver = NULL;
	/* Runs pending callbacks with ARES_EDESTRUCTION, which close their handles. */
	ares_destroy(r->channel);
	while (r->watches) {
		watch *w = r->watches;
		r->watches = w->next;
		uv_poll_stop(&w->poll);
		uv_close((uv_handle_t *)&w->poll, on_close_free);
	}
	r->timer.data = r;
	uv_close((uv_handle_t *)&r->timer, on_close_free);
}
