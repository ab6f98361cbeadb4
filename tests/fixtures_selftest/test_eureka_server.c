/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the Eureka fixture: a real Spring Cloud Netflix Eureka Server that
 * answers the REST operations exactly as the one in the cloud does (the
 * Netflix wiki's "Eureka REST operations", without the /v2 that Spring Cloud
 * drops), driven by curl the way a Eureka client and a cloud consumer drive
 * it, and tuned so that what the registry tests rely on happens quickly:
 * leases expire within seconds, a restart forgets everything.
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eureka_fixture.h"
#include "net_fixture.h"
#include "proc_fixture.h"

#define APP "DEVKIT-SELFTEST"

static fx_daemon eureka;
static char netns[64];

static void teardown(void)
{
	fx_daemon_stop(&eureka);
	if (netns[0]) {
		const char *argv[] = { "ip", "netns", "del", netns, NULL };
		fx_run_result r;
		if (fx_run(argv, NULL, NULL, 10000, &r) == 0)
			fx_run_result_free(&r);
		netns[0] = '\0';
	}
}

TestSuite(eureka_fixture, .fini = teardown, .timeout = 180);

static void start_server(void)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_eureka_start(&eureka, NULL), 0, "the Eureka server did not start");
	cr_log_info("Eureka server ready on port %d in %lld ms", eureka.port, fx_now_ms() - t0);
}

/* The body a Eureka client (com.netflix.discovery.DiscoveryClient) POSTs to
 * register: an InstanceInfo wrapped in {"instance": ...}, with the Jackson
 * codec's "$"/"@enabled" port form and the "@class" of the data centre. The
 * lease says how often the client renews and how long the server waits. */
static char *instance_json(const char *id, int port, int renew_secs, int duration_secs)
{
	json_t *inst = json_pack(
		"{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s,"
		" s:{s:i, s:s}, s:{s:i, s:s},"
		" s:{s:s, s:s}, s:{s:i, s:i}, s:{s:s, s:s}}",
		"instanceId", id, "hostName", "127.0.0.1", "app", APP, "ipAddr", "127.0.0.1",
		"status", "UP", "overriddenStatus", "UNKNOWN",
		/* Spring Cloud consumers look instances up by VIP address (the
		 * lower-case service id), not by app name. */
		"vipAddress", "devkit-selftest", "secureVipAddress", "devkit-selftest",
		"port", "$", port, "@enabled", "true",
		"securePort", "$", 443, "@enabled", "false",
		"dataCenterInfo", "@class", "com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo",
		"name", "MyOwn",
		"leaseInfo", "renewalIntervalInSecs", renew_secs, "durationInSecs", duration_secs,
		"metadata", "devkit.owner", "selftest", "devkit.tag", id);
	cr_assert_not_null(inst, "json_pack");
	json_t *root = json_pack("{s:o}", "instance", inst);
	char *s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return s;
}

static int do_register(const char *id, int port, int renew_secs, int duration_secs)
{
	char *body = instance_json(id, port, renew_secs, duration_secs);
	fx_run_result r;
	int status = fx_eureka_http(&eureka, "POST", "/apps/" APP, body, &r);
	free(body);
	fx_run_result_free(&r);
	return status;
}

static int do_renew(const char *id)
{
	char path[200];
	snprintf(path, sizeof(path), "/apps/%s/%s", APP, id);
	fx_run_result r;
	int status = fx_eureka_http(&eureka, "PUT", path, NULL, &r);
	fx_run_result_free(&r);
	return status;
}

static int do_cancel(const char *id)
{
	char path[200];
	snprintf(path, sizeof(path), "/apps/%s/%s", APP, id);
	fx_run_result r;
	int status = fx_eureka_http(&eureka, "DELETE", path, NULL, &r);
	fx_run_result_free(&r);
	return status;
}

/* The instance `id` of APP as a consumer reads it (GET /eureka/apps/APP), a
 * new reference, or NULL if it is not listed (or the app is unknown: 404). */
static json_t *find_instance(const char *id)
{
	fx_run_result r;
	int status = fx_eureka_apps(&eureka, APP, &r);
	json_t *found = NULL;
	if (status == 200) {
		json_error_t err;
		json_t *root = json_loads(r.out, 0, &err);
		cr_assert_not_null(root, "GET /apps/%s is not JSON: %s (%s)", APP, err.text, r.out);
		json_t *list = json_object_get(json_object_get(root, "application"), "instance");
		size_t i;
		json_t *inst;
		json_array_foreach(list, i, inst)
		{
			if (strcmp(json_string_value(json_object_get(inst, "instanceId")), id) == 0)
				found = json_incref(inst);
		}
		json_decref(root);
	} else {
		cr_assert_eq(status, 404, "GET /apps/%s: HTTP %d", APP, status);
	}
	fx_run_result_free(&r);
	return found;
}

static int is_listed(const char *id)
{
	json_t *inst = find_instance(id);
	json_decref(inst);
	return inst != NULL;
}

Test(eureka_fixture, starts_and_lists_no_application)
{
	start_server();
	char want[64];
	snprintf(want, sizeof(want), "http://127.0.0.1:%d/eureka", eureka.port);
	cr_assert_str_eq(fx_eureka_url(&eureka), want);

	fx_run_result r;
	cr_assert_eq(fx_eureka_apps(&eureka, NULL, &r), 200, "GET /eureka/apps: %s", r.err);
	json_t *root = json_loads(r.out, 0, NULL);
	cr_assert_not_null(root, "not JSON: %s", r.out);
	json_t *apps = json_object_get(root, "applications");
	cr_assert(json_is_object(apps), "no \"applications\": %s", r.out);
	cr_assert_eq(json_array_size(json_object_get(apps, "application")), 0,
		"a fresh server lists applications: %s", r.out);
	json_decref(root);
	fx_run_result_free(&r);
}

Test(eureka_fixture, register_shows_instance_with_metadata)
{
	start_server();
	cr_assert_eq(do_register("selftest-1", 18080, 30, 90), 204, "register must answer 204");

	json_t *inst = find_instance("selftest-1");
	cr_assert_not_null(inst, "the registered instance is not listed");
	cr_assert_str_eq(json_string_value(json_object_get(inst, "app")), APP);
	cr_assert_str_eq(json_string_value(json_object_get(inst, "status")), "UP");
	cr_assert_str_eq(json_string_value(json_object_get(inst, "ipAddr")), "127.0.0.1");
	cr_assert_str_eq(json_string_value(json_object_get(inst, "hostName")), "127.0.0.1");
	json_t *port = json_object_get(inst, "port");
	cr_assert_eq(json_integer_value(json_object_get(port, "$")), 18080);
	cr_assert_str_eq(json_string_value(json_object_get(port, "@enabled")), "true");
	json_t *meta = json_object_get(inst, "metadata");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "devkit.owner")), "selftest");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "devkit.tag")), "selftest-1");
	json_t *lease = json_object_get(inst, "leaseInfo");
	cr_assert_eq(json_integer_value(json_object_get(lease, "durationInSecs")), 90);
	json_decref(inst);

	/* The other ways a consumer finds it: the full list, and the VIP address
	 * that Spring Cloud's EurekaDiscoveryClient asks for. */
	fx_run_result r;
	cr_assert_eq(fx_eureka_apps(&eureka, NULL, &r), 200);
	cr_assert(strstr(r.out, "\"selftest-1\"") != NULL, "not in GET /apps: %s", r.out);
	fx_run_result_free(&r);
	cr_assert_eq(fx_eureka_http(&eureka, "GET", "/vips/devkit-selftest", NULL, &r), 200);
	cr_assert(strstr(r.out, "\"selftest-1\"") != NULL, "not in GET /vips: %s", r.out);
	fx_run_result_free(&r);
}

Test(eureka_fixture, renew_and_cancel)
{
	start_server();
	cr_assert_eq(do_register("selftest-2", 18081, 30, 90), 204);
	cr_assert_eq(do_renew("selftest-2"), 200, "renew of a registered instance");
	cr_assert_eq(do_renew("no-such-instance"), 404, "renew of an unknown instance");
	cr_assert(is_listed("selftest-2"));

	cr_assert_eq(do_cancel("selftest-2"), 200, "cancel");
	cr_assert_not(is_listed("selftest-2"), "listed after cancel");
	/* What a client sees after the registry lost it: 404, its cue to
	 * register again. */
	cr_assert_eq(do_renew("selftest-2"), 404, "renew after cancel");
	cr_assert_eq(do_cancel("selftest-2"), 404, "second cancel");
}

Test(eureka_fixture, unrenewed_lease_expires_within_seconds)
{
	start_server();
	/* Both with a 2 s lease; only "kept" is renewed (every 500 ms), so the
	 * eviction is the lease's doing and not a sweep of everything. */
	cr_assert_eq(do_register("expiring", 18082, 1, 2), 204);
	cr_assert_eq(do_register("kept", 18083, 1, 2), 204);
	long long t0 = fx_now_ms();
	cr_assert(is_listed("expiring"));

	long long gone_at = 0;
	while (fx_now_ms() - t0 < 15000) {
		cr_assert_eq(do_renew("kept"), 200, "renewing \"kept\"");
		if (!is_listed("expiring")) {
			gone_at = fx_now_ms() - t0;
			break;
		}
		fx_sleep_ms(500);
	}
	cr_assert(gone_at > 0, "an unrenewed 2 s lease was still listed after 15 s");
	/* Not before the lease ran out. */
	cr_assert_geq(gone_at, 1500, "evicted after %lld ms, before its 2 s lease ended", gone_at);
	cr_log_info("unrenewed 2 s lease evicted after %lld ms", gone_at);
	cr_assert(is_listed("kept"), "a renewed instance was evicted too");
	cr_assert_eq(do_renew("expiring"), 404, "renew after eviction");
}

Test(eureka_fixture, restart_forgets_every_instance)
{
	start_server();
	cr_assert_eq(do_register("selftest-3", 18084, 30, 90), 204);
	cr_assert(is_listed("selftest-3"));
	int port = eureka.port;

	long long t0 = fx_now_ms();
	cr_assert_eq(fx_eureka_restart(&eureka, FX_EUREKA_START_TIMEOUT_MS), 0, "restart");
	cr_log_info("Eureka server restarted in %lld ms", fx_now_ms() - t0);
	cr_assert_eq(eureka.port, port, "a restart keeps the port");
	cr_assert_not(is_listed("selftest-3"), "an instance survived the restart");
	/* A client's next heartbeat learns it and must register again. */
	cr_assert_eq(do_renew("selftest-3"), 404, "renew after restart");
	cr_assert_eq(do_register("selftest-3", 18084, 30, 90), 204, "register again");
	cr_assert(is_listed("selftest-3"));
}

Test(eureka_fixture, basic_auth_when_asked)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_eureka_start_auth(&eureka, NULL, "devkit", "s3cret:/@"), 0);
	cr_log_info("Eureka server (auth) ready in %lld ms", fx_now_ms() - t0);

	/* Without credentials: refused. */
	char url[200], port[16];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/eureka/apps", eureka.port);
	snprintf(port, sizeof(port), "%d", eureka.port);
	const char *argv[] = { "curl", "-s", "--noproxy", "*", "-o", "/dev/null", "-w",
		"%{http_code}", url, NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 15000, &r), 0);
	cr_assert_str_eq(r.out, "401", "without credentials: HTTP %s", r.out);
	fx_run_result_free(&r);

	/* With them (fx_eureka_http sends what the server was started with). */
	cr_assert_eq(fx_eureka_apps(&eureka, NULL, &r), 200);
	fx_run_result_free(&r);
	cr_assert_eq(do_register("selftest-auth", 18085, 30, 90), 204);
	cr_assert(is_listed("selftest-auth"));
}

/* The cloud case: the server inside a network namespace is reachable there,
 * and not from the host. */
Test(eureka_fixture, runs_inside_a_namespace)
{
	snprintf(netns, sizeof(netns), "devkit-eureka-%d", (int)getpid());
	const char *add[] = { "ip", "netns", "add", netns, NULL };
	fx_run_result r;
	if (fx_run(add, NULL, NULL, 10000, &r) != 0 || r.exit_code != 0) {
		char why[256];
		snprintf(why, sizeof(why), "%s", r.err ? r.err : "");
		fx_run_result_free(&r);
		netns[0] = '\0';
		cr_skip_test("cannot create a network namespace here: %s", why);
	}
	fx_run_result_free(&r);
	const char *up[] = { "ip", "netns", "exec", netns, "ip", "link", "set", "lo", "up", NULL };
	cr_assert_eq(fx_run(up, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "lo up: %s", r.err);
	fx_run_result_free(&r);

	long long t0 = fx_now_ms();
	cr_assert_eq(fx_eureka_start(&eureka, netns), 0, "start inside %s", netns);
	cr_log_info("Eureka server in %s ready in %lld ms", netns, fx_now_ms() - t0);
	cr_assert_str_eq(eureka.netns, netns);

	cr_assert_eq(do_register("selftest-ns", 18086, 30, 90), 204);
	cr_assert(is_listed("selftest-ns"), "not listed when read inside the namespace");

	int fd = fx_connect_tcp("127.0.0.1", eureka.port);
	if (fd >= 0)
		close(fd);
	cr_assert(fd < 0, "the host reached a server that runs inside %s", netns);
}
