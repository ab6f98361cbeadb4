/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Host key verification, strict by default: the key must be in the OpenSSH
 * known_hosts file (plain or hashed entries, "[host]:port" for other ports),
 * or match the pinned SHA256 fingerprint. Errors carry the fingerprints as
 * `ssh-keygen -l` prints them, so a user can compare them by eye.
 */
#include "tunnel_int.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/base64.h"

static const char *key_type_name(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return "ssh-rsa";
	case LIBSSH2_HOSTKEY_TYPE_DSS: return "ssh-dss";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return "ecdsa-sha2-nistp256";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return "ecdsa-sha2-nistp384";
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return "ecdsa-sha2-nistp521";
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return "ssh-ed25519";
	default: return "unknown";
	}
}

static int key_type_mask(int type)
{
	switch (type) {
	case LIBSSH2_HOSTKEY_TYPE_RSA: return LIBSSH2_KNOWNHOST_KEY_SSHRSA;
	case LIBSSH2_HOSTKEY_TYPE_DSS: return LIBSSH2_KNOWNHOST_KEY_SSHDSS;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_256: return LIBSSH2_KNOWNHOST_KEY_ECDSA_256;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_384: return LIBSSH2_KNOWNHOST_KEY_ECDSA_384;
	case LIBSSH2_HOSTKEY_TYPE_ECDSA_521: return LIBSSH2_KNOWNHOST_KEY_ECDSA_521;
	case LIBSSH2_HOSTKEY_TYPE_ED25519: return LIBSSH2_KNOWNHOST_KEY_ED25519;
	default: return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
	}
}

static void fingerprint_of(const unsigned char *blob, size_t len, char *out, size_t outlen)
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	char b64[64];
	devkit__base64_encode(md, mdlen, b64, sizeof(b64), 0);
	snprintf(out, outlen, "SHA256:%s", b64);
}

/* "SHA256:abc", "abc" and "abc=" all name the same fingerprint. */
static int same_fingerprint(const char *pinned, const char *actual)
{
	if (strncmp(pinned, "SHA256:", 7) == 0)
		pinned += 7;
	actual += 7;
	size_t n = strlen(pinned);
	while (n > 0 && pinned[n - 1] == '=')
		n--;
	return n == strlen(actual) && strncmp(pinned, actual, n) == 0;
}

static void host_pattern(devkit_tunnel *t, char *out, size_t len)
{
	if (t->port == 22)
		snprintf(out, len, "%s", t->host);
	else
		snprintf(out, len, "[%s]:%d", t->host, t->port);
}

/* accept-new: remember the key in the file and in memory, as OpenSSH does. */
static int remember_key(devkit_tunnel *t, const char *key, size_t keylen, int type,
	char *msg, size_t msglen)
{
	char host[300];
	host_pattern(t, host, sizeof(host));
	size_t b64len = 4 * ((keylen + 2) / 3) + 1;
	char *b64 = malloc(b64len);
	if (!b64)
		return DEVKIT_ENOMEM;
	devkit__base64_encode(key, keylen, b64, b64len, 1);
	char *line = NULL;
	int n = asprintf(&line, "%s %s %s\n", host, key_type_name(type), b64);
	free(b64);
	if (n < 0)
		return DEVKIT_ENOMEM;

	/* A one-line append to a local file: small enough to do on the loop. */
	FILE *f = fopen(t->opts.known_hosts_file, "a");
	if (!f) {
		snprintf(msg, msglen, "bastion %s:%d: cannot add the host key to %s: %s", t->host,
			t->port, t->opts.known_hosts_file, strerror(errno));
		free(line);
		return DEVKIT_EIO;
	}
	fputs(line, f);
	fclose(f);
	size_t old = t->known_hosts_text ? strlen(t->known_hosts_text) : 0;
	char *text = realloc(t->known_hosts_text, old + (size_t)n + 1);
	if (text) {
		memcpy(text + old, line, (size_t)n + 1);
		t->known_hosts_text = text;
	}
	free(line);
	return 0;
}

static void load_known_hosts(LIBSSH2_KNOWNHOSTS *kh, const char *text)
{
	/* Line by line, so that one entry libssh2 cannot parse (a key type it does
	 * not know, say) does not hide the others. The length includes the '\n':
	 * libssh2 1.10 looks at the byte after the line and, if it is a newline,
	 * drops one more character from the key. */
	for (const char *p = text; p && *p;) {
		const char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) + 1 : strlen(p);
		if (len > 0)
			libssh2_knownhost_readline(kh, p, len, LIBSSH2_KNOWNHOST_FILE_OPENSSH);
		p = end ? end + 1 : NULL;
	}
}

int devkit__hostkey_verify(devkit__session *s, char *msg, size_t msglen)
{
	devkit_tunnel *t = s->t;
	size_t keylen = 0;
	int type = 0;
	const char *key = libssh2_session_hostkey(s->ssh, &keylen, &type);
	if (!key) {
		snprintf(msg, msglen, "bastion %s: the server sent no host key", s->peer);
		return DEVKIT_EPROTO;
	}
	char actual[80];
	fingerprint_of((const unsigned char *)key, keylen, actual, sizeof(actual));
	snprintf(t->fingerprint, sizeof(t->fingerprint), "%s", actual);

	if (t->opts.host_key_sha256) {
		if (same_fingerprint(t->opts.host_key_sha256, actual))
			return 0;
		snprintf(msg, msglen, "bastion %s:%d: host key mismatch: pinned %s, the server presented %s %s",
			t->host, t->port, t->opts.host_key_sha256, key_type_name(type), actual);
		return DEVKIT_EHOSTKEY;
	}

	LIBSSH2_KNOWNHOSTS *kh = libssh2_knownhost_init(s->ssh);
	if (!kh) {
		snprintf(msg, msglen, "bastion %s: cannot allocate the known hosts store", s->peer);
		return DEVKIT_ENOMEM;
	}
	load_known_hosts(kh, t->known_hosts_text);
	struct libssh2_knownhost *entry = NULL;
	int check = libssh2_knownhost_checkp(kh, t->host, t->port, key, keylen,
		LIBSSH2_KNOWNHOST_TYPE_PLAIN | LIBSSH2_KNOWNHOST_KEYENC_RAW | key_type_mask(type), &entry);
	int rc = 0;
	char host[300];
	host_pattern(t, host, sizeof(host));
	switch (check) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		break;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH: {
		char expected[80] = "an unreadable key";
		unsigned char blob[4096];
		int n = entry && entry->key ? devkit__base64_decode(entry->key, strlen(entry->key), blob, sizeof(blob)) : -1;
		if (n > 0)
			fingerprint_of(blob, (size_t)n, expected, sizeof(expected));
		snprintf(msg, msglen,
			"bastion %s:%d: host key mismatch: %s has %s for %s, the server presented %s %s. "
			"Someone may be intercepting the connection, or the key was replaced; if you "
			"trust the new key, remove the old one with: ssh-keygen -R '%s' -f %s",
			t->host, t->port, t->opts.known_hosts_file, expected, host, key_type_name(type),
			actual, host, t->opts.known_hosts_file);
		rc = DEVKIT_EHOSTKEY;
		break;
	}
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND:
		if (t->opts.host_key_policy == DEVKIT_HOST_KEY_ACCEPT_NEW) {
			rc = remember_key(t, key, keylen, type, msg, msglen);
			if (rc == 0)
				devkit__log(t->ctx, DEVKIT_LOG_WARN, "bastion %s: added %s %s to %s", host,
					key_type_name(type), actual, t->opts.known_hosts_file);
			break;
		}
		snprintf(msg, msglen,
			"bastion %s:%d: host key unknown: the server presented %s %s, which is not in %s%s. "
			"Check the fingerprint with the bastion's owner, then add it (ssh-keyscan -p %d %s >> %s), "
			"pin it, or allow accept-new",
			t->host, t->port, key_type_name(type), actual, t->opts.known_hosts_file,
			t->known_hosts_text ? "" : " (the file does not exist)", t->port, t->host,
			t->opts.known_hosts_file);
		rc = DEVKIT_EHOSTKEY;
		break;
	default:
		snprintf(msg, msglen, "bastion %s:%d: cannot check the host key against %s",
			t->host, t->port, t->opts.known_hosts_file);
		rc = DEVKIT_EHOSTKEY;
		break;
	}
	libssh2_knownhost_free(kh);
	return rc;
}
