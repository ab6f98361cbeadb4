/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One SSH connection to the bastion, driven by libssh2 in non-blocking mode on
 * a uv_poll of its socket.
 *
 * libssh2's own socket writes are replaced by a callback that appends to
 * `session->out` and never reports EAGAIN. This matters: when libssh2 gets
 * EAGAIN half-way through sending a packet it keeps that packet in a
 * session-wide slot, and the next send from *any* channel first finishes it
 * and then reports success without sending its own data. With many channels
 * multiplexed on one session that loses data. Owning the output queue removes
 * the hazard, and lets several SSH packets leave in one send() call.
 * Backpressure is kept by not reading local sockets while the queue is above
 * DEVKIT__SESSION_OUT_HIGH.
 */
#include "tunnel_int.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/error.h"

/* Passes over the links per wake-up before yielding to the loop, so a busy
 * stream cannot starve local sockets; the idle handle resumes the work. */
#define PUMP_MAX_PASSES 4

typedef struct closing_channel {
	devkit__list node;
	LIBSSH2_CHANNEL *ch;
} closing_channel;

static void session_fail(devkit__session *s, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void try_next_address(devkit__session *s);

/* --- libssh2 I/O callbacks ------------------------------------------------ */

static LIBSSH2_SEND_FUNC(ssh_send)
{
	devkit__session *s = *abstract;
	(void)socket;
	(void)flags;
	if (s->sock_closed)
		return (ssize_t)length; /* tearing down: the peer will not read it */
	if (devkit__bytes_append(&s->out, buffer, length) != 0)
		return -ENOMEM;
	return (ssize_t)length;
}

static LIBSSH2_RECV_FUNC(ssh_recv)
{
	devkit__session *s = *abstract;
	(void)socket;
	if (s->sock_closed)
		return -ECONNRESET;
	/* libssh2 tries the socket on every channel read; with thousands of
	 * channels that would be thousands of recv() calls per wake-up. Once the
	 * socket said EAGAIN, only the next readable event can change that. */
	if (s->rx_drained)
		return -EAGAIN;
	s->rx_unread = 0;
	ssize_t n = recv(s->fd, buffer, length, flags);
	if (n > 0) {
		/* sshd does not set TCP_NODELAY on a session without a pty, so its
		 * small packets (channel open confirmations, EOF, CLOSE) wait for our
		 * ACK, which Linux delays by up to 40 ms. Ask for quick ACKs again
		 * after every read: the kernel turns the flag off by itself. This
		 * takes a channel open from ~45 ms to well under 1 ms. */
		int one = 1;
		setsockopt(s->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
		s->rx_bytes += (uint64_t)n;
		s->last_rx_ms = devkit__now_ms(s->t);
		return n;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		s->rx_drained = 1;
		return -EAGAIN;
	}
	if (n < 0 && errno == EINTR)
		return -EAGAIN;
	s->sock_closed = 1;
	return n == 0 ? -ECONNRESET : -errno;
}

/* --- small helpers -------------------------------------------------------- */

int devkit__ssh_error(devkit__session *s, const char *what, char *buf, size_t len)
{
	char *msg = NULL;
	int code = s->ssh ? libssh2_session_last_error(s->ssh, &msg, NULL, 0) : 0;
	snprintf(buf, len, "%s: %s", what, msg && *msg ? msg : "unknown libssh2 error");
	return code;
}

int devkit__session_out_full(const devkit__session *s)
{
	return devkit__bytes_avail(&s->out) >= DEVKIT__SESSION_OUT_HIGH;
}

static void free_session_if_done(devkit__session *s)
{
	if (s->handles == 0 && s->stage == STAGE_DEAD) {
		devkit__bytes_free(&s->out);
		free(s);
	}
}

static void on_handle_closed(uv_handle_t *h)
{
	devkit__session *s = h->data;
	devkit_tunnel *t = s->t;
	free(h);
	s->handles--;
	free_session_if_done(s);
	devkit__tunnel_handle_closed(t);
}

static void close_handle(devkit__session *s, uv_handle_t *h)
{
	if (h)
		uv_close(h, on_handle_closed);
}

static void close_socket(devkit__session *s)
{
	if (s->poll) {
		uv_poll_stop(s->poll);
		close_handle(s, (uv_handle_t *)s->poll);
		s->poll = NULL;
		s->poll_events = 0;
	}
	if (s->fd >= 0) {
		close(s->fd);
		s->fd = -1;
	}
}

static void update_poll(devkit__session *s);

static void on_poll(uv_poll_t *p, int status, int events)
{
	devkit__session *s = p->data;
	if (s->stage == STAGE_CONNECTING) {
		/* libuv reports POLLERR as UV_EBADF; the socket knows the real reason. */
		int err = 0;
		socklen_t len = sizeof(err);
		if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
			err = errno;
		if (!err && status < 0)
			err = -status;
		if (err) {
			snprintf(s->connect_error, sizeof(s->connect_error), "%s", strerror(err));
			try_next_address(s);
			return;
		}
		s->stage = STAGE_HANDSHAKE;
	}
	if (status < 0 || (events & UV_READABLE)) {
		s->rx_drained = 0;
		s->rx_unread = 1;
	}
	devkit__session_pump(s);
}

static void update_poll(devkit__session *s)
{
	if (!s->poll || s->stage == STAGE_DEAD)
		return;
	int want = UV_READABLE;
	if (s->stage == STAGE_CONNECTING || devkit__bytes_avail(&s->out) > 0)
		want |= UV_WRITABLE;
	if (want != s->poll_events) {
		s->poll_events = want;
		uv_poll_start(s->poll, want, on_poll);
	}
}

void devkit__session_flush(devkit__session *s)
{
	while (!s->sock_closed && devkit__bytes_avail(&s->out) > 0) {
		ssize_t n = send(s->fd, devkit__bytes_head(&s->out), devkit__bytes_avail(&s->out),
			MSG_NOSIGNAL);
		if (n > 0) {
			devkit__bytes_consume(&s->out, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0 && errno == EINTR)
			continue;
		s->sock_closed = 1;
		snprintf(s->connect_error, sizeof(s->connect_error), "send: %s",
			n < 0 ? strerror(errno) : "connection closed");
	}
	update_poll(s);
}

/* --- connecting ----------------------------------------------------------- */

static void format_addr(const struct sockaddr_storage *ss, char *buf, size_t len)
{
	char ip[64] = "?";
	int port = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const void *)ss;
		uv_ip4_name(a, ip, sizeof(ip));
		port = ntohs(a->sin_port);
		snprintf(buf, len, "%s:%d", ip, port);
	} else {
		const struct sockaddr_in6 *a = (const void *)ss;
		uv_ip6_name(a, ip, sizeof(ip));
		port = ntohs(a->sin6_port);
		snprintf(buf, len, "[%s]:%d", ip, port);
	}
}

static void try_next_address(devkit__session *s)
{
	close_socket(s);
	if (s->addr_index >= s->naddrs) {
		session_fail(s, DEVKIT_ECONNREFUSED, "bastion %s:%d: cannot connect: %s",
			s->t->host, s->t->port, s->connect_error[0] ? s->connect_error : "no address");
		return;
	}
	const struct sockaddr_storage *ss = &s->addrs[s->addr_index++];
	format_addr(ss, s->peer, sizeof(s->peer));
	s->fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(s->connect_error, sizeof(s->connect_error), "socket: %s", strerror(errno));
		try_next_address(s);
		return;
	}
	int one = 1;
	setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	socklen_t alen = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6);
	if (connect(s->fd, (const struct sockaddr *)ss, alen) != 0 && errno != EINPROGRESS) {
		snprintf(s->connect_error, sizeof(s->connect_error), "%s: %s", s->peer, strerror(errno));
		try_next_address(s);
		return;
	}
	s->poll = malloc(sizeof(*s->poll));
	if (!s->poll || uv_poll_init_socket(&s->t->ctx->loop, s->poll, s->fd) != 0) {
		free(s->poll);
		s->poll = NULL;
		session_fail(s, DEVKIT_ENOMEM, "bastion %s: cannot watch the socket", s->peer);
		return;
	}
	s->poll->data = s;
	s->handles++;
	s->t->handles++;
	s->stage = STAGE_CONNECTING;
	update_poll(s);
}

static void on_resolved(void *data, int status, const char *message,
	const struct sockaddr_storage *addrs, int count)
{
	devkit__session *s = data;
	s->resolve = NULL;
	if (status < 0) {
		session_fail(s, status, "bastion %s:%d: %s", s->t->host, s->t->port, message);
		return;
	}
	s->naddrs = count > 8 ? 8 : count;
	memcpy(s->addrs, addrs, (size_t)s->naddrs * sizeof(addrs[0]));
	s->addr_index = 0;
	try_next_address(s);
}

static void on_idle(uv_idle_t *idle)
{
	devkit__session *s = idle->data;
	uv_idle_stop(idle);
	devkit__session_pump(s);
}

static void on_timer(uv_timer_t *timer);

int devkit__session_start(devkit_tunnel *t)
{
	devkit__session *s = calloc(1, sizeof(*s));
	if (!s)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	s->t = t;
	s->fd = -1;
	s->stage = STAGE_RESOLVING;
	devkit__list_init(&s->links);
	devkit__list_init(&s->open_queue);
	devkit__list_init(&s->closing);
	devkit__list_init(&s->listen_queue);
	s->timer = malloc(sizeof(*s->timer));
	s->idle = malloc(sizeof(*s->idle));
	if (!s->timer || !s->idle) {
		free(s->timer);
		free(s->idle);
		free(s);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	uv_timer_init(&t->ctx->loop, s->timer);
	uv_idle_init(&t->ctx->loop, s->idle);
	s->timer->data = s->idle->data = s;
	s->handles += 2;
	t->handles += 2;
	s->deadline_ms = devkit__now_ms(t) + (uint64_t)t->opts.connect_timeout_ms;
	uv_timer_start(s->timer, on_timer, 100, 100);
	t->session = s;

	int rc = devkit__resolve_start(t->ctx, t->host, t->port, on_resolved, s, &s->resolve);
	if (rc < 0) {
		const devkit_error *e = devkit_error_last();
		session_fail(s, rc, "bastion %s:%d: %s", t->host, t->port, e ? e->message : "resolve failed");
	}
	return 0;
}

/* --- failing and tearing down ----------------------------------------------- */

void devkit__session_destroy(devkit__session *s)
{
	if (s->stage == STAGE_DEAD)
		return;
	s->stage = STAGE_DEAD;
	if (s->resolve) {
		devkit__resolve_cancel(s->resolve);
		s->resolve = NULL;
	}
	devkit__list *pos, *tmp;
	devkit__open_fail_all(&s->open_queue, DEVKIT_EIO, "the bastion connection was lost");
	devkit__list_each(pos, tmp, &s->links)
		devkit__link_session_lost(devkit__container_of(pos, devkit__link, node));
	devkit__list_each(pos, tmp, &s->listen_queue)
		devkit__forward_listen_dropped(devkit__container_of(pos, devkit_forward, listen_node));
	devkit__list_each(pos, tmp, &s->t->forwards)
		devkit__forward_session_lost(devkit__container_of(pos, devkit_forward, node));

	if (s->ssh) {
		/* Say goodbye if the socket still works, then make every further libssh2
		 * read fail at once so that freeing does not wait for the peer. */
		if (!s->sock_closed) {
			libssh2_session_disconnect(s->ssh, "closed by libdevkit");
			devkit__session_flush(s);
		}
		s->sock_closed = 1;
		devkit__list_each(pos, tmp, &s->closing) {
			devkit__list_remove(pos);
			free(devkit__container_of(pos, closing_channel, node));
		}
		devkit__auth_free(s); /* the agent must go before its session */
		for (int i = 0; i < 100 && libssh2_session_free(s->ssh) == LIBSSH2_ERROR_EAGAIN; i++)
			;
		s->ssh = NULL;
	}
	devkit__auth_free(s);
	close_socket(s);
	uv_timer_stop(s->timer);
	close_handle(s, (uv_handle_t *)s->timer);
	uv_idle_stop(s->idle);
	close_handle(s, (uv_handle_t *)s->idle);
	s->timer = NULL;
	s->idle = NULL;
	if (s->t->session == s)
		s->t->session = NULL;
	free_session_if_done(s);
}

static void session_fail(devkit__session *s, int code, const char *fmt, ...)
{
	if (s->stage == STAGE_DEAD)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	devkit_tunnel *t = s->t;
	devkit__log(t->ctx, DEVKIT_LOG_INFO, "%s", msg);
	devkit__session_destroy(s);
	devkit__tunnel_session_failed(t, code, msg);
}

/* --- channels ------------------------------------------------------------- */

void devkit__session_close_channel(devkit__session *s, LIBSSH2_CHANNEL *ch)
{
	if (!ch)
		return;
	if (s->stage == STAGE_DEAD || !s->ssh)
		return; /* freed with the session */
	int rc = libssh2_channel_free(ch);
	devkit__session_flush(s); /* the peer learns of the close now, not at the next wake-up */
	if (rc != LIBSSH2_ERROR_EAGAIN)
		return;
	closing_channel *c = malloc(sizeof(*c));
	if (!c)
		return; /* freed with the session */
	c->ch = ch;
	devkit__list_push(&s->closing, &c->node);
}

static void free_closing_channels(devkit__session *s)
{
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &s->closing) {
		closing_channel *c = devkit__container_of(pos, closing_channel, node);
		if (libssh2_channel_free(c->ch) == LIBSSH2_ERROR_EAGAIN)
			continue;
		devkit__list_remove(pos);
		free(c);
	}
}

/* Keepalive: ask for a channel type no server has and take the refusal as
 * the answer. libssh2's own keepalive is a global request whose reply nobody
 * consumes: the replies pile up in libssh2's packet queue and the next
 * tcpip-forward request reads a stale one as its own answer. A refused
 * channel open is consumed by the open itself. It shares the one-open-at-a-
 * time slot, so it only starts when no link is opening (and then those opens
 * prove the bastion alive anyway). Returns 0 while the probe is in flight. */
static int probe_bastion(devkit__session *s)
{
	if (!s->probe_in_flight) {
		if (!s->probe_wanted || !devkit__list_empty(&s->open_queue))
			return 1;
		s->probe_wanted = 0;
		s->probe_in_flight = 1;
	}
	static const char type[] = "keepalive@libdevkit";
	LIBSSH2_CHANNEL *ch = libssh2_channel_open_ex(s->ssh, type, sizeof(type) - 1,
		LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
	if (!ch && libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
		return 0;
	s->probe_in_flight = 0;
	if (ch)
		devkit__session_close_channel(s, ch); /* a server that has it: fine too */
	return 1;
}

static void open_channels(devkit__session *s)
{
	if (probe_bastion(s))
		devkit__open_step(s);
}

static int pump_links(devkit__session *s)
{
	int moved = 0;
	devkit__list *pos, *tmp;
	devkit__list_each(pos, tmp, &s->links) {
		devkit__link *l = devkit__container_of(pos, devkit__link, node);
		if (l->state != LINK_OPEN)
			continue;
		moved += devkit__link_pump_local(l);
		moved += devkit__link_pump_remote(l);
	}
	return moved;
}

/* --- the pump ------------------------------------------------------------- */

static void session_up(devkit__session *s)
{
	devkit_tunnel *t = s->t;
	s->stage = STAGE_UP;
	s->last_rx_ms = devkit__now_ms(t);
	s->last_probe_ms = s->last_rx_ms;
	uv_timer_set_repeat(s->timer, 1000); /* from now on only keepalives */
	const char *m;
	m = libssh2_session_methods(s->ssh, LIBSSH2_METHOD_CRYPT_CS);
	snprintf(t->cipher, sizeof(t->cipher), "%s", m ? m : "?");
	m = libssh2_session_methods(s->ssh, LIBSSH2_METHOD_MAC_CS);
	snprintf(t->mac, sizeof(t->mac), "%s", m ? m : "?");
	m = libssh2_session_methods(s->ssh, LIBSSH2_METHOD_KEX);
	snprintf(t->kex, sizeof(t->kex), "%s", m ? m : "?");
	devkit__log(t->ctx, DEVKIT_LOG_INFO, "bastion %s: session up (%s, %s, %s)", s->peer,
		t->kex, t->cipher, t->mac);
	devkit__tunnel_session_up(t);
}

/* Keep the names of `prefs` this libssh2 supports, in order. libssh2 1.10's
 * own filtering in libssh2_session_method_pref() copies overlapping memory
 * when it drops a name (ASan reports it), so it only ever sees known names. */
static int set_methods(LIBSSH2_SESSION *ssh, int type, const char *prefs)
{
	const char **algs = NULL;
	int n = libssh2_session_supported_algs(ssh, type, &algs);
	if (n <= 0)
		return -1;
	char kept[1024] = "";
	size_t used = 0;
	const char *p = prefs;
	while (*p) {
		size_t len = strcspn(p, ",");
		for (int i = 0; i < n; i++) {
			if (strlen(algs[i]) == len && strncmp(algs[i], p, len) == 0 &&
				used + len + 2 < sizeof(kept)) {
				if (used)
					kept[used++] = ',';
				memcpy(kept + used, p, len);
				used += len;
				kept[used] = '\0';
				break;
			}
		}
		p += len;
		if (*p == ',')
			p++;
	}
	libssh2_free(ssh, algs);
	if (!used)
		return -1;
	return libssh2_session_method_pref(ssh, type, kept);
}

static int step_setup(devkit__session *s)
{
	char msg[1024];
	if (s->stage == STAGE_HANDSHAKE) {
		if (!s->ssh) {
			s->ssh = libssh2_session_init_ex(NULL, NULL, NULL, s);
			if (!s->ssh) {
				session_fail(s, DEVKIT_ENOMEM, "bastion %s: cannot create an SSH session", s->peer);
				return -1;
			}
			libssh2_session_set_blocking(s->ssh, 0);
			libssh2_session_callback_set(s->ssh, LIBSSH2_CALLBACK_SEND, (void *)ssh_send);
			libssh2_session_callback_set(s->ssh, LIBSSH2_CALLBACK_RECV, (void *)ssh_recv);
			devkit_tunnel *t = s->t;
			/* Fastest first; libssh2 drops the names this build lacks. GCM and
			 * chacha20 need libssh2 >= 1.11; 1.10 ends up on aes128-ctr. */
			const char *ciphers = t->opts.ciphers ? t->opts.ciphers :
				"aes128-gcm@openssh.com,aes256-gcm@openssh.com,aes128-ctr,aes192-ctr,"
				"aes256-ctr,chacha20-poly1305@openssh.com";
			const char *macs = t->opts.macs ? t->opts.macs :
				"hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
				"hmac-sha2-256,hmac-sha2-512";
			if (set_methods(s->ssh, LIBSSH2_METHOD_CRYPT_CS, ciphers) ||
				set_methods(s->ssh, LIBSSH2_METHOD_CRYPT_SC, ciphers)) {
				session_fail(s, DEVKIT_EUNSUPPORTED,
					"bastion %s: none of the ciphers '%s' is supported by this libssh2", s->peer, ciphers);
				return -1;
			}
			if (set_methods(s->ssh, LIBSSH2_METHOD_MAC_CS, macs) ||
				set_methods(s->ssh, LIBSSH2_METHOD_MAC_SC, macs)) {
				session_fail(s, DEVKIT_EUNSUPPORTED,
					"bastion %s: none of the MACs '%s' is supported by this libssh2", s->peer, macs);
				return -1;
			}
			if (t->opts.kex && set_methods(s->ssh, LIBSSH2_METHOD_KEX, t->opts.kex)) {
				session_fail(s, DEVKIT_EUNSUPPORTED,
					"bastion %s: none of the key exchanges '%s' is supported", s->peer, t->opts.kex);
				return -1;
			}
		}
		int rc = libssh2_session_handshake(s->ssh, s->fd);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (rc) {
			char *m = NULL;
			libssh2_session_last_error(s->ssh, &m, NULL, 0);
			session_fail(s, rc == LIBSSH2_ERROR_KEX_FAILURE ? DEVKIT_EUNSUPPORTED : DEVKIT_EPROTO,
				"bastion %s: SSH handshake failed: %s%s", s->peer, m ? m : "?",
				s->sock_closed ? " (the server closed the connection)" : "");
			return -1;
		}
		rc = devkit__hostkey_verify(s, msg, sizeof(msg));
		if (rc < 0) {
			session_fail(s, rc, "%s", msg);
			return -1;
		}
		s->stage = STAGE_AUTH;
	}
	if (s->stage == STAGE_AUTH) {
		int rc = devkit__auth_step(s, msg, sizeof(msg));
		if (rc == 0)
			return 0;
		if (rc < 0) {
			session_fail(s, rc, "%s", msg);
			return -1;
		}
		session_up(s);
	}
	return s->stage == STAGE_UP ? 1 : 0;
}

void devkit__session_pump(devkit__session *s)
{
	if (s->in_pump) {
		s->pump_again = 1;
		return;
	}
	s->in_pump = 1;
	int passes = 0;
	do {
		s->pump_again = 0;
		if (s->stage == STAGE_HANDSHAKE || s->stage == STAGE_AUTH) {
			if (step_setup(s) < 0)
				return; /* the session is gone */
		}
		if (s->stage != STAGE_UP)
			break;
		uint64_t rx_before = s->rx_bytes;
		open_channels(s);
		if (s->stage != STAGE_UP)
			break;
		devkit__forward_request_step(s);
		devkit__forward_accept_remote(s);
		int moved = pump_links(s);
		free_closing_channels(s);
		devkit__session_flush(s);
		/* Bytes read from the socket during this pass may be queued in libssh2
		 * for links already visited: go round again. */
		if (s->rx_bytes != rx_before || moved)
			s->pump_again = 1;
		/* Readable, but no channel read it (no open links): only libssh2 can
		 * read the socket, and only inside a call. A probe makes that call,
		 * and it also finds EOF when the bastion went away. */
		if (s->rx_unread && !s->probe_in_flight && !s->sock_closed) {
			s->probe_wanted = 1;
			s->pump_again = 1;
		}
		if (s->sock_closed)
			break;
	} while (s->pump_again && ++passes < PUMP_MAX_PASSES);

	s->in_pump = 0;
	if (s->stage == STAGE_DEAD)
		return;
	devkit__session_flush(s);
	if (s->sock_closed) {
		session_fail(s, DEVKIT_EIO, "bastion %s: connection lost%s%s", s->peer,
			s->connect_error[0] ? ": " : "", s->connect_error);
		return;
	}
	if (s->pump_again)
		uv_idle_start(s->idle, on_idle);
}

/* --- timer: connect timeout, keepalive, dead peer ---------------------------- */

static const char *stage_name(devkit__session_stage st)
{
	switch (st) {
	case STAGE_RESOLVING: return "resolving the name";
	case STAGE_CONNECTING: return "connecting";
	case STAGE_HANDSHAKE: return "in the SSH handshake";
	case STAGE_AUTH: return "authenticating";
	default: return "connected";
	}
}

static void on_timer(uv_timer_t *timer)
{
	devkit__session *s = timer->data;
	devkit_tunnel *t = s->t;
	uint64_t now = devkit__now_ms(t);
	if (s->stage != STAGE_UP) {
		if (now >= s->deadline_ms)
			session_fail(s, DEVKIT_ETIMEOUT, "bastion %s:%d: timed out after %d ms while %s",
				t->host, t->port, t->opts.connect_timeout_ms, stage_name(s->stage));
		return;
	}
	int interval = t->opts.keepalive_interval_s;
	if (interval <= 0)
		return;
	uint64_t interval_ms = (uint64_t)interval * 1000u;
	uint64_t silent = now - s->last_rx_ms;
	if (silent > interval_ms * (uint64_t)(t->opts.keepalive_count_max + 1)) {
		session_fail(s, DEVKIT_ETIMEOUT, "bastion %s: no answer to %d keepalives in %llu ms",
			s->peer, t->opts.keepalive_count_max, (unsigned long long)silent);
		return;
	}
	/* Probe only a quiet session; every byte received proves it alive. */
	if (silent >= interval_ms && now - s->last_probe_ms >= interval_ms) {
		s->last_probe_ms = now;
		s->probe_wanted = 1;
		devkit__session_pump(s);
	}
}
