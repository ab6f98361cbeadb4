/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit diagnose POD [--json]: why a Pod is where it is, in plain words,
 * with the evidence and the fix (devkit_diag_report; the failure classes
 * are in docs/diagnostics.md).
 */
#include <stdio.h>

#include "cmd_diag.h"
#include "commands.h"

static const char help[] =
	"Usage: devkit diagnose POD [-n NS] [--json]\n"
	"\n"
	"Why a Pod is not running, in plain words: the stage it is in (scheduling,\n"
	"start-up, running, offline), each problem recognised -- not enough CPU or\n"
	"memory, taints, an unbound volume claim, an image that does not exist or\n"
	"needs credentials, a crash loop (with the end of the crashed run's log),\n"
	"OOM kills, failing probes, a missing ConfigMap or Secret, eviction,\n"
	"deletion -- with the evidence from the Pod and its events, and what to do.\n"
	"\n"
	CLI_K8S_HELP
	"\n"
	"Output:\n"
	"      --json              the report as one JSON object {namespace, pod, phase,\n"
	"                          node, stage, ready, summary, owner, containers,\n"
	"                          findings, events}\n"
	CLI_CONNECT_VERBOSITY_HELP
	"  -h, --help              show this help and exit\n"
	"\n"
	"Exit status: 0 the report was made (whatever it found); 1 it could not be\n"
	"(no such Pod, not allowed); 2 usage error.\n";

int cmd_diagnose(int argc, char **argv)
{
	static const char cmd[] = "diagnose";
	struct diag_cli d;
	int rc = diag_parse(&d, cmd, help, DIAG_TAKES_JSON, argc, argv);

	if (rc != 0)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (diag_open(&d) != 0) {
		diag_close(&d);
		return CLI_EXIT_FAILURE;
	}
	devkit_buf json = DEVKIT_BUF_INIT, text = DEVKIT_BUF_INIT;
	int lrc = devkit_diag_report(d.k8s, d.k.namespace_name, d.pod, d.json ? &json : NULL,
		d.json ? NULL : &text);
	if (lrc != 0)
		rc = diag_fail(&d, lrc);
	else
		rc = printf("%s%s", d.json ? json.ptr : text.ptr, d.json ? "\n" : "") < 0 ||
			fflush(stdout) != 0 ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
	devkit_buf_dispose(&json);
	devkit_buf_dispose(&text);
	diag_close(&d);
	return rc;
}
