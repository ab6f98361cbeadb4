/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SOCKS5 (RFC 1928, RFC 1929 username/password) and SOCKS4/4a requests of the
 * sidecar, see proxy_proto.h. Each stage re-reads the unparsed part of p->in
 * from the start until it is complete (see proxy_proto.c).
 */
#include "proxy_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <string.h>

/* SOCKS4 user ids and 4a names are NUL-terminated with no length byte: bound
 * them like the SOCKS5 ones so a client cannot stream an endless "name". */
#define S4_MAX_FIELD 255

/* ---- SOCKS5 ------------------------------------------------------------- */

int devkit__proxy_s5_reply(devkit__bytes *reply, unsigned char rep)
{
	/* BND.ADDR 0.0.0.0:0: the address the bastion used is of no use to the
	 * client, and clients (curl, Java, Python) ignore it. */
	const unsigned char r[10] = { 0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0 };
	return devkit__proxy_put(reply, r, sizeof(r));
}

static devkit__proxy_status s5_fail(devkit__proxy *p, devkit__bytes *reply, unsigned char rep,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static devkit__proxy_status s5_fail(devkit__proxy *p, devkit__bytes *reply, unsigned char rep,
	const char *fmt, ...)
{
	va_list ap;

	if (devkit__proxy_s5_reply(reply, rep))
		return devkit__proxy_fail_oom(p);
	va_start(ap, fmt);
	devkit__proxy_set_failed(p, fmt, ap);
	va_end(ap);
	return DEVKIT__PROXY_FAILED;
}

int devkit__proxy_s5_greeting(devkit__proxy *p, devkit__bytes *reply)
{
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in);
	unsigned char want = devkit__proxy_auth_required(p) ? 0x02 : 0x00;

	if (n < 2 || n < 2 + (size_t)b[1])
		return DEVKIT__PROXY_NEED_MORE;
	int offered = b[1] && memchr(b + 2, want, b[1]) != NULL;
	devkit__bytes_consume(&p->in, 2 + (size_t)b[1]);

	unsigned char r[2] = { 0x05, offered ? want : 0xff };
	if (devkit__proxy_put(reply, r, 2))
		return devkit__proxy_fail_oom(p);
	if (!offered)
		return devkit__proxy_fail(p, want ?
			"SOCKS5 client does not offer username/password authentication, "
			"which this proxy requires" :
			"SOCKS5 client does not offer the no-authentication method");
	p->state = want ? ST_S5_AUTH : ST_S5_REQUEST;
	return STEP_AGAIN;
}

/* RFC 1929: VER=1 ULEN UNAME PLEN PASSWD -> VER STATUS */
int devkit__proxy_s5_auth(devkit__proxy *p, devkit__bytes *reply)
{
	static const unsigned char ok[2] = { 0x01, 0x00 }, bad[2] = { 0x01, 0x01 };
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in);

	if (n < 1)
		return DEVKIT__PROXY_NEED_MORE;
	if (b[0] != 0x01) {
		if (devkit__proxy_put(reply, bad, 2))
			return devkit__proxy_fail_oom(p);
		return devkit__proxy_fail(p,
			"SOCKS5 username/password negotiation has version %u, expected 1", b[0]);
	}
	if (n < 2)
		return DEVKIT__PROXY_NEED_MORE;
	size_t ulen = b[1];
	if (n < 3 + ulen)
		return DEVKIT__PROXY_NEED_MORE;
	size_t plen = b[2 + ulen];
	if (n < 3 + ulen + plen)
		return DEVKIT__PROXY_NEED_MORE;

	int match = devkit__proxy_credentials_match(p, b + 2, ulen, b + 3 + ulen, plen);
	devkit__bytes_consume(&p->in, 3 + ulen + plen);
	if (devkit__proxy_put(reply, match ? ok : bad, 2))
		return devkit__proxy_fail_oom(p);
	if (!match)
		return devkit__proxy_fail(p, "SOCKS5 authentication failed: wrong user name or password");
	p->state = ST_S5_REQUEST;
	return STEP_AGAIN;
}

/* VER CMD RSV ATYP DST.ADDR DST.PORT */
int devkit__proxy_s5_request(devkit__proxy *p, devkit__bytes *reply)
{
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in), need;

	if (n < 1)
		return DEVKIT__PROXY_NEED_MORE;
	if (b[0] != 0x05)
		return s5_fail(p, reply, 0x01, "SOCKS5 request has version %u, expected 5", b[0]);
	if (n < 2)
		return DEVKIT__PROXY_NEED_MORE;
	if (b[1] != 0x01)
		return s5_fail(p, reply, 0x07, "SOCKS5 command %u not supported (only CONNECT)", b[1]);
	/* b[2] is RSV: not checked, as other servers (OpenSSH's -D) do not either. */
	if (n < 4)
		return DEVKIT__PROXY_NEED_MORE;
	switch (b[3]) {
	case 0x01:
		need = 4 + 4 + 2;
		break;
	case 0x04:
		need = 4 + 16 + 2;
		break;
	case 0x03:
		if (n < 5)
			return DEVKIT__PROXY_NEED_MORE;
		if (b[4] == 0)
			return s5_fail(p, reply, 0x01, "SOCKS5 request has an empty domain name");
		need = 5 + (size_t)b[4] + 2;
		break;
	default:
		return s5_fail(p, reply, 0x08, "SOCKS5 address type %u not supported", b[3]);
	}
	if (n < need)
		return DEVKIT__PROXY_NEED_MORE;

	if (b[3] == 0x01) {
		inet_ntop(AF_INET, b + 4, p->host, sizeof(p->host));
	} else if (b[3] == 0x04) {
		inet_ntop(AF_INET6, b + 4, p->host, sizeof(p->host));
	} else {
		/* Kept as a name: only the bastion can resolve cluster names. */
		if (!devkit__proxy_name_ok((const char *)b + 5, b[4]))
			return s5_fail(p, reply, 0x01,
				"SOCKS5 domain name contains a NUL, control or space character");
		memcpy(p->host, b + 5, b[4]);
		p->host[b[4]] = '\0';
	}
	p->port = (uint16_t)(b[need - 2] << 8 | b[need - 1]);
	if (p->port == 0)
		return s5_fail(p, reply, 0x01, "SOCKS5 request for port 0 of %s", p->host);
	devkit__bytes_consume(&p->in, need);
	p->state = ST_READY;
	return DEVKIT__PROXY_READY;
}

/* ---- SOCKS4 / 4a -------------------------------------------------------- */

int devkit__proxy_s4_reply(devkit__bytes *reply, unsigned char cd)
{
	/* DSTPORT/DSTIP are ignored by clients in a CONNECT reply. */
	const unsigned char r[8] = { 0x00, cd, 0, 0, 0, 0, 0, 0 };
	return devkit__proxy_put(reply, r, sizeof(r));
}

static devkit__proxy_status s4_fail(devkit__proxy *p, devkit__bytes *reply, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static devkit__proxy_status s4_fail(devkit__proxy *p, devkit__bytes *reply, const char *fmt, ...)
{
	va_list ap;

	if (devkit__proxy_s4_reply(reply, 0x5b))
		return devkit__proxy_fail_oom(p);
	va_start(ap, fmt);
	devkit__proxy_set_failed(p, fmt, ap);
	va_end(ap);
	return DEVKIT__PROXY_FAILED;
}

/* Where the NUL ending a field starting at `off` is: 1 found (*end set),
 * 0 not yet, -1 the field is already longer than S4_MAX_FIELD. */
static int s4_field(const unsigned char *b, size_t n, size_t off, size_t *end)
{
	size_t room = n - off, limit = room < S4_MAX_FIELD + 1 ? room : S4_MAX_FIELD + 1;
	const unsigned char *nul = memchr(b + off, 0, limit);

	if (nul) {
		*end = (size_t)(nul - b);
		return 1;
	}
	return room > S4_MAX_FIELD ? -1 : 0;
}

/* VN=4 CD DSTPORT DSTIP USERID NUL [DOMAIN NUL] */
int devkit__proxy_s4_request(devkit__proxy *p, devkit__bytes *reply)
{
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in), end;

	/* Refused at the first byte, before the rest of the request arrives. */
	if (devkit__proxy_auth_required(p))
		return s4_fail(p, reply, "SOCKS4 refused: it cannot carry a password and "
			"this proxy requires one");
	if (n < 2)
		return DEVKIT__PROXY_NEED_MORE;
	if (b[1] != 0x01)
		return s4_fail(p, reply, "SOCKS4 command %u not supported (only CONNECT)", b[1]);
	if (n < 8)
		return DEVKIT__PROXY_NEED_MORE;

	int rc = s4_field(b, n, 8, &end);
	if (rc < 0)
		return s4_fail(p, reply, "SOCKS4 user id longer than %d bytes", S4_MAX_FIELD);
	if (rc == 0)
		return DEVKIT__PROXY_NEED_MORE;

	size_t total = end + 1;
	/* SOCKS4a: DSTIP 0.0.0.x (x != 0) means "a name follows". */
	if (b[4] == 0 && b[5] == 0 && b[6] == 0 && b[7] != 0) {
		size_t start = total;
		rc = s4_field(b, n, start, &end);
		if (rc < 0)
			return s4_fail(p, reply, "SOCKS4a domain name longer than %d bytes", S4_MAX_FIELD);
		if (rc == 0)
			return DEVKIT__PROXY_NEED_MORE;
		if (end == start)
			return s4_fail(p, reply, "SOCKS4a request has an empty domain name");
		if (!devkit__proxy_name_ok((const char *)b + start, end - start))
			return s4_fail(p, reply, "SOCKS4a domain name contains a control or space character");
		memcpy(p->host, b + start, end - start);
		p->host[end - start] = '\0';
		total = end + 1;
	} else {
		inet_ntop(AF_INET, b + 4, p->host, sizeof(p->host));
	}
	p->port = (uint16_t)(b[2] << 8 | b[3]);
	if (p->port == 0)
		return s4_fail(p, reply, "SOCKS4 request for port 0 of %s", p->host);
	devkit__bytes_consume(&p->in, total);
	p->state = ST_READY;
	return DEVKIT__PROXY_READY;
}
