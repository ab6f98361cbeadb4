/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loading devkit.yaml for `devkit up` and `devkit config`, and saying in one
 * line what it configures. The loader (include/devkit/config.h) checks
 * everything that can be checked without the network and words its errors
 * with file, line and column; all that is left here is to show them.
 */
#include <stdio.h>
#include <string.h>

#include "cmd_up.h"

int up_config_load(const char *file, const char *profile, int json, cli_json *out,
	devkit_config **cfg)
{
	int rc = devkit_config_load(cfg, file, profile);

	if (rc == 0)
		return 0;
	*cfg = NULL;
	/* The message starts with "FILE:LINE:COL:" (or names the file when it
	 * cannot be read): no context of ours in front of it. */
	cli_report_error(out, json, stdout, NULL, rc);
	return CLI_EXIT_USAGE;
}

/* Append ", text" (or "text" first) to buf. */
static void add(char *buf, size_t size, const char *text)
{
	size_t len = strlen(buf);

	if (len < size)
		snprintf(buf + len, size - len, "%s%s", len ? ", " : "", text);
}

/* "1 forward", "2 forwards". */
static void add_count(char *buf, size_t size, size_t n, const char *what)
{
	char text[64];

	if (n > 0) {
		snprintf(text, sizeof(text), "%zu %s%s", n, what, n == 1 ? "" : "s");
		add(buf, size, text);
	}
}

const char *up_config_summary(const devkit_config *cfg, char *buf, size_t size)
{
	const devkit_tunnel_options *t = devkit_config_tunnel(cfg);

	buf[0] = '\0';
	if (t)
		snprintf(buf, size, "tunnel %s", t->bastion);
	add_count(buf, size, devkit_config_forward_count(cfg), "forward");
	if (devkit_config_dns(cfg))
		add(buf, size, "dns");
	if (devkit_config_router(cfg))
		add(buf, size, "routing");
	add_count(buf, size, devkit_config_expose_count(cfg), "expose");
	add_count(buf, size, devkit_config_replica_count(cfg), "replica");
	if (!buf[0])
		snprintf(buf, size, "nothing to bring up");
	return buf;
}

const char *up_replica_source(const devkit_replica_options *o, char *buf, size_t size)
{
	const char *kind;

	switch (o->source_kind) {
	case DEVKIT_REPLICA_FROM_POD: kind = "pod"; break;
	case DEVKIT_REPLICA_FROM_DEPLOYMENT: kind = "deployment"; break;
	case DEVKIT_REPLICA_FROM_STATEFULSET: kind = "statefulset"; break;
	case DEVKIT_REPLICA_FROM_DAEMONSET: kind = "daemonset"; break;
	default: kind = "source"; break;
	}
	snprintf(buf, size, "%s/%s", kind, o->source_name ? o->source_name : "?");
	return buf;
}
