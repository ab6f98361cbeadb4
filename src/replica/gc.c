/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Replicas by label: list them, delete one by name (only if it is one), and
 * delete the expired ones. Everything devkit creates carries
 * devkit.io/replica=true and a devkit.io/expires annotation, so that a copy
 * whose creator went away (a crashed IDE, a closed laptop) is still found.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* devkit.io/replica=true, URL-encoded */
#define SELECTOR "labelSelector=devkit.io%2Freplica%3Dtrue"

static const char *resolve_ns(devkit_k8s *k8s, const char *ns)
{
	if (ns && *ns)
		return ns;
	const char *def = devkit_k8s_namespace(k8s);
	return def && *def ? def : "default";
}

static int valid_ns(const char *ns, const char *fn)
{
	if (strcmp(ns, "*") == 0 || devkit__dns_label_valid(ns))
		return 0;
	return devkit__error_set(DEVKIT_EINVAL, "%s: invalid namespace \"%s\"", fn, ns);
}

/* The replica Pods of a namespace ("*": all), as a PodList (new reference). */
static int list_pods(devkit_k8s *k8s, const char *ns, json_t **out)
{
	char path[512];
	if (strcmp(ns, "*") == 0)
		snprintf(path, sizeof(path), "/api/v1/pods?%s", SELECTOR);
	else
		snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods?%s", ns, SELECTOR);
	return devkit__replica_request(k8s, "GET", path, NULL, out);
}

static int is_replica(const json_t *obj)
{
	const char *m = json_string_value(json_object_get(devkit__json_path(obj, "metadata.labels"),
		DEVKIT_REPLICA_LABEL_MANAGED));
	return m && strcmp(m, "true") == 0;
}

static const char *annotation(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(devkit__json_path(obj, "metadata.annotations"), key));
}

int devkit_replica_list(devkit_k8s *k8s, const char *namespace_name, devkit_buf *out)
{
	static const char fn[] = "devkit_replica_list";
	json_t *list = NULL;
	if (!k8s || !out)
		return devkit__error_set(DEVKIT_EINVAL, "%s: k8s and out are required", fn);
	const char *ns = resolve_ns(k8s, namespace_name);
	int rc = valid_ns(ns, fn);
	if (rc < 0 || (rc = list_pods(k8s, ns, &list)) < 0)
		return rc;
	json_t *array = json_array();
	size_t i;
	json_t *pod;
	json_array_foreach(json_object_get(list, "items"), i, pod) {
		if (!is_replica(pod)) /* a server that ignored the selector */
			continue;
		const json_t *labels = devkit__json_path(pod, "metadata.labels");
		json_t *row = json_object();
		const char *fields[][2] = {
			{ "name", devkit__json_path_str(pod, "metadata.name") },
			{ "namespace", devkit__json_path_str(pod, "metadata.namespace") },
			{ "owner", json_string_value(json_object_get(labels, DEVKIT_REPLICA_LABEL_OWNER)) },
			{ "source", annotation(pod, DEVKIT_REPLICA_ANNOTATION_SOURCE) },
			{ "created", annotation(pod, DEVKIT_REPLICA_ANNOTATION_CREATED) },
			{ "expires", annotation(pod, DEVKIT_REPLICA_ANNOTATION_EXPIRES) },
			{ "phase", devkit__json_path_str(pod, "status.phase") },
			{ "node", devkit__json_path_str(pod, "spec.nodeName") },
		};
		for (size_t f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			json_object_set_new(row, fields[f][0],
				fields[f][1] ? json_string(fields[f][1]) : json_null());
		json_array_append_new(array, row);
	}
	json_decref(list);
	char *text = json_dumps(array, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(array);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	out->ptr = text;
	out->size = strlen(text);
	out->reserved = out->size + 1;
	return 0;
}

int devkit_replica_delete_name(devkit_k8s *k8s, const char *namespace_name, const char *name,
	int timeout_ms)
{
	static const char fn[] = "devkit_replica_delete_name";
	char path[512];
	json_t *pod = NULL;
	if (!k8s || !name)
		return devkit__error_set(DEVKIT_EINVAL, "%s: k8s and name are required", fn);
	const char *ns = resolve_ns(k8s, namespace_name);
	if (!devkit__dns_label_valid(ns) || !devkit__dns_subdomain_valid(name))
		return devkit__error_set(DEVKIT_EINVAL, "%s: invalid namespace or name \"%s/%s\"", fn,
			ns, name);
	devkit__replica_path(path, sizeof(path), DEVKIT_REPLICA_FROM_POD, ns, name);
	int rc = devkit__replica_request(k8s, "GET", path, NULL, &pod);
	if (rc == DEVKIT_ENOTFOUND)
		return devkit__error_set(rc, "replica %s/%s: no such Pod", ns, name);
	if (rc < 0)
		return rc;
	int ours = is_replica(pod);
	int tagged = json_object_get(devkit__json_path(pod, "metadata.labels"),
		DEVKIT_REPLICA_LABEL_TAG) != NULL;
	json_decref(pod);
	if (!ours)
		return devkit__error_set(DEVKIT_EINVAL,
			"Pod %s/%s is not a devkit replica (it has no %s=true label): not deleting it", ns,
			name, DEVKIT_REPLICA_LABEL_MANAGED);
	devkit_replica r = { .k8s = k8s, .istio = tagged };
	snprintf(r.name, sizeof(r.name), "%s", name);
	snprintf(r.ns, sizeof(r.ns), "%s", ns);
	r.id = devkit__replica_next_id(k8s);
	return devkit_replica_delete(&r, timeout_ms);
}

/* Istio objects that outlived their Pod (gc of an earlier crash). Absent
 * Istio (404) or no right to list them is not an error: nothing to do. */
static void gc_istio(devkit_k8s *k8s, const char *ns, time_t now)
{
	static const char *const plurals[] = { "virtualservices", "destinationrules" };
	for (int i = 0; i < 2; i++) {
		char path[512];
		json_t *list = NULL;
		if (strcmp(ns, "*") == 0)
			snprintf(path, sizeof(path), "/apis/networking.istio.io/v1beta1/%s?%s",
				plurals[i], SELECTOR);
		else
			snprintf(path, sizeof(path),
				"/apis/networking.istio.io/v1beta1/namespaces/%s/%s?%s", ns, plurals[i],
				SELECTOR);
		if (devkit__replica_request(k8s, "GET", path, NULL, &list) < 0)
			continue;
		size_t j;
		json_t *obj;
		json_array_foreach(json_object_get(list, "items"), j, obj) {
			time_t expires;
			const char *n = devkit__json_path_str(obj, "metadata.name");
			const char *ons = devkit__json_path_str(obj, "metadata.namespace");
			if (!n || !ons || !is_replica(obj) ||
			    devkit__rfc3339_parse(annotation(obj, DEVKIT_REPLICA_ANNOTATION_EXPIRES),
				    &expires) < 0 || expires >= now)
				continue;
			devkit__replica_istio_path(path, sizeof(path), plurals[i], ons, n);
			devkit__replica_request(k8s, "DELETE", path, NULL, NULL);
		}
		json_decref(list);
	}
}

int devkit_replica_gc(devkit_k8s *k8s, const char *namespace_name, int *deleted)
{
	static const char fn[] = "devkit_replica_gc";
	json_t *list = NULL;
	int count = 0, first = 0;
	char first_msg[512] = "";
	if (deleted)
		*deleted = 0;
	if (!k8s)
		return devkit__error_set(DEVKIT_EINVAL, "%s: k8s is NULL", fn);
	const char *ns = resolve_ns(k8s, namespace_name);
	int rc = valid_ns(ns, fn);
	if (rc < 0 || (rc = list_pods(k8s, ns, &list)) < 0)
		return rc;
	time_t now = time(NULL);
	size_t i;
	json_t *pod;
	json_array_foreach(json_object_get(list, "items"), i, pod) {
		time_t expires;
		const char *name = devkit__json_path_str(pod, "metadata.name");
		const char *pns = devkit__json_path_str(pod, "metadata.namespace");
		/* no or a malformed expiry: not ours to judge, kept */
		if (!name || !pns || !is_replica(pod) ||
		    devkit__rfc3339_parse(annotation(pod, DEVKIT_REPLICA_ANNOTATION_EXPIRES),
			    &expires) < 0 || expires >= now)
			continue;
		int tagged = json_object_get(devkit__json_path(pod, "metadata.labels"),
			DEVKIT_REPLICA_LABEL_TAG) != NULL;
		if (tagged)
			devkit__replica_delete_istio(k8s, pns, name);
		/* not waiting for each to be gone: the API server has them marked
		 * for deletion, the kubelets finish it */
		char path[512];
		devkit__replica_path(path, sizeof(path), DEVKIT_REPLICA_FROM_POD, pns, name);
		rc = devkit__replica_request(k8s, "DELETE", path, NULL, NULL);
		if (rc == 0) {
			count++;
		} else if (rc != DEVKIT_ENOTFOUND && !first) {
			const devkit_error *e = devkit_error_last();
			first = rc;
			snprintf(first_msg, sizeof(first_msg), "deleting %s/%s: %s", pns, name,
				e && e->message ? e->message : devkit_strerror(rc));
		}
	}
	json_decref(list);
	gc_istio(k8s, ns, now);
	if (deleted)
		*deleted = count;
	if (first)
		return devkit__error_set(first, "%s: %d deleted; %s", fn, count, first_msg);
	devkit_error_clear();
	return 0;
}
