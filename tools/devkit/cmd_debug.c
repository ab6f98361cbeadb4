/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit debug POD [--port P] [--local-port N] [--suspend] [-b BASTION]:
 * restart a replica's JVM with the JDWP agent (devkit_debug_start) and
 * forward it to a local port for the IDE until Ctrl-C; --off turns the
 * agent off again (devkit_debug_off). The forward goes through the API
 * server's port-forward, or with --bastion through an SSH tunnel to the
 * Pod IP (the connection flags of cli_connect.h).
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>

#include "cli_k8s.h"
#include "cli_pod.h"
#include "cli_report.h"
#include "cli_signal.h"
#include "commands.h"

static const char help[] =
	"Usage: devkit debug POD [-n NS] [-c CONTAINER] [--port PORT] [--local-port N]\n"
	"                    [--suspend] [-b BASTION ...]\n"
	"       devkit debug POD --off [-n NS] [-c CONTAINER]\n"
	"\n"
	"Restart the app of a replica made with --keep-alive with the JDWP debug\n"
	"agent (JAVA_TOOL_OPTIONS in the keep-alive's app.env), forward the agent's\n"
	"port to a local one and keep forwarding until Ctrl-C. Connect the IDE's\n"
	"remote debugger (\"Attach to remote JVM\", socket) to the port printed.\n"
	"The agent stays on across restarts and deploys until --off; running\n"
	"`devkit debug` again reuses the JVM when its agent still answers.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Debug:\n"
	"  -c, --container NAME    the container (default: the Pod's default one)\n"
	"      --port PORT         the agent's port in the container (default 5005)\n"
	"      --local-port N      where the IDE connects (default: the same as\n"
	"                          --port; 0: any free port)\n"
	"      --address ADDR      the local address to listen on (default 127.0.0.1)\n"
	"      --suspend           the JVM waits for the debugger before main runs\n"
	"      --agent OPTION      the JVM option to add instead of the default\n"
	"                          -agentlib:jdwp=transport=dt_socket,server=y,\n"
	"                          suspend=n,address=*:PORT (e.g. for Java 8:\n"
	"                          address=PORT)\n"
	"      --timeout DURATION  how long to wait for the JVM (default 60s)\n"
	"      --off               turn the agent off and restart the app without it\n"
	"                          (no restart when it was not on)\n"
	"\n"
	"Through a bastion instead of the API server (to the Pod IP):\n"
	CLI_CONNECT_HELP
	"\n"
	"Output:\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 after Ctrl-C (or --off done); 1 when the agent could not be\n"
	"turned on or off (no keep-alive, the JVM never answered, the local port is\n"
	"taken); 2 on a usage error.\n"
	"\n"
	"Example:\n"
	"  devkit replicate --deployment orders --name orders-dev --keep-alive \\\n"
	"      --command 'java -jar /app/orders.jar' -n dev\n"
	"  devkit debug orders-dev -n dev\n"
	"  debugger: connect your IDE to localhost:5005 (JDWP)\n";

enum {
	OPT_PORT = CLI_CONNECT_OPT_END,
	OPT_LOCAL_PORT,
	OPT_ADDRESS,
	OPT_SUSPEND,
	OPT_AGENT,
	OPT_TIMEOUT,
	OPT_OFF
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	CLI_CONNECT_LONG_OPTIONS,
	{ "container", required_argument, NULL, 'c' },
	{ "port", required_argument, NULL, OPT_PORT },
	{ "local-port", required_argument, NULL, OPT_LOCAL_PORT },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "suspend", no_argument, NULL, OPT_SUSPEND },
	{ "agent", required_argument, NULL, OPT_AGENT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "off", no_argument, NULL, OPT_OFF },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct debug_cli {
	struct cli_k8s k;
	struct cli_connect conn;
	int conn_flags;           /* a connection flag was given */
	const char *pod;
	int off;
	devkit_debug_options o;
};

static int own_option(struct debug_cli *d, const char *cmd, int c, const char *arg)
{
	char err[256];
	long long ms;
	int port;

	switch (c) {
	case OPT_PORT:
		if (cli_parse_port(arg, 1, &port, err, sizeof(err)) != 0)
			return cli_usage(cmd, "--port: %s", err);
		d->o.port = port;
		return 0;
	case OPT_LOCAL_PORT:
		if (cli_parse_port(arg, 0, &port, err, sizeof(err)) != 0)
			return cli_usage(cmd, "--local-port: %s", err);
		d->o.local_port = port == 0 ? -1 : port; /* 0 here: any free one */
		return 0;
	case OPT_ADDRESS:
		return cli_set_once(&d->o.bind_address, arg, cmd, "--address");
	case OPT_SUSPEND:
		d->o.suspend = 1;
		return 0;
	case OPT_AGENT:
		return cli_set_once(&d->o.agent_option, arg, cmd, "--agent");
	case OPT_TIMEOUT:
		if (cli_k8s_parse_duration(arg, 1000, 3600LL * 1000, &ms, err, sizeof(err)) != 0)
			return cli_usage(cmd, "--timeout: %s", err);
		d->o.timeout_ms = (unsigned int)ms;
		return 0;
	case OPT_OFF:
		d->off = 1;
		return 0;
	default:
		return CLI_K8S_NOT_MINE;
	}
}

static int option_cb(void *self, const char *cmd, int c, const char *arg)
{
	return own_option(self, cmd, c, arg);
}

/* The bastion's connection flags (-b and the rest of devkit tunnel's). */
static int connect_cb(void *self, const char *cmd, int c, const char *arg)
{
	struct debug_cli *d = self;
	int rc = cli_connect_option(&d->conn, cmd, c, arg);
	if (rc == CLI_CONNECT_NOT_MINE)
		return CLI_K8S_NOT_MINE;
	d->conn_flags = 1;
	return rc;
}

/* 0; -1 after --help; CLI_EXIT_USAGE. */
static int parse(struct debug_cli *d, const char *cmd, int argc, char **argv)
{
	struct cli_pod_line line;
	const struct cli_pod_command pc = { cmd, help, CLI_CONNECT_SHORT_OPTIONS, long_options,
		option_cb, connect_cb, d, 0, 0, NULL, NULL };
	int rc;

	memset(d, 0, sizeof(*d));
	cli_connect_init(&d->conn);
	devkit_debug_options_init(&d->o, DEVKIT_DEBUG_OPTIONS_VERSION);
	if ((rc = cli_pod_parse(&pc, &line, argc, argv)) != 0)
		return rc;
	d->k = line.k;
	d->pod = line.pod;
	d->o.container = line.container;
	if (d->off && (d->conn_flags || d->o.suspend || d->o.port || d->o.local_port ||
		d->o.agent_option || d->o.bind_address))
		return cli_usage(cmd, "--off takes only POD, -n and -c");
	if (d->conn_flags && ((rc = cli_connect_check(&d->conn, cmd)) != 0 ||
		(rc = cli_connect_read_secrets(&d->conn, cmd)) != 0))
		return rc;
	d->o.namespace_name = d->k.namespace_name;
	d->o.pod = d->pod;
	return 0;
}

/* Forward until a shutdown signal. */
static void wait_for_signal(void)
{
	int fd = cli_signals_install();
	if (fd < 0) {
		cli_errorf("cannot catch signals (%s): forwarding until killed", strerror(errno));
		for (;;)
			poll(NULL, 0, -1);
	}
	while (!cli_signal_caught()) {
		struct pollfd p = { fd, POLLIN, 0 };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			break;
	}
}

int cmd_debug(int argc, char **argv)
{
	static const char cmd[] = "debug";
	struct debug_cli d;
	int rc = parse(&d, cmd, argc, argv);
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	devkit_tunnel *tunnel = NULL;
	devkit_debug *dbg = NULL;
	int status = CLI_EXIT_FAILURE;

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	cli_signals_ignore_sigpipe();
	if (cli_k8s_open(&d.k, NULL, &ctx, &k8s) != 0)
		return CLI_EXIT_FAILURE;
	const char *ns = d.k.namespace_name ? d.k.namespace_name : devkit_k8s_namespace(k8s);
	if (d.off) {
		rc = devkit_debug_off(k8s, d.k.namespace_name, d.pod, d.o.container);
		if (rc != 0) {
			cli_report_error(NULL, 0, stdout, NULL, rc);
			goto out;
		}
		printf("debugger: agent off in %s/%s\n", ns, d.pod);
		status = CLI_EXIT_OK;
		goto out;
	}
	if (d.conn_flags) {
		if ((rc = cli_connect_open(&d.conn, ctx, &tunnel)) != 0) {
			cli_report_error(NULL, 0, stdout, NULL, rc);
			goto out;
		}
		d.o.tunnel = tunnel;
	}
	fprintf(stderr, "devkit: restarting the app of %s/%s with the JDWP agent...\n", ns, d.pod);
	if ((rc = devkit_debug_start(&dbg, k8s, &d.o)) != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		goto out;
	}
	const char *addr = d.o.bind_address;
	int loopback = !addr || !*addr || strcmp(addr, "127.0.0.1") == 0;
	char where[CLI_HOST_MAX + 16];
	cli_format_hostport(where, sizeof(where), loopback ? "localhost" : addr,
		devkit_debug_port(dbg));
	printf("debugger: connect your IDE to %s (JDWP)%s\n", where,
		d.o.suspend ? "; the JVM waits for it" : "");
	fflush(stdout);
	wait_for_signal();
	fprintf(stderr, "devkit: forward closed; the agent stays on until `devkit debug %s --off`\n",
		d.pod);
	status = CLI_EXIT_OK;
out:
	devkit_debug_free(dbg);
	devkit_tunnel_free(tunnel);
	cli_k8s_close(ctx, k8s);
	return status;
}
