/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Values with a format of their own: Kubernetes names and label values, a
 * pinned host key, an HTTP header name, a registry URL. Each check is the
 * same regular expression docs/devkit.schema.json gives editors, written
 * out by hand.
 */
#include "config_int.h"

#include <string.h>

static int is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static int is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

/* RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])? */
static int dns_label(const char *s, size_t len)
{
	if (len == 0 || len > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

typedef int (*format_fn)(const char *s);

static int k8s_name(const char *s)
{
	return dns_label(s, strlen(s));
}

static int k8s_subdomain(const char *s)
{
	if (strlen(s) > 253)
		return 0;
	for (;;) {
		size_t len = strcspn(s, ".");
		if (!dns_label(s, len))
			return 0;
		if (!s[len])
			return 1;
		s += len + 1;
	}
}

/* A label value: [A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?, at most 63. */
static int label_value(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 63 || !is_alnum(s[0]) || !is_alnum(s[len - 1]))
		return 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_alnum(s[i]) && !strchr("-_.", s[i]))
			return 0;
	}
	return 1;
}

/* An HTTP token (RFC 9110), as a header name must be. */
static int header(const char *s)
{
	for (const char *c = s; *c; c++) {
		if (!is_alnum(*c) && !strchr("!#$%&'*+.^_`|~-", *c))
			return 0;
	}
	return *s != '\0';
}

/* "SHA256:" and 43 base64 characters, as `ssh-keygen -l` prints a key. */
static int sha256(const char *s)
{
	if (strncmp(s, "SHA256:", 7) != 0)
		return 0;
	s += 7;
	size_t n = 0;
	while (is_alnum(s[n]) || s[n] == '+' || s[n] == '/')
		n++;
	return n == 43 && (!s[n] || (s[n] == '=' && !s[n + 1]));
}

static int with_format(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj, format_fn ok)
{
	cfg_val val;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	if (!ok(val.text))
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, val.text, 0);
}

int cfg_set_k8s_name(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return with_format(p, k, v, path, obj, k8s_name);
}

int cfg_set_k8s_subdomain(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	return with_format(p, k, v, path, obj, k8s_subdomain);
}

int cfg_set_label_value(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	return with_format(p, k, v, path, obj, label_value);
}

int cfg_set_header(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return with_format(p, k, v, path, obj, header);
}

int cfg_set_sha256(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path, void *obj)
{
	return with_format(p, k, v, path, obj, sha256);
}

/* scheme[+https]://AUTHORITY[/path][?query]; the library checks the rest. */
int cfg_set_registry_url(cfg_parse *p, const cfg_key *k, const cfg_node *v, const char *path,
	void *obj)
{
	static const char *const schemes[] = { "nacos://", "nacos+https://", "eureka://",
		"eureka+https://", "consul://", "consul+https://", "etcd://", "etcd+https://",
		"zookeeper://" };
	cfg_val val;
	const char *rest = NULL;
	int rc = cfg_string(p, k, v, path, 0, &val);
	if (rc <= 0)
		return rc;
	for (size_t i = 0; i < sizeof(schemes) / sizeof(schemes[0]) && !rest; i++) {
		if (!strncmp(val.text, schemes[i], strlen(schemes[i])))
			rest = val.text + strlen(schemes[i]);
	}
	if (!rest || strpbrk(val.text, " "))
		return cfg_expected(p, k, v, &val, path);
	size_t auth = strcspn(rest, "/?");
	if (memchr(rest, '@', auth))
		return cfg_fail(p, v, "%s: credentials do not belong in the URL (it is logged and "
			"shown): use registry_user with registry_password_env, or registry_token_env",
			path);
	if (auth == 0 || memchr(rest, '#', auth))
		return cfg_expected(p, k, v, &val, path);
	return cfg_store(p, k, obj, val.text, 0);
}
