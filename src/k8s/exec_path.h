/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API path of an exec or attach session, as kubectl builds it:
 * /api/v1/namespaces/NS/pods/POD/exec?command=sh&command=-c&command=...
 * &container=C&stdin=true&stdout=true&stderr=true&tty=false. Pure.
 */
#ifndef DEVKIT_K8S_EXEC_PATH_H
#define DEVKIT_K8S_EXEC_PATH_H

#include "devkit/exec.h"

/* A malloc'd path, or NULL with the thread's last error (DEVKIT_EINVAL for a
 * missing pod or command, an argv_json that is not an array of strings). */
char *devkit__exec_path(const devkit_exec_options *o, const char *namespace_name);

/* Percent-encode `s` for a query or path segment into a malloc'd string. */
char *devkit__url_escape(const char *s);

/* The longest request path an exec or attach may have (see exec_path.c). */
#define DEVKIT__EXEC_MAX_PATH 2000

#endif
