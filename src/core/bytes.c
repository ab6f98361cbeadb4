/* SPDX-License-Identifier: Apache-2.0 */
#include "bytes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devkit/common.h"

static int reserve(devkit__bytes *b, size_t extra)
{
	if (b->cap - b->len >= extra)
		return 0;
	/* Reclaim consumed space before growing: output queues are mostly drained
	 * from the front, so this keeps them at one allocation. */
	if (b->off > 0 && b->cap - (b->len - b->off) >= extra) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
		return 0;
	}
	size_t want = b->cap ? b->cap : 256;
	while (want - b->len < extra) {
		if (want > (size_t)-1 / 2)
			return DEVKIT_ENOMEM;
		want *= 2;
	}
	char *p = realloc(b->data, want);
	if (!p)
		return DEVKIT_ENOMEM;
	b->data = p;
	b->cap = want;
	return 0;
}

int devkit__bytes_append(devkit__bytes *b, const void *data, size_t n)
{
	if (n == 0)
		return 0;
	int rc = reserve(b, n);
	if (rc)
		return rc;
	memcpy(b->data + b->len, data, n);
	b->len += n;
	return 0;
}

int devkit__bytes_printf(devkit__bytes *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return DEVKIT_EINVAL;
	int rc = reserve(b, (size_t)n + 1);
	if (rc)
		return rc;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void devkit__bytes_consume(devkit__bytes *b, size_t n)
{
	if (n >= b->len - b->off) {
		b->off = b->len = 0;
		return;
	}
	b->off += n;
}

void devkit__bytes_reset(devkit__bytes *b)
{
	b->off = b->len = 0;
}

void devkit__bytes_give(devkit__bytes *b, devkit_buf *out)
{
	if (b->off > 0) {
		memmove(b->data, b->data + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	out->ptr = b->data;
	out->size = b->len;
	out->reserved = b->cap;
	b->data = NULL;
	b->len = b->cap = 0;
}

void devkit__bytes_free(devkit__bytes *b)
{
	free(b->data);
	b->data = NULL;
	b->off = b->len = b->cap = 0;
}
