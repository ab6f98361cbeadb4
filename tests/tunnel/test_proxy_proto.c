/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Unit tests of the sidecar's request parser: every protocol, every byte
 * boundary, and the exact bytes a client sees back.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "devkit/common.h"
#include "tunnel/proxy_proto.h"

static devkit__proxy p;
static devkit__bytes reply;

static void setup(void)
{
	devkit__proxy_init(&p, NULL, NULL);
	memset(&reply, 0, sizeof(reply));
}

static void teardown(void)
{
	devkit__proxy_free(&p);
	devkit__bytes_free(&reply);
}

TestSuite(proxy_proto, .init = setup, .fini = teardown);

/* Start over, e.g. with credentials. */
static void restart(const char *user, const char *pass)
{
	devkit__proxy_free(&p);
	devkit__bytes_free(&reply);
	devkit__proxy_init(&p, user, pass);
}

static devkit__proxy_status feed(const void *data, size_t n)
{
	return devkit__proxy_feed(&p, data, n, &reply);
}

#define FEED_STR(s) feed((s), strlen(s))

/* Feed one byte at a time: NEED_MORE for each but the last, then `last`. */
static void feed_bytewise(const void *data, size_t n, devkit__proxy_status last)
{
	const unsigned char *b = data;

	for (size_t i = 0; i + 1 < n; i++)
		cr_assert_eq(feed(b + i, 1), DEVKIT__PROXY_NEED_MORE, "byte %zu of %zu", i, n);
	cr_assert_eq(feed(b + n - 1, 1), last);
}

/* The reply bytes so far equal exactly `want`; then forget them. */
static void expect_reply(const void *want, size_t n)
{
	size_t got = devkit__bytes_avail(&reply);

	cr_assert_eq(got, n, "reply is %zu bytes, want %zu: %.*s", got, n, (int)got,
		got ? devkit__bytes_head(&reply) : "");
	if (n)
		cr_assert(memcmp(devkit__bytes_head(&reply), want, n) == 0, "reply bytes differ");
	devkit__bytes_reset(&reply);
}

#define EXPECT_REPLY_STR(s) expect_reply((s), strlen(s))

static void expect_no_reply(void)
{
	expect_reply("", 0);
}

/* The complete HTTP error response for `status` with `body` (no newline). */
static void expect_http_error(const char *status_line, const char *extra, const char *body)
{
	char want[1024];

	snprintf(want, sizeof(want), "HTTP/1.1 %s\r\n%sContent-Type: text/plain\r\n"
		"Content-Length: %zu\r\nConnection: close\r\n\r\n%s\n",
		status_line, extra, strlen(body) + 1, body);
	EXPECT_REPLY_STR(want);
}

/* Every proper prefix of `req` asks for more and never completes. */
static void expect_prefixes_need_more(const char *user, const char *pass,
	const void *req, size_t n)
{
	for (size_t cut = 0; cut < n; cut++) {
		restart(user, pass);
		cr_assert_eq(feed(req, cut), DEVKIT__PROXY_NEED_MORE, "prefix of %zu bytes", cut);
		cr_assert_str_empty(p.error);
	}
}

static void expect_leftover(const void *want, size_t n)
{
	size_t len;
	const char *lo = devkit__proxy_leftover(&p, &len);

	cr_assert_eq(len, n);
	if (n)
		cr_assert(memcmp(lo, want, n) == 0);
}

static const unsigned char S5_OK[10] = { 5, 0, 0, 1, 0, 0, 0, 0, 0, 0 };
static const unsigned char S4_OK[8] = { 0, 0x5a, 0, 0, 0, 0, 0, 0 };
static const unsigned char S4_FAIL[8] = { 0, 0x5b, 0, 0, 0, 0, 0, 0 };

static void expect_s5_fail(unsigned char rep)
{
	const unsigned char want[10] = { 5, rep, 0, 1, 0, 0, 0, 0, 0, 0 };
	expect_reply(want, sizeof(want));
}

/* ---- SOCKS5 ------------------------------------------------------------- */

static const unsigned char S5_HELLO[] = { 5, 1, 0 };
static const unsigned char S5_IPV4[] = { 5, 1, 0, 1, 10, 0, 0, 1, 0x01, 0xbb };
static const unsigned char S5_IPV6[] = { 5, 1, 0, 4, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0,
	0, 0, 0, 0, 0, 0, 0, 1, 0x1f, 0x90 };
static const unsigned char S5_NAME[] = { 5, 1, 0, 3, 17, 'a', 'p', 'i', '.', 's', 'v', 'c', '.',
	'c', 'l', 'u', 's', 't', 'e', 'r', '.', 'x', 0x00, 0x50 };

Test(proxy_proto, socks5_ipv4)
{
	cr_assert_eq(feed(S5_HELLO, sizeof(S5_HELLO)), DEVKIT__PROXY_NEED_MORE);
	expect_reply("\x05\x00", 2);
	cr_assert_eq(feed(S5_IPV4, sizeof(S5_IPV4)), DEVKIT__PROXY_READY);
	expect_no_reply();
	cr_assert_eq(p.kind, DEVKIT__PROXY_SOCKS5);
	cr_assert_str_eq(p.host, "10.0.0.1");
	cr_assert_eq(p.port, 443);
	expect_leftover("", 0);
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), 0);
	expect_reply(S5_OK, sizeof(S5_OK));
}

Test(proxy_proto, socks5_ipv6_without_brackets)
{
	feed(S5_HELLO, sizeof(S5_HELLO));
	cr_assert_eq(feed(S5_IPV6, sizeof(S5_IPV6)), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "2001:db8::1");
	cr_assert_eq(p.port, 8080);
}

Test(proxy_proto, socks5_domain_kept_as_name)
{
	feed(S5_HELLO, sizeof(S5_HELLO));
	cr_assert_eq(feed(S5_NAME, sizeof(S5_NAME)), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "api.svc.cluster.x");
	cr_assert_eq(p.port, 80);
}

Test(proxy_proto, socks5_byte_by_byte)
{
	unsigned char all[64];
	size_t n = 0;

	memcpy(all, S5_HELLO, sizeof(S5_HELLO));
	n += sizeof(S5_HELLO);
	memcpy(all + n, S5_NAME, sizeof(S5_NAME));
	n += sizeof(S5_NAME);
	feed_bytewise(all, n, DEVKIT__PROXY_READY);
	expect_reply("\x05\x00", 2);
	cr_assert_str_eq(p.host, "api.svc.cluster.x");
	expect_leftover("", 0);
}

Test(proxy_proto, socks5_truncated_never_ready)
{
	const unsigned char *reqs[] = { S5_IPV4, S5_IPV6, S5_NAME };
	const size_t lens[] = { sizeof(S5_IPV4), sizeof(S5_IPV6), sizeof(S5_NAME) };

	for (size_t r = 0; r < 3; r++) {
		unsigned char all[64];
		memcpy(all, S5_HELLO, 3);
		memcpy(all + 3, reqs[r], lens[r]);
		expect_prefixes_need_more(NULL, NULL, all, 3 + lens[r]);
	}
}

Test(proxy_proto, socks5_pipelined_with_leftover)
{
	unsigned char all[64];
	const char tls[] = "\x16\x03\x01\x00\x05hello";

	memcpy(all, S5_HELLO, 3);
	memcpy(all + 3, S5_IPV4, sizeof(S5_IPV4));
	memcpy(all + 3 + sizeof(S5_IPV4), tls, sizeof(tls) - 1);
	cr_assert_eq(feed(all, 3 + sizeof(S5_IPV4) + sizeof(tls) - 1), DEVKIT__PROXY_READY);
	expect_reply("\x05\x00", 2);
	expect_leftover(tls, sizeof(tls) - 1);
	/* More bytes after READY are kept for the caller too. */
	cr_assert_eq(FEED_STR("++"), DEVKIT__PROXY_READY);
	size_t len;
	devkit__proxy_leftover(&p, &len);
	cr_assert_eq(len, sizeof(tls) - 1 + 2);
}

static const unsigned char S5_AUTH_HELLO[] = { 5, 2, 0, 2 };
static const unsigned char S5_AUTH_OK[] = { 1, 5, 'a', 'l', 'i', 'c', 'e', 6, 's', '3', 'c',
	'r', 'e', 't' };

Test(proxy_proto, socks5_auth_success)
{
	restart("alice", "s3cret");
	cr_assert_eq(feed(S5_AUTH_HELLO, sizeof(S5_AUTH_HELLO)), DEVKIT__PROXY_NEED_MORE);
	expect_reply("\x05\x02", 2);
	cr_assert_eq(feed(S5_AUTH_OK, sizeof(S5_AUTH_OK)), DEVKIT__PROXY_NEED_MORE);
	expect_reply("\x01\x00", 2);
	cr_assert_eq(feed(S5_IPV4, sizeof(S5_IPV4)), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "10.0.0.1");
}

Test(proxy_proto, socks5_auth_byte_by_byte)
{
	unsigned char all[64];
	size_t n = 0;

	memcpy(all + n, S5_AUTH_HELLO, sizeof(S5_AUTH_HELLO));
	n += sizeof(S5_AUTH_HELLO);
	memcpy(all + n, S5_AUTH_OK, sizeof(S5_AUTH_OK));
	n += sizeof(S5_AUTH_OK);
	memcpy(all + n, S5_IPV6, sizeof(S5_IPV6));
	n += sizeof(S5_IPV6);
	restart("alice", "s3cret");
	feed_bytewise(all, n, DEVKIT__PROXY_READY);
	expect_reply("\x05\x02\x01\x00", 4);
	cr_assert_str_eq(p.host, "2001:db8::1");
	expect_prefixes_need_more("alice", "s3cret", all, n);
}

Test(proxy_proto, socks5_auth_wrong_password)
{
	const unsigned char bad[] = { 1, 5, 'a', 'l', 'i', 'c', 'e', 7, 's', '3', 'c', 'r', 'e',
		't', 'X' };

	restart("alice", "s3cret");
	feed(S5_AUTH_HELLO, sizeof(S5_AUTH_HELLO));
	expect_reply("\x05\x02", 2);
	cr_assert_eq(feed(bad, sizeof(bad)), DEVKIT__PROXY_FAILED);
	expect_reply("\x01\x01", 2);
	cr_assert_str_not_empty(p.error);
	cr_assert_null(strstr(p.error, "s3cret"));
	/* Nothing more is read once failed. */
	cr_assert_eq(feed(S5_IPV4, sizeof(S5_IPV4)), DEVKIT__PROXY_FAILED);
	expect_no_reply();
}

Test(proxy_proto, socks5_auth_wrong_user)
{
	const unsigned char bad[] = { 1, 3, 'b', 'o', 'b', 6, 's', '3', 'c', 'r', 'e', 't' };

	restart("alice", "s3cret");
	feed(S5_AUTH_HELLO, sizeof(S5_AUTH_HELLO));
	cr_assert_eq(feed(bad, sizeof(bad)), DEVKIT__PROXY_FAILED);
	expect_reply("\x05\x02\x01\x01", 4);
}

Test(proxy_proto, socks5_auth_bad_subnegotiation_version)
{
	restart("alice", "s3cret");
	feed(S5_AUTH_HELLO, sizeof(S5_AUTH_HELLO));
	cr_assert_eq(feed("\x05\x05" "alice", 7), DEVKIT__PROXY_FAILED);
	expect_reply("\x05\x02\x01\x01", 4);
	cr_assert(strstr(p.error, "version") != NULL);
}

Test(proxy_proto, socks5_auth_required_but_not_offered)
{
	restart("alice", "s3cret");
	cr_assert_eq(feed(S5_HELLO, sizeof(S5_HELLO)), DEVKIT__PROXY_FAILED);
	expect_reply("\x05\xff", 2);
	cr_assert_str_not_empty(p.error);
}

Test(proxy_proto, socks5_no_auth_not_offered)
{
	cr_assert_eq(feed("\x05\x01\x02", 3), DEVKIT__PROXY_FAILED);
	expect_reply("\x05\xff", 2);
	restart(NULL, NULL);
	cr_assert_eq(feed("\x05\x00", 2), DEVKIT__PROXY_FAILED);
	expect_reply("\x05\xff", 2);
}

Test(proxy_proto, socks5_bad_request_version)
{
	const unsigned char req[] = { 4, 1, 0, 1, 10, 0, 0, 1, 0, 80 };

	feed(S5_HELLO, 3);
	expect_reply("\x05\x00", 2);
	cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_FAILED);
	expect_s5_fail(0x01);
	cr_assert(strstr(p.error, "version 4") != NULL, "%s", p.error);
}

Test(proxy_proto, socks5_unsupported_commands)
{
	for (unsigned char cmd = 2; cmd <= 3; cmd++) {
		const unsigned char req[] = { 5, cmd, 0, 1, 10, 0, 0, 1, 0, 80 };
		restart(NULL, NULL);
		feed(S5_HELLO, 3);
		expect_reply("\x05\x00", 2);
		cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_FAILED);
		expect_s5_fail(0x07);
		cr_assert(strstr(p.error, "command") != NULL);
	}
}

Test(proxy_proto, socks5_unknown_address_type)
{
	const unsigned char req[] = { 5, 1, 0, 2, 10, 0, 0, 1, 0, 80 };

	feed(S5_HELLO, 3);
	expect_reply("\x05\x00", 2);
	cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_FAILED);
	expect_s5_fail(0x08);
	cr_assert(strstr(p.error, "address type 2") != NULL);
}

Test(proxy_proto, socks5_bad_domains)
{
	const unsigned char empty[] = { 5, 1, 0, 3, 0, 0, 80 };
	const unsigned char nul[] = { 5, 1, 0, 3, 3, 'a', 0, 'b', 0, 80 };
	const unsigned char space[] = { 5, 1, 0, 3, 3, 'a', ' ', 'b', 0, 80 };
	const unsigned char *reqs[] = { empty, nul, space };
	const size_t lens[] = { sizeof(empty), sizeof(nul), sizeof(space) };

	for (size_t i = 0; i < 3; i++) {
		restart(NULL, NULL);
		feed(S5_HELLO, 3);
		expect_reply("\x05\x00", 2);
		cr_assert_eq(feed(reqs[i], lens[i]), DEVKIT__PROXY_FAILED, "case %zu", i);
		expect_s5_fail(0x01);
		cr_assert_str_not_empty(p.error);
	}
}

Test(proxy_proto, socks5_port_zero)
{
	const unsigned char req[] = { 5, 1, 0, 1, 10, 0, 0, 1, 0, 0 };

	feed(S5_HELLO, 3);
	expect_reply("\x05\x00", 2);
	cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_FAILED);
	expect_s5_fail(0x01);
}

Test(proxy_proto, socks5_longest_domain)
{
	unsigned char req[5 + 255 + 2] = { 5, 1, 0, 3, 255 };

	memset(req + 5, 'a', 255);
	req[5 + 255] = 0x01;
	req[5 + 256] = 0x00;
	feed(S5_HELLO, 3);
	cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_READY);
	cr_assert_eq(strlen(p.host), 255);
	cr_assert_eq(p.port, 256);
}

Test(proxy_proto, socks5_failure_replies)
{
	static const struct { int err; unsigned char rep; } map[] = {
		{ DEVKIT_ECONNREFUSED, 0x05 }, { DEVKIT_ENOTFOUND, 0x04 },
		{ DEVKIT_ETIMEOUT, 0x04 }, { DEVKIT_EIO, 0x01 }, { DEVKIT_ERROR, 0x01 },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		restart(NULL, NULL);
		feed(S5_HELLO, 3);
		cr_assert_eq(feed(S5_IPV4, sizeof(S5_IPV4)), DEVKIT__PROXY_READY);
		devkit__bytes_reset(&reply);
		cr_assert_eq(devkit__proxy_reply_failure(&p, map[i].err, "nope", &reply), 0);
		expect_s5_fail(map[i].rep);
	}
}

/* ---- SOCKS4 / 4a -------------------------------------------------------- */

static const unsigned char S4_REQ[] = { 4, 1, 0x00, 0x50, 192, 168, 1, 2, 'b', 'o', 'b', 0 };
static const unsigned char S4A_REQ[] = { 4, 1, 0x01, 0xbb, 0, 0, 0, 1, 0, 'e', 'x', 'a', 'm',
	'p', 'l', 'e', '.', 'c', 'o', 'm', 0 };

Test(proxy_proto, socks4_ipv4)
{
	cr_assert_eq(feed(S4_REQ, sizeof(S4_REQ)), DEVKIT__PROXY_READY);
	expect_no_reply();
	cr_assert_eq(p.kind, DEVKIT__PROXY_SOCKS4);
	cr_assert_str_eq(p.host, "192.168.1.2");
	cr_assert_eq(p.port, 80);
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), 0);
	expect_reply(S4_OK, sizeof(S4_OK));
}

Test(proxy_proto, socks4a_domain)
{
	cr_assert_eq(feed(S4A_REQ, sizeof(S4A_REQ)), DEVKIT__PROXY_READY);
	cr_assert_eq(p.kind, DEVKIT__PROXY_SOCKS4);
	cr_assert_str_eq(p.host, "example.com");
	cr_assert_eq(p.port, 443);
}

Test(proxy_proto, socks4_byte_by_byte_and_truncated)
{
	feed_bytewise(S4A_REQ, sizeof(S4A_REQ), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "example.com");
	expect_no_reply();
	expect_prefixes_need_more(NULL, NULL, S4A_REQ, sizeof(S4A_REQ));
	expect_prefixes_need_more(NULL, NULL, S4_REQ, sizeof(S4_REQ));
}

Test(proxy_proto, socks4_leftover)
{
	unsigned char all[64];

	memcpy(all, S4_REQ, sizeof(S4_REQ));
	memcpy(all + sizeof(S4_REQ), "GET /", 5);
	cr_assert_eq(feed(all, sizeof(S4_REQ) + 5), DEVKIT__PROXY_READY);
	expect_leftover("GET /", 5);
}

Test(proxy_proto, socks4_userid_bound)
{
	unsigned char req[8 + 300] = { 4, 1, 0, 80, 10, 0, 0, 1 };

	/* 255 bytes and its NUL: accepted. */
	memset(req + 8, 'u', 255);
	req[8 + 255] = 0;
	cr_assert_eq(feed(req, 8 + 256), DEVKIT__PROXY_READY);

	/* 256 bytes with no NUL yet: refused before the NUL arrives. */
	restart(NULL, NULL);
	memset(req + 8, 'u', 256);
	cr_assert_eq(feed(req, 8 + 255), DEVKIT__PROXY_NEED_MORE);
	cr_assert_eq(feed(req + 8 + 255, 1), DEVKIT__PROXY_FAILED);
	expect_reply(S4_FAIL, sizeof(S4_FAIL));
	cr_assert(strstr(p.error, "user id") != NULL);
}

Test(proxy_proto, socks4a_domain_bound_and_empty)
{
	unsigned char req[9 + 300] = { 4, 1, 0, 80, 0, 0, 0, 9, 0 };

	memset(req + 9, 'd', 256);
	cr_assert_eq(feed(req, 9 + 256), DEVKIT__PROXY_FAILED);
	expect_reply(S4_FAIL, sizeof(S4_FAIL));

	restart(NULL, NULL);
	req[9] = 0;
	cr_assert_eq(feed(req, 10), DEVKIT__PROXY_FAILED);
	expect_reply(S4_FAIL, sizeof(S4_FAIL));
	cr_assert(strstr(p.error, "empty") != NULL);
}

Test(proxy_proto, socks4_refused_when_auth_configured)
{
	restart("alice", "s3cret");
	cr_assert_eq(feed(S4_REQ, sizeof(S4_REQ)), DEVKIT__PROXY_FAILED);
	expect_reply(S4_FAIL, sizeof(S4_FAIL));
	cr_assert_null(strstr(p.error, "s3cret"));
}

Test(proxy_proto, socks4_bind_unsupported)
{
	const unsigned char req[] = { 4, 2, 0, 80, 10, 0, 0, 1, 0 };

	cr_assert_eq(feed(req, sizeof(req)), DEVKIT__PROXY_FAILED);
	expect_reply(S4_FAIL, sizeof(S4_FAIL));
}

Test(proxy_proto, socks4_failure_replies)
{
	const int errs[] = { DEVKIT_ECONNREFUSED, DEVKIT_ENOTFOUND, DEVKIT_ETIMEOUT, DEVKIT_EIO };

	for (size_t i = 0; i < 4; i++) {
		restart(NULL, NULL);
		cr_assert_eq(feed(S4_REQ, sizeof(S4_REQ)), DEVKIT__PROXY_READY);
		cr_assert_eq(devkit__proxy_reply_failure(&p, errs[i], NULL, &reply), 0);
		expect_reply(S4_FAIL, sizeof(S4_FAIL));
	}
}

/* ---- detection ---------------------------------------------------------- */

Test(proxy_proto, unknown_first_byte)
{
	cr_assert_eq(feed("\x16\x03\x01", 3), DEVKIT__PROXY_FAILED);
	expect_no_reply();
	cr_assert(strstr(p.error, "0x16") != NULL);
	restart(NULL, NULL);
	cr_assert_eq(FEED_STR("/index"), DEVKIT__PROXY_FAILED);
}

Test(proxy_proto, empty_feed_needs_more)
{
	cr_assert_eq(feed(NULL, 0), DEVKIT__PROXY_NEED_MORE);
	cr_assert_eq(p.kind, DEVKIT__PROXY_UNKNOWN);
}

Test(proxy_proto, replies_need_a_complete_request)
{
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), DEVKIT_EINVAL);
	feed(S5_HELLO, 3);
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), DEVKIT_EINVAL);
	cr_assert_eq(devkit__proxy_reply_failure(&p, DEVKIT_EIO, "x", &reply), DEVKIT_EINVAL);
}

/* ---- HTTP CONNECT ------------------------------------------------------- */

static const char CONNECT_REQ[] =
	"CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
	"User-Agent: curl/8.0\r\n\r\n";

Test(proxy_proto, http_connect)
{
	cr_assert_eq(FEED_STR(CONNECT_REQ), DEVKIT__PROXY_READY);
	expect_no_reply();
	cr_assert_eq(p.kind, DEVKIT__PROXY_HTTP_CONNECT);
	cr_assert_str_eq(p.host, "example.com");
	cr_assert_eq(p.port, 443);
	expect_leftover("", 0);
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), 0);
	EXPECT_REPLY_STR("HTTP/1.1 200 Connection established\r\n\r\n");
}

Test(proxy_proto, http_connect_ipv6)
{
	cr_assert_eq(FEED_STR("CONNECT [::1]:8443 HTTP/1.0\r\n\r\n"), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "::1");
	cr_assert_eq(p.port, 8443);
}

Test(proxy_proto, http_connect_byte_by_byte_and_truncated)
{
	feed_bytewise(CONNECT_REQ, strlen(CONNECT_REQ), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "example.com");
	expect_no_reply();
	expect_prefixes_need_more(NULL, NULL, CONNECT_REQ, strlen(CONNECT_REQ));
}

Test(proxy_proto, http_connect_leftover)
{
	char all[256];
	const char tls[] = "\x16\x03\x01\x02\x00\x01";

	snprintf(all, sizeof(all), "%s%s", CONNECT_REQ, tls);
	cr_assert_eq(FEED_STR(all), DEVKIT__PROXY_READY);
	expect_leftover(tls, strlen(tls));
}

Test(proxy_proto, http_connect_bad_targets)
{
	const char *bad[] = {
		"CONNECT example.com HTTP/1.1\r\n\r\n",
		"CONNECT example.com: HTTP/1.1\r\n\r\n",
		"CONNECT example.com:99999 HTTP/1.1\r\n\r\n",
		"CONNECT example.com:0 HTTP/1.1\r\n\r\n",
		"CONNECT example.com:8x HTTP/1.1\r\n\r\n",
		"CONNECT [::1 HTTP/1.1\r\n\r\n",
		"CONNECT [zz]:80 HTTP/1.1\r\n\r\n",
		"CONNECT [::1]x:80 HTTP/1.1\r\n\r\n",
		"CONNECT :443 HTTP/1.1\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		restart(NULL, NULL);
		cr_assert_eq(FEED_STR(bad[i]), DEVKIT__PROXY_FAILED, "%s", bad[i]);
		cr_assert(strncmp(p.error, "bad CONNECT target", 18) == 0, "%s", p.error);
		expect_http_error("400 Bad Request", "", p.error);
	}
}

Test(proxy_proto, http_connect_missing_port_exact_reply)
{
	cr_assert_eq(FEED_STR("CONNECT example.com HTTP/1.1\r\n\r\n"), DEVKIT__PROXY_FAILED);
	EXPECT_REPLY_STR("HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
		"Content-Length: 33\r\nConnection: close\r\n\r\n"
		"bad CONNECT target: port missing\n");
}

/* base64("alice:s3cret") */
#define ALICE_B64 "YWxpY2U6czNjcmV0"

Test(proxy_proto, http_auth_success_case_insensitive)
{
	restart("alice", "s3cret");
	cr_assert_eq(FEED_STR("CONNECT db.svc:5432 HTTP/1.1\r\n"
		"proxy-AUTHORIZATION:   basic " ALICE_B64 "  \r\n\r\n"), DEVKIT__PROXY_READY);
	expect_no_reply();
	cr_assert_str_eq(p.host, "db.svc");
}

static const char EXPECT_407[] =
	"HTTP/1.1 407 Proxy Authentication Required\r\n"
	"Proxy-Authenticate: Basic realm=\"devkit\"\r\n"
	"Content-Type: text/plain\r\nContent-Length: 30\r\nConnection: close\r\n\r\n"
	"proxy authentication required\n";

Test(proxy_proto, http_auth_missing)
{
	restart("alice", "s3cret");
	cr_assert_eq(FEED_STR(CONNECT_REQ), DEVKIT__PROXY_FAILED);
	EXPECT_REPLY_STR(EXPECT_407);
	cr_assert_eq(p.kind, DEVKIT__PROXY_HTTP_CONNECT);
}

Test(proxy_proto, http_auth_wrong)
{
	const char *bad[] = {
		"Basic YWxpY2U6czNjcmV0WA==",   /* alice:s3cretX */
		"Basic Ym9iOnMzY3JldA==",       /* bob:s3cret */
		"Basic YWxpY2U=",               /* alice (no colon) */
		"Basic YWxpY2U6czNjcmV0=",      /* bad padding */
		"Basic YWxpY2U6cz!jcmV0",       /* bad character */
		"Bearer " ALICE_B64,
		"Basic",
		"Basic ",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char req[256];
		snprintf(req, sizeof(req), "CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: %s\r\n\r\n",
			bad[i]);
		restart("alice", "s3cret");
		cr_assert_eq(FEED_STR(req), DEVKIT__PROXY_FAILED, "%s", bad[i]);
		expect_http_error("407 Proxy Authentication Required",
			"Proxy-Authenticate: Basic realm=\"devkit\"\r\n",
			"proxy authentication failed: wrong user name or password");
		cr_assert_null(strstr(p.error, "s3cret"));
	}
}

Test(proxy_proto, http_auth_unpadded_base64_accepted)
{
	/* "alice:pw" is 8 bytes: base64 "YWxpY2U6cHc=", sent without the '='. */
	restart("alice", "pw");
	cr_assert_eq(FEED_STR("CONNECT a:1 HTTP/1.1\r\nProxy-Authorization: Basic YWxpY2U6cHc\r\n\r\n"),
		DEVKIT__PROXY_READY);
}

Test(proxy_proto, http_oversized_head)
{
	static char big[DEVKIT__PROXY_MAX_HEAD + 16];

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET http://x/ HTTP/1.1\r\nX: ", 27);
	cr_assert_eq(feed(big, DEVKIT__PROXY_MAX_HEAD - 1), DEVKIT__PROXY_NEED_MORE);
	expect_no_reply();
	cr_assert_eq(feed(big, 1), DEVKIT__PROXY_FAILED);
	EXPECT_REPLY_STR("HTTP/1.1 431 Request Header Fields Too Large\r\n"
		"Content-Type: text/plain\r\nContent-Length: 37\r\nConnection: close\r\n\r\n"
		"request head longer than 16384 bytes\n");
}

Test(proxy_proto, http_head_of_exactly_max_size)
{
	static char big[DEVKIT__PROXY_MAX_HEAD + 8];
	const char *start = "CONNECT h:1 HTTP/1.1\r\nX: ";

	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	memcpy(big + DEVKIT__PROXY_MAX_HEAD - 4, "\r\n\r\nZZZZ", 8);
	/* In two pieces, the terminator split across them. */
	cr_assert_eq(feed(big, DEVKIT__PROXY_MAX_HEAD - 2), DEVKIT__PROXY_NEED_MORE);
	cr_assert_eq(feed(big + DEVKIT__PROXY_MAX_HEAD - 2, 6), DEVKIT__PROXY_READY);
	expect_leftover("ZZZZ", 4);

	/* One byte more and the terminator ends past the limit. */
	restart(NULL, NULL);
	memset(big, 'a', sizeof(big));
	memcpy(big, start, strlen(start));
	memcpy(big + DEVKIT__PROXY_MAX_HEAD - 3, "\r\n\r\n", 4);
	cr_assert_eq(feed(big, DEVKIT__PROXY_MAX_HEAD + 1), DEVKIT__PROXY_FAILED);
	cr_assert(strstr(devkit__bytes_head(&reply), " 431 ") != NULL);
}

Test(proxy_proto, http_malformed_heads)
{
	const char *bad[] = {
		"GET http://x/ HTTP/1.1\nHost: x\r\n\r\n",          /* bare LF */
		"GET http://x/ HTTP/1.1\r\nHost: x\rY\r\n\r\n",     /* bare CR */
		"GET http://x/ HTTP/1.1\r\nHost : x\r\n\r\n",       /* space before colon */
		"GET http://x/ HTTP/1.1\r\nA: b\r\n c\r\n\r\n",     /* obs-fold */
		"GET http://x/ HTTP/1.1\r\nno colon\r\n\r\n",
		"GET  http://x/ HTTP/1.1\r\n\r\n",                  /* double space */
		"GET http://x/\r\n\r\n",                            /* HTTP/0.9-ish */
		"G(T http://x/ HTTP/1.1\r\n\r\n",
		"GET http://x/ FTP/1.1\r\n\r\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		restart(NULL, NULL);
		cr_assert_eq(FEED_STR(bad[i]), DEVKIT__PROXY_FAILED, "case %zu", i);
		expect_http_error("400 Bad Request", "", p.error);
	}
}

Test(proxy_proto, http_version_not_supported)
{
	cr_assert_eq(FEED_STR("GET http://x/ HTTP/2.0\r\n\r\n"), DEVKIT__PROXY_FAILED);
	expect_http_error("505 HTTP Version Not Supported", "", "only HTTP/1.x is supported");
}

/* ---- plain HTTP --------------------------------------------------------- */

Test(proxy_proto, http_plain_rewrite)
{
	restart("alice", "s3cret");
	cr_assert_eq(FEED_STR("GET http://example.com/a/b?x=1#frag HTTP/1.1\r\n"
		"Host: example.com\r\n"
		"Proxy-Connection: keep-alive\r\n"
		"Proxy-Authorization: Basic " ALICE_B64 "\r\n"
		"Connection: keep-alive\r\n"
		"Keep-Alive: timeout=5\r\n"
		"Accept: */*\r\n"
		"User-Agent: test\r\n\r\n"), DEVKIT__PROXY_READY);
	expect_no_reply();
	cr_assert_eq(p.kind, DEVKIT__PROXY_HTTP_PLAIN);
	cr_assert_str_eq(p.host, "example.com");
	cr_assert_eq(p.port, 80);
	cr_assert_eq(devkit__bytes_avail(&p.head), strlen(
		"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
		"User-Agent: test\r\nConnection: close\r\n\r\n"));
	cr_assert(memcmp(devkit__bytes_head(&p.head),
		"GET /a/b?x=1 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n"
		"User-Agent: test\r\nConnection: close\r\n\r\n", devkit__bytes_avail(&p.head)) == 0);
	/* The server answers: nothing for the proxy to say. */
	cr_assert_eq(devkit__proxy_reply_success(&p, &reply), 0);
	expect_no_reply();
}

static void expect_head(const char *want)
{
	size_t n = devkit__bytes_avail(&p.head);

	cr_assert_eq(n, strlen(want), "head: %.*s", (int)n, devkit__bytes_head(&p.head));
	cr_assert(memcmp(devkit__bytes_head(&p.head), want, n) == 0, "head: %.*s", (int)n,
		devkit__bytes_head(&p.head));
}

Test(proxy_proto, http_plain_adds_host_and_root_path)
{
	cr_assert_eq(FEED_STR("GET HTTP://Example.com:8080 HTTP/1.0\r\n\r\n"), DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "Example.com");
	cr_assert_eq(p.port, 8080);
	expect_head("GET / HTTP/1.0\r\nHost: Example.com:8080\r\nConnection: close\r\n\r\n");
}

Test(proxy_proto, http_plain_query_only_and_ipv6)
{
	cr_assert_eq(FEED_STR("HEAD http://[::1]:81?q HTTP/1.1\r\nHost: wrong\r\n\r\n"),
		DEVKIT__PROXY_READY);
	cr_assert_str_eq(p.host, "::1");
	cr_assert_eq(p.port, 81);
	/* RFC 9112 3.2.2: the Host a proxy sends comes from the URI. */
	expect_head("HEAD /?q HTTP/1.1\r\nHost: [::1]:81\r\nConnection: close\r\n\r\n");
}

Test(proxy_proto, http_plain_drops_connection_options)
{
	cr_assert_eq(FEED_STR("GET http://h/ HTTP/1.1\r\n"
		"Connection: Upgrade, x-hop , Content-Length\r\n"
		"Upgrade: websocket\r\n"
		"X-Hop: 1\r\n"
		"X-Keep: 2\r\n"
		"Content-Length: 0\r\n\r\n"), DEVKIT__PROXY_READY);
	expect_head("GET / HTTP/1.1\r\nHost: h\r\nX-Keep: 2\r\nContent-Length: 0\r\n"
		"Connection: close\r\n\r\n");
}

Test(proxy_proto, http_plain_body_is_leftover)
{
	cr_assert_eq(FEED_STR("POST http://h:8000/api HTTP/1.1\r\nContent-Length: 7\r\n\r\n"
		"{\"a\":1}"), DEVKIT__PROXY_READY);
	expect_head("POST /api HTTP/1.1\r\nHost: h:8000\r\nContent-Length: 7\r\n"
		"Connection: close\r\n\r\n");
	expect_leftover("{\"a\":1}", 7);
}

Test(proxy_proto, http_plain_byte_by_byte)
{
	const char *req = "GET http://h/x HTTP/1.1\r\nAccept: a\r\n\r\n";

	feed_bytewise(req, strlen(req), DEVKIT__PROXY_READY);
	expect_head("GET /x HTTP/1.1\r\nHost: h\r\nAccept: a\r\nConnection: close\r\n\r\n");
	expect_prefixes_need_more(NULL, NULL, req, strlen(req));
}

Test(proxy_proto, http_plain_refusals)
{
	static const struct { const char *req, *body; } cases[] = {
		{ "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n",
		  "not a proxy request: send an absolute URI (GET http://host/path) or use CONNECT" },
		{ "OPTIONS * HTTP/1.1\r\n\r\n",
		  "not a proxy request: send an absolute URI (OPTIONS http://host/path) or use CONNECT" },
		{ "GET https://x/ HTTP/1.1\r\n\r\n",
		  "https:// URIs are proxied with CONNECT, not as a plain request" },
		{ "GET ftp://x/ HTTP/1.1\r\n\r\n", "URI scheme \"ftp\" not supported" },
		{ "GET x.com:80 HTTP/1.1\r\n\r\n", "request target is not an absolute URI" },
		{ "GET http://u:pw@x/ HTTP/1.1\r\n\r\n",
		  "user name or password in the URI not supported" },
		{ "GET http:///x HTTP/1.1\r\n\r\n", "bad URI authority: empty host" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		restart(NULL, NULL);
		cr_assert_eq(FEED_STR(cases[i].req), DEVKIT__PROXY_FAILED, "%s", cases[i].req);
		cr_assert_str_eq(p.error, cases[i].body);
		expect_http_error("400 Bad Request", "", cases[i].body);
	}
}

Test(proxy_proto, http_plain_auth_required)
{
	restart("alice", "s3cret");
	cr_assert_eq(FEED_STR("GET http://h/ HTTP/1.1\r\n\r\n"), DEVKIT__PROXY_FAILED);
	EXPECT_REPLY_STR(EXPECT_407);
	cr_assert_eq(p.kind, DEVKIT__PROXY_HTTP_PLAIN);
}

Test(proxy_proto, http_failure_replies)
{
	static const struct { int err; const char *status; } map[] = {
		{ DEVKIT_ECONNREFUSED, "502 Bad Gateway" }, { DEVKIT_ENOTFOUND, "502 Bad Gateway" },
		{ DEVKIT_ETIMEOUT, "504 Gateway Timeout" }, { DEVKIT_EIO, "502 Bad Gateway" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		restart(NULL, NULL);
		cr_assert_eq(FEED_STR("CONNECT [::1]:443 HTTP/1.1\r\n\r\n"), DEVKIT__PROXY_READY);
		cr_assert_eq(devkit__proxy_reply_failure(&p, map[i].err, "the bastion said no",
			&reply), 0);
		expect_http_error(map[i].status, "",
			"cannot connect to [::1]:443: the bastion said no");
	}

	/* Plain requests get the same answer; without `why`, the code's name. */
	restart(NULL, NULL);
	cr_assert_eq(FEED_STR("GET http://h/ HTTP/1.1\r\n\r\n"), DEVKIT__PROXY_READY);
	cr_assert_eq(devkit__proxy_reply_failure(&p, DEVKIT_ECONNREFUSED, NULL, &reply), 0);
	expect_http_error("502 Bad Gateway", "", "cannot connect to h:80: connection refused");
}
