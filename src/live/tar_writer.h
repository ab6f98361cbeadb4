/* SPDX-License-Identifier: Apache-2.0 */
/*
 * A POSIX ustar writer that streams: headers and file data go to a sink in
 * chunks of a fixed buffer, so an archive of any size is made with bounded
 * memory and no tar on this machine (devkit_deploy pipes it into `tar -x`
 * in a container, as `kubectl cp` does).
 *
 * What the readers we target (GNU tar, busybox tar) need:
 *   - names that fit ustar's name (100) or prefix/name split (155 + 100)
 *     go in the header; longer names and symlink targets over 100 bytes go
 *     in a pax extended header ('x', records path= and linkpath=), which
 *     both read;
 *   - numbers too large for the octal fields (files of 8 GiB and more)
 *     use the base-256 form of GNU tar, which both read;
 *   - uid/gid 0 and no user or group names, so that nothing asks the
 *     extracting tar to look up or chown to a user of this machine;
 *   - the archive ends with two zero blocks and is padded to a whole
 *     10240-byte record, as tar writes it. GNU tar stops reading there;
 *     busybox tar reads on to the end of its input, so a reader that
 *     cannot be sent EOF needs the size (devkit__tar_entry_size).
 * Private to the library.
 */
#ifndef DEVKIT_LIVE_TAR_WRITER_H
#define DEVKIT_LIVE_TAR_WRITER_H

#include <stddef.h>
#include <stdint.h>

#define DEVKIT__TAR_BLOCK 512u
#define DEVKIT__TAR_RECORD 10240u

/* Where the archive goes: 0, or a negative DEVKIT_E* code (with the
 * thread's last error set), which the writer returns from then on. */
typedef int (*devkit__tar_sink)(void *user, const void *data, size_t len);

typedef struct devkit__tar {
	devkit__tar_sink sink;
	void *user;
	char *buf;         /* bytes gathered for the sink */
	size_t len, cap;
	uint64_t total;    /* archive bytes so far (sent and buffered) */
	uint64_t left;     /* data bytes the current file still needs */
	uint64_t pad;      /* zero bytes after it, to the block */
	int rc;            /* the first failure, returned ever after */
} devkit__tar;

enum {
	DEVKIT__TAR_FILE = '0',
	DEVKIT__TAR_SYMLINK = '2',
	DEVKIT__TAR_DIR = '5'
};

typedef struct devkit__tar_entry {
	const char *name;      /* relative, '/'-separated, no trailing '/' */
	int type;              /* DEVKIT__TAR_FILE, _SYMLINK, _DIR */
	unsigned int mode;     /* permission bits (07777) */
	int64_t mtime;         /* seconds since the epoch; negative is written as 0 */
	uint64_t size;         /* files: the data bytes that follow */
	const char *linkname;  /* symlinks: the target */
} devkit__tar_entry;

/* buf_size: how much to gather before calling the sink (0: 256 KiB).
 * DEVKIT_ENOMEM on failure. */
int devkit__tar_init(devkit__tar *t, devkit__tar_sink sink, void *user, size_t buf_size);
void devkit__tar_dispose(devkit__tar *t);

/* Start an entry (after the previous file's data is complete). */
int devkit__tar_header(devkit__tar *t, const devkit__tar_entry *e);

/* The current file's data, in pieces; at most what its size still needs.
 * The padding to the block follows by itself once the size is reached. */
int devkit__tar_data(devkit__tar *t, const void *data, size_t len);

/* The bytes an entry takes in the archive (its headers and padded data),
 * and what the end adds after `entries` bytes of entries: together the
 * archive's exact size before it is written (deploy tells `head -c` how
 * much to pass to a tar that cannot be sent EOF). 0 or DEVKIT_EINVAL. */
int devkit__tar_entry_size(const devkit__tar_entry *e, uint64_t *size);
uint64_t devkit__tar_end_size(uint64_t entries);

/* The end-of-archive blocks and the record padding; everything reaches the
 * sink. */
int devkit__tar_finish(devkit__tar *t);

#endif
