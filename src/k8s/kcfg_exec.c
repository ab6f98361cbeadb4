/* SPDX-License-Identifier: Apache-2.0 */
#include "kcfg_exec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/error.h"
#include "k8s_file.h"

#define API_V1 "client.authentication.k8s.io/v1"
#define API_V1BETA1 "client.authentication.k8s.io/v1beta1"

void devkit__k8s_exec_free(devkit__k8s_exec *e)
{
	if (!e)
		return;
	free(e->api_version);
	for (char **p = e->argv; p && *p; p++)
		free(*p);
	free(e->argv);
	for (char **p = e->env; p && *p; p++)
		free(*p);
	free(e->env);
	free(e->exec_info);
	free(e->install_hint);
	free(e);
}

static int enomem(void)
{
	return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
}

/* kubectl resolves the command against the kubeconfig's directory only when
 * it is a path ("./bin/plugin"), not a bare name looked up in PATH. */
static int read_argv(const devkit__kwhere *w, json_t *exec, devkit__k8s_exec *e)
{
	const char *command;
	json_t *args;
	int rc;
	if ((rc = devkit__kw_str(w, exec, "command", &command)) != 0 ||
		(rc = devkit__kw_str_list(w, exec, "args", &args)) != 0)
		return rc;
	if (!command)
		return devkit__kw_fail(w, DEVKIT_EINVAL, "exec: command is missing");
	size_t n = json_array_size(args);
	e->argv = calloc(n + 2, sizeof(char *));
	if (!e->argv)
		return enomem();
	e->argv[0] = strchr(command, '/') ? devkit__k8s_resolve_path(w->file, command)
		: strdup(command);
	if (!e->argv[0])
		return enomem();
	for (size_t i = 0; i < n; i++)
		if (!(e->argv[i + 1] = strdup(json_string_value(json_array_get(args, i)))))
			return enomem();
	return 0;
}

static int read_env(const devkit__kwhere *w, json_t *exec, devkit__k8s_exec *e)
{
	json_t *env = json_object_get(exec, "env");
	if (env && !json_is_null(env) && !json_is_array(env))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "exec: env is not a list");
	size_t n = json_array_size(env);
	e->env = calloc(n + 1, sizeof(char *));
	if (!e->env)
		return enomem();
	for (size_t i = 0; i < n; i++) {
		json_t *item = json_array_get(env, i);
		json_t *name = json_object_get(item, "name"), *value = json_object_get(item, "value");
		if (!json_is_string(name) || !json_string_length(name) ||
			strchr(json_string_value(name), '='))
			return devkit__kw_fail(w, DEVKIT_EINVAL, "exec: env item %zu has no valid name",
				i + 1);
		if (value && !json_is_null(value) && !json_is_string(value))
			return devkit__kw_fail(w, DEVKIT_EINVAL, "exec: env %s: value is not a string",
				json_string_value(name));
		e->env[i] = devkit__k8s_strdup_printf("%s=%s", json_string_value(name),
			json_is_string(value) ? json_string_value(value) : "");
		if (!e->env[i])
			return enomem();
	}
	return 0;
}

/* The "cluster" of KUBERNETES_EXEC_INFO (client-go's exec.Cluster). */
static json_t *cluster_info(json_t *cluster, const devkit__k8s_config *c)
{
	json_t *info = json_pack("{s:s}", "server", c->server);
	if (!info)
		return NULL;
	if (c->tls_server_name)
		json_object_set_new(info, "tls-server-name", json_string(c->tls_server_name));
	if (c->insecure)
		json_object_set_new(info, "insecure-skip-tls-verify", json_true());
	if (c->ca_pem) {
		size_t len = strlen(c->ca_pem), cap = (len + 2) / 3 * 4 + 1;
		char *b64 = malloc(cap);
		if (!b64 || devkit__base64_encode(c->ca_pem, len, b64, cap, 1) < 0) {
			free(b64);
			json_decref(info);
			return NULL;
		}
		json_object_set_new(info, "certificate-authority-data", json_string(b64));
		free(b64);
	}
	/* The cluster's extension named client.authentication.k8s.io/exec is the
	 * plugin's own per-cluster configuration. */
	json_t *exts = json_object_get(cluster, "extensions");
	size_t i;
	json_t *ext;
	json_array_foreach(exts, i, ext) {
		json_t *name = json_object_get(ext, "name");
		if (json_is_string(name) &&
			strcmp(json_string_value(name), "client.authentication.k8s.io/exec") == 0)
			json_object_set(info, "config", json_object_get(ext, "extension"));
	}
	return info;
}

static int make_exec_info(const devkit__kwhere *w, json_t *exec, json_t *cluster,
	const devkit__k8s_config *c, devkit__k8s_exec *e)
{
	int provide;
	int rc = devkit__kw_bool(w, exec, "provideClusterInfo", &provide);
	if (rc != 0)
		return rc;
	/* libdevkit never hands a plugin a terminal: interactive is always false. */
	json_t *spec = json_pack("{s:b}", "interactive", 0);
	json_t *info = spec ? json_pack("{s:s, s:s, s:o}", "kind", "ExecCredential", "apiVersion",
		e->api_version, "spec", spec) : NULL;
	if (!info)
		return enomem();
	if (provide) {
		json_t *ci = cluster_info(cluster, c);
		if (!ci) {
			json_decref(info);
			return enomem();
		}
		json_object_set_new(spec, "cluster", ci);
	}
	e->exec_info = json_dumps(info, JSON_COMPACT);
	json_decref(info);
	return e->exec_info ? 0 : enomem();
}

int devkit__kcfg_exec(const devkit__kwhere *w, json_t *exec, json_t *cluster,
	const devkit__k8s_config *c, devkit__k8s_exec **out)
{
	*out = NULL;
	if (!json_is_object(exec))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "exec is not a map");
	const char *api, *mode, *hint;
	int rc;
	if ((rc = devkit__kw_str(w, exec, "apiVersion", &api)) != 0 ||
		(rc = devkit__kw_str(w, exec, "interactiveMode", &mode)) != 0 ||
		(rc = devkit__kw_str(w, exec, "installHint", &hint)) != 0)
		return rc;
	if (!api)
		return devkit__kw_fail(w, DEVKIT_EINVAL, "exec: apiVersion is missing (use %s)", API_V1);
	if (strcmp(api, API_V1) != 0 && strcmp(api, API_V1BETA1) != 0)
		return devkit__kw_fail(w, DEVKIT_EUNSUPPORTED,
			"exec: apiVersion \"%s\" is not supported (%s or %s)", api, API_V1, API_V1BETA1);
	/* client-go requires the mode from v1 on; v1beta1 defaults to IfAvailable. */
	if (!mode && strcmp(api, API_V1) == 0)
		return devkit__kw_fail(w, DEVKIT_EINVAL,
			"exec: interactiveMode is required with %s (Never, IfAvailable or Always)", API_V1);
	if (mode && strcmp(mode, "Never") != 0 && strcmp(mode, "IfAvailable") != 0) {
		if (strcmp(mode, "Always") == 0)
			return devkit__kw_fail(w, DEVKIT_EUNSUPPORTED,
				"exec: interactiveMode Always needs a terminal, and libdevkit never gives a "
				"plugin one (log in with the plugin first, then use Never or IfAvailable)");
		return devkit__kw_fail(w, DEVKIT_EINVAL,
			"exec: interactiveMode \"%s\" is not Never, IfAvailable or Always", mode);
	}
	devkit__k8s_exec *e = calloc(1, sizeof(*e));
	if (!e)
		return enomem();
	if (!(e->api_version = strdup(api)) || (hint && !(e->install_hint = strdup(hint)))) {
		devkit__k8s_exec_free(e);
		return enomem();
	}
	if ((rc = read_argv(w, exec, e)) != 0 || (rc = read_env(w, exec, e)) != 0 ||
		(rc = make_exec_info(w, exec, cluster, c, e)) != 0) {
		devkit__k8s_exec_free(e);
		return rc;
	}
	*out = e;
	return 0;
}
