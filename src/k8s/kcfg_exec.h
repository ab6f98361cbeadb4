/* SPDX-License-Identifier: Apache-2.0 */
/* The exec stanza of a kubeconfig user (client.authentication.k8s.io). */
#ifndef DEVKIT_K8S_KCFG_EXEC_H
#define DEVKIT_K8S_KCFG_EXEC_H

#include <jansson.h>

#include "k8s_config.h"
#include "kcfg_fields.h"

/* Read `exec` (the user's "exec" map) into a new plugin description.
 * `cluster` is the context's cluster entry (its "server", CA and the
 * client.authentication.k8s.io/exec extension go to the plugin with
 * provideClusterInfo) and `ca_pem` its CA, already read. */
int devkit__kcfg_exec(const devkit__kwhere *w, json_t *exec, json_t *cluster,
	const devkit__k8s_config *c, devkit__k8s_exec **out);

void devkit__k8s_exec_free(devkit__k8s_exec *e);

#endif
