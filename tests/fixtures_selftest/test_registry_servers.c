/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Proves the registry server fixtures with the clients tests will trust them
 * for: kazoo (and dubbo_consumer.py built on it) against ZooKeeper, etcdctl
 * against etcd; on the host's loopback and inside a cloud namespace, where
 * the host must not reach them. Start-up times are printed for the record.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cloud_fixture.h"
#include "etcd_fixture.h"
#include "fixtures.h"
#include "zk_fixture.h"

static fx_daemon zk;
static fx_daemon etcd;
static fx_cloud cloud;

static void teardown(void)
{
	fx_daemon_stop(&zk);
	fx_daemon_stop(&etcd);
	fx_cloud_stop(&cloud);
}

TestSuite(registry_servers, .fini = teardown, .timeout = 300);

static void start_zk(const char *netns)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_zk_start(&zk, netns), 0, "ZooKeeper did not start");
	fprintf(stderr, "[timing] ZooKeeper %s: serving after %lld ms (port %d)\n",
		netns ? netns : "on the host", fx_now_ms() - t0, zk.port);
}

static void start_etcd(const char *netns)
{
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_etcd_start(&etcd, netns), 0, "etcd did not start");
	fprintf(stderr, "[timing] etcd %s: healthy after %lld ms (port %d)\n",
		netns ? netns : "on the host", fx_now_ms() - t0, etcd.port);
}

/* Run a kazoo snippet, assert it exited 0, and return its stdout (static). */
static const char *kazoo(const char *code)
{
	static char out[8192];
	fx_run_result r;
	cr_assert_eq(fx_zk_python(&zk, code, &r), 0, "cannot run python3");
	cr_assert_eq(r.exit_code, 0, "kazoo snippet failed (exit %d): %s", r.exit_code, r.err);
	snprintf(out, sizeof(out), "%s", r.out);
	fx_run_result_free(&r);
	return out;
}

static const char *etcdctl(const char *const args[])
{
	static char out[8192];
	fx_run_result r;
	cr_assert_eq(fx_etcdctl(&etcd, args, &r), 0, "cannot run etcdctl");
	cr_assert_eq(r.exit_code, 0, "etcdctl %s failed (exit %d): %s", args[0], r.exit_code, r.err);
	snprintf(out, sizeof(out), "%s", r.out);
	fx_run_result_free(&r);
	return out;
}

static void check_zk_create_read(void)
{
	const char *out = kazoo(
		"zk.ensure_path('/selftest')\n"
		"zk.set('/selftest', b'persisted')\n"
		"print(zk.get('/selftest')[0].decode())\n");
	cr_assert_str_eq(out, "persisted\n");
}

Test(registry_servers, zookeeper_on_host)
{
	start_zk(NULL);
	char answer[64];
	cr_assert_eq(fx_zk_4lw(&zk, "ruok", answer, sizeof(answer)), 0);
	cr_assert_str_eq(answer, "imok");
	check_zk_create_read();

	/* A crash and a restart keep the port and the persistent data. */
	int port = zk.port;
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_zk_restart(&zk, FX_ZK_START_TIMEOUT_MS), 0, "restart failed");
	fprintf(stderr, "[timing] ZooKeeper restart: serving after %lld ms\n", fx_now_ms() - t0);
	cr_assert_eq(zk.port, port);
	const char *out = kazoo("print(zk.get('/selftest')[0].decode())\n");
	cr_assert_str_eq(out, "persisted\n");
}

/* The consumer decodes a provider node written the way Dubbo's
 * ZookeeperRegistry writes it (URLEncoder over the whole URL), and tells an
 * ephemeral node from a persistent one. */
Test(registry_servers, dubbo_consumer_reads_provider_nodes)
{
	start_zk(NULL);
	kazoo("import urllib.parse\n"
		"url = ('dubbo://127.0.0.1:20880/com.example.Greeter?anyhost=false'\n"
		"       '&application=greeter&dubbo.tag=gray&interface=com.example.Greeter'\n"
		"       '&methods=hello,bye&side=provider&zone=a b')\n"
		"name = urllib.parse.quote_plus(url, safe='.-*_')\n"
		"zk.ensure_path('/dubbo/com.example.Greeter/providers')\n"
		"zk.create('/dubbo/com.example.Greeter/providers/' + name, b'')\n");
	const char *args[] = { "providers", "com.example.Greeter", NULL };
	fx_run_result r;
	cr_assert_eq(fx_dubbo_consumer(&zk, args, &r), 0);
	cr_assert_eq(r.exit_code, 0, "consumer failed: %s", r.err);
	cr_assert_not_null(strstr(r.out, "\"protocol\": \"dubbo\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"host\": \"127.0.0.1\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"port\": 20880"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"path\": \"com.example.Greeter\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"dubbo.tag\": \"gray\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"methods\": \"hello,bye\""), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"zone\": \"a b\""), "%s", r.out);
	fx_run_result_free(&r);

	/* kazoo's session ended with its snippet: the node above is persistent
	 * (created without ephemeral=True), so it is still there. */
	const char *gone[] = { "wait-gone", "com.example.Greeter", "0.2", NULL };
	cr_assert_eq(fx_dubbo_consumer(&zk, gone, &r), 0);
	cr_assert_eq(r.exit_code, 1, "a persistent provider node cannot be gone");
	fx_run_result_free(&r);

	const char *eph[] = { "ephemeral", "/dubbo/com.example.Greeter/providers", NULL };
	cr_assert_eq(fx_dubbo_consumer(&zk, eph, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert_not_null(strstr(r.out, "\"ephemeral\": false"), "%s", r.out);
	cr_assert_not_null(strstr(r.out, "\"exists\": true"), "%s", r.out);
	fx_run_result_free(&r);
}

Test(registry_servers, etcd_on_host)
{
	start_etcd(NULL);
	const char *put[] = { "put", "/selftest/key", "persisted", NULL };
	cr_assert_str_eq(etcdctl(put), "OK\n");
	const char *get[] = { "get", "--print-value-only", "/selftest/key", NULL };
	cr_assert_str_eq(etcdctl(get), "persisted\n");

	int port = etcd.port;
	long long t0 = fx_now_ms();
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "restart failed");
	fprintf(stderr, "[timing] etcd restart: healthy after %lld ms\n", fx_now_ms() - t0);
	cr_assert_eq(etcd.port, port);
	cr_assert_str_eq(etcdctl(get), "persisted\n");
}

/* Inside the cloud the servers answer there, and the host cannot reach them. */
static void start_cloud(void)
{
	cr_assert_eq(fx_cloud_start(&cloud), 0, "cloud did not start");
	if (!cloud.netns)
		cr_skip_test("no network namespaces here (%s): isolation cannot be shown",
			fx_cloud_describe(&cloud));
}

static void assert_host_cannot_reach(int port)
{
	int fd = fx_connect_tcp("127.0.0.1", port);
	if (fd >= 0)
		close(fd);
	cr_assert_lt(fd, 0, "the host reached 127.0.0.1:%d, which only the cloud should have", port);
}

Test(registry_servers, zookeeper_in_cloud)
{
	start_cloud();
	start_zk(cloud.ns);
	check_zk_create_read();
	assert_host_cannot_reach(zk.port);
	int port = zk.port;
	cr_assert_eq(fx_zk_restart(&zk, FX_ZK_START_TIMEOUT_MS), 0, "restart failed");
	cr_assert_eq(zk.port, port);
	const char *out = kazoo("print(zk.get('/selftest')[0].decode())\n");
	cr_assert_str_eq(out, "persisted\n");
}

Test(registry_servers, etcd_in_cloud)
{
	start_cloud();
	start_etcd(cloud.ns);
	const char *put[] = { "put", "/selftest/key", "in-cloud", NULL };
	cr_assert_str_eq(etcdctl(put), "OK\n");
	const char *get[] = { "get", "--print-value-only", "/selftest/key", NULL };
	cr_assert_str_eq(etcdctl(get), "in-cloud\n");
	assert_host_cannot_reach(etcd.port);
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "restart failed");
	cr_assert_str_eq(etcdctl(get), "in-cloud\n");
}
