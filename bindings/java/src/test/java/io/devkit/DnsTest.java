// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Remote DNS and the router against real servers: OpenSSH sshd as the bastion
 * and a dnsmasq as the cluster DNS, reached only through the tunnel. The
 * upstream resolver is always a loopback address: the machine's own resolver
 * is never asked.
 */
class DnsTest extends WithSshd {
    static final String FQDN = "orders.default.svc.cluster.local";
    DnsmasqFixture cluster;

    @BeforeAll
    void startDnsmasq() throws Exception {
        cluster = new DnsmasqFixture();
    }

    @AfterAll
    void stopDnsmasq() throws Exception {
        if (cluster != null) {
            cluster.close();
        }
    }

    DnsOptions.Builder dnsOptions() {
        return DnsOptions.builder(cluster.address()).upstream(cluster.address())
            .timeout(Duration.ofSeconds(5));
    }

    @Test
    void optionsStartFromTheCDefaults() {
        devkit_dns_options d = DnsOptions.builder("10.96.0.10").build().toNative();
        try {
            assertEquals("10.96.0.10", d.getCluster_dns());
            assertEquals(5, d.getNdots());
            assertEquals(5000, d.getTimeout_ms());
            assertEquals(4096, d.getCache_max());
            assertEquals(0, d.getBind_port());
            assertNull(d.getUpstream());
            assertNull(d.getSearch());
        } finally {
            d.delete();
        }
        devkit_router_options r = RouterOptions.defaults().toNative();
        try {
            assertEquals(15000, r.getOpen_timeout_ms());
            assertNull(r.getControl_path());
            assertEquals(0, r.getDns());
        } finally {
            r.delete();
        }
        assertEquals(2, AddressFamily.IPV4.value()); // AF_INET, read from the library
        assertEquals(0, AddressFamily.ANY.value());
    }

    @Test
    void tunnelCtxIsTheContext() {
        try (Context ctx = new Context(); Tunnel t = ctx.openTunnel(sshd.options().build())) {
            long tptr = t.life.enter();
            long cptr = ctx.life.enter();
            try {
                assertEquals(cptr, DevkitC.devkit_tunnel_ctx(tptr));
            } finally {
                ctx.life.leave();
                t.life.leave();
            }
        }
    }

    @Test
    void resolveClusterNamesShortNamesAndNxdomain() {
        try (Tunnel t = openTunnel(); Dns dns = t.dns(dnsOptions().build())) {
            assertEquals(List.of("127.0.0.2"), dns.resolve(FQDN));
            assertEquals(List.of("127.0.0.2"), dns.resolve(FQDN, AddressFamily.IPV4));
            assertEquals(List.of("127.0.0.2"), dns.resolve("orders"));        // the search list
            NotFoundException e = assertThrows(NotFoundException.class,
                () -> dns.resolve("missing.cluster.local"));
            assertEquals(DevkitException.ENOTFOUND, e.code());
            assertTrue(e.getMessage().contains("missing.cluster.local"), e.getMessage());
            assertEquals("127.0.0.1", dns.address());
            assertTrue(dns.port() > 0);
            assertSame(t, dns.tunnel());
        }
    }

    @Test
    void theStubAnswersARealClientAndCounts() throws Exception {
        try (Tunnel t = openTunnel(); Dns dns = t.dns(dnsOptions().build())) {
            DnsStats before = dns.stats();
            assertEquals(List.of("127.0.0.2"), udpQuery(dns.port(), FQDN));
            assertEquals(List.of("127.0.0.2"), udpQuery(dns.port(), FQDN)); // from the cache
            assertThrows(NotFoundException.class, () -> dns.resolve("nothing-here.cluster.local"));
            DnsStats after = dns.stats();
            assertTrue(after.queries() >= before.queries() + 2, after.toString());
            assertTrue(after.cluster() > before.cluster(), after.toString());
            assertTrue(after.cacheHits() > before.cacheHits(), after.toString());
            assertTrue(after.nxdomain() > before.nxdomain(), after.toString());
            assertEquals(0, after.malformed());
            assertEquals(0, after.upstream());
        }
    }

    @Test
    void badOptionsThrow() {
        try (Tunnel t = openTunnel()) {
            assertThrows(InvalidArgumentException.class,
                () -> t.dns(DnsOptions.builder("").upstream(cluster.address()).build()));
            assertThrows(InvalidArgumentException.class, () -> t.dns(dnsOptions().ndots(99).build()));
            assertEquals(TunnelState.UP, t.state());
        }
    }

    @Test
    void closeTwiceAndUseAfterClose() {
        try (Tunnel t = openTunnel()) {
            Dns dns = t.dns(dnsOptions().build());
            dns.close();
            dns.close();
            assertTrue(dns.isClosed());
            assertThrows(ClosedException.class, () -> dns.resolve(FQDN));
            assertThrows(ClosedException.class, dns::stats);
            assertThrows(ClosedException.class, () -> t.router(dns));
            Router r = t.router((Dns) null);
            r.close();
            r.close();
            assertThrows(ClosedException.class, r::stats);
            assertEquals(TunnelState.UP, t.state());
        }
    }

    @Test
    void closingTheTunnelClosesItsDnsAndRouterFirst() {
        Tunnel t = openTunnel();
        Dns dns = t.dns(dnsOptions().build());
        Router r = t.router(dns);
        Router plain = t.router(RouterOptions.defaults());
        Path path = r.controlPath();
        assertEquals(List.of("127.0.0.2"), dns.resolve(FQDN));
        t.close();
        assertTrue(dns.isClosed() && r.isClosed() && plain.isClosed() && t.isClosed());
        assertFalse(Files.exists(path));
        assertThrows(ClosedException.class, () -> dns.resolve(FQDN));
        dns.close();
        r.close();
        t.close();
    }

    @Test
    void closingTheContextClosesDnsAndRouter() {
        Context ctx = new Context();
        Tunnel t = ctx.openTunnel(sshd.options().build());
        Dns dns = t.dns(dnsOptions().build());
        Router r = t.router(dns);
        ctx.close();
        assertTrue(dns.isClosed() && r.isClosed() && t.isClosed());
    }

    @Test
    void closingTheDnsClosesItsRouter() {
        try (Tunnel t = openTunnel()) {
            Dns dns = t.dns(dnsOptions().build());
            Router r = t.router(dns);
            dns.close();
            assertTrue(r.isClosed());
            r.close();
        }
    }

    @Test
    void routerHasAPrivateControlSocket() throws Exception {
        Path path;
        try (Tunnel t = openTunnel(); Dns dns = t.dns(dnsOptions().build()); Router r = t.router(dns)) {
            path = r.controlPath();
            assertTrue(Files.exists(path), path.toString());
            assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(path));
            assertEquals(PosixFilePermissions.fromString("rwx------"),
                Files.getPosixFilePermissions(path.getParent()));
            assertEquals(new RouterStats(0, 0, 0, 0), r.stats());
            assertSame(dns, r.dns());
            assertSame(t, r.tunnel());
        }
        assertFalse(Files.exists(path));
    }

    @Test
    void routerAtAGivenPath(@TempDir Path dir) throws Exception {
        Path want = dir.resolve("control.sock");
        try (Tunnel t = openTunnel();
             Router r = t.router(RouterOptions.builder().controlPath(want)
                 .openTimeout(Duration.ofSeconds(2)).build())) {
            assertEquals(want, r.controlPath());
            Set<PosixFilePermission> mode = Files.getPosixFilePermissions(want);
            assertEquals(PosixFilePermissions.fromString("rw-------"), mode);
            assertNull(r.dns());
        }
    }

    @Test
    void routerRefusesADnsOfAnotherTunnel() {
        try (Tunnel a = openTunnel(); Tunnel b = openTunnel(); Dns dns = b.dns(dnsOptions().build())) {
            assertThrows(InvalidArgumentException.class, () -> a.router(dns));
        }
    }

    @Test
    void logLinesArriveAsLogEvents() {
        List<Event> events = new ArrayList<>();
        try (Context ctx = new Context(ContextOptions.builder().logLevel(LogLevel.INFO)
                .logEvents(true).build())) {
            try (Tunnel t = ctx.openTunnel(sshd.options().build())) {
                Optional<Event> e;
                while ((e = ctx.poll(Duration.ofMillis(500))).isPresent()) {
                    events.add(e.get());
                }
            }
        }
        List<Event> logs = events.stream().filter(e -> e.type() == EventType.LOG).toList();
        assertFalse(logs.isEmpty(), events.toString());
        assertTrue(logs.stream().allMatch(e -> e.level() != null
            && e.level().value() <= LogLevel.INFO.value()), logs.toString());
        assertTrue(logs.stream().anyMatch(e -> e.message().contains("session up")), logs.toString());
        assertTrue(events.stream().filter(e -> e.type() != EventType.LOG).allMatch(e -> e.level() == null));
        assertTrue(logs.get(0).toString().startsWith("log "), logs.get(0).toString());
    }

    @Test
    void noLogEventsUnlessAsked() {
        List<Event> events = new ArrayList<>();
        try (Context ctx = new Context(ContextOptions.builder().logLevel(LogLevel.DEBUG).build());
             Tunnel t = ctx.openTunnel(sshd.options().build())) {
            Optional<Event> e;
            while ((e = ctx.poll(Duration.ofMillis(300))).isPresent()) {
                events.add(e.get());
            }
        }
        assertFalse(events.isEmpty());
        assertTrue(events.stream().noneMatch(e -> e.type() == EventType.LOG), events.toString());
    }

    /** One A query over UDP to 127.0.0.1:port, as any resolver sends it; the answer's addresses. */
    static List<String> udpQuery(int port, String name) throws Exception {
        ByteBuffer q = ByteBuffer.allocate(512);
        q.putShort((short) 0x4242).putShort((short) 0x0100).putShort((short) 1)
            .putShort((short) 0).putShort((short) 0).putShort((short) 0);
        for (String label : name.split("\\.")) {
            byte[] b = label.getBytes(StandardCharsets.US_ASCII);
            q.put((byte) b.length).put(b);
        }
        q.put((byte) 0).putShort((short) 1).putShort((short) 1);
        byte[] buf = new byte[4096];
        DatagramPacket answer = new DatagramPacket(buf, buf.length);
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(10_000);
            s.send(new DatagramPacket(q.array(), q.position(), InetAddress.getLoopbackAddress(), port));
            s.receive(answer);
        }
        ByteBuffer r = ByteBuffer.wrap(buf, 0, answer.getLength());
        assertEquals(0x4242, r.getShort() & 0xffff);
        int flags = r.getShort() & 0xffff;
        assertTrue((flags & 0x8000) != 0 && (flags & 0xf) == 0, "flags " + flags);
        int qd = r.getShort() & 0xffff;
        int an = r.getShort() & 0xffff;
        r.position(12);
        for (int i = 0; i < qd; i++) {
            skipName(r);
            r.position(r.position() + 4);
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < an; i++) {
            skipName(r);
            int type = r.getShort() & 0xffff;
            r.getShort();
            r.getInt();
            int len = r.getShort() & 0xffff;
            byte[] rdata = new byte[len];
            r.get(rdata);
            if (type == 1 && len == 4) {
                out.add(InetAddress.getByAddress(rdata).getHostAddress());
            }
        }
        return out;
    }

    private static void skipName(ByteBuffer r) {
        while (true) {
            int len = r.get() & 0xff;
            if (len == 0) {
                return;
            }
            if ((len & 0xc0) == 0xc0) {
                r.get();
                return;
            }
            r.position(r.position() + len);
        }
    }
}
