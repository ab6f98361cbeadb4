/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_exec_run: the whole session on the loop, in one call. Stdin is fed
 * as the WebSocket drains and output is collected as it comes, both on the
 * loop, so a command that echoes its input (cat) cannot deadlock against a
 * caller that would otherwise have to write and read at once.
 */
#include "exec_int.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "k8s_int.h"

typedef struct run_args {
	devkit_exec *e;
	const char *path;
	unsigned int timeout_ms;
	int on_loop;
	devkit__bytes out, err;
	int exit_code;
} run_args;

static void do_run(devkit__call *call)
{
	run_args *a = call->arg;
	a->on_loop = 1;
	a->e->run_call = call;
	devkit__exec_open(a->e, a->path, a->timeout_ms);
}

static void give(devkit__bytes *b, devkit_buf *out)
{
	if (!out)
		return;
	if (devkit__bytes_append(b, "", 1) == 0)
		b->len--;
	devkit__bytes_give(b, out);
}

int devkit_exec_run(devkit_k8s *k, const devkit_exec_options *o, const char *stdin_data,
	size_t stdin_len, devkit_buf *out, devkit_buf *err, int *exit_code)
{
	if (out)
		memset(out, 0, sizeof(*out));
	if (err)
		memset(err, 0, sizeof(*err));
	if (exit_code)
		*exit_code = -1;
	if (!k || !o)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_run: the client and options are "
			"required");
	if (o->version != DEVKIT_EXEC_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_run: options version %u is not %u "
			"(initialise with devkit_exec_options_init)", o->version, DEVKIT_EXEC_OPTIONS_VERSION);
	if (!stdin_data && stdin_len)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_exec_run: stdin_len without stdin_data");
	devkit_exec_options opts = *o;
	opts.stdin_enabled = stdin_data != NULL;
	char *path;
	devkit_exec *e = devkit__exec_new(k, &opts, &path);
	if (!e)
		return devkit_error_last()->code;
	run_args a = { .e = e, .path = path, .timeout_ms = o->timeout_ms };
	e->out = out ? &a.out : NULL;
	e->err = err ? &a.err : NULL;
	e->in = stdin_data;
	e->in_len = stdin_len;
	e->stdin_close = stdin_data != NULL;
	e->exit_code_out = &a.exit_code;
	devkit__call call = { .fn = do_run, .arg = &a };
	int rc = devkit__call_run(devkit__k8s_ctx(k), &call);
	free(path);
	if (!a.on_loop)
		devkit__exec_discard(e); /* never reached the loop */
	if (rc == 0) {
		if (exit_code)
			*exit_code = a.exit_code;
		give(&a.out, out);
		give(&a.err, err);
	}
	devkit__bytes_free(&a.out);
	devkit__bytes_free(&a.err);
	return rc;
}
