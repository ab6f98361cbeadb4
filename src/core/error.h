/* SPDX-License-Identifier: Apache-2.0 */
/* Setting the calling thread's last error. Private to the library. */
#ifndef DEVKIT_CORE_ERROR_H
#define DEVKIT_CORE_ERROR_H

#include "devkit/common.h"

/* Record `code` with a formatted message as this thread's last error; returns `code`
 * so that `return devkit__error_set(DEVKIT_EINVAL, "...")` reads naturally. */
int devkit__error_set(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Record a message made elsewhere (e.g. on the I/O thread) verbatim. */
int devkit__error_set_str(int code, const char *message);

/* The body of every devkit_X_options_init(): check, then copy the defaults.
 * `name` is the public function's name, for the message. */
int devkit__options_init(void *opts, const void *defaults, size_t size, unsigned int version,
	unsigned int known, const char *name);

#endif
