/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The LD_PRELOAD shim (libdevkit_preload.so) in real, unmodified programs:
 * curl, python3 (blocking sockets, asyncio, getaddrinfo, gethostbyname_ex)
 * and Java (NIO, HttpClient), each run as a child with LD_PRELOAD set.
 *
 * The engine here is a FAKE, written in this file: a unix-socket control
 * server thread that speaks the protocol of src/preload/control.h, answering
 * RESOLVE from a fixed table and ROUTE/OPEN with the port of a loopback
 * "redirect listener" that the test runs itself (or with REFUSED /
 * UNREACHABLE for chosen ports). That isolates the shim: what it asks, in
 * which mode, and how the application sees the answers. The real engine
 * (src/route/, devkit run) is tested end-to-end elsewhere.
 *
 * All traffic stays on loopback: the routed CIDR is 127.77.0.0/16 and the
 * routed names resolve to loopback addresses, so even a broken shim that
 * connected directly would not leave the host (it would just be refused).
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proc_fixture.h"

#define MAX_LOG 256
#define MAX_MAP 256

static struct {
	char dir[64];
	char control[128];
	int ctl_fd;              /* fake engine's control listener */
	int redir4, redir6;      /* redirect listener (same port on 127.0.0.1, ::1) */
	int direct_fd;           /* a non-routed server on 127.0.0.1 */
	int redirect_port, direct_port;
	pthread_t ctl_thr, r4_thr, r6_thr, direct_thr;
	int have6;
	pthread_mutex_t lock;
	char *log[MAX_LOG];      /* every control request, in order */
	size_t nlog;
	struct { int src_port; char dst[80]; } map[MAX_MAP];
	size_t nmap;
} fx = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* --- the fake engine ------------------------------------------------------ */

struct answer {
	const char *name, *v4, *v6;
};
static const struct answer answers[] = {
	{ "web.corp.test", "127.77.0.5", NULL },
	{ "api.svc.corp.test", "127.77.0.6", NULL },
	/* Outside the routed CIDR: routed only because RESOLVE answered it. */
	{ "named.corp.test", "127.0.0.99", NULL },
	{ "v6.corp.test", NULL, "::1" },
	{ "both.corp.test", "127.77.0.8", "::1" },
};

static void answer_line(const char *req, char *resp, size_t len)
{
	char name[300], ip[80];
	int family, src, dport;
	if (sscanf(req, "RESOLVE %299s %d", name, &family) == 2) {
		if (!strcmp(name, "broken.corp.test")) {
			snprintf(resp, len, "ERROR upstream DNS failed");
			return;
		}
		for (size_t i = 0; i < sizeof(answers) / sizeof(answers[0]); i++) {
			const struct answer *a = &answers[i];
			if (strcmp(a->name, name))
				continue;
			const char *v4 = family == 6 ? NULL : a->v4, *v6 = family == 4 ? NULL : a->v6;
			if (!v4 && !v6)
				snprintf(resp, len, "OK");
			else
				snprintf(resp, len, "OK%s%s%s%s", v4 ? " " : "", v4 ? v4 : "",
					v6 ? " " : "", v6 ? v6 : "");
			return;
		}
		snprintf(resp, len, "NXDOMAIN");
		return;
	}
	char verb[16];
	if (sscanf(req, "%15s %d %79s %d", verb, &src, ip, &dport) == 4 &&
		(!strcmp(verb, "ROUTE") || !strcmp(verb, "OPEN"))) {
		if (!strcmp(verb, "OPEN") && dport == 81) {
			snprintf(resp, len, "REFUSED connection refused by %s", ip);
			return;
		}
		if (!strcmp(verb, "OPEN") && dport == 82) {
			snprintf(resp, len, "UNREACHABLE no route");
			return;
		}
		pthread_mutex_lock(&fx.lock);
		if (fx.nmap < MAX_MAP) {
			fx.map[fx.nmap].src_port = src;
			snprintf(fx.map[fx.nmap].dst, sizeof(fx.map[0].dst), "%.60s:%d", ip, dport);
			fx.nmap++;
		}
		pthread_mutex_unlock(&fx.lock);
		snprintf(resp, len, "OK %d", fx.redirect_port);
		return;
	}
	snprintf(resp, len, "ERROR bad request");
}

static void serve_control(int c)
{
	char buf[2048];
	size_t got = 0;
	for (;;) {
		ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
		if (r <= 0)
			return;
		got += (size_t)r;
		char *nl;
		while ((nl = memchr(buf, '\n', got)) != NULL) {
			*nl = '\0';
			pthread_mutex_lock(&fx.lock);
			if (fx.nlog < MAX_LOG)
				fx.log[fx.nlog++] = strdup(buf);
			pthread_mutex_unlock(&fx.lock);
			char resp[1100];
			answer_line(buf, resp, sizeof(resp) - 1);
			strcat(resp, "\n");
			if (write(c, resp, strlen(resp)) < 0)
				return;
			size_t used = (size_t)(nl - buf) + 1;
			memmove(buf, nl + 1, got - used);
			got -= used;
		}
	}
}

static void *control_thread(void *arg)
{
	for (;;) {
		int c = accept(fx.ctl_fd, NULL, NULL);
		if (c < 0)
			return NULL; /* shutdown() of the listener */
		serve_control(c);
		close(c);
	}
}

/* --- the redirect listener and the direct server --------------------------- */

/* Answers HTTP requests with "routed <dst>" (dst from the engine's map, by the
 * peer's source port), anything else with "routed <dst>|<what it read>". */
static void serve_conn(int c, int routed)
{
	struct sockaddr_storage peer;
	socklen_t plen = sizeof(peer);
	getpeername(c, (struct sockaddr *)&peer, &plen);
	int port = ntohs(peer.ss_family == AF_INET ? ((struct sockaddr_in *)&peer)->sin_port
		: ((struct sockaddr_in6 *)&peer)->sin6_port);
	char dst[100] = "direct";
	if (routed) {
		snprintf(dst, sizeof(dst), "routed ?");
		pthread_mutex_lock(&fx.lock);
		for (size_t i = 0; i < fx.nmap; i++)
			if (fx.map[i].src_port == port)
				snprintf(dst, sizeof(dst), "routed %s", fx.map[i].dst);
		pthread_mutex_unlock(&fx.lock);
	}
	char in[4096];
	struct pollfd p = { .fd = c, .events = POLLIN };
	ssize_t n = poll(&p, 1, 10000) == 1 ? read(c, in, sizeof(in) - 1) : 0;
	in[n > 0 ? n : 0] = '\0';
	char out[8192];
	if (!strncmp(in, "GET ", 4))
		snprintf(out, sizeof(out),
			"HTTP/1.1 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
			strlen(dst), dst);
	else
		snprintf(out, sizeof(out), "%s|%s", dst, in);
	if (write(c, out, strlen(out)) < 0)
		return;
	shutdown(c, SHUT_WR);
	/* Let the client read before the close (no RST on unread data). */
	while (poll(&p, 1, 2000) == 1 && read(c, in, sizeof(in)) > 0)
		;
}

static void *listen_thread(void *arg)
{
	int fd = *(int *)arg;
	int routed = fd != fx.direct_fd;
	for (;;) {
		int c = accept(fd, NULL, NULL);
		if (c < 0)
			return NULL;
		serve_conn(c, routed);
		close(c);
	}
}

static int tcp_listen(int family, int port)
{
	int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_storage ss = { 0 };
	socklen_t len;
	if (family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons((uint16_t)port);
		len = sizeof(*in);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
		in6->sin6_family = AF_INET6;
		in6->sin6_addr = in6addr_loopback;
		in6->sin6_port = htons((uint16_t)port);
		len = sizeof(*in6);
	}
	if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 64) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int local_port(int fd)
{
	struct sockaddr_in in;
	socklen_t len = sizeof(in);
	getsockname(fd, (struct sockaddr *)&in, &len);
	return ntohs(in.sin_port);
}

static void setup(void)
{
	cr_assert_not_null(getenv("DEVKIT_PRELOAD_LIB"), "DEVKIT_PRELOAD_LIB (set by CTest)");
	snprintf(fx.dir, sizeof(fx.dir), "/tmp/dkpreload.XXXXXX");
	cr_assert_not_null(mkdtemp(fx.dir));
	snprintf(fx.control, sizeof(fx.control), "%s/control.sock", fx.dir);
	fx.ctl_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%.100s", fx.control);
	cr_assert_eq(bind(fx.ctl_fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	cr_assert_eq(listen(fx.ctl_fd, 64), 0);

	fx.redir4 = tcp_listen(AF_INET, 0);
	cr_assert_geq(fx.redir4, 0);
	fx.redirect_port = local_port(fx.redir4);
	fx.redir6 = tcp_listen(AF_INET6, fx.redirect_port);
	fx.have6 = fx.redir6 >= 0;
	fx.direct_fd = tcp_listen(AF_INET, 0);
	cr_assert_geq(fx.direct_fd, 0);
	fx.direct_port = local_port(fx.direct_fd);

	pthread_create(&fx.ctl_thr, NULL, control_thread, NULL);
	pthread_create(&fx.r4_thr, NULL, listen_thread, &fx.redir4);
	if (fx.have6)
		pthread_create(&fx.r6_thr, NULL, listen_thread, &fx.redir6);
	pthread_create(&fx.direct_thr, NULL, listen_thread, &fx.direct_fd);
}

static void teardown(void)
{
	int fds[] = { fx.ctl_fd, fx.redir4, fx.redir6, fx.direct_fd };
	for (size_t i = 0; i < 4; i++)
		if (fds[i] >= 0)
			shutdown(fds[i], SHUT_RDWR);
	pthread_join(fx.ctl_thr, NULL);
	pthread_join(fx.r4_thr, NULL);
	if (fx.have6)
		pthread_join(fx.r6_thr, NULL);
	pthread_join(fx.direct_thr, NULL);
	for (size_t i = 0; i < 4; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	unlink(fx.control);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", fx.dir);
	if (system(cmd) != 0)
		cr_log_warn("could not remove %s", fx.dir);
	for (size_t i = 0; i < fx.nlog; i++)
		free(fx.log[i]);
	fx.nlog = 0;
	fx.nmap = 0;
}

TestSuite(preload, .init = setup, .fini = teardown, .timeout = 120);

/* --- helpers ---------------------------------------------------------------- */

/* How many control requests start with prefix. */
static int logged(const char *prefix)
{
	int n = 0;
	pthread_mutex_lock(&fx.lock);
	for (size_t i = 0; i < fx.nlog; i++)
		n += strncmp(fx.log[i], prefix, strlen(prefix)) == 0;
	pthread_mutex_unlock(&fx.lock);
	return n;
}

static size_t nlogged(void)
{
	pthread_mutex_lock(&fx.lock);
	size_t n = fx.nlog;
	pthread_mutex_unlock(&fx.lock);
	return n;
}

/* Run argv under the shim. control: DEVKIT_CONTROL (NULL: the fake engine). */
static void run(const char *const argv[], const char *control, fx_run_result *r)
{
	static char preload[600], ctl[200], port[64];
	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", getenv("DEVKIT_PRELOAD_LIB"));
	snprintf(ctl, sizeof(ctl), "DEVKIT_CONTROL=%s", control ? control : fx.control);
	snprintf(port, sizeof(port), "DIRECT_PORT=%d", fx.direct_port);
	const char *env[] = {
		preload, ctl, port,
		"DEVKIT_ROUTE_CIDRS=127.77.0.0/16, ::ffff:127.78.0.0/112",
		"DEVKIT_ROUTE_DOMAINS=corp.test",
		"DEVKIT_SEARCH=svc.corp.test",
		"DEVKIT_NDOTS=1",
		"PYTHONDONTWRITEBYTECODE=1",
		NULL,
	};
	cr_assert_eq(fx_run(argv, env, NULL, 60000, r), 0, "cannot run %s", argv[0]);
	cr_log_info("%s: exit %d\nstdout: %s\nstderr: %s", argv[0], r->exit_code, r->out, r->err);
}

static void python(const char *code, const char *control, fx_run_result *r)
{
	const char *argv[] = { "python3", "-c", code, NULL };
	run(argv, control, r);
}

static void curl(const char *url, fx_run_result *r)
{
	const char *argv[] = { "curl", "-sS", "--noproxy", "*", "--max-time", "20", url, NULL };
	run(argv, NULL, r);
}

/* --- curl: non-blocking connect() and getaddrinfo() from its resolver thread */

Test(preload, curl_to_a_routed_name_goes_through_the_engine)
{
	fx_run_result r;
	curl("http://web.corp.test/", &r);
	cr_expect_eq(r.exit_code, 0, "curl: %s", r.err);
	cr_expect_str_eq(r.out, "routed 127.77.0.5:80");
	cr_expect_geq(logged("RESOLVE web.corp.test "), 1);
	cr_expect_eq(logged("ROUTE "), 1, "curl connects non-blocking: ROUTE, not OPEN");
	cr_expect_eq(logged("OPEN "), 0);
	fx_run_result_free(&r);
}

Test(preload, curl_to_a_routed_cidr_goes_through_the_engine)
{
	fx_run_result r;
	curl("http://127.77.1.2:8080/x", &r);
	cr_expect_eq(r.exit_code, 0, "curl: %s", r.err);
	cr_expect_str_eq(r.out, "routed 127.77.1.2:8080");
	cr_expect_eq(logged("RESOLVE"), 0);
	cr_expect_eq(logged("ROUTE "), 1);
	fx_run_result_free(&r);
}

Test(preload, curl_to_a_mapped_cidr_is_routed)
{
	/* DEVKIT_ROUTE_CIDRS has ::ffff:127.78.0.0/112, which is 127.78.0.0/16. */
	fx_run_result r;
	curl("http://127.78.0.9:81/", &r);
	cr_expect_eq(r.exit_code, 0, "curl: %s", r.err);
	cr_expect_str_eq(r.out, "routed 127.78.0.9:81");
	fx_run_result_free(&r);
}

Test(preload, curl_to_a_non_routed_address_goes_direct)
{
	char url[100];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", fx.direct_port);
	fx_run_result r;
	curl(url, &r);
	cr_expect_eq(r.exit_code, 0, "curl: %s", r.err);
	cr_expect_str_eq(r.out, "direct");
	cr_expect_eq(nlogged(), 0, "the engine must see nothing");
	fx_run_result_free(&r);
}

/* --- python: blocking sockets use OPEN and see the engine's refusals ------- */

Test(preload, python_blocking_connect_uses_open)
{
	fx_run_result r;
	python("import socket\n"
		"s = socket.socket()\n"
		"s.connect(('127.77.0.5', 80))\n"
		"s.sendall(b'ping')\n"
		"print(s.recv(100).decode())\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "routed 127.77.0.5:80|ping\n");
	cr_expect_eq(logged("OPEN "), 1);
	cr_expect_eq(logged("ROUTE "), 0);
	fx_run_result_free(&r);
}

Test(preload, python_blocking_connect_refused_and_unreachable)
{
	fx_run_result r;
	python("import socket, errno\n"
		"try:\n"
		"    socket.create_connection(('web.corp.test', 81))\n"
		"except ConnectionRefusedError:\n"
		"    print('refused')\n"
		"try:\n"
		"    socket.socket().connect(('127.77.0.5', 82))\n"
		"except OSError as e:\n"
		"    print(errno.errorcode[e.errno])\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "refused\nENETUNREACH\n");
	cr_expect_eq(logged("OPEN "), 2);
	fx_run_result_free(&r);
}

Test(preload, python_timeout_socket_is_non_blocking_and_uses_route)
{
	fx_run_result r;
	python("import socket\n"
		"s = socket.create_connection(('web.corp.test', 80), timeout=10)\n"
		"s.sendall(b'x')\n"
		"print(s.recv(100).decode())\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "routed 127.77.0.5:80|x\n");
	cr_expect_eq(logged("ROUTE "), 1);
	cr_expect_eq(logged("OPEN "), 0);
	fx_run_result_free(&r);
}

Test(preload, python_asyncio_open_connection)
{
	fx_run_result r;
	python("import asyncio\n"
		"async def main():\n"
		"    rd, wr = await asyncio.open_connection('web.corp.test', 8443)\n"
		"    wr.write(b'hello')\n"
		"    await wr.drain()\n"
		"    print((await rd.read(100)).decode())\n"
		"    wr.close()\n"
		"asyncio.run(main())\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "routed 127.77.0.5:8443|hello\n");
	cr_expect_eq(logged("ROUTE "), 1);
	fx_run_result_free(&r);
}

Test(preload, address_answered_by_resolve_is_routed_outside_the_cidrs)
{
	fx_run_result r;
	python("import socket\n"
		"s = socket.create_connection(('named.corp.test', 9))\n"
		"s.sendall(b'n')\n"
		"print(s.recv(100).decode())\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "routed 127.0.0.99:9|n\n");
	fx_run_result_free(&r);
}

Test(preload, ipv6_answer_is_routed_through_the_ipv6_loopback)
{
	if (!fx.have6)
		cr_skip_test("no ::1 on this host");
	fx_run_result r;
	python("import socket\n"
		"ai = socket.getaddrinfo('v6.corp.test', 80, socket.AF_INET6, socket.SOCK_STREAM)\n"
		"s = socket.socket(socket.AF_INET6)\n"
		"s.connect(ai[0][4])\n"
		"s.sendall(b'six')\n"
		"print(s.recv(100).decode())\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "routed ::1:80|six\n");
	fx_run_result_free(&r);
}

Test(preload, routed_connect_after_fork_in_the_child)
{
	fx_run_result r;
	python("import os, socket\n"
		"socket.getaddrinfo('web.corp.test', 80)\n"
		"pid = os.fork()\n"
		"s = socket.create_connection(('127.77.0.5', 80 if pid else 90))\n"
		"s.sendall(b'f')\n"
		"print(s.recv(100).decode(), flush=True)\n"
		"if pid: os.waitpid(pid, 0)\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect(strstr(r.out, "routed 127.77.0.5:80|f\n") != NULL);
	cr_expect(strstr(r.out, "routed 127.77.0.5:90|f\n") != NULL);
	fx_run_result_free(&r);
}

Test(preload, socket_bound_to_a_non_loopback_address_is_refused)
{
	/* IP_FREEBIND lets an unprivileged socket bind an address the host does
	 * not have; the shim must refuse before anything is sent. */
	static const char code[] = "import socket, os\n"
		"s = socket.socket()\n"
		"s.setsockopt(socket.SOL_IP, 15, 1)\n"
		"s.bind(('192.0.2.123', 0))\n"
		"try:\n"
		"    s.connect(('127.77.0.5', 80))\n"
		"except ConnectionRefusedError:\n"
		"    print('refused')\n";
	const char *argv[] = { "env", "DEVKIT_PRELOAD_DEBUG=1", "python3", "-c", code, NULL };
	fx_run_result r;
	run(argv, NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "refused\n");
	cr_expect(strstr(r.err, "non-loopback") != NULL, "debug explains: %s", r.err);
	cr_expect_eq(nlogged(), 0);
	fx_run_result_free(&r);
}

Test(preload, many_threads_connect_and_resolve_at_once)
{
	fx_run_result r;
	python("import socket, threading\n"
		"bad = []\n"
		"def work(i):\n"
		"    for j in range(10):\n"
		"        host = 'web.corp.test' if j % 2 else '127.77.3.%d' % i\n"
		"        s = socket.create_connection((host, 1000 + i), timeout=None if i % 2 else 10)\n"
		"        s.sendall(b'%d' % j)\n"
		"        got = b''\n"
		"        while True:\n"
		"            d = s.recv(100)\n"
		"            if not d: break\n"
		"            got += d\n"
		"        want = 'routed %s:%d|%d' % ('127.77.0.5' if j % 2 else host, 1000 + i, j)\n"
		"        if got.decode() != want: bad.append((got, want))\n"
		"        s.close()\n"
		"t = [threading.Thread(target=work, args=(i,)) for i in range(8)]\n"
		"[x.start() for x in t]\n"
		"[x.join() for x in t]\n"
		"print(bad or 'ok')\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "ok\n");
	cr_expect_eq(logged("OPEN ") + logged("ROUTE "), 80);
	fx_run_result_free(&r);
}

/* --- python: name resolution -------------------------------------------------- */

Test(preload, getaddrinfo_of_routed_names)
{
	fx_run_result r;
	python("import socket\n"
		"def show(*a, **k):\n"
		"    try:\n"
		"        print(sorted(set((x[0].name, x[1].name, x[4]) for x in socket.getaddrinfo(*a, **k))))\n"
		"    except socket.gaierror as e:\n"
		"        print('gaierror', e.errno)\n"
		"show('web.corp.test', 80, type=socket.SOCK_STREAM)\n"
		"show('web.corp.test', 'http', socket.AF_INET, socket.SOCK_STREAM)\n"
		"show('api', 443, type=socket.SOCK_STREAM)\n"
		"show('missing.corp.test', 80)\n"
		"show('broken.corp.test', 80)\n"
		"show('both.corp.test', 1, socket.AF_INET6, socket.SOCK_STREAM)\n"
		"show('web.corp.test', 7, socket.AF_INET6, socket.SOCK_STREAM, 0, socket.AI_V4MAPPED)\n"
		"print(len(socket.getaddrinfo('web.corp.test', 5)))\n"
		"print(socket.getaddrinfo('web.corp.test.', None, flags=socket.AI_CANONNAME)[0][3])\n"
		"print(socket.gethostbyname_ex('web.corp.test'))\n"
		"print(socket.gethostbyname('api'))\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out,
		"[('AF_INET', 'SOCK_STREAM', ('127.77.0.5', 80))]\n"
		"[('AF_INET', 'SOCK_STREAM', ('127.77.0.5', 80))]\n"
		"[('AF_INET', 'SOCK_STREAM', ('127.77.0.6', 443))]\n"
		"gaierror -2\n"  /* EAI_NONAME */
		"gaierror -3\n"  /* EAI_AGAIN */
		"[('AF_INET6', 'SOCK_STREAM', ('::1', 1, 0, 0))]\n"
		"[('AF_INET6', 'SOCK_STREAM', ('::ffff:127.77.0.5', 7, 0, 0))]\n"
		"3\n"            /* STREAM, DGRAM and RAW, as glibc answers */
		"web.corp.test\n"
		"('web.corp.test', [], ['127.77.0.5'])\n"
		"127.77.0.6\n");
	cr_expect_geq(logged("RESOLVE api.svc.corp.test "), 1, "short name via the search list");
	cr_expect_eq(logged("RESOLVE api "), 0, "the short name itself is not routed");
	fx_run_result_free(&r);
}

Test(preload, non_routed_names_go_to_the_real_resolver)
{
	fx_run_result r;
	python("import socket\n"
		"print(socket.getaddrinfo('localhost', 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])\n"
		"print(socket.getaddrinfo('127.77.0.5', 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])\n"
		"print(socket.getaddrinfo(None, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4])\n"
		"print(socket.gethostbyname('localhost'))\n", NULL, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "('127.0.0.1', 80)\n('127.77.0.5', 80)\n('127.0.0.1', 80)\n127.0.0.1\n");
	cr_expect_eq(nlogged(), 0, "the engine must see nothing");
	fx_run_result_free(&r);
}

/* --- the engine gone: routed traffic fails closed, the rest still works ----- */

Test(preload, engine_gone_routed_refused_direct_still_works)
{
	char missing[200];
	snprintf(missing, sizeof(missing), "%s/no-such.sock", fx.dir);
	fx_run_result r;
	python("import os, socket\n"
		"for t in (None, 5):\n"
		"    try:\n"
		"        socket.create_connection(('127.77.0.5', 80), timeout=t)\n"
		"        print('connected?!')\n"
		"    except ConnectionRefusedError:\n"
		"        print('refused')\n"
		"try:\n"
		"    socket.getaddrinfo('web.corp.test', 80)\n"
		"except socket.gaierror as e:\n"
		"    print('gaierror', e.errno)\n"
		"s = socket.create_connection(('127.0.0.1', int(os.environ['DIRECT_PORT'])))\n"
		"s.sendall(b'd')\n"
		"print(s.recv(100).decode())\n", missing, &r);
	cr_expect_eq(r.exit_code, 0);
	cr_expect_str_eq(r.out, "refused\nrefused\ngaierror -3\ndirect|d\n");
	cr_expect_eq(nlogged(), 0);
	fx_run_result_free(&r);
}

/* --- harmless in programs that do no networking ------------------------------ */

Test(preload, harmless_in_ordinary_programs)
{
	const char *const cmds[][4] = {
		{ "/bin/true", NULL },
		{ "ls", "/", NULL },
		{ "python3", "-c", "pass", NULL },
	};
	for (size_t i = 0; i < 3; i++) {
		fx_run_result r;
		run(cmds[i], NULL, &r);
		cr_expect_eq(r.exit_code, 0, "%s", cmds[i][0]);
		cr_expect_str_eq(r.err, "", "%s printed on stderr", cmds[i][0]);
		if (i != 1)
			cr_expect_str_eq(r.out, "", "%s printed on stdout", cmds[i][0]);
		fx_run_result_free(&r);
	}
	cr_expect_eq(nlogged(), 0);
}

/* --- Java: NIO non-blocking SocketChannel + Selector, and HttpClient --------- */

static const char java_src[] =
	"import java.net.*;\n"
	"import java.net.http.*;\n"
	"import java.nio.ByteBuffer;\n"
	"import java.nio.channels.*;\n"
	"public class Nio {\n"
	"  public static void main(String[] a) throws Exception {\n"
	"    SocketChannel ch = SocketChannel.open();\n"
	"    ch.configureBlocking(false);\n"
	"    Selector sel = Selector.open();\n"
	"    boolean done = ch.connect(new InetSocketAddress(\"web.corp.test\", 7000));\n"
	"    ch.register(sel, done ? SelectionKey.OP_WRITE : SelectionKey.OP_CONNECT);\n"
	"    ByteBuffer in = ByteBuffer.allocate(200);\n"
	"    while (true) {\n"
	"      sel.select(10000);\n"
	"      for (SelectionKey k : sel.selectedKeys()) {\n"
	"        if (k.isConnectable()) { ch.finishConnect(); k.interestOps(SelectionKey.OP_WRITE); }\n"
	"        else if (k.isWritable()) { ch.write(ByteBuffer.wrap(\"nio\".getBytes())); k.interestOps(SelectionKey.OP_READ); }\n"
	"        else if (k.isReadable()) { if (ch.read(in) < 0) { System.out.println(new String(in.array(), 0, in.position())); ch.close(); sel.close(); http(); return; } }\n"
	"      }\n"
	"      sel.selectedKeys().clear();\n"
	"    }\n"
	"  }\n"
	"  static void http() throws Exception {\n"
	"    HttpClient c = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)\n"
	"      .version(HttpClient.Version.HTTP_1_1).build();\n"
	"    HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create(\"http://web.corp.test:8080/\")).build(),\n"
	"      HttpResponse.BodyHandlers.ofString());\n"
	"    System.out.println(r.statusCode() + \" \" + r.body());\n"
	"  }\n"
	"}\n";

Test(preload, java_nio_selector_and_http_client, .timeout = 180)
{
	if (access("/usr/bin/java", X_OK) != 0)
		cr_skip_test("no java");
	char path[200];
	snprintf(path, sizeof(path), "%s/Nio.java", fx.dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(java_src, f);
	fclose(f);
	const char *argv[] = { "java", path, NULL };
	fx_run_result r;
	run(argv, NULL, &r);
	cr_expect_eq(r.exit_code, 0, "java: %s", r.err);
	cr_expect_str_eq(r.out, "routed 127.77.0.5:7000|nio\n200 routed 127.77.0.5:8080\n");
	cr_expect_eq(logged("ROUTE "), 2, "Java NIO connects non-blocking");
	fx_run_result_free(&r);
}
