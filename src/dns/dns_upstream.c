/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Clients of the DNS servers behind the stub.
 *
 * TCP (the cluster DNS through the tunnel's local forward, and the upstream
 * for answers truncated over UDP): one persistent connection, messages framed
 * by a 2-byte length (RFC 1035 4.2.2), many queries in flight at once and told
 * apart by their ID. Clients' IDs may clash, so each query gets an ID of ours
 * on the wire and its own back in the answer. A connection that closes (the
 * server's idle timeout, the tunnel reconnecting, the channel refused because
 * the cluster DNS is down) is opened again for whatever is still waiting; a
 * query that has seen its connection die twice fails at once, so a dead
 * cluster DNS answers SERVFAIL quickly instead of after the timeout.
 *
 * UDP (the upstream resolver): one socket; answers are accepted only from the
 * server's address and for an ID in flight. A truncated answer (TC) sends the
 * query again over TCP.
 *
 * Every query has a deadline (timeout_ms); a timer sweeps them.
 */
#include "dns_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

typedef struct pending {
	devkit__list node;
	uint16_t wire_id, client_id;
	int sent;
	int attempts;          /* connections lost while this was sent */
	uint64_t deadline;
	dns_conn_cb cb;
	void *data;
	size_t len;
	uint8_t query[];       /* with our ID */
} pending;

typedef struct tcp_sock {
	uv_tcp_t tcp;
	uv_connect_t connect;
	dns_conn *c;           /* NULL once the socket was given up */
	int connected;
	uint8_t *rbuf;
	size_t rlen, rcap;
} tcp_sock;

struct dns_conn {
	devkit_dns *d;
	int is_tcp;
	struct sockaddr_storage addr;
	char label[64];        /* "cluster DNS", for logs */
	devkit__list pending;
	uint16_t next_id;
	uv_timer_t timer;
	int timer_running;
	/* TCP */
	tcp_sock *sock;
	/* UDP */
	uv_udp_t udp;
	int udp_open;
	uint8_t *udp_buf;      /* 64 KiB: any datagram */
	int open_handles;      /* the timer and the UDP socket, embedded: c lives until they close */
};

static void on_handle_closed(uv_handle_t *h)
{
	dns_conn *c = h->data;
	devkit_dns *d = c->d;
	if (--c->open_handles == 0) {
		free(c->udp_buf);
		free(c);
	}
	dns__handle_closed(d);
}

static void finish(pending *p, int status, const uint8_t *resp, size_t len)
{
	devkit__list_remove(&p->node);
	p->cb(p->data, status, resp, len);
	free(p);
}

static pending *find(dns_conn *c, uint16_t id)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &c->pending) {
		pending *p = devkit__container_of(pos, pending, node);
		if (p->wire_id == id && p->sent)
			return p;
	}
	return NULL;
}

static uint16_t new_id(dns_conn *c)
{
	for (;;) {
		uint16_t id = c->next_id++;
		int used = 0;
		devkit__list *pos, *tmp;
		devkit__list_each(pos, tmp, &c->pending)
			if (devkit__container_of(pos, pending, node)->wire_id == id)
				used = 1;
		if (!used)
			return id;
	}
}

/* An answer came: give it back with the client's ID. */
static void deliver(dns_conn *c, uint8_t *msg, size_t len)
{
	if (len < DNS_HEADER)
		return;
	pending *p = find(c, dns_get_u16(msg));
	if (!p)
		return; /* late (timed out) or forged: ignore */
	dns_set_u16(msg, p->client_id);
	finish(p, 0, msg, len);
}

/* --- deadlines ---------------------------------------------------------------- */

static void on_tick(uv_timer_t *t)
{
	dns_conn *c = t->data;
	uint64_t now = uv_now(&c->d->ctx->loop);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &c->pending) {
		pending *p = devkit__container_of(pos, pending, node);
		if (now >= p->deadline) {
			devkit__log(c->d->ctx, DEVKIT_LOG_DEBUG, "dns: %s did not answer in %d ms",
				c->label, c->d->timeout_ms);
			finish(p, DEVKIT_ETIMEOUT, NULL, 0);
		}
	}
	if (devkit__list_empty(&c->pending) && c->timer_running) {
		uv_timer_stop(&c->timer);
		c->timer_running = 0;
	}
}

static void arm(dns_conn *c)
{
	if (!c->timer_running) {
		uv_timer_start(&c->timer, on_tick, 50, 50);
		c->timer_running = 1;
	}
}

/* --- TCP ------------------------------------------------------------------------ */

static void tcp_connect(dns_conn *c);

static void sock_closed(uv_handle_t *h)
{
	tcp_sock *s = h->data;
	devkit_dns *d = (devkit_dns *)s->connect.data;
	free(s->rbuf);
	free(s);
	dns__handle_closed(d);
}

static void on_write(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
}

static void tcp_write(tcp_sock *s, pending *p)
{
	uv_write_t *w = malloc(sizeof(*w));
	uint8_t *frame = malloc(p->len + 2);
	if (!w || !frame) {
		free(w);
		free(frame);
		return; /* it will time out */
	}
	dns_set_u16(frame, (uint16_t)p->len);
	memcpy(frame + 2, p->query, p->len);
	w->data = frame;
	uv_buf_t b = uv_buf_init((char *)frame, (unsigned)(p->len + 2));
	if (uv_write(w, (uv_stream_t *)&s->tcp, &b, 1, on_write) != 0) {
		free(frame);
		free(w);
		return;
	}
	p->sent = 1;
}

static void flush_unsent(dns_conn *c)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &c->pending) {
		pending *p = devkit__container_of(pos, pending, node);
		if (!p->sent)
			tcp_write(c->sock, p);
	}
}

/* The connection is gone: retry what was in flight once, on a new one. */
static void tcp_lost(dns_conn *c, const char *why)
{
	tcp_sock *s = c->sock;
	c->sock = NULL;
	if (s) {
		s->c = NULL;
		uv_close((uv_handle_t *)&s->tcp, sock_closed);
	}
	devkit__log(c->d->ctx, DEVKIT_LOG_DEBUG, "dns: connection to %s lost: %s", c->label, why);
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &c->pending) {
		pending *p = devkit__container_of(pos, pending, node);
		if (!p->sent && s && !s->connected)
			p->attempts++; /* the connect itself failed */
		else if (p->sent)
			p->attempts++;
		p->sent = 0;
		if (p->attempts >= 2)
			finish(p, DEVKIT_EIO, NULL, 0);
	}
	/* A callback above may have sent a new query, which connected already. */
	if (!devkit__list_empty(&c->pending) && !c->sock && !c->d->closing)
		tcp_connect(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	tcp_sock *s = h->data;
	if (s->rcap - s->rlen < 4096) {
		size_t cap = s->rcap ? s->rcap * 2 : 8192;
		uint8_t *p = realloc(s->rbuf, cap);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		s->rbuf = p;
		s->rcap = cap;
	}
	*buf = uv_buf_init((char *)s->rbuf + s->rlen, (unsigned)(s->rcap - s->rlen));
}

static void on_read(uv_stream_t *st, ssize_t n, const uv_buf_t *buf)
{
	tcp_sock *s = st->data;
	dns_conn *c = s->c;
	if (!c)
		return;
	if (n < 0) {
		tcp_lost(c, uv_strerror((int)n));
		return;
	}
	s->rlen += (size_t)n;
	size_t off = 0;
	while (s->rlen - off >= 2) {
		size_t len = dns_get_u16(s->rbuf + off);
		if (s->rlen - off < 2 + len)
			break;
		deliver(c, s->rbuf + off + 2, len);
		if (c->sock != s)
			return; /* a callback closed us */
		off += 2 + len;
	}
	memmove(s->rbuf, s->rbuf + off, s->rlen - off);
	s->rlen -= off;
}

static void on_connect(uv_connect_t *req, int status)
{
	tcp_sock *s = req->handle->data;
	dns_conn *c = s->c;
	if (!c)
		return;
	if (status < 0) {
		tcp_lost(c, uv_strerror(status));
		return;
	}
	s->connected = 1;
	uv_tcp_nodelay(&s->tcp, 1);
	uv_read_start((uv_stream_t *)&s->tcp, on_alloc, on_read);
	flush_unsent(c);
}

static void tcp_connect(dns_conn *c)
{
	tcp_sock *s = calloc(1, sizeof(*s));
	if (!s) {
		tcp_lost(c, "out of memory");
		return;
	}
	s->c = c;
	uv_tcp_init(&c->d->ctx->loop, &s->tcp);
	s->tcp.data = s;
	s->connect.data = c->d;
	c->d->handles++;
	c->sock = s;
	int rc = uv_tcp_connect(&s->connect, &s->tcp, (const struct sockaddr *)&c->addr, on_connect);
	if (rc != 0) {
		/* Fail what waits rather than loop: tcp_lost counts an attempt. */
		s->connected = 0;
		tcp_lost(c, uv_strerror(rc));
	}
}

/* --- UDP ------------------------------------------------------------------------ */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	dns_conn *c = h->data;
	*buf = uv_buf_init((char *)c->udp_buf, 65536);
}

static int same_addr(const struct sockaddr *a, const struct sockaddr_storage *b)
{
	if (a->sa_family != b->ss_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port && memcmp(&x->sin6_addr, &y->sin6_addr, 16) == 0;
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
	unsigned flags)
{
	dns_conn *c = h->data;
	if (n < DNS_HEADER || !from || !same_addr(from, &c->addr))
		return;
	uint8_t *msg = (uint8_t *)buf->base;
	uint16_t fl = dns_get_u16(msg + 2);
	pending *p = find(c, dns_get_u16(msg));
	if (!p)
		return;
	devkit_dns *d = c->d;
	if ((fl & DNS_FLAG_TC) && d->upstream_tcp && !d->closing) {
		/* Too big for UDP: ask again over TCP, with the client's ID restored. */
		devkit__list_remove(&p->node);
		dns_set_u16(p->query, p->client_id);
		dns__conn_send(d->upstream_tcp, p->query, p->len, p->cb, p->data);
		free(p);
		return;
	}
	dns_set_u16(msg, p->client_id);
	finish(p, 0, msg, (size_t)n);
}

static int udp_open(dns_conn *c)
{
	c->udp_buf = malloc(65536);
	if (!c->udp_buf)
		return UV_ENOMEM;
	uv_udp_init(&c->d->ctx->loop, &c->udp);
	c->udp.data = c;
	c->d->handles++;
	c->open_handles++;
	c->udp_open = 1;
	struct sockaddr_storage any;
	memset(&any, 0, sizeof(any));
	if (c->addr.ss_family == AF_INET6) {
		uv_ip6_addr("::", 0, (struct sockaddr_in6 *)&any);
	} else {
		uv_ip4_addr("0.0.0.0", 0, (struct sockaddr_in *)&any);
	}
	int rc = uv_udp_bind(&c->udp, (const struct sockaddr *)&any, 0);
	if (rc == 0)
		rc = uv_udp_recv_start(&c->udp, udp_alloc, udp_recv);
	return rc;
}

/* --- the interface ------------------------------------------------------------- */

dns_conn *dns__conn_new(devkit_dns *d, int tcp, const struct sockaddr *addr, const char *label)
{
	dns_conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->d = d;
	c->is_tcp = tcp;
	memcpy(&c->addr, addr, addr->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
		: sizeof(struct sockaddr_in));
	snprintf(c->label, sizeof(c->label), "%s", label);
	devkit__list_init(&c->pending);
	/* Not guessable from the outside: a spoofed UDP answer must guess the ID. */
	uv_random(NULL, NULL, &c->next_id, sizeof(c->next_id), 0, NULL);
	uv_timer_init(&d->ctx->loop, &c->timer);
	c->timer.data = c;
	d->handles++;
	c->open_handles++;
	if (!tcp && udp_open(c) != 0) {
		dns__conn_close(c);
		return NULL;
	}
	return c;
}

void dns__conn_send(dns_conn *c, const uint8_t *query, size_t len, dns_conn_cb cb, void *data)
{
	if (len < DNS_HEADER || len > 65535) {
		cb(data, DEVKIT_EINVAL, NULL, 0);
		return;
	}
	pending *p = malloc(sizeof(*p) + len);
	if (!p) {
		cb(data, DEVKIT_ENOMEM, NULL, 0);
		return;
	}
	memset(p, 0, sizeof(*p));
	p->cb = cb;
	p->data = data;
	p->len = len;
	memcpy(p->query, query, len);
	p->client_id = dns_get_u16(query);
	p->wire_id = new_id(c);
	dns_set_u16(p->query, p->wire_id);
	p->deadline = uv_now(&c->d->ctx->loop) + (uint64_t)c->d->timeout_ms;
	devkit__list_push(&c->pending, &p->node);
	arm(c);
	if (!c->is_tcp) {
		uv_buf_t b = uv_buf_init((char *)p->query, (unsigned)len);
		/* Datagrams to a loopback or LAN resolver do not queue: try_send, and
		 * on EAGAIN the query times out like a lost datagram. */
		int rc = uv_udp_try_send(&c->udp, &b, 1, (const struct sockaddr *)&c->addr);
		p->sent = 1;
		if (rc < 0 && rc != UV_EAGAIN)
			finish(p, DEVKIT_EIO, NULL, 0);
		return;
	}
	if (c->sock && c->sock->connected)
		tcp_write(c->sock, p);
	else if (!c->sock)
		tcp_connect(c);
}

void dns__conn_close(dns_conn *c)
{
	if (!c)
		return;
	while (!devkit__list_empty(&c->pending))
		finish(devkit__container_of(c->pending.next, pending, node), DEVKIT_ECLOSED, NULL, 0);
	if (c->sock) {
		c->sock->c = NULL;
		uv_close((uv_handle_t *)&c->sock->tcp, sock_closed);
		c->sock = NULL;
	}
	if (c->udp_open) {
		c->udp.data = c;
		uv_close((uv_handle_t *)&c->udp, on_handle_closed);
	}
	c->timer.data = c;
	uv_close((uv_handle_t *)&c->timer, on_handle_closed);
}
