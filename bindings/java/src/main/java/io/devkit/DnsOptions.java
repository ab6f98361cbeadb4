// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of a {@link Dns}, the fields of {@code devkit_dns_options}. What is
 * not set keeps the C default of {@code devkit_dns_options_init()}: cluster
 * domain "cluster.local", the Kubernetes search list
 * "default.svc.cluster.local,svc.cluster.local,cluster.local" with ndots 5,
 * upstream the first nameserver of /etc/resolv.conf, the stub on 127.0.0.1
 * (any free port), 5 s per query, 4096 cached answers.
 *
 * <pre>{@code
 * DnsOptions o = DnsOptions.builder("10.96.0.10").upstream("127.0.0.53").build();
 * }</pre>
 */
public final class DnsOptions {
    private final String clusterDns;
    private final String clusterDomains;
    private final String search;
    private final Integer ndots;
    private final String upstream;
    private final String bindAddress;
    private final Integer bindPort;
    private final Integer timeoutMs;
    private final Integer cacheMax;

    private DnsOptions(Builder b) {
        clusterDns = b.clusterDns;
        clusterDomains = b.clusterDomains;
        search = b.search;
        ndots = b.ndots;
        upstream = b.upstream;
        bindAddress = b.bindAddress;
        bindPort = b.bindPort;
        timeoutMs = b.timeoutMs;
        cacheMax = b.cacheMax;
    }

    /** @param clusterDns the cluster DNS server as the bastion sees it, "HOST[:PORT]" (port 53 by default) */
    public static Builder builder(String clusterDns) {
        return new Builder(clusterDns);
    }

    public String clusterDns() {
        return clusterDns;
    }

    /** The search list, if set. */
    public String search() {
        return search;
    }

    /** The ndots, if set. */
    public Integer ndots() {
        return ndots;
    }

    /** A copy of a struct C filled (a configuration's), every field set. */
    static DnsOptions fromNative(devkit_dns_options o) {
        Builder b = new Builder(o.getCluster_dns());
        b.clusterDomains = o.getCluster_domains();
        b.search = o.getSearch();
        b.ndots = o.getNdots();
        b.upstream = o.getUpstream();
        b.bindAddress = o.getBind_address();
        b.bindPort = o.getBind_port();
        b.timeoutMs = o.getTimeout_ms();
        b.cacheMax = (int) Math.min(Integer.MAX_VALUE, o.getCache_max());
        return b.build();
    }

    @Override
    public String toString() {
        return "DnsOptions[clusterDns=" + clusterDns + (search != null ? ", search=" + search : "")
            + (ndots != null ? ", ndots=" + ndots : "") + "]";
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_dns_options toNative() {
        devkit_dns_options o = new devkit_dns_options(); // C defaults
        o.setCluster_dns(clusterDns);
        if (clusterDomains != null) o.setCluster_domains(clusterDomains);
        if (search != null) o.setSearch(search);
        if (ndots != null) o.setNdots(ndots);
        if (upstream != null) o.setUpstream(upstream);
        if (bindAddress != null) o.setBind_address(bindAddress);
        if (bindPort != null) o.setBind_port(bindPort);
        if (timeoutMs != null) o.setTimeout_ms(timeoutMs);
        if (cacheMax != null) o.setCache_max(cacheMax);
        return o;
    }

    public static final class Builder {
        private final String clusterDns;
        private String clusterDomains;
        private String search;
        private Integer ndots;
        private String upstream;
        private String bindAddress;
        private Integer bindPort;
        private Integer timeoutMs;
        private Integer cacheMax;

        private Builder(String clusterDns) {
            this.clusterDns = Objects.requireNonNull(clusterDns, "clusterDns");
        }

        /** Comma-separated suffixes resolved by the cluster. */
        public Builder clusterDomains(String domains) { this.clusterDomains = domains; return this; }
        /** Comma-separated search list for names with fewer than {@link #ndots} dots. */
        public Builder search(String search) { this.search = search; return this; }
        public Builder ndots(int ndots) { this.ndots = ndots; return this; }
        /** Where other names go, "HOST[:PORT]" (an IP address). */
        public Builder upstream(String upstream) { this.upstream = upstream; return this; }
        /** The stub server's address. */
        public Builder bindAddress(String address) { this.bindAddress = address; return this; }
        /** The stub server's port; 0 (the default): any free port. */
        public Builder bindPort(int port) { this.bindPort = port; return this; }
        /** Per query. */
        public Builder timeout(Duration timeout) {
            long ms = timeout.toMillis();
            if (ms <= 0 || ms > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("timeout out of range: " + timeout);
            }
            this.timeoutMs = (int) ms;
            return this;
        }
        /** Answers kept (by TTL); 0 disables the cache. */
        public Builder cacheMax(int max) {
            if (max < 0) {
                throw new IllegalArgumentException("cacheMax must not be negative");
            }
            this.cacheMax = max;
            return this;
        }

        public DnsOptions build() {
            return new DnsOptions(this);
        }
    }
}
