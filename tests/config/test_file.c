/* SPDX-License-Identifier: Apache-2.0 */
/* devkit_config_load() on files: messages name the path, paths resolve against the file. */
#include <sys/stat.h>
#include <unistd.h>

#include "config_test.h"

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof(dir), "/tmp/devkit-config-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void remove_dir(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

TestSuite(file, .init = make_dir, .fini = remove_dir);

Test(file, relative_paths_follow_the_file)
{
	char path[256], want[256];
	devkit_config *cfg = NULL;
	mkdir(strcat(strcpy(path, dir), "/project"), 0700);
	write_file("project/devkit.yaml", "tunnel:\n  bastion: h\n  identity: keys/id\n"
		"  known_hosts: ./known_hosts\n  user: ${DEVKIT_T_NOPE:-u}\n"
		"routing:\n  control: /run/devkit.sock\n");
	snprintf(path, sizeof(path), "%s/project/devkit.yaml", dir);
	/* From elsewhere: the file's directory counts, not the current one. */
	cr_assert_eq(chdir("/"), 0);
	cr_assert_eq(devkit_config_load(&cfg, path, NULL), 0, "%s", devkit_error_last()->message);
	snprintf(want, sizeof(want), "%s/project/keys/id", dir);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->identity_file, want);
	snprintf(want, sizeof(want), "%s/project/known_hosts", dir);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->known_hosts_file, want);
	cr_assert_str_eq(devkit_config_router(cfg)->control_path, "/run/devkit.sock");
	cr_assert_str_eq(devkit_config_name(cfg), path);
	devkit_config_free(cfg);

	/* A relative path to the file itself is made absolute. */
	snprintf(path, sizeof(path), "%s/project", dir);
	cr_assert_eq(chdir(path), 0);
	cr_assert_eq(devkit_config_load(&cfg, "devkit.yaml", NULL), 0);
	snprintf(want, sizeof(want), "%s/project/keys/id", dir);
	cr_assert_str_eq(devkit_config_tunnel(cfg)->identity_file, want);
	cr_assert_str_eq(devkit_config_name(cfg), "devkit.yaml");
	devkit_config_free(cfg);
}

Test(file, messages_name_the_path)
{
	char path[256], want[512];
	devkit_config *cfg = NULL;
	write_file("bad.yaml", "tunnel:\n  bastian: h\n");
	snprintf(path, sizeof(path), "%s/bad.yaml", dir);
	cr_assert_eq(devkit_config_load(&cfg, path, NULL), DEVKIT_EINVAL);
	snprintf(want, sizeof(want), "%s:2:3: unknown key \"bastian\" in tunnel "
		"(did you mean \"bastion\"?)", path);
	cr_assert_str_eq(devkit_error_last()->message, want);
	cr_assert_null(cfg);
}

Test(file, missing_file_and_directory)
{
	char path[256], want[512];
	devkit_config *cfg = NULL;
	snprintf(path, sizeof(path), "%s/nope.yaml", dir);
	cr_assert_eq(devkit_config_load(&cfg, path, NULL), DEVKIT_ENOTFOUND);
	snprintf(want, sizeof(want), "%s: cannot open: No such file or directory", path);
	cr_assert_str_eq(devkit_error_last()->message, want);
	cr_assert_eq(devkit_config_load(&cfg, dir, NULL), DEVKIT_EIO);
	snprintf(want, sizeof(want), "%s: is a directory, not a configuration file", dir);
	cr_assert_str_eq(devkit_error_last()->message, want);
	cr_assert_null(cfg);
}

Test(file, too_large)
{
	char path[256], want[512];
	devkit_config *cfg = NULL;
	snprintf(path, sizeof(path), "%s/big.yaml", dir);
	FILE *f = fopen(path, "w");
	for (int i = 0; i < 70000; i++)
		fputs("# a comment line\n", f);
	fclose(f);
	cr_assert_eq(devkit_config_load(&cfg, path, NULL), DEVKIT_EINVAL);
	snprintf(want, sizeof(want), "%s: larger than 1 MiB: not a configuration file", path);
	cr_assert_str_eq(devkit_error_last()->message, want);

	char *text = read_text(path);
	cr_assert_eq(devkit_config_load_string(&cfg, text, NULL, NULL), DEVKIT_EINVAL);
	cr_assert_str_eq(devkit_error_last()->message,
		"<string>: larger than 1 MiB: not a configuration file");
	cr_assert_null(cfg);
	free(text);
}

Test(file, truncated_file)
{
	char path[256], want[512];
	devkit_config *cfg = NULL;
	write_file("cut.yaml", "tunnel:\n  bastion: h\nforwards:\n  - {kind: socks, bind: 10");
	snprintf(path, sizeof(path), "%s/cut.yaml", dir);
	cr_assert_eq(devkit_config_load(&cfg, path, NULL), DEVKIT_EINVAL);
	snprintf(want, sizeof(want), "%s:5:1: invalid YAML: did not find expected ',' or '}' "
		"(while parsing a flow mapping at 4:5)", path);
	cr_assert_str_eq(devkit_error_last()->message, want);
}
