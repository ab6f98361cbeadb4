// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Options of a {@link Router}, the fields of {@code devkit_router_options}.
 * What is not set keeps the C default of {@code devkit_router_options_init()}:
 * no resolver (the shim's lookups fail; routing by address still works), the
 * control socket in a new private temporary directory, 15 s to open a channel.
 */
public final class RouterOptions {
    private final Dns dns;
    private final String controlPath;
    private final Integer openTimeoutMs;

    private RouterOptions(Builder b) {
        dns = b.dns;
        controlPath = b.controlPath;
        openTimeoutMs = b.openTimeoutMs;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All C defaults. */
    public static RouterOptions defaults() {
        return builder().build();
    }

    /** The resolver that answers the shim's lookups, or null. */
    public Dns dns() {
        return dns;
    }

    /** The control socket's path, if set. */
    public String controlPath() {
        return controlPath;
    }

    /**
     * These options with {@code dns} (a configuration's router has none: the
     * caller starts the {@link Dns} and passes it here).
     */
    public RouterOptions withDns(Dns dns) {
        Builder b = new Builder();
        b.dns = dns;
        b.controlPath = controlPath;
        b.openTimeoutMs = openTimeoutMs;
        return b.build();
    }

    /** A copy of a struct C filled (a configuration's); its dns handle is not copied (NULL there). */
    static RouterOptions fromNative(devkit_router_options o) {
        Builder b = new Builder();
        b.controlPath = o.getControl_path();
        b.openTimeoutMs = o.getOpen_timeout_ms();
        return b.build();
    }

    @Override
    public String toString() {
        return "RouterOptions[controlPath=" + controlPath + ", openTimeoutMs=" + openTimeoutMs + "]";
    }

    /** A native struct filled with these options (but the resolver); the caller deletes it. */
    devkit_router_options toNative() {
        devkit_router_options o = new devkit_router_options(); // C defaults
        if (controlPath != null) o.setControl_path(controlPath);
        if (openTimeoutMs != null) o.setOpen_timeout_ms(openTimeoutMs);
        return o;
    }

    public static final class Builder {
        private Dns dns;
        private String controlPath;
        private Integer openTimeoutMs;

        private Builder() {}

        /** Answers the shim's name lookups; must be a resolver of the router's tunnel. */
        public Builder dns(Dns dns) { this.dns = dns; return this; }
        /** Where the control socket goes (made with mode 0600). */
        public Builder controlPath(Path path) { this.controlPath = path.toString(); return this; }
        /** A blocking connect() of a routed process waits at most this long for its channel. */
        public Builder openTimeout(Duration timeout) {
            long ms = timeout.toMillis();
            if (ms <= 0 || ms > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("timeout out of range: " + timeout);
            }
            this.openTimeoutMs = (int) ms;
            return this;
        }

        public RouterOptions build() {
            return new RouterOptions(this);
        }
    }
}
