/* SPDX-License-Identifier: Apache-2.0 */
#include "exec_cred.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "tls_pem.h"

void devkit__exec_cred_clear(devkit__exec_cred *c)
{
	devkit__secret_free(c->token);
	devkit__secret_free(c->cert_pem);
	devkit__secret_free(c->key_pem);
	memset(c, 0, sizeof(*c));
}

static int digits(const char **s, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
		(*s)++;
	}
	*out = v;
	return 0;
}

int devkit__k8s_time_parse(const char *s, int64_t *ms)
{
	struct tm tm;
	memset(&tm, 0, sizeof(tm));
	int year, mon, day, hour, min, sec, frac_ms = 0;
	if (digits(&s, 4, &year) || *s++ != '-' || digits(&s, 2, &mon) || *s++ != '-' ||
		digits(&s, 2, &day) || (*s != 'T' && *s != 't' && *s != ' '))
		return -1;
	s++;
	if (digits(&s, 2, &hour) || *s++ != ':' || digits(&s, 2, &min) || *s++ != ':' ||
		digits(&s, 2, &sec))
		return -1;
	if (*s == '.') {
		s++;
		int scale = 100, any = 0;
		while (isdigit((unsigned char)*s)) {
			frac_ms += (*s - '0') * scale;
			scale /= 10;
			s++;
			any = 1;
		}
		if (!any)
			return -1;
	}
	int offset_min = 0;
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		int sign = *s++ == '-' ? -1 : 1, oh, om;
		if (digits(&s, 2, &oh) || *s++ != ':' || digits(&s, 2, &om))
			return -1;
		offset_min = sign * (oh * 60 + om);
	} else {
		return -1;
	}
	if (*s || mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60)
		return -1;
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = hour;
	tm.tm_min = min;
	tm.tm_sec = sec;
	time_t t = timegm(&tm);
	*ms = ((int64_t)t - (int64_t)offset_min * 60) * 1000 + frac_ms;
	return 0;
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
			devkit__k8s_time_parse(json_string_value(exp), &c->expires_ms) != 0))
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
