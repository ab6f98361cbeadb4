/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the sshd fixture with the clients that tests will trust it for: the
 * real OpenSSH client (which knows nothing about our code) and libssh2 (which
 * the library uses), for key, password and keyboard-interactive logins, plus
 * the crash/restart/drop/freeze controls that reconnect tests rely on.
 */
#include <criterion/criterion.h>
#include <libssh2.h>
#include <openssl/evp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"

static fx_sshd sshd;

static void teardown(void)
{
	fx_sshd_stop(&sshd);
}

TestSuite(sshd_fixture, .fini = teardown, .timeout = 120);

/* Options that keep the user's own ssh setup (config, agent, known hosts)
 * out of the picture: only what the fixture wrote decides. */
#define SSH_BASE_ARGS(s) "ssh", "-F", "/dev/null", "-o", "IdentityAgent=none", "-o", \
	"IdentitiesOnly=yes", "-o", "GlobalKnownHostsFile=/dev/null", "-o",                 \
	"StrictHostKeyChecking=yes", "-o", "ConnectTimeout=5", "-o", "LogLevel=ERROR"

static char known_hosts_opt[400];
static char port_str[16];

static void prep_args(const fx_sshd *s, const char *known_hosts)
{
	snprintf(known_hosts_opt, sizeof(known_hosts_opt), "UserKnownHostsFile=%s", known_hosts);
	snprintf(port_str, sizeof(port_str), "%d", s->port);
}

/* ssh -i key root@127.0.0.1 cmd; returns the exit code, output in r. */
static int ssh_key(const fx_sshd *s, const char *key, const char *known_hosts, const char *cmd,
	fx_run_result *r)
{
	prep_args(s, known_hosts);
	char dest[128];
	snprintf(dest, sizeof(dest), "%s@127.0.0.1", s->user);
	const char *argv[] = { SSH_BASE_ARGS(s), "-o", known_hosts_opt, "-o", "BatchMode=yes",
		"-o", "PreferredAuthentications=publickey", "-i", key, "-p", port_str, dest, cmd, NULL };
	cr_assert_eq(fx_run(argv, NULL, NULL, 30000, r), 0, "cannot run ssh");
	return r->exit_code;
}

/* ssh as the password user with `method`, the password given by SSH_ASKPASS
 * (OpenSSH uses it for password and keyboard-interactive prompts alike). */
static int ssh_password(const fx_sshd *s, const char *method, const char *password,
	const char *cmd, fx_run_result *r)
{
	char askpass[300], script[200];
	snprintf(askpass, sizeof(askpass), "%s/askpass.sh", s->dir);
	snprintf(script, sizeof(script), "#!/bin/sh\necho '%s'\n", password);
	FILE *f = fopen(askpass, "w");
	cr_assert_not_null(f);
	fputs(script, f);
	fclose(f);
	chmod(askpass, 0700);
	char env_askpass[320];
	snprintf(env_askpass, sizeof(env_askpass), "SSH_ASKPASS=%s", askpass);
	const char *env[] = { env_askpass, "SSH_ASKPASS_REQUIRE=force", "DISPLAY=:none", NULL };
	prep_args(s, s->known_hosts);
	char pref[80], dest[128];
	snprintf(pref, sizeof(pref), "PreferredAuthentications=%s", method);
	snprintf(dest, sizeof(dest), "%s@127.0.0.1", s->password_user);
	const char *argv[] = { SSH_BASE_ARGS(s), "-o", known_hosts_opt, "-o", pref, "-o",
		"PubkeyAuthentication=no", "-o", "NumberOfPasswordPrompts=1", "-p", port_str, dest, cmd,
		NULL };
	cr_assert_eq(fx_run(argv, env, NULL, 30000, r), 0, "cannot run ssh");
	return r->exit_code;
}

static void assert_key_login(const fx_sshd *s)
{
	fx_run_result r;
	int rc = ssh_key(s, s->user_key, s->known_hosts, "echo hello-from-$(id -un)", &r);
	cr_assert_eq(rc, 0, "ssh login failed (%d): %s\nsshd log: %s", rc, r.err, s->log);
	cr_assert_str_eq(r.out, "hello-from-root\n");
	fx_run_result_free(&r);
}

/* What `ssh-keygen -lf file` prints as the fingerprint (second field). */
static void keygen_fingerprint(const char *pubfile, char *out, size_t cap)
{
	const char *argv[] = { "ssh-keygen", "-E", "sha256", "-lf", pubfile, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	char bits[16];
	cr_assert_eq(sscanf(r.out, "%15s %127s", bits, out), 2, "%s", r.out);
	(void)cap;
	fx_run_result_free(&r);
}

Test(sshd_fixture, openssh_client_logs_in_with_key)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	cr_assert_gt(sshd.port, 0);
	assert_key_login(&sshd);

	/* The known_hosts line is the only reason that worked: an empty one
	 * must make the same strict client refuse. */
	char empty[300];
	snprintf(empty, sizeof(empty), "%s/empty_known_hosts", sshd.dir);
	fclose(fopen(empty, "w"));
	fx_run_result r;
	cr_assert_neq(ssh_key(&sshd, sshd.user_key, empty, "true", &r), 0);
	cr_assert(strstr(r.err, "Host key verification failed") != NULL, "%s", r.err);
	fx_run_result_free(&r);
}

Test(sshd_fixture, fingerprint_and_known_hosts_match_ssh_keygen)
{
	const char *types[] = { "ed25519", "ecdsa", "rsa" };
	for (size_t i = 0; i < 3; i++) {
		fx_sshd_options o = { .host_key_type = types[i] };
		cr_assert_eq(fx_sshd_start(&sshd, &o), 0, "%s", types[i]);
		char pub[320], want[128];
		snprintf(pub, sizeof(pub), "%s.pub", sshd.host_key);
		keygen_fingerprint(pub, want, sizeof(want));
		cr_assert_str_eq(sshd.host_fingerprint, want, "%s", types[i]);
		/* known_hosts names the port in brackets, with the same key. */
		keygen_fingerprint(sshd.known_hosts, want, sizeof(want));
		cr_assert_str_eq(sshd.host_fingerprint, want);
		char head[64];
		snprintf(head, sizeof(head), "[127.0.0.1]:%d ", sshd.port);
		FILE *f = fopen(sshd.known_hosts, "r");
		char line[1200];
		cr_assert_not_null(fgets(line, sizeof(line), f));
		fclose(f);
		cr_assert_eq(strncmp(line, head, strlen(head)), 0, "%s", line);
		assert_key_login(&sshd);
		fx_sshd_stop(&sshd);
	}
}

Test(sshd_fixture, kill_and_restart_on_same_port_with_same_key)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	int port = sshd.port;
	char fp[128];
	snprintf(fp, sizeof(fp), "%s", sshd.host_fingerprint);

	fx_sshd_kill(&sshd);
	cr_assert_eq(sshd.pid, 0);
	cr_assert_eq(fx_connect_tcp("127.0.0.1", port), -1, "a killed sshd still accepts");

	cr_assert_eq(fx_sshd_restart(&sshd), 0);
	cr_assert_eq(sshd.port, port);
	cr_assert_str_eq(sshd.host_fingerprint, fp);
	assert_key_login(&sshd);
	/* twice, to be sure a restart leaves nothing that blocks the next */
	cr_assert_eq(fx_sshd_restart(&sshd), 0);
	assert_key_login(&sshd);
}

/* A long-running `ssh ... sleep` whose per-connection sshd children are
 * not in the listener's process group: kill must find them anyway. */
static pid_t start_long_session(const fx_sshd *s)
{
	prep_args(s, s->known_hosts);
	char dest[128];
	snprintf(dest, sizeof(dest), "%s@127.0.0.1", s->user);
	const char *argv[] = { SSH_BASE_ARGS(s), "-o", known_hosts_opt, "-o", "BatchMode=yes", "-i",
		s->user_key, "-p", port_str, dest, "sleep 60", NULL };
	pid_t pid = fx_spawn(argv, NULL, NULL);
	cr_assert_gt(pid, 0);
	long long deadline = fx_now_ms() + 10000;
	while (fx_sshd_connection_count(s) < 1 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_eq(fx_sshd_connection_count(s), 1);
	/* let it get past authentication into its session */
	pid_t kids[64];
	deadline = fx_now_ms() + 10000;
	while (fx_proc_descendants(s->pid, kids, 64) < 3 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	return pid;
}

Test(sshd_fixture, kill_takes_connection_children_with_it)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	pid_t client = start_long_session(&sshd);
	pid_t kids[64];
	size_t n = fx_proc_descendants(sshd.pid, kids, 64);
	cr_assert_geq(n, 2, "expected the session's sshd processes, found %zu", n);

	fx_sshd_kill(&sshd);
	for (size_t i = 0; i < n; i++) {
		char path[64], state = 'X';
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)kids[i]);
		FILE *f = fopen(path, "r");
		if (f) {
			char buf[512];
			size_t len = fread(buf, 1, sizeof(buf) - 1, f);
			buf[len] = '\0';
			char *rp = strrchr(buf, ')');
			state = rp ? rp[2] : 'X';
			fclose(f);
		}
		cr_assert(state == 'X' || state == 'Z', "sshd child %d survived (state %c)",
			(int)kids[i], state);
	}
	/* the client saw its connection die */
	cr_assert_eq(fx_proc_reap(client, 10000), 0, "ssh client still running");
}

Test(sshd_fixture, drop_connections_keeps_listener)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	pid_t client = start_long_session(&sshd);
	cr_assert_eq(fx_sshd_drop_connections(&sshd), 1);
	cr_assert_eq(fx_proc_reap(client, 10000), 0, "ssh client still running");
	cr_assert_eq(fx_sshd_connection_count(&sshd), 0);
	assert_key_login(&sshd);
}

Test(sshd_fixture, freeze_makes_logins_time_out_and_thaw_recovers)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	fx_sshd_freeze(&sshd);
	/* TCP still connects (the kernel accepts into the backlog)... */
	int fd = fx_connect_tcp("127.0.0.1", sshd.port);
	cr_assert_geq(fd, 0);
	/* ...but no banner comes */
	char buf[64];
	cr_assert_eq(fx_read_full(fd, buf, 4, 500), -1);
	close(fd);
	fx_sshd_thaw(&sshd);
	assert_key_login(&sshd);
}

Test(sshd_fixture, replaced_host_key_is_refused_by_strict_client)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	char old_fp[128];
	snprintf(old_fp, sizeof(old_fp), "%s", sshd.host_fingerprint);
	cr_assert_eq(fx_sshd_replace_host_key(&sshd), 0);
	cr_assert_str_neq(sshd.host_fingerprint, old_fp);
	fx_run_result r;
	cr_assert_neq(ssh_key(&sshd, sshd.user_key, sshd.known_hosts, "true", &r), 0);
	cr_assert(strstr(r.err, "IDENTIFICATION HAS CHANGED") != NULL, "%s", r.err);
	fx_run_result_free(&r);
}

Test(sshd_fixture, user_key_variants)
{
	const fx_sshd_options variants[] = {
		{ .user_key_type = "rsa" },
		{ .user_key_type = "rsa", .user_key_pem = 1 },
		{ .user_key_type = "ecdsa", .user_key_pem = 1 },
		{ .user_key_type = "ed25519", .user_key_passphrase = "open sesame" },
	};
	for (size_t i = 0; i < sizeof(variants) / sizeof(variants[0]); i++) {
		cr_assert_eq(fx_sshd_start(&sshd, &variants[i]), 0, "variant %zu", i);
		FILE *f = fopen(sshd.user_key, "r");
		char first[128] = "";
		cr_assert_not_null(fgets(first, sizeof(first), f));
		fclose(f);
		if (variants[i].user_key_pem)
			cr_assert(strstr(first, "BEGIN RSA PRIVATE KEY") || strstr(first, "BEGIN EC PRIVATE KEY"),
				"not PEM: %s", first);
		else
			cr_assert(strstr(first, "BEGIN OPENSSH PRIVATE KEY"), "%s", first);
		if (variants[i].user_key_passphrase) {
			/* ssh-keygen -y proves the passphrase opens it */
			const char *argv[] = { "ssh-keygen", "-y", "-P", variants[i].user_key_passphrase, "-f",
				sshd.user_key, NULL };
			fx_run_result r;
			cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
			cr_assert_eq(r.exit_code, 0, "%s", r.err);
			fx_run_result_free(&r);
		} else {
			assert_key_login(&sshd);
		}
		fx_sshd_stop(&sshd);
	}
}

Test(sshd_fixture, extra_key_is_not_authorized)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	char other[300];
	cr_assert_eq(fx_sshd_gen_key(&sshd, "other_key", "ed25519", NULL, 0, other, sizeof(other)), 0);
	fx_run_result r;
	cr_assert_neq(ssh_key(&sshd, other, sshd.known_hosts, "true", &r), 0);
	cr_assert(strstr(r.err, "Permission denied") != NULL, "%s", r.err);
	fx_run_result_free(&r);
}

Test(sshd_fixture, extra_config_overrides_defaults)
{
	fx_sshd_options o = {
		.extra_config = "AllowTcpForwarding no\nMatch User nobody\n  X11Forwarding no\n"
	};
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	const char *argv[] = { "/usr/sbin/sshd", "-T", "-f", sshd.sshd_config, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\nallowtcpforwarding no\n") != NULL, "%s", r.out);
	fx_run_result_free(&r);
	assert_key_login(&sshd);
}

Test(sshd_fixture, password_login_with_openssh_client)
{
	fx_sshd_options o = { .password_auth = 1 };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	fx_run_result r;
	int rc = ssh_password(&sshd, "password", sshd.password, "id -un", &r);
	cr_assert_eq(rc, 0, "%s", r.err);
	cr_assert_str_eq(r.out, FX_SSHD_PASSWORD_USER "\n");
	fx_run_result_free(&r);
	cr_assert_neq(ssh_password(&sshd, "password", "wrong-password", "true", &r), 0);
	fx_run_result_free(&r);
	/* Without PAM, OpenSSH has no keyboard-interactive device on Linux: the
	 * method cannot succeed. This is why kbdint_auth turns UsePAM on. */
	cr_assert_neq(ssh_password(&sshd, "keyboard-interactive", sshd.password, "true", &r), 0);
	fx_run_result_free(&r);
}

Test(sshd_fixture, kbdint_login_with_openssh_client)
{
	fx_sshd_options o = { .kbdint_auth = 1 };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	fx_run_result r;
	int rc = ssh_password(&sshd, "keyboard-interactive", sshd.password, "id -un", &r);
	cr_assert_eq(rc, 0, "%s", r.err);
	cr_assert_str_eq(r.out, FX_SSHD_PASSWORD_USER "\n");
	fx_run_result_free(&r);
	cr_assert_neq(ssh_password(&sshd, "keyboard-interactive", "wrong-password", "true", &r), 0);
	fx_run_result_free(&r);
	/* keys still work with UsePAM yes */
	assert_key_login(&sshd);
}

/* ---- the same logins through libssh2, the library's own SSH stack ------- */

static const char *kbd_password;

static void kbd_respond(const char *name, int name_len, const char *instruction,
	int instruction_len, int num_prompts, const LIBSSH2_USERAUTH_KBDINT_PROMPT *prompts,
	LIBSSH2_USERAUTH_KBDINT_RESPONSE *responses, void **abstract)
{
	for (int i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(kbd_password);
		responses[i].length = (unsigned int)strlen(kbd_password);
	}
}

typedef enum { BY_KEY, BY_PASSWORD, BY_KBDINT } auth_kind;
#define HANDSHAKE_FAILED (-1000)

/* Handshake, check the host key against the fixture's fingerprint, then
 * authenticate. Returns libssh2's result of the authentication call, or
 * HANDSHAKE_FAILED. */
static int libssh2_login(const fx_sshd *s, auth_kind kind, const char *secret)
{
	cr_assert_eq(libssh2_init(0), 0);
	int fd = fx_connect_tcp("127.0.0.1", s->port);
	cr_assert_geq(fd, 0);
	LIBSSH2_SESSION *ss = libssh2_session_init();
	cr_assert_not_null(ss);
	libssh2_session_set_timeout(ss, 20000);
	if (libssh2_session_handshake(ss, fd) != 0) {
		libssh2_session_free(ss);
		close(fd);
		libssh2_exit();
		return HANDSHAKE_FAILED;
	}

	const unsigned char *hash =
		(const unsigned char *)libssh2_hostkey_hash(ss, LIBSSH2_HOSTKEY_HASH_SHA256);
	cr_assert_not_null(hash);
	unsigned char b64[64];
	int len = EVP_EncodeBlock(b64, hash, 32);
	while (len > 0 && b64[len - 1] == '=')
		len--;
	char fp[128];
	snprintf(fp, sizeof(fp), "SHA256:%.*s", len, (const char *)b64);
	cr_assert_str_eq(fp, s->host_fingerprint);

	int rc;
	if (kind == BY_KEY) {
		rc = libssh2_userauth_publickey_fromfile(ss, s->user, s->user_key_pub, s->user_key, secret);
	} else if (kind == BY_PASSWORD) {
		rc = libssh2_userauth_password(ss, s->password_user, secret);
	} else {
		kbd_password = secret;
		rc = libssh2_userauth_keyboard_interactive(ss, s->password_user, kbd_respond);
	}
	libssh2_session_disconnect(ss, "bye");
	libssh2_session_free(ss);
	close(fd);
	libssh2_exit();
	return rc;
}

Test(sshd_fixture, libssh2_logs_in_by_key_password_and_kbdint)
{
	/* One sshd with every method, as the auth tests will want. */
	fx_sshd_options o = { .password_auth = 1, .kbdint_auth = 1 };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	cr_assert_eq(libssh2_login(&sshd, BY_KEY, NULL), 0, "key");
	cr_assert_eq(libssh2_login(&sshd, BY_PASSWORD, sshd.password), 0, "password");
	cr_assert_eq(libssh2_login(&sshd, BY_KBDINT, sshd.password), 0, "keyboard-interactive");
	cr_assert_neq(libssh2_login(&sshd, BY_PASSWORD, "nope"), 0);
	cr_assert_neq(libssh2_login(&sshd, BY_KBDINT, "nope"), 0);
}

/* An authenticated, idle libssh2 session (as a tunnel with no traffic is)
 * must see its socket closed by kill and by drop_connections. */
static int open_idle_session(const fx_sshd *s, LIBSSH2_SESSION **out)
{
	int fd = fx_connect_tcp("127.0.0.1", s->port);
	cr_assert_geq(fd, 0);
	LIBSSH2_SESSION *ss = libssh2_session_init();
	libssh2_session_set_timeout(ss, 20000);
	cr_assert_eq(libssh2_session_handshake(ss, fd), 0);
	cr_assert_eq(libssh2_userauth_publickey_fromfile(ss, s->user, s->user_key_pub, s->user_key,
			     NULL), 0);
	*out = ss;
	return fd;
}

Test(sshd_fixture, kill_and_drop_close_idle_sessions)
{
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	cr_assert_eq(libssh2_init(0), 0);
	for (int round = 0; round < 2; round++) {
		LIBSSH2_SESSION *ss;
		int fd = open_idle_session(&sshd, &ss);
		cr_assert_eq(fx_wait_closed(fd, 200), 0, "closed before the kill");
		if (round == 0) {
			cr_assert_eq(fx_sshd_drop_connections(&sshd), 1);
		} else {
			fx_sshd_kill(&sshd);
		}
		cr_assert_eq(fx_wait_closed(fd, 2000), 1, "round %d: session socket still open", round);
		libssh2_session_free(ss);
		close(fd);
	}
	libssh2_exit();
}

Test(sshd_fixture, libssh2_opens_passphrase_key)
{
	fx_sshd_options o = { .user_key_passphrase = "open sesame" };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	cr_assert_eq(libssh2_login(&sshd, BY_KEY, "open sesame"), 0);
	cr_assert_neq(libssh2_login(&sshd, BY_KEY, "wrong"), 0);
}

Test(sshd_fixture, start_stop_leaves_no_fds_processes_or_files)
{
	/* warm up lazy state (OpenSSL tables, the sshd version probe) */
	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	fx_sshd_stop(&sshd);
	int before = fx_count_fds();
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
		assert_key_login(&sshd);
		char dir[256];
		snprintf(dir, sizeof(dir), "%s", sshd.dir);
		pid_t pid = sshd.pid;
		fx_sshd_stop(&sshd);
		cr_assert_neq(access(dir, F_OK), 0, "%s not removed", dir);
		cr_assert_neq(kill(pid, 0), 0, "sshd %d still exists", (int)pid);
	}
	cr_assert_eq(fx_count_fds(), before);
	fx_sshd_stop(&sshd); /* twice is fine */
}

/* Debian 12's libssh2 1.10 knows RSA only as "ssh-rsa" (SHA-1 signatures),
 * which OpenSSH 9.2 refuses by default, for host keys and user keys alike;
 * tests that want RSA with libssh2 turn it back on through extra_config. */
Test(sshd_fixture, libssh2_rsa_keys_need_ssh_rsa_enabled)
{
	fx_sshd_options o = { .host_key_type = "rsa" };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	cr_assert_eq(libssh2_login(&sshd, BY_KEY, NULL), HANDSHAKE_FAILED);
	fx_sshd_stop(&sshd);

	o = (fx_sshd_options){ .user_key_type = "rsa" };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	int rc = libssh2_login(&sshd, BY_KEY, NULL);
	cr_assert(rc != 0 && rc != HANDSHAKE_FAILED, "rc %d", rc);
	fx_sshd_stop(&sshd);

	o = (fx_sshd_options){ .user_key_type = "rsa", .host_key_type = "rsa",
		.extra_config = "PubkeyAcceptedAlgorithms +ssh-rsa\nHostKeyAlgorithms +ssh-rsa\n" };
	cr_assert_eq(fx_sshd_start(&sshd, &o), 0);
	cr_assert_eq(libssh2_login(&sshd, BY_KEY, NULL), 0);
}

/* A test process that dies without its .fini leaves its directory behind;
 * the next start anywhere removes it, and its sshd died with its owner. */
Test(sshd_fixture, dirs_of_crashed_tests_are_swept)
{
	int pipefd[2];
	cr_assert_eq(pipe(pipefd), 0);
	pid_t child = fork();
	cr_assert_geq(child, 0);
	if (child == 0) {
		fx_sshd crashed;
		if (fx_sshd_start(&crashed, NULL) != 0)
			_exit(1);
		if (write(pipefd[1], &crashed, sizeof(crashed)) != (ssize_t)sizeof(crashed))
			_exit(1);
		_exit(0); /* no fx_sshd_stop: a crash */
	}
	fx_sshd crashed;
	cr_assert_eq(read(pipefd[0], &crashed, sizeof(crashed)), (ssize_t)sizeof(crashed));
	close(pipefd[0]);
	close(pipefd[1]);
	int status;
	cr_assert_eq(waitpid(child, &status, 0), child);
	cr_assert_eq(access(crashed.dir, F_OK), 0, "the crashed test's dir should still be there");
	/* its sshd followed its owner (PDEATHSIG) */
	long long deadline = fx_now_ms() + 5000;
	while (kill(crashed.pid, 0) == 0 && fx_now_ms() < deadline)
		fx_sleep_ms(10);
	cr_assert_neq(kill(crashed.pid, 0), 0, "orphaned sshd %d survived its owner", (int)crashed.pid);

	cr_assert_eq(fx_sshd_start(&sshd, NULL), 0);
	cr_assert_neq(access(crashed.dir, F_OK), 0, "%s was not swept", crashed.dir);
}
