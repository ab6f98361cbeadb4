/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The connection flags shared by every subcommand that opens a tunnel
 * (`devkit tunnel`, `devkit run`): bastion, authentication, host keys,
 * algorithms, timeouts, reconnects and log verbosity. One parser, one help
 * text and one place that turns them into devkit_tunnel_options, so the
 * subcommands cannot drift apart.
 *
 * A subcommand puts CLI_CONNECT_LONG_OPTIONS in its getopt_long table and
 * CLI_CONNECT_SHORT_OPTIONS in its short-option string, hands every option it
 * does not know itself to cli_connect_option(), and calls cli_connect_check()
 * and cli_connect_read_secrets() once the command line is read.
 */
#ifndef DEVKIT_CLI_CONNECT_H
#define DEVKIT_CLI_CONNECT_H

#include <devkit.h>

#include "cli_util.h"

struct cli_connect {
	/* strings are borrowed from argv or the environment */
	const char *bastion;
	const char *identity;
	const char *known_hosts;
	const char *host_key;
	const char *ciphers;
	const char *macs;
	const char *kex;
	const char *password_env;
	const char *passphrase_env;
	const char *password;        /* secrets: never printed */
	const char *passphrase;
	int accept_new;
	int reconnect;
	int use_agent;
	int verbosity;               /* -1 quiet, 0 warnings, 1 info, 2 debug, 3 trace */
	int connect_timeout_ms;      /* 0: the library's default */
};

/* Option codes of the long-only connection flags. Subcommands number their
 * own long-only options from CLI_CONNECT_OPT_END. */
enum {
	CLI_CONNECT_OPT_KNOWN_HOSTS = 256,
	CLI_CONNECT_OPT_ACCEPT_NEW,
	CLI_CONNECT_OPT_HOST_KEY,
	CLI_CONNECT_OPT_PASSWORD_ENV,
	CLI_CONNECT_OPT_PASSPHRASE_ENV,
	CLI_CONNECT_OPT_NO_AGENT,
	CLI_CONNECT_OPT_CIPHERS,
	CLI_CONNECT_OPT_MACS,
	CLI_CONNECT_OPT_KEX,
	CLI_CONNECT_OPT_CONNECT_TIMEOUT,
	CLI_CONNECT_OPT_NO_RECONNECT,
	CLI_CONNECT_OPT_END = 300
};

/* The short connection flags (each taking a value or not, as getopt writes it). */
#define CLI_CONNECT_SHORT_OPTIONS "b:i:vq"

#define CLI_CONNECT_LONG_OPTIONS \
	{ "bastion", required_argument, NULL, 'b' }, \
	{ "identity", required_argument, NULL, 'i' }, \
	{ "passphrase-env", required_argument, NULL, CLI_CONNECT_OPT_PASSPHRASE_ENV }, \
	{ "password-env", required_argument, NULL, CLI_CONNECT_OPT_PASSWORD_ENV }, \
	{ "no-agent", no_argument, NULL, CLI_CONNECT_OPT_NO_AGENT }, \
	{ "known-hosts", required_argument, NULL, CLI_CONNECT_OPT_KNOWN_HOSTS }, \
	{ "accept-new", no_argument, NULL, CLI_CONNECT_OPT_ACCEPT_NEW }, \
	{ "host-key", required_argument, NULL, CLI_CONNECT_OPT_HOST_KEY }, \
	{ "ciphers", required_argument, NULL, CLI_CONNECT_OPT_CIPHERS }, \
	{ "macs", required_argument, NULL, CLI_CONNECT_OPT_MACS }, \
	{ "kex", required_argument, NULL, CLI_CONNECT_OPT_KEX }, \
	{ "connect-timeout", required_argument, NULL, CLI_CONNECT_OPT_CONNECT_TIMEOUT }, \
	{ "no-reconnect", no_argument, NULL, CLI_CONNECT_OPT_NO_RECONNECT }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "quiet", no_argument, NULL, 'q' }

/* The "Bastion and authentication" block of a subcommand's --help (the
 * -v/-q lines belong to each command's "Output" block). A string literal, so
 * it concatenates with the rest of the help text. */
#define CLI_CONNECT_HELP \
	"Bastion and authentication:\n" \
	"  -b, --bastion [USER@]HOST[:PORT]\n" \
	"                          the SSH server to connect to (required; port 22 by\n" \
	"                          default, IPv6 in brackets: root@[::1]:2222)\n" \
	"  -i, --identity FILE     private key file (OpenSSH or PEM format)\n" \
	"      --passphrase-env VAR  read the key's passphrase from environment VAR\n" \
	"      --password-env VAR  read a password from environment VAR, for password\n" \
	"                          and keyboard-interactive authentication\n" \
	"      --no-agent          do not try the keys of ssh-agent (SSH_AUTH_SOCK)\n" \
	"      --known-hosts FILE  OpenSSH known_hosts file (default ~/.ssh/known_hosts)\n" \
	"      --accept-new        accept an unknown host key and add it to the\n" \
	"                          known_hosts file; a changed key is still refused\n" \
	"      --host-key SHA256:BASE64\n" \
	"                          pin the host key fingerprint as `ssh-keygen -lf`\n" \
	"                          prints it; known_hosts is then not consulted\n" \
	"      --ciphers LIST      comma-separated cipher preferences (libssh2 names)\n" \
	"      --macs LIST         comma-separated MAC preferences\n" \
	"      --kex LIST          comma-separated key exchange preferences\n" \
	"      --connect-timeout SECONDS\n" \
	"                          give up connecting after this long (default 15)\n"

#define CLI_CONNECT_VERBOSITY_HELP \
	"  -v, --verbose           library log lines on stderr: -v info, -vv debug,\n" \
	"                          -vvv trace (default: warnings and errors)\n" \
	"  -q, --quiet             no library log lines at all\n"

/* Defaults: reconnect, use the agent. */
void cli_connect_init(struct cli_connect *c);

/* Not a connection flag: the caller handles it. */
#define CLI_CONNECT_NOT_MINE (-1)

/*
 * Handle option `opt` (getopt's return value) with value `arg`. 0 when taken,
 * CLI_EXIT_USAGE after printing a usage error for `command`, or
 * CLI_CONNECT_NOT_MINE.
 */
int cli_connect_option(struct cli_connect *c, const char *command, int opt, const char *arg);

/* "bastion" for 'b', and so on: the long name (without "--") of a connection
 * flag, for messages; NULL if `opt` is not one. */
const char *cli_connect_option_name(int opt);

/* A single-valued option given twice is almost always a mistake in a script;
 * refuse it instead of silently keeping one. 0, or CLI_EXIT_USAGE. */
int cli_set_once(const char **slot, const char *value, const char *command, const char *name);

/* getopt_long returned ':' or '?': print the matching usage error for
 * `command`. Returns CLI_EXIT_USAGE. */
int cli_getopt_error(const char *command, int c, char **argv);

/* The checks that need the whole command line (--bastion present, --host-key
 * well-formed and not with --accept-new). 0 or CLI_EXIT_USAGE. */
int cli_connect_check(const struct cli_connect *c, const char *command);

/* Read --password-env and --passphrase-env from the environment. 0 or
 * CLI_EXIT_USAGE. */
int cli_connect_read_secrets(struct cli_connect *c, const char *command);

/*
 * Create the engine, with the library's log lines on stderr at the chosen
 * verbosity. Its I/O thread starts with the shutdown signals blocked, so they
 * always reach the main thread. On failure returns the library's code and
 * leaves devkit_error_last() for the caller to report.
 */
int cli_connect_new_ctx(const struct cli_connect *c, devkit_ctx **out);

/* Open the tunnel. On failure returns the library's code, *out is NULL and
 * devkit_error_last() says why (it names the bastion). */
int cli_connect_open(const struct cli_connect *c, devkit_ctx *ctx, devkit_tunnel **out);

#endif
