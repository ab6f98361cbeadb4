/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_capture: tcpdump in a Pod's network, run through exec in one of
 * its containers (every container of a Pod sees the same interfaces).
 *
 * The container: the caller's, else the replica's tcpdump sidecar
 * (devkit-tcpdump, which has tcpdump, root and NET_RAW) when the Pod has
 * one, else the Pod's default. tcpdump runs under a small script
 * (capture_script.c) that stops it with SIGINT when a line arrives on stdin,
 * which works on v4 and v5 servers alike; the pump thread
 * (capture_pump.c) does the reading.
 */
#include "capture_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"
#include "core/json.h"
#include "diag_int.h"

#define SIDECAR "devkit-tcpdump"

int devkit_capture_options_init(devkit_capture_options *opts, unsigned int version)
{
	static const devkit_capture_options defaults = DEVKIT_CAPTURE_OPTIONS_INIT;
	return devkit__options_init(opts, &defaults, sizeof(defaults), version,
		DEVKIT_CAPTURE_OPTIONS_VERSION, "devkit_capture_options_init");
}

static int check_options(const devkit_capture_options *o)
{
	const char *fn = "devkit_capture_start";
	if (!o)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the options are required", fn);
	if (o->version != DEVKIT_CAPTURE_OPTIONS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "%s: options version %u is not %u (initialise "
			"with devkit_capture_options_init)", fn, o->version,
			DEVKIT_CAPTURE_OPTIONS_VERSION);
	int rc = devkit__diag_check_name(fn, "Pod name", o->pod);
	if (rc == 0 && o->namespace_name)
		rc = devkit__diag_check_name(fn, "namespace", o->namespace_name);
	if (rc == 0 && o->container && *o->container)
		rc = devkit__diag_check_name(fn, "container name", o->container);
	if (rc < 0)
		return rc;
	if (o->format != DEVKIT_CAPTURE_TEXT && o->format != DEVKIT_CAPTURE_PCAP)
		return devkit__error_set(DEVKIT_EINVAL, "%s: format %d is not DEVKIT_CAPTURE_TEXT or "
			"DEVKIT_CAPTURE_PCAP", fn, o->format);
	if (o->snaplen < 0)
		return devkit__error_set(DEVKIT_EINVAL, "%s: snaplen %d is negative", fn, o->snaplen);
	if (o->interface_name) {
		size_t n = strlen(o->interface_name);
		if (n == 0 || n > 64)
			return devkit__error_set(DEVKIT_EINVAL, "%s: interface name \"%.64s\" is not 1 to "
				"64 characters", fn, o->interface_name);
		for (const char *p = o->interface_name; *p; p++)
			if ((unsigned char)*p <= ' ' || *p == 0x7f)
				return devkit__error_set(DEVKIT_EINVAL, "%s: interface name \"%s\" has a "
					"space or control character", fn, o->interface_name);
	}
	if (o->file && !*o->file)
		return devkit__error_set(DEVKIT_EINVAL, "%s: the file name is empty", fn);
	return 0;
}

static void discard(devkit_capture *c)
{
	if (c->fd >= 0)
		close(c->fd);
	devkit__bytes_free(&c->partial);
	devkit__bytes_free(&c->queue);
	devkit__bytes_free(&c->err);
	uv_cond_destroy(&c->cond);
	uv_mutex_destroy(&c->lock);
	free(c->file);
	free(c->filter);
	free(c);
}

/* Stop the pump and close the session (tcpdump's stdin ends, which stops
 * it too, should the stop line not get there). */
static void shut_down(devkit_capture *c)
{
	if (c->e)
		devkit__capture_send_stop(c);
	uv_mutex_lock(&c->lock);
	c->quit = 1;
	uv_cond_broadcast(&c->cond);
	uv_mutex_unlock(&c->lock);
	if (c->thread_started)
		uv_thread_join(&c->thread);
	c->thread_started = 0;
	devkit_exec_free(c->e);
	c->e = NULL;
}

/* The pump gets no signals: they are the application's (the CLI's Ctrl-C
 * lands on its main thread, as the engine's thread is kept out too). */
static int start_pump(devkit_capture *c)
{
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = uv_thread_create(&c->thread, devkit__capture_pump, c);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0)
		return devkit__error_set(DEVKIT_ERROR, "%s: cannot start a thread: %s", c->what,
			uv_strerror(rc));
	c->thread_started = 1;
	return 0;
}

/* Until tcpdump listens, ends, or the start timeout. */
static int wait_listening(devkit_capture *c)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)DEVKIT__CAPTURE_START_TIMEOUT_MS * 1000000u;
	int rc = 0;
	uv_mutex_lock(&c->lock);
	for (;;) {
		if (c->listening)
			break;
		if (c->ended) {
			if (c->end_rc == DEVKIT_ECLOSED)
				rc = devkit__error_set(DEVKIT_EIO, "%s: tcpdump ended before it listened",
					c->what);
			else
				rc = devkit__error_set_str(c->end_rc, c->end_msg);
			break;
		}
		uint64_t now = uv_hrtime();
		if (now >= deadline) {
			char line[400];
			devkit__capture_error_line(devkit__bytes_head(&c->err),
				devkit__bytes_avail(&c->err), line, sizeof(line));
			rc = devkit__error_set(DEVKIT_ETIMEOUT, "%s: tcpdump did not say \"listening on\" "
				"within %d s (its last words: %s)", c->what,
				DEVKIT__CAPTURE_START_TIMEOUT_MS / 1000, line[0] ? line : "none");
			break;
		}
		uv_cond_timedwait(&c->cond, &c->lock, deadline - now);
	}
	uv_mutex_unlock(&c->lock);
	return rc;
}

static int start_exec(devkit_capture *c, devkit_k8s *k8s, const devkit_capture_options *o,
	const char *ns, const char *container)
{
	char *script = devkit__capture_script(o->interface_name, o->filter, o->format,
		o->max_packets, o->snaplen);
	if (!script)
		return DEVKIT_ENOMEM;
	devkit_exec_options eo;
	devkit_exec_options_init(&eo, DEVKIT_EXEC_OPTIONS_VERSION);
	eo.namespace_name = ns;
	eo.pod = o->pod;
	eo.container = container;
	eo.command = script;
	eo.stdin_enabled = 1;
	int rc = devkit_exec_start(&c->e, k8s, &eo);
	free(script);
	return rc;
}

int devkit_capture_start(devkit_capture **out, devkit_k8s *k8s, const devkit_capture_options *o)
{
	const char *fn = "devkit_capture_start";
	if (!out || !k8s)
		return devkit__error_set(DEVKIT_EINVAL, "%s: out and the client are required", fn);
	*out = NULL;
	int rc = check_options(o);
	if (rc < 0)
		return rc;
	const char *ns = o->namespace_name;
	json_t *pod = NULL;
	rc = devkit__diag_read_pod(fn, k8s, &ns, o->pod, &pod);
	if (rc < 0)
		return rc;
	const char *container = o->container && *o->container ? o->container : NULL;
	if (!container && devkit__json_find_named(devkit__json_path(pod, "spec.containers"),
		    SIDECAR))
		container = SIDECAR;
	json_decref(pod);

	devkit_capture *c = calloc(1, sizeof(*c));
	if (!c)
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	c->fd = -1;
	c->format = o->format;
	c->duration_ms = o->duration_ms;
	c->stats.version = DEVKIT_CAPTURE_STATS_VERSION;
	uv_mutex_init(&c->lock);
	uv_cond_init(&c->cond);
	if (container)
		snprintf(c->what, sizeof(c->what), "tcpdump in %s/%s (%s)", ns, o->pod, container);
	else
		snprintf(c->what, sizeof(c->what), "tcpdump in %s/%s", ns, o->pod);
	c->filter = strdup(o->filter ? o->filter : "");
	c->file = o->file ? strdup(o->file) : NULL;
	if (!c->filter || (o->file && !c->file)) {
		discard(c);
		return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
	}
	/* Written under FILE.partial first and renamed once tcpdump listens:
	 * a start that fails (a bad filter, no tcpdump) leaves an earlier
	 * capture of the same name as it was. Opened before tcpdump starts, so
	 * a file that cannot be written is the caller's error, said at once. */
	char *partial = NULL;
	if (c->file) {
		if (asprintf(&partial, "%s.partial", c->file) < 0) {
			discard(c);
			return devkit__error_set(DEVKIT_ENOMEM, "%s: out of memory", fn);
		}
		c->fd = open(partial, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (c->fd < 0) {
			rc = devkit__error_set(DEVKIT_EIO, "%s: cannot open %s: %s", c->what, partial,
				strerror(errno));
			free(partial);
			discard(c);
			return rc;
		}
	}
	rc = start_exec(c, k8s, o, ns, container);
	if (rc == 0)
		rc = start_pump(c);
	if (rc == 0)
		rc = wait_listening(c);
	if (rc == 0 && partial && rename(partial, c->file) != 0)
		rc = devkit__error_set(DEVKIT_EIO, "%s: cannot rename %s to %s: %s", c->what, partial,
			c->file, strerror(errno));
	if (rc < 0) {
		/* the error survives the clean-up's own calls */
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
		shut_down(c);
		if (partial)
			unlink(partial);
		free(partial);
		discard(c);
		return devkit__error_set_str(rc, msg);
	}
	free(partial);
	*out = c;
	return 0;
}

int devkit_capture_read(devkit_capture *c, devkit_buf *out, int timeout_ms)
{
	if (!c || !out)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_capture_read: the capture and out "
			"are required");
	uint64_t deadline = uv_hrtime() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0) * 1000000u;
	int rc = 0;
	uv_mutex_lock(&c->lock);
	for (;;) {
		size_t avail = devkit__bytes_avail(&c->queue);
		if (avail > 0) {
			const char *head = devkit__bytes_head(&c->queue);
			/* TEXT: one line (the pump queues only whole lines); PCAP:
			 * what has come */
			const char *nl = c->format == DEVKIT_CAPTURE_TEXT ? memchr(head, '\n', avail)
				: NULL;
			size_t n = nl ? (size_t)(nl - head) : avail;
			char *s = malloc(n + 1);
			if (!s) {
				rc = devkit__error_set(DEVKIT_ENOMEM, "devkit_capture_read: out of memory");
				break;
			}
			memcpy(s, head, n);
			s[n] = '\0';
			devkit__bytes_consume(&c->queue, n + (nl ? 1 : 0));
			devkit_buf_dispose(out);
			out->ptr = s;
			out->size = n;
			out->reserved = n + 1;
			uv_cond_broadcast(&c->cond); /* the pump may wait for room */
			rc = 1;
			break;
		}
		if (c->ended) {
			rc = devkit__error_set_str(c->end_rc, c->end_msg);
			break;
		}
		if (timeout_ms == 0)
			break;
		if (timeout_ms < 0) {
			uv_cond_wait(&c->cond, &c->lock);
			continue;
		}
		uint64_t now = uv_hrtime();
		if (now >= deadline)
			break;
		uv_cond_timedwait(&c->cond, &c->lock, deadline - now);
	}
	uv_mutex_unlock(&c->lock);
	return rc;
}

int devkit_capture_stop(devkit_capture *c)
{
	if (!c)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_capture_stop: the capture is NULL");
	return devkit__capture_send_stop(c);
}

int devkit_capture_get_stats(devkit_capture *c, devkit_capture_stats *stats)
{
	if (!c || !stats)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_capture_get_stats: the capture and "
			"stats are required");
	if (stats->version != DEVKIT_CAPTURE_STATS_VERSION)
		return devkit__error_set(DEVKIT_EINVAL, "devkit_capture_get_stats: stats version %u "
			"is not %u (initialise with DEVKIT_CAPTURE_STATS_INIT)", stats->version,
			DEVKIT_CAPTURE_STATS_VERSION);
	uv_mutex_lock(&c->lock);
	*stats = c->stats;
	uv_mutex_unlock(&c->lock);
	return 0;
}

void devkit_capture_free(devkit_capture *c)
{
	if (!c)
		return;
	shut_down(c);
	discard(c);
}
