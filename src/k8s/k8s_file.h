/* SPDX-License-Identifier: Apache-2.0 */
/* Small files of the Kubernetes client: kubeconfigs, certificates, tokens. */
#ifndef DEVKIT_K8S_FILE_H
#define DEVKIT_K8S_FILE_H

#include <stddef.h>

/* Read a whole small file (at most 16 MiB) into a NUL-terminated buffer.
 * Returns 0, or an errno value (EFBIG when too large). */
int devkit__k8s_read_file(const char *path, char **out, size_t *len);

/* `path` as kubectl resolves a path found in `file`: absolute paths stay,
 * relative ones are taken from the file's directory. Returns a new string or
 * NULL (out of memory). */
char *devkit__k8s_resolve_path(const char *file, const char *path);

#endif
