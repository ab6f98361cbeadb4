// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * tcpdump capture (devkit/diag.h) against the Kubernetes API fixture, whose
 * exec runs tcpdump on this machine: the Pod network is this machine's
 * loopback, so capturing on "lo" sees the datagrams a test sends to
 * 127.0.0.1, as tests/diag/test_capture.c does. Capturing needs root (or
 * CAP_NET_RAW): without it those tests are skipped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES) // a hang fails, not blocks the build
class CaptureTest {
    static final String NS = K8sMockFixture.NAMESPACE;
    static final String POD = "web-1";

    K8sMockFixture mock;
    Context ctx;
    Kubernetes k8s;
    DatagramSocket probe;

    @TempDir
    Path tmp;

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
        ctx = new Context();
        k8s = Kubernetes.open(ctx, KubernetesOptions.builder().kubeconfig(mock.kubeconfig)
            .timeout(Duration.ofSeconds(15)).build());
        probe = new DatagramSocket(0, InetAddress.getLoopbackAddress());
    }

    @AfterEach
    void closeAll() {
        probe.close();
        ctx.close();
    }

    /** A Pod whose container is {@code containerJson}, running. */
    void pod(String containerJson) throws Exception {
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + POD + "\",\"namespace\":\""
            + NS + "\"},\"spec\":{\"containers\":[" + containerJson + "]}}");
        mock.setPodRunning(NS, POD);
    }

    void appPod() throws Exception {
        pod("{\"name\":\"app\",\"image\":\"app:1\"}");
    }

    static void needRoot() throws Exception {
        Process id = new ProcessBuilder("id", "-u").start();
        String uid = new String(id.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).trim();
        id.waitFor();
        Assumptions.assumeTrue("0".equals(uid), "capturing on lo needs root (uid " + uid + ")");
    }

    String filter() {
        return "udp port " + probe.getLocalPort();
    }

    /** n datagrams to the probe, gapMs apart. */
    void send(int n, int gapMs) throws Exception {
        try (DatagramSocket s = new DatagramSocket()) {
            byte[] payload = "devkit-probe".getBytes(StandardCharsets.US_ASCII);
            for (int i = 0; i < n; i++) {
                s.send(new DatagramPacket(payload, payload.length, InetAddress.getLoopbackAddress(),
                    probe.getLocalPort()));
                Thread.sleep(gapMs);
            }
        }
    }

    CaptureOptions.Builder lo(CaptureFormat format) {
        return CaptureOptions.builder(POD).interfaceName("lo").filter(filter()).format(format);
    }

    void awaitPackets(Capture c, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (c.stats().packets() < n) {
            assertTrue(System.nanoTime() < deadline, n + " packets not seen within 20 s: " + c.stats());
            Thread.sleep(50);
        }
    }

    @Test
    void textLinesNameThePort() throws Exception {
        needRoot();
        appPod();
        try (Capture c = k8s.capture(lo(CaptureFormat.TEXT).build())) {
            assertEquals(CaptureFormat.TEXT, c.format());
            send(3, 20);
            String port = "127.0.0.1." + probe.getLocalPort();
            List<String> lines = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (lines.stream().filter(l -> l.contains(port)).count() < 3) {
                assertTrue(System.nanoTime() < deadline, "3 lines naming " + port + " did not come: " + lines);
                c.readLine(Duration.ofSeconds(1)).ifPresent(lines::add);
            }
            c.stop();
            c.forEach(lines::add); // the rest, until the end
            DevkitException end = c.endReason().orElseThrow();
            assertInstanceOf(ClosedException.class, end);
            assertTrue(end.getMessage().contains("packets captured"), end.getMessage());
            CaptureStats st = c.stats();
            assertTrue(st.ended());
            assertEquals(lines.size(), st.packets(), "one line per packet: " + lines);
            assertTrue(st.packets() >= 3);
            assertThrows(ClosedException.class, () -> c.readLine(Duration.ZERO));
        }
        @SuppressWarnings("unchecked")
        List<Object> command = (List<Object>) mock.streamSessions().get(mock.streamSessions().size() - 1)
            .get("command");
        assertTrue(String.valueOf(command).contains("tcpdump -i 'lo' -n -l -- '" + filter() + "'"),
            String.valueOf(command));
    }

    @Test
    void pcapStreamToTheReader() throws Exception {
        needRoot();
        appPod();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        try (Capture c = k8s.capture(lo(CaptureFormat.PCAP).snaplen(200).build())) {
            send(4, 20);
            awaitPackets(c, 4);
            c.stop();
            while (true) {
                Optional<byte[]> b;
                try {
                    b = c.read(Duration.ofSeconds(20));
                } catch (ClosedException end) {
                    break;
                }
                got.writeBytes(b.orElseThrow(() -> new AssertionError("the pcap stream did not end")));
            }
            assertEquals(got.size(), c.stats().bytes());
            assertEquals(4, c.stats().packets());
        }
        byte[] pcap = got.toByteArray();
        assertTrue(pcap.length >= 24);
        // The pcap file header, in this machine's (little-endian) byte order.
        assertEquals(0xa1b2c3d4, (pcap[0] & 0xff) | (pcap[1] & 0xff) << 8 | (pcap[2] & 0xff) << 16
            | (pcap[3] & 0xff) << 24);
        assertEquals(4, tsharkFrames(pcap));
    }

    /** Frames tshark finds in a pcap, or the count of records when there is no tshark. */
    int tsharkFrames(byte[] pcap) throws Exception {
        Path file = tmp.resolve("stream.pcap");
        Files.write(file, pcap);
        Process p;
        try {
            p = new ProcessBuilder("tshark", "-r", file.toString()).redirectErrorStream(true).start();
        } catch (IOException noTshark) {
            int n = 0;
            for (int at = 24; at + 16 <= pcap.length; n++) {
                int incl = (pcap[at + 8] & 0xff) | (pcap[at + 9] & 0xff) << 8 | (pcap[at + 10] & 0xff) << 16
                    | (pcap[at + 11] & 0xff) << 24;
                at += 16 + incl;
            }
            return n;
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), out);
        return (int) out.lines().filter(l -> l.contains("UDP")).count();
    }

    @Test
    void pcapFileStopsAfterMaxPackets() throws Exception {
        needRoot();
        appPod();
        Path file = tmp.resolve("capture.pcap");
        try (Capture c = k8s.capture(lo(CaptureFormat.PCAP).file(file).maxPackets(3).build())) {
            send(5, 20);
            // With a file, reading only waits for the end; tcpdump -c 3 ends by itself.
            List<String> lines = new ArrayList<>();
            c.forEach(lines::add);
            assertEquals(List.of(), lines);
            assertTrue(c.stats().ended());
            assertEquals(3, c.stats().packets());
            assertEquals(Files.size(file), c.stats().bytes());
        }
        assertEquals(3, tsharkFrames(Files.readAllBytes(file)));
    }

    @Test
    void closeWhileRunningAndAfterTheContext() throws Exception {
        needRoot();
        appPod();
        Capture c = k8s.capture(lo(CaptureFormat.TEXT).build());
        List<String> lines = new ArrayList<>();
        Thread reader = new Thread(() -> c.forEach(lines::add));
        reader.start();
        Thread.sleep(200);
        c.close();
        reader.join(5000);
        assertFalse(reader.isAlive());
        Capture d = k8s.capture(lo(CaptureFormat.TEXT).build());
        ctx.close();
        assertTrue(d.isClosed() && c.isClosed());
        d.close(); // nothing freed twice
        assertThrows(ClosedException.class, d::stats);
    }

    @Test
    void badFilterIsInvalid() throws Exception {
        needRoot();
        appPod();
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
            () -> k8s.capture(CaptureOptions.builder(POD).interfaceName("lo").filter("tcp port").build()));
        assertTrue(e.getMessage().contains("syntax error"), e.getMessage());
    }

    @Test
    void errorsCarryTcpdumpsWords() throws Exception {
        assertThrows(NotFoundException.class, () -> k8s.capture(CaptureOptions.builder("nope").build()));
        // A container whose PATH has no tcpdump (the mock runs commands with it).
        pod("{\"name\":\"app\",\"image\":\"distroless\",\"env\":[{\"name\":\"PATH\",\"value\":\"/nonexistent\"}]}");
        UnsupportedException none = assertThrows(UnsupportedException.class,
            () -> k8s.capture(CaptureOptions.builder(POD).build()));
        assertTrue(none.getMessage().contains("tcpdump: not found"), none.getMessage());
        // A container without NET_RAW: tcpdump says what libpcap says then.
        Path bin = Files.createDirectories(tmp.resolve("fakebin"));
        Path fake = bin.resolve("tcpdump");
        Files.writeString(fake, "#!/bin/sh\necho 'tcpdump: lo: You don'\\''t have permission to capture on that "
            + "device' >&2\necho '(socket: Operation not permitted)' >&2\nexit 1\n");
        Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
        mock.reset();
        pod("{\"name\":\"app\",\"image\":\"busybox\",\"env\":[{\"name\":\"PATH\",\"value\":\"" + bin + "\"}]}");
        ForbiddenException denied = assertThrows(ForbiddenException.class,
            () -> k8s.capture(CaptureOptions.builder(POD).build()));
        assertTrue(denied.getMessage().contains("NET_RAW"), denied.getMessage());
    }
}
