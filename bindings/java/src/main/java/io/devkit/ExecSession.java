// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.LongConsumer;

/**
 * A command running in a container, or an attach to its main process
 * ({@link Kubernetes#exec(ExecOptions)}, {@link Kubernetes#arthasConsole}),
 * over a WebSocket to the API server. Shaped like {@link Process}:
 *
 * <pre>{@code
 * try (ExecSession s = k8s.exec(ExecOptions.builder("web-1").command("cat").stdin(true).build())) {
 *     s.write("hello\n".getBytes(StandardCharsets.UTF_8));
 *     s.closeStdin();
 *     ExecResult r = s.collect(Duration.ofSeconds(30));   // all output, then the exit code
 * }
 * }</pre>
 *
 * <p>Output comes either chunk by chunk from {@link #read(Duration)}, or through
 * the stream views {@link #getInputStream()} (stdout) and {@link #getErrorStream()}
 * (stderr); use one way or the other. As with a {@link Process}, a command whose
 * output nobody reads stops (about 1 MiB waits per stream): read both views, or
 * close the one you do not want (its bytes are then dropped).
 * {@link #getOutputStream()} writes stdin; closing it closes stdin.
 *
 * <p>Reads and waits stay inside C for at most {@link SliceReader#READ_SLICE_MS}
 * at a time, so {@link #close()} from another thread ends them within about
 * that. A {@link #write} blocked because the command does not read its stdin
 * holds a close back until the command reads or ends.
 *
 * <p>As in C, a session lives until it or its client is closed (the client's
 * close closes it first), even if the program dropped it. Closing ends the
 * session; what happens to the command then is the server's decision.
 */
public final class ExecSession implements AutoCloseable {
    /** The largest piece of one {@link #write} handed to C at a time. */
    static final int WRITE_CHUNK = 256 * 1024;
    /** Bytes kept for a stream view that is not being read before the other one waits. */
    static final long PENDING_MAX = 1L << 20;

    private final Kubernetes k8s; // keeps the client alive
    final Lifetime life;
    private final Cleaner.Cleanable cleanable;
    private final String what;
    private final String protocol;
    private final boolean stdinEnabled;
    private final boolean tty;
    /** Shell sessions read through devkit_shell_read, which gives no stream number. */
    private final NativeIo io;
    /** devkit_shell_wait reads what is left: it takes turns with the readers. */
    private final boolean waitReads;

    private final Object readLock = new Object();
    private final Object writeLock = new Object();
    /** Guards the demultiplexed output below. */
    private final Object lock = new Object();
    private final List<ArrayDeque<byte[]>> pending = List.of(new ArrayDeque<>(), new ArrayDeque<>());
    private final long[] pendingBytes = new long[2];
    private final boolean[] viewClosed = new boolean[2];
    private boolean ended;
    private DevkitException endError;

    /** The C calls of one kind of session. */
    interface NativeIo {
        /** As devkit_exec_read: bytes (stream[0] set), 0 at the end, TimeoutException when none came. */
        int read(long ptr, int[] stream, byte[][] out, int timeoutMs);

        int write(long ptr, byte[] data);

        int resize(long ptr, int cols, int rows);

        int await(long ptr, int timeoutMs, int[] exitCode);

        int closeStdin(long ptr);
    }

    static final NativeIo EXEC_IO = new NativeIo() {
        @Override
        public int read(long ptr, int[] stream, byte[][] out, int timeoutMs) {
            return DevkitC.devkit_exec_read(ptr, stream, out, timeoutMs);
        }

        @Override
        public int write(long ptr, byte[] data) {
            return DevkitC.devkit_exec_write(ptr, data);
        }

        @Override
        public int resize(long ptr, int cols, int rows) {
            return DevkitC.devkit_exec_resize(ptr, cols, rows);
        }

        @Override
        public int await(long ptr, int timeoutMs, int[] exitCode) {
            return DevkitC.devkit_exec_wait(ptr, timeoutMs, exitCode);
        }

        @Override
        public int closeStdin(long ptr) {
            return DevkitC.devkit_exec_close_stdin(ptr);
        }
    };

    /** A devkit_exec handle (called while the client is entered). */
    ExecSession(Kubernetes k8s, long ptr, String what, boolean stdinEnabled, boolean tty) {
        this(k8s, ptr, what, stdinEnabled, tty, EXEC_IO, DevkitC::devkit_exec_free, DevkitC.devkit_exec_protocol(ptr));
    }

    ExecSession(Kubernetes k8s, long ptr, String what, boolean stdinEnabled, boolean tty, NativeIo io,
                LongConsumer free, String protocol) {
        this.k8s = k8s;
        this.what = what;
        this.stdinEnabled = stdinEnabled;
        this.tty = tty;
        this.io = io;
        this.waitReads = io != EXEC_IO;
        this.protocol = protocol;
        // Called while the client is entered, so its close() frees this session first.
        this.life = new Lifetime(what, ptr, free, k8s.life, false);
        k8s.streams.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    public Kubernetes kubernetes() {
        return k8s;
    }

    /** The subprotocol the server chose: "v5.channel.k8s.io" or "v4.channel.k8s.io". */
    public String protocol() {
        return protocol;
    }

    /** Whether the session has a terminal (all output on stdout). */
    public boolean isTty() {
        return tty;
    }

    // -- output ----------------------------------------------------------------

    /**
     * The next bytes the command wrote, or empty when none came within
     * {@code timeout} (null: no limit; zero: do not wait).
     *
     * @throws ClosedException once the output has ended (both streams) and
     *         everything was read, or once closed
     * @throws DevkitException the error that ended the session (the server's
     *         message), after the bytes that came before it
     */
    public Optional<ExecOutput> read(Duration timeout) {
        long deadline = deadline(timeout);
        while (true) {
            ExecOutput o = pull(-1, slice(deadline));
            if (o != null) {
                return Optional.of(o);
            }
            if (deadline >= 0 && System.nanoTime() - deadline >= 0) {
                return Optional.empty();
            }
        }
    }

    /** Whether the output has ended (both streams) and a read saw it. */
    public boolean isEnded() {
        synchronized (lock) {
            return ended;
        }
    }

    /**
     * Read everything until the output ends, then wait for the exit code.
     *
     * @param timeout for the whole; null: no limit
     * @throws TimeoutException if the command has not ended in time
     */
    public ExecResult collect(Duration timeout) {
        long deadline = deadline(timeout);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        while (true) {
            Optional<ExecOutput> o;
            try {
                o = read(remaining(deadline, timeout));
            } catch (ClosedException end) {
                if (!isEnded()) {
                    throw end; // closed, not ended
                }
                break;
            }
            if (o.isEmpty()) {
                throw new TimeoutException(what + ": still writing output after " + timeout.toMillis() + " ms",
                    DevkitException.ETIMEOUT);
            }
            (o.get().stream() == ExecStream.STDERR ? err : out).writeBytes(o.get().data());
        }
        return new ExecResult(waitFor(remaining(deadline, timeout)), out.toByteArray(), err.toByteArray());
    }

    /**
     * The next output of stream {@code want} (0 stdout, 1 stderr, -1 either):
     * what is kept for it first, else one read of C (at most a slice). Bytes of
     * the other stream read on the way are kept for its view (dropped once that
     * view is closed). Null when nothing for {@code want} came. Queues are
     * checked and filled under the read lock, so each stream keeps its order.
     *
     * @throws ClosedException at the end (everything read) or once closed;
     *         the exception that ended the session
     */
    private ExecOutput pull(int want, int sliceMs) {
        synchronized (readLock) {
            synchronized (lock) {
                for (int i = 0; i < 2; i++) {
                    if (want >= 0 && i != want) {
                        continue;
                    }
                    byte[] b = pending.get(i).poll();
                    if (b != null) {
                        pendingBytes[i] -= b.length;
                        lock.notifyAll();
                        return new ExecOutput(i == 0 ? ExecStream.STDOUT : ExecStream.STDERR, b);
                    }
                }
                if (ended) {
                    throw endException();
                }
            }
            int[] stream = new int[1];
            byte[][] out = new byte[1][];
            int n;
            long ptr = life.enter();
            try {
                n = io.read(ptr, stream, out, sliceMs);
            } catch (TimeoutException none) {
                return null;
            } catch (DevkitException e) {
                end(e);
                throw e;
            } finally {
                life.leave();
            }
            if (n == 0) {
                end(null);
                return null;
            }
            ExecOutput o = new ExecOutput(ExecStream.of(stream[0]), out[0]);
            int got = o.stream() == ExecStream.STDERR ? 1 : 0;
            if (want < 0 || got == want) {
                return o;
            }
            synchronized (lock) {
                if (!viewClosed[got]) {
                    pending.get(got).add(o.data());
                    pendingBytes[got] += o.data().length;
                    lock.notifyAll();
                }
            }
            return null;
        }
    }

    private void end(DevkitException error) {
        synchronized (lock) {
            ended = true;
            endError = error;
            lock.notifyAll();
        }
    }

    private DevkitException endException() {
        return endError != null ? endError
            : new ClosedException(what + ": the output has ended", DevkitException.ECLOSED);
    }

    /**
     * The next bytes of stream {@code s} for its view, null at the end. While
     * {@link #PENDING_MAX} bytes wait for the other view, this one waits for
     * room (outside the read lock, so the other view can take them).
     */
    private byte[] next(int s) throws IOException {
        int other = 1 - s;
        while (true) {
            synchronized (lock) {
                if (viewClosed[s]) {
                    throw new IOException("Stream closed");
                }
                while (pendingBytes[other] >= PENDING_MAX && !viewClosed[other] && pending.get(s).isEmpty()
                    && !ended && !life.isClosed()) {
                    try {
                        lock.wait(SliceReader.READ_SLICE_MS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new java.io.InterruptedIOException("interrupted while waiting for output");
                    }
                }
            }
            ExecOutput o;
            try {
                o = pull(s, SliceReader.READ_SLICE_MS);
            } catch (ClosedException e) {
                synchronized (lock) {
                    if (ended && endError == null && !life.isClosed()) {
                        return null; // the end
                    }
                }
                throw new IOException(life.isClosed() ? "Stream closed" : e.getMessage(), e);
            } catch (DevkitException e) {
                throw new IOException(e.getMessage(), e);
            }
            if (o != null) {
                return o.data();
            }
        }
    }

    /** The command's stdout as a stream (with a terminal: all its output); -1 at the end. */
    public InputStream getInputStream() {
        return new View(0);
    }

    /** The command's stderr as a stream (empty with a terminal); -1 at the end. */
    public InputStream getErrorStream() {
        return new View(1);
    }

    private final class View extends InputStream {
        private final int s;
        private byte[] cur;
        private int pos;

        View(int s) {
            this.s = s;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            Objects.checkFromIndexSize(off, len, b.length);
            if (len == 0) {
                return 0;
            }
            if (cur == null || pos == cur.length) {
                cur = next(s);
                pos = 0;
                if (cur == null) {
                    return -1;
                }
            }
            int n = Math.min(len, cur.length - pos);
            System.arraycopy(cur, pos, b, off, n);
            pos += n;
            return n;
        }

        @Override
        public int available() {
            synchronized (lock) {
                return (int) Math.min(Integer.MAX_VALUE, (cur == null ? 0 : cur.length - pos) + pendingBytes[s]);
            }
        }

        /** Stop reading this stream: its bytes are dropped from now on. The session stays open. */
        @Override
        public void close() {
            synchronized (lock) {
                viewClosed[s] = true;
                pending.get(s).clear();
                pendingBytes[s] = 0;
                lock.notifyAll();
            }
            cur = null;
        }
    }

    // -- input -----------------------------------------------------------------

    /**
     * Send bytes to the command's stdin. Blocks while about 1 MiB is still
     * waiting to be sent (the command is not reading).
     *
     * @throws InvalidArgumentException without {@link ExecOptions.Builder#stdin}, or once stdin is closed
     * @throws DevkitException the error that ended the session
     */
    public void write(byte[] data) {
        write(data, 0, data.length);
    }

    public void write(byte[] data, int off, int len) {
        Objects.checkFromIndexSize(off, len, data.length);
        synchronized (writeLock) {
            do {
                int n = Math.min(len, WRITE_CHUNK);
                byte[] piece = off == 0 && n == data.length ? data : Arrays.copyOfRange(data, off, off + n);
                long ptr = life.enter();
                try {
                    io.write(ptr, piece);
                } finally {
                    life.leave();
                }
                off += n;
                len -= n;
            } while (len > 0);
        }
    }

    /**
     * End of stdin: the command reads EOF once what was written is sent.
     *
     * @throws UnsupportedException when the server speaks v4.channel.k8s.io
     *         (Kubernetes before 1.29 cannot half-close stdin)
     */
    public void closeStdin() {
        long ptr = life.enter();
        try {
            io.closeStdin(ptr);
        } finally {
            life.leave();
        }
    }

    /** The command's stdin as a stream; closing it closes stdin ({@link #closeStdin()}). */
    public OutputStream getOutputStream() {
        return new OutputStream() {
            private boolean closed;

            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (closed) {
                    throw new IOException("Stream closed");
                }
                try {
                    ExecSession.this.write(b, off, len);
                } catch (DevkitException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }

            @Override
            public void close() throws IOException {
                if (closed) {
                    return;
                }
                closed = true;
                if (!stdinEnabled || life.isClosed()) {
                    return;
                }
                try {
                    closeStdin();
                } catch (DevkitException e) {
                    throw new IOException(e.getMessage(), e);
                }
            }
        };
    }

    /** Set the terminal's size (sessions with a terminal only). */
    public void resize(int cols, int rows) {
        long ptr = life.enter();
        try {
            io.resize(ptr, cols, rows);
        } finally {
            life.leave();
        }
    }

    // -- the end -----------------------------------------------------------------

    /**
     * Wait for the command to end and give its exit code (0 for success, N for
     * "command terminated with non-zero exit code"). Does not read output: read
     * it (or close the views) first, since a command blocked on unread output
     * never ends; or use {@link #collect}.
     *
     * @param timeout null: no limit
     * @throws TimeoutException if it has not ended in time
     * @throws DevkitException another failure the server reports (the
     *         executable is missing, the container is gone), with its message
     */
    public int waitFor(Duration timeout) {
        long deadline = deadline(timeout);
        while (true) {
            int[] code = new int[1];
            long ptr = life.enter();
            try {
                if (waitReads) {
                    synchronized (readLock) {
                        io.await(ptr, slice(deadline), code);
                    }
                } else {
                    io.await(ptr, slice(deadline), code);
                }
                return code[0];
            } catch (TimeoutException e) {
                if (deadline >= 0 && System.nanoTime() - deadline >= 0) {
                    throw new TimeoutException(what + ": still running after " + timeout.toMillis() + " ms",
                        e.code());
                }
            } finally {
                life.leave();
            }
        }
    }

    /** {@link #waitFor(Duration)} without a time limit. */
    public int waitFor() {
        return waitFor(null);
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** End the session and free it. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
        synchronized (lock) {
            lock.notifyAll(); // views waiting for room
        }
    }

    @Override
    public String toString() {
        return "ExecSession[" + what + ", " + protocol + (isClosed() ? ", closed" : "") + "]";
    }

    // -- time --------------------------------------------------------------------

    /** System.nanoTime() deadline, or -1 for no limit. */
    static long deadline(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            return -1;
        }
        return System.nanoTime() + Math.min(timeout.toNanos(), Long.MAX_VALUE / 4);
    }

    /** The next slice in ms: at most READ_SLICE_MS, 0 once the deadline passed. */
    static int slice(long deadline) {
        if (deadline < 0) {
            return SliceReader.READ_SLICE_MS;
        }
        long left = (deadline - System.nanoTime() + 999_999) / 1_000_000;
        return (int) Math.max(0, Math.min(SliceReader.READ_SLICE_MS, left));
    }

    private static Duration remaining(long deadline, Duration timeout) {
        if (deadline < 0) {
            return null;
        }
        return Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
    }
}
