// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.Socket;
import java.net.URL;
import java.net.URLConnection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Tunnels and forwards against a real sshd, with the JDK's own clients. */
class TunnelTest extends WithSshd {
    @Test
    void openDescribeState() {
        try (Tunnel t = openTunnel()) {
            assertEquals(TunnelState.UP, t.state());
            Map<String, String> info = t.describe();
            assertEquals(sshd.hostFingerprint, info.get("host_key"));
            assertEquals("root", info.get("user"));
            assertTrue(t.id() > 0);
            assertEquals(TunnelState.UP, t.stats().state());
        }
    }

    @Test
    void httpClientThroughTheDynamicForward() throws Exception {
        try (Tunnel t = openTunnel()) {
            Forward proxy = t.dynamicForward();
            assertEquals(ForwardKind.DYNAMIC, proxy.kind());
            assertEquals("hello from /a\n", getViaProxy(proxy.socketAddress(),
                "http://127.0.0.1:" + origin.port + "/a"));
            // "localhost" is resolved by the bastion, not here.
            assertEquals("hello from /b\n", getViaProxy(proxy.socketAddress(),
                "http://localhost:" + origin.port + "/b"));
            ForwardStats s = proxy.stats();
            assertTrue(s.channelsTotal() >= 2 && s.bytesIn() > 0 && s.bytesOut() > 0, s.toString());
        }
    }

    @Test
    void socks5WithJavaNetProxy() throws Exception {
        try (Tunnel t = openTunnel(); Forward proxy = t.dynamicForward()) {
            Proxy socks = new Proxy(Proxy.Type.SOCKS, proxy.socketAddress());
            // URLConnection over SOCKS5, the name resolved on the far side.
            URLConnection c = new URL("http://localhost:" + origin.port + "/socks").openConnection(socks);
            try (InputStream in = c.getInputStream()) {
                assertEquals("hello from /socks\n", new String(in.readAllBytes(), StandardCharsets.UTF_8));
            }
            // A raw Socket, as NIO-less plugin code would use.
            try (Socket s = new Socket(socks)) {
                s.connect(InetSocketAddress.createUnresolved("localhost", origin.port), 10_000);
                OutputStream out = s.getOutputStream();
                out.write("GET /raw HTTP/1.0\r\nHost: localhost\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                String reply = new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                assertTrue(reply.startsWith("HTTP/1.1 200") && reply.endsWith("hello from /raw\n"), reply);
            }
            assertEquals(2, proxy.stats().channelsTotal());
        }
    }

    @Test
    void proxyAuthentication() throws Exception {
        try (Tunnel t = openTunnel()) {
            Forward proxy = t.addForward(ForwardOptions.dynamic().proxyCredentials("u", "p4ss").build());
            assertThrows(java.io.IOException.class, () -> getViaProxy(proxy.socketAddress(),
                "http://127.0.0.1:" + origin.port + "/"));
        }
    }

    @Test
    void localForward() throws Exception {
        try (Tunnel t = openTunnel()) {
            Forward f = t.localForward("127.0.0.1", origin.port);
            assertEquals(ForwardKind.LOCAL, f.kind());
            assertEquals("hello from /local\n", get("http://127.0.0.1:" + f.port() + "/local"));
            assertEquals(1, f.stats().channelsTotal());
        }
    }

    @Test
    void remoteForward() throws Exception {
        int port = SshdFixture.freePort();
        try (Tunnel t = openTunnel()) {
            Forward f = t.remoteForward(port, "127.0.0.1", origin.port);
            assertEquals(port, f.port());
            assertEquals("hello from /remote\n", get("http://127.0.0.1:" + port + "/remote"));
        }
    }

    @Test
    void pollEvents() {
        try (Context ctx = new Context()) {
            long tunnelId;
            long forwardId;
            try (Tunnel t = ctx.openTunnel(sshd.options().build())) {
                tunnelId = t.id();
                forwardId = t.dynamicForward().id();
            }
            List<Event> events = new ArrayList<>();
            Optional<Event> e;
            while ((e = ctx.poll(Duration.ofMillis(500))).isPresent()) {
                events.add(e.get());
            }
            assertEquals(EventType.TUNNEL_STATE, events.get(0).type());
            assertEquals(TunnelState.UP, events.get(0).state());
            assertEquals(tunnelId, events.get(0).tunnelId());
            assertTrue(events.stream().anyMatch(ev -> ev.type() == EventType.FORWARD_READY
                && ev.forwardId() == forwardId && ev.port() > 0), events.toString());
            Event last = events.get(events.size() - 1);
            assertEquals(TunnelState.CLOSED, last.state());
            assertNull(events.stream().filter(ev -> ev.type() != EventType.TUNNEL_STATE)
                .findFirst().orElseThrow().state());
        }
    }

    @Test
    void listenerRunsOnAJavaThreadAndSeesTheClose() throws Exception {
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Event> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch up = new CountDownLatch(1);
        try (Context ctx = new Context()) {
            ctx.addListener(ev -> {
                threads.add(Thread.currentThread().getName());
                seen.add(ev);
                if (ev.state() == TunnelState.UP) {
                    up.countDown();
                }
            });
            ctx.addListener(ev -> {
                throw new IllegalStateException("a broken listener does not stop the others");
            });
            assertThrows(IllegalStateException.class, () -> ctx.poll(Duration.ZERO));
            ctx.openTunnel(sshd.options().build());
            assertTrue(up.await(5, TimeUnit.SECONDS));
        }
        assertEquals(1, threads.size());
        assertTrue(threads.iterator().next().startsWith("devkit-events-"), threads.toString());
        // close() delivered the tunnel's last event before stopping the thread.
        assertEquals(TunnelState.CLOSED, seen.get(seen.size() - 1).state());
    }

    @Test
    void tunnelWithoutContextOwnsOne() {
        Tunnel t = openTunnel();
        Context ctx = t.context();
        t.close();
        assertTrue(ctx.isClosed());
    }
}
