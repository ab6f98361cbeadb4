/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The keep-alive command really works: the main container's command of a
 * transformed Pod is run here as the kubelet would run it (after Kubernetes'
 * $(VAR)/$$ expansion), under dash, bash and busybox ash when installed, and
 * driven with the devkit-app tool it writes: start, stop, restart, status,
 * an app that exits by itself, SIGTERM from the kubelet, the log file.
 * DEVKIT_DIR moves /devkit into a temporary directory for the test.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <time.h>

#include "replica_test.h"

typedef struct ka {
	char dir[64];
	pid_t pid;
} ka;

/* What the kubelet does to a command's strings: $$ -> $, $(VAR) of a
 * variable it knows -> its value (none here, so left as is). */
static char *kubelet_expand(const char *s)
{
	char *out = malloc(strlen(s) + 1), *q = out;
	for (const char *p = s; *p; p++) {
		*q++ = *p;
		if (p[0] == '$' && p[1] == '$')
			p++;
	}
	*q = '\0';
	return out;
}

static json_t *keepalive_command(const char *command, const char *log_file)
{
	json_t *src = rt_load("nginx-deployment.yaml");
	devkit_replica_options o = DEVKIT_REPLICA_OPTIONS_INIT;
	o.source_kind = DEVKIT_REPLICA_FROM_DEPLOYMENT;
	o.source_name = "web";
	o.owner = "alice";
	o.container = "nginx";
	o.keep_alive = 1;
	o.command = command;
	o.log_file = log_file;
	devkit__replica_objects out;
	rt_transform(&o, src, NULL, NULL, &out);
	json_t *cmd = json_incref(json_object_get(rt_container(out.pod, "nginx"), "command"));
	devkit__replica_objects_clear(&out);
	json_decref(src);
	return cmd;
}

static int shell_available(const char *shell)
{
	return access(shell, X_OK) == 0;
}

/* Start the command with `shell` ("/bin/sh", "/bin/bash", "/bin/busybox"). */
static void ka_start(ka *k, const json_t *cmd, const char *shell)
{
	snprintf(k->dir, sizeof(k->dir), "/tmp/devkit-ka-XXXXXX");
	cr_assert(mkdtemp(k->dir));
	char *argv[64];
	size_t n = 0, i;
	json_t *v;
	int busybox = strstr(shell, "busybox") != NULL;
	argv[n++] = (char *)shell;
	if (busybox)
		argv[n++] = "sh";
	json_array_foreach(cmd, i, v) {
		if (i == 0) {
			cr_assert_str_eq(json_string_value(v), "/bin/sh");
			continue;
		}
		argv[n++] = kubelet_expand(json_string_value(v));
	}
	argv[n] = NULL;
	char out[128];
	snprintf(out, sizeof(out), "%s.out", k->dir);
	k->pid = fork();
	cr_assert(k->pid >= 0);
	if (k->pid == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 1);
		dup2(fd, 2);
		setenv("DEVKIT_DIR", k->dir, 1);
		setpgid(0, 0); /* its own group, so a failed test can kill it all */
		execv(shell, argv);
		_exit(127);
	}
	for (i = busybox ? 2 : 1; i < n; i++)
		free(argv[i]);
}

static void ka_read(const ka *k, const char *file, char *buf, size_t cap)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", k->dir, file);
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* Wait up to 15 s for run/state to start with `prefix`. */
static void ka_wait_state(const ka *k, const char *prefix)
{
	char state[256] = "";
	for (int i = 0; i < 150; i++) {
		ka_read(k, "run/state", state, sizeof(state));
		if (strncmp(state, prefix, strlen(prefix)) == 0)
			return;
		usleep(100 * 1000);
	}
	char out[4096], path[128];
	snprintf(path, sizeof(path), "%s.out", k->dir);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(out, 1, sizeof(out) - 1, f) : 0;
	out[n] = '\0';
	if (f)
		fclose(f);
	cr_assert_fail("state \"%s\" is not \"%s...\"; output:\n%s", state, prefix, out);
}

/* Run devkit-app as a user in `kubectl exec` would; returns its exit code. */
static int ka_app(const ka *k, const char *verb, char *out, size_t cap)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "%s/bin/devkit-app %s 2>&1", k->dir, verb);
	FILE *p = popen(cmd, "r");
	cr_assert(p);
	size_t n = fread(out, 1, cap - 1, p);
	out[n] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int app_pid(const ka *k)
{
	char state[256];
	int pid = 0;
	ka_read(k, "run/state", state, sizeof(state));
	sscanf(state, "running pid %d", &pid);
	return pid;
}

/* SIGTERM, as the kubelet sends on delete: the script stops the app and ends. */
static void ka_terminate(ka *k)
{
	int status = 0;
	kill(k->pid, SIGTERM);
	for (int i = 0; i < 150; i++) {
		if (waitpid(k->pid, &status, WNOHANG) == k->pid) {
			cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
				"keep-alive ended with status %d", status);
			char state[64];
			ka_read(k, "run/state", state, sizeof(state));
			cr_assert_str_eq(state, "terminated\n");
			k->pid = 0;
			return;
		}
		usleep(100 * 1000);
	}
	kill(-k->pid, SIGKILL);
	cr_assert_fail("the keep-alive did not end on SIGTERM");
}

static void ka_cleanup(ka *k)
{
	char cmd[160];
	if (k->pid > 0) {
		kill(-k->pid, SIGKILL);
		waitpid(k->pid, NULL, 0);
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s' '%s.out'", k->dir, k->dir);
	cr_assert_eq(system(cmd), 0);
}

static void control_cycle(const char *shell)
{
	if (!shell_available(shell))
		cr_skip_test("%s is not installed", shell);
	/* an app that says where it is ($ as the shell sees it) and ends on TERM */
	json_t *cmd = keepalive_command("echo app-started-in $PWD; trap 'echo app-got-term; exit 0' TERM; "
		"while :; do sleep 1; done", NULL);
	ka k;
	char out[512];
	ka_start(&k, cmd, shell);
	ka_wait_state(&k, "running pid ");
	int first = app_pid(&k);
	cr_assert_gt(first, 0);
	cr_assert_eq(kill(first, 0), 0);

	cr_assert_eq(ka_app(&k, "status", out, sizeof(out)), 0, "%s", out);
	cr_assert(strncmp(out, "running pid", 11) == 0, "%s", out);

	cr_assert_eq(ka_app(&k, "stop", out, sizeof(out)), 0, "%s", out);
	cr_assert(strncmp(out, "stopped since", 13) == 0, "%s", out);
	cr_assert_neq(kill(first, 0), 0, "the app still runs after stop");
	cr_assert_neq(ka_app(&k, "status", out, sizeof(out)), 0, "status of a stopped app is 0");
	cr_assert_eq(kill(k.pid, 0), 0, "the container's process ended with the app");

	cr_assert_eq(ka_app(&k, "start", out, sizeof(out)), 0, "%s", out);
	cr_assert(strncmp(out, "running pid", 11) == 0, "%s", out);
	int second = app_pid(&k);
	cr_assert(second > 0 && second != first);

	cr_assert_eq(ka_app(&k, "restart", out, sizeof(out)), 0, "%s", out);
	int third = app_pid(&k);
	cr_assert(third > 0 && third != second, "restart kept pid %d", third);
	cr_assert_neq(kill(second, 0), 0);

	cr_assert_eq(ka_app(&k, "bogus", out, sizeof(out)), 2);
	cr_assert(strstr(out, "usage: devkit-app start|stop|restart|status"), "%s", out);

	ka_terminate(&k);
	cr_assert_neq(kill(third, 0), 0, "the app outlived its container");
	char log[4096];
	snprintf(out, sizeof(out), "%s.out", k.dir);
	FILE *f = fopen(out, "r");
	size_t n = fread(log, 1, sizeof(log) - 1, f);
	log[n] = '\0';
	fclose(f);
	cr_assert(strstr(log, "app-started-in /"), "%s", log);
	cr_assert(strstr(log, "app-got-term"), "%s", log);
	ka_cleanup(&k);
	json_decref(cmd);
}

Test(keepalive, dash)
{
	control_cycle("/bin/sh");
}

Test(keepalive, bash)
{
	control_cycle("/bin/bash");
}

Test(keepalive, busybox)
{
	control_cycle("/bin/busybox");
}

Test(keepalive, app_exits_container_stays)
{
	json_t *cmd = keepalive_command("echo about-to-fail; exit 3", NULL);
	ka k;
	char out[512];
	ka_start(&k, cmd, "/bin/sh");
	ka_wait_state(&k, "exited since");
	char state[256];
	ka_read(&k, "run/state", state, sizeof(state));
	cr_assert(strstr(state, "(exit status 3)"), "%s", state);
	usleep(300 * 1000);
	cr_assert_eq(kill(k.pid, 0), 0, "the keep-alive ended with the app");
	/* started again on demand, and fails again the same way */
	cr_assert_eq(ka_app(&k, "start", out, sizeof(out)), 0, "%s", out);
	ka_wait_state(&k, "exited since");
	ka_terminate(&k);
	ka_cleanup(&k);
	json_decref(cmd);
}

Test(keepalive, log_file)
{
	json_t *cmd = keepalive_command("echo to-the-log; echo err-to-the-log >&2; sleep 30",
		"/tmp/devkit-ka-log/sub/app.log");
	ka k;
	ka_start(&k, cmd, "/bin/sh");
	ka_wait_state(&k, "running pid ");
	char log[512] = "";
	for (int i = 0; i < 50 && !strstr(log, "err-to-the-log"); i++) {
		FILE *f = fopen("/tmp/devkit-ka-log/sub/app.log", "r");
		if (f) {
			size_t n = fread(log, 1, sizeof(log) - 1, f);
			log[n] = '\0';
			fclose(f);
		}
		usleep(100 * 1000);
	}
	cr_assert(strstr(log, "to-the-log"), "%s", log);
	cr_assert(strstr(log, "err-to-the-log"), "%s", log);
	ka_terminate(&k);
	ka_cleanup(&k);
	cr_assert_eq(system("rm -rf /tmp/devkit-ka-log"), 0);
	json_decref(cmd);
}

Test(keepalive, app_ignoring_sigterm_is_killed_after_10s)
{
	json_t *cmd = keepalive_command("trap '' TERM; echo stubborn; while :; do sleep 1; done",
		NULL);
	ka k;
	char out[512];
	ka_start(&k, cmd, "/bin/sh");
	ka_wait_state(&k, "running pid ");
	int app = app_pid(&k);
	time_t t0 = time(NULL);
	cr_assert_eq(ka_app(&k, "stop", out, sizeof(out)), 0, "%s", out);
	time_t took = time(NULL) - t0;
	cr_assert(took >= 9 && took <= 20, "stop took %lds", (long)took);
	cr_assert(strstr(out, "exit status 137"), "%s", out); /* 128 + SIGKILL */
	cr_assert_neq(kill(app, 0), 0);
	ka_terminate(&k);
	ka_cleanup(&k);
	json_decref(cmd);
}
