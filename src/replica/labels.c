/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy's labels. Two things must not happen to a copy: its source's
 * controller adopting it (a ReplicaSet or DaemonSet that adopts an extra Pod
 * deletes one: quite likely the copy, or worse, a real replica) and its
 * source's Services sending it their traffic (a half-built workspace would
 * answer real requests). So, unless keep_labels, the labels that the
 * controller's selector and the Services that select the source use are
 * removed. With an Istio traffic tag the copy must stay behind the routed
 * Service (Istio routes to the endpoints of that Service, subsets only narrow
 * them), so that Service's selector labels stay, and the "normal" subset is
 * made of labels the source has and the copy does not. See docs/replica.md.
 */
#include "replica_int.h"

#include <string.h>

#include "core/error.h"

/* Labels that controllers stamp on each Pod they create: never copied. The
 * pod-template-hash is what keeps a Deployment's ReplicaSet from adopting. */
static const char *const volatile_labels[] = {
	"pod-template-hash",
	"controller-revision-hash",
	"pod-template-generation",
	"statefulset.kubernetes.io/pod-name",
	"apps.kubernetes.io/pod-index",
	"controller-uid",
	"job-name",
	"batch.kubernetes.io/controller-uid",
	"batch.kubernetes.io/job-name",
	"batch.kubernetes.io/job-completion-index",
	NULL,
};

static int is_volatile(const char *key)
{
	for (int i = 0; volatile_labels[i]; i++)
		if (strcmp(key, volatile_labels[i]) == 0)
			return 1;
	return 0;
}

static int requirement_matches(const json_t *req, const json_t *labels)
{
	const char *key = json_string_value(json_object_get(req, "key"));
	const char *op = json_string_value(json_object_get(req, "operator"));
	const json_t *values = json_object_get(req, "values");
	if (!key || !op)
		return 0;
	const char *have = json_string_value(json_object_get(labels, key));
	int in = 0;
	size_t i;
	json_t *v;
	json_array_foreach(values, i, v) {
		if (have && json_string_value(v) && strcmp(have, json_string_value(v)) == 0)
			in = 1;
	}
	if (strcmp(op, "In") == 0)
		return have && in;
	if (strcmp(op, "NotIn") == 0)
		return !have || !in;
	if (strcmp(op, "Exists") == 0)
		return have != NULL;
	if (strcmp(op, "DoesNotExist") == 0)
		return have == NULL;
	return 0;
}

int devkit__selector_matches(const json_t *selector, const json_t *labels)
{
	const char *key;
	json_t *v;
	size_t i;
	if (!json_is_object(selector))
		return 0;
	json_object_foreach((json_t *)json_object_get(selector, "matchLabels"), key, v) {
		const char *have = json_string_value(json_object_get(labels, key));
		if (!have || !json_string_value(v) || strcmp(have, json_string_value(v)) != 0)
			return 0;
	}
	json_array_foreach(json_object_get(selector, "matchExpressions"), i, v) {
		if (!requirement_matches(v, labels))
			return 0;
	}
	return 1;
}

int devkit__map_selector_matches(const json_t *map, const json_t *labels)
{
	if (!json_is_object(map) || json_object_size(map) == 0)
		return 0;
	json_t *wrapped = json_pack("{s:O}", "matchLabels", map);
	int m = devkit__selector_matches(wrapped, labels);
	json_decref(wrapped);
	return m;
}

static void add_selector_keys(json_t *set, const json_t *selector)
{
	const char *key;
	json_t *v;
	size_t i;
	json_object_foreach((json_t *)json_object_get(selector, "matchLabels"), key, v)
		json_object_set_new(set, key, json_true());
	json_array_foreach(json_object_get(selector, "matchExpressions"), i, v) {
		const char *k = json_string_value(json_object_get(v, "key"));
		if (k)
			json_object_set_new(set, k, json_true());
	}
}

/* What the source is controlled by, as a LabelSelector (new reference), and
 * whether that controller adopts orphans by selector alone. A Deployment
 * does not adopt Pods (its ReplicaSets do, and their selector has the
 * pod-template-hash we drop); a StatefulSet claims only Pods named after it. */
static json_t *controller_selector(const devkit__replica_spec *spec,
	const devkit__replica_inputs *in, int *adopts)
{
	*adopts = 0;
	if (spec->opts->source_kind != DEVKIT_REPLICA_FROM_POD) {
		*adopts = spec->opts->source_kind == DEVKIT_REPLICA_FROM_DAEMONSET;
		const json_t *sel = devkit__json_path(in->source, "spec.selector");
		return json_is_object(sel) ? json_deep_copy(sel) : NULL;
	}
	if (!in->owner)
		return NULL;
	const char *kind = devkit__json_path_str(in->owner, "kind");
	const json_t *sel = devkit__json_path(in->owner, "spec.selector");
	if (!kind || !json_is_object(sel))
		return NULL;
	*adopts = strcmp(kind, "ReplicaSet") == 0 || strcmp(kind, "DaemonSet") == 0 ||
		strcmp(kind, "Job") == 0 || strcmp(kind, "ReplicationController") == 0;
	if (strcmp(kind, "ReplicationController") == 0) /* a plain map */
		return json_pack("{s:O}", "matchLabels", sel);
	return json_deep_copy(sel);
}

static int has_controller_ref(const json_t *pod)
{
	size_t i;
	json_t *ref;
	json_array_foreach(devkit__json_path(pod, "metadata.ownerReferences"), i, ref) {
		if (json_is_true(json_object_get(ref, "controller")))
			return 1;
	}
	return 0;
}

static const json_t *find_service(const json_t *services, const char *name)
{
	size_t i;
	json_t *svc;
	json_array_foreach(services, i, svc) {
		const char *n = devkit__json_path_str(svc, "metadata.name");
		if (n && strcmp(n, name) == 0)
			return svc;
	}
	return NULL;
}

/* The labels of the Istio "normal" subset: what tells the source's Pods from
 * the copy. The controller's selector is the best source (immutable for
 * apps/v1 workloads, so the subset survives rollouts); then Istio's own
 * convention, a "version" label. */
static json_t *normal_subset(const json_t *src_labels, const json_t *ctrl_sel,
	const json_t *host_selector)
{
	json_t *normal = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(ctrl_sel, "matchLabels"), key, v) {
		if (!json_object_get(host_selector, key) && !is_volatile(key) && json_is_string(v))
			json_object_set(normal, key, v);
	}
	if (json_object_size(normal) == 0) {
		const json_t *version = json_object_get(src_labels, "version");
		if (json_is_string(version) && !json_object_get(host_selector, "version"))
			json_object_set(normal, "version", (json_t *)version);
	}
	return normal;
}

static int normal_matches(json_t *normal, const json_t *labels)
{
	json_t *sel = json_pack("{s:O}", "matchLabels", normal);
	int m = devkit__selector_matches(sel, labels);
	json_decref(sel);
	return m;
}

int devkit__replica_labels(const devkit__replica_spec *spec, const devkit__replica_inputs *in,
	const char *what, json_t *labels, json_t **normal_out)
{
	const devkit_replica_options *o = spec->opts;
	int rc = 0, adopts = 0;
	json_t *src = json_deep_copy(labels);
	json_t *drop = json_object();
	json_t *ctrl = controller_selector(spec, in, &adopts);
	json_t *normal = NULL;
	const json_t *host_sel = NULL;
	const char *key;
	json_t *v;
	void *tmp;
	*normal_out = NULL;

	int owner_unknown = o->source_kind == DEVKIT_REPLICA_FROM_POD && !in->owner &&
		has_controller_ref(in->source);
	if (o->istio) {
		const char *host = o->istio_host ? o->istio_host : o->source_name;
		const json_t *svc = find_service(in->services, host);
		host_sel = svc ? devkit__json_path(svc, "spec.selector") : NULL;
		if (!in->services) {
			rc = devkit__error_set(DEVKIT_EINVAL,
				"%s: istio routing needs the namespace's Services (could not list them)", what);
			goto out;
		}
		if (!svc) {
			rc = devkit__error_set(DEVKIT_ENOTFOUND,
				"%s: istio routing: no Service \"%s\" in namespace %s (set istio_host to the "
				"Service that the traffic goes through)", what, host, spec->namespace_name);
			goto out;
		}
		if (!devkit__map_selector_matches(host_sel, src)) {
			rc = devkit__error_set(DEVKIT_EINVAL,
				"%s: istio routing: Service \"%s\" does not select the source's Pods (its "
				"selector does not match their labels), so the copy cannot be reached through "
				"it", what, host);
			goto out;
		}
	}

	json_object_foreach(src, key, v) {
		if (is_volatile(key))
			json_object_set_new(drop, key, json_true());
	}
	if (!o->keep_labels) {
		if (!in->services || owner_unknown) {
			/* Who selects the source is unknown: keep none of its labels
			 * rather than risk an adoption or real traffic. */
			json_object_foreach(src, key, v)
				json_object_set_new(drop, key, json_true());
		} else {
			size_t i;
			json_t *svc;
			add_selector_keys(drop, ctrl);
			json_array_foreach(in->services, i, svc) {
				const json_t *sel = devkit__json_path(svc, "spec.selector");
				if (devkit__map_selector_matches(sel, src))
					json_object_foreach((json_t *)sel, key, v)
						json_object_set_new(drop, key, json_true());
			}
		}
		json_object_foreach((json_t *)host_sel, key, v) /* istio: stay behind the Service */
			json_object_del(drop, key);
	}
	if (o->istio) {
		normal = normal_subset(src, ctrl, host_sel);
		if (json_object_size(normal) == 0) {
			rc = devkit__error_set(DEVKIT_EINVAL,
				"%s: istio routing: nothing tells the source's Pods from the copy: every label "
				"of theirs is one that Service \"%s\" selects. Give the Pod template a label "
				"of its own, e.g. version: v1 (Istio's convention)", what,
				o->istio_host ? o->istio_host : o->source_name);
			goto out;
		}
		if (!o->keep_labels)
			json_object_foreach(normal, key, v)
				json_object_set_new(drop, key, json_true());
	}
	json_object_foreach_safe(drop, tmp, key, v)
		json_object_del(labels, key);
	json_object_foreach_safe(labels, tmp, key, v) { /* ours are set below, not copied */
		if (strncmp(key, "devkit.io/", 10) == 0)
			json_object_del(labels, key);
	}

	json_object_set_new(labels, DEVKIT_REPLICA_LABEL_MANAGED, json_string("true"));
	json_object_set_new(labels, DEVKIT_REPLICA_LABEL_OWNER, json_string(spec->owner));
	if (o->traffic_tag)
		json_object_set_new(labels, DEVKIT_REPLICA_LABEL_TAG, json_string(o->traffic_tag));

	if (normal && normal_matches(normal, labels)) {
		/* unreachable without keep_labels: the normal labels were dropped */
		rc = devkit__error_set(DEVKIT_EINVAL,
			"%s: istio routing with keep_labels: the copy would be in the normal subset too "
			"and get untagged traffic; do not keep the source's labels", what);
		goto out;
	}
	if (adopts && ctrl && devkit__selector_matches(ctrl, labels)) {
		rc = devkit__error_set(DEVKIT_EINVAL,
			"%s: the copy's labels would still match the selector of the controller that "
			"owns the source, which would adopt it (and delete a Pod to keep its count)%s",
			what, o->keep_labels ? ": do not keep the source's labels" : "");
		goto out;
	}
	*normal_out = normal;
	normal = NULL;
out:
	json_decref(normal);
	json_decref(ctrl);
	json_decref(drop);
	json_decref(src);
	return rc;
}
