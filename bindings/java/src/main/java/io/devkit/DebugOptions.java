// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#debug(DebugOptions)}, the fields of
 * {@code devkit_debug_options} (devkit/live.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, JDWP on port
 * 5005 in the container, no suspend, the IDE's side on 127.0.0.1 on the same
 * port number, through the API server, 60 s for the JVM to answer.
 *
 * <pre>{@code
 * DebugOptions o = DebugOptions.builder("orders-alice-x7k2p").anyLocalPort().build();
 * }</pre>
 */
public final class DebugOptions {
    /** {@link Builder#localPort}: any free port. */
    public static final int ANY_PORT = -1;

    private final String pod;
    private final String namespace;
    private final String container;
    private final int port;
    private final boolean suspend;
    private final String bindAddress;
    private final int localPort;
    private final Tunnel tunnel;
    private final String agentOption;
    private final Duration timeout;

    private DebugOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        port = b.port;
        suspend = b.suspend;
        bindAddress = b.bindAddress;
        localPort = b.localPort;
        tunnel = b.tunnel;
        agentOption = b.agentOption;
        timeout = b.timeout;
    }

    /** The options for Pod {@code pod} (a replica made with keep-alive). */
    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    /** null: the client's. */
    public String namespace() { return namespace; }
    /** null: the Pod's default container. */
    public String container() { return container; }
    /** JDWP's port in the container; 0: 5005. */
    public int port() { return port; }
    public boolean suspend() { return suspend; }
    /** null: "127.0.0.1". */
    public String bindAddress() { return bindAddress; }
    /** 0: the same as {@link #port()}; {@link #ANY_PORT}: any free one. */
    public int localPort() { return localPort; }
    /** The bastion tunnel to the Pod's IP, or null (the API server's port-forward). */
    public Tunnel tunnel() { return tunnel; }
    public String agentOption() { return agentOption; }
    public Duration timeout() { return timeout; }

    /** A native struct with these options; the tunnel's handle is set by the caller. */
    devkit_debug_options toNative() {
        devkit_debug_options o = new devkit_debug_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        o.setPort(port);
        o.setSuspend(suspend ? 1 : 0);
        if (bindAddress != null) o.setBind_address(bindAddress);
        o.setLocal_port(localPort);
        if (agentOption != null) o.setAgent_option(agentOption);
        o.setTimeout_ms(timeout == null ? 0 : Math.max(1, Replica.millis(timeout)));
        return o;
    }

    @Override
    public String toString() {
        return "DebugOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container + ", port=" + port
            + ", suspend=" + suspend + ", bindAddress=" + bindAddress + ", localPort=" + localPort
            + (tunnel != null ? ", through a tunnel" : "") + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private int port;
        private boolean suspend;
        private String bindAddress;
        private int localPort;
        private Tunnel tunnel;
        private String agentOption;
        private Duration timeout;

        private Builder(String pod) {
            this.pod = Objects.requireNonNull(pod, "pod");
        }

        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        public Builder container(String container) {
            this.container = container;
            return this;
        }

        /** JDWP's port in the container (0: 5005). */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port out of range: " + port);
            }
            this.port = port;
            return this;
        }

        /** The JVM waits for the debugger before running main (suspend=y). */
        public Builder suspend(boolean suspend) {
            this.suspend = suspend;
            return this;
        }

        /** Where the IDE connects (default 127.0.0.1). */
        public Builder bindAddress(String bindAddress) {
            this.bindAddress = bindAddress;
            return this;
        }

        /** The port the IDE connects to: 0 the same as {@link #port}, {@link #ANY_PORT} any free one. */
        public Builder localPort(int localPort) {
            if (localPort < ANY_PORT || localPort > 65535) {
                throw new IllegalArgumentException("localPort out of range: " + localPort);
            }
            this.localPort = localPort;
            return this;
        }

        /** {@code localPort(ANY_PORT)}: read the port from {@link DebugSession#port()}. */
        public Builder anyLocalPort() {
            return localPort(ANY_PORT);
        }

        /** Forward through this bastion tunnel to the Pod's IP instead of the API server. */
        public Builder tunnel(Tunnel tunnel) {
            this.tunnel = tunnel;
            return this;
        }

        /** The JVM option to add instead of JDWP's default
         *  {@code -agentlib:jdwp=transport=dt_socket,server=y,suspend=n,address=*:PORT}. */
        public Builder agentOption(String agentOption) {
            this.agentOption = agentOption;
            return this;
        }

        /** How long to wait for the restarted JVM to answer JDWP; null: 60 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public DebugOptions build() {
            return new DebugOptions(this);
        }
    }
}
