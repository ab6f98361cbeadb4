/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Waiting for the restarted JVM's debug agent, and saying why when it does
 * not come.
 *
 * Without suspend the JVM is ready when it answers the JDWP handshake
 * through the local forward: that proves the whole path (forward, API
 * server or bastion, Pod port, agent). A refused or closed connection means
 * "not yet": both forwards accept locally at once and close the connection
 * when the Pod side refuses it. After the handshake we close; the agent
 * (server=y) takes the next debugger, which the JDK 17 here does -- but
 * it stops listening while a debugger is attached and listens again only
 * once it has noticed that the debugger left (10-70 ms here), so after the
 * handshake we wait, in the container (listening() below), until it
 * listens again: the IDE's first connect then works.
 *
 * With suspend=y a debugger that connects and leaves lets the JVM run on
 * (JDK 17: the agent resumes every thread when its debugger detaches, and
 * main starts), which would spoil the point of suspend. So there we only
 * check, in the container, that the agent's port listens (/proc/net/tcp and
 * tcp6, where a LISTEN socket has state 0A): the forward itself is not
 * exercised until the IDE connects.
 */
#include "debug_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"

#define HANDSHAKE "JDWP-Handshake"
#define HANDSHAKE_LEN 14
/* Between attempts: quick enough that the IDE line comes soon after the
 * JVM is up, slow enough not to flood the API server with exec/forwards. */
#define RETRY_MS 200
/* How long one attempt may stay connected without an answer. */
#define ATTEMPT_MS 5000
/* How often to ask the keep-alive whether the app is still running (an app
 * that exits at once, e.g. the agent's port is taken, fails early). */
#define STATUS_EVERY_MS 2000
/* How long at most to wait for the agent to listen again after our
 * handshake (see above). */
#define RELISTEN_MS 3000

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
	}
}

/* Wait for `events` on fd until the deadline: 1 ready, 0 timed out. */
static int wait_fd(int fd, short events, uint64_t deadline)
{
	for (;;) {
		uint64_t now = devkit__live_now_ms();
		if (now >= deadline)
			return 0;
		struct pollfd p = { fd, events, 0 };
		int n = poll(&p, 1, (int)(deadline - now));
		if (n > 0)
			return 1;
		if (n < 0 && errno != EINTR)
			return 1; /* let the next call on fd report it */
	}
}

int devkit__debug_handshake(const char *host, int port, int budget_ms)
{
	struct sockaddr_storage ss;
	socklen_t len;
	memset(&ss, 0, sizeof(ss));
	struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
	if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
		a4->sin_family = AF_INET;
		a4->sin_port = htons((uint16_t)port);
		len = sizeof(*a4);
	} else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		len = sizeof(*a6);
	} else {
		return DEVKIT__JDWP_CLOSED;
	}
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return DEVKIT__JDWP_CLOSED;
	uint64_t deadline = devkit__live_now_ms() + (uint64_t)(budget_ms > 0 ? budget_ms : 1);
	int result = DEVKIT__JDWP_CLOSED;
	if (connect(fd, (struct sockaddr *)&ss, len) != 0) {
		if (errno != EINPROGRESS)
			goto out;
		if (!wait_fd(fd, POLLOUT, deadline)) {
			result = DEVKIT__JDWP_SILENT;
			goto out;
		}
		int err = 0;
		socklen_t el = sizeof(err);
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0 || err != 0)
			goto out;
	}
	if (send(fd, HANDSHAKE, HANDSHAKE_LEN, MSG_NOSIGNAL) != HANDSHAKE_LEN)
		goto out;
	char got[HANDSHAKE_LEN];
	size_t have = 0;
	while (have < HANDSHAKE_LEN) {
		if (!wait_fd(fd, POLLIN, deadline)) {
			result = DEVKIT__JDWP_SILENT;
			goto out;
		}
		ssize_t n = recv(fd, got + have, HANDSHAKE_LEN - have, 0);
		if (n == 0)
			goto out;
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				continue;
			goto out;
		}
		if (memcmp(got + have, HANDSHAKE + have, (size_t)n) != 0) {
			result = DEVKIT__JDWP_OTHER;
			goto out;
		}
		have += (size_t)n;
	}
	result = DEVKIT__JDWP_READY;
out:
	close(fd);
	return result;
}

/* --- what the app did ------------------------------------------------------------ */

/* The state, the keep-alive's log file (its first argument: the argument
 * after "devkit-keepalive" in the supervisor's command line; none when the
 * app writes to the container's stdout) and the app's last lines there
 * (without the keep-alive's own "devkit: app started..." lines). */
static const char report_script[] = DEVKIT__LIVE_FIND_KEEPALIVE
	"\"$R/bin/devkit-app\" status 2>&1 | head -n 1\n"
	"p=`cat \"$R/run/supervisor.pid\" 2>/dev/null`\n"
	"L=\n"
	"[ -z \"$p\" ] || L=`tr '\\000' '\\n' <\"/proc/$p/cmdline\" 2>/dev/null |\n"
	"\tsed -n '/^devkit-keepalive$/{n;p;q;}'`\n"
	"[ -n \"$L\" ] && [ -r \"$L\" ] || exit 0\n"
	"echo \"$L\"\n"
	"tail -n 50 \"$L\" | grep -v '^devkit: ' | tail -n 5\n";

/* Append s to buf (NUL-terminated, capacity cap), cut at `max` bytes of s. */
static void append(char *buf, size_t cap, const char *s, size_t max)
{
	size_t used = strlen(buf);
	size_t n = strlen(s);
	if (n > max)
		n = max;
	if (used + 1 >= cap)
		return;
	if (n > cap - used - 1)
		n = cap - used - 1;
	memcpy(buf + used, s, n);
	buf[used + n] = '\0';
}

const char *devkit__debug_app_report(devkit_k8s *k8s, const devkit__live_target *t, char *buf,
	size_t cap)
{
	buf[0] = '\0';
	devkit_buf out = DEVKIT_BUF_INIT;
	int code = -1;
	if (devkit__live_sh(k8s, t, "the app's state", report_script, NULL, 0, &out, NULL,
		&code) != 0 || code != 0 || !out.ptr) {
		devkit_buf_dispose(&out);
		append(buf, cap, " (see the app's log: devkit logs)", 64);
		return buf;
	}
	/* line 1 the state, line 2 the log file, then its last lines */
	char *save = NULL;
	int i = 0;
	append(buf, cap, " (app: ", 16);
	for (char *line = strtok_r(out.ptr, "\n", &save); line; line = strtok_r(NULL, "\n", &save),
		i++) {
		line[strcspn(line, "\r")] = '\0';
		if (i == 0) {
			append(buf, cap, line, 160);
		} else if (i == 1) {
			append(buf, cap, "; last lines of ", 32);
			append(buf, cap, line, 200);
			append(buf, cap, ":", 1);
		} else {
			append(buf, cap, i == 2 ? " " : " | ", 3);
			append(buf, cap, line, 160);
		}
	}
	if (i < 2)
		append(buf, cap, "; its output is in the container's log: devkit logs", 64);
	append(buf, cap, ")", 1);
	devkit_buf_dispose(&out);
	return buf;
}

/* --- the wait ---------------------------------------------------------------------- */

/* Whether the agent's port listens in the container with no debugger
 * attached, and whether the app still runs: 1 listening, 0 not yet, 2 the
 * app is down, or the exec's error. In /proc/net/tcp{,6} a LISTEN socket
 * has state 0A; a debugger's connection has the port as its local one and
 * state 01 (ESTABLISHED) or 08 (CLOSE_WAIT: the debugger left, the agent
 * has not noticed yet). After a handshake the agent closes its listener,
 * and only once it has closed that connection does it listen again: so
 * "a listener and no such connection" is the state the IDE can connect in,
 * whatever the timing of the agent's threads. */
static int listening(const devkit__debug_wait *w)
{
	char script[1024];
	snprintf(script, sizeof(script), DEVKIT__LIVE_FIND_KEEPALIVE
		"s=`\"$R/bin/devkit-app\" status`\n"
		"case \"$s\" in running*) ;; *) echo \"down $s\"; exit 0 ;; esac\n"
		"t=`cat /proc/net/tcp /proc/net/tcp6 2>/dev/null`\n"
		"if printf '%%s\\n' \"$t\" | grep -q ':%04X [0-9A-F]*:0000 0A ' &&\n"
		"\t! printf '%%s\\n' \"$t\" | grep -Eq ':%04X [0-9A-F]+:[0-9A-F]{4} (01|08) '\n"
		"then echo listening; else echo waiting; fi\n",
		(unsigned)w->pod_port, (unsigned)w->pod_port);
	devkit_buf out = DEVKIT_BUF_INIT;
	int rc = devkit__live_sh_ok(w->k8s, w->t, "checking the debug port", script, &out);
	if (rc < 0)
		return rc;
	const char *s = out.ptr ? out.ptr : "";
	if (strncmp(s, "listening", 9) == 0)
		rc = 1;
	else if (strncmp(s, "down ", 5) == 0)
		rc = 2;
	devkit_buf_dispose(&out);
	return rc;
}

/* Without suspend, now and then: 1 the app runs, 0 it is down, or the
 * exec's error. */
static int app_running(const devkit__debug_wait *w)
{
	devkit_buf s = DEVKIT_BUF_INIT;
	int rc = devkit_app_control(w->k8s, w->t->namespace_name, w->t->pod, w->t->container,
		DEVKIT_APP_STATUS, &s);
	if (rc < 0)
		return rc;
	const char *text = s.ptr ? s.ptr : "";
	rc = strncmp(text, "running", 7) == 0;
	devkit_buf_dispose(&s);
	return rc;
}

int devkit__debug_wait_ready(const devkit__debug_wait *w, uint64_t *waited_ms)
{
	uint64_t start = devkit__live_now_ms();
	uint64_t deadline = start + w->timeout_ms;
	uint64_t next_status = start + STATUS_EVERY_MS;
	int last = DEVKIT__JDWP_CLOSED;
	char name[300], report[900];
	for (;;) {
		int down = 0;
		if (w->suspend) {
			int rc = listening(w);
			if (rc < 0)
				return rc;
			if (rc == 1)
				break;
			down = rc == 2;
		} else {
			uint64_t now = devkit__live_now_ms();
			uint64_t budget = deadline > now ? deadline - now : 1;
			last = devkit__debug_handshake(w->connect_host, w->local_port,
				budget > ATTEMPT_MS ? ATTEMPT_MS : (int)budget);
			if (last == DEVKIT__JDWP_READY)
				break;
			if (devkit__live_now_ms() >= next_status) {
				int rc = app_running(w);
				if (rc < 0)
					return rc;
				down = rc == 0;
				next_status = devkit__live_now_ms() + STATUS_EVERY_MS;
			}
		}
		devkit__live_target_name(w->k8s, w->t, name, sizeof(name));
		if (down)
			return devkit__error_set(DEVKIT_EIO, "debug %s: the app stopped after the restart "
				"with the debug agent%s; the agent stays on in app.env until turned off "
				"(devkit_debug_off, devkit debug --off)", name,
				devkit__debug_app_report(w->k8s, w->t, report, sizeof(report)));
		if (devkit__live_now_ms() + RETRY_MS >= deadline) {
			char msg[300];
			if (w->suspend)
				snprintf(msg, sizeof(msg), "the JVM's debug agent did not listen on port %d "
					"in the container within %u ms (is the app a JVM that reads "
					"JAVA_TOOL_OPTIONS?)", w->pod_port, w->timeout_ms);
			else if (last == DEVKIT__JDWP_SILENT)
				snprintf(msg, sizeof(msg), "port %d accepted but nothing answered the JDWP "
					"handshake within %u ms (is another debugger attached?)", w->pod_port,
					w->timeout_ms);
			else if (last == DEVKIT__JDWP_OTHER)
				snprintf(msg, sizeof(msg), "something other than a JDWP agent answers on "
					"port %d (waited %u ms)", w->pod_port, w->timeout_ms);
			else
				snprintf(msg, sizeof(msg), "the JVM did not answer the JDWP handshake on "
					"port %d within %u ms (is the app a JVM that reads JAVA_TOOL_OPTIONS?)",
					w->pod_port, w->timeout_ms);
			return devkit__error_set(DEVKIT_ETIMEOUT, "debug %s: %s%s", name, msg,
				devkit__debug_app_report(w->k8s, w->t, report, sizeof(report)));
		}
		sleep_ms(RETRY_MS);
	}
	if (waited_ms)
		*waited_ms = devkit__live_now_ms() - start;
	if (!w->suspend)
		devkit__debug_relisten(w);
	return 0;
}

void devkit__debug_relisten(const devkit__debug_wait *w)
{
	uint64_t deadline = devkit__live_now_ms() + RELISTEN_MS;
	while (listening(w) == 0 && devkit__live_now_ms() < deadline)
		sleep_ms(50);
}
