// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * exec, attach and port-forward (devkit/exec.h) against the Kubernetes API
 * fixture, which runs exec commands on this machine in the container's sandbox
 * directory and connects port-forwards to this machine's loopback (the Pod
 * network), as tests/k8s/test_exec.c and test_portforward.c use it.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES) // a hang fails, not blocks the build
class ExecTest {
    static final String NS = K8sMockFixture.NAMESPACE;
    static final String POD = "web-1";

    K8sMockFixture mock;
    Context ctx;
    Kubernetes k8s;

    @BeforeAll
    void start() throws Exception {
        mock = new K8sMockFixture();
    }

    @AfterAll
    void stop() throws Exception {
        if (mock != null) {
            mock.close();
        }
    }

    @BeforeEach
    void open() throws Exception {
        mock.reset();
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + POD + "\",\"namespace\":\""
            + NS + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"}]}}");
        mock.setPodRunning(NS, POD);
        ctx = new Context();
        k8s = Kubernetes.open(ctx, KubernetesOptions.builder().kubeconfig(mock.kubeconfig)
            .timeout(Duration.ofSeconds(15)).build());
    }

    @AfterEach
    void closeAll() {
        ctx.close();
    }

    static ExecOptions.Builder sh(String command) {
        return ExecOptions.builder(POD).command(command);
    }

    @Test
    void execRunWithStdinStdoutStderrAndExitCode() {
        ExecResult r = k8s.execRun(ExecOptions.builder(POD)
            .argv("sh", "-c", "tr a-z A-Z; echo \"$0\" >&2; exit 3", "arg zero").build(),
            "hello\nworld\n".getBytes(StandardCharsets.UTF_8));
        assertEquals(3, r.exitCode());
        assertFalse(r.succeeded());
        assertEquals("HELLO\nWORLD\n", r.stdoutText());
        assertEquals("arg zero\n", r.stderrText());

        ExecResult ok = k8s.execRun(POD, "echo fine");
        assertEquals(0, ok.exitCode());
        assertTrue(ok.succeeded());
        assertEquals("fine\n", ok.stdoutText());
        assertEquals(0, ok.stderr().length);
    }

    @Test
    void bytesCrossUnchanged() {
        // Every byte value, NUL included, through cat and back, larger than the
        // library's 1 MiB buffers.
        byte[] in = new byte[3 * 1024 * 1024 + 7];
        for (int i = 0; i < in.length; i++) {
            in[i] = (byte) (i * 31 + (i >> 8));
        }
        ExecResult r = k8s.execRun(ExecOptions.builder(POD).argv("cat").build(), in);
        assertEquals(0, r.exitCode());
        assertArrayEquals(in, r.stdout());
    }

    @Test
    void commandsRunInTheContainersSandbox() throws Exception {
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"two\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"},"
            + "{\"name\":\"sidecar\",\"image\":\"side:1\"}]}}");
        mock.setPodRunning(NS, "two");
        Path dir = mock.podDir(NS, "two", "sidecar");
        Files.writeString(dir.resolve("motd"), "from the sidecar\n");
        ExecResult r = k8s.execRun(ExecOptions.builder("two").container("sidecar")
            .command("cat motd; echo \"$HOSTNAME\"").build());
        assertEquals("from the sidecar\ntwo\n", r.stdoutText());
        assertEquals(0, r.exitCode());
        // Two containers and none named: the server's words.
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
            () -> k8s.execRun("two", "true"));
        assertTrue(e.getMessage().contains("a container name must be specified"), e.getMessage());
    }

    @Test
    void streamingSession() {
        try (ExecSession s = k8s.exec(sh("cat; echo eof-seen; exit 4").stdin(true).build())) {
            assertEquals("v5.channel.k8s.io", s.protocol());
            assertFalse(s.isTty());
            s.write("hello ".getBytes(StandardCharsets.UTF_8));
            s.write("world\n".getBytes(StandardCharsets.UTF_8));
            // cat passes it on while stdin is still open.
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().equals("hello world\n")) {
                ExecOutput o = s.read(Duration.ofSeconds(15)).orElseThrow();
                assertEquals(ExecStream.STDOUT, o.stream());
                seen.append(o.text());
            }
            assertEquals(Optional.empty(), s.read(Duration.ofMillis(200)));
            s.closeStdin();
            ExecResult rest = s.collect(Duration.ofSeconds(15));
            assertEquals("eof-seen\n", rest.stdoutText());
            assertEquals(4, rest.exitCode());
            assertTrue(s.isEnded());
            assertThrows(ClosedException.class, () -> s.read(Duration.ZERO));
            assertEquals(4, s.waitFor(Duration.ZERO));
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> s.write(new byte[] {1}));
            assertTrue(e.getMessage().contains("stdin is closed"), e.getMessage());
        }
        List<Map<String, Object>> seen = new ArrayList<>();
        try {
            seen = mock.streamSessions();
        } catch (IOException | InterruptedException e) {
            throw new AssertionError(e);
        }
        assertEquals(Boolean.TRUE, seen.get(seen.size() - 1).get("stdinClosed"));
    }

    @Test
    void processLikeStreams() throws Exception {
        try (ExecSession s = k8s.exec(sh("while read l; do echo \"out:$l\"; echo \"err:$l\" >&2; done; exit 7")
            .stdin(true).build())) {
            CompletableFuture<List<String>> err = CompletableFuture.supplyAsync(() -> lines(s.getErrorStream()));
            try (OutputStream stdin = s.getOutputStream()) {
                for (int i = 0; i < 300; i++) {
                    stdin.write(("line " + i + "\n").getBytes(StandardCharsets.UTF_8));
                }
            } // closes stdin: the loop ends
            List<String> out = lines(s.getInputStream());
            assertEquals(300, out.size());
            assertEquals("out:line 0", out.get(0));
            assertEquals("out:line 299", out.get(299));
            List<String> errLines = err.get(30, TimeUnit.SECONDS);
            assertEquals(300, errLines.size());
            assertEquals("err:line 299", errLines.get(299));
            assertEquals(7, s.waitFor(Duration.ofSeconds(15)));
        }
    }

    static List<String> lines(InputStream in) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            List<String> out = new ArrayList<>();
            for (String l = r.readLine(); l != null; l = r.readLine()) {
                out.add(l);
            }
            return out;
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void closingOneViewLetsTheOtherFlow() throws Exception {
        // 3 MiB on stderr that nobody wants, a line on stdout after it.
        try (ExecSession s = k8s.exec(sh("head -c 3145728 /dev/zero >&2; echo done").build())) {
            s.getErrorStream().close();
            assertEquals(List.of("done"), lines(s.getInputStream()));
            assertEquals(0, s.waitFor(Duration.ofSeconds(15)));
        }
    }

    @Test
    void terminalAndResize() {
        try (ExecSession s = k8s.exec(sh("read go; stty size; echo to-err >&2").stdin(true).tty(true).build())) {
            assertTrue(s.isTty());
            s.resize(123, 45);
            s.write("go\n".getBytes(StandardCharsets.UTF_8));
            ExecResult r = s.collect(Duration.ofSeconds(15));
            // A terminal: stderr arrives on stdout.
            assertTrue(r.stdoutText().contains("45 123"), r.stdoutText());
            assertTrue(r.stdoutText().contains("to-err"), r.stdoutText());
            assertEquals(0, r.stderr().length);
        }
    }

    @Test
    void attachToTheMainProcess() throws Exception {
        // The container's main process reads attached stdin with stdin: true in its spec.
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"shell-1\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\",\"stdin\":true}]}}");
        mock.setPodRunning(NS, "shell-1");
        try (ExecSession s = k8s.exec(ExecOptions.builder("shell-1").attach(true).stdin(true).build())) {
            s.write("echo attached-$((40 + 2))\n".getBytes(StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            while (!seen.toString().contains("attached-42")) {
                seen.append(s.read(Duration.ofSeconds(15)).orElseThrow().text());
            }
        }
    }

    @Test
    void errorsCarryTheServersWords() {
        NotFoundException nf = assertThrows(NotFoundException.class,
            () -> k8s.exec(ExecOptions.builder("nope").command("true").build()));
        assertTrue(nf.getMessage().contains("\"nope\" not found"), nf.getMessage());
        assertThrows(NotFoundException.class, () -> k8s.execRun("nope", "true"));
        DevkitException bad = assertThrows(DevkitException.class,
            () -> k8s.execRun(sh("true").container("no-such-container").build()));
        assertTrue(bad.getMessage().contains("no-such-container"), bad.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExecOptions.builder(POD).build());
        try (ExecSession s = k8s.exec(sh("true").build())) {
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> s.write("x".getBytes(StandardCharsets.UTF_8)));
            assertTrue(e.getMessage().contains("stdin is not enabled"), e.getMessage());
            assertThrows(InvalidArgumentException.class, s::closeStdin);
            assertThrows(InvalidArgumentException.class, () -> s.resize(80, 24)); // no terminal
            assertEquals(0, s.waitFor(Duration.ofSeconds(15)));
        }
        // A program that does not exist: a shell says 127.
        assertEquals(127, k8s.execRun(POD, "no-such-program-devkit").exitCode());
    }

    @Test
    void waitForTimesOutAndCloseFromAnotherThreadEndsARead() throws Exception {
        ExecSession s = k8s.exec(sh("sleep 30").build());
        TimeoutException t = assertThrows(TimeoutException.class, () -> s.waitFor(Duration.ofMillis(300)));
        assertTrue(t.getMessage().contains("300 ms"), t.getMessage());
        List<Throwable> got = Collections.synchronizedList(new ArrayList<>());
        Thread reader = new Thread(() -> {
            try {
                s.read(null);
            } catch (Throwable e) {
                got.add(e);
            }
        });
        reader.start();
        Thread.sleep(300);
        long started = System.nanoTime();
        s.close();
        reader.join(5000);
        assertFalse(reader.isAlive());
        assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(2));
        assertEquals(1, got.size());
        assertTrue(got.get(0) instanceof ClosedException, got.toString());
        s.close(); // idempotent
        assertThrows(ClosedException.class, () -> s.read(Duration.ZERO));
        assertThrows(ClosedException.class, () -> s.write(new byte[1]));
    }

    @Test
    void closingTheContextClosesSessionsAndForwards() throws Exception {
        ExecSession s = k8s.exec(sh("sleep 30").stdin(true).build());
        InputStream out = s.getInputStream();
        PodForward f = k8s.portForward(POD, 1, 0);
        ctx.close();
        assertTrue(s.isClosed() && f.isClosed() && k8s.isClosed());
        s.close(); // no double free
        f.close();
        IOException e = assertThrows(IOException.class, out::read);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void sessionsDoNotLeak() throws Exception {
        // Warm up, then many start/read/close cycles must not grow the fds.
        for (int i = 0; i < 10; i++) {
            cycle(i);
        }
        long fds = LifetimeTest.fds();
        for (int i = 0; i < 100; i++) {
            cycle(i);
        }
        // A freed session's WebSocket is closed on the engine's loop just after.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (LifetimeTest.fds() > fds && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        // A leak would show as one fd a cycle or more; the engine may hold a
        // connection or two of its own for a while.
        long grew = LifetimeTest.fds() - fds;
        assertTrue(grew <= 2, "file descriptors leaked: " + grew + " after 100 sessions");
    }

    private void cycle(int i) {
        if (i % 2 == 0) {
            try (ExecSession s = k8s.exec(sh("echo " + i).build())) {
                assertEquals(i + "\n", s.collect(Duration.ofSeconds(15)).stdoutText());
            }
        } else {
            // dropped mid-stream, with output unread
            k8s.exec(sh("yes devkit").build()).close();
        }
    }

    // -- port-forward ------------------------------------------------------------

    /** An echo server on this machine's loopback, which is the Pod network of the fixture. */
    static final class Echo implements AutoCloseable {
        final ServerSocket server;
        final Thread thread;

        Echo() throws IOException {
            server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
            thread = new Thread(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket c = server.accept();
                        Thread t = new Thread(() -> {
                            try (c) {
                                c.getInputStream().transferTo(c.getOutputStream());
                            } catch (IOException ignored) {
                                // the client went
                            }
                        });
                        t.setDaemon(true);
                        t.start();
                    } catch (IOException closed) {
                        return;
                    }
                }
            });
            thread.setDaemon(true);
            thread.start();
        }

        int port() {
            return server.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }

    static String roundTrip(int port, String text) throws IOException {
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
            s.setSoTimeout(15000);
            byte[] sent = text.getBytes(StandardCharsets.UTF_8);
            s.getOutputStream().write(sent);
            // No half-close: a port-forward WebSocket closes both ways at once.
            return new String(s.getInputStream().readNBytes(sent.length), StandardCharsets.UTF_8);
        }
    }

    @Test
    void portForwardToAnEchoServer() throws Exception {
        try (Echo echo = new Echo(); PodForward f = k8s.portForward(POD, echo.port(), 0)) {
            assertTrue(f.port() > 0 && f.port() != echo.port());
            assertEquals("127.0.0.1", f.address());
            assertEquals(NS, f.namespace());
            assertEquals(echo.port(), f.podPort());
            assertEquals("ping\n", roundTrip(f.port(), "ping\n"));
            // Several connections at once, each its own WebSocket.
            List<CompletableFuture<String>> all = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String text = "hello " + i + " " + "x".repeat(100_000) + "\n";
                all.add(CompletableFuture.supplyAsync(() -> {
                    try {
                        return roundTrip(f.port(), text).equals(text) ? "ok" : "garbled";
                    } catch (IOException e) {
                        return e.toString();
                    }
                }));
            }
            for (CompletableFuture<String> c : all) {
                assertEquals("ok", c.get(60, TimeUnit.SECONDS));
            }
            long sessions = mock.streamSessions().stream().filter(x -> "portforward".equals(x.get("kind"))).count();
            assertTrue(sessions >= 9, "one port-forward WebSocket per connection: " + sessions);
        }
    }

    @Test
    void portForwardOnAChosenPortAndRefusedPods() throws Exception {
        int local;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            local = probe.getLocalPort();
        }
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        try (PodForward f = k8s.portForward(NS, POD, closedPort, "127.0.0.1", local)) {
            assertEquals(local, f.port());
            // Nothing listens on the Pod's port: the connection is closed.
            try (Socket s = new Socket(InetAddress.getLoopbackAddress(), f.port())) {
                s.setSoTimeout(15000);
                ByteArrayOutputStream got = new ByteArrayOutputStream();
                try {
                    s.getInputStream().transferTo(got);
                } catch (IOException reset) {
                    // closed by a reset: as good
                }
                assertEquals(0, got.size());
            }
            // The same local port is taken now.
            DevkitException busy = assertThrows(DevkitException.class,
                () -> k8s.portForward(NS, POD, closedPort, "127.0.0.1", local));
            assertTrue(busy.getMessage().contains("already in use"), busy.getMessage());
        }
        assertThrows(InvalidArgumentException.class, () -> k8s.portForward(POD, 0, 0));
    }

    @Test
    void portForwardThroughABastionTunnel() throws Exception {
        // The Pod's IP (127.0.0.1 in the fixture) through a real sshd: no API server in the data path.
        try (SshdFixture sshd = new SshdFixture(); Echo echo = new Echo()) {
            Tunnel tunnel = ctx.openTunnel(sshd.options().build());
            PodForward f = k8s.portForward(tunnel, null, POD, echo.port(), null, 0);
            assertEquals(tunnel, f.tunnel());
            assertEquals("through the bastion\n", roundTrip(f.port(), "through the bastion\n"));
            long sessions = mock.streamSessions().stream().filter(x -> "portforward".equals(x.get("kind"))).count();
            assertEquals(0, sessions, "no port-forward WebSocket");
            // C frees it before its tunnel: closing the tunnel closes it.
            tunnel.close();
            assertTrue(f.isClosed());
            f.close();
            PodForward g = k8s.portForward(ctx.openTunnel(sshd.options().build()), null, POD, echo.port(), null, 0);
            ctx.close(); // the client first, then the tunnel
            assertTrue(g.isClosed() && g.tunnel().isClosed());
            g.close();
        }
    }
}
