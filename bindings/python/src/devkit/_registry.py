# SPDX-License-Identifier: Apache-2.0
"""Registry registration (devkit_registration) and exposing a local service to
the cloud through a tunnel (devkit_expose).

A Registration belongs to its Context as in C: it lives until it or the
context is closed (closing the context deregisters it first), and it holds
the context, so the garbage collector never frees the context first.

An Expose belongs to its Tunnel: C frees its reverse forward with it and
needs it freed before the tunnel, so closing the tunnel (or its context)
closes it first. Its ``registration`` and ``forward`` are the Expose's own
(borrowed in C): they are closed with it, and closing either closes it.
"""
from __future__ import annotations

import json
import os
import re
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

from . import capi
from ._context import Context
from ._enums import RegistrationState, to_enum
from ._errors import ClosedError, Error, InvalidArgumentError, TimeoutError
from ._lifetime import Handle, Lifetime

if TYPE_CHECKING:
    from ._tunnel import Forward, Tunnel

# wait() never blocks inside C for longer than this, so a close() from another
# thread waits at most this long (C must not free a registration being waited on).
_WAIT_SLICE_MS = 100

PathLike = Union[str, "os.PathLike[str]"]


@dataclass(frozen=True)
class RegistrationStats:
    registrations: int  # successful register calls (first + re-registrations)
    heartbeats: int     # successful heartbeats
    failures: int       # failed requests of any kind
    lost: int           # times the registry had forgotten the entry


def _metadata_text(metadata: Optional[Mapping[str, Any]]) -> Optional[str]:
    """{"k": "v", ...} as C wants it: "k=v" lines. Keys cannot hold '=' or line
    breaks, values cannot hold line breaks (C reads them as separators)."""
    if metadata is None:
        return None
    if isinstance(metadata, (str, bytes)) or not hasattr(metadata, "items"):
        raise TypeError(f"metadata must be a mapping of str to str, not {type(metadata).__name__}")
    lines = []
    for key, value in metadata.items():
        key, value = str(key), str(value)
        if not key or "=" in key or "\n" in key or "\r" in key:
            raise InvalidArgumentError(
                f"metadata key {key!r} is not valid: it must be non-empty, without '=' "
                "or line breaks", InvalidArgumentError.code)
        if "\n" in value or "\r" in value:
            raise InvalidArgumentError(f"the value of metadata key {key!r} contains a line break",
                                       InvalidArgumentError.code)
        lines.append(f"{key}={value}")
    return "\n".join(lines)


def _methods_text(methods: Union[str, Sequence[str], None]) -> Optional[str]:
    if methods is None or isinstance(methods, str):
        return methods
    return ",".join(methods)


def _public_url(url: str) -> str:
    """The registry URL for display: no user info, no query."""
    url = re.sub(r"^([A-Za-z][A-Za-z0-9+.-]*://)[^/@?#]*@", r"\1", url)
    return url.split("?", 1)[0].split("#", 1)[0]


def _registration_options(values: Dict[str, Any]) -> Any:
    from ._tunnel import _expand, _fill
    values = dict(values)
    values["metadata"] = _metadata_text(values.get("metadata"))
    values["methods"] = _methods_text(values.get("methods"))
    values["ca_file"] = _expand(values.get("ca_file"))
    return _fill(capi.devkit_registration_options(), values)


def _closer(close: Callable[[Any], None], errors: List[Error]) -> Callable[[Any], None]:
    """A Lifetime `free` that calls a C close returning the deregistration's
    result, keeping its error (the object is freed either way)."""
    def free(ptr: Any) -> None:
        try:
            close(ptr)
        except Error as e:
            errors.append(e)
    return free


def _never_freed(ptr: Any) -> None:
    """For borrowed handles: their owner frees them."""


class Registration(Handle):
    """One entry in a service registry (Nacos, Eureka, Consul, ZooKeeper for
    Dubbo, etcd), kept alive by the engine with heartbeats or leases and
    removed on close.

    ``Registration(ctx, registry="etcd://127.0.0.1:2379", service="orders",
    address="10.0.0.5", port=8080)`` checks the options (``InvalidArgumentError``
    for an unknown scheme, a port out of range, a metadata key with '=') and
    returns at once: a registry that is down is not an error here. ``wait()``
    blocks until the entry is in the registry. Every state change arrives as a
    ``REGISTRATION_STATE`` event whose ``object_id`` is ``.id``.

    Options are those of ``devkit_registration_options`` (units included);
    `metadata` is a dict, `methods` a list or a comma-separated string. Without
    `ctx` (None), the registration makes its own Context and closes it with itself.
    """

    _expose: Optional["Expose"]

    def __init__(self, ctx: Optional[Context], *,
                 registry: str,
                 service: str,
                 address: str,
                 port: int,
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
                 ca_file: Optional[PathLike] = None,
                 insecure: Optional[bool] = None,
                 connect_to: Optional[str] = None,
                 timeout_ms: Optional[int] = None) -> None:
        # Options first: a bad one must not leave a context behind.
        opts = _registration_options(dict(
            registry=registry, service=service, address=address, port=port, metadata=metadata,
            tag=tag, username=username, password=password, token=token, ttl_ms=ttl_ms,
            heartbeat_ms=heartbeat_ms, protocol=protocol, interface_name=interface_name,
            methods=methods, ca_file=ca_file, insecure=insecure, connect_to=connect_to,
            timeout_ms=timeout_ms))
        owned = ctx is None
        self._ctx = Context() if ctx is None else ctx  # keeps the context alive
        self._expose = None
        self._registry = _public_url(registry)
        self._service = service
        self._close_errors: List[Error] = []
        try:
            with self._ctx._life.use() as ctx_ptr:
                ptr = capi.devkit_registration_new(ctx_ptr, opts)
                self._id = capi.devkit_registration_id(ptr)
                # Registered while the context is held, so its close() sees us and
                # deregisters us before devkit_ctx_free.
                self._life = Lifetime("registration", ptr,
                                      _closer(capi.devkit_registration_close, self._close_errors),
                                      parent=self._ctx._life)
        except BaseException:
            if owned:
                self._ctx.close()
            raise
        self._owned_ctx = self._ctx if owned else None
        # As in C, a registration lives until it or its context is closed.
        self._ctx._registrations.add(self)
        self._finalizer: Optional[weakref.finalize] = weakref.finalize(self, self._life.close)

    @classmethod
    def _of_expose(cls, expose: "Expose", ptr: Any, registry: str, service: str) -> "Registration":
        """The registration inside an Expose (borrowed in C: freed by devkit_expose_close)."""
        self = cls.__new__(cls)
        self._ctx = expose.tunnel.context
        self._expose = expose
        self._registry = _public_url(registry)
        self._service = service
        self._close_errors = expose._close_errors
        self._id = capi.devkit_registration_id(ptr)
        self._life = Lifetime("registration", ptr, _never_freed, parent=expose._life,
                              dies_with_parent=True)
        self._owned_ctx = None
        self._finalizer = None  # the Expose's finaliser covers it
        return self

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Deregister (waiting at most the request timeout) and free. Idempotent.
        Never raises for a failed deregistration (the entry then expires after
        its TTL): ``close_error`` says why. A registration of an Expose closes
        the Expose (and so its reverse forward)."""
        if self._expose is not None:
            self._expose.close()
            return
        if self._finalizer is not None:
            self._finalizer.detach()
        self._life.close()
        self._ctx._registrations.discard(self)
        if self._owned_ctx is not None:
            self._owned_ctx.close()

    @property
    def close_error(self) -> Optional[Error]:
        """Why the registry did not confirm the removal on close, or None."""
        return self._close_errors[0] if self._close_errors else None

    def __repr__(self) -> str:
        try:
            state = getattr(self.state, "name", None) or str(self.state)
        except ClosedError:
            state = "closed"
        return (f"<devkit.Registration id={self._id} {self._registry} service={self._service} "
                f"{state.lower()}>")

    # -- state ---------------------------------------------------------------
    @property
    def context(self) -> Context:
        return self._ctx

    @property
    def expose(self) -> Optional["Expose"]:
        """The Expose this registration belongs to, or None."""
        return self._expose

    @property
    def id(self) -> int:
        """The id that events carry in ``object_id``."""
        return self._id

    @property
    def service(self) -> str:
        return self._service

    @property
    def registry(self) -> str:
        """The registry URL, without user info or query."""
        return self._registry

    @property
    def state(self) -> Union[RegistrationState, int]:
        with self._life.use() as ptr:
            return to_enum(RegistrationState, capi.devkit_registration_get_state(ptr))

    def wait(self, timeout_ms: Optional[int] = None) -> None:
        """Wait until the entry is in the registry (state REGISTERED).

        `timeout_ms` None (or negative): no limit. Raises the last attempt's
        error when the time runs out after attempts failed (a registry that is
        down: ``ConnectionRefusedError``, while the state is RETRYING),
        ``TimeoutError`` if no attempt finished, the refusal's error at once if
        the state is FAILED, ``ClosedError`` if the registration is closed."""
        deadline = None if timeout_ms is None or timeout_ms < 0 else \
            time.monotonic() + timeout_ms / 1000.0
        while True:
            if deadline is None:
                slice_ms = _WAIT_SLICE_MS
            else:
                slice_ms = min(_WAIT_SLICE_MS,
                               max(0, int((deadline - time.monotonic()) * 1000 + 0.999)))
            with self._life.use() as ptr:
                try:
                    capi.devkit_registration_wait(ptr, slice_ms)
                    return
                except ClosedError:
                    raise
                except Error as e:
                    final = deadline is not None and time.monotonic() >= deadline
                    state = capi.devkit_registration_get_state(ptr)
                    if state == RegistrationState.FAILED:
                        raise
                    if not final:
                        continue
                    if isinstance(e, TimeoutError) and not self._failures(ptr):
                        # No attempt finished: say so with the caller's timeout.
                        raise TimeoutError(
                            f"{self._registry} {self._service}: not registered after "
                            f"{timeout_ms} ms (state {capi.devkit_registration_state_name(state)})",
                            e.code) from None
                    raise

    @staticmethod
    def _failures(ptr: Any) -> int:
        out = capi.devkit_registration_stats()
        capi.devkit_registration_get_stats(ptr, out)
        return out.failures

    def describe(self) -> Dict[str, Any]:
        """What is registered where: registry (without credentials), backend,
        service, instance_id, address, port, state, metadata, the keys written,
        stats and the last error."""
        with self._life.use() as ptr:
            text = capi.devkit_registration_describe(ptr)
        return json.loads(text)

    def stats(self) -> RegistrationStats:
        out = capi.devkit_registration_stats()
        with self._life.use() as ptr:
            capi.devkit_registration_get_stats(ptr, out)
        return RegistrationStats(out.registrations, out.heartbeats, out.failures, out.lost)


class Expose(Handle):
    """A local service made reachable by cloud callers: a reverse forward on
    the bastion (``forward``) plus the registration of the bastion's address and
    that port (``registration``). ``Expose(tunnel, ...)`` is ``tunnel.expose(...)``.

    With `registry_via_tunnel` (the default) the registry is reached through
    the tunnel, as a registry inside the cluster needs. `advertise_host` is the
    bastion's address as cloud callers reach it (default: the bastion's host).
    The registration options are those of ``Registration`` but `address` and
    `port`, which the expose fills in.
    """

    def __init__(self, tunnel: "Tunnel", *,
                 local_port: int,
                 registry: str,
                 service: str,
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
                 ca_file: Optional[PathLike] = None,
                 insecure: Optional[bool] = None,
                 connect_to: Optional[str] = None,
                 timeout_ms: Optional[int] = None) -> None:
        from ._tunnel import Forward, _fill
        eo = _fill(capi.devkit_expose_options(), dict(
            local_port=local_port, local_host=local_host, remote_port=remote_port,
            remote_bind_address=remote_bind_address, advertise_host=advertise_host,
            registry_via_tunnel=registry_via_tunnel))
        ro = _registration_options(dict(
            registry=registry, service=service, metadata=metadata, tag=tag, username=username,
            password=password, token=token, ttl_ms=ttl_ms, heartbeat_ms=heartbeat_ms,
            protocol=protocol, interface_name=interface_name, methods=methods, ca_file=ca_file,
            insecure=insecure, connect_to=connect_to, timeout_ms=timeout_ms))
        self._tunnel = tunnel  # keeps the tunnel (and its context) alive
        self._close_errors: List[Error] = []
        self._local = f"{local_host or '127.0.0.1'}:{local_port}"
        with tunnel._life.use() as tptr:
            ptr = capi.devkit_tunnel_expose(tptr, eo, ro)
            # The tunnel is the parent: closing it (or its context) closes us first,
            # while the forwards C frees with us still exist.
            self._life = Lifetime("expose", ptr, _closer(capi.devkit_expose_close,
                                                         self._close_errors),
                                  parent=tunnel._life)
            self._registration = Registration._of_expose(
                self, capi.devkit_expose_registration(ptr), registry, service)
            self._forward: "Forward" = Forward._of_expose(
                tunnel, capi.devkit_expose_forward(ptr), self)
            self._remote_port = capi.devkit_forward_port(capi.devkit_expose_forward(ptr))
        tunnel._services.add(self)  # as in C: it lives until it or its tunnel is closed
        self._finalizer = weakref.finalize(self, self._life.close)

    def close(self) -> None:
        """Deregister, then remove the forwards. Idempotent; never raises for a
        failed deregistration (``close_error`` says why)."""
        self._finalizer.detach()
        self._life.close()
        self._tunnel._services.discard(self)

    @property
    def close_error(self) -> Optional[Error]:
        """Why the registry did not confirm the removal on close, or None."""
        return self._close_errors[0] if self._close_errors else None

    def __repr__(self) -> str:
        where = "closed" if self.closed else f"bastion port {self._remote_port}"
        return f"<devkit.Expose {self._registration.service} {self._local} -> {where}>"

    @property
    def tunnel(self) -> "Tunnel":
        return self._tunnel

    @property
    def registration(self) -> Registration:
        """The registration (closing it closes this Expose)."""
        return self._registration

    @property
    def forward(self) -> "Forward":
        """The reverse forward on the bastion (closing it closes this Expose)."""
        return self._forward
