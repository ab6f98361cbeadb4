/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The transformation: a source Pod, or a workload's Pod template, becomes the
 * Pod to create (and, with an Istio traffic tag, its routing objects). Pure:
 * the cluster's state comes in through devkit__replica_inputs, the clock and
 * randomness through the spec, so every case is a unit test.
 *
 * What is kept: containers, init containers, sidecars, volumes, env,
 * resources, serviceAccountName, affinity, tolerations, security contexts,
 * annotations. What goes: all metadata but labels and annotations (uid,
 * resourceVersion, ownerReferences, managedFields, finalizers, ...), the
 * status, and what the cluster filled in for the source and would refuse or
 * misread for a new Pod (below).
 */
#include "replica_int.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

void devkit__replica_objects_clear(devkit__replica_objects *o)
{
	json_decref(o->pod);
	json_decref(o->virtual_service);
	json_decref(o->destination_rule);
	o->pod = o->virtual_service = o->destination_rule = NULL;
}

static const char *expected_kind(devkit_replica_source kind)
{
	switch (kind) {
	case DEVKIT_REPLICA_FROM_POD: return "Pod";
	case DEVKIT_REPLICA_FROM_DEPLOYMENT: return "Deployment";
	case DEVKIT_REPLICA_FROM_STATEFULSET: return "StatefulSet";
	case DEVKIT_REPLICA_FROM_DAEMONSET: return "DaemonSet";
	default: return "?";
	}
}

/* Annotations that describe the source's own life (the node's CNI, the kubelet,
 * kubectl apply) rather than what the Pod should be. */
static int foreign_annotation(const char *key)
{
	static const char *const prefixes[] = {
		"kubectl.kubernetes.io/last-applied-configuration",
		"kubernetes.io/config.",          /* static and mirror Pods */
		"cni.projectcalico.org/",         /* the source's IP */
		"k8s.v1.cni.cncf.io/network-status",
		"k8s.v1.cni.cncf.io/networks-status",
		"devkit.io/",                     /* ours: written fresh */
		NULL,
	};
	for (int i = 0; prefixes[i]; i++)
		if (strncmp(key, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

static json_t *annotations(const devkit__replica_spec *spec, const json_t *from)
{
	json_t *a = json_object();
	const char *key;
	json_t *v;
	char source[320], created[32], expires[32];
	json_object_foreach((json_t *)from, key, v)
		if (!foreign_annotation(key))
			json_object_set(a, key, v);
	snprintf(source, sizeof(source), "%s/%s",
		devkit__replica_kind_name(spec->opts->source_kind), spec->opts->source_name);
	devkit__rfc3339_format(spec->now, created);
	devkit__rfc3339_format(spec->now + (time_t)spec->ttl_s, expires);
	json_object_set_new(a, DEVKIT_REPLICA_ANNOTATION_SOURCE, json_string(source));
	json_object_set_new(a, DEVKIT_REPLICA_ANNOTATION_CREATED, json_string(created));
	json_object_set_new(a, DEVKIT_REPLICA_ANNOTATION_EXPIRES, json_string(expires));
	return a;
}

static const json_t *controller_ref(const json_t *pod)
{
	size_t i;
	json_t *ref;
	json_array_foreach(devkit__json_path(pod, "metadata.ownerReferences"), i, ref)
		if (json_is_true(json_object_get(ref, "controller")))
			return ref;
	return NULL;
}

/* A running Pod's spec carries what the scheduler, admission and controllers
 * put there; a new Pod must not. */
static void clean_pod_source(json_t *pod_spec, const json_t *source)
{
	const json_t *ref = controller_ref(source);
	const char *owner_kind = json_string_value(json_object_get(ref, "kind"));
	json_object_del(pod_spec, "nodeName");            /* the scheduler's choice */
	json_object_del(pod_spec, "ephemeralContainers"); /* refused on create */
	if (owner_kind && strcmp(owner_kind, "StatefulSet") == 0) {
		/* set by the StatefulSet: "redis-0" would make the copy claim that
		 * replica's identity (ZooKeeper's myid, Redis' cluster node) */
		json_object_del(pod_spec, "hostname");
		json_object_del(pod_spec, "subdomain");
	}
	devkit__replica_pod_volumes(pod_spec, devkit__json_path_str(source, "metadata.name"), ref);
}

static void remove_probes(const devkit_replica_options *o, json_t *container)
{
	if (o->no_liveness)
		json_object_del(container, "livenessProbe");
	if (o->no_readiness)
		json_object_del(container, "readinessProbe");
	if (o->no_startup)
		json_object_del(container, "startupProbe");
}

/* An explicit node: the kubelet still checks nodeSelector and required node
 * affinity when it admits a Pod (and refuses it with "NodeAffinity"), so the
 * user's choice replaces them; Pod (anti-)affinity is the scheduler's alone
 * and is moot. Tolerations stay: the NoExecute taints are enforced on the
 * node. Scheduling gates must be gone for nodeName to be accepted. */
static void set_node(json_t *pod_spec, const char *node)
{
	json_object_set_new(pod_spec, "nodeName", json_string(node));
	json_object_del(pod_spec, "nodeSelector");
	json_object_del(pod_spec, "schedulingGates");
	json_t *aff = json_object_get(pod_spec, "affinity");
	if (json_is_object(aff)) {
		json_object_del(aff, "nodeAffinity");
		if (json_object_size(aff) == 0)
			json_object_del(pod_spec, "affinity");
	}
}

static json_t *find_container(const devkit__replica_spec *spec, json_t *containers,
	const char *what)
{
	const char *want = spec->opts->container;
	if (!want)
		return json_array_get(containers, 0);
	json_t *c = devkit__json_find_named(containers, want);
	if (!c) {
		char names[256];
		devkit__json_names(containers, names, sizeof(names));
		devkit__error_set(DEVKIT_EINVAL, "%s: no container \"%s\" (containers: %s)", what,
			want, names);
	}
	return c;
}

int devkit__replica_transform(const devkit__replica_spec *spec, const devkit__replica_inputs *in,
	devkit__replica_objects *out)
{
	const devkit_replica_options *o = spec->opts;
	const json_t *src = in->source;
	const json_t *tmeta, *tspec;
	json_t *normal = NULL;
	char what[320], name[64];
	int rc;

	memset(out, 0, sizeof(*out));
	snprintf(what, sizeof(what), "%s/%s", devkit__replica_kind_name(o->source_kind),
		o->source_name);
	const char *kind = devkit__json_path_str(src, "kind");
	if (!json_is_object(src))
		return devkit__error_set(DEVKIT_EINVAL, "%s: the source is not a JSON object", what);
	if (kind && strcmp(kind, expected_kind(o->source_kind)) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the object is a %s, not a %s", what,
			kind, expected_kind(o->source_kind));
	if (o->source_kind == DEVKIT_REPLICA_FROM_POD) {
		tmeta = json_object_get(src, "metadata");
		tspec = json_object_get(src, "spec");
	} else {
		const json_t *tmpl = devkit__json_path(src, "spec.template");
		if (!json_is_object(tmpl))
			return devkit__error_set(DEVKIT_EINVAL,
				"%s has no spec.template: there is no Pod template to copy", what);
		tmeta = json_object_get(tmpl, "metadata");
		tspec = json_object_get(tmpl, "spec");
	}
	if (!json_is_object(tspec) || json_array_size(json_object_get(tspec, "containers")) == 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: its Pod %s has no containers", what,
			o->source_kind == DEVKIT_REPLICA_FROM_POD ? "spec" : "template");

	if (o->name)
		snprintf(name, sizeof(name), "%s", o->name);
	else
		devkit__replica_generate_name(o->source_name, spec->owner, spec->suffix, name,
			sizeof(name));

	json_t *labels = json_deep_copy(json_is_object(json_object_get(tmeta, "labels"))
		? json_object_get(tmeta, "labels") : json_object());
	json_t *pod = json_pack("{s:s,s:s,s:{s:s,s:s,s:o,s:o},s:o}", "apiVersion", "v1",
		"kind", "Pod", "metadata", "name", name, "namespace", spec->namespace_name,
		"labels", labels, "annotations", annotations(spec, json_object_get(tmeta, "annotations")),
		"spec", json_deep_copy(tspec));
	if (!pod)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", what);
	json_t *pspec = json_object_get(pod, "spec");

	rc = devkit__replica_labels(spec, in, what, labels, &normal);
	if (rc < 0)
		goto fail;
	/* The Priority admission plugin refuses a number it did not compute
	 * from priorityClassName itself. */
	json_object_del(pspec, "priority");
	if (o->source_kind == DEVKIT_REPLICA_FROM_POD)
		clean_pod_source(pspec, src);
	if (o->source_kind == DEVKIT_REPLICA_FROM_STATEFULSET)
		devkit__replica_claims_to_empty_dirs(pspec,
			devkit__json_path(src, "spec.volumeClaimTemplates"));

	json_t *container = find_container(spec, json_object_get(pspec, "containers"), what);
	if (!container) {
		rc = DEVKIT_EINVAL;
		goto fail;
	}
	remove_probes(o, container);
	if ((rc = devkit__replica_apply_command(spec, pspec, container, what)) < 0 ||
	    (rc = devkit__replica_apply_jvm(spec, container)) < 0 ||
	    (rc = devkit__replica_apply_tcpdump(spec, pspec, container)) < 0)
		goto fail;
	if (o->node_name)
		set_node(pspec, o->node_name);
	if ((rc = devkit__replica_istio(spec, pod, normal, o->source_name, out)) < 0)
		goto fail;
	json_decref(normal);
	out->pod = pod;
	return 0;
fail:
	json_decref(normal);
	json_decref(pod);
	devkit__replica_objects_clear(out);
	return rc;
}

json_t *devkit__replica_objects_document(const devkit__replica_objects *o)
{
	if (!o->virtual_service && !o->destination_rule)
		return json_incref(o->pod);
	json_t *items = json_pack("[O]", o->pod);
	if (o->destination_rule)
		json_array_append(items, o->destination_rule);
	if (o->virtual_service)
		json_array_append(items, o->virtual_service);
	return json_pack("{s:s,s:s,s:o}", "apiVersion", "v1", "kind", "List", "items", items);
}
