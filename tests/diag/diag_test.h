/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the diagnostics tests: the fabric8 Kubernetes API mock
 * (tests/fixtures/k8s_fixture.h) with a client on it, and the recorded
 * samples of tests/diag/samples loaded into it.
 *
 * The mock gives every object it creates its own uid, as a real API server
 * does; dt_load_sample points the recorded events of the Pod at that uid
 * (the library matches events to the Pod by uid too).
 */
#ifndef DEVKIT_TESTS_DIAG_TEST_H
#define DEVKIT_TESTS_DIAG_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <devkit.h>
#include <jansson.h>

#include "fixtures.h"
#include "k8s_fixture.h"

static fx_daemon dt_api;
static devkit_ctx *dt_ctx;
static devkit_k8s *dt_k8s;

static inline const char *dt_err(void)
{
	const devkit_error *e = devkit_error_last();
	return e && e->message ? e->message : "(no message)";
}

/* Start the mock (o may be NULL) and open a client on it. */
static inline void dt_start(const fx_k8s_options *o)
{
	cr_assert_eq(fx_k8s_start(&dt_api, o), 0, "the Kubernetes API mock did not start (is "
		"the jar built? scripts/build_fixtures.sh)");
	char home[300];
	snprintf(home, sizeof(home), "%s/home", dt_api.dir);
	mkdir(home, 0700);
	setenv("HOME", home, 1);
	unsetenv("KUBECONFIG");
	cr_assert_eq(devkit_ctx_new(&dt_ctx, NULL), 0, "%s", dt_err());
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	ko.timeout_ms = 10000;
	cr_assert_eq(devkit_k8s_open(&dt_k8s, dt_ctx, &ko), 0, "%s", dt_err());
}

static inline void dt_stop(void)
{
	devkit_k8s_free(dt_k8s);
	dt_k8s = NULL;
	devkit_ctx_free(dt_ctx);
	dt_ctx = NULL;
	fx_daemon_stop(&dt_api);
}

static inline char *dt_read_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *s = malloc((size_t)n + 1);
	cr_assert(s);
	size_t got = fread(s, 1, (size_t)n, f);
	fclose(f);
	s[got] = '\0';
	return s;
}

static inline const char *dt_sample_path(const char *sample, const char *file)
{
	static char path[8][1024];
	static int next;
	char *p = path[next++ % 8];
	const char *src = getenv("DEVKIT_SOURCE_DIR");
	snprintf(p, sizeof(path[0]), "%s/tests/diag/samples/%s/%s", src ? src : ".", sample, file);
	return p;
}

static inline json_t *dt_load_json(const char *path)
{
	json_error_t err;
	json_t *j = json_load_file(path, 0, &err);
	cr_assert(j, "%s: %s (line %d); DEVKIT_SOURCE_DIR set?", path, err.text, err.line);
	return j;
}

/* GET through the fixture's admin door, as JSON (NULL on 404). */
static inline json_t *dt_admin_get(const char *path)
{
	fx_run_result r;
	int status = fx_k8s_admin(&dt_api, "GET", path, NULL, NULL, &r);
	json_t *j = NULL;
	if (status == 200) {
		json_error_t err;
		j = json_loads(r.out, 0, &err);
	}
	fx_run_result_free(&r);
	return j;
}

static inline void dt_apply_json(json_t *obj)
{
	char *text = json_dumps(obj, JSON_COMPACT);
	cr_assert(text);
	cr_assert_eq(fx_k8s_apply(&dt_api, text), 0, "apply failed: %.300s", text);
	free(text);
}

/* Load a sample: its owners, the Pod (status kept), the events (pointed at
 * the Pod's new uid) and the previous log. The Pod's namespace and name go
 * to ns/name. */
static inline void dt_load_sample(const char *sample, char *ns, size_t ns_cap, char *name,
	size_t name_cap)
{
	const char *owners = dt_sample_path(sample, "owners.json");
	if (access(owners, R_OK) == 0) {
		json_t *o = dt_load_json(owners);
		dt_apply_json(o);
		json_decref(o);
	}
	json_t *pod = dt_load_json(dt_sample_path(sample, "pod.json"));
	const char *pns = json_string_value(json_object_get(json_object_get(pod, "metadata"),
		"namespace"));
	const char *pname = json_string_value(json_object_get(json_object_get(pod, "metadata"),
		"name"));
	snprintf(ns, ns_cap, "%s", pns);
	snprintf(name, name_cap, "%s", pname);
	dt_apply_json(pod);
	char path[700];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	json_t *stored = dt_admin_get(path);
	cr_assert(stored, "the Pod %s/%s was not stored", ns, name);
	const char *uid = json_string_value(json_object_get(json_object_get(stored, "metadata"),
		"uid"));
	cr_assert(uid);
	json_t *events = dt_load_json(dt_sample_path(sample, "events.json"));
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(events, "items"), i, ev) {
		json_t *io = json_object_get(ev, "involvedObject");
		const char *k = json_string_value(json_object_get(io, "kind"));
		const char *n = json_string_value(json_object_get(io, "name"));
		if (k && n && strcmp(k, "Pod") == 0 && strcmp(n, name) == 0)
			json_object_set_new(io, "uid", json_string(uid));
	}
	if (json_array_size(json_object_get(events, "items")) > 0)
		dt_apply_json(events);
	json_decref(events);
	json_decref(stored);
	const char *prev = dt_sample_path(sample, "previous.log");
	if (access(prev, R_OK) == 0) {
		char *text = dt_read_file(prev);
		const char *c = json_string_value(json_object_get(json_array_get(json_object_get(
			json_object_get(pod, "spec"), "containers"), 0), "name"));
		cr_assert_eq(fx_k8s_set_pod_previous_log(&dt_api, ns, name, c, text), 0);
		free(text);
	}
	json_decref(pod);
}

/* The finding with that id in a report, or NULL. */
static inline const json_t *dt_finding(const json_t *report, const char *id)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *fid = json_string_value(json_object_get(f, "id"));
		if (fid && strcmp(fid, id) == 0)
			return f;
	}
	return NULL;
}

/* 1 if any evidence line of the finding contains `needle`. */
static inline int dt_evidence_has(const json_t *finding, const char *needle)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(finding, "evidence"), i, e)
		if (json_string_value(e) && strstr(json_string_value(e), needle))
			return 1;
	return 0;
}

static inline const char *dt_str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

#endif
