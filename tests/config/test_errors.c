/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every error a key can give, with its exact message: file:line:column, the
 * key's path, what was expected and what was found.
 */
#include "config_test.h"

#define T "tunnel: {bastion: h}\n"

Test(errors, unknown_keys_suggest_the_nearest)
{
	load_fails("tunel:\n  bastion: h\n",
		"devkit.yaml:1:1: unknown key \"tunel\" at the top level (did you mean \"tunnel\"?)");
	load_fails("tunnel:\n  bastian: h\n",
		"devkit.yaml:2:3: unknown key \"bastian\" in tunnel (did you mean \"bastion\"?)");
	load_fails(T "forwards:\n  - kind: local\n    targte: db:5432\n",
		"devkit.yaml:4:5: unknown key \"targte\" in forwards[0] (did you mean \"target\"?)");
	load_fails(T "replicas:\n  - pod: a\n    keepalive: true\n",
		"devkit.yaml:4:5: unknown key \"keepalive\" in replicas[0] (did you mean \"keep_alive\"?)");
	load_fails(T "expose:\n  - {local: 1, service: s, registry: \"etcd://e\", Metadata: {}}\n",
		"devkit.yaml:3:50: unknown key \"Metadata\" in expose[0] (did you mean \"metadata\"?)");
}

Test(errors, unknown_key_without_a_near_one_lists_the_keys)
{
	load_fails("dns: {cluster_dns: d, zzzzzz: 1}\n" T,
		"devkit.yaml:1:23: unknown key \"zzzzzz\" in dns (known keys: cluster_dns, domains, "
		"search, ndots, upstream, bind, timeout, cache_max)");
}

Test(errors, x_keys_only_at_the_top)
{
	devkit_config *cfg = load_ok("x-anything: {free: [form]}\n" T, NULL);
	devkit_config_free(cfg);
	load_fails("tunnel: {bastion: h, x-note: 1}\n",
		"devkit.yaml:1:22: unknown key \"x-note\" in tunnel (known keys: bastion, user, "
		"identity, passphrase_env, password_env, agent, known_hosts, accept_new, host_key, "
		"ciphers, macs, kex, connect_timeout, keepalive_interval, keepalive_count_max, "
		"reconnect, reconnect_initial, reconnect_max, reconnect_max_attempts)");
}

Test(errors, wrong_kinds_are_named)
{
	load_fails("forwards: {kind: socks}\n",
		"devkit.yaml:1:11: forwards: expected a list, got a mapping");
	load_fails("tunnel: [a]\n", "devkit.yaml:1:9: tunnel: expected a mapping, got a list");
	load_fails("dns: 10.96.0.10\n", "devkit.yaml:1:6: dns: expected a mapping, got a string");
	load_fails("tunnel: {bastion: [a]}\n", "devkit.yaml:1:19: tunnel.bastion: expected "
		"[USER@]HOST[:PORT] with a port 1-65535 (IPv6 in brackets), got a list");
	load_fails("tunnel: {bastion: h, ciphers: {a: 1}}\n", "devkit.yaml:1:31: tunnel.ciphers: "
		"expected a list of names (or one comma-separated string), got a mapping");
	load_fails(T "forwards: [socks]\n",
		"devkit.yaml:2:12: forwards[0]: expected a mapping, got a string");
	load_fails("tunnel: {bastion: h, ciphers: [[a]]}\n",
		"devkit.yaml:1:32: tunnel.ciphers[0]: expected a string, got a list");
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", metadata: [a]}]\n",
		"devkit.yaml:2:66: expose[0].metadata: expected a mapping of names to values, got a list");
}

Test(errors, empty_values)
{
	load_fails("tunnel:\n  bastion:\n", "devkit.yaml:2:11: tunnel.bastion: no value given "
		"(remove the key to use the default)");
	load_fails("tunnel: {bastion: h, user: \"\"}\n",
		"devkit.yaml:1:28: tunnel.user: the value is empty (remove the key to use the default)");
}

Test(errors, strings)
{
	load_fails("tunnel: {bastion: h, user: 123}\n", "devkit.yaml:1:28: tunnel.user: expected a "
		"string without blanks, got an integer 123 (put it in quotes to use it as text)");
	load_fails("tunnel: {bastion: h, user: \"a b\"}\n",
		"devkit.yaml:1:28: tunnel.user: expected a string without blanks, got \"a b\"");
	load_fails("kubernetes: {context: \"a\\tb\"}\n",
		"devkit.yaml:1:23: kubernetes.context: expected a string, got \"a\\x09b\"");
}

Test(errors, booleans)
{
	load_fails("tunnel: {bastion: h, agent: yes}\n",
		"devkit.yaml:1:29: tunnel.agent: expected true or false, got \"yes\"");
	load_fails("tunnel: {bastion: h, agent: \"true\"}\n",
		"devkit.yaml:1:29: tunnel.agent: expected true or false, got \"true\"");
	load_fails("tunnel: {bastion: h, agent: 1}\n",
		"devkit.yaml:1:29: tunnel.agent: expected true or false, got an integer 1");
}

Test(errors, integers)
{
	load_fails("tunnel: {bastion: h, keepalive_count_max: 0}\n", "devkit.yaml:1:43: "
		"tunnel.keepalive_count_max: expected an integer from 1 to 1000, got an integer 0");
	load_fails("tunnel: {bastion: h, keepalive_count_max: \"3\"}\n", "devkit.yaml:1:43: "
		"tunnel.keepalive_count_max: expected an integer from 1 to 1000, got \"3\"");
	load_fails("tunnel: {bastion: h, keepalive_count_max: 1.5}\n", "devkit.yaml:1:43: "
		"tunnel.keepalive_count_max: expected an integer from 1 to 1000, got a number 1.5");
	load_fails("tunnel: {bastion: h, keepalive_count_max: 99999999999999999999999}\n",
		"devkit.yaml:1:43: tunnel.keepalive_count_max: expected an integer from 1 to 1000, "
		"got an integer 99999999999999999999999");
	load_fails("dns: {cluster_dns: d, ndots: 16}\n" T, "devkit.yaml:1:30: dns.ndots: expected "
		"an integer from 0 to 15, got an integer 16");
	load_fails("kubernetes: {retries: -1}\n", "devkit.yaml:1:23: kubernetes.retries: expected "
		"an integer from 0 to 10, got an integer -1");
	load_fails("replicas: [{pod: a, debug_port: 65536}]\n", "devkit.yaml:1:33: "
		"replicas[0].debug_port: expected an integer from 0 to 65535, got an integer 65536");
}

Test(errors, durations)
{
	const char *want = "devkit.yaml:1:39: tunnel.connect_timeout: expected a duration like "
		"30s, 500ms or 8h (from 1ms to 1h), got ";
	static const char *const bad[][2] = {
		{ "30", "an integer 30" }, { "\"30\"", "\"30\"" }, { "soon", "\"soon\"" },
		{ "2h", "\"2h\"" }, { "1.5ms", "\"1.5ms\"" }, { "-1s", "\"-1s\"" }, { "1s2", "\"1s2\"" },
		{ "0", "an integer 0" }, { "1d", "\"1d\"" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[128], message[512];
		snprintf(yaml, sizeof(yaml), "tunnel: {bastion: h, connect_timeout: %s}\n", bad[i][0]);
		snprintf(message, sizeof(message), "%s%s", want, bad[i][1]);
		load_fails(yaml, message);
	}
	load_fails("tunnel: {bastion: h, keepalive_interval: 1500ms}\n", "devkit.yaml:1:42: "
		"tunnel.keepalive_interval: expected a whole number of seconds, got \"1500ms\"");
	load_fails("replicas: [{pod: a, ttl: 30s}]\n", "devkit.yaml:1:26: replicas[0].ttl: "
		"expected a duration like 30s, 500ms or 8h (from 1m to 720h), got \"30s\"");
}

Test(errors, ports_and_addresses)
{
	load_fails(T "expose:\n  - local: http\n    service: s\n    registry: etcd://e:2379\n",
		"devkit.yaml:3:12: expose[0].local: expected [HOST:]PORT with a port 1-65535, got \"http\"");
	load_fails(T "expose: [{local: 0, service: s, registry: \"etcd://e\"}]\n",
		"devkit.yaml:2:18: expose[0].local: expected [HOST:]PORT with a port 1-65535, "
		"got an integer 0");
	load_fails(T "expose: [{local: 70000, service: s, registry: \"etcd://e\"}]\n",
		"devkit.yaml:2:18: expose[0].local: expected [HOST:]PORT with a port 1-65535, "
		"got an integer 70000");
	load_fails(T "forwards: [{kind: socks, bind: \"[::1]\"}]\n", "devkit.yaml:2:32: "
		"forwards[0].bind: expected [ADDR:]PORT with a port 0-65535, got \"[::1]\"");
	load_fails(T "forwards: [{kind: socks, bind: \"::1:80\"}]\n", "devkit.yaml:2:32: "
		"forwards[0].bind: expected [ADDR:]PORT with a port 0-65535, got \"::1:80\"");
	load_fails(T "forwards: [{kind: local, target: db}]\n", "devkit.yaml:2:34: "
		"forwards[0].target: expected HOST:PORT with a port 1-65535, got \"db\"");
	load_fails(T "forwards: [{kind: local, target: \"db:0\"}]\n", "devkit.yaml:2:34: "
		"forwards[0].target: expected HOST:PORT with a port 1-65535, got \"db:0\"");
	load_fails(T "forwards: [{kind: local, target: \"db:080\"}]\n", "devkit.yaml:2:34: "
		"forwards[0].target: expected HOST:PORT with a port 1-65535, got \"db:080\"");
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", advertise: \"a b\"}]\n",
		"devkit.yaml:2:67: expose[0].advertise: expected a host name or an address, got \"a b\"");
	load_fails(T "dns: {cluster_dns: \"10.96.0.10:abc\"}\n", "devkit.yaml:2:20: "
		"dns.cluster_dns: expected HOST[:PORT] with a port 1-65535, got \"10.96.0.10:abc\"");
	load_fails("kubernetes: {connect_to: apiserver}\n", "devkit.yaml:1:26: "
		"kubernetes.connect_to: expected HOST:PORT with a port 1-65535, got \"apiserver\"");
}

Test(errors, bastion)
{
	static const char *const bad[] = { "@host", "user@host:99999", "a:b@host", "fd00::1",
		"host:", "[::1", "a b@host" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[128], message[512];
		snprintf(yaml, sizeof(yaml), "tunnel: {bastion: \"%s\"}\n", bad[i]);
		snprintf(message, sizeof(message), "devkit.yaml:1:19: tunnel.bastion: expected "
			"[USER@]HOST[:PORT] with a port 1-65535 (IPv6 in brackets), got \"%s\"", bad[i]);
		load_fails(yaml, message);
	}
	devkit_config *cfg = load_ok("tunnel: {bastion: \"root@[::1]:2222\"}\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "root@[::1]:2222");
	devkit_config_free(cfg);
}

Test(errors, formats)
{
	load_fails("tunnel: {bastion: h, host_key: \"SHA256:abc\"}\n", "devkit.yaml:1:32: "
		"tunnel.host_key: expected SHA256:<43 base64 characters>, as `ssh-keygen -lf` prints "
		"it, got \"SHA256:abc\"");
	load_fails("kubernetes: {namespace: Team_A}\n", "devkit.yaml:1:25: kubernetes.namespace: "
		"expected a Kubernetes name (lower-case letters, digits and '-', at most 63), got "
		"\"Team_A\"");
	load_fails("replicas: [{deployment: Orders}]\n", "devkit.yaml:1:25: replicas[0].deployment: "
		"expected a Kubernetes name (lower-case letters, digits, '-' and '.'), got \"Orders\"");
	load_fails("replicas: [{pod: a, owner: \"-x\"}]\n", "devkit.yaml:1:28: replicas[0].owner: "
		"expected a label value (letters, digits, '-', '_' and '.', at most 63), got \"-x\"");
	load_fails("replicas: [{pod: a, istio: true, tag: t, tag_header: \"x y\"}]\n",
		"devkit.yaml:1:54: replicas[0].tag_header: expected an HTTP header name, got \"x y\"");
	load_fails("tunnel: {bastion: h, password_env: 1PASS}\n", "devkit.yaml:1:36: "
		"tunnel.password_env: expected the name of an environment variable (letters, digits, "
		"_), got \"1PASS\"");
	load_fails("version: 2\n", "devkit.yaml:1:10: version: expected 1 (the format this library "
		"reads), got an integer 2");
	load_fails("version: \"1\"\n", "devkit.yaml:1:10: version: expected 1 (the format this "
		"library reads), got \"1\"");
}

Test(errors, registry_urls)
{
	const char *want = "devkit.yaml:2:44: expose[0].registry: expected a registry URL "
		"nacos://, eureka://, consul://, etcd:// (each also +https) or zookeeper://, got ";
	static const char *const bad[] = { "http://x", "nacos://", "zookeeper+https://z:2181",
		"etcd://a b", "nacos://#x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char yaml[256], message[512];
		snprintf(yaml, sizeof(yaml), T "expose: [{local: 80, service: s, registry: \"%s\"}]\n",
			bad[i]);
		snprintf(message, sizeof(message), "%s\"%s\"", want, bad[i]);
		load_fails(yaml, message);
	}
	load_fails(T "expose: [{local: 80, service: s, registry: \"nacos://user:pw@h:8848\"}]\n",
		"devkit.yaml:2:44: expose[0].registry: credentials do not belong in the URL (it is "
		"logged and shown): use registry_user with registry_password_env, or registry_token_env");
}

Test(errors, secrets_from_the_environment)
{
	unsetenv("DEVKIT_NOPE_NOT_SET");
	load_fails("tunnel: {bastion: h, password_env: DEVKIT_NOPE_NOT_SET}\n", "devkit.yaml:1:36: "
		"tunnel.password_env: environment variable DEVKIT_NOPE_NOT_SET is not set");
}

Test(errors, enums_suggest_too)
{
	load_fails(T "forwards: [{kind: sock}]\n", "devkit.yaml:2:19: forwards[0].kind: expected "
		"socks, local or remote, got \"sock\" (did you mean \"socks\"?)");
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", protocol: grpc}]\n",
		"devkit.yaml:2:66: expose[0].protocol: expected http or dubbo, got \"grpc\"");
}

Test(errors, metadata)
{
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", metadata: {\"a=b\": 1}}]\n",
		"devkit.yaml:2:67: expose[0].metadata.a=b: a metadata key must not be empty or hold "
		"'=', blanks or control characters");
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", metadata: {a: [1]}}]\n",
		"devkit.yaml:2:70: expose[0].metadata.a: expected a string, number or boolean, got a list");
	load_fails(T "expose: [{local: 80, service: s, registry: \"etcd://e\", metadata: {a: \"x\\ny\"}}]\n",
		"devkit.yaml:2:70: expose[0].metadata.a: a metadata value must be one line without "
		"control characters");
}

Test(errors, names_and_paths)
{
	load_fails("tunnel: {bastion: h, ciphers: \"a b\"}\n", "devkit.yaml:1:31: tunnel.ciphers: "
		"expected a list of names (or one comma-separated string), got \"a b\"");
	load_fails("tunnel: {bastion: h, ciphers: \"a,,b\"}\n", "devkit.yaml:1:31: tunnel.ciphers: "
		"expected a list of names (or one comma-separated string), got \"a,,b\"");
	load_fails("tunnel: {bastion: h, ciphers: [\"a,b\"]}\n", "devkit.yaml:1:32: "
		"tunnel.ciphers[0]: expected one name (no ',' or blanks), got \"a,b\"");
	load_fails("kubernetes: {kubeconfig: [\"a:b\"]}\n", "devkit.yaml:1:27: "
		"kubernetes.kubeconfig[0]: expected one file path (no ':'), got \"a:b\"");
	load_fails("kubernetes: {kubeconfig: \"~bob/config\"}\n", "devkit.yaml:1:26: "
		"kubernetes.kubeconfig: \"~user\" paths are not supported: write the whole path");
}

Test(errors, tunnel_rules)
{
	load_fails("tunnel: {user: a}\n",
		"devkit.yaml:1:9: tunnel: bastion is required ([USER@]HOST[:PORT])");
	load_fails("tunnel:\n", "devkit.yaml:1:8: tunnel: bastion is required ([USER@]HOST[:PORT])");
	load_fails("tunnel: {bastion: h, accept_new: true, host_key: "
		"\"SHA256:zBuMoZLSDbmd6jwKYdTdGDOfJTjYz0A7dVtMHj8PlUg\"}\n", "devkit.yaml:1:34: tunnel: "
		"host_key and accept_new: true exclude each other: a pinned key alone decides");
	load_fails("tunnel: {bastion: h, reconnect_initial: 2s, reconnect_max: 1s}\n",
		"devkit.yaml:1:60: tunnel: reconnect_max (1s) is shorter than reconnect_initial (2s)");
	load_fails("tunnel: {bastion: h, reconnect_initial: 1m}\n",
		"devkit.yaml:1:41: tunnel: reconnect_max (30s) is shorter than reconnect_initial (1m)");
}

Test(errors, forward_rules)
{
	load_fails(T "forwards:\n  - bind: 1080\n",
		"devkit.yaml:3:5: forwards[0]: kind is required (socks, local or remote)");
	load_fails(T "forwards:\n  - kind: socks\n    target: db:5432\n", "devkit.yaml:4:13: "
		"forwards[0].target: a socks forward has no target: each client names its own");
	load_fails(T "forwards:\n  - kind: remote\n    bind: 9000\n",
		"devkit.yaml:3:5: forwards[0]: a remote forward needs a target (HOST:PORT)");
	load_fails(T "forwards:\n  - kind: local\n    target: db:1\n    proxy_user: u\n",
		"devkit.yaml:5:17: forwards[0]: proxy_user and proxy_password_env belong to socks forwards");
	load_fails(T "forwards:\n  - kind: socks\n    proxy_user: u\n",
		"devkit.yaml:3:5: forwards[0]: proxy_user and proxy_password_env go together");
	load_fails(T "forwards:\n  - kind: remote\n    target: 127.0.0.1:3000\n"
		"    allow_non_loopback: true\n", "devkit.yaml:5:25: forwards[0].allow_non_loopback: "
		"a remote forward listens on the bastion, whose sshd (GatewayPorts) decides");
	load_fails(T "forwards:\n  - {kind: socks, bind: 1080}\n"
		"  - {kind: local, bind: \"127.0.0.1:1080\", target: \"db:1\"}\n", "devkit.yaml:4:25: "
		"forwards[1].bind: local port 1080 is already the bind of forwards[0] (line 3)");
	load_fails(T "forwards:\n  - {kind: remote, bind: 9000, target: \"a:1\"}\n"
		"  - {kind: local, bind: 9000, target: \"db:1\"}\n"
		"  - {kind: remote, bind: 9000, target: \"b:1\"}\n", "devkit.yaml:5:26: forwards[2].bind: "
		"the bastion's port 9000 is already the bind of forwards[0] (line 3)");
	/* Port 0 never clashes: each gets its own free port. */
	devkit_config *cfg = load_ok(T "forwards:\n  - {kind: socks}\n  - {kind: socks, bind: 0}\n", NULL);
	devkit_config_free(cfg);
}

Test(errors, dns_and_expose_rules)
{
	load_fails(T "dns:\n  ndots: 2\n", "devkit.yaml:3:3: dns: cluster_dns is required (the "
		"cluster's DNS server as the bastion sees it, HOST[:PORT], e.g. 10.96.0.10)");
	load_fails(T "expose:\n  - service: s\n",
		"devkit.yaml:3:5: expose[0]: local is required (the local service, [HOST:]PORT)");
	load_fails(T "expose:\n  - local: 80\n    service: s\n",
		"devkit.yaml:3:5: expose[0]: registry is required (e.g. nacos://nacos:8848)");
	load_fails(T "expose:\n  - local: 80\n    registry: etcd://e:2379\n",
		"devkit.yaml:3:5: expose[0]: service is required (the name callers look up)");
	load_fails(T "expose:\n  - {local: 80, service: s, registry: \"etcd://e\", methods: [a]}\n",
		"devkit.yaml:3:60: expose[0]: interface and methods need protocol: dubbo or a "
		"zookeeper:// registry");
	load_fails(T "expose:\n  - {local: 80, service: s, registry: \"etcd://e\", registry_user: u}\n",
		"devkit.yaml:3:5: expose[0]: registry_user and registry_password_env go together");
	load_fails(T "expose:\n  - {local: 80, service: s, registry: \"etcd://e\", ttl: 10s, "
		"heartbeat: 10s}\n", "devkit.yaml:3:72: expose[0].heartbeat: must be shorter than ttl, "
		"or the registry drops the entry between two heartbeats");
	load_fails(T "expose:\n  - {local: 80, service: s, registry: \"etcd://e\", registry_ca: ca.pem}\n",
		"devkit.yaml:3:64: expose[0]: registry_ca and registry_insecure apply to a +https "
		"registry (e.g. nacos+https://)");
}

Test(errors, replica_rules)
{
	load_fails("replicas:\n  - name: x\n", "devkit.yaml:2:5: replicas[0]: give one of pod, "
		"deployment, statefulset or daemonset (what to copy)");
	load_fails("replicas:\n  - pod: a\n    deployment: b\n", "devkit.yaml:3:5: replicas[0]: "
		"give only one of pod, deployment, statefulset or daemonset (what to copy)");
	load_fails("replicas:\n  - pod: a\n    istio: true\n",
		"devkit.yaml:3:12: replicas[0]: istio routes by the traffic tag: give a tag too");
	load_fails("replicas:\n  - pod: a\n    tag_header: x-tag\n",
		"devkit.yaml:3:17: replicas[0]: tag_header and istio_host need istio: true");
	load_fails("replicas:\n  - pod: a\n    tcpdump_filter: port 80\n",
		"devkit.yaml:3:21: replicas[0]: tcpdump_image and tcpdump_filter need tcpdump: true");
}

Test(errors, sections_that_need_the_tunnel)
{
	load_fails("forwards:\n  - kind: socks\n",
		"devkit.yaml:1:1: forwards: needs a tunnel (a tunnel: section with its bastion)");
	load_fails("dns: {cluster_dns: 10.0.0.1}\n",
		"devkit.yaml:1:1: dns: needs a tunnel (a tunnel: section with its bastion)");
	load_fails("routing:\n",
		"devkit.yaml:1:1: routing: needs a tunnel (a tunnel: section with its bastion)");
	load_fails("expose: [{local: 80, service: s, registry: \"etcd://e\"}]\n",
		"devkit.yaml:1:1: expose: needs a tunnel (a tunnel: section with its bastion)");
	/* Kubernetes and replicas do not; empty lists need nothing. */
	devkit_config *cfg = load_ok("forwards: []\nkubernetes:\nreplicas: [{pod: a}]\n", NULL);
	devkit_config_free(cfg);
}

Test(errors, api_misuse)
{
	devkit_config *cfg = NULL;
	cr_assert_eq(devkit_config_load_string(NULL, "", NULL, NULL), DEVKIT_EINVAL);
	cr_assert_eq(devkit_config_load_string(&cfg, NULL, NULL, NULL), DEVKIT_EINVAL);
	cr_assert_null(cfg);
	cr_assert_eq(devkit_config_load(&cfg, NULL, NULL), DEVKIT_EINVAL);
	cr_assert_eq(devkit_config_describe(NULL, NULL), DEVKIT_EINVAL);
	/* Messages name the text "<string>" when no name is given. */
	cr_assert_eq(devkit_config_load_string(&cfg, "tunel: 1\n", NULL, NULL), DEVKIT_EINVAL);
	cr_assert_str_eq(devkit_error_last()->message,
		"<string>:1:1: unknown key \"tunel\" at the top level (did you mean \"tunnel\"?)");
}
