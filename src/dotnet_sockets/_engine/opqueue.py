"""Per-socket read and write queues: try first, queue on would-block, abort on close.

Every model goes through :meth:`OpQueue.start_read` / :meth:`OpQueue.start_write`:

1. If nothing is queued in that direction, the system call is tried at once
   on the caller's thread (the common case for datagram sends: done, no
   other thread involved).
2. Otherwise, or if it would block, the operation joins the queue.  For an
   ordinary operation (Begin/End, SocketAsyncEventArgs) the descriptor's
   interest is armed with the engine, whose thread retries queued
   operations in order when the descriptor becomes ready.

Queued operations keep the order in which they were started, which is what
.NET promises for several pending sends or receives on one socket, across
every model.

Some operations wait on their own rather than through the engine thread: a
synchronous call waits in ``poll`` on its caller's thread, an awaitable on
its asyncio loop's selector.  Such an operation carries a :class:`Waiter` in
its ``_ctx`` slot (it has no callback, so that slot is free).  At the head of
its queue it is *parked*: the engine is not armed for that direction,
nobody else makes its system call, and its waiter retries it
(:meth:`OpQueue.retry_parked`) when it sees the descriptor ready.  When it
leaves the queue the direction passes on to the next operation: the engine
is armed for an ordinary one, the waiter of a waiting one is woken.  An
operation started meanwhile joins the queue behind it, so a later
``BeginReceive`` never overtakes an earlier ``Receive`` or ``await
ReceiveAsync``, nor a later ``BeginSend`` an awaited ``SendAsync``.
"""

from __future__ import annotations

import itertools
import os
import socket
import threading
import weakref
from _socket import socket as _RawSocket
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..enums import SocketError
from ..exceptions import SocketException
from ..telemetry import add_queue_source
from . import batch as _batch
from .dispatch import report_exception
from .epoll import EPOLLIN, EPOLLOUT, engine

if TYPE_CHECKING:
    from ..asyncresult import AsyncOperation

__all__ = ["OpQueue", "Waiter"]

_raw_type = _RawSocket.type.__get__  # the C socket's int, without socket.socket's enum
_raw_family = _RawSocket.family.__get__


class Waiter:
    """Who waits for an operation that the engine thread does not serve (see the module docstring)."""

    __slots__ = ()

    # True: waits on its own only when parked at once; queued behind others, its
    # operation becomes an ordinary one (the engine serves it).
    parks_only = False
    # True: polls the descriptor itself; a close shuts the socket down to wake it.
    polls_descriptor = False

    def wake(self) -> None:
        """Any thread, possibly with the queue's lock held: the operation was parked for this
        waiter, or it completed (aborted by a close); look at it now.  Must not block."""
        raise NotImplementedError

    def wake_then(self, closed: Callable[[], None]) -> bool:
        """``wake`` for a close, when this waiter registered the descriptor with a selector on
        another thread: True when that thread will call ``closed()`` once it stopped watching
        (the descriptor is closed then, so that its number is never reused under a stale
        registration); False when the caller must close it now."""
        self.wake()
        return False

    def let_go_later(self, closed: Callable[[], None]) -> bool:
        """``wake_then`` for a finalizer, for a waiter kept between operations (``OpQueue.rkeep``):
        only schedules, takes no lock and touches no selector on the calling thread; True when
        ``closed()`` will be called, False when the caller must close now."""
        return False


def _waits_itself(op: AsyncOperation) -> bool:
    return isinstance(op._ctx, Waiter)


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


def _drain(q: deque[AsyncOperation], done: list[AsyncOperation], io: OpQueue, singles: int = 0) -> None:
    """Retry queued operations in order while they make progress; move the finished to ``done``.

    Where several datagram operations of a kind lead the queue, one system call
    serves them (``batch.serve``); otherwise, and on the pure-Python path, each makes its own.
    ``singles``: how many this round already finished one by one (the compiled loop, which
    hands the rest to this function where a batch may start, says how many it served).
    """
    while q:
        head = q[0]
        if isinstance(head._ctx, Waiter):  # _waits_itself, inlined: once per completion
            return  # its own waiter makes its call (the caller parks it)
        kind = head.batch_kind
        if (
            kind
            and io.batches
            and len(q) >= _batch.MIN_RUN
            and (kind != _batch.RECEIVE or io.rwant >= _batch.MIN_RUN)
            and _batch.enabled()
        ):
            try:
                n, more = _batch.serve(io, q, _waits_itself, _broken)
            except Exception as exc:  # noqa: BLE001 - see _broken: the head's call raised
                _broken(head, exc)
                n, more = 1, True
            for _ in range(n):
                done.append(q.popleft())
            if not more:
                return
            if n >= 0:
                continue
        try:
            if not head.attempt():
                if singles:
                    _drained_singly(io, kind, singles)
                return
        except Exception as exc:  # noqa: BLE001 - see _broken
            _broken(head, exc)
        done.append(q.popleft())
        singles += 1


def _drained_singly(io: OpQueue, kind: int, singles: int) -> None:
    """The head would block after ``singles`` operations finished one by one this round: a run of
    datagram receives tells ``batch`` (which sizes the next batch by it)."""
    if kind == _batch.RECEIVE and io.batches:
        _batch.drained_singly(io, singles)


def _settle(op: AsyncOperation) -> None:
    """Complete an operation that could not be queued: aborted by a close, or failed (``_unwatchable``)."""
    if op._error is None:
        op._abort()
    else:
        op._complete(False)


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


def _nothing() -> None:
    pass


class _LateClose:
    """Closes the descriptor when the closing thread and every selector that watched it are done."""

    __slots__ = ("count", "close", "lock")

    def __init__(self, close: Callable[[], None]) -> None:
        self.count = 1  # the closing thread's own share
        self.close = close
        self.lock = threading.Lock()

    def done(self) -> None:
        with self.lock:
            self.count -= 1
            last = self.count == 0
        if last:
            self.close()


class OpQueue:
    """The I/O state the engine keeps for one socket."""

    __slots__ = (
        "sock",
        "fd",
        "lock",
        "rq",
        "wq",
        "rpark",
        "wpark",
        "mask",
        "registered",
        "closed",
        "inline",
        "dgram",
        "batches",
        "rwant",
        "rkeep",
        "key",
        "__weakref__",
    )

    def __init__(self, sock: _RawSocket) -> None:
        if sock.timeout != 0.0:
            # (A timeout of 0 is the socket module's record that it made the descriptor
            # non-blocking, or that socket(2)/accept4(2) did with SOCK_NONBLOCK.)
            sock.setblocking(False)
        self.sock = sock
        self.fd = sock.fileno()
        # Message-oriented socket: telemetry counts a datagram per successful send or receive.
        self.dgram = _raw_type(sock) != socket.SOCK_STREAM
        # Queued datagram operations may share a recvmmsg/sendmmsg (see batch): UDP over IPv4 or IPv6.
        self.batches = _raw_type(sock) == socket.SOCK_DGRAM and _raw_family(sock) in (socket.AF_INET, socket.AF_INET6)
        self.rwant = _batch.MIN_RUN  # how many queued receives the next batch takes at most (see batch.serve)
        self.lock = threading.Lock()
        self.rq: deque[AsyncOperation] = deque()
        self.wq: deque[AsyncOperation] = deque()
        # The parked head of each queue (watched by its own waiter, not the engine), or None.
        self.rpark: AsyncOperation | None = None
        self.wpark: AsyncOperation | None = None
        self.mask = 0
        self.registered = False
        self.closed = False
        # Run callbacks of operations that finish inside Begin... on the
        # caller's thread (current .NET's behaviour; an opt-in here).
        self.inline = False
        # A selector registration of this descriptor for reading that outlives the operation it
        # was made for (an asyncio loop's reader, kept between awaits: see dotnet_sockets.aio);
        # set and cleared with the lock held.  A close or a replaced descriptor has it let go
        # (``Waiter.wake_then``) before the number can be reused.
        self.rkeep: Waiter | None = None
        # Its entry in the registry (below), dropped when it closes.
        self.key = key = _next_key()
        _live[key] = _ref(self)
        if len(_live) > _prune_at:
            _prune()

    def start_write(self, op: AsyncOperation) -> None:
        if not self.wq and not self.closed:
            if op.attempt():
                op._complete(True)
                return
        self.enqueue(op, True)

    def start_read(self, op: AsyncOperation) -> None:
        if not self.rq and not self.closed:
            if op.attempt():
                op._complete(True)
                return
        self.enqueue(op)

    def enqueue_write(self, op: AsyncOperation) -> None:
        self.enqueue(op, True)

    def enqueue_watched(self, op: AsyncOperation, write: bool, on_block: Callable[[bool], None]) -> bool:
        """``enqueue_read``/``enqueue_write`` of an operation whose waiter (in ``_ctx``) is the caller,
        and the waiter's first ``retry_parked(op, write, on_block, False)``, under one lock: True
        when ``op`` is parked and ``on_block(write)`` ran; False when it went the ordinary way
        (queued behind others, or aborted by a close)."""
        q = self.wq if write else self.rq
        with self.lock:
            if not q and not self.closed:
                q.append(op)
                if write:
                    self.wpark = op
                else:
                    self.rpark = op
                on_block(write)
                return True
        self.enqueue(op, write)
        return False

    def enqueue(self, op: AsyncOperation, write: bool = False) -> None:
        """Queue ``op`` for reading (``enqueue_read``), or for writing when ``write``, without
        trying first (for operations that must wait, e.g. a connect in progress)."""
        # (enqueue_read is this very function: a synchronous call's wait starts here, one frame fewer)
        q, bit = (self.wq, EPOLLOUT) if write else (self.rq, EPOLLIN)
        with self.lock:
            if not self.closed:
                waiter = op._ctx
                if isinstance(waiter, Waiter):  # _waits_itself(op), inlined: once per operation queued
                    if not q:
                        # Its waiter is the caller, who sees it parked (is_parked): no wake-up.
                        q.append(op)
                        if write:
                            self.wpark = op
                        else:
                            self.rpark = op
                        return
                    if waiter.parks_only:
                        op._ctx = None  # behind others: an ordinary operation
                if self.mask & bit or (self.wpark if write else self.rpark) is not None:
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
        _settle(op)

    enqueue_read = enqueue

    def _set_park(self, bit: int, op: AsyncOperation | None) -> None:
        if bit == EPOLLIN:
            self.rpark = op
        else:
            self.wpark = op

    def _pass_on(self, q: deque[AsyncOperation], bit: int, arm: bool = True) -> list[AsyncOperation]:
        """Lock held, nothing parked in ``q``'s direction: hand it to the operation now at the head
        (its waiter, or the engine unless ``arm`` is False, when the caller arms it).  Returns the
        operations that failed because the engine could not watch the descriptor (see
        :func:`_unwatchable`), for the caller to complete once the lock is released."""
        if not q:
            return []
        waiter = q[0]._ctx
        if isinstance(waiter, Waiter):
            self._set_park(bit, q[0])
            waiter.wake()
        elif arm and not self.mask & bit:
            try:
                engine.arm(self, self.mask | bit)
            except Exception as exc:  # noqa: BLE001 - see _unwatchable
                failed = []
                while q and not _waits_itself(q[0]):
                    op = q.popleft()
                    _unwatchable(op, exc)
                    failed.append(op)
                if q:
                    failed += self._pass_on(q, bit, arm)
                return failed
            self.mask |= bit
        return []

    def is_parked(self, op: AsyncOperation) -> bool:
        """True while ``op`` is the parked head of its queue: its waiter must watch the descriptor."""
        return op is self.rpark or op is self.wpark

    def retry_parked(
        self, op: AsyncOperation, write: bool, on_block: Callable[[bool], None] | None = None, attempt: bool = True
    ) -> bool:
        """The waiter of the parked ``op`` saw its descriptor ready: make the call once, on its thread.

        True when the call finished: ``op`` left the queue, the direction
        passed on, and ``op`` was completed (or went on to a next step of
        its own, which may have parked it again).  False when it would
        block (or ``attempt`` is False: just watch), after
        ``on_block(write)`` ran with the lock held (so that a close sees the
        watch it starts), or when ``op`` is no longer parked (a close aborted it).
        """
        with self.lock:
            if write:
                if self.wpark is not op:
                    return False
                q, bit = self.wq, EPOLLOUT
            else:
                if self.rpark is not op:
                    return False
                q, bit = self.rq, EPOLLIN
            if not attempt or not op.attempt():
                if on_block is not None:
                    on_block(write)
                return False
            q.popleft()  # a parked operation is the head of its queue
            if write:
                self.wpark = None
            else:
                self.rpark = None
            failed = self._pass_on(q, bit) if q else None
        if failed:
            for other in failed:
                _finish(other, False)
        op._complete(False)
        return True

    def cancel(self, op: AsyncOperation) -> bool:
        """Remove a queued operation; False if it already left the queue (it completed)."""
        failed: list[AsyncOperation] = []
        with self.lock:
            for q, bit in ((self.rq, EPOLLIN), (self.wq, EPOLLOUT)):
                try:
                    q.remove(op)
                except ValueError:
                    continue
                if (self.rpark if bit == EPOLLIN else self.wpark) is op:
                    self._set_park(bit, None)
                    failed = self._pass_on(q, bit)
                elif not q and self.mask & bit:
                    # Still armed in the kernel; a late report finds nothing to do.
                    self.mask &= ~bit
                break
            else:
                return False
        for other in failed:
            _finish(other, False)
        return True

    def on_ready(self, readable: bool, writable: bool) -> None:
        """Engine thread (or a worker in ``Engine.serve_ready``): retry queued operations in order."""
        done: list[AsyncOperation] = []
        with self.lock:
            if self.closed:
                return
            rq, wq = self.rq, self.wq
            # (_pass_on has nothing to do for an emptied queue: the common case skips the call.)
            if readable and self.rpark is None:
                _drain(rq, done, self)
                if rq:
                    self._pass_on(rq, EPOLLIN, False)
            if writable and self.wpark is None:
                _drain(wq, done, self)
                if wq:
                    self._pass_on(wq, EPOLLOUT, False)
            # The report disarmed the descriptor (one-shot): re-arm only for what the
            # engine serves (a parked direction is watched by its waiter).
            mask = (EPOLLIN if rq and self.rpark is None else 0) | (EPOLLOUT if wq and self.wpark is None else 0)
            self.mask = mask
            if mask:
                try:
                    engine.arm(self, mask)
                except Exception as exc:  # noqa: BLE001 - see _unwatchable
                    self._arm_failed(done, exc)
        for op in done:
            try:
                op._complete(False)
            except Exception as exc:  # noqa: BLE001 - see _finish (inlined: the hot path)
                report_exception(exc)

    def _arm_failed(self, done: list[AsyncOperation], exc: Exception) -> None:
        """Lock held, ``on_ready``'s re-arm failed: what finished in this round still completes
        (``done``); what would wait for the engine fails now (see :func:`_unwatchable`)."""
        for left, park in ((self.rq, self.rpark), (self.wq, self.wpark)):
            while left and park is None:
                op = left.popleft()
                _unwatchable(op, exc)
                done.append(op)
        self.mask = 0

    def take_all(self) -> list[AsyncOperation]:
        """Lock held: empty both queues and forget the descriptor; the caller aborts what is returned."""
        pending = [*self.rq, *self.wq]
        self.rq.clear()
        self.wq.clear()
        self.rpark = self.wpark = None
        self.mask = 0
        engine.forget(self)
        return pending

    def take_keep(self) -> Waiter | None:
        """Lock held: forget the registration kept between operations (``rkeep``); the caller lets it go."""
        keep = self.rkeep
        self.rkeep = None
        return keep

    def abort_waiting(self, pending: list[AsyncOperation]) -> None:
        """Abort the operations that wait on their own and wake their waiters.

        Done before the descriptor is closed or replaced: a waiter on this
        thread (an asyncio loop closing its own socket) stops watching the
        descriptor while its number still names this socket.  Registrations
        kept between operations are let go too.
        """
        keep = self.take_keep()
        if keep is not None:
            keep.wake_then(_nothing)
        polled = False
        for op in pending:
            if isinstance(op._ctx, Waiter):
                _finish(op, True)
                waiter = op._ctx  # read after the abort: its owner may have just installed it
                if isinstance(waiter, Waiter):
                    polled |= waiter.polls_descriptor
                    waiter.wake()
        if polled:
            self._shut_down()

    def _shut_down(self) -> None:
        """Wake the threads that poll this descriptor (their operations are aborted): .NET on Linux
        shuts a socket down for the threads blocked in it before it closes it."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # not connected (a datagram socket still wakes its pollers) or already gone

    def close(self) -> None:
        """Close the descriptor; every queued operation completes once, aborted."""
        if self.closed:
            return  # (closed for good: no lock is taken on a closed queue's behalf)
        with self.lock:
            if self.closed:
                return
            self.closed = True
            if not (self.registered or self.rq or self.wq or self.rkeep is not None):
                # Nothing queued, watched or kept (an idle socket): nobody else waits on the
                # descriptor, and an operation started from now on finds the queue closed.
                idle = True
            else:
                idle = False
                pending = self.take_all()
                keep = self.take_keep()
        # Past its last critical section: from now on its lock is the one every closed queue
        # shares (a forked child frees it), and it leaves the registry (see _CLOSED_LOCK).
        self.lock = _CLOSED_LOCK
        _live.pop(self.key, None)
        if idle:
            try:
                self.sock.close()  # (_close_descriptor, inline: every socket of a short connection)
            except OSError:
                pass
            return
        late = _LateClose(self._close_descriptor)
        if keep is not None:
            late.count += 1
            if not keep.wake_then(late.done):
                late.count -= 1
        polled = False
        for op in pending:
            if isinstance(op._ctx, Waiter):
                _finish(op, True)
                waiter = op._ctx  # read after the abort: its owner may have just installed it
                if not isinstance(waiter, Waiter):
                    continue
                polled |= waiter.polls_descriptor
                late.count += 1
                if not waiter.wake_then(late.done):
                    late.count -= 1
        if polled:
            self._shut_down()
        late.done()
        for op in pending:
            _finish(op, True)

    def _close_descriptor(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def close_from_finalizer(self) -> None:
        """``close`` for a finalizer (``Socket.__del__``): takes no lock.

        A collection can start on a thread that holds any lock (this
        queue's, a wait handle's, the dispatcher's); a finalizer that then
        waits for it hangs that thread for good.  A queue the engine knows
        (it may have operations to abort) is handed to the engine thread,
        which closes it; one it never saw has nothing pending, and closing
        its descriptor takes no lock.  A descriptor an asyncio loop still
        watches between awaits is closed once that loop let go of it.
        """
        if self.registered or self.rq or self.wq:
            engine.close_later(self)
            return
        self.closed = True
        self.lock = _CLOSED_LOCK
        _live.pop(self.key, None)
        keep = self.rkeep
        if keep is not None:
            self.rkeep = None
            if keep.let_go_later(self._close_descriptor):
                return
        try:
            self.sock.close()
        except OSError:
            pass

    def pending_count(self) -> int:
        return len(self.rq) + len(self.wq)

    def _reset_after_fork(self) -> None:
        self.lock = threading.Lock()


# Every queue not closed yet, so that a forked child re-makes each one's lock (another thread
# may have held it at the fork), armed or not, and telemetry counts the operations waiting.
# A closed queue leaves it once its close is past its own critical section, and from then on
# its lock is _CLOSED_LOCK, which every closed queue shares: paths that look at ``closed``
# under the lock (a late on_ready or enqueue, a connect's retry on a fresh descriptor, a
# cancel, an asyncio reader letting go) still take one, and a child forked while a parent
# thread held it frees it (the thread that held it is not in the child), so that those paths
# never wait there for good.  A thread that took the queue's own lock before the swap finds
# the queue closed, as it would have anyway.  Plain references,
# without a callback: a queue costs no Python call when it is made or collected; those
# collected unclosed (a finalizer that found the queue busy hands it to the engine, which
# closes it; any other is a bug) are dropped once a quarter more (at least 16) queues have
# been made since the registry was last pruned.
# Keyed by a serial number, not held in a set: a dead reference keeps the hash of its queue's
# address, which the next queue often reuses, and a set would compare every such pair.
_live: dict[int, weakref.ref[OpQueue]] = {}
_next_key = itertools.count().__next__
_ref = weakref.ref
_PRUNE_FLOOR = 16
_prune_at = _PRUNE_FLOOR


def _prune() -> None:
    global _prune_at
    for key, r in list(_live.items()):
        if r() is None:
            _live.pop(key, None)
    n = len(_live)
    _prune_at = n + max(_PRUNE_FLOOR, n // 4)


_CLOSED_LOCK = threading.Lock()


def live_queues() -> list[OpQueue]:
    """The queues not closed yet."""
    return [q for r in list(_live.values()) if (q := r()) is not None]


add_queue_source(live_queues)


def _reset_locks_after_fork() -> None:
    for q in live_queues():
        q._reset_after_fork()
    if _CLOSED_LOCK.locked():
        _CLOSED_LOCK.release()  # held by a parent thread, which the child does not have


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reset_locks_after_fork)
