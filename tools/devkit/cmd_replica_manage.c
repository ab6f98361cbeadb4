/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit replica list | delete NAME, and devkit gc: the replicas that exist,
 * found by their devkit.io/replica=true label wherever they came from (this
 * machine, another one, a crashed IDE), one deleted by name, and the expired
 * ones deleted. Each parses everything before the first request, so a
 * mistake exits 2 with nothing sent.
 */
#include <getopt.h>
#include <string.h>

#include "cli_report.h"
#include "cli_signal.h"
#include "cmd_replica.h"
#include "commands.h"

/* What each of the three commands accepts besides the Kubernetes flags. */
enum {
	TAKES_ALL = 1,      /* -A/--all-namespaces */
	TAKES_JSON = 2,     /* --json */
	TAKES_TIMEOUT = 4,  /* --timeout */
	TAKES_NAME = 8      /* one positional NAME */
};

struct manage_cli {
	struct cli_k8s k;
	const char *name;
	long long timeout_ms;
	int json;
	devkit_ctx *ctx;
	devkit_k8s *k8s;
	cli_json out;
};

static const char list_help[] =
	"Usage: devkit replica list [-n NS | -A] [--json]\n"
	"\n"
	"The replicas (Pods labelled devkit.io/replica=true) in a namespace, or in\n"
	"all: name, namespace, owner, source, age, time left until they expire,\n"
	"phase and node. Expired ones say \"expired\" until `devkit gc` deletes them.\n"
	"\n"
	CLI_K8S_HELP
	CLI_K8S_ALL_HELP
	"\n"
	"Output:\n"
	"      --json              the rows as a JSON array of {name, namespace, owner,\n"
	"                          source, created, expires, phase, node}\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 listed (also when there are none); 1 failed; 2 usage error.\n";

static const char delete_help[] =
	"Usage: devkit replica delete NAME [-n NS] [--timeout DURATION]\n"
	"\n"
	"Delete a replica (and its Istio rules, if it has a traffic tag) and wait\n"
	"until the API server no longer has it. A Pod that is not a devkit replica\n"
	"(no devkit.io/replica=true label) is refused.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"      --timeout DURATION  how long to wait until it is gone (default 2m)\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 gone; 1 failed, or still terminating at the timeout;\n"
	"2 usage error.\n";

static const char gc_help[] =
	"Usage: devkit gc [-n NS | -A] [--json]\n"
	"\n"
	"Delete every replica whose expiry (annotation devkit.io/expires) has passed,\n"
	"and Istio rules left behind by expired replicas, and print what was\n"
	"deleted. Replicas without a readable expiry are kept. Does not wait for\n"
	"each Pod to be gone: the API server has them marked for deletion.\n"
	"\n"
	CLI_K8S_HELP
	CLI_K8S_ALL_HELP
	"\n"
	"Output:\n"
	"      --json              {\"deleted\":N,\"replicas\":[{name, namespace, owner,\n"
	"                          source, expires}]}\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 done (also when nothing had expired); 1 failed (the message\n"
	"says how many were deleted before); 2 usage error.\n";

static const char replica_help[] =
	"Usage: devkit replica list [-n NS | -A] [--json]\n"
	"       devkit replica delete NAME [-n NS] [--timeout DURATION]\n"
	"\n"
	"The replicas made by `devkit replicate`:\n"
	"  list      show them, with their owner, source, age and expiry\n"
	"  delete    delete one and wait until it is gone\n"
	"\n"
	"'devkit replica <command> --help' describes a command. Expired replicas are\n"
	"deleted by `devkit gc`.\n";

enum { OPT_JSON = CLI_CONNECT_OPT_END, OPT_TIMEOUT };

static const struct option long_options[] = {
	CLI_K8S_LONG_OPTIONS,
	CLI_K8S_ALL_LONG_OPTIONS,
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int manage_option(struct manage_cli *m, const char *cmd, unsigned takes, int c,
	const char *arg)
{
	char err[256];

	switch (c) {
	case 'A':
		return takes & TAKES_ALL ? cli_k8s_option(&m->k, cmd, c, arg) : CLI_K8S_NOT_MINE;
	case OPT_JSON:
		if (!(takes & TAKES_JSON))
			return CLI_K8S_NOT_MINE;
		m->json = 1;
		return 0;
	case OPT_TIMEOUT:
		if (!(takes & TAKES_TIMEOUT))
			return CLI_K8S_NOT_MINE;
		if (m->timeout_ms)
			return cli_usage(cmd, "--timeout given more than once");
		if (cli_k8s_parse_duration(arg, 1, 24LL * 3600 * 1000, &m->timeout_ms, err,
			sizeof(err)) != 0)
			return cli_usage(cmd, "--timeout: %s", err);
		return 0;
	default:
		return cli_k8s_option(&m->k, cmd, c, arg);
	}
}

/* 0; -1 after --help; CLI_EXIT_USAGE after saying why. */
static int manage_parse(struct manage_cli *m, const char *cmd, const char *help, unsigned takes,
	int argc, char **argv)
{
	int c, rc;

	memset(m, 0, sizeof(*m));
	cli_k8s_init(&m->k);
	opterr = 0;
	optind = 1;
	/* Options may follow NAME, as with kubectl: getopt permutes. */
	while ((c = getopt_long(argc, argv, takes & TAKES_ALL ? ":" CLI_K8S_SHORT_OPTIONS
		CLI_K8S_ALL_SHORT_OPTIONS "h" : ":" CLI_K8S_SHORT_OPTIONS "h", long_options,
		NULL)) != -1) {
		if (c == 'h') {
			fputs(help, stdout);
			return -1;
		}
		if (c == ':' || c == '?')
			return cli_getopt_error(cmd, c, argv);
		rc = manage_option(m, cmd, takes, c, optarg);
		if (rc == CLI_K8S_NOT_MINE)
			return cli_getopt_error(cmd, '?', argv);
		if (rc != 0)
			return rc;
	}
	if (takes & TAKES_NAME) {
		if (optind >= argc)
			return cli_usage(cmd, "which replica? NAME is required");
		m->name = argv[optind++];
		if (!cli_k8s_dns_label(m->name))
			return cli_usage(cmd, "'%s' is not a replica's name (a DNS label: a-z, 0-9 and "
				"'-')", m->name);
	}
	if (optind < argc)
		return cli_usage(cmd, "unexpected argument '%s'", argv[optind]);
	if (!m->timeout_ms)
		m->timeout_ms = REPLICA_DEFAULT_DELETE_MS;
	return cli_k8s_check(&m->k, cmd);
}

static int manage_open(struct manage_cli *m)
{
	cli_signals_ignore_sigpipe();
	return cli_k8s_open(&m->k, m->json ? &m->out : NULL, &m->ctx, &m->k8s);
}

static void manage_close(struct manage_cli *m)
{
	cli_k8s_close(m->ctx, m->k8s);
	cli_json_free(&m->out);
}

/* Where a command looked, for "nothing found" messages. */
static const char *where(const struct manage_cli *m, char *buf, size_t size)
{
	if (m->k.all_namespaces)
		snprintf(buf, size, "any namespace");
	else
		snprintf(buf, size, "namespace %s", m->k.namespace_name ? m->k.namespace_name
			: devkit_k8s_namespace(m->k8s));
	return buf;
}

/* --- list ------------------------------------------------------------------ */

/* "7h59m" until the expiry, "expired" after it, "<none>" without one. */
static const char *expires_cell(const char *expires, time_t now, char *buf, size_t size)
{
	time_t at;

	if (replica_parse_time(expires, &at) != 0)
		return NULL;
	if (at < now)
		return "expired";
	return replica_human_duration((long long)(at - now), buf, size);
}

static int print_list(const struct manage_cli *m, const rdoc *rows)
{
	static const char *const header[] = { "NAME", "NAMESPACE", "OWNER", "SOURCE", "AGE",
		"EXPIRES", "PHASE", "NODE" };
	struct replica_table tb;
	time_t now = time(NULL);
	int rc;
	char buf[64];

	if (!rows->child) {
		/* on stderr, as kubectl does: stdout stays a (empty) table */
		cli_errorf("no replicas in %s", where(m, buf, sizeof(buf)));
		return 0;
	}
	replica_table_init(&tb, 8);
	replica_table_row(&tb, header);
	for (const rdoc *r = rows->child; r; r = r->next) {
		char age[32] = "", left[32];
		time_t created;
		const char *cells[8];

		if (replica_parse_time(rdoc_str(r, "created"), &created) == 0)
			replica_human_duration((long long)(now - created), age, sizeof(age));
		cells[0] = rdoc_str(r, "name");
		cells[1] = rdoc_str(r, "namespace");
		cells[2] = rdoc_str(r, "owner");
		cells[3] = rdoc_str(r, "source");
		cells[4] = age;
		cells[5] = expires_cell(rdoc_str(r, "expires"), now, left, sizeof(left));
		cells[6] = rdoc_str(r, "phase");
		cells[7] = rdoc_str(r, "node");
		replica_table_row(&tb, cells);
	}
	rc = replica_table_print(&tb, stdout);
	replica_table_free(&tb);
	return rc;
}

static int replica_list(int argc, char **argv)
{
	static const char cmd[] = "replica list";
	struct manage_cli m;
	devkit_buf buf = DEVKIT_BUF_INIT;
	rdoc *rows;
	int rc = manage_parse(&m, cmd, list_help, TAKES_ALL | TAKES_JSON, argc, argv);

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (manage_open(&m) != 0) {
		manage_close(&m);
		return CLI_EXIT_FAILURE;
	}
	rc = CLI_EXIT_FAILURE;
	if (m.json) {
		/* the library's rows as they are: the documented shape */
		int lrc = devkit_replica_list(m.k8s, cli_k8s_list_namespace(&m.k), &buf);

		if (lrc != 0)
			cli_report_error(&m.out, 1, stdout, NULL, lrc);
		else if (printf("%s\n", buf.ptr) >= 0 && fflush(stdout) == 0)
			rc = CLI_EXIT_OK;
		devkit_buf_dispose(&buf);
	} else if ((rows = replica_list_rows(m.k8s, cli_k8s_list_namespace(&m.k), NULL, 0))) {
		rc = print_list(&m, rows) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		rdoc_free(rows);
	}
	manage_close(&m);
	return rc;
}

/* --- delete ---------------------------------------------------------------- */

static int replica_delete(int argc, char **argv)
{
	static const char cmd[] = "replica delete";
	struct manage_cli m;
	int rc = manage_parse(&m, cmd, delete_help, TAKES_TIMEOUT | TAKES_NAME, argc, argv);

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (manage_open(&m) != 0) {
		manage_close(&m);
		return CLI_EXIT_FAILURE;
	}
	rc = devkit_replica_delete_name(m.k8s, m.k.namespace_name, m.name, (int)m.timeout_ms);
	if (rc != 0) {
		cli_report_error(NULL, 0, NULL, NULL, rc);
		rc = CLI_EXIT_FAILURE;
	} else {
		const char *ns = m.k.namespace_name ? m.k.namespace_name : devkit_k8s_namespace(m.k8s);

		rc = printf("deleted %s/%s\n", ns, m.name) < 0 || fflush(stdout) != 0
			? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	}
	manage_close(&m);
	return rc;
}

int cmd_replica(int argc, char **argv)
{
	const char *sub = argc > 1 ? argv[1] : NULL;

	if (!sub)
		return cli_usage("replica", "which command? list or delete");
	if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
		fputs(replica_help, stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(sub, "list") == 0 || strcmp(sub, "ls") == 0)
		return replica_list(argc - 1, argv + 1);
	if (strcmp(sub, "delete") == 0 || strcmp(sub, "rm") == 0)
		return replica_delete(argc - 1, argv + 1);
	return cli_usage("replica", "unknown command '%s' (list or delete)", sub);
}

/* --- gc -------------------------------------------------------------------- */

/*
 * What gc will delete, by the library's own rule (a readable expiry before
 * now), from a list taken just before: the library reports only a count, and
 * the user wants to see which ones went. Its "now" is later than ours, so
 * everything found here is deleted too; one that expires in between is
 * counted but not named, and the summary says so.
 */
static size_t collect_expired(const rdoc *rows, time_t now, const rdoc **out, size_t cap)
{
	size_t n = 0;

	for (const rdoc *r = rows->child; r && n < cap; r = r->next) {
		time_t at;

		if (replica_parse_time(rdoc_str(r, "expires"), &at) == 0 && at < now)
			out[n++] = r;
	}
	return n;
}

static int report_gc_json(struct manage_cli *m, int deleted, const rdoc *const *gone, size_t n)
{
	static const char *const fields[] = { "name", "namespace", "owner", "source", "expires" };

	cli_json_object_begin(&m->out, NULL);
	cli_json_int(&m->out, "deleted", deleted);
	cli_json_array_begin(&m->out, "replicas");
	for (size_t i = 0; i < n; i++) {
		cli_json_object_begin(&m->out, NULL);
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			cli_json_string(&m->out, fields[f], rdoc_str(gone[i], fields[f]));
		cli_json_object_end(&m->out);
	}
	cli_json_array_end(&m->out);
	cli_json_object_end(&m->out);
	return cli_json_write(&m->out, stdout);
}

static int report_gc(struct manage_cli *m, int deleted, const rdoc *const *gone, size_t n,
	time_t now)
{
	char buf[64];

	if (m->json)
		return report_gc_json(m, deleted, gone, n);
	for (size_t i = 0; i < n; i++) {
		time_t at = now;
		const char *owner = rdoc_str(gone[i], "owner");

		replica_parse_time(rdoc_str(gone[i], "expires"), &at);
		if (printf("deleted %s/%s (from %s, owner %s, expired %s ago)\n",
			rdoc_str(gone[i], "namespace"), rdoc_str(gone[i], "name"),
			cli_or_unknown(rdoc_str(gone[i], "source")), owner ? owner : "unknown",
			replica_human_duration((long long)(now - at), buf, sizeof(buf))) < 0)
			return -1;
	}
	if (deleted == 0)
		cli_errorf("no expired replicas in %s", where(m, buf, sizeof(buf)));
	else if ((size_t)deleted > n && printf("deleted %d more that expired meanwhile\n",
		deleted - (int)n) < 0)
		return -1;
	return fflush(stdout) == 0 ? 0 : -1;
}

int cmd_gc(int argc, char **argv)
{
	static const char cmd[] = "gc";
	struct manage_cli m;
	const rdoc *gone[1024];
	rdoc *rows;
	size_t n;
	time_t now;
	int rc = manage_parse(&m, cmd, gc_help, TAKES_ALL | TAKES_JSON, argc, argv), deleted = 0;

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (manage_open(&m) != 0) {
		manage_close(&m);
		return CLI_EXIT_FAILURE;
	}
	rc = CLI_EXIT_FAILURE;
	rows = replica_list_rows(m.k8s, cli_k8s_list_namespace(&m.k), &m.out, m.json);
	if (rows) {
		now = time(NULL);
		n = collect_expired(rows, now, gone, sizeof(gone) / sizeof(gone[0]));
		int grc = devkit_replica_gc(m.k8s, cli_k8s_list_namespace(&m.k), &deleted);

		if (grc != 0)
			cli_report_error(&m.out, m.json, stdout, NULL, grc);
		else
			rc = report_gc(&m, deleted, gone, n, now) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
		rdoc_free(rows);
	}
	manage_close(&m);
	return rc;
}
