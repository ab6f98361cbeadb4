/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry registration: make a local instance appear in the cloud's service
 * registry, keep it there while the developer works, and remove it on close.
 *
 *   devkit_registration   one entry in one registry (Nacos, Eureka, Consul,
 *                         ZooKeeper for Dubbo, etcd), kept alive by the engine
 *   devkit_expose         a reverse forward on the bastion plus the
 *                         registration of the bastion's address and port:
 *                         cloud callers find the entry and reach the local
 *                         service through the bastion
 *
 * Every state change is queued as a DEVKIT_EVENT_REGISTRATION_STATE event
 * (object_id: devkit_registration_id). See docs/registry.md.
 */
#ifndef DEVKIT_REGISTRY_H
#define DEVKIT_REGISTRY_H

#include "ctx.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_registration devkit_registration;
typedef struct devkit_expose devkit_expose;

typedef enum devkit_registration_state {
	DEVKIT_REGISTRATION_REGISTERING = 1,  /* first attempt in flight */
	DEVKIT_REGISTRATION_REGISTERED = 2,   /* in the registry, heartbeats flowing */
	DEVKIT_REGISTRATION_RETRYING = 3,     /* the registry is unreachable or failing:
	                                       * retrying with backoff (error, message say why) */
	DEVKIT_REGISTRATION_LOST = 4,         /* the registry forgot the entry (restart,
	                                       * expired session or lease): re-registering */
	DEVKIT_REGISTRATION_FAILED = 5,       /* refused for good (bad credentials, bad
	                                       * request): no more attempts */
	DEVKIT_REGISTRATION_DEREGISTERED = 6  /* removed on close */
} devkit_registration_state;

typedef struct devkit_registration_options {
	unsigned int version;
	/**
	 * The registry, as a URL. Schemes: nacos://, eureka://, consul://, etcd://
	 * (each with a "+https" variant, e.g. nacos+https://) and zookeeper://
	 * (several hosts separated by commas). Backend settings go in the query:
	 *   nacos://host:8848?namespace=dev&group=DEFAULT_GROUP&cluster=DEFAULT&api=v2
	 *   eureka://host:8761/eureka   (the path is the server's context path)
	 *   consul://host:8500?dc=dc1
	 *   zookeeper://host:2181/chroot?layout=interface|application|both
	 *   etcd://host:2379?prefix=/micro/registry&format=go-micro|kratos
	 * Credentials do not belong in the URL (they would be logged): use
	 * username/password/token.
	 */
	const char *registry;
	/** The service (application) name callers look up. */
	const char *service;
	/** The host or IP to advertise, and the port. */
	const char *address;
	int port;
	/** Extra metadata, "key=value" lines separated by '\n'. */
	const char *metadata;
	/** Traffic tag, written where the framework routes on it (dubbo.tag,
	 *  Consul Tags, Nacos/Eureka/etcd metadata "tag"). NULL: none. */
	const char *tag;
	/** Nacos login, Eureka HTTP Basic, etcd user. Never logged. */
	const char *username;
	const char *password;
	/** Consul ACL token; Nacos accessToken given directly. Never logged. */
	const char *token;
	/** How long the registry keeps the entry without heartbeats (lease TTL,
	 *  session timeout, Consul DeregisterCriticalServiceAfter). 0: the
	 *  registry's usual value (docs/registry.md). */
	unsigned int ttl_ms;
	/** Heartbeat period. 0: a third of the TTL (Nacos: 5 s, Eureka: 30 s). */
	unsigned int heartbeat_ms;
	/** "http" (default) or "dubbo": what the instance speaks. */
	const char *protocol;
	/** Dubbo: the interface name (default: service) and its methods,
	 *  comma-separated. */
	const char *interface_name;
	const char *methods;
	/** For +https: a CA bundle to verify the registry (NULL: the system's),
	 *  or skip verification (tests only). */
	const char *ca_file;
	int insecure;
	/** Connect to these "host:port" addresses instead of the URL's hosts (TLS
	 *  still verifies the URL's name). devkit_tunnel_expose() sets it to a
	 *  local forward so that a registry inside the cluster is reached through
	 *  the bastion. NULL: connect to the URL's hosts. */
	const char *connect_to;
	/** Per-request timeout, default 5000 ms. */
	unsigned int timeout_ms;
} devkit_registration_options;

#define DEVKIT_REGISTRATION_OPTIONS_VERSION 1
#define DEVKIT_REGISTRATION_OPTIONS_INIT { DEVKIT_REGISTRATION_OPTIONS_VERSION, NULL, NULL, \
	NULL, 0, NULL, NULL, NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL, 0, NULL, 5000 }

DEVKIT_EXTERN(int) devkit_registration_options_init(devkit_registration_options *opts,
	unsigned int version);

/**
 * Check the options and start registering. Returns at once with the attempt
 * in flight: a registry that is down is not an error here — the registration
 * retries with backoff and reports why in its events and in
 * devkit_registration_wait(). Bad options (unknown scheme, missing service,
 * port out of range) fail here with DEVKIT_EINVAL.
 */
DEVKIT_EXTERN(int) devkit_registration_new(devkit_registration **out, devkit_ctx *ctx,
	const devkit_registration_options *opts);

/**
 * Wait until the entry is in the registry. Returns 0 once REGISTERED; the
 * last attempt's error if timeout_ms passes first (DEVKIT_ETIMEOUT if no
 * attempt finished); the refusal's error if the state is FAILED.
 * timeout_ms -1 waits forever.
 */
DEVKIT_EXTERN(int) devkit_registration_wait(devkit_registration *reg, int timeout_ms);

/** The current devkit_registration_state. */
DEVKIT_EXTERN(int) devkit_registration_get_state(devkit_registration *reg);

/** The id carried by this registration's events (object_id). */
DEVKIT_EXTERN(uint64_t) devkit_registration_id(const devkit_registration *reg);

/**
 * A JSON description: registry (without credentials), backend, service,
 * instance id, address, port, state, the keys written and the last error.
 */
DEVKIT_EXTERN(int) devkit_registration_describe(devkit_registration *reg, devkit_buf *out);

typedef struct devkit_registration_stats {
	unsigned int version;
	uint64_t registrations;   /* successful register calls (first + re-registrations) */
	uint64_t heartbeats;      /* successful heartbeats */
	uint64_t failures;        /* failed requests of any kind */
	uint64_t lost;            /* times the registry had forgotten the entry */
} devkit_registration_stats;

#define DEVKIT_REGISTRATION_STATS_VERSION 1

DEVKIT_EXTERN(int) devkit_registration_get_stats(devkit_registration *reg,
	devkit_registration_stats *out);

/**
 * Remove the entry from the registry (waiting at most the request timeout)
 * and free. Returns 0 if the registry confirmed the removal, or the error
 * (the entry then expires after its TTL). The registration is freed either
 * way; threads waiting in devkit_registration_wait() return DEVKIT_ECLOSED
 * first. Accepts NULL (returns 0).
 * devkit_ctx_free() deregisters and frees every registration still open: the
 * application's pointers to them are then invalid.
 */
DEVKIT_EXTERN(int) devkit_registration_close(devkit_registration *reg);

/** devkit_registration_close() without the result. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_registration_free(devkit_registration *reg);

typedef struct devkit_expose_options {
	unsigned int version;
	/** The local service cloud callers should reach. */
	const char *local_host;   /* default "127.0.0.1" */
	int local_port;
	/** Where the bastion listens: default "0.0.0.0" (sshd binds loopback only
	 *  unless its GatewayPorts allows more), port 0 lets it choose. */
	const char *remote_bind_address;
	int remote_port;
	/** The bastion's address as cloud callers reach it (its in-cluster IP).
	 *  NULL: the registration's address if set, else the bastion's host. */
	const char *advertise_host;
	/** Reach the registry through the tunnel (a local forward to its host),
	 *  as a registry inside the cluster needs. Default 1. */
	int registry_via_tunnel;
} devkit_expose_options;

#define DEVKIT_EXPOSE_OPTIONS_VERSION 1
#define DEVKIT_EXPOSE_OPTIONS_INIT { DEVKIT_EXPOSE_OPTIONS_VERSION, NULL, 0, NULL, 0, NULL, 1 }

DEVKIT_EXTERN(int) devkit_expose_options_init(devkit_expose_options *opts, unsigned int version);

/**
 * Expose a local service to the cloud: open the reverse forward on the
 * bastion, then register the bastion's address and the forward's port (the
 * registration's address and port are filled in; its other fields are used
 * as given). Returns once the forward listens and the registration has
 * started (see devkit_registration_wait via devkit_expose_registration).
 * On failure nothing is left behind.
 */
DEVKIT_EXTERN(int) devkit_tunnel_expose(devkit_expose **out, devkit_tunnel *tunnel,
	const devkit_expose_options *opts, const devkit_registration_options *registration);

/** The registration and the reverse forward (borrowed, valid until the expose is freed). */
DEVKIT_EXTERN(devkit_registration *) devkit_expose_registration(devkit_expose *expose);
DEVKIT_EXTERN(devkit_forward *) devkit_expose_forward(devkit_expose *expose);

/** Deregister, then remove the forwards. Returns the deregistration's result
 *  (see devkit_registration_close). Accepts NULL. Close an expose before its
 *  tunnel: its forwards belong to the tunnel, and devkit_tunnel_free() frees them. */
DEVKIT_EXTERN(int) devkit_expose_close(devkit_expose *expose);
DEVKIT_EXTERN(void) devkit_expose_free(devkit_expose *expose);

/** A short name for a devkit_registration_state ("registered"). */
DEVKIT_EXTERN(const char *) devkit_registration_state_name(int state);

#ifdef __cplusplus
}
#endif
#endif
