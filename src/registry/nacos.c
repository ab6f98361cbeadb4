/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Nacos, through its HTTP open API (v1 by default; ?api=v2 or ?api=v3):
 *   login     POST   /nacos/v1/auth/login (v3: /nacos/v3/auth/user/login) -> accessToken
 *   register  POST   /nacos/{v1,v2}/ns/instance         ephemeral instance
 *   beat      PUT    /nacos/{v1,v2}/ns/instance/beat    code 20404: the server forgot us
 *   remove    DELETE /nacos/{v1,v2}/ns/instance
 * Nacos 3.x's client HTTP API (api=v3) registers and beats with
 *   POST /nacos/v3/client/ns/instance (heartBeat=true to beat; code 21003:
 *   forgotten) and removes with DELETE on the same path.
 * Nacos 1.x/2.x serve v1 and v2; 3.x serves them only while its client
 * compatibility switch is on (docs/registry.md).
 *
 * URL query: namespace (namespaceId, default public), group (DEFAULT_GROUP),
 * cluster (DEFAULT), api (v1|v2|v3), weight (1.0).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bytes.h"
#include "core/error.h"
#include "reg_http.h"
#include "registry_url.h"

typedef struct nacos {
	devkit__reg_http http;
	char *access_token;      /* from login or the token option; never logged */
	const char *api;         /* "v1" or "v2" */
	const char *namespace_id, *group, *cluster, *weight;
	devkit__reg_op pending;  /* the operation waiting for a login */
	devkit__reg_op op;       /* the operation in flight */
	int relogged;            /* this operation already logged in again once */
} nacos;

#define FORM_HEADER "Content-Type: application/x-www-form-urlencoded"

static nacos *nacos_of(devkit__reg *r)
{
	return r->backend_data;
}

/* The instance's metadata as the JSON Nacos wants: the user's keys, the tag,
 * and Nacos's own heartbeat keys when the TTL is not Nacos's default. */
static char *metadata_json(devkit__reg *r)
{
	json_t *m = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(m, r->meta[i].key, json_string(r->meta[i].value));
	if (r->tag && !json_object_get(m, "tag"))
		json_object_set_new(m, "tag", json_string(r->tag));
	if (r->ttl_ms != devkit__reg_nacos.default_ttl_ms) {
		char v[32];
		snprintf(v, sizeof(v), "%u", r->ttl_ms);
		json_object_set_new(m, "preserved.heart.beat.timeout", json_string(v));
		snprintf(v, sizeof(v), "%u", r->ttl_ms * 2);
		json_object_set_new(m, "preserved.ip.delete.timeout", json_string(v));
		snprintf(v, sizeof(v), "%u", r->heartbeat_ms);
		json_object_set_new(m, "preserved.heart.beat.interval", json_string(v));
	}
	char *text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	return text;
}

/* serviceName, groupName, namespaceId, ip, port, clusterName: every call names the instance so. */
static int instance_params(devkit__reg *r, devkit__bytes *b, devkit__reg_op op)
{
	nacos *n = nacos_of(r);
	char port[16], grouped[600];
	snprintf(port, sizeof(port), "%d", r->port);
	/* The v2 beat does not combine groupName itself: it wants GROUP@@name. */
	snprintf(grouped, sizeof(grouped), "%s@@%s", n->group, r->service);
	int v2_beat = op == DEVKIT__REG_OP_HEARTBEAT && strcmp(n->api, "v2") == 0;
	if (devkit__url_param(b, "serviceName", v2_beat ? grouped : r->service) ||
		devkit__url_param(b, "groupName", n->group) ||
		devkit__url_param(b, "namespaceId", n->namespace_id) ||
		devkit__url_param(b, "ip", r->address) || devkit__url_param(b, "port", port) ||
		devkit__url_param(b, "clusterName", n->cluster) ||
		devkit__url_param(b, "ephemeral", "true"))
		return DEVKIT_ENOMEM;
	if (n->access_token && devkit__url_param(b, "accessToken", n->access_token))
		return DEVKIT_ENOMEM;
	return 0;
}

/* Nacos answers 200 with a JSON code in two places: v2's envelope
 * {"code":0,...,"data":{...}} and the beat's {"code":10200|20404}. */
static int body_code(const char *body)
{
	json_t *j = json_loads(body, JSON_DECODE_ANY, NULL);
	if (!json_is_object(j)) {
		json_decref(j);
		return 0;
	}
	json_int_t code = json_integer_value(json_object_get(j, "code"));
	json_t *data = json_object_get(j, "data");
	if (code == 0 && json_is_object(data))
		code = json_integer_value(json_object_get(data, "code"));
	json_decref(j);
	return (int)code;
}

static void nacos_start_op(devkit__reg *r, devkit__reg_op op);

static void on_done(devkit__reg *r, int rc, long status, const char *body, const char *message)
{
	nacos *n = nacos_of(r);
	if (rc == 0) {
		int code = body_code(body);
		if (code == 20404 || code == 21003) {
			devkit__reg_op_done(r, DEVKIT_ENOTFOUND, "Nacos no longer knows instance %s (code 20404)",
				r->instance_id);
			return;
		}
		if (code != 0 && code != 10200 && code != 200) {
			devkit__reg_op_done(r, DEVKIT_EIO, "%s: Nacos code %d", message, code);
			return;
		}
		devkit__reg_op_done(r, 0, NULL);
		return;
	}
	if ((rc == DEVKIT_EAUTH || rc == DEVKIT_EFORBIDDEN) && r->username) {
		/* An expired token ("token expired!") looks the same as a refusal:
		 * log in again and repeat the operation, once. */
		free(n->access_token);
		n->access_token = NULL;
		if (!n->relogged) {
			n->relogged = 1;
			devkit__reg_log(r, DEVKIT_LOG_INFO, "%s; logging in again", message);
			nacos_start_op(r, n->op);
			return;
		}
	}
	/* Older servers answer a beat for an unknown instance with HTTP 404. */
	(void)status;
	devkit__reg_op_done(r, rc, "%s", message);
}

static void send_op(devkit__reg *r, devkit__reg_op op)
{
	nacos *n = nacos_of(r);
	devkit__bytes form = { 0 };
	char path[64];
	const char *method;
	int v3 = strcmp(n->api, "v3") == 0;
	int rc = instance_params(r, &form, op);
	if (op == DEVKIT__REG_OP_REGISTER) {
		char *meta = metadata_json(r);
		method = "POST";
		snprintf(path, sizeof(path), v3 ? "/nacos/v3/client/ns/instance" :
			"/nacos/%s/ns/instance", n->api);
		if (rc == 0 && (!meta || devkit__url_param(&form, "metadata", meta) ||
			devkit__url_param(&form, "weight", n->weight) ||
			devkit__url_param(&form, "enabled", "true") ||
			devkit__url_param(&form, "healthy", "true")))
			rc = DEVKIT_ENOMEM;
		free(meta);
	} else if (op == DEVKIT__REG_OP_HEARTBEAT && v3) {
		method = "POST";
		snprintf(path, sizeof(path), "/nacos/v3/client/ns/instance");
		if (rc == 0 && devkit__url_param(&form, "heartBeat", "true"))
			rc = DEVKIT_ENOMEM;
	} else if (op == DEVKIT__REG_OP_HEARTBEAT) {
		method = "PUT";
		snprintf(path, sizeof(path), "/nacos/%s/ns/instance/beat", n->api);
		/* The full instance: a server that forgot us re-registers it from the
		 * beat itself (metadata included) instead of answering 20404. */
		char *meta = metadata_json(r);
		char grouped[600];
		snprintf(grouped, sizeof(grouped), "%s@@%s", n->group, r->service);
		json_t *beat = meta ? json_pack("{s:s, s:s, s:i, s:s, s:f, s:b, s:o}", "serviceName",
			grouped, "ip", r->address, "port", r->port, "cluster", n->cluster, "weight",
			atof(n->weight), "scheduled", 1, "metadata", json_loads(meta, 0, NULL)) : NULL;
		free(meta);
		char *text = beat ? json_dumps(beat, JSON_COMPACT) : NULL;
		json_decref(beat);
		if (rc == 0 && (!text || devkit__url_param(&form, "beat", text)))
			rc = DEVKIT_ENOMEM;
		free(text);
	} else {
		method = "DELETE";
		snprintf(path, sizeof(path), v3 ? "/nacos/v3/client/ns/instance" :
			"/nacos/%s/ns/instance", n->api);
	}
	if (rc == 0 && devkit__bytes_append(&form, "", 1) == 0) {
		char *query = NULL;
		const char *headers[] = { FORM_HEADER, NULL };
		/* DELETE and the v1 beat read their parameters from the query string. */
		int in_query = op == DEVKIT__REG_OP_DEREGISTER ||
			(op == DEVKIT__REG_OP_HEARTBEAT && !v3);
		size_t need = strlen(path) + form.len + 2;
		if (in_query && (query = malloc(need)))
			snprintf(query, need, "%s?%s", path, form.data);
		if (in_query && !query)
			rc = DEVKIT_ENOMEM;
		else
			rc = devkit__reg_http_send(&n->http, r, method, in_query ? query : path,
				in_query ? NULL : headers, in_query ? NULL : form.data, on_done);
		free(query);
	}
	devkit__bytes_free(&form);
	if (rc < 0)
		devkit__reg_op_done(r, rc, "Nacos %s of %s: cannot send the request",
			op == DEVKIT__REG_OP_REGISTER ? "register" : "request", r->service);
}

static void on_login(devkit__reg *r, int rc, long status, const char *body, const char *message)
{
	nacos *n = nacos_of(r);
	devkit__reg_op op = n->pending;
	n->pending = 0;
	(void)status;
	if (rc < 0) {
		/* Never include the body or form here: they hold the password. */
		if (rc == DEVKIT_EAUTH || rc == DEVKIT_EFORBIDDEN || rc == DEVKIT_EINVAL)
			devkit__reg_op_done(r, DEVKIT_EAUTH, "Nacos login as %s refused (HTTP %ld)",
				r->username, status);
		else
			devkit__reg_op_done(r, rc, "Nacos login: %s", message);
		return;
	}
	json_t *j = json_loads(body, 0, NULL);
	const char *token = json_string_value(json_object_get(j, "accessToken"));
	if (!token) {
		json_decref(j);
		devkit__reg_op_done(r, DEVKIT_EPROTO, "Nacos login as %s: the answer has no accessToken",
			r->username);
		return;
	}
	free(n->access_token);
	n->access_token = strdup(token);
	json_decref(j);
	send_op(r, op);
}

/* Start op, logging in first when needed (also after a refused token). */
static void nacos_start_op(devkit__reg *r, devkit__reg_op op)
{
	nacos *n = nacos_of(r);
	n->op = op;
	if (r->username && !n->access_token) {
		devkit__bytes form = { 0 };
		int rc = devkit__url_param(&form, "username", r->username) ||
			devkit__url_param(&form, "password", r->password ? r->password : "") ||
			devkit__bytes_append(&form, "", 1) ? DEVKIT_ENOMEM : 0;
		const char *headers[] = { FORM_HEADER, NULL };
		n->pending = op;
		if (rc == 0)
			rc = devkit__reg_http_send(&n->http, r, "POST", strcmp(n->api, "v3") == 0 ?
				"/nacos/v3/auth/user/login" : "/nacos/v1/auth/login", headers, form.data,
				on_login);
		/* The form held the password. */
		if (form.data)
			memset(form.data, 0, form.cap);
		devkit__bytes_free(&form);
		if (rc < 0)
			devkit__reg_op_done(r, rc, "Nacos login: cannot send the request");
		return;
	}
	send_op(r, op);
}

static void nacos_start(devkit__reg *r, devkit__reg_op op)
{
	nacos_of(r)->relogged = 0;
	nacos_start_op(r, op);
}

static int nacos_init(devkit__reg *r)
{
	nacos *n = calloc(1, sizeof(*n));
	if (!n)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->backend_data = n;
	n->api = devkit__reg_query(r, "api", "v1");
	if (strcmp(n->api, "v1") != 0 && strcmp(n->api, "v2") != 0 && strcmp(n->api, "v3") != 0)
		return devkit__error_set(DEVKIT_EINVAL, "nacos: api=%s is not v1, v2 or v3", n->api);
	n->namespace_id = devkit__reg_query(r, "namespace", "public");
	n->group = devkit__reg_query(r, "group", "DEFAULT_GROUP");
	n->cluster = devkit__reg_query(r, "cluster", "DEFAULT");
	n->weight = devkit__reg_query(r, "weight", "1.0");
	if (r->token && !(n->access_token = strdup(r->token)))
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	snprintf(r->instance_id, sizeof(r->instance_id), "%s#%d#%s#%s@@%s", r->address, r->port,
		n->cluster, n->group, r->service);
	return 0;
}

static void nacos_cancel(devkit__reg *r)
{
	nacos *n = nacos_of(r);
	devkit__reg_http_cancel(&n->http);
	n->pending = 0;
}

static void nacos_describe(devkit__reg *r, void *json)
{
	nacos *n = nacos_of(r);
	json_object_set_new(json, "namespace", json_string(n->namespace_id));
	json_object_set_new(json, "group", json_string(n->group));
	json_object_set_new(json, "cluster", json_string(n->cluster));
	json_object_set_new(json, "api", json_string(n->api));
}

static void nacos_destroy(devkit__reg *r)
{
	nacos *n = nacos_of(r);
	if (!n)
		return;
	if (n->access_token) {
		memset(n->access_token, 0, strlen(n->access_token));
		free(n->access_token);
	}
	free(n);
	r->backend_data = NULL;
}

const devkit__reg_backend devkit__reg_nacos = {
	.name = "nacos",
	.default_port = 8848,
	.default_ttl_ms = 15000,     /* Nacos marks an instance unhealthy after 15 s without a beat */
	.default_heartbeat_ms = 5000,
	.init = nacos_init,
	.start = nacos_start,
	.has_heartbeat = 1,
	.cancel = nacos_cancel,
	.describe = nacos_describe,
	.destroy = nacos_destroy,
};
