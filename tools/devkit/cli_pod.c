/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_pod.h"

#include "cli_connect.h"

#include <stdio.h>
#include <string.h>

int cli_pod_parse(const struct cli_pod_command *c, struct cli_pod_line *line, int argc,
	char **argv)
{
	char shorts[64];
	int opt, rc;

	memset(line, 0, sizeof(*line));
	cli_k8s_init(&line->k);
	snprintf(shorts, sizeof(shorts), ":" CLI_K8S_SHORT_OPTIONS "c:h%s",
		c->short_options ? c->short_options : "");
	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shorts, c->long_options, NULL)) != -1) {
		if (opt == 'h') {
			fputs(c->help, stdout);
			return -1;
		}
		if (opt == ':' || opt == '?')
			return cli_getopt_error(c->cmd, opt, argv);
		if (opt == 'c') {
			if (!cli_k8s_dns_label(optarg))
				return cli_usage(c->cmd, "-c: '%s' is not a container name (a DNS label)",
					optarg);
			if ((rc = cli_set_once(&line->container, optarg, c->cmd, "-c")) != 0)
				return rc;
			continue;
		}
		rc = c->option ? c->option(c->self, c->cmd, opt, optarg) : CLI_K8S_NOT_MINE;
		if (rc == CLI_K8S_NOT_MINE)
			rc = cli_k8s_option(&line->k, c->cmd, opt, optarg);
		if (rc == CLI_K8S_NOT_MINE && c->fallback)
			rc = c->fallback(c->self, c->cmd, opt, optarg);
		if (rc == CLI_K8S_NOT_MINE)
			return cli_getopt_error(c->cmd, '?', argv);
		if (rc != 0)
			return rc;
	}
	if (optind >= argc)
		return cli_usage(c->cmd, "which Pod? POD is required");
	line->pod = argv[optind++];
	if (!cli_k8s_dns_subdomain(line->pod))
		return cli_usage(c->cmd, "'%s' is not a Pod's name (a-z, 0-9, '-' and '.')", line->pod);
	line->args = argv + optind;
	line->nargs = argc - optind;
	if (line->nargs < c->min_args)
		return cli_usage(c->cmd, "%s is required after the Pod", c->args_hint);
	if (line->nargs > c->max_args)
		return cli_usage(c->cmd, "unexpected argument '%s'%s%s%s", line->args[c->max_args],
			c->extra_hint ? " (" : "", c->extra_hint ? c->extra_hint : "",
			c->extra_hint ? ")" : "");
	return cli_k8s_check(&line->k, c->cmd);
}
