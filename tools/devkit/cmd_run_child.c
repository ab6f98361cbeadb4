/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running CMD: spawn it, pass the shutdown signals on, wait for it while the
 * library's events (the tunnel reconnecting, going down) are reported.
 *
 * devkit stays in CMD's process group, so CMD keeps the terminal (an
 * interactive program can read from it). A Ctrl-C typed there already reaches
 * CMD from the kernel; forwarding it too would deliver it twice, so signals
 * the terminal generated (si_code SI_KERNEL) are not passed on, only those
 * sent to devkit by a process (kill, a supervisor, an IDE's stop button).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli_signal.h"
#include "cmd_run.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
#define N_FORWARDED (sizeof(forwarded) / sizeof(forwarded[0]))

static volatile sig_atomic_t child_pid;
static int wake[2] = { -1, -1 };
static int inherited_ignored[N_FORWARDED]; /* nohup, `cmd &` in a script */
static int sigpipe_was_default;

static void on_signal(int sig, siginfo_t *si, void *uc)
{
	int saved = errno;
	char byte = (char)sig;

	(void)uc;
	if (sig != SIGCHLD && child_pid > 0 && !(si && si->si_code == SI_KERNEL))
		kill((pid_t)child_pid, sig);
	/* Non-blocking: if the pipe is full, a wake-up is pending anyway. */
	if (write(wake[1], &byte, 1) < 0) {
		/* nothing to do in a signal handler */
	}
	errno = saved;
}

void run_signals_prepare(void)
{
	struct sigaction old;

	for (size_t i = 0; i < N_FORWARDED; i++)
		inherited_ignored[i] = sigaction(forwarded[i], NULL, &old) == 0
			&& old.sa_handler == SIG_IGN;
	sigpipe_was_default = sigaction(SIGPIPE, NULL, &old) == 0 && old.sa_handler == SIG_DFL;
	/* A closed stderr must give EPIPE, not kill us while CMD still runs. */
	cli_signals_ignore_sigpipe();
}

static void fill_set(sigset_t *set)
{
	sigemptyset(set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(set, forwarded[i]);
	sigaddset(set, SIGCHLD);
}

void run_signals_block(sigset_t *old_mask)
{
	sigset_t set;

	fill_set(&set);
	pthread_sigmask(SIG_BLOCK, &set, old_mask);
}

void run_signals_restore(const sigset_t *old_mask)
{
	pthread_sigmask(SIG_SETMASK, old_mask, NULL);
}

static int install_handlers(void)
{
	struct sigaction sa;

	if (pipe(wake) != 0)
		return -1;
	for (int i = 0; i < 2; i++) {
		fcntl(wake[i], F_SETFL, fcntl(wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(wake[i], F_SETFD, FD_CLOEXEC);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESETHAND: devkit must outlive CMD to close the tunnel, however
	 * many times the user presses Ctrl-C. */
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_NOCLDSTOP;
	for (size_t i = 0; i < N_FORWARDED; i++) {
		/* An ignored signal stays ignored, for CMD too (exec keeps it). */
		if (!inherited_ignored[i] && sigaction(forwarded[i], &sa, NULL) != 0)
			return -1;
	}
	return sigaction(SIGCHLD, &sa, NULL);
}

/* CMD starts with the signal dispositions devkit itself was given. */
static int spawn_attr(posix_spawnattr_t *attr)
{
	sigset_t none, defaults;

	sigemptyset(&none);
	sigemptyset(&defaults);
	for (size_t i = 0; i < N_FORWARDED; i++) {
		if (!inherited_ignored[i])
			sigaddset(&defaults, forwarded[i]);
	}
	sigaddset(&defaults, SIGCHLD);
	if (sigpipe_was_default)
		sigaddset(&defaults, SIGPIPE);
	if (posix_spawnattr_init(attr) != 0)
		return -1;
	if (posix_spawnattr_setsigmask(attr, &none) != 0
		|| posix_spawnattr_setsigdefault(attr, &defaults) != 0
		|| posix_spawnattr_setflags(attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0) {
		posix_spawnattr_destroy(attr);
		return -1;
	}
	return 0;
}

int run_spawn(struct run_cli *t)
{
	posix_spawnattr_t attr;
	sigset_t old_mask;
	pid_t pid;
	int rc;

	/* Blocked from before the spawn until child_pid is set, so a signal in
	 * between is forwarded rather than lost; CMD gets an empty mask. */
	run_signals_block(&old_mask);
	if (install_handlers() != 0 || spawn_attr(&attr) != 0) {
		run_signals_restore(&old_mask);
		cli_errorf("preparing to run %s: %s", t->cmd[0], strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	rc = posix_spawnp(&pid, t->cmd[0], NULL, &attr, t->cmd, t->envp);
	posix_spawnattr_destroy(&attr);
	if (rc == 0) {
		child_pid = pid;
		t->child = pid;
	}
	run_signals_restore(&old_mask);
	if (rc != 0) {
		cli_errorf("cannot run %s: %s", t->cmd[0], strerror(rc));
		/* The shell's statuses: 127 not found, 126 found but not runnable. */
		return rc == ENOENT ? 127 : 126;
	}
	return 0;
}

/* Report queued library events (bounded, so a flood cannot delay the wait). */
static int drain_events(struct run_cli *t)
{
	devkit_event ev;
	int n = 0;

	/* No engine with --control: the running tunnel reports its own events. */
	while (t->ctx && n < 256 && devkit_ctx_poll(t->ctx, &ev, 0) == 1) {
		run_report_event(t, &ev);
		n++;
	}
	return n;
}

int run_wait(struct run_cli *t)
{
	int event_fd = t->ctx ? devkit_ctx_event_fd(t->ctx) : -1;
	int idle_wakeups = 0;

	for (;;) {
		struct pollfd fds[2] = { { wake[0], POLLIN, 0 }, { event_fd, POLLIN, 0 } };
		int status;
		pid_t got = waitpid(t->child, &status, WNOHANG);
		char buf[64];

		if (got == t->child) {
			int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
			int result = sig ? 128 + sig : code;

			child_pid = 0;
			drain_events(t);
			run_report_exit(t, result, code, sig);
			return result;
		}
		if (got < 0 && errno != EINTR) {
			cli_errorf("waiting for %s: %s", t->cmd[0], strerror(errno));
			return CLI_EXIT_FAILURE;
		}
		/* The timeout only backs up SIGCHLD and the event fd, in case
		 * either is missed; it is not how exits are normally noticed. */
		if (poll(fds, event_fd >= 0 ? 2 : 1, event_fd >= 0 ? 1000 : 100) <= 0)
			fds[0].revents = fds[1].revents = 0;
		if (fds[0].revents & POLLIN) {
			while (read(wake[0], buf, sizeof(buf)) > 0) {
				/* drained */
			}
		}
		/* An event fd that stays readable with nothing queued would spin
		 * this loop: after a few such wake-ups, poll the queue on a timer. */
		if (drain_events(t) == 0 && event_fd >= 0 && (fds[1].revents & POLLIN)) {
			if (++idle_wakeups >= 8)
				event_fd = -1;
		} else {
			idle_wakeups = 0;
		}
	}
}
