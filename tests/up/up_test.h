/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers of the `devkit up` tests: a private directory per test holding the
 * devkit.yaml the test writes (and the TMPDIR of the processes it starts),
 * `devkit up` run in the background with its output in a log, its JSON lines
 * read back with jansson, and the checks that nothing is left behind.
 */
#ifndef DEVKIT_UP_TEST_H
#define DEVKIT_UP_TEST_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <ftw.h>
#include <jansson.h>
#include <sys/wait.h>

#include "../tunnel/tunnel_test.h"

static char up_dir[128];       /* the test's directory: devkit.yaml, logs, TMPDIR */
static char up_log[300];
static pid_t up_pid;

/* Keep the user's proxy settings out of curl's way. */
static const char *const up_no_proxy_env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
	"HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=", "NO_PROXY=", "no_proxy=", NULL };

static inline const char *up_devkit(void)
{
	const char *b = getenv("DEVKIT_BUILD_DIR");
	const char *path = tt_fmt("%s/bin/devkit", b && *b ? b : "build");
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

static inline void up_dir_make(void)
{
	snprintf(up_dir, sizeof(up_dir), "/tmp/devkit-up.XXXXXX");
	cr_assert_not_null(mkdtemp(up_dir), "mkdtemp: %s", strerror(errno));
	snprintf(up_log, sizeof(up_log), "%s/up.log", up_dir);
}

static inline int up_remove_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)f;
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static inline void up_kill(void)
{
	if (up_pid > 0) {
		fx_proc_tree_signal(up_pid, SIGKILL, 1);
		fx_proc_reap(up_pid, 5000);
		up_pid = 0;
	}
}

static inline char *up_output(void);

static inline void up_dir_remove(void)
{
	up_kill();
	/* UP_TEST_SHOW=1: what devkit up printed, to read it in full. */
	if (up_dir[0] && getenv("UP_TEST_SHOW") && access(up_log, R_OK) == 0) {
		char *log = up_output();
		fprintf(stderr, "[up] output of devkit up:\n%s[up] end of output\n", log);
		free(log);
	}
	if (up_dir[0])
		nftw(up_dir, up_remove_one, 16, FTW_DEPTH | FTW_PHYS);
	up_dir[0] = '\0';
}

static inline const char *up_config_path(void)
{
	return tt_fmt("%s/devkit.yaml", up_dir);
}

static inline void up_write_config(const char *yaml)
{
	tt_write_file(up_config_path(), yaml);
}

/* The environment of every devkit process a test starts: its temporary
 * files (the router's private control directory) under up_dir. */
static inline const char *const *up_env(void)
{
	static char tmpdir[200];
	static const char *env[2];
	snprintf(tmpdir, sizeof(tmpdir), "TMPDIR=%s", up_dir);
	env[0] = tmpdir;
	env[1] = NULL;
	return env;
}

/* Start `devkit up -f <dir>/devkit.yaml [--json] extra...` in the background;
 * stdout and stderr go to up_log. */
static inline void up_start(int json, const char *const extra[])
{
	const char *argv[32];
	int n = 0;
	argv[n++] = up_devkit();
	argv[n++] = "up";
	argv[n++] = "-f";
	argv[n++] = up_config_path();
	if (json)
		argv[n++] = "--json";
	for (int i = 0; extra && extra[i] && n < 31; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(up_log);
	up_pid = fx_spawn(argv, up_env(), up_log);
	cr_assert_gt(up_pid, 0, "cannot start devkit up");
}

static inline char *up_output(void)
{
	char *log = tt_read_file(up_log);
	return log ? log : strdup("");
}

/* Wait until a complete line of the output contains `needle`; returns that
 * line (static). Fails, with the output, if devkit exits first. */
static inline const char *up_wait_line(const char *needle, int timeout_ms)
{
	static char line[65536];
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		char *log = up_output();
		const char *hit = strstr(log, needle);
		if (hit) {
			const char *start = hit, *end = strchr(hit, '\n');
			while (start > log && start[-1] != '\n')
				start--;
			if (end) {
				snprintf(line, sizeof(line), "%.*s", (int)(end - start), start);
				free(log);
				return line;
			}
		}
		if (up_pid > 0 && fx_proc_reap(up_pid, 0) == 0) {
			up_pid = 0;
			cr_assert_fail("devkit up exited before printing '%s':\n%s", needle, log);
		}
		if (fx_now_ms() > deadline)
			cr_assert_fail("devkit up printed no '%s' in %d ms:\n%s", needle, timeout_ms, log);
		free(log);
		fx_sleep_ms(20);
	}
}

/* Wait for devkit up to exit: its status, or -1 (killed, or still running). */
static inline int up_wait_exit(int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	while (fx_now_ms() < deadline) {
		int status;
		pid_t w = waitpid(up_pid, &status, WNOHANG);
		if (w == up_pid) {
			up_pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		fx_sleep_ms(20);
	}
	return -1;
}

static inline int up_signal(int sig)
{
	cr_assert_eq(kill(up_pid, sig), 0);
	return up_wait_exit(60000);
}

static inline json_t *up_parse(const char *line)
{
	json_error_t err;
	json_t *j = json_loads(line, 0, &err);
	cr_assert_not_null(j, "not JSON (%s): %s", err.text, line);
	return j;
}

static inline const char *up_jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	cr_assert_not_null(s, "no string \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
	return s;
}

static inline long long up_jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_integer(v), "no integer \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
	return json_integer_value(v);
}

/* The forward of that kind in a status object's "forwards". */
static inline json_t *up_forward_of(json_t *status, const char *kind)
{
	json_t *fwds = json_object_get(status, "forwards"), *f;
	size_t i;
	json_array_foreach(fwds, i, f) {
		if (strcmp(json_string_value(json_object_get(f, "kind")), kind) == 0)
			return f;
	}
	cr_assert_fail("no %s forward in %s", kind, json_dumps(status, JSON_COMPACT));
	return NULL;
}

/* `devkit status ARGS...`: its result (caller frees). */
static inline void up_status(const char *const args[], fx_run_result *r)
{
	const char *argv[16];
	int n = 0;
	argv[n++] = up_devkit();
	argv[n++] = "status";
	for (int i = 0; args && args[i] && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, up_env(), NULL, 20000, r), 0);
}

/* 1 if something accepts TCP connections on 127.0.0.1:port. */
static inline int up_listening(int port)
{
	int fd = fx_connect_tcp("127.0.0.1", port);
	if (fd < 0)
		return 0;
	close(fd);
	return 1;
}

/* Processes whose command line mentions `text` (the test's directory):
 * anything devkit started, or devkit itself. */
static inline int up_procs_mentioning(const char *text)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int found = 0;
	cr_assert_not_null(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], cmd[4096];
		if (e->d_name[0] < '1' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%s/cmdline", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		size_t n = fread(cmd, 1, sizeof(cmd) - 1, f);
		fclose(f);
		for (size_t i = 0; i < n; i++)
			if (cmd[i] == '\0')
				cmd[i] = ' ';
		cmd[n] = '\0';
		if (n && strstr(cmd, text)) {
			fprintf(stderr, "[up] still running: %s: %s\n", e->d_name, cmd);
			found++;
		}
	}
	closedir(d);
	return found;
}

/* The bastion's sessions end a moment after the client closes them. */
static inline int up_sshd_sessions(fx_sshd *s, int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	int n;
	while ((n = fx_sshd_connection_count(s)) > 0 && fx_now_ms() < deadline)
		fx_sleep_ms(50);
	return n;
}

#endif
