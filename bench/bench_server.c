/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench_server: the far side of every benchmark (source, sink, echo, ping; see
 * bench_common.h), one epoll loop on one loopback port.
 *
 * It runs in its own process, not in the load generator, for two reasons:
 * 10,000 idle connections need 10,000 descriptors on each end and the limit is
 * 20,000 per process; and a separate process is what a real service is, so
 * the kernel schedules it like one.
 *
 *   bench_server [--port N]      prints "port=N" once listening; runs until killed
 */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NAME "bench_server"

typedef struct peer {
	int fd;
	unsigned int events;  /* what epoll watches now */
	unsigned char hdr[9]; /* mode byte and its argument */
	size_t hdr_got;
	uint64_t left;        /* source: bytes still to send */
	uint64_t count;       /* sink: bytes received */
	char *pending;        /* echo: bytes the client has not taken yet */
	size_t pending_len, pending_off;
	int eof;              /* echo: close once pending is flushed */
} peer;

static int epfd;
static char io_buf[BENCH_IO_CHUNK];

static void watch(peer *p, unsigned int events)
{
	if (p->events == events)
		return;
	struct epoll_event ev = { .events = events, .data.ptr = p };
	epoll_ctl(epfd, EPOLL_CTL_MOD, p->fd, &ev);
	p->events = events;
}

static void peer_close(peer *p)
{
	close(p->fd); /* also removes it from epoll */
	free(p->pending);
	free(p);
}

/* How many header bytes this mode needs, mode byte included. */
static size_t header_len(unsigned char mode)
{
	switch (mode) {
	case BENCH_MODE_SOURCE: return 9;
	case BENCH_MODE_PING: return 2;
	default: return 1;
	}
}

/* --- source ----------------------------------------------------------------- */

static int source_write(peer *p)
{
	while (p->left > 0) {
		size_t n = p->left < sizeof(io_buf) ? (size_t)p->left : sizeof(io_buf);
		ssize_t w = send(p->fd, io_buf, n, MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0)
			return -1;
		p->left -= (uint64_t)w;
	}
	/* All sent: FIN, then wait for the client's close. */
	shutdown(p->fd, SHUT_WR);
	watch(p, EPOLLIN);
	return 0;
}

/* --- echo ------------------------------------------------------------------- */

static int echo_flush(peer *p)
{
	while (p->pending_off < p->pending_len) {
		ssize_t w = send(p->fd, p->pending + p->pending_off, p->pending_len - p->pending_off,
			MSG_NOSIGNAL);
		if (w < 0 && errno == EAGAIN)
			return 0;
		if (w <= 0)
			return -1;
		p->pending_off += (size_t)w;
	}
	free(p->pending);
	p->pending = NULL;
	p->pending_len = p->pending_off = 0;
	if (p->eof)
		return -1;
	watch(p, EPOLLIN);
	return 0;
}

/* Write back at once; only what the socket refuses is copied (so 10,000 idle
 * echo connections cost no buffer), and reading stops until it has gone. */
static int echo_bytes(peer *p, const char *data, size_t n)
{
	ssize_t w = send(p->fd, data, n, MSG_NOSIGNAL);
	if (w < 0 && errno != EAGAIN)
		return -1;
	if (w < 0)
		w = 0;
	if ((size_t)w == n)
		return 0;
	p->pending = malloc(n - (size_t)w);
	if (!p->pending)
		return -1;
	memcpy(p->pending, data + w, n - (size_t)w);
	p->pending_len = n - (size_t)w;
	p->pending_off = 0;
	watch(p, EPOLLOUT);
	return 0;
}

/* --- reading ---------------------------------------------------------------- */

static int start_mode(peer *p)
{
	switch (p->hdr[0]) {
	case BENCH_MODE_SOURCE:
		p->left = bench_get_be64(p->hdr + 1);
		watch(p, EPOLLIN | EPOLLOUT);
		return source_write(p);
	case BENCH_MODE_PING:
		send(p->fd, p->hdr + 1, 1, MSG_NOSIGNAL);
		return -1;
	case BENCH_MODE_SINK:
	case BENCH_MODE_ECHO:
		return 0;
	default:
		return -1;
	}
}

static int read_header(peer *p)
{
	size_t need = p->hdr_got == 0 ? 1 : header_len(p->hdr[0]);
	ssize_t n = recv(p->fd, p->hdr + p->hdr_got, need - p->hdr_got, 0);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		return -1;
	p->hdr_got += (size_t)n;
	if (p->hdr_got == 1 && header_len(p->hdr[0]) > 1)
		return read_header(p);
	if (p->hdr_got < header_len(p->hdr[0]))
		return 0;
	return start_mode(p);
}

static int sink_eof(peer *p)
{
	unsigned char b[8];

	bench_put_be64(b, p->count);
	send(p->fd, b, sizeof(b), MSG_NOSIGNAL); /* 8 bytes into an empty socket */
	return -1;
}

static int on_readable(peer *p)
{
	int mode = p->hdr_got > 0 ? p->hdr[0] : 0;
	if (p->pending)
		return 0; /* echo: not a byte more until the client takes what it has */
	if (!mode || p->hdr_got < header_len((unsigned char)mode))
		return read_header(p);
	for (;;) {
		ssize_t n = recv(p->fd, io_buf, sizeof(io_buf), 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (mode == BENCH_MODE_SINK)
				return sink_eof(p);
			return -1;
		}
		if (mode == BENCH_MODE_SINK)
			p->count += (uint64_t)n;
		else if (mode == BENCH_MODE_ECHO) {
			if (echo_bytes(p, io_buf, (size_t)n) < 0)
				return -1;
			if (p->pending)
				return 0;
		}
		/* source: the client has nothing to say after its header; ignore it */
	}
}

static int on_writable(peer *p)
{
	if (p->hdr[0] == BENCH_MODE_SOURCE)
		return source_write(p);
	return echo_flush(p);
}

/* --- accepting -------------------------------------------------------------- */

static void accept_all(int lfd)
{
	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
				fprintf(stderr, NAME ": accept: %s\n", strerror(errno));
			return;
		}
		peer *p = calloc(1, sizeof(*p));
		if (!p) {
			close(fd);
			continue;
		}
		p->fd = fd;
		p->events = EPOLLIN;
		bench_set_nodelay(fd);
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = p };
		if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
			peer_close(p);
	}
}

static int listen_on(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(fd, 4096) != 0)
		bench_die(NAME, errno, "cannot listen on 127.0.0.1:%d", port);
	socklen_t len = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &len);
	printf("port=%d\n", ntohs(sa.sin_port));
	fflush(stdout);
	return fd;
}

static void serve(int lfd)
{
	struct epoll_event evs[256];
	struct epoll_event lev = { .events = EPOLLIN, .data.ptr = NULL };

	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &lev);
	for (;;) {
		int n = epoll_wait(epfd, evs, 256, -1);
		for (int i = 0; i < n; i++) {
			peer *p = evs[i].data.ptr;
			if (!p) {
				accept_all(lfd);
				continue;
			}
			int rc = (evs[i].events & EPOLLERR) ? -1 : 0;
			if (rc == 0 && (evs[i].events & (EPOLLIN | EPOLLHUP)))
				rc = on_readable(p);
			if (rc == 0 && (evs[i].events & EPOLLOUT))
				rc = on_writable(p);
			if (rc < 0)
				peer_close(p);
		}
	}
}

int main(int argc, char **argv)
{
	int port = 0;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc &&
			bench_parse_int(argv[i + 1], 0, 65535, &port) == 0) {
			i++;
			continue;
		}
		fprintf(stderr, "usage: " NAME " [--port N]\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	bench_raise_nofile();
	for (size_t i = 0; i < sizeof(io_buf); i++)
		io_buf[i] = (char)('a' + i % 26);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	serve(listen_on(port));
	return 0;
}
