# SPDX-License-Identifier: Apache-2.0
"""Configuration files: the examples of tests/config/examples load into the
sections the typed API takes, every refused file of tests/config/invalid fails
with its message (file:line:col), no secret ever shows, and the sections open
a real tunnel (OpenSSH sshd) and a real Kubernetes client (fabric8's API mock)
as they are."""
from __future__ import annotations

import copy
import inspect
import gc
import json
import os
import pickle
import re
from pathlib import Path

import pytest

import devkit
from fixtures import K8sMock, fd_count, free_port, rss_kib

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "tests" / "config" / "examples"
INVALID = sorted((ROOT / "tests" / "config" / "invalid").glob("*.yaml"))

# The secrets of the examples (as tests/config/config_test.h sets them).
SECRETS = {
    "DEVKIT_TEST_PASSPHRASE": "pass-phrase-secret",
    "DEVKIT_TEST_PASSWORD": "bastion-secret",
    "DEVKIT_TEST_PROXY_PASSWORD": "proxy-secret",
    "DEVKIT_TEST_REGISTRY_PASSWORD": "registry-secret",
    "DEVKIT_TEST_REGISTRY_TOKEN": "token-secret",
    "DEVKIT_TEST_PROD_PASSWORD": "prod-secret",
}


@pytest.fixture(autouse=True)
def secrets(monkeypatch):
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="module")
def mock():
    server = K8sMock()
    yield server
    server.close()


def _no_secret_in(text: str) -> None:
    for value in SECRETS.values():
        assert value not in text


# -- the examples ------------------------------------------------------------------

def test_full_example_fills_every_section():
    with devkit.Config.load(EXAMPLES / "full.yaml") as cfg:
        assert cfg.name == str(EXAMPLES / "full.yaml")
        assert cfg.profile is None and cfg.profiles == ["pinned"]
        t = cfg.tunnel
        assert t.bastion == "dev@bastion.example.com:2222" and t["user"] == "alice"
        # relative paths are taken relative to the file's directory
        assert t.identity_file == str(EXAMPLES / "keys" / "id_ed25519")
        assert t.known_hosts_file == os.path.expanduser("~/.ssh/devkit_known_hosts")
        assert (t.use_agent, t.reconnect) == (False, False)
        assert t.host_key_policy is devkit.HostKeyPolicy.ACCEPT_NEW
        assert t.ciphers == "aes128-ctr,aes256-gcm@openssh.com" and t.kex == "curve25519-sha256"
        assert (t.connect_timeout_ms, t.keepalive_interval_s, t.keepalive_count_max) == (
            20_000, 60, 5)
        assert (t.reconnect_initial_ms, t.reconnect_max_ms, t.reconnect_max_attempts) == (
            500, 90_000, 10)
        # secrets are read from the environment, so that they can be passed on
        assert (t.password, t.identity_passphrase) == ("bastion-secret", "pass-phrase-secret")

        socks, local, remote = cfg.forwards
        assert socks.kind is devkit.ForwardKind.DYNAMIC
        assert (socks.bind_address, socks.bind_port, socks.proxy_username,
                socks.proxy_password, socks.allow_non_loopback) == (
            "127.0.0.1", 1080, "dev", "proxy-secret", True)
        assert (local.kind, local.bind_port, local.target_host, local.target_port) == (
            devkit.ForwardKind.LOCAL, 5432, "orders-db.default.svc.cluster.local", 5432)
        assert (remote.kind, remote.bind_address, remote.bind_port, remote.target_host,
                remote.target_port) == (devkit.ForwardKind.REMOTE, "::1", 9000, "::1", 3000)

        assert dict(cfg.dns) == {
            "cluster_dns": "10.96.0.10:53", "cluster_domains": "cluster.local,corp.internal",
            "search": "default.svc.cluster.local,svc.cluster.local", "ndots": 2,
            "upstream": "1.1.1.1", "bind_address": "127.0.0.1", "bind_port": 5353,
            "timeout_ms": 2000, "cache_max": 100}
        assert dict(cfg.router) == {"control_path": str(EXAMPLES / "run" / "control.sock"),
                                    "open_timeout_ms": 5000}

        (e,) = cfg.exposes
        assert (e.local_host, e.local_port, e.remote_port, e.remote_bind_address,
                e.advertise_host, e.registry_via_tunnel) == (
            "127.0.0.1", 8080, 41234, "0.0.0.0", "10.0.0.1", False)
        assert e.registry == "nacos+https://nacos.infra:8848?namespace=dev&group=DEFAULT_GROUP"
        assert (e.service, e.protocol, e.interface_name, e.methods, e.tag) == (
            "orders", "dubbo", "com.example.Orders", ["get", "list"], "alice")
        assert e.metadata == {"version": "2", "zone": "eu-1"}
        assert (e.ttl_ms, e.heartbeat_ms, e.timeout_ms, e.insecure) == (30_000, 10_000, 3000, True)
        assert (e.username, e.password, e.token) == ("nacos", "registry-secret", "token-secret")
        assert e.ca_file == str(EXAMPLES / "certs" / "ca.pem")
        assert "address" not in e and "port" not in e  # the expose fills them in

        assert dict(cfg.kubernetes) == {
            "kubeconfig": f"{EXAMPLES / 'kube' / 'config'}:{os.path.expanduser('~/.kube/config')}",
            "context": "dev-cluster", "namespace": "team-a", "timeout_ms": 10_000, "retries": 5,
            "connect_to": "127.0.0.1:6443"}

        first, pod, sts, ds = cfg.replicas
        assert (first.deployment, first.namespace, first.name, first.owner, first.container) == (
            "orders", "team-a", "orders-alice", "alice", "app")
        assert (first.keep_alive, first.command, first.node, first.log_file) == (
            True, "java -jar /app/app.jar", "node-3", "/tmp/app.log")
        assert (first.tag, first.istio, first.tag_header, first.istio_host) == (
            "alice", True, "x-user", "orders.team-a.svc.cluster.local")
        assert (first.tcpdump, first.tcpdump_image, first.tcpdump_filter) == (
            True, "nicolaka/netshoot:v0.12", "port 8080")
        assert (first.jvm_exception_log, first.no_liveness, first.no_readiness,
                first.no_startup, first.debug_port, first.ttl_s, first.keep_labels) == (
            True, True, True, True, 5005, 4 * 3600, True)
        assert (pod["pod"], sts["statefulset"], ds["daemonset"]) == ("web-1", "db", "agent")
        assert "deployment" not in pod and pod.keep_alive is False and pod.namespace is None


def test_minimal_example_keeps_the_c_defaults():
    cfg = devkit.Config.load(str(EXAMPLES / "minimal.yaml"))
    assert cfg.tunnel.bastion == "bastion.example.com"
    assert cfg.tunnel.host_key_policy is devkit.HostKeyPolicy.STRICT
    assert cfg.tunnel.password is None and cfg.tunnel.use_agent is True
    (socks,) = cfg.forwards
    assert socks.kind is devkit.ForwardKind.DYNAMIC and socks.target_host is None
    assert cfg.dns.cluster_dns == "10.96.0.10" and cfg.dns.ndots == 5
    # `routing:` alone turns it on
    assert dict(cfg.router) == {"control_path": None, "open_timeout_ms": 15_000}
    (e,) = cfg.exposes
    assert (e.local_port, e.service, e.registry, e.registry_via_tunnel) == (
        8080, "orders", "etcd://10.0.0.5:2379", True)
    assert e.metadata is None and e.methods is None
    assert dict(cfg.kubernetes) == {"kubeconfig": None, "context": None, "namespace": None,
                                    "timeout_ms": 30_000, "retries": 3, "connect_to": None}
    assert [r["pod"] for r in cfg.replicas] == ["web-1"]
    cfg.close()


def test_profiles_merge_over_the_file(monkeypatch):
    path = EXAMPLES / "profiles.yaml"
    monkeypatch.setenv("DEVKIT_TEST_USER", "carol")
    base = devkit.Config.load(path)
    assert base.profiles == ["staging", "prod", "empty"] and base.profile is None
    assert base.tunnel.bastion == "carol@bastion.dev.example.com"  # ${ENV:-default}
    assert base.exposes[0].metadata == {"version": "2", "zone": "a"}
    staging = devkit.Config.load(path, profile="staging")
    assert staging.profile == "staging"
    assert staging.tunnel.bastion == "dev@bastion.staging.example.com"
    assert staging.tunnel.connect_timeout_ms == 10_000  # kept from the base
    assert staging.dns.search == "staging.svc.cluster.local"
    assert [(e.local_port, e.service) for e in staging.exposes] == [(8081, "orders-staging")]
    prod = devkit.Config.load(path, "prod")
    assert prod.tunnel.identity_file is None and prod.tunnel.password == "prod-secret"
    assert prod.dns is None and prod.forwards == []
    assert prod.kubernetes.namespace == "prod"
    assert "prod" in repr(prod) and "prod-secret" not in repr(prod.tunnel)
    with pytest.raises(devkit.NotFoundError, match="prodd"):
        devkit.Config.load(path, profile="prodd")


def test_from_string_names_itself_and_keeps_relative_paths():
    cfg = devkit.Config.from_string("tunnel:\n  bastion: b\n  identity: keys/id\n",
                                    name="inline.yaml")
    assert cfg.name == "inline.yaml" and cfg.profiles == []
    assert cfg.tunnel.identity_file == "keys/id"
    assert cfg.forwards == [] and cfg.exposes == [] and cfg.replicas == []
    assert cfg.dns is None and cfg.router is None and cfg.kubernetes is None
    assert devkit.Config.from_string("{}").name == "<string>"


# -- refusals ----------------------------------------------------------------------

@pytest.mark.parametrize("path", INVALID, ids=[p.name for p in INVALID])
def test_invalid_files_fail_with_where_and_what(path):
    text = path.read_text()
    want = re.search(r"\n# error: (.*)", text).group(1)
    profile = re.search(r"\n# profile: (\S+)", text)
    profile = profile.group(1) if profile else None
    with pytest.raises(devkit.InvalidArgumentError) as e:
        devkit.Config.from_string(text, name=path.name, profile=profile)
    assert isinstance(e.value, ValueError)
    assert str(e.value) == want
    assert re.match(rf"{re.escape(path.name)}:\d+:\d+: ", str(e.value))
    # loaded from the file, the message names the file by the path given
    with pytest.raises(devkit.InvalidArgumentError) as e:
        devkit.Config.load(path, profile=profile)
    assert str(e.value) == str(path) + want[len(path.name):]


def test_missing_file_env_and_type(tmp_path, monkeypatch):
    with pytest.raises(devkit.NotFoundError) as e:
        devkit.Config.load(tmp_path / "nothing.yaml")
    assert str(tmp_path / "nothing.yaml") in str(e.value)
    monkeypatch.delenv("DEVKIT_TEST_PASSWORD")
    with pytest.raises(devkit.InvalidArgumentError,
                       match=r"^devkit\.yaml:3:17: .*DEVKIT_TEST_PASSWORD is not set"):
        devkit.Config.from_string("tunnel:\n  bastion: b\n  password_env: DEVKIT_TEST_PASSWORD\n",
                                  name="devkit.yaml")
    with pytest.raises(TypeError):
        devkit.Config()


# -- secrets -----------------------------------------------------------------------

def test_describe_is_the_effective_config_without_secrets():
    with devkit.Config.load(EXAMPLES / "full.yaml") as cfg:
        described = cfg.describe()
        text = json.dumps(described)
        _no_secret_in(text)
        assert described["tunnel"]["password_env"] == "DEVKIT_TEST_PASSWORD"
        assert described["expose"][0]["registry_token_env"] == "DEVKIT_TEST_REGISTRY_TOKEN"
        assert described["tunnel"]["identity"] == str(EXAMPLES / "keys" / "id_ed25519")
        assert described["tunnel"]["connect_timeout"] == "20s"
        # itself a valid devkit.yaml (JSON is YAML) that loads to the same sections
        again = devkit.Config.from_string(json.dumps(described), name="described.yaml")
        assert dict(again.tunnel) == dict(cfg.tunnel)
        assert [dict(e) for e in again.exposes] == [dict(e) for e in cfg.exposes]
        assert [dict(r) for r in again.replicas] == [dict(r) for r in cfg.replicas]
        # nowhere else either
        views = [cfg, cfg.tunnel, cfg.exposes, cfg.forwards, cfg.replicas]
        _no_secret_in(" ".join(repr(v) + str(v) for v in views))
        assert "password': '***'" in repr(cfg.tunnel)


def test_sections_are_read_only_copies_that_outlive_the_config():
    cfg = devkit.Config.load(EXAMPLES / "full.yaml")
    tunnel, exposes = cfg.tunnel, cfg.exposes
    with pytest.raises(AttributeError):
        tunnel.bastion = "elsewhere"
    with pytest.raises(TypeError):
        tunnel["bastion"] = "elsewhere"  # type: ignore[index]
    with pytest.raises(AttributeError, match="no 'bastoin'"):
        tunnel.bastoin
    exposes.clear()  # a new list each time: the config's own stays
    assert len(cfg.exposes) == 1
    cfg.close()
    cfg.close()
    assert cfg.closed
    with pytest.raises(devkit.ClosedError):
        cfg.describe()
    # copies made at load: nothing points into the freed config
    assert tunnel.bastion == "dev@bastion.example.com:2222"
    assert cfg.replicas[0].deployment == "orders"
    assert pickle.loads(pickle.dumps(tunnel)) == tunnel == copy.deepcopy(tunnel)


# -- the sections drive the typed API as they are -------------------------------------

def test_sections_open_a_tunnel_and_its_forwards(sshd, origin):
    port = free_port()
    cfg = devkit.Config.from_string(f"""
tunnel:
  bastion: {sshd.bastion}
  identity: {sshd.user_key}
  known_hosts: {sshd.known_hosts}
  agent: false
  connect_timeout: 10s
forwards:
  - kind: socks
    bind: {port}
  - kind: local
    bind: 0
    target: 127.0.0.1:{origin.port}
""", name="tunnel.yaml")
    with devkit.Tunnel(**cfg.tunnel) as tunnel:
        socks, local = [tunnel.add_forward(**f) for f in cfg.forwards]
        assert socks.port == port and socks.kind is devkit.ForwardKind.DYNAMIC
        import urllib.request
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(f"http://127.0.0.1:{local.port}/from-config", timeout=10) as answer:
            assert answer.read() == b"hello from /from-config\n"


def test_sections_open_a_kubernetes_client_and_build_replicas(mock, tmp_path):
    mock.reset()
    mock.apply("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: team-a, labels: {app: web}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: nginx:1.27, command: [nginx, -g, daemon off;]}]}
""")
    (tmp_path / "devkit.yaml").write_text(f"""
kubernetes:
  kubeconfig: {mock.kubeconfig}
  namespace: team-a
  timeout: 5s
replicas:
  - deployment: web
    owner: alice
    keep_alive: true
    no_liveness: true
""")
    with devkit.Config.load(tmp_path / "devkit.yaml") as cfg, devkit.Context() as ctx:
        k8s = devkit.Kubernetes(ctx, **cfg.kubernetes)
        assert (k8s.namespace, k8s.server) == ("team-a", mock.url)
        pod = k8s.build_replica(**cfg.replicas[0])
        assert pod["metadata"]["namespace"] == "team-a"
        assert pod["metadata"]["labels"][devkit.Replica.LABEL_OWNER] == "alice"
        with k8s.replicate(**cfg.replicas[0], delete_on_close=True) as replica:
            assert replica.name.startswith("web-alice-")
        assert k8s.replicas() == []


def test_load_cycles_do_not_leak():
    cycles = int(os.environ.get("DEVKIT_LEAK_CYCLES", "1000"))
    path = EXAMPLES / "full.yaml"

    def cycle() -> None:
        with devkit.Config.load(path) as cfg:
            cfg.describe()
        devkit.Config.from_string("tunnel: {bastion: b}\n", name="x.yaml").close()

    for _ in range(50):
        cycle()
    gc.collect()
    fds, rss = fd_count(), rss_kib()
    for _ in range(cycles):
        cycle()
    gc.collect()
    fds2, rss2 = fd_count(), rss_kib()
    print(f"{cycles} config cycles: fds {fds} -> {fds2}, RSS {rss} -> {rss2} KiB")
    assert fds2 == fds
    assert rss2 - rss < 2048


def test_every_section_fits_the_call_it_is_for():
    """Each section's keys are keyword arguments of its call (checked on the
    full example, which sets every key)."""
    def params(fn) -> set:
        return set(inspect.signature(fn).parameters) - {"self"}

    with devkit.Config.load(EXAMPLES / "full.yaml") as cfg:
        assert set(cfg.tunnel) <= params(devkit.Tunnel.__init__)
        for f in cfg.forwards:
            assert set(f) <= params(devkit.Tunnel.add_forward)
        assert set(cfg.dns) <= params(devkit.Tunnel.dns)
        assert set(cfg.router) <= params(devkit.Tunnel.router)
        for e in cfg.exposes:
            assert set(e) <= params(devkit.Tunnel.expose)
        assert set(cfg.kubernetes) <= params(devkit.Kubernetes.__init__)
        for r in cfg.replicas:
            assert set(r) <= params(devkit.Kubernetes.replicate)
            assert set(r) <= params(devkit.Kubernetes.build_replica)
