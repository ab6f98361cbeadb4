/* SPDX-License-Identifier: Apache-2.0 */
/* The document tree: freeing, copying (for aliases and profiles), lookups. */
#include "config_int.h"

#include <stdlib.h>
#include <string.h>

void cfg_node_free(cfg_node *n)
{
	if (!n)
		return;
	free(n->text);
	for (size_t i = 0; i < n->nitems; i++)
		cfg_node_free(n->items[i]);
	free(n->items);
	for (size_t i = 0; i < n->npairs; i++) {
		cfg_node_free(n->pairs[i].key);
		cfg_node_free(n->pairs[i].value);
	}
	free(n->pairs);
	free(n);
}

/* `budget` counts the nodes still allowed: an alias to a big anchor, used
 * many times, must not turn a small file into a huge tree. */
cfg_node *cfg_node_copy(const cfg_node *n, size_t *budget)
{
	if (*budget == 0)
		return NULL;
	(*budget)--;
	cfg_node *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = n->kind;
	c->line = n->line;
	c->col = n->col;
	c->type = n->type;
	if (n->text && !(c->text = strdup(n->text)))
		goto fail;
	if (n->nitems) {
		if (!(c->items = calloc(n->nitems, sizeof(*c->items))))
			goto fail;
		for (; c->nitems < n->nitems; c->nitems++) {
			if (!(c->items[c->nitems] = cfg_node_copy(n->items[c->nitems], budget)))
				goto fail;
		}
	}
	if (n->npairs) {
		if (!(c->pairs = calloc(n->npairs, sizeof(*c->pairs))))
			goto fail;
		for (; c->npairs < n->npairs; c->npairs++) {
			cfg_pair *d = &c->pairs[c->npairs];
			d->key = cfg_node_copy(n->pairs[c->npairs].key, budget);
			d->value = d->key ? cfg_node_copy(n->pairs[c->npairs].value, budget) : NULL;
			if (!d->value) {
				cfg_node_free(d->key);
				goto fail;
			}
		}
	}
	return c;
fail:
	cfg_node_free(c);
	return NULL;
}

cfg_node *cfg_map_get(const cfg_node *map, const char *key)
{
	if (!map || map->kind != CFG_MAP)
		return NULL;
	for (size_t i = 0; i < map->npairs; i++) {
		if (!strcmp(map->pairs[i].key->text, key))
			return map->pairs[i].value;
	}
	return NULL;
}

void cfg_map_remove(cfg_node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == CFG_MAP && i < map->npairs; i++) {
		if (strcmp(map->pairs[i].key->text, key) != 0)
			continue;
		cfg_node_free(map->pairs[i].key);
		cfg_node_free(map->pairs[i].value);
		memmove(&map->pairs[i], &map->pairs[i + 1], (map->npairs - i - 1) * sizeof(cfg_pair));
		map->npairs--;
		return;
	}
}

int cfg_is_null(const cfg_node *n)
{
	return n && n->kind == CFG_SCALAR && n->type == CFG_T_NULL;
}

const char *cfg_kind_name(const cfg_node *n)
{
	if (n->kind == CFG_MAP)
		return "a mapping";
	if (n->kind == CFG_SEQ)
		return "a list";
	switch (n->type) {
	case CFG_T_NULL: return "an empty value";
	case CFG_T_BOOL: return "a boolean";
	case CFG_T_INT: return "an integer";
	case CFG_T_FLOAT: return "a number";
	default: return "a string";
	}
}
