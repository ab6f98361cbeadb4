/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libssh2_loop: the ceiling of libssh2 itself. A bare blocking libssh2 client
 * with one direct-tcpip channel to the bench server, reading with 256 KiB reads
 * (or writing 256 KiB writes), aes128-ctr + hmac-sha2-256 like every other
 * contender. No event loop, no second socket, no copies beyond libssh2's own:
 * whatever libdevkit adds on top of this is its overhead.
 *
 *   libssh2_loop --ssh-port P --identity KEY --known-hosts FILE --target-port T
 *                [--user root] [--bytes 1G] [--dir down|up]
 */
#include "bench_common.h"

#include <arpa/inet.h>
#include <errno.h>
#include <libssh2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define NAME "libssh2_loop"
#define CIPHER "aes128-ctr"
#define MAC "hmac-sha2-256"

typedef struct loop_opts {
	int ssh_port, target_port, up;
	const char *user, *identity, *known_hosts;
	uint64_t bytes;
} loop_opts;

static char io_buf[BENCH_IO_CHUNK];

static void ssh_die(LIBSSH2_SESSION *s, const char *what)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	bench_die(NAME, 0, "%s: %s", what, msg ? msg : "?");
}

static double own_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* The benchmark trusts nothing it did not write: the host key must be the one
 * run.sh put in known_hosts. */
static void check_host_key(LIBSSH2_SESSION *s, const loop_opts *o)
{
	size_t len = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(s, &len, &type);
	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s);
	struct libssh2_knownhost *found = NULL;

	if (!key || !kh || libssh2_knownhost_readfile(kh, o->known_hosts, LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0)
		bench_die(NAME, 0, "cannot read %s", o->known_hosts);
	int rc = libssh2_knownhost_checkp(kh, "127.0.0.1", o->ssh_port, key, len,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW, &found);
	libssh2_knownhost_free(kh);
	if (rc != LIBSSH2_KNOWNHOST_CHECK_MATCH)
		bench_die(NAME, 0, "host key of 127.0.0.1:%d is not the one in %s", o->ssh_port, o->known_hosts);
}

static LIBSSH2_SESSION *ssh_open(int fd, const loop_opts *o)
{
	char pub[1024];
	LIBSSH2_SESSION *s = libssh2_session_init();

	if (!s)
		bench_die(NAME, 0, "libssh2_session_init failed");
	if (libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_CS, CIPHER) ||
		libssh2_session_method_pref(s, LIBSSH2_METHOD_CRYPT_SC, CIPHER) ||
		libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_CS, MAC) ||
		libssh2_session_method_pref(s, LIBSSH2_METHOD_MAC_SC, MAC))
		ssh_die(s, "method preferences");
	if (libssh2_session_handshake(s, fd))
		ssh_die(s, "handshake");
	check_host_key(s, o);
	snprintf(pub, sizeof(pub), "%s.pub", o->identity);
	if (libssh2_userauth_publickey_fromfile(s, o->user, pub, o->identity, NULL))
		ssh_die(s, "authentication");
	return s;
}

static void channel_write_all(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = libssh2_channel_write(ch, p, n);
		if (w < 0)
			ssh_die(s, "channel write");
		p += w;
		n -= (size_t)w;
	}
}

/* Source -> here: ask for N bytes and read them 256 KiB at a time. */
static uint64_t run_down(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch, uint64_t bytes)
{
	unsigned char req[9] = { BENCH_MODE_SOURCE };
	uint64_t got = 0;

	bench_put_be64(req + 1, bytes);
	channel_write_all(s, ch, (const char *)req, sizeof(req));
	for (;;) {
		ssize_t n = libssh2_channel_read(ch, io_buf, sizeof(io_buf));
		if (n < 0)
			ssh_die(s, "channel read");
		if (n == 0 && libssh2_channel_eof(ch))
			break;
		got += (uint64_t)n;
	}
	return got;
}

/* Here -> sink: write N bytes 256 KiB at a time, EOF, read the sink's count. */
static uint64_t run_up(LIBSSH2_SESSION *s, LIBSSH2_CHANNEL *ch, uint64_t bytes)
{
	unsigned char ack[8];
	size_t got = 0;

	channel_write_all(s, ch, (const char[]){ BENCH_MODE_SINK }, 1);
	for (uint64_t left = bytes; left > 0;) {
		size_t n = left < sizeof(io_buf) ? (size_t)left : sizeof(io_buf);
		channel_write_all(s, ch, io_buf, n);
		left -= n;
	}
	if (libssh2_channel_send_eof(ch))
		ssh_die(s, "channel eof");
	while (got < sizeof(ack)) {
		ssize_t n = libssh2_channel_read(ch, (char *)ack + got, sizeof(ack) - got);
		if (n <= 0)
			ssh_die(s, "reading the sink's count");
		got += (size_t)n;
	}
	return bench_get_be64(ack);
}

static void run(const loop_opts *o)
{
	int fd = bench_connect_loopback(o->ssh_port);
	if (fd < 0)
		bench_die(NAME, errno, "connect to 127.0.0.1:%d", o->ssh_port);
	LIBSSH2_SESSION *s = ssh_open(fd, o);
	LIBSSH2_CHANNEL *ch = libssh2_channel_direct_tcpip_ex(s, "127.0.0.1", o->target_port, "127.0.0.1", 0);
	if (!ch)
		ssh_die(s, "direct-tcpip");
	double cpu0 = own_cpu(), t0 = bench_now();
	uint64_t moved = o->up ? run_up(s, ch, o->bytes) : run_down(s, ch, o->bytes);
	double secs = bench_now() - t0, cpu = own_cpu() - cpu0;
	if (moved != o->bytes)
		bench_die(NAME, 0, "moved %llu of %llu bytes", (unsigned long long)moved,
			(unsigned long long)o->bytes);
	printf("test=libssh2 dir=%s streams=1 bytes=%llu seconds=%.3f mib_s=%.1f fwd_cpu_s=%.2f "
		"cipher=%s mac=%s libssh2=%s\n", o->up ? "up" : "down", (unsigned long long)o->bytes, secs,
		(double)o->bytes / 1048576.0 / secs, cpu, libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS),
		libssh2_session_methods(s, LIBSSH2_METHOD_MAC_CS), libssh2_version(0));
	libssh2_channel_free(ch);
	libssh2_session_disconnect(s, "done");
	libssh2_session_free(s);
	close(fd);
}

static void usage(void)
{
	fprintf(stderr, "usage: " NAME " --ssh-port P --identity KEY --known-hosts FILE --target-port T\n"
		"                    [--user root] [--bytes 1G] [--dir down|up]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	loop_opts o = { .user = "root", .bytes = 1ull << 30 };

	if (argc % 2 != 1)
		usage();
	for (int i = 1; i + 1 < argc; i += 2) {
		const char *k = argv[i], *v = argv[i + 1];
		int ok = 1;
		if (strcmp(k, "--ssh-port") == 0)
			ok = bench_parse_int(v, 1, 65535, &o.ssh_port) == 0;
		else if (strcmp(k, "--target-port") == 0)
			ok = bench_parse_int(v, 1, 65535, &o.target_port) == 0;
		else if (strcmp(k, "--user") == 0)
			o.user = v;
		else if (strcmp(k, "--identity") == 0)
			o.identity = v;
		else if (strcmp(k, "--known-hosts") == 0)
			o.known_hosts = v;
		else if (strcmp(k, "--bytes") == 0)
			ok = bench_parse_size(v, &o.bytes) == 0 && o.bytes > 0;
		else if (strcmp(k, "--dir") == 0)
			ok = (o.up = strcmp(v, "up") == 0) || strcmp(v, "down") == 0;
		else
			ok = 0;
		if (!ok)
			usage();
	}
	if (!o.ssh_port || !o.target_port || !o.identity || !o.known_hosts)
		usage();
	if (libssh2_init(0) != 0)
		bench_die(NAME, 0, "libssh2_init failed");
	run(&o);
	libssh2_exit();
	return 0;
}
