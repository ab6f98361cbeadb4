/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster-name flags shared by `devkit tunnel` and `devkit run`:
 * --cluster-dns, --cluster-domain and --search. One parser, one help text and
 * one place that starts devkit_dns and the router from them, so that a
 * `devkit run --control` given the same flags as the `devkit tunnel` it
 * reuses tells its shim exactly what that tunnel's DNS resolves.
 *
 * A subcommand puts CLI_CLUSTER_LONG_OPTIONS in its getopt_long table, hands
 * options to cli_cluster_option() (after cli_connect_option(), or before: the
 * codes do not overlap), and numbers its own options from CLI_CLUSTER_OPT_END.
 */
#ifndef DEVKIT_CLI_CLUSTER_H
#define DEVKIT_CLI_CLUSTER_H

#include <devkit.h>

#include "cli_connect.h"

/* The search list and ndots of a Kubernetes Pod, as devkit_dns defaults them
 * (include/devkit/dns.h); the shim must use the same ones. */
#define CLI_DEFAULT_DOMAIN "cluster.local"
#define CLI_DEFAULT_SEARCH "default.svc.cluster.local,svc.cluster.local,cluster.local"
#define CLI_NDOTS 5

struct cli_cluster {
	const char *cluster_dns;     /* NULL: no remote DNS (borrowed from argv) */
	char *domains;               /* comma-joined --cluster-domain (malloc'd); NULL: none given */
	const char *search;          /* NULL: CLI_DEFAULT_SEARCH (borrowed) */
};

enum {
	CLI_CLUSTER_OPT_DNS = CLI_CONNECT_OPT_END,
	CLI_CLUSTER_OPT_DOMAIN,
	CLI_CLUSTER_OPT_SEARCH,
	CLI_CLUSTER_OPT_END
};

#define CLI_CLUSTER_LONG_OPTIONS \
	{ "cluster-dns", required_argument, NULL, CLI_CLUSTER_OPT_DNS }, \
	{ "cluster-domain", required_argument, NULL, CLI_CLUSTER_OPT_DOMAIN }, \
	{ "search", required_argument, NULL, CLI_CLUSTER_OPT_SEARCH }

#define CLI_CLUSTER_HELP \
	"      --cluster-dns HOST[:PORT]\n" \
	"                          the cluster's DNS server as the bastion sees it\n" \
	"                          (port 53 by default), e.g. 10.96.0.10; without it,\n" \
	"                          no name is resolved remotely\n" \
	"      --cluster-domain SUFFIX\n" \
	"                          names under SUFFIX are resolved by the cluster DNS\n" \
	"                          and routed (repeatable; default cluster.local)\n" \
	"      --search LIST       comma-separated search list for short names, as in\n" \
	"                          a Pod (default default.svc.cluster.local,\n" \
	"                          svc.cluster.local,cluster.local; ndots 5)\n"

/*
 * Handle option `opt` with value `arg`: 0 when taken, CLI_EXIT_USAGE after a
 * usage error for `command`, CLI_EXIT_FAILURE out of memory, or
 * CLI_CONNECT_NOT_MINE.
 */
int cli_cluster_option(struct cli_cluster *c, const char *command, int opt, const char *arg);

/*
 * Once the command line is read. `need_dns`: --cluster-domain and --search
 * describe a DNS this command starts, so they need --cluster-dns (false for
 * `devkit run --control`, whose DNS is another process's). Fills in the
 * default domain when names are resolved. 0, CLI_EXIT_USAGE or CLI_EXIT_FAILURE.
 */
int cli_cluster_finish(struct cli_cluster *c, const char *command, int need_dns);

static inline const char *cli_cluster_search(const struct cli_cluster *c)
{
	return c->search ? c->search : CLI_DEFAULT_SEARCH;
}

void cli_cluster_free(struct cli_cluster *c);

/* Append `item` to the comma-separated list *list. 0, or 1 out of memory. */
int cli_list_append(char **list, const char *item);

/*
 * Start the remote DNS on `tunnel` when --cluster-dns was given (else *dns is
 * NULL and 0 is returned), then a router using it on `control_path` (NULL: a
 * private path). On failure returns the library's code, `*what` naming the
 * part that failed, and devkit_error_last() still saying why; what did start
 * is left in *dns for the caller's usual shutdown (router, then DNS, then
 * tunnel), so that freeing it here cannot replace that error text.
 */
int cli_cluster_start(const struct cli_cluster *c, devkit_tunnel *tunnel, const char *control_path,
	devkit_dns **dns, devkit_router **router, const char **what);

struct cli_json;
/*
 * The "dns" object of a ready event: what the shim is told (domains, search,
 * ndots) and, when this process runs the resolver (`dns` non-NULL), where it
 * is and which cluster DNS it asks.
 */
void cli_cluster_json(struct cli_json *j, const struct cli_cluster *c, devkit_dns *dns);

#endif
