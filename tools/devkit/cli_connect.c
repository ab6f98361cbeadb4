/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_connect.h"

#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli_signal.h"

void cli_connect_init(struct cli_connect *c)
{
	memset(c, 0, sizeof(*c));
	c->reconnect = 1;
	c->use_agent = 1;
}

/* The table subcommands use, so the names cannot drift from the flags. */
static const struct option connect_options[] = { CLI_CONNECT_LONG_OPTIONS, { NULL, 0, NULL, 0 } };

const char *cli_connect_option_name(int opt)
{
	for (const struct option *o = connect_options; o->name; o++) {
		if (o->val == opt)
			return o->name;
	}
	return NULL;
}

int cli_set_once(const char **slot, const char *value, const char *command, const char *name)
{
	if (*slot)
		return cli_usage(command, "%s given more than once", name);
	*slot = value;
	return 0;
}

int cli_connect_option(struct cli_connect *c, const char *command, int opt, const char *arg)
{
	char err[256];

	switch (opt) {
	case 'b': return cli_set_once(&c->bastion, arg, command, "--bastion");
	case 'i': return cli_set_once(&c->identity, arg, command, "--identity");
	case CLI_CONNECT_OPT_PASSPHRASE_ENV:
		return cli_set_once(&c->passphrase_env, arg, command, "--passphrase-env");
	case CLI_CONNECT_OPT_PASSWORD_ENV:
		return cli_set_once(&c->password_env, arg, command, "--password-env");
	case CLI_CONNECT_OPT_NO_AGENT: c->use_agent = 0; return 0;
	case CLI_CONNECT_OPT_KNOWN_HOSTS:
		return cli_set_once(&c->known_hosts, arg, command, "--known-hosts");
	case CLI_CONNECT_OPT_ACCEPT_NEW: c->accept_new = 1; return 0;
	case CLI_CONNECT_OPT_HOST_KEY: return cli_set_once(&c->host_key, arg, command, "--host-key");
	case CLI_CONNECT_OPT_CIPHERS: return cli_set_once(&c->ciphers, arg, command, "--ciphers");
	case CLI_CONNECT_OPT_MACS: return cli_set_once(&c->macs, arg, command, "--macs");
	case CLI_CONNECT_OPT_KEX: return cli_set_once(&c->kex, arg, command, "--kex");
	case CLI_CONNECT_OPT_CONNECT_TIMEOUT: {
		double s;

		if (cli_parse_seconds(arg, &s, err, sizeof(err)) != 0 || s > 3600.0)
			return cli_usage(command, "--connect-timeout: '%s' is not a number of "
				"seconds between 0 and 3600", arg);
		c->connect_timeout_ms = s * 1000.0 < 1.0 ? 1 : (int)(s * 1000.0);
		return 0;
	}
	case CLI_CONNECT_OPT_NO_RECONNECT: c->reconnect = 0; return 0;
	case 'v': c->verbosity = c->verbosity < 0 ? 1 : c->verbosity + 1; return 0;
	case 'q': c->verbosity = -1; return 0;
	default: return CLI_CONNECT_NOT_MINE;
	}
}

int cli_getopt_error(const char *command, int c, char **argv)
{
	if (c == ':')
		return cli_usage(command, "option '%s' needs a value", argv[optind - 1]);
	/* optopt is the letter of an unknown short option; for a long one
	 * (unknown, or given a value it does not take) the text says more. */
	if (optopt > 0 && optopt < 128 && isalnum(optopt))
		return cli_usage(command, "unknown option '-%c'", optopt);
	if (optopt && strncmp(argv[optind - 1], "--", 2) == 0 && strchr(argv[optind - 1], '='))
		return cli_usage(command, "option '%.*s' takes no value",
			(int)strcspn(argv[optind - 1], "="), argv[optind - 1]);
	return cli_usage(command, "unknown or malformed option '%s'", argv[optind - 1]);
}

int cli_connect_check(const struct cli_connect *c, const char *command)
{
	if (!c->bastion || !*c->bastion)
		return cli_usage(command, "--bastion [USER@]HOST[:PORT] is required");
	if (c->host_key && strncmp(c->host_key, "SHA256:", 7) != 0)
		return cli_usage(command, "--host-key: expected SHA256:<base64>, as "
			"`ssh-keygen -lf` prints it");
	if (c->host_key && c->accept_new)
		return cli_usage(command, "--host-key and --accept-new exclude each other: "
			"a pinned key alone decides");
	return 0;
}

static int read_secret(const char *command, const char *var, const char *flag, const char **out)
{
	char err[256];

	if (!var)
		return 0;
	if (cli_secret_from_env(var, out, err, sizeof(err)) != 0)
		return cli_usage(command, "%s: %s", flag, err);
	return 0;
}

int cli_connect_read_secrets(struct cli_connect *c, const char *command)
{
	int rc;

	if ((rc = read_secret(command, c->password_env, "--password-env", &c->password)) != 0)
		return rc;
	return read_secret(command, c->passphrase_env, "--passphrase-env", &c->passphrase);
}

static void on_log(devkit_log_level level, const char *message, void *payload)
{
	static const char *const names[] = { "error", "warning", "info", "debug", "trace" };
	const char *name = (unsigned)level < sizeof(names) / sizeof(names[0]) ? names[level] : "log";
	char line[2048];

	(void)payload;
	/* Runs on the library's I/O thread: one fprintf, which locks stderr, and
	 * nothing that calls back into the library. */
	snprintf(line, sizeof(line), "%s", message ? message : "");
	fprintf(stderr, "devkit: %s: %s\n", name, cli_printable(line));
}

int cli_connect_new_ctx(const struct cli_connect *c, devkit_ctx **out)
{
	devkit_ctx_options opts;
	sigset_t old_mask;
	int rc;

	*out = NULL;
	if ((rc = devkit_ctx_options_init(&opts, DEVKIT_CTX_OPTIONS_VERSION)) != 0)
		return rc;
	if (c->verbosity >= 0) {
		static const devkit_log_level levels[] = { DEVKIT_LOG_WARN, DEVKIT_LOG_INFO,
			DEVKIT_LOG_DEBUG, DEVKIT_LOG_TRACE };

		opts.log_level = levels[c->verbosity > 3 ? 3 : c->verbosity];
		opts.log_cb = on_log;
	}
	/* The I/O thread starts with the shutdown signals blocked, so they always
	 * reach the main thread and its handler. */
	cli_signals_block(&old_mask);
	rc = devkit_ctx_new(out, &opts);
	cli_signals_restore(&old_mask);
	if (rc != 0)
		*out = NULL;
	return rc;
}

int cli_connect_open(const struct cli_connect *c, devkit_ctx *ctx, devkit_tunnel **out)
{
	devkit_tunnel_options opts;
	int rc;

	*out = NULL;
	if ((rc = devkit_tunnel_options_init(&opts, DEVKIT_TUNNEL_OPTIONS_VERSION)) != 0)
		return rc;
	opts.bastion = c->bastion;
	opts.identity_file = c->identity;
	opts.identity_passphrase = c->passphrase;
	opts.password = c->password;
	opts.use_agent = c->use_agent;
	opts.known_hosts_file = c->known_hosts;
	opts.host_key_policy = c->accept_new ? DEVKIT_HOST_KEY_ACCEPT_NEW : DEVKIT_HOST_KEY_STRICT;
	opts.host_key_sha256 = c->host_key;
	opts.ciphers = c->ciphers;
	opts.macs = c->macs;
	opts.kex = c->kex;
	if (c->connect_timeout_ms > 0)
		opts.connect_timeout_ms = c->connect_timeout_ms;
	opts.reconnect = c->reconnect;
	rc = devkit_tunnel_open(out, ctx, &opts);
	if (rc != 0)
		*out = NULL;
	return rc;
}
