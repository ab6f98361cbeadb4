/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The key tables as JSON, for tests/config/check_schema.py: it compares them
 * with docs/devkit.schema.json (every key, its type, integer ranges, enum
 * values), so that neither can gain or lose a key without the other.
 */
#include "config_int.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

static json_t *table_json(const cfg_table *t)
{
	json_t *keys = json_object();
	for (size_t i = 0; i < t->nkeys; i++) {
		const cfg_key *k = &t->keys[i];
		json_t *j = json_object();
		json_object_set_new(j, "type", json_string(k->type));
		if (!strcmp(k->type, "int")) {
			json_object_set_new(j, "minimum", json_integer(k->min));
			json_object_set_new(j, "maximum", json_integer(k->max));
		}
		if (k->values) {
			json_t *values = json_array();
			for (size_t v = 0; k->values[v]; v++)
				json_array_append_new(values, json_string(k->values[v]));
			json_object_set_new(j, "values", values);
		}
		if (k->sub)
			json_object_set_new(j, "ref", json_string(k->sub->name));
		json_object_set_new(keys, k->name, j);
	}
	json_t *j = json_object();
	json_object_set_new(j, "keys", keys);
	json_object_set_new(j, "allow_x", json_boolean(t->allow_x));
	return j;
}

int devkit__config_tables_json(devkit_buf *out)
{
	static const cfg_table *const tables[] = { &cfg_table_config, &cfg_table_profile,
		&cfg_table_tunnel, &cfg_table_forward, &cfg_table_dns, &cfg_table_routing,
		&cfg_table_expose, &cfg_table_kubernetes, &cfg_table_replica };
	json_t *root = json_object();
	for (size_t i = 0; i < sizeof(tables) / sizeof(tables[0]); i++)
		json_object_set_new(root, tables[i]->name, table_json(tables[i]));
	char *text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int rc = devkit__bytes_append(&b, text, strlen(text) + 1);
	free(text);
	if (rc)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	b.len--;
	devkit__bytes_give(&b, out);
	return 0;
}
