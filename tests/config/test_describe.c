/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_config_describe(): the effective configuration as JSON, without
 * secrets, that loads back to the same configuration.
 */
#include <jansson.h>

#include "config_test.h"

static char *describe_file(const char *file, const char *profile, devkit_config **keep)
{
	char path[PATH_MAX + 64];
	devkit_config *cfg = NULL;
	devkit_buf buf = DEVKIT_BUF_INIT;
	snprintf(path, sizeof(path), "%s/tests/config/examples/%s", source_dir(), file);
	set_example_env();
	cr_assert_eq(devkit_config_load(&cfg, path, profile), 0, "%s", devkit_error_last()->message);
	cr_assert_eq(devkit_config_describe(cfg, &buf), 0);
	cr_assert_eq(strlen(buf.ptr), buf.size);
	char *text = strdup(buf.ptr);
	devkit_buf_dispose(&buf);
	if (keep)
		*keep = cfg;
	else
		devkit_config_free(cfg);
	return text;
}

static json_t *parse(const char *text)
{
	json_error_t err;
	json_t *j = json_loads(text, 0, &err);
	cr_assert_not_null(j, "%s: %s", err.text, text);
	return j;
}

Test(describe, secrets_never_appear)
{
	char *text = describe_file("full.yaml", NULL, NULL);
	static const char *const secrets[] = { "pass-phrase-secret", "bastion-secret",
		"proxy-secret", "registry-secret", "token-secret" };
	for (size_t i = 0; i < sizeof(secrets) / sizeof(secrets[0]); i++)
		cr_assert_null(strstr(text, secrets[i]), "%s leaked:\n%s", secrets[i], text);
	static const char *const names[] = { "\"passphrase_env\": \"DEVKIT_TEST_PASSPHRASE\"",
		"\"password_env\": \"DEVKIT_TEST_PASSWORD\"",
		"\"proxy_password_env\": \"DEVKIT_TEST_PROXY_PASSWORD\"",
		"\"registry_password_env\": \"DEVKIT_TEST_REGISTRY_PASSWORD\"",
		"\"registry_token_env\": \"DEVKIT_TEST_REGISTRY_TOKEN\"" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		cr_assert_not_null(strstr(text, names[i]), "%s missing:\n%s", names[i], text);
	free(text);
}

Test(describe, the_effective_values_in_the_files_own_words)
{
	char *text = describe_file("full.yaml", "pinned", NULL);
	json_t *j = parse(text);
	json_t *about = json_object_get(j, "x-devkit");
	cr_assert_str_eq(json_string_value(json_object_get(about, "profile")), "pinned");
	cr_assert_eq(json_integer_value(json_object_get(j, "version")), 1);

	json_t *t = json_object_get(j, "tunnel");
	cr_assert_str_eq(json_string_value(json_object_get(t, "host_key")),
		"SHA256:zBuMoZLSDbmd6jwKYdTdGDOfJTjYz0A7dVtMHj8PlUg");
	cr_assert(json_is_false(json_object_get(t, "accept_new")));
	cr_assert_str_eq(json_string_value(json_object_get(t, "reconnect_max")), "1m30s");
	cr_assert_str_eq(json_string_value(json_object_get(t, "reconnect_initial")), "500ms");
	cr_assert_str_eq(json_string_value(json_object_get(t, "ciphers")),
		"aes128-ctr,aes256-gcm@openssh.com");

	json_t *f = json_object_get(j, "forwards");
	cr_assert_eq(json_array_size(f), 3);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 0), "kind")), "socks");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 0), "bind")),
		"127.0.0.1:1080");
	cr_assert_eq(json_integer_value(json_object_get(json_array_get(f, 1), "bind")), 5432);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(f, 2), "target")),
		"[::1]:3000");

	json_t *e = json_array_get(json_object_get(j, "expose"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(e, "metadata"),
		"version")), "2");
	cr_assert(json_is_true(json_object_get(e, "registry_direct")));

	json_t *r = json_array_get(json_object_get(j, "replicas"), 0);
	cr_assert_str_eq(json_string_value(json_object_get(r, "deployment")), "orders");
	cr_assert_str_eq(json_string_value(json_object_get(r, "ttl")), "4h");
	json_decref(j);
	free(text);
}

Test(describe, defaults_are_written_out)
{
	char *text = describe_file("minimal.yaml", NULL, NULL);
	json_t *j = parse(text);
	json_t *t = json_object_get(j, "tunnel");
	cr_assert_str_eq(json_string_value(json_object_get(t, "connect_timeout")), "15s");
	cr_assert(json_is_true(json_object_get(t, "agent")));
	cr_assert_eq(json_integer_value(json_object_get(json_object_get(j, "dns"), "ndots")), 5);
	cr_assert(json_is_true(json_object_get(json_object_get(j, "routing"), "enabled")));
	cr_assert_str_eq(json_string_value(json_object_get(json_object_get(j, "kubernetes"),
		"timeout")), "30s");
	json_decref(j);
	free(text);
}

/* The output is a devkit.yaml: loading it gives the same description. */
static void round_trip(const char *file, const char *profile)
{
	char *first = describe_file(file, profile, NULL);
	devkit_config *again = NULL;
	devkit_buf buf = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_config_load_string(&again, first, "described.json", NULL), 0,
		"%s: %s\n%s", file, devkit_error_last()->message, first);
	cr_assert_eq(devkit_config_describe(again, &buf), 0);
	json_t *a = parse(first), *b = parse(buf.ptr);
	/* Only where it came from differs. */
	json_object_del(a, "x-devkit");
	json_object_del(b, "x-devkit");
	cr_assert(json_equal(a, b), "%s changed on the way back:\n%s\n---\n%s", file, first, buf.ptr);
	json_decref(a);
	json_decref(b);
	devkit_buf_dispose(&buf);
	devkit_config_free(again);
	free(first);
}

Test(describe, loads_back_to_the_same)
{
	round_trip("full.yaml", NULL);
	round_trip("full.yaml", "pinned");
	round_trip("minimal.yaml", NULL);
	round_trip("profiles.yaml", "staging");
}

Test(describe, an_empty_config)
{
	devkit_config *cfg = load_ok("", NULL);
	devkit_buf buf = DEVKIT_BUF_INIT;
	cr_assert_eq(devkit_config_describe(cfg, &buf), 0);
	json_t *j = parse(buf.ptr);
	cr_assert_eq(json_object_size(j), 2); /* x-devkit, version */
	json_decref(j);
	devkit_buf_dispose(&buf);
	devkit_config_free(cfg);
}
