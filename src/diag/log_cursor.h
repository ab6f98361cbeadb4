/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where a followed log is, so that a reconnect neither loses nor repeats a
 * line. Lines are always asked for with timestamps=true; the kubelet puts
 * the time each line was written in front of it, to the nanosecond
 * (RFC3339NanoFixed). A reconnect asks for sinceTime=<the last line's
 * second> -- the API takes whole seconds -- and so gets again the lines of
 * that second it already delivered: those with an earlier time are dropped,
 * and of those with exactly the last time, as many as were delivered (lines
 * written in the same nanosecond are told apart only by their count). Pure,
 * unit-tested.
 */
#ifndef DEVKIT_DIAG_LOG_CURSOR_H
#define DEVKIT_DIAG_LOG_CURSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct devkit__log_ts {
	int64_t sec;    /* since the epoch, UTC */
	int32_t nsec;
} devkit__log_ts;

/* The timestamp at the start of a line ("2024-05-01T12:00:00.123456789Z text"):
 * returns the length of the timestamp (without the space after it), or 0
 * when the line does not start with one. */
size_t devkit__log_ts_parse(const char *line, size_t len, devkit__log_ts *ts);
int devkit__log_ts_cmp(const devkit__log_ts *a, const devkit__log_ts *b);

typedef struct devkit__log_cursor {
	int have;             /* a timestamped line was delivered */
	devkit__log_ts last;  /* the time of the last one */
	uint64_t same;        /* how many delivered lines had exactly that time */
	int resuming;         /* skipping what a reconnect sends again */
	uint64_t skip;        /* lines at `last` still to drop */
} devkit__log_cursor;

#define DEVKIT__LOG_DELIVER 1
#define DEVKIT__LOG_DROP 0

/* Decide for the next line of the stream; ts NULL for a line without a
 * timestamp (delivered: it cannot be placed). */
int devkit__log_cursor_take(devkit__log_cursor *c, const devkit__log_ts *ts);
/* A new request is about to start from devkit__log_cursor_since(). */
void devkit__log_cursor_resume(devkit__log_cursor *c);
/* sinceTime for that request: the last line's second, "2024-05-01T12:00:00Z". */
void devkit__log_cursor_since(const devkit__log_cursor *c, char *out, size_t cap);

#endif
