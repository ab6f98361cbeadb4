# SPDX-License-Identifier: Apache-2.0
"""tcpdump in a Pod's network (devkit/diag.h, "tcpdump capture"): as text
lines or as a pcap stream, to the reader or to a file.

A ``Capture`` is a handle of its ``Kubernetes`` client like ``Logs``: read in
100 ms slices with the GIL released, so ``close()`` from another thread ends
an iteration, and closed with its client.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterator, Optional, Union

from . import capi
from ._diag import _Stream
from ._tunnel import _fill

if TYPE_CHECKING:  # pragma: no cover
    from ._k8s import Kubernetes, PathLike

#: devkit_capture_format: tcpdump's text lines, or a pcap stream.
TEXT: int = capi.DEVKIT_CAPTURE_TEXT
PCAP: int = capi.DEVKIT_CAPTURE_PCAP


@dataclass(frozen=True)
class CaptureStats:
    bytes: int      # bytes of output (text or pcap)
    packets: int    # tcpdump's "N packets captured" (at the end; before: lines seen for text)
    dropped: int    # tcpdump's "N packets dropped by kernel"
    ended: bool     # tcpdump has exited


class Capture(_Stream):
    """tcpdump running in a Pod (``Kubernetes.capture``). Iterate for its
    output: text lines (str, without newlines) or, with ``pcap=True``, the
    pcap stream's bytes in order (the first chunk starts with the file
    header: write them all to a file and ``tshark -r`` reads it). With
    ``file=`` the output goes there and the iteration only waits for the end.
    The capture ends after ``duration_ms`` or ``max_packets``, or when
    ``stop()`` asks tcpdump to finish (read on for the rest); ``close()``
    stops at once. ``stats()`` has tcpdump's counts. A context manager."""

    _what = "capture"

    def __init__(self, k8s: "Kubernetes", ptr: Any, pod: str, namespace: str, pcap: bool,
                 file: Optional[str]) -> None:
        super().__init__(k8s, ptr, capi.devkit_capture_free)
        self.pod = pod
        self.namespace = namespace
        self.pcap = pcap
        self.file = file

    def _read_once(self, ptr: Any, slice_ms: int) -> Any:
        n, data = capi.devkit_capture_read(ptr, slice_ms)
        if not self.pcap and isinstance(data, bytes):
            data = data.decode("utf-8", "replace")
        return n, data

    def read(self, timeout_ms: Optional[int] = None) -> Union[str, bytes, None]:
        """The next line (text) or bytes (pcap); None if none came within
        `timeout_ms` (None or negative: no limit; 0: do not wait). Raises
        ``ClosedError`` once the capture has ended and everything was read
        (or once closed), and the error that ended it otherwise."""
        return self._read(timeout_ms)

    def __iter__(self) -> Iterator[Union[str, bytes]]:
        return self

    def __next__(self) -> Union[str, bytes]:
        return self._next_text()

    def stop(self) -> None:
        """Ask tcpdump to stop: it writes what it holds and exits; keep
        reading (or iterating) for the rest."""
        with self._life.use() as ptr:
            capi.devkit_capture_stop(ptr)

    def stats(self) -> CaptureStats:
        st = capi.devkit_capture_stats()
        with self._life.use() as ptr:
            capi.devkit_capture_get_stats(ptr, st)
        return CaptureStats(bytes=int(st.bytes), packets=int(st.packets),
                            dropped=int(st.dropped), ended=bool(st.ended))

    def __repr__(self) -> str:
        state = " closed" if self.closed else ""
        kind = "pcap" if self.pcap else "text"
        return f"<devkit.Capture {self.namespace}/{self.pod} {kind}{state}>"


def capture(k8s: "Kubernetes", pod: str, filter: Optional[str], *, pcap: bool,
            file: Optional["PathLike"], duration_ms: Optional[int], max_packets: Optional[int],
            snaplen: Optional[int], interface: Optional[str], container: Optional[str],
            namespace: Optional[str]) -> Capture:
    path = None if file is None else os.path.expanduser(os.fspath(file))
    opts = _fill(capi.devkit_capture_options(), dict(
        namespace_name=namespace, pod=pod, container=container, filter=filter,
        interface_name=interface, format=PCAP if pcap else TEXT, file=path,
        duration_ms=duration_ms, max_packets=max_packets, snaplen=snaplen))
    with k8s._life.use() as ptr:
        cptr = capi.devkit_capture_start(ptr, opts)
        return Capture(k8s, cptr, pod, namespace or k8s.namespace, pcap, path)
