# SPDX-License-Identifier: Apache-2.0
"""Test servers on loopback: a real OpenSSH sshd as the bastion, an HTTP origin,
a real etcd as the service registry, and sockets that misbehave. The Python twin
of tests/fixtures/sshd_fixture.c and tests/fixtures/etcd_fixture.c."""
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
from pathlib import Path
from typing import Dict, List, Optional

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
