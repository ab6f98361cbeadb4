# SPDX-License-Identifier: Apache-2.0
"""The live inner loop on a replica (devkit/live.h, docs/live.md): deploy a
new build and restart the app under the replica's keep-alive, start / stop /
restart it, attach the IDE's debugger, run Arthas, and work in an audited
shell.

Everything is a method of the ``Kubernetes`` client (``k8s.deploy``,
``k8s.app(pod).restart()``, ``k8s.debug``, ``k8s.arthas``, ``k8s.shell``).
The calls block the calling thread with the GIL released. ``Debug`` and
``Shell`` are handles of their client, closed with it (a debug forward
through a bastion tunnel is also the tunnel's, closed before it).
"""
from __future__ import annotations

import enum
import os
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, NamedTuple, Optional, Union

from . import capi
from ._errors import InvalidArgumentError, TimeoutError
from ._exec import Exec, _as_bytes, _deadline, _expired, _Session, _slice
from ._tunnel import _fill

if TYPE_CHECKING:  # pragma: no cover
    from ._k8s import Kubernetes, PathLike
    from ._tunnel import Tunnel


class AppAction(enum.IntEnum):
    """What ``Kubernetes.app_control`` asks the keep-alive's devkit-app."""
    STATUS = capi.DEVKIT_APP_STATUS
    START = capi.DEVKIT_APP_START
    STOP = capi.DEVKIT_APP_STOP
    RESTART = capi.DEVKIT_APP_RESTART


def _action(action: Union[AppAction, int, str]) -> int:
    if isinstance(action, str):
        try:
            return int(AppAction[action.upper()])
        except KeyError:
            raise InvalidArgumentError(
                f"app control: unknown action {action!r} (status, start, stop or restart)",
                InvalidArgumentError.code) from None
    return int(action)


@dataclass(frozen=True)
class DeployResult:
    """What ``Kubernetes.deploy`` did."""
    files_sent: int        # files copied in this deploy
    files_unchanged: int   # files left as they were (same size and mtime)
    files_total: int       # files under local_path
    bytes_sent: int        # file bytes copied (not counting tar headers)
    duration_ms: int       # the whole call
    restarted: bool        # the app was restarted
    app_state: str         # devkit-app's answer after the restart ("running pid 42 since ...")


class ArthasResult(NamedTuple):
    """What ``Kubernetes.arthas`` gives: unpacks as ``code, output``."""
    exit_code: int
    output: str


class App:
    """The app a replica's keep-alive runs in one container
    (``Kubernetes.app(pod)``): each method runs devkit-app in the container
    and returns its answer ("running pid 42 since 2026-11-25T10:00:00Z",
    "stopped since ... (exit status 143)", "exited since ... (exit status 1)").
    ``UnsupportedError`` when the container has no keep-alive."""

    def __init__(self, k8s: "Kubernetes", pod: str, container: Optional[str] = None,
                 namespace: Optional[str] = None) -> None:
        self.kubernetes = k8s
        self.pod = pod
        self.container = container
        self.namespace = namespace

    def _do(self, action: AppAction) -> str:
        return app_control(self.kubernetes, self.pod, action, container=self.container,
                           namespace=self.namespace)

    def status(self) -> str:
        """The app's state, whatever it is."""
        return self._do(AppAction.STATUS)

    def start(self) -> str:
        return self._do(AppAction.START)

    def stop(self) -> str:
        return self._do(AppAction.STOP)

    def restart(self) -> str:
        """Stop and start the app; the container and the Pod keep running."""
        return self._do(AppAction.RESTART)

    @property
    def running(self) -> bool:
        return self.status().startswith("running")

    def __repr__(self) -> str:
        container = f" ({self.container})" if self.container else ""
        return f"<devkit.App {self.namespace or self.kubernetes.namespace}/{self.pod}{container}>"


class Debug(_Session):
    """The debug agent's port forwarded to a local port
    (``Kubernetes.debug``): point the IDE at ``127.0.0.1:port``. ``close()``
    stops forwarding; the agent stays on in the app until
    ``Kubernetes.debug_off``. A context manager."""

    _what = "debug session"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str,
                 tunnel: Optional["Tunnel"] = None) -> None:
        self._tunnel = tunnel  # keeps the tunnel alive
        self._adopt(k8s, ptr, capi.devkit_debug_free,
                    parent=None if tunnel is None else tunnel._life)
        self._port = int(capi.devkit_debug_port(ptr))
        self.pod = pod
        self.namespace = namespace

    @property
    def port(self) -> int:
        """The local port the IDE connects to."""
        return self._port

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<devkit.Debug 127.0.0.1:{self._port} -> {self.namespace}/{self.pod}{state}>"


class Shell(_Session):
    """An interactive shell in a container whose every command line goes to
    an audit (``Kubernetes.shell``): ``write()`` the user's keystrokes,
    ``read()`` the terminal's output (the audit's markers removed),
    ``resize()``, ``wait()`` for its exit code; ``commands`` counts what was
    recorded. ``close()`` ends it (a command line typed but not finished is
    recorded with exit_status null). A context manager."""

    _what = "shell"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str) -> None:
        self._adopt(k8s, ptr, capi.devkit_shell_free)
        self._read_lock = threading.Lock()  # one reader at a time, as C wants
        self.pod = pod
        self.namespace = namespace

    def write(self, data: Union[bytes, bytearray, memoryview, str]) -> None:
        """Keystrokes (a str is sent as UTF-8), as a terminal sends them:
        Enter is a carriage return ("ls -l\\r")."""
        with self._life.use() as ptr:
            capi.devkit_shell_write(ptr, _as_bytes(data))

    def read(self, timeout_ms: Optional[int] = None) -> Optional[bytes]:
        """The terminal's next output; None once the shell has ended and
        everything was read. ``TimeoutError`` when nothing came within
        `timeout_ms` (None: no limit)."""
        deadline = _deadline(timeout_ms)
        while True:
            with self._read_lock, self._life.use() as ptr:
                try:
                    n, data = capi.devkit_shell_read(ptr, _slice(deadline))
                except TimeoutError as e:
                    if _expired(deadline):
                        raise TimeoutError(f"shell {self.namespace}/{self.pod}: no output "
                                           f"within {timeout_ms} ms", e.code) from None
                    continue
            return data if n > 0 else None

    def __iter__(self) -> Iterator[bytes]:
        return self

    def __next__(self) -> bytes:
        data = self.read()
        if data is None:
            raise StopIteration
        return data

    def resize(self, cols: int, rows: int) -> None:
        with self._life.use() as ptr:
            capi.devkit_shell_resize(ptr, int(cols), int(rows))

    def wait(self, timeout_ms: Optional[int] = None) -> int:
        """Wait for the shell to end and give its exit code (``TimeoutError``
        after `timeout_ms`; None: no limit)."""
        deadline = _deadline(timeout_ms)
        while True:
            with self._life.use() as ptr:
                try:
                    return int(capi.devkit_shell_wait(ptr, _slice(deadline)))
                except TimeoutError as e:
                    if _expired(deadline):
                        raise TimeoutError(f"shell {self.namespace}/{self.pod}: still running "
                                           f"after {timeout_ms} ms", e.code) from None

    @property
    def commands(self) -> int:
        """Commands recorded so far."""
        with self._life.use() as ptr:
            return int(capi.devkit_shell_commands(ptr))

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<devkit.Shell {self.namespace}/{self.pod}{state}>"


# -- the Kubernetes client's methods (devkit._k8s calls these) -----------------------------

def app_control(k8s: "Kubernetes", pod: str, action: Union[AppAction, int, str], *,
                container: Optional[str], namespace: Optional[str]) -> str:
    code = _action(action)
    with k8s._life.use() as ptr:
        return str(capi.devkit_app_control(ptr, namespace, pod, container, code))


def _path(path: Optional["PathLike"]) -> Optional[str]:
    return None if path is None else os.path.expanduser(os.fspath(path))


#: ``progress(stage, done, total)``: stage "scan", "compare", "send" (bytes) or
#: "restart" (files otherwise).
Progress = Callable[[str, int, int], Any]


def deploy(k8s: "Kubernetes", pod: str, local_path: Optional["PathLike"],
           remote_dir: Optional[str], *, restart: bool, full: bool, container: Optional[str],
           namespace: Optional[str], timeout_ms: Optional[int],
           progress: Optional[Progress] = None) -> DeployResult:
    opts = _fill(capi.devkit_deploy_options(), dict(
        namespace_name=namespace, pod=pod, container=container, local_path=_path(local_path),
        remote_dir=remote_dir, restart=restart, full=full, timeout_ms=timeout_ms))
    result = capi.devkit_deploy_result()
    raised: List[BaseException] = []

    def report(stage: str, done: int, total: int) -> None:
        # Runs inside the C call, on this thread; C cannot stop for an
        # exception, so the first one is kept and raised once it returns.
        if raised:
            return
        try:
            progress(stage, done, total)  # type: ignore[misc]
        except BaseException as e:  # noqa: B902 - KeyboardInterrupt too, raised below
            raised.append(e)

    with k8s._life.use() as ptr:
        capi.devkit_py_deploy(ptr, opts, result, None if progress is None else report)
    if raised:
        raise raised[0]
    return DeployResult(files_sent=int(result.files_sent),
                        files_unchanged=int(result.files_unchanged),
                        files_total=int(result.files_total), bytes_sent=int(result.bytes_sent),
                        duration_ms=int(result.duration_ms), restarted=bool(result.restarted),
                        app_state=str(result.app_state or ""))


def debug(k8s: "Kubernetes", pod: str, port: Optional[int], *, suspend: bool,
          local_port: Optional[int], bind_address: Optional[str], tunnel: Optional["Tunnel"],
          agent_option: Optional[str], container: Optional[str], namespace: Optional[str],
          timeout_ms: Optional[int]) -> Debug:
    opts = _fill(capi.devkit_debug_options(), dict(
        namespace_name=namespace, pod=pod, container=container, port=port, suspend=suspend,
        bind_address=bind_address, local_port=local_port, agent_option=agent_option,
        timeout_ms=timeout_ms))
    ns = namespace or k8s.namespace
    with k8s._life.use() as ptr:
        if tunnel is None:
            dptr = capi.devkit_debug_start(ptr, opts)
            return Debug(k8s, dptr, pod, ns)
        with tunnel._life.use() as tptr:
            opts.tunnel = tptr
            try:
                dptr = capi.devkit_debug_start(ptr, opts)
            finally:
                opts.tunnel = None
            return Debug(k8s, dptr, pod, ns, tunnel=tunnel)


def debug_off(k8s: "Kubernetes", pod: str, *, container: Optional[str],
              namespace: Optional[str]) -> None:
    with k8s._life.use() as ptr:
        capi.devkit_debug_off(ptr, namespace, pod, container)


def _arthas_options(pod: str, package: "PathLike", command: Optional[str], *,
                    pid: Optional[int], java: Optional[str], container: Optional[str],
                    namespace: Optional[str], timeout_ms: Optional[int]) -> Any:
    return _fill(capi.devkit_arthas_options(), dict(
        namespace_name=namespace, pod=pod, container=container, package=_path(package),
        pid=pid, command=command, java=java, timeout_ms=timeout_ms))


def arthas(k8s: "Kubernetes", pod: str, package: "PathLike", command: str, *,
           pid: Optional[int], java: Optional[str], container: Optional[str],
           namespace: Optional[str], timeout_ms: Optional[int]) -> ArthasResult:
    opts = _arthas_options(pod, package, command, pid=pid, java=java, container=container,
                           namespace=namespace, timeout_ms=timeout_ms)
    with k8s._life.use() as ptr:
        output, code = capi.devkit_arthas_run(ptr, opts)
    text = output.decode("utf-8", "replace") if isinstance(output, bytes) else str(output)
    return ArthasResult(int(code), text)


def arthas_console(k8s: "Kubernetes", pod: str, package: "PathLike", *, pid: Optional[int],
                   java: Optional[str], container: Optional[str], namespace: Optional[str],
                   timeout_ms: Optional[int]) -> Exec:
    opts = _arthas_options(pod, package, None, pid=pid, java=java, container=container,
                           namespace=namespace, timeout_ms=timeout_ms)
    with k8s._life.use() as ptr:
        eptr = capi.devkit_arthas_start(ptr, opts)
        return Exec(k8s, eptr, pod, namespace or k8s.namespace, container)


def shell(k8s: "Kubernetes", pod: str, *, shell: Optional[str],
          audit_log: Optional["PathLike"], audit_events: bool, user: Optional[str],
          cols: Optional[int], rows: Optional[int], container: Optional[str],
          namespace: Optional[str]) -> Shell:
    opts = _fill(capi.devkit_shell_options(), dict(
        namespace_name=namespace, pod=pod, container=container, shell=shell,
        audit_log=_path(audit_log), audit_events=audit_events, user=user, cols=cols, rows=rows))
    with k8s._life.use() as ptr:
        sptr = capi.devkit_shell_start(ptr, opts)
        return Shell(k8s, sptr, pod, namespace or k8s.namespace)
