/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The status socket of `devkit up`: where it is, serving it from the one
 * poll() loop, and asking it (`devkit status`).
 *
 * Where: next to the configuration, because that is what both commands
 * know without being told (`devkit status` in the project directory finds
 * the `devkit up` started there): .devkit/up.sock beside devkit.yaml. The
 * directory is private (0700) and the socket 0600, and a connecting process
 * must be of the same user (SO_PEERCRED): the status names hosts, ports and
 * registries, which other users of the machine have no business reading.
 * The socket also stops a second `devkit up` of the same file from starting
 * over the first one's ports and registry entries.
 *
 * Protocol: the client connects and sends one line, "json" or "text"; the
 * server answers the status in that form and closes. A client that sends
 * nothing gets JSON after a second, so `socat - UNIX-CONNECT:PATH` works.
 * Answers are a few KiB, which a unix socket's buffer takes at once: the
 * write cannot hold the loop up.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* struct ucred, accept4 */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd_up.h"

#define SOCK_DIR_NAME ".devkit"
#define REQUEST_WAIT_MS 1000
#define WRITE_WAIT_MS 1000

/* FNV-1a: a stable short name for a long path, not a security measure. */
static uint64_t fnv1a(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

/* Path characters that are safe in a file name of ours. */
static void safe_name(char *out, size_t size, const char *in)
{
	size_t n = 0;

	for (; *in && n + 1 < size; in++) {
		unsigned char c = (unsigned char)*in;
		out[n++] = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
			|| c == '.' || c == '-' || c == '_' ? (char)c : '_';
	}
	out[n] = '\0';
}

/* Keep a place if its path fits in a unix socket address. */
static void add_place(struct up_sock_where *w, const char *dir, const char *path, int per_user)
{
	if (strlen(path) >= UP_SOCK_PATH_MAX)
		return;
	memcpy(w->dir[w->n], dir, strlen(dir) + 1);
	memcpy(w->path[w->n], path, strlen(path) + 1);
	w->per_user[w->n] = per_user;
	w->n++;
}

int up_socket_where(const char *file, struct up_sock_where *w, char *err, size_t errsize)
{
	const char *slash = strrchr(file, '/');
	const char *base = slash ? slash + 1 : file;
	char parent[PATH_MAX], absdir[PATH_MAX], name[300], key[PATH_MAX + 300];
	char dir[PATH_MAX + 16], path[PATH_MAX + 400];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	memset(w, 0, sizeof(*w));
	if (!*base) {
		snprintf(err, errsize, "'%s' names a directory, not a configuration file", file);
		return -1;
	}
	if (slash)
		snprintf(parent, sizeof(parent), "%.*s", slash == file ? 1 : (int)(slash - file), file);
	else
		snprintf(parent, sizeof(parent), ".");
	if (!realpath(parent, absdir)) {
		snprintf(err, errsize, "%s: %s", parent, strerror(errno));
		return -1;
	}
	safe_name(name, sizeof(name), base);
	snprintf(dir, sizeof(dir), "%s/" SOCK_DIR_NAME, strcmp(absdir, "/") == 0 ? "" : absdir);
	if (strcmp(base, UP_DEFAULT_FILE) == 0)
		snprintf(path, sizeof(path), "%s/up.sock", dir);
	else
		snprintf(path, sizeof(path), "%s/up-%s.sock", dir, name);
	/* A unix socket's path has 108 bytes at most: deeper ones use the next. */
	add_place(w, dir, path, 0);

	/* Per user, and named after the file so that one configuration's socket
	 * is told from another's. */
	snprintf(key, sizeof(key), "%s/%s", absdir, base);
	if (xdg && xdg[0] == '/')
		snprintf(dir, sizeof(dir), "%s/devkit", xdg);
	else
		snprintf(dir, sizeof(dir), "/tmp/devkit-%lu", (unsigned long)geteuid());
	snprintf(path, sizeof(path), "%s/up-%016llx.sock", dir, (unsigned long long)fnv1a(key));
	add_place(w, dir, path, 1);
	if (w->n == 0) {
		snprintf(err, errsize, "no room for a unix socket path under %s", dir);
		return -1;
	}
	return 0;
}

/* --- serving ----------------------------------------------------------------- */

/* The directory must be ours and private: others could otherwise replace the
 * socket with their own and answer `devkit status` for us. 0; 1 when it
 * cannot be made here (a read-only or foreign directory: try the next
 * place); -1 after saying why. */
static int private_dir(struct up_cli *u, int quiet)
{
	struct stat st;

	if (mkdir(u->sock_dir, 0700) != 0 && errno != EEXIST) {
		if (quiet && (errno == EACCES || errno == EROFS || errno == EPERM))
			return 1;
		cli_errorf("status socket: cannot make %s: %s", u->sock_dir, strerror(errno));
		return -1;
	}
	if (lstat(u->sock_dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
		cli_errorf("status socket: %s is not a directory of this user; remove it or move the "
			"configuration file", u->sock_dir);
		return -1;
	}
	if ((st.st_mode & 077) && chmod(u->sock_dir, 0700) != 0) {
		cli_errorf("status socket: cannot make %s private: %s", u->sock_dir, strerror(errno));
		return -1;
	}
	return 0;
}

static void sockaddr_of(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, strlen(path) + 1); /* fits: up_socket_path checked */
}

/* 1 when a process answers on `path` (another devkit up of the same file). */
static int someone_listens(const char *path)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

	if (fd < 0)
		return 0;
	sockaddr_of(&sa, path);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

int up_socket_listen(struct up_cli *u, const struct up_sock_where *w)
{
	struct sockaddr_un sa;
	struct stat st;
	int fd, bound, rc = 1;

	for (int i = 0; i < w->n && rc == 1; i++) {
		snprintf(u->sock_path, sizeof(u->sock_path), "%s", w->path[i]);
		snprintf(u->sock_dir, sizeof(u->sock_dir), "%s", w->dir[i]);
		rc = private_dir(u, i + 1 < w->n);
		/* .devkit is ours (a killed devkit up may have left it): removed when
		 * empty at the end; a directory every devkit up shares is not. */
		u->remove_sock_dir = rc == 0 && !w->per_user[i];
	}
	if (rc != 0)
		return CLI_EXIT_FAILURE;
	if (lstat(u->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			cli_errorf("status socket: %s exists and is not a socket", u->sock_path);
			return CLI_EXIT_FAILURE;
		}
		if (someone_listens(u->sock_path)) {
			cli_errorf("another devkit up is running for %s (it answers on %s); "
				"see it with: devkit status -f %s", u->file, u->sock_path, u->file);
			return CLI_EXIT_FAILURE;
		}
		unlink(u->sock_path); /* left by a devkit up that was killed */
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		cli_errorf("status socket: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	sockaddr_of(&sa, u->sock_path);
	/* Another file's devkit up in this directory may just have removed the
	 * empty .devkit on its way out: make it again, once. */
	bound = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (bound != 0 && errno == ENOENT && private_dir(u, 0) == 0)
		bound = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	if (bound != 0) {
		/* Not ours to remove: another devkit up may have bound it meanwhile. */
		cli_errorf("status socket %s: %s", u->sock_path, strerror(errno));
		close(fd);
		return CLI_EXIT_FAILURE;
	}
	/* The directory is 0700, so the moment before chmod exposes nothing. */
	if (chmod(u->sock_path, 0600) != 0 || listen(fd, 16) != 0) {
		cli_errorf("status socket %s: %s", u->sock_path, strerror(errno));
		close(fd);
		unlink(u->sock_path);
		return CLI_EXIT_FAILURE;
	}
	u->listen_fd = fd;
	return 0;
}

static int same_user(int fd)
{
#ifdef SO_PEERCRED
	struct ucred cred;
	socklen_t len = sizeof(cred);

	return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0 && cred.uid == geteuid();
#else
	(void)fd;
	return 1; /* the 0700 directory is the protection there */
#endif
}

void up_socket_accept(struct up_cli *u)
{
	for (;;) {
		int fd = accept4(u->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), slot = -1;

		if (fd < 0)
			return; /* EAGAIN: all taken; other errors: the next wake-up retries */
		for (int i = 0; i < UP_MAX_CLIENTS && slot < 0; i++) {
			if (u->clients[i].fd < 0)
				slot = i;
		}
		if (slot < 0 || !same_user(fd)) {
			close(fd);
			continue;
		}
		memset(&u->clients[slot], 0, sizeof(u->clients[slot]));
		u->clients[slot].fd = fd;
		u->clients[slot].deadline_ms = cli_now_ms() + REQUEST_WAIT_MS;
	}
}

/* Write it all, waiting briefly if the buffer is full; a client that does
 * not read is not worth holding the loop for. */
static void send_all(int fd, const char *data, size_t len)
{
	long long deadline = cli_now_ms() + WRITE_WAIT_MS;

	while (len > 0) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n > 0) {
			data += n;
			len -= (size_t)n;
		} else if (n < 0 && (errno == EAGAIN || errno == EINTR) && cli_now_ms() < deadline) {
			struct pollfd p = { fd, POLLOUT, 0 };

			poll(&p, 1, 50);
		} else {
			return;
		}
	}
}

static void answer(struct up_cli *u, struct up_client *c)
{
	char *request = c->request;
	cli_json j = CLI_JSON_INIT;

	request[strcspn(request, "\r\n")] = '\0';
	if (strcmp(request, "text") == 0) {
		char *text = up_status_text(u);

		if (text)
			send_all(c->fd, text, strlen(text));
		free(text);
	} else {
		cli_json_object_begin(&j, NULL);
		if (request[0] && strcmp(request, "json") != 0) {
			cli_json_string(&j, "event", "error");
			cli_json_string(&j, "message", "unknown request: send \"json\" or \"text\"");
		} else {
			cli_json_string(&j, "event", "status");
			up_status_json(u, &j);
		}
		cli_json_object_end(&j);
		if (!j.failed && j.buf) {
			send_all(c->fd, j.buf, j.len);
			send_all(c->fd, "\n", 1);
		}
		cli_json_free(&j);
	}
	close(c->fd);
	c->fd = -1;
}

void up_socket_client(struct up_cli *u, int i, short revents)
{
	struct up_client *c = &u->clients[i];
	ssize_t n;

	if (c->fd < 0 || !(revents & (POLLIN | POLLHUP | POLLERR)))
		return;
	n = recv(c->fd, c->request + c->len, sizeof(c->request) - 1 - c->len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0)
		c->len += (size_t)n;
	c->request[c->len] = '\0';
	/* A whole line, the client's end of the request (EOF), or a full buffer. */
	if (n <= 0 || strchr(c->request, '\n') || c->len + 1 >= sizeof(c->request))
		answer(u, c);
}

void up_socket_expire(struct up_cli *u)
{
	long long now = cli_now_ms();

	for (int i = 0; i < UP_MAX_CLIENTS; i++) {
		if (u->clients[i].fd >= 0 && now >= u->clients[i].deadline_ms)
			answer(u, &u->clients[i]);
	}
}

void up_socket_close(struct up_cli *u)
{
	for (int i = 0; i < UP_MAX_CLIENTS; i++) {
		if (u->clients[i].fd >= 0) {
			close(u->clients[i].fd);
			u->clients[i].fd = -1;
		}
	}
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		u->listen_fd = -1;
		unlink(u->sock_path);
	}
	if (u->remove_sock_dir) {
		rmdir(u->sock_dir); /* fails, as it should, if something else lives there */
		u->remove_sock_dir = 0;
	}
}

/* --- asking -------------------------------------------------------------------- */

int up_socket_ask(const char *path, const char *request, int timeout_ms, char **answer_out,
	char *err, size_t errsize)
{
	struct sockaddr_un sa;
	long long deadline = cli_now_ms() + timeout_ms;
	char *buf = NULL;
	size_t len = 0, cap = 0;
	int fd;

	*answer_out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errsize, "%s: the path is too long for a unix socket", path);
		return -1;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errsize, "socket: %s", strerror(errno));
		return -1;
	}
	sockaddr_of(&sa, path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		snprintf(err, errsize, "%s: %s%s", path, strerror(e),
			e == ECONNREFUSED ? " (a devkit up that was killed left it)" : "");
		close(fd);
		return e == ENOENT || e == ENOTDIR ? -2 : -1;
	}
	send_all(fd, request, strlen(request));
	send_all(fd, "\n", 1);
	shutdown(fd, SHUT_WR);
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		long long left = deadline - cli_now_ms();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, (int)left) == 0) {
			snprintf(err, errsize, "%s: no answer in %d ms", path, timeout_ms);
			break;
		}
		if (len + 4096 + 1 > cap) {
			char *grown = realloc(buf, cap = cap ? cap * 2 : 8192);

			if (!grown) {
				snprintf(err, errsize, "out of memory");
				break;
			}
			buf = grown;
		}
		n = recv(fd, buf + len, cap - len - 1, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			snprintf(err, errsize, "%s: %s", path, strerror(errno));
			break;
		}
		if (n == 0) {
			close(fd);
			buf[len] = '\0';
			*answer_out = buf;
			return 0;
		}
		len += (size_t)n;
	}
	close(fd);
	free(buf);
	return -1;
}
