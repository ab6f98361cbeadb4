/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a question goes, as a resolver inside a Pod would send it:
 *  - a name under one of the cluster domains: the cluster DNS, as asked;
 *  - a name with fewer than `ndots` dots: name + each search suffix in turn,
 *    at the cluster DNS; the first answer that is not NXDOMAIN wins and is
 *    handed back under the name asked (question and owner names rewritten);
 *    if all say NXDOMAIN, the name as asked goes to the upstream resolver;
 *  - anything else: the upstream resolver, as asked.
 * A cluster-only lookup (dns__lookup_cluster, for devkit_dns_resolve) never
 * goes to the upstream: it answers NXDOMAIN instead, and the caller (the
 * routed process's shim) falls back to its own system resolver.
 * Answers (NOERROR and NXDOMAIN) are cached under the name asked, for their
 * smallest TTL. A server that fails or does not answer gives SERVFAIL.
 */
#include "dns_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct lookup {
	devkit_dns *d;
	dns_lookup_cb cb;
	void *data;
	uint8_t *query;          /* the client's query */
	size_t qlen;
	dns_msg q;               /* parsed */
	char **candidates;       /* search names still to try (NULL-terminated) */
	int next;                /* index of the candidate in flight */
	const char *sent_name;   /* the name the server was asked (candidate or q.qname) */
	int to_upstream;
	int cluster_only;        /* NXDOMAIN instead of asking the upstream */
} lookup;

static void free_lookup(lookup *l)
{
	if (l->candidates) {
		for (char **c = l->candidates; *c; c++)
			free(*c);
		free(l->candidates);
	}
	dns_msg_clear(&l->q);
	free(l->query);
	l->d->lookups--;
	free(l);
}

static void count_rcode(devkit_dns *d, const uint8_t *resp, size_t len)
{
	if (len < DNS_HEADER)
		return;
	int rcode = DNS_RCODE(dns_get_u16(resp + 2));
	if (rcode == DNS_NXDOMAIN)
		d->stats.nxdomain++;
	else if (rcode == DNS_SERVFAIL)
		d->stats.servfail++;
}

static void reply(lookup *l, const uint8_t *resp, size_t len)
{
	count_rcode(l->d, resp, len);
	l->cb(l->data, resp, len);
	free_lookup(l);
}

static void reply_error(lookup *l, int rcode)
{
	dns_out o = { 0 };
	if (dns_build_error(&o, l->query, &l->q, rcode) == 0)
		reply(l, o.p, o.len);
	else
		reply(l, NULL, 0); /* out of memory: the client retries */
	dns_out_free(&o);
}

static void on_answer(void *data, int status, const uint8_t *resp, size_t len);

static void send_to(lookup *l, dns_conn *c, const uint8_t *query, size_t len)
{
	if (c == l->d->cluster)
		l->d->stats.cluster++;
	else
		l->d->stats.upstream++;
	dns__conn_send(c, query, len, on_answer, l);
}

/* Ask for one search candidate with a query of our own (same type, class, RD). */
static void send_candidate(lookup *l)
{
	dns_out o = { 0 };
	l->sent_name = l->candidates[l->next];
	if (dns_build_query(&o, l->q.id, (l->q.flags & DNS_FLAG_RD) != 0, l->sent_name, l->q.qtype,
		l->q.qclass) != 0) {
		dns_out_free(&o);
		l->next++;
		if (l->candidates[l->next]) {
			send_candidate(l); /* a candidate too long to be a name: skip it */
			return;
		}
		l->to_upstream = 1;
		l->sent_name = l->q.qname;
		send_to(l, l->d->upstream_udp, l->query, l->qlen);
		return;
	}
	send_to(l, l->d->cluster, o.p, o.len);
	dns_out_free(&o);
}

static void on_answer(void *data, int status, const uint8_t *resp, size_t len)
{
	lookup *l = data;
	devkit_dns *d = l->d;
	if (d->closing || status == DEVKIT_ECLOSED) {
		reply_error(l, DNS_SERVFAIL);
		return;
	}
	dns_msg r;
	if (status < 0 || dns_msg_parse(resp, len, &r) != 0 || !(r.flags & DNS_FLAG_QR)) {
		if (status == 0)
			dns_msg_clear(&r);
		reply_error(l, DNS_SERVFAIL);
		return;
	}
	int rcode = DNS_RCODE(r.flags);
	if (l->candidates && !l->to_upstream && rcode == DNS_NXDOMAIN) {
		dns_msg_clear(&r);
		if (l->candidates[++l->next]) {
			send_candidate(l);
		} else if (l->cluster_only) {
			reply_error(l, DNS_NXDOMAIN);
		} else {
			/* No search name exists: the name as asked, to the upstream. */
			l->to_upstream = 1;
			l->sent_name = l->q.qname;
			send_to(l, d->upstream_udp, l->query, l->qlen);
		}
		return;
	}
	dns_out o = { 0 };
	const uint8_t *out = resp;
	size_t outlen = len;
	if (strcasecmp(l->sent_name, l->q.qname) != 0) {
		if (dns_build_renamed(&o, resp, &r, l->q.id, l->q.qname, l->sent_name) != 0) {
			dns_out_free(&o);
			dns_msg_clear(&r);
			reply_error(l, DNS_SERVFAIL);
			return;
		}
		out = o.p;
		outlen = o.len;
	}
	long ttl = dns_msg_min_ttl(&r, resp);
	if ((rcode == DNS_NOERROR || rcode == DNS_NXDOMAIN) && ttl > 0 && !(r.flags & DNS_FLAG_TC))
		dns__cache_put(d->cache, l->q.qname, l->q.qtype, l->q.qclass, out, outlen,
			(uint32_t)ttl, uv_now(&d->ctx->loop));
	dns_msg_clear(&r);
	reply(l, out, outlen);
	dns_out_free(&o);
}

static int in_cluster(devkit_dns *d, const char *name)
{
	for (char **s = d->domains; s && *s; s++)
		if (dns_name_under(name, *s))
			return 1;
	return 0;
}

static char **make_candidates(devkit_dns *d, const char *name)
{
	size_t n = 0;
	for (char **s = d->search; s && *s; s++)
		n++;
	if (n == 0)
		return NULL;
	char **c = calloc(n + 1, sizeof(char *));
	if (!c)
		return NULL;
	size_t k = 0;
	for (char **s = d->search; *s; s++) {
		size_t len = strlen(name) + strlen(*s) + 2;
		char *full = malloc(len);
		if (!full)
			break;
		snprintf(full, len, "%s.%s", name, *s);
		c[k++] = full;
	}
	if (k == 0) {
		free(c);
		return NULL;
	}
	return c;
}

static void lookup_start(devkit_dns *d, const uint8_t *qbuf, const dns_msg *q, dns_lookup_cb cb,
	void *data, int cluster_only)
{
	size_t len = 0;
	uint8_t *hit = dns__cache_get(d->cache, q->qname, q->qtype, q->qclass, uv_now(&d->ctx->loop),
		&len);
	if (hit) {
		d->stats.cache_hits++;
		dns_set_u16(hit, q->id);
		count_rcode(d, hit, len);
		cb(data, hit, len);
		free(hit);
		return;
	}
	lookup *l = calloc(1, sizeof(*l));
	uint8_t *copy = malloc(q->len);
	if (!l || !copy || dns_msg_parse(qbuf, q->len, &l->q) != 0) {
		free(l);
		free(copy);
		cb(data, NULL, 0);
		return;
	}
	memcpy(copy, qbuf, q->len);
	d->lookups++;
	l->d = d;
	l->cb = cb;
	l->data = data;
	l->query = copy;
	l->qlen = q->len;
	l->sent_name = l->q.qname;
	l->cluster_only = cluster_only;
	if (in_cluster(d, q->qname)) {
		send_to(l, d->cluster, l->query, l->qlen);
		return;
	}
	if (dns_name_dots(q->qname) < d->ndots && *q->qname &&
		(l->candidates = make_candidates(d, q->qname)) != NULL) {
		send_candidate(l);
		return;
	}
	if (cluster_only) {
		reply_error(l, DNS_NXDOMAIN);
		return;
	}
	l->to_upstream = 1;
	send_to(l, d->upstream_udp, l->query, l->qlen);
}

void dns__lookup(devkit_dns *d, const uint8_t *qbuf, const dns_msg *q, dns_lookup_cb cb,
	void *data)
{
	lookup_start(d, qbuf, q, cb, data, 0);
}

void dns__lookup_cluster(devkit_dns *d, const uint8_t *qbuf, const dns_msg *q, dns_lookup_cb cb,
	void *data)
{
	lookup_start(d, qbuf, q, cb, data, 1);
}
