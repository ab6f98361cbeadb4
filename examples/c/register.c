/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Put a service instance into a registry and keep it there until Ctrl-C:
 *   example_register REGISTRY_URL SERVICE ADDRESS PORT [TTL_MS] [TAG]
 *   example_register etcd://127.0.0.1:2379 orders 10.0.0.7 8080
 * Every state change is printed ("registered", "lost", "registered again").
 * On Ctrl-C the instance is removed at once; killed with SIGKILL, the registry
 * forgets it when its TTL passes.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include <devkit.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1; /* the poll loop below notices it within 100 ms */
}

static int fail(const char *what)
{
	const devkit_error *e = devkit_error_last(); /* says what failed and why */
	fprintf(stderr, "%s: %s\n", what, e ? e->message : "failed");
	return 1;
}

int main(int argc, char **argv)
{
	if (argc < 5) {
		fprintf(stderr, "usage: %s REGISTRY_URL SERVICE ADDRESS PORT [TTL_MS] [TAG]\n", argv[0]);
		return 2;
	}
	devkit_ctx *ctx = NULL;
	devkit_registration *reg = NULL;
	devkit_registration_options opts = DEVKIT_REGISTRATION_OPTIONS_INIT;
	opts.registry = argv[1];
	opts.service = argv[2];
	opts.address = argv[3];
	opts.port = atoi(argv[4]);
	opts.ttl_ms = argc > 5 ? (unsigned int)atoi(argv[5]) : 0;
	opts.tag = argc > 6 ? argv[6] : NULL;
	opts.metadata = "started-by=example_register";

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (devkit_ctx_new(&ctx, NULL) != 0)
		return fail("engine");
	if (devkit_registration_new(&reg, ctx, &opts) != 0) {
		devkit_ctx_free(ctx);
		return fail("registration");
	}
	while (!stop) {
		devkit_event ev;
		if (devkit_ctx_poll(ctx, &ev, 100) != 1 || ev.type != DEVKIT_EVENT_REGISTRATION_STATE)
			continue;
		printf("%s: %s\n", devkit_registration_state_name(ev.state), ev.message);
		fflush(stdout);
		if (ev.state == DEVKIT_REGISTRATION_FAILED)
			break;
	}
	int rc = devkit_registration_close(reg); /* removes the instance */
	printf("%s\n", rc == 0 ? "deregistered" : devkit_error_last()->message);
	devkit_ctx_free(ctx);
	return rc == 0 && stop ? 0 : 1;
}
