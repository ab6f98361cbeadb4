/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Helpers shared by every subcommand of the devkit CLI: messages and exit
 * codes, strict number/port parsing, [ADDR:]PORT and -L/-R spec parsing,
 * secrets from the environment, turning a library failure into one line.
 *
 * Parsers never print: they fill a caller-supplied `err` buffer, so the
 * subcommand decides how to report (plain text, JSON, usage hint).
 */
#ifndef DEVKIT_CLI_UTIL_H
#define DEVKIT_CLI_UTIL_H

#include <stddef.h>
#include <stdio.h>

/* Exit statuses, the same for every subcommand (documented in docs/cli.md). */
#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1
#define CLI_EXIT_USAGE 2

/* Longest host name or address accepted in a spec (DNS names are <= 253). */
#define CLI_HOST_MAX 256

/*
 * Replace control characters with spaces, in place; returns text. Messages can
 * carry text from the network: a newline would break the one-line-per-status
 * shape and an ESC could drive the user's terminal.
 */
char *cli_printable(char *text);

/* "devkit: <message>\n" on stderr, made printable. */
void cli_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * A usage error: "devkit: <message>" then "Try 'devkit <command> --help'." on
 * stderr. Returns CLI_EXIT_USAGE so callers can `return cli_usage(...)`.
 */
int cli_usage(const char *command, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * The text of the library's last error on this thread, or devkit_strerror(rc)
 * when the library left none. Copied into `buf` at once, because the pointer
 * devkit_error_last() returns dies at the next library call.
 */
void cli_lib_error_text(int rc, char *buf, size_t size);

/* A port 0..65535 (or min..65535), decimal digits only. 0 on success. */
int cli_parse_port(const char *text, int min, int *out, char *err, size_t errsize);

/* A positive number of seconds, fractions allowed ("0.5"). 0 on success. */
int cli_parse_seconds(const char *text, double *out, char *err, size_t errsize);

/* A listening address: "PORT", "ADDR:PORT" or "[IPV6]:PORT". An empty address
 * means "the library's default" (loopback). */
typedef struct cli_listen_spec {
	char address[CLI_HOST_MAX]; /* without brackets; "" for the default */
	int port;                   /* 0..65535; 0 lets the system choose */
} cli_listen_spec;

int cli_parse_listen(const char *text, cli_listen_spec *out, char *err, size_t errsize);

/* A forward spec as ssh writes it: "[ADDR:]PORT:HOST:HOSTPORT", where any
 * address or host may be a bracketed IPv6 literal. */
typedef struct cli_forward_spec {
	cli_listen_spec listen;
	char target_host[CLI_HOST_MAX]; /* without brackets, never empty */
	int target_port;                /* 1..65535 */
} cli_forward_spec;

int cli_parse_forward(const char *text, cli_forward_spec *out, char *err, size_t errsize);

/* "host:port", or "[v6]:port" when host holds a ':'. Returns buf. */
const char *cli_format_hostport(char *buf, size_t size, const char *host, int port);

/*
 * Read a secret from environment variable `var`. Secrets are never taken from
 * argv (visible in ps and shell history). Fails if the variable is unset.
 * The returned pointer is the environment's; do not free it.
 */
int cli_secret_from_env(const char *var, const char **out, char *err, size_t errsize);

struct cli_json;
typedef struct devkit_event devkit_event;
/* An event's fields after "event", "tunnel" and "forward", the same in every
 * subcommand's JSON output: state, attempt or dropped, address and port,
 * error, message. */
void cli_json_event_fields(struct cli_json *j, const devkit_event *ev);

/*
 * Report a failed library call the same way in every subcommand: one line on
 * stderr ("devkit: CONTEXT: why"), and with `json` also an "error" event on
 * `json_to`. Reads the library's last error first, before any other call
 * replaces it. `context` may be NULL.
 */
void cli_report_error(struct cli_json *out, int json, FILE *json_to, const char *context, int rc);

/* Monotonic clock in milliseconds, for timers that must survive clock changes. */
long long cli_now_ms(void);

#endif
