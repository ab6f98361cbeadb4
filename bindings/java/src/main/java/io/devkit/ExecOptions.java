// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#exec(ExecOptions)} and
 * {@link Kubernetes#execRun(ExecOptions, byte[])}, the fields of
 * {@code devkit_exec_options} (devkit/exec.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, no stdin, no
 * terminal, the client's request timeout.
 *
 * <pre>{@code
 * ExecOptions o = ExecOptions.builder("web-1").container("app").command("cat /etc/os-release").build();
 * ExecOptions o = ExecOptions.builder("web-1").argv("ls", "-l", "/tmp dir").build();   // no shell
 * ExecOptions o = ExecOptions.builder("web-1").command("bash").stdin(true).tty(true).build();
 * }</pre>
 *
 * A command ({@link Builder#command} or {@link Builder#argv}) is required
 * unless {@link Builder#attach} is set.
 */
public final class ExecOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final String command;
    private final List<String> argv;
    private final boolean stdin;
    private final boolean tty;
    private final boolean attach;
    private final Duration timeout;

    private ExecOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        command = b.command;
        argv = b.argv;
        stdin = b.stdin;
        tty = b.tty;
        attach = b.attach;
        timeout = b.timeout;
    }

    /** The options for Pod {@code pod}. */
    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    /** null: the client's. */
    public String namespace() { return namespace; }
    /** null: the Pod's default container. */
    public String container() { return container; }
    /** The shell command line ({@code sh -c}), or null. */
    public String command() { return command; }
    /** The command run without a shell, or null. */
    public List<String> argv() { return argv; }
    public boolean stdin() { return stdin; }
    public boolean tty() { return tty; }
    public boolean attach() { return attach; }
    /** Connect and handshake; null: the client's request timeout. */
    public Duration timeout() { return timeout; }

    devkit_exec_options toNative() {
        devkit_exec_options o = new devkit_exec_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        if (command != null) o.setCommand(command);
        if (argv != null) o.setArgv_json(jsonArray(argv));
        o.setStdin_enabled(stdin ? 1 : 0);
        o.setTty(tty ? 1 : 0);
        o.setAttach(attach ? 1 : 0);
        o.setTimeout_ms(timeout == null ? 0 : Math.max(1, Replica.millis(timeout)));
        return o;
    }

    /** A JSON array of strings, as argv_json wants it. */
    static String jsonArray(List<String> items) {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < items.size(); i++) {
            if (i > 0) {
                sb.append(',');
            }
            quote(sb, items.get(i));
        }
        return sb.append(']').toString();
    }

    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                default:
                    if (c < 0x20) {
                        sb.append(String.format("\\u%04x", (int) c));
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    @Override
    public String toString() {
        return "ExecOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container
            + (command != null ? ", command=" + command : "") + (argv != null ? ", argv=" + argv : "")
            + ", stdin=" + stdin + ", tty=" + tty + ", attach=" + attach + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private String command;
        private List<String> argv;
        private boolean stdin;
        private boolean tty;
        private boolean attach;
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

        /** Run {@code sh -c command} (the container needs a shell); replaces {@link #argv}. */
        public Builder command(String command) {
            this.command = command;
            this.argv = null;
            return this;
        }

        /** Run this command as is, without a shell; replaces {@link #command}. */
        public Builder argv(List<String> argv) {
            if (argv.isEmpty()) {
                throw new IllegalArgumentException("argv needs at least the program");
            }
            this.argv = List.copyOf(argv);
            this.command = null;
            return this;
        }

        /** {@link #argv(List)} with the words given one by one. */
        public Builder argv(String... argv) {
            return argv(List.of(argv));
        }

        /** Send stdin ({@link ExecSession#write}); otherwise the command's stdin is closed. */
        public Builder stdin(boolean stdin) {
            this.stdin = stdin;
            return this;
        }

        /** A terminal: stdout and stderr arrive together on stdout; {@link ExecSession#resize} sets its size. */
        public Builder tty(boolean tty) {
            this.tty = tty;
            return this;
        }

        /** Attach to the container's running process instead of starting a command. */
        public Builder attach(boolean attach) {
            this.attach = attach;
            return this;
        }

        /** How long connecting and the WebSocket handshake may take; null: the client's request timeout. */
        public Builder timeout(Duration timeout) {
            this.timeout = timeout;
            return this;
        }

        /** @throws IllegalArgumentException without a command (and not attaching) */
        public ExecOptions build() {
            if (command == null && argv == null && !attach) {
                throw new IllegalArgumentException("a command (command or argv) is required unless attaching");
            }
            return new ExecOptions(this);
        }
    }
}
