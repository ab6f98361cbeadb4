/* SPDX-License-Identifier: Apache-2.0 */
#include "base64.h"

#include <limits.h>
#include <openssl/evp.h>
#include <string.h>

int devkit__base64_encode(const void *data, size_t len, char *out, size_t outlen, int pad)
{
	if (outlen < 4 * ((len + 2) / 3) + 1)
		return -1;
	int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	if (!pad)
		while (n > 0 && out[n - 1] == '=')
			out[--n] = '\0';
	return n;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Not EVP_DecodeBlock: it reads '=' anywhere as a zero digit, skips white
 * space and '-' at either end and ignores leftover bits, so many texts would
 * decode to one key or password. Checked in full before `out` is written, so
 * a refused input leaves nothing of itself (a password, say) behind. */
int devkit__base64_decode(const char *text, size_t len, unsigned char *out, size_t outlen)
{
	size_t pad = 0, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	while (pad < 2 && len > 0 && text[len - 1] == '=') {
		len--;
		pad++;
	}
	if (pad && (len + pad) % 4)
		return -1;
	if (len % 4 == 1)
		return -1;
	for (size_t i = 0; i < len; i++)
		if (b64_value((unsigned char)text[i]) < 0)
			return -1;
	/* Leftover bits must be zero, or two encodings would mean the same. */
	if (len % 4 && (b64_value((unsigned char)text[len - 1]) & (len % 4 == 2 ? 0x0f : 0x03)))
		return -1;
	size_t n = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
	if (n > outlen || n > INT_MAX)
		return -1;
	for (size_t i = 0; i < len; i++) {
		acc = (acc << 6) | (unsigned int)b64_value((unsigned char)text[i]);
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	return (int)o;
}
