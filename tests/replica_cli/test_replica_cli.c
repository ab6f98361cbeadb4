/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit replicate`, `devkit replica list|delete` and `devkit gc`, run as a
 * user runs them (build/bin/devkit, a kubeconfig, stdout/stderr/exit status)
 * against a real Kubernetes API implementation: fabric8's
 * kubernetes-server-mock in CRUD mode (tests/fixtures/k8s_fixture.h).
 *
 * The mock has no scheduler and no kubelet: a Pod stays Pending until the
 * test sets its status. Where the CLI waits for a Pod, a thread of this test
 * plays the scheduler and the kubelet (fx_k8s_set_pod_status, and
 * fx_k8s_add_event for the events a kubelet would record), and says so.
 * Deleting a Pod takes GRACE_MS, as a kubelet's grace period would.
 *
 * The Pods the CLI prints with --dry-run -o yaml are checked against the
 * published Kubernetes schema (`kubernetes-validate -k 1.29 --strict`), and
 * read back by two YAML parsers (the library's libyaml-based one and PyYAML,
 * a YAML 1.1 reader as kubectl-era tools are) to be the same document as
 * -o json.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "fixtures.h"
#include "k8s/yaml_json.h"
#include "k8s_fixture.h"

#define NS FX_K8S_NAMESPACE
#define GRACE_MS 800

static fx_daemon srv;
static char home[200];

static void setup(void)
{
	fx_k8s_options o = { 0 };
	o.delete_grace_ms = GRACE_MS;
	cr_assert_eq(fx_k8s_start(&srv, &o), 0, "the Kubernetes API mock did not start");
	/* an empty HOME: no ~/.kube/config of the machine's user gets read */
	snprintf(home, sizeof(home), "%s/home", srv.dir);
	cr_assert_eq(mkdir(home, 0700), 0);
}

static void teardown(void)
{
	fx_daemon_stop(&srv);
}

TestSuite(replica_cli, .init = setup, .fini = teardown, .timeout = 240);

/* --- running the CLI ------------------------------------------------------- */

static const char *cli_path(void)
{
	static char path[4096];
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	if (dir && *dir) {
		snprintf(path, sizeof(path), "%s/bin/devkit", dir);
	} else {
		/* <build>/tests/<this test> -> <build>/bin/devkit */
		char self[2048];
		ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
		cr_assert_gt(n, 0);
		self[n] = '\0';
		*strrchr(self, '/') = '\0';
		*strrchr(self, '/') = '\0';
		snprintf(path, sizeof(path), "%s/bin/devkit", self);
	}
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

static const char *kubeconfig(void)
{
	return fx_k8s_kubeconfig(&srv, FX_K8S_KUBECONFIG_DEFAULT);
}

/* The environment of every run: no proxies in libcurl's way, an empty HOME,
 * and a KUBECONFIG that does not exist, so that only --kubeconfig can make a
 * run work (unless a test sets `kubeconfig_env`). */
static const char *kubeconfig_env;

static const char *const *cli_env(void)
{
	static char home_var[300], kc_var[400];
	static const char *env[16];
	int n = 0;
	static const char *const no_proxy[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
		"HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=", "NO_PROXY=", "no_proxy=", NULL };
	for (int i = 0; no_proxy[i]; i++)
		env[n++] = no_proxy[i];
	snprintf(home_var, sizeof(home_var), "HOME=%s", home);
	snprintf(kc_var, sizeof(kc_var), "KUBECONFIG=%s", kubeconfig_env ? kubeconfig_env
		: "/nonexistent/kubeconfig");
	env[n++] = home_var;
	env[n++] = kc_var;
	env[n++] = "USER=alice";
	env[n] = NULL;
	return env;
}

/* argv: devkit, then `args` (NULL-terminated). */
static const char **cli_argv(const char *const args[])
{
	static const char *argv[64];
	int n = 0;
	argv[n++] = cli_path();
	for (int i = 0; args[i] && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	return argv;
}

static void run(const char *const args[], fx_run_result *r)
{
	cr_assert_eq(fx_run(cli_argv(args), cli_env(), NULL, 90000, r), 0, "cannot run devkit");
	cr_assert(!r->timed_out, "devkit %s did not end in time; stderr: %s", args[0], r->err);
	cr_log_info("devkit %s -> exit %d\nstdout: %s\nstderr: %s", args[0], r->exit_code, r->out,
		r->err);
}

#define KC "--kubeconfig", kubeconfig()

/* --- the cluster ----------------------------------------------------------- */

/*
 * A Deployment as a Helm chart renders one: probes, a JAVA_TOOL_OPTIONS,
 * resources, a Service selecting it. Its template carries annotations whose
 * values are traps for a YAML writer (words YAML 1.1 reads as booleans,
 * numbers, dates, indicators, line breaks, quotes, non-ASCII): the copy keeps
 * template annotations, so each one must come out of -o yaml unchanged.
 */
static const char *const tricky[] = { "yes", "No", "on", "OFF", "y", "null", "~", "true",
	"0755", "1.29", "1e3", "0x1F", "12:30", "2024-05-01", ".inf", "=", "<<", "-", "- x",
	"a: b", "a #b", "#x", " lead", "trail ", "", "multi\nline\n", "multi\n\nend",
	"no newline\nat the end", "two\nat the end\n\n", "\nleading newline", "tab\there",
	"quote\" and \\ backslash", "na\xc3\xafve \xe2\x80\x93 \xe2\x9c\x93", "*star", "&amp",
	"!tag", "%pct", "@at", "`tick", "|pipe", ">gt", "'single'", "{brace}", "[bracket]",
	",comma", "?q", "CR\r\nLF", "bell\x07", "nel\xc2\x85", "ls\xe2\x80\xa8", "http://x:80/a",
	"key: value # comment", "$(VAR) and $$", NULL };

static void apply_web(const char *ns)
{
	json_t *annotations = json_object();
	for (int i = 0; tricky[i]; i++) {
		char key[64];
		snprintf(key, sizeof(key), "tricky.devkit.io/v%d", i);
		json_object_set_new(annotations, key, json_string(tricky[i]));
	}
	json_t *dep = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:{s:i, s:{s:{s:s}}, s:{"
		"s:{s:{s:s, s:s, s:s}, s:o},"
		"s:{s:[{s:s, s:s, s:[s,s,s], s:[s], s:[{s:i, s:s}], s:[{s:s, s:s}],"
		"s:{s:{s:s, s:i}, s:i}, s:{s:{s:s, s:i}}, s:{s:{s:s, s:i}, s:i},"
		"s:{s:{s:s, s:s}, s:{s:s}}}]}}}}",
		"apiVersion", "apps/v1", "kind", "Deployment",
		"metadata", "name", "web", "namespace", ns, "labels", "app", "web",
		"spec", "replicas", 2, "selector", "matchLabels", "app", "web", "template",
		"metadata", "labels", "app", "web", "version", "v1", "team", "payments",
		"annotations", annotations,
		"spec", "containers", "name", "web", "image", "ghcr.io/example/web:1.0",
		"command", "java", "-jar", "/app/app.jar", "args", "--server.port=8080",
		"ports", "containerPort", 8080, "name", "http",
		"env", "name", "JAVA_TOOL_OPTIONS", "value", "-Xmx256m",
		"livenessProbe", "httpGet", "path", "/actuator/health/liveness", "port", 8080,
		"periodSeconds", 10,
		"readinessProbe", "httpGet", "path", "/actuator/health/readiness", "port", 8080,
		"startupProbe", "httpGet", "path", "/actuator/health", "port", 8080,
		"failureThreshold", 30,
		"resources", "requests", "cpu", "100m", "memory", "256Mi", "limits", "memory", "512Mi");
	cr_assert(dep, "the Deployment's json_pack format is wrong");
	char *text = json_dumps(dep, 0);
	cr_assert_eq(fx_k8s_apply(&srv, text), 0, "apply the Deployment");
	free(text);
	json_decref(dep);
	char svc[512];
	snprintf(svc, sizeof(svc), "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":"
		"{\"name\":\"web\",\"namespace\":\"%s\"},\"spec\":{\"selector\":{\"app\":\"web\"},"
		"\"ports\":[{\"port\":80,\"targetPort\":8080}]}}", ns);
	cr_assert_eq(fx_k8s_apply(&srv, svc), 0, "apply the Service");
}

/* GET through the cluster's own door (not counted, never faulted). */
static int admin_get(const char *path, json_t **out)
{
	fx_run_result r;
	int status = fx_k8s_admin(&srv, "GET", path, NULL, NULL, &r);
	if (out)
		*out = r.out ? json_loads(r.out, 0, NULL) : NULL;
	fx_run_result_free(&r);
	return status;
}

static int pod_code(const char *ns, const char *name)
{
	char path[256];
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	return admin_get(path, NULL);
}

/* The Pod as stored; NULL if there is none. */
static json_t *pod_get(const char *ns, const char *name)
{
	char path[256];
	json_t *pod = NULL;
	snprintf(path, sizeof(path), "/api/v1/namespaces/%s/pods/%s", ns, name);
	if (admin_get(path, &pod) != 200) {
		json_decref(pod);
		return NULL;
	}
	return pod;
}

/* --- the scheduler and kubelet, played by a thread of the test ------------- */

#define COND(type, status) "{\"type\":\"" type "\",\"status\":\"" status "\"}"
#define NOT_READY(type) "{\"type\":\"" type "\",\"status\":\"False\",\"reason\":" \
	"\"ContainersNotReady\",\"message\":\"containers with unready status: [web]\"}"

typedef enum { KUBELET_READY, KUBELET_IMAGE_PULL_BACK_OFF } kubelet_plot;

typedef struct kubelet {
	pthread_t thread;
	const char *name;
	kubelet_plot plot;
	int ok;
	char why[256];
} kubelet;

static int kubelet_status(kubelet *k, const char *status)
{
	if (fx_k8s_set_pod_status(&srv, NS, k->name, status) != 0) {
		snprintf(k->why, sizeof(k->why), "cannot set the status of %s", k->name);
		return -1;
	}
	usleep(400 * 1000); /* more than the library's 300 ms poll: each stage is seen */
	return 0;
}

static void *kubelet_main(void *arg)
{
	kubelet *k = arg;
	long long deadline = fx_now_ms() + 30000;
	/* the Pod appears when devkit has created it */
	while (pod_code(NS, k->name) != 200) {
		if (fx_now_ms() > deadline) {
			snprintf(k->why, sizeof(k->why), "Pod %s was never created", k->name);
			return NULL;
		}
		usleep(100 * 1000);
	}
	usleep(500 * 1000); /* let `devkit` start waiting first */
	if (kubelet_status(k, "{\"phase\":\"Pending\",\"conditions\":[" COND("PodScheduled", "True")
		"]}") != 0)
		return NULL;
	if (k->plot == KUBELET_IMAGE_PULL_BACK_OFF) {
		if (fx_k8s_add_event(&srv, NS, "Pod", k->name, "Failed", "Failed to pull image "
			"\"ghcr.io/example/web:1.0\": rpc error: code = NotFound desc = failed to resolve "
			"reference", "Warning") != 0
			|| kubelet_status(k, "{\"phase\":\"Pending\",\"conditions\":["
			COND("PodScheduled", "True") "," COND("Initialized", "True") ","
			NOT_READY("ContainersReady") "," NOT_READY("Ready") "],\"containerStatuses\":[{"
			"\"name\":\"web\",\"ready\":false,\"restartCount\":0,\"image\":"
			"\"ghcr.io/example/web:1.0\",\"state\":{\"waiting\":{\"reason\":"
			"\"ImagePullBackOff\",\"message\":\"Back-off pulling image "
			"\\\"ghcr.io/example/web:1.0\\\"\"}}}]}") != 0)
			return NULL;
		k->ok = 1;
		return NULL;
	}
	if (kubelet_status(k, "{\"phase\":\"Pending\",\"conditions\":[" COND("PodScheduled", "True")
		"," COND("Initialized", "True") "," NOT_READY("ContainersReady") "," NOT_READY("Ready")
		"]}") != 0
		|| kubelet_status(k, "{\"phase\":\"Running\",\"conditions\":["
		COND("PodScheduled", "True") "," COND("Initialized", "True") ","
		COND("ContainersReady", "True") "," NOT_READY("Ready") "]}") != 0
		|| kubelet_status(k, "{\"phase\":\"Running\",\"conditions\":["
		COND("PodScheduled", "True") "," COND("Initialized", "True") ","
		COND("ContainersReady", "True") "," COND("Ready", "True") "]}") != 0)
		return NULL;
	k->ok = 1;
	return NULL;
}

static void kubelet_start(kubelet *k, const char *name, kubelet_plot plot)
{
	memset(k, 0, sizeof(*k));
	k->name = name;
	k->plot = plot;
	cr_assert_eq(pthread_create(&k->thread, NULL, kubelet_main, k), 0);
}

static void kubelet_join(kubelet *k)
{
	pthread_join(k->thread, NULL);
	cr_assert(k->ok, "the test's kubelet: %s", k->why);
}

/* --- checks ---------------------------------------------------------------- */

static void validate_pod_file(const char *path)
{
	const char *argv[] = { "kubernetes-validate", "-k", "1.29", "--strict", "--quiet", path,
		NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 120000, &r), 0, "cannot run kubernetes-validate");
	cr_assert_neq(r.exit_code, 127, "kubernetes-validate is not installed (python3 -m pip "
		"install kubernetes-validate; scripts/setup.sh does it)");
	cr_assert_eq(r.exit_code, 0, "not a valid v1.Pod (%s): %s%s", path, r.out, r.err);
	fx_run_result_free(&r);
}

/* PyYAML's reading of a YAML file, as JSON text (caller frees). */
static char *pyyaml_to_json(const char *path)
{
	const char *argv[] = { "python3", "-c", "import json, sys, yaml\n"
		"with open(sys.argv[1], encoding='utf-8') as f:\n"
		"    print(json.dumps(yaml.safe_load(f)))\n", path, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "PyYAML cannot read %s: %s", path, r.err);
	char *out = strdup(r.out);
	fx_run_result_free(&r);
	return out;
}

/* The two times in the copy's annotations differ between two runs a second
 * apart; the rest must be identical. */
static void drop_times(json_t *pod)
{
	json_t *a = json_object_get(json_object_get(pod, "metadata"), "annotations");
	json_object_del(a, "devkit.io/created");
	json_object_del(a, "devkit.io/expires");
}

static json_t *container(json_t *pod, const char *name)
{
	size_t i;
	json_t *c;
	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c) {
		if (strcmp(json_string_value(json_object_get(c, "name")), name) == 0)
			return c;
	}
	return NULL;
}

static const char *env_value(json_t *c, const char *name)
{
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(c, "env"), i, e) {
		if (strcmp(json_string_value(json_object_get(e, "name")), name) == 0)
			return json_string_value(json_object_get(e, "value"));
	}
	return NULL;
}

static int requests(const char *method)
{
	int n = fx_k8s_count_requests(&srv, method, NULL);
	cr_assert_geq(n, 0, "cannot count the mock's requests");
	return n;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot write %s", path);
	fputs(text, f);
	fclose(f);
}

/* --- tests ----------------------------------------------------------------- */

Test(replica_cli, dry_run_prints_a_valid_pod_with_the_options)
{
	apply_web(NS);
	const char *opts[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-dry",
		"--keep-alive", "--no-liveness", "--no-startup", "--jvm-exception-log",
		"--debug-port", "5005", "--tcpdump", "--tcpdump-filter", "port 8080", "--node",
		"node-1", "--log-file", "/tmp/app.log", "--tag", "alice", "--ttl", "2h", "--dry-run",
		NULL };
	const char *args[40];
	int n = 0;
	for (; opts[n]; n++)
		args[n] = opts[n];

	/* -o yaml is the default */
	fx_run_result yaml;
	args[n] = NULL;
	run(args, &yaml);
	cr_assert_eq(yaml.exit_code, 0, "%s", yaml.err);
	cr_assert(strncmp(yaml.out, "apiVersion: v1\n", 15) == 0, "%s", yaml.out);
	cr_assert(strstr(yaml.out, "\nkind: Pod\n"), "%s", yaml.out);
	/* the keep-alive script is readable: a literal block, not one long line */
	cr_assert(strstr(yaml.out, "- |"), "%s", yaml.out);

	fx_run_result js;
	args[n] = "-o";
	args[n + 1] = "json";
	args[n + 2] = NULL;
	run(args, &js);
	cr_assert_eq(js.exit_code, 0, "%s", js.err);
	json_error_t jerr;
	json_t *pod = json_loads(js.out, 0, &jerr);
	cr_assert(pod, "-o json is not JSON: %s: %s", jerr.text, js.out);

	/* the schema of the Kubernetes release, strictly (no unknown fields) */
	char path[300];
	snprintf(path, sizeof(path), "%s/pod.yaml", srv.dir);
	write_file(path, yaml.out);
	validate_pod_file(path);

	/* the YAML is the JSON, to two different readers */
	char err[256];
	json_t *back = devkit__yaml_to_json(yaml.out, yaml.out_len, DEVKIT__YAML_TYPED, err,
		sizeof(err));
	cr_assert(back, "the library cannot read the YAML: %s", err);
	char *py = pyyaml_to_json(path);
	json_t *back_py = json_loads(py, 0, &jerr);
	cr_assert(back_py, "%s", py);
	drop_times(pod);
	drop_times(back);
	drop_times(back_py);
	char *want = json_dumps(pod, JSON_SORT_KEYS | JSON_INDENT(1));
	char *got = json_dumps(back, JSON_SORT_KEYS | JSON_INDENT(1));
	char *got_py = json_dumps(back_py, JSON_SORT_KEYS | JSON_INDENT(1));
	cr_assert(json_equal(pod, back), "libyaml reads the YAML differently:\n%s\nvs -o json:\n%s",
		got, want);
	cr_assert(json_equal(pod, back_py), "PyYAML reads the YAML differently:\n%s\nvs -o json:\n%s",
		got_py, want);
	free(want);
	free(got);
	free(got_py);
	free(py);
	json_decref(back);
	json_decref(back_py);

	/* every tricky annotation survived */
	json_t *ann = json_object_get(json_object_get(pod, "metadata"), "annotations");
	for (int i = 0; tricky[i]; i++) {
		char key[64];
		snprintf(key, sizeof(key), "tricky.devkit.io/v%d", i);
		const char *v = json_string_value(json_object_get(ann, key));
		cr_assert(v && strcmp(v, tricky[i]) == 0, "%s: \"%s\" became \"%s\"", key, tricky[i],
			v ? v : "(missing)");
	}

	/* the options are applied */
	json_t *meta = json_object_get(pod, "metadata");
	json_t *labels = json_object_get(meta, "labels");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "name")), "web-alice-dry");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "namespace")), NS);
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/replica")), "true");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/owner")), "alice");
	cr_assert_str_eq(json_string_value(json_object_get(labels, "devkit.io/traffic-tag")),
		"alice");
	cr_assert(!json_object_get(labels, "app"), "the Service's selector label stayed");
	cr_assert_str_eq(json_string_value(json_object_get(ann, "devkit.io/source")),
		"deployment/web");
	json_t *spec = json_object_get(pod, "spec");
	cr_assert_str_eq(json_string_value(json_object_get(spec, "nodeName")), "node-1");
	json_t *web = container(pod, "web");
	cr_assert(web);
	cr_assert(!json_object_get(web, "livenessProbe"));
	cr_assert(!json_object_get(web, "startupProbe"));
	cr_assert(json_object_get(web, "readinessProbe"), "--no-readiness was not given");
	const char *jto = env_value(web, "JAVA_TOOL_OPTIONS");
	cr_assert(jto && strstr(jto, "-Xmx256m") && strstr(jto, "address=*:5005")
		&& strstr(jto, "-Xlog:exceptions=info"), "JAVA_TOOL_OPTIONS: %s", jto);
	char *cmd = json_dumps(json_object_get(web, "command"), 0);
	cr_assert(strstr(cmd, "devkit-keepalive") && strstr(cmd, "/tmp/app.log")
		&& strstr(cmd, "/app/app.jar"), "command: %s", cmd);
	free(cmd);
	json_t *dump = container(pod, "devkit-tcpdump");
	cr_assert(dump, "no tcpdump sidecar");
	char *dump_cmd = json_dumps(dump, 0);
	cr_assert(strstr(dump_cmd, "port 8080"), "%s", dump_cmd);
	free(dump_cmd);
	json_decref(pod);

	/* a dry run writes nothing */
	cr_assert_eq(requests("POST"), 0);
	cr_assert_eq(pod_code(NS, "web-alice-dry"), 404);
	fx_run_result_free(&yaml);
	fx_run_result_free(&js);
}

Test(replica_cli, create_and_wait_shows_each_stage)
{
	apply_web(NS);
	kubelet k;
	kubelet_start(&k, "web-alice-w", KUBELET_READY);
	const char *args[] = { "replicate", KC, "-n", NS, "--deployment", "web", "--name",
		"web-alice-w", "--keep-alive", "--wait", "--timeout", "60s", NULL };
	fx_run_result r;
	run(args, &r);
	kubelet_join(&k);
	cr_assert_eq(r.exit_code, 0, "stdout: %s\nstderr: %s", r.out, r.err);
	/* the name alone first, then each stage in order */
	cr_assert(strncmp(r.out, "web-alice-w\n", 12) == 0, "%s", r.out);
	const char *stages[] = { " created\n", " scheduled\n", " initialized\n",
		" containers-ready\n", " ready\n", NULL };
	const char *at = r.out;
	for (int i = 0; stages[i]; i++) {
		char want[100];
		snprintf(want, sizeof(want), "dev/web-alice-w%s", stages[i]);
		const char *hit = strstr(at, want);
		cr_assert(hit, "no \"%s\" after the earlier stages in:\n%s", want, r.out);
		at = hit + strlen(want);
	}
	cr_assert(strstr(at, "delete it with: devkit replica delete web-alice-w -n dev"), "%s",
		r.out);
	json_t *pod = pod_get(NS, "web-alice-w");
	cr_assert(pod, "the replica is not there");
	json_decref(pod);
	fx_run_result_free(&r);
}

Test(replica_cli, json_events_while_waiting)
{
	apply_web(NS);
	kubelet k;
	kubelet_start(&k, "web-alice-j", KUBELET_READY);
	const char *args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-j",
		"--wait", "--json", NULL };
	fx_run_result r;
	run(args, &r);
	kubelet_join(&k);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	/* one JSON object per line: created, the stages, ready */
	const char *want[] = { "created", "replica-stage:created", "replica-stage:scheduled",
		"replica-stage:initialized", "replica-stage:containers-ready", "replica-stage:ready",
		"ready", NULL };
	int w = 0;
	for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		json_error_t jerr;
		json_t *ev = json_loads(line, 0, &jerr);
		cr_assert(ev, "not JSON: %s", line);
		char got[100];
		const char *stage = json_string_value(json_object_get(ev, "stage"));
		snprintf(got, sizeof(got), "%s%s%s", json_string_value(json_object_get(ev, "event")),
			stage ? ":" : "", stage ? stage : "");
		cr_assert(want[w], "an event after ready: %s", line);
		cr_assert_str_eq(got, want[w], "event %d: %s", w, line);
		cr_assert_str_eq(json_string_value(json_object_get(ev, "name")), "web-alice-j");
		cr_assert_str_eq(json_string_value(json_object_get(ev, "namespace")), NS);
		w++;
		json_decref(ev);
	}
	cr_assert_null(want[w], "missing event %s", want[w]);
	fx_run_result_free(&r);
}

Test(replica_cli, a_stuck_pod_says_where_and_why)
{
	apply_web(NS);
	kubelet k;
	kubelet_start(&k, "web-alice-s", KUBELET_IMAGE_PULL_BACK_OFF);
	const char *args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-s",
		"--wait", "--timeout", "60s", NULL };
	long long t0 = fx_now_ms();
	fx_run_result r;
	run(args, &r);
	long long took = fx_now_ms() - t0;
	kubelet_join(&k);
	cr_assert_eq(r.exit_code, 1, "stdout: %s\nstderr: %s", r.out, r.err);
	/* it stopped as soon as the Pod could not get further, not at the timeout */
	cr_assert_lt(took, 30000, "took %lld ms", took);
	cr_assert(strstr(r.err, "devkit: replica dev/web-alice-s: cannot get further: container "
		"web: ImagePullBackOff"), "%s", r.err);
	cr_assert(strstr(r.err, "stage reached: initialized"), "%s", r.err);
	cr_assert(strstr(r.err, "Warning Failed: Failed to pull image"), "%s", r.err);
	cr_assert(strstr(r.err, "devkit replica delete web-alice-s -n dev"), "%s", r.err);
	/* progress up to where it stopped */
	cr_assert(strstr(r.out, "dev/web-alice-s scheduled"), "%s", r.out);
	/* the copy is left to look at */
	cr_assert_eq(pod_code(NS, "web-alice-s"), 200);
	fx_run_result_free(&r);
}

Test(replica_cli, list_shows_the_replicas)
{
	apply_web(NS);
	apply_web(FX_K8S_OTHER_NAMESPACE);
	const char *mk1[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-l",
		"--ttl", "2h", NULL };
	const char *mk2[] = { "replicate", KC, "-n", FX_K8S_OTHER_NAMESPACE, "--deployment", "web",
		"--name", "web-bob-l", "--owner", "bob", NULL };
	fx_run_result r;
	run(mk1, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "web-alice-l\n");
	fx_run_result_free(&r);
	run(mk2, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	/* not a replica: never listed */
	cr_assert_eq(fx_k8s_apply(&srv, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"plain\",\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"c\","
		"\"image\":\"busybox\"}]}}"), 0);

	const char *list[] = { "replica", "list", KC, NULL };
	run(list, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	char *header = strtok(r.out, "\n"), *row = strtok(NULL, "\n");
	cr_assert(header && row, "%s", r.out);
	const char *cols[] = { "NAME", "NAMESPACE", "OWNER", "SOURCE", "AGE", "EXPIRES", "PHASE",
		"NODE" };
	const char *p = header;
	for (int i = 0; i < 8; i++) {
		p = strstr(p, cols[i]);
		cr_assert(p, "no column %s in \"%s\"", cols[i], header);
		p += strlen(cols[i]);
	}
	cr_assert(strncmp(row, "web-alice-l", 11) == 0, "%s", row);
	cr_assert(strstr(row, " dev ") && strstr(row, " alice ") && strstr(row, " deployment/web ")
		&& strstr(row, " Pending ") && strstr(row, "<none>"), "%s", row);
	/* kubectl's way of writing 2 hours */
	cr_assert(strstr(row, " 119m ") || strstr(row, " 120m "), "expiry not about 2h: %s", row);
	cr_assert_null(strtok(NULL, "\n"), "a row for another namespace or a plain Pod");
	fx_run_result_free(&r);

	/* -A: every namespace, as JSON */
	const char *all[] = { "replica", "list", KC, "-A", "--json", NULL };
	run(all, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *rows = json_loads(r.out, 0, NULL);
	cr_assert(json_is_array(rows), "%s", r.out);
	cr_assert_eq(json_array_size(rows), 2, "%s", r.out);
	int seen = 0;
	size_t i;
	json_t *one;
	json_array_foreach(rows, i, one) {
		const char *name = json_string_value(json_object_get(one, "name"));
		const char *owner = json_string_value(json_object_get(one, "owner"));
		if (strcmp(name, "web-bob-l") == 0) {
			cr_assert_str_eq(owner, "bob");
			cr_assert_str_eq(json_string_value(json_object_get(one, "namespace")),
				FX_K8S_OTHER_NAMESPACE);
			seen |= 1;
		} else if (strcmp(name, "web-alice-l") == 0) {
			seen |= 2;
		}
	}
	cr_assert_eq(seen, 3, "%s", r.out);
	json_decref(rows);
	fx_run_result_free(&r);

	/* an empty namespace: no rows, a note on stderr, success */
	const char *empty[] = { "replica", "list", KC, "-n", "nobody-here", NULL };
	run(empty, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert(strstr(r.err, "no replicas in namespace nobody-here"), "%s", r.err);
	fx_run_result_free(&r);
}

Test(replica_cli, delete_waits_until_it_is_gone)
{
	apply_web(NS);
	const char *mk[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-d", NULL };
	fx_run_result r;
	run(mk, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);

	/* options after NAME, as kubectl allows */
	const char *del[] = { "replica", "delete", "web-alice-d", KC, "-n", NS, "--timeout", "30s",
		NULL };
	long long t0 = fx_now_ms();
	run(del, &r);
	long long took = fx_now_ms() - t0;
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "deleted dev/web-alice-d\n");
	/* it returned when the Pod was gone, not when it began terminating */
	cr_assert_geq(took, GRACE_MS - 100, "returned after %lld ms", took);
	cr_assert_eq(pod_code(NS, "web-alice-d"), 404);
	fx_run_result_free(&r);

	/* gone already: an error that says so */
	run(del, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "devkit: replica dev/web-alice-d: no such Pod"), "%s", r.err);
	fx_run_result_free(&r);

	/* somebody else's Pod is refused, and stays */
	cr_assert_eq(fx_k8s_apply(&srv, "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":"
		"{\"name\":\"plain\",\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"c\","
		"\"image\":\"busybox\"}]}}"), 0);
	const char *plain[] = { "replica", "delete", KC, "plain", NULL };
	run(plain, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "not a devkit replica"), "%s", r.err);
	cr_assert_eq(pod_code(NS, "plain"), 200);
	fx_run_result_free(&r);
}

Test(replica_cli, gc_deletes_only_the_expired)
{
	apply_web(NS);
	const char *short_lived[] = { "replicate", KC, "--deployment", "web", "--name",
		"web-alice-old", "--ttl", "1s", NULL };
	const char *long_lived[] = { "replicate", KC, "--deployment", "web", "--name",
		"web-alice-new", NULL };
	fx_run_result r;
	run(short_lived, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	run(long_lived, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	fx_sleep_ms(2100);

	/* the listing says so before gc */
	const char *list[] = { "replica", "list", KC, NULL };
	run(list, &r);
	cr_assert(strstr(r.out, "web-alice-old") && strstr(r.out, " expired "), "%s", r.out);
	fx_run_result_free(&r);

	const char *gc[] = { "gc", KC, NULL };
	run(gc, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "deleted dev/web-alice-old (from deployment/web, owner alice, "
		"expired "), "%s", r.out);
	cr_assert(!strstr(r.out, "web-alice-new"), "%s", r.out);
	fx_run_result_free(&r);
	/* marked for deletion (gone once the grace period ends); the other stays */
	json_t *old = pod_get(NS, "web-alice-old");
	cr_assert(!old || json_object_get(json_object_get(old, "metadata"), "deletionTimestamp"),
		"the expired replica is neither gone nor terminating");
	json_decref(old);
	cr_assert_eq(pod_code(NS, "web-alice-new"), 200);

	/* nothing left to do: said, and success; --json for scripts */
	fx_sleep_ms(GRACE_MS + 200);
	const char *again[] = { "gc", KC, "--json", NULL };
	run(again, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *doc = json_loads(r.out, 0, NULL);
	cr_assert(doc, "%s", r.out);
	cr_assert_eq(json_integer_value(json_object_get(doc, "deleted")), 0, "%s", r.out);
	cr_assert_eq(json_array_size(json_object_get(doc, "replicas")), 0, "%s", r.out);
	json_decref(doc);
	fx_run_result_free(&r);
}

Test(replica_cli, usage_errors_exit_2_before_any_request)
{
	apply_web(NS);
	cr_assert_eq(fx_k8s_reset(&srv), 0);
	apply_web(NS);
	int before = requests(NULL);
	const char *const cases[][16] = {
		{ "replicate", KC, NULL },                                      /* no source */
		{ "replicate", KC, "--pod", "a", "--deployment", "b", NULL },   /* two sources */
		{ "replicate", KC, "--deployment", "Web_1", NULL },
		{ "replicate", KC, "--deployment", "web", "--name", "Bad_Name", NULL },
		{ "replicate", KC, "--deployment", "web", "-n", "Not A Namespace", NULL },
		{ "replicate", KC, "--deployment", "web", "--istio", NULL },
		{ "replicate", KC, "--deployment", "web", "--tag-header", "x-a", NULL },
		{ "replicate", KC, "--deployment", "web", "--tag", "no spaces", NULL },
		{ "replicate", KC, "--deployment", "web", "--tcpdump-image", "i", NULL },
		{ "replicate", KC, "--deployment", "web", "-o", "yaml", NULL },
		{ "replicate", KC, "--deployment", "web", "--dry-run", "-o", "xml", NULL },
		{ "replicate", KC, "--deployment", "web", "--dry-run", "--wait", NULL },
		{ "replicate", KC, "--deployment", "web", "--timeout", "5m", NULL },
		{ "replicate", KC, "--deployment", "web", "--wait", "--timeout", "soon", NULL },
		{ "replicate", KC, "--deployment", "web", "--ttl", "0s", NULL },
		{ "replicate", KC, "--deployment", "web", "--ttl", "8 hours", NULL },
		{ "replicate", KC, "--deployment", "web", "--debug-port", "70000", NULL },
		{ "replicate", KC, "--deployment", "web", "--log-file", "app.log", NULL },
		{ "replicate", KC, "--deployment", "web", "--node", "", NULL },
		{ "replicate", KC, "--deployment", "web", "--frobnicate", NULL },
		{ "replicate", KC, "--deployment", "web", "extra", NULL },
		{ "replicate", KC, "--deployment", "web", "-A", NULL },
		{ "replicate", KC, "--deployment", "web", "--context", "a", "--context", "b", NULL },
		{ "replicate", KC, "--deployment", NULL },                      /* no value */
		{ "replica", NULL },
		{ "replica", "frob", NULL },
		{ "replica", "list", KC, "-A", "-n", "dev", NULL },
		{ "replica", "list", KC, "extra", NULL },
		{ "replica", "list", KC, "--timeout", "1m", NULL },
		{ "replica", "delete", KC, NULL },
		{ "replica", "delete", KC, "a", "b", NULL },
		{ "replica", "delete", KC, "Not/A/Name", NULL },
		{ "replica", "delete", KC, "a", "-A", NULL },
		{ "replica", "delete", KC, "a", "--timeout", "-1s", NULL },
		{ "gc", KC, "-A", "-n", "dev", NULL },
		{ "gc", KC, "--wait", NULL },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fx_run_result r;
		run(cases[i], &r);
		cr_assert_eq(r.exit_code, 2, "case %zu (%s %s ...): exit %d; stderr: %s", i,
			cases[i][0], cases[i][1] ? cases[i][1] : "", r.exit_code, r.err);
		cr_assert(strstr(r.err, "devkit: ") && strstr(r.err, "--help'."),
			"case %zu: no usage message: %s", i, r.err);
		cr_assert_str_eq(r.out, "", "case %zu printed on stdout", i);
		fx_run_result_free(&r);
	}
	cr_assert_eq(requests(NULL), before, "a usage error reached the API server");

	/* --help is not an error */
	const char *help[][4] = { { "replicate", "--help", NULL }, { "replica", "--help", NULL },
		{ "replica", "list", "--help", NULL }, { "replica", "delete", "-h", NULL },
		{ "gc", "--help", NULL }, { "help", "replicate", NULL } };
	for (size_t i = 0; i < sizeof(help) / sizeof(help[0]); i++) {
		fx_run_result r;
		run(help[i], &r);
		cr_assert_eq(r.exit_code, 0, "%s %s: %s", help[i][0], help[i][1], r.err);
		cr_assert(strncmp(r.out, "Usage: devkit ", 14) == 0, "%s", r.out);
		fx_run_result_free(&r);
	}
}

Test(replica_cli, contexts_and_kubeconfig_as_kubectl_reads_them)
{
	apply_web(NS);
	apply_web(FX_K8S_OTHER_NAMESPACE);
	const char *two = fx_k8s_kubeconfig(&srv, FX_K8S_KUBECONFIG_TWO_CONTEXTS);
	int before = requests(NULL);

	/* an unknown context: the library's message, which lists the contexts */
	const char *bad[] = { "replica", "list", "--kubeconfig", two, "--context", "prod", NULL };
	fx_run_result r;
	run(bad, &r);
	cr_assert(r.exit_code == 1 || r.exit_code == 2, "exit %d", r.exit_code);
	cr_assert(strstr(r.err, "devkit: ") && strstr(r.err, "\"prod\"")
		&& strstr(r.err, FX_K8S_CONTEXT) && strstr(r.err, FX_K8S_OTHER_CONTEXT), "%s", r.err);
	fx_run_result_free(&r);
	cr_assert_eq(requests(NULL), before, "an unusable kubeconfig reached the API server");

	/* the other context and its namespace */
	const char *other[] = { "replicate", "--kubeconfig", two, "--context", FX_K8S_OTHER_CONTEXT,
		"--deployment", "web", "--name", "web-alice-o", NULL };
	run(other, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	fx_run_result_free(&r);
	cr_assert_eq(pod_code(FX_K8S_OTHER_NAMESPACE, "web-alice-o"), 200);
	cr_assert_eq(pod_code(NS, "web-alice-o"), 404);

	/* $KUBECONFIG without --kubeconfig; its current context's namespace */
	kubeconfig_env = two;
	const char *list[] = { "replica", "list", NULL };
	run(list, &r);
	kubeconfig_env = NULL;
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.err, "no replicas in namespace " NS), "%s", r.err);
	fx_run_result_free(&r);

	/* a kubeconfig that is not there */
	const char *missing[] = { "replica", "list", "--kubeconfig", "/nonexistent/config", NULL };
	run(missing, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "/nonexistent/config"), "%s", r.err);
	fx_run_result_free(&r);
}

Test(replica_cli, forbidden_says_which_verb_and_resource)
{
	apply_web(NS);
	cr_assert_eq(fx_k8s_forbid(&srv, "create:pods"), 0);
	const char *args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-f",
		NULL };
	fx_run_result r;
	run(args, &r);
	cr_assert_eq(r.exit_code, 1);
	cr_assert(strstr(r.err, "devkit: ") && strstr(r.err, "forbidden")
		&& strstr(r.err, "cannot create resource \"pods\""), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	cr_assert_eq(pod_code(NS, "web-alice-f"), 404);
	fx_run_result_free(&r);

	/* with --json, the same as an error event */
	const char *json[] = { "replicate", KC, "--deployment", "web", "--json", NULL };
	run(json, &r);
	cr_assert_eq(r.exit_code, 1);
	json_t *ev = json_loads(r.out, 0, NULL);
	cr_assert(ev, "%s", r.out);
	cr_assert_str_eq(json_string_value(json_object_get(ev, "event")), "error");
	cr_assert(strstr(json_string_value(json_object_get(ev, "message")), "forbidden"));
	json_decref(ev);
	fx_run_result_free(&r);
}

Test(replica_cli, ctrl_c_while_waiting_leaves_the_replica)
{
	apply_web(NS);
	const char *args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-c",
		"--wait", "--context", FX_K8S_CONTEXT, NULL };
	char log[300];
	snprintf(log, sizeof(log), "%s/replicate.log", srv.dir);
	pid_t pid = fx_spawn(cli_argv(args), cli_env(), log);
	cr_assert_gt(pid, 0);
	/* "waiting up to ..." is printed once a signal stops the wait rather
	 * than the process */
	long long deadline = fx_now_ms() + 30000;
	for (;;) {
		FILE *f = fopen(log, "r");
		char text[4096] = "";
		if (f) {
			text[fread(text, 1, sizeof(text) - 1, f)] = '\0';
			fclose(f);
		}
		if (strstr(text, "waiting up to"))
			break;
		cr_assert_lt(fx_now_ms(), deadline, "devkit never started waiting: %s", text);
		fx_sleep_ms(50);
	}
	cr_assert_eq(pod_code(NS, "web-alice-c"), 200);
	cr_assert_eq(kill(pid, SIGINT), 0);
	int status = 0;
	deadline = fx_now_ms() + 10000;
	while (waitpid(pid, &status, WNOHANG) == 0) {
		cr_assert_lt(fx_now_ms(), deadline, "devkit did not end after SIGINT");
		fx_sleep_ms(50);
	}
	FILE *f = fopen(log, "r");
	cr_assert(f);
	char out[8192];
	size_t n = fread(out, 1, sizeof(out) - 1, f);
	out[n] = '\0';
	fclose(f);
	cr_log_info("%s", out);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %#x: %s", status, out);
	cr_assert(strstr(out, "SIGINT: stopped waiting; the replica dev/web-alice-c is left in "
		"place and expires at "), "%s", out);
	cr_assert(strstr(out, "devkit replica delete web-alice-c -n dev --context devkit-mock "
		"--kubeconfig "), "%s", out);
	cr_assert_eq(pod_code(NS, "web-alice-c"), 200);
}

Test(replica_cli, dry_run_with_istio_is_a_list_in_yaml_too)
{
	apply_web(NS);
	const char *yaml_args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-i",
		"--tag", "alice", "--istio", "--tag-header", "X-Dev", "--dry-run", NULL };
	const char *json_args[] = { "replicate", KC, "--deployment", "web", "--name", "web-alice-i",
		"--tag", "alice", "--istio", "--tag-header", "X-Dev", "--dry-run", "--json", NULL };
	fx_run_result y, j;
	run(yaml_args, &y);
	run(json_args, &j);
	cr_assert_eq(y.exit_code, 0, "%s", y.err);
	cr_assert_eq(j.exit_code, 0, "%s", j.err);
	json_t *list = json_loads(j.out, 0, NULL);
	cr_assert(list, "%s", j.out);
	char err[256];
	json_t *back = devkit__yaml_to_json(y.out, y.out_len, DEVKIT__YAML_TYPED, err, sizeof(err));
	cr_assert(back, "%s", err);
	json_t *items = json_object_get(list, "items");
	cr_assert_str_eq(json_string_value(json_object_get(list, "kind")), "List");
	cr_assert_eq(json_array_size(items), 3, "%s", j.out);
	const char *kinds[] = { "Pod", "DestinationRule", "VirtualService" };
	for (size_t i = 0; i < 3; i++) {
		json_t *item = json_array_get(items, i);
		cr_assert_str_eq(json_string_value(json_object_get(item, "kind")), kinds[i]);
		drop_times(item);
		drop_times(json_array_get(json_object_get(back, "items"), i));
	}
	cr_assert(json_equal(list, back), "the YAML is not the JSON:\n%s", y.out);
	cr_assert(strstr(j.out, "x-dev"), "the header is not lower-cased for Istio: %s", j.out);
	cr_assert_eq(requests("POST"), 0);
	json_decref(list);
	json_decref(back);
	fx_run_result_free(&y);
	fx_run_result_free(&j);
}
