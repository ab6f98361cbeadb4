/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The cluster, through the public Kubernetes client: replication runs on the
 * caller's thread and makes blocking devkit_k8s_request() calls, which the
 * client hands to the engine loop. Nothing here touches the loop.
 */
#include "replica_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"

void devkit__replica_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

uint64_t devkit__replica_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int devkit__replica_request(devkit_k8s *k8s, const char *method, const char *path,
	const json_t *body, json_t **out)
{
	devkit_buf answer = DEVKIT_BUF_INIT;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (out)
		*out = NULL;
	if (body && !text)
		return devkit__error_set(DEVKIT_ENOMEM, "%s %s: out of memory", method, path);
	int rc = devkit_k8s_request(k8s, method, path, text, &answer);
	free(text);
	if (rc < 0)
		return rc; /* the client's message stays the thread's last error */
	if (out) {
		json_error_t jerr;
		*out = answer.ptr ? json_loadb(answer.ptr, answer.size, 0, &jerr) : NULL;
		if (!*out) {
			devkit_buf_dispose(&answer);
			return devkit__error_set(DEVKIT_EPROTO, "%s %s: the answer is not JSON",
				method, path);
		}
	}
	devkit_buf_dispose(&answer);
	return 0;
}

void devkit__replica_path(char *out, size_t cap, devkit_replica_source kind, const char *ns,
	const char *name)
{
	const char *group = kind == DEVKIT_REPLICA_FROM_POD ? "/api/v1" : "/apis/apps/v1";
	const char *plural = kind == DEVKIT_REPLICA_FROM_DEPLOYMENT ? "deployments"
		: kind == DEVKIT_REPLICA_FROM_STATEFULSET ? "statefulsets"
		: kind == DEVKIT_REPLICA_FROM_DAEMONSET ? "daemonsets" : "pods";
	snprintf(out, cap, "%s/namespaces/%s/%s%s%s", group, ns, plural, name ? "/" : "",
		name ? name : "");
}

void devkit__replica_istio_path(char *out, size_t cap, const char *plural, const char *ns,
	const char *name)
{
	snprintf(out, cap, "/apis/networking.istio.io/v1beta1/namespaces/%s/%s%s%s", ns, plural,
		name ? "/" : "", name ? name : "");
}

int devkit__replica_delete_pod(devkit_k8s *k8s, const char *ns, const char *name,
	int timeout_ms)
{
	char path[512];
	devkit__replica_path(path, sizeof(path), DEVKIT_REPLICA_FROM_POD, ns, name);
	int rc = devkit__replica_request(k8s, "DELETE", path, NULL, NULL);
	if (rc == DEVKIT_ENOTFOUND)
		return 0;
	if (rc < 0)
		return rc;
	/* The API server answers at once; the Pod goes when the kubelet has
	 * stopped its containers (grace period) and its finalizers are done. */
	uint64_t deadline = devkit__replica_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
	for (;;) {
		rc = devkit__replica_request(k8s, "GET", path, NULL, NULL);
		if (rc == DEVKIT_ENOTFOUND)
			return 0;
		if (rc < 0)
			return rc;
		if (devkit__replica_now_ms() >= deadline)
			return devkit__error_set(DEVKIT_ETIMEOUT,
				"replica %s/%s: deleted, but still there (terminating) after %d ms", ns, name,
				timeout_ms);
		devkit__replica_sleep_ms(300);
	}
}

int devkit__replica_delete_istio(devkit_k8s *k8s, const char *ns, const char *name)
{
	/* VirtualService first: it references the DestinationRule's subsets, and
	 * a route to a missing subset fails requests. */
	static const char *const plurals[] = { "virtualservices", "destinationrules" };
	int first = 0;
	for (int i = 0; i < 2; i++) {
		char path[512];
		json_t *obj = NULL;
		devkit__replica_istio_path(path, sizeof(path), plurals[i], ns, name);
		int rc = devkit__replica_request(k8s, "GET", path, NULL, &obj);
		/* only ours: another object may have the same name */
		const json_t *labels = devkit__json_path(obj, "metadata.labels");
		const char *m = json_string_value(json_object_get(labels, DEVKIT_REPLICA_LABEL_MANAGED));
		if (rc == 0 && m && strcmp(m, "true") == 0)
			rc = devkit__replica_request(k8s, "DELETE", path, NULL, NULL);
		json_decref(obj);
		if (rc < 0 && rc != DEVKIT_ENOTFOUND && !first)
			first = rc;
	}
	return first;
}
