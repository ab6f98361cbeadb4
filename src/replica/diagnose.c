/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading a Pod's status for the replica: how far it got (its conditions,
 * in the order the kubelet reaches them, as devkit_replica_stage values) and
 * whether it can get further on its own. The reading of conditions,
 * container states and events is shared with the diagnostics report and
 * lives in src/diag (pod_status.h); what is the replica's own -- its stages
 * -- stays here. Pure, so that the cases are unit tests.
 */
#include "replica_int.h"

#include <stdio.h>
#include <string.h>

#include "diag/pod_status.h"

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
			if (!devkit__diag_stuck_reason(reason))
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
	if (devkit__diag_condition_true(pod, "PodScheduled")) {
		st->stage = DEVKIT_REPLICA_SCHEDULED;
		if (devkit__diag_condition_true(pod, "Initialized")) {
			st->stage = DEVKIT_REPLICA_INITIALIZED;
			if (devkit__diag_condition_true(pod, "ContainersReady")) {
				st->stage = DEVKIT_REPLICA_CONTAINERS_READY;
				if (devkit__diag_condition_true(pod, "Ready"))
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
	const json_t *sched = devkit__diag_condition(pod, "PodScheduled");
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

/* The texts are src/diag's; these names stay for wait.c and its tests. */

void devkit__replica_conditions_text(const json_t *pod, char *out, size_t cap)
{
	devkit__diag_conditions_text(pod, out, cap);
}

void devkit__replica_waiting_text(const json_t *pod, char *out, size_t cap)
{
	devkit__diag_waiting_text(pod, out, cap);
}

void devkit__replica_events_text(const json_t *event_list, const char *name, int max,
	char *out, size_t cap)
{
	devkit__diag_events_text(event_list, name, max, out, cap);
}

int devkit__replica_events_scale_up(const json_t *event_list, const char *name)
{
	return devkit__diag_events_scale_up(event_list, name);
}
