/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_app_control: the keep-alive's devkit-app, run through exec. The
 * supervisor (src/replica/command.c) does the work; this finds it and
 * turns its answer into a result.
 */
#include "live_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"

static const char *const action_words[] = { "status", "start", "stop", "restart" };

int devkit_app_control(devkit_k8s *k8s, const char *namespace_name, const char *pod,
	const char *container, int action, devkit_buf *state)
{
	if (state)
		memset(state, 0, sizeof(*state));
	if (!k8s || !pod || !*pod)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_app_control: the client and a Pod are "
			"required");
	if (action < DEVKIT_APP_STATUS || action > DEVKIT_APP_RESTART)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_app_control: action %d is not one of "
			"DEVKIT_APP_STATUS/START/STOP/RESTART", action);
	/* status exits 1 when the app is not running: that is an answer. */
	char script[1024];
	snprintf(script, sizeof(script), DEVKIT__LIVE_FIND_KEEPALIVE
		"\"$R/bin/devkit-app\" %s%s", action_words[action],
		action == DEVKIT_APP_STATUS ? " || true" : "");
	devkit__live_target t = { namespace_name, pod, container, 0 };
	char what[64];
	snprintf(what, sizeof(what), "devkit-app %s", action_words[action]);
	devkit_buf out = { 0 };
	int rc = devkit__live_sh_ok(k8s, &t, what, script, &out);
	if (rc < 0)
		return rc;
	while (out.size && (out.ptr[out.size - 1] == '\n' || out.ptr[out.size - 1] == '\r'))
		out.ptr[--out.size] = '\0';
	if (state)
		*state = out;
	else
		devkit_buf_dispose(&out);
	return 0;
}
