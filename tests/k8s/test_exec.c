/* SPDX-License-Identifier: Apache-2.0 */
/*
 * exec and attach over WebSocket against the Kubernetes API fixture
 * (tests/fixtures/k8s_fixture.h), which answers as a 1.30+ API server and
 * kubelet do and runs the commands in a sandbox directory on this machine.
 * The fixture picks v5.channel.k8s.io whenever it is offered, as a real
 * server does; the v4 tests offer v4 alone (devkit__exec_offer) to play a
 * server from before 1.29, which picks v4 from the library's offer.
 * Pure functions (the Status on the error channel, the request path) are
 * tested without a server.
 */
#include "k8s_test.h"

#include <pthread.h>

#include "k8s/exec_int.h"
#include "k8s/exec_path.h"
#include "k8s/exec_status.h"
#include "k8s/ws_int.h"
#include "k8s_fixture.h"

#define POD "web-1"
#define POD_JSON \
	"{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" POD "\"," \
	"\"namespace\":\"dev\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"busybox\"," \
	"\"stdin\":true}]}}"

static fx_daemon api;
static devkit_ctx *ctx;
static devkit_k8s *k8s;

static void setup(void)
{
	kt_setup_dir();
	cr_assert_eq(devkit_ctx_new(&ctx, NULL), 0);
}

static void teardown(void)
{
	devkit_k8s_free(k8s);
	k8s = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_daemon_stop(&api);
	kt_remove_dir();
}

TestSuite(exec, .init = setup, .fini = teardown, .timeout = 240);

/* The fixture with a running Pod, and a client for it. */
static void start_api(const fx_k8s_options *o, fx_k8s_kubeconfig_variant variant)
{
	cr_assert_eq(fx_k8s_start(&api, o), 0, "the Kubernetes API fixture did not start "
		"(is its jar built? bash scripts/build_fixtures.sh)");
	cr_assert_eq(fx_k8s_apply(&api, POD_JSON), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&api, FX_K8S_NAMESPACE, POD), 0);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&api, variant);
	cr_assert_not_null(ko.kubeconfig);
	cr_assert_eq(devkit_k8s_open(&k8s, ctx, &ko), 0, "%s", kt_err());
}

static devkit_exec_options exec_opts(const char *command)
{
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.pod = POD;
	o.command = command;
	return o;
}

typedef struct output {
	char *out, *err;
	size_t out_len, err_len;
	int chunks;
} output;

static void append(char **buf, size_t *len, const char *bytes, size_t n)
{
	*buf = realloc(*buf, *len + n + 1);
	cr_assert_not_null(*buf);
	memcpy(*buf + *len, bytes, n);
	*len += n;
	(*buf)[*len] = '\0';
}

/* Read until both streams end; returns what the last read returned. */
static int read_all(devkit_exec *e, output *o)
{
	memset(o, 0, sizeof(*o));
	append(&o->out, &o->out_len, "", 0);
	append(&o->err, &o->err_len, "", 0);
	for (;;) {
		int stream;
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(e, &stream, &b, 20000);
		if (n <= 0)
			return n;
		cr_assert(stream == DEVKIT_EXEC_STDOUT || stream == DEVKIT_EXEC_STDERR);
		if (stream == DEVKIT_EXEC_STDOUT)
			append(&o->out, &o->out_len, b.ptr, (size_t)n);
		else
			append(&o->err, &o->err_len, b.ptr, (size_t)n);
		o->chunks++;
		devkit_buf_dispose(&b);
	}
}

static void output_free(output *o)
{
	free(o->out);
	free(o->err);
}

/* --- pure functions ----------------------------------------------------------------------- */

Test(exec_unit, status_success_and_exit_codes)
{
	devkit__exec_status st;
	const char *ok = "{\"metadata\":{},\"status\":\"Success\"}";
	cr_assert_eq(devkit__exec_status_parse(ok, strlen(ok), &st), 0);
	cr_assert_eq(st.exit_code, 0);
	const char *three = "{\"metadata\":{},\"status\":\"Failure\",\"message\":\"command "
		"terminated with non-zero exit code: error executing command [sh -c exit 3], exit code "
		"3\",\"reason\":\"NonZeroExitCode\",\"details\":{\"causes\":[{\"reason\":\"ExitCode\","
		"\"message\":\"3\"}]}}";
	cr_assert_eq(devkit__exec_status_parse(three, strlen(three), &st), 0);
	cr_assert_eq(st.exit_code, 3);
}

Test(exec_unit, status_failures)
{
	devkit__exec_status st;
	const char *internal = "{\"status\":\"Failure\",\"message\":\"container not found "
		"(\\\"app\\\")\",\"reason\":\"InternalError\",\"code\":500}";
	cr_assert_eq(devkit__exec_status_parse(internal, strlen(internal), &st), DEVKIT_ERROR);
	cr_assert(strstr(st.message, "container not found"), "%s", st.message);
	const char *no_cause = "{\"status\":\"Failure\",\"reason\":\"NonZeroExitCode\"}";
	cr_assert_eq(devkit__exec_status_parse(no_cause, strlen(no_cause), &st), DEVKIT_EPROTO);
	cr_assert_eq(devkit__exec_status_parse("not json", 8, &st), DEVKIT_EPROTO);
	const char *nf = "{\"status\":\"Failure\",\"message\":\"pods \\\"x\\\" not found\","
		"\"reason\":\"NotFound\"}";
	cr_assert_eq(devkit__exec_status_parse(nf, strlen(nf), &st), DEVKIT_ENOTFOUND);
}

Test(exec_unit, paths)
{
	devkit_exec_options o = exec_opts("echo a&b");
	o.container = "app";
	char *p = devkit__exec_path(&o, "dev");
	cr_assert_str_eq(p, "/api/v1/namespaces/dev/pods/" POD "/exec?command=sh&command=-c&"
		"command=echo%20a%26b&container=app&stdin=false&stdout=true&stderr=true&tty=false");
	free(p);
	o.argv_json = "[\"ls\", \"-l\", \"/tmp dir\"]";
	o.tty = 1;
	o.stdin_enabled = 1;
	p = devkit__exec_path(&o, "dev");
	cr_assert_str_eq(p, "/api/v1/namespaces/dev/pods/" POD "/exec?command=ls&command=-l&"
		"command=%2Ftmp%20dir&container=app&stdin=true&stdout=true&stderr=false&tty=true");
	free(p);
	o.attach = 1;
	p = devkit__exec_path(&o, "dev");
	cr_assert_str_eq(p, "/api/v1/namespaces/dev/pods/" POD "/attach?container=app&stdin=true&"
		"stdout=true&stderr=false&tty=true");
	free(p);
	o.attach = 0;
	o.argv_json = "[\"ls\", 3]";
	cr_assert_null(devkit__exec_path(&o, "dev"));
	cr_assert_eq(devkit_error_last()->code, DEVKIT_EINVAL);
	o.argv_json = "{}";
	cr_assert_null(devkit__exec_path(&o, "dev"));
	o.argv_json = NULL;
	o.command = NULL;
	cr_assert_null(devkit__exec_path(&o, "dev"));
}

/* --- against the fixture --------------------------------------------------------------------- */

Test(exec, echo_through_cat_with_half_close)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("cat; echo eof-seen");
	o.stdin_enabled = 1;
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	cr_assert_str_eq(devkit_exec_protocol(e), "v5.channel.k8s.io");
	cr_assert_eq(devkit_exec_write(e, "hello ", 6), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_write(e, "world\n", 6), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_close_stdin(e), 0, "%s", kt_err());
	output out;
	cr_assert_eq(read_all(e, &out), 0, "%s", kt_err());
	cr_assert_str_eq(out.out, "hello world\neof-seen\n");
	cr_assert_str_eq(out.err, "");
	int code;
	cr_assert_eq(devkit_exec_wait(e, 10000, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 0);
	cr_assert_eq(devkit_exec_write(e, "x", 1), DEVKIT_EINVAL, "stdin is closed");
	output_free(&out);
	devkit_exec_free(e);
}

Test(exec, stdout_and_stderr_apart)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("echo to-out; echo to-err >&2; echo more-out");
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	output out;
	cr_assert_eq(read_all(e, &out), 0, "%s", kt_err());
	cr_assert_str_eq(out.out, "to-out\nmore-out\n");
	cr_assert_str_eq(out.err, "to-err\n");
	output_free(&out);
	devkit_exec_free(e);
}

Test(exec, exit_codes)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("exit 0");
	int code = -1;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, NULL, NULL, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 0);
	o = exec_opts("echo partial; exit 3");
	devkit_buf out = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 3);
	cr_assert_str_eq(out.ptr, "partial\n");
	devkit_buf_dispose(&out);
	/* The streaming form says the same through devkit_exec_wait. */
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	output all;
	cr_assert_eq(read_all(e, &all), 0);
	cr_assert_eq(devkit_exec_wait(e, 10000, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 3);
	output_free(&all);
	devkit_exec_free(e);
}

Test(exec, run_with_stdin_and_argv)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts(NULL);
	o.argv_json = "[\"sh\", \"-c\", \"tr a-z A-Z; echo \\\"$0\\\" >&2\", \"arg zero\"]";
	/* Larger than every buffer on the way: a command that echoes its
	 * input must not deadlock the one-call form. */
	size_t len = 3 * 1024 * 1024;
	char *in = malloc(len);
	for (size_t i = 0; i < len; i++)
		in[i] = "abcdefgh\n"[i % 9];
	devkit_buf out = DEVKIT_BUF_INIT, err = DEVKIT_BUF_INIT;
	int code = -1;
	cr_assert_eq(devkit_exec_run(k8s, &o, in, len, &out, &err, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 0);
	cr_assert_eq(out.size, len);
	cr_assert_eq(memcmp(out.ptr, "ABCDEFGH\nABCDEFGH\n", 18), 0);
	cr_assert_str_eq(err.ptr, "arg zero\n");
	free(in);
	devkit_buf_dispose(&out);
	devkit_buf_dispose(&err);
}

Test(exec, long_command_line)
{
	/* Up to the WebSocket library's limit a long command runs; beyond it the
	 * error says why and what to do, instead of the server's bare 400. */
	start_api(NULL, FX_K8S_KUBECONFIG_TOKEN);
	size_t sizes[] = { 1700, 3000 };
	for (int i = 0; i < 2; i++) {
		size_t n = sizes[i];
		char *cmd = malloc(n + 64);
		strcpy(cmd, "printf %s '");
		size_t at = strlen(cmd);
		memset(cmd + at, 'a', n);
		strcpy(cmd + at + n, "' | wc -c");
		devkit_exec_options o = exec_opts(cmd);
		devkit_buf out = DEVKIT_BUF_INIT;
		int code = -1;
		int rc = devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code);
		if (i == 0) {
			cr_assert_eq(rc, 0, "%s", kt_err());
			cr_assert_eq(strtol(out.ptr, NULL, 10), (long)n, "wc -c said %s", out.ptr);
		} else {
			cr_assert_eq(rc, DEVKIT_EINVAL, "rc %d: %s", rc, kt_err());
			cr_assert(strstr(kt_err(), "the command is too long") && strstr(kt_err(), "sh -s"),
				"%s", kt_err());
		}
		devkit_buf_dispose(&out);
		free(cmd);
	}
}

Test(exec, server_failure_after_upgrade)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts(NULL);
	o.argv_json = "[\"no-such-program-devkit\"]";
	int code = -1;
	int rc = devkit_exec_run(k8s, &o, NULL, 0, NULL, NULL, &code);
	/* A shell would say 127; without one the runtime cannot start it and
	 * the server says so on the error channel. Either is an answer. */
	if (rc == 0)
		cr_assert_neq(code, 0);
	else
		cr_assert(strstr(kt_err(), "no-such-program-devkit"), "%s", kt_err());
}

Test(exec, v4_when_the_server_picks_it)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit__exec_offer = "v4.channel.k8s.io";
	devkit_exec_options o = exec_opts("echo out4; echo err4 >&2; exit 5");
	o.stdin_enabled = 1;
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	cr_assert_str_eq(devkit_exec_protocol(e), "v4.channel.k8s.io");
	/* v4 cannot half-close stdin, and says so. */
	cr_assert_eq(devkit_exec_close_stdin(e), DEVKIT_EUNSUPPORTED);
	cr_assert(strstr(kt_err(), "v5.channel.k8s.io"), "%s", kt_err());
	output out;
	cr_assert_eq(read_all(e, &out), 0, "%s", kt_err());
	cr_assert_str_eq(out.out, "out4\n");
	cr_assert_str_eq(out.err, "err4\n");
	int code;
	cr_assert_eq(devkit_exec_wait(e, 10000, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 5);
	output_free(&out);
	devkit_exec_free(e);
	/* The one-call form with stdin needs the half-close: a clear error. */
	o = exec_opts("cat");
	cr_assert_eq(devkit_exec_run(k8s, &o, "x", 1, NULL, NULL, &code), DEVKIT_EUNSUPPORTED);
}

typedef struct slow_reader {
	devkit_exec *e;
	size_t total, max_queued, bad;
	int rc;
} slow_reader;

Test(exec, large_output_slow_reader_bounded)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	const size_t size = 8u * 1024 * 1024;
	devkit_exec_options o = exec_opts("head -c 8388608 /dev/zero | tr '\\000' x; echo done >&2");
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	slow_reader r = { .e = e };
	int reads = 0;
	for (;;) {
		/* Slow for the first megabytes: the server must be held back. */
		if (r.total < 3 * 1024 * 1024)
			usleep(150 * 1000);
		uv_mutex_lock(&e->lock);
		if (e->out_bytes > r.max_queued)
			r.max_queued = e->out_bytes;
		uv_mutex_unlock(&e->lock);
		int stream;
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(e, &stream, &b, 20000);
		if (n <= 0) {
			r.rc = n;
			break;
		}
		if (stream == DEVKIT_EXEC_STDOUT) {
			for (int i = 0; i < n; i++)
				r.bad += b.ptr[i] != 'x';
			r.total += (size_t)n;
		}
		reads++;
		devkit_buf_dispose(&b);
	}
	cr_assert_eq(r.rc, 0, "%s", kt_err());
	cr_assert_eq(r.total, size);
	cr_assert_eq(r.bad, 0);
	/* Not 8 MiB: reading stopped at the high mark (plus what was already
	 * on its way through libwebsockets' receive buffer). */
	cr_assert_leq(r.max_queued, DEVKIT__EXEC_OUT_HIGH + 256 * 1024, "queued %zu", r.max_queued);
	cr_assert_geq(r.max_queued, DEVKIT__EXEC_OUT_HIGH, "the reader was slow: the queue should "
		"have filled (%zu)", r.max_queued);
	int code;
	cr_assert_eq(devkit_exec_wait(e, 10000, &code), 0, "%s", kt_err());
	cr_assert_eq(code, 0);
	devkit_exec_free(e);
}

Test(exec, tty_and_resize)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("sleep 1; stty size; echo to-err >&2");
	o.tty = 1;
	o.stdin_enabled = 1;
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_resize(e, 123, 45), 0, "%s", kt_err());
	output out;
	cr_assert_eq(read_all(e, &out), 0, "%s", kt_err());
	/* One terminal: stderr comes on stdout, lines end in \r\n. */
	cr_assert(strstr(out.out, "45 123"), "%s", out.out);
	cr_assert(strstr(out.out, "to-err"), "%s", out.out);
	cr_assert_str_eq(out.err, "");
	output_free(&out);
	devkit_exec_free(e);
	o.tty = 0;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_resize(e, 80, 24), DEVKIT_EINVAL);
	devkit_exec_free(e);
}

Test(exec, missing_pod_not_found)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("true");
	o.pod = "nope";
	devkit_exec *e = (devkit_exec *)1;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), DEVKIT_ENOTFOUND, "%s", kt_err());
	cr_assert_null(e);
	cr_assert(strstr(kt_err(), "pods \"nope\" not found"), "%s", kt_err());
	cr_assert(strstr(kt_err(), "dev/nope"), "%s", kt_err());
	int code;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, NULL, NULL, &code), DEVKIT_ENOTFOUND);
}

Test(exec, tls_with_client_certificate)
{
	fx_k8s_options fo = { .tls = 1, .require_client_cert = 1 };
	start_api(&fo, FX_K8S_KUBECONFIG_CERT_DATA);
	devkit_exec_options o = exec_opts("echo over-tls");
	devkit_buf out = DEVKIT_BUF_INIT;
	int code;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
	cr_assert_str_eq(out.ptr, "over-tls\n");
	devkit_buf_dispose(&out);
	/* Several sessions at once share the TLS context. */
	devkit_exec *e[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(devkit_exec_start(&e[i], k8s, &o), 0, "%s", kt_err());
	for (int i = 0; i < 4; i++) {
		output all;
		cr_assert_eq(read_all(e[i], &all), 0, "%s", kt_err());
		cr_assert_str_eq(all.out, "over-tls\n");
		output_free(&all);
		devkit_exec_free(e[i]);
	}
}

Test(exec, tls_context_released_when_idle)
{
	/* The client key lives in the vhost's TLS context: it goes when no
	 * session has used it for the linger time, and comes back on demand. */
	devkit__ws_vhost_linger_ms = 100;
	fx_k8s_options fo = { .tls = 1, .require_client_cert = 1 };
	start_api(&fo, FX_K8S_KUBECONFIG_CERT_DATA);
	devkit_exec_options o = exec_opts("echo again");
	for (int i = 0; i < 3; i++) {
		devkit_buf out = DEVKIT_BUF_INIT;
		int code;
		cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
		cr_assert_str_eq(out.ptr, "again\n");
		devkit_buf_dispose(&out);
		usleep(400 * 1000);
	}
}

Test(exec, tls_token_and_insecure)
{
	fx_k8s_options fo = { .tls = 1, .token = "stream-token" };
	start_api(&fo, FX_K8S_KUBECONFIG_TOKEN);
	devkit_exec_options o = exec_opts("echo with-token");
	devkit_buf out = DEVKIT_BUF_INIT;
	int code;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
	cr_assert_str_eq(out.ptr, "with-token\n");
	devkit_buf_dispose(&out);
	devkit_k8s_free(k8s);
	k8s = NULL;
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_INSECURE);
	cr_assert_eq(devkit_k8s_open(&k8s, ctx, &ko), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
	cr_assert_str_eq(out.ptr, "with-token\n");
	devkit_buf_dispose(&out);
}

Test(exec, wrong_server_name_refused)
{
	fx_k8s_options fo = { .tls = 1, .token = "stream-token" };
	cr_assert_eq(fx_k8s_start(&api, &fo), 0);
	cr_assert_eq(fx_k8s_apply(&api, POD_JSON), 0);
	cr_assert_eq(fx_k8s_set_pod_running(&api, FX_K8S_NAMESPACE, POD), 0);
	/* The fixture's certificate names 127.0.0.1 and localhost only. */
	const char *cfg = kt_write("kc.yaml",
		"apiVersion: v1\nkind: Config\n"
		"clusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:%d\n"
		"    certificate-authority: %s/ca.crt\n    tls-server-name: kubernetes.invalid\n"
		"users:\n- name: u\n  user: {token: stream-token}\n"
		"contexts:\n- name: x\n  context: {cluster: c, user: u, namespace: dev}\n"
		"current-context: x\n", api.port, api.dir);
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = cfg;
	cr_assert_eq(devkit_k8s_open(&k8s, ctx, &ko), 0, "%s", kt_err());
	devkit_exec_options o = exec_opts("true");
	int code;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, NULL, NULL, &code), DEVKIT_EPROTO);
	cr_assert(strstr(kt_err(), "kubernetes.invalid"), "%s", kt_err());
	cr_assert_null(strstr(kt_err(), "stream-token"), "no secret in messages");
}

Test(exec, attach_to_the_main_process)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts(NULL);
	o.attach = 1;
	o.stdin_enabled = 1;
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	const char *line = "echo attached-$((40 + 2))\n";
	cr_assert_eq(devkit_exec_write(e, line, strlen(line)), 0, "%s", kt_err());
	char seen[256] = "";
	for (int i = 0; i < 50 && !strstr(seen, "attached-42"); i++) {
		int stream;
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(e, &stream, &b, 10000);
		cr_assert_gt(n, 0, "%s", kt_err());
		strncat(seen, b.ptr, sizeof(seen) - strlen(seen) - 1);
		devkit_buf_dispose(&b);
	}
	cr_assert(strstr(seen, "attached-42"), "%s", seen);
	devkit_exec_free(e);
}

Test(exec, free_mid_stream)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	/* Endless output, read once, then gone: no leak, no hang. */
	devkit_exec_options o = exec_opts("yes devkit");
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	int stream;
	devkit_buf b = DEVKIT_BUF_INIT;
	cr_assert_gt(devkit_exec_read(e, &stream, &b, 10000), 0, "%s", kt_err());
	devkit_buf_dispose(&b);
	devkit_exec_free(e);
	/* Freed with a writer's data still queued and never read. */
	o = exec_opts("sleep 30");
	o.stdin_enabled = 1;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	char chunk[4096] = { 0 };
	cr_assert_eq(devkit_exec_write(e, chunk, sizeof(chunk)), 0, "%s", kt_err());
	devkit_exec_free(e);
	/* The client still works afterwards. */
	o = exec_opts("echo still-fine");
	devkit_buf out = DEVKIT_BUF_INIT;
	int code;
	cr_assert_eq(devkit_exec_run(k8s, &o, NULL, 0, &out, NULL, &code), 0, "%s", kt_err());
	cr_assert_str_eq(out.ptr, "still-fine\n");
	devkit_buf_dispose(&out);
}

typedef struct blocked_reader {
	devkit_exec *e;
	int rc;
} blocked_reader;

static void *read_blocked(void *arg)
{
	blocked_reader *r = arg;
	int stream;
	devkit_buf b = DEVKIT_BUF_INIT;
	r->rc = devkit_exec_read(r->e, &stream, &b, -1);
	devkit_buf_dispose(&b);
	return NULL;
}

Test(exec, engine_freed_under_a_session)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec_options o = exec_opts("sleep 30");
	devkit_exec *e;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	/* A reader blocked with no limit wakes when the engine goes. */
	blocked_reader r = { e, 1 };
	pthread_t t;
	pthread_create(&t, NULL, read_blocked, &r);
	usleep(200 * 1000);
	/* The client is freed after the engine (teardown), as it allows. */
	devkit_ctx_free(ctx);
	ctx = NULL;
	pthread_join(t, NULL);
	cr_assert_eq(r.rc, DEVKIT_ECLOSED);
	int code;
	cr_assert_eq(devkit_exec_wait(e, 0, &code), DEVKIT_ECLOSED);
	cr_assert_eq(devkit_exec_write(e, "x", 1), DEVKIT_EINVAL, "stdin not enabled");
	devkit_exec_free(e);
}

Test(exec, bad_arguments)
{
	start_api(NULL, FX_K8S_KUBECONFIG_DEFAULT);
	devkit_exec *e;
	devkit_exec_options o = exec_opts("true");
	o.version = 99;
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), DEVKIT_EINVAL);
	o = exec_opts(NULL);
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), DEVKIT_EINVAL);
	cr_assert_eq(devkit_exec_start(NULL, k8s, &o), DEVKIT_EINVAL);
	o = exec_opts("true");
	cr_assert_eq(devkit_exec_start(&e, k8s, &o), 0, "%s", kt_err());
	cr_assert_eq(devkit_exec_write(e, "x", 1), DEVKIT_EINVAL);
	cr_assert_eq(devkit_exec_close_stdin(e), DEVKIT_EINVAL);
	devkit_exec_free(e);
	devkit_exec_free(NULL);
}
