/* SPDX-License-Identifier: Apache-2.0 */
/* Small jansson helpers for reading Pods and events. */
#include "diag_json.h"

#include <string.h>

const json_t *devkit__diag_jpath(const json_t *obj, const char *dotted)
{
	char key[128];
	const char *p = dotted;
	while (obj && *p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, p, n);
		key[n] = '\0';
		obj = json_object_get(obj, key);
		p += n + (dot ? 1 : 0);
	}
	return obj;
}

const char *devkit__diag_jstr(const json_t *obj, const char *dotted)
{
	return json_string_value(devkit__diag_jpath(obj, dotted));
}

const json_t *devkit__diag_jnamed(const json_t *array, const char *name)
{
	size_t i;
	json_t *v;
	if (!name)
		return NULL;
	json_array_foreach(array, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		if (n && strcmp(n, name) == 0)
			return v;
	}
	return NULL;
}

void devkit__diag_jset_str(json_t *obj, const char *key, const char *s)
{
	if (s)
		json_object_set_new(obj, key, json_string(s));
}
