/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The control client: one request line, one response line, over the unix
 * socket in $DEVKIT_CONTROL (protocol in control.h).
 *
 * Each request uses its own connection. A unix-socket connect + roundtrip
 * costs some tens of microseconds, which is nothing next to the tunnel
 * roundtrip that every routed connect() pays anyway; in exchange there is no
 * shared state at all: nothing to lock between threads, nothing inherited
 * across fork() (a child cannot end up reading its parent's answer), and no fd
 * of ours for the application to close or dup2() over behind our back.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "preload.h"

static long long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for events on fd until the deadline; EINTR restarts the wait with the
 * time that is left (a signal must not turn into a spurious failure). */
static int wait_fd(int fd, short events, long long deadline)
{
	for (;;) {
		long long left = deadline - now_ms();
		if (left <= 0)
			return -1;
		struct pollfd p = { .fd = fd, .events = events };
		int r = poll(&p, 1, (int)left);
		if (r > 0)
			return 0;
		if (r < 0 && errno != EINTR)
			return -1;
	}
}

int dk_control_request(const char *req, char *resp, size_t resp_len, int timeout_ms)
{
	const char *path = dk_control_path();
	if (!path) {
		dk_log("DEVKIT_CONTROL is not set");
		return -1;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t plen = strlen(path);
	if (plen >= sizeof(sun.sun_path)) {
		dk_log("DEVKIT_CONTROL path too long");
		return -1;
	}
	memcpy(sun.sun_path, path, plen + 1);

	long long deadline = now_ms() + timeout_ms;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	int rc = -1;
	if (dk_real_connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		/* A unix connect() only waits when the listen backlog is full. */
		if (errno != EAGAIN && errno != EINPROGRESS && errno != EINTR) {
			dk_log("control socket %s: %s", path, strerror(errno));
			goto out;
		}
		int err = 0;
		socklen_t elen = sizeof(err);
		if (wait_fd(fd, POLLOUT, deadline) != 0 ||
			getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err) {
			dk_log("control socket %s: cannot connect", path);
			goto out;
		}
	}

	char line[DEVKIT_CONTROL_MAX_LINE + 1];
	size_t len = strlen(req);
	if (len + 1 > DEVKIT_CONTROL_MAX_LINE)
		goto out;
	memcpy(line, req, len);
	line[len++] = '\n';
	for (size_t off = 0; off < len;) {
		/* MSG_NOSIGNAL: an engine that went away must not SIGPIPE the app. */
		ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);
		if (w > 0) {
			off += (size_t)w;
		} else if (w < 0 && errno == EINTR) {
			continue;
		} else if (w < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, deadline) != 0)
				goto out;
		} else {
			goto out;
		}
	}

	size_t got = 0;
	for (;;) {
		ssize_t r = recv(fd, line + got, DEVKIT_CONTROL_MAX_LINE - got, 0);
		if (r > 0) {
			char *nl = memchr(line + got, '\n', (size_t)r);
			got += (size_t)r;
			if (nl) {
				*nl = '\0';
				if (nl > line && nl[-1] == '\r')
					nl[-1] = '\0';
				break;
			}
			if (got >= DEVKIT_CONTROL_MAX_LINE)
				goto out;
		} else if (r < 0 && errno == EINTR) {
			continue;
		} else if (r < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLIN, deadline) != 0) {
				dk_log("control request timed out: %s", req);
				goto out;
			}
		} else {
			goto out; /* EOF before a full line: no answer */
		}
	}
	size_t n = strlen(line);
	if (n >= resp_len)
		n = resp_len - 1;
	memcpy(resp, line, n);
	resp[n] = '\0';
	rc = 0;
out:
	close(fd);
	return rc;
}
