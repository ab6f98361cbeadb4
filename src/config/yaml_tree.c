/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libyaml's event stream -> a cfg_node tree with 1-based line:column marks.
 *
 * The event API rather than yaml_parser_load(): the loader forgets whether a
 * scalar was quoted (which decides that "8080" is a string and 8080 a
 * number), resolves aliases by sharing nodes (a cycle for `&a [*a]`), and
 * keeps duplicate keys. Here aliases become copies within a node budget, a
 * duplicate key is an error, and only one document is accepted.
 */
#include "config_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/error.h"

#define TAG_STR "tag:yaml.org,2002:str"
#define TAG_MAP "tag:yaml.org,2002:map"
#define TAG_SEQ "tag:yaml.org,2002:seq"

struct anchor {
	struct anchor *next;
	cfg_node *node;       /* owned by the tree */
	char name[];
};

struct frame {
	cfg_node *node;
	cfg_node *key;        /* MAP: the key whose value is being read */
	char *anchor;         /* registered once the node is complete */
};

struct builder {
	const char *name;
	struct frame stack[CFG_MAX_DEPTH];
	int depth;
	struct anchor *anchors;
	size_t budget;
	cfg_node *root;
};

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail_at(struct builder *b, int line, int col, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return devkit__error_set(DEVKIT_EINVAL, "%s:%d:%d: %s", b->name, line, col, msg);
}

static int fail_mark(struct builder *b, yaml_mark_t m, const char *what)
{
	return fail_at(b, (int)m.line + 1, (int)m.column + 1, "%s", what);
}

/* Where the node being read sits: "tunnel", "forwards[1]", "the top level".
 * `value`: the path of the value about to be attached (with its key). */
static void stack_path(const struct builder *b, char *out, size_t size, int value)
{
	size_t len = 0;
	out[0] = '\0';
	for (int i = 0; i < b->depth && len < size; i++) {
		const struct frame *f = &b->stack[i];
		if (i + 1 == b->depth && !value)
			break;
		if (f->node->kind == CFG_MAP && f->key)
			len += (size_t)snprintf(out + len, size - len, "%s%s", len ? "." : "", f->key->text);
		else if (f->node->kind == CFG_SEQ)
			len += (size_t)snprintf(out + len, size - len, "[%zu]", f->node->nitems);
	}
	if (!out[0])
		snprintf(out, size, "the top level");
}

static cfg_node *new_node(struct builder *b, cfg_kind kind, yaml_mark_t m)
{
	if (b->budget == 0)
		return NULL;
	b->budget--;
	cfg_node *n = calloc(1, sizeof(*n));
	if (n) {
		n->kind = kind;
		n->line = (int)m.line + 1;
		n->col = (int)m.column + 1;
	}
	return n;
}

static int add_anchor(struct builder *b, const char *name, cfg_node *node)
{
	size_t len = strlen(name);
	struct anchor *a = malloc(sizeof(*a) + len + 1);
	if (!a)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	memcpy(a->name, name, len + 1);
	a->node = node;
	a->next = b->anchors; /* newest first: a redefined anchor wins, as YAML says */
	b->anchors = a;
	return 0;
}

/* Hand a complete node to its parent (or make it the root); takes it. */
static int attach(struct builder *b, cfg_node *n)
{
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}
	struct frame *f = &b->stack[b->depth - 1];
	cfg_node *parent = f->node;

	if (parent->kind == CFG_SEQ) {
		cfg_node **items = realloc(parent->items, (parent->nitems + 1) * sizeof(*items));
		if (!items) {
			cfg_node_free(n);
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		}
		parent->items = items;
		items[parent->nitems++] = n;
		return 0;
	}
	if (!f->key) {
		char where[256];
		int rc = 0;
		stack_path(b, where, sizeof(where), 0);
		if (n->kind != CFG_SCALAR)
			rc = fail_at(b, n->line, n->col, "a key must be a plain name, not %s (%s %s)",
				cfg_kind_name(n), b->depth > 1 ? "in" : "at", where);
		else if (!strcmp(n->text, "<<"))
			/* YAML 1.1 merge keys are not in YAML 1.2 and editors disagree
			 * on them; say so rather than call "<<" an unknown key. */
			rc = fail_at(b, n->line, n->col, "%s: merge keys (<<) are not supported: "
				"use an alias for the whole value, or profiles", where);
		for (size_t i = 0; !rc && i < parent->npairs; i++) {
			const cfg_node *k = parent->pairs[i].key;
			if (!strcmp(k->text, n->text))
				rc = fail_at(b, n->line, n->col, "duplicate key \"%s\" in %s (first at %d:%d)",
					n->text, where, k->line, k->col);
		}
		if (rc) {
			cfg_node_free(n);
			return rc;
		}
		f->key = n;
		return 0;
	}
	cfg_pair *pairs = realloc(parent->pairs, (parent->npairs + 1) * sizeof(*pairs));
	if (!pairs) {
		cfg_node_free(n);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	parent->pairs = pairs;
	pairs[parent->npairs].key = f->key;
	pairs[parent->npairs].value = n;
	parent->npairs++;
	f->key = NULL;
	return 0;
}

static int too_big(struct builder *b, yaml_mark_t m)
{
	return fail_mark(b, m, "the document has too many nodes (more than 100000, "
		"counting each use of an alias)");
}

/* "!!int", "!custom": a tag as it was written. */
static void tag_text(const char *tag, char *out, size_t size)
{
	if (!strncmp(tag, "tag:yaml.org,2002:", 18))
		snprintf(out, size, "!!%.60s", tag + 18);
	else
		snprintf(out, size, "%.60s", tag);
}

static int bad_tag(struct builder *b, yaml_mark_t m, const char *tag)
{
	char where[256], text[80];
	stack_path(b, where, sizeof(where), 1);
	tag_text(tag, text, sizeof(text));
	return fail_at(b, (int)m.line + 1, (int)m.column + 1, "%s: tag %s is not supported "
		"(leave the value untagged; only !!str is understood)", where, text);
}

static int on_scalar(struct builder *b, yaml_event_t *ev)
{
	const char *tag = (const char *)ev->data.scalar.tag;
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	cfg_type type = CFG_T_STR;

	if (tag && strcmp(tag, TAG_STR) != 0 && strcmp(tag, "!") != 0)
		return bad_tag(b, ev->start_mark, tag);
	if (memchr(value, '\0', len)) {
		char where[256];
		stack_path(b, where, sizeof(where), 1);
		return fail_at(b, (int)ev->start_mark.line + 1, (int)ev->start_mark.column + 1,
			"%s: the value contains a NUL character", where);
	}
	if (!tag && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		type = cfg_resolve_plain(value);

	cfg_node *n = new_node(b, CFG_SCALAR, ev->start_mark);
	if (!n)
		return b->budget ? devkit__error_set(DEVKIT_ENOMEM, "out of memory")
			: too_big(b, ev->start_mark);
	n->type = type;
	if (!(n->text = malloc(len + 1))) {
		free(n);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	memcpy(n->text, value, len);
	n->text[len] = '\0';
	if (ev->data.scalar.anchor && add_anchor(b, (const char *)ev->data.scalar.anchor, n) != 0) {
		cfg_node_free(n);
		return DEVKIT_ENOMEM;
	}
	return attach(b, n);
}

static int on_alias(struct builder *b, yaml_event_t *ev)
{
	const char *name = (const char *)ev->data.alias.anchor;
	const struct anchor *a = b->anchors;
	while (a && strcmp(a->name, name) != 0)
		a = a->next;
	if (!a) {
		char msg[512];
		snprintf(msg, sizeof(msg), "alias *%.200s: no anchor &%.200s before it "
			"(an alias cannot refer to a value that contains it)", name, name);
		return fail_mark(b, ev->start_mark, msg);
	}
	cfg_node *copy = cfg_node_copy(a->node, &b->budget);
	if (!copy)
		return b->budget ? devkit__error_set(DEVKIT_ENOMEM, "out of memory")
			: too_big(b, ev->start_mark);
	/* Messages about the value point at the alias, its insides at the anchor. */
	copy->line = (int)ev->start_mark.line + 1;
	copy->col = (int)ev->start_mark.column + 1;
	return attach(b, copy);
}

static int on_start(struct builder *b, yaml_event_t *ev, cfg_kind kind)
{
	const char *tag = (const char *)(kind == CFG_MAP ? ev->data.mapping_start.tag
		: ev->data.sequence_start.tag);
	const char *anchor = (const char *)(kind == CFG_MAP ? ev->data.mapping_start.anchor
		: ev->data.sequence_start.anchor);

	if (tag && strcmp(tag, kind == CFG_MAP ? TAG_MAP : TAG_SEQ) != 0 && strcmp(tag, "!") != 0)
		return bad_tag(b, ev->start_mark, tag);
	if (b->depth == CFG_MAX_DEPTH)
		return fail_mark(b, ev->start_mark, "nested too deeply (more than 64 levels)");
	cfg_node *n = new_node(b, kind, ev->start_mark);
	if (!n)
		return b->budget ? devkit__error_set(DEVKIT_ENOMEM, "out of memory")
			: too_big(b, ev->start_mark);
	struct frame *f = &b->stack[b->depth++];
	f->node = n;
	f->key = NULL;
	f->anchor = anchor ? strdup(anchor) : NULL;
	if (anchor && !f->anchor)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	return 0;
}

static int on_end(struct builder *b)
{
	struct frame *f = &b->stack[--b->depth];
	cfg_node *n = f->node;
	int rc = 0;

	if (f->anchor)
		rc = add_anchor(b, f->anchor, n);
	free(f->anchor);
	f->anchor = NULL;
	f->node = NULL;
	if (rc) {
		cfg_node_free(n);
		return rc;
	}
	return attach(b, n);
}

static void builder_dispose(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		cfg_node_free(f->node);
		cfg_node_free(f->key);
		free(f->anchor);
	}
	while (b->anchors) {
		struct anchor *a = b->anchors;
		b->anchors = a->next;
		free(a);
	}
}

/* libyaml's own words, with the place: "could not find expected ':'
 * (while scanning a simple key at 3:1)". */
static int parser_error(struct builder *b, const yaml_parser_t *ps, const char *text, size_t len)
{
	const char *problem = ps->problem ? ps->problem : "malformed document";

	if (ps->error == YAML_MEMORY_ERROR)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory while parsing", b->name);
	if (ps->error == YAML_READER_ERROR) {
		/* The reader reports a byte offset: turn it into a line and column. */
		int line = 1, col = 1;
		for (size_t i = 0; i < ps->problem_offset && i < len; i++) {
			if (text[i] == '\n')
				line++, col = 1;
			else
				col++;
		}
		if (ps->problem_value != -1)
			return fail_at(b, line, col, "invalid YAML: %s (byte 0x%02x)", problem,
				(unsigned)ps->problem_value & 0xffu);
		return fail_at(b, line, col, "invalid YAML: %s", problem);
	}
	if (ps->context)
		return fail_at(b, (int)ps->problem_mark.line + 1, (int)ps->problem_mark.column + 1,
			"invalid YAML: %s (%s at %d:%d)", problem, ps->context,
			(int)ps->context_mark.line + 1, (int)ps->context_mark.column + 1);
	return fail_at(b, (int)ps->problem_mark.line + 1, (int)ps->problem_mark.column + 1,
		"invalid YAML: %s", problem);
}

int cfg_yaml_parse(const char *text, size_t len, const char *name, cfg_node **root)
{
	struct builder b;
	yaml_parser_t ps;
	int rc = 0, docs = 0, done = 0;

	*root = NULL;
	memset(&b, 0, sizeof(b));
	b.name = name;
	b.budget = CFG_MAX_NODES;
	if (!yaml_parser_initialize(&ps))
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	while (!rc && !done) {
		yaml_event_t ev;
		if (!yaml_parser_parse(&ps, &ev)) {
			rc = parser_error(&b, &ps, text, len);
			break;
		}
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++)
				rc = fail_mark(&b, ev.start_mark, "a second YAML document: devkit.yaml "
					"holds one (use profiles for variants)");
			break;
		case YAML_SCALAR_EVENT:
			rc = on_scalar(&b, &ev);
			break;
		case YAML_ALIAS_EVENT:
			rc = on_alias(&b, &ev);
			break;
		case YAML_SEQUENCE_START_EVENT:
			rc = on_start(&b, &ev, CFG_SEQ);
			break;
		case YAML_MAPPING_START_EVENT:
			rc = on_start(&b, &ev, CFG_MAP);
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			rc = on_end(&b);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	builder_dispose(&b);
	if (rc) {
		cfg_node_free(b.root);
		return rc;
	}
	*root = b.root;
	return 0;
}
