/* SPDX-License-Identifier: Apache-2.0 */
/*
 * devkit_deploy's parts: the local tree as a list of entries
 * (deploy_scan.c) and the manifest that the last deploy left in the
 * container (deploy_manifest.c), from which deploy.c decides what to send.
 * Private to the library.
 */
#ifndef DEVKIT_LIVE_DEPLOY_INT_H
#define DEVKIT_LIVE_DEPLOY_INT_H

#include <stddef.h>
#include <stdint.h>

#include "core/bytes.h"
#include "live_int.h"

/* The manifest in remote_dir, and the name it is unpacked under before
 * the extract is known to have worked. Local files with these names at the
 * top of local_path are refused. */
#define DEVKIT__DEPLOY_MANIFEST ".devkit-deploy"
#define DEVKIT__DEPLOY_MANIFEST_NEW ".devkit-deploy.new"

enum {
	DEVKIT__DEPLOY_FILE = 'f',
	DEVKIT__DEPLOY_DIR = 'd',
	DEVKIT__DEPLOY_SYMLINK = 'l'
};

typedef struct devkit__deploy_entry {
	char *rel;       /* its name under remote_dir, '/'-separated */
	char *local;     /* its path here (NULL in a parsed manifest) */
	char *link;      /* symlinks: the target */
	int type;        /* DEVKIT__DEPLOY_FILE, _DIR, _SYMLINK */
	unsigned mode;   /* permission bits */
	uint64_t size;   /* files: bytes; symlinks: the target's length; dirs: 0 */
	int64_t mtime;   /* seconds */
	int send;        /* deploy.c: goes into this deploy's archive */
} devkit__deploy_entry;

typedef struct devkit__deploy_list {
	devkit__deploy_entry *v;
	size_t n, cap;
	uint64_t files;  /* files and symlinks (what the result counts) */
	uint64_t bytes;  /* their sizes (files only) */
} devkit__deploy_list;

void devkit__deploy_list_free(devkit__deploy_list *l);

/* Walk local_path: a file is one entry named by its base name; a directory
 * gives its contents (not itself), parents before children, names sorted
 * bytewise. Symlinks are kept as symlinks (local_path itself is followed).
 * Other types (FIFOs, sockets, devices) are refused: DEVKIT_EINVAL naming
 * the path; what cannot be read is DEVKIT_EIO with the system's words.
 * progress (may be NULL) gets "scan" with files so far. */
int devkit__deploy_scan(const char *local_path, devkit__deploy_list *out,
	devkit_deploy_progress_cb progress, void *user);

/* The manifest for `l`: "devkit-deploy 1", then one line per entry,
 * "TYPE MODE SIZE MTIME NAME" (mode in octal; in NAME, '\\', newline and
 * carriage return are written \\ \n \r). Appended to out; 0 or
 * DEVKIT_ENOMEM. */
int devkit__deploy_manifest_format(const devkit__deploy_list *l, devkit__bytes *out);

/* Read a manifest into `m` (sorted by name, for _find). Lines that do not
 * parse are left out, and a text without the first line gives an empty
 * list: what is not known is sent. 0 or DEVKIT_ENOMEM. */
int devkit__deploy_manifest_parse(const char *text, size_t len, devkit__deploy_list *m);

/* The entry named rel in a parsed manifest, or NULL. */
const devkit__deploy_entry *devkit__deploy_manifest_find(const devkit__deploy_list *m,
	const char *rel);

/* What devkit__deploy_send needs to know. */
typedef struct devkit__deploy_send_args {
	devkit_k8s *k8s;
	const devkit__live_target *target;
	const char *dir;               /* remote_dir as given, for messages */
	const char *qdir;              /* remote_dir quoted for sh */
	devkit__deploy_list *list;     /* entries with send set go */
	const devkit__bytes *manifest; /* goes last, as DEVKIT__DEPLOY_MANIFEST_NEW */
	int bounded;                   /* the server cannot half-close stdin (v4): tar
	                                * reads through `head -c SIZE` */
	unsigned int timeout_ms;       /* the exec's start, and tar's end after the last byte */
	devkit_deploy_progress_cb progress;
	void *user;
} devkit__deploy_send_args;

/* One exec of `mkdir -p DIR && cd DIR && rm -f MANIFEST... && tar -xof -`
 * (deploy_send.c): the entries marked send, then the manifest, in one
 * ustar stream written as it goes; returns once tar ended, 0 when it
 * exited 0. Errors carry tar's (or mkdir's) first line; exit status 127
 * (no tar) is DEVKIT_EUNSUPPORTED. *bytes_sent: the file bytes sent. */
int devkit__deploy_send(const devkit__deploy_send_args *a, uint64_t *bytes_sent);

#endif
