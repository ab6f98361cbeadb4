/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The subcommands of the devkit CLI. Each takes its own argv, starting with the
 * subcommand's name (argv[0] == "tunnel"), and returns the process exit status.
 * To add one: write cmd_<name>.c, declare it here, list it in main.c.
 */
#ifndef DEVKIT_CLI_COMMANDS_H
#define DEVKIT_CLI_COMMANDS_H

int cmd_tunnel(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_expose(int argc, char **argv);
int cmd_up(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_config(int argc, char **argv);
int cmd_replicate(int argc, char **argv);
int cmd_replica(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_events(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_deploy(int argc, char **argv);
int cmd_app(int argc, char **argv);
int cmd_capture(int argc, char **argv);
int cmd_debug(int argc, char **argv);
int cmd_arthas(int argc, char **argv);
int cmd_port_forward(int argc, char **argv);
int cmd_shell(int argc, char **argv);

#endif
