/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit events`, `devkit logs` and `devkit diagnose` run as a user runs
 * them (build/bin/devkit, --kubeconfig, stdout/stderr/exit status) against
 * the Kubernetes API mock, with the recorded samples of tests/diag/samples.
 * -f and --watch are stopped the way a person stops them, with SIGINT
 * (coreutils `timeout -s INT`), and must then exit 0.
 */
#include <pthread.h>

#include "diag_test.h"

static char home[300];

static void setup(void)
{
	fx_k8s_options o = { 0 };
	dt_start(&o);
	snprintf(home, sizeof(home), "%s/home", dt_api.dir);
}

TestSuite(diag_cli, .init = setup, .fini = dt_stop, .timeout = 180);

static const char *cli_path(void)
{
	static char path[4096];
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	snprintf(path, sizeof(path), "%s/bin/devkit", dir && *dir ? dir : "build");
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* No proxies, an empty HOME and a KUBECONFIG that does not exist: only
 * --kubeconfig makes a run work. */
static const char *const *cli_env(void)
{
	static char home_var[400];
	static const char *env[16];
	int n = 0;
	static const char *const fixed[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
		"HTTPS_PROXY=", "ALL_PROXY=", "NO_PROXY=", "KUBECONFIG=/nonexistent/kubeconfig",
		"USER=alice", NULL };
	for (int i = 0; fixed[i]; i++)
		env[n++] = fixed[i];
	snprintf(home_var, sizeof(home_var), "HOME=%s", home);
	env[n++] = home_var;
	env[n] = NULL;
	return env;
}

/* devkit ARGS --kubeconfig K; with stop_after_s > 0 under `timeout -s INT`. */
static void run_stopped(int stop_after_s, const char *const args[], fx_run_result *r)
{
	const char *argv[64];
	char secs[16];
	int n = 0;
	if (stop_after_s > 0) {
		snprintf(secs, sizeof(secs), "%d", stop_after_s);
		argv[n++] = "/usr/bin/timeout";
		argv[n++] = "--preserve-status";
		argv[n++] = "-s";
		argv[n++] = "INT";
		argv[n++] = secs;
	}
	argv[n++] = cli_path();
	for (int i = 0; args[i] && n < 60; i++)
		argv[n++] = args[i];
	argv[n++] = "--kubeconfig";
	argv[n++] = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, cli_env(), NULL, 90000, r), 0, "cannot run devkit");
	cr_assert(!r->timed_out, "devkit %s did not end in time; stderr: %s", args[0], r->err);
	cr_log_info("devkit %s -> exit %d\nstdout: %s\nstderr: %s", args[0], r->exit_code, r->out,
		r->err);
}

static void run(const char *const args[], fx_run_result *r)
{
	run_stopped(0, args, r);
}

static void has(const char *text, const char *needle)
{
	cr_assert(strstr(text, needle), "\"%s\" is not in:\n%s", needle, text);
}

/* --- diagnose ------------------------------------------------------------------ */

Test(diag_cli, diagnose_a_crash_loop)
{
	char ns[128], name[256];
	dt_load_sample("crash-loop-exec-format", ns, sizeof(ns), name, sizeof(name));
	fx_run_result r;
	run((const char *const[]){ "diagnose", name, "-n", ns, NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	/* the summary first (wrapped at 80 columns) */
	static const char first[] = "Pod projectsveltos/k8s-cleaner-controller-5c979bdc5-9cwct "
		"is at stage start-up:\n  the container keeps crashing (container controller)\n";
	cr_assert(strncmp(r.out, first, strlen(first)) == 0, "%s", r.out);
	has(r.out, "[1] crash-loop (start-up, container controller)");
	has(r.out, "      | exec /manager: exec format error");
	has(r.out, "    Fix: Read why it exited");
	fx_run_result_free(&r);

	run((const char *const[]){ "diagnose", name, "-n", ns, "--json", NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert(doc, "not JSON: %s", r.out);
	cr_assert_str_eq(dt_str(doc, "stage"), "start-up");
	cr_assert(dt_finding(doc, "crash-loop"));
	json_decref(doc);
	fx_run_result_free(&r);
}

Test(diag_cli, diagnose_errors_and_usage)
{
	fx_run_result r;
	run((const char *const[]){ "diagnose", "nope", "-n", "dev", NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	has(r.err, "pods \"nope\" not found");
	cr_assert_str_eq(r.out, "");
	fx_run_result_free(&r);

	run((const char *const[]){ "diagnose", "nope", "-n", "dev", "--json", NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	json_t *ev = json_loads(r.out, 0, NULL);
	cr_assert(ev, "not JSON: %s", r.out);
	cr_assert_str_eq(dt_str(ev, "event"), "error");
	cr_assert_str_eq(dt_str(ev, "error"), devkit_strerror(DEVKIT_ENOTFOUND));
	json_decref(ev);
	fx_run_result_free(&r);

	const char *const *usage[] = {
		(const char *const[]){ "diagnose", NULL },
		(const char *const[]){ "diagnose", "a", "b", NULL },
		(const char *const[]){ "diagnose", "Bad_Name", NULL },
		(const char *const[]){ "diagnose", "web", "--watch", NULL },
		(const char *const[]){ "logs", "web", "--tail", "many", NULL },
		(const char *const[]){ "logs", "web", "--since", "10m", "--since-time",
			"2024-05-01T12:00:00Z", NULL },
		(const char *const[]){ "logs", "web", "--since-time", "yesterday", NULL },
		(const char *const[]){ "logs", "web", "-c", NULL },
		(const char *const[]){ "events", "web", "-f", NULL },
		(const char *const[]){ "events", "web", "-A", NULL },
		NULL,
	};
	for (int i = 0; usage[i]; i++) {
		run(usage[i], &r);
		cr_assert_eq(r.exit_code, 2, "devkit %s %s: exit %d", usage[i][0], usage[i][1] ?
			usage[i][1] : "", r.exit_code);
		has(r.err, "Try 'devkit");
		fx_run_result_free(&r);
	}
	run((const char *const[]){ "diagnose", "--help", NULL }, &r);
	cr_assert_eq(r.exit_code, 0);
	has(r.out, "Usage: devkit diagnose POD");
	fx_run_result_free(&r);
}

/* --- events -------------------------------------------------------------------- */

Test(diag_cli, events_table_and_json)
{
	char ns[128], name[256];
	dt_load_sample("image-not-found", ns, sizeof(ns), name, sizeof(name));
	fx_run_result r;
	run((const char *const[]){ "events", name, "-n", ns, NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	has(r.out, "STAGE");
	has(r.out, "scheduling");
	has(r.out, "Scheduled");
	has(r.out, "Failed (x2)");
	/* scheduling before start-up */
	cr_assert_lt(strstr(r.out, "scheduling"), strstr(r.out, "start-up"));
	fx_run_result_free(&r);

	run((const char *const[]){ "events", name, "-n", ns, "--json", NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert(doc, "not JSON: %s", r.out);
	cr_assert_eq(json_array_size(json_object_get(doc, "events")), 6);
	cr_assert_eq(json_array_size(json_object_get(doc, "stages")), 2);
	json_decref(doc);
	fx_run_result_free(&r);

	run((const char *const[]){ "events", "nope", "-n", ns, NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	fx_run_result_free(&r);
}

static void *add_event_later(void *arg)
{
	usleep(1500 * 1000);
	fx_k8s_add_event(&dt_api, "dev", "Pod", "web-1", "Killing",
		"Container app failed liveness probe, will be restarted", "Normal");
	return arg;
}

Test(diag_cli, events_watch_until_ctrl_c)
{
	cr_assert_eq(fx_k8s_apply(&dt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"web-1\",\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"app\","
		"\"image\":\"web:1\"}]}}"), 0);
	cr_assert_eq(fx_k8s_add_event(&dt_api, "dev", "Pod", "web-1", "Scheduled",
		"Successfully assigned dev/web-1 to devkit-node-1", "Normal"), 0);
	pthread_t t;
	pthread_create(&t, NULL, add_event_later, NULL);
	fx_run_result r;
	run_stopped(4, (const char *const[]){ "events", "web-1", "-n", "dev", "--watch", "--json",
		NULL }, &r);
	pthread_join(t, NULL);
	cr_assert_eq(r.exit_code, 0, "stopped by SIGINT: %s", r.err);
	char *second = strchr(r.out, '\n');
	cr_assert(second, "%s", r.out);
	json_t *a = json_loadb(r.out, (size_t)(second - r.out), 0, NULL);
	json_t *b = json_loads(second + 1, JSON_DISABLE_EOF_CHECK, NULL);
	cr_assert(a && b, "two JSON lines expected: %s", r.out);
	cr_assert_str_eq(dt_str(a, "reason"), "Scheduled");
	cr_assert_str_eq(dt_str(b, "reason"), "Killing");
	cr_assert_str_eq(dt_str(b, "stage"), "running");
	json_decref(a);
	json_decref(b);
	fx_run_result_free(&r);
}

/* --- logs ---------------------------------------------------------------------- */

static void running_pod_with_log(void)
{
	cr_assert_eq(fx_k8s_apply(&dt_api, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"web-1\",\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"app\","
		"\"image\":\"web:1\"}]}}"), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&dt_api, "dev", "web-1"), 0);
	cr_assert_eq(fx_k8s_append_pod_log(&dt_api, "dev", "web-1", "app",
		"Started Application in 3.2 seconds\nGET /cart 200\n"), 0);
}

Test(diag_cli, logs_tail_and_file)
{
	running_pod_with_log();
	fx_run_result r;
	run((const char *const[]){ "logs", "web-1", "-n", "dev", NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "Started Application in 3.2 seconds\nGET /cart 200\n");
	fx_run_result_free(&r);

	run((const char *const[]){ "logs", "web-1", "-n", "dev", "--tail", "1", "-c", "app", NULL },
		&r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "GET /cart 200\n");
	fx_run_result_free(&r);

	char path[400];
	snprintf(path, sizeof(path), "%s/web.log", dt_api.dir);
	run((const char *const[]){ "logs", "web-1", "-n", "dev", "-o", path, NULL }, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	has(r.err, "2 lines written to ");
	char *text = dt_read_file(path);
	cr_assert_str_eq(text, "Started Application in 3.2 seconds\nGET /cart 200\n");
	free(text);
	fx_run_result_free(&r);

	run((const char *const[]){ "logs", "web-1", "-n", "dev", "-c", "nope", NULL }, &r);
	cr_assert_eq(r.exit_code, 1);
	has(r.err, "nope");
	fx_run_result_free(&r);
}

static void *append_later(void *arg)
{
	usleep(1500 * 1000);
	fx_k8s_append_pod_log(&dt_api, "dev", "web-1", "app", "GET /checkout 500\n");
	return arg;
}

Test(diag_cli, logs_follow_until_ctrl_c)
{
	running_pod_with_log();
	pthread_t t;
	pthread_create(&t, NULL, append_later, NULL);
	fx_run_result r;
	run_stopped(4, (const char *const[]){ "logs", "web-1", "-n", "dev", "-f", "--timestamps",
		NULL }, &r);
	pthread_join(t, NULL);
	cr_assert_eq(r.exit_code, 0, "stopped by SIGINT: %s", r.err);
	/* three lines, each with the kubelet's timestamp in front */
	const char *p = r.out;
	static const char *const want[] = { "Started Application in 3.2 seconds", "GET /cart 200",
		"GET /checkout 500" };
	for (int i = 0; i < 3; i++) {
		const char *nl = strchr(p, '\n');
		cr_assert(nl, "line %d missing in:\n%s", i, r.out);
		cr_assert_eq(p[10], 'T');
		cr_assert_eq(p[29], 'Z');
		cr_assert(strncmp(p + 31, want[i], strlen(want[i])) == 0, "line %d: %.*s", i,
			(int)(nl - p), p);
		p = nl + 1;
	}
	cr_assert_str_eq(p, "");
	fx_run_result_free(&r);
}
