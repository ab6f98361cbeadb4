/* SPDX-License-Identifier: Apache-2.0 */
/* Walking Kubernetes objects (and other JSON) with jansson: the few helpers
 * the replica, diagnostics and k8s code all need. */
#ifndef DEVKIT_CORE_JSON_H
#define DEVKIT_CORE_JSON_H

#include <stddef.h>

#include <jansson.h>

/* obj[key] as an object/array, created (empty) when missing or of another type. */
json_t *devkit__json_object_at(json_t *obj, const char *key);
json_t *devkit__json_array_at(json_t *obj, const char *key);
/* Follow "a.b.c" through objects; NULL if any step is missing. */
const json_t *devkit__json_path(const json_t *obj, const char *dotted);
const char *devkit__json_path_str(const json_t *obj, const char *dotted);
/* The element of an array of objects whose "name" is `name`, or NULL. */
json_t *devkit__json_find_named(const json_t *array, const char *name);
/* Names of an array of objects as "a, b, c" into out. */
void devkit__json_names(const json_t *array, char *out, size_t cap);

#endif
