/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The manifest a deploy leaves in remote_dir (.devkit-deploy): what was
 * copied, with the size, mode and modification time it had here, so that
 * the next deploy sends only what differs. Plain text, one entry a line,
 * readable with cat in the container.
 */
#include "deploy_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

#define HEADER "devkit-deploy 1\n"

static int append_escaped(devkit__bytes *out, const char *s)
{
	const char *run = s;
	for (const char *p = s;; p++) {
		const char *esc = NULL;
		if (*p == '\\')
			esc = "\\\\";
		else if (*p == '\n')
			esc = "\\n";
		else if (*p == '\r')
			esc = "\\r";
		else if (*p != '\0')
			continue;
		if (p > run && devkit__bytes_append(out, run, (size_t)(p - run)) != 0)
			return -1;
		if (!esc)
			return 0;
		if (devkit__bytes_append(out, esc, 2) != 0)
			return -1;
		run = p + 1;
	}
}

int devkit__deploy_manifest_format(const devkit__deploy_list *l, devkit__bytes *out)
{
	if (devkit__bytes_append(out, HEADER, strlen(HEADER)) != 0)
		goto oom;
	for (size_t i = 0; i < l->n; i++) {
		const devkit__deploy_entry *e = &l->v[i];
		if (devkit__bytes_printf(out, "%c %o %" PRIu64 " %" PRId64 " ", e->type, e->mode,
			e->size, e->mtime) != 0 || append_escaped(out, e->rel) != 0 ||
			devkit__bytes_append(out, "\n", 1) != 0)
			goto oom;
	}
	return 0;
oom:
	return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory writing the manifest");
}

static char *unescape(const char *s, size_t len)
{
	char *out = malloc(len + 1), *w = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len) {
			char c = s[++i];
			*w++ = c == 'n' ? '\n' : c == 'r' ? '\r' : c;
		} else {
			*w++ = s[i];
		}
	}
	*w = '\0';
	return out;
}

/* One line into e; 0, or -1 when it does not parse. */
static int parse_line(const char *line, size_t len, devkit__deploy_entry *e)
{
	char head[128];
	size_t i = 0, fields = 0;
	/* the four fields before the name, which may hold spaces */
	while (i < len && fields < 4) {
		if (line[i] == ' ')
			fields++;
		i++;
	}
	if (fields < 4 || i >= len || i >= sizeof(head))
		return -1;
	memcpy(head, line, i);
	head[i] = '\0';
	char type;
	unsigned mode;
	unsigned long long size;
	long long mtime;
	int used = 0;
	if (sscanf(head, "%c %o %llu %lld %n", &type, &mode, &size, &mtime, &used) != 4 ||
		(size_t)used != i || (type != DEVKIT__DEPLOY_FILE && type != DEVKIT__DEPLOY_DIR &&
		type != DEVKIT__DEPLOY_SYMLINK))
		return -1;
	memset(e, 0, sizeof(*e));
	e->type = type;
	e->mode = mode;
	e->size = size;
	e->mtime = mtime;
	e->rel = unescape(line + i, len - i);
	return e->rel ? 0 : -1;
}

static int cmp_rel(const void *a, const void *b)
{
	return strcmp(((const devkit__deploy_entry *)a)->rel, ((const devkit__deploy_entry *)b)->rel);
}

int devkit__deploy_manifest_parse(const char *text, size_t len, devkit__deploy_list *m)
{
	memset(m, 0, sizeof(*m));
	size_t hl = strlen(HEADER);
	if (!text || len < hl || memcmp(text, HEADER, hl) != 0)
		return 0;
	for (size_t pos = hl; pos < len;) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		devkit__deploy_entry e;
		if (parse_line(text + pos, end - pos, &e) == 0) {
			if (m->n == m->cap) {
				size_t cap = m->cap ? m->cap * 2 : 64;
				devkit__deploy_entry *v = realloc(m->v, cap * sizeof(*v));
				if (!v) {
					free(e.rel);
					devkit__deploy_list_free(m);
					return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory "
						"reading the manifest");
				}
				m->v = v;
				m->cap = cap;
			}
			m->v[m->n++] = e;
		}
		pos = end + 1;
	}
	if (m->n)
		qsort(m->v, m->n, sizeof(*m->v), cmp_rel);
	return 0;
}

const devkit__deploy_entry *devkit__deploy_manifest_find(const devkit__deploy_list *m,
	const char *rel)
{
	if (!m->n)
		return NULL;
	devkit__deploy_entry key = { 0 };
	key.rel = (char *)rel;
	return bsearch(&key, m->v, m->n, sizeof(*m->v), cmp_rel);
}
