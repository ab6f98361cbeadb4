/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Process routing: the engine side of the LD_PRELOAD shim
 * (libdevkit_preload.so). A router listens on a private unix socket; a routed
 * process's shim asks it to resolve cluster names and to carry its connects to
 * cloud addresses through the tunnel. `devkit run` is this plus spawning the
 * process with the right environment (see docs/run.md).
 */
#ifndef DEVKIT_ROUTE_H
#define DEVKIT_ROUTE_H

#include "common.h"
#include "dns.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_router devkit_router;

typedef struct devkit_router_options {
	unsigned int version;
	/** Answers the shim's name lookups. NULL: lookups fail (routing by CIDR
	 *  still works). Must outlive the router. */
	devkit_dns *dns;
	/** The control socket. NULL: "control.sock" in a new private (0700)
	 *  temporary directory, removed by devkit_router_free. */
	const char *control_path;
	/** A blocking connect() waits at most this long for its channel. Default 15000. */
	int open_timeout_ms;
} devkit_router_options;

#define DEVKIT_ROUTER_OPTIONS_VERSION 1
#define DEVKIT_ROUTER_OPTIONS_INIT { DEVKIT_ROUTER_OPTIONS_VERSION, NULL, NULL, 15000 }

DEVKIT_EXTERN(int) devkit_router_options_init(devkit_router_options *opts, unsigned int version);

/** Start listening for routed processes on `tunnel`. */
DEVKIT_EXTERN(int) devkit_router_start(devkit_router **out, devkit_tunnel *tunnel,
	const devkit_router_options *opts);
/** Stop, close routed connections, remove the control socket. Accepts NULL.
 *  Must be freed before its tunnel. */
DEVKIT_EXTERN(void) devkit_router_free(devkit_router *router);
/** The control socket's path, to put in DEVKIT_CONTROL. Borrowed. */
DEVKIT_EXTERN(const char *) devkit_router_control_path(const devkit_router *router);

typedef struct devkit_router_stats {
	unsigned int version;
	uint64_t requests;       /* control requests received */
	uint64_t routed;         /* connections carried through the tunnel */
	uint64_t refused;        /* routed connects refused (far side, or unknown source) */
	uint64_t resolved;       /* names resolved for the shim */
} devkit_router_stats;

#define DEVKIT_ROUTER_STATS_VERSION 1
#define DEVKIT_ROUTER_STATS_INIT { DEVKIT_ROUTER_STATS_VERSION, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_router_get_stats(devkit_router *router, devkit_router_stats *out);

#ifdef __cplusplus
}
#endif
#endif
