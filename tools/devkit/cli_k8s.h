/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The flags every Kubernetes subcommand shares, spelled as kubectl spells
 * them: --kubeconfig, --context, -n/--namespace (and -A/--all-namespaces
 * where a command reads several namespaces), plus -v/-q for the library's
 * log lines. One parser, one help text and one place that opens the client,
 * so that `devkit replicate`, `devkit replica ...`, `devkit gc` and the
 * Kubernetes commands still to come cannot drift apart (cli_connect.h does
 * the same for the bastion flags).
 *
 * $KUBECONFIG is honoured by the library itself (devkit_k8s_open with no
 * kubeconfig), exactly as kubectl honours it; --kubeconfig replaces it.
 *
 * A subcommand puts CLI_K8S_LONG_OPTIONS in its getopt_long table and
 * CLI_K8S_SHORT_OPTIONS in its short-option string (CLI_K8S_ALL_* too when
 * it takes -A), hands every option it does not know to cli_k8s_option(), and
 * calls cli_k8s_check() once the command line is read.
 */
#ifndef DEVKIT_CLI_K8S_H
#define DEVKIT_CLI_K8S_H

#include <stddef.h>

#include <devkit.h>

#include "cli_connect.h"
#include "cli_util.h"

struct cli_k8s {
	/* strings are borrowed from argv */
	const char *kubeconfig;      /* NULL: $KUBECONFIG, else ~/.kube/config */
	const char *context;         /* NULL: the kubeconfig's current-context */
	const char *namespace_name;  /* NULL: the context's, else "default" */
	int all_namespaces;          /* -A, for commands that allow it */
	int verbosity;               /* -1 quiet, 0 warnings, 1 info, 2 debug, 3 trace */
};

/*
 * Codes of the long-only Kubernetes flags: between the connection flags
 * (256..) and CLI_CONNECT_OPT_END, where subcommands start numbering theirs,
 * so a command may take both families.
 */
enum {
	CLI_K8S_OPT_KUBECONFIG = 280,
	CLI_K8S_OPT_CONTEXT,
	CLI_K8S_OPT_END
};

#define CLI_K8S_SHORT_OPTIONS "n:vq"
#define CLI_K8S_ALL_SHORT_OPTIONS "A"

#define CLI_K8S_LONG_OPTIONS \
	{ "kubeconfig", required_argument, NULL, CLI_K8S_OPT_KUBECONFIG }, \
	{ "context", required_argument, NULL, CLI_K8S_OPT_CONTEXT }, \
	{ "namespace", required_argument, NULL, 'n' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }

#define CLI_K8S_ALL_LONG_OPTIONS \
	{ "all-namespaces", no_argument, NULL, 'A' }

/* The "Kubernetes" block of a subcommand's --help; a string literal. */
#define CLI_K8S_HELP \
	"Kubernetes (as kubectl reads them):\n" \
	"      --kubeconfig FILE   kubeconfig file(s), ':'-separated (default\n" \
	"                          $KUBECONFIG, else ~/.kube/config, else the\n" \
	"                          in-cluster service account)\n" \
	"      --context NAME      the kubeconfig context (default: current-context)\n" \
	"  -n, --namespace NS      the namespace (default: the context's, else\n" \
	"                          \"default\")\n"

#define CLI_K8S_ALL_HELP \
	"  -A, --all-namespaces    every namespace (excludes -n)\n"

/* No -v/-q block of its own: it is cli_connect.h's CLI_CONNECT_VERBOSITY_HELP,
 * the same flags with the same meaning. */

void cli_k8s_init(struct cli_k8s *k);

/* Not a Kubernetes flag: the caller handles it. */
#define CLI_K8S_NOT_MINE (-1)

/*
 * Handle option `opt` (getopt's return value) with value `arg`: 0 when
 * taken, CLI_EXIT_USAGE after a usage error for `command`, or
 * CLI_K8S_NOT_MINE. 'A' is taken only when the command listed it.
 */
int cli_k8s_option(struct cli_k8s *k, const char *command, int opt, const char *arg);

/* The checks that need the whole command line (-n with -A). 0 or
 * CLI_EXIT_USAGE. */
int cli_k8s_check(const struct cli_k8s *k, const char *command);

/* The namespace argument of the library's list calls: "*" with -A, else -n
 * or NULL (the client's). */
const char *cli_k8s_list_namespace(const struct cli_k8s *k);

/*
 * Create the engine (library log lines on stderr at the chosen verbosity)
 * and the Kubernetes client. No request is made yet. On failure says why on
 * stderr with the library's message ("kubeconfig ...: context \"x\" not
 * found (contexts: a, b)") and, when `json` is not NULL, as an "error" event
 * on stdout; returns the library's code with *ctx and *k8s NULL.
 */
int cli_k8s_open(const struct cli_k8s *k, struct cli_json *json, devkit_ctx **ctx,
	devkit_k8s **k8s);

/* Free what cli_k8s_open made; NULLs are fine. */
void cli_k8s_close(devkit_ctx *ctx, devkit_k8s *k8s);

/*
 * The flags that select the same cluster and namespace again, for commands
 * we suggest to the user ("devkit replica delete NAME -n dev --context
 * prod"): " -n NS" (always, with the namespace actually used), then
 * --context and --kubeconfig when given. Words with shell metacharacters are
 * single-quoted. Returns buf.
 */
const char *cli_k8s_flags_again(const struct cli_k8s *k, const char *ns, char *buf, size_t size);

/*
 * A duration as kubectl writes them: "90s", "5m", "1h30m", "8h", "2d", or a
 * bare number of seconds ("30", "0.5"). Into milliseconds, within
 * [min_ms, max_ms]. 0, or -1 with the reason in err.
 */
int cli_k8s_parse_duration(const char *text, long long min_ms, long long max_ms, long long *out,
	char *err, size_t errsize);

/* Kubernetes name rules, checked before any request so that a typo is a
 * usage error: a DNS label (namespaces, Pod names: at most 63 of a-z, 0-9,
 * '-', alphanumeric at both ends), a DNS subdomain (most object names, node
 * names: dot-separated labels, at most 253) and a label value (at most 63 of
 * A-Z, a-z, 0-9, '-', '_', '.', alphanumeric at both ends). 1 when valid. */
int cli_k8s_dns_label(const char *text);
int cli_k8s_dns_subdomain(const char *text);
int cli_k8s_label_value(const char *text);

#endif
