/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_cluster.h"
#include "cli_json.h"

#include <stdlib.h>
#include <string.h>

int cli_list_append(char **list, const char *item)
{
	size_t old = *list ? strlen(*list) : 0;
	char *grown = realloc(*list, old + strlen(item) + 2);

	if (!grown) {
		cli_errorf("out of memory");
		return CLI_EXIT_FAILURE;
	}
	if (old)
		grown[old++] = ',';
	strcpy(grown + old, item);
	*list = grown;
	return 0;
}

/* A domain or search entry: no separators the environment lists use. */
static int valid_names(const char *text, int allow_empty)
{
	if (!*text)
		return allow_empty;
	return strpbrk(text, " \t\n:;") == NULL;
}

int cli_cluster_option(struct cli_cluster *c, const char *command, int opt, const char *arg)
{
	switch (opt) {
	case CLI_CLUSTER_OPT_DNS:
		return cli_set_once(&c->cluster_dns, arg, command, "--cluster-dns");
	case CLI_CLUSTER_OPT_DOMAIN:
		if (!valid_names(arg, 0))
			return cli_usage(command, "--cluster-domain '%s': expected a DNS suffix such as "
				"cluster.local", arg);
		return cli_list_append(&c->domains, arg);
	case CLI_CLUSTER_OPT_SEARCH:
		if (!valid_names(arg, 1))
			return cli_usage(command, "--search '%s': expected comma-separated DNS suffixes",
				arg);
		return cli_set_once(&c->search, arg, command, "--search");
	default:
		return CLI_CONNECT_NOT_MINE;
	}
}

int cli_cluster_finish(struct cli_cluster *c, const char *command, int need_dns)
{
	if (need_dns && !c->cluster_dns && (c->domains || c->search))
		return cli_usage(command, "--%s needs --cluster-dns: names are resolved by the "
			"cluster's DNS server", c->domains ? "cluster-domain" : "search");
	if ((c->cluster_dns || !need_dns) && !c->domains)
		return cli_list_append(&c->domains, CLI_DEFAULT_DOMAIN);
	return 0;
}

void cli_cluster_free(struct cli_cluster *c)
{
	free(c->domains);
	c->domains = NULL;
}

static int start_dns(const struct cli_cluster *c, devkit_tunnel *tunnel, devkit_dns **dns)
{
	devkit_dns_options opts;
	int rc;

	if ((rc = devkit_dns_options_init(&opts, DEVKIT_DNS_OPTIONS_VERSION)) != 0)
		return rc;
	opts.cluster_dns = c->cluster_dns;
	opts.cluster_domains = c->domains;
	opts.search = cli_cluster_search(c);
	opts.ndots = CLI_NDOTS;
	rc = devkit_dns_start(dns, tunnel, &opts);
	if (rc != 0)
		*dns = NULL;
	return rc;
}

int cli_cluster_start(const struct cli_cluster *c, devkit_tunnel *tunnel, const char *control_path,
	devkit_dns **dns, devkit_router **router, const char **what)
{
	devkit_router_options opts;
	int rc;

	*dns = NULL;
	*router = NULL;
	if (c->cluster_dns && (rc = start_dns(c, tunnel, dns)) != 0) {
		*what = "remote DNS";
		return rc;
	}
	*what = "router";
	if ((rc = devkit_router_options_init(&opts, DEVKIT_ROUTER_OPTIONS_VERSION)) != 0)
		return rc;
	opts.dns = *dns;
	opts.control_path = control_path;
	rc = devkit_router_start(router, tunnel, &opts);
	if (rc != 0)
		*router = NULL;
	return rc;
}

void cli_cluster_json(struct cli_json *j, const struct cli_cluster *c, devkit_dns *dns)
{
	cli_json_object_begin(j, "dns");
	if (dns)
		cli_json_string(j, "cluster_dns", c->cluster_dns);
	cli_json_string(j, "domains", c->domains);
	cli_json_string(j, "search", cli_cluster_search(c));
	cli_json_int(j, "ndots", CLI_NDOTS);
	if (dns) {
		cli_json_string(j, "address", devkit_dns_address(dns));
		cli_json_int(j, "port", devkit_dns_port(dns));
	}
	cli_json_object_end(j);
}
