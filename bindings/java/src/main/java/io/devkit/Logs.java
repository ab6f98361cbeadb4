// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Function;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * A container's log ({@link Kubernetes#logs(LogsOptions)}): its lines, without
 * newlines, by iterating, as a {@link #stream()}, or one at a time with
 * {@link #read(Duration)}. The iteration ends when the log ends (at once
 * without {@code follow}; when the container stops with it) or when
 * {@link #close()} is called, from any thread (within about 100 ms). Errors of
 * the log request (a wrong container name, a container still waiting to
 * start, no previous instance) are thrown with the API server's message.
 *
 * <pre>{@code
 * try (Logs logs = k8s.logs(LogsOptions.builder("web-1").follow(true).tailLines(10).build())) {
 *     for (String line : logs) {
 *         System.out.println(line);
 *     }
 * }
 * }</pre>
 *
 * <p>As in C, a log lives until it or its client is closed (the client's close
 * closes it first), even if the program dropped it.
 */
public final class Logs implements AutoCloseable, Iterable<String> {
    private final Kubernetes k8s; // keeps the client alive
    final Lifetime life;
    private final SliceReader reader;
    private final Cleaner.Cleanable cleanable;
    private final String pod;
    private final String namespace;
    private final String container;

    Logs(Kubernetes k8s, long ptr, LogsOptions options) {
        this.k8s = k8s;
        this.pod = options.pod();
        this.namespace = options.namespace() != null ? options.namespace() : k8s.namespace();
        this.container = options.container();
        // Called while the client is entered, so its close() frees this log first.
        this.life = new Lifetime("log", ptr, DevkitC::devkit_logs_free, k8s.life, false);
        this.reader = new SliceReader(life, DevkitC::devkit_logs_read);
        k8s.streams.add(this);
        Lifetime l = life;
        this.cleanable = Lifetime.CLEANER.register(this, l::close);
    }

    public String pod() {
        return pod;
    }

    public String namespace() {
        return namespace;
    }

    /** The container asked for; null: the Pod's default. */
    public String container() {
        return container;
    }

    public Kubernetes kubernetes() {
        return k8s;
    }

    /**
     * The next line, or empty when none came within {@code timeout} (null: no
     * limit; zero: do not wait).
     *
     * @throws ClosedException once the log has ended and every line was read, or once closed
     */
    public Optional<String> read(Duration timeout) {
        return Optional.ofNullable(reader.read(timeout));
    }

    /** The lines until the end of the log or a {@link #close()}. */
    @Override
    public Iterator<String> iterator() {
        return reader.iterator(Function.identity());
    }

    /** {@link #iterator()} as a stream; closing the stream closes the log. */
    public Stream<String> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(),
            Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(this::close);
    }

    /**
     * Once the log has ended: why ({@link ClosedException} with the library's
     * message for a normal end, e.g. "the container stopped: Completed").
     */
    public Optional<DevkitException> endReason() {
        return Optional.ofNullable(reader.end());
    }

    public LogsStats stats() {
        devkit_logs_stats st = new devkit_logs_stats();
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_logs_get_stats(ptr, st);
            } finally {
                life.leave();
            }
            return new LogsStats(st.getLines(), st.getBytes(), st.getReconnects(), st.getDuplicates_dropped());
        } finally {
            st.delete();
        }
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop reading and free the log. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
    }

    @Override
    public String toString() {
        return "Logs[" + namespace + "/" + pod + (container != null ? ", container=" + container : "")
            + (isClosed() ? ", closed" : "") + "]";
    }
}
