/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_deploy against a replica whose keep-alive really runs
 * (replica_sandbox.h; exec commands run on this machine in the container's
 * sandbox directory, with the machine's tar): a tree lands byte for byte
 * with modes, mtimes and symlinks; later deploys send only what changed;
 * the app is restarted without restarting the container and sees the new
 * files; and each failure says what went wrong in the container's words.
 */
#include "live_test.h"

#include "deploy_test.h"
#include "k8s/exec_int.h"

TestSuite(deploy, .init = lt_setup, .fini = lt_teardown, .timeout = 240);

static long pid_of(const char *state)
{
	const char *p = strstr(state, "pid ");
	return p ? strtol(p + 4, NULL, 10) : -1;
}

/* Progress calls, as the CLI would see them. */
typedef struct seen {
	int scan, compare, send, restart;
	uint64_t send_done, send_total;
	char order[64];
} seen;

static void on_progress(void *user, const char *stage, uint64_t done, uint64_t total)
{
	seen *s = user;
	char c = stage[0];
	size_t n = strlen(s->order);
	if ((n == 0 || s->order[n - 1] != c) && n + 1 < sizeof(s->order)) {
		s->order[n] = c;
		s->order[n + 1] = '\0';
	}
	if (strcmp(stage, "scan") == 0)
		s->scan++;
	else if (strcmp(stage, "compare") == 0)
		s->compare++;
	else if (strcmp(stage, "send") == 0) {
		s->send++;
		cr_assert_leq(done, total, "send: %llu of %llu", (unsigned long long)done,
			(unsigned long long)total);
		s->send_done = done;
		s->send_total = total;
	} else if (strcmp(stage, "restart") == 0)
		s->restart++;
	else
		cr_assert_fail("unknown stage %s", stage);
}

static devkit_deploy_options opts(const char *local, const char *remote)
{
	devkit_deploy_options o;
	cr_assert_eq(devkit_deploy_options_init(&o, DEVKIT_DEPLOY_OPTIONS_VERSION), 0);
	o.pod = LT_POD;
	o.local_path = local;
	o.remote_dir = remote;
	o.restart = 0;
	return o;
}

static const char *sandbox(const char *rel)
{
	static char ring[4][1024];
	static int next;
	char *p = ring[next++ % 4];
	snprintf(p, sizeof(ring[0]), "%s/%s", lt_replica.dir, rel);
	return p;
}

Test(deploy, a_tree_lands_byte_for_byte_then_only_changes_go)
{
	lt_start("exec sleep 300", "");
	const char *src = kt_path("build");
	int files = dt_make_tree(src, 1);

	devkit_deploy_options o = opts(src, "deploy/app");
	seen s = { 0 };
	o.progress = on_progress;
	o.progress_user = &s;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.files_total, (uint64_t)files);
	cr_assert_eq(r.files_sent, (uint64_t)files);
	cr_assert_eq(r.files_unchanged, 0);
	cr_assert_geq(r.bytes_sent, DT_BIG_SIZE);
	cr_assert_eq(r.restarted, 0);
	cr_assert_eq(dt_compare_tree(src, sandbox("deploy/app"), ""), files);
	cr_assert_str_eq(s.order, "scs", "stages in order: %s", s.order);
	cr_assert_eq(s.send_done, r.bytes_sent);
	cr_assert_eq(s.send_total, r.bytes_sent);
	struct stat st;
	cr_assert_eq(stat(sandbox("deploy/app/.devkit-deploy"), &st), 0, "no manifest");
	cr_assert_neq(stat(sandbox("deploy/app/.devkit-deploy.new"), &st), 0);
	cr_assert_eq(stat(sandbox("deploy/app/logs"), &st), 0, "the empty directory");

	/* nothing changed: nothing goes */
	devkit_deploy_result r2 = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r2), 0, "%s", lt_err());
	cr_assert_eq(r2.files_sent, 0);
	cr_assert_eq(r2.files_unchanged, (uint64_t)files);
	cr_assert_eq(r2.bytes_sent, 0);

	/* one file rewritten (and its mtime moved), one only chmod'ed */
	dt_write(src, "version.txt", "v2, longer\n", 11, 0644);
	cr_assert_eq(chmod(kt_path("build/bin/run.sh"), 0700), 0);
	devkit_deploy_result r3 = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r3), 0, "%s", lt_err());
	cr_assert_eq(r3.files_sent, 2, "sent %llu", (unsigned long long)r3.files_sent);
	cr_assert_eq(r3.files_unchanged, (uint64_t)files - 2);
	cr_assert_eq(r3.bytes_sent, 11 + 19);
	cr_assert_eq(dt_compare_tree(src, sandbox("deploy/app"), ""), files);

	/* same size, mtime one second later: goes */
	dt_write(src, "version.txt", "v3, longer\n", 11, 0644);
	dt_set_mtime(src, "version.txt", 1700000001);
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r3), 0, "%s", lt_err());
	cr_assert_eq(r3.files_sent, 1);
	char *v = lt_read_file("deploy/app/version.txt");
	cr_assert_str_eq(v, "v3, longer\n");
	free(v);

	/* full: everything again */
	o.full = 1;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r3), 0, "%s", lt_err());
	cr_assert_eq(r3.files_sent, (uint64_t)files);
	cr_assert_eq(r3.files_unchanged, 0);
	cr_assert_eq(dt_compare_tree(src, sandbox("deploy/app"), ""), files);
}

Test(deploy, restart_runs_the_new_build_in_the_same_container)
{
	lt_start("cat deploy/app/version.txt; exec sleep 300", "");
	pid_t supervisor = lt_replica.supervisor.pid;
	char before[200];
	fx_replica_state(&lt_replica, before, sizeof(before));
	long first = pid_of(before);
	cr_assert_gt(first, 0, "state: %s", before);

	const char *src = kt_path("build");
	dt_mkdirs(src);
	dt_write(src, "version.txt", "build 2\n", 8, 0644);
	devkit_deploy_options o = opts(src, "deploy/app");
	o.restart = 1;
	seen s = { 0 };
	o.progress = on_progress;
	o.progress_user = &s;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.restarted, 1);
	cr_assert_eq(strncmp(r.app_state, "running pid ", 12), 0, "state: %s", r.app_state);
	long second = pid_of(r.app_state);
	cr_assert(second > 0 && second != first, "pid %ld then %ld", first, second);
	cr_assert_eq(kill((pid_t)second, 0), 0);
	cr_assert_neq(kill((pid_t)first, 0), 0, "the old app (pid %ld) still runs", first);
	cr_assert_str_eq(s.order, "scsr", "stages: %s", s.order);
	cr_assert(fx_daemon_alive(&lt_replica.supervisor) && lt_replica.supervisor.pid == supervisor,
		"the container's main process must not restart");
	char *log = lt_wait_log("build 2\n", 1);
	cr_assert(log && strstr(log, "build 2\n"), "the restarted app did not read the new file: "
		"%s", log ? log : "(none)");
	free(log);

	/* restart only: no local_path */
	devkit_deploy_options o2 = opts(NULL, NULL);
	o2.restart = 1;
	cr_assert_eq(devkit_deploy(lt_k8s, &o2, &r), 0, "%s", lt_err());
	cr_assert_eq(r.restarted, 1);
	cr_assert_eq(r.files_total, 0);
	cr_assert_neq(pid_of(r.app_state), second);
}

Test(deploy, a_single_file_lands_as_remote_dir_slash_name)
{
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "out/app.jar", "jar bytes", 9, 0600);
	devkit_deploy_options o = opts(kt_path("out/app.jar"), "lib");
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.files_total, 1);
	cr_assert_eq(r.files_sent, 1);
	cr_assert(dt_same_bytes(kt_path("out/app.jar"), sandbox("lib/app.jar")));
	struct stat st;
	cr_assert_eq(stat(sandbox("lib/app.jar"), &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);

	/* an absolute remote_dir, and a second file beside the first */
	dt_write(kt_dir, "out/other.txt", "other", 5, 0644);
	char abs[1100];
	snprintf(abs, sizeof(abs), "%s/opt/app", lt_replica.dir);
	o = opts(kt_path("out/other.txt"), abs);
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert(dt_same_bytes(kt_path("out/other.txt"), sandbox("opt/app/other.txt")));
}

Test(deploy, a_missing_local_path_names_it)
{
	lt_start("exec sleep 300", "");
	devkit_deploy_options o = opts(kt_path("no-such-build"), "deploy/app");
	int rc = devkit_deploy(lt_k8s, &o, NULL);
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "no-such-build") && strstr(lt_err(), "No such file"), "%s",
		lt_err());
}

Test(deploy, a_fifo_in_the_tree_is_refused_by_name)
{
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	cr_assert_eq(mkfifo(kt_path("build/pipe"), 0644), 0);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	int rc = devkit_deploy(lt_k8s, &o, NULL);
	cr_assert_eq(rc, DEVKIT_EINVAL, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "build/pipe") && strstr(lt_err(), "FIFO"), "%s", lt_err());
	struct stat st;
	cr_assert_neq(stat(sandbox("deploy/app/a.txt"), &st), 0, "nothing is sent");
}

Test(deploy, a_remote_dir_that_cannot_be_made_says_why)
{
	lt_start("exec sleep 300", "");
	/* under a regular file: fails for root too, where chmod would not */
	FILE *f = fopen(sandbox("somefile"), "w");
	cr_assert_not_null(f);
	fclose(f);
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "somefile/sub");
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	int rc = devkit_deploy(lt_k8s, &o, &r);
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "somefile/sub") && strstr(lt_err(), "Not a directory") &&
		strstr(lt_err(), LT_NS "/" LT_POD), "%s", lt_err());
	cr_assert_eq(r.files_sent, 0);
}

Test(deploy, tars_own_failure_carries_its_words_and_leaves_no_manifest)
{
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	dt_write(kt_dir, "build/clash", "a file here", 11, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	cr_assert_eq(devkit_deploy(lt_k8s, &o, NULL), 0, "%s", lt_err());
	/* in the container, a non-empty directory where the file must go */
	cr_assert_eq(unlink(sandbox("deploy/app/clash")), 0);
	dt_mkdirs(sandbox("deploy/app/clash"));
	FILE *f = fopen(sandbox("deploy/app/clash/inside"), "w");
	fclose(f);
	dt_write(kt_dir, "build/clash", "a newer file", 12, 0644);
	int rc = devkit_deploy(lt_k8s, &o, NULL);
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "tar: ") && strstr(lt_err(), "clash") &&
		strstr(lt_err(), "exit status"), "%s", lt_err());
	struct stat st;
	cr_assert_neq(stat(sandbox("deploy/app/.devkit-deploy"), &st), 0,
		"a failed deploy must leave no manifest");

	/* fixed in the container: the next deploy sends everything again */
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sandbox("deploy/app/clash"));
	kt_sh(cmd);
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.files_sent, 2);
}

/* sysfs files say 4096 bytes and hold a few: a file that "shrank" while
 * it was sent. The copy stops halfway with our error, tar is not left
 * waiting, and no manifest stays behind. */
Test(deploy, a_file_that_shrinks_while_sent_stops_the_copy)
{
	const char *odd = "/sys/devices/system/cpu/online";
	struct stat st;
	if (stat(odd, &st) != 0 || st.st_size != 4096)
		cr_skip_test("no sysfs file that says 4096 bytes here");
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	cr_assert_eq(devkit_deploy(lt_k8s, &o, NULL), 0, "%s", lt_err());
	cr_assert_eq(stat(sandbox("deploy/app/.devkit-deploy"), &st), 0);
	o = opts(odd, "deploy/app");
	o.timeout_ms = 20000;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	int rc = devkit_deploy(lt_k8s, &o, &r);
	cr_assert_eq(rc, DEVKIT_EIO, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), odd) && strstr(lt_err(), "shrank") &&
		strstr(lt_err(), "stopped halfway"), "%s", lt_err());
	cr_assert_lt(r.duration_ms, 15000);
	cr_assert_neq(stat(sandbox("deploy/app/.devkit-deploy"), &st), 0,
		"the old manifest must be gone");
}

Test(deploy, a_missing_pod_is_not_found)
{
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	o.pod = "nope";
	int rc = devkit_deploy(lt_k8s, &o, NULL);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "\"nope\" not found"), "%s", lt_err());
}

static void add_pod(const char *name, const char *env_json)
{
	char *doc = NULL;
	cr_assert(asprintf(&doc, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":"
		"\"%s\",\"namespace\":\"" LT_NS "\"},\"spec\":{\"containers\":[{\"name\":\"app\","
		"\"image\":\"app:1\"%s}]}}", name, env_json) > 0);
	cr_assert_eq(fx_k8s_apply(&lt_api, doc), 0);
	free(doc);
	cr_assert_eq(fx_k8s_set_pod_running(&lt_api, LT_NS, name), 0);
}

Test(deploy, without_keepalive_the_files_go_and_the_restart_is_unsupported)
{
	lt_start("exec sleep 300", "");
	add_pod("plain", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	o.pod = "plain";
	o.restart = 1;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	int rc = devkit_deploy(lt_k8s, &o, &r);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "keep_alive") && strstr(lt_err(), "copied"), "%s", lt_err());
	cr_assert_eq(r.files_sent, 1);
	cr_assert_eq(r.restarted, 0);
	char dir[1024], file[1100];
	cr_assert_not_null(fx_k8s_pod_dir(&lt_api, LT_NS, "plain", NULL, dir, sizeof(dir)));
	snprintf(file, sizeof(file), "%s/deploy/app/a.txt", dir);
	cr_assert(dt_same_bytes(kt_path("build/a.txt"), file), "the file was not copied");
}

/* A directory of tools for a container's PATH: each name links to the
 * machine's (or, for "tar=busybox", to busybox). */
static const char *tools_dir(const char *name, const char *const tools[])
{
	const char *d = kt_path(name);
	dt_mkdirs(d);
	for (int i = 0; tools[i]; i++) {
		char link[600], target[300];
		const char *eq = strchr(tools[i], '=');
		snprintf(link, sizeof(link), "%s/%.*s", d, eq ? (int)(eq - tools[i])
			: (int)strlen(tools[i]), tools[i]);
		char *argv_which = NULL;
		cr_assert(asprintf(&argv_which, "command -v %s", eq ? eq + 1 : tools[i]) > 0);
		const char *argv[] = { "sh", "-c", argv_which, NULL };
		fx_run_result r;
		cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
		free(argv_which);
		if (r.exit_code != 0) {
			fx_run_result_free(&r);
			return NULL;
		}
		snprintf(target, sizeof(target), "%.*s", (int)strcspn(r.out, "\n"), r.out);
		fx_run_result_free(&r);
		cr_assert_eq(symlink(target, link), 0, "%s: %s", link, strerror(errno));
	}
	return d;
}

Test(deploy, no_tar_in_the_image_is_unsupported)
{
	lt_start("exec sleep 300", "");
	static const char *const tools[] = { "cat", "mkdir", "rm", "mv", "head", NULL };
	const char *bin = tools_dir("notar-bin", tools);
	cr_assert_not_null(bin);
	char env[800];
	snprintf(env, sizeof(env), ",\"env\":[{\"name\":\"PATH\",\"value\":\"%s\"}]", bin);
	add_pod("notar", env);
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	devkit_deploy_options o = opts(kt_path("build"), "deploy/app");
	o.pod = "notar";
	int rc = devkit_deploy(lt_k8s, &o, NULL);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "no tar") && strstr(lt_err(), "/notar"), "%s", lt_err());
}

/* An image whose tools are busybox's (alpine), tar included. */
static void busybox_pod(const char *name)
{
	static const char *const tools[] = { "tar=busybox", "cat=busybox", "mkdir=busybox",
		"rm=busybox", "mv=busybox", "head=busybox", NULL };
	if (access("/usr/bin/busybox", X_OK) != 0 && access("/bin/busybox", X_OK) != 0)
		cr_skip_test("busybox is not installed");
	const char *bin = tools_dir("bb-bin", tools);
	cr_assert_not_null(bin);
	char env[800];
	snprintf(env, sizeof(env), ",\"env\":[{\"name\":\"PATH\",\"value\":\"%s\"}]", bin);
	add_pod(name, env);
}

static int last_session_protocol_is(const char *proto)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_stream_sessions(&lt_api, &r), 0);
	char want[80];
	snprintf(want, sizeof(want), "\"protocol\":\"%s\"", proto);
	int found = strstr(r.out, want) != NULL;
	fx_run_result_free(&r);
	return found;
}

Test(deploy, busybox_tar_unpacks_the_tree)
{
	lt_start("exec sleep 300", "");
	busybox_pod("alpine");
	const char *src = kt_path("build");
	int files = dt_make_tree(src, 0);
	devkit_deploy_options o = opts(src, "deploy/app");
	o.pod = "alpine";
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.files_sent, (uint64_t)files);
	char dir[1024], remote[1100];
	cr_assert_not_null(fx_k8s_pod_dir(&lt_api, LT_NS, "alpine", NULL, dir, sizeof(dir)));
	snprintf(remote, sizeof(remote), "%s/deploy/app", dir);
	cr_assert_eq(dt_compare_tree(src, remote, ""), files);
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "%s", lt_err());
	cr_assert_eq(r.files_sent, 0);
}

/* Kubernetes before 1.29 speaks v4.channel.k8s.io, which cannot close
 * stdin: tar must end without EOF (head -c passes exactly the archive). */
Test(deploy, a_server_without_half_close_still_ends_the_copy)
{
	lt_start("exec sleep 300", "");
	devkit__exec_offer = "v4.channel.k8s.io";
	const char *src = kt_path("build");
	int files = dt_make_tree(src, 0);
	devkit_deploy_options o = opts(src, "deploy/app");
	o.timeout_ms = 20000;
	devkit_deploy_result r = DEVKIT_DEPLOY_RESULT_INIT;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "GNU tar over v4: %s", lt_err());
	cr_assert(last_session_protocol_is("v4.channel.k8s.io"), "the server did not speak v4");
	cr_assert_eq(r.files_sent, (uint64_t)files);
	cr_assert_eq(dt_compare_tree(src, sandbox("deploy/app"), ""), files);
	cr_assert_lt(r.duration_ms, 15000);

	busybox_pod("alpine");
	o.pod = "alpine";
	cr_assert_eq(devkit_deploy(lt_k8s, &o, &r), 0, "busybox tar over v4: %s", lt_err());
	cr_assert_eq(r.files_sent, (uint64_t)files);
	cr_assert_lt(r.duration_ms, 15000, "busybox tar waited for the end of its input");
	char dir[1024], remote[1100];
	cr_assert_not_null(fx_k8s_pod_dir(&lt_api, LT_NS, "alpine", NULL, dir, sizeof(dir)));
	snprintf(remote, sizeof(remote), "%s/deploy/app", dir);
	cr_assert_eq(dt_compare_tree(src, remote, ""), files);
	devkit__exec_offer = "v5.channel.k8s.io,v4.channel.k8s.io";
}

Test(deploy, bad_options_are_einval)
{
	lt_start("exec sleep 300", "");
	devkit_deploy_options o = opts(kt_dir, NULL);
	cr_assert_eq(devkit_deploy(lt_k8s, &o, NULL), DEVKIT_EINVAL);
	cr_assert(strstr(lt_err(), "remote_dir"), "%s", lt_err());
	o = opts(kt_dir, "x");
	o.pod = NULL;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, NULL), DEVKIT_EINVAL);
	o = opts(kt_dir, "x");
	o.version = 99;
	cr_assert_eq(devkit_deploy(lt_k8s, &o, NULL), DEVKIT_EINVAL);
	cr_assert_eq(devkit_deploy_options_init(&o, 99), DEVKIT_EINVAL);
	devkit_deploy_options d = DEVKIT_DEPLOY_OPTIONS_INIT;
	cr_assert_eq(devkit_deploy_options_init(&o, DEVKIT_DEPLOY_OPTIONS_VERSION), 0);
	cr_assert(o.version == d.version && !o.pod && !o.local_path && !o.remote_dir && !o.full &&
		!o.timeout_ms && !o.progress && o.restart == d.restart, "v%u pod %p local %p remote %p "
		"full %d timeout %u restart %d", o.version, (void *)o.pod, (void *)o.local_path,
		(void *)o.remote_dir, o.full, o.timeout_ms, o.restart);
	cr_assert_eq(o.restart, 1, "restart is the default");
}
