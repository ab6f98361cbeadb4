/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit arthas POD --package FILE|DIR [-c CONTAINER] [--pid N] [-e COMMAND]:
 * Arthas attached to the JVM of a container. With -e the command runs and
 * its output is printed (devkit_arthas_run); without, Arthas's console runs
 * on the user's terminal (devkit_arthas_start and the relay of cli_tty.h).
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
	"Usage: devkit arthas POD --package FILE|DIR [-n NS] [-c CONTAINER] [--pid N]\n"
	"                     [--java PATH] [-e COMMAND] [--timeout DURATION]\n"
	"\n"
	"Attach Arthas (https://arthas.aliyun.com) to the JVM in a container and run\n"
	"COMMAND, printing its output, or without -e open Arthas's console on this\n"
	"terminal. Arthas comes from this machine: the arthas-bin.zip of its releases\n"
	"(or Maven Central's com.taobao.arthas:arthas-packaging:VERSION:zip:bin), or\n"
	"the directory it unpacks to. It is copied into the container once and kept\n"
	"(in the keep-alive's directory, else /tmp/devkit); the Pod needs no internet.\n"
	"The JVM is the app of a replica made with --keep-alive, else the only Java\n"
	"process; --pid picks one. Arthas stays attached after the command, so the\n"
	"next run starts at once; the Arthas command `stop` detaches it.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Arthas:\n"
	"  -c, --container NAME    the container (default: the Pod's default one)\n"
	"      --package FILE|DIR  Arthas's bin zip, or the directory it unpacks to\n"
	"      --pid N             the JVM's pid in the container\n"
	"      --java PATH         java in the container (default $JAVA_HOME/bin/java,\n"
	"                          else java on PATH, else the JVM's own)\n"
	"  -e, --exec COMMAND      run COMMAND (several separated by ';') and print its\n"
	"                          output; without it, the console (exit it with\n"
	"                          `quit`, or `stop` to detach Arthas too)\n"
	"      --timeout DURATION  for copying, attaching and -e's command (default\n"
	"                          120s); a `watch` or `trace` needs -n to end\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 when Arthas ran and exited 0; 1 when it could not (no JVM,\n"
	"several JVMs, no java in the container) or exited non-zero; 2 on a usage\n"
	"error.\n"
	"\n"
	"Example:\n"
	"  devkit arthas web-7d9f-dev -n dev --package arthas-bin.zip -e 'thread -n 3'\n"
	"  devkit arthas web-7d9f-dev -n dev --package arthas-bin.zip\n";

enum {
	OPT_PACKAGE = CLI_CONNECT_OPT_END,
	OPT_PID,
	OPT_JAVA,
	OPT_TIMEOUT
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "container", required_argument, NULL, 'c' },
	{ "package", required_argument, NULL, OPT_PACKAGE },
	{ "pid", required_argument, NULL, OPT_PID },
	{ "java", required_argument, NULL, OPT_JAVA },
	{ "exec", required_argument, NULL, 'e' },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct arthas_cli {
	struct cli_pod_line line;
	devkit_arthas_options o;
};

static int own_option(struct arthas_cli *a, const char *cmd, int c, const char *arg)
{
	char err[256];
	long long ms, n;
	char *end;

	switch (c) {
	case OPT_PACKAGE:
		if (!*arg)
			return cli_usage(cmd, "--package: the path is empty");
		return cli_set_once(&a->o.package, arg, cmd, "--package");
	case OPT_PID:
		n = strtoll(arg, &end, 10);
		if (!*arg || *end || n < 1 || n > 0x7fffffff)
			return cli_usage(cmd, "--pid: '%s' is not a process id", arg);
		a->o.pid = (int)n;
		return 0;
	case OPT_JAVA:
		if (!*arg)
			return cli_usage(cmd, "--java: the path is empty");
		return cli_set_once(&a->o.java, arg, cmd, "--java");
	case 'e':
		if (!*arg)
			return cli_usage(cmd, "-e: the command is empty");
		return cli_set_once(&a->o.command, arg, cmd, "--exec");
	case OPT_TIMEOUT:
		if (cli_k8s_parse_duration(arg, 1000, 24LL * 3600 * 1000, &ms, err, sizeof(err)) != 0)
			return cli_usage(cmd, "--timeout: %s", err);
		a->o.timeout_ms = (unsigned int)ms;
		return 0;
	default:
		return CLI_K8S_NOT_MINE;
	}
}

static int option_cb(void *self, const char *cmd, int c, const char *arg)
{
	return own_option(self, cmd, c, arg);
}

/* 0; -1 after --help; CLI_EXIT_USAGE. */
static int parse(struct arthas_cli *a, const char *cmd, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	devkit_arthas_options_init(&a->o, DEVKIT_ARTHAS_OPTIONS_VERSION);
	const struct cli_pod_command pc = { cmd, help, "e:", long_options, option_cb, NULL, a, 0, 0,
		NULL, NULL };
	int rc = cli_pod_parse(&pc, &a->line, argc, argv);
	if (rc != 0)
		return rc;
	if (!a->o.package)
		return cli_usage(cmd, "--package is required: Arthas's bin zip or its directory");
	a->o.pod = a->line.pod;
	a->o.container = a->line.container;
	a->o.namespace_name = a->line.k.namespace_name;
	return 0;
}

/* -e: run and print. */
static int run_command(devkit_k8s *k8s, const devkit_arthas_options *o)
{
	devkit_buf out = DEVKIT_BUF_INIT;
	int code = -1;
	int rc = devkit_arthas_run(k8s, o, &out, &code);
	if (rc != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		return CLI_EXIT_FAILURE;
	}
	int failed = out.size && fwrite(out.ptr, 1, out.size, stdout) != out.size;
	devkit_buf_dispose(&out);
	if (fflush(stdout) != 0 || failed)
		return CLI_EXIT_FAILURE;
	if (code != 0) {
		cli_errorf("Arthas exited with status %d", code);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

/* The console on this terminal until it ends. */
static int console(devkit_k8s *k8s, const devkit_arthas_options *o)
{
	devkit_exec *e = NULL;
	int rc = devkit_arthas_start(&e, k8s, o);
	if (rc != 0) {
		cli_report_error(NULL, 0, stdout, NULL, rc);
		return CLI_EXIT_FAILURE;
	}
	cli_tty_session s;
	cli_tty_exec_session(&s, e);
	rc = cli_tty_relay(&s);
	int status = CLI_EXIT_FAILURE;
	if (rc == CLI_TTY_ENDED) {
		int code = -1;
		rc = devkit_exec_wait(e, 10000, &code);
		if (rc != 0)
			cli_report_error(NULL, 0, stdout, "the console", rc);
		else if (code != 0)
			cli_errorf("Arthas's console exited with status %d", code);
		else
			status = CLI_EXIT_OK;
	} else if (rc == CLI_TTY_SIGNALLED) {
		/* Arthas stays attached, as after `quit` */
		fputs("\r\n", stderr);
		cli_errorf("interrupted: the console is closed, Arthas stays attached to the JVM");
	} else {
		cli_report_error(NULL, 0, stdout, "the console", rc);
	}
	devkit_exec_free(e);
	return status;
}

int cmd_arthas(int argc, char **argv)
{
	static const char cmd[] = "arthas";
	struct arthas_cli a;
	int rc = parse(&a, cmd, argc, argv);
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	cli_signals_ignore_sigpipe();
	if (cli_k8s_open(&a.line.k, NULL, &ctx, &k8s) != 0)
		return CLI_EXIT_FAILURE;
	int status = a.o.command ? run_command(k8s, &a.o) : console(k8s, &a.o);
	cli_k8s_close(ctx, k8s);
	return status;
}
