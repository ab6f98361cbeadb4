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
