# SPDX-License-Identifier: Apache-2.0
"""Deterministic close, finalisers, parent/child order, threads, leaks."""
from __future__ import annotations

import gc
import os
import threading
import time
import urllib.request

import devkit
from fixtures import fd_count, rss_kib

# The leak checks run this many cycles; DEVKIT_LEAK_CYCLES lowers it for a quick run.
CYCLES = int(os.environ.get("DEVKIT_LEAK_CYCLES", "1000"))


def test_close_twice_everything(sshd):
    ctx = devkit.Context()
    t = devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args())
    f = t.dynamic_forward()
    f.close()
    f.close()
    t.close()
    t.close()
    ctx.close()
    ctx.close()
    assert f.closed and t.closed and ctx.closed


def test_closing_the_context_closes_its_tunnels_and_forwards(sshd):
    ctx = devkit.Context()
    t = devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args())
    f = t.dynamic_forward()
    ctx.close()
    assert t.closed and f.closed
    t.close()  # no double free
    f.close()


def test_forward_nobody_kept_keeps_working(sshd, origin):
    """As in C, a forward lives until it or its tunnel is closed."""
    with devkit.Tunnel(sshd.bastion, **sshd.tunnel_args()) as t:
        port = t.local_forward("127.0.0.1", origin.port).port
        gc.collect()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/kept", timeout=10) as r:
            assert r.read() == b"hello from /kept\n"


def test_garbage_collector_closes_what_was_dropped(sshd):
    gc.collect()
    before = fd_count()
    for _ in range(5):
        t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
        t.dynamic_forward()
        del t
        gc.collect()  # tunnel <-> context and tunnel <-> forward are cycles
    assert fd_count() == before
    deadline = time.monotonic() + 5
    while sshd.connections() and time.monotonic() < deadline:
        time.sleep(0.05)  # sshd notices the closed sessions
    assert sshd.connections() == 0


def test_dropping_the_parent_first_never_frees_it_first(sshd):
    """A forward keeps its tunnel and context alive, whatever the GC order."""
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    f = t.dynamic_forward()
    del t
    gc.collect()
    assert not f.closed and f.port > 0
    assert f.tunnel.state == devkit.TunnelState.UP
    f.tunnel.close()
    assert f.closed


def test_many_threads_share_one_tunnel(sshd, origin):
    errors = []
    with devkit.Tunnel(sshd.bastion, **sshd.tunnel_args()) as t:
        proxy = t.dynamic_forward()
        opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{proxy.port}"}))

        def work(n: int) -> None:
            try:
                for i in range(10):
                    with t.dynamic_forward() as mine:  # add/close forwards concurrently
                        assert mine.port > 0
                    with opener.open(f"http://127.0.0.1:{origin.port}/{n}/{i}", timeout=15) as r:
                        assert r.read() == f"hello from /{n}/{i}\n".encode()
                    t.stats()
            except Exception as e:  # collected for the main thread's assert
                errors.append(e)

        threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert proxy.stats().channels_total == 80
    assert errors == []


def test_close_races_with_use_from_other_threads(sshd):
    """Closing while other threads call in: each call works or raises ClosedError."""
    for _ in range(5):
        t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
        f = t.dynamic_forward()
        unexpected = []
        go = threading.Event()

        def hammer() -> None:
            go.wait()
            for _ in range(200):
                try:
                    f.stats()
                    t.stats()
                    with t.dynamic_forward():
                        pass
                except devkit.ClosedError:
                    pass
                except Exception as e:
                    unexpected.append(e)

        threads = [threading.Thread(target=hammer) for _ in range(4)]
        for th in threads:
            th.start()
        go.set()
        time.sleep(0.01)
        t.close()
        for th in threads:
            th.join()
        assert unexpected == [] and f.closed


def test_a_listener_may_close_its_context(sshd):
    ctx = devkit.Context()
    closed = threading.Event()

    def on_event(event: devkit.Event) -> None:
        if event.state == devkit.TunnelState.UP:
            ctx.close()  # from the listener thread itself
            closed.set()

    ctx.add_listener(on_event)
    devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args())
    assert closed.wait(5) and ctx.closed


def test_events_iteration_ends_when_the_context_closes():
    ctx = devkit.Context()
    done = threading.Event()

    def reader() -> None:
        for _ in ctx.events():  # no timeout: only close() ends it
            pass
        done.set()

    threading.Thread(target=reader, daemon=True).start()
    time.sleep(0.1)
    ctx.close()
    assert done.wait(2)


def _settle() -> tuple:
    gc.collect()
    return fd_count(), rss_kib()


def test_forward_cycles_do_not_leak(sshd, origin):
    with devkit.Tunnel(sshd.bastion, ctx=devkit.Context(event_queue_max=64),
                       **sshd.tunnel_args()) as t:
        count = 0

        def cycle() -> None:
            nonlocal count
            with t.local_forward("127.0.0.1", origin.port) as f:
                # Every 10th forward carries a request: sshd takes ~40 ms to pass on
                # the end of each connection (ssh -L too), 1000 of them would be slow.
                if count % 10 == 0:
                    with urllib.request.urlopen(f"http://127.0.0.1:{f.port}/", timeout=10) as r:
                        assert r.read() == b"hello from /\n"
                count += 1
            t.context.poll(0)

        for _ in range(100):  # warm up: caches, the event ring, the allocator
            cycle()
        fds, rss = _settle()
        for _ in range(CYCLES):
            cycle()
        fds2, rss2 = _settle()
    print(f"{CYCLES} forward cycles: fds {fds} -> {fds2}, RSS {rss} -> {rss2} KiB")
    assert fds2 == fds
    assert rss2 - rss < 2048, "more than 2 KiB per cycle would show as several MiB"


def test_tunnel_cycles_do_not_leak(sshd):
    ctx = devkit.Context(event_queue_max=64)

    def cycle() -> None:
        with devkit.Tunnel(sshd.bastion, ctx=ctx, **sshd.tunnel_args()) as t:
            t.dynamic_forward()
        while ctx.poll(0):
            pass

    try:
        for _ in range(50):
            cycle()
        fds, rss = _settle()
        started = time.monotonic()
        for _ in range(CYCLES):
            cycle()
        fds2, rss2 = _settle()
    finally:
        ctx.close()
    print(f"{CYCLES} tunnel cycles in {time.monotonic() - started:.1f}s: "
          f"fds {fds} -> {fds2}, RSS {rss} -> {rss2} KiB")
    assert fds2 == fds
    assert rss2 - rss < 2048


def test_context_cycles_do_not_leak_threads():
    before = threading.active_count()
    for _ in range(150):
        with devkit.Context() as ctx:
            ctx.add_listener(lambda e: None)
    assert threading.active_count() == before
