/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Nothing leaks: after 10,000 connections through a forward (open, send,
 * receive, close) and the tunnel and context freed, this process has exactly
 * the fds it had before; the forward's counters say 10,000 connections, none
 * open, none failed. Tunnels opened and closed in a loop, contexts created
 * and freed in a loop, and a tunnel freed under live connections give
 * everything back too.
 *
 * The servers (sshd, the echo server in a child process) are started before
 * the first count: their own fds in this process (the echo listener) are part
 * of the baseline.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *echo;
static int baseline_fds;
static char *baseline_list;

static void setup(void)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	echo = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_ECHO, .in_child_process = 1 });
	cr_assert_not_null(echo);
	/* libuv keeps a process-wide pipe (its signal lock) from the first loop
	 * on, for the life of the process: that is not ours to give back, so
	 * let it exist before counting. */
	devkit_ctx_free(tt_ctx_new());
}

static void teardown(void)
{
	free(baseline_list);
	baseline_list = NULL;
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_server_stop(echo);
	echo = NULL;
	fx_sshd_stop(&sshd);
}

TestSuite(fd_leaks, .init = setup, .fini = teardown, .timeout = 300);

/* Count from here. */
static void mark_fds(void)
{
	free(baseline_list);
	baseline_list = tt_fd_list();
	baseline_fds = fx_count_fds();
}

/* Every fd opened since mark_fds() is closed again; say which are not. */
static void assert_fds(const char *when)
{
	int now = fx_count_fds();
	if (now != baseline_fds) {
		char *list = tt_fd_list();
		cr_log_error("fds before:\n%s\nfds now:\n%s", baseline_list, list);
		free(list);
	}
	cr_assert_eq(now, baseline_fds, "%s: %d fds open, %d before", when, now, baseline_fds);
}

Test(fd_leaks, ten_thousand_sequential_connections)
{
	enum { N = 10000 };
	mark_fds();
	ctx = tt_ctx_new();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	int port = devkit_forward_port(f);

	long long t0 = fx_now_ms();
	uint64_t bytes = 0;
	/* On loopback a connection takes well under a millisecond of work; give
	 * the whole run a generous budget and say how far it got if it is
	 * exceeded, rather than hitting the suite's timeout. */
	const long long budget_ms = 120000;
	for (int i = 0; i < N; i++) {
		if (i % 100 == 0 && fx_now_ms() - t0 > budget_ms)
			cr_assert_fail("only %d of %d sequential connections done in %lld ms (%.1f ms each): "
				"far too slow for loopback", i, N, budget_ms, (double)budget_ms / i);
		char msg[64], buf[64];
		int len = snprintf(msg, sizeof(msg), "connection %05d says hello", i);
		int fd = fx_connect_tcp("127.0.0.1", port);
		cr_assert_geq(fd, 0, "connection %d: connect: %s", i, strerror(errno));
		cr_assert_eq(fx_write_all(fd, msg, (size_t)len), 0, "connection %d: write", i);
		ssize_t n = fx_read_full(fd, buf, (size_t)len, TT_WAIT_MS);
		cr_assert_eq(n, len, "connection %d: read %zd of %d bytes", i, n, len);
		cr_assert(memcmp(buf, msg, (size_t)len) == 0, "connection %d: echo differs", i);
		close(fd);
		bytes += (uint64_t)len;
	}
	cr_log_info("%d sequential connections in %lld ms", N, fx_now_ms() - t0);

	devkit_forward_stats st = tt_wait_forward_idle(f, 30000);
	cr_assert_eq(st.channels_total, N, "channels_total %llu", (unsigned long long)st.channels_total);
	cr_assert_eq(st.channels_open, 0, "channels_open %llu", (unsigned long long)st.channels_open);
	cr_assert_eq(st.failures, 0, "failures %llu", (unsigned long long)st.failures);
	cr_assert_eq(st.bytes_out, bytes, "bytes_out %llu, sent %llu", (unsigned long long)st.bytes_out,
		(unsigned long long)bytes);
	cr_assert_eq(st.bytes_in, bytes, "bytes_in %llu, echoed %llu", (unsigned long long)st.bytes_in,
		(unsigned long long)bytes);
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.channels_total, N);
	cr_assert_eq(ts.channels_open, 0);
	cr_assert_eq(fx_server_wait_idle(echo, 10000), 0, "the echo server still has connections");

	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	assert_fds("after 10,000 connections, tunnel free and ctx free");
	long long deadline = fx_now_ms() + 5000;
	while (fx_sshd_connection_count(&sshd) > 0 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_eq(fx_sshd_connection_count(&sshd), 0, "the SSH session is still open on the server");
}

Test(fd_leaks, tunnels_opened_and_closed_in_a_loop)
{
	mark_fds();
	ctx = tt_ctx_new();
	/* The inner count starts after the first tunnel: libuv keeps one
	 * reserved fd per loop (for EMFILE handling) from the first stream on,
	 * given back by devkit_ctx_free (checked below). */
	char *outer = baseline_list;
	int outer_fds = baseline_fds;
	baseline_list = NULL;
	for (int i = 0; i < 31; i++) {
		if (i == 1)
			mark_fds();
		devkit_tunnel_options o;
		tt_opts(&o, &sshd);
		devkit_tunnel *t = tt_open(ctx, &o);
		devkit_forward *l = tt_local_forward(t, "127.0.0.1", fx_server_port(echo));
		devkit_forward *d = tt_dynamic_forward(t, NULL, NULL);
		devkit_forward *r = tt_remote_forward(t, 0, "127.0.0.1", fx_server_port(echo));
		int fd = tt_connect(devkit_forward_port(l));
		tt_echo_string(fd, "loop");
		close(fd);
		int rep;
		fd = tt_socks5(devkit_forward_port(d), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
		cr_assert_geq(fd, 0, "iteration %d: SOCKS reply %d", i, rep);
		tt_echo_string(fd, "loop socks");
		close(fd);
		fd = tt_connect(devkit_forward_port(r));
		tt_echo_string(fd, "loop remote");
		close(fd);
		if (i % 2)
			devkit_forward_free(l); /* half the time freed explicitly */
		devkit_tunnel_free(t);
		tt_drain_events(ctx);
	}
	assert_fds("after 30 tunnels opened and freed (ctx still running)");
	devkit_ctx_free(ctx);
	ctx = NULL;
	free(baseline_list);
	baseline_list = outer;
	baseline_fds = outer_fds;
	assert_fds("after ctx free");
}

Test(fd_leaks, contexts_created_and_freed_in_a_loop)
{
	mark_fds();
	for (int i = 0; i < 100; i++) {
		devkit_ctx *c = tt_ctx_new();
		devkit_ctx_free(c);
	}
	assert_fds("after 100 contexts");
	/* A context freed with a tunnel still open closes it. */
	devkit_ctx *c = tt_ctx_new();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	devkit_tunnel *t = tt_open(c, &o);
	(void)t;
	devkit_ctx_free(c);
	assert_fds("after a ctx freed with an open tunnel");
}

Test(fd_leaks, tunnel_freed_under_live_connections)
{
	mark_fds();
	ctx = tt_ctx_new();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	int fds[50];
	for (int i = 0; i < 50; i++) {
		fds[i] = tt_connect(devkit_forward_port(f));
		tt_echo_string(fds[i], "live");
	}
	/* A few connections not even accepted by the library yet. */
	int late[5];
	for (int i = 0; i < 5; i++)
		late[i] = tt_connect(devkit_forward_port(f));
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	for (int i = 0; i < 50; i++) {
		cr_assert_eq(fx_wait_closed(fds[i], 5000), 1, "connection %d survived devkit_tunnel_free", i);
		close(fds[i]);
	}
	for (int i = 0; i < 5; i++)
		close(late[i]);
	devkit_ctx_free(ctx);
	ctx = NULL;
	assert_fds("after freeing a tunnel with 50 live connections");
	cr_assert_eq(fx_server_wait_idle(echo, 10000), 0, "far ends were left open");
}
