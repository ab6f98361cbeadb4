/* SPDX-License-Identifier: Apache-2.0 */
#include "tls_pem.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Never prompt for a passphrase on the application's terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf, (void)size, (void)rwflag, (void)u;
	return -1;
}

static BIO *bio_of(const char *pem)
{
	return BIO_new_mem_buf(pem, (int)strlen(pem));
}

int devkit__pem_check_certs(const char *pem, char *why, size_t cap)
{
	if (!strstr(pem, "-----BEGIN ")) {
		snprintf(why, cap, "is not PEM (no \"-----BEGIN\" line)");
		return -1;
	}
	BIO *bio = bio_of(pem);
	X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
	int rc = cert ? 0 : -1;
	if (!cert)
		snprintf(why, cap, "holds no readable PEM certificate");
	X509_free(cert);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int devkit__pem_check_key(const char *pem, char *why, size_t cap)
{
	if (!strstr(pem, "-----BEGIN ")) {
		snprintf(why, cap, "is not PEM (no \"-----BEGIN\" line)");
		return -1;
	}
	if (strstr(pem, "ENCRYPTED")) {
		snprintf(why, cap, "is an encrypted private key (kubeconfig keys must be unencrypted)");
		return -1;
	}
	BIO *bio = bio_of(pem);
	EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
	int rc = key ? 0 : -1;
	if (!key)
		snprintf(why, cap, "holds no readable PEM private key");
	EVP_PKEY_free(key);
	BIO_free(bio);
	ERR_clear_error();
	return rc;
}

int devkit__pem_check_pair(const char *cert_pem, const char *key_pem, char *why, size_t cap)
{
	BIO *cb = bio_of(cert_pem), *kb = bio_of(key_pem);
	X509 *cert = cb ? PEM_read_bio_X509(cb, NULL, no_passphrase, NULL) : NULL;
	EVP_PKEY *key = kb ? PEM_read_bio_PrivateKey(kb, NULL, no_passphrase, NULL) : NULL;
	int rc = -1;
	if (cert && key && X509_check_private_key(cert, key) == 1)
		rc = 0;
	else
		snprintf(why, cap, "the client certificate and the client key do not belong together");
	X509_free(cert);
	EVP_PKEY_free(key);
	BIO_free(cb);
	BIO_free(kb);
	ERR_clear_error();
	return rc;
}

void devkit__secret_free(char *s)
{
	if (!s)
		return;
	OPENSSL_cleanse(s, strlen(s));
	free(s);
}
