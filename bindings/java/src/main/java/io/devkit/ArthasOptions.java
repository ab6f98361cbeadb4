// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#arthasRun(ArthasOptions)} and
 * {@link Kubernetes#arthasConsole(ArthasOptions)}, the fields of
 * {@code devkit_arthas_options} (devkit/live.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, the JVM the
 * keep-alive runs (else the only Java process), {@code $JAVA_HOME/bin/java}
 * or java on PATH, 120 s for the whole call.
 *
 * <pre>{@code
 * ArthasOptions o = ArthasOptions.builder("orders-alice-x7k2p")
 *     .packagePath(Path.of(home, ".devkit/arthas-bin.zip")).command("thread -n 3").build();
 * }</pre>
 */
public final class ArthasOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final Path packagePath;
    private final int pid;
    private final String command;
    private final String java;
    private final Duration timeout;

    private ArthasOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        packagePath = b.packagePath;
        pid = b.pid;
        command = b.command;
        java = b.java;
        timeout = b.timeout;
    }

    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    public String namespace() { return namespace; }
    public String container() { return container; }
    /** Arthas on this machine: arthas-bin.zip, or the directory it unpacks to. */
    public Path packagePath() { return packagePath; }
    /** 0: the app the keep-alive runs, else the only Java process. */
    public int pid() { return pid; }
    public String command() { return command; }
    public String java() { return java; }
    public Duration timeout() { return timeout; }

    devkit_arthas_options toNative() {
        devkit_arthas_options o = new devkit_arthas_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        if (packagePath != null) o.set_package(packagePath.toString());
        o.setPid(pid);
        if (command != null) o.setCommand(command);
        if (java != null) o.setJava(java);
        o.setTimeout_ms(timeout == null ? 0 : Math.max(1, Replica.millis(timeout)));
        return o;
    }

    @Override
    public String toString() {
        return "ArthasOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container
            + ", package=" + packagePath + ", pid=" + pid + ", command=" + command + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private Path packagePath;
        private int pid;
        private String command;
        private String java;
        private Duration timeout;

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
         * Arthas on this machine: the arthas-bin.zip of the Arthas releases (or
         * Maven Central's arthas-packaging-VERSION-bin.zip), or the directory it
         * unpacks to. Copied into the container once (kept by version). Required.
         */
        public Builder packagePath(Path packagePath) {
            this.packagePath = packagePath;
            return this;
        }

        /** The JVM's pid in the container (0: the keep-alive's app, else the only Java process). */
        public Builder pid(int pid) {
            if (pid < 0) {
                throw new IllegalArgumentException("pid must be >= 0");
            }
            this.pid = pid;
            return this;
        }

        /** The Arthas command(s) for {@link Kubernetes#arthasRun} ("thread -n 3"; several separated by ';'). */
        public Builder command(String command) {
            this.command = command;
            return this;
        }

        /** java in the container; default $JAVA_HOME/bin/java, else java on PATH. */
        public Builder java(String java) {
            this.java = java;
            return this;
        }

        /** For the whole call; null: 120 s. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        public ArthasOptions build() {
            return new ArthasOptions(this);
        }
    }
}
