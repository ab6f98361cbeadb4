/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DNS messages (RFC 1035): parsing and building, for the remote DNS stub.
 * Names are expanded with c-ares (ares_expand_name, which follows compression
 * pointers and rejects pointer loops); everything else is a few bytes of
 * arithmetic here. c-ares 1.18 has no record-level API, hence this file.
 * Pure functions, no loop: unit-tested in tests/dns/test_dns_msg.c.
 */
#ifndef DEVKIT_DNS_MSG_H
#define DEVKIT_DNS_MSG_H

#include <stddef.h>
#include <stdint.h>

#define DNS_HEADER 12
#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)

enum { DNS_NOERROR = 0, DNS_FORMERR = 1, DNS_SERVFAIL = 2, DNS_NXDOMAIN = 3, DNS_NOTIMP = 4,
	DNS_REFUSED = 5 };
enum { DNS_T_A = 1, DNS_T_NS = 2, DNS_T_CNAME = 5, DNS_T_SOA = 6, DNS_T_PTR = 12, DNS_T_MX = 15,
	DNS_T_AAAA = 28, DNS_T_SRV = 33, DNS_T_DNAME = 39, DNS_T_OPT = 41 };
#define DNS_C_IN 1

typedef struct dns_rr {
	char *name;           /* owner, expanded ("a.b.c", no trailing dot; "" for the root) */
	uint16_t type, klass;
	uint32_t ttl;
	size_t ttl_off;       /* where the TTL sits in the message, to age it in place */
	size_t rdata_off;     /* rdata, in the message */
	uint16_t rdlen;
	int section;          /* 1 answer, 2 authority, 3 additional */
} dns_rr;

typedef struct dns_msg {
	uint16_t id, flags;
	uint16_t qdcount, ancount, nscount, arcount;
	char *qname;          /* the (first) question; NULL if qdcount is 0 */
	uint16_t qtype, qclass;
	size_t question_end;  /* offset just past the question section */
	dns_rr *rrs;          /* answer, authority, additional, in order */
	size_t nrr;
	int has_edns;         /* an OPT record was present */
	uint16_t edns_size;   /* its UDP payload size */
	size_t len;           /* of the message parsed */
} dns_msg;

/* Parse a whole message. Returns 0, or -1 if it is not a well-formed DNS message
 * (truncated, bad name, pointer loop, counts beyond the data); m is then empty.
 * Release with dns_msg_clear (also after a failure). */
int dns_msg_parse(const uint8_t *buf, size_t len, dns_msg *m);
void dns_msg_clear(dns_msg *m);

/* The smallest TTL of the answer records, or for a negative answer the SOA's
 * (min of its TTL and MINIMUM, RFC 2308). Returns -1 when there is none. */
long dns_msg_min_ttl(const dns_msg *m, const uint8_t *buf);

/* A growing output buffer; `oom` sticks once an allocation failed. */
typedef struct dns_out {
	uint8_t *p;
	size_t len, cap;
	int oom;
} dns_out;

void dns_out_free(dns_out *o);
void dns_put_u16(dns_out *o, uint16_t v);
void dns_put_u32(dns_out *o, uint32_t v);
void dns_put_bytes(dns_out *o, const void *p, size_t n);
/* An uncompressed name from its text form (as ares_expand_name writes it:
 * "\." and "\\" escapes, "\DDD" for other bytes). -1 for an invalid name. */
int dns_put_name(dns_out *o, const char *name);

/* A query: header (RD as asked) and one question. 0, or -1 (bad name, no memory). */
int dns_build_query(dns_out *o, uint16_t id, int rd, const char *name, uint16_t qtype,
	uint16_t qclass);

/* An answer with no records and `rcode` to the query `q` (raw bytes `qbuf`),
 * echoing its question as sent. */
int dns_build_error(dns_out *o, const uint8_t *qbuf, const dns_msg *q, int rcode);

/* The response `r` (raw bytes `rbuf`), re-encoded without compression, with
 * `id`, the question name `asked`, and owner names equal to `actual` renamed
 * to `asked`: how a search-list answer is handed back under the name the
 * client asked. Names inside rdata (CNAME, NS, PTR, MX, SRV, SOA, DNAME) are
 * expanded and re-encoded, other rdata is copied. */
int dns_build_renamed(dns_out *o, const uint8_t *rbuf, const dns_msg *r, uint16_t id,
	const char *asked, const char *actual);

/* For UDP clients: the header (TC set, no records) and question of `buf`. */
int dns_build_truncated(dns_out *o, const uint8_t *buf, const dns_msg *m);

/* Lower the TTL of every record (except OPT) by `secs`, in place, not below 0. */
void dns_msg_age(uint8_t *buf, const dns_msg *m, uint32_t secs);

static inline uint16_t dns_get_u16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline void dns_set_u16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }

/* Number of dots in a name, ignoring escaped ones and a trailing one. */
int dns_name_dots(const char *name);
/* 1 if `name` equals `suffix` or ends with "." + suffix (case-insensitive). */
int dns_name_under(const char *name, const char *suffix);

#endif
