/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the parts of the replica commands: cmd_replica_args.c
 * (`devkit replicate` options and their checks), cmd_replica.c (dry run and
 * create), cmd_replica_wait.c (progress while waiting, Ctrl-C),
 * cmd_replica_manage.c (`devkit replica list|delete`, `devkit gc`),
 * cmd_replica_table.c (times and tables) and cmd_replica_doc.c (JSON in,
 * YAML out). Private to the CLI.
 */
#ifndef DEVKIT_CLI_CMD_REPLICA_H
#define DEVKIT_CLI_CMD_REPLICA_H

#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <devkit.h>

#include "cli_json.h"
#include "cli_k8s.h"
#include "cli_util.h"
#include "cmd_replica_doc.h"

/* Exit status after Ctrl-C (128 + SIGINT, as a shell reports it). */
#define REPLICA_EXIT_INTERRUPTED 130

#define REPLICA_DEFAULT_WAIT_MS (5LL * 60 * 1000)
#define REPLICA_DEFAULT_DELETE_MS (2LL * 60 * 1000)

struct replicate_cli {
	/* options; strings are borrowed from argv */
	struct cli_k8s k;
	devkit_replica_options opts;       /* what the library gets */
	const char *source_flag;           /* "--deployment", for messages */
	const char *output;                /* -o: "yaml" or "json"; NULL: not given */
	int dry_run;
	int wait;
	long long timeout_ms;              /* --timeout; 0: not given */
	int json;

	/* run time */
	devkit_ctx *ctx;
	devkit_k8s *k8s;
	devkit_replica *replica;
	time_t created_at;                 /* when the API server accepted it */
	cli_json out;
};

/* cmd_replica_args.c */

/* Read and check the whole command line: 0; -1 after --help; CLI_EXIT_USAGE
 * after saying why. Nothing here touches the network. */
int replicate_parse_args(struct replicate_cli *t, int argc, char **argv);

/* "deployment/web" for the source, into buf. */
const char *replicate_source_text(const struct replicate_cli *t, char *buf, size_t size);

/* cmd_replica_wait.c */

/*
 * Wait until the created replica is Ready, printing each stage as it is
 * reached (or a JSON event per stage). Returns the exit status: 0 ready; 1
 * when it cannot get further or the time ran out (the library's message
 * says where it stopped and why); REPLICA_EXIT_INTERRUPTED after a signal,
 * the replica left to expire, with the command that deletes it.
 */
int replicate_wait(struct replicate_cli *t);

/* cmd_replica_table.c */

/* An RFC 3339 UTC time ("2024-05-01T12:00:00Z", fractions allowed) as
 * time_t. 0, or -1 when it is not one. */
int replica_parse_time(const char *text, time_t *out);

/* "5s", "3m20s", "7h59m", "3d": kubectl's way of writing a length of time
 * (AGE), for a number of seconds >= 0. Returns buf. */
const char *replica_human_duration(long long seconds, char *buf, size_t size);

/* A text table: add rows of `ncols` cells (copied), then print it with
 * columns padded to their widest cell, three spaces apart, as kubectl does. */
struct replica_table {
	size_t ncols, nrows, cap;
	char **cells;    /* nrows * ncols */
	int failed;
};

void replica_table_init(struct replica_table *tb, size_t ncols);
void replica_table_row(struct replica_table *tb, const char *const *cells);
/* 0, or -1 when stdout cannot be written or memory ran out. */
int replica_table_print(const struct replica_table *tb, FILE *f);
void replica_table_free(struct replica_table *tb);

/* The library's replica list (devkit_replica_list) read into a tree: the
 * JSON array of rows. NULL after reporting why (with `json` an error event). */
rdoc *replica_list_rows(devkit_k8s *k8s, const char *ns, cli_json *json_out, int json);

#endif
