/* SPDX-License-Identifier: Apache-2.0 */
/*
 * libdevkit — common definitions: version, export macro, error codes, buffers.
 *
 * Ownership rules for the whole API (see docs/abi.md):
 *  - what comes back through a `**out` parameter belongs to the caller and is
 *    released with the matching devkit_X_free();
 *  - getters return borrowed pointers, valid as long as the object they came from;
 *  - input strings are copied, the caller may free them after the call returns;
 *  - strings the library makes for the caller come in a devkit_buf, released with
 *    devkit_buf_dispose().
 */
#ifndef DEVKIT_COMMON_H
#define DEVKIT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define DEVKIT_EXTERN(type) extern __attribute__((visibility("default"))) type
#else
#define DEVKIT_EXTERN(type) extern type
#endif

#define DEVKIT_VERSION_MAJOR 0
#define DEVKIT_VERSION_MINOR 3
#define DEVKIT_VERSION_PATCH 0
#define DEVKIT_VERSION "0.3.0"

/** The version of the library actually loaded (may differ from the header). */
DEVKIT_EXTERN(const char *) devkit_version(int *major, int *minor, int *patch);

/**
 * Error codes. Every function that can fail returns 0 on success or one of these
 * (negative) values. devkit_error_last() holds the message that says what and why.
 * Values are stable: new codes are only ever appended.
 */
typedef enum devkit_error_code {
	DEVKIT_OK = 0,
	DEVKIT_ERROR = -1,        /* generic failure */
	DEVKIT_EINVAL = -2,       /* invalid argument or malformed input */
	DEVKIT_ENOMEM = -3,       /* out of memory */
	DEVKIT_EIO = -4,          /* socket or file I/O failed */
	DEVKIT_ETIMEOUT = -5,     /* an operation did not finish in time */
	DEVKIT_ENOTFOUND = -6,    /* name did not resolve, object does not exist */
	DEVKIT_ECONNREFUSED = -7, /* the far side refused or is unreachable */
	DEVKIT_EHOSTKEY = -8,     /* SSH host key unknown, changed or not as pinned */
	DEVKIT_EAUTH = -9,        /* authentication failed */
	DEVKIT_EPROTO = -10,      /* the peer broke its protocol */
	DEVKIT_ECLOSED = -11,     /* the object or engine is closed or shutting down */
	DEVKIT_EEXISTS = -12,     /* conflict: address in use, name taken */
	DEVKIT_EUNSUPPORTED = -13,/* not supported by this build or by the peer */
	DEVKIT_EFORBIDDEN = -14   /* authenticated but not allowed */
} devkit_error_code;

/** A static, human-readable name for an error code ("host key rejected"). */
DEVKIT_EXTERN(const char *) devkit_strerror(int code);

/** The last error raised on the calling thread. */
typedef struct devkit_error {
	int code;            /* a devkit_error_code */
	const char *message; /* what failed and why; never contains secrets */
} devkit_error;

/**
 * The last error of the calling thread, or NULL if none. The pointer stays valid
 * until the next libdevkit call on this thread.
 */
DEVKIT_EXTERN(const devkit_error *) devkit_error_last(void);

/** Forget the calling thread's last error. */
DEVKIT_EXTERN(void) devkit_error_clear(void);

/** A string or byte buffer the library made for the caller. */
typedef struct devkit_buf {
	char *ptr;       /* NUL-terminated for text */
	size_t size;     /* bytes used, not counting the terminator */
	size_t reserved; /* bytes allocated; 0 means ptr is not owned */
} devkit_buf;

#define DEVKIT_BUF_INIT { NULL, 0, 0 }

/** Release the memory of a devkit_buf filled by the library. Accepts an empty buffer. */
DEVKIT_EXTERN(void) devkit_buf_dispose(devkit_buf *buf);

#ifdef __cplusplus
}
#endif
#endif
