# SPDX-License-Identifier: Apache-2.0
"""Tunnels (one SSH session to a bastion) and their forwards."""
from __future__ import annotations

import os
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Mapping, Optional, Sequence, Union

from . import capi
from ._context import Context
from ._enums import ForwardKind, HostKeyPolicy, TunnelState, to_enum
from ._lifetime import Handle, Lifetime

if TYPE_CHECKING:
    from ._dns import Dns, Router
    from ._registry import Expose


def _fill(opts: Any, values: Dict[str, Any]) -> Any:
    """Set the options that were given; the others keep their C default."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif hasattr(value, "__fspath__"):
            value = str(value.__fspath__())
        setattr(opts, name, value)
    return opts


def _expand(path: Any) -> Optional[str]:
    """Paths as a shell user writes them: "~/.ssh/id_ed25519" (C does not expand "~")."""
    return None if path is None else os.path.expanduser(os.fspath(path))


@dataclass(frozen=True)
class TunnelStats:
    state: Union[TunnelState, int]
    reconnects: int
    bytes_in: int
    bytes_out: int
    channels_open: int
    channels_total: int
    failures: int
    forwards: int


@dataclass(frozen=True)
class ForwardStats:
    bytes_in: int
    bytes_out: int
    channels_open: int
    channels_total: int
    failures: int


class Tunnel(Handle):
    """An SSH session to a bastion that carries forwards, reconnecting by itself.

    ``Tunnel(bastion, ...)`` connects, checks the host key and authenticates
    before it returns; it raises ``HostKeyError``, ``AuthError``,
    ``ConnectionRefusedError``, ``NotFoundError`` or ``TimeoutError`` when it
    cannot. Options are those of ``devkit_tunnel_options`` (units included);
    any left out keeps its C default. Without `ctx`, the tunnel makes its own
    Context and closes it with itself (read its events through ``.context``).
    """

    def __init__(self, bastion: str, *, ctx: Optional[Context] = None,
                 user: Optional[str] = None,
                 identity_file: Optional[Union[str, "os.PathLike[str]"]] = None,
                 identity_passphrase: Optional[str] = None,
                 password: Optional[str] = None,
                 use_agent: Optional[bool] = None,
                 known_hosts_file: Optional[Union[str, "os.PathLike[str]"]] = None,
                 host_key_policy: Optional[Union[HostKeyPolicy, int]] = None,
                 host_key_sha256: Optional[str] = None,
                 ciphers: Optional[str] = None,
                 macs: Optional[str] = None,
                 kex: Optional[str] = None,
                 connect_timeout_ms: Optional[int] = None,
                 keepalive_interval_s: Optional[int] = None,
                 keepalive_count_max: Optional[int] = None,
                 reconnect: Optional[bool] = None,
                 reconnect_initial_ms: Optional[int] = None,
                 reconnect_max_ms: Optional[int] = None,
                 reconnect_max_attempts: Optional[int] = None) -> None:
        owned = ctx is None
        self._ctx = Context() if ctx is None else ctx  # keeps the context alive
        opts = _fill(capi.devkit_tunnel_options(), dict(
            bastion=bastion, user=user, identity_file=_expand(identity_file),
            identity_passphrase=identity_passphrase, password=password, use_agent=use_agent,
            known_hosts_file=_expand(known_hosts_file),
            host_key_policy=None if host_key_policy is None else int(host_key_policy),
            host_key_sha256=host_key_sha256, ciphers=ciphers, macs=macs, kex=kex,
            connect_timeout_ms=connect_timeout_ms, keepalive_interval_s=keepalive_interval_s,
            keepalive_count_max=keepalive_count_max, reconnect=reconnect,
            reconnect_initial_ms=reconnect_initial_ms, reconnect_max_ms=reconnect_max_ms,
            reconnect_max_attempts=reconnect_max_attempts))
        try:
            with self._ctx._life.use() as ctx_ptr:
                ptr = capi.devkit_tunnel_open(ctx_ptr, opts)
                self._id = capi.devkit_tunnel_id(ptr)
                # Registered while the context is held, so its close() sees us;
                # from here on only self._life may touch ptr.
                self._life = Lifetime("tunnel", ptr, capi.devkit_tunnel_free,
                                      parent=self._ctx._life)
        except BaseException:
            if owned:
                self._ctx.close()
            raise
        self._owned_ctx = self._ctx if owned else None
        # As in C, a forward lives until it is closed or its tunnel is: the
        # tunnel holds the objects, so a forward nobody kept keeps working.
        self._forwards: set = set()
        # The same for its Dns, Router and Expose objects (closed before the session).
        self._services: set = set()
        self._ctx._tunnels.add(self)
        self._finalizer = weakref.finalize(self, self._life.close)

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Close every forward and the session (and the context, if the tunnel
        made its own). Idempotent; the exposes (deregistered), routers and DNS
        resolvers of the tunnel are closed first."""
        self._finalizer.detach()
        self._life.close()
        self._forwards.clear()
        self._services.clear()
        self._ctx._tunnels.discard(self)
        if self._owned_ctx is not None:
            self._owned_ctx.close()

    def __repr__(self) -> str:
        return f"<devkit.Tunnel id={self._id}{' closed' if self.closed else ''}>"

    # -- state ---------------------------------------------------------------
    @property
    def context(self) -> Context:
        return self._ctx

    @property
    def id(self) -> int:
        """The id that events carry in ``tunnel_id``."""
        return self._id

    @property
    def state(self) -> Union[TunnelState, int]:
        with self._life.use() as ptr:
            return to_enum(TunnelState, capi.devkit_tunnel_get_state(ptr))

    def stats(self) -> TunnelStats:
        out = capi.devkit_tunnel_stats()
        with self._life.use() as ptr:
            capi.devkit_tunnel_get_stats(ptr, out)
        return TunnelStats(to_enum(TunnelState, out.state), out.reconnects, out.bytes_in,
                           out.bytes_out, out.channels_open, out.channels_total, out.failures,
                           out.forwards)

    def describe(self) -> Dict[str, str]:
        """The session for display: bastion, user, host_key, kex, cipher, mac, ..."""
        with self._life.use() as ptr:
            text = capi.devkit_tunnel_describe(ptr)
        return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)

    # -- forwards ------------------------------------------------------------
    def add_forward(self, kind: Union[ForwardKind, int], *, bind_address: Optional[str] = None,
                    bind_port: int = 0, target_host: Optional[str] = None,
                    target_port: int = 0, proxy_username: Optional[str] = None,
                    proxy_password: Optional[str] = None,
                    allow_non_loopback: Optional[bool] = None) -> "Forward":
        """Start a forward of any kind; returns once it listens."""
        opts = _fill(capi.devkit_forward_options(), dict(
            kind=int(kind), bind_address=bind_address, bind_port=bind_port,
            target_host=target_host, target_port=target_port, proxy_username=proxy_username,
            proxy_password=proxy_password, allow_non_loopback=allow_non_loopback))
        with self._life.use() as ptr:
            fptr = capi.devkit_tunnel_add_forward(ptr, opts)
            return Forward(self, fptr)

    def local_forward(self, target_host: str, target_port: int, *, bind_port: int = 0,
                      bind_address: Optional[str] = None,
                      allow_non_loopback: Optional[bool] = None) -> "Forward":
        """-L: a local port that connects to target_host:target_port as the bastion sees it."""
        return self.add_forward(ForwardKind.LOCAL, target_host=target_host,
                                target_port=target_port, bind_port=bind_port,
                                bind_address=bind_address, allow_non_loopback=allow_non_loopback)

    def dynamic_forward(self, *, bind_port: int = 0, bind_address: Optional[str] = None,
                        proxy_username: Optional[str] = None,
                        proxy_password: Optional[str] = None,
                        allow_non_loopback: Optional[bool] = None) -> "Forward":
        """-D: a local SOCKS5/SOCKS4 and HTTP proxy on one port."""
        return self.add_forward(ForwardKind.DYNAMIC, bind_port=bind_port,
                                bind_address=bind_address, proxy_username=proxy_username,
                                proxy_password=proxy_password,
                                allow_non_loopback=allow_non_loopback)

    def remote_forward(self, target_host: str, target_port: int, *, bind_port: int = 0,
                       bind_address: Optional[str] = None) -> "Forward":
        """-R: a port on the bastion that connects back to target_host:target_port here."""
        return self.add_forward(ForwardKind.REMOTE, target_host=target_host,
                                target_port=target_port, bind_port=bind_port,
                                bind_address=bind_address)


    # -- exposing a local service ---------------------------------------------
    def expose(self, *, local_port: int, registry: str, service: str,
               local_host: Optional[str] = None,
               remote_port: Optional[int] = None,
               remote_bind_address: Optional[str] = None,
               advertise_host: Optional[str] = None,
               registry_via_tunnel: Optional[bool] = None,
               metadata: Optional[Mapping[str, str]] = None,
               tag: Optional[str] = None,
               username: Optional[str] = None,
               password: Optional[str] = None,
               token: Optional[str] = None,
               ttl_ms: Optional[int] = None,
               heartbeat_ms: Optional[int] = None,
               protocol: Optional[str] = None,
               interface_name: Optional[str] = None,
               methods: Union[str, Sequence[str], None] = None,
               ca_file: Optional[Union[str, "os.PathLike[str]"]] = None,
               insecure: Optional[bool] = None,
               connect_to: Optional[str] = None,
               timeout_ms: Optional[int] = None) -> "Expose":
        """Make local_host:local_port reachable by cloud callers: a reverse
        forward on the bastion, registered in `registry` as `service` under the
        bastion's address (`advertise_host`) and the forward's port. Returns
        once the forward listens and the registration has started
        (``.registration.wait()`` waits for the registry). See ``devkit.Expose``."""
        from ._registry import Expose
        return Expose(self, local_port=local_port, registry=registry, service=service,
                      local_host=local_host, remote_port=remote_port,
                      remote_bind_address=remote_bind_address, advertise_host=advertise_host,
                      registry_via_tunnel=registry_via_tunnel, metadata=metadata, tag=tag,
                      username=username, password=password, token=token, ttl_ms=ttl_ms,
                      heartbeat_ms=heartbeat_ms, protocol=protocol,
                      interface_name=interface_name, methods=methods, ca_file=ca_file,
                      insecure=insecure, connect_to=connect_to, timeout_ms=timeout_ms)

    # -- DNS and routing ------------------------------------------------------
    def dns(self, cluster_dns: str, *, cluster_domains: Optional[str] = None,
            search: Optional[str] = None, ndots: Optional[int] = None,
            upstream: Optional[str] = None, bind_address: Optional[str] = None,
            bind_port: Optional[int] = None, timeout_ms: Optional[int] = None,
            cache_max: Optional[int] = None) -> "Dns":
        """Start a remote DNS resolver (and its stub server) on this tunnel:
        cluster names go to `cluster_dns` ("HOST[:PORT]" as the bastion sees it)."""
        from ._dns import Dns
        return Dns(self, cluster_dns, cluster_domains=cluster_domains, search=search,
                   ndots=ndots, upstream=upstream, bind_address=bind_address,
                   bind_port=bind_port, timeout_ms=timeout_ms, cache_max=cache_max)

    def router(self, *, dns: Optional["Dns"] = None,
               control_path: Optional[Union[str, "os.PathLike[str]"]] = None,
               open_timeout_ms: Optional[int] = None) -> "Router":
        """Start a router for routed processes on this tunnel (names answered by `dns`)."""
        from ._dns import Router
        return Router(self, dns=dns, control_path=control_path, open_timeout_ms=open_timeout_ms)


class Forward(Handle):
    """One forward of a tunnel. Closing the tunnel closes it too."""

    _expose: Optional["Expose"] = None

    def __init__(self, tunnel: Tunnel, ptr: Any) -> None:
        # Called with the tunnel held (Tunnel.add_forward), so it cannot close meanwhile.
        self._tunnel = tunnel  # keeps the tunnel (and its context) alive
        self._life = Lifetime("forward", ptr, capi.devkit_forward_free,
                              parent=tunnel._life, dies_with_parent=True)
        self._id = capi.devkit_forward_id(ptr)
        self._kind = to_enum(ForwardKind, capi.devkit_forward_kind_of(ptr))
        tunnel._forwards.add(self)
        self._finalizer: Optional[weakref.finalize] = weakref.finalize(self, self._life.close)

    @classmethod
    def _of_expose(cls, tunnel: Tunnel, ptr: Any, expose: "Expose") -> "Forward":
        """The reverse forward of an Expose: devkit_expose_close frees it, so it
        is the Expose's child, and closing it closes the Expose."""
        self = cls.__new__(cls)
        self._tunnel = tunnel
        self._expose = expose
        self._life = Lifetime("forward", ptr, lambda ptr: None, parent=expose._life,
                              dies_with_parent=True)
        self._id = capi.devkit_forward_id(ptr)
        self._kind = to_enum(ForwardKind, capi.devkit_forward_kind_of(ptr))
        self._finalizer = None  # the Expose's finaliser covers it
        return self

    def close(self) -> None:
        """Stop listening and close this forward's connections. Idempotent.
        The forward of an Expose closes the Expose."""
        if self._expose is not None:
            self._expose.close()
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        self._life.close()
        self._tunnel._forwards.discard(self)

    def __repr__(self) -> str:
        where = "closed" if self.closed else f"{self.address}:{self.port}"
        kind = getattr(self._kind, "name", self._kind)
        return f"<devkit.Forward id={self._id} {kind} {where}>"

    @property
    def tunnel(self) -> Tunnel:
        return self._tunnel

    @property
    def expose(self) -> Optional["Expose"]:
        """The Expose this forward belongs to, or None."""
        return self._expose

    @property
    def id(self) -> int:
        """The id that events carry in ``forward_id``."""
        return self._id

    @property
    def kind(self) -> Union[ForwardKind, int]:
        return self._kind

    @property
    def port(self) -> int:
        """The port actually bound (the bastion's, for a remote forward)."""
        with self._life.use() as ptr:
            return capi.devkit_forward_port(ptr)

    @property
    def address(self) -> str:
        with self._life.use() as ptr:
            return capi.devkit_forward_address(ptr) or ""

    def stats(self) -> ForwardStats:
        out = capi.devkit_forward_stats()
        with self._life.use() as ptr:
            capi.devkit_forward_get_stats(ptr, out)
        return ForwardStats(out.bytes_in, out.bytes_out, out.channels_open, out.channels_total,
                            out.failures)

