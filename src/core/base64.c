/* SPDX-License-Identifier: Apache-2.0 */
#include "base64.h"

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

int devkit__base64_decode(const char *text, size_t len, unsigned char *out, size_t outlen)
{
	/* EVP_DecodeBlock wants a multiple of 4 and counts padding as zero bytes. */
	char buf[8192];
	if (len + 3 >= sizeof(buf))
		return -1;
	memcpy(buf, text, len);
	size_t padded = len;
	while (padded % 4)
		buf[padded++] = '=';
	int pads = 0;
	for (size_t i = padded; i > 0 && buf[i - 1] == '='; i--)
		pads++;
	if ((padded / 4) * 3 > outlen + 2)
		return -1;
	unsigned char tmp[6144];
	int n = EVP_DecodeBlock(tmp, (unsigned char *)buf, (int)padded);
	if (n < 0 || pads > 2)
		return -1;
	n -= pads;
	if ((size_t)n > outlen)
		return -1;
	memcpy(out, tmp, (size_t)n);
	return n;
}
