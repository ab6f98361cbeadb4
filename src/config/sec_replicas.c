/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `replicas:` -> devkit_replica_options, one per item. The source is written
 * as its kind: `deployment: orders` (exactly one of pod, deployment,
 * statefulset, daemonset), so the kind cannot be forgotten or mistyped apart
 * from the name.
 */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define O cfg_replica

static const char *const sources[] = { "pod", "deployment", "statefulset", "daemonset" };
static const int source_values[] = { DEVKIT_REPLICA_FROM_POD, DEVKIT_REPLICA_FROM_DEPLOYMENT,
	DEVKIT_REPLICA_FROM_STATEFULSET, DEVKIT_REPLICA_FROM_DAEMONSET };

const char *cfg_replica_source_name(int source)
{
	for (size_t i = 0; i < sizeof(sources) / sizeof(sources[0]); i++) {
		if (source_values[i] == source)
			return sources[i];
	}
	return "?";
}

/* `min` carries the devkit_replica_source of the key. */
static int set_source(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	cfg_replica *r = obj;
	const char *before = r->o.source_name;
	int rc = cfg_set_k8s_subdomain(p, k, v, path, obj);
	if (rc == 0 && r->o.source_name != before) { /* else it expanded to "": not given */
		r->o.source_kind = (devkit_replica_source)k->min;
		r->sources++;
	}
	return rc;
}

#define SOURCE(n, kind) { .name = (n), .type = "k8s_subdomain", .shape = CFG_SHAPE_SCALAR, \
	.set = set_source, .off = offsetof(O, o.source_name), .min = (kind) }

static const cfg_key keys[] = {
	SOURCE("pod", DEVKIT_REPLICA_FROM_POD),
	SOURCE("deployment", DEVKIT_REPLICA_FROM_DEPLOYMENT),
	SOURCE("statefulset", DEVKIT_REPLICA_FROM_STATEFULSET),
	SOURCE("daemonset", DEVKIT_REPLICA_FROM_DAEMONSET),
	CFG_KEY("namespace", "k8s_name", cfg_set_k8s_name, O, o.namespace_name),
	CFG_KEY("name", "k8s_name", cfg_set_k8s_name, O, o.name),
	CFG_KEY("owner", "label_value", cfg_set_label_value, O, o.owner),
	CFG_KEY("container", "k8s_name", cfg_set_k8s_name, O, o.container),
	CFG_BOOL("keep_alive", O, o.keep_alive),
	CFG_KEY("command", "text", cfg_set_text, O, o.command),
	CFG_KEY("node", "k8s_subdomain", cfg_set_k8s_subdomain, O, o.node_name),
	CFG_KEY("log_file", "string", cfg_set_string, O, o.log_file),
	CFG_KEY("tag", "label_value", cfg_set_label_value, O, o.traffic_tag),
	CFG_BOOL("istio", O, o.istio),
	CFG_KEY("tag_header", "header", cfg_set_header, O, o.tag_header),
	CFG_KEY("istio_host", "k8s_subdomain", cfg_set_k8s_subdomain, O, o.istio_host),
	CFG_BOOL("tcpdump", O, o.tcpdump),
	CFG_KEY("tcpdump_image", "word", cfg_set_word, O, o.tcpdump_image),
	CFG_KEY("tcpdump_filter", "string", cfg_set_string, O, o.tcpdump_filter),
	CFG_BOOL("jvm_exception_log", O, o.jvm_exception_log),
	CFG_BOOL("no_liveness", O, o.no_liveness),
	CFG_BOOL("no_readiness", O, o.no_readiness),
	CFG_BOOL("no_startup", O, o.no_startup),
	CFG_INT("debug_port", O, o.debug_port, 0, 65535, 0),
	CFG_DURATION("ttl", O, o.ttl_s, 1000, CFG_MINUTE, 30 * 24 * CFG_HOUR, 1),
	CFG_BOOL("keep_labels", O, o.keep_labels),
};

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_replica_options defaults = DEVKIT_REPLICA_OPTIONS_INIT;
	devkit_config *cfg = p->cfg;
	cfg_replica *r = realloc(cfg->replicas, (index + 1) * sizeof(*r));
	if (!r) {
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	cfg->replicas = r;
	cfg->nreplicas = index + 1;
	memset(&r[index], 0, sizeof(r[index]));
	r[index].o = defaults;
	return &r[index];
}

static int check(cfg_parse *p, const cfg_node *node, const char *path, void *obj)
{
	const cfg_replica *r = obj;
	const cfg_node *at;

	if (r->sources != 1) {
		/* Point at the second source when there are two. */
		const cfg_node *second = NULL;
		int seen = 0;
		for (size_t i = 0; i < node->npairs && !second; i++) {
			for (size_t j = 0; j < sizeof(sources) / sizeof(sources[0]); j++) {
				if (!strcmp(node->pairs[i].key->text, sources[j]) && seen++)
					second = node->pairs[i].key;
			}
		}
		return cfg_fail(p, second ? second : node, "%s: %s one of pod, deployment, "
			"statefulset or daemonset (what to copy)", path,
			r->sources ? "give only" : "give");
	}
	if (r->o.istio && !r->o.traffic_tag)
		return cfg_fail(p, cfg_map_get(node, "istio"), "%s: istio routes by the traffic tag: "
			"give a tag too", path);
	if (!r->o.istio && ((at = cfg_map_get(node, "tag_header"))
			|| (at = cfg_map_get(node, "istio_host"))))
		return cfg_fail(p, at, "%s: tag_header and istio_host need istio: true", path);
	if (!r->o.tcpdump && ((at = cfg_map_get(node, "tcpdump_image"))
			|| (at = cfg_map_get(node, "tcpdump_filter"))))
		return cfg_fail(p, at, "%s: tcpdump_image and tcpdump_filter need tcpdump: true", path);
	return 0;
}

const cfg_table cfg_table_replica = {
	.name = "replica", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make, .check = check,
};
