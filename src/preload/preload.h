/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Internals of the LD_PRELOAD shim (libdevkit_preload.so). Everything here is
 * hidden (-fvisibility=hidden); the only exported symbols are the libc
 * functions the shim interposes. The shim depends on libc alone: it is loaded
 * into arbitrary processes and must not drag libdevkit's dependencies in.
 */
#ifndef DEVKIT_PRELOAD_H
#define DEVKIT_PRELOAD_H

#include <stddef.h>
#include <sys/socket.h>

#include "control.h"

#define DK_EXPORT __attribute__((visibility("default")))

/* An address, with IPv4-mapped IPv6 folded into AF_INET so that matching does
 * not care which family of socket the application used. */
struct dk_addr {
	int family;              /* AF_INET (4 bytes used) or AF_INET6 (16) */
	unsigned char b[16];
};

/* --- preload_config.c: environment, CIDRs, domains, routed addresses ----- */

/* Parses the environment once (thread-safe, idempotent). */
void dk_config_init(void);

/* 1 if DEVKIT_PRELOAD_DEBUG is set: diagnostics go to stderr. */
int dk_debug(void);
void dk_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* $DEVKIT_CONTROL, or NULL if unset. */
const char *dk_control_path(void);

/* 1 if anything at all is routed (CIDRs or domains configured). */
int dk_active(void);

/* Fill a from a sockaddr (AF_INET or AF_INET6, mapped folded). 0 or -1. */
int dk_addr_from_sockaddr(struct dk_addr *a, const struct sockaddr *sa, socklen_t len);
/* Parse text form (v4 or v6). 0 or -1. */
int dk_addr_parse(struct dk_addr *a, const char *text);

/* 1 if a matches DEVKIT_ROUTE_CIDRS or was answered by RESOLVE. */
int dk_addr_routed(const struct dk_addr *a);
/* Remember an address RESOLVE gave us, so that connect() routes it. */
void dk_addr_remember(const struct dk_addr *a);

/* 1 if name (no trailing dot) is under one of DEVKIT_ROUTE_DOMAINS. */
int dk_name_routed(const char *name);
/* The search list and ndots, for short-name expansion. */
size_t dk_search_count(void);
const char *dk_search_at(size_t i);
int dk_ndots(void);

/* --- preload_control.c: the control client ------------------------------- */

/*
 * Send one request line (without '\n') and read one response line into resp
 * (NUL-terminated, '\n' stripped). timeout_ms bounds the whole exchange.
 * Returns 0, or -1 if the control socket could not be reached or answered
 * nothing (errno is not meaningful; the caller decides what the app sees).
 */
int dk_control_request(const char *req, char *resp, size_t resp_len, int timeout_ms);

/* --- preload_resolve.c: which names are ours, and asking the engine ----- */

enum dk_resolve_result {
	DK_RES_NOT_OURS, /* not a routed name: call the real resolver */
	DK_RES_OK,       /* out[0..*n) filled, canon set */
	DK_RES_NXDOMAIN, /* routed, and the engine says it does not exist */
	DK_RES_AGAIN,    /* routed, and the engine failed or cannot be reached */
};

/*
 * Resolve node through the engine if it (or its search-list expansion) is
 * under a routed domain. family: AF_INET, AF_INET6 or AF_UNSPEC; with
 * AF_INET6 and v4mapped, IPv4 answers come back as IPv4-mapped IPv6. The
 * answers are remembered as routed addresses.
 */
enum dk_resolve_result dk_resolve(const char *node, int family, int v4mapped,
	struct dk_addr *out, size_t *n, char *canon, size_t canon_len);

/* The libc function `name` that we interpose, looked up once into *slot
 * (a benign race: every thread stores the same pointer). NULL if missing. */
void *dk_real_sym(void **slot, const char *name);

/* The real connect(), for the control client and the connect() interposer. */
int dk_real_connect(int fd, const struct sockaddr *sa, socklen_t len);

#endif
