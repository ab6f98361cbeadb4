/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tcpdump from the start: a sidecar container sees the Pod's network (all
 * containers of a Pod share one network namespace) and writes a rotating
 * pcap (5 files of 10 MB: capture.pcap0..4) to an emptyDir mounted at
 * /devkit/pcap in it and in the main container, so the capture can be read
 * from either (kubectl cp).
 *
 * Capturing needs NET_RAW (NET_ADMIN too for some interfaces) and root: a
 * Pod-level runAsNonRoot/runAsUser, common in hardened charts, would leave the
 * added capabilities out of tcpdump's effective set, so the sidecar says
 * runAsUser 0 itself. Namespaces enforcing the "baseline" or "restricted" Pod
 * Security Standard refuse both; the API server's message then says so.
 */
#include "replica_int.h"

#include <stdlib.h>

#include "core/error.h"

int devkit__replica_apply_tcpdump(const devkit__replica_spec *spec, json_t *pod_spec,
	json_t *container)
{
	const devkit_replica_options *o = spec->opts;
	if (!o->tcpdump)
		return 0;
	json_t *containers = json_object_get(pod_spec, "containers");
	if (devkit__json_find_named(containers, DEVKIT__REPLICA_TCPDUMP_CONTAINER))
		return 0; /* copied from a copy */
	/* -U: write each packet at once, so a capture can be read while it runs.
	 * The BPF filter is one argument: tcpdump joins the rest anyway. */
	json_t *cmd = json_pack("[s,s,s,s,s,s,s,s,s,s,s,s]", "tcpdump", "-i", "any", "-U",
		"-w", DEVKIT__REPLICA_PCAP_DIR "/capture.pcap", "-C", "10", "-W", "5", "-Z", "root");
	if (o->tcpdump_filter && *o->tcpdump_filter) {
		char *f = devkit__replica_escape_dollars(o->tcpdump_filter);
		json_array_append_new(cmd, json_string(f ? f : ""));
		free(f);
	}
	/* Requests and limits: a namespace with a quota on them refuses a
	 * container without. */
	json_t *sidecar = json_pack("{s:s,s:s,s:o,s:{s:{s:[s,s]},s:i,s:b},"
		"s:{s:{s:s,s:s},s:{s:s,s:s}}}",
		"name", DEVKIT__REPLICA_TCPDUMP_CONTAINER,
		"image", spec->tcpdump_image,
		"command", cmd,
		"securityContext", "capabilities", "add", "NET_ADMIN", "NET_RAW",
		"runAsUser", 0, "runAsNonRoot", 0,
		"resources", "requests", "cpu", "10m", "memory", "32Mi",
		"limits", "cpu", "500m", "memory", "128Mi");
	if (!sidecar || json_array_append_new(containers, sidecar) < 0)
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	json_t *added = json_array_get(containers, json_array_size(containers) - 1);
	/* 5 x 10 MB, with room: beyond its sizeLimit an emptyDir gets the Pod evicted */
	if (devkit__replica_mount_empty_dir(pod_spec, added, DEVKIT__REPLICA_PCAP_VOLUME,
		    DEVKIT__REPLICA_PCAP_DIR, "100Mi") < 0 ||
	    devkit__replica_mount_empty_dir(pod_spec, container, DEVKIT__REPLICA_PCAP_VOLUME,
		    DEVKIT__REPLICA_PCAP_DIR, "100Mi") < 0)
		return devkit__error_set(DEVKIT_ENOMEM, "replica: out of memory");
	return 0;
}
