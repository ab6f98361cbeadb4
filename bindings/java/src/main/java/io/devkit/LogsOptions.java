// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#logs(LogsOptions)}, the fields of
 * {@code devkit_logs_options} (devkit/diag.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, the whole
 * log, no follow, timestamps removed.
 *
 * <pre>{@code
 * LogsOptions o = LogsOptions.builder("web-1").container("app").follow(true).tailLines(100).build();
 * }</pre>
 */
public final class LogsOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final boolean follow;
    private final long sinceSeconds;
    private final String sinceTime;
    private final long tailLines;
    private final boolean previous;
    private final boolean timestamps;
    private final String file;
    private final int maxReconnects;

    private LogsOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        follow = b.follow;
        sinceSeconds = b.sinceSeconds;
        sinceTime = b.sinceTime;
        tailLines = b.tailLines;
        previous = b.previous;
        timestamps = b.timestamps;
        file = b.file;
        maxReconnects = b.maxReconnects;
    }

    /** The options for Pod {@code pod}. */
    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() {
        return pod;
    }

    /** null: the client's. */
    public String namespace() {
        return namespace;
    }

    /** null: the Pod's default container. */
    public String container() {
        return container;
    }

    public boolean follow() {
        return follow;
    }

    /** 0: no limit. */
    public long sinceSeconds() {
        return sinceSeconds;
    }

    public String sinceTime() {
        return sinceTime;
    }

    /** -1: all lines. */
    public long tailLines() {
        return tailLines;
    }

    public boolean previous() {
        return previous;
    }

    public boolean timestamps() {
        return timestamps;
    }

    public String file() {
        return file;
    }

    /** 0: the C default (10). */
    public int maxReconnects() {
        return maxReconnects;
    }

    devkit_logs_options toNative() {
        devkit_logs_options o = new devkit_logs_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        o.setFollow(follow ? 1 : 0);
        o.setSince_seconds(sinceSeconds);
        if (sinceTime != null) o.setSince_time(sinceTime);
        o.setTail_lines(tailLines);
        o.setPrevious(previous ? 1 : 0);
        o.setTimestamps(timestamps ? 1 : 0);
        if (file != null) o.setFile(file);
        o.setMax_reconnects(maxReconnects);
        return o;
    }

    @Override
    public String toString() {
        return "LogsOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container
            + ", follow=" + follow + ", sinceSeconds=" + sinceSeconds + ", sinceTime=" + sinceTime
            + ", tailLines=" + tailLines + ", previous=" + previous + ", timestamps=" + timestamps
            + ", file=" + file + ", maxReconnects=" + maxReconnects + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private boolean follow;
        private long sinceSeconds;
        private String sinceTime;
        private long tailLines = -1;
        private boolean previous;
        private boolean timestamps;
        private String file;
        private int maxReconnects;

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

        /** Keep reading as the container writes (kubectl logs -f), across reconnects. */
        public Builder follow(boolean follow) {
            this.follow = follow;
            return this;
        }

        /** Only lines of the last {@code since} (whole seconds). */
        public Builder since(Duration since) {
            this.sinceSeconds = since == null ? 0 : Math.max(0, since.getSeconds());
            return this;
        }

        /** Only lines since this RFC 3339 time ("2024-05-01T12:00:00Z"). */
        public Builder sinceTime(String sinceTime) {
            this.sinceTime = sinceTime;
            return this;
        }

        /** Only the last {@code n} lines (-1: all). */
        public Builder tailLines(long n) {
            this.tailLines = n;
            return this;
        }

        /** The log of the container's previous instance (the one that crashed). */
        public Builder previous(boolean previous) {
            this.previous = previous;
            return this;
        }

        /** Keep the kubelet's RFC 3339 timestamp in front of each line. */
        public Builder timestamps(boolean timestamps) {
            this.timestamps = timestamps;
            return this;
        }

        /** Append the lines to this file instead; reading then only waits for the end. */
        public Builder file(String file) {
            this.file = file;
            return this;
        }

        /** Reconnect attempts in a row bringing no new line before giving up (0: 10). */
        public Builder maxReconnects(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("maxReconnects must be >= 0");
            }
            this.maxReconnects = n;
            return this;
        }

        public LogsOptions build() {
            return new LogsOptions(this);
        }
    }
}
