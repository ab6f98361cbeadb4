/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The terminal relay of cli_tty.h. Two directions at once: a thread reads
 * stdin (blocking in poll, woken by a pipe to stop) and writes keystrokes to
 * the session; the calling thread reads the session's output with a short
 * timeout, so that between reads it can pass on a window size change and
 * notice a shutdown signal.
 */
#include "cli_tty.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "cli_signal.h"

/* How long one read of the session waits: the latency of a resize. */
#define READ_SLICE_MS 100

static volatile sig_atomic_t winch;

static void on_winch(int sig)
{
	(void)sig;
	winch = 1;
}

/* --- devkit_exec as a session -------------------------------------------------------- */

static int exec_write(void *h, const void *data, size_t len)
{
	return devkit_exec_write(h, data, len);
}

static int exec_read(void *h, devkit_buf *out, int timeout_ms)
{
	int stream;
	return devkit_exec_read(h, &stream, out, timeout_ms);
}

static int exec_resize(void *h, int cols, int rows)
{
	return devkit_exec_resize(h, cols, rows);
}

static int exec_close_input(void *h)
{
	return devkit_exec_close_stdin(h);
}

void cli_tty_exec_session(cli_tty_session *s, devkit_exec *e)
{
	s->handle = e;
	s->write = exec_write;
	s->read = exec_read;
	s->resize = exec_resize;
	s->close_input = exec_close_input;
}

int cli_tty_size(int fd, int *cols, int *rows)
{
	struct winsize ws;
	if (!isatty(fd) || ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0 || ws.ws_row == 0)
		return -1;
	*cols = ws.ws_col;
	*rows = ws.ws_row;
	return 0;
}

/* --- the relay ----------------------------------------------------------------------- */

struct relay {
	const cli_tty_session *s;
	int stop[2];           /* the input thread's wake-up */
	atomic_int input_rc;   /* the session's error on write, from the input thread */
};

static void *input_thread(void *arg)
{
	struct relay *r = arg;
	char buf[4096];
	for (;;) {
		struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { r->stop[0], POLLIN, 0 } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents)
			break;
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0) {
			/* the end of piped input; the remote decides what it means */
			if (r->s->close_input)
				r->s->close_input(r->s->handle);
			break;
		}
		int rc = r->s->write(r->s->handle, buf, (size_t)n);
		if (rc < 0) {
			atomic_store(&r->input_rc, rc);
			break;
		}
	}
	return NULL;
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EAGAIN) {
			struct pollfd pf = { fd, POLLOUT, 0 };
			poll(&pf, 1, 1000);
			continue;
		}
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void send_size(const cli_tty_session *s)
{
	int cols, rows;
	if (!s->resize)
		return;
	if (cli_tty_size(STDOUT_FILENO, &cols, &rows) == 0 ||
		cli_tty_size(STDIN_FILENO, &cols, &rows) == 0)
		s->resize(s->handle, cols, rows);
}

int cli_tty_relay(const cli_tty_session *s)
{
	struct relay r = { .s = s, .stop = { -1, -1 } };
	atomic_init(&r.input_rc, 0);
	if (pipe(r.stop) != 0)
		return DEVKIT_EIO;
	cli_signals_ignore_sigpipe();
	cli_signals_install();
	struct sigaction sa, old_winch;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_winch;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sigaction(SIGWINCH, &sa, &old_winch);

	struct termios saved;
	int raw = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) == 0;
	if (raw) {
		struct termios t = saved;
		cfmakeraw(&t);
		raw = tcsetattr(STDIN_FILENO, TCSANOW, &t) == 0;
	}
	winch = 0;
	send_size(s);

	pthread_t tid;
	int started = pthread_create(&tid, NULL, input_thread, &r) == 0;
	int rc = started ? CLI_TTY_ENDED : DEVKIT_ERROR;
	while (started) {
		if (cli_signal_caught()) {
			rc = CLI_TTY_SIGNALLED;
			break;
		}
		if (winch) {
			winch = 0;
			send_size(s);
		}
		int in = atomic_load(&r.input_rc);
		if (in < 0) {
			rc = in;
			break;
		}
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = s->read(s->handle, &b, READ_SLICE_MS);
		if (n == DEVKIT_ETIMEOUT)
			continue;
		if (n <= 0) {
			rc = n; /* 0: CLI_TTY_ENDED */
			break;
		}
		int w = write_all(STDOUT_FILENO, b.ptr, b.size);
		devkit_buf_dispose(&b);
		if (w < 0) {
			rc = DEVKIT_EIO; /* the terminal went away */
			break;
		}
	}
	if (started) {
		char byte = 1;
		if (write(r.stop[1], &byte, 1) < 0) {
			/* the thread also ends at stdin's end or an error */
		}
		pthread_join(tid, NULL);
	}
	close(r.stop[0]);
	close(r.stop[1]);
	if (raw)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	sigaction(SIGWINCH, &old_winch, NULL);
	return rc;
}
