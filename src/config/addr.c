/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Addresses, spelled as the CLI spells them (docs/cli.md): "[ADDR:]PORT" to
 * listen, "HOST:PORT" to reach, "[USER@]HOST[:PORT]" for the bastion. IPv6
 * literals go in brackets, "[::1]:8080", and an unbracketed one is refused
 * rather than guessed at. A bare port may be written as a YAML number.
 */
#include "config_int.h"

#include <stdio.h>
#include <string.h>

#define HOST_MAX 254

/* Digits only ("+80", "0x50", "080" are typos here), min..65535. */
static int port_ok(const char *s, int min, int *out)
{
	size_t n = strspn(s, "0123456789");
	if (n == 0 || n > 5 || s[n] != '\0' || (s[0] == '0' && n > 1))
		return 0;
	int v = 0;
	for (size_t i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	if (v < min || v > 65535)
		return 0;
	*out = v;
	return 1;
}

static int host_ok(const char *h, int bracketed)
{
	if (!*h || strlen(h) >= HOST_MAX)
		return 0;
	if (bracketed)
		return strspn(h, "0123456789abcdefABCDEF:.") == strlen(h) && strchr(h, ':');
	for (const unsigned char *c = (const unsigned char *)h; *c; c++) {
		if (*c <= 0x20 || *c == 0x7f || strchr("@/[]:", *c))
			return 0;
	}
	return 1;
}

/* "host", "host:port", "[v6]", "[v6]:port" -> host (without brackets) and
 * the port's text (NULL when none). */
static int split(const char *s, char *host, size_t size, const char **port)
{
	const char *end;
	int bracketed = 0;

	*port = NULL;
	if (*s == '[') {
		end = strchr(s, ']');
		if (!end || (end[1] != '\0' && end[1] != ':'))
			return 0;
		s++;
		bracketed = 1;
		if (end[1] == ':')
			*port = end + 2;
	} else {
		end = strchr(s, ':');
		if (end)
			*port = end + 1;
		else
			end = s + strlen(s);
	}
	if ((size_t)(end - s) >= size)
		return 0;
	memcpy(host, s, (size_t)(end - s));
	host[end - s] = '\0';
	return host_ok(host, bracketed);
}

/* [ADDR:]PORT into the key's two fields (address, port); `min_port` 0 lets
 * the system choose. */
static int listen_spec(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj, int min_port)
{
	cfg_val val;
	char host[HOST_MAX];
	const char *port_text;
	long long n;
	int port;
	int rc = cfg_value(p, k, v, path, &val);
	if (rc <= 0)
		return rc;
	if (val.type == CFG_T_INT) {
		if (cfg_core_int(val.text, min_port, 65535, &n) != 0)
			return cfg_expected(p, k, v, &val, path);
		*CFG_FIELD2(obj, k, int) = (int)n;
		return 0;
	}
	if (val.type != CFG_T_STR)
		return cfg_expected(p, k, v, &val, path);
	if (port_ok(val.text, min_port, &port)) {
		*CFG_FIELD2(obj, k, int) = port;
		return 0;
	}
	if (!split(val.text, host, sizeof(host), &port_text) || !port_text
			|| !port_ok(port_text, min_port, &port))
		return cfg_expected(p, k, v, &val, path);
	const char *copy = cfg_strdup(p->cfg, host, 0);
	if (!copy)
		return DEVKIT_ENOMEM;
	*CFG_FIELD(obj, k, const char *) = copy;
	*CFG_FIELD2(obj, k, int) = port;
	return 0;
}

int cfg_set_bind(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return listen_spec(p, k, v, path, obj, 0);
}

int cfg_set_local(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return listen_spec(p, k, v, path, obj, 1);
}

/* HOST:PORT into two fields (host, port). */
int cfg_set_target(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	char host[HOST_MAX];
	const char *port_text;
	int port;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if (!split(val.text, host, sizeof(host), &port_text) || !port_text
			|| !port_ok(port_text, 1, &port))
		return cfg_expected(p, k, v, &val, path);
	const char *copy = cfg_strdup(p->cfg, host, 0);
	if (!copy)
		return DEVKIT_ENOMEM;
	*CFG_FIELD(obj, k, const char *) = copy;
	*CFG_FIELD2(obj, k, int) = port;
	return 0;
}

/* A host alone; brackets around an IPv6 literal are optional and removed. */
int cfg_set_host(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	char host[HOST_MAX];
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	size_t len = strlen(val.text);
	int ok;
	if (val.text[0] == '[' && len >= 2 && val.text[len - 1] == ']' && len - 2 < sizeof(host)) {
		memcpy(host, val.text + 1, len - 2);
		host[len - 2] = '\0';
		ok = host_ok(host, 1);
	} else {
		/* An IPv6 literal may go without brackets here: there is no port. */
		ok = len < sizeof(host) && (host_ok(val.text, 0)
			|| (strchr(val.text, ':') && host_ok(val.text, 1)));
		if (ok)
			memcpy(host, val.text, len + 1);
	}
	if (!ok)
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, host, 0);
}

/* HOST[:PORT], kept as written: the library parses it again. */
static int hostport(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj, int need_port)
{
	cfg_val val;
	char host[HOST_MAX];
	const char *port_text;
	int port;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if (!split(val.text, host, sizeof(host), &port_text)
			|| (port_text && !port_ok(port_text, 1, &port)) || (need_port && !port_text))
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, val.text, 0);
}

int cfg_set_hostport(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return hostport(p, k, v, path, obj, 0);
}

int cfg_set_endpoint(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return hostport(p, k, v, path, obj, 1);
}

int cfg_set_bastion(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	cfg_val val;
	char host[HOST_MAX];
	const char *port_text;
	int port;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	const char *at = strchr(val.text, '@');
	const char *rest = at ? at + 1 : val.text;
	/* The user: not empty, no ':' or blank before the '@'. */
	if ((at && (at == val.text || strcspn(val.text, " :") < (size_t)(at - val.text)))
			|| !split(rest, host, sizeof(host), &port_text)
			|| (port_text && !port_ok(port_text, 1, &port)))
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, val.text, 0);
}
