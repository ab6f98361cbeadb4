// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Kubernetes API server of the tests: fabric8's kubernetes-server-mock in
 * CRUD mode behind tests/fixtures/k8s-mock (built by scripts/build_fixtures.sh),
 * started as tests/fixtures/k8s_fixture.c starts it (same JVM flags and
 * class-data archive), on plain HTTP and a port it picks and writes to a file,
 * with a kubeconfig written as kubectl writes them. The twin of
 * tests/python/fixtures.py's K8sMock.
 *
 * <p>The mock has no scheduler, controller or kubelet: a Deployment makes no
 * Pod, and a Pod stays Pending until a test writes its status through the
 * status subresource the way the scheduler and the kubelet would.
 */
final class K8sMockFixture implements AutoCloseable {
    static final String NAMESPACE = "dev";
    static final String CONTEXT = "devkit-mock";
    static final String USER = "devkit-test";

    final Path dir;
    final int port;
    final String url;
    final Path kubeconfig;
    private final Process proc;
    private final HttpClient http = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
        .connectTimeout(Duration.ofSeconds(10)).build();

    K8sMockFixture() throws IOException, InterruptedException {
        Path fixtures = fixturesDir();
        Path jar = fixtures.resolve("k8s-mock/k8s-mock.jar");
        Path jsa = fixtures.resolve("k8s-mock/app.jsa");
        dir = Files.createTempDirectory("devkit-k8s.java-");
        Path portFile = dir.resolve("port");
        List<String> argv = new ArrayList<>(List.of(javaBinary(), "-Xmx128m", "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC", "-XX:-UsePerfData", "-XX:+ExitOnOutOfMemoryError",
            "-Djava.io.tmpdir=" + dir, "-Dvertx.disableFileCPResolving=true"));
        if (Files.isRegularFile(jsa)) {
            argv.add("-XX:SharedArchiveFile=" + jsa);
        }
        argv.addAll(List.of("-jar", jar.toString(), "--port=0", "--port-file=" + portFile, "--quiet"));
        Process p = null;
        try {
            p = new ProcessBuilder(argv).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("k8s-mock.log").toFile()))
                .start();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (!Files.exists(portFile) || Files.readString(portFile).isBlank()) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("the Kubernetes API mock did not start: " + log());
                }
                Thread.sleep(20);
            }
            port = Integer.parseInt(Files.readString(portFile).trim());
            url = "http://127.0.0.1:" + port;
            proc = p;
            while (status("GET", "/__fixture/health", null, null) != 200) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new IOException("the Kubernetes API mock does not answer: " + log());
                }
                Thread.sleep(50);
            }
            kubeconfig = dir.resolve("kubeconfig");
            Files.writeString(kubeconfig, "apiVersion: v1\nkind: Config\n"
                + "clusters:\n- name: " + CONTEXT + "\n  cluster:\n    server: " + url + "\n"
                + "users:\n- name: " + USER + "\n  user: {}\n"
                + "contexts:\n- name: " + CONTEXT + "\n  context:\n    cluster: " + CONTEXT + "\n"
                + "    user: " + USER + "\n    namespace: " + NAMESPACE + "\n"
                + "current-context: " + CONTEXT + "\npreferences: {}\n");
        } catch (IOException | InterruptedException | RuntimeException e) {
            if (p != null) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            delete(dir);
            throw e;
        }
    }

    private static String javaBinary() {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        return Files.isExecutable(java) ? java.toString() : "java";
    }

    /**
     * Where scripts/build_fixtures.sh put the jar (looked up as k8s_fixture.c
     * does); built there with Maven if it is nowhere.
     */
    static Path fixturesDir() throws IOException, InterruptedException {
        Path source = ExampleTest.SOURCE_DIR.toAbsolutePath().normalize();
        List<Path> candidates = new ArrayList<>();
        String env = System.getenv("DEVKIT_FIXTURES_DIR");
        if (env != null && !env.isEmpty()) {
            candidates.add(Path.of(env));
        }
        env = System.getenv("DEVKIT_BUILD_DIR");
        if (env != null && !env.isEmpty()) {
            candidates.add(Path.of(env, "fixtures"));
        }
        candidates.add(source.resolve("build/fixtures"));
        for (Path c : candidates) {
            if (Files.isRegularFile(c.resolve("k8s-mock/k8s-mock.jar"))) {
                return c;
            }
        }
        Path out = source.resolve("build/fixtures");
        Process build = new ProcessBuilder("bash", source.resolve("tests/fixtures/k8s-mock/build.sh").toString(),
            out.toString()).redirectErrorStream(true).start();
        String output = new String(build.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (build.waitFor() != 0 || !Files.isRegularFile(out.resolve("k8s-mock/k8s-mock.jar"))) {
            throw new IOException("the Kubernetes API mock is not built and building it failed "
                + "(run scripts/build_fixtures.sh): " + output);
        }
        return out;
    }

    private String log() {
        try {
            String text = Files.readString(dir.resolve("k8s-mock.log"));
            return text.length() > 3000 ? text.substring(text.length() - 3000) : text;
        } catch (IOException e) {
            return "(no log)";
        }
    }

    record Answer(int status, String body) {
    }

    Answer call(String method, String path, String body, String contentType) throws IOException, InterruptedException {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url + path)).timeout(Duration.ofSeconds(15));
        if (body != null) {
            b.header("Content-Type", contentType != null ? contentType : "application/json");
            b.method(method, HttpRequest.BodyPublishers.ofString(body));
        } else {
            b.method(method, HttpRequest.BodyPublishers.noBody());
        }
        HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        return new Answer(r.statusCode(), r.body());
    }

    private int status(String method, String path, String body, String contentType) throws InterruptedException {
        try {
            return call(method, path, body, contentType).status();
        } catch (IOException e) {
            return -1;
        }
    }

    private String ok(String method, String path, String body, String contentType)
        throws IOException, InterruptedException {
        Answer a = call(method, path, body, contentType);
        if (a.status() < 200 || a.status() >= 300) {
            throw new IOException("k8s mock: " + method + " " + path + " -> " + a.status() + ": " + a.body());
        }
        return a.body();
    }

    /** A request as the cluster's own components make it (never authenticated or counted). */
    Answer admin(String method, String path, String body) throws IOException, InterruptedException {
        return call(method, "/__fixture/api" + path, body, null);
    }

    /** Create objects (YAML or JSON) as test setup; no namespace: "dev". */
    void apply(String manifest) throws IOException, InterruptedException {
        String type = manifest.stripLeading().startsWith("{") || manifest.stripLeading().startsWith("[")
            ? "application/json" : "application/yaml";
        ok("POST", "/__fixture/apply?namespace=" + NAMESPACE, manifest, type);
    }

    /** How many API requests had this method (null: any) since the start or the last reset. */
    int countRequests(String method) throws IOException, InterruptedException {
        @SuppressWarnings("unchecked")
        List<Object> items = (List<Object>) Json.parseObject(ok("GET", "/__fixture/requests", null, null)).get("items");
        int n = 0;
        for (Object item : items) {
            if (method == null || method.equals(((java.util.Map<?, ?>) item).get("method"))) {
                n++;
            }
        }
        return n;
    }

    void forbid(String rule) throws IOException, InterruptedException {
        ok("POST", "/__fixture/forbid?rule=" + URLEncoder.encode(rule, StandardCharsets.UTF_8), null, null);
    }

    /** Where the containers' sandbox directories are: exec and attach run there, on this machine. */
    Path podsDir() throws IOException, InterruptedException {
        return Path.of(ok("GET", "/__fixture/pods-dir", null, null).trim());
    }

    /** A container's sandbox directory, made if missing (k8s_fixture.h's fx_k8s_pod_dir). */
    Path podDir(String ns, String pod, String container) throws IOException, InterruptedException {
        return Files.createDirectories(podsDir().resolve(ns).resolve(pod).resolve(container));
    }

    /**
     * Play the scheduler and the kubelet for a Pod that exists, as
     * fx_k8s_set_pod_running does: a node, phase Running, podIP 127.0.0.1 (the
     * Pod network is this machine's loopback), every container running and ready.
     * exec, attach and port-forward then work on it.
     */
    @SuppressWarnings("unchecked")
    void setPodRunning(String ns, String name) throws IOException, InterruptedException {
        String path = "/api/v1/namespaces/" + ns + "/pods/" + name;
        Map<String, Object> pod = Json.parseObject(ok("GET", "/__fixture/api" + path, null, null));
        Map<String, Object> spec = (Map<String, Object>) pod.get("spec");
        if (spec.get("nodeName") == null) {
            ok("PATCH", "/__fixture/api" + path, "{\"spec\":{\"nodeName\":\"devkit-node-1\"}}",
                "application/merge-patch+json");
        }
        String now = java.time.Instant.now().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString();
        StringBuilder statuses = new StringBuilder();
        for (Object c : (List<Object>) spec.get("containers")) {
            Map<String, Object> container = (Map<String, Object>) c;
            statuses.append(statuses.length() == 0 ? "" : ",").append("{\"name\":\"").append(container.get("name"))
                .append("\",\"ready\":true,\"started\":true,\"restartCount\":0,\"image\":\"")
                .append(container.get("image")).append("\",\"imageID\":\"\",\"containerID\":\"containerd://")
                .append(Long.toHexString(System.nanoTime())).append("\",\"state\":{\"running\":{\"startedAt\":\"")
                .append(now).append("\"}}}");
        }
        String conditions = "[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Initialized\","
            + "\"status\":\"True\"},{\"type\":\"ContainersReady\",\"status\":\"True\"},"
            + "{\"type\":\"Ready\",\"status\":\"True\"}]";
        ok("PATCH", "/__fixture/api" + path + "/status", "{\"status\":{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\","
            + "\"podIP\":\"127.0.0.1\",\"podIPs\":[{\"ip\":\"127.0.0.1\"}],\"startTime\":\"" + now
            + "\",\"conditions\":" + conditions + ",\"containerStatuses\":[" + statuses + "]}}",
            "application/merge-patch+json");
    }

    /**
     * The exec/attach/portforward sessions the server saw, oldest first
     * (fx_k8s_stream_sessions): kind, pod, container, protocol, command, stdin,
     * stdout, stderr, tty, resizes, stdinClosed, exitCode, active, ports, ...
     */
    @SuppressWarnings("unchecked")
    List<Map<String, Object>> streamSessions() throws IOException, InterruptedException {
        return (List<Map<String, Object>>) Json.parseObject(ok("GET", "/__fixture/streams", null, null)).get("items");
    }

    /** Empty the store, drop faults and rules, clear the request log. */
    void reset() throws IOException, InterruptedException {
        ok("POST", "/__fixture/reset", null, null);
    }

    @Override
    public void close() throws IOException {
        proc.destroy();
        try {
            if (!proc.waitFor(10, TimeUnit.SECONDS)) {
                proc.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            proc.destroyForcibly();
            Thread.currentThread().interrupt();
        }
        delete(dir);
    }

    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
