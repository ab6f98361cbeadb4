/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the parts of `devkit run`: cmd_run.c (options, life cycle),
 * cmd_run_env.c (the routed process's environment), cmd_run_child.c (spawning
 * it, forwarding signals, waiting) and cmd_run_report.c (what goes to
 * stderr). Private to the CLI.
 */
#ifndef DEVKIT_CLI_CMD_RUN_H
#define DEVKIT_CLI_CMD_RUN_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>

#include <devkit.h>

#include "cli_cluster.h"
#include "cli_connect.h"
#include "cli_json.h"
#include "cli_util.h"

struct run_cli {
	/* options; strings are borrowed from argv unless said otherwise */
	struct cli_connect conn;
	struct cli_cluster cluster;  /* no cluster_dns: no remote DNS, routing by CIDR only */
	/* --control: reuse the router of a running `devkit tunnel` instead of
	 * opening a tunnel; then ctx, tunnel, dns and router stay NULL. */
	const char *control;
	const char *conn_flag;       /* long name of the first connection flag given */
	char *cidrs;                 /* comma-joined --route (malloc'd) */
	int env_proxy;
	int have_socks;
	cli_listen_spec socks;       /* the proxy's address (--socks) */
	int json;
	char **cmd;                  /* NULL-terminated, from argv */

	/* run time */
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	devkit_dns *dns;
	devkit_router *router;
	devkit_forward *proxy;       /* owned by the tunnel */
	uint64_t tunnel_id;
	char proxy_address[CLI_HOST_MAX];
	int proxy_port;
	char **envp;                 /* the child's environment (malloc'd array) */
	char *env_owned[16];         /* the variables we made; the rest are environ's */
	size_t n_env_owned;
	char preload[4096];          /* the shim's path */
	pid_t child;
	cli_json out;
};

/* The control socket CMD's shim talks to: --control's, or our router's. */
const char *run_control_path(const struct run_cli *t);

/* cmd_run_env.c: build t->envp from environ. 0, or 1 after reporting why. */
int run_build_env(struct run_cli *t);
void run_free_env(struct run_cli *t);

/* cmd_run_child.c */

/* Remember how the shutdown signals were set up by our parent, and block
 * them (and SIGCHLD) around creating library threads. */
void run_signals_prepare(void);
void run_signals_block(sigset_t *old_mask);
void run_signals_restore(const sigset_t *old_mask);

/* Spawn t->cmd with t->envp, forwarding signals to it from then on. 0, or
 * the exit status to use (126/127, as shells do) after reporting why. */
int run_spawn(struct run_cli *t);

/* Wait for the child while reporting library events; its exit status (the
 * shell's convention: 128+N when it died of signal N). */
int run_wait(struct run_cli *t);

/* cmd_run_report.c: everything goes to stderr; stdout is the command's. */
int run_say(struct run_cli *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_report_ready(struct run_cli *t);
void run_report_event(struct run_cli *t, const devkit_event *ev);
void run_report_exit(struct run_cli *t, int status, int code, int sig);
/* A library failure: "devkit: [context: ]message", and an "error" event with
 * --json. Call right after the failing call: it reads devkit_error_last(). */
void run_report_error(struct run_cli *t, const char *context, int rc);

#endif
