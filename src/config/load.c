/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_config_load(), devkit_config_load_string(), devkit_config_free().
 *
 * The order matters for the messages: YAML syntax first, then every key name
 * and shape in the whole file (profiles too), then the selected profile is
 * merged and only the effective document's values are read, so a variable
 * that only `prod` uses need not be set to work on `staging`.
 */
#include "config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"

static int parse(devkit_config *cfg, const char *text, size_t len, const char *base_dir,
	const char *profile)
{
	cfg_parse p = { .cfg = cfg, .name = cfg->name, .base_dir = base_dir };
	cfg_node *root = NULL;
	int rc = cfg_yaml_parse(text, len, cfg->name, &root);

	if (rc)
		return rc;
	if (root && cfg_is_null(root)) {
		/* A file of comments only, or "~": nothing configured. */
		cfg_node_free(root);
		root = NULL;
	}
	if (root && root->kind != CFG_MAP) {
		rc = cfg_fail(&p, root, "expected a mapping of sections (tunnel:, forwards:, dns:, "
			"...) at the top level, got %s", cfg_kind_name(root));
		cfg_node_free(root);
		return rc;
	}
	if (root) {
		p.check_only = 1;
		rc = cfg_walk(&p, &cfg_table_config, root, "", NULL);
		p.check_only = 0;
	}
	if (!rc)
		rc = cfg_profiles_apply(&p, root, profile);
	if (!rc && root)
		rc = cfg_walk(&p, &cfg_table_config, root, "", cfg);
	if (!rc && root)
		rc = cfg_check_sections(&p, root);
	cfg_node_free(root);
	return rc;
}

static int load(devkit_config **out, const char *text, size_t len, const char *name,
	const char *base_dir, const char *profile)
{
	devkit_config *cfg = calloc(1, sizeof(*cfg));
	int rc;

	if (!cfg || !(cfg->name = strdup(name))) {
		free(cfg);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	if (profile && !*profile)
		profile = NULL;
	rc = parse(cfg, text, len, base_dir, profile);
	if (rc) {
		devkit_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return 0;
}

int devkit_config_load_string(devkit_config **out, const char *yaml, const char *name,
	const char *profile)
{
	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_config_load_string: out is NULL");
	*out = NULL;
	if (!yaml)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_config_load_string: yaml is NULL");
	size_t len = strlen(yaml);
	if (len > CFG_MAX_FILE)
		return devkit__error_set(DEVKIT_EINVAL, "%s: larger than 1 MiB: not a configuration "
			"file", name ? name : "<string>");
	return load(out, yaml, len, name ? name : "<string>", NULL, profile);
}

/* The whole file, bounded: a configuration is small, and a huge or endless
 * file (a FIFO, /dev/zero) must not hang or exhaust the process. */
static int read_file(const char *path, char **text, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t cap = 4096, used = 0;
	char *buf;

	if (fd < 0)
		return devkit__error_set(errno == ENOENT ? DEVKIT_ENOTFOUND : DEVKIT_EIO,
			"%s: cannot open: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return devkit__error_set(DEVKIT_EIO, "%s: is a directory, not a configuration file",
			path);
	}
	if (!(buf = malloc(cap))) {
		close(fd);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	for (;;) {
		if (used == cap) {
			char *grown = cap < CFG_MAX_FILE + 1 ? realloc(buf, cap * 2) : NULL;
			if (!grown) {
				free(buf);
				close(fd);
				return cap >= CFG_MAX_FILE + 1
					? devkit__error_set(DEVKIT_EINVAL, "%s: larger than 1 MiB: not a "
						"configuration file", path)
					: devkit__error_set(DEVKIT_ENOMEM, "out of memory");
			}
			buf = grown;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;
			free(buf);
			close(fd);
			return devkit__error_set(DEVKIT_EIO, "%s: cannot read: %s", path, strerror(err));
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > CFG_MAX_FILE) {
			free(buf);
			close(fd);
			return devkit__error_set(DEVKIT_EINVAL, "%s: larger than 1 MiB: not a "
				"configuration file", path);
		}
	}
	close(fd);
	*text = buf;
	*len = used;
	return 0;
}

int devkit_config_load(devkit_config **out, const char *path, const char *profile)
{
	char *text = NULL, *dir_copy = NULL;
	char *base = NULL;
	size_t len = 0;
	int rc;

	if (!out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_config_load: out is NULL");
	*out = NULL;
	if (!path || !*path)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_config_load: no path given");
	if ((rc = read_file(path, &text, &len)) != 0)
		return rc;
	/* Relative paths in the file are relative to the file's directory,
	 * made absolute so that they survive a later chdir. */
	if (!(dir_copy = strdup(path))) {
		free(text);
		return devkit__error_set(DEVKIT_ENOMEM, "out of memory");
	}
	const char *dir = dirname(dir_copy);
	base = realpath(dir, NULL);
	rc = load(out, text, len, path, base ? base : dir, profile);
	free(base);
	free(dir_copy);
	free(text);
	return rc;
}

void devkit_config_free(devkit_config *cfg)
{
	if (!cfg)
		return;
	cfg_strings_free(cfg);
	for (size_t i = 0; i < cfg->nprofiles; i++)
		free(cfg->profiles[i]);
	free(cfg->profiles);
	free(cfg->forwards);
	free(cfg->exposes);
	free(cfg->replicas);
	free(cfg->profile);
	free(cfg->name);
	free(cfg);
}
