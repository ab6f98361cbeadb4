/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the deploy tests (test_deploy.c, test_deploy_cli.c): a local
 * tree with the awkward cases a build output can have, and a byte-for-byte
 * comparison of a local tree with what landed in the container's sandbox.
 * Include after live_test.h.
 */
#ifndef DEVKIT_TEST_DEPLOY_TEST_H
#define DEVKIT_TEST_DEPLOY_TEST_H

#include <dirent.h>
#include <errno.h>
#include <sys/time.h>

/* A name with spaces, quotes and non-ASCII letters. */
#define DT_ODD_NAME "it's a \"quoted\" n\xc3\xa4me \xe2\x9c\x93.txt"
/* A 20 MB file. */
#define DT_BIG_SIZE (20u * 1000 * 1000)

static inline void dt_mkdirs(const char *path)
{
	char buf[2048];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s == '/') {
			*s = '\0';
			mkdir(buf, 0755);
			*s = '/';
		}
	}
	mkdir(buf, 0755);
}

static inline void dt_write(const char *root, const char *rel, const void *data, size_t len,
	mode_t mode)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/%s", root, rel) > 0);
	char *slash = strrchr(p, '/');
	*slash = '\0';
	dt_mkdirs(p);
	*slash = '/';
	FILE *f = fopen(p, "wb");
	cr_assert_not_null(f, "cannot write %s: %s", p, strerror(errno));
	if (len)
		cr_assert_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	cr_assert_eq(chmod(p, mode), 0);
	free(p);
}

/* Set a file's mtime (seconds) without following a symlink. */
static inline void dt_set_mtime(const char *root, const char *rel, time_t t)
{
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/%s", root, rel) > 0);
	struct timeval tv[2] = { { t, 0 }, { t, 0 } };
	cr_assert_eq(lutimes(p, tv), 0, "%s: %s", p, strerror(errno));
	free(p);
}

/* A deep path (over 100 bytes, split by ustar's prefix) and a name longer
 * than 100 bytes (a pax header), filled by dt_make_tree. */
static char dt_deep[300], dt_long[300];

/* The tree under root: nested directories, the odd name, the deep and
 * the long path, an empty file, an executable, a symlink, a 20 MB file
 * (big: 0 leaves it out). Returns the number of files and symlinks. */
static inline int dt_make_tree(const char *root, int big)
{
	dt_mkdirs(root);
	dt_write(root, "version.txt", "v1\n", 3, 0644);
	dt_write(root, "bin/run.sh", "#!/bin/sh\necho run\n", 19, 0755);
	dt_write(root, "conf/app/settings.yaml", "a: 1\nb: [2, 3]\n", 15, 0640);
	dt_write(root, "conf/" DT_ODD_NAME, "odd\n", 4, 0644);
	dt_write(root, "empty", "", 0, 0644);
	snprintf(dt_deep, sizeof(dt_deep), "lib/%s/%s/deep.properties",
		"a-rather-long-directory-name-for-the-classes-of-the-app",
		"and-another-level-below-it-to-pass-the-hundred-bytes");
	dt_write(root, dt_deep, "deep=1\n", 7, 0644);
	char comp[160];
	memset(comp, 'n', 140);
	comp[140] = '\0';
	snprintf(dt_long, sizeof(dt_long), "lib/%s.jar", comp);
	dt_write(root, dt_long, "PK\x03\x04 not really a jar", 21, 0644);
	char *p = NULL;
	cr_assert(asprintf(&p, "%s/current", root) > 0);
	cr_assert_eq(symlink("conf/app/settings.yaml", p), 0);
	free(p);
	dt_mkdirs(root);
	cr_assert(asprintf(&p, "%s/logs", root) > 0);  /* an empty directory */
	mkdir(p, 0750);
	free(p);
	int files = 8;
	if (big) {
		unsigned char *data = malloc(DT_BIG_SIZE);
		uint32_t x = 2463534242u;
		for (size_t i = 0; i < DT_BIG_SIZE; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			data[i] = (unsigned char)x;
		}
		dt_write(root, "big.bin", data, DT_BIG_SIZE, 0644);
		free(data);
		files++;
	}
	/* mtimes in the past, so that "changed" is unambiguous */
	dt_set_mtime(root, "version.txt", 1700000000);
	dt_set_mtime(root, "current", 1700000100);
	return files;
}

static inline int dt_same_bytes(const char *a, const char *b)
{
	FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
	int same = fa && fb;
	char ba[65536], bb[65536];
	while (same) {
		size_t na = fread(ba, 1, sizeof(ba), fa), nb = fread(bb, 1, sizeof(bb), fb);
		if (na != nb || memcmp(ba, bb, na) != 0)
			same = 0;
		if (na == 0)
			break;
	}
	if (fa)
		fclose(fa);
	if (fb)
		fclose(fb);
	return same;
}

/* Every entry under local/rel exists under remote/rel with the same type,
 * bytes, permission bits, mtime (files) and target (symlinks). Returns
 * the number of files and symlinks compared. */
static inline int dt_compare_tree(const char *local, const char *remote, const char *rel)
{
	char *ldir = NULL;
	cr_assert(asprintf(&ldir, "%s%s%s", local, rel[0] ? "/" : "", rel) > 0);
	DIR *d = opendir(ldir);
	cr_assert_not_null(d, "%s", ldir);
	int n = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		char *r = NULL, *lp = NULL, *rp = NULL;
		cr_assert(asprintf(&r, "%s%s%s", rel, rel[0] ? "/" : "", de->d_name) > 0);
		cr_assert(asprintf(&lp, "%s/%s", local, r) > 0);
		cr_assert(asprintf(&rp, "%s/%s", remote, r) > 0);
		struct stat ls, rs;
		cr_assert_eq(lstat(lp, &ls), 0);
		cr_assert_eq(lstat(rp, &rs), 0, "%s did not arrive: %s", r, strerror(errno));
		cr_assert_eq(ls.st_mode & S_IFMT, rs.st_mode & S_IFMT, "%s changed type", r);
		if (S_ISLNK(ls.st_mode)) {
			char lt[512], rt[512];
			ssize_t ln = readlink(lp, lt, sizeof(lt) - 1), rn = readlink(rp, rt, sizeof(rt) - 1);
			cr_assert(ln > 0 && rn > 0);
			lt[ln] = rt[rn] = '\0';
			cr_assert_str_eq(rt, lt, "the target of %s", r);
			n++;
		} else {
			cr_assert_eq(ls.st_mode & 07777, rs.st_mode & 07777, "%s has mode %o, not %o", r,
				rs.st_mode & 07777, ls.st_mode & 07777);
			if (S_ISDIR(ls.st_mode)) {
				n += dt_compare_tree(local, remote, r);
			} else {
				cr_assert_eq(ls.st_size, rs.st_size, "the size of %s", r);
				cr_assert_eq(ls.st_mtime, rs.st_mtime, "the mtime of %s", r);
				cr_assert(dt_same_bytes(lp, rp), "%s differs", r);
				n++;
			}
		}
		free(r);
		free(lp);
		free(rp);
	}
	closedir(d);
	free(ldir);
	return n;
}

#endif
