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
 * tcpdump running in a Pod's network ({@link Kubernetes#capture(CaptureOptions)}),
 * which listens once this is returned. Its output as text lines
 * ({@link #readLine}, iterating, {@link #lines()}) or as the bytes of a pcap
 * stream ({@link #read}); with a file, reading only waits for the end.
 * {@link #stop()} asks tcpdump to stop and write what it holds: keep reading
 * until the end for the rest ({@link ClosedException}, or the iteration ends).
 *
 * <pre>{@code
 * try (Capture c = k8s.capture(CaptureOptions.builder("web-1").filter("tcp port 8080").build())) {
 *     for (String line : c) {
 *         System.out.println(line);
 *     }
 * }
 * }</pre>
 *
 * <p>Errors carry tcpdump's words: no tcpdump in the container
 * ({@link UnsupportedException}), not permitted ({@link ForbiddenException}: it
 * needs NET_RAW), a bad filter ({@link InvalidArgumentException} "syntax error").
 * As in C, a capture lives until it or its client is closed.
 */
public final class Capture implements AutoCloseable, Iterable<String> {
    private final Kubernetes k8s; // keeps the client alive
    final Lifetime life;
    private final SliceReader reader;
    private final Cleaner.Cleanable cleanable;
    private final String pod;
    private final String namespace;
    private final CaptureFormat format;

    /** Called while the client is entered. */
    Capture(Kubernetes k8s, long ptr, CaptureOptions options) {
        this.k8s = k8s;
        this.pod = options.pod();
        this.namespace = options.namespace() != null ? options.namespace() : k8s.namespace();
        this.format = options.format();
        this.life = new Lifetime("capture", ptr, DevkitC::devkit_capture_free, k8s.life, false);
        this.reader = new SliceReader(life, DevkitC::devkit_capture_read);
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

    public CaptureFormat format() {
        return format;
    }

    /**
     * The next line (TEXT), or empty when none came within {@code timeout}
     * (null: no limit).
     *
     * @throws ClosedException once the capture has ended and everything was read, or once closed
     */
    public Optional<String> readLine(Duration timeout) {
        return Optional.ofNullable(reader.read(timeout));
    }

    /**
     * The next bytes: for PCAP the stream's next bytes (the first read starts
     * with the pcap file header), for TEXT one line without its newline. Empty
     * when none came within {@code timeout} (null: no limit).
     *
     * @throws ClosedException once the capture has ended and everything was read, or once closed
     */
    public Optional<byte[]> read(Duration timeout) {
        return Optional.ofNullable(reader.readBytes(timeout));
    }

    /** The lines (TEXT) until the end or a {@link #close()}. */
    @Override
    public Iterator<String> iterator() {
        return reader.iterator(Function.identity());
    }

    /** {@link #iterator()} as a stream; closing the stream closes the capture. */
    public Stream<String> lines() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(),
            Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(this::close);
    }

    /** Once ended: why ({@link ClosedException} for a normal end). */
    public Optional<DevkitException> endReason() {
        return Optional.ofNullable(reader.end());
    }

    /** Ask tcpdump to stop (it writes what it holds and exits); read on for the rest. */
    public void stop() {
        long ptr = life.enter();
        try {
            DevkitC.devkit_capture_stop(ptr);
        } finally {
            life.leave();
        }
    }

    public CaptureStats stats() {
        devkit_capture_stats st = new devkit_capture_stats();
        try {
            long ptr = life.enter();
            try {
                DevkitC.devkit_capture_get_stats(ptr, st);
            } finally {
                life.leave();
            }
            return new CaptureStats(st.getBytes(), st.getPackets(), st.getDropped(), st.getEnded() != 0);
        } finally {
            st.delete();
        }
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop (if running) and free. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
    }

    @Override
    public String toString() {
        return "Capture[" + namespace + "/" + pod + ", " + format + (isClosed() ? ", closed" : "") + "]";
    }
}
