/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Small readers of API answers that several modules need: a GET parsed as
 * JSON, and the container a request without one is about.
 */
#include "k8s_int.h"

#include <string.h>

#include "core/error.h"
#include "core/json.h"

int devkit__k8s_get_json(devkit_k8s *k, const char *path, json_t **out)
{
	devkit_buf answer = DEVKIT_BUF_INIT;
	*out = NULL;
	int rc = devkit_k8s_request(k, "GET", path, NULL, &answer);
	if (rc < 0)
		return rc;
	json_error_t jerr;
	*out = answer.ptr ? json_loadb(answer.ptr, answer.size, 0, &jerr) : NULL;
	devkit_buf_dispose(&answer);
	if (!*out)
		return devkit__error_set(DEVKIT_EPROTO, "GET %.*s: the answer is not JSON",
			(int)strcspn(path, "?"), path);
	return 0;
}

const char *devkit__k8s_default_container(const json_t *pod)
{
	/* not through a dotted path: the key has dots */
	const json_t *ann = devkit__json_path(pod, "metadata.annotations");
	const char *annotated = json_string_value(json_object_get(ann,
		"kubectl.kubernetes.io/default-container"));
	const json_t *list = devkit__json_path(pod, "spec.containers");
	if (annotated && devkit__json_find_named(list, annotated))
		return annotated;
	if (json_array_size(list) == 1)
		return devkit__json_path_str(json_array_get(list, 0), "name");
	return NULL;
}
