/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ExecCredential an exec plugin prints (client.authentication.k8s.io
 * v1/v1beta1): status.token, or status.clientCertificateData and
 * status.clientKeyData (PEM), and status.expirationTimestamp (RFC 3339).
 * The plugin's output is a secret: parse errors say what is wrong, never
 * what was there.
 */
#ifndef DEVKIT_K8S_EXEC_CRED_H
#define DEVKIT_K8S_EXEC_CRED_H

#include <stddef.h>
#include <stdint.h>

typedef struct devkit__exec_cred {
	char *token;       /* secrets */
	char *cert_pem;
	char *key_pem;
	int64_t expires_ms; /* wall clock, ms since the epoch; 0: does not expire */
} devkit__exec_cred;

/* Parse the plugin's stdout. api_version: what the kubeconfig asked for (the
 * answer must be the same). Returns 0, or -1 with the reason in err. */
int devkit__exec_cred_parse(const char *out, size_t len, const char *api_version,
	devkit__exec_cred *c, char *err, size_t errcap);
void devkit__exec_cred_clear(devkit__exec_cred *c);


#endif
