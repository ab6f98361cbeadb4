/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A link is one forwarded connection: a local TCP socket on one side, an SSH
 * channel on the other. Bytes move straight through scratch buffers; a link
 * only keeps bytes that the other side could not take yet, and while it keeps
 * any it stops reading from the side that produced them. That is the whole of
 * the flow control: the SSH window stops the far side, a stopped read stops
 * the local side.
 *
 * Half-close is passed on in both directions: local FIN -> channel EOF, channel
 * EOF -> shutdown(SHUT_WR) of the local socket. The link ends when both have
 * been passed on, or at once on an error.
 */
#include "tunnel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf);
static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);

static void count_bytes(devkit__link *l, size_t in, size_t out)
{
	devkit_forward *f = l->fwd;
	f->stats.bytes_in += in;
	f->stats.bytes_out += out;
	f->tunnel->stats.bytes_in += in;
	f->tunnel->stats.bytes_out += out;
}

devkit__link *devkit__link_new(devkit_forward *f)
{
	devkit__link *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	devkit_tunnel *t = f->tunnel;
	if (uv_tcp_init(&t->ctx->loop, &l->tcp) != 0) {
		free(l);
		return NULL;
	}
	l->fwd = f;
	l->tcp.data = l;
	l->tcp_open = 1;
	devkit__list_init(&l->node);
	devkit__list_push(&f->links, &l->fwd_node);
	f->handles++;
	t->handles++;
	f->stats.channels_total++;
	f->stats.channels_open++;
	t->stats.channels_total++;
	t->stats.channels_open++;
	return l;
}

static void link_free(devkit__link *l)
{
	if (l->proxy) {
		devkit__proxy_free(l->proxy);
		free(l->proxy);
	}
	devkit__bytes_free(&l->to_remote);
	devkit__bytes_free(&l->to_local);
	devkit__bytes_free(&l->to_local_next);
	free(l->target_host);
	free(l);
}

static void on_closed(uv_handle_t *h)
{
	devkit__link *l = h->data;
	devkit_forward *f = l->fwd;
	devkit_tunnel *t = f->tunnel;
	l->tcp_open = 0;
	devkit__list_remove(&l->fwd_node);
	if (!l->open_pending)
		link_free(l);
	devkit__forward_handle_closed(f);
	devkit__tunnel_handle_closed(t);
}

void devkit__link_close(devkit__link *l, int failed)
{
	if (l->state == LINK_CLOSING)
		return;
	/* A channel open in flight must be seen through; the link's memory stays
	 * until its callback has run (link_opened frees it then). */
	if (l->open_pending && !devkit__open_withdraw(&l->open))
		l->open_pending = 0;
	l->state = LINK_CLOSING;
	devkit_forward *f = l->fwd;
	f->stats.channels_open--;
	f->tunnel->stats.channels_open--;
	if (failed) {
		f->stats.failures++;
		f->tunnel->stats.failures++;
	}
	devkit__list_remove(&l->node);
	if (l->ch) {
		devkit__session_close_channel(l->session, l->ch);
		l->ch = NULL;
	}
	if (l->resolve) {
		devkit__resolve_cancel(l->resolve);
		l->resolve = NULL;
	}
	if (l->tcp_open && !uv_is_closing((uv_handle_t *)&l->tcp)) {
		if (!l->reset || uv_tcp_close_reset(&l->tcp, on_closed) != 0)
			uv_close((uv_handle_t *)&l->tcp, on_closed);
	}
}

static void maybe_finish(devkit__link *l)
{
	if (l->eof_sent && l->local_shut)
		devkit__link_close(l, 0);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
	devkit__link *l = req->data;
	if (l->state == LINK_CLOSING)
		return;
	l->local_shut = 1;
	if (status < 0)
		devkit__link_close(l, 0);
	else
		maybe_finish(l);
}

static void pass_remote_eof(devkit__link *l)
{
	if (l->writing || l->local_shut || l->shutdown_req.data)
		return;
	l->shutdown_req.data = l;
	if (uv_shutdown(&l->shutdown_req, (uv_stream_t *)&l->tcp, on_shutdown) != 0)
		devkit__link_close(l, 0);
}

static void stop_reading(devkit__link *l)
{
	if (!l->reading_local)
		return;
	uv_read_stop((uv_stream_t *)&l->tcp);
	l->reading_local = 0;
}

/* --- channel -> local ------------------------------------------------------- */

static int start_write(devkit__link *l);

static void on_written(uv_write_t *req, int status)
{
	devkit__link *l = req->data;
	l->writing = 0;
	devkit__bytes_reset(&l->to_local);
	if (l->state == LINK_CLOSING)
		return;
	if (status < 0) {
		devkit__link_close(l, 0);
		return;
	}
	if (devkit__bytes_avail(&l->to_local_next) > 0) {
		/* Bytes that came while the write was in flight go next. */
		devkit__bytes done = l->to_local;
		l->to_local = l->to_local_next;
		l->to_local_next = done;
		start_write(l);
		return;
	}
	if (l->remote_eof) {
		pass_remote_eof(l);
		return;
	}
	/* The channel may have more queued in libssh2 (we stopped reading it). */
	devkit__link_pump_remote(l);
	if (l->session)
		devkit__session_flush(l->session);
}

/* Write to the local socket; what the socket cannot take now is queued and
 * the channel is not read again until it has gone. Returns -1 if the link died. */
int devkit__link_write_local(devkit__link *l, const char *data, size_t n)
{
	uv_buf_t b = uv_buf_init((char *)data, (unsigned int)n);
	int w = l->writing ? UV_EAGAIN : uv_try_write((uv_stream_t *)&l->tcp, &b, 1);
	if (w == (int)n)
		return 0;
	if (w < 0 && w != UV_EAGAIN) {
		devkit__link_close(l, 0);
		return -1;
	}
	if (w < 0)
		w = 0;
	/* A buffer under a write in flight must not move: queue behind it. */
	devkit__bytes *q = l->writing ? &l->to_local_next : &l->to_local;
	if (devkit__bytes_append(q, data + w, n - (size_t)w) != 0) {
		devkit__link_close(l, 1);
		return -1;
	}
	return l->writing ? 0 : start_write(l);
}

static int start_write(devkit__link *l)
{
	uv_buf_t q = uv_buf_init((char *)devkit__bytes_head(&l->to_local),
		(unsigned int)devkit__bytes_avail(&l->to_local));
	l->write_req.data = l;
	if (uv_write(&l->write_req, (uv_stream_t *)&l->tcp, &q, 1, on_written) != 0) {
		devkit__link_close(l, 0);
		return -1;
	}
	l->writing = 1;
	return 0;
}

int devkit__link_pump_remote(devkit__link *l)
{
	if (l->state != LINK_OPEN || !l->ch || l->remote_eof)
		return 0;
	char *buf = l->fwd->tunnel->channel_buf;
	int moved = 0;
	while (!l->writing) {
		ssize_t n = libssh2_channel_read(l->ch, buf, DEVKIT__LINK_CHUNK);
		if (n > 0) {
			moved += (int)n;
			count_bytes(l, (size_t)n, 0);
			if (devkit__link_write_local(l, buf, (size_t)n) < 0)
				return moved;
			continue;
		}
		if (n == LIBSSH2_ERROR_EAGAIN)
			break;
		if (n == 0 && !libssh2_channel_eof(l->ch))
			break;
		if (n < 0) {
			char msg[256];
			devkit__ssh_error(l->session, "channel read", msg, sizeof(msg));
			devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_DEBUG, "forward %llu: %s",
				(unsigned long long)l->fwd->id, msg);
		}
		l->remote_eof = 1;
		pass_remote_eof(l);
		break;
	}
	return moved;
}

/* --- local -> channel ------------------------------------------------------- */

/* Give bytes to the channel; returns how many it took, or -1 if the link died. */
static ssize_t write_channel(devkit__link *l, const char *data, size_t n)
{
	size_t done = 0;
	while (done < n && !devkit__session_out_full(l->session)) {
		ssize_t w = libssh2_channel_write(l->ch, data + done, n - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w == 0 || w == LIBSSH2_ERROR_EAGAIN)
			break; /* the far side's window is full */
		devkit__link_close(l, 1);
		return -1;
	}
	count_bytes(l, 0, done);
	return (ssize_t)done;
}

static void after_local_drained(devkit__link *l)
{
	if (l->local_eof && !l->eof_sent) {
		/* EAGAIN during a key re-exchange: the next pump tries again. */
		int rc = libssh2_channel_send_eof(l->ch);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return;
		if (rc < 0) {
			devkit__link_close(l, 1);
			return;
		}
		l->eof_sent = 1;
		maybe_finish(l);
	} else {
		devkit__link_start_local(l);
	}
}

/* Bytes wait for a channel whose far side has stopped reading. If that side
 * has closed the channel altogether, they will never go: end the link, or it
 * would wait forever (the local socket is not read meanwhile, so not even the
 * client's close would be seen). libssh2_channel_wait_closed() answers at
 * once (EAGAIN) until the peer's CLOSE has arrived. */
static int stuck_on_closed_channel(devkit__link *l)
{
	if (!l->remote_eof || libssh2_channel_wait_closed(l->ch) != 0)
		return 0;
	devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_DEBUG,
		"forward %llu: the far side closed with %zu bytes still to send", (unsigned long long)l->fwd->id,
		devkit__bytes_avail(&l->to_remote));
	devkit__link_close(l, 1);
	return 1;
}

int devkit__link_pump_local(devkit__link *l)
{
	if (l->state != LINK_OPEN || !l->ch)
		return 0;
	size_t avail = devkit__bytes_avail(&l->to_remote);
	if (avail == 0) {
		if (l->local_eof && !l->eof_sent)
			after_local_drained(l);
		return 0;
	}
	ssize_t w = write_channel(l, devkit__bytes_head(&l->to_remote), avail);
	if (w < 0)
		return 0;
	devkit__bytes_consume(&l->to_remote, (size_t)w);
	if (devkit__bytes_avail(&l->to_remote) == 0)
		after_local_drained(l);
	else if (w == 0 && stuck_on_closed_channel(l))
		return 0;
	return (int)w;
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	devkit__link *l = h->data;
	(void)suggested;
	*buf = uv_buf_init(l->fwd->tunnel->local_buf, DEVKIT__LOCAL_READ);
}

static void on_read(uv_stream_t *stream, ssize_t nread, const uv_buf_t *buf)
{
	devkit__link *l = stream->data;
	if (nread == 0 || l->state == LINK_CLOSING)
		return;
	if (nread < 0) {
		stop_reading(l);
		if (nread != UV_EOF || l->state == LINK_HANDSHAKE) {
			devkit__link_close(l, 0);
			return;
		}
		l->local_eof = 1;
		if (l->state == LINK_OPEN && devkit__bytes_avail(&l->to_remote) == 0) {
			after_local_drained(l);
			if (l->session)
				devkit__session_flush(l->session);
		}
		return;
	}
	switch (l->state) {
	case LINK_HANDSHAKE:
		devkit__dynamic_on_read(l, buf->base, (size_t)nread);
		return;
	case LINK_OPEN:
		if (devkit__bytes_avail(&l->to_remote) == 0) {
			ssize_t w = write_channel(l, buf->base, (size_t)nread);
			if (w < 0)
				return;
			if (w < nread) {
				if (devkit__bytes_append(&l->to_remote, buf->base + w, (size_t)(nread - w)) != 0) {
					devkit__link_close(l, 1);
					return;
				}
				stop_reading(l);
			}
			devkit__session_flush(l->session);
			return;
		}
		/* bytes are already waiting: queue behind them to keep the order */
		__attribute__((fallthrough));
	default:
		if (devkit__bytes_append(&l->to_remote, buf->base, (size_t)nread) != 0) {
			devkit__link_close(l, 1);
			return;
		}
		if (devkit__bytes_avail(&l->to_remote) >= DEVKIT__LINK_CHUNK)
			stop_reading(l);
		return;
	}
}

void devkit__link_start_local(devkit__link *l)
{
	if (l->reading_local || l->local_eof || l->state == LINK_CLOSING)
		return;
	if (uv_read_start((uv_stream_t *)&l->tcp, on_alloc, on_read) == 0)
		l->reading_local = 1;
}

/* --- opening ---------------------------------------------------------------- */

static void link_opened(devkit__open_req *req, LIBSSH2_CHANNEL *ch, int code, const char *why)
{
	devkit__link *l = devkit__container_of(req, devkit__link, open);
	devkit__session *s = req->session;
	l->open_pending = 0;
	if (l->state == LINK_CLOSING) {
		/* Its client went away while the open was in flight. */
		if (ch)
			devkit__session_close_channel(s, ch);
		if (!l->tcp_open)
			link_free(l);
		return;
	}
	if (!ch) {
		devkit__link_open_failed(l, code, why);
		return;
	}
	l->session = s;
	devkit__link_channel_opened(l, ch);
}

void devkit__link_enqueue_open(devkit__link *l)
{
	l->state = LINK_OPENING;
	l->open.host = l->target_host;
	l->open.port = l->target_port;
	l->open.done = link_opened;
	l->open_pending = 1;
	devkit__open_submit(l->fwd->tunnel, &l->open);
}

/* Close with a TCP reset, so that the client sees ECONNRESET rather than an
 * orderly end of a connection that never reached its destination. */
void devkit__link_reset(devkit__link *l)
{
	l->reset = 1;
	devkit__link_close(l, 1);
}

void devkit__link_reply_and_close(devkit__link *l, devkit__bytes *reply)
{
	if (devkit__bytes_avail(reply) > 0) {
		uv_buf_t b = uv_buf_init((char *)devkit__bytes_head(reply), (unsigned int)devkit__bytes_avail(reply));
		uv_try_write((uv_stream_t *)&l->tcp, &b, 1); /* a few bytes into an empty socket */
	}
	devkit__link_close(l, 1);
}

void devkit__link_open_failed(devkit__link *l, int code, const char *why)
{
	if (l->state == LINK_CLOSING)
		return;
	devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_INFO, "forward %llu: %s",
		(unsigned long long)l->fwd->id, why);
	if (l->fwd->redirect) {
		devkit__link_reset(l); /* a routed process learns of the failure as ECONNRESET */
		return;
	}
	devkit__bytes reply = DEVKIT__BYTES_INIT;
	if (l->proxy)
		devkit__proxy_reply_failure(l->proxy, code, why, &reply);
	devkit__link_reply_and_close(l, &reply);
	devkit__bytes_free(&reply);
}

void devkit__link_channel_opened(devkit__link *l, LIBSSH2_CHANNEL *ch)
{
	devkit__session *s = l->session;
	l->ch = ch;
	l->state = LINK_OPEN;
	devkit__list_push(&s->links, &l->node);
	if (l->proxy) {
		devkit__bytes reply = DEVKIT__BYTES_INIT;
		devkit__proxy_reply_success(l->proxy, &reply);
		if (devkit__bytes_avail(&reply) > 0 &&
			devkit__link_write_local(l, devkit__bytes_head(&reply), devkit__bytes_avail(&reply)) < 0) {
			devkit__bytes_free(&reply);
			return;
		}
		devkit__bytes_free(&reply);
		/* What the client sent after its request goes after it, in order. */
		devkit__bytes rest = DEVKIT__BYTES_INIT;
		devkit__bytes_append(&rest, devkit__bytes_head(&l->proxy->head), devkit__bytes_avail(&l->proxy->head));
		size_t n = 0;
		const char *left = devkit__proxy_leftover(l->proxy, &n);
		devkit__bytes_append(&rest, left, n);
		devkit__bytes_append(&rest, devkit__bytes_head(&l->to_remote), devkit__bytes_avail(&l->to_remote));
		devkit__bytes_free(&l->to_remote);
		l->to_remote = rest;
		devkit__proxy_free(l->proxy);
		free(l->proxy);
		l->proxy = NULL;
	}
	devkit__link_pump_local(l);
	devkit__link_start_local(l);
	devkit__link_pump_remote(l);
}

void devkit__link_session_lost(devkit__link *l)
{
	devkit__list_remove(&l->node);
	l->ch = NULL; /* freed with the session */
	devkit__link_close(l, 1);
}

/* --- remote forwards: a channel came in, connect the local target ------------- */

static void on_connected(uv_connect_t *req, int status)
{
	devkit__link *l = req->data;
	if (l->state == LINK_CLOSING)
		return;
	if (status < 0) {
		devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_INFO,
			"forward %llu: cannot connect to %s:%d: %s", (unsigned long long)l->fwd->id,
			l->fwd->target_host, l->fwd->target_port, uv_strerror(status));
		devkit__link_close(l, 1);
		if (l->session)
			devkit__session_flush(l->session);
		return;
	}
	l->state = LINK_OPEN;
	devkit__link_start_local(l);
	devkit__link_pump_remote(l);
	devkit__session_flush(l->session);
}

static void on_target_resolved(void *data, int status, const char *message,
	const struct sockaddr_storage *addrs, int count)
{
	devkit__link *l = data;
	l->resolve = NULL;
	if (status < 0 || count < 1) {
		devkit__log(l->fwd->tunnel->ctx, DEVKIT_LOG_INFO, "forward %llu: %s",
			(unsigned long long)l->fwd->id, message ? message : "cannot resolve");
		devkit__link_close(l, 1);
		return;
	}
	l->connect_req.data = l;
	if (uv_tcp_connect(&l->connect_req, &l->tcp, (const struct sockaddr *)&addrs[0], on_connected) != 0)
		devkit__link_close(l, 1);
}

void devkit__link_attach_remote(devkit__link *l, devkit__session *s, LIBSSH2_CHANNEL *ch)
{
	l->session = s;
	l->ch = ch;
	l->state = LINK_CONNECTING;
	devkit__list_push(&s->links, &l->node);
	devkit_forward *f = l->fwd;
	if (devkit__resolve_start(f->tunnel->ctx, f->target_host, f->target_port,
			on_target_resolved, l, &l->resolve) < 0)
		devkit__link_close(l, 1);
}
