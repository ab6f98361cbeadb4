/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the parts of `devkit expose`: cmd_expose_args.c (options and
 * their checks), cmd_expose.c (life cycle, event loop) and cmd_expose_report.c
 * (what the user or script sees, as text or as JSON lines). Private to the CLI.
 */
#ifndef DEVKIT_CLI_CMD_EXPOSE_H
#define DEVKIT_CLI_CMD_EXPOSE_H

#include <stddef.h>
#include <stdint.h>

#include <devkit.h>

#include "cli_connect.h"
#include "cli_json.h"
#include "cli_util.h"

/* Forwards whose first FORWARD_READY is folded into the header lines: the
 * reverse forward and the registry's local forwards (at most 8 hosts). */
#define EXPOSE_MAX_FORWARDS 16

struct expose_cli {
	/* options; strings are borrowed from argv or the environment unless said */
	struct cli_connect conn;
	const char *local_arg;             /* --local as typed, for messages */
	cli_listen_spec local;             /* address "" means 127.0.0.1 */
	const char *registry;
	const char *service;
	const char *protocol;              /* NULL: the library's default (http) */
	const char *interface_name;
	const char *methods;
	char *metadata;                    /* --meta lines joined with '\n' (malloc'd) */
	const char *tag;
	const char *advertise_arg;
	char advertise[CLI_HOST_MAX];      /* without brackets; "" lets the library choose */
	const char *remote_bind_arg;
	char remote_bind[CLI_HOST_MAX];    /* without brackets; "" is the library's default */
	const char *remote_port_arg;
	int remote_port;                   /* 0: the bastion chooses */
	int registry_direct;
	unsigned int ttl_ms;               /* 0: the registry's usual value */
	unsigned int heartbeat_ms;         /* 0: a third of the TTL */
	const char *registry_user;
	const char *registry_password_env;
	const char *registry_password;     /* a secret: never printed */
	const char *registry_token_env;
	const char *registry_token;        /* a secret: never printed */
	const char *registry_ca;
	int json;

	/* run time */
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	devkit_expose *expose;
	devkit_registration *reg;          /* owned by expose */
	uint64_t tunnel_id;
	uint64_t reg_id;
	uint64_t forward_id;               /* the reverse forward on the bastion */
	char remote_address[CLI_HOST_MAX]; /* where the bastion listens */
	int remote_bound_port;
	char advertised[CLI_HOST_MAX];     /* what the registry entry says */
	int advertised_port;
	char instance_id[256];
	int ready;                         /* "ready" was reported */
	int failures_in_a_row;             /* RETRYING/LOST events since the last REGISTERED */
	int events_dropped;                /* the queue overflowed: ask for the state */
	uint64_t folded[EXPOSE_MAX_FORWARDS]; /* forwards whose first ready was folded */
	size_t n_folded;
	cli_json out;
};

/* cmd_expose_args.c */

/* Read and check the whole command line. 0; -1 after --help; CLI_EXIT_USAGE
 * or CLI_EXIT_FAILURE after saying why. Nothing here touches the network. */
int expose_parse_args(struct expose_cli *t, int argc, char **argv);

/* Fill the library's option structs from what expose_parse_args read. */
void expose_fill_options(const struct expose_cli *t, devkit_expose_options *eo,
	devkit_registration_options *ro);

/* cmd_expose_report.c. Every expose_report_* returns 0, or -1 when stdout can
 * no longer be written. */

/* Where things are, right after devkit_tunnel_expose: the tunnel, the reverse
 * forward, what is being registered (human mode only; JSON waits for ready). */
int expose_report_started(struct expose_cli *t);

/* The entry is in the registry. */
int expose_report_ready(struct expose_cli *t);

/* One library event, in the user's chosen format. */
int expose_report_event(struct expose_cli *t, const devkit_event *ev);

/* A shutdown signal arrived: deregistering and closing follow. */
int expose_report_closing(struct expose_cli *t, int sig);

/* "devkit: [context: ]why" on stderr and, with --json, an "error" event.
 * Call right after the failing library call: it reads devkit_error_last(). */
void expose_report_error(struct expose_cli *t, const char *context, int rc);

/* Read instance_id, address and port from devkit_registration_describe(). */
void expose_read_description(struct expose_cli *t);

#endif
