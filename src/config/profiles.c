/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles: `profiles: {staging: {...}, prod: {...}}` at the top level, each
 * holding sections as the base document does. The selected one is merged
 * over the base:
 *   - a mapping merges key by key, recursively (tunnel: {bastion: ...}
 *     changes the bastion and keeps the identity);
 *   - a list replaces the base's list whole (forwards, expose, replicas,
 *     and list values such as search): merging items by position would
 *     silently mix two environments;
 *   - any other value replaces the base's;
 *   - null removes the key: `dns: null` drops the section, `user: null`
 *     goes back to the default.
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Put `value` (a copy) under `key` in `map`, replacing what was there. */
static int put(cfg_node *map, const cfg_node *key, const cfg_node *value, size_t *budget)
{
	cfg_node *copy = cfg_node_copy(value, budget);
	if (!copy)
		return DEVKIT_ENOMEM;
	for (size_t i = 0; i < map->npairs; i++) {
		if (!strcmp(map->pairs[i].key->text, key->text)) {
			cfg_node_free(map->pairs[i].value);
			map->pairs[i].value = copy;
			return 0;
		}
	}
	cfg_pair *pairs = realloc(map->pairs, (map->npairs + 1) * sizeof(*pairs));
	cfg_node *kcopy = pairs ? cfg_node_copy(key, budget) : NULL;
	if (pairs)
		map->pairs = pairs;
	if (!kcopy) {
		cfg_node_free(copy);
		return DEVKIT_ENOMEM;
	}
	map->pairs[map->npairs].key = kcopy;
	map->pairs[map->npairs].value = copy;
	map->npairs++;
	return 0;
}

static int merge(cfg_node *base, const cfg_node *over, size_t *budget)
{
	for (size_t i = 0; i < over->npairs; i++) {
		const cfg_node *key = over->pairs[i].key, *value = over->pairs[i].value;
		cfg_node *old = cfg_map_get(base, key->text);
		int rc;
		if (cfg_is_null(value)) {
			cfg_map_remove(base, key->text);
			continue;
		}
		if (old && old->kind == CFG_MAP && value->kind == CFG_MAP)
			rc = merge(old, value, budget);
		else
			rc = put(base, key, value, budget);
		if (rc)
			return rc;
	}
	return 0;
}

static int not_found(cfg_parse *p, const cfg_node *profiles, const char *profile)
{
	devkit_config *cfg = p->cfg;
	char list[512];
	size_t len = 0;

	if (!cfg->nprofiles)
		return cfg_fail_code(p, DEVKIT_ENOTFOUND, NULL, "profile \"%s\" not found: the file "
			"defines no profiles", profile);
	for (size_t i = 0; i < cfg->nprofiles && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
			cfg->profiles[i]);
	const char *near = cfg_suggest(profile, (const char *const *)cfg->profiles, cfg->nprofiles);
	if (near)
		return cfg_fail_code(p, DEVKIT_ENOTFOUND, profiles, "profile \"%s\" not found (did you "
			"mean \"%s\"?); the profiles are: %s", profile, near, list);
	return cfg_fail_code(p, DEVKIT_ENOTFOUND, profiles, "profile \"%s\" not found; the "
		"profiles are: %s", profile, list);
}

int cfg_profiles_apply(cfg_parse *p, cfg_node *root, const char *profile)
{
	devkit_config *cfg = p->cfg;
	const cfg_node *profiles = root ? cfg_map_get(root, "profiles") : NULL;
	const cfg_node *chosen = NULL;
	size_t budget = CFG_MAX_NODES;
	int rc = 0;

	if (profiles && profiles->kind == CFG_MAP && profiles->npairs) {
		if (!(cfg->profiles = calloc(profiles->npairs, sizeof(char *))))
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		for (; cfg->nprofiles < profiles->npairs; cfg->nprofiles++) {
			const cfg_pair *pr = &profiles->pairs[cfg->nprofiles];
			if (!(cfg->profiles[cfg->nprofiles] = strdup(pr->key->text)))
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			if (profile && !strcmp(profile, pr->key->text))
				chosen = pr->value;
		}
	}
	if (profile) {
		if (!chosen)
			return not_found(p, profiles, profile);
		if (!(cfg->profile = strdup(profile)))
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		if (chosen->kind == CFG_MAP)
			rc = merge(root, chosen, &budget);
		if (rc)
			return budget ? devkit__error_set(DEVKIT_ENOMEM, "out of memory")
				: cfg_fail(p, chosen, "profiles.%s: the merged document has too many nodes",
					profile);
	}
	if (root)
		cfg_map_remove(root, "profiles");
	return 0;
}
