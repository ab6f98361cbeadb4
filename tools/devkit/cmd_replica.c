/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit replicate — a personal copy of a Pod, or a new Pod from a
 * workload's template (devkit_replica_create), or with --dry-run only the Pod
 * that would be created (devkit_replica_build), as YAML or JSON.
 *
 * Life cycle: parse everything first (usage errors exit 2 before any
 * request), open the client (a kubeconfig that cannot be used exits 1 with
 * the library's message), then build or create. Until the copy exists Ctrl-C
 * keeps its default action: creating is one request and cannot be cancelled
 * half-way, and a copy whose create was in flight still expires. --wait is
 * cmd_replica_wait.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_signal.h"
#include "cmd_replica.h"
#include "commands.h"

/* Print the Pod that would be created. */
static int dry_run(struct replicate_cli *t)
{
	devkit_buf doc = DEVKIT_BUF_INIT;
	int rc = devkit_replica_build(t->k8s, &t->opts, &doc), status = CLI_EXIT_OK;

	if (rc != 0) {
		cli_report_error(&t->out, t->json, stdout, NULL, rc);
		return CLI_EXIT_FAILURE;
	}
	if (strcmp(t->output, "json") == 0) {
		/* exactly what the library made, which is what create would send */
		if (fwrite(doc.ptr, 1, doc.size, stdout) != doc.size
			|| (doc.size && doc.ptr[doc.size - 1] != '\n' && fputc('\n', stdout) == EOF)
			|| fflush(stdout) != 0)
			status = CLI_EXIT_FAILURE;
	} else {
		char err[256];
		rdoc *tree = rdoc_parse(doc.ptr, doc.size, err, sizeof(err));

		if (!tree) {
			cli_errorf("--dry-run: the library's Pod is not JSON (%s)", err);
			status = CLI_EXIT_FAILURE;
		} else if (rdoc_write_yaml(tree, stdout) != 0) {
			status = CLI_EXIT_FAILURE;
		}
		rdoc_free(tree);
	}
	if (status != CLI_EXIT_OK && ferror(stdout))
		cli_errorf("cannot write to stdout");
	devkit_buf_dispose(&doc);
	return status;
}

/* The copy exists: its name alone (what a script captures), or an event. */
static int report_created(struct replicate_cli *t)
{
	const char *name = devkit_replica_name(t->replica);
	char source[600];

	if (!t->json)
		return printf("%s\n", name) < 0 || fflush(stdout) != 0 ? -1 : 0;
	cli_json_object_begin(&t->out, NULL);
	cli_json_string(&t->out, "event", "created");
	cli_json_uint(&t->out, "replica", devkit_replica_id(t->replica));
	cli_json_string(&t->out, "name", name);
	cli_json_string(&t->out, "namespace", devkit_replica_namespace(t->replica));
	cli_json_string(&t->out, "source", replicate_source_text(t, source, sizeof(source)));
	cli_json_uint(&t->out, "ttl_s", t->opts.ttl_s ? t->opts.ttl_s : 8u * 3600u);
	cli_json_object_end(&t->out);
	return cli_json_write(&t->out, stdout);
}

static int create(struct replicate_cli *t)
{
	int rc = devkit_replica_create(&t->replica, t->k8s, &t->opts);

	if (rc != 0) {
		/* "nothing was left in the cluster", says the library's contract */
		t->replica = NULL;
		cli_report_error(&t->out, t->json, stdout, NULL, rc);
		return CLI_EXIT_FAILURE;
	}
	t->created_at = time(NULL);
	/* With --wait, from here on a signal stops the wait, not the process
	 * (cmd_replica_wait.c); installed before the name is printed, so that
	 * a script that has read it may send one. */
	if (t->wait && cli_signals_install() < 0) {
		cli_errorf("installing signal handlers: %s", strerror(errno));
		return CLI_EXIT_FAILURE;
	}
	if (report_created(t) != 0) {
		cli_errorf("cannot write to stdout; the replica %s/%s was created and expires after "
			"its TTL", devkit_replica_namespace(t->replica), devkit_replica_name(t->replica));
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

int cmd_replicate(int argc, char **argv)
{
	struct replicate_cli t;
	int status;

	memset(&t, 0, sizeof(t));
	status = replicate_parse_args(&t, argc, argv);
	if (status != 0)
		return status < 0 ? CLI_EXIT_OK : status; /* -1: --help was printed */

	cli_signals_ignore_sigpipe();
	if (cli_k8s_open(&t.k, t.json ? &t.out : NULL, &t.ctx, &t.k8s) != 0) {
		status = CLI_EXIT_FAILURE;
	} else if (t.dry_run) {
		status = dry_run(&t);
	} else {
		status = create(&t);
		if (status == CLI_EXIT_OK && t.wait)
			status = replicate_wait(&t);
	}
	/* Frees the handle only: the copy stays until deleted or expired. */
	devkit_replica_free(t.replica);
	cli_k8s_close(t.ctx, t.k8s);
	cli_json_free(&t.out);
	return status;
}
