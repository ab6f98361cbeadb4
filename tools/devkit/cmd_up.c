/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit up — bring up the whole environment a devkit.yaml describes, in
 * order, show it live, and tear it down in reverse order on Ctrl-C.
 *
 *   up:   tunnel (open: it is up when this returns), forwards, remote DNS,
 *         router, exposes (reverse forward + registration), Kubernetes
 *         client, replicas (created, then ready)
 *   down: replicas (deleted, waiting until gone), exposes (deregistered,
 *         then their forwards), router, DNS, forwards, tunnel (cmd_up_down.c)
 *
 * The configuration is loaded and checked before anything else: a mistake
 * in the file exits 2 with the loader's file:line:col message before any
 * network traffic. A failure while coming up tears down what was already up
 * and exits 1, so that nothing is left behind: no registry entries, no
 * replicas, no listening ports, no status socket. A registry that does not
 * answer is not a failure (the library retries; the status shows it).
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_up.h"
#include "commands.h"

#define CMD "up"
/* How long a replica may take to become ready. */
#define REPLICA_TIMEOUT_S 300
/* Slack on top of a registry request's own timeout when waiting for the
 * first attempt's outcome. */
#define FIRST_ATTEMPT_SLACK_MS 2000
/* How often the live status looks at the counters. */
#define LIVE_TICK_MS 1000

static const char up_help[] =
	"Usage: devkit up [-f FILE] [--profile NAME] [--replica-timeout SECONDS]\n"
	"                 [--json] [-v|-q]\n"
	"\n"
	"Bring up the environment a devkit.yaml describes (docs/config.md), in order:\n"
	"the tunnel to the bastion, its forwards, the cluster DNS and the router for\n"
	"`devkit run --control`, each exposed service (reverse forward + registry\n"
	"entry), then each replica (created, and waited for until ready). Then show\n"
	"a live status until Ctrl-C, SIGTERM or SIGHUP, and tear everything down in\n"
	"reverse order: delete the replicas, deregister, close the router, the DNS,\n"
	"the forwards and the tunnel. The tunnel reconnects by itself, and a\n"
	"registry that does not answer is retried; both show in the status.\n"
	"\n"
	"Options:\n"
	"  -f, --file FILE         the configuration (default ./devkit.yaml)\n"
	"      --profile NAME      merge this profile of the file over the rest\n"
	"      --replica-timeout SECONDS\n"
	"                          how long a replica may take to become ready\n"
	"                          (default 300)\n"
	"      --json              one JSON object per line on stdout:\n"
	"                          {\"event\":\"ready\",...} once everything is up,\n"
	"                          then events and {\"event\":\"status\",...} on changes\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"While it runs, `devkit status` (in the same directory, or with -f FILE)\n"
	"prints the same status from another terminal. It is served on the socket\n"
	".devkit/up.sock next to the file (0600, in a 0700 directory; where that\n"
	"cannot be, in $XDG_RUNTIME_DIR/devkit), whose path is printed at the start.\n"
	"One devkit up runs per file: a second one is refused.\n"
	"\n"
	"Status lines (or JSON events) go to stdout; errors and log lines go to\n"
	"stderr. Secrets come from the environment variables the file names and\n"
	"are never printed.\n"
	"\n"
	"Exit status: 0 after a signal, once everything is torn down; 1 when\n"
	"something cannot be brought up (what was up is torn down first), the\n"
	"tunnel goes down for good, or something could not be removed; 2 on a\n"
	"usage error or an error in the configuration file (file:line:col).\n";

enum {
	OPT_PROFILE = 256,
	OPT_JSON,
	OPT_REPLICA_TIMEOUT,
};

static const struct option long_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "replica-timeout", required_argument, NULL, OPT_REPLICA_TIMEOUT },
	{ "verbose", no_argument, NULL, 'v' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* 0; -1 after --help; CLI_EXIT_USAGE after saying why. */
static int parse_args(struct up_cli *u, int argc, char **argv)
{
	char err[256];
	double s;
	int c, rc = 0;

	cli_connect_init(&u->conn);
	u->replica_timeout_ms = REPLICA_TIMEOUT_S * 1000;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+:f:vqh", long_options, NULL)) != -1) {
		switch (c) {
		case 'f': rc = cli_set_once(&u->file, optarg, CMD, "--file"); break;
		case OPT_PROFILE: rc = cli_set_once(&u->profile, optarg, CMD, "--profile"); break;
		case OPT_JSON: u->json = 1; break;
		case OPT_REPLICA_TIMEOUT:
			if (cli_parse_seconds(optarg, &s, err, sizeof(err)) != 0 || s > 86400.0)
				return cli_usage(CMD, "--replica-timeout: '%s' is not a number of seconds "
					"between 0 and 86400", optarg);
			u->replica_timeout_ms = s * 1000.0 < 1.0 ? 1 : (int)(s * 1000.0);
			break;
		case 'v':
		case 'q':
			rc = cli_connect_option(&u->conn, CMD, c, optarg);
			break;
		case 'h':
			fputs(up_help, stdout);
			return -1;
		default:
			return cli_getopt_error(CMD, c, argv);
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if (!u->file)
		u->file = UP_DEFAULT_FILE;
	if (!*u->file)
		return cli_usage(CMD, "--file needs a path");
	return 0;
}

/* Arrays for everything the file lists, so the status can walk them. */
static int allocate(struct up_cli *u)
{
	u->n_forwards = devkit_config_forward_count(u->cfg);
	u->n_exposes = devkit_config_expose_count(u->cfg);
	u->n_replicas = devkit_config_replica_count(u->cfg);
	u->forwards = calloc(u->n_forwards + 1, sizeof(*u->forwards));
	u->exposes = calloc(u->n_exposes + 1, sizeof(*u->exposes));
	u->replicas = calloc(u->n_replicas + 1, sizeof(*u->replicas));
	if (!u->forwards || !u->exposes || !u->replicas) {
		cli_errorf("out of memory");
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* Load the file and find the status socket: everything that needs no network. */
static int prepare(struct up_cli *u)
{
	char err[512];
	int rc;

	if ((rc = up_config_load(u->file, u->profile, u->json, &u->out, &u->cfg)) != 0)
		return rc;
	u->tunnel_opts = devkit_config_tunnel(u->cfg);
	if (!u->tunnel_opts && devkit_config_replica_count(u->cfg) == 0) {
		up_report_failure(u, "%s: nothing to bring up: the file has neither a tunnel: nor "
			"replicas: section", u->file);
		return CLI_EXIT_USAGE;
	}
	if (!realpath(u->file, u->config_path))
		snprintf(u->config_path, sizeof(u->config_path), "%s", u->file);
	if (up_socket_where(u->file, &u->where, err, sizeof(err)) != 0) {
		up_report_failure(u, "status socket: %s", err);
		return CLI_EXIT_FAILURE;
	}
	return allocate(u);
}

/* --- bring-up, step by step ---------------------------------------------------------- */

/* Stop bringing up if the loop says so. */
#define PUMP(u) do { \
		enum up_end end_ = up_pump((u), 0); \
		if (end_ != UP_GO_ON) \
			return end_; \
	} while (0)

static enum up_end open_tunnel(struct up_cli *u)
{
	int rc = devkit_tunnel_open(&u->tunnel, u->ctx, u->tunnel_opts);

	if (rc != 0) {
		u->tunnel = NULL;
		up_report_error(u, NULL, rc); /* the library's message names the bastion */
		return UP_END_ERROR;
	}
	u->tunnel_id = devkit_tunnel_id(u->tunnel);
	if (up_report_tunnel(u) != 0)
		return UP_END_OUTPUT;
	PUMP(u);
	return UP_GO_ON;
}

static enum up_end add_forwards(struct up_cli *u)
{
	for (size_t i = 0; i < u->n_forwards; i++) {
		struct up_forward *f = &u->forwards[i];
		const devkit_forward_options *o = devkit_config_forward(u->cfg, i);
		char context[CLI_HOST_MAX * 3], listen[CLI_HOST_MAX + 16], target[CLI_HOST_MAX + 16];
		const char *addr;
		int rc;

		f->opts = o;
		rc = devkit_tunnel_add_forward(&f->forward, u->tunnel, o);
		if (rc != 0) {
			f->forward = NULL;
			cli_format_hostport(listen, sizeof(listen), o->bind_address, o->bind_port);
			if (o->kind == DEVKIT_FORWARD_DYNAMIC)
				snprintf(context, sizeof(context), "forwards[%zu] socks %s", i, listen);
			else
				snprintf(context, sizeof(context), "forwards[%zu] %s %s -> %s", i,
					cli_forward_kind_name(o->kind), listen, cli_format_hostport(target,
						sizeof(target), o->target_host, o->target_port));
			up_report_error(u, context, rc);
			return UP_END_ERROR;
		}
		f->id = devkit_forward_id(f->forward);
		f->port = devkit_forward_port(f->forward);
		addr = devkit_forward_address(f->forward);
		snprintf(f->address, sizeof(f->address), "%s", addr && *addr ? addr
			: o->bind_address ? o->bind_address : "127.0.0.1");
		if (up_report_forward(u, f, i) != 0)
			return UP_END_OUTPUT;
		PUMP(u);
	}
	return UP_GO_ON;
}

/* The DNS first: the router answers the shim's lookups with it. */
static enum up_end start_routing(struct up_cli *u)
{
	const devkit_dns_options *d = devkit_config_dns(u->cfg);
	const devkit_router_options *r = devkit_config_router(u->cfg);
	int rc;

	if (d && (rc = devkit_dns_start(&u->dns, u->tunnel, d)) != 0) {
		u->dns = NULL;
		up_report_error(u, "dns", rc);
		return UP_END_ERROR;
	}
	if (r) {
		/* The config's options are read-only: a copy carries our DNS. */
		u->router_opts = *r;
		u->router_opts.dns = u->dns;
		if ((rc = devkit_router_start(&u->router, u->tunnel, &u->router_opts)) != 0) {
			u->router = NULL;
			up_report_error(u, "routing", rc);
			return UP_END_ERROR;
		}
	}
	if ((u->dns || u->router) && up_report_routing(u) != 0)
		return UP_END_OUTPUT;
	PUMP(u);
	return UP_GO_ON;
}

/* Where things are, for the reports: the reverse forward's real port (the
 * bastion picks one for remote_port 0) and what the entry advertises. */
static void note_exposed(struct up_expose *e)
{
	devkit_forward *f = devkit_expose_forward(e->expose);
	const char *addr = devkit_forward_address(f);
	devkit_buf buf = DEVKIT_BUF_INIT;
	char port[16];

	e->reg = devkit_expose_registration(e->expose);
	e->reg_id = devkit_registration_id(e->reg);
	e->forward_id = devkit_forward_id(f);
	e->remote_port = devkit_forward_port(f);
	snprintf(e->remote_address, sizeof(e->remote_address), "%s", addr && *addr ? addr
		: e->eo->remote_bind_address ? e->eo->remote_bind_address : "0.0.0.0");
	if (devkit_registration_describe(e->reg, &buf) == 0 && buf.ptr) {
		cli_json_field(buf.ptr, "instance_id", e->instance_id, sizeof(e->instance_id));
		cli_json_field(buf.ptr, "address", e->advertised, sizeof(e->advertised));
		if (cli_json_field(buf.ptr, "port", port, sizeof(port)) == 0)
			e->advertised_port = atoi(port);
	}
	devkit_buf_dispose(&buf);
}

/* A registration refused for good while coming up: the file says something
 * the registry will never accept (credentials, URL), so stop. */
static enum up_end refused(struct up_cli *u, size_t i)
{
	struct up_expose *e = &u->exposes[i];
	int rc = devkit_registration_wait(e->reg, 0);
	char context[CLI_HOST_MAX * 3];

	up_drain(u); /* the "failed" event first, then why */
	snprintf(context, sizeof(context), "expose[%zu] %s: registering in %s", i, e->ro->service,
		e->ro->registry);
	up_report_error(u, context, rc ? rc : DEVKIT_ERROR);
	return UP_END_ERROR;
}

/*
 * Wait for the first attempt of each registration to finish, so that "ready"
 * says "registered" when the registries answer; one that is down is retrying
 * by then and is not waited for (the status shows it, the library goes on).
 */
static enum up_end first_attempts(struct up_cli *u)
{
	long long deadline = 0;

	for (size_t i = 0; i < u->n_exposes; i++) {
		long long t = u->exposes[i].ro->timeout_ms ? u->exposes[i].ro->timeout_ms : 5000;

		if (t > deadline)
			deadline = t;
	}
	deadline += cli_now_ms() + FIRST_ATTEMPT_SLACK_MS;
	for (;;) {
		int pending = 0;
		enum up_end end;

		for (size_t i = 0; i < u->n_exposes; i++) {
			int state = devkit_registration_get_state(u->exposes[i].reg);

			if (state == DEVKIT_REGISTRATION_FAILED)
				return refused(u, i);
			pending += state == DEVKIT_REGISTRATION_REGISTERING;
		}
		if (!pending || cli_now_ms() >= deadline)
			return UP_GO_ON;
		if ((end = up_pump(u, 100)) != UP_GO_ON)
			return end;
	}
}

static enum up_end expose_all(struct up_cli *u)
{
	for (size_t i = 0; i < u->n_exposes; i++) {
		struct up_expose *e = &u->exposes[i];
		int rc;

		e->eo = devkit_config_expose(u->cfg, i);
		e->ro = devkit_config_expose_registration(u->cfg, i);
		rc = devkit_tunnel_expose(&e->expose, u->tunnel, e->eo, e->ro);
		if (rc != 0) {
			char context[CLI_HOST_MAX];

			e->expose = NULL;
			snprintf(context, sizeof(context), "expose[%zu] %s", i, e->ro->service);
			up_report_error(u, context, rc);
			return UP_END_ERROR;
		}
		note_exposed(e);
		if (up_report_expose(u, e, i) != 0)
			return UP_END_OUTPUT;
		PUMP(u);
	}
	return u->n_exposes ? first_attempts(u) : UP_GO_ON;
}

static enum up_end bring_up(struct up_cli *u)
{
	enum up_end end;
	int rc = cli_connect_new_ctx(&u->conn, &u->ctx);

	if (rc != 0) {
		up_report_error(u, "starting the engine", rc);
		return UP_END_ERROR;
	}
	if (u->tunnel_opts) {
		if ((end = open_tunnel(u)) != UP_GO_ON || (end = add_forwards(u)) != UP_GO_ON
			|| (end = start_routing(u)) != UP_GO_ON || (end = expose_all(u)) != UP_GO_ON)
			return end;
	}
	if (u->n_replicas && (end = up_replicas_start(u)) != UP_GO_ON)
		return end;
	return UP_GO_ON;
}

/* --- running ---------------------------------------------------------------------------- */

static enum up_end live(struct up_cli *u)
{
	enum up_end end;

	u->phase = UP_READY;
	u->since = time(NULL);
	up_drain(u); /* what came with the last step, before "ready" */
	(void)up_status_changed(u); /* what "ready" shows is the baseline */
	if (up_status_show(u, "ready") != 0 || (!u->json && cli_say("ready; Ctrl-C to tear down") != 0))
		return UP_END_OUTPUT;
	for (;;) {
		if ((end = up_pump(u, LIVE_TICK_MS)) != UP_GO_ON)
			return end;
		if (up_status_changed(u) && up_status_show(u, "status") != 0)
			return UP_END_OUTPUT;
	}
}

static void release(struct up_cli *u)
{
	devkit_config_free(u->cfg);
	free(u->forwards);
	free(u->exposes);
	free(u->replicas);
	cli_json_free(&u->out);
}

int cmd_up(int argc, char **argv)
{
	struct up_cli u;
	enum up_end end;
	int rc;

	memset(&u, 0, sizeof(u));
	u.listen_fd = u.signal_fd = -1;
	u.worker.done_fds[0] = u.worker.done_fds[1] = -1;
	for (int i = 0; i < UP_MAX_CLIENTS; i++)
		u.clients[i].fd = -1;
	if ((rc = parse_args(&u, argc, argv)) != 0)
		return rc < 0 ? CLI_EXIT_OK : rc; /* -1: --help was printed */
	if ((rc = prepare(&u)) != 0) {
		release(&u);
		return rc;
	}
	cli_signals_ignore_sigpipe();
	/* From the first step on, a signal must tear down what is up: registry
	 * entries and replicas outlive the process. A step that blocks (opening
	 * the tunnel) is finished first; a second Ctrl-C ends it at once. */
	if ((u.signal_fd = cli_signals_install()) < 0) {
		cli_errorf("installing signal handlers: %s", strerror(errno));
		release(&u);
		return CLI_EXIT_FAILURE;
	}
	if ((rc = up_socket_listen(&u, &u.where)) != 0) {
		up_socket_close(&u); /* the directory, if it was made */
		release(&u);
		return rc;
	}
	u.phase = UP_STARTING;
	u.since = time(NULL);
	end = up_report_starting(&u) != 0 ? UP_END_OUTPUT : bring_up(&u);
	if (end == UP_GO_ON)
		end = live(&u);
	rc = up_tear_down(&u, end);
	release(&u);
	return rc;
}
