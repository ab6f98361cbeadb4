# SPDX-License-Identifier: Apache-2.0
"""The engine (devkit_ctx) and its events.

Events are only ever read by polling from a Python thread: either the caller's
(``poll``, ``events``) or one listener thread per context that calls the
registered callables. The C event callback, which would run on the I/O thread,
is never installed.
"""
from __future__ import annotations

import sys
import threading
import time
import traceback
import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterator, List, Optional, Union

from . import capi
from ._enums import EventType, LogLevel, RegistrationState, ReplicaStage, TunnelState, to_enum
from ._lifetime import Handle, Lifetime

if TYPE_CHECKING:
    from ._k8s import Kubernetes
    from ._registry import Registration
    from ._tunnel import Tunnel

# A poll never blocks for longer than this inside C, so close() waits at most
# this long for a poller to notice.
_POLL_SLICE_MS = 100


@dataclass(frozen=True)
class Event:
    """One event, copied out of the C struct (it owns nothing native)."""
    type: Union[EventType, int]
    tunnel_id: int
    forward_id: int
    # TUNNEL_STATE: a TunnelState; REGISTRATION_STATE: a RegistrationState;
    # REPLICA_STAGE: a ReplicaStage; else None
    state: Union[TunnelState, RegistrationState, ReplicaStage, int, None]
    error: int                            # a negative ErrorCode behind a failure, 0 if none
    port: int                             # FORWARD_READY: the bound port; REGISTRATION_STATE:
                                          # the advertised port
    attempt: int                          # RECONNECTING: attempt; EVENTS_DROPPED: count
    address: str                          # FORWARD_READY: the bound address; REGISTRATION_STATE:
                                          # the advertised address; REPLICA_STAGE: the Pod's name
    message: str                          # LOG events: the log line
    level: Union[LogLevel, int, None] = None  # LOG events only (C: the level is in `state`)
    object_id: int = 0                    # REGISTRATION_STATE: the Registration's id;
                                          # REPLICA_STAGE: the Replica's id

    @classmethod
    def _from_c(cls, ev: "capi.devkit_event") -> "Event":
        etype = to_enum(EventType, ev.type)
        state: Union[TunnelState, RegistrationState, ReplicaStage, int, None] = None
        if etype == EventType.TUNNEL_STATE:
            state = to_enum(TunnelState, ev.state)
        elif etype == EventType.REGISTRATION_STATE:
            state = to_enum(RegistrationState, ev.state)
        elif etype == EventType.REPLICA_STAGE:
            state = to_enum(ReplicaStage, ev.state)
        return cls(etype, ev.tunnel_id, ev.forward_id, state,
                   ev.error, ev.port, ev.attempt, ev.address, ev.message,
                   to_enum(LogLevel, ev.state) if etype == EventType.LOG else None,
                   ev.object_id)

    def __str__(self) -> str:
        name = capi.devkit_event_type_name(int(self.type))
        if self.level is not None:
            level = getattr(self.level, "name", self.level)
            return f"{name} {level}: {self.message}"
        if self.type == EventType.REGISTRATION_STATE:
            state = capi.devkit_registration_state_name(int(self.state or 0))
            return f"{name} registration={self.object_id} {state}: {self.message}"
        if self.type == EventType.REPLICA_STAGE:
            stage = capi.devkit_replica_stage_name(int(self.state or 0))
            return f"{name} replica={self.object_id} {self.address} {stage}: {self.message}"
        return f"{name} tunnel={self.tunnel_id} forward={self.forward_id}: {self.message}"


Listener = Callable[[Event], Any]


class _Dispatcher:
    """The one thread per context that polls and calls listeners. It holds the
    Lifetime, not the Context, so an unreachable Context can still be collected."""

    def __init__(self, life: Lifetime) -> None:
        self.life = life
        self.listeners: List[Listener] = []
        self.lock = threading.Lock()
        self.thread: Optional[threading.Thread] = None
        self.finishing = False  # set by close(): deliver what is queued, then stop

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="devkit-events", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        ev = capi.devkit_event()
        while True:
            last = self.finishing
            try:
                with self.life.use() as ptr:
                    got = capi.devkit_ctx_poll(ptr, ev, 0 if last else _POLL_SLICE_MS)
            except Exception:  # closed (or broken): the thread's work is done
                return
            if not got:
                if last:
                    return
                continue
            event = Event._from_c(ev)
            with self.lock:
                listeners = list(self.listeners)
            for fn in listeners:
                try:
                    fn(event)
                except Exception:  # one faulty listener must not stop the others
                    print(f"devkit: event listener {fn!r} raised:", file=sys.stderr)
                    traceback.print_exc()

    def finish(self) -> None:
        self.finishing = True
        self.stop()

    def stop(self) -> None:
        t = self.thread
        if t is not None and t is not threading.current_thread():
            t.join()


class Context(Handle):
    """An engine: one I/O thread that carries every tunnel made with it.

    Use as ``with devkit.Context() as ctx:``; ``close()`` closes the tunnels
    still open, then stops the engine. Thread-safe.
    """

    def __init__(self, *, log_level: Optional[Union[LogLevel, int]] = None,
                 event_queue_max: Optional[int] = None,
                 log_events: Optional[bool] = None) -> None:
        """`log_events`: also deliver the library's log lines (at or above
        `log_level`) as ``EventType.LOG`` events, with ``event.level``."""
        opts = capi.devkit_ctx_options()  # C defaults, through devkit_ctx_options_init()
        if log_level is not None:
            opts.log_level = int(log_level)
        if event_queue_max is not None:
            opts.event_queue_max = event_queue_max
        if log_events is not None:
            opts.log_events = int(bool(log_events))
        ptr = capi.devkit_ctx_new(opts)
        self._life = Lifetime("context", ptr, capi.devkit_ctx_free)
        self._dispatcher = _Dispatcher(self._life)
        # As in C, a tunnel lives until it is closed or its context is.
        self._tunnels: set = set()
        # The same for registrations made on it (devkit.Registration), and for
        # Kubernetes clients (which C must free before the context).
        self._registrations: set = set()
        self._k8s_clients: set = set()
        self._finalizer = weakref.finalize(self, _close_context, self._life, self._dispatcher)

    # -- lifetime ------------------------------------------------------------
    def close(self) -> None:
        """Close every tunnel, registration and Kubernetes client of this
        context, then stop its I/O thread. Idempotent; a close racing with
        another returns once the context is really closed."""
        if not self._life.closed:
            # Tunnels first, so that listeners still see their CLOSED events.
            for tunnel in list(self._tunnels):
                tunnel.close()
            # Then registrations (deregistered), so listeners see DEREGISTERED too.
            for registration in list(self._registrations):
                registration.close()
            # Then Kubernetes clients (their replica handles first; no replica is deleted).
            for client in list(self._k8s_clients):
                client.close()
            self._dispatcher.finish()
        self._finalizer.detach()
        _close_context(self._life, self._dispatcher)
        self._tunnels.clear()
        self._registrations.clear()
        self._k8s_clients.clear()

    def __repr__(self) -> str:
        return f"<devkit.Context{' closed' if self.closed else ''}>"

    # -- tunnels -------------------------------------------------------------
    def open_tunnel(self, bastion: str, **options: Any) -> "Tunnel":
        """Same as ``devkit.Tunnel(bastion, ctx=self, **options)``."""
        from ._tunnel import Tunnel
        return Tunnel(bastion, ctx=self, **options)

    def register(self, **options: Any) -> "Registration":
        """Same as ``devkit.Registration(self, **options)``."""
        from ._registry import Registration
        return Registration(self, **options)

    def kubernetes(self, **options: Any) -> "Kubernetes":
        """Same as ``devkit.Kubernetes(self, **options)``."""
        from ._k8s import Kubernetes
        return Kubernetes(self, **options)

    # -- events --------------------------------------------------------------
    def poll(self, timeout: Optional[float] = 0) -> Optional[Event]:
        """The next event, waiting up to `timeout` seconds (None: until one comes
        or the context closes). Returns None if none came."""
        self._check_no_listener()
        return self._poll(timeout)

    def events(self, timeout: Optional[float] = None) -> Iterator[Event]:
        """Iterate over events as they come. Ends when `timeout` seconds pass
        with no event (None: never), or when the context is closed."""
        self._check_no_listener()
        while True:
            event = self._poll(timeout)
            if event is None:
                return
            yield event

    def _poll(self, timeout: Optional[float]) -> Optional[Event]:
        ev = capi.devkit_event()
        deadline = None if timeout is None else time.monotonic() + max(timeout, 0.0)
        with self._life.use():
            pass  # a closed context raises ClosedError here, before any wait
        while True:
            if deadline is None:
                slice_ms = _POLL_SLICE_MS
            else:
                slice_ms = min(_POLL_SLICE_MS, max(0, int((deadline - time.monotonic()) * 1000)))
            try:
                with self._life.use() as ptr:
                    got = capi.devkit_ctx_poll(ptr, ev, slice_ms)
            except Exception:
                if self._life.closed:
                    return None  # closing ends an iteration instead of failing it
                raise
            if got:
                return Event._from_c(ev)
            if deadline is not None and time.monotonic() >= deadline:
                return None

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(event)` for each event, on a Python thread of this
        context ("devkit-events"). Listeners replace poll()/events()."""
        with self._life.use(), self._dispatcher.lock:  # a closed context raises here
            self._dispatcher.listeners.append(listener)
            if self._dispatcher.thread is None:
                self._dispatcher.start()

    def remove_listener(self, listener: Listener) -> None:
        with self._dispatcher.lock:
            if listener in self._dispatcher.listeners:
                self._dispatcher.listeners.remove(listener)

    def _check_no_listener(self) -> None:
        if self._dispatcher.thread is not None:
            raise RuntimeError("this context delivers its events to listeners; "
                               "poll()/events() would take them away")

    def fileno(self) -> int:
        """A descriptor that is readable while events are queued (for select/asyncio)."""
        with self._life.use() as ptr:
            return capi.devkit_ctx_event_fd(ptr)

    def set_log_level(self, level: Union[LogLevel, int]) -> None:
        with self._life.use() as ptr:
            capi.devkit_ctx_set_log_level(ptr, int(level))


def _close_context(life: Lifetime, dispatcher: _Dispatcher) -> None:
    life.close()
    dispatcher.stop()
