/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The schema, the docs and the parser cannot drift apart:
 *   - every example (the .yaml files of tests/config/examples, each ```yaml
 *     block of docs/config.md) loads, with each of its profiles;
 *   - every invalid example (the .yaml files of tests/config/invalid) is refused with
 *     exactly the message its "# error:" line gives;
 *   - tests/config/check_schema.py (Python jsonschema) then checks the same
 *     files, the library's describe() output and the parser's key tables
 *     against docs/devkit.schema.json.
 */
#include <glob.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config/config_int.h"
#include "config_test.h"

extern char **environ;

static void paths(const char *pattern, glob_t *g)
{
	char full[PATH_MAX + 64];
	snprintf(full, sizeof(full), "%s/%s", source_dir(), pattern);
	cr_assert_eq(glob(full, 0, NULL, g), 0, "no files match %s", full);
}

/* The names under `profiles:`, read from the tree: a base that only its
 * profiles complete does not load on its own. */
static size_t profile_names(const char *text, char names[][64], size_t max)
{
	cfg_node *root = NULL;
	size_t n = 0;
	cr_assert_eq(cfg_yaml_parse(text, strlen(text), "text", &root), 0);
	const cfg_node *profiles = cfg_map_get(root, "profiles");
	for (size_t i = 0; profiles && profiles->kind == CFG_MAP && i < profiles->npairs && n < max; i++)
		snprintf(names[n++], 64, "%s", profiles->pairs[i].key->text);
	cfg_node_free(root);
	return n;
}

/* Load `text` with each profile, and with none when it has none (a file
 * with profiles must load with each; its base alone may be incomplete).
 * Describe each into `out_dir` (when given) for the schema check. */
static void loads_everywhere(const char *name, const char *text, const char *out_dir)
{
	char names[32][64];
	size_t n = profile_names(text, names, 32);
	int rc;
	for (size_t i = 0; i <= n; i++) {
		devkit_config *p = NULL;
		const char *profile = i < n ? names[i] : NULL;
		rc = devkit_config_load_string(&p, text, name, profile);
		if (!profile && n && rc)
			continue;
		cr_assert_eq(rc, 0, "%s, profile %s: %s", name, profile,
			rc ? devkit_error_last()->message : "");
		if (out_dir) {
			devkit_buf buf = DEVKIT_BUF_INIT;
			char path[PATH_MAX + 256];
			static int seq;
			snprintf(path, sizeof(path), "%s/described-%d.json", out_dir, seq++);
			cr_assert_eq(devkit_config_describe(p, &buf), 0);
			FILE *f = fopen(path, "w");
			cr_assert_not_null(f);
			fputs(buf.ptr, f);
			fclose(f);
			devkit_buf_dispose(&buf);
		}
		devkit_config_free(p);
	}
}

static void each_example(const char *out_dir)
{
	glob_t g;
	set_example_env();
	paths("tests/config/examples/*.yaml", &g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *text = read_text(g.gl_pathv[i]);
		cr_assert_not_null(text);
		loads_everywhere(g.gl_pathv[i], text, out_dir);
		free(text);
	}
	globfree(&g);
}

/* Each ```yaml block of docs/config.md is a complete, valid file. */
static int each_doc_block(const char *out_dir)
{
	char path[PATH_MAX + 64];
	int blocks = 0;
	snprintf(path, sizeof(path), "%s/docs/config.md", source_dir());
	char *doc = read_text(path);
	cr_assert_not_null(doc, "%s", path);
	set_example_env();
	for (char *p = doc; (p = strstr(p, "```yaml\n")) != NULL;) {
		int line = 1;
		for (const char *c = doc; c < p; c++)
			line += *c == '\n';
		char *start = p + 8, *end = strstr(start, "\n```");
		cr_assert_not_null(end, "docs/config.md:%d: unterminated block", line);
		char *text = strndup(start, (size_t)(end - start) + 1);
		char name[64];
		snprintf(name, sizeof(name), "docs/config.md:%d", line + 1);
		loads_everywhere(name, text, out_dir);
		free(text);
		blocks++;
		p = end + 4;
	}
	free(doc);
	return blocks;
}

Test(schema, examples_load_with_every_profile)
{
	each_example(NULL);
}

Test(schema, doc_examples_load_with_every_profile)
{
	cr_assert_gt(each_doc_block(NULL), 10, "docs/config.md shows an example for each section");
}

Test(schema, invalid_examples_fail_with_their_message)
{
	glob_t g;
	set_example_env();
	paths("tests/config/invalid/*.yaml", &g);
	for (size_t i = 0; i < g.gl_pathc; i++) {
		char *text = read_text(g.gl_pathv[i]);
		char want[1024] = "", profile[64] = "";
		const char *name = strrchr(g.gl_pathv[i], '/') + 1;
		char *line = strstr(text, "\n# error: ");
		cr_assert_not_null(line, "%s: no \"# error:\" line", name);
		sscanf(line + 10, "%1023[^\n]", want);
		if ((line = strstr(text, "\n# profile: ")) != NULL)
			sscanf(line + 12, "%63s", profile);
		devkit_config *cfg = NULL;
		int rc = devkit_config_load_string(&cfg, text, name, profile[0] ? profile : NULL);
		cr_assert_neq(rc, 0, "%s loaded", name);
		cr_assert_str_eq(devkit_error_last()->message, want, "%s", name);
		free(text);
	}
	globfree(&g);
}

static int run(char *const argv[])
{
	pid_t pid;
	int status;
	cr_assert_eq(posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ), 0,
		"cannot run %s", argv[0]);
	cr_assert_eq(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

Test(schema, schema_agrees_with_the_parser)
{
	char dir[] = "/tmp/devkit-schema-XXXXXX";
	char tables[PATH_MAX], cmd[PATH_MAX * 3];
	devkit_buf buf = DEVKIT_BUF_INIT;
	cr_assert_not_null(mkdtemp(dir));

	/* The parser's tables, and what describe() writes: both must fit the schema. */
	snprintf(tables, sizeof(tables), "%s/tables.json", dir);
	cr_assert_eq(devkit__config_tables_json(&buf), 0);
	FILE *f = fopen(tables, "w");
	fputs(buf.ptr, f);
	fclose(f);
	devkit_buf_dispose(&buf);
	each_example(dir);
	each_doc_block(dir);

	/* sh expands the globs: argv stays short and readable in the log. */
	snprintf(cmd, sizeof(cmd), "cd '%s' && exec python3 tests/config/check_schema.py "
		"--schema docs/devkit.schema.json --tables '%s' "
		"--valid tests/config/examples/*.yaml '%s'/described-*.json "
		"--docs docs/config.md --invalid tests/config/invalid/*.yaml",
		source_dir(), tables, dir);
	char *argv[] = { "sh", "-c", cmd, NULL };
	int status = run(argv);

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	char *rm[] = { "sh", "-c", cmd, NULL };
	run(rm);
	cr_assert_eq(status, 0, "check_schema.py failed (its output is above); it needs the "
		"PyPI packages jsonschema and PyYAML");
}
