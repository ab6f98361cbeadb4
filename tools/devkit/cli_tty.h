/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A remote terminal on the user's: the relay between this process's stdin
 * and stdout and an interactive session running on a terminal in a
 * container -- an exec session with tty (devkit_exec: `devkit arthas`) or
 * the audited shell (devkit_shell: `devkit shell`), both behind the small
 * cli_tty_session interface.
 *
 * While it relays, a local terminal is in raw mode: every key goes to the
 * remote as typed (Ctrl-C interrupts the remote command, not devkit; Ctrl-D
 * is the remote's end of input), and the remote terminal's size follows the
 * local one (SIGWINCH). The local terminal is restored before
 * cli_tty_relay returns, whatever ends it. Without a terminal (stdin a pipe
 * or a file) the bytes are passed as they are; at stdin's end the session
 * is told (close_input) and the relay goes on until the remote ends.
 */
#ifndef DEVKIT_CLI_TTY_H
#define DEVKIT_CLI_TTY_H

#include <stddef.h>

#include <devkit.h>

typedef struct cli_tty_session {
	void *handle;
	/* Keystrokes to the remote: 0 or a library error. */
	int (*write)(void *handle, const void *data, size_t len);
	/* Output for the user's terminal: bytes (> 0) in a new *out, 0 once the
	 * remote ended, DEVKIT_ETIMEOUT when nothing came in timeout_ms, or a
	 * library error. */
	int (*read)(void *handle, devkit_buf *out, int timeout_ms);
	/* The remote terminal's size; may be NULL. */
	int (*resize)(void *handle, int cols, int rows);
	/* No more input (stdin ended); may be NULL. */
	int (*close_input)(void *handle);
} cli_tty_session;

/* The session of an exec started with tty and stdin_enabled (exec.h). */
void cli_tty_exec_session(cli_tty_session *s, devkit_exec *e);

/* The size of the terminal on fd: 0, or -1 when fd is not a terminal. */
int cli_tty_size(int fd, int *cols, int *rows);

/* cli_tty_relay's answers besides the library's errors (< 0). */
#define CLI_TTY_ENDED 0      /* the remote ended: ask it for its exit status */
#define CLI_TTY_SIGNALLED 1  /* SIGINT/SIGTERM/SIGHUP to devkit (cli_signal.h) */

/*
 * Relay until the remote ends, a shutdown signal arrives (cli_signal.h's
 * handlers are installed here) or the session fails. The first size is
 * sent before the first byte. Call from the main thread; it starts one
 * thread of its own for stdin and joins it before returning.
 */
int cli_tty_relay(const cli_tty_session *s);

#endif
