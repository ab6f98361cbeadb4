/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registration with a Consul agent. The agent is a PROTOCOL FAKE
 * (tests/fixtures/consul_fake.py): recent Consul is not open source and no
 * agent binary can be had here (see consul_fixture.h for how the fake
 * differs, mainly that it honours a DeregisterCriticalServiceAfter below
 * Consul's one-minute floor). Services are read back as consumers read them,
 * GET /v1/health/service/NAME?passing.
 */
#include "registry_test.h"

static fx_daemon consul;
static devkit_ctx *ctx;
static char url[128];

static void start(const char *token)
{
	cr_assert_eq(fx_consul_start(&consul, NULL, token), 0, "the Consul fake did not start");
	snprintf(url, sizeof(url), "consul://127.0.0.1:%d", consul.port);
	ctx = rt_ctx();
}

static void setup(void)
{
	start(NULL);
}

static void teardown(void)
{
	devkit_ctx_free(ctx);
	fx_daemon_stop(&consul);
}

TestSuite(consul, .init = setup, .fini = teardown, .timeout = 120);

static int passing_count(void)
{
	json_t *h = fx_consul_health(&consul, "orders", 1);
	int n = h ? (int)json_array_size(h) : 0;
	json_decref(h);
	return n;
}

static int gone(void *unused)
{
	(void)unused;
	json_t *h = fx_consul_health(&consul, "orders", 0);
	int n = h ? (int)json_array_size(h) : 0;
	json_decref(h);
	return n == 0;
}

Test(consul, registered_service_is_healthy_with_tag_and_meta)
{
	devkit_registration_options o = rt_options(url, "orders", 8080);
	o.metadata = "version=9";
	o.tag = "dave";
	o.ttl_ms = 3000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	json_t *h = fx_consul_health(&consul, "orders", 1);
	cr_assert_eq(json_array_size(h), 1);
	json_t *svc = json_object_get(json_array_get(h, 0), "Service");
	cr_assert_str_eq(json_string_value(json_object_get(svc, "Address")), "10.1.2.3");
	cr_assert_eq(json_integer_value(json_object_get(svc, "Port")), 8080);
	cr_assert_str_eq(json_string_value(json_array_get(json_object_get(svc, "Tags"), 0)), "dave");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(svc, "Meta"), "version")),
		"9");
	json_decref(h);
	/* The TTL check stays passing across several TTLs. */
	fx_sleep_ms(4000);
	cr_assert_eq(passing_count(), 1);
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(gone(NULL));
}

Test(consul, agent_restart_is_registered_again_within_one_heartbeat)
{
	devkit_registration_options o = rt_options(url, "orders", 8081);
	o.ttl_ms = 3000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(fx_consul_restart(&consul, FX_CONSUL_START_TIMEOUT_MS), 0);
	devkit_event ev;
	cr_assert(rt_wait_event(ctx, devkit_registration_id(r), DEVKIT_REGISTRATION_LOST, 3000, &ev));
	cr_assert(strstr(ev.message, "Unknown check"), "%s", ev.message);
	cr_assert(rt_wait_event(ctx, devkit_registration_id(r), DEVKIT_REGISTRATION_REGISTERED, 3000,
		NULL));
	cr_assert_eq(passing_count(), 1);
	devkit_registration_free(r);
}

Test(consul, killed_holder_goes_critical_then_away)
{
	rt_holder h;
	cr_assert_eq(rt_holder_start(&h, url, "orders", "10.1.2.4", 7000, 1000), 0);
	cr_assert_eq(passing_count(), 1);
	rt_holder_kill(&h);
	cr_assert(rt_eventually(gone, NULL, 6000), "still there 6 s after SIGKILL");
}

static void setup_acl(void)
{
	/* Criterion ran the suite\'s .init first: replace its server. */
	teardown();
	start("acl-t0ken-123");
}

Test(consul, acl_token, .init = setup_acl)
{
	devkit_registration_options o = rt_options(url, "orders", 8082);
	o.token = "not-the-token";
	devkit_registration *bad = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(bad, 5000), DEVKIT_EFORBIDDEN);
	cr_assert(strstr(devkit_error_last()->message, "403"), "%s", devkit_error_last()->message);
	cr_assert_null(strstr(devkit_error_last()->message, "not-the-token"));
	devkit_registration_free(bad);

	o.token = "acl-t0ken-123";
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(passing_count(), 1);
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(gone(NULL));
}
