/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Kubernetes client's asynchronous API, for other parts of the library
 * (pod replication, diagnostics) that work on the engine loop. Every
 * function here runs on the I/O thread. devkit_k8s_request() is the
 * blocking public form of devkit__k8s_request_start().
 *
 * A request's callback runs exactly once and never before the start
 * function returns, unless the request is cancelled first; a start function
 * that fails (NULL, the thread's last error set) never calls it. A request
 * carries its client's credentials (an exec plugin runs first when needed,
 * again once on a 401), retries 429, 5xx and connection failures with
 * backoff (Retry-After honoured, capped), and turns the answer into a
 * devkit code and message as k8s.h describes.
 *
 * When the client is freed or the engine stops, requests still in flight
 * end with DEVKIT_ECLOSED.
 */
#ifndef DEVKIT_K8S_INT_H
#define DEVKIT_K8S_INT_H

#include <jansson.h>

#include <stddef.h>

#include "core/engine.h"
#include "devkit/k8s.h"

typedef struct devkit__k8s_req devkit__k8s_req;

typedef struct devkit__k8s_answer {
	int rc;               /* 0 for 2xx, else a DEVKIT_E* code */
	long status;          /* HTTP status of the last try, 0 when none came */
	const char *body;     /* NUL-terminated, valid during the callback; "" for streams */
	size_t body_len;
	const char *reason;   /* the Status answer's reason ("NotFound", "AlreadyExists",
	                       * "Conflict", "Expired"), "" when none */
	const char *message;  /* rc < 0: what failed and why (no secrets); "" on success */
} devkit__k8s_answer;

typedef void (*devkit__k8s_cb)(void *data, const devkit__k8s_answer *answer);
/* Streamed bytes of a 2xx answer, as they arrive. Return 0 to go on,
 * non-zero to stop (the request then ends with DEVKIT_ECLOSED). */
typedef int (*devkit__k8s_data_cb)(void *data, const char *bytes, size_t len);

typedef struct devkit__k8s_req_opts {
	const char *method;        /* NULL: "GET" */
	const char *path;          /* "/api/v1/namespaces/dev/pods?labelSelector=a%3Db" */
	const char *body;          /* copied; NULL: none */
	size_t body_len;           /* 0 with a body: strlen(body) */
	const char *content_type;  /* NULL: application/json (PATCH: merge-patch+json) */
	const char *accept;        /* NULL: application/json */
	int raw;                   /* 2xx bodies need not be JSON (pod logs) */
	devkit__k8s_data_cb on_data; /* streaming (watches, logs); NULL: collect the body */
	unsigned int timeout_ms;   /* per try; 0: the client's. Streams have none. */
	int retries;               /* tries after the first; < 0: the client's */
} devkit__k8s_req_opts;

devkit__k8s_req *devkit__k8s_start(devkit_k8s *k, const devkit__k8s_req_opts *opts,
	devkit__k8s_cb cb, void *data);

/* The common case: a JSON request with the client's defaults. */
devkit__k8s_req *devkit__k8s_request_start(devkit_k8s *k, const char *method, const char *path,
	const char *body, devkit__k8s_cb cb, void *data);

/* A streamed GET (a watch, a log follow). Once bytes have been delivered a
 * broken connection is not retried (the reader would see them twice): the
 * callback reports it and the caller resumes (a watch from its last
 * resourceVersion). */
devkit__k8s_req *devkit__k8s_stream_start(devkit_k8s *k, const char *path,
	devkit__k8s_data_cb on_data, devkit__k8s_cb cb, void *data);

/* Abandon a request: its callback will not run. Accepts NULL. */
void devkit__k8s_request_cancel(devkit__k8s_req *r);

/* The engine the client runs on. */
devkit_ctx *devkit__k8s_ctx(const devkit_k8s *k);

/* --- k8s_json.c ------------------------------------------------------------------ */

/* GET with a JSON answer (a new reference in *out). The client's error
 * (404 DEVKIT_ENOTFOUND with the server's message, ...) stays the thread's
 * last error. */
int devkit__k8s_get_json(devkit_k8s *k, const char *path, json_t **out);

/* The container a request without one is about, as the API server picks
 * it: the default-container annotation, else the only container. NULL when
 * the Pod has several and none is marked. Borrowed from pod. */
const char *devkit__k8s_default_container(const json_t *pod);

#endif
