/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_signal.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t caught;
static int pipe_fds[2] = { -1, -1 };

static const int shutdown_signals[] = { SIGINT, SIGTERM, SIGHUP };
#define N_SIGNALS (sizeof(shutdown_signals) / sizeof(shutdown_signals[0]))

static void on_signal(int sig)
{
	int saved = errno;
	char byte = 1;

	if (!caught)
		caught = sig;
	/* The pipe is non-blocking: if it is full, a wake-up is pending anyway. */
	if (write(pipe_fds[1], &byte, 1) < 0) {
		/* nothing to do: async-signal context */
	}
	errno = saved;
}

void cli_signals_block(sigset_t *old_mask)
{
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < N_SIGNALS; i++)
		sigaddset(&set, shutdown_signals[i]);
	pthread_sigmask(SIG_BLOCK, &set, old_mask);
}

void cli_signals_restore(const sigset_t *old_mask)
{
	pthread_sigmask(SIG_SETMASK, old_mask, NULL);
}

void cli_signals_ignore_sigpipe(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGPIPE, &sa, NULL);
}

int cli_signals_install(void)
{
	struct sigaction sa;

	if (pipe_fds[0] >= 0)
		return pipe_fds[0];
	/* pipe() + fcntl() rather than Linux's pipe2(), so this builds on macOS too. */
	if (pipe(pipe_fds) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(pipe_fds[i], F_SETFL, fcntl(pipe_fds[i], F_GETFL) | O_NONBLOCK);
		fcntl(pipe_fds[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND | SA_RESTART;
	for (size_t i = 0; i < N_SIGNALS; i++) {
		struct sigaction old;

		/* `nohup devkit ...` ignores SIGHUP so the tunnel outlives the
		 * terminal: keep it that way. SIGINT is handled even if inherited as
		 * ignored (shells do that to background jobs), because scripts stop
		 * the tunnel with `kill -INT` as well as with `kill`. */
		if (shutdown_signals[i] == SIGHUP && sigaction(SIGHUP, NULL, &old) == 0
			&& old.sa_handler == SIG_IGN)
			continue;
		if (sigaction(shutdown_signals[i], &sa, NULL) != 0)
			return -1;
	}
	return pipe_fds[0];
}

int cli_signal_caught(void)
{
	return caught;
}
