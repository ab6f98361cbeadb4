// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real OpenSSH sshd as the bastion, on 127.0.0.1 and a free port, in a temp
 * directory with keys made by ssh-keygen: the Java twin of
 * tests/fixtures/sshd_fixture.c and tests/python/fixtures.py.
 */
final class SshdFixture implements AutoCloseable {
    final Path dir;
    final int port;
    final String bastion;
    final Path userKey;
    final Path otherKey;     // a key sshd does not accept
    final Path knownHosts;   // trusts exactly the host key
    final Path emptyKnownHosts;
    final String hostFingerprint;
    private Process sshd;

    SshdFixture() throws IOException, InterruptedException {
        dir = Files.createTempDirectory("devkit-sshd.java-");
        port = freePort();
        bastion = "root@127.0.0.1:" + port;
        Path hostKey = dir.resolve("host");
        userKey = dir.resolve("user");
        otherKey = dir.resolve("other");
        for (Path key : List.of(hostKey, userKey, otherKey)) {
            run("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key.toString());
        }
        Files.copy(Path.of(userKey + ".pub"), dir.resolve("authorized_keys"));
        String[] pub = Files.readString(Path.of(hostKey + ".pub")).trim().split(" ");
        knownHosts = dir.resolve("known_hosts");
        Files.writeString(knownHosts, "[127.0.0.1]:" + port + " " + pub[0] + " " + pub[1] + "\n");
        emptyKnownHosts = dir.resolve("known_hosts.empty");
        Files.writeString(emptyKnownHosts, "");
        hostFingerprint = run("ssh-keygen", "-l", "-E", "sha256", "-f", hostKey + ".pub").split(" ")[1];
        Files.writeString(dir.resolve("sshd_config"), String.join("\n",
            "Port " + port,
            "ListenAddress 127.0.0.1",
            "HostKey " + hostKey,
            "PidFile " + dir.resolve("sshd.pid"),
            "PubkeyAuthentication yes",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AuthorizedKeysFile " + dir.resolve("authorized_keys"),
            "StrictModes no",
            "AllowTcpForwarding yes",
            "PermitRootLogin yes",
            "UsePAM no",
            "MaxStartups 200:30:400",
            "MaxSessions 200",
            "LogLevel ERROR", ""));
        Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation dir
        sshd = new ProcessBuilder("/usr/sbin/sshd", "-D", "-e", "-f", dir.resolve("sshd_config").toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("sshd.log").toFile())
            .start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!Files.exists(dir.resolve("sshd.pid"))) { // written once it listens
            if (!sshd.isAlive() || System.nanoTime() > deadline) {
                throw new IOException("sshd did not start: " + Files.readString(dir.resolve("sshd.log")));
            }
            Thread.sleep(20);
        }
    }

    TunnelOptions.Builder options() {
        return TunnelOptions.builder(bastion).identityFile(userKey).knownHostsFile(knownHosts)
            .useAgent(false).connectTimeout(java.time.Duration.ofSeconds(10));
    }

    /** sshd processes serving a connection now (per-connection children call setsid, so walk by parent). */
    long connections() {
        return sshd == null ? 0 : sshd.toHandle().descendants().count();
    }

    @Override
    public void close() throws IOException {
        if (sshd != null) {
            List<ProcessHandle> children = sshd.toHandle().descendants().toList();
            sshd.destroy();
            children.forEach(ProcessHandle::destroy);
            try {
                sshd.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sshd = null;
        }
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out.trim();
    }
}
