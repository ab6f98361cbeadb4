# SPDX-License-Identifier: Apache-2.0
"""libdevkit for Python: SSH tunnels to a bastion, SOCKS/HTTP proxy, forwards,
remote DNS, process routing, service registry registration, a Kubernetes API
client with Pod replicas, Pod diagnostics (events, logs, reports, tcpdump),
exec/attach sessions and port-forward, the live workflow on a replica
(deploy, app restart, debugger, Arthas, audited shell), and devkit.yaml
configuration files.

    import devkit

    with devkit.Tunnel("root@bastion:22", identity_file="~/.ssh/id_ed25519") as t:
        proxy = t.dynamic_forward()            # SOCKS5 + HTTP proxy on 127.0.0.1
        print("proxy on", proxy.port)
        for event in t.context.events(timeout=1.0):
            print(event)

Every failure raises a subclass of :class:`devkit.Error`. Objects are
thread-safe, close deterministically (``with`` or ``close()``), and are closed
by the garbage collector otherwise. ``devkit.capi`` is the raw SWIG layer.
"""
from __future__ import annotations

from . import capi
from ._capture import Capture, CaptureStats
from ._config import Config, ConfigSection
from ._context import Context, Event, Listener
from ._diag import EventWatch, Logs, LogsStats, Report
from ._dns import Dns, DnsStats, Router, RouterStats
from ._enums import (ErrorCode, EventType, ForwardKind, HostKeyPolicy, LogLevel,
                     RegistrationState, ReplicaSource, ReplicaStage, TunnelState)
from ._errors import (AuthError, ClosedError, ConnectionRefusedError, Error, ExistsError,
                      ForbiddenError, HostKeyError, InvalidArgumentError, IoError,
                      NoMemoryError, NotFoundError, ProtocolError, TimeoutError,
                      UnsupportedError)
from ._exec import STDERR, STDOUT, Exec, ExecOutput, ExecResult, PodForward
from ._k8s import Kubernetes, Replica
from ._live import App, AppAction, ArthasResult, Debug, DeployResult, Shell
from ._registry import Expose, Registration, RegistrationStats
from ._tunnel import Forward, ForwardStats, Tunnel, TunnelStats

#: The version of these bindings, which is the version of the C headers they
#: were built from (the library is linked into the extension).
__version__: str = capi.DEVKIT_VERSION


def library_version() -> str:
    """The version the loaded C library reports (devkit_version())."""
    return capi.devkit_version()[0]


def strerror(code: int) -> str:
    """A short, static description of an error code."""
    return capi.devkit_strerror(int(code))


__all__ = [
    "__version__", "library_version", "strerror",
    "Context", "Event", "Listener", "Tunnel", "TunnelStats", "Forward", "ForwardStats",
    "Dns", "DnsStats", "Router", "RouterStats", "Registration", "RegistrationStats", "Expose",
    "Kubernetes", "Replica", "Logs", "LogsStats", "EventWatch", "Report", "Capture", "CaptureStats",
    "Exec", "ExecOutput", "ExecResult", "PodForward", "STDOUT", "STDERR",
    "App", "AppAction", "DeployResult", "Debug", "ArthasResult", "Shell",
    "Config", "ConfigSection",
    "ErrorCode", "EventType", "ForwardKind", "HostKeyPolicy", "LogLevel", "TunnelState",
    "RegistrationState", "ReplicaStage", "ReplicaSource",
    "Error", "InvalidArgumentError", "NoMemoryError", "IoError", "TimeoutError",
    "NotFoundError", "ConnectionRefusedError", "HostKeyError", "AuthError", "ProtocolError",
    "ClosedError", "ExistsError", "UnsupportedError", "ForbiddenError",
]
