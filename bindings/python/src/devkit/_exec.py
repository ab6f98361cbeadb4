# SPDX-License-Identifier: Apache-2.0
"""Kubernetes streaming (devkit/exec.h): exec and attach sessions, the
one-call ``exec_run``, and port-forward.

A session (``Exec``) and a forward (``PodForward``) are handles of their
``Kubernetes`` client: C frees them before the client, so the client's close
(and the context's) closes them first, and the client holds them until then.
A forward through a bastion tunnel is also the tunnel's: C frees it before
the tunnel, so the tunnel's close closes it first.

Reads and waits never stay inside C for longer than ``_SLICE_MS``: C must not
free a session while a call is in progress, so ``close()`` from another
thread waits at most that long. A write blocks, as in C, while about 1 MiB of
stdin is still waiting for the command to read it; a ``close()`` from
another thread waits for that write.
"""
from __future__ import annotations

import json
import threading
import time
import weakref
from typing import (TYPE_CHECKING, Any, Iterator, NamedTuple, Optional, Sequence, Tuple,
                    Union)

from . import capi
from ._errors import InvalidArgumentError, TimeoutError
from ._lifetime import Handle, Lifetime
from ._tunnel import _fill

if TYPE_CHECKING:  # pragma: no cover
    from ._k8s import Kubernetes
    from ._tunnel import Tunnel

# The longest a read or a wait stays inside C; a close() from another thread waits this long at most.
_SLICE_MS = 100

#: The stream numbers ``Exec.read`` reports (DEVKIT_EXEC_STDOUT / _STDERR).
STDOUT: int = capi.DEVKIT_EXEC_STDOUT
STDERR: int = capi.DEVKIT_EXEC_STDERR

Command = Union[str, Sequence[str], None]


class ExecOutput(NamedTuple):
    """Bytes of one stream, in the order they came: ``stream`` is
    ``devkit.STDOUT`` or ``devkit.STDERR`` (with a terminal, everything comes
    on stdout)."""
    stream: int
    data: bytes


class ExecResult(NamedTuple):
    """What ``Kubernetes.exec_run`` gives: unpacks as ``code, out, err``."""
    exit_code: int
    stdout: bytes
    stderr: bytes


def _exec_options(pod: str, command: Command, *, container: Optional[str],
                  namespace: Optional[str], stdin: bool, tty: bool, attach: bool,
                  timeout_ms: Optional[int]) -> Any:
    """The C struct: a str command runs as `sh -c COMMAND`, a sequence as argv."""
    shell_line: Optional[str] = None
    argv_json: Optional[str] = None
    if isinstance(command, str):
        shell_line = command
    elif command is not None:
        argv = list(command)
        if not argv or not all(isinstance(a, str) for a in argv):
            raise InvalidArgumentError(
                "exec: the command is a shell line (str) or a non-empty list of str "
                f"(got {command!r})", InvalidArgumentError.code)
        argv_json = json.dumps(argv)
    return _fill(capi.devkit_exec_options(), dict(
        namespace_name=namespace, pod=pod, container=container, command=shell_line,
        argv_json=argv_json, stdin_enabled=stdin, tty=tty, attach=attach,
        timeout_ms=timeout_ms))


def _as_bytes(data: Union[bytes, bytearray, memoryview, str]) -> Any:
    return data.encode("utf-8") if isinstance(data, str) else data


def _deadline(timeout_ms: Optional[int]) -> Optional[float]:
    return None if timeout_ms is None or timeout_ms < 0 else time.monotonic() + timeout_ms / 1000.0


def _expired(deadline: Optional[float]) -> bool:
    return deadline is not None and time.monotonic() >= deadline


def _slice(deadline: Optional[float]) -> int:
    if deadline is None:
        return _SLICE_MS
    return min(_SLICE_MS, max(0, int((deadline - time.monotonic()) * 1000 + 0.999)))


class _Session(Handle):
    """A handle of a Kubernetes client, closed with it: the common part of
    Exec, PodForward and the live-workflow sessions."""

    _what = "session"

    def _adopt(self, k8s: "Kubernetes", ptr: Any, free: Any,
               parent: Optional[Lifetime] = None) -> None:
        # Called with the client (and the parent, if any) held, so neither closes meanwhile.
        self._k8s = k8s  # keeps the client (and its context) alive
        self._life = Lifetime(self._what, ptr, free,
                              parent=k8s._life if parent is None else parent)
        k8s._streams.add(self)
        self._finalizer = weakref.finalize(self, self._life.close)

    def close(self) -> None:
        """Free the handle. Idempotent; any thread (a read or wait in
        progress elsewhere ends within ~100 ms)."""
        self._finalizer.detach()
        self._life.close()
        self._k8s._streams.discard(self)


class Exec(_Session):
    """A command running in a container, or an attachment to its main
    process (``Kubernetes.exec`` / ``Kubernetes.attach``).

    ``read()`` gives the output as it comes (``ExecOutput(stream, data)``,
    None at the end); iterating does the same until the end. ``write()``
    sends stdin (with ``stdin=True``), ``close_stdin()`` sends EOF (the
    command reads it), ``wait()`` gives the exit code, ``resize()`` sets the
    terminal's size (with ``tty=True``). ``close()`` (or leaving ``with``)
    ends the session; the server decides what happens to the command.
    Errors the server reports (a missing executable, the container gone)
    raise with its message.
    """

    _what = "exec session"

    #: The stream numbers of ``ExecOutput.stream``.
    STDOUT = STDOUT
    STDERR = STDERR

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str,
                 container: Optional[str], attach: bool = False) -> None:
        self._adopt(k8s, ptr, capi.devkit_exec_free)
        self._read_lock = threading.Lock()  # C allows one reader at a time
        self._protocol = capi.devkit_exec_protocol(ptr) or ""
        self.pod = pod
        self.namespace = namespace
        self.container = container
        self.attach = attach

    @property
    def protocol(self) -> str:
        """The subprotocol the server chose: "v5.channel.k8s.io" (stdin can be
        half-closed) or "v4.channel.k8s.io"."""
        return self._protocol

    def write(self, data: Union[bytes, bytearray, memoryview, str]) -> None:
        """Send bytes (a str is sent as UTF-8) to the command's stdin. Blocks
        while about 1 MiB is still waiting to be sent. ``InvalidArgumentError``
        without ``stdin=True`` or after ``close_stdin()``; the session's error
        once it has ended."""
        with self._life.use() as ptr:
            capi.devkit_exec_write(ptr, _as_bytes(data))

    def close_stdin(self) -> None:
        """End of stdin: the command reads EOF once what was written is sent.
        ``UnsupportedError`` when the server speaks v4.channel.k8s.io
        (Kubernetes before 1.29 cannot half-close stdin)."""
        with self._life.use() as ptr:
            capi.devkit_exec_close_stdin(ptr)

    def resize(self, cols: int, rows: int) -> None:
        """Set the terminal's size (``tty=True`` only: ``InvalidArgumentError``
        otherwise)."""
        with self._life.use() as ptr:
            capi.devkit_exec_resize(ptr, int(cols), int(rows))

    def read(self, timeout_ms: Optional[int] = None) -> Optional[ExecOutput]:
        """The next output, one stream's bytes in the order they came; None
        once both streams have ended and everything was read. Waits up to
        `timeout_ms` (None or negative: no limit; 0: do not wait) and raises
        ``TimeoutError`` when nothing came in time. Raises the error that ended
        the session (after the bytes that came before it). While about 1 MiB
        waits unread the command is not read from (it blocks)."""
        deadline = _deadline(timeout_ms)
        while True:
            with self._read_lock, self._life.use() as ptr:
                try:
                    n, stream, data = capi.devkit_exec_read(ptr, _slice(deadline))
                except TimeoutError as e:
                    if _expired(deadline):
                        raise TimeoutError(
                            f"{self._describe()}: no output within {timeout_ms} ms",
                            e.code) from None
                    continue
            return ExecOutput(stream, data) if n > 0 else None

    def __iter__(self) -> Iterator[ExecOutput]:
        return self

    def __next__(self) -> ExecOutput:
        chunk = self.read()
        if chunk is None:
            raise StopIteration
        return chunk

    def output(self, timeout_ms: Optional[int] = None) -> Tuple[bytes, bytes]:
        """Read to the end: (stdout, stderr). `timeout_ms` bounds the whole
        read (``TimeoutError``)."""
        deadline = _deadline(timeout_ms)
        out, err = bytearray(), bytearray()
        while True:
            left = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            chunk = self.read(left)
            if chunk is None:
                return bytes(out), bytes(err)
            (err if chunk.stream == STDERR else out).extend(chunk.data)

    def wait(self, timeout_ms: Optional[int] = None) -> int:
        """Wait for the command to end and give its exit code (0, or N for
        "command terminated with non-zero exit code"). Another failure the
        server reports raises with its message; ``TimeoutError`` if it has not
        ended within `timeout_ms` (None: no limit). Reads no output: read it
        first (a command blocked on unread output never ends)."""
        deadline = _deadline(timeout_ms)
        while True:
            with self._life.use() as ptr:
                try:
                    return int(capi.devkit_exec_wait(ptr, _slice(deadline)))
                except TimeoutError as e:
                    if _expired(deadline):
                        raise TimeoutError(f"{self._describe()}: still running after "
                                           f"{timeout_ms} ms", e.code) from None

    def _describe(self) -> str:
        container = f" ({self.container})" if self.container else ""
        return f"{'attach' if self.attach else 'exec'} {self.namespace}/{self.pod}{container}"

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<devkit.Exec {self._describe()} {self._protocol}{state}>"


class PodForward(_Session):
    """A local port forwarded to a Pod's port (``Kubernetes.port_forward``):
    connect to ``127.0.0.1:port`` (or the bind address) and bytes go both
    ways, one port-forward stream per connection (or one bastion channel,
    through a tunnel). ``close()`` stops listening and closes every
    forwarded connection. A context manager."""

    _what = "pod forward"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str, pod_port: int,
                 tunnel: Optional["Tunnel"] = None) -> None:
        # Through a tunnel the forward is the tunnel's (C frees it before the tunnel).
        self._tunnel = tunnel  # keeps the tunnel alive
        self._adopt(k8s, ptr, capi.devkit_pod_forward_free,
                    parent=None if tunnel is None else tunnel._life)
        self._port = int(capi.devkit_pod_forward_port(ptr))
        self.pod = pod
        self.namespace = namespace
        self.pod_port = pod_port

    @property
    def port(self) -> int:
        """The local port (the one picked with ``local_port=0``)."""
        return self._port

    @property
    def tunnel(self) -> Optional["Tunnel"]:
        """The bastion tunnel it goes through, or None (the API server)."""
        return self._tunnel

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        via = " via tunnel" if self._tunnel is not None else ""
        return (f"<devkit.PodForward 127.0.0.1:{self._port} -> {self.namespace}/{self.pod}:"
                f"{self.pod_port}{via}{state}>")


# -- the Kubernetes client's methods (devkit._k8s calls these) -----------------------------

def start_exec(k8s: "Kubernetes", pod: str, command: Command, *, container: Optional[str],
               namespace: Optional[str], stdin: bool, tty: bool, attach: bool,
               timeout_ms: Optional[int]) -> Exec:
    opts = _exec_options(pod, command, container=container, namespace=namespace, stdin=stdin,
                         tty=tty, attach=attach, timeout_ms=timeout_ms)
    with k8s._life.use() as ptr:
        eptr = capi.devkit_exec_start(ptr, opts)
        return Exec(k8s, eptr, pod, namespace or k8s.namespace, container, attach=attach)


def run(k8s: "Kubernetes", pod: str, command: Command, *,
        stdin: Union[bytes, bytearray, memoryview, str, None], container: Optional[str],
        namespace: Optional[str], tty: bool, timeout_ms: Optional[int]) -> ExecResult:
    if command is None:
        raise InvalidArgumentError("exec_run: a command is required", InvalidArgumentError.code)
    opts = _exec_options(pod, command, container=container, namespace=namespace,
                         stdin=stdin is not None, tty=tty, attach=False, timeout_ms=timeout_ms)
    with k8s._life.use() as ptr:
        out, err, code = capi.devkit_exec_run(
            ptr, opts, None if stdin is None else _as_bytes(stdin))
    return ExecResult(int(code), out, err)


def port_forward(k8s: "Kubernetes", pod: str, pod_port: int, local_port: int, *,
                 bind_address: Optional[str], namespace: Optional[str],
                 tunnel: Optional["Tunnel"]) -> PodForward:
    ns = namespace or k8s.namespace
    with k8s._life.use() as ptr:
        if tunnel is None:
            fptr = capi.devkit_pod_forward_start(ptr, namespace, pod, int(pod_port),
                                                 bind_address, int(local_port))
            return PodForward(k8s, fptr, pod, ns, int(pod_port))
        with tunnel._life.use() as tptr:
            fptr = capi.devkit_pod_forward_start_tunnel(ptr, tptr, namespace, pod, int(pod_port),
                                                        bind_address, int(local_port))
            return PodForward(k8s, fptr, pod, ns, int(pod_port), tunnel=tunnel)
