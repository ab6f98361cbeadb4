/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit deploy POD LOCAL_PATH --to REMOTE_DIR: copy a build into a replica
 * and restart its app (devkit_deploy), with progress on stderr and a
 * summary on stdout; and devkit app POD status|start|stop|restart: the
 * app under the replica's keep-alive (devkit_app_control).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_k8s.h"
#include "cli_pod.h"
#include "cli_signal.h"
#include "commands.h"

static const char deploy_help[] =
	"Usage: devkit deploy POD LOCAL_PATH --to REMOTE_DIR [-c CONTAINER] [-n NS]\n"
	"                     [--no-restart] [--full] [--timeout DURATION]\n"
	"\n"
	"Copy a local file or directory into a container and restart the app under\n"
	"the replica's keep-alive (devkit replicate --keep-alive); the container and\n"
	"the Pod keep running. A directory's contents land under REMOTE_DIR (as\n"
	"`rsync DIR/ REMOTE_DIR`), a file lands as REMOTE_DIR/NAME; REMOTE_DIR is made\n"
	"if missing, and a relative one is under the container's working directory.\n"
	"\n"
	"Files go as a tar stream over exec (the container needs /bin/sh and tar,\n"
	"as for kubectl cp; no tar is needed here). Later deploys to the same\n"
	"REMOTE_DIR send only the files whose size, modification time or mode\n"
	"changed since the last one (REMOTE_DIR/.devkit-deploy records them).\n"
	"Files deleted here are not deleted in the container.\n"
	"\n"
	"      --to REMOTE_DIR     the directory in the container (required)\n"
	"  -c, --container NAME    the container (default: the Pod's default one)\n"
	"      --no-restart        copy only; leave the app running as it is\n"
	"      --full              send every file, changed or not\n"
	"      --timeout DURATION  for each step in the container (default 2m)\n"
	"\n"
	CLI_K8S_HELP
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Progress goes to stderr, the summary to stdout.\n"
	"Exit status: 0 copied (and restarted); 1 failed (the message says which\n"
	"step, in the container's words); 2 usage error.\n";

static const char app_help[] =
	"Usage: devkit app POD status|start|stop|restart [-c CONTAINER] [-n NS]\n"
	"\n"
	"The app that a replica's keep-alive runs (devkit replicate --keep-alive):\n"
	"its state, or stop, start and restart it while the container and the Pod\n"
	"keep running. Prints the state afterwards:\n"
	"  running pid 42 since 2026-11-25T10:00:00Z\n"
	"  stopped since ... (exit status 143)\n"
	"  exited since ... (exit status 1)\n"
	"\n"
	"  -c, --container NAME    the container (default: the Pod's default one)\n"
	"\n"
	CLI_K8S_HELP
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 done (for status: whatever the state); 1 failed (no\n"
	"keep-alive in the container, no such Pod); 2 usage error.\n";

enum { OPT_TO = CLI_CONNECT_OPT_END, OPT_NO_RESTART, OPT_FULL, OPT_TIMEOUT };

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "to", required_argument, NULL, OPT_TO },
	{ "container", required_argument, NULL, 'c' },
	{ "no-restart", no_argument, NULL, OPT_NO_RESTART },
	{ "full", no_argument, NULL, OPT_FULL },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct deploy_cli {
	struct cli_k8s k;
	const char *pod, *local, *to, *container, *action;
	int no_restart, full;
	long long timeout_ms;
	/* progress */
	int tty;
	long long last_ms;
	char stage[16];     /* the last stage shown */
	int line_open;
};

static int deploy_option(void *self, const char *cmd, int c, const char *arg)
{
	struct deploy_cli *d = self;
	char err[256];

	switch (c) {
	case OPT_TO:
		if (!*arg)
			return cli_usage(cmd, "--to: the directory is empty");
		d->to = arg;
		return 0;
	case OPT_NO_RESTART:
		d->no_restart = 1;
		return 0;
	case OPT_FULL:
		d->full = 1;
		return 0;
	case OPT_TIMEOUT:
		if (cli_k8s_parse_duration(arg, 1000, 24LL * 3600 * 1000, &d->timeout_ms, err,
			sizeof(err)) != 0)
			return cli_usage(cmd, "--timeout: %s", err);
		return 0;
	default:
		return CLI_K8S_NOT_MINE;
	}
}

/* The app command takes none of the copy options. */
static int app_option(void *self, const char *cmd, int c, const char *arg)
{
	(void)self;
	(void)arg;
	if (c == OPT_TO || c == OPT_NO_RESTART || c == OPT_FULL || c == OPT_TIMEOUT)
		return cli_usage(cmd, "that option is for devkit deploy (see devkit app --help)");
	return CLI_K8S_NOT_MINE;
}

/* 0; -1 after --help; CLI_EXIT_USAGE after saying why. `app`: the app
 * command (POD ACTION, no copy options). */
static int parse(struct deploy_cli *d, const char *cmd, int app, int argc, char **argv)
{
	struct cli_pod_line line;
	const struct cli_pod_command pc = { cmd, app ? app_help : deploy_help, "", long_options,
		app ? app_option : deploy_option, NULL, d, 1, 1,
		app ? "the action (status, start, stop or restart)" : "LOCAL_PATH (what to copy)",
		NULL };

	memset(d, 0, sizeof(*d));
	int rc = cli_pod_parse(&pc, &line, argc, argv);
	if (rc != 0)
		return rc;
	d->k = line.k;
	d->pod = line.pod;
	d->container = line.container;
	if (app) {
		d->action = line.args[0];
	} else {
		d->local = line.args[0];
		if (!*d->local)
			return cli_usage(cmd, "LOCAL_PATH is empty");
		if (!d->to)
			return cli_usage(cmd, "where to? --to REMOTE_DIR is required");
	}
	return 0;
}

static void mb(char *buf, size_t cap, uint64_t bytes)
{
	if (bytes < 1000)
		snprintf(buf, cap, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1000 * 1000)
		snprintf(buf, cap, "%.1f kB", (double)bytes / 1000);
	else
		snprintf(buf, cap, "%.1f MB", (double)bytes / 1e6);
}

/* Progress on stderr: on a terminal one line rewritten in place, else a
 * line at most every 2 s (and at the start and end of each stage). */
static void on_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
	struct deploy_cli *d = user;
	long long now = cli_now_ms();
	int last = total && done == total;
	int first = strcmp(stage, d->stage) != 0;
	if (d->k.verbosity < 0)
		return;
	if (!first && !last && now - d->last_ms < (d->tty ? 200 : 2000))
		return;
	d->last_ms = now;
	snprintf(d->stage, sizeof(d->stage), "%s", stage);
	char line[200], a[32], b[32];
	if (strcmp(stage, "send") == 0) {
		mb(a, sizeof(a), done);
		mb(b, sizeof(b), total);
		snprintf(line, sizeof(line), "sending: %s of %s", a, b);
	} else if (strcmp(stage, "scan") == 0) {
		snprintf(line, sizeof(line), "reading %s: %llu files", d->local,
			(unsigned long long)done);
	} else if (strcmp(stage, "compare") == 0) {
		snprintf(line, sizeof(line), "comparing with the last deploy: %llu of %llu files",
			(unsigned long long)done, (unsigned long long)total);
	} else if (strcmp(stage, "restart") == 0) {
		if (done)
			return;
		snprintf(line, sizeof(line), "restarting the app");
	} else {
		return;
	}
	cli_printable(line);
	if (d->tty) {
		fprintf(stderr, "\r\033[K%s", line);
		d->line_open = 1;
		if (last || strcmp(stage, "restart") == 0) {
			fputc('\n', stderr);
			d->line_open = 0;
		}
	} else {
		fprintf(stderr, "%s\n", line);
	}
}

static void end_line(struct deploy_cli *d)
{
	if (d->line_open)
		fputc('\n', stderr);
	d->line_open = 0;
}

int cmd_deploy(int argc, char **argv)
{
	static const char cmd[] = "deploy";
	struct deploy_cli d;
	int rc = parse(&d, cmd, 0, argc, argv);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	cli_signals_ignore_sigpipe();
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	if (cli_k8s_open(&d.k, NULL, &ctx, &k8s) != 0)
		return CLI_EXIT_FAILURE;
	d.tty = isatty(STDERR_FILENO);
	devkit_deploy_options o;
	devkit_deploy_options_init(&o, DEVKIT_DEPLOY_OPTIONS_VERSION);
	o.namespace_name = d.k.namespace_name;
	o.pod = d.pod;
	o.container = d.container;
	o.local_path = d.local;
	o.remote_dir = d.to;
	o.restart = !d.no_restart;
	o.full = d.full;
	o.timeout_ms = (unsigned)d.timeout_ms;
	o.progress = on_progress;
	o.progress_user = &d;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	rc = devkit_deploy(k8s, &o, &r);
	end_line(&d);
	if (rc != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		cli_k8s_close(ctx, k8s);
		return CLI_EXIT_FAILURE;
	}
	char size[32];
	mb(size, sizeof(size), r.bytes_sent);
	double secs = (double)r.duration_ms / 1000;
	printf("sent %llu of %llu files, %s (%llu unchanged) to %s in %.1f s\n",
		(unsigned long long)r.files_sent, (unsigned long long)r.files_total, size,
		(unsigned long long)r.files_unchanged, d.to, secs);
	if (r.restarted) {
		char state[sizeof(r.app_state)];
		snprintf(state, sizeof(state), "%s", r.app_state);
		printf("app restarted: %s\n", cli_printable(state));
	}
	cli_k8s_close(ctx, k8s);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

int cmd_app(int argc, char **argv)
{
	static const char cmd[] = "app";
	static const char *const words[] = { "status", "start", "stop", "restart" };
	struct deploy_cli d;
	int rc = parse(&d, cmd, 1, argc, argv);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	int action = -1;
	for (int i = 0; i < 4; i++)
		if (strcmp(d.action, words[i]) == 0)
			action = i;
	if (action < 0)
		return cli_usage(cmd, "'%s' is not one of status, start, stop, restart", d.action);
	cli_signals_ignore_sigpipe();
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	if (cli_k8s_open(&d.k, NULL, &ctx, &k8s) != 0)
		return CLI_EXIT_FAILURE;
	devkit_buf state = DEVKIT_BUF_INIT;
	rc = devkit_app_control(k8s, d.k.namespace_name, d.pod, d.container, action, &state);
	if (rc != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		cli_k8s_close(ctx, k8s);
		return CLI_EXIT_FAILURE;
	}
	printf("%s\n", state.ptr ? cli_printable(state.ptr) : "");
	devkit_buf_dispose(&state);
	cli_k8s_close(ctx, k8s);
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
