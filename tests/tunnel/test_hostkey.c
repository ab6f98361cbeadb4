/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host key verification against a real sshd: unknown and changed keys are
 * refused with DEVKIT_EHOSTKEY and the server's SHA256 fingerprint (as
 * `ssh-keygen -l` prints it) in the message; hashed known_hosts entries work;
 * accept-new remembers the key so that a strict connect works afterwards;
 * pinning by fingerprint decides alone; and a refused connection leaves
 * nothing behind (no fd, no session on the server).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2, ... */
#endif
#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;

static void teardown(void)
{
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_sshd_stop(&sshd);
}

static void setup(void)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0, "cannot start sshd");
	ctx = tt_ctx_new();
}

TestSuite(hostkey, .init = setup, .fini = teardown, .timeout = 120);

/* A refused connection must leave no fd in this process and no session on
 * the server. `fds_before` was counted with the ctx already running. */
static void assert_nothing_left(int fds_before)
{
	long long deadline = fx_now_ms() + 5000;
	while (fx_count_fds() != fds_before && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_eq(fx_count_fds(), fds_before, "fds before %d, after the refused connection %d",
		fds_before, fx_count_fds());
	while (fx_sshd_connection_count(&sshd) > 0 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_eq(fx_sshd_connection_count(&sshd), 0,
		"the refused session is still open on the server");
}

Test(hostkey, unknown_host_key_is_refused_with_fingerprint)
{
	const char *empty = tt_fmt("%s/empty_known_hosts", sshd.dir);
	tt_write_file(empty, "");
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = empty;
	int fds = fx_count_fds();
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL,
		"the message should carry the server's fingerprint %s: %s", sshd.host_fingerprint, msg);
	assert_nothing_left(fds);
}

Test(hostkey, missing_known_hosts_file_is_refused)
{
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = tt_fmt("%s/does_not_exist", sshd.dir);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL, "%s", msg);
	cr_assert_eq(access(o.known_hosts_file, F_OK), -1, "strict mode must not create the file");
}

Test(hostkey, key_of_another_host_entry_does_not_count)
{
	/* The right key, but recorded for another port: still unknown here. */
	const char *kh = tt_fmt("%s/other_port_known_hosts", sshd.dir);
	tt_write_file(kh, tt_fmt("[127.0.0.1]:%d %s\n", sshd.port == 65535 ? 1 : sshd.port + 1,
		sshd.host_key_line));
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = kh;
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
}

Test(hostkey, changed_host_key_is_refused)
{
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	devkit_tunnel_free(tunnel);
	tunnel = NULL;

	char old_fp[128];
	snprintf(old_fp, sizeof(old_fp), "%s", sshd.host_fingerprint);
	cr_assert_eq(fx_sshd_replace_host_key(&sshd), 0);
	cr_assert_str_neq(old_fp, sshd.host_fingerprint);

	int fds = fx_count_fds();
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL,
		"the message should carry the new fingerprint %s: %s", sshd.host_fingerprint, msg);
	cr_assert(strstr(msg, old_fp) != NULL,
		"the message should carry the expected (old) fingerprint %s: %s", old_fp, msg);
	assert_nothing_left(fds);
}

Test(hostkey, hashed_known_hosts_entry_is_accepted)
{
	const char *kh = tt_fmt("%s/hashed_known_hosts", sshd.dir);
	char *plain = tt_read_file(sshd.known_hosts);
	cr_assert_not_null(plain);
	tt_write_file(kh, plain);
	free(plain);
	const char *argv[] = { "ssh-keygen", "-H", "-f", kh, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "ssh-keygen -H: %s", r.err);
	fx_run_result_free(&r);
	char *hashed = tt_read_file(kh);
	cr_assert_not_null(hashed);
	cr_assert(strncmp(hashed, "|1|", 3) == 0, "not hashed: %s", hashed);
	cr_assert(strstr(hashed, "127.0.0.1") == NULL, "not hashed: %s", hashed);
	free(hashed);

	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = kh;
	tunnel = tt_open(ctx, &o);
}

Test(hostkey, hashed_entry_for_the_wrong_key_is_a_mismatch)
{
	/* A hashed entry for this host with some other key: that is a changed
	 * key (refused), not an unknown one. */
	char other[300];
	cr_assert_eq(fx_sshd_gen_key(&sshd, "other_host_key", "ed25519", NULL, 0, other, sizeof(other)), 0);
	char *pub = tt_read_file(tt_fmt("%s.pub", other));
	cr_assert_not_null(pub);
	const char *kh = tt_fmt("%s/hashed_wrong_known_hosts", sshd.dir);
	tt_write_file(kh, tt_fmt("[127.0.0.1]:%d %s", sshd.port, pub));
	free(pub);
	const char *argv[] = { "ssh-keygen", "-H", "-f", kh, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "ssh-keygen -H: %s", r.err);
	fx_run_result_free(&r);

	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = kh;
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL, "%s", msg);
}

Test(hostkey, accept_new_appends_the_key_then_strict_works)
{
	const char *kh = tt_fmt("%s/new_known_hosts", sshd.dir);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = kh;
	o.host_key_policy = DEVKIT_HOST_KEY_ACCEPT_NEW;
	tunnel = tt_open(ctx, &o);
	devkit_tunnel_free(tunnel);
	tunnel = NULL;

	char *text = tt_read_file(kh);
	cr_assert_not_null(text, "accept-new did not create %s", kh);
	/* host_key_line is "<type> <base64>": the file must hold it for this host. */
	cr_assert(strstr(text, sshd.host_key_line) != NULL, "%s does not hold the key %s: %s", kh,
		sshd.host_key_line, text);
	cr_assert(strstr(text, tt_fmt("[127.0.0.1]:%d", sshd.port)) != NULL,
		"the entry should be for [127.0.0.1]:%d: %s", sshd.port, text);
	free(text);

	/* OpenSSH itself must accept what was written. */
	const char *argv[] = { "ssh-keygen", "-F", tt_fmt("[127.0.0.1]:%d", sshd.port), "-f", kh, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "ssh-keygen -F does not find the entry: %s%s", r.out, r.err);
	fx_run_result_free(&r);

	o.host_key_policy = DEVKIT_HOST_KEY_STRICT;
	tunnel = tt_open(ctx, &o);
}

Test(hostkey, accept_new_still_refuses_a_changed_key)
{
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.host_key_policy = DEVKIT_HOST_KEY_ACCEPT_NEW;
	cr_assert_eq(fx_sshd_replace_host_key(&sshd), 0);
	char *before = tt_read_file(sshd.known_hosts);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL, "%s", msg);
	char *after = tt_read_file(sshd.known_hosts);
	cr_assert_str_eq(before, after, "known_hosts must not change when a key is refused");
	free(before);
	free(after);
}

Test(hostkey, pinned_fingerprint_right)
{
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	/* No known_hosts at all: the pin alone decides. */
	o.known_hosts_file = tt_fmt("%s/does_not_exist", sshd.dir);
	o.host_key_sha256 = sshd.host_fingerprint;
	tunnel = tt_open(ctx, &o);
}

Test(hostkey, pinned_fingerprint_wrong)
{
	char other[300], line[1024], fp[128];
	cr_assert_eq(fx_sshd_gen_key(&sshd, "pin_key", "ed25519", NULL, 0, other, sizeof(other)), 0);
	char *pub = tt_read_file(tt_fmt("%s.pub", other));
	cr_assert_not_null(pub);
	snprintf(line, sizeof(line), "%s", pub);
	free(pub);
	cr_assert_eq(fx_ssh_fingerprint(line, fp, sizeof(fp)), 0);

	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	/* known_hosts would accept the server: the pin must still win. */
	o.host_key_sha256 = fp;
	int fds = fx_count_fds();
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EHOSTKEY, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.host_fingerprint) != NULL,
		"the message should carry the server's fingerprint %s: %s", sshd.host_fingerprint, msg);
	cr_assert(strstr(msg, fp) != NULL, "the message should carry the pinned %s: %s", fp, msg);
	assert_nothing_left(fds);
}

Test(hostkey, refused_connections_leave_no_fds)
{
	/* Many refusals in a row: each one must give back everything. */
	const char *empty = tt_fmt("%s/empty_known_hosts", sshd.dir);
	tt_write_file(empty, "");
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.known_hosts_file = empty;
	int fds = fx_count_fds();
	for (int i = 0; i < 20; i++) {
		char msg[2048];
		int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
		cr_assert_eq(rc, DEVKIT_EHOSTKEY, "attempt %d: got %d: %s", i, rc, msg);
	}
	assert_nothing_left(fds);
	/* And the context still works afterwards. */
	o.known_hosts_file = sshd.known_hosts;
	tunnel = tt_open(ctx, &o);
}
