/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_diag_report on recorded real-world Pods and events, one per
 * failure class (tests/diag/samples, README.md there says where each comes
 * from), served by the fabric8 Kubernetes API mock: the report must name
 * the stage, the finding and the evidence a person would look for.
 */
#include "diag_test.h"

static void setup(void)
{
	fx_k8s_options o = { 0 };
	/* a DELETE of a Pod with a finalizer keeps it, with deletionTimestamp */
	o.delete_grace_ms = 60000;
	dt_start(&o);
}

TestSuite(report, .init = setup, .fini = dt_stop, .timeout = 120);

static char ns[128], name[256];
static char *text;

/* Load a sample and report on it: the JSON report (and the text in `text`). */
static json_t *report_of(const char *sample)
{
	dt_load_sample(sample, ns, sizeof(ns), name, sizeof(name));
	devkit_buf json = DEVKIT_BUF_INIT, txt = DEVKIT_BUF_INIT;
	int rc = devkit_diag_report(dt_k8s, ns, name, &json, &txt);
	cr_assert_eq(rc, 0, "devkit_diag_report(%s): %s", sample, dt_err());
	json_error_t err;
	json_t *r = json_loads(json.ptr, 0, &err);
	cr_assert(r, "the report is not JSON: %s", err.text);
	free(text);
	text = strdup(txt.ptr);
	devkit_buf_dispose(&json);
	devkit_buf_dispose(&txt);
	cr_log_info("%s", text);
	return r;
}

/* "{key}" of a template not replaced (messages may hold braces of their own:
 * "untolerated taint {node-role.kubernetes.io/control-plane: }"). */
static int template_key_left(const char *s)
{
	for (const char *p = strchr(s, '{'); p; p = strchr(p + 1, '{')) {
		size_t n = strspn(p + 1, "abcdefghijklmnopqrstuvwxyz_");
		if (n > 0 && p[1 + n] == '}')
			return 1;
	}
	return 0;
}

/* The finding must be there, at that stage, with evidence containing `evidence`. */
static const json_t *expect(const json_t *r, const char *id, const char *stage,
	const char *evidence)
{
	const json_t *f = dt_finding(r, id);
	cr_assert(f, "no finding %s in:\n%s", id, text);
	cr_assert_str_eq(dt_str(f, "stage"), stage);
	if (evidence)
		cr_assert(dt_evidence_has(f, evidence), "finding %s has no evidence with \"%s\":\n%s",
			id, evidence, text);
	cr_assert(*dt_str(f, "explanation") && *dt_str(f, "fix"));
	cr_assert(!template_key_left(dt_str(f, "explanation")) &&
		!template_key_left(dt_str(f, "fix")), "a template key was left in %s", text);
	return f;
}

static void expect_in(const json_t *f, const char *key, const char *needle)
{
	cr_assert(strstr(dt_str(f, key), needle), "%s of %s lacks \"%s\": %s", key,
		dt_str(f, "id"), needle, dt_str(f, key));
}

/* --- scheduling ------------------------------------------------------------------ */

Test(report, insufficient_cpu)
{
	json_t *r = report_of("insufficient-cpu");
	cr_assert_str_eq(dt_str(r, "stage"), "scheduling");
	const json_t *f = expect(r, "insufficient-cpu", "scheduling", "Insufficient cpu");
	expect_in(f, "explanation", "asks for 1 more");
	cr_assert(dt_evidence_has(f, "PodScheduled=False"));
	cr_assert(!dt_finding(r, "insufficient-memory"));
	cr_assert(strstr(dt_str(r, "summary"), "not enough free CPU"), "%s", dt_str(r, "summary"));
	cr_assert(strstr(text, "Fix: Lower resources.requests.cpu"), "%s", text);
	json_decref(r);
}

Test(report, insufficient_memory)
{
	json_t *r = report_of("insufficient-memory");
	const json_t *f = expect(r, "insufficient-memory", "scheduling", "Insufficient memory (3)");
	expect_in(f, "explanation", "1000Gi");
	cr_assert(!dt_finding(r, "insufficient-cpu"));
	json_decref(r);
}

Test(report, untolerated_taint)
{
	json_t *r = report_of("untolerated-taint");
	const json_t *f = expect(r, "untolerated-taint", "scheduling", "untolerated taint");
	expect_in(f, "explanation", "(node-role.kubernetes.io/control-plane)");
	expect_in(f, "fix", "node-role.kubernetes.io/control-plane");
	/* the owner was read: the report names it, and its event is there */
	cr_assert_str_eq(dt_str(json_object_get(r, "owner"), "name"), "apache-7f6fddb7df");
	int owner_event = 0;
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(r, "events"), i, ev)
		owner_event |= strcmp(dt_str(json_object_get(ev, "object"), "kind"), "ReplicaSet") == 0 &&
			strcmp(dt_str(ev, "message"), "Created pod: apache-7f6fddb7df-q229r") == 0;
	cr_assert(owner_event, "%s", text);
	json_decref(r);
}

Test(report, unbound_pvc)
{
	json_t *r = report_of("unbound-pvc");
	const json_t *f = expect(r, "unbound-pvc", "scheduling",
		"unbound immediate PersistentVolumeClaims");
	expect_in(f, "explanation", "data-sample-mysql-0");
	expect_in(f, "fix", "kubectl describe pvc data-sample-mysql-0");
	json_decref(r);
}

/* --- start-up ---------------------------------------------------------------------- */

Test(report, image_not_found)
{
	json_t *r = report_of("image-not-found");
	cr_assert_str_eq(dt_str(r, "stage"), "start-up");
	const json_t *f = expect(r, "image-not-found", "start-up", "code = NotFound");
	cr_assert_str_eq(dt_str(f, "container"), "vllm-sim");
	expect_in(f, "explanation", "ghcr.io/llm-d/llm-d-inference-sim:0.0.1 does not exist");
	/* the specific cause, not the generic "cannot pull" as well */
	cr_assert(!dt_finding(r, "image-pull-failed"), "%s", text);
	cr_assert(!dt_finding(r, "image-pull-auth"), "%s", text);
	json_decref(r);
}

Test(report, image_pull_auth)
{
	json_t *r = report_of("image-pull-auth");
	const json_t *f = expect(r, "image-pull-auth", "start-up", "pull access denied");
	cr_assert(dt_evidence_has(f, "unauthorized: authentication required"));
	expect_in(f, "explanation", "Docker Hub answers");
	expect_in(f, "fix", "--docker-server");
	cr_assert(!dt_finding(r, "image-not-found"), "%s", text);
	cr_assert(!dt_finding(r, "image-pull-failed"), "%s", text);
	json_decref(r);
}

Test(report, image_pull_auth_401)
{
	json_t *r = report_of("image-pull-auth-401");
	const json_t *f = expect(r, "image-pull-auth", "start-up", "401 Unauthorized");
	/* both the event and the container's ErrImagePull state say so */
	cr_assert(dt_evidence_has(f, "waiting (ErrImagePull)"), "%s", text);
	json_decref(r);
}

Test(report, crash_loop_exit_0)
{
	json_t *r = report_of("crash-loop-exit-0");
	cr_assert_str_eq(dt_str(r, "stage"), "start-up");
	const json_t *f = expect(r, "crash-loop", "start-up", "CrashLoopBackOff");
	expect_in(f, "explanation", "exit code 0 (Completed)");
	expect_in(f, "explanation", "a server is expected to keep running");
	expect_in(f, "explanation", "6 restarts");
	/* the previous run's log was asked for: it is empty */
	const json_t *log = json_object_get(f, "previous_log");
	cr_assert(json_is_array(log), "%s", text);
	cr_assert_eq(json_array_size(log), 0);
	json_decref(r);
}

Test(report, crash_loop_with_previous_log)
{
	json_t *r = report_of("crash-loop-exec-format");
	const json_t *f = expect(r, "crash-loop", "start-up",
		"last run terminated (Error, exit code 1");
	expect_in(f, "explanation", "exit code 1 (Error)");
	const json_t *log = json_object_get(f, "previous_log");
	cr_assert_eq(json_array_size(log), 1, "%s", text);
	cr_assert_str_eq(json_string_value(json_array_get(log, 0)),
		"exec /manager: exec format error");
	cr_assert(strstr(text, "| exec /manager: exec format error"), "%s", text);
	/* and the request was the one kubectl logs --previous --tail 20 makes */
	cr_assert_gt(fx_k8s_count_requests(&dt_api, "GET", "previous=true&tailLines=20"), 0);
	json_decref(r);
}

Test(report, missing_configmap)
{
	json_t *r = report_of("missing-configmap");
	const json_t *f = expect(r, "missing-configmap", "start-up", "configmap \"kube-apiserver\"");
	expect_in(f, "explanation", "ConfigMap \"kube-apiserver\"");
	expect_in(f, "explanation", "namespace kube-system");
	cr_assert(!dt_finding(r, "mount-failed"), "%s", text);
	json_decref(r);
}

Test(report, missing_secret)
{
	json_t *r = report_of("missing-secret");
	const json_t *f = expect(r, "missing-secret", "start-up", "FailedMount");
	expect_in(f, "explanation", "Secret \"alidns-webhook-webhook-tls\"");
	expect_in(f, "fix", "kubectl create secret generic alidns-webhook-webhook-tls -n "
		"cert-manager");
	cr_assert(!dt_finding(r, "missing-configmap"));
	json_decref(r);
}

/* --- running ------------------------------------------------------------------------ */

Test(report, oom_killed)
{
	json_t *r = report_of("oom-killed");
	cr_assert_str_eq(dt_str(r, "stage"), "running");
	const json_t *f = expect(r, "oom-killed", "running", "OOMKilled, exit code 137");
	expect_in(f, "explanation", "limit (100Mi)");
	expect_in(f, "explanation", "exit code 137");
	expect_in(f, "explanation", "restarted 2 times");
	json_decref(r);
}

Test(report, liveness_probe)
{
	json_t *r = report_of("liveness-probe");
	const json_t *f = expect(r, "liveness-probe-failed", "running",
		"No such file or directory");
	cr_assert(dt_evidence_has(f, "failed liveness probe, will be restarted"));
	expect_in(f, "explanation", "exec ls /var/opt/liveness every 30s, timeout 20s, "
		"4 failures");
	/* the Pod is ready again: the readiness probe passes */
	cr_assert(!dt_finding(r, "readiness-probe-failed"));
	json_decref(r);
}

Test(report, readiness_probe)
{
	json_t *r = report_of("readiness-probe");
	const json_t *f = expect(r, "readiness-probe-failed", "running", "Client.Timeout exceeded");
	expect_in(f, "explanation", "HTTP GET :9005/actuator/health");
	expect_in(f, "explanation", "no requests");
	/* the liveness kill of the same app is a finding of its own */
	expect(r, "liveness-probe-failed", "running", "failed liveness probe");
	cr_assert_eq(json_is_true(json_object_get(r, "ready")), 0);
	json_decref(r);
}

/* --- offline ------------------------------------------------------------------------ */

Test(report, evicted)
{
	json_t *r = report_of("evicted");
	cr_assert_str_eq(dt_str(r, "stage"), "offline");
	const json_t *f = expect(r, "evicted", "offline", "reason Evicted");
	expect_in(f, "explanation", "ran low on memory");
	expect_in(f, "explanation", "35505620Ki");
	json_decref(r);
}

Test(report, deleted)
{
	dt_load_sample("deleted", ns, sizeof(ns), name, sizeof(name));
	/* a server sets deletionTimestamp, not a client: delete it for real (the
	 * finalizer keeps it, as in the recorded case) */
	char path[600];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	fx_run_result res;
	cr_assert_eq(fx_k8s_http(&dt_api, "DELETE", path, NULL, NULL, &res), 200);
	fx_run_result_free(&res);
	devkit_buf json = DEVKIT_BUF_INIT, txt = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_diag_report(dt_k8s, ns, name, &json, &txt), 0, "%s", dt_err());
	json_t *r = json_loads(json.ptr, 0, NULL);
	cr_log_info("%s", txt.ptr);
	cr_assert_str_eq(dt_str(r, "stage"), "offline");
	const json_t *f = dt_finding(r, "deleted");
	cr_assert(f, "%s", txt.ptr);
	cr_assert(dt_evidence_has(f, "metadata.deletionTimestamp"));
	expect_in(f, "explanation", "foregroundDeletion");
	expect_in(f, "explanation", "ReplicaSet/webhook-test-79fbccfb66");
	json_decref(r);
	devkit_buf_dispose(&json);
	devkit_buf_dispose(&txt);
}

/* --- no failure, and errors --------------------------------------------------------- */

Test(report, healthy_pod_has_no_findings)
{
	json_t *r = report_of("healthy");
	cr_assert_str_eq(dt_str(r, "stage"), "running");
	cr_assert(json_is_true(json_object_get(r, "ready")));
	cr_assert_eq(json_array_size(json_object_get(r, "findings")), 0, "%s", text);
	cr_assert(strstr(dt_str(r, "summary"), "nothing wrong found"), "%s", dt_str(r, "summary"));
	cr_assert_eq(json_array_size(json_object_get(r, "events")), 5);
	json_decref(r);
}

Test(report, missing_pod_is_not_found)
{
	devkit_buf json = DEVKIT_BUF_INIT;
	int rc = devkit_diag_report(dt_k8s, "dev", "no-such-pod", &json, NULL);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "%d: %s", rc, dt_err());
	cr_assert(strstr(dt_err(), "\"no-such-pod\" not found"), "%s", dt_err());
	cr_assert_null(json.ptr);
}

Test(report, bad_arguments)
{
	devkit_buf json = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_diag_report(dt_k8s, "dev", NULL, &json, NULL), DEVKIT_EINVAL);
	cr_assert_eq(devkit_diag_report(dt_k8s, "dev", "a/../b", &json, NULL), DEVKIT_EINVAL);
	cr_assert(strstr(dt_err(), "not a Kubernetes name"), "%s", dt_err());
	cr_assert_eq(devkit_diag_report(NULL, "dev", "web", &json, NULL), DEVKIT_EINVAL);
}
