/* SPDX-License-Identifier: Apache-2.0 */
/* Small parsers and buffers of the core: host:port, base64, byte queues. */
#include <criterion/criterion.h>
#include <string.h>

#include <devkit.h>

#include "core/base64.h"
#include "core/bytes.h"
#include "core/hostport.h"

Test(hostport, user_host_port)
{
	devkit__hostport hp;
	cr_assert_eq(devkit__hostport_parse("alice@bastion.example:2222", 1, 22, &hp), 0);
	cr_assert_str_eq(hp.user, "alice");
	cr_assert_str_eq(hp.host, "bastion.example");
	cr_assert_eq(hp.port, 2222);
}

Test(hostport, default_port_and_no_user)
{
	devkit__hostport hp;
	cr_assert_eq(devkit__hostport_parse("10.0.0.1", 1, 22, &hp), 0);
	cr_assert_str_eq(hp.user, "");
	cr_assert_str_eq(hp.host, "10.0.0.1");
	cr_assert_eq(hp.port, 22);
}

Test(hostport, ipv6_in_brackets_and_bare)
{
	devkit__hostport hp;
	cr_assert_eq(devkit__hostport_parse("root@[::1]:2200", 1, 22, &hp), 0);
	cr_assert_str_eq(hp.host, "::1");
	cr_assert_eq(hp.port, 2200);
	cr_assert_eq(devkit__hostport_parse("[fe80::1]", 1, 22, &hp), 0);
	cr_assert_str_eq(hp.host, "fe80::1");
	cr_assert_eq(hp.port, 22);
	cr_assert_eq(devkit__hostport_parse("::1", 1, 22, &hp), 0);
	cr_assert_str_eq(hp.host, "::1");
}

Test(hostport, bad_inputs_say_what_is_wrong)
{
	devkit__hostport hp;
	const char *bad[] = { "", "host:", "host:0", "host:65536", "host:12ab", "[::1", "[::1]x",
		"@host", "user@:22", "a@b@" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(devkit__hostport_parse(bad[i], 1, 22, &hp), DEVKIT_EINVAL, "'%s' accepted", bad[i]);
		const devkit_error *e = devkit_error_last();
		cr_assert_not_null(e);
		cr_assert(strlen(e->message) > 5, "no message for '%s'", bad[i]);
	}
	cr_assert_eq(devkit__hostport_parse("u@h", 0, 22, &hp), DEVKIT_EINVAL);
}

Test(base64, round_trip_and_openssh_fingerprint_form)
{
	const unsigned char data[] = { 0, 1, 2, 250, 251, 252, 253 };
	char text[64];
	int n = devkit__base64_encode(data, sizeof(data), text, sizeof(text), 1);
	cr_assert_str_eq(text, "AAEC+vv8/Q==");
	cr_assert_eq(n, 12);
	n = devkit__base64_encode(data, sizeof(data), text, sizeof(text), 0);
	cr_assert_str_eq(text, "AAEC+vv8/Q");
	unsigned char back[16];
	cr_assert_eq(devkit__base64_decode("AAEC+vv8/Q==", 12, back, sizeof(back)), 7);
	cr_assert_eq(memcmp(back, data, 7), 0);
	cr_assert_eq(devkit__base64_decode("AAEC+vv8/Q", 10, back, sizeof(back)), 7, "unpadded");
	cr_assert_eq(devkit__base64_decode("AA*C", 4, back, sizeof(back)), -1);
	cr_assert_eq(devkit__base64_encode(data, sizeof(data), text, 5, 1), -1, "small buffer");
}

/* What the HTTP proxy's Basic credentials and known_hosts key blobs rely on:
 * RFC 4648 4 to the letter, so one byte string has one accepted text (with
 * or without the '='), and a refused one leaves nothing in `out`. */
Test(base64, decoding_is_strict_but_padding_is_optional)
{
	static const struct { const char *text; int want; } cases[] = {
		{ "", 0 }, { "YQ", 1 }, { "YQ==", 1 }, { "YWE", 2 }, { "YWE=", 2 }, { "YWFh", 3 },
		{ "YQ=", -1 }, { "YWFhYQ=", -1 },            /* '=' that does not complete the group */
		{ "YQ===", -1 }, { "YWFh=", -1 }, { "YWFh==", -1 }, { "=", -1 }, { "====", -1 },
		{ "Y", -1 }, { "YWFhY", -1 },                /* a lone character is not a byte */
		{ "YW=h", -1 }, { "=YWF", -1 }, { "YQ==YWFh", -1 }, /* '=' before the end */
		{ "YR", -1 }, { "YR==", -1 }, { "YWF=", -1 }, /* leftover bits not zero */
		{ " YWFh", -1 }, { "YWFh ", -1 }, { "    YWFh", -1 }, { "YWFh\r\n", -1 },
		{ "YWFh----", -1 }, { "YW-h", -1 }, { "YW_h", -1 }, /* not the alphabet */
	};
	unsigned char out[16];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(out, 0x5a, sizeof(out));
		int n = devkit__base64_decode(cases[i].text, strlen(cases[i].text), out, sizeof(out));
		cr_assert_eq(n, cases[i].want, "'%s': %d, expected %d", cases[i].text, n, cases[i].want);
		if (n > 0)
			cr_assert_eq(memcmp(out, "aaa", (size_t)n), 0, "'%s'", cases[i].text);
		else
			cr_assert_eq(out[0], 0x5a, "'%s' wrote into out", cases[i].text);
	}

	/* `out` sized exactly, and one byte short. */
	cr_assert_eq(devkit__base64_decode("YWFhYQ", 6, out, 4), 4);
	memset(out, 0x5a, sizeof(out));
	cr_assert_eq(devkit__base64_decode("YWFhYQ", 6, out, 3), -1);
	cr_assert_eq(out[0], 0x5a);

	/* No fixed limit on the length: an HTTP header may be up to 16 KiB. */
	static unsigned char big[9000], back[9000];
	static char text[12004];
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (unsigned char)(i * 7);
	cr_assert_eq(devkit__base64_encode(big, sizeof(big), text, sizeof(text), 1), 12000);
	cr_assert_eq(devkit__base64_decode(text, 12000, back, sizeof(back)), 9000);
	cr_assert_eq(memcmp(back, big, sizeof(big)), 0);
}

Test(bytes, append_consume_and_reuse)
{
	devkit__bytes b = DEVKIT__BYTES_INIT;
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(devkit__bytes_append(&b, "0123456789", 10), 0);
	cr_assert_eq(devkit__bytes_avail(&b), 10000);
	devkit__bytes_consume(&b, 9995);
	cr_assert_eq(devkit__bytes_avail(&b), 5);
	cr_assert_eq(memcmp(devkit__bytes_head(&b), "56789", 5), 0);
	size_t cap = b.cap;
	for (int i = 0; i < 999; i++)
		devkit__bytes_append(&b, "0123456789", 10);
	cr_assert_eq(b.cap, cap, "consumed space was not reused");
	cr_assert_eq(devkit__bytes_printf(&b, "<%d>", 42), 0);
	cr_assert_eq(memcmp(devkit__bytes_head(&b) + devkit__bytes_avail(&b) - 4, "<42>", 4), 0);
	devkit__bytes_consume(&b, 1 << 30);
	cr_assert_eq(devkit__bytes_avail(&b), 0);
	devkit__bytes_free(&b);
	cr_assert_null(b.data);
}
