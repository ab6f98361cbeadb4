/* SPDX-License-Identifier: Apache-2.0 */
/*
 * `devkit up` end to end, the way a developer uses it: a devkit.yaml (written
 * by the test) with the tunnel to the cloud fixture's bastion, a SOCKS
 * forward, a local forward to a cluster service, the remote DNS, routing for
 * `devkit run --control`, and one local service (python3 -m http.server)
 * exposed to an etcd that runs inside the cloud. `devkit up --json` comes up;
 * curl through the SOCKS port by cluster name, `devkit run --control <printed
 * path> -- curl http://orders:8080/`, etcdctl inside the cloud and `devkit
 * status` all see what they should; Ctrl-C tears everything down, and nothing
 * is left: no devkit process, no registry key, no listening port, no socket.
 *
 * Also: configuration errors exit 2 with file:line:col before any traffic; a
 * bring-up failure (a forward on a port in use, an expose the bastion
 * refuses) exits 1 and leaves nothing behind; human output and `devkit
 * status` text; and replicas from a Deployment against the Kubernetes API
 * fixture (which has no kubelet: the test plays it with
 * fx_k8s_set_pod_status), deleted on Ctrl-C, and a replica that cannot start
 * failing the bring-up with the library's reason.
 */
#include "up_test.h"

#include "cloud_fixture.h"
#include "etcd_fixture.h"
#include "k8s_fixture.h"

#define SERVICE "orders-dev"
#define PREFIX "/micro/registry/" SERVICE

static fx_cloud cloud;
static fx_daemon etcd;
static fx_daemon k8s;
static tt_http_server http;

static void setup(void)
{
	cr_assert_eq(fx_cloud_start(&cloud), 0, "the cloud did not start (see stderr)");
	fprintf(stderr, "[up] %s\n", fx_cloud_describe(&cloud));
	up_dir_make();
}

static void teardown(void)
{
	up_dir_remove();
	fx_daemon_stop(&k8s);
	fx_daemon_stop(&etcd);
	tt_http_stop(&http);
	fx_cloud_stop(&cloud);
}

TestSuite(up, .init = setup, .fini = teardown, .timeout = 240);

/* --- the configuration ------------------------------------------------------------ */

static char yaml[16384];

static void add(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void add(const char *fmt, ...)
{
	size_t len = strlen(yaml);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(yaml + len, sizeof(yaml) - len, fmt, ap);
	va_end(ap);
}

static void tunnel_section(void)
{
	yaml[0] = '\0';
	add("tunnel:\n"
		"  bastion: %s\n"
		"  identity: %s\n"
		"  known_hosts: %s\n"
		"  agent: false\n"
		"  connect_timeout: 10s\n", cloud.bastion, cloud.identity, cloud.known_hosts);
}

/* socks on any port; a local forward to the cluster's orders service. */
static void forwards_section(const char *local_bind)
{
	add("forwards:\n"
		"  - kind: socks\n"
		"    bind: 0\n"
		"  - kind: local\n"
		"    bind: %s\n"
		"    target: " FX_CLOUD_SERVICE ":%d\n", local_bind, cloud.http_port);
}

/* The remote DNS (other names to a dead loopback port: the host's resolver
 * points off-box) and the router, on a private path of its own choosing. */
static void routing_section(void)
{
	add("dns:\n"
		"  cluster_dns: %s\n"
		"  upstream: 127.0.0.1:%d\n"
		"routing:\n"
		"  open_timeout: 10s\n", cloud.cluster_dns, fx_free_port());
}

/* The bastion's loopback is where the reverse forward listens, hence
 * advertise and remote_bind 127.0.0.1 (as tests/run/test_expose.c). */
static void expose_item(const char *service, int remote_port)
{
	add("  - local: 127.0.0.1:%d\n"
		"    registry: etcd://127.0.0.1:%d\n"
		"    service: %s\n"
		"    advertise: 127.0.0.1\n"
		"    remote_bind: 127.0.0.1\n"
		"    remote_port: %d\n"
		"    tag: alice\n"
		"    metadata:\n"
		"      version: 2\n", http.port, etcd.port, service, remote_port);
}

static void full_config(void)
{
	tunnel_section();
	forwards_section("0");
	routing_section();
	add("expose:\n");
	expose_item(SERVICE, 0);
	up_write_config(yaml);
}

static void etcd_and_http_start(void)
{
	cr_assert_eq(fx_etcd_start(&etcd, cloud.netns ? cloud.ns : NULL), 0,
		"etcd did not start (see stderr)");
	tt_http_start(&http);
}

/* --- what the cloud sees ------------------------------------------------------------ */

static char *etcd_entries(const char *prefix)
{
	const char *args[] = { "get", "--prefix", prefix, NULL };
	fx_run_result r;
	cr_assert_eq(fx_etcdctl(&etcd, args, &r), 0);
	cr_assert_eq(r.exit_code, 0, "etcdctl get: exit %d: %s", r.exit_code, r.err);
	char *out = strdup(r.out);
	fx_run_result_free(&r);
	return out;
}

static int etcd_has(const char *prefix)
{
	char *out = etcd_entries(prefix);
	int present = strstr(out, tt_fmt("%s/", prefix)) != NULL;
	free(out);
	return present;
}

static void curl(const char *const argv[], const char *expect, const char *what)
{
	fx_run_result r;
	cr_assert_eq(fx_run(argv, up_no_proxy_env, NULL, 60000, &r), 0);
	cr_expect_eq(r.exit_code, 0, "%s: exit %d: %s", what, r.exit_code, r.err);
	cr_expect_str_eq(r.out, expect, "%s printed '%s' (stderr %s)", what, r.out, r.err);
	fx_run_result_free(&r);
}

/* --- the whole configuration, in JSON ------------------------------------------------ */

struct seen {
	int socks_port, local_port, remote_port, dns_port;
	char control[300], status_socket[300];
};

static void check_ready(const char *line, struct seen *s)
{
	json_t *ready = up_parse(line);
	cr_assert_str_eq(up_jstr(ready, "state"), "ready", "%s", line);
	cr_assert_str_eq(up_jstr(json_object_get(ready, "tunnel"), "state"), "up", "%s", line);
	s->socks_port = (int)up_jint(up_forward_of(ready, "socks"), "port");
	s->local_port = (int)up_jint(up_forward_of(ready, "local"), "port");
	cr_assert_gt(s->socks_port, 0);
	cr_assert_gt(s->local_port, 0);
	cr_assert_str_eq(up_jstr(up_forward_of(ready, "local"), "target"),
		tt_fmt(FX_CLOUD_SERVICE ":%d", cloud.http_port));
	json_t *dns = json_object_get(ready, "dns");
	s->dns_port = (int)up_jint(dns, "port");
	snprintf(s->control, sizeof(s->control), "%s", up_jstr(ready, "control"));
	snprintf(s->status_socket, sizeof(s->status_socket), "%s", up_jstr(ready, "status_socket"));
	cr_assert_str_eq(s->status_socket, tt_fmt("%s/.devkit/up.sock", up_dir));
	json_t *exposes = json_object_get(ready, "exposes");
	cr_assert_eq(json_array_size(exposes), 1, "%s", line);
	json_t *e = json_array_get(exposes, 0);
	cr_assert_str_eq(up_jstr(e, "service"), SERVICE);
	/* The registry answered: the first attempt's outcome is in "ready". */
	cr_assert_str_eq(up_jstr(e, "state"), "registered", "%s", line);
	s->remote_port = (int)up_jint(json_object_get(e, "remote"), "port");
	cr_assert_eq(up_jint(e, "port"), s->remote_port);
	json_decref(ready);
}

/* The bring-up's lines come in order, before "ready". */
static void check_order(void)
{
	static const char *const order[] = { "\"event\":\"starting\"", "\"event\":\"tunnel\"",
		"\"event\":\"forward\"", "\"event\":\"routing\"", "\"event\":\"expose\"",
		"\"event\":\"ready\"" };
	char *log = up_output();
	const char *at = log;
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		const char *hit = strstr(at, order[i]);
		cr_assert_not_null(hit, "%s missing or out of order:\n%s", order[i], log);
		at = hit;
	}
	free(log);
}

static void check_status_json(const struct seen *s)
{
	const char *args[] = { "-f", up_config_path(), "--json", NULL };
	fx_run_result r;
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 0, "devkit status: exit %d: %s", r.exit_code, r.err);
	json_t *st = up_parse(r.out);
	cr_assert_str_eq(up_jstr(st, "event"), "status");
	cr_assert_str_eq(up_jstr(st, "state"), "ready");
	cr_assert_str_eq(up_jstr(json_object_get(st, "tunnel"), "state"), "up", "%s", r.out);
	json_t *socks = up_forward_of(st, "socks");
	cr_assert_eq(up_jint(socks, "port"), s->socks_port);
	cr_assert_eq(up_jint(up_forward_of(st, "local"), "port"), s->local_port);
	/* curl went through it: the counters moved. */
	cr_assert_gt(up_jint(socks, "bytes_in"), 0, "%s", r.out);
	cr_assert_gt(up_jint(socks, "channels_total"), 0, "%s", r.out);
	json_t *e = json_array_get(json_object_get(st, "exposes"), 0);
	cr_assert_str_eq(up_jstr(e, "state"), "registered", "%s", r.out);
	cr_assert_str_eq(up_jstr(st, "control"), s->control);
	json_decref(st);
	fx_run_result_free(&r);

	/* The same, found by the socket's path instead of the file. */
	const char *by_path[] = { "--control", s->status_socket, NULL };
	up_status(by_path, &r);
	cr_assert_eq(r.exit_code, 0, "devkit status --control: exit %d: %s", r.exit_code, r.err);
	cr_assert(strstr(r.out, "  expose   " SERVICE " ") && strstr(r.out, ": registered"),
		"%s", r.out);
	cr_assert(strstr(r.out, tt_fmt("  socks    127.0.0.1:%d: in ", s->socks_port)), "%s", r.out);
	fx_run_result_free(&r);
}

/* After devkit up exited: nothing it brought up is left anywhere. */
static void check_nothing_left(const struct seen *s, const char *prefix)
{
	cr_assert_eq(up_procs_mentioning(up_dir), 0, "a process started for this test still runs");
	if (etcd.pid > 0)
		cr_assert(!etcd_has(prefix), "the registry entry outlived devkit up");
	cr_assert(!up_listening(s->socks_port), "the socks port %d still listens", s->socks_port);
	if (s->local_port)
		cr_assert(!up_listening(s->local_port), "the local port %d still listens", s->local_port);
	if (s->dns_port)
		cr_assert(!up_listening(s->dns_port), "the DNS port %d still listens", s->dns_port);
	if (s->remote_port)
		cr_assert(!fx_cloud_can_connect(&cloud, "127.0.0.1", s->remote_port, 2000),
			"the bastion still listens on the exposed port %d", s->remote_port);
	if (s->control[0])
		cr_assert_neq(access(s->control, F_OK), 0, "the control socket %s is left", s->control);
	cr_assert_neq(access(tt_fmt("%s/.devkit/up.sock", up_dir), F_OK), 0,
		"the status socket is left");
	cr_assert_neq(access(tt_fmt("%s/.devkit", up_dir), F_OK), 0, "the .devkit directory is left");
	cr_assert_eq(up_sshd_sessions(&cloud.sshd, 10000), 0, "a session to the bastion is left");
}

Test(up, full_config_comes_up_works_and_leaves_nothing)
{
	etcd_and_http_start();
	full_config();
	up_start(1, NULL);
	struct seen s = { 0 };
	check_ready(up_wait_line("{\"event\":\"ready\"", 60000), &s);
	check_order();
	cr_assert_eq(fx_proc_descendants(up_pid, (pid_t[4]){ 0 }, 4), 0,
		"devkit up started processes of its own");

	/* A cluster name through the SOCKS port, resolved on the bastion's side. */
	if (cloud.netns)
		cr_assert_eq(fx_connect_tcp(FX_CLOUD_SERVICE_IP, cloud.http_port), -1,
			"the host reached the service directly: the cloud is not isolated");
	const char *socks[] = { "curl", "-sS", "-m", "20", "--socks5-hostname",
		tt_fmt("127.0.0.1:%d", s.socks_port),
		tt_fmt("http://" FX_CLOUD_SERVICE ":%d/", cloud.http_port), NULL };
	curl(socks, FX_CLOUD_PAGE, "curl through the socks port");
	/* The local forward. */
	const char *local[] = { "curl", "-sS", "-m", "20", "--noproxy", "*",
		tt_fmt("http://127.0.0.1:%d/", s.local_port), NULL };
	curl(local, FX_CLOUD_PAGE, "curl through the local forward");
	/* An unmodified program routed through the printed control socket, by
	 * the service's short name, as in a Pod. */
	const char *run[] = { up_devkit(), "run", "--control", s.control, "--", "curl", "-sS", "-m",
		"20", tt_fmt("http://orders:%d/", cloud.http_port), NULL };
	curl(run, FX_CLOUD_PAGE, "devkit run --control ... curl http://orders/");

	/* A caller inside the cloud finds the local service in etcd, and reaches
	 * it through the bastion. */
	char *entries = etcd_entries(PREFIX);
	cr_assert(strstr(entries, tt_fmt("\"address\":\"127.0.0.1:%d\"", s.remote_port)),
		"%s", entries);
	free(entries);
	const char *in_cloud[] = { "curl", "-sS", "--max-time", "20", "--noproxy", "*",
		tt_fmt("http://127.0.0.1:%d/hello.txt", s.remote_port), NULL };
	fx_run_result r;
	if (cloud.netns) {
		const char *ns[] = { "ip", "netns", "exec", cloud.ns, in_cloud[0], in_cloud[1],
			in_cloud[2], in_cloud[3], in_cloud[4], in_cloud[5], in_cloud[6], NULL };
		cr_assert_eq(fx_run(ns, up_no_proxy_env, NULL, 30000, &r), 0);
	} else {
		cr_assert_eq(fx_run(in_cloud, up_no_proxy_env, NULL, 30000, &r), 0);
	}
	cr_expect_str_eq(r.out, TT_HTTP_BODY, "curl inside the cloud: %s %s", r.out, r.err);
	fx_run_result_free(&r);

	check_status_json(&s);

	/* Ctrl-C: everything down in reverse order, exit 0. */
	cr_assert_eq(up_signal(SIGINT), 0, "devkit up did not exit 0 on SIGINT:\n%s", up_output());
	char *log = up_output();
	const char *closing = strstr(log, "{\"event\":\"closing\",\"signal\":\"SIGINT\"}");
	cr_assert_not_null(closing, "%s", log);
	const char *expose = strstr(closing, "\"what\":\"expose\"");
	const char *router = strstr(closing, "\"what\":\"router\"");
	const char *dns = strstr(closing, "\"what\":\"dns\"");
	const char *fwd = strstr(closing, "\"what\":\"forward\"");
	const char *tunnel = strstr(closing, "\"what\":\"tunnel\"");
	cr_assert(expose && router && dns && fwd && tunnel && expose < router && router < dns
		&& dns < fwd && fwd < tunnel, "teardown out of order:\n%s", closing);
	cr_assert(strstr(closing, "\"state\":\"deregistered\""), "%s", closing);
	cr_assert(strstr(closing, "{\"event\":\"down\",\"exit\":0,\"left_behind\":0}"), "%s", log);
	cr_assert(strstr(log, "\"ok\":false") == NULL, "%s", log);
	free(log);
	check_nothing_left(&s, PREFIX);
}

Test(up, human_output_status_text_and_sigterm)
{
	etcd_and_http_start();
	full_config();
	up_start(0, NULL);
	up_wait_line("ready; Ctrl-C to tear down", 60000);
	char *log = up_output();
	cr_assert(strstr(log, tt_fmt("config %s: tunnel %s, 2 forwards, dns, routing, 1 expose",
		up_config_path(), cloud.bastion)), "%s", log);
	cr_assert(strstr(log, tt_fmt("status socket %s/.devkit/up.sock", up_dir)), "%s", log);
	cr_assert(strstr(log, "tunnel up: "), "%s", log);
	cr_assert(strstr(log, "socks  127.0.0.1:"), "%s", log);
	cr_assert(strstr(log, "control ") && strstr(log, "devkit run --control "), "%s", log);
	cr_assert(strstr(log, "expose " SERVICE ": registered as 127.0.0.1:"), "%s", log);
	cr_assert(strstr(log, "status: ready\n"), "%s", log);
	free(log);

	/* From another terminal, in the project's directory: `devkit status`. */
	const char *argv[] = { "sh", "-c", tt_fmt("cd '%s' && exec '%s' status", up_dir, up_devkit()),
		NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, up_env(), NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "devkit status: exit %d: %s", r.exit_code, r.err);
	cr_assert(strstr(r.out, tt_fmt("devkit up (pid %d) for %s: ready since ", (int)up_pid,
		up_config_path())), "%s", r.out);
	cr_assert(strstr(r.out, tt_fmt("  tunnel   %s: up, 0 reconnects", cloud.bastion)),
		"%s", r.out);
	cr_assert(strstr(r.out, "  local    127.0.0.1:") && strstr(r.out, " -> " FX_CLOUD_SERVICE),
		"%s", r.out);
	cr_assert(strstr(r.out, "  dns      127.0.0.1:"), "%s", r.out);
	fx_run_result_free(&r);

	cr_assert_eq(up_signal(SIGTERM), 0, "no exit 0 on SIGTERM:\n%s", up_output());
	up_wait_line("SIGTERM: tearing down", 1000);
	up_wait_line("expose " SERVICE ": deregistered from etcd://", 1000);
	up_wait_line("down; everything brought up is torn down", 1000);
	cr_assert(!etcd_has(PREFIX), "the entry outlived devkit up");

	/* Nothing answers now, and status says so. */
	const char *gone[] = { "-f", up_config_path(), NULL };
	up_status(gone, &r);
	cr_assert_eq(r.exit_code, 1, "%s", r.out);
	cr_assert(strstr(r.err, "no devkit up answers for "), "%s", r.err);
	fx_run_result_free(&r);
}

/* --- configuration errors -------------------------------------------------------------- */

static void expect_config_error(const char *text, const char *message)
{
	up_write_config(text);
	const char *argv[] = { up_devkit(), "up", "-f", up_config_path(), NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, up_env(), NULL, 20000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "exit %d for:\n%s\n%s", r.exit_code, text, r.err);
	cr_expect(strstr(r.err, tt_fmt("devkit: %s/devkit.yaml:%s", up_dir, message)) != NULL,
		"expected '%s' in: %s", message, r.err);
	cr_expect_eq(r.out_len, 0, "stdout: %s", r.out);
	fx_run_result_free(&r);

	/* `devkit config check` says the same. */
	const char *check[] = { up_devkit(), "config", "check", "-f", up_config_path(), NULL };
	cr_assert_eq(fx_run(check, up_env(), NULL, 20000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "config check: exit %d: %s", r.exit_code, r.err);
	cr_expect(strstr(r.err, message) != NULL, "expected '%s' in: %s", message, r.err);
	fx_run_result_free(&r);
}

Test(up, config_errors_exit_2_with_the_place_before_any_traffic)
{
	for (int i = 0; i < 250 && fx_sshd_connection_count(&cloud.sshd) > 0; i++)
		fx_sleep_ms(20); /* the bridge's readiness probes */
	char b[512], text[2048];
	snprintf(b, sizeof(b), "tunnel:\n  bastion: %s\n", cloud.bastion);
	snprintf(text, sizeof(text), "tunnel:\n  bastian: %s\n", cloud.bastion);
	expect_config_error(text, "2:3: unknown key \"bastian\" in tunnel (did you mean \"bastion\"?)");
	snprintf(text, sizeof(text), "%sforwards:\n  - kind: sock\n    bind: 0\n", b);
	expect_config_error(text, "4:11: forwards[0].kind: expected socks, local or remote, got "
		"\"sock\" (did you mean \"socks\"?)");
	snprintf(text, sizeof(text), "%sexpose:\n  - local: http\n    registry: etcd://x:1\n"
		"    service: s\n", b);
	expect_config_error(text, "4:12: expose[0].local: expected [HOST:]PORT");
	snprintf(text, sizeof(text), "%s  password_env: UP_TEST_UNSET_VARIABLE\n", b);
	expect_config_error(text, "3:17: tunnel.password_env: environment variable "
		"UP_TEST_UNSET_VARIABLE is not set");
	cr_assert_eq(fx_sshd_connection_count(&cloud.sshd), 0, "a configuration error connected");
	cr_assert_neq(access(tt_fmt("%s/.devkit", up_dir), F_OK), 0, "a configuration error left "
		"the status directory");

	/* A profile that does not exist is a configuration error too. */
	up_write_config(b);
	const char *argv[] = { up_devkit(), "up", "-f", up_config_path(), "--profile", "prod", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, up_env(), NULL, 20000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "%s", r.err);
	cr_expect(strstr(r.err, "profile \"prod\""), "%s", r.err);
	fx_run_result_free(&r);

	/* And a usage error is one. */
	const char *bad[] = { up_devkit(), "up", "--bogus", NULL };
	cr_assert_eq(fx_run(bad, up_env(), NULL, 20000, &r), 0);
	cr_expect_eq(r.exit_code, 2, "%s", r.err);
	cr_expect(strstr(r.err, "Try 'devkit up --help'"), "%s", r.err);
	fx_run_result_free(&r);
}

Test(up, config_check_and_show)
{
	setenv("UP_TEST_SECRET", "s3cret-Pa55", 1);
	char text[2048];
	snprintf(text, sizeof(text), "tunnel:\n  bastion: %s\n  password_env: UP_TEST_SECRET\n"
		"forwards:\n  - kind: socks\n    bind: 0\n"
		"profiles:\n  two:\n    forwards:\n      - {kind: socks, bind: 0}\n"
		"      - {kind: local, bind: 0, target: \"db:5432\"}\n", cloud.bastion);
	up_write_config(text);
	const char *check[] = { up_devkit(), "config", "check", "-f", up_config_path(), "--profile",
		"two", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(check, NULL, NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, tt_fmt("valid, profile two: tunnel %s, 2 forwards", cloud.bastion)),
		"%s", r.out);
	cr_assert(strstr(r.out, "profiles: two"), "%s", r.out);
	fx_run_result_free(&r);

	const char *show[] = { up_devkit(), "config", "show", "-f", up_config_path(), NULL };
	cr_assert_eq(fx_run(show, NULL, NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *j = up_parse(r.out);
	cr_assert_str_eq(up_jstr(json_object_get(j, "tunnel"), "password_env"), "UP_TEST_SECRET");
	cr_assert(strstr(r.out, "s3cret") == NULL, "the secret was printed: %s", r.out);
	json_decref(j);
	fx_run_result_free(&r);
}

/* --- bring-up failures ----------------------------------------------------------------- */

/* The "forward" event of forwards[index]: its port. */
static int forward_port(int index)
{
	const char *line = up_wait_line(tt_fmt("{\"event\":\"forward\",\"index\":%d,", index), 1000);
	json_t *f = up_parse(line);
	int port = (int)up_jint(f, "port");
	json_decref(f);
	return port;
}

Test(up, forward_on_a_port_in_use_exits_1_and_leaves_nothing)
{
	/* A port that something else holds. */
	fx_server *holder = fx_echo_start();
	cr_assert_not_null(holder);
	int busy = fx_server_port(holder);
	tunnel_section();
	forwards_section(tt_fmt("127.0.0.1:%d", busy));
	routing_section();
	up_write_config(yaml);

	up_start(1, NULL);
	int status = up_wait_exit(60000);
	char *log = up_output();
	cr_assert_eq(status, 1, "exit %d:\n%s", status, log);
	cr_assert(strstr(log, tt_fmt("devkit: forwards[1] local 127.0.0.1:%d -> " FX_CLOUD_SERVICE,
		busy)), "%s", log);
	cr_assert(strstr(log, "in use"), "the reason is not named:\n%s", log);
	cr_assert(strstr(log, "\"event\":\"error\""), "%s", log);
	cr_assert(strstr(log, "\"event\":\"ready\"") == NULL, "%s", log);
	cr_assert(strstr(log, "{\"event\":\"down\",\"exit\":1,\"left_behind\":0}"), "%s", log);
	/* The steps after the failing one never ran. */
	cr_assert(strstr(log, "\"event\":\"routing\"") == NULL, "%s", log);
	free(log);
	struct seen s = { 0 };
	s.socks_port = forward_port(0);
	check_nothing_left(&s, PREFIX);
	cr_assert(up_listening(busy), "the other program's port was disturbed");
	fx_echo_stop(holder);
}

Test(up, expose_refused_by_the_bastion_deregisters_the_ones_before)
{
	etcd_and_http_start();
	/* Two exposes on one fixed port of the bastion: the second cannot listen. */
	int port = fx_free_port();
	tunnel_section();
	forwards_section("0");
	add("expose:\n");
	expose_item("first-svc", port);
	expose_item("second-svc", port);
	up_write_config(yaml);

	up_start(1, NULL);
	up_wait_line("\"event\":\"expose\",\"index\":0", 60000);
	int status = up_wait_exit(60000);
	char *log = up_output();
	cr_assert_eq(status, 1, "exit %d:\n%s", status, log);
	cr_assert(strstr(log, "devkit: expose[1] second-svc: "), "%s", log);
	cr_assert(strstr(log, "{\"event\":\"stopped\",\"what\":\"expose\",\"name\":\"first-svc\","
		"\"ok\":true}"), "%s", log);
	free(log);
	struct seen s = { 0 };
	s.socks_port = forward_port(0);
	s.local_port = forward_port(1);
	s.remote_port = port;
	check_nothing_left(&s, "/micro/registry/first-svc");
	/* Nothing turns up later either (no attempt was left in flight). */
	fx_sleep_ms(1500);
	cr_assert(!etcd_has("/micro/registry/first-svc"), "an entry appeared after devkit up ended");
}

Test(up, registry_down_is_retried_not_fatal)
{
	etcd_and_http_start();
	full_config();
	fx_daemon_kill(&etcd);
	up_start(1, NULL);
	const char *line = up_wait_line("{\"event\":\"ready\"", 60000);
	json_t *ready = up_parse(line);
	json_t *e = json_array_get(json_object_get(ready, "exposes"), 0);
	cr_assert_str_eq(up_jstr(e, "state"), "retrying", "%s", line);
	cr_assert(strlen(up_jstr(e, "message")) > 0, "%s", line);
	json_decref(ready);
	cr_assert_eq(fx_etcd_restart(&etcd, FX_ETCD_START_TIMEOUT_MS), 0, "etcd did not restart");
	/* The library registers once it answers; the status says so. */
	up_wait_line("\"state\":\"registered\"", 45000);
	up_wait_line("{\"event\":\"status\"", 5000);
	cr_assert(etcd_has(PREFIX), "not registered after the registry came back");
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
	cr_assert(!etcd_has(PREFIX), "the entry outlived devkit up");
}

/* --- the live status ------------------------------------------------------------------- */

static void small_config(const char *tunnel_extra)
{
	tunnel_section();
	add("%s", tunnel_extra);
	add("forwards:\n  - kind: socks\n    bind: 0\n");
	up_write_config(yaml);
}

static int ready_socks_port(void)
{
	json_t *ready = up_parse(up_wait_line("{\"event\":\"ready\"", 60000));
	int port = (int)up_jint(up_forward_of(ready, "socks"), "port");
	json_decref(ready);
	return port;
}

Test(up, reconnect_is_shown_and_the_forwards_keep_working)
{
	small_config("");
	up_start(1, NULL);
	int port = ready_socks_port();
	cr_assert_geq(fx_sshd_drop_connections(&cloud.sshd), 1);
	/* The library reconnects; devkit up shows it, then a status with the count. */
	up_wait_line("\"event\":\"tunnel-state\",\"tunnel\":1,\"state\":\"reconnecting\"", 20000);
	up_wait_line("\"event\":\"tunnel-state\",\"tunnel\":1,\"state\":\"up\"", 30000);
	const char *line = up_wait_line("\"reconnects\":1,", 10000);
	const char *want = "{\"event\":\"status\",\"state\":\"ready\",";
	cr_assert(strncmp(line, want, strlen(want)) == 0, "%s", line);
	const char *socks[] = { "curl", "-sS", "-m", "20", "--socks5-hostname",
		tt_fmt("127.0.0.1:%d", port), tt_fmt("http://" FX_CLOUD_SERVICE ":%d/", cloud.http_port),
		NULL };
	curl(socks, FX_CLOUD_PAGE, "curl through the socks port after the reconnect");
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
	struct seen s = { 0 };
	s.socks_port = port;
	check_nothing_left(&s, PREFIX);
}

Test(up, tunnel_down_for_good_exits_1_and_tears_down)
{
	small_config("  reconnect: false\n");
	up_start(1, NULL);
	int port = ready_socks_port();
	fx_sshd_kill(&cloud.sshd);
	int status = up_wait_exit(30000);
	char *log = up_output();
	cr_assert_eq(status, 1, "exit %d after the bastion went away:\n%s", status, log);
	cr_assert(strstr(log, "\"state\":\"down\""), "%s", log);
	cr_assert(strstr(log, "devkit: tunnel to "), "%s", log);
	cr_assert(strstr(log, "{\"event\":\"closing\",\"reason\":\"the tunnel is down for good\"}"),
		"%s", log);
	free(log);
	cr_assert(!up_listening(port), "the socks port %d still listens", port);
	cr_assert_eq(up_procs_mentioning(up_dir), 0);
	cr_assert_neq(access(tt_fmt("%s/.devkit", up_dir), F_OK), 0, "the status directory is left");
}

Test(up, a_second_up_is_refused_and_a_killed_ones_socket_is_replaced)
{
	small_config("");
	up_start(1, NULL);
	int port = ready_socks_port();
	pid_t first = up_pid;

	/* The same file again, while the first runs: refused before any traffic. */
	const char *again[] = { up_devkit(), "up", "-f", up_config_path(), NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(again, up_env(), NULL, 20000, &r), 0);
	cr_assert_eq(r.exit_code, 1, "%s", r.err);
	cr_assert(strstr(r.err, "another devkit up is running for "), "%s", r.err);
	fx_run_result_free(&r);
	const char *args[] = { "-f", up_config_path(), "--json", NULL };
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 0, "the first one's socket was disturbed: %s", r.err);
	cr_assert(strstr(r.out, tt_fmt("\"pid\":%d,", (int)first)), "%s", r.out);
	fx_run_result_free(&r);

	/* Killed: its socket is left, and says so; the next devkit up replaces it. */
	up_kill();
	cr_assert(!up_listening(port));
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 1, "%s", r.out);
	cr_assert(strstr(r.err, "a devkit up that was killed left it"), "%s", r.err);
	fx_run_result_free(&r);
	up_start(1, NULL);
	ready_socks_port();
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	cr_assert(strstr(r.out, tt_fmt("\"pid\":%d,", (int)up_pid)), "%s", r.out);
	fx_run_result_free(&r);
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
	cr_assert_neq(access(tt_fmt("%s/.devkit", up_dir), F_OK), 0, "the status directory is left");
}

/* --- replicas ----------------------------------------------------------------------------- */

#define K8S_NS "shop"
#define SCHEDULED "{\"type\":\"PodScheduled\",\"status\":\"True\"}"
#define INITIALIZED "{\"type\":\"Initialized\",\"status\":\"True\"}"
#define READY_STATUS "{\"phase\":\"Running\",\"conditions\":[" SCHEDULED "," INITIALIZED "," \
	"{\"type\":\"ContainersReady\",\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"True\"}]}"

static const char *manifest(const char *name)
{
	const char *src = getenv("DEVKIT_SOURCE_DIR");
	return tt_fmt("%s/tests/replica/manifests/%s", src && *src ? src : ".", name);
}

/* The Kubernetes API fixture with the petclinic Deployment; a config with the
 * tunnel, a socks forward and one replica of it. */
static void replica_setup(void)
{
	fx_k8s_options o = { 0 };
	o.delete_grace_ms = 1000; /* deletes take a kubelet's while: up must wait */
	if (fx_k8s_start(&k8s, &o) != 0)
		cr_skip_test("the Kubernetes API fixture did not start (scripts/build_fixtures.sh "
			"builds it)");
	cr_assert_eq(fx_k8s_apply(&k8s, manifest("petclinic-deployment.yaml")), 0);
	tunnel_section();
	add("forwards:\n  - kind: socks\n    bind: 0\n");
	add("kubernetes:\n"
		"  kubeconfig: %s\n"
		"  namespace: " K8S_NS "\n"
		"  timeout: 10s\n"
		"replicas:\n"
		"  - deployment: petclinic\n"
		"    owner: alice\n"
		"    keep_alive: true\n"
		"    no_liveness: true\n", fx_k8s_kubeconfig(&k8s, FX_K8S_KUBECONFIG_DEFAULT));
	up_write_config(yaml);
}

/* The replica's name, from its "created" line. */
static const char *replica_created(void)
{
	static char name[256];
	const char *line = up_wait_line("\"stage\":\"created\"", 60000);
	json_t *j = up_parse(line);
	cr_assert_str_eq(up_jstr(j, "event"), "replica", "%s", line);
	cr_assert_str_eq(up_jstr(j, "namespace"), K8S_NS);
	cr_assert_str_eq(up_jstr(j, "source"), "deployment/petclinic");
	snprintf(name, sizeof(name), "%s", up_jstr(j, "name"));
	json_decref(j);
	cr_assert(strncmp(name, "petclinic-alice-", 16) == 0, "%s", name);
	return name;
}

static int pod_exists(const char *name)
{
	fx_run_result r;
	int status = fx_k8s_admin(&k8s, "GET", tt_fmt("/api/v1/namespaces/" K8S_NS "/pods/%s", name),
		NULL, NULL, &r);
	fx_run_result_free(&r);
	cr_assert(status == 200 || status == 404, "GET pod: %d", status);
	return status == 200;
}

Test(up, replica_from_a_deployment_is_ready_then_deleted_on_ctrl_c)
{
	replica_setup();
	up_start(1, NULL);
	const char *name = replica_created();
	cr_assert(pod_exists(name));
	/* The scheduler and the kubelet, played by the test. */
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, K8S_NS, name,
		"{\"phase\":\"Pending\",\"conditions\":[" SCHEDULED "]}"), 0);
	up_wait_line("\"stage\":\"scheduled\"", 20000);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, K8S_NS, name, READY_STATUS), 0);
	const char *line = up_wait_line("{\"event\":\"ready\"", 30000);
	json_t *ready = up_parse(line);
	json_t *rep = json_array_get(json_object_get(ready, "replicas"), 0);
	cr_assert_str_eq(up_jstr(rep, "name"), name);
	cr_assert_str_eq(up_jstr(rep, "stage"), "ready", "%s", line);
	cr_assert_str_eq(up_jstr(json_object_get(ready, "kubernetes"), "namespace"), K8S_NS);
	struct seen s = { 0 };
	s.socks_port = (int)up_jint(up_forward_of(ready, "socks"), "port");
	json_decref(ready);
	/* Stage events came as they happened, in order, before ready. */
	char *log = up_output();
	const char *sched = strstr(log, "\"stage\":\"scheduled\"");
	const char *rdy = strstr(log, "\"event\":\"replica-stage\",\"replica\"");
	cr_assert(sched && rdy && strstr(log, "\"stage\":\"ready\""), "%s", log);
	free(log);

	const char *args[] = { "-f", up_config_path(), "--json", NULL };
	fx_run_result r;
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *st = up_parse(r.out);
	cr_assert_str_eq(up_jstr(json_array_get(json_object_get(st, "replicas"), 0), "stage"),
		"ready", "%s", r.out);
	json_decref(st);
	fx_run_result_free(&r);

	/* Ctrl-C: the replica first, waiting until it is gone. */
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
	cr_assert(!pod_exists(name), "the replica outlived devkit up");
	log = up_output();
	const char *closing = strstr(log, "\"event\":\"closing\"");
	cr_assert_not_null(closing, "%s", log);
	const char *deleted = strstr(closing, tt_fmt("{\"event\":\"stopped\",\"what\":\"replica\","
		"\"name\":\"" K8S_NS "/%s\",\"ok\":true}", name));
	const char *tunnel = strstr(closing, "\"what\":\"tunnel\"");
	cr_assert(deleted && tunnel && deleted < tunnel, "%s", closing);
	free(log);
	check_nothing_left(&s, PREFIX);
}

Test(up, replica_that_cannot_start_fails_the_bring_up_and_is_deleted)
{
	replica_setup();
	up_start(0, NULL);
	up_wait_line("replica deployment/petclinic: created " K8S_NS "/", 60000);
	const char *line = up_wait_line("replica deployment/petclinic: created", 1000);
	const char *name = strstr(line, K8S_NS "/") + strlen(K8S_NS "/");
	char pod[256];
	snprintf(pod, sizeof(pod), "%s", name);
	cr_assert_eq(fx_k8s_set_pod_status(&k8s, K8S_NS, pod, "{\"phase\":\"Pending\",\"conditions\":["
		SCHEDULED "," INITIALIZED "],\"containerStatuses\":[{\"name\":\"petclinic\",\"ready\":"
		"false,\"restartCount\":0,\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\","
		"\"message\":\"Back-off pulling image\"}}}]}"), 0);
	int status = up_wait_exit(60000);
	char *log = up_output();
	cr_assert_eq(status, 1, "exit %d:\n%s", status, log);
	cr_assert(strstr(log, "devkit: replicas[0] deployment/petclinic: replica " K8S_NS "/"),
		"%s", log);
	cr_assert(strstr(log, "ImagePullBackOff"), "the reason is not named:\n%s", log);
	cr_assert(strstr(log, tt_fmt("replica " K8S_NS "/%s: deleted", pod)), "%s", log);
	cr_assert(strstr(log, "ready; Ctrl-C") == NULL, "%s", log);
	free(log);
	cr_assert(!pod_exists(pod), "the replica that failed was left in the cluster");
	cr_assert_eq(up_procs_mentioning(up_dir), 0);
	cr_assert_eq(up_sshd_sessions(&cloud.sshd, 10000), 0);
}

Test(up, ctrl_c_while_a_replica_starts_deletes_it)
{
	replica_setup();
	up_start(1, NULL);
	const char *name = replica_created();
	char pod[256];
	snprintf(pod, sizeof(pod), "%s", name);
	/* No kubelet: the Pod stays Pending; devkit up waits, and must still
	 * answer status and a signal. */
	const char *args[] = { "-f", up_config_path(), "--json", NULL };
	fx_run_result r;
	up_status(args, &r);
	cr_assert_eq(r.exit_code, 0, "%s", r.err);
	json_t *st = up_parse(r.out);
	cr_assert_str_eq(up_jstr(st, "state"), "starting", "%s", r.out);
	cr_assert_str_eq(up_jstr(json_array_get(json_object_get(st, "replicas"), 0), "stage"),
		"created", "%s", r.out);
	json_decref(st);
	fx_run_result_free(&r);
	long long t0 = fx_now_ms();
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
	fprintf(stderr, "[up] Ctrl-C while starting: down in %lld ms\n", fx_now_ms() - t0);
	cr_assert(!pod_exists(pod), "the replica outlived devkit up");
	char *log = up_output();
	cr_assert(strstr(log, "\"event\":\"ready\"") == NULL, "%s", log);
	cr_assert(strstr(log, "{\"event\":\"down\",\"exit\":0,\"left_behind\":0}"), "%s", log);
	free(log);
}

Test(up, run_hint_carries_the_files_dns_names)
{
	/* A search list of the file's own: `devkit run --control` must be told
	 * it, or the shim would not send short names to this DNS. */
	tunnel_section();
	add("dns:\n"
		"  cluster_dns: %s\n"
		"  upstream: 127.0.0.1:%d\n"
		"  domains: [cluster.local, corp.internal]\n"
		"  search: svc.cluster.local,cluster.local\n"
		"routing:\n", cloud.cluster_dns, fx_free_port());
	up_write_config(yaml);
	up_start(1, NULL);
	json_t *routing = up_parse(up_wait_line("{\"event\":\"routing\"", 60000));
	const char *control = up_jstr(routing, "control");
	cr_assert_str_eq(up_jstr(routing, "run"), tt_fmt("devkit run --control %s --cluster-domain "
		"cluster.local --cluster-domain corp.internal --search svc.cluster.local,cluster.local "
		"-- CMD", control));
	up_wait_line("{\"event\":\"ready\"", 30000);
	/* As printed, it works: "orders.default" through the file's search list. */
	const char *run[] = { up_devkit(), "run", "--control", control, "--cluster-domain",
		"cluster.local", "--cluster-domain", "corp.internal", "--search",
		"svc.cluster.local,cluster.local", "--", "curl", "-sS", "-m", "20",
		tt_fmt("http://orders.default:%d/", cloud.http_port), NULL };
	curl(run, FX_CLOUD_PAGE, "devkit run with the printed flags");
	json_decref(routing);
	cr_assert_eq(up_signal(SIGINT), 0, "no exit 0 on SIGINT:\n%s", up_output());
}

Test(up, help)
{
	const char *argv[] = { up_devkit(), "up", "--help", NULL };
	fx_run_result r;
	cr_assert_eq(fx_run(argv, NULL, NULL, 10000, &r), 0);
	cr_assert_eq(r.exit_code, 0);
	cr_assert(strstr(r.out, "Usage: devkit up [-f FILE]"), "%s", r.out);
	fx_run_result_free(&r);
	const char *top[] = { up_devkit(), "--help", NULL };
	cr_assert_eq(fx_run(top, NULL, NULL, 10000, &r), 0);
	cr_assert(strstr(r.out, "  up ") && strstr(r.out, "  status ") && strstr(r.out, "  config "),
		"%s", r.out);
	fx_run_result_free(&r);
}
