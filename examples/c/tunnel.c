/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A SOCKS5/HTTP proxy through an SSH bastion, in few lines:
 *   example_tunnel USER@HOST[:PORT] IDENTITY KNOWN_HOSTS [SECONDS]
 * then, while it runs: curl --socks5-hostname 127.0.0.1:PORT http://service/
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <devkit.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1; /* only a flag: the poll loop below notices it within 100 ms */
}

static int fail(const char *what, int rc)
{
	const devkit_error *e = devkit_error_last(); /* says what failed and why */

	fprintf(stderr, "%s: %s\n", what, e ? e->message : devkit_strerror(rc));
	return 1;
}

int main(int argc, char **argv)
{
	devkit_ctx *ctx = NULL;
	devkit_tunnel *tunnel = NULL;
	devkit_forward *socks = NULL;
	devkit_tunnel_options topts = DEVKIT_TUNNEL_OPTIONS_INIT;
	devkit_forward_options fopts = DEVKIT_FORWARD_OPTIONS_INIT;
	devkit_event ev;
	int rc, status = 1, seconds = argc > 4 ? atoi(argv[4]) : 30;
	time_t end;

	if (argc < 4) {
		fprintf(stderr, "usage: %s USER@HOST[:PORT] IDENTITY KNOWN_HOSTS [SECONDS]\n", argv[0]);
		return 2;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if ((rc = devkit_ctx_new(&ctx, NULL)) != 0)
		return fail("engine", rc);

	topts.bastion = argv[1];
	topts.identity_file = argv[2];
	topts.known_hosts_file = argv[3];
	if ((rc = devkit_tunnel_open(&tunnel, ctx, &topts)) != 0) {
		fail("tunnel", rc);
		goto out;
	}
	fopts.kind = DEVKIT_FORWARD_DYNAMIC; /* bind_port 0: the system picks a free port */
	if ((rc = devkit_tunnel_add_forward(&socks, tunnel, &fopts)) != 0) {
		fail("socks forward", rc);
		goto out;
	}
	printf("proxy on %s:%d for %d s\n", devkit_forward_address(socks),
		devkit_forward_port(socks), seconds);
	fflush(stdout);

	for (end = time(NULL) + seconds; !stop && time(NULL) < end;) {
		if (devkit_ctx_poll(ctx, &ev, 100) != 1)
			continue;
		printf("%s %s %s\n", devkit_event_type_name(ev.type),
			ev.type == DEVKIT_EVENT_TUNNEL_STATE ? devkit_tunnel_state_name(ev.state) : "",
			ev.message);
		fflush(stdout);
	}
	status = 0;
out:
	devkit_tunnel_free(tunnel); /* closes its forwards too; NULL is fine */
	devkit_ctx_free(ctx);
	return status;
}
