// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of a {@link Replica}, the fields of {@code devkit_replica_options}
 * (docs/replica.md explains each). What is not set keeps the C default of
 * {@code devkit_replica_options_init()}: the client's namespace, the name
 * "&lt;source&gt;-&lt;owner&gt;-&lt;5 random&gt;", owner $USER, the first container, the
 * image's command, probes kept, expiry after 8 hours.
 *
 * <pre>{@code
 * ReplicaOptions o = ReplicaOptions.builder()
 *     .deployment("orders").owner("alice")
 *     .keepAlive(true).noLiveness(true)
 *     .debugPort(5005).tag("alice")
 *     .build();
 * }</pre>
 *
 * Exactly one source ({@link Builder#pod}, {@link Builder#deployment},
 * {@link Builder#statefulSet}, {@link Builder#daemonSet}) must be set.
 * Strings that are not set read as null, flags as false, numbers as 0.
 */
public final class ReplicaOptions {
    private final ReplicaSource source;
    private final String sourceName;
    private final String namespace;
    private final String name;
    private final String owner;
    private final String container;
    private final boolean keepAlive;
    private final String command;
    private final String node;
    private final String logFile;
    private final String tag;
    private final boolean istio;
    private final String tagHeader;
    private final String istioHost;
    private final boolean tcpdump;
    private final String tcpdumpImage;
    private final String tcpdumpFilter;
    private final boolean jvmExceptionLog;
    private final boolean noLiveness;
    private final boolean noReadiness;
    private final boolean noStartup;
    private final int debugPort;
    private final long ttlS;
    private final boolean keepLabels;

    private ReplicaOptions(Builder b) {
        if (b.source == null) {
            throw new IllegalArgumentException(
                "a replica copies one source: set pod, deployment, statefulSet or daemonSet");
        }
        source = b.source;
        sourceName = b.sourceName;
        namespace = b.namespace;
        name = b.name;
        owner = b.owner;
        container = b.container;
        keepAlive = b.keepAlive;
        command = b.command;
        node = b.node;
        logFile = b.logFile;
        tag = b.tag;
        istio = b.istio;
        tagHeader = b.tagHeader;
        istioHost = b.istioHost;
        tcpdump = b.tcpdump;
        tcpdumpImage = b.tcpdumpImage;
        tcpdumpFilter = b.tcpdumpFilter;
        jvmExceptionLog = b.jvmExceptionLog;
        noLiveness = b.noLiveness;
        noReadiness = b.noReadiness;
        noStartup = b.noStartup;
        debugPort = b.debugPort;
        ttlS = b.ttlS;
        keepLabels = b.keepLabels;
    }

    public static Builder builder() {
        return new Builder();
    }

    public ReplicaSource source() { return source; }
    public String sourceName() { return sourceName; }
    public String namespace() { return namespace; }
    public String name() { return name; }
    public String owner() { return owner; }
    public String container() { return container; }
    public boolean keepAlive() { return keepAlive; }
    public String command() { return command; }
    public String node() { return node; }
    public String logFile() { return logFile; }
    public String tag() { return tag; }
    public boolean istio() { return istio; }
    public String tagHeader() { return tagHeader; }
    public String istioHost() { return istioHost; }
    public boolean tcpdump() { return tcpdump; }
    public String tcpdumpImage() { return tcpdumpImage; }
    public String tcpdumpFilter() { return tcpdumpFilter; }
    public boolean jvmExceptionLog() { return jvmExceptionLog; }
    public boolean noLiveness() { return noLiveness; }
    public boolean noReadiness() { return noReadiness; }
    public boolean noStartup() { return noStartup; }
    public int debugPort() { return debugPort; }
    /** Zero: the default (8 hours). */
    public Duration ttl() { return Duration.ofSeconds(ttlS); }
    public boolean keepLabels() { return keepLabels; }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_replica_options toNative() {
        devkit_replica_options o = new devkit_replica_options(); // C defaults
        o.setSource_kind(source.value());
        o.setSource_name(sourceName);
        if (namespace != null) o.setNamespace_name(namespace);
        if (name != null) o.setName(name);
        if (owner != null) o.setOwner(owner);
        if (container != null) o.setContainer(container);
        o.setKeep_alive(keepAlive ? 1 : 0);
        if (command != null) o.setCommand(command);
        if (node != null) o.setNode_name(node);
        if (logFile != null) o.setLog_file(logFile);
        if (tag != null) o.setTraffic_tag(tag);
        o.setIstio(istio ? 1 : 0);
        if (tagHeader != null) o.setTag_header(tagHeader);
        if (istioHost != null) o.setIstio_host(istioHost);
        o.setTcpdump(tcpdump ? 1 : 0);
        if (tcpdumpImage != null) o.setTcpdump_image(tcpdumpImage);
        if (tcpdumpFilter != null) o.setTcpdump_filter(tcpdumpFilter);
        o.setJvm_exception_log(jvmExceptionLog ? 1 : 0);
        o.setNo_liveness(noLiveness ? 1 : 0);
        o.setNo_readiness(noReadiness ? 1 : 0);
        o.setNo_startup(noStartup ? 1 : 0);
        o.setDebug_port(debugPort);
        o.setTtl_s(ttlS);
        o.setKeep_labels(keepLabels ? 1 : 0);
        return o;
    }

    /** A copy of a struct C filled (a configuration's). */
    static ReplicaOptions fromNative(devkit_replica_options o) {
        Builder b = builder();
        b.source = ReplicaSource.of(o.getSource_kind());
        b.sourceName = o.getSource_name();
        b.namespace = o.getNamespace_name();
        b.name = o.getName();
        b.owner = o.getOwner();
        b.container = o.getContainer();
        b.keepAlive = o.getKeep_alive() != 0;
        b.command = o.getCommand();
        b.node = o.getNode_name();
        b.logFile = o.getLog_file();
        b.tag = o.getTraffic_tag();
        b.istio = o.getIstio() != 0;
        b.tagHeader = o.getTag_header();
        b.istioHost = o.getIstio_host();
        b.tcpdump = o.getTcpdump() != 0;
        b.tcpdumpImage = o.getTcpdump_image();
        b.tcpdumpFilter = o.getTcpdump_filter();
        b.jvmExceptionLog = o.getJvm_exception_log() != 0;
        b.noLiveness = o.getNo_liveness() != 0;
        b.noReadiness = o.getNo_readiness() != 0;
        b.noStartup = o.getNo_startup() != 0;
        b.debugPort = o.getDebug_port();
        b.ttlS = o.getTtl_s();
        b.keepLabels = o.getKeep_labels() != 0;
        return b.build();
    }

    @Override
    public String toString() {
        return "ReplicaOptions[" + source.name().toLowerCase(java.util.Locale.ROOT) + "/" + sourceName
            + (namespace != null ? ", namespace=" + namespace : "")
            + (name != null ? ", name=" + name : "")
            + (owner != null ? ", owner=" + owner : "")
            + (tag != null ? ", tag=" + tag : "") + "]";
    }

    public static final class Builder {
        private ReplicaSource source;
        private String sourceName;
        private String namespace;
        private String name;
        private String owner;
        private String container;
        private boolean keepAlive;
        private String command;
        private String node;
        private String logFile;
        private String tag;
        private boolean istio;
        private String tagHeader;
        private String istioHost;
        private boolean tcpdump;
        private String tcpdumpImage;
        private String tcpdumpFilter;
        private boolean jvmExceptionLog;
        private boolean noLiveness;
        private boolean noReadiness;
        private boolean noStartup;
        private int debugPort;
        private long ttlS;
        private boolean keepLabels;

        private Builder() {}

        /** What to copy; setting another source replaces it. */
        public Builder source(ReplicaSource source, String name) {
            if (source == ReplicaSource.UNKNOWN) {
                throw new IllegalArgumentException("unknown replica source");
            }
            this.source = Objects.requireNonNull(source, "source");
            this.sourceName = Objects.requireNonNull(name, "name");
            return this;
        }
        /** Copy this Pod. */
        public Builder pod(String name) { return source(ReplicaSource.POD, name); }
        /** Copy this Deployment's Pod template. */
        public Builder deployment(String name) { return source(ReplicaSource.DEPLOYMENT, name); }
        /** Copy this StatefulSet's Pod template. */
        public Builder statefulSet(String name) { return source(ReplicaSource.STATEFULSET, name); }
        /** Copy this DaemonSet's Pod template. */
        public Builder daemonSet(String name) { return source(ReplicaSource.DAEMONSET, name); }
        /** Namespace of the source and the copy; default: the client's. */
        public Builder namespace(String namespace) { this.namespace = namespace; return this; }
        /** The copy's name; default "&lt;source&gt;-&lt;owner&gt;-&lt;5 random chars&gt;". */
        public Builder name(String name) { this.name = name; return this; }
        /** Who it belongs to (a label value); default $USER. */
        public Builder owner(String owner) { this.owner = owner; return this; }
        /** The container the options apply to; default the first. */
        public Builder container(String container) { this.container = container; return this; }
        /** Keep the Pod up when the app exits (the app can be restarted inside). */
        public Builder keepAlive(boolean keepAlive) { this.keepAlive = keepAlive; return this; }
        /** Start command, a shell command line; default the image's. */
        public Builder command(String command) { this.command = command; return this; }
        /** Put the copy on this node (spec.nodeName). */
        public Builder node(String node) { this.node = node; return this; }
        /** Redirect the app's stdout and stderr to this file in the container. */
        public Builder logFile(String path) { this.logFile = path; return this; }
        /** Traffic tag: a label and, with {@link #istio}, a route for requests carrying it. */
        public Builder tag(String tag) { this.tag = tag; return this; }
        public Builder istio(boolean istio) { this.istio = istio; return this; }
        /** The header Istio routes on; default "x-devkit-tag". */
        public Builder tagHeader(String header) { this.tagHeader = header; return this; }
        /** The Service the Istio rules are for; default the source's name. */
        public Builder istioHost(String host) { this.istioHost = host; return this; }
        /** A tcpdump sidecar writing rotating pcap files to /devkit/pcap. */
        public Builder tcpdump(boolean tcpdump) { this.tcpdump = tcpdump; return this; }
        public Builder tcpdumpImage(String image) { this.tcpdumpImage = image; return this; }
        /** A BPF filter; default everything. */
        public Builder tcpdumpFilter(String filter) { this.tcpdumpFilter = filter; return this; }
        /** Exception logging in JAVA_TOOL_OPTIONS. */
        public Builder jvmExceptionLog(boolean on) { this.jvmExceptionLog = on; return this; }
        /** Remove the liveness probe (the one that kills a crashing app). */
        public Builder noLiveness(boolean remove) { this.noLiveness = remove; return this; }
        public Builder noReadiness(boolean remove) { this.noReadiness = remove; return this; }
        public Builder noStartup(boolean remove) { this.noStartup = remove; return this; }
        /** JDWP on this port (0: none). */
        public Builder debugPort(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("debugPort out of range: " + port);
            }
            this.debugPort = port;
            return this;
        }
        /** Expires this long after creation ({@link Kubernetes#gc}); zero: 8 hours. Whole seconds. */
        public Builder ttl(Duration ttl) {
            long s = ttl.toSeconds();
            if (s < 0 || s > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("ttl out of range: " + ttl);
            }
            this.ttlS = s;
            return this;
        }
        /** Keep the labels that the source's controllers and Services select. */
        public Builder keepLabels(boolean keep) { this.keepLabels = keep; return this; }

        /** @throws IllegalArgumentException if no source is set */
        public ReplicaOptions build() {
            return new ReplicaOptions(this);
        }
    }
}
