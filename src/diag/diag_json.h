/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Walking Kubernetes objects with jansson. The same few lines exist in
 * src/replica/json.c; they belong in src/core once someone owns a
 * src/core/json.h, and both areas should then use that one.
 */
#ifndef DEVKIT_DIAG_JSON_H
#define DEVKIT_DIAG_JSON_H

#include <stddef.h>

#include <jansson.h>

/* Follow "a.b.c" through objects; NULL if any step is missing. */
const json_t *devkit__diag_jpath(const json_t *obj, const char *dotted);
const char *devkit__diag_jstr(const json_t *obj, const char *dotted);
/* The element of an array of objects whose "name" is `name`, or NULL. */
const json_t *devkit__diag_jnamed(const json_t *array, const char *name);
/* obj[key] = a copy of s (nothing when s is NULL). */
void devkit__diag_jset_str(json_t *obj, const char *key, const char *s);

#endif
