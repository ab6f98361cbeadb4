/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit shell POD [-c CONTAINER] [--audit-log FILE] [--audit-events]
 * [--shell sh|bash]: an interactive shell in a container whose every
 * command goes to an audit log (devkit_shell_start), on the user's
 * terminal through the relay of cli_tty.h.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_k8s.h"
#include "cli_pod.h"
#include "cli_signal.h"
#include "cli_tty.h"
#include "commands.h"

static const char help[] =
	"Usage: devkit shell POD [-n NS] [-c CONTAINER] [--audit-log FILE]\n"
	"                    [--audit-events] [--shell sh|bash]\n"
	"\n"
	"A shell in a container, on this terminal, whose every command line is\n"
	"recorded with its time, user, Pod and exit status: one JSON line per\n"
	"command in FILE (on this machine, appended, created 0600), and with\n"
	"--audit-events an Event on the Pod (reason DevkitShellCommand), seen with\n"
	"`kubectl get events` or `devkit events`. With bash the command is the line\n"
	"bash ran (edited or recalled from its history as it was run); a plain sh\n"
	"records the line as typed at its prompt. What is typed while a command\n"
	"runs (a password) is never recorded.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Shell:\n"
	"  -c, --container NAME    the container (default: the Pod's default one)\n"
	"      --audit-log FILE    append the records to FILE; the shell does not\n"
	"                          start when FILE cannot be opened\n"
	"      --audit-events      also record each command as an Event on the Pod\n"
	"                          (a refusal is a warning: the shell goes on)\n"
	"      --shell sh|bash     the shell (default: bash when the container has\n"
	"                          it, else sh); a path to either works too\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"The terminal is in raw mode while the shell runs: Ctrl-C and Ctrl-D go to\n"
	"the shell. With stdin a pipe or a file its lines are typed into the shell,\n"
	"and its end is Ctrl-D.\n"
	"\n"
	"Exit status: the shell's; 1 when devkit could not start it (no such Pod,\n"
	"an audit log that cannot be opened, no such shell) or lost the session;\n"
	"2 on a usage error.\n"
	"\n"
	"Example:\n"
	"  devkit shell web-7d9f-dev -n dev --audit-log ~/audit/dev.jsonl --audit-events\n";

enum {
	OPT_AUDIT_LOG = CLI_CONNECT_OPT_END,
	OPT_AUDIT_EVENTS,
	OPT_SHELL
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "container", required_argument, NULL, 'c' },
	{ "audit-log", required_argument, NULL, OPT_AUDIT_LOG },
	{ "audit-events", no_argument, NULL, OPT_AUDIT_EVENTS },
	{ "shell", required_argument, NULL, OPT_SHELL },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct shell_cli {
	struct cli_pod_line line;
	devkit_shell_options o;
};

static int own_option(struct shell_cli *a, const char *cmd, int c, const char *arg)
{
	switch (c) {
	case OPT_AUDIT_LOG:
		if (!*arg)
			return cli_usage(cmd, "--audit-log: the file name is empty");
		return cli_set_once(&a->o.audit_log, arg, cmd, "--audit-log");
	case OPT_AUDIT_EVENTS:
		a->o.audit_events = 1;
		return 0;
	case OPT_SHELL:
		if (!*arg || strspn(arg, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789_./+-") != strlen(arg))
			return cli_usage(cmd, "--shell: '%s' is not a program name or path", arg);
		return cli_set_once(&a->o.shell, arg, cmd, "--shell");
	default:
		return CLI_K8S_NOT_MINE;
	}
}

static int option_cb(void *self, const char *cmd, int c, const char *arg)
{
	return own_option(self, cmd, c, arg);
}

/* 0; -1 after --help; CLI_EXIT_USAGE. */
static int parse(struct shell_cli *a, const char *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	devkit_shell_options_init(&a->o, DEVKIT_SHELL_OPTIONS_VERSION);
	const struct cli_pod_command pc = { cmd, help, "", long_options, option_cb, NULL, a, 0, 0,
		NULL, NULL };
	int rc = cli_pod_parse(&pc, &a->line, argc, argv);
	if (rc != 0)
		return rc;
	a->o.pod = a->line.pod;
	a->o.container = a->line.container;
	a->o.namespace_name = a->line.k.namespace_name;
	return 0;
}

/* --- the shell as a cli_tty session ---------------------------------------------------- */

static int shell_write(void *h, const void *data, size_t len)
{
	return devkit_shell_write(h, data, len);
}

static int shell_read(void *h, devkit_buf *out, int timeout_ms)
{
	return devkit_shell_read(h, out, timeout_ms);
}

static int shell_resize(void *h, int cols, int rows)
{
	return devkit_shell_resize(h, cols, rows);
}

/* The end of piped input is what Ctrl-D is on a terminal: the shell ends
 * at its prompt. */
static int shell_close_input(void *h)
{
	return devkit_shell_write(h, "\004", 1);
}

int cmd_shell(int argc, char **argv)
{
	static const char cmd[] = "shell";
	struct shell_cli a;
	int rc = parse(&a, cmd, argc, argv);
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	cli_signals_ignore_sigpipe();
	if (cli_k8s_open(&a.line.k, NULL, &ctx, &k8s) != 0)
		return CLI_EXIT_FAILURE;
	int cols, rows;
	if (cli_tty_size(STDOUT_FILENO, &cols, &rows) == 0 ||
		cli_tty_size(STDIN_FILENO, &cols, &rows) == 0) {
		a.o.cols = cols;
		a.o.rows = rows;
	}
	devkit_shell *s = NULL;
	rc = devkit_shell_start(&s, k8s, &a.o);
	if (rc != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		cli_k8s_close(ctx, k8s);
		return CLI_EXIT_FAILURE;
	}
	cli_tty_session ts = { s, shell_write, shell_read, shell_resize, shell_close_input };
	rc = cli_tty_relay(&ts);
	int status = CLI_EXIT_FAILURE;
	if (rc == CLI_TTY_ENDED) {
		int code = -1;
		rc = devkit_shell_wait(s, 10000, &code);
		if (rc != 0)
			cli_report_error(NULL, 0, stdout, "the shell", rc);
		else
			status = code;
	} else if (rc == CLI_TTY_SIGNALLED) {
		fputs("\r\n", stderr);
		cli_errorf("interrupted: the shell is closed");
	} else {
		cli_report_error(NULL, 0, stdout, "the shell", rc);
	}
	/* records a command still running, unfinished */
	devkit_shell_free(s);
	cli_k8s_close(ctx, k8s);
	return status;
}
