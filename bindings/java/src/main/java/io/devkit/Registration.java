// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import java.util.function.LongToIntFunction;

/**
 * One entry in a service registry (Nacos, Eureka, Consul, ZooKeeper for Dubbo,
 * etcd), kept alive by the engine with heartbeats or leases, removed on close.
 * Thread-safe; close it with try-with-resources.
 *
 * <pre>{@code
 * try (Context ctx = new Context();
 *      Registration reg = Registration.builder().registry("etcd://10.0.0.9:2379")
 *          .service("orders").address("10.0.0.5").port(8080).meta("zone", "a")
 *          .build(ctx)) {
 *     reg.awaitRegistered(Duration.ofSeconds(10));
 * }
 * }</pre>
 *
 * <p>Registering returns at once: a registry that is down is not an error there
 * (the engine retries with backoff); {@link #awaitRegistered} waits for the
 * registry. Every state change arrives as an {@link EventType#REGISTRATION_STATE}
 * event whose {@link Event#objectId()} is {@link #id()}.
 *
 * <p>As in C, a registration lives until it or its context is closed, and the
 * context's close deregisters it first. A registration of an {@link Expose}
 * belongs to the expose: closing either closes both.
 */
public final class Registration implements AutoCloseable {
    /** awaitRegistered never blocks inside C for longer than this, so a racing close waits at most this long. */
    static final int WAIT_SLICE_MS = 100;

    private final Context ctx;         // keeps the context alive
    private final Context ownedCtx;    // non-null when this registration made its context
    private final Expose expose;       // non-null for the registration of an Expose
    final Lifetime life;
    private final long id;
    private final String registry;
    private final String service;
    private final AtomicReference<DevkitException> closeError;
    private final Cleaner.Cleanable cleanable;

    private Registration(Context ctx, Context ownedCtx, long ptr, RegistrationOptions options) {
        this.ctx = ctx;
        this.ownedCtx = ownedCtx;
        this.expose = null;
        this.registry = RegistrationOptions.publicUrl(options.registry());
        this.service = options.service();
        this.closeError = new AtomicReference<>();
        // Called while the context is entered, so its close() sees this child
        // and deregisters it before devkit_ctx_free.
        this.life = new Lifetime("registration", ptr,
            closer(DevkitC::devkit_registration_close, closeError), ctx.life, false);
        this.id = DevkitC.devkit_registration_id(ptr);
        ctx.registrations.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /** The registration inside an Expose: borrowed in C, freed by devkit_expose_close. */
    Registration(Expose expose, long ptr, RegistrationOptions options,
                 AtomicReference<DevkitException> closeError) {
        this.ctx = expose.tunnel().context();
        this.ownedCtx = null;
        this.expose = expose;
        this.registry = RegistrationOptions.publicUrl(options.registry());
        this.service = options.service();
        this.closeError = closeError;
        this.life = new Lifetime("registration", ptr, p -> { }, expose.life, true);
        this.id = DevkitC.devkit_registration_id(ptr);
        this.cleanable = null; // the Expose's cleaner covers it
    }

    /**
     * A Lifetime free action that calls a C close returning the deregistration's
     * result and keeps its error (the object is freed either way). Static, so it
     * cannot capture the owning object.
     */
    static LongConsumer closer(LongToIntFunction close, AtomicReference<DevkitException> error) {
        return ptr -> {
            try {
                close.applyAsInt(ptr);
            } catch (DevkitException e) {
                error.compareAndSet(null, e);
            }
        };
    }

    /** A builder whose {@link RegistrationOptions.Builder#build(Context)} registers. */
    public static RegistrationOptions.Builder builder() {
        return RegistrationOptions.builder();
    }

    /**
     * Check the options and start registering on {@code ctx}. Returns at once
     * with the first attempt in flight.
     *
     * @throws InvalidArgumentException for bad options (unknown scheme, no service,
     *         port out of range, ...)
     */
    public static Registration register(Context ctx, RegistrationOptions options) {
        return register(ctx, null, options);
    }

    /** {@link #register(Context, RegistrationOptions)} on a context of its own, closed with it. */
    public static Registration register(RegistrationOptions options) {
        Context own = new Context();
        try {
            return register(own, own, options);
        } catch (RuntimeException | Error e) {
            own.close();
            throw e;
        }
    }

    private static Registration register(Context ctx, Context owned, RegistrationOptions options) {
        devkit_registration_options native_ = options.toNative();
        try {
            long ctxPtr = ctx.life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_registration_new(out, ctxPtr, native_);
                return new Registration(ctx, owned, out[0], options);
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

    /** The {@link Expose} this registration belongs to, if any. */
    public Optional<Expose> expose() {
        return Optional.ofNullable(expose);
    }

    /** The id that events carry in {@link Event#objectId()}. */
    public long id() {
        return id;
    }

    public String service() {
        return service;
    }

    /** The registry URL without user info or query. */
    public String registry() {
        return registry;
    }

    public RegistrationState state() {
        long ptr = life.enter();
        try {
            return RegistrationState.of(DevkitC.devkit_registration_get_state(ptr));
        } finally {
            life.leave();
        }
    }

    /** {@link #awaitRegistered(Duration)} with no time limit. */
    public void awaitRegistered() {
        awaitRegistered(null);
    }

    /**
     * Wait until the entry is in the registry ({@link RegistrationState#REGISTERED}).
     * A null timeout waits without limit.
     *
     * @throws DevkitException the last attempt's error when the time runs out after
     *         attempts failed (a registry that is down: {@link ConnectionRefusedException},
     *         while the state is {@link RegistrationState#RETRYING});
     *         {@link TimeoutException} if no attempt finished in time; the refusal's
     *         error at once if the state is {@link RegistrationState#FAILED};
     *         {@link ClosedException} if the registration is closed
     */
    public void awaitRegistered(Duration timeout) {
        long deadline = timeout == null ? 0 : System.nanoTime() + Math.max(0, timeout.toNanos());
        while (true) {
            int slice = WAIT_SLICE_MS;
            if (timeout != null) {
                long left = (deadline - System.nanoTime() + 999_999) / 1_000_000;
                slice = (int) Math.max(0, Math.min(WAIT_SLICE_MS, left));
            }
            long ptr = life.enter();
            try {
                DevkitC.devkit_registration_wait(ptr, slice);
                return;
            } catch (ClosedException e) {
                throw e;
            } catch (DevkitException e) {
                boolean last = timeout != null && System.nanoTime() - deadline >= 0;
                int state = DevkitC.devkit_registration_get_state(ptr);
                if (state == devkit_registration_state.DEVKIT_REGISTRATION_FAILED) {
                    throw e;
                }
                if (!last) {
                    continue;
                }
                if (e instanceof TimeoutException && failures(ptr) == 0) {
                    // No attempt finished: say so with the caller's timeout.
                    throw new TimeoutException(registry + " " + service + ": not registered after "
                        + timeout.toMillis() + " ms (state " + DevkitC.devkit_registration_state_name(state)
                        + ")", e.code());
                }
                throw e;
            } finally {
                life.leave();
            }
        }
    }

    private static long failures(long ptr) {
        devkit_registration_stats s = new devkit_registration_stats();
        try {
            DevkitC.devkit_registration_get_stats(ptr, s);
            return s.getFailures();
        } finally {
            s.delete();
        }
    }

    public RegistrationStats stats() {
        devkit_registration_stats s = new devkit_registration_stats();
        long ptr = life.enter();
        try {
            DevkitC.devkit_registration_get_stats(ptr, s);
            return new RegistrationStats(s.getRegistrations(), s.getHeartbeats(), s.getFailures(),
                s.getLost());
        } finally {
            life.leave();
            s.delete();
        }
    }

    /**
     * What is registered where, parsed from the library's JSON: "registry"
     * (without credentials), "backend", "service", "instance_id", "address",
     * "port", "state", "metadata", the "keys" written, "stats" and the last
     * "error"/"message". Numbers are {@code Long}, objects {@code Map}, arrays {@code List}.
     */
    public Map<String, Object> describe() {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_registration_describe(ptr, out);
        } finally {
            life.leave();
        }
        return Json.parseObject(Utf8.decode(out[0]));
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Why the registry did not confirm the removal on close (the entry then expires after its TTL). */
    public Optional<DevkitException> closeError() {
        return Optional.ofNullable(closeError.get());
    }

    /**
     * Deregister (waiting at most the request timeout) and free. Idempotent;
     * never throws for a failed deregistration ({@link #closeError()} says why).
     * The registration of an {@link Expose} closes the Expose.
     */
    @Override
    public void close() {
        if (expose != null) {
            expose.close();
            return;
        }
        cleanable.clean();
        life.close(); // waits for a racing close() to finish
        ctx.registrations.remove(this);
        if (ownedCtx != null) {
            ownedCtx.close();
        }
    }

    @Override
    public String toString() {
        String state;
        try {
            state = state().toString();
        } catch (ClosedException e) {
            state = "closed";
        }
        return "Registration[id=" + id + ", " + registry + ", service=" + service + ", " + state + "]";
    }
}
