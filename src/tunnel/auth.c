/* SPDX-License-Identifier: Apache-2.0 */
/*
 * User authentication, one method after the other in the order a user expects:
 * the identity file, the agent's keys, the password, keyboard-interactive.
 * Each libssh2 call is resumable after EAGAIN, so the state is where we are in
 * that list. When everything fails the error names what the server offered
 * and what was tried — never the secrets.
 */
#include "tunnel_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum {
	AUTH_LIST = 0,
	AUTH_KEYFILE,
	AUTH_AGENT_START,
	AUTH_AGENT_NEXT,
	AUTH_AGENT_TRY,
	AUTH_PASSWORD,
	AUTH_KBDINT,
	AUTH_GIVE_UP
};

static int offered(devkit__session *s, const char *method)
{
	const char *p = s->auth_methods;
	size_t n = strlen(method);
	while (p && *p) {
		if (strncmp(p, method, n) == 0 && (p[n] == ',' || p[n] == '\0'))
			return 1;
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

static void tried(devkit__session *s, const char *fmt, const char *arg)
{
	size_t used = strlen(s->auth_tried);
	if (used + 3 >= sizeof(s->auth_tried))
		return;
	if (used)
		strcat(s->auth_tried, "; ");
	used = strlen(s->auth_tried);
	snprintf(s->auth_tried + used, sizeof(s->auth_tried) - used, fmt, arg);
}

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(kbdint_answer)
{
	devkit__session *s = *abstract;
	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	/* Every prompt gets the password: that is what "Password:" prompts of
	 * PAM-backed servers ask for, and we have nothing else to offer. */
	for (int i = 0; i < num_prompts; i++) {
		(void)prompts;
		responses[i].text = strdup(s->t->opts.password ? s->t->opts.password : "");
		responses[i].length = responses[i].text ? (unsigned int)strlen(responses[i].text) : 0;
	}
}

/* libssh2 1.10 signs RSA user keys with SHA-1 ("ssh-rsa"), which OpenSSH 8.8
 * and later refuse; say so instead of leaving the user with "rejected". */
static int is_rsa_key(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[256] = "";
	int rsa = 0;
	if (fgets(line, sizeof(line), f))
		rsa = strstr(line, "BEGIN RSA PRIVATE KEY") != NULL;
	fclose(f);
	if (!rsa) {
		char pub[1100];
		snprintf(pub, sizeof(pub), "%s.pub", path);
		f = fopen(pub, "r");
		if (f) {
			if (fgets(line, sizeof(line), f))
				rsa = strncmp(line, "ssh-rsa ", 8) == 0;
			fclose(f);
		}
	}
	return rsa;
}

static int next_step(devkit__session *s, int step)
{
	devkit_tunnel *t = s->t;
	for (;;) {
		step++;
		switch (step) {
		case AUTH_KEYFILE:
			if (t->opts.identity_file && offered(s, "publickey"))
				return step;
			break;
		case AUTH_AGENT_START:
			if (t->opts.use_agent && getenv("SSH_AUTH_SOCK") && offered(s, "publickey"))
				return step;
			break;
		case AUTH_AGENT_NEXT:
		case AUTH_AGENT_TRY:
			break; /* only reached from AUTH_AGENT_START */
		case AUTH_PASSWORD:
			if (t->opts.password && offered(s, "password"))
				return step;
			break;
		case AUTH_KBDINT:
			if (t->opts.password && offered(s, "keyboard-interactive"))
				return step;
			break;
		default:
			return AUTH_GIVE_UP;
		}
	}
}

static int give_up(devkit__session *s, char *msg, size_t msglen)
{
	devkit_tunnel *t = s->t;
	int n = snprintf(msg, msglen, "bastion %s:%d: authentication failed for user '%s': the server offers %s; ",
		t->host, t->port, t->user, s->auth_methods && *s->auth_methods ? s->auth_methods : "nothing");
	if (n < 0 || (size_t)n >= msglen)
		return DEVKIT_EAUTH;
	if (s->auth_tried[0])
		snprintf(msg + n, msglen - (size_t)n, "tried %s", s->auth_tried);
	else
		snprintf(msg + n, msglen - (size_t)n,
			"no credential given matches those methods (give an identity file, an agent, or a password)");
	return DEVKIT_EAUTH;
}

int devkit__auth_step(devkit__session *s, char *msg, size_t msglen)
{
	devkit_tunnel *t = s->t;
	unsigned int ulen = (unsigned int)strlen(t->user);
	for (;;) {
		int rc;
		switch (s->auth_step) {
		case AUTH_LIST: {
			char *list = libssh2_userauth_list(s->ssh, t->user, ulen);
			if (!list) {
				if (libssh2_userauth_authenticated(s->ssh))
					return 1; /* "none" was enough */
				if (libssh2_session_last_errno(s->ssh) == LIBSSH2_ERROR_EAGAIN)
					return 0;
				devkit__ssh_error(s, "cannot list authentication methods", msg, msglen);
				return DEVKIT_EPROTO;
			}
			free(s->auth_methods);
			s->auth_methods = strdup(list);
			s->auth_step = next_step(s, AUTH_LIST);
			continue;
		}
		case AUTH_KEYFILE:
			rc = libssh2_userauth_publickey_fromfile_ex(s->ssh, t->user, ulen, NULL,
				t->opts.identity_file, t->opts.identity_passphrase);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return 0;
			if (rc == 0)
				return 1;
			if (rc == LIBSSH2_ERROR_FILE)
				tried(s, "publickey with %s (cannot read the key: missing file, wrong format or wrong passphrase)",
					t->opts.identity_file);
			else if (is_rsa_key(t->opts.identity_file))
				tried(s, "publickey with %s (rejected; it is an RSA key, which libssh2 1.10 can only sign with "
					"SHA-1 and OpenSSH 8.8+ refuses: use an ed25519 or ecdsa key)", t->opts.identity_file);
			else
				tried(s, "publickey with %s (rejected)", t->opts.identity_file);
			s->auth_step = next_step(s, AUTH_KEYFILE);
			continue;
		case AUTH_AGENT_START:
			s->agent = libssh2_agent_init(s->ssh);
			if (!s->agent || libssh2_agent_connect(s->agent) != 0 ||
				libssh2_agent_list_identities(s->agent) != 0) {
				tried(s, "%s", "ssh-agent (cannot reach it through SSH_AUTH_SOCK)");
				s->auth_step = next_step(s, AUTH_AGENT_TRY);
				continue;
			}
			s->agent_identity = NULL;
			s->auth_step = AUTH_AGENT_NEXT;
			continue;
		case AUTH_AGENT_NEXT:
			rc = libssh2_agent_get_identity(s->agent, &s->agent_identity, s->agent_identity);
			if (rc != 0) {
				tried(s, "%s", "ssh-agent (no key was accepted)");
				s->auth_step = next_step(s, AUTH_AGENT_TRY);
				continue;
			}
			s->auth_step = AUTH_AGENT_TRY;
			continue;
		case AUTH_AGENT_TRY:
			rc = libssh2_agent_userauth(s->agent, t->user, s->agent_identity);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return 0;
			if (rc == 0)
				return 1;
			s->auth_step = AUTH_AGENT_NEXT;
			continue;
		case AUTH_PASSWORD:
			rc = libssh2_userauth_password_ex(s->ssh, t->user, ulen, t->opts.password,
				(unsigned int)strlen(t->opts.password), NULL);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return 0;
			if (rc == 0)
				return 1;
			tried(s, "%s", rc == LIBSSH2_ERROR_PASSWORD_EXPIRED ? "password (expired)" : "password (rejected)");
			s->auth_step = next_step(s, AUTH_PASSWORD);
			continue;
		case AUTH_KBDINT:
			rc = libssh2_userauth_keyboard_interactive_ex(s->ssh, t->user, ulen, kbdint_answer);
			if (rc == LIBSSH2_ERROR_EAGAIN)
				return 0;
			if (rc == 0)
				return 1;
			tried(s, "%s", "keyboard-interactive (rejected)");
			s->auth_step = next_step(s, AUTH_KBDINT);
			continue;
		default:
			return give_up(s, msg, msglen);
		}
	}
}

void devkit__auth_free(devkit__session *s)
{
	if (s->agent) {
		libssh2_agent_disconnect(s->agent);
		libssh2_agent_free(s->agent);
		s->agent = NULL;
	}
	free(s->auth_methods);
	s->auth_methods = NULL;
}
