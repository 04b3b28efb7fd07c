"""Socket telemetry: the counters of .NET's ``System.Net.Sockets`` event source.

Read them at any time::

    from dotnet_sockets.telemetry import Telemetry

    before = Telemetry.snapshot()
    ...  # traffic
    delta = Telemetry.snapshot() - before
    print(delta.datagrams_sent, delta.bytes_sent)
    print(Telemetry.snapshot().counters())  # {"bytes-sent": ..., ...} with .NET's counter names

The counters are always on and count what .NET counts: successful operations
only; ``bytes-sent``/``bytes-received`` for every socket,
``datagrams-sent``/``datagrams-received`` one per datagram on datagram
sockets, ``outgoing-connections-established`` and
``incoming-connections-established`` per successful connect and accept,
``current-outgoing-connect-attempts`` for connects under way.  Beyond .NET:
connects started and failed, and the operations currently waiting in the
engine (queued until their socket is ready).

Counting is exact under any concurrency.  Increments happen on the caller's
threads, on the engine thread and on completion threads, and ``x += n`` on
one shared integer can lose an update when two threads interleave.  So each
thread counts into its own small record (found through a ``threading.local``)
and :meth:`Telemetry.snapshot` adds the records up; a record is only ever
written by its own thread.  Sends and receives pack the datagram count and
the byte count into one integer (``n + DATAGRAM`` for an ``n``-byte
datagram), so that a send costs one increment.
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, fields
from typing import Any, Final

from ._accel import sent_counts

__all__ = ["Telemetry", "TelemetrySnapshot", "DATAGRAM", "tls", "track_socket"]

DATAGRAM: Final = 1 << 64
"""One datagram in a packed send/receive counter; the byte count lives in the bits below."""

_BYTES: Final = DATAGRAM - 1


class ThreadCounts:
    """One thread's counters; only that thread writes them."""

    __slots__ = (
        "sent",
        "received",
        "connects_started",
        "connects_established",
        "connects_failed",
        "accepted",
    )

    def __init__(self) -> None:
        self.sent = 0  # datagrams * DATAGRAM + bytes
        self.received = 0  # the same packing
        self.connects_started = 0
        self.connects_established = 0
        self.connects_failed = 0
        self.accepted = 0

    def add(self, other: ThreadCounts) -> None:
        for name in ThreadCounts.__slots__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# Every thread's record, with its thread so that the records of finished
# threads can be folded into _retired (they can no longer change).
_records: list[tuple[threading.Thread, ThreadCounts]] = []
_retired = ThreadCounts()
_lock = threading.Lock()


def _fold_finished_threads() -> None:
    # Caller holds _lock.  _retired is replaced, never changed in place: a snapshot that
    # took the old one together with the finished records must not count them twice.
    global _retired
    live = []
    merged: ThreadCounts | None = None
    for t, c in _records:
        if t.is_alive():
            live.append((t, c))
            continue
        if merged is None:
            merged = ThreadCounts()
            merged.add(_retired)
        merged.add(c)
    if merged is not None:
        _retired = merged
        _records[:] = live


class _PerThread(threading.local):
    """``tls.c`` is the calling thread's record, made on its first use."""

    c: ThreadCounts

    def __init__(self) -> None:  # threading.local runs this once in each thread
        c = ThreadCounts()
        me = threading.current_thread()
        with _lock:
            _fold_finished_threads()
            _records.append((me, c))
        self.c = c


tls = _PerThread()


def _reset_after_fork() -> None:
    # A thread of the parent may have held the lock when it forked; the child has only the forker.
    global _lock
    _lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_after_fork)


# Sockets registered by hand, for the count of operations waiting in the engine; the
# package's own queues come from the engine (add_queue_source), each counted once.
# Counting queue lengths when asked costs nothing per operation.
_sockets: weakref.WeakSet[Any] = weakref.WeakSet()
_queue_sources: list[Callable[[], list[Any]]] = []


def track_socket(sock: Any) -> None:
    """Register a socket (anything with ``_io.pending_count()``) for the pending-operations counter."""
    with _lock:
        _sockets.add(sock)


def add_queue_source(queues: Callable[[], list[Any]]) -> None:
    """Have the queues ``queues()`` lists (anything with ``pending_count()``) counted by the
    pending-operations counter."""
    with _lock:
        _queue_sources.append(queues)


@dataclass(frozen=True, slots=True)
class TelemetrySnapshot:
    """The counters at one moment, since the process started.

    Subtract two snapshots for the traffic between them.  :meth:`counters`
    gives the values under .NET's counter names.
    """

    bytes_sent: int = 0
    bytes_received: int = 0
    datagrams_sent: int = 0
    datagrams_received: int = 0
    outgoing_connections_started: int = 0
    outgoing_connections_established: int = 0
    outgoing_connections_failed: int = 0
    current_outgoing_connect_attempts: int = 0
    incoming_connections_established: int = 0
    operations_pending: int = 0

    def __sub__(self, other: TelemetrySnapshot) -> TelemetrySnapshot:
        if not isinstance(other, TelemetrySnapshot):
            return NotImplemented
        return TelemetrySnapshot(*(a - b for a, b in zip(astuple(self), astuple(other), strict=True)))

    def counters(self) -> dict[str, int]:
        """The values keyed by .NET's counter names (``"bytes-sent"``, ``"datagrams-received"``, ...)."""
        return {f.name.replace("_", "-"): getattr(self, f.name) for f in fields(self)}

    def __iter__(self) -> Iterator[tuple[str, int]]:
        return iter(self.counters().items())

    def __str__(self) -> str:
        return ", ".join(f"{k} {v:,}" for k, v in self)


class Telemetry:
    """Process-wide socket counters, as .NET's ``System.Net.Sockets`` event counters."""

    __slots__ = ()

    @staticmethod
    def snapshot() -> TelemetrySnapshot:
        """The current values; exact, and cheap enough to call often (a loop over threads and sockets)."""
        with _lock:
            c_bytes, c_datagrams, c_received, c_datagrams_received = sent_counts()  # counted atomically
            records = [c for _, c in _records]
            records.append(_retired)
            sockets = list(_sockets)
            sources = list(_queue_sources)
        sent = received = started = established = failed = accepted = 0
        for c in records:
            # Each attribute read sees either the old or the new value of a
            # concurrent increment, never a torn one.
            sent += c.sent
            received += c.received
            started += c.connects_started
            established += c.connects_established
            failed += c.connects_failed
            accepted += c.accepted
        queues = {id(q): q for source in sources for q in source()}
        for s in sockets:
            try:
                q = s._io
            except AttributeError:  # a socket still being set up
                continue
            queues[id(q)] = q
        pending = sum(q.pending_count() for q in queues.values())
        return TelemetrySnapshot(
            bytes_sent=(sent & _BYTES) + c_bytes,
            bytes_received=(received & _BYTES) + c_received,
            datagrams_sent=(sent >> 64) + c_datagrams,
            datagrams_received=(received >> 64) + c_datagrams_received,
            outgoing_connections_started=started,
            outgoing_connections_established=established,
            outgoing_connections_failed=failed,
            current_outgoing_connect_attempts=max(0, started - established - failed),
            incoming_connections_established=accepted,
            operations_pending=pending,
        )
