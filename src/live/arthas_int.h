/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Arthas in a container (devkit_arthas_run / devkit_arthas_start), in three
 * steps, each one exec:
 *
 *   1. look (arthas_site.c): where the package goes (${R}/arthas/KEY, R the
 *      keep-alive's directory or /tmp/devkit), whether it is there already,
 *      which JVM, which java, which telnet port;
 *   2. copy (arthas_package.c), only when step 1 did not find it: the zip
 *      streamed in and unpacked there, or a directory through devkit_deploy;
 *   3. run arthas-boot against the JVM (arthas.c).
 */
#ifndef DEVKIT_LIVE_ARTHAS_INT_H
#define DEVKIT_LIVE_ARTHAS_INT_H

#include <stdint.h>

#include "live_int.h"

struct devkit__bytes;

/* The first telnet port tried (Arthas's own default) and how many after it. */
#define DEVKIT__ARTHAS_PORT_FIRST 3658
#define DEVKIT__ARTHAS_PORT_COUNT 100

/* The package on this machine. */
typedef struct devkit__arthas_pkg {
	int is_dir;
	char *path;     /* as given */
	char key[40];   /* the directory's name in the container: "zip-<16 hex of its SHA-256>",
	                   "dir-<16 hex of the SHA-256 of its absolute path>" */
	char sha256[65];
	uint64_t size;  /* a zip's size */
} devkit__arthas_pkg;

/* What step 1 found in the container. */
typedef struct devkit__arthas_site {
	char *root;     /* R */
	char *home;     /* R/arthas/KEY: the unpacked Arthas (arthas-boot.jar ...) */
	char *java;
	int pid;        /* the JVM */
	int port;       /* Arthas's telnet port for it */
	int present;    /* the package is in home already */
	int attached;   /* an Arthas server we started listens in that JVM on port */
} devkit__arthas_site;

/* A call's common state: the client, the options, the deadline. */
typedef struct devkit__arthas_call {
	devkit_k8s *k8s;
	const devkit_arthas_options *opts;
	devkit__live_target target;
	const char *fn;         /* "arthas": what messages start with */
	int64_t deadline_ms;    /* devkit__live_now_ms() scale */
} devkit__arthas_call;


/* Milliseconds left before the call's deadline (at least 1), or
 * DEVKIT_ETIMEOUT with a message naming `step` once it has passed. */
int devkit__arthas_left(const devkit__arthas_call *c, const char *step);

/* Check the local package (a zip file or a directory) and name it:
 * DEVKIT_EINVAL when missing or neither, DEVKIT_EIO when unreadable. */
int devkit__arthas_pkg_open(devkit__arthas_pkg *p, const char *fn, const char *package);
void devkit__arthas_pkg_close(devkit__arthas_pkg *p);

/* Step 1. */
int devkit__arthas_look(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s);
void devkit__arthas_site_free(devkit__arthas_site *s);

/* Step 2: put the package at s->home (s->present becomes 1). */
int devkit__arthas_copy(const devkit__arthas_call *c, const devkit__arthas_pkg *p,
	devkit__arthas_site *s);

/* The sh line of step 3: arthas-boot attached to s->pid on s->port, running
 * `command` (NULL: the interactive console). NULL on out of memory. */
char *devkit__arthas_boot_script(const devkit__arthas_site *s, const char *command);

/* The run's output as a user wants to read it: line ends without \r, from
 * the first prompt on (arthas-boot's progress lines and the banner dropped)
 * when the console was reached, without the last empty prompt and the
 * " | plaintext" the batch client adds to each command line. In place;
 * returns the new length. `text` has room for two bytes past len. */
size_t devkit__arthas_tidy(char *text, size_t len);

/* Read a started session to its end and wait for its exit code, within the
 * call's deadline: stdout into out, stderr into err (either may be NULL to
 * drop it). Errors (DEVKIT_ETIMEOUT too) are set with `what` and the
 * target. */
int devkit__arthas_collect(const devkit__arthas_call *c, devkit_exec *e, const char *what,
	struct devkit__bytes *out, struct devkit__bytes *err, int *exit_code);

/* Run `script` as `sh -s` with the script on stdin (exec's command travels
 * in the URL, whose length servers limit), within the deadline; stdout into
 * out (may be NULL). A non-zero exit is devkit__arthas_script_error's. */
int devkit__arthas_sh(const devkit__arthas_call *c, const char *what, const char *script,
	devkit_buf *out);

/* The error for a script's exit code (see the scripts): the last line of
 * stderr, prefixed with what failed and where. */
int devkit__arthas_script_error(const devkit__arthas_call *c, const char *what, int exit_code,
	const char *err, size_t err_len);

#endif
