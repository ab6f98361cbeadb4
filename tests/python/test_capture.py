# SPDX-License-Identifier: Apache-2.0
"""tcpdump in a Pod's network (devkit/diag.h, "tcpdump capture") through the
Python binding, against the Kubernetes API test server (fixtures.K8sMock),
whose exec runs the command on THIS machine: the real tcpdump captures on
the real loopback, as in tests/diag/test_capture.c. Each test makes its own
traffic -- UDP datagrams with a random payload to a port it bound -- and
captures "udp port N" on lo, so nothing else lands in the capture. pcap is
read back with tshark.

Capturing needs root (or NET_RAW): run as another user, these tests skip."""
from __future__ import annotations

import inspect
import json
import os
import secrets
import shutil
import socket
import subprocess
import threading
import time

import pytest

import devkit
from devkit import capi
from fixtures import K8sMock

NS = K8sMock.NAMESPACE
POD = "web-1"

needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("tcpdump"),
    reason="tcpdump needs root (or NET_RAW) to capture on lo, and this is not root "
           "(or has no tcpdump): skipped")


@pytest.fixture(scope="module")
def mock():
    server = K8sMock()
    yield server
    server.close()


@pytest.fixture
def k8s(mock):
    mock.reset()  # the store is shared by the module: each test starts empty
    mock.apply(json.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": POD, "namespace": NS},
                           "spec": {"containers": [{"name": "app", "image": "busybox"}]}}))
    mock.set_pod_running(NS, POD)
    with devkit.Context() as ctx:
        with devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig, timeout_ms=10_000) as client:
            yield client


class _Probe:
    """A bound UDP port and datagrams to it with a payload of this test's."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.payload = f"devkit-capture-probe-{secrets.token_hex(4)}".encode()
        self.filter = f"udp port {self.port}"

    def send(self, n: int, gap_s: float = 0.0) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            for _ in range(n):
                s.sendto(self.payload, ("127.0.0.1", self.port))
                if gap_s:
                    time.sleep(gap_s)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def probe():
    p = _Probe()
    yield p
    p.close()


def _tshark(path: str, probe: _Probe) -> list:
    out = subprocess.run(["tshark", "-r", path, "-Y", f"udp.dstport=={probe.port}", "-T",
                          "fields", "-e", "udp.dstport", "-e", "udp.payload"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [line for line in out.stdout.splitlines() if line]


def _read_all(c: devkit.Capture, limit_s: float = 60.0) -> list:
    """Everything until the end (ClosedError ends the iteration)."""
    items: list = []
    deadline = time.monotonic() + limit_s
    while True:
        assert time.monotonic() < deadline, f"no end within {limit_s} s"
        try:
            item = c.read(500)
        except devkit.ClosedError:
            return items
        if item is not None:
            items.append(item)


def test_the_surface():
    o = capi.devkit_capture_options()
    assert (o.version, o.format, o.duration_ms, o.max_packets, o.snaplen) == (
        capi.DEVKIT_CAPTURE_OPTIONS_VERSION, capi.DEVKIT_CAPTURE_TEXT, 0, 0, 0)
    assert o.filter is None and o.interface_name is None and o.file is None
    assert {"pod", "filter", "pcap", "file", "duration_ms", "max_packets", "snaplen",
            "interface", "container", "namespace"} == set(
        inspect.signature(devkit.Kubernetes.capture).parameters) - {"self"}


@needs_root
def test_text_lines_name_the_port(k8s, probe):
    with k8s.capture(POD, probe.filter, interface="lo") as c:
        assert not c.pcap and "text" in repr(c)
        probe.send(3, 0.05)
        lines = []
        deadline = time.monotonic() + 30
        while sum(f"127.0.0.1.{probe.port}: UDP" in line for line in lines) < 3:
            assert time.monotonic() < deadline, lines
            line = c.read(500)
            if line is not None:
                assert isinstance(line, str) and "\n" not in line
                lines.append(line)
        c.stop()
        rest = _read_all(c)
        assert isinstance(c.end_reason, devkit.ClosedError)
        st = c.stats()
        assert st.ended and st.packets >= 3 and st.bytes > 0
        assert st.dropped == 0
        assert all(isinstance(x, str) for x in rest)


@needs_root
def test_pcap_stream_is_what_tshark_reads(k8s, probe, tmp_path):
    with k8s.capture(POD, probe.filter, pcap=True, interface="lo", max_packets=4) as c:
        assert c.pcap
        probe.send(4, 0.05)
        chunks = list(c)  # ends by itself after 4 packets
        assert chunks and all(isinstance(b, bytes) for b in chunks)
        data = b"".join(chunks)
        # the pcap file header's magic, either byte order (microseconds or nanoseconds)
        assert data[:4] in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                            b"\xa1\xb2\x3c\x4d")
        assert c.stats().packets == 4
    path = tmp_path / "stream.pcap"
    path.write_bytes(data)
    frames = _tshark(str(path), probe)
    assert frames == [f"{probe.port}\t{probe.payload.hex()}"] * 4


@needs_root
def test_pcap_file_and_duration(k8s, probe, tmp_path):
    path = tmp_path / "cap.pcap"
    t0 = time.monotonic()
    with k8s.capture(POD, probe.filter, pcap=True, interface="lo", file=path,
                     duration_ms=1500) as c:
        assert c.file == str(path)
        probe.send(2, 0.05)
        assert list(c) == []  # the bytes went to the file
    assert time.monotonic() - t0 < 30
    assert _tshark(str(path), probe) == [f"{probe.port}\t{probe.payload.hex()}"] * 2


@needs_root
def test_close_from_another_thread_stops_tcpdump(k8s, probe):
    c = k8s.capture(POD, probe.filter, interface="lo")
    outcome = []

    def reader():
        try:
            for _ in c:
                pass
            outcome.append("ended")
        except devkit.Error as e:
            outcome.append(e)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)
    c.close()
    t.join(10)
    assert not t.is_alive() and outcome == ["ended"]
    assert c.closed


@needs_root
def test_client_close_closes_the_capture(mock, k8s, probe):
    c = k8s.capture(POD, probe.filter, interface="lo")
    k8s.close()
    assert c.closed


@needs_root
def test_errors_carry_tcpdump_words(k8s):
    with pytest.raises(devkit.InvalidArgumentError, match="syntax error") as info:
        k8s.capture(POD, "tcp port", interface="lo")
    assert '"tcp port"' in str(info.value)
    with pytest.raises(devkit.NotFoundError, match="nosuch0"):
        k8s.capture(POD, interface="nosuch0")
    with pytest.raises(devkit.NotFoundError, match='pods "nope" not found'):
        k8s.capture("nope")


def _pod_with_path(mock: K8sMock, name: str, path: str) -> None:
    # The mock runs commands with the container's PATH (sh itself it finds):
    # that is how a test plays an image.
    mock.apply(json.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": name, "namespace": NS},
                           "spec": {"containers": [{"name": "app", "image": "distroless",
                                                    "env": [{"name": "PATH", "value": path}]}]}}))
    mock.set_pod_running(NS, name)


def test_no_tcpdump_in_the_container(mock, k8s):
    _pod_with_path(mock, "slim", "/nonexistent")
    with pytest.raises(devkit.UnsupportedError) as info:
        k8s.capture("slim")
    assert "tcpdump: not found" in str(info.value)
    assert "devkit replicate --tcpdump" in str(info.value)  # what to do about it


def test_not_permitted_is_forbidden(mock, k8s, tmp_path):
    # A container without NET_RAW: tcpdump says what libpcap says then.
    fake = tmp_path / "tcpdump"
    fake.write_text("#!/bin/sh\necho 'tcpdump: lo: You don'\\''t have permission to capture "
                    "on that device' >&2\necho '(socket: Operation not permitted)' >&2\n"
                    "exit 1\n")
    fake.chmod(0o755)
    _pod_with_path(mock, "no-net-raw", str(tmp_path))
    with pytest.raises(devkit.ForbiddenError) as info:
        k8s.capture("no-net-raw")
    assert isinstance(info.value, PermissionError)  # the builtin too
    assert "You don't have permission" in str(info.value) and "NET_RAW" in str(info.value)
