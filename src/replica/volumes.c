/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Volumes of the copy. A copy never shares a workload's per-replica storage:
 * a StatefulSet's volumeClaimTemplates (which a bare Pod cannot have) and, for
 * a Pod source owned by a StatefulSet, its own claim ("data-redis-0") become
 * emptyDir volumes of the same name: a ReadWriteOnce claim would keep the
 * copy from starting on another node, and on the same node the copy would
 * write into the live replica's data. Claims shared on purpose (any other
 * persistentVolumeClaim) are kept. See docs/replica.md.
 */
#include "replica_int.h"

#include <stdio.h>
#include <string.h>

int devkit__replica_mount_empty_dir(json_t *pod_spec, json_t *container, const char *volume,
	const char *path, const char *size_limit)
{
	json_t *volumes = devkit__json_array_at(pod_spec, "volumes");
	json_t *mounts = devkit__json_array_at(container, "volumeMounts");
	if (!volumes || !mounts)
		return -1;
	if (!devkit__json_find_named(volumes, volume)) {
		json_t *ed = size_limit ? json_pack("{s:s}", "sizeLimit", size_limit) : json_object();
		if (json_array_append_new(volumes, json_pack("{s:s,s:o}", "name", volume, "emptyDir",
			    ed)) < 0)
			return -1;
	}
	size_t i;
	json_t *m;
	json_array_foreach(mounts, i, m) {
		const char *mp = json_string_value(json_object_get(m, "mountPath"));
		if (mp && strcmp(mp, path) == 0)
			return 0;
	}
	return json_array_append_new(mounts, json_pack("{s:s,s:s}", "name", volume, "mountPath",
		path));
}

/* Keep the volume's name, replace its source with an emptyDir. */
static void set_empty_dir(json_t *volume, const json_t *storage)
{
	json_t *ed = json_is_string(storage) ? json_pack("{s:O}", "sizeLimit", storage) : json_object();
	json_t *name = json_incref(json_object_get(volume, "name"));
	json_object_clear(volume);
	if (name)
		json_object_set_new(volume, "name", name);
	json_object_set_new(volume, "emptyDir", ed);
}

void devkit__replica_claims_to_empty_dirs(json_t *pod_spec, const json_t *claim_templates)
{
	size_t i;
	json_t *claim;
	json_array_foreach(claim_templates, i, claim) {
		const char *name = devkit__json_path_str(claim, "metadata.name");
		if (!name)
			continue;
		json_t *volumes = devkit__json_array_at(pod_spec, "volumes");
		if (devkit__json_find_named(volumes, name))
			continue; /* the template's own volume wins, as in a StatefulSet */
		json_t *v = json_pack("{s:s}", "name", name);
		set_empty_dir(v, devkit__json_path(claim, "spec.resources.requests.storage"));
		json_array_append_new(volumes, v);
	}
}

void devkit__replica_pod_volumes(json_t *pod_spec, const char *pod_name, const json_t *owner_ref)
{
	json_t *volumes = json_object_get(pod_spec, "volumes");
	const char *owner_kind = json_string_value(json_object_get(owner_ref, "kind"));
	int sts = owner_kind && strcmp(owner_kind, "StatefulSet") == 0;
	char suffix[300];
	snprintf(suffix, sizeof(suffix), "-%s", pod_name ? pod_name : "");
	size_t slen = strlen(suffix);
	json_t *dropped = json_object();

	for (size_t i = 0; i < json_array_size(volumes);) {
		json_t *v = json_array_get(volumes, i);
		const char *name = json_string_value(json_object_get(v, "name"));
		const char *claim = devkit__json_path_str(v, "persistentVolumeClaim.claimName");
		size_t clen = claim ? strlen(claim) : 0;
		/* The API server's ServiceAccount admission adds the token volume
		 * ("kube-api-access-xxxxx") again for the copy. */
		if (name && strncmp(name, "kube-api-access-", 16) == 0 &&
		    json_object_get(v, "projected")) {
			json_object_set_new(dropped, name, json_true());
			json_array_remove(volumes, i);
			continue;
		}
		if (sts && claim && clen > slen && strcmp(claim + clen - slen, suffix) == 0)
			set_empty_dir(v, NULL);
		i++;
	}
	/* ... and its mounts, in every container, init containers included */
	static const char *const lists[] = { "initContainers", "containers", NULL };
	for (int l = 0; lists[l] && json_object_size(dropped); l++) {
		size_t c;
		json_t *container;
		json_array_foreach(json_object_get(pod_spec, lists[l]), c, container) {
			json_t *mounts = json_object_get(container, "volumeMounts");
			for (size_t i = 0; i < json_array_size(mounts);) {
				const char *n = json_string_value(json_object_get(json_array_get(mounts, i),
					"name"));
				if (n && json_object_get(dropped, n))
					json_array_remove(mounts, i);
				else
					i++;
			}
		}
	}
	json_decref(dropped);
}
