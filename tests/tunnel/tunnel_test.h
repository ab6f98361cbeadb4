/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by the tunnel integration tests (tests/tunnel/test_*.c).
 *
 * Everything here is `static inline` so each test executable takes only what
 * it uses. The tests drive the library through its public API only, against
 * the real servers of tests/fixtures (OpenSSH sshd, loopback echo/source/sink
 * servers), with clients written the way a user's program would write them:
 * plain blocking or poll()-driven sockets speaking SOCKS5/SOCKS4/HTTP.
 *
 * Nothing here sends traffic outside 127.0.0.0/8 and ::1.
 */
#ifndef DEVKIT_TUNNEL_TEST_H
#define DEVKIT_TUNNEL_TEST_H

#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "devkit/common.h"
#include "devkit/ctx.h"
#include "devkit/tunnel.h"
#include "fixtures.h"

/* How long a test waits for something that should be quick on loopback. */
#define TT_WAIT_MS 10000

/* ---- small strings ------------------------------------------------------- */

/* printf into one of a ring of static buffers: for option strings, which the
 * library copies, and for messages. Valid for the next 15 calls. */
static inline const char *tt_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline const char *tt_fmt(const char *fmt, ...)
{
	static char ring[16][1024];
	static int next;
	char *buf = ring[next++ % 16];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(ring[0]), fmt, ap);
	va_end(ap);
	return buf;
}

/* The calling thread's last library error message, never NULL. */
static inline const char *tt_errmsg(void)
{
	const devkit_error *e = devkit_error_last();
	return e && e->message ? e->message : "(no error message)";
}

/* Whether the file starts with `prefix`. */
static inline int tt_file_starts_with(const char *path, const char *prefix)
{
	char buf[256] = "";
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return strncmp(buf, prefix, strlen(prefix)) == 0;
}

/* Read a whole (small) file; caller frees. NULL if it cannot be read. */
static inline char *tt_read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t cap = 4096, len = 0, n;
	char *buf = malloc(cap);
	while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
		len += n;
		if (cap - len < 2) {
			char *nb = realloc(buf, cap *= 2);
			if (!nb) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = nb;
		}
	}
	fclose(f);
	if (buf)
		buf[len] = '\0';
	return buf;
}

static inline void tt_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "cannot write %s: %s", path, strerror(errno));
	fputs(text, f);
	fclose(f);
}

/* ---- fds ---------------------------------------------------------------------- */

/* "fd -> target" lines for every open fd of this process. */
static inline char *tt_fd_list(void)
{
	size_t cap = 1 << 16, len = 0;
	char *out = calloc(1, cap);
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	while (out && d && (e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
			continue;
		char path[300], target[256] = "";
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n > 0)
			target[n] = '\0';
		if (len + 300 < cap)
			len += (size_t)snprintf(out + len, cap - len, "%s -> %s\n", e->d_name, target);
	}
	if (d)
		closedir(d);
	return out;
}

/* ---- engine and tunnel ----------------------------------------------------- */

static inline devkit_ctx *tt_ctx_new(void)
{
	devkit_ctx *ctx = NULL;
	int rc = devkit_ctx_new(&ctx, NULL);
	cr_assert_eq(rc, 0, "devkit_ctx_new: %d %s", rc, tt_errmsg());
	cr_assert_not_null(ctx);
	return ctx;
}

/* Options for a key login as root to the fixture's sshd that trust only the
 * fixture's known_hosts and never the user's agent. */
static inline void tt_opts(devkit_tunnel_options *o, const fx_sshd *s)
{
	cr_assert_eq(devkit_tunnel_options_init(o, DEVKIT_TUNNEL_OPTIONS_VERSION), 0);
	o->bastion = tt_fmt("%s@127.0.0.1:%d", s->user, s->port);
	o->identity_file = s->user_key;
	o->known_hosts_file = s->known_hosts;
	o->use_agent = 0;
	o->connect_timeout_ms = TT_WAIT_MS;
}

/* Open, asserting success (with the library's message if not). */
static inline devkit_tunnel *tt_open(devkit_ctx *ctx, const devkit_tunnel_options *o)
{
	devkit_tunnel *t = NULL;
	int rc = devkit_tunnel_open(&t, ctx, o);
	cr_assert_eq(rc, 0, "devkit_tunnel_open(%s) failed: %d (%s): %s", o->bastion, rc,
		devkit_strerror(rc), tt_errmsg());
	cr_assert_not_null(t);
	cr_assert_eq(devkit_tunnel_get_state(t), DEVKIT_TUNNEL_UP);
	return t;
}

/* Open, expecting failure: returns the code; the message goes to msg. */
static inline int tt_open_fail(devkit_ctx *ctx, const devkit_tunnel_options *o, char *msg,
	size_t cap)
{
	devkit_tunnel *t = (devkit_tunnel *)(uintptr_t)1; /* must be reset to NULL */
	int rc = devkit_tunnel_open(&t, ctx, o);
	snprintf(msg, cap, "%s", tt_errmsg());
	if (rc == 0) {
		devkit_tunnel_free(t);
		cr_assert_fail("devkit_tunnel_open(%s) succeeded but should have failed", o->bastion);
	}
	cr_assert_null(t, "a failed devkit_tunnel_open must leave *out NULL");
	const devkit_error *e = devkit_error_last();
	cr_assert_not_null(e, "a failed call must set devkit_error_last()");
	cr_assert_eq(e->code, rc, "devkit_error_last()->code %d != returned %d", e->code, rc);
	return rc;
}

/* The usual suite fixture: a real sshd and a tunnel to it on a fresh context. */
static inline void tt_tunnel_up(fx_sshd *sshd, devkit_ctx **ctx, devkit_tunnel **tunnel)
{
	cr_assert_eq(fx_sshd_start(sshd, NULL), 0, "cannot start sshd");
	*ctx = tt_ctx_new();
	devkit_tunnel_options o;
	tt_opts(&o, sshd);
	*tunnel = tt_open(*ctx, &o);
}

/* Its teardown, also after a failed test: tunnel, context, the far-side
 * server (may be NULL), sshd. */
static inline void tt_tunnel_down(fx_sshd *sshd, devkit_ctx **ctx, devkit_tunnel **tunnel,
	fx_server **server)
{
	devkit_tunnel_free(*tunnel);
	*tunnel = NULL;
	devkit_ctx_free(*ctx);
	*ctx = NULL;
	fx_server_stop(*server);
	*server = NULL;
	fx_sshd_stop(sshd);
}

static inline devkit_forward *tt_add_forward(devkit_tunnel *t, const devkit_forward_options *fo)
{
	devkit_forward *f = NULL;
	int rc = devkit_tunnel_add_forward(&f, t, fo);
	cr_assert_eq(rc, 0, "devkit_tunnel_add_forward failed: %d (%s): %s", rc, devkit_strerror(rc),
		tt_errmsg());
	cr_assert_not_null(f);
	cr_assert_gt(devkit_forward_port(f), 0);
	return f;
}

/* -L 127.0.0.1:0 -> host:port as the bastion sees it. */
static inline devkit_forward *tt_local_forward(devkit_tunnel *t, const char *host, int port)
{
	devkit_forward_options fo;
	cr_assert_eq(devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION), 0);
	fo.kind = DEVKIT_FORWARD_LOCAL;
	fo.target_host = host;
	fo.target_port = port;
	return tt_add_forward(t, &fo);
}

/* -D 127.0.0.1:0, optionally with proxy credentials. */
static inline devkit_forward *tt_dynamic_forward(devkit_tunnel *t, const char *user,
	const char *pass)
{
	devkit_forward_options fo;
	cr_assert_eq(devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION), 0);
	fo.kind = DEVKIT_FORWARD_DYNAMIC;
	fo.proxy_username = user;
	fo.proxy_password = pass;
	return tt_add_forward(t, &fo);
}

/* -R 127.0.0.1:bind_port on the bastion -> host:port here. */
static inline devkit_forward *tt_remote_forward(devkit_tunnel *t, int bind_port, const char *host,
	int port)
{
	devkit_forward_options fo;
	cr_assert_eq(devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION), 0);
	fo.kind = DEVKIT_FORWARD_REMOTE;
	fo.bind_port = bind_port;
	fo.target_host = host;
	fo.target_port = port;
	return tt_add_forward(t, &fo);
}

static inline devkit_forward_stats tt_forward_stats(devkit_forward *f)
{
	devkit_forward_stats st = DEVKIT_FORWARD_STATS_INIT;
	int rc = devkit_forward_get_stats(f, &st);
	cr_assert_eq(rc, 0, "devkit_forward_get_stats: %d %s", rc, tt_errmsg());
	return st;
}

/* Wait until the forward has no open connection (links close asynchronously
 * after the client's close). Returns the last stats seen. */
static inline devkit_forward_stats tt_wait_forward_idle(devkit_forward *f, int timeout_ms)
{
	long long deadline = fx_now_ms() + timeout_ms;
	devkit_forward_stats st;
	for (;;) {
		st = tt_forward_stats(f);
		if (st.channels_open == 0 || fx_now_ms() >= deadline)
			return st;
		fx_sleep_ms(10);
	}
}

/* ---- events ---------------------------------------------------------------- */

/* Events skipped while waiting, for failure messages. */
static char tt_events_seen[4096];

static inline void tt_note_event(const devkit_event *ev)
{
	size_t used = strlen(tt_events_seen);
	if (used + 200 < sizeof(tt_events_seen))
		snprintf(tt_events_seen + used, sizeof(tt_events_seen) - used, "[%s %s fwd=%llu port=%d: %.100s] ",
			devkit_event_type_name(ev->type),
			ev->type == DEVKIT_EVENT_TUNNEL_STATE ? devkit_tunnel_state_name(ev->state) : "",
			(unsigned long long)ev->forward_id, ev->port, ev->message);
}

/* Wait for an event of `type` (and, for TUNNEL_STATE, `state` unless 0; and
 * `forward_id` unless 0), skipping others. 1 found (copied to out), 0 not in time. */
static inline int tt_wait_event(devkit_ctx *ctx, int type, int state, uint64_t forward_id,
	int timeout_ms, devkit_event *out)
{
	long long deadline = fx_now_ms() + timeout_ms;
	for (;;) {
		long long left = deadline - fx_now_ms();
		if (left <= 0)
			return 0;
		devkit_event ev;
		int rc = devkit_ctx_poll(ctx, &ev, (int)left);
		cr_assert_geq(rc, 0, "devkit_ctx_poll: %d %s", rc, tt_errmsg());
		if (rc == 0)
			continue;
		tt_note_event(&ev);
		if ((int)ev.type != type)
			continue;
		if (type == DEVKIT_EVENT_TUNNEL_STATE && state && ev.state != state)
			continue;
		if (forward_id && ev.forward_id != forward_id)
			continue;
		if (out)
			*out = ev;
		return 1;
	}
}

/* Take every event queued now. Returns how many. */
static inline int tt_drain_events(devkit_ctx *ctx)
{
	devkit_event ev;
	int n = 0;
	while (devkit_ctx_poll(ctx, &ev, 0) == 1) {
		tt_note_event(&ev);
		n++;
	}
	return n;
}

/* ---- log capture (to check that secrets never reach a log) ---------------- */

typedef struct tt_log {
	pthread_mutex_t lock;
	char text[256 * 1024];
	size_t len;
} tt_log;

static inline void tt_log_cb(devkit_log_level level, const char *message, void *payload)
{
	tt_log *l = payload;
	(void)level;
	pthread_mutex_lock(&l->lock);
	size_t n = strlen(message);
	if (l->len + n + 2 < sizeof(l->text)) {
		memcpy(l->text + l->len, message, n);
		l->len += n;
		l->text[l->len++] = '\n';
		l->text[l->len] = '\0';
	}
	pthread_mutex_unlock(&l->lock);
}

/* A context that logs everything (TRACE) into `log`. */
static inline devkit_ctx *tt_ctx_new_logging(tt_log *log)
{
	memset(log, 0, sizeof(*log));
	pthread_mutex_init(&log->lock, NULL);
	devkit_ctx_options co;
	cr_assert_eq(devkit_ctx_options_init(&co, DEVKIT_CTX_OPTIONS_VERSION), 0);
	co.log_level = DEVKIT_LOG_TRACE;
	co.log_cb = tt_log_cb;
	co.log_payload = log;
	devkit_ctx *ctx = NULL;
	int rc = devkit_ctx_new(&ctx, &co);
	cr_assert_eq(rc, 0, "devkit_ctx_new: %d %s", rc, tt_errmsg());
	return ctx;
}

/* ---- sockets ----------------------------------------------------------------- */

static inline int tt_connect(int port)
{
	int fd = fx_connect_tcp("127.0.0.1", port);
	cr_assert_geq(fd, 0, "connect 127.0.0.1:%d: %s", port, strerror(errno));
	return fd;
}

static inline void tt_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

/*
 * Send `len` bytes of the seeded pattern and check that exactly the same bytes
 * come back (an echo on the far side), sending and receiving at the same time
 * so that neither side's buffers limit the size. With half_close, then
 * shutdown(SHUT_WR) and expect EOF after the echo. Returns 0, or -1 with the
 * reason in why.
 */
static inline int tt_echo_pattern(int fd, uint64_t seed, uint64_t len, int half_close,
	int timeout_ms, char *why, size_t whylen)
{
	enum { CHUNK = 64 * 1024 };
	unsigned char *out = malloc(CHUNK), *in = malloc(CHUNK), *want = malloc(CHUNK);
	uint64_t sent = 0, got = 0;
	int shut = 0, rc = -1;
	long long deadline = fx_now_ms() + timeout_ms;
	size_t out_len = 0, out_off = 0;
	snprintf(why, whylen, "ok");
	tt_set_nonblock(fd, 1);
	for (;;) {
		if (sent == len && out_off == out_len && half_close && !shut) {
			shutdown(fd, SHUT_WR);
			shut = 1;
		}
		if (got == len && !half_close) {
			rc = 0; /* with half_close, go on until the EOF */
			break;
		}
		long long left = deadline - fx_now_ms();
		if (left <= 0) {
			snprintf(why, whylen, "timed out: sent %llu, received %llu of %llu",
				(unsigned long long)sent, (unsigned long long)got, (unsigned long long)len);
			break;
		}
		struct pollfd p = { fd, POLLIN, 0 };
		if (sent < len || out_off < out_len)
			p.events |= POLLOUT;
		if (poll(&p, 1, (int)(left < 1000 ? left : 1000)) < 0 && errno != EINTR)
			break;
		if (p.revents & POLLOUT) {
			if (out_off == out_len && sent < len) {
				out_len = len - sent < CHUNK ? (size_t)(len - sent) : CHUNK;
				fx_pattern_fill(seed, sent, out, out_len);
				out_off = 0;
			}
			ssize_t n = send(fd, out + out_off, out_len - out_off, MSG_NOSIGNAL);
			if (n > 0) {
				out_off += (size_t)n;
				sent += (uint64_t)n;
				if (out_off == out_len)
					out_off = out_len = 0;
			} else if (n < 0 && errno != EAGAIN && errno != EINTR) {
				snprintf(why, whylen, "send failed after %llu bytes: %s",
					(unsigned long long)sent, strerror(errno));
				break;
			}
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, in, CHUNK, 0);
			if (n > 0) {
				if (got + (uint64_t)n > len) {
					snprintf(why, whylen, "received %llu bytes, more than the %llu sent",
						(unsigned long long)(got + (uint64_t)n), (unsigned long long)len);
					break;
				}
				fx_pattern_fill(seed, got, want, (size_t)n);
				if (memcmp(in, want, (size_t)n) != 0) {
					size_t i = 0;
					while (in[i] == want[i])
						i++;
					snprintf(why, whylen, "byte %llu differs (got 0x%02x, want 0x%02x)",
						(unsigned long long)(got + i), in[i], want[i]);
					break;
				}
				got += (uint64_t)n;
			} else if (n == 0) {
				if (got == len && half_close && shut) {
					rc = 0;
				} else {
					snprintf(why, whylen, "EOF after %llu of %llu bytes (sent %llu)",
						(unsigned long long)got, (unsigned long long)len,
						(unsigned long long)sent);
				}
				break;
			} else if (errno != EAGAIN && errno != EINTR) {
				snprintf(why, whylen, "recv failed after %llu of %llu bytes: %s",
					(unsigned long long)got, (unsigned long long)len, strerror(errno));
				break;
			}
		}
	}
	tt_set_nonblock(fd, 0);
	free(out);
	free(in);
	free(want);
	return rc;
}

/* Short echo round trip of a string; asserts. */
static inline void tt_echo_string(int fd, const char *msg)
{
	size_t n = strlen(msg);
	char buf[4096];
	cr_assert_lt(n, sizeof(buf));
	cr_assert_eq(fx_write_all(fd, msg, n), 0, "write: %s", strerror(errno));
	ssize_t got = fx_read_full(fd, buf, n, TT_WAIT_MS);
	cr_assert_eq(got, (ssize_t)n, "echo: read %zd of %zu bytes", got, n);
	cr_assert(memcmp(buf, msg, n) == 0, "echo differs: '%.*s' vs '%s'", (int)n, buf, msg);
}

/* ---- proxy clients --------------------------------------------------------- */

/* Read exactly n bytes or fail. */
static inline int tt_read_exact(int fd, void *buf, size_t n)
{
	return fx_read_full(fd, buf, n, TT_WAIT_MS) == (ssize_t)n ? 0 : -1;
}

enum { TT_ATYP_IPV4 = 1, TT_ATYP_DOMAIN = 3, TT_ATYP_IPV6 = 4 };

/*
 * SOCKS5 CONNECT through the proxy at 127.0.0.1:proxy_port to host:port
 * (atyp says how host is sent). With user/pass, offers only RFC 1929.
 * Returns the connected fd (REP 0), or -1 with *rep the reply code
 * (-1: the connection closed before a reply; -2: auth refused, *rep = status).
 */
static inline int tt_socks5(int proxy_port, int atyp, const char *host, int port, const char *user,
	const char *pass, int *rep)
{
	*rep = -1;
	int fd = tt_connect(proxy_port);
	unsigned char b[600];
	size_t n = 0;
	b[n++] = 5;
	b[n++] = 1;
	b[n++] = user ? 2 : 0;
	if (fx_write_all(fd, b, n) != 0 || tt_read_exact(fd, b, 2) != 0)
		goto closed;
	if (b[0] != 5 || b[1] != (user ? 2 : 0)) {
		*rep = 0x100 | b[1]; /* method not accepted */
		close(fd);
		return -1;
	}
	if (user) {
		size_t ul = strlen(user), pl = strlen(pass);
		n = 0;
		b[n++] = 1;
		b[n++] = (unsigned char)ul;
		memcpy(b + n, user, ul);
		n += ul;
		b[n++] = (unsigned char)pl;
		memcpy(b + n, pass, pl);
		n += pl;
		if (fx_write_all(fd, b, n) != 0 || tt_read_exact(fd, b, 2) != 0)
			goto closed;
		if (b[1] != 0) {
			*rep = -2;
			close(fd);
			return -1;
		}
	}
	n = 0;
	b[n++] = 5;
	b[n++] = 1;
	b[n++] = 0;
	b[n++] = (unsigned char)atyp;
	if (atyp == TT_ATYP_IPV4) {
		cr_assert_eq(inet_pton(AF_INET, host, b + n), 1);
		n += 4;
	} else if (atyp == TT_ATYP_IPV6) {
		cr_assert_eq(inet_pton(AF_INET6, host, b + n), 1);
		n += 16;
	} else {
		size_t hl = strlen(host);
		b[n++] = (unsigned char)hl;
		memcpy(b + n, host, hl);
		n += hl;
	}
	b[n++] = (unsigned char)(port >> 8);
	b[n++] = (unsigned char)port;
	if (fx_write_all(fd, b, n) != 0 || tt_read_exact(fd, b, 4) != 0)
		goto closed;
	cr_assert_eq(b[0], 5, "SOCKS5 reply version %d", b[0]);
	*rep = b[1];
	size_t rest = b[3] == 1 ? 4 + 2 : b[3] == 4 ? 16 + 2 : 0;
	if (b[3] == 3) {
		if (tt_read_exact(fd, b, 1) != 0)
			goto closed;
		rest = (size_t)b[0] + 2;
	}
	if (tt_read_exact(fd, b, rest) != 0) {
		if (*rep == 0)
			goto closed;
	}
	if (*rep != 0) {
		close(fd);
		return -1;
	}
	return fd;
closed:
	close(fd);
	return -1;
}

/* SOCKS4 (ip set) or SOCKS4a (ip NULL, name given) CONNECT. Returns the fd
 * on 0x5a, else -1 with *rep the reply code (-1 closed without reply). */
static inline int tt_socks4(int proxy_port, const char *ip, const char *name, int port, int *rep)
{
	*rep = -1;
	int fd = tt_connect(proxy_port);
	unsigned char b[600];
	size_t n = 0;
	b[n++] = 4;
	b[n++] = 1;
	b[n++] = (unsigned char)(port >> 8);
	b[n++] = (unsigned char)port;
	if (ip) {
		cr_assert_eq(inet_pton(AF_INET, ip, b + n), 1);
	} else {
		b[n] = b[n + 1] = b[n + 2] = 0;
		b[n + 3] = 1; /* 0.0.0.1: SOCKS4a, the name follows */
	}
	n += 4;
	memcpy(b + n, "devkit", 7); /* user id, NUL-terminated */
	n += 7;
	if (!ip) {
		size_t hl = strlen(name) + 1;
		memcpy(b + n, name, hl);
		n += hl;
	}
	if (fx_write_all(fd, b, n) != 0 || tt_read_exact(fd, b, 8) != 0) {
		close(fd);
		return -1;
	}
	*rep = b[1];
	if (b[0] != 0 || b[1] != 0x5a) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Read an HTTP response head (up to and including CRLFCRLF) byte by byte, so
 * nothing after it is consumed. Returns the status code, or -1. */
static inline int tt_read_http_head(int fd, char *head, size_t cap)
{
	size_t n = 0;
	head[0] = '\0';
	while (n + 1 < cap) {
		if (fx_read_full(fd, head + n, 1, TT_WAIT_MS) != 1)
			break;
		n++;
		head[n] = '\0';
		if (n >= 4 && memcmp(head + n - 4, "\r\n\r\n", 4) == 0) {
			int status = 0;
			if (sscanf(head, "HTTP/1.%*d %d", &status) == 1)
				return status;
			return -1;
		}
	}
	return -1;
}

/* HTTP CONNECT authority through the proxy. Returns the fd on 200 (head
 * consumed), else -1 with *status set (-1: no valid response). */
static inline int tt_http_connect(int proxy_port, const char *authority, int *status,
	char *head, size_t headcap)
{
	int fd = tt_connect(proxy_port);
	const char *req = tt_fmt("CONNECT %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: devkit-test\r\n\r\n",
		authority, authority);
	*status = -1;
	if (fx_write_all(fd, req, strlen(req)) != 0) {
		close(fd);
		return -1;
	}
	*status = tt_read_http_head(fd, head, headcap);
	if (*status != 200) {
		close(fd);
		return -1;
	}
	return fd;
}

/* ---- a python3 http.server on 127.0.0.1, serving a temp dir ----------------- */

typedef struct tt_http_server {
	pid_t pid;
	int port;
	char dir[128];
} tt_http_server;

/* The body served at /hello.txt. */
#define TT_HTTP_BODY "hello from the far side of the tunnel\n"

static inline const char *tt_python(void)
{
	return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

static inline void tt_http_start(tt_http_server *h)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->dir, sizeof(h->dir), "/tmp/devkit-http.XXXXXX");
	cr_assert_not_null(mkdtemp(h->dir), "mkdtemp: %s", strerror(errno));
	tt_write_file(tt_fmt("%s/hello.txt", h->dir), TT_HTTP_BODY);
	for (int attempt = 0; attempt < 5 && h->pid <= 0; attempt++) {
		int port = fx_free_port();
		char ports[16];
		snprintf(ports, sizeof(ports), "%d", port);
		const char *argv[] = { tt_python(), "-m", "http.server", "--bind", "127.0.0.1",
			"--directory", h->dir, ports, NULL };
		pid_t pid = fx_spawn(argv, NULL, tt_fmt("%s/server.log", h->dir));
		cr_assert_gt(pid, 0, "cannot start python3 -m http.server");
		long long deadline = fx_now_ms() + 15000;
		while (fx_now_ms() < deadline) {
			int fd = fx_connect_tcp("127.0.0.1", port);
			if (fd >= 0) {
				close(fd);
				h->pid = pid;
				h->port = port;
				break;
			}
			if (fx_proc_reap(pid, 0) == 0)
				break; /* exited: the port was taken, try another */
			fx_sleep_ms(20);
		}
		if (h->pid <= 0) {
			fx_proc_tree_signal(pid, SIGKILL, 1);
			fx_proc_reap(pid, 5000);
		}
	}
	cr_assert_gt(h->pid, 0, "python3 -m http.server did not start (see %s/server.log)", h->dir);
}

static inline void tt_http_stop(tt_http_server *h)
{
	if (h->pid > 0) {
		fx_proc_tree_signal(h->pid, SIGKILL, 1);
		fx_proc_reap(h->pid, 5000);
		h->pid = 0;
	}
	if (h->dir[0]) {
		unlink(tt_fmt("%s/hello.txt", h->dir));
		unlink(tt_fmt("%s/server.log", h->dir));
		rmdir(h->dir);
		h->dir[0] = '\0';
	}
}

#endif
