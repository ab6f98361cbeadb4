/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_diag_report: read what the cluster says about a Pod (the Pod, its
 * owners, their events), analyse it (analyze.c, pure), and for a container
 * that keeps crashing read the end of its previous run's log, which is
 * where the reason usually is.
 */
#include "diag_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define PREVIOUS_LOG_LINES 20

static void add_previous_log(devkit_k8s *k, const char *ns, const char *pod, json_t *finding)
{
	const char *container = devkit__json_path_str(finding, "container");
	char esc[512], path[1400];
	devkit_buf text = DEVKIT_BUF_INIT;
	devkit__diag_query_escape(container, esc, sizeof(esc));
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s/log?container=%s"
		"&previous=true&tailLines=%d", ns, pod, esc, PREVIOUS_LOG_LINES);
	json_object_del(finding, "want_previous_log");
	if (devkit__diag_get_text(k, path, &text) < 0) {
		/* a report without the log is still a report */
		const devkit_error *e = devkit_error_last();
		json_object_set_new(finding, "previous_log_error", json_string(e ? e->message
			: "unknown error"));
		devkit_error_clear();
		return;
	}
	json_t *lines = json_array();
	const char *p = text.ptr ? text.ptr : "";
	const char *end = p + text.size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		json_array_append_new(lines, devkit__diag_jstring_lossy(p, n));
		p += n + (nl ? 1 : 0);
	}
	devkit_buf_dispose(&text);
	json_object_set_new(finding, "previous_log", lines);
}

int devkit_diag_report(devkit_k8s *k8s, const char *namespace_name, const char *pod,
	devkit_buf *json, devkit_buf *text)
{
	json_t *p = NULL;
	const char *ns = namespace_name;
	int rc = devkit__diag_read_pod("devkit_diag_report", k8s, &ns, pod, &p);
	if (rc < 0)
		return rc;
	json_t *chain = devkit__diag_owner_chain(k8s, ns, p);
	json_t *events = chain ? devkit__diag_collect_events(k8s, ns, chain) : NULL;
	if (!events) {
		/* the Pod alone still explains most failures: go on without events,
		 * and say so */
		devkit_error_clear();
	}
	json_t *report = devkit__diag_analyze(p, chain, events);
	if (report && !events)
		json_object_set_new(report, "events_error", json_string("the events could not be "
			"listed (RBAC may forbid it)"));
	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f)
		if (json_is_true(json_object_get(f, "want_previous_log")))
			add_previous_log(k8s, ns, pod, f);
	json_decref(p);
	json_decref(chain);
	json_decref(events);
	if (!report)
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_diag_report: out of memory");
	char *j = json ? json_dumps(report, JSON_COMPACT) : NULL;
	char *t = text ? devkit__diag_report_text(report) : NULL;
	json_decref(report);
	if ((json && !j) || (text && !t)) {
		free(j);
		free(t);
		return devkit__error_set(DEVKIT_ENOMEM, "devkit_diag_report: out of memory");
	}
	if (json)
		devkit__diag_give(j, json);
	if (text)
		devkit__diag_give(t, text);
	devkit_error_clear();
	return 0;
}
