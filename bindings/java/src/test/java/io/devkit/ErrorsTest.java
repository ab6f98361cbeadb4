// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each exception class, provoked the way a user meets it. */
class ErrorsTest extends WithSshd {
    @Test
    void wrongKeyIsAuth() {
        AuthException e = assertThrows(AuthException.class,
            () -> Tunnel.open(sshd.options().identityFile(sshd.otherKey).build()));
        assertEquals(DevkitException.EAUTH, e.code());
        assertTrue(e.getMessage().contains("authentication failed"), e.getMessage());
    }

    @Test
    void unknownHostKeyIsHostKey() {
        HostKeyException e = assertThrows(HostKeyException.class,
            () -> Tunnel.open(sshd.options().knownHostsFile(sshd.emptyKnownHosts).build()));
        assertTrue(e.getMessage().contains("SHA256:"), e.getMessage());
    }

    @Test
    void changedHostKeyIsHostKeyEvenWithAcceptNew(@TempDir Path tmp) throws Exception {
        String[] other = Files.readString(Path.of(sshd.otherKey + ".pub")).trim().split(" ");
        Path known = tmp.resolve("known_hosts");
        Files.writeString(known, "[127.0.0.1]:" + sshd.port + " " + other[0] + " " + other[1] + "\n");
        assertThrows(HostKeyException.class, () -> Tunnel.open(sshd.options().knownHostsFile(known)
            .hostKeyPolicy(HostKeyPolicy.ACCEPT_NEW).build()));
    }

    @Test
    void pinnedFingerprint() {
        try (Tunnel t = Tunnel.open(sshd.options().hostKeySha256(sshd.hostFingerprint).build())) {
            assertEquals(TunnelState.UP, t.state());
        }
        assertThrows(HostKeyException.class, () -> Tunnel.open(sshd.options()
            .hostKeySha256("SHA256:" + "A".repeat(43)).build()));
    }

    @Test
    void refusedPortIsConnectionRefused() throws Exception {
        int port = SshdFixture.freePort();
        assertThrows(ConnectionRefusedException.class, () -> Tunnel.open(TunnelOptions
            .builder("root@127.0.0.1:" + port).knownHostsFile(sshd.knownHosts).build()));
    }

    @Test
    void silentServerIsTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            TimeoutException e = assertThrows(TimeoutException.class, () -> Tunnel.open(TunnelOptions
                .builder("root@127.0.0.1:" + silent.getLocalPort()).knownHostsFile(sshd.knownHosts)
                .connectTimeout(Duration.ofMillis(500)).build()));
            assertEquals(DevkitException.ETIMEOUT, e.code());
        }
    }

    @Test
    void otherProtocolIsProtocol() throws Exception {
        try (ServerSocket http = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            Thread answer = new Thread(() -> {
                try (Socket s = http.accept()) {
                    OutputStream out = s.getOutputStream();
                    out.write("HTTP/1.1 400 Bad Request\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    out.flush();
                    s.getInputStream().read();
                } catch (Exception ignored) {
                    // the client has gone: that is the point
                }
            });
            answer.start();
            assertThrows(ProtocolException.class, () -> Tunnel.open(TunnelOptions
                .builder("root@127.0.0.1:" + http.getLocalPort()).knownHostsFile(sshd.knownHosts).build()));
            answer.join(5000);
        }
    }

    @Test
    void unresolvableBastionIsNotFound() {
        assertThrows(NotFoundException.class, () -> Tunnel.open(TunnelOptions
            .builder("root@no-such-host.invalid:22").knownHostsFile(sshd.knownHosts).build()));
    }

    @Test
    void portInUseIsExists() throws Exception {
        try (Tunnel t = openTunnel();
             ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            ExistsException e = assertThrows(ExistsException.class,
                () -> t.addForward(ForwardOptions.dynamic().bindPort(taken.getLocalPort()).build()));
            assertEquals(DevkitException.EEXISTS, e.code());
        }
    }

    @Test
    void badForwardOptionsAreInvalidArgument() {
        try (Tunnel t = openTunnel()) {
            assertThrows(InvalidArgumentException.class,
                () -> t.addForward(ForwardOptions.dynamic().bindPort(70000).build()));
            assertThrows(InvalidArgumentException.class, () -> t.localForward("", 80));
        }
    }

    @Test
    void useAfterCloseIsClosed() {
        Tunnel t = openTunnel();
        Forward f = t.dynamicForward();
        t.close();
        assertTrue(f.isClosed()); // closing the tunnel ended its forwards
        assertThrows(ClosedException.class, t::state);
        assertThrows(ClosedException.class, t::stats);
        assertThrows(ClosedException.class, t::describe);
        assertThrows(ClosedException.class, t::dynamicForward);
        assertThrows(ClosedException.class, f::port);
        assertThrows(ClosedException.class, f::stats);
    }
}
