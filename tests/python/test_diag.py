# SPDX-License-Identifier: Apache-2.0
"""Pod diagnostics (devkit/diag.h) through the Python binding: events grouped
by stage, the event watch, container logs (tail, follow, close from another
thread) and the report, against fabric8's Kubernetes API mock
(fixtures.K8sMock, as tests/diag/*.c use tests/fixtures/k8s_fixture.c).

The mock has no scheduler or kubelet: the tests play them, as the C tests do,
through the fixture's doors: /__fixture/apply (a Pod with its status),
/__fixture/event (an Event about an object) and /__fixture/pod-log (a
container's log: PUT sets it, POST appends and reaches followers at once)."""
from __future__ import annotations

import inspect
import json
import threading
import time
import urllib.parse

import pytest

import devkit
from devkit import capi
from fixtures import K8sMock

NS = K8sMock.NAMESPACE
IMAGE = "registry.example.com/shop/web:1.4.2"


def _pod(name: str, status: dict) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": NS},
            "spec": {"nodeName": "node-1", "containers": [{"name": "app", "image": IMAGE}]},
            "status": status}


def _running(name: str) -> dict:
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return _pod(name, {
        "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
        "conditions": [{"type": t, "status": "True"} for t in
                       ("PodScheduled", "Initialized", "ContainersReady", "Ready")],
        "containerStatuses": [{"name": "app", "ready": True, "restartCount": 0, "started": True,
                               "image": IMAGE, "imageID": "",
                               "state": {"running": {"startedAt": now}}}]})


def _crash_looping(name: str) -> dict:
    return _pod(name, {
        "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
        "conditions": [{"type": "PodScheduled", "status": "True"},
                       {"type": "Initialized", "status": "True"},
                       {"type": "ContainersReady", "status": "False",
                        "reason": "ContainersNotReady",
                        "message": "containers with unready status: [app]"},
                       {"type": "Ready", "status": "False", "reason": "ContainersNotReady",
                        "message": "containers with unready status: [app]"}],
        "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 5, "started": False,
            "image": IMAGE, "imageID": "",
            "lastState": {"terminated": {"exitCode": 1, "reason": "Error",
                                         "startedAt": "2024-05-01T12:00:00Z",
                                         "finishedAt": "2024-05-01T12:00:01Z"}},
            "state": {"waiting": {"reason": "CrashLoopBackOff",
                                  "message": "back-off 2m40s restarting failed container=app"}}}]})


def _image_pull_back_off(name: str) -> dict:
    return _pod(name, {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True"}],
        "containerStatuses": [{
            "name": "app", "ready": False, "restartCount": 0, "image": IMAGE, "imageID": "",
            "state": {"waiting": {"reason": "ImagePullBackOff",
                                  "message": f'Back-off pulling image "{IMAGE}"'}}}]})


def _log(mock: K8sMock, method: str, pod: str, text: str, previous: bool = False) -> None:
    """PUT: the container's log is `text`; POST: `text` is appended (followers get it)."""
    query = urllib.parse.urlencode({"namespace": NS, "name": pod, "container": "app"})
    if previous:
        query += "&previous=true"
    mock._ok(method, "/__fixture/pod-log?" + query, text, "text/plain")


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


# -- the surface -------------------------------------------------------------------

def test_the_surface():
    assert capi.devkit_diag_stage_name(capi.DEVKIT_DIAG_SCHEDULING) == "scheduling"
    assert capi.devkit_diag_stage_name(capi.DEVKIT_DIAG_STARTUP) == "start-up"
    assert capi.devkit_diag_stage_name(99) is None
    o = capi.devkit_logs_options()
    assert (o.version, o.follow, o.tail_lines, o.since_seconds, o.previous) == (
        capi.DEVKIT_LOGS_OPTIONS_VERSION, 0, -1, 0, 0)
    params = set(inspect.signature(devkit.Kubernetes.logs).parameters) - {"self"}
    assert {"pod", "container", "follow", "since_seconds", "since_time", "tail_lines",
            "previous", "timestamps", "namespace", "file", "max_reconnects"} == params
    assert set(inspect.signature(devkit.Kubernetes.events).parameters) == {
        "self", "pod", "namespace"}
    assert set(inspect.signature(devkit.Kubernetes.diagnose).parameters) == {
        "self", "pod", "namespace"}


# -- events ------------------------------------------------------------------------

def test_events_are_grouped_by_stage(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    mock.add_event(NS, "Pod", "web-1", "Scheduled", "Successfully assigned dev/web-1 to node-1")
    mock.add_event(NS, "Pod", "web-1", "Pulling", f'Pulling image "{IMAGE}"')
    mock.add_event(NS, "Pod", "web-1", "Unhealthy",
                   "Readiness probe failed: HTTP probe failed with statuscode: 503", "Warning")
    mock.add_event(NS, "Pod", "other-pod", "Scheduled", "not this Pod's")
    doc = k8s.events("web-1")
    assert doc["pod"] == "web-1" and doc["namespace"] == NS
    reasons = [e["reason"] for e in doc["events"]]
    assert reasons == ["Scheduled", "Pulling", "Unhealthy"], doc
    by_stage = {g["stage"]: [e["reason"] for e in g["events"]] for g in doc["stages"]}
    assert by_stage["scheduling"] == ["Scheduled"]
    assert by_stage["start-up"] == ["Pulling"]
    assert by_stage["running"] == ["Unhealthy"]
    order = [g["stage"] for g in doc["stages"]]
    assert order == sorted(order, key=["scheduling", "start-up", "running", "offline",
                                       "other"].index)
    assert k8s.events("web-1", namespace=NS)["events"] == doc["events"]


def test_a_missing_pod_is_not_found(k8s):
    with pytest.raises(devkit.NotFoundError, match="nothing"):
        k8s.events("nothing")
    with pytest.raises(devkit.NotFoundError):
        k8s.diagnose("nothing")
    with pytest.raises(LookupError):
        k8s.logs("nothing")
    with pytest.raises(devkit.NotFoundError):
        k8s.watch_events("nothing")


def test_watch_events_passes_new_events_on(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    mock.add_event(NS, "Pod", "web-1", "Scheduled", "Successfully assigned dev/web-1 to node-1")
    with k8s.watch_events("web-1") as watch:
        first = watch.read(15_000)
        assert first is not None and first["reason"] == "Scheduled"
        assert first["action"] in ("ADDED", "MODIFIED")
        assert watch.read(200) is None  # nothing more yet
        mock.add_event(NS, "Pod", "web-1", "Killing", "Stopping container app")
        ev = watch.read(15_000)
        assert ev is not None and ev["reason"] == "Killing", ev
        # close() from another thread ends an iteration
        got = []
        t = threading.Thread(target=lambda: got.extend(watch))
        t.start()
        time.sleep(0.3)
        watch.close()
        t.join(5)
        assert not t.is_alive() and got == []
    with pytest.raises(devkit.ClosedError):
        watch.read(0)


# -- logs ------------------------------------------------------------------------------

def test_logs_tail(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    _log(mock, "POST", "web-1", "one\ntwo\nthree\nfour\n")
    with k8s.logs("web-1") as logs:
        assert list(logs) == ["one", "two", "three", "four"]
        assert isinstance(logs.end_reason, devkit.ClosedError)
        st = logs.stats()
        assert st.lines == 4 and st.bytes == len("one\ntwo\nthree\nfour\n")
    with k8s.logs("web-1", container="app", tail_lines=2) as logs:
        assert list(logs) == ["three", "four"]
    with k8s.logs("web-1", tail_lines=1, timestamps=True) as logs:
        (line,) = list(logs)
        stamp, text = line.split(" ", 1)
        assert text == "four" and stamp.endswith("Z") and "T" in stamp
    assert not k8s._streams  # closed handles are let go


def test_logs_follow_gets_an_appended_line(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    _log(mock, "POST", "web-1", "starting\n")
    with k8s.logs("web-1", follow=True) as logs:
        assert logs.read(15_000) == "starting"
        assert logs.read(300) is None  # no line in time: None, still open
        _log(mock, "POST", "web-1", "GET /cart 200\n")
        assert logs.read(15_000) == "GET /cart 200"
        it = iter(logs)
        _log(mock, "POST", "web-1", "GET /checkout 500\n")
        assert next(it) == "GET /checkout 500"
        assert logs.stats().lines == 3


def test_close_from_another_thread_ends_a_follow(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    logs = k8s.logs("web-1", follow=True)
    got: list = []
    t = threading.Thread(target=lambda: got.extend(logs))
    t.start()
    time.sleep(0.5)
    started = time.monotonic()
    logs.close()
    t.join(5)
    assert not t.is_alive() and got == []
    assert time.monotonic() - started < 2
    logs.close()  # idempotent
    with pytest.raises(devkit.ClosedError):
        logs.read(0)


def test_closing_the_client_closes_its_logs(mock):
    mock.reset()
    mock.apply(json.dumps(_running("web-1")))
    ctx = devkit.Context()
    client = devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig)
    logs = client.logs("web-1", follow=True)
    watch = client.watch_events("web-1")
    ctx.close()
    assert logs.closed and watch.closed and client.closed
    assert list(logs) == []


def test_logs_of_a_waiting_container_end_with_the_servers_message(mock, k8s):
    mock.apply(json.dumps(_image_pull_back_off("web-3")))
    with k8s.logs("web-3") as logs:
        with pytest.raises(devkit.Error, match="waiting to start"):
            list(logs)
        assert isinstance(logs.end_reason, devkit.Error)
        with pytest.raises(devkit.Error, match="waiting to start"):
            logs.read(0)  # the end stays
    mock.apply(json.dumps(_crash_looping("web-2")))
    _log(mock, "PUT", "web-2", "panic: no config\n", previous=True)
    with k8s.logs("web-2", previous=True) as logs:
        assert list(logs) == ["panic: no config"]


# -- the report ------------------------------------------------------------------------

def test_diagnose_finds_a_crash_loop(mock, k8s):
    mock.apply(json.dumps(_crash_looping("web-2")))
    _log(mock, "PUT", "web-2", "panic: no config file /etc/web/config.yaml\n", previous=True)
    mock.add_event(NS, "Pod", "web-2", "BackOff", "Back-off restarting failed container app "
                   f"in pod web-2_{NS}", "Warning")
    report = k8s.diagnose("web-2")
    assert isinstance(report, devkit.Report)
    assert report.json["pod"] == "web-2" and report.stage == "start-up"
    assert "crash-loop" in report.finding_ids, report.text
    finding = next(f for f in report.findings if f["id"] == "crash-loop")
    assert finding["stage"] == "start-up" and finding["container"] == "app"
    assert finding["explanation"] and finding["fix"]
    assert "panic: no config file /etc/web/config.yaml" in finding["previous_log"]
    assert "CrashLoopBackOff" in " ".join(finding["evidence"])
    assert "Fix:" in report.text and "web-2" in report.text
    assert "panic: no config file" in str(report)
    assert report.summary


def test_diagnose_finds_an_image_pull_back_off(mock, k8s):
    mock.apply(json.dumps(_image_pull_back_off("web-3")))
    mock.add_event(NS, "Pod", "web-3", "Failed",
                   f'Failed to pull image "{IMAGE}": rpc error: code = NotFound desc = '
                   f'failed to pull and unpack image "{IMAGE}": not found', "Warning")
    report = k8s.diagnose("web-3", namespace=NS)
    assert report.stage == "start-up"
    assert any(i.startswith("image-") for i in report.finding_ids), report.text
    assert IMAGE in report.text


def test_a_healthy_pod_has_no_findings(mock, k8s):
    mock.apply(json.dumps(_running("web-1")))
    report = k8s.diagnose("web-1")
    assert report.findings == [], report.text
    assert report.json["ready"] is True
