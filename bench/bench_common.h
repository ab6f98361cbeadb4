/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the benchmark programs share: the small wire protocol spoken between
 * the load generator (tunnel_bench, libssh2_loop) and the far-side server
 * (bench_server), clocks, and reading another process's RSS and CPU time.
 *
 * The protocol: the first byte a client sends picks what the server does with
 * the connection, so that one listening port serves every measurement and each
 * forwarder needs a single -L.
 *
 *   'S' + 8-byte big-endian N   source: the server sends N bytes, then FIN
 *   'K'                         sink: the server discards everything; on the
 *                               client's FIN it answers the 8-byte big-endian
 *                               count it received, then closes
 *   'E'                         echo: everything comes back
 *   'P' + 1 byte                ping once: that byte comes back, then the
 *                               server closes (so TIME_WAIT lands on the
 *                               listening side and does not eat client ports)
 */
#ifndef BENCH_COMMON_H
#define BENCH_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define BENCH_MODE_SOURCE 'S'
#define BENCH_MODE_SINK 'K'
#define BENCH_MODE_ECHO 'E'
#define BENCH_MODE_PING 'P'

/* Bulk I/O size: the libssh2 loop reads 256 KiB at a time as well. */
#define BENCH_IO_CHUNK (256 * 1024)

/* Print "name: message" (and errno's text if errnum != 0) and exit 1. */
void bench_die(const char *name, int errnum, const char *fmt, ...)
	__attribute__((format(printf, 3, 4), noreturn));

double bench_now(void);
void bench_put_be64(unsigned char *p, uint64_t v);
uint64_t bench_get_be64(const unsigned char *p);

/* "123", "64K", "100M", "2G" (powers of 1024). Returns -1 on junk. */
int bench_parse_size(const char *text, uint64_t *out);
int bench_parse_int(const char *text, int min, int max, int *out);

/* Open files up to the hard limit: 10,000 idle connections need it. */
void bench_raise_nofile(void);
int bench_set_nonblock(int fd, int on);
void bench_set_nodelay(int fd);

/* A connected loopback TCP socket (blocking), or -1 with errno set. */
int bench_connect_loopback(int port);

/* A "kB" field of /proc/PID/status ("VmRSS", "VmHWM") in KiB, or -1. */
long bench_status_kib(pid_t pid, const char *field);
/* User + system CPU seconds a process has used so far, or -1. */
double bench_cpu_seconds(pid_t pid);

#endif
