/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a Pod's status: how far it got (its conditions, in the order the
 * kubelet reaches them) and whether it can get further on its own. Pure, so
 * that the cases are unit tests.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Waiting reasons that do not go away by waiting: the image cannot be had,
 * the container keeps crashing, its configuration is wrong. */
static const char *const stuck_reasons[] = {
	"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
	"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
	"RunContainerError", NULL,
};

static const json_t *condition(const json_t *pod, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(devkit__json_path(pod, "status.conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

static int condition_true(const json_t *pod, const char *type)
{
	const char *s = json_string_value(json_object_get(condition(pod, type), "status"));
	return s && strcmp(s, "True") == 0;
}

static int stuck_reason(const char *reason)
{
	for (int i = 0; reason && stuck_reasons[i]; i++)
		if (strcmp(reason, stuck_reasons[i]) == 0)
			return 1;
	return 0;
}

/* The first container (init containers first) waiting for a reason that
 * will not pass. */
static int stuck_container(const json_t *pod, devkit__replica_status *st)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs) {
			const json_t *w = devkit__json_path(cs, "state.waiting");
			const char *reason = json_string_value(json_object_get(w, "reason"));
			if (!stuck_reason(reason))
				continue;
			const char *msg = json_string_value(json_object_get(w, "message"));
			snprintf(st->why, sizeof(st->why), "%scontainer %s: %s%s%s",
				l == 0 ? "init " : "", json_string_value(json_object_get(cs, "name")),
				reason, msg ? ": " : "", msg ? msg : "");
			return 1;
		}
	}
	return 0;
}

void devkit__replica_status_of(const json_t *pod, devkit__replica_status *st)
{
	memset(st, 0, sizeof(*st));
	st->stage = DEVKIT_REPLICA_CREATED;
	/* Each stage needs the ones before it: Ready without Initialized is a
	 * status we did not understand, not progress. */
	if (condition_true(pod, "PodScheduled")) {
		st->stage = DEVKIT_REPLICA_SCHEDULED;
		if (condition_true(pod, "Initialized")) {
			st->stage = DEVKIT_REPLICA_INITIALIZED;
			if (condition_true(pod, "ContainersReady")) {
				st->stage = DEVKIT_REPLICA_CONTAINERS_READY;
				if (condition_true(pod, "Ready"))
					st->stage = DEVKIT_REPLICA_READY;
			}
		}
	}
	const char *phase = devkit__json_path_str(pod, "status.phase");
	if (phase && (strcmp(phase, "Failed") == 0 || strcmp(phase, "Succeeded") == 0)) {
		/* the kubelet refused it (NodeAffinity, OutOfcpu), it was evicted,
		 * or its containers ended for good */
		const char *reason = devkit__json_path_str(pod, "status.reason");
		const char *msg = devkit__json_path_str(pod, "status.message");
		st->stuck = 1;
		snprintf(st->why, sizeof(st->why), "the Pod is %s%s%s%s%s", phase,
			reason ? ": " : "", reason ? reason : "", msg ? ": " : "", msg ? msg : "");
		return;
	}
	if (stuck_container(pod, st)) {
		st->stuck = 1;
		return;
	}
	const json_t *sched = condition(pod, "PodScheduled");
	const char *status = json_string_value(json_object_get(sched, "status"));
	const char *reason = json_string_value(json_object_get(sched, "reason"));
	if (status && strcmp(status, "False") == 0 && reason && strcmp(reason, "Unschedulable") == 0) {
		const char *msg = json_string_value(json_object_get(sched, "message"));
		st->stuck = 1;
		st->unschedulable = 1;
		snprintf(st->why, sizeof(st->why), "unschedulable%s%s", msg ? ": " : "",
			msg ? msg : "");
	}
}

void devkit__replica_conditions_text(const json_t *pod, char *out, size_t cap)
{
	size_t len = 0, i;
	json_t *c;
	out[0] = '\0';
	json_array_foreach(devkit__json_path(pod, "status.conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *status = json_string_value(json_object_get(c, "status"));
		const char *reason = json_string_value(json_object_get(c, "reason"));
		const char *msg = json_string_value(json_object_get(c, "message"));
		int w;
		if (reason || msg)
			w = snprintf(out + len, cap - len, "%s%s=%s (%s%s%s)", len ? ", " : "",
				type ? type : "?", status ? status : "?", reason ? reason : "",
				reason && msg ? ": " : "", msg ? msg : "");
		else
			w = snprintf(out + len, cap - len, "%s%s=%s", len ? ", " : "", type ? type : "?",
				status ? status : "?");
		if (w < 0 || (size_t)w >= cap - len)
			return;
		len += (size_t)w;
	}
	if (len == 0)
		snprintf(out, cap, "none reported yet");
}

/* When an event last happened: events.k8s.io-era events set eventTime or
 * series, core ones lastTimestamp; RFC 3339 strings sort as time does. */
static const char *event_time(const json_t *ev)
{
	static const char *const fields[] = {
		"series.lastObservedTime", "lastTimestamp", "eventTime", "firstTimestamp",
		"metadata.creationTimestamp", NULL,
	};
	for (int i = 0; fields[i]; i++) {
		const char *t = devkit__json_path_str(ev, fields[i]);
		if (t && *t)
			return t;
	}
	return "";
}

static int about(const json_t *ev, const char *name)
{
	const char *n = devkit__json_path_str(ev, "involvedObject.name");
	const char *k = devkit__json_path_str(ev, "involvedObject.kind");
	return n && strcmp(n, name) == 0 && (!k || strcmp(k, "Pod") == 0);
}

static int by_time(const void *a, const void *b)
{
	return strcmp(event_time(*(json_t *const *)a), event_time(*(json_t *const *)b));
}

void devkit__replica_events_text(const json_t *event_list, const char *name, int max,
	char *out, size_t cap)
{
	const json_t *items = json_object_get(event_list, "items");
	size_t n = 0, i, len = 0;
	json_t *ev;
	json_t **mine = calloc(json_array_size(items) + 1, sizeof(*mine));
	out[0] = '\0';
	if (!mine)
		return;
	json_array_foreach(items, i, ev)
		if (about(ev, name))
			mine[n++] = ev;
	qsort(mine, n, sizeof(*mine), by_time);
	for (i = n > (size_t)max ? n - (size_t)max : 0; i < n; i++) {
		const char *type = json_string_value(json_object_get(mine[i], "type"));
		const char *reason = json_string_value(json_object_get(mine[i], "reason"));
		const char *msg = json_string_value(json_object_get(mine[i], "message"));
		json_int_t count = json_integer_value(json_object_get(mine[i], "count"));
		char times[24] = "";
		if (count > 1)
			snprintf(times, sizeof(times), " (x%lld)", (long long)count);
		int w = snprintf(out + len, cap - len, "%s%s %s%s: %s", len ? "; " : "",
			type ? type : "?", reason ? reason : "?", times, msg ? msg : "");
		if (w < 0 || (size_t)w >= cap - len)
			break;
		len += (size_t)w;
	}
	free(mine);
	if (len == 0)
		snprintf(out, cap, "none");
}

int devkit__replica_events_scale_up(const json_t *event_list, const char *name)
{
	size_t i;
	json_t *ev;
	json_array_foreach(json_object_get(event_list, "items"), i, ev) {
		const char *reason = json_string_value(json_object_get(ev, "reason"));
		if (about(ev, name) && reason && strcmp(reason, "TriggeredScaleUp") == 0)
			return 1;
	}
	return 0;
}

void devkit__replica_waiting_text(const json_t *pod, char *out, size_t cap)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	size_t len = 0;
	out[0] = '\0';
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs) {
			const json_t *w = devkit__json_path(cs, "state.waiting");
			const json_t *t = devkit__json_path(cs, "state.terminated");
			const char *name = json_string_value(json_object_get(cs, "name"));
			int wr = 0;
			if (w) {
				const char *reason = json_string_value(json_object_get(w, "reason"));
				const char *msg = json_string_value(json_object_get(w, "message"));
				wr = snprintf(out + len, cap - len, "%s%scontainer %s waiting: %s%s%s",
					len ? "; " : "", l == 0 ? "init " : "", name ? name : "?",
					reason ? reason : "?", msg ? ": " : "", msg ? msg : "");
			} else if (t && l == 1) {
				const char *reason = json_string_value(json_object_get(t, "reason"));
				wr = snprintf(out + len, cap - len,
					"%scontainer %s terminated: %s (exit code %lld)",
					len ? "; " : "", name ? name : "?", reason ? reason : "?",
					(long long)json_integer_value(json_object_get(t, "exitCode")));
			} else {
				continue;
			}
			if (wr < 0 || (size_t)wr >= cap - len)
				return;
			len += (size_t)wr;
		}
	}
}
