/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Kubernetes API client for one cluster, configured as kubectl is:
 * kubeconfig files ($KUBECONFIG with several files merged as kubectl merges
 * them, else ~/.kube/config), a context, a namespace; or the in-cluster
 * service account. Credentials: bearer token or token file, client
 * certificate and key (data or file), exec credential plugins
 * (client.authentication.k8s.io/v1 and v1beta1), basic auth is not supported
 * (removed from Kubernetes in 1.19).
 *
 * Requests run on the engine loop (libcurl). The API server's Status answers
 * become devkit errors carrying the server's message ("pods \"x\" is
 * forbidden: User \"dev\" cannot create resource \"pods\" ..."):
 *   401 DEVKIT_EAUTH, 403 DEVKIT_EFORBIDDEN, 404 DEVKIT_ENOTFOUND,
 *   409 DEVKIT_EEXISTS, 400/422 DEVKIT_EINVAL, 5xx/429 DEVKIT_EIO (after retries),
 *   malformed JSON DEVKIT_EPROTO.
 * 429, 5xx and connection errors are retried with backoff, honouring
 * Retry-After. See docs/replica.md.
 */
#ifndef DEVKIT_K8S_H
#define DEVKIT_K8S_H

#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_k8s devkit_k8s;

typedef struct devkit_k8s_options {
	unsigned int version;
	/** kubeconfig path(s), ':'-separated like $KUBECONFIG. NULL: $KUBECONFIG,
	 *  else ~/.kube/config, else the in-cluster service account. */
	const char *kubeconfig;
	/** Context name. NULL: the kubeconfig's current-context. */
	const char *context;
	/** Default namespace of requests. NULL: the context's, else "default". */
	const char *namespace_name;
	/** Per request (each try), default 30000 ms. */
	unsigned int timeout_ms;
	/** Tries after the first on 429, 5xx and connection errors; default 3. */
	unsigned int retries;
	/** Connect to this "host:port" instead of the server's (a tunnel forward to
	 *  an API server only the bastion reaches); TLS still checks the server's
	 *  name. NULL: the server's address. */
	const char *connect_to;
} devkit_k8s_options;

#define DEVKIT_K8S_OPTIONS_VERSION 1
#define DEVKIT_K8S_OPTIONS_INIT { DEVKIT_K8S_OPTIONS_VERSION, NULL, NULL, NULL, 30000, 3, NULL }

DEVKIT_EXTERN(int) devkit_k8s_options_init(devkit_k8s_options *opts, unsigned int version);

/**
 * Load the configuration and make a client. No request is made (an exec
 * plugin runs on the first request). Errors name the file, the context and
 * the missing or bad field ("kubeconfig /home/dev/.kube/config: context
 * \"prod\" not found (contexts: dev, staging)").
 */
DEVKIT_EXTERN(int) devkit_k8s_open(devkit_k8s **out, devkit_ctx *ctx,
	const devkit_k8s_options *opts);

DEVKIT_EXTERN(void) devkit_k8s_free(devkit_k8s *k8s);

/** Borrowed strings, valid as long as the client: the namespace requests use
 *  by default, the API server's URL, the context's name ("" in-cluster). */
DEVKIT_EXTERN(const char *) devkit_k8s_namespace(const devkit_k8s *k8s);
DEVKIT_EXTERN(const char *) devkit_k8s_server(const devkit_k8s *k8s);
DEVKIT_EXTERN(const char *) devkit_k8s_context_name(const devkit_k8s *k8s);

/**
 * One REST call: method ("GET", "POST", "PUT", "PATCH", "DELETE"), path
 * ("/api/v1/namespaces/dev/pods/web-1", with any query), a JSON body or NULL
 * (PATCH bodies are merge patches). On 2xx returns 0 with the answer's body in
 * `out`; otherwise the error as described above, nothing in `out`.
 */
DEVKIT_EXTERN(int) devkit_k8s_request(devkit_k8s *k8s, const char *method, const char *path,
	const char *body, devkit_buf *out);

#ifdef __cplusplus
}
#endif
#endif
