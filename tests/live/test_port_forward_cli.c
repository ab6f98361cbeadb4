/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit port-forward` run as a user runs it (build/bin/devkit, a
 * kubeconfig, stdout, Ctrl-C) against the Kubernetes API fixture, whose Pod
 * network is this machine's loopback: a local echo server plays the Pod's
 * port, reached through the API server and through a real sshd bastion.
 */
#include "live_test.h"

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "sshd_fixture.h"

TestSuite(port_forward_cli, .init = lt_setup, .fini = lt_teardown, .timeout = 120);

typedef struct echo {
	int fd, port;
	pthread_t thread;
} echo;

static void *echo_serve(void *arg)
{
	echo *e = arg;
	for (;;) {
		int c = accept(e->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char buf[4096];
		ssize_t n;
		while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
			send(c, buf, (size_t)n, MSG_NOSIGNAL);
		close(c);
	}
}

static void echo_start(echo *e)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	e->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert(bind(e->fd, (struct sockaddr *)&a, sizeof(a)) == 0 && listen(e->fd, 8) == 0);
	getsockname(e->fd, (struct sockaddr *)&a, &len);
	e->port = ntohs(a.sin_port);
	pthread_create(&e->thread, NULL, echo_serve, e);
}

static void echo_stop(echo *e)
{
	shutdown(e->fd, SHUT_RDWR);
	close(e->fd);
	pthread_join(e->thread, NULL);
}

static const char *cli(void)
{
	static char path[1024];
	snprintf(path, sizeof(path), "%s/bin/devkit", getenv("DEVKIT_BUILD_DIR"));
	return path;
}

/* Start the CLI with its stdout on a pipe; read the "forwarding A:P -> ..."
 * line and return the local port. */
static int start_cli(const char *const argv[], pid_t *pid, FILE **out)
{
	int p[2];
	cr_assert_eq(pipe(p), 0);
	*pid = fork();
	if (*pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(p[1]);
	*out = fdopen(p[0], "r");
	char line[512];
	cr_assert_not_null(fgets(line, sizeof(line), *out), "the CLI printed nothing");
	int port = 0;
	cr_assert_eq(sscanf(line, "forwarding 127.0.0.1:%d -> ", &port), 1, "line: %s", line);
	return port;
}

static void round_trip(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	const char msg[] = "hello through devkit port-forward";
	cr_assert_eq(send(fd, msg, sizeof(msg), 0), (ssize_t)sizeof(msg));
	char back[sizeof(msg)];
	size_t got = 0;
	while (got < sizeof(msg)) {
		ssize_t n = recv(fd, back + got, sizeof(msg) - got, 0);
		cr_assert_gt(n, 0, "the echo did not come back");
		got += (size_t)n;
	}
	cr_assert_eq(memcmp(back, msg, sizeof(msg)), 0);
	close(fd);
}

static void stop_cli(pid_t pid, FILE *out)
{
	kill(pid, SIGINT);
	int status;
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0, "Ctrl-C must end it cleanly");
	fclose(out);
}

Test(port_forward_cli, through_the_api_server_and_through_a_bastion)
{
	lt_start("exec sleep 300", "");
	echo e;
	echo_start(&e);
	char spec[32];
	snprintf(spec, sizeof(spec), "0:%d", e.port);
	const char *kc = fx_k8s_kubeconfig(&lt_api, FX_K8S_KUBECONFIG_TOKEN);
	const char *argv[] = { cli(), "port-forward", LT_POD, spec, "--kubeconfig", kc, NULL };
	pid_t pid;
	FILE *out;
	round_trip(start_cli(argv, &pid, &out));
	stop_cli(pid, out);
	cr_assert_gt(fx_k8s_count_requests(&lt_api, NULL, "/portforward"), 0);

	fx_sshd sshd;
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	char bastion[128];
	snprintf(bastion, sizeof(bastion), "%s@127.0.0.1:%d", sshd.user, sshd.port);
	const char *targv[] = { cli(), "port-forward", LT_POD, spec, "--kubeconfig", kc, "-b",
		bastion, "-i", sshd.user_key, "--known-hosts", sshd.known_hosts, "--no-agent", NULL };
	int before = fx_k8s_count_requests(&lt_api, NULL, "/portforward");
	round_trip(start_cli(targv, &pid, &out));
	stop_cli(pid, out);
	cr_assert_eq(fx_k8s_count_requests(&lt_api, NULL, "/portforward"), before,
		"through the bastion, the API server is not asked to forward");
	fx_sshd_stop(&sshd);
	echo_stop(&e);
}

Test(port_forward_cli, usage_errors_exit_2)
{
	const char *a1[] = { cli(), "port-forward", LT_POD, NULL };
	const char *a2[] = { cli(), "port-forward", LT_POD, "70000", NULL };
	const char *a3[] = { cli(), "port-forward", LT_POD, "x:80", NULL };
	const char *const *cases[] = { a1, a2, a3 };
	for (size_t i = 0; i < 3; i++) {
		fx_run_result r;
		cr_assert_eq(fx_run(cases[i], NULL, NULL, 10000, &r), 0);
		cr_assert_eq(r.exit_code, 2, "case %zu: status %d, stderr %s", i, r.exit_code, r.err);
		cr_assert(strstr(r.err, "port"), "case %zu: %s", i, r.err);
		fx_run_result_free(&r);
	}
}
