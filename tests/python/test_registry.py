# SPDX-License-Identifier: Apache-2.0
"""Registry registration and expose, against real servers: a real etcd
(Debian's etcd-server, read back with etcdctl) as the registry, OpenSSH sshd
as the bastion, and a local HTTP server as the service that cloud callers
reach through the bastion's reverse forward."""
from __future__ import annotations

import gc
import inspect
import json
import os
import socket
import time
import urllib.request
import uuid
import weakref

import pytest

import devkit
from devkit import capi
from fixtures import Etcd, fd_count, free_port

PREFIX = "/micro/registry"
# Register/close cycles of the leak check; DEVKIT_LEAK_CYCLES lowers it for a quick run.
CYCLES = max(10, int(os.environ.get("DEVKIT_LEAK_CYCLES", "1000")) // 5)


def _service(name: str) -> str:
    """A service name of its own per test: the etcd is shared by the module."""
    return f"{name}-{uuid.uuid4().hex[:8]}"


def _eventually(check, timeout: float = 10.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not hold within {timeout} s")
        time.sleep(0.05)


def _entries(etcd: Etcd, service: str) -> dict:
    return etcd.get_prefix(f"{PREFIX}/{service}/")


def _registration_events(events, reg):
    return [e for e in events
            if e.type == devkit.EventType.REGISTRATION_STATE and e.object_id == reg.id]


# -- the surface ---------------------------------------------------------------

def test_options_start_from_the_c_defaults():
    o = capi.devkit_registration_options()
    assert (o.version, o.port, o.ttl_ms, o.heartbeat_ms, o.insecure, o.timeout_ms) == (
        capi.DEVKIT_REGISTRATION_OPTIONS_VERSION, 0, 0, 0, 0, 5000)
    assert o.registry is None and o.service is None and o.metadata is None
    e = capi.devkit_expose_options()
    assert (e.version, e.local_port, e.remote_port, e.registry_via_tunnel) == (
        capi.DEVKIT_EXPOSE_OPTIONS_VERSION, 0, 0, 1)
    assert e.local_host is None and e.advertise_host is None
    assert capi.devkit_registration_state_name(devkit.RegistrationState.REGISTERED) == "registered"
    assert devkit.EventType.REGISTRATION_STATE == 6


def test_the_api_is_typed():
    params = inspect.signature(devkit.Registration.__init__).parameters
    assert {"registry", "service", "address", "port", "metadata", "tag", "username", "password",
            "token", "ttl_ms", "heartbeat_ms", "protocol", "interface_name", "methods", "ca_file",
            "insecure", "connect_to", "timeout_ms"} <= set(params)
    params = inspect.signature(devkit.Tunnel.expose).parameters
    assert {"local_port", "local_host", "remote_port", "remote_bind_address", "advertise_host",
            "registry_via_tunnel", "registry", "service", "metadata", "tag"} <= set(params)
    assert "port" not in params and "address" not in params  # the expose fills them in
    assert inspect.signature(devkit.Registration.describe).return_annotation == "Dict[str, Any]"


# -- registering in a real etcd -------------------------------------------------

def test_register_shows_in_etcd_with_metadata_and_tag(etcd):
    svc = _service("orders")
    with devkit.Context() as ctx, devkit.Registration(
            ctx, registry=etcd.url, service=svc, address="10.1.2.3", port=8080,
            metadata={"zone": "eu-1", "note": "a=b c"}, tag="dev-alice") as reg:
        reg.wait(10_000)
        assert reg.state == devkit.RegistrationState.REGISTERED
        entries = _entries(etcd, svc)
        assert list(entries) == [f"{PREFIX}/{svc}/{svc}-10.1.2.3-8080"]
        value = json.loads(next(iter(entries.values())))
        assert value["name"] == svc
        assert value["metadata"] == {"zone": "eu-1", "note": "a=b c", "tag": "dev-alice"}
        [node] = value["nodes"]
        assert node["address"] == "10.1.2.3:8080"
        assert node["metadata"]["tag"] == "dev-alice" and node["metadata"]["zone"] == "eu-1"
        assert reg.id > 0 and reg.service == svc and reg.registry == etcd.url
        assert reg.context is ctx and reg.expose is None


def test_describe_is_a_dict_and_stats_count(etcd):
    svc = _service("described")
    with devkit.Context() as ctx:
        reg = ctx.register(registry=etcd.url, service=svc, address="10.1.2.4", port=9000,
                           metadata={"k": "v"}, tag="t1", ttl_ms=3000)
        reg.wait(10_000)
        info = reg.describe()
        assert isinstance(info, dict)
        assert (info["backend"], info["service"], info["address"], info["port"]) == (
            "etcd", svc, "10.1.2.4", 9000)
        assert (info["state"], info["tag"], info["metadata"]) == ("registered", "t1", {"k": "v"})
        assert info["id"] == reg.id and info["registry"] == etcd.url
        assert info["keys"] == [f"{PREFIX}/{svc}/{svc}-10.1.2.4-9000"]
        assert info["ttl_ms"] == 3000 and info["heartbeat_ms"] == 1000
        stats = reg.stats()
        assert isinstance(stats, devkit.RegistrationStats)
        assert (stats.registrations, stats.failures, stats.lost) == (1, 0, 0)
        # The lease is kept alive: after twice the TTL the entry is still there.
        time.sleep(2.5)
        assert _entries(etcd, svc)
        assert reg.stats().heartbeats >= 1
        assert reg.state == devkit.RegistrationState.REGISTERED


def test_events_carry_the_registration_id(etcd):
    svc = _service("events")
    with devkit.Context() as ctx:
        reg = devkit.Registration(ctx, registry=etcd.url, service=svc, address="10.1.2.5",
                                  port=8081)
        reg.wait(10_000)
        events = list(ctx.events(timeout=0.3))
        mine = _registration_events(events, reg)
        states = [e.state for e in mine]
        assert states[:2] == [devkit.RegistrationState.REGISTERING,
                              devkit.RegistrationState.REGISTERED], events
        ev = mine[1]
        assert isinstance(ev.state, devkit.RegistrationState)
        assert (ev.address, ev.port, ev.error, ev.level) == ("10.1.2.5", 8081, 0, None)
        assert svc in ev.message
        assert str(ev).startswith(f"registration-state registration={reg.id} registered")
        reg.close()
        assert not _entries(etcd, svc)
        last = _registration_events(list(ctx.events(timeout=0.3)), reg)
        assert [e.state for e in last] == [devkit.RegistrationState.DEREGISTERED]


def test_close_removes_the_key_and_is_idempotent(etcd):
    svc = _service("closing")
    with devkit.Context() as ctx:
        reg = devkit.Registration(ctx, registry=etcd.url, service=svc, address="10.1.2.6",
                                  port=8082)
        reg.wait(10_000)
        assert _entries(etcd, svc)
        reg.close()
        assert reg.closed and reg.close_error is None
        assert not _entries(etcd, svc)  # removed at once, not after the TTL
        reg.close()
        with pytest.raises(devkit.ClosedError):
            reg.state
        with pytest.raises(devkit.ClosedError):
            reg.wait(100)
        with pytest.raises(devkit.ClosedError):
            reg.describe()
        with pytest.raises(devkit.ClosedError):
            reg.stats()
        assert "closed" in repr(reg)


def test_closing_the_context_deregisters_first(etcd):
    svc = _service("ctxclose")
    seen = []
    ctx = devkit.Context()
    try:
        ctx.add_listener(seen.append)  # listeners see the DEREGISTERED of close()
        reg = devkit.Registration(ctx, registry=etcd.url, service=svc, address="10.1.2.7",
                                  port=8083)
        reg.wait(10_000)
    finally:
        ctx.close()
    assert reg.closed and ctx.closed
    assert not _entries(etcd, svc)
    assert devkit.RegistrationState.DEREGISTERED in [e.state for e in _registration_events(seen, reg)]
    reg.close()  # no double free


def test_a_dropped_registration_stays_until_its_context_closes(etcd):
    svc = _service("dropped")
    ctx = devkit.Context()
    try:
        ref = weakref.ref(devkit.Registration(ctx, registry=etcd.url, service=svc,
                                              address="10.1.2.8", port=8084))
        gc.collect()
        assert ref() is not None  # the context holds it, as in C
        ref().wait(10_000)
        assert _entries(etcd, svc)
    finally:
        ctx.close()
    assert not _entries(etcd, svc)


def test_a_registration_without_a_context_makes_its_own(etcd):
    svc = _service("ownctx")
    with devkit.Registration(None, registry=etcd.url, service=svc, address="10.1.2.9",
                             port=8085) as reg:
        reg.wait(10_000)
        ctx = reg.context
        assert not ctx.closed
    assert ctx.closed and not _entries(etcd, svc)


def test_register_close_cycles_leak_nothing(etcd):
    svc = _service("cycles")
    with devkit.Context() as ctx:
        def cycle(i: int) -> None:
            with devkit.Registration(ctx, registry=etcd.url, service=svc, address="10.1.9.9",
                                     port=1000 + i % 1000, metadata={"i": str(i)}) as reg:
                reg.wait(10_000)
                reg.describe()
        for i in range(10):  # warm up: curl's connection cache, the event queue
            cycle(i)
        list(ctx.events(timeout=0))
        gc.collect()
        before = fd_count()
        for i in range(CYCLES):
            cycle(i)
            if i % 100 == 0:
                list(ctx.events(timeout=0))
        list(ctx.events(timeout=0))
        gc.collect()
        assert fd_count() <= before + 2  # curl may hold a different pooled connection
        assert not ctx._registrations
    assert not _entries(etcd, svc)


def test_registry_down_at_start_then_up():
    """Nothing listens at first: registering is not an error, wait() says why
    (the connection error family) while the state is RETRYING; once etcd starts
    on that port, the entry appears by itself."""
    port = free_port()
    svc = _service("late")
    with devkit.Context() as ctx:
        reg = devkit.Registration(ctx, registry=f"etcd://127.0.0.1:{port}", service=svc,
                                  address="10.1.3.1", port=8086)
        t0 = time.monotonic()
        with pytest.raises(devkit.ConnectionRefusedError) as info:
            reg.wait(1500)
        assert 1.4 < time.monotonic() - t0 < 10  # waited for the timeout, not more
        assert isinstance(info.value, ConnectionRefusedError)  # the built-in too
        assert info.value.code == devkit.ErrorCode.ECONNREFUSED
        assert f"127.0.0.1:{port}" in str(info.value) or f"port {port}" in str(info.value)
        assert reg.state == devkit.RegistrationState.RETRYING
        retrying = [e for e in _registration_events(list(ctx.events(timeout=0)), reg)
                    if e.state == devkit.RegistrationState.RETRYING]
        assert retrying and retrying[0].error == devkit.ErrorCode.ECONNREFUSED
        assert reg.stats().failures >= 1
        assert reg.describe()["state"] == "retrying"
        etcd = Etcd(port=port)
        try:
            reg.wait(30_000)  # backoff: 0.5, 1, 2, 4 s ...
            assert _entries(etcd, svc)
            reg.close()
            assert not _entries(etcd, svc)
        finally:
            etcd.close()


def test_close_while_waiting_ends_the_wait():
    import threading
    with devkit.Context() as ctx:
        reg = devkit.Registration(ctx, registry=f"etcd://127.0.0.1:{free_port()}",
                                  service=_service("waiter"), address="10.1.3.2", port=8087)
        errors = []

        def waiter():
            try:
                reg.wait()  # no limit
            except devkit.Error as e:
                errors.append(e)
        t = threading.Thread(target=waiter)
        t.start()
        time.sleep(0.3)
        t0 = time.monotonic()
        reg.close()
        t.join(10)
        assert not t.is_alive() and time.monotonic() - t0 < 5
        assert len(errors) == 1 and isinstance(errors[0], devkit.ClosedError)


@pytest.mark.parametrize("bad,needle", [
    (dict(registry="foo://127.0.0.1:1"), "scheme"),
    (dict(port=0), "port 0"),
    (dict(port=70000), "70000"),
    (dict(service=""), "service"),
    (dict(address=""), "address"),
    (dict(protocol="smtp"), "smtp"),
    (dict(registry="etcd://127.0.0.1:1?format=zookeeperish"), "format"),
    (dict(metadata={"a=b": "c"}), "'a=b'"),
    (dict(metadata={"a\nb": "c"}), "metadata key"),
    (dict(metadata={"": "c"}), "metadata key"),
    (dict(metadata={"k": "line\nbreak"}), "line break"),
])
def test_bad_options_raise_the_invalid_argument_error(bad, needle):
    kw = dict(registry="etcd://127.0.0.1:1", service="s", address="10.0.0.1", port=1)
    kw.update(bad)
    with devkit.Context() as ctx:
        with pytest.raises(devkit.InvalidArgumentError) as info:
            devkit.Registration(ctx, **kw)
        assert isinstance(info.value, ValueError)
        assert info.value.code == devkit.ErrorCode.EINVAL
        assert needle in str(info.value)
        assert not ctx._registrations  # nothing left behind


def test_wrong_types_and_keywords():
    with devkit.Context() as ctx:
        with pytest.raises(TypeError):
            devkit.Registration(ctx, registry="etcd://h", service="s", address="a", port=1,
                                no_such_option=1)
        with pytest.raises(TypeError):
            devkit.Registration(ctx, registry="etcd://h", service="s", address="a", port=1,
                                metadata="k=v")


def test_credentials_never_show_and_a_refusal_fails_at_once():
    """An etcd with authentication on (its own: the module's etcd stays open):
    the right password registers, a wrong one is refused for good (FAILED:
    wait() raises at once); neither password appears in any repr, event,
    description or error."""
    etcd = Etcd()
    try:
        etcd.etcdctl("user", "add", "root:right-pw-0451")
        etcd.etcdctl("auth", "enable")
        svc = _service("auth")
        with devkit.Context() as ctx:
            good = devkit.Registration(ctx, registry=etcd.url, service=svc, address="10.1.4.1",
                                       port=8088, username="root", password="right-pw-0451",
                                       token="token-7731")
            good.wait(10_000)
            bad = devkit.Registration(ctx, registry=etcd.url, service=svc + "-bad",
                                      address="10.1.4.2", port=8089, username="root",
                                      password="wrong-pw-9912")
            t0 = time.monotonic()
            # etcd answers a wrong password with HTTP 400 "authentication failed",
            # which the C etcd backend reports as EINVAL today (EAUTH would be more
            # precise); either way it is a refusal for good.
            with pytest.raises((devkit.AuthError, devkit.InvalidArgumentError)) as info:
                bad.wait(10_000)
            assert time.monotonic() - t0 < 5
            assert "authentication failed" in str(info.value)
            assert bad.state == devkit.RegistrationState.FAILED
            texts = [repr(good), str(good), repr(bad), str(info.value),
                     json.dumps(good.describe()), json.dumps(bad.describe())]
            texts += [str(e) + e.message + e.address for e in ctx.events(timeout=0.2)]
            for text in texts:
                for secret in ("right-pw-0451", "wrong-pw-9912", "token-7731"):
                    assert secret not in text, text
            out = etcd.etcdctl("--user=root:right-pw-0451", "get", "--prefix", f"{PREFIX}/{svc}/",
                               "--keys-only")
            assert f"{svc}-10.1.4.1-8088" in out
    finally:
        etcd.close()


def test_registry_url_shown_without_user_info():
    with devkit.Context() as ctx:
        with devkit.Registration(ctx, registry="etcd://127.0.0.1:1?prefix=/x", service="s",
                                 address="10.0.0.1", port=1, timeout_ms=200) as reg:
            assert reg.registry == "etcd://127.0.0.1:1"
            assert "prefix" not in repr(reg)


# -- expose through a real sshd ---------------------------------------------------

def _get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
        return r.read()


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        return False
    except OSError:
        return True


def test_expose_reaches_the_local_service_through_the_reverse_forward(tunnel, etcd, origin):
    svc = _service("exposed")
    expose = tunnel.expose(local_port=origin.port, registry=etcd.url, service=svc,
                           registry_via_tunnel=True, metadata={"owner": "alice"}, tag="dev-alice")
    with expose:
        reg = expose.registration
        reg.wait(15_000)
        fwd = expose.forward
        assert fwd.kind == devkit.ForwardKind.REMOTE and fwd.port > 0
        assert reg.expose is expose and fwd.expose is expose and expose.tunnel is tunnel
        # The entry advertises the bastion's address and the forward's port ...
        [value] = _entries(etcd, svc).values()
        [node] = json.loads(value)["nodes"]
        assert node["address"] == f"127.0.0.1:{fwd.port}"
        assert node["metadata"]["tag"] == "dev-alice" and node["metadata"]["owner"] == "alice"
        # ... which is where a cloud caller reaches the local service.
        host, port = node["address"].rsplit(":", 1)
        assert _get(int(port), "/from-the-cloud") == b"hello from /from-the-cloud\n"
        info = reg.describe()
        assert (info["address"], info["port"], info["state"]) == ("127.0.0.1", fwd.port,
                                                                   "registered")
        events = list(tunnel.context.events(timeout=0.3))
        # The registry was reached through the tunnel: a local forward to etcd.
        assert any(e.type == devkit.EventType.FORWARD_READY and
                   f"-> {etcd.endpoint} (via the bastion)" in e.message for e in events), events
        mine = _registration_events(events, reg)
        assert devkit.RegistrationState.REGISTERED in [e.state for e in mine]
        assert all(e.tunnel_id == tunnel.id for e in mine)
        assert all(e.object_id == 0 and not isinstance(e.state, devkit.RegistrationState)
                   for e in events if e.type != devkit.EventType.REGISTRATION_STATE)
        assert repr(expose).startswith(f"<devkit.Expose {svc} 127.0.0.1:{origin.port} -> ")
        remote_port = fwd.port
    assert expose.closed and reg.closed and fwd.closed and expose.close_error is None
    assert not _entries(etcd, svc)
    _eventually(lambda: _refused(remote_port), what="the bastion's port closing")
    expose.close()
    with pytest.raises(devkit.ClosedError):
        reg.state
    assert tunnel.state == devkit.TunnelState.UP  # the tunnel is untouched
    assert tunnel.local_forward("127.0.0.1", origin.port).port > 0


def test_closing_the_tunnel_closes_its_expose_first(sshd, etcd, origin):
    svc = _service("tunnelclose")
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    try:
        e = t.expose(local_port=origin.port, registry=etcd.url, service=svc)
        e.registration.wait(15_000)
        assert _entries(etcd, svc)
    finally:
        t.close()
    assert e.closed and e.registration.closed and e.forward.closed
    assert not _entries(etcd, svc)  # deregistered through the tunnel before it went
    e.close()
    t.close()


def test_closing_the_context_closes_tunnel_and_expose(sshd, etcd, origin):
    svc = _service("ctxexpose")
    ctx = devkit.Context()
    try:
        t = ctx.open_tunnel(sshd.bastion, **sshd.tunnel_args())
        e = t.expose(local_port=origin.port, registry=etcd.url, service=svc)
        e.registration.wait(15_000)
    finally:
        ctx.close()
    assert e.closed and t.closed
    assert not _entries(etcd, svc)


def test_closing_the_registration_or_the_forward_closes_the_expose(tunnel, etcd, origin):
    for part in ("registration", "forward"):
        svc = _service(part)
        e = tunnel.expose(local_port=origin.port, registry=etcd.url, service=svc)
        e.registration.wait(15_000)
        getattr(e, part).close()
        assert e.closed and e.registration.closed and e.forward.closed
        assert not _entries(etcd, svc)


def test_a_dropped_expose_keeps_working_until_its_tunnel_closes(sshd, etcd, origin):
    svc = _service("droppedexpose")
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    try:
        port = t.expose(local_port=origin.port, registry=etcd.url, service=svc).forward.port
        gc.collect()
        _eventually(lambda: _entries(etcd, svc), what="the entry")
        assert _get(port, "/kept") == b"hello from /kept\n"
    finally:
        t.close()
    assert not _entries(etcd, svc)


def test_expose_bad_options_leave_nothing_behind(tunnel, etcd, origin):
    before = tunnel.stats().forwards
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.expose(local_port=0, registry=etcd.url, service="s")
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.expose(local_port=origin.port, registry="foo://127.0.0.1:1", service="s")
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.expose(local_port=origin.port, registry=etcd.url, service="s",
                      metadata={"a=b": "c"})
    assert tunnel.stats().forwards == before
    assert not [o for o in tunnel._services if isinstance(o, devkit.Expose)]
