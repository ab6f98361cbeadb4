/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The ustar writer behind devkit_deploy (src/live/tar_writer.h): archives
 * it writes are unpacked by the system's GNU tar and by busybox tar -- the
 * two tars found in images -- into exactly the files that were described
 * (names long enough to need the prefix split and a pax header, unicode,
 * spaces and quotes, modes, mtimes, symlinks with long targets, empty
 * files), and its size is known before it is written, which deploy needs
 * with servers that cannot half-close stdin.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <devkit.h>

#include "core/error.h"
#include "fixtures.h"
#include "live/tar_writer.h"

extern char **environ;

static char dir[256];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/devkit-tar-XXXXXX");
	cr_assert(mkdtemp(dir));
}

static void teardown(void)
{
	const char *argv[] = { "rm", "-rf", dir, NULL };
	fx_run_result r;
	if (dir[0] && fx_run(argv, NULL, NULL, 20000, &r) == 0)
		fx_run_result_free(&r);
}

TestSuite(tar_writer, .init = setup, .fini = teardown, .timeout = 60);

static const char *path(const char *name)
{
	static char ring[8][1024];
	static int next;
	char *p = ring[next++ % 8];
	snprintf(p, sizeof(ring[0]), "%s/%s", dir, name);
	return p;
}

static int to_file(void *user, const void *data, size_t len)
{
	return fwrite(data, 1, len, user) == len ? 0 : DEVKIT_EIO;
}

/* What goes in, and what must come out. */
typedef struct item {
	char name[400];
	int type;
	unsigned mode;
	int64_t mtime;
	char content[64];
	char link[300];
} item;

static item items[16];
static int n_items;

static item *add(const char *name, int type, unsigned mode, const char *content,
	const char *link)
{
	item *it = &items[n_items++];
	memset(it, 0, sizeof(*it));
	snprintf(it->name, sizeof(it->name), "%s", name);
	it->type = type;
	it->mode = mode;
	it->mtime = 1700000000 + n_items * 1000;
	snprintf(it->content, sizeof(it->content), "%s", content ? content : "");
	snprintf(it->link, sizeof(it->link), "%s", link ? link : "");
	return it;
}

static void describe_tree(void)
{
	char deep[400], longest[400], target[300];
	n_items = 0;
	add("top", DEVKIT__TAR_DIR, 0755, NULL, NULL);
	add("top/plain.txt", DEVKIT__TAR_FILE, 0644, "plain\n", NULL);
	add("top/run.sh", DEVKIT__TAR_FILE, 0755, "#!/bin/sh\necho hi\n", NULL);
	add("top/empty", DEVKIT__TAR_FILE, 0600, "", NULL);
	add("top/it's a \"name\" \xc3\xa9t\xc3\xa9 \xe2\x9c\x93.txt", DEVKIT__TAR_FILE, 0644,
		"unicode\n", NULL);
	/* 139 bytes: fits only by splitting into prefix and name; its directory
	 * (125 with the '/') does not split: a pax header */
	char zeros[200];
	snprintf(zeros, sizeof(zeros), "top/%0120d", 0);
	snprintf(deep, sizeof(deep), "%s/split-name.txt", zeros);
	add(zeros, DEVKIT__TAR_DIR, 0755, NULL, NULL);
	add(deep, DEVKIT__TAR_FILE, 0644, "split\n", NULL);
	/* a final component over 100 bytes: only a pax header can carry it */
	char comp[160];
	memset(comp, 'x', 150);
	comp[150] = '\0';
	snprintf(longest, sizeof(longest), "top/%s", comp);
	add(longest, DEVKIT__TAR_FILE, 0640, "pax\n", NULL);
	add("top/link", DEVKIT__TAR_SYMLINK, 0777, NULL, "plain.txt");
	memset(target, 'y', 200);
	target[200] = '\0';
	memcpy(target, "../nowhere/", 11);
	add("top/long-link", DEVKIT__TAR_SYMLINK, 0777, NULL, target);
	add("top/sub/dir", DEVKIT__TAR_DIR, 0700, NULL, NULL);
}

static long write_archive(const char *file)
{
	FILE *f = fopen(file, "wb");
	cr_assert_not_null(f);
	devkit__tar t;
	cr_assert_eq(devkit__tar_init(&t, to_file, f, 1000), 0);
	for (int i = 0; i < n_items; i++) {
		item *it = &items[i];
		devkit__tar_entry e = { it->name, it->type, it->mode, it->mtime,
			strlen(it->content), it->link };
		cr_assert_eq(devkit__tar_header(&t, &e), 0, "%s", devkit_error_last()->message);
		if (it->type == DEVKIT__TAR_FILE && it->content[0])
			cr_assert_eq(devkit__tar_data(&t, it->content, strlen(it->content)), 0);
	}
	cr_assert_eq(devkit__tar_finish(&t), 0);
	devkit__tar_dispose(&t);
	long size = ftell(f);
	fclose(f);
	return size;
}

static void check_extracted(const char *root, const char *tool)
{
	for (int i = 0; i < n_items; i++) {
		item *it = &items[i];
		char *p = NULL;
		cr_assert(asprintf(&p, "%s/%s", root, it->name) > 0);
		struct stat st;
		int ok = lstat(p, &st);
		char *at = strdupa(p);
		free(p);
		p = at;
		cr_assert_eq(ok, 0, "%s did not make %s: %s", tool, it->name,
			strerror(errno));
		if (it->type == DEVKIT__TAR_SYMLINK) {
			char target[400];
			ssize_t n = readlink(p, target, sizeof(target) - 1);
			cr_assert_gt(n, 0, "%s: %s is not a symlink", tool, it->name);
			target[n] = '\0';
			cr_assert_str_eq(target, it->link, "%s: the target of %s", tool, it->name);
			continue;
		}
		cr_assert_eq(st.st_mode & 07777, it->mode, "%s: %s has mode %o, not %o", tool,
			it->name, st.st_mode & 07777, it->mode);
		if (it->type == DEVKIT__TAR_DIR) {
			cr_assert(S_ISDIR(st.st_mode), "%s: %s is not a directory", tool, it->name);
			continue;
		}
		cr_assert(S_ISREG(st.st_mode), "%s: %s is not a file", tool, it->name);
		cr_assert_eq((int64_t)st.st_mtime, it->mtime, "%s: the mtime of %s", tool, it->name);
		FILE *f = fopen(p, "rb");
		char buf[128] = { 0 };
		size_t n = fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
		cr_assert_eq(n, strlen(it->content), "%s: the size of %s", tool, it->name);
		cr_assert_str_eq(buf, it->content, "%s: the content of %s", tool, it->name);
	}
}

static void extract_with(const char *const argv_head[], const char *archive, const char *into,
	const char *tool)
{
	cr_assert_eq(mkdir(into, 0755), 0);
	const char *argv[12];
	int n = 0;
	for (; argv_head[n]; n++)
		argv[n] = argv_head[n];
	argv[n++] = "-xof";
	argv[n++] = archive;
	argv[n++] = "-C";
	argv[n++] = into;
	argv[n] = NULL;
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s -x failed: %s", tool, r.err);
	cr_assert_eq(r.err_len, 0, "%s complained: %s", tool, r.err);
	fx_run_result_free(&r);
	check_extracted(into, tool);
}

Test(tar_writer, gnu_and_busybox_tar_unpack_it_as_described)
{
	describe_tree();
	const char *archive = path("a.tar");
	long size = write_archive(archive);
	cr_assert_gt(size, 0);
	cr_assert_eq(size % DEVKIT__TAR_RECORD, 0, "not padded to a record: %ld", size);

	static const char *const gnu[] = { "tar", NULL };
	extract_with(gnu, archive, path("gnu"), "GNU tar");
	if (access("/usr/bin/busybox", X_OK) == 0 || access("/bin/busybox", X_OK) == 0) {
		static const char *const bb[] = { "busybox", "tar", NULL };
		extract_with(bb, archive, path("busybox"), "busybox tar");
	} else {
		cr_log_warn("busybox is not installed: only GNU tar was checked");
	}

	/* and lists it with no owner names: nothing to map to local users */
	const char *argv[] = { "tar", "--numeric-owner", "-tvf", archive, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, " 0/0 "), "owner 0/0 expected: %s", r.out);
	fx_run_result_free(&r);
}

/* Start argv with a pipe as stdin, write the archive, keep the pipe open:
 * the tar must end by itself. Returns its exit status, -1 if it did not end
 * within 10 s. */
static int feed_without_eof(const char *const argv[], const char *archive)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, p[0], 0);
	posix_spawn_file_actions_addclose(&fa, p[1]);
	posix_spawn_file_actions_addclose(&fa, p[0]);
	pid_t pid;
	cr_assert_eq(posix_spawnp(&pid, argv[0], &fa, NULL, (char *const *)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	close(p[0]);
	signal(SIGPIPE, SIG_IGN);
	FILE *f = fopen(archive, "rb");
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		cr_assert_eq(write(p[1], buf, n), (ssize_t)n);
	fclose(f);
	int status = -1, ended = 0;
	for (int i = 0; i < 1000 && !ended; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			ended = 1;
		else
			usleep(10000);
	}
	close(p[1]);
	if (!ended) {
		waitpid(pid, &status, 0);
		return -1;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Deploy over a server that cannot half-close stdin relies on this: GNU
 * tar stops at the end blocks, busybox tar reads on to the end of its
 * input (it drains the pipe) -- so deploy announces the archive's size and
 * puts `head -c SIZE` in front, which must end both. */
Test(tar_writer, tar_ends_without_eof_given_the_announced_size)
{
	describe_tree();
	const char *archive = path("a.tar");
	long size = write_archive(archive);
	uint64_t expect = 0, n;
	for (int i = 0; i < n_items; i++) {
		devkit__tar_entry e = { items[i].name, items[i].type, items[i].mode, items[i].mtime,
			strlen(items[i].content), items[i].link };
		cr_assert_eq(devkit__tar_entry_size(&e, &n), 0);
		expect += n;
	}
	expect += devkit__tar_end_size(expect);
	cr_assert_eq((uint64_t)size, expect, "announced %llu bytes, wrote %ld",
		(unsigned long long)expect, size);

	cr_assert_eq(mkdir(path("gnu"), 0755), 0);
	const char *gnu[] = { "tar", "-xof", "-", "-C", path("gnu"), NULL };
	cr_assert_eq(feed_without_eof(gnu, archive), 0, "GNU tar waited for the end of its input");
	check_extracted(path("gnu"), "GNU tar");
	if (access("/usr/bin/busybox", X_OK) == 0 || access("/bin/busybox", X_OK) == 0) {
		cr_assert_eq(mkdir(path("bb"), 0755), 0);
		char *cmd = NULL;
		cr_assert(asprintf(&cmd, "head -c %ld | busybox tar -xof - -C %s", size,
			path("bb")) > 0);
		const char *bb[] = { "sh", "-c", cmd, NULL };
		cr_assert_eq(feed_without_eof(bb, archive), 0,
			"head -c did not end busybox tar's input");
		free(cmd);
		check_extracted(path("bb"), "busybox tar");
	}
}

static size_t sunk;

static int counting_sink(void *user, const void *data, size_t len)
{
	(void)data;
	sunk += len;
	return sunk > (size_t)(uintptr_t)user ? devkit__error_set(DEVKIT_ECLOSED, "sink closed")
		: 0;
}

Test(tar_writer, sizes_past_the_octal_field_use_base_256)
{
	/* 8 GiB does not fit 11 octal digits: GNU tar's base-256 form */
	const char *archive = path("big.tar");
	FILE *f = fopen(archive, "wb");
	devkit__tar t;
	cr_assert_eq(devkit__tar_init(&t, to_file, f, 0), 0);
	devkit__tar_entry e = { "big.bin", DEVKIT__TAR_FILE, 0644, 1700000000,
		8ull * 1024 * 1024 * 1024, NULL };
	cr_assert_eq(devkit__tar_header(&t, &e), 0);
	cr_assert_eq(devkit__tar_data(&t, "abc", 3), 0);
	/* not finished: the header block is enough for a listing */
	t.left = 0;
	t.pad = 0;
	cr_assert_eq(devkit__tar_finish(&t), 0);
	devkit__tar_dispose(&t);
	fclose(f);
	const char *argv[] = { "tar", "-tvf", archive, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 20000, &r), 0);
	cr_assert(strstr(r.out, "8589934592") && strstr(r.out, "big.bin"),
		"GNU tar lists: %s / %s", r.out, r.err);
	fx_run_result_free(&r);
}

Test(tar_writer, misuse_and_sink_errors_are_reported)
{
	devkit__tar t;
	sunk = 0;
	cr_assert_eq(devkit__tar_init(&t, counting_sink, (void *)(uintptr_t)1000000, 512), 0);
	devkit__tar_entry e = { "a", DEVKIT__TAR_FILE, 0644, 1, 10, NULL };
	cr_assert_eq(devkit__tar_header(&t, &e), 0);
	cr_assert_eq(devkit__tar_data(&t, "0123456789x", 11), DEVKIT_EINVAL);
	devkit__tar_dispose(&t);

	cr_assert_eq(devkit__tar_init(&t, counting_sink, (void *)(uintptr_t)1000000, 512), 0);
	cr_assert_eq(devkit__tar_header(&t, &e), 0);
	cr_assert_eq(devkit__tar_data(&t, "01234", 5), 0);
	cr_assert_eq(devkit__tar_header(&t, &e), DEVKIT_EINVAL, "a header before the data ended");
	cr_assert(strstr(devkit_error_last()->message, "5 data bytes"), "%s",
		devkit_error_last()->message);
	devkit__tar_dispose(&t);

	/* the sink fails after 2 KiB: the failure comes back, and stays */
	sunk = 0;
	cr_assert_eq(devkit__tar_init(&t, counting_sink, (void *)(uintptr_t)2048, 512), 0);
	devkit__tar_entry big = { "b", DEVKIT__TAR_FILE, 0644, 1, 100000, NULL };
	cr_assert_eq(devkit__tar_header(&t, &big), 0);
	char buf[1000] = { 0 };
	int rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = devkit__tar_data(&t, buf, sizeof(buf));
	cr_assert_eq(rc, DEVKIT_ECLOSED);
	cr_assert_eq(devkit__tar_finish(&t), DEVKIT_ECLOSED);
	devkit__tar_dispose(&t);
}
