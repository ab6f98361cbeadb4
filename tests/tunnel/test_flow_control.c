/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow control end to end: when one side stops reading, the other side is
 * stopped, and the memory of this process (where the library lives) does not
 * grow with the amount of data waiting. A slow local reader of a fast far-side
 * source, and a far side that never reads while the local client keeps
 * writing; both then finish (or close) cleanly.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <openssl/evp.h>

#include "tunnel_test.h"

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

TestSuite(flow_control, .init = setup, .fini = teardown, .timeout = 180);

/* Resident memory of this process in bytes. */
static long long rss_bytes(void)
{
	char *status = tt_read_file("/proc/self/status");
	cr_assert_not_null(status);
	const char *p = strstr(status, "VmRSS:");
	long long kb = p ? atoll(p + 6) : -1;
	free(status);
	return kb * 1024;
}

#define MiB (1024ll * 1024)

Test(flow_control, slow_local_reader_holds_back_a_fast_source)
{
	const uint64_t len = 128 * MiB, seed = 42;
	server = fx_server_start(&(fx_server_options){ .mode = FX_SERVER_SOURCE, .in_child_process = 1,
		.source_bytes = len, .source_seed = seed });
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	long long rss0 = rss_bytes();
	int fd = tt_connect(devkit_forward_port(f));
	/* Take a little, then stop reading for a while. */
	char first[1024];
	cr_assert_eq(fx_read_full(fd, first, sizeof(first), TT_WAIT_MS), (ssize_t)sizeof(first));
	fx_sleep_ms(2500);
	long long grown = rss_bytes() - rss0;
	fx_server_stats st;
	fx_server_stats_get(server, &st);
	cr_log_info("reader paused: the source got %lld MiB out, this process grew by %lld MiB",
		(long long)st.bytes_out / MiB, grown / MiB);
	cr_assert_lt(st.bytes_out, (uint64_t)(96 * MiB),
		"the source could send %llu bytes to a reader that is not reading: no backpressure",
		(unsigned long long)st.bytes_out);
	cr_assert_lt(grown, 48 * MiB, "memory grew by %lld MiB while the reader paused", grown / MiB);

	/* Now read the rest: still byte-exact. */
	unsigned char want[32], got[32];
	int64_t n = fx_read_to_eof(fd, got, 120000);
	close(fd);
	cr_assert_eq(n, (int64_t)(len - sizeof(first)), "read %lld after the pause", (long long)n);
	/* The hash of everything after the first KiB. */
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	EVP_DigestInit_ex(md, EVP_sha256(), NULL);
	unsigned char *buf = malloc(1 << 20);
	for (uint64_t off = sizeof(first); off < len;) {
		size_t k = len - off < (1 << 20) ? (size_t)(len - off) : (1 << 20);
		fx_pattern_fill(seed, off, buf, k);
		EVP_DigestUpdate(md, buf, k);
		off += k;
	}
	EVP_DigestFinal_ex(md, want, NULL);
	EVP_MD_CTX_free(md);
	free(buf);
	cr_assert(memcmp(got, want, 32) == 0, "the bytes after the pause differ from what was sent");
	unsigned char head[1024];
	fx_pattern_fill(seed, 0, head, sizeof(head));
	cr_assert(memcmp(first, head, sizeof(head)) == 0);
}

Test(flow_control, far_side_that_never_reads_stops_the_writer)
{
	/* The "silent" server: its kernel accepts sshd's connection, nobody reads. */
	server = fx_silent_start();
	cr_assert_not_null(server);
	devkit_forward *f = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(server));
	long long rss0 = rss_bytes();
	int fd = tt_connect(devkit_forward_port(f));
	tt_set_nonblock(fd, 1);
	const size_t limit = 256 * MiB;
	char *chunk = malloc(1 << 20);
	memset(chunk, 'z', 1 << 20);
	size_t written = 0;
	long long stalled_since = fx_now_ms();
	while (written < limit && fx_now_ms() - stalled_since < 1500) {
		struct pollfd p = { fd, POLLOUT, 0 };
		if (poll(&p, 1, 200) == 1 && (p.revents & POLLOUT)) {
			ssize_t n = send(fd, chunk, 1 << 20, MSG_NOSIGNAL);
			if (n > 0) {
				written += (size_t)n;
				stalled_since = fx_now_ms();
			} else if (n < 0 && errno != EAGAIN) {
				break;
			}
		}
	}
	free(chunk);
	long long grown = rss_bytes() - rss0;
	cr_log_info("writer stalled after %lld MiB; this process grew by %lld MiB", (long long)written / MiB, grown / MiB);
	cr_assert_lt(written, limit, "256 MiB went into a tunnel whose far side never reads: no backpressure");
	cr_assert_lt(grown, 48 * MiB, "memory grew by %lld MiB while the far side did not read", grown / MiB);

	/* The stalled connection does not hold up others on the same session. */
	fx_server *echo = fx_echo_start();
	devkit_forward *g = tt_local_forward(tunnel, "127.0.0.1", fx_server_port(echo));
	int other = tt_connect(devkit_forward_port(g));
	long long t0 = fx_now_ms();
	tt_echo_string(other, "not stuck behind the stalled channel");
	char why[256];
	cr_assert_eq(tt_echo_pattern(other, 5, 8 * MiB, 1, 30000, why, sizeof(why)), 0,
		"8 MiB on another channel while one is stalled: %s", why);
	cr_log_info("8 MiB echoed beside the stalled channel in %lld ms", fx_now_ms() - t0);
	close(other);

	/* The far side goes away (its listener closes with sshd's connection
	 * still in the backlog: sshd's socket is reset). The channel closes, and
	 * with it the link, although it still holds bytes it could not deliver. */
	fx_server_stop(server);
	server = NULL;
	cr_assert_eq(fx_wait_closed(fd, TT_WAIT_MS), 1,
		"the far side went away but the stalled client's connection stayed open");
	close(fd);
	long long t1 = fx_now_ms();
	devkit_forward_stats st = tt_wait_forward_idle(f, 15000);
	cr_log_info("stalled link released %lld ms after the far side went away", fx_now_ms() - t1);
	cr_assert_eq(st.channels_open, 0, "the stalled link was not released after its channel closed");
	fx_server_stop(echo);
}
