/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The audited shell's parts (devkit_shell_* in live.h): the script that
 * starts a reporting shell in the container (shell_script.c), the audit
 * record as a JSON line and as a core/v1 Event (shell_record.c), and the
 * Events sent without holding up the terminal (shell_events.c). The
 * session itself is shell.c; the marker filter and the line editor are
 * shell_audit.h.
 */
#ifndef DEVKIT_LIVE_SHELL_INT_H
#define DEVKIT_LIVE_SHELL_INT_H

#include <stdint.h>

#include "core/bytes.h"
#include "devkit/live.h"

/* --- the start script ------------------------------------------------------------- */

/*
 * The exec command (run as `sh -c`): turns the terminal's echo off, prints
 * the r marker and reads the setup script (devkit__shell_script) from the
 * terminal up to a line ".", then runs it. The setup does not go in the
 * exec request itself: its URL would be too long for API servers and the
 * proxies in front of them (a few KiB). NULL when out of memory.
 */
char *devkit__shell_boot(const char *key);

/* The line that ends the setup script sent to devkit__shell_boot's reader. */
#define DEVKIT__SHELL_SETUP_END ".\n"

/*
 * The setup: `sh` text that execs the shell set up to print the markers of
 * shell_audit.h with this session's key. shell NULL: bash when
 * `command -v bash` finds it, else sh; a name or path whose last part is
 * "bash": bash; anything else is started as a POSIX sh (`SHELL -i`, with
 * $ENV). Each shell's own start-up files are still read (~/.bashrc, the
 * user's $ENV); the setup is a here-document read through /dev/fd/3, so no
 * file is left in the container. NULL when out of memory.
 */
char *devkit__shell_script(const char *shell, const char *key);

/* A usable shell option: a program name or path of [A-Za-z0-9_./+-]. */
int devkit__shell_name_ok(const char *shell);

/* --- the record ----------------------------------------------------------------- */

typedef struct devkit__shell_record {
	int64_t time_ms;        /* the command line was submitted (Unix ms) */
	int64_t end_time_ms;    /* it ended; 0: not known (null) */
	const char *user;
	const char *namespace_name;
	const char *pod;
	const char *container;  /* NULL: not known (null) */
	const char *command;    /* any bytes; NULL: not known (null) */
	size_t command_len;
	int exit_status;        /* -1: not known (null) */
} devkit__shell_record;

/* "2026-11-25T10:00:00.123Z" */
void devkit__shell_time(int64_t ms, char out[32]);

/* The JSON line for the audit log, '\n' included; bytes that are not
 * UTF-8 become U+FFFD. NULL when out of memory. Caller frees. */
char *devkit__shell_record_json(const devkit__shell_record *r);

/* "USER ran: COMMAND (exit N)", at most DEVKIT__SHELL_EVENT_MESSAGE_MAX
 * bytes (the command is cut, on a character boundary, with "..."). */
#define DEVKIT__SHELL_EVENT_MESSAGE_MAX 1024
char *devkit__shell_event_message(const devkit__shell_record *r);

/* The core/v1 Event about the Pod (reason DevkitShellCommand, source
 * devkit-shell), named `name`; pod_uid may be NULL. Caller frees. */
char *devkit__shell_event_json(const devkit__shell_record *r, const char *name,
	const char *pod_uid);

/* Valid UTF-8 of any bytes (U+FFFD for each bad one) appended to out.
 * 0 or DEVKIT_ENOMEM. */
int devkit__shell_utf8_clean(const char *in, size_t len, devkit__bytes *out);

/* --- Events --------------------------------------------------------------------- */

typedef struct devkit__shell_events devkit__shell_events;

/* For one session: POSTs go to namespace ns of k8s; `what` names the
 * session in log lines. NULL when out of memory. */
devkit__shell_events *devkit__shell_events_new(devkit_k8s *k8s, const char *ns,
	const char *what);

/* Send an Event (body: devkit__shell_event_json) and return at once; a
 * failure is logged (the first at WARN, later ones at DEBUG), never fatal. */
void devkit__shell_events_post(devkit__shell_events *ev, char *body);

/* Wait up to timeout_ms for the Events in flight, then let go (those still
 * in flight finish on their own). Accepts NULL. */
void devkit__shell_events_free(devkit__shell_events *ev, unsigned int timeout_ms);

#endif
