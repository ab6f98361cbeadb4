// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The Kubernetes client and Pod replicas against fabric8's Kubernetes API mock
 * (K8sMockFixture). The mock has no scheduler and no kubelet: the test writes
 * the Pod's status through the status subresource (a PATCH of
 * .../pods/NAME/status through the client under test) as they would.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class KubernetesTest {
    static final String NS = K8sMockFixture.NAMESPACE;
    static final String DEPLOYMENT = """
        {"apiVersion": "apps/v1", "kind": "Deployment",
         "metadata": {"name": "orders", "labels": {"app": "orders"}},
         "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "orders"}},
          "template": {"metadata": {"labels": {"app": "orders"}},
           "spec": {"containers": [{"name": "orders", "image": "ghcr.io/example/orders:1.4",
             "command": ["java", "-jar", "/app/orders.jar"],
             "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}}}]}}}}
        """;
    static final String SCHEDULED = "{\"type\":\"PodScheduled\",\"status\":\"True\"}";
    static final String INITIALIZED = "{\"type\":\"Initialized\",\"status\":\"True\"}";
    static final String CONTAINERS_READY = "{\"type\":\"ContainersReady\",\"status\":\"True\"}";
    static final String READY = "{\"type\":\"Ready\",\"status\":\"True\"}";
    static final String NOT_READY = "{\"type\":\"Ready\",\"status\":\"False\",\"reason\":\"ContainersNotReady\"}";

    K8sMockFixture mock;

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
    void reset() throws Exception {
        mock.reset();
    }

    KubernetesOptions options() {
        return KubernetesOptions.builder().kubeconfig(mock.kubeconfig).timeout(Duration.ofSeconds(10)).build();
    }

    static void setStatus(Kubernetes k8s, String name, String status) {
        k8s.request("PATCH", "/api/v1/namespaces/" + NS + "/pods/" + name + "/status",
            "{\"status\":" + status + "}");
    }

    static Event nextStage(Context ctx) {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline) {
            Optional<Event> e = ctx.poll(Duration.ofMillis(200));
            if (e.isPresent() && e.get().type() == EventType.REPLICA_STAGE) {
                return e.get();
            }
        }
        throw new AssertionError("no REPLICA_STAGE event in time");
    }

    @Test
    void optionsStartFromTheCDefaults() {
        devkit_k8s_options o = new devkit_k8s_options();
        try {
            assertEquals(30000, o.getTimeout_ms());
            assertEquals(3, o.getRetries());
            assertNull(o.getKubeconfig());
        } finally {
            o.delete();
        }
        assertThrows(IllegalArgumentException.class, () -> ReplicaOptions.builder().build());
        assertEquals("ready", DevkitC.devkit_replica_stage_name(ReplicaStage.READY.value()));
    }

    @Test
    void openReadsTheKubeconfig() {
        try (Kubernetes k8s = Kubernetes.open(options())) {
            assertEquals(NS, k8s.namespace());
            assertEquals(mock.url, k8s.server());
            assertEquals(K8sMockFixture.CONTEXT, k8s.contextName());
        }
        NotFoundException e = assertThrows(NotFoundException.class, () -> Kubernetes.open(
            KubernetesOptions.builder().kubeconfig(mock.kubeconfig).context("prod").build()));
        assertTrue(e.getMessage().contains("context \"prod\" not found"), e.getMessage());
        assertTrue(e.getMessage().contains(mock.kubeconfig.toString()), e.getMessage());
    }

    @Test
    void requestRoundTripAndNotFoundWithTheServersMessage() throws Exception {
        try (Context ctx = new Context(); Kubernetes k8s = ctx.kubernetes(options())) {
            Map<String, Object> created = k8s.requestJson("POST", "/api/v1/namespaces/" + NS + "/configmaps",
                "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"settings\"},"
                    + "\"data\":{\"greeting\":\"grüß dich\"}}");
            assertNotNull(((Map<?, ?>) created.get("metadata")).get("uid"));
            Map<String, Object> got = k8s.requestJson("GET", "/api/v1/namespaces/" + NS + "/configmaps/settings", null);
            assertEquals(Map.of("greeting", "grüß dich"), got.get("data"));
            k8s.request("patch", "/api/v1/namespaces/" + NS + "/configmaps/settings", "{\"data\":{\"x\":\"1\"}}");
            assertEquals("1", ((Map<?, ?>) k8s.requestJson("GET",
                "/api/v1/namespaces/" + NS + "/configmaps/settings", null).get("data")).get("x"));
            k8s.request("DELETE", "/api/v1/namespaces/" + NS + "/configmaps/settings", null);
            assertEquals(404, mock.admin("GET", "/api/v1/namespaces/" + NS + "/configmaps/settings", null).status());

            NotFoundException e = assertThrows(NotFoundException.class,
                () -> k8s.request("GET", "/api/v1/namespaces/" + NS + "/pods/missing", null));
            assertTrue(e.getMessage().contains("pods \"missing\" not found"), e.getMessage());
            assertEquals(DevkitException.ENOTFOUND, e.code());

            mock.forbid("list:secrets");
            ForbiddenException f = assertThrows(ForbiddenException.class,
                () -> k8s.request("GET", "/api/v1/namespaces/" + NS + "/secrets", null));
            assertTrue(f.getMessage().contains("cannot list resource \"secrets\""), f.getMessage());
        }
    }

    @Test
    void buildReplicaIsADryRunWithTheDevkitLabels() throws Exception {
        try (Kubernetes k8s = Kubernetes.open(options())) {
            k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
            int posts = mock.countRequests("POST");
            Map<String, Object> pod = k8s.buildReplica(ReplicaOptions.builder().deployment("orders")
                .owner("alice").tag("alice").noLiveness(true).keepAlive(true).build());
            assertEquals(posts, mock.countRequests("POST"));
            assertEquals("Pod", pod.get("kind"));
            Map<?, ?> meta = (Map<?, ?>) pod.get("metadata");
            Map<?, ?> labels = (Map<?, ?>) meta.get("labels");
            Map<?, ?> annotations = (Map<?, ?>) meta.get("annotations");
            // The constants Java spells are the labels the library writes.
            assertEquals("true", labels.get(Replica.LABEL_MANAGED));
            assertEquals("alice", labels.get(Replica.LABEL_OWNER));
            assertEquals("alice", labels.get(Replica.LABEL_TAG));
            assertEquals("deployment/orders", annotations.get(Replica.ANNOTATION_SOURCE));
            assertNotNull(annotations.get(Replica.ANNOTATION_CREATED));
            assertNotNull(annotations.get(Replica.ANNOTATION_EXPIRES));
            assertFalse(labels.containsKey("app"));
            assertThrows(NotFoundException.class,
                () -> k8s.buildReplica(ReplicaOptions.builder().deployment("nothing").build()));
        }
    }

    @Test
    void replicateADeploymentUntilReadyThenDelete() throws Exception {
        try (Context ctx = new Context(); Kubernetes k8s = ctx.kubernetes(options())) {
            k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
            Replica replica = k8s.replicate(ReplicaOptions.builder().deployment("orders").owner("alice")
                .keepAlive(true).noLiveness(true).ttl(Duration.ofHours(1)).build());
            String name = replica.name();
            assertTrue(name.startsWith("orders-alice-"), name);
            assertEquals(NS, replica.namespace());
            assertEquals(ReplicaStage.CREATED, replica.stage());
            Event created = nextStage(ctx);
            assertEquals(ReplicaStage.CREATED, created.replicaStage());
            assertEquals(replica.id(), created.objectId());
            assertEquals(name, created.address());

            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    replica.awaitReady(Duration.ofSeconds(30));
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            waiter.start();
            String[][] steps = {
                {"{\"phase\":\"Pending\",\"conditions\":[" + SCHEDULED + "]}", "SCHEDULED"},
                {"{\"phase\":\"Pending\",\"conditions\":[" + SCHEDULED + "," + INITIALIZED + "," + NOT_READY + "]}",
                    "INITIALIZED"},
                {"{\"phase\":\"Running\",\"conditions\":[" + SCHEDULED + "," + INITIALIZED + ","
                    + CONTAINERS_READY + "," + NOT_READY + "]}", "CONTAINERS_READY"},
                {"{\"phase\":\"Running\",\"conditions\":[" + SCHEDULED + "," + INITIALIZED + ","
                    + CONTAINERS_READY + "," + READY + "]}", "READY"},
            };
            for (String[] step : steps) {
                setStatus(k8s, name, step[0]);
                Event e = nextStage(ctx);
                assertEquals(ReplicaStage.valueOf(step[1]), e.replicaStage(), e.toString());
                assertEquals(replica.id(), e.objectId());
                assertEquals(name, e.address());
            }
            waiter.join(30_000);
            assertFalse(waiter.isAlive());
            assertNull(failure.get());
            assertEquals(ReplicaStage.READY, replica.stage());

            List<Map<String, Object>> rows = k8s.replicas();
            assertEquals(1, rows.size());
            assertEquals(name, rows.get(0).get("name"));
            assertEquals("deployment/orders", rows.get(0).get("source"));

            replica.delete(Duration.ofSeconds(20));
            assertEquals(404, mock.admin("GET", "/api/v1/namespaces/" + NS + "/pods/" + name, null).status());
            assertEquals(ReplicaStage.DELETED, replica.stage());
            assertEquals(ReplicaStage.DELETED, nextStage(ctx).replicaStage());
            replica.close();
            replica.close();
            assertThrows(ClosedException.class, replica::stage);
            assertEquals(name, replica.name());
        }
    }

    @Test
    void awaitReadyTimesOutWithTheCallersTime() throws Exception {
        try (Kubernetes k8s = Kubernetes.open(options())) {
            k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
            try (Replica r = k8s.replicate(ReplicaOptions.builder().deployment("orders").build())
                .deleteOnClose(true)) {
                TimeoutException e = assertThrows(TimeoutException.class, () -> r.awaitReady(Duration.ofMillis(1800)));
                assertTrue(e.getMessage().contains("not ready after 1800 ms; stage reached: created"), e.getMessage());
            }
            assertTrue(k8s.replicas().isEmpty()); // deleteOnClose
        }
    }

    @Test
    void closeFromAnotherThreadEndsAwaitReadyAndLeavesTheCopy() throws Exception {
        try (Kubernetes k8s = Kubernetes.open(options())) {
            k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
            Replica r = k8s.replicate(ReplicaOptions.builder().deployment("orders").build());
            AtomicReference<Throwable> failure = new AtomicReference<>();
            Thread waiter = new Thread(() -> {
                try {
                    r.awaitReady();
                } catch (Throwable t) {
                    failure.set(t);
                }
            });
            waiter.start();
            Thread.sleep(500);
            long start = System.nanoTime();
            r.close();
            waiter.join(10_000);
            assertFalse(waiter.isAlive());
            assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos());
            assertInstanceOf(ClosedException.class, failure.get());
            assertEquals(r.name(), k8s.replicas().get(0).get("name")); // close frees the handle only
            k8s.deleteReplica(r.name());
            assertTrue(k8s.replicas().isEmpty());
        }
    }

    @Test
    void gcDeletesTheExpiredOnes() throws Exception {
        try (Kubernetes k8s = Kubernetes.open(options())) {
            k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
            try (Replica old = k8s.replicate(ReplicaOptions.builder().deployment("orders").owner("old").build());
                 Replica fresh = k8s.replicate(ReplicaOptions.builder().deployment("orders").owner("new").build())) {
                k8s.request("PATCH", "/api/v1/namespaces/" + NS + "/pods/" + old.name(),
                    "{\"metadata\":{\"annotations\":{\"" + Replica.ANNOTATION_EXPIRES
                        + "\":\"2000-01-01T00:00:00Z\"}}}");
                assertEquals(1, k8s.gc());
                assertEquals(List.of(fresh.name()), k8s.replicas().stream().map(m -> m.get("name")).toList());
                assertEquals(0, k8s.gc());
            }
        }
    }

    @Test
    void closingTheContextClosesClientsAndReplicaHandles() throws Exception {
        Context ctx = new Context();
        Kubernetes k8s = ctx.kubernetes(options());
        k8s.request("POST", "/apis/apps/v1/namespaces/" + NS + "/deployments", DEPLOYMENT);
        Replica r = k8s.replicate(ReplicaOptions.builder().deployment("orders").build());
        ctx.close();
        assertTrue(k8s.isClosed());
        assertTrue(r.isClosed());
        assertThrows(ClosedException.class, () -> k8s.request("GET", "/version", null));
        k8s.close();
        r.close();
        assertSame(ctx, k8s.context());
        assertEquals(200, mock.admin("GET", "/api/v1/namespaces/" + NS + "/pods/" + r.name(), null).status());
    }
}
