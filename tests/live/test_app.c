/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_app_control against a replica whose keep-alive really runs
 * (replica_sandbox.h): the app is stopped, started and restarted while the
 * container (the supervisor) stays up, and a container without the
 * keep-alive gets a clear error.
 */
#include "live_test.h"

#include "live/live_int.h"

TestSuite(app, .init = lt_setup, .fini = lt_teardown, .timeout = 120);

static long pid_of(const char *state)
{
	const char *p = strstr(state, "pid ");
	return p ? strtol(p + 4, NULL, 10) : -1;
}

Test(app, stop_start_restart_keep_the_container)
{
	lt_start("echo started; exec sleep 300", "");
	pid_t supervisor = lt_replica.supervisor.pid;
	devkit_buf state = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_app_control(lt_k8s, NULL, LT_POD, NULL, DEVKIT_APP_STATUS, &state), 0,
		"%s", lt_err());
	cr_assert(strncmp(state.ptr, "running pid ", 12) == 0, "status: %s", state.ptr);
	long first = pid_of(state.ptr);
	devkit_buf_dispose(&state);

	cr_assert_eq(devkit_app_control(lt_k8s, NULL, LT_POD, LT_CONTAINER, DEVKIT_APP_STOP, &state),
		0, "%s", lt_err());
	cr_assert(strncmp(state.ptr, "stopped since ", 14) == 0, "after stop: %s", state.ptr);
	cr_assert_neq(kill((pid_t)first, 0), 0, "the app (pid %ld) still runs", first);
	devkit_buf_dispose(&state);

	cr_assert_eq(devkit_app_control(lt_k8s, NULL, LT_POD, NULL, DEVKIT_APP_RESTART, &state), 0,
		"%s", lt_err());
	cr_assert(strncmp(state.ptr, "running pid ", 12) == 0, "after restart: %s", state.ptr);
	long second = pid_of(state.ptr);
	cr_assert(second > 0 && second != first);
	cr_assert_eq(kill((pid_t)second, 0), 0);
	devkit_buf_dispose(&state);
	cr_assert(fx_daemon_alive(&lt_replica.supervisor) && lt_replica.supervisor.pid == supervisor,
		"the container's main process must not restart");
	char *log = lt_wait_log("started\n", 2);
	cr_assert(log && strstr(log, "started\n") && strstr(strstr(log, "started\n") + 1, "started\n"),
		"the app ran twice into its log: %s", log ? log : "(none)");
	free(log);
}

Test(app, app_env_is_read_before_each_start)
{
	lt_start("echo \"FLAG=$FLAG\"; exec sleep 300", "");
	char *path = NULL;
	cr_assert(asprintf(&path, "%s/app.env", lt_replica.devkit_dir) > 0);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("export FLAG='on it'\n", f);
	fclose(f);
	free(path);
	cr_assert_eq(devkit_app_control(lt_k8s, NULL, LT_POD, NULL, DEVKIT_APP_RESTART, NULL), 0,
		"%s", lt_err());
	char *log = lt_wait_log("FLAG=on it\n", 1);
	cr_assert(log && strstr(log, "FLAG=\n") && strstr(log, "FLAG=on it\n"), "log: %s",
		log ? log : "(none)");
	free(log);
}

Test(app, no_keepalive_is_a_clear_error)
{
	lt_start("exec sleep 300", "");
	cr_assert_eq(fx_k8s_apply(&lt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"plain\",\"namespace\":\"" LT_NS "\"},\"spec\":{\"containers\":[{\"name\":"
		"\"app\",\"image\":\"app:1\"}]}}"), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&lt_api, LT_NS, "plain"), 0);
	devkit_buf state = DEVKIT_BUF_INIT;
	int rc = devkit_app_control(lt_k8s, NULL, "plain", NULL, DEVKIT_APP_RESTART, &state);
	cr_assert_eq(rc, DEVKIT_EUNSUPPORTED, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "no devkit keep-alive") && strstr(lt_err(), "/plain"),
		"message: %s", lt_err());
	cr_assert_null(state.ptr);
}

Test(app, missing_pod_is_not_found)
{
	lt_start("exec sleep 300", "");
	int rc = devkit_app_control(lt_k8s, NULL, "nope", NULL, DEVKIT_APP_STATUS, NULL);
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "\"nope\" not found"), "%s", lt_err());
}

/* A script in the container that does not end is given up at its limit
 * with a message that says so, instead of hanging the caller (a devkit-app
 * stuck on an app that ignores SIGTERM would otherwise block a deploy). */
Test(app, a_script_that_hangs_times_out)
{
	lt_start("exec sleep 300", "");
	devkit__live_target t = { NULL, LT_POD, NULL, 700 };
	devkit_buf out = DEVKIT_BUF_INIT;
	int code = -1;
	long long t0 = fx_now_ms();
	int rc = devkit__live_sh(lt_k8s, &t, "waiting for nothing", "echo started; sleep 30", NULL, 0,
		&out, NULL, &code);
	long long took = fx_now_ms() - t0;
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "rc %d: %s", rc, lt_err());
	cr_assert(strstr(lt_err(), "waiting for nothing in " LT_NS "/" LT_POD ": not done within "
		"700 ms"), "%s", lt_err());
	cr_assert_lt(took, 5000, "took %lld ms", took);
	cr_assert_null(out.ptr);
}
