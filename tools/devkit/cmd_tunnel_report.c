/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit tunnel` prints. Human mode: timestamped status lines on stdout.
 * --json mode: one JSON object per line on stdout (schema in docs/cli.md).
 * Errors and library log lines always go to stderr, so stdout stays parseable.
 */
#include <stdio.h>

#include "cli_report.h"
#include "cmd_tunnel.h"

/* "local 127.0.0.1:8080 -> db:5432", the one-line picture of a forward. */
static const char *describe_forward(const struct tunnel_forward *f, char *buf, size_t size)
{
	return cli_describe_forward(buf, size, f->kind, f->address, f->port, f->spec.target_host,
		f->spec.target_port);
}

static const char *target_of(const struct tunnel_forward *f, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, f->spec.target_host, f->spec.target_port);
}

static void json_forward(cli_json *j, const struct tunnel_forward *f)
{
	char target[CLI_HOST_MAX + 16];

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "kind", cli_forward_kind_name(f->kind));
	cli_json_uint(j, "id", f->id);
	cli_json_string(j, "address", f->address);
	cli_json_int(j, "port", f->port);
	if (f->kind != DEVKIT_FORWARD_DYNAMIC)
		cli_json_string(j, "target", target_of(f, target, sizeof(target)));
	cli_json_object_end(j);
}

/* The router's part of "ready": what `devkit run --control` needs. */
static void json_routing(struct tunnel_cli *t)
{
	cli_json *j = &t->out;

	cli_json_string(j, "control", devkit_router_control_path(t->router));
	if (t->dns)
		cli_cluster_json(j, &t->cluster, t->dns);
}

static int say_routing(struct tunnel_cli *t)
{
	const char *path = devkit_router_control_path(t->router);

	if (t->dns && cli_say("names under %s resolve through the cluster DNS %s",
		t->cluster.domains, t->cluster.cluster_dns) != 0)
		return -1;
	return cli_say("control %s: devkit run --control %s -- CMD routes CMD through this tunnel",
		path, path);
}

int report_ready(struct tunnel_cli *t)
{
	int rc = 0;

	if (t->json) {
		cli_json *j = &t->out;

		cli_json_object_begin(j, NULL);
		cli_json_string(j, "event", "ready");
		cli_json_string(j, "bastion", t->conn.bastion);
		cli_json_uint(j, "tunnel", t->tunnel_id);
		cli_json_session(j, t->tunnel);
		cli_json_array_begin(j, "forwards");
		for (size_t i = 0; i < t->n_forwards; i++)
			json_forward(j, &t->forwards[i]);
		cli_json_array_end(j);
		if (t->router)
			json_routing(t);
		cli_json_object_end(j);
		rc = cli_json_write(j, stdout);
	} else {
		char line[CLI_HOST_MAX * 3];

		rc = cli_say_tunnel_up(t->conn.bastion, t->tunnel);
		for (size_t i = 0; rc == 0 && i < t->n_forwards; i++)
			rc = cli_say("%s", describe_forward(&t->forwards[i], line, sizeof(line)));
		if (rc == 0 && t->router)
			rc = say_routing(t);
		if (rc == 0)
			rc = cli_say("ready; Ctrl-C to close");
	}
	return rc;
}

static int event_json(struct tunnel_cli *t, const devkit_event *ev)
{
	cli_json *j = &t->out;
	struct tunnel_forward *f = tunnel_find_forward(t, ev->forward_id);

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", cli_or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->forward_id) {
		cli_json_uint(j, "forward", ev->forward_id);
		if (f)
			cli_json_string(j, "kind", cli_forward_kind_name(f->kind));
	}
	cli_json_event_fields(j, ev);
	cli_json_object_end(j);
	return cli_json_write(j, stdout);
}

static int event_text(struct tunnel_cli *t, const devkit_event *ev)
{
	struct tunnel_forward *f = tunnel_find_forward(t, ev->forward_id);
	char what[CLI_HOST_MAX * 3], why[512];

	cli_event_why(ev, why, sizeof(why));
	switch (ev->type) {
	case DEVKIT_EVENT_FORWARD_READY:
		/* Our one-line picture says all a person needs; JSON has the message. */
		if (f)
			return cli_say("%s (ready)", describe_forward(f, what, sizeof(what)));
		return cli_say("forward #%llu ready on %s%s", (unsigned long long)ev->forward_id,
			cli_format_hostport(what, sizeof(what), ev->address, ev->port), why);
	case DEVKIT_EVENT_FORWARD_FAILED:
		if (f)
			return cli_say("%s %s failed%s", f->flag, f->arg, why);
		return cli_say("forward #%llu failed%s", (unsigned long long)ev->forward_id, why);
	default:
		/* Tunnel states and the rest: worded as `devkit expose` words them. */
		return cli_say_event(ev, why);
	}
}

int report_event(struct tunnel_cli *t, const devkit_event *ev)
{
	return t->json ? event_json(t, ev) : event_text(t, ev);
}

int report_stats(struct tunnel_cli *t)
{
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	int rc = devkit_tunnel_get_stats(t->tunnel, &ts);

	if (rc != 0) {
		char why[512];

		cli_lib_error_text(rc, why, sizeof(why));
		cli_errorf("tunnel stats: %s", why);
		return 0; /* a missed sample is not worth stopping the tunnel for */
	}
	if (t->json) {
		cli_json *j = &t->out;

		cli_json_object_begin(j, NULL);
		cli_json_string(j, "event", "stats");
		cli_json_uint(j, "tunnel", t->tunnel_id);
		cli_json_string(j, "state", cli_or_unknown(devkit_tunnel_state_name(ts.state)));
		cli_json_uint(j, "reconnects", ts.reconnects);
		cli_json_uint(j, "bytes_in", ts.bytes_in);
		cli_json_uint(j, "bytes_out", ts.bytes_out);
		cli_json_uint(j, "channels_open", ts.channels_open);
		cli_json_uint(j, "channels_total", ts.channels_total);
		cli_json_uint(j, "failures", ts.failures);
		cli_json_uint(j, "forward_count", ts.forwards);
		cli_json_array_begin(j, "forwards");
		for (size_t i = 0; i < t->n_forwards; i++) {
			struct tunnel_forward *f = &t->forwards[i];
			devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;

			if (!f->forward || devkit_forward_get_stats(f->forward, &fs) != 0)
				continue;
			cli_json_object_begin(j, NULL);
			cli_json_uint(j, "id", f->id);
			cli_json_string(j, "kind", cli_forward_kind_name(f->kind));
			cli_json_uint(j, "bytes_in", fs.bytes_in);
			cli_json_uint(j, "bytes_out", fs.bytes_out);
			cli_json_uint(j, "channels_open", fs.channels_open);
			cli_json_uint(j, "channels_total", fs.channels_total);
			cli_json_uint(j, "failures", fs.failures);
			cli_json_object_end(j);
		}
		cli_json_array_end(j);
		cli_json_object_end(j);
		return cli_json_write(j, stdout);
	} else {
		char in[32], out[32];

		return cli_say("stats: %s; connections %llu open, %llu total; in %s, out %s; "
			"%llu failures; %llu reconnects",
			cli_or_unknown(devkit_tunnel_state_name(ts.state)),
			(unsigned long long)ts.channels_open, (unsigned long long)ts.channels_total,
			cli_human_bytes(ts.bytes_in, in, sizeof(in)),
			cli_human_bytes(ts.bytes_out, out, sizeof(out)),
			(unsigned long long)ts.failures, (unsigned long long)ts.reconnects);
	}
}

int report_closing(struct tunnel_cli *t, int sig)
{
	if (t->json) {
		cli_json_object_begin(&t->out, NULL);
		cli_json_string(&t->out, "event", "closing");
		cli_json_uint(&t->out, "tunnel", t->tunnel_id);
		cli_json_string(&t->out, "signal", cli_signal_name(sig));
		cli_json_object_end(&t->out);
		return cli_json_write(&t->out, stdout);
	}
	return cli_say("%s: closing the tunnel", cli_signal_name(sig));
}

void report_error(struct tunnel_cli *t, const char *context, int rc)
{
	cli_report_error(&t->out, t->json, stdout, context, rc);
}

struct tunnel_forward *tunnel_find_forward(struct tunnel_cli *t, uint64_t id)
{
	if (!id)
		return NULL;
	for (size_t i = 0; i < t->n_forwards; i++) {
		if (t->forwards[i].id == id)
			return &t->forwards[i];
	}
	return NULL;
}
