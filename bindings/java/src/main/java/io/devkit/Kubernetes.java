// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Kubernetes API client for one cluster, configured as kubectl is
 * (kubeconfig, context, namespace; or the in-cluster service account), and
 * the Pod replicas made with it. Thread-safe; close it with try-with-resources.
 *
 * <pre>{@code
 * try (Context ctx = new Context();
 *      Kubernetes k8s = Kubernetes.open(ctx, KubernetesOptions.builder().namespace("team-a").build());
 *      Replica r = k8s.replicate(ReplicaOptions.builder().deployment("orders").keepAlive(true).build())) {
 *     r.awaitReady(Duration.ofMinutes(2));
 *     r.delete(Duration.ofMinutes(1));
 * }
 * }</pre>
 *
 * <p>The API server's answers become exceptions carrying the server's message:
 * 401 {@link AuthException}, 403 {@link ForbiddenException}, 404
 * {@link NotFoundException}, 409 {@link ExistsException}, 400/422
 * {@link InvalidArgumentException}, 5xx/429 {@link IoException} (after the
 * retries), a body that is not JSON {@link ProtocolException}.
 *
 * <p>It also streams to and from containers ({@link #exec}, {@link #execRun},
 * {@link #portForward}) and drives the live workflow on a replica made with
 * keep-alive ({@link #appControl}, {@link #deploy}, {@link #debug},
 * {@link #arthasRun}, {@link #shell}, {@link #capture}).
 *
 * <p>As in C, a client lives until it or its context is closed (the context
 * closes it first), and its {@link Replica} handles and streams (logs, exec
 * sessions, forwards, ...) until they or the client are closed. Closing frees
 * handles only: it never deletes a replica.
 */
public final class Kubernetes implements AutoCloseable {
    private final Context ctx;         // keeps the context alive
    private final Context ownedCtx;    // non-null when this client made its context
    final Lifetime life;
    private final String namespace;
    private final String server;
    private final String contextName;
    /** As in C, a replica handle lives until it or its client is closed: hold it. */
    final Set<Replica> replicas = ConcurrentHashMap.newKeySet();
    /**
     * Logs, event watches (devkit/diag.h), exec sessions and port-forwards
     * (exec.h), debug forwards, shells (live.h), captures: they too live until
     * they or the client close.
     */
    final Set<AutoCloseable> streams = ConcurrentHashMap.newKeySet();
    private final Cleaner.Cleanable cleanable;

    private Kubernetes(Context ctx, Context ownedCtx, long ptr) {
        this.ctx = ctx;
        this.ownedCtx = ownedCtx;
        // Borrowed strings, constant for the client's life: copied now.
        this.namespace = DevkitC.devkit_k8s_namespace(ptr);
        this.server = DevkitC.devkit_k8s_server(ptr);
        this.contextName = DevkitC.devkit_k8s_context_name(ptr);
        // Called while the context is entered, so its close() frees this client first.
        this.life = new Lifetime("Kubernetes client", ptr, DevkitC::devkit_k8s_free, ctx.life, false);
        ctx.k8sClients.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /**
     * Read the kubeconfig and make a client on {@code ctx}. No request is made yet.
     *
     * @throws NotFoundException for a kubeconfig or context that does not exist
     * @throws InvalidArgumentException for a kubeconfig with a bad or missing field
     *         (the message names the file and the field)
     */
    public static Kubernetes open(Context ctx, KubernetesOptions options) {
        return open(ctx, null, options);
    }

    /** {@link #open(Context, KubernetesOptions)} on a context of its own, closed with it. */
    public static Kubernetes open(KubernetesOptions options) {
        Context own = new Context();
        try {
            return open(own, own, options);
        } catch (RuntimeException | Error e) {
            own.close();
            throw e;
        }
    }

    private static Kubernetes open(Context ctx, Context owned, KubernetesOptions options) {
        devkit_k8s_options native_ = options.toNative();
        try {
            long ctxPtr = ctx.life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_k8s_open(out, ctxPtr, native_);
                return new Kubernetes(ctx, owned, out[0]);
            } finally {
                ctx.life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    public Context context() {
        return ctx;
    }

    /** The namespace requests and replicas use by default. */
    public String namespace() {
        return namespace;
    }

    /** The API server's URL. */
    public String server() {
        return server;
    }

    /** The kubeconfig context in use ("" in-cluster). */
    public String contextName() {
        return contextName;
    }

    /**
     * One REST call: {@code method} ("GET", "POST", "PUT", "PATCH", "DELETE"),
     * {@code path} ("/api/v1/namespaces/dev/pods/web-1", with any query), a JSON
     * {@code body} or null (PATCH bodies are JSON merge patches). Returns the
     * answer's body as text.
     */
    public String request(String method, String path, String body) {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_k8s_request(ptr, method.toUpperCase(java.util.Locale.ROOT), path, body, out);
        } finally {
            life.leave();
        }
        return Utf8.decode(out[0]);
    }

    /**
     * {@link #request} with the answer parsed: objects are {@code Map}s, arrays
     * {@code List}s, numbers {@code Long}.
     */
    public Map<String, Object> requestJson(String method, String path, String body) {
        return Json.parseObject(request(method, path, body));
    }

    // -- diagnostics (devkit/diag.h, docs/diagnostics.md) -------------------------

    /**
     * The events of Pod {@code pod} and of its owners: {@code {namespace, pod,
     * objects: [{kind, name, uid}], events: [{time, type, reason, message, count,
     * stage, object: {kind, name}, container, source}] (oldest first), stages:
     * [{stage: "scheduling", events: [...]}, ...]}} (the same events grouped by
     * stage, in the order of a Pod's life).
     *
     * @param namespace null: the client's
     * @throws NotFoundException for a Pod that does not exist
     */
    public Map<String, Object> events(String namespace, String pod) {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_diag_events(ptr, namespace, pod, out);
        } finally {
            life.leave();
        }
        return Json.parseObject(Utf8.decode(out[0]));
    }

    /** {@link #events(String, String)} in the client's namespace. */
    public Map<String, Object> events(String pod) {
        return events(null, pod);
    }

    /**
     * Watch the events of Pod {@code pod} and its owners as they are recorded
     * (those that exist first). Returns once the Pod was read.
     *
     * @param namespace null: the client's
     * @throws NotFoundException for a Pod that does not exist
     */
    public EventWatch watchEvents(String namespace, String pod) {
        long ptr = life.enter();
        try {
            long[] out = new long[1];
            DevkitC.devkit_diag_events_watch(out, ptr, namespace, pod);
            return new EventWatch(this, out[0], namespace, pod);
        } finally {
            life.leave();
        }
    }

    /** {@link #watchEvents(String, String)} in the client's namespace. */
    public EventWatch watchEvents(String pod) {
        return watchEvents(null, pod);
    }

    /**
     * A container's log, as {@code kubectl logs} reads it (with {@code follow}:
     * resumed across reconnects without losing or repeating a line).
     *
     * @throws NotFoundException for a Pod that does not exist; errors of the log
     *         request itself are thrown by the reading
     */
    public Logs logs(LogsOptions options) {
        devkit_logs_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_logs_start(out, ptr, native_);
                return new Logs(this, out[0], options);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /** The whole log of the default container of Pod {@code pod} in the client's namespace. */
    public Logs logs(String pod) {
        return logs(LogsOptions.builder(pod).build());
    }

    /**
     * Why Pod {@code pod} is where it is: the findings (id, stage, explanation,
     * fix, evidence, the crashed instance's last lines) as JSON and in plain words.
     * A Pod that runs fine has no findings.
     *
     * @param namespace null: the client's
     * @throws NotFoundException for a Pod that does not exist
     */
    public Report diagnose(String namespace, String pod) {
        byte[][] json = new byte[1][];
        byte[][] text = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_diag_report(ptr, namespace, pod, json, text);
        } finally {
            life.leave();
        }
        return new Report(Collections.unmodifiableMap(Json.parseObject(Utf8.decode(json[0]))),
            Utf8.decode(text[0]));
    }

    /** {@link #diagnose(String, String)} in the client's namespace. */
    public Report diagnose(String pod) {
        return diagnose(null, pod);
    }

    // -- exec, attach, port-forward (devkit/exec.h, docs/k8s.md "Streaming") ---

    /**
     * Start a command in a container (or attach to its main process) and return
     * once the server accepted the WebSocket: the command runs.
     *
     * @throws NotFoundException for a Pod that does not exist (the server's
     *         {@code pods "web-1" not found})
     * @throws ForbiddenException without the {@code pods/exec} right
     * @throws InvalidArgumentException for a container that does not run or
     *         does not exist, with the server's words
     */
    public ExecSession exec(ExecOptions options) {
        devkit_exec_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_exec_start(out, ptr, native_);
                return new ExecSession(this, out[0], execWhat(options), options.stdin(), options.tty());
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    private String execWhat(ExecOptions o) {
        return (o.attach() ? "attach to " : "exec in ") + (o.namespace() != null ? o.namespace() : namespace)
            + "/" + o.pod() + (o.container() != null ? " (" + o.container() + ")" : "");
    }

    /**
     * Run a command to its end: send {@code stdin} (null: none) and close it,
     * collect stdout and stderr (held in memory), give the exit code. Returns
     * whatever the exit code; a command that could not run at all (the
     * executable is missing, the container is gone) throws with the server's
     * message.
     *
     * @throws UnsupportedException with stdin when the server cannot half-close
     *         it (v4.channel.k8s.io, Kubernetes before 1.29)
     */
    public ExecResult execRun(ExecOptions options, byte[] stdin) {
        devkit_exec_options native_ = options.toNative();
        byte[][] out = new byte[1][];
        byte[][] err = new byte[1][];
        int[] code = new int[1];
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_exec_run(ptr, native_, stdin, out, err, code);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
        return new ExecResult(code[0], out[0], err[0]);
    }

    /** {@link #execRun(ExecOptions, byte[])} without stdin. */
    public ExecResult execRun(ExecOptions options) {
        return execRun(options, null);
    }

    /** {@code sh -c command} in the default container of Pod {@code pod}, to its end. */
    public ExecResult execRun(String pod, String command) {
        return execRun(ExecOptions.builder(pod).command(command).build(), null);
    }

    /**
     * Forward {@code bindAddress:localPort} to port {@code podPort} of Pod
     * {@code pod} through the API server, as {@code kubectl port-forward} does.
     * Returns once listening.
     *
     * @param namespace null: the client's
     * @param bindAddress null: "127.0.0.1"
     * @param localPort 0: any free port ({@link PodForward#port()})
     */
    public PodForward portForward(String namespace, String pod, int podPort, String bindAddress, int localPort) {
        long ptr = life.enter();
        try {
            long[] out = new long[1];
            DevkitC.devkit_pod_forward_start(out, ptr, namespace, pod, podPort, bindAddress, localPort);
            return new PodForward(this, null, out[0], namespace, pod, podPort, bindAddress);
        } finally {
            life.leave();
        }
    }

    /** {@link #portForward(String, String, int, String, int)} on 127.0.0.1, in the client's namespace. */
    public PodForward portForward(String pod, int podPort, int localPort) {
        return portForward(null, pod, podPort, null, localPort);
    }

    /**
     * The same through a bastion {@code tunnel} that reaches the Pod network:
     * reads the Pod's IP once and adds a forward from the bastion to it, with no
     * API server load and no {@code pods/portforward} right needed (a replaced
     * Pod needs a new forward).
     *
     * @throws NotFoundException for a Pod without an IP yet
     */
    public PodForward portForward(Tunnel tunnel, String namespace, String pod, int podPort, String bindAddress,
                                  int localPort) {
        long ptr = life.enter();
        try {
            long tunnelPtr = tunnel.life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_pod_forward_start_tunnel(out, ptr, tunnelPtr, namespace, pod, podPort, bindAddress,
                    localPort);
                return new PodForward(this, tunnel, out[0], namespace, pod, podPort, bindAddress);
            } finally {
                tunnel.life.leave();
            }
        } finally {
            life.leave();
        }
    }

    // -- the live workflow on a replica (devkit/live.h, docs/live.md) -------------

    /**
     * Ask the keep-alive of a replica made with {@code keepAlive} to start, stop
     * or restart its app (the container and the Pod keep running), or only say
     * how it is. Returns {@code devkit-app}'s answer: "running pid 42 since
     * 2026-11-25T10:00:00Z", "stopped since ... (exit status 143)", "exited
     * since ... (exit status 1)".
     *
     * @param namespace null: the client's
     * @param container null: the Pod's default
     * @throws UnsupportedException for a container without the keep-alive
     * @throws NotFoundException for a Pod that does not exist
     */
    public String appControl(String namespace, String pod, String container, AppAction action) {
        byte[][] state = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_app_control(ptr, namespace, pod, container, action.value(), state);
        } finally {
            life.leave();
        }
        return Utf8.decode(state[0]);
    }

    /** {@link #appControl(String, String, String, AppAction)} for the default container, client's namespace. */
    public String appControl(String pod, AppAction action) {
        return appControl(null, pod, null, action);
    }

    /**
     * Copy a local file or directory into a container (tar over exec; later
     * deploys send only what changed) and restart the app under the replica's
     * keep-alive; the container and the Pod keep running. Blocks until done,
     * calling the options' listener on this thread as it goes.
     *
     * @throws UnsupportedException no tar in the image, or (to restart) no
     *         keep-alive in the container ("... replicate with keep_alive")
     * @throws IoException a remote directory that cannot be written (tar's
     *         words), a local path that cannot be read
     */
    public DeployResult deploy(DeployOptions options) {
        devkit_deploy_options native_ = options.toNative();
        devkit_deploy_result result = new devkit_deploy_result();
        DeployProgressSink sink = options.listener() != null ? new DeployProgressSink(options.listener()) : null;
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_java_deploy(ptr, devkit_deploy_options.getCPtr(native_),
                    devkit_deploy_result.getCPtr(result), sink);
            } finally {
                life.leave();
            }
            return new DeployResult(result.getFiles_sent(), result.getFiles_unchanged(), result.getFiles_total(),
                result.getBytes_sent(), java.time.Duration.ofMillis(result.getDuration_ms()),
                result.getRestarted() != 0, result.getApp_state());
        } finally {
            result.delete();
            native_.delete();
        }
    }

    /**
     * Turn the JDWP agent on for the app of a replica made with keep-alive,
     * restart it, and forward a local port to the agent; returns once the JVM
     * answered the JDWP handshake through it (with suspend: once the port
     * listens). Point the IDE at {@link DebugSession#host()}:{@link DebugSession#port()}.
     * The agent stays on across later deploys until {@link #debugOff}.
     *
     * @throws UnsupportedException for a container without the keep-alive
     * @throws TimeoutException if the JVM did not answer in time
     */
    public DebugSession debug(DebugOptions options) {
        devkit_debug_options native_ = options.toNative();
        Tunnel tunnel = options.tunnel();
        try {
            long ptr = life.enter();
            try {
                long tunnelPtr = tunnel != null ? tunnel.life.enter() : 0;
                try {
                    native_.setTunnel(tunnelPtr);
                    long[] out = new long[1];
                    DevkitC.devkit_debug_start(out, ptr, native_);
                    return new DebugSession(this, out[0], options);
                } finally {
                    if (tunnel != null) {
                        tunnel.life.leave();
                    }
                }
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /** {@link #debug(DebugOptions)} for Pod {@code pod} with the defaults and any free local port. */
    public DebugSession debug(String pod) {
        return debug(DebugOptions.builder(pod).anyLocalPort().build());
    }

    /**
     * Turn the debug agent off again and restart the app without it.
     *
     * @param namespace null: the client's
     * @param container null: the Pod's default
     */
    public void debugOff(String namespace, String pod, String container) {
        long ptr = life.enter();
        try {
            DevkitC.devkit_debug_off(ptr, namespace, pod, container);
        } finally {
            life.leave();
        }
    }

    /** {@link #debugOff(String, String, String)} for the default container, client's namespace. */
    public void debugOff(String pod) {
        debugOff(null, pod, null);
    }

    /**
     * Copy Arthas into the container if needed, attach it to the JVM and run
     * the options' command; returns its output and exit code.
     *
     * @throws InvalidArgumentException without a package or a command, or with
     *         several JVMs to choose from (the message names them)
     * @throws NotFoundException no JVM found
     * @throws UnsupportedException no java in the container
     */
    public ArthasResult arthasRun(ArthasOptions options) {
        devkit_arthas_options native_ = options.toNative();
        byte[][] out = new byte[1][];
        int[] code = new int[1];
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_arthas_run(ptr, native_, out, code);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
        return new ArthasResult(Utf8.decode(out[0]), code[0]);
    }

    /**
     * Arthas's interactive console on a terminal: an {@link ExecSession} with
     * stdin and a tty, whose bytes the caller relays to the user's terminal.
     */
    public ExecSession arthasConsole(ArthasOptions options) {
        devkit_arthas_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_arthas_start(out, ptr, native_);
                return new ExecSession(this, out[0], "Arthas console in "
                    + (options.namespace() != null ? options.namespace() : namespace) + "/" + options.pod(), true, true);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /**
     * An interactive shell on a terminal in a container, every command of which
     * is audited (the options' audit log and/or Events).
     *
     * @throws IoException if the audit log cannot be opened: nothing runs unaudited
     */
    public ShellSession shell(ShellOptions options) {
        devkit_shell_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_shell_start(out, ptr, native_);
                return new ShellSession(this, out[0], "shell in "
                    + (options.namespace() != null ? options.namespace() : namespace) + "/" + options.pod()
                    + (options.container() != null ? " (" + options.container() + ")" : ""));
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /**
     * Start tcpdump in a Pod's network (through exec) and return once it listens.
     *
     * @throws UnsupportedException no tcpdump in the container
     * @throws ForbiddenException tcpdump is not permitted (it needs NET_RAW)
     * @throws InvalidArgumentException a bad filter ("syntax error ...")
     */
    public Capture capture(CaptureOptions options) {
        devkit_capture_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_capture_start(out, ptr, native_);
                return new Capture(this, out[0], options);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /**
     * Create a copy of a Pod or of a workload's Pod template. Returns once the API
     * server accepted it ({@link ReplicaStage#CREATED}); on failure nothing is left
     * in the cluster.
     */
    public Replica replicate(ReplicaOptions options) {
        devkit_replica_options native_ = options.toNative();
        try {
            long ptr = life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_replica_create(out, ptr, native_);
                return new Replica(this, out[0]);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    /**
     * What {@link #replicate} would create, without creating it (reads the source,
     * writes nothing): the Pod, or with {@code istio} a List of the Pod, its
     * VirtualService and DestinationRule.
     */
    public Map<String, Object> buildReplica(ReplicaOptions options) {
        devkit_replica_options native_ = options.toNative();
        byte[][] out = new byte[1][];
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_replica_build(ptr, native_, out);
            } finally {
                life.leave();
            }
        } finally {
            native_.delete();
        }
        return Json.parseObject(Utf8.decode(out[0]));
    }

    /**
     * The replicas in {@code namespace} (null: the client's; "*": every
     * namespace), each a map of name, namespace, owner, source, created, expires,
     * phase, node.
     */
    @SuppressWarnings("unchecked")
    public List<Map<String, Object>> replicas(String namespace) {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_replica_list(ptr, namespace, out);
        } finally {
            life.leave();
        }
        Object rows = Json.parse(Utf8.decode(out[0]));
        if (!(rows instanceof List)) {
            throw new ProtocolException("expected a JSON array from the library", DevkitException.EPROTO);
        }
        return Collections.unmodifiableList(new ArrayList<>((List<Map<String, Object>>) rows));
    }

    /** The replicas in the client's namespace. */
    public List<Map<String, Object>> replicas() {
        return replicas(null);
    }

    /**
     * Delete a replica by name (and its Istio rules) and wait until it is gone.
     *
     * @param namespace null: the client's
     * @throws InvalidArgumentException for a Pod that is not a devkit replica
     * @throws TimeoutException if it is still terminating after {@code timeout}
     */
    public void deleteReplica(String namespace, String name, Duration timeout) {
        long ptr = life.enter();
        try {
            DevkitC.devkit_replica_delete_name(ptr, namespace, name, Replica.millis(timeout));
        } finally {
            life.leave();
        }
    }

    /** {@link #deleteReplica(String, String, Duration)} in the client's namespace, waiting up to a minute. */
    public void deleteReplica(String name) {
        deleteReplica(null, name, Replica.DELETE_TIMEOUT);
    }

    /**
     * Delete every replica whose expiry has passed.
     *
     * @param namespace null: the client's; "*": every namespace
     * @return how many were deleted
     */
    public int gc(String namespace) {
        int[] deleted = new int[1];
        long ptr = life.enter();
        try {
            DevkitC.devkit_replica_gc(ptr, namespace, deleted);
        } finally {
            life.leave();
        }
        return deleted[0];
    }

    /** {@link #gc(String)} in the client's namespace. */
    public int gc() {
        return gc(null);
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /**
     * Close this client's replica handles ({@link Replica#close()}), then free the
     * client (and its context, if it made its own). Idempotent.
     */
    @Override
    public void close() {
        for (Replica r : replicas.toArray(new Replica[0])) {
            r.close();
        }
        for (AutoCloseable s : streams.toArray(new AutoCloseable[0])) {
            try {
                s.close(); // logs, watches, exec sessions, forwards, ...: none throws
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        cleanable.clean();
        life.close(); // frees any handle still open first (its Lifetime children)
        replicas.clear();
        streams.clear();
        ctx.k8sClients.remove(this);
        if (ownedCtx != null) {
            ownedCtx.close();
        }
    }

    @Override
    public String toString() {
        return "Kubernetes[" + server + ", context=" + contextName + ", namespace=" + namespace
            + (isClosed() ? ", closed" : "") + "]";
    }
}
