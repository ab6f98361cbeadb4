/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading core/v1 Events: when they happened, what they are about, which
 * stage of a Pod's life they belong to. Events come in two generations
 * (core events with lastTimestamp and count, events.k8s.io-era ones with
 * eventTime and series) and both are read here.
 */
#include "pod_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rfc3339.h"
#include "devkit/diag.h"
#include "diag_json.h"

const char *devkit__diag_event_time(const json_t *ev)
{
	static const char *const fields[] = {
		"series.lastObservedTime", "lastTimestamp", "eventTime", "firstTimestamp",
		"metadata.creationTimestamp",
		"time", /* our compact events (events.c) */
		NULL,
	};
	for (int i = 0; fields[i]; i++) {
		const char *t = devkit__json_path_str(ev, fields[i]);
		if (t && *t)
			return t;
	}
	return "";
}

int64_t devkit__diag_event_time_ms(const json_t *ev)
{
	int64_t ms = 0;
	if (devkit__rfc3339_parse_ms(devkit__diag_event_time(ev), &ms) != 0)
		return 0;
	return ms;
}

int devkit__diag_event_about(const json_t *ev, const char *kind, const char *name,
	const char *uid)
{
	const char *n = devkit__json_path_str(ev, "involvedObject.name");
	const char *k = devkit__json_path_str(ev, "involvedObject.kind");
	const char *u = devkit__json_path_str(ev, "involvedObject.uid");
	if (!n || !name || strcmp(n, name) != 0)
		return 0;
	if (k && strcmp(k, kind ? kind : "Pod") != 0)
		return 0;
	/* a StatefulSet's Pod comes back with the same name: its predecessor's
	 * events are not about it */
	if (uid && *uid && u && *u && strcmp(u, uid) != 0)
		return 0;
	return 1;
}

typedef struct timed {
	int64_t ms;
	uint64_t nanos;   /* from the name; 0: unknown */
	size_t index;
	json_t *ev;
} timed;

/* client-go's recorder names an event "<object>.<UnixNano in hex>": within
 * the second that lastTimestamp keeps, that is the order they happened in. */
static uint64_t name_nanos(const json_t *ev)
{
	const char *name = devkit__json_path_str(ev, "metadata.name");
	const char *dot = name ? strrchr(name, '.') : NULL;
	if (!dot || strlen(dot + 1) < 12 || strlen(dot + 1) > 16)
		return 0;
	char *end;
	unsigned long long v = strtoull(dot + 1, &end, 16);
	return *end ? 0 : (uint64_t)v;
}

static int by_time(const void *a, const void *b)
{
	const timed *x = a, *y = b;
	if (x->ms != y->ms)
		return x->ms < y->ms ? -1 : 1;
	if (x->nanos && y->nanos && x->nanos != y->nanos)
		return x->nanos < y->nanos ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

void devkit__diag_events_sort(json_t *events)
{
	size_t n = json_array_size(events), i;
	json_t *ev;
	if (n < 2)
		return;
	timed *t = calloc(n, sizeof(*t));
	if (!t)
		return; /* unsorted is still right, only less readable */
	json_array_foreach(events, i, ev) {
		t[i].ms = devkit__diag_event_time_ms(ev);
		t[i].nanos = name_nanos(ev);
		t[i].index = i;
		t[i].ev = json_incref(ev);
	}
	qsort(t, n, sizeof(*t), by_time);
	json_array_clear(events);
	for (i = 0; i < n; i++)
		json_array_append_new(events, t[i].ev);
	free(t);
}

void devkit__diag_events_text(const json_t *event_list, const char *name, int max,
	char *out, size_t cap)
{
	const json_t *items = json_object_get(event_list, "items");
	size_t i, len = 0;
	json_t *ev;
	json_t *mine = json_array();
	out[0] = '\0';
	if (!mine)
		return;
	json_array_foreach(items, i, ev)
		if (devkit__diag_event_about(ev, "Pod", name, NULL))
			json_array_append(mine, ev);
	devkit__diag_events_sort(mine);
	size_t n = json_array_size(mine);
	for (i = n > (size_t)max ? n - (size_t)max : 0; i < n; i++) {
		const json_t *e = json_array_get(mine, i);
		const char *type = json_string_value(json_object_get(e, "type"));
		const char *reason = json_string_value(json_object_get(e, "reason"));
		const char *msg = json_string_value(json_object_get(e, "message"));
		json_int_t count = json_integer_value(json_object_get(e, "count"));
		char times[24] = "";
		if (count > 1)
			snprintf(times, sizeof(times), " (x%lld)", (long long)count);
		int w = snprintf(out + len, cap - len, "%s%s %s%s: %s", len ? "; " : "",
			type ? type : "?", reason ? reason : "?", times, msg ? msg : "");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	json_decref(mine);
	if (len == 0)
		snprintf(out, cap, "none");
}

int devkit__diag_events_scale_up(const json_t *event_list, const char *name)
{
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(event_list, "items"), i, ev) {
		const char *reason = json_string_value(json_object_get(ev, "reason"));
		if (devkit__diag_event_about(ev, "Pod", name, NULL) && reason &&
			strcmp(reason, "TriggeredScaleUp") == 0)
			return 1;
	}
	return 0;
}

int devkit__diag_event_container(const json_t *ev, char *out, size_t cap)
{
	const char *fp = devkit__json_path_str(ev, "involvedObject.fieldPath");
	const char *open = fp ? strchr(fp, '{') : NULL;
	const char *close = open ? strchr(open, '}') : NULL;
	if (!close || close == open + 1 || (size_t)(close - open - 1) >= cap)
		return -1;
	snprintf(out, cap, "%.*s", (int)(close - open - 1), open + 1);
	return 0;
}

/* --- stages ---------------------------------------------------------------------------- */

/* One row per event reason; `contains` narrows a reason used at several
 * stages (the first row that matches wins, so specific rows come first). */
static const struct {
	const char *reason;
	const char *contains;  /* NULL: any message */
	int stage;
} stage_rows[] = {
	/* the controller made the Pod; the scheduler looks for a node */
	{ "SuccessfulCreate", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "FailedCreate", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "FailedScheduling", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "Scheduled", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "NotTriggerScaleUp", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "TriggeredScaleUp", NULL, DEVKIT_DIAG_SCHEDULING },
	{ "FailedBinding", NULL, DEVKIT_DIAG_SCHEDULING },
	/* Preempted is recorded on the victim ("Preempted by pod X on node Y"):
	 * the victim is going away, so for it the event means offline */
	{ "Preempted", NULL, DEVKIT_DIAG_OFFLINE },
	/* on the node: volumes, sandbox, images, containers */
	{ "FailedAttachVolume", NULL, DEVKIT_DIAG_STARTUP },
	{ "SuccessfulAttachVolume", NULL, DEVKIT_DIAG_STARTUP },
	{ "FailedMount", NULL, DEVKIT_DIAG_STARTUP },
	{ "FailedMapVolume", NULL, DEVKIT_DIAG_STARTUP },
	{ "FailedCreatePodSandBox", NULL, DEVKIT_DIAG_STARTUP },
	{ "SandboxChanged", NULL, DEVKIT_DIAG_STARTUP },
	{ "FailedCreatePodContainer", NULL, DEVKIT_DIAG_STARTUP },
	{ "Pulling", NULL, DEVKIT_DIAG_STARTUP },
	{ "Pulled", NULL, DEVKIT_DIAG_STARTUP },
	{ "ErrImageNeverPull", NULL, DEVKIT_DIAG_STARTUP },
	{ "InspectFailed", NULL, DEVKIT_DIAG_STARTUP },
	{ "Failed", NULL, DEVKIT_DIAG_STARTUP },
	{ "BackOff", NULL, DEVKIT_DIAG_STARTUP },
	{ "Created", NULL, DEVKIT_DIAG_STARTUP },
	{ "Started", NULL, DEVKIT_DIAG_STARTUP },
	/* Killing: why the kubelet stops a container */
	{ "Killing", "startup probe", DEVKIT_DIAG_STARTUP },
	{ "Killing", "liveness probe", DEVKIT_DIAG_RUNNING },
	{ "Killing", "definition changed", DEVKIT_DIAG_RUNNING },
	{ "Killing", NULL, DEVKIT_DIAG_OFFLINE },
	{ "Unhealthy", "Startup probe", DEVKIT_DIAG_STARTUP },
	{ "Unhealthy", NULL, DEVKIT_DIAG_RUNNING },
	{ "ProbeWarning", NULL, DEVKIT_DIAG_RUNNING },
	{ "FailedPostStartHook", NULL, DEVKIT_DIAG_RUNNING },
	{ "OOMKilling", NULL, DEVKIT_DIAG_RUNNING },
	/* going away */
	{ "FailedPreStopHook", NULL, DEVKIT_DIAG_OFFLINE },
	{ "ExceededGracePeriod", NULL, DEVKIT_DIAG_OFFLINE },
	{ "Evicted", NULL, DEVKIT_DIAG_OFFLINE },
	{ "Evicting", NULL, DEVKIT_DIAG_OFFLINE },
	{ "TaintManagerEviction", NULL, DEVKIT_DIAG_OFFLINE },
	{ "NodeNotReady", NULL, DEVKIT_DIAG_OFFLINE },
	{ "NodeLost", NULL, DEVKIT_DIAG_OFFLINE },
	{ "SuccessfulDelete", NULL, DEVKIT_DIAG_OFFLINE },
	{ "Shutdown", NULL, DEVKIT_DIAG_OFFLINE },
};

int devkit__diag_event_stage(const json_t *ev)
{
	const char *reason = json_string_value(json_object_get(ev, "reason"));
	const char *msg = json_string_value(json_object_get(ev, "message"));
	if (!reason)
		return DEVKIT_DIAG_STAGE_OTHER;
	for (size_t i = 0; i < sizeof(stage_rows) / sizeof(stage_rows[0]); i++) {
		if (strcmp(stage_rows[i].reason, reason) != 0)
			continue;
		if (stage_rows[i].contains && (!msg || !strstr(msg, stage_rows[i].contains)))
			continue;
		return stage_rows[i].stage;
	}
	return DEVKIT_DIAG_STAGE_OTHER;
}
