/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Walking a mapping with its key table: every key must be known (else the
 * nearest known one is suggested), every value must have the key's shape,
 * then the key's setter reads it. In check_only mode (the profiles that are
 * not selected) only names and shapes are checked, so a typo in `prod` shows
 * up while working on `staging`, but prod's ${ENV} need not be set.
 */
#include "config_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"

int cfg_fail_code(cfg_parse *p, int code, const cfg_node *at, const char *fmt, ...)
{
	char msg[896];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!at)
		return devkit__error_set(code, "%s: %s", p->name, msg);
	return devkit__error_set(code, "%s:%d:%d: %s", p->name, at->line, at->col, msg);
}

void cfg_expect(const cfg_key *k, char *buf, size_t size)
{
	static const struct { const char *type, *text; } texts[] = {
		{ "string", "a string" },
		{ "text", "a string" },
		{ "word", "a string without blanks" },
		{ "path", "a file path" },
		{ "paths", "a file path or a list of them" },
		{ "env_name", "the name of an environment variable (letters, digits, _)" },
		{ "bool", "true or false" },
		{ "names", "a list of names (or one comma-separated string)" },
		{ "bind", "[ADDR:]PORT with a port 0-65535" },
		{ "local", "[HOST:]PORT with a port 1-65535" },
		{ "target", "HOST:PORT with a port 1-65535" },
		{ "host", "a host name or an address" },
		{ "hostport", "HOST[:PORT] with a port 1-65535" },
		{ "endpoint", "HOST:PORT with a port 1-65535" },
		{ "bastion", "[USER@]HOST[:PORT] with a port 1-65535 (IPv6 in brackets)" },
		{ "sha256", "SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints it" },
		{ "k8s_name", "a Kubernetes name (lower-case letters, digits and '-', at most 63)" },
		{ "k8s_subdomain", "a Kubernetes name (lower-case letters, digits, '-' and '.')" },
		{ "label_value", "a label value (letters, digits, '-', '_' and '.', at most 63)" },
		{ "header", "an HTTP header name" },
		{ "registry_url", "a registry URL nacos://, eureka://, consul://, etcd:// (each "
			"also +https) or zookeeper://" },
		{ "metadata", "a mapping of names to values" },
		{ "version", "1 (the format this library reads)" },
	};
	if (!strcmp(k->type, "int")) {
		snprintf(buf, size, "an integer from %lld to %lld", k->min, k->max);
		return;
	}
	if (!strcmp(k->type, "duration")) {
		char lo[32], hi[32];
		cfg_format_duration((unsigned long long)k->min, lo, sizeof(lo));
		cfg_format_duration((unsigned long long)k->max, hi, sizeof(hi));
		snprintf(buf, size, "a duration like 30s, 500ms or 8h (from %s to %s)", lo, hi);
		return;
	}
	if (!strcmp(k->type, "enum")) {
		size_t len = 0;
		for (size_t i = 0; k->values[i] && len < size; i++)
			len += (size_t)snprintf(buf + len, size - len, "%s%s", i == 0 ? "" :
				k->values[i + 1] ? ", " : " or ", k->values[i]);
		return;
	}
	if (k->shape == CFG_SHAPE_SECTION || k->shape == CFG_SHAPE_PROFILES) {
		snprintf(buf, size, "a mapping");
		return;
	}
	if (k->shape == CFG_SHAPE_LIST) {
		snprintf(buf, size, "a list");
		return;
	}
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		if (!strcmp(k->type, texts[i].type)) {
			snprintf(buf, size, "%s", texts[i].text);
			return;
		}
	}
	snprintf(buf, size, "a value");
}

static const cfg_key *find_key(const cfg_table *t, const char *name)
{
	for (size_t i = 0; i < t->nkeys; i++) {
		if (!strcmp(t->keys[i].name, name))
			return &t->keys[i];
	}
	return NULL;
}

static int unknown_key(cfg_parse *p, const cfg_table *t, const cfg_node *key, const char *path)
{
	const char *names[64];
	size_t n = 0;
	char where[600];

	for (size_t i = 0; i < t->nkeys && n < 64; i++)
		names[n++] = t->keys[i].name;
	if (*path)
		snprintf(where, sizeof(where), "in %s", path);
	else
		snprintf(where, sizeof(where), "at the top level");
	const char *near = cfg_suggest(key->text, names, n);
	if (near)
		return cfg_fail(p, key, "unknown key \"%s\" %s (did you mean \"%s\"?)", key->text,
			where, near);
	char list[512];
	size_t len = 0;
	for (size_t i = 0; i < n && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%.40s", i ? ", " : "",
			names[i]);
	return cfg_fail(p, key, "unknown key \"%.100s\" %s (known keys: %s)", key->text, where, list);
}

void cfg_path(char *out, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out, size, fmt, ap);
	va_end(ap);
}

static void join_path(char *out, size_t size, const char *path, const char *name)
{
	cfg_path(out, size, "%s%s%s", path, *path ? "." : "", name);
}

static int wrong_shape(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path)
{
	char want[256];
	cfg_expect(k, want, sizeof(want));
	return cfg_fail(p, v, "%s: expected %s, got %s", path, want, cfg_kind_name(v));
}

static int walk_section(cfg_parse *p, const cfg_table *t, const cfg_node *v, const char *path,
	size_t index)
{
	/* `tunnel:` with nothing after it is an empty section, not "no section":
	 * a bare `routing:` turns routing on with its defaults. */
	cfg_node empty = { .kind = CFG_MAP, .line = v->line, .col = v->col };
	const cfg_node *map = cfg_is_null(v) ? &empty : v;
	void *obj = NULL;

	if (map->kind != CFG_MAP)
		return cfg_fail(p, v, "%s: expected a mapping, got %s", path, cfg_kind_name(v));
	if (!p->check_only && t->make && !(obj = t->make(p, index)))
		return DEVKIT_ENOMEM;
	return cfg_walk(p, t, map, path, obj);
}

static int walk_list(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path)
{
	if (cfg_is_null(v))
		return 0;
	if (v->kind != CFG_SEQ)
		return wrong_shape(p, k, v, path);
	for (size_t i = 0; i < v->nitems; i++) {
		char ipath[512];
		cfg_path(ipath, sizeof(ipath), "%s[%zu]", path, i);
		if (v->items[i]->kind != CFG_MAP)
			return cfg_fail(p, v->items[i], "%s: expected a mapping, got %s", ipath,
				cfg_kind_name(v->items[i]));
		int rc = walk_section(p, k->sub, v->items[i], ipath, i);
		if (rc)
			return rc;
	}
	return 0;
}

/* Profile names become CLI arguments and file names: keep them plain. */
static int profile_name_ok(const char *s)
{
	if (!*s || strlen(s) > 63)
		return 0;
	for (const char *c = s; *c; c++) {
		if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
				|| (c != s && strchr("-_.", *c))))
			return 0;
	}
	return 1;
}

static int walk_profiles(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path)
{
	int saved = p->check_only;
	int rc = 0;

	if (cfg_is_null(v))
		return 0;
	if (v->kind != CFG_MAP)
		return wrong_shape(p, k, v, path);
	/* Every profile's names and shapes; values only for the selected one,
	 * after the merge. */
	p->check_only = 1;
	for (size_t i = 0; i < v->npairs && !rc; i++) {
		const cfg_pair *pr = &v->pairs[i];
		char ppath[512];
		join_path(ppath, sizeof(ppath), path, pr->key->text);
		if (!profile_name_ok(pr->key->text))
			rc = cfg_fail(p, pr->key, "%s: a profile name is letters, digits, '-', '_' "
				"and '.', starting with a letter or digit", ppath);
		else if (!cfg_is_null(pr->value))
			rc = walk_section(p, k->sub, pr->value, ppath, 0);
	}
	p->check_only = saved;
	return rc;
}

static int walk_value(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	switch (k->shape) {
	case CFG_SHAPE_SECTION:
		return walk_section(p, k->sub, v, path, 0);
	case CFG_SHAPE_LIST:
		return walk_list(p, k, v, path);
	case CFG_SHAPE_PROFILES:
		return walk_profiles(p, k, v, path);
	default:
		break;
	}
	if (cfg_is_null(v)) {
		/* In a profile, null removes the key from the base document. */
		if (p->check_only)
			return 0;
		return cfg_fail(p, v, "%s: no value given (remove the key to use the default)", path);
	}
	if ((k->shape == CFG_SHAPE_SCALAR && v->kind != CFG_SCALAR)
			|| (k->shape == CFG_SHAPE_NAMES && v->kind == CFG_MAP)
			|| (k->shape == CFG_SHAPE_SCALAR_MAP && v->kind != CFG_MAP))
		return wrong_shape(p, k, v, path);
	if (k->shape == CFG_SHAPE_NAMES && v->kind == CFG_SEQ) {
		for (size_t i = 0; i < v->nitems; i++) {
			if (v->items[i]->kind != CFG_SCALAR)
				return cfg_fail(p, v->items[i], "%s[%zu]: expected a string, got %s", path,
					i, cfg_kind_name(v->items[i]));
		}
	}
	if (p->check_only || !k->set)
		return 0;
	return k->set(p, k, v, path, obj);
}

int cfg_walk(cfg_parse *p, const cfg_table *t, const cfg_node *map, const char *path, void *obj)
{
	for (size_t i = 0; i < map->npairs; i++) {
		const cfg_pair *pr = &map->pairs[i];
		char kpath[512];
		/* "x-" keys are the user's own: a place for anchors to reuse. */
		if (t->allow_x && !strncmp(pr->key->text, "x-", 2))
			continue;
		const cfg_key *k = find_key(t, pr->key->text);
		if (!k)
			return unknown_key(p, t, pr->key, path);
		join_path(kpath, sizeof(kpath), path, pr->key->text);
		int rc = walk_value(p, k, pr->value, kpath, obj);
		if (rc)
			return rc;
	}
	if (!p->check_only && t->check)
		return t->check(p, map, path, obj);
	return 0;
}
