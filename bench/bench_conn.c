/* SPDX-License-Identifier: Apache-2.0 */
#include "bench_conn.h"

#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

bench_conn *bench_conns_new(int n)
{
	bench_conn *conns = calloc((size_t)n, sizeof(*conns));

	for (int i = 0; conns && i < n; i++)
		conns[i].fd = -1;
	return conns;
}

void bench_conn_watch(int epfd, bench_conn *c, unsigned int events)
{
	struct epoll_event ev = { .events = events, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

void bench_conn_close(int epfd, bench_conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	c->fd = -1;
}

static void conn_fail(int epfd, bench_conn *c)
{
	bench_conn_close(epfd, c);
	c->state = CONN_FAILED;
}

static int conn_start(int epfd, const bench_target *t, bench_conn *c)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)t->port) };

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->got = 0;
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0) {
		c->state = CONN_FAILED;
		return -1;
	}
	bench_set_nodelay(c->fd);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 && errno != EINPROGRESS) {
		conn_fail(epfd, c);
		return -1;
	}
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
	c->state = CONN_CONNECTING;
	return 0;
}

/* Small writes into a fresh socket: they either go whole or the peer is gone. */
static int send_all(int fd, const void *data, size_t n)
{
	return send(fd, data, n, MSG_NOSIGNAL) == (ssize_t)n ? 0 : -1;
}

/* Read until `in` holds `want` bytes: 1 done, 0 more to come, -1 broken. */
static int read_upto(bench_conn *c, size_t want)
{
	while (c->got < want) {
		ssize_t n = recv(c->fd, c->in + c->got, want - c->got, 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->got += (size_t)n;
	}
	return 1;
}

/* Length of a SOCKS5 reply from its first 5 bytes (VER REP RSV ATYP ...). */
static size_t socks_reply_len(const unsigned char *r)
{
	switch (r[3]) {
	case 1: return 10;
	case 4: return 22;
	case 3: return 7 + (size_t)r[4];
	default: return 0;
	}
}

static int socks_send_connect(const bench_target *t, bench_conn *c)
{
	unsigned char req[10] = { 5, 1, 0, 1, 127, 0, 0, 1, 0, 0 };

	req[8] = (unsigned char)(t->dst_port >> 8);
	req[9] = (unsigned char)t->dst_port;
	c->got = 0;
	return send_all(c->fd, req, sizeof(req));
}

/* One step of the handshake: 1 ready, 0 not yet, -1 failed. */
static int conn_step(const bench_target *t, bench_conn *c, int epfd)
{
	static const unsigned char greeting[3] = { 5, 1, 0 }; /* no authentication */
	int r;

	switch (c->state) {
	case CONN_CONNECTING: {
		int err = 0;
		socklen_t len = sizeof(err);
		getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
		if (err)
			return -1;
		if (!t->socks)
			return 1;
		if (send_all(c->fd, greeting, sizeof(greeting)) != 0)
			return -1;
		c->state = CONN_SOCKS_METHOD;
		bench_conn_watch(epfd, c, EPOLLIN);
		return 0;
	}
	case CONN_SOCKS_METHOD:
		r = read_upto(c, 2);
		if (r <= 0)
			return r;
		if (c->in[0] != 5 || c->in[1] != 0 || socks_send_connect(t, c) != 0)
			return -1;
		c->state = CONN_SOCKS_REPLY;
		return 0;
	case CONN_SOCKS_REPLY:
		r = read_upto(c, 5);
		if (r <= 0)
			return r;
		if (c->in[1] != 0 || socks_reply_len(c->in) == 0)
			return -1;
		return read_upto(c, socks_reply_len(c->in));
	default:
		return -1;
	}
}

static int start_next(int epfd, const bench_target *t, bench_conn *conns, int n, int *next)
{
	while (*next < n) {
		bench_conn *c = &conns[(*next)++];
		if (conn_start(epfd, t, c) == 0)
			return 1;
	}
	return 0;
}

int bench_open_conns(int epfd, const bench_target *t, bench_conn *conns, int n, int window,
	const void *hello, size_t hello_len, double timeout_s)
{
	struct epoll_event evs[256];
	int next = 0, in_flight = 0, ready = 0;
	double deadline = bench_now() + timeout_s;

	while (in_flight < window && start_next(epfd, t, conns, n, &next))
		in_flight++;
	while (in_flight > 0 && bench_now() < deadline) {
		int k = epoll_wait(epfd, evs, 256, 100);
		for (int i = 0; i < k; i++) {
			bench_conn *c = evs[i].data.ptr;
			if (c->state == CONN_READY || c->state == CONN_FAILED)
				continue; /* a connection of an earlier phase */
			int r = conn_step(t, c, epfd);
			if (r == 1 && hello_len && send_all(c->fd, hello, hello_len) != 0)
				r = -1;
			if (r == 0)
				continue;
			if (r < 0) {
				conn_fail(epfd, c);
			} else {
				c->state = CONN_READY;
				bench_conn_watch(epfd, c, 0);
				ready++;
			}
			in_flight--;
			if (start_next(epfd, t, conns, n, &next))
				in_flight++;
		}
	}
	for (int i = 0; i < n; i++) {
		if (conns[i].state != CONN_READY && conns[i].state != CONN_FAILED)
			conn_fail(epfd, &conns[i]); /* timed out, or never started */
	}
	return ready;
}
