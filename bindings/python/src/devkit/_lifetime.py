# SPDX-License-Identifier: Apache-2.0
"""Lifetimes of native handles, shared by Context, Tunnel and Forward.

The C rules this enforces:
  * a handle must not be freed while another thread is inside a call that uses
    it (the C library does not reference-count), and never twice;
  * a forward is valid until devkit_forward_free() or devkit_tunnel_free(), and
    a tunnel must be freed before its context, so a parent's close ends its
    children first.

A ``Lifetime`` is a readers/writer gate around one pointer: calls enter with
:meth:`use` (many at once); :meth:`close` stops new calls, waits for running
ones to leave, closes the children, frees once, and makes every later
:meth:`use` raise ``ClosedError``. A second close, from any thread, waits until
the first has finished, so "closed" always means "freed". It holds no reference
to the Python object that owns it: ``weakref.finalize`` closes it when that
object is collected, and does nothing after an explicit close.

Lock order is parent before child (context, tunnel, forward): no lock is held
while children close, and a child only touches its parent's ``children`` set
under the parent's small mutex.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Optional, TypeVar

from ._errors import ClosedError

_OPEN, _CLOSING, _CLOSED = 0, 1, 2


class Lifetime:
    __slots__ = ("what", "ptr", "_free", "_dies_with_parent", "_cond", "_busy", "_state",
                 "children", "parent", "__weakref__")

    def __init__(self, what: str, ptr: Any, free: Callable[[Any], None], *,
                 parent: Optional["Lifetime"] = None, dies_with_parent: bool = False) -> None:
        self.what = what
        self.ptr = ptr
        self._free = free
        # True for forwards: devkit_tunnel_free frees them, the binding only marks them.
        self._dies_with_parent = dies_with_parent
        self._cond = threading.Condition(threading.Lock())
        self._busy = 0
        self._state = _OPEN
        self.children: set = set()
        self.parent = parent
        if parent is not None:
            with parent._cond:
                parent.children.add(self)

    @property
    def closed(self) -> bool:
        return self._state != _OPEN

    @contextmanager
    def use(self) -> Iterator[Any]:
        """Keep the handle alive for the duration of one C call."""
        with self._cond:
            if self._state != _OPEN:
                raise ClosedError(f"the {self.what} is closed", ClosedError.code)
            self._busy += 1
        try:
            yield self.ptr
        finally:
            with self._cond:
                self._busy -= 1
                if self._busy == 0:
                    self._cond.notify_all()

    def close(self, *, by_parent: bool = False) -> bool:
        """Close once; True if this call did it. Any thread, any number of times."""
        with self._cond:
            if self._state != _OPEN:
                while self._state != _CLOSED:
                    self._cond.wait()
                return False
            self._state = _CLOSING  # new calls fail from here on
            while self._busy:
                self._cond.wait()
            children = list(self.children)
            self.children.clear()
        try:
            for child in children:
                child.close(by_parent=True)
            ptr, self.ptr = self.ptr, None
            if not (by_parent and self._dies_with_parent):
                self._free(ptr)
        finally:
            with self._cond:
                self._state = _CLOSED
                self._cond.notify_all()
            parent, self.parent = self.parent, None
            if parent is not None:
                with parent._cond:
                    parent.children.discard(self)
        return True


_H = TypeVar("_H", bound="Handle")


class Handle:
    """What every object owning a native handle in ``_life`` offers alike:
    ``closed``, and ``with`` that closes it. Each subclass has its own
    ``close()``, which may do more than end the lifetime (deregister, delete)."""

    _life: Lifetime

    def close(self) -> None:  # pragma: no cover - every subclass defines it
        raise NotImplementedError

    @property
    def closed(self) -> bool:
        return self._life.closed

    def __enter__(self: _H) -> _H:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
