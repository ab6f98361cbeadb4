/* SPDX-License-Identifier: Apache-2.0 */
/* Parsing "[user@]host[:port]", with IPv6 literals in brackets. */
#ifndef DEVKIT_CORE_HOSTPORT_H
#define DEVKIT_CORE_HOSTPORT_H

typedef struct devkit__hostport {
	char user[128];
	char host[256]; /* without brackets */
	int port;
} devkit__hostport;

/* `allow_user`: accept a "user@" prefix. `default_port` when none is given.
 * Returns 0, or DEVKIT_EINVAL with a message naming the bad part. */
int devkit__hostport_parse(const char *text, int allow_user, int default_port, devkit__hostport *out);

#endif
