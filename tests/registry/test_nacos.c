/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registration in Nacos. The server is a PROTOCOL FAKE
 * (tests/fixtures/nacos_fake.py): no Nacos server can be had from the
 * registries this machine reaches (see nacos_fixture.h for what was tried and
 * how the fake differs). Instances are read back the way a consumer does,
 * GET /nacos/v1/ns/instance/list.
 */
#include "registry_test.h"

static fx_daemon nacos;
static devkit_ctx *ctx;
static char url[160];

static void start(const fx_nacos_options *o)
{
	cr_assert_eq(fx_nacos_start_opts(&nacos, o), 0, "the Nacos fake did not start");
	snprintf(url, sizeof(url), "nacos://127.0.0.1:%d", nacos.port);
	ctx = rt_ctx();
}

static void setup(void)
{
	fx_nacos_options o = { 0 };
	start(&o);
}

static void teardown(void)
{
	devkit_ctx_free(ctx);
	fx_daemon_stop(&nacos);
}

TestSuite(nacos, .init = setup, .fini = teardown, .timeout = 120);

/* The consumer's view: GET /nacos/v1/ns/instance/list. Caller frees. */
static char *instance_list(const char *query)
{
	char path[300];
	snprintf(path, sizeof(path), "/nacos/v1/ns/instance/list?%s", query);
	fx_run_result r;
	int status = fx_nacos_http(&nacos, "GET", path, NULL, &r);
	char *out = status == 200 ? strdup(r.out) : strdup("");
	fx_run_result_free(&r);
	return out;
}

static int orders_gone(void *unused)
{
	(void)unused;
	char *out = instance_list("serviceName=orders");
	int gone = !strstr(out, "\"ip\"");
	free(out);
	return gone;
}

static int orders_present(void *unused)
{
	return !orders_gone(unused);
}

Test(nacos, registered_instance_is_listed_with_metadata)
{
	devkit_registration_options o = rt_options(url, "orders", 8080);
	o.metadata = "version=2.0.1";
	o.tag = "carol";
	devkit_registration *r = rt_register(ctx, &o, 10000);
	char *out = instance_list("serviceName=orders");
	cr_assert(strstr(out, "\"ip\": \"10.1.2.3\"") || strstr(out, "\"ip\":\"10.1.2.3\""), "%s", out);
	cr_assert(strstr(out, "8080"), "%s", out);
	cr_assert(strstr(out, "carol"), "%s", out);
	cr_assert(strstr(out, "2.0.1"), "%s", out);
	free(out);
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(orders_gone(NULL));
}

Test(nacos, namespace_group_and_cluster_from_the_url)
{
	char u[256];
	snprintf(u, sizeof(u), "%s?namespace=dev&group=PAY&cluster=SH", url);
	devkit_registration_options o = rt_options(u, "orders", 8081);
	devkit_registration *r = rt_register(ctx, &o, 10000);
	json_t *inst = fx_nacos_instance(&nacos, "PAY@@orders", "10.1.2.3", 8081);
	cr_assert_not_null(inst);
	cr_assert_str_eq(json_string_value(json_object_get(inst, "namespaceId")), "dev");
	cr_assert_str_eq(json_string_value(json_object_get(inst, "clusterName")), "SH");
	cr_assert(json_is_true(json_object_get(inst, "ephemeral")));
	json_decref(inst);
	devkit_registration_free(r);
}

Test(nacos, every_api_version_registers_beats_and_removes)
{
	const char *apis[] = { "v1", "v2", "v3" };
	for (int i = 0; i < 3; i++) {
		char u[256];
		snprintf(u, sizeof(u), "%s?api=%s", url, apis[i]);
		devkit_registration_options o = rt_options(u, "orders", 8090 + i);
		o.heartbeat_ms = 300;
		devkit_registration *r = rt_register(ctx, &o, 10000);
		fx_sleep_ms(1000);
		json_t *inst = fx_nacos_instance(&nacos, "orders", "10.1.2.3", 8090 + i);
		cr_assert_not_null(inst, "api %s: not registered", apis[i]);
		cr_assert_geq(json_integer_value(json_object_get(inst, "beats")), 2, "api %s: no beats",
			apis[i]);
		json_decref(inst);
		cr_assert_eq(devkit_registration_close(r), 0, "api %s: %s", apis[i],
			devkit_error_last()->message);
		cr_assert_null(fx_nacos_instance(&nacos, "orders", "10.1.2.3", 8090 + i),
			"api %s: still there after close", apis[i]);
	}
}

Test(nacos, restart_comes_back_within_one_heartbeat_with_its_metadata)
{
	devkit_registration_options o = rt_options(url, "orders", 8082);
	o.metadata = "version=7";
	o.heartbeat_ms = 1000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(fx_nacos_restart(&nacos, FX_NACOS_START_TIMEOUT_MS), 0);
	cr_assert(rt_eventually(orders_present, NULL, 2500), "not back within a heartbeat");
	char *out = instance_list("serviceName=orders");
	cr_assert(strstr(out, "version"), "metadata lost: %s", out);
	free(out);
	devkit_registration_free(r);
}

Test(nacos, server_errors_are_retried)
{
	cr_assert_eq(fx_nacos_fail_next(&nacos, 2), 0);
	devkit_registration_options o = rt_options(url, "orders", 8083);
	devkit_registration *r = rt_register(ctx, &o, 0);
	devkit_event ev;
	cr_assert(rt_wait_event(ctx, devkit_registration_id(r), DEVKIT_REGISTRATION_RETRYING, 5000,
		&ev));
	cr_assert(strstr(ev.message, "HTTP 500"), "%s", ev.message);
	cr_assert_eq(devkit_registration_wait(r, 10000), 0);
	cr_assert(orders_present(NULL));
	devkit_registration_free(r);
}

Test(nacos, killed_holder_is_removed_after_its_ttl)
{
	rt_holder h;
	cr_assert_eq(rt_holder_start(&h, url, "orders", "10.1.2.4", 7000, 1000), 0);
	cr_assert(orders_present(NULL));
	rt_holder_kill(&h);
	/* preserved.ip.delete.timeout is twice the TTL */
	cr_assert(rt_eventually(orders_gone, NULL, 6000), "still listed 6 s after SIGKILL");
}

static void setup_auth(void)
{
	/* Criterion ran the suite\'s .init first: replace its server. */
	teardown();
	fx_nacos_options o = { .auth = "nacos:n4cos-pw", .token_ttl_s = 2 };
	start(&o);
}

Test(nacos, login_and_token_renewal, .init = setup_auth)
{
	devkit_registration_options o = rt_options(url, "orders", 8084);
	o.username = "nacos";
	o.password = "wrong";
	devkit_registration *bad = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(bad, 5000), DEVKIT_EAUTH);
	cr_assert(strstr(devkit_error_last()->message, "login as nacos"), "%s",
		devkit_error_last()->message);
	devkit_registration_free(bad);

	o.password = "n4cos-pw";
	o.heartbeat_ms = 500;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	/* The token lives 2 s: after 4 s the entry is still there because the
	 * library logged in again when the server called the token expired. */
	fx_sleep_ms(4000);
	cr_assert(orders_present(NULL));
	cr_assert_eq(devkit_registration_wait(r, 3000), 0);
	devkit_buf d = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_registration_describe(r, &d), 0);
	cr_assert_null(strstr(d.ptr, "n4cos-pw"));
	devkit_buf_dispose(&d);
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(orders_gone(NULL));
}
