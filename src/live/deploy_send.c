/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The copy itself: a tar stream written here (tar_writer.h) into `tar -x`
 * in the container over one exec session, file by file, so memory stays
 * bounded whatever the size (devkit_exec_write waits while about 1 MiB is
 * in flight).
 *
 * A thread reads the session's output for the whole copy: tar's messages
 * must be taken as they come, or a tar that has much to say would stop
 * reading its input and the copy would wait forever. It keeps the first
 * few KiB of stderr for the error message.
 */
#include "deploy_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#include "core/error.h"
#include "tar_writer.h"

/* stderr kept for the message; tar says what went wrong first. */
#define ERR_KEEP 8192
#define CHUNK (256u * 1024)
/* How long a copy abandoned for a local error waits for tar to go. */
#define ABANDON_WAIT_MS 5000

typedef struct reader {
	devkit_exec *e;
	uv_thread_t thread;
	int stop;              /* atomic: give up at the next timeout */
	devkit__bytes err;     /* the start of stderr */
	int rc;                /* how the reading ended: 0 at the end of output */
	char msg[512];         /* and why, when it is an error */
} reader;

static void read_output(void *arg)
{
	reader *r = arg;
	for (;;) {
		int stream = 0;
		devkit_buf b = DEVKIT_BUF_INIT;
		int n = devkit_exec_read(r->e, &stream, &b, 200);
		if (n == DEVKIT_ETIMEOUT) {
			if (__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		if (n <= 0) {
			r->rc = n;
			if (n < 0)
				snprintf(r->msg, sizeof(r->msg), "%s", devkit_error_last()->message);
			break;
		}
		if (stream == DEVKIT_EXEC_STDERR && r->err.len < ERR_KEEP) {
			size_t take = ERR_KEEP - r->err.len < b.size ? ERR_KEEP - r->err.len : b.size;
			devkit__bytes_append(&r->err, b.ptr, take);
		}
		devkit_buf_dispose(&b);
	}
}

/* What a failed tar (or mkdir) said: its first line that is not GNU tar's
 * closing summary, and how many more there were. */
static void first_words(const devkit__bytes *err, char *buf, size_t cap)
{
	buf[0] = '\0';
	size_t lines = 0;
	const char *p = err->data, *end = err->data + err->len;
	while (p && p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		size_t len = (size_t)(le - p);
		while (len && (p[len - 1] == '\r' || p[len - 1] == ' '))
			len--;
		if (len && !memmem(p, len, "Exiting with failure status", 27)) {
			if (!buf[0])
				snprintf(buf, cap, "%.*s", (int)len, p);
			lines++;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (lines > 1) {
		size_t used = strlen(buf);
		snprintf(buf + used, cap - used, " (and %zu more line%s)", lines - 1,
			lines > 2 ? "s" : "");
	}
	for (char *c = buf; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
}

typedef struct sender {
	const devkit__deploy_send_args *a;
	devkit_exec *e;
	devkit__tar tar;
	char target[300];
	uint64_t bytes, total;      /* file bytes sent, to send */
	uint64_t reported;          /* bytes at the last progress call */
	uint64_t archive;           /* bounded: the archive's size */
	devkit__tar_entry manifest;
	int write_failed;           /* the session refused bytes: see how it ended */
} sender;

static int to_exec(void *user, const void *data, size_t len)
{
	sender *s = user;
	int rc = devkit_exec_write(s->e, data, len);
	if (rc < 0)
		s->write_failed = 1;
	return rc;
}

static void progress(sender *s, int force)
{
	if (!s->a->progress)
		return;
	if (!force && s->bytes - s->reported < 1024u * 1024)
		return;
	s->reported = s->bytes;
	s->a->progress(s->a->user, "send", s->bytes, s->total);
}

/* A local failure: the copy cannot go on. */
static int local_error(const char *path, const char *what, int err)
{
	return devkit__error_set(DEVKIT_EIO, "deploy: %s %s: %s", what, path, strerror(err));
}

static int send_file(sender *s, devkit__deploy_entry *e, char *buf)
{
	int fd = open(e->local, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return local_error(e->local, "cannot read", errno);
	devkit__tar_entry te = { e->rel, DEVKIT__TAR_FILE, e->mode, e->mtime, e->size, NULL };
	int rc = devkit__tar_header(&s->tar, &te);
	uint64_t left = e->size;
	while (rc == 0 && left) {
		ssize_t n = read(fd, buf, left < CHUNK ? (size_t)left : CHUNK);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = local_error(e->local, "cannot read", errno);
			break;
		}
		if (n == 0) {
			rc = devkit__error_set(DEVKIT_EIO, "deploy: %s shrank while it was sent (%llu "
				"bytes short); deploy again once it is written", e->local,
				(unsigned long long)left);
			break;
		}
		rc = devkit__tar_data(&s->tar, buf, (size_t)n);
		left -= (uint64_t)n;
		s->bytes += (uint64_t)n;
		progress(s, 0);
	}
	/* A file that grew goes cut at its scanned size: its mtime has moved
	 * past the one the manifest records, so the next deploy sends it. */
	close(fd);
	return rc;
}

static int send_entries(sender *s)
{
	char *buf = malloc(CHUNK);
	if (!buf)
		return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
	devkit__deploy_list *l = s->a->list;
	int rc = 0;
	for (size_t i = 0; i < l->n && rc == 0; i++) {
		devkit__deploy_entry *e = &l->v[i];
		if (!e->send)
			continue;
		if (e->type == DEVKIT__DEPLOY_FILE) {
			rc = send_file(s, e, buf);
		} else {
			devkit__tar_entry te = { e->rel, e->type == DEVKIT__DEPLOY_DIR ? DEVKIT__TAR_DIR
				: DEVKIT__TAR_SYMLINK, e->mode, e->mtime, 0, e->link };
			rc = devkit__tar_header(&s->tar, &te);
		}
	}
	free(buf);
	if (rc < 0)
		return rc;
	/* The manifest last, under a name the next step renames once tar has
	 * said it extracted everything. */
	const devkit__bytes *m = s->a->manifest;
	rc = devkit__tar_header(&s->tar, &s->manifest);
	if (rc == 0)
		rc = devkit__tar_data(&s->tar, m->data + m->off, devkit__bytes_avail(m));
	if (rc == 0)
		rc = devkit__tar_finish(&s->tar);
	if (rc == 0 && s->a->bounded && s->tar.total != s->archive)
		rc = devkit__error_set(DEVKIT_ERROR, "deploy: the archive came out %llu bytes where "
			"%llu were announced (a bug)", (unsigned long long)s->tar.total,
			(unsigned long long)s->archive);
	return rc;
}

/* The archive's size before it is written: `head -c` passes exactly that
 * to a tar that cannot be sent EOF. */
static int archive_size(sender *s)
{
	const devkit__deploy_list *l = s->a->list;
	uint64_t total = 0, n;
	for (size_t i = 0; i < l->n; i++) {
		const devkit__deploy_entry *e = &l->v[i];
		if (!e->send)
			continue;
		devkit__tar_entry te = { e->rel, e->type == DEVKIT__DEPLOY_FILE ? DEVKIT__TAR_FILE :
			e->type == DEVKIT__DEPLOY_DIR ? DEVKIT__TAR_DIR : DEVKIT__TAR_SYMLINK, e->mode,
			e->mtime, e->size, e->link };
		int rc = devkit__tar_entry_size(&te, &n);
		if (rc)
			return rc;
		total += n;
	}
	int rc = devkit__tar_entry_size(&s->manifest, &n);
	if (rc)
		return rc;
	total += n;
	s->archive = total + devkit__tar_end_size(total);
	return 0;
}

/* tar's (or mkdir's) exit code as the result. */
static int judge(sender *s, reader *rd, int code)
{
	if (code == 0)
		return 0;
	char words[600];
	first_words(&rd->err, words, sizeof(words));
	if (code == 127 && strstr(words, "head: not found"))
		return devkit__error_set(DEVKIT_EUNSUPPORTED, "deploy to %s in %s: the container has "
			"no head, which deploy needs with servers that cannot close stdin (Kubernetes "
			"before 1.29) (exit status 127)", s->a->dir, s->target);
	if (code == 127)
		return devkit__error_set(DEVKIT_EUNSUPPORTED, "deploy to %s in %s: the container has "
			"no tar, which deploy needs as kubectl cp does (add tar to the image): %s (exit "
			"status 127)", s->a->dir, s->target, words[0] ? words : "not found");
	return devkit__error_set(DEVKIT_EIO, "deploy to %s in %s: %s (exit status %d)", s->a->dir,
		s->target, words[0] ? words : "tar failed without a message", code);
}

int devkit__deploy_send(const devkit__deploy_send_args *a, uint64_t *bytes_sent)
{
	*bytes_sent = 0;
	sender s = { 0 };
	s.a = a;
	devkit__live_target_name(a->k8s, a->target, s.target, sizeof(s.target));
	for (size_t i = 0; i < a->list->n; i++)
		if (a->list->v[i].send && a->list->v[i].type == DEVKIT__DEPLOY_FILE)
			s.total += a->list->v[i].size;

	s.manifest = (devkit__tar_entry){ DEVKIT__DEPLOY_MANIFEST_NEW, DEVKIT__TAR_FILE, 0644,
		(int64_t)time(NULL), devkit__bytes_avail(a->manifest), NULL };
	int rc = a->bounded ? archive_size(&s) : 0;
	if (rc < 0)
		return rc;
	size_t cap = 2 * strlen(a->qdir) + 512;
	char *script = malloc(cap);
	if (!script)
		return devkit__error_set(DEVKIT_ENOMEM, "deploy: out of memory");
	/* -o: files belong to whoever runs tar (no chown to the archive's 0:0);
	 * no -m: the modification times are kept, the manifest relies on them.
	 * Bounded: busybox tar reads to the end of its input, which a v4
	 * server cannot signal; head ends it after the archive's last byte. */
	char head[64] = "";
	if (a->bounded)
		snprintf(head, sizeof(head), "head -c %llu | ", (unsigned long long)s.archive);
	snprintf(script, cap, "command -v tar >/dev/null 2>&1 || { echo 'tar: not found' >&2; "
		"exit 127; }\n%smkdir -p %s && cd %s && rm -f " DEVKIT__DEPLOY_MANIFEST " "
		DEVKIT__DEPLOY_MANIFEST_NEW " && %s%s", a->bounded ? "command -v head >/dev/null "
		"2>&1 || { echo 'head: not found' >&2; exit 127; }\n" : "", a->qdir, a->qdir, head,
		a->bounded ? "tar -xof -" : "exec tar -xof -");
	devkit_exec_options o;
	devkit_exec_options_init(&o, DEVKIT_EXEC_OPTIONS_VERSION);
	o.namespace_name = a->target->namespace_name;
	o.pod = a->target->pod;
	o.container = a->target->container;
	o.command = script;
	o.stdin_enabled = 1;
	o.timeout_ms = a->timeout_ms;
	rc = devkit_exec_start(&s.e, a->k8s, &o);
	free(script);
	if (rc < 0)
		return devkit__error_set(rc, "deploy to %s in %s: %s", a->dir, s.target,
			devkit_error_last()->message);

	reader rd = { 0 };
	rd.e = s.e;
	if (uv_thread_create(&rd.thread, read_output, &rd) != 0) {
		devkit_exec_free(s.e);
		return devkit__error_set(DEVKIT_ENOMEM, "deploy: cannot start a thread");
	}
	if (a->progress)
		a->progress(a->user, "send", 0, s.total);
	rc = devkit__tar_init(&s.tar, to_exec, &s, 0);
	if (rc == 0)
		rc = send_entries(&s);
	devkit__tar_dispose(&s.tar);

	int code = -1, wrc = -1;
	if (rc == 0 || s.write_failed) {
		/* Sent, or the container stopped taking it: tar's end says which.
		 * Bounded (v4, no half-close), head has ended tar's input. */
		if (rc == 0 && !a->bounded) {
			int crc = devkit_exec_close_stdin(s.e);
			if (crc < 0)
				rc = crc;
		}
		wrc = devkit_exec_wait(s.e, (int)a->timeout_ms, &code);
		if (wrc < 0 && rc == 0)
			rc = devkit__error_set(wrc, "deploy to %s in %s: waiting for tar: %s", a->dir,
				s.target, devkit_error_last()->message);
		else if (wrc < 0)
			rc = devkit__error_set(wrc, "deploy to %s in %s: %s", a->dir, s.target,
				devkit_error_last()->message);
	} else {
		/* A local failure halfway: end tar's input early, so that it sees a
		 * cut archive and stops, and keep our own error. */
		char keep[1024];
		snprintf(keep, sizeof(keep), "%s", devkit_error_last()->message);
		if (!a->bounded) {
			/* (bounded, tar waits for bytes that will not come: closing
			 * the session below ends its input) */
			devkit_exec_close_stdin(s.e);
			devkit_exec_wait(s.e, ABANDON_WAIT_MS, NULL);
		}
		devkit__error_set(rc, "%s (the copy to %s stopped halfway; the next deploy sends "
			"everything)", keep, a->dir);
	}
	__atomic_store_n(&rd.stop, 1, __ATOMIC_RELEASE);
	uv_thread_join(&rd.thread);
	if (rc == 0 || s.write_failed) {
		if (wrc == 0 && code != 0)
			rc = judge(&s, &rd, code);
		else if (rc == 0 && code == 0)
			*bytes_sent = s.bytes;
	}
	if (rc == 0 && a->progress && s.reported != s.bytes)
		progress(&s, 1);
	devkit__bytes_free(&rd.err);
	devkit_exec_free(s.e);
	return rc;
}
