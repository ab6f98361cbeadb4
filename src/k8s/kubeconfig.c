/* SPDX-License-Identifier: Apache-2.0 */
#include "kubeconfig.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "k8s_file.h"
#include "yaml_json.h"

static int fail_enomem(void)
{
	return devkit__error_set(DEVKIT_ENOMEM, "kubeconfig: out of memory");
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: return "a map";
	case JSON_ARRAY: return "a list";
	case JSON_STRING: return "a string";
	case JSON_NULL: return "empty";
	default: return "a plain value";
	}
}

/* Merge one list of named entries ("clusters", key "cluster") of `file`. */
static int merge_list(json_t *merged, json_t *doc, const char *list, const char *key,
	const char *file)
{
	json_t *items = json_object_get(doc, list);
	if (!items || json_is_null(items))
		return 0;
	if (!json_is_array(items))
		return devkit__error_set(DEVKIT_EINVAL, "kubeconfig %s: %s is %s, not a list", file, list,
			json_type_name(items));
	json_t *seen = json_object();
	if (!seen)
		return fail_enomem();
	size_t i;
	json_t *item;
	int rc = 0;
	json_array_foreach(items, i, item) {
		json_t *name = json_object_get(item, "name");
		if (!json_is_object(item) || !json_is_string(name) || !json_string_length(name)) {
			rc = devkit__error_set(DEVKIT_EINVAL, "kubeconfig %s: entry %zu of %s has no name",
				file, i + 1, list);
			break;
		}
		const char *n = json_string_value(name);
		/* client-go refuses a name twice in one file ("duplicate name"). */
		if (json_object_get(seen, n)) {
			rc = devkit__error_set(DEVKIT_EINVAL, "kubeconfig %s: %s has \"%s\" twice", file,
				list, n);
			break;
		}
		json_object_set(seen, n, json_true());
		if (json_object_get(merged, n))
			continue; /* an earlier file has it: the first one wins */
		json_t *value = json_object_get(item, key);
		json_t *entry = json_pack("{s:s, s:O}", "file", file, "value",
			value ? value : json_null());
		if (!entry || json_object_set_new(merged, n, entry) != 0) {
			rc = fail_enomem();
			break;
		}
	}
	json_decref(seen);
	return rc;
}

static int merge_file(devkit__kcfg *k, json_t *doc, const char *file)
{
	if (json_is_null(doc))
		return 0; /* an empty file is an empty configuration, as for kubectl */
	if (!json_is_object(doc))
		return devkit__error_set(DEVKIT_EINVAL,
			"kubeconfig %s: expected a map (apiVersion, clusters, users, contexts) at the top, "
			"found %s", file, json_type_name(doc));
	int rc;
	if ((rc = merge_list(k->clusters, doc, "clusters", "cluster", file)) != 0 ||
		(rc = merge_list(k->users, doc, "users", "user", file)) != 0 ||
		(rc = merge_list(k->contexts, doc, "contexts", "context", file)) != 0)
		return rc;
	json_t *cur = json_object_get(doc, "current-context");
	if (!k->current_context && json_is_string(cur) && json_string_length(cur)) {
		k->current_context = strdup(json_string_value(cur));
		k->current_context_file = strdup(file);
		if (!k->current_context || !k->current_context_file)
			return fail_enomem();
	}
	return 0;
}

static int load_one(devkit__kcfg *k, const char *file, int must_exist, int *loaded)
{
	char *text;
	size_t len;
	int e = devkit__k8s_read_file(file, &text, &len);
	if (e == ENOENT && !must_exist)
		return 0;
	if (e)
		return devkit__error_set(e == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EIO,
			"kubeconfig %s: cannot read it: %s", file, strerror(e));
	char err[384];
	json_t *doc = devkit__yaml_to_json(text, len, DEVKIT__YAML_STRINGS, err, sizeof(err));
	free(text);
	if (!doc)
		return devkit__error_set(DEVKIT_EINVAL, "kubeconfig %s: not valid YAML: %s", file, err);
	int rc = merge_file(k, doc, file);
	json_decref(doc);
	if (rc == 0) {
		devkit__bytes files = DEVKIT__BYTES_INIT;
		if (devkit__bytes_printf(&files, "%s%s%s", k->files ? k->files : "",
			k->files ? ", " : "", file) != 0 || devkit__bytes_append(&files, "", 1) != 0) {
			devkit__bytes_free(&files);
			return fail_enomem();
		}
		free(k->files);
		k->files = files.data;
		(*loaded)++;
	}
	return rc;
}

int devkit__kcfg_load(devkit__kcfg *k, const char *paths, int must_exist)
{
	memset(k, 0, sizeof(*k));
	k->clusters = json_object();
	k->users = json_object();
	k->contexts = json_object();
	char *copy = strdup(paths);
	if (!k->clusters || !k->users || !k->contexts || !copy) {
		free(copy);
		devkit__kcfg_clear(k);
		return fail_enomem();
	}
	int rc = 0, loaded = 0;
	char *save = NULL;
	for (char *file = strtok_r(copy, ":", &save); file; file = strtok_r(NULL, ":", &save)) {
		if ((rc = load_one(k, file, must_exist, &loaded)) != 0)
			break;
	}
	if (rc == 0 && loaded == 0)
		rc = devkit__error_set(DEVKIT_ENOTFOUND, "kubeconfig %s: %s", paths,
			strchr(paths, ':') ? "none of these files exists" : "no such file");
	free(copy);
	if (rc != 0)
		devkit__kcfg_clear(k);
	return rc;
}

void devkit__kcfg_clear(devkit__kcfg *k)
{
	json_decref(k->clusters);
	json_decref(k->users);
	json_decref(k->contexts);
	free(k->current_context);
	free(k->current_context_file);
	free(k->files);
	memset(k, 0, sizeof(*k));
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void devkit__kcfg_names(json_t *entries, char *out, size_t cap)
{
	size_t n = json_object_size(entries), i = 0, used = 0;
	out[0] = '\0';
	if (n == 0) {
		snprintf(out, cap, "none");
		return;
	}
	const char **names = calloc(n, sizeof(*names));
	if (!names)
		return;
	const char *key;
	json_t *v;
	json_object_foreach(entries, key, v)
		names[i++] = key;
	qsort(names, n, sizeof(*names), cmp_str);
	for (i = 0; i < n && used + 1 < cap; i++) {
		int w = snprintf(out + used, cap - used, "%s%s", i ? ", " : "", names[i]);
		if (w < 0 || (size_t)w >= cap - used) {
			/* Too many to list: say so rather than cut a name in half. */
			snprintf(out + used, cap - used, ", ...");
			break;
		}
		used += (size_t)w;
	}
	free(names);
}
