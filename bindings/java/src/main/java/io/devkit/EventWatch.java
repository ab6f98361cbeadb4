// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.Optional;
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.stream.Stream;
import java.util.stream.StreamSupport;

/**
 * The events of a Pod and its owners as they are recorded
 * ({@link Kubernetes#watchEvents(String, String)}): each a {@code Map} shaped as
 * an element of {@code events(...).get("events")} plus {@code "action"}
 * ("ADDED" or "MODIFIED": a repeated event comes back with a higher count).
 * The events that exist already come first. It runs until {@link #close()}
 * (any thread: it ends an iteration within about 100 ms) or an error ends the
 * watch (thrown from the iteration).
 */
public final class EventWatch implements AutoCloseable, Iterable<Map<String, Object>> {
    private final Kubernetes k8s; // keeps the client alive
    final Lifetime life;
    private final SliceReader reader;
    private final Cleaner.Cleanable cleanable;
    private final String pod;
    private final String namespace;

    EventWatch(Kubernetes k8s, long ptr, String namespace, String pod) {
        this.k8s = k8s;
        this.pod = pod;
        this.namespace = namespace != null ? namespace : k8s.namespace();
        this.life = new Lifetime("event watch", ptr, DevkitC::devkit_diag_watch_free, k8s.life, false);
        this.reader = new SliceReader(life, DevkitC::devkit_diag_watch_read);
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

    /**
     * The next event, or empty when none came within {@code timeout} (null: no limit).
     *
     * @throws ClosedException once closed
     */
    public Optional<Map<String, Object>> read(Duration timeout) {
        String text = reader.read(timeout);
        return text == null ? Optional.empty() : Optional.of(Json.parseObject(text));
    }

    @Override
    public Iterator<Map<String, Object>> iterator() {
        return reader.iterator(Json::parseObject);
    }

    /** {@link #iterator()} as a stream; closing the stream closes the watch. */
    public Stream<Map<String, Object>> stream() {
        return StreamSupport.stream(Spliterators.spliteratorUnknownSize(iterator(),
            Spliterator.ORDERED | Spliterator.NONNULL), false).onClose(this::close);
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Stop watching and free. Idempotent; any thread. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
        k8s.streams.remove(this);
    }

    @Override
    public String toString() {
        return "EventWatch[" + namespace + "/" + pod + (isClosed() ? ", closed" : "") + "]";
    }
}
