/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A tcpdump capture (devkit_capture), shared by capture.c (the public
 * calls), capture_pump.c (the thread that reads tcpdump's output) and
 * capture_script.c (the shell script, tcpdump's words, the pcap stream:
 * pure functions).
 *
 * Threads: devkit_exec_read blocks its caller, and a capture must go on --
 * be written to its file, be stopped when its duration is up -- while the
 * application does not read, so each capture has a thread of its own (the
 * pump) that reads the exec session. Fields under "pump" are touched only
 * by it (before it starts and after it is joined, by the caller); those
 * under "shared" only with `lock` held. The exec session is read by the
 * pump alone; stdin is written from any thread (exec locks it).
 */
#ifndef DEVKIT_DIAG_CAPTURE_INT_H
#define DEVKIT_DIAG_CAPTURE_INT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "core/bytes.h"
#include "devkit/diag.h"
#include "devkit/exec.h"

/* Unread output above this stops the pump from reading (exec then holds
 * about 1 MiB more and tcpdump waits): memory stays bounded. */
#define DEVKIT__CAPTURE_HIGH (1u * 1024 * 1024)
/* A text "line" this long without a newline is passed on as it is. */
#define DEVKIT__CAPTURE_MAX_LINE (256u * 1024)
/* tcpdump's stderr kept for messages and its summary (the tail). */
#define DEVKIT__CAPTURE_MAX_STDERR (64u * 1024)
/* How long start waits for "listening on". */
#define DEVKIT__CAPTURE_START_TIMEOUT_MS 30000
/* The longest the pump sleeps in one read: how soon it sees free. */
#define DEVKIT__CAPTURE_POLL_MS 100

/* Counts the records of a pcap stream as its bytes go by. */
typedef struct devkit__capture_pcap {
	unsigned char head[24];  /* the file header, then each record's header */
	size_t head_len;
	int have_file_header;
	int swapped;             /* the writer's byte order is not ours */
	int bad;                 /* not a pcap stream: counting stopped */
	int in_record;
	uint64_t skip;           /* bytes of the current record's packet still to come */
	uint64_t records;        /* complete records */
} devkit__capture_pcap;

/* What tcpdump's summary says. */
typedef struct devkit__capture_summary {
	int have_captured, have_dropped;
	uint64_t captured;       /* "N packets captured" */
	uint64_t received;       /* "N packets received by filter" */
	uint64_t dropped;        /* "N packets dropped by kernel" */
} devkit__capture_summary;

struct devkit_capture {
	devkit_exec *e;
	int format;
	unsigned int duration_ms;
	char *file;
	char *filter;
	char what[600];          /* "tcpdump in dev/web-1 (devkit-tcpdump)" */
	uv_thread_t thread;
	int thread_started;

	/* pump */
	int fd;                  /* the file, or -1: output goes to the reader */
	devkit__bytes partial;   /* TEXT: an unfinished line */
	devkit__capture_pcap pcap;
	int pump_rc;             /* our side failed (the file, memory): draining */
	char pump_msg[1024];

	/* shared */
	uv_mutex_t lock;
	uv_cond_t cond;
	devkit__bytes queue;     /* output for the reader; TEXT: lines ending in '\n' */
	devkit__bytes err;       /* tcpdump's stderr (its tail) */
	int listening;           /* tcpdump said "listening on" */
	uint64_t deadline_ns;    /* uv_hrtime() when the duration is up; 0: none */
	int ended;
	int end_rc;
	char end_msg[1024];
	int stop_sent;           /* the stop line was written (or is being) */
	int quit;                /* devkit_capture_free: the pump returns */
	devkit_capture_stats stats;
};

/* --- capture_script.c (pure) ------------------------------------------------------- */

/* The `sh -c` script that runs tcpdump so that a line on stdin (or its end)
 * stops it with SIGINT, and exits with tcpdump's status (127 without
 * tcpdump). A new string, or NULL when out of memory. */
char *devkit__capture_script(const char *interface_name, const char *filter, int format,
	unsigned long long max_packets, int snaplen);

/* Read tcpdump's end-of-capture lines from its stderr. */
void devkit__capture_parse_summary(const char *text, size_t len, devkit__capture_summary *out);

/* The line of tcpdump's stderr that says what went wrong (the last one
 * starting "tcpdump: ", else the last non-empty one), into buf. */
const char *devkit__capture_error_line(const char *text, size_t len, char *buf, size_t cap);

/* Why tcpdump ended with exit_code before or while capturing: set as the
 * thread's last error ("<what>: <tcpdump's words> (<the fix>)") and
 * returned: DEVKIT_EUNSUPPORTED (127: no tcpdump), DEVKIT_EINVAL (the
 * filter), DEVKIT_EFORBIDDEN (no permission), DEVKIT_ENOTFOUND (no such
 * interface), else DEVKIT_EIO. */
int devkit__capture_failure(const char *what, const char *filter, int exit_code,
	const char *stderr_text, size_t len);

/* Feed bytes of a pcap stream; p->records counts the complete records. */
void devkit__capture_pcap_feed(devkit__capture_pcap *p, const void *data, size_t n);

/* --- capture_pump.c ---------------------------------------------------------------- */

/* The pump thread's body (arg: the capture). */
void devkit__capture_pump(void *arg);

/* Write the stop line once (any thread). 0, or the exec error when the
 * session has not ended. */
int devkit__capture_send_stop(devkit_capture *c);

#endif
