/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Remote forwards (-R) through a real sshd, which runs on this machine: the
 * port it listens on is reachable at 127.0.0.1:<port> here, so a plain client
 * plays the "cloud caller" that connects to the bastion and reaches our local
 * server through the tunnel.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *echo;

static void setup(void)
{
	tt_tunnel_up(&sshd, &ctx, &tunnel);
	echo = fx_echo_start();
	cr_assert_not_null(echo);
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &echo);
}

TestSuite(remote_forward, .init = setup, .fini = teardown, .timeout = 180);

Test(remote_forward, port_zero_is_chosen_by_the_bastion_and_reported)
{
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int port = devkit_forward_port(f);
	cr_assert_gt(port, 0, "devkit_forward_port after asking for port 0: %d", port);
	cr_assert_eq(devkit_forward_kind_of(f), DEVKIT_FORWARD_REMOTE);
	cr_assert_str_eq(devkit_forward_address(f), "127.0.0.1");

	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_FORWARD_READY, 0, devkit_forward_id(f), 5000, &ev), 1,
		"no FORWARD_READY event for the remote forward; saw: %s", tt_events_seen);
	cr_assert_eq(ev.port, port, "FORWARD_READY says port %d, devkit_forward_port %d", ev.port, port);
	cr_assert_eq(ev.tunnel_id, devkit_tunnel_id(tunnel));
	cr_assert_str_eq(ev.address, "127.0.0.1");

	/* A caller on the bastion's side reaches our echo server. */
	int fd = tt_connect(port);
	tt_echo_string(fd, "from the cloud side");
	close(fd);
	fx_server_stats st;
	fx_server_stats_get(echo, &st);
	cr_assert_eq(st.accepted, 1, "the echo server saw %llu connections", (unsigned long long)st.accepted);
}

Test(remote_forward, fixed_port_is_used)
{
	int want = fx_free_port();
	devkit_forward *f = tt_remote_forward(tunnel, want, "127.0.0.1", fx_server_port(echo));
	cr_assert_eq(devkit_forward_port(f), want);
	int fd = tt_connect(want);
	tt_echo_string(fd, "fixed port");
	close(fd);
}

Test(remote_forward, large_echo_is_byte_exact)
{
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int fd = tt_connect(devkit_forward_port(f));
	const uint64_t len = 64ull * 1024 * 1024;
	char why[256];
	long long t0 = fx_now_ms();
	int rc = tt_echo_pattern(fd, 0xbeef, len, 1, 120000, why, sizeof(why));
	cr_log_info("64 MiB echoed through -R in %lld ms", fx_now_ms() - t0);
	close(fd);
	cr_assert_eq(rc, 0, "64 MiB echo through the remote forward: %s", why);
	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.bytes_in, len, "bytes_in %llu", (unsigned long long)st.bytes_in);
	cr_assert_eq(st.bytes_out, len, "bytes_out %llu", (unsigned long long)st.bytes_out);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.channels_total, 1);
}

Test(remote_forward, large_download_from_local_source_is_byte_exact)
{
	/* Our local server sends; the remote caller receives (the direction a
	 * cloud service downloading from the developer's instance takes). */
	const uint64_t len = 128ull * 1024 * 1024, seed = 0xd0d0;
	fx_server *src = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_SOURCE,
		.in_child_process = 1, .source_bytes = len, .source_seed = seed });
	cr_assert_not_null(src);
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(src));
	int fd = tt_connect(devkit_forward_port(f));
	unsigned char got[32], want[32];
	int64_t n = fx_read_to_eof(fd, got, 120000);
	close(fd);
	fx_server_stop(src);
	cr_assert_eq(n, (int64_t)len, "received %lld of %llu bytes", (long long)n, (unsigned long long)len);
	fx_pattern_sha256(seed, len, want);
	cr_assert(memcmp(got, want, 32) == 0, "SHA-256 of what arrived differs from what was sent");
}

Test(remote_forward, refused_local_target_closes_the_remote_client)
{
	fx_server *refused = fx_refused_start();
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(refused));
	int fd = tt_connect(devkit_forward_port(f));
	int closed = fx_wait_closed(fd, TT_WAIT_MS);
	close(fd);
	fx_server_stop(refused);
	cr_assert_eq(closed, 1, "the remote caller's connection stayed open although the local target refused");
	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.failures, 1, "failures %llu", (unsigned long long)st.failures);
	/* The tunnel is unharmed. */
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);
	devkit_forward *g = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	fd = tt_connect(devkit_forward_port(g));
	tt_echo_string(fd, "still fine");
	close(fd);
}

Test(remote_forward, port_in_use_on_the_bastion_is_eexists)
{
	/* sshd cannot listen where our echo server already does. */
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_REMOTE;
	fo.bind_port = fx_server_port(echo);
	fo.target_host = "127.0.0.1";
	fo.target_port = fx_server_port(echo);
	devkit_forward *f = (devkit_forward *)(uintptr_t)1;
	int rc = devkit_tunnel_add_forward(&f, tunnel, &fo);
	cr_assert_eq(rc, DEVKIT_EEXISTS, "got %d (%s): %s", rc, devkit_strerror(rc), tt_errmsg());
	cr_assert_null(f);
	cr_assert(strstr(tt_errmsg(), tt_fmt("%d", fx_server_port(echo))) != NULL,
		"the message should name the port: %s", tt_errmsg());
	/* The session survives a refused request. */
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);
	devkit_forward *g = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int fd = tt_connect(devkit_forward_port(g));
	tt_echo_string(fd, "after a refused request");
	close(fd);
}

Test(remote_forward, forward_free_stops_listening_on_the_bastion)
{
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int port = devkit_forward_port(f);
	int fd = tt_connect(port);
	tt_echo_string(fd, "open before free");
	devkit_forward_free(f);
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1, "an open connection survived devkit_forward_free");
	close(fd);
	/* sshd cancels the listener when asked; give it a moment. */
	long long deadline = fx_now_ms() + 5000;
	int again = -1;
	do {
		again = fx_connect_tcp("127.0.0.1", port);
		if (again < 0)
			break;
		close(again);
		fx_sleep_ms(50);
	} while (fx_now_ms() < deadline);
	cr_assert_lt(again, 0, "the bastion still listens on %d after devkit_forward_free", port);
	cr_assert_eq(fx_server_wait_idle(echo, 5000), 0);
}

Test(remote_forward, many_sequential_callers)
{
	devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int port = devkit_forward_port(f);
	for (int i = 0; i < 200; i++) {
		int fd = tt_connect(port);
		tt_echo_string(fd, tt_fmt("caller %d", i));
		close(fd);
	}
	devkit_forward_stats st = tt_wait_forward_idle(f, 10000);
	cr_assert_eq(st.channels_total, 200, "channels_total %llu", (unsigned long long)st.channels_total);
	cr_assert_eq(st.channels_open, 0, "channels_open %llu", (unsigned long long)st.channels_open);
	cr_assert_eq(st.failures, 0, "failures %llu", (unsigned long long)st.failures);
	cr_assert_eq(fx_server_wait_idle(echo, 5000), 0);
}

Test(remote_forward, added_after_the_session_has_been_up_a_while)
{
	/* A forward added some seconds after the tunnel came up (an application
	 * that starts its server later) must work like one added at once, and
	 * report the port the bastion really listens on. Several, to be sure the
	 * replies are not mixed up. */
	fx_sleep_ms(2500);
	int ports[3];
	for (int i = 0; i < 3; i++) {
		devkit_forward *f = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
		ports[i] = devkit_forward_port(f);
		for (int j = 0; j < i; j++)
			cr_assert_neq(ports[i], ports[j], "two remote forwards report the same port %d", ports[i]);
		int fd = tt_connect(ports[i]);
		tt_echo_string(fd, tt_fmt("late forward %d", i));
		close(fd);
		fx_sleep_ms(1200);
	}
}
