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
 * <p>As in C, a client lives until it or its context is closed (the context
 * closes it first), and its {@link Replica} handles until they or the client
 * are closed. Closing frees handles only: it never deletes a replica.
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
    /** Logs and event watches (devkit/diag.h): they too live until they or the client close. */
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
            if (s instanceof Logs l) {
                l.close();
            } else if (s instanceof EventWatch w) {
                w.close();
            }
        }
        cleanable.clean();
        life.close(); // frees any replica, log or watch handle still open first (its Lifetime children)
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
