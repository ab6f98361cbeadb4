/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The dynamic forward (-D, the "sidecar" port) as clients use it: SOCKS5 with
 * a name, an IPv4 and an IPv6 address; SOCKS4 and 4a; RFC 1929 credentials;
 * HTTP CONNECT and plain absolute-URI HTTP proxying to a real HTTP server.
 * Broken requests close that one connection and nothing else; a destination
 * the bastion cannot reach is reported the way each protocol says (SOCKS5
 * reply 0x05, SOCKS4 0x5b, HTTP 502).
 *
 * Every destination is on this machine (127.0.0.1, ::1, "localhost", which
 * sshd resolves from /etc/hosts): nothing leaves loopback.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2, ... */
#endif
#include "tunnel_test.h"

#define PROXY_USER "proxy-user"
#define PROXY_PASS "proxy-Pass-31"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static devkit_forward *socks;
static fx_server *echo;
static tt_http_server http;

static void setup(void)
{
	tt_tunnel_up(&sshd, &ctx, &tunnel);
	socks = tt_dynamic_forward(tunnel, NULL, NULL);
	echo = fx_echo_start();
	cr_assert_not_null(echo);
}

static void teardown(void)
{
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_server_stop(echo);
	echo = NULL;
	tt_http_stop(&http);
	fx_sshd_stop(&sshd);
}

TestSuite(dynamic_forward, .init = setup, .fini = teardown, .timeout = 120);

static int proxy_port(void)
{
	return devkit_forward_port(socks);
}

/* ---- an echo server on [::1] (the net fixture binds IPv4 only) ------------- */

typedef struct v6_echo {
	int lfd, stopfd[2], port;
	pthread_t thread;
} v6_echo;

static void *v6_echo_main(void *arg)
{
	v6_echo *e = arg;
	for (;;) {
		struct pollfd p[2] = { { e->lfd, POLLIN, 0 }, { e->stopfd[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		int fd = accept4(e->lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		/* One connection at a time is all these tests need. */
		char buf[16384];
		for (;;) {
			struct pollfd q[2] = { { fd, POLLIN, 0 }, { e->stopfd[0], POLLIN, 0 } };
			if (poll(q, 2, -1) < 0 && errno != EINTR)
				break;
			if (q[1].revents)
				break;
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n <= 0)
				break;
			if (fx_write_all(fd, buf, (size_t)n) != 0)
				break;
		}
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

/* 0, or -1 if this machine has no usable ::1. */
static int v6_echo_start(v6_echo *e)
{
	memset(e, 0, sizeof(*e));
	e->lfd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (e->lfd < 0)
		return -1;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	socklen_t len = sizeof(a);
	if (bind(e->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(e->lfd, 16) != 0 ||
		getsockname(e->lfd, (struct sockaddr *)&a, &len) != 0) {
		close(e->lfd);
		return -1;
	}
	e->port = ntohs(a.sin6_port);
	cr_assert_eq(pipe2(e->stopfd, O_CLOEXEC), 0);
	cr_assert_eq(pthread_create(&e->thread, NULL, v6_echo_main, e), 0);
	return 0;
}

static void v6_echo_stop(v6_echo *e)
{
	if (write(e->stopfd[1], "x", 1) != 1)
		perror("v6 echo stop");
	pthread_join(e->thread, NULL);
	close(e->stopfd[0]);
	close(e->stopfd[1]);
	close(e->lfd);
}

/* ---- SOCKS5 ------------------------------------------------------------------ */

Test(dynamic_forward, socks5_domain_name)
{
	int rep;
	int fd = tt_socks5(proxy_port(), TT_ATYP_DOMAIN, "localhost", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "SOCKS5 CONNECT localhost:%d failed with reply %d", fx_server_port(echo), rep);
	tt_echo_string(fd, "through SOCKS5 by name");
	char why[256];
	cr_assert_eq(tt_echo_pattern(fd, 1, 1 << 20, 1, 30000, why, sizeof(why)), 0, "%s", why);
	close(fd);
}

Test(dynamic_forward, socks5_ipv4)
{
	int rep;
	int fd = tt_socks5(proxy_port(), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "SOCKS5 CONNECT 127.0.0.1 failed with reply %d", rep);
	tt_echo_string(fd, "through SOCKS5 by IPv4");
	close(fd);
}

Test(dynamic_forward, socks5_ipv6)
{
	v6_echo e;
	if (v6_echo_start(&e) != 0)
		cr_skip_test("environment: cannot listen on [::1] on this machine, so there is no IPv6 "
			"target to reach through the proxy");
	int rep;
	int fd = tt_socks5(proxy_port(), TT_ATYP_IPV6, "::1", e.port, NULL, NULL, &rep);
	if (fd < 0) {
		v6_echo_stop(&e);
		cr_assert_fail("SOCKS5 CONNECT [::1]:%d failed with reply %d", e.port, rep);
	}
	tt_echo_string(fd, "through SOCKS5 by IPv6");
	close(fd);

	/* The same target through HTTP CONNECT with a bracketed literal. */
	char head[2048];
	int status;
	fd = tt_http_connect(proxy_port(), tt_fmt("[::1]:%d", e.port), &status, head, sizeof(head));
	if (fd < 0) {
		v6_echo_stop(&e);
		cr_assert_fail("CONNECT [::1]:%d answered %d: %s", e.port, status, head);
	}
	tt_echo_string(fd, "through CONNECT by IPv6");
	close(fd);
	v6_echo_stop(&e);
}

Test(dynamic_forward, socks5_unreachable_target_is_reply_05)
{
	fx_server *refused = fx_refused_start();
	int rep;
	int fd = tt_socks5(proxy_port(), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(refused), NULL, NULL, &rep);
	fx_server_stop(refused);
	if (fd >= 0)
		close(fd);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, 0x05, "SOCKS5 reply should be 0x05 (connection refused), got %d", rep);
}

/* ---- SOCKS4 / 4a -------------------------------------------------------------- */

Test(dynamic_forward, socks4)
{
	int rep;
	int fd = tt_socks4(proxy_port(), "127.0.0.1", NULL, fx_server_port(echo), &rep);
	cr_assert_geq(fd, 0, "SOCKS4 CONNECT failed with reply 0x%02x", rep);
	tt_echo_string(fd, "through SOCKS4");
	close(fd);
}

Test(dynamic_forward, socks4a)
{
	int rep;
	int fd = tt_socks4(proxy_port(), NULL, "localhost", fx_server_port(echo), &rep);
	cr_assert_geq(fd, 0, "SOCKS4a CONNECT localhost failed with reply 0x%02x", rep);
	tt_echo_string(fd, "through SOCKS4a");
	close(fd);
}

Test(dynamic_forward, socks4_unreachable_target_is_reply_5b)
{
	fx_server *refused = fx_refused_start();
	int rep;
	int fd = tt_socks4(proxy_port(), "127.0.0.1", NULL, fx_server_port(refused), &rep);
	fx_server_stop(refused);
	if (fd >= 0)
		close(fd);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, 0x5b, "SOCKS4 reply should be 0x5b, got 0x%02x", rep);
}

/* ---- RFC 1929 ------------------------------------------------------------------ */

Test(dynamic_forward, socks5_username_password_right)
{
	devkit_forward *authed = tt_dynamic_forward(tunnel, PROXY_USER, PROXY_PASS);
	int rep;
	int fd = tt_socks5(devkit_forward_port(authed), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo),
		PROXY_USER, PROXY_PASS, &rep);
	cr_assert_geq(fd, 0, "authenticated SOCKS5 CONNECT failed with %d", rep);
	tt_echo_string(fd, "authenticated");
	close(fd);
}

Test(dynamic_forward, socks5_username_password_wrong)
{
	devkit_forward *authed = tt_dynamic_forward(tunnel, PROXY_USER, PROXY_PASS);
	int port = devkit_forward_port(authed);
	int rep;
	int fd = tt_socks5(port, TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), PROXY_USER,
		"wrong-pass", &rep);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, -2, "a wrong password must fail the RFC 1929 step (got %d)", rep);
	fd = tt_socks5(port, TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), "other-user", PROXY_PASS, &rep);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, -2, "a wrong user must fail the RFC 1929 step (got %d)", rep);
	/* A client that offers no authentication at all gets "no acceptable
	 * methods" (0xFF). */
	fd = tt_socks5(port, TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, 0x1ff, "expected method 0xFF, got %d", rep);
	/* SOCKS4 cannot carry a password: refused. */
	fd = tt_socks4(port, "127.0.0.1", NULL, fx_server_port(echo), &rep);
	cr_assert_lt(fd, 0);
	cr_assert_eq(rep, 0x5b, "SOCKS4 on a password-protected proxy: 0x%02x", rep);
	fx_server_stats st;
	fx_server_stats_get(echo, &st);
	cr_assert_eq(st.accepted, 0, "a refused client reached the target");
}

Test(dynamic_forward, http_proxy_basic_auth)
{
	devkit_forward *authed = tt_dynamic_forward(tunnel, PROXY_USER, PROXY_PASS);
	int port = devkit_forward_port(authed);
	char head[2048];
	int fd = tt_connect(port);
	const char *req = tt_fmt("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n",
		fx_server_port(echo), fx_server_port(echo));
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	int status = tt_read_http_head(fd, head, sizeof(head));
	cr_assert_eq(status, 407, "CONNECT without credentials: %d %s", status, head);
	cr_assert(strstr(head, "Proxy-Authenticate: Basic") != NULL, "%s", head);
	close(fd);

	/* "proxy-user:proxy-Pass-31" in base64 */
	const char *b64 = "cHJveHktdXNlcjpwcm94eS1QYXNzLTMx";
	fd = tt_connect(port);
	req = tt_fmt("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\nProxy-Authorization: Basic %s\r\n\r\n",
		fx_server_port(echo), b64);
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	status = tt_read_http_head(fd, head, sizeof(head));
	cr_assert_eq(status, 200, "CONNECT with credentials: %d %s", status, head);
	tt_echo_string(fd, "basic auth ok");
	close(fd);
}

/* ---- HTTP ------------------------------------------------------------------------ */

Test(dynamic_forward, http_connect)
{
	char head[2048];
	int status;
	int fd = tt_http_connect(proxy_port(), tt_fmt("127.0.0.1:%d", fx_server_port(echo)), &status,
		head, sizeof(head));
	cr_assert_geq(fd, 0, "CONNECT answered %d: %s", status, head);
	tt_echo_string(fd, "through HTTP CONNECT");
	char why[256];
	cr_assert_eq(tt_echo_pattern(fd, 3, 1 << 20, 1, 30000, why, sizeof(why)), 0, "%s", why);
	close(fd);
}

Test(dynamic_forward, http_connect_with_bytes_after_the_head)
{
	/* A client may pipeline its first bytes (a TLS ClientHello) right after
	 * the CONNECT head, in the same segment: they must reach the target. */
	int fd = tt_connect(proxy_port());
	const char *req = tt_fmt("CONNECT localhost:%d HTTP/1.1\r\nHost: localhost\r\n\r\nEARLY-DATA",
		fx_server_port(echo));
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	char head[2048];
	int status = tt_read_http_head(fd, head, sizeof(head));
	cr_assert_eq(status, 200, "%d %s", status, head);
	char buf[16];
	cr_assert_eq(fx_read_full(fd, buf, 10, TT_WAIT_MS), 10);
	cr_assert(memcmp(buf, "EARLY-DATA", 10) == 0, "got '%.10s'", buf);
	close(fd);
}

Test(dynamic_forward, http_connect_unreachable_is_502)
{
	fx_server *refused = fx_refused_start();
	char head[2048];
	int status;
	int fd = tt_http_connect(proxy_port(), tt_fmt("127.0.0.1:%d", fx_server_port(refused)), &status,
		head, sizeof(head));
	fx_server_stop(refused);
	if (fd >= 0)
		close(fd);
	cr_assert_eq(status, 502, "CONNECT to a refused port should answer 502, got %d: %s", status, head);
}

Test(dynamic_forward, plain_http_absolute_uri)
{
	tt_http_start(&http);
	for (int i = 0; i < 2; i++) {
		const char *host = i == 0 ? "127.0.0.1" : "localhost";
		int fd = tt_connect(proxy_port());
		const char *req = tt_fmt("GET http://%s:%d/hello.txt HTTP/1.1\r\nHost: %s:%d\r\n"
			"User-Agent: devkit-test\r\nProxy-Connection: keep-alive\r\n\r\n",
			host, http.port, host, http.port);
		cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
		char head[4096];
		int status = tt_read_http_head(fd, head, sizeof(head));
		cr_assert_eq(status, 200, "GET via %s: %d %s", host, status, head);
		char body[256] = "";
		ssize_t n = fx_read_full(fd, body, sizeof(body) - 1, TT_WAIT_MS);
		cr_assert_eq(n, (ssize_t)strlen(TT_HTTP_BODY), "body: %zd bytes '%s'", n, body);
		cr_assert_str_eq(body, TT_HTTP_BODY);
		/* The proxy forces Connection: close, so the server ends the stream. */
		cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1, "the connection did not close after the response");
		close(fd);
	}
	char *log = tt_read_file(tt_fmt("%s/server.log", http.dir));
	cr_assert_not_null(log);
	/* The server must have seen origin-form requests, not the absolute URI. */
	cr_assert(strstr(log, "\"GET /hello.txt HTTP/1.1\" 200") != NULL, "server log: %s", log);
	free(log);
}

Test(dynamic_forward, plain_http_unreachable_is_502)
{
	fx_server *refused = fx_refused_start();
	int fd = tt_connect(proxy_port());
	const char *req = tt_fmt("GET http://127.0.0.1:%d/ HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
		fx_server_port(refused));
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	char head[2048];
	int status = tt_read_http_head(fd, head, sizeof(head));
	close(fd);
	fx_server_stop(refused);
	cr_assert_eq(status, 502, "GET to a refused port should answer 502, got %d: %s", status, head);
}

/* ---- broken clients ---------------------------------------------------------------- */

/* Send `bytes`, optionally half-close, and expect the proxy to close the
 * connection (reading and discarding any error reply). */
static void expect_closed(const char *what, const void *bytes, size_t n, int half_close)
{
	int fd = tt_connect(proxy_port());
	if (n)
		cr_assert_eq(fx_write_all(fd, bytes, n), 0, "%s: write", what);
	if (half_close)
		shutdown(fd, SHUT_WR);
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1, "%s: the proxy kept the connection open", what);
	close(fd);
}

Test(dynamic_forward, broken_requests_close_only_their_connection)
{
	/* A good connection, established before and used after the bad ones. */
	int rep;
	int good = tt_socks5(proxy_port(), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(good, 0, "reply %d", rep);
	tt_echo_string(good, "before");

	expect_closed("unknown version 6", "\x06\x01\x00", 3, 0);
	expect_closed("version 0", "\x00\x00\x00\x00", 4, 0);
	expect_closed("binary garbage", "\xff\xfe\xfd\x80\x01", 5, 0);
	expect_closed("SOCKS5 greeting without methods", "\x05\x00", 2, 0);
	expect_closed("truncated SOCKS5 greeting", "\x05\x02\x00", 3, 1);
	expect_closed("truncated SOCKS5 request", "\x05\x01\x00" "\x05\x01\x00\x01\x7f\x00", 9, 1);
	expect_closed("SOCKS5 request with version 4", "\x05\x01\x00" "\x04\x01\x00\x01\x7f\x00\x00\x01\x00\x50", 13, 0);
	expect_closed("SOCKS5 BIND command", "\x05\x01\x00" "\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50", 13, 0);
	expect_closed("SOCKS5 bad address type", "\x05\x01\x00" "\x05\x01\x00\x09\x7f\x00\x00\x01\x00\x50", 13, 0);
	expect_closed("SOCKS5 empty domain", "\x05\x01\x00" "\x05\x01\x00\x03\x00\x00\x50", 10, 0);
	expect_closed("truncated SOCKS4 request", "\x04\x01\x00\x50\x7f", 5, 1);
	expect_closed("SOCKS4 user id never ends", "\x04\x01\x00\x50\x7f\x00\x00\x01" "abc", 11, 1);
	expect_closed("not HTTP", "HELLO\r\n\r\n", 9, 0);
	expect_closed("truncated HTTP head", "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost:", 35, 1);
	expect_closed("CONNECT without a port", "CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n", 30, 0);
	expect_closed("nothing at all", "", 0, 1);
	/* An HTTP head larger than the proxy accepts. */
	size_t big = 64 * 1024;
	char *huge = malloc(big);
	memset(huge, 'a', big);
	memcpy(huge, "GET http://127.0.0.1/ HTTP/1.1\r\nX-Big: ", 39);
	int fd = tt_connect(proxy_port());
	fx_write_all(fd, huge, big); /* the proxy may close before taking it all */
	free(huge);
	char head[2048];
	int status = tt_read_http_head(fd, head, sizeof(head));
	cr_assert(status == 431 || status == 400, "an oversized head answered %d: %s", status, head);
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1);
	close(fd);
	/* A client that goes away in the middle of its request (RST). */
	fd = tt_connect(proxy_port());
	fx_write_all(fd, "\x05\x01\x00\x05\x01", 5);
	struct linger lg = { 1, 0 };
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);

	tt_echo_string(good, "after");
	close(good);
	fd = tt_socks5(proxy_port(), TT_ATYP_DOMAIN, "localhost", fx_server_port(echo), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "a new connection after the bad ones failed with %d", rep);
	tt_echo_string(fd, "new");
	close(fd);
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);
	devkit_forward_stats st = tt_wait_forward_idle(socks, 5000);
	cr_assert_eq(st.channels_open, 0, "%llu connections still open", (unsigned long long)st.channels_open);
}
