// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A personal copy of a Pod in the cluster ({@link Kubernetes#replicate}).
 * Thread-safe.
 *
 * <p>Every stage it reaches arrives as an {@link EventType#REPLICA_STAGE} event
 * whose {@link Event#objectId()} is {@link #id()} and whose {@link Event#address()}
 * is the Pod's name.
 *
 * <p>{@link #close()} frees the handle only: the copy stays in the cluster
 * until {@link #delete}, {@link Kubernetes#deleteReplica} or {@link Kubernetes#gc}
 * once it has expired, unless {@link #deleteOnClose(boolean)} was set, in which
 * case close (so try-with-resources) deletes it first. A replica that is
 * garbage-collected without close is freed, never deleted.
 */
public final class Replica implements AutoCloseable {
    /** Labels and annotations the library writes on every replica (replica.h). */
    public static final String LABEL_MANAGED = "devkit.io/replica";
    public static final String LABEL_OWNER = "devkit.io/owner";
    public static final String LABEL_TAG = "devkit.io/traffic-tag";
    public static final String ANNOTATION_SOURCE = "devkit.io/source";
    public static final String ANNOTATION_CREATED = "devkit.io/created";
    public static final String ANNOTATION_EXPIRES = "devkit.io/expires";

    /**
     * How long {@link #delete()}, {@link #close()} with deleteOnClose and
     * {@link Kubernetes#deleteReplica(String)} wait.
     */
    public static final Duration DELETE_TIMEOUT = Duration.ofMinutes(1);
    /**
     * awaitReady never blocks inside C for longer than this, so a racing close
     * waits at most about this long. Each slice ends with one more read of the
     * Pod and its events, so it is not shorter (C polls the Pod every 300 ms).
     */
    static final int WAIT_SLICE_MS = 1000;

    private final Kubernetes k8s; // keeps the client (and its context) alive
    final Lifetime life;
    private final String name;
    private final String namespace;
    private final long id;
    private volatile boolean deleteOnClose;
    private final AtomicReference<DevkitException> closeError = new AtomicReference<>();
    private final Cleaner.Cleanable cleanable;

    Replica(Kubernetes k8s, long ptr) {
        // Called while the client is entered, so it cannot close meanwhile.
        this.k8s = k8s;
        this.name = DevkitC.devkit_replica_name(ptr);
        this.namespace = DevkitC.devkit_replica_namespace(ptr);
        this.id = DevkitC.devkit_replica_id(ptr);
        // The client's close frees this first: C needs it freed before the client.
        this.life = new Lifetime("replica", ptr, DevkitC::devkit_replica_free, k8s.life, false);
        k8s.replicas.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    static int millis(Duration d) {
        if (d == null) {
            return -1;
        }
        long ms = d.toMillis();
        if (ms < 0 || ms > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("duration out of range: " + d);
        }
        return (int) ms;
    }

    public Kubernetes kubernetes() {
        return k8s;
    }

    /** The Pod's name. */
    public String name() {
        return name;
    }

    public String namespace() {
        return namespace;
    }

    /** The id that events carry in {@link Event#objectId()}. */
    public long id() {
        return id;
    }

    /** The stage last seen ({@link #awaitReady} and {@link #delete} move it on). */
    public ReplicaStage stage() {
        long ptr = life.enter();
        try {
            return ReplicaStage.of(DevkitC.devkit_replica_get_stage(ptr));
        } finally {
            life.leave();
        }
    }

    /** {@link #awaitReady(Duration)} without a time limit. */
    public void awaitReady() {
        awaitReady(null);
    }

    /**
     * Wait until the Pod is Ready, with {@link EventType#REPLICA_STAGE} events as
     * it goes. A null timeout waits without limit.
     *
     * @throws TimeoutException when the time runs out
     * @throws DevkitException (code {@link DevkitException#ERROR}) at once when the
     *         Pod cannot get further (image pull errors, crash loops, unschedulable);
     *         both messages say at which stage it stopped and why (conditions, the
     *         waiting container's reason, the latest events)
     * @throws ClosedException if the replica is closed (also by another thread
     *         while waiting) or was deleted
     */
    public void awaitReady(Duration timeout) {
        long deadline = timeout == null ? 0 : System.nanoTime() + Math.max(0, timeout.toNanos());
        while (true) {
            int slice = WAIT_SLICE_MS;
            if (timeout != null) {
                long left = (deadline - System.nanoTime() + 999_999) / 1_000_000;
                slice = (int) Math.max(0, Math.min(WAIT_SLICE_MS, left));
            }
            long ptr = life.enter();
            try {
                DevkitC.devkit_replica_wait_ready(ptr, slice);
                return;
            } catch (TimeoutException e) {
                if (timeout != null && System.nanoTime() - deadline >= 0) {
                    // C counted only the last slice: say the caller's time.
                    throw new TimeoutException(e.getMessage().replaceFirst(
                        "not ready after \\d+ ms", "not ready after " + timeout.toMillis() + " ms"),
                        e.code());
                }
            } finally {
                life.leave();
            }
        }
    }

    /**
     * Delete the copy (and its Istio rules) and wait until it is gone. The handle
     * stays open (stage {@link ReplicaStage#DELETED}) until {@link #close()}.
     *
     * @throws TimeoutException if it is still terminating after {@code timeout}
     */
    public void delete(Duration timeout) {
        long ptr = life.enter();
        try {
            DevkitC.devkit_replica_delete(ptr, millis(timeout));
        } finally {
            life.leave();
        }
    }

    /** {@link #delete(Duration)} waiting up to {@link #DELETE_TIMEOUT}. */
    public void delete() {
        delete(DELETE_TIMEOUT);
    }

    /** Whether {@link #close()} deletes the copy first; default false. Returns this. */
    public Replica deleteOnClose(boolean delete) {
        this.deleteOnClose = delete;
        return this;
    }

    public boolean isDeleteOnClose() {
        return deleteOnClose;
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Why the delete of {@link #deleteOnClose} failed on close, if it did. */
    public Optional<DevkitException> closeError() {
        return Optional.ofNullable(closeError.get());
    }

    /**
     * Free the handle; with {@link #deleteOnClose(boolean)}, delete the copy first.
     * Idempotent; never throws for a failed delete ({@link #closeError()} says why).
     */
    @Override
    public void close() {
        if (deleteOnClose && !life.isClosed()) {
            try {
                delete();
            } catch (ClosedException closedMeanwhile) {
                // another thread closed it
            } catch (DevkitException e) {
                closeError.compareAndSet(null, e);
            }
        }
        cleanable.clean();
        life.close(); // a racing close() returns only once the handle is freed
        k8s.replicas.remove(this);
    }

    @Override
    public String toString() {
        String stage;
        try {
            stage = stage().toString();
        } catch (ClosedException e) {
            stage = "closed";
        }
        return "Replica[id=" + id + ", " + namespace + "/" + name + ", " + stage + "]";
    }
}
