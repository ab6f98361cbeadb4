// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Options of a {@link Registration}, the fields of {@code devkit_registration_options}.
 * What is not set keeps the C default of {@code devkit_registration_options_init()}:
 * the registry's usual TTL, heartbeats every third of it, protocol "http",
 * 5 s per request.
 *
 * <pre>{@code
 * Registration reg = Registration.builder()
 *     .registry("etcd://10.0.0.9:2379").service("orders")
 *     .address("10.0.0.5").port(8080)
 *     .meta("zone", "a").tag("dev-alice")
 *     .build(ctx);
 * }</pre>
 *
 * {@link #toString()} never shows the password or the token.
 */
public final class RegistrationOptions {
    private final String registry;
    private final String service;
    private final String address;
    private final Integer port;
    private final Map<String, String> metadata;
    private final String tag;
    private final String username;
    private final String password;
    private final String token;
    private final Long ttlMs;
    private final Long heartbeatMs;
    private final String protocol;
    private final String interfaceName;
    private final String methods;
    private final String caFile;
    private final Boolean insecure;
    private final String connectTo;
    private final Long timeoutMs;

    private RegistrationOptions(Builder b) {
        registry = b.registry;
        service = b.service;
        address = b.address;
        port = b.port;
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(b.metadata));
        tag = b.tag;
        username = b.username;
        password = b.password;
        token = b.token;
        ttlMs = b.ttlMs;
        heartbeatMs = b.heartbeatMs;
        protocol = b.protocol;
        interfaceName = b.interfaceName;
        methods = b.methods;
        caFile = b.caFile;
        insecure = b.insecure;
        connectTo = b.connectTo;
        timeoutMs = b.timeoutMs;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The registry URL as given. */
    public String registry() {
        return registry;
    }

    public String service() {
        return service;
    }

    /** The traffic tag, if set. */
    public String tag() {
        return tag;
    }

    /** The Dubbo methods, comma-separated, if set. */
    public String methods() {
        return methods;
    }

    /** Whether a password or a token is set (never the secret itself). */
    public boolean hasSecret() {
        return password != null || token != null;
    }

    /** A copy of a struct C filled (a configuration's): every field set, secrets included. */
    static RegistrationOptions fromNative(devkit_registration_options o) {
        Builder b = builder();
        b.registry = o.getRegistry();
        b.service = o.getService();
        b.address = o.getAddress();
        b.port = o.getPort() != 0 ? o.getPort() : null;
        String meta = o.getMetadata();
        if (meta != null) {
            for (String line : meta.split("\n")) {
                int eq = line.indexOf('=');
                if (!line.isEmpty()) {
                    b.metadata.put(eq < 0 ? line : line.substring(0, eq), eq < 0 ? "" : line.substring(eq + 1));
                }
            }
        }
        b.tag = o.getTag();
        b.username = o.getUsername();
        b.password = o.getPassword();
        b.token = o.getToken();
        b.ttlMs = o.getTtl_ms();
        b.heartbeatMs = o.getHeartbeat_ms();
        b.protocol = o.getProtocol();
        b.interfaceName = o.getInterface_name();
        b.methods = o.getMethods();
        b.caFile = o.getCa_file();
        b.insecure = o.getInsecure() != 0;
        b.connectTo = o.getConnect_to();
        b.timeoutMs = o.getTimeout_ms();
        return b.build();
    }

    /** The metadata, in the order it was added. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** The metadata as C wants it: "key=value" lines. */
    static String metadataText(Map<String, String> metadata) {
        if (metadata.isEmpty()) {
            return null;
        }
        StringBuilder sb = new StringBuilder();
        for (Map.Entry<String, String> e : metadata.entrySet()) {
            if (sb.length() > 0) {
                sb.append('\n');
            }
            sb.append(e.getKey()).append('=').append(e.getValue());
        }
        return sb.toString();
    }

    /** The registry URL for display: no user info, no query. */
    static String publicUrl(String url) {
        if (url == null) {
            return null;
        }
        String u = url.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@", "$1");
        int cut = u.indexOf('?');
        if (cut < 0) {
            cut = u.indexOf('#');
        }
        return cut < 0 ? u : u.substring(0, cut);
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_registration_options toNative() {
        devkit_registration_options o = new devkit_registration_options(); // C defaults
        if (registry != null) o.setRegistry(registry);
        if (service != null) o.setService(service);
        if (address != null) o.setAddress(address);
        if (port != null) o.setPort(port);
        String meta = metadataText(metadata);
        if (meta != null) o.setMetadata(meta);
        if (tag != null) o.setTag(tag);
        if (username != null) o.setUsername(username);
        if (password != null) o.setPassword(password);
        if (token != null) o.setToken(token);
        if (ttlMs != null) o.setTtl_ms(ttlMs);
        if (heartbeatMs != null) o.setHeartbeat_ms(heartbeatMs);
        if (protocol != null) o.setProtocol(protocol);
        if (interfaceName != null) o.setInterface_name(interfaceName);
        if (methods != null) o.setMethods(methods);
        if (caFile != null) o.setCa_file(caFile);
        if (insecure != null) o.setInsecure(insecure ? 1 : 0);
        if (connectTo != null) o.setConnect_to(connectTo);
        if (timeoutMs != null) o.setTimeout_ms(timeoutMs);
        return o;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("RegistrationOptions[registry=").append(publicUrl(registry))
            .append(", service=").append(service);
        if (address != null || port != null) {
            sb.append(", address=").append(address).append(':').append(port);
        }
        if (tag != null) {
            sb.append(", tag=").append(tag);
        }
        if (!metadata.isEmpty()) {
            sb.append(", metadata=").append(metadata.keySet());
        }
        if (username != null) {
            sb.append(", username=").append(username);
        }
        return sb.append(']').toString(); // never the password or the token
    }

    private static long millis(Duration d, String what) {
        long ms = d.toMillis();
        if (ms < 0 || ms > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(what + " out of range: " + d);
        }
        return ms;
    }

    public static final class Builder {
        private String registry;
        private String service;
        private String address;
        private Integer port;
        private final Map<String, String> metadata = new LinkedHashMap<>();
        private String tag;
        private String username;
        private String password;
        private String token;
        private Long ttlMs;
        private Long heartbeatMs;
        private String protocol;
        private String interfaceName;
        private String methods;
        private String caFile;
        private Boolean insecure;
        private String connectTo;
        private Long timeoutMs;

        private Builder() {}

        /**
         * The registry as a URL: nacos://, eureka://, consul://, etcd:// (each with a
         * "+https" variant) or zookeeper://, backend settings in the query
         * ("etcd://host:2379?prefix=/micro/registry"). Credentials do not belong here:
         * use {@link #username}, {@link #password}, {@link #token}.
         */
        public Builder registry(String url) { this.registry = url; return this; }
        /** The service (application) name callers look up. */
        public Builder service(String service) { this.service = service; return this; }
        /**
         * The host or IP to advertise. For {@link Tunnel#expose}: the bastion's address
         * when {@link ExposeOptions.Builder#advertiseHost} is not set.
         */
        public Builder address(String address) { this.address = address; return this; }
        /** The port to advertise (not used by {@link Tunnel#expose}: it advertises the bastion's port). */
        public Builder port(int port) { this.port = port; return this; }

        /**
         * One metadata entry.
         *
         * @throws IllegalArgumentException if the key is empty or holds '=' or a line
         *         break, or the value holds a line break
         */
        public Builder meta(String key, String value) {
            if (key == null || key.isEmpty() || key.indexOf('=') >= 0 || key.indexOf('\n') >= 0
                || key.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("metadata key \"" + key
                    + "\" is not valid: it must be non-empty, without '=' or line breaks");
            }
            if (value == null || value.indexOf('\n') >= 0 || value.indexOf('\r') >= 0) {
                throw new IllegalArgumentException("the value of metadata key \"" + key
                    + "\" is null or contains a line break");
            }
            metadata.put(key, value);
            return this;
        }

        /** Every entry of {@code metadata}, checked as {@link #meta} does. */
        public Builder metadata(Map<String, String> metadata) {
            metadata.forEach(this::meta);
            return this;
        }

        /** Traffic tag, written where the framework routes on it (dubbo.tag, Consul Tags, metadata "tag"). */
        public Builder tag(String tag) { this.tag = tag; return this; }
        /** Nacos login, Eureka HTTP Basic, etcd user. Never logged. */
        public Builder username(String username) { this.username = username; return this; }
        public Builder password(String password) { this.password = password; return this; }
        public Builder credentials(String username, String password) {
            this.username = username;
            this.password = password;
            return this;
        }
        /** Consul ACL token, or a Nacos accessToken. Never logged. */
        public Builder token(String token) { this.token = token; return this; }
        /** How long the registry keeps the entry without heartbeats; zero: the registry's usual value. */
        public Builder ttl(Duration ttl) { this.ttlMs = millis(ttl, "ttl"); return this; }
        /** Heartbeat period; zero: a third of the TTL. */
        public Builder heartbeat(Duration period) { this.heartbeatMs = millis(period, "heartbeat"); return this; }
        /** "http" (the default) or "dubbo". */
        public Builder protocol(String protocol) { this.protocol = protocol; return this; }
        /** Dubbo: the interface name (default: the service). */
        public Builder interfaceName(String name) { this.interfaceName = name; return this; }
        /** Dubbo: the methods. */
        public Builder methods(String... methods) { this.methods = String.join(",", methods); return this; }
        /** For +https: the CA bundle that verifies the registry (unset: the system's). */
        public Builder caFile(Path file) { this.caFile = file.toString(); return this; }
        public Builder caFile(String file) { this.caFile = file; return this; }
        /** For +https: skip verification (tests only). */
        public Builder insecure(boolean insecure) { this.insecure = insecure; return this; }
        /** Connect to these "host:port" addresses (comma-separated) instead of the URL's hosts. */
        public Builder connectTo(String hostPorts) { this.connectTo = hostPorts; return this; }
        /** Per request; default 5 s. */
        public Builder timeout(Duration timeout) {
            long ms = millis(timeout, "timeout");
            if (ms == 0) {
                throw new IllegalArgumentException("timeout must be positive: " + timeout);
            }
            this.timeoutMs = ms;
            return this;
        }

        public RegistrationOptions build() {
            return new RegistrationOptions(this);
        }

        /** Build and start registering on {@code ctx}: {@code Registration.register(ctx, build())}. */
        public Registration build(Context ctx) {
            return Registration.register(ctx, build());
        }
    }
}
