/* SPDX-License-Identifier: Apache-2.0 */
/* DNS message parsing and building; see dns_msg.h. */
#include "dns_msg.h"

#include <ares.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* --- parsing ------------------------------------------------------------------ */

/* Expand the name at `off` into a malloc'd string; *next = offset after it. */
static char *read_name(const uint8_t *buf, size_t len, size_t off, size_t *next)
{
	if (off >= len)
		return NULL;
	char *s = NULL;
	long enclen = 0;
	/* c-ares checks every label and pointer against the message bounds and
	 * gives up on more indirections than the message has bytes (loops). */
	if (ares_expand_name(buf + off, buf, (int)len, &s, &enclen) != ARES_SUCCESS)
		return NULL;
	char *copy = strdup(s);
	ares_free_string(s);
	if (!copy || enclen <= 0 || off + (size_t)enclen > len) {
		free(copy);
		return NULL;
	}
	*next = off + (size_t)enclen;
	return copy;
}

void dns_msg_clear(dns_msg *m)
{
	free(m->qname);
	for (size_t i = 0; i < m->nrr; i++)
		free(m->rrs[i].name);
	free(m->rrs);
	memset(m, 0, sizeof(*m));
}

int dns_msg_parse(const uint8_t *buf, size_t len, dns_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (!buf || len < DNS_HEADER || len > 65535)
		return -1;
	m->len = len;
	m->id = dns_get_u16(buf);
	m->flags = dns_get_u16(buf + 2);
	m->qdcount = dns_get_u16(buf + 4);
	m->ancount = dns_get_u16(buf + 6);
	m->nscount = dns_get_u16(buf + 8);
	m->arcount = dns_get_u16(buf + 10);
	size_t off = DNS_HEADER;
	for (unsigned i = 0; i < m->qdcount; i++) {
		char *name = read_name(buf, len, off, &off);
		if (!name || off + 4 > len) {
			free(name);
			goto bad;
		}
		if (i == 0) {
			m->qname = name;
			m->qtype = dns_get_u16(buf + off);
			m->qclass = dns_get_u16(buf + off + 2);
		} else {
			free(name);
		}
		off += 4;
	}
	m->question_end = off;
	size_t total = (size_t)m->ancount + m->nscount + m->arcount;
	/* Every record takes at least 11 bytes: counts beyond the data are lies,
	 * and must not make us allocate for them. */
	if (total > (len - off) / 11)
		goto bad;
	if (total) {
		m->rrs = calloc(total, sizeof(dns_rr));
		if (!m->rrs)
			goto bad;
	}
	for (size_t i = 0; i < total; i++) {
		dns_rr *rr = &m->rrs[i];
		rr->name = read_name(buf, len, off, &off);
		m->nrr = i + 1;
		if (!rr->name || off + 10 > len)
			goto bad;
		rr->type = dns_get_u16(buf + off);
		rr->klass = dns_get_u16(buf + off + 2);
		rr->ttl_off = off + 4;
		rr->ttl = ((uint32_t)buf[off + 4] << 24) | ((uint32_t)buf[off + 5] << 16) |
			((uint32_t)buf[off + 6] << 8) | buf[off + 7];
		rr->rdlen = dns_get_u16(buf + off + 8);
		rr->rdata_off = off + 10;
		off += 10;
		if (off + rr->rdlen > len)
			goto bad;
		off += rr->rdlen;
		rr->section = i < m->ancount ? 1 : i < (size_t)m->ancount + m->nscount ? 2 : 3;
		if (rr->type == DNS_T_OPT && rr->section == 3) {
			m->has_edns = 1;
			m->edns_size = rr->klass;
		}
	}
	return 0;
bad:
	dns_msg_clear(m);
	return -1;
}

long dns_msg_min_ttl(const dns_msg *m, const uint8_t *buf)
{
	long min = -1;
	for (size_t i = 0; i < m->nrr; i++) {
		const dns_rr *rr = &m->rrs[i];
		if (rr->section == 1 && (min < 0 || rr->ttl < (unsigned long)min))
			min = rr->ttl;
	}
	if (min >= 0)
		return min;
	for (size_t i = 0; i < m->nrr; i++) {
		const dns_rr *rr = &m->rrs[i];
		if (rr->section != 2 || rr->type != DNS_T_SOA || rr->rdlen < 22)
			continue;
		/* MINIMUM is the last 4 bytes of the SOA rdata. */
		const uint8_t *p = buf + rr->rdata_off + rr->rdlen - 4;
		uint32_t minimum = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
		return rr->ttl < minimum ? rr->ttl : minimum;
	}
	return -1;
}

void dns_msg_age(uint8_t *buf, const dns_msg *m, uint32_t secs)
{
	for (size_t i = 0; i < m->nrr; i++) {
		const dns_rr *rr = &m->rrs[i];
		if (rr->type == DNS_T_OPT)
			continue;
		uint32_t ttl = rr->ttl > secs ? rr->ttl - secs : 0;
		uint8_t *p = buf + rr->ttl_off;
		p[0] = (uint8_t)(ttl >> 24);
		p[1] = (uint8_t)(ttl >> 16);
		p[2] = (uint8_t)(ttl >> 8);
		p[3] = (uint8_t)ttl;
	}
}

/* --- building ----------------------------------------------------------------- */

void dns_out_free(dns_out *o)
{
	free(o->p);
	memset(o, 0, sizeof(*o));
}

static int reserve(dns_out *o, size_t n)
{
	if (o->oom)
		return -1;
	if (o->len + n <= o->cap)
		return 0;
	size_t cap = o->cap ? o->cap : 512;
	while (cap < o->len + n)
		cap *= 2;
	uint8_t *p = realloc(o->p, cap);
	if (!p) {
		o->oom = 1;
		return -1;
	}
	o->p = p;
	o->cap = cap;
	return 0;
}

void dns_put_bytes(dns_out *o, const void *p, size_t n)
{
	if (n == 0 || reserve(o, n) != 0)
		return;
	memcpy(o->p + o->len, p, n);
	o->len += n;
}

void dns_put_u16(dns_out *o, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };
	dns_put_bytes(o, b, 2);
}

void dns_put_u32(dns_out *o, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
	dns_put_bytes(o, b, 4);
}

int dns_put_name(dns_out *o, const char *name)
{
	uint8_t wire[256];
	size_t w = 0;
	const char *s = name;
	if (strcmp(s, ".") == 0)
		s++;
	while (*s) {
		uint8_t label[63];
		size_t n = 0;
		while (*s && *s != '.') {
			int c = (unsigned char)*s++;
			if (c == '\\') {
				if (isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[1]) &&
					isdigit((unsigned char)s[2])) {
					c = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
					if (c > 255)
						return -1;
					s += 3;
				} else if (*s) {
					c = (unsigned char)*s++;
				} else {
					return -1;
				}
			}
			if (n == sizeof(label))
				return -1;
			label[n++] = (uint8_t)c;
		}
		if (n == 0)
			return -1; /* empty label: "a..b" or a leading dot */
		if (w + 1 + n + 1 > 255)
			return -1;
		wire[w++] = (uint8_t)n;
		memcpy(wire + w, label, n);
		w += n;
		if (*s == '.')
			s++;
	}
	wire[w++] = 0;
	dns_put_bytes(o, wire, w);
	return o->oom ? -1 : 0;
}

static void put_header(dns_out *o, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
	uint16_t ns, uint16_t ar)
{
	dns_put_u16(o, id);
	dns_put_u16(o, flags);
	dns_put_u16(o, qd);
	dns_put_u16(o, an);
	dns_put_u16(o, ns);
	dns_put_u16(o, ar);
}

int dns_build_query(dns_out *o, uint16_t id, int rd, const char *name, uint16_t qtype,
	uint16_t qclass)
{
	put_header(o, id, rd ? DNS_FLAG_RD : 0, 1, 0, 0, 0);
	if (dns_put_name(o, name) != 0)
		return -1;
	dns_put_u16(o, qtype);
	dns_put_u16(o, qclass);
	return o->oom ? -1 : 0;
}

int dns_build_error(dns_out *o, const uint8_t *qbuf, const dns_msg *q, int rcode)
{
	uint16_t flags = (uint16_t)(DNS_FLAG_QR | (q->flags & (0x7800 | DNS_FLAG_RD)) | DNS_FLAG_RA |
		(rcode & 0xf));
	put_header(o, q->id, flags, q->qname ? 1 : 0, 0, 0, 0);
	if (q->qname) {
		/* The first question, byte for byte as the client sent it. */
		size_t end = DNS_HEADER;
		char *n = read_name(qbuf, q->len, DNS_HEADER, &end);
		if (!n || end + 4 > q->len) {
			free(n);
			return -1;
		}
		free(n);
		dns_put_bytes(o, qbuf + DNS_HEADER, end + 4 - DNS_HEADER);
	}
	return o->oom ? -1 : 0;
}

int dns_build_truncated(dns_out *o, const uint8_t *buf, const dns_msg *m)
{
	put_header(o, m->id, (uint16_t)(m->flags | DNS_FLAG_TC), m->qdcount, 0, 0, 0);
	dns_put_bytes(o, buf + DNS_HEADER, m->question_end - DNS_HEADER);
	return o->oom ? -1 : 0;
}

/* Re-encode a name found in rdata at `off` (bounded by `end`); *next after it. */
static int copy_name(dns_out *o, const uint8_t *buf, size_t len, size_t off, size_t end,
	size_t *next)
{
	char *n = read_name(buf, len, off, next);
	if (!n || *next > end) {
		free(n);
		return -1;
	}
	int rc = dns_put_name(o, n);
	free(n);
	return rc;
}

static int put_rdata(dns_out *o, const uint8_t *buf, size_t len, const dns_rr *rr)
{
	size_t off = rr->rdata_off, end = rr->rdata_off + rr->rdlen;
	size_t fixed = 0; /* bytes before the name(s) */
	int names = 1;
	switch (rr->type) {
	case DNS_T_NS: case DNS_T_CNAME: case DNS_T_PTR: case DNS_T_DNAME:
		break;
	case DNS_T_MX:
		fixed = 2;
		break;
	case DNS_T_SRV:
		fixed = 6;
		break;
	case DNS_T_SOA:
		names = 2;
		break;
	default:
		dns_put_bytes(o, buf + off, rr->rdlen);
		return 0;
	}
	if (off + fixed > end)
		return -1;
	dns_put_bytes(o, buf + off, fixed);
	off += fixed;
	for (int i = 0; i < names; i++)
		if (copy_name(o, buf, len, off, end, &off) != 0)
			return -1;
	/* SOA's five numbers, or nothing. */
	dns_put_bytes(o, buf + off, end - off);
	return 0;
}

int dns_build_renamed(dns_out *o, const uint8_t *rbuf, const dns_msg *r, uint16_t id,
	const char *asked, const char *actual)
{
	size_t len = r->len;
	put_header(o, id, r->flags, 1, r->ancount, r->nscount, r->arcount);
	if (dns_put_name(o, asked) != 0)
		return -1;
	dns_put_u16(o, r->qtype);
	dns_put_u16(o, r->qclass);
	for (size_t i = 0; i < r->nrr; i++) {
		const dns_rr *rr = &r->rrs[i];
		const char *owner = strcasecmp(rr->name, actual) == 0 ? asked : rr->name;
		if (dns_put_name(o, owner) != 0)
			return -1;
		dns_put_u16(o, rr->type);
		dns_put_u16(o, rr->klass);
		dns_put_u32(o, rr->ttl);
		size_t len_at = o->len;
		dns_put_u16(o, 0);
		if (put_rdata(o, rbuf, len, rr) != 0 || o->oom)
			return -1;
		size_t rdlen = o->len - len_at - 2;
		if (rdlen > 65535)
			return -1;
		dns_set_u16(o->p + len_at, (uint16_t)rdlen);
	}
	return o->oom ? -1 : 0;
}

/* --- names -------------------------------------------------------------------- */

int dns_name_dots(const char *name)
{
	int dots = 0;
	size_t n = strlen(name);
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '\\') {
			i++;
			continue;
		}
		if (name[i] == '.' && i + 1 < n)
			dots++;
	}
	return dots;
}

int dns_name_under(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);
	if (n && name[n - 1] == '.')
		n--;
	if (s && suffix[s - 1] == '.')
		s--;
	if (s == 0)
		return 1;
	if (n < s || strncasecmp(name + n - s, suffix, s) != 0)
		return 0;
	return n == s || name[n - s - 1] == '.';
}
