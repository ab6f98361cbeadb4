/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Opening connections through a forwarder without blocking: TCP connect to its
 * port, then (for a SOCKS5 port) the SOCKS5 greeting and CONNECT to the bench
 * server, one round trip each, as curl does it. Many connections open at once
 * on one epoll set, with a cap on how many are in flight.
 */
#ifndef BENCH_CONN_H
#define BENCH_CONN_H

#include <stddef.h>
#include <stdint.h>

typedef struct bench_target {
	int port;     /* where the client connects: a -L port, a SOCKS5 port, or the server */
	int socks;    /* 1: speak SOCKS5 and ask for 127.0.0.1:dst_port */
	int dst_port; /* the bench server's port (SOCKS5 only) */
} bench_target;

typedef enum bench_conn_state {
	CONN_IDLE,
	CONN_CONNECTING,
	CONN_SOCKS_METHOD,
	CONN_SOCKS_REPLY,
	CONN_READY,
	CONN_FAILED
} bench_conn_state;

typedef struct bench_conn {
	int fd;
	bench_conn_state state;
	unsigned char in[262]; /* a SOCKS5 reply, at most a 255-byte name */
	size_t got;
	/* for the measurement that uses the connection */
	uint64_t todo, done;
	unsigned char ack[8];
	int finished;
} bench_conn;

/* n connections in state CONN_IDLE, not connected; free() them. */
bench_conn *bench_conns_new(int n);

/*
 * Open conns[0..n) with at most `window` handshakes in flight, sending `hello`
 * on each as soon as it is ready. Returns how many are ready; the others are in
 * state CONN_FAILED with fd -1. Ready connections stay registered on `epfd`
 * (data.ptr = the conn) with no events, for the caller to pick.
 */
int bench_open_conns(int epfd, const bench_target *t, bench_conn *conns, int n, int window,
	const void *hello, size_t hello_len, double timeout_s);

void bench_conn_close(int epfd, bench_conn *c);
void bench_conn_watch(int epfd, bench_conn *c, unsigned int events);

#endif
