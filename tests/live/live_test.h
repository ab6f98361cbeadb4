/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the live-workflow tests: the Kubernetes API fixture with a
 * replica Pod whose keep-alive really runs (replica_sandbox.h), and a
 * client for it. Each test file defines its own suite with lt_setup /
 * lt_teardown and calls lt_start() with the app command it needs.
 */
#ifndef DEVKIT_TEST_LIVE_TEST_H
#define DEVKIT_TEST_LIVE_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* asprintf */
#endif
#include <signal.h>

#include "../k8s/k8s_test.h"
#include "k8s_fixture.h"
#include "replica_sandbox.h"

#define LT_NS FX_K8S_NAMESPACE
#define LT_POD "web-dev"
#define LT_CONTAINER "app"

static fx_daemon lt_api;
static fx_replica lt_replica;
static devkit_ctx *lt_ctx;
static devkit_k8s *lt_k8s;

static inline const char *lt_err(void)
{
	const devkit_error *e = devkit_error_last();
	return e && e->message ? e->message : "(no message)";
}

static inline void lt_setup(void)
{
	kt_setup_dir();
	cr_assert_eq(devkit_ctx_new(&lt_ctx, NULL), 0);
}

static inline void lt_teardown(void)
{
	fx_replica_stop(&lt_replica);
	devkit_k8s_free(lt_k8s);
	lt_k8s = NULL;
	devkit_ctx_free(lt_ctx);
	lt_ctx = NULL;
	fx_daemon_stop(&lt_api);
	kt_remove_dir();
}

/* The API fixture, a replica Pod LT_POD running `app_command` under the
 * keep-alive (extra: "" or ",{container...}"), and lt_k8s for it. */
static inline void lt_start(const char *app_command, const char *extra)
{
	cr_assert_eq(fx_k8s_start(&lt_api, NULL), 0, "the Kubernetes API fixture did not start "
		"(is its jar built? bash scripts/build_fixtures.sh)");
	cr_assert_eq(fx_replica_start(&lt_replica, &lt_api, LT_NS, LT_POD, LT_CONTAINER, app_command,
		extra), 0);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	cr_assert_not_null(ko.kubeconfig);
	cr_assert_eq(devkit_k8s_open(&lt_k8s, lt_ctx, &ko), 0, "%s", lt_err());
}

/* The whole of a file in the container's sandbox, or NULL. Caller frees. */
static inline char *lt_read_file(const char *rel)
{
	char path[1024];
	snprintf(path, sizeof(path), "%s/%s", lt_replica.dir, rel);
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
		free(s);
		s = NULL;
	}
	if (s)
		s[n] = '\0';
	fclose(f);
	return s;
}

/* The app's log once `needle` occurs in it `times` times (the app runs on
 * its own time after a restart returns), or what it holds after 5 s.
 * Caller frees. */
static inline char *lt_wait_log(const char *needle, int times)
{
	char *log = NULL;
	for (int i = 0; i < 100; i++) {
		free(log);
		log = lt_read_file("app.log");
		int n = 0;
		for (const char *p = log; p && (p = strstr(p, needle)); p++)
			n++;
		if (n >= times)
			break;
		usleep(50 * 1000);
	}
	return log;
}

#endif
