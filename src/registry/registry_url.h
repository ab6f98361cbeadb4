/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registry URLs: scheme[+https]://host[:port][,host[:port]...][/path][?query].
 * Credentials are refused in the URL: it is logged and shown in status.
 */
#ifndef DEVKIT_REGISTRY_URL_H
#define DEVKIT_REGISTRY_URL_H

#include "registry_int.h"

typedef struct devkit__reg_url {
	char scheme[32];       /* without "+https" */
	int https;
	char *authority;       /* "h1:p1,h2:p2" */
	char *path;            /* "" or "/..." without a trailing '/' */
	devkit__reg_kv *query; /* decoded */
	int nquery;
} devkit__reg_url;

/* Split a URL. Returns 0 or DEVKIT_EINVAL with a message. */
int devkit__reg_url_parse(const char *text, devkit__reg_url *out);
void devkit__reg_url_dispose(devkit__reg_url *url);

/* "h1:p1,h2" into hosts (default_port when none). Returns 0 or DEVKIT_EINVAL. */
int devkit__reg_url_hosts(const char *list, int default_port, devkit__reg_host *hosts, int cap,
	int *count);

/* Move the parsed URL's parts into r (hosts, url_host/url_port, path, query). */
int devkit__reg_url_take(devkit__reg_url *url, devkit__reg *r, int default_port);

/* Append "key=value" (both percent-encoded) to a query or form body, with
 * '&' before it unless b is empty. Returns 0 or DEVKIT_ENOMEM. */
struct devkit__bytes;
int devkit__url_param(struct devkit__bytes *b, const char *key, const char *value);

/* Percent-encode s for a URL component (RFC 3986 unreserved kept). Caller frees. */
char *devkit__url_encode(const char *s);

#endif
