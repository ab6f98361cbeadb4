/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the tunnel subcommand's two halves: cmd_tunnel.c (options,
 * lifecycle, event loop) and tunnel_report.c (what the user or script sees,
 * as text or as JSON lines). Private to the CLI.
 */
#ifndef DEVKIT_CLI_CMD_TUNNEL_H
#define DEVKIT_CLI_CMD_TUNNEL_H

#include <stddef.h>
#include <stdint.h>

#include <devkit.h>

#include "cli_cluster.h"
#include "cli_connect.h"
#include "cli_json.h"
#include "cli_util.h"

struct tunnel_forward {
	devkit_forward_kind kind;
	const char *flag;            /* "--socks", "-L" or "-R", for messages */
	const char *arg;             /* the spec as typed (borrowed from argv) */
	cli_forward_spec spec;       /* DYNAMIC uses only spec.listen */
	devkit_forward *forward;     /* owned by the tunnel; NULL until added */
	uint64_t id;
	char address[CLI_HOST_MAX];  /* where it listens now */
	int port;
	int ready_seen;              /* the first FORWARD_READY is folded into "ready" */
};

struct tunnel_cli {
	/* options; strings are borrowed from argv or the environment */
	struct cli_connect conn;      /* bastion, authentication, verbosity */
	const char *proxy_user;
	const char *proxy_password_env;
	const char *proxy_password;  /* a secret: never printed */
	int allow_non_loopback;
	int json;
	double stats_interval_s;     /* 0: no stats */
	struct tunnel_forward *forwards;
	size_t n_forwards;
	/* --cluster-dns and/or --control: a router (with the remote DNS) that
	 * `devkit run --control` commands share. */
	struct cli_cluster cluster;
	const char *control;         /* NULL: the router's own private path */

	/* run time */
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	devkit_dns *dns;
	devkit_router *router;
	uint64_t tunnel_id;
	cli_json out;
};

/* Every report_* returns 0, or -1 when stdout can no longer be written. */

/* The first line(s): every bound address and port, so a script can read the
 * real ports when 0 was asked. */
int report_ready(struct tunnel_cli *t);

/* One library event, in the user's chosen format. */
int report_event(struct tunnel_cli *t, const devkit_event *ev);

/* Counters of the tunnel and of each forward (--stats-interval). */
int report_stats(struct tunnel_cli *t);

/* A shutdown signal arrived; the tunnel is about to close. */
int report_closing(struct tunnel_cli *t, int sig);

/*
 * A failure: "devkit: [context: ]message" on stderr and, with --json, an
 * {"event":"error",...} line on stdout so a script reading only stdout learns
 * why the stream ended. Call right after the failing library call: it reads
 * devkit_error_last().
 */
void report_error(struct tunnel_cli *t, const char *context, int rc);

/* The forward an event is about, or NULL. */
struct tunnel_forward *tunnel_find_forward(struct tunnel_cli *t, uint64_t id);

#endif
