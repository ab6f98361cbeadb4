// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.jdi.Bootstrap;
import com.sun.jdi.IntegerValue;
import com.sun.jdi.Location;
import com.sun.jdi.ReferenceType;
import com.sun.jdi.VirtualMachine;
import com.sun.jdi.connect.AttachingConnector;
import com.sun.jdi.connect.Connector;
import com.sun.jdi.event.BreakpointEvent;
import com.sun.jdi.event.Event;
import com.sun.jdi.event.EventSet;
import com.sun.jdi.request.BreakpointRequest;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;
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
 * The live workflow on a replica (devkit/live.h) against the Kubernetes API
 * fixture, with the replica's real keep-alive running, as
 * tests/fixtures/replica_sandbox.c runs it for tests/live/*.c: the replica
 * is made with the Java API (keepAlive), its container's command -- the
 * keep-alive script -- is read back from the Pod and started in the
 * container's sandbox directory with DEVKIT_DIR there, as a kubelet would
 * start it. exec sessions (app control, deploy, debug, Arthas, shell) run on
 * this machine in that directory, so the apps are real processes: a JVM for
 * debug (attached with JDI, as an IDE does) and Arthas.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 4, unit = TimeUnit.MINUTES) // a hang fails, not blocks the build
class LiveTest {
    static final String NS = K8sMockFixture.NAMESPACE;
    static final String POD = "web-dev";

    K8sMockFixture mock;
    Context ctx;
    Kubernetes k8s;
    ReplicaSandbox replica;

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
            .timeout(Duration.ofSeconds(30)).build());
    }

    @AfterEach
    void closeAll() {
        if (replica != null) {
            replica.close();
            replica = null;
        }
        ctx.close();
    }

    /**
     * A replica Pod whose container runs the real keep-alive: the Java twin of
     * tests/fixtures/replica_sandbox.c.
     */
    static final class ReplicaSandbox implements AutoCloseable {
        final Path dir;       // the container's sandbox: exec runs here
        final Path devkitDir; // dir/devkit: bin/devkit-app, run/state, app.env
        final Path appLog;    // the app's output (the replica's log file)
        final Process supervisor;
        final List<String> command;

        private ReplicaSandbox(Path dir, Process supervisor, List<String> command) {
            this.dir = dir;
            this.devkitDir = dir.resolve("devkit");
            this.appLog = dir.resolve("app.log");
            this.supervisor = supervisor;
            this.command = command;
        }

        /**
         * Make replica {@code POD} of a Pod whose app is {@code sh -c appCommand},
         * with keep-alive, play the kubelet (Running, and start the container's
         * command), and wait until devkit-app says the app runs.
         */
        @SuppressWarnings("unchecked")
        static ReplicaSandbox start(K8sMockFixture mock, Kubernetes k8s, String appCommand) throws Exception {
            Path dir = mock.podsDir().resolve(NS).resolve(POD).resolve("app");
            Files.createDirectories(dir);
            Path devkitDir = dir.resolve("devkit");
            // DEVKIT_DIR in the container's env, so that exec sessions find
            // ${DEVKIT_DIR}/bin/devkit-app as they would find /devkit/bin/devkit-app.
            mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"web\",\"namespace\":\"" + NS
                + "\",\"labels\":{\"app\":\"web\"}},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:dev\","
                + "\"command\":[\"sh\",\"-c\"," + json(appCommand) + "],\"env\":[{\"name\":\"DEVKIT_DIR\",\"value\":"
                + json(devkitDir.toString()) + "}]}]}}");
            try (Replica r = k8s.replicate(ReplicaOptions.builder().pod("web").name(POD).keepAlive(true)
                .logFile(dir.resolve("app.log").toString()).build())) {
                assertEquals(POD, r.name());
            }
            mock.setPodRunning(NS, POD);
            Map<String, Object> pod = k8s.requestJson("GET", "/api/v1/namespaces/" + NS + "/pods/" + POD, null);
            Map<String, Object> c0 = (Map<String, Object>) ((List<Object>) ((Map<String, Object>) pod.get("spec"))
                .get("containers")).get(0);
            List<String> command = new ArrayList<>();
            for (Object word : (List<Object>) c0.get("command")) {
                command.add(kubeletExpand((String) word));
            }
            assertEquals("devkit-keepalive", command.get(3), "the keep-alive wraps the app: " + command);
            ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(mock.dir.resolve("keepalive.log").toFile()));
            Map<String, String> env = pb.environment();
            String path = System.getenv("PATH");
            env.clear();
            env.put("DEVKIT_DIR", devkitDir.toString());
            env.put("PATH", path != null ? path : "/usr/bin:/bin");
            env.put("HOME", dir.toString());
            ReplicaSandbox r = new ReplicaSandbox(dir, pb.start(), command);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (!r.state().startsWith("running")) {
                if (System.nanoTime() > deadline || !r.supervisor.isAlive()) {
                    r.close();
                    throw new AssertionError("the keep-alive did not start the app: "
                        + Files.readString(mock.dir.resolve("keepalive.log")));
                }
                Thread.sleep(50);
            }
            return r;
        }

        /** What a kubelet does to a container's command: $$ is $ ($(VAR) is not used here). */
        static String kubeletExpand(String word) {
            return word.replace("$$", "$");
        }

        /** The supervisor's state line ("running pid 42 since ..."), or "". */
        String state() throws IOException {
            Path p = devkitDir.resolve("run/state");
            return Files.exists(p) ? Files.readString(p).strip() : "";
        }

        String log() throws IOException {
            return Files.exists(appLog) ? Files.readString(appLog) : "";
        }

        /** Wait until the app's log shows {@code needle} {@code times} times. */
        void awaitLog(String needle, int times, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (count(log(), needle) < times) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("\"" + needle + "\" x" + times + " not in the app's log:\n" + log());
                }
                Thread.sleep(50);
            }
        }

        /** SIGTERM, as the kubelet stops a container: the keep-alive stops the app and exits. */
        @Override
        public void close() {
            List<ProcessHandle> all = supervisor.descendants().toList();
            supervisor.destroy();
            try {
                if (!supervisor.waitFor(15, TimeUnit.SECONDS)) {
                    supervisor.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            for (ProcessHandle h : all) {
                h.destroyForcibly();
            }
        }
    }

    static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    static String json(String s) {
        return ExecOptions.jsonArray(List.of(s)).replaceAll("^\\[|\\]$", "");
    }

    static long pidOf(String state) {
        Matcher m = Pattern.compile("pid (\\d+)").matcher(state);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    // -- app control ---------------------------------------------------------------

    @Test
    void appControlStopsStartsAndRestartsInTheSameContainer() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s, "echo started; exec sleep 300");
        long supervisor = replica.supervisor.pid();
        String status = k8s.appControl(POD, AppAction.STATUS);
        assertTrue(status.startsWith("running pid "), status);
        long first = pidOf(status);
        assertTrue(alive(first));

        String stopped = k8s.appControl(NS, POD, "app", AppAction.STOP);
        assertTrue(stopped.startsWith("stopped since "), stopped);
        assertFalse(alive(first), "the app still runs");
        assertTrue(k8s.appControl(POD, AppAction.STATUS).startsWith("stopped since "));

        String started = k8s.appControl(POD, AppAction.START);
        assertTrue(started.startsWith("running pid "), started);
        String restarted = k8s.appControl(POD, AppAction.RESTART);
        long second = pidOf(restarted);
        assertTrue(second > 0 && second != first && second != pidOf(started), restarted);
        assertTrue(alive(second));
        assertTrue(replica.supervisor.isAlive() && replica.supervisor.pid() == supervisor,
            "the container's main process must not restart");
        replica.awaitLog("started\n", 3, Duration.ofSeconds(10));
    }

    @Test
    void appControlErrors() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s, "exec sleep 300");
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"plain\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"}]}}");
        mock.setPodRunning(NS, "plain");
        UnsupportedException e = assertThrows(UnsupportedException.class,
            () -> k8s.appControl("plain", AppAction.RESTART));
        assertTrue(e.getMessage().contains("no devkit keep-alive") && e.getMessage().contains("/plain"),
            e.getMessage());
        assertEquals(DevkitException.EUNSUPPORTED, e.code());
        NotFoundException nf = assertThrows(NotFoundException.class, () -> k8s.appControl("nope", AppAction.STATUS));
        assertTrue(nf.getMessage().contains("\"nope\" not found"), nf.getMessage());
    }

    // -- deploy --------------------------------------------------------------------

    @Test
    void deploySendsOnlyWhatChangedAndRestarts() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s, "cat deploy/app/version.txt 2>/dev/null; exec sleep 300");
        Path build = Files.createDirectories(tmp.resolve("build"));
        Files.writeString(build.resolve("version.txt"), "build 1\n");
        Files.createDirectories(build.resolve("conf"));
        Files.writeString(build.resolve("conf/it's \"odd\" ✓.yaml"), "a: 1\n");
        byte[] big = new byte[2_000_000];
        for (int i = 0; i < big.length; i++) {
            big[i] = (byte) (i % 251);
        }
        Files.write(build.resolve("lib.bin"), big);
        long before = pidOf(replica.state());

        List<String> stages = new ArrayList<>();
        long[] sent = new long[2];
        DeployOptions o = DeployOptions.builder(POD).localPath(build).remoteDir("deploy/app")
            .listener((stage, done, total) -> {
                if (stages.isEmpty() || !stages.get(stages.size() - 1).equals(stage)) {
                    stages.add(stage);
                }
                if (stage.equals("send")) {
                    sent[0] = done;
                    sent[1] = total;
                }
            }).build();
        DeployResult r = k8s.deploy(o);
        assertEquals(3, r.filesTotal());
        assertEquals(3, r.filesSent());
        assertEquals(0, r.filesUnchanged());
        assertEquals(big.length + 8 + 5, r.bytesSent());
        assertTrue(r.restarted());
        assertTrue(r.appState().startsWith("running pid "), r.appState());
        long after = pidOf(r.appState());
        assertNotEquals(before, after);
        assertEquals(List.of("scan", "compare", "send", "restart"), stages);
        assertEquals(r.bytesSent(), sent[0]);
        assertEquals(r.bytesSent(), sent[1]);
        assertTrue(r.duration().toMillis() > 0);
        Path landed = replica.dir.resolve("deploy/app");
        assertEquals("build 1\n", Files.readString(landed.resolve("version.txt")));
        assertEquals("a: 1\n", Files.readString(landed.resolve("conf/it's \"odd\" ✓.yaml")));
        assertEquals(java.util.Arrays.hashCode(big), java.util.Arrays.hashCode(Files.readAllBytes(landed.resolve("lib.bin"))));
        replica.awaitLog("build 1\n", 1, Duration.ofSeconds(10));

        // Nothing changed: nothing goes. One file changed: it alone goes.
        DeployResult same = k8s.deploy(DeployOptions.builder(POD).localPath(build).remoteDir("deploy/app")
            .restart(false).build());
        assertEquals(0, same.filesSent());
        assertEquals(3, same.filesUnchanged());
        assertFalse(same.restarted());
        assertEquals("", same.appState());
        Files.writeString(build.resolve("version.txt"), "build 2\n");
        Files.setLastModifiedTime(build.resolve("version.txt"), FileTime.fromMillis(System.currentTimeMillis() + 5000));
        DeployResult one = k8s.deploy(DeployOptions.builder(POD).localPath(build).remoteDir("deploy/app").build());
        assertEquals(1, one.filesSent());
        assertEquals(8, one.bytesSent());
        replica.awaitLog("build 2\n", 1, Duration.ofSeconds(10));
        assertTrue(replica.supervisor.isAlive(), "the container keeps running");
    }

    @Test
    void deployErrors() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s, "exec sleep 300");
        IoException missing = assertThrows(IoException.class, () -> k8s.deploy(DeployOptions.builder(POD)
            .localPath(tmp.resolve("no-such-build")).remoteDir("app").build()));
        assertTrue(missing.getMessage().contains("no-such-build"), missing.getMessage());
        InvalidArgumentException noDir = assertThrows(InvalidArgumentException.class,
            () -> k8s.deploy(DeployOptions.builder(POD).localPath(tmp).build()));
        assertTrue(noDir.getMessage().contains("remote_dir"), noDir.getMessage());
        assertThrows(NotFoundException.class, () -> k8s.deploy(DeployOptions.builder("nope").build()));
        // A listener that throws: the deploy ends, then its exception comes.
        Files.writeString(tmp.resolve("x.txt"), "x");
        IllegalStateException thrown = assertThrows(IllegalStateException.class,
            () -> k8s.deploy(DeployOptions.builder(POD).localPath(tmp.resolve("x.txt")).remoteDir("lib")
                .restart(false).listener((stage, done, total) -> {
                    throw new IllegalStateException("listener says no at " + stage);
                }).build()));
        assertEquals("listener says no at scan", thrown.getMessage());
        assertEquals("x", Files.readString(replica.dir.resolve("lib/x.txt")), "the deploy itself went on");
        // The client still works afterwards.
        assertTrue(k8s.appControl(POD, AppAction.STATUS).startsWith("running"));
    }

    // -- debug: what an IDE does -----------------------------------------------------

    static final String HELLO = "public class Hello {\n"
        + "  static int tick(int i) {\n"
        + "    return i + 1;\n"
        + "  }\n"
        + "  public static void main(String[] a) throws Exception {\n"
        + "    for (int i = 0;; i = tick(i)) { System.out.println(\"tick \" + i); Thread.sleep(100); }\n"
        + "  }\n"
        + "}\n";

    /** Compile Hello into the sandbox (javac's output renamed into place whole: the app waits for it). */
    static void compileHello(Path dir) throws IOException {
        Path src = dir.resolve("Hello.java");
        Files.writeString(src, HELLO);
        Path out = Files.createDirectories(dir.resolve("javac-out"));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        assertTrue(javac != null, "a JDK is needed (javax.tools has no compiler)");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int rc = javac.run(null, null, err, "-d", out.toString(), src.toString());
        assertEquals(0, rc, err.toString(StandardCharsets.UTF_8));
        Files.move(out.resolve("Hello.class"), dir.resolve("Hello.class"), StandardCopyOption.ATOMIC_MOVE);
    }

    static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    static VirtualMachine attach(DebugSession d) throws Exception {
        AttachingConnector socket = Bootstrap.virtualMachineManager().attachingConnectors().stream()
            .filter(c -> c.name().equals("com.sun.jdi.SocketAttach")).findFirst().orElseThrow();
        Map<String, Connector.Argument> args = socket.defaultArguments();
        d.attachArguments().forEach((k, v) -> args.get(k).setValue(v));
        args.get("timeout").setValue("15000");
        return socket.attach(args);
    }

    @Test
    void debugLikeAnIde() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s,
            "while [ ! -f Hello.class ]; do sleep 0.1; done; exec '" + javaBinary() + "' -cp . Hello");
        compileHello(replica.dir);
        replica.awaitLog("tick 2\n", 1, Duration.ofSeconds(60));
        assertFalse(replica.log().contains("jdwp"), "no agent yet");

        int jdwp = freePort(); // the JVM listens on this machine: its port must be free
        try (DebugSession d = k8s.debug(DebugOptions.builder(POD).port(jdwp).anyLocalPort()
            .timeout(Duration.ofSeconds(60)).build())) {
            assertTrue(d.port() > 0 && d.port() != jdwp, "local " + d.port() + ", JDWP " + jdwp);
            assertEquals("127.0.0.1", d.host());
            assertEquals("127.0.0.1:" + d.port(), d.address());
            assertEquals(POD, d.pod());
            assertEquals(NS, d.namespace());
            assertTrue(replica.log().contains("Picked up JAVA_TOOL_OPTIONS: -agentlib:jdwp="), replica.log());

            // The IDE attaches through the forward and stops in tick().
            VirtualMachine vm = attach(d);
            try {
                assertTrue(vm.name().length() > 0);
                ReferenceType hello = vm.classesByName("Hello").get(0);
                Location tick = hello.methodsByName("tick").get(0).location();
                BreakpointRequest bp = vm.eventRequestManager().createBreakpointRequest(tick);
                bp.enable();
                BreakpointEvent hit = null;
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (hit == null && System.nanoTime() < deadline) {
                    EventSet set = vm.eventQueue().remove(1000);
                    if (set == null) {
                        continue;
                    }
                    for (Event e : set) {
                        if (e instanceof BreakpointEvent b) {
                            hit = b;
                        }
                    }
                    if (hit == null) {
                        set.resume();
                    }
                }
                assertTrue(hit != null, "the breakpoint in tick() was not hit");
                IntegerValue i = (IntegerValue) hit.thread().frame(0).getArgumentValues().get(0);
                assertTrue(i.value() >= 0);
                bp.disable();
                vm.resume();
            } finally {
                vm.dispose();
            }
            assertTrue(replica.supervisor.isAlive(), "the container did not restart");

            // debugOff: the app restarts without the agent.
            int runs = count(replica.log(), "tick 0\n");
            d.turnOff();
            assertTrue(d.isClosed());
            replica.awaitLog("tick 0\n", runs + 1, Duration.ofSeconds(60));
            String appEnv = Files.exists(replica.devkitDir.resolve("app.env"))
                ? Files.readString(replica.devkitDir.resolve("app.env")) : "";
            assertFalse(appEnv.contains("jdwp"), appEnv);
        }
    }

    @Test
    void debugErrors() throws Exception {
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"plain\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"}]}}");
        mock.setPodRunning(NS, "plain");
        UnsupportedException e = assertThrows(UnsupportedException.class,
            () -> k8s.debug(DebugOptions.builder("plain").port(freePort()).anyLocalPort().build()));
        assertTrue(e.getMessage().contains("keep-alive"), e.getMessage());
        assertThrows(NotFoundException.class, () -> k8s.debug("nope"));
        assertThrows(IllegalArgumentException.class, () -> DebugOptions.builder(POD).localPort(-2));
    }

    // -- Arthas ------------------------------------------------------------------------

    static Path arthasZip() throws Exception {
        Path zip = K8sMockFixture.fixturesDir().resolve("arthas/arthas-bin.zip");
        Assumptions.assumeTrue(Files.isRegularFile(zip),
            "no Arthas: run scripts/build_fixtures.sh (tests/fixtures/arthas/build.sh) for " + zip);
        return zip;
    }

    @Test
    void arthasRunAndConsole() throws Exception {
        Path zip = arthasZip();
        replica = ReplicaSandbox.start(mock, k8s,
            "while [ ! -f Hello.class ]; do sleep 0.1; done; exec '" + javaBinary() + "' -cp . Hello");
        compileHello(replica.dir);
        replica.awaitLog("tick 1\n", 1, Duration.ofSeconds(60));

        ArthasResult r = k8s.arthasRun(ArthasOptions.builder(POD).packagePath(zip).command("sc Hello")
            .timeout(Duration.ofMinutes(2)).build());
        assertEquals(0, r.exitCode(), r.output());
        assertTrue(r.output().contains("Hello\n") && r.output().contains("Affect(row-cnt:1)"), r.output());

        try (ExecSession console = k8s.arthasConsole(ArthasOptions.builder(POD).packagePath(zip)
            .timeout(Duration.ofMinutes(2)).build())) {
            assertTrue(console.isTty());
            console.resize(120, 40);
            StringBuilder seen = new StringBuilder();
            readUntil(console, seen, "]$ ");
            console.write("sc Hello\r".getBytes(StandardCharsets.UTF_8));
            readUntil(console, seen, "Affect(row-cnt:1)");
            console.write("stop\r".getBytes(StandardCharsets.UTF_8));
            ExecResult rest = console.collect(Duration.ofSeconds(60));
            assertEquals(0, rest.exitCode(), seen + rest.stdoutText());
        }

        InvalidArgumentException noPackage = assertThrows(InvalidArgumentException.class,
            () -> k8s.arthasRun(ArthasOptions.builder(POD).command("version").build()));
        assertTrue(noPackage.getMessage().contains("package"), noPackage.getMessage());
    }

    static void readUntil(ExecSession s, StringBuilder seen, String needle) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (seen.indexOf(needle) < 0) {
            assertTrue(System.nanoTime() < deadline, "\"" + needle + "\" did not come:\n" + seen);
            s.read(Duration.ofSeconds(1)).ifPresent(o -> seen.append(o.text()));
        }
    }

    // -- audited shell -----------------------------------------------------------------

    @Test
    @SuppressWarnings("unchecked")
    void shellCommandsGoToTheAuditLog() throws Exception {
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"box\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"}]}}");
        mock.setPodRunning(NS, "box");
        Path audit = tmp.resolve("audit.jsonl");
        try (ShellSession sh = k8s.shell(ShellOptions.builder("box").auditLog(audit).user("alice").size(100, 30)
            .build())) {
            sh.write("echo hi-$((40 + 2))\r".getBytes(StandardCharsets.UTF_8));
            StringBuilder seen = new StringBuilder();
            readUntilShell(sh, seen, "hi-42");
            sh.write("false\r".getBytes(StandardCharsets.UTF_8));
            sh.write("exit 3\r".getBytes(StandardCharsets.UTF_8));
            assertEquals(3, sh.waitFor(Duration.ofSeconds(30)));
            while (true) {
                try {
                    sh.read(Duration.ofSeconds(5)).ifPresent(b -> seen.append(new String(b, StandardCharsets.UTF_8)));
                } catch (ClosedException end) {
                    break;
                }
            }
            assertFalse(seen.toString().contains("\033]6973;"), "audit markers reached the terminal: " + seen);
            assertEquals(3, sh.commands(), seen.toString());
        }
        List<String> lines = Files.readAllLines(audit);
        assertEquals(3, lines.size(), String.join("\n", lines));
        Map<String, Object> first = Json.parseObject(lines.get(0));
        assertEquals("echo hi-$((40 + 2))", first.get("command"));
        assertEquals(0L, first.get("exit_status"));
        assertEquals("alice", first.get("user"));
        assertEquals("box", first.get("pod"));
        assertEquals(NS, first.get("namespace"));
        assertEquals(1L, Json.parseObject(lines.get(1)).get("exit_status"));
        Map<String, Object> last = Json.parseObject(lines.get(2));
        assertEquals("exit 3", last.get("command"));
        assertEquals(3L, last.get("exit_status"));

        IoException e = assertThrows(IoException.class, () -> k8s.shell(ShellOptions.builder("box")
            .auditLog(tmp.resolve("no/such/dir/audit.jsonl")).build()));
        assertTrue(e.getMessage().contains("audit"), e.getMessage());
    }

    static void readUntilShell(ShellSession s, StringBuilder seen, String needle) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (seen.indexOf(needle) < 0) {
            assertTrue(System.nanoTime() < deadline, "\"" + needle + "\" did not come:\n" + seen);
            s.read(Duration.ofSeconds(1)).ifPresent(b -> seen.append(new String(b, StandardCharsets.UTF_8)));
        }
    }

    // -- lifetimes ---------------------------------------------------------------------

    @Test
    void closingTheContextFirstIsSafe() throws Exception {
        replica = ReplicaSandbox.start(mock, k8s, "exec sleep 300");
        mock.apply("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"box\",\"namespace\":\"" + NS
            + "\"},\"spec\":{\"containers\":[{\"name\":\"app\",\"image\":\"app:1\"}]}}");
        mock.setPodRunning(NS, "box");
        ShellSession sh = k8s.shell(ShellOptions.builder("box").build());
        ExecSession ex = k8s.exec(ExecOptions.builder(POD).command("sleep 30").build());
        ctx.close();
        assertTrue(sh.isClosed() && ex.isClosed() && k8s.isClosed());
        sh.close(); // nothing is freed twice
        ex.close();
        assertThrows(ClosedException.class, sh::commands);
        assertThrows(ClosedException.class, () -> k8s.appControl(POD, AppAction.STATUS));
    }
}
