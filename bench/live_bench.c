/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live workflow's streams against what a user would run instead, in one
 * run (bench/live.sh; results in docs/benchmarks.md):
 *
 *   forward   download SIZE bytes from a "Pod port" (a sender on loopback;
 *             the API fixture's Pod network is this machine's loopback):
 *             raw loopback, devkit_pod_forward_start (API server),
 *             `kubectl port-forward` (same server, when kubectl is installed),
 *             devkit_pod_forward_start_tunnel (real sshd) and OpenSSH `ssh -L`
 *             (same sshd)
 *   deploy    a 100 MiB file and a tree of 2,000 small files into a replica:
 *             devkit_deploy, first and unchanged, and `kubectl cp` (when
 *             kubectl is installed)
 *
 * The API server here is the project's test server (tests/fixtures/k8s-mock,
 * Vert.x): it bounds both devkit's and kubectl's figures the same way, so
 * read the API-server rows as a ratio to each other, not as what a real
 * cluster gives.
 *
 *   live_bench [--smoke]       (--smoke: 16 MiB and 200 files)
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <devkit.h>

#include "bench_common.h"
#include "fixtures.h"
#include "k8s_fixture.h"
#include "replica_sandbox.h"
#include "sshd_fixture.h"

#define NS FX_K8S_NAMESPACE
#define POD "bench-dev"

static uint64_t forward_bytes = 256ull << 20;
static int small_files = 2000;
static uint64_t big_file = 100ull << 20;

/* --- a "Pod port" that sends forward_bytes to each connection and closes ---- */

typedef struct sender {
	int fd, port;
	pthread_t thread;
} sender;

static void *send_all(void *arg)
{
	sender *s = arg;
	static char chunk[BENCH_IO_CHUNK];
	for (;;) {
		int c = accept(s->fd, NULL, NULL);
		if (c < 0)
			return NULL;
		uint64_t left = forward_bytes;
		while (left) {
			size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
			ssize_t w = send(c, chunk, n, MSG_NOSIGNAL);
			if (w <= 0)
				break;
			left -= (uint64_t)w;
		}
		close(c);
	}
}

static void sender_start(sender *s)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (bind(s->fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->fd, 16) != 0)
		bench_die("live_bench", errno, "listen");
	getsockname(s->fd, (struct sockaddr *)&a, &len);
	s->port = ntohs(a.sin_port);
	pthread_create(&s->thread, NULL, send_all, s);
}

/* Connect to port (retrying while a forwarder starts) and read to EOF:
 * MiB/s, or -1 if fewer bytes than sent came. */
static double download(int port)
{
	int fd = -1;
	for (int i = 0; i < 100 && fd < 0; i++) {
		fd = bench_connect_loopback(port);
		if (fd < 0)
			usleep(100 * 1000);
	}
	if (fd < 0)
		return -1;
	static char buf[BENCH_IO_CHUNK];
	uint64_t got = 0;
	double t0 = bench_now();
	ssize_t n;
	while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
		got += (uint64_t)n;
	double dt = bench_now() - t0;
	close(fd);
	if (got != forward_bytes) {
		fprintf(stderr, "live_bench: got %llu of %llu bytes\n", (unsigned long long)got,
			(unsigned long long)forward_bytes);
		return -1;
	}
	return (double)got / (1 << 20) / dt;
}

/* The best of three downloads (the first warms the path). */
static double best_download(int port)
{
	double best = -1;
	for (int i = 0; i < 3; i++) {
		double r = download(port);
		if (r > best)
			best = r;
	}
	return best;
}

static int free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &len);
	close(fd);
	return ntohs(a.sin_port);
}

static pid_t spawn_quiet(const char *const argv[])
{
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		setpgid(0, 0);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	return pid;
}

static void stop(pid_t pid)
{
	if (pid <= 0)
		return;
	kill(-pid, SIGTERM);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
}

static int have(const char *prog)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", prog);
	return system(cmd) == 0;
}

static void print_rate(const char *name, double mib_s, double raw)
{
	if (mib_s < 0)
		printf("%-34s failed\n", name);
	else
		printf("%-34s %8.1f MiB/s  %5.3fx raw\n", name, mib_s, raw > 0 ? mib_s / raw : 0);
}

static void bench_forward(fx_daemon *api, devkit_k8s *k8s, devkit_ctx *ctx)
{
	sender s;
	sender_start(&s);
	printf("# forward: download %llu MiB from the Pod port, best of 3\n",
		(unsigned long long)(forward_bytes >> 20));
	double raw = best_download(s.port);
	print_rate("raw loopback", raw, raw);

	devkit_pod_forward *f = NULL;
	if (devkit_pod_forward_start(&f, k8s, NULL, POD, s.port, NULL, 0) != 0)
		bench_die("live_bench", 0, "pod forward: %s", devkit_error_last()->message);
	print_rate("devkit pod forward (API server)", best_download(devkit_pod_forward_port(f)), raw);
	devkit_pod_forward_free(f);

	if (have("kubectl")) {
		int lp = free_port();
		char spec[32];
		snprintf(spec, sizeof(spec), "%d:%d", lp, s.port);
		const char *argv[] = { "kubectl", "--kubeconfig",
			fx_k8s_kubeconfig(api, FX_K8S_KUBECONFIG_TOKEN), "-n", NS, "port-forward",
			"pod/" POD, spec, NULL };
		pid_t pid = spawn_quiet(argv);
		print_rate("kubectl port-forward (API server)", best_download(lp), raw);
		stop(pid);
	} else {
		printf("%-34s not installed\n", "kubectl port-forward");
	}

	fx_sshd sshd;
	if (fx_sshd_start(&sshd, NULL) != 0)
		bench_die("live_bench", 0, "sshd did not start");
	devkit_tunnel_options to;
	devkit_tunnel_options_init(&to, DEVKIT_TUNNEL_OPTIONS_VERSION);
	char bastion[128];
	snprintf(bastion, sizeof(bastion), "%s@127.0.0.1:%d", sshd.user, sshd.port);
	to.bastion = bastion;
	to.identity_file = sshd.user_key;
	to.known_hosts_file = sshd.known_hosts;
	to.use_agent = 0;
	devkit_tunnel *t = NULL;
	if (devkit_tunnel_open(&t, ctx, &to) != 0)
		bench_die("live_bench", 0, "tunnel: %s", devkit_error_last()->message);
	if (devkit_pod_forward_start_tunnel(&f, k8s, t, NULL, POD, s.port, NULL, 0) != 0)
		bench_die("live_bench", 0, "tunnel forward: %s", devkit_error_last()->message);
	print_rate("devkit pod forward (bastion)", best_download(devkit_pod_forward_port(f)), raw);
	devkit_pod_forward_free(f);
	devkit_tunnel_free(t);

	int lp = free_port();
	char spec[64], port[16];
	snprintf(spec, sizeof(spec), "127.0.0.1:%d:127.0.0.1:%d", lp, s.port);
	snprintf(port, sizeof(port), "%d", sshd.port);
	char known[400];
	snprintf(known, sizeof(known), "UserKnownHostsFile=%s", sshd.known_hosts);
	const char *argv[] = { "ssh", "-N", "-F", "/dev/null", "-o", "BatchMode=yes", "-o",
		"IdentitiesOnly=yes", "-i", sshd.user_key, "-o", "StrictHostKeyChecking=yes", "-o",
		known, "-p", port, "-L", spec, "root@127.0.0.1", NULL };
	pid_t pid = spawn_quiet(argv);
	print_rate("ssh -L (bastion)", best_download(lp), raw);
	stop(pid);
	fx_sshd_stop(&sshd);
	shutdown(s.fd, SHUT_RDWR);
	close(s.fd);
	pthread_join(s.thread, NULL);
}

/* --- deploy -------------------------------------------------------------------- */

static void write_file(const char *path, uint64_t size, unsigned seed)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		bench_die("live_bench", errno, "%s", path);
	static char chunk[BENCH_IO_CHUNK];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (char)(seed * 31 + i * 7);
	for (uint64_t left = size; left;) {
		size_t n = left < sizeof(chunk) ? (size_t)left : sizeof(chunk);
		fwrite(chunk, 1, n, f);
		left -= n;
	}
	fclose(f);
}

static double deploy_once(devkit_k8s *k8s, const char *local, const char *remote, int full,
	devkit_deploy_result *res)
{
	devkit_deploy_options o;
	devkit_deploy_options_init(&o, DEVKIT_DEPLOY_OPTIONS_VERSION);
	o.pod = POD;
	o.local_path = local;
	o.remote_dir = remote;
	o.restart = 0;
	o.full = full;
	*res = (devkit_deploy_result)DEVKIT_DEPLOY_RESULT_INIT;
	double t0 = bench_now();
	if (devkit_deploy(k8s, &o, res) != 0)
		bench_die("live_bench", 0, "deploy: %s", devkit_error_last()->message);
	return bench_now() - t0;
}

static double kubectl_cp(fx_daemon *api, const char *local, const char *remote)
{
	char dest[512];
	snprintf(dest, sizeof(dest), "%s/%s:%s", NS, POD, remote);
	const char *argv[] = { "kubectl", "--kubeconfig", fx_k8s_kubeconfig(api,
		FX_K8S_KUBECONFIG_TOKEN), "cp", local, dest, NULL };
	double t0 = bench_now();
	pid_t pid = spawn_quiet(argv);
	int status = 0;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return bench_now() - t0;
}

static void print_time(const char *name, double s, double mib, double base)
{
	if (s < 0)
		printf("%-40s failed\n", name);
	else if (mib > 0)
		printf("%-40s %7.2f s  %7.1f MiB/s  %5.2fx devkit\n", name, s, mib / s, s / base);
	else
		printf("%-40s %7.2f s  %5.2fx devkit\n", name, s, s / base);
}

static void bench_deploy(fx_daemon *api, devkit_k8s *k8s, const char *dir)
{
	char big[600], tree[600], path[700];
	snprintf(big, sizeof(big), "%s/big.bin", dir);
	write_file(big, big_file, 1);
	snprintf(tree, sizeof(tree), "%s/tree", dir);
	mkdir(tree, 0755);
	for (int i = 0; i < small_files; i++) {
		snprintf(path, sizeof(path), "%s/d%02d", tree, i % 50);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/d%02d/f%04d.class", tree, i % 50, i);
		write_file(path, 1024 + (uint64_t)(i % 7) * 512, (unsigned)i);
	}
	double mib = (double)big_file / (1 << 20);
	devkit_deploy_result r;
	printf("# deploy: one %llu MiB file, and a tree of %d files (no restart)\n",
		(unsigned long long)(big_file >> 20), small_files);
	double first = deploy_once(k8s, big, "bench/big", 0, &r);
	print_time("devkit deploy, big file, first", first, mib, first);
	print_time("devkit deploy, big file, unchanged", deploy_once(k8s, big, "bench/big", 0, &r),
		0, first);
	if (have("kubectl"))
		print_time("kubectl cp, big file", kubectl_cp(api, big, "bench/kbig"), mib, first);
	first = deploy_once(k8s, tree, "bench/tree", 0, &r);
	print_time("devkit deploy, tree, first", first, 0, first);
	print_time("devkit deploy, tree, unchanged", deploy_once(k8s, tree, "bench/tree", 0, &r), 0,
		first);
	snprintf(path, sizeof(path), "%s/d07/f0007.class", tree);
	write_file(path, 999, 99);
	print_time("devkit deploy, tree, one file changed", deploy_once(k8s, tree, "bench/tree", 0,
		&r), 0, first);
	if (have("kubectl"))
		print_time("kubectl cp, tree", kubectl_cp(api, tree, "bench/ktree"), 0, first);
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--smoke") == 0) {
		forward_bytes = 16ull << 20;
		small_files = 200;
		big_file = 16ull << 20;
	}
	signal(SIGPIPE, SIG_IGN);
	fx_daemon api;
	if (fx_k8s_start(&api, NULL) != 0)
		bench_die("live_bench", 0, "the Kubernetes API fixture did not start "
			"(bash scripts/build_fixtures.sh)");
	fx_replica r;
	if (fx_replica_start(&r, &api, NS, POD, "app", "exec sleep 3600", "") != 0)
		bench_die("live_bench", 0, "replica sandbox");
	devkit_ctx *ctx = NULL;
	devkit_k8s *k8s = NULL;
	devkit_k8s_options ko;
	devkit_k8s_options_init(&ko, DEVKIT_K8S_OPTIONS_VERSION);
	ko.kubeconfig = fx_k8s_kubeconfig(&api, FX_K8S_KUBECONFIG_TOKEN);
	if (devkit_ctx_new(&ctx, NULL) != 0 || devkit_k8s_open(&k8s, ctx, &ko) != 0)
		bench_die("live_bench", 0, "client: %s", devkit_error_last()->message);
	bench_forward(&api, k8s, ctx);
	char dir[] = "/tmp/devkit-live-bench-XXXXXX";
	if (!mkdtemp(dir))
		bench_die("live_bench", errno, "mkdtemp");
	bench_deploy(&api, k8s, dir);
	char rm[200];
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		fprintf(stderr, "live_bench: could not remove %s\n", dir);
	devkit_k8s_free(k8s);
	devkit_ctx_free(ctx);
	fx_replica_stop(&r);
	fx_daemon_stop(&api);
	return 0;
}
