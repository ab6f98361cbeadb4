/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The environment of the routed process (src/preload/control.h): our own
 * environment, minus any routing variables inherited from elsewhere (a
 * nested `devkit run`, a stale export), plus the shim in LD_PRELOAD and its
 * configuration, plus the proxy variables with --env-proxy.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* dladdr, dl_iterate_phdr */
#endif
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd_run.h"

extern char **environ;

#define SHIM_NAME "libdevkit_preload.so"

/* Variables we always decide: inherited values are dropped. */
static const char *const routing_vars[] = { "LD_PRELOAD", "DEVKIT_CONTROL", "DEVKIT_ROUTE_CIDRS",
	"DEVKIT_ROUTE_DOMAINS", "DEVKIT_SEARCH", "DEVKIT_NDOTS", NULL };
/* ... and with --env-proxy. */
static const char *const proxy_vars[] = { "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY",
	"http_proxy", "https_proxy", "all_proxy", "no_proxy", "JAVA_TOOL_OPTIONS", NULL };

static int is_one_of(const char *entry, const char *const *names)
{
	for (; *names; names++) {
		size_t n = strlen(*names);

		if (strncmp(entry, *names, n) == 0 && entry[n] == '=')
			return 1;
	}
	return 0;
}

struct lib_search {
	char path[PATH_MAX];
};

static int find_libdevkit(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct lib_search *s = arg;
	const char *base = info->dlpi_name ? strrchr(info->dlpi_name, '/') : NULL;

	(void)size;
	if (base && strncmp(base + 1, "libdevkit.so", 12) == 0) {
		snprintf(s->path, sizeof(s->path), "%s", info->dlpi_name);
		return 1;
	}
	return 0;
}

/*
 * The file the running libdevkit was loaded from. dladdr on one of its
 * functions answers that; but in a non-PIE executable the function's address
 * is the executable's own PLT stub, so fall back to walking the loaded objects.
 */
static int libdevkit_path(char *out, size_t size)
{
	struct lib_search s = { "" };
	Dl_info info;

	if (dladdr((void *)devkit_version, &info) && info.dli_fname
		&& strstr(info.dli_fname, "libdevkit"))
		snprintf(s.path, sizeof(s.path), "%s", info.dli_fname);
	else
		dl_iterate_phdr(find_libdevkit, &s);
	if (!s.path[0] || !realpath(s.path, out))
		return -1;
	(void)size;
	return 0;
}

/* The shim's absolute path into t->preload. 0, or 1 after saying why. */
static int find_shim(struct run_cli *t)
{
	const char *over = getenv("DEVKIT_PRELOAD_LIB");
	char lib[PATH_MAX], *slash;

	if (over && *over) {
		/* The loader resolves a relative LD_PRELOAD against the child's
		 * working directory, which CMD may change: make it absolute. */
		if (!realpath(over, lib) || access(lib, R_OK) != 0) {
			cli_errorf("DEVKIT_PRELOAD_LIB=%s: cannot read the shim", over);
			return CLI_EXIT_FAILURE;
		}
		snprintf(t->preload, sizeof(t->preload), "%s", lib);
	} else {
		if (libdevkit_path(lib, sizeof(lib)) != 0) {
			cli_errorf("cannot tell where libdevkit was loaded from, to find %s next to it; "
				"set DEVKIT_PRELOAD_LIB to its path", SHIM_NAME);
			return CLI_EXIT_FAILURE;
		}
		slash = strrchr(lib, '/');
		*slash = '\0';
		if (strlen(lib) + sizeof("/" SHIM_NAME) > sizeof(t->preload)) {
			cli_errorf("the path of libdevkit's directory is too long");
			return CLI_EXIT_FAILURE;
		}
		memcpy(t->preload, lib, strlen(lib));
		memcpy(t->preload + strlen(lib), "/" SHIM_NAME, sizeof("/" SHIM_NAME));
		if (access(t->preload, R_OK) != 0) {
			cli_errorf("the LD_PRELOAD shim %s is missing (it is installed next to "
				"libdevkit); set DEVKIT_PRELOAD_LIB to its path", t->preload);
			return CLI_EXIT_FAILURE;
		}
	}
	/* LD_PRELOAD separates entries with spaces and colons. */
	if (strpbrk(t->preload, " :\t")) {
		cli_errorf("the shim's path '%s' contains a space or ':', which LD_PRELOAD "
			"cannot carry; set DEVKIT_PRELOAD_LIB to a path without them", t->preload);
		return CLI_EXIT_FAILURE;
	}
	return 0;
}

/* Add "NAME=value" (formatted) to the environment being built. */
static int add_var(struct run_cli *t, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int add_var(struct run_cli *t, size_t *n, const char *fmt, ...)
{
	char *entry;
	va_list ap;
	int len;

	if (t->n_env_owned >= sizeof(t->env_owned) / sizeof(t->env_owned[0]))
		return -1;
	va_start(ap, fmt);
	len = vasprintf(&entry, fmt, ap);
	va_end(ap);
	if (len < 0)
		return -1;
	t->env_owned[t->n_env_owned++] = entry;
	t->envp[(*n)++] = entry;
	return 0;
}

static int add_proxy_vars(struct run_cli *t, size_t *n)
{
	const char *java = getenv("JAVA_TOOL_OPTIONS");
	const char *h = t->proxy_address;
	char hp[CLI_HOST_MAX + 16];
	int p = t->proxy_port;

	cli_format_hostport(hp, sizeof(hp), h, p);
	/* One port speaks SOCKS5 and HTTP (CONNECT and absolute URIs). socks5h:
	 * names are resolved on the bastion's side, so cluster names work. */
	if (add_var(t, n, "HTTP_PROXY=http://%s", hp) || add_var(t, n, "http_proxy=http://%s", hp)
		|| add_var(t, n, "HTTPS_PROXY=http://%s", hp)
		|| add_var(t, n, "https_proxy=http://%s", hp)
		|| add_var(t, n, "ALL_PROXY=socks5h://%s", hp)
		|| add_var(t, n, "all_proxy=socks5h://%s", hp)
		|| add_var(t, n, "NO_PROXY=localhost,127.0.0.1,::1")
		|| add_var(t, n, "no_proxy=localhost,127.0.0.1,::1"))
		return -1;
	/* Appended, so the user's own JVM options still apply. */
	return add_var(t, n, "JAVA_TOOL_OPTIONS=%s%s-DsocksProxyHost=%s -DsocksProxyPort=%d "
		"-Dhttp.proxyHost=%s -Dhttp.proxyPort=%d -Dhttps.proxyHost=%s -Dhttps.proxyPort=%d",
		java ? java : "", java && *java ? " " : "", h, p, h, p, h, p);
}

int run_build_env(struct run_cli *t)
{
	const char *old_preload = getenv("LD_PRELOAD");
	size_t count = 0, n = 0;
	int rc;

	if ((rc = find_shim(t)) != 0)
		return rc;
	for (char **e = environ; *e; e++)
		count++;
	t->envp = calloc(count + sizeof(t->env_owned) / sizeof(t->env_owned[0]) + 1,
		sizeof(*t->envp));
	if (!t->envp)
		goto oom;
	for (char **e = environ; *e; e++) {
		if (is_one_of(*e, routing_vars) || (t->env_proxy && is_one_of(*e, proxy_vars)))
			continue;
		t->envp[n++] = *e;
	}
	/* Prepended: the shim must see connect() before any other preload does. */
	if (add_var(t, &n, "LD_PRELOAD=%s%s%s", t->preload, old_preload && *old_preload ? ":" : "",
		old_preload ? old_preload : "")
		|| add_var(t, &n, "DEVKIT_CONTROL=%s", run_control_path(t)))
		goto oom;
	if (t->cidrs && add_var(t, &n, "DEVKIT_ROUTE_CIDRS=%s", t->cidrs))
		goto oom;
	/* With --control, whether that tunnel resolves names is its business:
	 * the names are always handed to it, never to the system resolver. */
	if ((t->dns || t->control) && (add_var(t, &n, "DEVKIT_ROUTE_DOMAINS=%s", t->cluster.domains)
		|| add_var(t, &n, "DEVKIT_SEARCH=%s", cli_cluster_search(&t->cluster))
		|| add_var(t, &n, "DEVKIT_NDOTS=%d", CLI_NDOTS)))
		goto oom;
	if (t->env_proxy && add_proxy_vars(t, &n) != 0)
		goto oom;
	t->envp[n] = NULL;
	return 0;
oom:
	cli_errorf("out of memory");
	return CLI_EXIT_FAILURE;
}

void run_free_env(struct run_cli *t)
{
	for (size_t i = 0; i < t->n_env_owned; i++)
		free(t->env_owned[i]);
	t->n_env_owned = 0;
	free(t->envp);
	t->envp = NULL;
}
