/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The YAML layer: libyaml's own problems with line:column, truncated input,
 * one document only, anchors and aliases (and alias bombs), tags, duplicate
 * keys, what the top level may be.
 */
#include "config_test.h"

Test(yaml, truncated_quoted_scalar)
{
	load_fails("tunnel:\n  bastion: \"dev@h\n",
		"devkit.yaml:3:1: invalid YAML: found unexpected end of stream "
		"(while scanning a quoted scalar at 2:12)");
}

Test(yaml, truncated_flow_sequence)
{
	load_fails("forwards: [a, b\n",
		"devkit.yaml:2:1: invalid YAML: did not find expected ',' or ']' "
		"(while parsing a flow sequence at 1:11)");
}

Test(yaml, truncated_in_the_middle_of_a_key)
{
	/* Every prefix of a valid file either loads or fails with a located
	 * message: nothing crashes, nothing leaks (run under ASan). */
	const char *full = "tunnel:\n  bastion: dev@bastion:2222\n  ciphers: [aes128-ctr]\n"
		"forwards:\n  - {kind: socks, bind: 1080}\n";
	size_t len = strlen(full);
	for (size_t i = 0; i < len; i++) {
		char *cut = strndup(full, i);
		devkit_config *cfg = NULL;
		int rc = devkit_config_load_string(&cfg, cut, "devkit.yaml", NULL);
		if (rc) {
			cr_assert_null(cfg);
			cr_assert(!strncmp(devkit_error_last()->message, "devkit.yaml:", 12),
				"%zu: %s", i, devkit_error_last()->message);
		}
		devkit_config_free(cfg);
		free(cut);
	}
}

Test(yaml, bad_indentation)
{
	load_fails("tunnel:\n  bastion: a\n user: b\n",
		"devkit.yaml:3:2: invalid YAML: did not find expected key "
		"(while parsing a block mapping at 1:1)");
}

Test(yaml, tab_indentation)
{
	load_fails("tunnel:\n\tbastion: a\n",
		"devkit.yaml:2:1: invalid YAML: found character that cannot start any token "
		"(while scanning for the next token at 2:1)");
}

Test(yaml, mapping_value_in_the_wrong_place)
{
	load_fails("a: b: c\n",
		"devkit.yaml:1:5: invalid YAML: mapping values are not allowed in this context");
}

Test(yaml, invalid_utf8_is_located)
{
	load_fails("tunnel:\n  bastion: h\xff\n",
		"devkit.yaml:2:13: invalid YAML: invalid leading UTF-8 octet (byte 0xff)");
}

Test(yaml, duplicate_key)
{
	load_fails("tunnel:\n  bastion: h\n  bastion: g\n",
		"devkit.yaml:3:3: duplicate key \"bastion\" in tunnel (first at 2:3)");
}

Test(yaml, one_document_only)
{
	load_fails("tunnel: {bastion: h}\n---\ndns: {}\n",
		"devkit.yaml:2:1: a second YAML document: devkit.yaml holds one "
		"(use profiles for variants)");
}

Test(yaml, anchors_and_aliases_are_copies)
{
	devkit_config *cfg = load_ok("x-expose: &svc\n  service: orders\n  registry: etcd://e:2379\n"
		TUNNEL
		"expose:\n  - {local: 8080, service: orders, registry: etcd://e:2379}\n"
		"  - &second {local: 8081, service: orders, registry: etcd://e:2379}\n"
		"replicas:\n  - &r {pod: web-1}\n  - *r\n", NULL);
	cr_assert_eq(devkit_config_expose_count(cfg), 2);
	cr_assert_eq(devkit_config_replica_count(cfg), 2);
	cr_assert_str_eq(devkit_config_replica(cfg, 1)->source_name, "web-1");
	devkit_config_free(cfg);
}

Test(yaml, unknown_alias)
{
	load_fails("tunnel: *nope\n", "devkit.yaml:1:9: alias *nope: no anchor &nope before it "
		"(an alias cannot refer to a value that contains it)");
}

Test(yaml, alias_to_itself)
{
	load_fails("a: &a [*a]\n", "devkit.yaml:1:8: alias *a: no anchor &a before it "
		"(an alias cannot refer to a value that contains it)");
}

Test(yaml, alias_bomb_is_bounded)
{
	/* "billion laughs": 10 aliases of 10 aliases of ... */
	char yaml[4096];
	size_t len = (size_t)snprintf(yaml, sizeof(yaml), "x-a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
	for (int i = 1; i < 9; i++)
		len += (size_t)snprintf(yaml + len, sizeof(yaml) - len,
			"x-a%d: &a%d [*a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d, *a%d]\n",
			i, i, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1, i - 1);
	devkit_config *cfg = NULL;
	cr_assert_eq(devkit_config_load_string(&cfg, yaml, "devkit.yaml", NULL), DEVKIT_EINVAL);
	cr_assert(strstr(devkit_error_last()->message, "too many nodes"), "%s",
		devkit_error_last()->message);
}

Test(yaml, nesting_is_bounded)
{
	char yaml[512];
	size_t len = (size_t)snprintf(yaml, sizeof(yaml), "x-deep: ");
	for (int i = 0; i < 70; i++)
		yaml[len++] = '[';
	yaml[len] = '\0';
	load_fails(yaml, "devkit.yaml:1:72: nested too deeply (more than 64 levels)");
}

Test(yaml, tags)
{
	load_fails("tunnel: {bastion: !!int 5}\n", "devkit.yaml:1:19: tunnel.bastion: tag !!int is "
		"not supported (leave the value untagged; only !!str is understood)");
	load_fails("tunnel: {bastion: !custom h}\n", "devkit.yaml:1:19: tunnel.bastion: tag !custom "
		"is not supported (leave the value untagged; only !!str is understood)");
	load_fails("tunnel: !thing {bastion: h}\n", "devkit.yaml:1:9: tunnel: tag !thing is not "
		"supported (leave the value untagged; only !!str is understood)");
	/* !!str makes a number text, where text is wanted. */
	devkit_config *cfg = load_ok("tunnel: !!map {bastion: h, user: !!str 123}\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->user, "123");
	devkit_config_free(cfg);
}

Test(yaml, merge_keys_are_refused_clearly)
{
	load_fails("tunnel:\n  bastion: h\n  <<: {user: x}\n", "devkit.yaml:3:3: tunnel: merge "
		"keys (<<) are not supported: use an alias for the whole value, or profiles");
}

Test(yaml, keys_are_names)
{
	load_fails("? [a]\n: b\n", "devkit.yaml:1:3: a key must be a plain name, not a list "
		"(at the top level)");
}

Test(yaml, nul_in_a_value)
{
	load_fails("tunnel: {bastion: \"a\\0b\"}\n",
		"devkit.yaml:1:19: tunnel.bastion: the value contains a NUL character");
}

Test(yaml, top_level_must_be_a_mapping)
{
	load_fails("- tunnel\n", "devkit.yaml:1:1: expected a mapping of sections (tunnel:, "
		"forwards:, dns:, ...) at the top level, got a list");
	load_fails("just text\n", "devkit.yaml:1:1: expected a mapping of sections (tunnel:, "
		"forwards:, dns:, ...) at the top level, got a string");
}

Test(yaml, empty_documents_configure_nothing)
{
	static const char *const empty[] = { "", "# comments only\n", "~\n", "---\n", "{}\n" };
	for (size_t i = 0; i < sizeof(empty) / sizeof(empty[0]); i++) {
		devkit_config *cfg = load_ok(empty[i], NULL);
		cr_assert_null(devkit_config_tunnel(cfg));
		devkit_config_free(cfg);
	}
}

Test(yaml, core_schema_not_yaml_1_1)
{
	/* "on", "yes", "no" are strings in YAML 1.2: not booleans, and fine as names. */
	devkit_config *cfg = load_ok(TUNNEL "  user: no\n", NULL);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->user, "no");
	devkit_config_free(cfg);
	load_fails(TUNNEL "  agent: on\n",
		"devkit.yaml:3:10: tunnel.agent: expected true or false, got \"on\"");
}

Test(yaml, flow_and_block_styles_agree)
{
	devkit_config *a = load_ok("tunnel: {bastion: h, ciphers: [x, y]}\n", NULL);
	devkit_config *b = load_ok("tunnel:\n  bastion: h\n  ciphers:\n    - x\n    - y\n", NULL);
	devkit_config *c = load_ok("{\"tunnel\": {\"bastion\": \"h\", \"ciphers\": [\"x\", \"y\"]}}", NULL);
	cr_assert_str_eq(devkit_config_tunnel(a)->ciphers, "x,y");
	cr_assert_str_eq(devkit_config_tunnel(b)->ciphers, "x,y");
	cr_assert_str_eq(devkit_config_tunnel(c)->ciphers, "x,y");
	devkit_config_free(a);
	devkit_config_free(b);
	devkit_config_free(c);
}
