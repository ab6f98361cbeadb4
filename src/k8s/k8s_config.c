/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where the configuration comes from, in kubectl's order: the kubeconfig
 * option, $KUBECONFIG, ~/.kube/config, and last the in-cluster service
 * account. See docs/k8s.md.
 */
#include "k8s_config.h"

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "kcfg_exec.h"
#include "k8s_file.h"
#include "kubeconfig.h"
#include "tls_pem.h"

#define SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

char *devkit__k8s_strdup_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *out = NULL;
	if (vasprintf(&out, fmt, ap) < 0)
		out = NULL;
	va_end(ap);
	return out;
}

const char *devkit__k8s_sa_dir(void)
{
	const char *dir = getenv("DEVKIT_K8S_SA_DIR");
	return dir && *dir ? dir : SA_DIR;
}

void devkit__k8s_config_clear(devkit__k8s_config *c)
{
	free(c->who);
	free(c->context);
	free(c->namespace_name);
	free(c->server);
	free(c->tls_server_name);
	free(c->ca_pem);
	devkit__secret_free(c->cert_pem);
	devkit__secret_free(c->key_pem);
	devkit__secret_free(c->token);
	free(c->token_file);
	devkit__k8s_exec_free(c->exec);
	memset(c, 0, sizeof(*c));
}

/* The first line of a small file, trimmed; NULL when unreadable or empty. */
static char *read_trimmed(const char *path, int *err)
{
	char *text;
	size_t len;
	*err = devkit__k8s_read_file(path, &text, &len);
	if (*err)
		return NULL;
	char *start = text;
	while (*start == ' ' || *start == '\t' || *start == '\n' || *start == '\r')
		start++;
	size_t n = strcspn(start, "\r\n");
	while (n > 0 && (start[n - 1] == ' ' || start[n - 1] == '\t'))
		n--;
	char *out = n ? strndup(start, n) : NULL;
	devkit__secret_free(text);
	return out;
}

int devkit__k8s_config_in_cluster(devkit__k8s_config *c, const char *sa_dir)
{
	memset(c, 0, sizeof(*c));
	const char *host = getenv("KUBERNETES_SERVICE_HOST");
	const char *port = getenv("KUBERNETES_SERVICE_PORT");
	if (!host || !*host)
		return devkit__error_set(DEVKIT_ENOTFOUND,
			"not in a cluster: KUBERNETES_SERVICE_HOST is not set");
	if (!port || !*port)
		return devkit__error_set(DEVKIT_EINVAL,
			"in-cluster: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not");
	int v6 = strchr(host, ':') != NULL;
	c->server = devkit__k8s_strdup_printf("https://%s%s%s:%s", v6 ? "[" : "", host,
		v6 ? "]" : "", port);
	c->token_file = devkit__k8s_strdup_printf("%s/token", sa_dir);
	char *ca_path = devkit__k8s_strdup_printf("%s/ca.crt", sa_dir);
	char *ns_path = devkit__k8s_strdup_printf("%s/namespace", sa_dir);
	c->who = devkit__k8s_strdup_printf("the service account (in-cluster, %s)", sa_dir);
	c->context = strdup("");
	int rc = 0, e;
	if (!c->server || !c->token_file || !ca_path || !ns_path || !c->who || !c->context) {
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		goto out;
	}
	char *token = read_trimmed(c->token_file, &e);
	if (!token) {
		rc = devkit__error_set(e == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EINVAL,
			"in-cluster service account %s: token: %s", sa_dir,
			e ? strerror(e) : "the file is empty");
		goto out;
	}
	devkit__secret_free(token); /* re-read by the client: the token rotates */
	size_t len;
	e = devkit__k8s_read_file(ca_path, &c->ca_pem, &len);
	char why[160];
	if (e) {
		rc = devkit__error_set(e == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EIO,
			"in-cluster service account %s: ca.crt: %s", sa_dir, strerror(e));
		goto out;
	}
	if (devkit__pem_check_certs(c->ca_pem, why, sizeof(why)) != 0) {
		rc = devkit__error_set(DEVKIT_EINVAL, "in-cluster service account %s: ca.crt %s",
			sa_dir, why);
		goto out;
	}
	c->namespace_name = read_trimmed(ns_path, &e);
	if (!c->namespace_name && !(c->namespace_name = strdup("default")))
		rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
out:
	free(ca_path);
	free(ns_path);
	if (rc != 0)
		devkit__k8s_config_clear(c);
	return rc;
}

static char *home_config(void)
{
	const char *home = getenv("HOME");
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw ? pw->pw_dir : NULL;
	}
	return home ? devkit__k8s_strdup_printf("%s/.kube/config", home) : NULL;
}

/* `origin`: where the list of files came from, added to a failure to read
 * them ("$KUBECONFIG": the user may not know it is set). */
static int from_files(devkit__k8s_config *c, const char *paths, int must_exist,
	const char *context, const char *origin)
{
	devkit__kcfg k;
	int rc = devkit__kcfg_load(&k, paths, must_exist);
	if (rc != 0) {
		const devkit_error *e = devkit_error_last();
		if (origin && e) {
			char msg[1024];
			snprintf(msg, sizeof(msg), "%s (from %s)", e->message, origin);
			devkit__error_set_str(rc, msg);
		}
		return rc;
	}
	rc = devkit__k8s_config_from_kcfg(c, &k, context);
	devkit__kcfg_clear(&k);
	return rc;
}

static int discover(devkit__k8s_config *c, const devkit_k8s_options *o)
{
	if (o->kubeconfig && *o->kubeconfig)
		return from_files(c, o->kubeconfig, 1, o->context, NULL);
	const char *env = getenv("KUBECONFIG");
	if (env && *env)
		return from_files(c, env, 0, o->context, "$KUBECONFIG");
	char *home = home_config();
	struct stat st;
	if (home && stat(home, &st) == 0) {
		int rc = from_files(c, home, 1, o->context, NULL);
		free(home);
		return rc;
	}
	const char *sa_dir = devkit__k8s_sa_dir();
	int rc = devkit__k8s_config_in_cluster(c, sa_dir);
	if (rc == DEVKIT_ENOTFOUND && !getenv("KUBERNETES_SERVICE_HOST"))
		rc = devkit__error_set(DEVKIT_ENOTFOUND,
			"no Kubernetes configuration: $KUBECONFIG is not set, %s does not exist, and this "
			"is not a Pod in a cluster (KUBERNETES_SERVICE_HOST is not set)",
			home ? home : "~/.kube/config");
	else if (rc == 0 && o->context && *o->context) {
		devkit__k8s_config_clear(c);
		rc = devkit__error_set(DEVKIT_ENOTFOUND,
			"context \"%s\" given, but there is no kubeconfig (%s does not exist) and the "
			"in-cluster service account has no contexts", o->context,
			home ? home : "~/.kube/config");
	}
	free(home);
	return rc;
}

int devkit__k8s_config_load(devkit__k8s_config *c, const devkit_k8s_options *o)
{
	memset(c, 0, sizeof(*c));
	int rc = discover(c, o);
	if (rc != 0)
		return rc;
	if (o->namespace_name && *o->namespace_name) {
		char *ns = strdup(o->namespace_name);
		if (!ns) {
			devkit__k8s_config_clear(c);
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		}
		free(c->namespace_name);
		c->namespace_name = ns;
	}
	return 0;
}
