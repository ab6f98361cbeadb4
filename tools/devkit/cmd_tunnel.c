/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit tunnel — one SSH session to a bastion carrying SOCKS/HTTP proxy (-D),
 * local (-L) and remote (-R) forwards, until SIGINT/SIGTERM/SIGHUP.
 *
 * Life cycle: parse everything first (usage errors exit 2 before any network
 * traffic), open the tunnel, add every forward, start the remote DNS and
 * the router when asked (any failure exits 1 with the library's message),
 * print "ready" with the real ports and the control socket, then wait on the
 * library's event fd and a signal self-pipe in one poll().
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_tunnel.h"
#include "commands.h"

static const char tunnel_help[] =
	"Usage: devkit tunnel --bastion [USER@]HOST[:PORT] [options]\n"
	"\n"
	"Open one SSH session to a bastion and carry forwards over it until\n"
	"interrupted (Ctrl-C, SIGTERM or SIGHUP); then close cleanly and exit 0.\n"
	"The session reconnects by itself when the bastion goes away; local ports\n"
	"stay bound meanwhile.\n"
	"\n"
	CLI_CONNECT_HELP
	"      --no-reconnect      when the session is lost, exit with status 1\n"
	"                          instead of reconnecting\n"
	"\n"
	"Forwards (each may be repeated; port 0 picks a free port, and the port\n"
	"actually bound is reported when the tunnel is ready):\n"
	"  -D, --socks [ADDR:]PORT  a SOCKS5, SOCKS4 and HTTP proxy on ADDR:PORT\n"
	"                          (default address 127.0.0.1); host names are\n"
	"                          resolved on the bastion's side\n"
	"  -L, --local [ADDR:]LPORT:HOST:PORT\n"
	"                          listen on local ADDR:LPORT (default 127.0.0.1) and\n"
	"                          connect to HOST:PORT as the bastion sees it\n"
	"  -R, --remote [ADDR:]RPORT:LHOST:LPORT\n"
	"                          listen on the bastion's ADDR:RPORT (default\n"
	"                          127.0.0.1) and connect back to LHOST:LPORT here\n"
	"      --proxy-user USER   require this user name on the --socks proxies\n"
	"                          (SOCKS5 username/password, HTTP Basic) ...\n"
	"      --proxy-password-env VAR\n"
	"                          ... with the password from environment VAR\n"
	"      --allow-non-loopback  allow --socks and -L to listen on an address\n"
	"                          other than loopback (others could use them)\n"
	"  IPv6 addresses go in brackets: -L [::1]:8080:[fd00::5]:80\n"
	"\n"
	"Routing for `devkit run --control` (which then opens no tunnel of its own):\n"
	CLI_CLUSTER_HELP
	"      --control PATH      the control socket for `devkit run --control PATH`\n"
	"                          (default: a new private path, reported when ready);\n"
	"                          without --cluster-dns, routing is by CIDR only\n"
	"\n"
	"Output:\n"
	"      --json              one JSON object per line on stdout, first\n"
	"                          {\"event\":\"ready\",...} with every bound port\n"
	"      --stats-interval SECONDS\n"
	"                          report traffic counters every SECONDS\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Status lines (or JSON events) go to stdout; errors and log lines go to\n"
	"stderr. Passwords are read only from environment variables, never from\n"
	"the command line, and are never printed.\n"
	"\n"
	"Exit status: 0 after a clean close on a signal; 1 when the tunnel cannot\n"
	"start or goes down for good; 2 on a usage error.\n"
	"\n"
	"Example:\n"
	"  devkit tunnel --bastion dev@bastion.example.com -D 1080 -L 5432:db:5432\n"
	"  curl --socks5-hostname 127.0.0.1:1080 http://orders.default.svc.cluster.local/\n"
	"  devkit tunnel --bastion dev@bastion --cluster-dns 10.96.0.10 --control /tmp/k.sock\n"
	"  devkit run --control /tmp/k.sock -- curl http://orders.default.svc.cluster.local/\n";

enum {
	OPT_PROXY_USER = CLI_CLUSTER_OPT_END,
	OPT_CONTROL,
	OPT_PROXY_PASSWORD_ENV,
	OPT_ALLOW_NON_LOOPBACK,
	OPT_JSON,
	OPT_STATS_INTERVAL,
};

static const struct option long_options[] = {
	CLI_CONNECT_LONG_OPTIONS,
	CLI_CLUSTER_LONG_OPTIONS,
	{ "control", required_argument, NULL, OPT_CONTROL },
	{ "socks", required_argument, NULL, 'D' },
	{ "local", required_argument, NULL, 'L' },
	{ "remote", required_argument, NULL, 'R' },
	{ "proxy-user", required_argument, NULL, OPT_PROXY_USER },
	{ "proxy-password-env", required_argument, NULL, OPT_PROXY_PASSWORD_ENV },
	{ "allow-non-loopback", no_argument, NULL, OPT_ALLOW_NON_LOOPBACK },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int add_forward_spec(struct tunnel_cli *t, devkit_forward_kind kind, const char *flag,
	const char *arg)
{
	struct tunnel_forward *grown, *f;
	char err[256];
	int rc;

	grown = realloc(t->forwards, (t->n_forwards + 1) * sizeof(*grown));
	if (!grown) {
		cli_errorf("out of memory");
		return CLI_EXIT_FAILURE;
	}
	t->forwards = grown;
	f = &t->forwards[t->n_forwards];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->flag = flag;
	f->arg = arg;
	if (kind == DEVKIT_FORWARD_DYNAMIC)
		rc = cli_parse_listen(arg, &f->spec.listen, err, sizeof(err));
	else
		rc = cli_parse_forward(arg, &f->spec, err, sizeof(err));
	if (rc != 0)
		return cli_usage("tunnel", "%s '%s': %s", flag, arg, err);
	t->n_forwards++;
	return 0;
}

/* Everything the command line can get wrong is found here, before any traffic. */
static int parse_args(struct tunnel_cli *t, int argc, char **argv)
{
	int c, rc = 0, any_socks = 0;
	char err[256];

	cli_connect_init(&t->conn);
	opterr = 0; /* our own messages, in our own format */
	optind = 1;
	for (;;) {
		/* '+': stop at the first non-option, which is then an error; ':': tell
		 * a missing value apart from an unknown option. */
		c = getopt_long(argc, argv, "+:" CLI_CONNECT_SHORT_OPTIONS "D:L:R:h", long_options, NULL);
		if (c == -1)
			break;
		switch (c) {
		case 'D':
			any_socks = 1;
			rc = add_forward_spec(t, DEVKIT_FORWARD_DYNAMIC, "--socks", optarg);
			break;
		case 'L': rc = add_forward_spec(t, DEVKIT_FORWARD_LOCAL, "-L", optarg); break;
		case 'R': rc = add_forward_spec(t, DEVKIT_FORWARD_REMOTE, "-R", optarg); break;
		case OPT_PROXY_USER: rc = cli_set_once(&t->proxy_user, optarg, "tunnel", "--proxy-user"); break;
		case OPT_PROXY_PASSWORD_ENV:
			rc = cli_set_once(&t->proxy_password_env, optarg, "tunnel", "--proxy-password-env");
			break;
		case OPT_ALLOW_NON_LOOPBACK: t->allow_non_loopback = 1; break;
		case OPT_CONTROL:
			if (!*optarg)
				return cli_usage("tunnel", "--control needs a path for the control socket");
			rc = cli_set_once(&t->control, optarg, "tunnel", "--control");
			break;
		case OPT_JSON: t->json = 1; break;
		case OPT_STATS_INTERVAL:
			if (cli_parse_seconds(optarg, &t->stats_interval_s, err, sizeof(err)) != 0)
				return cli_usage("tunnel", "--stats-interval: %s", err);
			if (t->stats_interval_s < 0.1)
				t->stats_interval_s = 0.1;
			break;
		case 'h':
			fputs(tunnel_help, stdout);
			return -1;
		case ':':
		case '?':
			return cli_getopt_error("tunnel", c, argv);
		default:
			rc = cli_cluster_option(&t->cluster, "tunnel", c, optarg);
			if (rc == CLI_CONNECT_NOT_MINE)
				rc = cli_connect_option(&t->conn, "tunnel", c, optarg);
			if (rc == CLI_CONNECT_NOT_MINE)
				return cli_getopt_error("tunnel", '?', argv);
			break;
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage("tunnel", "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect_check(&t->conn, "tunnel")) != 0)
		return rc;
	if ((rc = cli_cluster_finish(&t->cluster, "tunnel", 1)) != 0)
		return rc;
	if (!t->proxy_user != !t->proxy_password_env)
		return cli_usage("tunnel", "--proxy-user and --proxy-password-env go together");
	if (t->proxy_user && !any_socks)
		return cli_usage("tunnel", "--proxy-user applies to --socks proxies, and none is given");
	if ((rc = cli_connect_read_secrets(&t->conn, "tunnel")) != 0)
		return rc;
	if (t->proxy_password_env && cli_secret_from_env(t->proxy_password_env, &t->proxy_password,
		err, sizeof(err)) != 0)
		return cli_usage("tunnel", "--proxy-password-env: %s", err);
	return 0;
}

static int start_engine(struct tunnel_cli *t)
{
	int rc = cli_connect_new_ctx(&t->conn, &t->ctx);

	if (rc != 0)
		report_error(t, "starting the engine", rc);
	return rc;
}

static int open_tunnel(struct tunnel_cli *t)
{
	int rc = cli_connect_open(&t->conn, t->ctx, &t->tunnel);

	if (rc != 0) {
		/* The library's message names the bastion and says why. */
		report_error(t, NULL, rc);
		return rc;
	}
	t->tunnel_id = devkit_tunnel_id(t->tunnel);
	return 0;
}

/* Only for choosing a hint: the library decides what it accepts. */
static int is_loopback(const char *address)
{
	return strncmp(address, "127.", 4) == 0 || strcmp(address, "::1") == 0
		|| strcmp(address, "localhost") == 0;
}

static int add_forwards(struct tunnel_cli *t)
{
	for (size_t i = 0; i < t->n_forwards; i++) {
		struct tunnel_forward *f = &t->forwards[i];
		devkit_forward_options opts;
		const char *addr;
		char context[CLI_HOST_MAX * 2];
		int rc;

		if ((rc = devkit_forward_options_init(&opts, DEVKIT_FORWARD_OPTIONS_VERSION)) != 0) {
			report_error(t, "forward options", rc);
			return rc;
		}
		opts.kind = f->kind;
		opts.bind_address = f->spec.listen.address[0] ? f->spec.listen.address : NULL;
		opts.bind_port = f->spec.listen.port;
		if (f->kind == DEVKIT_FORWARD_DYNAMIC) {
			opts.proxy_username = t->proxy_user;
			opts.proxy_password = t->proxy_password;
		} else {
			opts.target_host = f->spec.target_host;
			opts.target_port = f->spec.target_port;
		}
		opts.allow_non_loopback = t->allow_non_loopback;
		rc = devkit_tunnel_add_forward(&f->forward, t->tunnel, &opts);
		if (rc != 0) {
			f->forward = NULL;
			snprintf(context, sizeof(context), "%s %s", f->flag, f->arg);
			report_error(t, context, rc);
			/* The library names its option; say which flag sets it here. */
			if (rc == DEVKIT_EINVAL && !t->allow_non_loopback && f->kind != DEVKIT_FORWARD_REMOTE
				&& f->spec.listen.address[0] && !is_loopback(f->spec.listen.address))
				cli_errorf("to listen on %s anyway, add --allow-non-loopback",
					f->spec.listen.address);
			return rc;
		}
		f->id = devkit_forward_id(f->forward);
		f->port = devkit_forward_port(f->forward);
		addr = devkit_forward_address(f->forward);
		snprintf(f->address, sizeof(f->address), "%s",
			addr && *addr ? addr : (f->spec.listen.address[0] ? f->spec.listen.address
				: "127.0.0.1"));
	}
	return 0;
}

/* After the forwards, so a failure here names the only part that failed. */
static int start_routing(struct tunnel_cli *t)
{
	const char *what;
	int rc;

	if (!t->cluster.cluster_dns && !t->control)
		return 0;
	rc = cli_cluster_start(&t->cluster, t->tunnel, t->control, &t->dns, &t->router, &what);
	if (rc != 0)
		report_error(t, what, rc);
	return rc;
}

/* 1: the event means the tunnel is gone for good. */
static int is_fatal(const devkit_event *ev)
{
	return ev->type == DEVKIT_EVENT_TUNNEL_STATE && ev->state == DEVKIT_TUNNEL_DOWN;
}

/*
 * Report one event, unless "ready" already said it: the first FORWARD_READY of
 * each forward, with the port the getters gave, would only repeat it.
 * Returns 1 if the tunnel is down for good, -1 if stdout is gone, else 0.
 */
static int handle_event(struct tunnel_cli *t, const devkit_event *ev)
{
	if (ev->type == DEVKIT_EVENT_FORWARD_READY) {
		struct tunnel_forward *f = tunnel_find_forward(t, ev->forward_id);

		if (f) {
			int repeat = !f->ready_seen && ev->port == f->port;

			f->ready_seen = 1;
			/* After a reconnect the bastion may pick another port for -R 0:... */
			f->port = ev->port;
			if (ev->address[0])
				snprintf(f->address, sizeof(f->address), "%s", ev->address);
			if (repeat)
				return 0;
		}
	}
	if (report_event(t, ev) != 0)
		return -1;
	if (is_fatal(ev)) {
		/* The library's message starts with the state: "down: bastion ...". */
		const char *why = cli_without_state_prefix(ev->message,
			devkit_tunnel_state_name(ev->state));

		cli_errorf("tunnel to %s is down%s%s", t->conn.bastion, why[0] ? ": " : "", why);
		return 1;
	}
	return 0;
}

/* Events that arrived while the tunnel was opening and merely announce what
 * "ready" is about to say (connecting, up) are dropped; the rest are kept, in
 * order, to be reported after "ready". */
#define EARLY_MAX 32

static size_t collect_early_events(struct tunnel_cli *t, devkit_event *early)
{
	size_t n = 0;
	devkit_event ev;

	while (n < EARLY_MAX && devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		if (ev.type == DEVKIT_EVENT_TUNNEL_STATE
			&& (ev.state == DEVKIT_TUNNEL_CONNECTING || ev.state == DEVKIT_TUNNEL_UP))
			continue;
		/* The remote DNS's own forward to the cluster DNS: "ready" reports
		 * the DNS as a whole. */
		if (ev.type == DEVKIT_EVENT_FORWARD_READY && t->dns
			&& !tunnel_find_forward(t, ev.forward_id))
			continue;
		early[n++] = ev;
	}
	return n;
}

enum loop_end { LOOP_SIGNAL, LOOP_DOWN, LOOP_OUTPUT, LOOP_ERROR };

static enum loop_end run_loop(struct tunnel_cli *t, int signal_fd)
{
	int event_fd = devkit_ctx_event_fd(t->ctx);
	long long stats_every = (long long)(t->stats_interval_s * 1000.0);
	long long next_stats = stats_every > 0 ? cli_now_ms() + stats_every : 0;
	int idle_wakeups = 0;

	for (;;) {
		struct pollfd fds[2];
		nfds_t nfds = 1;
		int timeout = -1, n, drained = 0, rc = 0;
		devkit_event ev;

		if (cli_signal_caught())
			return LOOP_SIGNAL;
		if (next_stats) {
			long long left = next_stats - cli_now_ms();

			timeout = left < 0 ? 0 : (int)left;
		}
		/* Without an event fd, fall back to polling the queue often enough
		 * that events still show up promptly; signals wake us either way. */
		if (event_fd < 0 && (timeout < 0 || timeout > 50))
			timeout = 50;
		fds[0].fd = signal_fd;
		fds[0].events = POLLIN;
		if (event_fd >= 0) {
			fds[1].fd = event_fd;
			fds[1].events = POLLIN;
			nfds = 2;
		}
		n = poll(fds, nfds, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			cli_errorf("poll: %s", strerror(errno));
			return LOOP_ERROR;
		}
		if (cli_signal_caught())
			return LOOP_SIGNAL;

		/* Bounded, so a flood of events cannot delay a Ctrl-C. */
		while (drained < 256 && (rc = devkit_ctx_poll(t->ctx, &ev, 0)) == 1) {
			drained++;
			rc = handle_event(t, &ev);
			if (rc < 0)
				return LOOP_OUTPUT;
			if (rc > 0)
				return LOOP_DOWN;
		}
		if (drained == 0 && rc < 0) {
			report_error(t, "reading events", rc);
			return LOOP_ERROR;
		}
		/* An event fd that stays readable with nothing queued would spin this
		 * loop; after a few such wake-ups, poll the queue on a timer instead. */
		if (event_fd >= 0 && nfds == 2 && (fds[1].revents & POLLIN) && drained == 0) {
			if (++idle_wakeups >= 8) {
				if (t->conn.verbosity >= 2)
					cli_errorf("debug: event fd readable with no events; polling instead");
				event_fd = -1;
			}
		} else if (drained) {
			idle_wakeups = 0;
		}

		if (next_stats && cli_now_ms() >= next_stats) {
			if (report_stats(t) != 0)
				return LOOP_OUTPUT;
			next_stats += stats_every;
			if (next_stats <= cli_now_ms()) /* suspended laptop: do not burst */
				next_stats = cli_now_ms() + stats_every;
		}
	}
}

/* Close in order (router, DNS, tunnel, then engine) and report what the close produced,
 * such as the final tunnel-state "closed". */
static void shut_down(struct tunnel_cli *t, int report)
{
	devkit_event ev;

	/* Both use the tunnel; the router uses the DNS. */
	devkit_router_free(t->router);
	t->router = NULL;
	devkit_dns_free(t->dns);
	t->dns = NULL;
	if (t->tunnel) {
		devkit_tunnel_free(t->tunnel);
		t->tunnel = NULL;
		for (size_t i = 0; i < t->n_forwards; i++)
			t->forwards[i].forward = NULL; /* freed with their tunnel */
	}
	if (t->ctx) {
		while (devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
			if (report && report_event(t, &ev) != 0)
				report = 0;
		}
		devkit_ctx_free(t->ctx);
		t->ctx = NULL;
	}
}

int cmd_tunnel(int argc, char **argv)
{
	struct tunnel_cli t;
	devkit_event early[EARLY_MAX];
	size_t n_early, i;
	int rc, status = CLI_EXIT_FAILURE, signal_fd;
	enum loop_end end;

	memset(&t, 0, sizeof(t));
	rc = parse_args(&t, argc, argv);
	if (rc != 0) {
		free(t.forwards);
		cli_cluster_free(&t.cluster);
		return rc < 0 ? CLI_EXIT_OK : rc; /* -1: --help was printed */
	}

	cli_signals_ignore_sigpipe();
	/*
	 * Until the tunnel is ready, SIGINT keeps its default action: opening can
	 * block for the whole connect timeout and cannot be cancelled, so Ctrl-C
	 * should end the process at once rather than wait. Nothing persists yet.
	 */
	if (start_engine(&t) != 0 || open_tunnel(&t) != 0 || add_forwards(&t) != 0
		|| start_routing(&t) != 0)
		goto out;

	signal_fd = cli_signals_install();
	if (signal_fd < 0) {
		cli_errorf("installing signal handlers: %s", strerror(errno));
		goto out;
	}
	n_early = collect_early_events(&t, early);
	if (report_ready(&t) != 0)
		goto stdout_gone;
	for (i = 0; i < n_early; i++) {
		rc = handle_event(&t, &early[i]);
		if (rc < 0)
			goto stdout_gone;
		if (rc > 0)
			goto out;
	}

	end = run_loop(&t, signal_fd);
	switch (end) {
	case LOOP_SIGNAL:
		(void)report_closing(&t, cli_signal_caught());
		shut_down(&t, 1);
		status = CLI_EXIT_OK;
		goto out;
	case LOOP_OUTPUT:
		goto stdout_gone;
	case LOOP_DOWN:
	case LOOP_ERROR:
	default:
		goto out;
	}

stdout_gone:
	/* Whoever read our output has gone; there is no one left to serve. */
	cli_errorf("cannot write to stdout; closing the tunnel");
	shut_down(&t, 0);
out:
	shut_down(&t, 0);
	cli_json_free(&t.out);
	free(t.forwards);
	cli_cluster_free(&t.cluster);
	return status;
}
