/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit run` prints. Everything goes to stderr, because stdout is
 * CMD's: `devkit run -- curl ... > page.html` must give exactly curl's bytes.
 * Human mode: "devkit: ..." lines (none with -q). --json: one object per
 * line (schema in docs/run.md).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sigabbrev_np */
#endif
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli_report.h"
#include "cmd_run.h"

static const char *signal_name(int sig, char *buf, size_t size)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, size, "SIG%s", abbrev);
	else
		snprintf(buf, size, "signal %d", sig);
	return buf;
}

int run_say(struct run_cli *t, const char *fmt, ...)
{
	char line[1024];
	va_list ap;

	if (t->json || t->conn.verbosity < 0)
		return 0;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	return fprintf(stderr, "devkit: %s\n", cli_printable(line)) < 0 ? -1 : 0;
}

/* "curl -s http://..." for the status line, shortened if long. */
static const char *command_text(char **cmd, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (char **a = cmd; *a && len + 1 < size; a++) {
		int n = snprintf(buf + len, size - len, "%s%s", a == cmd ? "" : " ", *a);

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (len >= size && size > 4)
		strcpy(buf + size - 4, "...");
	return buf;
}

static void ready_json(struct run_cli *t)
{
	cli_json *j = &t->out;

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", "ready");
	/* With --control the tunnel is another process's: its ready line says
	 * what this one would repeat. */
	if (!t->control) {
		cli_json_string(j, "bastion", t->conn.bastion);
		cli_json_uint(j, "tunnel", t->tunnel_id);
	}
	/* The library's "key=value" lines, passed through as they are; none with
	 * --control, where the tunnel is another process's. */
	cli_json_session(j, t->tunnel);
	cli_json_string(j, "control", run_control_path(t));
	cli_json_string(j, "preload", t->preload);
	/* With --control: what the shim was told; the tunnel's own DNS answers. */
	if (t->control || t->dns)
		cli_cluster_json(j, &t->cluster, t->control ? NULL : t->dns);
	cli_json_string(j, "routes", t->cidrs ? t->cidrs : "");
	if (t->proxy) {
		cli_json_object_begin(j, "proxy");
		cli_json_string(j, "address", t->proxy_address);
		cli_json_int(j, "port", t->proxy_port);
		cli_json_object_end(j);
	}
	cli_json_array_begin(j, "command");
	for (char **a = t->cmd; *a; a++)
		cli_json_string(j, NULL, *a);
	cli_json_array_end(j);
	cli_json_object_end(j);
	(void)cli_json_write(j, stderr);
}

void run_report_ready(struct run_cli *t)
{
	char what[CLI_HOST_MAX + 16], cmd[512];

	if (t->json) {
		ready_json(t);
		return;
	}
	if (t->control)
		run_say(t, "using the running tunnel at %s; names under %s go to it", t->control,
			t->cluster.domains);
	else
		run_say(t, "tunnel up: %s", t->conn.bastion);
	if (t->dns)
		run_say(t, "names under %s resolve through the cluster DNS %s", t->cluster.domains,
			t->cluster.cluster_dns);
	if (t->cidrs)
		run_say(t, "connects to %s go through the tunnel", t->cidrs);
	if (t->proxy)
		run_say(t, "proxy %s set in HTTP_PROXY, HTTPS_PROXY, ALL_PROXY, JAVA_TOOL_OPTIONS",
			cli_format_hostport(what, sizeof(what), t->proxy_address, t->proxy_port));
	run_say(t, "running %s", command_text(t->cmd, cmd, sizeof(cmd)));
}

static void event_json(struct run_cli *t, const devkit_event *ev)
{
	cli_json *j = &t->out;

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", cli_or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->forward_id)
		cli_json_uint(j, "forward", ev->forward_id);
	cli_json_event_fields(j, ev);
	cli_json_object_end(j);
	(void)cli_json_write(j, stderr);
}

void run_report_event(struct run_cli *t, const devkit_event *ev)
{
	if (t->json) {
		event_json(t, ev);
		return;
	}
	/* In text, only what a person needs while CMD runs: the tunnel's health.
	 * Starting states and forward announcements were said by "ready". */
	if (ev->type != DEVKIT_EVENT_TUNNEL_STATE || ev->state == DEVKIT_TUNNEL_CONNECTING)
		return;
	run_say(t, "tunnel %s%s%s", cli_or_unknown(devkit_tunnel_state_name(ev->state)),
		ev->message[0] ? ": " : "", ev->message);
	if (ev->state == DEVKIT_TUNNEL_DOWN)
		run_say(t, "routed connects of %s fail from now on", t->cmd[0]);
}

void run_report_exit(struct run_cli *t, int status, int code, int sig)
{
	char name[32];

	if (t->json) {
		cli_json_object_begin(&t->out, NULL);
		cli_json_string(&t->out, "event", "exit");
		cli_json_int(&t->out, "status", status);
		if (sig)
			cli_json_string(&t->out, "signal", signal_name(sig, name, sizeof(name)));
		else
			cli_json_int(&t->out, "code", code);
		cli_json_object_end(&t->out);
		(void)cli_json_write(&t->out, stderr);
	} else if (sig) {
		run_say(t, "%s killed by %s (status %d)", t->cmd[0], signal_name(sig, name, sizeof(name)),
			status);
	} else if (code != 0 || t->conn.verbosity > 0) {
		run_say(t, "%s exited with status %d", t->cmd[0], code);
	}
}

void run_report_error(struct run_cli *t, const char *context, int rc)
{
	cli_report_error(&t->out, t->json, stderr, context, rc);
}
