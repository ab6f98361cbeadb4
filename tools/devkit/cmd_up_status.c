/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status of `devkit up`: tunnel state, forwards with their ports and
 * byte counters, the DNS and router, registrations with their states,
 * replicas with their stages. One source, two forms: JSON (the "ready" and
 * "status" events, `devkit status --json`) and text (the live display,
 * `devkit status`), so the two cannot tell different stories.
 *
 * Everything is read from the library when asked (states, counters), not
 * remembered from events: an event that was dropped from a full queue
 * cannot leave the status stale.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_report.h"
#include "cmd_up.h"

/* Counters alone are shown again at most this often: under steady traffic
 * they change all the time, and a status every few seconds is enough. */
#define COUNTERS_EVERY_MS 5000

static const char *phase_name(enum up_phase p)
{
	switch (p) {
	case UP_STARTING: return "starting";
	case UP_READY: return "ready";
	case UP_STOPPING: return "stopping";
	default: return "unknown";
	}
}

static const char *target_of(const struct up_forward *f, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, f->opts->target_host, f->opts->target_port);
}

static const char *local_of(const struct up_expose *e, char *buf, size_t size)
{
	return cli_format_hostport(buf, size, e->eo->local_host, e->eo->local_port);
}

static int reg_state(const struct up_expose *e)
{
	return devkit_registration_get_state(e->reg);
}

static const char *reg_state_name(const struct up_expose *e)
{
	return cli_or_unknown(devkit_registration_state_name(reg_state(e)));
}

static const char *stage_name(const struct up_replica *r)
{
	return cli_or_unknown(devkit_replica_stage_name(devkit_replica_get_stage(r->replica)));
}

/* --- JSON ------------------------------------------------------------------------ */

static void json_stats(cli_json *j, const devkit_forward_stats *s)
{
	cli_json_uint(j, "bytes_in", s->bytes_in);
	cli_json_uint(j, "bytes_out", s->bytes_out);
	cli_json_uint(j, "channels_open", s->channels_open);
	cli_json_uint(j, "channels_total", s->channels_total);
	cli_json_uint(j, "failures", s->failures);
}

static void json_tunnel(struct up_cli *u, cli_json *j)
{
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;

	cli_json_object_begin(j, "tunnel");
	cli_json_uint(j, "id", u->tunnel_id);
	cli_json_string(j, "bastion", u->tunnel_opts->bastion);
	if (devkit_tunnel_get_stats(u->tunnel, &ts) == 0) {
		cli_json_string(j, "state", cli_or_unknown(devkit_tunnel_state_name(ts.state)));
		cli_json_uint(j, "reconnects", ts.reconnects);
		cli_json_uint(j, "bytes_in", ts.bytes_in);
		cli_json_uint(j, "bytes_out", ts.bytes_out);
		cli_json_uint(j, "channels_open", ts.channels_open);
		cli_json_uint(j, "channels_total", ts.channels_total);
		cli_json_uint(j, "failures", ts.failures);
	}
	cli_json_session(j, u->tunnel);
	cli_json_object_end(j);
}

static void json_forwards(struct up_cli *u, cli_json *j)
{
	char target[CLI_HOST_MAX + 16];

	cli_json_array_begin(j, "forwards");
	for (size_t i = 0; i < u->n_forwards; i++) {
		struct up_forward *f = &u->forwards[i];
		devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;

		if (!f->forward)
			continue;
		cli_json_object_begin(j, NULL);
		cli_json_uint(j, "id", f->id);
		cli_json_string(j, "kind", cli_forward_kind_name(f->opts->kind));
		cli_json_string(j, "address", f->address);
		cli_json_int(j, "port", f->port);
		if (f->opts->kind != DEVKIT_FORWARD_DYNAMIC)
			cli_json_string(j, "target", target_of(f, target, sizeof(target)));
		if (devkit_forward_get_stats(f->forward, &fs) == 0)
			json_stats(j, &fs);
		cli_json_object_end(j);
	}
	cli_json_array_end(j);
}

void up_json_dns(struct up_cli *u, cli_json *j)
{
	const devkit_dns_options *d = devkit_config_dns(u->cfg);

	cli_json_object_begin(j, "dns");
	cli_json_string(j, "address", devkit_dns_address(u->dns));
	cli_json_int(j, "port", devkit_dns_port(u->dns));
	cli_json_string(j, "cluster_dns", d->cluster_dns);
	/* The library's defaults when the file leaves them out. */
	cli_json_string(j, "domains", d->cluster_domains ? d->cluster_domains : "cluster.local");
	if (d->search)
		cli_json_string(j, "search", d->search);
	cli_json_int(j, "ndots", d->ndots);
	cli_json_object_end(j);
}

static void json_exposes(struct up_cli *u, cli_json *j)
{
	char local[CLI_HOST_MAX + 16];

	cli_json_array_begin(j, "exposes");
	for (size_t i = 0; i < u->n_exposes; i++) {
		struct up_expose *e = &u->exposes[i];
		int state;

		if (!e->expose)
			continue;
		state = reg_state(e);
		cli_json_object_begin(j, NULL);
		cli_json_uint(j, "registration", e->reg_id);
		cli_json_string(j, "service", e->ro->service);
		cli_json_string(j, "registry", e->ro->registry);
		cli_json_string(j, "state", reg_state_name(e));
		cli_json_string(j, "local", local_of(e, local, sizeof(local)));
		cli_json_string(j, "address", e->advertised);
		cli_json_int(j, "port", e->advertised_port);
		cli_json_string(j, "instance_id", e->instance_id);
		cli_json_object_begin(j, "remote");
		cli_json_uint(j, "forward", e->forward_id);
		cli_json_string(j, "address", e->remote_address);
		cli_json_int(j, "port", e->remote_port);
		cli_json_object_end(j);
		cli_json_bool(j, "registry_via_tunnel", e->eo->registry_via_tunnel);
		if (state != DEVKIT_REGISTRATION_REGISTERED && e->last_error[0])
			cli_json_string(j, "message", e->last_error);
		cli_json_object_end(j);
	}
	cli_json_array_end(j);
}

static void json_replicas(struct up_cli *u, cli_json *j)
{
	cli_json_object_begin(j, "kubernetes");
	cli_json_string(j, "server", devkit_k8s_server(u->k8s));
	cli_json_string(j, "context", devkit_k8s_context_name(u->k8s));
	cli_json_string(j, "namespace", devkit_k8s_namespace(u->k8s));
	cli_json_object_end(j);
	cli_json_array_begin(j, "replicas");
	for (size_t i = 0; i < u->n_replicas; i++) {
		struct up_replica *r = &u->replicas[i];

		if (!r->replica)
			continue;
		cli_json_object_begin(j, NULL);
		cli_json_uint(j, "replica", r->id);
		cli_json_string(j, "name", r->name);
		cli_json_string(j, "namespace", r->ns);
		cli_json_string(j, "source", r->source);
		cli_json_string(j, "stage", stage_name(r));
		if (r->last_error[0])
			cli_json_string(j, "message", r->last_error);
		cli_json_object_end(j);
	}
	cli_json_array_end(j);
}

void up_status_json(struct up_cli *u, cli_json *j)
{
	cli_json_string(j, "state", phase_name(u->phase));
	cli_json_int(j, "since", (long long)u->since);
	cli_json_int(j, "pid", (long long)getpid());
	cli_json_string(j, "config", u->config_path);
	if (u->profile)
		cli_json_string(j, "profile", u->profile);
	cli_json_string(j, "status_socket", u->sock_path);
	if (u->tunnel)
		json_tunnel(u, j);
	json_forwards(u, j);
	if (u->dns)
		up_json_dns(u, j);
	if (u->router)
		cli_json_string(j, "control", devkit_router_control_path(u->router));
	json_exposes(u, j);
	if (u->k8s)
		json_replicas(u, j);
}

/* --- text ------------------------------------------------------------------------- */

static void text_counters(FILE *f, uint64_t in, uint64_t out, const devkit_forward_stats *s)
{
	char bin[32], bout[32];

	fprintf(f, "in %s, out %s", cli_human_bytes(in, bin, sizeof(bin)),
		cli_human_bytes(out, bout, sizeof(bout)));
	if (s)
		fprintf(f, "; %llu open, %llu total, %llu failed", (unsigned long long)s->channels_open,
			(unsigned long long)s->channels_total, (unsigned long long)s->failures);
}

static void text_tunnel(struct up_cli *u, FILE *f)
{
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;

	fprintf(f, "  tunnel   %s: ", u->tunnel_opts->bastion);
	if (devkit_tunnel_get_stats(u->tunnel, &ts) != 0) {
		fputs("unknown\n", f);
		return;
	}
	fprintf(f, "%s, %llu reconnects; ", cli_or_unknown(devkit_tunnel_state_name(ts.state)),
		(unsigned long long)ts.reconnects);
	text_counters(f, ts.bytes_in, ts.bytes_out, NULL);
	fputc('\n', f);
}

static void text_forwards(struct up_cli *u, FILE *f)
{
	char where[CLI_HOST_MAX + 16], target[CLI_HOST_MAX + 16];

	for (size_t i = 0; i < u->n_forwards; i++) {
		struct up_forward *fw = &u->forwards[i];
		devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;

		if (!fw->forward)
			continue;
		cli_format_hostport(where, sizeof(where), fw->address, fw->port);
		fprintf(f, "  %-8s %s", cli_forward_kind_name(fw->opts->kind), where);
		if (fw->opts->kind == DEVKIT_FORWARD_LOCAL)
			fprintf(f, " -> %s", target_of(fw, target, sizeof(target)));
		else if (fw->opts->kind == DEVKIT_FORWARD_REMOTE)
			fprintf(f, " on the bastion -> %s", target_of(fw, target, sizeof(target)));
		fputs(": ", f);
		if (devkit_forward_get_stats(fw->forward, &fs) == 0)
			text_counters(f, fs.bytes_in, fs.bytes_out, &fs);
		fputc('\n', f);
	}
}

static void text_routing(struct up_cli *u, FILE *f)
{
	if (u->dns) {
		const devkit_dns_options *d = devkit_config_dns(u->cfg);
		char where[CLI_HOST_MAX + 16];

		fprintf(f, "  dns      %s: %s through the cluster DNS %s\n",
			cli_format_hostport(where, sizeof(where), devkit_dns_address(u->dns),
				devkit_dns_port(u->dns)),
			d->cluster_domains ? d->cluster_domains : "cluster.local", d->cluster_dns);
	}
	if (u->router) {
		char hint[2048];

		fprintf(f, "  control  %s: %s\n", devkit_router_control_path(u->router),
			up_run_hint(u, hint, sizeof(hint)));
	}
}

static void text_exposes(struct up_cli *u, FILE *f)
{
	char local[CLI_HOST_MAX + 16], remote[CLI_HOST_MAX + 16], adv[CLI_HOST_MAX + 16];

	for (size_t i = 0; i < u->n_exposes; i++) {
		struct up_expose *e = &u->exposes[i];
		int state;

		if (!e->expose)
			continue;
		state = reg_state(e);
		fprintf(f, "  expose   %s %s <- %s on the bastion; %s as %s: %s", e->ro->service,
			local_of(e, local, sizeof(local)),
			cli_format_hostport(remote, sizeof(remote), e->remote_address, e->remote_port),
			e->ro->registry,
			cli_format_hostport(adv, sizeof(adv), e->advertised, e->advertised_port),
			reg_state_name(e));
		if (state != DEVKIT_REGISTRATION_REGISTERED && e->last_error[0])
			fprintf(f, " (%s)", e->last_error);
		fputc('\n', f);
	}
}

static void text_replicas(struct up_cli *u, FILE *f)
{
	const char *ctx = devkit_k8s_context_name(u->k8s);

	fprintf(f, "  k8s      %s%s%s%s\n", devkit_k8s_server(u->k8s), ctx && *ctx ? " (context " : "",
		ctx && *ctx ? ctx : "", ctx && *ctx ? ")" : "");
	for (size_t i = 0; i < u->n_replicas; i++) {
		struct up_replica *r = &u->replicas[i];

		if (!r->replica)
			continue;
		fprintf(f, "  replica  %s/%s (%s): %s", r->ns, r->name, r->source, stage_name(r));
		if (devkit_replica_get_stage(r->replica) == DEVKIT_REPLICA_FAILED && r->last_error[0])
			fprintf(f, " (%s)", r->last_error);
		fputc('\n', f);
	}
}

static char *render_text(struct up_cli *u, int header)
{
	char *text = NULL, since[16] = "";
	size_t len = 0;
	struct tm tm;
	FILE *f = open_memstream(&text, &len);

	if (!f)
		return NULL;
	if (localtime_r(&u->since, &tm))
		strftime(since, sizeof(since), "%H:%M:%S", &tm);
	if (header)
		fprintf(f, "devkit up (pid %ld) for %s%s%s: %s since %s\n", (long)getpid(),
			u->config_path, u->profile ? ", profile " : "", u->profile ? u->profile : "",
			phase_name(u->phase), since);
	if (u->tunnel)
		text_tunnel(u, f);
	text_forwards(u, f);
	text_routing(u, f);
	text_exposes(u, f);
	if (u->k8s)
		text_replicas(u, f);
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

char *up_status_text(struct up_cli *u)
{
	return render_text(u, 1);
}

/* --- changes ----------------------------------------------------------------------- */

/* What a person watches for: the states and the ports, not the counters. */
static void signature(struct up_cli *u, char *sig, size_t size, uint64_t *counters)
{
	size_t len = 0;
	int n;

#define SIG(...) do { \
		n = snprintf(sig + len, size > len ? size - len : 0, __VA_ARGS__); \
		if (n > 0) \
			len += (size_t)n; \
	} while (0)

	*counters = 0;
	SIG("%d;", (int)u->phase);
	if (u->tunnel)
		SIG("t%d;", devkit_tunnel_get_state(u->tunnel));
	for (size_t i = 0; i < u->n_forwards; i++) {
		devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;

		if (!u->forwards[i].forward)
			continue;
		SIG("f%d;", u->forwards[i].port);
		if (devkit_forward_get_stats(u->forwards[i].forward, &fs) == 0)
			*counters += fs.bytes_in + fs.bytes_out + fs.channels_total + fs.failures;
	}
	for (size_t i = 0; i < u->n_exposes; i++) {
		if (u->exposes[i].expose)
			SIG("e%d:%d;", reg_state(&u->exposes[i]), u->exposes[i].remote_port);
	}
	for (size_t i = 0; i < u->n_replicas; i++) {
		if (u->replicas[i].replica)
			SIG("r%d;", devkit_replica_get_stage(u->replicas[i].replica));
	}
#undef SIG
}

int up_status_changed(struct up_cli *u)
{
	char sig[sizeof(u->last_signature)];
	uint64_t counters;
	long long now = cli_now_ms();

	signature(u, sig, sizeof(sig), &counters);
	if (strcmp(sig, u->last_signature) != 0) {
		memcpy(u->last_signature, sig, sizeof(sig));
		u->last_counters = counters;
		u->counters_due_ms = now + COUNTERS_EVERY_MS;
		return 1;
	}
	if (counters != u->last_counters && now >= u->counters_due_ms) {
		u->last_counters = counters;
		u->counters_due_ms = now + COUNTERS_EVERY_MS;
		return 1;
	}
	return 0;
}

int up_status_show(struct up_cli *u, const char *event)
{
	char *text;
	int rc;

	if (u->json) {
		cli_json_object_begin(&u->out, NULL);
		cli_json_string(&u->out, "event", event);
		up_status_json(u, &u->out);
		cli_json_object_end(&u->out);
		return cli_json_write(&u->out, stdout);
	}
	text = render_text(u, 0);
	rc = cli_say("status: %s", phase_name(u->phase));
	if (rc == 0 && text && (fputs(text, stdout) < 0 || fflush(stdout) != 0))
		rc = -1;
	free(text);
	return rc;
}
