/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Status output shared by the subcommands that report a tunnel: `devkit
 * tunnel` and `devkit expose` print the same timestamped lines for the same
 * tunnel events, and `devkit run` shows the same "session" object in JSON.
 *
 * Why one file: these helpers were copied into cmd_tunnel_report.c and
 * cmd_expose_report.c, and a fix to one copy (a repeated state name, text from
 * the network reaching the terminal) has to reach every subcommand, so each
 * now lives here once. What only one subcommand says stays in its own
 * cmd_*_report.c.
 */
#ifndef DEVKIT_CLI_REPORT_H
#define DEVKIT_CLI_REPORT_H

#include <stddef.h>

#include <devkit.h>

#include "cli_json.h"

/* `name`, or "unknown" for NULL (the library's name functions return NULL
 * for values they do not know). */
const char *cli_or_unknown(const char *name);

/* "SIGINT", "SIGTERM" or "SIGHUP", the shutdown signals cli_signal.h catches;
 * "signal" for any other. */
const char *cli_signal_name(int sig);

/* "HH:MM:SS message" on stdout, made printable and flushed; 0, or -1 if
 * stdout is gone. A longer message is cut at 1023 bytes. */
int cli_say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * `message` without a leading "<state>" or "<state>: ", which a status line
 * that names the state already says ("tunnel closed: closed" reads badly).
 * JSON keeps the message exactly as the library wrote it.
 */
const char *cli_without_state_prefix(const char *message, const char *state);

/*
 * The tunnel's devkit_tunnel_describe() "key=value" lines as a "session"
 * object in the object being built: the keys are whatever the library reports
 * (cipher, host key fingerprint, user...), passed through rather than
 * guessed. Nothing is added when `tunnel` is NULL or has no description.
 */
void cli_json_session(cli_json *j, devkit_tunnel *tunnel);

/* "tunnel up: BASTION (user=..., cipher=..., ...)" with cli_say(). */
int cli_say_tunnel_up(const char *bastion, devkit_tunnel *tunnel);

/*
 * ": message (error text)" for an event's status line, each part only when
 * present, into `why`; a tunnel-state event's message loses its leading state
 * name (cli_without_state_prefix). Returns why ("" when there is nothing).
 */
const char *cli_event_why(const devkit_event *ev, char *why, size_t size);

/*
 * The status line of an event that `devkit tunnel` and `devkit expose` word
 * alike: a tunnel state, dropped events, and any event type a subcommand has
 * no wording of its own for. `why` is from cli_event_why().
 */
int cli_say_event(const devkit_event *ev, const char *why);

/* "socks", "local" or "remote" for a devkit_forward_kind, as the JSON output
 * and the configuration file (forwards[].kind) name them; "unknown" else. */
const char *cli_forward_kind_name(int kind);

/*
 * The one-line picture of a forward, "local  127.0.0.1:8080 -> db:5432, as
 * seen from the bastion", into `buf`: `devkit tunnel` and `devkit up` describe
 * forwards alike. `target_host` is unused for a SOCKS forward. Returns buf.
 */
const char *cli_describe_forward(char *buf, size_t size, int kind, const char *address, int port,
	const char *target_host, int target_port);

/* 1536 -> "1.5 KiB": counters are read by people in human mode. Returns buf. */
const char *cli_human_bytes(uint64_t n, char *buf, size_t size);

#endif
