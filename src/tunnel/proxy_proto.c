/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The sidecar's request parsers: SOCKS5 (RFC 1928 + RFC 1929), SOCKS4/4a and
 * HTTP proxying (RFC 9110/9112), see proxy_proto.h.
 *
 * Every byte the client sends is appended to p->in and each stage re-reads
 * its unparsed part from the start until the stage is complete. SOCKS stages
 * are at most a few hundred bytes, so this costs nothing and makes a request
 * split at any byte boundary parse exactly like one delivered whole; only the
 * HTTP terminator search remembers where it stopped (p->scan), because a head
 * may be 16 KiB long and arrive a byte at a time.
 */
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devkit/common.h"

enum {
	ST_START = 0,
	ST_S5_GREETING,
	ST_S5_AUTH,
	ST_S5_REQUEST,
	ST_S4_REQUEST,
	ST_HTTP_HEAD,
	ST_READY,
	ST_FAILED,
};

/* A stage finished and consumed its bytes: run the next one. */
#define STEP_AGAIN 2

/* SOCKS4 user ids and 4a names are NUL-terminated with no length byte: bound
 * them like the SOCKS5 ones so a client cannot stream an endless "name". */
#define S4_MAX_FIELD 255

/* At most this many options in Connection headers (RFC 9110 7.6.1); a real
 * client sends one or two. */
#define MAX_CONN_OPTIONS 32

static int auth_required(const devkit__proxy *p)
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

static int credentials_match(const devkit__proxy *p, const void *user, size_t ulen,
	const void *pass, size_t plen)
{
	const char *u = str_or_empty(p->username), *w = str_or_empty(p->password);
	/* Both compared always: no early exit that tells a right user name apart. */
	int ok_user = ct_equal(user, ulen, u, strlen(u));
	int ok_pass = ct_equal(pass, plen, w, strlen(w));

	return ok_user & ok_pass;
}

static int ascii_alpha(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static int ascii_lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ci_equal_n(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (ascii_lower((unsigned char)a[i]) != ascii_lower((unsigned char)b[i]))
			return 0;
	return 1;
}

static int ci_equal(const char *a, size_t alen, const char *b)
{
	return ci_equal_n(a, alen, b, strlen(b));
}

/* A host name goes into an SSH direct-tcpip request and into logs: refuse NUL
 * (it would cut the name short), controls and spaces (never in a real name). */
static int name_ok(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= ' ' || c == 0x7f)
			return 0;
	}
	return 1;
}

static devkit__proxy_status set_failed(devkit__proxy *p, const char *fmt, va_list ap)
{
	vsnprintf(p->error, sizeof(p->error), fmt, ap);
	p->state = ST_FAILED;
	return DEVKIT__PROXY_FAILED;
}

static devkit__proxy_status fail(devkit__proxy *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static devkit__proxy_status fail(devkit__proxy *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_failed(p, fmt, ap);
	va_end(ap);
	return DEVKIT__PROXY_FAILED;
}

static devkit__proxy_status fail_oom(devkit__proxy *p)
{
	return fail(p, "out of memory");
}

static int put(devkit__bytes *reply, const void *data, size_t n)
{
	return reply ? devkit__bytes_append(reply, data, n) : 0;
}

/* ---- SOCKS5 ------------------------------------------------------------- */

static int s5_reply(devkit__bytes *reply, unsigned char rep)
{
	/* BND.ADDR 0.0.0.0:0: the address the bastion used is of no use to the
	 * client, and clients (curl, Java, Python) ignore it. */
	const unsigned char r[10] = { 0x05, rep, 0x00, 0x01, 0, 0, 0, 0, 0, 0 };
	return put(reply, r, sizeof(r));
}

static devkit__proxy_status s5_fail(devkit__proxy *p, devkit__bytes *reply, unsigned char rep,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static devkit__proxy_status s5_fail(devkit__proxy *p, devkit__bytes *reply, unsigned char rep,
	const char *fmt, ...)
{
	va_list ap;

	if (s5_reply(reply, rep))
		return fail_oom(p);
	va_start(ap, fmt);
	set_failed(p, fmt, ap);
	va_end(ap);
	return DEVKIT__PROXY_FAILED;
}

static int s5_greeting(devkit__proxy *p, devkit__bytes *reply)
{
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in);
	unsigned char want = auth_required(p) ? 0x02 : 0x00;

	if (n < 2 || n < 2 + (size_t)b[1])
		return DEVKIT__PROXY_NEED_MORE;
	int offered = b[1] && memchr(b + 2, want, b[1]) != NULL;
	devkit__bytes_consume(&p->in, 2 + (size_t)b[1]);

	unsigned char r[2] = { 0x05, offered ? want : 0xff };
	if (put(reply, r, 2))
		return fail_oom(p);
	if (!offered)
		return fail(p, want ? "SOCKS5 client does not offer username/password authentication, "
			"which this proxy requires" :
			"SOCKS5 client does not offer the no-authentication method");
	p->state = want ? ST_S5_AUTH : ST_S5_REQUEST;
	return STEP_AGAIN;
}

/* RFC 1929: VER=1 ULEN UNAME PLEN PASSWD -> VER STATUS */
static int s5_auth(devkit__proxy *p, devkit__bytes *reply)
{
	static const unsigned char ok[2] = { 0x01, 0x00 }, bad[2] = { 0x01, 0x01 };
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in);

	if (n < 1)
		return DEVKIT__PROXY_NEED_MORE;
	if (b[0] != 0x01) {
		if (put(reply, bad, 2))
			return fail_oom(p);
		return fail(p, "SOCKS5 username/password negotiation has version %u, expected 1", b[0]);
	}
	if (n < 2)
		return DEVKIT__PROXY_NEED_MORE;
	size_t ulen = b[1];
	if (n < 3 + ulen)
		return DEVKIT__PROXY_NEED_MORE;
	size_t plen = b[2 + ulen];
	if (n < 3 + ulen + plen)
		return DEVKIT__PROXY_NEED_MORE;

	int match = credentials_match(p, b + 2, ulen, b + 3 + ulen, plen);
	devkit__bytes_consume(&p->in, 3 + ulen + plen);
	if (put(reply, match ? ok : bad, 2))
		return fail_oom(p);
	if (!match)
		return fail(p, "SOCKS5 authentication failed: wrong user name or password");
	p->state = ST_S5_REQUEST;
	return STEP_AGAIN;
}

/* VER CMD RSV ATYP DST.ADDR DST.PORT */
static int s5_request(devkit__proxy *p, devkit__bytes *reply)
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
		if (!name_ok((const char *)b + 5, b[4]))
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

static int s4_reply(devkit__bytes *reply, unsigned char cd)
{
	/* DSTPORT/DSTIP are ignored by clients in a CONNECT reply. */
	const unsigned char r[8] = { 0x00, cd, 0, 0, 0, 0, 0, 0 };
	return put(reply, r, sizeof(r));
}

static devkit__proxy_status s4_fail(devkit__proxy *p, devkit__bytes *reply, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static devkit__proxy_status s4_fail(devkit__proxy *p, devkit__bytes *reply, const char *fmt, ...)
{
	va_list ap;

	if (s4_reply(reply, 0x5b))
		return fail_oom(p);
	va_start(ap, fmt);
	set_failed(p, fmt, ap);
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
static int s4_request(devkit__proxy *p, devkit__bytes *reply)
{
	const unsigned char *b = (const unsigned char *)devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in), end;

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
		if (!name_ok((const char *)b + start, end - start))
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

/* ---- HTTP --------------------------------------------------------------- */

static const char *http_reason(int status)
{
	switch (status) {
	case 200: return "Connection established";
	case 400: return "Bad Request";
	case 407: return "Proxy Authentication Required";
	case 431: return "Request Header Fields Too Large";
	case 502: return "Bad Gateway";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return "Error";
	}
}

/* A complete response the client can show: the body is `text` plus a newline. */
static int http_error_reply(devkit__bytes *reply, int status, const char *text)
{
	if (!reply)
		return 0;
	return devkit__bytes_printf(reply, "HTTP/1.1 %d %s\r\n%s"
		"Content-Type: text/plain\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		status, http_reason(status),
		status == 407 ? "Proxy-Authenticate: Basic realm=\"devkit\"\r\n" : "",
		strlen(text) + 1, text);
}

/* Fail with an HTTP error whose body is the same text as p->error. */
static devkit__proxy_status http_fail(devkit__proxy *p, devkit__bytes *reply, int status,
	const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static devkit__proxy_status http_fail(devkit__proxy *p, devkit__bytes *reply, int status,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	set_failed(p, fmt, ap);
	va_end(ap);
	if (http_error_reply(reply, status, p->error))
		return fail_oom(p);
	return DEVKIT__PROXY_FAILED;
}

/* RFC 9110 5.6.2 tchar: what a method or a header name is made of. */
static int tchar(int c)
{
	return (c >= '0' && c <= '9') || ascii_alpha(c) || (c && strchr("!#$%&'*+-.^_`|~", c));
}

static int token_ok(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!tchar((unsigned char)s[i]))
			return 0;
	return 1;
}

static int ows(int c)
{
	return c == ' ' || c == '\t';
}

static void trim_ows(const char **s, size_t *n)
{
	while (*n && ows((*s)[0])) {
		(*s)++;
		(*n)--;
	}
	while (*n && ows((*s)[*n - 1]))
		(*n)--;
}

/* Where the line at `pos` ends (its CR). The head was checked to hold only
 * CRLF pairs and `end` is the CR of the final empty line, so one is found. */
static size_t line_end(const char *b, size_t pos, size_t end)
{
	const char *cr = memchr(b + pos, '\r', end + 1 - pos);
	return (size_t)(cr - b);
}

typedef struct header {
	const char *name, *value, *line;
	size_t name_len, value_len, line_len;
} header;

/* The header at *pos (before `end`, the final empty line): 1 with `h` set,
 * 0 when there are no more. Syntax was checked by headers_ok(). */
static int next_header(const char *b, size_t end, size_t *pos, header *h)
{
	if (*pos >= end)
		return 0;
	size_t e = line_end(b, *pos, end);
	const char *colon = memchr(b + *pos, ':', e - *pos);

	h->line = b + *pos;
	h->line_len = e - *pos;
	h->name = h->line;
	h->name_len = (size_t)(colon - h->line);
	h->value = colon + 1;
	h->value_len = (size_t)(b + e - h->value);
	trim_ows(&h->value, &h->value_len);
	*pos = e + 2;
	return 1;
}

/* Every header line is `token ":" value`; RFC 9112 5.1/5.2 say to reject a
 * space before the colon and obsolete line folding rather than guess. */
static const char *headers_ok(const char *b, size_t pos, size_t end)
{
	while (pos < end) {
		size_t e = line_end(b, pos, end);
		if (ows(b[pos]))
			return "obsolete header line folding";
		const char *colon = memchr(b + pos, ':', e - pos);
		if (!colon || !token_ok(b + pos, (size_t)(colon - (b + pos))))
			return "malformed header line";
		pos = e + 2;
	}
	return NULL;
}

static int b64_value(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict base64 (RFC 4648 4): padding only at the end, at most two '=';
 * unpadded input is accepted as some clients leave it out. Returns the
 * decoded length or -1. `out` needs 3 * (n / 4 + 1) bytes. */
static long b64_decode(const char *s, size_t n, unsigned char *out)
{
	size_t pad = 0, o = 0;
	unsigned int acc = 0;
	int bits = 0;

	while (pad < 2 && n > 0 && s[n - 1] == '=') {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4)
		return -1;
	if (n % 4 == 1)
		return -1;
	for (size_t i = 0; i < n; i++) {
		int v = b64_value((unsigned char)s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6) | (unsigned int)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1u << bits) - 1;
		}
	}
	/* Leftover bits must be zero, or two encodings would mean the same. */
	if (acc)
		return -1;
	return (long)o;
}

/* "Basic <base64(user:pass)>" with the configured credentials? */
static int basic_auth_ok(const devkit__proxy *p, const char *v, size_t n)
{
	static const char scheme[] = "Basic";
	size_t sl = sizeof(scheme) - 1;

	if (n <= sl || !ci_equal(v, sl, scheme) || !ows(v[sl]))
		return 0;
	v += sl;
	n -= sl;
	trim_ows(&v, &n);

	unsigned char *dec = malloc(3 * (n / 4 + 1));
	if (!dec)
		return 0;
	long dl = b64_decode(v, n, dec);
	const unsigned char *colon = dl > 0 ? memchr(dec, ':', (size_t)dl) : NULL;
	int ok = colon && credentials_match(p, dec, (size_t)(colon - dec),
		colon + 1, (size_t)dl - (size_t)(colon - dec) - 1);

	/* The buffer held the client's password. */
	if (dl > 0)
		memset(dec, 0, (size_t)dl);
	free(dec);
	return ok;
}

/*
 * "host:port", "[v6]:port", or with default_port >= 0 also "host" and
 * "host:". Fills p->host/p->port, or returns why not.
 */
static const char *parse_authority(devkit__proxy *p, const char *s, size_t n, int default_port)
{
	const char *h = s, *rest;
	size_t hl;

	if (n && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		char tmp[INET6_ADDRSTRLEN];
		unsigned char bin[16];

		if (!close)
			return "unterminated IPv6 address";
		h = s + 1;
		hl = (size_t)(close - h);
		if (hl == 0 || hl >= sizeof(tmp))
			return "bad IPv6 address";
		memcpy(tmp, h, hl);
		tmp[hl] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return "bad IPv6 address";
		rest = close + 1;
	} else {
		const char *colon = memchr(s, ':', n);
		hl = colon ? (size_t)(colon - s) : n;
		rest = s + hl;
		if (hl == 0)
			return "empty host";
	}
	if (hl >= sizeof(p->host))
		return "host name too long";
	if (!name_ok(h, hl))
		return "bad character in host";
	for (size_t i = 0; i < hl; i++)
		if (strchr("@/\\[]", h[i]))
			return "bad character in host";

	size_t rl = (size_t)(s + n - rest);
	long port = default_port;
	if (rl > 0) {
		if (rest[0] != ':')
			return "bad character after IPv6 address";
		if (rl == 1 && default_port < 0)
			return "port missing";
		if (rl > 6)
			return "bad port";
		if (rl > 1)
			port = 0;
		for (size_t i = 1; i < rl; i++) {
			if (rest[i] < '0' || rest[i] > '9')
				return "bad port";
			port = port * 10 + (rest[i] - '0');
		}
	}
	if (port < 0)
		return "port missing";
	if (port == 0 || port > 65535)
		return "bad port";
	memcpy(p->host, h, hl);
	p->host[hl] = '\0';
	p->port = (uint16_t)port;
	return NULL;
}

/* Connection options (RFC 9110 7.6.1), which name more hop-by-hop headers. */
typedef struct conn_options {
	const char *name[MAX_CONN_OPTIONS];
	size_t len[MAX_CONN_OPTIONS];
	size_t count;
} conn_options;

static int collect_conn_options(const char *b, size_t pos, size_t end, conn_options *co)
{
	header h;

	co->count = 0;
	while (next_header(b, end, &pos, &h)) {
		if (!ci_equal(h.name, h.name_len, "Connection"))
			continue;
		const char *v = h.value, *ve = h.value + h.value_len;
		while (v < ve) {
			const char *comma = memchr(v, ',', (size_t)(ve - v));
			const char *te = comma ? comma : ve;
			const char *t = v;
			size_t tl = (size_t)(te - t);
			trim_ows(&t, &tl);
			if (tl) {
				if (co->count == MAX_CONN_OPTIONS)
					return -1;
				co->name[co->count] = t;
				co->len[co->count++] = tl;
			}
			v = te + (comma != NULL);
		}
	}
	return 0;
}

static int hop_by_hop(const header *h, const conn_options *co)
{
	static const char *const always[] = {
		"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authorization",
		/* Regenerated from the URI, as RFC 9112 3.2.2 requires of a proxy. */
		"Host",
	};

	for (size_t i = 0; i < sizeof(always) / sizeof(always[0]); i++)
		if (ci_equal(h->name, h->name_len, always[i]))
			return 1;
	/* Never drop the framing of a body that follows, whatever Connection says:
	 * the server would read the body as a next request. */
	if (ci_equal(h->name, h->name_len, "Content-Length") ||
	    ci_equal(h->name, h->name_len, "Transfer-Encoding"))
		return 0;
	for (size_t i = 0; i < co->count; i++)
		if (ci_equal_n(h->name, h->name_len, co->name[i], co->len[i]))
			return 1;
	return 0;
}

/* GET http://host[:port]/path HTTP/1.1 -> GET /path HTTP/1.1, into p->head. */
static int http_plain(devkit__proxy *p, devkit__bytes *reply, const char *b, size_t hdr_pos,
	size_t hdr_end, const char *method, size_t ml, const char *target, size_t tl,
	const char *version, size_t vl)
{
	const char *sep = NULL;
	conn_options co;
	header h;

	if ((tl && target[0] == '/') || (tl == 1 && target[0] == '*'))
		return http_fail(p, reply, 400, "not a proxy request: send an absolute URI "
			"(%.*s http://host/path) or use CONNECT", (int)ml, method);
	for (size_t i = 0; i + 2 < tl; i++) {
		if (target[i] == ':' && target[i + 1] == '/' && target[i + 2] == '/') {
			sep = target + i;
			break;
		}
	}
	if (!sep)
		return http_fail(p, reply, 400, "request target is not an absolute URI");
	size_t sl = (size_t)(sep - target);
	if (ci_equal(target, sl, "https"))
		return http_fail(p, reply, 400, "https:// URIs are proxied with CONNECT, "
			"not as a plain request");
	if (!ci_equal(target, sl, "http"))
		return http_fail(p, reply, 400, "URI scheme \"%.*s\" not supported", (int)(sl > 16 ? 16 : sl),
			target);

	const char *auth = sep + 3, *end = target + tl, *path = auth;
	while (path < end && *path != '/' && *path != '?' && *path != '#')
		path++;
	if (memchr(auth, '@', (size_t)(path - auth)))
		return http_fail(p, reply, 400, "user name or password in the URI not supported");
	const char *why = parse_authority(p, auth, (size_t)(path - auth), 80);
	if (why)
		return http_fail(p, reply, 400, "bad URI authority: %s", why);
	/* A fragment is the client's own business (RFC 9110 4.2.4). */
	const char *frag = memchr(path, '#', (size_t)(end - path));
	size_t pl = (size_t)((frag ? frag : end) - path);

	if (collect_conn_options(b, hdr_pos, hdr_end, &co))
		return http_fail(p, reply, 400, "too many Connection options");

	devkit__bytes *o = &p->head;
	int v6 = strchr(p->host, ':') != NULL;
	int rc = devkit__bytes_printf(o, "%.*s %s%.*s %.*s\r\nHost: %s%s%s", (int)ml, method,
		pl == 0 || path[0] != '/' ? "/" : "", (int)pl, path, (int)vl, version,
		v6 ? "[" : "", p->host, v6 ? "]" : "");
	if (!rc && p->port != 80)
		rc = devkit__bytes_printf(o, ":%u", p->port);
	if (!rc)
		rc = devkit__bytes_append(o, "\r\n", 2);
	while (!rc && next_header(b, hdr_end, &hdr_pos, &h)) {
		if (hop_by_hop(&h, &co))
			continue;
		rc = devkit__bytes_append(o, h.line, h.line_len);
		if (!rc)
			rc = devkit__bytes_append(o, "\r\n", 2);
	}
	if (!rc)
		rc = devkit__bytes_append(o, "Connection: close\r\n\r\n", 21);
	if (rc)
		return fail_oom(p);
	return DEVKIT__PROXY_READY;
}

static int http_request(devkit__proxy *p, devkit__bytes *reply, const char *b, size_t len)
{
	/* len includes the final CRLF CRLF. */
	size_t hdr_end = len - 2;

	/* Only CRLF pairs and no NUL anywhere: a bare CR or LF is read as a line
	 * end by some servers and not by others, which lets a client hide a
	 * header from us (RFC 9112 2.2 allows rejecting it). */
	for (size_t i = 0; i < len; i++) {
		if (b[i] == '\0' || (b[i] == '\r' && b[i + 1] != '\n') ||
		    (b[i] == '\n' && (i == 0 || b[i - 1] != '\r')))
			return http_fail(p, reply, 400, "bare CR, LF or NUL in the request head");
	}

	/* Request line: method SP target SP version (RFC 9112 3). */
	size_t rl = line_end(b, 0, hdr_end);
	const char *method = b, *sp1 = memchr(b, ' ', rl);
	if (!sp1)
		return http_fail(p, reply, 400, "malformed request line");
	const char *target = sp1 + 1, *sp2 = memchr(target, ' ', (size_t)(b + rl - target));
	if (!sp2)
		return http_fail(p, reply, 400, "malformed request line");
	const char *version = sp2 + 1;
	size_t ml = (size_t)(sp1 - method), tl = (size_t)(sp2 - target);
	size_t vl = (size_t)(b + rl - version);
	if (!token_ok(method, ml) || tl == 0)
		return http_fail(p, reply, 400, "malformed request line");
	for (size_t i = 0; i < tl; i++)
		if ((unsigned char)target[i] <= ' ' || target[i] == 0x7f)
			return http_fail(p, reply, 400, "malformed request line");
	if (!(vl == 8 && memcmp(version, "HTTP/1.", 7) == 0 && version[7] >= '0' && version[7] <= '9')) {
		if (vl >= 5 && memcmp(version, "HTTP/", 5) == 0)
			return http_fail(p, reply, 505, "only HTTP/1.x is supported");
		return http_fail(p, reply, 400, "malformed request line");
	}

	size_t hdr_pos = rl + 2;
	const char *why = headers_ok(b, hdr_pos, hdr_end);
	if (why)
		return http_fail(p, reply, 400, "%s", why);

	int connect = ml == 7 && memcmp(method, "CONNECT", 7) == 0;
	p->kind = connect ? DEVKIT__PROXY_HTTP_CONNECT : DEVKIT__PROXY_HTTP_PLAIN;

	if (auth_required(p)) {
		size_t pos = hdr_pos;
		int authorized = 0, sent = 0;
		header h;
		while (!authorized && next_header(b, hdr_end, &pos, &h)) {
			if (ci_equal(h.name, h.name_len, "Proxy-Authorization")) {
				sent = 1;
				authorized = basic_auth_ok(p, h.value, h.value_len);
			}
		}
		if (!authorized)
			return http_fail(p, reply, 407, sent ?
				"proxy authentication failed: wrong user name or password" :
				"proxy authentication required");
	}

	int rc;
	if (connect) {
		why = parse_authority(p, target, tl, -1);
		if (why)
			return http_fail(p, reply, 400, "bad CONNECT target: %s", why);
		rc = DEVKIT__PROXY_READY;
	} else {
		rc = http_plain(p, reply, b, hdr_pos, hdr_end, method, ml, target, tl, version, vl);
	}
	if (rc != DEVKIT__PROXY_READY)
		return rc;
	devkit__bytes_consume(&p->in, len);
	p->state = ST_READY;
	return DEVKIT__PROXY_READY;
}

static int http_head(devkit__proxy *p, devkit__bytes *reply)
{
	const char *b = devkit__bytes_head(&p->in);
	size_t n = devkit__bytes_avail(&p->in);
	/* The terminator must end within DEVKIT__PROXY_MAX_HEAD bytes. */
	size_t limit = n < DEVKIT__PROXY_MAX_HEAD ? n : DEVKIT__PROXY_MAX_HEAD;

	for (size_t i = p->scan; i + 4 <= limit; i++) {
		if (b[i] == '\r' && memcmp(b + i, "\r\n\r\n", 4) == 0)
			return http_request(p, reply, b, i + 4);
	}
	if (n >= DEVKIT__PROXY_MAX_HEAD)
		return http_fail(p, reply, 431, "request head longer than %d bytes",
			DEVKIT__PROXY_MAX_HEAD);
	/* Resume where a terminator split across feeds could start. */
	p->scan = limit >= 3 ? limit - 3 : 0;
	return DEVKIT__PROXY_NEED_MORE;
}

/* ---- entry points ------------------------------------------------------- */

static int detect(devkit__proxy *p, devkit__bytes *reply)
{
	if (devkit__bytes_avail(&p->in) == 0)
		return DEVKIT__PROXY_NEED_MORE;
	unsigned char c = (unsigned char)devkit__bytes_head(&p->in)[0];

	if (c == 0x05) {
		p->kind = DEVKIT__PROXY_SOCKS5;
		p->state = ST_S5_GREETING;
	} else if (c == 0x04) {
		p->kind = DEVKIT__PROXY_SOCKS4;
		if (auth_required(p))
			return s4_fail(p, reply, "SOCKS4 refused: it cannot carry a password and "
				"this proxy requires one");
		p->state = ST_S4_REQUEST;
	} else if (ascii_alpha(c)) {
		/* kind is set once the method is known */
		p->state = ST_HTTP_HEAD;
	} else {
		return fail(p, "not a SOCKS or HTTP proxy request (first byte 0x%02x)", c);
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
		return fail_oom(p);
	if (p->state == ST_READY)
		return DEVKIT__PROXY_READY; /* more bytes for the leftover */

	for (;;) {
		int rc;
		switch (p->state) {
		case ST_START: rc = detect(p, reply); break;
		case ST_S5_GREETING: rc = s5_greeting(p, reply); break;
		case ST_S5_AUTH: rc = s5_auth(p, reply); break;
		case ST_S5_REQUEST: rc = s5_request(p, reply); break;
		case ST_S4_REQUEST: rc = s4_request(p, reply); break;
		case ST_HTTP_HEAD: rc = http_head(p, reply); break;
		default: return fail(p, "proxy parser in an impossible state %d", p->state);
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
	case DEVKIT__PROXY_SOCKS5: return s5_reply(reply, 0x00);
	case DEVKIT__PROXY_SOCKS4: return s4_reply(reply, 0x5a);
	case DEVKIT__PROXY_HTTP_CONNECT: return put(reply, established, sizeof(established) - 1);
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
	case DEVKIT__PROXY_SOCKS5: rc = s5_reply(reply, rep); break;
	case DEVKIT__PROXY_SOCKS4: rc = s4_reply(reply, 0x5b); break;
	case DEVKIT__PROXY_HTTP_CONNECT:
	case DEVKIT__PROXY_HTTP_PLAIN: rc = http_error_reply(reply, status, msg.data); break;
	default: rc = DEVKIT_EINVAL; break;
	}
	devkit__bytes_free(&msg);
	return rc;
}
