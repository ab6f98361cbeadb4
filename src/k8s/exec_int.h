/* SPDX-License-Identifier: Apache-2.0 */
/*
 * An exec/attach session (devkit_exec), between its loop side (exec.c) and
 * the one-call form (exec_oneshot.c).
 *
 * The application's threads and the loop share the output queue, the stdin
 * buffer and the session's end under `lock`; a thread that adds work wakes
 * the loop with `wake` (uv_async_send), the loop wakes waiting threads with
 * `cond`. So reads and writes never wait for a loop turn unless they must.
 */
#ifndef DEVKIT_K8S_EXEC_INT_H
#define DEVKIT_K8S_EXEC_INT_H

#include "core/bytes.h"
#include "core/engine.h"
#include "core/list.h"
#include "devkit/exec.h"
#include "exec_status.h"
#include "ws.h"

/* Output kept for the reader before the server is no longer read, and
 * stdin kept for the server before devkit_exec_write waits. */
#define DEVKIT__EXEC_OUT_HIGH (1024u * 1024)
#define DEVKIT__EXEC_OUT_LOW (256u * 1024)
#define DEVKIT__EXEC_IN_HIGH (1024u * 1024)

/* The subprotocols offered, in order. Tests offer only v4 to play a server
 * from before Kubernetes 1.29, which picks v4 from our offer. */
extern const char *devkit__exec_offer;

struct devkit_exec {
	devkit_k8s *k;
	devkit_ctx *ctx;
	char what[256];
	int stdin_enabled, tty;

	/* --- shared, under lock ----------------------------------------------- */
	uv_mutex_t lock;
	uv_cond_t cond;
	devkit__list segs;        /* output not yet read, in arrival order */
	size_t out_bytes;
	int rx_paused;            /* the loop stopped reading the server */
	devkit__bytes stdin_buf;  /* written, not yet handed to the WebSocket */
	int stdin_close;          /* requested */
	int resize_cols, resize_rows, resize_pending;
	int ended;                /* no more output will come */
	int end_rc;               /* what ended it, when not the command's end */
	char end_msg[512];
	int have_status;
	devkit__exec_status status;
	char protocol[32];
	int v5;
	int user_freed;           /* the application is done with it */
	int loop_done;            /* the loop is done with it */
	int closing;              /* the loop has started closing `wake` */

	/* --- loop side ------------------------------------------------------- */
	devkit__ws *ws;
	uv_async_t wake;
	devkit__closeable closeable;
	int stdin_closed;         /* the close signal is queued */
	devkit__bytes errch;      /* the error channel's message so far */
	devkit__call *start_call; /* devkit_exec_start waiting for the handshake */

	/* --- collecting (devkit_exec_run): the caller waits in run_call ------ */
	devkit__call *run_call;
	devkit__bytes *out, *err;
	const char *in;
	size_t in_len, in_off;
	int *exit_code_out;
};

/* exec.c: allocate a session for these options (on the caller's thread);
 * NULL with the last error. */
devkit_exec *devkit__exec_new(devkit_k8s *k, const devkit_exec_options *o, char **path);
/* Free a session the loop never saw. */
void devkit__exec_discard(devkit_exec *e);
/* Loop side: set up the wake handle and tracking, open the WebSocket. On
 * failure the session is torn down (and freed by the loop): returns < 0
 * with the thread's last error. */
int devkit__exec_open(devkit_exec *e, const char *path, unsigned int timeout_ms);
/* Loop side: end the session and close the handle; the memory goes when
 * both sides are done. */
void devkit__exec_teardown(devkit_exec *e, int rc, const char *message);
/* The session's outcome once ended: 0 with the exit code, or an error
 * (message in the thread's last error). Call with the lock held. */
int devkit__exec_outcome(devkit_exec *e, int *exit_code);

/* A devkit_pod_forward that is a tunnel forward (portforward_tunnel.c):
 * port and free go to it. NULL on out of memory. */
devkit_pod_forward *devkit__pod_forward_wrap(devkit_forward *tunneled);

#endif
