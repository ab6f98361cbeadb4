/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The top level of devkit.yaml, and what one profile may hold: the same
 * sections, without `version` and `profiles`. Keys starting with "x-" are
 * the user's own at the top level (a place for YAML anchors to reuse).
 */
#include "config_int.h"

#include <string.h>

static int set_version(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	long long n;
	(void)obj;
	if (v->type != CFG_T_INT || cfg_core_int(v->text, 1, 1, &n) != 0)
		return cfg_expected(p, k, v, NULL, path);
	return 0;
}

#define SECTION(n, t) { .name = (n), .type = "section", .shape = CFG_SHAPE_SECTION, .sub = &(t) }
#define LIST(n, t) { .name = (n), .type = "list", .shape = CFG_SHAPE_LIST, .sub = &(t) }

#define SECTIONS \
	SECTION("tunnel", cfg_table_tunnel), \
	LIST("forwards", cfg_table_forward), \
	SECTION("dns", cfg_table_dns), \
	SECTION("routing", cfg_table_routing), \
	LIST("expose", cfg_table_expose), \
	SECTION("kubernetes", cfg_table_kubernetes), \
	LIST("replicas", cfg_table_replica)

static const cfg_key profile_keys[] = { SECTIONS };

const cfg_table cfg_table_profile = {
	.name = "profile", .keys = profile_keys,
	.nkeys = sizeof(profile_keys) / sizeof(profile_keys[0]),
};

static const cfg_key config_keys[] = {
	{ .name = "version", .type = "version", .shape = CFG_SHAPE_SCALAR, .set = set_version },
	SECTIONS,
	{ .name = "profiles", .type = "profiles", .shape = CFG_SHAPE_PROFILES,
		.sub = &cfg_table_profile },
};

const cfg_table cfg_table_config = {
	.name = "config", .keys = config_keys,
	.nkeys = sizeof(config_keys) / sizeof(config_keys[0]), .allow_x = 1,
};

/* Forwards, DNS, routing and expose all ride on the tunnel. Checked on the
 * merged document: a profile may bring the tunnel the base lacks. */
int cfg_check_sections(cfg_parse *p, const cfg_node *root)
{
	const devkit_config *cfg = p->cfg;
	const char *first = cfg->nforwards ? "forwards" : cfg->has_dns ? "dns"
		: cfg->has_routing ? "routing" : cfg->nexposes ? "expose" : NULL;

	if (cfg->has_tunnel || !first)
		return 0;
	for (size_t i = 0; i < root->npairs; i++) {
		if (!strcmp(root->pairs[i].key->text, first))
			return cfg_fail(p, root->pairs[i].key, "%s: needs a tunnel (a tunnel: section "
				"with its bastion)", first);
	}
	return cfg_fail(p, NULL, "%s: needs a tunnel", first);
}
