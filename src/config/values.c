/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reading one value: ${ENV} expansion, the YAML type it must have, and the
 * plain setters (strings, paths, secrets, booleans, integers, durations,
 * enums). Every failure reads "PATH: expected WHAT, got VALUE", so the user
 * learns both what is wrong and what would be right.
 */
#include "config_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* The value for a message: strings quoted and escaped, at most 60 bytes. */
static void show_text(const char *text, char *buf, size_t size)
{
	size_t len = 0;
	const unsigned char *s = (const unsigned char *)text;

	if (size < 16)
		return;
	buf[len++] = '"';
	for (; *s && len + 8 < size; s++) {
		if (len > 61) {
			len += (size_t)snprintf(buf + len, size - len, "...");
			break;
		}
		if (*s == '"' || *s == '\\')
			len += (size_t)snprintf(buf + len, size - len, "\\%c", *s);
		else if (*s == '\n')
			len += (size_t)snprintf(buf + len, size - len, "\\n");
		else if (*s < 0x20 || *s == 0x7f)
			len += (size_t)snprintf(buf + len, size - len, "\\x%02x", *s);
		else
			buf[len++] = (char)*s;
	}
	buf[len++] = '"';
	buf[len] = '\0';
}

void cfg_show(const cfg_node *v, const cfg_val *val, char *buf, size_t size)
{
	if (v->kind != CFG_SCALAR || v->type == CFG_T_NULL) {
		snprintf(buf, size, "%s", cfg_kind_name(v));
		return;
	}
	if (!val && v->type == CFG_T_STR) {
		show_text(v->text, buf, size);
		return;
	}
	if (!val || (!val->from_env && v->type != CFG_T_STR)) {
		/* 8080, true, 1.5: what YAML made of it, unquoted. */
		snprintf(buf, size, "%s %.60s", cfg_kind_name(v), v->text);
		return;
	}
	show_text(val->text, buf, size);
	if (val->from_env) {
		size_t len = strlen(buf);
		char orig[96];
		show_text(v->text, orig, sizeof(orig));
		snprintf(buf + len, size - len, " (from %s)", orig);
	}
}

int cfg_expected(cfg_parse *p, const cfg_key *k, const cfg_node *v, const cfg_val *val,
	const char *path)
{
	char want[256], got[256];
	cfg_expect(k, want, sizeof(want));
	cfg_show(v, val, got, sizeof(got));
	return cfg_fail(p, v, "%s: expected %s, got %s", path, want, got);
}

int cfg_value(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, cfg_val *out)
{
	memset(out, 0, sizeof(*out));
	if (v->kind != CFG_SCALAR || v->type == CFG_T_NULL)
		return cfg_expected(p, k, v, NULL, path);
	out->type = v->type;
	out->text = v->text;
	if (v->type != CFG_T_STR)
		return 1;
	char *x = NULL;
	int expanded = 0;
	int rc = cfg_expand(p, v, path, &x, &expanded);
	if (rc)
		return rc;
	out->text = cfg_strdup(p->cfg, x, 0);
	free(x);
	if (!out->text)
		return DEVKIT_ENOMEM;
	out->from_env = expanded;
	/* "${TAG:-}" leaves the key unset: one file serves users with and without. */
	return expanded && !*out->text ? 0 : 1;
}

/* Control characters break registry keys, log lines and headers; only a
 * command line may hold tabs and newlines. */
static int clean_text(const char *s, int multiline)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if ((*c < 0x20 || *c == 0x7f) && !(multiline && (*c == '\n' || *c == '\t')))
			return 0;
	}
	return 1;
}

int cfg_string(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	int multiline, cfg_val *val)
{
	int rc = cfg_value(p, k, v, path, val);
	if (rc <= 0)
		return rc;
	if (val->type != CFG_T_STR)
	{
		char want[256];
		cfg_expect(k, want, sizeof(want));
		return cfg_fail(p, v, "%s: expected %s, got %s %.60s (put it in quotes to use it as "
			"text)", path, want, cfg_kind_name(v), v->text);
	}
	if (!*val->text)
		return cfg_fail(p, v, "%s: the value is empty (remove the key to use the default)", path);
	if (!clean_text(val->text, multiline))
		return cfg_expected(p, k, v, val, path);
	return 1;
}

int cfg_store(cfg_parse *p, const cfg_key *k, void *obj, const char *text, int secret)
{
	const char *copy = cfg_strdup(p->cfg, text, secret);
	if (!copy)
		return DEVKIT_ENOMEM;
	*CFG_FIELD(obj, k, const char *) = copy;
	return 0;
}

int cfg_set_string(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_string(p, k, v, path, 0, &val);
	return rc <= 0 ? rc : cfg_store(p, k, obj, val.text, 0);
}

int cfg_set_text(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_string(p, k, v, path, 1, &val);
	return rc <= 0 ? rc : cfg_store(p, k, obj, val.text, 0);
}

int cfg_set_word(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if (strpbrk(val.text, " "))
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, val.text, 0);
}

int cfg_resolve_path(cfg_parse *p, const cfg_node *v, const char *path, const char *in,
	const char **out)
{
	char *joined = NULL;

	if (in[0] == '~' && (in[1] == '/' || in[1] == '\0')) {
		const char *home = getenv("HOME");
		if (!home || !*home)
			return cfg_fail(p, v, "%s: \"~\" stands for $HOME, which is not set", path);
		if (asprintf(&joined, "%s%s", home, in + 1) < 0)
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	} else if (in[0] == '~') {
		return cfg_fail(p, v, "%s: \"~user\" paths are not supported: write the whole path",
			path);
	} else if (in[0] != '/' && p->base_dir) {
		/* Relative to the file, not to wherever devkit was started. */
		while (!strncmp(in, "./", 2))
			in += 2;
		if (asprintf(&joined, "%s/%s", p->base_dir, in) < 0)
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	*out = cfg_strdup(p->cfg, joined ? joined : in, 0);
	free(joined);
	return *out ? 0 : DEVKIT_ENOMEM;
}

int cfg_set_path(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	const char *full;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if ((rc = cfg_resolve_path(p, v, path, val.text, &full)) != 0)
		return rc;
	*CFG_FIELD(obj, k, const char *) = full;
	return 0;
}

static int env_name_ok(const char *s)
{
	if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')))
		return 0;
	for (; *s; s++) {
		if (!(*s == '_' || (*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z')
				|| (*s >= '0' && *s <= '9')))
			return 0;
	}
	return 1;
}

/* `off`: the secret's field in the options; `off2`: where its variable's
 * name is kept for describe(). The value itself never appears in a message. */
int cfg_set_secret(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if (!env_name_ok(val.text))
		return cfg_expected(p, k, v, &val, path);
	const char *secret = getenv(val.text);
	if (!secret)
		return cfg_fail(p, v, "%s: environment variable %s is not set", path, val.text);
	const char *name = cfg_strdup(p->cfg, val.text, 0);
	if (!name || cfg_store(p, k, obj, secret, 1) != 0)
		return DEVKIT_ENOMEM;
	*CFG_FIELD2(obj, k, const char *) = name;
	return 0;
}

static int bool_text(const char *t)
{
	if (!strcmp(t, "true") || !strcmp(t, "True") || !strcmp(t, "TRUE"))
		return 1;
	if (!strcmp(t, "false") || !strcmp(t, "False") || !strcmp(t, "FALSE"))
		return 0;
	return -1;
}

/* `min` 1 inverts: registry_direct sets registry_via_tunnel. */
int cfg_set_bool(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_value(p, k, v, path, &val);
	if (rc <= 0)
		return rc;
	int b = val.type == CFG_T_BOOL || (val.type == CFG_T_STR && val.from_env)
		? bool_text(val.text) : -1;
	if (b < 0)
		return cfg_expected(p, k, v, &val, path);
	*CFG_FIELD(obj, k, int) = k->min ? !b : b;
	return 0;
}

int cfg_set_int(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	long long n;
	int rc = cfg_value(p, k, v, path, &val);
	if (rc <= 0)
		return rc;
	if (!(val.type == CFG_T_INT || (val.type == CFG_T_STR && val.from_env))
			|| cfg_core_int(val.text, k->min, k->max, &n) != 0)
		return cfg_expected(p, k, v, &val, path);
	if (k->is_unsigned)
		*CFG_FIELD(obj, k, unsigned int) = (unsigned int)n;
	else
		*CFG_FIELD(obj, k, int) = (int)n;
	return 0;
}

int cfg_set_duration(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	unsigned long long ms;
	int rc = cfg_value(p, k, v, path, &val);
	if (rc <= 0)
		return rc;
	int ok = (val.type == CFG_T_STR || (val.type == CFG_T_INT && !strcmp(val.text, "0")))
		&& cfg_parse_duration(val.text, &ms) == 0;
	if (!ok || ms < (unsigned long long)k->min || ms > (unsigned long long)k->max)
		return cfg_expected(p, k, v, &val, path);
	if (ms % (unsigned)k->unit_ms != 0) {
		char got[256];
		cfg_show(v, &val, got, sizeof(got));
		return cfg_fail(p, v, "%s: expected a whole number of seconds, got %s", path, got);
	}
	unsigned long long stored = ms / (unsigned)k->unit_ms;
	if (k->is_unsigned)
		*CFG_FIELD(obj, k, unsigned int) = (unsigned int)stored;
	else
		*CFG_FIELD(obj, k, int) = (int)stored;
	return 0;
}

int cfg_set_enum(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	int rc = cfg_value(p, k, v, path, &val);
	if (rc <= 0)
		return rc;
	size_t n = 0;
	for (; k->values[n]; n++) {
		if (val.type == CFG_T_STR && !strcmp(val.text, k->values[n])) {
			/* Without enum_values the field is the name itself ("dubbo"). */
			if (k->enum_values)
				*CFG_FIELD(obj, k, int) = k->enum_values[n];
			else
				*CFG_FIELD(obj, k, const char *) = k->values[n];
			return 0;
		}
	}
	const char *near = val.type == CFG_T_STR ? cfg_suggest(val.text, k->values, n) : NULL;
	char want[256], got[256];
	cfg_expect(k, want, sizeof(want));
	cfg_show(v, &val, got, sizeof(got));
	if (near)
		return cfg_fail(p, v, "%s: expected %s, got %s (did you mean \"%s\"?)", path, want, got,
			near);
	return cfg_fail(p, v, "%s: expected %s, got %s", path, want, got);
}
