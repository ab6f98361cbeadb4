// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * An SSH session to a bastion that carries forwards and reconnects by itself.
 * Thread-safe; close it with try-with-resources.
 *
 * <pre>{@code
 * try (Tunnel t = Tunnel.open(TunnelOptions.builder("root@bastion:22").build())) {
 *     Forward proxy = t.addForward(ForwardOptions.dynamic().build());
 *     HttpClient http = HttpClient.newBuilder().proxy(ProxySelector.of(proxy.socketAddress())).build();
 * }
 * }</pre>
 */
public final class Tunnel implements AutoCloseable {
    private final Context ctx;          // keeps the context alive
    private final Context ownedCtx;     // non-null when this tunnel made its context
    final Lifetime life;
    private final long id;
    /** As in C, a forward lives until it or its tunnel is closed: hold it. */
    final Set<Forward> forwards = ConcurrentHashMap.newKeySet();
    /** The same for its {@link Dns}, {@link Router} and {@link Expose} objects (closed before the session). */
    final Set<AutoCloseable> services = ConcurrentHashMap.newKeySet();
    private final Cleaner.Cleanable cleanable;

    private Tunnel(Context ctx, Context ownedCtx, long ptr) {
        this.ctx = ctx;
        this.ownedCtx = ownedCtx;
        // Called while the context is entered, so its close() sees this child.
        this.life = new Lifetime("tunnel", ptr, DevkitC::devkit_tunnel_free, ctx.life, false);
        this.id = DevkitC.devkit_tunnel_id(ptr);
        ctx.tunnels.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /**
     * Connect, verify the host key and authenticate on a context of its own,
     * which {@link #close()} closes too. Read its events through {@link #context()}.
     *
     * @throws HostKeyException, AuthException, ConnectionRefusedException,
     *         NotFoundException, TimeoutException, ... (all {@link DevkitException})
     */
    public static Tunnel open(TunnelOptions options) {
        Context own = new Context();
        try {
            return open(own, own, options);
        } catch (RuntimeException | Error e) {
            own.close();
            throw e;
        }
    }

    /** Connect on a shared context; returns once the session is up, or throws. */
    public static Tunnel open(Context ctx, TunnelOptions options) {
        return open(ctx, null, options);
    }

    private static Tunnel open(Context ctx, Context owned, TunnelOptions options) {
        devkit_tunnel_options native_ = options.toNative();
        long ctxPtr = ctx.life.enter();
        try {
            long[] out = new long[1];
            DevkitC.devkit_tunnel_open(out, ctxPtr, native_);
            return new Tunnel(ctx, owned, out[0]);
        } finally {
            ctx.life.leave();
            native_.delete();
        }
    }

    public Context context() {
        return ctx;
    }

    /** The id that events carry in {@link Event#tunnelId()}. */
    public long id() {
        return id;
    }

    public TunnelState state() {
        long ptr = life.enter();
        try {
            return TunnelState.of(DevkitC.devkit_tunnel_get_state(ptr));
        } finally {
            life.leave();
        }
    }

    public TunnelStats stats() {
        devkit_tunnel_stats s = new devkit_tunnel_stats();
        long ptr = life.enter();
        try {
            DevkitC.devkit_tunnel_get_stats(ptr, s);
            return new TunnelStats(TunnelState.of(s.getState()), s.getReconnects(), s.getBytes_in(),
                s.getBytes_out(), s.getChannels_open(), s.getChannels_total(), s.getFailures(),
                s.getForwards());
        } finally {
            life.leave();
            s.delete();
        }
    }

    /** The session for display: bastion, user, state, host_key, kex, cipher, mac, libssh2. */
    public Map<String, String> describe() {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_tunnel_describe(ptr, out);
        } finally {
            life.leave();
        }
        Map<String, String> info = new LinkedHashMap<>();
        for (String line : Utf8.decode(out[0]).split("\n")) {
            int eq = line.indexOf('=');
            if (eq > 0) {
                info.put(line.substring(0, eq), line.substring(eq + 1));
            }
        }
        return info;
    }

    /** Start a forward; returns once it listens (a REMOTE one: once the bastion accepted it). */
    public Forward addForward(ForwardOptions options) {
        devkit_forward_options native_ = options.toNative();
        long ptr = life.enter();
        try {
            long[] out = new long[1];
            DevkitC.devkit_tunnel_add_forward(out, ptr, native_);
            return new Forward(this, out[0]);
        } finally {
            life.leave();
            native_.delete();
        }
    }

    /** A SOCKS5/SOCKS4/HTTP proxy on 127.0.0.1, any free port. */
    public Forward dynamicForward() {
        return addForward(ForwardOptions.dynamic().build());
    }

    /** A local port on 127.0.0.1 that connects to host:port as the bastion sees it. */
    public Forward localForward(String targetHost, int targetPort) {
        return addForward(ForwardOptions.local(targetHost, targetPort).build());
    }

    /** Port {@code bindPort} on the bastion's loopback, connecting back to host:port here. */
    public Forward remoteForward(int bindPort, String targetHost, int targetPort) {
        return addForward(ForwardOptions.remote(targetHost, targetPort).bindPort(bindPort).build());
    }

    /** Start a remote DNS resolver and its stub server on this tunnel. */
    public Dns dns(DnsOptions options) {
        return Dns.start(this, options);
    }

    /** A resolver whose cluster DNS is {@code clusterDns} ("HOST[:PORT]" as the bastion sees it). */
    public Dns dns(String clusterDns) {
        return Dns.start(this, DnsOptions.builder(clusterDns).build());
    }

    /** Start a router for routed processes on this tunnel. */
    public Router router(RouterOptions options) {
        return Router.start(this, options);
    }

    /** A router whose name lookups {@code dns} answers (null: none). */
    public Router router(Dns dns) {
        return Router.start(this, RouterOptions.builder().dns(dns).build());
    }

    /**
     * Make a local service reachable by cloud callers: a reverse forward on the
     * bastion, registered in the registry of {@code registration} under the
     * bastion's address ({@link ExposeOptions.Builder#advertiseHost}, else the
     * registration's address, else the bastion's host) and the forward's port
     * (the registration's port is not used). Returns once the forward listens and the
     * registration has started: {@code expose.registration().awaitRegistered(..)}
     * waits for the registry.
     */
    public Expose expose(ExposeOptions options, RegistrationOptions registration) {
        return Expose.start(this, options, registration);
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /**
     * Close every expose (deregistered), forward, router and DNS resolver of this tunnel, then the
     * session (and the context, if the tunnel made it). Idempotent.
     */
    @Override
    public void close() {
        cleanable.clean();
        life.close(); // waits for a racing close() to finish; routers and resolvers go first
        forwards.clear();
        services.clear();
        ctx.tunnels.remove(this);
        if (ownedCtx != null) {
            ownedCtx.close();
        }
    }

    @Override
    public String toString() {
        return "Tunnel[id=" + id + (isClosed() ? ", closed" : "") + "]";
    }
}
