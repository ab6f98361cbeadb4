/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit deploy` and `devkit app`, run as a user runs them (bin/devkit, a
 * kubeconfig, stdout/stderr/exit status) against the API fixture with a
 * replica whose keep-alive really runs (live_test.h).
 */
#include "live_test.h"

#include "deploy_test.h"

TestSuite(deploy_cli, .init = lt_setup, .fini = lt_teardown, .timeout = 240);

/* bin/devkit of the build this test belongs to (<build>/tests/<test>),
 * else $DEVKIT_BUILD_DIR's. */
static const char *cli_path(void)
{
	static char path[4096];
	char self[2048];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	cr_assert_gt(n, 0);
	self[n] = '\0';
	*strrchr(self, '/') = '\0';
	*strrchr(self, '/') = '\0';
	snprintf(path, sizeof(path), "%s/bin/devkit", self);
	if (access(path, X_OK) != 0 && getenv("DEVKIT_BUILD_DIR"))
		snprintf(path, sizeof(path), "%s/bin/devkit", getenv("DEVKIT_BUILD_DIR"));
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* devkit ARGS --kubeconfig KC, with an empty HOME and no proxies. */
static void run(fx_run_result *r, const char *const args[])
{
	const char *argv[32];
	int n = 0;
	argv[n++] = cli_path();
	for (int i = 0; args[i] && n < 28; i++)
		argv[n++] = args[i];
	argv[n++] = "--kubeconfig";
	argv[n++] = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	argv[n] = NULL;
	char home[400];
	snprintf(home, sizeof(home), "HOME=%s/home", kt_dir);
	const char *env[] = { home, "KUBECONFIG=/nonexistent/kubeconfig", "http_proxy=",
		"https_proxy=", "HTTP_PROXY=", "HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=", NULL };
	cr_assert_eq(fx_run(argv, env, NULL, 120000, r), 0, "cannot run devkit");
	cr_assert(!r->timed_out, "devkit %s did not end in time; stderr: %s", args[0], r->err);
	cr_log_info("devkit %s -> exit %d\nstdout: %s\nstderr: %s", args[0], r->exit_code, r->out,
		r->err);
}

Test(deploy_cli, deploy_copies_restarts_and_then_sends_nothing)
{
	lt_start("cat deploy/app/version.txt; exec sleep 300", "");
	const char *src = kt_path("build");
	int files = dt_make_tree(src, 1);
	fx_run_result r;
	run(&r, (const char *const[]){ "deploy", LT_POD, src, "--to", "deploy/app", NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	char want[100];
	snprintf(want, sizeof(want), "sent %d of %d files, 20.0 MB (0 unchanged) to deploy/app",
		files, files);
	cr_assert(strstr(r.out, want), "summary: %s", r.out);
	cr_assert(strstr(r.out, "app restarted: running pid "), "%s", r.out);
	cr_assert(strstr(r.err, "sending: ") && strstr(r.err, "of 20.0 MB") &&
		strstr(r.err, "restarting the app"), "progress on stderr: %s", r.err);
	fx_run_result_free(&r);

	char remote[1100];
	snprintf(remote, sizeof(remote), "%s/deploy/app", lt_replica.dir);
	cr_assert_eq(dt_compare_tree(src, remote, ""), files);
	char *log = lt_wait_log("v1\n", 1);
	cr_assert(log && strstr(log, "v1\n"), "the restarted app read the new file: %s",
		log ? log : "(none)");
	free(log);

	run(&r, (const char *const[]){ "deploy", LT_POD, src, "--to", "deploy/app", "--no-restart",
		NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	snprintf(want, sizeof(want), "sent 0 of %d files, 0 B (%d unchanged)", files, files);
	cr_assert(strstr(r.out, want), "second deploy: %s", r.out);
	cr_assert_null(strstr(r.out, "restarted"), "%s", r.out);
	fx_run_result_free(&r);

	run(&r, (const char *const[]){ "deploy", LT_POD, src, "--to", "deploy/app", "--no-restart",
		"--full", "-c", LT_CONTAINER, "-n", LT_NS, NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	snprintf(want, sizeof(want), "sent %d of %d files", files, files);
	cr_assert(strstr(r.out, want), "--full: %s", r.out);
	fx_run_result_free(&r);
}

Test(deploy_cli, app_prints_the_state_after_each_action)
{
	lt_start("exec sleep 300", "");
	fx_run_result r;
	run(&r, (const char *const[]){ "app", LT_POD, "status", NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	cr_assert_eq(strncmp(r.out, "running pid ", 12), 0, "%s", r.out);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "stop", "-c", LT_CONTAINER, NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	cr_assert_eq(strncmp(r.out, "stopped since ", 14), 0, "%s", r.out);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "status", NULL });
	cr_assert_eq(r.exit_code, 0, "status of a stopped app is an answer: %s", r.err);
	cr_assert_eq(strncmp(r.out, "stopped since ", 14), 0, "%s", r.out);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "start", NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	cr_assert_eq(strncmp(r.out, "running pid ", 12), 0, "%s", r.out);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "restart", NULL });
	cr_assert_eq(r.exit_code, 0, "stderr: %s", r.err);
	cr_assert_eq(strncmp(r.out, "running pid ", 12), 0, "%s", r.out);
	fx_run_result_free(&r);
}

Test(deploy_cli, failures_exit_1_with_the_reason_and_usage_errors_2)
{
	lt_start("exec sleep 300", "");
	dt_write(kt_dir, "build/a.txt", "a", 1, 0644);
	fx_run_result r;
	run(&r, (const char *const[]){ "deploy", "nope", kt_path("build"), "--to", "x", NULL });
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "\"nope\" not found"), "%s", r.err);
	fx_run_result_free(&r);

	cr_assert_eq(fx_k8s_apply(&lt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"plain\",\"namespace\":\"" LT_NS "\"},\"spec\":{\"containers\":[{\"name\":"
		"\"app\",\"image\":\"app:1\"}]}}"), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&lt_api, LT_NS, "plain"), 0);
	run(&r, (const char *const[]){ "app", "plain", "restart", NULL });
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "no devkit keep-alive"), "%s", r.err);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "deploy", "plain", kt_path("build"), "--to", "x", NULL });
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "were copied") && strstr(r.err, "keep_alive"), "%s", r.err);
	fx_run_result_free(&r);

	run(&r, (const char *const[]){ "deploy", LT_POD, kt_path("build"), NULL });
	cr_assert_eq(r.exit_code, 2);
	cr_assert(strstr(r.err, "--to REMOTE_DIR is required"), "%s", r.err);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "reboot", NULL });
	cr_assert_eq(r.exit_code, 2);
	fx_run_result_free(&r);
	run(&r, (const char *const[]){ "app", LT_POD, "status", "--full", NULL });
	cr_assert_eq(r.exit_code, 2, "app takes no copy options");
	fx_run_result_free(&r);
}
