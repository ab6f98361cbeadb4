/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_diag_events: the events of a Pod and its owners. One list request
 * per object, narrowed by a field selector on involvedObject; the answer is
 * filtered again here, because not every API server honours the selector
 * (and a selector on a field it does not know is ignored by some proxies).
 */
#include "diag_int.h"

#include "k8s/k8s_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

json_t *devkit__diag_event_compact(const json_t *ev)
{
	json_t *c = json_object();
	if (!c)
		return NULL;
	devkit__diag_jset_str(c, "time", devkit__diag_event_time(ev));
	devkit__diag_jset_str(c, "type", devkit__json_path_str(ev, "type"));
	devkit__diag_jset_str(c, "reason", devkit__json_path_str(ev, "reason"));
	devkit__diag_jset_str(c, "message", devkit__json_path_str(ev, "message"));
	/* core events count repeats; events.k8s.io-era ones keep a series */
	json_int_t count = json_integer_value(json_object_get(ev, "count"));
	if (count <= 0)
		count = json_integer_value(devkit__json_path(ev, "series.count"));
	json_object_set_new(c, "count", json_integer(count > 0 ? count : 1));
	json_object_set_new(c, "stage", json_string(devkit_diag_stage_name(
		devkit__diag_event_stage(ev))));
	json_t *obj = json_object();
	devkit__diag_jset_str(obj, "kind", devkit__json_path_str(ev, "involvedObject.kind"));
	devkit__diag_jset_str(obj, "name", devkit__json_path_str(ev, "involvedObject.name"));
	json_object_set_new(c, "object", obj);
	char container[256];
	if (devkit__diag_event_container(ev, container, sizeof(container)) == 0)
		devkit__diag_jset_str(c, "container", container);
	const char *source = devkit__json_path_str(ev, "source.component");
	if (!source || !*source)
		source = devkit__json_path_str(ev, "reportingComponent");
	if (source && *source)
		devkit__diag_jset_str(c, "source", source);
	return c;
}

int devkit__diag_event_sibling(const json_t *ev, const char *pod)
{
	static const char *const prefixes[] = { "Created pod: ", "Deleted pod: ", NULL };
	const char *kind = devkit__json_path_str(ev, "involvedObject.kind");
	const char *msg = devkit__json_path_str(ev, "message");
	if (!msg || !kind || strcmp(kind, "Pod") == 0)
		return 0;
	for (int i = 0; prefixes[i]; i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(msg, prefixes[i], n) == 0)
			return strcmp(msg + n, pod) != 0;
	}
	return 0;
}

json_t *devkit__diag_collect_events(devkit_k8s *k, const char *ns, const json_t *chain)
{
	json_t *out = json_array();
	const char *pod = devkit__json_path_str(json_array_get(chain, 0), "name");
	size_t i;
	json_t *link;
	if (!out)
		return NULL;
	json_array_foreach(chain, i, link) {
		const char *kind = devkit__json_path_str(link, "kind");
		const char *name = devkit__json_path_str(link, "name");
		const char *uid = devkit__json_path_str(link, "uid");
		char selector[600], escaped[1800], path[2200];
		snprintf(selector, sizeof(selector), "involvedObject.kind=%s,involvedObject.name=%s",
			kind, name);
		devkit__diag_query_escape(selector, escaped, sizeof(escaped));
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/events?fieldSelector=%s", ns,
			escaped);
		json_t *list = NULL;
		int rc = devkit__k8s_get_json(k, path, &list);
		if (rc < 0 && i > 0) {
			/* the Pod's own events are the ones that matter; an owner's
			 * that cannot be read are left out */
			devkit_error_clear();
			continue;
		}
		if (rc < 0) {
			json_decref(out);
			return NULL;
		}
		size_t j;
		json_t *ev;
		json_array_foreach(json_object_get(list, "items"), j, ev) {
			if (!devkit__diag_event_about(ev, kind, name, uid))
				continue;
			if (i > 0 && devkit__diag_event_sibling(ev, pod))
				continue;
			json_array_append(out, ev);
		}
		json_decref(list);
	}
	/* sorted while they still have their names (the tie-break) */
	devkit__diag_events_sort(out);
	json_array_foreach(out, i, link)
		json_array_set_new(out, i, devkit__diag_event_compact(link));
	return out;
}

json_t *devkit__diag_events_document(const char *ns, const char *pod, const json_t *chain,
	const json_t *events)
{
	json_t *doc = json_object();
	json_t *objects = json_array();
	size_t i;
	json_t *link;
	json_array_foreach(chain, i, link) {
		json_t *o = json_object();
		devkit__diag_jset_str(o, "kind", devkit__json_path_str(link, "kind"));
		devkit__diag_jset_str(o, "name", devkit__json_path_str(link, "name"));
		devkit__diag_jset_str(o, "uid", devkit__json_path_str(link, "uid"));
		json_array_append_new(objects, o);
	}
	devkit__diag_jset_str(doc, "namespace", ns);
	devkit__diag_jset_str(doc, "pod", pod);
	json_object_set_new(doc, "objects", objects);
	json_object_set(doc, "events", (json_t *)events);
	json_t *stages = json_array();
	for (int s = DEVKIT_DIAG_SCHEDULING; s <= DEVKIT_DIAG_OFFLINE + 1; s++) {
		/* "other" last: reasons no stage claims (a rollout's scaling) */
		int stage = s > DEVKIT_DIAG_OFFLINE ? DEVKIT_DIAG_STAGE_OTHER : s;
		const char *name = devkit_diag_stage_name(stage);
		json_t *group = json_array();
		json_t *ev;
		json_array_foreach(events, i, ev) {
			const char *st = devkit__json_path_str(ev, "stage");
			if (st && strcmp(st, name) == 0)
				json_array_append(group, ev);
		}
		if (json_array_size(group) == 0) {
			json_decref(group);
			continue;
		}
		json_array_append_new(stages, json_pack("{s:s,s:o}", "stage", name, "events", group));
	}
	json_object_set_new(doc, "stages", stages);
	return doc;
}

const char *devkit_diag_stage_name(int stage)
{
	switch (stage) {
	case DEVKIT_DIAG_STAGE_OTHER: return "other";
	case DEVKIT_DIAG_SCHEDULING: return "scheduling";
	case DEVKIT_DIAG_STARTUP: return "start-up";
	case DEVKIT_DIAG_RUNNING: return "running";
	case DEVKIT_DIAG_OFFLINE: return "offline";
	default: return NULL;
	}
}

/* Shared by the blocking calls: check, default the namespace, read the Pod. */
int devkit__diag_read_pod(const char *fn, devkit_k8s *k, const char **ns, const char *pod,
	json_t **out)
{
	*out = NULL;
	if (!k)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the client is NULL", fn);
	if (!*ns)
		*ns = devkit_k8s_namespace(k);
	int rc = devkit__diag_check_name(fn, "Pod name", pod);
	if (rc == 0)
		rc = devkit__diag_check_name(fn, "namespace", *ns);
	if (rc < 0)
		return rc;
	char path[640];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", *ns, pod);
	return devkit__k8s_get_json(k, path, out);
}

int devkit_diag_events(devkit_k8s *k8s, const char *namespace_name, const char *pod,
	devkit_buf *out)
{
	json_t *p = NULL;
	const char *ns = namespace_name;
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_diag_events: out is NULL");
	int rc = devkit__diag_read_pod("devkit_diag_events", k8s, &ns, pod, &p);
	if (rc < 0)
		return rc;
	json_t *chain = devkit__diag_owner_chain(k8s, ns, p);
	json_t *events = chain ? devkit__diag_collect_events(k8s, ns, chain) : NULL;
	json_decref(p);
	if (!events) {
		json_decref(chain);
		const devkit_error *e = devkit_error_last();
		return e ? e->code : devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	json_t *doc = devkit__diag_events_document(ns, pod, chain, events);
	json_decref(chain);
	json_decref(events);
	char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_diag_events: out of memory");
	devkit__diag_give(text, out);
	devkit_error_clear();
	return 0;
}
