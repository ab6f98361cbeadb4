/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the Nacos and Consul protocol fakes answer as the real servers do,
 * driven with curl (never with our own client): the paths, status codes and
 * bodies a registrar and a consumer see, expiry of instances and TTL checks,
 * auth/ACL refusals, injected failures, and serving inside a cloud namespace
 * that the host cannot reach. What the fakes knowingly do differently is in
 * nacos_fixture.h and consul_fixture.h.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cloud_fixture.h"
#include "consul_fixture.h"
#include "fixtures.h"
#include "http_get.h"
#include "nacos_fixture.h"

static fx_daemon nacos;
static fx_daemon consul;
static fx_cloud cloud;

static void teardown(void)
{
	fx_daemon_stop(&nacos);
	fx_daemon_stop(&consul);
	fx_cloud_stop(&cloud);
}

TestSuite(nacos_consul, .fini = teardown, .timeout = 120);

/* ---- helpers: one request, its status and body ---- */

static char body[65536];

/* fx_http with the body copied to `body` (static), status returned. */
static int req(fx_daemon *d, const char *method, const char *path, const char *const headers[],
	const char *data)
{
	fx_run_result r;
	int status = fx_http(d, method, path, headers, data, &r);
	snprintf(body, sizeof(body), "%s", r.out);
	if (status < 0)
		fprintf(stderr, "no answer to %s %s: %s\n", method, path, r.err);
	fx_run_result_free(&r);
	return status;
}

static json_t *body_json(void)
{
	json_error_t e;
	json_t *v = json_loads(body, JSON_DECODE_ANY, &e);
	cr_assert_not_null(v, "not JSON (%s): %s", e.text, body);
	return v;
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	cr_assert_not_null(s, "no string %s in %s", key, json_dumps(o, JSON_COMPACT));
	return s;
}

static long long jint(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_integer(v), "no integer %s in %s", key, json_dumps(o, JSON_COMPACT));
	return json_integer_value(v);
}

static int jbool(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);
	cr_assert(json_is_boolean(v), "no boolean %s in %s", key, json_dumps(o, JSON_COMPACT));
	return json_is_true(v);
}

/* ---- Nacos ---- */

#define SVC_QS "serviceName=orders&ip=127.0.0.1&port=18080"

/* The consumer's view: hosts[] of GET /nacos/v1/ns/instance/list. */
static json_t *nacos_hosts(const char *query)
{
	char path[300];
	snprintf(path, sizeof(path), "/nacos/v1/ns/instance/list?%s", query);
	cr_assert_eq(req(&nacos, "GET", path, NULL, NULL), 200, "list: %s", body);
	json_t *v = body_json();
	json_t *hosts = json_incref(json_object_get(v, "hosts"));
	cr_assert(json_is_array(hosts), "no hosts[] in %s", body);
	json_decref(v);
	return hosts;
}

static void start_nacos(const fx_nacos_options *o)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_nacos_start_opts(&nacos, o), 0, "nacos fake did not start");
	fprintf(stderr, "[timing] nacos fake %s: serving after %lld ms (port %d)\n",
		o->netns ? o->netns : "on the host", fx_now_ms() - t0, nacos.port);
}

Test(nacos_consul, nacos_v1_register_beat_list_deregister)
{
	fx_nacos_options o = { 0 };
	start_nacos(&o);

	/* register: form body, metadata as JSON; answers plain "ok" */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL,
			     SVC_QS "&weight=2&metadata=%7B%22version%22%3A%221.2%22%7D"),
		200);
	cr_assert_str_eq(body, "ok");

	json_t *hosts = nacos_hosts("serviceName=orders");
	cr_assert_eq(json_array_size(hosts), 1);
	json_t *h = json_array_get(hosts, 0);
	cr_assert_str_eq(jstr(h, "ip"), "127.0.0.1");
	cr_assert_eq(jint(h, "port"), 18080);
	cr_assert(jbool(h, "healthy") && jbool(h, "enabled") && jbool(h, "ephemeral"));
	cr_assert_str_eq(jstr(h, "clusterName"), "DEFAULT");
	cr_assert_str_eq(jstr(h, "serviceName"), "DEFAULT_GROUP@@orders");
	cr_assert_str_eq(jstr(h, "instanceId"), "127.0.0.1#18080#DEFAULT#DEFAULT_GROUP@@orders");
	cr_assert_str_eq(jstr(json_object_get(h, "metadata"), "version"), "1.2");
	cr_assert_float_eq(json_real_value(json_object_get(h, "weight")), 2.0, 1e-9);
	cr_assert_eq(jint(h, "instanceHeartBeatTimeOut"), 15000);
	cr_assert_eq(jint(h, "ipDeleteTimeout"), 30000);
	json_decref(hosts);

	/* a light beat (no beat JSON), as the 1.x client sends once lightBeatEnabled */
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v1/ns/instance/beat?" SVC_QS, NULL, NULL), 200);
	json_t *beat = body_json();
	cr_assert_eq(jint(beat, "code"), 10200);
	cr_assert_eq(jint(beat, "clientBeatInterval"), 5000);
	cr_assert(jbool(beat, "lightBeatEnabled"));
	json_decref(beat);
	/* and a full one, the `beat` parameter the 1.x client sends first */
	cr_assert_eq(req(&nacos, "PUT",
			     "/nacos/v1/ns/instance/beat?serviceName=orders&beat=%7B%22ip%22%3A%22127.0.0.1"
			     "%22%2C%22port%22%3A18080%2C%22cluster%22%3A%22DEFAULT%22%7D",
			     NULL, NULL),
		200);
	beat = body_json();
	cr_assert_eq(jint(beat, "code"), 10200);
	json_decref(beat);
	json_t *inst = fx_nacos_instance(&nacos, "orders", "127.0.0.1", 18080);
	cr_assert_not_null(inst);
	cr_assert_eq(jint(inst, "beats"), 2);
	json_decref(inst);

	/* the same service by group: groupName param or the "GROUP@@name" form */
	hosts = nacos_hosts("serviceName=DEFAULT_GROUP%40%40orders");
	cr_assert_eq(json_array_size(hosts), 1);
	json_decref(hosts);
	hosts = nacos_hosts("serviceName=orders&groupName=OTHER");
	cr_assert_eq(json_array_size(hosts), 0);
	json_decref(hosts);

	/* deregister answers "ok", also for what is not there */
	cr_assert_eq(req(&nacos, "DELETE", "/nacos/v1/ns/instance?" SVC_QS, NULL, NULL), 200);
	cr_assert_str_eq(body, "ok");
	hosts = nacos_hosts("serviceName=orders");
	cr_assert_eq(json_array_size(hosts), 0);
	json_decref(hosts);
	cr_assert_eq(req(&nacos, "DELETE", "/nacos/v1/ns/instance?" SVC_QS, NULL, NULL), 200);
	cr_assert_str_eq(body, "ok");

	/* a missing parameter: 400 with the server's text */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL, "serviceName=orders&ip=1.2.3.4"),
		400);
	cr_assert_str_eq(body, "caused: Param 'port' is required.;");
}

Test(nacos_consul, nacos_beat_of_unknown_instance)
{
	fx_nacos_options o = { 0 };
	start_nacos(&o);
	/* light beat: 20404, the client's cue to register again */
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v1/ns/instance/beat?" SVC_QS, NULL, NULL), 200);
	json_t *beat = body_json();
	cr_assert_eq(jint(beat, "code"), 20404);
	json_decref(beat);
	json_t *hosts = nacos_hosts("serviceName=orders");
	cr_assert_eq(json_array_size(hosts), 0);
	json_decref(hosts);

	/* a beat with the beat JSON registers it again ("data compensation") */
	cr_assert_eq(req(&nacos, "PUT",
			     "/nacos/v1/ns/instance/beat?serviceName=orders&beat=%7B%22ip%22%3A%22127.0.0.1"
			     "%22%2C%22port%22%3A18080%2C%22metadata%22%3A%7B%22k%22%3A%22v%22%7D%7D",
			     NULL, NULL),
		200);
	beat = body_json();
	cr_assert_eq(jint(beat, "code"), 10200);
	json_decref(beat);
	hosts = nacos_hosts("serviceName=orders");
	cr_assert_eq(json_array_size(hosts), 1);
	cr_assert_str_eq(jstr(json_object_get(json_array_get(hosts, 0), "metadata"), "k"), "v");
	json_decref(hosts);
}

Test(nacos_consul, nacos_ephemeral_instances_expire)
{
	fx_nacos_options o = { .heart_beat_timeout_ms = 1000, .ip_delete_timeout_ms = 2500 };
	start_nacos(&o);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL, SVC_QS), 200);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL,
			     "serviceName=orders&ip=127.0.0.1&port=18081"),
		200);
	long long t0 = fx_now_ms();
	/* 18081 beats every 300 ms; 18080 stays silent */
	int unhealthy_seen = 0;
	while (fx_now_ms() - t0 < 3500) {
		cr_assert_eq(req(&nacos, "PUT",
				     "/nacos/v1/ns/instance/beat?serviceName=orders&ip=127.0.0.1&port=18081",
				     NULL, NULL),
			200);
		json_t *hosts = nacos_hosts("serviceName=orders");
		size_t i;
		json_t *h;
		json_array_foreach(hosts, i, h) {
			if (jint(h, "port") == 18081)
				cr_assert(jbool(h, "healthy"), "the beating instance went unhealthy");
			else if (!jbool(h, "healthy")) {
				long long after = fx_now_ms() - t0;
				cr_assert_geq(after, 900, "unhealthy after only %lld ms", after);
				unhealthy_seen = 1;
			}
		}
		json_decref(hosts);
		fx_sleep_ms(300);
	}
	cr_assert(unhealthy_seen, "the silent instance never showed up unhealthy");
	/* by now the silent one is gone, removed as expired */
	json_t *hosts = nacos_hosts("serviceName=orders");
	cr_assert_eq(json_array_size(hosts), 1, "the silent instance was not removed: %s", body);
	cr_assert_eq(jint(json_array_get(hosts, 0), "port"), 18081);
	json_decref(hosts);
	json_t *state = fx_nacos_state(&nacos);
	json_t *removed = json_array_get(json_object_get(state, "removed"), 0);
	cr_assert_str_eq(jstr(removed, "reason"), "expired");
	cr_assert_eq(jint(removed, "port"), 18080);
	json_decref(state);

	/* per-instance metadata overrides the server's timeouts, as in Nacos */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL,
			     "serviceName=fast&ip=127.0.0.1&port=1&metadata=preserved.heart.beat.timeout%3D300"
			     "%2Cpreserved.ip.delete.timeout%3D600"),
		200);
	fx_sleep_ms(1200);
	hosts = nacos_hosts("serviceName=fast");
	cr_assert_eq(json_array_size(hosts), 0);
	json_decref(hosts);
}

Test(nacos_consul, nacos_v2_api)
{
	fx_nacos_options o = { 0 };
	start_nacos(&o);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v2/ns/instance", NULL,
			     SVC_QS "&groupName=G1&metadata=a%3D1%2Cb%3D2"),
		200);
	cr_assert_str_eq(body, "{\"code\":0,\"message\":\"success\",\"data\":\"ok\"}");

	cr_assert_eq(req(&nacos, "GET", "/nacos/v2/ns/instance/list?serviceName=orders&groupName=G1",
			     NULL, NULL),
		200);
	json_t *v = body_json();
	cr_assert_eq(jint(v, "code"), 0);
	json_t *hosts = json_object_get(json_object_get(v, "data"), "hosts");
	cr_assert_eq(json_array_size(hosts), 1);
	cr_assert_str_eq(jstr(json_object_get(json_array_get(hosts, 0), "metadata"), "b"), "2");
	json_decref(v);

	/* the v2 beat wants "GROUP@@name" and answers without the envelope */
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v2/ns/instance/beat?" SVC_QS, NULL, NULL), 400);
	v = body_json();
	cr_assert_eq(jint(v, "code"), 20002);
	json_decref(v);
	cr_assert_eq(req(&nacos, "PUT",
			     "/nacos/v2/ns/instance/beat?serviceName=G1%40%40orders&ip=127.0.0.1&port=18080",
			     NULL, NULL),
		200);
	v = body_json();
	cr_assert_eq(jint(v, "code"), 10200);
	cr_assert_null(json_object_get(v, "data"));
	json_decref(v);

	/* a missing parameter: 400 and the envelope */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v2/ns/instance", NULL, "serviceName=x&ip=1.2.3.4"),
		400);
	cr_assert_str_eq(body, "{\"code\":10000,\"message\":\"parameter missing\",\"data\":"
			       "\"Required parameter 'port' type Integer is not present\"}");
	cr_assert_eq(req(&nacos, "POST", "/nacos/v2/ns/instance", NULL, SVC_QS "&weight=20000"), 400);
	v = body_json();
	cr_assert_eq(jint(v, "code"), 21001);
	json_decref(v);

	cr_assert_eq(req(&nacos, "DELETE", "/nacos/v2/ns/instance?" SVC_QS "&groupName=G1", NULL, NULL),
		200);
	cr_assert_str_eq(body, "{\"code\":0,\"message\":\"success\",\"data\":\"ok\"}");
	cr_assert_null(fx_nacos_instance(&nacos, "orders", "127.0.0.1", 18080));
}

Test(nacos_consul, nacos_v3_client_api)
{
	fx_nacos_options o = { 0 };
	start_nacos(&o);
	/* a renewal of what is not registered: 21003, "register again" */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v3/client/ns/instance", NULL, SVC_QS "&heartBeat=true"),
		200);
	cr_assert_str_eq(body, "{\"code\":21003,\"message\":\"instance not found\",\"data\":null}");
	cr_assert_eq(req(&nacos, "POST", "/nacos/v3/client/ns/instance", NULL, SVC_QS), 200);
	cr_assert_str_eq(body, "{\"code\":0,\"message\":\"success\",\"data\":\"ok\"}");
	cr_assert_eq(req(&nacos, "POST", "/nacos/v3/client/ns/instance", NULL, SVC_QS "&heartBeat=true"),
		200);
	cr_assert_str_eq(body, "{\"code\":0,\"message\":\"success\",\"data\":\"ok\"}");
	cr_assert_eq(req(&nacos, "GET", "/nacos/v3/client/ns/instance/list?serviceName=orders", NULL,
			     NULL),
		200);
	json_t *v = body_json();
	json_t *data = json_object_get(v, "data");
	cr_assert(json_is_array(data) && json_array_size(data) == 1, "%s", body);
	cr_assert_eq(jint(json_array_get(data, 0), "port"), 18080);
	json_decref(v);
}

Test(nacos_consul, nacos_auth)
{
	fx_nacos_options o = { .auth = "nacos:s3cret" };
	start_nacos(&o);
	/* no token: 403 from the auth filter, rendered by Spring's error page */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL, SVC_QS), 403);
	json_t *v = body_json();
	cr_assert_eq(jint(v, "status"), 403);
	cr_assert_str_eq(jstr(v, "message"), "user not found!");
	cr_assert_str_eq(jstr(v, "path"), "/nacos/v1/ns/instance");
	json_decref(v);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v2/ns/instance", NULL, SVC_QS), 403);

	/* wrong password */
	char token[1024];
	cr_assert_eq(fx_nacos_login(&nacos, "nacos", "wrong", token, sizeof(token)), 403);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/auth/login", NULL, "username=nacos&password=wrong"),
		403);
	cr_assert_str_eq(body, "user not found!");

	/* login: accessToken and tokenTtl */
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/auth/login", NULL, "username=nacos&password=s3cret"),
		200);
	v = body_json();
	snprintf(token, sizeof(token), "%s", jstr(v, "accessToken"));
	cr_assert_eq(jint(v, "tokenTtl"), 18000);
	cr_assert_str_eq(jstr(v, "username"), "nacos");
	json_decref(v);

	char path[1400];
	snprintf(path, sizeof(path), "/nacos/v1/ns/instance?%s&accessToken=%s", SVC_QS, token);
	cr_assert_eq(req(&nacos, "POST", path, NULL, NULL), 200);
	cr_assert_str_eq(body, "ok");
	/* the header forms */
	char bearer[1100];
	snprintf(bearer, sizeof(bearer), "Authorization: Bearer %s", token);
	const char *hdr[] = { bearer, NULL };
	cr_assert_eq(req(&nacos, "GET", "/nacos/v1/ns/instance/list?serviceName=orders", hdr, NULL), 200);
	snprintf(bearer, sizeof(bearer), "accessToken: %s", token);
	cr_assert_eq(req(&nacos, "GET", "/nacos/v1/ns/instance/list?serviceName=orders", hdr, NULL), 200);
	/* a forged token */
	cr_assert_eq(req(&nacos, "GET", "/nacos/v1/ns/instance/list?serviceName=orders&accessToken=x.y.z",
			     NULL, NULL),
		403);
	v = body_json();
	cr_assert_str_eq(jstr(v, "message"), "token invalid!");
	json_decref(v);
	/* the fixture's own authorised consumer */
	fx_run_result r;
	cr_assert_eq(fx_nacos_http(&nacos, "GET", "/nacos/v1/ns/instance/list?serviceName=orders",
			     NULL, &r),
		200);
	cr_assert(strstr(r.out, "\"port\":18080"), "%s", r.out);
	fx_run_result_free(&r);
	/* health needs no token (fx_nacos_start waited on it) */
	cr_assert_eq(req(&nacos, "GET", FX_NACOS_READY_PATH, NULL, NULL), 200);
}

Test(nacos_consul, nacos_token_expires)
{
	/* "exp" is in whole seconds, as Nacos's JWT: a 1 s token issued at
	 * X.95 is valid for 50 ms. 2 s leave at least one. */
	fx_nacos_options o = { .auth = "nacos:s3cret", .token_ttl_s = 2 };
	start_nacos(&o);
	char token[1024], path[1400];
	cr_assert_eq(fx_nacos_login(&nacos, "nacos", "s3cret", token, sizeof(token)), 200);
	snprintf(path, sizeof(path), "/nacos/v1/ns/instance/list?serviceName=orders&accessToken=%s",
		token);
	cr_assert_eq(req(&nacos, "GET", path, NULL, NULL), 200);
	fx_sleep_ms(3100);
	cr_assert_eq(req(&nacos, "GET", path, NULL, NULL), 403);
	json_t *v = body_json();
	cr_assert_str_eq(jstr(v, "message"), "token expired!");
	json_decref(v);
}

Test(nacos_consul, nacos_fail_next_and_restart)
{
	fx_nacos_options o = { .fail_next = 2 };
	start_nacos(&o);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL, SVC_QS), 500);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v2/ns/instance", NULL, SVC_QS), 500);
	json_t *v = body_json();
	cr_assert_eq(jint(v, "code"), 30000);
	json_decref(v);
	cr_assert_eq(req(&nacos, "POST", "/nacos/v1/ns/instance", NULL, SVC_QS), 200);
	cr_assert_eq(fx_nacos_fail_next(&nacos, 1), 0);
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v1/ns/instance/beat?" SVC_QS, NULL, NULL), 500);
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v1/ns/instance/beat?" SVC_QS, NULL, NULL), 200);

	/* a crash forgets every ephemeral instance; the next light beat says 20404 */
	cr_assert_eq(fx_nacos_restart(&nacos, FX_NACOS_START_TIMEOUT_MS), 0);
	cr_assert_eq(req(&nacos, "PUT", "/nacos/v1/ns/instance/beat?" SVC_QS, NULL, NULL), 200);
	v = body_json();
	cr_assert_eq(jint(v, "code"), 20404);
	json_decref(v);
}

/* ---- Consul ---- */

#define TOKEN "8f2ad0c2-5d1b-4a2e-9c0e-consul-test"

static void start_consul(const fx_consul_options *o)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_consul_start_opts(&consul, o), 0, "consul fake did not start");
	fprintf(stderr, "[timing] consul fake %s: serving after %lld ms (port %d)\n",
		o->netns ? o->netns : "on the host", fx_now_ms() - t0, consul.port);
}

/* fx_consul_http, body copied to `body`. */
static int creq(const char *method, const char *path, const char *json_body)
{
	fx_run_result r;
	int status = fx_consul_http(&consul, method, path, json_body, &r);
	snprintf(body, sizeof(body), "%s", r.out);
	fx_run_result_free(&r);
	return status;
}

#define WEB1 "{\"ID\":\"web1\",\"Name\":\"web\",\"Tags\":[\"v1\"],\"Address\":\"127.0.0.1\"," \
	"\"Port\":18080,\"Meta\":{\"zone\":\"a\"},\"Check\":{\"CheckID\":\"web1:ttl\",\"TTL\":\"%s\"," \
	"\"DeregisterCriticalServiceAfter\":\"%s\"}}"

static void register_web1(const char *ttl, const char *dcsa)
{
	char json[600];
	snprintf(json, sizeof(json), WEB1, ttl, dcsa);
	cr_assert_eq(creq("PUT", "/v1/agent/service/register", json), 200, "register: %s", body);
	cr_assert_str_eq(body, "");
}

Test(nacos_consul, consul_register_pass_health_deregister)
{
	fx_consul_options o = { 0 };
	start_consul(&o);
	register_web1("30s", "1m");

	/* a TTL check starts critical: listed, but not among the passing */
	json_t *all = fx_consul_health(&consul, "web", 0);
	cr_assert_eq(json_array_size(all), 1);
	json_t *e = json_array_get(all, 0);
	json_t *svc = json_object_get(e, "Service");
	cr_assert_str_eq(jstr(svc, "ID"), "web1");
	cr_assert_str_eq(jstr(svc, "Address"), "127.0.0.1");
	cr_assert_eq(jint(svc, "Port"), 18080);
	cr_assert_str_eq(jstr(json_object_get(svc, "Meta"), "zone"), "a");
	cr_assert_str_eq(jstr(json_object_get(e, "Node"), "Address"), "127.0.0.1");
	json_t *checks = json_object_get(e, "Checks");
	cr_assert_eq(json_array_size(checks), 2, "serfHealth and the TTL check");
	cr_assert_str_eq(jstr(json_array_get(checks, 0), "CheckID"), "serfHealth");
	cr_assert_str_eq(jstr(json_array_get(checks, 1), "Status"), "critical");
	cr_assert_str_eq(jstr(json_array_get(checks, 1), "Type"), "ttl");
	json_decref(all);
	json_t *passing = fx_consul_health(&consul, "web", 1);
	cr_assert_eq(json_array_size(passing), 0);
	json_decref(passing);

	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl?note=alive", NULL), 200);
	cr_assert_str_eq(body, "");
	passing = fx_consul_health(&consul, "web", 1);
	cr_assert_eq(json_array_size(passing), 1);
	json_decref(passing);
	json_t *c = fx_consul_check(&consul, "web1:ttl");
	cr_assert_str_eq(jstr(c, "Status"), "passing");
	cr_assert_str_eq(jstr(c, "Output"), "alive");
	cr_assert_str_eq(jstr(c, "ServiceName"), "web");
	json_decref(c);
	/* warn is not passing */
	cr_assert_eq(creq("PUT", "/v1/agent/check/warn/web1:ttl", NULL), 200);
	cr_assert_eq(creq("GET", "/v1/health/service/web?passing=true", NULL), 200);
	cr_assert_str_eq(body, "[]");
	cr_assert_eq(creq("PUT", "/v1/agent/check/update/web1:ttl", "{\"Status\":\"passing\"}"), 200);

	/* the agent's and the catalog's views */
	cr_assert_eq(creq("GET", "/v1/agent/services", NULL), 200);
	json_t *v = body_json();
	json_t *a = json_object_get(v, "web1");
	cr_assert_str_eq(jstr(a, "Service"), "web");
	cr_assert_eq(jint(a, "Port"), 18080);
	cr_assert_str_eq(jstr(json_object_get(a, "Meta"), "zone"), "a");
	json_decref(v);
	cr_assert_eq(creq("GET", "/v1/catalog/service/web", NULL), 200);
	v = body_json();
	cr_assert_eq(json_array_size(v), 1);
	cr_assert_str_eq(jstr(json_array_get(v, 0), "ServiceAddress"), "127.0.0.1");
	cr_assert_eq(jint(json_array_get(v, 0), "ServicePort"), 18080);
	cr_assert_str_eq(jstr(json_array_get(v, 0), "ServiceID"), "web1");
	json_decref(v);

	cr_assert_eq(creq("PUT", "/v1/agent/service/deregister/web1", NULL), 200);
	cr_assert_str_eq(body, "");
	all = fx_consul_health(&consul, "web", 0);
	cr_assert_eq(json_array_size(all), 0);
	json_decref(all);
	cr_assert_null(fx_consul_check(&consul, "web1:ttl"), "the check went with its service");
	cr_assert_eq(creq("PUT", "/v1/agent/service/deregister/web1", NULL), 404);
	cr_assert_str_eq(body, "Unknown service ID \"web1\". Ensure that the service ID is passed, "
			       "not the service name.");
}

Test(nacos_consul, consul_ttl_goes_critical_then_deregistered)
{
	fx_consul_options o = { 0 };
	start_consul(&o);
	register_web1("1s", "1s");
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl?note=ok", NULL), 200);
	long long t0 = fx_now_ms();
	long long critical_at = 0, gone_at = 0;
	while (fx_now_ms() - t0 < 6000 && !gone_at) {
		json_t *c = fx_consul_check(&consul, "web1:ttl");
		if (!c) {
			gone_at = fx_now_ms() - t0;
			break;
		}
		if (!critical_at && strcmp(jstr(c, "Status"), "critical") == 0) {
			critical_at = fx_now_ms() - t0;
			cr_assert_str_eq(jstr(c, "Output"),
				"TTL expired (last output before timeout follows): ok");
		}
		json_decref(c);
		fx_sleep_ms(100);
	}
	fprintf(stderr, "[timing] consul TTL 1s: critical after %lld ms, deregistered after %lld ms\n",
		critical_at, gone_at);
	cr_assert(critical_at >= 900 && critical_at <= 2000, "critical after %lld ms", critical_at);
	cr_assert(gone_at >= critical_at + 900 && gone_at <= 4500, "deregistered after %lld ms",
		gone_at);
	cr_assert_eq(creq("GET", "/v1/agent/services", NULL), 200);
	cr_assert_str_eq(body, "{}");
	json_t *state = fx_consul_state(&consul);
	cr_assert_str_eq(jstr(json_array_get(json_object_get(state, "removed"), 0), "reason"),
		"deregister-critical-service-after");
	json_decref(state);
}

Test(nacos_consul, consul_acl)
{
	fx_consul_options o = { .acl_token = TOKEN };
	start_consul(&o);
	char json[600];
	snprintf(json, sizeof(json), WEB1, "30s", "1m");
	const char *ctype[] = { "Content-Type: application/json", NULL };
	/* no token: the anonymous token, which may not write */
	cr_assert_eq(req(&consul, "PUT", "/v1/agent/service/register", ctype, json), 403);
	cr_assert_str_eq(body, "Permission denied: anonymous token lacks permission 'service:write' "
			       "on \"web\". The anonymous token is used implicitly when a request does "
			       "not specify a token.");
	/* a token the agent does not know */
	const char *wrong[] = { "X-Consul-Token: not-a-token", NULL };
	cr_assert_eq(req(&consul, "PUT", "/v1/agent/service/register", wrong, json), 403);
	cr_assert_str_eq(body, "ACL not found");
	cr_assert_eq(req(&consul, "GET", "/v1/health/service/web", wrong, NULL), 403);
	cr_assert_str_eq(body, "ACL not found");
	/* the right token, in each of the three places */
	register_web1("30s", "1m");
	cr_assert_eq(req(&consul, "PUT", "/v1/agent/check/pass/web1:ttl?token=" TOKEN, NULL, NULL), 200);
	const char *bearer[] = { "Authorization: Bearer " TOKEN, NULL };
	cr_assert_eq(req(&consul, "GET", "/v1/health/service/web?passing", bearer, NULL), 200);
	json_t *v = body_json();
	cr_assert_eq(json_array_size(v), 1);
	json_decref(v);
	/* anonymous reads are filtered, not refused */
	cr_assert_eq(req(&consul, "GET", "/v1/health/service/web", NULL, NULL), 200);
	cr_assert_str_eq(body, "[]");
	cr_assert_eq(req(&consul, "GET", "/v1/catalog/service/web", NULL, NULL), 200);
	cr_assert_str_eq(body, "[]");
	cr_assert_eq(req(&consul, "GET", "/v1/agent/services", NULL, NULL), 200);
	cr_assert_str_eq(body, "{}");
	/* anonymous TTL update of an existing check: refused */
	cr_assert_eq(req(&consul, "PUT", "/v1/agent/check/pass/web1:ttl", NULL, NULL), 403);
	cr_assert(strstr(body, "anonymous token lacks permission 'service:write' on \"web\""), "%s",
		body);
}

Test(nacos_consul, consul_errors)
{
	fx_consul_options o = { 0 };
	start_consul(&o);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/nope", NULL), 404);
	cr_assert_str_eq(body, "Unknown check ID \"nope\". Ensure that the check ID is passed, not the "
			       "check name.");
	/* a check that is not a TTL check cannot be passed */
	cr_assert_eq(creq("PUT", "/v1/agent/service/register",
			     "{\"Name\":\"api\",\"Port\":1,\"Check\":{\"CheckID\":\"api-http\","
			     "\"HTTP\":\"http://127.0.0.1:1/\",\"Interval\":\"10s\"}}"),
		200);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/api-http", NULL), 500);
	cr_assert_str_eq(body, "CheckID \"api-http\" does not have associated TTL");
	cr_assert_eq(creq("PUT", "/v1/agent/service/register", "{\"Port\":1}"), 400);
	cr_assert_str_eq(body, "Missing service name");
	cr_assert_eq(creq("PUT", "/v1/agent/service/register", "{not json"), 400);
	cr_assert(strncmp(body, "Request decode failed", 21) == 0, "%s", body);
	cr_assert_eq(creq("GET", "/v1/agent/service/register", NULL), 405);
	/* default ids: the service's name, and "service:<id>" for its check */
	cr_assert_eq(creq("PUT", "/v1/agent/service/register",
			     "{\"name\":\"db\",\"port\":5432,\"check\":{\"ttl\":\"10s\","
			     "\"status\":\"passing\"}}"),
		200);
	json_t *c = fx_consul_check(&consul, "service:db");
	cr_assert_not_null(c, "snake/lower-case keys and default check id");
	cr_assert_str_eq(jstr(c, "Status"), "passing");
	cr_assert_str_eq(jstr(c, "ServiceID"), "db");
	json_decref(c);
}

Test(nacos_consul, consul_fail_next)
{
	fx_consul_options o = { .fail_next = 1 };
	start_consul(&o);
	char json[600];
	snprintf(json, sizeof(json), WEB1, "30s", "1m");
	cr_assert_eq(creq("PUT", "/v1/agent/service/register", json), 500);
	json_t *all = fx_consul_health(&consul, "web", 0);
	cr_assert_eq(json_array_size(all), 0, "a failed register registered nothing");
	json_decref(all);
	register_web1("30s", "1m");
	cr_assert_eq(fx_consul_fail_next(&consul, 2), 0);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl", NULL), 500);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl", NULL), 500);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl", NULL), 200);
}

struct blocking {
	char path[200];
	int status;
	long long ms;
	char out[4096];
};

static void *blocking_get(void *arg)
{
	struct blocking *b = arg;
	long long t0 = fx_now_ms();
	fx_run_result r;
	b->status = fx_consul_http(&consul, "GET", b->path, NULL, &r);
	b->ms = fx_now_ms() - t0;
	snprintf(b->out, sizeof(b->out), "%s", r.out);
	fx_run_result_free(&r);
	return NULL;
}

Test(nacos_consul, consul_blocking_query)
{
	fx_consul_options o = { 0 };
	start_consul(&o);
	register_web1("30s", "1m");
	json_t *state = fx_consul_state(&consul);
	long long index = jint(state, "index");
	json_decref(state);

	/* nothing changes: the query answers when ?wait= runs out */
	struct blocking b = { .status = 0 };
	snprintf(b.path, sizeof(b.path), "/v1/health/service/web?passing&index=%lld&wait=1s", index);
	blocking_get(&b);
	cr_assert_eq(b.status, 200);
	cr_assert_geq(b.ms, 900, "answered after %lld ms, before the wait ran out", b.ms);
	cr_assert_str_eq(b.out, "[]");

	/* a pass wakes it at once, with the instance now passing */
	snprintf(b.path, sizeof(b.path), "/v1/health/service/web?passing&index=%lld&wait=20s", index);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, blocking_get, &b), 0);
	fx_sleep_ms(500);
	cr_assert_eq(creq("PUT", "/v1/agent/check/pass/web1:ttl", NULL), 200);
	pthread_join(t, NULL);
	cr_assert_eq(b.status, 200);
	cr_assert_lt(b.ms, 5000, "the change did not end the wait (%lld ms)", b.ms);
	cr_assert(strstr(b.out, "\"ID\":\"web1\""), "%s", b.out);
}

/* ---- inside the cloud ---- */

/* The fakes answer inside the cloud namespace, and the host cannot reach them. */
Test(nacos_consul, both_in_cloud, .timeout = 180)
{
	cr_assert_eq(fx_cloud_start(&cloud), 0, "cloud did not start");
	if (!cloud.netns)
		fprintf(stderr, "[note] %s: no namespace, the isolation check is skipped\n",
			fx_cloud_describe(&cloud));
	fx_nacos_options no = { .netns = cloud.ns, .auth = "nacos:s3cret" };
	start_nacos(&no);
	fx_consul_options co = { .netns = cloud.ns, .acl_token = TOKEN };
	start_consul(&co);

	fx_run_result r;
	cr_assert_eq(fx_nacos_http(&nacos, "POST", "/nacos/v1/ns/instance", SVC_QS, &r), 200);
	cr_assert_str_eq(r.out, "ok");
	fx_run_result_free(&r);
	json_t *inst = fx_nacos_instance(&nacos, "orders", "127.0.0.1", 18080);
	cr_assert_not_null(inst);
	json_decref(inst);
	register_web1("30s", "1m");
	json_t *all = fx_consul_health(&consul, "web", 0);
	cr_assert_eq(json_array_size(all), 1);
	json_decref(all);

	if (cloud.netns) {
		int fd = fx_connect_tcp("127.0.0.1", nacos.port);
		cr_assert_lt(fd, 0, "the host reached nacos at 127.0.0.1:%d", nacos.port);
		fd = fx_connect_tcp("127.0.0.1", consul.port);
		cr_assert_lt(fd, 0, "the host reached consul at 127.0.0.1:%d", consul.port);
	}
}
