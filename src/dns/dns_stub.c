/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The stub servers: UDP and TCP on the same loopback port. Each query is
 * parsed (anything that is not one well-formed standard query is dropped and
 * counted), answered through dns__lookup, and sent back with the client's ID
 * and its question exactly as it wrote it (case included: some clients check).
 * UDP answers that do not fit what the client can take (512 bytes, or its
 * EDNS size) go out truncated with TC, and the client asks again over TCP.
 */
#include "dns_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A query from a client, until its answer has been sent. */
typedef struct request {
	devkit_dns *d;
	struct client *tcp;            /* NULL for UDP */
	struct sockaddr_storage from;  /* UDP */
	uint16_t max_udp;
	uint8_t *query;
	dns_msg q;
} request;

/* A stub TCP connection; lives until closed and its requests are answered. */
typedef struct client {
	devkit__list node;
	uv_tcp_t tcp;
	devkit_dns *d;
	int refs;                      /* 1 for the open handle + 1 per request */
	int closing;
	uint8_t *rbuf;
	size_t rlen, rcap;
} client;

static void client_unref(client *c)
{
	if (--c->refs > 0)
		return;
	free(c->rbuf);
	free(c);
}

static void client_closed(uv_handle_t *h)
{
	client *c = h->data;
	devkit_dns *d = c->d;
	client_unref(c);
	dns__handle_closed(d);
}

static void client_close(client *c)
{
	if (c->closing)
		return;
	c->closing = 1;
	devkit__list_remove(&c->node);
	uv_close((uv_handle_t *)&c->tcp, client_closed);
}

static void free_request(request *r)
{
	if (r->tcp)
		client_unref(r->tcp);
	dns_msg_clear(&r->q);
	free(r->query);
	free(r);
}

static void on_tcp_write(uv_write_t *w, int status)
{
	free(w->data);
	free(w);
}

static void send_tcp(client *c, const uint8_t *msg, size_t len)
{
	uv_write_t *w = malloc(sizeof(*w));
	uint8_t *frame = malloc(len + 2);
	if (!w || !frame) {
		free(w);
		free(frame);
		return;
	}
	dns_set_u16(frame, (uint16_t)len);
	memcpy(frame + 2, msg, len);
	w->data = frame;
	uv_buf_t b = uv_buf_init((char *)frame, (unsigned)(len + 2));
	if (uv_write(w, (uv_stream_t *)&c->tcp, &b, 1, on_tcp_write) != 0) {
		free(frame);
		free(w);
	}
}

static void send_udp(devkit_dns *d, const struct sockaddr_storage *to, const uint8_t *msg,
	size_t len)
{
	uv_buf_t b = uv_buf_init((char *)msg, (unsigned)len);
	/* Loopback datagrams do not queue; a full socket buffer drops the answer
	 * like a lost datagram, and the client asks again. */
	uv_udp_try_send(d->udp, &b, 1, (const struct sockaddr *)to);
}

static void on_answer(void *data, const uint8_t *resp, size_t len)
{
	request *r = data;
	devkit_dns *d = r->d;
	if (!resp || d->closing || (r->tcp && r->tcp->closing) || len < DNS_HEADER || len > 65535) {
		free_request(r);
		return;
	}
	uint8_t *msg = malloc(len);
	if (!msg) {
		free_request(r);
		return;
	}
	memcpy(msg, resp, len);
	dns_set_u16(msg, r->q.id);
	/* The question as the client wrote it, if it has the same length (same
	 * name in other case); pointers into it stay valid. */
	dns_msg m;
	int parsed = dns_msg_parse(msg, len, &m) == 0;
	if (parsed && m.question_end == r->q.question_end && m.qdcount == 1)
		memcpy(msg + DNS_HEADER, r->query + DNS_HEADER, m.question_end - DNS_HEADER);
	if (r->tcp) {
		send_tcp(r->tcp, msg, len);
	} else if (len > r->max_udp && parsed) {
		dns_out o = { 0 };
		if (dns_build_truncated(&o, msg, &m) == 0)
			send_udp(d, &r->from, o.p, o.len);
		dns_out_free(&o);
	} else {
		send_udp(d, &r->from, msg, len);
	}
	dns_msg_clear(&m);
	free(msg);
	free_request(r);
}

/* Take one message from a client. Returns 0, or -1 if it was dropped. */
static int handle_query(devkit_dns *d, const uint8_t *buf, size_t len, client *tcp,
	const struct sockaddr *from)
{
	d->stats.queries++;
	request *r = calloc(1, sizeof(*r));
	if (!r)
		return -1;
	if (dns_msg_parse(buf, len, &r->q) != 0 || (r->q.flags & DNS_FLAG_QR) ||
		DNS_OPCODE(r->q.flags) != 0 || r->q.qdcount != 1 || r->q.ancount || r->q.nscount ||
		r->q.nrr > 1 || !r->q.qname) {
		d->stats.malformed++;
		devkit__log(d->ctx, DEVKIT_LOG_DEBUG, "dns: dropped a malformed %zu-byte message", len);
		dns_msg_clear(&r->q);
		free(r);
		return -1;
	}
	r->query = malloc(len);
	if (!r->query) {
		dns_msg_clear(&r->q);
		free(r);
		return -1;
	}
	memcpy(r->query, buf, len);
	r->d = d;
	r->max_udp = 512;
	if (r->q.has_edns && r->q.edns_size > 512)
		r->max_udp = r->q.edns_size;
	if (tcp) {
		r->tcp = tcp;
		tcp->refs++;
	} else {
		memcpy(&r->from, from, from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
			: sizeof(struct sockaddr_in));
	}
	dns__lookup(d, r->query, &r->q, on_answer, r);
	return 0;
}

/* --- UDP ------------------------------------------------------------------------ */

static void udp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	devkit_dns *d = h->data;
	*buf = uv_buf_init((char *)d->udp_buf, sizeof(d->udp_buf));
}

static void udp_recv(uv_udp_t *h, ssize_t n, const uv_buf_t *buf, const struct sockaddr *from,
	unsigned flags)
{
	devkit_dns *d = h->data;
	if (n <= 0 || !from || d->closing)
		return;
	if (flags & UV_UDP_PARTIAL) {
		d->stats.queries++;
		d->stats.malformed++;
		return;
	}
	handle_query(d, (const uint8_t *)buf->base, (size_t)n, NULL, from);
}

/* --- TCP ------------------------------------------------------------------------ */

static void tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	client *c = h->data;
	if (c->rcap - c->rlen < 4096) {
		size_t cap = c->rcap ? c->rcap * 2 : 4096;
		if (cap > 2 * 65538) {
			*buf = uv_buf_init(NULL, 0); /* cannot happen: frames are consumed below */
			return;
		}
		uint8_t *p = realloc(c->rbuf, cap);
		if (!p) {
			*buf = uv_buf_init(NULL, 0);
			return;
		}
		c->rbuf = p;
		c->rcap = cap;
	}
	*buf = uv_buf_init((char *)c->rbuf + c->rlen, (unsigned)(c->rcap - c->rlen));
}

static void tcp_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	client *c = s->data;
	if (n < 0) {
		client_close(c);
		return;
	}
	c->rlen += (size_t)n;
	size_t off = 0;
	while (c->rlen - off >= 2 && !c->closing) {
		size_t len = dns_get_u16(c->rbuf + off);
		if (c->rlen - off < 2 + len)
			break;
		handle_query(c->d, c->rbuf + off + 2, len, c, NULL);
		off += 2 + len;
	}
	memmove(c->rbuf, c->rbuf + off, c->rlen - off);
	c->rlen -= off;
}

static void on_connection(uv_stream_t *server, int status)
{
	devkit_dns *d = server->data;
	if (status < 0 || d->closing)
		return;
	client *c = calloc(1, sizeof(*c));
	if (!c)
		return;
	c->d = d;
	c->refs = 1;
	uv_tcp_init(&d->ctx->loop, &c->tcp);
	c->tcp.data = c;
	d->handles++;
	devkit__list_push(&d->clients, &c->node);
	if (uv_accept(server, (uv_stream_t *)&c->tcp) != 0 ||
		uv_read_start((uv_stream_t *)&c->tcp, tcp_alloc, tcp_read) != 0)
		client_close(c);
}

/* --- start and stop --------------------------------------------------------------- */

static void on_closed(uv_handle_t *h)
{
	devkit_dns *d = h->data;
	free(h);
	dns__handle_closed(d);
}

static int bind_both(devkit_dns *d, int port)
{
	struct sockaddr_storage ss = d->bind_addr;
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)port);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)port);
	int rc = uv_udp_bind(d->udp, (const struct sockaddr *)&ss, 0);
	if (rc != 0)
		return rc;
	struct sockaddr_storage bound;
	int blen = sizeof(bound);
	uv_udp_getsockname(d->udp, (struct sockaddr *)&bound, &blen);
	int p = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port
		: ((struct sockaddr_in *)&bound)->sin_port);
	if (ss.ss_family == AF_INET6)
		((struct sockaddr_in6 *)&ss)->sin6_port = htons((uint16_t)p);
	else
		((struct sockaddr_in *)&ss)->sin_port = htons((uint16_t)p);
	rc = uv_tcp_bind(d->listener, (const struct sockaddr *)&ss, 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)d->listener, 128, on_connection);
	if (rc == 0)
		__atomic_store_n(&d->port, p, __ATOMIC_RELAXED);
	return rc;
}

static int init_handles(devkit_dns *d)
{
	d->udp = calloc(1, sizeof(*d->udp));
	d->listener = calloc(1, sizeof(*d->listener));
	if (!d->udp || !d->listener) {
		free(d->udp);
		free(d->listener);
		d->udp = NULL;
		d->listener = NULL;
		return UV_ENOMEM;
	}
	uv_udp_init(&d->ctx->loop, d->udp);
	d->udp->data = d;
	uv_tcp_init(&d->ctx->loop, d->listener);
	d->listener->data = d;
	d->handles += 2;
	return 0;
}

static void close_handles(devkit_dns *d)
{
	if (!d->udp)
		return;
	uv_udp_recv_stop(d->udp);
	uv_close((uv_handle_t *)d->udp, on_closed);
	uv_close((uv_handle_t *)d->listener, on_closed);
	d->udp = NULL;
	d->listener = NULL;
}

int dns__stub_start(devkit_dns *d, char *msg, size_t msglen)
{
	int want = d->port;
	int rc = init_handles(d);
	if (rc == 0)
		rc = bind_both(d, want);
	/* Port 0: the UDP port the system chose may be taken for TCP; try again. */
	for (int i = 0; rc == UV_EADDRINUSE && want == 0 && i < 20; i++) {
		close_handles(d);
		rc = init_handles(d);
		if (rc == 0)
			rc = bind_both(d, 0);
	}
	if (rc != 0) {
		close_handles(d);
		snprintf(msg, msglen, "dns stub: cannot listen on %s port %d (UDP and TCP): %s",
			d->address, want, uv_strerror(rc));
		return rc == UV_EADDRINUSE ? DEVKIT_EEXISTS : rc == UV_EACCES ? DEVKIT_EFORBIDDEN
			: DEVKIT_EIO;
	}
	if (uv_udp_recv_start(d->udp, udp_alloc, udp_recv) != 0) {
		close_handles(d);
		snprintf(msg, msglen, "dns stub: cannot receive on %s", d->address);
		return DEVKIT_EIO;
	}
	return 0;
}

void dns__stub_close(devkit_dns *d)
{
	close_handles(d);
	while (!devkit__list_empty(&d->clients))
		client_close(devkit__container_of(d->clients.next, client, node));
}
