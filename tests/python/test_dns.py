# SPDX-License-Identifier: Apache-2.0
"""Remote DNS and the router, against real servers: OpenSSH sshd as the bastion
and a dnsmasq as the cluster DNS, reached only through the tunnel (cluster_dns
is 127.0.0.1:PORT as the bastion sees it). `upstream` is always a loopback
address: the machine's own resolver is never asked."""
from __future__ import annotations

import gc
import os
import socket
import stat
import struct
import weakref

import pytest

import devkit
from devkit import capi

FQDN = "orders.default.svc.cluster.local"


@pytest.fixture
def dns(tunnel, cluster_dns):
    with tunnel.dns(cluster_dns.address, upstream=cluster_dns.address, timeout_ms=5000) as d:
        yield d


def _udp_query(port: int, name: str) -> list:
    """One A query over UDP to 127.0.0.1:port, as any resolver sends it; the
    addresses of the answer section."""
    qid = 0x4242
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack(">HH", 1, 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(10)
        s.sendto(q, ("127.0.0.1", port))
        r = s.recv(4096)
    rid, flags, qd, an = struct.unpack(">HHHH", r[:8])
    assert rid == qid and flags & 0x8000 and flags & 0xF == 0
    i = 12
    for _ in range(qd):  # skip the question
        while r[i] != 0:
            i += 1 + r[i]
        i += 5
    out = []
    for _ in range(an):
        if r[i] & 0xC0 == 0xC0:
            i += 2
        else:
            while r[i] != 0:
                i += 1 + r[i]
            i += 1
        rtype, _cls, _ttl, rdlen = struct.unpack(">HHIH", r[i:i + 10])
        i += 10
        if rtype == 1 and rdlen == 4:
            out.append(socket.inet_ntoa(r[i:i + 4]))
        i += rdlen
    return out


def test_options_start_from_the_c_defaults():
    o = capi.devkit_dns_options()
    assert (o.version, o.ndots, o.timeout_ms, o.cache_max, o.bind_port) == (
        capi.DEVKIT_DNS_OPTIONS_VERSION, 5, 5000, 4096, 0)
    assert o.cluster_dns is None and o.upstream is None and o.search is None
    r = capi.devkit_router_options()
    assert (r.version, r.open_timeout_ms, r.control_path) == (
        capi.DEVKIT_ROUTER_OPTIONS_VERSION, 15000, None)
    assert capi.DEVKIT_AF_INET == socket.AF_INET and capi.DEVKIT_AF_INET6 == socket.AF_INET6


def test_tunnel_ctx_is_the_context(tunnel):
    with tunnel._life.use() as tptr, tunnel.context._life.use() as cptr:
        assert int(capi.devkit_tunnel_ctx(tptr)) == int(cptr)


def test_resolve_a_cluster_name(dns):
    assert dns.resolve(FQDN) == ["127.0.0.2"]
    assert dns.resolve(FQDN, socket.AF_INET) == ["127.0.0.2"]
    assert dns.address == "127.0.0.1" and dns.port > 0
    assert dns.tunnel is not None and not dns.closed


def test_short_name_through_the_search_list(dns):
    assert dns.resolve("orders") == ["127.0.0.2"]
    assert dns.resolve("orders.default") == ["127.0.0.2"]


def test_nxdomain_is_not_found(dns):
    with pytest.raises(devkit.NotFoundError) as info:
        dns.resolve("missing.cluster.local")
    assert info.value.code == devkit.ErrorCode.ENOTFOUND
    assert isinstance(info.value, LookupError)
    assert "missing.cluster.local" in str(info.value)


def test_the_stub_answers_a_real_client_and_counts(dns):
    before = dns.stats()
    assert isinstance(before, devkit.DnsStats)
    assert _udp_query(dns.port, FQDN) == ["127.0.0.2"]
    assert _udp_query(dns.port, FQDN) == ["127.0.0.2"]  # from the cache (TTL 30)
    with pytest.raises(devkit.NotFoundError):
        dns.resolve("nothing-here.cluster.local")
    after = dns.stats()
    assert after.queries >= before.queries + 2
    assert after.cluster > before.cluster
    assert after.cache_hits > before.cache_hits
    assert after.nxdomain > before.nxdomain
    assert after.malformed == 0 and after.upstream == 0


def test_bad_options_raise(tunnel, cluster_dns):
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.dns("", upstream=cluster_dns.address)
    with pytest.raises(devkit.InvalidArgumentError):
        tunnel.dns(cluster_dns.address, upstream=cluster_dns.address, ndots=99)
    with pytest.raises(TypeError):
        tunnel.dns(cluster_dns.address, no_such_option=1)


def test_dns_close_twice_and_use_after_close(tunnel, cluster_dns):
    d = devkit.Dns(tunnel, cluster_dns.address, upstream=cluster_dns.address)
    d.close()
    d.close()
    assert d.closed
    with pytest.raises(devkit.ClosedError):
        d.resolve(FQDN)
    with pytest.raises(devkit.ClosedError):
        d.stats()
    with pytest.raises(devkit.ClosedError):
        tunnel.router(dns=d)
    assert tunnel.state == devkit.TunnelState.UP  # the tunnel is untouched


def test_closing_the_tunnel_closes_its_dns_and_router_first(sshd, cluster_dns):
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    d = t.dns(cluster_dns.address, upstream=cluster_dns.address)
    r = t.router(dns=d)
    plain = t.router()
    path = r.control_path
    assert d.resolve(FQDN) == ["127.0.0.2"]
    t.close()
    assert d.closed and r.closed and plain.closed and t.closed
    assert not path.exists()
    with pytest.raises(devkit.ClosedError):
        d.resolve(FQDN)
    d.close()
    r.close()
    t.close()


def test_closing_the_context_closes_dns_and_router(sshd, cluster_dns):
    ctx = devkit.Context()
    t = ctx.open_tunnel(sshd.bastion, **sshd.tunnel_args())
    d = t.dns(cluster_dns.address, upstream=cluster_dns.address)
    r = t.router(dns=d)
    ctx.close()
    assert d.closed and r.closed and t.closed


def test_dropped_dns_keeps_working_until_the_tunnel_closes(tunnel, cluster_dns):
    port = tunnel.dns(cluster_dns.address, upstream=cluster_dns.address).port
    gc.collect()
    assert _udp_query(port, FQDN) == ["127.0.0.2"]


def test_a_router_holds_its_tunnel_and_dns(sshd, cluster_dns):
    t = devkit.Tunnel(sshd.bastion, **sshd.tunnel_args())
    r = t.router(dns=t.dns(cluster_dns.address, upstream=cluster_dns.address))
    t_ref = weakref.ref(t)
    del t
    gc.collect()
    assert t_ref() is not None and r.dns is not None
    assert r.dns.resolve("orders") == ["127.0.0.2"]
    r.tunnel.close()
    assert r.closed and r.dns.closed


def test_router_starts_with_a_private_control_socket(tunnel, dns):
    with tunnel.router(dns=dns) as r:
        path = r.control_path
        st = os.stat(path)
        assert stat.S_ISSOCK(st.st_mode)
        assert stat.S_IMODE(st.st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        s = r.stats()
        assert isinstance(s, devkit.RouterStats)
        assert (s.requests, s.routed, s.refused, s.resolved) == (0, 0, 0, 0)
        assert r.dns is dns and r.tunnel is tunnel
    assert r.closed and not path.exists()
    r.close()
    with pytest.raises(devkit.ClosedError):
        r.stats()


def test_router_at_a_given_path(tunnel, tmp_path):
    want = tmp_path / "control.sock"
    with devkit.Router(tunnel, control_path=want, open_timeout_ms=2000) as r:
        assert r.control_path == want
        assert stat.S_IMODE(os.stat(want).st_mode) == 0o600
        assert r.dns is None
    r.close()


def test_closing_the_dns_closes_its_router(tunnel, cluster_dns):
    d = tunnel.dns(cluster_dns.address, upstream=cluster_dns.address)
    r = tunnel.router(dns=d)
    d.close()
    assert r.closed
    r.close()


def test_router_refuses_a_dns_of_another_tunnel(sshd, tunnel, cluster_dns):
    with devkit.Tunnel(sshd.bastion, ctx=tunnel.context, **sshd.tunnel_args()) as other:
        d = other.dns(cluster_dns.address, upstream=cluster_dns.address)
        with pytest.raises(devkit.InvalidArgumentError):
            tunnel.router(dns=d)


def test_log_lines_arrive_as_log_events(sshd):
    with devkit.Context(log_level=devkit.LogLevel.INFO, log_events=True) as ctx:
        with ctx.open_tunnel(sshd.bastion, **sshd.tunnel_args()):
            events = list(ctx.events(timeout=0.5))
    logs = [e for e in events if e.type == devkit.EventType.LOG]
    assert logs, events
    assert all(isinstance(e.level, devkit.LogLevel) and e.level <= devkit.LogLevel.INFO
               for e in logs)
    assert any("session up" in e.message for e in logs)
    assert all(e.level is None for e in events if e.type != devkit.EventType.LOG)
    assert "log" in str(logs[0])


def test_no_log_events_unless_asked(sshd):
    with devkit.Context(log_level=devkit.LogLevel.DEBUG) as ctx:
        with ctx.open_tunnel(sshd.bastion, **sshd.tunnel_args()):
            events = list(ctx.events(timeout=0.3))
    assert events and not [e for e in events if e.type == devkit.EventType.LOG]
