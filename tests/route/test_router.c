/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The router, driven the way the LD_PRELOAD shim drives it: this test plays
 * the shim's part by hand (bind a socket to a loopback port, announce it over
 * the control socket, connect to the redirect port), against a real sshd and
 * a real echo server. The shim itself is tested in tests/preload, end to end
 * in tests/run.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <arpa/inet.h>
#include <sys/socket.h>
#include <stdint.h>
#include <sys/un.h>

#include "../tunnel/tunnel_test.h"

#include <devkit/route.h>

static fx_sshd sshd;
static fx_server *echo;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static devkit_router *router;

static void setup(void)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	echo = fx_echo_start();
	cr_assert_not_null(echo);
	ctx = tt_ctx_new();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_router_options ro;
	devkit_router_options_init(&ro, DEVKIT_ROUTER_OPTIONS_VERSION);
	ro.open_timeout_ms = 5000;
	cr_assert_eq(devkit_router_start(&router, tunnel, &ro), 0, "router: %s", tt_errmsg());
}

static void teardown(void)
{
	devkit_router_free(router);
	router = NULL;
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_server_stop(echo);
	echo = NULL;
	fx_sshd_stop(&sshd);
}

TestSuite(router, .init = setup, .fini = teardown, .timeout = 60);

/* One request line, one answer line, as the shim does it. */
static void ask(const char *request, char *answer, size_t cap)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	cr_assert_geq(fd, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", devkit_router_control_path(router));
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "control socket: %s", strerror(errno));
	cr_assert_eq(fx_write_all(fd, request, strlen(request)), 0);
	size_t got = 0;
	while (got + 1 < cap) {
		ssize_t n = read(fd, answer + got, 1);
		cr_assert_gt(n, 0, "the router closed without answering '%s'", request);
		if (answer[got] == '\n')
			break;
		got++;
	}
	answer[got] = '\0';
	close(fd);
}

/* A socket bound to a loopback port, as the shim binds the application's. */
static int bound_socket(int *port)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	*port = ntohs(a.sin_port);
	return fd;
}

static void connect_to(int fd, int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0, "redirect port: %s", strerror(errno));
}

/* The shim's part for one connection: bind, announce with `verb` (ROUTE or
 * OPEN) as going to 127.0.0.1:dst_port, connect to the redirect port. */
static int routed_socket(const char *verb, int dst_port)
{
	int src;
	int fd = bound_socket(&src);
	char answer[256];
	ask(tt_fmt("%s %d 127.0.0.1 %d\n", verb, src, dst_port), answer, sizeof(answer));
	int port = 0;
	cr_assert_eq(sscanf(answer, "OK %d", &port), 1, "answer: %s", answer);
	connect_to(fd, port);
	return fd;
}

Test(router, control_socket_is_private)
{
	struct stat st;
	cr_assert_eq(stat(devkit_router_control_path(router), &st), 0);
	cr_assert_eq(st.st_mode & 0077, 0, "mode %o lets other users route", st.st_mode & 0777);
}

Test(router, announced_connection_reaches_its_destination_through_the_tunnel)
{
	int fd = routed_socket("ROUTE", fx_server_port(echo));
	tt_echo_string(fd, "routed through the bastion");
	close(fd);
	devkit_router_stats st = DEVKIT_ROUTER_STATS_INIT;
	cr_assert_eq(devkit_router_get_stats(router, &st), 0);
	cr_assert_eq(st.routed, 1);
}

Test(router, open_waits_for_the_channel_then_the_connect_uses_it)
{
	int fd = routed_socket("OPEN", fx_server_port(echo));
	tt_echo_string(fd, "a channel opened before the connect");
	close(fd);
}

Test(router, open_to_a_refused_port_is_refused)
{
	fx_server *refused = fx_refused_start();
	int src;
	int fd = bound_socket(&src);
	char answer[512];
	ask(tt_fmt("OPEN %d 127.0.0.1 %d\n", src, fx_server_port(refused)), answer, sizeof(answer));
	cr_assert(strncmp(answer, "REFUSED ", 8) == 0, "answer: %s", answer);
	close(fd);
	fx_server_stop(refused);
}

Test(router, routed_connection_to_a_refused_port_is_reset)
{
	fx_server *refused = fx_refused_start();
	int fd = routed_socket("ROUTE", fx_server_port(refused));
	char c;
	ssize_t n = read(fd, &c, 1);
	cr_assert_eq(n, -1, "read %zd bytes from a refused destination", n);
	cr_assert_eq(errno, ECONNRESET, "errno %s", strerror(errno));
	close(fd);
	fx_server_stop(refused);
}

Test(router, unannounced_connection_is_reset)
{
	int src;
	int fd = bound_socket(&src);
	char answer[256];
	ask(tt_fmt("ROUTE %d 127.0.0.1 %d\n", src + 1 > 65535 ? 1 : src + 1, fx_server_port(echo)),
		answer, sizeof(answer));
	int port = 0;
	cr_assert_eq(sscanf(answer, "OK %d", &port), 1);
	connect_to(fd, port);
	char c;
	cr_assert_eq(read(fd, &c, 1), -1);
	cr_assert_eq(errno, ECONNRESET);
	close(fd);
}

Test(router, malformed_requests_get_an_error_and_the_router_keeps_working)
{
	const char *bad[] = { "HELLO\n", "ROUTE\n", "ROUTE 1 2\n", "ROUTE 0 127.0.0.1 80\n",
		"ROUTE 70000 127.0.0.1 80\n", "ROUTE 5 not-an-ip 80\n", "OPEN 5 127.0.0.1 x\n",
		"RESOLVE a.b 9\n" };
	char answer[256];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ask(bad[i], answer, sizeof(answer));
		cr_assert(strncmp(answer, "ERROR ", 6) == 0, "'%s' got: %s", bad[i], answer);
	}
	ask("RESOLVE orders.default.svc.cluster.local 4\n", answer, sizeof(answer));
	cr_assert(strncmp(answer, "ERROR ", 6) == 0, "no resolver configured, got: %s", answer);
	int fd = routed_socket("ROUTE", fx_server_port(echo));
	tt_echo_string(fd, "still working");
	close(fd);
}

Test(router, free_removes_the_control_socket)
{
	char path[256];
	snprintf(path, sizeof(path), "%s", devkit_router_control_path(router));
	devkit_router_free(router);
	router = NULL;
	cr_assert_neq(access(path, F_OK), 0, "%s still exists", path);
}

Test(router, a_control_path_in_use_is_refused_and_left_alone)
{
	/* Another router owns this path: starting a second one on it fails
	 * cleanly, and the first one's socket survives. */
	const char *path = devkit_router_control_path(router);
	devkit_router_options ro;
	devkit_router_options_init(&ro, DEVKIT_ROUTER_OPTIONS_VERSION);
	ro.control_path = path;
	devkit_router *second = (devkit_router *)(uintptr_t)1;
	int rc = devkit_router_start(&second, tunnel, &ro);
	cr_assert_eq(rc, DEVKIT_EEXISTS, "got %d: %s", rc, tt_errmsg());
	cr_assert_null(second);
	cr_assert(strstr(tt_errmsg(), path) != NULL, "the message should name the path: %s", tt_errmsg());
	cr_assert_eq(access(path, F_OK), 0, "the failed start removed the other router's socket");
	int src;
	int fd = bound_socket(&src);
	char answer[256];
	ask(tt_fmt("ROUTE %d 127.0.0.1 %d\n", src, fx_server_port(echo)), answer, sizeof(answer));
	cr_assert(strncmp(answer, "OK ", 3) == 0, "the first router stopped answering: %s", answer);
	close(fd);
}

Test(router, requests_pipelined_on_one_connection_are_answered_in_order)
{
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", devkit_router_control_path(router));
	cr_assert_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	char req[8192] = "";
	for (int i = 0; i < 100; i++)
		strcat(req, tt_fmt("ROUTE %d 127.0.0.1 %d\n", 20000 + i, fx_server_port(echo)));
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	int lines = 0;
	char c;
	while (lines < 100 && read(fd, &c, 1) == 1)
		lines += c == '\n';
	cr_assert_eq(lines, 100, "answered %d of 100", lines);
	close(fd);
}
