# SPDX-License-Identifier: Apache-2.0
"""Remote DNS (devkit_dns) and process routing (devkit_router) on a tunnel.

Both belong to their tunnel as in C, where they must be freed before it:
closing the tunnel (or its context) closes them first, and a router that
answers names with a Dns is closed before that Dns. Each object holds its
parents (a Dns its Tunnel; a Router its Tunnel and its Dns), so the garbage
collector never frees a parent first.
"""
from __future__ import annotations

import os
import socket
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, List, Optional, Union

from . import capi
from ._errors import InvalidArgumentError
from ._lifetime import Handle, Lifetime

if TYPE_CHECKING:
    from ._tunnel import Tunnel


def _fill(opts: Any, values: dict) -> Any:
    from ._tunnel import _fill as fill
    return fill(opts, values)


@dataclass(frozen=True)
class DnsStats:
    queries: int      # received by the stub, UDP and TCP
    cluster: int      # sent to the cluster DNS
    upstream: int     # sent to the upstream resolver
    cache_hits: int
    nxdomain: int     # answered NXDOMAIN
    servfail: int     # answered SERVFAIL (timeouts included)
    malformed: int    # dropped: not a DNS query


@dataclass(frozen=True)
class RouterStats:
    requests: int     # control requests received
    routed: int       # connections carried through the tunnel
    refused: int      # routed connects refused
    resolved: int     # names resolved for the shim


class Dns(Handle):
    """Names only the cluster can resolve (``*.svc.cluster.local``, and short
    names like ``orders`` through the search list), resolved by the cluster's
    DNS server through the tunnel; everything else by `upstream`. A stub server
    on ``address:port`` (UDP and TCP) offers the same to any program.

    ``Dns(tunnel, cluster_dns, ...)`` is ``tunnel.dns(cluster_dns, ...)``.
    Options are those of ``devkit_dns_options``; any left out keeps its C
    default (`upstream`: the first nameserver of /etc/resolv.conf).
    """

    def __init__(self, tunnel: "Tunnel", cluster_dns: str, *,
                 cluster_domains: Optional[str] = None,
                 search: Optional[str] = None,
                 ndots: Optional[int] = None,
                 upstream: Optional[str] = None,
                 bind_address: Optional[str] = None,
                 bind_port: Optional[int] = None,
                 timeout_ms: Optional[int] = None,
                 cache_max: Optional[int] = None) -> None:
        opts = _fill(capi.devkit_dns_options(), dict(
            cluster_dns=cluster_dns, cluster_domains=cluster_domains, search=search,
            ndots=ndots, upstream=upstream, bind_address=bind_address, bind_port=bind_port,
            timeout_ms=timeout_ms, cache_max=cache_max))
        self._tunnel = tunnel  # keeps the tunnel (and its context) alive
        with tunnel._life.use() as tptr:
            ptr = capi.devkit_dns_start(tptr, opts)
            # Registered while the tunnel is held, so its close() frees us first.
            self._address = capi.devkit_dns_address(ptr) or ""  # lives as long as the resolver
            self._port = capi.devkit_dns_port(ptr)
            self._life = Lifetime("DNS resolver", ptr, capi.devkit_dns_free, parent=tunnel._life)
        tunnel._services.add(self)  # as in C: it lives until it or its tunnel is closed
        self._finalizer = weakref.finalize(self, self._life.close)

    def close(self) -> None:
        """Stop the stub and free the resolver (and the routers that use it). Idempotent."""
        self._finalizer.detach()
        self._life.close()
        services = self._tunnel._services
        for obj in list(services):
            if obj is self or (isinstance(obj, Router) and obj._dns is self):
                services.discard(obj)

    def __repr__(self) -> str:
        where = "closed" if self.closed else f"{self._address}:{self._port}"
        return f"<devkit.Dns {where}>"

    @property
    def tunnel(self) -> "Tunnel":
        return self._tunnel

    @property
    def port(self) -> int:
        """The stub's port (UDP and TCP)."""
        with self._life.use() as ptr:
            return capi.devkit_dns_port(ptr)

    @property
    def address(self) -> str:
        """The stub's address, e.g. "127.0.0.1"."""
        with self._life.use():
            return self._address

    def stats(self) -> DnsStats:
        out = capi.devkit_dns_stats()
        with self._life.use() as ptr:
            capi.devkit_dns_get_stats(ptr, out)
        return DnsStats(out.queries, out.cluster, out.upstream, out.cache_hits, out.nxdomain,
                        out.servfail, out.malformed)

    def resolve(self, name: str,
                family: Union[socket.AddressFamily, int] = socket.AF_UNSPEC) -> List[str]:
        """The addresses of `name` as text, as a routed process would get them
        (search list and cluster DNS for cluster names, else upstream).
        `family`: ``socket.AF_INET``, ``socket.AF_INET6`` or ``AF_UNSPEC`` (both).
        Raises ``NotFoundError`` for a name that does not exist (NXDOMAIN)."""
        with self._life.use() as ptr:
            text = capi.devkit_dns_resolve(ptr, name, int(family))
        return [line for line in text.splitlines() if line]


class Router(Handle):
    """The engine side of process routing: a private control socket that a
    routed process's shim (libdevkit_preload.so, told by ``DEVKIT_CONTROL``)
    asks to resolve cluster names (with `dns`) and to carry its connects
    through the tunnel.

    ``Router(tunnel, dns=..., ...)`` is ``tunnel.router(dns=..., ...)``. A Router
    with a Dns is closed when that Dns is; the Dns must be of the same tunnel.
    """

    def __init__(self, tunnel: "Tunnel", *, dns: Optional[Dns] = None,
                 control_path: Optional[Union[str, "os.PathLike[str]"]] = None,
                 open_timeout_ms: Optional[int] = None) -> None:
        if dns is not None and dns._tunnel is not tunnel:
            raise InvalidArgumentError("the router's Dns must belong to the router's tunnel",
                                       InvalidArgumentError.code)
        opts = _fill(capi.devkit_router_options(), dict(
            control_path=control_path, open_timeout_ms=open_timeout_ms))
        self._tunnel = tunnel  # keeps the tunnel alive
        self._dns = dns        # keeps the resolver alive: C reads it until the router is freed
        with tunnel._life.use() as tptr:  # parent before child: tunnel, then dns
            if dns is None:
                ptr = capi.devkit_router_start(tptr, opts)
                self._control_path = capi.devkit_router_control_path(ptr) or ""
                self._life = Lifetime("router", ptr, capi.devkit_router_free,
                                      parent=tunnel._life)
            else:
                with dns._life.use() as dptr:
                    opts.dns = dptr
                    ptr = capi.devkit_router_start(tptr, opts)
                    self._control_path = capi.devkit_router_control_path(ptr) or ""
                    # The Dns is the parent: closing it (or the tunnel, through
                    # it) frees the router first, as C requires.
                    self._life = Lifetime("router", ptr, capi.devkit_router_free,
                                          parent=dns._life)
        tunnel._services.add(self)
        self._finalizer = weakref.finalize(self, self._life.close)

    def close(self) -> None:
        """Stop, close routed connections, remove the control socket. Idempotent."""
        self._finalizer.detach()
        self._life.close()
        self._tunnel._services.discard(self)

    def __repr__(self) -> str:
        return f"<devkit.Router {'closed' if self.closed else self._control_path}>"

    @property
    def tunnel(self) -> "Tunnel":
        return self._tunnel

    @property
    def dns(self) -> Optional[Dns]:
        return self._dns

    @property
    def control_path(self) -> Path:
        """The control socket, to put in ``DEVKIT_CONTROL`` for a routed process."""
        with self._life.use():
            return Path(self._control_path)

    def stats(self) -> RouterStats:
        out = capi.devkit_router_stats()
        with self._life.use() as ptr:
            capi.devkit_router_get_stats(ptr, out)
        return RouterStats(out.requests, out.routed, out.refused, out.resolved)
