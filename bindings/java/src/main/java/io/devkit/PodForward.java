// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.net.InetSocketAddress;

/**
 * A local port forwarded to a Pod's port ({@link Kubernetes#portForward}), as
 * {@code kubectl port-forward} does: each connection accepted on
 * {@link #port()} gets its own port-forward WebSocket through the API server
 * (or, made with a {@link Tunnel}, a direct-tcpip channel from the bastion to
 * the Pod's IP). A connection the Pod refuses is closed (the reason goes to
 * the log).
 *
 * <p>As in C, it lives until it or its client is closed (and, through a
 * tunnel, the tunnel), even if the program dropped it.
 */
public final class PodForward implements AutoCloseable {
    private final Kubernetes k8s; // keeps the client alive
    private final Tunnel tunnel;  // non-null when forwarding through a bastion
    final Lifetime life;
    private final Cleaner.Cleanable cleanable;
    private final String namespace;
    private final String pod;
    private final int podPort;
    private final String address;
    private final int port;

    /** Called while the client (and the tunnel, if any) is entered. */
    PodForward(Kubernetes k8s, Tunnel tunnel, long ptr, String namespace, String pod, int podPort, String address) {
        this.k8s = k8s;
        this.tunnel = tunnel;
        this.namespace = namespace != null ? namespace : k8s.namespace();
        this.pod = pod;
        this.podPort = podPort;
        this.address = address != null ? address : "127.0.0.1";
        this.port = DevkitC.devkit_pod_forward_port(ptr);
        // C wants it freed before its client and, through a tunnel, before the
        // tunnel: the client closes it explicitly (streams), the tunnel as its child.
        this.life = new Lifetime("port-forward", ptr, DevkitC::devkit_pod_forward_free,
            tunnel != null ? tunnel.life : k8s.life, false);
        k8s.streams.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    public Kubernetes kubernetes() {
        return k8s;
    }

    /** The bastion tunnel it goes through, or null (the API server). */
    public Tunnel tunnel() {
        return tunnel;
    }

    public String namespace() {
        return namespace;
    }

    public String pod() {
        return pod;
    }

    public int podPort() {
        return podPort;
    }

    /** The local address it listens on. */
    public String address() {
        return address;
    }

    /** The local port it listens on (the one picked when 0 was asked). */
    public int port() {
        return port;
    }

    /** Where to connect. */
    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(address, port);
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop listening and close every forwarded connection. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
    }

    @Override
    public String toString() {
        return "PodForward[" + address + ":" + port + " -> " + namespace + "/" + pod + ":" + podPort
            + (tunnel != null ? " via tunnel" : "") + (isClosed() ? ", closed" : "") + "]";
    }
}
