/* SPDX-License-Identifier: Apache-2.0 */
/*
 * gethostbyname(), gethostbyname2() and their _r variants, for programs that
 * still use them. Routed names are answered from the engine (the policy is
 * dk_resolve's, shared with getaddrinfo); everything else goes to glibc.
 * The non-reentrant variants return thread-local storage: glibc's is one
 * static buffer for the process, ours is at least as safe.
 */
#include <dlfcn.h>
#include <errno.h>
#include <netdb.h>
#include <stdint.h>
#include <string.h>

#include "preload.h"

typedef int (*byname2_r_fn)(const char *, int, struct hostent *, char *, size_t,
	struct hostent **, int *);
typedef int (*byname_r_fn)(const char *, struct hostent *, char *, size_t,
	struct hostent **, int *);
typedef struct hostent *(*byname2_fn)(const char *, int);
typedef struct hostent *(*byname_fn)(const char *);


/* Lay the answer out in buf: pointer array first (aligned), then addresses,
 * then the name. Returns 0 or ERANGE. */
static int fill(struct hostent *h, char *buf, size_t buflen, const char *canon, int af,
	const struct dk_addr *a, size_t n)
{
	size_t alen = af == AF_INET ? 4 : 16;
	uintptr_t p = ((uintptr_t)buf + sizeof(void *) - 1) & ~(uintptr_t)(sizeof(void *) - 1);
	size_t pad = (size_t)(p - (uintptr_t)buf);
	size_t need = pad + (n + 2) * sizeof(char *) + n * alen + strlen(canon) + 1;
	if (need > buflen)
		return ERANGE;
	char **list = (char **)p;
	char *addrs = (char *)(list + n + 2);
	char *name = addrs + n * alen;
	for (size_t i = 0; i < n; i++) {
		memcpy(addrs + i * alen, a[i].b, alen);
		list[i] = addrs + i * alen;
	}
	list[n] = NULL;
	list[n + 1] = NULL; /* the (empty) alias list */
	strcpy(name, canon);
	h->h_name = name;
	h->h_aliases = &list[n + 1];
	h->h_addrtype = af;
	h->h_length = (int)alen;
	h->h_addr_list = list;
	return 0;
}

/* Returns 1 if answered (ours), 0 if the real function must be called. */
static int ours(const char *name, int af, struct hostent *ret, char *buf, size_t buflen,
	struct hostent **result, int *h_errnop, int *rc)
{
	struct dk_addr a[DEVKIT_CONTROL_MAX_ADDRS];
	size_t n;
	char canon[256];
	if (af != AF_INET && af != AF_INET6)
		return 0;
	int saved = errno;
	enum dk_resolve_result r = dk_resolve(name, af, 0, a, &n, canon, sizeof(canon));
	errno = saved;
	*result = NULL;
	*rc = 0;
	switch (r) {
	case DK_RES_NOT_OURS:
		return 0;
	case DK_RES_NXDOMAIN:
		*h_errnop = HOST_NOT_FOUND;
		return 1;
	case DK_RES_AGAIN:
		*h_errnop = TRY_AGAIN;
		*rc = EAGAIN;
		return 1;
	case DK_RES_OK:
		break;
	}
	if (n == 0) {
		*h_errnop = NO_DATA;
		return 1;
	}
	if (fill(ret, buf, buflen, canon, af, a, n) != 0) {
		*h_errnop = NETDB_INTERNAL;
		*rc = ERANGE;
		errno = ERANGE;
		return 1;
	}
	*result = ret;
	*h_errnop = 0;
	return 1;
}

DK_EXPORT int gethostbyname2_r(const char *name, int af, struct hostent *ret, char *buf,
	size_t buflen, struct hostent **result, int *h_errnop)
{
	int rc;
	if (ours(name, af, ret, buf, buflen, result, h_errnop, &rc))
		return rc;
	static void *slot;
	byname2_r_fn f = (byname2_r_fn)dk_real_sym(&slot, "gethostbyname2_r");
	return f ? f(name, af, ret, buf, buflen, result, h_errnop) : ENOSYS;
}

DK_EXPORT int gethostbyname_r(const char *name, struct hostent *ret, char *buf, size_t buflen,
	struct hostent **result, int *h_errnop)
{
	int rc;
	if (ours(name, AF_INET, ret, buf, buflen, result, h_errnop, &rc))
		return rc;
	static void *slot;
	byname_r_fn f = (byname_r_fn)dk_real_sym(&slot, "gethostbyname_r");
	return f ? f(name, ret, buf, buflen, result, h_errnop) : ENOSYS;
}

static __thread struct hostent tls_host;
static __thread char tls_buf[DEVKIT_CONTROL_MAX_ADDRS * (16 + sizeof(char *)) + 512];

DK_EXPORT struct hostent *gethostbyname2(const char *name, int af)
{
	struct hostent *result;
	int herr, rc;
	if (ours(name, af, &tls_host, tls_buf, sizeof(tls_buf), &result, &herr, &rc)) {
		h_errno = herr;
		return result;
	}
	static void *slot;
	byname2_fn f = (byname2_fn)dk_real_sym(&slot, "gethostbyname2");
	return f ? f(name, af) : NULL;
}

DK_EXPORT struct hostent *gethostbyname(const char *name)
{
	struct hostent *result;
	int herr, rc;
	if (ours(name, AF_INET, &tls_host, tls_buf, sizeof(tls_buf), &result, &herr, &rc)) {
		h_errno = herr;
		return result;
	}
	static void *slot;
	byname_fn f = (byname_fn)dk_real_sym(&slot, "gethostbyname");
	return f ? f(name) : NULL;
}
