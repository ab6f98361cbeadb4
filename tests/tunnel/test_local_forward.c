/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Local forwards (-L) through a real sshd: what goes in comes out byte for
 * byte (256 MiB each way, compared by SHA-256), half-closes are passed on in
 * both directions, and a target the bastion cannot reach closes the client's
 * connection instead of leaving it hanging.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2, ... */
#endif
#include "tunnel_test.h"

#define BIG (256ull * 1024 * 1024)

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static fx_server *server;

static void setup(void)
{
	tt_tunnel_up(&sshd, &ctx, &tunnel);
}

static void teardown(void)
{
	tt_tunnel_down(&sshd, &ctx, &tunnel, &server);
}

TestSuite(local_forward, .init = setup, .fini = teardown, .timeout = 300);

static void hex32(const unsigned char *d, char *out)
{
	fx_hex(d, 32, out);
}

Test(local_forward, upload_256mib_to_sink_is_byte_exact)
{
	const uint64_t seed = 0x5eed0001;
	server = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_SINK, .in_child_process = 1 });
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	int fd = tt_connect(devkit_forward_port(f));

	enum { CHUNK = 256 * 1024 };
	unsigned char *buf = malloc(CHUNK);
	long long t0 = fx_now_ms();
	for (uint64_t off = 0; off < BIG; off += CHUNK) {
		fx_pattern_fill(seed, off, buf, CHUNK);
		cr_assert_eq(fx_write_all(fd, buf, CHUNK), 0, "write failed at %llu: %s",
			(unsigned long long)off, strerror(errno));
	}
	free(buf);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	/* The sink closes after our EOF: that must come back as EOF here. */
	int64_t extra = fx_read_to_eof(fd, NULL, 60000);
	cr_assert_eq(extra, 0, "expected a clean EOF after the sink closed, got %lld",
		(long long)extra);
	long long ms = fx_now_ms() - t0;
	close(fd);
	cr_log_info("256 MiB upload through -L: %lld ms (%.0f MiB/s)", ms,
		256.0 * 1000.0 / (double)(ms ? ms : 1));

	uint64_t bytes = 0;
	unsigned char got[32], want[32];
	long long deadline = fx_now_ms() + 10000;
	while (fx_sink_result(server, 0, &bytes, got) != 0 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_eq(fx_sink_result(server, 0, &bytes, got), 0, "the sink saw no complete stream");
	fx_pattern_sha256(seed, BIG, want);
	char gh[65], wh[65];
	hex32(got, gh);
	hex32(want, wh);
	cr_assert_eq(bytes, BIG, "the sink received %llu bytes, sent %llu",
		(unsigned long long)bytes, (unsigned long long)BIG);
	cr_assert_str_eq(gh, wh, "SHA-256 of what arrived differs from what was sent");

	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.bytes_out, BIG, "stats bytes_out %llu", (unsigned long long)st.bytes_out);
	cr_assert_eq(st.bytes_in, 0);
	cr_assert_eq(st.channels_total, 1);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.failures, 0);
}

Test(local_forward, download_256mib_from_source_is_byte_exact)
{
	const uint64_t seed = 0x5eed0002;
	server = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_SOURCE,
		.in_child_process = 1, .source_bytes = BIG, .source_seed = seed });
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	int fd = tt_connect(devkit_forward_port(f));
	unsigned char got[32], want[32];
	long long t0 = fx_now_ms();
	int64_t n = fx_read_to_eof(fd, got, 120000);
	long long ms = fx_now_ms() - t0;
	close(fd);
	cr_log_info("256 MiB download through -L: %lld ms (%.0f MiB/s)", ms,
		256.0 * 1000.0 / (double)(ms ? ms : 1));
	cr_assert_eq(n, (int64_t)BIG, "received %lld bytes, the source sent %llu", (long long)n,
		(unsigned long long)BIG);
	fx_pattern_sha256(seed, BIG, want);
	char gh[65], wh[65];
	hex32(got, gh);
	hex32(want, wh);
	cr_assert_str_eq(gh, wh, "SHA-256 of what arrived differs from what the source sent");

	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.bytes_in, BIG, "stats bytes_in %llu", (unsigned long long)st.bytes_in);
	cr_assert_eq(st.channels_open, 0);
}

Test(local_forward, half_close_from_the_client)
{
	/* Client: send, shutdown(SHUT_WR), read everything back, then EOF. The
	 * echo server only finishes once our FIN reached it through the tunnel. */
	server = fx_echo_start();
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	const uint64_t sizes[] = { 1, 1000, 4 * 1024 * 1024 + 17 };
	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		int fd = tt_connect(devkit_forward_port(f));
		char why[256];
		int rc = tt_echo_pattern(fd, 77 + i, sizes[i], 1, 30000, why, sizeof(why));
		cr_assert_eq(rc, 0, "%llu bytes with half-close: %s", (unsigned long long)sizes[i], why);
		close(fd);
	}
	/* Nothing but the FIN: an empty stream gets an empty echo and EOF. */
	int fd = tt_connect(devkit_forward_port(f));
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	cr_assert_eq(fx_read_to_eof(fd, NULL, TT_WAIT_MS), 0, "expected EOF right away");
	close(fd);
	cr_assert_eq(fx_server_wait_idle(server, 5000), 0, "the echo server still has connections");
	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.failures, 0, "%llu failures", (unsigned long long)st.failures);
}

Test(local_forward, half_close_from_the_server)
{
	/* The source sends, half-closes, then keeps reading until we close: after
	 * its EOF reached us our direction must still carry data to it. */
	const uint64_t seed = 9, len = 1024 * 1024;
	server = fx_source_start(len, seed);
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	int fd = tt_connect(devkit_forward_port(f));
	unsigned char got[32], want[32];
	int64_t n = fx_read_to_eof(fd, got, 30000);
	cr_assert_eq(n, (int64_t)len, "read %lld of %llu before EOF", (long long)n,
		(unsigned long long)len);
	fx_pattern_sha256(seed, len, want);
	cr_assert(memcmp(got, want, 32) == 0, "the source's bytes differ");

	char after[65536];
	memset(after, 'x', sizeof(after));
	cr_assert_eq(fx_write_all(fd, after, sizeof(after)), 0,
		"writing after the server's EOF failed: %s", strerror(errno));
	long long deadline = fx_now_ms() + TT_WAIT_MS;
	fx_server_stats st;
	do {
		fx_server_stats_get(server, &st);
		if (st.bytes_in >= sizeof(after))
			break;
		fx_sleep_ms(10);
	} while (fx_now_ms() < deadline);
	cr_assert_eq(st.bytes_in, sizeof(after),
		"the server received %llu of the %zu bytes sent after its half-close",
		(unsigned long long)st.bytes_in, sizeof(after));
	close(fd);
	cr_assert_eq(fx_server_wait_idle(server, 5000), 0,
		"our close did not reach the server through the tunnel");
	devkit_forward_stats fs = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(fs.channels_open, 0);
}

Test(local_forward, data_sent_before_the_channel_opens_is_kept)
{
	/* A client that writes at once and half-closes at once, before the
	 * channel can possibly be open. */
	server = fx_echo_start();
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	for (int i = 0; i < 20; i++) {
		int fd = tt_connect(devkit_forward_port(f));
		const char *msg = tt_fmt("early bird %d", i);
		cr_assert_eq(fx_write_all(fd, msg, strlen(msg)), 0);
		shutdown(fd, SHUT_WR);
		char buf[64];
		ssize_t n = fx_read_full(fd, buf, sizeof(buf), TT_WAIT_MS);
		cr_assert_eq(n, (ssize_t)strlen(msg), "connection %d: read %zd", i, n);
		cr_assert(memcmp(buf, msg, strlen(msg)) == 0);
		close(fd);
	}
}

Test(local_forward, unreachable_target_closes_the_client)
{
	server = fx_refused_start();
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	int fd = tt_connect(devkit_forward_port(f));
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1,
		"the client's connection stayed open although the bastion cannot reach the target");
	close(fd);
	devkit_forward_stats st = tt_wait_forward_idle(f, 5000);
	cr_assert_eq(st.channels_open, 0);
	cr_assert_eq(st.failures, 1, "failures %llu", (unsigned long long)st.failures);

	/* The tunnel is unharmed: another forward on it works. */
	fx_server *echo = fx_echo_start();
	devkit_forward *g = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	fd = tt_connect(devkit_forward_port(g));
	tt_echo_string(fd, "still fine");
	close(fd);
	devkit_forward_free(g);
	fx_server_stop(echo);
	cr_assert_eq(devkit_tunnel_get_state(tunnel), DEVKIT_TUNNEL_UP);
}

Test(local_forward, forward_free_closes_its_connections_and_port)
{
	server = fx_echo_start();
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	int port = devkit_forward_port(f);
	int fd = tt_connect(port);
	tt_echo_string(fd, "before free");
	devkit_forward_free(f);
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1, "an open connection survived devkit_forward_free");
	close(fd);
	int again = fx_connect_tcp("127.0.0.1", port);
	int err = errno;
	if (again >= 0)
		close(again);
	cr_assert_lt(again, 0, "port %d still accepts connections after devkit_forward_free", port);
	cr_assert_eq(err, ECONNREFUSED, "%s", strerror(err));
	cr_assert_eq(fx_server_wait_idle(server, 5000), 0, "the far end was not closed");
}
