/* SPDX-License-Identifier: Apache-2.0 */
#include "cli_json.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void put(cli_json *j, const char *s, size_t n)
{
	if (j->failed)
		return;
	if (j->len + n + 1 > j->cap) {
		size_t cap = j->cap ? j->cap : 256;
		char *p;

		while (j->len + n + 1 > cap)
			cap *= 2;
		p = realloc(j->buf, cap);
		if (!p) {
			j->failed = 1;
			return;
		}
		j->buf = p;
		j->cap = cap;
	}
	memcpy(j->buf + j->len, s, n);
	j->len += n;
	j->buf[j->len] = '\0';
}

static void puts_(cli_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Length of the valid UTF-8 sequence at s (1..4), or 0 if it is not valid:
 * overlong forms, surrogates and values above U+10FFFF are all refused. */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if (c == 0xe0 && s[1] < 0xa0)
			return 0;
		if (c == 0xed && s[1] >= 0xa0)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if (c == 0xf0 && s[1] < 0x90)
			return 0;
		if (c == 0xf4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

static void put_escaped(cli_json *j, const char *value)
{
	const unsigned char *s = (const unsigned char *)(value ? value : "");

	put(j, "\"", 1);
	while (*s) {
		char esc[8];
		size_t n;

		switch (*s) {
		case '"': puts_(j, "\\\""); s++; continue;
		case '\\': puts_(j, "\\\\"); s++; continue;
		case '\n': puts_(j, "\\n"); s++; continue;
		case '\r': puts_(j, "\\r"); s++; continue;
		case '\t': puts_(j, "\\t"); s++; continue;
		case '\b': puts_(j, "\\b"); s++; continue;
		case '\f': puts_(j, "\\f"); s++; continue;
		default: break;
		}
		if (*s < 0x20 || *s == 0x7f) {
			snprintf(esc, sizeof(esc), "\\u%04x", *s);
			puts_(j, esc);
			s++;
			continue;
		}
		n = utf8_len(s); /* reads at most up to the NUL: continuation checks fail on it */
		if (n == 0) {
			puts_(j, "\\ufffd");
			s++;
			continue;
		}
		put(j, (const char *)s, n);
		s += n;
	}
	put(j, "\"", 1);
}

static void key_(cli_json *j, const char *key)
{
	if (j->need_comma)
		put(j, ",", 1);
	if (key) {
		put_escaped(j, key);
		put(j, ":", 1);
	}
	j->need_comma = 1;
}

void cli_json_object_begin(cli_json *j, const char *key)
{
	key_(j, key);
	put(j, "{", 1);
	j->need_comma = 0;
}

void cli_json_object_end(cli_json *j)
{
	put(j, "}", 1);
	j->need_comma = 1;
}

void cli_json_array_begin(cli_json *j, const char *key)
{
	key_(j, key);
	put(j, "[", 1);
	j->need_comma = 0;
}

void cli_json_array_end(cli_json *j)
{
	put(j, "]", 1);
	j->need_comma = 1;
}

void cli_json_string(cli_json *j, const char *key, const char *value)
{
	key_(j, key);
	put_escaped(j, value);
}

void cli_json_int(cli_json *j, const char *key, long long value)
{
	char num[32];

	key_(j, key);
	snprintf(num, sizeof(num), "%lld", value);
	puts_(j, num);
}

void cli_json_uint(cli_json *j, const char *key, uint64_t value)
{
	char num[32];

	key_(j, key);
	snprintf(num, sizeof(num), "%" PRIu64, value);
	puts_(j, num);
}

void cli_json_double(cli_json *j, const char *key, double value)
{
	char num[64];

	key_(j, key);
	/* JSON has no NaN or Infinity. */
	if (!isfinite(value))
		value = 0.0;
	snprintf(num, sizeof(num), "%.6g", value);
	puts_(j, num);
}

void cli_json_bool(cli_json *j, const char *key, int value)
{
	key_(j, key);
	puts_(j, value ? "true" : "false");
}

int cli_json_write(cli_json *j, FILE *f)
{
	int rc = 0;

	if (j->failed) {
		rc = -1;
	} else {
		put(j, "\n", 1);
		if (j->failed || fwrite(j->buf, 1, j->len, f) != j->len || fflush(f) != 0)
			rc = -1;
	}
	j->len = 0;
	j->need_comma = 0;
	j->failed = 0;
	if (j->buf)
		j->buf[0] = '\0';
	return rc;
}

void cli_json_free(cli_json *j)
{
	free(j->buf);
	j->buf = NULL;
	j->len = j->cap = 0;
	j->need_comma = j->failed = 0;
}

int cli_json_field(const char *json, const char *key, char *out, size_t size)
{
	char pattern[64];
	const char *p;
	size_t n = 0;

	snprintf(pattern, sizeof(pattern), "\"%s\"", key);
	p = json ? strstr(json, pattern) : NULL;
	if (!p || size == 0)
		return -1;
	p += strlen(pattern);
	while (isspace((unsigned char)*p))
		p++;
	if (*p++ != ':')
		return -1;
	while (isspace((unsigned char)*p))
		p++;
	if (*p != '"') {
		while (*p && (isalnum((unsigned char)*p) || *p == '-' || *p == '.') && n + 1 < size)
			out[n++] = *p++;
		out[n] = '\0';
		return n ? 0 : -1;
	}
	for (p++; *p && *p != '"' && n + 1 < size; p++) {
		if (*p == '\\' && p[1])
			p++; /* \" \\ \/; other escapes do not occur in these fields */
		out[n++] = *p;
	}
	out[n] = '\0';
	return 0;
}
