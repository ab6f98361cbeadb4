/* SPDX-License-Identifier: Apache-2.0 */
/*
 * tunnel_bench: the load generator. It measures one thing per run through one
 * forwarder port (-L, SOCKS5, or the bench server itself for the raw loopback
 * ceiling) and prints one line of key=value pairs for bench/run.sh.
 *
 *   tunnel_bench bulk  --port P [--socks DST] [--bytes 1G] [--streams 1] [--dir down|up] [--pid PID]
 *   tunnel_bench rr    --port P [--socks DST] [--seconds 5] [--pid PID]
 *   tunnel_bench setup --port P [--socks DST] [--count 2000] [--pid PID]
 *   tunnel_bench idle  --port P [--socks DST] [--count 10000] [--window 100] [--pid PID]
 *   tunnel_bench freeport [N]      print N free loopback ports (for ssh -D/-L)
 *
 * --socks DST: the port speaks SOCKS5; ask it for 127.0.0.1:DST (the bench
 * server as the bastion sees it). --pid: the forwarding process, whose CPU time
 * and RSS are reported alongside.
 */
#include "bench_common.h"
#include "bench_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define NAME "tunnel_bench"

typedef struct bench_opts {
	bench_target target;
	pid_t pid;
	uint64_t bytes;
	int streams;
	int up;
	double seconds;
	int count;
	int window;
} bench_opts;

static char io_buf[BENCH_IO_CHUNK];

static double fwd_cpu(const bench_opts *o)
{
	return o->pid > 0 ? bench_cpu_seconds(o->pid) : 0;
}

static long fwd_kib(const bench_opts *o, const char *field)
{
	return o->pid > 0 ? bench_status_kib(o->pid, field) : -1;
}

/* --- bulk ------------------------------------------------------------------- */

static void bulk_request(int epfd, bench_conn *c, int up)
{
	unsigned char hello[9] = { BENCH_MODE_SOURCE };

	if (up) {
		hello[0] = BENCH_MODE_SINK;
		if (send(c->fd, hello, 1, MSG_NOSIGNAL) != 1)
			bench_die(NAME, errno, "bulk: send");
		bench_conn_watch(epfd, c, EPOLLOUT);
		return;
	}
	bench_put_be64(hello + 1, c->todo);
	if (send(c->fd, hello, sizeof(hello), MSG_NOSIGNAL) != sizeof(hello))
		bench_die(NAME, errno, "bulk: send");
	bench_conn_watch(epfd, c, EPOLLIN);
}

/* Source -> client: read until the server's FIN. 1 when finished. */
static int bulk_step_down(bench_conn *c)
{
	for (;;) {
		ssize_t n = recv(c->fd, io_buf, sizeof(io_buf), 0);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n < 0)
			bench_die(NAME, errno, "bulk: recv after %llu bytes", (unsigned long long)c->done);
		if (n == 0)
			break;
		c->done += (uint64_t)n;
	}
	if (c->done != c->todo)
		bench_die(NAME, 0, "bulk: stream ended after %llu of %llu bytes",
			(unsigned long long)c->done, (unsigned long long)c->todo);
	return 1;
}

/* Client -> sink: write todo bytes, FIN, then read the server's count. */
static int bulk_step_up(int epfd, bench_conn *c)
{
	while (c->done < c->todo) {
		uint64_t left = c->todo - c->done;
		ssize_t n = send(c->fd, io_buf, left < sizeof(io_buf) ? (size_t)left : sizeof(io_buf),
			MSG_NOSIGNAL);
		if (n < 0 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			bench_die(NAME, errno, "bulk: send after %llu bytes", (unsigned long long)c->done);
		c->done += (uint64_t)n;
		if (c->done == c->todo) {
			shutdown(c->fd, SHUT_WR);
			bench_conn_watch(epfd, c, EPOLLIN);
			return 0;
		}
	}
	ssize_t n = recv(c->fd, c->ack + c->got, sizeof(c->ack) - c->got, 0);
	if (n < 0 && errno == EAGAIN)
		return 0;
	if (n <= 0)
		bench_die(NAME, n < 0 ? errno : 0, "bulk: no count from the sink");
	c->got += (size_t)n;
	if (c->got < sizeof(c->ack))
		return 0;
	if (bench_get_be64(c->ack) != c->todo)
		bench_die(NAME, 0, "bulk: the sink got %llu of %llu bytes",
			(unsigned long long)bench_get_be64(c->ack), (unsigned long long)c->todo);
	return 1;
}

static double bulk_run(int epfd, bench_conn *conns, int k, int up)
{
	struct epoll_event evs[64];
	int active = k;
	double t0 = bench_now();
	double deadline = t0 + 600;

	for (int i = 0; i < k; i++)
		bulk_request(epfd, &conns[i], up);
	while (active > 0) {
		if (bench_now() > deadline)
			bench_die(NAME, 0, "bulk: no end after 600 s");
		int n = epoll_wait(epfd, evs, 64, 1000);
		for (int i = 0; i < n; i++) {
			bench_conn *c = evs[i].data.ptr;
			if (c->finished)
				continue;
			if (up ? bulk_step_up(epfd, c) : bulk_step_down(c)) {
				c->finished = 1;
				bench_conn_watch(epfd, c, 0);
				active--;
			}
		}
	}
	return bench_now() - t0;
}

static int cmd_bulk(const bench_opts *o)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	int k = o->streams;
	bench_conn *conns = bench_conns_new(k);

	if (bench_open_conns(epfd, &o->target, conns, k, k, NULL, 0, 30) != k)
		bench_die(NAME, 0, "bulk: could not open %d connections", k);
	for (int i = 0; i < k; i++) {
		conns[i].todo = o->bytes / (uint64_t)k;
		conns[i].got = 0;
	}
	double cpu0 = fwd_cpu(o);
	double secs = bulk_run(epfd, conns, k, o->up);
	double cpu = fwd_cpu(o) - cpu0;
	uint64_t total = conns[0].todo * (uint64_t)k;
	printf("test=bulk dir=%s streams=%d bytes=%llu seconds=%.3f mib_s=%.1f fwd_cpu_s=%.2f\n",
		o->up ? "up" : "down", k, (unsigned long long)total, secs,
		(double)total / 1048576.0 / secs, cpu);
	for (int i = 0; i < k; i++)
		bench_conn_close(epfd, &conns[i]);
	free(conns);
	close(epfd);
	return 0;
}

/* --- round trips -------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

/* One byte there and back on a blocking socket: the latency a request/response
 * protocol sees. Returns the round trip in seconds. */
static double round_trip(int fd)
{
	char b = 'r';
	double t0 = bench_now();

	if (send(fd, &b, 1, MSG_NOSIGNAL) != 1 || recv(fd, &b, 1, MSG_WAITALL) != 1)
		bench_die(NAME, errno, "rr: the echo connection broke");
	return bench_now() - t0;
}

static int cmd_rr(const bench_opts *o)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	bench_conn *c = bench_conns_new(1);
	const char hello = BENCH_MODE_ECHO;
	size_t cap = 4u << 20, n = 0;
	double *lat = malloc(cap * sizeof(*lat));

	if (!lat || bench_open_conns(epfd, &o->target, c, 1, 1, &hello, 1, 30) != 1)
		bench_die(NAME, 0, "rr: could not open the echo connection");
	bench_set_nonblock(c->fd, 0);
	for (int i = 0; i < 1000; i++)
		round_trip(c->fd); /* warm up: first window adjusts, caches */
	double cpu0 = fwd_cpu(o);
	double t0 = bench_now(), end = t0 + o->seconds;
	while (n < cap && (n & 63 || bench_now() < end))
		lat[n++] = round_trip(c->fd);
	double secs = bench_now() - t0;
	double cpu = fwd_cpu(o) - cpu0;
	qsort(lat, n, sizeof(*lat), cmp_double);
	printf("test=rr count=%zu seconds=%.3f rt_s=%.0f mean_us=%.1f p50_us=%.1f p99_us=%.1f "
		"fwd_cpu_s=%.2f\n", n, secs, (double)n / secs, secs / (double)n * 1e6,
		lat[n / 2] * 1e6, lat[n * 99 / 100] * 1e6, cpu);
	bench_conn_close(epfd, c);
	free(c);
	free(lat);
	close(epfd);
	return 0;
}

/* --- connection set-up ---------------------------------------------------------- */

/* connect (+ SOCKS5) -> send one byte -> get it back -> close. 0 on success. */
static int one_setup(int epfd, const bench_target *t, bench_conn *c)
{
	static const char ping[2] = { BENCH_MODE_PING, 'p' };
	char b = 0;

	memset(c, 0, sizeof(*c));
	c->fd = -1;
	if (bench_open_conns(epfd, t, c, 1, 1, ping, sizeof(ping), 10) != 1)
		return -1;
	bench_set_nonblock(c->fd, 0);
	ssize_t n = recv(c->fd, &b, 1, MSG_WAITALL);
	bench_conn_close(epfd, c);
	return n == 1 && b == 'p' ? 0 : -1;
}

static int cmd_setup(const bench_opts *o)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	bench_conn c;
	int failed = 0;
	double *lat = calloc((size_t)o->count, sizeof(*lat));

	if (!lat)
		bench_die(NAME, ENOMEM, "setup");
	for (int i = 0; i < 20; i++)
		one_setup(epfd, &o->target, &c); /* warm up */
	double cpu0 = fwd_cpu(o);
	double t0 = bench_now();
	for (int i = 0; i < o->count; i++) {
		double t = bench_now();
		failed += one_setup(epfd, &o->target, &c) != 0;
		lat[i] = bench_now() - t;
	}
	double secs = bench_now() - t0;
	double cpu = fwd_cpu(o) - cpu0;
	qsort(lat, (size_t)o->count, sizeof(*lat), cmp_double);
	printf("test=setup count=%d failed=%d seconds=%.3f setups_s=%.0f mean_us=%.1f p50_us=%.1f "
		"p99_us=%.1f max_us=%.0f fwd_cpu_s=%.2f\n", o->count, failed, secs,
		(double)(o->count - failed) / secs, secs / o->count * 1e6, lat[o->count / 2] * 1e6,
		lat[o->count * 99 / 100] * 1e6, lat[o->count - 1] * 1e6, cpu);
	free(lat);
	close(epfd);
	return failed ? 1 : 0;
}

/* --- concurrent idle connections ---------------------------------------------------- */

/* Send one byte on every open connection and count the echoes that come back:
 * a connection the forwarder dropped or stalled does not count as held. */
static int check_held(int epfd, bench_conn *conns, int n)
{
	struct epoll_event evs[256];
	int waiting = 0, held = 0;
	double deadline = bench_now() + 120;

	for (int i = 0; i < n; i++) {
		bench_conn *c = &conns[i];
		if (c->state != CONN_READY)
			continue;
		if (send(c->fd, "i", 1, MSG_NOSIGNAL) != 1)
			continue;
		bench_conn_watch(epfd, c, EPOLLIN);
		waiting++;
	}
	while (waiting > 0 && bench_now() < deadline) {
		int k = epoll_wait(epfd, evs, 256, 1000);
		for (int i = 0; i < k; i++) {
			bench_conn *c = evs[i].data.ptr;
			char b = 0;
			ssize_t r = recv(c->fd, &b, 1, 0);
			if (r < 0 && errno == EAGAIN)
				continue;
			held += r == 1 && b == 'i';
			waiting--;
			bench_conn_watch(epfd, c, 0);
		}
	}
	return held;
}

static int cmd_idle(const bench_opts *o)
{
	int epfd = epoll_create1(EPOLL_CLOEXEC);
	bench_conn *conns = bench_conns_new(o->count);
	const char hello = BENCH_MODE_ECHO;

	if (!conns)
		bench_die(NAME, ENOMEM, "idle");
	long rss0 = fwd_kib(o, "VmRSS");
	double cpu0 = fwd_cpu(o);
	double t0 = bench_now();
	int opened = bench_open_conns(epfd, &o->target, conns, o->count, o->window, &hello, 1, 300);
	double open_secs = bench_now() - t0;
	int held = check_held(epfd, conns, o->count);
	long rss1 = fwd_kib(o, "VmRSS");
	double cpu = fwd_cpu(o) - cpu0;
	for (int i = 0; i < o->count; i++)
		bench_conn_close(epfd, &conns[i]);
	sleep(2); /* let the forwarder see the closes and free what it will */
	long rss2 = fwd_kib(o, "VmRSS");
	printf("test=idle count=%d opened=%d held=%d open_seconds=%.2f opens_s=%.0f rss_before_kib=%ld "
		"rss_held_kib=%ld rss_after_close_kib=%ld bytes_per_conn=%ld fwd_cpu_s=%.2f\n", o->count,
		opened, held, open_secs, opened / open_secs, rss0, rss1, rss2,
		held > 0 && rss0 >= 0 ? (rss1 - rss0) * 1024 / held : -1, cpu);
	free(conns);
	close(epfd);
	return held == o->count ? 0 : 1;
}

/* --- free ports --------------------------------------------------------------------- */

/* Bind them all before closing any, so that the N ports differ. */
static int cmd_freeport(int n)
{
	int fds[64];

	for (int i = 0; i < n; i++) {
		struct sockaddr_in sa = { .sin_family = AF_INET };
		socklen_t len = sizeof(sa);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		fds[i] = socket(AF_INET, SOCK_STREAM, 0);
		if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
			getsockname(fds[i], (struct sockaddr *)&sa, &len) != 0)
			bench_die(NAME, errno, "freeport");
		printf("%s%d", i ? " " : "", ntohs(sa.sin_port));
	}
	printf("\n");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

/* --- options ---------------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr,
		"usage: " NAME " bulk|rr|setup|idle --port P [--socks DSTPORT] [--pid PID]\n"
		"         [--bytes SIZE] [--streams K] [--dir down|up]   (bulk)\n"
		"         [--seconds S]                                  (rr)\n"
		"         [--count N] [--window W]                       (setup, idle)\n"
		"       " NAME " freeport [N]\n");
	exit(2);
}

static void parse_opt(bench_opts *o, const char *name, const char *v)
{
	int pid = 0, ok;

	if (strcmp(name, "--port") == 0)
		ok = bench_parse_int(v, 1, 65535, &o->target.port) == 0;
	else if (strcmp(name, "--socks") == 0)
		ok = bench_parse_int(v, 1, 65535, &o->target.dst_port) == 0 && (o->target.socks = 1);
	else if (strcmp(name, "--pid") == 0)
		ok = bench_parse_int(v, 1, 1 << 30, &pid) == 0 && (o->pid = pid);
	else if (strcmp(name, "--bytes") == 0)
		ok = bench_parse_size(v, &o->bytes) == 0 && o->bytes > 0;
	else if (strcmp(name, "--streams") == 0)
		ok = bench_parse_int(v, 1, 64, &o->streams) == 0;
	else if (strcmp(name, "--dir") == 0)
		ok = (o->up = strcmp(v, "up") == 0) || strcmp(v, "down") == 0;
	else if (strcmp(name, "--seconds") == 0)
		ok = (o->seconds = atof(v)) > 0;
	else if (strcmp(name, "--count") == 0)
		ok = bench_parse_int(v, 1, 100000, &o->count) == 0;
	else if (strcmp(name, "--window") == 0)
		ok = bench_parse_int(v, 1, 10000, &o->window) == 0;
	else
		ok = 0;
	if (!ok) {
		fprintf(stderr, NAME ": bad option %s %s\n", name, v);
		usage();
	}
}

int main(int argc, char **argv)
{
	bench_opts o = { .bytes = 1ull << 30, .streams = 1, .seconds = 5, .window = 100 };
	int n = 1;

	if (argc < 2)
		usage();
	const char *cmd = argv[1];
	if (strcmp(cmd, "freeport") == 0) {
		if (argc > 2 && bench_parse_int(argv[2], 1, 64, &n) != 0)
			usage();
		return cmd_freeport(n);
	}
	if (argc % 2 != 0)
		usage();
	for (int i = 2; i + 1 < argc; i += 2)
		parse_opt(&o, argv[i], argv[i + 1]);
	if (!o.target.port)
		usage();
	signal(SIGPIPE, SIG_IGN);
	bench_raise_nofile();
	if (!o.count)
		o.count = strcmp(cmd, "idle") == 0 ? 10000 : 2000;
	if (strcmp(cmd, "bulk") == 0)
		return cmd_bulk(&o);
	if (strcmp(cmd, "rr") == 0)
		return cmd_rr(&o);
	if (strcmp(cmd, "setup") == 0)
		return cmd_setup(&o);
	if (strcmp(cmd, "idle") == 0)
		return cmd_idle(&o);
	usage();
}
