// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.util.Objects;

/**
 * Options of a {@link Forward}: start from {@link #local}, {@link #dynamic} or
 * {@link #remote}. Unset fields keep the C default of
 * {@code devkit_forward_options_init()}: listen on 127.0.0.1, any free port.
 */
public final class ForwardOptions {
    private final ForwardKind kind;
    private final String bindAddress;
    private final int bindPort;
    private final String targetHost;
    private final int targetPort;
    private final String proxyUsername;
    private final String proxyPassword;
    private final Boolean allowNonLoopback;

    private ForwardOptions(Builder b) {
        kind = b.kind;
        bindAddress = b.bindAddress;
        bindPort = b.bindPort;
        targetHost = b.targetHost;
        targetPort = b.targetPort;
        proxyUsername = b.proxyUsername;
        proxyPassword = b.proxyPassword;
        allowNonLoopback = b.allowNonLoopback;
    }

    /** -L: a local port that connects to host:port as the bastion sees it. */
    public static Builder local(String targetHost, int targetPort) {
        return new Builder(ForwardKind.LOCAL, targetHost, targetPort);
    }

    /** -D: a local SOCKS5/SOCKS4 and HTTP proxy. */
    public static Builder dynamic() {
        return new Builder(ForwardKind.DYNAMIC, null, 0);
    }

    /** -R: a port on the bastion that connects back to host:port here. */
    public static Builder remote(String targetHost, int targetPort) {
        return new Builder(ForwardKind.REMOTE, targetHost, targetPort);
    }

    public ForwardKind kind() {
        return kind;
    }

    /** The local (or, for REMOTE, the bastion's) port; 0: any free port. */
    public int bindPort() {
        return bindPort;
    }

    public String bindAddress() {
        return bindAddress;
    }

    /** LOCAL and REMOTE: where connections go; null for DYNAMIC. */
    public String targetHost() {
        return targetHost;
    }

    public int targetPort() {
        return targetPort;
    }

    /** A copy of a struct C filled (a configuration's): every field set, secrets included. */
    static ForwardOptions fromNative(devkit_forward_options o) {
        ForwardKind kind = ForwardKind.of(o.getKind());
        Builder b = new Builder(kind, kind == ForwardKind.DYNAMIC ? null : o.getTarget_host(),
            o.getTarget_port());
        b.bindAddress = o.getBind_address();
        b.bindPort = o.getBind_port();
        b.proxyUsername = o.getProxy_username();
        b.proxyPassword = o.getProxy_password();
        b.allowNonLoopback = o.getAllow_non_loopback() != 0;
        return b.build();
    }

    @Override
    public String toString() {
        return "ForwardOptions[" + kind + ", bind=" + (bindAddress != null ? bindAddress : "127.0.0.1")
            + ":" + bindPort + (targetHost != null ? ", target=" + targetHost + ":" + targetPort : "")
            + (proxyUsername != null ? ", proxyUsername=" + proxyUsername : "") + "]";
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_forward_options toNative() {
        devkit_forward_options o = new devkit_forward_options(); // C defaults
        o.setKind(kind.value());
        if (bindAddress != null) o.setBind_address(bindAddress);
        o.setBind_port(bindPort);
        if (targetHost != null) o.setTarget_host(targetHost);
        o.setTarget_port(targetPort);
        if (proxyUsername != null) o.setProxy_username(proxyUsername);
        if (proxyPassword != null) o.setProxy_password(proxyPassword);
        if (allowNonLoopback != null) o.setAllow_non_loopback(allowNonLoopback ? 1 : 0);
        return o;
    }

    public static final class Builder {
        private final ForwardKind kind;
        private final String targetHost;
        private final int targetPort;
        private String bindAddress;
        private int bindPort;
        private String proxyUsername;
        private String proxyPassword;
        private Boolean allowNonLoopback;

        private Builder(ForwardKind kind, String targetHost, int targetPort) {
            this.kind = kind;
            this.targetHost = kind == ForwardKind.DYNAMIC ? null : Objects.requireNonNull(targetHost, "targetHost");
            this.targetPort = targetPort;
        }

        /** LOCAL/DYNAMIC: a local address; REMOTE: an address on the bastion. */
        public Builder bindAddress(String address) { this.bindAddress = address; return this; }
        /** 0 (the default): the system, or the bastion, chooses. */
        public Builder bindPort(int port) { this.bindPort = port; return this; }
        /** DYNAMIC: require SOCKS5 username/password and HTTP proxy Basic authentication. */
        public Builder proxyCredentials(String username, String password) {
            this.proxyUsername = username;
            this.proxyPassword = password;
            return this;
        }
        /** Listening on a non-loopback local address must be asked for explicitly. */
        public Builder allowNonLoopback(boolean allow) { this.allowNonLoopback = allow; return this; }

        public ForwardOptions build() {
            return new ForwardOptions(this);
        }
    }
}
