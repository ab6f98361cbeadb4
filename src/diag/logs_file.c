/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Writing a log to a file from the loop without blocking it: lines collect
 * in `fout`, one uv_fs_write at a time takes them (the thread pool does the
 * write), and while too much waits the stream is stopped like for a slow
 * reader (logs.c).
 */
#include "logs_int.h"

#include <string.h>

static void write_next(devkit_logs *l);

static void on_written(uv_fs_t *req)
{
	devkit_logs *l = req->data;
	ssize_t n = req->result;
	uv_fs_req_cleanup(req);
	l->fs_busy = 0;
	if (n < 0) {
		devkit__bytes_reset(&l->fbusy);
		devkit__bytes_reset(&l->fout);
		devkit__logs_fail(l, DEVKIT_EIO, "%s: writing %s: %s", l->what, l->file,
			uv_strerror((int)n));
		devkit__logs_drained(l);
		return;
	}
	devkit__bytes_consume(&l->fbusy, (size_t)n);
	write_next(l);
	devkit__logs_drained(l);
}

static void write_next(devkit_logs *l)
{
	if (l->fs_busy || l->fd < 0)
		return;
	if (devkit__bytes_avail(&l->fbusy) == 0) {
		/* swap: what waited is written now, new lines collect in the other */
		devkit__bytes tmp = l->fbusy;
		l->fbusy = l->fout;
		l->fout = tmp;
		devkit__bytes_reset(&l->fout);
	}
	size_t avail = devkit__bytes_avail(&l->fbusy);
	if (avail == 0)
		return;
	uv_buf_t buf = uv_buf_init((char *)devkit__bytes_head(&l->fbusy), (unsigned int)avail);
	l->fs.data = l;
	if (uv_fs_write(&l->ctx->loop, &l->fs, l->fd, &buf, 1, -1, on_written) == 0)
		l->fs_busy = 1;
	else
		devkit__logs_fail(l, DEVKIT_EIO, "%s: cannot write %s", l->what, l->file);
}

int devkit__logs_file_put(devkit_logs *l, const char *line, size_t len)
{
	if (devkit__bytes_append(&l->fout, line, len) != 0)
		return -1;
	write_next(l);
	return 0;
}

size_t devkit__logs_file_backlog(const devkit_logs *l)
{
	return devkit__bytes_avail(&l->fout) + devkit__bytes_avail(&l->fbusy);
}
