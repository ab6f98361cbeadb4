/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Pod's owners: its controller (ownerReferences with controller: true) and
 * that one's, up the chain -- a Deployment's Pod is owned by a ReplicaSet,
 * which the Deployment owns. Their events say what the Pod's own do not: a
 * rollout that replaced it, a quota that stops new Pods.
 */
#include "diag_int.h"

#include "k8s/k8s_int.h"

#include <stdio.h>
#include <string.h>

#include "core/error.h"

#define MAX_DEPTH 4

static const struct {
	const char *kind;
	const char *plural;
} plurals[] = {
	{ "Pod", "pods" },
	{ "ReplicaSet", "replicasets" },
	{ "Deployment", "deployments" },
	{ "StatefulSet", "statefulsets" },
	{ "DaemonSet", "daemonsets" },
	{ "Job", "jobs" },
	{ "CronJob", "cronjobs" },
	{ "ReplicationController", "replicationcontrollers" },
};

int devkit__diag_object_path(const char *api_version, const char *kind, const char *ns,
	const char *name, char *out, size_t cap)
{
	if (!api_version || !kind || !name)
		return -1;
	for (size_t i = 0; i < sizeof(plurals) / sizeof(plurals[0]); i++) {
		if (strcmp(plurals[i].kind, kind) != 0)
			continue;
		/* core objects live under /api/v1, the others under /apis/GROUP/VERSION */
		int core = strchr(api_version, '/') == NULL;
		int w = snprintf(out, cap, "%s/%s/namespaces/%s/%s/%s", core ? "/api" : "/apis",
			api_version, ns, plurals[i].plural, name);
		return w > 0 && (size_t)w < cap ? 0 : -1;
	}
	return -1;
}

/* The controller reference of an object (the one with controller: true,
 * else the first: some operators leave the flag out). */
static const json_t *controller_ref(const json_t *obj)
{
	const json_t *refs = devkit__json_path(obj, "metadata.ownerReferences");
	size_t i;
	json_t *ref;
	json_array_foreach(refs, i, ref)
		if (json_is_true(json_object_get(ref, "controller")))
			return ref;
	return json_array_get(refs, 0);
}

static int append_link(json_t *chain, const char *kind, const char *name, const char *uid,
	const char *api_version)
{
	json_t *o = json_object();
	if (!o)
		return -1;
	devkit__diag_jset_str(o, "kind", kind);
	devkit__diag_jset_str(o, "name", name);
	devkit__diag_jset_str(o, "uid", uid);
	devkit__diag_jset_str(o, "apiVersion", api_version);
	return json_array_append_new(chain, o);
}

json_t *devkit__diag_owner_chain(devkit_k8s *k, const char *ns, const json_t *pod)
{
	json_t *chain = json_array();
	if (!chain)
		return NULL;
	append_link(chain, "Pod", devkit__json_path_str(pod, "metadata.name"),
		devkit__json_path_str(pod, "metadata.uid"), "v1");
	json_t *obj = json_incref((json_t *)pod);
	for (int depth = 0; depth < MAX_DEPTH; depth++) {
		const json_t *ref = controller_ref(obj);
		const char *kind = devkit__json_path_str(ref, "kind");
		const char *name = devkit__json_path_str(ref, "name");
		const char *api = devkit__json_path_str(ref, "apiVersion");
		if (!kind || !name)
			break;
		append_link(chain, kind, name, devkit__json_path_str(ref, "uid"), api);
		char path[768];
		json_t *next = NULL;
		/* An owner we may not read (RBAC) or that is gone still names
		 * events worth asking for; its own owner stays unknown. */
		if (devkit__diag_object_path(api, kind, ns, name, path, sizeof(path)) != 0 ||
			devkit__k8s_get_json(k, path, &next) != 0)
			break;
		json_decref(obj);
		obj = next;
	}
	json_decref(obj);
	devkit_error_clear();
	return chain;
}
