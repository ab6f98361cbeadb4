/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the diagnostics commands: `devkit events`
 * (cmd_diag_events.c), `devkit logs` (cmd_diag_logs.c) and `devkit
 * diagnose` (cmd_diag_report.c). One parser for the three, so that POD, the
 * Kubernetes flags and --json mean the same in each. Private to the CLI.
 */
#ifndef DEVKIT_CLI_CMD_DIAG_H
#define DEVKIT_CLI_CMD_DIAG_H

#include <devkit.h>

#include "cli_json.h"
#include "cli_k8s.h"
#include "cli_util.h"

/* What a command accepts besides the Kubernetes flags and POD. */
enum {
	DIAG_TAKES_JSON = 1,   /* --json */
	DIAG_TAKES_WATCH = 2,  /* -w/--watch */
	DIAG_TAKES_LOGS = 4    /* -c -f --since --since-time --tail -p --timestamps -o */
};

struct diag_cli {
	/* options; strings are borrowed from argv */
	struct cli_k8s k;
	const char *pod;
	int json;
	int watch;
	devkit_logs_options logs;

	/* run time */
	devkit_ctx *ctx;
	devkit_k8s *k8s;
	cli_json out;
};

/* Read and check the whole command line: 0; -1 after --help (exit 0);
 * CLI_EXIT_USAGE after saying why. Nothing here touches the network. */
int diag_parse(struct diag_cli *d, const char *cmd, const char *help, unsigned takes, int argc,
	char **argv);

/* The engine and the client (errors reported, as a JSON event with --json):
 * 0, or CLI_EXIT_FAILURE. */
int diag_open(struct diag_cli *d);
void diag_close(struct diag_cli *d);

/* The namespace used: -n, else the client's. */
const char *diag_namespace(const struct diag_cli *d);

/* A library failure: one line on stderr, and with --json an "error" event
 * on stdout. Returns CLI_EXIT_FAILURE. */
int diag_fail(struct diag_cli *d, int rc);

#endif
