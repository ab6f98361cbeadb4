/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One `devkit tunnel --cluster-dns ...` shared by many `devkit run --control`
 * commands, as a developer keeps one tunnel open all day: the tunnel's ready
 * line names its control socket, and unmodified curl run through that socket
 * reaches a cluster name, twice at once. A path that is no socket exits 1
 * naming it; --control with --bastion is a usage error (2).
 *
 * The cluster DNS is a dnsmasq on a free loopback port (as the bastion, a
 * local sshd, sees it) answering orders.default.svc.cluster.local with
 * 127.0.0.1, where a python http.server listens. Nothing here asks the
 * system resolver (the host's points off-box): the only names used are under
 * cluster.local, which the shim sends to the tunnel, and dnsmasq knows them.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sys/un.h>
#include <sys/wait.h>

#include "tunnel_test.h"

#define SERVICE "orders.default.svc.cluster.local"

static fx_sshd sshd;
static tt_http_server http;
static pid_t cli_pid, dns_pid;
static int dns_port;
static char cli_log[300];

/* dnsmasq as the cluster DNS; ready when its TCP side accepts (it listens on
 * UDP and TCP together). */
static void dnsmasq_start(void)
{
	for (int attempt = 0; attempt < 5; attempt++) {
		int port = fx_free_port();
		const char *argv[] = { "dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv",
			"--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
			tt_fmt("--port=%d", port), "--address=/" SERVICE "/127.0.0.1", "--local=/cluster.local/",
			"--user=root", "--pid-file=", NULL };
		pid_t pid = fx_spawn(argv, NULL, tt_fmt("%s/dnsmasq.log", sshd.dir));
		cr_assert_gt(pid, 0, "cannot start dnsmasq");
		for (long long end = fx_now_ms() + 5000; fx_now_ms() < end;) {
			int fd = fx_connect_tcp("127.0.0.1", port);
			if (fd >= 0) {
				close(fd);
				dns_pid = pid;
				dns_port = port;
				return;
			}
			if (fx_proc_reap(pid, 0) == 0)
				break; /* the port was taken: try another */
			fx_sleep_ms(20);
		}
		fx_proc_tree_signal(pid, SIGKILL, 1);
		fx_proc_reap(pid, 1000);
	}
	cr_assert_fail("dnsmasq did not start");
}

static void setup(void)
{
	/* Proxy variables would send curl elsewhere and hide what the shim does. */
	static const char *vars[] = { "http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY",
		"all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY", "LD_PRELOAD", NULL };
	for (int i = 0; vars[i]; i++)
		unsetenv(vars[i]);
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	snprintf(cli_log, sizeof(cli_log), "%s/cli.log", sshd.dir);
	dnsmasq_start();
	tt_http_start(&http);
}

static void kill_and_reap(pid_t *pid)
{
	if (*pid > 0) {
		fx_proc_tree_signal(*pid, SIGKILL, 1);
		fx_proc_reap(*pid, 5000);
		*pid = 0;
	}
}

static void teardown(void)
{
	kill_and_reap(&cli_pid);
	kill_and_reap(&dns_pid);
	tt_http_stop(&http);
	fx_sshd_stop(&sshd);
}

TestSuite(cli_reuse, .init = setup, .fini = teardown, .timeout = 120);

static const char *cli_path(void)
{
	static char path[4096];
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	cr_assert(dir && *dir, "DEVKIT_BUILD_DIR is not set (run through ctest)");
	snprintf(path, sizeof(path), "%s/bin/devkit", dir);
	cr_assert_eq(access(path, X_OK), 0, "the CLI is not built at %s", path);
	return path;
}

/* Start `devkit tunnel --json --cluster-dns ...` and return the "control"
 * path of its ready line (static buffer). */
static const char *tunnel_start(const char *control)
{
	const char *argv[32];
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
	argv[n++] = "--cluster-dns";
	argv[n++] = tt_fmt("127.0.0.1:%d", dns_port);
	if (control) {
		argv[n++] = "--control";
		argv[n++] = control;
	}
	argv[n] = NULL;
	unlink(cli_log);
	cli_pid = fx_spawn(argv, NULL, cli_log);
	cr_assert_gt(cli_pid, 0);
	static char path[512];
	for (long long end = fx_now_ms() + 15000; fx_now_ms() < end; fx_sleep_ms(20)) {
		char *log = tt_read_file(cli_log);
		const char *line = log ? strstr(log, "{\"event\":\"ready\"") : NULL;
		if (line && strchr(line, '\n')) {
			const char *p = strstr(line, "\"control\":\"");
			cr_assert(p && p < strchr(line, '\n'), "no control in the ready line:\n%s", log);
			p += strlen("\"control\":\"");
			snprintf(path, sizeof(path), "%.*s", (int)strcspn(p, "\""), p);
			free(log);
			return path;
		}
		if (fx_proc_reap(cli_pid, 0) == 0) {
			cli_pid = 0;
			cr_assert_fail("devkit tunnel exited before it was ready:\n%s", log ? log : "");
		}
		free(log);
	}
	char *log = tt_read_file(cli_log);
	cr_assert_fail("devkit tunnel printed no ready line in 15 s:\n%s", log ? log : "");
	return NULL;
}

/* `devkit run --control PATH -- curl URL`, as argv (a static array, valid
 * until the next call). */
static const char **run_curl_argv(const char *control, const char *url)
{
	static const char *argv[16];
	int n = 0;
	argv[n++] = cli_path();
	argv[n++] = "run";
	argv[n++] = "-q"; /* the log is then curl's output only; -q is no connection flag */
	argv[n++] = "--control";
	argv[n++] = control;
	argv[n++] = "--";
	argv[n++] = "curl";
	argv[n++] = "-sS";
	argv[n++] = "--max-time";
	argv[n++] = "20";
	argv[n++] = url;
	argv[n] = NULL;
	return argv;
}

/* waitpid with a deadline: the exit code, or -1. */
static int wait_exit(pid_t pid, int timeout_ms)
{
	int status;
	for (long long end = fx_now_ms() + timeout_ms; fx_now_ms() < end; fx_sleep_ms(20)) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	}
	fx_proc_tree_signal(pid, SIGKILL, 1);
	fx_proc_reap(pid, 5000);
	return -1;
}

Test(cli_reuse, run_through_a_running_tunnel)
{
	const char *control = tunnel_start(NULL);
	const char *url = tt_fmt("http://" SERVICE ":%d/hello.txt", http.port);
	fx_run_result r;

	cr_assert_eq(fx_run(run_curl_argv(control, url), NULL, NULL, 60000, &r), 0);
	cr_expect_eq(r.exit_code, 0, "devkit run --control curl: exit %d: %s", r.exit_code, r.err);
	cr_expect_str_eq(r.out, TT_HTTP_BODY, "curl printed '%s' (stderr %s)", r.out, r.err);
	fx_run_result_free(&r);

	/* The exit status is the command's, as without --control. */
	const char *seven[] = { cli_path(), "run", "--control", control, "--", "sh", "-c", "exit 7",
		NULL };
	cr_assert_eq(fx_run(seven, NULL, NULL, 30000, &r), 0);
	cr_expect_eq(r.exit_code, 7, "exit %d: %s", r.exit_code, r.err);
	fx_run_result_free(&r);

	/* Still serving after its clients left; closes cleanly. */
	kill(cli_pid, SIGTERM);
	cr_expect_eq(wait_exit(cli_pid, 10000), 0, "devkit tunnel did not exit 0 on SIGTERM");
	cli_pid = 0;
	cr_expect_neq(access(control, F_OK), 0, "the control socket %s outlived its tunnel", control);
}

Test(cli_reuse, two_commands_at_once_on_a_chosen_path)
{
	const char *want = tt_fmt("%s/k.sock", sshd.dir);
	char chosen[300];
	snprintf(chosen, sizeof(chosen), "%s", want);
	const char *control = tunnel_start(chosen);
	cr_assert_str_eq(control, chosen, "--control %s, but the ready line says %s", chosen, control);
	const char *url = tt_fmt("http://" SERVICE ":%d/hello.txt", http.port);
	pid_t pids[2];
	char logs[2][300];

	for (int i = 0; i < 2; i++) {
		snprintf(logs[i], sizeof(logs[i]), "%s/run%d.log", sshd.dir, i);
		unlink(logs[i]);
		pids[i] = fx_spawn(run_curl_argv(control, url), NULL, logs[i]);
		cr_assert_gt(pids[i], 0);
	}
	for (int i = 0; i < 2; i++) {
		int code = wait_exit(pids[i], 60000);
		char *log = tt_read_file(logs[i]);
		cr_expect_eq(code, 0, "devkit run #%d: exit %d:\n%s", i, code, log ? log : "");
		cr_expect(log && strcmp(log, TT_HTTP_BODY) == 0, "devkit run #%d printed:\n%s", i,
			log ? log : "");
		free(log);
	}
}

Test(cli_reuse, wrong_control_path_and_usage_errors)
{
	fx_run_result r;

	const char *missing[] = { cli_path(), "run", "--control", "/nonexistent", "--", "true", NULL };
	cr_assert_eq(fx_run(missing, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 1, "missing socket: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, "/nonexistent") != NULL, "the message should name the path: %s", r.err);
	fx_run_result_free(&r);

	/* A file that is not a socket, and a socket nobody accepts on. */
	const char *file = tt_fmt("%s/not-a-socket", sshd.dir);
	tt_write_file(file, "");
	const char *plain[] = { cli_path(), "run", "--control", file, "--", "true", NULL };
	cr_assert_eq(fx_run(plain, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 1, "not a socket: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, "not a unix socket") != NULL, "%s", r.err);
	fx_run_result_free(&r);
	const char *dead = tt_fmt("%s/dead.sock", sshd.dir);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", dead);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "bind %s: %s", dead, strerror(errno));
	const char *refused[] = { cli_path(), "run", "--control", dead, "--", "true", NULL };
	cr_assert_eq(fx_run(refused, NULL, NULL, 10000, &r), 0);
	close(fd);
	unlink(dead);
	cr_expect_eq(r.exit_code, 1, "a socket nobody listens on: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, dead) != NULL, "%s", r.err);
	fx_run_result_free(&r);

	const char *both[] = { cli_path(), "run", "--control", "/nonexistent", "--bastion",
		tt_fmt("root@127.0.0.1:%d", sshd.port), "--", "true", NULL };
	cr_assert_eq(fx_run(both, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "--control with --bastion: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, "--bastion") != NULL && strstr(r.err, "--control") != NULL, "%s",
		r.err);
	fx_run_result_free(&r);

	/* The tunnel side: --search describes a DNS, so it needs --cluster-dns. */
	const char *tun[] = { cli_path(), "tunnel", "--bastion", tt_fmt("root@127.0.0.1:%d", sshd.port),
		"--search", "svc.cluster.local", NULL };
	cr_assert_eq(fx_run(tun, NULL, NULL, 10000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "tunnel --search alone: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, "--cluster-dns") != NULL, "%s", r.err);
	fx_run_result_free(&r);
	cr_expect_eq(fx_sshd_connection_count(&sshd), 0, "a usage error still connected to the bastion");
}
