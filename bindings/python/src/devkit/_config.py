# SPDX-License-Identifier: Apache-2.0
"""Configuration files (devkit_config): one devkit.yaml describes one developer
environment and loads into the options of each part.

C hands out BORROWED options structs that live inside the config. Here every
section is copied into Python objects at load, while the config is held, so
no C pointer ever outlives the Config: the sections stay readable after
``close()``, which only ``describe()`` needs the config open for.

Each section is a read-only mapping whose keys are the keyword arguments of
the typed API, so it can be passed on as it is::

    cfg = devkit.Config.load("devkit.yaml", profile="staging")
    with devkit.Tunnel(**cfg.tunnel) as tunnel:
        for forward in cfg.forwards:
            tunnel.add_forward(**forward)
        dns = tunnel.dns(**cfg.dns) if cfg.dns else None
        for exposed in cfg.exposes:
            tunnel.expose(**exposed)
"""
from __future__ import annotations

import json
import os
import weakref
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from . import capi
from ._enums import ForwardKind, HostKeyPolicy, ReplicaSource, to_enum
from ._lifetime import Handle, Lifetime

PathLike = Union[str, "os.PathLike[str]"]

#: Keys whose values are secrets (read from the environment at load): their
#: values are never shown by repr() or str().
SECRET_KEYS = frozenset({"identity_passphrase", "password", "proxy_password", "token"})


class ConfigSection(Mapping[str, Any]):
    """One section of a loaded configuration: a read-only mapping (and the same
    values as attributes) of the keyword arguments of the typed API. Values
    left at their default are there too (strings as None). ``repr`` hides
    secrets; ``dict(section)`` and ``**section`` give them."""

    __slots__ = ("_what", "_values")

    def __init__(self, what: str, values: Dict[str, Any]) -> None:
        object.__setattr__(self, "_what", what)
        object.__setattr__(self, "_values", dict(values))

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return object.__getattribute__(self, "_values")[name]
        except KeyError:
            raise AttributeError(f"the {self._what} section has no {name!r}") from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("configuration sections are read-only")

    def __reduce__(self):
        return (ConfigSection, (self._what, self._values))

    def __repr__(self) -> str:
        shown = {k: ("***" if k in SECRET_KEYS and v is not None else v)
                 for k, v in self._values.items()}
        return f"<devkit.ConfigSection {self._what} {shown!r}>"

    __str__ = __repr__


# (C field, Python key, conversion) per struct; None: the value as it is.
Field = Tuple[str, str, Optional[Callable[[Any], Any]]]


def _bool(value: Any) -> bool:
    return bool(value)


def _metadata(text: Optional[str]) -> Optional[Dict[str, str]]:
    """C's "key=value" lines as a dict (the form Registration takes)."""
    if text is None:
        return None
    out: Dict[str, str] = {}
    for line in text.splitlines():
        if line:
            key, _, value = line.partition("=")
            out[key] = value
    return out


def _methods(text: Optional[str]) -> Optional[List[str]]:
    return None if text is None else [m for m in text.split(",") if m]


_TUNNEL: Sequence[Field] = (
    ("bastion", "bastion", None), ("user", "user", None),
    ("identity_file", "identity_file", None),
    ("identity_passphrase", "identity_passphrase", None), ("password", "password", None),
    ("use_agent", "use_agent", _bool), ("known_hosts_file", "known_hosts_file", None),
    ("host_key_policy", "host_key_policy", lambda v: to_enum(HostKeyPolicy, v)),
    ("host_key_sha256", "host_key_sha256", None), ("ciphers", "ciphers", None),
    ("macs", "macs", None), ("kex", "kex", None),
    ("connect_timeout_ms", "connect_timeout_ms", None),
    ("keepalive_interval_s", "keepalive_interval_s", None),
    ("keepalive_count_max", "keepalive_count_max", None), ("reconnect", "reconnect", _bool),
    ("reconnect_initial_ms", "reconnect_initial_ms", None),
    ("reconnect_max_ms", "reconnect_max_ms", None),
    ("reconnect_max_attempts", "reconnect_max_attempts", None),
)
_FORWARD: Sequence[Field] = (
    ("kind", "kind", lambda v: to_enum(ForwardKind, v)), ("bind_address", "bind_address", None),
    ("bind_port", "bind_port", None), ("target_host", "target_host", None),
    ("target_port", "target_port", None), ("proxy_username", "proxy_username", None),
    ("proxy_password", "proxy_password", None),
    ("allow_non_loopback", "allow_non_loopback", _bool),
)
_DNS: Sequence[Field] = (
    ("cluster_dns", "cluster_dns", None), ("cluster_domains", "cluster_domains", None),
    ("search", "search", None), ("ndots", "ndots", None), ("upstream", "upstream", None),
    ("bind_address", "bind_address", None), ("bind_port", "bind_port", None),
    ("timeout_ms", "timeout_ms", None), ("cache_max", "cache_max", None),
)
# The router's `dns` handle is NULL in a config: the caller passes its Dns.
_ROUTER: Sequence[Field] = (
    ("control_path", "control_path", None), ("open_timeout_ms", "open_timeout_ms", None),
)
_EXPOSE: Sequence[Field] = (
    ("local_port", "local_port", None), ("local_host", "local_host", None),
    ("remote_port", "remote_port", None), ("remote_bind_address", "remote_bind_address", None),
    ("advertise_host", "advertise_host", None),
    ("registry_via_tunnel", "registry_via_tunnel", _bool),
)
# address and port are left out: the expose fills them in.
_REGISTRATION: Sequence[Field] = (
    ("registry", "registry", None), ("service", "service", None),
    ("metadata", "metadata", _metadata), ("tag", "tag", None), ("username", "username", None),
    ("password", "password", None), ("token", "token", None), ("ttl_ms", "ttl_ms", None),
    ("heartbeat_ms", "heartbeat_ms", None), ("protocol", "protocol", None),
    ("interface_name", "interface_name", None), ("methods", "methods", _methods),
    ("ca_file", "ca_file", None), ("insecure", "insecure", _bool),
    ("connect_to", "connect_to", None), ("timeout_ms", "timeout_ms", None),
)
_KUBERNETES: Sequence[Field] = (
    ("kubeconfig", "kubeconfig", None), ("context", "context", None),
    ("namespace_name", "namespace", None), ("timeout_ms", "timeout_ms", None),
    ("retries", "retries", None), ("connect_to", "connect_to", None),
)
_REPLICA: Sequence[Field] = (
    ("namespace_name", "namespace", None), ("name", "name", None), ("owner", "owner", None),
    ("container", "container", None), ("keep_alive", "keep_alive", _bool),
    ("command", "command", None), ("node_name", "node", None), ("log_file", "log_file", None),
    ("traffic_tag", "tag", None), ("istio", "istio", _bool), ("tag_header", "tag_header", None),
    ("istio_host", "istio_host", None), ("tcpdump", "tcpdump", _bool),
    ("tcpdump_image", "tcpdump_image", None), ("tcpdump_filter", "tcpdump_filter", None),
    ("jvm_exception_log", "jvm_exception_log", _bool), ("no_liveness", "no_liveness", _bool),
    ("no_readiness", "no_readiness", _bool), ("no_startup", "no_startup", _bool),
    ("debug_port", "debug_port", None), ("ttl_s", "ttl_s", None),
    ("keep_labels", "keep_labels", _bool),
)
_SOURCE_KEYS = {ReplicaSource.POD: "pod", ReplicaSource.DEPLOYMENT: "deployment",
                ReplicaSource.STATEFULSET: "statefulset", ReplicaSource.DAEMONSET: "daemonset"}


def _copy(struct: Any, fields: Sequence[Field]) -> Dict[str, Any]:
    """Every field of a borrowed C struct, read now (the struct is not kept)."""
    out: Dict[str, Any] = {}
    for c_name, key, convert in fields:
        value = getattr(struct, c_name)
        out[key] = convert(value) if convert is not None else value
    return out


def _replica(struct: Any) -> Dict[str, Any]:
    source = to_enum(ReplicaSource, struct.source_kind)
    key = _SOURCE_KEYS.get(source) if isinstance(source, ReplicaSource) else None
    if key is None:  # a source kind a newer C library added
        out: Dict[str, Any] = {"source_kind": source, "source_name": struct.source_name}
    else:
        out = {key: struct.source_name}
    out.update(_copy(struct, _REPLICA))
    return out


class Config(Handle):
    """A loaded devkit.yaml (docs/config.md): ``Config.load(path, profile=None)``
    or ``Config.from_string(text, name=None, profile=None)``.

    Loading checks everything that can be checked without the network; a
    mistake raises ``InvalidArgumentError`` whose message says where and what
    was expected ("devkit.yaml:12:5: expose[0].local: expected [HOST:]PORT with
    a port 1-65535, got \\"http\\""); a missing file or profile raises
    ``NotFoundError``, an unreadable file ``IoError``.

    The sections (``tunnel``, ``forwards``, ``dns``, ``router``, ``exposes``,
    ``kubernetes``, ``replicas``) are copies made at load
    (:class:`ConfigSection`), whose keys are the keyword arguments of
    ``devkit.Tunnel``, ``Tunnel.add_forward``, ``Tunnel.dns``,
    ``Tunnel.router``, ``Tunnel.expose``, ``devkit.Kubernetes`` and
    ``Kubernetes.replicate``. Secrets (from the ``*_env`` keys) are in the
    sections, so that they can be passed on, but no ``repr`` shows them and
    ``describe()`` never has them. Thread-safe; ``close()`` (or ``with``, or
    the garbage collector) frees the C config and wipes the secrets it read.
    """

    _life: Lifetime

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise TypeError("use devkit.Config.load(path) or devkit.Config.from_string(text)")

    @classmethod
    def load(cls, path: PathLike, profile: Optional[str] = None) -> "Config":
        """Load a file. Relative paths in it are taken relative to its directory."""
        return cls._make(capi.devkit_config_load(os.path.expanduser(os.fspath(path)), profile))

    @classmethod
    def from_string(cls, text: str, *, name: Optional[str] = None,
                    profile: Optional[str] = None) -> "Config":
        """Load YAML text; `name` is what messages call it (default "<string>").
        Relative paths stay relative to the current directory."""
        return cls._make(capi.devkit_config_load_string(text, name, profile))

    @classmethod
    def _make(cls, ptr: Any) -> "Config":
        self = cls.__new__(cls)
        self._life = Lifetime("config", ptr, capi.devkit_config_free)
        self._finalizer = weakref.finalize(self, self._life.close)
        try:
            with self._life.use() as p:
                self._name: str = capi.devkit_config_name(p) or ""
                self._profile: Optional[str] = capi.devkit_config_profile(p)
                self._profiles = tuple(capi.devkit_config_profile_name(p, i)
                                       for i in range(capi.devkit_config_profile_count(p)))
                t = capi.devkit_config_tunnel(p)
                self._tunnel = None if t is None else ConfigSection("tunnel", _copy(t, _TUNNEL))
                self._forwards = tuple(
                    ConfigSection(f"forwards[{i}]",
                                  _copy(capi.devkit_config_forward(p, i), _FORWARD))
                    for i in range(capi.devkit_config_forward_count(p)))
                d = capi.devkit_config_dns(p)
                self._dns = None if d is None else ConfigSection("dns", _copy(d, _DNS))
                r = capi.devkit_config_router(p)
                self._router = None if r is None else ConfigSection("routing", _copy(r, _ROUTER))
                exposes = []
                for i in range(capi.devkit_config_expose_count(p)):
                    values = _copy(capi.devkit_config_expose(p, i), _EXPOSE)
                    values.update(_copy(capi.devkit_config_expose_registration(p, i),
                                        _REGISTRATION))
                    exposes.append(ConfigSection(f"expose[{i}]", values))
                self._exposes = tuple(exposes)
                k = capi.devkit_config_kubernetes(p)
                self._kubernetes = None if k is None else ConfigSection("kubernetes",
                                                                        _copy(k, _KUBERNETES))
                self._replicas = tuple(
                    ConfigSection(f"replicas[{i}]", _replica(capi.devkit_config_replica(p, i)))
                    for i in range(capi.devkit_config_replica_count(p)))
        except BaseException:
            self.close()  # freed now, not when the half-made object is collected
            raise
        return self

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Free the C config (wiping the secrets it read). Idempotent. The
        sections stay readable (they are copies); ``describe()`` raises
        ``ClosedError``."""
        self._finalizer.detach()
        self._life.close()

    def __repr__(self) -> str:
        profile = f" profile={self._profile}" if self._profile else ""
        return f"<devkit.Config {self._name}{profile}{' closed' if self.closed else ''}>"

    # -- what it says ----------------------------------------------------------
    @property
    def name(self) -> str:
        """What messages call it: the path, or the name given to from_string."""
        return self._name

    @property
    def profile(self) -> Optional[str]:
        """The profile selected at load, or None."""
        return self._profile

    @property
    def profiles(self) -> List[str]:
        """The profiles the file defines, in the order written."""
        return list(self._profiles)

    @property
    def tunnel(self) -> Optional[ConfigSection]:
        """``devkit.Tunnel(**cfg.tunnel)``; None when the file has no tunnel (then
        it has no forwards, dns, routing or expose either)."""
        return self._tunnel

    @property
    def forwards(self) -> List[ConfigSection]:
        """``tunnel.add_forward(**f)`` for each, in the order written."""
        return list(self._forwards)

    @property
    def dns(self) -> Optional[ConfigSection]:
        """``tunnel.dns(**cfg.dns)``; None without a ``dns:`` section."""
        return self._dns

    @property
    def router(self) -> Optional[ConfigSection]:
        """``tunnel.router(dns=dns, **cfg.router)``; None unless routing is on."""
        return self._router

    @property
    def exposes(self) -> List[ConfigSection]:
        """``tunnel.expose(**e)`` for each: the expose and its registration's
        options in one mapping (`metadata` a dict, `methods` a list)."""
        return list(self._exposes)

    @property
    def kubernetes(self) -> Optional[ConfigSection]:
        """``devkit.Kubernetes(ctx, **cfg.kubernetes)``; None without a
        ``kubernetes:`` section (replicas then use $KUBECONFIG, ~/.kube/config)."""
        return self._kubernetes

    @property
    def replicas(self) -> List[ConfigSection]:
        """``k8s.replicate(**r)`` for each (the source as pod=, deployment=, ...)."""
        return list(self._replicas)

    def describe(self) -> Dict[str, Any]:
        """The effective configuration (profile merged, ${ENV} expanded, paths
        resolved, defaults filled in), in the file's own key names: itself a
        valid devkit.yaml. Never holds a secret, only the names of the
        environment variables they come from."""
        with self._life.use() as p:
            text = capi.devkit_config_describe(p)
        return json.loads(text)
