/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `expose:` -> devkit_expose_options + devkit_registration_options, one pair
 * per item, with the names of `devkit expose`'s flags (docs/cli.md). The
 * registration's address and port are not configurable: devkit_tunnel_expose
 * fills them with the bastion's address and the reverse forward's port.
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define O cfg_expose

static const char *const protocols[] = { "http", "dubbo", NULL };

static const cfg_key keys[] = {
	CFG_KEY2("local", "local", cfg_set_local, O, o.local_host, o.local_port),
	CFG_INT("remote_port", O, o.remote_port, 0, 65535, 0),
	CFG_KEY("remote_bind", "host", cfg_set_host, O, o.remote_bind_address),
	CFG_KEY("advertise", "host", cfg_set_host, O, o.advertise_host),
	{ .name = "registry_direct", .type = "bool", .shape = CFG_SHAPE_SCALAR,
		.set = cfg_set_bool, .off = offsetof(O, o.registry_via_tunnel), .min = 1 /* inverted */ },
	CFG_KEY("registry", "registry_url", cfg_set_registry_url, O, reg.registry),
	CFG_KEY("service", "word", cfg_set_word, O, reg.service),
	{ .name = "protocol", .type = "enum", .shape = CFG_SHAPE_SCALAR, .set = cfg_set_enum,
		.off = offsetof(O, reg.protocol), .values = protocols },
	CFG_KEY("interface", "word", cfg_set_word, O, reg.interface_name),
	CFG_NAMES("methods", "names", cfg_set_names, O, reg.methods),
	{ .name = "metadata", .type = "metadata", .shape = CFG_SHAPE_SCALAR_MAP,
		.set = cfg_set_metadata, .off = offsetof(O, reg.metadata) },
	CFG_KEY("tag", "word", cfg_set_word, O, reg.tag),
	CFG_DURATION("ttl", O, reg.ttl_ms, 1, CFG_SECOND, 24 * CFG_HOUR, 1),
	CFG_DURATION("heartbeat", O, reg.heartbeat_ms, 1, 100, 24 * CFG_HOUR, 1),
	CFG_KEY("registry_user", "word", cfg_set_word, O, reg.username),
	CFG_SECRET("registry_password_env", O, reg.password, password_env),
	CFG_SECRET("registry_token_env", O, reg.token, token_env),
	CFG_KEY("registry_ca", "path", cfg_set_path, O, reg.ca_file),
	CFG_BOOL("registry_insecure", O, reg.insecure),
	CFG_DURATION("timeout", O, reg.timeout_ms, 1, 1, CFG_MINUTE, 1),
};

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_expose_options expose_defaults = DEVKIT_EXPOSE_OPTIONS_INIT;
	static const devkit_registration_options reg_defaults = DEVKIT_REGISTRATION_OPTIONS_INIT;
	devkit_config *cfg = p->cfg;
	cfg_expose *e = realloc(cfg->exposes, (index + 1) * sizeof(*e));
	if (!e) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	cfg->exposes = e;
	cfg->nexposes = index + 1;
	memset(&e[index], 0, sizeof(e[index]));
	e[index].o = expose_defaults;
	e[index].reg = reg_defaults;
	return &e[index];
}

static int check(cfg_parse *p, const cfg_node *node, const char *path, void *obj)
{
	const cfg_expose *e = obj;
	const cfg_node *at;
	/* Dubbo's interface and methods: for a Dubbo service, or for a provider
	 * node in ZooKeeper whatever the protocol (Dubbo serves http and rest too). */
	int dubbo = (e->reg.protocol && !strcmp(e->reg.protocol, "dubbo")) ||
		(e->reg.registry && (!strncmp(e->reg.registry, "zookeeper://", 12) ||
		!strncmp(e->reg.registry, "zk://", 5)));
	int https = e->reg.registry && strstr(e->reg.registry, "+https://");

	if (!e->o.local_port)
		return cfg_fail(p, node, "%s: local is required (the local service, [HOST:]PORT)",
			path);
	if (!e->reg.registry)
		return cfg_fail(p, node, "%s: registry is required (e.g. nacos://nacos:8848)", path);
	if (!e->reg.service)
		return cfg_fail(p, node, "%s: service is required (the name callers look up)", path);
	if (!dubbo && ((at = cfg_map_get(node, "interface")) ||
		(at = cfg_map_get(node, "methods"))))
		return cfg_fail(p, at, "%s: interface and methods need protocol: dubbo or a "
			"zookeeper:// registry", path);
	if (!e->reg.username != !e->reg.password)
		return cfg_fail(p, node, "%s: registry_user and registry_password_env go together",
			path);
	if (e->reg.ttl_ms && e->reg.heartbeat_ms && e->reg.heartbeat_ms >= e->reg.ttl_ms)
		return cfg_fail(p, cfg_map_get(node, "heartbeat"), "%s.heartbeat: must be shorter "
			"than ttl, or the registry drops the entry between two heartbeats", path);
	if (!https && ((at = cfg_map_get(node, "registry_ca"))
			|| (at = cfg_map_get(node, "registry_insecure"))))
		return cfg_fail(p, at, "%s: registry_ca and registry_insecure apply to a +https "
			"registry (e.g. nacos+https://)", path);
	return 0;
}

const cfg_table cfg_table_expose = {
	.name = "expose", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make, .check = check,
};
