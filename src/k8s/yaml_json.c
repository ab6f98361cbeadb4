/* SPDX-License-Identifier: Apache-2.0 */
#include "yaml_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* Deeper than any kubeconfig; a guard against recursion through aliases. */
#define MAX_DEPTH 64
/* Nodes produced after alias expansion: a few aliases to aliases can make a
 * small file expand into billions of nodes. */
#define MAX_NODES 1000000

typedef struct conv {
	yaml_document_t *doc;
	devkit__yaml_scalars mode;
	long nodes;
	char *err;
	size_t errcap;
} conv;

static int is_one_of(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (strcmp(s, *words) == 0)
			return 1;
	return 0;
}

static int is_null_text(const char *s)
{
	static const char *const words[] = { "", "~", "null", "Null", "NULL", NULL };
	return is_one_of(s, words);
}

/* YAML 1.2 core schema booleans, integers (decimal, 0x, 0o) and floats; NULL
 * for anything else (a string). .inf and .nan stay strings: JSON has neither. */
static json_t *typed_scalar(const char *s)
{
	static const char *const truths[] = { "true", "True", "TRUE", NULL };
	static const char *const lies[] = { "false", "False", "FALSE", NULL };
	if (is_one_of(s, truths))
		return json_true();
	if (is_one_of(s, lies))
		return json_false();
	if (!*s)
		return NULL;
	char *end;
	errno = 0;
	int base = 10;
	const char *digits = s;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
		base = s[1] == 'x' ? 16 : 8;
		digits = s + 2;
	}
	if (*digits && *digits != ' ') {
		long long v = strtoll(digits, &end, base);
		if (*end == '\0' && errno == 0 && (base == 10 || *digits != '-'))
			return json_integer(v);
	}
	/* Floats need a digit; strtod alone would take "infinity" and hex floats. */
	if (strpbrk(s, "0123456789") && !strpbrk(s, "xXpP") && strspn(s, "+-.0123456789eE") ==
		strlen(s)) {
		double d = strtod(s, &end);
		if (*end == '\0')
			return json_real(d);
	}
	return NULL;
}

/* libyaml gives every untagged scalar the !!str tag, so only the style tells
 * "a value" (plain) from "a string" (quoted, literal, folded). */
static json_t *scalar(conv *c, yaml_node_t *n)
{
	const char *text = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strlen(text) == len) {
		if (is_null_text(text))
			return json_null();
		if (c->mode == DEVKIT__YAML_TYPED) {
			json_t *v = typed_scalar(text);
			if (v)
				return v;
		}
	}
	return json_stringn(text, len);
}

static json_t *convert(conv *c, int index, int depth);

static json_t *fail(conv *c, yaml_node_t *n, const char *what)
{
	if (n)
		snprintf(c->err, c->errcap, "line %lu column %lu: %s",
			(unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1, what);
	else
		snprintf(c->err, c->errcap, "%s", what);
	return NULL;
}

static json_t *mapping(conv *c, yaml_node_t *n, int depth)
{
	json_t *obj = json_object();
	if (!obj)
		return fail(c, n, "out of memory");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
		if (!k || k->type != YAML_SCALAR_NODE) {
			json_decref(obj);
			return fail(c, k ? k : n, "a map key is not a plain value");
		}
		const char *key = (const char *)k->data.scalar.value;
		if (strlen(key) != k->data.scalar.length) {
			json_decref(obj);
			return fail(c, k, "a map key contains a NUL character");
		}
		json_t *v = convert(c, p->value, depth + 1);
		if (!v) {
			json_decref(obj);
			return NULL;
		}
		/* YAML forbids duplicate keys; Go's reader rejects them too. */
		if (json_object_get(obj, key)) {
			json_decref(v);
			json_decref(obj);
			char what[300];
			snprintf(what, sizeof(what), "key \"%.200s\" appears twice", key);
			return fail(c, k, what);
		}
		json_object_set_new(obj, key, v);
	}
	return obj;
}

static json_t *sequence(conv *c, yaml_node_t *n, int depth)
{
	json_t *arr = json_array();
	if (!arr)
		return fail(c, n, "out of memory");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		json_t *v = convert(c, *i, depth + 1);
		if (!v) {
			json_decref(arr);
			return NULL;
		}
		json_array_append_new(arr, v);
	}
	return arr;
}

static json_t *convert(conv *c, int index, int depth)
{
	yaml_node_t *n = yaml_document_get_node(c->doc, index);
	if (!n)
		return fail(c, NULL, "broken YAML document");
	if (depth > MAX_DEPTH)
		return fail(c, n, "nested too deeply (or an alias refers to itself)");
	if (++c->nodes > MAX_NODES)
		return fail(c, n, "too many values once aliases are expanded");
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return scalar(c, n);
	case YAML_MAPPING_NODE:
		return mapping(c, n, depth);
	case YAML_SEQUENCE_NODE:
		return sequence(c, n, depth);
	default:
		return fail(c, n, "unexpected YAML node");
	}
}

static void parser_error(const yaml_parser_t *p, char *err, size_t errcap)
{
	const char *problem = p->problem ? p->problem : "cannot parse";
	if (p->context)
		snprintf(err, errcap, "line %lu column %lu: %s (%s at line %lu column %lu)",
			(unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1,
			problem, p->context, (unsigned long)p->context_mark.line + 1,
			(unsigned long)p->context_mark.column + 1);
	else
		snprintf(err, errcap, "line %lu column %lu: %s",
			(unsigned long)p->problem_mark.line + 1, (unsigned long)p->problem_mark.column + 1,
			problem);
}

json_t *devkit__yaml_to_json(const char *text, size_t len, devkit__yaml_scalars mode,
	char *err, size_t errcap)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	if (!yaml_parser_initialize(&parser)) {
		snprintf(err, errcap, "out of memory");
		return NULL;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		parser_error(&parser, err, errcap);
		yaml_parser_delete(&parser);
		return NULL;
	}
	json_t *out;
	if (!yaml_document_get_root_node(&doc)) {
		out = json_null(); /* an empty file */
	} else {
		conv c = { &doc, mode, 0, err, errcap };
		out = convert(&c, 1, 0);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return out;
}
