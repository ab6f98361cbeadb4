/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit run — run one unmodified command as if it ran inside the cluster:
 * its connects to cluster CIDRs and cluster names go through the tunnel, by
 * way of the LD_PRELOAD shim (docs/preload.md, docs/run.md).
 *
 * Life cycle: parse everything first (usage errors exit 2 before any network
 * traffic); open the tunnel, the remote DNS, the router and the optional
 * proxy (any failure exits 1 before the command runs); spawn the command with
 * the routing environment; wait for it while forwarding signals; close
 * everything in reverse order and exit with the command's status.
 */
#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_run.h"
#include "commands.h"

static const char run_help[] =
	"Usage: devkit run --bastion [USER@]HOST[:PORT] [options] -- CMD [ARGS...]\n"
	"\n"
	"Run CMD as if it ran inside the cluster: its TCP connects to the routed\n"
	"CIDRs and to names under the cluster domains go through an SSH tunnel to\n"
	"the bastion, and those names are resolved by the cluster's DNS server.\n"
	"Everything else CMD does goes direct, untouched. CMD is started with\n"
	"LD_PRELOAD=libdevkit_preload.so (dynamically linked Linux programs: Java,\n"
	"curl, Python, Node; not Go or static binaries, see docs/preload.md).\n"
	"devkit exits with CMD's exit status once CMD has exited.\n"
	"\n"
	CLI_CONNECT_HELP
	"      --no-reconnect      when the session is lost, do not reconnect: CMD's\n"
	"                          routed connects fail from then on\n"
	"\n"
	"Routing:\n"
	"      --cluster-dns HOST[:PORT]\n"
	"                          the cluster's DNS server as the bastion sees it\n"
	"                          (port 53 by default), e.g. 10.96.0.10; without it,\n"
	"                          no name is resolved remotely\n"
	"      --cluster-domain SUFFIX\n"
	"                          names under SUFFIX are resolved by the cluster DNS\n"
	"                          and routed (repeatable; default cluster.local)\n"
	"      --search LIST       comma-separated search list for short names, as in\n"
	"                          a Pod (default default.svc.cluster.local,\n"
	"                          svc.cluster.local,cluster.local; ndots 5)\n"
	"      --route CIDR        route connects to this IPv4 or IPv6 range through\n"
	"                          the tunnel, e.g. 10.0.0.0/8 (repeatable)\n"
	"\n"
	"Proxy environment (for programs the shim cannot route):\n"
	"      --env-proxy         also set HTTP_PROXY, HTTPS_PROXY, ALL_PROXY (and\n"
	"                          lower case), NO_PROXY and JAVA_TOOL_OPTIONS proxy\n"
	"                          properties, pointing at a SOCKS5/HTTP proxy through\n"
	"                          the tunnel\n"
	"      --socks [ADDR:]PORT  where that proxy listens (default 127.0.0.1,\n"
	"                          port 0: a free port)\n"
	"\n"
	"Output (on stderr: stdout belongs to CMD):\n"
	"      --json              one JSON object per line on stderr instead of\n"
	"                          status lines: ready, library events, exit\n"
	"  -v, --verbose           library log lines on stderr: -v info, -vv debug,\n"
	"                          -vvv trace (default: warnings and errors)\n"
	"  -q, --quiet             no status lines and no library log lines\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"Environment: DEVKIT_PRELOAD_LIB overrides the shim's path (default:\n"
	"libdevkit_preload.so next to the loaded libdevkit). CMD gets LD_PRELOAD,\n"
	"DEVKIT_CONTROL, DEVKIT_ROUTE_CIDRS, DEVKIT_ROUTE_DOMAINS, DEVKIT_SEARCH and\n"
	"DEVKIT_NDOTS; DEVKIT_PRELOAD_DEBUG=1 makes the shim explain its decisions.\n"
	"\n"
	"Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to CMD.\n"
	"Exit status: CMD's status (128+N if it died of signal N); 1 when the\n"
	"tunnel, DNS or router cannot start (CMD is not run); 2 on a usage error;\n"
	"126/127 when CMD cannot be executed or is not found.\n"
	"\n"
	"Examples:\n"
	"  devkit run --bastion dev@bastion --cluster-dns 10.96.0.10 --route 10.0.0.0/8 \\\n"
	"      -- ./mvnw spring-boot:run\n"
	"  devkit run --bastion dev@bastion --cluster-dns 10.96.0.10 \\\n"
	"      -- curl http://orders.default.svc.cluster.local:8080/\n";

enum {
	OPT_CLUSTER_DNS = CLI_CONNECT_OPT_END,
	OPT_CLUSTER_DOMAIN,
	OPT_SEARCH,
	OPT_ROUTE,
	OPT_ENV_PROXY,
	OPT_SOCKS,
	OPT_JSON,
};

static const struct option long_options[] = {
	CLI_CONNECT_LONG_OPTIONS,
	{ "cluster-dns", required_argument, NULL, OPT_CLUSTER_DNS },
	{ "cluster-domain", required_argument, NULL, OPT_CLUSTER_DOMAIN },
	{ "search", required_argument, NULL, OPT_SEARCH },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "env-proxy", no_argument, NULL, OPT_ENV_PROXY },
	{ "socks", required_argument, NULL, OPT_SOCKS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Append `item` to the comma-separated list *list. 0, or 1 out of memory. */
static int list_append(char **list, const char *item)
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

/* ADDR[/BITS], IPv4 or IPv6, as the shim parses DEVKIT_ROUTE_CIDRS: checked
 * here because the shim can only ignore a bad one, silently. */
static int valid_cidr(const char *text)
{
	char addr[INET6_ADDRSTRLEN + 1];
	unsigned char buf[16];
	const char *slash = strchr(text, '/');
	size_t len = slash ? (size_t)(slash - text) : strlen(text);
	int max;

	if (len == 0 || len >= sizeof(addr))
		return 0;
	memcpy(addr, text, len);
	addr[len] = '\0';
	if (inet_pton(AF_INET, addr, buf) == 1)
		max = 32;
	else if (inet_pton(AF_INET6, addr, buf) == 1)
		max = 128;
	else
		return 0;
	if (slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);

		if (*end || end == slash + 1 || slash[1] == '-' || slash[1] == '+' || bits > max)
			return 0;
	}
	return 1;
}

/* A domain or search entry: no separators the environment lists use. */
static int valid_names(const char *text, int allow_empty)
{
	if (!*text)
		return allow_empty;
	return strpbrk(text, " \t\n:;") == NULL;
}

static int parse_option(struct run_cli *t, int c, char **argv)
{
	char err[256];

	switch (c) {
	case OPT_CLUSTER_DNS:
		return cli_set_once(&t->cluster_dns, optarg, "run", "--cluster-dns");
	case OPT_CLUSTER_DOMAIN:
		if (!valid_names(optarg, 0))
			return cli_usage("run", "--cluster-domain '%s': expected a DNS suffix such as "
				"cluster.local", optarg);
		return list_append(&t->domains, optarg);
	case OPT_SEARCH:
		if (!valid_names(optarg, 1))
			return cli_usage("run", "--search '%s': expected comma-separated DNS suffixes",
				optarg);
		return cli_set_once(&t->search, optarg, "run", "--search");
	case OPT_ROUTE:
		if (!valid_cidr(optarg))
			return cli_usage("run", "--route '%s': expected an IPv4 or IPv6 CIDR such as "
				"10.0.0.0/8 or fd00::/8", optarg);
		return list_append(&t->cidrs, optarg);
	case OPT_ENV_PROXY: t->env_proxy = 1; return 0;
	case OPT_SOCKS:
		if (t->have_socks)
			return cli_usage("run", "--socks given more than once");
		if (cli_parse_listen(optarg, &t->socks, err, sizeof(err)) != 0)
			return cli_usage("run", "--socks '%s': %s", optarg, err);
		t->have_socks = 1;
		return 0;
	case OPT_JSON: t->json = 1; return 0;
	case ':':
	case '?':
		return cli_getopt_error("run", c, argv);
	default: {
		int rc = cli_connect_option(&t->conn, "run", c, optarg);

		return rc == CLI_CONNECT_NOT_MINE ? cli_getopt_error("run", '?', argv) : rc;
	}
	}
}

/* Everything the command line can get wrong is found here, before any traffic. */
static int parse_args(struct run_cli *t, int argc, char **argv)
{
	int c, rc;

	cli_connect_init(&t->conn);
	opterr = 0; /* our own messages, in our own format */
	optind = 1;
	/* '+': stop at the first non-option (or after "--"): everything from
	 * there on is CMD's, even what looks like our flags. */
	while ((c = getopt_long(argc, argv, "+:" CLI_CONNECT_SHORT_OPTIONS "h", long_options,
		NULL)) != -1) {
		if (c == 'h') {
			fputs(run_help, stdout);
			return -1;
		}
		if ((rc = parse_option(t, c, argv)) != 0)
			return rc;
	}
	if ((rc = cli_connect_check(&t->conn, "run")) != 0)
		return rc;
	if (optind >= argc)
		return cli_usage("run", "no command given: put it after '--', as in "
			"devkit run --bastion HOST -- CMD [ARGS...]");
	t->cmd = argv + optind;
	if (!t->cluster_dns && (t->domains || t->search))
		return cli_usage("run", "--%s needs --cluster-dns: names are resolved by the "
			"cluster's DNS server", t->domains ? "cluster-domain" : "search");
	if (!t->cluster_dns && !t->cidrs && !t->env_proxy)
		return cli_usage("run", "nothing to route: give --cluster-dns, --route or --env-proxy");
	if (t->have_socks && !t->env_proxy)
		return cli_usage("run", "--socks sets where the --env-proxy proxy listens, and "
			"--env-proxy is not given");
	if (t->cluster_dns && !t->domains && list_append(&t->domains, RUN_DEFAULT_DOMAIN) != 0)
		return CLI_EXIT_FAILURE;
	return cli_connect_read_secrets(&t->conn, "run");
}

static int start_dns(struct run_cli *t)
{
	devkit_dns_options opts;
	int rc;

	if (!t->cluster_dns)
		return 0;
	if ((rc = devkit_dns_options_init(&opts, DEVKIT_DNS_OPTIONS_VERSION)) == 0) {
		opts.cluster_dns = t->cluster_dns;
		opts.cluster_domains = t->domains;
		opts.search = t->search ? t->search : RUN_DEFAULT_SEARCH;
		opts.ndots = RUN_NDOTS;
		rc = devkit_dns_start(&t->dns, t->tunnel, &opts);
	}
	if (rc != 0) {
		t->dns = NULL;
		run_report_error(t, "remote DNS", rc);
	}
	return rc;
}

static int start_router(struct run_cli *t)
{
	devkit_router_options opts;
	int rc;

	if ((rc = devkit_router_options_init(&opts, DEVKIT_ROUTER_OPTIONS_VERSION)) == 0) {
		opts.dns = t->dns;
		rc = devkit_router_start(&t->router, t->tunnel, &opts);
	}
	if (rc != 0) {
		t->router = NULL;
		run_report_error(t, "router", rc);
	}
	return rc;
}

static int start_proxy(struct run_cli *t)
{
	devkit_forward_options opts;
	const char *addr;
	int rc;

	if (!t->env_proxy)
		return 0;
	if ((rc = devkit_forward_options_init(&opts, DEVKIT_FORWARD_OPTIONS_VERSION)) == 0) {
		opts.kind = DEVKIT_FORWARD_DYNAMIC;
		opts.bind_address = t->socks.address[0] ? t->socks.address : NULL;
		opts.bind_port = t->socks.port;
		rc = devkit_tunnel_add_forward(&t->proxy, t->tunnel, &opts);
	}
	if (rc != 0) {
		t->proxy = NULL;
		run_report_error(t, "--env-proxy proxy", rc);
		return rc;
	}
	t->proxy_port = devkit_forward_port(t->proxy);
	addr = devkit_forward_address(t->proxy);
	snprintf(t->proxy_address, sizeof(t->proxy_address), "%s", addr && *addr ? addr
		: (t->socks.address[0] ? t->socks.address : "127.0.0.1"));
	return 0;
}

/* Start the engine and everything CMD needs. 0, or nonzero after reporting. */
static int start(struct run_cli *t)
{
	sigset_t old_mask;
	int rc;

	/* Library threads must never take the signals meant for CMD. */
	run_signals_block(&old_mask);
	rc = cli_connect_new_ctx(&t->conn, &t->ctx);
	run_signals_restore(&old_mask);
	if (rc != 0) {
		run_report_error(t, "starting the engine", rc);
		return rc;
	}
	if ((rc = cli_connect_open(&t->conn, t->ctx, &t->tunnel)) != 0) {
		run_report_error(t, NULL, rc); /* names the bastion and says why */
		return rc;
	}
	t->tunnel_id = devkit_tunnel_id(t->tunnel);
	if ((rc = start_dns(t)) != 0 || (rc = start_router(t)) != 0 || (rc = start_proxy(t)) != 0)
		return rc;
	return run_build_env(t);
}

/* Reverse order of start: the router and DNS use the tunnel, the tunnel the engine. */
static void shut_down(struct run_cli *t)
{
	devkit_router_free(t->router);
	t->router = NULL;
	devkit_dns_free(t->dns);
	t->dns = NULL;
	devkit_tunnel_free(t->tunnel); /* and the proxy forward with it */
	t->tunnel = NULL;
	t->proxy = NULL;
	devkit_ctx_free(t->ctx);
	t->ctx = NULL;
}

/* Events that arrived while starting and merely announce what "ready" says
 * (connecting, up, the proxy and the DNS's own forward listening) are dropped; the rest are reported after it, in order. */
#define EARLY_MAX 32

static void report_ready(struct run_cli *t)
{
	devkit_event early[EARLY_MAX], ev;
	size_t n = 0;

	while (n < EARLY_MAX && devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		if ((ev.type == DEVKIT_EVENT_TUNNEL_STATE
			&& (ev.state == DEVKIT_TUNNEL_CONNECTING || ev.state == DEVKIT_TUNNEL_UP))
			|| ev.type == DEVKIT_EVENT_FORWARD_READY)
			continue;
		early[n++] = ev;
	}
	run_report_ready(t);
	for (size_t i = 0; i < n; i++)
		run_report_event(t, &early[i]);
}

int cmd_run(int argc, char **argv)
{
	struct run_cli t;
	int rc, status = CLI_EXIT_FAILURE;

	memset(&t, 0, sizeof(t));
	rc = parse_args(&t, argc, argv);
	if (rc != 0) {
		status = rc < 0 ? CLI_EXIT_OK : rc; /* -1: --help was printed */
		goto out;
	}
	/*
	 * Until CMD runs, SIGINT keeps its default action: opening the tunnel can
	 * block for the whole connect timeout, and nothing persists yet.
	 */
	run_signals_prepare();
	if (start(&t) != 0)
		goto out;
	report_ready(&t);
	status = run_spawn(&t);
	if (status == 0)
		status = run_wait(&t);
out:
	shut_down(&t);
	run_free_env(&t);
	cli_json_free(&t.out);
	free(t.domains);
	free(t.cidrs);
	return status;
}
