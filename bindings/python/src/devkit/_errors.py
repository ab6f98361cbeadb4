# SPDX-License-Identifier: Apache-2.0
"""Exceptions: one class per family of libdevkit error codes.

The C typemaps (bindings/python/devkit_python.i) call :func:`_from_code` after a
function returned a negative code, so every failure surfaces as one of these,
carrying the code and the message of ``devkit_error_last()``.

Where Python has a built-in class for the same family (``TimeoutError``,
``ConnectionRefusedError``, ``PermissionError``, ...), the devkit class derives
from it too, so ``except TimeoutError`` works as a Python user would expect.
"""
from __future__ import annotations

import builtins
from typing import Dict, Type

__all__ = [
    "Error", "InvalidArgumentError", "NoMemoryError", "IoError", "TimeoutError",
    "NotFoundError", "ConnectionRefusedError", "HostKeyError", "AuthError",
    "ProtocolError", "ClosedError", "ExistsError", "UnsupportedError", "ForbiddenError",
]


class Error(Exception):
    """Base class of every libdevkit error. ``code`` is the negative DEVKIT_E* value."""

    code: int = -1

    def __init__(self, message: str, code: int | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # picklable across processes despite the extra argument
        return (type(self), (self.message, self.code))


# OSError subclasses take (errno, strerror); ours take (message, code). Defining
# __init__ again keeps our signature for the classes that also derive from them.
class _OSFamily(Error):
    def __init__(self, message: str, code: int | None = None) -> None:
        Error.__init__(self, message, code)
        self.args = (message,)


class InvalidArgumentError(Error, ValueError):
    """DEVKIT_EINVAL: an argument or an input is not valid."""
    code = -2


class NoMemoryError(Error, MemoryError):
    """DEVKIT_ENOMEM: the library ran out of memory."""
    code = -3


class IoError(_OSFamily, builtins.OSError):
    """DEVKIT_EIO: socket or file I/O failed."""
    code = -4


class TimeoutError(_OSFamily, builtins.TimeoutError):
    """DEVKIT_ETIMEOUT: an operation did not finish in time."""
    code = -5


class NotFoundError(Error, LookupError):
    """DEVKIT_ENOTFOUND: a name did not resolve, or an object does not exist."""
    code = -6


class ConnectionRefusedError(_OSFamily, builtins.ConnectionRefusedError):
    """DEVKIT_ECONNREFUSED: the far side refused or is unreachable."""
    code = -7


class HostKeyError(Error):
    """DEVKIT_EHOSTKEY: the bastion's host key is unknown, changed or not as pinned."""
    code = -8


class AuthError(Error):
    """DEVKIT_EAUTH: the bastion did not accept any credential offered."""
    code = -9


class ProtocolError(Error):
    """DEVKIT_EPROTO: the peer broke its protocol."""
    code = -10


class ClosedError(Error):
    """DEVKIT_ECLOSED: the object or the context is closed."""
    code = -11


class ExistsError(_OSFamily, builtins.FileExistsError):
    """DEVKIT_EEXISTS: a conflict, such as an address already in use."""
    code = -12


class UnsupportedError(Error, NotImplementedError):
    """DEVKIT_EUNSUPPORTED: not supported by this build or by the peer."""
    code = -13


class ForbiddenError(_OSFamily, builtins.PermissionError):
    """DEVKIT_EFORBIDDEN: authenticated, but not allowed."""
    code = -14


_BY_CODE: Dict[int, Type[Error]] = {
    cls.code: cls
    for cls in (InvalidArgumentError, NoMemoryError, IoError, TimeoutError, NotFoundError,
                ConnectionRefusedError, HostKeyError, AuthError, ProtocolError, ClosedError,
                ExistsError, UnsupportedError, ForbiddenError)
}


def _from_code(code: int, message: str) -> Error:
    """The exception for a C error code; codes added to C later map to Error."""
    return _BY_CODE.get(code, Error)(message, code)
