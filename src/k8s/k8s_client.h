/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The client object, private to src/k8s. The configuration is read-only
 * after devkit_k8s_open; everything below `loop side` is touched on the I/O
 * thread only.
 */
#ifndef DEVKIT_K8S_CLIENT_H
#define DEVKIT_K8S_CLIENT_H

#include <stdint.h>

#include "core/engine.h"
#include "core/list.h"
#include "exec_run.h"
#include "k8s_config.h"
#include "k8s_int.h"

/* Where a request waits for credentials (an exec plugin running, a token
 * file being read). */
typedef struct devkit__k8s_waiter devkit__k8s_waiter;
struct devkit__k8s_waiter {
	devkit__list node;
	void (*ready)(devkit__k8s_waiter *w, int rc, const char *message);
};

/* Which credentials change while the client lives. */
typedef enum devkit__k8s_dynamic {
	DEVKIT__K8S_STATIC = 0,     /* token and/or client certificate as configured */
	DEVKIT__K8S_TOKEN_FILE = 1, /* tokenFile (and the service account): re-read */
	DEVKIT__K8S_EXEC = 2        /* exec plugin: run, cached until it expires */
} devkit__k8s_dynamic;

typedef struct devkit__k8s_creds {
	devkit__k8s_dynamic kind;
	char *token;            /* from the file or the plugin (secret) */
	char *cert_pem;         /* from the plugin (secret) */
	char *key_pem;
	int valid;
	uint64_t generation;    /* bumped at every fetch: a 401 drops only what it used */
	uint64_t read_at;       /* loop time of the last token file read */
	int64_t expires_ms;     /* the plugin's expiry, wall clock ms; 0: none */
	devkit__list waiters;
	devkit__exec_run *run;  /* the plugin, while it runs */
	struct devkit__k8s_token_read *reading; /* the token file read in flight */
} devkit__k8s_creds;

struct devkit_k8s {
	devkit_ctx *ctx;
	devkit__k8s_config cfg;
	char *url_base;         /* server URL, with tls-server-name as its host when set */
	char *connect_to;       /* NULL or "host:port" */
	unsigned int timeout_ms;
	unsigned int retries;
	/* loop side */
	devkit__closeable closeable;
	devkit__list requests;  /* devkit__k8s_req.node */
	devkit__k8s_creds creds;
	int closed;             /* shut down: no new requests */
	int detached;           /* shut down by the engine (atomic): free without a call */
};

/* Credentials (k8s_creds.c, I/O thread). */
void devkit__k8s_creds_init(devkit_k8s *k);
/* Call w->ready once the credentials can be used: at once when they can,
 * else after the fetch (plugin, file read). */
void devkit__k8s_creds_get(devkit_k8s *k, devkit__k8s_waiter *w);
/* Forget a waiter (its request was cancelled). */
void devkit__k8s_creds_unwait(devkit__k8s_waiter *w);
/* What a request sends now; borrowed until the next fetch. */
void devkit__k8s_creds_current(devkit_k8s *k, const char **token, const char **cert_pem,
	const char **key_pem, uint64_t *generation);
/* A 401 answered credentials of `generation`: fetch again next time. Returns
 * 1 when fetching again may help (file, plugin), 0 for static ones. */
int devkit__k8s_creds_rejected(devkit_k8s *k, uint64_t generation);
/* Stop fetching and forget the material. Close the requests first: the
 * waiters must have left. */
void devkit__k8s_creds_shutdown(devkit_k8s *k);

/* Requests (k8s_request.c): fail every request in flight with ECLOSED. */
void devkit__k8s_requests_close(devkit_k8s *k);

#endif
