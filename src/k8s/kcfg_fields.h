/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading the fields of one kubeconfig entry, with errors that say where:
 * "kubeconfig /home/dev/.kube/config: user \"dev\" of context \"prod\":
 * client-key-data is not valid base64". Values never appear in messages.
 *
 * kubeconfig files are parsed with every scalar as a string
 * (DEVKIT__YAML_STRINGS); these getters give each field its type, as
 * Kubernetes' type-directed YAML reader does.
 */
#ifndef DEVKIT_K8S_KCFG_FIELDS_H
#define DEVKIT_K8S_KCFG_FIELDS_H

#include <stddef.h>

#include <jansson.h>

typedef struct devkit__kwhere {
	const char *file;     /* the kubeconfig the entry came from */
	const char *kind;     /* "cluster", "user", or NULL for the context itself */
	const char *name;     /* the entry's name (cluster/user) */
	const char *context;  /* the context being resolved */
} devkit__kwhere;

/* Set the thread's last error to "kubeconfig F: <where>: <message>". Returns code. */
int devkit__kw_fail(const devkit__kwhere *w, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Write "<kind> \"name\" of context \"ctx\"" (or "context \"ctx\"") into out. */
void devkit__kw_describe(const devkit__kwhere *w, char *out, size_t cap);

/* A string field: *out borrowed from obj, NULL when absent, null or "". */
int devkit__kw_str(const devkit__kwhere *w, json_t *obj, const char *key, const char **out);
/* A boolean field (true/false and YAML 1.1's yes/no/on/off, as Go's YAML
 * reader takes them); *out 0 when absent. */
int devkit__kw_bool(const devkit__kwhere *w, json_t *obj, const char *key, int *out);
/* A *-data field: base64 (line breaks allowed, as Go's decoder skips them)
 * decoded into a new NUL-terminated string; NULL when absent. */
int devkit__kw_base64(const devkit__kwhere *w, json_t *obj, const char *key, char **out);
/* A file field: the path resolved against the entry's kubeconfig and the
 * file's contents read (NUL-terminated); both NULL when absent. */
int devkit__kw_file(const devkit__kwhere *w, json_t *obj, const char *key, char **path,
	char **contents);
/* A list of strings; *out borrowed, NULL when absent. */
int devkit__kw_str_list(const devkit__kwhere *w, json_t *obj, const char *key, json_t **out);

#endif
