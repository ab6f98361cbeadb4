/* SPDX-License-Identifier: Apache-2.0 */
/* Base64 (RFC 4648): encoding by OpenSSL's block codec, strict decoding. */
#ifndef DEVKIT_CORE_BASE64_H
#define DEVKIT_CORE_BASE64_H

#include <stddef.h>

/* Encode into `out` (NUL-terminated); `pad` 0 drops the trailing '=' as
 * OpenSSH fingerprints do. Returns the length, or -1 if `out` is too small. */
int devkit__base64_encode(const void *data, size_t len, char *out, size_t outlen, int pad);
/* Decode; returns the number of bytes, or -1 for invalid input or small `out`
 * (then `out` is untouched). Strict (RFC 4648 4): only the alphabet, no white
 * space, '=' only at the end and completing the last group, leftover bits
 * zero; unpadded input is accepted, as some encoders leave the '=' out. */
int devkit__base64_decode(const char *text, size_t len, unsigned char *out, size_t outlen);

#endif
