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
 *
 * With --control PATH nothing is opened: a running `devkit tunnel` (started
 * with --cluster-dns or --control) owns the tunnel, DNS and router, and CMD's
 * shim talks to that router. Many commands can share one SSH session this
 * way, and each starts without the cost of a login.
 */
#include <errno.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cmd_run.h"
#include "commands.h"

static const char run_help[] =
	"Usage: devkit run --bastion [USER@]HOST[:PORT] [options] -- CMD [ARGS...]\n"
	"       devkit run --control PATH [routing options] -- CMD [ARGS...]\n"
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
	"Reusing a running tunnel:\n"
	"      --control PATH      do not open a tunnel: route CMD through the one of\n"
	"                          the `devkit tunnel --cluster-dns ...` whose control\n"
	"                          socket is PATH (its ready line says it); give the\n"
	"                          same --cluster-domain and --search as it was given.\n"
	"                          No bastion or connection flags, no --cluster-dns,\n"
	"                          no --env-proxy\n"
	"\n"
	"Routing:\n"
	CLI_CLUSTER_HELP
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
	"tunnel, DNS or router cannot start, or the --control socket does not\n"
	"answer (CMD is not run); 2 on a usage error;\n"
	"126/127 when CMD cannot be executed or is not found.\n"
	"\n"
	"Examples:\n"
	"  devkit run --bastion dev@bastion --cluster-dns 10.96.0.10 --route 10.0.0.0/8 \\\n"
	"      -- ./mvnw spring-boot:run\n"
	"  devkit run --bastion dev@bastion --cluster-dns 10.96.0.10 \\\n"
	"      -- curl http://orders.default.svc.cluster.local:8080/\n"
	"  devkit run --control /tmp/devkit-XXXXXX/control.sock -- ./mvnw test\n";

enum {
	OPT_CONTROL = CLI_CLUSTER_OPT_END,
	OPT_ROUTE,
	OPT_ENV_PROXY,
	OPT_SOCKS,
	OPT_JSON,
};

static const struct option long_options[] = {
	CLI_CONNECT_LONG_OPTIONS,
	CLI_CLUSTER_LONG_OPTIONS,
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "route", required_argument, NULL, OPT_ROUTE },
	{ "env-proxy", no_argument, NULL, OPT_ENV_PROXY },
	{ "socks", required_argument, NULL, OPT_SOCKS },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

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

static int parse_option(struct run_cli *t, int c, char **argv)
{
	char err[256];

	switch (c) {
	case OPT_CONTROL:
		if (!*optarg)
			return cli_usage("run", "--control needs the path of a control socket");
		return cli_set_once(&t->control, optarg, "run", "--control");
	case OPT_ROUTE:
		if (!valid_cidr(optarg))
			return cli_usage("run", "--route '%s': expected an IPv4 or IPv6 CIDR such as "
				"10.0.0.0/8 or fd00::/8", optarg);
		return cli_list_append(&t->cidrs, optarg);
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
		int rc = cli_cluster_option(&t->cluster, "run", c, optarg);

		if (rc != CLI_CONNECT_NOT_MINE)
			return rc;
		rc = cli_connect_option(&t->conn, "run", c, optarg);
		/* -v and -q are about our output, not the connection. */
		if (rc == 0 && c != 'v' && c != 'q' && !t->conn_flag)
			t->conn_flag = cli_connect_option_name(c);
		return rc == CLI_CONNECT_NOT_MINE ? cli_getopt_error("run", '?', argv) : rc;
	}
	}
}

/* --control: the running tunnel owns everything a connection, DNS or proxy
 * flag would set up here, so such a flag could only be silently ignored. */
static int check_control_args(struct run_cli *t, int argc, char **argv)
{
	const char *other = t->conn_flag ? t->conn_flag : t->cluster.cluster_dns ? "cluster-dns"
		: t->env_proxy ? "env-proxy" : t->have_socks ? "socks" : NULL;

	if (other)
		return cli_usage("run", "--control reuses a running devkit tunnel, which has its own "
			"bastion, connection and DNS settings: --%s cannot be given with it", other);
	if (optind >= argc)
		return cli_usage("run", "no command given: put it after '--', as in "
			"devkit run --control PATH -- CMD [ARGS...]");
	t->cmd = argv + optind;
	/* The shim is told the domains and search list that tunnel's DNS was
	 * given; the defaults are the same on both sides. */
	return cli_cluster_finish(&t->cluster, "run", 0);
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
	if (t->control)
		return check_control_args(t, argc, argv);
	if ((rc = cli_connect_check(&t->conn, "run")) != 0)
		return rc;
	if (optind >= argc)
		return cli_usage("run", "no command given: put it after '--', as in "
			"devkit run --bastion HOST -- CMD [ARGS...]");
	t->cmd = argv + optind;
	if ((rc = cli_cluster_finish(&t->cluster, "run", 1)) != 0)
		return rc;
	if (!t->cluster.cluster_dns && !t->cidrs && !t->env_proxy)
		return cli_usage("run", "nothing to route: give --cluster-dns, --route or --env-proxy");
	if (t->have_socks && !t->env_proxy)
		return cli_usage("run", "--socks sets where the --env-proxy proxy listens, and "
			"--env-proxy is not given");
	return cli_connect_read_secrets(&t->conn, "run");
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

/*
 * The --control socket must be a unix socket that a router accepts on: else
 * CMD would run with every routed connect refused, which looks like a broken
 * cluster rather than a wrong path. 0, or 1 after saying why.
 */
static int check_control(const char *path)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, rc;

	if (stat(path, &st) != 0) {
		cli_errorf("--control %s: %s (is `devkit tunnel --cluster-dns ...` running? its "
			"ready line gives the path)", path, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		cli_errorf("--control %s: not a unix socket", path);
		return -1;
	}
	if (strlen(path) >= sizeof(sa.sun_path)) {
		cli_errorf("--control %s: the path is too long for a unix socket", path);
		return -1;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_errorf("--control %s: socket: %s", path, strerror(errno));
		return -1;
	}
	rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (rc != 0)
		cli_errorf("--control %s: cannot connect: %s (the devkit tunnel that made it has "
			"exited?)", path, strerror(errno));
	close(fd);
	return rc != 0 ? -1 : 0;
}

/* Start the engine and everything CMD needs. 0, or nonzero after reporting. */
static int start(struct run_cli *t)
{
	sigset_t old_mask;
	const char *what;
	int rc;

	if (t->control)
		return check_control(t->control) != 0 ? CLI_EXIT_FAILURE : run_build_env(t);

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
	if ((rc = cli_cluster_start(&t->cluster, t->tunnel, NULL, &t->dns, &t->router, &what)) != 0) {
		run_report_error(t, what, rc);
		return rc;
	}
	if ((rc = start_proxy(t)) != 0)
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

const char *run_control_path(const struct run_cli *t)
{
	return t->control ? t->control : devkit_router_control_path(t->router);
}

static void report_ready(struct run_cli *t)
{
	devkit_event early[EARLY_MAX], ev;
	size_t n = 0;

	while (t->ctx && n < EARLY_MAX && devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
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
	cli_cluster_free(&t.cluster);
	free(t.cidrs);
	return status;
}
