// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** One sshd bastion and one HTTP origin for all tests of a class. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class WithSshd {
    SshdFixture sshd;
    HttpOrigin origin;

    @BeforeAll
    void startServers() throws Exception {
        sshd = new SshdFixture();
        origin = new HttpOrigin();
    }

    @AfterAll
    void stopServers() throws Exception {
        if (origin != null) {
            origin.close();
        }
        if (sshd != null) {
            sshd.close();
        }
    }

    Tunnel openTunnel() {
        return Tunnel.open(sshd.options().build());
    }

    /** GET through an HTTP proxy with java.net.http.HttpClient, the JDK's own client. */
    static String getViaProxy(InetSocketAddress proxy, String url) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().proxy(ProxySelector.of(proxy))
            .connectTimeout(Duration.ofSeconds(10)).build();
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url))
            .timeout(Duration.ofSeconds(15)).build(), HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) {
            throw new IOException("HTTP " + r.statusCode());
        }
        return r.body();
    }

    /** One client for direct requests: a new HttpClient per call would grow the heap on its own. */
    private static final HttpClient DIRECT = HttpClient.newBuilder().proxy(HttpClient.Builder.NO_PROXY)
        .connectTimeout(Duration.ofSeconds(10)).build();

    static String get(String url) throws IOException, InterruptedException {
        return DIRECT.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(15)).build(),
            HttpResponse.BodyHandlers.ofString()).body();
    }
}
