/* SPDX-License-Identifier: Apache-2.0 */
/*
 * 2,000 connections open at the same time through one tunnel, driven by one
 * epoll loop (no thread per connection): each sends its own payload and must
 * get exactly that payload back from the echo server on the far side. The
 * test first brings every connection to "open and echoing" so that all 2,000
 * channels really exist at once, then finishes them all with half-closes.
 * The echo server runs in a child process (net_fixture.h) so that this
 * process's fds are the client's and the library's only.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/epoll.h>
#include <sys/resource.h>

#include "tunnel_test.h"

#define NCONN 2000
#define PAYLOAD 3000       /* bytes per connection, each its own pattern */
#define FIRST_PART 200     /* sent and echoed before the rest, by every connection */

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *echo;

static void setup(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	cr_assert_geq(rl.rlim_cur, 3 * NCONN, "environment: RLIMIT_NOFILE %llu is too low for %d connections",
		(unsigned long long)rl.rlim_cur, NCONN);
	tt_tunnel_up(&sshd, &ctx, &tunnel);
	echo = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_ECHO, .in_child_process = 1 });
	cr_assert_not_null(echo);
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &echo);
}

TestSuite(concurrency, .init = setup, .fini = teardown, .timeout = 300);

typedef struct client {
	int fd;
	size_t sent;       /* bytes of (socks request +) payload sent */
	size_t got;        /* bytes received, SOCKS reply included */
	int shut;
	int done;
	unsigned char head[PAYLOAD + 32]; /* what this connection sends */
	size_t head_len;   /* SOCKS request bytes before the payload */
} client;

typedef struct run {
	client *c;
	int n;
	int socks;         /* speak SOCKS5 first */
	int port;
	char why[512];
} run;

static uint32_t interest(const client *c, size_t limit)
{
	uint32_t ev = EPOLLIN;
	if (!c->shut && c->sent < c->head_len + limit)
		ev |= EPOLLOUT;
	return ev;
}

/* Read what is there; 1 progress, 0 nothing, -1 failure (why set). */
static int client_read(run *r, client *c)
{
	unsigned char buf[8192];
	for (;;) {
		ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			snprintf(r->why, sizeof(r->why), "connection %ld: recv: %s", (long)(c - r->c), strerror(errno));
			return -1;
		}
		if (n == 0) {
			if (c->got == (r->socks ? 12u : 0u) + PAYLOAD && c->shut) {
				c->done = 1;
				return 1;
			}
			snprintf(r->why, sizeof(r->why), "connection %ld: EOF after %zu bytes", (long)(c - r->c), c->got);
			return -1;
		}
		for (ssize_t i = 0; i < n; i++, c->got++) {
			size_t pos = c->got;
			unsigned char want;
			if (r->socks && pos < 12) {
				/* method reply 05 00, then 05 00 00 01 <addr> <port> */
				if (pos == 0 || pos == 2)
					want = 5;
				else if (pos == 1 || pos == 3)
					want = 0;
				else
					continue;
			} else {
				want = c->head[c->head_len + pos - (r->socks ? 12 : 0)];
			}
			if (buf[i] != want) {
				snprintf(r->why, sizeof(r->why), "connection %ld: byte %zu is 0x%02x, want 0x%02x",
					(long)(c - r->c), pos, buf[i], want);
				return -1;
			}
		}
	}
}

static size_t echoed(const run *r, const client *c)
{
	size_t prefix = r->socks ? 12 : 0;
	return c->got > prefix ? c->got - prefix : 0;
}

static int client_write(run *r, client *c, size_t limit)
{
	size_t end = c->head_len + limit;
	while (c->sent < end) {
		ssize_t n = send(c->fd, c->head + c->sent, end - c->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return 0;
		if (n < 0) {
			snprintf(r->why, sizeof(r->why), "connection %ld: send: %s", (long)(c - r->c), strerror(errno));
			return -1;
		}
		c->sent += (size_t)n;
	}
	if (limit == PAYLOAD && !c->shut) {
		shutdown(c->fd, SHUT_WR);
		c->shut = 1;
	}
	return 1;
}

/* Drive every client until `phase_done` holds for all, or the deadline. */
static int drive(run *r, int epfd, size_t limit, int phase, long long deadline)
{
	struct epoll_event evs[512];
	for (int i = 0; i < r->n; i++) {
		if (r->c[i].done)
			continue;
		struct epoll_event ev = { .events = interest(&r->c[i], limit), .data.ptr = &r->c[i] };
		epoll_ctl(epfd, EPOLL_CTL_MOD, r->c[i].fd, &ev);
	}
	for (;;) {
		int pending = 0;
		for (int i = 0; i < r->n; i++) {
			client *c = &r->c[i];
			if (phase == 1 ? echoed(r, c) < FIRST_PART : !c->done)
				pending++;
		}
		if (pending == 0)
			return 0;
		long long left = deadline - fx_now_ms();
		if (left <= 0) {
			snprintf(r->why, sizeof(r->why), "phase %d: %d of %d connections unfinished at the deadline",
				phase, pending, r->n);
			return -1;
		}
		int n = epoll_wait(epfd, evs, 512, (int)(left < 1000 ? left : 1000));
		for (int k = 0; k < n; k++) {
			client *c = evs[k].data.ptr;
			if ((evs[k].events & EPOLLOUT) && client_write(r, c, limit) < 0)
				return -1;
			if ((evs[k].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && client_read(r, c) < 0)
				return -1;
			if (c->done) {
				epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
				close(c->fd);
				c->fd = -1;
				continue;
			}
			struct epoll_event ev = { .events = interest(c, limit), .data.ptr = c };
			epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		}
	}
}

static void run_many(devkit_forward *f, int socks, int target_port)
{
	run r = { .n = NCONN, .socks = socks, .port = devkit_forward_port(f) };
	r.c = calloc(NCONN, sizeof(client));
	cr_assert_not_null(r.c);
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	cr_assert_geq(epfd, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)r.port) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	long long t0 = fx_now_ms();
	for (int i = 0; i < NCONN; i++) {
		client *c = &r.c[i];
		size_t h = 0;
		if (socks) {
			const unsigned char req[] = { 5, 1, 0, 5, 1, 0, 1, 127, 0, 0, 1,
				(unsigned char)(target_port >> 8), (unsigned char)target_port };
			memcpy(c->head, req, sizeof(req));
			h = sizeof(req);
		}
		c->head_len = h;
		fx_pattern_fill(1000 + (uint64_t)i, 0, c->head + h, PAYLOAD);
		snprintf((char *)c->head + h, 12, "#%05d#", i); /* unique even if patterns collided */
		c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		cr_assert_geq(c->fd, 0, "socket %d: %s", i, strerror(errno));
		int rc = connect(c->fd, (struct sockaddr *)&a, sizeof(a));
		cr_assert(rc == 0 || errno == EINPROGRESS, "connect %d: %s", i, strerror(errno));
		struct epoll_event ev = { .events = EPOLLOUT | EPOLLIN, .data.ptr = c };
		cr_assert_eq(epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev), 0);
	}
	/* Socks: the request counts as part of what goes first. */
	int rc = drive(&r, epfd, FIRST_PART, 1, fx_now_ms() + 120000);
	long long t1 = fx_now_ms();
	if (rc == 0) {
		/* Every connection has echoed: all channels exist at once now. */
		devkit_forward_stats st = tt_forward_stats(f);
		fx_server_stats es;
		fx_server_stats_get(echo, &es);
		cr_log_info("%d connections open and echoing after %lld ms: forward channels_open %llu, "
			"echo server open %llu", NCONN, t1 - t0, (unsigned long long)st.channels_open,
			(unsigned long long)es.open);
		cr_expect_eq(st.channels_open, NCONN, "channels_open %llu while %d connections are open",
			(unsigned long long)st.channels_open, NCONN);
		cr_expect_eq(es.open, NCONN, "the echo server has %llu connections, want %d",
			(unsigned long long)es.open, NCONN);
		rc = drive(&r, epfd, PAYLOAD, 2, fx_now_ms() + 120000);
	}
	cr_log_info("%d concurrent connections finished in %lld ms", NCONN, fx_now_ms() - t0);
	for (int i = 0; i < NCONN; i++)
		if (r.c[i].fd >= 0)
			close(r.c[i].fd);
	close(epfd);
	free(r.c);
	cr_assert_eq(rc, 0, "%s", r.why);

	devkit_forward_stats st = tt_wait_forward_idle(f, 30000);
	cr_assert_eq(st.channels_total, NCONN, "channels_total %llu", (unsigned long long)st.channels_total);
	cr_assert_eq(st.channels_open, 0, "channels_open %llu after all closed", (unsigned long long)st.channels_open);
	cr_assert_eq(st.failures, 0, "failures %llu", (unsigned long long)st.failures);
	cr_assert_eq(st.bytes_out, (uint64_t)NCONN * PAYLOAD, "bytes_out %llu", (unsigned long long)st.bytes_out);
	cr_assert_eq(st.bytes_in, (uint64_t)NCONN * PAYLOAD, "bytes_in %llu", (unsigned long long)st.bytes_in);
	cr_assert_eq(fx_server_wait_idle(echo, 30000), 0, "the echo server still has open connections");
}

Test(concurrency, local_forward_2000_at_once)
{
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	run_many(f, 0, 0);
}

Test(concurrency, socks5_2000_at_once)
{
	devkit_forward *f = tt_dynamic_forward(tunnel, NULL, NULL);
	run_many(f, 1, fx_server_port(echo));
}
