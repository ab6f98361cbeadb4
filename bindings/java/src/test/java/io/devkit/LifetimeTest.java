// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Deterministic close, Cleaner, parent/child order, threads, leaks. */
class LifetimeTest extends WithSshd {
    /** DEVKIT_LEAK_CYCLES lowers the count for a quick run. */
    static final int CYCLES = Integer.parseInt(System.getenv().getOrDefault("DEVKIT_LEAK_CYCLES", "1000"));

    @Test
    void closeTwiceEverything() {
        Context ctx = new Context();
        Tunnel t = ctx.openTunnel(sshd.options().build());
        Forward f = t.dynamicForward();
        f.close();
        f.close();
        t.close();
        t.close();
        ctx.close();
        ctx.close();
        assertTrue(f.isClosed() && t.isClosed() && ctx.isClosed());
    }

    @Test
    void closingTheContextClosesTunnelsAndForwards() {
        Context ctx = new Context();
        Tunnel t = ctx.openTunnel(sshd.options().build());
        Forward f = t.dynamicForward();
        ctx.close();
        assertTrue(t.isClosed() && f.isClosed());
        t.close(); // no double free
        f.close();
    }

    @Test
    void forwardNobodyKeptKeepsWorking() throws Exception {
        try (Tunnel t = openTunnel()) {
            int port = t.localForward("127.0.0.1", origin.port).port();
            for (int i = 0; i < 3; i++) {
                System.gc();
            }
            assertEquals("hello from /kept\n", get("http://127.0.0.1:" + port + "/kept"));
        }
    }

    @Test
    void cleanerClosesWhatWasDropped() throws Exception {
        long before = fds();
        for (int i = 0; i < 5; i++) {
            Tunnel t = openTunnel();
            t.dynamicForward();
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while ((fds() > before || sshd.connections() > 0) && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(50);
        }
        assertEquals(before, fds());
        assertEquals(0, sshd.connections());
    }

    @Test
    void aForwardKeepsItsParentsAlive() {
        Forward f = openTunnel().dynamicForward(); // nobody holds the tunnel or its context
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        assertFalse(f.isClosed());
        assertTrue(f.port() > 0);
        assertEquals(TunnelState.UP, f.tunnel().state());
        f.tunnel().close();
        assertTrue(f.isClosed());
    }

    @Test
    void aListenerMayCloseItsContext() throws Exception {
        Context ctx = new Context();
        CountDownLatch closed = new CountDownLatch(1);
        ctx.addListener(event -> {
            if (event.state() == TunnelState.UP) {
                ctx.close(); // from the listener thread itself
                closed.countDown();
            }
        });
        ctx.openTunnel(sshd.options().build());
        assertTrue(closed.await(5, TimeUnit.SECONDS));
        assertTrue(ctx.isClosed());
    }

    @Test
    void manyThreadsShareOneTunnel() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try (Tunnel t = openTunnel()) {
            Forward proxy = t.dynamicForward();
            List<Future<?>> jobs = new ArrayList<>();
            for (int n = 0; n < 8; n++) {
                int id = n;
                jobs.add(pool.submit(() -> {
                    for (int i = 0; i < 10; i++) {
                        try (Forward mine = t.dynamicForward()) { // add/close forwards concurrently
                            assertTrue(mine.port() > 0);
                        }
                        String path = "/" + id + "/" + i;
                        assertEquals("hello from " + path + "\n", getViaProxy(proxy.socketAddress(),
                            "http://127.0.0.1:" + origin.port + path));
                        t.stats();
                    }
                    return null;
                }));
            }
            for (Future<?> job : jobs) {
                job.get(120, TimeUnit.SECONDS);
            }
            assertEquals(80, proxy.stats().channelsTotal());
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void closeRacesWithUseFromOtherThreads() throws Exception {
        for (int round = 0; round < 5; round++) {
            Tunnel t = openTunnel();
            Forward f = t.dynamicForward();
            List<Throwable> unexpected = Collections.synchronizedList(new ArrayList<>());
            CountDownLatch go = new CountDownLatch(1);
            List<Thread> threads = new ArrayList<>();
            for (int n = 0; n < 4; n++) {
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                        for (int i = 0; i < 200; i++) {
                            try {
                                f.stats();
                                t.stats();
                                t.dynamicForward().close();
                            } catch (ClosedException expected) {
                                // the only failure a racing close may cause
                            }
                        }
                    } catch (Throwable e) {
                        unexpected.add(e);
                    }
                });
                th.start();
                threads.add(th);
            }
            go.countDown();
            Thread.sleep(10);
            t.close();
            for (Thread th : threads) {
                th.join();
            }
            assertEquals(List.of(), unexpected);
            assertTrue(f.isClosed());
        }
    }

    @Test
    void forwardCyclesDoNotLeak() throws Exception {
        try (Context ctx = new Context(ContextOptions.builder().eventQueueMax(64).build());
             Tunnel t = ctx.openTunnel(sshd.options().build())) {
            int[] n = {0};
            Runnable cycle = () -> {
                try (Forward f = t.localForward("127.0.0.1", origin.port)) {
                    // Every 10th forward carries a request (sshd takes ~40 ms to pass on
                    // the end of each connection, as with ssh -L); a plain socket, since
                    // HttpClient's own caches would blur the measure.
                    if (n[0]++ % 10 == 0) {
                        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), f.port())) {
                            s.getOutputStream().write("GET / HTTP/1.0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                            String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                            assertTrue(reply.endsWith("hello from /\n"), reply);
                        }
                    }
                } catch (IOException e) {
                    throw new AssertionError(e);
                }
                ctx.poll(java.time.Duration.ZERO);
            };
            checkNoLeak("forward", cycle);
        }
    }

    @Test
    void tunnelCyclesDoNotLeak() throws Exception {
        try (Context ctx = new Context(ContextOptions.builder().eventQueueMax(64).build())) {
            checkNoLeak("tunnel", () -> {
                try (Tunnel t = ctx.openTunnel(sshd.options().build())) {
                    t.dynamicForward();
                }
                while (ctx.poll(java.time.Duration.ZERO).isPresent()) {
                    // drain
                }
            });
        }
    }

    /** Warm up (JIT, caches, the event ring), then CYCLES more must not grow fds or RSS. */
    private static void checkNoLeak(String what, Runnable cycle) throws Exception {
        for (int i = 0; i < 100; i++) {
            cycle.run();
        }
        settle();
        long fds = fds();
        long rss = rssKib();
        long start = System.nanoTime();
        for (int i = 0; i < CYCLES; i++) {
            cycle.run();
        }
        settle();
        long fds2 = fds();
        long rss2 = rssKib();
        System.out.printf("%d %s cycles in %.1fs: fds %d -> %d, RSS %d -> %d KiB%n", CYCLES, what,
            (System.nanoTime() - start) / 1e9, fds, fds2, rss, rss2);
        assertEquals(fds, fds2, "file descriptors leaked");
        // The Java heap breathes; a native leak of 4 KiB a cycle would show as 4 MiB.
        assertTrue(rss2 - rss < 4096, "RSS grew by " + (rss2 - rss) + " KiB");
    }

    private static void settle() throws InterruptedException {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(50);
        }
    }

    static long fds() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    static long rssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }
}
