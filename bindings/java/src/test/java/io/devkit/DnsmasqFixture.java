// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.SocketTimeoutException;
import java.util.concurrent.TimeUnit;

/**
 * A real dnsmasq on 127.0.0.1 and a free port as the cluster DNS: every
 * {@code *.svc.cluster.local} is 127.0.0.2, any other {@code *.cluster.local}
 * does not exist (NXDOMAIN). It forwards nothing ({@code --no-resolv}), so no
 * query ever leaves the machine. The twin of tests/python/fixtures.py's Dnsmasq.
 */
final class DnsmasqFixture implements AutoCloseable {
    final int port;
    private final Process process;

    DnsmasqFixture() throws IOException, InterruptedException {
        for (int attempt = 0; attempt < 5; attempt++) {
            int p = SshdFixture.freePort();
            Process proc = new ProcessBuilder("dnsmasq", "--no-daemon", "--conf-file=/dev/null",
                "--no-resolv", "--no-hosts", "--listen-address=127.0.0.1", "--bind-interfaces",
                "--port=" + p, "--address=/svc.cluster.local/127.0.0.2", "--local=/cluster.local/",
                "--local-ttl=30", "--user=root", "--pid-file=")
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                .start();
            if (ready(proc, p)) {
                port = p;
                process = proc;
                return;
            }
            proc.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        throw new IOException("dnsmasq did not start");
    }

    /** "127.0.0.1:PORT", as the bastion (on this machine) sees it. */
    String address() {
        return "127.0.0.1:" + port;
    }

    /** True once it answers a query over UDP; false if it exited (the port was taken). */
    private static boolean ready(Process proc, int port) throws IOException {
        byte[] query = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
            5, 'r', 'e', 'a', 'd', 'y', 5, 'c', 'h', 'e', 'c', 'k', 0, 0, 1, 0, 1};
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(100);
            while (System.nanoTime() < deadline && proc.isAlive()) {
                s.send(new DatagramPacket(query, query.length, InetAddress.getLoopbackAddress(), port));
                byte[] buf = new byte[512];
                DatagramPacket answer = new DatagramPacket(buf, buf.length);
                try {
                    s.receive(answer);
                } catch (SocketTimeoutException notYet) {
                    continue;
                }
                if (buf[0] == 0x12 && buf[1] == 0x34) {
                    return true;
                }
            }
        }
        return false;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }
}
