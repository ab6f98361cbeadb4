/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The replica lifecycle against a Kubernetes API server: fabric8's
 * kubernetes-server-mock in CRUD mode (tests/fixtures/k8s_fixture.h), over
 * the library's own client, through the public API only.
 *
 * The mock has no scheduler and no kubelet: a Pod stays Pending until the
 * test sets its status (fx_k8s_set_pod_status) the way the scheduler and the
 * kubelet would, and events exist only when the test adds them
 * (fx_k8s_add_event). Deleting a Pod takes delete_grace_ms, as a kubelet's
 * grace period would.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include <devkit.h>

#include "fixtures.h"
#include "k8s_fixture.h"

#define NS "shop"
#define GRACE_MS 1500

static fx_daemon srv;
static devkit_ctx *ctx;
static devkit_k8s *k8s;

static void start(int grace_ms)
{
	fx_k8s_options o = { 0 };
	o.delete_grace_ms = grace_ms;
	cr_assert_eq(fx_k8s_start(&srv, &o), 0, "the Kubernetes API mock did not start");
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
	devkit_k8s_options ko = DEVKIT_K8S_OPTIONS_INIT;
	ko.kubeconfig = fx_k8s_kubeconfig(&srv, FX_K8S_KUBECONFIG_DEFAULT);
	ko.namespace_name = NS;
	ko.timeout_ms = 10000;
	cr_assert_eq(devkit_k8s_open(&k8s, ctx, &ko), 0, "%s", devkit_error_last()->message);
}

static void setup(void)
{
	start(GRACE_MS);
}

static void teardown(void)
{
	devkit_k8s_free(k8s);
	devkit_ctx_free(ctx);
	k8s = NULL;
	ctx = NULL;
	fx_daemon_stop(&srv);
}

TestSuite(lifecycle, .init = setup, .fini = teardown, .timeout = 180);

static const char *manifest(const char *name)
{
	static char path[8][1024];
	static int next;
	char *p = path[next++ % 8];
	const char *src = getenv("DEVKIT_SOURCE_DIR");
	snprintf(p, sizeof(path[0]), "%s/tests/replica/manifests/%s", src ? src : ".", name);
	return p;
}

static void apply(const char *name)
{
	cr_assert_eq(fx_k8s_apply(&srv, manifest(name)), 0, "apply %s", name);
}

static const char *last_message(void)
{
	const devkit_error *e = devkit_error_last();
	return e && e->message ? e->message : "(no message)";
}

/* GET through the fixture: the HTTP status, and the body parsed in *out. */
static int get(const char *path, json_t **out)
{
	fx_run_result r;
	int status = fx_k8s_admin(&srv, "GET", path, NULL, NULL, &r);
	if (out) {
		json_error_t err;
		*out = r.out ? json_loads(r.out, 0, &err) : NULL;
	}
	fx_run_result_free(&r);
	return status;
}

static int pod_status_code(const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/namespaces/" NS "/pods/%s", name);
	return get(path, NULL);
}

/* The next replica stage event (others are skipped); 0 if none in time. */
static int next_stage(devkit_event *ev, int timeout_ms)
{
	for (;;) {
		int rc = devkit_ctx_poll(ctx, ev, timeout_ms);
		if (rc <= 0)
			return 0;
		if (ev->type == DEVKIT_EVENT_REPLICA_STAGE)
			return 1;
	}
}

static void expect_stage(const devkit_replica *r, int stage)
{
	devkit_event ev;
	cr_assert(next_stage(&ev, 5000), "no %s event", devkit_replica_stage_name(stage));
	cr_assert_eq(ev.state, stage, "event %s, expected %s (%s)",
		devkit_replica_stage_name(ev.state), devkit_replica_stage_name(stage), ev.message);
	cr_assert_eq(ev.object_id, devkit_replica_id(r));
	cr_assert_str_eq(ev.address, devkit_replica_name(r));
}

/* wait_ready on a thread of its own while the test plays the kubelet. */
typedef struct waiter {
	pthread_t thread;
	devkit_replica *r;
	int timeout_ms;
	int rc;
	char message[1024];
} waiter;

static void *wait_thread(void *arg)
{
	waiter *w = arg;
	w->rc = devkit_replica_wait_ready(w->r, w->timeout_ms);
	snprintf(w->message, sizeof(w->message), "%s", w->rc < 0 ? last_message() : "");
	return NULL;
}

static void wait_start(waiter *w, devkit_replica *r, int timeout_ms)
{
	memset(w, 0, sizeof(*w));
	w->r = r;
	w->timeout_ms = timeout_ms;
	cr_assert_eq(pthread_create(&w->thread, NULL, wait_thread, w), 0);
}

static void set_status(const char *name, const char *status)
{
	cr_assert_eq(fx_k8s_set_pod_status(&srv, NS, name, status), 0, "set status of %s", name);
}

static devkit_replica_options petclinic_options(void)
{
	devkit_replica_options o = DEVKIT_REPLICA_OPTIONS_INIT;
	o.source_kind = DEVKIT_REPLICA_FROM_DEPLOYMENT;
	o.source_name = "petclinic";
	o.owner = "alice";
	return o;
}

static devkit_replica *create_petclinic(devkit_replica_options *o)
{
	devkit_replica *r = NULL;
	int rc = devkit_replica_create(&r, k8s, o);
	cr_assert_eq(rc, 0, "create: %s", last_message());
	cr_assert(r);
	cr_assert_eq(devkit_replica_get_stage(r), DEVKIT_REPLICA_CREATED);
	expect_stage(r, DEVKIT_REPLICA_CREATED);
	return r;
}

#define SCHEDULED "{\"type\":\"PodScheduled\",\"status\":\"True\"}"
#define INITIALIZED "{\"type\":\"Initialized\",\"status\":\"True\"}"
#define NOT_READY(type) "{\"type\":\"" type "\",\"status\":\"False\",\"reason\":" \
	"\"ContainersNotReady\",\"message\":\"containers with unready status: [petclinic]\"}"

Test(lifecycle, from_deployment_through_every_stage_and_back)
{
	apply("petclinic-deployment.yaml");
	apply("petclinic-service.yaml");
	devkit_replica_options o = petclinic_options();
	o.keep_alive = 1;
	o.no_liveness = 1;
	o.jvm_exception_log = 1;
	o.debug_port = 5005;
	o.tcpdump = 1;
	o.ttl_s = 3600;

	/* the dry run writes nothing */
	devkit_buf doc = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_replica_build(k8s, &o, &doc), 0, "%s", last_message());
	json_t *dry = json_loads(doc.ptr, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(dry, "kind")), "Pod");
	devkit_buf_dispose(&doc);
	json_decref(dry);
	cr_assert_eq(fx_k8s_count_requests(&srv, "POST", NULL), 0);

	devkit_replica *r = create_petclinic(&o);
	const char *name = devkit_replica_name(r);
	cr_assert(strncmp(name, "petclinic-alice-", 16) == 0, "%s", name);
	cr_assert_str_eq(devkit_replica_namespace(r), NS);

	/* what the server has is what we built */
	char path[256];
	json_t *pod;
	snprintf(path, sizeof(path), "/api/v1/namespaces/" NS "/pods/%s", name);
	cr_assert_eq(get(path, &pod), 200);
	json_t *labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/replica")), "true");
	cr_assert(!json_object_get(labels, "app.kubernetes.io/name"));
	json_t *containers = json_object_get(json_object_get(pod, "spec"), "containers");
	cr_assert_eq(json_array_size(containers), 2); /* the app and tcpdump */
	json_decref(pod);

	/* the scheduler and the kubelet, played by the test */
	waiter w;
	wait_start(&w, r, 30000);
	usleep(700 * 1000);
	set_status(name, "{\"phase\":\"Pending\",\"conditions\":[" SCHEDULED "]}");
	expect_stage(r, DEVKIT_REPLICA_SCHEDULED);
	set_status(name, "{\"phase\":\"Pending\",\"conditions\":[" SCHEDULED "," INITIALIZED ","
		NOT_READY("ContainersReady") "," NOT_READY("Ready") "],\"containerStatuses\":[{\"name\":"
		"\"petclinic\",\"ready\":false,\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":"
		"\"ContainerCreating\"}}}]}");
	expect_stage(r, DEVKIT_REPLICA_INITIALIZED);
	set_status(name, "{\"phase\":\"Running\",\"conditions\":[" SCHEDULED "," INITIALIZED ","
		"{\"type\":\"ContainersReady\",\"status\":\"True\"}," NOT_READY("Ready") "]}");
	expect_stage(r, DEVKIT_REPLICA_CONTAINERS_READY);
	set_status(name, "{\"phase\":\"Running\",\"conditions\":[" SCHEDULED "," INITIALIZED ","
		"{\"type\":\"ContainersReady\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":"
		"\"True\"}]}");
	expect_stage(r, DEVKIT_REPLICA_READY);
	pthread_join(w.thread, NULL);
	cr_assert_eq(w.rc, 0, "wait_ready: %s", w.message);
	cr_assert_eq(devkit_replica_get_stage(r), DEVKIT_REPLICA_READY);

	/* listed */
	devkit_buf list = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_replica_list(k8s, NULL, &list), 0, "%s", last_message());
	json_t *rows = json_loads(list.ptr, 0, NULL);
	cr_assert_eq(json_array_size(rows), 1, "%s", list.ptr);
	json_t *row = json_array_get(rows, 0);
	cr_assert_str_eq(json_string_value(json_object_get(row, "name")), name);
	cr_assert_str_eq(json_string_value(json_object_get(row, "owner")), "alice");
	cr_assert_str_eq(json_string_value(json_object_get(row, "source")), "deployment/petclinic");
	cr_assert_str_eq(json_string_value(json_object_get(row, "phase")), "Running");
	json_decref(rows);
	devkit_buf_dispose(&list);

	/* delete waits until the Pod is gone, not only until it is deleting */
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cr_assert_eq(devkit_replica_delete(r, 20000), 0, "%s", last_message());
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	cr_assert_geq(ms, GRACE_MS - 200, "delete returned after %ld ms", ms);
	cr_assert_eq(pod_status_code(name), 404);
	expect_stage(r, DEVKIT_REPLICA_DELETED);
	devkit_replica_free(r);
}

Test(lifecycle, image_pull_back_off_says_why)
{
	apply("petclinic-deployment.yaml");
	apply("petclinic-service.yaml");
	devkit_replica_options o = petclinic_options();
	devkit_replica *r = create_petclinic(&o);
	const char *name = devkit_replica_name(r);
	set_status(name, "{\"phase\":\"Pending\",\"conditions\":[" SCHEDULED "," INITIALIZED ","
		NOT_READY("ContainersReady") "," NOT_READY("Ready") "],\"containerStatuses\":[{\"name\":"
		"\"petclinic\",\"ready\":false,\"restartCount\":0,\"image\":\"ghcr.io/spring-projects/"
		"spring-petclinic:3.2.0\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\","
		"\"message\":\"Back-off pulling image \\\"ghcr.io/spring-projects/spring-petclinic:"
		"3.2.0\\\"\"}}}]}");
	cr_assert_eq(fx_k8s_add_event(&srv, NS, "Pod", name, "Pulling",
		"Pulling image \"ghcr.io/spring-projects/spring-petclinic:3.2.0\"", "Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&srv, NS, "Pod", name, "Failed",
		"Failed to pull image \"ghcr.io/spring-projects/spring-petclinic:3.2.0\": "
		"rpc error: code = NotFound desc = failed to resolve reference", "Warning"), 0);
	/* an event about another Pod must not show */
	cr_assert_eq(fx_k8s_add_event(&srv, NS, "Pod", "someone-else", "Killing",
		"Stopping container web", "Normal"), 0);

	int rc = devkit_replica_wait_ready(r, 20000);
	const char *msg = last_message();
	cr_log_info("%s", msg);
	cr_assert_eq(rc, DEVKIT_ERROR, "%d: %s", rc, msg);
	cr_assert(strstr(msg, "cannot get further: container petclinic: ImagePullBackOff"), "%s", msg);
	cr_assert(strstr(msg, "stage reached: initialized"), "%s", msg);
	cr_assert(strstr(msg, "ContainersReady=False (ContainersNotReady"), "%s", msg);
	cr_assert(strstr(msg, "Warning Failed: Failed to pull image"), "%s", msg);
	cr_assert(strstr(msg, "Normal Pulling"), "%s", msg);
	cr_assert(!strstr(msg, "Stopping container web"), "%s", msg);
	expect_stage(r, DEVKIT_REPLICA_SCHEDULED);
	expect_stage(r, DEVKIT_REPLICA_INITIALIZED);
	expect_stage(r, DEVKIT_REPLICA_FAILED);
	cr_assert_eq(devkit_replica_get_stage(r), DEVKIT_REPLICA_FAILED);
	cr_assert_eq(devkit_replica_delete(r, 20000), 0, "%s", last_message());
	devkit_replica_free(r);
}

Test(lifecycle, unschedulable_says_why)
{
	apply("petclinic-deployment.yaml");
	apply("petclinic-service.yaml");
	devkit_replica_options o = petclinic_options();
	devkit_replica *r = create_petclinic(&o);
	const char *name = devkit_replica_name(r);
	set_status(name, "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\","
		"\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":\"0/3 nodes are "
		"available: insufficient cpu.\"}]}");
	cr_assert_eq(fx_k8s_add_event(&srv, NS, "Pod", name, "FailedScheduling",
		"0/3 nodes are available: insufficient cpu", "Warning"), 0);
	int rc = devkit_replica_wait_ready(r, 20000);
	const char *msg = last_message();
	cr_log_info("%s", msg);
	cr_assert_eq(rc, DEVKIT_ERROR, "%d: %s", rc, msg);
	cr_assert(strstr(msg, "unschedulable: 0/3 nodes are available: insufficient cpu"), "%s", msg);
	cr_assert(strstr(msg, "stage reached: created"), "%s", msg);
	cr_assert(strstr(msg, "PodScheduled=False (Unschedulable"), "%s", msg);
	cr_assert(strstr(msg, "Warning FailedScheduling: 0/3 nodes are available: insufficient cpu"),
		"%s", msg);
	expect_stage(r, DEVKIT_REPLICA_FAILED);
	cr_assert_eq(devkit_replica_delete(r, 20000), 0, "%s", last_message());
	devkit_replica_free(r);
}

Test(lifecycle, timeout_says_where_it_stopped)
{
	apply("petclinic-deployment.yaml");
	devkit_replica_options o = petclinic_options();
	devkit_replica *r = create_petclinic(&o);
	set_status(devkit_replica_name(r), "{\"phase\":\"Pending\",\"conditions\":[" SCHEDULED "]}");
	int rc = devkit_replica_wait_ready(r, 1200);
	const char *msg = last_message();
	cr_log_info("%s", msg);
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "%d: %s", rc, msg);
	cr_assert(strstr(msg, "not ready after 1200 ms"), "%s", msg);
	cr_assert(strstr(msg, "stage reached: scheduled"), "%s", msg);
	cr_assert(strstr(msg, "events: none"), "%s", msg);
	expect_stage(r, DEVKIT_REPLICA_SCHEDULED);
	cr_assert_eq(devkit_replica_delete(r, 20000), 0, "%s", last_message());
	devkit_replica_free(r);
}

Test(lifecycle, name_conflict)
{
	apply("petclinic-deployment.yaml");
	cr_assert_eq(fx_k8s_apply(&srv, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		"\"name\":\"petclinic-debug\",\"namespace\":\"" NS "\"},\"spec\":{\"containers\":[{"
		"\"name\":\"x\",\"image\":\"busybox\"}]}}"), 0);
	devkit_replica_options o = petclinic_options();
	o.name = "petclinic-debug";
	devkit_replica *r = NULL;
	int rc = devkit_replica_create(&r, k8s, &o);
	cr_assert_eq(rc, DEVKIT_EEXISTS, "%d: %s", rc, last_message());
	cr_assert_null(r);
	cr_assert(strstr(last_message(), "replica shop/petclinic-debug: the name is taken"), "%s",
		last_message());
	/* the Pod that was there is untouched */
	json_t *pod;
	cr_assert_eq(get("/api/v1/namespaces/" NS "/pods/petclinic-debug", &pod), 200);
	cr_assert_null(json_object_get(json_object_get(pod, "metadata"), "labels"));
	json_decref(pod);
}

Test(lifecycle, forbidden_leaves_nothing)
{
	apply("petclinic-deployment.yaml");
	cr_assert_eq(fx_k8s_forbid(&srv, "create:pods"), 0);
	devkit_replica_options o = petclinic_options();
	devkit_replica *r = NULL;
	int rc = devkit_replica_create(&r, k8s, &o);
	const char *msg = last_message();
	cr_log_info("%s", msg);
	cr_assert_eq(rc, DEVKIT_EFORBIDDEN, "%d: %s", rc, msg);
	cr_assert(strstr(msg, "creating the Pod failed"), "%s", msg);
	cr_assert(strstr(msg, "cannot create resource \"pods\""), "%s", msg);
	json_t *pods;
	cr_assert_eq(get("/api/v1/namespaces/" NS "/pods", &pods), 200);
	cr_assert_eq(json_array_size(json_object_get(pods, "items")), 0);
	json_decref(pods);
}

Test(lifecycle, istio_objects_created_and_removed_with_the_pod)
{
	apply("reviews-v2-deployment.yaml");
	apply("reviews-service.yaml");
	devkit_replica_options o = DEVKIT_REPLICA_OPTIONS_INIT;
	o.source_kind = DEVKIT_REPLICA_FROM_DEPLOYMENT;
	o.source_name = "reviews-v2";
	o.namespace_name = "bookinfo";
	o.owner = "alice";
	o.traffic_tag = "alice";
	o.istio = 1;
	o.istio_host = "reviews";

	devkit_buf doc = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_replica_build(k8s, &o, &doc), 0, "%s", last_message());
	json_t *list = json_loads(doc.ptr, 0, NULL);
	cr_assert_str_eq(json_string_value(json_object_get(list, "kind")), "List");
	cr_assert_eq(json_array_size(json_object_get(list, "items")), 3);
	json_decref(list);
	devkit_buf_dispose(&doc);

	devkit_replica *r = NULL;
	cr_assert_eq(devkit_replica_create(&r, k8s, &o), 0, "%s", last_message());
	char path[256];
	snprintf(path, sizeof(path),
		"/apis/networking.istio.io/v1beta1/namespaces/bookinfo/virtualservices/%s",
		devkit_replica_name(r));
	cr_assert_eq(get(path, NULL), 200);
	snprintf(path, sizeof(path),
		"/apis/networking.istio.io/v1beta1/namespaces/bookinfo/destinationrules/%s",
		devkit_replica_name(r));
	cr_assert_eq(get(path, NULL), 200);
	cr_assert_eq(devkit_replica_delete(r, 20000), 0, "%s", last_message());
	cr_assert_eq(get(path, NULL), 404);
	snprintf(path, sizeof(path),
		"/apis/networking.istio.io/v1beta1/namespaces/bookinfo/virtualservices/%s",
		devkit_replica_name(r));
	cr_assert_eq(get(path, NULL), 404);
	snprintf(path, sizeof(path), "/api/v1/namespaces/bookinfo/pods/%s", devkit_replica_name(r));
	cr_assert_eq(get(path, NULL), 404);
	devkit_replica_free(r);
}

Test(lifecycle, istio_failure_after_the_pod_leaves_nothing)
{
	apply("reviews-v2-deployment.yaml");
	apply("reviews-service.yaml");
	cr_assert_eq(fx_k8s_forbid(&srv, "create:virtualservices"), 0);
	devkit_replica_options o = DEVKIT_REPLICA_OPTIONS_INIT;
	o.source_kind = DEVKIT_REPLICA_FROM_DEPLOYMENT;
	o.source_name = "reviews-v2";
	o.namespace_name = "bookinfo";
	o.name = "reviews-alice";
	o.traffic_tag = "alice";
	o.istio = 1;
	o.istio_host = "reviews";
	devkit_replica *r = NULL;
	int rc = devkit_replica_create(&r, k8s, &o);
	const char *msg = last_message();
	cr_log_info("%s", msg);
	cr_assert_eq(rc, DEVKIT_EFORBIDDEN, "%d: %s", rc, msg);
	cr_assert(strstr(msg, "creating its VirtualService failed"), "%s", msg);
	cr_assert(strstr(msg, "deleted again"), "%s", msg);
	cr_assert_null(r);
	/* the Pod and the DestinationRule made before are gone */
	cr_assert_eq(get("/api/v1/namespaces/bookinfo/pods/reviews-alice", NULL), 404);
	cr_assert_eq(get("/apis/networking.istio.io/v1beta1/namespaces/bookinfo/destinationrules/"
		"reviews-alice", NULL), 404);
}

Test(lifecycle, source_not_found_and_malformed_answers)
{
	devkit_replica_options o = petclinic_options();
	o.source_name = "nope";
	devkit_replica *r = NULL;
	int rc = devkit_replica_create(&r, k8s, &o);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "%d: %s", rc, last_message());
	cr_assert_str_eq(last_message(), "replica: deployment/nope not found in namespace shop");

	apply("petclinic-deployment.yaml");
	o.source_name = "petclinic";
	cr_assert_eq(fx_k8s_malformed_next(&srv, 1), 0);
	rc = devkit_replica_create(&r, k8s, &o);
	cr_assert_eq(rc, DEVKIT_EPROTO, "%d: %s", rc, last_message());
	cr_assert_eq(fx_k8s_count_requests(&srv, "POST", NULL), 0);
}

/* A replica Pod as an earlier run (or another developer) left it. */
static void apply_replica(const char *ns, const char *name, int replica, time_t expires)
{
	char created[32], exp[32], body[1024];
	time_t now = time(NULL);
	struct tm tm;
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	gmtime_r(&expires, &tm);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	snprintf(body, sizeof(body), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{"
		"\"name\":\"%s\",\"namespace\":\"%s\",\"labels\":{\"devkit.io/replica\":\"%s\","
		"\"devkit.io/owner\":\"bob\"},\"annotations\":{\"devkit.io/source\":\"deployment/web\","
		"\"devkit.io/created\":\"%s\",\"devkit.io/expires\":\"%s\"}},\"spec\":{\"nodeName\":"
		"\"worker-1\",\"containers\":[{\"name\":\"web\",\"image\":\"nginx\"}]},\"status\":{"
		"\"phase\":\"Running\"}}", name, ns, replica ? "true" : "no", created, exp);
	cr_assert_eq(fx_k8s_apply(&srv, body), 0);
}

Test(lifecycle, list_and_gc)
{
	time_t now = time(NULL);
	apply_replica(NS, "web-bob-old", 1, now - 60);
	apply_replica(NS, "web-bob-new", 1, now + 3600);
	apply_replica(NS, "web-not-ours", 0, now - 60);
	apply_replica("staging", "web-bob-staging", 1, now - 3600);

	devkit_buf buf = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_replica_list(k8s, NULL, &buf), 0, "%s", last_message());
	json_t *rows = json_loads(buf.ptr, 0, NULL);
	cr_assert_eq(json_array_size(rows), 2, "%s", buf.ptr);
	json_t *row = json_array_get(rows, 0);
	cr_assert_str_eq(json_string_value(json_object_get(row, "namespace")), NS);
	cr_assert_str_eq(json_string_value(json_object_get(row, "owner")), "bob");
	cr_assert_str_eq(json_string_value(json_object_get(row, "source")), "deployment/web");
	cr_assert_str_eq(json_string_value(json_object_get(row, "node")), "worker-1");
	cr_assert_str_eq(json_string_value(json_object_get(row, "phase")), "Running");
	cr_assert(json_string_value(json_object_get(row, "expires")));
	json_decref(rows);
	devkit_buf_dispose(&buf);
	cr_assert_eq(devkit_replica_list(k8s, "*", &buf), 0, "%s", last_message());
	rows = json_loads(buf.ptr, 0, NULL);
	cr_assert_eq(json_array_size(rows), 3, "%s", buf.ptr);
	json_decref(rows);
	devkit_buf_dispose(&buf);

	int deleted = -1;
	cr_assert_eq(devkit_replica_gc(k8s, NULL, &deleted), 0, "%s", last_message());
	cr_assert_eq(deleted, 1);
	/* deleting takes the grace period: wait for it */
	for (int i = 0; i < 50 && pod_status_code("web-bob-old") != 404; i++)
		usleep(100 * 1000);
	cr_assert_eq(pod_status_code("web-bob-old"), 404);
	cr_assert_eq(pod_status_code("web-bob-new"), 200);
	cr_assert_eq(pod_status_code("web-not-ours"), 200);
	cr_assert_eq(get("/api/v1/namespaces/staging/pods/web-bob-staging", NULL), 200);

	cr_assert_eq(devkit_replica_gc(k8s, "*", &deleted), 0, "%s", last_message());
	cr_assert_eq(deleted, 1);
	cr_assert_eq(pod_status_code("web-bob-new"), 200);
}

Test(lifecycle, delete_by_name_refuses_other_pods)
{
	time_t now = time(NULL);
	apply_replica(NS, "web-bob-1", 1, now + 3600);
	apply_replica(NS, "web-real", 0, now + 3600);
	int rc = devkit_replica_delete_name(k8s, NULL, "web-real", 20000);
	cr_assert_eq(rc, DEVKIT_EINVAL, "%d: %s", rc, last_message());
	cr_assert(strstr(last_message(), "is not a devkit replica"), "%s", last_message());
	cr_assert_eq(pod_status_code("web-real"), 200);
	rc = devkit_replica_delete_name(k8s, NULL, "web-nothing", 20000);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "%d: %s", rc, last_message());
	rc = devkit_replica_delete_name(k8s, NULL, "web-bob-1", 20000);
	cr_assert_eq(rc, 0, "%s", last_message());
	cr_assert_eq(pod_status_code("web-bob-1"), 404);
}
