/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the live workflow's parts share: running a small sh script in the
 * container and the shell words that find the keep-alive's devkit-app.
 */
#ifndef DEVKIT_LIVE_INT_H
#define DEVKIT_LIVE_INT_H

#include "devkit/live.h"

/* Where the keep-alive (src/replica/command.c) puts its files: $DEVKIT_DIR,
 * /devkit, or /tmp/devkit when the image does not let it make /devkit.
 * Sets R to the first that holds bin/devkit-app, or ends the script with
 * status 127 and a message naming the cause. */
#define DEVKIT__LIVE_FIND_KEEPALIVE \
	"R=\nfor d in \"${DEVKIT_DIR:-/devkit}\" /tmp/devkit; do\n" \
	"\t[ -x \"$d/bin/devkit-app\" ] && { R=$d; break; }\ndone\n" \
	"[ -n \"$R\" ] || { echo 'no devkit keep-alive in this container: replicate it " \
	"with keep_alive (devkit replicate --keep-alive)' >&2; exit 127; }\n"

/* The container a call is about, for messages: "dev/web-1" or
 * "dev/web-1 (app)". */
typedef struct devkit__live_target {
	const char *namespace_name; /* NULL: the client's */
	const char *pod;
	const char *container;      /* NULL: the Pod's default */
	unsigned int timeout_ms;    /* for each script run there; 0: DEVKIT__LIVE_SH_TIMEOUT_MS */
} devkit__live_target;

/* A script that has not ended by then is given up (the container may keep
 * running it): devkit-app waits at most about 45 s for the keep-alive. */
#define DEVKIT__LIVE_SH_TIMEOUT_MS 120000

/* Run `sh -c script` in the target with stdin_data (may be NULL), collect
 * stdout/stderr (either may be NULL), and give the exit code. Returns 0
 * when the script ran to its end whatever its code, DEVKIT_ETIMEOUT when
 * it did not end within t->timeout_ms, else the exec error; errors are
 * prefixed with `what`. */
int devkit__live_sh(devkit_k8s *k8s, const devkit__live_target *t, const char *what,
	const char *script, const char *stdin_data, size_t stdin_len, devkit_buf *out,
	devkit_buf *err, int *exit_code);

/* Like devkit__live_sh, and a non-zero exit code becomes an error:
 * DEVKIT_EUNSUPPORTED for 127 (something missing in the image), else
 * DEVKIT_EIO; the message is "<what> in <target>: <stderr's last line>". */
int devkit__live_sh_ok(devkit_k8s *k8s, const devkit__live_target *t, const char *what,
	const char *script, devkit_buf *out);

/* "dev/web-1" or "dev/web-1 (app)" into buf. */
const char *devkit__live_target_name(devkit_k8s *k8s, const devkit__live_target *t, char *buf,
	size_t cap);

/* Quote s for sh ('...' with ' as '\''), appended to a new string. NULL on
 * out of memory. */
char *devkit__live_sh_quote(const char *s);

/* Milliseconds on the monotonic clock, for deadlines. */
uint64_t devkit__live_now_ms(void);

#endif
