/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_cred.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/rfc3339.h"
#include "tls_pem.h"

void devkit__exec_cred_clear(devkit__exec_cred *c)
{
	devkit__secret_free(c->token);
	devkit__secret_free(c->cert_pem);
	devkit__secret_free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

static int str_field(json_t *status, const char *key, char **out, char *err, size_t errcap)
{
	json_t *v = json_object_get(status, key);
	if (!v || json_is_null(v) || (json_is_string(v) && json_string_length(v) == 0))
		return 0;
	if (!json_is_string(v)) {
		snprintf(err, errcap, "status.%s is not a string", key);
		return -1;
	}
	if (!(*out = strdup(json_string_value(v)))) {
		snprintf(err, errcap, "out of memory");
		return -1;
	}
	return 0;
}

static int pem_pair_bad(const devkit__exec_cred *c, char *err, size_t errcap)
{
	char why[160];
	if (devkit__pem_check_certs(c->cert_pem, why, sizeof(why)) != 0) {
		snprintf(err, errcap, "status.clientCertificateData %s", why);
		return 1;
	}
	if (devkit__pem_check_key(c->key_pem, why, sizeof(why)) != 0) {
		snprintf(err, errcap, "status.clientKeyData %s", why);
		return 1;
	}
	if (devkit__pem_check_pair(c->cert_pem, c->key_pem, why, sizeof(why)) != 0) {
		snprintf(err, errcap, "%s", why);
		return 1;
	}
	return 0;
}

int devkit__exec_cred_parse(const char *out, size_t len, const char *api_version,
	devkit__exec_cred *c, char *err, size_t errcap)
{
	memset(c, 0, sizeof(*c));
	json_error_t je;
	json_t *doc = json_loadb(out, len, 0, &je);
	if (!doc) {
		/* je.text may quote the output: only the position. */
		snprintf(err, errcap, "its output is not JSON (line %d column %d)", je.line, je.column);
		return -1;
	}
	int rc = -1;
	json_t *kind = json_object_get(doc, "kind"), *api = json_object_get(doc, "apiVersion");
	json_t *status = json_object_get(doc, "status");
	if (!json_is_string(kind) || strcmp(json_string_value(kind), "ExecCredential") != 0) {
		snprintf(err, errcap, "its output is not an ExecCredential (kind)");
	} else if (!json_is_string(api) || strcmp(json_string_value(api), api_version) != 0) {
		snprintf(err, errcap, "it answered apiVersion \"%.80s\", the kubeconfig asks for %s",
			json_is_string(api) ? json_string_value(api) : "", api_version);
	} else if (!json_is_object(status)) {
		snprintf(err, errcap, "its ExecCredential has no status");
	} else if (str_field(status, "token", &c->token, err, errcap) == 0 &&
		str_field(status, "clientCertificateData", &c->cert_pem, err, errcap) == 0 &&
		str_field(status, "clientKeyData", &c->key_pem, err, errcap) == 0) {
		json_t *exp = json_object_get(status, "expirationTimestamp");
		if (!c->token && !c->cert_pem && !c->key_pem)
			snprintf(err, errcap, "its ExecCredential has neither status.token nor "
				"status.clientCertificateData and clientKeyData");
		else if (!c->cert_pem != !c->key_pem)
			snprintf(err, errcap, "its ExecCredential has %s without %s",
				c->cert_pem ? "clientCertificateData" : "clientKeyData",
				c->cert_pem ? "clientKeyData" : "clientCertificateData");
		else if (exp && !json_is_null(exp) && (!json_is_string(exp) ||
			devkit__rfc3339_parse_ms(json_string_value(exp), &c->expires_ms) != 0))
			snprintf(err, errcap, "status.expirationTimestamp is not an RFC 3339 time");
		else if (c->token && strpbrk(c->token, "\r\n"))
			snprintf(err, errcap, "status.token contains a line break");
		else if (c->cert_pem && pem_pair_bad(c, err, errcap))
			; /* err says why */
		else
			rc = 0;
	}
	json_decref(doc);
	if (rc != 0)
		devkit__exec_cred_clear(c);
	return rc;
}
