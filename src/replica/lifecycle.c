/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Build (dry run), create and delete a copy. Creation either leaves the whole
 * copy (Pod, and with Istio its DestinationRule and VirtualService) or
 * nothing: when a later object fails, the earlier ones are deleted again.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* How long a rollback waits for the Pod to be gone. */
#define ROLLBACK_TIMEOUT_MS 30000

/* The controller that owns a Pod source, for its selector (labels.c); NULL
 * when it has none or we may not read it. */
static json_t *fetch_owner(devkit_k8s *k8s, const char *ns, const json_t *pod)
{
	size_t i;
	json_t *ref;
	json_array_foreach(devkit__json_path(pod, "metadata.ownerReferences"), i, ref) {
		if (!json_is_true(json_object_get(ref, "controller")))
			continue;
		const char *kind = json_string_value(json_object_get(ref, "kind"));
		const char *name = json_string_value(json_object_get(ref, "name"));
		const char *api = json_string_value(json_object_get(ref, "apiVersion"));
		const char *plural = !kind ? NULL
			: strcmp(kind, "ReplicaSet") == 0 ? "replicasets"
			: strcmp(kind, "StatefulSet") == 0 ? "statefulsets"
			: strcmp(kind, "DaemonSet") == 0 ? "daemonsets"
			: strcmp(kind, "Job") == 0 ? "jobs"
			: strcmp(kind, "ReplicationController") == 0 ? "replicationcontrollers" : NULL;
		if (!plural || !name || !api || !devkit__dns_label_valid(ns))
			return NULL;
		char path[512];
		snprintf(path, sizeof(path), "%s%s/namespaces/%s/%s/%s",
			strchr(api, '/') ? "/apis/" : "/api/", api, ns, plural, name);
		json_t *owner = NULL;
		if (devkit__replica_request(k8s, "GET", path, NULL, &owner) < 0)
			return NULL;
		return owner;
	}
	return NULL;
}

/* Read what the transformation needs and run it. */
static int prepare(devkit_k8s *k8s, const devkit_replica_options *opts,
	devkit__replica_spec *spec, devkit__replica_objects *objs)
{
	char path[512];
	json_t *source = NULL, *services = NULL, *owner = NULL;
	memset(objs, 0, sizeof(*objs));
	if (!k8s)
		return devkit__error_set(DEVKIT_EINVAL, "replica: the Kubernetes client is NULL");
	int rc = devkit__replica_spec_init(spec, opts, devkit_k8s_namespace(k8s));
	if (rc < 0)
		return rc;
	const char *kind = devkit__replica_kind_name(opts->source_kind);
	devkit__replica_path(path, sizeof(path), opts->source_kind, spec->namespace_name,
		opts->source_name);
	rc = devkit__replica_request(k8s, "GET", path, NULL, &source);
	if (rc == DEVKIT_ENOTFOUND)
		return devkit__error_set(rc, "replica: %s/%s not found in namespace %s", kind,
			opts->source_name, spec->namespace_name);
	if (rc < 0)
		return rc;

	/* The Services tell which labels must go (labels.c); without them (not
	 * allowed to list) the copy keeps none of the source's labels. */
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/services", spec->namespace_name);
	json_t *list = NULL;
	if (devkit__replica_request(k8s, "GET", path, NULL, &list) == 0) {
		services = json_incref(json_object_get(list, "items"));
		json_decref(list);
	}
	if (opts->source_kind == DEVKIT_REPLICA_FROM_POD)
		owner = fetch_owner(k8s, spec->namespace_name, source);

	devkit__replica_inputs in = { source, services, owner };
	devkit_error_clear();
	rc = devkit__replica_transform(spec, &in, objs);
	json_decref(source);
	json_decref(services);
	json_decref(owner);
	return rc;
}

static int give_json(const json_t *doc, devkit_buf *out)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (!text)
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	out->ptr = text;
	out->size = strlen(text);
	out->reserved = out->size + 1;
	return 0;
}

int devkit_replica_build(devkit_k8s *k8s, const devkit_replica_options *opts, devkit_buf *out)
{
	devkit__replica_spec spec;
	devkit__replica_objects objs;
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_replica_build: out is NULL");
	int rc = prepare(k8s, opts, &spec, &objs);
	if (rc < 0)
		return rc;
	json_t *doc = devkit__replica_objects_document(&objs);
	rc = doc ? give_json(doc, out) : devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	json_decref(doc);
	devkit__replica_objects_clear(&objs);
	return rc;
}

/* The client's message of the error just raised, before the next call
 * replaces it. */
static void last_message(char *out, size_t cap)
{
	const devkit_error *e = devkit_error_last();
	snprintf(out, cap, "%s", e && e->message ? e->message : "unknown error");
}

/* Istio objects after the Pod: DestinationRule first, so that the routes of
 * the VirtualService never name a subset that does not exist yet. */
static int create_istio(devkit_k8s *k8s, const char *ns, const devkit__replica_objects *objs,
	char *failed, size_t cap)
{
	char path[512];
	devkit__replica_istio_path(path, sizeof(path), "destinationrules", ns, NULL);
	int rc = devkit__replica_request(k8s, "POST", path, objs->destination_rule, NULL);
	if (rc < 0) {
		snprintf(failed, cap, "DestinationRule");
		return rc;
	}
	devkit__replica_istio_path(path, sizeof(path), "virtualservices", ns, NULL);
	rc = devkit__replica_request(k8s, "POST", path, objs->virtual_service, NULL);
	if (rc < 0)
		snprintf(failed, cap, "VirtualService");
	return rc;
}

int devkit_replica_create(devkit_replica **out, devkit_k8s *k8s,
	const devkit_replica_options *opts)
{
	devkit__replica_spec spec;
	devkit__replica_objects objs;
	char path[512], msg[768];
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_replica_create: out is NULL");
	*out = NULL;
	int rc = prepare(k8s, opts, &spec, &objs);
	if (rc < 0)
		return rc;
	const char *name = devkit__json_path_str(objs.pod, "metadata.name");
	const char *ns = spec.namespace_name;
	devkit_replica *r = calloc(1, sizeof(*r));
	if (!r) {
		devkit__replica_objects_clear(&objs);
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	}
	r->k8s = k8s;
	r->istio = objs.virtual_service != NULL;
	snprintf(r->name, sizeof(r->name), "%s", name);
	snprintf(r->ns, sizeof(r->ns), "%s", ns);

	devkit__replica_path(path, sizeof(path), DEVKIT_REPLICA_FROM_POD, ns, NULL);
	rc = devkit__replica_request(k8s, "POST", path, objs.pod, NULL);
	if (rc == DEVKIT_EEXISTS) {
		rc = devkit__error_set(rc,
			"replica %s/%s: the name is taken: a Pod of that name exists (choose another "
			"name, or delete it with devkit_replica_delete_name if it is an old copy)", ns,
			r->name);
		goto fail;
	}
	if (rc < 0) {
		last_message(msg, sizeof(msg));
		rc = devkit__error_set(rc, "replica %s/%s: creating the Pod failed: %s", ns, r->name,
			msg);
		goto fail;
	}
	if (r->istio) {
		char failed[32] = "";
		rc = create_istio(k8s, ns, &objs, failed, sizeof(failed));
		if (rc < 0) {
			/* nothing left behind: what was made goes again */
			char undo[320] = "the Pod and Istio objects made so far were deleted again";
			last_message(msg, sizeof(msg));
			int u = devkit__replica_delete_istio(k8s, ns, r->name);
			int p = devkit__replica_delete_pod(k8s, ns, r->name, ROLLBACK_TIMEOUT_MS);
			if (u < 0 || p < 0) {
				char why[256];
				last_message(why, sizeof(why));
				snprintf(undo, sizeof(undo), "deleting the Pod again failed too: %.250s", why);
			}
			rc = devkit__error_set(rc, "replica %s/%s: creating its %s failed: %s (%s)", ns,
				r->name, failed, msg, undo);
			goto fail;
		}
	}
	devkit__replica_objects_clear(&objs);
	r->id = devkit__replica_next_id(k8s);
	devkit__replica_set_stage(r, DEVKIT_REPLICA_CREATED, 0, "Pod %s/%s created", ns, r->name);
	devkit_error_clear();
	*out = r;
	return 0;
fail:
	devkit__replica_objects_clear(&objs);
	free(r);
	return rc;
}

int devkit_replica_get_stage(devkit_replica *replica)
{
	return replica ? __atomic_load_n(&replica->stage, __ATOMIC_ACQUIRE) : 0;
}

const char *devkit_replica_name(const devkit_replica *replica)
{
	return replica ? replica->name : NULL;
}

const char *devkit_replica_namespace(const devkit_replica *replica)
{
	return replica ? replica->ns : NULL;
}

uint64_t devkit_replica_id(const devkit_replica *replica)
{
	return replica ? replica->id : 0;
}

int devkit_replica_delete(devkit_replica *replica, int timeout_ms)
{
	char msg[512] = "";
	if (!replica)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_replica_delete: replica is NULL");
	/* The routes first: a VirtualService whose subset has no Pod fails
	 * the tagged requests, which is what should happen anyway once it is
	 * gone. A failure there does not keep the Pod. */
	int irc = replica->istio ? devkit__replica_delete_istio(replica->k8s, replica->ns,
		replica->name) : 0;
	if (irc < 0)
		last_message(msg, sizeof(msg));
	int rc = devkit__replica_delete_pod(replica->k8s, replica->ns, replica->name, timeout_ms);
	if (rc < 0)
		return rc;
	devkit__replica_set_stage(replica, DEVKIT_REPLICA_DELETED, 0, "Pod %s/%s deleted",
		replica->ns, replica->name);
	if (irc < 0)
		return devkit__error_set(irc, "replica %s/%s: the Pod is deleted, its Istio routing "
			"is not: %s", replica->ns, replica->name, msg);
	return 0;
}

void devkit_replica_free(devkit_replica *replica)
{
	free(replica);
}
