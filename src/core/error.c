/* SPDX-License-Identifier: Apache-2.0 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_message[1024];
static _Thread_local devkit_error last_error;
static _Thread_local int has_error;

const char *devkit_strerror(int code)
{
	switch (code) {
	case DEVKIT_OK: return "success";
	case DEVKIT_ERROR: return "error";
	case DEVKIT_EINVAL: return "invalid argument";
	case DEVKIT_ENOMEM: return "out of memory";
	case DEVKIT_EIO: return "I/O error";
	case DEVKIT_ETIMEOUT: return "timed out";
	case DEVKIT_ENOTFOUND: return "not found";
	case DEVKIT_ECONNREFUSED: return "connection refused";
	case DEVKIT_EHOSTKEY: return "host key rejected";
	case DEVKIT_EAUTH: return "authentication failed";
	case DEVKIT_EPROTO: return "protocol error";
	case DEVKIT_ECLOSED: return "closed";
	case DEVKIT_EEXISTS: return "already exists";
	case DEVKIT_EUNSUPPORTED: return "not supported";
	case DEVKIT_EFORBIDDEN: return "forbidden";
	default: return "unknown error";
	}
}

int devkit__error_set_str(int code, const char *message)
{
	snprintf(last_message, sizeof(last_message), "%s", message ? message : devkit_strerror(code));
	last_error.code = code;
	last_error.message = last_message;
	has_error = 1;
	return code;
}

int devkit__error_set(int code, const char *fmt, ...)
{
	/* Formatted aside first: callers wrap the previous error, passing
	 * devkit_error_last()->message, which is last_message itself. */
	char msg[sizeof(last_message)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(last_message, msg, sizeof(msg));
	last_error.code = code;
	last_error.message = last_message;
	has_error = 1;
	return code;
}

const devkit_error *devkit_error_last(void)
{
	return has_error ? &last_error : NULL;
}

void devkit_error_clear(void)
{
	has_error = 0;
	last_message[0] = '\0';
}

int devkit__options_init(void *opts, const void *defaults, size_t size, unsigned int version,
	unsigned int known, const char *name)
{
	if (!opts)
		return devkit__error_set(DEVKIT_EINVAL, "%s: opts is NULL", name);
	if (version != known)
		return devkit__error_set(DEVKIT_EINVAL, "%s: unknown version %u (this library knows %u)",
			name, version, known);
	memcpy(opts, defaults, size);
	return 0;
}

void devkit_buf_dispose(devkit_buf *buf)
{
	if (!buf)
		return;
	if (buf->reserved)
		free(buf->ptr);
	buf->ptr = NULL;
	buf->size = buf->reserved = 0;
}
