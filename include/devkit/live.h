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
	/** Send every file, not only those whose type, mode, size or
	 *  modification time (seconds) differ from what the last deploy to
	 *  remote_dir left there (a manifest kept in the container,
	 *  .devkit-deploy in remote_dir). Files deleted locally are not deleted
	 *  in the container. */
	int full;
	/** Per exec step (connecting, and the step's end once its input is
	 *  sent); 0: 120 s. */
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
	uint64_t files_unchanged;  /* files left as they were (same mode, size and mtime) */
	uint64_t files_total;      /* files and symlinks under local_path (not directories) */
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
 * container (DEVKIT_EUNSUPPORTED "... replicate with keep_alive"; the files
 * were copied), a local path that cannot be read (DEVKIT_EIO), a FIFO,
 * socket or device under it (DEVKIT_EINVAL naming it: regular files,
 * directories and symlinks are copied, symlinks as symlinks). Files are
 * unpacked by tar as they arrive; a failed deploy leaves no manifest
 * behind, so the next one sends everything again. `result` may be NULL;
 * on failure it says how far the deploy got.
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
	/** How long to wait for the restarted JVM to answer the JDWP handshake
	 *  (0: 60 s), and for each step run in the container (0: 120 s). */
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
 * deploys until devkit_debug_off. Without suspend, an app already running
 * with the same agent option whose agent answers is not restarted.
 */
DEVKIT_EXTERN(int) devkit_debug_start(devkit_debug **out, devkit_k8s *k8s,
	const devkit_debug_options *opts);

/** The local port the IDE connects to. */
DEVKIT_EXTERN(int) devkit_debug_port(const devkit_debug *d);

/** Stop forwarding (the agent stays on in the app) and free. Accepts NULL.
 *  With a tunnel: before devkit_tunnel_free (the forward is the tunnel's). */
DEVKIT_EXTERN(void) devkit_debug_free(devkit_debug *d);

/** Turn the agent off again and restart the app without it (no restart
 *  when the agent was not on). */
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
	 *  unpacks to. Copied into the container once and kept there, under
	 *  R/arthas/ (R: the keep-alive's directory, else /tmp/devkit): a zip by
	 *  its SHA-256, so a later call sends nothing; a directory through
	 *  devkit_deploy, which sends only what changed. */
	const char *package;
	/** The JVM's pid in the container; 0: the JVM among the processes of the
	 *  app the keep-alive runs (the app, its descendants, its session), else
	 *  (no keep-alive, or its app not running) the only Java process. */
	int pid;
	/** The Arthas command(s) for devkit_arthas_run ("thread -n 3"; several
	 *  separated by ';'). Ignored by devkit_arthas_start. */
	const char *command;
	/** java in the container (a path, or a name looked up on PATH); NULL:
	 *  $JAVA_HOME/bin/java, else java on PATH, else the JVM's own
	 *  executable. */
	const char *java;
	/** For the whole call (copy, attach, command); 0: 120 s. For
	 *  devkit_arthas_start, until the console runs. */
	unsigned int timeout_ms;
} devkit_arthas_options;

#define DEVKIT_ARTHAS_OPTIONS_VERSION 1
#define DEVKIT_ARTHAS_OPTIONS_INIT { DEVKIT_ARTHAS_OPTIONS_VERSION, NULL, NULL, NULL, NULL, 0, \
	NULL, NULL, 0 }

DEVKIT_EXTERN(int) devkit_arthas_options_init(devkit_arthas_options *opts, unsigned int version);

/**
 * Copy Arthas in if needed, attach to the JVM (arthas-boot with the copy as
 * its home: nothing is downloaded) and run `command`, putting the output in
 * `out` and Arthas's exit code in *exit_code (may be NULL). The output is
 * the console's from the first prompt on ("[arthas@42]$ thread -n 3" then
 * what it printed), with \n line ends; when Arthas could not attach it is
 * everything arthas-boot said. Returns 0 when Arthas ran, whatever its exit
 * code (a command Arthas does not know is exit 0 with "... command not
 * found" in the output). Arthas stays attached afterwards, listening on
 * 127.0.0.1 in the Pod (telnet port 3658 or the next free one, no HTTP
 * port), so the next call connects without attaching again; the command
 * `stop` detaches it. A command that does not end by itself (`watch`,
 * `trace` without -n) runs until timeout_ms: DEVKIT_ETIMEOUT.
 * Errors: no package, or a zip that is not Arthas's (DEVKIT_EINVAL); no
 * JVM (DEVKIT_ENOTFOUND) or several (DEVKIT_EINVAL), naming the
 * candidates; no java in the container, or nothing there to unpack a zip
 * (DEVKIT_EUNSUPPORTED: pass the unpacked directory); no free port
 * (DEVKIT_EEXISTS).
 */
DEVKIT_EXTERN(int) devkit_arthas_run(devkit_k8s *k8s, const devkit_arthas_options *opts,
	devkit_buf *out, int *exit_code);

/**
 * The interactive form: the same set-up, then Arthas's console on a
 * terminal in the container (an exec session with tty and stdin, exec.h)
 * that the caller relays to the user's terminal (devkit_exec_resize for its
 * size). `quit` ends the console and leaves Arthas attached; `stop`
 * detaches it too. Errors as devkit_arthas_run's.
 */
DEVKIT_EXTERN(int) devkit_arthas_start(devkit_exec **out, devkit_k8s *k8s,
	const devkit_arthas_options *opts);

/* --- audited shell --------------------------------------------------------------- */

/*
 * An interactive shell in a container (an exec session with a terminal)
 * whose every command is recorded: the shell is set up to report each
 * command line and its exit status through escape sequences in its output,
 * which devkit_shell_read removes before the caller sees the output.
 * devkit_shell_write and devkit_shell_resize may be called from another
 * thread while one thread waits in devkit_shell_read (a terminal relay);
 * otherwise one thread at a time. See docs/live.md, "Audited shell".
 */
typedef struct devkit_shell devkit_shell;

typedef struct devkit_shell_options {
	unsigned int version;
	/** NULL: the client's namespace. */
	const char *namespace_name;
	const char *pod;
	/** NULL: the Pod's default container. */
	const char *container;
	/** The shell in the container: "bash", "sh", or a name or path of
	 *  another (a program named bash is set up as bash, any other as a
	 *  POSIX sh that reads $ENV and expands $? in PS1: dash, busybox ash).
	 *  NULL: bash when the container has it (`command -v bash`), else sh. */
	const char *shell;
	/** Append one JSON line per command to this file on the laptop (opened
	 *  O_APPEND, created 0600, each line written whole as the command ends):
	 *  {"time","end_time","user","namespace","pod","container","command",
	 *  "exit_status"} -- times in RFC 3339 UTC with milliseconds ("time":
	 *  when the line was submitted), "container" the one the API server
	 *  picked when none was named (null if it could not be read). A command
	 *  still running when the session ends has "end_time" and
	 *  "exit_status" null. NULL: no file. */
	const char *audit_log;
	/** Also record each command as a core/v1 Event on the Pod (reason
	 *  DevkitShellCommand, type Normal, source devkit-shell, message
	 *  "USER ran: COMMAND (exit N)" up to 1 KiB). Sent without holding up
	 *  the terminal; a refusal (RBAC) or another failure is logged (WARN
	 *  once, then DEBUG), never fatal. */
	int audit_events;
	/** Who, for the audit; NULL: the local login name (getpwuid). */
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
 * Start the shell on a terminal and return once it shows its first prompt
 * set up for the audit (what it printed before is there for the first
 * read). The command line of each command comes from the shell itself
 * (bash's history, so edited and recalled lines are recorded as run) or,
 * for a plain sh, from the line typed at its prompt (and its continuation
 * prompts); the exit status from the next prompt. What is typed while a
 * command runs is never looked at -- which, for a plain sh, includes the
 * lines after the first of a multi-line paste: sh runs them, the audit
 * does not see them (bash records each, from its history). Use bash where
 * the record must be complete. The user's start-up files (~/.bashrc,
 * $ENV) are still read; bash's history file is read for recall but not
 * written.
 *
 * Errors: audit_log cannot be opened (DEVKIT_EIO naming it; nothing runs
 * unaudited), no such Pod (DEVKIT_ENOTFOUND), no such shell in the
 * container (DEVKIT_EUNSUPPORTED with the container's words, exit status
 * 127), no audited prompt within 60 s (DEVKIT_ETIMEOUT: a start-up file
 * that keeps the shell from reporting), a shell option that is not a
 * program name or path (DEVKIT_EINVAL), and the errors of exec.h.
 */
DEVKIT_EXTERN(int) devkit_shell_start(devkit_shell **out, devkit_k8s *k8s,
	const devkit_shell_options *opts);

/** The user's keystrokes (Enter is CR, as a terminal sends it), as
 *  devkit_exec_write. */
DEVKIT_EXTERN(int) devkit_shell_write(devkit_shell *s, const void *data, size_t len);

/** Output for the user's terminal (the audit's escape sequences removed),
 *  as devkit_exec_read: the number of bytes put in a new `out`, 0 once the
 *  shell has ended and everything was read, DEVKIT_ETIMEOUT when nothing
 *  came in timeout_ms (-1: no limit). */
DEVKIT_EXTERN(int) devkit_shell_read(devkit_shell *s, devkit_buf *out, int timeout_ms);

/** Set the terminal's size (the shell gets SIGWINCH). */
DEVKIT_EXTERN(int) devkit_shell_resize(devkit_shell *s, int cols, int rows);

/** Wait for the shell to end and give its exit code, as devkit_exec_wait
 *  (read the output first). The command that ended the shell (`exit 3`)
 *  is recorded with that code. */
DEVKIT_EXTERN(int) devkit_shell_wait(devkit_shell *s, int timeout_ms, int *exit_code);

/** Commands recorded so far (one line each in audit_log). Any thread. */
DEVKIT_EXTERN(uint64_t) devkit_shell_commands(const devkit_shell *s);

/** Close and free: a command still running is recorded with exit_status
 *  null, Events still being sent are waited for (up to 10 s), the shell
 *  goes away with the session. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_shell_free(devkit_shell *s);

#ifdef __cplusplus
}
#endif
#endif
