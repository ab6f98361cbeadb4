# SPDX-License-Identifier: Apache-2.0
"""The live workflow on a replica (devkit/live.h) through the Python binding:
app control, deploy, the debugger (a real JVM), the audited shell and
Arthas, against the Kubernetes API test server with a replica whose
keep-alive really runs (fixtures.ReplicaSandbox, as tests/live/*.c use
tests/fixtures/replica_sandbox.c).

The test server runs exec commands on THIS machine in the container's
sandbox directory, and the Pod's network is this machine's loopback: the
app (and its JVM) run here, and the files a deploy copies land here."""
from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import threading
import time
from typing import Optional

import pytest

import devkit
from devkit import capi
from fixtures import K8sMock, ReplicaSandbox, free_port

NS = K8sMock.NAMESPACE
POD = "web-dev"
ARTHAS_ZIP = K8sMock.fixtures_dir() / "arthas" / "arthas-bin.zip"


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


@pytest.fixture
def replica(mock, k8s):
    """Start a replica with ``replica(app_command)``; stopped after the test."""
    started = []

    def start(app_command: str, **kw) -> ReplicaSandbox:
        r = ReplicaSandbox(mock, k8s, POD, app_command, **kw)
        started.append(r)
        return r

    yield start
    for r in started:
        r.close()


def _pid(state: str) -> int:
    m = re.match(r"running pid (\d+) since ", state)
    assert m, state
    return int(m.group(1))


def _plain_pod(mock: K8sMock, name: str = "plain") -> None:
    """A running Pod without the keep-alive."""
    mock.apply(json.dumps({"apiVersion": "v1", "kind": "Pod",
                           "metadata": {"name": name, "namespace": NS},
                           "spec": {"containers": [{"name": "app", "image": "busybox"}]}}))
    mock.set_pod_running(NS, name)


def _wait_for(predicate, timeout: float = 30.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


# -- the surface -------------------------------------------------------------------

def test_the_surface():
    assert [a.name for a in devkit.AppAction] == ["STATUS", "START", "STOP", "RESTART"]
    assert devkit.AppAction.RESTART == capi.DEVKIT_APP_RESTART
    sig = inspect.signature(devkit.Kubernetes.deploy)
    assert {"pod", "local_path", "remote_dir", "restart", "full", "container", "namespace",
            "timeout_ms", "progress"} == set(sig.parameters) - {"self"}
    assert sig.parameters["restart"].default is True and sig.parameters["full"].default is False
    assert {"pod", "port", "suspend", "local_port", "bind_address", "tunnel", "agent_option",
            "container", "namespace", "timeout_ms"} == set(
        inspect.signature(devkit.Kubernetes.debug).parameters) - {"self"}
    assert {"pod", "audit_log", "audit_events", "user", "shell", "cols", "rows", "container",
            "namespace"} == set(inspect.signature(devkit.Kubernetes.shell).parameters) - {"self"}
    assert {"pod", "package", "command", "pid", "java", "container", "namespace",
            "timeout_ms"} == set(inspect.signature(devkit.Kubernetes.arthas).parameters) - {"self"}


def test_options_start_from_the_c_defaults():
    d = capi.devkit_deploy_options()
    assert (d.version, d.restart, d.full, d.timeout_ms) == (
        capi.DEVKIT_DEPLOY_OPTIONS_VERSION, 1, 0, 0)
    assert d.local_path is None and d.remote_dir is None
    assert not hasattr(d, "progress")  # the progress callback is not bound
    g = capi.devkit_debug_options()
    assert (g.port, g.suspend, g.local_port, g.tunnel) == (0, 0, 0, None)
    s = capi.devkit_shell_options()
    assert (s.audit_events, s.cols, s.rows, s.audit_log) == (0, 0, 0, None)
    a = capi.devkit_arthas_options()
    assert (a.pid, a.package, a.command, a.timeout_ms) == (0, None, None, 0)


# -- app control -------------------------------------------------------------------

# devkit-app can answer with the state of a moment before the keep-alive has
# finished the action (it returns once the request is taken: "restart" may
# answer "stopped since ...", seen about once in 120 calls), so the tests
# check the state the app settles in, and that the answer is one of its states.
_STATES = re.compile(r"(running pid \d+|stopped|exited|stopping pid \d+) ")


def _state_when(app, ok, what: str) -> str:
    """The app's state once ok(state) holds."""
    def check() -> str:
        state = app.status()
        return state if ok(state) else ""
    return _wait_for(check, 20, what)


def _running_pid(state: str) -> int:
    return _pid(state) if state.startswith("running pid ") else 0


def test_stop_start_restart_keep_the_container(k8s, replica):
    r = replica("echo started; exec sleep 300")
    supervisor = r.proc.pid
    app = k8s.app(POD)
    first = _pid(app.status())
    assert app.running
    assert _STATES.match(app.stop())
    stopped = _state_when(app, lambda s: s.startswith("stopped since "), "stopped")
    assert stopped.endswith("(exit status 143)"), stopped  # SIGTERM
    assert not app.running
    with pytest.raises(ProcessLookupError):
        os.kill(first, 0)
    assert _STATES.match(k8s.app_control(POD, "start", container="app"))
    second = _pid(_state_when(app, _running_pid, "running"))
    assert _STATES.match(k8s.app_control(POD, devkit.AppAction.RESTART, namespace=NS))
    third = _pid(_state_when(app, lambda s: _running_pid(s) not in (0, second), "a new pid"))
    assert len({first, second, third}) == 3
    os.kill(third, 0)  # it runs
    assert r.proc.pid == supervisor and r.proc.poll() is None, "the container must not restart"
    _wait_for(lambda: r.app_log.read_text().count("started\n") == 3, 20, "three starts")
    assert "web-dev" in repr(app)


def test_app_control_errors(mock, k8s, replica):
    replica("exec sleep 300")
    with pytest.raises(devkit.InvalidArgumentError, match="unknown action"):
        k8s.app_control(POD, "reboot")
    with pytest.raises(devkit.InvalidArgumentError, match="action 9"):
        k8s.app_control(POD, 9)
    with pytest.raises(devkit.NotFoundError, match='pods "nope" not found'):
        k8s.app("nope").status()
    _plain_pod(mock)
    with pytest.raises(devkit.UnsupportedError) as info:
        k8s.app("plain").restart()
    assert "keep_alive" in str(info.value) and info.value.code == devkit.ErrorCode.EUNSUPPORTED


# -- deploy --------------------------------------------------------------------------

def test_deploy_copies_what_changed_and_restarts(k8s, replica, tmp_path):
    r = replica("echo started; exec sleep 300")
    before = _pid(k8s.app(POD).status())
    build = tmp_path / "build"
    (build / "lib").mkdir(parents=True)
    (build / "app.jar").write_bytes(bytes(range(256)) * 400)
    (build / "lib" / "dep.jar").write_bytes(b"dependency\n")
    (build / "run.sh").write_text("#!/bin/sh\necho run\n")
    os.chmod(build / "run.sh", 0o755)
    remote = r.dir / "opt" / "app"

    first = k8s.deploy(POD, build, str(remote))
    assert isinstance(first, devkit.DeployResult)
    assert (first.files_sent, first.files_unchanged, first.files_total) == (3, 0, 3)
    assert first.bytes_sent == 256 * 400 + 11 + len("#!/bin/sh\necho run\n")
    assert first.restarted and _STATES.match(first.app_state), first.app_state
    _state_when(k8s.app(POD), lambda s: _running_pid(s) not in (0, before), "a new pid")
    assert (remote / "app.jar").read_bytes() == (build / "app.jar").read_bytes()
    assert (remote / "lib" / "dep.jar").read_text() == "dependency\n"
    assert os.access(remote / "run.sh", os.X_OK)

    again = k8s.deploy(POD, build, str(remote), restart=False)
    assert (again.files_sent, again.files_unchanged, again.bytes_sent) == (0, 3, 0)
    assert not again.restarted

    time.sleep(1.1)  # a new modification time, whatever the file system's resolution
    (build / "lib" / "dep.jar").write_text("dependency v2\n")
    changed = k8s.deploy(POD, build, str(remote))
    assert (changed.files_sent, changed.files_unchanged) == (1, 2)
    assert (remote / "lib" / "dep.jar").read_text() == "dependency v2\n"
    assert k8s.deploy(POD, build, str(remote), full=True, restart=False).files_sent == 3

    # One file lands as remote_dir/NAME.
    single = k8s.deploy(POD, build / "app.jar", str(r.dir / "single"), restart=False)
    assert single.files_sent == 1 and (r.dir / "single" / "app.jar").is_file()
    # Restart only.
    only = k8s.deploy(POD)
    assert only.restarted and only.files_total == 0 and _STATES.match(only.app_state)


def test_deploy_progress(k8s, replica, tmp_path):
    r = replica("exec sleep 300")
    build = tmp_path / "build"
    build.mkdir()
    for i in range(5):
        (build / f"part-{i}.bin").write_bytes(os.urandom(300_000))
    seen = []
    threads = set()

    def progress(stage, done, total):
        seen.append((stage, done, total))
        threads.add(threading.get_ident())

    result = k8s.deploy(POD, build, str(r.dir / "app"), progress=progress)
    stages = [s for s, _, _ in seen]
    assert {"scan", "compare", "send", "restart"} <= set(stages), seen
    assert stages.index("scan") < stages.index("send") < stages.index("restart")
    sends = [(d, t) for s, d, t in seen if s == "send"]
    assert sends[-1] == (result.bytes_sent, result.bytes_sent) == (1_500_000, 1_500_000)
    assert threads == {threading.get_ident()}  # on the calling thread

    # An exception in the callback cannot stop C: it is raised once the deploy returned.
    (build / "part-0.bin").write_bytes(b"changed")

    def fails(stage, done, total):
        raise RuntimeError(f"progress failed at {stage}")

    with pytest.raises(RuntimeError, match="progress failed at scan"):
        k8s.deploy(POD, build, str(r.dir / "app"), restart=False, progress=fails)
    assert (r.dir / "app" / "part-0.bin").read_bytes() == b"changed"


def test_deploy_errors(mock, k8s, replica, tmp_path):
    r = replica("exec sleep 300")
    with pytest.raises(devkit.IoError) as info:
        k8s.deploy(POD, tmp_path / "no-such-dir", str(r.dir / "x"))
    assert "no-such-dir" in str(info.value)
    blocker = r.dir / "a-file"
    blocker.write_text("not a directory\n")
    (tmp_path / "f.txt").write_text("x")
    with pytest.raises(devkit.Error) as info:
        k8s.deploy(POD, tmp_path / "f.txt", str(blocker / "sub"), restart=False)
    assert isinstance(info.value, (devkit.IoError, devkit.UnsupportedError)), info.value
    _plain_pod(mock)
    with pytest.raises(devkit.UnsupportedError, match="keep_alive"):
        k8s.deploy("plain")


# -- debug ---------------------------------------------------------------------------

HELLO_JAVA = """\
public class Hello {
  public static void main(String[] a) throws Exception {
    for (int i = 0;; i++) { System.out.println("tick " + i); Thread.sleep(100); }
  }
}
"""


@pytest.fixture(scope="module")
def hello_class(tmp_path_factory):
    """Hello.class, compiled once with the JDK on this machine."""
    if not shutil.which("javac"):
        pytest.skip("no javac on this machine")
    d = tmp_path_factory.mktemp("hello")
    (d / "Hello.java").write_text(HELLO_JAVA)
    subprocess.run(["javac", "-d", str(d), str(d / "Hello.java")], check=True, timeout=120)
    return d / "Hello.class"


def _start_hello(replica, hello_class) -> ReplicaSandbox:
    # The app waits for its class: the sandbox exists only once the replica does.
    r = replica("while [ ! -f Hello.class ]; do sleep 0.1; done; "
                "exec java -Xmx64m -XX:TieredStopAtLevel=1 -cp . Hello")
    shutil.copy(hello_class, r.dir / "Hello.class.new")
    os.rename(r.dir / "Hello.class.new", r.dir / "Hello.class")
    _wait_for(lambda: "tick 1\n" in r.app_log.read_text(), 60, "the JVM to tick")
    return r


def _jdwp_version(port: int, retry_s: float = 10.0) -> str:
    """Handshake, then VirtualMachine.Version (1,1): the JVM's description.
    The agent listens again a moment after a debugger left: retried."""
    deadline = time.monotonic() + retry_s
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                s.sendall(b"JDWP-Handshake")
                assert _recv_exact(s, 14) == b"JDWP-Handshake"
                s.sendall(struct.pack(">IIBBB", 11, 1, 0, 1, 1))
                while True:
                    length, _, flags = struct.unpack(">IIB", _recv_exact(s, 9))
                    body = _recv_exact(s, length - 9)
                    if flags == 0x80:  # the reply (not an event from the VM)
                        error = struct.unpack(">H", body[:2])[0]
                        assert error == 0, f"JDWP error {error}"
                        n = struct.unpack(">I", body[2:6])[0]
                        return body[6:6 + n].decode()
        except (OSError, ConnectionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = s.recv(n - len(buf))
        if not data:
            raise ConnectionError(f"closed after {len(buf)} of {n} bytes")
        buf += data
    return buf


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return False
    except ConnectionRefusedError:
        return True


def test_debug_through_the_api_server_then_off(k8s, replica, hello_class):
    r = _start_hello(replica, hello_class)
    before = _pid(r.state())
    jdwp = free_port()  # the JVM listens on this machine: the local port must differ
    with k8s.debug(POD, jdwp, local_port=-1, timeout_ms=60_000) as d:
        assert d.port > 0 and d.port != jdwp and str(d.port) in repr(d)
        assert "Java" in _jdwp_version(d.port)
        assert _pid(r.state()) != before  # restarted with the agent
        env = (r.devkit_dir / "app.env").read_text()
        assert f"address=*:{jdwp}" in env and "jdwp" in env
    assert d.closed
    # The agent stays on until debug_off: the JVM itself still answers.
    assert "Java" in _jdwp_version(jdwp)
    k8s.debug_off(POD)
    env_file = r.devkit_dir / "app.env"
    assert not env_file.exists() or "jdwp" not in env_file.read_text()
    _wait_for(lambda: "running" in r.state(), 30, "the app to run again")
    _wait_for(lambda: _refused(jdwp), 30, "the agent to be gone")


def test_debug_through_a_bastion_tunnel(sshd, k8s, replica, hello_class):
    _start_hello(replica, hello_class)
    with devkit.Tunnel(sshd.bastion, ctx=k8s.context, **sshd.tunnel_args()) as tunnel:
        d = k8s.debug(POD, free_port(), local_port=-1, tunnel=tunnel, timeout_ms=60_000)
        assert "Java" in _jdwp_version(d.port)
        assert tunnel.stats().channels_total >= 1
        # C frees the debug forward before the tunnel: the tunnel's close closes it.
    assert d.closed
    k8s.debug_off(POD)


def test_debug_errors(mock, k8s):
    _plain_pod(mock)
    with pytest.raises(devkit.UnsupportedError, match="keep_alive"):
        k8s.debug("plain", free_port(), local_port=-1)
    with pytest.raises(devkit.NotFoundError, match='pods "nope" not found'):
        k8s.debug("nope", free_port(), local_port=-1)


# -- the audited shell --------------------------------------------------------------

class _Terminal:
    """What a person at a terminal does: type, then watch the screen."""

    def __init__(self, sh) -> None:
        self.sh = sh
        self.screen = b""
        self.ended = False

    def type(self, keys: str) -> None:
        self.sh.write(keys)

    def until(self, needle: Optional[bytes] = b"", commands: int = 0,
              timeout: float = 30.0) -> None:
        """Read until the screen shows `needle` and `commands` were recorded
        (needle None: until the shell ends)."""
        deadline = time.monotonic() + timeout
        while not self.ended:
            if needle is not None and needle in self.screen and self.sh.commands >= commands:
                return
            assert time.monotonic() < deadline, (
                f"no {needle!r} / {commands} commands ({self.sh.commands} so far): "
                f"{self.screen!r}")
            try:
                chunk = self.sh.read(200)
            except devkit.TimeoutError:
                continue
            if chunk is None:
                self.ended = True
            else:
                self.screen += chunk


def test_shell_records_every_command(mock, k8s, tmp_path):
    _plain_pod(mock)
    audit = tmp_path / "audit.log"
    with k8s.shell("plain", audit_log=audit, user="alice", shell="sh", cols=100,
                   rows=30) as sh:
        t = _Terminal(sh)
        t.type("echo hello-$((6 * 7))\r")  # Enter is a carriage return on a terminal
        t.until(b"hello-42\r\n", 1)
        t.type("false\r")
        t.until(commands=2)
        t.type("exit 3\r")
        t.until(None)  # to the end
        assert t.ended and sh.wait(20_000) == 3
        assert sh.commands == 3
        assert b"devkit-" not in t.screen  # no audit marker reaches the screen
    records = [json.loads(line) for line in audit.read_text().splitlines()]
    assert [(r["command"], r["exit_status"]) for r in records] == [
        ("echo hello-$((6 * 7))", 0), ("false", 1), ("exit 3", 3)]
    for r in records:
        assert (r["user"], r["namespace"], r["pod"]) == ("alice", NS, "plain")
        assert r["time"] and r["end_time"]
    assert os.stat(audit).st_mode & 0o777 == 0o600


def test_shell_needs_its_audit_log(mock, k8s, tmp_path):
    _plain_pod(mock)
    with pytest.raises(devkit.Error) as info:
        k8s.shell("plain", audit_log=tmp_path / "no-such-dir" / "audit.log")
    assert "audit.log" in str(info.value)
    assert not (tmp_path / "no-such-dir").exists()


# -- Arthas ----------------------------------------------------------------------------

def _arthas_port_free(timeout: float = 180.0) -> None:
    """Arthas's server listens on this machine's port 3658 inside the JVM it
    attached to (the Pod's network is this loopback), so another suite's
    Arthas running at the same time makes ours refuse ("Process N already
    using port 3658"): wait for it to finish first."""
    deadline = time.monotonic() + timeout
    while not _refused(3658):
        if time.monotonic() > deadline:
            pytest.fail("port 3658 (Arthas) stays taken by another process on this machine")
        time.sleep(0.5)


@pytest.mark.skipif(not ARTHAS_ZIP.is_file(),
                    reason=f"no Arthas package at {ARTHAS_ZIP} (tests/fixtures/arthas/build.sh)")
def test_arthas_runs_a_command_in_the_jvm(k8s, replica, hello_class):
    _start_hello(replica, hello_class)
    _arthas_port_free()
    version = (ARTHAS_ZIP.parent / "version").read_text().strip()
    code, output = k8s.arthas(POD, ARTHAS_ZIP, "version", timeout_ms=180_000)
    assert code == 0, output
    assert version in output
    result = k8s.arthas(POD, ARTHAS_ZIP, "thread -n 1; sysprop java.version",
                        timeout_ms=180_000)
    assert isinstance(result, devkit.ArthasResult) and result.exit_code == 0, result.output
    assert "java.version" in result.output


@pytest.mark.skipif(not ARTHAS_ZIP.is_file(),
                    reason=f"no Arthas package at {ARTHAS_ZIP} (tests/fixtures/arthas/build.sh)")
def test_arthas_console_is_an_exec_session(k8s, replica, hello_class):
    _start_hello(replica, hello_class)
    _arthas_port_free()
    with k8s.arthas_console(POD, ARTHAS_ZIP, timeout_ms=180_000) as console:
        assert isinstance(console, devkit.Exec)
        console.resize(120, 40)
        screen = b""

        def until(needle: bytes) -> None:
            nonlocal screen
            deadline = time.monotonic() + 120
            while needle not in screen:
                assert time.monotonic() < deadline, screen.decode(errors="replace")
                chunk = console.read(120_000)
                assert chunk is not None, f"ended without {needle!r}: {screen!r}"
                screen += chunk.data

        until(b"]$ ")  # Arthas's prompt
        console.write("sc Hello\r")  # Enter, as a terminal sends it
        until(b"Affect(row-cnt:1)")
        console.write("stop\r")
        console.output(60_000)  # to the end
        assert console.wait(30_000) == 0


def test_arthas_errors(k8s, replica, tmp_path):
    replica("exec sleep 300")
    with pytest.raises(devkit.Error) as info:
        k8s.arthas(POD, tmp_path / "no-arthas.zip", "version", timeout_ms=60_000)
    assert "no-arthas.zip" in str(info.value)
