// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.net.InetSocketAddress;
import java.util.Map;

/**
 * The app of a replica running under the JDWP agent, and a local port that
 * reaches it ({@link Kubernetes#debug(DebugOptions)}): point the IDE's
 * "remote JVM debug" (a socket attach) at {@link #host()}:{@link #port()}.
 *
 * <pre>{@code
 * try (DebugSession d = k8s.debug(DebugOptions.builder(pod).anyLocalPort().build())) {
 *     AttachingConnector socket = ...;                 // com.sun.jdi.SocketAttach
 *     Map<String, Connector.Argument> args = socket.defaultArguments();
 *     d.attachArguments().forEach((k, v) -> args.get(k).setValue(v));
 *     VirtualMachine vm = socket.attach(args);
 *     ...
 * }
 * }</pre>
 *
 * <p>The JVM answered the JDWP handshake through the port before this was
 * returned (with suspend: the port listens). {@link #close()} stops
 * forwarding and leaves the agent on in the app (later deploys keep it);
 * {@link #turnOff()} also turns it off and restarts the app without it.
 *
 * <p>As in C, it lives until it or its client is closed (and, through a
 * tunnel, the tunnel), even if the program dropped it.
 */
public final class DebugSession implements AutoCloseable {
    private final Kubernetes k8s; // keeps the client alive
    private final Tunnel tunnel;
    final Lifetime life;
    private final Cleaner.Cleanable cleanable;
    private final String namespace;
    private final String pod;
    private final String container;
    private final boolean suspend;
    private final String host;
    private final int port;

    /** Called while the client (and the tunnel, if any) is entered. */
    DebugSession(Kubernetes k8s, long ptr, DebugOptions options) {
        this.k8s = k8s;
        this.tunnel = options.tunnel();
        this.namespace = options.namespace() != null ? options.namespace() : k8s.namespace();
        this.pod = options.pod();
        this.container = options.container();
        this.suspend = options.suspend();
        this.host = connectHost(options.bindAddress());
        this.port = DevkitC.devkit_debug_port(ptr);
        // Freed before its client (streams) and before the tunnel (its child).
        this.life = new Lifetime("debug session", ptr, DevkitC::devkit_debug_free,
            tunnel != null ? tunnel.life : k8s.life, false);
        k8s.streams.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    /** Where to connect to a listener bound to {@code bind} (a wildcard: loopback). */
    static String connectHost(String bind) {
        if (bind == null || bind.isEmpty() || bind.equals("0.0.0.0")) {
            return "127.0.0.1";
        }
        if (bind.equals("::")) {
            return "::1";
        }
        return bind;
    }

    public Kubernetes kubernetes() {
        return k8s;
    }

    public String namespace() {
        return namespace;
    }

    public String pod() {
        return pod;
    }

    /** null: the Pod's default container. */
    public String container() {
        return container;
    }

    /** Whether the JVM waits for the debugger before running main. */
    public boolean isSuspended() {
        return suspend;
    }

    /** The host the IDE connects to. */
    public String host() {
        return host;
    }

    /** The local port the IDE connects to. */
    public int port() {
        return port;
    }

    public InetSocketAddress socketAddress() {
        return new InetSocketAddress(host, port);
    }

    /** "host:port", as IDEs and {@code jdb -attach} take it. */
    public String address() {
        return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
    }

    /**
     * The arguments of JDI's socket attaching connector ({@code com.sun.jdi.SocketAttach}):
     * {@code hostname} and {@code port}.
     */
    public Map<String, String> attachArguments() {
        return Map.of("hostname", host, "port", Integer.toString(port));
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /**
     * Turn the agent off ({@link Kubernetes#debugOff}: the app restarts without
     * it) and close. The forward is closed even if turning off fails.
     */
    public void turnOff() {
        try {
            close();
        } finally {
            k8s.debugOff(namespace, pod, container);
        }
    }

    /** Stop forwarding (the agent stays on in the app) and free. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
    }

    @Override
    public String toString() {
        return "DebugSession[" + address() + " -> " + namespace + "/" + pod
            + (container != null ? " (" + container + ")" : "") + (tunnel != null ? " via tunnel" : "")
            + (isClosed() ? ", closed" : "") + "]";
    }
}
