/* SPDX-License-Identifier: Apache-2.0 */
/*
 * HTTP proxying (RFC 9110/9112) for the sidecar, see proxy_proto.h: CONNECT,
 * and absolute-URI requests rewritten to origin form. Only the search for the
 * head's terminator remembers where it stopped (p->scan), because a head may
 * be 16 KiB long and arrive a byte at a time.
 */
#include "proxy_int.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"

/* At most this many options in Connection headers (RFC 9110 7.6.1); a real
 * client sends one or two. */
#define MAX_CONN_OPTIONS 32

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
int devkit__proxy_http_error_reply(devkit__bytes *reply, int status, const char *text)
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
	devkit__proxy_set_failed(p, fmt, ap);
	va_end(ap);
	if (devkit__proxy_http_error_reply(reply, status, p->error))
		return devkit__proxy_fail_oom(p);
	return DEVKIT__PROXY_FAILED;
}

/* RFC 9110 5.6.2 tchar: what a method or a header name is made of. */
static int tchar(int c)
{
	return (c >= '0' && c <= '9') || devkit__proxy_ascii_alpha(c) ||
		(c && strchr("!#$%&'*+-.^_`|~", c));
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

	/* Strict base64, unpadded accepted as some clients leave the '=' out
	 * (core/base64.h); it never needs more than `cap` bytes. */
	size_t cap = 3 * (n / 4 + 1);
	unsigned char *dec = malloc(cap);
	if (!dec)
		return 0;
	int dl = devkit__base64_decode(v, n, dec, cap);
	const unsigned char *colon = dl > 0 ? memchr(dec, ':', (size_t)dl) : NULL;
	int ok = colon && devkit__proxy_credentials_match(p, dec, (size_t)(colon - dec),
		colon + 1, (size_t)dl - (size_t)(colon - dec) - 1);

	/* The buffer held the client's password. */
	if (dl > 0)
		explicit_bzero(dec, (size_t)dl); /* a plain memset before free may be optimised away */
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
	if (!devkit__proxy_name_ok(h, hl))
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
		return devkit__proxy_fail_oom(p);
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

	if (devkit__proxy_auth_required(p)) {
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

int devkit__proxy_http_head(devkit__proxy *p, devkit__bytes *reply)
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
