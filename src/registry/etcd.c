/* SPDX-License-Identifier: Apache-2.0 */
/*
 * etcd, through the v3 JSON gateway (etcd 3.4+: /v3/...; int64s are strings,
 * keys and values base64):
 *   [authenticate POST /v3/auth/authenticate -> token, when username is set]
 *   register      POST /v3/lease/grant {TTL} -> ID, then POST /v3/kv/put {key, value, lease}
 *   keepalive     POST /v3/lease/keepalive {ID}  no TTL in the answer: the lease is gone
 *   remove        POST /v3/lease/revoke {ID}     (the key goes with its lease)
 *
 * The key and value follow a framework's registry, chosen with ?format=:
 *   go-micro (default)  {prefix=/micro/registry}/<service>/<id>
 *                       {"name","version","metadata","endpoints":[],"nodes":[{"id","address","metadata"}]}
 *   kratos              {prefix=/microservices}/<service>/<id>
 *                       {"id","name","version","metadata","endpoints":["http://host:port"]}
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/base64.h"
#include "core/error.h"
#include "reg_http.h"

typedef enum etcd_step { STEP_AUTH = 1, STEP_GRANT, STEP_PUT, STEP_KEEPALIVE, STEP_REVOKE } etcd_step;

typedef struct etcd {
	devkit__reg_http http;
	int kratos;
	char key[768];
	char lease_id[32];      /* decimal, as the gateway writes int64 */
	char auth_header[600];  /* "Authorization: <token>"; never logged */
	etcd_step step;
	devkit__reg_op op;
} etcd;

static etcd *etcd_of(devkit__reg *r)
{
	return r->backend_data;
}

static json_t *metadata(devkit__reg *r)
{
	json_t *m = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(m, r->meta[i].key, json_string(r->meta[i].value));
	if (r->tag && !json_object_get(m, "tag"))
		json_object_set_new(m, "tag", json_string(r->tag));
	return m;
}

/* The value a go-micro or Kratos service would write for itself. */
static char *value_json(devkit__reg *r)
{
	etcd *e = etcd_of(r);
	char address[300];
	int v6 = strchr(r->address, ':') != NULL;
	snprintf(address, sizeof(address), "%s%s%s:%d", v6 ? "[" : "", r->address, v6 ? "]" : "",
		r->port);
	const char *version = devkit__reg_query(r, "version", "latest");
	json_t *v;
	if (e->kratos) {
		char endpoint[340];
		snprintf(endpoint, sizeof(endpoint), "%s://%s",
			strcmp(r->protocol, "dubbo") == 0 ? "grpc" : r->protocol, address);
		v = json_pack("{s:s, s:s, s:s, s:o, s:[s]}", "id", r->instance_id, "name", r->service,
			"version", version, "metadata", metadata(r), "endpoints", endpoint);
	} else {
		json_t *node_meta = metadata(r);
		json_object_set_new(node_meta, "protocol", json_string(r->protocol));
		json_t *node = json_pack("{s:s, s:s, s:o}", "id", r->instance_id, "address", address,
			"metadata", node_meta);
		v = json_pack("{s:s, s:s, s:o, s:[], s:[o]}", "name", r->service, "version", version,
			"metadata", metadata(r), "endpoints", "nodes", node);
	}
	char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
	json_decref(v);
	return text;
}

static char *b64(const char *s)
{
	size_t n = strlen(s), cap = (n + 2) / 3 * 4 + 1;
	char *out = malloc(cap);
	if (out && devkit__base64_encode(s, n, out, cap, 1) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

static void step(devkit__reg *r, etcd_step s);

static void on_answer(devkit__reg *r, int rc, long status, const char *body, const char *message)
{
	etcd *e = etcd_of(r);
	json_t *j = rc == 0 ? json_loads(body, 0, NULL) : NULL;
	if (rc == 0 && !json_is_object(j))
		rc = DEVKIT_EPROTO;
	/* The gateway reports gRPC errors as {"error": ..., "code": N, "message": ...}. */
	const char *grpc_message = json_string_value(json_object_get(j, "message"));
	if (rc < 0 && strstr(body ? body : "", "lease not found"))
		rc = DEVKIT_ENOTFOUND;
	/* etcd answers a wrong password with 400 and a username sent to an etcd
	 * without authentication with 412: both are refusals, not retries. */
	if (rc < 0 && (strstr(body ? body : "", "authentication failed") ||
		strstr(body ? body : "", "invalid auth token")))
		rc = DEVKIT_EAUTH;
	if (rc < 0 && status == 412)
		rc = DEVKIT_EINVAL;
	if (rc == 0 && json_object_get(j, "error")) {
		rc = strstr(body, "lease not found") ? DEVKIT_ENOTFOUND :
			strstr(body, "authentication") || strstr(body, "permission") ? DEVKIT_EAUTH :
			DEVKIT_EIO;
	}
	if (rc < 0) {
		json_decref(j);
		if (rc == DEVKIT_ENOTFOUND && e->step == STEP_KEEPALIVE)
			devkit__reg_op_done(r, rc, "etcd lease %s of %s expired", e->lease_id, r->service);
		else
			devkit__reg_op_done(r, rc, "%s%s%s", message, grpc_message ? ": " : "",
				grpc_message ? grpc_message : "");
		return;
	}
	switch (e->step) {
	case STEP_AUTH: {
		const char *token = json_string_value(json_object_get(j, "token"));
		if (token)
			snprintf(e->auth_header, sizeof(e->auth_header), "Authorization: %s", token);
		json_decref(j);
		if (!token)
			devkit__reg_op_done(r, DEVKIT_EPROTO, "etcd authenticate: no token in the answer");
		else
			step(r, STEP_GRANT);
		return;
	}
	case STEP_GRANT: {
		const char *id = json_string_value(json_object_get(j, "ID"));
		snprintf(e->lease_id, sizeof(e->lease_id), "%s", id ? id : "");
		json_decref(j);
		if (!id)
			devkit__reg_op_done(r, DEVKIT_EPROTO, "etcd lease grant: no ID in the answer");
		else
			step(r, STEP_PUT);
		return;
	}
	case STEP_KEEPALIVE: {
		/* {"result":{"ID":..,"TTL":"5"}}; an expired lease comes back without TTL. */
		json_t *res = json_object_get(j, "result");
		const char *ttl = json_string_value(json_object_get(res, "TTL"));
		int alive = ttl && atoi(ttl) > 0;
		json_decref(j);
		if (!alive)
			devkit__reg_op_done(r, DEVKIT_ENOTFOUND, "etcd lease %s of %s expired", e->lease_id,
				r->service);
		else
			devkit__reg_op_done(r, 0, NULL);
		return;
	}
	default:
		json_decref(j);
		devkit__reg_op_done(r, 0, NULL);
	}
}

static void step(devkit__reg *r, etcd_step s)
{
	etcd *e = etcd_of(r);
	e->step = s;
	const char *headers[] = { "Content-Type: application/json",
		e->auth_header[0] ? e->auth_header : NULL, NULL };
	const char *path = NULL;
	json_t *body = NULL;
	switch (s) {
	case STEP_AUTH:
		path = "/v3/auth/authenticate";
		body = json_pack("{s:s, s:s}", "name", r->username, "password",
			r->password ? r->password : "");
		break;
	case STEP_GRANT:
		path = "/v3/lease/grant";
		body = json_pack("{s:i}", "TTL", (int)((r->ttl_ms + 999) / 1000));
		break;
	case STEP_PUT: {
		path = "/v3/kv/put";
		char *value = value_json(r), *k = b64(e->key), *v = value ? b64(value) : NULL;
		if (k && v)
			body = json_pack("{s:s, s:s, s:s}", "key", k, "value", v, "lease", e->lease_id);
		free(value);
		free(k);
		free(v);
		break;
	}
	case STEP_KEEPALIVE:
		path = "/v3/lease/keepalive";
		body = json_pack("{s:s}", "ID", e->lease_id);
		break;
	case STEP_REVOKE:
		path = "/v3/lease/revoke";
		body = json_pack("{s:s}", "ID", e->lease_id);
		break;
	}
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	if (body && s == STEP_AUTH) {
		/* The body held the password: wipe it. */
		json_object_clear(body);
	}
	json_decref(body);
	int rc = text ? devkit__reg_http_send(&e->http, r, "POST", path, headers, text, on_answer) :
		DEVKIT_ENOMEM;
	if (text) {
		memset(text, 0, strlen(text));
		free(text);
	}
	if (rc < 0)
		devkit__reg_op_done(r, rc, "etcd %s: cannot send the request", path);
}

static void etcd_start(devkit__reg *r, devkit__reg_op op)
{
	etcd *e = etcd_of(r);
	e->op = op;
	if (op == DEVKIT__REG_OP_REGISTER)
		step(r, r->username && !e->auth_header[0] ? STEP_AUTH : STEP_GRANT);
	else if (op == DEVKIT__REG_OP_HEARTBEAT)
		step(r, STEP_KEEPALIVE);
	else if (e->lease_id[0])
		step(r, STEP_REVOKE);
	else
		devkit__reg_op_done(r, 0, NULL);
}

static int etcd_init(devkit__reg *r)
{
	etcd *e = calloc(1, sizeof(*e));
	if (!e)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->backend_data = e;
	const char *format = devkit__reg_query(r, "format", "go-micro");
	if (strcmp(format, "kratos") == 0)
		e->kratos = 1;
	else if (strcmp(format, "go-micro") != 0)
		return devkit__error_set(DEVKIT_EINVAL, "etcd: format=%s is not go-micro or kratos",
			format);
	const char *prefix = devkit__reg_query(r, "prefix", e->kratos ? "/microservices" :
		"/micro/registry");
	size_t plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	snprintf(r->instance_id, sizeof(r->instance_id), "%s-%s-%d", r->service, r->address, r->port);
	snprintf(e->key, sizeof(e->key), "%.*s/%s/%s", (int)plen, prefix, r->service, r->instance_id);
	return 0;
}

static void etcd_cancel(devkit__reg *r)
{
	devkit__reg_http_cancel(&etcd_of(r)->http);
}

static void etcd_describe(devkit__reg *r, void *json)
{
	etcd *e = etcd_of(r);
	json_object_set_new(json, "keys", json_pack("[s]", e->key));
	json_object_set_new(json, "lease", json_string(e->lease_id));
	json_object_set_new(json, "format", json_string(e->kratos ? "kratos" : "go-micro"));
}

static void etcd_destroy(devkit__reg *r)
{
	etcd *e = etcd_of(r);
	if (e) {
		memset(e->auth_header, 0, sizeof(e->auth_header));
		free(e);
	}
	r->backend_data = NULL;
}

const devkit__reg_backend devkit__reg_etcd = {
	.name = "etcd",
	.default_port = 2379,
	.default_ttl_ms = 15000,     /* Kratos's default register TTL */
	.default_heartbeat_ms = 0,   /* a third of the TTL */
	.init = etcd_init,
	.start = etcd_start,
	.has_heartbeat = 1,
	.cancel = etcd_cancel,
	.describe = etcd_describe,
	.destroy = etcd_destroy,
};
