// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real etcd (Debian's etcd-server, 3.4) on 127.0.0.1 and a free port, its data
 * in a temp directory, ready once {@code etcdctl endpoint health} says so. The
 * twin of tests/python/fixtures.py's Etcd and tests/fixtures/etcd_fixture.c.
 */
final class EtcdFixture implements AutoCloseable {
    final Path dir;
    int port;                 // the client port
    private Process etcd;

    EtcdFixture() throws IOException, InterruptedException {
        this(0);
    }

    /** @param fixedPort the client port, or 0 for a free one */
    EtcdFixture(int fixedPort) throws IOException, InterruptedException {
        dir = Files.createTempDirectory("devkit-etcd.java-");
        try {
            for (int attempt = 0; attempt < (fixedPort != 0 ? 1 : 5); attempt++) {
                int p = fixedPort != 0 ? fixedPort : SshdFixture.freePort();
                int peer = SshdFixture.freePort();
                Process proc = start(p, peer, dir.resolve("data" + attempt));
                boolean ok = false;
                try {
                    ok = healthy(proc, p);
                } finally {
                    if (!ok) {
                        proc.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                    }
                }
                if (ok) {
                    port = p;
                    etcd = proc;
                    return;
                }
            }
            throw new IOException("etcd did not start: " + tail(dir.resolve("etcd.log")));
        } catch (IOException | InterruptedException | RuntimeException e) {
            delete(dir);
            throw e;
        }
    }

    private Process start(int client, int peer, Path data) throws IOException {
        String c = "http://127.0.0.1:" + client;
        String p = "http://127.0.0.1:" + peer;
        return new ProcessBuilder("etcd", "--name=default", "--data-dir=" + data,
            "--listen-client-urls=" + c, "--advertise-client-urls=" + c,
            "--listen-peer-urls=" + p, "--initial-advertise-peer-urls=" + p,
            "--initial-cluster=default=" + p, "--initial-cluster-state=new",
            "--logger=zap", "--log-level=warn", "--log-outputs=stderr")
            .redirectErrorStream(true)
            .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("etcd.log").toFile()))
            .start();
    }

    private static boolean healthy(Process proc, int port) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && proc.isAlive()) {
            if (run("--endpoints=127.0.0.1:" + port, "--command-timeout=2s", "endpoint", "health").ok) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** The registry URL for libdevkit. */
    String url() {
        return "etcd://127.0.0.1:" + port;
    }

    String endpoint() {
        return "127.0.0.1:" + port;
    }

    /** The keys under {@code prefix} ({@code etcdctl get --prefix --keys-only}). */
    List<String> keys(String prefix) throws IOException, InterruptedException {
        List<String> keys = new ArrayList<>();
        for (String line : etcdctl("get", "--prefix", prefix, "--keys-only").split("\n")) {
            if (!line.isBlank()) {
                keys.add(line.trim());
            }
        }
        return keys;
    }

    /** {@code etcdctl get --prefix --print-value-only}: the values under {@code prefix}, one a line. */
    List<String> values(String prefix) throws IOException, InterruptedException {
        List<String> values = new ArrayList<>();
        for (String line : etcdctl("get", "--prefix", prefix, "--print-value-only").split("\n")) {
            if (!line.isBlank()) {
                values.add(line.trim());
            }
        }
        return values;
    }

    String etcdctl(String... args) throws IOException, InterruptedException {
        String[] full = new String[args.length + 1];
        full[0] = "--endpoints=" + endpoint();
        System.arraycopy(args, 0, full, 1, args.length);
        Result r = run(full);
        if (!r.ok) {
            throw new IOException("etcdctl " + String.join(" ", args) + ": " + r.output);
        }
        return r.output;
    }

    private record Result(boolean ok, String output) {}

    private static Result run(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>();
        command.add("etcdctl");
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("ETCDCTL_API", "3");
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return new Result(false, out);
        }
        return new Result(p.exitValue() == 0, out);
    }

    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(10, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String tail(Path log) {
        try {
            String s = Files.readString(log);
            return s.length() > 3000 ? s.substring(s.length() - 3000) : s;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    private static void delete(Path dir) throws IOException {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Override
    public void close() throws IOException {
        if (etcd != null) {
            try {
                stop(etcd);
            } catch (InterruptedException e) {
                etcd.destroyForcibly();
                Thread.currentThread().interrupt();
            }
            etcd = null;
        }
        delete(dir);
    }
}
