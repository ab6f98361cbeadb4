# SPDX-License-Identifier: Apache-2.0
"""Tunnels and forwards against a real sshd, driven by real clients."""
from __future__ import annotations

import socket
import threading
import urllib.error
import urllib.request

import pytest

import devkit
from fixtures import free_port, socks5_get


def http_proxy_get(proxy_port: int, url: str) -> bytes:
    opener = urllib.request.build_opener(
        urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy_port}"}))
    with opener.open(url, timeout=15) as response:
        return response.read()


def test_open_describe_state(tunnel, sshd):
    assert tunnel.state == devkit.TunnelState.UP
    info = tunnel.describe()
    assert info["host_key"] == sshd.host_fingerprint
    assert info["user"] == "root" and info["state"] == "up"
    assert tunnel.id > 0
    assert tunnel.stats().state == devkit.TunnelState.UP


def test_dynamic_forward_http_proxy_with_urllib(tunnel, origin):
    proxy = tunnel.dynamic_forward()
    assert proxy.kind == devkit.ForwardKind.DYNAMIC and proxy.address == "127.0.0.1"
    assert http_proxy_get(proxy.port, f"http://127.0.0.1:{origin.port}/a") == b"hello from /a\n"
    # The name is resolved by the bastion, not here.
    assert http_proxy_get(proxy.port, f"http://localhost:{origin.port}/b") == b"hello from /b\n"
    stats = proxy.stats()
    assert stats.channels_total >= 2 and stats.bytes_in > 0 and stats.bytes_out > 0


def test_dynamic_forward_socks5(tunnel, origin):
    with tunnel.dynamic_forward() as proxy:
        reply = socks5_get(proxy.port, "localhost", origin.port, "/socks")
        assert reply.startswith(b"HTTP/1.1 200") and reply.endswith(b"hello from /socks\n")
        assert proxy.stats().channels_total == 1


def test_dynamic_forward_with_proxy_auth(tunnel, origin):
    proxy = tunnel.dynamic_forward(proxy_username="u", proxy_password="p4ss")
    with pytest.raises(urllib.error.HTTPError) as info:
        http_proxy_get(proxy.port, f"http://127.0.0.1:{origin.port}/")
    assert info.value.code == 407
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(
        {"http": f"http://u:p4ss@127.0.0.1:{proxy.port}"}))
    with opener.open(f"http://127.0.0.1:{origin.port}/auth", timeout=15) as response:
        assert response.read() == b"hello from /auth\n"


def test_local_forward(tunnel, origin):
    fwd = tunnel.local_forward("127.0.0.1", origin.port)
    assert fwd.kind == devkit.ForwardKind.LOCAL and fwd.port > 0
    with urllib.request.urlopen(f"http://127.0.0.1:{fwd.port}/local", timeout=15) as r:
        assert r.read() == b"hello from /local\n"
    assert fwd.stats().channels_total == 1


def test_remote_forward(tunnel, origin):
    port = free_port()
    fwd = tunnel.remote_forward("127.0.0.1", origin.port, bind_port=port)
    assert fwd.kind == devkit.ForwardKind.REMOTE and fwd.port == port
    # sshd listens on the bastion (this machine) and sends connections back.
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/remote", timeout=15) as r:
        assert r.read() == b"hello from /remote\n"


def test_events_iterator(sshd):
    with devkit.Context() as ctx:
        with devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args()) as t:
            fwd = t.dynamic_forward()
            events = list(ctx.events(timeout=0.3))
        assert events[0].type == devkit.EventType.TUNNEL_STATE
        assert events[0].state == devkit.TunnelState.UP and events[0].tunnel_id == t.id
        ready = [e for e in events if e.type == devkit.EventType.FORWARD_READY]
        assert ready and ready[0].forward_id == fwd.id and ready[0].port > 0
        closed = ctx.poll(2.0)
        assert closed is not None and closed.state == devkit.TunnelState.CLOSED
        assert "closed" in str(closed)


def test_listener_runs_on_a_python_thread(sshd):
    seen, threads = [], set()
    got_up = threading.Event()

    def listener(event: devkit.Event) -> None:
        threads.add(threading.current_thread().name)
        seen.append(event)
        if event.state == devkit.TunnelState.UP:
            got_up.set()

    with devkit.Context() as ctx:
        ctx.add_listener(listener)
        ctx.add_listener(lambda e: 1 / 0)  # a broken listener does not stop the others
        with pytest.raises(RuntimeError):
            ctx.poll()  # the listener thread owns the queue now
        with devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args()):
            assert got_up.wait(5)
    assert threads == {"devkit-events"}
    assert any(e.state == devkit.TunnelState.UP for e in seen)


def test_event_fd_is_readable_when_events_wait(sshd):
    import select
    with devkit.Context() as ctx:
        with devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args()):
            r, _, _ = select.select([ctx], [], [], 5)
            assert r == [ctx]
            assert ctx.poll(0) is not None


def test_blocking_calls_release_the_gil(sshd):
    """While one thread waits in C for a bastion that never answers, another runs."""
    from fixtures import SilentServer
    silent = SilentServer()
    ticks = 0
    stop = threading.Event()

    def count() -> None:
        nonlocal ticks
        while not stop.is_set():
            ticks += 1

    counter = threading.Thread(target=count)
    counter.start()
    try:
        with pytest.raises(devkit.TimeoutError):
            devkit.Tunnel(f"root@127.0.0.1:{silent.port}", connect_timeout_ms=700,
                          **sshd.tunnel_args())
    finally:
        stop.set()
        counter.join()
        silent.close()
    assert ticks > 10000


def test_tunnel_without_explicit_context_owns_one(sshd):
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    ctx = t.context
    t.close()
    assert ctx.closed


def test_forward_on_unreachable_target_fails_per_connection(tunnel):
    fwd = tunnel.local_forward("127.0.0.1", free_port())  # nothing listens there
    with socket.create_connection(("127.0.0.1", fwd.port), timeout=10) as s:
        s.settimeout(10)
        assert s.recv(1) == b""  # the bastion refused the channel; we get EOF
    assert fwd.stats().failures >= 1


def test_paths_expand_home(sshd, monkeypatch):
    monkeypatch.setenv("HOME", str(sshd.dir))
    with devkit.Tunnel(sshd.bastion, identity_file="~/user", known_hosts_file="~/known_hosts",
                       use_agent=False) as t:
        assert t.state == devkit.TunnelState.UP
