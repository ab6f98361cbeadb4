// SPDX-License-Identifier: Apache-2.0
package io.devkit;

/**
 * Options of an {@link Expose}, the fields of {@code devkit_expose_options}.
 * What is not set keeps the C default of {@code devkit_expose_options_init()}:
 * the local service on 127.0.0.1, the bastion listening on "0.0.0.0" (sshd
 * binds loopback only unless its GatewayPorts allows more) on a port it
 * chooses, the bastion's host advertised, the registry reached through the tunnel.
 *
 * <pre>{@code
 * ExposeOptions o = ExposeOptions.builder(8080).advertiseHost("10.0.0.7").build();
 * }</pre>
 */
public final class ExposeOptions {
    private final int localPort;
    private final String localHost;
    private final Integer remotePort;
    private final String remoteBindAddress;
    private final String advertiseHost;
    private final Boolean registryViaTunnel;

    private ExposeOptions(Builder b) {
        localPort = b.localPort;
        localHost = b.localHost;
        remotePort = b.remotePort;
        remoteBindAddress = b.remoteBindAddress;
        advertiseHost = b.advertiseHost;
        registryViaTunnel = b.registryViaTunnel;
    }

    /** @param localPort the port of the local service that cloud callers should reach */
    public static Builder builder(int localPort) {
        return new Builder(localPort);
    }

    public int localPort() {
        return localPort;
    }

    /** The local host, if set (else 127.0.0.1). */
    public String localHost() {
        return localHost;
    }

    public String advertiseHost() {
        return advertiseHost;
    }

    /** A copy of a struct C filled (a configuration's), every field set. */
    static ExposeOptions fromNative(devkit_expose_options o) {
        Builder b = new Builder(o.getLocal_port());
        b.localHost = o.getLocal_host();
        b.remotePort = o.getRemote_port();
        b.remoteBindAddress = o.getRemote_bind_address();
        b.advertiseHost = o.getAdvertise_host();
        b.registryViaTunnel = o.getRegistry_via_tunnel() != 0;
        return b.build();
    }

    /** The local service, "host:port". */
    String local() {
        return (localHost != null ? localHost : "127.0.0.1") + ":" + localPort;
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_expose_options toNative() {
        devkit_expose_options o = new devkit_expose_options(); // C defaults
        o.setLocal_port(localPort);
        if (localHost != null) o.setLocal_host(localHost);
        if (remotePort != null) o.setRemote_port(remotePort);
        if (remoteBindAddress != null) o.setRemote_bind_address(remoteBindAddress);
        if (advertiseHost != null) o.setAdvertise_host(advertiseHost);
        if (registryViaTunnel != null) o.setRegistry_via_tunnel(registryViaTunnel ? 1 : 0);
        return o;
    }

    @Override
    public String toString() {
        return "ExposeOptions[local=" + local() + ", remotePort=" + remotePort + ", advertiseHost="
            + advertiseHost + "]";
    }

    public static final class Builder {
        private final int localPort;
        private String localHost;
        private Integer remotePort;
        private String remoteBindAddress;
        private String advertiseHost;
        private Boolean registryViaTunnel;

        private Builder(int localPort) {
            this.localPort = localPort;
        }

        /** The local service's host (default "127.0.0.1"). */
        public Builder localHost(String host) { this.localHost = host; return this; }
        /** The port on the bastion; 0 (the default): the bastion chooses. */
        public Builder remotePort(int port) { this.remotePort = port; return this; }
        /** Where the bastion listens (default "0.0.0.0", subject to sshd's GatewayPorts). */
        public Builder remoteBindAddress(String address) { this.remoteBindAddress = address; return this; }
        /** The bastion's address as cloud callers reach it (its in-cluster IP); default: the bastion's host. */
        public Builder advertiseHost(String host) { this.advertiseHost = host; return this; }
        /** Reach the registry through the tunnel, as a registry inside the cluster needs (default true). */
        public Builder registryViaTunnel(boolean viaTunnel) { this.registryViaTunnel = viaTunnel; return this; }

        public ExposeOptions build() {
            return new ExposeOptions(this);
        }
    }
}
