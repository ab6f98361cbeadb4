/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ctx.h: "public functions are thread-safe". Several application threads use
 * one tunnel at once — adding and freeing forwards, moving bytes, reading
 * stats, describing, polling events — the way an IDE plugin's threads would.
 * Run it under the sanitizers (DEVKIT_SANITIZE) to make it bite harder.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tunnel_test.h"

#define WORKERS 4
#define ROUNDS 40

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *echo;

static void setup(void)
{
	tt_tunnel_up(&sshd, &ctx, &tunnel);
	echo = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_ECHO, .in_child_process = 1 });
	cr_assert_not_null(echo);
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &echo);
}

TestSuite(threads, .init = setup, .fini = teardown, .timeout = 180);

typedef struct worker {
	int id;
	pthread_t th;
	char error[512]; /* empty: fine (Criterion's asserts belong to the main thread) */
	int done;
} worker;

static volatile int stop_readers;

static void *work(void *arg)
{
	worker *w = arg;
	for (int r = 0; r < ROUNDS && !w->error[0]; r++) {
		devkit_forward_options fo;
		devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
		fo.kind = r % 2 ? DEVKIT_FORWARD_DYNAMIC : DEVKIT_FORWARD_LOCAL;
		fo.target_host = "127.0.0.1";
		fo.target_port = fx_server_port(echo);
		devkit_forward *f = NULL;
		int rc = devkit_tunnel_add_forward(&f, tunnel, &fo);
		if (rc != 0) {
			snprintf(w->error, sizeof(w->error), "worker %d round %d: add_forward %d: %s", w->id, r, rc,
				tt_errmsg());
			break;
		}
		for (int c = 0; c < 3; c++) {
			int fd = fx_connect_tcp("127.0.0.1", devkit_forward_port(f));
			if (fd < 0) {
				snprintf(w->error, sizeof(w->error), "worker %d: connect: %s", w->id, strerror(errno));
				break;
			}
			if (fo.kind == DEVKIT_FORWARD_DYNAMIC) {
				char req[64];
				int n = snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n\r\n", fx_server_port(echo));
				char head[512];
				size_t hl = 0;
				fx_write_all(fd, req, (size_t)n);
				while (hl + 1 < sizeof(head) && fx_read_full(fd, head + hl, 1, 10000) == 1) {
					hl++;
					if (hl >= 4 && memcmp(head + hl - 4, "\r\n\r\n", 4) == 0)
						break;
				}
				head[hl] = '\0';
				if (strncmp(head, "HTTP/1.1 200", 12) != 0) {
					snprintf(w->error, sizeof(w->error), "worker %d: CONNECT: %.200s", w->id, head);
					close(fd);
					break;
				}
			}
			char why[256];
			if (tt_echo_pattern(fd, (uint64_t)(w->id * 1000 + r * 10 + c), 20000 + 977 * (uint64_t)c, 1,
					20000, why, sizeof(why)) != 0) {
				snprintf(w->error, sizeof(w->error), "worker %d round %d: echo: %s", w->id, r, why);
				close(fd);
				break;
			}
			close(fd);
		}
		devkit_forward_stats st = DEVKIT_FORWARD_STATS_INIT;
		if (!w->error[0] && devkit_forward_get_stats(f, &st) != 0)
			snprintf(w->error, sizeof(w->error), "worker %d: stats: %s", w->id, tt_errmsg());
		if (!w->error[0] && st.channels_total != 3)
			snprintf(w->error, sizeof(w->error), "worker %d: channels_total %llu on a forward used 3 times",
				w->id, (unsigned long long)st.channels_total);
		devkit_forward_free(f);
	}
	w->done = 1;
	return NULL;
}

typedef struct reader {
	pthread_t th;
	long calls;
	char error[256];
} reader;

static void *read_state(void *arg)
{
	reader *r = arg;
	while (!stop_readers) {
		devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
		if (devkit_tunnel_get_stats(tunnel, &ts) != 0 || ts.state != DEVKIT_TUNNEL_UP) {
			snprintf(r->error, sizeof(r->error), "tunnel stats failed or state %d", ts.state);
			break;
		}
		devkit_buf b = DEVKIT_BUF_INIT;
		if (devkit_tunnel_describe(tunnel, &b) != 0 || !b.ptr || !strstr(b.ptr, "state=up")) {
			snprintf(r->error, sizeof(r->error), "describe: %s", b.ptr ? b.ptr : tt_errmsg());
			devkit_buf_dispose(&b);
			break;
		}
		devkit_buf_dispose(&b);
		devkit_event ev;
		while (devkit_ctx_poll(ctx, &ev, 0) == 1)
			;
		r->calls++;
	}
	return NULL;
}

Test(threads, many_threads_one_tunnel)
{
	static worker w[WORKERS];
	static reader rd[2];
	stop_readers = 0;
	for (int i = 0; i < 2; i++)
		cr_assert_eq(pthread_create(&rd[i].th, NULL, read_state, &rd[i]), 0);
	for (int i = 0; i < WORKERS; i++) {
		w[i].id = i;
		cr_assert_eq(pthread_create(&w[i].th, NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(w[i].th, NULL);
	stop_readers = 1;
	for (int i = 0; i < 2; i++)
		pthread_join(rd[i].th, NULL);
	for (int i = 0; i < WORKERS; i++)
		cr_assert_eq(w[i].error[0], '\0', "%s", w[i].error);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(rd[i].error[0], '\0', "%s", rd[i].error);
	cr_log_info("readers made %ld and %ld rounds of stats/describe/poll", rd[0].calls, rd[1].calls);

	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.forwards, 0, "forwards %llu after every worker freed its own", (unsigned long long)ts.forwards);
	cr_assert_eq(ts.channels_total, WORKERS * ROUNDS * 3, "channels_total %llu", (unsigned long long)ts.channels_total);
	cr_assert_eq(ts.channels_open, 0);
	cr_assert_eq(ts.failures, 0, "failures %llu", (unsigned long long)ts.failures);
}

static void *free_tunnel_later(void *arg)
{
	fx_sleep_ms(300);
	devkit_tunnel_free(arg);
	return NULL;
}

Test(threads, tunnel_freed_while_another_thread_uses_it)
{
	/* One thread frees the tunnel while another is blocked waiting for an
	 * event and a third moves bytes: the waiter gets the CLOSED event, the
	 * mover sees its connection end, nothing crashes. */
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	tt_drain_events(ctx);
	int fd = tt_connect(devkit_forward_port(f));
	tt_echo_string(fd, "before");
	pthread_t th;
	devkit_tunnel *t = tunnel;
	tunnel = NULL; /* the other thread frees it */
	cr_assert_eq(pthread_create(&th, NULL, free_tunnel_later, t), 0);
	devkit_event ev;
	int got = tt_wait_event(ctx, DEVKIT_EVENT_TUNNEL_STATE, DEVKIT_TUNNEL_CLOSED, 0, 5000, &ev);
	pthread_join(th, NULL);
	cr_assert_eq(got, 1, "no CLOSED event; saw %s", tt_events_seen);
	cr_assert_eq(fx_wait_closed(fd, 5000), 1);
	close(fd);
}
