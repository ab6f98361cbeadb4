/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The TLS side of a Kubernetes WebSocket: an OpenSSL client context built
 * from the cluster's kubeconfig material (CA bundle as PEM, client
 * certificate chain and key as PEM), handed to libwebsockets as the
 * vhost's provided client SSL_CTX, and the peer check libwebsockets asks us
 * for during the handshake. Messages never quote the material.
 */
#ifndef DEVKIT_K8S_WS_TLS_H
#define DEVKIT_K8S_WS_TLS_H

#include <stddef.h>

#include <openssl/ssl.h>

/* A client context: the CA bundle (NULL: the system's trust store), the
 * client certificate chain and key (both NULL: none). Returns NULL with the
 * reason in `why`. */
SSL_CTX *devkit__ws_tls_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem,
	char *why, size_t cap);

/* The verification step for one certificate of the server's chain, called
 * from libwebsockets' verify callback: `preverify_ok` is OpenSSL's verdict.
 * insecure: accept anything (insecure-skip-tls-verify). Otherwise the leaf
 * must also name `server_name` (DNS name or IP literal): libwebsockets 4.1
 * checks it too, but the check stays ours whatever the library version.
 * Returns 1 to accept; on refusal the reason goes to `why` (once). */
int devkit__ws_tls_verify(X509_STORE_CTX *store, int preverify_ok, int insecure,
	const char *server_name, char *why, size_t cap);

#endif
