// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * Pod diagnostics (devkit/diag.h) against fabric8's Kubernetes API mock
 * (K8sMockFixture), played as tests/diag/*.c play it with
 * tests/fixtures/k8s_fixture.c: /__fixture/apply (a Pod with its status),
 * /__fixture/event (an Event), /__fixture/pod-log (PUT sets a container's
 * log, POST appends and reaches followers at once).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DiagTest {
    static final String NS = K8sMockFixture.NAMESPACE;
    static final String IMAGE = "registry.example.com/shop/web:1.4.2";

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
        ctx = new Context();
        k8s = Kubernetes.open(ctx, KubernetesOptions.builder().kubeconfig(mock.kubeconfig)
            .timeout(Duration.ofSeconds(10)).build());
    }

    @AfterEach
    void closeAll() {
        ctx.close();
    }

    static String pod(String name, String status) {
        return "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"" + name + "\",\"namespace\":\""
            + NS + "\"},\"spec\":{\"nodeName\":\"node-1\",\"containers\":[{\"name\":\"app\",\"image\":\"" + IMAGE
            + "\"}]},\"status\":" + status + "}";
    }

    static String running(String name) {
        return pod(name, "{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\",\"podIP\":\"127.0.0.1\","
            + "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Initialized\","
            + "\"status\":\"True\"},{\"type\":\"ContainersReady\",\"status\":\"True\"},{\"type\":\"Ready\","
            + "\"status\":\"True\"}],\"containerStatuses\":[{\"name\":\"app\",\"ready\":true,\"restartCount\":0,"
            + "\"started\":true,\"image\":\"" + IMAGE + "\",\"imageID\":\"\",\"state\":{\"running\":{\"startedAt\":\""
            + Instant.now().toString().replaceAll("\\.\\d+Z$", "Z") + "\"}}}]}");
    }

    static String crashLooping(String name) {
        return pod(name, "{\"phase\":\"Running\",\"hostIP\":\"127.0.0.1\",\"podIP\":\"127.0.0.1\","
            + "\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"},{\"type\":\"Initialized\","
            + "\"status\":\"True\"},{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"ContainersNotReady\"}],"
            + "\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,\"restartCount\":5,\"started\":false,"
            + "\"image\":\"" + IMAGE + "\",\"imageID\":\"\",\"lastState\":{\"terminated\":{\"exitCode\":1,"
            + "\"reason\":\"Error\",\"startedAt\":\"2024-05-01T12:00:00Z\",\"finishedAt\":\"2024-05-01T12:00:01Z\"}},"
            + "\"state\":{\"waiting\":{\"reason\":\"CrashLoopBackOff\","
            + "\"message\":\"back-off 2m40s restarting failed container=app\"}}}]}");
    }

    static String imagePullBackOff(String name) {
        return pod(name, "{\"phase\":\"Pending\",\"conditions\":[{\"type\":\"PodScheduled\",\"status\":\"True\"}],"
            + "\"containerStatuses\":[{\"name\":\"app\",\"ready\":false,\"restartCount\":0,\"image\":\"" + IMAGE
            + "\",\"imageID\":\"\",\"state\":{\"waiting\":{\"reason\":\"ImagePullBackOff\","
            + "\"message\":\"Back-off pulling image \\\"" + IMAGE + "\\\"\"}}}]}");
    }

    void event(String pod, String reason, String message, String type) throws IOException, InterruptedException {
        String body = "{\"namespace\":\"" + NS + "\",\"kind\":\"Pod\",\"name\":\"" + pod + "\",\"reason\":\""
            + reason + "\",\"message\":\"" + message.replace("\"", "\\\"") + "\",\"type\":\"" + type + "\"}";
        ok(mock.call("POST", "/__fixture/event", body, "application/json"));
    }

    /** PUT: the container's log is {@code text}; POST: {@code text} is appended. */
    void log(String method, String pod, String text, boolean previous) throws IOException, InterruptedException {
        String path = "/__fixture/pod-log?namespace=" + NS + "&name=" + URLEncoder.encode(pod, StandardCharsets.UTF_8)
            + "&container=app" + (previous ? "&previous=true" : "");
        ok(mock.call(method, path, text, "text/plain"));
    }

    static void ok(K8sMockFixture.Answer a) throws IOException {
        if (a.status() < 200 || a.status() >= 300) {
            throw new IOException("k8s mock: " + a.status() + ": " + a.body());
        }
    }

    @SuppressWarnings("unchecked")
    static List<String> reasons(Object events) {
        List<String> out = new ArrayList<>();
        for (Object e : (List<Object>) events) {
            out.add((String) ((Map<String, Object>) e).get("reason"));
        }
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void eventsAreGroupedByStage() throws Exception {
        mock.apply(running("web-1"));
        event("web-1", "Scheduled", "Successfully assigned dev/web-1 to node-1", "Normal");
        event("web-1", "Pulling", "Pulling image \"" + IMAGE + "\"", "Normal");
        event("web-1", "Unhealthy", "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning");
        event("other-pod", "Scheduled", "not this Pod's", "Normal");
        Map<String, Object> doc = k8s.events("web-1");
        assertEquals("web-1", doc.get("pod"));
        assertEquals(List.of("Scheduled", "Pulling", "Unhealthy"), reasons(doc.get("events")));
        Map<String, List<String>> byStage = new java.util.LinkedHashMap<>();
        for (Object g : (List<Object>) doc.get("stages")) {
            Map<String, Object> group = (Map<String, Object>) g;
            byStage.put((String) group.get("stage"), reasons(group.get("events")));
        }
        assertEquals(List.of("Scheduled"), byStage.get("scheduling"));
        assertEquals(List.of("Pulling"), byStage.get("start-up"));
        assertEquals(List.of("Unhealthy"), byStage.get("running"));
        assertEquals(doc.get("events"), k8s.events(NS, "web-1").get("events"));
    }

    @Test
    void aMissingPodIsNotFound() {
        NotFoundException e = assertThrows(NotFoundException.class, () -> k8s.events("nothing"));
        assertTrue(e.getMessage().contains("nothing"), e.getMessage());
        assertThrows(NotFoundException.class, () -> k8s.diagnose("nothing"));
        assertThrows(NotFoundException.class, () -> k8s.logs("nothing"));
        assertThrows(NotFoundException.class, () -> k8s.watchEvents("nothing"));
    }

    @Test
    void watchEventsPassesNewEventsOn() throws Exception {
        mock.apply(running("web-1"));
        event("web-1", "Scheduled", "Successfully assigned dev/web-1 to node-1", "Normal");
        try (EventWatch watch = k8s.watchEvents("web-1")) {
            Map<String, Object> first = watch.read(Duration.ofSeconds(15)).orElseThrow();
            assertEquals("Scheduled", first.get("reason"));
            assertTrue(watch.read(Duration.ofMillis(200)).isEmpty());
            event("web-1", "Killing", "Stopping container app", "Normal");
            assertEquals("Killing", watch.read(Duration.ofSeconds(15)).orElseThrow().get("reason"));
            List<Map<String, Object>> got = new ArrayList<>();
            Thread t = new Thread(() -> watch.forEach(got::add));
            t.start();
            Thread.sleep(300);
            watch.close();
            t.join(5000);
            assertFalse(t.isAlive());
            assertTrue(got.isEmpty());
            assertThrows(ClosedException.class, () -> watch.read(Duration.ZERO));
        }
    }

    @Test
    void logsTail() throws Exception {
        mock.apply(running("web-1"));
        log("POST", "web-1", "one\ntwo\nthree\nfour\n", false);
        try (Logs logs = k8s.logs("web-1")) {
            List<String> lines = new ArrayList<>();
            logs.forEach(lines::add);
            assertEquals(List.of("one", "two", "three", "four"), lines);
            assertInstanceOf(ClosedException.class, logs.endReason().orElseThrow());
            assertEquals(4, logs.stats().lines());
        }
        try (Logs logs = k8s.logs(LogsOptions.builder("web-1").container("app").tailLines(2).build())) {
            assertEquals(List.of("three", "four"), logs.stream().collect(Collectors.toList()));
        }
        try (Stream2 s = new Stream2(k8s.logs(LogsOptions.builder("web-1").tailLines(1).timestamps(true).build()))) {
            String line = s.logs.stream().findFirst().orElseThrow();
            assertTrue(line.endsWith(" four") && line.indexOf('T') > 0, line);
        }
        assertTrue(k8s.streams.isEmpty());
    }

    /** try-with-resources for a log read as a stream. */
    record Stream2(Logs logs) implements AutoCloseable {
        @Override
        public void close() {
            logs.close();
        }
    }

    @Test
    void logsFollowGetsAnAppendedLine() throws Exception {
        mock.apply(running("web-1"));
        log("POST", "web-1", "starting\n", false);
        try (Logs logs = k8s.logs(LogsOptions.builder("web-1").follow(true).build())) {
            assertEquals(Optional.of("starting"), logs.read(Duration.ofSeconds(15)));
            assertEquals(Optional.empty(), logs.read(Duration.ofMillis(300)));
            log("POST", "web-1", "GET /cart 200\n", false);
            assertEquals(Optional.of("GET /cart 200"), logs.read(Duration.ofSeconds(15)));
            var it = logs.iterator();
            log("POST", "web-1", "GET /checkout 500\n", false);
            assertTrue(it.hasNext());
            assertEquals("GET /checkout 500", it.next());
            assertEquals(3, logs.stats().lines());
        }
    }

    @Test
    void closeFromAnotherThreadEndsAFollow() throws Exception {
        mock.apply(running("web-1"));
        Logs logs = k8s.logs(LogsOptions.builder("web-1").follow(true).build());
        List<String> got = new ArrayList<>();
        Thread t = new Thread(() -> logs.forEach(got::add));
        t.start();
        Thread.sleep(500);
        long started = System.nanoTime();
        logs.close();
        t.join(5000);
        assertFalse(t.isAlive());
        assertTrue(got.isEmpty());
        assertTrue(System.nanoTime() - started < Duration.ofSeconds(2).toNanos());
        logs.close(); // idempotent
        assertThrows(ClosedException.class, () -> logs.read(Duration.ZERO));
    }

    @Test
    void closingTheContextClosesLogsAndWatches() throws Exception {
        mock.apply(running("web-1"));
        Logs logs = k8s.logs(LogsOptions.builder("web-1").follow(true).build());
        EventWatch watch = k8s.watchEvents("web-1");
        ctx.close();
        assertTrue(logs.isClosed() && watch.isClosed() && k8s.isClosed());
        assertFalse(logs.iterator().hasNext());
    }

    @Test
    void logsOfAWaitingContainerEndWithTheServersMessage() throws Exception {
        mock.apply(imagePullBackOff("web-3"));
        try (Logs logs = k8s.logs("web-3")) {
            DevkitException e = assertThrows(DevkitException.class, () -> logs.iterator().hasNext());
            assertTrue(e.getMessage().contains("waiting to start"), e.getMessage());
        }
        mock.apply(crashLooping("web-2"));
        log("PUT", "web-2", "panic: no config\n", true);
        try (Logs logs = k8s.logs(LogsOptions.builder("web-2").previous(true).build())) {
            assertEquals(List.of("panic: no config"), logs.stream().collect(Collectors.toList()));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void diagnoseFindsACrashLoop() throws Exception {
        mock.apply(crashLooping("web-2"));
        log("PUT", "web-2", "panic: no config file /etc/web/config.yaml\n", true);
        event("web-2", "BackOff", "Back-off restarting failed container app in pod web-2_" + NS, "Warning");
        Report report = k8s.diagnose("web-2");
        assertEquals("web-2", report.json().get("pod"));
        assertEquals("start-up", report.stage());
        assertTrue(report.findingIds().contains("crash-loop"), report.text());
        Map<String, Object> f = report.findings().stream().filter(x -> "crash-loop".equals(x.get("id")))
            .findFirst().orElseThrow();
        assertEquals("start-up", f.get("stage"));
        assertEquals("app", f.get("container"));
        assertFalse(((String) f.get("fix")).isEmpty());
        assertTrue(((List<Object>) f.get("previous_log")).contains("panic: no config file /etc/web/config.yaml"));
        assertTrue(report.text().contains("Fix:") && report.toString().contains("web-2"), report.text());
        assertFalse(report.summary().isEmpty());
    }

    @Test
    void diagnoseFindsAnImagePullBackOff() throws Exception {
        mock.apply(imagePullBackOff("web-3"));
        event("web-3", "Failed", "Failed to pull image \"" + IMAGE + "\": rpc error: code = NotFound desc = "
            + "failed to pull and unpack image \"" + IMAGE + "\": not found", "Warning");
        Report report = k8s.diagnose(NS, "web-3");
        assertEquals("start-up", report.stage());
        assertTrue(report.findingIds().stream().anyMatch(id -> id.startsWith("image-")), report.text());
        assertTrue(report.text().contains(IMAGE), report.text());
    }

    @Test
    void aHealthyPodHasNoFindings() throws Exception {
        mock.apply(running("web-1"));
        Report report = k8s.diagnose("web-1");
        assertTrue(report.findings().isEmpty(), report.text());
        assertEquals(Boolean.TRUE, report.json().get("ready"));
    }
}
