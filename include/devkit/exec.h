/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Kubernetes streaming: run a command in a container (exec), attach to its
 * main process (attach), and forward a local port to a Pod port
 * (port-forward), over WebSocket to the API server with the client's
 * credentials (devkit_k8s_open). See docs/k8s.md, "Streaming".
 *
 * exec/attach speak v5.channel.k8s.io (Kubernetes 1.29+, which can
 * half-close stdin) and fall back to v4.channel.k8s.io when the server
 * picks it. Everything runs on the engine's loop; these functions are
 * thread-safe as the rest of the library, but one session should be read
 * by one thread at a time.
 *
 * Ownership: what comes back through **out is the caller's, freed with
 * devkit_exec_free / devkit_pod_forward_free (both accept NULL, and work
 * after devkit_ctx_free too); free them before their devkit_k8s client.
 * Input strings are copied; output bytes come in a devkit_buf the caller
 * releases with devkit_buf_dispose.
 */
#ifndef DEVKIT_EXEC_H
#define DEVKIT_EXEC_H

#include "k8s.h"
#include "tunnel.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct devkit_exec devkit_exec;

/** Streams as devkit_exec_read reports them. */
#define DEVKIT_EXEC_STDOUT 1
#define DEVKIT_EXEC_STDERR 2

typedef struct devkit_exec_options {
	unsigned int version;
	/** NULL: the client's namespace (devkit_k8s_namespace). */
	const char *namespace_name;
	const char *pod;
	/** NULL: the Pod's default container (a Pod with one container needs none). */
	const char *container;
	/** Run as `sh -c COMMAND` (the container needs a shell). Ignored with
	 *  argv_json or attach. */
	const char *command;
	/** The command as a JSON array of strings, run as is (no shell):
	 *  "[\"ls\", \"-l\", \"/tmp\"]". */
	const char *argv_json;
	/** Send stdin (devkit_exec_write); otherwise the command's stdin is closed. */
	int stdin_enabled;
	/** A terminal: stdout and stderr arrive together on stdout, and
	 *  devkit_exec_resize sets its size. */
	int tty;
	/** Attach to the container's running process instead of starting a
	 *  command (its stdin needs `stdin: true` in the Pod spec). */
	int attach;
	/** Connect and WebSocket handshake; 0: the client's request timeout. */
	unsigned int timeout_ms;
} devkit_exec_options;

#define DEVKIT_EXEC_OPTIONS_VERSION 1
#define DEVKIT_EXEC_OPTIONS_INIT { DEVKIT_EXEC_OPTIONS_VERSION, NULL, NULL, NULL, NULL, NULL, 0, 0, 0, 0 }

DEVKIT_EXTERN(int) devkit_exec_options_init(devkit_exec_options *opts, unsigned int version);

/**
 * Start the command and return once the server accepted the WebSocket (the
 * command runs). Errors carry the server's words: a missing Pod is
 * DEVKIT_ENOTFOUND "... pods \"web-1\" not found"; 403 DEVKIT_EFORBIDDEN.
 */
DEVKIT_EXTERN(int) devkit_exec_start(devkit_exec **out, devkit_k8s *k8s,
	const devkit_exec_options *opts);

/**
 * Send bytes to the command's stdin. Blocks while about 1 MiB is still
 * waiting to be sent (the command is not reading), so memory stays bounded.
 * 0, or DEVKIT_EINVAL without stdin_enabled, or the session's error.
 */
DEVKIT_EXTERN(int) devkit_exec_write(devkit_exec *e, const void *data, size_t len);

/**
 * End of stdin (the command reads EOF) once what was written is sent.
 * Needs v5.channel.k8s.io: DEVKIT_EUNSUPPORTED when the server speaks v4
 * (Kubernetes before 1.29 has no way to half-close stdin over WebSocket).
 */
DEVKIT_EXTERN(int) devkit_exec_close_stdin(devkit_exec *e);

/**
 * Take output: waits up to timeout_ms (-1: no limit, 0: do not wait) and
 * returns the number of bytes put in `out` (a new buffer, one stream's
 * bytes in the order they came; *stream is DEVKIT_EXEC_STDOUT or
 * DEVKIT_EXEC_STDERR), 0 once both streams have ended and everything was
 * read, DEVKIT_ETIMEOUT when nothing came in time, or the error that ended
 * the session (after the bytes that came before it). While about 1 MiB
 * waits unread, no more is read from the server: the command blocks.
 */
DEVKIT_EXTERN(int) devkit_exec_read(devkit_exec *e, int *stream, devkit_buf *out,
	int timeout_ms);

/** Set the terminal's size (tty only). */
DEVKIT_EXTERN(int) devkit_exec_resize(devkit_exec *e, int cols, int rows);

/**
 * Wait for the command to end (timeout_ms -1: no limit) and give its exit
 * code: 0 for Success, N for "command terminated with non-zero exit code"
 * (NonZeroExitCode), returning 0. Another failure the server reports (the
 * executable is missing, the container is gone) is an error with the
 * server's message; DEVKIT_ETIMEOUT if it has not ended in time. Does not
 * read output: read it first (a command blocked on unread output never
 * ends), or use devkit_exec_run.
 */
DEVKIT_EXTERN(int) devkit_exec_wait(devkit_exec *e, int timeout_ms, int *exit_code);

/** The subprotocol the server chose: "v5.channel.k8s.io" or
 *  "v4.channel.k8s.io". Borrowed, valid until devkit_exec_free. */
DEVKIT_EXTERN(const char *) devkit_exec_protocol(const devkit_exec *e);

/** Close the session (the command's stdin and output go away; the server
 *  decides what happens to the command) and free it. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_exec_free(devkit_exec *e);

/**
 * The one-call form: run, send stdin_data (NULL: no stdin) and close stdin,
 * collect stdout into `out` and stderr into `err` (either may be NULL to
 * discard it), and give the exit code. Returns 0 when the command ran to
 * its end, whatever its exit code. Output is held in memory.
 */
DEVKIT_EXTERN(int) devkit_exec_run(devkit_k8s *k8s, const devkit_exec_options *opts,
	const char *stdin_data, size_t stdin_len, devkit_buf *out, devkit_buf *err,
	int *exit_code);

/* --- port-forward ----------------------------------------------------------------- */

typedef struct devkit_pod_forward devkit_pod_forward;

/**
 * Listen on bind_address:bind_port (NULL: "127.0.0.1"; port 0: any free
 * one, see devkit_pod_forward_port) and forward each accepted connection to
 * pod_port of the Pod, over its own port-forward WebSocket
 * (v4.channel.k8s.io). Bytes go both ways; when either side closes, the
 * other is closed once what was in flight is delivered. A connection the
 * Pod refuses is closed (the reason goes to the log). namespace_name NULL:
 * the client's. Returns once listening.
 */
DEVKIT_EXTERN(int) devkit_pod_forward_start(devkit_pod_forward **out, devkit_k8s *k8s,
	const char *namespace_name, const char *pod, int pod_port, const char *bind_address,
	int bind_port);

/**
 * The same through a bastion tunnel that reaches the Pod network, instead of
 * the API server: reads the Pod's IP (status.podIP; a Pod without one yet is
 * DEVKIT_ENOTFOUND "... has no IP yet") and adds a LOCAL forward on `tunnel`
 * from bind_address:bind_port to PodIP:pod_port (direct-tcpip from the
 * bastion). No API server load and no `pods/portforward` rights needed, and
 * half-close works; but the IP is read once: a replaced Pod needs a new
 * forward. devkit_pod_forward_port and devkit_pod_forward_free work on it.
 * Free it before the tunnel.
 */
DEVKIT_EXTERN(int) devkit_pod_forward_start_tunnel(devkit_pod_forward **out, devkit_k8s *k8s,
	devkit_tunnel *tunnel, const char *namespace_name, const char *pod, int pod_port,
	const char *bind_address, int bind_port);

/** The local port (useful with bind_port 0). */
DEVKIT_EXTERN(int) devkit_pod_forward_port(const devkit_pod_forward *f);

/** Stop listening and close every forwarded connection. Accepts NULL. */
DEVKIT_EXTERN(void) devkit_pod_forward_free(devkit_pod_forward *f);

#ifdef __cplusplus
}
#endif
#endif
