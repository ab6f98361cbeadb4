/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A growable byte buffer with a read offset, for protocol parsing and output
 * queues. Private to the library.
 */
#ifndef DEVKIT_CORE_BYTES_H
#define DEVKIT_CORE_BYTES_H

#include <stddef.h>
#include <stdarg.h>

typedef struct devkit__bytes {
	char *data;
	size_t off;  /* first unread byte */
	size_t len;  /* end of valid bytes */
	size_t cap;
} devkit__bytes;

#define DEVKIT__BYTES_INIT { NULL, 0, 0, 0 }

/* Bytes not yet consumed. */
static inline size_t devkit__bytes_avail(const devkit__bytes *b) { return b->len - b->off; }
static inline const char *devkit__bytes_head(const devkit__bytes *b) { return b->data + b->off; }

int devkit__bytes_append(devkit__bytes *b, const void *data, size_t n);
int devkit__bytes_printf(devkit__bytes *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Drop `n` bytes from the front; compacts lazily. */
void devkit__bytes_consume(devkit__bytes *b, size_t n);
void devkit__bytes_reset(devkit__bytes *b);
void devkit__bytes_free(devkit__bytes *b);
/* Hand the bytes to the caller as a devkit_buf (released with devkit_buf_dispose). */
struct devkit_buf;
void devkit__bytes_give(devkit__bytes *b, struct devkit_buf *out);

#endif
