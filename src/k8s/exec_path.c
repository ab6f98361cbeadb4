/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_path.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/bytes.h"
#include "core/error.h"

char *devkit__url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *p = out;
	if (!out)
		return NULL;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		/* RFC 3986 unreserved characters stay as they are. */
		if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
			*c == '-' || *c == '.' || *c == '_' || *c == '~') {
			*p++ = (char)*c;
		} else {
			*p++ = '%';
			*p++ = hex[*c >> 4];
			*p++ = hex[*c & 15];
		}
	}
	*p = '\0';
	return out;
}

static int add_param(devkit__bytes *b, const char *name, const char *value)
{
	char *v = devkit__url_escape(value);
	int rc = v ? devkit__bytes_printf(b, "%s%s=%s", b->len && memchr(b->data, '?', b->len) ?
		"&" : "?", name, v) : -1;
	free(v);
	return rc;
}

static int add_command(devkit__bytes *b, const devkit_exec_options *o)
{
	if (!o->argv_json) {
		if (!o->command || !o->command[0])
			return devkit__error_set(DEVKIT_EINVAL, "exec: a command or argv_json is required");
		if (add_param(b, "command", "sh") || add_param(b, "command", "-c") ||
			add_param(b, "command", o->command))
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return 0;
	}
	json_error_t je;
	json_t *argv = json_loads(o->argv_json, 0, &je);
	int rc = 0;
	if (!json_is_array(argv) || json_array_size(argv) == 0) {
		rc = devkit__error_set(DEVKIT_EINVAL,
			"exec: argv_json is not a non-empty JSON array of strings");
	} else {
		size_t i;
		json_t *arg;
		json_array_foreach(argv, i, arg) {
			if (!json_is_string(arg)) {
				rc = devkit__error_set(DEVKIT_EINVAL,
					"exec: argv_json item %zu is not a string", i);
				break;
			}
			if (add_param(b, "command", json_string_value(arg))) {
				rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
				break;
			}
		}
	}
	json_decref(argv);
	return rc;
}

char *devkit__exec_path(const devkit_exec_options *o, const char *namespace_name)
{
	if (!o->pod || !o->pod[0] || !namespace_name || !namespace_name[0]) {
		devkit__error_set(DEVKIT_EINVAL, "exec: the pod (and a namespace) are required");
		return NULL;
	}
	devkit__bytes b = DEVKIT__BYTES_INIT;
	char *ns = devkit__url_escape(namespace_name), *pod = devkit__url_escape(o->pod);
	int rc = ns && pod ? devkit__bytes_printf(&b, "/api/v1/namespaces/%s/pods/%s/%s", ns, pod,
		o->attach ? "attach" : "exec") : -1;
	free(ns);
	free(pod);
	if (rc != 0) {
		devkit__bytes_free(&b);
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	if (!o->attach && add_command(&b, o) != 0) {
		devkit__bytes_free(&b);
		return NULL;
	}
	/* With a terminal the server merges stderr into stdout (kubectl asks so). */
	if ((o->container && o->container[0] && add_param(&b, "container", o->container)) ||
		add_param(&b, "stdin", o->stdin_enabled ? "true" : "false") ||
		add_param(&b, "stdout", "true") ||
		add_param(&b, "stderr", o->tty ? "false" : "true") ||
		add_param(&b, "tty", o->tty ? "true" : "false") ||
		devkit__bytes_append(&b, "", 1)) {
		devkit__bytes_free(&b);
		devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		return NULL;
	}
	/* libwebsockets 4.1 sends a request path cut at 2 KiB, which the server
	 * then refuses as a bad request: say why instead (measured: 1,953 bytes
	 * go through, 2,053 do not). */
	if (b.len - 1 > DEVKIT__EXEC_MAX_PATH) {
		devkit__error_set(DEVKIT_EINVAL, "exec: the command is too long (%zu bytes in the "
			"request path once URL-encoded; at most %d go through the WebSocket library): "
			"send a long script on stdin instead (command \"sh -s\")", b.len - 1,
			DEVKIT__EXEC_MAX_PATH);
		devkit__bytes_free(&b);
		return NULL;
	}
	return b.data;
}
