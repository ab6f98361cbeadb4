/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The public API of the remote DNS: options, start/free, stats and
 * devkit_dns_resolve. The cluster DNS is reached through an ordinary LOCAL
 * forward of the tunnel (made with the public API, so reconnects, flow control
 * and stats are the tunnel's), to which a pipelined DNS-over-TCP client on the
 * loop talks; see dns_upstream.c, dns_lookup.c and dns_stub.c.
 */
#include "dns_int.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/hostport.h"

int devkit_dns_options_init(devkit_dns_options *opts, unsigned int version)
{
	static const devkit_dns_options defaults = DEVKIT_DNS_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_DNS_OPTIONS_VERSION, "devkit_dns_options_init");
}

/* --- memory and closing ------------------------------------------------------- */

static void free_list(char **l)
{
	if (!l)
		return;
	for (char **p = l; *p; p++)
		free(*p);
	free(l);
}

static void free_memory(devkit_dns *d)
{
	free_list(d->domains);
	free_list(d->search);
	free(d);
}

void dns__handle_closed(devkit_dns *d)
{
	if (--d->handles > 0 || !d->closing)
		return;
	devkit__call *call = d->free_call;
	if (!call) {
		/* Closed by devkit_ctx_free: nobody will call devkit_dns_free. */
		free_memory(d);
		return;
	}
	d->free_call = NULL;
	/* The caller frees d once the call has returned. */
	devkit__call_done(call, d->ctx, d->start_rc);
}

static void dns_shutdown(devkit_dns *d)
{
	if (d->closing)
		return;
	d->closing = 1;
	devkit__ctx_untrack(&d->closeable);
	d->handles++; /* hold: the closes below may complete synchronously */
	dns__stub_close(d);
	dns__conn_close(d->cluster);
	dns__conn_close(d->upstream_udp);
	dns__conn_close(d->upstream_tcp);
	d->cluster = d->upstream_udp = d->upstream_tcp = NULL;
	dns__cache_free(d->cache);
	d->cache = NULL;
	dns__handle_closed(d);
}

static void on_ctx_shutdown(devkit__closeable *c)
{
	devkit_dns *d = devkit__container_of(c, devkit_dns, closeable);
	d->free_call = NULL;
	dns_shutdown(d);
}

/* --- options ---------------------------------------------------------------- */

/* "a, b.,c" -> {"a", "b", "c", NULL}; NULL only when out of memory. */
static char **split_list(const char *text)
{
	size_t n = 1;
	for (const char *p = text; *p; p++)
		n += *p == ',';
	char **out = calloc(n + 1, sizeof(char *));
	if (!out)
		return NULL;
	size_t k = 0;
	const char *p = text;
	while (*p) {
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
		const char *start = p;
		while (*p && *p != ',')
			p++;
		const char *end = p;
		while (end > start && (isspace((unsigned char)end[-1]) || end[-1] == '.'))
			end--;
		while (start < end && *start == '.')
			start++;
		if (end > start) {
			out[k] = strndup(start, (size_t)(end - start));
			if (!out[k++]) {
				free_list(out);
				return NULL;
			}
		}
	}
	return out;
}

static int to_sockaddr(const char *host, int port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (uv_ip4_addr(host, port, (struct sockaddr_in *)ss) == 0)
		return 0;
	if (uv_ip6_addr(host, port, (struct sockaddr_in6 *)ss) == 0)
		return 0;
	return -1;
}

/* The first nameserver of /etc/resolv.conf (read on the caller's thread). */
static int system_nameserver(char *out, size_t cap)
{
	FILE *f = fopen("/etc/resolv.conf", "r");
	if (!f)
		return -1;
	char line[512];
	int found = -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char addr[256];
		if (sscanf(line, " nameserver %255s", addr) == 1) {
			/* An IPv6 address with a port would need brackets. */
			snprintf(out, cap, strchr(addr, ':') ? "[%s]" : "%s", addr);
			found = 0;
		}
	}
	fclose(f);
	return found;
}

static int is_loopback(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)ss)->sin_addr.s_addr) >> 24) == 127;
	return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)ss)->sin6_addr);
}

static int configure(devkit_dns *d, const devkit_dns_options *o, devkit__hostport *cluster)
{
	if (!o->cluster_dns || !*o->cluster_dns)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: cluster_dns is required "
			"(the cluster DNS server as the bastion sees it, e.g. \"10.96.0.10\")");
	if (devkit__hostport_parse(o->cluster_dns, 0, 53, cluster) != 0)
		return DEVKIT_EINVAL;
	snprintf(d->cluster_text, sizeof(d->cluster_text), "%s", o->cluster_dns);
	if (o->ndots < 0 || o->ndots > 15)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: ndots %d is not in 0..15", o->ndots);
	d->ndots = o->ndots;
	d->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 5000;
	d->cache_max = o->cache_max;
	d->domains = split_list(o->cluster_domains ? o->cluster_domains : "cluster.local");
	d->search = split_list(o->search ? o->search
		: "default.svc.cluster.local,svc.cluster.local,cluster.local");
	if (!d->domains || !d->search)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");

	char sys[300];
	const char *up = o->upstream;
	if (!up || !*up) {
		if (system_nameserver(sys, sizeof(sys)) != 0)
			return devkit__error_set(DEVKIT_ENOTFOUND, "devkit_dns_start: no upstream given and "
				"no nameserver in /etc/resolv.conf");
		up = sys;
	}
	devkit__hostport hp;
	if (devkit__hostport_parse(up, 0, 53, &hp) != 0)
		return DEVKIT_EINVAL;
	if (to_sockaddr(hp.host, hp.port, &d->upstream_addr) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: upstream '%s' is not an IP "
			"address (a resolver's name would need a resolver)", up);
	snprintf(d->upstream_text, sizeof(d->upstream_text), "%s", up);

	const char *bind = o->bind_address && *o->bind_address ? o->bind_address : "127.0.0.1";
	if (strcmp(bind, "localhost") == 0)
		bind = "127.0.0.1";
	if (o->bind_port < 0 || o->bind_port > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: bind port %d is not in 0..65535",
			o->bind_port);
	if (to_sockaddr(bind, o->bind_port, &d->bind_addr) != 0)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: bind address '%s' is not an IP "
			"address", bind);
	if (!is_loopback(&d->bind_addr))
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: refusing to listen on %s, which "
			"is not a loopback address: anyone on the network could query the cluster", bind);
	snprintf(d->address, sizeof(d->address), "%s", bind);
	d->port = o->bind_port;
	return 0;
}

/* --- start and free ------------------------------------------------------------ */

static void do_start(devkit__call *call)
{
	devkit_dns *d = call->arg;
	int fport = devkit_forward_port(d->forward);
	struct sockaddr_storage ss;
	to_sockaddr("127.0.0.1", fport, &ss);
	d->cluster = dns__conn_new(d, 1, (struct sockaddr *)&ss, "the cluster DNS");
	d->upstream_udp = dns__conn_new(d, 0, (struct sockaddr *)&d->upstream_addr, "the upstream DNS");
	d->upstream_tcp = dns__conn_new(d, 1, (struct sockaddr *)&d->upstream_addr,
		"the upstream DNS (TCP)");
	d->cache = dns__cache_new(d->cache_max);
	int rc = DEVKIT_ENOMEM;
	char msg[512] = "out of memory";
	if (d->cluster && d->upstream_udp && d->upstream_tcp && d->cache)
		rc = dns__stub_start(d, msg, sizeof(msg));
	if (rc < 0) {
		/* Close what was opened; the call completes once it has closed. */
		snprintf(call->message, sizeof(call->message), "%s", msg);
		d->start_rc = rc;
		d->free_call = call;
		d->closeable.prev = d->closeable.next = &d->closeable;
		dns_shutdown(d);
		return;
	}
	d->closeable.shutdown = on_ctx_shutdown;
	devkit__ctx_track(d->ctx, &d->closeable);
	devkit__log(d->ctx, DEVKIT_LOG_INFO, "dns stub on %s:%d (UDP and TCP): %s via the tunnel, "
		"other names to %s", d->address, d->port, d->cluster_text, d->upstream_text);
	devkit__call_done(call, d->ctx, 0);
}

int devkit_dns_start(devkit_dns **out, devkit_tunnel *tunnel, const devkit_dns_options *o)
{
	if (!out || !tunnel || !o)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: out, tunnel and options are required");
	*out = NULL;
	if (o->version != DEVKIT_DNS_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_start: options version %u is not %u",
			o->version, DEVKIT_DNS_OPTIONS_VERSION);
	devkit_dns *d = calloc(1, sizeof(*d));
	if (!d)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	d->tunnel = tunnel;
	d->ctx = devkit_tunnel_ctx(tunnel);
	d->stats.version = DEVKIT_DNS_STATS_VERSION;
	devkit__list_init(&d->clients);
	d->closeable.prev = d->closeable.next = &d->closeable;
	devkit__hostport cluster;
	int rc = configure(d, o, &cluster);
	if (rc < 0) {
		free_memory(d);
		return rc;
	}
	devkit_forward_options fo;
	devkit_forward_options_init(&fo, DEVKIT_FORWARD_OPTIONS_VERSION);
	fo.kind = DEVKIT_FORWARD_LOCAL;
	fo.bind_address = "127.0.0.1";
	fo.target_host = cluster.host;
	fo.target_port = cluster.port;
	rc = devkit_tunnel_add_forward(&d->forward, tunnel, &fo);
	if (rc < 0) {
		free_memory(d);
		return rc;
	}
	devkit__call call = { .fn = do_start, .arg = d };
	rc = devkit__call_run(d->ctx, &call);
	if (rc < 0) {
		devkit_forward_free(d->forward);
		free_memory(d);
		return rc;
	}
	*out = d;
	return 0;
}

static void do_free(devkit__call *call)
{
	devkit_dns *d = call->arg;
	d->free_call = call;
	dns_shutdown(d);
}

void devkit_dns_free(devkit_dns *d)
{
	if (!d)
		return;
	devkit__call call = { .fn = do_free, .arg = d };
	devkit__call_run(d->ctx, &call);
	devkit_forward_free(d->forward);
	free_memory(d);
}

int devkit_dns_port(const devkit_dns *d)
{
	return d ? __atomic_load_n(&d->port, __ATOMIC_RELAXED) : DEVKIT_EINVAL;
}

const char *devkit_dns_address(const devkit_dns *d) { return d ? d->address : NULL; }

/* --- stats ----------------------------------------------------------------------- */

static void fill_stats(void *object, void *out)
{
	*(devkit_dns_stats *)out = ((devkit_dns *)object)->stats;
}

int devkit_dns_get_stats(devkit_dns *d, devkit_dns_stats *out)
{
	return devkit__get_stats(d ? d->ctx : NULL, d, out, DEVKIT_DNS_STATS_VERSION,
		"devkit_dns_get_stats", fill_stats);
}

/* --- devkit_dns_resolve ---------------------------------------------------------- */

typedef struct resolve_job {
	devkit__call *call;
	devkit_dns *d;
	const char *name;
	devkit__bytes *out;
	int waiting;
	int addresses;
	int nxdomain, servfail, failed;
} resolve_job;

static void resolve_done(resolve_job *j)
{
	devkit_dns *d = j->d;
	devkit__call *call = j->call;
	if (j->addresses > 0)
		devkit__call_done(call, d->ctx, 0);
	else if (j->failed)
		devkit__call_fail(call, d->ctx, DEVKIT_ENOMEM, "resolving '%s': out of memory", j->name);
	else if (j->servfail)
		devkit__call_fail(call, d->ctx, DEVKIT_EIO, "resolving '%s': the DNS server failed "
			"(SERVFAIL) or did not answer within %d ms (cluster DNS %s through the tunnel, "
			"upstream %s)", j->name, d->timeout_ms, d->cluster_text, d->upstream_text);
	else if (j->nxdomain)
		devkit__call_fail(call, d->ctx, DEVKIT_ENOTFOUND, "'%s' does not exist (NXDOMAIN, after "
			"the search list)", j->name);
	else
		devkit__call_fail(call, d->ctx, DEVKIT_ENOTFOUND, "'%s' exists but has no address of the "
			"family asked for", j->name);
	free(j);
}

static void on_resolved(void *data, const uint8_t *resp, size_t len)
{
	resolve_job *j = data;
	dns_msg m = { 0 };
	if (!resp || dns_msg_parse(resp, len, &m) != 0) {
		j->failed = 1;
	} else {
		int rcode = DNS_RCODE(m.flags);
		j->nxdomain += rcode == DNS_NXDOMAIN;
		j->servfail += rcode != DNS_NOERROR && rcode != DNS_NXDOMAIN;
		for (size_t i = 0; i < m.nrr; i++) {
			const dns_rr *rr = &m.rrs[i];
			char text[INET6_ADDRSTRLEN];
			if (rr->section != 1 || rr->klass != DNS_C_IN)
				continue;
			if (rr->type == DNS_T_A && rr->rdlen == 4)
				inet_ntop(AF_INET, resp + rr->rdata_off, text, sizeof(text));
			else if (rr->type == DNS_T_AAAA && rr->rdlen == 16)
				inet_ntop(AF_INET6, resp + rr->rdata_off, text, sizeof(text));
			else
				continue;
			if (devkit__bytes_printf(j->out, "%s\n", text) != 0)
				j->failed = 1;
			j->addresses++;
		}
	}
	dns_msg_clear(&m);
	if (--j->waiting == 0)
		resolve_done(j);
}

static void do_resolve(devkit__call *call)
{
	void **args = call->arg;
	devkit_dns *d = args[0];
	const char *name = args[1];
	int family = *(int *)args[2];
	if (d->closing) {
		devkit__call_fail(call, d->ctx, DEVKIT_ECLOSED, "the DNS resolver is closed");
		return;
	}
	resolve_job *j = calloc(1, sizeof(*j));
	if (!j) {
		devkit__call_fail(call, d->ctx, DEVKIT_ENOMEM, "out of memory");
		return;
	}
	j->call = call;
	j->d = d;
	j->name = name;
	j->out = args[3];
	uint16_t types[2];
	int n = 0;
	if (family != AF_INET6)
		types[n++] = DNS_T_A;
	if (family != AF_INET)
		types[n++] = DNS_T_AAAA;
	j->waiting = n + 1; /* held until both are sent: answers may come at once */
	for (int i = 0; i < n; i++) {
		dns_out o = { 0 };
		dns_msg q;
		uint16_t id;
		uv_random(NULL, NULL, &id, sizeof(id), 0, NULL);
		if (dns_build_query(&o, id, 1, name, types[i], DNS_C_IN) != 0 ||
			dns_msg_parse(o.p, o.len, &q) != 0) {
			j->failed = 1;
			j->waiting--;
		} else {
			dns__lookup_cluster(d, o.p, &q, on_resolved, j);
		}
		dns_msg_clear(&q);
		dns_out_free(&o);
	}
	if (--j->waiting == 0)
		resolve_done(j);
}

int devkit_dns_resolve(devkit_dns *d, const char *name, int family, devkit_buf *out)
{
	if (!d || !name || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_resolve: dns, name and out are required");
	if (family != AF_INET && family != AF_INET6 && family != AF_UNSPEC)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_resolve: family %d is not AF_INET, "
			"AF_INET6 or AF_UNSPEC", family);
	size_t n = strlen(name);
	if (n == 0 || n > 253)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_resolve: '%.64s' is not a host name", name);
	dns_out check = { 0 };
	int bad = dns_put_name(&check, name) != 0;
	dns_out_free(&check);
	if (bad)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_dns_resolve: '%.64s' is not a valid DNS "
			"name (empty label, or a label over 63 bytes)", name);
	devkit__bytes b = DEVKIT__BYTES_INIT;
	/* An address literal is its own answer, as getaddrinfo() gives it. */
	unsigned char raw[16];
	if ((family != AF_INET6 && inet_pton(AF_INET, name, raw) == 1) ||
		(family != AF_INET && inet_pton(AF_INET6, name, raw) == 1)) {
		if (devkit__bytes_printf(&b, "%s\n", name) != 0)
			return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	} else {
		void *args[4] = { d, (void *)name, &family, &b };
		devkit__call call = { .fn = do_resolve, .arg = args };
		int rc = devkit__call_run(d->ctx, &call);
		if (rc < 0) {
			devkit__bytes_free(&b);
			return rc;
		}
	}
	devkit__bytes_give(&b, out);
	return 0;
}
