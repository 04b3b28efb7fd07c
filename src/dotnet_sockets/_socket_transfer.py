"""Sending and receiving: the synchronous calls and their Begin/End pairs.

``BeginSendTo``/``EndSendTo`` and ``SendTo`` carry the hot paths the
benchmarks measure; keep them spelled out.
"""

from __future__ import annotations

import datetime
import select
from logging import DEBUG
from types import FunctionType as _FunctionType
from typing import TYPE_CHECKING, Any, overload

from ._checks import STEADY_RANGE as _STEADY_RANGE
from ._checks import as_buffer, as_microseconds, check_range, no_flags
from ._checks import steady_range as _steady_range
from ._engine import ops
from ._engine.syncwait import thread_waiter as _thread_waiter
from ._names import dotnet_names
from ._types import BufferList, BytesLike
from .addresses import (
    EndPoint,
    IPEndPoint,
)
from .asyncresult import AsyncCallback, IAsyncResult, _run_inline
from .enums import (
    SelectMode,
    SocketFlags,
)
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    ObjectDisposedException,
)
from .results import SocketReceiveFromResult
from .security import audit as _audit_op
from .security import denied as _denied
from .socketaddress import SocketAddress
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel
from .tracing import (
    VERBOSE,
    trace_dump,
    trace_enter,
    trace_exit,
    trace_sync,
)

if TYPE_CHECKING:
    from .socket import Socket
from ._socket_core import (
    _DISPOSED_NAME,
    _MISSING,
    _POLL_ASK,
    _POLL_READY,
    SocketCore,
    _audit,
    _isEnabledFor,
    _poll_ms,
    _post,
    _SendToOp,
    _SocketOpError,
    _split_callback,
    _trace_cached,
)
from ._socket_messages import receive_from_address, try_send_to_address

__all__ = ["SocketTransfer"]


_StreamSendOnlyOp = ops.StreamSendOnlyOp


_NONE = SocketFlags.None_


_ReceiveOp = ops.ReceiveOp


_ReceiveFromOp = ops.ReceiveFromOp


def _receive_now(sock: SocketTransfer, op: Any, view: memoryview, size: int) -> IAsyncResult:
    """BeginReceive's (or BeginReceiveFrom's) steady state past its checks and audit (see
    ``BeginSend``'s): ``op`` is a new ``ReceiveOp`` or ``ReceiveFromOp``, ``view`` its range."""
    io = op._io
    op.flags = 0
    op.buf = view
    if io.rq or io.closed:
        io.enqueue(op)  # (enqueue_read)
        return op  # type: ignore[no-any-return]
    try:
        if type(op) is _ReceiveOp:
            op._value = got = io.sock.recv_into(view, size)
        else:
            op._value = value = io.sock.recvfrom_into(view, size)
            got = value[0]
        _tel.c.received += got + _DGRAM if io.dgram else got
    except BlockingIOError:
        io.enqueue(op)  # (enqueue_read)
        return op  # type: ignore[no-any-return]
    except OSError as exc:
        op._error = exc
    # op._complete(True), inlined: a result not returned yet has no handle to set.
    op._sync = op._done = True
    if op._callback is not None:
        _run_inline(op) if io.inline else _post(op)
    return op  # type: ignore[no-any-return]


@dotnet_names
class SocketTransfer(SocketCore):
    """Sending and receiving: the synchronous calls and their Begin/End pairs."""

    __slots__ = ()

    @overload
    def SendTo(self, buffer: BytesLike, remote_ep: EndPoint) -> int: ...
    @overload
    def SendTo(self, buffer: BytesLike, socket_flags: SocketFlags | int, remote_ep: EndPoint) -> int: ...
    @overload
    def SendTo(self, buffer: BytesLike, size: int, socket_flags: SocketFlags | int, remote_ep: EndPoint) -> int: ...
    @overload
    def SendTo(
        self, buffer: BytesLike, offset: int, size: int, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> int: ...
    @overload
    def SendTo(self, buffer: BytesLike, socket_flags: SocketFlags | int, socket_address: SocketAddress) -> int: ...

    # The overloads name their second argument remote_ep, socket_flags, size or offset, as .NET
    # does; one positional parameter list takes them all and the body sorts them out (mypy cannot
    # see that, hence the ignore), so the hot path below pays for no *args tuple.
    def SendTo(  # type: ignore[misc]
        self,
        buffer: Any,
        offset: Any = _MISSING,
        size: Any = _MISSING,
        socket_flags: Any = _MISSING,
        remote_ep: Any = _MISSING,
    ) -> int:
        """Send one datagram (or, on a stream socket, the bytes) to ``remote_ep``; returns the bytes sent.

        .NET's overloads: ``SendTo(buffer, remote_ep)``, ``SendTo(buffer, socket_flags, remote_ep)``,
        ``SendTo(buffer, size, socket_flags, remote_ep)``,
        ``SendTo(buffer, offset, size, socket_flags, remote_ep)``.  Positional arguments follow the
        overload of that length; by keyword they are ``offset``, ``size``, ``socket_flags``,
        ``remote_ep``.  An unbound socket is bound by the send (``LocalEndPoint`` is set).
        ``SendTo(buffer, socket_flags, socket_address)`` (.NET 8) sends to the address in a
        ``SocketAddress`` as it is.

        Raises, in this order:

        - ``ObjectDisposedException``: the socket is closed.
        - ``ArgumentNullException``: ``buffer`` or ``remote_ep`` (``remoteEP``) is None.
        - ``ArgumentOutOfRangeException``: ``offset`` or ``size`` lies outside ``buffer``.
        - ``ArgumentException``: ``remote_ep`` is a ``DnsEndPoint`` or of another address family.
        - ``SecurityException``: a policy refused the destination; nothing was sent.
        - ``SocketException``: the send failed; ``SocketErrorCode`` says why (``MessageSize``,
          ``AccessDenied`` for a broadcast without ``EnableBroadcast``, ``TimedOut`` after
          ``SendTimeout``, ``WouldBlock`` when ``Blocking`` is false).
        """
        if type(remote_ep) is IPEndPoint:
            # SendTo(buffer, offset, size, flags, ep), the shape ported loops use.
            if _steady_range(buffer, offset, size, socket_flags):
                sent = self._send_to_steady(buffer, offset, size, remote_ep)
                if sent is not None:
                    return sent
        elif size is _MISSING and type(offset) is IPEndPoint and (type(buffer) is bytes or type(buffer) is bytearray):
            # SendTo(buffer, remote_ep), the plain datagram send.
            sent = self._send_to_steady(buffer, 0, len(buffer), offset)
            if sent is not None:
                return sent
        if type(size) is SocketAddress and socket_flags is _MISSING:
            # SendTo(buffer, socket_flags, socket_address): the reply of a SocketAddress receive loop.
            sent = try_send_to_address(self, buffer, offset, size)
            if sent is not None:
                return sent
        if remote_ep is _MISSING:
            # Positional .NET overloads: the last argument given is the endpoint.
            given = [v for v in (offset, size, socket_flags) if v is not _MISSING]
            args = tuple(given)
            kwargs: dict[str, Any] = {}
        else:
            args = ()
            named = (("offset", offset), ("size", size), ("socket_flags", socket_flags), ("remote_ep", remote_ep))
            kwargs = {k: v for k, v in named if v is not _MISSING}
        offset, size, flags, ep, buffer = self._split_overload(buffer, args, True, kwargs)
        self._throw_if_disposed()
        if buffer is None:
            raise ArgumentNullException("buffer")
        view = self._buffer_range(buffer, offset, size, False)
        if ep is _MISSING or ep is None:
            raise ArgumentNullException("remoteEP")
        addr = self._sockaddr(ep, "remoteEP")
        op = self._new_send_to(view, flags, addr, None, None)
        op._ctx = _thread_waiter()  # it waits on this thread (see _engine.syncwait)
        _audit_op("dotnet_sockets.Socket.SendTo", self, ep)
        if _isEnabledFor(DEBUG):
            start = lambda o: self._start_send_to(o, ep)  # noqa: E731
            return int(trace_sync(self, op, start, self._wait_sync, self._snd_timeout, remote_ep=ep))
        self._start_send_to(op, ep)
        result: int = self._wait_sync(op, self._snd_timeout)
        return result

    def _send_to_steady(self, buffer: bytes | bytearray, offset: int, size: int, ep: IPEndPoint) -> int | None:
        """``SendTo`` of a datagram whose arguments ``_checks.steady_range`` passed, kept short:
        the call is made before any operation is built; a would-block goes on as a queued
        operation, audited once.  None: the general path takes it.  (``_speedups.c``'s
        ``fast_send_to`` is its compiled twin.)"""
        io = self._io
        if (
            self._disposed
            or not self._dgram
            or io.wq
            or io.closed
            or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
        ):
            return None
        addr = ep._sa_dual if self._v6 else ep._sa
        if addr is None:
            addr = ep._sockaddr(self._v6)
        if len(addr) != self._alen:
            return None  # another family: the general path raises what .NET raises
        # Exported before the audit hooks run, as the general path's operation holds it.
        data = (
            (buffer if type(buffer) is bytes else memoryview(buffer))
            if size == len(buffer)
            else memoryview(buffer)[offset : offset + size]
        )
        try:
            _audit("dotnet_sockets.Socket.SendTo", self, ep)
        except PermissionError as exc:
            raise _denied(exc) from exc
        # The socket's queue of this moment (a hook may have given it a new one); one a hook
        # closed fails with EBADF, as the compiled twin's send does.
        io = self._io
        try:
            n: int = io.sock.sendto(data, addr)
        except BlockingIOError:
            del data
            return self._send_to_wait(buffer, offset, size, SocketFlags.None_, ep)
        except OSError as exc:
            del data  # the caller's buffer is its own again, whatever holds this frame
            raise self._sync_failed(exc) from None
        _tel.c.sent += n + _DGRAM  # telemetry: one datagram of n bytes
        if self._right_ep is None:
            self._right_ep = ep
        return n

    def _send_to_wait(self, buffer: bytes | bytearray, offset: int, size: int, flags: Any, ep: IPEndPoint) -> int:
        """A steady ``SendTo``'s would-block (both paths): the datagram waits for room as a queued
        operation, without another audit event."""
        view = self._buffer_range(buffer, offset, size, False)
        op = self._new_send_to(view, flags, self._sockaddr(ep, "remoteEP"), None, None)
        op._ctx = _thread_waiter()  # it waits on this thread (see _engine.syncwait)
        self._start_send_to(op, ep)
        return int(self._wait_sync(op, self._snd_timeout))

    @overload
    def Send(self, buffer: BytesLike) -> int: ...
    @overload
    def Send(self, buffer: BytesLike, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Send(self, buffer: BytesLike, size: int, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Send(self, buffer: BytesLike, offset: int, size: int, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Send(self, buffers: BufferList, /, socket_flags: SocketFlags | int = ...) -> int: ...

    def Send(self, buffer: Any, *args: Any, **kwargs: Any) -> int:
        """Send on a connected socket; returns the bytes sent.

        .NET's overloads: ``Send(buffer)``, ``Send(buffer, socket_flags)``,
        ``Send(buffer, size, socket_flags)``, ``Send(buffer, offset, size, socket_flags)``, and
        ``Send(buffers[, socket_flags])`` with a list of buffers (gathered into one send).  On a
        stream socket it returns once every byte is handed to the kernel.

        Raises:

        - ``ObjectDisposedException``: the socket is closed.
        - ``ArgumentNullException``: ``buffer`` (or ``buffers``) is None.
        - ``ArgumentOutOfRangeException``: ``offset`` or ``size`` lies outside ``buffer``.
        - ``SecurityException``: a policy refused the operation; nothing was sent.
        - ``SocketException``: the send failed; ``SocketErrorCode`` says why (``NotConnected``,
          ``ConnectionReset``, ``MessageSize``, ``TimedOut`` after ``SendTimeout``, ``WouldBlock``
          when ``Blocking`` is false).
        """
        if len(args) == 3 and not kwargs:
            offset, size, flags = args
            if _steady_range(buffer, offset, size, flags):
                return self._send_steady(buffer, offset, size, flags)
        elif not args and not kwargs and (type(buffer) is bytes or type(buffer) is bytearray):
            return self._send_steady(buffer, 0, len(buffer), 0)
        return self._send_general(buffer, args, kwargs)

    def _send_steady(self, buffer: bytes | bytearray, offset: int, size: int, flags: Any) -> int:
        """``Send(buffer, offset, size, flags)`` with arguments ``_checks.steady_range`` passed.

        The shape ported loops (and ``NetworkStream.Write``) use: the call is made before any
        operation is built.  A would-block or a partial stream write goes on as a queued
        operation, audited once; anything else unusual takes the general path.
        """
        io = self._io
        if self._disposed or io.wq or io.closed or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG)):
            return self._send_general(buffer, (offset, size, flags), {})
        # Exported before the audit hooks run, as the general path's operation holds it.
        data = (
            (buffer if type(buffer) is bytes else memoryview(buffer))
            if size == len(buffer)
            else memoryview(buffer)[offset : offset + size]
        )
        ep = self._remote_ep
        try:
            _audit("dotnet_sockets.Socket.Send", self, self._peer() if ep is None else ep)
        except PermissionError as exc:
            raise _denied(exc) from exc
        io = self._io  # (a hook may have closed the socket, or given it a new queue)
        n = 0
        if not io.wq and not io.closed:
            send = io.sock.send
            try:
                n = send(data)
                if io.dgram:
                    _tel.c.sent += n + _DGRAM
                    return n
                while n < size:  # a stream hands the kernel what it takes, as the operation does
                    n += send(memoryview(data)[n:])
            except BlockingIOError:
                _tel.c.sent += n  # (0 for a datagram: its one send raised)
                if n and not self._blocking:
                    return n  # a non-blocking stream send reports what it handed over
            except OSError as exc:
                del data  # the caller's buffer is its own again, whatever holds this frame
                _tel.c.sent += n
                raise self._sync_failed(exc) from None
            else:
                _tel.c.sent += n
                return n
        del data
        return self._send_rest(buffer, offset, size, flags, n)

    def _send_rest(self, buffer: bytes | bytearray, offset: int, size: int, flags: Any, n: int) -> int:
        """A steady ``Send`` that would block after ``n`` bytes (both paths): the rest waits for
        room as a queued operation, audited already; returns every byte's count."""
        io = self._io
        op = self._new_send(buffer, (offset + n, size - n, flags), {}, None, None)
        return n + int(self._run_sync(op, self._snd_timeout, io.enqueue_write))

    def _send_general(self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        self._throw_if_disposed()
        op = self._new_send(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.Send", self, self._peer())
        return int(self._start_write(op, self._snd_timeout))

    @overload
    def Receive(self, buffer: BytesLike) -> int: ...
    @overload
    def Receive(self, buffer: BytesLike, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Receive(self, buffer: BytesLike, size: int, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Receive(self, buffer: BytesLike, offset: int, size: int, socket_flags: SocketFlags | int) -> int: ...
    @overload
    def Receive(self, buffers: BufferList, /, socket_flags: SocketFlags | int = ...) -> int: ...

    def Receive(self, buffer: Any, *args: Any, **kwargs: Any) -> int:
        """Receive into a writable buffer; returns the bytes received (0: the peer closed its side).

        .NET's overloads: ``Receive(buffer)``, ``Receive(buffer, socket_flags)``,
        ``Receive(buffer, size, socket_flags)``, ``Receive(buffer, offset, size, socket_flags)``,
        and ``Receive(buffers[, socket_flags])`` with a list of buffers (scattered into in order).
        Waits up to ``ReceiveTimeout`` ms (0 or -1: for ever).

        Raises:

        - ``ObjectDisposedException``: the socket is closed.
        - ``ArgumentNullException``: ``buffer`` (or ``buffers``) is None.
        - ``ArgumentException``: the buffer is not writable.
        - ``ArgumentOutOfRangeException``: ``offset`` or ``size`` lies outside ``buffer``.
        - ``SecurityException``: a policy refused the operation.
        - ``SocketException``: the receive failed; ``SocketErrorCode`` says why (``NotConnected``,
          ``ConnectionReset``, ``TimedOut`` after ``ReceiveTimeout``, ``WouldBlock`` when
          ``Blocking`` is false; ``Interrupted`` on a datagram socket, ``ConnectionAborted`` on a
          stream socket, when another thread closes it).

        A datagram larger than the buffer is cut to it, without an error (.NET on Linux; Windows
        reports ``MessageSize``).
        """
        if type(buffer) is bytearray and not kwargs:
            if len(args) == 3:
                offset, size, flags = args
                if _steady_range(buffer, offset, size, flags):
                    return self._receive_steady(buffer, offset, size, flags)
            elif not args:
                return self._receive_steady(buffer, 0, len(buffer), 0)
        return self._receive_general(buffer, args, kwargs)

    def _receive_steady(self, buffer: bytearray, offset: int, size: int, flags: Any) -> int:
        """``Receive(buffer, offset, size, flags)`` into a ``bytearray`` with arguments
        ``_checks.steady_range`` passed: the call is made before any operation is built, as
        :meth:`_send_steady`; a would-block goes on as a queued operation, audited once."""
        io = self._io
        if (
            self._disposed
            or io.rq
            or io.closed
            or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
            or not size
        ):
            # (0 bytes waits for data: ops.ReceiveZeroOp, built by the general path)
            return self._receive_general(buffer, (offset, size, flags), {})
        # Exported before the audit hooks run; the whole buffer without a slice.
        view = memoryview(buffer) if size == len(buffer) else memoryview(buffer)[offset : offset + size]
        ep = self._remote_ep
        try:
            _audit("dotnet_sockets.Socket.Receive", self, self._peer() if ep is None else ep)
        except PermissionError as exc:
            raise _denied(exc) from exc
        io = self._io  # (a hook may have closed the socket, or given it a new queue)
        if not io.rq and not io.closed:
            try:
                n: int = io.sock.recv_into(view, size)
            except BlockingIOError:
                pass
            except OSError as exc:
                del view  # the caller's buffer is its own again, whatever holds this frame
                raise self._sync_failed(exc) from None
            else:
                _tel.c.received += n + _DGRAM if io.dgram else n
                return n
        return self._receive_wait(view)

    def _receive_wait(self, view: memoryview) -> int:
        """A steady ``Receive`` that would block (both paths): it waits as a queued operation
        (see ``_engine.syncwait``), audited already."""
        io = self._io
        op = ops.ReceiveOp(io, None, None)
        op.buf = view
        op.flags = 0
        return int(self._run_sync(op, self._rcv_timeout, io.enqueue_read))

    def _receive_general(self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
        self._throw_if_disposed()
        op = self._new_receive(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.Receive", self, self._peer())
        n: int = self._start_read(op, self._rcv_timeout)
        if _isEnabledFor(VERBOSE) and isinstance(op, ops.ReceiveOp):
            trace_dump("Receive", self, op.buf[:n])
        return n

    @overload
    def ReceiveFrom(self, buffer: BytesLike, remote_ep: EndPoint) -> SocketReceiveFromResult: ...
    @overload
    def ReceiveFrom(
        self, buffer: BytesLike, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> SocketReceiveFromResult: ...
    @overload
    def ReceiveFrom(
        self, buffer: BytesLike, size: int, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> SocketReceiveFromResult: ...
    @overload
    def ReceiveFrom(
        self, buffer: BytesLike, offset: int, size: int, socket_flags: SocketFlags | int, remote_ep: EndPoint
    ) -> SocketReceiveFromResult: ...

    @overload
    def ReceiveFrom(
        self, buffer: BytesLike, socket_flags: SocketFlags | int, received_address: SocketAddress
    ) -> int: ...

    def ReceiveFrom(self, buffer: Any, *args: Any, **kwargs: Any) -> SocketReceiveFromResult | int:
        """Receive one datagram; returns ``(bytes_received, sender)`` (a ``SocketReceiveFromResult``).

        .NET's overloads: ``ReceiveFrom(buffer, remote_ep)``,
        ``ReceiveFrom(buffer, socket_flags, remote_ep)``,
        ``ReceiveFrom(buffer, size, socket_flags, remote_ep)``,
        ``ReceiveFrom(buffer, offset, size, socket_flags, remote_ep)``.  ``remote_ep`` is .NET's
        ``ref EndPoint``: it gives the address family, and the sender comes back as the second
        item of the result.  Waits up to ``ReceiveTimeout`` ms.  The .NET 8 form
        ``ReceiveFrom(buffer, socket_flags, received_address) -> bytes`` writes the sender into a
        reused ``SocketAddress`` instead, making no endpoint.

        Raises, in this order:

        - ``ObjectDisposedException``: the socket is closed.
        - ``ArgumentNullException``: ``buffer`` or ``remote_ep`` (``remoteEP``) is None.
        - ``ArgumentException``: the buffer is not writable; ``remote_ep`` is a ``DnsEndPoint`` or
          of another address family.
        - ``ArgumentOutOfRangeException``: ``offset`` or ``size`` lies outside ``buffer``.
        - ``InvalidOperationException``: the socket is not bound.
        - ``SocketException``: the receive failed; ``SocketErrorCode`` says why (``TimedOut``
          after ``ReceiveTimeout``, ``WouldBlock`` when ``Blocking`` is false).

        A datagram larger than the buffer is cut to it, without an error, as .NET does on Linux
        (Windows reports ``MessageSize``); ``ReceiveMessageFrom`` and ``ReceiveFromAsync(e)`` say
        ``SocketFlags.Truncated``.
        """
        if not kwargs and type(buffer) is bytearray and args and type(args[-1]) is IPEndPoint:
            # ReceiveFrom(buffer, ep) and ReceiveFrom(buffer, offset, size, flags, ep): the loops' shapes.
            if len(args) == 4:
                offset, size, flags, ep = args
                if _steady_range(buffer, offset, size, flags):
                    return self._receive_from_steady(buffer, offset, size, flags, args[3])
            elif len(args) == 1:
                return self._receive_from_steady(buffer, 0, len(buffer), 0, args[0])
        if (args and type(args[-1]) is SocketAddress) or "received_address" in kwargs:
            return receive_from_address(self, buffer, args, kwargs)
        return self._receive_from_general(buffer, args, kwargs)

    def _receive_from_steady(
        self, buffer: bytearray, offset: int, size: int, flags: Any, ep: IPEndPoint
    ) -> SocketReceiveFromResult:
        """``ReceiveFrom`` into a ``bytearray`` with arguments ``_checks.steady_range`` passed:
        the call is made before any operation is built; a would-block goes on as a queued
        operation, audited once."""
        io = self._io
        if self._disposed or io.rq or io.closed or _isEnabledFor(DEBUG) or not size:
            # (0 bytes waits for data: ops.ReceiveFromZeroOp, built by the general path)
            return self._receive_from_general(buffer, (offset, size, flags, ep), {})
        # Exported before the checks and hooks run; the whole buffer without a slice.
        view = memoryview(buffer) if size == len(buffer) else memoryview(buffer)[offset : offset + size]
        self._check_receive_ep(ep, "remoteEP")
        _audit_op("dotnet_sockets.Socket.ReceiveFrom", self, ep)
        io = self._io  # (a hook may have closed the socket, or given it a new queue)
        if not io.rq and not io.closed:
            try:
                n, sa = io.sock.recvfrom_into(view, size)
            except BlockingIOError:
                pass
            except OSError as exc:
                del view  # the caller's buffer is its own again, whatever holds this frame
                raise self._sync_failed(exc) from None
            else:
                _tel.c.received += n + _DGRAM if io.dgram else n
                return SocketReceiveFromResult(n, self._endpoint_from(sa, ep))
        return self._receive_from_wait(view, ep)

    def _receive_from_wait(self, view: memoryview, ep: IPEndPoint) -> SocketReceiveFromResult:
        """A steady ``ReceiveFrom`` that would block (both paths): it waits as a queued operation
        (see ``_engine.syncwait``), audited already."""
        io = self._io
        op = ops.ReceiveFromOp(io, None, None)
        op.buf = view
        op.flags = 0
        n, sa = self._run_sync(op, self._rcv_timeout, io.enqueue_read)
        return SocketReceiveFromResult(n, self._endpoint_from(sa, ep))

    def _receive_from_general(
        self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> SocketReceiveFromResult:
        self._throw_if_disposed()
        op, hint = self._new_receive_from(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.ReceiveFrom", self, hint)
        n, sa = self._start_read(op, self._rcv_timeout)
        if _isEnabledFor(VERBOSE):
            trace_dump("ReceiveFrom", self, op.buf[:n])
        return SocketReceiveFromResult(n, self._endpoint_from(sa, hint))

    def Poll(self, microseconds: int | datetime.timedelta, mode: SelectMode) -> bool:
        """Whether the socket is ready for ``mode`` within ``microseconds`` (negative: wait forever).

        ``microseconds`` may be a ``timedelta`` (.NET's ``Poll(TimeSpan, SelectMode)``):
        ``timedelta(milliseconds=-1)`` waits forever, less than that raises
        ``ArgumentOutOfRangeException``.

        ``SelectRead``: data, a connection to accept, or the peer closed; ``SelectWrite``: a send
        would not block (a connect in progress has finished); ``SelectError``: an error or urgent
        data is pending.
        """
        self._throw_if_disposed()
        us = as_microseconds(microseconds)
        try:
            mode = SelectMode(mode)
        except (ValueError, TypeError):
            raise ArgumentException("Invalid SelectMode value.", "mode") from None
        p = select.poll()
        p.register(self._fd(), _POLL_ASK[mode])
        try:
            res = p.poll(None if us < 0 else _poll_ms(us))
        except OSError as exc:
            raise self._handle_error(exc) from None
        ready = bool(res) and bool(res[0][1] & _POLL_READY[mode])
        if ready and mode == SelectMode.SelectWrite:
            wq = self._io.wq
            if wq and isinstance(wq[0], ops.ConnectOp):
                # A non-blocking Connect has just finished: let the engine record it first, so
                # that Connected is true once Poll says writable, as in .NET.
                wq[0]._wait(1000)
        return ready

    @staticmethod
    def Select(
        check_read: list[Socket] | None,
        check_write: list[Socket] | None,
        check_error: list[Socket] | None,
        microseconds: int | datetime.timedelta,
    ) -> None:
        """.NET's static Select: the lists are filtered in place to the ready sockets.

        ``microseconds`` may be a ``timedelta``, as .NET's ``Select(..., TimeSpan)``.

        ``microseconds`` negative waits forever.  At least one list must be non-empty
        (``ArgumentNullException`` otherwise), none may hold more than 65536 sockets.
        """
        lists = (
            (check_read, "checkRead", SelectMode.SelectRead),
            (check_write, "checkWrite", SelectMode.SelectWrite),
            (check_error, "checkError", SelectMode.SelectError),
        )
        for lst, name, _ in lists:
            if lst is not None and not isinstance(lst, list):
                raise ArgumentException(f"Expected a list of Socket, not {type(lst).__name__}.", name)
        if not check_read and not check_write and not check_error:
            raise ArgumentNullException(None, "All lists are either null or empty.")
        for lst, name, _ in lists:
            if lst is not None and len(lst) > 65536:
                raise ArgumentOutOfRangeException(name, len(lst))
        us = as_microseconds(microseconds)
        p = select.poll()
        masks: dict[int, int] = {}
        for lst, name, mode in lists:
            for s in lst or ():
                if s is None:
                    raise ArgumentNullException(name)
                if not isinstance(s, SocketCore):
                    raise ArgumentException(f"Expected a Socket, not {type(s).__name__}.", name)
                s._throw_if_disposed()
                fd = s._sock.fileno()
                masks[fd] = masks.get(fd, 0) | _POLL_ASK[mode]
        for fd, m in masks.items():
            p.register(fd, m)
        try:
            res = dict(p.poll(None if us < 0 else _poll_ms(us)))
        except OSError as exc:
            raise _SocketOpError(exc) from None
        for lst, _, mode in lists:
            if lst is not None:
                ready = _POLL_READY[mode]
                lst[:] = [s for s in lst if res.get(s._sock.fileno(), 0) & ready]

    def BeginSendTo(
        self,
        buffer: Any,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult:
        """Start sending ``buffer[offset:offset+size]`` to ``remote_ep``; returns at once.

        Argument errors raise here, in .NET's order (disposed, buffer, offset,
        size, remoteEP).  Errors of the send itself (too large, broadcast not
        enabled, broken pipe) are raised by ``EndSendTo``.  ``callback(ar)``
        runs once on a completion thread after the send is complete.
        """
        if self._disposed:
            raise ObjectDisposedException(_DISPOSED_NAME)
        t = type(buffer)
        if t is not bytes and t is not bytearray:
            buffer = as_buffer(buffer)
        n = len(buffer)
        if (
            type(offset) is not int
            or type(size) is not int
            or offset < 0
            or size < 0
            or offset > n
            or size > n - offset
        ):
            offset, size = check_range(n, offset, size)
        addr: Any
        if type(remote_ep) is IPEndPoint:
            addr = remote_ep._sa_dual if self._v6 else remote_ep._sa
            if addr is None:
                addr = remote_ep._sockaddr(self._v6)
            if len(addr) != self._alen:
                addr = self._mismatch()
        else:
            addr = self._sockaddr(remote_ep, "remoteEP")
        # A bytearray is exported for as long as the operation holds it (see send_view).
        view = (
            (buffer if t is bytes else memoryview(buffer)) if size == n else memoryview(buffer)[offset : offset + size]
        )
        try:
            _audit("dotnet_sockets.Socket.BeginSendTo", self, remote_ep)
        except PermissionError as exc:
            raise _denied(exc) from exc
        if (
            (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
            or not (
                socket_flags is _NONE or (socket_flags == 0 if type(socket_flags) is int else no_flags(socket_flags))
            )
            or not self._dgram
            or self._right_ep is None
            or type(addr) is not tuple
        ):
            return self._begin_send_to_general(view, socket_flags, addr, remote_ep, callback, state, size, offset)
        # The steady-state datagram send, spelled out: this path is what
        # the callback-model benchmarks measure.
        io = self._io
        op = _SendToOp(io, callback, state)
        op.buf = view
        op.addr = addr
        op.flags = 0
        if io.wq or io.closed:
            io.enqueue_write(op)
        else:
            try:
                op._value = self._sock.sendto(view, addr)
                _tel.c.sent += size + _DGRAM  # telemetry: one datagram of size bytes
            except BlockingIOError:
                io.enqueue_write(op)
                return op
            except OSError as exc:
                op._error = exc
            # Inlined op._complete(True) (ops._complete_send): nobody can wait on a result
            # that has not been returned yet, so there is no handle to set.
            op.buf = None
            if view is not buffer:
                try:  # let_go(view), inlined: the view is this call's own memoryview
                    view.release()
                except BufferError:
                    pass  # in use by a call on another thread: its last reference lets it go
            op._sync = True
            op._done = True
            if callback is not None:
                if io.inline:
                    _run_inline(op)
                else:
                    _post(op)
        return op

    def _begin_send_to_general(
        self,
        view: Any,
        socket_flags: Any,
        addr: Any,
        remote_ep: EndPoint,
        callback: AsyncCallback | None,
        state: Any,
        size: int,
        offset: int,
    ) -> IAsyncResult:
        """BeginSendTo past its argument checks and audit, off the steady state (flags, a
        stream, an unbound socket, a refused endpoint, tracing on).  The accelerator hands
        over here when an audit hook changed the socket under it."""
        tracing = _isEnabledFor(DEBUG)
        if tracing:
            trace_enter("BeginSendTo", self, offset=offset, size=size, socket_flags=socket_flags, remote_ep=remote_ep)
            if _isEnabledFor(VERBOSE):
                trace_dump("BeginSendTo", self, view)
        op = self._new_send_to(view, socket_flags, addr, callback, state)
        self._start_send_to(op, remote_ep)
        if tracing:
            trace_exit("BeginSendTo", self, op)
        return op  # type: ignore[no-any-return]

    def EndSendTo(self, async_result: IAsyncResult) -> int:
        """The number of bytes sent; waits if the send is still pending, raises its error."""
        ar: Any = async_result
        try:
            fast = (
                ar._done and ar._io is self._io and ar.end_method == "EndSendTo" and not ar._ended and ar._error is None
            )
        except AttributeError:
            fast = False
        if fast:
            ar._ended = True
        else:
            ar = self._end(async_result, "EndSendTo")
        n: int = ar._value
        if _trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG):
            if fast:  # the slow path traced its entry in _end
                trace_enter("EndSendTo", self, async_result=async_result)
            trace_exit("EndSendTo", self, n)
        return n

    @overload
    def BeginSend(
        self,
        buffer: BytesLike,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult: ...
    @overload
    def BeginSend(
        self,
        buffers: BufferList,
        /,
        socket_flags: SocketFlags | int,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult: ...

    def BeginSend(self, buffer: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """Start sending on a connected socket; ``EndSend`` returns the bytes sent.

        .NET's overloads: ``BeginSend(buffer, offset, size, socket_flags, callback, state)`` and
        ``BeginSend(buffers, socket_flags, callback, state)``.  ``callback(ar)`` runs once, on a
        completion thread, when the send is complete.

        Raises from the call: ``ObjectDisposedException`` (closed), ``ArgumentNullException``
        (``buffer`` None), ``ArgumentOutOfRangeException`` (``offset``/``size`` outside the
        buffer), ``ArgumentException`` (``callback`` not callable), ``SecurityException`` (a
        policy refused).  Errors of the send itself (``SocketException``: ``NotConnected``,
        ``ConnectionReset``, ``OperationAborted`` when closed meanwhile) are raised by ``EndSend``.
        """
        if (
            not kwargs
            and 4 <= (n := len(args)) <= 5
            and not self._dgram
            and ((cb := args[3]) is None or type(cb) is _FunctionType or callable(cb))
            and (
                # _steady_range's test spelled out while it is the rule (see _checks.STEADY_RANGE)
                (_steady_range is _STEADY_RANGE and args[2] is _NONE)
                and ((t := type(buffer)) is bytearray or t is bytes)
                and type(offset := args[0]) is int
                and type(size := args[1]) is int
                and 0 <= offset
                and 0 <= size <= len(buffer) - offset
                or _steady_range(buffer, args[0], args[1], args[2])
            )
        ):
            # The steady state, BeginSend(buffer, offset, size, flags, callback[, state]) with
            # plainly valid arguments: one send, no operation machinery unless it would block.
            # (_speedups.c's fast_begin_send is its compiled twin: a change here goes there too.)
            io = self._io
            if not (
                self._disposed or io.wq or io.closed or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
            ):
                offset = args[0]
                size = args[1]  # (the spelled-out test may have stopped before it read them)
                # Exported before the audit hooks run, as the general path's operation holds it.
                data = (
                    (buffer if type(buffer) is bytes else memoryview(buffer))
                    if size == len(buffer)  # (then offset is 0: the whole buffer, without a slice)
                    else memoryview(buffer)[offset : offset + size]
                )
                ep = self._remote_ep
                try:
                    _audit("dotnet_sockets.Socket.BeginSend", self, self._peer() if ep is None else ep)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                # The send made at once (BeginSend's only caller of it: spelled out here, a call
                # fewer); an operation is queued, holding ``data`` (the export the general path's
                # would hold), only for what would block.
                io = self._io  # (a hook may have closed the socket, or given it a new queue)
                op: Any = _StreamSendOnlyOp(io, cb, args[4] if n == 5 else None)
                op.flags = 0
                op.addr = None
                sent = 0
                if not io.wq and not io.closed:
                    try:
                        sent = io.sock.send(data)
                    except BlockingIOError:
                        sent = -1  # (even a 0-byte send waits then, as the operation would)
                    except OSError as exc:
                        op._error = exc
                    if sent == size or op._error is not None:
                        _tel.c.sent += sent  # telemetry counts bytes as they leave, as StreamSendOp does
                        op.sent = sent
                        op._value = sent
                        op.buf = None
                        if type(data) is memoryview:
                            try:  # let_go(data), inlined: the view is this call's own memoryview
                                data.release()
                            except BufferError:
                                pass  # in use by a call on another thread: its last reference lets it go
                        # op._complete(True), inlined: a result not returned yet has no handle to set.
                        op._sync = op._done = True
                        if cb is not None:
                            _run_inline(op) if io.inline else _post(op)
                        return op  # type: ignore[no-any-return]
                # What is left waits in order in the queue; a partial send goes on from where it stopped.
                op.buf = data
                if sent > 0:
                    _tel.c.sent += sent
                    op.sent = sent
                    io.start_write(op)
                else:
                    op.sent = 0
                    io.enqueue(op, True)  # enqueue_write, one call fewer
                return op  # type: ignore[no-any-return]
        self._throw_if_disposed()
        args, callback, state = _split_callback(args, kwargs, 1 if isinstance(buffer, (list, tuple)) else 3)
        op = self._new_send(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginSend", write=True)

    def EndSend(self, async_result: IAsyncResult) -> int:
        """The bytes sent; waits if the send is still pending, raises its ``SocketException``.

        ``ArgumentException`` (``asyncResult``) for a result of another socket or operation,
        ``InvalidOperationException`` when it was already ended.
        """
        ar: Any = async_result
        if type(ar) is _StreamSendOnlyOp and ar._io is self._io and _trace_cached(DEBUG) is False:
            # The steady state, tracing off: this socket's send, finished without error and not
            # ended yet; _end's checks would all pass and its wait return at once (compiled
            # twin: _speedups.c's end_steady, EndReceive's too).
            if ar._done and not ar._ended and ar._error is None and ar.end_method == "EndSend":
                ar._ended = True
                return ar._value  # type: ignore[no-any-return]
        tracing = _isEnabledFor(DEBUG)
        n: int = self._end(ar, "EndSend", tracing)._value
        if tracing:
            trace_exit("EndSend", self, n)
        return n

    @overload
    def BeginReceive(
        self,
        buffer: BytesLike,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult: ...
    @overload
    def BeginReceive(
        self,
        buffers: BufferList,
        /,
        socket_flags: SocketFlags | int,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult: ...

    def BeginReceive(self, buffer: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """Start receiving into a writable buffer; ``EndReceive`` returns the bytes received.

        .NET's overloads: ``BeginReceive(buffer, offset, size, socket_flags, callback, state)`` and
        ``BeginReceive(buffers, socket_flags, callback, state)``.  ``callback(ar)`` runs once, on a
        completion thread, when data has arrived (0 bytes: the peer closed its side).

        Raises from the call: ``ObjectDisposedException`` (closed), ``ArgumentNullException``
        (``buffer`` None), ``ArgumentException`` (the buffer is not writable, ``callback`` not
        callable), ``ArgumentOutOfRangeException`` (``offset``/``size`` outside the buffer),
        ``SecurityException`` (a policy refused).  Errors of the receive (``SocketException``:
        ``ConnectionReset``, ``OperationAborted`` when closed meanwhile) are raised by
        ``EndReceive``.
        """
        if (
            type(buffer) is bytearray
            and not kwargs
            and 4 <= (n := len(args)) <= 5
            and ((cb := args[3]) is None or type(cb) is _FunctionType or callable(cb))
            and (
                # _steady_range's test spelled out while it is the rule (see _checks.STEADY_RANGE)
                (_steady_range is _STEADY_RANGE and args[2] is _NONE and type(offset := args[0]) is int)
                and type(size := args[1]) is int
                and 0 <= offset
                and 0 <= size <= len(buffer) - offset
                or _steady_range(buffer, args[0], args[1], args[2])
            )
        ):
            # The steady state, as in BeginSend: one recv_into unless it would block (compiled
            # twin: _speedups.c's fast_begin_receive).
            io = self._io
            if not (
                self._disposed
                or io.rq
                or io.closed
                or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
                or not args[1]  # (0 bytes waits for data: ops.ReceiveZeroOp, built by the general path)
            ):
                offset = args[0]
                size = args[1]
                # Exported before the hooks run; the whole buffer without a slice.
                view = memoryview(buffer) if size == len(buffer) else memoryview(buffer)[offset : offset + size]
                ep = self._remote_ep
                try:
                    _audit("dotnet_sockets.Socket.BeginReceive", self, self._peer() if ep is None else ep)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                rop = _ReceiveOp(self._io, cb, args[4] if n == 5 else None)
                return _receive_now(self, rop, view, size)
        self._throw_if_disposed()
        args, callback, state = _split_callback(args, kwargs, 1 if isinstance(buffer, (list, tuple)) else 3)
        op = self._new_receive(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginReceive", write=False)

    def EndReceive(self, async_result: IAsyncResult) -> int:
        """The bytes received; waits if the receive is still pending, raises its ``SocketException``.

        ``ArgumentException`` (``asyncResult``) for a result of another socket or operation,
        ``InvalidOperationException`` when it was already ended.
        """
        ar: Any = async_result
        if type(ar) is _ReceiveOp and ar._io is self._io and _trace_cached(DEBUG) is False:
            # The steady state, as in EndSend.
            if ar._done and not ar._ended and ar._error is None and ar.end_method == "EndReceive":
                ar._ended = True
                return ar._value  # type: ignore[no-any-return]
        tracing = _isEnabledFor(DEBUG)
        ar = self._end(ar, "EndReceive", tracing)
        n: int = ar._value
        if tracing:  # (VERBOSE is below DEBUG: never on without it)
            trace_exit("EndReceive", self, n)
            if _isEnabledFor(VERBOSE) and isinstance(ar, ops.ReceiveOp):
                trace_dump("EndReceive", self, ar.buf[:n])
        return n

    def BeginReceiveFrom(
        self,
        buffer: Any,
        offset: int,
        size: int,
        socket_flags: SocketFlags | int,
        remote_ep: EndPoint,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult:
        """Start receiving one datagram; ``EndReceiveFrom`` returns ``(bytes, sender)``.

        Checks, in .NET's order: disposed, ``buffer``, ``offset``, ``size``, ``remoteEP`` (not
        None, not a ``DnsEndPoint``, of the socket's family), then the socket must be bound.  On a
        dual-mode socket an IPv4 sender is reported as an IPv4-mapped IPv6 endpoint, as in .NET.
        """
        if (
            type(buffer) is bytearray
            and type(remote_ep) is IPEndPoint
            and (callback is None or callable(callback))
            and _steady_range(buffer, offset, size, socket_flags)
        ):
            # The steady state, as in BeginReceive; the endpoint's checks are the general path's
            # (compiled twin on a datagram socket: _speedups.c's fast_begin_receive_from).
            io = self._io
            # (0 bytes waits for data: ops.ReceiveFromZeroOp, built by the general path)
            if not (
                self._disposed
                or io.rq
                or io.closed
                or (_trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG))
                or not size
            ):
                # Exported before the checks and hooks; the whole buffer without a slice.
                view = memoryview(buffer) if size == len(buffer) else memoryview(buffer)[offset : offset + size]
                self._check_receive_ep(remote_ep, "remoteEP")
                try:
                    _audit("dotnet_sockets.Socket.BeginReceiveFrom", self, remote_ep)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                fop: Any = _ReceiveFromOp(self._io, callback, state)
                fop.extra = remote_ep
                return _receive_now(self, fop, view, size)
        self._throw_if_disposed()
        op, hint = self._new_receive_from(buffer, (offset, size, socket_flags, remote_ep), {}, callback, state)
        op.extra = hint
        return self._begin(op, "BeginReceiveFrom", write=False)

    def EndReceiveFrom(self, async_result: IAsyncResult) -> SocketReceiveFromResult:
        """``(bytes_received, sender)``; waits if still pending, raises the receive's ``SocketException``.

        ``ArgumentException`` (``asyncResult``) for a result of another socket or operation,
        ``InvalidOperationException`` when it was already ended.
        """
        # (_speedups.c's fast_end_receive_from takes _end's steady state: this socket's finished
        # receive, not ended, without error, tracing off; so does this, as EndReceive's.)
        ar: Any = async_result
        if (
            type(ar) is _ReceiveFromOp
            and ar._io is self._io
            and _trace_cached(DEBUG) is False
            and ar._done
            and not ar._ended
            and ar._error is None
        ):
            ar._ended = True
            n, sa = ar._value
            return SocketReceiveFromResult(n, self._endpoint_from(sa, ar.extra))
        tracing = _isEnabledFor(DEBUG)
        ar = self._end(async_result, "EndReceiveFrom", tracing)
        n, sa = ar._value
        result = SocketReceiveFromResult(n, self._endpoint_from(sa, ar.extra))
        if tracing:
            trace_exit("EndReceiveFrom", self, result)
            if _isEnabledFor(VERBOSE):
                trace_dump("EndReceiveFrom", self, ar.buf[:n])
        return result

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    send_to = SendTo
    send = Send
    receive = Receive
    receive_from = ReceiveFrom
    poll = Poll
    select = Select
    begin_send_to = BeginSendTo
    end_send_to = EndSendTo
    begin_send = BeginSend
    end_send = EndSend
    begin_receive = BeginReceive
    end_receive = EndReceive
    begin_receive_from = BeginReceiveFrom
    end_receive_from = EndReceiveFrom
    # -- end of PEP 8 spellings --
