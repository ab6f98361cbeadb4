/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Running an exec credential plugin on the engine loop without blocking it:
 * uv_spawn with stdout on a pipe, stdin from /dev/null (libdevkit never
 * gives a plugin a terminal), stderr inherited as kubectl leaves it, our
 * environment plus the kubeconfig's env and KUBERNETES_EXEC_INFO.
 *
 * The plugin's output is a secret: it is parsed, never logged or quoted.
 */
#ifndef DEVKIT_K8S_EXEC_RUN_H
#define DEVKIT_K8S_EXEC_RUN_H

#include "core/engine.h"
#include "exec_cred.h"
#include "k8s_config.h"

typedef struct devkit__exec_run devkit__exec_run;

/* rc 0: `cred` holds the answer; the callee may take its strings (set them
 * to NULL), the rest is freed after the callback. rc < 0: `message` says
 * what failed ("exec plugin \"aws\" of user ...: exit status 1"). */
typedef void (*devkit__exec_done)(void *data, int rc, const char *message,
	devkit__exec_cred *cred);

/* Start the plugin (I/O thread). `who` names the user for messages. Returns
 * NULL with the thread's last error when it cannot start (not found). The
 * callback runs once, later, unless cancelled. */
devkit__exec_run *devkit__exec_run_start(devkit_ctx *ctx, const devkit__k8s_exec *spec,
	unsigned int timeout_ms, const char *who, devkit__exec_done cb, void *data);

/* Kill the plugin if it still runs and forget it: the callback will not
 * run; memory goes when its handles have closed. Accepts NULL. */
void devkit__exec_run_cancel(devkit__exec_run *r);

#endif
