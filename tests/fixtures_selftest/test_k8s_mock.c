/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the Kubernetes API fixture (fabric8 kubernetes-server-mock behind
 * our front end), driven by curl as any client would drive it: CRUD of Pods
 * and Deployments, the status subresource, Status bodies worded as
 * kube-apiserver words them, tokens, 403 rules, client certificates required
 * by TLS, injected 500/429, selectors, watches, graceful deletion, events,
 * pod logs, and the kubeconfig files the client tests point KUBECONFIG at.
 *
 * There is no scheduler or kubelet: the tests set Pod status themselves.
 */
#define _GNU_SOURCE /* strcasestr */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "k8s_fixture.h"
#include "net_fixture.h"
#include "proc_fixture.h"

#define NS FX_K8S_NAMESPACE
#define PODS "/api/v1/namespaces/" NS "/pods"
#define DEPLOYMENTS "/apis/apps/v1/namespaces/" NS "/deployments"

static fx_daemon k8s;
static fx_daemon plain;
static char netns[64];

static void teardown(void)
{
	fx_daemon_stop(&k8s);
	fx_daemon_stop(&plain);
	if (netns[0]) {
		const char *argv[] = { "ip", "netns", "del", netns, NULL };
		fx_run_result r;
		if (fx_run(argv, NULL, NULL, 10000, &r) == 0)
			fx_run_result_free(&r);
		netns[0] = '\0';
	}
}

TestSuite(k8s_mock, .fini = teardown, .timeout = 180);

static void start(const fx_k8s_options *o)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_k8s_start(&k8s, o), 0, "the Kubernetes API server did not start");
	cr_log_info("k8s-mock (%s) ready on port %d in %lld ms", o && (o->tls || o->require_client_cert)
		? "https" : "http", k8s.port, fx_now_ms() - t0);
}

static const char *jstr(json_t *obj, const char *path)
{
	/* "a.b.c": nested objects. */
	char buf[200];
	snprintf(buf, sizeof(buf), "%s", path);
	json_t *cur = obj;
	for (char *save = NULL, *part = strtok_r(buf, ".", &save); part && cur;
		part = strtok_r(NULL, ".", &save))
		cur = json_object_get(cur, part);
	return json_string_value(cur);
}

/* An API request with the fixture's credentials; the JSON answer (new
 * reference) in *out when out is not NULL. Returns the HTTP status. */
static int call(const char *method, const char *path, const char *ctype, const char *body, json_t **out)
{
	fx_run_result r;
	int status = fx_k8s_http(&k8s, method, path, ctype, body, &r);
	if (out)
		*out = status > 0 ? json_loads(r.out, 0, NULL) : NULL;
	if (out && status > 0 && !*out)
		cr_log_error("%s %s -> %d, not JSON: %s", method, path, status, r.out);
	fx_run_result_free(&r);
	return status;
}

/* A Status body exactly as kube-apiserver writes it. */
static void assert_status(json_t *s, int code, const char *reason, const char *message)
{
	cr_assert_not_null(s);
	cr_assert_str_eq(jstr(s, "kind"), "Status");
	cr_assert_str_eq(jstr(s, "apiVersion"), "v1");
	cr_assert(json_is_object(json_object_get(s, "metadata")));
	cr_assert_str_eq(jstr(s, "status"), "Failure");
	cr_assert_str_eq(jstr(s, "reason"), reason);
	cr_assert_eq(json_integer_value(json_object_get(s, "code")), code);
	if (message)
		cr_assert_str_eq(jstr(s, "message"), message);
}

static const char *pod_json(const char *name, const char *app)
{
	static char buf[4][600];
	static int next;
	char *b = buf[next++ % 4];
	snprintf(b, sizeof(buf[0]),
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"%s\",\"labels\":"
		"{\"app\":\"%s\",\"tier\":\"backend\"}},\"spec\":{\"containers\":[{\"name\":\"app\","
		"\"image\":\"registry.local/%s:1.0\",\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}",
		name, app, app);
	return b;
}

#define DEPLOYMENT_YAML                                                                      \
	"apiVersion: apps/v1\n"                                                              \
	"kind: Deployment\n"                                                                 \
	"metadata:\n"                                                                        \
	"  name: orders\n"                                                                   \
	"  labels: {app: orders}\n"                                                          \
	"spec:\n"                                                                            \
	"  replicas: 2\n"                                                                    \
	"  selector: {matchLabels: {app: orders}}\n"                                         \
	"  template:\n"                                                                      \
	"    metadata: {labels: {app: orders}}\n"                                            \
	"    spec:\n"                                                                        \
	"      containers:\n"                                                                \
	"      - name: app\n"                                                                \
	"        image: registry.local/orders:1.0\n"                                         \
	"        livenessProbe: {httpGet: {path: /health, port: 8080}}\n"

Test(k8s_mock, pod_crud)
{
	start(NULL);
	json_t *o;
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), &o), 201);
	cr_assert_str_eq(jstr(o, "metadata.name"), "web-1");
	cr_assert_str_eq(jstr(o, "metadata.namespace"), NS, "the namespace comes from the URL");
	cr_assert_not_null(jstr(o, "metadata.uid"));
	cr_assert_not_null(jstr(o, "metadata.resourceVersion"));
	cr_assert_not_null(jstr(o, "metadata.creationTimestamp"));
	/* A new Pod is Pending, as the API server makes it; nothing runs it. */
	cr_assert_str_eq(jstr(o, "status.phase"), "Pending");
	cr_assert_str_eq(jstr(o, "status.qosClass"), "BestEffort");
	char rv1[32];
	snprintf(rv1, sizeof(rv1), "%s", jstr(o, "metadata.resourceVersion"));
	json_decref(o);

	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, &o), 200);
	json_t *c0 = json_array_get(json_object_get(json_object_get(o, "spec"), "containers"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(c0, "image")), "registry.local/web:1.0");
	json_decref(o);

	/* Strategic merge patch (what kubectl sends): containers merge by name,
	 * env by name. The status in a patch to the main resource is ignored. */
	cr_assert_eq(call("PATCH", PODS "/web-1", "application/strategic-merge-patch+json",
			     "{\"metadata\":{\"labels\":{\"devkit.io/owner\":\"me\"}},\"spec\":{\"containers\":"
			     "[{\"name\":\"app\",\"env\":[{\"name\":\"B\",\"value\":\"2\"}]}]},"
			     "\"status\":{\"phase\":\"Failed\"}}",
			     &o),
		200);
	json_t *labels = json_object_get(json_object_get(o, "metadata"), "labels");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/owner")), "me");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "app")), "web");
	c0 = json_array_get(json_object_get(json_object_get(o, "spec"), "containers"), 0);
	cr_assert_eq(json_array_size(json_object_get(c0, "env")), 2, "env merged by name");
	cr_assert_str_eq(json_string_value(json_object_get(c0, "image")), "registry.local/web:1.0");
	cr_assert_str_eq(jstr(o, "status.phase"), "Pending", "status changes only through /status");
	json_decref(o);

	/* JSON merge patch and JSON patch. */
	cr_assert_eq(call("PATCH", PODS "/web-1", "application/merge-patch+json",
			     "{\"metadata\":{\"annotations\":{\"a\":\"1\"}}}", NULL),
		200);
	cr_assert_eq(call("PATCH", PODS "/web-1", "application/json-patch+json",
			     "[{\"op\":\"add\",\"path\":\"/metadata/annotations/b\",\"value\":\"2\"}]", &o),
		200);
	json_t *ann = json_object_get(json_object_get(o, "metadata"), "annotations");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "a")), "1");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "b")), "2");
	json_decref(o);

	/* PUT with the resourceVersion of the first read: 409 Conflict. */
	char put[800];
	snprintf(put, sizeof(put),
		"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\","
		"\"resourceVersion\":\"%s\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"x\"}]}}",
		rv1);
	cr_assert_eq(call("PUT", PODS "/web-1", NULL, put, &o), 409);
	assert_status(o, 409, "Conflict",
		"Operation cannot be fulfilled on pods \"web-1\": the object has been modified; please "
		"apply your changes to the latest version and try again");
	json_decref(o);

	/* DELETE answers the Pod; then it is gone. */
	cr_assert_eq(call("DELETE", PODS "/web-1", NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "kind"), "Pod");
	json_decref(o);
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, NULL), 404);
}

Test(k8s_mock, deployment_crud)
{
	start(NULL);
	json_t *o;
	cr_assert_eq(call("POST", DEPLOYMENTS, "application/yaml", DEPLOYMENT_YAML, &o), 201);
	cr_assert_str_eq(jstr(o, "kind"), "Deployment");
	cr_assert_str_eq(jstr(o, "apiVersion"), "apps/v1");
	json_decref(o);
	cr_assert_eq(call("GET", DEPLOYMENTS "/orders", NULL, NULL, &o), 200);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 2);
	json_decref(o);
	cr_assert_eq(call("PATCH", DEPLOYMENTS "/orders", "application/merge-patch+json",
			     "{\"spec\":{\"replicas\":0}}", &o),
		200);
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(o, "spec"), "replicas")), 0);
	json_decref(o);
	cr_assert_eq(call("GET", DEPLOYMENTS, NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "kind"), "DeploymentList");
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 1);
	json_decref(o);
	/* No controller: a Deployment makes no Pods here. */
	cr_assert_eq(call("GET", PODS, NULL, NULL, &o), 200);
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 0);
	json_decref(o);
	/* Deleting anything but a Pod answers Status Success, as a real server. */
	cr_assert_eq(call("DELETE", DEPLOYMENTS "/orders", NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "kind"), "Status");
	cr_assert_str_eq(jstr(o, "status"), "Success");
	cr_assert_str_eq(jstr(o, "details.name"), "orders");
	cr_assert_str_eq(jstr(o, "details.group"), "apps");
	cr_assert_str_eq(jstr(o, "details.kind"), "deployments");
	json_decref(o);
	cr_assert_eq(call("GET", DEPLOYMENTS "/orders", NULL, NULL, &o), 404);
	assert_status(o, 404, "NotFound", "deployments.apps \"orders\" not found");
	json_decref(o);
}

Test(k8s_mock, status_subresource)
{
	start(NULL);
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), NULL), 201);
	/* The test plays the kubelet. */
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, "web-1",
			     "{\"phase\":\"Running\",\"podIP\":\"10.1.2.3\",\"conditions\":[{\"type\":"
			     "\"Ready\",\"status\":\"True\"}],\"containerStatuses\":[{\"name\":\"app\","
			     "\"ready\":true,\"restartCount\":0,\"image\":\"registry.local/web:1.0\","
			     "\"imageID\":\"\",\"state\":{\"running\":{\"startedAt\":"
			     "\"2025-01-01T00:00:00Z\"}}}]}"),
		0);
	json_t *o;
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "status.phase"), "Running");
	cr_assert_str_eq(jstr(o, "status.podIP"), "10.1.2.3");
	cr_assert_str_eq(jstr(o, "status.qosClass"), "BestEffort", "merged into the status");
	json_t *cond = json_array_get(json_object_get(json_object_get(o, "status"), "conditions"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(cond, "type")), "Ready");
	json_decref(o);

	/* Through the front door: PATCH and PUT on .../status change only the
	 * status; GET .../status answers the Pod. */
	cr_assert_eq(call("PATCH", PODS "/web-1/status", "application/merge-patch+json",
			     "{\"status\":{\"phase\":\"Failed\"},\"spec\":{\"nodeName\":\"n1\"}}", &o),
		200);
	cr_assert_str_eq(jstr(o, "status.phase"), "Failed");
	cr_assert_null(jstr(o, "spec.nodeName"), "a status write must not change the spec");
	json_decref(o);
	cr_assert_eq(call("PUT", PODS "/web-1/status", NULL,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web-1\"},"
			     "\"spec\":{\"containers\":[]},\"status\":{\"phase\":\"Succeeded\"}}",
			     &o),
		200);
	cr_assert_str_eq(jstr(o, "status.phase"), "Succeeded");
	cr_assert_eq(json_array_size(json_object_get(json_object_get(o, "spec"), "containers")), 1);
	json_decref(o);
	cr_assert_eq(call("GET", PODS "/web-1/status", NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "status.phase"), "Succeeded");
	json_decref(o);
	cr_assert_eq(call("PATCH", PODS "/nope/status", "application/merge-patch+json", "{}", &o), 404);
	assert_status(o, 404, "NotFound", "pods \"nope\" not found");
	json_decref(o);
}

Test(k8s_mock, status_bodies_404_409)
{
	start(NULL);
	json_t *o;
	cr_assert_eq(call("GET", PODS "/x", NULL, NULL, &o), 404);
	assert_status(o, 404, "NotFound", "pods \"x\" not found");
	cr_assert_str_eq(jstr(o, "details.name"), "x");
	cr_assert_str_eq(jstr(o, "details.kind"), "pods");
	json_decref(o);
	cr_assert_eq(call("DELETE", PODS "/x", NULL, NULL, &o), 404);
	assert_status(o, 404, "NotFound", "pods \"x\" not found");
	json_decref(o);

	cr_assert_eq(call("POST", PODS, NULL, pod_json("dup", "web"), NULL), 201);
	cr_assert_eq(call("POST", PODS, NULL, pod_json("dup", "web"), &o), 409);
	assert_status(o, 409, "AlreadyExists", "pods \"dup\" already exists");
	cr_assert_str_eq(jstr(o, "details.name"), "dup");
	cr_assert_str_eq(jstr(o, "details.kind"), "pods");
	json_decref(o);

	cr_assert_eq(call("POST", PODS, NULL, "{not json", &o), 400);
	assert_status(o, 400, "BadRequest", NULL);
	json_decref(o);
	cr_assert_eq(call("POST", PODS, NULL,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{},\"spec\":{}}", &o),
		422);
	assert_status(o, 422, "Invalid",
		"Pod \"\" is invalid: metadata.name: Required value: name or generateName is required");
	json_decref(o);
	/* generateName: five characters of the server's alphabet. */
	cr_assert_eq(call("POST", PODS, NULL,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"generateName\":"
			     "\"web-\"},\"spec\":{}}",
			     &o),
		201);
	cr_assert_eq(strlen(jstr(o, "metadata.name")), 9, "%s", jstr(o, "metadata.name"));
	json_decref(o);
	cr_assert_eq(call("PATCH", PODS "/dup", "application/apply-patch+yaml", "metadata: {}", &o), 422,
		"server-side apply without fieldManager");
	json_decref(o);
}

Test(k8s_mock, token_401)
{
	fx_k8s_options o = { .token = "s3cret-token" };
	start(&o);
	/* The fixture's own requests carry the token. */
	json_t *s;
	cr_assert_eq(call("GET", PODS, NULL, NULL, &s), 200);
	cr_assert_str_eq(jstr(s, "kind"), "PodList");
	json_decref(s);

	char url[200];
	snprintf(url, sizeof(url), "%s" PODS, fx_k8s_url(&k8s));
	const char *none[] = { "curl", "-s", "--noproxy", "*", url, NULL };
	const char *wrong[] = { "curl", "-s", "--noproxy", "*", "-H", "Authorization: Bearer nope", url,
		NULL };
	const char *const *variants[] = { none, wrong };
	for (int i = 0; i < 2; i++) {
		fx_run_result r;
		cr_assert_eq(fx_run(variants[i], NULL, NULL, 15000, &r), 0);
		s = json_loads(r.out, 0, NULL);
		cr_assert_not_null(s, "not JSON: %s", r.out);
		assert_status(s, 401, "Unauthorized", "Unauthorized");
		json_decref(s);
		fx_run_result_free(&r);
	}
	cr_assert_eq(fx_k8s_count_requests(&k8s, "GET", PODS), 3);
}

Test(k8s_mock, forbid_403)
{
	const char *forbid[] = { "create:pods", "delete:deployments", NULL };
	fx_k8s_options o = { .forbid = forbid };
	start(&o);
	json_t *s;
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), &s), 403);
	assert_status(s, 403, "Forbidden",
		"pods is forbidden: User \"system:anonymous\" cannot create resource \"pods\" in API "
		"group \"\" in the namespace \"dev\"");
	cr_assert_str_eq(jstr(s, "details.kind"), "pods");
	json_decref(s);
	/* Other verbs are allowed; setup bypasses the rules. */
	cr_assert_eq(fx_k8s_apply(&k8s, DEPLOYMENT_YAML), 0);
	cr_assert_eq(call("GET", DEPLOYMENTS "/orders", NULL, NULL, NULL), 200);
	cr_assert_eq(call("DELETE", DEPLOYMENTS "/orders", NULL, NULL, &s), 403);
	assert_status(s, 403, "Forbidden",
		"deployments.apps \"orders\" is forbidden: User \"system:anonymous\" cannot delete "
		"resource \"deployments\" in API group \"apps\" in the namespace \"dev\"");
	json_decref(s);
	/* Rules added at run time, subresources, cluster scope. */
	cr_assert_eq(fx_k8s_forbid(&k8s, "list:pods"), 0);
	cr_assert_eq(call("GET", "/api/v1/pods", NULL, NULL, &s), 403);
	assert_status(s, 403, "Forbidden",
		"pods is forbidden: User \"system:anonymous\" cannot list resource \"pods\" in API group "
		"\"\" at the cluster scope");
	json_decref(s);
	cr_assert_eq(fx_k8s_forbid(&k8s, NULL), 0);
	cr_assert_eq(call("GET", "/api/v1/pods", NULL, NULL, NULL), 200);
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), NULL), 201,
		"no rules after fx_k8s_forbid(NULL)");
}

Test(k8s_mock, forbid_names_the_token_user)
{
	const char *forbid[] = { "patch:pods/status", NULL };
	fx_k8s_options o = { .token = "t0ken", .forbid = forbid };
	start(&o);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	json_t *s;
	cr_assert_eq(call("PATCH", PODS "/web-1/status", "application/merge-patch+json",
			     "{\"status\":{\"phase\":\"Running\"}}", &s),
		403);
	assert_status(s, 403, "Forbidden",
		"pods \"web-1\" is forbidden: User \"" FX_K8S_USER "\" cannot patch resource "
		"\"pods/status\" in API group \"\" in the namespace \"dev\"");
	json_decref(s);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, "web-1", "{\"phase\":\"Running\"}"), 0,
		"the kubelet's path is not subject to the rules");
}

/* curl over TLS with or without the fixture's client certificate (or the
 * untrusted one). Returns the HTTP status, or -(curl's exit code). */
static int curl_tls(const char *cert, const char *path)
{
	char url[200], ca[240], crt[240], key[240];
	snprintf(url, sizeof(url), "%s%s", fx_k8s_url(&k8s), path);
	snprintf(ca, sizeof(ca), "%s/ca.crt", k8s.dir);
	snprintf(crt, sizeof(crt), "%s/%s.crt", k8s.dir, cert ? cert : "");
	snprintf(key, sizeof(key), "%s/%s.key", k8s.dir, cert ? cert : "");
	const char *argv[20];
	int n = 0;
	argv[n++] = "curl";
	argv[n++] = "-s";
	argv[n++] = "-o";
	argv[n++] = "/dev/null";
	argv[n++] = "--noproxy";
	argv[n++] = "*";
	argv[n++] = "--max-time";
	argv[n++] = "10";
	argv[n++] = "--cacert";
	argv[n++] = ca;
	if (cert) {
		argv[n++] = "--cert";
		argv[n++] = crt;
		argv[n++] = "--key";
		argv[n++] = key;
	}
	argv[n++] = "-w";
	argv[n++] = "%{http_code}";
	argv[n++] = url;
	argv[n] = NULL;
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 15000, &r), 0);
	int rc = r.exit_code != 0 ? -r.exit_code : atoi(r.out);
	fx_run_result_free(&r);
	return rc;
}

Test(k8s_mock, client_cert_required)
{
	fx_k8s_options o = { .require_client_cert = 1 };
	start(&o);
	cr_assert(strncmp(fx_k8s_url(&k8s), "https://127.0.0.1:", 18) == 0, "%s", fx_k8s_url(&k8s));
	int rc = curl_tls(NULL, PODS);
	cr_assert(rc < 0, "without a client certificate the handshake must fail, got HTTP %d", rc);
	rc = curl_tls("untrusted-client", PODS);
	cr_assert(rc < 0, "a certificate of another CA must be refused, got HTTP %d", rc);
	cr_assert_eq(curl_tls("client", PODS), 200);
	/* The certificate's CN is the user. */
	cr_assert_eq(fx_k8s_forbid(&k8s, "get:pods"), 0);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	json_t *s;
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, &s), 403);
	assert_status(s, 403, "Forbidden",
		"pods \"web-1\" is forbidden: User \"" FX_K8S_USER "\" cannot get resource \"pods\" in "
		"API group \"\" in the namespace \"dev\"");
	json_decref(s);
}

Test(k8s_mock, tls_optional_client_cert)
{
	fx_k8s_options o = { .tls = 1 };
	start(&o);
	/* A real server's behaviour: the handshake succeeds without a
	 * certificate, but nobody is authenticated (401); with one, 200. */
	cr_assert_eq(curl_tls(NULL, PODS), 401);
	cr_assert_eq(curl_tls("client", PODS), 200);
	cr_assert(curl_tls("untrusted-client", PODS) < 0, "a certificate of another CA is refused");
}

/* curl -D - : the response's head and body, to see Retry-After. */
static int get_with_headers(const char *path, fx_run_result *r)
{
	char url[200];
	snprintf(url, sizeof(url), "%s%s", fx_k8s_url(&k8s), path);
	const char *argv[] = { "curl", "-s", "-D", "-", "--noproxy", "*", "--max-time", "10", url, NULL };
	return fx_run(argv, NULL, NULL, 15000, r);
}

Test(k8s_mock, fail_next_500_and_429)
{
	start(NULL);
	cr_assert_eq(fx_k8s_fail_next(&k8s, 2, 500), 0);
	json_t *s;
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(call("GET", PODS, NULL, NULL, &s), 500);
		assert_status(s, 500, "InternalError", NULL);
		json_decref(s);
	}
	cr_assert_eq(call("GET", PODS, NULL, NULL, NULL), 200, "only the next 2 fail");

	cr_assert_eq(fx_k8s_fail_next(&k8s, 1, 429), 0);
	fx_run_result r;
	cr_assert_eq(get_with_headers(PODS, &r), 0);
	cr_assert(strstr(r.out, "HTTP/1.1 429") != NULL, "%s", r.out);
	cr_assert(strcasestr(r.out, "\r\nretry-after: 1\r\n") != NULL, "no Retry-After: %s", r.out);
	s = json_loads(strstr(r.out, "\r\n\r\n") + 4, 0, NULL);
	assert_status(s, 429, "TooManyRequests", "Too many requests, please try again later.");
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(s, "details"),
			     "retryAfterSeconds")),
		1);
	json_decref(s);
	fx_run_result_free(&r);
	cr_assert_eq(call("GET", PODS, NULL, NULL, NULL), 200);

	/* Aimed faults: only POSTs to pods. */
	cr_assert_eq(fx_k8s_fail_next_match(&k8s, 1, 503, -1, "POST", "/pods"), 0);
	cr_assert_eq(call("GET", PODS, NULL, NULL, NULL), 200);
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), NULL), 503);
	cr_assert_eq(call("POST", PODS, NULL, pod_json("web-1", "web"), NULL), 201);
	cr_assert_eq(fx_k8s_count_requests(&k8s, "POST", PODS), 2);

	/* Malformed JSON, once. */
	cr_assert_eq(fx_k8s_malformed_next(&k8s, 1), 0);
	cr_assert_eq(fx_k8s_get(&k8s, PODS "/web-1", &r), 200);
	cr_assert_null(json_loads(r.out, 0, NULL), "must not parse: %s", r.out);
	fx_run_result_free(&r);
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, &s), 200);
	json_decref(s);
}

static int list_count(const char *query)
{
	char path[400];
	snprintf(path, sizeof(path), PODS "?%s", query);
	json_t *o;
	int status = call("GET", path, NULL, NULL, &o);
	cr_assert_eq(status, 200, "GET %s -> %d", path, status);
	int n = (int)json_array_size(json_object_get(o, "items"));
	json_decref(o);
	return n;
}

Test(k8s_mock, label_and_field_selectors)
{
	start(NULL);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-2", "web")), 0);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("db-1", "db")), 0);
	cr_assert_eq(fx_k8s_apply(&k8s,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"other\","
			     "\"namespace\":\"" FX_K8S_OTHER_NAMESPACE "\",\"labels\":{\"app\":\"web\"}},"
			     "\"spec\":{}}"),
		0);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, "web-2", "{\"phase\":\"Running\"}"), 0);
	cr_assert_eq(list_count(""), 3);
	cr_assert_eq(list_count("labelSelector=app%3Dweb"), 2);
	cr_assert_eq(list_count("labelSelector=app%3D%3Dweb,tier%3Dbackend"), 2);
	cr_assert_eq(list_count("labelSelector=app!%3Dweb"), 1);
	cr_assert_eq(list_count("labelSelector=app%20in%20(web,db)"), 3);
	cr_assert_eq(list_count("labelSelector=app%20notin%20(web)"), 1);
	cr_assert_eq(list_count("labelSelector=tier"), 3);
	cr_assert_eq(list_count("labelSelector=!tier"), 0);
	cr_assert_eq(list_count("labelSelector=app%3Dnone"), 0);
	cr_assert_eq(list_count("fieldSelector=metadata.name%3Dweb-1"), 1);
	cr_assert_eq(list_count("fieldSelector=status.phase%3DRunning"), 1);
	cr_assert_eq(list_count("fieldSelector=status.phase!%3DRunning"), 2);
	cr_assert_eq(list_count("labelSelector=app%3Dweb&fieldSelector=status.phase%3DPending"), 1);
	/* Across namespaces. */
	json_t *o;
	cr_assert_eq(call("GET", "/api/v1/pods?labelSelector=app%3Dweb", NULL, NULL, &o), 200);
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 3);
	json_decref(o);
	/* Paging. */
	cr_assert_eq(call("GET", PODS "?limit=2", NULL, NULL, &o), 200);
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 2);
	char next[300];
	cr_assert_not_null(jstr(o, "metadata.continue"));
	snprintf(next, sizeof(next), PODS "?limit=2&continue=%s", jstr(o, "metadata.continue"));
	json_decref(o);
	cr_assert_eq(call("GET", next, NULL, NULL, &o), 200);
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 1);
	cr_assert_null(jstr(o, "metadata.continue"));
	json_decref(o);
	cr_assert_eq(call("GET", PODS "?labelSelector=a%20in%20(", NULL, NULL, &o), 400);
	json_decref(o);
}

Test(k8s_mock, watch_streams_changes)
{
	start(NULL);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	char url[300], out[240];
	snprintf(url, sizeof(url), "%s" PODS "?watch=true&labelSelector=app%%3Dweb&timeoutSeconds=3",
		fx_k8s_url(&k8s));
	snprintf(out, sizeof(out), "%s/watch.out", k8s.dir);
	const char *argv[] = { "curl", "-s", "-N", "--noproxy", "*", "--max-time", "10", "-o", out, url,
		NULL };
	pid_t pid = fx_spawn(argv, NULL, NULL);
	cr_assert(pid > 0);
	/* Until the watch is registered: it answers the current state first. */
	long long deadline = fx_now_ms() + 10000;
	while (fx_k8s_count_requests(&k8s, "GET", "watch=true") < 1 && fx_now_ms() < deadline)
		fx_sleep_ms(20);
	fx_sleep_ms(200);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-2", "web")), 0);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("db-1", "db")), 0);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, NS, "web-2", "{\"phase\":\"Running\"}"), 0);
	cr_assert_eq(call("DELETE", PODS "/web-1", NULL, NULL, NULL), 200);
	cr_assert_eq(fx_proc_reap(pid, 15000), 0, "the watch did not end after timeoutSeconds");

	size_t cap = 1 << 16;
	char *text = calloc(1, cap);
	FILE *f = fopen(out, "r");
	cr_assert_not_null(f);
	size_t len = fread(text, 1, cap - 1, f);
	fclose(f);
	text[len] = '\0';
	/* One JSON event per line, in order; db-1 does not match the selector. */
	const char *want[][2] = { { "ADDED", "web-1" }, { "ADDED", "web-2" }, { "MODIFIED", "web-2" },
		{ "DELETED", "web-1" } };
	int i = 0;
	for (char *save = NULL, *line = strtok_r(text, "\n", &save); line;
		line = strtok_r(NULL, "\n", &save), i++) {
		cr_assert_lt(i, 4, "too many events: %s", line);
		json_t *ev = json_loads(line, 0, NULL);
		cr_assert_not_null(ev, "not JSON: %s", line);
		cr_assert_str_eq(jstr(ev, "type"), want[i][0], "event %d: %s", i, line);
		cr_assert_str_eq(jstr(ev, "object.metadata.name"), want[i][1], "event %d: %s", i, line);
		json_decref(ev);
	}
	cr_assert_eq(i, 4, "4 events expected");
	free(text);
}

Test(k8s_mock, delete_grace_keeps_pod_for_a_while)
{
	fx_k8s_options o = { .delete_grace_ms = 1500 };
	start(&o);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	json_t *p;
	long long t0 = fx_now_ms();
	cr_assert_eq(call("DELETE", PODS "/web-1", NULL, NULL, &p), 200);
	cr_assert_not_null(jstr(p, "metadata.deletionTimestamp"), "deletionTimestamp is set");
	json_decref(p);
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, &p), 200, "still there in its grace period");
	cr_assert_not_null(jstr(p, "metadata.deletionTimestamp"));
	json_decref(p);
	while (call("GET", PODS "/web-1", NULL, NULL, NULL) == 200)
		fx_sleep_ms(100);
	long long took = fx_now_ms() - t0;
	cr_assert(took >= 1400 && took < 5000, "gone after %lld ms", took);
	/* gracePeriodSeconds=0 deletes at once. */
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-2", "web")), 0);
	cr_assert_eq(call("DELETE", PODS "/web-2?gracePeriodSeconds=0", NULL, NULL, NULL), 200);
	cr_assert_eq(call("GET", PODS "/web-2", NULL, NULL, NULL), 404);
}

Test(k8s_mock, events_logs_and_apply)
{
	start(NULL);
	/* A multi-document YAML as a test setup: a Deployment and its Pod,
	 * status included (there is no controller to make them). */
	char yaml[2000];
	snprintf(yaml, sizeof(yaml),
		"%s---\n"
		"apiVersion: v1\n"
		"kind: Pod\n"
		"metadata:\n"
		"  name: orders-7d9f-abcde\n"
		"  labels: {app: orders}\n"
		"spec:\n"
		"  nodeName: node-1\n"
		"  containers: [{name: app, image: registry.local/orders:1.0}]\n"
		"status:\n"
		"  phase: Pending\n"
		"  conditions: [{type: PodScheduled, status: \"False\", reason: Unschedulable}]\n",
		DEPLOYMENT_YAML);
	cr_assert_eq(fx_k8s_apply(&k8s, yaml), 0);
	json_t *o;
	cr_assert_eq(call("GET", PODS "/orders-7d9f-abcde", NULL, NULL, &o), 200);
	cr_assert_str_eq(jstr(o, "status.phase"), "Pending");
	char uid[80];
	snprintf(uid, sizeof(uid), "%s", jstr(o, "metadata.uid"));
	json_decref(o);
	/* From a file too. */
	char file[240];
	snprintf(file, sizeof(file), "%s/svc.json", k8s.dir);
	FILE *f = fopen(file, "w");
	fputs("{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"orders\"},"
	      "\"spec\":{\"selector\":{\"app\":\"orders\"},\"ports\":[{\"port\":80}]}}",
		f);
	fclose(f);
	cr_assert_eq(fx_k8s_apply(&k8s, file), 0);
	cr_assert_eq(call("GET", "/api/v1/namespaces/" NS "/services/orders", NULL, NULL, NULL), 200);

	cr_assert_eq(fx_k8s_add_event(&k8s, NS, "Pod", "orders-7d9f-abcde", "FailedScheduling",
			     "0/3 nodes are available: 3 Insufficient memory.", "Warning"),
		0);
	cr_assert_eq(fx_k8s_add_event(&k8s, NS, "Pod", "someone-else", "Pulled", "ok", "Normal"), 0);
	cr_assert_eq(call("GET",
			     "/api/v1/namespaces/" NS "/events?fieldSelector=involvedObject.kind%3DPod,"
			     "involvedObject.name%3Dorders-7d9f-abcde",
			     NULL, NULL, &o),
		200);
	cr_assert_str_eq(jstr(o, "kind"), "EventList");
	cr_assert_eq(json_array_size(json_object_get(o, "items")), 1);
	json_t *ev = json_array_get(json_object_get(o, "items"), 0);
	cr_assert_str_eq(jstr(ev, "reason"), "FailedScheduling");
	cr_assert_str_eq(jstr(ev, "type"), "Warning");
	cr_assert_str_eq(jstr(ev, "involvedObject.uid"), uid);
	cr_assert_str_eq(jstr(ev, "source.component"), "default-scheduler");
	cr_assert_not_null(jstr(ev, "lastTimestamp"));
	json_decref(o);

	cr_assert_eq(fx_k8s_set_pod_log(&k8s, NS, "orders-7d9f-abcde", NULL, "one\ntwo\nthree\n"), 0);
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&k8s, PODS "/orders-7d9f-abcde/log?tailLines=2", &r), 200);
	cr_assert_str_eq(r.out, "two\nthree\n");
	fx_run_result_free(&r);
	cr_assert_eq(fx_k8s_get(&k8s, PODS "/orders-7d9f-abcde/exec?command=sh", &r), 400);
	fx_run_result_free(&r);
}

Test(k8s_mock, kubeconfigs_and_restart)
{
	fx_k8s_options o = { .tls = 1, .token = "tok-1" };
	start(&o);
	for (int v = FX_K8S_KUBECONFIG_DEFAULT; v <= FX_K8S_KUBECONFIG_TWO_CONTEXTS; v++) {
		const char *path = fx_k8s_kubeconfig(&k8s, v);
		cr_assert_not_null(path, "variant %d", v);
		cr_assert_eq(access(path, R_OK), 0, "%s", path);
		fx_run_result r;
		const char *cat[] = { "cat", path, NULL };
		cr_assert_eq(fx_run(cat, NULL, NULL, 5000, &r), 0);
		cr_assert(strstr(r.out, fx_k8s_url(&k8s)) != NULL, "%s: no server URL:\n%s", path, r.out);
		cr_assert(strstr(r.out, "current-context: " FX_K8S_CONTEXT) != NULL);
		if (v == FX_K8S_KUBECONFIG_CERT_DATA)
			cr_assert(strstr(r.out, "client-key-data: LS0t") != NULL, "%s", r.out);
		if (v == FX_K8S_KUBECONFIG_CERT_FILES)
			cr_assert(strstr(r.out, "client-certificate: /") != NULL, "%s", r.out);
		if (v == FX_K8S_KUBECONFIG_INSECURE)
			cr_assert(strstr(r.out, "insecure-skip-tls-verify: true") != NULL, "%s", r.out);
		if (v == FX_K8S_KUBECONFIG_TOKEN)
			cr_assert(strstr(r.out, "token: tok-1") != NULL, "%s", r.out);
		if (v == FX_K8S_KUBECONFIG_TWO_CONTEXTS)
			cr_assert(strstr(r.out, "namespace: " FX_K8S_OTHER_NAMESPACE) != NULL, "%s", r.out);
		fx_run_result_free(&r);
	}
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	int port = k8s.port;
	cr_assert_eq(fx_k8s_restart(&k8s, FX_K8S_START_TIMEOUT_MS), 0);
	cr_assert_eq(k8s.port, port);
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, NULL), 404, "a restart forgets everything");
	cr_assert_eq(call("GET", "/version", NULL, NULL, NULL), 200);

	/* A plain-HTTP server has no TLS-only kubeconfigs. */
	cr_assert_eq(fx_k8s_start(&plain, NULL), 0);
	cr_assert_null(fx_k8s_kubeconfig(&plain, FX_K8S_KUBECONFIG_CERT_DATA));
	cr_assert_not_null(fx_k8s_kubeconfig(&plain, FX_K8S_KUBECONFIG_TWO_CONTEXTS));
	fx_daemon_stop(&plain);
}

/* The cloud case: the API server inside a network namespace answers there
 * (the fixture's curl runs inside it too), and not on the host. */
Test(k8s_mock, runs_inside_a_namespace)
{
	snprintf(netns, sizeof(netns), "devkit-k8s-%d", (int)getpid());
	const char *add[] = { "ip", "netns", "add", netns, NULL };
	fx_run_result r;
	if (fx_run(add, NULL, NULL, 10000, &r) != 0 || r.exit_code != 0) {
		char why[200];
		snprintf(why, sizeof(why), "%s", r.err ? r.err : "");
		fx_run_result_free(&r);
		netns[0] = '\0';
		cr_skip_test("cannot create a network namespace here: %s", why);
	}
	fx_run_result_free(&r);
	const char *up[] = { "ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up", NULL };
	cr_assert_eq(fx_run(up, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "lo up: %s", r.err);
	fx_run_result_free(&r);

	fx_k8s_options o = { .tls = 1, .token = "ns-token", .netns = netns };
	start(&o);
	cr_assert_str_eq(k8s.netns, netns);
	cr_assert_eq(fx_k8s_apply(&k8s, pod_json("web-1", "web")), 0);
	cr_assert_eq(call("GET", PODS "/web-1", NULL, NULL, NULL), 200);
	int fd = fx_connect_tcp("127.0.0.1", k8s.port);
	if (fd >= 0)
		close(fd);
	cr_assert(fd < 0, "the host reached a server that runs inside %s", netns);
}
