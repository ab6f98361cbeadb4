// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.devkit.examples.IdeAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** examples/java/IdeAction.java, driven as a plugin would and run as a user would. */
class ExampleTest extends WithSshd {
    static final Path SOURCE_DIR = Path.of(System.getProperty("devkit.source.dir", "../.."));

    @Test
    void connectFetchDisconnect() throws Exception {
        List<String> toolWindow = new CopyOnWriteArrayList<>();
        IdeAction action = new IdeAction(sshd.options().build(), toolWindow::add);
        action.connect();
        assertTrue(action.isConnected());
        assertEquals("hello from /ide\n", action.fetch("http://localhost:" + origin.port + "/ide"));
        action.disconnect();
        action.disconnect(); // twice is fine
        assertFalse(action.isConnected());
        assertTrue(toolWindow.get(toolWindow.size() - 1).equals("Disconnected"), toolWindow.toString());
        assertTrue(toolWindow.stream().anyMatch(l -> l.startsWith("[event] tunnel-state") && l.contains("up")));
        assertTrue(toolWindow.stream().anyMatch(l -> l.startsWith("[event] tunnel-state") && l.contains("closed")),
            toolWindow.toString());
    }

    /** A separate JVM with the classes and the bundled library on the class path, no java.library.path. */
    @Test
    void runsAsASingleFileProgram() throws Exception {
        String java = ProcessHandle.current().info().command().orElse("java");
        String classes = Path.of("target", "classes").toAbsolutePath().toString();
        Process p = new ProcessBuilder(java, "-cp", classes,
            SOURCE_DIR.resolve("examples/java/IdeAction.java").toString(), sshd.bastion,
            "--identity", sshd.userKey.toString(), "--known-hosts", sshd.knownHosts.toString(),
            "--url", "http://localhost:" + origin.port + "/main")
            .redirectErrorStream(true).start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("hello from /main"), out);
        assertTrue(out.contains("Disconnected"), out);
    }
}
