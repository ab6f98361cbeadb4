/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sidecar's request parsers: SOCKS5 (RFC 1928 + RFC 1929), SOCKS4/4a and
 * HTTP proxying (RFC 9110/9112), see proxy_proto.h. This file holds the entry
 * points, the protocol detection and the helpers the protocols share
 * (proxy_int.h); the protocols are in proxy_socks.c and proxy_http.c.
 *
 * Every byte the client sends is appended to p->in and each stage re-reads
 * its unparsed part from the start until the stage is complete. SOCKS stages
 * are at most a few hundred bytes, so this costs nothing and makes a request
 * split at any byte boundary parse exactly like one delivered whole; only the
 * HTTP terminator search remembers where it stopped (p->scan), because a head
 * may be 16 KiB long and arrive a byte at a time.
 */
#include "proxy_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "devkit/common.h"

/* ---- shared helpers (proxy_int.h) --------------------------------------- */

int devkit__proxy_auth_required(const devkit__proxy *p)
{
	return (p->username && p->username[0]) || (p->password && p->password[0]);
}

static const char *str_or_empty(const char *s)
{
	return s ? s : "";
}

/* Length-revealing but otherwise constant-time comparison, so a client cannot
 * find the password a byte at a time by timing the replies. */
static int ct_equal(const void *a, size_t alen, const void *b, size_t blen)
{
	const unsigned char *x = a, *y = b;
	unsigned char diff = alen != blen;
	size_t n = alen < blen ? alen : blen;

	for (size_t i = 0; i < n; i++)
		diff |= x[i] ^ y[i];
	return diff == 0;
}

int devkit__proxy_credentials_match(const devkit__proxy *p, const void *user, size_t ulen,
	const void *pass, size_t plen)
{
	const char *u = str_or_empty(p->username), *w = str_or_empty(p->password);
	/* Both compared always: no early exit that tells a right user name apart. */
	int ok_user = ct_equal(user, ulen, u, strlen(u));
	int ok_pass = ct_equal(pass, plen, w, strlen(w));

	return ok_user & ok_pass;
}

int devkit__proxy_ascii_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

/* A host name goes into an SSH direct-tcpip request and into logs: refuse NUL
 * (it would cut the name short), controls and spaces (never in a real name). */
int devkit__proxy_name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

devkit__proxy_status devkit__proxy_set_failed(devkit__proxy *p, const char *fmt, va_list ap)
{
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	p->state = ST_FAILED;
	return DEVKIT__PROXY_FAILED;
}

devkit__proxy_status devkit__proxy_fail(devkit__proxy *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	devkit__proxy_set_failed(p, fmt, ap);
	va_end(ap);
	return DEVKIT__PROXY_FAILED;
}

devkit__proxy_status devkit__proxy_fail_oom(devkit__proxy *p)
{
	return devkit__proxy_fail(p, "out of memory");
}

int devkit__proxy_put(devkit__bytes *reply, const void *data, size_t n)
{
	return reply ? devkit__bytes_append(reply, data, n) : 0;
}

/* ---- entry points ------------------------------------------------------- */

static int detect(devkit__proxy *p)
{
	if (devkit__bytes_avail(&p->in) == 0)
		return DEVKIT__PROXY_NEED_MORE;
	unsigned char c = (unsigned char)devkit__bytes_head(&p->in)[0];

	if (c == 0x05) {
		p->kind = DEVKIT__PROXY_SOCKS5;
		p->state = ST_S5_GREETING;
	} else if (c == 0x04) {
		/* The SOCKS4 stage refuses it at once if a password is required. */
		p->kind = DEVKIT__PROXY_SOCKS4;
		p->state = ST_S4_REQUEST;
	} else if (devkit__proxy_ascii_alpha(c)) {
		/* kind is set once the method is known */
		p->state = ST_HTTP_HEAD;
	} else {
		return devkit__proxy_fail(p, "not a SOCKS or HTTP proxy request (first byte 0x%02x)", c);
	}
	return STEP_AGAIN;
}

void devkit__proxy_init(devkit__proxy *p, const char *username, const char *password)
{
	memset(p, 0, sizeof(*p));
	p->username = username;
	p->password = password;
	p->state = ST_START;
}

void devkit__proxy_free(devkit__proxy *p)
{
	devkit__bytes_free(&p->in);
	devkit__bytes_free(&p->head);
}

devkit__proxy_status devkit__proxy_feed(devkit__proxy *p, const void *data, size_t len,
	devkit__bytes *reply)
{
	if (p->state == ST_FAILED)
		return DEVKIT__PROXY_FAILED;
	if (devkit__bytes_append(&p->in, data, len))
		return devkit__proxy_fail_oom(p);
	if (p->state == ST_READY)
		return DEVKIT__PROXY_READY; /* more bytes for the leftover */

	for (;;) {
		int rc;
		switch (p->state) {
		case ST_START: rc = detect(p); break;
		case ST_S5_GREETING: rc = devkit__proxy_s5_greeting(p, reply); break;
		case ST_S5_AUTH: rc = devkit__proxy_s5_auth(p, reply); break;
		case ST_S5_REQUEST: rc = devkit__proxy_s5_request(p, reply); break;
		case ST_S4_REQUEST: rc = devkit__proxy_s4_request(p, reply); break;
		case ST_HTTP_HEAD: rc = devkit__proxy_http_head(p, reply); break;
		default: return devkit__proxy_fail(p, "proxy parser in an impossible state %d", p->state);
		}
		if (rc != STEP_AGAIN)
			return (devkit__proxy_status)rc;
	}
}

const char *devkit__proxy_leftover(const devkit__proxy *p, size_t *len)
{
	*len = devkit__bytes_avail(&p->in);
	return *len ? devkit__bytes_head(&p->in) : "";
}

int devkit__proxy_reply_success(devkit__proxy *p, devkit__bytes *reply)
{
	static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";

	if (p->state != ST_READY)
		return DEVKIT_EINVAL;
	switch (p->kind) {
	case DEVKIT__PROXY_SOCKS5: return devkit__proxy_s5_reply(reply, 0x00);
	case DEVKIT__PROXY_SOCKS4: return devkit__proxy_s4_reply(reply, 0x5a);
	case DEVKIT__PROXY_HTTP_CONNECT:
		return devkit__proxy_put(reply, established, sizeof(established) - 1);
	case DEVKIT__PROXY_HTTP_PLAIN: return 0;
	default: return DEVKIT_EINVAL;
	}
}

int devkit__proxy_reply_failure(devkit__proxy *p, int devkit_err, const char *why,
	devkit__bytes *reply)
{
	unsigned char rep;
	int status;

	if (p->state != ST_READY)
		return DEVKIT_EINVAL;
	switch (devkit_err) {
	case DEVKIT_ECONNREFUSED: rep = 0x05; status = 502; break;
	case DEVKIT_ENOTFOUND: rep = 0x04; status = 502; break;
	case DEVKIT_ETIMEOUT: rep = 0x04; status = 504; break;
	default: rep = 0x01; status = 502; break;
	}
	if (!why)
		why = devkit_strerror(devkit_err);
	/* Formatted in full for the HTTP body; p->error may keep only its start. */
	devkit__bytes msg = DEVKIT__BYTES_INIT;
	int v6 = strchr(p->host, ':') != NULL;
	int rc = devkit__bytes_printf(&msg, "cannot connect to %s%s%s:%u: %s",
		v6 ? "[" : "", p->host, v6 ? "]" : "", p->port, why);
	if (rc)
		return rc;
	snprintf(p->error, sizeof(p->error), "%s", msg.data);
	p->state = ST_FAILED;

	switch (p->kind) {
	case DEVKIT__PROXY_SOCKS5: rc = devkit__proxy_s5_reply(reply, rep); break;
	case DEVKIT__PROXY_SOCKS4: rc = devkit__proxy_s4_reply(reply, 0x5b); break;
	case DEVKIT__PROXY_HTTP_CONNECT:
	case DEVKIT__PROXY_HTTP_PLAIN:
		rc = devkit__proxy_http_error_reply(reply, status, msg.data);
		break;
	default: rc = DEVKIT_EINVAL; break;
	}
	devkit__bytes_free(&msg);
	return rc;
}
