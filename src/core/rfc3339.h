/* SPDX-License-Identifier: Apache-2.0 */
/* RFC 3339 times as Kubernetes writes them (2024-05-01T10:00:00.25+02:00). */
#ifndef DEVKIT_CORE_RFC3339_H
#define DEVKIT_CORE_RFC3339_H

#include <stdint.h>
#include <time.h>

/* Milliseconds since the epoch. 0, or -1 for anything that is not a full
 * date-time with 'T' and a zone (Z or +hh:mm). */
int devkit__rfc3339_parse_ms(const char *s, int64_t *ms);
/* The same in whole seconds. */
int devkit__rfc3339_parse(const char *s, time_t *out);
/* "2024-05-01T10:00:00Z" (UTC). */
void devkit__rfc3339_format(time_t t, char out[32]);

#endif
