"""The task model for asyncio: awaitable ``...Async`` methods, and ``FromAsync``.

``await sock.ReceiveFromAsync(buffer, SocketFlags.None_, remote_ep)`` runs the
same engine operation as ``ReceiveFrom`` and ``BeginReceiveFrom``: the
arguments are checked by the same code (and raise at the call, as in .NET),
the outcome is read through the same ``End...`` method, so the exceptions
and ``SocketError`` codes are the same in every model.

How it waits: the operation is tried at once on the loop's thread, and
usually that finishes it (a datagram send, or a receive with data waiting)
without any other thread involved.  The common calls (``SendAsync``,
``ReceiveAsync`` and ``ReceiveFromAsync`` of one whole buffer without flags,
``SendToAsync`` of a datagram to an ``IPEndPoint``) make that first try
themselves, with no operation object, when nothing is queued in their
direction: an await that finishes at once costs about what asyncio's
``loop.sock_recv_into`` does (with tracing on they take the general path).  Where the
accelerator is built, ``SendAsync`` and ``ReceiveAsync`` of one whole buffer on a stream
return its awaitable instead of ``short_io``'s coroutine: its first step is ``short_io``'s
first try, in C (no Python call when it finishes), and it hands anything else to the
functions below (``short_io``, ``_short_general``, ``short_wait``), which it then drives.
An operation that cannot finish at once joins the socket's queue,
which keeps start order with the other models, and waits on the loop's own
selector (``add_reader``/``add_writer``, as asyncio's ``sock_recv`` does, except
that a reader stays registered from one await to the next: ``_LoopWatch``, and
that a receive after one that found nothing asks ``poll`` before its call, and that
the report that wakes a receive awaited by an asyncio ``Task`` runs the task's step at once,
as asyncio's own callbacks would one loop iteration later: see ``_step_now``):
no engine thread is involved for a socket that only asyncio uses.  When
operations of other models are queued ahead of it, it waits for its turn
(the engine, or whoever finishes the operation before it, wakes the loop)
and then watches the socket itself.  The system call is only ever made in
the awaiting coroutine's own step, on the loop's thread, so no data is ever
taken off the socket for an awaiter that has been cancelled: a cancelled
receive or accept leaves the socket usable and loses nothing, and a
cancelled stream send has handed over a prefix of its bytes, never a gap.

Closing the socket from another thread while an await is pending is
supported (the await raises ``OperationAborted``), but the loop learns of it
one iteration later; closing it on the loop's thread stops the watch at once.

The I/O starts when the awaitable is first awaited (it is a coroutine, so
``asyncio.create_task`` and ``TaskGroup.create_task`` accept it); a coroutine
that is never awaited does nothing.
"""

from __future__ import annotations

import asyncio
import select
import sys
import threading
from collections.abc import Callable, Coroutine
from functools import partial
from logging import DEBUG
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

from . import _lookups
from ._checks import as_transmit_flags, no_flags, send_view
from ._engine import ops as _ops
from ._engine.opqueue import Waiter
from ._lookups import HostLookup
from ._names import dotnet_names
from ._socket_core import _op_error
from ._socket_files import file_elements
from ._socket_messages import new_receive_from_address, store_sender
from .addresses import IPEndPoint
from .asyncresult import IAsyncResult
from .enums import SocketError
from .eventargs import new_accept_op, new_connect_op
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ObjectDisposedException,
    SocketException,
)
from .results import SocketReceiveFromResult, SocketReceiveMessageFromResult
from .security import EVENT_PREFIX as _EVENT
from .security import audit as _audit
from .security import denied as _denied
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel
from .tracing import log as _log
from .tracing import trace_cached as _trace_cached

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["TaskFactory", "from_async"]

_T = TypeVar("_T")
_get_ident = threading.get_ident
_get_running_loop = asyncio.get_running_loop
_CancelledError = asyncio.CancelledError
_current_task: Callable[[Any], Any]
if sys.version_info >= (3, 12):
    _current_task = asyncio.current_task  # compiled there
else:
    # What current_task(loop) reads, without its frame.
    _current_task = asyncio.tasks._current_tasks.get  # type: ignore[attr-defined,unused-ignore]
_Task = asyncio.Task
_InvalidStateError = asyncio.InvalidStateError
_SocketOpError = SocketException._from_os_error
_BYTES = (bytes, bytearray)
_sys_audit = sys.audit
_SEND_TO_ASYNC = "dotnet_sockets.Socket.SendToAsync"
_SEND_ASYNC = "dotnet_sockets.Socket.SendAsync"
_RECEIVE_ASYNC = "dotnet_sockets.Socket.ReceiveAsync"
_RECEIVE_FROM_ASYNC = "dotnet_sockets.Socket.ReceiveFromAsync"
_isEnabledFor = _log.isEnabledFor
_ReceiveOp = _ops.ReceiveOp
_StreamSendOnlyOp = _ops.StreamSendOnlyOp
_DatagramSendOp = _ops.DatagramSendOp
_Future = asyncio.Future
_base_create_future = asyncio.BaseEventLoop.create_future
_QUEUE_READ, _QUEUE_WRITE = 1, 2  # _wait's queue


def _then(step: Callable[[], None], closed: Callable[[], None]) -> None:
    try:
        step()
    finally:
        closed()


def _on_loop_then(loop: asyncio.AbstractEventLoop, step: Callable[[], None], closed: Callable[[], None]) -> bool:
    """Have ``loop``'s thread run ``step`` (stop watching a descriptor), then ``closed``: True;
    False when the loop is closed (its selector is gone), and the caller closes now."""
    try:
        loop.call_soon_threadsafe(_then, step, closed)
    except RuntimeError:
        return False
    return True


def _step_now(fut: asyncio.Future[None], loop: asyncio.AbstractEventLoop) -> bool:
    """Complete ``fut`` (a wait's own future, not done) and run its task's step now, in the
    kept reader's report, instead of one loop iteration later: True when that was done.

    asyncio runs a done future's callbacks on the next iteration, so a woken receive's step
    comes after the loop's next selector call, which reports the unread data once more (a
    stale report, and a kernel call to tell it so).  Only the plain case is taken: the only
    callback is an asyncio Task's wake-up (the task awaiting this wait), and no task runs now
    (the report's own callback is not inside one, a caller of ``ready`` may be); else False
    and nothing was done.
    """
    callbacks = fut._callbacks
    if not callbacks or len(callbacks) != 1 or _current_task(loop) is not None:
        return False
    wakeup, context = callbacks[0]
    if not isinstance(getattr(wakeup, "__self__", None), _Task):
        return False
    fut.remove_done_callback(wakeup)
    fut.set_result(None)
    context.run(wakeup, fut)
    return True


class _LoopWatch(Waiter):
    """A loop's reader for one socket, kept from one await to the next.

    Most sockets an awaited receive waits on are waited on again soon (an echo, a stream
    of requests); asyncio's ``sock_recv`` pays ``add_reader`` and ``remove_reader`` (two
    ``epoll_ctl`` calls and some twenty Python calls) per wait, a large part of an awaited
    round trip.  So the reader stays while the socket's awaits come and go: it serves
    whichever receive or accept waits at the moment (``waiter``), and lets go of the
    descriptor the first time it reports with nobody waiting (level-triggered: a socket
    left readable, or served by another model now), when an await of another loop needs
    the socket, and before the descriptor is closed or replaced (``OpQueue.rkeep`` holds
    it for that, under the queue's lock).  Writers are not kept: a socket is writable
    almost always, so a kept writer would only report again at once.  ``ready`` has a
    compiled twin (``_speedups.c``) for its common case, a receive waiting on it.
    """

    __slots__ = ("loop", "tid", "io", "waiter", "on", "poll", "suspect", "dry")

    def __init__(self, loop: asyncio.AbstractEventLoop, tid: int, io: Any) -> None:
        self.loop = loop
        self.tid = tid
        self.io = io
        self.waiter: _LoopWaiter | None = None
        self.on = False
        p = select.poll()
        p.register(io.fd, select.POLLIN)
        self.poll = p.poll
        # True from a wait's start (``_LoopWaiter.watch``) to the next report: see ready().
        self.suspect = False
        # True while the last short receive on this socket found nothing (see short_io).
        self.dry = False

    def ready(self) -> None:
        # The loop's callback, on its thread.  The report may be stale: the loop collects
        # reports before it runs the steps they wake, so an await that took the data and
        # waits again can be followed by a report from before it did.  asyncio's
        # remove_reader cancels that report; a kept reader asks the kernel instead, but only
        # for the first report after a wait started: each loop iteration reports the
        # descriptor once, from its selector call before its steps run, so a later report
        # comes from a later call, made after that wait's call would block (and while it
        # waits, its operation heads the queue: nobody else takes data meanwhile).
        w = self.waiter
        if w is not None:
            if self.suspect:
                self.suspect = False
                if not self.poll(0):
                    return
            fut = w.fut
            if fut is not None:
                # Woken: a later report finds no future, and costs no exception.  The await
                # holds its own.
                w.fut = None
                if _step_now(fut, self.loop):
                    # The step ran (and took the data) before the loop's next selector call, so
                    # that call reports nothing stale; a wait it started began after this
                    # iteration's call, whose report of this descriptor is this one: the next
                    # report is fresh, with no kernel call to ask.
                    self.suspect = False
                    return
                try:
                    fut.set_result(None)
                except _InvalidStateError:
                    pass  # cancelled (its step not yet run)
            return
        if not self.poll(0):
            return
        # Readable, and nobody waits: let go (unless a close or a replacement already took
        # it, and lets go itself).
        io = self.io
        with io.lock:
            if io.rkeep is not self:
                return
            io.rkeep = None
        self.stop()

    def stop(self) -> None:
        """Remove the reader (on the loop's thread, or any thread once the loop is not running)."""
        if self.on:
            self.on = False
            self.loop.remove_reader(self.io.fd)

    def wake(self) -> None:
        pass  # no operation of its own: the awaits it serves are woken through their waiters

    def wake_then(self, closed: Callable[[], None]) -> bool:
        # The queue already forgot this registration (take_keep): let go of the descriptor.
        if _get_ident() == self.tid or not self.loop.is_running():
            self.stop()
            return False
        return _on_loop_then(self.loop, self.stop, closed)

    def let_go_later(self, closed: Callable[[], None]) -> bool:
        return _on_loop_then(self.loop, self.stop, closed)


class _LoopWaiter(Waiter):
    """How an awaited operation waits: on its loop's selector, woken on its loop's thread."""

    __slots__ = ("loop", "tid", "io", "fut", "watching")

    def __init__(self, loop: asyncio.AbstractEventLoop, io: Any) -> None:
        self.loop = loop
        self.tid = _get_ident()
        self.io = io
        self.fut: asyncio.Future[None] | None = None
        # 0: not watching; 1 or 2: a reader or writer of its own is registered with the loop;
        # 3: the socket's kept registration (_LoopWatch) serves it.
        self.watching = 0

    def wake(self) -> None:
        # Any thread (the engine's, a closing one, a finishing waiter's), maybe under the queue's lock.
        if _get_ident() == self.tid:
            self._fire()
        else:
            try:
                self.loop.call_soon_threadsafe(self._fire)
            except RuntimeError:
                pass  # the loop is closed: nobody can be awaiting any more

    def wake_then(self, closed: Callable[[], None]) -> bool:
        if self.watching in (0, 3) or _get_ident() == self.tid:
            self.wake()
            return False
        return _on_loop_then(self.loop, self._fire, closed)

    def _fire(self) -> None:
        self.unwatch()
        fut = self.fut
        if fut is not None and not fut.done():
            fut.set_result(None)

    def watch(self, write: bool) -> None:
        """The queue's lock is held (``retry_parked``'s ``on_block``)."""
        io = self.io
        if write:
            self.loop.add_writer(io.fd, self._fire)
            self.watching = 2
            return
        keep: Any = io.rkeep
        if keep is not None and keep.loop is not self.loop:
            if not keep.loop.is_closed():
                # Another live loop keeps a reader on this socket: this await has its own.
                self.loop.add_reader(io.fd, self._fire)
                self.watching = 1
                return
            keep = None  # a finished loop's: its selector is gone
        if keep is None:
            keep = _LoopWatch(self.loop, self.tid, io)
            try:
                self.loop.add_reader(io.fd, keep.ready)
            except OSError:
                # The loop still knew this number from a descriptor it watched before that
                # one was replaced (Disconnect, a failed connect): forget it, watch this one.
                self.loop.remove_reader(io.fd)
                self.loop.add_reader(io.fd, keep.ready)
            keep.on = True
            io.rkeep = keep
        else:
            keep.suspect = True  # a report of this iteration may be from before this wait's call
        keep.waiter = self
        self.watching = 3

    def unwatch(self) -> None:
        watching = self.watching
        if watching:
            self.watching = 0
            if watching == 3:
                # The reader stays for the socket's next await; it no longer serves this one.
                keep: Any = self.io.rkeep
                if keep is not None and keep.waiter is self:
                    keep.waiter = None
            elif watching == 1:
                self.loop.remove_reader(self.io.fd)
            else:
                self.loop.remove_writer(self.io.fd)


class _NotYet(Waiter):
    """Marks an awaited operation before it starts (a would-block parks it for its loop, nobody
    else makes its call); most finish at once, and only one that waits gets a _LoopWaiter."""

    __slots__ = ()

    def wake(self) -> None:
        pass  # its coroutine looks at the operation after it installed its real waiter


_NOT_YET = _NotYet()


async def _wait(op: Any, on_cancel: Callable[[], None] | None = None, queue: int = 0, sock: Any = None) -> Any:
    """Wait until an operation has its outcome, making its call on this thread when ready.

    ``queue`` 0: the operation was started (its ``_ctx`` the placeholder); 1 or 2: it is queued
    here for reading or writing, without a try (its call has just been tried).  With ``sock``
    (a short path's operation, queued), the outcome is read here too, as ``End...`` reads it
    (one coroutine fewer per wait); else None.
    """
    io = op._io
    loop = _get_running_loop()
    w = _LoopWaiter(loop, io)
    watch = w.watch
    watched = False
    if queue:
        # Nobody else knows the operation yet: its waiter goes in before it is queued; parked
        # at the head, it is watched at once (the first round of checks below is done).
        op._ctx = w
        watched = io.enqueue_watched(op, queue == _QUEUE_WRITE, watch)
    else:
        with io.lock:
            # Under the lock: whoever hands it the queue, or closes, reads the waiter after this
            # (or before it, and then left the state that the checks below see).
            op._ctx = w
    # asyncio's own loops make a plain Future (BaseEventLoop.create_future): made here without that call.
    plain = type(loop).create_future is _base_create_future
    # Its start (or the short path) has just tried the call: watch before the next try.
    tried = watched
    while True:
        if watched:
            watched = False
        else:
            if op._done:
                if w.watching == 3:
                    # unwatch() of the kept reader's waiter, inlined: once per await that waited.
                    w.watching = 0
                    keep: Any = io.rkeep
                    if keep is not None and keep.waiter is w:
                        keep.waiter = None
                else:
                    w.unwatch()
                if sock is None:
                    return None
                # The outcome, without the checks that only guard a result a caller hands in
                # (this operation never leaves the short path's coroutine).
                if _trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG):
                    # Tracing was turned on meanwhile: End traces the exit.
                    cls = type(sock)
                    return cls.EndSend(sock, op) if queue == _QUEUE_WRITE else cls.EndReceive(sock, op)
                err = op._error
                if err is not None:
                    raise sock._failed(_op_error(err))
                return op._value
            if op is io.rpark:
                if io.retry_parked(op, False, watch, tried):
                    continue  # finished, or went on to a next step of its own
            elif op is io.wpark:
                if io.retry_parked(op, True, watch, tried):
                    continue
            # else: queued behind other operations; woken when its turn comes
            tried = True
        fut = w.fut = _Future(loop=loop) if plain else loop.create_future()
        try:
            await fut
        except _CancelledError:
            # Nothing was consumed for this operation (its call only runs in this
            # coroutine's steps); take it out of the queue so that it never is.
            w.fut = None
            w.unwatch()
            io.cancel(op)
            if on_cancel is not None:
                on_cancel()
            raise


async def _run(
    start: Callable[[Any, Any, Any], None],
    sock: Any,
    op: Any,
    arg: Any,
    end: Callable[[Any, Any], _T],
) -> _T:
    op._ctx = _NOT_YET
    start(sock, op, arg)
    if not op._done:
        await _wait(op)
    return end(sock, op)


# Starters for an operation a short path has audited: queue it without trying again (its call
# has just been tried), or start it on the queue (a stream send that handed over a prefix goes on
# at once; an operation an audit hook got in ahead of waits for its turn).
def _queue_read(sock: Any, op: Any, _: Any) -> None:
    sock._io.enqueue_read(op)


def _write_on(sock: Any, op: Any, _: Any) -> None:
    sock._io.start_write(op)


def _read_on(sock: Any, op: Any, _: Any) -> None:
    sock._io.start_read(op)


def _start_send_to(sock: Any, op: Any, ep: Any) -> None:
    sock._start_send_to(op, ep)


def _start_read(sock: Any, op: Any, member: Any) -> None:
    sock._begin(op, member, write=False)


def _start_write(sock: Any, op: Any, member: Any) -> None:
    sock._begin(op, member, write=True)


def _check_disposed(sock: Socket) -> None:
    if sock._disposed:
        raise ObjectDisposedException("System.Net.Sockets.Socket")


_socket_missing: Any = None


def _missing() -> Any:
    """socket.py's marker for an argument that was not given (imported late: socket.py imports us)."""
    global _socket_missing
    if _socket_missing is None:
        from ._socket_core import _MISSING

        _socket_missing = _MISSING
    return _socket_missing


# -- the awaitable methods ---------------------------------------------------------------------------
def send_to_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await SendToAsync(buffer[, socket_flags], remote_ep) -> bytes sent``."""
    if not kwargs and type(buffer) in _BYTES and 0 < len(args) < 3:
        # The plain datagram send (the common case, kept short): bytes to an
        # IPEndPoint without flags; anything else takes the general path below.
        ep = args[-1]
        if type(ep) is IPEndPoint and (len(args) == 1 or no_flags(args[0])) and sock._dgram and not sock._disposed:
            addr = ep._sa_dual if sock._v6 else ep._sa
            if addr is None:
                addr = ep._sockaddr(sock._v6)
            if len(addr) == sock._alen:
                try:
                    _sys_audit(_SEND_TO_ASYNC, sock, ep)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                # Exported from here to the end of the send (see send_view).
                return _send_to_now(sock, send_view(buffer), addr, ep)
    offset, size, flags, ep, buffer = sock._split_overload(buffer, args, True, kwargs)
    _check_disposed(sock)
    if buffer is None:
        raise ArgumentNullException("buffer")
    view = sock._buffer_range(buffer, offset, size, False)
    if ep is None or ep is _missing():
        raise ArgumentNullException("remoteEP")
    addr = sock._sockaddr(ep, "remoteEP")
    _audit(_EVENT + "SendToAsync", sock, ep)
    op = sock._new_send_to(view, flags, addr, None, None)
    return _run(_start_send_to, sock, op, ep, type(sock).EndSendTo)


async def _send_to_now(sock: Socket, buffer: Any, addr: Any, ep: Any) -> int:
    io = sock._io
    if (
        sock._right_ep is not None
        and not io.wq
        and not io.closed
        and (_trace_cached(DEBUG) is False or not _isEnabledFor(DEBUG))
    ):
        # What SendToOp.attempt does, without the operation object: the try
        # that finishes almost every datagram send (traced, it takes the operation's path).
        try:
            n: int = sock._sock.sendto(buffer, addr)
        except BlockingIOError:
            pass
        except OSError as exc:
            raise sock._failed(_SocketOpError(exc)) from None
        else:
            _tel.c.sent += n + _DGRAM
            return n
    return await _send_to_queued(sock, buffer, addr, ep)


async def _send_to_queued(sock: Socket, buffer: Any, addr: Any, ep: Any) -> int:
    """The awaited datagram send past its first try: an operation that may wait for room."""
    op = sock._new_send_to(buffer, 0, addr, None, None)
    return await _run(_start_send_to, sock, op, ep, type(sock).EndSendTo)


# -- the short paths of a plainly valid call (see _checks.plain_view) --------------------------------
# One coroutine for the three: it makes the system call itself when nothing is queued in its
# direction, the socket is open and tracing is off; what it does then is what the operation's
# attempt and End... would do (same audit event, telemetry, errors).  Anything else builds the
# operation and takes the general path.  (One prologue, no call for it: each is a share of an
# await that finishes at once.)
RECEIVE, SEND, RECEIVE_FROM = 0, 1, 2
_SHORT_EVENTS = (_RECEIVE_ASYNC, _SEND_ASYNC, _RECEIVE_FROM_ASYNC)
_SHORT_MEMBERS = ("ReceiveAsync", "SendAsync", "ReceiveFromAsync")


async def short_io(sock: Socket, view: Any, kind: int, remote_ep: Any) -> Any:
    """``await ReceiveAsync(buffer[, no flags])`` (``kind`` RECEIVE), ``SendAsync`` (SEND) or
    ``ReceiveFromAsync(buffer[, no flags], remote_ep)`` (RECEIVE_FROM, ``remote_ep`` already checked);
    ``view`` is the call's own hold on the buffer (a stream send's ends with the send).

    A stream send completes when every byte is handed over: after a partial send the rest goes
    on as the operation (its ``sent`` counts the prefix), so a cancel leaves a prefix, never a gap.
    """
    io = sock._io
    write = kind == SEND
    if (io.wq if write else io.rq) or io.closed or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG)):
        # Operations queued in its direction go first, a closed socket aborts it, tracing traces
        # it: the general path does it all.
        general = _short_general(sock, view, kind, remote_ep, True)
        del view  # a send's operation holds its own export, let go when it completes (as the general path)
        return await general
    # The audit names the peer (or remote_ep), as _begin's does.
    ep = remote_ep
    if ep is None:
        ep = sock._remote_ep
        if ep is None:
            ep = sock._peer()
    try:
        _sys_audit(_SHORT_EVENTS[kind], sock, ep)
    except PermissionError as exc:
        raise _denied(exc) from exc
    if (io.wq if write else io.rq) or io.closed:
        # An audit hook queued an operation or closed the socket: the operation starts on the
        # queue, as _begin starts it after its audit.
        general = _short_general(sock, view, kind, remote_ep, False)
        del view
        return await general
    err: OSError | None = None
    n: int = -1
    if kind == SEND:
        try:
            n = io.sock.send(view)
        except BlockingIOError:
            pass
        except OSError as exc:
            err = exc
        else:
            if io.dgram:
                _tel.c.sent += n + _DGRAM
                return n
            if n == len(view):
                _tel.c.sent += n
                return n
    else:
        # A receive.  When the last one here found nothing (a request and its answer: the next
        # request is not there yet), the kept reader's poll asks first: a would-block costs the
        # interpreter an exception (OSError's message decoded from the locale), several times a poll.
        keep: Any = io.rkeep
        if keep is None or not keep.dry or keep.tid != _get_ident() or keep.poll(0):
            try:
                if kind == RECEIVE:
                    n = io.sock.recv_into(view)
                else:
                    n, sa = io.sock.recvfrom_into(view)
            except BlockingIOError:
                if keep is not None:
                    keep.dry = True
            except OSError as exc:
                err = exc
            else:
                if keep is not None:
                    keep.dry = False
                _tel.c.received += n + _DGRAM if io.dgram else n
                return n if kind == RECEIVE else SocketReceiveFromResult(n, sock._endpoint_from(sa, remote_ep))
    if err is not None:
        short_failed(sock, err)
    rest = short_wait(sock, io, view, kind, n, remote_ep)
    del view  # the operation holds the call's export from here, let go when it completes
    return await rest


def short_failed(sock: Socket, err: OSError) -> NoReturn:
    """A short path's system call failed with ``err``: raise what ``End...`` raises for it."""
    raise sock._failed(_SocketOpError(err))


def short_wait(sock: Socket, io: Any, view: Any, kind: int, n: int, remote_ep: Any) -> Coroutine[Any, Any, Any]:
    """A short path's call (audited, its first try made on ``io``) that did not finish at once: its
    operation, queued without a second try, or, for a stream send that handed over a prefix of ``n``
    bytes (``n`` -1: none), going on from there; the awaitable of what ``End...`` returns or raises.
    The compiled twin of ``short_io`` hands over here too.
    """
    op: Any
    if kind == SEND:
        # What _new_send builds for this call (the operation holds the send's export from here).
        if io.dgram:
            op = _DatagramSendOp(io, None, None)
        else:
            op = _StreamSendOnlyOp(io, None, None)
            op.addr = None
            op.sent = 0
        op.buf = view
        op.flags = 0
        if n >= 0:
            # A prefix went (telemetry counts bytes as they leave): the operation goes on from
            # there, as its own attempt would at once.
            _tel.c.sent += n
            op.sent = n
            return _run(_write_on, sock, op, None, type(sock).EndSend)
        queue = _QUEUE_WRITE
    elif kind == RECEIVE_FROM:
        op = _receive_from_op(sock, view, remote_ep)
        return _run(_queue_read, sock, op, None, type(sock).EndReceiveFrom)
    else:
        op = _ReceiveOp(io, None, None)
        op.buf = view
        op.flags = 0
        queue = _QUEUE_READ
    # Queued without a second try, waited for, and its outcome read (by _wait).
    return _wait(op, None, queue, sock)


def _short_general(sock: Socket, view: Any, kind: int, remote_ep: Any, unaudited: bool) -> Coroutine[Any, Any, Any]:
    """A short path's call taken by the general path: its operation, started as ``_begin`` starts
    it (``unaudited``), or on the queue after the short path's own audit."""
    if kind == RECEIVE_FROM:
        op = _receive_from_op(sock, view, remote_ep)
    elif kind == SEND:
        op = sock._new_send(view, (), {}, None, None)
    else:
        op = sock._new_receive(view, (), {}, None, None)
    write = kind == SEND
    start: Callable[[Any, Any, Any], None]
    if unaudited:
        start = _start_write if write else _start_read
    else:
        start = _write_on if write else _read_on
    cls = type(sock)
    end = cls.EndSend if write else cls.EndReceiveFrom if kind == RECEIVE_FROM else cls.EndReceive
    return _run(start, sock, op, _SHORT_MEMBERS[kind], end)


def _receive_from_op(sock: Socket, view: Any, remote_ep: Any) -> Any:
    op, hint = sock._new_receive_from(view, (remote_ep,), {}, None, None)
    op.extra = hint
    return op


def receive_from_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, SocketReceiveFromResult]:
    """``await ReceiveFromAsync(buffer[, socket_flags], remote_ep) -> SocketReceiveFromResult``."""
    _check_disposed(sock)
    op, hint = sock._new_receive_from(buffer, args, kwargs, None, None)
    op.extra = hint
    return _run(_start_read, sock, op, "ReceiveFromAsync", type(sock).EndReceiveFrom)


def receive_message_from_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, SocketReceiveMessageFromResult]:
    """``await ReceiveMessageFromAsync(buffer[, socket_flags], remote_end_point)``."""
    _check_disposed(sock)
    op = sock._new_receive_message_from(buffer, args, kwargs, None, None)
    return _run(_start_read, sock, op, "ReceiveMessageFromAsync", type(sock).EndReceiveMessageFrom)


def receive_from_address_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await ReceiveFromAsync(buffer, socket_flags, received_address) -> bytes`` (.NET 8)."""
    op, received = new_receive_from_address(sock, buffer, args, kwargs)
    return _receive_from_address(sock, op, received)


async def _receive_from_address(sock: Socket, op: Any, received: Any) -> int:
    n, sa = await _run(_start_read, sock, op, "ReceiveFromAsync", _end_receive_from_raw)
    store_sender(sock, received, sa)
    return int(n)


def _end_receive_from_raw(sock: Any, op: Any) -> Any:
    return sock._end(op, "EndReceiveFrom")._value


def send_file_async(
    sock: Socket, file_name: Any, pre_buffer: Any, post_buffer: Any, flags: Any
) -> Coroutine[Any, Any, None]:
    """``await SendFileAsync(file_name[, pre_buffer, post_buffer, flags])``.

    In .NET's order: a socket that is not a stream fails with ``SocketError.NotConnected``
    (from the await, as .NET's faulted task), then disposed and not connected
    (``NotSupportedException``) raise at the call; a missing file raises from the await.
    """
    if sock._dgram:
        return _not_connected()
    sock._check_send_file()
    options = as_transmit_flags(flags)
    elements = file_elements(file_name, pre_buffer, post_buffer, True)
    return _send_file(sock, elements, options)


async def _not_connected() -> None:
    raise SocketException(SocketError.NotConnected)


async def _send_file(sock: Socket, elements: list[Any], options: Any) -> None:
    op = sock._new_send_packets(elements, options, None, None)
    op._ctx = _NOT_YET
    try:
        _start_write(sock, op, "SendFileAsync")
        if not op._done:
            await _wait(op)
    finally:
        op.release()
    sock.EndSendFile(op)


def send_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await SendAsync(buffer[, socket_flags])`` or ``await SendAsync(buffers[, socket_flags])``."""
    _check_disposed(sock)
    op: Any = sock._new_send(buffer, args, kwargs, None, None)
    return _run(_start_write, sock, op, "SendAsync", type(sock).EndSend)


def receive_async(
    sock: Socket, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Coroutine[Any, Any, int]:
    """``await ReceiveAsync(buffer[, socket_flags])`` or ``await ReceiveAsync(buffers[, socket_flags])``."""
    _check_disposed(sock)
    op: Any = sock._new_receive(buffer, args, kwargs, None, None)
    return _run(_start_read, sock, op, "ReceiveAsync", type(sock).EndReceive)


def accept_async(sock: Socket, accept_socket: Any = None) -> Coroutine[Any, Any, Socket]:
    """``await AcceptAsync()`` or ``await AcceptAsync(accept_socket)`` -> the accepted ``Socket``."""
    _check_disposed(sock)
    op = new_accept_op(sock, accept_socket)
    return _run(_start_read, sock, op, "AcceptAsync", type(sock).EndAccept)


def connect_async(sock: Socket, args: tuple[Any, ...]) -> Coroutine[Any, Any, None]:
    """``await ConnectAsync(endpoint | address, port | host, port | addresses, port)``.

    The addresses are tried in order, as ``Connect`` tries them.  Cancelling
    a connect that is in progress closes the socket, as .NET's cancellation
    of ``ConnectAsync`` does: a half-made connection cannot be taken back.
    """
    sock._check_can_connect()
    endpoints = sock._connect_addresses(args)
    op = new_connect_op(sock, endpoints, "ConnectAsync")
    return _connect(sock, op)


async def _connect(sock: Socket, op: Any) -> None:
    if isinstance(op.extra, HostLookup):
        # Resolve on the lookup pool while the loop runs on; connect from the loop's thread.
        op.extra = await _lookups.run(partial(sock._resolve_lookup, op.extra))
        sock._throw_if_disposed()
    op._ctx = _NOT_YET
    sock._next_connect(op)
    if not op._done:
        await _wait(op, sock.Dispose)
    sock.EndConnect(op)


def disconnect_async(sock: Socket, reuse_socket: bool) -> Coroutine[Any, Any, None]:
    """``await DisconnectAsync(reuse_socket)``: no waiting on Linux, as in .NET."""
    _check_disposed(sock)
    return _disconnect(sock, reuse_socket)


async def _disconnect(sock: Socket, reuse_socket: bool) -> None:
    _audit(_EVENT + "DisconnectAsync", sock, sock._remote_ep)
    sock.Disconnect(reuse_socket)


# -- FromAsync ---------------------------------------------------------------------------------------
def _check_method(method: Any, name: str) -> None:
    if method is None:
        raise ArgumentNullException(name)
    if not callable(method):
        raise ArgumentException(f"{name} must be callable.", name)


def from_async(
    begin: Callable[..., IAsyncResult], end: Callable[[IAsyncResult], _T], *args: Any
) -> Coroutine[Any, Any, _T]:
    """Turn any Begin/End pair into an awaitable, as .NET's ``Task.Factory.FromAsync``.

    ``await from_async(sock.BeginSendTo, sock.EndSendTo, buf, 0, n, 0, ep)``
    calls ``begin(*args, callback, None)`` when awaited, and ``end`` on the
    loop's thread once the callback has run; what ``end`` returns or raises
    is the result.  An APM operation cannot be withdrawn: if the awaiter is
    cancelled, the operation still completes and ``end`` still observes it,
    but its result is dropped.
    """
    _check_method(begin, "beginMethod")
    _check_method(end, "endMethod")
    return _from_async(begin, end, args)


async def _from_async(
    begin: Callable[..., IAsyncResult], end: Callable[[IAsyncResult], _T], args: tuple[Any, ...]
) -> _T:
    loop = _get_running_loop()
    fut: asyncio.Future[_T] = loop.create_future()

    def settle(ar: IAsyncResult) -> None:
        # On the loop's thread.
        try:
            value = end(ar)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiter
            if not fut.done():
                fut.set_exception(exc)
            return
        if not fut.done():
            fut.set_result(value)

    def callback(ar: IAsyncResult) -> None:
        try:
            loop.call_soon_threadsafe(settle, ar)
        except RuntimeError:
            pass  # the loop is closed: nobody can be awaiting any more

    begin(*args, callback, None)
    return await fut


@dotnet_names
class TaskFactory:
    """The ``Task.Factory`` of .NET, for what a socket port needs of it: ``FromAsync``."""

    __slots__ = ()

    FromAsync = staticmethod(from_async)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    from_async = FromAsync
    # -- end of PEP 8 spellings --
