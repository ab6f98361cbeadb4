// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Configuration files: the examples of tests/config/examples load into the
 * options classes, every file of tests/config/invalid fails with its message,
 * no secret shows, and the options drive the typed API. The examples' secrets
 * come from the DEVKIT_TEST_* variables that pom.xml gives the test JVM.
 */
class ConfigTest {
    static final Path EXAMPLES = ExampleTest.SOURCE_DIR.resolve("tests/config/examples").toAbsolutePath().normalize();
    static final Path INVALID = ExampleTest.SOURCE_DIR.resolve("tests/config/invalid").toAbsolutePath().normalize();
    static final List<String> SECRETS = List.of("pass-phrase-secret", "bastion-secret", "proxy-secret",
        "registry-secret", "token-secret", "prod-secret");

    @Test
    void theEnvironmentHasTheExamplesSecrets() {
        assertEquals("bastion-secret", System.getenv("DEVKIT_TEST_PASSWORD"), "set by pom.xml (surefire)");
    }

    @Test
    void fullExampleFillsEveryOptionsClass() {
        try (Config cfg = Config.load(EXAMPLES.resolve("full.yaml"))) {
            assertEquals(List.of("pinned"), cfg.profiles());
            assertTrue(cfg.profile().isEmpty());
            TunnelOptions t = cfg.tunnel().orElseThrow();
            assertEquals("dev@bastion.example.com:2222", t.bastion());
            assertEquals("alice", t.user());
            assertEquals(EXAMPLES.resolve("keys/id_ed25519").toString(), t.identityFile());
            assertEquals(HostKeyPolicy.ACCEPT_NEW, t.hostKeyPolicy());
            assertEquals(Duration.ofSeconds(20), t.connectTimeout());
            assertTrue(t.hasPassword());

            List<ForwardOptions> f = cfg.forwards();
            assertEquals(List.of(ForwardKind.DYNAMIC, ForwardKind.LOCAL, ForwardKind.REMOTE),
                f.stream().map(ForwardOptions::kind).toList());
            assertEquals(1080, f.get(0).bindPort());
            assertEquals("orders-db.default.svc.cluster.local", f.get(1).targetHost());
            assertEquals(3000, f.get(2).targetPort());

            DnsOptions dns = cfg.dns().orElseThrow();
            assertEquals("10.96.0.10:53", dns.clusterDns());
            assertEquals(2, dns.ndots());
            assertEquals(EXAMPLES.resolve("run/control.sock").toString(),
                cfg.router().orElseThrow().controlPath());

            Config.Exposed e = cfg.exposes().get(0);
            assertEquals(8080, e.expose().localPort());
            assertEquals("10.0.0.1", e.expose().advertiseHost());
            assertEquals("orders", e.registration().service());
            assertEquals(Map.of("version", "2", "zone", "eu-1"), e.registration().metadata());
            assertEquals("get,list", e.registration().methods());
            assertTrue(e.registration().hasSecret());

            KubernetesOptions k = cfg.kubernetes().orElseThrow();
            assertEquals("dev-cluster", k.context().orElseThrow());
            assertEquals("team-a", k.namespace().orElseThrow());
            assertEquals(Duration.ofSeconds(10), k.timeout().orElseThrow());
            assertEquals(5, k.retries().orElseThrow());

            List<ReplicaOptions> r = cfg.replicas();
            assertEquals(List.of(ReplicaSource.DEPLOYMENT, ReplicaSource.POD, ReplicaSource.STATEFULSET,
                ReplicaSource.DAEMONSET), r.stream().map(ReplicaOptions::source).toList());
            ReplicaOptions first = r.get(0);
            assertEquals("orders", first.sourceName());
            assertEquals("alice", first.tag());
            assertTrue(first.keepAlive() && first.istio() && first.noLiveness() && first.keepLabels());
            assertEquals(5005, first.debugPort());
            assertEquals(Duration.ofHours(4), first.ttl());
            assertEquals("node-3", first.node());
            assertFalse(r.get(1).keepAlive());

            // no secret in any toString, nor in describe()
            String shown = cfg + " " + t + " " + f + " " + e + " " + k + " " + r + " " + cfg.describe();
            for (String secret : SECRETS) {
                assertFalse(shown.contains(secret), secret + " in " + shown);
            }
            Map<?, ?> tunnel = (Map<?, ?>) cfg.describe().get("tunnel");
            assertEquals("DEVKIT_TEST_PASSWORD", tunnel.get("password_env"));
        }
    }

    @Test
    void profilesAndOptionsOutliveTheConfig() {
        Config cfg = Config.load(EXAMPLES.resolve("profiles.yaml"), "prod");
        assertEquals(List.of("staging", "prod", "empty"), cfg.profiles());
        assertEquals("prod", cfg.profile().orElseThrow());
        assertTrue(cfg.dns().isEmpty());
        assertTrue(cfg.forwards().isEmpty());
        TunnelOptions t = cfg.tunnel().orElseThrow();
        cfg.close();
        cfg.close();
        assertTrue(cfg.isClosed());
        assertThrows(ClosedException.class, cfg::describe);
        assertEquals("ops@bastion.prod.example.com:2222", t.bastion()); // a copy, not a view
        assertEquals("prod", cfg.kubernetes().orElseThrow().namespace().orElseThrow());
        assertThrows(NotFoundException.class, () -> Config.load(EXAMPLES.resolve("profiles.yaml"), "prodd"));
        assertThrows(NotFoundException.class, () -> Config.load(EXAMPLES.resolve("nothing.yaml")));
    }

    @Test
    void invalidFilesFailWithWhereAndWhat() throws Exception {
        Pattern error = Pattern.compile("\n# error: (.*)");
        Pattern profile = Pattern.compile("\n# profile: (\\S+)");
        List<Path> files;
        try (Stream<Path> s = Files.list(INVALID)) {
            files = s.filter(p -> p.toString().endsWith(".yaml")).sorted().toList();
        }
        assertTrue(files.size() > 20);
        for (Path file : files) {
            String text = Files.readString(file);
            Matcher m = error.matcher(text);
            assertTrue(m.find(), file + ": no # error: line");
            Matcher p = profile.matcher(text);
            String prof = p.find() ? p.group(1) : null;
            String name = file.getFileName().toString();
            InvalidArgumentException e = assertThrows(InvalidArgumentException.class,
                () -> Config.fromString(text, name, prof), name);
            assertEquals(m.group(1), e.getMessage(), name);
            assertTrue(e.getMessage().matches(Pattern.quote(name) + ":\\d+:\\d+: .*"), e.getMessage());
            InvalidArgumentException fromFile = assertThrows(InvalidArgumentException.class,
                () -> Config.load(file, prof), name);
            assertTrue(fromFile.getMessage().startsWith(file + ":"), fromFile.getMessage());
        }
    }

    @Test
    void kubernetesAndReplicaOptionsFromAConfigDriveTheClient() throws Exception {
        try (K8sMockFixture mock = new K8sMockFixture()) {
            mock.apply("""
                apiVersion: apps/v1
                kind: Deployment
                metadata: {name: web, namespace: team-a, labels: {app: web}}
                spec:
                  selector: {matchLabels: {app: web}}
                  template:
                    metadata: {labels: {app: web}}
                    spec: {containers: [{name: web, image: nginx, command: [nginx]}]}
                """);
            String yaml = "kubernetes:\n  kubeconfig: " + mock.kubeconfig + "\n  namespace: team-a\n"
                + "replicas:\n  - deployment: web\n    owner: alice\n    keep_alive: true\n";
            try (Config cfg = Config.fromString(yaml, "devkit.yaml", null);
                 Kubernetes k8s = Kubernetes.open(cfg.kubernetes().orElseThrow())) {
                assertEquals("team-a", k8s.namespace());
                try (Replica r = k8s.replicate(cfg.replicas().get(0)).deleteOnClose(true)) {
                    assertTrue(r.name().startsWith("web-alice-"), r.name());
                    assertEquals("team-a", r.namespace());
                }
                assertTrue(k8s.replicas().isEmpty());
                assertNotNull(k8s.buildReplica(cfg.replicas().get(0)).get("spec"));
            }
        }
    }
}
