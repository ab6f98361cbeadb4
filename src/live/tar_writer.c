/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ustar writer of tar_writer.h: header blocks (with a pax header in
 * front when a name does not fit), file data, padding, and the end.
 */
#include "tar_writer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

/* Offsets and widths of the ustar header fields (POSIX pax, "ustar
 * Interchange Format"). */
#define H_NAME 0
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_CHKSUM 148
#define H_TYPE 156
#define H_LINKNAME 157
#define H_MAGIC 257
#define H_VERSION 263
#define H_DEVMAJOR 329
#define H_DEVMINOR 337
#define H_PREFIX 345

#define NAME_MAX_LEN 100u
#define PREFIX_MAX_LEN 155u

int devkit__tar_init(devkit__tar *t, devkit__tar_sink sink, void *user, size_t buf_size)
{
	memset(t, 0, sizeof(*t));
	t->sink = sink;
	t->user = user;
	t->cap = buf_size ? buf_size : 256u * 1024;
	if (t->cap < DEVKIT__TAR_BLOCK)
		t->cap = DEVKIT__TAR_BLOCK;
	t->buf = malloc(t->cap);
	if (!t->buf)
		return t->rc = devkit__error_set(DEVKIT_ENOMEM, "tar: out of memory");
	return 0;
}

void devkit__tar_dispose(devkit__tar *t)
{
	free(t->buf);
	t->buf = NULL;
	t->len = t->cap = 0;
}

static int flush(devkit__tar *t)
{
	if (t->rc)
		return t->rc;
	if (t->len) {
		int rc = t->sink(t->user, t->buf, t->len);
		if (rc < 0)
			return t->rc = rc;
		t->len = 0;
	}
	return 0;
}

static int put(devkit__tar *t, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		if (t->rc)
			return t->rc;
		size_t n = t->cap - t->len < len ? t->cap - t->len : len;
		if (p)
			memcpy(t->buf + t->len, p, n);
		else
			memset(t->buf + t->len, 0, n);
		t->len += n;
		t->total += n;
		len -= n;
		if (p)
			p += n;
		if (t->len == t->cap && flush(t) < 0)
			return t->rc;
	}
	return t->rc;
}

/* A numeric field: octal digits and a NUL when the value fits, else GNU
 * tar's base-256 (0x80, then the value big-endian). */
static void number(char *field, size_t width, uint64_t v)
{
	int digits = (int)width - 1;
	if (digits >= 22 || v < (1ull << (3 * digits))) {
		snprintf(field, width, "%0*llo", digits, (unsigned long long)v);
		return;
	}
	memset(field, 0, width);
	field[0] = (char)0x80;
	for (size_t i = width - 1; i > 0 && v; i--, v >>= 8)
		field[i] = (char)(v & 0xff);
}

/* Split `name` (len bytes) into ustar's prefix and name at a '/': the
 * longest prefix that leaves a non-empty name of at most 100 bytes. The
 * position of that '/', or -1 when there is none. */
static long split_at(const char *name, size_t len)
{
	if (len > PREFIX_MAX_LEN + 1 + NAME_MAX_LEN)
		return -1;
	size_t i = len - 1 < PREFIX_MAX_LEN ? len - 1 : PREFIX_MAX_LEN;
	for (;; i--) {
		if (name[i] == '/' && i > 0 && len - i - 1 <= NAME_MAX_LEN && len - i - 1 > 0)
			return (long)i;
		if (i == 0 || len - i > NAME_MAX_LEN + 1)
			return -1;
	}
}

static int write_block(devkit__tar *t, char *h)
{
	memcpy(h + H_MAGIC, "ustar", 6);
	memcpy(h + H_VERSION, "00", 2);
	memset(h + H_CHKSUM, ' ', 8);
	unsigned sum = 0;
	for (unsigned i = 0; i < DEVKIT__TAR_BLOCK; i++)
		sum += (unsigned char)h[i];
	snprintf(h + H_CHKSUM, 8, "%06o", sum);
	h[H_CHKSUM + 7] = ' ';
	return put(t, h, DEVKIT__TAR_BLOCK);
}

/* One "LEN key=value\n" record; LEN counts the whole record, itself too. */
static int pax_record(char **buf, size_t *len, const char *key, const char *value)
{
	size_t body = 1 + strlen(key) + 1 + strlen(value) + 1;
	size_t n = body + 1;
	for (;;) {
		char digits[24];
		size_t d = (size_t)snprintf(digits, sizeof(digits), "%zu", n);
		if (d + body == n)
			break;
		n = d + body;
	}
	char *p = realloc(*buf, *len + n + 1);
	if (!p)
		return -1;
	snprintf(p + *len, n + 1, "%zu %s=%s\n", n, key, value);
	*buf = p;
	*len += n;
	return 0;
}

static void base_header(char *h, const devkit__tar_entry *e, int type, uint64_t size)
{
	memset(h, 0, DEVKIT__TAR_BLOCK);
	number(h + H_MODE, 8, e->mode & 07777);
	number(h + H_UID, 8, 0);
	number(h + H_GID, 8, 0);
	number(h + H_SIZE, 12, size);
	number(h + H_MTIME, 12, e->mtime > 0 ? (uint64_t)e->mtime : 0);
	h[H_TYPE] = (char)type;
	number(h + H_DEVMAJOR, 8, 0);
	number(h + H_DEVMINOR, 8, 0);
}

/* What a header needs besides the entry: its name as written (a
 * directory's with a trailing '/'), where it splits (-2: fits the name
 * field, -1: needs pax, else the '/' between prefix and name), and the pax
 * records when it needs them. 0, or DEVKIT_ENOMEM/EINVAL. */
typedef struct layout {
	char *full;
	size_t nlen;
	const char *link;
	size_t llen;
	long cut;
	char *pax;
	size_t plen;
} layout;

static void layout_free(layout *l)
{
	free(l->full);
	free(l->pax);
}

static int plan(const devkit__tar_entry *e, layout *l)
{
	memset(l, 0, sizeof(*l));
	if (!e->name || !*e->name || (e->type != DEVKIT__TAR_FILE && e->type != DEVKIT__TAR_DIR &&
		e->type != DEVKIT__TAR_SYMLINK) || (e->type == DEVKIT__TAR_SYMLINK && !e->linkname))
		return devkit__error_set(DEVKIT_EINVAL, "tar: an entry needs a name, a type (file, "
			"directory, symlink) and a symlink's target");
	size_t nlen = strlen(e->name);
	l->full = malloc(nlen + 2);
	if (!l->full)
		return devkit__error_set(DEVKIT_ENOMEM, "tar: out of memory");
	memcpy(l->full, e->name, nlen);
	if (e->type == DEVKIT__TAR_DIR)
		l->full[nlen++] = '/';
	l->full[nlen] = '\0';
	l->nlen = nlen;
	l->link = e->type == DEVKIT__TAR_SYMLINK ? e->linkname : "";
	l->llen = strlen(l->link);
	l->cut = nlen <= NAME_MAX_LEN ? -2 : split_at(l->full, nlen);
	if ((l->cut == -1 && pax_record(&l->pax, &l->plen, "path", l->full) != 0) ||
		(l->llen > NAME_MAX_LEN && pax_record(&l->pax, &l->plen, "linkpath", l->link) != 0)) {
		layout_free(l);
		return devkit__error_set(DEVKIT_ENOMEM, "tar: out of memory");
	}
	return 0;
}

static uint64_t padded(uint64_t n)
{
	return (n + DEVKIT__TAR_BLOCK - 1) / DEVKIT__TAR_BLOCK * DEVKIT__TAR_BLOCK;
}

int devkit__tar_entry_size(const devkit__tar_entry *e, uint64_t *size)
{
	layout l;
	int rc = plan(e, &l);
	if (rc)
		return rc;
	*size = DEVKIT__TAR_BLOCK + (l.plen ? DEVKIT__TAR_BLOCK + padded(l.plen) : 0) +
		(e->type == DEVKIT__TAR_FILE ? padded(e->size) : 0);
	layout_free(&l);
	return 0;
}

uint64_t devkit__tar_end_size(uint64_t entries)
{
	uint64_t n = entries + 2 * DEVKIT__TAR_BLOCK;
	return (n + DEVKIT__TAR_RECORD - 1) / DEVKIT__TAR_RECORD * DEVKIT__TAR_RECORD - entries;
}

int devkit__tar_header(devkit__tar *t, const devkit__tar_entry *e)
{
	if (t->rc)
		return t->rc;
	if (t->left)
		return t->rc = devkit__error_set(DEVKIT_EINVAL, "tar: a header before the %llu data "
			"bytes the previous file still needs", (unsigned long long)t->left);
	layout l;
	int rc = plan(e, &l);
	if (rc)
		return t->rc = rc;
	uint64_t size = e->type == DEVKIT__TAR_FILE ? e->size : 0;
	char h[DEVKIT__TAR_BLOCK];
	if (l.plen) {
		/* The extended header's own name is informative only, as GNU tar's
		 * "PaxHeaders" entries are. */
		base_header(h, e, 'x', l.plen);
		number(h + H_MODE, 8, 0644);
		const char *base = strrchr(e->name, '/');
		base = base ? base + 1 : e->name;
		snprintf(h + H_NAME, NAME_MAX_LEN, "PaxHeaders/%.80s", base);
		rc = write_block(t, h);
		if (rc == 0)
			rc = put(t, l.pax, l.plen);
		if (rc == 0 && l.plen % DEVKIT__TAR_BLOCK)
			rc = put(t, NULL, DEVKIT__TAR_BLOCK - l.plen % DEVKIT__TAR_BLOCK);
	}
	if (rc == 0) {
		base_header(h, e, e->type, size);
		if (l.cut == -2) {
			memcpy(h + H_NAME, l.full, l.nlen);
		} else if (l.cut >= 0) {
			memcpy(h + H_PREFIX, l.full, (size_t)l.cut);
			memcpy(h + H_NAME, l.full + l.cut + 1, l.nlen - (size_t)l.cut - 1);
		} else {
			/* the pax path= is what counts; keep a recognisable head here */
			memcpy(h + H_NAME, l.full, NAME_MAX_LEN);
		}
		memcpy(h + H_LINKNAME, l.link, l.llen > NAME_MAX_LEN ? NAME_MAX_LEN : l.llen);
		rc = write_block(t, h);
	}
	layout_free(&l);
	if (rc)
		return rc;
	t->left = size;
	t->pad = padded(size) - size;
	return 0;
}

int devkit__tar_data(devkit__tar *t, const void *data, size_t len)
{
	if (t->rc)
		return t->rc;
	if (len > t->left)
		return t->rc = devkit__error_set(DEVKIT_EINVAL, "tar: %zu data bytes where the file "
			"needs %llu more", len, (unsigned long long)t->left);
	int rc = put(t, data, len);
	if (rc)
		return rc;
	t->left -= len;
	if (t->left == 0 && t->pad) {
		rc = put(t, NULL, t->pad);
		t->pad = 0;
	}
	return rc;
}

int devkit__tar_finish(devkit__tar *t)
{
	if (t->rc)
		return t->rc;
	if (t->left)
		return t->rc = devkit__error_set(DEVKIT_EINVAL, "tar: the end of the archive before "
			"the %llu data bytes the last file still needs", (unsigned long long)t->left);
	int rc = put(t, NULL, 2 * DEVKIT__TAR_BLOCK);
	if (rc == 0 && t->total % DEVKIT__TAR_RECORD)
		rc = put(t, NULL, DEVKIT__TAR_RECORD - t->total % DEVKIT__TAR_RECORD);
	return rc ? rc : flush(t);
}
