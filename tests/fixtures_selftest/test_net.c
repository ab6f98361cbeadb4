/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the network and process fixtures: what tunnel tests compare against
 * must itself be right (byte-exact echo, source and sink, real refusals),
 * and must not leak the fds that the tests count.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixtures.h"

static fx_server *srv;

static void teardown(void)
{
	fx_server_stop(srv);
	srv = NULL;
}

TestSuite(net_fixture, .fini = teardown, .timeout = 120);

/* Send `len` pattern bytes, half-close, and read the echo back to EOF. All is
 * written before anything is read, so len must fit in the socket buffers
 * (a few hundred kB on loopback); many_concurrent() covers bulk both ways. */
static void echo_roundtrip(int port, uint64_t seed, size_t len)
{
	int fd = fx_connect_tcp("127.0.0.1", port);
	cr_assert_geq(fd, 0, "connect: %s", strerror(errno));
	unsigned char *buf = malloc(len ? len : 1);
	fx_pattern_fill(seed, 0, buf, len);
	cr_assert_eq(fx_write_all(fd, buf, len), 0);
	cr_assert_eq(shutdown(fd, SHUT_WR), 0);
	unsigned char got[32], want[32];
	cr_assert_eq(fx_read_to_eof(fd, got, 10000), (int64_t)len);
	fx_sha256(buf, len, want);
	cr_assert_arr_eq(got, want, 32);
	free(buf);
	close(fd);
}

Test(net_fixture, echo_roundtrip_and_half_close)
{
	srv = fx_echo_start();
	cr_assert_not_null(srv);
	echo_roundtrip(fx_server_port(srv), 1, 100);
	echo_roundtrip(fx_server_port(srv), 2, 0);
	cr_assert_eq(fx_server_wait_closed(srv, 2, 5000), 0);
	fx_server_stats st;
	fx_server_stats_get(srv, &st);
	cr_assert_eq(st.accepted, 2);
	cr_assert_eq(st.open, 0);
	cr_assert_eq(st.bytes_in, 100);
	cr_assert_eq(st.bytes_out, 100);
}

/* Many connections open at once, each writing before anyone reads: the
 * server must serve them concurrently and keep every stream apart. */
static void many_concurrent(int in_child)
{
	enum { N = 300, LEN = 200000 };
	srv = fx_server_start(
		&(fx_server_options){ .mode = FX_SERVER_ECHO, .in_child_process = in_child });
	cr_assert_not_null(srv);
	int *fds = calloc(N, sizeof(int));
	size_t *sent = calloc(N, sizeof(size_t)), *recvd = calloc(N, sizeof(size_t));
	unsigned char *chunk = malloc(LEN), *rbuf = malloc(65536);
	for (int i = 0; i < N; i++) {
		fds[i] = fx_connect_tcp("127.0.0.1", fx_server_port(srv));
		cr_assert_geq(fds[i], 0, "connect %d: %s", i, strerror(errno));
	}
	/* Drive all N both ways with poll: blocking writes of 200 kB each would
	 * deadlock against an echo that stops reading when we do. */
	struct pollfd *p = calloc(N, sizeof(*p));
	int done = 0;
	long long deadline = fx_now_ms() + 60000;
	while (done < N && fx_now_ms() < deadline) {
		for (int i = 0; i < N; i++) {
			p[i].fd = recvd[i] == LEN ? -1 : fds[i];
			p[i].events = POLLIN | (sent[i] < LEN ? POLLOUT : 0);
		}
		cr_assert_geq(poll(p, N, 1000), 0);
		for (int i = 0; i < N; i++) {
			if (p[i].revents & POLLOUT) {
				size_t n = LEN - sent[i] < 16384 ? LEN - sent[i] : 16384;
				fx_pattern_fill((uint64_t)i, sent[i], chunk, n);
				ssize_t w = send(fds[i], chunk, n, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					sent[i] += (size_t)w;
				if (sent[i] == LEN)
					shutdown(fds[i], SHUT_WR);
			}
			if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
				ssize_t r = recv(fds[i], rbuf, 65536, MSG_DONTWAIT);
				cr_assert(r > 0 || (r < 0 && errno == EAGAIN), "conn %d: early EOF/err at %zu", i,
					recvd[i]);
				if (r > 0) {
					fx_pattern_fill((uint64_t)i, recvd[i], chunk, (size_t)r);
					cr_assert_arr_eq(rbuf, chunk, (size_t)r, "conn %d: stream mixed up", i);
					recvd[i] += (size_t)r;
					if (recvd[i] == LEN) {
						cr_assert_eq(fx_wait_closed(fds[i], 5000), 1, "no EOF after the echo");
						done++;
					}
				}
			}
		}
	}
	cr_assert_eq(done, N);
	for (int i = 0; i < N; i++)
		close(fds[i]);
	cr_assert_eq(fx_server_wait_idle(srv, 10000), 0);
	fx_server_stats st;
	fx_server_stats_get(srv, &st);
	cr_assert_eq(st.accepted, N);
	cr_assert_eq(st.bytes_out, (uint64_t)N * LEN);
	free(p);
	free(fds);
	free(sent);
	free(recvd);
	free(chunk);
	free(rbuf);
}

Test(net_fixture, echo_many_concurrent_in_thread)
{
	many_concurrent(0);
}

Test(net_fixture, echo_many_concurrent_in_child_process)
{
	int before = fx_count_fds();
	many_concurrent(1);
	/* the child's accepted sockets are not ours */
	cr_assert_eq(fx_count_fds(), before + 1 /* its listener, until stop */);
}

Test(net_fixture, source_sends_seeded_pattern_then_closes)
{
	srv = fx_source_start(3 * 1000 * 1000 + 7, 42);
	cr_assert_not_null(srv);
	unsigned char want[32];
	fx_pattern_sha256(42, 3 * 1000 * 1000 + 7, want);
	for (int i = 0; i < 2; i++) {
		int fd = fx_connect_tcp("127.0.0.1", fx_server_port(srv));
		cr_assert_geq(fd, 0);
		unsigned char got[32];
		cr_assert_eq(fx_read_to_eof(fd, got, 10000), 3 * 1000 * 1000 + 7);
		cr_assert_arr_eq(got, want, 32);
		close(fd);
	}
	cr_assert_eq(fx_server_wait_idle(srv, 5000), 0);
}

Test(net_fixture, sink_records_count_and_sha256)
{
	srv = fx_sink_start();
	cr_assert_not_null(srv);
	size_t lens[] = { 0, 1, 5 * 1000 * 1000 };
	for (int i = 0; i < 3; i++) {
		int fd = fx_connect_tcp("127.0.0.1", fx_server_port(srv));
		cr_assert_geq(fd, 0);
		unsigned char *buf = malloc(lens[i] + 1);
		fx_pattern_fill(7, 0, buf, lens[i]);
		cr_assert_eq(fx_write_all(fd, buf, lens[i]), 0);
		free(buf);
		close(fd);
		cr_assert_eq(fx_server_wait_closed(srv, (uint64_t)i + 1, 10000), 0);
		uint64_t bytes;
		unsigned char got[32], want[32];
		cr_assert_eq(fx_sink_result(srv, (size_t)i, &bytes, got), 0);
		fx_pattern_sha256(7, lens[i], want);
		cr_assert_eq(bytes, lens[i]);
		cr_assert_arr_eq(got, want, 32);
	}
	cr_assert_eq(fx_sink_result(srv, 3, NULL, NULL), -1);
}

Test(net_fixture, refused_and_silent_ports)
{
	srv = fx_refused_start();
	cr_assert_not_null(srv);
	errno = 0;
	cr_assert_eq(fx_connect_tcp("127.0.0.1", fx_server_port(srv)), -1);
	cr_assert_eq(errno, ECONNREFUSED, "%s", strerror(errno));

	fx_server *silent = fx_silent_start();
	cr_assert_not_null(silent);
	int fd = fx_connect_tcp("127.0.0.1", fx_server_port(silent));
	cr_assert_geq(fd, 0);
	cr_assert_eq(fx_wait_closed(fd, 300), 0, "a silent server must neither answer nor close");
	close(fd);
	fx_server_stop(silent);
}

Test(net_fixture, pattern_is_seekable)
{
	unsigned char whole[1000], part[1000];
	fx_pattern_fill(9, 0, whole, sizeof(whole));
	for (size_t off = 0; off < sizeof(whole); off += 37) {
		size_t n = sizeof(whole) - off < 101 ? sizeof(whole) - off : 101;
		fx_pattern_fill(9, off, part, n);
		cr_assert_arr_eq(part, whole + off, n, "offset %zu", off);
	}
	unsigned char other[1000];
	fx_pattern_fill(10, 0, other, sizeof(other));
	cr_assert(memcmp(whole, other, sizeof(whole)) != 0);
}

Test(net_fixture, run_captures_output_exit_env_stdin_and_timeout)
{
	fx_run_result r;
	const char *sh[] = { "sh", "-c", "echo out; echo err >&2; echo $FX_X; exit 3", NULL };
	const char *env[] = { "FX_X=value", NULL };
	cr_assert_eq(fx_run(sh, env, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 3);
	cr_assert_str_eq(r.out, "out\nvalue\n");
	cr_assert_str_eq(r.err, "err\n");
	fx_run_result_free(&r);

	const char *cat[] = { "cat", NULL };
	cr_assert_eq(fx_run(cat, NULL, "piped in", 10000, &r), 0);
	cr_assert_str_eq(r.out, "piped in");
	fx_run_result_free(&r);

	long long t0 = fx_now_ms();
	const char *slow[] = { "sh", "-c", "sleep 30", NULL };
	cr_assert_eq(fx_run(slow, NULL, NULL, 300, &r), 0);
	cr_assert_eq(r.timed_out, 1);
	cr_assert_lt(fx_now_ms() - t0, 5000);
	fx_run_result_free(&r);

	const char *missing[] = { "no-such-command-here", NULL };
	cr_assert_eq(fx_run(missing, NULL, NULL, 1000, &r), -1);
	fx_run_result_free(&r);

	/* curl is how tests drive proxies; the helper must be able to run it */
	const char *curl[] = { "curl", "--version", NULL };
	cr_assert_eq(fx_run(curl, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strncmp(r.out, "curl ", 5) == 0);
	fx_run_result_free(&r);
}

Test(net_fixture, children_do_not_inherit_our_fds)
{
	/* an fd without CLOEXEC, as a careless library might leave one */
	int fds[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	fx_run_result r;
	const char *ls[] = { "sh", "-c", "ls /proc/self/fd | wc -l", NULL };
	cr_assert_eq(fx_run(ls, NULL, NULL, 10000, &r), 0);
	/* 0, 1, 2 and the fd that ls uses to read the dir */
	cr_assert_eq(atoi(r.out), 4, "child saw fds: %s", r.out);
	fx_run_result_free(&r);
	close(fds[0]);
	close(fds[1]);
}

Test(net_fixture, servers_and_run_do_not_leak_fds)
{
	/* warm up lazily created state */
	fx_server_stop(fx_echo_start());
	int before = fx_count_fds();
	for (int i = 0; i < 3; i++) {
		fx_server *e = fx_echo_start();
		fx_server *c = fx_server_start(
			&(fx_server_options){ .mode = FX_SERVER_ECHO, .in_child_process = 1 });
		fx_server *so = fx_source_start(1000, 1), *si = fx_sink_start();
		fx_server *re = fx_refused_start(), *sl = fx_silent_start();
		echo_roundtrip(fx_server_port(e), 3, 5000);
		echo_roundtrip(fx_server_port(c), 3, 5000);
		/* a client left open when the server stops */
		int fd = fx_connect_tcp("127.0.0.1", fx_server_port(e));
		fx_server_stop(e);
		cr_assert_eq(fx_wait_closed(fd, 5000), 1);
		close(fd);
		fx_server_stop(c);
		fx_server_stop(so);
		fx_server_stop(si);
		fx_server_stop(re);
		fx_server_stop(sl);
		fx_run_result r;
		const char *t[] = { "true", NULL };
		fx_run(t, NULL, "x", 5000, &r);
		fx_run_result_free(&r);
	}
	cr_assert_eq(fx_count_fds(), before);
}
