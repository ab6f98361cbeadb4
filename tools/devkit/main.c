/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit — the reference command-line tool, built on the public API only.
 * This file only dispatches to subcommands; each lives in its own cmd_*.c.
 */
#include <stdio.h>
#include <string.h>

#include <devkit.h>

#include "cli_util.h"
#include "commands.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{ "tunnel", cmd_tunnel, "SSH tunnel to a bastion: SOCKS/HTTP proxy, -L and -R forwards" },
	{ "run", cmd_run, "run a command with its cluster names and CIDRs routed through the tunnel" },
	{ "expose", cmd_expose, "expose a local service to the cloud: reverse forward + registry entry" },
	{ "up", cmd_up, "bring up everything devkit.yaml describes, until Ctrl-C tears it down" },
	{ "status", cmd_status, "the status of a running 'devkit up', from another terminal" },
	{ "config", cmd_config, "check a devkit.yaml, or show it with defaults filled in" },
	{ "replicate", cmd_replicate, "copy a Pod (or a workload's template) as a personal workspace" },
	{ "replica", cmd_replica, "list the replicas, or delete one: replica list, replica delete NAME" },
	{ "gc", cmd_gc, "delete the replicas whose expiry has passed" },
	{ "events", cmd_events, "the events of a Pod and its owners, by stage (--watch for new ones)" },
	{ "logs", cmd_logs, "a container's log; -f survives reconnects without losing lines" },
	{ "diagnose", cmd_diagnose, "why a Pod is not running, in plain words, with the fix" },
	{ "deploy", cmd_deploy, "copy a build into a replica and restart its app (only changes go)" },
	{ "app", cmd_app, "the app under a replica's keep-alive: status, start, stop, restart" },
	{ "capture", cmd_capture, "tcpdump in a Pod's network: text, or a pcap file for Wireshark" },
	{ "debug", cmd_debug, "restart a replica's JVM with JDWP and forward it to the IDE" },
	{ "arthas", cmd_arthas, "Arthas in a container's JVM: run a command, or its console" },
	{ "port-forward", cmd_port_forward, "Pod ports on local ports, via the API server or a bastion" },
	{ "shell", cmd_shell, "a shell in a container whose every command goes to an audit log" },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void print_help(FILE *out)
{
	fputs("Usage: devkit [--help | --version] <command> [options]\n"
		"\n"
		"Developer tools for services running in a remote Kubernetes cloud.\n"
		"\n"
		"Commands:\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fputs("\n"
		"Options:\n"
		"  -h, --help     show this help and exit\n"
		"  -V, --version  show the versions of devkit and the loaded libdevkit\n"
		"\n"
		"'devkit <command> --help' or 'devkit help <command>' describes a command.\n"
		"Exit status: 0 success, 1 failure, 2 usage error; 'devkit run' exits with\n"
		"the status of the command it ran.\n", out);
}

static void print_version(void)
{
	int major = 0, minor = 0, patch = 0;

	devkit_version(&major, &minor, &patch);
	/* Both, because the shared library loaded at run time may not be the one
	 * the tool was compiled against. */
	printf("devkit %s (libdevkit %d.%d.%d)\n", DEVKIT_VERSION, major, minor, patch);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(commands[i].name, name) == 0)
			return &commands[i];
	}
	return NULL;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	const char *name;

	/* Line-buffered even into a pipe: scripts read status and JSON events
	 * line by line while the tunnel runs. */
	setvbuf(stdout, NULL, _IOLBF, 0);

	if (argc < 2) {
		print_help(stderr);
		return CLI_EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0) {
		print_help(stdout);
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		print_version();
		return CLI_EXIT_OK;
	}
	if (strcmp(name, "help") == 0) {
		char help_flag[] = "--help";
		char *help_argv[3];

		if (argc < 3) {
			print_help(stdout);
			return CLI_EXIT_OK;
		}
		cmd = find_command(argv[2]);
		if (!cmd)
			return cli_usage(NULL, "unknown command '%s'", argv[2]);
		help_argv[0] = argv[2];
		help_argv[1] = help_flag;
		help_argv[2] = NULL;
		return cmd->run(2, help_argv);
	}
	if (name[0] == '-')
		return cli_usage(NULL, "unknown option '%s' (options of a command go after it)", name);
	cmd = find_command(name);
	if (!cmd)
		return cli_usage(NULL, "unknown command '%s'", name);
	return cmd->run(argc - 1, argv + 1);
}
