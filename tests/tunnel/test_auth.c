/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Authentication against a real OpenSSH sshd: every method a user can give
 * (key files in OpenSSH and PEM format, encrypted keys, password,
 * keyboard-interactive) logs in, and every wrong credential fails with
 * DEVKIT_EAUTH and a message that says what the server offered and what was
 * tried — and never contains the secret itself, in the error or in any log line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4, pipe2, ... */
#endif
#include <libssh2.h>

#include "tunnel_test.h"

static fx_sshd sshd;
static devkit_ctx *ctx;
static devkit_tunnel *tunnel;
static tt_log logbuf;

static void teardown(void)
{
	devkit_tunnel_free(tunnel);
	tunnel = NULL;
	devkit_ctx_free(ctx);
	ctx = NULL;
	fx_sshd_stop(&sshd);
}

TestSuite(auth, .fini = teardown, .timeout = 120);

static void start_sshd(const fx_sshd_options *o)
{
	cr_assert_eq(fx_sshd_start(&sshd, o), 0, "cannot start sshd");
	ctx = tt_ctx_new_logging(&logbuf);
}

/* Options for the password user, with no key at all. */
static void password_opts(devkit_tunnel_options *o, const char *password)
{
	tt_opts(o, &sshd);
	o->bastion = tt_fmt("127.0.0.1:%d", sshd.port);
	o->user = sshd.password_user;
	o->identity_file = NULL;
	o->password = password;
}

/* The session really works: a -L forward to an echo server carries bytes. */
static void assert_tunnel_carries_bytes(devkit_tunnel *t)
{
	fx_server *echo = fx_echo_start();
	cr_assert_not_null(echo);
	devkit_forward *f = tt_local_forward(t, "127.0.0.1", fx_server_port(echo));
	int fd = tt_connect(devkit_forward_port(f));
	tt_echo_string(fd, "authenticated and forwarding");
	close(fd);
	devkit_forward_free(f);
	fx_server_stop(echo);
}

static void assert_no_secret(const char *secret, const char *msg)
{
	cr_assert(strstr(msg, secret) == NULL, "the secret '%s' appears in: %s", secret, msg);
	pthread_mutex_lock(&logbuf.lock);
	const char *hit = strstr(logbuf.text, secret);
	pthread_mutex_unlock(&logbuf.lock);
	cr_assert(hit == NULL, "the secret '%s' appears in a log line: %.300s", secret, hit);
}

Test(auth, ed25519_key_in_openssh_format)
{
	start_sshd(NULL);
	cr_assert(tt_file_starts_with(sshd.user_key, "-----BEGIN OPENSSH PRIVATE KEY-----"),
		"the fixture's default key should be in OpenSSH format");
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);

	devkit_buf info = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_tunnel_describe(tunnel, &info), 0, "%s", tt_errmsg());
	cr_assert_not_null(info.ptr);
	cr_assert(strstr(info.ptr, "user=root") != NULL, "describe: %s", info.ptr);
	cr_assert(strstr(info.ptr, sshd.host_fingerprint) != NULL,
		"describe should show the host key %s: %s", sshd.host_fingerprint, info.ptr);
	devkit_buf_dispose(&info);
	assert_tunnel_carries_bytes(tunnel);
}

Test(auth, ecdsa_key_in_pem_format)
{
	fx_sshd_options so = { .user_key_type = "ecdsa", .user_key_pem = 1 };
	start_sshd(&so);
	cr_assert(tt_file_starts_with(sshd.user_key, "-----BEGIN EC PRIVATE KEY-----"),
		"the key should be in PEM format");
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	assert_tunnel_carries_bytes(tunnel);
}

Test(auth, ecdsa_pem_key_without_pub_file)
{
	/* tunnel.h: "The public key is read from <file>.pub when present, else
	 * derived from the private key." */
	fx_sshd_options so = { .user_key_type = "ecdsa", .user_key_pem = 1 };
	start_sshd(&so);
	cr_assert_eq(unlink(sshd.user_key_pub), 0);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
}

#define PASSPHRASE "s3cret-Passphrase-x9"

Test(auth, encrypted_key_with_right_passphrase)
{
	fx_sshd_options so = { .user_key_passphrase = PASSPHRASE };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.identity_passphrase = PASSPHRASE;
	tunnel = tt_open(ctx, &o);
	assert_tunnel_carries_bytes(tunnel);
	assert_no_secret(PASSPHRASE, "");
}

Test(auth, encrypted_key_with_wrong_passphrase)
{
	fx_sshd_options so = { .user_key_passphrase = PASSPHRASE };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	const char *wrong = "wrong-Passphrase-q7";
	o.identity_passphrase = wrong;
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "publickey") != NULL, "should list the offered methods: %s", msg);
	cr_assert(strstr(msg, sshd.user_key) != NULL, "should name the key file: %s", msg);
	assert_no_secret(wrong, msg);
	assert_no_secret(PASSPHRASE, msg);
}

Test(auth, encrypted_key_without_passphrase)
{
	fx_sshd_options so = { .user_key_passphrase = PASSPHRASE };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, sshd.user_key) != NULL, "should name the key file: %s", msg);
}

Test(auth, password_right)
{
	fx_sshd_options so = { .password_auth = 1 };
	start_sshd(&so);
	devkit_tunnel_options o;
	password_opts(&o, sshd.password);
	tunnel = tt_open(ctx, &o);
	devkit_buf info = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_tunnel_describe(tunnel, &info), 0);
	cr_assert(strstr(info.ptr, "user=" FX_SSHD_PASSWORD_USER) != NULL, "%s", info.ptr);
	cr_assert(strstr(info.ptr, FX_SSHD_PASSWORD) == NULL, "describe shows the password: %s",
		info.ptr);
	devkit_buf_dispose(&info);
	assert_tunnel_carries_bytes(tunnel);
	assert_no_secret(FX_SSHD_PASSWORD, "");
}

Test(auth, password_wrong)
{
	fx_sshd_options so = { .password_auth = 1 };
	start_sshd(&so);
	devkit_tunnel_options o;
	const char *wrong = "not-The-Password-42";
	password_opts(&o, wrong);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "password") != NULL, "should list the offered methods: %s", msg);
	cr_assert(strstr(msg, "publickey") != NULL, "should list every offered method: %s", msg);
	cr_assert(strstr(msg, FX_SSHD_PASSWORD_USER) != NULL, "should name the user: %s", msg);
	assert_no_secret(wrong, msg);
}

Test(auth, keyboard_interactive_right)
{
	/* Password authentication off: keyboard-interactive is the only way in
	 * with a password, so a login proves that method works. */
	fx_sshd_options so = { .kbdint_auth = 1 };
	start_sshd(&so);
	devkit_tunnel_options o;
	password_opts(&o, sshd.password);
	tunnel = tt_open(ctx, &o);
	assert_tunnel_carries_bytes(tunnel);
	assert_no_secret(FX_SSHD_PASSWORD, "");
}

Test(auth, keyboard_interactive_wrong)
{
	fx_sshd_options so = { .kbdint_auth = 1 };
	start_sshd(&so);
	devkit_tunnel_options o;
	const char *wrong = "kbd-Wrong-Secret-55";
	password_opts(&o, wrong);
	o.connect_timeout_ms = 30000; /* pam_unix waits ~2 s after a failure */
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "keyboard-interactive") != NULL,
		"should list the offered methods: %s", msg);
	cr_assert(strstr(msg, "password (") == NULL,
		"password auth is off on this server, so it cannot have been tried: %s", msg);
	assert_no_secret(wrong, msg);
}

Test(auth, rsa_key_and_sha1_limitation)
{
	fx_sshd_options so = { .user_key_type = "rsa" };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	int major = 0, minor = 0;
	sscanf(libssh2_version(0), "%d.%d", &major, &minor);
	if (major > 1 || (major == 1 && minor >= 11)) {
		/* libssh2 1.11 signs with rsa-sha2-256/512: the key must work. */
		tunnel = tt_open(ctx, &o);
		return;
	}
	/* libssh2 1.10 can only sign "ssh-rsa" (SHA-1), which OpenSSH >= 8.8
	 * refuses: the user must be told why, not just "rejected". */
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "RSA") != NULL, "should say the key is RSA: %s", msg);
	cr_assert(strstr(msg, "SHA-1") != NULL, "should explain the SHA-1 limitation: %s", msg);
	cr_assert(strstr(msg, "ed25519") != NULL || strstr(msg, "ecdsa") != NULL,
		"should suggest a key type that works: %s", msg);
}

Test(auth, key_not_authorized)
{
	start_sshd(NULL);
	char other[300];
	cr_assert_eq(fx_sshd_gen_key(&sshd, "other_key", "ed25519", NULL, 0, other, sizeof(other)), 0);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	o.identity_file = other;
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "publickey") != NULL, "%s", msg);
	cr_assert(strstr(msg, other) != NULL, "should name the key that was tried: %s", msg);
}

Test(auth, no_credential_matches_the_offered_methods)
{
	/* The server takes only passwords; the user gave only a key. */
	fx_sshd_options so = { .password_auth = 1, .no_pubkey_auth = 1 };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, "password") != NULL, "should say the server wants a password: %s", msg);
}

Test(auth, missing_key_file)
{
	start_sshd(NULL);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	const char *missing = tt_fmt("%s/no_such_key", sshd.dir);
	o.identity_file = missing;
	char msg[2048];
	int rc = tt_open_fail(ctx, &o, msg, sizeof(msg));
	cr_assert_eq(rc, DEVKIT_EAUTH, "got %d (%s): %s", rc, devkit_strerror(rc), msg);
	cr_assert(strstr(msg, missing) != NULL, "should name the file: %s", msg);
}

Test(auth, rsa_key_works_where_the_server_still_allows_ssh_rsa)
{
	/* The same RSA key is fine with a server that accepts SHA-1 signatures:
	 * the failure above is about the algorithm, not about RSA keys. */
	fx_sshd_options so = { .user_key_type = "rsa",
		.extra_config = "PubkeyAcceptedAlgorithms +ssh-rsa" };
	start_sshd(&so);
	devkit_tunnel_options o;
	tt_opts(&o, &sshd);
	tunnel = tt_open(ctx, &o);
	assert_tunnel_carries_bytes(tunnel);
}
