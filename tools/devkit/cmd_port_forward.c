/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit port-forward POD [LOCAL:]PORT...: Pod ports on local ports, through
 * the API server (as kubectl port-forward) or, with --bastion, through an
 * SSH tunnel to the Pod's IP (devkit_pod_forward_start_tunnel). Runs until
 * Ctrl-C.
 */
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_connect.h"
#include "cli_k8s.h"
#include "cli_pod.h"
#include "cli_signal.h"
#include "cli_util.h"
#include "commands.h"

#define MAX_PORTS 16

enum { OPT_ADDRESS = CLI_CONNECT_OPT_END };

static const char help[] =
	"Usage: devkit port-forward POD [LOCAL:]PORT... [-n NS] [--address ADDR]\n"
	"                           [-b [USER@]BASTION[:PORT] ...]\n"
	"\n"
	"Listen on local ports and forward each connection to a port of the Pod,\n"
	"until Ctrl-C. LOCAL 0 picks a free port; without LOCAL the same number is\n"
	"used (5005 -> localhost:5005).\n"
	"\n"
	"Through the API server (default): follows the Pod by name, needs the\n"
	"pods/portforward right, one WebSocket per connection. Through a bastion\n"
	"(-b): the bastion connects to the Pod's IP (read once) over SSH; needs a\n"
	"bastion inside the Pod network, no API server load, half-close works.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"      --address ADDR      the local address to listen on (default 127.0.0.1)\n"
	"\n"
	CLI_CONNECT_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 stopped by a signal; 1 a forward could not start; 2 usage error.\n";

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "bastion", required_argument, NULL, 'b' },
	{ "identity", required_argument, NULL, 'i' },
	{ "passphrase-env", required_argument, NULL, CLI_CONNECT_OPT_PASSPHRASE_ENV },
	{ "password-env", required_argument, NULL, CLI_CONNECT_OPT_PASSWORD_ENV },
	{ "no-agent", no_argument, NULL, CLI_CONNECT_OPT_NO_AGENT },
	{ "known-hosts", required_argument, NULL, CLI_CONNECT_OPT_KNOWN_HOSTS },
	{ "accept-new", no_argument, NULL, CLI_CONNECT_OPT_ACCEPT_NEW },
	{ "host-key", required_argument, NULL, CLI_CONNECT_OPT_HOST_KEY },
	{ "ciphers", required_argument, NULL, CLI_CONNECT_OPT_CIPHERS },
	{ "macs", required_argument, NULL, CLI_CONNECT_OPT_MACS },
	{ "kex", required_argument, NULL, CLI_CONNECT_OPT_KEX },
	{ "connect-timeout", required_argument, NULL, CLI_CONNECT_OPT_CONNECT_TIMEOUT },
	{ "no-reconnect", no_argument, NULL, CLI_CONNECT_OPT_NO_RECONNECT },
	{ "address", required_argument, NULL, OPT_ADDRESS },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct pf_spec {
	int local, pod;
};

static int parse_port(const char *s, int allow_zero, int *out)
{
	char *end;
	long v = strtol(s, &end, 10);
	if (!*s || *end || v < (allow_zero ? 0 : 1) || v > 65535)
		return -1;
	*out = (int)v;
	return 0;
}

/* "8080" or "18080:8080" or "0:8080". */
static int parse_spec(const char *cmd, const char *text, struct pf_spec *s)
{
	const char *colon = strchr(text, ':');
	char local[16];
	if (!colon) {
		if (parse_port(text, 0, &s->pod) != 0)
			return cli_usage(cmd, "'%s' is not a port (1..65535) or LOCAL:PORT", text);
		s->local = s->pod;
		return 0;
	}
	size_t n = (size_t)(colon - text);
	if (n == 0 || n >= sizeof(local))
		return cli_usage(cmd, "'%s': LOCAL:PORT needs a local port before ':'", text);
	memcpy(local, text, n);
	local[n] = '\0';
	if (parse_port(local, 1, &s->local) != 0 || parse_port(colon + 1, 0, &s->pod) != 0)
		return cli_usage(cmd, "'%s' is not LOCAL:PORT (LOCAL 0..65535, PORT 1..65535)", text);
	return 0;
}

struct pf_cli {
	struct cli_connect conn;
	const char *address;
};

static int pf_option(void *self, const char *cmd, int c, const char *arg)
{
	struct pf_cli *p = self;
	if (c != OPT_ADDRESS)
		return CLI_K8S_NOT_MINE;
	return cli_set_once(&p->address, arg, cmd, "--address");
}

static int connect_cb(void *self, const char *cmd, int c, const char *arg)
{
	struct pf_cli *p = self;
	int rc = cli_connect_option(&p->conn, cmd, c, arg);
	return rc == CLI_CONNECT_NOT_MINE ? CLI_K8S_NOT_MINE : rc;
}

int cmd_port_forward(int argc, char **argv)
{
	static const char cmd[] = "port-forward";
	struct pf_cli p = { .address = NULL };
	struct cli_pod_line line;
	const struct cli_pod_command pc = { cmd, help, CLI_CONNECT_SHORT_OPTIONS, long_options,
		pf_option, connect_cb, &p, 1, MAX_PORTS, "PORT (or LOCAL:PORT)",
		"at most 16 ports at once" };
	int rc;

	cli_connect_init(&p.conn);
	if ((rc = cli_pod_parse(&pc, &line, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	struct cli_k8s k = line.k;
	const char *pod = line.pod, *address = p.address;
	struct cli_connect conn = p.conn;
	struct pf_spec specs[MAX_PORTS];
	int n = line.nargs;
	for (int i = 0; i < n; i++)
		if ((rc = parse_spec(cmd, line.args[i], &specs[i])) != 0)
			return rc;
	if (line.container)
		return cli_usage(cmd, "-c: a port belongs to the Pod, not to a container");
	if (conn.bastion && ((rc = cli_connect_check(&conn, cmd)) != 0 ||
		(rc = cli_connect_read_secrets(&conn, cmd)) != 0))
		return rc;

	cli_signals_ignore_sigpipe();
	int sigfd = cli_signals_install();
	if (sigfd < 0)
		return CLI_EXIT_FAILURE;
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	devkit_tunnel *tunnel = NULL;
	devkit_pod_forward *fwd[MAX_PORTS] = { 0 };
	rc = CLI_EXIT_FAILURE;
	if (cli_k8s_open(&k, NULL, &ctx, &k8s) != 0)
		goto out;
	if (conn.bastion && cli_connect_open(&conn, ctx, &tunnel) != 0) {
		fprintf(stderr, "devkit port-forward: %s\n", devkit_error_last()->message);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		int lrc = tunnel
			? devkit_pod_forward_start_tunnel(&fwd[i], k8s, tunnel, k.namespace_name, pod,
				specs[i].pod, address, specs[i].local)
			: devkit_pod_forward_start(&fwd[i], k8s, k.namespace_name, pod, specs[i].pod,
				address, specs[i].local);
		if (lrc != 0) {
			fprintf(stderr, "devkit port-forward: port %d: %s\n", specs[i].pod,
				devkit_error_last()->message);
			goto out;
		}
		printf("forwarding %s:%d -> %s:%d (%s)\n", address ? address : "127.0.0.1",
			devkit_pod_forward_port(fwd[i]), pod, specs[i].pod,
			tunnel ? "through the bastion" : "through the API server");
	}
	fflush(stdout);
	struct pollfd pfd = { .fd = sigfd, .events = POLLIN };
	while (!cli_signal_caught())
		poll(&pfd, 1, -1);
	rc = CLI_EXIT_OK;
out:
	for (int i = 0; i < n; i++)
		devkit_pod_forward_free(fwd[i]);
	devkit_tunnel_free(tunnel);
	cli_k8s_close(ctx, k8s);
	return rc;
}
