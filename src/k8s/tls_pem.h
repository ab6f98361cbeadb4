/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Checks of the TLS material a kubeconfig names, made when the client is
 * opened so that a bad certificate is reported against the kubeconfig field
 * it came from, not as a TLS failure on the first request. OpenSSL parses;
 * the reasons never quote the material.
 */
#ifndef DEVKIT_K8S_TLS_PEM_H
#define DEVKIT_K8S_TLS_PEM_H

#include <stddef.h>

/* 0 if `pem` holds at least one certificate (a CA bundle, or a client
 * certificate chain), else -1 with the reason in `why`. */
int devkit__pem_check_certs(const char *pem, char *why, size_t cap);
/* 0 if `pem` holds an unencrypted private key, else -1 with the reason. */
int devkit__pem_check_key(const char *pem, char *why, size_t cap);
/* 0 if the first certificate of cert_pem belongs to the key, else -1. */
int devkit__pem_check_pair(const char *cert_pem, const char *key_pem, char *why, size_t cap);

/* Free a string that held a secret, overwriting it first. Accepts NULL. */
void devkit__secret_free(char *s);

#endif
