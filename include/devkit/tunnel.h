/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Tunnel sessions: one SSH session to a bastion host carrying every forwarded
 * connection as a channel.
 *
 *   devkit_tunnel_open()          connect, verify the host key, authenticate
 *   devkit_tunnel_add_forward()   local (-L), dynamic (SOCKS5/4/HTTP proxy, -D),
 *                                 or remote (-R) forward
 *   devkit_tunnel_free()          close every forward and the session
 *
 * A tunnel reconnects by itself when the bastion goes away (unless told not to):
 * its state changes are reported as DEVKIT_EVENT_TUNNEL_STATE events, local
 * listeners stay bound meanwhile and remote forwards are requested again.
 *
 * Forwards belong to their tunnel: a devkit_forward pointer is valid until
 * devkit_forward_free() or devkit_tunnel_free(), whichever comes first.
 */
#ifndef DEVKIT_TUNNEL_H
#define DEVKIT_TUNNEL_H

#include "common.h"
#include "ctx.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_tunnel devkit_tunnel;
typedef struct devkit_forward devkit_forward;

typedef enum devkit_host_key_policy {
	DEVKIT_HOST_KEY_STRICT = 0,    /* unknown or changed key: refuse (default) */
	DEVKIT_HOST_KEY_ACCEPT_NEW = 1 /* unknown key: accept and append to known_hosts;
	                                  changed key: still refuse */
} devkit_host_key_policy;

typedef struct devkit_tunnel_options {
	unsigned int version;
	/** "[user@]host[:port]"; IPv6 literals in brackets: "[::1]:22". Required. */
	const char *bastion;
	/** User name; overrides a user@ in `bastion`. Default: $USER. */
	const char *user;
	/** Private key file (OpenSSH or PEM format). The public key is read from
	 *  "<file>.pub" when present, else derived from the private key. */
	const char *identity_file;
	const char *identity_passphrase;
	/** Password for "password" and "keyboard-interactive" authentication. */
	const char *password;
	/** Try the keys of ssh-agent (SSH_AUTH_SOCK). Default 1. */
	int use_agent;
	/** OpenSSH known_hosts file. Default: ~/.ssh/known_hosts. */
	const char *known_hosts_file;
	devkit_host_key_policy host_key_policy;
	/** Pin the host key: "SHA256:<base64>" as `ssh-keygen -l` prints it. When set,
	 *  this alone decides and known_hosts is not consulted. */
	const char *host_key_sha256;
	/** Comma-separated algorithm preferences (libssh2 method names). NULL: the
	 *  fastest ones this build and the server share. */
	const char *ciphers;
	const char *macs;
	const char *kex;
	/** Give up connecting (TCP + handshake + auth) after this long. Default 15000. */
	int connect_timeout_ms;
	/** Send a keepalive after this many idle seconds (0: never). Default 15. */
	int keepalive_interval_s;
	/** Declare the bastion dead after this many unanswered keepalives. Default 3. */
	int keepalive_count_max;
	/** Reconnect after the session is lost. Default 1. */
	int reconnect;
	/** Backoff between attempts: starts here, doubles, capped. Defaults 250 / 30000. */
	int reconnect_initial_ms;
	int reconnect_max_ms;
	/** Give up (state DOWN) after this many failed attempts; 0: never. Default 0. */
	int reconnect_max_attempts;
} devkit_tunnel_options;

#define DEVKIT_TUNNEL_OPTIONS_VERSION 1
#define DEVKIT_TUNNEL_OPTIONS_INIT { DEVKIT_TUNNEL_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 1, \
	NULL, DEVKIT_HOST_KEY_STRICT, NULL, NULL, NULL, NULL, 15000, 15, 3, 1, 250, 30000, 0 }

DEVKIT_EXTERN(int) devkit_tunnel_options_init(devkit_tunnel_options *opts, unsigned int version);

/**
 * Connect to the bastion and authenticate; returns when the session is up or has
 * failed. On failure nothing is left behind and devkit_error_last() says why:
 * DEVKIT_EHOSTKEY (with the SHA256 fingerprint), DEVKIT_EAUTH (with the methods
 * the server offered), DEVKIT_ENOTFOUND, DEVKIT_ECONNREFUSED, DEVKIT_ETIMEOUT.
 */
DEVKIT_EXTERN(int) devkit_tunnel_open(devkit_tunnel **out, devkit_ctx *ctx,
	const devkit_tunnel_options *opts);

/** Close every forward and the session, then free. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_tunnel_free(devkit_tunnel *tunnel);

/** The context the tunnel was opened on. Borrowed. */
DEVKIT_EXTERN(devkit_ctx *) devkit_tunnel_ctx(const devkit_tunnel *tunnel);

/** A number unique within the process, used in events. */
DEVKIT_EXTERN(uint64_t) devkit_tunnel_id(const devkit_tunnel *tunnel);

/** The current devkit_tunnel_state. */
DEVKIT_EXTERN(int) devkit_tunnel_get_state(devkit_tunnel *tunnel);

typedef enum devkit_forward_kind {
	DEVKIT_FORWARD_LOCAL = 1,   /* -L: local listener -> host:port seen from the bastion */
	DEVKIT_FORWARD_DYNAMIC = 2, /* -D: local SOCKS5/SOCKS4/HTTP proxy */
	DEVKIT_FORWARD_REMOTE = 3   /* -R: listener on the bastion -> local host:port */
} devkit_forward_kind;

typedef struct devkit_forward_options {
	unsigned int version;
	devkit_forward_kind kind;
	/** Where to listen. LOCAL/DYNAMIC: a local address, default "127.0.0.1".
	 *  REMOTE: an address on the bastion, default "127.0.0.1". */
	const char *bind_address;
	/** Port to listen on; 0 lets the system (or the bastion) choose. */
	int bind_port;
	/** LOCAL: host as the bastion sees it. REMOTE: local host to connect to.
	 *  Unused for DYNAMIC. */
	const char *target_host;
	int target_port;
	/** DYNAMIC: require SOCKS5 username/password (RFC 1929) and HTTP proxy Basic
	 *  authentication. NULL: no authentication. */
	const char *proxy_username;
	const char *proxy_password;
	/** Listening on a non-loopback local address must be asked for explicitly. */
	int allow_non_loopback;
} devkit_forward_options;

#define DEVKIT_FORWARD_OPTIONS_VERSION 1
#define DEVKIT_FORWARD_OPTIONS_INIT { DEVKIT_FORWARD_OPTIONS_VERSION, DEVKIT_FORWARD_LOCAL, \
	NULL, 0, NULL, 0, NULL, NULL, 0 }

DEVKIT_EXTERN(int) devkit_forward_options_init(devkit_forward_options *opts, unsigned int version);

/**
 * Start a forward. Returns once it listens (for REMOTE: once the bastion has
 * accepted the request, so devkit_forward_port() gives the port it chose).
 * A REMOTE forward needs the tunnel to be up; a LOCAL or DYNAMIC one does not
 * (connections wait for the session, within the connect timeout).
 */
DEVKIT_EXTERN(int) devkit_tunnel_add_forward(devkit_forward **out, devkit_tunnel *tunnel,
	const devkit_forward_options *opts);

/** Stop listening and close the forward's connections. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_forward_free(devkit_forward *forward);

DEVKIT_EXTERN(uint64_t) devkit_forward_id(const devkit_forward *forward);
/** The port actually bound (after 0 was asked). Borrowed strings live as long as the forward. */
DEVKIT_EXTERN(int) devkit_forward_port(const devkit_forward *forward);
DEVKIT_EXTERN(const char *) devkit_forward_address(const devkit_forward *forward);
DEVKIT_EXTERN(int) devkit_forward_kind_of(const devkit_forward *forward);

typedef struct devkit_forward_stats {
	unsigned int version;
	uint64_t bytes_in;        /* from the far side to the local side */
	uint64_t bytes_out;       /* from the local side to the far side */
	uint64_t channels_open;   /* connections open now */
	uint64_t channels_total;  /* connections ever accepted */
	uint64_t failures;        /* connections that failed to open or broke */
} devkit_forward_stats;

#define DEVKIT_FORWARD_STATS_VERSION 1
#define DEVKIT_FORWARD_STATS_INIT { DEVKIT_FORWARD_STATS_VERSION, 0, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_forward_get_stats(devkit_forward *forward, devkit_forward_stats *out);

typedef struct devkit_tunnel_stats {
	unsigned int version;
	int state;                /* devkit_tunnel_state */
	uint64_t reconnects;      /* sessions established after the first */
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t channels_open;
	uint64_t channels_total;
	uint64_t failures;
	uint64_t forwards;        /* forwards added and not freed */
} devkit_tunnel_stats;

#define DEVKIT_TUNNEL_STATS_VERSION 1
#define DEVKIT_TUNNEL_STATS_INIT { DEVKIT_TUNNEL_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_tunnel_get_stats(devkit_tunnel *tunnel, devkit_tunnel_stats *out);

/**
 * Information about the session, for display: the negotiated cipher, the host
 * key fingerprint ("SHA256:..."), the authenticated user. Written into `out`
 * as "key=value" lines; release with devkit_buf_dispose().
 */
DEVKIT_EXTERN(int) devkit_tunnel_describe(devkit_tunnel *tunnel, devkit_buf *out);

#ifdef __cplusplus
}
#endif
#endif
