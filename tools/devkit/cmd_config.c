/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit config check | show — the configuration file without bringing
 * anything up: `check` loads it as `devkit up` would (every key, type, range
 * and rule between keys, ${ENV} and the profile) and says what it configures;
 * `show` prints the effective configuration (devkit_config_describe: profile
 * merged, variables expanded, paths resolved, defaults filled in) as JSON,
 * which is itself a valid devkit.yaml. Neither touches the network, and
 * neither prints a secret: only the names of the variables they come from.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd_up.h"
#include "commands.h"

static const char config_help[] =
	"Usage: devkit config check [-f FILE] [--profile NAME]\n"
	"       devkit config show [-f FILE] [--profile NAME]\n"
	"\n"
	"Check a configuration file without bringing anything up (docs/config.md).\n"
	"\n"
	"  check                   load the file as `devkit up` would and say what it\n"
	"                          configures; a mistake is reported with its file,\n"
	"                          line and column (exit 2)\n"
	"  show                    print the effective configuration as JSON: the\n"
	"                          profile merged, ${VARIABLES} expanded, paths\n"
	"                          resolved, defaults filled in; secrets never appear,\n"
	"                          only the names of their variables\n"
	"\n"
	"Options:\n"
	"  -f, --file FILE         the configuration (default ./devkit.yaml)\n"
	"      --profile NAME      merge this profile of the file over the rest\n"
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 when the file is valid; 2 when it is not, or on a usage\n"
	"error; 1 when the description cannot be made.\n";

enum { OPT_PROFILE = 256 };

static const struct option long_options[] = {
	{ "file", required_argument, NULL, 'f' },
	{ "profile", required_argument, NULL, OPT_PROFILE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static int check(const char *file, devkit_config *cfg)
{
	char summary[512];
	size_t n = devkit_config_profile_count(cfg);
	const char *profile = devkit_config_profile(cfg);

	printf("%s: valid%s%s: %s\n", file, profile ? ", profile " : "", profile ? profile : "",
		up_config_summary(cfg, summary, sizeof(summary)));
	if (n > 0) {
		printf("profiles:");
		for (size_t i = 0; i < n; i++)
			printf(" %s", devkit_config_profile_name(cfg, i));
		putchar('\n');
	}
	return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int show(devkit_config *cfg)
{
	devkit_buf buf = DEVKIT_BUF_INIT;
	int rc = devkit_config_describe(cfg, &buf);

	if (rc != 0) {
		cli_report_error(NULL, 0, NULL, "describing the configuration", rc);
		return CLI_EXIT_FAILURE;
	}
	rc = fputs(buf.ptr, stdout) < 0 || (buf.size && buf.ptr[buf.size - 1] != '\n'
		&& putchar('\n') == EOF) || fflush(stdout) != 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	devkit_buf_dispose(&buf);
	return rc;
}

int cmd_config(int argc, char **argv)
{
	const char *file = NULL, *profile = NULL, *action;
	devkit_config *cfg = NULL;
	char usage_cmd[] = "config";
	int c, rc = 0;

	if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
		fputs(config_help, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2 || argv[1][0] == '-')
		return cli_usage(usage_cmd, "expected 'check' or 'show' after 'devkit config'");
	action = argv[1];
	if (strcmp(action, "check") != 0 && strcmp(action, "show") != 0)
		return cli_usage(usage_cmd, "unknown action '%s': expected 'check' or 'show'", action);
	opterr = 0;
	optind = 1;
	/* argv + 1: getopt starts after "check"/"show". */
	while ((c = getopt_long(argc - 1, argv + 1, "+:f:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f': rc = cli_set_once(&file, optarg, usage_cmd, "--file"); break;
		case OPT_PROFILE: rc = cli_set_once(&profile, optarg, usage_cmd, "--profile"); break;
		case 'h':
			fputs(config_help, stdout);
			return CLI_EXIT_OK;
		default:
			return cli_getopt_error(usage_cmd, c, argv + 1);
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc - 1)
		return cli_usage(usage_cmd, "unexpected argument '%s'", argv[optind + 1]);
	if (!file)
		file = UP_DEFAULT_FILE;
	if ((rc = up_config_load(file, profile, 0, NULL, &cfg)) != 0)
		return rc;
	rc = strcmp(action, "check") == 0 ? check(file, cfg) : show(cfg);
	devkit_config_free(cfg);
	return rc;
}
