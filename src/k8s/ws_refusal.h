/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Why the API server refused a WebSocket upgrade. libwebsockets 4.1 reads
 * the refusal's status line and drops its body, where the server says why
 * ("pods \"web-1\" not found"). So the same upgrade request is made again
 * with libcurl as a plain HTTP request carrying the upgrade headers: the
 * server refuses it the same way, and curl reads the body.
 */
#ifndef DEVKIT_K8S_WS_REFUSAL_H
#define DEVKIT_K8S_WS_REFUSAL_H

#include "core/http.h"
#include "devkit/k8s.h"

typedef struct devkit__ws_refusal_req {
	const char *path;        /* the API path, without the server's prefix */
	const char *protocols;   /* as offered the first time */
	const char *token;       /* NULL: none (a secret, never logged) */
	const char *cert_pem;    /* NULL: the kubeconfig's */
	const char *key_pem;
	unsigned int timeout_ms;
} devkit__ws_refusal_req;

/* Start; the callback gets curl's answer. NULL with the last error set. */
devkit__http_xfer *devkit__ws_refusal_fetch(devkit_k8s *k, const devkit__ws_refusal_req *r,
	devkit__http_cb cb, void *data);

#endif
