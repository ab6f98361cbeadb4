/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tearing down what `devkit up` brought up, in the reverse order: replicas
 * (deleted, waiting until gone), exposes (deregistered, then their reverse
 * forwards), router, DNS, forwards, tunnel, engine, and last the status
 * socket. The same path serves Ctrl-C, a failed bring-up (only what is up is
 * there to close) and a tunnel that is gone for good. Each step is reported;
 * what could not be removed (a registry that could not be told, a replica
 * the API server would not delete) is counted and makes the exit status 1,
 * because the user has to know something was left behind.
 */
#include <stdio.h>
#include <string.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_up.h"

static int close_exposes(struct up_cli *u)
{
	int left = 0;

	for (size_t i = u->n_exposes; i-- > 0;) {
		struct up_expose *e = &u->exposes[i];
		char why[1024], done[CLI_HOST_MAX * 2];
		int rc;

		if (!e->expose)
			continue;
		rc = devkit_expose_close(e->expose);
		if (rc != 0) {
			char text[900];

			cli_lib_error_text(rc, text, sizeof(text));
			snprintf(why, sizeof(why), "deregistering from %s: %s (the entry expires after "
				"its TTL)", e->ro->registry, text);
			left++;
		}
		e->expose = NULL;
		e->reg = NULL;
		up_drain(u);
		snprintf(done, sizeof(done), "deregistered from %s, remote forward removed",
			e->ro->registry);
		up_report_stopped(u, "expose", e->ro->service, rc, rc ? why : done);
	}
	return left;
}

static void close_routing(struct up_cli *u)
{
	char done[UP_SOCK_PATH_MAX + 64];

	if (u->router) {
		snprintf(done, sizeof(done), "stopped, %s removed", devkit_router_control_path(u->router));
		devkit_router_free(u->router);
		u->router = NULL;
		up_report_stopped(u, "router", NULL, 0, done);
	}
	if (u->dns) {
		devkit_dns_free(u->dns);
		u->dns = NULL;
		up_report_stopped(u, "dns", NULL, 0, "stopped");
	}
}

static void close_forwards(struct up_cli *u)
{
	for (size_t i = u->n_forwards; i-- > 0;) {
		struct up_forward *f = &u->forwards[i];
		char name[CLI_HOST_MAX + 32], where[CLI_HOST_MAX + 16];

		if (!f->forward)
			continue;
		devkit_forward_free(f->forward);
		f->forward = NULL;
		snprintf(name, sizeof(name), "%s %s", cli_forward_kind_name(f->opts->kind),
			cli_format_hostport(where, sizeof(where), f->address, f->port));
		up_report_stopped(u, "forward", name, 0, "closed");
	}
}

static const char *end_reason(enum up_end end)
{
	switch (end) {
	case UP_END_DOWN: return "the tunnel is down for good";
	case UP_END_OUTPUT: return "stdout is gone";
	default: return "bring-up failed";
	}
}

int up_tear_down(struct up_cli *u, enum up_end end)
{
	int left = 0, status;

	u->phase = UP_STOPPING;
	u->since = time(NULL);
	if (end == UP_END_OUTPUT)
		cli_errorf("cannot write to stdout; tearing down");
	(void)up_report_closing(u, end == UP_END_SIGNAL ? cli_signal_caught() : 0, end_reason(end));
	up_drain(u);
	left += up_replicas_stop(u);
	left += close_exposes(u);
	close_routing(u);
	close_forwards(u);
	if (u->tunnel) {
		devkit_tunnel_free(u->tunnel);
		u->tunnel = NULL;
		up_report_stopped(u, "tunnel", u->tunnel_opts->bastion, 0, "closed");
	}
	if (u->ctx) {
		up_drain(u);
		devkit_ctx_free(u->ctx);
		u->ctx = NULL;
	}
	up_socket_close(u);
	status = end == UP_END_SIGNAL && left == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	(void)up_report_down(u, status, left);
	return status;
}
