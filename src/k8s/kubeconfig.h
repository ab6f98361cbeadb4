/* SPDX-License-Identifier: Apache-2.0 */
/*
 * kubeconfig files read and merged as kubectl merges them
 * (k8s.io/client-go/tools/clientcmd, "kubectl config view" docs):
 *
 *   - files in order; missing ones in $KUBECONFIG are skipped, an explicitly
 *     named file must exist;
 *   - named clusters, users and contexts: the first file to define a name
 *     wins the whole entry (entries are not merged field by field);
 *   - current-context: the first file that sets it.
 *
 * Each entry remembers its file: relative paths in it are resolved against
 * that file's directory, and errors name it.
 */
#ifndef DEVKIT_K8S_KUBECONFIG_H
#define DEVKIT_K8S_KUBECONFIG_H

#include <jansson.h>

typedef struct devkit__kcfg {
	/* name -> {"file": "/path/config", "value": {...} or null} */
	json_t *clusters;
	json_t *users;
	json_t *contexts;
	char *current_context;      /* NULL: no file sets it */
	char *current_context_file; /* the file that set it */
	char *files;                /* the files read, "a, b", for messages */
} devkit__kcfg;

/* Read `paths` (':'-separated). must_exist: every file must be there
 * (explicit paths), else missing files are skipped (kubectl's $KUBECONFIG);
 * at least one must exist either way. Returns 0 or a DEVKIT_E* code with the
 * thread's last error naming the file ("kubeconfig /x: line 4 column 1: ..."). */
int devkit__kcfg_load(devkit__kcfg *k, const char *paths, int must_exist);
void devkit__kcfg_clear(devkit__kcfg *k);

/* The names of an entry list, sorted, ", "-separated, into out. */
void devkit__kcfg_names(json_t *entries, char *out, size_t cap);

#endif
