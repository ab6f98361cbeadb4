/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The capture's own thread: reads tcpdump's stdout and stderr from the exec
 * session, cuts text into lines, counts pcap records, writes the file or
 * queues the output for devkit_capture_read, notices "listening on", stops
 * tcpdump when the duration is up, and at the end reads tcpdump's summary
 * and exit status into the capture's result.
 */
#include "capture_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/error.h"

int devkit__capture_send_stop(devkit_capture *c)
{
	uv_mutex_lock(&c->lock);
	int send = !c->stop_sent && !c->ended;
	c->stop_sent = 1;
	uv_mutex_unlock(&c->lock);
	if (!send)
		return 0;
	/* any line: the script's reader then sends tcpdump SIGINT */
	int rc = devkit_exec_write(c->e, "\n", 1);
	if (rc < 0) {
		char msg[1024];
		snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
		/* a session that has ended took tcpdump with it: nothing to stop */
		if (devkit_exec_wait(c->e, 0, NULL) != DEVKIT_ETIMEOUT)
			return 0;
		return devkit__error_set(rc, "%s: cannot stop tcpdump: %s", c->what, msg);
	}
	return 0;
}

/* Something went wrong on our side (the file, memory): remember the first
 * such error, stop tcpdump, and keep draining until it has ended. */
static void pump_fail(devkit_capture *c, int rc, const char *msg)
{
	if (c->pump_rc)
		return;
	c->pump_rc = rc;
	snprintf(c->pump_msg, sizeof(c->pump_msg), "%s", msg);
	devkit__capture_send_stop(c);
}

static void put_output(devkit_capture *c, const char *data, size_t n)
{
	if (c->pump_rc)
		return; /* draining */
	if (c->fd >= 0) {
		size_t done = 0;
		while (done < n) {
			ssize_t w = write(c->fd, data + done, n - done);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				char msg[sizeof(c->pump_msg)];
				snprintf(msg, sizeof(msg), "%s: cannot write %s: %s", c->what, c->file,
					w < 0 ? strerror(errno) : "nothing written");
				pump_fail(c, DEVKIT_EIO, msg);
				return;
			}
			done += (size_t)w;
		}
		uv_mutex_lock(&c->lock);
		c->stats.bytes += n;
		uv_mutex_unlock(&c->lock);
		return;
	}
	uv_mutex_lock(&c->lock);
	int rc = devkit__bytes_append(&c->queue, data, n);
	if (rc == 0) {
		c->stats.bytes += n;
		uv_cond_broadcast(&c->cond);
	}
	uv_mutex_unlock(&c->lock);
	if (rc != 0) {
		char msg[sizeof(c->pump_msg)];
		snprintf(msg, sizeof(msg), "%s: out of memory for the output", c->what);
		pump_fail(c, DEVKIT_ENOMEM, msg);
	}
}

/* One line of text, with its newline. An empty one is no packet: tcpdump
 * prints one when SIGINT stops it. */
static void put_line(devkit_capture *c, const char *line, size_t n)
{
	if (n <= 1 || (n == 2 && line[0] == '\r'))
		return;
	put_output(c, line, n);
	uv_mutex_lock(&c->lock);
	c->stats.packets++;
	uv_mutex_unlock(&c->lock);
}

static void text_in(devkit_capture *c, const char *data, size_t n)
{
	if (devkit__bytes_append(&c->partial, data, n) != 0) {
		char msg[sizeof(c->pump_msg)];
		snprintf(msg, sizeof(msg), "%s: out of memory for the output", c->what);
		pump_fail(c, DEVKIT_ENOMEM, msg);
		return;
	}
	for (;;) {
		size_t avail = devkit__bytes_avail(&c->partial);
		const char *head = devkit__bytes_head(&c->partial);
		const char *nl = memchr(head, '\n', avail);
		if (nl) {
			put_line(c, head, (size_t)(nl - head) + 1);
			devkit__bytes_consume(&c->partial, (size_t)(nl - head) + 1);
			continue;
		}
		if (avail >= DEVKIT__CAPTURE_MAX_LINE) {
			/* not tcpdump's text: pass it on rather than hold it all */
			size_t len = devkit__bytes_append(&c->partial, "\n", 1) == 0 ? avail + 1 : avail;
			put_line(c, devkit__bytes_head(&c->partial), len);
			devkit__bytes_reset(&c->partial);
		}
		return;
	}
}

static void pcap_in(devkit_capture *c, const char *data, size_t n)
{
	devkit__capture_pcap_feed(&c->pcap, data, n);
	put_output(c, data, n);
	uv_mutex_lock(&c->lock);
	c->stats.packets = c->pcap.records;
	uv_mutex_unlock(&c->lock);
}

static void stderr_in(devkit_capture *c, const char *data, size_t n)
{
	uv_mutex_lock(&c->lock);
	if (devkit__bytes_append(&c->err, data, n) == 0) {
		size_t avail = devkit__bytes_avail(&c->err);
		if (avail > DEVKIT__CAPTURE_MAX_STDERR)
			devkit__bytes_consume(&c->err, avail - DEVKIT__CAPTURE_MAX_STDERR / 2);
	}
	/* tcpdump 4.99 says "listening on lo, link-type ...", older ones
	 * "tcpdump: listening on ..." */
	if (!c->listening && memmem(devkit__bytes_head(&c->err), devkit__bytes_avail(&c->err),
		    "listening on", 12)) {
		c->listening = 1;
		if (c->duration_ms)
			c->deadline_ns = uv_hrtime() + (uint64_t)c->duration_ms * 1000000u;
		uv_cond_broadcast(&c->cond);
	}
	uv_mutex_unlock(&c->lock);
}

/* tcpdump has ended (read_rc 0) or the session broke (read_rc < 0, the
 * thread's last error says why): record the result. */
static void finish(devkit_capture *c, int read_rc)
{
	char msg[1024] = "";
	int rc = 0, code = -1;
	if (read_rc < 0) {
		rc = read_rc;
		snprintf(msg, sizeof(msg), "%s: %s", c->what, devkit_error_last()->message);
	}
	size_t rest = devkit__bytes_avail(&c->partial);
	if (rest > 0) {
		/* a last line without its newline */
		size_t n = devkit__bytes_append(&c->partial, "\n", 1) == 0 ? rest + 1 : rest;
		put_line(c, devkit__bytes_head(&c->partial), n);
		devkit__bytes_reset(&c->partial);
	}
	if (rc == 0) {
		rc = devkit_exec_wait(c->e, 10000, &code);
		if (rc < 0)
			snprintf(msg, sizeof(msg), "%s: %s", c->what, devkit_error_last()->message);
	}
	if (c->fd >= 0) {
		int failed = close(c->fd) != 0;
		c->fd = -1;
		if (failed) {
			char why[sizeof(c->pump_msg)];
			snprintf(why, sizeof(why), "%s: cannot write %s: %s", c->what, c->file,
				strerror(errno));
			pump_fail(c, DEVKIT_EIO, why);
		}
	}
	uv_mutex_lock(&c->lock);
	devkit__capture_summary sum;
	devkit__capture_parse_summary(devkit__bytes_head(&c->err), devkit__bytes_avail(&c->err),
		&sum);
	if (sum.have_captured)
		c->stats.packets = sum.captured;
	if (sum.have_dropped)
		c->stats.dropped = sum.dropped;
	if (rc == 0 && c->pump_rc) {
		rc = c->pump_rc;
		snprintf(msg, sizeof(msg), "%s", c->pump_msg);
	} else if (rc == 0 && code == 0) {
		rc = DEVKIT_ECLOSED;
		snprintf(msg, sizeof(msg), "%s: the capture has ended: %llu packet%s captured, %llu "
			"dropped by kernel", c->what, (unsigned long long)c->stats.packets,
			c->stats.packets == 1 ? "" : "s", (unsigned long long)c->stats.dropped);
	} else if (rc == 0) {
		rc = devkit__capture_failure(c->what, c->filter, code, devkit__bytes_head(&c->err),
			devkit__bytes_avail(&c->err));
		snprintf(msg, sizeof(msg), "%s", devkit_error_last()->message);
	}
	c->ended = 1;
	c->stats.ended = 1;
	c->end_rc = rc;
	snprintf(c->end_msg, sizeof(c->end_msg), "%s", msg);
	uv_cond_broadcast(&c->cond);
	uv_mutex_unlock(&c->lock);
}

void devkit__capture_pump(void *arg)
{
	devkit_capture *c = arg;
	for (;;) {
		uv_mutex_lock(&c->lock);
		int quit = c->quit;
		/* the reader is behind: read no more, exec and then tcpdump wait */
		int full = c->fd < 0 && devkit__bytes_avail(&c->queue) >= DEVKIT__CAPTURE_HIGH;
		if (full && !quit)
			uv_cond_timedwait(&c->cond, &c->lock, DEVKIT__CAPTURE_POLL_MS * 1000000ull);
		uint64_t deadline = c->deadline_ns;
		uv_mutex_unlock(&c->lock);
		if (quit)
			return;
		uint64_t now = uv_hrtime();
		if (deadline && now >= deadline) {
			uv_mutex_lock(&c->lock);
			c->deadline_ns = deadline = 0;
			uv_mutex_unlock(&c->lock);
			devkit__capture_send_stop(c);
		}
		if (full)
			continue;
		int wait = DEVKIT__CAPTURE_POLL_MS;
		if (deadline && (deadline - now) / 1000000u + 1 < (uint64_t)wait)
			wait = (int)((deadline - now) / 1000000u + 1);
		int stream = 0;
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(c->e, &stream, &b, wait);
		if (n == DEVKIT_ETIMEOUT)
			continue;
		if (n > 0) {
			if (stream == DEVKIT_EXEC_STDERR)
				stderr_in(c, b.ptr, (size_t)n);
			else if (c->format == DEVKIT_CAPTURE_PCAP)
				pcap_in(c, b.ptr, (size_t)n);
			else
				text_in(c, b.ptr, (size_t)n);
			devkit_buf_dispose(&b);
			continue;
		}
		finish(c, n);
		return;
	}
}
