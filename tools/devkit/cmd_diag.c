/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The command line of the diagnostics commands (cmd_diag.h): POD, the
 * Kubernetes flags, and each command's own options, all checked before the
 * first request, so that a mistake exits 2 with nothing sent.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_signal.h"
#include "cmd_diag.h"
#include "cmd_replica.h"

enum {
	OPT_JSON = CLI_CONNECT_OPT_END,
	OPT_SINCE,
	OPT_SINCE_TIME,
	OPT_TAIL,
	OPT_TIMESTAMPS
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "watch", no_argument, NULL, 'w' },
	{ "container", required_argument, NULL, 'c' },
	{ "follow", no_argument, NULL, 'f' },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "since-time", required_argument, NULL, OPT_SINCE_TIME },
	{ "tail", required_argument, NULL, OPT_TAIL },
	{ "previous", no_argument, NULL, 'p' },
	{ "timestamps", no_argument, NULL, OPT_TIMESTAMPS },
	{ "output", required_argument, NULL, 'o' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int logs_option(struct diag_cli *d, const char *cmd, int c, const char *arg)
{
	char err[256];
	long long ms, n;
	char *end;

	switch (c) {
	case 'c':
		if (!cli_k8s_dns_label(arg))
			return cli_usage(cmd, "-c: '%s' is not a container name (a DNS label)", arg);
		d->logs.container = arg;
		return 0;
	case 'f':
		d->logs.follow = 1;
		return 0;
	case 'p':
		d->logs.previous = 1;
		return 0;
	case OPT_TIMESTAMPS:
		d->logs.timestamps = 1;
		return 0;
	case 'o':
		if (!*arg)
			return cli_usage(cmd, "-o: the file name is empty");
		d->logs.file = arg;
		return 0;
	case OPT_SINCE:
		if (cli_k8s_parse_duration(arg, 1000, 366LL * 24 * 3600 * 1000, &ms, err,
			sizeof(err)) != 0)
			return cli_usage(cmd, "--since: %s", err);
		d->logs.since_seconds = (ms + 999) / 1000;
		return 0;
	case OPT_SINCE_TIME: {
		time_t t;
		if (replica_parse_time(arg, &t) != 0)
			return cli_usage(cmd, "--since-time: '%s' is not an RFC 3339 time in UTC "
				"(2024-05-01T12:00:00Z)", arg);
		d->logs.since_time = arg;
		return 0;
	}
	case OPT_TAIL:
		n = strtoll(arg, &end, 10);
		if (!*arg || *end || n < -1)
			return cli_usage(cmd, "--tail: '%s' is not a number of lines (-1: all)", arg);
		d->logs.tail_lines = n;
		return 0;
	default:
		return CLI_K8S_NOT_MINE;
	}
}

int diag_parse(struct diag_cli *d, const char *cmd, const char *help, unsigned takes, int argc,
	char **argv)
{
	int c, rc;

	memset(d, 0, sizeof(*d));
	cli_k8s_init(&d->k);
	devkit_logs_options_init(&d->logs, DEVKIT_LOGS_OPTIONS_VERSION);
	opterr = 0;
	optind = 1;
	/* Options may follow POD, as with kubectl: getopt permutes. */
	while ((c = getopt_long(argc, argv, ":" CLI_K8S_SHORT_OPTIONS "wc:fpo:h", long_options,
		NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return -1;
		}
		if (c == ':' || c == '?')
			return cli_getopt_error(cmd, c, argv);
		if (c == OPT_JSON && (takes & DIAG_TAKES_JSON)) {
			d->json = 1;
			continue;
		}
		if (c == 'w' && (takes & DIAG_TAKES_WATCH)) {
			d->watch = 1;
			continue;
		}
		rc = takes & DIAG_TAKES_LOGS ? logs_option(d, cmd, c, optarg) : CLI_K8S_NOT_MINE;
		if (rc == CLI_K8S_NOT_MINE)
			rc = cli_k8s_option(&d->k, cmd, c, optarg);
		if (rc == CLI_K8S_NOT_MINE)
			return cli_getopt_error(cmd, '?', argv);
		if (rc != 0)
			return rc;
	}
	if (optind >= argc)
		return cli_usage(cmd, "which Pod? POD is required");
	d->pod = argv[optind++];
	if (!cli_k8s_dns_subdomain(d->pod))
		return cli_usage(cmd, "'%s' is not a Pod's name (a-z, 0-9, '-' and '.')", d->pod);
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (d->logs.since_seconds && d->logs.since_time)
		return cli_usage(cmd, "--since and --since-time exclude each other");
	return cli_k8s_check(&d->k, cmd);
}

int diag_open(struct diag_cli *d)
{
	cli_signals_ignore_sigpipe();
	return cli_k8s_open(&d->k, d->json ? &d->out : NULL, &d->ctx, &d->k8s) == 0
		? 0 : CLI_EXIT_FAILURE;
}

void diag_close(struct diag_cli *d)
{
	cli_k8s_close(d->ctx, d->k8s);
	d->ctx = NULL;
	d->k8s = NULL;
	cli_json_free(&d->out);
}

const char *diag_namespace(const struct diag_cli *d)
{
	return d->k.namespace_name ? d->k.namespace_name : devkit_k8s_namespace(d->k8s);
}

int diag_fail(struct diag_cli *d, int rc)
{
	cli_report_error(&d->out, d->json, stdout, NULL, rc);
	return CLI_EXIT_FAILURE;
}
