/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648) on top of OpenSSL's block codec. */
#ifndef DEVKIT_CORE_BASE64_H
#define DEVKIT_CORE_BASE64_H

#include <stddef.h>

/* Encode into `out` (NUL-terminated); `pad` 0 drops the trailing '=' as
 * OpenSSH fingerprints do. Returns the length, or -1 if `out` is too small. */
int devkit__base64_encode(const void *data, size_t len, char *out, size_t outlen, int pad);
/* Decode; returns the number of bytes, or -1 for invalid input or small `out`. */
int devkit__base64_decode(const char *text, size_t len, unsigned char *out, size_t outlen);

#endif
