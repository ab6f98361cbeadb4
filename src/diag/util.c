/* SPDX-License-Identifier: Apache-2.0 */
/* Small string helpers of the diagnostics. */
#include "diag_int.h"

#include <strings.h>
#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (at most n bytes), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
	size_t need;
	unsigned int min;
	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xE0) == 0xC0) {
		need = 2;
		min = 0x80;
	} else if ((p[0] & 0xF0) == 0xE0) {
		need = 3;
		min = 0x800;
	} else if ((p[0] & 0xF8) == 0xF0) {
		need = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	unsigned int cp = p[0] & (0x7F >> need);
	for (size_t i = 1; i < need; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return need;
}

json_t *devkit__diag_jstring_lossy(const char *s, size_t len)
{
	char *clean = malloc(len * 3 + 1);
	size_t n = 0;
	if (!clean)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < len;) {
		size_t l = p[i] ? utf8_len(p + i, len - i) : 0;
		if (l == 0) {
			/* U+FFFD, and a NUL too: a JSON string may hold one but a C
			 * reader of the text would stop there */
			memcpy(clean + n, "\xEF\xBF\xBD", 3);
			n += 3;
			i++;
			continue;
		}
		memcpy(clean + n, p + i, l);
		n += l;
		i += l;
	}
	json_t *j = json_stringn(clean, n);
	free(clean);
	return j;
}

const char *devkit__diag_strcasestr(const char *hay, const char *needle)
{
	size_t n = strlen(needle);
	if (!hay)
		return NULL;
	for (; *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return hay;
	return n == 0 ? hay : NULL;
}

void devkit__diag_give(char *s, devkit_buf *out)
{
	size_t n = s ? strlen(s) : 0;
	out->ptr = s;
	out->size = n;
	out->reserved = s ? n + 1 : 0;
}
