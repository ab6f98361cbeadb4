/* SPDX-License-Identifier: Apache-2.0 */
/*
 * YAML to jansson, for kubeconfig files (plain maps, lists and scalars).
 * Aliases are expanded (bounded, against "billion laughs" files); only the
 * first document of a stream is read; keys must be scalars.
 */
#ifndef DEVKIT_K8S_YAML_JSON_H
#define DEVKIT_K8S_YAML_JSON_H

#include <stddef.h>

#include <jansson.h>

/* How scalars become JSON values.
 *
 * TYPED: YAML 1.2's core schema for unquoted scalars (true/false, null/~/
 * empty, integers, floats); quoted or !!str-tagged scalars are strings.
 *
 * STRINGS: every scalar is a string except unquoted null/~/empty (JSON
 * null). Kubernetes reads YAML against the Go type of each field, so
 * `namespace: no` is the string "no" and `insecure-skip-tls-verify: yes` a
 * boolean; a reader that knows the field's type interprets the text
 * (see devkit__kcfg_bool in kubeconfig.h). */
typedef enum devkit__yaml_scalars {
	DEVKIT__YAML_TYPED = 0,
	DEVKIT__YAML_STRINGS = 1
} devkit__yaml_scalars;

/* Parse `len` bytes of YAML. Returns a new reference (JSON null for an empty
 * document), or NULL with a message in `err` ("line 3 column 7: could not
 * find expected ':' (while scanning a simple key at line 2 column 1)"). */
json_t *devkit__yaml_to_json(const char *text, size_t len, devkit__yaml_scalars mode,
	char *err, size_t errcap);

#endif
