/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers for the end-to-end tests of issue 4 (remote DNS and `devkit run`):
 * a cloud (tests/fixtures/cloud_fixture.h) per test, an engine made of the
 * library's parts (tunnel + remote DNS + router, the way devkit run puts them
 * together) and unmodified client programs (curl, python3, java) run with
 * the LD_PRELOAD shim. What is asserted is what a user sees: the program's
 * output and exit status.
 *
 * Nothing here queries the system resolver (the host's points off-box): the
 * remote DNS's upstream is a dead loopback port, and names outside the
 * cluster used by the tests are in /etc/hosts.
 */
#ifndef DEVKIT_RUN_TEST_H
#define DEVKIT_RUN_TEST_H

/* nftw() and FTW_DEPTH need the GNU/XSI feature macros before any system header. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <ftw.h>

#include "../tunnel/tunnel_test.h"
#include "cloud_fixture.h"
#include "devkit/dns.h"
#include "devkit/route.h"

/* The environment that devkit run gives the routed process (control.h). */
#define RT_SEARCH "default.svc.cluster.local,svc.cluster.local,cluster.local"
#define RT_CIDRS FX_CLOUD_SERVICE_IP "/32"

typedef struct rt_engine {
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	devkit_dns *dns;
	devkit_router *router;
	char control[256];
} rt_engine;

/* One cloud and one engine per test: each Criterion test is its own process. */
static fx_cloud rt_cloud;
static rt_engine rt_eng;
static char rt_dir[64];

/* Proxy variables would send curl/urllib elsewhere and hide what the shim does. */
static inline void rt_clean_env(void)
{
	static const char *vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "JAVA_TOOL_OPTIONS", "LD_PRELOAD", NULL };
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
}

static inline void rt_setup(void)
{
	rt_clean_env();
	snprintf(rt_dir, sizeof(rt_dir), "/tmp/devkit-e2e.XXXXXX");
	cr_assert_not_null(mkdtemp(rt_dir));
	cr_assert_eq(fx_cloud_start(&rt_cloud), 0, "the cloud did not start (see stderr)");
	/* Tests print where they ran, as the issue asks. */
	cr_log_info("%s", fx_cloud_describe(&rt_cloud));
	fprintf(stderr, "[run] %s\n", fx_cloud_describe(&rt_cloud));
}

static inline void rt_engine_stop(rt_engine *e)
{
	devkit_router_free(e->router);
	e->router = NULL;
	devkit_dns_free(e->dns);
	e->dns = NULL;
	devkit_tunnel_free(e->tunnel);
	e->tunnel = NULL;
	devkit_ctx_free(e->ctx);
	e->ctx = NULL;
}

static inline int rt_remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0; /* best effort: go on with the rest */
}

static inline void rt_teardown(void)
{
	rt_engine_stop(&rt_eng);
	fx_cloud_stop(&rt_cloud);
	if (rt_dir[0]) {
		/* Recursive: a devkit run that a test killed leaves its private
		 * control directory here (its TMPDIR is rt_dir). */
		nftw(rt_dir, rt_remove_one, 16, FTW_DEPTH | FTW_PHYS);
		rt_dir[0] = '\0';
	}
}

/* The engine of devkit run, from the library: tunnel to the cloud's bastion,
 * remote DNS (cluster names to the cluster DNS through the tunnel, other
 * names to a dead loopback port), router for the shim. */
static inline void rt_engine_start(rt_engine *e)
{
	memset(e, 0, sizeof(*e));
	e->ctx = tt_ctx_new();
	devkit_tunnel_options o;
	cr_assert_eq(devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION), 0);
	o.bastion = rt_cloud.bastion;
	o.identity_file = rt_cloud.identity;
	o.known_hosts_file = rt_cloud.known_hosts;
	o.use_agent = 0;
	o.connect_timeout_ms = TT_WAIT_MS;
	e->tunnel = tt_open(e->ctx, &o);

	devkit_dns_options d;
	cr_assert_eq(devkit_dns_options_init(&d, DEVKIT_DNS_OPTIONS_VERSION), 0);
	d.cluster_dns = rt_cloud.cluster_dns;
	d.upstream = tt_fmt("127.0.0.1:%d", fx_free_port());
	int rc = devkit_dns_start(&e->dns, e->tunnel, &d);
	cr_assert_eq(rc, 0, "devkit_dns_start: %d %s", rc, tt_errmsg());

	devkit_router_options r;
	cr_assert_eq(devkit_router_options_init(&r, DEVKIT_ROUTER_OPTIONS_VERSION), 0);
	r.dns = e->dns;
	rc = devkit_router_start(&e->router, e->tunnel, &r);
	cr_assert_eq(rc, 0, "devkit_router_start: %d %s", rc, tt_errmsg());
	snprintf(e->control, sizeof(e->control), "%s", devkit_router_control_path(e->router));
}

static inline devkit_router_stats rt_router_stats(rt_engine *e)
{
	devkit_router_stats st = DEVKIT_ROUTER_STATS_INIT;
	cr_assert_eq(devkit_router_get_stats(e->router, &st), 0);
	return st;
}

static inline const char *rt_preload_lib(void)
{
	const char *lib = getenv("DEVKIT_PRELOAD_LIB");
	if (!lib || access(lib, R_OK) != 0)
		cr_skip_test("DEVKIT_PRELOAD_LIB is not set: run through ctest");
	return lib;
}

/* The routed process's environment, as devkit run sets it. */
static inline const char *const *rt_env(const char *control)
{
	static char v[6][512];
	static const char *env[7];
	snprintf(v[0], sizeof(v[0]), "LD_PRELOAD=%s", rt_preload_lib());
	snprintf(v[1], sizeof(v[1]), "DEVKIT_CONTROL=%s", control);
	snprintf(v[2], sizeof(v[2]), "DEVKIT_ROUTE_DOMAINS=cluster.local");
	snprintf(v[3], sizeof(v[3]), "DEVKIT_SEARCH=" RT_SEARCH);
	snprintf(v[4], sizeof(v[4]), "DEVKIT_NDOTS=5");
	snprintf(v[5], sizeof(v[5]), "DEVKIT_ROUTE_CIDRS=" RT_CIDRS);
	for (int i = 0; i < 6; i++)
		env[i] = v[i];
	env[6] = NULL;
	return env;
}

/* Run a client with the shim; the result is the caller's to free. */
static inline void rt_run(const char *const argv[], const char *const env[], int timeout_ms,
	fx_run_result *r)
{
	cr_assert_eq(fx_run(argv, env, NULL, timeout_ms, r), 0, "cannot start %s", argv[0]);
	if (r->timed_out)
		cr_log_warn("%s timed out after %d ms; stderr: %s", argv[0], timeout_ms, r->err);
}

/* A python3 program, given as text, run with the shim; arg1/arg2 (may be
 * NULL) become sys.argv[1:]. */
static inline void rt_python(const char *src, const char *arg1, const char *arg2,
	const char *const env[], fx_run_result *r)
{
	const char *argv[] = { tt_python(), "-c", src, arg1, arg1 ? arg2 : NULL, NULL };
	rt_run(argv, env, 30000, r);
}

static inline const char *rt_itoa(int v)
{
	return tt_fmt("%d", v);
}

/* Write a Java single-file program into rt_dir; returns its path. */
static inline const char *rt_java_file(const char *cls, const char *src)
{
	const char *path = tt_fmt("%s/%s.java", rt_dir, cls);
	tt_write_file(path, src);
	return path;
}

static inline int rt_have_java(void)
{
	return access("/usr/bin/java", X_OK) == 0;
}

/* ---- the devkit CLI ------------------------------------------------------ */

static inline const char *rt_devkit(void)
{
	const char *b = getenv("DEVKIT_BUILD_DIR");
	return tt_fmt("%s/bin/devkit", b && *b ? b : "build");
}

/* Whether `devkit run --help` works (the subcommand may not exist yet). */
static inline int rt_have_cli_run(void)
{
	static int cached = -1;
	if (cached >= 0)
		return cached;
	const char *argv[] = { rt_devkit(), "run", "--help", NULL };
	fx_run_result r = { 0 };
	cached = access(rt_devkit(), X_OK) == 0 && fx_run(argv, NULL, NULL, 10000, &r) == 0 &&
		r.exit_code == 0 && strstr(r.out, "cluster-dns") != NULL;
	fx_run_result_free(&r);
	return cached;
}

static inline void rt_need_cli_run(void)
{
	if (!rt_have_cli_run())
		cr_skip_test("`devkit run` is not in this build yet (tools/devkit/cmd_run.c)");
}

/* argv for `devkit run <flags for this cloud> -- cmd...` (cmd NULL-terminated). */
static inline const char **rt_cli_argv(const char *const cmd[])
{
	static const char *argv[64];
	int n = 0;
	argv[n++] = rt_devkit();
	argv[n++] = "run";
	argv[n++] = "--bastion";
	argv[n++] = rt_cloud.bastion;
	argv[n++] = "--identity";
	argv[n++] = rt_cloud.identity;
	argv[n++] = "--known-hosts";
	argv[n++] = rt_cloud.known_hosts;
	argv[n++] = "--no-agent";
	argv[n++] = "--cluster-dns";
	argv[n++] = rt_cloud.cluster_dns;
	argv[n++] = "--route";
	argv[n++] = RT_CIDRS;
	argv[n++] = "--";
	for (int i = 0; cmd[i] && n < 63; i++)
		argv[n++] = cmd[i];
	argv[n] = NULL;
	return argv;
}

#endif
