/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit events POD [--watch] [--json]: the events of a Pod and of its
 * owners (devkit_diag_events), one table with the stage first, in the
 * order of a Pod's life and of time; with --watch the new ones as they come
 * (devkit_diag_events_watch) until Ctrl-C.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_signal.h"
#include "cmd_diag.h"
#include "cmd_replica.h"
#include "commands.h"

static const char help[] =
	"Usage: devkit events POD [-n NS] [--watch] [--json]\n"
	"\n"
	"The events of a Pod and of its owners (its ReplicaSet and Deployment,\n"
	"StatefulSet, ...), by stage of the Pod's life -- scheduling, start-up,\n"
	"running, offline -- and by time. The server is asked with a field selector\n"
	"and the answer is filtered again here: events of other Pods, and of an\n"
	"earlier Pod with the same name, are left out.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Output:\n"
	"  -w, --watch             go on with new events as they are recorded, until\n"
	"                          Ctrl-C (resumed when the connection breaks)\n"
	"      --json              the library's document {namespace, pod, objects,\n"
	"                          events, stages}; with --watch one event per line\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 listed (also when there are none; with --watch, stopped by\n"
	"Ctrl-C); 1 failed (no such Pod, not allowed, the watch broke for good);\n"
	"2 usage error.\n";

/* One event as a row: STAGE TIME TYPE REASON OBJECT MESSAGE (copies made
 * printable: messages carry text from the cluster). */
static void row(struct replica_table *tb, const rdoc *ev)
{
	const rdoc *obj = rdoc_get(ev, "object");
	char object[400], reason[200], message[2048];
	const char *count = rdoc_get(ev, "count") ? rdoc_get(ev, "count")->text : "1";
	snprintf(object, sizeof(object), "%s/%s", rdoc_str(obj, "kind") ? rdoc_str(obj, "kind")
		: "?", rdoc_str(obj, "name") ? rdoc_str(obj, "name") : "?");
	if (count && strcmp(count, "1") != 0)
		snprintf(reason, sizeof(reason), "%s (x%s)", rdoc_str(ev, "reason") ?
			rdoc_str(ev, "reason") : "?", count);
	else
		snprintf(reason, sizeof(reason), "%s", rdoc_str(ev, "reason") ? rdoc_str(ev, "reason")
			: "?");
	snprintf(message, sizeof(message), "%s", rdoc_str(ev, "message") ? rdoc_str(ev, "message")
		: "");
	cli_printable(message);
	const char *cells[6] = { rdoc_str(ev, "stage"), rdoc_str(ev, "time"), rdoc_str(ev, "type"),
		reason, object, message };
	replica_table_row(tb, cells);
}

static int print_document(const char *json)
{
	char err[256];
	rdoc *doc = rdoc_parse(json, strlen(json), err, sizeof(err));
	if (!doc) {
		cli_errorf("the library's events are not JSON: %s", err);
		return CLI_EXIT_FAILURE;
	}
	const rdoc *stages = rdoc_get(doc, "stages");
	if (!stages || !stages->child) {
		/* on stderr, as kubectl does */
		cli_errorf("no events for Pod %s/%s (events expire after an hour by default)",
			rdoc_str(doc, "namespace"), rdoc_str(doc, "pod"));
		rdoc_free(doc);
		return CLI_EXIT_OK;
	}
	static const char *const header[] = { "STAGE", "TIME", "TYPE", "REASON", "OBJECT",
		"MESSAGE" };
	struct replica_table tb;
	replica_table_init(&tb, 6);
	replica_table_row(&tb, header);
	for (const rdoc *g = stages->child; g; g = g->next) {
		const rdoc *evs = rdoc_get(g, "events");
		for (const rdoc *ev = evs ? evs->child : NULL; ev; ev = ev->next)
			row(&tb, ev);
	}
	int rc = replica_table_print(&tb, stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
	replica_table_free(&tb);
	rdoc_free(doc);
	return rc;
}

/* A watched event: a JSON line as it is, or a line of the table's columns. */
static int print_watched(struct diag_cli *d, const char *json)
{
	if (d->json)
		return printf("%s\n", json) < 0 || fflush(stdout) != 0 ? -1 : 0;
	char err[256];
	rdoc *ev = rdoc_parse(json, strlen(json), err, sizeof(err));
	if (!ev)
		return 0;
	/* rows come one at a time: fixed widths instead of a measured table */
	const rdoc *obj = rdoc_get(ev, "object");
	const rdoc *count = rdoc_get(ev, "count");
	char object[400], reason[200], message[2048];
	snprintf(object, sizeof(object), "%s/%s", rdoc_str(obj, "kind") ? rdoc_str(obj, "kind")
		: "?", rdoc_str(obj, "name") ? rdoc_str(obj, "name") : "?");
	snprintf(reason, sizeof(reason), "%s%s%s%s", rdoc_str(ev, "reason") ? rdoc_str(ev,
		"reason") : "?", count && strcmp(count->text, "1") != 0 ? " (x" : "",
		count && strcmp(count->text, "1") != 0 ? count->text : "",
		count && strcmp(count->text, "1") != 0 ? ")" : "");
	snprintf(message, sizeof(message), "%s", rdoc_str(ev, "message") ? rdoc_str(ev, "message")
		: "");
	cli_printable(message);
	cli_printable(object);
	int rc = printf("%-11s %-21s %-8s %-21s %-33s %s\n", rdoc_str(ev, "stage") ?
		rdoc_str(ev, "stage") : "?", rdoc_str(ev, "time") ? rdoc_str(ev, "time") : "?",
		rdoc_str(ev, "type") ? rdoc_str(ev, "type") : "?", reason, object, message) < 0 ||
		fflush(stdout) != 0 ? -1 : 0;
	rdoc_free(ev);
	return rc;
}

static int watch(struct diag_cli *d)
{
	devkit_diag_watch *w = NULL;
	int rc = devkit_diag_events_watch(&w, d->k8s, d->k.namespace_name, d->pod);
	if (rc != 0)
		return diag_fail(d, rc);
	if (cli_signals_install() < 0) {
		devkit_diag_watch_free(w);
		cli_errorf("cannot catch signals");
		return CLI_EXIT_FAILURE;
	}
	if (!d->json)
		printf("%-11s %-21s %-8s %-21s %-33s %s\n", "STAGE", "TIME", "TYPE", "REASON",
			"OBJECT", "MESSAGE");
	int exit_code = CLI_EXIT_OK;
	devkit_buf line = DEVKIT_BUF_INIT;
	while (!cli_signal_caught()) {
		rc = devkit_diag_watch_read(w, &line, 200);
		if (rc == 0)
			continue;
		if (rc < 0) {
			exit_code = diag_fail(d, rc);
			break;
		}
		if (print_watched(d, line.ptr) != 0) {
			exit_code = CLI_EXIT_FAILURE;  /* stdout went away */
			break;
		}
	}
	devkit_buf_dispose(&line);
	devkit_diag_watch_free(w);
	return exit_code;
}

int cmd_events(int argc, char **argv)
{
	static const char cmd[] = "events";
	struct diag_cli d;
	int rc = diag_parse(&d, cmd, help, DIAG_TAKES_JSON | DIAG_TAKES_WATCH, argc, argv);

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (diag_open(&d) != 0) {
		diag_close(&d);
		return CLI_EXIT_FAILURE;
	}
	if (d.watch) {
		rc = watch(&d);
	} else {
		devkit_buf out = DEVKIT_BUF_INIT;
		int lrc = devkit_diag_events(d.k8s, d.k.namespace_name, d.pod, &out);
		if (lrc != 0)
			rc = diag_fail(&d, lrc);
		else if (d.json)
			rc = printf("%s\n", out.ptr) < 0 || fflush(stdout) != 0 ? CLI_EXIT_FAILURE
				: CLI_EXIT_OK;
		else
			rc = print_document(out.ptr);
		devkit_buf_dispose(&out);
	}
	diag_close(&d);
	return rc;
}
