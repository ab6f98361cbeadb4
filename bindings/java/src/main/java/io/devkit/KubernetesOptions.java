// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Options of a {@link Kubernetes} client, the fields of {@code devkit_k8s_options}.
 * What is not set keeps the C default of {@code devkit_k8s_options_init()}:
 * $KUBECONFIG (several files merged as kubectl merges them), else
 * ~/.kube/config, else the in-cluster service account; the kubeconfig's
 * current context and its namespace (else "default"); 30 s per request and 3
 * retries on 429, 5xx and connection errors.
 *
 * <pre>{@code
 * KubernetesOptions o = KubernetesOptions.builder()
 *     .kubeconfig(Path.of(home, ".kube/config"))
 *     .context("dev-cluster").namespace("team-a")
 *     .timeout(Duration.ofSeconds(10))
 *     .build();
 * }</pre>
 */
public final class KubernetesOptions {
    private final String kubeconfig;
    private final String context;
    private final String namespace;
    private final Long timeoutMs;
    private final Long retries;
    private final String connectTo;

    private KubernetesOptions(Builder b) {
        kubeconfig = b.kubeconfig.isEmpty() ? null : String.join(":", b.kubeconfig);
        context = b.context;
        namespace = b.namespace;
        timeoutMs = b.timeoutMs;
        retries = b.retries;
        connectTo = b.connectTo;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** All defaults: $KUBECONFIG or ~/.kube/config, its current context. */
    public static KubernetesOptions defaults() {
        return builder().build();
    }

    /** The kubeconfig files, ':'-separated as $KUBECONFIG, if set. */
    public Optional<String> kubeconfig() {
        return Optional.ofNullable(kubeconfig);
    }

    /** The kubeconfig context, if set (else the current context). */
    public Optional<String> context() {
        return Optional.ofNullable(context);
    }

    /** The default namespace, if set (else the context's). */
    public Optional<String> namespace() {
        return Optional.ofNullable(namespace);
    }

    /** Per request (each try), if set. */
    public Optional<Duration> timeout() {
        return Optional.ofNullable(timeoutMs).map(Duration::ofMillis);
    }

    /** Tries after the first, if set. */
    public Optional<Integer> retries() {
        return Optional.ofNullable(retries).map(Long::intValue);
    }

    public Optional<String> connectTo() {
        return Optional.ofNullable(connectTo);
    }

    /** A native struct filled with these options; the caller deletes it. */
    devkit_k8s_options toNative() {
        devkit_k8s_options o = new devkit_k8s_options(); // C defaults
        if (kubeconfig != null) o.setKubeconfig(kubeconfig);
        if (context != null) o.setContext(context);
        if (namespace != null) o.setNamespace_name(namespace);
        if (timeoutMs != null) o.setTimeout_ms(timeoutMs);
        if (retries != null) o.setRetries(retries);
        if (connectTo != null) o.setConnect_to(connectTo);
        return o;
    }

    /** A copy of a struct C filled (a configuration's), every field set. */
    static KubernetesOptions fromNative(devkit_k8s_options o) {
        Builder b = builder();
        if (o.getKubeconfig() != null) {
            b.kubeconfig.add(o.getKubeconfig());
        }
        b.context = o.getContext();
        b.namespace = o.getNamespace_name();
        b.timeoutMs = o.getTimeout_ms();
        b.retries = o.getRetries();
        b.connectTo = o.getConnect_to();
        return b.build();
    }

    @Override
    public String toString() {
        return "KubernetesOptions[kubeconfig=" + kubeconfig + ", context=" + context + ", namespace="
            + namespace + ", timeoutMs=" + timeoutMs + ", retries=" + retries + ", connectTo="
            + connectTo + "]";
    }

    public static final class Builder {
        private final List<String> kubeconfig = new ArrayList<>();
        private String context;
        private String namespace;
        private Long timeoutMs;
        private Long retries;
        private String connectTo;

        private Builder() {}

        /** Kubeconfig files, merged in this order as kubectl merges $KUBECONFIG. */
        public Builder kubeconfig(Path... files) {
            kubeconfig.clear();
            for (Path f : files) {
                kubeconfig.add(f.toString());
            }
            return this;
        }

        /** Kubeconfig files as $KUBECONFIG spells them: ':'-separated. */
        public Builder kubeconfig(String paths) {
            kubeconfig.clear();
            kubeconfig.add(paths);
            return this;
        }

        /** The kubeconfig context to use instead of its current-context. */
        public Builder context(String context) { this.context = context; return this; }
        /** The namespace requests and replicas use by default. */
        public Builder namespace(String namespace) { this.namespace = namespace; return this; }
        /** Per request (each try); default 30 s. */
        public Builder timeout(Duration timeout) {
            long ms = timeout.toMillis();
            if (ms <= 0 || ms > 0xFFFF_FFFFL) {
                throw new IllegalArgumentException("timeout out of range: " + timeout);
            }
            this.timeoutMs = ms;
            return this;
        }
        /** Tries after the first on 429, 5xx and connection errors; default 3. */
        public Builder retries(int retries) {
            if (retries < 0) {
                throw new IllegalArgumentException("retries must not be negative");
            }
            this.retries = (long) retries;
            return this;
        }
        /**
         * Connect to this "host:port" instead of the server's (a tunnel forward to an
         * API server only the bastion reaches); TLS still checks the server's name.
         */
        public Builder connectTo(String hostPort) { this.connectTo = hostPort; return this; }

        public KubernetesOptions build() {
            return new KubernetesOptions(this);
        }

        /** Build and open a client on {@code ctx}: {@code Kubernetes.open(ctx, build())}. */
        public Kubernetes open(Context ctx) {
            return Kubernetes.open(ctx, build());
        }
    }
}
