/* SPDX-License-Identifier: Apache-2.0 */
/*
 * API server answers to devkit errors: the code for an HTTP status, and a
 * message with the server's own words (its Status object's message) plus,
 * where the server says too little, what was asked ("cannot create pods in
 * namespace \"dev\"").
 */
#ifndef DEVKIT_K8S_STATUS_H
#define DEVKIT_K8S_STATUS_H

#include <stddef.h>

/* 0 for 2xx; else the DEVKIT_E* code (k8s.h's table). */
int devkit__k8s_status_rc(long status);

/* The verb kubectl's RBAC errors use for a request ("get", "list", "watch",
 * "create", "update", "patch", "delete", "deletecollection") and the
 * resource, name and namespace its path names. Missing parts are "". */
typedef struct devkit__k8s_target {
	char verb[20];
	char resource[400];  /* "pods", "deployments.apps", "pods/log" */
	char name[128];
	char namespace_name[128];
} devkit__k8s_target;

void devkit__k8s_target_of(const char *method, const char *path, devkit__k8s_target *t);

/* The message for a non-2xx answer: "<what>: 403 Forbidden: <server message>
 * [(<hint>)]". `who` names the credentials for a 401. `reason` receives the
 * Status reason, "" when none. */
void devkit__k8s_status_message(long status, const char *body, size_t body_len,
	const char *what, const char *method, const char *path, const char *who,
	char *reason, size_t reason_cap, char *out, size_t cap);

#endif
