// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.time.Duration;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * The reading side of a {@link Logs} or an {@link EventWatch}: C reads
 * ({@code devkit_logs_read}, {@code devkit_diag_watch_read}) in slices of at
 * most {@link #READ_SLICE_MS}, one reader at a time (C allows no more), inside
 * the handle's {@link Lifetime}, so a {@code close()} from another thread waits
 * at most a slice and then ends the reading.
 */
final class SliceReader {
    /** The longest a read stays inside C. */
    static final int READ_SLICE_MS = 100;

    interface ReadOnce {
        int read(long ptr, byte[][] out, int timeoutMs);
    }

    private final Lifetime life;
    private final ReadOnce once;
    private final Object readLock = new Object();
    private volatile DevkitException end;

    SliceReader(Lifetime life, ReadOnce once) {
        this.life = life;
        this.once = once;
    }

    DevkitException end() {
        return end;
    }

    /**
     * The next item's text, or null when none came within {@code timeout} (null
     * or negative: no limit). Throws {@link ClosedException} at the end (or once
     * closed) and the exception that ended the stream otherwise.
     */
    String read(Duration timeout) {
        return Utf8.decode(readBytes(timeout));
    }

    /** {@link #read(Duration)} as the bytes C gave (a capture's pcap stream). */
    byte[] readBytes(Duration timeout) {
        long deadline = timeout == null || timeout.isNegative() ? -1 : System.nanoTime() + timeout.toNanos();
        while (true) {
            DevkitException e = end;
            if (e != null) {
                throw e;
            }
            int slice = READ_SLICE_MS;
            if (deadline >= 0) {
                long left = (deadline - System.nanoTime() + 999_999) / 1_000_000;
                slice = (int) Math.max(0, Math.min(READ_SLICE_MS, left));
            }
            byte[][] out = new byte[1][];
            int n;
            synchronized (readLock) {
                long ptr = life.enter();
                try {
                    n = once.read(ptr, out, slice);
                } catch (DevkitException ex) {
                    end = ex; // the end, or the error that ended it: for good
                    throw ex;
                } finally {
                    life.leave();
                }
            }
            if (n == 1) {
                return out[0];
            }
            if (deadline >= 0 && System.nanoTime() >= deadline) {
                return null;
            }
        }
    }

    /** Items until the end or a close (which end the iteration); other errors are thrown. */
    <T> Iterator<T> iterator(Function<String, T> convert) {
        return new Iterator<T>() {
            private String next;
            private boolean done;

            @Override
            public boolean hasNext() {
                if (next != null) {
                    return true;
                }
                if (done) {
                    return false;
                }
                try {
                    next = read(null);
                } catch (ClosedException e) {
                    done = true;
                    return false;
                }
                return true;
            }

            @Override
            public T next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                String s = next;
                next = null;
                return convert.apply(s);
            }
        };
    }
}
