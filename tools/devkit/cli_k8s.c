/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_k8s.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cli_k8s_init(struct cli_k8s *k)
{
	memset(k, 0, sizeof(*k));
}

int cli_k8s_option(struct cli_k8s *k, const char *command, int opt, const char *arg)
{
	switch (opt) {
	case CLI_K8S_OPT_KUBECONFIG:
		if (!*arg)
			return cli_usage(command, "--kubeconfig: the file name is empty");
		return cli_set_once(&k->kubeconfig, arg, command, "--kubeconfig");
	case CLI_K8S_OPT_CONTEXT:
		if (!*arg)
			return cli_usage(command, "--context: the name is empty");
		return cli_set_once(&k->context, arg, command, "--context");
	case 'n':
		/* Checked here, not by the server: a typo must not become a request
		 * (and a '/' or '?' in it would change the request's path). */
		if (!cli_k8s_dns_label(arg))
			return cli_usage(command, "--namespace '%s': a namespace is a DNS label (at "
				"most 63 of a-z, 0-9 and '-', starting and ending with a letter or "
				"digit)", arg);
		return cli_set_once(&k->namespace_name, arg, command, "--namespace");
	case 'A': k->all_namespaces = 1; return 0;
	case 'v': k->verbosity = k->verbosity < 0 ? 1 : k->verbosity + 1; return 0;
	case 'q': k->verbosity = -1; return 0;
	default: return CLI_K8S_NOT_MINE;
	}
}

int cli_k8s_check(const struct cli_k8s *k, const char *command)
{
	/* kubectl lets -A win silently; a script that says both probably meant
	 * one of them, and guessing wrong deletes in the wrong place (gc). */
	if (k->all_namespaces && k->namespace_name)
		return cli_usage(command, "-A/--all-namespaces and -n/--namespace exclude each other");
	return 0;
}

const char *cli_k8s_list_namespace(const struct cli_k8s *k)
{
	return k->all_namespaces ? "*" : k->namespace_name;
}

int cli_k8s_open(const struct cli_k8s *k, struct cli_json *json, devkit_ctx **ctx,
	devkit_k8s **k8s)
{
	struct cli_connect conn;
	devkit_k8s_options opts;
	int rc;

	*ctx = NULL;
	*k8s = NULL;
	/* The engine is made the way the tunnel commands make it: log lines at
	 * the same verbosity, shutdown signals blocked on its I/O thread. */
	cli_connect_init(&conn);
	conn.verbosity = k->verbosity;
	if ((rc = cli_connect_new_ctx(&conn, ctx)) == 0
		&& (rc = devkit_k8s_options_init(&opts, DEVKIT_K8S_OPTIONS_VERSION)) == 0) {
		opts.kubeconfig = k->kubeconfig;
		opts.context = k->context;
		opts.namespace_name = k->namespace_name;
		rc = devkit_k8s_open(k8s, *ctx, &opts);
	}
	if (rc != 0) {
		/* Reported before the engine is freed, which may replace the
		 * thread's last error. */
		cli_report_error(json, json != NULL, stdout, NULL, rc);
		*k8s = NULL;
		devkit_ctx_free(*ctx);
		*ctx = NULL;
	}
	return rc;
}

void cli_k8s_close(devkit_ctx *ctx, devkit_k8s *k8s)
{
	devkit_k8s_free(k8s);
	devkit_ctx_free(ctx);
}

/* Append " word" to buf, single-quoted when the shell would read it
 * differently; a quote inside becomes '\''. */
static void append_word(char *buf, size_t size, const char *word)
{
	size_t len = strlen(buf);
	int plain = *word != '\0';

	for (const char *p = word; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr("-_./:=,@%+", *p))
			plain = 0;
	}
	if (plain) {
		snprintf(buf + len, size - len, " %s", word);
		return;
	}
	snprintf(buf + len, size - len, " '");
	for (const char *p = word; *p; p++) {
		len = strlen(buf);
		if (*p == '\'')
			snprintf(buf + len, size - len, "'\\''");
		else if (len + 1 < size) {
			buf[len] = *p;
			buf[len + 1] = '\0';
		}
	}
	len = strlen(buf);
	snprintf(buf + len, size - len, "'");
}

const char *cli_k8s_flags_again(const struct cli_k8s *k, const char *ns, char *buf, size_t size)
{
	buf[0] = '\0';
	if (ns && *ns) {
		append_word(buf, size, "-n");
		append_word(buf, size, ns);
	}
	if (k->context) {
		append_word(buf, size, "--context");
		append_word(buf, size, k->context);
	}
	if (k->kubeconfig) {
		append_word(buf, size, "--kubeconfig");
		append_word(buf, size, k->kubeconfig);
	}
	return buf;
}

/* The unit of a duration part: its length in milliseconds, 0 if unknown. */
static double unit_ms(const char *unit, size_t len)
{
	static const struct { const char *name; double ms; } units[] = {
		{ "ms", 1.0 }, { "s", 1000.0 }, { "m", 60000.0 }, { "h", 3600000.0 },
		{ "d", 86400000.0 },
	};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strlen(units[i].name) == len && strncmp(unit, units[i].name, len) == 0)
			return units[i].ms;
	}
	return 0.0;
}

int cli_k8s_parse_duration(const char *text, long long min_ms, long long max_ms, long long *out,
	char *err, size_t errsize)
{
	const char *p = text;
	double total = 0.0;
	int parts = 0;

	if (!text || !*text) {
		snprintf(err, errsize, "missing duration");
		return -1;
	}
	while (*p) {
		char *end;
		double value;
		const char *unit;
		double ms;

		/* strtod alone would take "inf", "0x10", "+5" and leading spaces. */
		if (!isdigit((unsigned char)*p) && *p != '.')
			goto bad;
		value = strtod(p, &end);
		if (end == p || !isfinite(value))
			goto bad;
		unit = end;
		while (isalpha((unsigned char)*end))
			end++;
		if (end == unit) {
			/* a bare number is seconds, and only alone ("90", not "1h30") */
			if (parts || *end)
				goto bad;
			ms = 1000.0;
		} else if ((ms = unit_ms(unit, (size_t)(end - unit))) == 0.0) {
			goto bad;
		}
		total += value * ms;
		parts++;
		p = end;
	}
	if (total < (double)min_ms || total > (double)max_ms) {
		snprintf(err, errsize, "'%s' is out of range", text);
		return -1;
	}
	*out = (long long)(total + 0.5);
	return 0;
bad:
	snprintf(err, errsize, "'%s' is not a duration such as 90s, 5m, 1h30m or 8h", text);
	return -1;
}

static int label_char(int c, int extended)
{
	return isdigit(c) || (c >= 'a' && c <= 'z') || c == '-'
		|| (extended && ((c >= 'A' && c <= 'Z') || c == '_' || c == '.'));
}

/* `len` bytes of `text` as a DNS label (extended: a label value's charset). */
static int is_label(const char *text, size_t len, int extended)
{
	if (len == 0 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!label_char((unsigned char)text[i], extended))
			return 0;
	}
	return isalnum((unsigned char)text[0]) && isalnum((unsigned char)text[len - 1]);
}

int cli_k8s_dns_label(const char *text)
{
	return text && is_label(text, strlen(text), 0);
}

int cli_k8s_dns_subdomain(const char *text)
{
	size_t len = text ? strlen(text) : 0;

	if (len == 0 || len > 253)
		return 0;
	for (const char *p = text;;) {
		size_t n = strcspn(p, ".");

		if (!is_label(p, n, 0))
			return 0;
		if (!p[n])
			return 1;
		p += n + 1;
	}
}

int cli_k8s_label_value(const char *text)
{
	return text && is_label(text, strlen(text), 1);
}
