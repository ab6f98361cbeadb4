/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A Pod's conditions and container states, read as text for messages. This
 * started in src/replica/diagnose.c (why a replica is stuck) and moved here
 * when the diagnostics report needed the same reading.
 */
#include "pod_status.h"

#include <stdio.h>
#include <string.h>

#include "diag_json.h"

/* Waiting reasons that do not go away by waiting: the image cannot be had,
 * the container keeps crashing, its configuration is wrong. */
static const char *const stuck_reasons[] = {
	"ImagePullBackOff", "ErrImagePull", "InvalidImageName", "ErrImageNeverPull",
	"CrashLoopBackOff", "CreateContainerConfigError", "CreateContainerError",
	"RunContainerError", NULL,
};

const json_t *devkit__diag_condition(const json_t *pod, const char *type)
{
	size_t i;
	json_t *c;
	json_array_foreach(devkit__json_path(pod, "status.conditions"), i, c) {
		const char *t = json_string_value(json_object_get(c, "type"));
		if (t && strcmp(t, type) == 0)
			return c;
	}
	return NULL;
}

int devkit__diag_condition_true(const json_t *pod, const char *type)
{
	const char *s = json_string_value(json_object_get(devkit__diag_condition(pod, type),
		"status"));
	return s && strcmp(s, "True") == 0;
}

int devkit__diag_stuck_reason(const char *reason)
{
	for (int i = 0; reason && stuck_reasons[i]; i++)
		if (strcmp(reason, stuck_reasons[i]) == 0)
			return 1;
	return 0;
}

void devkit__diag_conditions_text(const json_t *pod, char *out, size_t cap)
{
	size_t len = 0, i;
	json_t *c;
	out[0] = '\0';
	json_array_foreach(devkit__json_path(pod, "status.conditions"), i, c) {
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *status = json_string_value(json_object_get(c, "status"));
		const char *reason = json_string_value(json_object_get(c, "reason"));
		const char *msg = json_string_value(json_object_get(c, "message"));
		int w;
		if (reason || msg)
			w = snprintf(out + len, cap - len, "%s%s=%s (%s%s%s)", len ? ", " : "",
				type ? type : "?", status ? status : "?", reason ? reason : "",
				reason && msg ? ": " : "", msg ? msg : "");
		else
			w = snprintf(out + len, cap - len, "%s%s=%s", len ? ", " : "", type ? type : "?",
				status ? status : "?");
		if (w < 0 || (size_t)w >= cap - len)
			return;
		len += (size_t)w;
	}
	if (len == 0)
		snprintf(out, cap, "none reported yet");
}

void devkit__diag_waiting_text(const json_t *pod, char *out, size_t cap)
{
	static const char *const lists[] = {
		"status.initContainerStatuses", "status.containerStatuses", NULL,
	};
	size_t len = 0;
	out[0] = '\0';
	for (int l = 0; lists[l]; l++) {
		size_t i;
		json_t *cs;
		json_array_foreach(devkit__json_path(pod, lists[l]), i, cs) {
			const json_t *w = devkit__json_path(cs, "state.waiting");
			const json_t *t = devkit__json_path(cs, "state.terminated");
			const char *name = json_string_value(json_object_get(cs, "name"));
			int wr = 0;
			if (w) {
				const char *reason = json_string_value(json_object_get(w, "reason"));
				const char *msg = json_string_value(json_object_get(w, "message"));
				wr = snprintf(out + len, cap - len, "%s%scontainer %s waiting: %s%s%s",
					len ? "; " : "", l == 0 ? "init " : "", name ? name : "?",
					reason ? reason : "?", msg ? ": " : "", msg ? msg : "");
			} else if (t && l == 1) {
				/* a finished init container is the normal case, not news */
				const char *reason = json_string_value(json_object_get(t, "reason"));
				wr = snprintf(out + len, cap - len,
					"%scontainer %s terminated: %s (exit code %lld)",
					len ? "; " : "", name ? name : "?", reason ? reason : "?",
					(long long)json_integer_value(json_object_get(t, "exitCode")));
			} else {
				continue;
			}
			if (wr < 0 || (size_t)wr >= cap - len)
				return;
			len += (size_t)wr;
		}
	}
}
