/* SPDX-License-Identifier: Apache-2.0 */
#include "k8s_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_FILE (16u * 1024 * 1024)

int devkit__k8s_read_file(const char *path, char **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	struct stat st;
	if (fstat(fd, &st) != 0) {
		int e = errno;
		close(fd);
		return e;
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return EISDIR;
	}
	/* Read to EOF rather than trusting st_size: /proc and FIFOs report 0. */
	size_t cap = st.st_size > 0 && (size_t)st.st_size < MAX_FILE ? (size_t)st.st_size + 1 : 4096;
	size_t used = 0;
	char *buf = malloc(cap);
	if (!buf) {
		close(fd);
		return ENOMEM;
	}
	for (;;) {
		if (used + 1 >= cap) {
			if (cap >= MAX_FILE) {
				free(buf);
				close(fd);
				return EFBIG;
			}
			char *bigger = realloc(buf, cap * 2);
			if (!bigger) {
				free(buf);
				close(fd);
				return ENOMEM;
			}
			buf = bigger;
			cap *= 2;
		}
		ssize_t n = read(fd, buf + used, cap - used - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			free(buf);
			close(fd);
			return e;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	buf[used] = '\0';
	*out = buf;
	*len = used;
	return 0;
}

char *devkit__k8s_resolve_path(const char *file, const char *path)
{
	if (path[0] == '/' || !file)
		return strdup(path);
	const char *slash = strrchr(file, '/');
	if (!slash)
		return strdup(path); /* the file is in the working directory */
	size_t dir = (size_t)(slash - file) + 1;
	char *out = malloc(dir + strlen(path) + 1);
	if (!out)
		return NULL;
	memcpy(out, file, dir);
	strcpy(out + dir, path);
	return out;
}
