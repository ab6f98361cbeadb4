/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit replicate` options: the help text, the getopt table and every
 * check that needs no cluster, so that a mistyped flag exits 2 before the API
 * server hears from us. The library checks the same things again; doing it
 * here too is what lets the message name the flag.
 */
#include <ctype.h>
#include <getopt.h>
#include <limits.h>
#include <string.h>

#include "cmd_replica.h"

#define CMD "replicate"

static const char replicate_help[] =
	"Usage: devkit replicate (--pod P | --deployment D | --statefulset S |\n"
	"                         --daemonset D) [options]\n"
	"\n"
	"Make a personal, disposable copy of a Pod -- or a new Pod from a workload's\n"
	"template -- to develop in: it can outlive its app (--keep-alive), run on a\n"
	"chosen node, get only tagged requests, capture its traffic from the start,\n"
	"log JVM exceptions and accept a debugger, and it is deleted after its TTL\n"
	"by `devkit gc`. The copy loses the labels that would give it the source's\n"
	"Service traffic or let its controller adopt it. See docs/replica.md.\n"
	"\n"
	"Prints the copy's name. With --wait, then shows each stage until it is\n"
	"ready, or says where it stopped and why.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"What to copy (exactly one):\n"
	"      --pod NAME          a running Pod\n"
	"      --deployment NAME   the Pod template of a Deployment\n"
	"      --statefulset NAME  ... of a StatefulSet (claims become emptyDirs)\n"
	"      --daemonset NAME    ... of a DaemonSet (give --node)\n"
	"\n"
	"The copy:\n"
	"      --name NAME         its name (default <source>-<owner>-<5 random>)\n"
	"      --owner NAME        the devkit.io/owner label (default $USER)\n"
	"      --container NAME    the container the options apply to (default the\n"
	"                          first)\n"
	"      --keep-alive        the container stays up when the app exits; start,\n"
	"                          stop and restart the app inside with\n"
	"                          /devkit/bin/devkit-app\n"
	"      --command CMD       start command, a shell command line (default the\n"
	"                          image's; keep-alive needs it when the Pod spec\n"
	"                          has no command)\n"
	"      --node NODE         run on this node (spec.nodeName)\n"
	"      --log-file PATH     the app's output to this file in the container\n"
	"                          (default: stdout, kubectl logs)\n"
	"      --tag T             traffic tag: label devkit.io/traffic-tag=T\n"
	"      --istio             also an Istio DestinationRule and VirtualService,\n"
	"                          so only requests with header TAG-HEADER: T reach it\n"
	"      --tag-header H      that header (default x-devkit-tag; needs --istio)\n"
	"      --istio-host HOST   the Service the rules are for (default the\n"
	"                          source's name; needs --istio)\n"
	"      --tcpdump           a sidecar capturing the Pod's traffic from its\n"
	"                          start to /devkit/pcap (rotating pcap files)\n"
	"      --tcpdump-image I   its image (default nicolaka/netshoot:v0.13)\n"
	"      --tcpdump-filter BPF  what it captures (default everything)\n"
	"      --jvm-exception-log log every JVM exception (JAVA_TOOL_OPTIONS)\n"
	"      --no-liveness       remove the liveness probe (it kills a crashing app)\n"
	"      --no-readiness      remove the readiness probe\n"
	"      --no-startup        remove the startup probe\n"
	"      --debug-port PORT   JDWP agent on PORT (e.g. 5005) and a containerPort\n"
	"      --ttl DURATION      expires after this long (default 8h; e.g. 30m, 2d)\n"
	"      --keep-labels       keep the source's labels: the copy then gets its\n"
	"                          Service's traffic\n"
	"\n"
	"What to do:\n"
	"      --dry-run           print the Pod that would be created (with --istio a\n"
	"                          List with the Istio objects); create nothing\n"
	"  -o, --output yaml|json  its format (default yaml; needs --dry-run)\n"
	"      --wait              wait until the copy is ready, showing each stage\n"
	"      --timeout DURATION  how long to wait (default 5m; needs --wait)\n"
	"\n"
	"Output:\n"
	"      --json              JSON: one event per line (created, replica-stage,\n"
	"                          ready or error); with --dry-run the Pod as JSON\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"The name goes to stdout, alone on the first line; progress follows as\n"
	"timestamped lines. Errors go to stderr. Ctrl-C while waiting leaves the\n"
	"copy (it expires) and prints the command that deletes it.\n"
	"\n"
	"Exit status: 0 created (and ready, with --wait); 1 failed, or not ready in\n"
	"time; 2 usage error, nothing sent; 130 interrupted while waiting.\n"
	"\n"
	"Example:\n"
	"  devkit replicate -n shop --deployment petclinic --keep-alive --no-liveness \\\n"
	"      --jvm-exception-log --debug-port 5005 --ttl 4h --wait\n";

enum {
	OPT_POD = CLI_CONNECT_OPT_END,
	OPT_DEPLOYMENT,
	OPT_STATEFULSET,
	OPT_DAEMONSET,
	OPT_NAME,
	OPT_OWNER,
	OPT_CONTAINER,
	OPT_KEEP_ALIVE,
	OPT_COMMAND,
	OPT_NODE,
	OPT_LOG_FILE,
	OPT_TAG,
	OPT_ISTIO,
	OPT_TAG_HEADER,
	OPT_ISTIO_HOST,
	OPT_TCPDUMP,
	OPT_TCPDUMP_IMAGE,
	OPT_TCPDUMP_FILTER,
	OPT_JVM_EXCEPTION_LOG,
	OPT_NO_LIVENESS,
	OPT_NO_READINESS,
	OPT_NO_STARTUP,
	OPT_DEBUG_PORT,
	OPT_TTL,
	OPT_KEEP_LABELS,
	OPT_DRY_RUN,
	OPT_WAIT,
	OPT_TIMEOUT,
	OPT_JSON,
};

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	{ "pod", required_argument, NULL, OPT_POD },
	{ "deployment", required_argument, NULL, OPT_DEPLOYMENT },
	{ "statefulset", required_argument, NULL, OPT_STATEFULSET },
	{ "daemonset", required_argument, NULL, OPT_DAEMONSET },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "keep-alive", no_argument, NULL, OPT_KEEP_ALIVE },
	{ "command", required_argument, NULL, OPT_COMMAND },
	{ "node", required_argument, NULL, OPT_NODE },
	{ "log-file", required_argument, NULL, OPT_LOG_FILE },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "istio", no_argument, NULL, OPT_ISTIO },
	{ "tag-header", required_argument, NULL, OPT_TAG_HEADER },
	{ "istio-host", required_argument, NULL, OPT_ISTIO_HOST },
	{ "tcpdump", no_argument, NULL, OPT_TCPDUMP },
	{ "tcpdump-image", required_argument, NULL, OPT_TCPDUMP_IMAGE },
	{ "tcpdump-filter", required_argument, NULL, OPT_TCPDUMP_FILTER },
	{ "jvm-exception-log", no_argument, NULL, OPT_JVM_EXCEPTION_LOG },
	{ "no-liveness", no_argument, NULL, OPT_NO_LIVENESS },
	{ "no-readiness", no_argument, NULL, OPT_NO_READINESS },
	{ "no-startup", no_argument, NULL, OPT_NO_STARTUP },
	{ "debug-port", required_argument, NULL, OPT_DEBUG_PORT },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "keep-labels", no_argument, NULL, OPT_KEEP_LABELS },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "output", required_argument, NULL, 'o' },
	{ "wait", no_argument, NULL, OPT_WAIT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static const char *const kind_names[] = { NULL, "pod", "deployment", "statefulset",
	"daemonset" };

static int set_source(struct replicate_cli *t, devkit_replica_source kind, const char *flag,
	const char *arg)
{
	if (t->source_flag)
		return cli_usage(CMD, "%s and %s exclude each other: copy one thing at a time",
			t->source_flag, flag);
	if (!cli_k8s_dns_subdomain(arg))
		return cli_usage(CMD, "%s '%s': not a Kubernetes object name (a-z, 0-9, '-' and "
			"'.')", flag, arg);
	t->source_flag = flag;
	t->opts.source_kind = kind;
	t->opts.source_name = arg;
	return 0;
}

/* A value that ends up in the Pod spec: not empty, no control characters
 * (a newline in a node name or an image is always a paste accident). */
static int set_text(const char **slot, const char *flag, const char *arg)
{
	if (!*arg)
		return cli_usage(CMD, "%s: the value is empty", flag);
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
		if (*p < 0x20 && *p != '\t')
			return cli_usage(CMD, "%s: the value contains a control character", flag);
	}
	return cli_set_once(slot, arg, CMD, flag);
}

static int set_flag(int *slot, const char *flag)
{
	if (*slot)
		return cli_usage(CMD, "%s given more than once", flag);
	*slot = 1;
	return 0;
}

/* Names and values with Kubernetes' own rules, named by flag. */
static int set_checked(const char **slot, const char *flag, const char *arg,
	int (*valid)(const char *), const char *rule)
{
	if (!valid(arg))
		return cli_usage(CMD, "%s '%s': %s", flag, arg, rule);
	return cli_set_once(slot, arg, CMD, flag);
}

#define RULE_LABEL "must be a DNS label (at most 63 of a-z, 0-9 and '-', starting and " \
	"ending with a letter or digit)"
#define RULE_VALUE "must be a label value (at most 63 of A-Z, a-z, 0-9, '-', '_' and '.', " \
	"starting and ending with a letter or digit)"
#define RULE_SUBDOMAIN "must be a DNS subdomain (a-z, 0-9, '-' and '.')"

/* An HTTP header name, as Istio matches it. */
static int header_token(const char *text)
{
	if (!*text)
		return 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (!isalnum(*p) && *p != '-' && *p != '_' && *p != '.')
			return 0;
	}
	return 1;
}

static int parse_duration_flag(const char *flag, const char *arg, long long min_ms,
	long long max_ms, long long *out)
{
	char err[256];

	if (*out)
		return cli_usage(CMD, "%s given more than once", flag);
	if (cli_k8s_parse_duration(arg, min_ms, max_ms, out, err, sizeof(err)) != 0)
		return cli_usage(CMD, "%s: %s", flag, err);
	return 0;
}

static int parse_ttl(struct replicate_cli *t, const char *arg)
{
	long long ms = 0;
	int rc;

	if (t->opts.ttl_s)
		return cli_usage(CMD, "--ttl given more than once");
	/* at least a second (the annotation's resolution), at most a year: a
	 * copy that lives longer is not disposable any more */
	rc = parse_duration_flag("--ttl", arg, 1000, 366LL * 86400 * 1000, &ms);
	if (rc != 0)
		return rc;
	t->opts.ttl_s = (unsigned int)((ms + 999) / 1000);
	return 0;
}

static int parse_debug_port(struct replicate_cli *t, const char *arg)
{
	char err[256];

	if (t->opts.debug_port)
		return cli_usage(CMD, "--debug-port given more than once");
	if (cli_parse_port(arg, 1, &t->opts.debug_port, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--debug-port: %s", err);
	return 0;
}

static int parse_output(struct replicate_cli *t, const char *arg)
{
	if (strcmp(arg, "yaml") != 0 && strcmp(arg, "json") != 0)
		return cli_usage(CMD, "-o '%s': expected yaml or json", arg);
	return cli_set_once(&t->output, arg, CMD, "-o/--output");
}

/* The options of replicate itself: 0, a usage error, or CLI_K8S_NOT_MINE. */
static int replicate_option(struct replicate_cli *t, int c, const char *arg)
{
	devkit_replica_options *o = &t->opts;

	switch (c) {
	case OPT_POD: return set_source(t, DEVKIT_REPLICA_FROM_POD, "--pod", arg);
	case OPT_DEPLOYMENT: return set_source(t, DEVKIT_REPLICA_FROM_DEPLOYMENT, "--deployment", arg);
	case OPT_STATEFULSET:
		return set_source(t, DEVKIT_REPLICA_FROM_STATEFULSET, "--statefulset", arg);
	case OPT_DAEMONSET: return set_source(t, DEVKIT_REPLICA_FROM_DAEMONSET, "--daemonset", arg);
	case OPT_NAME: return set_checked(&o->name, "--name", arg, cli_k8s_dns_label, RULE_LABEL);
	case OPT_OWNER: return set_checked(&o->owner, "--owner", arg, cli_k8s_label_value, RULE_VALUE);
	case OPT_CONTAINER:
		return set_checked(&o->container, "--container", arg, cli_k8s_dns_label, RULE_LABEL);
	case OPT_KEEP_ALIVE: return set_flag(&o->keep_alive, "--keep-alive");
	case OPT_COMMAND: return set_text(&o->command, "--command", arg);
	case OPT_NODE: return set_checked(&o->node_name, "--node", arg, cli_k8s_dns_subdomain,
		RULE_SUBDOMAIN);
	case OPT_LOG_FILE:
		if (arg[0] != '/')
			return cli_usage(CMD, "--log-file '%s': must be an absolute path in the "
				"container", arg);
		return set_text(&o->log_file, "--log-file", arg);
	case OPT_TAG: return set_checked(&o->traffic_tag, "--tag", arg, cli_k8s_label_value,
		RULE_VALUE);
	case OPT_ISTIO: return set_flag(&o->istio, "--istio");
	case OPT_TAG_HEADER:
		return set_checked(&o->tag_header, "--tag-header", arg, header_token,
			"must be an HTTP header name (A-Z, a-z, 0-9, '-', '_' and '.')");
	case OPT_ISTIO_HOST: return set_text(&o->istio_host, "--istio-host", arg);
	case OPT_TCPDUMP: return set_flag(&o->tcpdump, "--tcpdump");
	case OPT_TCPDUMP_IMAGE: return set_text(&o->tcpdump_image, "--tcpdump-image", arg);
	case OPT_TCPDUMP_FILTER: return set_text(&o->tcpdump_filter, "--tcpdump-filter", arg);
	case OPT_JVM_EXCEPTION_LOG: return set_flag(&o->jvm_exception_log, "--jvm-exception-log");
	case OPT_NO_LIVENESS: return set_flag(&o->no_liveness, "--no-liveness");
	case OPT_NO_READINESS: return set_flag(&o->no_readiness, "--no-readiness");
	case OPT_NO_STARTUP: return set_flag(&o->no_startup, "--no-startup");
	case OPT_DEBUG_PORT: return parse_debug_port(t, arg);
	case OPT_TTL: return parse_ttl(t, arg);
	case OPT_KEEP_LABELS: return set_flag(&o->keep_labels, "--keep-labels");
	case OPT_DRY_RUN: return set_flag(&t->dry_run, "--dry-run");
	case 'o': return parse_output(t, arg);
	case OPT_WAIT: return set_flag(&t->wait, "--wait");
	case OPT_TIMEOUT:
		return parse_duration_flag("--timeout", arg, 1, 24LL * 3600 * 1000, &t->timeout_ms);
	case OPT_JSON: return set_flag(&t->json, "--json");
	default: return CLI_K8S_NOT_MINE;
	}
}

/* Combinations of flags, once all are read. */
static int check_combinations(const struct replicate_cli *t)
{
	const devkit_replica_options *o = &t->opts;

	if (!t->source_flag)
		return cli_usage(CMD, "what to copy is required: --pod, --deployment, --statefulset "
			"or --daemonset NAME");
	if (t->k.all_namespaces)
		return cli_usage(CMD, "-A: a copy is made in one namespace, the source's");
	if (o->istio && !o->traffic_tag)
		return cli_usage(CMD, "--istio needs --tag T: the header value that selects the copy");
	if ((o->tag_header || o->istio_host) && !o->istio)
		return cli_usage(CMD, "--%s applies to --istio", o->tag_header ? "tag-header"
			: "istio-host");
	if ((o->tcpdump_image || o->tcpdump_filter) && !o->tcpdump)
		return cli_usage(CMD, "--%s applies to --tcpdump", o->tcpdump_image ? "tcpdump-image"
			: "tcpdump-filter");
	if (t->output && !t->dry_run)
		return cli_usage(CMD, "-o/--output applies to --dry-run (the Pod it prints)");
	if (t->output && t->json && strcmp(t->output, "json") != 0)
		return cli_usage(CMD, "--json and -o %s disagree", t->output);
	if (t->dry_run && t->wait)
		return cli_usage(CMD, "--dry-run creates nothing to --wait for");
	if (t->timeout_ms && !t->wait)
		return cli_usage(CMD, "--timeout applies to --wait");
	return 0;
}

int replicate_parse_args(struct replicate_cli *t, int argc, char **argv)
{
	int c, rc;

	cli_k8s_init(&t->k);
	if ((rc = devkit_replica_options_init(&t->opts, DEVKIT_REPLICA_OPTIONS_VERSION)) != 0) {
		cli_report_error(NULL, 0, NULL, "replica options", rc);
		return CLI_EXIT_FAILURE;
	}
	opterr = 0; /* our own messages, in our own format */
	optind = 1;
	for (;;) {
		c = getopt_long(argc, argv, ":" CLI_K8S_SHORT_OPTIONS CLI_K8S_ALL_SHORT_OPTIONS "o:h",
			long_options, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			fputs(replicate_help, stdout);
			return -1;
		}
		if (c == ':' || c == '?')
			return cli_getopt_error(CMD, c, argv);
		rc = replicate_option(t, c, optarg);
		if (rc == CLI_K8S_NOT_MINE)
			rc = cli_k8s_option(&t->k, CMD, c, optarg);
		if (rc == CLI_K8S_NOT_MINE)
			return cli_getopt_error(CMD, '?', argv);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_k8s_check(&t->k, CMD)) != 0 || (rc = check_combinations(t)) != 0)
		return rc;
	t->opts.namespace_name = t->k.namespace_name;
	if (!t->output)
		t->output = t->json ? "json" : "yaml";
	if (!t->timeout_ms)
		t->timeout_ms = REPLICA_DEFAULT_WAIT_MS;
	return 0;
}

const char *replicate_source_text(const struct replicate_cli *t, char *buf, size_t size)
{
	snprintf(buf, size, "%s/%s", kind_names[t->opts.source_kind], t->opts.source_name);
	return buf;
}
