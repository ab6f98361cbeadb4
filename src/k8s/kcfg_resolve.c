/* SPDX-License-Identifier: Apache-2.0 */
/*
 * From merged kubeconfig files to one client configuration: the context, its
 * cluster (server, TLS) and its user (credentials), with kubectl's rules and
 * an error for every field that is missing, malformed or not supported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/error.h"
#include "kcfg_exec.h"
#include "kcfg_fields.h"
#include "k8s_config.h"
#include "kubeconfig.h"
#include "tls_pem.h"

static int enomem(void)
{
	return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
}

/* "https://h:6443/" -> "https://h:6443"; "h:6443" -> "https://h:6443" as
 * client-go does for a server without a scheme. */
static int set_server(const devkit__kwhere *w, devkit__k8s_config *c, const char *server)
{
	for (const char *p = server; *p; p++)
		if ((unsigned char)*p <= ' ')
			return devkit__kw_fail(w, DEVKIT_EINVAL, "server \"%s\" contains white space",
				server);
	const char *sep = strstr(server, "://");
	if (sep && !(strncasecmp(server, "https://", 8) == 0 || strncasecmp(server, "http://", 7) == 0))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "server \"%s\" is not an http or https URL",
			server);
	c->server = sep ? strdup(server) : devkit__k8s_strdup_printf("https://%s", server);
	if (!c->server)
		return enomem();
	const char *host = strstr(c->server, "://") + 3;
	if (!*host || *host == '/' || *host == ':')
		return devkit__kw_fail(w, DEVKIT_EINVAL, "server \"%s\" has no host", server);
	size_t len = strlen(c->server);
	while (len > 0 && c->server[len - 1] == '/')
		c->server[--len] = '\0';
	return 0;
}

static int check_pem(const devkit__kwhere *w, const char *field, const char *path,
	const char *pem, int key)
{
	char why[160];
	int bad = key ? devkit__pem_check_key(pem, why, sizeof(why))
		: devkit__pem_check_certs(pem, why, sizeof(why));
	if (bad)
		return devkit__kw_fail(w, DEVKIT_EINVAL, "%s%s%s %s", field, path ? " " : "",
			path ? path : "", why);
	return 0;
}

/* A PEM value given either inline (`data_key`, base64) or as a file. */
static int pem_field(const devkit__kwhere *w, json_t *v, const char *file_key,
	const char *data_key, int key, char **out)
{
	char *data = NULL, *path = NULL, *contents = NULL;
	int rc;
	if ((rc = devkit__kw_base64(w, v, data_key, &data)) != 0)
		return rc;
	if ((rc = devkit__kw_file(w, v, file_key, &path, &contents)) != 0) {
		devkit__secret_free(data);
		return rc;
	}
	if (data && path) /* kubectl refuses this too */
		rc = devkit__kw_fail(w, DEVKIT_EINVAL, "both %s and %s are set: keep one", file_key,
			data_key);
	else if (data)
		rc = check_pem(w, data_key, NULL, data, key);
	else if (path)
		rc = check_pem(w, file_key, path, contents, key);
	free(path);
	if (rc != 0) {
		devkit__secret_free(data);
		devkit__secret_free(contents);
		return rc;
	}
	*out = data ? data : contents;
	return 0;
}

static int resolve_cluster(devkit__k8s_config *c, json_t *entry, const char *name,
	const char *context)
{
	devkit__kwhere w = { json_string_value(json_object_get(entry, "file")), "cluster", name,
		context };
	json_t *v = json_object_get(entry, "value");
	if (!json_is_object(v))
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "server is missing (the entry is empty)");
	const char *server, *tls_name, *proxy;
	int rc;
	if ((rc = devkit__kw_str(&w, v, "server", &server)) != 0 ||
		(rc = devkit__kw_str(&w, v, "tls-server-name", &tls_name)) != 0 ||
		(rc = devkit__kw_str(&w, v, "proxy-url", &proxy)) != 0 ||
		(rc = devkit__kw_bool(&w, v, "insecure-skip-tls-verify", &c->insecure)) != 0)
		return rc;
	if (!server)
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "server is missing");
	if (proxy)
		return devkit__kw_fail(&w, DEVKIT_EUNSUPPORTED,
			"proxy-url is not supported (reach the server directly, or through a tunnel "
			"forward with the connect_to option)");
	if ((rc = set_server(&w, c, server)) != 0)
		return rc;
	if (tls_name && !(c->tls_server_name = strdup(tls_name)))
		return enomem();
	if ((rc = pem_field(&w, v, "certificate-authority", "certificate-authority-data", 0,
		&c->ca_pem)) != 0)
		return rc;
	if (c->ca_pem && c->insecure)
		return devkit__kw_fail(&w, DEVKIT_EINVAL,
			"insecure-skip-tls-verify is set together with a certificate authority: keep one");
	return 0;
}

/* Bearer tokens go into a header: a line break in one would add headers. */
static int check_token(const devkit__kwhere *w, const char *field, const char *token)
{
	for (const char *p = token; *p; p++)
		if ((unsigned char)*p < ' ' || *p == 0x7f)
			return devkit__kw_fail(w, DEVKIT_EINVAL, "%s contains a control character", field);
	return 0;
}

static int unsupported_user_fields(const devkit__kwhere *w, json_t *v)
{
	json_t *ap = json_object_get(v, "auth-provider");
	if (ap && !json_is_null(ap)) {
		json_t *name = json_object_get(ap, "name");
		return devkit__kw_fail(w, DEVKIT_EUNSUPPORTED,
			"auth-provider%s%s%s is not supported (kubectl removed auth providers in 1.26: "
			"use the provider's exec plugin, e.g. gke-gcloud-auth-plugin or kubelogin)",
			json_is_string(name) ? " \"" : "", json_is_string(name) ? json_string_value(name) : "",
			json_is_string(name) ? "\"" : "");
	}
	if (json_object_get(v, "username") || json_object_get(v, "password"))
		return devkit__kw_fail(w, DEVKIT_EUNSUPPORTED,
			"username/password (basic authentication) is not supported: Kubernetes removed "
			"it in 1.19");
	static const char *const impersonation[] = { "as", "as-uid", "as-groups", "as-user-extra",
		NULL };
	for (const char *const *k = impersonation; *k; k++) {
		json_t *f = json_object_get(v, *k);
		if (f && !json_is_null(f))
			return devkit__kw_fail(w, DEVKIT_EUNSUPPORTED,
				"%s (impersonation) is not supported", *k);
	}
	return 0;
}

static int resolve_user(devkit__k8s_config *c, json_t *entry, const char *name,
	const char *context, json_t *cluster)
{
	devkit__kwhere w = { json_string_value(json_object_get(entry, "file")), "user", name,
		context };
	json_t *v = json_object_get(entry, "value");
	if (!v || json_is_null(v))
		return 0; /* no credentials: anonymous requests */
	if (!json_is_object(v))
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "the entry is not a map");
	int rc;
	if ((rc = unsupported_user_fields(&w, v)) != 0)
		return rc;
	const char *token;
	char *token_file = NULL, *token_text = NULL;
	if ((rc = devkit__kw_str(&w, v, "token", &token)) != 0 ||
		(rc = devkit__kw_file(&w, v, "tokenFile", &token_file, &token_text)) != 0)
		return rc;
	/* Read now only to report a missing file early; the client re-reads it
	 * (bound service account tokens rotate). */
	devkit__secret_free(token_text);
	c->token_file = token_file;
	if (token && ((rc = check_token(&w, "token", token)) != 0 || !(c->token = strdup(token))))
		return rc ? rc : enomem();
	if ((rc = pem_field(&w, v, "client-certificate", "client-certificate-data", 0,
		&c->cert_pem)) != 0 ||
		(rc = pem_field(&w, v, "client-key", "client-key-data", 1, &c->key_pem)) != 0)
		return rc;
	if (!c->cert_pem != !c->key_pem)
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "%s is set without %s",
			c->cert_pem ? "client-certificate" : "client-key",
			c->cert_pem ? "client-key" : "client-certificate");
	char why[160];
	if (c->cert_pem && devkit__pem_check_pair(c->cert_pem, c->key_pem, why, sizeof(why)) != 0)
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "%s", why);
	json_t *exec = json_object_get(v, "exec");
	if (exec && !json_is_null(exec))
		return devkit__kcfg_exec(&w, exec, cluster, c, &c->exec);
	return 0;
}

int devkit__k8s_config_from_kcfg(devkit__k8s_config *c, devkit__kcfg *k, const char *context)
{
	memset(c, 0, sizeof(*c));
	char names[512];
	const char *name = context && *context ? context : k->current_context;
	if (!name) {
		devkit__kcfg_names(k->contexts, names, sizeof(names));
		return devkit__error_set(DEVKIT_EINVAL,
			"kubeconfig %s: no context given and current-context is not set (contexts: %s)",
			k->files, names);
	}
	json_t *ce = json_object_get(k->contexts, name);
	if (!ce) {
		devkit__kcfg_names(k->contexts, names, sizeof(names));
		int current = !(context && *context);
		return devkit__error_set(DEVKIT_ENOTFOUND,
			"kubeconfig %s: %scontext \"%s\" not found (contexts: %s)",
			current ? k->current_context_file : k->files, current ? "current-" : "", name,
			names);
	}
	devkit__kwhere w = { json_string_value(json_object_get(ce, "file")), NULL, NULL, name };
	json_t *v = json_object_get(ce, "value");
	if (!json_is_object(v))
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "cluster is missing (the entry is empty)");
	const char *cluster, *user, *ns;
	int rc;
	if ((rc = devkit__kw_str(&w, v, "cluster", &cluster)) != 0 ||
		(rc = devkit__kw_str(&w, v, "user", &user)) != 0 ||
		(rc = devkit__kw_str(&w, v, "namespace", &ns)) != 0)
		return rc;
	if (!cluster)
		return devkit__kw_fail(&w, DEVKIT_EINVAL, "cluster is missing");
	json_t *cle = json_object_get(k->clusters, cluster);
	if (!cle) {
		devkit__kcfg_names(k->clusters, names, sizeof(names));
		return devkit__kw_fail(&w, DEVKIT_ENOTFOUND, "cluster \"%s\" not found (clusters: %s)",
			cluster, names);
	}
	json_t *ue = user ? json_object_get(k->users, user) : NULL;
	if (user && !ue) {
		devkit__kcfg_names(k->users, names, sizeof(names));
		return devkit__kw_fail(&w, DEVKIT_ENOTFOUND, "user \"%s\" not found (users: %s)", user,
			names);
	}
	if ((rc = resolve_cluster(c, cle, cluster, name)) != 0 ||
		(ue && (rc = resolve_user(c, ue, user, name, json_object_get(cle, "value"))) != 0)) {
		devkit__k8s_config_clear(c);
		return rc;
	}
	c->context = strdup(name);
	c->namespace_name = strdup(ns ? ns : "default");
	c->who = user ? devkit__k8s_strdup_printf("user \"%s\" of context \"%s\" (kubeconfig %s)",
			user, name, json_string_value(json_object_get(ue, "file")))
		: devkit__k8s_strdup_printf("context \"%s\" (kubeconfig %s, no user)", name, w.file);
	if (!c->context || !c->namespace_name || !c->who) {
		devkit__k8s_config_clear(c);
		return enomem();
	}
	return 0;
}
