"""The optional compiled accelerator, and the one place that wires it in.

``_speedups`` (a C extension built by ``pip install`` when a compiler is
there) supplies the core of every operation (``_speedups.OpCore``, the
compiled twin of ``asyncresult._PyOpCore``: its slots, ``__init__`` and
completion, which ``asyncresult.AsyncOperation`` derives from; see
:func:`op_core`), and replaces the interpreter on the steady-state datagram send:
``BeginSendTo``, ``EndSendTo``, the synchronous ``SendTo`` and ``ReceiveFrom`` (with its wait),
``SendToAsync(e)`` and ``await SendToAsync(buffer, flags, remote_ep)``; the first try of
``await SendAsync(buffer)`` and ``await ReceiveAsync(buffer)`` on a stream, and the kept
reader's report that wakes an awaited receive (``aio._LoopWatch.ready``); the synchronous
stream ``Send``/``Receive`` and ``NetworkStream.Write``/``Read`` in their loop shapes; the
stream ``BeginSend``/``EndSend``, ``BeginReceive``/``EndReceive`` and the datagram
``BeginReceiveFrom``/``EndReceiveFrom`` in their steady state; ``Socket.Close()``/``Dispose()``
with tracing off and the finalizer of a closed socket; ``Connect(IPEndPoint)`` on a fresh
blocking socket and ``EndAccept`` of a finished ``BeginAccept(callback, state)``, with tracing
off, and the accept and connect attempts (``ops.AcceptOp.attempt``, ``ops.ConnectOp.attempt``)
of IPv4 and IPv6 sockets; plus
the completion workers' drain loop and the inline-callback trampoline, and
makes the ``recvmmsg``/``sendmmsg`` calls that serve several queued datagram
operations at once (``_engine/batch.py``); and the steady state of the per-socket queue:
``OpQueue.enqueue`` (with ``engine.arm``'s common case), ``OpQueue.on_ready`` with its
single-call drain loop, and ``Engine._serve``, each calling back into ``_engine/opqueue.py``
for every rarer turn (waiters, batches, a close, an ``attempt`` that raises, a failed arm).
Telemetry adds the compiled path's own (atomic) send counters to its records.
Each accelerated method keeps its
pure-Python function as the fallback for everything outside that steady
state, and as the source of its docstring and signature, so behaviour does
not depend on whether the accelerator is present.

``DOTNET_SOCKETS_PURE=1`` in the environment (read at import) runs the
pure-Python path even when the accelerator is built; the test suite runs
both ways.
"""

from __future__ import annotations

import importlib.util
import logging
import os
import warnings
from typing import Any, NoReturn

__all__ = ["ACCELERATED", "install", "send_path", "sent_counts"]

_INTERFACE = 15  # what _speedups.c's INTERFACE must be for this file to use it

_speedups: Any
_why_pure = ""  # why the pure-Python path runs, in words for send_path()
try:
    if os.environ.get("DOTNET_SOCKETS_PURE", "") not in ("", "0"):
        _why_pure = "DOTNET_SOCKETS_PURE is set"
        raise ImportError(_why_pure)
    from . import _speedups  # type: ignore[attr-defined,no-redef]

    if getattr(_speedups, "INTERFACE", None) != _INTERFACE:
        _why_pure = "the built accelerator is from other sources: reinstall"
        raise ImportError(_why_pure)  # a stale build: not used
except ImportError as exc:
    _speedups = None
    if not _why_pure:
        if importlib.util.find_spec(f"{__package__}._speedups") is None:
            _why_pure = "the accelerator was not built: no C compiler at install"
        else:
            _why_pure = f"the built accelerator did not load: {exc}"

ACCELERATED: bool = _speedups is not None
"""True when the compiled send path is in use."""


def send_path() -> str:
    """Which send path runs, and why, in the words the docs use (``--version``, the demo, bench)."""
    if ACCELERATED:
        return "compiled accelerator (DOTNET_SOCKETS_PURE=1 turns it off)"
    return f"pure Python ({_why_pure})"

def sent_counts() -> tuple[int, int, int, int]:
    """(bytes sent, datagrams sent, bytes received, datagrams received) by the accelerated
    paths, for telemetry to add to its records."""
    if _speedups is None:
        return (0, 0, 0, 0)
    counts: tuple[int, int, int, int] = _speedups.counts()
    return counts


def _audit_failed(exc: BaseException) -> NoReturn:
    from .security import denied

    if isinstance(exc, PermissionError):
        raise denied(exc) from exc
    raise exc


def _sendto_failed(sock: Any, exc: OSError) -> NoReturn:
    from ._socket_core import _SocketOpError

    raise sock._failed(_SocketOpError(exc)) from None


def _sync_failed(sock: Any, exc: OSError) -> NoReturn:
    raise sock._sync_failed(exc) from None


def op_core(pure: type, post: Any, report_exception: Any, argument_exception: Any, aborted: Any, ec: Any) -> Any:
    """The core ``asyncresult.AsyncOperation`` derives from: the compiled one when built, else ``pure``.

    The compiled core is handed what it calls once: the dispatcher's ``post``, the exception
    report, ``ArgumentException``, ``ABORTED``, and the ``execution_context`` module (which it
    asks to keep its count of the threads that suppress flow up to date).
    """
    global _speedups, ACCELERATED, _why_pure
    if _speedups is None:
        return pure
    try:
        return _speedups.op_core(post, report_exception, argument_exception, aborted, ec)
    except Exception as exc:  # noqa: BLE001 - the pure-Python path is complete without it
        warnings.warn(f"dotnet_sockets: accelerator not used ({exc!r})", RuntimeWarning, stacklevel=2)
        _speedups = None
        ACCELERATED = False
        _why_pure = f"the accelerator failed to start: {exc!r}"
        return pure


def run_inline() -> Any:
    """The compiled inline-callback trampoline, ``asyncresult._run_inline``'s twin (with the compiled core)."""
    return _speedups.run_inline


def install() -> None:
    """Put the accelerated methods on ``Socket``'s classes (under both spellings), if built."""
    global _speedups, ACCELERATED, _why_pure
    if _speedups is None:
        return
    try:
        _install()
    except Exception as exc:  # noqa: BLE001 - the pure-Python path is complete without it
        warnings.warn(f"dotnet_sockets: accelerator not used ({exc!r})", RuntimeWarning, stacklevel=2)
        _speedups = None
        ACCELERATED = False
        _why_pure = f"the accelerator failed to start: {exc!r}"


def _install() -> None:
    from collections.abc import Coroutine

    from . import aio, eventargs, networkstream
    from . import socket as socket_module
    from ._async_methods import AsyncMethodsMixin
    from ._engine import batch, collecting, dispatch, ops
    from ._engine.dispatch import Dispatcher, dispatcher
    from ._engine.opqueue import OpQueue
    from ._socket_core import SocketCore
    from ._socket_transfer import SocketTransfer
    from .addresses import IPEndPoint
    from .results import SocketReceiveFromResult

    _speedups.configure(
        {
            "SocketCore": SocketCore,
            "OpQueue": OpQueue,
            "IPEndPoint": IPEndPoint,
            "SendToOp": ops.SendToOp,
            "StreamSendOnlyOp": ops.StreamSendOnlyOp,
            "ReceiveOp": ops.ReceiveOp,
            "ReceiveFromOp": ops.ReceiveFromOp,
            "SocketReceiveFromResult": SocketReceiveFromResult,
            "Dispatcher": Dispatcher,
            "dispatcher": dispatcher,
            "drain_pass": dispatch._PASS,
            "run_next": dispatch._RUN_NEXT,
            "audit_failed": _audit_failed,
            "sendto_failed": _sendto_failed,
            "sync_failed": _sync_failed,
            "logger": logging.getLogger("dotnet_sockets"),
            "DEBUG": logging.DEBUG,
            "SocketAsyncEventArgs": eventargs.SocketAsyncEventArgs,
            "SEND_TO": eventargs._SEND_TO,
            "SUCCESS": eventargs._SUCCESS,
            "NO_FLAGS": eventargs._NO_FLAGS,
            "send_to_failed": eventargs.send_to_failed,
            "send_to_queued": eventargs.send_to_queued,
            "send_to_now": aio._send_to_now,
            "aio_send_to_queued": aio._send_to_queued,
            "begin_send_to_general": SocketTransfer._begin_send_to_general,
            "send_to_wait": SocketTransfer._send_to_wait,
            "receive_wait": SocketTransfer._receive_wait,
            "send_rest": SocketTransfer._send_rest,
            "NetworkStream": networkstream.NetworkStream,
            "stream_wrapped": networkstream._WRAPPED,
            "stream_wrap": networkstream._wrap,
            "READ_FAILURE": networkstream._READ_FAILURE,
            "WRITE_FAILURE": networkstream._WRITE_FAILURE,
            "short_io": aio.short_io,
            "short_general": aio._short_general,
            "short_wait": aio.short_wait,
            "short_failed": aio.short_failed,
            "RECEIVE": aio.RECEIVE,
            "SEND": aio.SEND,
            "LoopWatch": aio._LoopWatch,
            "LoopWaiter": aio._LoopWaiter,
            "InvalidStateError": aio._InvalidStateError,
        }
    )
    # asyncio.create_task() and ensure_future() take what they know as coroutines.
    Coroutine.register(_speedups.SendToAsyncAwaitable)
    dispatch.drain_in_c = _speedups.drain
    # Queued datagram operations share one recvmmsg/sendmmsg (the rules stay in batch.py).
    batch.recv_batch = _speedups.recv_batch
    batch.send_batch = _speedups.send_batch
    _configure_sync(SocketTransfer, IPEndPoint)
    accelerated: tuple[tuple[type, tuple[str, ...]], ...] = (
        (SocketTransfer, ("BeginSendTo", "EndSendTo", "SendTo", "Send", "Receive", "ReceiveFrom")),
        (SocketTransfer, ("BeginSend", "EndSend", "BeginReceive", "EndReceive", "BeginReceiveFrom", "EndReceiveFrom")),
        (AsyncMethodsMixin, ("SendToAsync", "SendAsync", "ReceiveAsync")),
        (aio._LoopWatch, ("ready",)),
        (networkstream.NetworkStream, ("Read", "Write")),
        (socket_module.Socket, ("Close", "Dispose", "__del__")),
    )
    for cls, names in accelerated:
        for name in names:
            _replace(cls, name, _speedups.method(name, vars(cls)[name]))
    # Close() compares the class's Dispose with the one installed here; during a collection
    # (the globals of _engine.collecting say) it leaves the close to the Python method.
    _speedups.configure_dispose(vars(socket_module.Socket)["Dispose"], socket_module._unlink_file, vars(collecting))
    # The accept and connect attempts: ops.AcceptOp/ConnectOp.attempt keep every rule, the
    # compiled ones take their plain case (IPv4/IPv6, a numeric address) and leave the rest to
    # them.  They read the socket module's C socket directly, after checking its layout on a
    # sample (a mismatch leaves them uninstalled).
    import _socket

    from . import telemetry
    from ._engine import syncwait
    from ._socket_connections import SocketConnections

    sample = _socket.socket(_socket.AF_INET, _socket.SOCK_STREAM)
    try:
        sample.setblocking(False)
        same_layout = _speedups.configure_connections(
            ops.AcceptOp, ops.ConnectOp, telemetry.tls, sample, syncwait.waiters, syncwait.thread_waiter, syncwait.wait
        )
    finally:
        sample.close()
    if same_layout:
        _replace(ops.AcceptOp, "attempt", _speedups.method("accept_attempt", vars(ops.AcceptOp)["attempt"]))
        _replace(ops.ConnectOp, "attempt", _speedups.method("connect_attempt", vars(ops.ConnectOp)["attempt"]))
        # Connect(IPEndPoint)'s steady state, which calls the compiled connect attempt.
        _replace(SocketConnections, "Connect", _speedups.method("Connect", vars(SocketConnections)["Connect"]))
        # EndAccept of a finished BeginAccept(callback, state), past its checks to _from_accepted.
        _replace(SocketConnections, "EndAccept", _speedups.method("EndAccept", vars(SocketConnections)["EndAccept"]))
        # OpQueue's construction over a descriptor already non-blocking (two per short connection).
        from ._engine import opqueue as opqueue_module

        if _speedups.configure_queue_init(vars(opqueue_module)):
            _replace(OpQueue, "__init__", _speedups.method("__init__", vars(OpQueue)["__init__"]))
    # The queue's steady state: enqueue and the engine's on_ready round (opqueue.py keeps every
    # rule; the compiled loop calls back into it for every turn off the common case).
    import threading

    from ._engine import epoll, opqueue

    _speedups.configure_queue(
        {
            "Lock": type(threading.Lock()),
            "Waiter": opqueue.Waiter,
            "engine": epoll.engine,
            "drain": opqueue._drain,
            "broken": opqueue._broken,
            "unwatchable": opqueue._unwatchable,
            "settle": opqueue._settle,
            "drained_singly": opqueue._drained_singly,
            "EPOLLIN": epoll.EPOLLIN,
            "EPOLLOUT": epoll.EPOLLOUT,
            "ONESHOT": epoll._ONESHOT,
            "MIN_RUN": batch.MIN_RUN,
            "READABLE": epoll._READABLE,
            "WRITABLE": epoll._WRITABLE,
        }
    )
    for name in ("enqueue", "on_ready"):
        _replace(OpQueue, name, _speedups.method(name, vars(OpQueue)[name]))
    # The loop that hands each report to its queue (the engine thread's and serve_ready's).
    _replace(epoll.Engine, "_serve", _speedups.method("_serve", vars(epoll.Engine)["_serve"]))


def _configure_sync(transfer: type, ip_end_point: type) -> None:
    """What the compiled synchronous ``ReceiveFrom`` reads (slots, the address cache) and calls
    for every turn off its steady state (the wait the engine serves, an error, a Python rule)."""
    import threading

    from . import addresses
    from ._engine import syncwait
    from ._socket_core import SocketCore
    from .enums import AddressFamily, SocketError
    from .exceptions import SocketException

    _speedups.configure_sync(
        {
            "ThreadWaiter": syncwait.ThreadWaiter,
            "IPAddress": addresses.IPAddress,
            "waiters": syncwait.waiters,
            "thread_waiter": syncwait.thread_waiter,
            "wait_on_handle": syncwait._wait_on_handle,
            "receive_from_wait": vars(transfer)["_receive_from_wait"],
            "wait_sync": SocketCore._wait_sync,
            "from_sockaddr": addresses.from_sockaddr,
            "V4_CACHE": addresses._V4_CACHE,
            "SocketException": SocketException,
            "TimedOut": SocketError.TimedOut,
            "InterNetwork": AddressFamily.InterNetwork,
            "InterNetworkV6": AddressFamily.InterNetworkV6,
            "Lock": type(threading.Lock()),
        }
    )


def _replace(cls: type, name: str, fast: Any) -> None:
    """Put ``fast`` in place of ``cls``'s Python function ``name``, under every spelling bound to it."""
    python_function = vars(cls)[name]
    for attr, value in list(vars(cls).items()):
        if value is python_function:
            setattr(cls, attr, fast)
