/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Diagnostics of a Pod, by the stage of its life it is in: scheduling,
 * start-up, running, offline.
 *
 *   devkit_diag_events()   the events of a Pod and of its owners (ReplicaSet,
 *                          Deployment, StatefulSet, ...), sorted by time and
 *                          grouped by stage
 *   devkit_diag_events_watch()  the same as they happen
 *   devkit_logs_start()    a container's log, followed across reconnects
 *                          without losing or repeating a line, to a reader
 *                          (devkit_logs_read) or to a file
 *   devkit_capture_start() tcpdump in the Pod's network, for a duration or until
 *                          stopped, with a BPF filter, as text or pcap
 *   devkit_diag_report()   why a Pod is not running, in plain words with the
 *                          evidence and the fix (docs/diagnostics.md has the
 *                          table of what it recognises)
 *
 * Events and reports are blocking calls on the caller's thread (the
 * requests run on the engine loop). Logs and watches stream on the loop and
 * are read from any thread, one reader at a time.
 *
 * Ownership: what comes back through **out is the caller's, freed with
 * devkit_logs_free / devkit_diag_watch_free / devkit_capture_free (all
 * accept NULL); the client (devkit_k8s) must outlive them. Input strings are
 * copied. JSON and text come in a devkit_buf the caller releases with
 * devkit_buf_dispose.
 */
#ifndef DEVKIT_DIAG_H
#define DEVKIT_DIAG_H

#include "k8s.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The stages of a Pod's life, in order. */
typedef enum devkit_diag_stage {
	DEVKIT_DIAG_STAGE_OTHER = 0,  /* an event that belongs to no stage */
	DEVKIT_DIAG_SCHEDULING = 1,   /* waiting for a node */
	DEVKIT_DIAG_STARTUP = 2,      /* on a node: pulling, mounting, starting, crash looping */
	DEVKIT_DIAG_RUNNING = 3,      /* every container runs (probes, OOM kills, restarts) */
	DEVKIT_DIAG_OFFLINE = 4       /* evicted, deleted, finished, node lost */
} devkit_diag_stage;

/** "scheduling", "start-up", "running", "offline", "other"; NULL for values
 *  it does not know. */
DEVKIT_EXTERN(const char *) devkit_diag_stage_name(int stage);

/* --- events ---------------------------------------------------------------------- */

/**
 * The events of Pod `pod` (namespace NULL: the client's) and of its owners,
 * as one JSON document in `out`:
 *
 *   {"namespace","pod","objects":[{"kind","name","uid"}...],
 *    "events":[{"time","type","reason","message","count","stage",
 *               "object":{"kind","name"},"container","source"}...],
 *    "stages":[{"stage":"scheduling","events":[...]}, ...]}
 *
 * "events" is sorted by time (oldest first); "stages" holds the same events
 * grouped by stage, in the order of a Pod's life. The server is asked with a
 * field selector on involvedObject and the answer is filtered again here
 * (kind, name and, when both sides have one, uid: events of an earlier Pod of
 * the same name are not this one's), because not every API server honours
 * the selector. A Pod that does not exist is DEVKIT_ENOTFOUND.
 */
DEVKIT_EXTERN(int) devkit_diag_events(devkit_k8s *k8s, const char *namespace_name,
	const char *pod, devkit_buf *out);

typedef struct devkit_diag_watch devkit_diag_watch;

/**
 * Watch the events of a Pod and its owners as they are recorded (watch=true
 * streams on the engine loop, resumed from the last resourceVersion when the
 * connection breaks; when the server has forgotten that version the events
 * are listed again and only those not seen yet are passed on). Events that
 * exist already come first, oldest first. Returns once the Pod was read.
 */
DEVKIT_EXTERN(int) devkit_diag_events_watch(devkit_diag_watch **out, devkit_k8s *k8s,
	const char *namespace_name, const char *pod);

/**
 * The next event as one line of JSON in `event_json` (the shape of an element
 * of "events" above, plus "action": "ADDED" or "MODIFIED" -- a repeated event
 * comes back with a higher count). Waits up to timeout_ms (-1: no limit).
 * Returns 1 with an event, 0 when none came in time, or the error that ended
 * the watch (after the events that came before it).
 */
DEVKIT_EXTERN(int) devkit_diag_watch_read(devkit_diag_watch *w, devkit_buf *event_json,
	int timeout_ms);

/** Stop watching and free; not while a read is in progress on another
 *  thread. Accepts NULL; works after devkit_ctx_free too. */
DEVKIT_EXTERN(void) devkit_diag_watch_free(devkit_diag_watch *w);

/* --- logs ------------------------------------------------------------------------ */

typedef struct devkit_logs devkit_logs;

typedef struct devkit_logs_options {
	unsigned int version;
	/** NULL: the client's namespace. */
	const char *namespace_name;
	const char *pod;
	/** NULL: the Pod's default container (kubectl.kubernetes.io/default-container,
	 *  else its only one; a Pod with several needs a name). */
	const char *container;
	/** Keep reading as the container writes (kubectl logs -f). Reconnects are
	 *  resumed from the last line's timestamp: no line is lost or repeated. The
	 *  log ends when the container stops. */
	int follow;
	/** Only lines of the last N seconds (0: no limit). */
	long long since_seconds;
	/** Only lines since this RFC 3339 time ("2024-05-01T12:00:00Z"); NULL: no
	 *  limit. Not with since_seconds. */
	const char *since_time;
	/** Only the last N lines (-1: all). */
	long long tail_lines;
	/** The log of the container's previous instance (the one that crashed). */
	int previous;
	/** Keep the kubelet's RFC 3339 timestamp in front of each line
	 *  ("2024-05-01T12:00:00.123456789Z text"). The library always asks for
	 *  them (that is how it resumes) and removes them unless this is set. */
	int timestamps;
	/** Append the lines to this file (created 0644 if missing) instead of
	 *  handing them to devkit_logs_read, which then only reports the end. */
	const char *file;
	/** Reconnect attempts in a row that bring no new line before giving up;
	 *  0: 10. */
	unsigned int max_reconnects;
} devkit_logs_options;

#define DEVKIT_LOGS_OPTIONS_VERSION 1
#define DEVKIT_LOGS_OPTIONS_INIT { DEVKIT_LOGS_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, NULL, \
	-1, 0, 0, NULL, 0 }

DEVKIT_EXTERN(int) devkit_logs_options_init(devkit_logs_options *opts, unsigned int version);

/**
 * Read the Pod (DEVKIT_ENOTFOUND if it does not exist) and start reading the
 * log on the engine loop. Errors of the log request itself -- a container
 * name that is wrong, a container still waiting to start, no previous
 * instance -- end the log with the API server's message, reported by
 * devkit_logs_read. With `file`, an unwritable file fails here.
 */
DEVKIT_EXTERN(int) devkit_logs_start(devkit_logs **out, devkit_k8s *k8s,
	const devkit_logs_options *opts);

/**
 * The next line, without its newline, in `line`. Waits up to timeout_ms (-1:
 * no limit, 0: do not wait). Returns 1 with a line; 0 when none came in time;
 * DEVKIT_ECLOSED once the log has ended and every line was read (with
 * `file`: once every line is written); another negative code for the error
 * that ended it. While about 4 MiB of lines wait unread, the library stops
 * reading from the server and resumes (from the last timestamp) as they are
 * read, so memory stays bounded.
 */
DEVKIT_EXTERN(int) devkit_logs_read(devkit_logs *l, devkit_buf *line, int timeout_ms);

typedef struct devkit_logs_stats {
	unsigned int version;
	uint64_t lines;               /* lines passed on (to the reader or the file) */
	uint64_t bytes;               /* their bytes, newlines included */
	uint64_t reconnects;          /* requests made after the first */
	uint64_t duplicates_dropped;  /* lines a resumed request sent again */
} devkit_logs_stats;

#define DEVKIT_LOGS_STATS_VERSION 1
#define DEVKIT_LOGS_STATS_INIT { DEVKIT_LOGS_STATS_VERSION, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_logs_get_stats(devkit_logs *l, devkit_logs_stats *stats);

/** Stop reading and free; not while a read is in progress on another
 *  thread. Accepts NULL; works after devkit_ctx_free too. */
DEVKIT_EXTERN(void) devkit_logs_free(devkit_logs *l);

/* --- tcpdump capture ------------------------------------------------------------ */

typedef struct devkit_capture devkit_capture;

typedef enum devkit_capture_format {
	DEVKIT_CAPTURE_TEXT = 0,  /* tcpdump's one line per packet (-n -l) */
	DEVKIT_CAPTURE_PCAP = 1   /* a pcap stream (-w -), as `tshark -r` reads */
} devkit_capture_format;

typedef struct devkit_capture_options {
	unsigned int version;
	/** NULL: the client's namespace. */
	const char *namespace_name;
	const char *pod;
	/** The container tcpdump runs in. NULL: the replica's tcpdump sidecar
	 *  (devkit-tcpdump) when the Pod has one -- it has tcpdump and the
	 *  capabilities; every container of a Pod sees the same network -- else
	 *  the Pod's default container. */
	const char *container;
	/** A BPF filter ("tcp port 8080"); NULL: every packet. */
	const char *filter;
	/** NULL: "any". */
	const char *interface_name;
	int format;
	/** Write here (0644; replaced once tcpdump listens -- until then FILE.partial
	 *  -- so a start that fails leaves an earlier file as it was) instead of
	 *  handing the bytes to devkit_capture_read, which then only reports the end. */
	const char *file;
	/** Stop after this long; 0: until devkit_capture_stop. */
	unsigned int duration_ms;
	/** Stop after this many packets (tcpdump -c); 0: no limit. */
	unsigned long long max_packets;
	/** Bytes kept of each packet (tcpdump -s); 0: all. */
	int snaplen;
} devkit_capture_options;

#define DEVKIT_CAPTURE_OPTIONS_VERSION 1
#define DEVKIT_CAPTURE_OPTIONS_INIT { DEVKIT_CAPTURE_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
	NULL, DEVKIT_CAPTURE_TEXT, NULL, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_capture_options_init(devkit_capture_options *opts, unsigned int version);

/**
 * Start tcpdump in the container (through exec) and return once it
 * listens ("listening on any ..."). Errors carry tcpdump's words: no
 * tcpdump in the container (DEVKIT_EUNSUPPORTED, naming the sidecar
 * option), not permitted (DEVKIT_EFORBIDDEN: it needs NET_RAW), a bad
 * filter (DEVKIT_EINVAL "syntax error ..."), no such interface
 * (DEVKIT_ENOTFOUND); a Pod that does not exist is DEVKIT_ENOTFOUND. With
 * `file`, an unwritable file fails here (and a failed start leaves no new
 * file behind). The container needs /bin/sh. Each capture has a thread of
 * its own that reads tcpdump's output, so the file is written and the
 * duration kept whether or not anyone reads; it takes no signals.
 */
DEVKIT_EXTERN(int) devkit_capture_start(devkit_capture **out, devkit_k8s *k8s,
	const devkit_capture_options *opts);

/**
 * The next output: for TEXT one line without its newline, for PCAP the next
 * bytes of the stream (the first read starts with the pcap file header).
 * What `out` held before is released. Waits up to timeout_ms (-1: no
 * limit, 0: do not wait). Returns 1 with data, 0 when none came in time,
 * DEVKIT_ECLOSED once the capture has ended and everything was read (with
 * `file`: once everything is written and the file closed; its message has
 * tcpdump's counts), another negative code for the error that ended it.
 * While about 1 MiB waits unread, no more is read from tcpdump (it waits,
 * and the kernel drops what it cannot hold: stats.dropped), so memory stays
 * bounded.
 */
DEVKIT_EXTERN(int) devkit_capture_read(devkit_capture *c, devkit_buf *out, int timeout_ms);

/** Ask tcpdump to stop (it writes what it holds, prints its summary and
 *  exits); keep reading until DEVKIT_ECLOSED for the rest. Works on v4 and
 *  v5 servers alike (a line on the script's stdin has tcpdump sent SIGINT).
 *  0 also when the capture has ended already. */
DEVKIT_EXTERN(int) devkit_capture_stop(devkit_capture *c);

typedef struct devkit_capture_stats {
	unsigned int version;
	uint64_t bytes;             /* bytes of output (text or pcap) */
	uint64_t packets;           /* tcpdump's "N packets captured" (at the end; before: lines seen for TEXT,
	                             * records seen for PCAP) */
	uint64_t dropped;           /* tcpdump's "N packets dropped by kernel" */
	int ended;                  /* 1 once tcpdump has exited */
} devkit_capture_stats;

#define DEVKIT_CAPTURE_STATS_VERSION 1
#define DEVKIT_CAPTURE_STATS_INIT { DEVKIT_CAPTURE_STATS_VERSION, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_capture_get_stats(devkit_capture *c, devkit_capture_stats *stats);

/** Stop (if running) and free; not while a read is in progress on another
 *  thread. Accepts NULL; works after devkit_ctx_free too. */
DEVKIT_EXTERN(void) devkit_capture_free(devkit_capture *c);

/* --- report ---------------------------------------------------------------------- */

/**
 * Why Pod `pod` is where it is: reads the Pod, its owners, their events,
 * the container statuses and, for a container that keeps crashing, the
 * last 20 lines of its previous instance's log; then recognises the known
 * failure classes (docs/diagnostics.md). Fills `json` (may be NULL):
 *
 *   {"namespace","pod","phase","node","stage","ready","summary",
 *    "owner":{"kind","name"},"containers":[...],
 *    "findings":[{"id","stage","title","container","explanation","fix",
 *                 "evidence":[...],"previous_log":[...]}],
 *    "events":[...]}
 *
 * and `text` (may be NULL) with the same for a person. A Pod that runs
 * fine has no findings. A Pod that does not exist is DEVKIT_ENOTFOUND.
 */
DEVKIT_EXTERN(int) devkit_diag_report(devkit_k8s *k8s, const char *namespace_name,
	const char *pod, devkit_buf *json, devkit_buf *text);

#ifdef __cplusplus
}
#endif
#endif
