/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit expose` options: the help text, the getopt table and every check
 * that needs no network, so that a mistyped flag exits 2 before the bastion
 * or the registry hears from us. The library checks the same things again;
 * doing it here too is what lets the message name the flag.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cmd_expose.h"

#define CMD "expose"

static const char expose_help[] =
	"Usage: devkit expose --bastion [USER@]HOST[:PORT] --local HOST:PORT\n"
	"                     --registry URL --service NAME [options]\n"
	"\n"
	"Make a service on this machine callable from the cloud: the bastion listens\n"
	"on a port that leads back here (a reverse forward), and the service is\n"
	"registered in the cloud's registry under the bastion's address and that\n"
	"port, kept alive by heartbeats. A registry that does not answer yet is\n"
	"retried until it does. On Ctrl-C, SIGTERM or SIGHUP the entry is removed\n"
	"from the registry, then the forward, and devkit exits 0.\n"
	"\n"
	CLI_CONNECT_HELP
	"      --no-reconnect      when the session is lost, exit with status 1\n"
	"                          instead of reconnecting\n"
	"\n"
	"What to expose:\n"
	"      --local HOST:PORT   the local service (required; IPv6 in brackets;\n"
	"                          a bare PORT means 127.0.0.1:PORT)\n"
	"      --remote-port PORT  the port on the bastion (default 0: it chooses)\n"
	"      --remote-bind ADDR  the address on the bastion (default 0.0.0.0; sshd\n"
	"                          binds only loopback unless GatewayPorts allows)\n"
	"      --advertise HOST    the bastion's address as cloud callers reach it\n"
	"                          (default: the bastion's host name)\n"
	"\n"
	"The registry entry:\n"
	"      --registry URL      the registry (required): nacos://, eureka://,\n"
	"                          consul://, etcd:// (each also +https, e.g.\n"
	"                          etcd+https://) or zookeeper://; settings go in\n"
	"                          the query, e.g. etcd://10.0.0.5:2379?format=kratos\n"
	"      --service NAME      the service name callers look up (required)\n"
	"      --protocol dubbo|http  what the service speaks (default http)\n"
	"      --interface NAME    Dubbo interface (default: the service name) ...\n"
	"      --methods a,b       ... and its methods; both need --protocol dubbo or\n"
	"                          a zookeeper:// registry\n"
	"      --meta KEY=VALUE    metadata on the entry (repeatable)\n"
	"      --tag T             traffic tag: only callers routing on T reach it\n"
	"      --ttl SECONDS       how long the registry keeps the entry without\n"
	"                          heartbeats (default: the registry's usual value)\n"
	"      --heartbeat SECONDS heartbeat period (default: a third of the TTL)\n"
	"      --registry-direct   connect to the registry from this machine instead\n"
	"                          of through the bastion (the default)\n"
	"      --registry-user USER  registry login (Nacos, Eureka, etcd) ...\n"
	"      --registry-password-env VAR\n"
	"                          ... with the password from environment VAR\n"
	"      --registry-token-env VAR\n"
	"                          an access token (Consul ACL, Nacos) from VAR\n"
	"      --registry-ca FILE  CA bundle for a +https registry (default: the\n"
	"                          system's)\n"
	"\n"
	"Output:\n"
	"      --json              one JSON object per line on stdout;\n"
	"                          {\"event\":\"ready\",...} once registered\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Status lines (or JSON events) go to stdout; errors and log lines go to\n"
	"stderr. Passwords and tokens are read only from environment variables,\n"
	"never from the command line, and are never printed.\n"
	"\n"
	"Exit status: 0 after deregistering on a signal; 1 when the tunnel or the\n"
	"forward cannot start, the registry refuses the entry for good (bad\n"
	"credentials, wrong URL), the tunnel goes down for good, or the entry could\n"
	"not be removed on close (it then expires after its TTL); 2 on a usage error.\n"
	"\n"
	"Example:\n"
	"  devkit expose --bastion dev@bastion.example.com --local 127.0.0.1:8080 \\\n"
	"      --registry etcd://10.0.0.5:2379 --service orders --advertise 10.0.0.1 \\\n"
	"      --remote-port 41234 --meta version=2 --tag alice\n";

enum {
	OPT_LOCAL = CLI_CONNECT_OPT_END,
	OPT_REGISTRY,
	OPT_SERVICE,
	OPT_PROTOCOL,
	OPT_INTERFACE,
	OPT_METHODS,
	OPT_META,
	OPT_TAG,
	OPT_ADVERTISE,
	OPT_REMOTE_PORT,
	OPT_REMOTE_BIND,
	OPT_REGISTRY_DIRECT,
	OPT_TTL,
	OPT_HEARTBEAT,
	OPT_REGISTRY_USER,
	OPT_REGISTRY_PASSWORD_ENV,
	OPT_REGISTRY_TOKEN_ENV,
	OPT_REGISTRY_CA,
	OPT_JSON,
};

static const struct option long_options[] = {
	CLI_CONNECT_LONG_OPTIONS,
	{ "local", required_argument, NULL, OPT_LOCAL },
	{ "registry", required_argument, NULL, OPT_REGISTRY },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "protocol", required_argument, NULL, OPT_PROTOCOL },
	{ "interface", required_argument, NULL, OPT_INTERFACE },
	{ "methods", required_argument, NULL, OPT_METHODS },
	{ "meta", required_argument, NULL, OPT_META },
	{ "tag", required_argument, NULL, OPT_TAG },
	{ "advertise", required_argument, NULL, OPT_ADVERTISE },
	{ "remote-port", required_argument, NULL, OPT_REMOTE_PORT },
	{ "remote-bind", required_argument, NULL, OPT_REMOTE_BIND },
	{ "registry-direct", no_argument, NULL, OPT_REGISTRY_DIRECT },
	{ "ttl", required_argument, NULL, OPT_TTL },
	{ "heartbeat", required_argument, NULL, OPT_HEARTBEAT },
	{ "registry-user", required_argument, NULL, OPT_REGISTRY_USER },
	{ "registry-password-env", required_argument, NULL, OPT_REGISTRY_PASSWORD_ENV },
	{ "registry-token-env", required_argument, NULL, OPT_REGISTRY_TOKEN_ENV },
	{ "registry-ca", required_argument, NULL, OPT_REGISTRY_CA },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* A name that ends up in a registry key or a log line: no white space or
 * control characters, which would split or corrupt either. */
static int is_clean(const char *text)
{
	if (!*text)
		return 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (isspace(*p) || iscntrl(*p))
			return 0;
	}
	return 1;
}

/* A host for --advertise or --remote-bind, copied without brackets. */
static int parse_host(const char *flag, const char *arg, char *out, size_t size)
{
	size_t len = strlen(arg);

	if (len >= 2 && arg[0] == '[' && arg[len - 1] == ']') {
		arg++;
		len -= 2;
	}
	if (len == 0 || len >= size || memchr(arg, '[', len) || memchr(arg, ']', len))
		return cli_usage(CMD, "%s '%s': expected a host name or an address", flag, arg);
	memcpy(out, arg, len);
	out[len] = '\0';
	if (!is_clean(out))
		return cli_usage(CMD, "%s '%s': contains white space or a control character", flag, arg);
	return 0;
}

static int parse_local(struct expose_cli *t, const char *arg)
{
	const char *colon = strrchr(arg, ':');
	char err[256];
	int port;

	if (t->local_arg)
		return cli_usage(CMD, "--local given more than once");
	t->local_arg = arg;
	/* The port first, with the range a service to call has: port 0 picks a
	 * free port for a listener, but nobody could call it. */
	if (cli_parse_port(colon ? colon + 1 : arg, 1, &port, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--local '%s': port: %s", arg, err);
	if (cli_parse_listen(arg, &t->local, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--local '%s': %s", arg, err);
	return 0;
}

/* "k=v" becomes one line of the metadata the library takes. */
static int add_meta(struct expose_cli *t, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t old = t->metadata ? strlen(t->metadata) : 0;
	char *grown;

	if (!eq || eq == arg)
		return cli_usage(CMD, "--meta '%s': expected KEY=VALUE", arg);
	for (const unsigned char *p = (const unsigned char *)arg; *p; p++) {
		if (iscntrl(*p))
			return cli_usage(CMD, "--meta '%s': contains a control character", arg);
	}
	grown = realloc(t->metadata, old + strlen(arg) + 2);
	if (!grown) {
		cli_errorf("out of memory");
		return CLI_EXIT_FAILURE;
	}
	if (old)
		grown[old++] = '\n';
	strcpy(grown + old, arg);
	t->metadata = grown;
	return 0;
}

static int parse_protocol(struct expose_cli *t, const char *arg)
{
	if (strcmp(arg, "http") != 0 && strcmp(arg, "dubbo") != 0)
		return cli_usage(CMD, "--protocol '%s': expected dubbo or http", arg);
	return cli_set_once(&t->protocol, arg, CMD, "--protocol");
}

static int parse_methods(struct expose_cli *t, const char *arg)
{
	/* Names separated by single commas: ",a", "a,,b" and "a b" are typos. */
	if (!is_clean(arg) || arg[0] == ',' || arg[strlen(arg) - 1] == ',' || strstr(arg, ",,"))
		return cli_usage(CMD, "--methods '%s': expected comma-separated method names", arg);
	return cli_set_once(&t->methods, arg, CMD, "--methods");
}

/* Seconds to milliseconds, within [min_s, max_s]. */
static int parse_ms(const char *flag, const char *arg, double min_s, double max_s,
	unsigned int *out)
{
	char err[256];
	double s;

	if (*out)
		return cli_usage(CMD, "%s given more than once", flag);
	if (cli_parse_seconds(arg, &s, err, sizeof(err)) != 0 || s < min_s || s > max_s)
		return cli_usage(CMD, "%s: '%s' is not a number of seconds between %g and %g", flag,
			arg, min_s, max_s);
	*out = (unsigned int)(s * 1000.0 + 0.5);
	return 0;
}

static int parse_remote_port(struct expose_cli *t, const char *arg)
{
	char err[256];
	int rc = cli_set_once(&t->remote_port_arg, arg, CMD, "--remote-port");

	if (rc != 0)
		return rc;
	if (cli_parse_port(arg, 0, &t->remote_port, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--remote-port: %s", err);
	return 0;
}

static int parse_string(const char **slot, const char *flag, const char *arg)
{
	if (!is_clean(arg))
		return cli_usage(CMD, "%s '%s': expected a non-empty value without white space",
			flag, arg);
	return cli_set_once(slot, arg, CMD, flag);
}

/* The options of expose itself: 0, a usage error, or CLI_CONNECT_NOT_MINE. */
static int expose_option(struct expose_cli *t, int c, const char *arg)
{
	int rc;

	switch (c) {
	case OPT_LOCAL: return parse_local(t, arg);
	case OPT_REGISTRY: return cli_set_once(&t->registry, arg, CMD, "--registry");
	case OPT_SERVICE: return parse_string(&t->service, "--service", arg);
	case OPT_PROTOCOL: return parse_protocol(t, arg);
	case OPT_INTERFACE: return parse_string(&t->interface_name, "--interface", arg);
	case OPT_METHODS: return parse_methods(t, arg);
	case OPT_META: return add_meta(t, arg);
	case OPT_TAG: return parse_string(&t->tag, "--tag", arg);
	case OPT_ADVERTISE:
		if ((rc = cli_set_once(&t->advertise_arg, arg, CMD, "--advertise")) != 0)
			return rc;
		return parse_host("--advertise", arg, t->advertise, sizeof(t->advertise));
	case OPT_REMOTE_BIND:
		if ((rc = cli_set_once(&t->remote_bind_arg, arg, CMD, "--remote-bind")) != 0)
			return rc;
		return parse_host("--remote-bind", arg, t->remote_bind, sizeof(t->remote_bind));
	case OPT_REMOTE_PORT: return parse_remote_port(t, arg);
	case OPT_REGISTRY_DIRECT: t->registry_direct = 1; return 0;
	case OPT_TTL: return parse_ms("--ttl", arg, 1.0, 86400.0, &t->ttl_ms);
	case OPT_HEARTBEAT: return parse_ms("--heartbeat", arg, 0.1, 86400.0, &t->heartbeat_ms);
	case OPT_REGISTRY_USER: return parse_string(&t->registry_user, "--registry-user", arg);
	case OPT_REGISTRY_PASSWORD_ENV:
		return cli_set_once(&t->registry_password_env, arg, CMD, "--registry-password-env");
	case OPT_REGISTRY_TOKEN_ENV:
		return cli_set_once(&t->registry_token_env, arg, CMD, "--registry-token-env");
	case OPT_REGISTRY_CA: return cli_set_once(&t->registry_ca, arg, CMD, "--registry-ca");
	case OPT_JSON: t->json = 1; return 0;
	default: return CLI_CONNECT_NOT_MINE;
	}
}

/* The registry names the library knows (src/registry/registration.c). */
static int known_scheme(const char *name, size_t len)
{
	static const char *const names[] = { "nacos", "eureka", "consul", "etcd", "zookeeper", "zk" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strlen(names[i]) == len && strncasecmp(name, names[i], len) == 0)
			return 1;
	}
	return 0;
}

static int is_zookeeper(const char *name, size_t len)
{
	return (len == 9 && strncasecmp(name, "zookeeper", 9) == 0)
		|| (len == 2 && strncasecmp(name, "zk", 2) == 0);
}

/*
 * The shape of --registry: a known scheme, a host, no credentials. The
 * library parses the rest (query settings) once connected; this catches the
 * typos that would otherwise only show after the tunnel is up. The URL is
 * not echoed when it holds "user@": that part is a secret.
 */
static int check_registry_url(const struct expose_cli *t)
{
	const char *url = t->registry, *sep = strstr(url, "://"), *plus;
	size_t scheme_len, name_len, auth_len;
	int https = 0;

	if (!is_clean(url))
		return cli_usage(CMD, "--registry: the URL is empty or contains white space");
	if (!sep || sep == url)
		return cli_usage(CMD, "--registry '%s': expected a URL such as etcd://HOST:2379", url);
	scheme_len = (size_t)(sep - url);
	plus = memchr(url, '+', scheme_len);
	name_len = plus ? (size_t)(plus - url) : scheme_len;
	if (plus) {
		size_t rest = scheme_len - name_len;

		https = rest == 6 && strncasecmp(plus, "+https", 6) == 0;
		if (!https && !(rest == 5 && strncasecmp(plus, "+http", 5) == 0))
			return cli_usage(CMD, "--registry '%s': only +https or +http may follow the "
				"registry's name", url);
	}
	if (!known_scheme(url, name_len))
		return cli_usage(CMD, "--registry '%s': '%.*s' is not one of nacos, eureka, consul, "
			"etcd, zookeeper", url, (int)name_len, url);
	if (https && is_zookeeper(url, name_len))
		return cli_usage(CMD, "--registry '%s': ZooKeeper does not speak HTTPS", url);
	auth_len = strcspn(sep + 3, "/?#");
	if (memchr(sep + 3, '@', auth_len))
		return cli_usage(CMD, "--registry: the URL holds credentials (USER@HOST); give "
			"--registry-user with --registry-password-env, or --registry-token-env, instead");
	if (auth_len == 0)
		return cli_usage(CMD, "--registry '%s': no host", url);
	if (t->registry_ca && !https)
		return cli_usage(CMD, "--registry-ca applies to a +https registry URL, such as "
			"%.*s+https://...", (int)name_len, url);
	return 0;
}

static int check_required(const struct expose_cli *t)
{
	if (!t->local_arg)
		return cli_usage(CMD, "--local HOST:PORT is required: the local service to expose");
	if (!t->registry)
		return cli_usage(CMD, "--registry URL is required, e.g. etcd://HOST:2379");
	if (!t->service)
		return cli_usage(CMD, "--service NAME is required: the name callers look up");
	return 0;
}

/* Combinations of flags, once all are read. */
static int check_combinations(const struct expose_cli *t)
{
	/* For a Dubbo service, or a provider node in ZooKeeper whatever the protocol. */
	int dubbo = (t->protocol && strcmp(t->protocol, "dubbo") == 0) || (t->registry &&
		(strncmp(t->registry, "zookeeper://", 12) == 0 || strncmp(t->registry, "zk://", 5) == 0));

	if ((t->interface_name || t->methods) && !dubbo)
		return cli_usage(CMD, "--%s needs --protocol dubbo or a zookeeper:// registry",
			t->interface_name ? "interface" : "methods");
	if (!t->registry_user != !t->registry_password_env)
		return cli_usage(CMD, "--registry-user and --registry-password-env go together");
	if (t->ttl_ms && t->heartbeat_ms && t->heartbeat_ms >= t->ttl_ms)
		return cli_usage(CMD, "--heartbeat must be shorter than --ttl, or the entry expires "
			"between heartbeats");
	if (t->registry_ca && access(t->registry_ca, R_OK) != 0)
		return cli_usage(CMD, "--registry-ca '%s': cannot read the file", t->registry_ca);
	return 0;
}

static int read_secrets(struct expose_cli *t)
{
	char err[256];
	int rc = cli_connect_read_secrets(&t->conn, CMD);

	if (rc != 0)
		return rc;
	if (t->registry_password_env && cli_secret_from_env(t->registry_password_env,
		&t->registry_password, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--registry-password-env: %s", err);
	if (t->registry_token_env && cli_secret_from_env(t->registry_token_env,
		&t->registry_token, err, sizeof(err)) != 0)
		return cli_usage(CMD, "--registry-token-env: %s", err);
	return 0;
}

int expose_parse_args(struct expose_cli *t, int argc, char **argv)
{
	int c, rc;

	cli_connect_init(&t->conn);
	opterr = 0; /* our own messages, in our own format */
	optind = 1;
	for (;;) {
		/* '+': stop at the first non-option; ':': tell a missing value apart
		 * from an unknown option. */
		c = getopt_long(argc, argv, "+:" CLI_CONNECT_SHORT_OPTIONS "h", long_options, NULL);
		if (c == -1)
			break;
		if (c == 'h') {
			fputs(expose_help, stdout);
			return -1;
		}
		if (c == ':' || c == '?')
			return cli_getopt_error(CMD, c, argv);
		rc = expose_option(t, c, optarg);
		if (rc == CLI_CONNECT_NOT_MINE)
			rc = cli_connect_option(&t->conn, CMD, c, optarg);
		if (rc == CLI_CONNECT_NOT_MINE)
			return cli_getopt_error(CMD, '?', argv);
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage(CMD, "unexpected argument '%s'", argv[optind]);
	if ((rc = cli_connect_check(&t->conn, CMD)) != 0 || (rc = check_required(t)) != 0
		|| (rc = check_registry_url(t)) != 0 || (rc = check_combinations(t)) != 0)
		return rc;
	return read_secrets(t);
}

void expose_fill_options(const struct expose_cli *t, devkit_expose_options *eo,
	devkit_registration_options *ro)
{
	eo->local_host = t->local.address[0] ? t->local.address : "127.0.0.1";
	eo->local_port = t->local.port;
	eo->remote_bind_address = t->remote_bind[0] ? t->remote_bind : NULL;
	eo->remote_port = t->remote_port;
	eo->advertise_host = t->advertise[0] ? t->advertise : NULL;
	eo->registry_via_tunnel = !t->registry_direct;

	ro->registry = t->registry;
	ro->service = t->service;
	ro->metadata = t->metadata;
	ro->tag = t->tag;
	ro->username = t->registry_user;
	ro->password = t->registry_password;
	ro->token = t->registry_token;
	ro->ttl_ms = t->ttl_ms;
	ro->heartbeat_ms = t->heartbeat_ms;
	ro->protocol = t->protocol;
	ro->interface_name = t->interface_name;
	ro->methods = t->methods;
	ro->ca_file = t->registry_ca;
}
