# SPDX-License-Identifier: Apache-2.0
"""Pod diagnostics (devkit/diag.h): events grouped by stage, a watch on them,
container logs and the report of why a Pod is not running.

``Logs`` and ``EventWatch`` are handles of their ``Kubernetes`` client: C frees
them before the client, so the client's close (and the context's) closes them
first, and the client holds them until then, as it holds replica handles.
Reads never block inside C for longer than ``_READ_SLICE_MS``: C must not free
a log or a watch while a read is in progress, so ``close()`` from another
thread waits at most that long and then ends the iteration.
"""
from __future__ import annotations

import json
import threading
import time
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Dict, Iterator, List, Optional

from . import capi
from ._errors import ClosedError, Error
from ._lifetime import Handle, Lifetime
from ._tunnel import _fill

if TYPE_CHECKING:  # pragma: no cover
    from ._k8s import Kubernetes

# The longest a read stays inside C; a close() from another thread waits this long at most.
_READ_SLICE_MS = 100

#: The stages of a Pod's life, in order, as the JSON names them.
STAGES = ("scheduling", "start-up", "running", "offline", "other")


def stage_name(stage: int) -> Optional[str]:
    """"scheduling", "start-up", "running", "offline", "other" for the C
    ``devkit_diag_stage`` values; None for others."""
    return capi.devkit_diag_stage_name(int(stage))


@dataclass(frozen=True)
class LogsStats:
    lines: int                 # lines passed on (to the reader or the file)
    bytes: int                 # their bytes, newlines included
    reconnects: int            # requests made after the first
    duplicates_dropped: int    # lines a resumed request sent again


@dataclass(frozen=True)
class Report:
    """Why a Pod is where it is (``Kubernetes.diagnose``): ``json`` is the
    library's report as a dict (namespace, pod, phase, node, stage, ready,
    summary, owner, containers, findings, events) and ``text`` the same in
    plain words for a person (also ``str(report)``)."""
    json: Dict[str, Any]
    text: str

    @property
    def findings(self) -> List[Dict[str, Any]]:
        """What was recognised: {"id", "stage", "title", "container",
        "explanation", "fix", "evidence", "previous_log"}; empty for a Pod that
        runs fine."""
        return list(self.json.get("findings") or [])

    @property
    def finding_ids(self) -> List[str]:
        return [f.get("id", "") for f in self.findings]

    @property
    def stage(self) -> str:
        return str(self.json.get("stage", ""))

    @property
    def summary(self) -> str:
        return str(self.json.get("summary", ""))

    def __str__(self) -> str:
        return self.text


class _Stream(Handle):
    """A handle read in slices: the common part of Logs and EventWatch."""

    _what = "stream"

    def __init__(self, k8s: "Kubernetes", ptr: Any, free: Any) -> None:
        # Called with the client held, so it cannot close meanwhile.
        self._k8s = k8s  # keeps the client (and its context) alive
        self._end: Optional[Error] = None
        self._read_lock = threading.Lock()  # C allows one reader at a time
        self._life = Lifetime(self._what, ptr, free, parent=k8s._life)
        k8s._streams.add(self)
        self._finalizer = weakref.finalize(self, self._life.close)

    def _read_once(self, ptr: Any, slice_ms: int) -> Any:
        raise NotImplementedError

    def _read(self, timeout_ms: Optional[int]) -> Optional[str]:
        """The next item's text; None when none came in time; raises
        ClosedError at the end (or once closed) and the error that ended it."""
        deadline = None if timeout_ms is None or timeout_ms < 0 else \
            time.monotonic() + timeout_ms / 1000.0
        while True:
            if self._end is not None:
                raise self._end
            if deadline is None:
                slice_ms = _READ_SLICE_MS
            else:
                slice_ms = min(_READ_SLICE_MS,
                               max(0, int((deadline - time.monotonic()) * 1000 + 0.999)))
            with self._read_lock, self._life.use() as ptr:
                try:
                    n, text = self._read_once(ptr, slice_ms)
                except Error as e:
                    self._end = e  # the end, or the error that ended it: for good
                    raise
            if n == 1:
                return text
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def _next_text(self) -> str:
        try:
            text = self._read(None)
        except ClosedError:
            raise StopIteration from None
        assert text is not None
        return text

    @property
    def end_reason(self) -> Optional[Error]:
        """Once the stream has ended: why (``ClosedError`` with the library's
        message for a normal end, e.g. "the container stopped: Completed")."""
        return self._end

    def close(self) -> None:
        """Stop reading and free the handle. Idempotent; any thread (a read
        in progress elsewhere ends within ~100 ms: the iteration stops)."""
        self._finalizer.detach()
        self._life.close()
        self._k8s._streams.discard(self)


class Logs(_Stream):
    """A container's log (``Kubernetes.logs``): iterate for its lines
    (without newlines); the iteration ends when the log ends (at once without
    `follow`; when the container stops with it) or when ``close()`` is called,
    from any thread. Errors of the log request (a wrong container name, a
    container still waiting, no previous instance) raise from the iteration
    with the API server's message. A context manager."""

    _what = "log"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str,
                 container: Optional[str]) -> None:
        super().__init__(k8s, ptr, capi.devkit_logs_free)
        self.pod = pod
        self.namespace = namespace
        self.container = container

    def _read_once(self, ptr: Any, slice_ms: int) -> Any:
        return capi.devkit_logs_read(ptr, slice_ms)

    def read(self, timeout_ms: Optional[int] = None) -> Optional[str]:
        """The next line; None if none came within `timeout_ms` (None or
        negative: no limit; 0: do not wait). Raises ``ClosedError`` once the
        log has ended and every line was read (or once closed), and the error
        that ended it otherwise."""
        return self._read(timeout_ms)

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        return self._next_text()

    def stats(self) -> LogsStats:
        st = capi.devkit_logs_stats()
        with self._life.use() as ptr:
            capi.devkit_logs_get_stats(ptr, st)
        return LogsStats(lines=int(st.lines), bytes=int(st.bytes),
                         reconnects=int(st.reconnects),
                         duplicates_dropped=int(st.duplicates_dropped))

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        container = f" container={self.container}" if self.container else ""
        return f"<devkit.Logs {self.namespace}/{self.pod}{container}{state}>"


class EventWatch(_Stream):
    """The events of a Pod and its owners as they are recorded
    (``Kubernetes.watch_events``): iterate for dicts shaped as an element of
    ``events()["events"]`` plus "action" ("ADDED" or "MODIFIED"); the events
    that exist already come first. Runs until ``close()`` (any thread) or an
    error ends the watch. A context manager."""

    _what = "event watch"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str) -> None:
        super().__init__(k8s, ptr, capi.devkit_diag_watch_free)
        self.pod = pod
        self.namespace = namespace

    def _read_once(self, ptr: Any, slice_ms: int) -> Any:
        return capi.devkit_diag_watch_read(ptr, slice_ms)

    def read(self, timeout_ms: Optional[int] = None) -> Optional[Dict[str, Any]]:
        """The next event; None if none came within `timeout_ms` (None: no
        limit). Raises ``ClosedError`` once closed, or the error that ended the
        watch."""
        text = self._read(timeout_ms)
        return None if text is None else json.loads(text)

    def __iter__(self) -> Iterator[Dict[str, Any]]:
        return self

    def __next__(self) -> Dict[str, Any]:
        return json.loads(self._next_text())

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        return f"<devkit.EventWatch {self.namespace}/{self.pod}{state}>"


def _logs_options(values: Dict[str, Any]) -> Any:
    values = dict(values)
    values["namespace_name"] = values.pop("namespace", None)
    if values.get("since_seconds") is not None:
        values["since_seconds"] = int(values["since_seconds"])
    if values.get("tail_lines") is not None:
        values["tail_lines"] = int(values["tail_lines"])
    return _fill(capi.devkit_logs_options(), values)
