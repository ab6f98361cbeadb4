# SPDX-License-Identifier: Apache-2.0
"""Test servers on loopback: a real OpenSSH sshd as the bastion, an HTTP origin,
a real etcd as the service registry, fabric8's Kubernetes API mock, and sockets
that misbehave. The Python twin of tests/fixtures/sshd_fixture.c,
tests/fixtures/etcd_fixture.c and tests/fixtures/k8s_fixture.c."""
from __future__ import annotations

import base64
import http.server
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parents[2]

SSHD = "/usr/sbin/sshd"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _keygen(path: Path, kind: str = "ed25519") -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(path)], check=True)


def _descendants(pid: int) -> List[int]:
    """Every process below `pid` (sshd's per-connection children call setsid,
    so a process group does not find them; their parent pid does)."""
    children: dict = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


class Sshd:
    """``/usr/sbin/sshd -D -e`` on 127.0.0.1:<free port> in a temp dir, keys made
    with ssh-keygen; ``known_hosts`` trusts exactly its host key."""

    def __init__(self, extra_config: str = "") -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="devkit-sshd.py-"))
        self.port = free_port()
        self.bastion = f"root@127.0.0.1:{self.port}"
        self.host_key = self.dir / "host"
        self.user_key = self.dir / "user"
        self.other_key = self.dir / "other"  # a key sshd does not accept
        self.known_hosts = self.dir / "known_hosts"
        self.empty_known_hosts = self.dir / "known_hosts.empty"
        self.log = self.dir / "sshd.log"
        for key in (self.host_key, self.user_key, self.other_key):
            _keygen(key)
        shutil.copy(f"{self.user_key}.pub", self.dir / "authorized_keys")
        host_pub = (self.dir / "host.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.empty_known_hosts.write_text("")
        fp = subprocess.run(["ssh-keygen", "-l", "-E", "sha256", "-f", f"{self.host_key}.pub"],
                            check=True, capture_output=True, text=True).stdout.split()
        self.host_fingerprint = fp[1]  # "SHA256:..."
        (self.dir / "sshd_config").write_text(f"""\
Port {self.port}
ListenAddress 127.0.0.1
HostKey {self.host_key}
PidFile {self.dir}/sshd.pid
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile {self.dir}/authorized_keys
StrictModes no
AllowTcpForwarding yes
GatewayPorts no
PermitRootLogin yes
UsePAM no
MaxStartups 200:30:400
MaxSessions 200
LogLevel ERROR
{extra_config}
""")
        os.makedirs("/run/sshd", exist_ok=True)  # sshd's privilege separation dir
        self.proc: Optional[subprocess.Popen] = None
        self.start()

    def start(self) -> None:
        pidfile = self.dir / "sshd.pid"
        if pidfile.exists():
            pidfile.unlink()
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(self.dir / "sshd_config")],
                                         stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while not pidfile.exists():  # written after it binds
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"sshd did not start: {self.log.read_text()}")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop the listener and every connection it serves."""
        if self.proc is None:
            return
        victims = _descendants(self.proc.pid)
        self.proc.terminate()
        for pid in victims:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        self.proc.wait(timeout=10)
        self.proc = None

    def connections(self) -> int:
        """sshd processes serving a connection right now."""
        return 0 if self.proc is None else len(_descendants(self.proc.pid))

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def tunnel_args(self) -> dict:
        return dict(identity_file=str(self.user_key), known_hosts_file=str(self.known_hosts),
                    use_agent=False)


class Dnsmasq:
    """A real dnsmasq on 127.0.0.1:<free port> as the cluster DNS: every
    ``*.svc.cluster.local`` is 127.0.0.2, any other ``*.cluster.local`` does not
    exist (NXDOMAIN). It forwards nothing (``--no-resolv``): no query ever
    leaves the machine."""

    def __init__(self) -> None:
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                ["dnsmasq", "--no-daemon", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
                 "--listen-address=127.0.0.1", "--bind-interfaces", f"--port={self.port}",
                 "--address=/svc.cluster.local/127.0.0.2", "--local=/cluster.local/",
                 "--local-ttl=30", "--user=root", "--pid-file="],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if self._wait_ready():
                return
            self.close()
        raise RuntimeError("dnsmasq did not start")

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _wait_ready(self) -> bool:
        """True once it answers a query over UDP; False if it exited (port taken)."""
        query = (b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
                 b"\x05ready\x05check\x00\x00\x01\x00\x01")
        deadline = time.monotonic() + 10
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.settimeout(0.1)
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    s.sendto(query, ("127.0.0.1", self.port))
                    if s.recv(512)[:2] == b"\x12\x34":
                        return True
                except OSError:
                    pass
        return False

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()


class Etcd:
    """A real etcd (Debian's etcd-server, 3.4) on 127.0.0.1:<free port>, its
    data in a temp dir; ready once ``etcdctl endpoint health`` says so.
    `port` pins the client port (to start a registry where a test expected
    none). ``stop()``/``start()`` keep the data; ``close()`` removes it all."""

    def __init__(self, port: Optional[int] = None) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="devkit-etcd.py-"))
        self.log = self.dir / "etcd.log"
        self.proc: Optional[subprocess.Popen] = None
        for _ in range(1 if port else 5):
            self.port = port or free_port()
            self.peer_port = free_port()
            shutil.rmtree(self.dir / "data", ignore_errors=True)
            try:
                self.start()
                return
            except BaseException as e:
                self.stop()
                if not isinstance(e, RuntimeError):
                    shutil.rmtree(self.dir, ignore_errors=True)
                    raise
        log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
        shutil.rmtree(self.dir, ignore_errors=True)
        raise RuntimeError(f"etcd did not start: {log}")

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The registry URL for libdevkit."""
        return f"etcd://127.0.0.1:{self.port}"

    def start(self) -> None:
        client = f"http://127.0.0.1:{self.port}"
        peer = f"http://127.0.0.1:{self.peer_port}"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                ["etcd", "--name=default", f"--data-dir={self.dir / 'data'}",
                 f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
                 f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
                 f"--initial-cluster=default={peer}", "--initial-cluster-state=new",
                 "--logger=zap", "--log-level=warn", "--log-outputs=stderr"],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break  # the port was taken, say
            try:
                health = subprocess.run(["etcdctl", f"--endpoints={self.endpoint}",
                                         "--command-timeout=2s", "endpoint", "health"],
                                        env=self._env(), capture_output=True, timeout=20)
                if health.returncode == 0:
                    return
            except subprocess.TimeoutExpired:
                pass
            time.sleep(0.1)
        raise RuntimeError("etcd is not healthy")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    @staticmethod
    def _env() -> Dict[str, str]:
        return {**os.environ, "ETCDCTL_API": "3"}

    def etcdctl(self, *args: str) -> str:
        out = subprocess.run(["etcdctl", f"--endpoints={self.endpoint}", *args], env=self._env(),
                             capture_output=True, text=True, timeout=30)
        if out.returncode != 0:
            raise RuntimeError(f"etcdctl {' '.join(args)}: {out.stderr}")
        return out.stdout

    def get_prefix(self, prefix: str) -> Dict[str, str]:
        """``etcdctl get --prefix`` as {key: value} (read as JSON: keys and values
        are base64 there, so nothing is lost to line splitting)."""
        answer = json.loads(self.etcdctl("get", "--prefix", prefix, "-w", "json"))
        return {base64.b64decode(kv["key"]).decode(): base64.b64decode(kv.get("value", "")).decode()
                for kv in answer.get("kvs", [])}


class K8sMock:
    """The Kubernetes API server of the tests: fabric8's kubernetes-server-mock
    in CRUD mode behind the small front end of tests/fixtures/k8s-mock (built
    by scripts/build_fixtures.sh), started as tests/fixtures/k8s_fixture.c
    starts it: the same JVM flags and class-data archive, plain HTTP on
    127.0.0.1 and a port the server picks and writes to a file (no race for a
    free port), and kubeconfigs written as kubectl writes them.

    Anonymous requests are allowed unless `token` is given; then only
    "Authorization: Bearer <token>" is (a wrong or missing one gets 401).

    The mock has no scheduler, controller or kubelet: a Deployment makes no
    Pod, a Pod stays Pending until a test writes its status through the status
    subresource (``set_pod_status``, or a PATCH to .../pods/NAME/status), and
    only ``add_event`` makes Events. Setup requests go through /__fixture/
    (never authenticated, counted or forbidden)."""

    NAMESPACE = "dev"                  # the kubeconfig's first context's namespace
    CONTEXT = "devkit-mock"            # its (current) context, cluster and user
    OTHER_CONTEXT = "devkit-mock-other"
    OTHER_NAMESPACE = "other"
    USER = "devkit-test"
    JAVA_FLAGS = ["-Xmx128m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-XX:-UsePerfData",
                  "-XX:+ExitOnOutOfMemoryError", "-Dvertx.disableFileCPResolving=true"]

    def __init__(self, token: Optional[str] = None, forbid: Tuple[str, ...] = (),
                 delete_grace_ms: int = 0) -> None:
        fixtures = self.fixtures_dir()
        jar = fixtures / "k8s-mock" / "k8s-mock.jar"
        jsa = fixtures / "k8s-mock" / "app.jsa"
        self.token = token
        self.dir = Path(tempfile.mkdtemp(prefix="devkit-k8s.py-"))
        self.log = self.dir / "k8s-mock.log"
        port_file = self.dir / "port"
        argv = ["java", *self.JAVA_FLAGS, f"-Djava.io.tmpdir={self.dir}"]
        if jsa.is_file():
            argv.append(f"-XX:SharedArchiveFile={jsa}")
        argv += ["-jar", str(jar), "--port=0", f"--port-file={port_file}", "--quiet"]
        if token:
            argv.append(f"--token={token}")
        argv += [f"--forbid={rule}" for rule in forbid]
        if delete_grace_ms:
            argv.append(f"--delete-grace-ms={delete_grace_ms}")
        with open(self.log, "ab") as log:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + 60  # as FX_K8S_START_TIMEOUT_MS: a busy CI machine
            while not (port_file.exists() and port_file.read_text().strip()):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Kubernetes API mock did not start: " + self._log_tail())
                time.sleep(0.02)
            self.port = int(port_file.read_text().strip())
            self.url = f"http://127.0.0.1:{self.port}"
            while self._control("GET", "/__fixture/health", quiet=True)[0] != 200:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the Kubernetes API mock does not answer: " +
                                       self._log_tail())
                time.sleep(0.05)
            self.kubeconfig = self._write_kubeconfig("kubeconfig", two_contexts=False)
            self.kubeconfig_two_contexts = self._write_kubeconfig("kubeconfig-two-contexts",
                                                                  two_contexts=True)
        except BaseException:
            self.close()
            raise

    @staticmethod
    def fixtures_dir() -> Path:
        """Where scripts/build_fixtures.sh put the jar, looked up as
        k8s_fixture.c does; built there (with Maven) if it is nowhere."""
        candidates = [os.environ.get("DEVKIT_FIXTURES_DIR"),
                      os.environ.get("DEVKIT_BUILD_DIR") and os.environ["DEVKIT_BUILD_DIR"] +
                      "/fixtures",
                      os.environ.get("DEVKIT_SOURCE_DIR") and os.environ["DEVKIT_SOURCE_DIR"] +
                      "/build/fixtures",
                      str(ROOT / "build" / "fixtures")]
        for c in candidates:
            if c and (Path(c) / "k8s-mock" / "k8s-mock.jar").is_file():
                return Path(c)
        out = ROOT / "build" / "fixtures"
        build = subprocess.run(["bash", str(ROOT / "tests/fixtures/k8s-mock/build.sh"), str(out)],
                               capture_output=True, text=True)
        if build.returncode != 0 or not (out / "k8s-mock" / "k8s-mock.jar").is_file():
            raise RuntimeError("the Kubernetes API mock is not built and building it failed "
                               f"(run scripts/build_fixtures.sh): {build.stderr[-2000:]}")
        return out

    def _log_tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def _write_kubeconfig(self, name: str, two_contexts: bool) -> Path:
        user = f"\n    token: {self.token}" if self.token else " {}"
        other = (f"- name: {self.OTHER_CONTEXT}\n  context:\n    cluster: {self.CONTEXT}\n"
                 f"    user: {self.USER}\n    namespace: {self.OTHER_NAMESPACE}\n"
                 if two_contexts else "")
        path = self.dir / name
        path.write_text(
            "apiVersion: v1\nkind: Config\n"
            f"clusters:\n- name: {self.CONTEXT}\n  cluster:\n    server: {self.url}\n"
            f"users:\n- name: {self.USER}\n  user:{user}\n"
            f"contexts:\n- name: {self.CONTEXT}\n  context:\n    cluster: {self.CONTEXT}\n"
            f"    user: {self.USER}\n    namespace: {self.NAMESPACE}\n{other}"
            f"current-context: {self.CONTEXT}\npreferences: {{}}\n")
        return path

    # -- requests ------------------------------------------------------------
    _opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    def _control(self, method: str, path: str, body: Any = None,
                 content_type: str = "application/json", quiet: bool = False) -> Tuple[int, str]:
        data = None
        if body is not None:
            data = (body if isinstance(body, str) else json.dumps(body)).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", content_type)
        try:
            with self._opener.open(req, timeout=15) as answer:
                return answer.status, answer.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
        except OSError:
            if quiet:
                return -1, ""
            raise

    def _ok(self, method: str, path: str, body: Any = None,
            content_type: str = "application/json") -> str:
        status, text = self._control(method, path, body, content_type)
        if not 200 <= status < 300:
            raise RuntimeError(f"k8s mock: {method} {path} -> {status}: {text}")
        return text

    def admin(self, method: str, path: str, body: Any = None,
              content_type: str = "application/json") -> Tuple[int, Any]:
        """A request as the cluster's own components make it (/__fixture/api):
        the status and the body parsed as JSON (None if it is not)."""
        status, text = self._control(method, "/__fixture/api" + path, body, content_type)
        try:
            return status, json.loads(text)
        except ValueError:
            return status, None

    def apply(self, manifest: str) -> None:
        """Create objects as test setup (status kept): YAML or JSON text, or the
        path of a file holding it. Objects without a namespace go to "dev"."""
        if "\n" not in manifest and os.path.isfile(manifest):
            content_type = "application/json" if manifest.endswith(".json") else \
                "application/yaml"
            manifest = Path(manifest).read_text()
        else:
            content_type = "application/json" if manifest.lstrip()[:1] in "{[" else \
                "application/yaml"
        self._ok("POST", f"/__fixture/apply?namespace={self.NAMESPACE}", manifest, content_type)

    def set_pod_status(self, namespace: str, name: str, status: Dict[str, Any]) -> None:
        """Play the scheduler and the kubelet: merge `status` into the Pod's
        status through its status subresource."""
        ns, pod = urllib.parse.quote(namespace, safe=""), urllib.parse.quote(name, safe="")
        self._ok("PATCH", f"/__fixture/api/api/v1/namespaces/{ns}/pods/{pod}/status",
                 {"status": status}, "application/merge-patch+json")

    NODE = "devkit-node-1"             # where set_pod_running schedules Pods

    def set_pod_running(self, namespace: str, name: str) -> None:
        """Play the scheduler and the kubelet as fx_k8s_set_pod_running does:
        spec.nodeName when it has none, phase Running, hostIP and podIP
        127.0.0.1 (the Pod's network is this machine's loopback), the
        conditions of a ready Pod and a running container status for every
        container of its spec. exec, attach and port-forward then work."""
        ns, pod = urllib.parse.quote(namespace, safe=""), urllib.parse.quote(name, safe="")
        path = f"/__fixture/api/api/v1/namespaces/{ns}/pods/{pod}"
        spec = json.loads(self._ok("GET", path))["spec"]
        if not spec.get("nodeName"):
            self._ok("PATCH", path, {"spec": {"nodeName": self.NODE}},
                     "application/merge-patch+json")
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        statuses = [{"name": c["name"], "ready": True, "restartCount": 0, "started": True,
                     "image": c.get("image", ""), "imageID": "", "lastState": {},
                     "containerID": f"containerd://{i + 1:016x}{os.getpid():016x}",
                     "state": {"running": {"startedAt": now}}}
                    for i, c in enumerate(spec.get("containers", []))]
        self.set_pod_status(namespace, name, {
            "phase": "Running", "hostIP": "127.0.0.1", "podIP": "127.0.0.1",
            "podIPs": [{"ip": "127.0.0.1"}], "startTime": now,
            "conditions": [{"type": t, "status": "True"} for t in
                           ("PodReadyToStartContainers", "Initialized", "Ready",
                            "ContainersReady", "PodScheduled")],
            "containerStatuses": statuses})

    def pod_dir(self, namespace: str, name: str, container: str) -> Path:
        """A container's sandbox directory (made if missing): exec and attach
        run there (cwd and HOME), on this machine, as fx_k8s_pod_dir says."""
        path = Path(self._ok("GET", "/__fixture/pods-dir").strip()) / namespace / name / container
        path.mkdir(parents=True, exist_ok=True)
        return path

    def stream_sessions(self) -> List[Dict[str, Any]]:
        """The exec/attach/portforward sessions seen, oldest first: {"kind",
        "pod", "container", "protocol", "command", "stdin", "stdout",
        "stderr", "tty", "resizes", "stdinClosed", "exitCode", ...}."""
        return json.loads(self._ok("GET", "/__fixture/streams"))["items"]

    def add_event(self, namespace: str, kind: str, name: str, reason: str, message: str,
                  type_: str = "Normal") -> None:
        self._ok("POST", "/__fixture/event", {"namespace": namespace, "kind": kind, "name": name,
                                              "reason": reason, "message": message,
                                              "type": type_})

    def forbid(self, rule: Optional[str]) -> None:
        """Answer 403 to "VERB:RESOURCE[:NAMESPACE]"; None clears every rule."""
        if rule is None:
            self._ok("DELETE", "/__fixture/forbid")
        else:
            self._ok("POST", "/__fixture/forbid?rule=" + urllib.parse.quote(rule, safe=""))

    def requests(self) -> List[Dict[str, Any]]:
        """The API requests seen since the start or the last reset:
        [{"method", "path", "code", "user"}]."""
        return json.loads(self._ok("GET", "/__fixture/requests"))["items"]

    def count_requests(self, method: Optional[str] = None, path_part: Optional[str] = None) -> int:
        return sum(1 for r in self.requests()
                   if (method is None or r.get("method") == method) and
                   (path_part is None or path_part in r.get("path", "")))

    def reset(self) -> None:
        """Empty the store, drop faults and rules, clear the request log."""
        self._ok("POST", "/__fixture/reset")

    def close(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=10)
            self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)


class ReplicaSandbox:
    """A replica Pod in the K8sMock whose container runs the real keep-alive
    supervisor: the Python twin of tests/fixtures/replica_sandbox.c.

    The mock runs exec commands on this machine in the container's sandbox
    directory but does not run a container's own command, so this starts the
    supervisor itself, in that directory, with DEVKIT_DIR=<sandbox>/devkit
    (also in the container's env, so exec sessions find
    ${DEVKIT_DIR}/bin/devkit-app as they would find /devkit/bin/devkit-app in
    a real container). The script is the library's own: the container
    command that ``Kubernetes.build_replica(keep_alive=True)`` makes (with
    Kubernetes' ``$$`` escapes undone, as the kubelet undoes them). The app
    is ``sh -c APP_COMMAND`` run from the sandbox directory."""

    def __init__(self, mock: K8sMock, k8s: Any, pod: str, app_command: str,
                 container: str = "app", namespace: str = K8sMock.NAMESPACE,
                 extra_containers: Optional[List[Dict[str, Any]]] = None) -> None:
        self.mock, self.pod, self.container, self.namespace = mock, pod, container, namespace
        pods_dir = Path(mock._ok("GET", "/__fixture/pods-dir").strip())
        self.dir = pods_dir / namespace / pod / container
        self.devkit_dir = self.dir / "devkit"
        self.app_log = self.dir / "app.log"
        mock.apply(json.dumps({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": pod, "namespace": namespace,
                         "labels": {"devkit.io/replica": "true"}},
            "spec": {"containers": [{"name": container, "image": "app:dev",
                                     "env": [{"name": "DEVKIT_DIR",
                                              "value": str(self.devkit_dir)}]}]
                     + list(extra_containers or [])}}))
        mock.set_pod_running(namespace, pod)
        assert mock.pod_dir(namespace, pod, container) == self.dir
        built = k8s.build_replica(pod=pod, namespace=namespace, container=container,
                                  keep_alive=True, command="true")
        command = next(c for c in built["spec"]["containers"] if c["name"] == container)["command"]
        assert command[:2] == ["/bin/sh", "-c"] and command[3] == "devkit-keepalive", command
        script = command[2].replace("$$", "$")
        env = {"DEVKIT_DIR": str(self.devkit_dir), "HOME": str(self.dir),
               "PATH": os.environ.get("PATH", "/usr/bin:/bin")}
        self.log = self.dir.parent / f"{container}.keepalive.log"
        with open(self.log, "ab") as log:
            self.proc: Optional[subprocess.Popen] = subprocess.Popen(
                ["/bin/sh", "-c", script, "devkit-keepalive", str(self.app_log),
                 "/bin/sh", "-c", f"cd '{self.dir}' && {app_command}"],
                cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        deadline = time.monotonic() + 10
        while not self.state().startswith("running"):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                raise RuntimeError("the keep-alive did not start the app: " +
                                   self.log.read_text(errors="replace")[-2000:])
            time.sleep(0.05)

    def state(self) -> str:
        """The supervisor's state line ("running pid 42 since ..."), or ""."""
        try:
            return (self.devkit_dir / "run" / "state").read_text().strip()
        except OSError:
            return ""

    def close(self) -> None:
        """Stop the supervisor as the kubelet's SIGTERM does (it stops the app),
        then anything left in its session."""
        if self.proc is None:
            return
        words = self.state().split()
        app = int(words[2]) if words[:2] == ["running", "pid"] and len(words) > 2 and \
            words[2].isdigit() else 0
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        # The app runs in a session of its own (setsid): normally stopped by the
        # supervisor, killed here if the supervisor could not.
        for group in [self.proc.pid] + ([app] if app else []):
            for pid in _session_members(group):
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        self.proc = None


def _session_members(sid: int) -> List[int]:
    """Processes of session `sid` (the supervisor's, left behind by a kill)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            if int(fields[3]) == sid:  # after ")": state ppid pgrp session
                found.append(int(entry))
        except (OSError, IndexError, ValueError):
            continue
    return found


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        body = f"hello from {self.path}\n".encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class HttpOrigin:
    """An HTTP server on 127.0.0.1 that answers "hello from <path>"."""

    def __init__(self) -> None:
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class SilentServer:
    """Accepts TCP connections and then says nothing (or `banner`, then nothing):
    an SSH server that never answers, or one that speaks another protocol."""

    def __init__(self, banner: bytes = b"") -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.banner = banner
        self.conns: List[socket.socket] = []
        self._stop = False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            if self.banner:
                conn.sendall(self.banner)
            self.conns.append(conn)

    def close(self) -> None:
        self._stop = True
        self.thread.join()
        for c in self.conns:
            c.close()
        self.sock.close()


def socks5_get(proxy_port: int, host: str, port: int, path: str = "/") -> bytes:
    """A minimal SOCKS5 client (RFC 1928, no auth, domain name address) that
    sends one HTTP/1.0 GET and returns the raw response."""
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as s:
        s.sendall(b"\x05\x01\x00")
        assert s.recv(2) == b"\x05\x00"
        name = host.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(name)]) + name + port.to_bytes(2, "big"))
        reply = _recv_exact(s, 4)
        assert reply[1] == 0, f"SOCKS5 reply {reply[1]}"
        skip = {1: 4, 4: 16}.get(reply[3])
        if skip is None:
            skip = _recv_exact(s, 1)[0]
        _recv_exact(s, skip + 2)
        s.sendall(f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                return b"".join(chunks)
            chunks.append(data)


def _recv_exact(s: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        data = s.recv(n - len(buf))
        if not data:
            raise ConnectionError("proxy closed the connection")
        buf += data
    return buf


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
