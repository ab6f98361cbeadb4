/* SPDX-License-Identifier: Apache-2.0 */
#include "registry_url.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "core/hostport.h"

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Decode %XX and '+' (query strings) into a new string. */
static char *decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '%' && i + 2 < len && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			*o++ = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
			i += 2;
		} else {
			*o++ = s[i] == '+' ? ' ' : s[i];
		}
	}
	*o = '\0';
	return out;
}

char *devkit__url_encode(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s);
	char *out = malloc(n * 3 + 1), *o = out;
	if (!out)
		return NULL;
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~') {
			*o++ = (char)*p;
		} else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

static int parse_query(const char *q, devkit__reg_url *out)
{
	while (*q) {
		size_t len = strcspn(q, "&");
		if (len) {
			const char *eq = memchr(q, '=', len);
			size_t klen = eq ? (size_t)(eq - q) : len;
			devkit__reg_kv *kv = realloc(out->query, sizeof(*kv) * (size_t)(out->nquery + 1));
			if (!kv)
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			out->query = kv;
			kv[out->nquery].key = decode(q, klen);
			kv[out->nquery].value = eq ? decode(eq + 1, len - klen - 1) : strdup("");
			out->nquery++;
			if (!kv[out->nquery - 1].key || !kv[out->nquery - 1].value)
				return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
		}
		q += len;
		if (*q == '&')
			q++;
	}
	return 0;
}

int devkit__reg_url_parse(const char *text, devkit__reg_url *out)
{
	memset(out, 0, sizeof(*out));
	const char *sep = strstr(text, "://");
	if (!sep || sep == text || (size_t)(sep - text) >= sizeof(out->scheme))
		return devkit__error_set(DEVKIT_EINVAL,
			"registry URL \"%s\" has no scheme (expected e.g. nacos://host:8848)", text);
	memcpy(out->scheme, text, (size_t)(sep - text));
	for (char *c = out->scheme; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	char *plus = strchr(out->scheme, '+');
	if (plus) {
		if (strcmp(plus, "+https") != 0 && strcmp(plus, "+http") != 0)
			return devkit__error_set(DEVKIT_EINVAL,
				"registry URL scheme \"%s\": only +https or +http may follow the registry name",
				out->scheme);
		out->https = strcmp(plus, "+https") == 0;
		*plus = '\0';
	}
	const char *auth = sep + 3;
	size_t alen = strcspn(auth, "/?#");
	if (alen == 0) {
		devkit__reg_url_dispose(out);
		return devkit__error_set(DEVKIT_EINVAL, "registry URL \"%s\" has no host", text);
	}
	if (memchr(auth, '@', alen)) {
		/* Do not echo the URL: the part before '@' is a secret. */
		int rc = devkit__error_set(DEVKIT_EINVAL, "registry URL of scheme %s holds credentials "
			"(user@host): pass them as username/password or token instead, so they are never "
			"logged", out->scheme);
		devkit__reg_url_dispose(out);
		return rc;
	}
	out->authority = strndup(auth, alen);
	const char *rest = auth + alen;
	size_t plen = strcspn(rest, "?#");
	while (plen > 0 && rest[plen - 1] == '/')
		plen--;
	out->path = strndup(rest, plen);
	if (!out->authority || !out->path) {
		devkit__reg_url_dispose(out);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	const char *q = strchr(rest, '?');
	if (q) {
		char *query = strndup(q + 1, strcspn(q + 1, "#"));
		int rc = query ? parse_query(query, out) : DEVKIT_ENOMEM;
		free(query);
		if (rc < 0) {
			devkit__reg_url_dispose(out);
			return rc;
		}
	}
	return 0;
}

void devkit__reg_url_dispose(devkit__reg_url *url)
{
	free(url->authority);
	free(url->path);
	for (int i = 0; i < url->nquery; i++) {
		free(url->query[i].key);
		free(url->query[i].value);
	}
	free(url->query);
	memset(url, 0, sizeof(*url));
}

int devkit__reg_url_hosts(const char *list, int default_port, devkit__reg_host *hosts, int cap,
	int *count)
{
	*count = 0;
	const char *p = list;
	while (*p) {
		size_t len = strcspn(p, ",");
		if (len) {
			if (*count == cap)
				return devkit__error_set(DEVKIT_EINVAL, "more than %d registry hosts in \"%s\"",
					cap, list);
			char one[300];
			snprintf(one, sizeof(one), "%.*s", (int)len, p);
			devkit__hostport hp;
			if (devkit__hostport_parse(one, 0, default_port, &hp) < 0)
				return DEVKIT_EINVAL;
			snprintf(hosts[*count].host, sizeof(hosts[*count].host), "%s", hp.host);
			hosts[*count].port = hp.port;
			(*count)++;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	if (*count == 0)
		return devkit__error_set(DEVKIT_EINVAL, "no registry host in \"%s\"", list);
	return 0;
}

int devkit__reg_url_take(devkit__reg_url *url, devkit__reg *r, int default_port)
{
	int rc = devkit__reg_url_hosts(url->authority, default_port, r->hosts, 8, &r->nhosts);
	if (rc < 0)
		return rc;
	r->url_host = strdup(r->hosts[0].host);
	if (!r->url_host)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->url_port = r->hosts[0].port;
	r->path = url->path;
	url->path = NULL;
	r->query = url->query;
	r->nquery = url->nquery;
	url->query = NULL;
	url->nquery = 0;
	return 0;
}

int devkit__url_param(devkit__bytes *b, const char *key, const char *value)
{
	char *k = devkit__url_encode(key), *v = devkit__url_encode(value ? value : "");
	int rc = k && v ? devkit__bytes_printf(b, "%s%s=%s", b->len > b->off ? "&" : "", k, v) : -1;
	free(k);
	free(v);
	return rc < 0 ? devkit__error_set(DEVKIT_ENOMEM, "out of memory") : 0;
}
