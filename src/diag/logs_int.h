/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A followed log (devkit_logs), shared by logs.c (the public calls and the
 * stream on the loop), logs_path.c (the request) and logs_file.c (writing
 * to a file without blocking the loop).
 *
 * Threads: the fields under "loop" are touched only on the engine's I/O
 * thread; those under "shared" only with `lock` held. The handle is freed
 * once both the user has freed it and the loop has let go of it (its
 * handles closed, no file write in flight), whichever comes last.
 */
#ifndef DEVKIT_DIAG_LOGS_INT_H
#define DEVKIT_DIAG_LOGS_INT_H

#include <uv.h>

#include "core/bytes.h"
#include "core/engine.h"
#include "devkit/diag.h"
#include "k8s/k8s_int.h"
#include "log_cursor.h"

/* Unread lines above this stop the stream; below LOW it resumes. */
#define DEVKIT__LOGS_HIGH (4u * 1024 * 1024)
#define DEVKIT__LOGS_LOW (1u * 1024 * 1024)
/* A "line" this long without a newline is passed on as it is. */
#define DEVKIT__LOGS_MAX_LINE (1u * 1024 * 1024)

struct devkit_logs {
	devkit_k8s *k;
	devkit_ctx *ctx;
	/* the options, copied */
	char *ns, *pod, *container, *since_time, *file;
	int follow, previous, timestamps;
	long long since_seconds, tail_lines;
	unsigned int max_reconnects;
	uint64_t started_ms;        /* uv_hrtime()/1e6 at the start */
	char what[512];             /* "log of dev/web-1 (container web)" */

	/* loop */
	devkit__k8s_req *req;       /* the stream */
	devkit__k8s_req *check;     /* reading the Pod after the stream ended */
	uv_timer_t timer;           /* reconnect backoff */
	uv_async_t wake;            /* freed, or the reader drained the backlog */
	int handles;                /* open handles (timer, wake) */
	devkit__bytes partial;      /* an unfinished line */
	devkit__log_cursor cursor;
	unsigned int failures;      /* reconnects in a row that brought no line */
	int in_data;                /* inside the stream's data callback */
	int ending;                 /* finished; waiting for the file writes */
	int end_rc_pending;
	char end_msg_pending[1024];
	devkit__closeable closeable;
	/* file (logs_file.c) */
	int fd;                     /* -1: lines go to the reader */
	uv_fs_t fs;
	devkit__bytes fout;         /* waiting to be written */
	devkit__bytes fbusy;        /* being written */
	int fs_busy;

	/* shared */
	uv_mutex_t lock;
	uv_cond_t cond;
	devkit__bytes queue;        /* lines for the reader, each ending in '\n' */
	int paused;                 /* the stream was stopped: backlog full */
	int ended;
	int end_rc;
	char end_msg[1024];
	int user_freed, closing, loop_done;
	devkit_logs_stats stats;
};

/* logs_path.c: the request for the next connection. */
void devkit__logs_path(const devkit_logs *l, char *out, size_t cap);

/* logs_file.c (loop) */
/* Queue a line (with its newline) for the file and start writing. */
int devkit__logs_file_put(devkit_logs *l, const char *line, size_t len);
/* Bytes not written yet. */
size_t devkit__logs_file_backlog(const devkit_logs *l);

/* logs.c (loop), for logs_file.c */
/* The backlog went down: resume a paused stream, finish a pending end,
 * let go of the handle after teardown. */
void devkit__logs_drained(devkit_logs *l);
/* End the log with an error (rc < 0) and a message. */
void devkit__logs_fail(devkit_logs *l, int rc, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
