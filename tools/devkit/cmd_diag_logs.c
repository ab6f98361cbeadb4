/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit logs POD [-c C] [-f] [--since D] [--tail N] [--previous]
 * [--timestamps] [-o FILE]: a container's log (devkit_logs), as kubectl logs
 * prints it, except that -f survives broken connections without losing or
 * repeating a line. With -o the library writes the file and this waits for
 * the end (or Ctrl-C).
 */
#include <stdio.h>
#include <string.h>

#include "cli_signal.h"
#include "cmd_diag.h"
#include "commands.h"

static const char help[] =
	"Usage: devkit logs POD [-n NS] [-c CONTAINER] [-f] [--since DURATION |\n"
	"                   --since-time TIME] [--tail N] [--previous] [--timestamps]\n"
	"                   [-o FILE]\n"
	"\n"
	"A container's log. With -f it goes on as the container writes, and when\n"
	"the connection breaks (a proxy's idle timeout, an API server restart) it\n"
	"resumes from the last line's timestamp: no line is lost or printed twice.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Log:\n"
	"  -c, --container NAME    the container (default: the Pod's default container,\n"
	"                          or its only one)\n"
	"  -f, --follow            keep reading until the container stops or Ctrl-C\n"
	"      --since DURATION    only lines of the last DURATION (\"10m\", \"1h30m\")\n"
	"      --since-time TIME   only lines since an RFC 3339 time (2024-05-01T12:00:00Z)\n"
	"      --tail N            only the last N lines (-1: all, the default)\n"
	"  -p, --previous          the log of the container's previous run (the one\n"
	"                          that crashed)\n"
	"      --timestamps        keep the kubelet's timestamp in front of each line\n"
	"  -o, --output FILE       append the lines to FILE instead of printing them\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 the log was read to its end, or Ctrl-C stopped -f; 1 failed\n"
	"(no such Pod or container, nothing logged yet, the server kept failing);\n"
	"2 usage error.\n";

int cmd_logs(int argc, char **argv)
{
	static const char cmd[] = "logs";
	struct diag_cli d;
	int rc = diag_parse(&d, cmd, help, DIAG_TAKES_LOGS, argc, argv);

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (diag_open(&d) != 0) {
		diag_close(&d);
		return CLI_EXIT_FAILURE;
	}
	d.logs.namespace_name = d.k.namespace_name;
	d.logs.pod = d.pod;
	devkit_logs *l = NULL;
	rc = devkit_logs_start(&l, d.k8s, &d.logs);
	if (rc != 0) {
		rc = diag_fail(&d, rc);
		diag_close(&d);
		return rc;
	}
	if (cli_signals_install() < 0)
		cli_errorf("cannot catch signals: Ctrl-C ends at once");
	int exit_code = CLI_EXIT_OK;
	devkit_buf line = DEVKIT_BUF_INIT;
	while (!cli_signal_caught()) {
		rc = devkit_logs_read(l, &line, 200);
		if (rc == 0)
			continue;
		if (rc == DEVKIT_ECLOSED)
			break;  /* the log has ended */
		if (rc < 0) {
			exit_code = diag_fail(&d, rc);
			break;
		}
		/* the app's output as it wrote it, like kubectl logs */
		if (fwrite(line.ptr, 1, line.size, stdout) != line.size || putchar('\n') == EOF) {
			exit_code = CLI_EXIT_FAILURE;
			break;
		}
		/* line-buffered stdout flushes at the newline; a pipe reader sees
		 * each line as it comes */
	}
	fflush(stdout);
	devkit_buf_dispose(&line);
	if (d.logs.file && exit_code == CLI_EXIT_OK) {
		devkit_logs_stats st = DEVKIT_LOGS_STATS_INIT;
		if (devkit_logs_get_stats(l, &st) == 0)
			fprintf(stderr, "%llu line%s written to %s\n", (unsigned long long)st.lines,
				st.lines == 1 ? "" : "s", d.logs.file);
	}
	devkit_logs_free(l);
	diag_close(&d);
	return exit_code;
}
