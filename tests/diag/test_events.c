/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_diag_events and devkit_diag_events_watch against the Kubernetes API
 * mock: the Pod's and its owners' events, sorted and grouped by stage; the
 * field selector sent, and the filtering on our side that still holds when
 * the server ignores the selector (a relay renames the parameter, so the
 * mock answers with every event of the namespace).
 */
#include "cut_proxy.h"
#include "diag_test.h"

#define NS "shop"

TestSuite(events, .init = NULL, .fini = dt_stop, .timeout = 120);

/* A Deployment, its ReplicaSet and two of its Pods, events for all. */
static void load_rollout(void)
{
	dt_start(NULL);
	cr_assert_eq(fx_k8s_apply(&dt_api,
		"{\"apiVersion\":\"apps/v1\",\"kind\":\"Deployment\",\"metadata\":{\"name\":\"web\","
		"\"namespace\":\"" NS "\"},\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},"
		"\"template\":{\"metadata\":{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":"
		"[{\"name\":\"web\",\"image\":\"nginx:1.25\"}]}}}}"), 0);
	json_t *dep = dt_admin_get("/apis/apps/v1/namespaces/" NS "/deployments/web");
	cr_assert(dep);
	const char *dep_uid = dt_str(json_object_get(dep, "metadata"), "uid");
	char rs[1200];
	snprintf(rs, sizeof(rs), "{\"apiVersion\":\"apps/v1\",\"kind\":\"ReplicaSet\",\"metadata\":"
		"{\"name\":\"web-5d8f7\",\"namespace\":\"" NS "\",\"ownerReferences\":[{\"apiVersion\":"
		"\"apps/v1\",\"kind\":\"Deployment\",\"name\":\"web\",\"uid\":\"%s\","
		"\"controller\":true}]},"
		"\"spec\":{\"selector\":{\"matchLabels\":{\"app\":\"web\"}},\"template\":{\"metadata\":"
		"{\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
		"\"nginx:1.25\"}]}}}}", dep_uid);
	cr_assert_eq(fx_k8s_apply(&dt_api, rs), 0);
	json_decref(dep);
	json_t *rso = dt_admin_get("/apis/apps/v1/namespaces/" NS "/replicasets/web-5d8f7");
	cr_assert(rso);
	for (int i = 1; i <= 2; i++) {
		char pod[1200];
		snprintf(pod, sizeof(pod), "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
			"\"web-5d8f7-%c\",\"namespace\":\"" NS "\",\"ownerReferences\":[{\"apiVersion\":"
			"\"apps/v1\",\"kind\":\"ReplicaSet\",\"name\":\"web-5d8f7\",\"uid\":\"%s\","
			"\"controller\":true}]},\"spec\":{\"containers\":[{\"name\":\"web\",\"image\":"
			"\"nginx:1.25\"}]}}", i == 1 ? 'a' : 'b', dt_str(json_object_get(rso, "metadata"),
			"uid"));
		cr_assert_eq(fx_k8s_apply(&dt_api, pod), 0);
	}
	json_decref(rso);
	/* the scheduler, the kubelet and the controllers, as they would word it */
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Deployment", "web", "ScalingReplicaSet",
		"Scaled up replica set web-5d8f7 to 2", "Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "ReplicaSet", "web-5d8f7", "SuccessfulCreate",
		"Created pod: web-5d8f7-a", "Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "ReplicaSet", "web-5d8f7", "SuccessfulCreate",
		"Created pod: web-5d8f7-b", "Normal"), 0);
	usleep(20000); /* events are stamped by the second: keep their order */
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-a", "Scheduled",
		"Successfully assigned shop/web-5d8f7-a to worker-1", "Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-b", "FailedScheduling",
		"0/3 nodes are available: 3 Insufficient cpu.", "Warning"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-a", "Pulling",
		"Pulling image \"nginx:1.25\"", "Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-a", "Unhealthy",
		"Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning"), 0);
	/* an event of an earlier Pod with the same name (another uid) */
	cr_assert_eq(fx_k8s_apply(&dt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Event\",\"metadata\":"
		"{\"name\":\"web-5d8f7-a.old\",\"namespace\":\"" NS "\"},\"involvedObject\":{\"kind\":"
		"\"Pod\",\"name\":\"web-5d8f7-a\",\"namespace\":\"" NS "\",\"uid\":\"00000000-dead-"
		"beef-0000-000000000000\"},\"reason\":\"Killing\",\"message\":\"Stopping container "
		"web\",\"type\":\"Normal\",\"lastTimestamp\":\"2024-05-01T11:00:00Z\",\"count\":1}"), 0);
}

static json_t *events_of(devkit_k8s *k, const char *pod)
{
	devkit_buf out = DEVKIT_BUF_INIT;
	int rc = devkit_diag_events(k, NS, pod, &out);
	cr_assert_eq(rc, 0, "devkit_diag_events: %s", dt_err());
	json_t *doc = json_loads(out.ptr, 0, NULL);
	cr_assert(doc, "not JSON: %s", out.ptr);
	cr_log_info("%s", out.ptr);
	devkit_buf_dispose(&out);
	return doc;
}

/* The reasons of the events, "Kind:Reason" comma-separated, in order. */
static void reasons(const json_t *events, char *out, size_t cap)
{
	size_t i, len = 0;
	json_t *ev;
	out[0] = '\0';
	json_array_foreach(events, i, ev)
		len += (size_t)snprintf(out + len, cap - len, "%s%s:%s", len ? "," : "",
			dt_str(json_object_get(ev, "object"), "kind"), dt_str(ev, "reason"));
}

static void check_rollout_events(const json_t *doc)
{
	char got[1024];
	reasons(json_object_get(doc, "events"), got, sizeof(got));
	/* ours and our owners', oldest first; not web-5d8f7-b's, not the RS's
	 * event about web-5d8f7-b, not the earlier Pod's */
	cr_assert_str_eq(got, "Deployment:ScalingReplicaSet,ReplicaSet:SuccessfulCreate,"
		"Pod:Scheduled,Pod:Pulling,Pod:Unhealthy");
	const json_t *objects = json_object_get(doc, "objects");
	cr_assert_eq(json_array_size(objects), 3);
	cr_assert_str_eq(dt_str(json_array_get(objects, 1), "kind"), "ReplicaSet");
	cr_assert_str_eq(dt_str(json_array_get(objects, 2), "name"), "web");

	/* grouped by stage, in the order of a Pod's life */
	const json_t *stages = json_object_get(doc, "stages");
	char order[256];
	size_t i, len = 0;
	json_t *g;
	order[0] = '\0';
	json_array_foreach(stages, i, g)
		len += (size_t)snprintf(order + len, sizeof(order) - len, "%s%s=%zu", len ? "," : "",
			dt_str(g, "stage"), json_array_size(json_object_get(g, "events")));
	cr_assert_str_eq(order, "scheduling=2,start-up=1,running=1,other=1");
}

Test(events, owners_sorted_grouped_and_selector_sent)
{
	load_rollout();
	json_t *doc = events_of(dt_k8s, "web-5d8f7-a");
	check_rollout_events(doc);
	json_decref(doc);
	/* the server was asked with a field selector for each object */
	cr_assert_eq(fx_k8s_count_requests(&dt_api, "GET", "/api/v1/namespaces/shop/events?"
		"fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dweb-5d8f7-a"), 1);
	cr_assert_eq(fx_k8s_count_requests(&dt_api, "GET", "fieldSelector=involvedObject.kind%3D"
		"ReplicaSet%2CinvolvedObject.name%3Dweb-5d8f7"), 1);
	cr_assert_eq(fx_k8s_count_requests(&dt_api, "GET", "fieldSelector=involvedObject.kind%3D"
		"Deployment%2CinvolvedObject.name%3Dweb"), 1);
}

Test(events, filtered_here_when_the_server_ignores_the_selector)
{
	load_rollout();
	cut_proxy proxy;
	cr_assert_eq(cut_proxy_start(&proxy, dt_api.port), 0);
	proxy.rewrite_from = "fieldSelector=";
	proxy.rewrite_to = "fieldSelectoX=";
	char via[64];
	snprintf(via, sizeof(via), "127.0.0.1:%d", proxy.port);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	ko.connect_to = via;
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, dt_ctx, &ko), 0, "%s", dt_err());

	/* proof that the server now answers with everything */
	fx_run_result r;
	cr_assert_eq(fx_k8s_get(&dt_api, "/api/v1/namespaces/" NS "/events?fieldSelectoX="
		"involvedObject.name%3Dweb-5d8f7-a", &r), 200);
	json_t *all = json_loads(r.out, 0, NULL);
	fx_run_result_free(&r);
	cr_assert_geq(json_array_size(json_object_get(all, "items")), 8);
	json_decref(all);

	json_t *doc = events_of(k, "web-5d8f7-a");
	cr_assert_geq(atomic_load(&proxy.rewrites), 3, "the selector was not taken out");
	check_rollout_events(doc);
	json_decref(doc);
	devkit_k8s_free(k);
	cut_proxy_stop(&proxy);
}

Test(events, a_pod_that_does_not_exist)
{
	dt_start(NULL);
	devkit_buf out = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_diag_events(dt_k8s, NS, "nope", &out), DEVKIT_ENOTFOUND);
	cr_assert(strstr(dt_err(), "pods \"nope\" not found"), "%s", dt_err());
	cr_assert_eq(devkit_diag_events(dt_k8s, NS, "", &out), DEVKIT_EINVAL);
	cr_assert_eq(devkit_diag_events(dt_k8s, NS, "web", NULL), DEVKIT_EINVAL);
}

/* The next watched event (a JSON line), or NULL at the timeout. */
static json_t *next_event(devkit_diag_watch *w, int timeout_ms)
{
	devkit_buf line = DEVKIT_BUF_INIT;
	int rc = devkit_diag_watch_read(w, &line, timeout_ms);
	cr_assert_geq(rc, 0, "devkit_diag_watch_read: %s", dt_err());
	if (rc == 0)
		return NULL;
	json_t *ev = json_loads(line.ptr, 0, NULL);
	cr_assert(ev, "not JSON: %s", line.ptr);
	devkit_buf_dispose(&line);
	return ev;
}

Test(events, watch_existing_then_new_across_a_cut)
{
	load_rollout();
	cut_proxy proxy;
	cr_assert_eq(cut_proxy_start(&proxy, dt_api.port), 0);
	char via[64];
	snprintf(via, sizeof(via), "127.0.0.1:%d", proxy.port);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	ko.connect_to = via;
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, dt_ctx, &ko), 0, "%s", dt_err());

	devkit_diag_watch *w = NULL;
	cr_assert_eq(devkit_diag_events_watch(&w, k, NS, "web-5d8f7-a"), 0, "%s", dt_err());
	static const char *const first[] = { "ScalingReplicaSet", "SuccessfulCreate", "Scheduled",
		"Pulling", "Unhealthy" };
	for (int i = 0; i < 5; i++) {
		json_t *ev = next_event(w, 5000);
		cr_assert(ev, "existing event %d did not come", i);
		cr_assert_str_eq(dt_str(ev, "reason"), first[i]);
		cr_assert_str_eq(dt_str(ev, "action"), "ADDED");
		json_decref(ev);
	}
	cr_assert_null(next_event(w, 300));

	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-b", "Pulling", "not ours",
		"Normal"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "Pod", "web-5d8f7-a", "Killing",
		"Container web failed liveness probe, will be restarted", "Normal"), 0);
	json_t *ev = next_event(w, 10000);
	cr_assert(ev, "the new event did not come");
	cr_assert_str_eq(dt_str(ev, "reason"), "Killing");
	cr_assert_str_eq(dt_str(ev, "stage"), "running");
	json_decref(ev);

	/* the watches are cut; what happens meanwhile still arrives, once */
	cut_proxy_cut(&proxy);
	cr_assert_eq(fx_k8s_add_event(&dt_api, NS, "ReplicaSet", "web-5d8f7", "SuccessfulDelete",
		"Deleted pod: web-5d8f7-a", "Normal"), 0);
	ev = next_event(w, 15000);
	cr_assert(ev, "the event written during the cut did not come");
	cr_assert_str_eq(dt_str(ev, "reason"), "SuccessfulDelete");
	cr_assert_str_eq(dt_str(ev, "stage"), "offline");
	json_decref(ev);
	cr_assert_null(next_event(w, 1000), "an event came twice");
	cr_assert_gt(atomic_load(&proxy.accepted), 3, "the watches were not made again");

	devkit_diag_watch_free(w);
	devkit_k8s_free(k);
	cut_proxy_stop(&proxy);
}
