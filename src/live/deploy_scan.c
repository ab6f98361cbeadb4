/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The local side of devkit_deploy: what is under local_path, with the
 * size, mode and modification time that the manifest compares.
 */
#include "deploy_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

typedef struct scan {
	devkit__deploy_list *l;
	devkit_deploy_progress_cb progress;
	void *user;
} scan;

void devkit__deploy_list_free(devkit__deploy_list *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->n; i++) {
		free(l->v[i].rel);
		free(l->v[i].local);
		free(l->v[i].link);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static const char *type_word(mode_t m)
{
	if (S_ISFIFO(m))
		return "a named pipe (FIFO)";
	if (S_ISSOCK(m))
		return "a socket";
	if (S_ISCHR(m))
		return "a character device";
	if (S_ISBLK(m))
		return "a block device";
	return "of an unknown type";
}

static int oom(void)
{
	return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory while reading the local "
		"files");
}

static int read_link(const char *path, const struct stat *st, char **out)
{
	size_t cap = st->st_size > 0 ? (size_t)st->st_size + 1 : 256;
	for (;;) {
		char *buf = malloc(cap);
		if (!buf)
			return oom();
		ssize_t n = readlink(path, buf, cap);
		if (n < 0) {
			int e = errno;
			free(buf);
			return devkit__error_set(DEVKIT_EIO, "deploy: cannot read the symlink %s: %s",
				path, strerror(e));
		}
		if ((size_t)n < cap) {
			buf[n] = '\0';
			*out = buf;
			return 0;
		}
		free(buf);
		cap *= 2;
	}
}

/* Add the entry for `local` (already lstat'ed or stat'ed) named `rel`. */
static int add(scan *s, char *local, char *rel, const struct stat *st)
{
	devkit__deploy_list *l = s->l;
	devkit__deploy_entry e = { 0 };
	e.local = local;
	e.rel = rel;
	e.mode = (unsigned)st->st_mode & 07777;
	e.mtime = (int64_t)st->st_mtime;
	if (S_ISREG(st->st_mode)) {
		e.type = DEVKIT__DEPLOY_FILE;
		e.size = (uint64_t)st->st_size;
	} else if (S_ISDIR(st->st_mode)) {
		e.type = DEVKIT__DEPLOY_DIR;
	} else if (S_ISLNK(st->st_mode)) {
		e.type = DEVKIT__DEPLOY_SYMLINK;
		int rc = read_link(local, st, &e.link);
		if (rc < 0) {
			free(local);
			free(rel);
			return rc;
		}
		e.size = strlen(e.link);
	} else {
		int rc = devkit__error_set(DEVKIT_EINVAL, "deploy: %s is %s: only regular files, "
			"directories and symlinks can be deployed (move it out of the way)", local,
			type_word(st->st_mode));
		free(local);
		free(rel);
		return rc;
	}
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		devkit__deploy_entry *v = realloc(l->v, cap * sizeof(*v));
		if (!v) {
			free(local);
			free(rel);
			free(e.link);
			return oom();
		}
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = e;
	if (e.type != DEVKIT__DEPLOY_DIR) {
		l->files++;
		if (e.type == DEVKIT__DEPLOY_FILE)
			l->bytes += e.size;
		if (s->progress && l->files % 256 == 0)
			s->progress(s->user, "scan", l->files, 0);
	}
	return 0;
}

static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + 1 + lb + 1);
	if (!p)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir, sorted; NULL-terminated in *out. */
static int list_dir(const char *dir, char ***out, size_t *count)
{
	*out = NULL;
	*count = 0;
	DIR *d = opendir(dir);
	if (!d)
		return devkit__error_set(DEVKIT_EIO, "deploy: cannot read the directory %s: %s", dir,
			strerror(errno));
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 32;
			char **v = realloc(names, cap * sizeof(*v));
			if (!v) {
				rc = oom();
				break;
			}
			names = v;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = oom();
			break;
		}
		n++;
		errno = 0;
	}
	if (rc == 0 && errno)
		rc = devkit__error_set(DEVKIT_EIO, "deploy: cannot read the directory %s: %s", dir,
			strerror(errno));
	closedir(d);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	if (n)
		qsort(names, n, sizeof(*names), cmp_names);
	*out = names;
	*count = n;
	return 0;
}

static int walk(scan *s, const char *dir, const char *rel_dir)
{
	char **names;
	size_t n;
	int rc = list_dir(dir, &names, &n);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < n && rc == 0; i++) {
		if (!rel_dir && (strcmp(names[i], DEVKIT__DEPLOY_MANIFEST) == 0 ||
			strcmp(names[i], DEVKIT__DEPLOY_MANIFEST_NEW) == 0)) {
			rc = devkit__error_set(DEVKIT_EINVAL, "deploy: %s/%s: the name is reserved for "
				"the deploy's manifest in the container (rename it)", dir, names[i]);
			break;
		}
		char *local = join(dir, names[i]);
		char *rel = rel_dir ? join(rel_dir, names[i]) : strdup(names[i]);
		if (!local || !rel) {
			free(local);
			free(rel);
			rc = oom();
			break;
		}
		struct stat st;
		if (lstat(local, &st) != 0) {
			rc = devkit__error_set(DEVKIT_EIO, "deploy: cannot read %s: %s", local,
				strerror(errno));
			free(local);
			free(rel);
			break;
		}
		rc = add(s, local, rel, &st);
		if (rc == 0 && S_ISDIR(st.st_mode)) {
			/* the array moves as it grows, the strings do not */
			const devkit__deploy_entry *e = &s->l->v[s->l->n - 1];
			rc = walk(s, e->local, e->rel);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return rc;
}

int devkit__deploy_scan(const char *local_path, devkit__deploy_list *out,
	devkit_deploy_progress_cb progress, void *user)
{
	memset(out, 0, sizeof(*out));
	scan s = { out, progress, user };
	struct stat st;
	if (stat(local_path, &st) != 0)
		return devkit__error_set(DEVKIT_EIO, "deploy: cannot read the local path %s: %s",
			local_path, strerror(errno));
	int rc;
	if (S_ISDIR(st.st_mode)) {
		rc = walk(&s, local_path, NULL);
	} else if (S_ISREG(st.st_mode)) {
		/* the base name, trailing slashes aside */
		size_t len = strlen(local_path);
		while (len > 1 && local_path[len - 1] == '/')
			len--;
		size_t start = len;
		while (start && local_path[start - 1] != '/')
			start--;
		char *local = strdup(local_path), *rel = strndup(local_path + start, len - start);
		if (!local || !rel) {
			free(local);
			free(rel);
			rc = oom();
		} else if (strcmp(rel, DEVKIT__DEPLOY_MANIFEST) == 0 ||
			strcmp(rel, DEVKIT__DEPLOY_MANIFEST_NEW) == 0) {
			rc = devkit__error_set(DEVKIT_EINVAL, "deploy: %s: the name is reserved for the "
				"deploy's manifest in the container (rename it)", local_path);
			free(local);
			free(rel);
		} else {
			rc = add(&s, local, rel, &st);
		}
	} else {
		rc = devkit__error_set(DEVKIT_EINVAL, "deploy: %s is %s: only regular files, "
			"directories and symlinks can be deployed", local_path, type_word(st.st_mode));
	}
	if (rc < 0) {
		devkit__deploy_list_free(out);
		return rc;
	}
	if (progress)
		progress(user, "scan", out->files, out->files);
	return 0;
}
