// SPDX-License-Identifier: Apache-2.0
package io.devkit.examples;

import io.devkit.Context;
import io.devkit.DevkitException;
import io.devkit.Forward;
import io.devkit.HostKeyException;
import io.devkit.Tunnel;
import io.devkit.TunnelOptions;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.function.Consumer;

/**
 * The shape of an IntelliJ action pair, "Connect" and "Disconnect", without
 * the IntelliJ SDK so that it runs anywhere:
 *
 * <ul>
 *   <li>In a plugin, {@code ConnectAction.actionPerformed} runs {@link #connect()}
 *       in a background task ({@code ProgressManager}/{@code Task.Backgroundable}):
 *       it blocks until the bastion answers, which must not happen on the EDT.</li>
 *   <li>The event listener runs on libdevkit's "devkit-events" Java thread; a
 *       plugin hands each line to the tool window with
 *       {@code ApplicationManager.getApplication().invokeLater(...)}. Here the
 *       "tool window" is a {@code Consumer<String>}.</li>
 *   <li>{@code DisconnectAction} calls {@link #disconnect()}; the project's
 *       {@code Disposable} calls it too, so closing the IDE closes the tunnel.</li>
 * </ul>
 *
 * Run with nothing but the jar on the class path:
 * <pre>
 * java -cp devkit-0.3.0.jar examples/java/IdeAction.java root@bastion:22 \
 *     --identity ~/.ssh/id_ed25519 --known-hosts ~/.ssh/known_hosts --url http://orders:8080/
 * </pre>
 */
public final class IdeAction {
    private final TunnelOptions options;
    private final Consumer<String> toolWindow;
    private Context context;
    private Tunnel tunnel;
    private Forward proxy;

    public IdeAction(TunnelOptions options, Consumer<String> toolWindow) {
        this.options = options;
        this.toolWindow = toolWindow;
    }

    /** "Connect" clicked: open the tunnel and a local proxy port. */
    public synchronized void connect() {
        if (context != null) {
            return; // already connected: the action is disabled in the UI anyway
        }
        Context ctx = new Context();
        ctx.addListener(event -> toolWindow.accept("[event] " + event));
        try {
            tunnel = ctx.openTunnel(options);
            proxy = tunnel.dynamicForward();
        } catch (DevkitException e) {
            ctx.close();
            throw e;
        }
        context = ctx;
        toolWindow.accept("Connected to " + tunnel.describe().get("bastion") + ", proxy on "
            + proxy.address() + ":" + proxy.port());
    }

    /** "Disconnect" clicked (or the project closes). Safe to call at any time, twice. */
    public synchronized void disconnect() {
        if (context == null) {
            return;
        }
        context.close(); // closes the tunnel and its forwards; the listener sees "closed"
        context = null;
        tunnel = null;
        proxy = null;
        toolWindow.accept("Disconnected");
    }

    public synchronized boolean isConnected() {
        return context != null;
    }

    /** Where the IDE's HTTP client (or the run configuration's JVM) should send traffic. */
    public synchronized InetSocketAddress proxyAddress() {
        return proxy == null ? null : proxy.socketAddress();
    }

    /** An HTTP GET through the tunnel's proxy port, as a plugin's HTTP call would. */
    public String fetch(String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder()
            .proxy(ProxySelector.of(proxyAddress()))
            .connectTimeout(Duration.ofSeconds(10))
            .build();
        HttpResponse<String> response = http.send(
            HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
            HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new IOException("HTTP " + response.statusCode() + " from " + url);
        }
        return response.body();
    }

    /** Simulates the clicks: Connect, one request through the tunnel, Disconnect. */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: IdeAction [user@]bastion[:port] [--identity FILE]"
                + " [--known-hosts FILE] [--url URL]");
            System.exit(2);
        }
        TunnelOptions.Builder options = TunnelOptions.builder(args[0])
            .connectTimeout(Duration.ofSeconds(10));
        String url = null;
        for (int i = 1; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--identity" -> options.identityFile(args[i + 1]);
                case "--known-hosts" -> options.knownHostsFile(args[i + 1]);
                case "--url" -> url = args[i + 1];
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        IdeAction action = new IdeAction(options.build(), line -> System.out.println(line));
        try {
            action.connect();
            if (url != null) {
                System.out.println("GET " + url + " -> " + action.fetch(url).trim());
            }
        } catch (HostKeyException e) {
            System.err.println("The bastion's host key is not trusted: " + e.getMessage());
            System.exit(1);
        } catch (DevkitException e) {
            System.err.println("Cannot connect (" + e.codeName() + "): " + e.getMessage());
            System.exit(1);
        } finally {
            action.disconnect();
        }
    }
}
