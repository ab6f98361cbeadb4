/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One HTTP request of an HTTP registry backend (Nacos, Eureka, Consul, etcd):
 * the registry's base URL, connect_to, TLS settings and timeout applied, the
 * answer's status turned into the codes of registry_int.h.
 */
#ifndef DEVKIT_REG_HTTP_H
#define DEVKIT_REG_HTTP_H

#include "core/http.h"
#include "registry_int.h"

/* rc: 0 for 2xx, else the code for the status or transport failure, with
 * `message` saying what and why ("PUT http://h/v1/...: HTTP 500: <body>"). */
typedef void (*devkit__reg_http_cb)(devkit__reg *r, int rc, long status, const char *body,
	const char *message);

typedef struct devkit__reg_http {
	devkit__reg *r;
	devkit__http_xfer *xfer;
	devkit__reg_http_cb cb;
	char what[256];
	int basic_auth;      /* send r->username/password as HTTP Basic (Eureka) */
} devkit__reg_http;

/* Send method to base URL + path_query. headers: NULL-terminated or NULL;
 * body: NULL or text with its Content-Type among the headers. Returns 0, or
 * a negative code (the callback then does not run). */
int devkit__reg_http_send(devkit__reg_http *h, devkit__reg *r, const char *method,
	const char *path_query, const char *const *headers, const char *body, devkit__reg_http_cb cb);

/* Abandon the request in flight, if any. */
void devkit__reg_http_cancel(devkit__reg_http *h);

/* The code for an HTTP status (0 for 2xx). */
int devkit__reg_http_status_rc(long status);

#endif
