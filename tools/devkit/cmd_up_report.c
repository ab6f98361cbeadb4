/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What `devkit up` prints while it brings things up, runs and tears down.
 * Human mode: timestamped lines on stdout, worded as `devkit tunnel` and
 * `devkit expose` word the same things (cli_report.c). --json: one object
 * per line on stdout (docs/cli.md). Errors and log lines go to stderr.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli_cluster.h"
#include "cli_report.h"
#include "cmd_up.h"

static int write_json(struct up_cli *u)
{
	cli_json_object_end(&u->out);
	return cli_json_write(&u->out, stdout);
}

static void begin(struct up_cli *u, const char *event)
{
	cli_json_object_begin(&u->out, NULL);
	cli_json_string(&u->out, "event", event);
}

int up_report_starting(struct up_cli *u)
{
	char summary[512];

	up_config_summary(u->cfg, summary, sizeof(summary));
	if (u->json) {
		begin(u, "starting");
		cli_json_string(&u->out, "config", u->config_path);
		if (u->profile)
			cli_json_string(&u->out, "profile", u->profile);
		cli_json_string(&u->out, "summary", summary);
		cli_json_string(&u->out, "status_socket", u->sock_path);
		cli_json_int(&u->out, "pid", (long long)getpid());
		return write_json(u);
	}
	if (cli_say("config %s%s%s: %s", u->config_path, u->profile ? ", profile " : "",
		u->profile ? u->profile : "", summary) != 0)
		return -1;
	return cli_say("status socket %s: devkit status -f %s (or --control %s)", u->sock_path,
		u->file, u->sock_path);
}

int up_report_tunnel(struct up_cli *u)
{
	if (u->json) {
		begin(u, "tunnel");
		cli_json_uint(&u->out, "tunnel", u->tunnel_id);
		cli_json_string(&u->out, "bastion", u->tunnel_opts->bastion);
		cli_json_string(&u->out, "state", "up");
		cli_json_session(&u->out, u->tunnel);
		return write_json(u);
	}
	return cli_say_tunnel_up(u->tunnel_opts->bastion, u->tunnel);
}

int up_report_forward(struct up_cli *u, const struct up_forward *f, size_t index)
{
	char line[CLI_HOST_MAX * 3];
	const devkit_forward_options *o = f->opts;

	if (u->json) {
		begin(u, "forward");
		cli_json_int(&u->out, "index", (long long)index);
		cli_json_uint(&u->out, "tunnel", u->tunnel_id);
		cli_json_uint(&u->out, "forward", f->id);
		cli_json_string(&u->out, "kind", cli_forward_kind_name(o->kind));
		cli_json_string(&u->out, "address", f->address);
		cli_json_int(&u->out, "port", f->port);
		if (o->kind != DEVKIT_FORWARD_DYNAMIC)
			cli_json_string(&u->out, "target", cli_format_hostport(line, sizeof(line),
				o->target_host, o->target_port));
		return write_json(u);
	}
	return cli_say("%s", cli_describe_forward(line, sizeof(line), o->kind, f->address, f->port,
		o->target_host, o->target_port));
}

const char *up_run_hint(struct up_cli *u, char *buf, size_t size)
{
	const devkit_dns_options *d = u->dns ? devkit_config_dns(u->cfg) : NULL;
	size_t len;

	snprintf(buf, size, "devkit run --control %s", devkit_router_control_path(u->router));
	if (d && d->cluster_domains && strcmp(d->cluster_domains, CLI_DEFAULT_DOMAIN) != 0) {
		const char *p = d->cluster_domains;

		while (*p) {
			size_t n = strcspn(p, ",");

			len = strlen(buf);
			if (n && len < size)
				snprintf(buf + len, size - len, " --cluster-domain %.*s", (int)n, p);
			p += n + (p[n] == ',');
		}
	}
	len = strlen(buf);
	if (d && d->search && strcmp(d->search, CLI_DEFAULT_SEARCH) != 0 && len < size)
		snprintf(buf + len, size - len, " --search %s", d->search);
	len = strlen(buf);
	if (len < size)
		snprintf(buf + len, size - len, " -- CMD");
	return buf;
}

int up_report_routing(struct up_cli *u)
{
	const devkit_dns_options *d = devkit_config_dns(u->cfg);
	char where[CLI_HOST_MAX + 16], hint[2048];

	if (u->json) {
		begin(u, "routing");
		if (u->router) {
			cli_json_string(&u->out, "control", devkit_router_control_path(u->router));
			cli_json_string(&u->out, "run", up_run_hint(u, hint, sizeof(hint)));
		}
		if (u->dns)
			up_json_dns(u, &u->out);
		return write_json(u);
	}
	if (u->dns && cli_say("dns    %s: names under %s resolve through the cluster DNS %s",
		cli_format_hostport(where, sizeof(where), devkit_dns_address(u->dns),
			devkit_dns_port(u->dns)),
		d->cluster_domains ? d->cluster_domains : "cluster.local", d->cluster_dns) != 0)
		return -1;
	if (u->router)
		return cli_say("control %s: %s routes CMD through this tunnel",
			devkit_router_control_path(u->router), up_run_hint(u, hint, sizeof(hint)));
	return 0;
}

int up_report_expose(struct up_cli *u, const struct up_expose *e, size_t index)
{
	char local[CLI_HOST_MAX + 16], remote[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];

	cli_format_hostport(local, sizeof(local), e->eo->local_host, e->eo->local_port);
	cli_format_hostport(remote, sizeof(remote), e->remote_address, e->remote_port);
	cli_format_hostport(adv, sizeof(adv), e->advertised, e->advertised_port);
	if (u->json) {
		begin(u, "expose");
		cli_json_int(&u->out, "index", (long long)index);
		cli_json_uint(&u->out, "tunnel", u->tunnel_id);
		cli_json_uint(&u->out, "registration", e->reg_id);
		cli_json_string(&u->out, "service", e->ro->service);
		cli_json_string(&u->out, "registry", e->ro->registry);
		cli_json_string(&u->out, "local", local);
		cli_json_string(&u->out, "address", e->advertised);
		cli_json_int(&u->out, "port", e->advertised_port);
		cli_json_string(&u->out, "instance_id", e->instance_id);
		cli_json_object_begin(&u->out, "remote");
		cli_json_uint(&u->out, "forward", e->forward_id);
		cli_json_string(&u->out, "address", e->remote_address);
		cli_json_int(&u->out, "port", e->remote_port);
		cli_json_object_end(&u->out);
		cli_json_bool(&u->out, "registry_via_tunnel", e->eo->registry_via_tunnel);
		return write_json(u);
	}
	if (cli_say("expose %s: remote %s on the bastion -> %s on this machine", e->ro->service,
		remote, local) != 0)
		return -1;
	return cli_say("expose %s: registering at %s in %s%s", e->ro->service, adv, e->ro->registry,
		e->eo->registry_via_tunnel ? " through the tunnel" : "");
}

int up_report_kubernetes(struct up_cli *u)
{
	const char *ctx = devkit_k8s_context_name(u->k8s);

	if (u->json) {
		begin(u, "kubernetes");
		cli_json_string(&u->out, "server", devkit_k8s_server(u->k8s));
		cli_json_string(&u->out, "context", ctx);
		cli_json_string(&u->out, "namespace", devkit_k8s_namespace(u->k8s));
		return write_json(u);
	}
	return cli_say("kubernetes %s (context %s, namespace %s)", devkit_k8s_server(u->k8s),
		ctx && *ctx ? ctx : "in-cluster", devkit_k8s_namespace(u->k8s));
}

int up_report_replica(struct up_cli *u, const struct up_replica *r, const char *what)
{
	if (u->json) {
		begin(u, "replica");
		if (r->replica) {
			cli_json_uint(&u->out, "replica", r->id);
			cli_json_string(&u->out, "name", r->name);
			cli_json_string(&u->out, "namespace", r->ns);
		}
		cli_json_string(&u->out, "source", r->source);
		cli_json_string(&u->out, "stage", what);
		return write_json(u);
	}
	if (r->replica)
		return cli_say("replica %s: %s %s/%s", r->source, what, r->ns, r->name);
	return cli_say("replica %s: %s", r->source, what);
}

/* --- library events ------------------------------------------------------------------ */

static const char *forward_kind_of(struct up_cli *u, uint64_t id)
{
	struct up_forward *f = up_find_forward(u, id);

	if (f)
		return cli_forward_kind_name(f->opts->kind);
	for (size_t i = 0; i < u->n_exposes; i++) {
		if (u->exposes[i].forward_id == id)
			return "remote";
	}
	return NULL; /* the DNS's or a registry's own forward */
}

static int event_json(struct up_cli *u, const devkit_event *ev)
{
	cli_json *j = &u->out;
	const char *kind;

	begin(u, cli_or_unknown(devkit_event_type_name(ev->type)));
	if (ev->tunnel_id)
		cli_json_uint(j, "tunnel", ev->tunnel_id);
	if (ev->type == DEVKIT_EVENT_REPLICA_STAGE) {
		struct up_replica *r = up_find_replica(u, ev->object_id);

		cli_json_uint(j, "replica", ev->object_id);
		cli_json_string(j, "name", ev->address);
		if (r)
			cli_json_string(j, "namespace", r->ns);
		cli_json_string(j, "stage", cli_or_unknown(devkit_replica_stage_name(ev->state)));
		if (ev->error) {
			cli_json_int(j, "error_code", ev->error);
			cli_json_string(j, "error", devkit_strerror(ev->error));
		}
		if (ev->message[0])
			cli_json_string(j, "message", ev->message);
		return write_json(u);
	}
	if (ev->type == DEVKIT_EVENT_REGISTRATION_STATE) {
		struct up_expose *e = up_find_expose(u, ev->object_id);

		/* cli_json_event_fields names tunnel states only. */
		cli_json_uint(j, "registration", ev->object_id);
		if (e)
			cli_json_string(j, "service", e->ro->service);
		cli_json_string(j, "state", cli_or_unknown(devkit_registration_state_name(ev->state)));
	}
	if (ev->forward_id) {
		cli_json_uint(j, "forward", ev->forward_id);
		if ((kind = forward_kind_of(u, ev->forward_id)) != NULL)
			cli_json_string(j, "kind", kind);
	}
	cli_json_event_fields(j, ev);
	return write_json(u);
}

static int registration_text(struct up_cli *u, const devkit_event *ev, const char *why)
{
	struct up_expose *e = up_find_expose(u, ev->object_id);
	const char *service = e ? e->ro->service : "?";
	char adv[CLI_HOST_MAX + 16];

	switch (ev->state) {
	case DEVKIT_REGISTRATION_RETRYING:
		/* Through the bastion, a registry that is down shows only as "Empty
		 * reply from server": the first failure says where it is reached from. */
		if (e && e->failures_in_a_row == 1)
			return cli_say("expose %s: registration retrying%s; the registry is reached %s, "
				"retrying until it answers", service, why, e->eo->registry_via_tunnel
					? "through the bastion" : "from this machine");
		return cli_say("expose %s: registration retrying%s", service, why);
	case DEVKIT_REGISTRATION_REGISTERED:
		return cli_say("expose %s: registered as %s in %s", service,
			cli_format_hostport(adv, sizeof(adv), ev->address, ev->port),
			e ? e->ro->registry : "the registry");
	case DEVKIT_REGISTRATION_DEREGISTERED:
		/* With an error, the entry stays until its TTL runs out. */
		return cli_say("expose %s: %s%s", service, ev->error ? "not deregistered" : "deregistered",
			why);
	default:
		return cli_say("expose %s: registration %s%s", service,
			cli_or_unknown(devkit_registration_state_name(ev->state)), why);
	}
}

static int replica_text(struct up_cli *u, const devkit_event *ev, const char *why)
{
	struct up_replica *r = up_find_replica(u, ev->object_id);
	const char *stage = cli_or_unknown(devkit_replica_stage_name(ev->state));

	/* The library's message for a plain stage only repeats it ("Pod ns/x: ready"). */
	if (ev->state != DEVKIT_REPLICA_FAILED && !ev->error)
		why = "";
	return cli_say("replica %s/%s: %s%s", r ? r->ns : "?", ev->address, stage, why);
}

static int forward_text(struct up_cli *u, const devkit_event *ev, const char *why)
{
	struct up_forward *f = up_find_forward(u, ev->forward_id);
	char line[CLI_HOST_MAX * 3];

	if (ev->type == DEVKIT_EVENT_FORWARD_READY) {
		if (f)
			return cli_say("%s (ready)", cli_describe_forward(line, sizeof(line),
				f->opts->kind, f->address, f->port, f->opts->target_host,
				f->opts->target_port));
		return cli_say("forward #%llu ready on %s%s", (unsigned long long)ev->forward_id,
			cli_format_hostport(line, sizeof(line), ev->address, ev->port), why);
	}
	return cli_say("forward #%llu failed%s", (unsigned long long)ev->forward_id, why);
}

int up_report_event(struct up_cli *u, const devkit_event *ev)
{
	char why[512];

	if (u->json)
		return event_json(u, ev);
	cli_event_why(ev, why, sizeof(why));
	switch (ev->type) {
	case DEVKIT_EVENT_REGISTRATION_STATE:
		return registration_text(u, ev, why);
	case DEVKIT_EVENT_REPLICA_STAGE:
		return replica_text(u, ev, why);
	case DEVKIT_EVENT_FORWARD_READY:
	case DEVKIT_EVENT_FORWARD_FAILED:
		return forward_text(u, ev, why);
	default:
		/* Tunnel states and the rest: worded as `devkit tunnel` words them. */
		return cli_say_event(ev, why);
	}
}

/* --- teardown ------------------------------------------------------------------------- */

int up_report_closing(struct up_cli *u, int sig, const char *why)
{
	if (u->json) {
		begin(u, "closing");
		if (sig)
			cli_json_string(&u->out, "signal", cli_signal_name(sig));
		else
			cli_json_string(&u->out, "reason", why);
		return write_json(u);
	}
	if (sig)
		return cli_say("%s: tearing down", cli_signal_name(sig));
	return cli_say("tearing down: %s", why);
}

int up_report_stopped(struct up_cli *u, const char *what, const char *name, int rc,
	const char *why)
{
	if (u->json) {
		begin(u, "stopped");
		cli_json_string(&u->out, "what", what);
		if (name)
			cli_json_string(&u->out, "name", name);
		cli_json_bool(&u->out, "ok", rc == 0);
		if (rc) {
			cli_json_int(&u->out, "error_code", rc);
			cli_json_string(&u->out, "error", devkit_strerror(rc));
			cli_json_string(&u->out, "message", why);
		}
		return write_json(u);
	}
	if (rc)
		return cli_say("%s %s: NOT removed: %s", what, name ? name : "", why);
	return cli_say("%s%s%s: %s", what, name ? " " : "", name ? name : "", why);
}

int up_report_down(struct up_cli *u, int status, int left_behind)
{
	if (u->json) {
		begin(u, "down");
		cli_json_int(&u->out, "exit", status);
		cli_json_int(&u->out, "left_behind", left_behind);
		return write_json(u);
	}
	if (left_behind)
		return cli_say("down; %d could not be removed (see above)", left_behind);
	return cli_say("down; everything brought up is torn down");
}

void up_report_error(struct up_cli *u, const char *context, int rc)
{
	cli_report_error(&u->out, u->json, stdout, context, rc);
}

void up_report_failure(struct up_cli *u, const char *fmt, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	cli_errorf("%s", message);
	if (!u->json)
		return;
	begin(u, "error");
	cli_json_int(&u->out, "error_code", DEVKIT_ERROR);
	cli_json_string(&u->out, "error", devkit_strerror(DEVKIT_ERROR));
	cli_json_string(&u->out, "message", message);
	(void)write_json(u);
}

/* --- lookups -------------------------------------------------------------------------- */

struct up_expose *up_find_expose(struct up_cli *u, uint64_t reg_id)
{
	for (size_t i = 0; reg_id && i < u->n_exposes; i++) {
		if (u->exposes[i].reg_id == reg_id)
			return &u->exposes[i];
	}
	return NULL;
}

struct up_replica *up_find_replica(struct up_cli *u, uint64_t id)
{
	for (size_t i = 0; id && i < u->n_replicas; i++) {
		if (u->replicas[i].id == id)
			return &u->replicas[i];
	}
	return NULL;
}

struct up_forward *up_find_forward(struct up_cli *u, uint64_t id)
{
	for (size_t i = 0; id && i < u->n_forwards; i++) {
		if (u->forwards[i].id == id)
			return &u->forwards[i];
	}
	return NULL;
}
