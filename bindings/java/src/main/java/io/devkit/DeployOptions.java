// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#deploy(DeployOptions)}, the fields of
 * {@code devkit_deploy_options} (devkit/live.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, restart after
 * copying, only what changed since the last deploy, 120 s per step.
 *
 * <pre>{@code
 * DeployOptions o = DeployOptions.builder("orders-alice-x7k2p")
 *     .localPath(Path.of("target/classes")).remoteDir("/app/classes")
 *     .listener((stage, done, total) -> progressBar.set(stage, done, total))
 *     .build();
 * }</pre>
 */
public final class DeployOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final Path localPath;
    private final String remoteDir;
    private final boolean restart;
    private final boolean full;
    private final Duration timeout;
    private final DeployListener listener;

    private DeployOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        localPath = b.localPath;
        remoteDir = b.remoteDir;
        restart = b.restart;
        full = b.full;
        timeout = b.timeout;
        listener = b.listener;
    }

    /** The options for Pod {@code pod} (a replica made with keep-alive, for the restart). */
    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    /** null: the client's. */
    public String namespace() { return namespace; }
    /** null: the Pod's default container. */
    public String container() { return container; }
    /** null: copy nothing (restart only). */
    public Path localPath() { return localPath; }
    public String remoteDir() { return remoteDir; }
    public boolean restart() { return restart; }
    public boolean full() { return full; }
    /** Per exec step; null: the C default (120 s). */
    public Duration timeout() { return timeout; }
    public DeployListener listener() { return listener; }

    devkit_deploy_options toNative() {
        devkit_deploy_options o = new devkit_deploy_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        if (localPath != null) o.setLocal_path(localPath.toString());
        if (remoteDir != null) o.setRemote_dir(remoteDir);
        o.setRestart(restart ? 1 : 0);
        o.setFull(full ? 1 : 0);
        o.setTimeout_ms(timeout == null ? 0 : Math.max(1, Replica.millis(timeout)));
        return o;
    }

    @Override
    public String toString() {
        return "DeployOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container
            + ", localPath=" + localPath + ", remoteDir=" + remoteDir + ", restart=" + restart + ", full=" + full + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private Path localPath;
        private String remoteDir;
        private boolean restart = true;
        private boolean full;
        private Duration timeout;
        private DeployListener listener;

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

        /**
         * A local file or directory: a file lands as {@code remoteDir/NAME}, a
         * directory's contents under {@code remoteDir} (as {@code rsync dir/ remoteDir}).
         */
        public Builder localPath(Path localPath) {
            this.localPath = localPath;
            return this;
        }

        /** The directory in the container (made if missing); required with a local path. */
        public Builder remoteDir(String remoteDir) {
            this.remoteDir = remoteDir;
            return this;
        }

        /** Restart the app under the keep-alive once copied (default true); the Pod keeps running. */
        public Builder restart(boolean restart) {
            this.restart = restart;
            return this;
        }

        /** Send every file, not only those that changed since the last deploy to remoteDir. */
        public Builder full(boolean full) {
            this.full = full;
            return this;
        }

        /** How long each step (an exec) may take; null: 120 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** Progress, on the deploying thread. */
        public Builder listener(DeployListener listener) {
            this.listener = listener;
            return this;
        }

        public DeployOptions build() {
            return new DeployOptions(this);
        }
    }
}
