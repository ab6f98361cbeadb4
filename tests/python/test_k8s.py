# SPDX-License-Identifier: Apache-2.0
"""The Kubernetes client and Pod replicas, against a real API server
implementation: fabric8's kubernetes-server-mock in CRUD mode
(tests/fixtures/k8s-mock, started by fixtures.K8sMock as k8s_fixture.c starts
it, with a kubeconfig written as kubectl writes them).

The mock has no scheduler, controller or kubelet: a Deployment makes no Pod
and a Pod stays Pending until the test writes its status through the status
subresource (PATCH .../pods/NAME/status, here through the client under test)
the way the scheduler and the kubelet would. Deleting is immediate unless a
grace period is configured (the second server, ``grace``)."""
from __future__ import annotations

import gc
import inspect
import os
import threading
import time
import weakref

import pytest

import devkit
from devkit import capi
from fixtures import K8sMock, fd_count, rss_kib

NS = K8sMock.NAMESPACE

DEPLOYMENT = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "orders", "labels": {"app": "orders", "team": "shop"}},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app": "orders"}},
        "template": {
            "metadata": {"labels": {"app": "orders", "version": "1.4"}},
            "spec": {"containers": [{
                "name": "orders",
                "image": "ghcr.io/example/orders:1.4",
                "command": ["java", "-jar", "/app/orders.jar"],
                "ports": [{"containerPort": 8080, "name": "http"}],
                "livenessProbe": {"httpGet": {"path": "/health", "port": 8080}},
                "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
            }]},
        },
    },
}

SERVICE = {
    "apiVersion": "v1",
    "kind": "Service",
    "metadata": {"name": "orders"},
    "spec": {"selector": {"app": "orders"},
             "ports": [{"name": "http", "port": 80, "targetPort": 8080}]},
}

SCHEDULED = {"type": "PodScheduled", "status": "True"}
INITIALIZED = {"type": "Initialized", "status": "True"}
CONTAINERS_READY = {"type": "ContainersReady", "status": "True"}
READY = {"type": "Ready", "status": "True"}


def _not_ready(kind: str) -> dict:
    return {"type": kind, "status": "False", "reason": "ContainersNotReady",
            "message": "containers with unready status: [orders]"}


@pytest.fixture(scope="module")
def mock():
    server = K8sMock()
    yield server
    server.close()


@pytest.fixture
def k8s(mock):
    mock.reset()  # the store is shared by the module: each test starts empty
    with devkit.Context() as ctx:
        with devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig, timeout_ms=10_000) as client:
            yield client


def _apply_deployment(k8s: devkit.Kubernetes) -> dict:
    """The source of the replicas, created through the client under test."""
    return k8s.request("POST", f"/apis/apps/v1/namespaces/{NS}/deployments", DEPLOYMENT)


def _set_status(k8s: devkit.Kubernetes, name: str, status: dict) -> None:
    """Play the scheduler and the kubelet (the mock has neither): a merge patch
    of the Pod's status subresource, as they write it."""
    k8s.request("PATCH", f"/api/v1/namespaces/{NS}/pods/{name}/status", {"status": status})


def _next_stage(ctx: devkit.Context, timeout: float = 10.0) -> devkit.Event:
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        ev = ctx.poll(max(left, 0))
        if ev is None:
            raise AssertionError("no REPLICA_STAGE event in time")
        if ev.type == devkit.EventType.REPLICA_STAGE:
            return ev


# -- the surface ---------------------------------------------------------------

def test_options_start_from_the_c_defaults():
    o = capi.devkit_k8s_options()
    assert (o.version, o.timeout_ms, o.retries) == (capi.DEVKIT_K8S_OPTIONS_VERSION, 30000, 3)
    assert o.kubeconfig is None and o.context is None and o.namespace_name is None
    r = capi.devkit_replica_options()
    assert (r.version, r.source_kind, r.keep_alive, r.debug_port, r.ttl_s) == (
        capi.DEVKIT_REPLICA_OPTIONS_VERSION, devkit.ReplicaSource.POD, 0, 0, 0)
    assert r.source_name is None and r.tag_header is None
    assert devkit.EventType.REPLICA_STAGE == capi.DEVKIT_EVENT_REPLICA_STAGE == 7
    assert capi.devkit_replica_stage_name(devkit.ReplicaStage.READY) == "ready"
    assert devkit.Replica.LABEL_MANAGED == "devkit.io/replica"


def test_the_api_is_typed():
    params = set(inspect.signature(devkit.Kubernetes.__init__).parameters)
    assert {"ctx", "kubeconfig", "context", "namespace", "timeout_ms", "retries",
            "connect_to"} <= params
    options = {"pod", "deployment", "statefulset", "daemonset", "name", "namespace", "owner",
               "container", "keep_alive", "command", "node", "log_file", "tag", "istio",
               "tag_header", "istio_host", "tcpdump", "tcpdump_image", "tcpdump_filter",
               "jvm_exception_log", "no_liveness", "no_readiness", "no_startup", "debug_port",
               "ttl_s", "keep_labels"}
    assert options | {"delete_on_close"} == set(
        inspect.signature(devkit.Kubernetes.replicate).parameters) - {"self"}
    assert options == set(inspect.signature(devkit.Kubernetes.build_replica).parameters) - {"self"}
    assert inspect.signature(devkit.Kubernetes.build_replica).return_annotation == "Dict[str, Any]"
    assert inspect.signature(devkit.Kubernetes.gc).return_annotation == "int"


# -- the client ------------------------------------------------------------------

def test_open_reads_the_kubeconfig(mock):
    with devkit.Kubernetes(None, kubeconfig=mock.kubeconfig) as k8s:  # its own context
        assert k8s.namespace == NS
        assert k8s.server == mock.url
        assert k8s.context_name == K8sMock.CONTEXT
        assert repr(k8s).startswith(f"<devkit.Kubernetes {mock.url}")
        ctx = k8s.context
    assert ctx.closed  # made by the client, closed with it
    with devkit.Context() as ctx:
        other = ctx.kubernetes(kubeconfig=[mock.kubeconfig_two_contexts],
                               context=K8sMock.OTHER_CONTEXT)
        assert (other.context_name, other.namespace) == (K8sMock.OTHER_CONTEXT,
                                                         K8sMock.OTHER_NAMESPACE)
        assert ctx.kubernetes(kubeconfig=mock.kubeconfig, namespace="team-a").namespace == "team-a"


def test_bad_kubeconfig_says_which_file_and_field(mock, tmp_path):
    with pytest.raises(devkit.NotFoundError) as e:
        devkit.Kubernetes(None, kubeconfig=mock.kubeconfig, context="prod")
    assert str(mock.kubeconfig) in str(e.value)
    assert 'context "prod" not found (contexts: devkit-mock)' in str(e.value)
    broken = tmp_path / "kubeconfig"
    broken.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\n")
    with pytest.raises(devkit.Error) as e:
        devkit.Kubernetes(None, kubeconfig=broken)
    assert str(broken) in str(e.value)


def test_request_round_trip(k8s, mock):
    cm = {"apiVersion": "v1", "kind": "ConfigMap",
          "metadata": {"name": "settings", "labels": {"app": "orders"}},
          "data": {"greeting": "grüß dich"}}
    created = k8s.request("POST", f"/api/v1/namespaces/{NS}/configmaps", cm)
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    got = k8s.request("GET", f"/api/v1/namespaces/{NS}/configmaps/settings")
    assert got["data"] == {"greeting": "grüß dich"}
    # PATCH is a JSON merge patch; a JSON string body is sent as it is
    patched = k8s.request("patch", f"/api/v1/namespaces/{NS}/configmaps/settings",
                          '{"data": {"extra": "1"}}')
    assert patched["data"] == {"greeting": "grüß dich", "extra": "1"}
    listed = k8s.request("GET", f"/api/v1/namespaces/{NS}/configmaps?labelSelector=app%3Dorders")
    assert [i["metadata"]["name"] for i in listed["items"]] == ["settings"]
    text = k8s.request("GET", f"/api/v1/namespaces/{NS}/configmaps/settings", raw=True)
    assert isinstance(text, str) and '"greeting"' in text
    k8s.request("DELETE", f"/api/v1/namespaces/{NS}/configmaps/settings")
    assert mock.admin("GET", f"/api/v1/namespaces/{NS}/configmaps/settings")[0] == 404
    # what the server saw is what was sent, anonymously (the kubeconfig has no user)
    seen = [(r["method"], r["path"].split("?")[0]) for r in mock.requests()]
    assert ("PATCH", f"/api/v1/namespaces/{NS}/configmaps/settings") in seen


def test_not_found_is_the_not_found_family_with_the_servers_message(k8s):
    with pytest.raises(devkit.NotFoundError) as e:
        k8s.request("GET", f"/api/v1/namespaces/{NS}/pods/missing")
    assert isinstance(e.value, LookupError)
    assert e.value.code == devkit.ErrorCode.ENOTFOUND
    assert 'pods "missing" not found' in str(e.value)


def test_server_refusals_are_their_families(k8s, mock):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "twice"}}
    k8s.request("POST", f"/api/v1/namespaces/{NS}/configmaps", cm)
    with pytest.raises(devkit.ExistsError) as e:  # 409
        k8s.request("POST", f"/api/v1/namespaces/{NS}/configmaps", cm)
    assert '"twice" already exists' in str(e.value)
    mock.forbid("delete:configmaps")
    with pytest.raises(devkit.ForbiddenError) as e:  # 403, also a PermissionError
        k8s.request("DELETE", f"/api/v1/namespaces/{NS}/configmaps/twice")
    assert isinstance(e.value, PermissionError)
    assert 'cannot delete resource "configmaps"' in str(e.value)


def test_a_wrong_token_is_an_auth_error():
    server = K8sMock(token="right-token")
    try:
        with devkit.Kubernetes(None, kubeconfig=server.kubeconfig) as k8s:
            assert k8s.request("GET", "/api/v1/namespaces/dev/pods")["items"] == []
        wrong = server.dir / "kubeconfig-wrong"
        wrong.write_text(server.kubeconfig.read_text().replace("right-token", "wrong-token"))
        with devkit.Kubernetes(None, kubeconfig=wrong) as k8s:
            with pytest.raises(devkit.AuthError) as e:
                k8s.request("GET", "/api/v1/namespaces/dev/pods")
        assert "wrong-token" not in str(e.value) and "right-token" not in str(e.value)
    finally:
        server.close()


# -- replicas --------------------------------------------------------------------

def test_build_replica_is_a_dry_run_with_the_devkit_labels(k8s, mock):
    _apply_deployment(k8s)
    before = mock.count_requests("POST")
    pod = k8s.build_replica(deployment="orders", owner="alice", tag="alice", no_liveness=True,
                            keep_alive=True, debug_port=5005, ttl_s=3600)
    assert mock.count_requests("POST") == before  # nothing written
    assert (pod["apiVersion"], pod["kind"]) == ("v1", "Pod")
    meta = pod["metadata"]
    assert meta["namespace"] == NS and meta["name"].startswith("orders-alice-")
    labels, annotations = meta["labels"], meta["annotations"]
    assert labels[devkit.Replica.LABEL_MANAGED] == "true"
    assert labels[devkit.Replica.LABEL_OWNER] == "alice"
    assert labels[devkit.Replica.LABEL_TAG] == "alice"
    assert "app" not in labels  # the Service's selector label: no Service traffic
    assert annotations[devkit.Replica.ANNOTATION_SOURCE] == "deployment/orders"
    assert annotations[devkit.Replica.ANNOTATION_CREATED]
    assert annotations[devkit.Replica.ANNOTATION_EXPIRES] > annotations[
        devkit.Replica.ANNOTATION_CREATED]
    container = pod["spec"]["containers"][0]
    assert "livenessProbe" not in container
    assert any(p.get("containerPort") == 5005 for p in container["ports"])
    # with istio: a List of the Pod and its rules for the Service
    k8s.request("POST", f"/api/v1/namespaces/{NS}/services", SERVICE)
    listed = k8s.build_replica(deployment="orders", tag="alice", istio=True)
    assert listed["kind"] == "List"
    assert {i["kind"] for i in listed["items"]} == {"Pod", "VirtualService", "DestinationRule"}


def test_bad_replica_options(k8s):
    with pytest.raises(devkit.InvalidArgumentError, match="exactly one source.*got none"):
        k8s.replicate()
    with pytest.raises(devkit.InvalidArgumentError, match="got pod=, deployment="):
        k8s.build_replica(pod="a", deployment="b")
    with pytest.raises(TypeError):
        k8s.replicate(deployment="orders", colour="red")  # type: ignore[call-arg]
    with pytest.raises(devkit.NotFoundError, match="deployment/nothing not found"):
        k8s.replicate(deployment="nothing")
    assert k8s.replicas() == []  # nothing was left behind


def test_replicate_a_deployment_until_ready_then_delete(mock):
    mock.reset()
    grace = K8sMock(delete_grace_ms=1200)  # a kubelet's grace period: delete must wait
    try:
        with devkit.Context() as ctx, \
                devkit.Kubernetes(ctx, kubeconfig=grace.kubeconfig) as k8s:
            _apply_deployment(k8s)
            replica = k8s.replicate(deployment="orders", owner="alice", keep_alive=True,
                                    no_liveness=True, ttl_s=3600)
            name = replica.name
            assert name.startswith("orders-alice-") and replica.namespace == NS
            assert replica.stage == devkit.ReplicaStage.CREATED
            ev = _next_stage(ctx)
            assert (ev.state, ev.object_id, ev.address) == (devkit.ReplicaStage.CREATED,
                                                            replica.id, name)
            assert "replica" in str(ev) and name in str(ev)
            # in the cluster, labelled
            pod = k8s.request("GET", f"/api/v1/namespaces/{NS}/pods/{name}")
            assert pod["metadata"]["labels"][devkit.Replica.LABEL_MANAGED] == "true"
            assert pod["status"]["phase"] == "Pending"  # and stays so: no kubelet

            errors = []
            waiter = threading.Thread(target=lambda: _catch(errors, replica.wait_ready, 30_000))
            waiter.start()
            steps = [
                ({"phase": "Pending", "conditions": [SCHEDULED]}, devkit.ReplicaStage.SCHEDULED),
                ({"phase": "Pending", "conditions": [SCHEDULED, INITIALIZED,
                                                     _not_ready("ContainersReady"),
                                                     _not_ready("Ready")]},
                 devkit.ReplicaStage.INITIALIZED),
                ({"phase": "Running", "conditions": [SCHEDULED, INITIALIZED, CONTAINERS_READY,
                                                     _not_ready("Ready")]},
                 devkit.ReplicaStage.CONTAINERS_READY),
                ({"phase": "Running", "conditions": [SCHEDULED, INITIALIZED, CONTAINERS_READY,
                                                     READY]},
                 devkit.ReplicaStage.READY),
            ]
            for status, stage in steps:
                _set_status(k8s, name, status)
                ev = _next_stage(ctx)
                assert (ev.state, ev.object_id, ev.address) == (stage, replica.id, name), ev
            waiter.join(30)
            assert not waiter.is_alive() and errors == []
            assert replica.stage == devkit.ReplicaStage.READY
            replica.wait_ready(0)  # ready already: returns at once

            rows = k8s.replicas()
            assert [(r["name"], r["owner"], r["source"], r["phase"]) for r in rows] == [
                (name, "alice", "deployment/orders", "Running")]
            assert [r["name"] for r in k8s.replicas("*")] == [name]

            start = time.monotonic()
            replica.delete(20_000)
            assert time.monotonic() - start >= 1.0  # waited until gone, not only deleting
            assert grace.admin("GET", f"/api/v1/namespaces/{NS}/pods/{name}")[0] == 404
            assert replica.stage == devkit.ReplicaStage.DELETED
            assert _next_stage(ctx).state == devkit.ReplicaStage.DELETED
            with pytest.raises(devkit.ClosedError):  # C: ECLOSED once deleted
                replica.wait_ready(1000)
            replica.close()
            replica.close()
            assert replica.closed and replica.name == name  # what was copied stays
            with pytest.raises(devkit.ClosedError):
                replica.stage
    finally:
        grace.close()


def _catch(errors: list, fn, *args) -> None:
    try:
        fn(*args)
    except BaseException as e:  # noqa: BLE001 (reported by the test)
        errors.append(e)


def test_wait_ready_times_out_with_the_callers_time_and_says_where(k8s):
    _apply_deployment(k8s)
    with k8s.replicate(deployment="orders", delete_on_close=True) as replica:
        start = time.monotonic()
        with pytest.raises(devkit.TimeoutError) as e:
            replica.wait_ready(2500)
        assert 2.4 <= time.monotonic() - start < 10
        assert isinstance(e.value, TimeoutError)
        message = str(e.value)
        assert f"replica {NS}/{replica.name}: not ready after 2500 ms" in message
        assert "stage reached: created" in message


def test_a_stuck_pod_fails_at_once_with_why(k8s, mock):
    _apply_deployment(k8s)
    with k8s.replicate(deployment="orders", delete_on_close=True) as replica:
        _set_status(k8s, replica.name, {
            "phase": "Pending",
            "conditions": [SCHEDULED, INITIALIZED, _not_ready("ContainersReady"),
                           _not_ready("Ready")],
            "containerStatuses": [{"name": "orders", "ready": False, "restartCount": 0,
                                   "state": {"waiting": {"reason": "ImagePullBackOff",
                                                         "message": "Back-off pulling image"}}}]})
        mock.add_event(NS, "Pod", replica.name, "Failed", "Failed to pull image", "Warning")
        with pytest.raises(devkit.Error) as e:
            replica.wait_ready(20_000)
        assert type(e.value) is devkit.Error and e.value.code == devkit.ErrorCode.ERROR
        assert "cannot get further: container orders: ImagePullBackOff" in str(e.value)
        assert "Warning Failed: Failed to pull image" in str(e.value)
        assert replica.stage == devkit.ReplicaStage.FAILED


def test_close_from_another_thread_ends_wait_ready(k8s):
    _apply_deployment(k8s)
    replica = k8s.replicate(deployment="orders")
    errors: list = []
    waiter = threading.Thread(target=lambda: _catch(errors, replica.wait_ready))  # no limit
    waiter.start()
    time.sleep(0.5)
    start = time.monotonic()
    replica.close()
    waiter.join(10)
    assert not waiter.is_alive() and time.monotonic() - start < 5
    assert len(errors) == 1 and isinstance(errors[0], devkit.ClosedError)
    # closing only freed the handle: the copy is still there, until deleted by name
    assert [r["name"] for r in k8s.replicas()] == [replica.name]
    k8s.delete_replica(replica.name)
    assert k8s.replicas() == []


def test_with_frees_only_unless_delete_on_close(k8s, mock):
    _apply_deployment(k8s)
    with k8s.replicate(deployment="orders") as kept:
        pass
    with k8s.replicate(deployment="orders", delete_on_close=True) as gone:
        assert mock.admin("GET", f"/api/v1/namespaces/{NS}/pods/{gone.name}")[0] == 200
    assert gone.closed and gone.close_error is None
    assert mock.admin("GET", f"/api/v1/namespaces/{NS}/pods/{gone.name}")[0] == 404
    assert [r["name"] for r in k8s.replicas()] == [kept.name]
    # a Pod that is not a replica is not deleted by name
    k8s.request("POST", f"/api/v1/namespaces/{NS}/pods", {
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": "someone-elses"},
        "spec": {"containers": [{"name": "c", "image": "busybox"}]}})
    with pytest.raises(devkit.InvalidArgumentError):
        k8s.delete_replica("someone-elses")
    assert mock.admin("GET", f"/api/v1/namespaces/{NS}/pods/someone-elses")[0] == 200


def test_gc_deletes_the_expired_ones(k8s):
    _apply_deployment(k8s)
    old = k8s.replicate(deployment="orders", owner="old")
    new = k8s.replicate(deployment="orders", owner="new")
    # Expired: as if made long ago (the annotation is what gc reads).
    k8s.request("PATCH", f"/api/v1/namespaces/{NS}/pods/{old.name}",
                {"metadata": {"annotations": {
                    devkit.Replica.ANNOTATION_EXPIRES: "2000-01-01T00:00:00Z"}}})
    assert k8s.gc() == 1
    assert [r["name"] for r in k8s.replicas()] == [new.name]
    assert k8s.gc() == 0
    old.close()
    new.close()


def test_closing_the_context_closes_clients_and_replica_handles_first(mock):
    mock.reset()
    ctx = devkit.Context()
    k8s = devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig)
    _apply_deployment(k8s)
    replica = k8s.replicate(deployment="orders")
    name = replica.name
    ctx.close()
    assert k8s.closed and replica.closed
    with pytest.raises(devkit.ClosedError):
        k8s.request("GET", "/version")
    with pytest.raises(devkit.ClosedError):
        replica.stage
    k8s.close()
    replica.close()
    ctx.close()
    # closing frees handles only: the copy is still in the cluster
    assert mock.admin("GET", f"/api/v1/namespaces/{NS}/pods/{name}")[0] == 200


def test_objects_nobody_keeps_are_freed(mock):
    mock.reset()
    with devkit.Context() as ctx:
        k8s = devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig)
        life = weakref.ref(k8s)
        # The context holds its clients (as C does) until they are closed.
        del k8s
        gc.collect()
        assert life() is not None
        life().close()
        gc.collect()
        assert life() is None


def test_many_threads_share_one_client(k8s):
    errors: list = []

    def work(i: int) -> None:
        for j in range(5):
            cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"cm-{i}-{j}"}}
            k8s.request("POST", f"/api/v1/namespaces/{NS}/configmaps", cm)
            assert k8s.request("GET", f"/api/v1/namespaces/{NS}/configmaps/cm-{i}-{j}")[
                "metadata"]["name"] == f"cm-{i}-{j}"

    threads = [threading.Thread(target=lambda i=i: _catch(errors, work, i)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert len(k8s.request("GET", f"/api/v1/namespaces/{NS}/configmaps")["items"]) == 40


def test_client_and_replica_cycles_do_not_leak(mock):
    """Open, request, (every 10th: replicate and delete), close: no descriptor
    or memory left behind. DEVKIT_LEAK_CYCLES lowers the count for a quick run."""
    cycles = max(20, int(os.environ.get("DEVKIT_LEAK_CYCLES", "1000")) // 5)
    mock.reset()
    ctx = devkit.Context(event_queue_max=64)
    try:
        with devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig) as k8s:
            _apply_deployment(k8s)
        n = 0

        def cycle() -> None:
            nonlocal n
            n += 1
            with devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig) as k8s:
                assert k8s.request("GET", "/version")["major"] == "1"
                if n % 10 == 0:
                    with k8s.replicate(deployment="orders", delete_on_close=True):
                        pass
            while ctx.poll(0):
                pass

        for _ in range(20):
            cycle()
        gc.collect()
        fds, rss = fd_count(), rss_kib()
        for _ in range(cycles):
            cycle()
        gc.collect()
        fds2, rss2 = fd_count(), rss_kib()
    finally:
        ctx.close()
    print(f"{cycles} Kubernetes client cycles: fds {fds} -> {fds2}, RSS {rss} -> {rss2} KiB")
    assert fds2 == fds
    assert rss2 - rss < 2048


def test_close_racing_requests_from_other_threads(mock):
    mock.reset()
    k8s = devkit.Kubernetes(None, kubeconfig=mock.kubeconfig)
    outcomes: list = []
    started = threading.Barrier(5)

    def work() -> None:
        started.wait()
        try:
            while True:
                k8s.request("GET", "/version")
        except devkit.ClosedError:
            outcomes.append("closed")
        except BaseException as e:  # noqa: BLE001
            outcomes.append(e)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    started.wait()
    time.sleep(0.3)
    k8s.close()
    for t in threads:
        t.join(10)
    assert outcomes == ["closed"] * 4
    assert k8s.context.closed
