/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv6 loopback (::1) end to end: a bastion given as "[::1]:port" (host key
 * checked against a "[::1]:port" known_hosts entry, or pinned), and local
 * and dynamic forwards listening on [::1]. sshd is told to listen on ::1 as
 * well as 127.0.0.1. If this machine has no usable ::1 the tests say so and
 * skip (an environment limit, not a library result).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *echo;

static int have_ipv6_loopback(void)
{
	int fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(fd);
	return ok;
}

static void setup(void)
{
	if (!have_ipv6_loopback())
		return;
	fx_sshd_options so = { .extra_config = "ListenAddress ::1" };
	cr_assert_eq(fx_sshd_start(&sshd, &so), 0, "cannot start sshd on ::1 and 127.0.0.1");
	ctx = tt_ctx_new();
	echo = fx_echo_start();
	cr_assert_not_null(echo);
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &echo);
}

TestSuite(ipv6, .init = setup, .fini = teardown, .timeout = 60);

#define REQUIRE_IPV6()                                                                    \
	do {                                                                                  \
		if (!ctx)                                                                         \
			cr_skip_test("environment: cannot listen on [::1] on this machine");          \
	} while (0)

static const char *v6_known_hosts(void)
{
	const char *kh = tt_fmt("%s/known_hosts_v6", sshd.dir);
	tt_write_file(kh, tt_fmt("[::1]:%d %s\n", sshd.port, sshd.host_key_line));
	return kh;
}

Test(ipv6, bastion_at_ipv6_literal)
{
	REQUIRE_IPV6();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.bastion = tt_fmt("root@[::1]:%d", sshd.port);
	o.known_hosts_file = v6_known_hosts();
	tunnel = tt_open(ctx, &o);
	devkit_buf b = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_tunnel_describe(tunnel, &b), 0);
	cr_assert(strstr(b.ptr, "::1") != NULL, "describe should show the IPv6 bastion: %s", b.ptr);
	devkit_buf_dispose(&b);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	int fd = tt_connect(devkit_forward_port(f));
	tt_echo_string(fd, "via a bastion on ::1");
	close(fd);
}

Test(ipv6, ipv6_bastion_host_key_is_checked_under_its_own_name)
{
	REQUIRE_IPV6();
	/* The fixture's known_hosts names [127.0.0.1]:port only: for [::1] the
	 * key is unknown, and the message says which name was looked up. */
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.bastion = tt_fmt("root@[::1]:%d", sshd.port);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL, "%s", msg);
	cr_assert(strstr(msg, "::1") != NULL, "%s", msg);
	/* Pinned, known_hosts does not matter. */
	o.host_key_sha256 = sshd.host_fingerprint;
	tunnel = tt_open(ctx, &o);
}

Test(ipv6, local_and_dynamic_forwards_listen_on_ipv6)
{
	REQUIRE_IPV6();
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_LOCAL;
	fo.bind_address = "::1";
	fo.target_host = "127.0.0.1";
	fo.target_port = fx_server_port(echo);
	devkit_forward *l = tt_add_forward(tunnel, &fo);
	cr_assert_str_eq(devkit_forward_address(l), "::1");
	int fd = fx_connect_tcp("::1", devkit_forward_port(l));
	cr_assert_geq(fd, 0, "connect [::1]:%d: %s", devkit_forward_port(l), strerror(errno));
	tt_echo_string(fd, "-L on [::1]");
	close(fd);

	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.target_host = NULL;
	fo.target_port = 0;
	devkit_forward *d = tt_add_forward(tunnel, &fo);
	fd = fx_connect_tcp("::1", devkit_forward_port(d));
	cr_assert_geq(fd, 0, "connect [::1]:%d: %s", devkit_forward_port(d), strerror(errno));
	const char *req = tt_fmt("CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: x\r\n\r\n", fx_server_port(echo));
	cr_assert_eq(fx_write_all(fd, req, strlen(req)), 0);
	char head[1024];
	int status = tt_read_http_head(fd, head, sizeof(head));
	cr_assert_eq(status, 200, "%d %s", status, head);
	tt_echo_string(fd, "-D on [::1]");
	close(fd);
}
