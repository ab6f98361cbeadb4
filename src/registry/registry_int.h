/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Inside a registration: the state machine (registration.c) and the backends
 * (one file each) behind one small vtable.
 *
 * Everything here runs on the I/O thread. The state machine decides *when*
 * (first attempt, heartbeat period, backoff, re-registration, close); a
 * backend only knows *how* to talk to its registry. Each backend operation is
 * asynchronous and ends with exactly one call of devkit__reg_op_done(), unless
 * the backend's cancel() ran first.
 */
#ifndef DEVKIT_REGISTRY_INT_H
#define DEVKIT_REGISTRY_INT_H

#include <stdint.h>

#include <uv.h>

#include "core/engine.h"
#include "devkit/registry.h"

typedef struct devkit__reg devkit__reg;

/* A "key=value" pair of the metadata. */
typedef struct devkit__reg_kv {
	char *key;
	char *value;
} devkit__reg_kv;

/* One host:port of the registry URL (after connect_to). */
typedef struct devkit__reg_host {
	char host[256];
	int port;
} devkit__reg_host;

typedef enum devkit__reg_op {
	DEVKIT__REG_OP_REGISTER = 1,
	DEVKIT__REG_OP_HEARTBEAT = 2,
	DEVKIT__REG_OP_DEREGISTER = 3
} devkit__reg_op;

/*
 * How an operation ended, passed to devkit__reg_op_done():
 *   0                   done
 *   DEVKIT_ENOTFOUND    heartbeat: the registry forgot the entry (404, 20404,
 *                       lease not found, session expired) -> re-register
 *   DEVKIT_EAUTH, DEVKIT_EFORBIDDEN, DEVKIT_EINVAL
 *                       refused for good -> FAILED
 *   anything else       transient (refused, timeout, 5xx) -> retry with backoff
 * The message says what and why, without secrets.
 */

typedef struct devkit__reg_backend {
	const char *name;        /* "nacos": the URL scheme without "+https" */
	int default_port;
	unsigned int default_ttl_ms;
	unsigned int default_heartbeat_ms; /* 0: a third of the TTL */
	/* Check the backend's options and URL query, build r->backend_data.
	 * Synchronous, on the I/O thread; on error set the thread's error
	 * (devkit__error_set) and return a negative code. No loop handles here:
	 * after a failed init, destroy() runs on the caller's thread. */
	int (*init)(devkit__reg *r);
	/* Start an operation; end it with devkit__reg_op_done(). A backend that
	 * keeps the entry alive by itself (a ZooKeeper session) sets heartbeat
	 * to NULL and reports a forgotten entry with devkit__reg_lost(). */
	void (*start)(devkit__reg *r, devkit__reg_op op);
	int has_heartbeat;
	/* Abandon the operation in flight, if any: no devkit__reg_op_done after. */
	void (*cancel)(devkit__reg *r);
	/* Append backend-specific fields ("keys": what was written) to a JSON
	 * object being built by describe(); may be NULL. `json` is a json_t *. */
	void (*describe)(devkit__reg *r, void *json);
	/* Free r->backend_data (after cancel). */
	void (*destroy)(devkit__reg *r);
} devkit__reg_backend;

struct devkit__reg {
	devkit_ctx *ctx;
	devkit__closeable closeable;   /* torn down with the engine */
	const devkit__reg_backend *backend;
	void *backend_data;
	uint64_t id;

	/* the options, copied and parsed */
	int https;                     /* "+https" scheme */
	devkit__reg_host hosts[8];     /* the URL's hosts, or connect_to's */
	int nhosts;
	char *registry_text;           /* the URL as given (it holds no credentials) */
	char *url_host;                /* the first host as written in the URL (TLS name) */
	int url_port;
	char *path;                    /* the URL's path without trailing '/', "" if none */
	devkit__reg_kv *query;         /* the URL's query, decoded */
	int nquery;
	char *service;
	char *address;
	int port;
	devkit__reg_kv *meta;
	int nmeta;
	char *tag;
	char *username, *password, *token;  /* secrets: never logged */
	unsigned int ttl_ms, heartbeat_ms, timeout_ms;
	char *protocol;                /* "http" or "dubbo" */
	char *interface_name;
	char *methods;
	char *ca_file;
	int insecure;
	char *connect_to;              /* "host:port" for HTTP backends, NULL: the URL's */
	char instance_id[256];         /* set by the backend's init */

	/* the state machine (registration.c) */
	int state;                     /* devkit_registration_state */
	devkit__reg_op op;             /* in flight, 0 if none */
	uv_timer_t timer;              /* heartbeat, retry */
	unsigned int backoff_ms;
	int closing;
	int last_error;
	char last_message[512];
	devkit_registration_stats stats;
	int ever_registered;           /* an entry may exist: deregister on close */
	devkit__call *close_call;      /* devkit_registration_close waiting */
	int close_rc;
	char close_message[512];
	uint64_t tunnel_id;            /* set by devkit_tunnel_expose, for events */

	/* what devkit_registration_wait/get_state read from other threads */
	uv_mutex_t lock;
	uv_cond_t cond;
	int pub_state;
	int pub_error;
	char pub_message[512];
	int pub_attempted;             /* an attempt has finished */
	int waiters;                   /* threads inside devkit_registration_wait */
};

/* End the operation in flight (see the table above). */
void devkit__reg_op_done(devkit__reg *r, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The registry forgot the entry outside of any operation (a ZooKeeper
 * session expired): re-register. */
void devkit__reg_lost(devkit__reg *r, const char *why);

/* The query value for key, or def. */
const char *devkit__reg_query(const devkit__reg *r, const char *key, const char *def);

/* "http://host:port" or "https://host:port" of the first host, with the URL's
 * path appended: the base of every HTTP request. Returns a static-size copy. */
void devkit__reg_base_url(const devkit__reg *r, char *out, size_t cap);

/* Log at level (the registration's registry and service are prefixed). */
void devkit__reg_log(devkit__reg *r, devkit_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Write the JSON of devkit_registration_describe() (describe.c). */
int devkit__reg_describe_json(devkit__reg *r, devkit_buf *out);

/* devkit_registration_new with the tunnel whose id its events carry (expose.c). */
int devkit__registration_new(devkit_registration **out, devkit_ctx *ctx,
	const devkit_registration_options *opts, uint64_t tunnel_id);

/* The state machine behind a public handle. */
devkit__reg *devkit__reg_of(devkit_registration *reg);

extern const devkit__reg_backend devkit__reg_nacos;
extern const devkit__reg_backend devkit__reg_eureka;
extern const devkit__reg_backend devkit__reg_consul;
extern const devkit__reg_backend devkit__reg_zookeeper;
extern const devkit__reg_backend devkit__reg_etcd;

#endif
