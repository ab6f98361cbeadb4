/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A TCP relay on 127.0.0.1 in front of a server, whose connections the test
 * can cut in the middle of a response -- what a load balancer or proxy with
 * an idle timeout does to a long-lived log stream between the laptop and the
 * API server. The client reaches the server through it with devkit_k8s
 * options' connect_to. One thread, poll(); at most CUT_PROXY_MAX connections.
 */
#ifndef DEVKIT_TESTS_CUT_PROXY_H
#define DEVKIT_TESTS_CUT_PROXY_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2 */
#endif

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CUT_PROXY_MAX 32

typedef struct cut_proxy {
	int listen_fd;
	int port;
	int target_port;
	int wake[2];                 /* self-pipe: cut, stop */
	atomic_int cut_requested;
	atomic_int stop;
	atomic_int cuts;             /* connections cut so far */
	atomic_int accepted;
	int pairs[CUT_PROXY_MAX][2]; /* client fd, server fd; -1 when free */
	const char *rewrite_from;    /* client -> server only; NULL: none */
	const char *rewrite_to;
	atomic_int rewrites;
	pthread_t thread;
} cut_proxy;

static inline void cut_proxy_close_pair(cut_proxy *p, int i)
{
	for (int s = 0; s < 2; s++) {
		if (p->pairs[i][s] >= 0) {
			shutdown(p->pairs[i][s], SHUT_RDWR);
			close(p->pairs[i][s]);
		}
		p->pairs[i][s] = -1;
	}
}

static inline int cut_proxy_connect(int port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static inline void *cut_proxy_run(void *arg)
{
	cut_proxy *p = arg;
	char buf[16384];
	while (!atomic_load(&p->stop)) {
		struct pollfd fds[2 + CUT_PROXY_MAX * 2];
		int map[2 + CUT_PROXY_MAX * 2][2];
		int n = 0;
		fds[n].fd = p->listen_fd;
		fds[n++].events = POLLIN;
		fds[n].fd = p->wake[0];
		fds[n++].events = POLLIN;
		for (int i = 0; i < CUT_PROXY_MAX; i++)
			for (int s = 0; s < 2 && p->pairs[i][0] >= 0; s++) {
				map[n][0] = i;
				map[n][1] = s;
				fds[n].fd = p->pairs[i][s];
				fds[n++].events = POLLIN;
			}
		if (poll(fds, (nfds_t)n, 1000) < 0 && errno != EINTR)
			break;
		if (fds[1].revents) {
			char c[16];
			(void)!read(p->wake[0], c, sizeof(c));
		}
		if (atomic_exchange(&p->cut_requested, 0)) {
			for (int i = 0; i < CUT_PROXY_MAX; i++)
				if (p->pairs[i][0] >= 0) {
					cut_proxy_close_pair(p, i);
					atomic_fetch_add(&p->cuts, 1);
				}
			continue;
		}
		if (fds[0].revents & POLLIN) {
			int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
			int s = c >= 0 ? cut_proxy_connect(p->target_port) : -1;
			int slot = -1;
			for (int i = 0; i < CUT_PROXY_MAX && slot < 0; i++)
				if (p->pairs[i][0] < 0)
					slot = i;
			if (c >= 0 && s >= 0 && slot >= 0) {
				p->pairs[slot][0] = c;
				p->pairs[slot][1] = s;
				atomic_fetch_add(&p->accepted, 1);
			} else {
				if (c >= 0)
					close(c);
				if (s >= 0)
					close(s);
			}
		}
		for (int k = 2; k < n; k++) {
			if (!fds[k].revents)
				continue;
			int i = map[k][0], s = map[k][1];
			if (p->pairs[i][0] < 0)
				continue;
			ssize_t got = read(p->pairs[i][s], buf, sizeof(buf));
			if (got <= 0) {
				cut_proxy_close_pair(p, i);
				continue;
			}
			if (s == 0 && p->rewrite_from) {
				size_t rlen = strlen(p->rewrite_from);
				for (ssize_t j = 0; j + (ssize_t)rlen <= got; j++)
					if (memcmp(buf + j, p->rewrite_from, rlen) == 0) {
						memcpy(buf + j, p->rewrite_to, rlen);
						atomic_fetch_add(&p->rewrites, 1);
					}
			}
			const char *q = buf;
			while (got > 0) {
				ssize_t w = write(p->pairs[i][1 - s], q, (size_t)got);
				if (w <= 0)
					break;
				q += w;
				got -= w;
			}
		}
	}
	for (int i = 0; i < CUT_PROXY_MAX; i++)
		cut_proxy_close_pair(p, i);
	return NULL;
}

/* Listen on 127.0.0.1:<free port> (p->port) and relay to 127.0.0.1:target_port. */
static inline int cut_proxy_start(cut_proxy *p, int target_port)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < CUT_PROXY_MAX; i++)
		p->pairs[i][0] = p->pairs[i][1] = -1;
	p->target_port = target_port;
	p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET };
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof(a);
	if (p->listen_fd < 0 || bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
		listen(p->listen_fd, 16) != 0 ||
		getsockname(p->listen_fd, (struct sockaddr *)&a, &len) != 0 ||
		pipe2(p->wake, O_CLOEXEC) != 0)
		return -1;
	p->port = ntohs(a.sin_port);
	return pthread_create(&p->thread, NULL, cut_proxy_run, p) == 0 ? 0 : -1;
}

/* Cut every connection open now (FIN both ways, as a proxy that gives up). */
static inline void cut_proxy_cut(cut_proxy *p)
{
	atomic_store(&p->cut_requested, 1);
	(void)!write(p->wake[1], "c", 1);
}

static inline void cut_proxy_stop(cut_proxy *p)
{
	atomic_store(&p->stop, 1);
	(void)!write(p->wake[1], "s", 1);
	pthread_join(p->thread, NULL);
	close(p->listen_fd);
	close(p->wake[0]);
	close(p->wake[1]);
}

#endif
