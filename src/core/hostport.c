/* SPDX-License-Identifier: Apache-2.0 */
#include "hostport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static int parse_port(const char *text, const char *p, int *port)
{
	char *end = NULL;
	long v = strtol(p, &end, 10);
	if (!*p || *end || v < 1 || v > 65535)
		return devkit__error_set(DEVKIT_EINVAL, "'%s': the port must be a number from 1 to 65535", text);
	*port = (int)v;
	return 0;
}

int devkit__hostport_parse(const char *text, int allow_user, int default_port, devkit__hostport *out)
{
	memset(out, 0, sizeof(*out));
	out->port = default_port;
	if (!text || !*text)
		return devkit__error_set(DEVKIT_EINVAL, "empty host");
	const char *p = text;
	const char *at = strrchr(text, '@');
	if (at) {
		if (!allow_user)
			return devkit__error_set(DEVKIT_EINVAL, "'%s': a user name is not allowed here", text);
		size_t n = (size_t)(at - text);
		if (n == 0 || n >= sizeof(out->user))
			return devkit__error_set(DEVKIT_EINVAL, "'%s': bad user name", text);
		memcpy(out->user, text, n);
		p = at + 1;
	}
	const char *host_end;
	const char *port = NULL;
	if (*p == '[') {
		const char *close = strchr(p, ']');
		if (!close)
			return devkit__error_set(DEVKIT_EINVAL, "'%s': missing ']' after an IPv6 address", text);
		if (close[1] == ':')
			port = close + 2;
		else if (close[1] != '\0')
			return devkit__error_set(DEVKIT_EINVAL, "'%s': unexpected text after ']'", text);
		host_end = close;
		p++;
	} else {
		const char *colon = strchr(p, ':');
		if (colon && strchr(colon + 1, ':')) {
			host_end = p + strlen(p); /* a bare IPv6 literal: no port */
		} else {
			host_end = colon ? colon : p + strlen(p);
			port = colon ? colon + 1 : NULL;
		}
	}
	size_t n = (size_t)(host_end - p);
	if (n == 0 || n >= sizeof(out->host))
		return devkit__error_set(DEVKIT_EINVAL, "'%s': %s host name", text, n ? "too long a" : "empty");
	memcpy(out->host, p, n);
	if (port)
		return parse_port(text, port, &out->port);
	return 0;
}
