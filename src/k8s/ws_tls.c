/* SPDX-License-Identifier: Apache-2.0 */
#include "ws_tls.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

/* Never prompt for a passphrase on the application's terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static int load_cas(SSL_CTX *ctx, const char *ca_pem)
{
	X509_STORE *store = SSL_CTX_get_cert_store(ctx);
	BIO *bio = BIO_new_mem_buf(ca_pem, (int)strlen(ca_pem));
	if (!bio)
		return -1;
	int added = 0;
	X509 *cert;
	while ((cert = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
		/* A bundle may repeat a certificate: that is not an error. */
		if (X509_STORE_add_cert(store, cert) == 1)
			added++;
		X509_free(cert);
	}
	BIO_free(bio);
	ERR_clear_error();
	return added > 0 ? 0 : -1;
}

static int load_client(SSL_CTX *ctx, const char *cert_pem, const char *key_pem)
{
	BIO *cb = BIO_new_mem_buf(cert_pem, (int)strlen(cert_pem));
	BIO *kb = BIO_new_mem_buf(key_pem, (int)strlen(key_pem));
	X509 *leaf = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	int rc = -1;
	if (leaf && key && SSL_CTX_use_certificate(ctx, leaf) == 1 &&
		SSL_CTX_use_PrivateKey(ctx, key) == 1 && SSL_CTX_check_private_key(ctx) == 1) {
		rc = 0;
		/* The rest of the PEM is the chain up to the CA the server trusts. */
		X509 *extra;
		while (rc == 0 && (extra = PEM_read_bio_X509(cb, NULL, no_passphrase, NULL))) {
			if (SSL_CTX_add_extra_chain_cert(ctx, extra) != 1) {
				X509_free(extra);
				rc = -1;
			}
		}
	}
	X509_free(leaf);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return rc;
}

SSL_CTX *devkit__ws_tls_ctx(const char *ca_pem, const char *cert_pem, const char *key_pem,
	char *why, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (!ctx) {
		snprintf(why, cap, "cannot make a TLS context");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	if (ca_pem ? load_cas(ctx, ca_pem) != 0 : SSL_CTX_set_default_verify_paths(ctx) != 1) {
		snprintf(why, cap, ca_pem ? "the certificate authority holds no readable PEM certificate"
			: "cannot load the system's trusted certificates");
		goto fail;
	}
	if ((cert_pem || key_pem) && (!cert_pem || !key_pem ||
		load_client(ctx, cert_pem, key_pem) != 0)) {
		snprintf(why, cap, "cannot use the client certificate and key");
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

static int name_matches(X509 *leaf, const char *name)
{
	/* An IP literal must be in the certificate's IP SANs, a name in its DNS SANs. */
	if (X509_check_ip_asc(leaf, name, 0) == 1)
		return 1;
	return X509_check_host(leaf, name, strlen(name), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS,
		NULL) == 1;
}

int devkit__ws_tls_verify(X509_STORE_CTX *store, int preverify_ok, int insecure,
	const char *server_name, char *why, size_t cap)
{
	if (insecure) {
		X509_STORE_CTX_set_error(store, X509_V_OK);
		return 1;
	}
	if (!preverify_ok) {
		if (!why[0]) {
			int err = X509_STORE_CTX_get_error(store);
			snprintf(why, cap, "the server's certificate is not trusted: %s",
				X509_verify_cert_error_string(err));
		}
		return 0;
	}
	if (X509_STORE_CTX_get_error_depth(store) != 0)
		return 1;
	X509 *leaf = X509_STORE_CTX_get_current_cert(store);
	if (!leaf || !server_name || !server_name[0] || !name_matches(leaf, server_name)) {
		X509_STORE_CTX_set_error(store, X509_V_ERR_HOSTNAME_MISMATCH);
		if (!why[0])
			snprintf(why, cap, "the server's certificate does not name \"%s\"",
				server_name ? server_name : "");
		return 0;
	}
	return 1;
}
