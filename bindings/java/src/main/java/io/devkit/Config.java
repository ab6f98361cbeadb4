// SPDX-License-Identifier: Apache-2.0
package io.devkit;

import java.lang.ref.Cleaner;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A loaded devkit.yaml (docs/config.md): the options of every part of one
 * developer environment, ready for the typed API. Thread-safe.
 *
 * <pre>{@code
 * try (Config cfg = Config.load(Path.of("devkit.yaml"), "staging");
 *      Tunnel tunnel = Tunnel.open(cfg.tunnel().orElseThrow())) {
 *     for (ForwardOptions f : cfg.forwards()) {
 *         tunnel.addForward(f);
 *     }
 *     for (Config.Exposed e : cfg.exposes()) {
 *         tunnel.expose(e.expose(), e.registration());
 *     }
 * }
 * }</pre>
 *
 * <p>Loading checks everything that can be checked without the network; a
 * mistake throws {@link InvalidArgumentException} saying where and what was
 * expected ("devkit.yaml:12:5: expose[0].local: expected [HOST:]PORT with a port
 * 1-65535, got \"http\""); a missing file or profile throws
 * {@link NotFoundException}, an unreadable file {@link IoException}.
 *
 * <p>C lends its options structs out of the config; every section here is a
 * copy made at load, so nothing points into the native config: the sections
 * stay usable after {@link #close()}, which only {@link #describe()} needs the
 * config open for. Secrets (from the {@code *_env} keys) are in the options so
 * that they can be used; no {@code toString()} shows them and
 * {@link #describe()} never has them.
 */
public final class Config implements AutoCloseable {
    /** One exposed service: the expose's options and its registration's. */
    public record Exposed(ExposeOptions expose, RegistrationOptions registration) {
    }

    final Lifetime life;
    private final String name;
    private final String profile;
    private final List<String> profiles;
    private final TunnelOptions tunnel;
    private final List<ForwardOptions> forwards;
    private final DnsOptions dns;
    private final RouterOptions router;
    private final List<Exposed> exposes;
    private final KubernetesOptions kubernetes;
    private final List<ReplicaOptions> replicas;
    private final Cleaner.Cleanable cleanable;

    private Config(long ptr) {
        life = new Lifetime("config", ptr, DevkitC::devkit_config_free, null, false);
        Lifetime l = life;
        cleanable = Lifetime.CLEANER.register(this, l::close);
        try {
            long p = life.enter();
            try {
                name = DevkitC.devkit_config_name(p);
                profile = DevkitC.devkit_config_profile(p);
                List<String> names = new ArrayList<>();
                for (long i = 0, n = DevkitC.devkit_config_profile_count(p); i < n; i++) {
                    names.add(DevkitC.devkit_config_profile_name(p, i));
                }
                profiles = Collections.unmodifiableList(names);
                // Each borrowed struct is copied at once; its proxy owns nothing and is dropped.
                devkit_tunnel_options t = DevkitC.devkit_config_tunnel(p);
                tunnel = t == null ? null : TunnelOptions.fromNative(t);
                List<ForwardOptions> fw = new ArrayList<>();
                for (long i = 0, n = DevkitC.devkit_config_forward_count(p); i < n; i++) {
                    fw.add(ForwardOptions.fromNative(DevkitC.devkit_config_forward(p, i)));
                }
                forwards = Collections.unmodifiableList(fw);
                devkit_dns_options d = DevkitC.devkit_config_dns(p);
                dns = d == null ? null : DnsOptions.fromNative(d);
                devkit_router_options r = DevkitC.devkit_config_router(p);
                router = r == null ? null : RouterOptions.fromNative(r);
                List<Exposed> ex = new ArrayList<>();
                for (long i = 0, n = DevkitC.devkit_config_expose_count(p); i < n; i++) {
                    ex.add(new Exposed(ExposeOptions.fromNative(DevkitC.devkit_config_expose(p, i)),
                        RegistrationOptions.fromNative(DevkitC.devkit_config_expose_registration(p, i))));
                }
                exposes = Collections.unmodifiableList(ex);
                devkit_k8s_options k = DevkitC.devkit_config_kubernetes(p);
                kubernetes = k == null ? null : KubernetesOptions.fromNative(k);
                List<ReplicaOptions> rs = new ArrayList<>();
                for (long i = 0, n = DevkitC.devkit_config_replica_count(p); i < n; i++) {
                    rs.add(ReplicaOptions.fromNative(DevkitC.devkit_config_replica(p, i)));
                }
                replicas = Collections.unmodifiableList(rs);
            } finally {
                life.leave();
            }
        } catch (RuntimeException | Error e) {
            cleanable.clean(); // freed now, once, not when the half-made object is collected
            throw e;
        }
    }

    private static Config make(long ptr) {
        return new Config(ptr);
    }

    /**
     * Load a file; relative paths in it are taken relative to its directory.
     *
     * @param profile one of the file's {@code profiles:}, or null for none
     */
    public static Config load(Path path, String profile) {
        long[] out = new long[1];
        DevkitC.devkit_config_load(out, path.toString(), profile);
        return make(out[0]);
    }

    /** {@link #load(Path, String)} without a profile. */
    public static Config load(Path path) {
        return load(path, null);
    }

    /**
     * Load YAML text. Relative paths stay relative to the current directory.
     *
     * @param name what messages call it ("devkit.yaml"); null: "&lt;string&gt;"
     * @param profile one of its {@code profiles:}, or null for none
     */
    public static Config fromString(String yaml, String name, String profile) {
        long[] out = new long[1];
        DevkitC.devkit_config_load_string(out, yaml, name, profile);
        return make(out[0]);
    }

    /** What messages call it: the path, or the name given to {@link #fromString}. */
    public String name() {
        return name;
    }

    /** The profile selected at load. */
    public Optional<String> profile() {
        return Optional.ofNullable(profile);
    }

    /** The profiles the file defines, in the order written. */
    public List<String> profiles() {
        return profiles;
    }

    /** The tunnel, if the file has one (without it, it has no forwards, DNS, routing or expose either). */
    public Optional<TunnelOptions> tunnel() {
        return Optional.ofNullable(tunnel);
    }

    /** The forwards, in the order written. */
    public List<ForwardOptions> forwards() {
        return forwards;
    }

    /** The remote DNS, if the file has a {@code dns:} section. */
    public Optional<DnsOptions> dns() {
        return Optional.ofNullable(dns);
    }

    /** The router when routing is on; give it the Dns you started: {@code router().get().withDns(dns)}. */
    public Optional<RouterOptions> router() {
        return Optional.ofNullable(router);
    }

    /** The exposed services, in the order written. */
    public List<Exposed> exposes() {
        return exposes;
    }

    /** The Kubernetes client, if the file has a {@code kubernetes:} section. */
    public Optional<KubernetesOptions> kubernetes() {
        return Optional.ofNullable(kubernetes);
    }

    /** The replicas, in the order written. */
    public List<ReplicaOptions> replicas() {
        return replicas;
    }

    /**
     * The effective configuration (profile merged, ${ENV} expanded, paths resolved,
     * defaults filled in) in the file's own key names: itself a valid devkit.yaml.
     * Never holds a secret, only the names of the variables they come from.
     */
    public Map<String, Object> describe() {
        byte[][] out = new byte[1][];
        long p = life.enter();
        try {
            DevkitC.devkit_config_describe(p, out);
        } finally {
            life.leave();
        }
        return Json.parseObject(Utf8.decode(out[0]));
    }

    public boolean isClosed() {
        return life.isClosed();
    }

    /** Free the native config, wiping the secrets it read. Idempotent. The options stay usable. */
    @Override
    public void close() {
        cleanable.clean();
        life.close();
    }

    @Override
    public String toString() {
        return "Config[" + name + (profile != null ? ", profile=" + profile : "")
            + (isClosed() ? ", closed" : "") + "]";
    }
}
