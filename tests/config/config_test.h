/* SPDX-License-Identifier: Apache-2.0 */
/* Helpers shared by the configuration tests: load text, expect success or an exact error. */
#ifndef DEVKIT_TEST_CONFIG_H
#define DEVKIT_TEST_CONFIG_H

#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <devkit.h>

/* A tunnel for sections that need one. */
#define TUNNEL "tunnel:\n  bastion: dev@bastion\n"

static inline devkit_config *load_ok(const char *yaml, const char *profile)
{
	devkit_config *cfg = NULL;
	int rc = devkit_config_load_string(&cfg, yaml, "devkit.yaml", profile);
	const devkit_error *e = devkit_error_last();
	cr_assert_eq(rc, 0, "expected it to load, got %d: %s\n---\n%s", rc,
		e ? e->message : "(no message)", yaml);
	cr_assert_not_null(cfg);
	return cfg;
}

/* Loading fails with `code` and exactly `message`. */
static inline void load_fails_code(const char *yaml, const char *profile, int code,
	const char *message)
{
	devkit_config *cfg = (devkit_config *)&cfg; /* must be reset to NULL */
	int rc = devkit_config_load_string(&cfg, yaml, "devkit.yaml", profile);
	const devkit_error *e = devkit_error_last();
	cr_assert_eq(rc, code, "expected %d, got %d (%s)\n---\n%s", code, rc,
		e && rc ? e->message : "loaded", yaml);
	cr_assert_null(cfg);
	cr_assert_not_null(e);
	cr_assert_eq(e->code, code);
	cr_assert_str_eq(e->message, message, "\n---\n%s", yaml);
}

#define load_fails(yaml, message) load_fails_code((yaml), NULL, DEVKIT_EINVAL, (message))

/* The repository's root: $DEVKIT_SOURCE_DIR under CTest, else found from
 * this file's own path, so the binaries also run by hand. */
static inline const char *source_dir(void)
{
	static char dir[PATH_MAX];
	const char *env = getenv("DEVKIT_SOURCE_DIR");
	if (env && *env)
		return env;
	snprintf(dir, sizeof(dir), "%s", __FILE__);
	char *cut = strstr(dir, "/tests/config/");
	cr_assert_not_null(cut, "set DEVKIT_SOURCE_DIR");
	*cut = '\0';
	return dir;
}

/* The environment variables the examples and docs name. */
static inline void set_example_env(void)
{
	static const char *const vars[][2] = {
		{ "DEVKIT_TEST_PASSPHRASE", "pass-phrase-secret" },
		{ "DEVKIT_TEST_PASSWORD", "bastion-secret" },
		{ "DEVKIT_TEST_PROXY_PASSWORD", "proxy-secret" },
		{ "DEVKIT_TEST_REGISTRY_PASSWORD", "registry-secret" },
		{ "DEVKIT_TEST_REGISTRY_TOKEN", "token-secret" },
		{ "DEVKIT_TEST_PROD_PASSWORD", "prod-secret" },
		{ "BASTION_PASSWORD", "doc-bastion-secret" },
		{ "KEY_PASSPHRASE", "doc-passphrase-secret" },
		{ "PROXY_PASSWORD", "doc-proxy-secret" },
		{ "NACOS_PASSWORD", "doc-nacos-secret" },
		{ "CONSUL_TOKEN", "doc-consul-secret" },
		{ "HOME", "/home/alice" },
		{ "USER", "alice" },
	};
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i][0], vars[i][1], 1);
}

/* A whole file, NUL-terminated; NULL if it cannot be read. */
static inline char *read_text(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		fwrite(buf, 1, n, mem);
	fclose(f);
	fclose(mem);
	return text;
}

#endif
