/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Profiles: maps merge key by key, lists and values replace, null removes;
 * every profile's names and shapes are checked, only the selected one's
 * values (and variables) are read.
 */
#include "config_test.h"

static devkit_config *load_profiles(const char *profile)
{
	char path[PATH_MAX + 64];
	devkit_config *cfg = NULL;
	snprintf(path, sizeof(path), "%s/tests/config/examples/profiles.yaml", source_dir());
	int rc = devkit_config_load(&cfg, path, profile);
	cr_assert_eq(rc, 0, "%s", rc ? devkit_error_last()->message : "");
	return cfg;
}

Test(profiles, base_without_a_profile)
{
	unsetenv("DEVKIT_TEST_USER");
	devkit_config *cfg = load_profiles(NULL);
	cr_assert_null(devkit_config_profile(cfg));
	cr_assert_eq(devkit_config_profile_count(cfg), 3);
	cr_assert_str_eq(devkit_config_profile_name(cfg, 0), "staging");
	cr_assert_str_eq(devkit_config_profile_name(cfg, 1), "prod");
	cr_assert_str_eq(devkit_config_profile_name(cfg, 2), "empty");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "dev@bastion.dev.example.com");
	cr_assert_str_eq(devkit_config_dns(cfg)->search, "dev.svc.cluster.local,svc.cluster.local");
	cr_assert_null(devkit_config_kubernetes(cfg));
	devkit_config_free(cfg);
}

Test(profiles, maps_merge_lists_replace)
{
	devkit_config *cfg = load_profiles("staging");
	const devkit_tunnel_options *t = devkit_config_tunnel(cfg);
	cr_assert_str_eq(devkit_config_profile(cfg), "staging");
	/* tunnel: bastion replaced, identity and connect_timeout kept */
	cr_assert_str_eq(t->bastion, "dev@bastion.staging.example.com");
	cr_assert(strstr(t->identity_file, "/.ssh/id_ed25519") != NULL);
	cr_assert_eq(t->connect_timeout_ms, 10000);
	/* dns: search (a list) replaced whole, cluster_dns kept */
	cr_assert_str_eq(devkit_config_dns(cfg)->search, "staging.svc.cluster.local");
	cr_assert_str_eq(devkit_config_dns(cfg)->cluster_dns, "10.96.0.10");
	/* expose: the list replaced whole, item by item nothing is mixed in */
	cr_assert_eq(devkit_config_expose_count(cfg), 1);
	cr_assert_eq(devkit_config_expose(cfg, 0)->local_port, 8081);
	cr_assert_str_eq(devkit_config_expose_registration(cfg, 0)->service, "orders-staging");
	cr_assert_null(devkit_config_expose_registration(cfg, 0)->metadata);
	/* forwards: not in the profile, kept */
	cr_assert_eq(devkit_config_forward_count(cfg), 1);
	devkit_config_free(cfg);
}

Test(profiles, null_removes_and_new_sections_are_added)
{
	setenv("DEVKIT_TEST_PROD_PASSWORD", "prod-secret", 1);
	devkit_config *cfg = load_profiles("prod");
	const devkit_tunnel_options *t = devkit_config_tunnel(cfg);
	cr_assert_str_eq(t->bastion, "ops@bastion.prod.example.com:2222");
	cr_assert_null(t->identity_file);                /* identity: null */
	cr_assert_str_eq(t->password, "prod-secret");
	cr_assert_null(devkit_config_dns(cfg));          /* dns: null */
	cr_assert_eq(devkit_config_forward_count(cfg), 0); /* forwards: [] */
	cr_assert_str_eq(devkit_config_kubernetes(cfg)->namespace_name, "prod");
	devkit_config_free(cfg);
}

Test(profiles, an_empty_profile_is_the_base)
{
	devkit_config *cfg = load_profiles("empty");
	cr_assert_str_eq(devkit_config_profile(cfg), "empty");
	cr_assert_eq(devkit_config_expose(cfg, 0)->local_port, 8080);
	devkit_config_free(cfg);
}

Test(profiles, variables_of_other_profiles_need_not_be_set)
{
	/* prod's password_env names a variable that staging users do not have. */
	unsetenv("DEVKIT_TEST_PROD_PASSWORD");
	devkit_config *cfg = load_profiles("staging");
	cr_assert_null(devkit_config_tunnel(cfg)->password);
	devkit_config_free(cfg);
	devkit_config *none = NULL;
	char path[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/tests/config/examples/profiles.yaml", source_dir());
	cr_assert_eq(devkit_config_load(&none, path, "prod"), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, ": tunnel.password_env: environment variable "
		"DEVKIT_TEST_PROD_PASSWORD is not set"), "%s", devkit_error_last()->message);
}

Test(profiles, typos_in_other_profiles_are_found)
{
	load_fails(TUNNEL "profiles:\n  prod:\n    tunnel:\n      bastoin: h\n", "devkit.yaml:6:7: "
		"unknown key \"bastoin\" in profiles.prod.tunnel (did you mean \"bastion\"?)");
	load_fails(TUNNEL "profiles:\n  prod:\n    forwards: {a: 1}\n",
		"devkit.yaml:5:15: profiles.prod.forwards: expected a list, got a mapping");
	load_fails(TUNNEL "profiles:\n  prod:\n    version: 1\n", "devkit.yaml:5:5: unknown key "
		"\"version\" in profiles.prod (known keys: tunnel, forwards, dns, routing, expose, "
		"kubernetes, replicas)");
}

Test(profiles, values_are_checked_once_merged)
{
	/* A profile's value errors point into the profile. */
	load_fails_code(TUNNEL "profiles:\n  prod:\n    tunnel:\n      connect_timeout: forever\n",
		"prod", DEVKIT_EINVAL, "devkit.yaml:6:24: tunnel.connect_timeout: expected a duration "
		"like 30s, 500ms or 8h (from 1ms to 1h), got \"forever\"");
	/* ... but only the selected profile's values are read. */
	devkit_config *cfg = load_ok(TUNNEL "profiles:\n  prod:\n    tunnel:\n"
		"      connect_timeout: forever\n", NULL);
	devkit_config_free(cfg);
}

Test(profiles, a_profile_can_complete_the_base)
{
	/* The base has forwards but no tunnel; each profile brings its bastion. */
	const char *yaml = "forwards:\n  - kind: socks\nprofiles:\n  a:\n    tunnel: {bastion: a}\n";
	devkit_config *cfg = load_ok(yaml, "a");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "a");
	devkit_config_free(cfg);
	load_fails(yaml, "devkit.yaml:1:1: forwards: needs a tunnel (a tunnel: section with its bastion)");
}

Test(profiles, unknown_profiles)
{
	load_fails_code(TUNNEL "profiles:\n  prod: {}\n  staging: {}\n", "prd", DEVKIT_ENOTFOUND,
		"devkit.yaml:4:3: profile \"prd\" not found (did you mean \"prod\"?); the profiles are: "
		"prod, staging");
	load_fails_code(TUNNEL "profiles:\n  prod: {}\n  staging: {}\n", "qa", DEVKIT_ENOTFOUND,
		"devkit.yaml:4:3: profile \"qa\" not found; the profiles are: prod, staging");
	load_fails_code(TUNNEL, "x", DEVKIT_ENOTFOUND,
		"devkit.yaml: profile \"x\" not found: the file defines no profiles");
	/* "" selects nothing, as NULL does. */
	devkit_config *cfg = load_ok(TUNNEL, "");
	cr_assert_null(devkit_config_profile(cfg));
	devkit_config_free(cfg);
}

Test(profiles, shape_of_profiles)
{
	load_fails(TUNNEL "profiles: [prod]\n",
		"devkit.yaml:3:11: profiles: expected a mapping, got a list");
	load_fails(TUNNEL "profiles:\n  prod: [a]\n",
		"devkit.yaml:4:9: profiles.prod: expected a mapping, got a list");
	load_fails(TUNNEL "profiles:\n  \"-bad\": {}\n", "devkit.yaml:4:3: profiles.-bad: a profile "
		"name is letters, digits, '-', '_' and '.', starting with a letter or digit");
}

Test(profiles, deep_merge_of_nested_maps)
{
	/* metadata is a map inside a list item: the item is replaced whole when the
	 * list is, but a map section's nested maps merge. */
	devkit_config *cfg = load_ok(TUNNEL "  ciphers: [a, b]\n"
		"profiles:\n  p:\n    tunnel:\n      ciphers: [c]\n      user: x\n", "p");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->ciphers, "c");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->user, "x");
	cr_assert_str_eq(devkit_config_tunnel(cfg)->bastion, "dev@bastion");
	devkit_config_free(cfg);
}
