/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Registration in a real ZooKeeper (Debian's zookeeper 3.8), read back with
 * dubbo_consumer.py (kazoo) the way a Dubbo consumer reads it: the Dubbo 2
 * interface-level provider node with every parameter, the Dubbo 3
 * application-level instance node, and their life cycle (close, server
 * restart, session expiry, a killed holder, a server that is down at start).
 */
#include <jansson.h>
#include <pthread.h>

#include "registry_test.h"
#include "registry/registry_int.h"

static fx_daemon zk;
static devkit_ctx *ctx;
static rt_holder holder; /* a process holding a registration, killed in teardown */

/* Every log line of the engine, to check what reaches the log (and what must not). */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static devkit_buf logs;
static size_t logs_cap;

static void on_log(devkit_log_level level, const char *message, void *payload)
{
	(void)payload;
	pthread_mutex_lock(&log_lock);
	size_t need = logs.size + strlen(message) + 8;
	if (need > logs_cap) {
		logs_cap = need * 2;
		logs.ptr = realloc(logs.ptr, logs_cap);
	}
	if (logs.ptr)
		logs.size += (size_t)snprintf(logs.ptr + logs.size, logs_cap - logs.size, "%d %s\n",
			(int)level, message);
	pthread_mutex_unlock(&log_lock);
}

static int logs_contain(const char *needle)
{
	pthread_mutex_lock(&log_lock);
	int found = logs.ptr && strstr(logs.ptr, needle) != NULL;
	pthread_mutex_unlock(&log_lock);
	return found;
}

static void setup(void)
{
	cr_assert_eq(fx_zk_start(&zk, NULL), 0, "ZooKeeper did not start");
	devkit_ctx_options o = DEVKIT_CTX_OPTIONS_INIT;
	o.log_level = DEVKIT_LOG_TRACE;
	o.log_cb = on_log;
	cr_assert_eq(devkit_ctx_new(&ctx, &o), 0);
}

static void teardown(void)
{
	rt_holder_kill(&holder);
	devkit_ctx_free(ctx);
	/* DEVKIT_TEST_LOGS=1: show what the engine logged, for a failing test. */
	if (getenv("DEVKIT_TEST_LOGS") && logs.ptr) {
		fprintf(stderr, "--- engine log ---\n%s--- end ---\n", logs.ptr);
		fx_daemon_log_tail(&zk, 80);
	}
	fx_daemon_stop(&zk);
	free(logs.ptr);
	logs.ptr = NULL;
	logs.size = logs_cap = 0;
}

TestSuite(zookeeper, .init = setup, .fini = teardown, .timeout = 180);

static char *url_of(const char *path_query)
{
	static char url[160];
	snprintf(url, sizeof(url), "zookeeper://127.0.0.1:%d%s", zk.port,
		path_query ? path_query : "");
	return url;
}

/* Run dubbo_consumer.py and parse its JSON answer. */
static json_t *consumer(const char *const args[])
{
	fx_run_result r;
	cr_assert_eq(fx_dubbo_consumer(&zk, args, &r), 0, "cannot run dubbo_consumer.py");
	cr_assert_eq(r.exit_code, 0, "dubbo_consumer.py %s failed: %s", args[0], r.err);
	json_error_t err;
	json_t *j = json_loads(r.out, 0, &err);
	cr_assert_not_null(j, "not JSON (%s): %s", err.text, r.out);
	fx_run_result_free(&r);
	return j;
}

static json_t *providers(const char *chroot, const char *interface)
{
	const char *with[] = { "--chroot", chroot, "providers", interface, NULL };
	const char *without[] = { "providers", interface, NULL };
	return consumer(chroot ? with : without);
}

static json_t *apps(const char *chroot, const char *app)
{
	const char *with[] = { "--chroot", chroot, "apps", app, NULL };
	const char *without[] = { "apps", app, NULL };
	return consumer(chroot ? with : without);
}

static const char *param(json_t *provider, const char *key)
{
	return json_string_value(json_object_get(json_object_get(provider, "params"), key));
}

static void assert_param(json_t *p, const char *key, const char *want)
{
	const char *got = param(p, key);
	cr_assert_not_null(got, "parameter %s missing", key);
	cr_assert_str_eq(got, want, "parameter %s", key);
}

static int provider_count(const char *interface)
{
	json_t *j = providers(NULL, interface);
	int n = (int)json_array_size(j);
	json_decref(j);
	return n;
}

static int no_provider(void *interface)
{
	return provider_count(interface) == 0;
}

static int one_provider(void *interface)
{
	return provider_count(interface) == 1;
}

/* Whether path is an ephemeral node, and of which session ("0x..."). */
static int ephemeral_owner(const char *path, char *owner, size_t cap)
{
	const char *args[] = { "ephemeral", path, NULL };
	json_t *j = consumer(args);
	int eph = json_is_true(json_object_get(j, "ephemeral"));
	if (owner)
		snprintf(owner, cap, "%s", json_string_value(json_object_get(j, "ephemeralOwner")) ?
			json_string_value(json_object_get(j, "ephemeralOwner")) : "");
	json_decref(j);
	return eph;
}

static devkit_registration_options dubbo_options(const char *url, int port)
{
	devkit_registration_options o = rt_options(url, "greeter", port);
	o.protocol = "dubbo";
	o.interface_name = "com.example.Greeter";
	o.methods = "bye,hello";
	return o;
}

Test(zookeeper, provider_and_instance_nodes_as_dubbo_writes_them)
{
	devkit_registration_options o = dubbo_options(url_of(NULL), 20880);
	o.tag = "gray";
	o.metadata = "version=1.4.2\nzone=dev a";
	long long before = (long long)time(NULL) * 1000;
	devkit_registration *r = rt_register(ctx, &o, 10000);

	json_t *list = providers(NULL, "com.example.Greeter");
	cr_assert_eq(json_array_size(list), 1, "%s", json_dumps(list, 0));
	json_t *p = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "protocol")), "dubbo");
	cr_assert_str_eq(json_string_value(json_object_get(p, "host")), "10.1.2.3");
	cr_assert_eq(json_integer_value(json_object_get(p, "port")), 20880);
	cr_assert_str_eq(json_string_value(json_object_get(p, "path")), "com.example.Greeter");
	assert_param(p, "application", "greeter");
	assert_param(p, "interface", "com.example.Greeter");
	assert_param(p, "methods", "bye,hello");
	assert_param(p, "side", "provider");
	assert_param(p, "dubbo", "2.0.2");
	assert_param(p, "dynamic", "true");
	assert_param(p, "anyhost", "false");
	assert_param(p, "deprecated", "false");
	assert_param(p, "generic", "false");
	assert_param(p, "dubbo.tag", "gray");
	assert_param(p, "version", "1.4.2");
	assert_param(p, "zone", "dev a");
	cr_assert_not_null(param(p, "release"));
	char pid[16];
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	assert_param(p, "pid", pid);
	long long ts = atoll(param(p, "timestamp"));
	cr_assert(ts >= before && ts < before + 60000, "timestamp %lld", ts);
	/* Dubbo's URL.toFullString() lists the parameters sorted by key. */
	const char *url = json_string_value(json_object_get(p, "url"));
	cr_assert(strstr(url, "?anyhost=false&application=greeter&deprecated=false&dubbo=2.0.2&"
		"dubbo.tag=gray&dynamic=true&generic=false&interface=com.example.Greeter&methods=bye,"
		"hello&pid="), "%s", url);
	char node[1024];
	snprintf(node, sizeof(node), "%s", json_string_value(json_object_get(p, "node")));
	const char *prefix = "/dubbo/com.example.Greeter/providers/dubbo%3A%2F%2F10.1.2.3%3A20880"
		"%2Fcom.example.Greeter%3Fanyhost%3Dfalse%26application%3Dgreeter%26";
	cr_assert(strncmp(node, prefix, strlen(prefix)) == 0, "%s", node);
	cr_assert(ephemeral_owner(node, NULL, 0), "the provider node must be ephemeral");
	json_decref(list);

	/* Dubbo 3, application level: a Curator ServiceInstance. */
	list = apps(NULL, "greeter");
	cr_assert_eq(json_array_size(list), 1, "%s", json_dumps(list, 0));
	json_t *a = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(a, "node")),
		"/services/greeter/10.1.2.3:20880");
	cr_assert(json_is_true(json_object_get(a, "ephemeral")));
	json_t *data = json_object_get(a, "data");
	cr_assert_str_eq(json_string_value(json_object_get(data, "name")), "greeter");
	cr_assert_str_eq(json_string_value(json_object_get(data, "id")), "10.1.2.3:20880");
	cr_assert_str_eq(json_string_value(json_object_get(data, "address")), "10.1.2.3");
	cr_assert_eq(json_integer_value(json_object_get(data, "port")), 20880);
	cr_assert_str_eq(json_string_value(json_object_get(data, "serviceType")), "DYNAMIC");
	cr_assert_geq(json_integer_value(json_object_get(data, "registrationTimeUTC")), before);
	json_t *payload = json_object_get(data, "payload");
	cr_assert_str_eq(json_string_value(json_object_get(payload, "@class")),
		"org.apache.dubbo.registry.zookeeper.ZookeeperInstance");
	json_t *meta = json_object_get(payload, "metadata");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "dubbo.tag")), "gray");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "version")), "1.4.2");
	cr_assert_str_eq(json_string_value(json_object_get(meta, "dubbo.endpoints")),
		"[{\"port\":20880,\"protocol\":\"dubbo\"}]");
	json_decref(list);

	devkit_buf d = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_registration_describe(r, &d), 0);
	cr_assert(strstr(d.ptr, "\"keys\""), "%s", d.ptr);
	cr_assert(strstr(d.ptr, "/services/greeter/10.1.2.3:20880"), "%s", d.ptr);
	cr_assert(strstr(d.ptr, "/dubbo/com.example.Greeter/providers/dubbo%3A%2F%2F"), "%s", d.ptr);
	cr_assert(strstr(d.ptr, "\"session\": \"0x"), "%s", d.ptr);
	devkit_buf_dispose(&d);

	/* The client's own lines reach the engine's log. */
	cr_assert(logs_contain("registry zookeeper, service greeter: client: "));

	/* close: gone at once, not after the session timeout */
	cr_assert_eq(devkit_registration_close(r), 0, "%s", devkit_error_last()->message);
	cr_assert_eq(provider_count("com.example.Greeter"), 0);
	list = apps(NULL, "greeter");
	cr_assert_eq(json_array_size(list), 0);
	json_decref(list);
}

Test(zookeeper, http_interface_layout_under_a_chroot)
{
	devkit_registration_options o = rt_options(url_of("/devkit/test?layout=interface"),
		"orders", 8080);
	devkit_registration *r = rt_register(ctx, &o, 10000);
	json_t *list = providers("/devkit/test", "orders");
	cr_assert_eq(json_array_size(list), 1);
	json_t *p = json_array_get(list, 0);
	cr_assert_str_eq(json_string_value(json_object_get(p, "protocol")), "http");
	cr_assert_str_eq(json_string_value(json_object_get(p, "path")), "orders");
	cr_assert_null(param(p, "methods"), "no methods were given");
	json_decref(list);
	/* Nothing outside the chroot, and no application-level node. */
	cr_assert_eq(provider_count("orders"), 0);
	list = apps("/devkit/test", "orders");
	cr_assert_eq(json_array_size(list), 0);
	json_decref(list);
	devkit_registration_free(r);
	list = providers("/devkit/test", "orders");
	cr_assert_eq(json_array_size(list), 0);
	json_decref(list);
}

Test(zookeeper, a_stale_node_is_replaced)
{
	/* What a crashed earlier run leaves behind until its session expires
	 * (here: persistent, so it would never go by itself). */
	fx_run_result pr;
	cr_assert_eq(fx_zk_python(&zk, "zk.create('/services/greeter/10.1.2.3:20881', b'stale', "
		"makepath=True)\n", &pr), 0);
	cr_assert_eq(pr.exit_code, 0, "%s", pr.err);
	fx_run_result_free(&pr);

	devkit_registration_options o = dubbo_options(url_of("?layout=application"), 20881);
	devkit_registration *r = rt_register(ctx, &o, 10000);
	json_t *list = apps(NULL, "greeter");
	cr_assert_eq(json_array_size(list), 1);
	json_t *a = json_array_get(list, 0);
	cr_assert(json_is_true(json_object_get(a, "ephemeral")), "replaced by our ephemeral node");
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(a, "data"), "name")),
		"greeter");
	json_decref(list);
	cr_assert(logs_contain("exists (an earlier session's): replacing it"));
	devkit_registration_free(r);
}

static int reconnected(void *unused)
{
	(void)unused;
	return logs_contain("reconnected to ZooKeeper") || logs_contain("registered again");
}

Test(zookeeper, zookeeper_restart_keeps_the_registration)
{
	devkit_registration_options o = dubbo_options(url_of(NULL), 20882);
	o.ttl_ms = 6000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(fx_zk_restart(&zk, FX_ZK_START_TIMEOUT_MS), 0);
	/* The restarted server restores the session from its data and the
	 * client reconnects to it. ZooKeeper 3.8.0 may leave a connection made
	 * while it starts neither served nor closed (an NPE in its close); the
	 * client gives such a connection up after 2/3 of the session timeout. */
	cr_assert(rt_eventually(reconnected, NULL, 20000), "the client did not reconnect");
	cr_assert(logs_contain("connection to ZooKeeper lost"));
	cr_assert(rt_eventually(one_provider, "com.example.Greeter", 10000));
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_REGISTERED);
	cr_assert_eq(devkit_registration_close(r), 0, "%s", devkit_error_last()->message);
	cr_assert_eq(provider_count("com.example.Greeter"), 0);
}

Test(zookeeper, an_expired_session_is_replaced)
{
	devkit_registration_options o = dubbo_options(url_of(NULL), 20883);
	o.ttl_ms = 1000;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	uint64_t id = devkit_registration_id(r);
	json_t *list = providers(NULL, "com.example.Greeter");
	char node[1024], before[32], after[32];
	snprintf(node, sizeof(node), "%s",
		json_string_value(json_object_get(json_array_get(list, 0), "node")));
	json_decref(list);
	cr_assert(ephemeral_owner("/services/greeter/10.1.2.3:20883", before, sizeof(before)));

	/* Frozen past the session timeout: the server expires the session when
	 * it runs again, or the client gives it up first. Either way the entry
	 * is lost, then written again in a new session. */
	kill(zk.pid, SIGSTOP);
	fx_sleep_ms(3000);
	kill(zk.pid, SIGCONT);
	devkit_event ev;
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_LOST, 10000, &ev), "no LOST event");
	cr_assert(strstr(ev.message, "expired"), "%s", ev.message);
	fprintf(stderr, "[expiry] %s\n", ev.message);
	cr_assert(rt_wait_event(ctx, id, DEVKIT_REGISTRATION_REGISTERED, 15000, &ev),
		"not registered again");
	cr_assert(rt_eventually(one_provider, "com.example.Greeter", 5000));
	cr_assert(ephemeral_owner("/services/greeter/10.1.2.3:20883", after, sizeof(after)));
	cr_assert_str_neq(before, after, "a new session owns the nodes");
	devkit_registration_stats st = { .version = DEVKIT_REGISTRATION_STATS_VERSION };
	cr_assert_eq(devkit_registration_get_stats(r, &st), 0);
	cr_assert_geq(st.lost, 1);
	cr_assert_geq(st.registrations, 2);
	devkit_registration_free(r);
}

Test(zookeeper, killed_holder_disappears_after_the_session_timeout)
{
	rt_holder *h = &holder;
	cr_assert_eq(rt_holder_start(h, url_of(NULL), "inventory", "10.1.2.4", 7000, 2000), 0);
	cr_assert_eq(provider_count("inventory"), 1);
	/* The client printed nothing of its own (its lines go to the engine's log). */
	FILE *f = fopen(h->log, "r");
	char line[512];
	while (f && fgets(line, sizeof(line), f))
		cr_assert_null(strstr(line, "ZOO_"), "the ZooKeeper client printed: %s", line);
	if (f)
		fclose(f);
	long long killed_at = fx_now_ms();
	rt_holder_kill(h);
	cr_assert(rt_eventually(no_provider, "inventory", 10000),
		"still registered 10 s after SIGKILL with a 2 s session");
	/* ... and not because the holder removed it: it could not. */
	cr_assert_geq(fx_now_ms() - killed_at, 1000);
	json_t *list = apps(NULL, "inventory");
	cr_assert_eq(json_array_size(list), 0);
	json_decref(list);
}

Test(zookeeper, down_at_start_retries_then_registers)
{
	int port = zk.port;
	fx_daemon_kill(&zk);
	devkit_registration_options o = dubbo_options(url_of(NULL), 20884);
	devkit_registration *r = rt_register(ctx, &o, 0);
	int rc = devkit_registration_wait(r, 1500);
	cr_assert_eq(rc, DEVKIT_ECONNREFUSED, "rc %d: %s", rc, devkit_error_last()->message);
	const char *msg = devkit_error_last()->message;
	char where[64];
	snprintf(where, sizeof(where), "ZooKeeper 127.0.0.1:%d: Connection refused", port);
	cr_assert(strstr(msg, where), "the error says where and why: %s", msg);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_RETRYING);

	cr_assert_eq(fx_zk_restart(&zk, FX_ZK_START_TIMEOUT_MS), 0);
	cr_assert_eq(devkit_registration_wait(r, 40000), 0, "%s", devkit_error_last()->message);
	cr_assert_eq(provider_count("com.example.Greeter"), 1);
	devkit_registration_free(r);
	cr_assert_eq(provider_count("com.example.Greeter"), 0);
}

Test(zookeeper, acl_needs_the_digest_credentials)
{
	fx_run_result pr;
	cr_assert_eq(fx_zk_python(&zk, "from kazoo.security import make_digest_acl\n"
		"zk.create('/locked', acl=[make_digest_acl('alice', 's3cret-pw', all=True)])\n", &pr), 0);
	cr_assert_eq(pr.exit_code, 0, "%s", pr.err);
	fx_run_result_free(&pr);

	devkit_registration_options o = dubbo_options(url_of("/locked"), 20885);
	devkit_registration *r = rt_register(ctx, &o, 0);
	int rc = devkit_registration_wait(r, 10000);
	cr_assert_eq(rc, DEVKIT_EFORBIDDEN, "rc %d: %s", rc, devkit_error_last()->message);
	cr_assert(strstr(devkit_error_last()->message, "/locked/"), "%s",
		devkit_error_last()->message);
	cr_assert_eq(devkit_registration_get_state(r), DEVKIT_REGISTRATION_FAILED);
	devkit_registration_free(r);

	o.username = "alice";
	o.password = "s3cret-pw";
	r = rt_register(ctx, &o, 10000);
	/* Only /locked itself is restricted: what we create under it is open, as
	 * Dubbo's nodes are, so consumers without credentials find the provider. */
	json_t *list = providers("/locked", "com.example.Greeter");
	cr_assert_eq(json_array_size(list), 1);
	json_decref(list);
	devkit_buf d = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_registration_describe(r, &d), 0);
	cr_assert_null(strstr(d.ptr, "s3cret-pw"));
	devkit_buf_dispose(&d);
	devkit_registration_free(r);
	cr_assert_not(logs_contain("s3cret-pw"), "the password reached the log");
}

Test(zookeeper, bad_options_fail_at_once)
{
	devkit_registration *r = NULL;
	devkit_registration_options o = dubbo_options(url_of("?layout=flat"), 20886);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "layout=flat"), "%s",
		devkit_error_last()->message);
	o = dubbo_options(url_of("/a//b"), 20886);
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	o = dubbo_options(url_of(NULL), 20886);
	o.metadata = "bad&key=1";
	cr_assert_eq(devkit_registration_new(&r, ctx, &o), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "bad&key"), "%s",
		devkit_error_last()->message);
}

static int log_has(const char *path, const char *needle)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	int found = 0;
	while (f && !found && fgets(line, sizeof(line), f))
		found = strstr(line, needle) != NULL;
	if (f)
		fclose(f);
	return found;
}

static const char *holder_log;

static int holder_registered_again(void *unused)
{
	(void)unused;
	return log_has(holder_log, "registered again");
}

/* A laptop that slept past the session timeout: the server expired the
 * session meanwhile, and the client hears so when it reconnects. */
Test(zookeeper, a_holder_frozen_past_its_session_registers_again)
{
	rt_holder *h = &holder;
	cr_assert_eq(rt_holder_start(h, url_of(NULL), "inventory", "10.1.2.4", 7001, 1000), 0);
	cr_assert_eq(provider_count("inventory"), 1);
	kill(h->pid, SIGSTOP);
	cr_assert(rt_eventually(no_provider, "inventory", 10000), "the server kept the session");
	kill(h->pid, SIGCONT);
	holder_log = h->log;
	cr_assert(rt_eventually(holder_registered_again, NULL, 15000), "not registered again");
	cr_assert(log_has(h->log, "lost: zookeeper inventory: ZooKeeper session expired"));
	cr_assert(rt_eventually(one_provider, "inventory", 5000));
}

/* Host names go through the engine's resolver; the client sees numbers. */
Test(zookeeper, a_host_name_is_resolved_first)
{
	char url[96];
	snprintf(url, sizeof(url), "zookeeper://localhost:%d?layout=interface", zk.port);
	devkit_registration_options o = dubbo_options(url, 20887);
	devkit_registration *r = rt_register(ctx, &o, 10000);
	cr_assert_eq(provider_count("com.example.Greeter"), 1);
	cr_assert(logs_contain("connecting to ZooKeeper at 127.0.0.1:"), "the client got a name?");
	devkit_registration_free(r);
}

/* Freeing the engine with a registration still open removes its nodes too. */
Test(zookeeper, engine_shutdown_removes_the_nodes)
{
	devkit_registration_options o = dubbo_options(url_of(NULL), 20888);
	rt_register(ctx, &o, 10000);
	cr_assert_eq(provider_count("com.example.Greeter"), 1);
	devkit_ctx_free(ctx);
	ctx = NULL;
	cr_assert_eq(provider_count("com.example.Greeter"), 0);
	json_t *list = apps(NULL, "greeter");
	cr_assert_eq(json_array_size(list), 0);
	json_decref(list);
}

/* Closing while ZooKeeper is down cannot confirm the removal: it says so
 * within the request timeout instead of hanging. */
Test(zookeeper, close_while_zookeeper_is_down_reports_it)
{
	devkit_registration_options o = dubbo_options(url_of(NULL), 20889);
	o.ttl_ms = 2000;
	o.timeout_ms = 1500;
	devkit_registration *r = rt_register(ctx, &o, 10000);
	fx_daemon_kill(&zk);
	long long t0 = fx_now_ms();
	int rc = devkit_registration_close(r);
	long long took = fx_now_ms() - t0;
	cr_assert_eq(rc, DEVKIT_ETIMEOUT, "rc %d", rc);
	cr_assert(strstr(devkit_error_last()->message, "session expires"), "%s",
		devkit_error_last()->message);
	cr_assert_lt(took, 3000, "close took %lld ms", took);
}
