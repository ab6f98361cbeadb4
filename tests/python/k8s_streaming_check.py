#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drive the Kubernetes API test server's streaming endpoints with the
OFFICIAL Kubernetes Python client (`kubernetes` on PyPI), to show that the
fixture speaks the protocols as a real API server does: if the fixture
framed a channel, negotiated a subprotocol or worded a Status differently,
the client's own code (kubernetes.stream.ws_client) would fail here.

Run by tests/fixtures_selftest/test_k8s_streaming.c against a Pod it made
and marked Running (container spec with stdin: true for attach):

    k8s_streaming_check.py --kubeconfig F --namespace NS --pod P --container C
        --pod-dir DIR [--pending-pod P2]

Prints one line per check, "ok NAME: detail" or "FAIL NAME: detail", then a
summary line; exits 0 only if every check passed (2 if the client is not
installed).
"""
import argparse
import io
import json
import os
import re
import socket
import ssl
import sys
import tarfile
import threading
import time
import traceback
import urllib.parse
import urllib.request

try:
    from kubernetes import client, config
    from kubernetes.client.rest import ApiException
    from kubernetes.stream import portforward, stream
    from kubernetes.stream.ws_client import V4_CHANNEL_PROTOCOL, V5_CHANNEL_PROTOCOL
except ImportError as e:  # pragma: no cover - setup.sh installs it
    print("k8s_streaming_check: the kubernetes client is not installed (%s): run scripts/setup.sh" % e)
    sys.exit(2)

TIMESTAMPED = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z (.*)$")

results = []


def check(name):
    def wrap(fn):
        def run(*args):
            try:
                detail = fn(*args)
                results.append((name, True, detail or ""))
            except Exception as e:  # report and go on with the other checks
                tb = traceback.format_exc().strip().splitlines()[-3:]
                results.append((name, False, "%r | %s" % (e, " / ".join(tb))))
            ok, d = results[-1][1], results[-1][2]
            print("%s %s: %s" % ("ok" if ok else "FAIL", name, d), flush=True)
        return run
    return wrap


def expect(cond, what):
    if not cond:
        raise AssertionError(what)


class Ctx:
    def __init__(self, a):
        config.load_kube_config(config_file=a.kubeconfig)
        self.conf = client.Configuration.get_default_copy()
        self.api = client.CoreV1Api()
        self.ns, self.pod, self.container = a.namespace, a.pod, a.container
        self.pod_dir = a.pod_dir
        self.pending = a.pending_pod

    def control(self, method, path, body=b""):
        """The fixture's control channel (no authentication), for appends."""
        ctx = None
        if self.conf.host.startswith("https"):
            ctx = ssl.create_default_context(cafile=self.conf.ssl_ca_cert)
        req = urllib.request.Request(self.conf.host + path, data=body, method=method)
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ctx))
        with opener.open(req, timeout=10) as r:
            return r.read()

    def exec(self, command, **kw):
        args = dict(command=command, container=self.container, stderr=True, stdin=False,
                    stdout=True, tty=False, _preload_content=False)
        args.update(kw)
        return stream(self.api.connect_get_namespaced_pod_exec, self.pod, self.ns, **args)


@check("exec_preload")
def exec_preload(c):
    out = stream(c.api.connect_get_namespaced_pod_exec, c.pod, c.ns, container=c.container,
                 command=["sh", "-c", "echo hello; echo oops >&2"], stderr=True, stdin=False,
                 stdout=True, tty=False)
    expect("hello\n" in out and "oops\n" in out, "stdout+stderr: %r" % out)
    return repr(out)


@check("exec_channels_exit_code_v5")
def exec_channels(c):
    r = c.exec(["sh", "-c", "echo out; echo err >&2; exit 3"])
    r.run_forever(timeout=20)
    expect(r.subprotocol == V5_CHANNEL_PROTOCOL, "negotiated %r" % r.subprotocol)
    out, err = r.read_stdout(), r.read_stderr()
    expect(out == "out\n", "stdout %r" % out)
    expect(err == "err\n", "stderr %r" % err)
    rc = r.returncode
    expect(rc == 3, "returncode %r" % rc)
    return "subprotocol %s, returncode %d" % (r.subprotocol, rc)


@check("exec_success_status")
def exec_success(c):
    r = c.exec(["true"])
    r.run_forever(timeout=20)
    expect(r.returncode == 0, "returncode %r" % r.returncode)
    return "returncode 0"


@check("exec_v4_when_only_v4_offered")
def exec_v4(c):
    r = c.exec(["sh", "-c", "echo v4; exit 7"],
               _headers={"sec-websocket-protocol": V4_CHANNEL_PROTOCOL})
    r.run_forever(timeout=20)
    expect(r.subprotocol == V4_CHANNEL_PROTOCOL, "negotiated %r" % r.subprotocol)
    expect(r.read_stdout() == "v4\n", "stdout")
    expect(r.returncode == 7, "returncode %r" % r.returncode)
    return "subprotocol %s, returncode 7" % r.subprotocol


@check("exec_stdin_half_close_v5")
def exec_stdin(c):
    r = c.exec(["sh", "-c", "cat; echo done"], stdin=True)
    r.write_stdin("line one\nline two\n")
    r.close_channel(0)  # v5 close signal: cat sees EOF
    r.run_forever(timeout=20)
    out = r.read_stdout()
    expect(out == "line one\nline two\ndone\n", "stdout %r" % out)
    expect(r.returncode == 0, "returncode %r" % r.returncode)
    return repr(out)


@check("exec_tar_copy_into_sandbox")
def exec_tar(c):
    # kubectl cp's way in: a tar stream on the stdin of `tar xf -`.
    data = io.BytesIO()
    with tarfile.open(fileobj=data, mode="w") as tar:
        payload = b"copied by the official client\n"
        info = tarfile.TarInfo("copied/hello.txt")
        info.size = len(payload)
        tar.addfile(info, io.BytesIO(payload))
    r = c.exec(["tar", "xf", "-", "-C", "."], stdin=True, binary=True)
    r.write_stdin(data.getvalue())
    r.close_channel(0)
    r.run_forever(timeout=20)
    expect(r.returncode == 0, "tar returncode %r, stderr %r" % (r.returncode, r.read_stderr()))
    path = os.path.join(c.pod_dir, "copied", "hello.txt")
    with open(path, "rb") as f:
        expect(f.read() == payload, "file content")
    back = c.exec(["cat", "copied/hello.txt"])
    back.run_forever(timeout=20)
    got = back.read_stdout()
    expect(got == payload.decode(), "read back %r" % got)
    return path


@check("exec_missing_pod_404")
def exec_missing(c):
    try:
        stream(c.api.connect_get_namespaced_pod_exec, "no-such-pod", c.ns, command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False)
    except ApiException as e:
        expect("404" in str(e), "error %s" % e)
        return "ApiException: " + str(e.reason)[:80]
    raise AssertionError("no error")


@check("exec_pending_pod_refused")
def exec_pending(c):
    if not c.pending:
        return "skipped (no --pending-pod)"
    r = stream(c.api.connect_get_namespaced_pod_exec, c.pending, c.ns, command=["true"],
               stderr=True, stdin=False, stdout=True, tty=False, _preload_content=False)
    r.run_forever(timeout=20)
    status = json.loads(r.read_channel(3))
    expect(status["status"] == "Failure" and status["reason"] == "InternalError",
           "status %r" % status)
    expect('container not found ("app")' in status["message"], "message %r" % status["message"])
    return status["message"]


@check("attach_main_process")
def attach(c):
    r = stream(c.api.connect_get_namespaced_pod_attach, c.pod, c.ns, container=c.container,
               stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
    r.write_stdin("echo attached-$((40+2))\n")
    line = r.readline_stdout(timeout=10)
    r.close()
    expect(line == "attached-42", "line %r" % line)
    return line


@check("portforward_round_trip")
def port_forward(c):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    port = srv.getsockname()[1]

    def echo():
        conn, _ = srv.accept()
        with conn:
            while True:
                d = conn.recv(65536)
                if not d:
                    break
                conn.sendall(d.upper())

    threading.Thread(target=echo, daemon=True).start()
    pf = portforward(c.api.connect_get_namespaced_pod_portforward, c.pod, c.ns, ports=str(port))
    sock = pf.socket(port)
    sock.settimeout(10)
    sock.sendall(b"ping through the pod\n")
    got = b""
    while not got.endswith(b"\n"):
        got += sock.recv(1024)
    sock.close()
    srv.close()
    expect(got == b"PING THROUGH THE POD\n", "echo %r" % got)
    expect(pf.error(port) is None, "error %r" % pf.error(port))
    return "port %d: %r" % (port, got)


@check("portforward_refused_port_error")
def port_forward_refused(c):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    pf = portforward(c.api.connect_get_namespaced_pod_portforward, c.pod, c.ns, ports=str(port))
    sock = pf.socket(port)
    sock.settimeout(10)
    try:
        sock.recv(10)
    except OSError:
        pass
    deadline = time.time() + 10
    while pf.error(port) is None and time.time() < deadline:
        time.sleep(0.05)
    err = pf.error(port)
    expect(err and ("error forwarding port %d" % port) in err, "error %r" % err)
    return err[:90]


@check("log_follow_live_with_timestamps")
def log_follow(c):
    q = "namespace=%s&name=%s&container=%s" % tuple(urllib.parse.quote(x) for x in
                                                   (c.ns, c.pod, c.container))
    c.control("POST", "/__fixture/pod-log?" + q, b"before-1\nbefore-2\n")
    resp = c.api.read_namespaced_pod_log(c.pod, c.ns, container=c.container, follow=True,
                                         timestamps=True, tail_lines=1, _preload_content=False)
    lines = []
    done = threading.Event()

    def reader():
        buf = b""
        for chunk in resp.stream(1024, decode_content=False):
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                lines.append(line.decode())
                if len(lines) == 3:
                    done.set()
                    return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    time.sleep(0.3)
    c.control("POST", "/__fixture/pod-log?" + q, b"live-1\n")
    time.sleep(0.2)
    c.control("POST", "/__fixture/pod-log?" + q, b"live-2\n")
    expect(done.wait(10), "lines so far %r" % lines)
    resp.release_conn()
    texts = []
    for line in lines:
        m = TIMESTAMPED.match(line)
        expect(m, "no RFC3339Nano timestamp: %r" % line)
        texts.append(m.group(1))
    expect(texts == ["before-2", "live-1", "live-2"], "lines %r" % texts)
    return " | ".join(lines)


@check("log_previous_refused")
def log_previous(c):
    try:
        c.api.read_namespaced_pod_log(c.pod, c.ns, container=c.container, previous=True)
    except ApiException as e:
        body = json.loads(e.body)
        expect(e.status == 400 and body["reason"] == "BadRequest", "status %s" % e.status)
        want = 'previous terminated container "%s" in pod "%s" not found' % (c.container, c.pod)
        expect(body["message"] == want, "message %r" % body["message"])
        return body["message"]
    raise AssertionError("no error")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kubeconfig", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("--pod", required=True)
    p.add_argument("--container", required=True)
    p.add_argument("--pod-dir", required=True)
    p.add_argument("--pending-pod")
    a = p.parse_args()
    c = Ctx(a)
    for fn in (exec_preload, exec_channels, exec_success, exec_v4, exec_stdin, exec_tar,
               exec_missing, exec_pending, attach, port_forward, port_forward_refused,
               log_follow, log_previous):
        fn(c)
    failed = [r for r in results if not r[1]]
    print("k8s_streaming_check: %d of %d checks passed" % (len(results) - len(failed),
                                                           len(results)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
