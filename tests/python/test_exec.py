# SPDX-License-Identifier: Apache-2.0
"""Kubernetes streaming (devkit/exec.h) through the Python binding: exec and
attach sessions, exec_run, port-forward, against the Kubernetes API test
server (fixtures.K8sMock, as tests/k8s/test_exec.c and test_portforward.c
use tests/fixtures/k8s_fixture.c).

The server answers exec, attach and port-forward as a 1.30+ API server and
kubelet do, and runs the commands on THIS machine in the container's sandbox
directory; the Pod's network is this machine's loopback, so a forwarded port
reaches a server the test runs on 127.0.0.1."""
from __future__ import annotations

import inspect
import json
import socket
import socketserver
import threading
import time

import pytest

import devkit
from devkit import capi
from fixtures import K8sMock

NS = K8sMock.NAMESPACE
POD = "web-1"


@pytest.fixture(scope="module")
def mock():
    server = K8sMock()
    yield server
    server.close()


@pytest.fixture
def k8s(mock):
    mock.reset()  # the store is shared by the module: each test starts empty
    mock.apply(json.dumps({
        "apiVersion": "v1", "kind": "Pod", "metadata": {"name": POD, "namespace": NS},
        "spec": {"containers": [{"name": "app", "image": "busybox", "stdin": True}]}}))
    mock.set_pod_running(NS, POD)
    with devkit.Context() as ctx:
        with devkit.Kubernetes(ctx, kubeconfig=mock.kubeconfig, timeout_ms=10_000) as client:
            yield client


class _Echo(socketserver.ThreadingTCPServer):
    """A TCP echo server on 127.0.0.1 (the Pod's network is this loopback)."""
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                while True:
                    data = self.request.recv(65536)
                    if not data:
                        return
                    self.request.sendall(data)
        super().__init__(("127.0.0.1", 0), Handler)
        self.port = self.server_address[1]
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.shutdown()
        self.server_close()


@pytest.fixture
def echo():
    server = _Echo()
    yield server
    server.close()


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = s.recv(n - len(buf))
        if not data:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += data
    return buf


# -- the surface -------------------------------------------------------------------

def test_the_surface():
    o = capi.devkit_exec_options()
    assert (o.version, o.stdin_enabled, o.tty, o.attach, o.timeout_ms) == (
        capi.DEVKIT_EXEC_OPTIONS_VERSION, 0, 0, 0, 0)
    assert o.pod is None and o.command is None and o.argv_json is None
    assert (devkit.STDOUT, devkit.STDERR) == (1, 2) == (devkit.Exec.STDOUT, devkit.Exec.STDERR)
    assert {"pod", "command", "container", "namespace", "stdin", "tty", "timeout_ms"} == set(
        inspect.signature(devkit.Kubernetes.exec).parameters) - {"self"}
    assert {"pod", "command", "stdin", "container", "namespace", "tty", "timeout_ms"} == set(
        inspect.signature(devkit.Kubernetes.exec_run).parameters) - {"self"}
    assert {"pod", "pod_port", "local_port", "bind_address", "namespace", "tunnel"} == set(
        inspect.signature(devkit.Kubernetes.port_forward).parameters) - {"self"}


# -- exec_run ------------------------------------------------------------------------

def test_exec_run_stdin_stdout_stderr_and_exit_code(k8s):
    code, out, err = k8s.exec_run(POD, "tr a-z A-Z; echo to-err >&2; exit 3",
                                  stdin=b"hello world\n")
    assert (code, out, err) == (3, b"HELLO WORLD\n", b"to-err\n")
    result = k8s.exec_run(POD, "pwd; echo $HOSTNAME")
    assert result.exit_code == 0 and result.stderr == b""
    assert result.stdout.decode().split("\n")[1] == POD  # HOSTNAME=<pod>, as in a container
    # str stdin goes as UTF-8; no stdin (None) means the command reads EOF at once
    assert k8s.exec_run(POD, "cat", stdin="grüße").stdout == "grüße".encode()
    assert k8s.exec_run(POD, "cat; echo end").stdout == b"end\n"


def test_exec_run_argv_is_not_split_by_a_shell(k8s):
    code, out, err = k8s.exec_run(POD, ["sh", "-c", 'echo "[$0]" "[$1]"', "arg zero",
                                        "a b;c"])
    assert (code, out, err) == (0, b"[arg zero] [a b;c]\n", b"")


def test_exec_run_binary_and_large_stdin_round_trip(k8s):
    # Bytes that are not UTF-8, larger than every buffer on the way: the
    # one-call form must neither mangle nor deadlock on a command that echoes.
    data = bytes(range(256)) * (3 * 4096)
    code, out, err = k8s.exec_run(POD, ["cat"], stdin=data)
    assert code == 0 and err == b""
    assert len(out) == len(data) and out == data
    code, out, _ = k8s.exec_run(POD, "head -c 4 /dev/zero")
    assert out == b"\0\0\0\0"


def test_exec_run_errors_carry_the_server_words(k8s):
    with pytest.raises(devkit.NotFoundError) as info:
        k8s.exec_run("nope", "true")
    assert 'pods "nope" not found' in str(info.value) and f"{NS}/nope" in str(info.value)
    with pytest.raises(devkit.InvalidArgumentError):
        k8s.exec_run(POD, [])
    with pytest.raises(devkit.InvalidArgumentError):
        k8s.exec_run(POD, ["ls", 1])  # type: ignore[list-item]
    try:
        code, _, _ = k8s.exec_run(POD, ["no-such-program-devkit"])
        assert code != 0  # a shell's 127
    except devkit.Error as e:  # or the runtime's refusal on the error channel
        assert "no-such-program-devkit" in str(e)


# -- sessions ------------------------------------------------------------------------

def test_session_echo_through_cat_with_half_close(k8s):
    with k8s.exec(POD, "cat; echo eof-seen", stdin=True) as e:
        assert e.protocol == "v5.channel.k8s.io"
        e.write(b"hello ")
        e.write("world\n")
        e.close_stdin()
        chunks = list(e)
        assert all(isinstance(c, devkit.ExecOutput) for c in chunks)
        assert b"".join(c.data for c in chunks if c.stream == devkit.STDOUT) == \
            b"hello world\neof-seen\n"
        assert not [c for c in chunks if c.stream == devkit.STDERR]
        assert e.read() is None  # the end stays the end
        assert e.wait(10_000) == 0
        with pytest.raises(devkit.InvalidArgumentError, match="stdin is closed"):
            e.write(b"x")
    assert e.closed
    with pytest.raises(devkit.ClosedError):
        e.read()


def test_session_streams_apart_and_exit_code(k8s):
    with k8s.exec(POD, ["sh", "-c", "echo to-out; echo to-err >&2; echo more-out; exit 7"]) as e:
        out, err = e.output(20_000)
        assert (out, err) == (b"to-out\nmore-out\n", b"to-err\n")
        assert e.wait() == 7
    with k8s.exec(POD, "true") as e:
        with pytest.raises(devkit.InvalidArgumentError, match="stdin is not enabled"):
            e.write(b"x")
        with pytest.raises(devkit.InvalidArgumentError):
            e.resize(80, 24)  # no terminal


def test_session_output_as_it_comes(k8s):
    # Each line is read before the command writes the next: a stream, not a batch.
    with k8s.exec(POD, "read a; echo got-$a; read b; echo got-$b", stdin=True) as e:
        e.write(b"one\n")
        assert e.read(10_000) == (devkit.STDOUT, b"got-one\n")
        e.write(b"two\n")
        assert e.read(10_000) == (devkit.STDOUT, b"got-two\n")
        assert e.read(10_000) is None
        assert e.wait(10_000) == 0


def test_session_tty_and_resize(k8s):
    with k8s.exec(POD, "sleep 1; stty size; echo to-err >&2", stdin=True, tty=True) as e:
        e.resize(123, 45)
        out, err = e.output(20_000)
    # One terminal: stderr comes on stdout.
    assert b"45 123" in out and b"to-err" in out and err == b""


def test_read_and_wait_time_out(k8s):
    with k8s.exec(POD, "sleep 20") as e:
        t0 = time.monotonic()
        with pytest.raises(devkit.TimeoutError, match="no output within 300 ms") as info:
            e.read(300)
        assert isinstance(info.value, TimeoutError)  # the builtin too
        assert 0.25 <= time.monotonic() - t0 < 5
        with pytest.raises(devkit.TimeoutError, match="still running after 200 ms"):
            e.wait(200)
        with pytest.raises(devkit.TimeoutError):
            e.read(0)


def test_close_from_another_thread_ends_a_blocked_read(k8s):
    e = k8s.exec(POD, "sleep 30")
    outcome = []

    def reader():
        try:
            outcome.append(e.read())  # no limit: only close() ends it
        except devkit.Error as err:
            outcome.append(err)

    t = threading.Thread(target=reader)
    t.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    e.close()
    t.join(10)
    assert not t.is_alive() and time.monotonic() - t0 < 5
    assert len(outcome) == 1 and isinstance(outcome[0], devkit.ClosedError)
    # The client still works afterwards.
    assert k8s.exec_run(POD, "echo still-fine").stdout == b"still-fine\n"


def test_client_close_closes_its_sessions(mock, k8s):
    e = k8s.exec(POD, "sleep 30")
    f = k8s.port_forward(POD, 1)
    k8s.close()
    assert e.closed and f.closed
    with pytest.raises(devkit.ClosedError):
        e.wait(0)


def test_missing_pod_is_not_found(k8s):
    with pytest.raises(devkit.NotFoundError, match='pods "nope" not found'):
        k8s.exec("nope", "true")


def test_attach_to_the_main_process(k8s):
    with k8s.attach(POD, stdin=True) as a:
        a.write(b"echo attached-$((40 + 2))\n")
        seen = b""
        deadline = time.monotonic() + 20
        while b"attached-42" not in seen and time.monotonic() < deadline:
            chunk = a.read(10_000)
            assert chunk is not None
            seen += chunk.data
        assert b"attached-42" in seen
        assert "attach" in repr(a)


def test_the_server_saw_what_was_asked(mock, k8s):
    k8s.exec_run(POD, ["echo", "a b"], container="app")
    sessions = [s for s in mock.stream_sessions() if s.get("kind") == "exec"]
    assert sessions and sessions[-1]["command"] == ["echo", "a b"]
    assert sessions[-1]["container"] == "app" and sessions[-1]["pod"] == POD


# -- port-forward --------------------------------------------------------------------

def test_port_forward_round_trips(k8s, echo):
    with k8s.port_forward(POD, echo.port) as f:
        assert f.port > 0 and f.port != echo.port and f.pod_port == echo.port
        assert f.tunnel is None and str(f.port) in repr(f)

        def round_trip(i: int) -> bool:
            payload = bytes([i]) * 100_000 + f"#{i}".encode()
            with socket.create_connection(("127.0.0.1", f.port), timeout=20) as s:
                s.sendall(payload)
                return _recv_exact(s, len(payload)) == payload

        results = []
        threads = [threading.Thread(target=lambda i=i: results.append(round_trip(i)))
                   for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert results == [True] * 4
        # Half-close: the echo server sees EOF, finishes, closes; so do we.
        with socket.create_connection(("127.0.0.1", f.port), timeout=20) as s:
            s.sendall(b"last words")
            assert _recv_exact(s, 10) == b"last words"
            s.shutdown(socket.SHUT_WR)
            assert s.recv(100) == b""
    assert f.closed
    # The listener goes on the engine's loop right after close() returns.
    deadline = time.monotonic() + 5
    while True:
        try:
            socket.create_connection(("127.0.0.1", f.port), timeout=5).close()
        except ConnectionRefusedError:
            break
        assert time.monotonic() < deadline, f"127.0.0.1:{f.port} still listens"
        time.sleep(0.05)


def test_port_forward_on_a_chosen_port(k8s, echo):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with k8s.port_forward(POD, echo.port, port, bind_address="127.0.0.1") as f:
        assert f.port == port
        with socket.create_connection(("127.0.0.1", port), timeout=20) as s:
            s.sendall(b"ping")
            assert _recv_exact(s, 4) == b"ping"


def test_port_forward_refused_port_closes_the_connection(k8s):
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        dead = probe.getsockname()[1]
    with k8s.port_forward(POD, dead) as f:
        with socket.create_connection(("127.0.0.1", f.port), timeout=20) as s:
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass  # closed either way: nothing comes through


def test_port_forward_bad_arguments(k8s):
    with pytest.raises(devkit.InvalidArgumentError):
        k8s.port_forward(POD, 0)
    with pytest.raises(devkit.InvalidArgumentError):
        k8s.port_forward(POD, 80, 70000)


def test_port_forward_through_a_bastion_tunnel(sshd, k8s, echo):
    # The Pod's IP is 127.0.0.1 in the test server: the bastion reaches it.
    tunnel = devkit.Tunnel(sshd.bastion, ctx=k8s.context, **sshd.tunnel_args())
    try:
        f = k8s.port_forward(POD, echo.port, tunnel=tunnel)
        assert f.tunnel is tunnel and "via tunnel" in repr(f)
        with socket.create_connection(("127.0.0.1", f.port), timeout=20) as s:
            s.sendall(b"through the bastion")
            assert _recv_exact(s, 19) == b"through the bastion"
        assert tunnel.stats().channels_total >= 1
        # C frees the forward before its tunnel: closing the tunnel closes it first.
        tunnel.close()
        assert f.closed
        f.close()  # idempotent
    finally:
        tunnel.close()


def test_port_forward_through_a_tunnel_needs_the_pod_ip(mock, sshd, k8s):
    mock.apply(json.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": "pending", "namespace": NS},
                           "spec": {"containers": [{"name": "app", "image": "busybox"}]}}))
    with devkit.Tunnel(sshd.bastion, ctx=k8s.context, **sshd.tunnel_args()) as tunnel:
        with pytest.raises(devkit.NotFoundError, match="has no IP yet"):
            k8s.port_forward("pending", 8080, tunnel=tunnel)


def test_forbidden_is_a_permission_error(mock, k8s):
    mock.forbid("*:pods/exec")
    with pytest.raises(devkit.ForbiddenError) as info:
        k8s.exec_run(POD, "true")
    assert isinstance(info.value, PermissionError)
    assert "forbidden" in str(info.value) and "pods/exec" in str(info.value)
    mock.forbid("*:pods/portforward")
    with k8s.port_forward(POD, 9) as f:  # refused per connection: the listener is fine
        with socket.create_connection(("127.0.0.1", f.port), timeout=20) as s:
            try:
                assert s.recv(100) == b""
            except ConnectionResetError:
                pass
