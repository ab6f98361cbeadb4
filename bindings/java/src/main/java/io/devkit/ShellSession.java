// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.InputStream;
import java.io.OutputStream;
import java.time.Duration;
import java.util.Optional;

/**
 * An interactive shell on a terminal in a container whose every command line,
 * time, user, Pod and exit status go to an audit log
 * ({@link Kubernetes#shell(ShellOptions)}). Relay the user's terminal: bytes
 * typed go to {@link #write} (or {@link #getOutputStream()}), output for the
 * terminal comes from {@link #read} (or {@link #getInputStream()}), with the
 * audit's markers already removed. One thread reads, any thread writes.
 *
 * <p>As in C, it lives until it or its client is closed. Closing records a
 * command line typed but not finished with exit_status null.
 */
public final class ShellSession implements AutoCloseable {
    private final ExecSession core;

    static final ExecSession.NativeIo SHELL_IO = new ExecSession.NativeIo() {
        @Override
        public int read(long ptr, int[] stream, byte[][] out, int timeoutMs) {
            stream[0] = ExecStream.STDOUT.value(); // a terminal: one stream
            return DevkitC.devkit_shell_read(ptr, out, timeoutMs);
        }

        @Override
        public int write(long ptr, byte[] data) {
            return DevkitC.devkit_shell_write(ptr, data);
        }

        @Override
        public int resize(long ptr, int cols, int rows) {
            return DevkitC.devkit_shell_resize(ptr, cols, rows);
        }

        @Override
        public int await(long ptr, int timeoutMs, int[] exitCode) {
            return DevkitC.devkit_shell_wait(ptr, timeoutMs, exitCode);
        }

        @Override
        public int closeStdin(long ptr) {
            throw new UnsupportedException("a shell's input ends with what is typed (exit, Ctrl-D)",
                DevkitException.EUNSUPPORTED);
        }
    };

    /** Called while the client is entered. */
    ShellSession(Kubernetes k8s, long ptr, String what) {
        this.core = new ExecSession(k8s, ptr, what, true, true, SHELL_IO, DevkitC::devkit_shell_free, null);
    }

    public Kubernetes kubernetes() {
        return core.kubernetes();
    }

    /**
     * Output for the user's terminal, or empty when none came within
     * {@code timeout} (null: no limit).
     *
     * @throws ClosedException once the shell has ended and everything was read, or once closed
     */
    public Optional<byte[]> read(Duration timeout) {
        return core.read(timeout).map(ExecOutput::data);
    }

    /** The terminal's output as a stream; -1 once the shell has ended. */
    public InputStream getInputStream() {
        return core.getInputStream();
    }

    /** The user's keystrokes, as typed (Enter is "\r" on a terminal, "\n" works too). */
    public void write(byte[] keys) {
        core.write(keys);
    }

    /** {@link #write(byte[])} as a stream; closing it does nothing (type "exit"). */
    public OutputStream getOutputStream() {
        OutputStream out = core.getOutputStream();
        return new OutputStream() {
            @Override
            public void write(int b) throws java.io.IOException {
                out.write(b);
            }

            @Override
            public void write(byte[] b, int off, int len) throws java.io.IOException {
                out.write(b, off, len);
            }
        };
    }

    public void resize(int cols, int rows) {
        core.resize(cols, rows);
    }

    /**
     * Wait for the shell to end and give its exit code; what it still wrote is
     * kept for {@link #read}.
     *
     * @param timeout null: no limit
     * @throws TimeoutException if it has not ended in time
     */
    public int waitFor(Duration timeout) {
        return core.waitFor(timeout);
    }

    /** Commands recorded in the audit so far. */
    public long commands() {
        long ptr = core.life.enter();
        try {
            return DevkitC.devkit_shell_commands(ptr);
        } finally {
            core.life.leave();
        }
    }

    public boolean isClosed() {
        return core.isClosed();
    }

    /** End the shell and free it. Idempotent; any thread. */
    @Override
    public void close() {
        core.close();
    }

    @Override
    public String toString() {
        return core.toString().replaceFirst("^ExecSession", "ShellSession");
    }
}
