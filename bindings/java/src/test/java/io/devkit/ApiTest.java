// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The surface without a bastion: version, defaults, errors, closed objects. */
class ApiTest {
    @Test
    void versionComesFromTheLibrary() {
        assertTrue(Devkit.version().matches("\\d+\\.\\d+\\.\\d+"), Devkit.version());
        assertFalse(Devkit.strerror(DevkitException.EHOSTKEY).isEmpty());
    }

    @Test
    void jniLibraryIsInTheClassPathUnderThePlatformFolder() {
        assertEquals("linux-x86-64", NativeLoader.platform());
        assertTrue(NativeLoader.class.getResource("/linux-x86-64/libdevkit_jni.so") != null);
    }

    @Test
    void optionsStartFromTheCDefaults() {
        devkit_tunnel_options t = TunnelOptions.builder("h").build().toNative();
        try {
            assertEquals(1, t.getUse_agent());
            assertEquals(15000, t.getConnect_timeout_ms());
            assertEquals(15, t.getKeepalive_interval_s());
            assertEquals(3, t.getKeepalive_count_max());
            assertEquals(1, t.getReconnect());
            assertEquals(250, t.getReconnect_initial_ms());
            assertEquals(30000, t.getReconnect_max_ms());
            assertEquals(0, t.getReconnect_max_attempts());
            assertEquals(HostKeyPolicy.STRICT.value(), t.getHost_key_policy());
            assertEquals("h", t.getBastion());
            assertNull(t.getUser());
        } finally {
            t.delete();
        }
        devkit_forward_options f = ForwardOptions.dynamic().build().toNative();
        try {
            assertEquals(ForwardKind.DYNAMIC.value(), f.getKind());
            assertEquals(0, f.getBind_port());
            assertNull(f.getBind_address());
        } finally {
            f.delete();
        }
        devkit_ctx_options c = ContextOptions.defaults().toNative();
        try {
            assertEquals(LogLevel.WARN.value(), c.getLog_level());
            assertEquals(4096, c.getEvent_queue_max());
        } finally {
            c.delete();
        }
    }

    @Test
    void builderValuesReachTheStruct() {
        devkit_tunnel_options t = TunnelOptions.builder("u@h:2").user("ü-ser").useAgent(false)
            .connectTimeout(Duration.ofMillis(1500)).reconnect(false)
            .hostKeyPolicy(HostKeyPolicy.ACCEPT_NEW).build().toNative();
        try {
            assertEquals("ü-ser", t.getUser()); // UTF-8 both ways
            assertEquals(0, t.getUse_agent());
            assertEquals(1500, t.getConnect_timeout_ms());
            assertEquals(0, t.getReconnect());
            assertEquals(HostKeyPolicy.ACCEPT_NEW.value(), t.getHost_key_policy());
        } finally {
            t.delete();
        }
    }

    @Test
    void stringsWithNulAreRefused() {
        assertThrows(InvalidArgumentException.class,
            () -> TunnelOptions.builder("a\0b").build().toNative());
    }

    @Test
    void eachCodeHasItsClass() {
        Map<Integer, Class<?>> expected = Map.ofEntries(
            Map.entry(DevkitException.ERROR, DevkitException.class),
            Map.entry(DevkitException.EINVAL, InvalidArgumentException.class),
            Map.entry(DevkitException.ENOMEM, NoMemoryException.class),
            Map.entry(DevkitException.EIO, IoException.class),
            Map.entry(DevkitException.ETIMEOUT, TimeoutException.class),
            Map.entry(DevkitException.ENOTFOUND, NotFoundException.class),
            Map.entry(DevkitException.ECONNREFUSED, ConnectionRefusedException.class),
            Map.entry(DevkitException.EHOSTKEY, HostKeyException.class),
            Map.entry(DevkitException.EAUTH, AuthException.class),
            Map.entry(DevkitException.EPROTO, ProtocolException.class),
            Map.entry(DevkitException.ECLOSED, ClosedException.class),
            Map.entry(DevkitException.EEXISTS, ExistsException.class),
            Map.entry(DevkitException.EUNSUPPORTED, UnsupportedException.class),
            Map.entry(DevkitException.EFORBIDDEN, ForbiddenException.class),
            Map.entry(-99, DevkitException.class));
        expected.forEach((code, cls) -> {
            DevkitException e = DevkitException.fromNative(code, "why ✓".getBytes(StandardCharsets.UTF_8));
            assertSame(cls, e.getClass());
            assertEquals(code, e.code());
            assertEquals("why ✓", e.getMessage());
        });
    }

    @Test
    void cFailureThrowsWithTheCMessage() {
        try (Context ctx = new Context()) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> ctx.openTunnel(TunnelOptions.builder("").build()));
            assertEquals(DevkitException.EINVAL, e.code());
            assertTrue(e.getMessage().contains("no bastion"), e.getMessage());
        }
    }

    @Test
    void closedContext() {
        Context ctx = new Context();
        assertTrue(ctx.eventFd() >= 0);
        ctx.close();
        ctx.close();
        assertTrue(ctx.isClosed());
        assertThrows(ClosedException.class, () -> ctx.poll(Duration.ZERO));
        assertThrows(ClosedException.class, ctx::eventFd);
        assertThrows(ClosedException.class, () -> ctx.openTunnel(TunnelOptions.builder("h").build()));
    }

    @Test
    void pollTimesOut() {
        try (Context ctx = new Context()) {
            long start = System.nanoTime();
            assertTrue(ctx.poll(Duration.ofMillis(150)).isEmpty());
            assertTrue(System.nanoTime() - start >= 140_000_000L);
            assertTrue(ctx.poll(Duration.ZERO).isEmpty());
        }
    }

    @Test
    void generatedClassesAreNotPublicApi() throws Exception {
        for (String name : new String[] {"DevkitC", "DevkitCJNI", "devkit_tunnel_options", "devkit_event"}) {
            assertFalse(Modifier.isPublic(Class.forName("io.devkit." + name).getModifiers()), name);
        }
    }
}
