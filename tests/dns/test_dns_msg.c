/* SPDX-License-Identifier: Apache-2.0 */
/* Unit tests of the DNS message parser and builder (src/dns/dns_msg.c). */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include <ares.h>

#include "dns/dns_msg.h"

static int ares_expand_name_wrap(const uint8_t *enc, const uint8_t *buf, int len, char **out, long *enclen)
{
	char *s = NULL;
	if (ares_expand_name(enc, buf, len, &s, enclen) != ARES_SUCCESS)
		return -1;
	*out = strdup(s);
	ares_free_string(s);
	return 0;
}

/* A response as a server writes it, with compression pointers:
 * question orders.default.svc.cluster.local A IN;
 * answer   <ptr 12> CNAME web.<ptr to "default.svc...">, TTL 30
 *          web.default.svc.cluster.local A 127.0.0.2, TTL 10 (owner via pointer) */
static size_t sample_response(uint8_t *b)
{
	size_t n = 0;
	const uint8_t hdr[] = { 0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0 };
	memcpy(b, hdr, sizeof(hdr));
	n = sizeof(hdr);
	const char *labels[] = { "orders", "default", "svc", "cluster", "local" };
	for (int i = 0; i < 5; i++) {
		b[n++] = (uint8_t)strlen(labels[i]);
		memcpy(b + n, labels[i], strlen(labels[i]));
		n += strlen(labels[i]);
	}
	b[n++] = 0;
	b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;   /* A IN */
	/* answer 1: owner = pointer to 12, CNAME */
	b[n++] = 0xc0; b[n++] = 12;
	b[n++] = 0; b[n++] = 5; b[n++] = 0; b[n++] = 1;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 30;
	b[n++] = 0; b[n++] = 6;                           /* rdlen: "web" + pointer */
	size_t cname_at = n;
	b[n++] = 3; memcpy(b + n, "web", 3); n += 3;
	b[n++] = 0xc0; b[n++] = 12 + 7;                   /* -> "default.svc.cluster.local" */
	/* answer 2: owner = pointer to the CNAME target */
	b[n++] = 0xc0; b[n++] = (uint8_t)cname_at;
	b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1;
	b[n++] = 0; b[n++] = 0; b[n++] = 0; b[n++] = 10;
	b[n++] = 0; b[n++] = 4;
	b[n++] = 127; b[n++] = 0; b[n++] = 0; b[n++] = 2;
	return n;
}

Test(dns_msg, query_round_trip)
{
	dns_out o = { 0 };
	cr_assert_eq(dns_build_query(&o, 0xbeef, 1, "orders.default.svc.cluster.local", DNS_T_AAAA, DNS_C_IN), 0);
	dns_msg m;
	cr_assert_eq(dns_msg_parse(o.p, o.len, &m), 0);
	cr_assert_eq(m.id, 0xbeef);
	cr_assert(m.flags & DNS_FLAG_RD);
	cr_assert_eq(m.qdcount, 1);
	cr_assert_str_eq(m.qname, "orders.default.svc.cluster.local");
	cr_assert_eq(m.qtype, DNS_T_AAAA);
	cr_assert_eq(m.qclass, DNS_C_IN);
	cr_assert_eq(m.question_end, o.len);
	cr_assert_eq(m.nrr, 0);
	dns_msg_clear(&m);
	dns_out_free(&o);
}

Test(dns_msg, compression_pointers)
{
	uint8_t b[512];
	size_t n = sample_response(b);
	dns_msg m;
	cr_assert_eq(dns_msg_parse(b, n, &m), 0);
	cr_assert_eq(m.nrr, 2);
	cr_assert_str_eq(m.rrs[0].name, "orders.default.svc.cluster.local");
	cr_assert_eq(m.rrs[0].type, DNS_T_CNAME);
	cr_assert_str_eq(m.rrs[1].name, "web.default.svc.cluster.local");
	cr_assert_eq(m.rrs[1].type, DNS_T_A);
	cr_assert_eq(m.rrs[1].rdlen, 4);
	cr_assert_eq(b[m.rrs[1].rdata_off + 3], 2);
	cr_assert_eq(dns_msg_min_ttl(&m, b), 10);
	dns_msg_clear(&m);
}

Test(dns_msg, renamed_answer_expands_rdata_names)
{
	uint8_t b[512];
	size_t n = sample_response(b);
	dns_msg r;
	cr_assert_eq(dns_msg_parse(b, n, &r), 0);
	dns_out o = { 0 };
	cr_assert_eq(dns_build_renamed(&o, b, &r, 0x4242, "orders", "orders.default.svc.cluster.local"), 0);
	dns_msg m;
	cr_assert_eq(dns_msg_parse(o.p, o.len, &m), 0);
	cr_assert_eq(m.id, 0x4242);
	cr_assert_eq(m.flags, r.flags);
	cr_assert_str_eq(m.qname, "orders");
	cr_assert_eq(m.nrr, 2);
	cr_assert_str_eq(m.rrs[0].name, "orders");
	/* The CNAME target was behind a pointer into the old message: re-encoded. */
	char *target = NULL;
	long len;
	cr_assert_eq(ares_expand_name_wrap(o.p + m.rrs[0].rdata_off, o.p, (int)o.len, &target, &len), 0);
	cr_assert_str_eq(target, "web.default.svc.cluster.local");
	free(target);
	cr_assert_str_eq(m.rrs[1].name, "web.default.svc.cluster.local");
	cr_assert_eq(m.rrs[1].ttl, 10);
	cr_assert_eq(o.p[m.rrs[1].rdata_off], 127);
	dns_msg_clear(&m);
	dns_msg_clear(&r);
	dns_out_free(&o);
}

Test(dns_msg, pointer_loop_is_rejected)
{
	/* The question's name is a pointer to itself. */
	uint8_t b[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1 };
	dns_msg m;
	cr_assert_eq(dns_msg_parse(b, sizeof(b), &m), -1);
	dns_msg_clear(&m);
	/* Two pointers pointing at each other. */
	uint8_t c[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 14, 0xc0, 12, 0, 1, 0, 1 };
	cr_assert_eq(dns_msg_parse(c, sizeof(c), &m), -1);
	/* A pointer beyond the message. */
	uint8_t d[] = { 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 200, 0, 1, 0, 1 };
	cr_assert_eq(dns_msg_parse(d, sizeof(d), &m), -1);
}

Test(dns_msg, every_truncation_is_rejected)
{
	uint8_t b[512];
	size_t n = sample_response(b);
	for (size_t i = 0; i < n; i++) {
		uint8_t *copy = malloc(i ? i : 1); /* exact size, so ASan sees any overread */
		memcpy(copy, b, i);
		dns_msg m;
		cr_assert_eq(dns_msg_parse(copy, i, &m), -1, "a %zu-byte prefix parsed", i);
		dns_msg_clear(&m);
		free(copy);
	}
}

Test(dns_msg, lying_counts_are_rejected_without_allocating_for_them)
{
	uint8_t b[] = { 0, 1, 0x81, 0x80, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0, 1 };
	dns_msg m;
	cr_assert_eq(dns_msg_parse(b, sizeof(b), &m), -1);
	cr_assert_eq(dns_msg_parse(b, 5, &m), -1);
	cr_assert_eq(dns_msg_parse(NULL, 0, &m), -1);
}

Test(dns_msg, random_bytes_never_crash)
{
	srand(7);
	uint8_t b[600];
	for (int round = 0; round < 20000; round++) {
		size_t n = (size_t)(rand() % (int)sizeof(b));
		for (size_t i = 0; i < n; i++)
			b[i] = (uint8_t)rand();
		/* Small counts, so parsing gets past the header often. */
		if (n > 12) {
			b[4] = 0; b[5] = (uint8_t)(rand() % 3);
			b[6] = 0; b[7] = (uint8_t)(rand() % 4);
			b[8] = 0; b[9] = (uint8_t)(rand() % 2);
			b[10] = 0; b[11] = (uint8_t)(rand() % 2);
		}
		uint8_t *copy = malloc(n ? n : 1);
		memcpy(copy, b, n);
		dns_msg m;
		if (dns_msg_parse(copy, n, &m) == 0) {
			dns_out o = { 0 };
			if (m.qname)
				dns_build_renamed(&o, copy, &m, 1, "x", m.qname);
			dns_out_free(&o);
			dns_msg_age(copy, &m, 5);
			(void)dns_msg_min_ttl(&m, copy);
		}
		dns_msg_clear(&m);
		free(copy);
	}
}

Test(dns_msg, names)
{
	dns_out o = { 0 };
	cr_assert_eq(dns_put_name(&o, "a.b"), 0);
	cr_assert_eq(o.len, 5);
	cr_assert_eq(memcmp(o.p, "\1a\1b\0", 5), 0);
	o.len = 0;
	cr_assert_eq(dns_put_name(&o, ""), 0);
	cr_assert_eq(o.len, 1);
	o.len = 0;
	cr_assert_eq(dns_put_name(&o, "a.b."), 0);
	cr_assert_eq(o.len, 5);
	o.len = 0;
	cr_assert_eq(dns_put_name(&o, "a\\.b"), 0); /* one label "a.b" */
	cr_assert_eq(o.p[0], 3);
	o.len = 0;
	cr_assert_eq(dns_put_name(&o, "\\065"), 0);
	cr_assert_eq(o.p[1], 'A');
	cr_assert_eq(dns_put_name(&o, "a..b"), -1);
	cr_assert_eq(dns_put_name(&o, ".a"), -1);
	char label[70];
	memset(label, 'x', 64);
	label[64] = '\0';
	cr_assert_eq(dns_put_name(&o, label), -1);
	label[63] = '\0';
	cr_assert_eq(dns_put_name(&o, label), 0);
	char longname[300] = "";
	for (int i = 0; i < 70; i++)
		strcat(longname, "abc.");
	cr_assert_eq(dns_put_name(&o, longname), -1);
	dns_out_free(&o);

	cr_assert_eq(dns_name_dots("orders"), 0);
	cr_assert_eq(dns_name_dots("orders.default"), 1);
	cr_assert_eq(dns_name_dots("a.b.c."), 2);
	cr_assert_eq(dns_name_dots("a\\.b"), 0);
	cr_assert(dns_name_under("orders.default.svc.cluster.local", "cluster.local"));
	cr_assert(dns_name_under("CLUSTER.local.", "cluster.local"));
	cr_assert_not(dns_name_under("mycluster.local", "cluster.local"));
	cr_assert_not(dns_name_under("local", "cluster.local"));
}

Test(dns_msg, error_truncated_and_age)
{
	dns_out q = { 0 };
	cr_assert_eq(dns_build_query(&q, 77, 1, "Orders.Test", DNS_T_A, DNS_C_IN), 0);
	dns_msg qm;
	cr_assert_eq(dns_msg_parse(q.p, q.len, &qm), 0);
	dns_out e = { 0 };
	cr_assert_eq(dns_build_error(&e, q.p, &qm, DNS_SERVFAIL), 0);
	dns_msg em;
	cr_assert_eq(dns_msg_parse(e.p, e.len, &em), 0);
	cr_assert_eq(em.id, 77);
	cr_assert_eq(DNS_RCODE(em.flags), DNS_SERVFAIL);
	cr_assert(em.flags & DNS_FLAG_QR);
	cr_assert(em.flags & DNS_FLAG_RD);
	cr_assert_str_eq(em.qname, "Orders.Test");

	uint8_t b[512];
	size_t n = sample_response(b);
	dns_msg r;
	cr_assert_eq(dns_msg_parse(b, n, &r), 0);
	dns_out t = { 0 };
	cr_assert_eq(dns_build_truncated(&t, b, &r), 0);
	dns_msg tm;
	cr_assert_eq(dns_msg_parse(t.p, t.len, &tm), 0);
	cr_assert(tm.flags & DNS_FLAG_TC);
	cr_assert_eq(tm.nrr, 0);
	cr_assert_str_eq(tm.qname, "orders.default.svc.cluster.local");

	dns_msg_age(b, &r, 25);
	dns_msg aged;
	cr_assert_eq(dns_msg_parse(b, n, &aged), 0);
	cr_assert_eq(aged.rrs[0].ttl, 5);
	cr_assert_eq(aged.rrs[1].ttl, 0);
	dns_msg_clear(&aged);
	dns_msg_clear(&tm);
	dns_msg_clear(&r);
	dns_msg_clear(&em);
	dns_msg_clear(&qm);
	dns_out_free(&t);
	dns_out_free(&e);
	dns_out_free(&q);
}
