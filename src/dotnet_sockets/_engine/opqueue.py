"""Per-socket read and write queues: try first, queue on would-block, abort on close.

Every asynchronous model (and the synchronous calls, when they would block)
goes through :meth:`OpQueue.start_read` / :meth:`OpQueue.start_write`:

1. If nothing is queued in that direction, the system call is tried at once
   on the caller's thread (the common case for datagram sends: done, no
   other thread involved).
2. Otherwise, or if it would block, the operation joins the queue and the
   descriptor's interest is armed with the engine; the engine thread retries
   queued operations in order when the descriptor becomes ready.

Queued operations keep the order in which they were started, which is what
.NET promises for several pending sends or receives on one socket.
"""

from __future__ import annotations

import os
import socket
import threading
import weakref
from collections import deque
from typing import TYPE_CHECKING

from ..enums import SocketError
from ..exceptions import SocketException
from .dispatch import report_exception
from .epoll import EPOLLIN, EPOLLOUT, engine

if TYPE_CHECKING:
    from ..asyncresult import AsyncOperation

__all__ = ["OpQueue"]


def _broken(op: AsyncOperation, exc: Exception) -> None:
    """An ``attempt`` raised something other than ``OSError`` on the engine thread.

    That is a bug (or a buffer the kernel cannot use that slipped past the
    checks), never a reason to stop: if the engine thread died, every
    operation of every socket would wait forever, and the operations that
    had already finished in this round would be lost.  The exception is
    reported like one escaping a callback, and this operation alone fails.
    """
    report_exception(exc)
    err = SocketException(SocketError.SocketError)
    err.__cause__ = exc
    op._error = err


def _unwatchable(op: AsyncOperation, exc: Exception) -> None:
    """The engine could not watch the descriptor for ``op`` (``epoll_ctl`` failed: a
    descriptor closed or replaced behind the package's back through ``Handle``; or no
    thread to be had for the engine).  The operation fails now rather than wait forever:
    with the system's error, or as :func:`_broken` for anything else."""
    if isinstance(exc, OSError):
        op._error = exc
    else:
        _broken(op, exc)


def _drain(q: deque[AsyncOperation], done: list[AsyncOperation]) -> None:
    """Retry queued operations in order while they make progress; move the finished to ``done``."""
    while q:
        try:
            if not q[0].attempt():
                return
        except Exception as exc:  # noqa: BLE001 - see _broken
            _broken(q[0], exc)
        done.append(q.popleft())


def _finish(op: AsyncOperation, aborted: bool) -> None:
    """Complete (or abort) ``op`` without letting anything it raises stop the caller.

    The callers complete a whole batch: the operations after one that
    raised (a continuation given a state its user broke, no thread to be
    had for a worker) must still complete, and the engine thread live on.
    """
    try:
        if aborted:
            op._abort()
        else:
            op._complete(False)
    except Exception as exc:  # noqa: BLE001 - reported, never lost
        report_exception(exc)


class OpQueue:
    """The I/O state the engine keeps for one socket."""

    __slots__ = (
        "sock",
        "fd",
        "lock",
        "rq",
        "wq",
        "mask",
        "registered",
        "closed",
        "inline",
        "dgram",
        "__weakref__",
    )

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.fd = sock.fileno()
        # Message-oriented socket: telemetry counts a datagram per successful send or receive.
        self.dgram = sock.type != socket.SOCK_STREAM
        self.lock = threading.Lock()
        self.rq: deque[AsyncOperation] = deque()
        self.wq: deque[AsyncOperation] = deque()
        self.mask = 0
        self.registered = False
        self.closed = False
        # Run callbacks of operations that finish inside Begin... on the
        # caller's thread (current .NET's behaviour; an opt-in here).
        self.inline = False
        _queues.add(self)

    def start_write(self, op: AsyncOperation) -> None:
        if not self.wq and not self.closed:
            if op.attempt():
                op._complete(True)
                return
        self._enqueue(op, self.wq, EPOLLOUT)

    def start_read(self, op: AsyncOperation) -> None:
        if not self.rq and not self.closed:
            if op.attempt():
                op._complete(True)
                return
        self._enqueue(op, self.rq, EPOLLIN)

    def enqueue_read(self, op: AsyncOperation) -> None:
        """Queue without trying first (for operations that must wait, e.g. a connect in progress)."""
        self._enqueue(op, self.rq, EPOLLIN)

    def enqueue_write(self, op: AsyncOperation) -> None:
        self._enqueue(op, self.wq, EPOLLOUT)

    def _enqueue(self, op: AsyncOperation, q: deque[AsyncOperation], bit: int) -> None:
        with self.lock:
            if not self.closed:
                if self.mask & bit:
                    q.append(op)
                    return
                try:
                    engine.arm(self, self.mask | bit)
                except Exception as exc:  # noqa: BLE001 - see _unwatchable
                    _unwatchable(op, exc)
                else:
                    self.mask |= bit
                    q.append(op)
                    return
        if op._error is None:
            op._abort()
        else:
            op._complete(False)

    def cancel(self, op: AsyncOperation) -> bool:
        """Remove a queued operation; False if it already left the queue (it completed)."""
        with self.lock:
            for q, bit in ((self.rq, EPOLLIN), (self.wq, EPOLLOUT)):
                try:
                    q.remove(op)
                except ValueError:
                    continue
                if not q and self.mask & bit:
                    # Still armed in the kernel; a late report finds nothing to do.
                    self.mask &= ~bit
                return True
        return False

    def on_ready(self, readable: bool, writable: bool) -> None:
        """Engine thread (or a worker in ``Engine.serve_ready``): retry queued operations in order."""
        done: list[AsyncOperation] = []
        with self.lock:
            if self.closed:
                return
            if readable:
                _drain(self.rq, done)
            if writable:
                _drain(self.wq, done)
            # The report disarmed the descriptor (one-shot): re-arm only for what is left.
            mask = (EPOLLIN if self.rq else 0) | (EPOLLOUT if self.wq else 0)
            self.mask = mask
            if mask:
                try:
                    engine.arm(self, mask)
                except Exception as exc:  # noqa: BLE001 - see _unwatchable
                    # What finished in this round still completes; what would wait fails now.
                    for left in (self.rq, self.wq):
                        while left:
                            op = left.popleft()
                            _unwatchable(op, exc)
                            done.append(op)
                    self.mask = 0
        for op in done:
            try:
                op._complete(False)
            except Exception as exc:  # noqa: BLE001 - see _finish (inlined: the hot path)
                report_exception(exc)

    def close(self) -> None:
        """Close the descriptor; every queued operation completes once, aborted."""
        with self.lock:
            if self.closed:
                return
            self.closed = True
            pending = [*self.rq, *self.wq]
            self.rq.clear()
            self.wq.clear()
            self.mask = 0
            engine.forget(self)
        try:
            self.sock.close()
        except OSError:
            pass
        for op in pending:
            _finish(op, True)

    def close_from_finalizer(self) -> None:
        """``close`` for a finalizer (``Socket.__del__``): takes no lock.

        A collection can start on a thread that holds any lock (this
        queue's, a wait handle's, the dispatcher's); a finalizer that then
        waits for it hangs that thread for good.  A queue the engine knows
        (it may have operations to abort) is handed to the engine thread,
        which closes it; one it never saw has nothing pending, and closing
        its descriptor takes no lock.
        """
        if self.registered or self.rq or self.wq:
            engine.close_later(self)
            return
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass

    def pending_count(self) -> int:
        return len(self.rq) + len(self.wq)

    def _reset_after_fork(self) -> None:
        self.lock = threading.Lock()


# Every live queue, so that a forked child re-makes each queue's lock (another
# thread may have held it at the fork), armed or not.
_queues: weakref.WeakSet[OpQueue] = weakref.WeakSet()


def _reset_locks_after_fork() -> None:
    for q in list(_queues):
        q._reset_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)
