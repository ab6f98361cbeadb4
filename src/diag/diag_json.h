/* SPDX-License-Identifier: Apache-2.0 */
/* The report's JSON; reading Kubernetes objects is src/core/json.h. */
#ifndef DEVKIT_DIAG_JSON_H
#define DEVKIT_DIAG_JSON_H

#include <stddef.h>

#include <jansson.h>

#include "core/json.h"

/* obj[key] = a copy of s (nothing when s is NULL). */
void devkit__diag_jset_str(json_t *obj, const char *key, const char *s);

#endif
