/* SPDX-License-Identifier: Apache-2.0 */
/* Small jansson helpers for walking and building Kubernetes objects. */
#include "json.h"

#include <stdio.h>
#include <string.h>

json_t *devkit__json_object_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_object(v))
		return v;
	v = json_object();
	if (!v || json_object_set_new(obj, key, v) < 0)
		return NULL;
	return v;
}

json_t *devkit__json_array_at(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	if (json_is_array(v))
		return v;
	v = json_array();
	if (!v || json_object_set_new(obj, key, v) < 0)
		return NULL;
	return v;
}

const json_t *devkit__json_path(const json_t *obj, const char *dotted)
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

const char *devkit__json_path_str(const json_t *obj, const char *dotted)
{
	return json_string_value(devkit__json_path(obj, dotted));
}

json_t *devkit__json_find_named(const json_t *array, const char *name)
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

void devkit__json_names(const json_t *array, char *out, size_t cap)
{
	size_t i, len = 0;
	json_t *v;
	if (cap)
		out[0] = '\0';
	json_array_foreach(array, i, v) {
		const char *n = json_string_value(json_object_get(v, "name"));
		int w = snprintf(out + len, cap - len, "%s%s", i ? ", " : "", n ? n : "?");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
}
