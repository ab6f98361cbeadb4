/* SPDX-License-Identifier: Apache-2.0 */
/*
 * State shared by the parts of `devkit up` (and what `devkit status` and
 * `devkit config` borrow from it). Private to the CLI.
 *
 *   cmd_up.c          options, the order of bring-up, the live status
 *   cmd_up_down.c     teardown in the reverse order
 *   cmd_up_config.c   loading devkit.yaml, the one-line summary of a config
 *   cmd_up_loop.c     the one poll() loop: signals, library events, the
 *                     status socket, the replica worker; what counts as news
 *   cmd_up_replica.c  Kubernetes client and replicas (a worker thread waits)
 *   cmd_up_report.c   progress lines and JSON events
 *   cmd_up_status.c   the status: as JSON and as text, and when it changed
 *   cmd_up_socket.c   where the status socket is, serving it, asking it
 */
#ifndef DEVKIT_CLI_CMD_UP_H
#define DEVKIT_CLI_CMD_UP_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/un.h>
#include <time.h>

#include <devkit.h>

#include "cli_connect.h"
#include "cli_json.h"
#include "cli_util.h"

#define UP_DEFAULT_FILE "devkit.yaml"

/* Status clients served at once; more wait in the listen backlog. */
#define UP_MAX_CLIENTS 8
/* sizeof(sockaddr_un.sun_path): the longest path a unix socket can have. */
#define UP_SOCK_PATH_MAX ((int)sizeof(((struct sockaddr_un *)0)->sun_path))

/* Forwards whose first FORWARD_READY is folded into the progress lines: ours,
 * the DNS's own, and the ones exposes open to reach their registries. */
#define UP_MAX_FOLDED 64

/* Where the status socket may be, best first. */
struct up_sock_where {
	char path[2][UP_SOCK_PATH_MAX];
	char dir[2][UP_SOCK_PATH_MAX];
	int per_user[2];   /* a directory every devkit up of this user shares */
	int n;
};

struct up_forward {
	const devkit_forward_options *opts; /* borrowed from the config */
	devkit_forward *forward;            /* owned by the tunnel; NULL until added */
	uint64_t id;
	char address[CLI_HOST_MAX];         /* where it listens now */
	int port;
};

struct up_expose {
	const devkit_expose_options *eo;        /* borrowed from the config */
	const devkit_registration_options *ro;
	devkit_expose *expose;                  /* NULL until exposed, and once closed */
	devkit_registration *reg;               /* owned by expose */
	uint64_t reg_id;
	uint64_t forward_id;                    /* the reverse forward on the bastion */
	char remote_address[CLI_HOST_MAX];
	int remote_port;
	char advertised[CLI_HOST_MAX];          /* what the registry entry says */
	int advertised_port;
	char instance_id[256];
	char last_error[384];                   /* the latest failure's message, for status */
	int failures_in_a_row;
};

struct up_replica {
	const devkit_replica_options *opts;     /* borrowed from the config */
	devkit_replica *replica;                /* NULL until created, and once deleted */
	uint64_t id;
	char name[256];
	char ns[256];
	char source[300];                       /* "deployment/orders" */
	char last_error[384];
};

/* The replica worker: creates one replica and waits until it is ready, on a
 * thread of its own, so the loop keeps showing its stage events, answering
 * `devkit status` and noticing Ctrl-C. */
struct up_worker {
	pthread_t thread;
	int running;             /* started and not yet joined */
	int done_fds[2];         /* the worker writes 'c' once created, 'd' when it ends */
	int cancel;              /* atomic: stop waiting at the next slice */
	struct up_replica *rep;  /* the replica being brought up */
	devkit_k8s *k8s;
	int timeout_ms;
	devkit_replica *replica; /* the worker's; adopted by the loop on 'c' */
	int seen_created;        /* the loop has read 'c' (and adopted the replica) */
	int seen_done;           /* the loop has read 'd': rc and message are final */
	int rc;                  /* 0: ready */
	char message[1024];      /* the library's message when rc != 0 */
};

struct up_client {
	int fd;                  /* -1: free slot */
	long long deadline_ms;   /* a client that sends no request by then is dropped */
	char request[64];
	size_t len;
};

enum up_phase { UP_STARTING, UP_READY, UP_STOPPING };

/* Why the loop stopped (or bring-up cannot go on). */
enum up_end {
	UP_GO_ON = 0,
	UP_END_SIGNAL,   /* a shutdown signal: tear down, exit 0 */
	UP_END_DOWN,     /* the tunnel is down for good: tear down, exit 1 */
	UP_END_OUTPUT,   /* stdout is gone: tear down, exit 1 */
	UP_END_ERROR     /* a failure already reported: tear down, exit 1 */
};

struct up_cli {
	/* options; strings are borrowed from argv */
	const char *file;
	const char *profile;
	int json;
	int replica_timeout_ms;
	struct cli_connect conn;            /* only its verbosity is used */

	devkit_config *cfg;
	const devkit_tunnel_options *tunnel_opts;
	char config_path[4096];             /* absolute, for status */

	/* the status socket */
	struct up_sock_where where;         /* where it may be */
	char sock_path[UP_SOCK_PATH_MAX];
	char sock_dir[UP_SOCK_PATH_MAX];
	int remove_sock_dir;                /* sock_dir is .devkit: remove it when empty */
	int listen_fd;
	struct up_client clients[UP_MAX_CLIENTS];

	/* what is up */
	devkit_ctx *ctx;
	devkit_tunnel *tunnel;
	uint64_t tunnel_id;
	struct up_forward *forwards;
	size_t n_forwards;
	devkit_dns *dns;
	devkit_router *router;
	devkit_router_options router_opts;  /* the config's, with our dns */
	struct up_expose *exposes;
	size_t n_exposes;
	devkit_k8s *k8s;
	struct up_replica *replicas;
	size_t n_replicas;
	struct up_worker worker;

	/* the loop */
	enum up_phase phase;
	time_t since;                       /* when the phase began (wall clock, for people) */
	int signal_fd;
	int folded_connecting, folded_up;   /* the open's own tunnel states */
	uint64_t folded[UP_MAX_FOLDED];     /* forwards whose first ready was folded */
	size_t n_folded;
	int events_dropped;
	char last_signature[2048];          /* the states last shown (status changes) */
	uint64_t last_counters;             /* the counters last shown */
	long long counters_due_ms;          /* next time counters may be shown again */
	int stdout_gone;
	cli_json out;
};

/* cmd_up_config.c ------------------------------------------------------------ */

/* Load `file` with `profile`; on failure report the loader's file:line:col
 * message ("devkit: devkit.yaml:4:3: ...", and an error event when `json`)
 * and return CLI_EXIT_USAGE: a configuration error is the user's to fix,
 * like a usage error. */
int up_config_load(const char *file, const char *profile, int json, cli_json *out,
	devkit_config **cfg);

/* "tunnel root@bastion, 2 forwards, dns, routing, 1 expose, 1 replica". */
const char *up_config_summary(const devkit_config *cfg, char *buf, size_t size);

/* "deployment/orders". */
const char *up_replica_source(const devkit_replica_options *o, char *buf, size_t size);

/* cmd_up_socket.c ------------------------------------------------------------ */

/*
 * Where `devkit up -f FILE` serves its status: `.devkit/up.sock` in FILE's
 * directory for the default name devkit.yaml, `.devkit/up-NAME.sock` for
 * any other file name, so that two files in one directory do not collide.
 * Then, for when that path is too long for a unix socket or FILE's directory
 * is not writable: up-<hash of FILE's absolute path>.sock in
 * $XDG_RUNTIME_DIR/devkit, else in /tmp/devkit-<uid>. `devkit up` takes the
 * first it can use, `devkit status` asks them in the same order.
 * 0, or -1 with `err` filled.
 */
int up_socket_where(const char *file, struct up_sock_where *w, char *err, size_t errsize);

/* At the first place of `w` whose private directory can be made (sock_path
 * and sock_dir say which): refuse when another `devkit up` answers there (a
 * stale socket is removed), bind (0600) and listen. 0, or CLI_EXIT_FAILURE
 * after saying why. */
int up_socket_listen(struct up_cli *u, const struct up_sock_where *w);

/* Accept what is waiting (non-blocking). */
void up_socket_accept(struct up_cli *u);

/* Read the request of client `i` when readable, answer it, close it. */
void up_socket_client(struct up_cli *u, int i, short revents);

/* Drop clients past their deadline. */
void up_socket_expire(struct up_cli *u);

/* Close every client and the listener, remove the socket and its .devkit
 * directory when empty (not a per-user directory others share). */
void up_socket_close(struct up_cli *u);

/*
 * The client side (`devkit status`): send `request` ("json" or "text") to
 * the socket at `path` and read the whole answer into a malloc'd string.
 * 0; -1 with `err` filled (no one listens, a timeout); -2 when there is no
 * socket at `path` at all.
 */
int up_socket_ask(const char *path, const char *request, int timeout_ms, char **answer,
	char *err, size_t errsize);

/* cmd_up_status.c ------------------------------------------------------------ */

/* The status's fields into the object being built (after its "event"). */
void up_status_json(struct up_cli *u, cli_json *j);

/* The "dns" object (where the stub listens, what it resolves). */
void up_json_dns(struct up_cli *u, cli_json *j);

/* The status as text lines (no timestamps), into a malloc'd string. */
char *up_status_text(struct up_cli *u);

/* Whether anything shown changed since the last call that returned 1:
 * states right away, byte counters at most every few seconds. */
int up_status_changed(struct up_cli *u);

/* Show the status now: a "status" (or `event`) JSON line, or the text block.
 * 0, or -1 when stdout is gone. */
int up_status_show(struct up_cli *u, const char *event);

/* cmd_up_report.c ------------------------------------------------------------ */

/* Every up_report_* returns 0, or -1 when stdout can no longer be written. */
int up_report_starting(struct up_cli *u);
int up_report_tunnel(struct up_cli *u);
int up_report_forward(struct up_cli *u, const struct up_forward *f, size_t index);
int up_report_routing(struct up_cli *u);
int up_report_expose(struct up_cli *u, const struct up_expose *e, size_t index);
int up_report_kubernetes(struct up_cli *u);
int up_report_replica(struct up_cli *u, const struct up_replica *r, const char *what);
int up_report_event(struct up_cli *u, const devkit_event *ev);
int up_report_closing(struct up_cli *u, int sig, const char *why);
/* "devkit run --control PATH [--cluster-domain D]... [--search S] -- CMD":
 * the flags that tell a routed program's shim what this DNS resolves, when
 * the file changed them from `devkit run`'s defaults. Returns buf. */
const char *up_run_hint(struct up_cli *u, char *buf, size_t size);

/* One teardown step: `what` ("replica", "expose", ...), `name`, and the
 * library's error (rc != 0) or 0. */
int up_report_stopped(struct up_cli *u, const char *what, const char *name, int rc,
	const char *why);
int up_report_down(struct up_cli *u, int status, int left_behind);
void up_report_error(struct up_cli *u, const char *context, int rc);
/* A message of our own as an error: "devkit: MESSAGE" and an error event. */
void up_report_failure(struct up_cli *u, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

struct up_expose *up_find_expose(struct up_cli *u, uint64_t reg_id);
struct up_replica *up_find_replica(struct up_cli *u, uint64_t id);
struct up_forward *up_find_forward(struct up_cli *u, uint64_t id);

/* cmd_up_down.c -------------------------------------------------------------- */

/* Tear down in the reverse order of bring-up whatever is up; `end` says why
 * (a signal: exit 0 when nothing was left behind). Returns the exit status. */
int up_tear_down(struct up_cli *u, enum up_end end);

/* cmd_up_loop.c -------------------------------------------------------------- */

/* One turn of the loop: wait at most timeout_ms (-1: until something
 * happens) for a signal, events, a status client or the worker, and handle
 * them. UP_GO_ON, or why to stop. */
enum up_end up_pump(struct up_cli *u, int timeout_ms);

/* Report what is queued without waiting (teardown steps). */
void up_drain(struct up_cli *u);

/* cmd_up_replica.c ----------------------------------------------------------- */

/* Open the Kubernetes client and bring each replica up in order (created,
 * then ready), pumping the loop meanwhile. UP_GO_ON, or why to stop. */
enum up_end up_replicas_start(struct up_cli *u);

/* The worker wrote to its pipe: read it; adopt a created replica (report it)
 * before any of its stage events is handled. */
void up_worker_notified(struct up_cli *u);

/* Delete the replicas we created, newest first, waiting until each is gone;
 * then free the client. How many could not be deleted. */
int up_replicas_stop(struct up_cli *u);

#endif
