/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The C example (examples/c/tunnel.c) does what its comment promises: against
 * a real sshd it prints the port of a proxy, and a real curl fetches a page
 * through that port.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <signal.h>
#include <sys/wait.h>

#include "tunnel_test.h"

static fx_sshd sshd;
static tt_http_server http;
static pid_t pid;
static char log_path[512];

static void setup(void)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	tt_http_start(&http);
}

static void teardown(void)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		fx_proc_reap(pid, 5000);
		pid = 0;
	}
	tt_http_stop(&http);
	fx_sshd_stop(&sshd);
}

TestSuite(example, .init = setup, .fini = teardown, .timeout = 60);

Test(example, c_tunnel_example_serves_a_proxy_that_curl_can_use)
{
	const char *dir = getenv("DEVKIT_BUILD_DIR");
	cr_assert_not_null(dir, "DEVKIT_BUILD_DIR is not set (run through ctest)");
	char exe[512], bastion[128];
	snprintf(exe, sizeof(exe), "%s/bin/example_tunnel", dir);
	snprintf(bastion, sizeof(bastion), "root@127.0.0.1:%d", sshd.port);
	snprintf(log_path, sizeof(log_path), "%s/example.log", sshd.dir);
	const char *argv[] = { exe, bastion, sshd.user_key, sshd.known_hosts, "30", NULL };
	pid = fx_spawn(argv, NULL, log_path);
	cr_assert_gt(pid, 0);

	int port = 0;
	for (long long end = fx_now_ms() + 10000; !port && fx_now_ms() < end; fx_sleep_ms(50)) {
		char *out = tt_read_file(log_path);
		const char *p = out ? strstr(out, "proxy on 127.0.0.1:") : NULL;
		if (p)
			port = atoi(p + strlen("proxy on 127.0.0.1:"));
		free(out);
	}
	cr_assert_gt(port, 0, "the example never printed its port");

	char proxy[64], url[128];
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", port);
	snprintf(url, sizeof(url), "http://localhost:%d/hello.txt", http.port);
	const char *curl[] = { "curl", "-s", "-m", "10", "--socks5-hostname", proxy, url, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(curl, NULL, NULL, 15000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "curl exit %d: %s", r.exit_code, r.err);
	cr_assert_str_eq(r.out, TT_HTTP_BODY, "curl got: %s", r.out);
	fx_run_result_free(&r);

	kill(pid, SIGINT); /* the example closes cleanly on Ctrl-C */
	int status = -1;
	for (long long end = fx_now_ms() + 5000; fx_now_ms() < end; fx_sleep_ms(20))
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
	pid = 0;
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x after SIGINT", status);
}
