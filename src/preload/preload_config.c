/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The shim's configuration: the environment that devkit run gives the routed
 * process (see control.h), parsed once, and the bounded table of addresses
 * that RESOLVE answered for routed names.
 *
 * The environment is read once: it describes the routing of this process and
 * does not change while it runs. Parsing is lazy (pthread_once) so that a
 * process that never connects or resolves pays nothing.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "preload.h"

#define DK_MAX_CIDRS 64
#define DK_MAX_NAMES 32
#define DK_MAX_ROUTED 1024 /* addresses remembered from RESOLVE answers */

struct dk_cidr {
	struct dk_addr net;
	int bits;
};

static struct {
	int debug;
	int ndots;
	const char *control;
	struct dk_cidr cidrs[DK_MAX_CIDRS];
	size_t ncidrs;
	char *domains[DK_MAX_NAMES];
	size_t ndomains;
	char *search[DK_MAX_NAMES];
	size_t nsearch;
} cfg;

/* The routed table is a ring: when full, the oldest answer is forgotten. A
 * name resolved 1024 answers ago and connected to only now would then go
 * direct - unless it is in a routed CIDR, which is the expected setup. */
static struct {
	pthread_mutex_t lock;
	struct dk_addr addrs[DK_MAX_ROUTED];
	size_t count, next;
} routed = { .lock = PTHREAD_MUTEX_INITIALIZER };

static pthread_once_t once = PTHREAD_ONCE_INIT;

void dk_log(const char *fmt, ...)
{
	if (!cfg.debug)
		return;
	/* write(2), not stdio: no locks shared with the application's stdio. */
	char buf[512];
	int saved = errno;
	int n = snprintf(buf, sizeof(buf), "devkit-preload[%d]: ", (int)getpid());
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + n, sizeof(buf) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
	if (len > sizeof(buf) - 2)
		len = sizeof(buf) - 2;
	buf[len++] = '\n';
	ssize_t w = write(2, buf, len);
	(void)w;
	errno = saved;
}

int dk_addr_from_sockaddr(struct dk_addr *a, const struct sockaddr *sa, socklen_t len)
{
	memset(a, 0, sizeof(*a));
	if (sa->sa_family == AF_INET && len >= sizeof(struct sockaddr_in)) {
		a->family = AF_INET;
		memcpy(a->b, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		return 0;
	}
	if (sa->sa_family == AF_INET6 && len >= sizeof(struct sockaddr_in6)) {
		const struct in6_addr *in6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(in6)) {
			a->family = AF_INET;
			memcpy(a->b, &in6->s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->b, in6, 16);
		}
		return 0;
	}
	return -1;
}

int dk_addr_parse(struct dk_addr *a, const char *text)
{
	memset(a, 0, sizeof(*a));
	if (inet_pton(AF_INET, text, a->b) == 1) {
		a->family = AF_INET;
		return 0;
	}
	struct in6_addr in6;
	if (inet_pton(AF_INET6, text, &in6) == 1) {
		if (IN6_IS_ADDR_V4MAPPED(&in6)) {
			a->family = AF_INET;
			memcpy(a->b, &in6.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			memcpy(a->b, &in6, 16);
		}
		return 0;
	}
	return -1;
}

static int cidr_parse(struct dk_cidr *c, char *text)
{
	char *slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	if (dk_addr_parse(&c->net, text) != 0)
		return -1;
	int max = c->net.family == AF_INET ? 32 : 128;
	/* A mapped prefix (::ffff:10.0.0.0/104) was folded to IPv4. */
	int is_mapped = c->net.family == AF_INET && strchr(text, ':') != NULL;
	c->bits = max;
	if (slash) {
		char *end;
		long bits = strtol(slash + 1, &end, 10);
		if (*end || end == slash + 1)
			return -1;
		if (is_mapped)
			bits -= 96;
		if (bits < 0 || bits > max)
			return -1;
		c->bits = (int)bits;
	}
	return 0;
}

static int prefix_match(const unsigned char *a, const unsigned char *net, int bits)
{
	int full = bits / 8, rest = bits % 8;
	if (memcmp(a, net, (size_t)full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	unsigned char mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (net[full] & mask);
}

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

/* Split a comma-separated list into out[] (strings live in one malloc'd copy,
 * kept for the life of the process). Domains are stored lower-case, without
 * leading or trailing dots, so that matching is a plain suffix compare. */
static size_t split_names(const char *env, char **out, size_t cap)
{
	const char *v = getenv(env);
	if (!v || !*v)
		return 0;
	char *copy = strdup(v);
	if (!copy)
		return 0;
	size_t n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && n < cap;
		tok = strtok_r(NULL, ",", &save)) {
		tok = trim(tok);
		while (*tok == '.' || *tok == '*')
			tok++;
		size_t len = strlen(tok);
		while (len && tok[len - 1] == '.')
			tok[--len] = '\0';
		if (!len)
			continue;
		for (char *p = tok; *p; p++)
			*p = (char)tolower((unsigned char)*p);
		out[n++] = tok;
	}
	return n;
}

static void routed_lock(void)
{
	pthread_mutex_lock(&routed.lock);
}

static void routed_unlock(void)
{
	pthread_mutex_unlock(&routed.lock);
}

static void init(void)
{
	cfg.debug = getenv("DEVKIT_PRELOAD_DEBUG") != NULL;
	const char *ctl = getenv("DEVKIT_CONTROL");
	cfg.control = ctl && *ctl ? ctl : NULL;
	const char *nd = getenv("DEVKIT_NDOTS");
	cfg.ndots = nd && *nd ? atoi(nd) : 1; /* resolv.conf's default */
	if (cfg.ndots < 0)
		cfg.ndots = 0;

	const char *cidrs = getenv("DEVKIT_ROUTE_CIDRS");
	if (cidrs && *cidrs) {
		char *copy = strdup(cidrs);
		for (char *save = NULL, *tok = copy ? strtok_r(copy, ",", &save) : NULL;
			tok && cfg.ncidrs < DK_MAX_CIDRS; tok = strtok_r(NULL, ",", &save)) {
			tok = trim(tok);
			if (!*tok)
				continue;
			if (cidr_parse(&cfg.cidrs[cfg.ncidrs], tok) == 0)
				cfg.ncidrs++;
			else
				dk_log("ignoring bad CIDR '%s' in DEVKIT_ROUTE_CIDRS", tok);
		}
		free(copy);
	}
	cfg.ndomains = split_names("DEVKIT_ROUTE_DOMAINS", cfg.domains, DK_MAX_NAMES);
	cfg.nsearch = split_names("DEVKIT_SEARCH", cfg.search, DK_MAX_NAMES);

	/* A fork while another thread holds the table lock would leave the child
	 * with a lock nobody releases: hold it across fork() instead. */
	pthread_atfork(routed_lock, routed_unlock, routed_unlock);
	dk_log("active: %zu CIDRs, %zu domains, %zu search, ndots %d, control %s",
		cfg.ncidrs, cfg.ndomains, cfg.nsearch, cfg.ndots,
		cfg.control ? cfg.control : "(unset)");
}

void dk_config_init(void)
{
	int saved = errno;
	pthread_once(&once, init);
	errno = saved;
}

int dk_debug(void)
{
	return cfg.debug;
}

const char *dk_control_path(void)
{
	return cfg.control;
}

int dk_active(void)
{
	return cfg.ncidrs || cfg.ndomains;
}

int dk_addr_routed(const struct dk_addr *a)
{
	for (size_t i = 0; i < cfg.ncidrs; i++) {
		const struct dk_cidr *c = &cfg.cidrs[i];
		if (c->net.family == a->family && prefix_match(a->b, c->net.b, c->bits))
			return 1;
	}
	int found = 0;
	size_t len = a->family == AF_INET ? 4 : 16;
	routed_lock();
	for (size_t i = 0; i < routed.count && !found; i++)
		found = routed.addrs[i].family == a->family && !memcmp(routed.addrs[i].b, a->b, len);
	routed_unlock();
	return found;
}

void dk_addr_remember(const struct dk_addr *a)
{
	size_t len = a->family == AF_INET ? 4 : 16;
	routed_lock();
	for (size_t i = 0; i < routed.count; i++)
		if (routed.addrs[i].family == a->family && !memcmp(routed.addrs[i].b, a->b, len))
			goto out;
	routed.addrs[routed.next] = *a;
	routed.next = (routed.next + 1) % DK_MAX_ROUTED;
	if (routed.count < DK_MAX_ROUTED)
		routed.count++;
out:
	routed_unlock();
}

int dk_name_routed(const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < cfg.ndomains; i++) {
		size_t d = strlen(cfg.domains[i]);
		if (n < d || strcasecmp(name + n - d, cfg.domains[i]) != 0)
			continue;
		if (n == d || name[n - d - 1] == '.')
			return 1;
	}
	return 0;
}

size_t dk_search_count(void)
{
	return cfg.nsearch;
}

const char *dk_search_at(size_t i)
{
	return cfg.search[i];
}

int dk_ndots(void)
{
	return cfg.ndots;
}
