// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A local service made reachable by cloud callers through a {@link Tunnel}: a
 * reverse forward on the bastion ({@link #forward()}) plus the registration of
 * the bastion's address and that port ({@link #registration()}). Thread-safe.
 *
 * <pre>{@code
 * try (Expose e = tunnel.expose(ExposeOptions.builder(8080).build(),
 *         Registration.builder().registry("nacos://nacos.infra:8848").service("orders").build())) {
 *     e.registration().awaitRegistered(Duration.ofSeconds(10));
 *     // cloud callers that look up "orders" now reach 127.0.0.1:8080 here
 * }
 * }</pre>
 *
 * <p>As in C, it lives until it or its tunnel is closed, and closing the tunnel
 * (or its context) closes it first: deregistered, then the forwards removed.
 * Its registration and forward are its own: closing either closes the expose.
 */
public final class Expose implements AutoCloseable {
    private final Tunnel tunnel; // keeps the tunnel, and so the context, alive
    final Lifetime life;
    private final Registration registration;
    private final Forward forward;
    private final String local;
    private final int remotePort;
    private final AtomicReference<DevkitException> closeError = new AtomicReference<>();
    private final Cleaner.Cleanable cleanable;

    private Expose(Tunnel tunnel, long ptr, ExposeOptions options, RegistrationOptions registrationOptions) {
        // Called while the tunnel is entered, so its close() sees this child and
        // closes it while the forwards that C frees with it still exist.
        this.tunnel = tunnel;
        this.local = options.local();
        this.life = new Lifetime("expose", ptr,
            Registration.closer(DevkitC::devkit_expose_close, closeError), tunnel.life, false);
        this.registration = new Registration(this, DevkitC.devkit_expose_registration(ptr),
            registrationOptions, closeError);
        long fptr = DevkitC.devkit_expose_forward(ptr);
        this.forward = new Forward(tunnel, fptr, this);
        this.remotePort = DevkitC.devkit_forward_port(fptr);
        tunnel.services.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /**
     * Open the reverse forward, then start registering the bastion's address and
     * the forward's port; same as {@link Tunnel#expose(ExposeOptions, RegistrationOptions)}.
     * The registration's port is not used (the forward's is advertised); its address is
     * advertised only when {@link ExposeOptions.Builder#advertiseHost} is not set.
     */
    public static Expose start(Tunnel tunnel, ExposeOptions options, RegistrationOptions registration) {
        devkit_expose_options eo = options.toNative();
        devkit_registration_options ro = registration.toNative();
        try {
            long tptr = tunnel.life.enter();
            try {
                long[] out = new long[1];
                DevkitC.devkit_tunnel_expose(out, tptr, eo, ro);
                return new Expose(tunnel, out[0], options, registration);
            } finally {
                tunnel.life.leave();
            }
        } finally {
            ro.delete();
            eo.delete();
        }
    }

    public Tunnel tunnel() {
        return tunnel;
    }

    /** The registration (closing it closes this expose). */
    public Registration registration() {
        return registration;
    }

    /** The reverse forward on the bastion (closing it closes this expose). */
    public Forward forward() {
        return forward;
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Why the registry did not confirm the removal on close (the entry then expires after its TTL). */
    public Optional<DevkitException> closeError() {
        return Optional.ofNullable(closeError.get());
    }

    /** Deregister, then remove the forwards. Idempotent; never throws for a failed deregistration. */
    @Override
    public void close() {
        cleanable.clean();
        life.close(); // waits for a racing close() to finish
        tunnel.services.remove(this);
    }

    @Override
    public String toString() {
        return "Expose[" + registration.service() + " " + local + " -> "
            + (isClosed() ? "closed" : "bastion port " + remotePort) + "]";
    }
}
