/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Consul, through the local agent's HTTP API:
 *   register  PUT /v1/agent/service/register        with a TTL check
 *   pass      PUT /v1/agent/check/pass/service:ID   404 (or 500 "Unknown check"): forgotten
 *   remove    PUT /v1/agent/service/deregister/ID
 * The check goes critical after the TTL and the agent removes the service
 * DeregisterCriticalServiceAfter later (both the TTL here; Consul's reaper
 * runs about once a minute, so a real agent takes up to a minute longer).
 * The ACL token goes in X-Consul-Token. The tag becomes a Consul tag.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "reg_http.h"
#include "registry_url.h"

typedef struct consul {
	devkit__reg_http http;
	char token_header[600];  /* "X-Consul-Token: ..."; never logged */
	char check_path[600];    /* /v1/agent/check/pass/service:ID, encoded */
	char deregister_path[600];
} consul;

static consul *consul_of(devkit__reg *r)
{
	return r->backend_data;
}

static char *service_json(devkit__reg *r)
{
	char ttl[32];
	snprintf(ttl, sizeof(ttl), "%us", (r->ttl_ms + 999) / 1000);
	char check_id[300];
	snprintf(check_id, sizeof(check_id), "service:%s", r->instance_id);
	json_t *meta = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(meta, r->meta[i].key, json_string(r->meta[i].value));
	json_t *tags = json_array();
	if (r->tag)
		json_array_append_new(tags, json_string(r->tag));
	json_t *check = json_pack("{s:s, s:s, s:s, s:s, s:s}", "CheckID", check_id, "Name",
		"libdevkit TTL", "TTL", ttl, "DeregisterCriticalServiceAfter", ttl, "Status", "passing");
	json_t *svc = json_pack("{s:s, s:s, s:o, s:s, s:i, s:o, s:o}", "ID", r->instance_id, "Name",
		r->service, "Tags", tags, "Address", r->address, "Port", r->port, "Meta", meta, "Check",
		check);
	char *text = svc ? json_dumps(svc, JSON_COMPACT) : NULL;
	json_decref(svc);
	return text;
}

static void on_done(devkit__reg *r, int rc, long status, const char *body, const char *message)
{
	/* Older agents answer a pass for an unknown check with 500 "Unknown check ID". */
	if (rc == DEVKIT_EIO && status == 500 && r->op == DEVKIT__REG_OP_HEARTBEAT &&
		(strstr(body, "Unknown check") || strstr(body, "does not have associated TTL")))
		rc = DEVKIT_ENOTFOUND;
	devkit__reg_op_done(r, rc, "%s", rc == 0 ? "" : message);
}

static void consul_start(devkit__reg *r, devkit__reg_op op)
{
	consul *c = consul_of(r);
	const char *headers[] = { "Content-Type: application/json",
		c->token_header[0] ? c->token_header : NULL, NULL };
	int rc;
	if (op == DEVKIT__REG_OP_REGISTER) {
		char *body = service_json(r);
		rc = body ? devkit__reg_http_send(&c->http, r, "PUT", "/v1/agent/service/register",
			headers, body, on_done) : DEVKIT_ENOMEM;
		free(body);
	} else if (op == DEVKIT__REG_OP_HEARTBEAT) {
		rc = devkit__reg_http_send(&c->http, r, "PUT", c->check_path, headers, "", on_done);
	} else {
		rc = devkit__reg_http_send(&c->http, r, "PUT", c->deregister_path, headers, "", on_done);
	}
	if (rc < 0)
		devkit__reg_op_done(r, rc, "consul %s: cannot send the request", r->service);
}

static int consul_init(devkit__reg *r)
{
	consul *c = calloc(1, sizeof(*c));
	if (!c)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->backend_data = c;
	const char *id = devkit__reg_query(r, "id", NULL);
	if (id)
		snprintf(r->instance_id, sizeof(r->instance_id), "%s", id);
	else
		snprintf(r->instance_id, sizeof(r->instance_id), "%s-%s-%d", r->service, r->address,
			r->port);
	if (r->token && (strchr(r->token, '\r') || strchr(r->token, '\n')))
		return devkit__error_set(DEVKIT_EINVAL, "consul: the ACL token holds a line break");
	if (r->token)
		snprintf(c->token_header, sizeof(c->token_header), "X-Consul-Token: %s", r->token);
	char *enc = devkit__url_encode(r->instance_id);
	if (!enc)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	snprintf(c->check_path, sizeof(c->check_path), "/v1/agent/check/pass/service:%s", enc);
	snprintf(c->deregister_path, sizeof(c->deregister_path), "/v1/agent/service/deregister/%s",
		enc);
	free(enc);
	return 0;
}

static void consul_cancel(devkit__reg *r)
{
	devkit__reg_http_cancel(&consul_of(r)->http);
}

static void consul_describe(devkit__reg *r, void *json)
{
	char check[300];
	snprintf(check, sizeof(check), "service:%s", r->instance_id);
	json_object_set_new(json, "check_id", json_string(check));
}

static void consul_destroy(devkit__reg *r)
{
	consul *c = consul_of(r);
	if (c) {
		memset(c->token_header, 0, sizeof(c->token_header));
		free(c);
	}
	r->backend_data = NULL;
}

const devkit__reg_backend devkit__reg_consul = {
	.name = "consul",
	.default_port = 8500,
	.default_ttl_ms = 30000,
	.default_heartbeat_ms = 0,   /* a third of the TTL */
	.init = consul_init,
	.start = consul_start,
	.has_heartbeat = 1,
	.cancel = consul_cancel,
	.describe = consul_describe,
	.destroy = consul_destroy,
};
