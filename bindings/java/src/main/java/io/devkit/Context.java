// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An engine: one I/O thread carrying every tunnel opened with it. Thread-safe.
 *
 * <pre>{@code
 * try (Context ctx = new Context()) {
 *     ctx.addListener(event -> System.out.println(event));
 *     try (Tunnel t = ctx.openTunnel(TunnelOptions.builder("root@bastion").build())) { ... }
 * }
 * }</pre>
 *
 * Events are read by polling ({@link #poll}) or by listeners that a Java thread
 * of this context calls; the library's own callback, which would run on its I/O
 * thread, is never used. {@link #close} closes the tunnels, registrations and
 * Kubernetes clients still open, then stops the engine; a context nobody references is closed by a {@link
 * java.lang.ref.Cleaner}, but only after its tunnels are unreachable too.
 */
public final class Context implements AutoCloseable {
    /** close() waits at most this long for a poller to notice. */
    static final int POLL_SLICE_MS = 100;
    private static final AtomicInteger THREADS = new AtomicInteger();

    final Lifetime life;
    private final Dispatcher dispatcher;
    /** As in C, a tunnel lives until it or its context is closed: hold it. */
    final Set<Tunnel> tunnels = ConcurrentHashMap.newKeySet();
    /** The same for registrations made on it. */
    final Set<Registration> registrations = ConcurrentHashMap.newKeySet();
    /** And for Kubernetes clients (C frees them before the context). */
    final Set<Kubernetes> k8sClients = ConcurrentHashMap.newKeySet();
    private final java.lang.ref.Cleaner.Cleanable cleanable;

    public Context() {
        this(ContextOptions.defaults());
    }

    public Context(ContextOptions options) {
        devkit_ctx_options native_ = options.toNative();
        long[] out = new long[1];
        try {
            DevkitC.devkit_ctx_new(out, native_);
        } finally {
            native_.delete();
        }
        life = new Lifetime("context", out[0], DevkitC::devkit_ctx_free, null, false);
        dispatcher = new Dispatcher(life);
        cleanable = Lifetime.CLEANER.register(this, closer(life, dispatcher));
    }

    // A static factory, so the action cannot capture `this` and keep it reachable.
    private static Runnable closer(Lifetime life, Dispatcher dispatcher) {
        return () -> {
            life.close();
            dispatcher.join();
        };
    }

    /** Open a tunnel on this context; same as {@link Tunnel#open(Context, TunnelOptions)}. */
    public Tunnel openTunnel(TunnelOptions options) {
        return Tunnel.open(this, options);
    }

    /** Start registering on this context; same as {@link Registration#register(Context, RegistrationOptions)}. */
    public Registration register(RegistrationOptions options) {
        return Registration.register(this, options);
    }

    /** Open a Kubernetes client on this context; same as {@link Kubernetes#open(Context, KubernetesOptions)}. */
    public Kubernetes kubernetes(KubernetesOptions options) {
        return Kubernetes.open(this, options);
    }

    /**
     * The next event, waiting up to {@code timeout} (zero: do not wait). Empty if
     * none came in time, or if the context was closed while waiting.
     *
     * @throws ClosedException if the context is already closed
     * @throws IllegalStateException if listeners receive this context's events
     */
    public Optional<Event> poll(Duration timeout) {
        if (dispatcher.started()) {
            throw new IllegalStateException("this context delivers its events to listeners");
        }
        life.enter(); // a closed context throws here, before any wait
        life.leave();
        long deadline = System.nanoTime() + Math.max(0, timeout.toNanos());
        devkit_event ev = new devkit_event();
        try {
            while (true) {
                long left = (deadline - System.nanoTime()) / 1_000_000;
                int slice = (int) Math.max(0, Math.min(POLL_SLICE_MS, left));
                long ptr;
                try {
                    ptr = life.enter();
                } catch (ClosedException closedMeanwhile) {
                    return Optional.empty();
                }
                int got;
                try {
                    got = DevkitC.devkit_ctx_poll(ptr, ev, slice);
                } finally {
                    life.leave();
                }
                if (got > 0) {
                    return Optional.of(Event.from(ev));
                }
                if (System.nanoTime() - deadline >= 0) {
                    return Optional.empty();
                }
            }
        } finally {
            ev.delete();
        }
    }

    /**
     * Call {@code listener} for each event, on this context's listener thread
     * ("devkit-events-N", a daemon). Once a listener is added, events go to
     * listeners only and {@link #poll} is refused.
     */
    public void addListener(EventListener listener) {
        life.enter();
        try {
            dispatcher.add(listener);
        } finally {
            life.leave();
        }
    }

    public void removeListener(EventListener listener) {
        dispatcher.listeners.remove(listener);
    }

    /** A descriptor that is readable while events are queued, for a select/epoll loop. */
    public int eventFd() {
        long ptr = life.enter();
        try {
            return DevkitC.devkit_ctx_event_fd(ptr);
        } finally {
            life.leave();
        }
    }

    public void setLogLevel(LogLevel level) {
        long ptr = life.enter();
        try {
            DevkitC.devkit_ctx_set_log_level(ptr, level.value());
        } finally {
            life.leave();
        }
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /**
     * Close every tunnel, registration (deregistered) and Kubernetes client of this context, let
     * listeners see the last events (the tunnels' CLOSED, the registrations'
     * DEREGISTERED), then stop the I/O thread. Idempotent.
     */
    @Override
    public void close() {
        if (!life.isClosed()) {
            for (Tunnel t : tunnels.toArray(new Tunnel[0])) {
                t.close();
            }
            for (Registration r : registrations.toArray(new Registration[0])) {
                r.close();
            }
            // Then Kubernetes clients (their replica handles first; nothing is deleted).
            for (Kubernetes k : k8sClients.toArray(new Kubernetes[0])) {
                k.close();
            }
            dispatcher.finish();
        }
        cleanable.clean(); // runs the action at most once
        life.close();      // a racing close() returns only once the context is freed
        dispatcher.join();
        tunnels.clear();
        registrations.clear();
        k8sClients.clear();
    }

    @Override
    public String toString() {
        return "Context" + (isClosed() ? "[closed]" : "");
    }

    /** The listener thread. Holds the Lifetime, not the Context, so the Context can be collected. */
    private static final class Dispatcher implements Runnable {
        private final Lifetime life;
        final List<EventListener> listeners = new CopyOnWriteArrayList<>();
        private volatile Thread thread;
        /** Set by close(): deliver what is queued, then stop. */
        private volatile boolean finishing;

        Dispatcher(Lifetime life) {
            this.life = life;
        }

        boolean started() {
            return thread != null;
        }

        synchronized void add(EventListener listener) {
            listeners.add(listener);
            if (thread == null) {
                Thread t = new Thread(this, "devkit-events-" + THREADS.incrementAndGet());
                t.setDaemon(true);
                thread = t;
                t.start();
            }
        }

        @Override
        public void run() {
            devkit_event ev = new devkit_event();
            try {
                while (true) {
                    Event event;
                    long ptr;
                    try {
                        ptr = life.enter();
                    } catch (ClosedException closed) {
                        return;
                    }
                    try {
                        boolean last = finishing;
                        if (DevkitC.devkit_ctx_poll(ptr, ev, last ? 0 : POLL_SLICE_MS) <= 0) {
                            if (last) {
                                return; // the finally below leaves the context
                            }
                            continue;
                        }
                        event = Event.from(ev);
                    } finally {
                        life.leave(); // never call listeners while holding the context
                    }
                    for (EventListener l : listeners) {
                        try {
                            l.onEvent(event);
                        } catch (RuntimeException | AssertionError e) {
                            Thread self = Thread.currentThread();
                            self.getUncaughtExceptionHandler().uncaughtException(self, e);
                        }
                    }
                }
            } finally {
                ev.delete();
            }
        }

        void finish() {
            finishing = true;
            join();
        }

        void join() {
            Thread t = thread;
            if (t == null || t == Thread.currentThread()) {
                return; // closing from a listener: the thread ends after it returns
            }
            boolean interrupted = false;
            while (t.isAlive()) {
                try {
                    t.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
