// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.net.InetSocketAddress;

/**
 * One forward of a {@link Tunnel}. Closing the tunnel closes it too; like in C,
 * a forward nobody references keeps working until it or its tunnel is closed.
 */
public final class Forward implements AutoCloseable {
    private final Tunnel tunnel; // keeps the tunnel, and so the context, alive
    private final Expose expose; // non-null for the reverse forward of an Expose
    private final Lifetime life;
    private final long id;
    private final ForwardKind kind;
    private final Cleaner.Cleanable cleanable;

    Forward(Tunnel tunnel, long ptr) {
        // Called while the tunnel is entered, so its close() sees this child.
        this.tunnel = tunnel;
        this.expose = null;
        this.life = new Lifetime("forward", ptr, DevkitC::devkit_forward_free, tunnel.life, true);
        this.id = DevkitC.devkit_forward_id(ptr);
        this.kind = ForwardKind.of(DevkitC.devkit_forward_kind_of(ptr));
        tunnel.forwards.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /** The reverse forward of an Expose: devkit_expose_close frees it, so it is the expose's child. */
    Forward(Tunnel tunnel, long ptr, Expose expose) {
        this.tunnel = tunnel;
        this.expose = expose;
        this.life = new Lifetime("forward", ptr, p -> { }, expose.life, true);
        this.id = DevkitC.devkit_forward_id(ptr);
        this.kind = ForwardKind.of(DevkitC.devkit_forward_kind_of(ptr));
        this.cleanable = null; // the Expose's cleaner covers it
    }

    public Tunnel tunnel() {
        return tunnel;
    }

    /** The {@link Expose} this forward belongs to, if any. */
    public java.util.Optional<Expose> expose() {
        return java.util.Optional.ofNullable(expose);
    }

    /** The id that events carry in {@link Event#forwardId()}. */
    public long id() {
        return id;
    }

    public ForwardKind kind() {
        return kind;
    }

    /** The port actually bound (the bastion's, for a REMOTE forward). */
    public int port() {
        long ptr = life.enter();
        try {
            return DevkitC.devkit_forward_port(ptr);
        } finally {
            life.leave();
        }
    }

    public String address() {
        long ptr = life.enter();
        try {
            return DevkitC.devkit_forward_address(ptr);
        } finally {
            life.leave();
        }
    }

    /** Where to connect, e.g. for {@code ProxySelector.of(...)} or {@code new Proxy(SOCKS, ...)}. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(address(), port());
    }

    public ForwardStats stats() {
        devkit_forward_stats s = new devkit_forward_stats();
        long ptr = life.enter();
        try {
            DevkitC.devkit_forward_get_stats(ptr, s);
            return new ForwardStats(s.getBytes_in(), s.getBytes_out(), s.getChannels_open(),
                s.getChannels_total(), s.getFailures());
        } finally {
            life.leave();
            s.delete();
        }
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop listening and close this forward's connections. Idempotent. The forward of an Expose closes the Expose. */
    @Override
    public void close() {
        if (expose != null) {
            expose.close();
            return;
        }
        cleanable.clean();
        life.close();
        tunnel.forwards.remove(this);
    }

    @Override
    public String toString() {
        return "Forward[id=" + id + ", " + kind + (isClosed() ? ", closed" : "") + "]";
    }
}
