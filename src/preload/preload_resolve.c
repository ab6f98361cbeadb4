/* SPDX-License-Identifier: Apache-2.0 */
/*
 * getaddrinfo()/freeaddrinfo() interposers, and the name policy shared with
 * the gethostbyname family (preload_hostent.c): which names the engine
 * resolves (those under DEVKIT_ROUTE_DOMAINS, directly or through the
 * DEVKIT_SEARCH list) and which go to the real resolver untouched.
 *
 * A routed name never reaches the local resolver: if the engine cannot be
 * asked, the answer is EAI_AGAIN rather than a query that would leak the
 * cluster's names to the local DNS (and get a wrong or no answer anyway).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

#define DK_RESOLVE_TIMEOUT_MS 15000
#define DK_MAX_NAME 254
#define DK_MAX_CANDIDATES 34 /* the name and up to 32 search domains, +1 */

/* Our addrinfo entries. The sockaddr is placed 8 bytes further from the
 * addrinfo than glibc places its own (glibc: right after the struct), with a
 * magic number in between: freeaddrinfo() recognises ours by that layout
 * without ever reading past the end of one of glibc's blocks. */
#define DK_AI_MAGIC 0x646b707265616931ull /* "dkpreai1" */
struct dk_ai {
	struct addrinfo ai;
	uint64_t magic;
	union {
		struct sockaddr_in in;
		struct sockaddr_in6 in6;
	} sa;
};
/* One allocation per answer: the entries, then the canonical name. */
struct dk_ai_block {
	void *self; /* == the block: tells the head of our list from the others */
	size_t count;
	struct dk_ai ents[];
};

static int is_ours(const struct addrinfo *ai)
{
	return ai && (const char *)ai->ai_addr == (const char *)ai + offsetof(struct dk_ai, sa) &&
		((const struct dk_ai *)ai)->magic == DK_AI_MAGIC;
}

/* Numeric hosts and localhost are never routed names; inet_aton() also
 * accepts the short forms ("10.1", "0x7f.1") that getaddrinfo() does. */
static int never_routed(const char *node)
{
	struct in_addr in;
	struct in6_addr in6;
	if (!*node || strchr(node, ':') || strchr(node, '%'))
		return 1;
	if (inet_aton(node, &in) || inet_pton(AF_INET6, node, &in6) == 1)
		return 1;
	size_t n = strlen(node);
	if (n && node[n - 1] == '.')
		n--;
	if (n == 9 && !strncasecmp(node, "localhost", 9))
		return 1;
	return n > 10 && !strncasecmp(node + n - 10, ".localhost", 10);
}

enum dk_resolve_result dk_resolve(const char *node, int family, int v4mapped,
	struct dk_addr *out, size_t *n, char *canon, size_t canon_len)
{
	*n = 0;
	if (!node || never_routed(node))
		return DK_RES_NOT_OURS;
	dk_config_init();
	if (!dk_active())
		return DK_RES_NOT_OURS;

	char name[DK_MAX_NAME];
	size_t len = strlen(node);
	if (len >= sizeof(name))
		return DK_RES_NOT_OURS;
	memcpy(name, node, len + 1);
	int absolute = name[len - 1] == '.';
	if (absolute)
		name[--len] = '\0';
	if (!len)
		return DK_RES_NOT_OURS;
	int dots = 0;
	for (const char *p = name; *p; p++)
		dots += *p == '.';

	/* The order the system resolver would try: the name as given first if it
	 * has at least ndots dots, after the search list otherwise. */
	char cands[DK_MAX_CANDIDATES][DK_MAX_NAME];
	size_t nc = 0;
	int self_first = absolute || dots >= dk_ndots();
	if (self_first)
		memcpy(cands[nc++], name, len + 1);
	for (size_t i = 0; !absolute && i < dk_search_count() && nc < DK_MAX_CANDIDATES - 1; i++) {
		int w = snprintf(cands[nc], DK_MAX_NAME, "%s.%s", name, dk_search_at(i));
		if (w > 0 && w < DK_MAX_NAME)
			nc++;
	}
	if (!self_first)
		memcpy(cands[nc++], name, len + 1);

	int self_routed = dk_name_routed(name);
	int any = 0;
	const char *fam = family == AF_INET ? "4" : family == AF_INET6 && !v4mapped ? "6" : "0";
	for (size_t c = 0; c < nc; c++) {
		/* Names outside the routed domains are left to the real resolver
		 * (below), which does its own search with resolv.conf. */
		if (!dk_name_routed(cands[c]))
			continue;
		any = 1;
		char req[DK_MAX_NAME + 32], resp[DEVKIT_CONTROL_MAX_LINE];
		snprintf(req, sizeof(req), "RESOLVE %.253s %s", cands[c], fam);
		if (dk_control_request(req, resp, sizeof(resp), DK_RESOLVE_TIMEOUT_MS) != 0) {
			dk_log("%s: no answer from the engine", req);
			return DK_RES_AGAIN;
		}
		dk_log("%s -> %s", req, resp);
		if (!strcmp(resp, "NXDOMAIN"))
			continue;
		if (strncmp(resp, "OK", 2) != 0 || (resp[2] != ' ' && resp[2] != '\0'))
			return DK_RES_AGAIN;

		struct dk_addr v4[DEVKIT_CONTROL_MAX_ADDRS];
		size_t n4 = 0;
		char *save = NULL;
		for (char *tok = strtok_r(resp + 2, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
			struct dk_addr a;
			if (dk_addr_parse(&a, tok) != 0)
				continue;
			dk_addr_remember(&a);
			if (a.family == AF_INET && family == AF_INET6) {
				if (v4mapped && n4 < DEVKIT_CONTROL_MAX_ADDRS)
					v4[n4++] = a;
				continue;
			}
			if ((family == AF_INET && a.family != AF_INET) || *n >= DEVKIT_CONTROL_MAX_ADDRS)
				continue;
			out[(*n)++] = a;
		}
		/* AI_V4MAPPED: IPv4 answers only when there is no IPv6 one. */
		for (size_t i = 0; *n == 0 && i < n4; i++)
			out[i] = v4[i];
		if (*n == 0)
			*n = n4;
		snprintf(canon, canon_len, "%s", cands[c]);
		return DK_RES_OK;
	}
	if (!any)
		return DK_RES_NOT_OURS;
	/* Every routed expansion of a short name is unknown to the cluster: the
	 * short name may still be local (/etc/hosts, the local search list). A
	 * name that is itself under a routed domain does not exist. */
	return self_routed ? DK_RES_NXDOMAIN : DK_RES_NOT_OURS;
}

typedef int (*getaddrinfo_fn)(const char *, const char *, const struct addrinfo *,
	struct addrinfo **);
typedef void (*freeaddrinfo_fn)(struct addrinfo *);


static int real_getaddrinfo(const char *node, const char *service,
	const struct addrinfo *hints, struct addrinfo **res)
{
	static void *slot;
	getaddrinfo_fn f = (getaddrinfo_fn)dk_real_sym(&slot, "getaddrinfo");
	return f ? f(node, service, hints, res) : EAI_SYSTEM;
}

static void real_freeaddrinfo(struct addrinfo *ai)
{
	static void *slot;
	freeaddrinfo_fn f = (freeaddrinfo_fn)dk_real_sym(&slot, "freeaddrinfo");
	if (f)
		f(ai);
}

struct dk_sock_kind {
	int socktype, protocol, port;
};

/* The (socktype, protocol, port) combinations to answer with, as glibc does:
 * all three kinds when hints leave them open, RAW only without a service
 * name. Returns how many, or a negative EAI_* code. */
static int sock_kinds(const char *service, const struct addrinfo *h, struct dk_sock_kind *k)
{
	int socktype = h ? h->ai_socktype : 0, protocol = h ? h->ai_protocol : 0;
	int flags = h ? h->ai_flags : 0;
	if (socktype != 0 && socktype != SOCK_STREAM && socktype != SOCK_DGRAM && socktype != SOCK_RAW)
		return EAI_SOCKTYPE;
	int numeric = -1;
	if (service) {
		char *end;
		long p = strtol(service, &end, 10);
		if (*service && !*end) {
			if (p < 0 || p > 65535)
				return EAI_SERVICE;
			numeric = (int)p;
		} else if (flags & AI_NUMERICSERV) {
			return EAI_NONAME;
		}
	} else {
		numeric = 0;
	}
	static const struct dk_sock_kind all[] = {
		{ SOCK_STREAM, IPPROTO_TCP, 0 }, { SOCK_DGRAM, IPPROTO_UDP, 0 }, { SOCK_RAW, 0, 0 },
	};
	int n = 0;
	for (size_t i = 0; i < 3; i++) {
		struct dk_sock_kind c = all[i];
		if (socktype && socktype != c.socktype)
			continue;
		if (protocol && c.socktype != SOCK_RAW && protocol != c.protocol)
			continue;
		if (protocol)
			c.protocol = protocol;
		if (numeric >= 0) {
			c.port = numeric;
		} else {
			if (c.socktype == SOCK_RAW)
				continue;
			struct servent se, *sp = NULL;
			char buf[1024];
			getservbyname_r(service, c.socktype == SOCK_STREAM ? "tcp" : "udp", &se, buf,
				sizeof(buf), &sp);
			if (!sp)
				continue;
			c.port = ntohs((uint16_t)sp->s_port);
		}
		k[n++] = c;
	}
	return n ? n : EAI_SERVICE;
}

DK_EXPORT int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	struct addrinfo **res)
{
	int flags = hints ? hints->ai_flags : 0;
	int family = hints ? hints->ai_family : AF_UNSPEC;
	if (!node || (flags & AI_NUMERICHOST) || !res ||
		(family != AF_UNSPEC && family != AF_INET && family != AF_INET6))
		return real_getaddrinfo(node, service, hints, res);

	int saved = errno;
	struct dk_addr addrs[DEVKIT_CONTROL_MAX_ADDRS];
	size_t n;
	char canon[DK_MAX_NAME];
	int v4mapped = family == AF_INET6 && (flags & AI_V4MAPPED);
	switch (dk_resolve(node, family, v4mapped, addrs, &n, canon, sizeof(canon))) {
	case DK_RES_NOT_OURS:
		errno = saved;
		return real_getaddrinfo(node, service, hints, res);
	case DK_RES_NXDOMAIN:
		return EAI_NONAME;
	case DK_RES_AGAIN:
		return EAI_AGAIN;
	case DK_RES_OK:
		break;
	}
	if (n == 0) {
#ifdef EAI_NODATA
		return EAI_NODATA;
#else
		return EAI_NONAME;
#endif
	}
	struct dk_sock_kind kinds[3];
	int nk = sock_kinds(service, hints, kinds);
	if (nk < 0)
		return nk;

	size_t count = n * (size_t)nk;
	size_t clen = (flags & AI_CANONNAME) ? strlen(canon) + 1 : 0;
	struct dk_ai_block *b = calloc(1, sizeof(*b) + count * sizeof(struct dk_ai) + clen);
	if (!b)
		return EAI_MEMORY;
	b->self = b;
	b->count = count;
	char *cname = clen ? (char *)&b->ents[count] : NULL;
	if (cname)
		memcpy(cname, canon, clen);
	size_t e = 0;
	for (size_t i = 0; i < n; i++) {
		for (int k = 0; k < nk; k++, e++) {
			struct dk_ai *d = &b->ents[e];
			d->magic = DK_AI_MAGIC;
			d->ai.ai_socktype = kinds[k].socktype;
			d->ai.ai_protocol = kinds[k].protocol;
			d->ai.ai_addr = (struct sockaddr *)&d->sa;
			uint16_t port = htons((uint16_t)kinds[k].port);
			if (addrs[i].family == AF_INET && family != AF_INET6) {
				d->ai.ai_family = AF_INET;
				d->ai.ai_addrlen = sizeof(d->sa.in);
				d->sa.in.sin_family = AF_INET;
				d->sa.in.sin_port = port;
				memcpy(&d->sa.in.sin_addr, addrs[i].b, 4);
			} else {
				d->ai.ai_family = AF_INET6;
				d->ai.ai_addrlen = sizeof(d->sa.in6);
				d->sa.in6.sin6_family = AF_INET6;
				d->sa.in6.sin6_port = port;
				if (addrs[i].family == AF_INET) { /* AI_V4MAPPED */
					d->sa.in6.sin6_addr.s6_addr[10] = 0xff;
					d->sa.in6.sin6_addr.s6_addr[11] = 0xff;
					memcpy(&d->sa.in6.sin6_addr.s6_addr[12], addrs[i].b, 4);
				} else {
					memcpy(&d->sa.in6.sin6_addr, addrs[i].b, 16);
				}
			}
			d->ai.ai_next = e + 1 < count ? &b->ents[e + 1].ai : NULL;
		}
	}
	b->ents[0].ai.ai_canonname = cname;
	*res = &b->ents[0].ai;
	errno = saved;
	return 0;
}

DK_EXPORT void freeaddrinfo(struct addrinfo *ai)
{
	if (is_ours(ai)) {
		struct dk_ai_block *b = (struct dk_ai_block *)((char *)ai - offsetof(struct dk_ai_block, ents));
		/* Only the head may be freed (POSIX); anything else of ours is left
		 * alone rather than handed to glibc, which would free garbage. */
		if (b->self == b)
			free(b);
		return;
	}
	real_freeaddrinfo(ai);
}
