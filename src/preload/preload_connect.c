/* SPDX-License-Identifier: Apache-2.0 */
/*
 * connect() interposer. A TCP connect to a routed destination becomes a
 * connect to the engine's loopback redirect listener; the engine learns the
 * real destination from the socket's source port (ROUTE / OPEN, control.h).
 * The application keeps its own socket and fd, so every later call (poll,
 * epoll, read, write, shutdown, close, SO_ERROR) behaves as it would on a
 * direct connection - which is what makes non-blocking clients (curl, Java
 * NIO/Netty, asyncio) work without the shim touching anything else.
 */
#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "preload.h"

/* ROUTE only records the destination: the engine answers at once. OPEN waits
 * for the channel; the engine has its own connect timeout and answers TIMEOUT
 * well before this, which only guards against an engine that hangs. */
#define DK_ROUTE_TIMEOUT_MS 10000
#define DK_OPEN_TIMEOUT_MS 150000

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

void *dk_real_sym(void **slot, const char *name)
{
	void *f = __atomic_load_n(slot, __ATOMIC_ACQUIRE);
	if (!f) {
		f = dlsym(RTLD_NEXT, name);
		__atomic_store_n(slot, f, __ATOMIC_RELEASE);
	}
	return f;
}

int dk_real_connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static void *real;
	connect_fn f = (connect_fn)dk_real_sym(&real, "connect");
	if (!f) {
		errno = ENOSYS;
		return -1;
	}
	return f(fd, sa, len);
}

static int fail(int err)
{
	errno = err;
	return -1;
}

/* Whether a local address lets us reach the loopback redirect listener and
 * lets the engine key the connection on our source port: unbound (port 0), a
 * wildcard with a port (the kernel picks a loopback source), or loopback. */
static int local_ok(const struct sockaddr_storage *ss, int *unbound)
{
	*unbound = 0;
	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
		uint32_t a = ntohl(in->sin_addr.s_addr);
		if (in->sin_port == 0) {
			*unbound = 1;
			return 1;
		}
		return a == INADDR_ANY || (a >> 24) == 127;
	}
	const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
	const struct in6_addr *a = &in6->sin6_addr;
	if (in6->sin6_port == 0) {
		*unbound = 1;
		return 1;
	}
	if (IN6_IS_ADDR_UNSPECIFIED(a) || IN6_IS_ADDR_LOOPBACK(a))
		return 1;
	return IN6_IS_ADDR_V4MAPPED(a) && (a->s6_addr[12] == 127 || !memcmp(&a->s6_addr[12], "\0\0\0\0", 4));
}

/* The loopback address of the socket's family. An AF_INET6 socket connecting
 * to an IPv4-mapped destination uses ::ffff:127.0.0.1: that is the IPv4
 * loopback seen through the dual-stack socket, which works even where ::1 is
 * not configured (containers with IPv6 disabled). */
static socklen_t loopback(struct sockaddr_storage *ss, int sock_family, int mapped, int port)
{
	memset(ss, 0, sizeof(*ss));
	if (sock_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)ss;
		in->sin_family = AF_INET;
		in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		in->sin_port = htons((uint16_t)port);
		return sizeof(*in);
	}
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	in6->sin6_family = AF_INET6;
	in6->sin6_port = htons((uint16_t)port);
	if (mapped) {
		in6->sin6_addr.s6_addr[10] = 0xff;
		in6->sin6_addr.s6_addr[11] = 0xff;
		in6->sin6_addr.s6_addr[12] = 127;
		in6->sin6_addr.s6_addr[15] = 1;
	} else {
		in6->sin6_addr = in6addr_loopback;
	}
	return sizeof(*in6);
}

/* Map an OPEN/ROUTE answer to a redirect port, or to the errno that connect()
 * fails with (control.h). */
static int parse_answer(const char *resp, int *port)
{
	if (!strncmp(resp, "OK ", 3)) {
		char *end;
		long p = strtol(resp + 3, &end, 10);
		if (p > 0 && p < 65536 && (*end == '\0' || *end == ' ')) {
			*port = (int)p;
			return 0;
		}
		return ECONNREFUSED;
	}
	if (!strncmp(resp, "REFUSED", 7))
		return ECONNREFUSED;
	if (!strncmp(resp, "UNREACHABLE", 11))
		return ENETUNREACH;
	if (!strncmp(resp, "TIMEOUT", 7))
		return ETIMEDOUT;
	return ECONNREFUSED; /* ERROR, or anything we do not understand */
}

static int routed_connect(int fd, int sock_family, const struct sockaddr *sa,
	const struct dk_addr *dst, int saved_errno)
{
	/* Already connecting or connected (a retry after EINTR, or the old idiom
	 * of calling connect() again to poll a non-blocking connect): the kernel
	 * answers EALREADY / EISCONN whatever the address, and we must not route
	 * the same source port twice. */
	struct tcp_info ti;
	socklen_t il = sizeof(ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &il) == 0 && ti.tcpi_state != TCP_CLOSE) {
		errno = saved_errno;
		return dk_real_connect(fd, sa, sa->sa_family == AF_INET ?
			sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	}

	int mapped = sock_family == AF_INET6 && dst->family == AF_INET;
	struct sockaddr_storage local;
	socklen_t llen = sizeof(local);
	if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
		return -1;
	int unbound;
	if (!local_ok(&local, &unbound)) {
		dk_log("connect(fd %d) to a routed destination from a socket bound to a "
			"non-loopback address: refused (the engine could not tell it apart)", fd);
		return fail(ECONNREFUSED);
	}
	if (unbound) {
		llen = loopback(&local, sock_family, mapped, 0);
		if (bind(fd, (struct sockaddr *)&local, llen) != 0) {
			dk_log("connect(fd %d): bind to loopback failed: %s", fd, strerror(errno));
			return -1;
		}
		llen = sizeof(local);
		if (getsockname(fd, (struct sockaddr *)&local, &llen) != 0)
			return -1;
	}
	int src_port = ntohs(local.ss_family == AF_INET ?
		((struct sockaddr_in *)&local)->sin_port : ((struct sockaddr_in6 *)&local)->sin6_port);
	int dst_port = ntohs(sa->sa_family == AF_INET ?
		((const struct sockaddr_in *)sa)->sin_port : ((const struct sockaddr_in6 *)sa)->sin6_port);

	char ip[INET6_ADDRSTRLEN];
	inet_ntop(dst->family, dst->b, ip, sizeof(ip));
	int flags = fcntl(fd, F_GETFL);
	int nonblocking = flags >= 0 && (flags & O_NONBLOCK);

	char req[128], resp[DEVKIT_CONTROL_MAX_LINE];
	snprintf(req, sizeof(req), "%s %d %s %d", nonblocking ? "ROUTE" : "OPEN", src_port, ip, dst_port);
	if (dk_control_request(req, resp, sizeof(resp),
		nonblocking ? DK_ROUTE_TIMEOUT_MS : DK_OPEN_TIMEOUT_MS) != 0) {
		dk_log("%s: no answer from the engine: connection refused", req);
		return fail(ECONNREFUSED);
	}
	int port = 0;
	int err = parse_answer(resp, &port);
	dk_log("%s -> %s", req, resp);
	if (err)
		return fail(err);

	struct sockaddr_storage redirect;
	socklen_t rlen = loopback(&redirect, sock_family, mapped, port);
	errno = saved_errno;
	return dk_real_connect(fd, (struct sockaddr *)&redirect, rlen);
}

DK_EXPORT int connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	if (!sa || len < sizeof(sa_family_t) ||
		(sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return dk_real_connect(fd, sa, len);
	int saved = errno;
	dk_config_init();
	struct dk_addr dst;
	if (!dk_active() || dk_addr_from_sockaddr(&dst, sa, len) != 0 || !dk_addr_routed(&dst)) {
		errno = saved;
		return dk_real_connect(fd, sa, len);
	}
	int type = 0, domain = 0;
	socklen_t tl = sizeof(type), dl = sizeof(domain);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
		getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dl) != 0 ||
		type != SOCK_STREAM || domain != sa->sa_family) {
		/* Not TCP (UDP goes direct, as documented), or not a socket at all,
		 * or a family mismatch: let the kernel give its own answer. */
		errno = saved;
		return dk_real_connect(fd, sa, len);
	}
	return routed_connect(fd, domain, sa, &dst, saved);
}
