/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The reference CLI (`devkit tunnel`, build/bin/devkit) driven the way a user
 * drives it, with real curl as the client: it is started with --json, its
 * first stdout line {"event":"ready",...} tells the ports, and then
 * `curl --socks5-hostname`, `curl --socks4a`, `curl -x http://` (absolute-URI
 * proxying) and `curl -p -x http://` (CONNECT) fetch a file from a real
 * `python3 -m http.server` through it. Also: usage errors exit 2 before any
 * traffic, a refused host key exits 1 with the fingerprint, SIGTERM closes
 * cleanly with 0, and secrets given through the environment never appear in
 * its output even at the most verbose log level.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/wait.h>

#include "tunnel_test.h"

static fx_sshd sshd;
static fx_server *echo;
static tt_http_server http;
static pid_t cli_pid;
static char cli_log[300];

static void setup(void)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	echo = fx_echo_start();
	cr_assert_not_null(echo);
	snprintf(cli_log, sizeof(cli_log), "%s/cli.log", sshd.dir);
}

static void teardown(void)
{
	if (cli_pid > 0) {
		fx_proc_tree_signal(cli_pid, SIGKILL, 1);
		fx_proc_reap(cli_pid, 5000);
		cli_pid = 0;
	}
	tt_http_stop(&http);
	fx_server_stop(echo);
	echo = NULL;
	fx_sshd_stop(&sshd);
}

TestSuite(cli, .init = setup, .fini = teardown, .timeout = 120);

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
		char *slash = strrchr(self, '/');
		*slash = '\0';
		slash = strrchr(self, '/');
		*slash = '\0';
		snprintf(path, sizeof(path), "%s/bin/devkit", self);
	}
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* Environment that keeps the user's proxy settings out of curl's way. */
static const char *const no_proxy_env[] = { "http_proxy=", "https_proxy=", "HTTP_PROXY=",
	"HTTPS_PROXY=", "ALL_PROXY=", "all_proxy=", "NO_PROXY=", "no_proxy=", NULL };

/* Start `devkit tunnel --json ...` and wait for its ready line; returns it
 * (static buffer). */
static const char *cli_start(const char *const extra[], const char *const env[])
{
	const char *argv[64];
	int n = 0;
	argv[n++] = cli_path();
	argv[n++] = "tunnel";
	argv[n++] = "--json";
	argv[n++] = "--no-agent";
	argv[n++] = "--bastion";
	argv[n++] = tt_fmt("root@127.0.0.1:%d", sshd.port);
	argv[n++] = "--known-hosts";
	argv[n++] = sshd.known_hosts;
	argv[n++] = "-i";
	argv[n++] = sshd.user_key;
	for (int i = 0; extra[i]; i++)
		argv[n++] = extra[i];
	argv[n] = NULL;
	unlink(cli_log);
	cli_pid = fx_spawn(argv, env, cli_log);
	cr_assert_gt(cli_pid, 0, "cannot start %s", argv[0]);
	static char ready[8192];
	long long deadline = fx_now_ms() + 15000;
	while (fx_now_ms() < deadline) {
		char *log = tt_read_file(cli_log);
		const char *line = log ? strstr(log, "{\"event\":\"ready\"") : NULL;
		if (line && strchr(line, '\n')) {
			snprintf(ready, sizeof(ready), "%.*s", (int)(strchr(line, '\n') - line), line);
			free(log);
			return ready;
		}
		free(log);
		if (fx_proc_reap(cli_pid, 0) == 0) {
			cli_pid = 0;
			log = tt_read_file(cli_log);
			cr_assert_fail("devkit tunnel exited before it was ready:\n%s", log ? log : "");
		}
		fx_sleep_ms(20);
	}
	char *log = tt_read_file(cli_log);
	cr_assert_fail("devkit tunnel printed no ready line in 15 s:\n%s", log ? log : "");
	return NULL;
}

/* The port of the nth forward of `kind` ("socks", "local", "remote") in the
 * ready line's "forwards" array. */
static int ready_port(const char *ready, const char *kind, int nth)
{
	const char *p = strstr(ready, "\"forwards\":[");
	cr_assert_not_null(p, "no forwards in: %s", ready);
	const char *want = tt_fmt("\"kind\":\"%s\"", kind);
	for (;;) {
		p = strstr(p, want);
		cr_assert_not_null(p, "no %s forward #%d in: %s", kind, nth, ready);
		const char *end = strchr(p, '}');
		const char *port = strstr(p, "\"port\":");
		cr_assert(port && end && port < end, "no port for the %s forward in: %s", kind, ready);
		if (nth-- == 0)
			return atoi(port + 7);
		p = end;
	}
}

/* SIGTERM the CLI; returns its exit status (-1 if it had to be killed). */
static int cli_stop(void)
{
	kill(cli_pid, SIGTERM);
	long long deadline = fx_now_ms() + 10000;
	int status = 0;
	while (fx_now_ms() < deadline) {
		pid_t w = waitpid(cli_pid, &status, WNOHANG);
		if (w == cli_pid) {
			cli_pid = 0;
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
		}
		fx_sleep_ms(20);
	}
	return -1;
}

/* Run curl (verbose) and return its exit code; output in r. */
static int curl(fx_run_result *r, const char *const args[])
{
	const char *argv[32];
	int n = 0;
	argv[n++] = "curl";
	argv[n++] = "-sS";
	argv[n++] = "-v";
	argv[n++] = "--max-time";
	argv[n++] = "20";
	argv[n++] = "--noproxy";
	argv[n++] = "";
	for (int i = 0; args[i]; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	cr_assert_eq(fx_run(argv, no_proxy_env, NULL, 30000, r), 0, "cannot run curl");
	return r->exit_code;
}

/* curl fetched hello.txt, and by way of the proxy at `proxy_port`. */
static void assert_fetched(fx_run_result *r, int rc, int proxy_port, const char *how)
{
	cr_assert_eq(rc, 0, "curl %s failed (exit %d): %s", how, rc, r->err);
	cr_assert_str_eq(r->out, TT_HTTP_BODY, "curl %s got: %s", how, r->out);
	cr_assert(strstr(r->err, tt_fmt("port %d", proxy_port)) != NULL,
		"curl %s did not connect to the proxy port %d:\n%s", how, proxy_port, r->err);
	fx_run_result_free(r);
}

Test(cli, help_and_usage_errors)
{
	const char *help[] = { cli_path(), "tunnel", "--help", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(help, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "--help exit %d", r.exit_code);
	cr_assert(strstr(r.out, "Usage: devkit tunnel") != NULL, "%s", r.out);
	fx_run_result_free(&r);

	const char *none[] = { cli_path(), "tunnel", NULL };
	cr_assert_eq(fx_run(none, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 2, "no --bastion: exit %d", r.exit_code);
	cr_assert(strstr(r.err, "--bastion") != NULL, "%s", r.err);
	fx_run_result_free(&r);

	/* A bad forward spec is a usage error found before connecting: the
	 * bastion here would answer if asked, and must not be. */
	const char *bad[] = { cli_path(), "tunnel", "--no-agent", "--bastion",
		tt_fmt("root@127.0.0.1:%d", sshd.port), "--known-hosts", sshd.known_hosts, "-L", "nonsense", NULL };
	cr_assert_eq(fx_run(bad, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 2, "bad -L: exit %d: %s", r.exit_code, r.err);
	cr_assert(strstr(r.err, "nonsense") != NULL, "the message should quote the bad spec: %s", r.err);
	fx_run_result_free(&r);
	cr_assert_eq(fx_sshd_connection_count(&sshd), 0, "a usage error still connected to the bastion");
}

Test(cli, curl_through_socks_and_http_proxy)
{
	tt_http_start(&http);
	const char *extra[] = { "-D", "127.0.0.1:0", NULL };
	const char *ready = cli_start(extra, NULL);
	int p = ready_port(ready, "socks", 0);
	cr_assert_gt(p, 0, "%s", ready);
	const char *url_local = tt_fmt("http://localhost:%d/hello.txt", http.port);
	const char *url_ip = tt_fmt("http://127.0.0.1:%d/hello.txt", http.port);
	const char *proxy = tt_fmt("127.0.0.1:%d", p);
	fx_run_result r;

	const char *a1[] = { "--socks5-hostname", proxy, url_local, NULL };
	int rc = curl(&r, a1);
	cr_assert(strstr(r.err, "remotely resolved") != NULL || strstr(r.err, "SOCKS5") != NULL,
		"curl did not speak SOCKS5: %s", r.err);
	assert_fetched(&r, rc, p, "--socks5-hostname");

	const char *a2[] = { "--socks5", proxy, url_ip, NULL };
	rc = curl(&r, a2);
	assert_fetched(&r, rc, p, "--socks5");

	const char *a3[] = { "--socks4a", proxy, url_local, NULL };
	rc = curl(&r, a3);
	assert_fetched(&r, rc, p, "--socks4a");

	const char *a4[] = { "--socks4", proxy, url_ip, NULL };
	rc = curl(&r, a4);
	assert_fetched(&r, rc, p, "--socks4");

	const char *hproxy = tt_fmt("http://127.0.0.1:%d", p);
	const char *a5[] = { "-x", hproxy, url_ip, NULL };
	rc = curl(&r, a5);
	assert_fetched(&r, rc, p, "-x http:// (absolute URI)");

	const char *a6[] = { "-p", "-x", hproxy, url_local, NULL };
	rc = curl(&r, a6);
	cr_assert(strstr(r.err, "CONNECT localhost") != NULL, "curl -p did not use CONNECT: %s", r.err);
	assert_fetched(&r, rc, p, "-p -x http:// (CONNECT)");

	/* Many in one curl run, reusing nothing: each is its own tunnelled
	 * connection through the same proxy. */
	const char *a7[] = { "--socks5-hostname", proxy, url_local, url_ip, url_local, url_ip, NULL };
	rc = curl(&r, a7);
	cr_assert_eq(rc, 0, "%s", r.err);
	cr_assert_eq(r.out_len, 4 * strlen(TT_HTTP_BODY), "%s", r.out);
	fx_run_result_free(&r);

	cr_assert_eq(cli_stop(), 0, "devkit tunnel did not exit 0 on SIGTERM");
}

Test(cli, curl_sees_refused_targets_as_errors)
{
	fx_server *refused = fx_refused_start();
	const char *extra[] = { "-D", "127.0.0.1:0", NULL };
	const char *ready = cli_start(extra, NULL);
	int p = ready_port(ready, "socks", 0);
	const char *url = tt_fmt("http://127.0.0.1:%d/", fx_server_port(refused));
	fx_run_result r;
	const char *a1[] = { "--socks5-hostname", tt_fmt("127.0.0.1:%d", p), url, NULL };
	int rc = curl(&r, a1);
	cr_assert_eq(rc, 97, "curl via SOCKS5 to a refused port: exit %d (want 97, proxy handshake "
		"error): %s", rc, r.err);
	cr_assert(strstr(r.err, "(5)") != NULL || strstr(r.err, "refused") != NULL,
		"curl should see SOCKS5 reply 5 (connection refused): %s", r.err);
	fx_run_result_free(&r);
	const char *a2[] = { "-x", tt_fmt("http://127.0.0.1:%d", p), "-w", "%{http_code}", url, NULL };
	rc = curl(&r, a2);
	cr_assert(strstr(r.out, "502") != NULL, "HTTP proxying to a refused port should be 502: %s %s",
		r.out, r.err);
	fx_run_result_free(&r);
	fx_server_stop(refused);
	cr_assert_eq(cli_stop(), 0);
}

Test(cli, local_and_remote_forwards)
{
	int e = fx_server_port(echo);
	const char *extra[] = { "-L", tt_fmt("0:127.0.0.1:%d", e), "-R", tt_fmt("0:127.0.0.1:%d", e), NULL };
	const char *ready = cli_start(extra, NULL);
	int lp = ready_port(ready, "local", 0), rp = ready_port(ready, "remote", 0);
	cr_assert_gt(lp, 0, "%s", ready);
	cr_assert_gt(rp, 0, "the remote forward's port chosen by the bastion should be reported: %s", ready);
	int fd = tt_connect(lp);
	tt_echo_string(fd, "through the CLI's -L");
	close(fd);
	fd = tt_connect(rp);
	tt_echo_string(fd, "through the CLI's -R");
	close(fd);
	cr_assert_eq(cli_stop(), 0);
	cr_assert_eq(fx_server_wait_idle(echo, 5000), 0);
	/* After a clean exit the bastion forgot the remote port. */
	int again = fx_connect_tcp("127.0.0.1", rp);
	if (again >= 0)
		close(again);
	cr_assert_lt(again, 0, "the remote port %d still listens after the CLI exited", rp);
}

Test(cli, proxy_credentials_from_the_environment)
{
	tt_http_start(&http);
	const char *env[] = { "DEVKIT_TEST_PROXY_PW=cli-Proxy-Secret-8", NULL };
	const char *extra[] = { "-D", "127.0.0.1:0", "--proxy-user", "alice", "--proxy-password-env",
		"DEVKIT_TEST_PROXY_PW", "-vvv", NULL };
	const char *ready = cli_start(extra, env);
	int p = ready_port(ready, "socks", 0);
	const char *url = tt_fmt("http://localhost:%d/hello.txt", http.port);
	fx_run_result r;
	const char *ok[] = { "--socks5-hostname", tt_fmt("alice:cli-Proxy-Secret-8@127.0.0.1:%d", p), url, NULL };
	int rc = curl(&r, ok);
	assert_fetched(&r, rc, p, "--socks5-hostname with credentials");
	const char *ok_http[] = { "-x", tt_fmt("http://127.0.0.1:%d", p), "--proxy-user", "alice:cli-Proxy-Secret-8",
		tt_fmt("http://127.0.0.1:%d/hello.txt", http.port), NULL };
	rc = curl(&r, ok_http);
	assert_fetched(&r, rc, p, "-x with Basic credentials");
	const char *wrong[] = { "--socks5-hostname", tt_fmt("alice:wrong@127.0.0.1:%d", p), url, NULL };
	rc = curl(&r, wrong);
	cr_assert_neq(rc, 0, "a wrong proxy password was accepted");
	fx_run_result_free(&r);
	const char *none[] = { "-x", tt_fmt("http://127.0.0.1:%d", p), "-w", "%{http_code}", url, NULL };
	rc = curl(&r, none);
	cr_assert(strstr(r.out, "407") != NULL, "no credentials should get 407: %s", r.out);
	fx_run_result_free(&r);
	cr_assert_eq(cli_stop(), 0);
	char *log = tt_read_file(cli_log);
	cr_assert_not_null(log);
	cr_assert(strstr(log, "cli-Proxy-Secret-8") == NULL, "the proxy password appears in the CLI's output:\n%s", log);
	free(log);
}

Test(cli, password_login_never_printed)
{
	/* A bastion with password login, the password in the environment, the
	 * CLI at its most verbose: the password must not show anywhere. */
	fx_sshd_stop(&sshd);
	fx_sshd_options so = { .password_auth = 1, .no_pubkey_auth = 1 };
	cr_assert_eq(fx_sshd_start(&sshd, &so), 0);
	snprintf(cli_log, sizeof(cli_log), "%s/cli.log", sshd.dir);
	const char *env[] = { tt_fmt("DEVKIT_TEST_PW=%s", FX_SSHD_PASSWORD), NULL };
	const char *argv[] = { cli_path(), "tunnel", "--json", "--no-agent", "-vvv", "--bastion",
		tt_fmt("%s@127.0.0.1:%d", FX_SSHD_PASSWORD_USER, sshd.port), "--known-hosts", sshd.known_hosts,
		"--password-env", "DEVKIT_TEST_PW", "-D", "0", NULL };
	unlink(cli_log);
	cli_pid = fx_spawn(argv, env, cli_log);
	cr_assert_gt(cli_pid, 0);
	long long deadline = fx_now_ms() + 15000;
	char *log = NULL;
	while (fx_now_ms() < deadline) {
		free(log);
		log = tt_read_file(cli_log);
		if (log && strstr(log, "{\"event\":\"ready\""))
			break;
		fx_sleep_ms(20);
	}
	cr_assert(log && strstr(log, "{\"event\":\"ready\""), "not ready:\n%s", log ? log : "");
	free(log);
	cr_assert_eq(cli_stop(), 0);
	log = tt_read_file(cli_log);
	cr_assert(strstr(log, FX_SSHD_PASSWORD) == NULL, "the password appears in the CLI's output:\n%s", log);
	free(log);

	/* A wrong password: exit 1, the methods named, the password not. */
	const char *env2[] = { "DEVKIT_TEST_PW=Wrong-Cli-Password-3", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, env2, NULL, 30000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "wrong password: exit %d\n%s%s", r.exit_code, r.out, r.err);
	cr_assert(strstr(r.err, "password") != NULL, "%s", r.err);
	cr_assert(strstr(r.out, "Wrong-Cli-Password-3") == NULL && strstr(r.err, "Wrong-Cli-Password-3") == NULL,
		"the wrong password appears in the CLI's output:\n%s%s", r.out, r.err);
	fx_run_result_free(&r);
}

Test(cli, unknown_host_key_exits_1_with_the_fingerprint)
{
	const char *empty = tt_fmt("%s/empty_known_hosts", sshd.dir);
	tt_write_file(empty, "");
	const char *argv[] = { cli_path(), "tunnel", "--json", "--no-agent", "--bastion",
		tt_fmt("root@127.0.0.1:%d", sshd.port), "-i", sshd.user_key, "--known-hosts", empty, "-D", "0", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 30000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "exit %d\n%s%s", r.exit_code, r.out, r.err);
	cr_assert(strstr(r.err, sshd.host_fingerprint) != NULL, "stderr should show the fingerprint %s:\n%s",
		sshd.host_fingerprint, r.err);
	cr_assert(strstr(r.out, "\"ready\"") == NULL, "a refused tunnel reported ready: %s", r.out);
	fx_run_result_free(&r);

	/* --host-key pins instead, and then it works. */
	const char *pinned[] = { cli_path(), "tunnel", "--json", "--no-agent", "--bastion",
		tt_fmt("root@127.0.0.1:%d", sshd.port), "-i", sshd.user_key, "--known-hosts", empty,
		"--host-key", sshd.host_fingerprint, "-D", "0", NULL };
	cli_pid = fx_spawn(pinned, NULL, cli_log);
	long long deadline = fx_now_ms() + 15000;
	char *log = NULL;
	while (fx_now_ms() < deadline) {
		free(log);
		log = tt_read_file(cli_log);
		if (log && strstr(log, "{\"event\":\"ready\""))
			break;
		fx_sleep_ms(20);
	}
	cr_assert(log && strstr(log, "{\"event\":\"ready\""), "pinned: not ready:\n%s", log ? log : "");
	free(log);
	cr_assert_eq(cli_stop(), 0);
}
