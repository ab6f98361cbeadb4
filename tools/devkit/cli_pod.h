/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line of the commands about one Pod (`devkit deploy`, `app`,
 * `debug`, `arthas`, `shell`, `capture`, `port-forward`):
 *
 *   devkit CMD POD [ARG...] [options]
 *
 * Options may come anywhere (getopt permutes, as with kubectl). One parser
 * checks POD, -c CONTAINER, the Kubernetes flags (cli_k8s.h) and the
 * positional arguments, and hands the command's own options to its
 * callbacks, so that these commands cannot drift apart.
 */
#ifndef DEVKIT_CLI_POD_H
#define DEVKIT_CLI_POD_H

#include <getopt.h>

#include "cli_k8s.h"

/* A command's option handler: 0, an exit status (CLI_EXIT_USAGE after
 * saying why), or CLI_K8S_NOT_MINE. */
typedef int (*cli_pod_option_fn)(void *self, const char *cmd, int c, const char *arg);

struct cli_pod_command {
	const char *cmd;                     /* "deploy" */
	const char *help;                    /* printed for -h/--help */
	const char *short_options;           /* the command's own ("e:"), besides "c:h" and -n/-v/-q */
	const struct option *long_options;   /* the whole table, CLI_K8S_LONG_OPTIONS included */
	cli_pod_option_fn option;            /* the command's own options; asked first (may be NULL) */
	cli_pod_option_fn fallback;          /* asked last, e.g. the connection flags (may be NULL) */
	void *self;
	int min_args, max_args;              /* positional arguments after POD */
	const char *args_hint;               /* "LOCAL_PATH": "... is required after the Pod" */
	const char *extra_hint;              /* said after "unexpected argument 'X'" */
};

struct cli_pod_line {
	struct cli_k8s k;
	const char *pod;
	const char *container;               /* -c, NULL when not given */
	char **args;                         /* the positional arguments after POD */
	int nargs;
};

/* Parse and check the whole command line (cli_k8s_check included): 0; -1
 * after --help (exit 0); CLI_EXIT_USAGE after saying why. */
int cli_pod_parse(const struct cli_pod_command *c, struct cli_pod_line *line, int argc,
	char **argv);

#endif
