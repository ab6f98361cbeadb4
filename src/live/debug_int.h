/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What devkit_debug's files share (debug.c: the agent in app.env and the
 * forward; debug_wait.c: waiting until the restarted JVM answers).
 */
#ifndef DEVKIT_LIVE_DEBUG_INT_H
#define DEVKIT_LIVE_DEBUG_INT_H

#include "live_int.h"

/* The comment that marks devkit's own line in app.env: the line is found,
 * replaced and removed by it, and every other line is the user's. */
#define DEVKIT__DEBUG_MARK "# devkit debug"

struct devkit_debug {
	devkit_pod_forward *pf;  /* through the API server or the bastion */
	int port;                /* the local one */
};

/* What one JDWP handshake attempt saw. */
enum {
	DEVKIT__JDWP_CLOSED = 0,  /* refused, or closed before answering: not up yet */
	DEVKIT__JDWP_READY = 1,   /* "JDWP-Handshake" came back */
	DEVKIT__JDWP_SILENT = 2,  /* connected, no answer in time (another debugger?) */
	DEVKIT__JDWP_OTHER = 3    /* something else answered: not a JDWP agent */
};

/* Connect to host:port (an IP literal), send "JDWP-Handshake" and wait up
 * to budget_ms for the same 14 bytes back; close. One of the above. */
int devkit__debug_handshake(const char *host, int port, int budget_ms);

typedef struct devkit__debug_wait {
	devkit_k8s *k8s;
	const devkit__live_target *t;
	const char *connect_host;  /* where the local forward listens, to connect to */
	int local_port;
	int pod_port;
	int suspend;               /* wait for the port to listen, not for a handshake */
	unsigned int timeout_ms;
} devkit__debug_wait;

/* Wait until the JVM answers (or, with suspend, listens). 0; DEVKIT_ETIMEOUT
 * or DEVKIT_EIO (the app exited) with the app's state and its log's last
 * lines in the message. *waited_ms: how long it took. */
int devkit__debug_wait_ready(const devkit__debug_wait *w, uint64_t *waited_ms);

/* After a handshake: wait (at most a few s) until the agent listens again
 * in the container. */
void devkit__debug_relisten(const devkit__debug_wait *w);

/* " (app: STATE; last lines of LOG: a | b | c)" about the app, for error
 * messages, into buf: best effort, never fails. */
const char *devkit__debug_app_report(devkit_k8s *k8s, const devkit__live_target *t, char *buf,
	size_t cap);


#endif
