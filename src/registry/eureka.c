/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Eureka, through its REST API (the one Netflix's and Spring Cloud's clients use):
 *   register  POST   {base}/apps/{APP}              JSON instance -> 204
 *   renew     PUT    {base}/apps/{APP}/{id}         200; 404: the server forgot us
 *   cancel    DELETE {base}/apps/{APP}/{id}         200
 * {base} is the URL's path: eureka://host:8761/eureka -> http://host:8761/eureka.
 * The instance id has Spring Cloud's shape, "host:app:port".
 * URL query: vip (the vipAddress, default the service name).
 * username/password, when set, go as HTTP Basic (Spring Security in front of Eureka).
 */
#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "reg_http.h"
#include "registry_url.h"

typedef struct eureka {
	devkit__reg_http http;
	char app[256];          /* upper case, as Eureka keys applications */
	char path[768];         /* /apps/APP/ID, encoded */
	long long dirty_ms;     /* lastDirtyTimestamp of our registration */
} eureka;

static eureka *eureka_of(devkit__reg *r)
{
	return r->backend_data;
}

static json_t *port_json(int port, int enabled)
{
	return json_pack("{s:i, s:s}", "$", port, "@enabled", enabled ? "true" : "false");
}

static char *instance_json(devkit__reg *r)
{
	eureka *e = eureka_of(r);
	char home[512], ts[32];
	snprintf(home, sizeof(home), "http://%s:%d/", r->address, r->port);
	snprintf(ts, sizeof(ts), "%lld", e->dirty_ms);
	json_t *meta = json_object();
	for (int i = 0; i < r->nmeta; i++)
		json_object_set_new(meta, r->meta[i].key, json_string(r->meta[i].value));
	if (r->tag && !json_object_get(meta, "tag"))
		json_object_set_new(meta, "tag", json_string(r->tag));
	const char *vip = devkit__reg_query(r, "vip", r->service);
	json_t *lease = json_pack("{s:i, s:i}", "renewalIntervalInSecs",
		(int)((r->heartbeat_ms + 999) / 1000), "durationInSecs", (int)((r->ttl_ms + 999) / 1000));
	json_t *dc = json_pack("{s:s, s:s}", "@class",
		"com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo", "name", "MyOwn");
	json_t *inst = json_object();
	json_object_set_new(inst, "instanceId", json_string(r->instance_id));
	json_object_set_new(inst, "hostName", json_string(r->address));
	json_object_set_new(inst, "app", json_string(e->app));
	json_object_set_new(inst, "ipAddr", json_string(r->address));
	json_object_set_new(inst, "status", json_string("UP"));
	json_object_set_new(inst, "overriddenStatus", json_string("UNKNOWN"));
	json_object_set_new(inst, "port", port_json(r->port, 1));
	json_object_set_new(inst, "securePort", port_json(443, 0));
	json_object_set_new(inst, "countryId", json_integer(1));
	json_object_set_new(inst, "dataCenterInfo", dc);
	json_object_set_new(inst, "leaseInfo", lease);
	json_object_set_new(inst, "metadata", meta);
	json_object_set_new(inst, "homePageUrl", json_string(home));
	json_object_set_new(inst, "statusPageUrl", json_string(home));
	json_object_set_new(inst, "healthCheckUrl", json_string(home));
	json_object_set_new(inst, "vipAddress", json_string(vip));
	json_object_set_new(inst, "secureVipAddress", json_string(vip));
	json_object_set_new(inst, "isCoordinatingDiscoveryServer", json_string("false"));
	json_object_set_new(inst, "lastUpdatedTimestamp", json_string(ts));
	json_object_set_new(inst, "lastDirtyTimestamp", json_string(ts));
	json_object_set_new(inst, "actionType", json_string("ADDED"));
	json_t *root = json_pack("{s:o}", "instance", inst);
	char *text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	return text;
}

static void on_done(devkit__reg *r, int rc, long status, const char *body, const char *message)
{
	(void)status;
	(void)body;
	devkit__reg_op_done(r, rc, "%s", rc == 0 ? "" : message);
}

static void eureka_start(devkit__reg *r, devkit__reg_op op)
{
	eureka *e = eureka_of(r);
	e->http.basic_auth = r->username != NULL;
	int rc;
	if (op == DEVKIT__REG_OP_REGISTER) {
		/* Wall-clock ms, as Eureka compares it with its own. */
		uv_timeval64_t tv;
		if (uv_gettimeofday(&tv) == 0)
			e->dirty_ms = (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
		char *body = instance_json(r);
		char apps[300];
		char *app = devkit__url_encode(e->app);
		snprintf(apps, sizeof(apps), "/apps/%s", app ? app : "");
		free(app);
		const char *headers[] = { "Content-Type: application/json",
			"Accept: application/json", NULL };
		rc = body ? devkit__reg_http_send(&e->http, r, "POST", apps, headers, body, on_done) :
			DEVKIT_ENOMEM;
		free(body);
	} else if (op == DEVKIT__REG_OP_HEARTBEAT) {
		char path[900];
		snprintf(path, sizeof(path), "%s?status=UP&lastDirtyTimestamp=%lld", e->path, e->dirty_ms);
		rc = devkit__reg_http_send(&e->http, r, "PUT", path, NULL, NULL, on_done);
	} else {
		rc = devkit__reg_http_send(&e->http, r, "DELETE", e->path, NULL, NULL, on_done);
	}
	if (rc < 0)
		devkit__reg_op_done(r, rc, "eureka %s: cannot send the request", r->service);
}

static int eureka_init(devkit__reg *r)
{
	eureka *e = calloc(1, sizeof(*e));
	if (!e)
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	r->backend_data = e;
	snprintf(e->app, sizeof(e->app), "%s", r->service);
	for (char *c = e->app; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	snprintf(r->instance_id, sizeof(r->instance_id), "%s:%s:%d", r->address, r->service,
		r->port);
	char *app = devkit__url_encode(e->app), *id = devkit__url_encode(r->instance_id);
	if (!app || !id) {
		free(app);
		free(id);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	snprintf(e->path, sizeof(e->path), "/apps/%s/%s", app, id);
	free(app);
	free(id);
	return 0;
}

static void eureka_cancel(devkit__reg *r)
{
	devkit__reg_http_cancel(&eureka_of(r)->http);
}

static void eureka_describe(devkit__reg *r, void *json)
{
	json_object_set_new(json, "app", json_string(eureka_of(r)->app));
}

static void eureka_destroy(devkit__reg *r)
{
	free(r->backend_data);
	r->backend_data = NULL;
}

const devkit__reg_backend devkit__reg_eureka = {
	.name = "eureka",
	.default_port = 8761,
	.default_ttl_ms = 90000,      /* Eureka's leaseInfo defaults: 30 s renewals, 90 s lease */
	.default_heartbeat_ms = 30000,
	.init = eureka_init,
	.start = eureka_start,
	.has_heartbeat = 1,
	.cancel = eureka_cancel,
	.describe = eureka_describe,
	.destroy = eureka_destroy,
};
