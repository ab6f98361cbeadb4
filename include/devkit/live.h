/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The live inner loop on a replica (docs/live.md): put a new build in,
 * restart the app without restarting the Pod, attach the IDE's debugger,
 * look inside the JVM with Arthas, and work in an audited shell.
 *
 *   devkit_deploy()        copy a local file or directory into a container
 *                          (tar over exec, written here: no tar on the
 *                          laptop) and restart the app under the replica's
 *                          keep-alive; later deploys send only what changed
 *   devkit_app_control()   start / stop / restart / status of that app
 *   devkit_debug_start()   restart the app with JDWP and forward it to a
 *                          local port (through the API server, or through a
 *                          bastion tunnel to the Pod IP)
 *   devkit_arthas_run()    copy Arthas in (once), attach to the JVM, run a
 *                          command, return its output; devkit_arthas_start
 *                          for an interactive session
 *   devkit_shell_start()   an interactive shell whose every command line,
 *                          time, user, Pod and exit status go to an audit log
 *
 * Everything runs over the exec and port-forward streams of exec.h, so what
 * it needs in the container is what `kubectl cp` needs: /bin/sh and tar.
 * The app control works with replicas made with keep_alive (replica.h),
 * whose supervisor installs ${DEVKIT_DIR:-/devkit}/bin/devkit-app.
 *
 * All calls block the calling thread (the work runs on the engine loop) and
 * are thread-safe; one session (devkit_shell, devkit_debug) is used by one
 * thread at a time. Handles from **out are the caller's, freed with their
 * _free (accepts NULL, works after devkit_ctx_free) before their devkit_k8s.
 * Input strings are copied.
 */
#ifndef DEVKIT_LIVE_H
#define DEVKIT_LIVE_H

#include "exec.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

/* --- deploy ---------------------------------------------------------------------- */

/** Progress of a deploy: stage is "scan", "compare", "send", "restart";
 *  done/total count bytes for "send", files otherwise. Called on the
 *  calling thread. */
typedef void (*devkit_deploy_progress_cb)(void *user, const char *stage, uint64_t done,
	uint64_t total);

typedef struct devkit_deploy_options {
	unsigned int version;
	/** NULL: the client's namespace. */
	const char *namespace_name;
	const char *pod;
	/** NULL: the Pod's default container. */
	const char *container;
	/** A local file or directory. A file lands as remote_dir/NAME; a
	 *  directory's contents land under remote_dir (as `rsync dir/ remote_dir`).
	 *  NULL: copy nothing (restart only). */
	const char *local_path;
	/** The directory in the container (created if missing). Required with
	 *  local_path. */
	const char *remote_dir;
	/** Restart the app under the keep-alive once copied (devkit-app restart);
	 *  the container and the Pod keep running. */
	int restart;
	/** Send every file, not only those whose size or modification time
	 *  differ from what the last deploy to remote_dir left there (a manifest
	 *  kept in the container, .devkit-deploy in remote_dir). */
	int full;
	/** Per exec step; 0: 120 s. */
	unsigned int timeout_ms;
	devkit_deploy_progress_cb progress;
	void *progress_user;
} devkit_deploy_options;

#define DEVKIT_DEPLOY_OPTIONS_VERSION 1
#define DEVKIT_DEPLOY_OPTIONS_INIT { DEVKIT_DEPLOY_OPTIONS_VERSION, NULL, NULL, NULL, NULL, \
	NULL, 1, 0, 0, NULL, NULL }

DEVKIT_EXTERN(int) devkit_deploy_options_init(devkit_deploy_options *opts, unsigned int version);

typedef struct devkit_deploy_result {
	unsigned int version;
	uint64_t files_sent;       /* files copied in this deploy */
	uint64_t files_unchanged;  /* files left as they were (same size and mtime) */
	uint64_t files_total;      /* files under local_path */
	uint64_t bytes_sent;       /* file bytes copied (not counting tar headers) */
	uint64_t duration_ms;      /* the whole call */
	int restarted;             /* 1 when the app was restarted */
	/** devkit-app's answer after the restart ("running pid 42 since ..."). */
	char app_state[160];
} devkit_deploy_result;

#define DEVKIT_DEPLOY_RESULT_VERSION 1
#define DEVKIT_DEPLOY_RESULT_INIT { DEVKIT_DEPLOY_RESULT_VERSION, 0, 0, 0, 0, 0, 0, { 0 } }

/**
 * Copy and restart. Errors say which step failed and carry the container's
 * words: no tar in the image (DEVKIT_EUNSUPPORTED), a read-only or missing
 * remote_dir (DEVKIT_EIO with tar's message), no keep-alive in the
 * container (DEVKIT_EUNSUPPORTED "... replicate with keep_alive"), a local
 * path that cannot be read (DEVKIT_EIO). Files are unpacked by tar as they
 * arrive; a failed deploy leaves no manifest behind, so the next one sends
 * everything again. `result` may be NULL.
 */
DEVKIT_EXTERN(int) devkit_deploy(devkit_k8s *k8s, const devkit_deploy_options *opts,
	devkit_deploy_result *result);

typedef enum devkit_app_action {
	DEVKIT_APP_STATUS = 0,
	DEVKIT_APP_START = 1,
	DEVKIT_APP_STOP = 2,
	DEVKIT_APP_RESTART = 3
} devkit_app_action;

/**
 * Run devkit-app ACTION in the container and put its answer in `state` (may
 * be NULL): "running pid 42 since 2026-11-25T10:00:00Z", "stopped since
 * ... (exit status 143)", "exited since ... (exit status 1)". Returns 0 when
 * the action was done (for STATUS: whatever the state),
 * DEVKIT_EUNSUPPORTED when the container has no keep-alive.
 */
DEVKIT_EXTERN(int) devkit_app_control(devkit_k8s *k8s, const char *namespace_name,
	const char *pod, const char *container, int action, devkit_buf *state);

/* --- debug ----------------------------------------------------------------------- */

typedef struct devkit_debug devkit_debug;

typedef struct devkit_debug_options {
	unsigned int version;
	const char *namespace_name;
	const char *pod;
	const char *container;
	/** JDWP's port in the container; 0: 5005. */
	int port;
	/** The JVM waits for the debugger before running main (suspend=y). */
	int suspend;
	/** Where the IDE connects: bind_address (NULL: "127.0.0.1") and
	 *  local_port (0: the same as port; -1: any free one). */
	const char *bind_address;
	int local_port;
	/** Non-NULL: forward through this bastion tunnel to the Pod's IP
	 *  (direct-tcpip) instead of the API server's port-forward. */
	devkit_tunnel *tunnel;
	/** The JVM option to add instead of JDWP's default
	 *  "-agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:PORT". */
	const char *agent_option;
	/** How long to wait for the restarted JVM to answer the JDWP handshake;
	 *  0: 60 s. */
	unsigned int timeout_ms;
} devkit_debug_options;

#define DEVKIT_DEBUG_OPTIONS_VERSION 1
#define DEVKIT_DEBUG_OPTIONS_INIT { DEVKIT_DEBUG_OPTIONS_VERSION, NULL, NULL, NULL, 0, 0, NULL, \
	0, NULL, NULL, 0 }

DEVKIT_EXTERN(int) devkit_debug_options_init(devkit_debug_options *opts, unsigned int version);

/**
 * Turn the debug agent on for the app (JAVA_TOOL_OPTIONS in the keep-alive's
 * app environment, ${DEVKIT_DIR:-/devkit}/app.env), restart it, start the
 * local forward and return once the JVM answered the JDWP handshake through
 * it (with suspend: once the port listens). The agent stays on across later
 * deploys until devkit_debug_off.
 */
DEVKIT_EXTERN(int) devkit_debug_start(devkit_debug **out, devkit_k8s *k8s,
	const devkit_debug_options *opts);

/** The local port the IDE connects to. */
DEVKIT_EXTERN(int) devkit_debug_port(const devkit_debug *d);

/** Stop forwarding (the agent stays on in the app) and free. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_debug_free(devkit_debug *d);

/** Turn the agent off again and restart the app without it. */
DEVKIT_EXTERN(int) devkit_debug_off(devkit_k8s *k8s, const char *namespace_name,
	const char *pod, const char *container);

/* --- Arthas ---------------------------------------------------------------------- */

typedef struct devkit_arthas_options {
	unsigned int version;
	const char *namespace_name;
	const char *pod;
	const char *container;
	/** Arthas on the laptop: the arthas-bin.zip from the Arthas releases (or
	 *  Maven Central's arthas-packaging-VERSION-bin.zip), or the directory it
	 *  unpacks to. Copied into the container once (kept by version). */
	const char *package;
	/** The JVM's pid in the container; 0: the app the keep-alive runs, else
	 *  the only Java process. */
	int pid;
	/** The Arthas command(s) for devkit_arthas_run ("thread -n 3"; several
	 *  separated by ';'). Ignored by devkit_arthas_start. */
	const char *command;
	/** java in the container; NULL: $JAVA_HOME/bin/java, else java on PATH. */
	const char *java;
	/** For the whole call; 0: 120 s. */
	unsigned int timeout_ms;
} devkit_arthas_options;

#define DEVKIT_ARTHAS_OPTIONS_VERSION 1
#define DEVKIT_ARTHAS_OPTIONS_INIT { DEVKIT_ARTHAS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, \
	NULL, NULL, 0 }

DEVKIT_EXTERN(int) devkit_arthas_options_init(devkit_arthas_options *opts, unsigned int version);

/**
 * Copy Arthas in if needed, attach to the JVM and run `command`, putting
 * the output in `out` and Arthas's exit code in *exit_code (may be NULL).
 * Errors: no package (DEVKIT_EINVAL), no JVM found or several
 * (DEVKIT_ENOTFOUND / DEVKIT_EINVAL, naming the candidates), no java in the
 * container (DEVKIT_EUNSUPPORTED).
 */
DEVKIT_EXTERN(int) devkit_arthas_run(devkit_k8s *k8s, const devkit_arthas_options *opts,
	devkit_buf *out, int *exit_code);

/**
 * The interactive form: Arthas's console on a terminal (an exec session
 * with tty and stdin, exec.h); the caller relays the user's terminal.
 */
DEVKIT_EXTERN(int) devkit_arthas_start(devkit_exec **out, devkit_k8s *k8s,
	const devkit_arthas_options *opts);

/* --- audited shell --------------------------------------------------------------- */

typedef struct devkit_shell devkit_shell;

typedef struct devkit_shell_options {
	unsigned int version;
	const char *namespace_name;
	const char *pod;
	const char *container;
	/** The shell in the container; NULL: bash when it has one, else sh. */
	const char *shell;
	/** Append one JSON line per command to this file on the laptop (created
	 *  0600): {"time","end_time","user","namespace","pod","container",
	 *  "command","exit_status"}. NULL: no file. */
	const char *audit_log;
	/** Also record each command as a core/v1 Event on the Pod (reason
	 *  DevkitShellCommand); a refusal (RBAC) is logged, not fatal. */
	int audit_events;
	/** Who, for the audit; NULL: the local user name. */
	const char *user;
	/** The terminal's size at start; 0: 80x24. */
	int cols;
	int rows;
} devkit_shell_options;

#define DEVKIT_SHELL_OPTIONS_VERSION 1
#define DEVKIT_SHELL_OPTIONS_INIT { DEVKIT_SHELL_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, \
	0, NULL, 0, 0 }

DEVKIT_EXTERN(int) devkit_shell_options_init(devkit_shell_options *opts, unsigned int version);

/**
 * Start the shell on a terminal. The command line of each command comes
 * from the shell itself (bash's history, so editing and recalled lines are
 * recorded as run) or, for a plain sh, from the line typed at its prompt;
 * the exit status from the next prompt. Fails if audit_log cannot be
 * opened: nothing runs unaudited.
 */
DEVKIT_EXTERN(int) devkit_shell_start(devkit_shell **out, devkit_k8s *k8s,
	const devkit_shell_options *opts);

/** The user's keystrokes, as devkit_exec_write. */
DEVKIT_EXTERN(int) devkit_shell_write(devkit_shell *s, const void *data, size_t len);

/** Output for the user's terminal (the audit's markers removed), as
 *  devkit_exec_read: bytes, 0 at the end, DEVKIT_ETIMEOUT. */
DEVKIT_EXTERN(int) devkit_shell_read(devkit_shell *s, devkit_buf *out, int timeout_ms);

DEVKIT_EXTERN(int) devkit_shell_resize(devkit_shell *s, int cols, int rows);

/** Wait for the shell to end and give its exit code (devkit_exec_wait). */
DEVKIT_EXTERN(int) devkit_shell_wait(devkit_shell *s, int timeout_ms, int *exit_code);

/** Commands recorded so far. */
DEVKIT_EXTERN(uint64_t) devkit_shell_commands(const devkit_shell *s);

/** Close and free (a command line typed but not finished is recorded with
 *  exit_status null). Accepts NULL. */
DEVKIT_EXTERN(void) devkit_shell_free(devkit_shell *s);

#ifdef __cplusplus
}
#endif
#endif
