/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bastion going away and coming back, as a user sees it through events
 * and through their connections: a killed sshd makes the tunnel RECONNECTING,
 * a restarted one makes it UP again, local listeners stayed bound meanwhile
 * (a connection made during the outage is served once the session is back),
 * and remote forwards are requested again on the same port. A frozen bastion
 * (TCP up, nothing answers) is noticed by keepalives; an idle but healthy one
 * is not mistaken for dead.
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
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	ctx = tt_ctx_new();
	echo = fx_echo_start();
	cr_assert_not_null(echo);
	tt_events_seen[0] = '\0';
}

static void teardown(void)
{
	fx_sshd_thaw(&sshd); /* in case a test failed while it was frozen */
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_server_stop(echo);
	echo = NULL;
	fx_sshd_stop(&sshd);
}

TestSuite(reconnect, .init = setup, .fini = teardown, .timeout = 120);

static void fast_reconnect_opts(devkit_tunnel_options *o)
{
	tt_opts(o, &sshd);
	o->connect_timeout_ms = 5000;
	o->reconnect_initial_ms = 100;
	o->reconnect_max_ms = 500;
}

Test(reconnect, sshd_killed_and_restarted)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	devkit_forward *remote = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int lport = devkit_forward_port(local), rport = devkit_forward_port(remote);
	tt_drain_events(ctx);

	int victim = tt_connect(lport);
	tt_echo_string(victim, "before the crash");

	fx_sshd_kill(&sshd);
	long long t0 = fx_now_ms();
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 5000, &ev), 1,
		"no RECONNECTING event within 5 s of the bastion's death; saw: %s", tt_events_seen);
	cr_log_info("RECONNECTING after %lld ms: %s", fx_now_ms() - t0, ev.message);
	cr_assert_eq(ev.tunnel_id, devkit_tunnel_id(tunnel));
	cr_assert_geq(ev.attempt, 1);
	cr_assert_neq(ev.error, 0, "the RECONNECTING event should say why (error code)");
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_RECONNECTING);
	cr_assert_eq(fx_wait_closed(victim, 5000), 1, "a connection of the lost session stayed open");
	close(victim);

	/* Attempts go on while the bastion is away. */
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 5000, &ev), 1,
		"no second RECONNECTING attempt; saw: %s", tt_events_seen);
	cr_assert_geq(ev.attempt, 2, "attempt numbers should grow: %d", ev.attempt);

	/* The local port stayed bound: a client connecting now waits for the
	 * session rather than being refused. */
	int waiter = fx_connect_tcp("127.0.0.1", lport);
	cr_assert_geq(waiter, 0, "the local forward's port was not kept bound during the outage: %s",
		strerror(errno));
	cr_assert_eq(fx_write_all(waiter, "waited", 6), 0);

	cr_assert_eq(fx_sshd_restart(&sshd), 0, "cannot restart sshd on port %d", sshd.port);
	t0 = fx_now_ms();
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_UP, 0, 10000, &ev), 1,
		"no UP event after the bastion came back; saw: %s", tt_events_seen);
	cr_log_info("UP %lld ms after the restart", fx_now_ms() - t0);
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);

	/* The remote forward is requested again, on the same port. */
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_FORWARD_READY, 0, devkit_forward_id(remote), 5000, &ev), 1,
		"no FORWARD_READY for the remote forward after the reconnect; saw: %s", tt_events_seen);
	cr_assert_eq(ev.port, rport, "the remote forward moved from port %d to %d", rport, ev.port);
	cr_assert_eq(devkit_forward_port(remote), rport);

	char buf[8];
	cr_assert_eq(fx_read_full(waiter, buf, 6, TT_WAIT_MS), 6,
		"the connection made during the outage was not served after the reconnect");
	cr_assert(memcmp(buf, "waited", 6) == 0);
	close(waiter);

	int fd = tt_connect(lport);
	tt_echo_string(fd, "after the restart, local");
	close(fd);
	fd = tt_connect(rport);
	tt_echo_string(fd, "after the restart, remote");
	close(fd);

	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.reconnects, 1, "reconnects %llu", (unsigned long long)ts.reconnects);
	cr_assert_eq(ts.state, DEVKIT_TUNNEL_UP);
	cr_assert_eq(ts.forwards, 2);
}

Test(reconnect, dropped_connection_reconnects_at_once)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	tunnel = tt_open(ctx, &o);
	devkit_forward *remote = tt_remote_forward(tunnel, 0, "127.0.0.1", fx_server_port(echo));
	int rport = devkit_forward_port(remote);
	tt_drain_events(ctx);

	cr_assert_geq(fx_sshd_drop_connections(&sshd), 1);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 5000, &ev), 1,
		"saw: %s", tt_events_seen);
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_UP, 0, 5000, &ev), 1,
		"saw: %s", tt_events_seen);
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_FORWARD_READY, 0, devkit_forward_id(remote), 5000, &ev), 1,
		"saw: %s", tt_events_seen);
	cr_assert_eq(ev.port, rport);
	int fd = tt_connect(rport);
	tt_echo_string(fd, "after a drop");
	close(fd);
}

Test(reconnect, keepalive_notices_a_frozen_bastion)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.keepalive_interval_s = 1;
	o.keepalive_count_max = 2;
	o.connect_timeout_ms = 2000;
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	tt_drain_events(ctx);

	fx_sshd_freeze(&sshd);
	long long t0 = fx_now_ms();
	devkit_event ev;
	int got = tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 10000, &ev);
	long long ms = fx_now_ms() - t0;
	cr_assert_eq(got, 1, "a frozen bastion was not noticed within 10 s (keepalive 1 s x 2); saw: %s",
		tt_events_seen);
	cr_log_info("frozen bastion noticed after %lld ms: %s", ms, ev.message);
	cr_assert_lt(ms, 6000, "noticing took %lld ms with keepalive 1 s x 2", ms);
	cr_assert_eq(ev.error, DEVKIT_ETIMEOUT, "error %d (%s): %s", ev.error, devkit_strerror(ev.error),
		ev.message);

	fx_sshd_thaw(&sshd);
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_UP, 0, 15000, &ev), 1,
		"no UP after the bastion thawed; saw: %s", tt_events_seen);
	int fd = tt_connect(devkit_forward_port(local));
	tt_echo_string(fd, "after the thaw");
	close(fd);
}

Test(reconnect, idle_healthy_session_is_not_declared_dead)
{
	/* Keepalives that are answered keep an idle session up: nothing but the
	 * keepalives crosses the wire for several of their intervals. */
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.keepalive_interval_s = 1;
	o.keepalive_count_max = 2;
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	tt_drain_events(ctx);
	devkit_event ev;
	int got = tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, 0, 0, 7000, &ev);
	cr_assert_eq(got, 0, "an idle, healthy session changed state: %s (%s)",
		devkit_tunnel_state_name(ev.state), ev.message);
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);
	int fd = tt_connect(devkit_forward_port(local));
	tt_echo_string(fd, "still up");
	close(fd);
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.reconnects, 0, "reconnects %llu", (unsigned long long)ts.reconnects);
}

Test(reconnect, no_reconnect_means_down)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.reconnect = 0;
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	tt_drain_events(ctx);
	fx_sshd_kill(&sshd);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_DOWN, 0, 5000, &ev), 1,
		"no DOWN event with reconnect disabled; saw: %s", tt_events_seen);
	cr_assert_neq(ev.error, 0);
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_DOWN);
	/* A client of a dead tunnel is closed, not left waiting. */
	int fd = fx_connect_tcp("127.0.0.1", devkit_forward_port(local));
	if (fd >= 0) {
		cr_assert_eq(fx_wait_closed(fd, 5000), 1, "a connection to a DOWN tunnel was left open");
		close(fd);
	}
}

Test(reconnect, gives_up_after_max_attempts)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.reconnect_max_attempts = 3;
	tunnel = tt_open(ctx, &o);
	tt_drain_events(ctx);
	fx_sshd_kill(&sshd);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_DOWN, 0, 10000, &ev), 1,
		"no DOWN after 3 failed attempts; saw: %s", tt_events_seen);
	cr_assert(strstr(tt_events_seen, "reconnecting") != NULL, "no RECONNECTING before DOWN: %s",
		tt_events_seen);
	cr_assert_eq(ev.error, DEVKIT_ECONNREFUSED, "error %d: %s", ev.error, ev.message);
}

Test(reconnect, changed_host_key_on_reconnect_is_down_not_retried)
{
	/* A bastion that comes back with another host key is not trusted, and
	 * retrying will not help: the tunnel goes DOWN and says why. */
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	tunnel = tt_open(ctx, &o);
	tt_drain_events(ctx);
	cr_assert_eq(fx_sshd_replace_host_key(&sshd), 0);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_DOWN, 0, 10000, &ev), 1,
		"saw: %s", tt_events_seen);
	cr_assert_eq(ev.error, DEVKIT_EHOSTKEY, "error %d: %s", ev.error, ev.message);
	cr_assert(strstr(ev.message, sshd.host_fingerprint) != NULL, "%s", ev.message);
}

Test(reconnect, connections_during_an_outage_fail_after_the_connect_timeout)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.connect_timeout_ms = 1500;
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	devkit_forward *socks = tt_dynamic_forward(tunnel, NULL, NULL);
	tt_drain_events(ctx);
	fx_sshd_kill(&sshd);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 5000, &ev), 1,
		"saw: %s", tt_events_seen);

	/* -L: the client waits (the port is still bound), then is closed. */
	long long t0 = fx_now_ms();
	int fd = tt_connect(devkit_forward_port(local));
	fx_write_all(fd, "x", 1);
	cr_assert_eq(fx_wait_closed(fd, 6000), 1, "a -L client was left hanging during the outage");
	long long waited = fx_now_ms() - t0;
	close(fd);
	cr_assert(waited >= 1000 && waited < 5000,
		"the -L client was closed after %lld ms; connect_timeout_ms is 1500", waited);

	/* SOCKS5: an error reply (0x04, host unreachable, for a timeout), not silence. */
	int rep;
	fd = tt_socks5(devkit_forward_port(socks), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	if (fd >= 0)
		close(fd);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, 0x04, "SOCKS5 reply during the outage: %d (want 0x04)", rep);

	/* HTTP CONNECT: 504. */
	char head[2048];
	int status;
	fd = tt_http_connect(devkit_forward_port(socks), tt_fmt("127.0.0.1:%d", fx_server_port(echo)), &status,
		head, sizeof(head));
	if (fd >= 0)
		close(fd);
	cr_assert_eq(status, 504, "CONNECT during the outage answered %d: %s", status, head);

	devkit_forward_stats st = tt_wait_forward_idle(socks, 5000);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.failures, 2, "failures %llu", (unsigned long long)st.failures);

	/* And everything works again once the bastion is back. */
	cr_assert_eq(fx_sshd_restart(&sshd), 0);
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_UP, 0, 10000, &ev), 1,
		"saw: %s", tt_events_seen);
	fd = tt_socks5(devkit_forward_port(socks), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "reply %d after the bastion came back", rep);
	tt_echo_string(fd, "back");
	close(fd);
}

Test(reconnect, free_while_reconnecting_is_prompt)
{
	devkit_tunnel_options o;
	fast_reconnect_opts(&o);
	o.connect_timeout_ms = 10000;
	/* Count with no context running (libuv's process-wide fds exist already:
	 * setup made a context), then check after freeing tunnel and context. */
	devkit_ctx_free(ctx);
	/* The echo fixture's thread makes its epoll fd when it first runs: make
	 * sure it has, or that fd would look like ours. */
	int warm = tt_connect(fx_server_port(echo));
	tt_echo_string(warm, "warm up");
	close(warm);
	cr_assert_eq(fx_server_wait_idle(echo, 5000), 0);
	int fds = fx_count_fds();
	char *fd_before = tt_fd_list();
	ctx = tt_ctx_new();
	tunnel = tt_open(ctx, &o);
	devkit_forward *local = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	int waiting = -1;
	tt_drain_events(ctx);
	/* A frozen bastion: the reconnect attempt hangs in its handshake. */
	fx_sshd_drop_connections(&sshd);
	fx_sshd_freeze(&sshd);
	devkit_event ev;
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_RECONNECTING, 0, 5000, &ev), 1,
		"saw: %s", tt_events_seen);
	waiting = tt_connect(devkit_forward_port(local));
	fx_sleep_ms(500);
	long long t0 = fx_now_ms();
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	long long ms = fx_now_ms() - t0;
	cr_assert_lt(ms, 2000, "devkit_tunnel_free took %lld ms while a reconnect was in progress", ms);
	cr_assert_eq(fx_wait_closed(waiting, 2000), 1, "a waiting client survived devkit_tunnel_free");
	close(waiting);
	fx_sshd_thaw(&sshd);
	devkit_ctx_free(ctx);
	ctx = NULL;
	char *fd_after = tt_fd_list();
	int now = fx_count_fds();
	cr_assert_eq(now, fds, "%d fds after freeing a reconnecting tunnel and its context, %d before;\n"
		"before:\n%s\nafter:\n%s", now, fds, fd_before, fd_after);
	free(fd_before);
	free(fd_after);
}
