/* SPDX-License-Identifier: Apache-2.0 */
/* A JSON reader into a tree, and its YAML writer; see cmd_replica_doc.h. */
#include "cmd_replica_doc.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Deeper than any Kubernetes object; a bound so that bad input cannot
 * exhaust the stack. */
#define MAX_DEPTH 256

struct reader {
	const char *p, *end, *start;
	char *err;
	size_t errsize;
	int failed;
};

static void fail(struct reader *r, const char *what)
{
	if (!r->failed)
		snprintf(r->err, r->errsize, "%s at offset %zu", what, (size_t)(r->p - r->start));
	r->failed = 1;
}

static void skip_space(struct reader *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static rdoc *node(struct reader *r, rdoc_type type)
{
	rdoc *n = calloc(1, sizeof(*n));

	if (!n)
		fail(r, "out of memory");
	else
		n->type = type;
	return n;
}

/* Append one code point as UTF-8. */
static size_t put_utf8(char *out, unsigned long cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | (cp >> 18));
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int hex4(struct reader *r, unsigned long *out)
{
	*out = 0;
	if (r->end - r->p < 4)
		return -1;
	for (int i = 0; i < 4; i++) {
		int c = (unsigned char)*r->p++;

		if (!isxdigit(c))
			return -1;
		*out = *out * 16 + (unsigned long)(isdigit(c) ? c - '0' : tolower(c) - 'a' + 10);
	}
	return 0;
}

/* A "\u" escape (r->p after the 'u'), surrogate pairs joined; a lone
 * surrogate becomes U+FFFD. */
static int unicode_escape(struct reader *r, unsigned long *cp)
{
	unsigned long low;

	if (hex4(r, cp) != 0)
		return -1;
	if (*cp >= 0xdc00 && *cp <= 0xdfff) {
		*cp = 0xfffd;
	} else if (*cp >= 0xd800 && *cp <= 0xdbff) {
		if (r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u') {
			r->p += 2;
			if (hex4(r, &low) != 0)
				return -1;
			if (low >= 0xdc00 && low <= 0xdfff)
				*cp = 0x10000 + ((*cp - 0xd800) << 10) + (low - 0xdc00);
			else
				*cp = 0xfffd;
		} else {
			*cp = 0xfffd;
		}
	}
	return 0;
}

/* A string; r->p at the opening quote. The decoded text is never longer
 * than the escaped one, so one allocation of that size holds it. */
static char *read_string(struct reader *r, size_t *len)
{
	const char *q = ++r->p;
	char *out, *w;

	while (q < r->end && *q != '"')
		q += *q == '\\' && q + 1 < r->end ? 2 : 1;
	if (q >= r->end) {
		fail(r, "unterminated string");
		return NULL;
	}
	if (!(out = malloc((size_t)(q - r->p) + 1))) {
		fail(r, "out of memory");
		return NULL;
	}
	w = out;
	while (r->p < q) {
		char c = *r->p++;
		unsigned long cp;

		if ((unsigned char)c < 0x20) {
			fail(r, "control character in a string");
			free(out);
			return NULL;
		}
		if (c != '\\') {
			*w++ = c;
			continue;
		}
		switch (c = *r->p++) {
		case '"': case '\\': case '/': *w++ = c; break;
		case 'b': *w++ = '\b'; break;
		case 'f': *w++ = '\f'; break;
		case 'n': *w++ = '\n'; break;
		case 'r': *w++ = '\r'; break;
		case 't': *w++ = '\t'; break;
		case 'u':
			if (unicode_escape(r, &cp) != 0) {
				fail(r, "bad \\u escape");
				free(out);
				return NULL;
			}
			w += put_utf8(w, cp);
			break;
		default:
			fail(r, "bad escape");
			free(out);
			return NULL;
		}
	}
	r->p = q + 1;
	*w = '\0';
	*len = (size_t)(w - out);
	return out;
}

static rdoc *read_value(struct reader *r, int depth);

/* The elements of an array or the members of an object; r->p after the
 * opening bracket. */
static rdoc *read_container(struct reader *r, rdoc_type type, int depth)
{
	rdoc *n = node(r, type), **tail;
	char close = type == RDOC_OBJECT ? '}' : ']';

	if (!n)
		return NULL;
	tail = &n->child;
	skip_space(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return n;
	}
	for (;;) {
		char *key = NULL;
		size_t key_len;
		rdoc *item;

		skip_space(r);
		if (type == RDOC_OBJECT) {
			if (r->p >= r->end || *r->p != '"' || !(key = read_string(r, &key_len)))
				break;
			skip_space(r);
			if (r->p >= r->end || *r->p++ != ':') {
				free(key);
				fail(r, "expected ':'");
				break;
			}
		}
		if (!(item = read_value(r, depth + 1))) {
			free(key);
			break;
		}
		item->key = key;
		*tail = item;
		tail = &item->next;
		skip_space(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return n;
		}
		fail(r, type == RDOC_OBJECT ? "expected ',' or '}'" : "expected ',' or ']'");
		break;
	}
	fail(r, "expected a member");
	rdoc_free(n);
	return NULL;
}

/* A number or a literal (true, false, null): its text as written. */
static rdoc *read_atom(struct reader *r)
{
	const char *s = r->p;
	rdoc *n;

	while (r->p < r->end && *r->p && (isalnum((unsigned char)*r->p) || strchr("+-.", *r->p)))
		r->p++;
	if (r->p == s) {
		fail(r, "unexpected character");
		return NULL;
	}
	if ((size_t)(r->p - s) == 4 && strncmp(s, "null", 4) == 0)
		return node(r, RDOC_NULL);
	if (!(n = node(r, isdigit((unsigned char)*s) || *s == '-' ? RDOC_NUMBER : RDOC_BOOL)))
		return NULL;
	if (n->type == RDOC_BOOL && !((r->p - s == 4 && strncmp(s, "true", 4) == 0)
		|| (r->p - s == 5 && strncmp(s, "false", 5) == 0))) {
		fail(r, "unknown literal");
		free(n);
		return NULL;
	}
	n->len = (size_t)(r->p - s);
	if (!(n->text = strndup(s, n->len))) {
		fail(r, "out of memory");
		free(n);
		return NULL;
	}
	return n;
}

static rdoc *read_value(struct reader *r, int depth)
{
	rdoc *n;

	if (depth > MAX_DEPTH) {
		fail(r, "nested too deeply");
		return NULL;
	}
	skip_space(r);
	if (r->p >= r->end) {
		fail(r, "unexpected end");
		return NULL;
	}
	switch (*r->p) {
	case '{': r->p++; return read_container(r, RDOC_OBJECT, depth);
	case '[': r->p++; return read_container(r, RDOC_ARRAY, depth);
	case '"':
		if (!(n = node(r, RDOC_STRING)))
			return NULL;
		if (!(n->text = read_string(r, &n->len))) {
			free(n);
			return NULL;
		}
		return n;
	default:
		return read_atom(r);
	}
}

rdoc *rdoc_parse(const char *text, size_t len, char *err, size_t errsize)
{
	struct reader r = { text, text + len, text, err, errsize, 0 };
	rdoc *doc = read_value(&r, 0);

	skip_space(&r);
	if (doc && r.p != r.end) {
		fail(&r, "text after the document");
		rdoc_free(doc);
		return NULL;
	}
	return doc;
}

void rdoc_free(rdoc *doc)
{
	while (doc) {
		rdoc *next = doc->next;

		rdoc_free(doc->child);
		free(doc->key);
		free(doc->text);
		free(doc);
		doc = next;
	}
}

const rdoc *rdoc_get(const rdoc *obj, const char *key)
{
	if (!obj || obj->type != RDOC_OBJECT)
		return NULL;
	for (const rdoc *m = obj->child; m; m = m->next) {
		if (strcmp(m->key, key) == 0)
			return m;
	}
	return NULL;
}

const char *rdoc_str(const rdoc *obj, const char *key)
{
	const rdoc *v = rdoc_get(obj, key);

	return v && v->type == RDOC_STRING ? v->text : NULL;
}

/* --- YAML ----------------------------------------------------------------- */

/* Words that YAML 1.1 (still what many tools read) resolves to booleans or
 * null when plain. */
static int reserved_word(const char *s, size_t len)
{
	static const char *const words[] = { "y", "n", "yes", "no", "true", "false", "on", "off",
		"null" };

	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		if (strlen(words[i]) == len && strncasecmp(s, words[i], len) == 0)
			return 1;
	}
	return 0;
}

/*
 * Whether a string may be written plain. Deliberately narrower than YAML
 * allows: it must start with a letter, '/', '_' or '$' (so never a number,
 * a date, an indicator or a sexagesimal "1:20"), hold only characters that
 * mean nothing in block context, and have no ": " or " #" inside.
 */
static int plain_ok(const char *s, size_t len)
{
	if (len == 0 || reserved_word(s, len))
		return 0;
	if (!isalpha((unsigned char)s[0]) && !strchr("/_$", s[0]))
		return 0;
	if (s[len - 1] == ' ' || s[len - 1] == ':')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == 0 || (!isalnum(c) && !strchr("-_./:=,$()+@%^ ", c)))
			return 0;
		if (c == ':' && s[i + 1] == ' ')
			return 0;
		if (c == ' ' && (s[i + 1] == '#' || s[i + 1] == ' '))
			return 0;
	}
	return 1;
}

/* Line breaks of YAML 1.1 beyond '\n' (NEL, LS, PS) and the BOM: in a
 * literal block they would break lines, so such text is double-quoted with
 * them escaped. */
static int special_unicode(const unsigned char *s, size_t left)
{
	if (left >= 2 && s[0] == 0xc2 && s[1] == 0x85)
		return 2;
	if (left >= 3 && s[0] == 0xe2 && s[1] == 0x80 && (s[2] == 0xa8 || s[2] == 0xa9))
		return 3;
	if (left >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return 3;
	return 0;
}

/* A literal block ("|") keeps a script readable: only text with line breaks,
 * no other control characters, and a first line that does not start with
 * white space (which would need an explicit indentation indicator). */
static int literal_ok(const char *s, size_t len)
{
	if (!memchr(s, '\n', len) || s[0] == ' ' || s[0] == '\t' || s[0] == '\n')
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f
			|| special_unicode((const unsigned char *)s + i, len - i))
			return 0;
	}
	return 1;
}

static void write_quoted(const char *s, size_t len, FILE *f)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		int special = special_unicode((const unsigned char *)s + i, len - i);

		if (special) {
			fputs(c == 0xc2 ? "\\N" : c == 0xef ? "\\uFEFF"
				: (unsigned char)s[i + 2] == 0xa8 ? "\\L" : "\\P", f);
			i += (size_t)special - 1;
		} else if (c == '"' || c == '\\') {
			fprintf(f, "\\%c", c);
		} else if (c == '\n') {
			fputs("\\n", f);
		} else if (c == '\t') {
			fputs("\\t", f);
		} else if (c == '\r') {
			fputs("\\r", f);
		} else if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\x%02x", c);
		} else {
			fputc(c, f);
		}
	}
	fputc('"', f);
}

/* A literal block after "key:" or "-": the header, then each line at
 * `indent` spaces. The chomping indicator keeps the trailing line breaks
 * exactly: none ("|-"), one ("|") or more ("|+"). */
static void write_literal(const char *s, size_t len, int indent, FILE *f)
{
	size_t trailing = 0;

	while (trailing < len && s[len - 1 - trailing] == '\n')
		trailing++;
	fputs(trailing == 0 ? " |-\n" : trailing == 1 ? " |\n" : " |+\n", f);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(s + i, '\n', len - i);
		size_t n = nl ? (size_t)(nl - (s + i)) : len - i;

		if (n)
			fprintf(f, "%*s%.*s", indent, "", (int)n, s + i);
		fputc('\n', f);
		i += n + 1;
	}
}

static void write_scalar_text(const char *s, size_t len, FILE *f)
{
	if (plain_ok(s, len))
		fwrite(s, 1, len, f);
	else
		write_quoted(s, len, f);
}

/* A scalar (or an empty container) after "key:" or "-", with its newline. */
static void write_inline(const rdoc *v, int indent, FILE *f)
{
	switch (v->type) {
	case RDOC_NULL: fputs(" null\n", f); return;
	case RDOC_BOOL:
	case RDOC_NUMBER: fprintf(f, " %s\n", v->text); return;
	case RDOC_ARRAY: fputs(" []\n", f); return;
	case RDOC_OBJECT: fputs(" {}\n", f); return;
	case RDOC_STRING:
		if (literal_ok(v->text, v->len)) {
			write_literal(v->text, v->len, indent, f);
			return;
		}
		fputc(' ', f);
		write_scalar_text(v->text, v->len, f);
		fputc('\n', f);
		return;
	}
}

static void write_items(const rdoc *arr, int indent, int first_indented, FILE *f);

/* The members of an object at `indent`. The first is not indented when the
 * cursor already stands there (right after "- "). */
static void write_members(const rdoc *obj, int indent, int first_indented, FILE *f)
{
	for (const rdoc *m = obj->child; m; m = m->next) {
		if (m != obj->child || first_indented)
			fprintf(f, "%*s", indent, "");
		write_scalar_text(m->key, strlen(m->key), f);
		fputc(':', f);
		if (m->type == RDOC_OBJECT && m->child) {
			fputc('\n', f);
			write_members(m, indent + 2, 1, f);
		} else if (m->type == RDOC_ARRAY && m->child) {
			/* kubectl's layout: "- " at the key's own indentation */
			fputc('\n', f);
			write_items(m, indent, 1, f);
		} else {
			write_inline(m, indent + 2, f);
		}
	}
}

static void write_items(const rdoc *arr, int indent, int first_indented, FILE *f)
{
	for (const rdoc *v = arr->child; v; v = v->next) {
		if (v != arr->child || first_indented)
			fprintf(f, "%*s", indent, "");
		fputc('-', f);
		if (v->type == RDOC_OBJECT && v->child) {
			fputc(' ', f);
			write_members(v, indent + 2, 0, f);
		} else if (v->type == RDOC_ARRAY && v->child) {
			fputc(' ', f);
			write_items(v, indent + 2, 0, f);
		} else {
			write_inline(v, indent + 2, f);
		}
	}
}

int rdoc_write_yaml(const rdoc *doc, FILE *f)
{
	if (doc->type == RDOC_OBJECT && doc->child)
		write_members(doc, 0, 1, f);
	else if (doc->type == RDOC_ARRAY && doc->child)
		write_items(doc, 0, 1, f);
	else
		write_inline(doc, 2, f); /* a lone scalar; the leading space is harmless */
	return ferror(f) || fflush(f) != 0 ? -1 : 0;
}
