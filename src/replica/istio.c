/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Istio routing for a traffic tag: a DestinationRule with two subsets of the
 * Service's Pods — "devkit-<tag>" (the copy, by its tag label) and "normal"
 * (the source's Pods, by labels the copy does not have: labels.c) — and a
 * VirtualService that sends requests with header `<tag_header>: <tag>` to the
 * first and everything else to the second. HTTP only: header matching needs
 * requests that the sidecars parse. Both objects carry the replica's labels
 * and annotations and its name, so delete and gc find them.
 */
#include "replica_int.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

int devkit__replica_istio(const devkit__replica_spec *spec, const json_t *pod,
	const json_t *normal, const char *source_name, devkit__replica_objects *out)
{
	const devkit_replica_options *o = spec->opts;
	if (!o->istio)
		return 0;
	const char *host = o->istio_host ? o->istio_host : source_name;
	char subset[80];
	snprintf(subset, sizeof(subset), "devkit-%s", o->traffic_tag);
	const json_t *meta = json_object_get(pod, "metadata");
	/* Only our labels: the source's could make a tool that tracks its
	 * workload by label (Argo CD's app.kubernetes.io/instance) claim these. */
	json_t *labels = json_object();
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)json_object_get(meta, "labels"), key, v)
		if (strncmp(key, "devkit.io/", 10) == 0)
			json_object_set(labels, key, v);

	json_t *vs = json_pack("{s:s,s:s,s:{s:O,s:O,s:O,s:O},s:{s:[s],s:["
		"{s:s,s:[{s:{s:{s:s}}}],s:[{s:{s:s,s:s}}]},"
		"{s:s,s:[{s:{s:s,s:s}}]}]}}",
		"apiVersion", "networking.istio.io/v1beta1", "kind", "VirtualService",
		"metadata", "name", json_object_get(meta, "name"),
		"namespace", json_object_get(meta, "namespace"),
		"labels", labels,
		"annotations", json_object_get(meta, "annotations"),
		"spec", "hosts", host, "http",
		"name", subset, "match", "headers", spec->tag_header, "exact", o->traffic_tag,
		"route", "destination", "host", host, "subset", subset,
		"name", "default", "route", "destination", "host", host,
		"subset", DEVKIT__REPLICA_NORMAL_SUBSET);
	json_t *dr = json_pack("{s:s,s:s,s:{s:O,s:O,s:O,s:O},s:{s:s,s:["
		"{s:s,s:{s:s}},{s:s,s:O}]}}",
		"apiVersion", "networking.istio.io/v1beta1", "kind", "DestinationRule",
		"metadata", "name", json_object_get(meta, "name"),
		"namespace", json_object_get(meta, "namespace"),
		"labels", labels,
		"annotations", json_object_get(meta, "annotations"),
		"spec", "host", host, "subsets",
		"name", subset, "labels", DEVKIT_REPLICA_LABEL_TAG, o->traffic_tag,
		"name", DEVKIT__REPLICA_NORMAL_SUBSET, "labels", normal);
	json_decref(labels);
	if (!vs || !dr) {
		json_decref(vs);
		json_decref(dr);
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	}
	out->virtual_service = vs;
	out->destination_rule = dr;
	return 0;
}
