/* SPDX-License-Identifier: Apache-2.0 */
/* ${ENV} and ${ENV:-default} in values; secrets through *_env keys. */
#include "config_test.h"

Test(env, expands_anywhere_in_a_value)
{
	setenv("DEVKIT_T_USER", "alice", 1);
	setenv("DEVKIT_T_HOST", "bastion.example.com", 1);
	devkit_config *cfg = load_ok("tunnel:\n  bastion: ${DEVKIT_T_USER}@${DEVKIT_T_HOST}:22\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "alice@bastion.example.com:22");
	devkit_config_free(cfg);
}

Test(env, default_when_unset_or_empty)
{
	unsetenv("DEVKIT_T_UNSET");
	setenv("DEVKIT_T_EMPTY", "", 1);
	devkit_config *cfg = load_ok("tunnel:\n  bastion: ${DEVKIT_T_UNSET:-dev}@h\n"
		"  user: ${DEVKIT_T_EMPTY:-bob}\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "dev@h");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->user, "bob");
	devkit_config_free(cfg);
}

Test(env, missing_variable_names_it_and_its_line)
{
	unsetenv("DEVKIT_T_UNSET");
	load_fails("tunnel:\n  bastion: h\n  user: ${DEVKIT_T_UNSET}\n", "devkit.yaml:3:9: "
		"tunnel.user: environment variable DEVKIT_T_UNSET is not set (give a default with "
		"${DEVKIT_T_UNSET:-default})");
	load_fails("tunnel: {bastion: \"${DEVKIT_T_UNSET}@h\"}\n", "devkit.yaml:1:19: "
		"tunnel.bastion: environment variable DEVKIT_T_UNSET is not set (give a default with "
		"${DEVKIT_T_UNSET:-default})");
}

Test(env, a_value_that_expands_to_nothing_is_not_given)
{
	unsetenv("DEVKIT_T_TAG");
	setenv("DEVKIT_T_SET_EMPTY", "", 1);
	devkit_config *cfg = load_ok(TUNNEL "  user: ${DEVKIT_T_SET_EMPTY}\n"
		"expose:\n  - local: 8080\n    service: orders\n    registry: etcd://e:2379\n"
		"    tag: ${DEVKIT_T_TAG:-}\n    metadata: {owner: \"${DEVKIT_T_TAG:-}\", v: 1}\n", NULL);
	cr_assert_null(devkit_config_tunnel(cfg)->user);
	cr_assert_null(devkit_config_expose_registration(cfg, 0)->tag);
	cr_assert_str_eq(devkit_config_expose_registration(cfg, 0)->metadata, "v=1");
	devkit_config_free(cfg);

	setenv("DEVKIT_T_TAG", "alice", 1);
	cfg = load_ok(TUNNEL "expose:\n  - local: 8080\n    service: orders\n"
		"    registry: etcd://e:2379\n    tag: ${DEVKIT_T_TAG:-}\n", NULL);
	cr_assert_str_eq(devkit_config_expose_registration(cfg, 0)->tag, "alice");
	devkit_config_free(cfg);
}

Test(env, typed_values_are_read_after_expansion)
{
	setenv("DEVKIT_T_PORT", "41234", 1);
	setenv("DEVKIT_T_ON", "true", 1);
	setenv("DEVKIT_T_TTL", "45s", 1);
	devkit_config *cfg = load_ok(TUNNEL "  agent: ${DEVKIT_T_ON}\n"
		"expose:\n  - local: ${DEVKIT_T_PORT}\n    remote_port: \"${DEVKIT_T_PORT}\"\n"
		"    service: orders\n    registry: etcd://e:2379\n    ttl: ${DEVKIT_T_TTL}\n"
		"    registry_direct: ${DEVKIT_T_OFF:-false}\n", NULL);
	cr_assert_eq(devkit_config_tunnel(cfg)->use_agent, 1);
	cr_assert_eq(devkit_config_expose(cfg, 0)->local_port, 41234);
	cr_assert_eq(devkit_config_expose(cfg, 0)->remote_port, 41234);
	cr_assert_eq(devkit_config_expose(cfg, 0)->registry_via_tunnel, 1);
	cr_assert_eq(devkit_config_expose_registration(cfg, 0)->ttl_ms, 45000);
	devkit_config_free(cfg);
}

Test(env, an_expanded_value_is_checked_and_shown_with_its_source)
{
	setenv("DEVKIT_T_PORT", "http", 1);
	load_fails(TUNNEL "expose:\n  - local: ${DEVKIT_T_PORT}\n    service: s\n"
		"    registry: etcd://e:2379\n", "devkit.yaml:4:12: expose[0].local: expected "
		"[HOST:]PORT with a port 1-65535, got \"http\" (from \"${DEVKIT_T_PORT}\")");
	unsetenv("DEVKIT_T_NOPE");
	load_fails("tunnel: {bastion: h, keepalive_count_max: \"${DEVKIT_T_NOPE:-abc}\"}\n",
		"devkit.yaml:1:43: tunnel.keepalive_count_max: expected an integer from 1 to 1000, "
		"got \"abc\" (from \"${DEVKIT_T_NOPE:-abc}\")");
}

Test(env, escapes_and_plain_dollars)
{
	devkit_config *cfg = load_ok("replicas:\n  - pod: web-1\n"
		"    command: \"echo $HOME $$ $${JAVA_OPTS} ${DEVKIT_T_NOPE:-x}\"\n", NULL);
	cr_assert_str_eq(devkit_config_replica(cfg, 0)->command, "echo $HOME $$ ${JAVA_OPTS} x");
	devkit_config_free(cfg);
}

Test(env, malformed_references)
{
	load_fails("tunnel: {bastion: \"${1X}\"}\n", "devkit.yaml:1:19: tunnel.bastion: \"${1X}\" is "
		"not ${NAME} or ${NAME:-default} (NAME: letters, digits and _, not starting with a digit)");
	load_fails("tunnel: {bastion: \"${X:+y}\"}\n", "devkit.yaml:1:19: tunnel.bastion: \"${X:+y}\" "
		"is not ${NAME} or ${NAME:-default} (NAME: letters, digits and _, not starting with a "
		"digit)");
	load_fails("tunnel: {bastion: \"${}\"}\n", "devkit.yaml:1:19: tunnel.bastion: \"${}\" is "
		"not ${NAME} or ${NAME:-default} (NAME: letters, digits and _, not starting with a digit)");
	load_fails("tunnel: {bastion: \"${X\"}\n", "devkit.yaml:1:19: tunnel.bastion: \"${\" "
		"without a closing \"}\" (write \"$${\" for a literal \"${\")");
}

Test(env, keys_are_not_expanded)
{
	load_fails("tunnel: {bastion: h, \"${DEVKIT_T_KEY:-user}\": x}\n", "devkit.yaml:1:22: "
		"unknown key \"${DEVKIT_T_KEY:-user}\" in tunnel (known keys: bastion, user, identity, "
		"passphrase_env, password_env, agent, known_hosts, accept_new, host_key, ciphers, macs, "
		"kex, connect_timeout, keepalive_interval, keepalive_count_max, reconnect, "
		"reconnect_initial, reconnect_max, reconnect_max_attempts)");
}

Test(env, secrets_come_from_named_variables)
{
	setenv("DEVKIT_T_PW", "hunter2", 1);
	setenv("DEVKIT_T_WHICH", "DEVKIT_T_PW", 1);
	/* The variable's name may itself come from a variable. */
	devkit_config *cfg = load_ok("tunnel:\n  bastion: h\n  password_env: ${DEVKIT_T_WHICH}\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->password, "hunter2");
	devkit_config_free(cfg);
	/* An empty secret is a secret too (the variable is set). */
	setenv("DEVKIT_T_PW", "", 1);
	cfg = load_ok("tunnel:\n  bastion: h\n  password_env: DEVKIT_T_PW\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->password, "");
	devkit_config_free(cfg);
}

Test(env, paths_expand_home_and_variables)
{
	setenv("HOME", "/home/alice", 1);
	setenv("DEVKIT_T_KEYS", "/srv/keys", 1);
	devkit_config *cfg = load_ok("tunnel:\n  bastion: h\n  identity: ${DEVKIT_T_KEYS}/id\n"
		"  known_hosts: ~/.ssh/kh\nkubernetes:\n  kubeconfig: ~/.kube/a:~/.kube/b\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->identity_file, "/srv/keys/id");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->known_hosts_file, "/home/alice/.ssh/kh");
	cr_assert_str_eq(devkit_config_kubernetes(cfg)->kubeconfig, "/home/alice/.kube/a:/home/alice/.kube/b");
	devkit_config_free(cfg);
	/* From a string, relative paths stay relative (to the current directory). */
	cfg = load_ok("tunnel:\n  bastion: h\n  identity: keys/id\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->identity_file, "keys/id");
	devkit_config_free(cfg);
	unsetenv("HOME");
	load_fails("tunnel:\n  bastion: h\n  identity: ~/id\n", "devkit.yaml:3:13: "
		"tunnel.identity: \"~\" stands for $HOME, which is not set");
}
