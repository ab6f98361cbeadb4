/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registration in a real etcd 3.4 (Debian's etcd-server), read back with
 * etcdctl as a go-micro or Kratos consumer's registry would read it.
 */
#include "registry_test.h"

static fx_daemon etcd;
static devkit_ctx *ctx;

static void setup(void)
{
	cr_assert_eq(fx_etcd_start(&etcd, NULL), 0, "etcd did not start");
	ctx = rt_ctx();
}

static void teardown(void)
{
	devkit_ctx_free(ctx);
	fx_daemon_stop(&etcd);
}

TestSuite(etcd, .init = setup, .fini = teardown, .timeout = 120);

static char *url_of(const char *query)
{
	static char url[128];
	snprintf(url, sizeof(url), "etcd://127.0.0.1:%d%s", etcd.port, query ? query : "");
	return url;
}

/* `etcdctl get --prefix PREFIX` output ("" when nothing is there). Caller frees. */
static char *etcd_get(const char *prefix)
{
	const char *args[] = { "get", "--prefix", prefix, NULL };
	fx_run_result r;
	cr_assert_eq(fx_etcdctl(&etcd, args, &r), 0);
	cr_assert_eq(r.exit_code, 0, "etcdctl: %s", r.err);
	char *out = strdup(r.out);
	fx_run_result_free(&r);
	return out;
}

static int key_gone(void *prefix)
{
	char *out = etcd_get(prefix);
	int gone = out[0] == '\0';
	free(out);
	return gone;
}

static int key_present(void *prefix)
{
	return !key_gone(prefix);
}

Test(etcd, go_micro_layout_with_metadata_and_tag)
{
	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8080);
	o.metadata = "version=1.4.2\nzone=dev";
	o.tag = "alice";
	devkit_registration *r = rt_register(ctx, &o, 10000);

	char *out = etcd_get("/micro/registry/orders/");
	cr_assert(strstr(out, "/micro/registry/orders/orders-10.1.2.3-8080\n"), "key: %s", out);
	cr_assert(strstr(out, "\"address\":\"10.1.2.3:8080\""), "value: %s", out);
	cr_assert(strstr(out, "\"version\":\"1.4.2\""), "metadata: %s", out);
	cr_assert(strstr(out, "\"tag\":\"alice\""), "tag: %s", out);
	cr_assert(strstr(out, "\"name\":\"orders\""), "name: %s", out);
	free(out);

	devkit_buf d = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_registration_describe(r, &d), 0);
	cr_assert(strstr(d.ptr, "\"state\": \"registered\""), "%s", d.ptr);
	cr_assert(strstr(d.ptr, "/micro/registry/orders/orders-10.1.2.3-8080"), "%s", d.ptr);
	devkit_buf_dispose(&d);

	/* close: gone at once, not after the lease's TTL */
	cr_assert_eq(devkit_registration_close(r), 0);
	cr_assert(key_gone("/micro/registry/orders/"));
}

Test(etcd, kratos_layout)
{
	devkit_registration_options o = rt_options(url_of("?format=kratos"), "payments", 9000);
	devkit_registration *r = rt_register(ctx, &o, 10000);
	char *out = etcd_get("/microservices/payments/");
	cr_assert(strstr(out, "/microservices/payments/payments-10.1.2.3-9000\n"), "%s", out);
	cr_assert(strstr(out, "\"endpoints\":[\"http://10.1.2.3:9000\"]"), "%s", out);
	free(out);
	devkit_registration_free(r);
	cr_assert(key_gone("/microservices/payments/"));
}

Test(etcd, heartbeats_keep_the_entry_past_its_ttl)
{
	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8081);
	o.ttl_ms = 2000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	fx_sleep_ms(5000); /* 2.5 TTLs */
	cr_assert(key_present("/micro/registry/orders/"));
	devkit_registration_stats st = { .version = DEVKIT_REGISTRATION_STATS_VERSION };
	cr_assert_eq(devkit_registration_get_stats(r, &st), 0);
	cr_assert_geq(st.heartbeats, 4, "heartbeats: %llu", (unsigned long long)st.heartbeats);
	cr_assert_eq(st.registrations, 1);
	devkit_registration_free(r);
}

Test(etcd, revoked_lease_is_registered_again_within_one_heartbeat)
{
	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8082);
	o.ttl_ms = 3000; /* heartbeat every second */
	devkit_registration *r = rt_register(ctx, &o, 10000);
	uint64_t id = devkit_registration_id(r);

	/* What an etcd that lost its data, or an operator, does: drop the lease. */
	const char *list[] = { "lease", "list", NULL };
	fx_run_result lr;
	cr_assert_eq(fx_etcdctl(&etcd, list, &lr), 0);
	char lease[64] = "";
	char *last = strrchr(lr.out, '\n');
	while (last && last > lr.out && last[-1] != '\n')
		last--;
	cr_assert(sscanf(lr.out + strcspn(lr.out, "\n") + 1, "%63s", lease) == 1, "%s", lr.out);
	fx_run_result_free(&lr);
	const char *revoke[] = { "lease", "revoke", lease, NULL };
	fx_run_result rr;
	cr_assert_eq(fx_etcdctl(&etcd, revoke, &rr), 0);
	cr_assert_eq(rr.exit_code, 0, "%s", rr.err);
	fx_run_result_free(&rr);
	long long revoked_at = fx_now_ms();

	devkit_event ev;
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_LOST, 5000, &ev), "no LOST event");
	cr_assert(strstr(ev.message, "expired"), "%s", ev.message);
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_REGISTERED, 5000, &ev));
	cr_assert_lt(fx_now_ms() - revoked_at, 2500, "took %lld ms", fx_now_ms() - revoked_at);
	cr_assert(key_present("/micro/registry/orders/"));
	devkit_registration_stats st = { .version = DEVKIT_REGISTRATION_STATS_VERSION };
	cr_assert_eq(devkit_registration_get_stats(r, &st), 0);
	cr_assert_eq(st.lost, 1);
	cr_assert_eq(st.registrations, 2);
	devkit_registration_free(r);
}

Test(etcd, etcd_restart_keeps_the_registration)
{
	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8083);
	o.ttl_ms = 3000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0);
	/* Heartbeats failed while it was down; within a heartbeat of its return
	 * the entry is there and heartbeats flow again. */
	devkit_registration_stats before = { .version = DEVKIT_REGISTRATION_STATS_VERSION }, after = before;
	cr_assert_eq(devkit_registration_get_stats(r, &before), 0);
	fx_sleep_ms(2500);
	cr_assert_eq(devkit_registration_get_stats(r, &after), 0);
	cr_assert_gt(after.heartbeats, before.heartbeats);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_REGISTERED);
	cr_assert(key_present("/micro/registry/orders/"));
	devkit_registration_free(r);
}

Test(etcd, killed_holder_disappears_after_the_ttl)
{
	rt_holder h;
	cr_assert_eq(rt_holder_start(&h, url_of(NULL), "inventory", "10.1.2.4", 7000, 2000), 0);
	cr_assert(key_present("/micro/registry/inventory/"));
	long long killed_at = fx_now_ms();
	rt_holder_kill(&h);
	cr_assert(rt_eventually(key_gone, "/micro/registry/inventory/", 8000),
		"still registered 8 s after SIGKILL with a 2 s TTL");
	/* ... and not because the holder removed it: it could not. */
	cr_assert_geq(fx_now_ms() - killed_at, 1000);
}

Test(etcd, down_at_start_retries_then_registers)
{
	int port = etcd.port;
	fx_daemon_kill(&etcd);
	char url[64];
	snprintf(url, sizeof(url), "etcd://127.0.0.1:%d", port);
	devkit_registration_options o = rt_options(url, "orders", 8084);
	devkit_registration *r = rt_register(ctx, &o, 0);
	int rc = devkit_registration_wait(r, 1500);
	cr_assert_eq(rc, DEVKIT_ECONNREFUSED, "rc %d", rc);
	const char *msg = devkit_error_last()->message;
	char where[64];
	snprintf(where, sizeof(where), "127.0.0.1:%d/v3/lease/grant", port);
	cr_assert(strstr(msg, where), "the error names the request: %s", msg);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_RETRYING);

	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0);
	cr_assert_eq(devkit_registration_wait(r, 40000), 0, "%s", devkit_error_last()->message);
	cr_assert(key_present("/micro/registry/orders/"));
	devkit_registration_free(r);
}

Test(etcd, events_say_what_and_where)
{
	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8085);
	devkit_registration *r = rt_register(ctx, &o, 0);
	devkit_event ev;
	cr_assert(rt_wait_event(ctx, devkit_registration_id(r), DEVKIT_REGISTRATION_REGISTERED, 10000,
		&ev));
	cr_assert_str_eq(ev.address, "10.1.2.3");
	cr_assert_eq(ev.port, 8085);
	cr_assert_eq(ev.error, 0);
	cr_assert_str_eq(devkit_event_type_name(ev.type), "registration-state");
	devkit_registration_free(r);
	cr_assert(rt_wait_event(ctx, ev.object_id, DEVKIT_REGISTRATION_DEREGISTERED, 5000, &ev));
}

Test(etcd, bad_options_are_refused_before_any_traffic)
{
	devkit_registration *r = NULL;
	devkit_registration_options o = rt_options("etcd://127.0.0.1:1", "orders", 0);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "port 0"), "%s", devkit_error_last()->message);

	o = rt_options("gopher://127.0.0.1:1", "orders", 80);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "gopher"));

	o = rt_options("etcd://root:hunter2@127.0.0.1:1", "orders", 80);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert_null(strstr(devkit_error_last()->message, "hunter2"), "the password leaked");

	o = rt_options(url_of(NULL), "orders", 80);
	o.metadata = "version=1\nno equals sign";
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "line 2"), "%s", devkit_error_last()->message);

	o = rt_options(url_of("?format=spring"), "orders", 80);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "go-micro or kratos"));
	cr_assert_null(r);
}

Test(etcd, authentication)
{
	const char *add[] = { "user", "add", "root:s3cret-pw", NULL };
	const char *enable[] = { "auth", "enable", NULL };
	fx_run_result res;
	cr_assert_eq(fx_etcdctl(&etcd, add, &res), 0);
	cr_assert_eq(res.exit_code, 0, "%s", res.err);
	fx_run_result_free(&res);
	cr_assert_eq(fx_etcdctl(&etcd, enable, &res), 0);
	cr_assert_eq(res.exit_code, 0, "%s", res.err);
	fx_run_result_free(&res);

	devkit_registration_options o = rt_options(url_of(NULL), "orders", 8086);
	o.username = "root";
	o.password = "wrong-pw";
	devkit_registration *bad = rt_register(ctx, &o, 0);
	cr_assert_eq(devkit_registration_wait(bad, 5000), DEVKIT_EAUTH);
	cr_assert_null(strstr(devkit_error_last()->message, "wrong-pw"));
	cr_assert_eq(devkit_registration_get_state(bad), DEVKIT_REGISTRATION_FAILED);
	devkit_registration_free(bad);

	o.password = "s3cret-pw";
	devkit_registration *r = rt_register(ctx, &o, 10000);
	devkit_buf d = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_registration_describe(r, &d), 0);
	cr_assert_null(strstr(d.ptr, "s3cret-pw"));
	devkit_buf_dispose(&d);
	cr_assert_eq(devkit_registration_close(r), 0);
}
