/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit status — the status of a running `devkit up`, from another
 * terminal: it asks the status socket that `devkit up` serves (found from the
 * configuration file's path exactly as `devkit up` finds it, or given with
 * --control) and prints the answer. The running `devkit up` renders both
 * forms itself, so this prints what its own live display shows.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_up.h"
#include "commands.h"

#define CMD "status"
#define ASK_TIMEOUT_MS 5000

static const char status_help[] =
	"Usage: devkit status [-f FILE | --control PATH] [--json]\n"
	"\n"
	"Print the status of the `devkit up` running for a configuration file:\n"
	"the tunnel's state, the forwards with their ports and byte counters, the\n"
	"DNS and router, each registration's state and each replica's stage.\n"
	"\n"
	"Options:\n"
	"  -f, --file FILE         the configuration `devkit up` was started with\n"
	"                          (default ./devkit.yaml); its status socket is\n"
	"                          .devkit/up.sock next to it\n"
	"      --control PATH      ask the status socket at PATH instead (the path\n"
	"                          `devkit up` printed)\n"
	"      --json              the status as one JSON object (as in the \"status\"\n"
	"                          events of `devkit up --json`)\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 when the status was printed; 1 when no devkit up answers;\n"
	"2 on a usage error.\n";

enum { OPT_CONTROL = 256, OPT_JSON };

static const struct option long_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

int cmd_status(int argc, char **argv)
{
	const char *file = NULL, *control = NULL;
	char err[600], *answer = NULL;
	struct up_sock_where w;
	int c, rc = 0, json = 0;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f': rc = cli_set_once(&file, optarg, CMD, "--file"); break;
		case OPT_CONTROL: rc = cli_set_once(&control, optarg, CMD, "--control"); break;
		case OPT_JSON: json = 1; break;
		case 'h':
			fputs(status_help, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (file && control)
		return cli_usage(CMD, "-f and --control exclude each other: --control names the "
			"socket itself");
	if (control && !*control)
		return cli_usage(CMD, "--control needs the path of the status socket");
	if (control) {
		memset(&w, 0, sizeof(w));
		snprintf(w.path[0], sizeof(w.path[0]), "%s", control);
		w.n = 1;
	} else {
		if (!file)
			file = UP_DEFAULT_FILE;
		if (up_socket_where(file, &w, err, sizeof(err)) != 0) {
			cli_errorf("%s", err);
			return CLI_EXIT_FAILURE;
		}
	}
	/* In `devkit up`'s order; a place with no socket at all is not the one. */
	rc = -2;
	for (int i = 0; i < w.n && rc == -2; i++)
		rc = up_socket_ask(w.path[i], json ? "json" : "text", ASK_TIMEOUT_MS, &answer, err,
			sizeof(err));
	if (rc != 0) {
		if (!control && w.n > 1 && rc == -2)
			snprintf(err, sizeof(err), "no status socket at %s (nor %s)", w.path[0], w.path[1]);
		cli_errorf("no devkit up answers%s%s: %s", file ? " for " : "", file ? file : "", err);
		return CLI_EXIT_FAILURE;
	}
	if (!answer[0]) {
		cli_errorf("devkit up closed the connection without an answer");
		free(answer);
		return CLI_EXIT_FAILURE;
	}
	rc = fputs(answer, stdout) < 0 || fflush(stdout) != 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	free(answer);
	return rc;
}
