/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a Pod's status and events (diagnose.c): the stage reached, the
 * cases that cannot get further, and the text of the conditions and latest
 * events, on statuses and events as the API server returns them.
 */
#include "replica_test.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert(j, "%s", err.text);
	return j;
}

Test(diagnose, stages_follow_the_conditions)
{
	devkit__replica_status st;
	json_t *pod = parse("{\"status\":{\"phase\":\"Pending\"}}");
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_CREATED);
	cr_assert_eq(st.stuck, 0);
	json_decref(pod);

	pod = parse("{\"status\":{\"phase\":\"Pending\",\"conditions\":["
		"{\"type\":\"PodScheduled\",\"status\":\"True\"},"
		"{\"type\":\"Initialized\",\"status\":\"False\",\"reason\":\"ContainersNotInitialized\"}]}}");
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_SCHEDULED);
	json_decref(pod);

	pod = parse("{\"status\":{\"phase\":\"Running\",\"conditions\":["
		"{\"type\":\"Initialized\",\"status\":\"True\"},"
		"{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"ContainersNotReady\"},"
		"{\"type\":\"ContainersReady\",\"status\":\"False\"},"
		"{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}");
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_INITIALIZED);
	json_decref(pod);

	/* the order of the list does not matter, each stage needs the ones before */
	pod = parse("{\"status\":{\"phase\":\"Running\",\"conditions\":["
		"{\"type\":\"Ready\",\"status\":\"True\"},"
		"{\"type\":\"ContainersReady\",\"status\":\"True\"},"
		"{\"type\":\"Initialized\",\"status\":\"True\"},"
		"{\"type\":\"PodScheduled\",\"status\":\"True\"}]}}");
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_READY);
	json_decref(pod);
	pod = parse("{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}");
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_CREATED);
	json_decref(pod);
}

Test(diagnose, image_pull_back_off)
{
	json_t *pod = parse("{\"status\":{\"phase\":\"Pending\",\"conditions\":["
		"{\"type\":\"Initialized\",\"status\":\"True\"},"
		"{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"ContainersNotReady\","
		"\"message\":\"containers with unready status: [web]\"},"
		"{\"type\":\"ContainersReady\",\"status\":\"False\",\"reason\":\"ContainersNotReady\","
		"\"message\":\"containers with unready status: [web]\"},"
		"{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
		"\"containerStatuses\":[{\"name\":\"web\",\"ready\":false,\"restartCount\":0,"
		"\"image\":\"registry.example.com/shop/web:does-not-exist\","
		"\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\",\"message\":\"Back-off pulling "
		"image \\\"registry.example.com/shop/web:does-not-exist\\\"\"}}}]}}");
	devkit__replica_status st;
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_INITIALIZED);
	cr_assert_eq(st.stuck, 1);
	cr_assert_eq(st.unschedulable, 0);
	cr_assert_str_eq(st.why, "container web: ImagePullBackOff: Back-off pulling image "
		"\"registry.example.com/shop/web:does-not-exist\"");
	char text[512];
	devkit__replica_conditions_text(pod, text, sizeof(text));
	cr_assert_str_eq(text, "Initialized=True, Ready=False (ContainersNotReady: containers with "
		"unready status: [web]), ContainersReady=False (ContainersNotReady: containers with "
		"unready status: [web]), PodScheduled=True");
	devkit__replica_waiting_text(pod, text, sizeof(text));
	cr_assert(strstr(text, "container web waiting: ImagePullBackOff: Back-off pulling"), "%s",
		text);
	json_decref(pod);
}

Test(diagnose, init_container_crash_loop)
{
	json_t *pod = parse("{\"status\":{\"phase\":\"Pending\",\"conditions\":["
		"{\"type\":\"Initialized\",\"status\":\"False\",\"reason\":\"ContainersNotInitialized\"},"
		"{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
		"\"initContainerStatuses\":[{\"name\":\"migrate\",\"restartCount\":4,"
		"\"lastState\":{\"terminated\":{\"exitCode\":1,\"reason\":\"Error\"}},"
		"\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\",\"message\":\"back-off 1m20s "
		"restarting failed container=migrate\"}}}],"
		"\"containerStatuses\":[{\"name\":\"web\",\"state\":{\"waiting\":{\"reason\":"
		"\"PodInitializing\"}}}]}}");
	devkit__replica_status st;
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_SCHEDULED);
	cr_assert_eq(st.stuck, 1);
	cr_assert(strstr(st.why, "init container migrate: CrashLoopBackOff: back-off") == st.why, "%s",
		st.why);
	json_decref(pod);
}

Test(diagnose, unschedulable)
{
	json_t *pod = parse("{\"status\":{\"phase\":\"Pending\",\"conditions\":[{\"type\":"
		"\"PodScheduled\",\"status\":\"False\",\"reason\":\"Unschedulable\",\"message\":\"0/3 "
		"nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No "
		"preemption victims found for incoming pod.\"}]}}");
	devkit__replica_status st;
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stage, DEVKIT_REPLICA_CREATED);
	cr_assert_eq(st.stuck, 1);
	cr_assert_eq(st.unschedulable, 1);
	cr_assert(strstr(st.why, "unschedulable: 0/3 nodes are available: 3 Insufficient cpu"));
	json_decref(pod);
}

Test(diagnose, refused_by_the_kubelet)
{
	json_t *pod = parse("{\"status\":{\"phase\":\"Failed\",\"reason\":\"NodeAffinity\","
		"\"message\":\"Pod Predicate NodeAffinity failed\"}}");
	devkit__replica_status st;
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stuck, 1);
	cr_assert_str_eq(st.why, "the Pod is Failed: NodeAffinity: Pod Predicate NodeAffinity failed");
	json_decref(pod);
}

Test(diagnose, creating_is_not_stuck)
{
	json_t *pod = parse("{\"status\":{\"phase\":\"Pending\",\"conditions\":["
		"{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Initialized\",\"status\":"
		"\"True\"}],\"containerStatuses\":[{\"name\":\"web\",\"state\":{\"waiting\":{\"reason\":"
		"\"ContainerCreating\"}}}]}}");
	devkit__replica_status st;
	devkit__replica_status_of(pod, &st);
	cr_assert_eq(st.stuck, 0);
	json_decref(pod);
}

Test(diagnose, latest_events_of_the_pod_only)
{
	/* as GET .../events returns them: unordered, other objects mixed in
	 * when the server ignores fieldSelector */
	json_t *list = parse("{\"kind\":\"EventList\",\"items\":["
		"{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-alice-x2b4c\"},\"type\":\"Normal\","
		"\"reason\":\"Pulling\",\"message\":\"Pulling image \\\"web:nope\\\"\",\"count\":4,"
		"\"lastTimestamp\":\"2024-05-01T12:03:00Z\"},"
		"{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-alice-x2b4c\"},\"type\":\"Normal\","
		"\"reason\":\"Scheduled\",\"message\":\"Successfully assigned shop/web-alice-x2b4c to "
		"worker-1\",\"eventTime\":\"2024-05-01T12:00:01.000000Z\"},"
		"{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"other\"},\"type\":\"Warning\","
		"\"reason\":\"BackOff\",\"message\":\"not ours\",\"lastTimestamp\":\"2024-05-01T12:09:00Z\"},"
		"{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-alice-x2b4c\"},\"type\":\"Warning\","
		"\"reason\":\"Failed\",\"message\":\"Error: ImagePullBackOff\",\"count\":6,"
		"\"lastTimestamp\":\"2024-05-01T12:04:00Z\"}]}");
	char text[1024];
	devkit__replica_events_text(list, "web-alice-x2b4c", 5, text, sizeof(text));
	cr_assert_str_eq(text, "Normal Scheduled: Successfully assigned shop/web-alice-x2b4c to "
		"worker-1; Normal Pulling (x4): Pulling image \"web:nope\"; Warning Failed (x6): Error: "
		"ImagePullBackOff");
	devkit__replica_events_text(list, "web-alice-x2b4c", 1, text, sizeof(text));
	cr_assert_str_eq(text, "Warning Failed (x6): Error: ImagePullBackOff");
	devkit__replica_events_text(list, "nobody", 5, text, sizeof(text));
	cr_assert_str_eq(text, "none");
	cr_assert_eq(devkit__replica_events_scale_up(list, "web-alice-x2b4c"), 0);
	json_t *up = parse("{\"involvedObject\":{\"kind\":\"Pod\",\"name\":\"web-alice-x2b4c\"},"
		"\"type\":\"Normal\",\"reason\":\"TriggeredScaleUp\",\"message\":\"pod triggered "
		"scale-up: [{pool-1 2->3 (max: 5)}]\"}");
	json_array_append_new(json_object_get(list, "items"), up);
	cr_assert_eq(devkit__replica_events_scale_up(list, "web-alice-x2b4c"), 1);
	json_decref(list);
}
