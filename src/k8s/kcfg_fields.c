/* SPDX-License-Identifier: Apache-2.0 */
#include "kcfg_fields.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/error.h"
#include "k8s_file.h"
#include "tls_pem.h"

void devkit__kw_describe(const devkit__kwhere *w, char *out, size_t cap)
{
	if (w->kind)
		snprintf(out, cap, "%s \"%s\" of context \"%s\"", w->kind, w->name, w->context);
	else
		snprintf(out, cap, "context \"%s\"", w->context);
}

int devkit__kw_fail(const devkit__kwhere *w, int code, const char *fmt, ...)
{
	char what[512], where[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	devkit__kw_describe(w, where, sizeof(where));
	return devkit__error_set(code, "kubeconfig %s: %s: %s", w->file, where, what);
}

static const char *type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "a map";
	case JSON_ARRAY: return "a list";
	default: return "not text";
	}
}

int devkit__kw_str(const devkit__kwhere *w, json_t *obj, const char *key, const char **out)
{
	*out = NULL;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "%s is %s, not a string", key, type_name(v));
	if (strlen(json_string_value(v)) != json_string_length(v))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "%s contains a NUL character", key);
	if (json_string_length(v) > 0)
		*out = json_string_value(v);
	return 0;
}

int devkit__kw_bool(const devkit__kwhere *w, json_t *obj, const char *key, int *out)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "YES", "y", "Y",
		"on", "On", "ON", NULL };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "NO", "n", "N",
		"off", "Off", "OFF", NULL };
	*out = 0;
	const char *s;
	int rc = devkit__kw_str(w, obj, key, &s);
	if (rc != 0 || !s)
		return rc;
	for (const char *const *p = yes; *p; p++)
		if (strcmp(s, *p) == 0) {
			*out = 1;
			return 0;
		}
	for (const char *const *p = no; *p; p++)
		if (strcmp(s, *p) == 0)
			return 0;
	return devkit__kw_fail(w, DEVKIT_EINVAL, "%s is neither true nor false", key);
}

int devkit__kw_base64(const devkit__kwhere *w, json_t *obj, const char *key, char **out)
{
	*out = NULL;
	const char *s;
	int rc = devkit__kw_str(w, obj, key, &s);
	if (rc != 0 || !s)
		return rc;
	size_t len = strlen(s);
	char *clean = malloc(len + 1);
	if (!clean)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		if (s[i] != '\n' && s[i] != '\r' && s[i] != ' ' && s[i] != '\t')
			clean[n++] = s[i];
	unsigned char *bytes = malloc(n / 4 * 3 + 4);
	if (!bytes) {
		free(clean);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	int got = n ? devkit__base64_decode(clean, n, bytes, n / 4 * 3 + 3) : -1;
	free(clean);
	if (got < 0) {
		free(bytes);
		return devkit__kw_fail(w, DEVKIT_EINVAL, "%s is not valid base64", key);
	}
	bytes[got] = '\0';
	if (strlen((char *)bytes) != (size_t)got) {
		free(bytes);
		return devkit__kw_fail(w, DEVKIT_EINVAL,
			"%s does not decode to PEM text (binary DER is not accepted)", key);
	}
	*out = (char *)bytes;
	return 0;
}

int devkit__kw_file(const devkit__kwhere *w, json_t *obj, const char *key, char **path,
	char **contents)
{
	*path = NULL;
	*contents = NULL;
	const char *s;
	int rc = devkit__kw_str(w, obj, key, &s);
	if (rc != 0 || !s)
		return rc;
	char *p = devkit__k8s_resolve_path(w->file, s);
	if (!p)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	size_t len;
	int e = devkit__k8s_read_file(p, contents, &len);
	if (e) {
		rc = devkit__kw_fail(w, e == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EIO,
			"%s %s: cannot read it: %s", key, p, strerror(e));
		free(p);
		return rc;
	}
	if (strlen(*contents) != len) {
		devkit__secret_free(*contents);
		*contents = NULL;
		rc = devkit__kw_fail(w, DEVKIT_EINVAL, "%s %s is not PEM text", key, p);
		free(p);
		return rc;
	}
	*path = p;
	return 0;
}

int devkit__kw_str_list(const devkit__kwhere *w, json_t *obj, const char *key, json_t **out)
{
	*out = NULL;
	json_t *v = json_object_get(obj, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_array(v))
		return devkit__kw_fail(w, DEVKIT_EINVAL, "%s is not a list", key);
	size_t i;
	json_t *item;
	json_array_foreach(v, i, item) {
		if (!json_is_string(item))
			return devkit__kw_fail(w, DEVKIT_EINVAL, "%s: item %zu is %s, not a string", key,
				i + 1, json_is_null(item) ? "empty" : type_name(item));
	}
	*out = v;
	return 0;
}
