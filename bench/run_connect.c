/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-connect cost of `devkit run`'s shim: connect + 1-byte echo + close,
 *
 *   direct  to a loopback echo server, no tunnel (the floor)
 *   socks   through a devkit dynamic forward, the application doing the
 *           SOCKS5 handshake itself (what a proxy-aware client pays)
 *   shim    a child with LD_PRELOAD=libdevkit_preload.so making a plain
 *           connect() that the shim hands to the router (what devkit run pays)
 *
 *   run_connect --bastion root@127.0.0.1:PORT --identity KEY --known-hosts FILE
 *               [-n COUNT] [--preload LIB]
 *
 * The echo server listens on 127.0.0.5 (the routed CIDR is 127.0.0.5/32, so
 * the shim's own redirect connects to 127.0.0.1 are never routed); the sshd
 * connects there from the same host. Loopback only. Results: docs/benchmarks.md.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_common.h"
#include "devkit.h"

#define ECHO_IP "127.0.0.5"

static int echo_fd;

/* One byte back, then close: the server closes first, so TIME_WAIT stays on
 * its side and the client does not run out of ports. */
static void *echo_thread(void *arg)
{
	(void)arg;
	for (;;) {
		int c = accept(echo_fd, NULL, NULL);
		if (c < 0)
			return NULL;
		char b;
		if (read(c, &b, 1) == 1 && write(c, &b, 1) != 1)
			b = 0;
		close(c);
	}
}

static int connect_ip(const char *ip, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	inet_pton(AF_INET, ip, &a.sin_addr);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	bench_set_nodelay(fd);
	return fd;
}

static int read_n(int fd, unsigned char *b, size_t n)
{
	for (size_t got = 0; got < n;) {
		ssize_t r = read(fd, b + got, n - got);
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* SOCKS5, no auth, CONNECT ip:port, as a proxy-aware application does it. */
static int socks_connect(int proxy, const char *ip, int port)
{
	int fd = connect_ip("127.0.0.1", proxy);
	unsigned char b[16] = { 5, 1, 0 };
	if (fd < 0 || write(fd, b, 3) != 3 || read_n(fd, b, 2) != 0 || b[1] != 0)
		goto fail;
	unsigned char req[10] = { 5, 1, 0, 1 };
	inet_pton(AF_INET, ip, req + 4);
	req[8] = (unsigned char)(port >> 8);
	req[9] = (unsigned char)port;
	if (write(fd, req, 10) != 10 || read_n(fd, b, 10) != 0 || b[1] != 0)
		goto fail;
	return fd;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

/* n rounds of connect + 1 byte + close; proxy 0: direct. Returns seconds. */
static double rounds(const char *name, int n, int port, int proxy)
{
	double t0 = bench_now();
	for (int i = 0; i < n; i++) {
		int fd = proxy ? socks_connect(proxy, ECHO_IP, port) : connect_ip(ECHO_IP, port);
		unsigned char b = 'x';
		if (fd < 0 || write(fd, &b, 1) != 1 || read_n(fd, &b, 1) != 0 || b != 'x')
			bench_die(name, errno, "round %d failed", i);
		close(fd);
	}
	return bench_now() - t0;
}

static void report(const char *name, int n, double secs, double base)
{
	double us = secs * 1e6 / n;
	printf("%-7s %7d connects  %9.0f ops/s  %8.1f us/connect", name, n, n / secs, us);
	if (base > 0)
		printf("  (+%.1f us over direct)", us - base);
	printf("\n");
	fflush(stdout);
}

/* The shim's run happens in a child: LD_PRELOAD applies at exec. */
static double run_shim(const char *self, const char *preload, const char *control, int n, int port)
{
	int p[2];
	if (pipe(p) != 0)
		bench_die("shim", errno, "pipe");
	pid_t pid = fork();
	if (pid == 0) {
		char ns[16], ps[16], fd[16];
		snprintf(ns, sizeof(ns), "%d", n);
		snprintf(ps, sizeof(ps), "%d", port);
		snprintf(fd, sizeof(fd), "%d", p[1]);
		close(p[0]);
		setenv("LD_PRELOAD", preload, 1);
		setenv("DEVKIT_CONTROL", control, 1);
		setenv("DEVKIT_ROUTE_CIDRS", ECHO_IP "/32", 1);
		execl(self, self, "--child", ns, ps, fd, (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	double secs = -1;
	if (read(p[0], &secs, sizeof(secs)) != sizeof(secs))
		secs = -1;
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	if (secs < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		bench_die("shim", 0, "the routed child failed (status 0x%x)", status);
	return secs;
}

static void check(int rc, const char *what)
{
	if (rc != 0) {
		const devkit_error *e = devkit_error_last();
		bench_die("run_connect", 0, "%s: %s", what, e && e->message ? e->message : "failed");
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && !strcmp(argv[1], "--child")) {
		int n = atoi(argv[2]), port = atoi(argv[3]), fd = atoi(argv[4]);
		rounds("shim", n / 10 + 1, port, 0); /* warm-up */
		double secs = rounds("shim", n, port, 0);
		return write(fd, &secs, sizeof(secs)) == sizeof(secs) ? 0 : 1;
	}
	const char *bastion = NULL, *identity = NULL, *known = NULL;
	const char *preload = getenv("DEVKIT_PRELOAD_LIB");
	int n = 2000;
	for (int i = 1; i < argc; i++) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(argv[i], "--bastion") && v)
			bastion = argv[++i];
		else if (!strcmp(argv[i], "--identity") && v)
			identity = argv[++i];
		else if (!strcmp(argv[i], "--known-hosts") && v)
			known = argv[++i];
		else if (!strcmp(argv[i], "--preload") && v)
			preload = argv[++i];
		else if (!strcmp(argv[i], "-n") && v && bench_parse_int(argv[++i], 1, 1000000, &n) == 0)
			;
		else
			bench_die("run_connect", 0, "usage: run_connect --bastion U@H:P --identity KEY "
				"--known-hosts FILE [-n COUNT] [--preload libdevkit_preload.so]");
	}
	if (!bastion || !preload)
		bench_die("run_connect", 0, "--bastion and --preload (or DEVKIT_PRELOAD_LIB) are required");
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (sl <= 0)
		bench_die("run_connect", errno, "readlink /proc/self/exe");
	self[sl] = '\0';

	struct sockaddr_in a = { .sin_family = AF_INET };
	inet_pton(AF_INET, ECHO_IP, &a.sin_addr);
	socklen_t alen = sizeof(a);
	echo_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(echo_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(echo_fd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(echo_fd, 1024) != 0 ||
		getsockname(echo_fd, (struct sockaddr *)&a, &alen) != 0)
		bench_die("run_connect", errno, "echo server on " ECHO_IP);
	int port = ntohs(a.sin_port);
	pthread_t thr;
	pthread_create(&thr, NULL, echo_thread, NULL);

	devkit_ctx *ctx = NULL;
	check(devkit_ctx_new(&ctx, NULL), "devkit_ctx_new");
	devkit_tunnel_options to;
	devkit_tunnel_options_init(&to, DEVKIT_TUNNEL_OPTIONS_VERSION);
	to.bastion = bastion;
	to.identity_file = identity;
	to.known_hosts_file = known;
	to.use_agent = 0;
	devkit_tunnel *tunnel = NULL;
	check(devkit_tunnel_open(&tunnel, ctx, &to), "devkit_tunnel_open");
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	devkit_forward *socks = NULL;
	check(devkit_tunnel_add_forward(&socks, tunnel, &fo), "dynamic forward");
	devkit_router_options ro;
	devkit_router_options_init(&ro, DEVKIT_ROUTER_OPTIONS_VERSION);
	devkit_router *router = NULL;
	check(devkit_router_start(&router, tunnel, &ro), "devkit_router_start");

	printf("run_connect: connect + 1-byte echo + close, %d rounds each, bastion %s\n", n, bastion);
	rounds("direct", n / 10 + 1, port, 0); /* warm-up: caches, the server thread */
	double direct = rounds("direct", n, port, 0);
	report("direct", n, direct, 0);
	double base = direct * 1e6 / n;
	int sp = devkit_forward_port(socks);
	rounds("socks", n / 10 + 1, port, sp);
	report("socks", n, rounds("socks", n, port, sp), base);
	report("shim", n, run_shim(self, preload, devkit_router_control_path(router), n, port), base);

	devkit_router_free(router);
	devkit_tunnel_free(tunnel);
	devkit_ctx_free(ctx);
	shutdown(echo_fd, SHUT_RDWR);
	close(echo_fd);
	pthread_join(thr, NULL);
	return 0;
}
