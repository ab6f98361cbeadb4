/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every key reaches its options struct field: tests/config/examples/full.yaml
 * sets every key to a value other than its default, and each field of each
 * struct is checked here. minimal.yaml checks the defaults.
 */
#include "config_test.h"

static char examples[PATH_MAX];

static devkit_config *load_example(const char *file, const char *profile)
{
	char path[PATH_MAX + 64], dir[PATH_MAX + 64];
	devkit_config *cfg = NULL;
	snprintf(dir, sizeof(dir), "%s/tests/config/examples", source_dir());
	/* The examples' relative paths resolve against their directory, as
	 * realpath() spells it. */
	cr_assert_not_null(realpath(dir, examples));
	snprintf(path, sizeof(path), "%s/%s", examples, file);
	set_example_env();
	int rc = devkit_config_load(&cfg, path, profile);
	cr_assert_eq(rc, 0, "%s: %s", file, rc ? devkit_error_last()->message : "");
	return cfg;
}

static void assert_path(const char *got, const char *relative)
{
	char want[PATH_MAX + 64];
	snprintf(want, sizeof(want), "%s/%s", examples, relative);
	cr_assert_str_eq(got, want);
}

Test(keys, tunnel_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	const devkit_tunnel_options *t = devkit_config_tunnel(cfg);
	cr_assert_not_null(t);
	cr_assert_eq(t->version, DEVKIT_TUNNEL_OPTIONS_VERSION);
	cr_assert_str_eq(t->bastion, "dev@bastion.example.com:2222");
	cr_assert_str_eq(t->user, "alice");
	assert_path(t->identity_file, "keys/id_ed25519");
	cr_assert_str_eq(t->identity_passphrase, "pass-phrase-secret");
	cr_assert_str_eq(t->password, "bastion-secret");
	cr_assert_eq(t->use_agent, 0);
	cr_assert_str_eq(t->known_hosts_file, "/home/alice/.ssh/devkit_known_hosts");
	cr_assert_eq(t->host_key_policy, DEVKIT_HOST_KEY_ACCEPT_NEW);
	cr_assert_null(t->host_key_sha256);
	cr_assert_str_eq(t->ciphers, "aes128-ctr,aes256-gcm@openssh.com");
	cr_assert_str_eq(t->macs, "hmac-sha2-256,hmac-sha2-512");
	cr_assert_str_eq(t->kex, "curve25519-sha256");
	cr_assert_eq(t->connect_timeout_ms, 20000);
	cr_assert_eq(t->keepalive_interval_s, 60);
	cr_assert_eq(t->keepalive_count_max, 5);
	cr_assert_eq(t->reconnect, 0);
	cr_assert_eq(t->reconnect_initial_ms, 500);
	cr_assert_eq(t->reconnect_max_ms, 90000);
	cr_assert_eq(t->reconnect_max_attempts, 10);
	devkit_config_free(cfg);
}

Test(keys, host_key_through_a_profile)
{
	devkit_config *cfg = load_example("full.yaml", "pinned");
	const devkit_tunnel_options *t = devkit_config_tunnel(cfg);
	cr_assert_str_eq(t->host_key_sha256, "SHA256:zBuMoZLSDbmd6jwKYdTdGDOfJTjYz0A7dVtMHj8PlUg");
	cr_assert_eq(t->host_key_policy, DEVKIT_HOST_KEY_STRICT);
	cr_assert_str_eq(devkit_config_profile(cfg), "pinned");
	cr_assert_eq(devkit_config_profile_count(cfg), 1);
	cr_assert_str_eq(devkit_config_profile_name(cfg, 0), "pinned");
	cr_assert_null(devkit_config_profile_name(cfg, 1));
	devkit_config_free(cfg);
}

Test(keys, forwards_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	cr_assert_eq(devkit_config_forward_count(cfg), 3);

	const devkit_forward_options *f = devkit_config_forward(cfg, 0);
	cr_assert_eq(f->version, DEVKIT_FORWARD_OPTIONS_VERSION);
	cr_assert_eq(f->kind, DEVKIT_FORWARD_DYNAMIC);
	cr_assert_str_eq(f->bind_address, "127.0.0.1");
	cr_assert_eq(f->bind_port, 1080);
	cr_assert_null(f->target_host);
	cr_assert_eq(f->target_port, 0);
	cr_assert_str_eq(f->proxy_username, "dev");
	cr_assert_str_eq(f->proxy_password, "proxy-secret");
	cr_assert_eq(f->allow_non_loopback, 1);

	f = devkit_config_forward(cfg, 1);
	cr_assert_eq(f->kind, DEVKIT_FORWARD_LOCAL);
	cr_assert_null(f->bind_address);
	cr_assert_eq(f->bind_port, 5432);
	cr_assert_str_eq(f->target_host, "orders-db.default.svc.cluster.local");
	cr_assert_eq(f->target_port, 5432);
	cr_assert_null(f->proxy_username);
	cr_assert_null(f->proxy_password);
	cr_assert_eq(f->allow_non_loopback, 0);

	f = devkit_config_forward(cfg, 2);
	cr_assert_eq(f->kind, DEVKIT_FORWARD_REMOTE);
	cr_assert_str_eq(f->bind_address, "::1"); /* brackets are the file's, not the address's */
	cr_assert_eq(f->bind_port, 9000);
	cr_assert_str_eq(f->target_host, "::1");
	cr_assert_eq(f->target_port, 3000);

	cr_assert_null(devkit_config_forward(cfg, 3));
	devkit_config_free(cfg);
}

Test(keys, dns_and_routing_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	const devkit_dns_options *d = devkit_config_dns(cfg);
	cr_assert_not_null(d);
	cr_assert_eq(d->version, DEVKIT_DNS_OPTIONS_VERSION);
	cr_assert_str_eq(d->cluster_dns, "10.96.0.10:53");
	cr_assert_str_eq(d->cluster_domains, "cluster.local,corp.internal");
	cr_assert_str_eq(d->search, "default.svc.cluster.local,svc.cluster.local");
	cr_assert_eq(d->ndots, 2);
	cr_assert_str_eq(d->upstream, "1.1.1.1");
	cr_assert_str_eq(d->bind_address, "127.0.0.1");
	cr_assert_eq(d->bind_port, 5353);
	cr_assert_eq(d->timeout_ms, 2000);
	cr_assert_eq(d->cache_max, 100);

	const devkit_router_options *r = devkit_config_router(cfg);
	cr_assert_not_null(r);
	cr_assert_eq(r->version, DEVKIT_ROUTER_OPTIONS_VERSION);
	cr_assert_null(r->dns); /* the caller's: a running devkit_dns */
	assert_path(r->control_path, "run/control.sock");
	cr_assert_eq(r->open_timeout_ms, 5000);
	devkit_config_free(cfg);
}

Test(keys, expose_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	cr_assert_eq(devkit_config_expose_count(cfg), 1);
	const devkit_expose_options *e = devkit_config_expose(cfg, 0);
	const devkit_registration_options *r = devkit_config_expose_registration(cfg, 0);

	cr_assert_eq(e->version, DEVKIT_EXPOSE_OPTIONS_VERSION);
	cr_assert_str_eq(e->local_host, "127.0.0.1");
	cr_assert_eq(e->local_port, 8080);
	cr_assert_str_eq(e->remote_bind_address, "0.0.0.0");
	cr_assert_eq(e->remote_port, 41234);
	cr_assert_str_eq(e->advertise_host, "10.0.0.1");
	cr_assert_eq(e->registry_via_tunnel, 0);

	cr_assert_eq(r->version, DEVKIT_REGISTRATION_OPTIONS_VERSION);
	cr_assert_str_eq(r->registry,
		"nacos+https://nacos.infra:8848?namespace=dev&group=DEFAULT_GROUP");
	cr_assert_str_eq(r->service, "orders");
	cr_assert_null(r->address); /* filled by devkit_tunnel_expose */
	cr_assert_eq(r->port, 0);
	cr_assert_str_eq(r->metadata, "version=2\nzone=eu-1");
	cr_assert_str_eq(r->tag, "alice");
	cr_assert_str_eq(r->username, "nacos");
	cr_assert_str_eq(r->password, "registry-secret");
	cr_assert_str_eq(r->token, "token-secret");
	cr_assert_eq(r->ttl_ms, 30000);
	cr_assert_eq(r->heartbeat_ms, 10000);
	cr_assert_str_eq(r->protocol, "dubbo");
	cr_assert_str_eq(r->interface_name, "com.example.Orders");
	cr_assert_str_eq(r->methods, "get,list");
	assert_path(r->ca_file, "certs/ca.pem");
	cr_assert_eq(r->insecure, 1);
	cr_assert_null(r->connect_to); /* set by devkit_tunnel_expose */
	cr_assert_eq(r->timeout_ms, 3000);

	cr_assert_null(devkit_config_expose(cfg, 1));
	cr_assert_null(devkit_config_expose_registration(cfg, 1));
	devkit_config_free(cfg);
}

Test(keys, kubernetes_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	const devkit_k8s_options *k = devkit_config_kubernetes(cfg);
	char want[PATH_MAX * 2];
	cr_assert_not_null(k);
	cr_assert_eq(k->version, DEVKIT_K8S_OPTIONS_VERSION);
	snprintf(want, sizeof(want), "%s/kube/config:/home/alice/.kube/config", examples);
	cr_assert_str_eq(k->kubeconfig, want);
	cr_assert_str_eq(k->context, "dev-cluster");
	cr_assert_str_eq(k->namespace_name, "team-a");
	cr_assert_eq(k->timeout_ms, 10000);
	cr_assert_eq(k->retries, 5);
	cr_assert_str_eq(k->connect_to, "127.0.0.1:6443");
	devkit_config_free(cfg);
}

Test(keys, replicas_every_field)
{
	devkit_config *cfg = load_example("full.yaml", NULL);
	cr_assert_eq(devkit_config_replica_count(cfg), 4);
	const devkit_replica_options *r = devkit_config_replica(cfg, 0);

	cr_assert_eq(r->version, DEVKIT_REPLICA_OPTIONS_VERSION);
	cr_assert_eq(r->source_kind, DEVKIT_REPLICA_FROM_DEPLOYMENT);
	cr_assert_str_eq(r->source_name, "orders");
	cr_assert_str_eq(r->namespace_name, "team-a");
	cr_assert_str_eq(r->name, "orders-alice");
	cr_assert_str_eq(r->owner, "alice");
	cr_assert_str_eq(r->container, "app");
	cr_assert_eq(r->keep_alive, 1);
	cr_assert_str_eq(r->command, "java -jar /app/app.jar");
	cr_assert_str_eq(r->node_name, "node-3");
	cr_assert_str_eq(r->log_file, "/tmp/app.log"); /* in the container: not resolved */
	cr_assert_str_eq(r->traffic_tag, "alice");
	cr_assert_eq(r->istio, 1);
	cr_assert_str_eq(r->tag_header, "x-user");
	cr_assert_str_eq(r->istio_host, "orders.team-a.svc.cluster.local");
	cr_assert_eq(r->tcpdump, 1);
	cr_assert_str_eq(r->tcpdump_image, "nicolaka/netshoot:v0.12");
	cr_assert_str_eq(r->tcpdump_filter, "port 8080");
	cr_assert_eq(r->jvm_exception_log, 1);
	cr_assert_eq(r->no_liveness, 1);
	cr_assert_eq(r->no_readiness, 1);
	cr_assert_eq(r->no_startup, 1);
	cr_assert_eq(r->debug_port, 5005);
	cr_assert_eq(r->ttl_s, 4 * 3600);
	cr_assert_eq(r->keep_labels, 1);

	cr_assert_eq(devkit_config_replica(cfg, 1)->source_kind, DEVKIT_REPLICA_FROM_POD);
	cr_assert_str_eq(devkit_config_replica(cfg, 1)->source_name, "web-1");
	cr_assert_eq(devkit_config_replica(cfg, 2)->source_kind, DEVKIT_REPLICA_FROM_STATEFULSET);
	cr_assert_eq(devkit_config_replica(cfg, 3)->source_kind, DEVKIT_REPLICA_FROM_DAEMONSET);
	cr_assert_str_eq(devkit_config_replica(cfg, 3)->source_name, "agent");
	cr_assert_null(devkit_config_replica(cfg, 4));
	devkit_config_free(cfg);
}

/* Field by field (struct padding makes memcmp meaningless). */
#define SAME_STR(a, b, f) cr_assert((!(a)->f && !(b)->f) || ((a)->f && (b)->f && !strcmp((a)->f, (b)->f)), \
	#f ": \"%s\" vs \"%s\"", (a)->f ? (a)->f : "(null)", (b)->f ? (b)->f : "(null)")
#define SAME(a, b, f) cr_assert_eq((a)->f, (b)->f, #f)

static void same_tunnel(const devkit_tunnel_options *a, const devkit_tunnel_options *b)
{
	SAME(a, b, version); SAME_STR(a, b, bastion); SAME_STR(a, b, user);
	SAME_STR(a, b, identity_file); SAME_STR(a, b, identity_passphrase); SAME_STR(a, b, password);
	SAME(a, b, use_agent); SAME_STR(a, b, known_hosts_file); SAME(a, b, host_key_policy);
	SAME_STR(a, b, host_key_sha256); SAME_STR(a, b, ciphers); SAME_STR(a, b, macs);
	SAME_STR(a, b, kex); SAME(a, b, connect_timeout_ms); SAME(a, b, keepalive_interval_s);
	SAME(a, b, keepalive_count_max); SAME(a, b, reconnect); SAME(a, b, reconnect_initial_ms);
	SAME(a, b, reconnect_max_ms); SAME(a, b, reconnect_max_attempts);
}

static void same_forward(const devkit_forward_options *a, const devkit_forward_options *b)
{
	SAME(a, b, version); SAME(a, b, kind); SAME_STR(a, b, bind_address); SAME(a, b, bind_port);
	SAME_STR(a, b, target_host); SAME(a, b, target_port); SAME_STR(a, b, proxy_username);
	SAME_STR(a, b, proxy_password); SAME(a, b, allow_non_loopback);
}

static void same_dns(const devkit_dns_options *a, const devkit_dns_options *b)
{
	SAME(a, b, version); SAME_STR(a, b, cluster_dns); SAME_STR(a, b, cluster_domains);
	SAME_STR(a, b, search); SAME(a, b, ndots); SAME_STR(a, b, upstream);
	SAME_STR(a, b, bind_address); SAME(a, b, bind_port); SAME(a, b, timeout_ms);
	SAME(a, b, cache_max);
}

static void same_router(const devkit_router_options *a, const devkit_router_options *b)
{
	SAME(a, b, version); SAME(a, b, dns); SAME_STR(a, b, control_path); SAME(a, b, open_timeout_ms);
}

static void same_expose(const devkit_expose_options *a, const devkit_expose_options *b)
{
	SAME(a, b, version); SAME_STR(a, b, local_host); SAME(a, b, local_port);
	SAME_STR(a, b, remote_bind_address); SAME(a, b, remote_port); SAME_STR(a, b, advertise_host);
	SAME(a, b, registry_via_tunnel);
}

static void same_registration(const devkit_registration_options *a,
	const devkit_registration_options *b)
{
	SAME(a, b, version); SAME_STR(a, b, registry); SAME_STR(a, b, service);
	SAME_STR(a, b, address); SAME(a, b, port); SAME_STR(a, b, metadata); SAME_STR(a, b, tag);
	SAME_STR(a, b, username); SAME_STR(a, b, password); SAME_STR(a, b, token);
	SAME(a, b, ttl_ms); SAME(a, b, heartbeat_ms); SAME_STR(a, b, protocol);
	SAME_STR(a, b, interface_name); SAME_STR(a, b, methods); SAME_STR(a, b, ca_file);
	SAME(a, b, insecure); SAME_STR(a, b, connect_to); SAME(a, b, timeout_ms);
}

static void same_k8s(const devkit_k8s_options *a, const devkit_k8s_options *b)
{
	SAME(a, b, version); SAME_STR(a, b, kubeconfig); SAME_STR(a, b, context);
	SAME_STR(a, b, namespace_name); SAME(a, b, timeout_ms); SAME(a, b, retries);
	SAME_STR(a, b, connect_to);
}

static void same_replica(const devkit_replica_options *a, const devkit_replica_options *b)
{
	SAME(a, b, version); SAME(a, b, source_kind); SAME_STR(a, b, source_name);
	SAME_STR(a, b, namespace_name); SAME_STR(a, b, name); SAME_STR(a, b, owner);
	SAME_STR(a, b, container); SAME(a, b, keep_alive); SAME_STR(a, b, command);
	SAME_STR(a, b, node_name); SAME_STR(a, b, log_file); SAME_STR(a, b, traffic_tag);
	SAME(a, b, istio); SAME_STR(a, b, tag_header); SAME_STR(a, b, istio_host);
	SAME(a, b, tcpdump); SAME_STR(a, b, tcpdump_image); SAME_STR(a, b, tcpdump_filter);
	SAME(a, b, jvm_exception_log); SAME(a, b, no_liveness); SAME(a, b, no_readiness);
	SAME(a, b, no_startup); SAME(a, b, debug_port); SAME(a, b, ttl_s); SAME(a, b, keep_labels);
}

/* A minimal section leaves every other field exactly as its _INIT macro. */
Test(keys, defaults_are_the_init_macros)
{
	devkit_config *cfg = load_example("minimal.yaml", NULL);
	devkit_tunnel_options t = DEVKIT_TUNNEL_OPTIONS_INIT;
	devkit_forward_options f = DEVKIT_FORWARD_OPTIONS_INIT;
	devkit_dns_options d = DEVKIT_DNS_OPTIONS_INIT;
	devkit_router_options r = DEVKIT_ROUTER_OPTIONS_INIT;
	devkit_expose_options e = DEVKIT_EXPOSE_OPTIONS_INIT;
	devkit_registration_options g = DEVKIT_REGISTRATION_OPTIONS_INIT;
	devkit_k8s_options k = DEVKIT_K8S_OPTIONS_INIT;
	devkit_replica_options p = DEVKIT_REPLICA_OPTIONS_INIT;

	t.bastion = "bastion.example.com";
	same_tunnel(devkit_config_tunnel(cfg), &t);
	f.kind = DEVKIT_FORWARD_DYNAMIC;
	same_forward(devkit_config_forward(cfg, 0), &f);
	d.cluster_dns = "10.96.0.10";
	same_dns(devkit_config_dns(cfg), &d);
	same_router(devkit_config_router(cfg), &r);
	e.local_port = 8080;
	same_expose(devkit_config_expose(cfg, 0), &e);
	g.registry = "etcd://10.0.0.5:2379";
	g.service = "orders";
	same_registration(devkit_config_expose_registration(cfg, 0), &g);
	same_k8s(devkit_config_kubernetes(cfg), &k);
	p.source_kind = DEVKIT_REPLICA_FROM_POD;
	p.source_name = "web-1";
	same_replica(devkit_config_replica(cfg, 0), &p);
	devkit_config_free(cfg);
}

Test(keys, absent_sections_are_null)
{
	devkit_config *cfg = load_ok("# nothing configured yet\n", NULL);
	cr_assert_null(devkit_config_tunnel(cfg));
	cr_assert_eq(devkit_config_forward_count(cfg), 0);
	cr_assert_null(devkit_config_forward(cfg, 0));
	cr_assert_null(devkit_config_dns(cfg));
	cr_assert_null(devkit_config_router(cfg));
	cr_assert_eq(devkit_config_expose_count(cfg), 0);
	cr_assert_null(devkit_config_kubernetes(cfg));
	cr_assert_eq(devkit_config_replica_count(cfg), 0);
	cr_assert_eq(devkit_config_profile_count(cfg), 0);
	cr_assert_null(devkit_config_profile(cfg));
	cr_assert_str_eq(devkit_config_name(cfg), "devkit.yaml");
	devkit_config_free(cfg);
	devkit_config_free(NULL);
}

Test(keys, routing_can_be_switched_off)
{
	devkit_config *cfg = load_ok(TUNNEL "routing:\n  enabled: false\n", NULL);
	cr_assert_null(devkit_config_router(cfg));
	devkit_config_free(cfg);
}

Test(keys, lists_and_strings_are_the_same)
{
	devkit_config *a = load_ok(TUNNEL "  ciphers: aes128-ctr,aes256-ctr\n", NULL);
	devkit_config *b = load_ok(TUNNEL "  ciphers:\n    - aes128-ctr\n    - aes256-ctr\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(a)->ciphers, devkit_config_tunnel(b)->ciphers);
	devkit_config_free(a);
	devkit_config_free(b);
}

Test(keys, durations)
{
	static const struct { const char *text; int ms; } cases[] = {
		{ "500ms", 500 }, { "30s", 30000 }, { "2m", 120000 }, { "1h", 3600000 },
		{ "1h30m", 5400000 }, { "1.5s", 1500 }, { "0.25s", 250 }, { "1m0.5s", 60500 },
		{ "3600s", 3600000 }, { "1s1ms", 1001 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char yaml[256];
		snprintf(yaml, sizeof(yaml), TUNNEL "  reconnect_max: %s\n", cases[i].text);
		devkit_config *cfg = load_ok(yaml, NULL);
		cr_assert_eq(devkit_config_tunnel(cfg)->reconnect_max_ms, cases[i].ms, "%s",
			cases[i].text);
		devkit_config_free(cfg);
	}
	/* 0 is zero in any unit, written bare or quoted. */
	devkit_config *cfg = load_ok(TUNNEL "  keepalive_interval: 0\n", NULL);
	cr_assert_eq(devkit_config_tunnel(cfg)->keepalive_interval_s, 0);
	devkit_config_free(cfg);
	cfg = load_ok(TUNNEL "  keepalive_interval: \"0\"\n", NULL);
	cr_assert_eq(devkit_config_tunnel(cfg)->keepalive_interval_s, 0);
	devkit_config_free(cfg);
}

Test(keys, ports_as_numbers_or_text)
{
	devkit_config *cfg = load_ok(TUNNEL "forwards:\n"
		"  - {kind: socks, bind: 1080}\n"
		"  - {kind: socks, bind: \"1081\"}\n"
		"  - {kind: socks, bind: 0x43a}\n"
		"  - {kind: local, bind: \"localhost:0\", target: \"[fd00::5]:80\"}\n", NULL);
	cr_assert_eq(devkit_config_forward(cfg, 0)->bind_port, 1080);
	cr_assert_eq(devkit_config_forward(cfg, 1)->bind_port, 1081);
	cr_assert_eq(devkit_config_forward(cfg, 2)->bind_port, 1082);
	cr_assert_str_eq(devkit_config_forward(cfg, 3)->bind_address, "localhost");
	cr_assert_eq(devkit_config_forward(cfg, 3)->bind_port, 0);
	cr_assert_str_eq(devkit_config_forward(cfg, 3)->target_host, "fd00::5");
	devkit_config_free(cfg);
}

Test(keys, booleans_are_yaml_booleans)
{
	static const char *const truths[] = { "true", "True", "TRUE" };
	for (size_t i = 0; i < 3; i++) {
		char yaml[128];
		snprintf(yaml, sizeof(yaml), TUNNEL "  accept_new: %s\n", truths[i]);
		devkit_config *cfg = load_ok(yaml, NULL);
		cr_assert_eq(devkit_config_tunnel(cfg)->host_key_policy, DEVKIT_HOST_KEY_ACCEPT_NEW);
		devkit_config_free(cfg);
	}
}

Test(keys, host_forms)
{
	devkit_config *cfg = load_ok(TUNNEL "expose:\n"
		"  - {local: \"[::1]:8080\", service: a, registry: \"zookeeper://z1:2181,z2:2181/dubbo\","
		" advertise: \"[fd00::1]\", remote_bind: \"::\"}\n", NULL);
	const devkit_expose_options *e = devkit_config_expose(cfg, 0);
	cr_assert_str_eq(e->local_host, "::1");
	cr_assert_str_eq(e->advertise_host, "fd00::1");
	cr_assert_str_eq(e->remote_bind_address, "::");
	devkit_config_free(cfg);
}
