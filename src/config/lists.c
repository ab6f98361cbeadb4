/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Values that the options structs keep as one string but YAML writes best
 * as a list or a mapping: names ("a,b" or [a, b]) joined with ',', kubeconfig
 * paths joined with ':' as in $KUBECONFIG, metadata as "key=value" lines.
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"

/* One name of a list: no blank, no separator. */
static int name_ok(const char *s, size_t len, char sep)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == (unsigned char)sep)
			return 0;
	}
	return 1;
}

static int join(devkit__bytes *b, const char *s, size_t len, char sep)
{
	if (b->len && devkit__bytes_append(b, &sep, 1) != 0)
		return DEVKIT_ENOMEM;
	return devkit__bytes_append(b, s, len) ? DEVKIT_ENOMEM : 0;
}

/* Store the joined list in the key's field (nothing when it is empty). */
static int finish(cfg_parse *p, const cfg_key *k, void *obj, devkit__bytes *b)
{
	int rc = 0;
	if (b->len) {
		const char *s = cfg_strndup(p->cfg, b->data, b->len, 0);
		if (s)
			*CFG_FIELD(obj, k, const char *) = s;
		else
			rc = DEVKIT_ENOMEM;
	}
	devkit__bytes_free(b);
	return rc;
}

/* Each item of the list (or the one string), expanded; `fn` checks and adds it. */
typedef int (*item_fn)(cfg_parse *p, const cfg_key *k, const cfg_node *v, const cfg_val *val,
	const char *path, int item, devkit__bytes *b);

static int each_item(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj, item_fn fn)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	cfg_val val;
	int rc = 0;

	if (v->kind == CFG_SCALAR) {
		rc = cfg_string(p, k, v, path, 0, &val);
		if (rc > 0)
			rc = fn(p, k, v, &val, path, 0, &b);
	} else {
		for (size_t i = 0; i < v->nitems && rc >= 0; i++) {
			char ipath[512];
			cfg_path(ipath, sizeof(ipath), "%s[%zu]", path, i);
			rc = cfg_string(p, k, v->items[i], ipath, 0, &val);
			if (rc > 0)
				rc = fn(p, k, v->items[i], &val, ipath, 1, &b);
		}
	}
	if (rc < 0) {
		devkit__bytes_free(&b);
		return rc;
	}
	return finish(p, k, obj, &b);
}

static int add_names(cfg_parse *p, const cfg_key *k, const cfg_node *v, const cfg_val *val,
	const char *path, int item, devkit__bytes *b)
{
	/* One string may hold several, comma-separated, as the struct does;
	 * one list item holds one. */
	const char *s = val->text;
	for (;;) {
		size_t len = item ? strlen(s) : strcspn(s, ",");
		if (!name_ok(s, len, ',')) {
			char got[256];
			cfg_show(v, val, got, sizeof(got));
			if (item)
				return cfg_fail(p, v, "%s: expected one name (no ',' or blanks), got %s",
					path, got);
			return cfg_expected(p, k, v, val, path);
		}
		if (join(b, s, len, ','))
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

int cfg_set_names(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return each_item(p, k, v, path, obj, add_names);
}

static int add_paths(cfg_parse *p, const cfg_key *k, const cfg_node *v, const cfg_val *val,
	const char *path, int item, devkit__bytes *b)
{
	const char *s = val->text;
	for (;;) {
		/* A list item is one path; one string may hold several, ':'-separated. */
		size_t len = item ? strlen(s) : strcspn(s, ":");
		char part[4096];
		const char *full;
		if (len == 0 || len >= sizeof(part) || (item && strchr(s, ':'))) {
			char got[256];
			cfg_show(v, val, got, sizeof(got));
			if (item)
				return cfg_fail(p, v, "%s: expected one file path (no ':'), got %s", path,
					got);
			return cfg_expected(p, k, v, val, path);
		}
		memcpy(part, s, len);
		part[len] = '\0';
		int rc = cfg_resolve_path(p, v, path, part, &full);
		if (rc)
			return rc;
		if (join(b, full, strlen(full), ':'))
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		if (!s[len])
			return 0;
		s += len + 1;
	}
}

int cfg_set_paths(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return each_item(p, k, v, path, obj, add_paths);
}

/* A mapping of scalars -> "key=value" lines. Values may be any scalar
 * (version: 2 is "2"); keys no '=', blanks or control characters. */
int cfg_set_metadata(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	int rc = 0;

	for (size_t i = 0; i < v->npairs && !rc; i++) {
		const cfg_node *key = v->pairs[i].key, *value = v->pairs[i].value;
		char kpath[512];
		cfg_val val;
		cfg_path(kpath, sizeof(kpath), "%s.%s", path, key->text);
		if (!name_ok(key->text, strlen(key->text), '=')) {
			rc = cfg_fail(p, key, "%s: a metadata key must not be empty or hold '=', "
				"blanks or control characters", kpath);
			break;
		}
		if (value->kind != CFG_SCALAR || value->type == CFG_T_NULL) {
			char got[64];
			cfg_show(value, NULL, got, sizeof(got));
			rc = cfg_fail(p, value, "%s: expected a string, number or boolean, got %s",
				kpath, got);
			break;
		}
		int got = cfg_value(p, k, value, kpath, &val);
		if (got < 0) {
			rc = got;
			break;
		}
		if (got == 0)
			continue;
		for (const unsigned char *c = (const unsigned char *)val.text; *c && !rc; c++) {
			if (*c < 0x20 || *c == 0x7f)
				rc = cfg_fail(p, value, "%s: a metadata value must be one line without "
					"control characters", kpath);
		}
		if (!rc && ((b.len && devkit__bytes_append(&b, "\n", 1))
				|| devkit__bytes_printf(&b, "%s=%s", key->text, val.text)))
			rc = devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	if (rc) {
		devkit__bytes_free(&b);
		return rc;
	}
	return finish(p, k, obj, &b);
}
