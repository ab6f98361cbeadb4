/* SPDX-License-Identifier: Apache-2.0 */
/* Names, label values and timestamps of replicas. */
#include "replica_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

/* RFC 1123 label: what a Pod's hostname becomes, so stricter than the DNS
 * subdomain the API server would accept for a Pod name. */
int devkit__dns_label_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 63)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return s[0] != '-' && s[n - 1] != '-';
}

int devkit__dns_subdomain_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0 || n > 253)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'))
			return 0;
	}
	return isalnum((unsigned char)s[0]) && isalnum((unsigned char)s[n - 1]);
}

static int label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

int devkit__label_value_valid(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n == 0) /* valid for Kubernetes, but useless as an owner or a tag */
		return 0;
	if (n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!label_char(s[i]))
			return 0;
	return 1;
}

void devkit__label_value_sanitize(const char *in, char *out, size_t cap)
{
	size_t len = 0;
	for (const char *p = in ? in : ""; *p && len + 1 < cap && len < 63; p++) {
		char c = *p;
		if (len == 0 && !isalnum((unsigned char)c))
			continue; /* must start alphanumeric */
		out[len++] = label_char(c) ? c : '-';
	}
	while (len > 0 && !isalnum((unsigned char)out[len - 1]))
		len--;
	out[len] = '\0';
	if (len == 0)
		snprintf(out, cap, "devkit");
}

/* Lower-case [a-z0-9-] version of `in`, at most `max` characters, no dash at
 * either end. */
static size_t dns_part(const char *in, char *out, size_t max)
{
	size_t len = 0;
	for (const char *p = in; *p && len < max; p++) {
		char c = (char)tolower((unsigned char)*p);
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')))
			c = '-';
		if (len == 0 && c == '-')
			continue;
		out[len++] = c;
	}
	while (len > 0 && out[len - 1] == '-')
		len--;
	out[len] = '\0';
	return len;
}

void devkit__replica_generate_name(const char *source, const char *owner, const char *suffix,
	char *out, size_t cap)
{
	/* 63 = source + '-' + owner + '-' + 5: the owner gets at most 20, the
	 * source what is left, so that both stay recognisable. */
	char s[64], o[64];
	size_t olen = dns_part(owner ? owner : "", o, 20);
	if (olen == 0)
		olen = dns_part("devkit", o, 20);
	size_t room = 63 - 1 - olen - 1 - strlen(suffix);
	if (dns_part(source ? source : "", s, room) == 0)
		dns_part("replica", s, room);
	snprintf(out, cap, "%s-%s-%s", s, o, suffix);
}

int devkit__replica_random_suffix(char out[6])
{
	/* The alphabet of the API server's generateName: no vowels, no 0/1/3. */
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[5];
	if (RAND_bytes(r, sizeof(r)) != 1)
		return -1;
	for (int i = 0; i < 5; i++)
		out[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	out[5] = '\0';
	return 0;
}
