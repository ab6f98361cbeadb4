/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signal handling for long-running subcommands: SIGINT, SIGTERM and SIGHUP ask
 * for a clean shutdown through a self-pipe, so a poll() loop wakes at once
 * instead of noticing a flag at its next timeout.
 *
 * A second signal of the same kind gets the default action (SA_RESETHAND): if a
 * clean close ever hangs, pressing Ctrl-C again still ends the process.
 * An inherited "ignore SIGHUP" (nohup) is respected.
 */
#ifndef DEVKIT_CLI_SIGNAL_H
#define DEVKIT_CLI_SIGNAL_H

#include <signal.h>

/*
 * Block the shutdown signals in the calling thread and return the previous
 * mask. Call before creating library threads (devkit_ctx_new) and restore
 * right after: threads inherit the mask, so every signal lands on the main
 * thread and never interrupts the library's I/O thread.
 */
void cli_signals_block(sigset_t *old_mask);
void cli_signals_restore(const sigset_t *old_mask);

/* Ignore SIGPIPE: a closed stdout or socket must give EPIPE, not kill us. */
void cli_signals_ignore_sigpipe(void);

/* Install the handlers. Returns the read end of the self-pipe (readable once a
 * signal arrived), or -1 with errno set. */
int cli_signals_install(void);

/* The first shutdown signal caught (SIGINT, ...), or 0. */
int cli_signal_caught(void);

#endif
