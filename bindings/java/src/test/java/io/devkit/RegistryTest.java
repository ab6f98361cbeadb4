// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Registry registration and expose against real servers: a real etcd (read back
 * with etcdctl) as the registry, OpenSSH sshd as the bastion, and an HTTP
 * server as the local service that cloud callers reach through the bastion.
 */
class RegistryTest extends WithSshd {
    static final String PREFIX = "/micro/registry";
    EtcdFixture etcd;

    @BeforeAll
    void startEtcd() throws Exception {
        etcd = new EtcdFixture();
    }

    @AfterAll
    void stopEtcd() throws Exception {
        if (etcd != null) {
            etcd.close();
        }
    }

    static String service(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    RegistrationOptions.Builder options(String service) {
        return Registration.builder().registry(etcd.url()).service(service).address("10.2.0.1").port(8080);
    }

    List<String> keys(String service) throws Exception {
        return etcd.keys(PREFIX + "/" + service + "/");
    }

    static List<Event> drain(Context ctx, Duration quiet) {
        List<Event> events = new ArrayList<>();
        Optional<Event> e;
        while ((e = ctx.poll(quiet)).isPresent()) {
            events.add(e.get());
        }
        return events;
    }

    static List<Event> of(List<Event> events, Registration reg) {
        return events.stream().filter(e -> e.type() == EventType.REGISTRATION_STATE
            && e.objectId() == reg.id()).toList();
    }

    @Test
    void optionsStartFromTheCDefaults() {
        devkit_registration_options o = RegistrationOptions.builder().build().toNative();
        try {
            assertEquals(5000, o.getTimeout_ms());
            assertEquals(0, o.getTtl_ms());
            assertEquals(0, o.getPort());
            assertNull(o.getRegistry());
            assertNull(o.getMetadata());
        } finally {
            o.delete();
        }
        devkit_expose_options e = ExposeOptions.builder(8080).build().toNative();
        try {
            assertEquals(8080, e.getLocal_port());
            assertEquals(1, e.getRegistry_via_tunnel());
            assertEquals(0, e.getRemote_port());
        } finally {
            e.delete();
        }
        devkit_registration_options m = RegistrationOptions.builder().meta("a", "1").meta("b", "x=y")
            .build().toNative();
        try {
            assertEquals("a=1\nb=x=y", m.getMetadata());
        } finally {
            m.delete();
        }
    }

    @Test
    void registerShowsInEtcdWithMetadataAndTagThenCloseRemovesIt() throws Exception {
        String svc = service("orders");
        try (Context ctx = new Context()) {
            Registration reg = options(svc).meta("zone", "eu-1").metadata(Map.of("note", "a=b"))
                .tag("dev-alice").build(ctx);
            reg.awaitRegistered(Duration.ofSeconds(10));
            assertEquals(RegistrationState.REGISTERED, reg.state());
            assertEquals(List.of(PREFIX + "/" + svc + "/" + svc + "-10.2.0.1-8080"), keys(svc));
            String value = etcd.values(PREFIX + "/" + svc + "/").get(0);
            @SuppressWarnings("unchecked")
            Map<String, Object> node = (Map<String, Object>) ((List<Object>) Json.parseObject(value)
                .get("nodes")).get(0);
            assertEquals("10.2.0.1:8080", node.get("address"));
            @SuppressWarnings("unchecked")
            Map<String, Object> meta = (Map<String, Object>) node.get("metadata");
            assertEquals("eu-1", meta.get("zone"));
            assertEquals("a=b", meta.get("note"));
            assertEquals("dev-alice", meta.get("tag"));

            Map<String, Object> info = reg.describe();
            assertEquals("etcd", info.get("backend"));
            assertEquals(svc, info.get("service"));
            assertEquals(8080L, info.get("port"));
            assertEquals("registered", info.get("state"));
            assertEquals("dev-alice", info.get("tag"));
            assertEquals(Map.of("zone", "eu-1", "note", "a=b"), info.get("metadata"));
            assertEquals(reg.id(), info.get("id"));
            assertEquals(1, reg.stats().registrations());
            assertSame(ctx, reg.context());
            assertTrue(reg.toString().contains("service=" + svc), reg.toString());

            reg.close();
            assertTrue(reg.isClosed());
            assertTrue(reg.closeError().isEmpty());
            assertEquals(List.of(), keys(svc)); // removed at once, not after the TTL
            reg.close();
            assertThrows(ClosedException.class, reg::state);
            assertThrows(ClosedException.class, () -> reg.awaitRegistered(Duration.ofMillis(100)));
            assertThrows(ClosedException.class, reg::describe);

            List<Event> mine = of(drain(ctx, Duration.ofMillis(300)), reg);
            assertEquals(List.of(RegistrationState.REGISTERING, RegistrationState.REGISTERED,
                RegistrationState.DEREGISTERED), mine.stream().map(Event::registrationState).toList());
            Event registered = mine.get(1);
            assertEquals("10.2.0.1", registered.address());
            assertEquals(8080, registered.port());
            assertNull(registered.state()); // the tunnel state: not a tunnel event
            assertTrue(registered.toString().startsWith("registration-state registration=" + reg.id()),
                registered.toString());
        }
    }

    @Test
    void closingTheContextDeregistersFirst() throws Exception {
        String svc = service("ctxclose");
        List<Event> seen = new CopyOnWriteArrayList<>();
        Registration reg;
        try (Context ctx = new Context()) {
            ctx.addListener(seen::add);
            reg = ctx.register(options(svc).build());
            reg.awaitRegistered(Duration.ofSeconds(10));
        }
        assertTrue(reg.isClosed());
        assertEquals(List.of(), keys(svc));
        assertTrue(of(seen, reg).stream().anyMatch(e -> e.registrationState() == RegistrationState.DEREGISTERED),
            seen.toString());
        reg.close(); // no double free
    }

    @Test
    void registryDownAtStartIsAConnectionErrorWhileRetrying() throws Exception {
        int port = SshdFixture.freePort();
        String svc = service("late");
        try (Context ctx = new Context();
             Registration reg = Registration.builder().registry("etcd://127.0.0.1:" + port).service(svc)
                 .address("10.2.0.2").port(8081).build(ctx)) {
            long t0 = System.nanoTime();
            ConnectionRefusedException e = assertThrows(ConnectionRefusedException.class,
                () -> reg.awaitRegistered(Duration.ofMillis(1500)));
            assertTrue(System.nanoTime() - t0 >= TimeUnit.MILLISECONDS.toNanos(1400));
            assertEquals(DevkitException.ECONNREFUSED, e.code());
            assertTrue(e.getMessage().contains("127.0.0.1:" + port) || e.getMessage().contains("port " + port),
                e.getMessage());
            assertEquals(RegistrationState.RETRYING, reg.state());
            assertTrue(of(drain(ctx, Duration.ZERO), reg).stream().anyMatch(ev ->
                ev.registrationState() == RegistrationState.RETRYING && ev.error() == DevkitException.ECONNREFUSED));
            // The registry comes up on that port: the entry appears by itself.
            try (EtcdFixture late = new EtcdFixture(port)) {
                reg.awaitRegistered(Duration.ofSeconds(30));
                assertEquals(1, late.keys(PREFIX + "/" + svc + "/").size());
                reg.close();
                assertEquals(List.of(), late.keys(PREFIX + "/" + svc + "/"));
            }
        }
    }

    @Test
    void badOptions() {
        try (Context ctx = new Context()) {
            InvalidArgumentException scheme = assertThrows(InvalidArgumentException.class,
                () -> options("s").registry("foo://127.0.0.1:1").build(ctx));
            assertTrue(scheme.getMessage().contains("scheme"), scheme.getMessage());
            InvalidArgumentException port = assertThrows(InvalidArgumentException.class,
                () -> options("s").port(0).build(ctx));
            assertTrue(port.getMessage().contains("port 0"), port.getMessage());
            assertThrows(InvalidArgumentException.class, () -> options("").build(ctx));
            assertThrows(InvalidArgumentException.class, () -> options("s").protocol("smtp").build(ctx));
            // Metadata is checked by the builder, before anything reaches C.
            IllegalArgumentException key = assertThrows(IllegalArgumentException.class,
                () -> options("s").meta("a=b", "c"));
            assertTrue(key.getMessage().contains("a=b"), key.getMessage());
            assertThrows(IllegalArgumentException.class, () -> options("s").meta("a\nb", "c"));
            assertThrows(IllegalArgumentException.class, () -> options("s").meta("", "c"));
            assertThrows(IllegalArgumentException.class, () -> options("s").meta("k", "line\nbreak"));
            assertThrows(IllegalArgumentException.class, () -> options("s").metadata(Map.of("x=y", "z")));
            assertThrows(IllegalArgumentException.class, () -> options("s").ttl(Duration.ofMillis(-1)));
            assertTrue(ctx.registrations.isEmpty());
        }
    }

    @Test
    void secretsNeverShow() {
        RegistrationOptions o = options("s").credentials("alice", "pw-secret-3141").token("tok-secret-2718")
            .registry("etcd://127.0.0.1:1?prefix=/x").build();
        assertFalse(o.toString().contains("pw-secret-3141"), o.toString());
        assertFalse(o.toString().contains("tok-secret-2718"), o.toString());
        assertFalse(o.toString().contains("prefix"), o.toString());
        try (Registration reg = Registration.register(o)) { // its own context
            assertEquals("etcd://127.0.0.1:1", reg.registry());
            String text = reg.toString() + reg.describe();
            assertFalse(text.contains("pw-secret-3141") || text.contains("tok-secret-2718"), text);
            Context own = reg.context();
            reg.close();
            assertTrue(own.isClosed());
        }
    }

    @Test
    void closeWhileWaitingEndsTheWait() throws Exception {
        try (Context ctx = new Context()) {
            Registration reg = Registration.builder().registry("etcd://127.0.0.1:" + SshdFixture.freePort())
                .service(service("waiter")).address("10.2.0.3").port(8082).build(ctx);
            List<Throwable> errors = new CopyOnWriteArrayList<>();
            Thread waiter = new Thread(() -> {
                try {
                    reg.awaitRegistered(); // no limit
                } catch (RuntimeException e) {
                    errors.add(e);
                }
            });
            waiter.start();
            Thread.sleep(300);
            long t0 = System.nanoTime();
            reg.close();
            waiter.join(10_000);
            assertFalse(waiter.isAlive());
            assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
            assertEquals(1, errors.size());
            assertTrue(errors.get(0) instanceof ClosedException, errors.toString());
        }
    }

    // -- expose through a real sshd ---------------------------------------------

    static boolean refused(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 2000);
            return false;
        } catch (IOException e) {
            return true;
        }
    }

    @Test
    void exposeReachesTheLocalServiceThroughTheReverseForward() throws Exception {
        String svc = service("exposed");
        try (Context ctx = new Context(); Tunnel t = ctx.openTunnel(sshd.options().build())) {
            Expose e = t.expose(ExposeOptions.builder(origin.port).registryViaTunnel(true).build(),
                Registration.builder().registry(etcd.url()).service(svc).meta("owner", "alice")
                    .tag("dev-alice").build());
            Registration reg = e.registration();
            Forward fwd = e.forward();
            int remotePort;
            try (e) {
                reg.awaitRegistered(Duration.ofSeconds(15));
                assertEquals(ForwardKind.REMOTE, fwd.kind());
                assertSame(e, reg.expose().orElseThrow());
                assertSame(e, fwd.expose().orElseThrow());
                assertSame(t, e.tunnel());
                remotePort = fwd.port();
                // The entry advertises the bastion's address and the forward's port ...
                @SuppressWarnings("unchecked")
                Map<String, Object> node = (Map<String, Object>) ((List<Object>) Json.parseObject(
                    etcd.values(PREFIX + "/" + svc + "/").get(0)).get("nodes")).get(0);
                assertEquals("127.0.0.1:" + remotePort, node.get("address"));
                // ... where a cloud caller reaches the local service.
                assertEquals("hello from /cloud\n", get("http://" + node.get("address") + "/cloud"));
                assertEquals((long) remotePort, reg.describe().get("port"));
                List<Event> events = drain(ctx, Duration.ofMillis(300));
                assertTrue(events.stream().anyMatch(ev -> ev.type() == EventType.FORWARD_READY
                    && ev.message().contains("-> " + etcd.endpoint() + " (via the bastion)")), events.toString());
                assertTrue(of(events, reg).stream().allMatch(ev -> ev.tunnelId() == t.id()));
                assertTrue(e.toString().contains(svc), e.toString());
            }
            assertTrue(e.isClosed() && reg.isClosed() && fwd.isClosed());
            assertTrue(e.closeError().isEmpty());
            assertEquals(List.of(), keys(svc));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!refused(remotePort) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(refused(remotePort), "the bastion's port is closed");
            e.close();
            assertEquals(TunnelState.UP, t.state()); // the tunnel is untouched
        }
    }

    @Test
    void closingTheTunnelOrAPartClosesTheExposeFirst() throws Exception {
        String svc = service("tunnelclose");
        Expose e;
        try (Tunnel t = openTunnel()) {
            e = t.expose(ExposeOptions.builder(origin.port).build(),
                Registration.builder().registry(etcd.url()).service(svc).build());
            e.registration().awaitRegistered(Duration.ofSeconds(15));
            assertEquals(1, keys(svc).size());

            String svc2 = service("part");
            Expose other = t.expose(ExposeOptions.builder(origin.port).build(),
                Registration.builder().registry(etcd.url()).service(svc2).build());
            other.registration().awaitRegistered(Duration.ofSeconds(15));
            other.forward().close(); // a part closes the whole
            assertTrue(other.isClosed() && other.registration().isClosed());
            assertEquals(List.of(), keys(svc2));

            InvalidArgumentException bad = assertThrows(InvalidArgumentException.class,
                () -> t.expose(ExposeOptions.builder(0).build(),
                    Registration.builder().registry(etcd.url()).service("s").build()));
            assertTrue(bad.getMessage().contains("local port"), bad.getMessage());
            assertEquals(2, t.stats().forwards()); // the first expose's: reverse + to the registry
        }
        assertTrue(e.isClosed() && e.registration().isClosed() && e.forward().isClosed());
        assertEquals(List.of(), keys(svc)); // deregistered through the tunnel before it went
        e.close();
    }
}
