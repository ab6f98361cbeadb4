/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What an application reads about its tunnel: counters that match the bytes
 * it sent and received, events in the queue (with the event fd readable
 * exactly while something is queued, for callers with their own poll loop),
 * the optional event callback, the bounded queue, and describe().
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
	echo = fx_echo_start();
	cr_assert_not_null(echo);
	tt_events_seen[0] = '\0';
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &echo);
}

TestSuite(stats_events, .init = setup, .fini = teardown, .timeout = 120);

static devkit_tunnel *open_default(void)
{
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	return tt_open(ctx, &o);
}

/* Echo exactly `n` bytes of pattern through a new connection to `port`. */
static void echo_bytes(int port, uint64_t seed, uint64_t n)
{
	int fd = tt_connect(port);
	char why[256];
	cr_assert_eq(tt_echo_pattern(fd, seed, n, 1, 30000, why, sizeof(why)), 0, "%s", why);
	close(fd);
}

Test(stats_events, byte_and_connection_counters_match_the_traffic)
{
	ctx = tt_ctx_new();
	tunnel = open_default();
	devkit_forward *a = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	devkit_forward *b = tt_dynamic_forward(tunnel, NULL, NULL);

	echo_bytes(devkit_forward_port(a), 1, 12345);
	echo_bytes(devkit_forward_port(a), 2, 1);
	echo_bytes(devkit_forward_port(a), 3, 3 * 1024 * 1024 + 7);

	/* Through SOCKS: the handshake is not payload, only what follows is. */
	int rep;
	int fd = tt_socks5(devkit_forward_port(b), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "reply %d", rep);
	char why[256];
	cr_assert_eq(tt_echo_pattern(fd, 4, 5000, 0, 30000, why, sizeof(why)), 0, "%s", why);

	/* One connection still open (no half-close yet): counted as open. */
	devkit_forward_stats sb = tt_forward_stats(b);
	cr_assert_eq(sb.channels_open, 1, "channels_open %llu with one connection open",
		(unsigned long long)sb.channels_open);
	close(fd);

	uint64_t a_bytes = 12345 + 1 + 3 * 1024 * 1024 + 7;
	devkit_forward_stats sa = tt_wait_forward_idle(a, 5000);
	sb = tt_wait_forward_idle(b, 5000);
	cr_assert_eq(sa.bytes_out, a_bytes, "forward a bytes_out %llu, sent %llu",
		(unsigned long long)sa.bytes_out, (unsigned long long)a_bytes);
	cr_assert_eq(sa.bytes_in, a_bytes, "forward a bytes_in %llu, received %llu",
		(unsigned long long)sa.bytes_in, (unsigned long long)a_bytes);
	cr_assert_eq(sa.channels_total, 3);
	cr_assert_eq(sa.channels_open, 0);
	cr_assert_eq(sa.failures, 0);
	cr_assert_eq(sb.bytes_out, 5000, "SOCKS forward bytes_out %llu (the handshake is not payload)",
		(unsigned long long)sb.bytes_out);
	cr_assert_eq(sb.bytes_in, 5000, "SOCKS forward bytes_in %llu", (unsigned long long)sb.bytes_in);
	cr_assert_eq(sb.channels_total, 1);

	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0, "%s", tt_errmsg());
	cr_assert_eq(ts.bytes_out, sa.bytes_out + sb.bytes_out, "the tunnel's bytes_out is not the sum");
	cr_assert_eq(ts.bytes_in, sa.bytes_in + sb.bytes_in, "the tunnel's bytes_in is not the sum");
	cr_assert_eq(ts.channels_total, 4);
	cr_assert_eq(ts.channels_open, 0);
	cr_assert_eq(ts.forwards, 2);
	cr_assert_eq(ts.state, DEVKIT_TUNNEL_UP);
	cr_assert_eq(ts.reconnects, 0);

	/* A failed connection is counted as one. */
	fx_server *refused = fx_refused_start();
	fd = tt_socks5(devkit_forward_port(b), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(refused), NULL, NULL, &rep);
	fx_server_stop(refused);
	cr_assert_lt(fd, 0);
	sb = tt_wait_forward_idle(b, 5000);
	cr_assert_eq(sb.failures, 1, "failures %llu after one refused connection", (unsigned long long)sb.failures);
	cr_assert_eq(sb.channels_total, 2);

	devkit_forward_free(b);
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.forwards, 1, "forwards %llu after freeing one", (unsigned long long)ts.forwards);
}

static int readable(int fd, int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	int rc = poll(&p, 1, timeout_ms);
	return rc == 1 && (p.revents & POLLIN);
}

Test(stats_events, event_fd_is_readable_exactly_while_events_are_queued)
{
	ctx = tt_ctx_new();
	int efd = devkit_ctx_event_fd(ctx);
	cr_assert_geq(efd, 0);
	cr_assert_eq(devkit_ctx_event_fd(ctx), efd, "the event fd must not change");
	cr_assert_not(readable(efd, 0), "readable with nothing queued");

	tunnel = open_default();
	cr_assert(readable(efd, 2000), "not readable after the tunnel came up (an UP event is queued)");
	cr_assert(readable(efd, 0), "reading the state must not consume it");
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.type, DEVKIT_EVENT_TUNNEL_STATE, "first event: %s", devkit_event_type_name(ev.type));
	cr_assert_eq(ev.state, DEVKIT_TUNNEL_UP);
	cr_assert_eq(ev.tunnel_id, devkit_tunnel_id(tunnel));
	cr_assert_neq(devkit_tunnel_id(tunnel), 0);
	tt_drain_events(ctx);
	cr_assert_not(readable(efd, 0), "still readable after every event was taken");

	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	cr_assert(readable(efd, 2000), "not readable after a forward started listening");
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.type, DEVKIT_EVENT_FORWARD_READY);
	cr_assert_eq(ev.forward_id, devkit_forward_id(f));
	cr_assert_neq(ev.forward_id, 0);
	cr_assert_eq(ev.port, devkit_forward_port(f));
	cr_assert_str_eq(ev.address, "127.0.0.1");
	cr_assert_eq(ev.tunnel_id, devkit_tunnel_id(tunnel));
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 0);
	cr_assert_not(readable(efd, 0));

	/* Several events queued: readable until the last is taken. */
	devkit_forward *g = tt_dynamic_forward(tunnel, NULL, NULL);
	devkit_forward *h = tt_dynamic_forward(tunnel, NULL, NULL);
	(void)g;
	(void)h;
	cr_assert(readable(efd, 2000));
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert(readable(efd, 0), "one event is still queued");
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_not(readable(efd, 0));

	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	cr_assert(readable(efd, 2000), "no event after devkit_tunnel_free");
	cr_assert_eq(tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_CLOSED, 0, 1000, &ev), 1,
		"no CLOSED state event after devkit_tunnel_free; saw %s", tt_events_seen);
}

typedef struct waiter {
	devkit_ctx *ctx;
	devkit_event ev;
	int rc;
	long long returned_ms;
} waiter;

static void *wait_forever(void *arg)
{
	waiter *w = arg;
	w->rc = devkit_ctx_poll(w->ctx, &w->ev, -1);
	w->returned_ms = fx_now_ms();
	return NULL;
}

Test(stats_events, poll_from_another_thread_wakes_up)
{
	ctx = tt_ctx_new();
	tunnel = open_default();
	tt_drain_events(ctx);
	waiter w = { .ctx = ctx };
	pthread_t th;
	cr_assert_eq(pthread_create(&th, NULL, wait_forever, &w), 0);
	fx_sleep_ms(200);
	long long t0 = fx_now_ms();
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	pthread_join(th, NULL);
	cr_assert_eq(w.rc, 1);
	cr_assert_eq(w.ev.type, DEVKIT_EVENT_FORWARD_READY);
	cr_assert_eq(w.ev.forward_id, devkit_forward_id(f));
	cr_assert_lt(w.returned_ms - t0, 2000);

	/* A poll with a timeout returns 0 in about that time when nothing comes. */
	devkit_event ev;
	t0 = fx_now_ms();
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 300), 0);
	long long ms = fx_now_ms() - t0;
	cr_assert(ms >= 250 && ms < 2000, "devkit_ctx_poll(300 ms) returned after %lld ms", ms);
}

typedef struct collected {
	pthread_mutex_t lock;
	devkit_event evs[64];
	int n;
	pthread_t thread;
} collected;

static void on_event(const devkit_event *ev, void *payload)
{
	collected *c = payload;
	pthread_mutex_lock(&c->lock);
	if (c->n < 64)
		c->evs[c->n++] = *ev;
	c->thread = pthread_self();
	pthread_mutex_unlock(&c->lock);
}

Test(stats_events, event_callback_replaces_the_queue)
{
	static collected c = { .lock = PTHREAD_MUTEX_INITIALIZER };
	devkit_ctx_options co;
	cr_assert_eq(devkit_ctx_options_init(&co, DEVKIT_CTX_OPTIONS_VERSION), 0);
	co.event_cb = on_event;
	co.event_payload = &c;
	cr_assert_eq(devkit_ctx_new(&ctx, &co), 0, "%s", tt_errmsg());
	tunnel = open_default();
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 200), 0, "an event reached the queue although a callback is set");
	pthread_mutex_lock(&c.lock);
	int n = c.n, up = 0, ready = 0;
	for (int i = 0; i < n; i++) {
		up |= c.evs[i].type == DEVKIT_EVENT_TUNNEL_STATE && c.evs[i].state == DEVKIT_TUNNEL_UP;
		ready |= c.evs[i].type == DEVKIT_EVENT_FORWARD_READY && c.evs[i].forward_id == devkit_forward_id(f);
	}
	int on_caller = pthread_equal(c.thread, pthread_self());
	pthread_mutex_unlock(&c.lock);
	cr_assert(up, "the callback did not get the UP event (%d events)", n);
	cr_assert(ready, "the callback did not get FORWARD_READY (%d events)", n);
	cr_assert_not(on_caller, "ctx.h: the callback runs on the I/O thread, not the caller's");
}

Test(stats_events, full_queue_drops_the_oldest_and_says_so)
{
	devkit_ctx_options co;
	cr_assert_eq(devkit_ctx_options_init(&co, DEVKIT_CTX_OPTIONS_VERSION), 0);
	co.event_queue_max = 2;
	cr_assert_eq(devkit_ctx_new(&ctx, &co), 0, "%s", tt_errmsg());
	tunnel = open_default();                                           /* UP */
	devkit_forward *f1 = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo)); /* READY 1 */
	devkit_forward *f2 = tt_dynamic_forward(tunnel, NULL, NULL);      /* READY 2 */
	devkit_forward *f3 = tt_dynamic_forward(tunnel, NULL, NULL);      /* READY 3 */
	(void)f1;
	devkit_event ev;
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.type, DEVKIT_EVENT_EVENTS_DROPPED, "first event %s, expected events-dropped",
		devkit_event_type_name(ev.type));
	cr_assert_eq(ev.attempt, 2, "dropped count %d, expected 2", ev.attempt);
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.forward_id, devkit_forward_id(f2), "the newest events are kept");
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 1);
	cr_assert_eq(ev.forward_id, devkit_forward_id(f3));
	cr_assert_eq(devkit_ctx_poll(ctx, &ev, 0), 0);
}

Test(stats_events, describe_reports_the_session)
{
	ctx = tt_ctx_new();
	tunnel = open_default();
	devkit_buf b = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_tunnel_describe(tunnel, &b), 0, "%s", tt_errmsg());
	cr_assert_not_null(b.ptr);
	cr_assert_eq(strlen(b.ptr), b.size);
	cr_assert(strstr(b.ptr, tt_fmt("127.0.0.1:%d", sshd.port)) != NULL, "%s", b.ptr);
	cr_assert(strstr(b.ptr, sshd.host_fingerprint) != NULL, "%s", b.ptr);
	cr_assert(strstr(b.ptr, "cipher=") != NULL, "%s", b.ptr);
	cr_assert(strstr(b.ptr, "user=root") != NULL, "%s", b.ptr);
	devkit_buf_dispose(&b);
	devkit_buf_dispose(&b); /* twice is harmless */

	cr_assert_str_eq(devkit_event_type_name(DEVKIT_EVENT_TUNNEL_STATE), "tunnel-state");
	cr_assert_str_eq(devkit_tunnel_state_name(DEVKIT_TUNNEL_UP), "up");
	cr_assert_str_eq(devkit_tunnel_state_name(DEVKIT_TUNNEL_RECONNECTING), "reconnecting");
	cr_assert_not_null(devkit_event_type_name(999));
	cr_assert_not_null(devkit_tunnel_state_name(999));
}
