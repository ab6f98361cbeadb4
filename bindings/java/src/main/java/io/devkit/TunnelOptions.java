// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of a {@link Tunnel}, the fields of {@code devkit_tunnel_options}.
 * What is not set keeps the C default of {@code devkit_tunnel_options_init()}:
 * user $USER, ssh-agent on, ~/.ssh/known_hosts, strict host keys, connect
 * timeout 15 s, keepalive every 15 s (3 missed = dead), reconnect on with
 * backoff 250 ms doubling to 30 s, no attempt limit.
 *
 * <pre>{@code
 * TunnelOptions o = TunnelOptions.builder("root@bastion:22")
 *     .identityFile(Path.of(home, ".ssh/id_ed25519"))
 *     .connectTimeout(Duration.ofSeconds(10))
 *     .build();
 * }</pre>
 */
public final class TunnelOptions {
    private final String bastion;
    private final String user;
    private final String identityFile;
    private final String identityPassphrase;
    private final String password;
    private final Boolean useAgent;
    private final String knownHostsFile;
    private final HostKeyPolicy hostKeyPolicy;
    private final String hostKeySha256;
    private final String ciphers;
    private final String macs;
    private final String kex;
    private final Integer connectTimeoutMs;
    private final Integer keepaliveIntervalS;
    private final Integer keepaliveCountMax;
    private final Boolean reconnect;
    private final Integer reconnectInitialMs;
    private final Integer reconnectMaxMs;
    private final Integer reconnectMaxAttempts;

    private TunnelOptions(Builder b) {
        bastion = b.bastion;
        user = b.user;
        identityFile = b.identityFile;
        identityPassphrase = b.identityPassphrase;
        password = b.password;
        useAgent = b.useAgent;
        knownHostsFile = b.knownHostsFile;
        hostKeyPolicy = b.hostKeyPolicy;
        hostKeySha256 = b.hostKeySha256;
        ciphers = b.ciphers;
        macs = b.macs;
        kex = b.kex;
        connectTimeoutMs = b.connectTimeoutMs;
        keepaliveIntervalS = b.keepaliveIntervalS;
        keepaliveCountMax = b.keepaliveCountMax;
        reconnect = b.reconnect;
        reconnectInitialMs = b.reconnectInitialMs;
        reconnectMaxMs = b.reconnectMaxMs;
        reconnectMaxAttempts = b.reconnectMaxAttempts;
    }

    /** @param bastion "[user@]host[:port]"; IPv6 literals in brackets: "[::1]:22" */
    public static Builder builder(String bastion) {
        return new Builder(bastion);
    }

    public String bastion() {
        return bastion;
    }

    /** The user, if set (else the bastion's user@, else $USER). */
    public String user() {
        return user;
    }

    /** The private key file, if set. */
    public String identityFile() {
        return identityFile;
    }

    public String knownHostsFile() {
        return knownHostsFile;
    }

    /** Whether a password is set (never the password itself). */
    public boolean hasPassword() {
        return password != null;
    }

    /** The host key policy, if set. */
    public HostKeyPolicy hostKeyPolicy() {
        return hostKeyPolicy;
    }

    /** TCP + handshake + authentication, if set. */
    public Duration connectTimeout() {
        return connectTimeoutMs == null ? null : Duration.ofMillis(connectTimeoutMs);
    }

    /** A copy of a struct C filled (a configuration's): every field set, secrets included. */
    static TunnelOptions fromNative(devkit_tunnel_options o) {
        Builder b = new Builder(o.getBastion());
        b.user = o.getUser();
        b.identityFile = o.getIdentity_file();
        b.identityPassphrase = o.getIdentity_passphrase();
        b.password = o.getPassword();
        b.useAgent = o.getUse_agent() != 0;
        b.knownHostsFile = o.getKnown_hosts_file();
        b.hostKeyPolicy = HostKeyPolicy.of(o.getHost_key_policy());
        b.hostKeySha256 = o.getHost_key_sha256();
        b.ciphers = o.getCiphers();
        b.macs = o.getMacs();
        b.kex = o.getKex();
        b.connectTimeoutMs = o.getConnect_timeout_ms();
        b.keepaliveIntervalS = o.getKeepalive_interval_s();
        b.keepaliveCountMax = o.getKeepalive_count_max();
        b.reconnect = o.getReconnect() != 0;
        b.reconnectInitialMs = o.getReconnect_initial_ms();
        b.reconnectMaxMs = o.getReconnect_max_ms();
        b.reconnectMaxAttempts = o.getReconnect_max_attempts();
        return b.build();
    }

    @Override
    public String toString() {
        return "TunnelOptions[bastion=" + bastion + (user != null ? ", user=" + user : "")
            + (identityFile != null ? ", identityFile=" + identityFile : "")
            + (password != null ? ", password=***" : "")
            + (identityPassphrase != null ? ", identityPassphrase=***" : "") + "]";
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_tunnel_options toNative() {
        devkit_tunnel_options o = new devkit_tunnel_options(); // C defaults
        o.setBastion(bastion);
        if (user != null) o.setUser(user);
        if (identityFile != null) o.setIdentity_file(identityFile);
        if (identityPassphrase != null) o.setIdentity_passphrase(identityPassphrase);
        if (password != null) o.setPassword(password);
        if (useAgent != null) o.setUse_agent(useAgent ? 1 : 0);
        if (knownHostsFile != null) o.setKnown_hosts_file(knownHostsFile);
        if (hostKeyPolicy != null) o.setHost_key_policy(hostKeyPolicy.value());
        if (hostKeySha256 != null) o.setHost_key_sha256(hostKeySha256);
        if (ciphers != null) o.setCiphers(ciphers);
        if (macs != null) o.setMacs(macs);
        if (kex != null) o.setKex(kex);
        if (connectTimeoutMs != null) o.setConnect_timeout_ms(connectTimeoutMs);
        if (keepaliveIntervalS != null) o.setKeepalive_interval_s(keepaliveIntervalS);
        if (keepaliveCountMax != null) o.setKeepalive_count_max(keepaliveCountMax);
        if (reconnect != null) o.setReconnect(reconnect ? 1 : 0);
        if (reconnectInitialMs != null) o.setReconnect_initial_ms(reconnectInitialMs);
        if (reconnectMaxMs != null) o.setReconnect_max_ms(reconnectMaxMs);
        if (reconnectMaxAttempts != null) o.setReconnect_max_attempts(reconnectMaxAttempts);
        return o;
    }

    private static int millis(Duration d) {
        long ms = d.toMillis();
        if (ms < 0 || ms > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("duration out of range: " + d);
        }
        return (int) ms;
    }

    public static final class Builder {
        private final String bastion;
        private String user;
        private String identityFile;
        private String identityPassphrase;
        private String password;
        private Boolean useAgent;
        private String knownHostsFile;
        private HostKeyPolicy hostKeyPolicy;
        private String hostKeySha256;
        private String ciphers;
        private String macs;
        private String kex;
        private Integer connectTimeoutMs;
        private Integer keepaliveIntervalS;
        private Integer keepaliveCountMax;
        private Boolean reconnect;
        private Integer reconnectInitialMs;
        private Integer reconnectMaxMs;
        private Integer reconnectMaxAttempts;

        private Builder(String bastion) {
            this.bastion = Objects.requireNonNull(bastion, "bastion");
        }

        /** Overrides a user@ in the bastion. */
        public Builder user(String user) { this.user = user; return this; }
        /** Private key (OpenSSH or PEM); "&lt;file&gt;.pub" is used when present. */
        public Builder identityFile(Path file) { this.identityFile = file.toString(); return this; }
        public Builder identityFile(String file) { this.identityFile = file; return this; }
        public Builder identityPassphrase(String passphrase) { this.identityPassphrase = passphrase; return this; }
        /** For "password" and "keyboard-interactive" authentication. */
        public Builder password(String password) { this.password = password; return this; }
        /** Try the keys of ssh-agent (SSH_AUTH_SOCK). */
        public Builder useAgent(boolean useAgent) { this.useAgent = useAgent; return this; }
        public Builder knownHostsFile(Path file) { this.knownHostsFile = file.toString(); return this; }
        public Builder knownHostsFile(String file) { this.knownHostsFile = file; return this; }
        public Builder hostKeyPolicy(HostKeyPolicy policy) { this.hostKeyPolicy = policy; return this; }
        /** Pin the host key ("SHA256:..." as ssh-keygen -l prints it); known_hosts is then not read. */
        public Builder hostKeySha256(String fingerprint) { this.hostKeySha256 = fingerprint; return this; }
        /** Comma-separated libssh2 method names; unset: the fastest both sides share. */
        public Builder ciphers(String ciphers) { this.ciphers = ciphers; return this; }
        public Builder macs(String macs) { this.macs = macs; return this; }
        public Builder kex(String kex) { this.kex = kex; return this; }
        /** TCP + handshake + authentication. */
        public Builder connectTimeout(Duration timeout) { this.connectTimeoutMs = millis(timeout); return this; }
        /** Zero: never. Whole seconds. */
        public Builder keepaliveInterval(Duration interval) {
            this.keepaliveIntervalS = (int) interval.toSeconds();
            return this;
        }
        public Builder keepaliveCountMax(int count) { this.keepaliveCountMax = count; return this; }
        public Builder reconnect(boolean reconnect) { this.reconnect = reconnect; return this; }
        public Builder reconnectBackoff(Duration initial, Duration max) {
            this.reconnectInitialMs = millis(initial);
            this.reconnectMaxMs = millis(max);
            return this;
        }
        /** Give up (state DOWN) after this many failed attempts; 0: never. */
        public Builder reconnectMaxAttempts(int attempts) { this.reconnectMaxAttempts = attempts; return this; }

        public TunnelOptions build() {
            return new TunnelOptions(this);
        }
    }
}
