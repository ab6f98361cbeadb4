/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The report for a person: the summary, then each finding with its
 * explanation, fix and evidence (wrapped to 80 columns), the containers,
 * and the latest events. docs/diagnostics.md shows examples.
 */
#include "diag_int.h"

#include <stdio.h>
#include <string.h>

#include "core/bytes.h"

#define WIDTH 80
#define EVENTS_SHOWN 12

/* Append `text` word-wrapped at WIDTH, every line starting with `indent`
 * (the first with `first` instead, when not NULL). */
static void wrap(devkit__bytes *b, const char *first, const char *indent, const char *text)
{
	const char *lead = first ? first : indent;
	size_t col = strlen(lead);
	devkit__bytes_printf(b, "%s", lead);
	int at_start = 1;
	for (const char *p = text; *p;) {
		while (*p == ' ')
			p++;
		size_t n = strcspn(p, " ");
		if (n == 0)
			break;
		if (!at_start && col + 1 + n > WIDTH) {
			devkit__bytes_printf(b, "\n%s", indent);
			col = strlen(indent);
			at_start = 1;
		}
		devkit__bytes_printf(b, "%s%.*s", at_start ? "" : " ", (int)n, p);
		col += n + (at_start ? 0 : 1);
		at_start = 0;
		p += n;
	}
	devkit__bytes_printf(b, "\n");
}

static const char *str(const json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : dflt;
}

static void containers(devkit__bytes *b, const json_t *list)
{
	size_t i;
	json_t *c;
	if (json_array_size(list) == 0)
		return;
	devkit__bytes_printf(b, "\nContainers:\n");
	json_array_foreach(list, i, c) {
		const char *reason = str(c, "reason", NULL);
		devkit__bytes_printf(b, "  %s%s: %s%s%s%s, %s, %lld restart%s", str(c, "name", "?"),
			json_is_true(json_object_get(c, "init")) ? " (init)" : "", str(c, "state", "?"),
			reason ? " (" : "", reason ? reason : "", reason ? ")" : "",
			json_is_true(json_object_get(c, "ready")) ? "ready" : "not ready",
			(long long)json_integer_value(json_object_get(c, "restarts")),
			json_integer_value(json_object_get(c, "restarts")) == 1 ? "" : "s");
		const json_t *last = json_object_get(c, "last_terminated");
		if (last)
			devkit__bytes_printf(b, ", last run ended with exit code %lld (%s)",
				(long long)json_integer_value(json_object_get(last, "exit_code")),
				str(last, "reason", "?"));
		devkit__bytes_printf(b, "\n");
	}
}

static void events(devkit__bytes *b, const json_t *list)
{
	size_t n = json_array_size(list), i;
	if (n == 0) {
		devkit__bytes_printf(b, "\nEvents: none (events expire after an hour by default)\n");
		return;
	}
	devkit__bytes_printf(b, "\nEvents (%s%zu, oldest first):\n", n > EVENTS_SHOWN ?
		"latest of " : "", n);
	for (i = n > EVENTS_SHOWN ? n - EVENTS_SHOWN : 0; i < n; i++) {
		const json_t *ev = json_array_get(list, i);
		const json_t *obj = json_object_get(ev, "object");
		json_int_t count = json_integer_value(json_object_get(ev, "count"));
		char head[400];
		snprintf(head, sizeof(head), "  %s %-7s %s %s/%s: ", str(ev, "time", "?"),
			str(ev, "type", "?"), str(ev, "reason", "?"), str(obj, "kind", "?"),
			str(obj, "name", "?"));
		char msg[1400];
		if (count > 1)
			snprintf(msg, sizeof(msg), "(x%lld) %s", (long long)count, str(ev, "message", ""));
		else
			snprintf(msg, sizeof(msg), "%s", str(ev, "message", ""));
		wrap(b, head, "      ", msg);
	}
}

char *devkit__diag_report_text(const json_t *report)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	const json_t *owner = json_object_get(report, "owner");
	wrap(&b, "", "  ", str(report, "summary", "?"));
	devkit__bytes_printf(&b, "  phase %s, node %s, %s", str(report, "phase", "?"),
		str(report, "node", "(none yet)"),
		json_is_true(json_object_get(report, "ready")) ? "ready" : "not ready");
	if (owner)
		devkit__bytes_printf(&b, ", owned by %s/%s", str(owner, "kind", "?"),
			str(owner, "name", "?"));
	devkit__bytes_printf(&b, "\n");

	size_t i;
	json_t *f;
	json_array_foreach(json_object_get(report, "findings"), i, f) {
		const char *c = str(f, "container", NULL);
		devkit__bytes_printf(&b, "\n[%zu] %s (%s%s%s): %s\n", i + 1, str(f, "id", "?"),
			str(f, "stage", "?"), c ? ", container " : "", c ? c : "", str(f, "title", ""));
		wrap(&b, NULL, "    ", str(f, "explanation", ""));
		wrap(&b, "    Fix: ", "    ", str(f, "fix", ""));
		devkit__bytes_printf(&b, "    Evidence:\n");
		size_t j;
		json_t *e;
		json_array_foreach(json_object_get(f, "evidence"), j, e)
			wrap(&b, "      - ", "        ", json_string_value(e) ? json_string_value(e) : "");
		const json_t *log = json_object_get(f, "previous_log");
		if (json_is_array(log)) {
			devkit__bytes_printf(&b, "    Last %zu line%s of the previous run's log:\n",
				json_array_size(log), json_array_size(log) == 1 ? "" : "s");
			json_array_foreach(log, j, e)
				devkit__bytes_printf(&b, "      | %s\n", json_string_value(e) ?
					json_string_value(e) : "");
		} else if (json_object_get(f, "previous_log_error")) {
			devkit__bytes_printf(&b, "    The previous run's log could not be read: %s\n",
				str(f, "previous_log_error", "?"));
		}
	}
	containers(&b, json_object_get(report, "containers"));
	if (json_object_get(report, "events"))
		events(&b, json_object_get(report, "events"));
	if (devkit__bytes_append(&b, "", 1) != 0) {
		devkit__bytes_free(&b);
		return NULL;
	}
	return b.data;
}
