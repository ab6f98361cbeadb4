/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_logs against the Kubernetes API mock, whose pods/log serves what
 * the test appends (fx_k8s_append_pod_log) with the kubelet's timestamps and
 * follow=true as a live chunked stream. The mock has no kubelet: the test
 * plays it (fx_k8s_set_pod_running, a terminated state to stop a
 * container).
 *
 * Broken connections are made by a relay in front of the mock
 * (cut_proxy.h) that drops the TCP connections in the middle of a stream,
 * as a proxy's idle timeout does; the client reaches the mock through it
 * (connect_to). No line may be lost or repeated.
 */
#include "cut_proxy.h"
#include "diag_test.h"

#define NS "dev"
#define POD "web-1"

TestSuite(logs, .init = NULL, .fini = dt_stop, .timeout = 180);

static const char pod_json[] =
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" POD "\","
	"\"namespace\":\"" NS "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":"
	"\"registry.example.com/shop/web:1.4.2\"}]}}";

static void start_running_pod(void)
{
	dt_start(NULL);
	cr_assert_eq(fx_k8s_apply(&dt_api, pod_json), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&dt_api, NS, POD), 0);
}

static void append(const char *text)
{
	cr_assert_eq(fx_k8s_append_pod_log(&dt_api, NS, POD, "app", text), 0);
}

static devkit_logs *start(devkit_k8s *k, devkit_logs_options *o)
{
	devkit_logs *l = NULL;
	o->namespace_name = NS;
	o->pod = POD;
	int rc = devkit_logs_start(&l, k, o);
	cr_assert_eq(rc, 0, "devkit_logs_start: %s", dt_err());
	return l;
}

static devkit_logs_options options(void)
{
	devkit_logs_options o;
	cr_assert_eq(devkit_logs_options_init(&o, DEVKIT_LOGS_OPTIONS_VERSION), 0);
	return o;
}

/* The next line must be `want`. */
static void expect_line(devkit_logs *l, const char *want)
{
	devkit_buf line = DEVKIT_BUF_INIT;
	int rc = devkit_logs_read(l, &line, 15000);
	cr_assert_eq(rc, 1, "waiting for \"%s\": %d (%s)", want, rc, rc < 0 ? dt_err() : "timeout");
	cr_assert_str_eq(line.ptr, want);
	devkit_buf_dispose(&line);
}

/* Nothing more within ms. */
static void expect_quiet(devkit_logs *l, int ms)
{
	devkit_buf line = DEVKIT_BUF_INIT;
	int rc = devkit_logs_read(l, &line, ms);
	cr_assert_eq(rc, 0, "expected no line, got %d: %s", rc, rc == 1 ? line.ptr : dt_err());
}

static void expect_end(devkit_logs *l, int code, const char *needle)
{
	devkit_buf line = DEVKIT_BUF_INIT;
	int rc = devkit_logs_read(l, &line, 15000);
	cr_assert_eq(rc, code, "expected the end (%d), got %d: %s", code, rc,
		rc == 1 ? line.ptr : dt_err());
	if (needle)
		cr_assert(strstr(dt_err(), needle), "\"%s\" lacks \"%s\"", dt_err(), needle);
}

/* The log requests the client made, as one string of paths. */
static char *log_requests(void)
{
	fx_run_result r;
	cr_assert_eq(fx_k8s_requests(&dt_api, &r), 0);
	json_t *doc = json_loads(r.out, 0, NULL);
	fx_run_result_free(&r);
	cr_assert(doc);
	size_t i, cap = 8192, len = 0;
	char *out = calloc(1, cap);
	json_t *it;
	json_array_foreach(json_object_get(doc, "items"), i, it) {
		const char *path = dt_str(it, "path");
		if (!strstr(path, "/log"))
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s\n", path);
	}
	json_decref(doc);
	return out;
}

Test(logs, follow_gets_lines_as_they_are_written)
{
	start_running_pod();
	append("starting shop-web 1.4.2\nlistening on :8080\n");
	devkit_logs_options o = options();
	o.follow = 1;
	devkit_logs *l = start(dt_k8s, &o);
	expect_line(l, "starting shop-web 1.4.2");
	expect_line(l, "listening on :8080");
	expect_quiet(l, 300);
	append("GET /cart 200\n");
	expect_line(l, "GET /cart 200");
	append("GET /checkout 500\njava.lang.IllegalStateException: no price\n");
	expect_line(l, "GET /checkout 500");
	expect_line(l, "java.lang.IllegalStateException: no price");
	/* A line written in two parts is one line, but the kubelet stamps each
	 * part it stored (pkg/kubelet/kuberuntime/logs/logs.go, logWriter.write
	 * prefixes every CRI entry): only the first stamp can be told from the
	 * text, the second stays inside the line (docs/diagnostics.md). */
	append("half a ");
	append("line\n");
	devkit_buf joined = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_logs_read(l, &joined, 15000), 1, "%s", dt_err());
	/* The test server may also join the parts before stamping (one stamp):
	 * either way the line arrives once, whole. */
	int stamped_inside = strlen(joined.ptr) == 7 + 30 + 1 + 4 &&
		strcmp(joined.ptr + 7 + 31, "line") == 0;
	cr_assert(strncmp(joined.ptr, "half a ", 7) == 0 &&
		(stamped_inside || strcmp(joined.ptr, "half a line") == 0), "%s", joined.ptr);
	devkit_buf_dispose(&joined);
	devkit_logs_stats st = DEVKIT_LOGS_STATS_INIT;
	cr_assert_eq(devkit_logs_get_stats(l, &st), 0);
	cr_assert_eq(st.lines, 6);
	cr_assert_eq(st.reconnects, 0);
	char *reqs = log_requests();
	cr_assert(strstr(reqs, "/api/v1/namespaces/dev/pods/web-1/log?timestamps=true&container=app"
		"&follow=true"), "%s", reqs);
	free(reqs);
	devkit_logs_free(l);
}

Test(logs, follow_ends_when_the_container_stops)
{
	start_running_pod();
	append("working\n");
	devkit_logs_options o = options();
	o.follow = 1;
	devkit_logs *l = start(dt_k8s, &o);
	expect_line(l, "working");
	append("shutting down\n");
	expect_line(l, "shutting down");
	/* play the kubelet: the container ends; the API server ends the stream */
	cr_assert_eq(fx_k8s_set_pod_status(&dt_api, NS, POD, "{\"phase\":\"Succeeded\","
		"\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,\"restartCount\":0,"
		"\"image\":\"registry.example.com/shop/web:1.4.2\",\"imageID\":\"\",\"state\":"
		"{\"terminated\":{\"exitCode\":0,\"reason\":\"Completed\"}}}]}"), 0);
	expect_end(l, DEVKIT_ECLOSED, "the container stopped: Completed");
	devkit_logs_free(l);
}

Test(logs, a_cut_stream_resumes_without_loss_or_repeats)
{
	start_running_pod();
	cut_proxy proxy;
	cr_assert_eq(cut_proxy_start(&proxy, dt_api.port), 0);
	char via[64];
	snprintf(via, sizeof(via), "127.0.0.1:%d", proxy.port);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&dt_api, FX_K8S_KUBECONFIG_DEFAULT);
	ko.connect_to = via;
	devkit_k8s *k = NULL;
	cr_assert_eq(devkit_k8s_open(&k, dt_ctx, &ko), 0, "%s", dt_err());

	/* three lines written at the same instant: told apart only by count */
	append("a1\na2\na3\n");
	devkit_logs_options o = options();
	o.follow = 1;
	devkit_logs *l = start(k, &o);
	expect_line(l, "a1");
	expect_line(l, "a2");
	expect_line(l, "a3");
	append("b1\n");
	expect_line(l, "b1");

	for (int round = 0; round < 3; round++) {
		int before = atomic_load(&proxy.cuts);
		cut_proxy_cut(&proxy);
		for (int i = 0; i < 100 && atomic_load(&proxy.cuts) == before; i++)
			usleep(10000);
		cr_assert_gt(atomic_load(&proxy.cuts), before, "the relay cut nothing");
		/* written while the client is disconnected (or reconnecting) */
		char text[64];
		snprintf(text, sizeof(text), "c%d-1\nc%d-2\n", round, round);
		append(text);
		snprintf(text, sizeof(text), "c%d-1", round);
		expect_line(l, text);
		snprintf(text, sizeof(text), "c%d-2", round);
		expect_line(l, text);
	}
	append("last\n");
	expect_line(l, "last");
	expect_quiet(l, 500);

	devkit_logs_stats st = DEVKIT_LOGS_STATS_INIT;
	cr_assert_eq(devkit_logs_get_stats(l, &st), 0);
	cr_assert_eq(st.lines, 11);
	cr_assert_geq(st.reconnects, 3);
	/* the resumed requests sent lines of the last second again: dropped */
	cr_assert_gt(st.duplicates_dropped, 0);
	char *reqs = log_requests();
	cr_assert(strstr(reqs, "&follow=true&sinceTime=20"), "a resumed request asks from the last "
		"line's time:\n%s", reqs);
	free(reqs);
	devkit_logs_free(l);
	devkit_k8s_free(k);
	cut_proxy_stop(&proxy);
}

Test(logs, a_slow_reader_pauses_the_stream_and_loses_nothing)
{
	start_running_pod();
	devkit_logs_options o = options();
	o.follow = 1;
	devkit_logs *l = start(dt_k8s, &o);
	/* 6 MiB in one append: every line has the same timestamp, so the resume
	 * after the pause must count exactly how many it already delivered */
	enum { LINES = 60000 };
	size_t cap = (size_t)LINES * 110;
	char *big = malloc(cap);
	size_t len = 0;
	for (int i = 0; i < LINES; i++)
		len += (size_t)snprintf(big + len, cap - len, "line %06d %s\n", i,
			"................................................................................"
			"........");
	append(big);
	free(big);
	usleep(1500 * 1000); /* the backlog fills up and the stream stops */
	devkit_buf line = DEVKIT_BUF_INIT;
	for (int i = 0; i < LINES; i++) {
		int rc = devkit_logs_read(l, &line, 20000);
		cr_assert_eq(rc, 1, "line %d: %d (%s)", i, rc, rc < 0 ? dt_err() : "timeout");
		char want[16];
		snprintf(want, sizeof(want), "line %06d", i);
		cr_assert(strncmp(line.ptr, want, strlen(want)) == 0, "line %d is \"%.20s\"", i,
			line.ptr);
	}
	devkit_buf_dispose(&line);
	expect_quiet(l, 300);
	devkit_logs_stats st = DEVKIT_LOGS_STATS_INIT;
	cr_assert_eq(devkit_logs_get_stats(l, &st), 0);
	cr_assert_eq(st.lines, LINES);
	cr_assert_geq(st.reconnects, 1, "the stream was never paused");
	cr_assert_geq(st.duplicates_dropped, 1);
	devkit_logs_free(l);
}

Test(logs, tail_since_and_previous_are_passed_through)
{
	start_running_pod();
	append("one\ntwo\nthree\nfour\n");
	devkit_logs_options o = options();
	o.tail_lines = 2;
	devkit_logs *l = start(dt_k8s, &o);
	expect_line(l, "three");
	expect_line(l, "four");
	expect_end(l, DEVKIT_ECLOSED, "has ended");
	devkit_logs_free(l);

	o = options();
	o.since_seconds = 3600;
	l = start(dt_k8s, &o);
	expect_line(l, "one");
	devkit_logs_free(l);

	/* the previous instance: give the container a last state, as a kubelet
	 * does after a restart */
	cr_assert_eq(fx_k8s_set_pod_previous_log(&dt_api, NS, POD, "app",
		"Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space\n"), 0);
	cr_assert_eq(fx_k8s_set_pod_status(&dt_api, NS, POD, "{\"containerStatuses\":[{\"name\":"
		"\"app\",\"ready\":true,\"restartCount\":1,\"image\":\"registry.example.com/shop/"
		"web:1.4.2\",\"imageID\":\"\",\"state\":{\"running\":{\"startedAt\":"
		"\"2024-05-01T12:00:00Z\"}},\"lastState\":{\"terminated\":{\"exitCode\":1,"
		"\"reason\":\"Error\"}}}]}"), 0);
	o = options();
	o.previous = 1;
	o.follow = 1; /* nothing to follow in an ended instance: read to the end */
	l = start(dt_k8s, &o);
	expect_line(l, "Exception in thread \"main\" java.lang.OutOfMemoryError: Java heap space");
	expect_end(l, DEVKIT_ECLOSED, "previous log of dev/web-1");
	devkit_logs_free(l);

	char *reqs = log_requests();
	cr_assert(strstr(reqs, "log?timestamps=true&container=app&tailLines=2\n"), "%s", reqs);
	cr_assert(strstr(reqs, "log?timestamps=true&container=app&sinceSeconds=3600\n"), "%s", reqs);
	cr_assert(strstr(reqs, "log?timestamps=true&container=app&previous=true\n"), "%s", reqs);
	free(reqs);
}

Test(logs, timestamps_are_kept_when_asked)
{
	start_running_pod();
	append("hello\n");
	devkit_logs_options o = options();
	o.timestamps = 1;
	devkit_logs *l = start(dt_k8s, &o);
	devkit_buf line = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_logs_read(l, &line, 10000), 1, "%s", dt_err());
	/* the kubelet's RFC3339NanoFixed: 2024-05-01T12:00:00.123456789Z hello */
	cr_assert_eq(strlen(line.ptr), 30 + 1 + 5, "%s", line.ptr);
	cr_assert_eq(line.ptr[10], 'T');
	cr_assert_eq(line.ptr[29], 'Z');
	cr_assert_str_eq(line.ptr + 31, "hello");
	devkit_buf_dispose(&line);
	devkit_logs_free(l);
}

Test(logs, to_a_file)
{
	start_running_pod();
	append("to the file 1\nto the file 2\n");
	char path[400];
	snprintf(path, sizeof(path), "%s/app.log", dt_api.dir);
	devkit_logs_options o = options();
	o.file = path;
	devkit_logs *l = start(dt_k8s, &o);
	/* the end is reported once the file is complete */
	expect_end(l, DEVKIT_ECLOSED, "has ended");
	char *text = dt_read_file(path);
	cr_assert_str_eq(text, "to the file 1\nto the file 2\n");
	free(text);
	devkit_logs_stats st = DEVKIT_LOGS_STATS_INIT;
	cr_assert_eq(devkit_logs_get_stats(l, &st), 0);
	cr_assert_eq(st.lines, 2);
	devkit_logs_free(l);

	o.file = "/nonexistent-dir/app.log";
	l = NULL;
	o.namespace_name = NS;
	o.pod = POD;
	cr_assert_eq(devkit_logs_start(&l, dt_k8s, &o), DEVKIT_EIO);
	cr_assert(strstr(dt_err(), "cannot open /nonexistent-dir/app.log"), "%s", dt_err());
	cr_assert_null(l);
}

Test(logs, errors_say_what_and_why)
{
	start_running_pod();
	devkit_logs_options o = options();
	devkit_logs *l = NULL;
	o.namespace_name = NS;
	o.pod = "no-such-pod";
	cr_assert_eq(devkit_logs_start(&l, dt_k8s, &o), DEVKIT_ENOTFOUND);
	cr_assert(strstr(dt_err(), "\"no-such-pod\" not found"), "%s", dt_err());

	/* a wrong container: the API server's 400, reported by read */
	o = options();
	o.container = "nope";
	l = start(dt_k8s, &o);
	expect_end(l, DEVKIT_EINVAL, "nope");
	devkit_logs_free(l);

	o = options();
	o.since_seconds = 10;
	o.since_time = "2024-05-01T12:00:00Z";
	o.pod = POD;
	cr_assert_eq(devkit_logs_start(&l, dt_k8s, &o), DEVKIT_EINVAL);
	o = options();
	o.pod = POD;
	o.since_time = "yesterday";
	cr_assert_eq(devkit_logs_start(&l, dt_k8s, &o), DEVKIT_EINVAL);
	cr_assert(strstr(dt_err(), "not an RFC 3339 time"), "%s", dt_err());
	o = options();
	o.version = 99;
	cr_assert_eq(devkit_logs_start(&l, dt_k8s, &o), DEVKIT_EINVAL);
	devkit_logs_free(NULL);
}

Test(logs, freeing_while_following_and_after_the_engine)
{
	start_running_pod();
	append("x\n");
	devkit_logs_options o = options();
	o.follow = 1;
	devkit_logs *l = start(dt_k8s, &o);
	expect_line(l, "x");
	devkit_logs_free(l); /* while the stream is open */

	devkit_logs *l2 = start(dt_k8s, &o);
	expect_line(l2, "x");
	/* the engine goes first: the log ends, and can still be freed (the
	 * client after it, in dt_stop) */
	devkit_ctx_free(dt_ctx);
	dt_ctx = NULL;
	expect_end(l2, DEVKIT_ECLOSED, NULL);
	devkit_logs_free(l2);
}
