/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_config_describe(): the effective configuration as JSON, in the
 * file's own key names, so that the output is itself a valid devkit.yaml
 * (JSON is YAML) and loads back to the same options. Defaults are written
 * out; secrets are not: only the *_env names they were read from.
 */
#include "config_int.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

static void str(json_t *o, const char *key, const char *value)
{
	if (value)
		json_object_set_new(o, key, json_string(value));
}

static void boolean(json_t *o, const char *key, int value)
{
	json_object_set_new(o, key, json_boolean(value));
}

static void integer(json_t *o, const char *key, long long value)
{
	json_object_set_new(o, key, json_integer((json_int_t)value));
}

static void duration(json_t *o, const char *key, unsigned long long ms)
{
	char text[64];
	cfg_format_duration(ms, text, sizeof(text));
	json_object_set_new(o, key, json_string(text));
}

/* "host:port", with brackets around an IPv6 literal; a bare port when the
 * host is the default. */
static void hostport(json_t *o, const char *key, const char *host, int port)
{
	char text[300];
	if (!host) {
		integer(o, key, port);
		return;
	}
	snprintf(text, sizeof(text), strchr(host, ':') ? "[%s]:%d" : "%s:%d", host, port);
	str(o, key, text);
}

static json_t *tunnel(const cfg_tunnel *t)
{
	const devkit_tunnel_options *o = &t->o;
	json_t *j = json_object();
	str(j, "bastion", o->bastion);
	str(j, "user", o->user);
	str(j, "identity", o->identity_file);
	str(j, "passphrase_env", t->passphrase_env);
	str(j, "password_env", t->password_env);
	boolean(j, "agent", o->use_agent);
	str(j, "known_hosts", o->known_hosts_file);
	boolean(j, "accept_new", o->host_key_policy == DEVKIT_HOST_KEY_ACCEPT_NEW);
	str(j, "host_key", o->host_key_sha256);
	str(j, "ciphers", o->ciphers);
	str(j, "macs", o->macs);
	str(j, "kex", o->kex);
	duration(j, "connect_timeout", (unsigned)o->connect_timeout_ms);
	duration(j, "keepalive_interval", (unsigned long long)o->keepalive_interval_s * 1000);
	integer(j, "keepalive_count_max", o->keepalive_count_max);
	boolean(j, "reconnect", o->reconnect);
	duration(j, "reconnect_initial", (unsigned)o->reconnect_initial_ms);
	duration(j, "reconnect_max", (unsigned)o->reconnect_max_ms);
	integer(j, "reconnect_max_attempts", o->reconnect_max_attempts);
	return j;
}

static json_t *forward(const cfg_forward *f)
{
	const devkit_forward_options *o = &f->o;
	json_t *j = json_object();
	str(j, "kind", cfg_forward_kind_name(o->kind));
	hostport(j, "bind", o->bind_address, o->bind_port);
	if (o->kind != DEVKIT_FORWARD_DYNAMIC)
		hostport(j, "target", o->target_host, o->target_port);
	str(j, "proxy_user", o->proxy_username);
	str(j, "proxy_password_env", f->proxy_password_env);
	if (o->kind != DEVKIT_FORWARD_REMOTE)
		boolean(j, "allow_non_loopback", o->allow_non_loopback);
	return j;
}

static json_t *dns(const devkit_dns_options *o)
{
	json_t *j = json_object();
	str(j, "cluster_dns", o->cluster_dns);
	str(j, "domains", o->cluster_domains);
	str(j, "search", o->search);
	integer(j, "ndots", o->ndots);
	str(j, "upstream", o->upstream);
	if (o->bind_address || o->bind_port)
		hostport(j, "bind", o->bind_address, o->bind_port);
	duration(j, "timeout", (unsigned)o->timeout_ms);
	integer(j, "cache_max", o->cache_max);
	return j;
}

static json_t *routing(const cfg_routing *r)
{
	json_t *j = json_object();
	boolean(j, "enabled", r->enabled);
	str(j, "control", r->o.control_path);
	duration(j, "open_timeout", (unsigned)r->o.open_timeout_ms);
	return j;
}

/* "k=v" lines back into a mapping. */
static json_t *metadata(const char *lines)
{
	json_t *j = json_object();
	while (lines && *lines) {
		size_t len = strcspn(lines, "\n");
		const char *eq = memchr(lines, '=', len);
		if (eq) {
			char *key = strndup(lines, (size_t)(eq - lines));
			char *value = strndup(eq + 1, len - (size_t)(eq - lines) - 1);
			if (key && value)
				json_object_set_new(j, key, json_string(value));
			free(key);
			free(value);
		}
		lines += len + (lines[len] == '\n');
	}
	return j;
}

static json_t *expose(const cfg_expose *e)
{
	const devkit_expose_options *o = &e->o;
	const devkit_registration_options *r = &e->reg;
	json_t *j = json_object();
	hostport(j, "local", o->local_host, o->local_port);
	integer(j, "remote_port", o->remote_port);
	str(j, "remote_bind", o->remote_bind_address);
	str(j, "advertise", o->advertise_host);
	boolean(j, "registry_direct", !o->registry_via_tunnel);
	str(j, "registry", r->registry);
	str(j, "service", r->service);
	str(j, "protocol", r->protocol);
	str(j, "interface", r->interface_name);
	str(j, "methods", r->methods);
	if (r->metadata)
		json_object_set_new(j, "metadata", metadata(r->metadata));
	str(j, "tag", r->tag);
	if (r->ttl_ms) /* 0: the registry's usual value */
		duration(j, "ttl", r->ttl_ms);
	if (r->heartbeat_ms)
		duration(j, "heartbeat", r->heartbeat_ms);
	str(j, "registry_user", r->username);
	str(j, "registry_password_env", e->password_env);
	str(j, "registry_token_env", e->token_env);
	str(j, "registry_ca", r->ca_file);
	if (r->insecure)
		boolean(j, "registry_insecure", 1);
	duration(j, "timeout", r->timeout_ms);
	return j;
}

static json_t *kubernetes(const devkit_k8s_options *o)
{
	json_t *j = json_object();
	str(j, "kubeconfig", o->kubeconfig);
	str(j, "context", o->context);
	str(j, "namespace", o->namespace_name);
	duration(j, "timeout", o->timeout_ms);
	integer(j, "retries", o->retries);
	str(j, "connect_to", o->connect_to);
	return j;
}

static json_t *replica(const devkit_replica_options *o)
{
	json_t *j = json_object();
	str(j, cfg_replica_source_name(o->source_kind), o->source_name);
	str(j, "namespace", o->namespace_name);
	str(j, "name", o->name);
	str(j, "owner", o->owner);
	str(j, "container", o->container);
	boolean(j, "keep_alive", o->keep_alive);
	str(j, "command", o->command);
	str(j, "node", o->node_name);
	str(j, "log_file", o->log_file);
	str(j, "tag", o->traffic_tag);
	boolean(j, "istio", o->istio);
	str(j, "tag_header", o->tag_header);
	str(j, "istio_host", o->istio_host);
	boolean(j, "tcpdump", o->tcpdump);
	str(j, "tcpdump_image", o->tcpdump_image);
	str(j, "tcpdump_filter", o->tcpdump_filter);
	boolean(j, "jvm_exception_log", o->jvm_exception_log);
	boolean(j, "no_liveness", o->no_liveness);
	boolean(j, "no_readiness", o->no_readiness);
	boolean(j, "no_startup", o->no_startup);
	integer(j, "debug_port", o->debug_port);
	if (o->ttl_s) /* 0: the library's 8 hours */
		duration(j, "ttl", (unsigned long long)o->ttl_s * 1000);
	boolean(j, "keep_labels", o->keep_labels);
	return j;
}

static json_t *describe(const devkit_config *cfg)
{
	json_t *root = json_object(), *about = json_object(), *names = json_array();

	/* Where it came from, under an "x-" key: ignored when loaded back. */
	str(about, "source", cfg->name);
	str(about, "profile", cfg->profile);
	for (size_t i = 0; i < cfg->nprofiles; i++)
		json_array_append_new(names, json_string(cfg->profiles[i]));
	json_object_set_new(about, "profiles", names);
	json_object_set_new(root, "x-devkit", about);
	integer(root, "version", 1);
	if (cfg->has_tunnel)
		json_object_set_new(root, "tunnel", tunnel(&cfg->tunnel));
	if (cfg->nforwards) {
		json_t *a = json_array();
		for (size_t i = 0; i < cfg->nforwards; i++)
			json_array_append_new(a, forward(&cfg->forwards[i]));
		json_object_set_new(root, "forwards", a);
	}
	if (cfg->has_dns)
		json_object_set_new(root, "dns", dns(&cfg->dns));
	if (cfg->has_routing)
		json_object_set_new(root, "routing", routing(&cfg->routing));
	if (cfg->nexposes) {
		json_t *a = json_array();
		for (size_t i = 0; i < cfg->nexposes; i++)
			json_array_append_new(a, expose(&cfg->exposes[i]));
		json_object_set_new(root, "expose", a);
	}
	if (cfg->has_k8s)
		json_object_set_new(root, "kubernetes", kubernetes(&cfg->k8s));
	if (cfg->nreplicas) {
		json_t *a = json_array();
		for (size_t i = 0; i < cfg->nreplicas; i++)
			json_array_append_new(a, replica(&cfg->replicas[i].o));
		json_object_set_new(root, "replicas", a);
	}
	return root;
}

int devkit_config_describe(const devkit_config *cfg, devkit_buf *out)
{
	if (!cfg || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_config_describe: %s is NULL",
			cfg ? "out" : "cfg");
	json_t *root = describe(cfg);
	char *text = root ? json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(root);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int rc = devkit__bytes_append(&b, text, strlen(text) + 1);
	free(text);
	if (rc)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	b.len--; /* the terminator is kept, not counted */
	devkit__bytes_give(&b, out);
	return 0;
}
