/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The Status an exec/attach session ends with, on the error channel (3):
 * {"status":"Success"}; {"status":"Failure","reason":"NonZeroExitCode",
 * "details":{"causes":[{"reason":"ExitCode","message":"3"}]}} for a
 * command that exited with 3; any other Failure is the server saying the
 * command could not run (its message says why). Pure functions.
 */
#ifndef DEVKIT_K8S_EXEC_STATUS_H
#define DEVKIT_K8S_EXEC_STATUS_H

#include <stddef.h>

typedef struct devkit__exec_status {
	int rc;              /* 0: the command ran to its end; else a DEVKIT_E* code */
	int exit_code;       /* rc 0 */
	char message[512];   /* rc < 0: the server's message */
} devkit__exec_status;

/* Always fills `st`; returns st->rc. */
int devkit__exec_status_parse(const char *json, size_t len, devkit__exec_status *st);

#endif
