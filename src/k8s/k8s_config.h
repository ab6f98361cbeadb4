/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a client needs to talk to one API server, resolved from kubeconfig
 * files (a context, its cluster and user) or from the in-cluster service
 * account. Made on the caller's thread by devkit_k8s_open (file reads are
 * fine there), read-only afterwards.
 */
#ifndef DEVKIT_K8S_CONFIG_H
#define DEVKIT_K8S_CONFIG_H

#include "devkit/k8s.h"

/* An exec credential plugin (client.authentication.k8s.io). */
typedef struct devkit__k8s_exec {
	char *api_version;   /* client.authentication.k8s.io/v1 or v1beta1 */
	char **argv;         /* command (resolved as kubectl does) and args, NULL-terminated */
	char **env;          /* "NAME=value" added to our environment, NULL-terminated */
	char *exec_info;     /* KUBERNETES_EXEC_INFO: the ExecCredential spec as JSON */
	char *install_hint;  /* the kubeconfig's installHint, or NULL */
} devkit__k8s_exec;

typedef struct devkit__k8s_config {
	/* Where the credentials come from, for messages: "user \"dev\" of context
	 * \"prod\" (kubeconfig /home/dev/.kube/config)" or "the service account
	 * (in-cluster, /var/run/secrets/kubernetes.io/serviceaccount)". */
	char *who;
	char *context;          /* "" in-cluster */
	char *namespace_name;
	char *server;           /* "https://host:port[/prefix]", no trailing '/' */
	char *tls_server_name;  /* NULL: the server's host */
	int insecure;           /* insecure-skip-tls-verify */
	char *ca_pem;           /* NULL: the system's CAs */
	/* Secrets: never logged, never in a message. */
	char *cert_pem;
	char *key_pem;
	char *token;
	char *token_file;       /* re-read while the client lives (rotating tokens) */
	devkit__k8s_exec *exec;
} devkit__k8s_config;

/* Find the configuration as kubectl does: opts->kubeconfig, else $KUBECONFIG,
 * else ~/.kube/config, else the in-cluster service account. Returns 0 or a
 * DEVKIT_E* code with a message naming the file, context, user or cluster
 * and what is wrong. */
int devkit__k8s_config_load(devkit__k8s_config *c, const devkit_k8s_options *opts);
void devkit__k8s_config_clear(devkit__k8s_config *c);

/* From merged kubeconfig files (kubeconfig.h) and a context name (NULL: the
 * current context). */
struct devkit__kcfg;
int devkit__k8s_config_from_kcfg(devkit__k8s_config *c, struct devkit__kcfg *k,
	const char *context);

/* In-cluster: $KUBERNETES_SERVICE_HOST/PORT and the service account files in
 * `sa_dir` (token, ca.crt, namespace). Returns DEVKIT_ENOTFOUND when not in a
 * cluster (no KUBERNETES_SERVICE_HOST). */
int devkit__k8s_config_in_cluster(devkit__k8s_config *c, const char *sa_dir);

/* The service account directory: $DEVKIT_K8S_SA_DIR (tests), else
 * /var/run/secrets/kubernetes.io/serviceaccount. */
const char *devkit__k8s_sa_dir(void);

/* Duplicate with a formatted "who": a helper for the loaders. */
char *devkit__k8s_strdup_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
