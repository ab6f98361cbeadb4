// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.nio.file.Path;
import java.util.Objects;

/**
 * Options of {@link Kubernetes#shell(ShellOptions)}, the fields of
 * {@code devkit_shell_options} (devkit/live.h). What is not set keeps the C
 * default: the client's namespace, the Pod's default container, bash when the
 * container has it (else sh), no audit file, no audit events, the local user
 * name, an 80x24 terminal.
 *
 * <pre>{@code
 * ShellOptions o = ShellOptions.builder("orders-alice-x7k2p")
 *     .auditLog(Path.of(home, ".devkit/audit.jsonl")).auditEvents(true).size(120, 40).build();
 * }</pre>
 */
public final class ShellOptions {
    private final String pod;
    private final String namespace;
    private final String container;
    private final String shell;
    private final Path auditLog;
    private final boolean auditEvents;
    private final String user;
    private final int cols;
    private final int rows;

    private ShellOptions(Builder b) {
        pod = b.pod;
        namespace = b.namespace;
        container = b.container;
        shell = b.shell;
        auditLog = b.auditLog;
        auditEvents = b.auditEvents;
        user = b.user;
        cols = b.cols;
        rows = b.rows;
    }

    public static Builder builder(String pod) {
        return new Builder(pod);
    }

    public String pod() { return pod; }
    public String namespace() { return namespace; }
    public String container() { return container; }
    public String shell() { return shell; }
    public Path auditLog() { return auditLog; }
    public boolean auditEvents() { return auditEvents; }
    public String user() { return user; }
    public int cols() { return cols; }
    public int rows() { return rows; }

    devkit_shell_options toNative() {
        devkit_shell_options o = new devkit_shell_options(); // C defaults
        o.setPod(pod);
        if (namespace != null) o.setNamespace_name(namespace);
        if (container != null) o.setContainer(container);
        if (shell != null) o.setShell(shell);
        if (auditLog != null) o.setAudit_log(auditLog.toString());
        o.setAudit_events(auditEvents ? 1 : 0);
        if (user != null) o.setUser(user);
        o.setCols(cols);
        o.setRows(rows);
        return o;
    }

    @Override
    public String toString() {
        return "ShellOptions[pod=" + pod + ", namespace=" + namespace + ", container=" + container + ", shell=" + shell
            + ", auditLog=" + auditLog + ", auditEvents=" + auditEvents + ", user=" + user + ", size=" + cols + "x"
            + rows + "]";
    }

    public static final class Builder {
        private final String pod;
        private String namespace;
        private String container;
        private String shell;
        private Path auditLog;
        private boolean auditEvents;
        private String user;
        private int cols;
        private int rows;

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

        /** The shell in the container ("bash", "sh"); default bash when it has one, else sh. */
        public Builder shell(String shell) {
            this.shell = shell;
            return this;
        }

        /**
         * Append one JSON line per command to this file on this machine (created
         * 0600): time, end_time, user, namespace, pod, container, command,
         * exit_status. The shell does not start if it cannot be opened.
         */
        public Builder auditLog(Path auditLog) {
            this.auditLog = auditLog;
            return this;
        }

        /** Also record each command as an Event on the Pod (reason DevkitShellCommand). */
        public Builder auditEvents(boolean auditEvents) {
            this.auditEvents = auditEvents;
            return this;
        }

        /** Who, for the audit; default the local user name. */
        public Builder user(String user) {
            this.user = user;
            return this;
        }

        /** The terminal's size at start (0, 0: 80x24). */
        public Builder size(int cols, int rows) {
            if (cols < 0 || rows < 0) {
                throw new IllegalArgumentException("a size is >= 0");
            }
            this.cols = cols;
            this.rows = rows;
            return this;
        }

        public ShellOptions build() {
            return new ShellOptions(this);
        }
    }
}
