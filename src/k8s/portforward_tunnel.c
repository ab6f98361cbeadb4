/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Pod port through a bastion tunnel (devkit_pod_forward_start_tunnel):
 * the Pod's IP from the API, then a plain LOCAL forward on the tunnel. The
 * bastion must reach the Pod network (a bastion Pod or a node does).
 */
#include "exec_int.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/error.h"
#include "core/json.h"
#include "exec_path.h"
#include "k8s_config.h"
#include "k8s_int.h"

/* status.podIP of the Pod into ip. */
static int pod_ip(devkit_k8s *k, const char *ns, const char *pod, char *ip, size_t cap)
{
	char *ens = devkit__url_escape(ns), *epod = devkit__url_escape(pod);
	char *path = ens && epod ? devkit__k8s_strdup_printf("/api/v1/namespaces/%s/pods/%s", ens, epod)
		: NULL;
	free(ens);
	free(epod);
	if (!path)
		return devkit__error_set(DEVKIT_ENOMEM, "pod forward: out of memory");
	json_t *doc = NULL;
	int rc = devkit__k8s_get_json(k, path, &doc);
	free(path);
	if (rc < 0)
		return rc;
	const char *s = devkit__json_path_str(doc, "status.podIP");
	if (!s || !*s)
		rc = devkit__error_set(DEVKIT_ENOTFOUND, "pod forward: Pod %s/%s has no IP yet "
			"(not scheduled or not started: devkit diagnose %s)", ns, pod, pod);
	else if (strlen(s) >= cap)
		rc = devkit__error_set(DEVKIT_EPROTO, "pod forward: Pod %s/%s: podIP is too long", ns, pod);
	else
		strcpy(ip, s);
	json_decref(doc);
	return rc;
}

int devkit_pod_forward_start_tunnel(devkit_pod_forward **out, devkit_k8s *k,
	devkit_tunnel *tunnel, const char *namespace_name, const char *pod, int pod_port,
	const char *bind_address, int bind_port)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_pod_forward_start_tunnel: out is NULL");
	*out = NULL;
	if (!k || !tunnel || !pod || !pod[0] || pod_port < 1 || pod_port > 65535 || bind_port < 0 ||
		bind_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_pod_forward_start_tunnel: the client, "
			"a tunnel, a pod, a pod port of 1..65535 and a bind port of 0..65535 are required");
	const char *ns = namespace_name && namespace_name[0] ? namespace_name
		: devkit_k8s_namespace(k);
	char ip[64];
	int rc = pod_ip(k, ns, pod, ip, sizeof(ip));
	if (rc < 0)
		return rc;
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_LOCAL;
	fo.bind_address = bind_address;
	fo.bind_port = bind_port;
	fo.target_host = ip;
	fo.target_port = pod_port;
	/* a bind address given is the caller's explicit choice, as with
	 * devkit_pod_forward_start */
	fo.allow_non_loopback = bind_address && *bind_address;
	devkit_forward *fwd = NULL;
	rc = devkit_tunnel_add_forward(&fwd, tunnel, &fo);
	if (rc < 0)
		return devkit__error_set(rc, "pod forward to %s/%s (%s:%d) through the tunnel: %s", ns,
			pod, ip, pod_port, devkit_error_last()->message);
	*out = devkit__pod_forward_wrap(fwd);
	if (!*out) {
		devkit_forward_free(fwd);
		return devkit__error_set(DEVKIT_ENOMEM, "pod forward: out of memory");
	}
	return 0;
}
