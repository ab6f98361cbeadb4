/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit expose` prints. Human mode: timestamped status lines on stdout.
 * --json mode: one JSON object per line on stdout (schema in docs/cli.md).
 * Errors and library log lines always go to stderr, so stdout stays parseable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_report.h"
#include "cmd_expose.h"

static const char *local_of(const struct expose_cli *t, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, t->local.address, t->local.port);
}

static const char *advertised_of(const struct expose_cli *t, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, t->advertised, t->advertised_port);
}

/* --- reading devkit_registration_describe() ---------------------------------- */

void expose_read_description(struct expose_cli *t)
{
	devkit_buf buf = DEVKIT_BUF_INIT;
	char port[16];

	if (devkit_registration_describe(t->reg, &buf) != 0 || !buf.ptr)
		return; /* the entry's own events say the rest */
	cli_json_field(buf.ptr, "instance_id", t->instance_id, sizeof(t->instance_id));
	cli_json_field(buf.ptr, "address", t->advertised, sizeof(t->advertised));
	if (cli_json_field(buf.ptr, "port", port, sizeof(port)) == 0)
		t->advertised_port = atoi(port);
	devkit_buf_dispose(&buf);
}

/* --- start and ready ------------------------------------------------------------ */

int expose_report_started(struct expose_cli *t)
{
	char remote[CLI_HOST_MAX + 16], local[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];
	char instance[300] = "";
	int rc;

	/* A script waits for "ready"; the events before it say why it is late. */
	if (t->json)
		return 0;
	if (t->instance_id[0])
		snprintf(instance, sizeof(instance), " (instance %s)", t->instance_id);
	rc = cli_say_tunnel_up(t->conn.bastion, t->tunnel);
	if (rc == 0)
		rc = cli_say("remote %s on the bastion -> %s on this machine",
			cli_format_hostport(remote, sizeof(remote), t->remote_address, t->remote_bound_port),
			local_of(t, local, sizeof(local)));
	if (rc == 0)
		rc = cli_say("registering %s at %s in %s%s%s", t->service,
			advertised_of(t, adv, sizeof(adv)), t->registry,
			t->registry_direct ? "" : " through the tunnel", instance);
	return rc;
}

static void json_ready(struct expose_cli *t)
{
	cli_json *j = &t->out;
	char local[CLI_HOST_MAX + 16];

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", "ready");
	cli_json_string(j, "bastion", t->conn.bastion);
	cli_json_uint(j, "tunnel", t->tunnel_id);
	cli_json_session(j, t->tunnel);
	cli_json_uint(j, "registration", t->reg_id);
	cli_json_string(j, "state", "registered");
	cli_json_string(j, "registry", t->registry);
	cli_json_string(j, "service", t->service);
	cli_json_string(j, "instance_id", t->instance_id);
	cli_json_string(j, "protocol", t->protocol ? t->protocol : "http");
	cli_json_string(j, "local", local_of(t, local, sizeof(local)));
	/* What callers find in the registry... */
	cli_json_string(j, "address", t->advertised);
	cli_json_int(j, "port", t->advertised_port);
	/* ...and where the bastion listens for them. */
	cli_json_object_begin(j, "remote");
	cli_json_uint(j, "forward", t->forward_id);
	cli_json_string(j, "address", t->remote_address);
	cli_json_int(j, "port", t->remote_bound_port);
	cli_json_object_end(j);
	cli_json_bool(j, "registry_via_tunnel", !t->registry_direct);
	cli_json_object_end(j);
}

int expose_report_ready(struct expose_cli *t)
{
	char local[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];

	if (t->json) {
		json_ready(t);
		return cli_json_write(&t->out, stdout);
	}
	if (cli_say("exposed %s as %s at %s in %s: registered", local_of(t, local, sizeof(local)),
		t->service, advertised_of(t, adv, sizeof(adv)), t->registry) != 0)
		return -1;
	return cli_say("ready; Ctrl-C to deregister and close");
}

/* --- events ---------------------------------------------------------------------- */

static int event_json(struct expose_cli *t, const devkit_event *ev)
{
	cli_json *j = &t->out;

	cli_json_object_begin(j, NULL);
	cli_json_string(j, "event", cli_or_unknown(devkit_event_type_name(ev->type)));
	cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->type == DEVKIT_EVENT_REGISTRATION_STATE) {
		/* cli_json_event_fields names tunnel states only. */
		cli_json_uint(j, "registration", ev->object_id);
		cli_json_string(j, "state", devkit_registration_state_name(ev->state));
	}
	if (ev->forward_id) {
		cli_json_uint(j, "forward", ev->forward_id);
		/* The tunnel carries only expose's forwards: the remote one, and local
		 * ones to the registry's hosts. */
		cli_json_string(j, "kind", ev->forward_id == t->forward_id ? "remote" : "local");
	}
	cli_json_event_fields(j, ev);
	cli_json_object_end(j);
	return cli_json_write(j, stdout);
}

static int registration_text(struct expose_cli *t, const devkit_event *ev, const char *why)
{
	const char *state = devkit_registration_state_name(ev->state);

	switch (ev->state) {
	case DEVKIT_REGISTRATION_RETRYING:
		/* The first failure of a run says what happens next, and where the
		 * registry is reached from: through the bastion, a registry that is
		 * down shows only as "Empty reply from server". */
		if (t->failures_in_a_row == 1)
			return cli_say("registration retrying%s; %s, retrying until it answers", why,
				t->registry_direct ? "the registry is reached from this machine"
					: "the registry is reached through the bastion");
		return cli_say("registration retrying%s", why);
	case DEVKIT_REGISTRATION_REGISTERED:
		return cli_say("registered%s", why);
	case DEVKIT_REGISTRATION_DEREGISTERED:
		/* With an error, the entry stays until its TTL runs out. */
		return cli_say("%s%s", ev->error ? "not deregistered" : "deregistered", why);
	default:
		return cli_say("registration %s%s", state, why);
	}
}

static int forward_text(struct expose_cli *t, const devkit_event *ev, const char *why)
{
	char where[CLI_HOST_MAX + 16], local[CLI_HOST_MAX + 16];
	int ours = ev->forward_id == t->forward_id;

	if (ev->type == DEVKIT_EVENT_FORWARD_READY) {
		cli_format_hostport(where, sizeof(where), ev->address, ev->port);
		if (ours)
			return cli_say("remote %s on the bastion -> %s on this machine (ready)", where,
				local_of(t, local, sizeof(local)));
		return cli_say("registry forward #%llu ready on %s", (unsigned long long)ev->forward_id,
			where);
	}
	if (ours)
		return cli_say("remote forward on the bastion failed%s", why);
	return cli_say("registry forward #%llu failed%s", (unsigned long long)ev->forward_id, why);
}

static int event_text(struct expose_cli *t, const devkit_event *ev)
{
	char why[512];

	cli_event_why(ev, why, sizeof(why));
	switch (ev->type) {
	case DEVKIT_EVENT_REGISTRATION_STATE:
		return registration_text(t, ev, why);
	case DEVKIT_EVENT_FORWARD_READY:
	case DEVKIT_EVENT_FORWARD_FAILED:
		return forward_text(t, ev, why);
	default:
		/* Tunnel states and the rest: worded as `devkit tunnel` words them. */
		return cli_say_event(ev, why);
	}
}

int expose_report_event(struct expose_cli *t, const devkit_event *ev)
{
	return t->json ? event_json(t, ev) : event_text(t, ev);
}

int expose_report_closing(struct expose_cli *t, int sig)
{
	if (t->json) {
		cli_json_object_begin(&t->out, NULL);
		cli_json_string(&t->out, "event", "closing");
		cli_json_uint(&t->out, "tunnel", t->tunnel_id);
		cli_json_uint(&t->out, "registration", t->reg_id);
		cli_json_string(&t->out, "signal", cli_signal_name(sig));
		cli_json_object_end(&t->out);
		return cli_json_write(&t->out, stdout);
	}
	return cli_say("%s: deregistering %s and closing the tunnel", cli_signal_name(sig), t->service);
}

void expose_report_error(struct expose_cli *t, const char *context, int rc)
{
	cli_report_error(&t->out, t->json, stdout, context, rc);
}
