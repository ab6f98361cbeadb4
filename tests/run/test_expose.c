/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit expose` end to end, the way a developer uses it: a service on this
 * machine (python3 -m http.server on 127.0.0.1) is registered in an etcd that
 * runs inside the cloud (the cloud fixture's namespace), through the bastion,
 * under the bastion's loopback address and the port of a reverse forward.
 * Then, as a caller inside the cloud would: `etcdctl get` finds the entry and
 * `curl` at the address in it reaches the local service through the bastion.
 *
 * Also: Ctrl-C removes the entry at once; a registry that is down at start is
 * retried (with the reason shown) until it comes up; a SIGKILLed devkit leaves
 * the entry only until its TTL; a registration refused for good (wrong URL,
 * bad credentials) exits 1 with the registry's reason; usage errors exit 2
 * before any traffic. The bastion's loopback is where the reverse forward
 * listens, hence --advertise 127.0.0.1 --remote-bind 127.0.0.1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <jansson.h>
#include <sys/wait.h>

#include "../tunnel/tunnel_test.h"
#include "cloud_fixture.h"
#include "etcd_fixture.h"

#define SERVICE "orders-dev"
#define PREFIX "/micro/registry/" SERVICE

static fx_cloud cloud;
static fx_daemon etcd;
static tt_http_server http;
static pid_t ex_pid;
static char ex_log[300];

/* Keep the user's proxy settings out of curl's way. */
static const char *const no_proxy_env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
	"HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=", "NO_PROXY=", "no_proxy=", NULL };

static void ex_kill(void)
{
	if (ex_pid > 0) {
		fx_proc_tree_signal(ex_pid, SIGKILL, 1);
		fx_proc_reap(ex_pid, 5000);
		ex_pid = 0;
	}
}

static void setup(void)
{
	cr_assert_eq(fx_cloud_start(&cloud), 0, "the cloud did not start (see stderr)");
	fprintf(stderr, "[expose] %s\n", fx_cloud_describe(&cloud));
	tt_http_start(&http);
	snprintf(ex_log, sizeof(ex_log), "%s/expose.log", cloud.dir);
}

static void teardown(void)
{
	ex_kill();
	fx_daemon_stop(&etcd);
	tt_http_stop(&http);
	fx_cloud_stop(&cloud);
}

TestSuite(expose, .init = setup, .fini = teardown, .timeout = 180);

static const char *devkit_path(void)
{
	const char *b = getenv("DEVKIT_BUILD_DIR");
	const char *path = tt_fmt("%s/bin/devkit", b && *b ? b : "build");
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* etcd inside the cloud (on the host's loopback when there is no namespace). */
static void etcd_start(void)
{
	cr_assert_eq(fx_etcd_start(&etcd, cloud.netns ? cloud.ns : NULL), 0,
		"etcd did not start (see stderr)");
}

/* A command run as a caller inside the cloud. */
static void cloud_run(const char *const argv[], fx_run_result *r)
{
	const char *full[40];
	int n = 0;
	if (cloud.netns) {
		full[n++] = "ip";
		full[n++] = "netns";
		full[n++] = "exec";
		full[n++] = cloud.ns;
	}
	for (int i = 0; argv[i] && n < 39; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	cr_assert_eq(fx_run(full, no_proxy_env, NULL, 30000, r), 0, "cannot run %s", argv[0]);
}

/* etcdctl's login once a test has enabled authentication in etcd. */
static const char *etcd_user;

/* `etcdctl get --prefix /micro/registry/orders-dev`, inside the cloud: the
 * keys and values, one per line ("" when there is none). Caller frees. */
static char *etcd_entries(void)
{
	const char *args[] = { "get", "--prefix", PREFIX, etcd_user, NULL };
	fx_run_result r;
	cr_assert_eq(fx_etcdctl(&etcd, args, &r), 0);
	cr_assert_eq(r.exit_code, 0, "etcdctl get: exit %d: %s", r.exit_code, r.err);
	char *out = strdup(r.out);
	fx_run_result_free(&r);
	return out;
}

static int etcd_has_entry(void)
{
	char *out = etcd_entries();
	int present = strstr(out, PREFIX "/") != NULL;
	free(out);
	return present;
}

/* Poll etcd until the entry is gone; the milliseconds it took, or -1 after
 * timeout_ms. */
static long long etcd_wait_gone(int timeout_ms)
{
	long long start = fx_now_ms();
	while (etcd_has_entry()) {
		if (fx_now_ms() - start > timeout_ms)
			return -1;
		fx_sleep_ms(100);
	}
	return fx_now_ms() - start;
}

/* argv of `devkit expose` for this cloud, its etcd, and the local service,
 * followed by extra (NULL-terminated). */
static const char **ex_argv(int json, const char *const extra[])
{
	static const char *argv[64];
	int n = 0;
	argv[n++] = devkit_path();
	argv[n++] = "expose";
	argv[n++] = "--no-agent";
	argv[n++] = "--bastion";
	argv[n++] = cloud.bastion;
	argv[n++] = "-i";
	argv[n++] = cloud.identity;
	argv[n++] = "--known-hosts";
	argv[n++] = cloud.known_hosts;
	argv[n++] = "--local";
	argv[n++] = tt_fmt("127.0.0.1:%d", http.port);
	argv[n++] = "--registry";
	argv[n++] = tt_fmt("etcd://127.0.0.1:%d", etcd.port);
	argv[n++] = "--service";
	argv[n++] = SERVICE;
	argv[n++] = "--meta";
	argv[n++] = "version=2";
	argv[n++] = "--tag";
	argv[n++] = "alice";
	argv[n++] = "--advertise";
	argv[n++] = "127.0.0.1";
	argv[n++] = "--remote-bind";
	argv[n++] = "127.0.0.1";
	if (json)
		argv[n++] = "--json";
	for (int i = 0; extra && extra[i] && n < 63; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	return argv;
}

/* Start devkit expose in the background; stdout and stderr go to ex_log. */
static void ex_start(int json, const char *const extra[], const char *const env[])
{
	unlink(ex_log);
	ex_pid = fx_spawn(ex_argv(json, extra), env, ex_log);
	cr_assert_gt(ex_pid, 0, "cannot start devkit expose");
}

static char *ex_output(void)
{
	char *log = tt_read_file(ex_log);
	return log ? log : strdup("");
}

/* Wait until a complete line of the output contains `needle`; returns that
 * line (static). Fails, with the output, if devkit exits first. */
static const char *ex_wait_line(const char *needle, int timeout_ms)
{
	static char line[8192];
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		char *log = ex_output();
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
		if (ex_pid > 0 && fx_proc_reap(ex_pid, 0) == 0) {
			ex_pid = 0;
			cr_assert_fail("devkit expose exited before printing '%s':\n%s", needle, log);
		}
		if (fx_now_ms() > deadline)
			cr_assert_fail("devkit expose printed no '%s' in %d ms:\n%s", needle, timeout_ms,
				log);
		free(log);
		fx_sleep_ms(20);
	}
}

/* Wait for devkit to exit; its exit status, or -1 (killed, or still running
 * after timeout_ms). */
static int ex_wait_exit(int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	while (fx_now_ms() < deadline) {
		int status;
		pid_t w = waitpid(ex_pid, &status, WNOHANG);
		if (w == ex_pid) {
			ex_pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		fx_sleep_ms(20);
	}
	return -1;
}

static int ex_signal(int sig)
{
	cr_assert_eq(kill(ex_pid, sig), 0);
	return ex_wait_exit(15000);
}

static json_t *parse_line(const char *line)
{
	json_error_t err;
	json_t *j = json_loads(line, 0, &err);
	cr_assert_not_null(j, "not JSON (%s): %s", err.text, line);
	return j;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	cr_assert_not_null(s, "no string \"%s\" in %s", key, json_dumps(o, JSON_COMPACT));
	return s;
}

/* The JSON value of an etcd entry (the line after its key). Caller decrefs. */
static json_t *entry_value(const char *entries)
{
	const char *key = strstr(entries, PREFIX "/");
	cr_assert_not_null(key, "no entry under " PREFIX ":\n%s", entries);
	const char *value = strchr(key, '\n');
	cr_assert_not_null(value, "no value after the key:\n%s", entries);
	return parse_line(value + 1);
}

/* The ready line's remote port, after checking it says what was asked. */
static int check_ready(const char *line)
{
	json_t *ready = parse_line(line);
	cr_assert_str_eq(jstr(ready, "event"), "ready");
	cr_assert_str_eq(jstr(ready, "state"), "registered");
	cr_assert_str_eq(jstr(ready, "service"), SERVICE);
	cr_assert_str_eq(jstr(ready, "address"), "127.0.0.1");
	cr_assert_str_eq(jstr(ready, "local"), tt_fmt("127.0.0.1:%d", http.port));
	int port = (int)json_integer_value(json_object_get(ready, "port"));
	json_t *remote = json_object_get(ready, "remote");
	cr_assert_gt(port, 0, "%s", line);
	cr_assert_eq(json_integer_value(json_object_get(remote, "port")), port,
		"the advertised port is not the forward's: %s", line);
	cr_assert_str_eq(jstr(ready, "instance_id"), tt_fmt(SERVICE "-127.0.0.1-%d", port));
	json_decref(ready);
	return port;
}

/* As a caller inside the cloud: the entry, and the local service through it. */
static void check_cloud_reaches_local(int port)
{
	char *entries = etcd_entries();
	json_t *v = entry_value(entries);
	json_t *node = json_array_get(json_object_get(v, "nodes"), 0);
	cr_assert_str_eq(jstr(node, "address"), tt_fmt("127.0.0.1:%d", port), "%s", entries);
	json_t *meta = json_object_get(node, "metadata");
	cr_assert_str_eq(jstr(meta, "version"), "2", "%s", entries);
	cr_assert_str_eq(jstr(meta, "tag"), "alice", "%s", entries);
	json_decref(v);
	free(entries);

	const char *argv[] = { "curl", "-sS", "--max-time", "20", "--noproxy", "*",
		tt_fmt("http://127.0.0.1:%d/hello.txt", port), NULL };
	fx_run_result r;
	cloud_run(argv, &r);
	cr_assert_eq(r.exit_code, 0, "curl inside the cloud: exit %d: %s", r.exit_code, r.err);
	cr_assert_str_eq(r.out, TT_HTTP_BODY, "curl inside the cloud got: %s", r.out);
	fx_run_result_free(&r);
}

Test(expose, registers_and_cloud_reaches_local_service)
{
	etcd_start();
	ex_start(1, NULL, NULL);
	const char *line = ex_wait_line("{\"event\":\"ready\"", 30000);
	int port = check_ready(line);
	/* The registry was up: "ready" is the first JSON line. */
	char *log = ex_output();
	cr_assert_eq(strncmp(strstr(log, "{"), line, strlen(line)), 0,
		"events came before ready:\n%s", log);
	free(log);

	check_cloud_reaches_local(port);

	cr_assert_eq(ex_signal(SIGINT), 0, "devkit expose did not exit 0 on SIGINT:\n%s",
		ex_output());
	/* Deregistered before the process exited: gone at once, not after a TTL. */
	char *entries = etcd_entries();
	cr_assert(strstr(entries, PREFIX "/") == NULL, "the entry outlived devkit:\n%s", entries);
	free(entries);
	log = ex_output();
	cr_assert(strstr(log, "\"event\":\"closing\"") && strstr(log, "\"signal\":\"SIGINT\""),
		"%s", log);
	cr_assert(strstr(log, "\"state\":\"deregistered\"") != NULL, "%s", log);
	free(log);
}

Test(expose, human_output_and_sigterm)
{
	etcd_start();
	ex_start(0, NULL, NULL);
	const char *line = ex_wait_line(": registered", 30000);
	/* "exposed 127.0.0.1:8080 as orders at 10.0.0.1:41234 in etcd://...: registered" */
	const char *want = tt_fmt("exposed 127.0.0.1:%d as " SERVICE " at 127.0.0.1:", http.port);
	cr_assert(strstr(line, want) != NULL, "'%s' is not '%s...'", line, want);
	int port = atoi(strstr(line, want) + strlen(want));
	cr_assert(strstr(line, tt_fmt(" in etcd://127.0.0.1:%d: registered", etcd.port)) != NULL,
		"%s", line);
	ex_wait_line("ready; Ctrl-C", 5000);
	check_cloud_reaches_local(port);

	cr_assert_eq(ex_signal(SIGTERM), 0, "no exit 0 on SIGTERM:\n%s", ex_output());
	ex_wait_line("deregistered: ", 1000);
	cr_assert(!etcd_has_entry(), "the entry outlived devkit");
}

Test(expose, registry_down_at_start_is_retried_until_it_is_up)
{
	/* Start etcd to learn its port, then kill it: devkit starts with the
	 * registry down, and the same etcd comes back later on the same port. */
	etcd_start();
	fx_daemon_kill(&etcd);
	ex_start(0, NULL, NULL);
	const char *line = ex_wait_line("registration retrying: ", 20000);
	/* The reason, not only the state: which registry, and what failed. */
	cr_assert(strstr(line, "etcd " SERVICE ": ") != NULL, "%s", line);
	cr_assert(strstr(line, "(") != NULL, "no error named in: %s", line);
	fx_sleep_ms(1500);
	cr_assert_eq(fx_proc_reap(ex_pid, 0), -1, "devkit exited while the registry was down:\n%s",
		ex_output());
	char *log = ex_output();
	cr_assert(strstr(log, ": registered") == NULL, "registered with the registry down:\n%s", log);
	free(log);

	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "etcd did not restart");
	/* The backoff doubles from 0.5 s; a few seconds of downtime means the next
	 * attempt comes within ~10 s. */
	line = ex_wait_line(": registered", 45000);
	int port = atoi(strstr(line, " at 127.0.0.1:") + strlen(" at 127.0.0.1:"));
	check_cloud_reaches_local(port);
	cr_assert_eq(ex_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", ex_output());
	cr_assert(!etcd_has_entry(), "the entry outlived devkit");
}

Test(expose, registry_down_json_events_then_ready)
{
	etcd_start();
	fx_daemon_kill(&etcd);
	ex_start(1, NULL, NULL);
	const char *line = ex_wait_line("\"state\":\"retrying\"", 20000);
	json_t *ev = parse_line(line);
	cr_assert_str_eq(jstr(ev, "event"), "registration-state");
	cr_assert_gt(json_integer_value(json_object_get(ev, "registration")), 0);
	cr_assert_lt(json_integer_value(json_object_get(ev, "error_code")), 0, "%s", line);
	cr_assert(strlen(jstr(ev, "message")) > 0);
	cr_assert_str_eq(jstr(ev, "address"), "127.0.0.1");
	json_decref(ev);
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "etcd did not restart");
	check_ready(ex_wait_line("{\"event\":\"ready\"", 45000));
	cr_assert_eq(ex_signal(SIGHUP), 0, "no exit 0 on SIGHUP:\n%s", ex_output());
	cr_assert(!etcd_has_entry(), "the entry outlived devkit");
}

Test(expose, ctrl_c_while_the_registry_is_down_exits_0)
{
	etcd_start();
	fx_daemon_kill(&etcd);
	ex_start(0, NULL, NULL);
	const char *line = ex_wait_line("registration retrying: ", 20000);
	cr_assert(strstr(line, "retrying until it answers") != NULL, "%s", line);
	cr_assert_eq(ex_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", ex_output());
	ex_wait_line("SIGINT: deregistering " SERVICE, 1000);
	/* Nothing was registered, so nothing turns up once the registry is back. */
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "etcd did not restart");
	cr_assert(!etcd_has_entry(), "an entry appeared after devkit was stopped");
}

Test(expose, sigkill_leaves_the_entry_only_until_its_ttl)
{
	etcd_start();
	const char *extra[] = { "--ttl", "2", NULL };
	ex_start(1, extra, NULL);
	ex_wait_line("{\"event\":\"ready\"", 30000);
	cr_assert(etcd_has_entry(), "no entry after ready");
	/* Heartbeats keep a 2 s lease alive past its TTL. */
	fx_sleep_ms(3000);
	cr_assert(etcd_has_entry(), "the entry expired while devkit ran");
	ex_kill();
	/* No deregistration: the lease runs out (etcd checks expiry every 0.5 s). */
	long long took = etcd_wait_gone(15000);
	cr_assert_geq(took, 0, "the entry outlived a killed devkit by 15 s");
	fprintf(stderr, "[expose] entry gone %lld ms after SIGKILL (TTL 2 s)\n", took);
}

Test(expose, bastion_gone_for_good_exits_1)
{
	etcd_start();
	const char *extra[] = { "--no-reconnect", "--ttl", "2", NULL };
	ex_start(1, extra, NULL);
	ex_wait_line("{\"event\":\"ready\"", 30000);
	cr_assert(etcd_has_entry(), "no entry after ready");
	fx_sshd_kill(&cloud.sshd);
	int status = ex_wait_exit(30000);
	char *log = ex_output();
	cr_assert_eq(status, 1, "exit %d after the bastion went away:\n%s", status, log);
	cr_assert(strstr(log, "\"state\":\"down\"") != NULL, "%s", log);
	cr_assert(strstr(log, "devkit: tunnel to ") != NULL, "%s", log);
	/* The registry was reached through the bastion: the entry cannot be
	 * removed now, and says so; its lease runs out instead. */
	cr_assert(strstr(log, "the entry expires after its TTL") != NULL, "%s", log);
	free(log);
	cr_assert_geq(etcd_wait_gone(15000), 0, "the entry outlived its TTL");
}

Test(expose, wrong_registry_path_fails_with_the_reason)
{
	etcd_start();
	/* An etcd URL with a path the gateway does not serve: 404 on register. */
	const char *url = tt_fmt("etcd://127.0.0.1:%d/nowhere", etcd.port);
	const char **argv = ex_argv(0, NULL);
	/* Replace the default --registry rather than give it twice. */
	for (int i = 0; argv[i]; i++)
		if (strcmp(argv[i], "--registry") == 0)
			argv[i + 1] = url;
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "exit %d\nstdout: %s\nstderr: %s", r.exit_code, r.out, r.err);
	cr_assert(strstr(r.err, "devkit: registering " SERVICE " in ") != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "404") != NULL, "the registry's answer is not named: %s", r.err);
	cr_assert(strstr(r.out, "registration failed") != NULL, "%s", r.out);
	fx_run_result_free(&r);
}

Test(expose, refused_credentials_exit_1_and_stay_secret)
{
	etcd_start();
	/* etcd with authentication on, and a user devkit does not know the
	 * password of: authenticate answers 400, a refusal for good. */
	const char *setup_cmds[][6] = {
		{ "user", "add", "root:rootpw", NULL },
		{ "user", "grant-role", "root", "root", NULL },
		{ "user", "add", "bob:right-password", NULL },
		{ "auth", "enable", NULL },
	};
	for (size_t i = 0; i < sizeof(setup_cmds) / sizeof(setup_cmds[0]); i++) {
		fx_run_result a;
		cr_assert_eq(fx_etcdctl(&etcd, setup_cmds[i], &a), 0);
		cr_assert_eq(a.exit_code, 0, "etcdctl %s %s: %s", setup_cmds[i][0], setup_cmds[i][1],
			a.err);
		fx_run_result_free(&a);
	}
	etcd_user = "--user=root:rootpw";
	const char *extra[] = { "--registry-user", "bob", "--registry-password-env",
		"EXPOSE_TEST_PW", "-vvv", NULL };
	const char *env[] = { "EXPOSE_TEST_PW=s3cret-Pa55word", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(ex_argv(1, extra), env, NULL, 60000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "exit %d\nstdout: %s\nstderr: %s", r.exit_code, r.out, r.err);
	cr_assert(strstr(r.out, "\"state\":\"failed\"") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "\"event\":\"error\"") != NULL, "%s", r.out);
	cr_assert(strstr(r.err, "devkit: registering " SERVICE) != NULL, "%s", r.err);
	cr_assert(strstr(r.err, "invalid user ID or password") != NULL,
		"etcd's reason is not named: %s", r.err);
	cr_assert(strstr(r.out, "s3cret") == NULL && strstr(r.err, "s3cret") == NULL,
		"the password was printed:\n%s\n%s", r.out, r.err);
	cr_assert(strstr(r.out, "\"event\":\"ready\"") == NULL, "%s", r.out);
	fx_run_result_free(&r);
	cr_assert(!etcd_has_entry(), "a refused registration left an entry");
}

/* A bad command line exits 2 with a message naming the problem, on stderr. */
static void expect_usage(const char *const args[], const char *message)
{
	const char *argv[48];
	int n = 0;
	argv[n++] = devkit_path();
	argv[n++] = "expose";
	argv[n++] = "--no-agent";
	argv[n++] = "--bastion";
	argv[n++] = cloud.bastion;
	argv[n++] = "-i";
	argv[n++] = cloud.identity;
	argv[n++] = "--known-hosts";
	argv[n++] = cloud.known_hosts;
	for (int i = 0; args[i] && n < 47; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "%s: exit %d: %s", message, r.exit_code, r.err);
	cr_expect(strstr(r.err, message) != NULL, "expected '%s' in: %s", message, r.err);
	cr_expect(strstr(r.err, "Try 'devkit expose --help'") != NULL, "%s", r.err);
	cr_expect_eq(r.out_len, 0, "a usage error printed on stdout: %s", r.out);
	fx_run_result_free(&r);
}

/* What the bad command lines get right: everything else. */
#define LOCAL "--local", "127.0.0.1:8080"
#define REG "--registry", registry
#define SVC "--service", "s"

Test(expose, usage_errors_exit_2_before_any_traffic)
{
	/* A "registry" that counts connections: none may arrive. */
	fx_server *trap = fx_echo_start();
	cr_assert_not_null(trap);
	const char *registry = tt_fmt("etcd://127.0.0.1:%d", fx_server_port(trap));
	/* The bridge's readiness probes may still be closing. */
	for (int i = 0; i < 250 && fx_sshd_connection_count(&cloud.sshd) > 0; i++)
		fx_sleep_ms(20);
	cr_assert_eq(fx_sshd_connection_count(&cloud.sshd), 0);

	const struct {
		const char *args[12];
		const char *message;
	} cases[] = {
		{ { LOCAL, REG, SVC, "--meta", "version", NULL }, "--meta 'version': expected KEY=VALUE" },
		{ { LOCAL, REG, SVC, "--meta", "=2", NULL }, "--meta '=2': expected KEY=VALUE" },
		{ { LOCAL, REG, SVC, "--remote-port", "70000", NULL },
			"--remote-port: '70000' is out of range (0..65535)" },
		{ { "--local", "127.0.0.1:0", REG, SVC, NULL },
			"--local '127.0.0.1:0': port: '0' is out of range (1..65535)" },
		{ { "--local", "127.0.0.1:99999", REG, SVC, NULL }, "'99999' is out of range (1..65535)" },
		{ { LOCAL, REG, SVC, "--protocol", "grpc", NULL },
			"--protocol 'grpc': expected dubbo or http" },
		{ { LOCAL, REG, SVC, "--methods", "a,b", NULL }, "--methods needs --protocol dubbo or a zookeeper:// registry" },
		{ { LOCAL, "--registry", "redis://127.0.0.1:6379", SVC, NULL }, "'redis' is not one of" },
		{ { LOCAL, REG, NULL }, "--service NAME is required" },
		{ { LOCAL, SVC, NULL }, "--registry URL is required" },
		{ { REG, SVC, NULL }, "--local HOST:PORT is required" },
		{ { LOCAL, REG, SVC, "--ttl", "2", "--heartbeat", "2", NULL },
			"--heartbeat must be shorter than --ttl" },
		{ { LOCAL, REG, SVC, "--ttl", "soon", NULL }, "--ttl: 'soon'" },
		{ { LOCAL, REG, SVC, "--registry-user", "bob", NULL },
			"--registry-user and --registry-password-env go together" },
		{ { LOCAL, REG, SVC, "--registry-token-env", "EXPOSE_TEST_UNSET_VAR", NULL },
			"environment variable EXPOSE_TEST_UNSET_VAR is not set" },
		{ { LOCAL, REG, SVC, "--tag", "a", "--tag", "b", NULL }, "--tag given more than once" },
		{ { LOCAL, REG, SVC, "stray", NULL }, "unexpected argument 'stray'" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_usage(cases[i].args, cases[i].message);

	/* Credentials in the URL are refused without being echoed. */
	const char *cmd[] = { devkit_path(), "expose", "--bastion", cloud.bastion, LOCAL,
		"--registry", "etcd://bob:hunter2@127.0.0.1:2379", SVC, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(cmd, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 2);
	cr_expect(strstr(r.err, "holds credentials") != NULL, "%s", r.err);
	cr_expect(strstr(r.err, "hunter2") == NULL, "the password was echoed: %s", r.err);
	fx_run_result_free(&r);

	cr_assert_eq(fx_sshd_connection_count(&cloud.sshd), 0,
		"a usage error still connected to the bastion");
	fx_server_stats st;
	fx_server_stats_get(trap, &st);
	cr_assert_eq(st.accepted, 0, "a usage error still connected to the registry");
	fx_echo_stop(trap);
}

Test(expose, help)
{
	const char *argv[] = { devkit_path(), "expose", "--help", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strstr(r.out, "Usage: devkit expose") != NULL, "%s", r.out);
	cr_assert(strstr(r.out, "--registry-direct") != NULL, "%s", r.out);
	fx_run_result_free(&r);
	const char *top[] = { devkit_path(), "--help", NULL };
	cr_assert_eq(fx_run(top, NULL, NULL, 10000, &r), 0);
	cr_assert(strstr(r.out, "expose") != NULL, "devkit --help does not list expose: %s", r.out);
	fx_run_result_free(&r);
}
