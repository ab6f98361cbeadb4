/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What a plain scalar is, by the YAML 1.2 core schema — the one editors
 * (yaml-language-server) and Kubernetes tooling use. Not YAML 1.1: "yes",
 * "on" and "no" are strings here, and "1:30" is not a number, so a value
 * means the same to devkit, to the editor and to the schema test.
 */
#include "config_int.h"

#include <string.h>

static int all_of(const char *s, const char *set)
{
	return *s && strspn(s, set) == strlen(s);
}

static int is_float(const char *s)
{
	if (*s == '+' || *s == '-')
		s++;
	if (!strcmp(s, ".inf") || !strcmp(s, ".Inf") || !strcmp(s, ".INF"))
		return 1;
	/* [0-9]+(\.[0-9]*)? or \.[0-9]+, then an optional exponent */
	size_t digits = strspn(s, "0123456789");
	const char *p = s + digits;
	if (*p == '.') {
		size_t frac = strspn(p + 1, "0123456789");
		if (!digits && !frac)
			return 0;
		p += 1 + frac;
	} else if (!digits) {
		return 0;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		size_t exp = strspn(p, "0123456789");
		if (!exp)
			return 0;
		p += exp;
	}
	return *p == '\0';
}

cfg_type cfg_resolve_plain(const char *t)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	static const char *const bools[] = { "true", "True", "TRUE", "false", "False", "FALSE" };

	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (!strcmp(t, nulls[i]))
			return CFG_T_NULL;
	}
	for (size_t i = 0; i < sizeof(bools) / sizeof(bools[0]); i++) {
		if (!strcmp(t, bools[i]))
			return CFG_T_BOOL;
	}
	const char *d = (*t == '+' || *t == '-') ? t + 1 : t;
	if (all_of(d, "0123456789"))
		return CFG_T_INT;
	if (!strncmp(t, "0o", 2) && all_of(t + 2, "01234567"))
		return CFG_T_INT;
	if (!strncmp(t, "0x", 2) && all_of(t + 2, "0123456789abcdefABCDEF"))
		return CFG_T_INT;
	if (is_float(t) || !strcmp(t, ".nan") || !strcmp(t, ".NaN") || !strcmp(t, ".NAN"))
		return CFG_T_FLOAT;
	return CFG_T_STR;
}

int cfg_core_int(const char *text, long long min, long long max, long long *out)
{
	const char *p = text;
	int neg = 0, base = 10;
	unsigned long long v = 0;
	const unsigned long long limit = (unsigned long long)1 << 62;

	if (*p == '+' || *p == '-')
		neg = *p++ == '-';
	else if (!strncmp(p, "0o", 2))
		base = 8, p += 2;
	else if (!strncmp(p, "0x", 2))
		base = 16, p += 2;
	if (!*p)
		return -1;
	for (; *p; p++) {
		int d;
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			return -1;
		if (d >= base)
			return -1;
		/* Saturate instead of overflowing: anything this big is out of range. */
		if (v < limit)
			v = v * (unsigned)base + (unsigned)d;
	}
	long long s = v >= limit ? (neg ? -(long long)limit : (long long)limit)
		: (neg ? -(long long)v : (long long)v);
	if (s < min || s > max)
		return -2;
	*out = s;
	return 0;
}
