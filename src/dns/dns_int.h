/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Private structures of the remote DNS area. Everything here lives on the I/O
 * thread except what devkit_dns.c reads from the caller's thread (port,
 * address, forward), which is set before the object is handed out.
 *
 *  devkit_dns   the user's handle: options, stub servers, connections, cache
 *  dns_conn     a client of one DNS server: TCP (pipelined, length-prefixed,
 *               reconnecting) or UDP                         (dns_upstream.c)
 *  dns_cache    answers by (name, type, class), TTL-bound, LRU (dns_cache.c)
 *  dns lookup   the routing of one question: cluster, search list or
 *               upstream                                     (dns_lookup.c)
 *  stub         the UDP and TCP servers on the loopback port  (dns_stub.c)
 */
#ifndef DEVKIT_DNS_INT_H
#define DEVKIT_DNS_INT_H

#include <uv.h>

#include "devkit/dns.h"
#include "core/engine.h"
#include "core/list.h"
#include "dns_msg.h"

typedef struct dns_conn dns_conn;
typedef struct dns_cache dns_cache;

/* The answer to one query sent to a server: status 0 with the response (its
 * ID as in the query given), or a negative devkit error (timeout, connection
 * lost twice, closing) with no response. */
typedef void (*dns_conn_cb)(void *data, int status, const uint8_t *resp, size_t len);

/* A whole answer for a lookup: always a response, SERVFAIL made up if need be.
 * `resp` is only valid during the call. */
typedef void (*dns_lookup_cb)(void *data, const uint8_t *resp, size_t len);

struct devkit_dns {
	devkit__closeable closeable;
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	devkit_forward *forward;   /* -L to the cluster DNS; freed by devkit_dns_free */

	/* options, owned copies */
	char **domains;            /* NULL-terminated */
	char **search;
	int ndots;
	int timeout_ms;
	unsigned int cache_max;
	struct sockaddr_storage upstream_addr;
	char upstream_text[300];
	char cluster_text[300];
	struct sockaddr_storage bind_addr;
	char address[64];          /* what devkit_dns_address returns */
	int port;                  /* bound, read from any thread (atomics) */

	/* on the loop */
	dns_conn *cluster;         /* TCP to 127.0.0.1:<forward port> */
	dns_conn *upstream_udp;
	dns_conn *upstream_tcp;    /* for answers that came truncated over UDP */
	dns_cache *cache;
	uv_udp_t *udp;             /* the stub's sockets (heap: a failed bind is closed */
	uv_tcp_t *listener;        /* and retried while the old handle is closing) */
	devkit__list clients;      /* stub TCP connections */
	int handles;               /* uv handles not yet closed */
	int closing;
	int lookups;               /* lookups in flight */
	devkit__call *free_call;   /* devkit_dns_free (or a failed start) waiting for the handles */
	int start_rc;              /* why the start failed, completing free_call */
	devkit_dns_stats stats;
	uint8_t udp_buf[65536];
};

/* One fewer handle open; completes devkit_dns_free after the last (dns.c). */
void dns__handle_closed(devkit_dns *d);

/* dns_upstream.c */
dns_conn *dns__conn_new(devkit_dns *d, int tcp, const struct sockaddr *addr, const char *label);
/* Send `query` (copied; its ID is replaced on the wire and restored in the
 * answer). The callback may run before this returns only on failure. */
void dns__conn_send(dns_conn *c, const uint8_t *query, size_t len, dns_conn_cb cb, void *data);
/* Fail everything pending with DEVKIT_ECLOSED, close the sockets, free. */
void dns__conn_close(dns_conn *c);

/* dns_cache.c */
dns_cache *dns__cache_new(unsigned int max);
void dns__cache_free(dns_cache *c);
/* A copy of a fresh answer with TTLs aged (caller frees), or NULL. */
uint8_t *dns__cache_get(dns_cache *c, const char *name, uint16_t type, uint16_t klass,
	uint64_t now_ms, size_t *len);
void dns__cache_put(dns_cache *c, const char *name, uint16_t type, uint16_t klass,
	const uint8_t *resp, size_t len, uint32_t ttl, uint64_t now_ms);

/* dns_lookup.c: answer the question `q` (raw bytes `qbuf`). The callback
 * runs exactly once, possibly before this returns (cache hit). */
void dns__lookup_cluster(devkit_dns *d, const uint8_t *qbuf, const dns_msg *q, dns_lookup_cb cb,
	void *data);
void dns__lookup(devkit_dns *d, const uint8_t *qbuf, const dns_msg *q, dns_lookup_cb cb,
	void *data);

/* dns_stub.c */
int dns__stub_start(devkit_dns *d, char *msg, size_t msglen);
void dns__stub_close(devkit_dns *d);

#endif
