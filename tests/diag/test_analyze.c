/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The analysis without a cluster (src/diag/analyze.c, rules.c, template.c,
 * event_read.c): events that no longer matter, one finding per family and
 * container, every row of the table well formed, the stage of each event
 * reason, the templates.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "diag/diag_int.h"

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert(j, "%s: %s", err.text, text);
	return j;
}

static const json_t *finding(const json_t *report, const char *id)
{
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f)
		if (strcmp(json_string_value(json_object_get(f, "id")), id) == 0)
			return f;
	return NULL;
}

static json_t *event(const char *reason, const char *message, const char *container)
{
	json_t *ev = json_pack("{s:s,s:s,s:s,s:i,s:s,s:{s:s,s:s}}", "time",
		"2024-05-01T12:00:00Z", "type", "Warning", "reason", reason, "count", 1, "message",
		message, "object", "kind", "Pod", "name", "web-1");
	if (container)
		json_object_set_new(ev, "container", json_string(container));
	return ev;
}

Test(analyze, every_row_is_well_formed)
{
	for (int i = 0; devkit__diag_rules[i].id; i++) {
		const devkit__diag_rule *r = &devkit__diag_rules[i];
		cr_assert(r->stage >= DEVKIT_DIAG_SCHEDULING && r->stage <= DEVKIT_DIAG_OFFLINE, "%s",
			r->id);
		cr_assert(r->title && r->explain && r->fix && r->sources, "%s", r->id);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(r->id, devkit__diag_rules[j].id);
		/* every key a template uses is one analyze.c fills */
		static const char *const keys[] = { "pod", "namespace", "node", "owner", "reason",
			"message", "container", "requests_cpu", "requests_memory", "taints", "claims",
			"node_selector", "missing", "resource", "deletion_time", "grace",
			"finalizers_text", "image", "restarts", "limits_memory", "exit_code",
			"exit_meaning", "last_reason", "probe_liveness", "probe_readiness",
			"probe_startup", NULL };
		const char *texts[] = { r->explain, r->fix };
		for (int t = 0; t < 2; t++)
			for (const char *p = strchr(texts[t], '{'); p; p = strchr(p + 1, '{')) {
				size_t n = strcspn(p + 1, "}");
				int known = 0;
				for (int k = 0; keys[k] && !known; k++)
					known = strlen(keys[k]) == n && strncmp(keys[k], p + 1, n) == 0;
				cr_assert(known, "%s: unknown key {%.*s}", r->id, (int)n, p + 1);
			}
	}
}

Test(analyze, past_scheduling_failures_do_not_count)
{
	/* FailedScheduling happened, but the Pod has a node now */
	json_t *pod = parse("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"dev\"},\"spec\":{"
		"\"nodeName\":\"worker-1\",\"containers\":[{\"name\":\"web\",\"image\":\"web:1\"}]},"
		"\"status\":{\"phase\":\"Running\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":"
		"\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}],\"containerStatuses\":[{\"name\":"
		"\"web\",\"ready\":true,\"restartCount\":0,\"state\":{\"running\":{}}}]}}");
	json_t *events = json_array();
	json_array_append_new(events, event("FailedScheduling",
		"0/3 nodes are available: 3 Insufficient cpu.", NULL));
	json_array_append_new(events, event("FailedMount",
		"MountVolume.SetUp failed for volume \"c\" : configmap \"c\" not found", NULL));
	json_array_append_new(events, event("Failed", "Failed to pull image \"web:1\": not found",
		"web"));
	json_t *r = devkit__diag_analyze(pod, NULL, events);
	cr_assert_eq(json_array_size(json_object_get(r, "findings")), 0, "%s",
		json_dumps(r, JSON_INDENT(2)));
	cr_assert_str_eq(json_string_value(json_object_get(r, "stage")), "running");
	json_decref(r);
	json_decref(events);
	json_decref(pod);
}

Test(analyze, one_finding_per_family_and_container)
{
	/* two containers that cannot pull: one for a known cause, one for none */
	json_t *pod = parse("{\"metadata\":{\"name\":\"web-1\",\"namespace\":\"dev\"},\"spec\":{"
		"\"nodeName\":\"worker-1\",\"containers\":[{\"name\":\"web\",\"image\":\"web:nope\"},"
		"{\"name\":\"proxy\",\"image\":\"envoy:1\"}]},\"status\":{\"phase\":\"Pending\","
		"\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],\"containerStatuses\":["
		"{\"name\":\"web\",\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":"
		"\"ImagePullBackOff\",\"message\":\"Back-off pulling image \\\"web:nope\\\"\"}}},"
		"{\"name\":\"proxy\",\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":"
		"\"ErrImagePull\",\"message\":\"dial tcp: i/o timeout\"}}}]}}");
	json_t *events = json_array();
	json_array_append_new(events, event("Failed", "Failed to pull image \"web:nope\": rpc "
		"error: code = NotFound desc = failed to resolve reference \"docker.io/library/web:nope\""
		": not found", "web"));
	json_t *r = devkit__diag_analyze(pod, NULL, events);
	const json_t *nf = finding(r, "image-not-found");
	cr_assert(nf);
	cr_assert_str_eq(json_string_value(json_object_get(nf, "container")), "web");
	const json_t *generic = finding(r, "image-pull-failed");
	cr_assert(generic, "%s", json_dumps(r, JSON_INDENT(2)));
	cr_assert_str_eq(json_string_value(json_object_get(generic, "container")), "proxy");
	cr_assert_eq(json_array_size(json_object_get(r, "findings")), 2,
		"%s", json_dumps(r, JSON_INDENT(2)));
	cr_assert_str_eq(json_string_value(json_object_get(r, "stage")), "start-up");
	json_decref(r);
	json_decref(events);
	json_decref(pod);
}

Test(analyze, event_stages)
{
	static const struct {
		const char *reason, *message;
		int stage;
	} cases[] = {
		{ "FailedScheduling", "0/3 nodes are available", DEVKIT_DIAG_SCHEDULING },
		{ "Scheduled", "Successfully assigned", DEVKIT_DIAG_SCHEDULING },
		{ "Pulling", "Pulling image", DEVKIT_DIAG_STARTUP },
		{ "BackOff", "Back-off restarting failed container", DEVKIT_DIAG_STARTUP },
		{ "FailedMount", "MountVolume.SetUp failed", DEVKIT_DIAG_STARTUP },
		{ "FailedCreatePodSandBox", "plugin type=\"calico\" failed", DEVKIT_DIAG_STARTUP },
		{ "Unhealthy", "Readiness probe failed: 503", DEVKIT_DIAG_RUNNING },
		{ "Unhealthy", "Startup probe failed: connection refused", DEVKIT_DIAG_STARTUP },
		{ "Killing", "Container web failed liveness probe, will be restarted",
			DEVKIT_DIAG_RUNNING },
		{ "Killing", "Stopping container web", DEVKIT_DIAG_OFFLINE },
		{ "Evicted", "The node was low on resource: memory.", DEVKIT_DIAG_OFFLINE },
		{ "Preempted", "Preempted by pod 1234 on node worker-1", DEVKIT_DIAG_OFFLINE },
		{ "NodeNotReady", "Node is not ready", DEVKIT_DIAG_OFFLINE },
		{ "ScalingReplicaSet", "Scaled up replica set web-5d8f7 to 2", DEVKIT_DIAG_STAGE_OTHER },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *ev = json_pack("{s:s,s:s}", "reason", cases[i].reason, "message",
			cases[i].message);
		cr_assert_eq(devkit__diag_event_stage(ev), cases[i].stage, "%s: %s", cases[i].reason,
			cases[i].message);
		json_decref(ev);
	}
	cr_assert_str_eq(devkit_diag_stage_name(DEVKIT_DIAG_STARTUP), "start-up");
	cr_assert_null(devkit_diag_stage_name(42));
}

Test(analyze, events_sort_by_time_then_by_name)
{
	/* eventTime has microseconds, lastTimestamp whole seconds: "…:00.5Z" is
	 * later than "…:00Z" though it sorts before it as text; same second:
	 * the recorder's nanoseconds in the name decide */
	json_t *evs = parse("["
		"{\"metadata\":{\"name\":\"p.17cf2a6e4b0f9d12\"},"
		"\"lastTimestamp\":\"2024-05-01T12:00:01Z\",\"reason\":\"C\"},"
		"{\"metadata\":{\"name\":\"p.x\"},"
		"\"eventTime\":\"2024-05-01T12:00:00.500000Z\",\"reason\":\"B\"},"
		"{\"metadata\":{\"name\":\"p.17cf2a6e4b0f9d11\"},"
		"\"lastTimestamp\":\"2024-05-01T12:00:01Z\",\"reason\":\"Bb\"},"
		"{\"metadata\":{\"name\":\"p.y\"},"
		"\"lastTimestamp\":\"2024-05-01T12:00:00Z\",\"reason\":\"A\"}]");
	devkit__diag_events_sort(evs);
	const char *want[] = { "A", "B", "Bb", "C" };
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(json_string_value(json_object_get(json_array_get(evs, (size_t)i),
			"reason")), want[i]);
	json_decref(evs);
}

Test(analyze, templates)
{
	json_t *vars = json_pack("{s:s,s:s}", "container", "web", "image", "nginx:1.25");
	char *s = devkit__diag_expand("{container} runs {image}; {{literal}; {missing}", vars);
	cr_assert_str_eq(s, "web runs nginx:1.25; {literal}; ?");
	free(s);
	s = devkit__diag_expand("unclosed {container", vars);
	cr_assert_str_eq(s, "unclosed {container");
	free(s);
	json_decref(vars);
}

Test(analyze, invalid_utf8_in_a_log_line)
{
	json_t *j = devkit__diag_jstring_lossy("ok \xff\xfe end", 9);
	cr_assert(j);
	cr_assert_str_eq(json_string_value(j), "ok \xEF\xBF\xBD\xEF\xBF\xBD end");
	json_decref(j);
}
