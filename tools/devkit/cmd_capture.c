/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit capture POD [-c C] [--filter BPF] [-i IFACE] [--duration D]
 * [--count N] [--snaplen N] [--pcap FILE|-]: tcpdump in the Pod's network
 * (devkit_capture). Text goes to stdout as tcpdump prints it; --pcap writes
 * a pcap file (progress on a terminal's stderr) or, with "-", the pcap
 * stream to stdout for `| wireshark -k -i -`. Ctrl-C stops tcpdump the
 * clean way: what it holds is written and its summary printed.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_k8s.h"
#include "cli_pod.h"
#include "cli_signal.h"
#include "cli_util.h"
#include "commands.h"

/* After Ctrl-C, how long tcpdump gets to finish before we give up. */
#define STOP_GRACE_MS 15000
#define PROGRESS_EVERY_MS 500

static const char cmd[] = "capture";

static const char help[] =
	"Usage: devkit capture POD [-n NS] [-c CONTAINER] [--filter BPF] [-i IFACE]\n"
	"                      [--duration D] [--count N] [--snaplen N] [--pcap FILE]\n"
	"\n"
	"tcpdump in the Pod's network, through exec: every container of a Pod sees\n"
	"the same interfaces. Runs until --duration, --count or Ctrl-C, which stops\n"
	"tcpdump cleanly (it writes what it holds and prints its summary).\n"
	"\n"
	"The container needs tcpdump, root and the NET_RAW capability. A replica\n"
	"made with --tcpdump has a sidecar (devkit-tcpdump) with all three, and it\n"
	"is used by default when the Pod has it.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Capture:\n"
	"  -c, --container NAME    where tcpdump runs (default: the devkit-tcpdump\n"
	"                          sidecar when the Pod has one, else the Pod's\n"
	"                          default container)\n"
	"      --filter BPF        a BPF filter, one argument (\"tcp port 8080\")\n"
	"  -i, --interface IFACE   the interface (default: any)\n"
	"      --duration D        stop after D (\"30s\", \"5m\", or seconds)\n"
	"      --count N           stop after N packets\n"
	"  -s, --snaplen N         bytes kept of each packet (default: all)\n"
	"      --pcap FILE         write a pcap file (tshark -r, Wireshark) instead of\n"
	"                          text; progress on stderr. \"-\": the pcap stream to\n"
	"                          stdout (devkit capture web-1 --pcap - | wireshark\n"
	"                          -k -i -)\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 the capture ended (duration, count, Ctrl-C); 1 failed (no\n"
	"such Pod, no tcpdump or no permission in the container, a bad filter);\n"
	"2 usage error.\n";

enum {
	OPT_FILTER = CLI_CONNECT_OPT_END,
	OPT_DURATION,
	OPT_COUNT,
	OPT_PCAP
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "container", required_argument, NULL, 'c' },
	{ "filter", required_argument, NULL, OPT_FILTER },
	{ "interface", required_argument, NULL, 'i' },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "snaplen", required_argument, NULL, 's' },
	{ "pcap", required_argument, NULL, OPT_PCAP },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

struct capture_cli {
	struct cli_pod_line line;
	devkit_capture_options o;
	const char *pcap;        /* --pcap: a file, or "-" */
};

static int positive(const char *flag, const char *arg, long long max, long long *out)
{
	char *end;
	long long n = strtoll(arg, &end, 10);
	if (!*arg || *end || n <= 0 || n > max)
		return cli_usage(cmd, "%s: '%s' is not a number from 1 to %lld", flag, arg, max);
	*out = n;
	return 0;
}

static int capture_option(struct capture_cli *a, int c, const char *arg)
{
	char err[256];
	long long n;
	switch (c) {
	case OPT_FILTER:
		a->o.filter = *arg ? arg : NULL;
		return 0;
	case 'i':
		if (!*arg || strlen(arg) > 64 || strpbrk(arg, " \t\n'\"$;&|<>"))
			return cli_usage(cmd, "-i: '%s' is not an interface name", arg);
		a->o.interface_name = arg;
		return 0;
	case OPT_DURATION:
		if (cli_k8s_parse_duration(arg, 1, 24LL * 3600 * 1000, &n, err, sizeof(err)) != 0)
			return cli_usage(cmd, "--duration: %s", err);
		a->o.duration_ms = (unsigned int)n;
		return 0;
	case OPT_COUNT:
		if (positive("--count", arg, 1000000000LL, &n) != 0)
			return CLI_EXIT_USAGE;
		a->o.max_packets = (unsigned long long)n;
		return 0;
	case 's':
		if (positive("--snaplen", arg, 262144, &n) != 0)
			return CLI_EXIT_USAGE;
		a->o.snaplen = (int)n;
		return 0;
	case OPT_PCAP:
		if (!*arg)
			return cli_usage(cmd, "--pcap: the file name is empty");
		a->pcap = arg;
		a->o.format = DEVKIT_CAPTURE_PCAP;
		if (strcmp(arg, "-") != 0)
			a->o.file = arg;
		return 0;
	default:
		return CLI_K8S_NOT_MINE;
	}
}

/* 0; -1 after --help; CLI_EXIT_USAGE after saying why. */
static int option_cb(void *self, const char *command, int c, const char *arg)
{
	(void)command;
	return capture_option(self, c, arg);
}

static int parse(struct capture_cli *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	devkit_capture_options_init(&a->o, DEVKIT_CAPTURE_OPTIONS_VERSION);
	const struct cli_pod_command pc = { cmd, help, "i:s:", long_options, option_cb, NULL, a, 0,
		0, NULL, "a filter goes in --filter, quoted" };
	int rc = cli_pod_parse(&pc, &a->line, argc, argv);
	if (rc != 0)
		return rc;
	if (a->pcap && !a->o.file && isatty(STDOUT_FILENO))
		return cli_usage(cmd, "--pcap -: stdout is a terminal; pipe it (| wireshark -k -i -) "
			"or name a file");
	a->o.pod = a->line.pod;
	a->o.container = a->line.container;
	a->o.namespace_name = a->line.k.namespace_name;
	return 0;
}

/* "512 B", "3.4 KB", "12.0 MB" */
static const char *human(uint64_t bytes, char *buf, size_t size)
{
	if (bytes < 1024)
		snprintf(buf, size, "%llu B", (unsigned long long)bytes);
	else if (bytes < 1024ull * 1024)
		snprintf(buf, size, "%.1f KB", (double)bytes / 1024);
	else
		snprintf(buf, size, "%.1f MB", (double)bytes / (1024.0 * 1024));
	return buf;
}

static void progress(devkit_capture *c, int final)
{
	devkit_capture_stats st = DEVKIT_CAPTURE_STATS_INIT;
	char size[32];
	if (devkit_capture_get_stats(c, &st) != 0)
		return;
	fprintf(stderr, "\r%llu packet%s, %s\033[K%s", (unsigned long long)st.packets,
		st.packets == 1 ? "" : "s", human(st.bytes, size, sizeof(size)), final ? "\n" : "");
	fflush(stderr);
}

/* What comes out: a text line (with its newline) or pcap bytes. 0, or -1
 * when stdout is gone. */
static int emit(const struct capture_cli *a, const devkit_buf *b)
{
	if (fwrite(b->ptr, 1, b->size, stdout) != b->size)
		return -1;
	if (a->o.format == DEVKIT_CAPTURE_TEXT && putchar('\n') == EOF)
		return -1;
	if (a->o.format == DEVKIT_CAPTURE_PCAP && fflush(stdout) != 0)
		return -1; /* a packet's bytes now, for a live reader */
	return 0;
}

static int run(struct capture_cli *a, devkit_k8s *k8s)
{
	devkit_capture *c = NULL;
	int rc = devkit_capture_start(&c, k8s, &a->o);
	if (rc != 0) {
		cli_report_error(NULL, 0, NULL, NULL, rc);
		return CLI_EXIT_FAILURE;
	}
	const char *ns = a->line.k.namespace_name ? a->line.k.namespace_name : devkit_k8s_namespace(k8s);
	fprintf(stderr, "devkit: tcpdump listening on %s in %s/%s%s%s%s; Ctrl-C stops\n",
		a->o.interface_name ? a->o.interface_name : "any", ns, a->o.pod,
		a->o.file ? ", writing " : "", a->o.file ? a->o.file : "",
		a->o.filter ? "" : " (no filter: every packet)");
	if (cli_signals_install() < 0)
		cli_errorf("cannot catch signals: Ctrl-C ends at once");
	int show = a->o.file && isatty(STDERR_FILENO);
	int exit_code = CLI_EXIT_OK, stopping = 0;
	long long next_progress = cli_now_ms(), stop_deadline = 0;
	devkit_buf b = DEVKIT_BUF_INIT;
	for (;;) {
		if (!stopping && cli_signal_caught()) {
			stopping = 1;
			stop_deadline = cli_now_ms() + STOP_GRACE_MS;
			rc = devkit_capture_stop(c);
			if (rc != 0) {
				cli_report_error(NULL, 0, NULL, NULL, rc);
				exit_code = CLI_EXIT_FAILURE;
				break;
			}
		}
		if (stopping && cli_now_ms() > stop_deadline) {
			cli_errorf("tcpdump did not stop within %d s", STOP_GRACE_MS / 1000);
			exit_code = CLI_EXIT_FAILURE;
			break;
		}
		if (show && cli_now_ms() >= next_progress) {
			progress(c, 0);
			next_progress = cli_now_ms() + PROGRESS_EVERY_MS;
		}
		rc = devkit_capture_read(c, &b, 200);
		if (rc == 0)
			continue;
		if (rc == DEVKIT_ECLOSED)
			break; /* tcpdump has ended */
		if (rc < 0) {
			cli_report_error(NULL, 0, NULL, NULL, rc);
			exit_code = CLI_EXIT_FAILURE;
			break;
		}
		if (emit(a, &b) != 0) {
			/* the reader went away (| head): stop, as tcpdump would */
			devkit_capture_stop(c);
			exit_code = CLI_EXIT_FAILURE;
			break;
		}
	}
	fflush(stdout);
	devkit_buf_dispose(&b);
	if (show)
		progress(c, 1);
	else if (stopping && isatty(STDERR_FILENO))
		fputc('\n', stderr); /* past the terminal's "^C", as tcpdump does */
	devkit_capture_stats st = DEVKIT_CAPTURE_STATS_INIT;
	if (exit_code == CLI_EXIT_OK && devkit_capture_get_stats(c, &st) == 0) {
		/* as tcpdump words its summary */
		char size[32];
		fprintf(stderr, "%llu packet%s captured\n%llu packet%s dropped by kernel\n",
			(unsigned long long)st.packets, st.packets == 1 ? "" : "s",
			(unsigned long long)st.dropped, st.dropped == 1 ? "" : "s");
		if (a->o.file)
			fprintf(stderr, "%s written to %s\n", human(st.bytes, size, sizeof(size)),
				a->o.file);
	}
	devkit_capture_free(c);
	return exit_code;
}

int cmd_capture(int argc, char **argv)
{
	struct capture_cli a;
	int rc = parse(&a, argc, argv);
	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	cli_signals_ignore_sigpipe();
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	/* the engine's thread inherits the mask: Ctrl-C lands on this thread */
	sigset_t old_mask;
	cli_signals_block(&old_mask);
	rc = cli_k8s_open(&a.line.k, NULL, &ctx, &k8s);
	cli_signals_restore(&old_mask);
	if (rc != 0)
		return CLI_EXIT_FAILURE;
	rc = run(&a, k8s);
	cli_k8s_close(ctx, k8s);
	return rc;
}
