// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.nio.file.Path;

/**
 * Process routing on a {@link Tunnel}, the engine side: a private control
 * socket ({@link #controlPath()}, for {@code DEVKIT_CONTROL}) that a routed
 * process's shim ({@code libdevkit_preload.so}) asks to resolve cluster names
 * (with a {@link Dns}) and to carry its connects through the tunnel. Thread-safe.
 *
 * <p>As in C, it lives until it, its {@link Dns} or its tunnel is closed, and is
 * always closed before them.
 */
public final class Router implements AutoCloseable {
    private final Tunnel tunnel; // keeps the tunnel alive
    private final Dns dns;       // keeps the resolver alive: C uses it until the router is freed
    private final Lifetime life;
    private final Path controlPath;
    private final Cleaner.Cleanable cleanable;

    private Router(Tunnel tunnel, Dns dns, long ptr) {
        this.tunnel = tunnel;
        this.dns = dns;
        this.controlPath = Path.of(DevkitC.devkit_router_control_path(ptr));
        // The resolver, if any, is the parent: closing it (or the tunnel, through
        // it) frees the router first, as C requires.
        this.life = new Lifetime("router", ptr, DevkitC::devkit_router_free,
            dns != null ? dns.life : tunnel.life, false);
        tunnel.services.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /** Start a router on {@code tunnel}; same as {@link Tunnel#router(RouterOptions)}. */
    public static Router start(Tunnel tunnel, RouterOptions options) {
        Dns dns = options.dns();
        if (dns != null && dns.tunnel() != tunnel) {
            throw new InvalidArgumentException("the router's Dns must belong to the router's tunnel",
                DevkitException.EINVAL);
        }
        devkit_router_options native_ = options.toNative();
        try {
            long tptr = tunnel.life.enter(); // parent before child: tunnel, then resolver
            try {
                long[] out = new long[1];
                if (dns == null) {
                    DevkitC.devkit_router_start(out, tptr, native_);
                    return new Router(tunnel, null, out[0]);
                }
                long dptr = dns.life.enter();
                try {
                    native_.setDns(dptr);
                    DevkitC.devkit_router_start(out, tptr, native_);
                    return new Router(tunnel, dns, out[0]);
                } finally {
                    dns.life.leave();
                }
            } finally {
                tunnel.life.leave();
            }
        } finally {
            native_.delete();
        }
    }

    public Tunnel tunnel() {
        return tunnel;
    }

    /** The resolver that answers the shim's lookups, or null. */
    public Dns dns() {
        return dns;
    }

    /** The control socket (mode 0600), to put in {@code DEVKIT_CONTROL}. */
    public Path controlPath() {
        life.enter();
        life.leave();
        return controlPath;
    }

    public RouterStats stats() {
        devkit_router_stats s = new devkit_router_stats();
        long ptr = life.enter();
        try {
            DevkitC.devkit_router_get_stats(ptr, s);
            return new RouterStats(s.getRequests(), s.getRouted(), s.getRefused(), s.getResolved());
        } finally {
            life.leave();
            s.delete();
        }
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop, close routed connections, remove the control socket. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        tunnel.services.remove(this);
    }

    @Override
    public String toString() {
        return "Router[" + (isClosed() ? "closed" : controlPath.toString()) + "]";
    }
}
