/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Threading stress for ThreadSanitizer. Criterion cannot run under TSan (its
 * fixed-address arena collides with TSan's shadow memory), so this is a plain
 * program registered with CTest under the label "threads".
 *
 * Several application threads at once: call into the engine, poll events,
 * open forwards on one shared tunnel to a real sshd, push bytes through them,
 * read stats, free forwards — while the I/O thread does its work. Any data
 * race between the public API and the loop shows up as a TSan report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <devkit.h>

#include "fixtures.h"

#define THREADS 4
#define ROUNDS 25

#define CHECK(cond, ...) do { if (!(cond)) { fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
	fprintf(stderr, __VA_ARGS__); fprintf(stderr, "\n"); exit(1); } } while (0)

typedef struct shared {
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	int echo_port;
} shared;

static void *worker(void *arg)
{
	shared *sh = arg;
	for (int round = 0; round < ROUNDS; round++) {
		devkit_forward_options fo;
		devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
		fo.kind = DEVKIT_FORWARD_LOCAL;
		fo.target_host = "127.0.0.1";
		fo.target_port = sh->echo_port;
		devkit_forward *f = NULL;
		int rc = devkit_tunnel_add_forward(&f, sh->tunnel, &fo);
		CHECK(rc == 0, "add_forward: %s", devkit_error_last()->message);

		int fd = fx_connect_tcp("127.0.0.1", devkit_forward_port(f));
		CHECK(fd >= 0, "connect to the forward");
		char out[64], in[64];
		int n = snprintf(out, sizeof(out), "thread %p round %d", (void *)pthread_self(), round);
		CHECK(fx_write_all(fd, out, (size_t)n) == 0, "write");
		size_t got = 0;
		while (got < (size_t)n) {
			ssize_t r = read(fd, in + got, (size_t)n - got);
			CHECK(r > 0, "read echo");
			got += (size_t)r;
		}
		CHECK(memcmp(in, out, (size_t)n) == 0, "echo differs");
		close(fd);

		devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
		CHECK(devkit_tunnel_get_stats(sh->tunnel, &ts) == 0, "stats");
		devkit_event ev;
		while (devkit_ctx_poll(sh->ctx, &ev, 0) == 1)
			;
		devkit_forward_free(f);
	}
	return NULL;
}

int main(void)
{
	fx_sshd sshd;
	memset(&sshd, 0, sizeof(sshd));
	CHECK(fx_sshd_start(&sshd, NULL) == 0, "sshd did not start");
	fx_server *echo = fx_echo_start();
	CHECK(echo, "echo server");

	shared sh = { .echo_port = fx_server_port(echo) };
	CHECK(devkit_ctx_new(&sh.ctx, NULL) == 0, "ctx");
	char bastion[128];
	snprintf(bastion, sizeof(bastion), "root@127.0.0.1:%d", sshd.port);
	devkit_tunnel_options to;
	devkit_tunnel_options_init(&to, DEVKIT_TUNNEL_OPTIONS_VERSION);
	to.bastion = bastion;
	to.identity_file = sshd.user_key;
	to.known_hosts_file = sshd.known_hosts;
	to.use_agent = 0;
	CHECK(devkit_tunnel_open(&sh.tunnel, sh.ctx, &to) == 0, "open: %s", devkit_error_last()->message);

	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&th[i], NULL, worker, &sh);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);

	devkit_tunnel_free(sh.tunnel);
	devkit_ctx_free(sh.ctx);
	fx_server_stop(echo);
	fx_sshd_stop(&sshd);
	printf("threads: %d threads x %d rounds: 1 passed, 0 failed\n", THREADS, ROUNDS);
	return 0;
}
