/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the registry tests (tests/registry/test_*.c): a context
 * whose events the test reads, a registration with the usual options, waiting
 * for a state, and a separate process holding a registration (to be killed
 * with SIGKILL, as a crashed laptop process would be).
 */
#ifndef DEVKIT_TEST_REGISTRY_TEST_H
#define DEVKIT_TEST_REGISTRY_TEST_H

#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <devkit.h>

#include "etcd_fixture.h"
#include "eureka_fixture.h"
#include "consul_fixture.h"
#include "fixtures.h"
#include "nacos_fixture.h"
#include "zk_fixture.h"

static inline devkit_ctx *rt_ctx(void)
{
	devkit_ctx *ctx = NULL;
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	return ctx;
}

/* Options with what every test sets; the caller adds the rest. */
static inline devkit_registration_options rt_options(const char *url, const char *service,
	int port)
{
	devkit_registration_options o = DEVKIT_REGISTRATION_OPTIONS_INIT;
	o.registry = url;
	o.service = service;
	o.address = "10.1.2.3";
	o.port = port;
	o.timeout_ms = 3000;
	return o;
}

static inline devkit_registration *rt_register(devkit_ctx *ctx,
	const devkit_registration_options *o, int wait_ms)
{
	devkit_registration *r = NULL;
	int rc = devkit_registration_new(&r, ctx, o);
	cr_assert_eq(rc, 0, "devkit_registration_new: %s", devkit_error_last()->message);
	if (wait_ms > 0) {
		rc = devkit_registration_wait(r, wait_ms);
		cr_assert_eq(rc, 0, "not registered: %s", devkit_error_last()->message);
	}
	return r;
}

/* Wait for the registration event `state` of registration `id`; returns 1
 * with *out filled, 0 on timeout. Other events are skipped. */
static inline int rt_wait_event(devkit_ctx *ctx, uint64_t id, int state, int timeout_ms,
	devkit_event *out)
{
	long long deadline = fx_now_ms() + timeout_ms;
	devkit_event ev;
	for (;;) {
		long long left = deadline - fx_now_ms();
		if (left <= 0)
			return 0;
		if (devkit_ctx_poll(ctx, &ev, (int)left) != 1)
			continue;
		if (ev.type == DEVKIT_EVENT_REGISTRATION_STATE && ev.object_id == id && ev.state == state) {
			if (out)
				*out = ev;
			return 1;
		}
	}
}

/* Poll `check(arg)` every 100 ms until it returns 1 or timeout_ms passes. */
static inline int rt_eventually(int (*check)(void *), void *arg, int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	do {
		if (check(arg))
			return 1;
		fx_sleep_ms(100);
	} while (fx_now_ms() < deadline);
	return check(arg);
}

/* The example program that registers and holds (examples/c/register.c). */
typedef struct rt_holder {
	pid_t pid;
	char log[256];
} rt_holder;

/* Start example_register URL SERVICE ADDRESS PORT TTL_MS and wait until it
 * printed "registered". Returns 0, or -1 with its output on stderr. */
static inline int rt_holder_start(rt_holder *h, const char *url, const char *service,
	const char *address, int port, int ttl_ms)
{
	char exe[512], ports[16], ttl[16];
	const char *build = getenv("DEVKIT_BUILD_DIR");
	snprintf(exe, sizeof(exe), "%s/bin/example_register", build ? build : "build");
	snprintf(ports, sizeof(ports), "%d", port);
	snprintf(ttl, sizeof(ttl), "%d", ttl_ms);
	snprintf(h->log, sizeof(h->log), "/tmp/devkit-holder.%d.%lld.log", (int)getpid(),
		fx_now_ms());
	const char *argv[] = { exe, url, service, address, ports, ttl, NULL };
	h->pid = fx_spawn(argv, NULL, h->log);
	if (h->pid <= 0)
		return -1;
	long long deadline = fx_now_ms() + 15000;
	while (fx_now_ms() < deadline) {
		FILE *f = fopen(h->log, "r");
		char line[512];
		int ok = 0;
		while (f && fgets(line, sizeof(line), f))
			if (strncmp(line, "registered:", 11) == 0)
				ok = 1;
		if (f)
			fclose(f);
		if (ok)
			return 0;
		fx_sleep_ms(50);
	}
	fprintf(stderr, "example_register did not register; its output:\n");
	FILE *f = fopen(h->log, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		fputs(line, stderr);
	if (f)
		fclose(f);
	return -1;
}

static inline void rt_holder_kill(rt_holder *h)
{
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		fx_proc_reap(h->pid, 5000);
		h->pid = 0;
	}
	unlink(h->log);
}

#endif
