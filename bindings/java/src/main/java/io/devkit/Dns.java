// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;

/**
 * Remote DNS on a {@link Tunnel}: names only the cluster can resolve
 * ({@code *.svc.cluster.local}, and short names like {@code orders} through the
 * search list) go to the cluster's DNS server through the tunnel, everything
 * else to the upstream resolver. A stub server on {@link #socketAddress()} (UDP
 * and TCP) offers the same to any program. Thread-safe.
 *
 * <pre>{@code
 * try (Dns dns = tunnel.dns(DnsOptions.builder("10.96.0.10").build())) {
 *     List<String> addresses = dns.resolve("orders");
 * }
 * }</pre>
 *
 * As in C, it lives until it or its tunnel is closed, and closing the tunnel
 * (or its context) closes it first; routers that use it are closed before it.
 */
public final class Dns implements AutoCloseable {
    private final Tunnel tunnel; // keeps the tunnel, and so the context, alive
    final Lifetime life;
    private final String address;
    private final Cleaner.Cleanable cleanable;

    private Dns(Tunnel tunnel, long ptr) {
        // Called while the tunnel is entered, so its close() sees this child.
        this.tunnel = tunnel;
        this.address = DevkitC.devkit_dns_address(ptr); // lives as long as the resolver
        this.life = new Lifetime("DNS resolver", ptr, DevkitC::devkit_dns_free, tunnel.life, false);
        tunnel.services.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /** Start the resolver and its stub server on {@code tunnel}; same as {@link Tunnel#dns(DnsOptions)}. */
    public static Dns start(Tunnel tunnel, DnsOptions options) {
        devkit_dns_options native_ = options.toNative();
        long tptr = tunnel.life.enter();
        try {
            long[] out = new long[1];
            DevkitC.devkit_dns_start(out, tptr, native_);
            return new Dns(tunnel, out[0]);
        } finally {
            tunnel.life.leave();
            native_.delete();
        }
    }

    public Tunnel tunnel() {
        return tunnel;
    }

    /** The stub server's port (UDP and TCP). */
    public int port() {
        long ptr = life.enter();
        try {
            return DevkitC.devkit_dns_port(ptr);
        } finally {
            life.leave();
        }
    }

    /** The stub server's address, e.g. "127.0.0.1". */
    public String address() {
        life.enter();
        life.leave();
        return address;
    }

    /** Where the stub server listens, e.g. for a resolver's configuration. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(address(), port());
    }

    public DnsStats stats() {
        devkit_dns_stats s = new devkit_dns_stats();
        long ptr = life.enter();
        try {
            DevkitC.devkit_dns_get_stats(ptr, s);
            return new DnsStats(s.getQueries(), s.getCluster(), s.getUpstream(), s.getCache_hits(),
                s.getNxdomain(), s.getServfail(), s.getMalformed());
        } finally {
            life.leave();
            s.delete();
        }
    }

    /** {@link #resolve(String, AddressFamily)} for IPv4 and IPv6. */
    public List<String> resolve(String name) {
        return resolve(name, AddressFamily.ANY);
    }

    /**
     * The addresses of {@code name} as text, as a routed process would get them:
     * the search list and the cluster DNS for cluster names, else upstream.
     *
     * @throws NotFoundException if the name does not exist (NXDOMAIN) or has no
     *         address of that family
     */
    public List<String> resolve(String name, AddressFamily family) {
        byte[][] out = new byte[1][];
        long ptr = life.enter();
        try {
            DevkitC.devkit_dns_resolve(ptr, name, family.value(), out);
        } finally {
            life.leave();
        }
        List<String> addresses = new ArrayList<>();
        for (String line : Utf8.decode(out[0]).split("\n")) {
            if (!line.isEmpty()) {
                addresses.add(line);
            }
        }
        return addresses;
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop the stub server and free the resolver, and the routers that use it first. Idempotent. */
    @Override
    public void close() {
        cleanable.clean();
        life.close(); // waits for a racing close() to finish
        tunnel.services.removeIf(o -> o == this || (o instanceof Router r && r.dns() == this));
    }

    @Override
    public String toString() {
        return "Dns[" + (isClosed() ? "closed" : address + ":" + port()) + "]";
    }
}
