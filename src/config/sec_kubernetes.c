/* SPDX-License-Identifier: Apache-2.0 */
/* `kubernetes:` -> devkit_k8s_options: which cluster, as kubectl would pick it. */
#include "config_int.h"

#include <string.h>

#define O devkit_k8s_options

static const cfg_key keys[] = {
	CFG_NAMES("kubeconfig", "paths", cfg_set_paths, O, kubeconfig),
	CFG_KEY("context", "string", cfg_set_string, O, context),
	CFG_KEY("namespace", "k8s_name", cfg_set_k8s_name, O, namespace_name),
	CFG_DURATION("timeout", O, timeout_ms, 1, 1, CFG_HOUR, 1),
	CFG_INT("retries", O, retries, 0, 10, 1),
	CFG_KEY("connect_to", "endpoint", cfg_set_endpoint, O, connect_to),
};

static void *make(cfg_parse *p, size_t index)
{
	static const devkit_k8s_options defaults = DEVKIT_K8S_OPTIONS_INIT;
	(void)index;
	p->cfg->k8s = defaults;
	p->cfg->has_k8s = 1;
	return &p->cfg->k8s;
}

const cfg_table cfg_table_kubernetes = {
	.name = "kubernetes", .keys = keys, .nkeys = sizeof(keys) / sizeof(keys[0]),
	.make = make,
};
