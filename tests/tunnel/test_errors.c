/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The API's error paths, each with the code and message a user would act on:
 * NULL arguments, wrong options versions, malformed bastion strings, a
 * non-loopback listener not asked for, a port already in use, a bastion port
 * with nothing listening, a bastion name that does not resolve, and a
 * bastion that accepts TCP but never speaks (the timeout names the stage).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <sched.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>

#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *server;

static void setup(void)
{
	ctx = tt_ctx_new();
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &server);
}

TestSuite(errors, .init = setup, .fini = teardown, .timeout = 120);

/* The call failed with `code`, and devkit_error_last() says so with a message. */
#define EXPECT_ERR(call, want_) do {                                                          \
		devkit_error_clear();                                                                \
		int rc_ = (call);                                                                    \
		cr_assert_eq(rc_, (want_), "%s returned %d (%s), want %d: %s", #call, rc_,            \
			devkit_strerror(rc_), (want_), tt_errmsg());                                      \
		const devkit_error *e_ = devkit_error_last();                                        \
		cr_assert_not_null(e_, "%s: no devkit_error_last()", #call);                         \
		cr_assert_eq(e_->code, (want_));                                                      \
		cr_assert(e_->message && *e_->message, "%s: empty message", #call);                  \
	} while (0)

Test(errors, strerror_and_error_last)
{
	for (int code = 0; code >= DEVKIT_EFORBIDDEN; code--) {
		const char *s = devkit_strerror(code);
		cr_assert(s && *s, "devkit_strerror(%d) is empty", code);
	}
	cr_assert_not_null(devkit_strerror(-999));
	cr_assert_not_null(devkit_strerror(12345));
	devkit_error_clear();
	cr_assert_null(devkit_error_last(), "devkit_error_clear() should forget the error");
	int major = -1, minor = -1, patch = -1;
	cr_assert_not_null(devkit_version(&major, &minor, &patch));
	cr_assert_eq(major, DEVKIT_VERSION_MAJOR);
	cr_assert_not_null(devkit_version(NULL, NULL, NULL));
}

Test(errors, null_arguments)
{
	devkit_tunnel_options o;
	cr_assert_eq(devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION), 0);
	o.bastion = "127.0.0.1:1";
	devkit_tunnel *t = NULL;
	EXPECT_ERR(devkit_tunnel_open(NULL, ctx, &o), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_open(&t, NULL, &o), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_open(&t, ctx, NULL), DEVKIT_EINVAL);
	cr_assert_null(t);
	EXPECT_ERR(devkit_tunnel_options_init(NULL, DEVKIT_TUNNEL_OPTIONS_VERSION), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_forward_options_init(NULL, DEVKIT_FORWARD_OPTIONS_VERSION), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_ctx_options_init(NULL, DEVKIT_CTX_OPTIONS_VERSION), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_ctx_new(NULL, NULL), DEVKIT_EINVAL);
	devkit_event ev;
	EXPECT_ERR(devkit_ctx_poll(NULL, &ev, 0), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_ctx_poll(ctx, NULL, 0), DEVKIT_EINVAL);
	cr_assert_lt(devkit_ctx_event_fd(NULL), 0);

	devkit_forward_options fo;
	cr_assert_eq(devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION), 0);
	devkit_forward *f = NULL;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, NULL, &fo), DEVKIT_EINVAL);
	devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;
	EXPECT_ERR(devkit_forward_get_stats(NULL, &fs), DEVKIT_EINVAL);
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	EXPECT_ERR(devkit_tunnel_get_stats(NULL, &ts), DEVKIT_EINVAL);
	devkit_buf b = DEVKIT_BUF_INIT;
	EXPECT_ERR(devkit_tunnel_describe(NULL, &b), DEVKIT_EINVAL);

	/* The same with a live tunnel but a NULL out/opts. */
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	EXPECT_ERR(devkit_tunnel_add_forward(NULL, tunnel, &fo), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, NULL), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_get_stats(tunnel, NULL), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_describe(tunnel, NULL), DEVKIT_EINVAL);

	/* Frees and getters accept NULL. */
	devkit_tunnel_free(NULL);
	devkit_forward_free(NULL);
	devkit_ctx_free(NULL);
	devkit_buf_dispose(NULL);
	devkit_buf empty = DEVKIT_BUF_INIT;
	devkit_buf_dispose(&empty);
	cr_assert_eq(devkit_tunnel_id(NULL), 0);
	cr_assert_eq(devkit_forward_id(NULL), 0);
	cr_assert_null(devkit_forward_address(NULL));
	cr_assert_lt(devkit_forward_port(NULL), 0);
	cr_assert_lt(devkit_tunnel_get_state(NULL), 0);
	devkit_ctx_set_log_level(NULL, DEVKIT_LOG_DEBUG);
}

Test(errors, wrong_options_versions)
{
	devkit_tunnel_options o;
	EXPECT_ERR(devkit_tunnel_options_init(&o, 0), DEVKIT_EINVAL);
	EXPECT_ERR(devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION + 1), DEVKIT_EINVAL);
	devkit_forward_options fo;
	EXPECT_ERR(devkit_forward_options_init(&fo, 99), DEVKIT_EINVAL);
	devkit_ctx_options co;
	EXPECT_ERR(devkit_ctx_options_init(&co, 99), DEVKIT_EINVAL);

	cr_assert_eq(devkit_ctx_options_init(&co, DEVKIT_CTX_OPTIONS_VERSION), 0);
	co.version = 99;
	devkit_ctx *c2 = NULL;
	EXPECT_ERR(devkit_ctx_new(&c2, &co), DEVKIT_EINVAL);
	cr_assert_null(c2);

	cr_assert_eq(devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION), 0);
	o.bastion = "127.0.0.1:1";
	o.version = 99;
	devkit_tunnel *t = NULL;
	EXPECT_ERR(devkit_tunnel_open(&t, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(tt_errmsg(), "99") != NULL, "the message should name the version: %s", tt_errmsg());
	cr_assert_null(t);

	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	cr_assert_eq(devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION), 0);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.version = 0;
	devkit_forward *f = NULL;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	cr_assert_null(f);
	fo.version = DEVKIT_FORWARD_OPTIONS_VERSION;
	f = tt_add_forward(tunnel, &fo);
	devkit_forward_stats fs = DEVKIT_FORWARD_STATS_INIT;
	fs.version = 0;
	EXPECT_ERR(devkit_forward_get_stats(f, &fs), DEVKIT_EINVAL);
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	ts.version = 77;
	EXPECT_ERR(devkit_tunnel_get_stats(tunnel, &ts), DEVKIT_EINVAL);
}

Test(errors, malformed_bastion_strings)
{
	const char *bad[] = {
		"", "root@", "@127.0.0.1", "127.0.0.1:", "127.0.0.1:0", "127.0.0.1:65536",
		"127.0.0.1:99999", "127.0.0.1:abc", "127.0.0.1:22x", "127.0.0.1:-1", ":22",
		"[::1", "[::1]x", "[::1]:", "[]:22", "root@[::1]:0",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		devkit_tunnel_options o;
		cr_assert_eq(devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION), 0);
		o.bastion = bad[i];
		o.use_agent = 0;
		o.connect_timeout_ms = 2000;
		devkit_tunnel *t = NULL;
		devkit_error_clear();
		long long t0 = fx_now_ms();
		int rc = devkit_tunnel_open(&t, ctx, &o);
		if (rc == 0)
			devkit_tunnel_free(t);
		cr_assert_eq(rc, DEVKIT_EINVAL, "bastion '%s': got %d (%s): %s", bad[i], rc, devkit_strerror(rc),
			tt_errmsg());
		cr_assert_lt(fx_now_ms() - t0, 500, "bastion '%s' was not refused up front", bad[i]);
		cr_assert_null(t);
	}
	/* NULL bastion too. */
	devkit_tunnel_options o;
	devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION);
	devkit_tunnel *t = NULL;
	EXPECT_ERR(devkit_tunnel_open(&t, ctx, &o), DEVKIT_EINVAL);
}

Test(errors, forward_options_checked)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_forward_options fo;
	devkit_forward *f = NULL;

	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = 42;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_LOCAL; /* no target */
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	fo.target_host = "127.0.0.1";
	fo.target_port = 0;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	fo.target_port = 70000;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	fo.target_port = 80;
	fo.bind_port = 65536;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	fo.bind_port = -5;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	fo.bind_port = 0;
	fo.bind_address = "not-an-address";
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.proxy_username = "only-a-user";
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
	cr_assert_null(f);
	devkit_tunnel_stats ts = DEVKIT_TUNNEL_STATS_INIT;
	cr_assert_eq(devkit_tunnel_get_stats(tunnel, &ts), 0);
	cr_assert_eq(ts.forwards, 0, "a refused forward was kept");
}

Test(errors, non_loopback_listener_must_be_asked_for)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	const char *addrs[] = { "0.0.0.0", "::", "192.0.2.1" };
	for (int kind = DEVKIT_FORWARD_LOCAL; kind <= DEVKIT_FORWARD_DYNAMIC; kind++) {
		for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
			devkit_forward_options fo;
			devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
			fo.kind = kind;
			fo.bind_address = addrs[i];
			fo.target_host = "127.0.0.1";
			fo.target_port = 80;
			devkit_forward *f = NULL;
			EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EINVAL);
			cr_assert(strstr(tt_errmsg(), "loopback") != NULL,
				"the message should say why (%s): %s", addrs[i], tt_errmsg());
			cr_assert_null(f);
		}
	}
	/* Loopback spellings are fine without asking. */
	const char *ok[] = { "127.0.0.1", "127.0.0.2", "localhost" };
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		devkit_forward_options fo;
		devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
		fo.kind = DEVKIT_FORWARD_DYNAMIC;
		fo.bind_address = ok[i];
		devkit_forward *f = tt_add_forward(tunnel, &fo);
		devkit_forward_free(f);
	}
	/* Asked for explicitly, a wildcard listener is allowed (nothing is sent
	 * anywhere: it only listens, and is closed at once). */
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.bind_address = "0.0.0.0";
	fo.allow_non_loopback = 1;
	devkit_forward *f = tt_add_forward(tunnel, &fo);
	devkit_forward_free(f);
}

Test(errors, port_in_use_is_eexists)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	server = fx_echo_start();
	for (int kind = DEVKIT_FORWARD_LOCAL; kind <= DEVKIT_FORWARD_DYNAMIC; kind++) {
		devkit_forward_options fo;
		devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
		fo.kind = kind;
		fo.bind_port = fx_server_port(server);
		fo.target_host = "127.0.0.1";
		fo.target_port = 80;
		devkit_forward *f = NULL;
		EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EEXISTS);
		cr_assert(strstr(tt_errmsg(), tt_fmt("%d", fx_server_port(server))) != NULL,
			"the message should name the port: %s", tt_errmsg());
		cr_assert_null(f);
	}
	/* Two forwards on the same port of one tunnel: the second is refused. */
	devkit_forward *first = tt_dynamic_forward(tunnel, NULL, NULL);
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.bind_port = devkit_forward_port(first);
	devkit_forward *f = NULL;
	EXPECT_ERR(devkit_tunnel_add_forward(&f, tunnel, &fo), DEVKIT_EEXISTS);
	/* ... and the first one still works. */
	int rep;
	int fd = tt_socks5(devkit_forward_port(first), TT_ATYP_IPV4, "127.0.0.1", fx_server_port(server), NULL, NULL, &rep);
	cr_assert_geq(fd, 0, "reply %d", rep);
	tt_echo_string(fd, "first forward unharmed");
	close(fd);
}

Test(errors, nothing_listening_on_the_bastion_port_is_econnrefused)
{
	server = fx_refused_start();
	devkit_tunnel_options o;
	devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION);
	o.bastion = tt_fmt("root@127.0.0.1:%d", fx_server_port(server));
	o.use_agent = 0;
	o.connect_timeout_ms = 5000;
	char msg[1024];
	int fds = fx_count_fds();
	long long t0 = fx_now_ms();
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_ECONNREFUSED, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert_lt(fx_now_ms() - t0, 2000, "a refused connection should fail at once");
	cr_assert(strstr(msg, tt_fmt("%d", fx_server_port(server))) != NULL,
		"the message should name the bastion: %s", msg);
	cr_assert_eq(fx_count_fds(), fds, "fds left behind");
}

Test(errors, connect_timeout_names_the_stage)
{
	server = fx_silent_start(); /* the kernel accepts, nobody ever speaks */
	devkit_tunnel_options o;
	devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION);
	o.bastion = tt_fmt("root@127.0.0.1:%d", fx_server_port(server));
	o.use_agent = 0;
	o.connect_timeout_ms = 1500;
	char msg[1024];
	int fds = fx_count_fds();
	long long t0 = fx_now_ms();
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	long long ms = fx_now_ms() - t0;
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(ms >= 1400 && ms < 4000, "timed out after %lld ms with connect_timeout_ms 1500", ms);
	cr_assert(strstr(msg, "handshake") != NULL, "the message should name the stage (the SSH handshake): %s", msg);
	cr_assert(strstr(msg, "1500") != NULL || strstr(msg, "1.5") != NULL,
		"the message should say how long it waited: %s", msg);
	cr_assert_eq(fx_count_fds(), fds, "fds left behind");
}

Test(errors, frozen_sshd_times_out_in_the_handshake)
{
	/* A real sshd that stopped answering mid-way: same error, same stage. */
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	fx_sshd_freeze(&sshd);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.connect_timeout_ms = 1000;
	char msg[1024];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	fx_sshd_thaw(&sshd);
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "handshake") != NULL, "%s", msg);
}

/* ---- a name that does not resolve ------------------------------------------------
 *
 * "bastion.devkit-test.invalid" never resolves (RFC 6761), but the resolver
 * would still ask the configured DNS server, which here is not on loopback.
 * So the lookup runs in a child process with its own network namespace
 * (loopback only: no packet can leave) and its own mount namespace, where
 * /etc/resolv.conf points at a tiny DNS server on 127.0.0.1:53 that answers
 * NXDOMAIN to everything: the library sees a real "no such name".
 */

static void *nxdomain_server(void *arg)
{
	int fd = *(int *)arg;
	unsigned char q[512];
	for (;;) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
		if (n < 12)
			continue;
		/* Same id and question; QR=1, keep RD, RA=1, RCODE=3; no answers. */
		q[2] = (unsigned char)(0x80 | (q[2] & 0x01));
		q[3] = 0x83;
		q[6] = q[7] = q[8] = q[9] = q[10] = q[11] = 0;
		sendto(fd, q, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* In the child: 0 ok, else a step that failed (written to err). */
static int isolate_dns(char *err, size_t cap)
{
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) != 0) {
		snprintf(err, cap, "unshare(CLONE_NEWNET|CLONE_NEWNS): %s", strerror(errno));
		return -1;
	}
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	struct ifreq ifr;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
	if (s < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) != 0 || (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr)) != 0) {
		snprintf(err, cap, "bringing up lo in the new namespace: %s", strerror(errno));
		return -1;
	}
	close(s);
	char conf[] = "/tmp/devkit-resolv.XXXXXX";
	int cfd = mkstemp(conf);
	if (cfd < 0 || write(cfd, "nameserver 127.0.0.1\n", 21) != 21) {
		snprintf(err, cap, "writing a resolv.conf: %s", strerror(errno));
		return -1;
	}
	close(cfd);
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		mount(conf, "/etc/resolv.conf", NULL, MS_BIND, NULL) != 0) {
		snprintf(err, cap, "bind-mounting resolv.conf: %s", strerror(errno));
		unlink(conf);
		return -1;
	}
	unlink(conf);
	static int dns_fd;
	dns_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(53) };
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	if (dns_fd < 0 || bind(dns_fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		snprintf(err, cap, "binding 127.0.0.1:53 in the new namespace: %s", strerror(errno));
		return -1;
	}
	pthread_t th;
	if (pthread_create(&th, NULL, nxdomain_server, &dns_fd) != 0) {
		snprintf(err, cap, "pthread_create");
		return -1;
	}
	pthread_detach(th);
	return 0;
}

Test(errors, unresolvable_bastion_name_is_enotfound)
{
	/* Not the suite's ctx: the child makes its own inside the namespaces.
	 * Free ours first so that no I/O thread runs while we fork. */
	devkit_ctx_free(ctx);
	ctx = NULL;
	int pfd[2];
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		char out[1200];
		char err[512] = "";
		int rc;
		if (isolate_dns(err, sizeof(err)) != 0) {
			snprintf(out, sizeof(out), "ENV %s", err);
		} else {
			devkit_ctx *c = NULL;
			rc = devkit_ctx_new(&c, NULL);
			if (rc == 0) {
				devkit_tunnel_options o;
				devkit_tunnel_options_init(&o, DEVKIT_TUNNEL_OPTIONS_VERSION);
				o.bastion = "root@bastion.devkit-test.invalid:22";
				o.use_agent = 0;
				o.connect_timeout_ms = 8000;
				devkit_tunnel *t = NULL;
				long long t0 = fx_now_ms();
				rc = devkit_tunnel_open(&t, c, &o);
				long long ms = fx_now_ms() - t0;
				snprintf(out, sizeof(out), "RC %d %lld %s", rc, ms, tt_errmsg());
				devkit_tunnel_free(t);
				devkit_ctx_free(c);
			} else {
				snprintf(out, sizeof(out), "RC %d 0 %s", rc, tt_errmsg());
			}
		}
		if (write(pfd[1], out, strlen(out)) < 0)
			_exit(2);
		_exit(0);
	}
	close(pfd[1]);
	char buf[1200] = "";
	ssize_t n = fx_read_full(pfd[0], buf, sizeof(buf) - 1, 30000);
	close(pfd[0]);
	int status = 0;
	waitpid(pid, &status, 0);
	cr_assert_gt(n, 0, "the child reported nothing (status 0x%x)", status);
	buf[n] = '\0';
	if (strncmp(buf, "ENV ", 4) == 0)
		cr_skip_test("environment: cannot isolate DNS for this test (%s); without that the lookup "
			"of a .invalid name would reach the machine's non-loopback DNS server", buf + 4);
	int rc = 0;
	long long ms = 0;
	int off = 0;
	cr_assert_eq(sscanf(buf, "RC %d %lld %n", &rc, &ms, &off), 2, "%s", buf);
	const char *msg = buf + off;
	cr_assert_eq(rc, DEVKIT_ENOTFOUND, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "bastion.devkit-test.invalid") != NULL, "the message should name the host: %s", msg);
	cr_assert_lt(ms, 5000, "NXDOMAIN took %lld ms to be reported", ms);
	cr_log_info("unresolvable bastion: %s", msg);
}
