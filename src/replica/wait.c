/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting until the copy is Ready: poll the Pod (a watch would save a few
 * requests, but polling every 300 ms survives proxies that cut long
 * connections and is what a person would do), report every stage reached as
 * an event, and stop early when the Pod cannot get further — then, as on a
 * timeout, say where it stopped and why: the stage, the Pod's conditions,
 * the waiting containers and the latest events.
 */
#include "replica_int.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define POLL_MS 300
#define EVENTS_SHOWN 5

static json_t *fetch_events(devkit_replica *r)
{
	char path[512];
	json_t *list = NULL;
	/* fieldSelector narrows it where the server supports it; the events are
	 * filtered again on our side (devkit__replica_events_text) */
	snprintf(path, sizeof(path),
		"/api/v1/namespaces/%s/events?fieldSelector=involvedObject.name%%3D%s", r->ns,
		r->name);
	if (devkit__replica_request(r->k8s, "GET", path, NULL, &list) < 0)
		return NULL;
	return list;
}

/* The whole story, as the thread's last error. */
static int explain(devkit_replica *r, int rc, const char *what, int stage, const json_t *pod,
	const json_t *events)
{
	char conditions[512], waiting[512], evtext[1024];
	devkit__replica_conditions_text(pod, conditions, sizeof(conditions));
	devkit__replica_waiting_text(pod, waiting, sizeof(waiting));
	if (strstr(what, "container ")) /* the waiting reason is the story already */
		waiting[0] = '\0';
	devkit__replica_events_text(events, r->name, EVENTS_SHOWN, evtext, sizeof(evtext));
	return devkit__error_set(rc, "replica %s/%s: %s; stage reached: %s; conditions: %s%s%s; "
		"events: %s", r->ns, r->name, what,
		devkit_replica_stage_name(stage), conditions,
		waiting[0] ? "; " : "", waiting, events ? evtext : "(could not be read)");
}

/* Report each stage between the last one and `stage`, in order: a fast Pod
 * may pass several between two polls, and progress displays want them all. */
static void advance(devkit_replica *r, int stage)
{
	for (int s = devkit_replica_get_stage(r) + 1; s <= stage; s++)
		devkit__replica_set_stage(r, s, 0, "Pod %s/%s: %s", r->ns, r->name,
			devkit_replica_stage_name(s));
}

int devkit_replica_wait_ready(devkit_replica *replica, int timeout_ms)
{
	devkit_replica *r = replica;
	char path[512];
	if (!r)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_replica_wait_ready: replica is NULL");
	if (devkit_replica_get_stage(r) == DEVKIT_REPLICA_DELETED)
		return devkit__error_set(DEVKIT_ECLOSED, "replica %s/%s was deleted", r->ns, r->name);
	devkit__replica_path(path, sizeof(path), DEVKIT_REPLICA_FROM_POD, r->ns, r->name);
	uint64_t deadline = devkit__replica_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);

	for (;;) {
		json_t *pod = NULL;
		int rc = devkit__replica_request(r->k8s, "GET", path, NULL, &pod);
		if (rc == DEVKIT_ENOTFOUND) {
			devkit__replica_set_stage(r, DEVKIT_REPLICA_FAILED, rc, "Pod %s/%s is gone",
				r->ns, r->name);
			return devkit__error_set(rc, "replica %s/%s: the Pod was deleted while waiting "
				"for it to be ready", r->ns, r->name);
		}
		if (rc < 0)
			return rc;
		devkit__replica_status st;
		devkit__replica_status_of(pod, &st);
		if (devkit_replica_get_stage(r) < DEVKIT_REPLICA_FAILED)
			advance(r, st.stage);
		if (st.stage == DEVKIT_REPLICA_READY) {
			json_decref(pod);
			devkit_error_clear();
			return 0;
		}
		int expired = devkit__replica_now_ms() >= deadline;
		if (st.stuck || expired) {
			json_t *events = fetch_events(r);
			/* the cluster autoscaler is adding a node: not stuck, just slow */
			if (!expired && st.unschedulable && devkit__replica_events_scale_up(events, r->name)) {
				json_decref(events);
				json_decref(pod);
				devkit__replica_sleep_ms(POLL_MS);
				continue;
			}
			char what[600];
			if (st.stuck) {
				snprintf(what, sizeof(what), "cannot get further: %s", st.why);
				devkit__replica_set_stage(r, DEVKIT_REPLICA_FAILED, DEVKIT_ERROR, "%s", what);
			} else {
				snprintf(what, sizeof(what), "not ready after %d ms", timeout_ms);
			}
			rc = explain(r, st.stuck ? DEVKIT_ERROR : DEVKIT_ETIMEOUT, what, st.stage, pod,
				events);
			json_decref(events);
			json_decref(pod);
			return rc;
		}
		json_decref(pod);
		uint64_t left = deadline - devkit__replica_now_ms();
		devkit__replica_sleep_ms(left < POLL_MS ? (int)left + 1 : POLL_MS);
	}
}
