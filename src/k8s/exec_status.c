/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_status.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "devkit/common.h"

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	return json_is_string(v) ? json_string_value(v) : "";
}

/* The code of a Failure that is not an exit code, from the Status reason. */
static int failure_rc(const char *reason)
{
	if (strcmp(reason, "NotFound") == 0)
		return DEVKIT_ENOTFOUND;
	if (strcmp(reason, "Forbidden") == 0)
		return DEVKIT_EFORBIDDEN;
	if (strcmp(reason, "Unauthorized") == 0)
		return DEVKIT_EAUTH;
	if (strcmp(reason, "BadRequest") == 0 || strcmp(reason, "Invalid") == 0)
		return DEVKIT_EINVAL;
	return DEVKIT_ERROR;
}

static int exit_code_of(json_t *doc, int *code)
{
	json_t *causes = json_object_get(json_object_get(doc, "details"), "causes");
	size_t i;
	json_t *c;
	json_array_foreach(causes, i, c) {
		if (strcmp(str(c, "reason"), "ExitCode") != 0)
			continue;
		char *end;
		const char *m = str(c, "message");
		long v = strtol(m, &end, 10);
		if (end != m && *end == '\0' && v >= 0 && v <= 255) {
			*code = (int)v;
			return 0;
		}
	}
	return -1;
}

int devkit__exec_status_parse(const char *json, size_t len, devkit__exec_status *st)
{
	memset(st, 0, sizeof(*st));
	json_t *doc = json_loadb(json, len, 0, NULL);
	if (!json_is_object(doc)) {
		json_decref(doc);
		st->rc = DEVKIT_EPROTO;
		snprintf(st->message, sizeof(st->message),
			"the error channel carried %zu bytes that are not a Status object", len);
		return st->rc;
	}
	const char *status = str(doc, "status"), *reason = str(doc, "reason");
	const char *message = str(doc, "message");
	if (strcmp(status, "Success") == 0) {
		st->rc = 0;
	} else if (strcmp(reason, "NonZeroExitCode") == 0) {
		if (exit_code_of(doc, &st->exit_code) != 0) {
			st->rc = DEVKIT_EPROTO;
			snprintf(st->message, sizeof(st->message),
				"NonZeroExitCode without an ExitCode cause: %s", message);
		}
	} else {
		st->rc = failure_rc(reason);
		snprintf(st->message, sizeof(st->message), "%s%s%s%s", message,
			*reason ? " (" : "", reason, *reason ? ")" : "");
		if (!st->message[0])
			snprintf(st->message, sizeof(st->message), "the server reported a failure "
				"without a message");
	}
	json_decref(doc);
	return st->rc;
}
