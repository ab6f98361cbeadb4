/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Remote DNS: names that only the cluster can resolve (*.svc.cluster.local,
 * and short names like "orders" through the search list, as inside a Pod)
 * are resolved by the cluster's DNS server, reached through the tunnel (DNS
 * over TCP on a direct-tcpip channel). Everything else goes to the system's
 * resolver. A stub server on a loopback port (UDP and TCP) offers the same to
 * any program; devkit_run uses it for the processes it routes.
 */
#ifndef DEVKIT_DNS_H
#define DEVKIT_DNS_H

#include "common.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_dns devkit_dns;

typedef struct devkit_dns_options {
	unsigned int version;
	/** The cluster DNS server as the bastion sees it, "HOST[:PORT]" (port 53 by
	 *  default), e.g. "10.96.0.10" or "kube-dns.kube-system.svc.cluster.local". Required. */
	const char *cluster_dns;
	/** Comma-separated suffixes resolved by the cluster. Default "cluster.local". */
	const char *cluster_domains;
	/** Comma-separated search list for names with fewer than `ndots` dots, as in a
	 *  Pod's resolv.conf. Default "default.svc.cluster.local,svc.cluster.local,cluster.local". */
	const char *search;
	int ndots;                   /* default 5, as Kubernetes sets it */
	/** Where other names go, "HOST[:PORT]". Default: the first nameserver of
	 *  /etc/resolv.conf. */
	const char *upstream;
	/** The stub's address. Default "127.0.0.1", port 0 (chosen). */
	const char *bind_address;
	int bind_port;
	int timeout_ms;              /* per query; default 5000 */
	unsigned int cache_max;      /* answers kept (by TTL); default 4096, 0 disables */
} devkit_dns_options;

#define DEVKIT_DNS_OPTIONS_VERSION 1
#define DEVKIT_DNS_OPTIONS_INIT { DEVKIT_DNS_OPTIONS_VERSION, NULL, NULL, NULL, 5, NULL, NULL, 0, 5000, 4096 }

DEVKIT_EXTERN(int) devkit_dns_options_init(devkit_dns_options *opts, unsigned int version);

/** Start the resolver and its stub server on `tunnel`. */
DEVKIT_EXTERN(int) devkit_dns_start(devkit_dns **out, devkit_tunnel *tunnel, const devkit_dns_options *opts);
/** Stop the stub and free. Accepts NULL. Must be freed before its tunnel. */
DEVKIT_EXTERN(void) devkit_dns_free(devkit_dns *dns);
/** The stub's port (UDP and TCP), and address. */
DEVKIT_EXTERN(int) devkit_dns_port(const devkit_dns *dns);
DEVKIT_EXTERN(const char *) devkit_dns_address(const devkit_dns *dns);

typedef struct devkit_dns_stats {
	unsigned int version;
	uint64_t queries;        /* received by the stub, UDP and TCP */
	uint64_t cluster;        /* sent to the cluster DNS */
	uint64_t upstream;       /* sent to the system resolver */
	uint64_t cache_hits;
	uint64_t nxdomain;       /* answered NXDOMAIN */
	uint64_t servfail;       /* answered SERVFAIL (including our own timeouts) */
	uint64_t malformed;      /* dropped: not a DNS query */
} devkit_dns_stats;

#define DEVKIT_DNS_STATS_VERSION 1
#define DEVKIT_DNS_STATS_INIT { DEVKIT_DNS_STATS_VERSION, 0, 0, 0, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_dns_get_stats(devkit_dns *dns, devkit_dns_stats *out);

/**
 * Resolve `name` in the cluster only, as a routed process's shim asks: names
 * under the cluster domains as they are, shorter names through the search
 * list. Never asks the upstream resolver: a name the cluster does not know is
 * DEVKIT_ENOTFOUND, and the caller uses its own system resolver for it.
 * `family` is AF_INET, AF_INET6 or AF_UNSPEC (0). Addresses come as text, one
 * per line, in `out` (release with devkit_buf_dispose).
 */
DEVKIT_EXTERN(int) devkit_dns_resolve(devkit_dns *dns, const char *name, int family, devkit_buf *out);

#ifdef __cplusplus
}
#endif
#endif
