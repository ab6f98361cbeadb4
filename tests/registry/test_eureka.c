/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registration in a real Eureka server (Spring Cloud Netflix, built from
 * Maven Central by scripts/build_fixtures.sh), read back with
 * GET /eureka/apps/APP as any Eureka consumer reads it.
 */
#include "registry_test.h"

static fx_daemon eureka;
static devkit_ctx *ctx;
static char url[128];

static void start(const char *user, const char *password)
{
	int rc = user ? fx_eureka_start_auth(&eureka, NULL, user, password) :
		fx_eureka_start(&eureka, NULL);
	cr_assert_eq(rc, 0, "the Eureka server did not start");
	snprintf(url, sizeof(url), "eureka://127.0.0.1:%d/eureka", eureka.port);
	ctx = rt_ctx();
}

static void setup(void)
{
	start(NULL, NULL);
}

static void teardown(void)
{
	devkit_ctx_free(ctx);
	fx_daemon_stop(&eureka);
}

TestSuite(eureka, .init = setup, .fini = teardown, .timeout = 180);

/* GET /eureka/apps/APP: the body, or NULL when Eureka knows no such app (404). */
static char *apps(const char *app)
{
	fx_run_result r;
	int status = fx_eureka_apps(&eureka, app, &r);
	char *out = status == 200 ? strdup(r.out) : NULL;
	fx_run_result_free(&r);
	return out;
}

static int app_gone(void *app)
{
	char *out = apps(app);
	int gone = !out || !strstr(out, "\"instanceId\"");
	free(out);
	return gone;
}

static int app_present(void *app)
{
	return !app_gone(app);
}

Test(eureka, registered_instance_is_what_consumers_read)
{
	devkit_registration_options o = rt_options(url, "orders", 8080);
	o.metadata = "version=3.1\nzone=dev";
	o.tag = "bob";
	devkit_registration *r = rt_register(ctx, &o, 15000);

	char *out = apps("ORDERS");
	cr_assert_not_null(out, "GET /eureka/apps/ORDERS: not found");
	cr_assert(strstr(out, "\"instanceId\":\"10.1.2.3:orders:8080\""), "%s", out);
	cr_assert(strstr(out, "\"ipAddr\":\"10.1.2.3\""), "%s", out);
	cr_assert(strstr(out, "\"$\":8080"), "%s", out);
	cr_assert(strstr(out, "\"status\":\"UP\""), "%s", out);
	cr_assert(strstr(out, "\"vipAddress\":\"orders\""), "%s", out);
	cr_assert(strstr(out, "\"version\":\"3.1\""), "%s", out);
	cr_assert(strstr(out, "\"tag\":\"bob\""), "%s", out);
	free(out);

	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(app_gone("ORDERS"), "still listed after close");
}

Test(eureka, server_restart_is_registered_again_within_one_heartbeat)
{
	devkit_registration_options o = rt_options(url, "orders", 8081);
	o.heartbeat_ms = 1000;
	o.ttl_ms = 5000;
	devkit_registration *r = rt_register(ctx, &o, 15000);
	uint64_t id = devkit_registration_id(r);

	cr_assert_eq(fx_eureka_restart(&eureka, FX_EUREKA_START_TIMEOUT_MS), 0);
	long long back_at = fx_now_ms();
	devkit_event ev;
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_LOST, 10000, &ev),
		"the renew's 404 was not seen as a forgotten entry");
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_REGISTERED, 10000, &ev));
	/* Within one heartbeat of the server answering again (plus the request). */
	cr_assert_lt(fx_now_ms() - back_at, 2500, "took %lld ms", fx_now_ms() - back_at);
	cr_assert(app_present("ORDERS"));
	devkit_registration_free(r);
}

Test(eureka, killed_holder_is_evicted_after_its_lease)
{
	rt_holder h;
	cr_assert_eq(rt_holder_start(&h, url, "inventory", "10.1.2.4", 7000, 2000), 0);
	cr_assert(app_present("INVENTORY"));
	rt_holder_kill(&h);
	cr_assert(rt_eventually(app_gone, "INVENTORY", 10000),
		"still listed 10 s after SIGKILL with a 2 s lease");
}

Test(eureka, down_at_start_retries_then_registers)
{
	fx_daemon_kill(&eureka);
	devkit_registration_options o = rt_options(url, "orders", 8082);
	devkit_registration *r = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(r, 1500), DEVKIT_ECONNREFUSED);
	cr_assert(strstr(devkit_error_last()->message, "/eureka/apps/ORDERS"), "%s",
		devkit_error_last()->message);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_RETRYING);
	cr_assert_eq(fx_eureka_restart(&eureka, FX_EUREKA_START_TIMEOUT_MS), 0);
	cr_assert_eq(devkit_registration_wait(r, 40000), 0, "%s", devkit_error_last()->message);
	cr_assert(app_present("ORDERS"));
	devkit_registration_free(r);
}

Test(eureka, wrong_path_fails_with_a_hint)
{
	char bad[128];
	snprintf(bad, sizeof(bad), "eureka://127.0.0.1:%d/not-eureka", eureka.port);
	devkit_registration_options o = rt_options(bad, "orders", 8083);
	devkit_registration *r = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(r, 10000), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "right path"), "%s",
		devkit_error_last()->message);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_FAILED);
	devkit_registration_free(r);
}

static void setup_auth(void)
{
	/* Criterion ran the suite\'s .init first: replace its server. */
	teardown();
	start("eureka-user", "eureka-s3cret");
}

Test(eureka, basic_auth, .init = setup_auth)
{
	devkit_registration_options o = rt_options(url, "orders", 8084);
	o.username = "eureka-user";
	o.password = "not-the-password";
	devkit_registration *bad = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(bad, 10000), DEVKIT_EAUTH);
	cr_assert_null(strstr(devkit_error_last()->message, "not-the-password"));
	devkit_registration_free(bad);

	o.password = "eureka-s3cret";
	devkit_registration *r = rt_register(ctx, &o, 15000);
	cr_assert(app_present("ORDERS"));
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(app_gone("ORDERS"));
}
