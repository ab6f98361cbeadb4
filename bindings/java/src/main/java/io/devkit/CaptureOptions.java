// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#capture(CaptureOptions)}, the fields of
 * {@code devkit_capture_options} (devkit/diag.h). What is not set keeps the C
 * default: the client's namespace, the replica's tcpdump sidecar when the Pod
 * has one (else its default container), every packet on "any", text, until
 * stopped.
 *
 * <pre>{@code
 * CaptureOptions o = CaptureOptions.builder("web-1").filter("tcp port 8080")
 *     .format(CaptureFormat.PCAP).file(Path.of("web-1.pcap")).duration(Duration.ofSeconds(30)).build();
 * }</pre>
 */
public final class CaptureOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final String filter;
    private final String interfaceName;
    private final CaptureFormat format;
    private final Path file;
    private final Duration duration;
    private final long maxPackets;
    private final int snaplen;

    private CaptureOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        filter = b.filter;
        interfaceName = b.interfaceName;
        format = b.format;
        file = b.file;
        duration = b.duration;
        maxPackets = b.maxPackets;
        snaplen = b.snaplen;
    }

    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    public String namespace() { return namespace; }
    public String container() { return container; }
    public String filter() { return filter; }
    public String interfaceName() { return interfaceName; }
    public CaptureFormat format() { return format; }
    public Path file() { return file; }
    public Duration duration() { return duration; }
    public long maxPackets() { return maxPackets; }
    public int snaplen() { return snaplen; }

    devkit_capture_options toNative() {
        devkit_capture_options o = new devkit_capture_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        if (filter != null) o.setFilter(filter);
        if (interfaceName != null) o.setInterface_name(interfaceName);
        o.setFormat(format.value());
        if (file != null) o.setFile(file.toString());
        o.setDuration_ms(duration == null ? 0 : Math.max(1, Replica.millis(duration)));
        o.setMax_packets(maxPackets);
        o.setSnaplen(snaplen);
        return o;
    }

    @Override
    public String toString() {
        return "CaptureOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container + ", filter="
            + filter + ", interface=" + interfaceName + ", format=" + format + ", file=" + file + ", duration="
            + duration + ", maxPackets=" + maxPackets + ", snaplen=" + snaplen + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private String filter;
        private String interfaceName;
        private CaptureFormat format = CaptureFormat.TEXT;
        private Path file;
        private Duration duration;
        private long maxPackets;
        private int snaplen;

        private Builder(String pod) {
            this.pod = Objects.requireNonNull(pod, "pod");
        }

        public Builder namespace(String namespace) {
            this.namespace = namespace;
            return this;
        }

        /** The container tcpdump runs in; default the tcpdump sidecar, else the Pod's default. */
        public Builder container(String container) {
            this.container = container;
            return this;
        }

        /** A BPF filter ("tcp port 8080"); default every packet. */
        public Builder filter(String filter) {
            this.filter = filter;
            return this;
        }

        /** The interface; default "any". */
        public Builder interfaceName(String interfaceName) {
            this.interfaceName = interfaceName;
            return this;
        }

        public Builder format(CaptureFormat format) {
            this.format = Objects.requireNonNull(format, "format");
            return this;
        }

        /** Write here (created 0644, truncated) instead of handing the output to the reader. */
        public Builder file(Path file) {
            this.file = file;
            return this;
        }

        /** Stop after this long; null: until {@link Capture#stop()}. */
        public Builder duration(Duration duration) {
            this.duration = duration;
            return this;
        }

        /** Stop after this many packets (tcpdump -c); 0: no limit. */
        public Builder maxPackets(long maxPackets) {
            if (maxPackets < 0) {
                throw new IllegalArgumentException("maxPackets must be >= 0");
            }
            this.maxPackets = maxPackets;
            return this;
        }

        /** Bytes kept of each packet (tcpdump -s); 0: all. */
        public Builder snaplen(int snaplen) {
            if (snaplen < 0) {
                throw new IllegalArgumentException("snaplen must be >= 0");
            }
            this.snaplen = snaplen;
            return this;
        }

        public CaptureOptions build() {
            return new CaptureOptions(this);
        }
    }
}
