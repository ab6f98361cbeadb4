// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.LongConsumer;

/**
 * The lifetime of one native handle, shared by Context, Tunnel and Forward.
 *
 * <p>The C rules it enforces: a handle is never freed while another thread is
 * inside a call that uses it (C does not reference-count), nor twice; a forward
 * is valid until {@code devkit_forward_free} or {@code devkit_tunnel_free}, and
 * tunnels go before their context. So: calls {@link #enter} and {@link #leave}
 * (many at once); {@link #close} stops new calls, waits for running ones, closes
 * the children, frees once. A second close, from any thread, returns when the
 * first has finished, so "closed" always means "freed".
 *
 * <p>It never references the Java object that owns it, so a {@link Cleaner} can
 * run {@code close} once that object is unreachable; after an explicit close the
 * cleaning action does nothing. Lock order is parent before child; no lock is
 * held while children close.
 */
final class Lifetime {
    static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "devkit-cleaner");
        t.setDaemon(true);
        return t;
    });

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final String what;
    private final LongConsumer free;
    /** Forwards: freed by devkit_tunnel_free, so a closing parent only marks them. */
    private final boolean diesWithParent;
    private final Set<Lifetime> children = new HashSet<>();
    private Lifetime parent;
    private long ptr;
    private int busy;
    private int state = OPEN;

    Lifetime(String what, long ptr, LongConsumer free, Lifetime parent, boolean diesWithParent) {
        this.what = what;
        this.ptr = ptr;
        this.free = free;
        this.diesWithParent = diesWithParent;
        this.parent = parent;
        if (parent != null) {
            synchronized (parent) {
                parent.children.add(this);
            }
        }
    }

    /** Enter a call: the handle stays valid until {@link #leave()}. */
    synchronized long enter() {
        if (state != OPEN) {
            throw new ClosedException("the " + what + " is closed", DevkitException.ECLOSED);
        }
        busy++;
        return ptr;
    }

    synchronized void leave() {
        if (--busy == 0) {
            notifyAll();
        }
    }

    synchronized boolean isClosed() {
        return state != OPEN;
    }

    /** Close once; true if this call did it. Any thread, any number of times. */
    boolean close() {
        return close(false);
    }

    private boolean close(boolean byParent) {
        List<Lifetime> toClose;
        long handle;
        synchronized (this) {
            if (state != OPEN) {
                awaitUninterruptibly(() -> state == CLOSED);
                return false;
            }
            state = CLOSING; // new calls fail from here on
            awaitUninterruptibly(() -> busy == 0);
            toClose = new ArrayList<>(children);
            children.clear();
            handle = ptr;
            ptr = 0;
        }
        try {
            for (Lifetime child : toClose) {
                child.close(true);
            }
            if (!(byParent && diesWithParent)) {
                free.accept(handle);
            }
        } finally {
            Lifetime p;
            synchronized (this) {
                state = CLOSED;
                notifyAll();
                p = parent;
                parent = null;
            }
            if (p != null) {
                synchronized (p) {
                    p.children.remove(this);
                }
            }
        }
        return true;
    }

    private interface Condition {
        boolean holds();
    }

    /** Wait on this monitor; an interrupt is remembered, not lost, and does not abort a close. */
    private void awaitUninterruptibly(Condition condition) {
        boolean interrupted = false;
        while (!condition.holds()) {
            try {
                wait();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
