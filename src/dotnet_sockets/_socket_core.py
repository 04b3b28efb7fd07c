"""The state every ``Socket`` shares and the helpers all its parts use.

``SocketCore`` holds the slots, the argument-to-operation builders and the
waiting and error rules; the public members live in the mixins built on it
(options, connections, transfers) and in ``socket.Socket`` itself.
"""

from __future__ import annotations

import errno
import fcntl
import operator
import os
import select
import socket as _socket
import struct
import sys
import termios
from _socket import socket as _RawSocket
from collections.abc import Callable
from logging import DEBUG
from typing import TYPE_CHECKING, Any, TypeVar

from . import _platform
from ._checks import as_buffer, as_int, as_writable_buffer, buffer_list, check_range, flags_value, send_view
from ._engine import ops
from ._engine.dispatch import dispatcher
from ._engine.opqueue import OpQueue
from ._engine.syncwait import thread_waiter as _thread_waiter
from ._engine.syncwait import wait as _sync_wait
from ._engine.syncwait import waiters as _waiters
from .addresses import (
    DnsEndPoint,
    EndPoint,
    IPAddress,
    IPEndPoint,
    from_sockaddr,
    to_sockaddr,
)
from .asyncresult import ABORTED, AsyncOperation, IAsyncResult
from .enums import (
    AddressFamily,
    ProtocolType,
    SelectMode,
    SocketError,
    SocketOptionLevel,
    SocketOptionName,
    SocketType,
)
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    NotSupportedException,
    ObjectDisposedException,
    SocketException,
)
from .security import audit as _audit_op
from .socketaddress import SocketAddress
from .tracing import (
    log,
    trace_cached,
    trace_enter,
    trace_error,
    trace_exit,
    trace_start,
    trace_sync,
)

if TYPE_CHECKING:
    pass

__all__ = ["SocketCore", "set_inline_completions"]

_S = TypeVar("_S", bound="SocketCore")


def _bytes_available(sock: _RawSocket) -> int:
    """FIONREAD: bytes that can be read without blocking (raises OSError)."""
    buf = bytearray(4)
    fd = sock.fileno()
    if fd < 0:  # closed by another thread meanwhile (ioctl would raise ValueError)
        raise OSError(errno.EBADF, os.strerror(errno.EBADF))
    fcntl.ioctl(fd, termios.FIONREAD, buf)
    return int.from_bytes(buf, sys.byteorder)


_AF_INET = _socket.AF_INET


_AF_INET6 = _socket.AF_INET6


_AF_UNIX = _socket.AF_UNIX


_IP_MTU_DISCOVER = 10  # Linux <netinet/in.h>; not exported by the socket module


_send_flags = _platform.platform_send_flags


_recv_flags = _platform.platform_receive_flags


_isEnabledFor = log.isEnabledFor
_trace_cached = trace_cached


_audit = sys.audit  # inline on the hottest paths; elsewhere _audit_op, which also maps a denial

_raw_family = _RawSocket.family.__get__  # the C socket's int, without socket.socket's enum
_raw_type = _RawSocket.type.__get__


_SocketOpError = SocketException._from_os_error


_SendToOp = ops.SendToOp


_post = dispatcher.post


# Errors after which .NET keeps a connected socket connected.
_KEEPS_CONNECTED = frozenset(
    {SocketError.WouldBlock, SocketError.IOPending, SocketError.NoBufferSpaceAvailable, SocketError.TimedOut}
)


_inline_default = os.environ.get("DOTNET_SOCKETS_INLINE_COMPLETIONS", "") == "1"


def set_inline_completions(enabled: bool) -> None:
    """Process-wide default for sockets created afterwards: run the callback of an
    operation that finished inside ``Begin...`` on the caller's thread, before
    ``Begin...`` returns (what current .NET does; see ``Socket.InlineCompletions``)."""
    global _inline_default
    _inline_default = bool(enabled)


_MISSING: Any = object()


_DISPOSED_NAME = "System.Net.Sockets.Socket"


def _op_error(err: Any) -> SocketException:
    if err is ABORTED:
        return SocketException(SocketError.OperationAborted)
    if isinstance(err, SocketException):
        return err
    return _SocketOpError(err)


_EVENTS = {m: "dotnet_sockets.Socket." + m for m in ("BeginSend", "BeginReceive", "BeginReceiveFrom", "BeginAccept")}


_TIMEOUT_OPTIONS = frozenset({SocketOptionName.ReceiveTimeout, SocketOptionName.SendTimeout})


# Marks the extra of BeginAccept's receive_size forms, whose EndAccept returns (socket, data, n).
_WITH_RECEIVE = "with receive"


# What Poll/Select ask poll(2) for, and which reported events mean "ready" (.NET's Unix PAL).
_POLL_ASK = {
    SelectMode.SelectRead: select.POLLIN,
    SelectMode.SelectWrite: select.POLLOUT,
    SelectMode.SelectError: select.POLLPRI,
}


_POLL_READY = {
    SelectMode.SelectRead: select.POLLIN | select.POLLHUP,
    SelectMode.SelectWrite: select.POLLOUT,
    SelectMode.SelectError: select.POLLERR | select.POLLPRI,
}


def _poll_ms(microseconds: int) -> int:
    if microseconds > 0x7FFFFFFF:
        raise ArgumentOutOfRangeException("microSeconds", microseconds)
    # Rounded up: a short positive timeout must not become a non-blocking check.
    return (microseconds + 999) // 1000


# SO_LINGER on with 0 seconds: close() resets the connection.
_LINGER_RESET = struct.pack("ii", 1, 0)


# Options a replaced descriptor inherits (.NET's ReplaceHandle copies the ones it tracks).
_COPIED_OPTIONS = (
    (_socket.SOL_SOCKET, _socket.SO_REUSEADDR),
    (_socket.SOL_SOCKET, _socket.SO_REUSEPORT),
    (_socket.SOL_SOCKET, _socket.SO_BROADCAST),
    (_socket.SOL_SOCKET, _socket.SO_KEEPALIVE),
    (_socket.SOL_SOCKET, _socket.SO_OOBINLINE),
    (_socket.SOL_SOCKET, _socket.SO_RCVBUF),
    (_socket.SOL_SOCKET, _socket.SO_SNDBUF),
    (_socket.IPPROTO_TCP, _socket.TCP_NODELAY),
    (_socket.IPPROTO_IP, _socket.IP_TTL),
    (_socket.IPPROTO_IP, _socket.IP_TOS),
    (_socket.IPPROTO_IP, _IP_MTU_DISCOVER),
    (_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY),
    (_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS),
)


def _copy_options(old: _RawSocket, new: _RawSocket) -> None:
    for level, name in _COPIED_OPTIONS:
        try:
            value = old.getsockopt(level, name)
            if value != new.getsockopt(level, name):
                if level == _socket.SOL_SOCKET and name in (_socket.SO_RCVBUF, _socket.SO_SNDBUF):
                    value //= 2  # the kernel reports twice what it was given
                new.setsockopt(level, name, value)
        except OSError:
            pass  # not an option of this kind of socket
    try:
        linger = old.getsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, 8)
        if linger != new.getsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, 8):
            new.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, linger)
    except OSError:
        pass


def _check_port(port: Any) -> int:
    value = as_int(port, "port")
    if value < 0 or value > 0xFFFF:
        raise ArgumentOutOfRangeException("port", value)
    return value


def _connect_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
    """The Connect overloads' arguments, positional or by PEP 8 name, in .NET's order."""
    named = [kwargs.pop(k) for k in ("remote_ep", "address", "host", "addresses") if k in kwargs]
    if "port" in kwargs:
        named.append(kwargs.pop("port"))
    if kwargs:
        raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
    return args + tuple(named)


def _option_key(level: Any, name: Any) -> tuple[SocketOptionLevel, SocketOptionName]:
    try:
        return SocketOptionLevel(level), SocketOptionName(name)
    except (ValueError, TypeError):
        # .NET hands unknown numbers to the system, which refuses them.
        raise SocketException(SocketError.ProtocolOption) from None


def _split_callback(args: tuple[Any, ...], kwargs: dict[str, Any], lead: int) -> tuple[tuple[Any, ...], Any, Any]:
    """Peel the trailing ``callback, state`` off a Begin... argument list.

    ``lead`` is how many arguments the overload has before ``callback``: what
    follows them is the callback (which must be callable or None) and the
    state.  Shorter lists may leave out trailing arguments; there a trailing
    callable (or None) is taken for the callback.
    """
    callback = kwargs.pop("callback", _MISSING)
    state = kwargs.pop("state", None)
    extra = len(args) - lead
    if extra > 0:
        if extra > 2 or callback is not _MISSING:
            raise TypeError("too many arguments")
        callback = args[lead]
        if extra == 2:
            state = args[lead + 1]
        args = args[:lead]
    elif callback is _MISSING:
        if len(args) >= 2 and (args[-2] is None or callable(args[-2])):
            callback, state = args[-2], args[-1]
            args = args[:-2]
        elif args and (args[-1] is None or callable(args[-1])):
            callback = args[-1]
            args = args[:-1]
        else:
            callback = None
    if callback is not None and not callable(callback):
        raise ArgumentException("The callback must be callable.", "callback")
    return args, callback, state


def _accept_lead(args: tuple[Any, ...]) -> int:
    """How many of BeginAccept's arguments come before the callback: 2 for (accept_socket,
    receive_size, ...), 1 for (receive_size, ...), 0 for (callback, state)."""
    if not args:
        return 0
    if len(args) >= 4:
        return 2
    first = args[0]
    if isinstance(first, SocketCore):
        return 2
    if first is None:
        return 2 if len(args) >= 2 and args[1] is not None and not callable(args[1]) else 0
    if callable(first):
        return 0
    try:
        operator.index(first)
    except TypeError:
        return 0
    return 1


def _set_flags(op: Any, flags: Any, translate: Callable[[int], int]) -> None:
    """The platform flags of ``op``; flags Linux does not have become the operation's error.

    .NET refuses them in the operation, not in the argument checks: the error surfaces
    from End... (or from the synchronous call before any I/O).
    """
    op.flags = 0
    if flags is _MISSING:
        return
    value = flags_value(flags)
    if value:
        try:
            op.flags = translate(value)
        except SocketException as exc:
            op._error = exc


class SocketCore:
    """Slots and shared helpers of ``Socket``; not public."""

    __slots__ = (
        "_io",
        "_sock",
        "_af",
        "_st",
        "_pt",
        "_pf",
        "_dgram",
        "_dual",
        "_v6",
        "_alen",
        "_right_ep",
        "_remote_ep",
        "_local_ep",
        "_connected",
        "_listening",
        "_disposed",
        "_blocking",
        "_rcv_timeout",
        "_snd_timeout",
        "_disconnected",
        "_connect_failed",
        "_unlink_path",
        "_pktinfo",
        "__weakref__",
    )

    def _setup(self, pysock: _RawSocket, af: AddressFamily, st: SocketType, pt: ProtocolType) -> None:
        self._sock = pysock
        self._io = OpQueue(pysock)
        self._io.inline = _inline_default
        self._af = af
        self._st = st
        self._pt = pt
        # The raw numbers: socket.socket's own family/type properties build an enum each time,
        # a measurable part of an accepted connection.
        pf: int = _raw_family(pysock)
        self._pf = pf
        self._dgram = _raw_type(pysock) != _socket.SOCK_STREAM
        self._dual = False
        self._v6 = pf == _AF_INET6
        self._alen = 2 if pf == _AF_INET else 4 if pf == _AF_INET6 else 0
        self._right_ep: EndPoint | None = None
        self._remote_ep: EndPoint | None = None
        self._local_ep: EndPoint | None = None
        self._connected = False
        self._listening = False
        self._disposed = False
        self._blocking = True
        self._rcv_timeout = 0
        self._snd_timeout = 0
        # .NET's _isDisconnected: connected once, then shut down or disconnected.
        self._disconnected = False
        # The last connect failed: Linux needs a fresh socket before the next one.
        self._connect_failed = False
        # The file a Bind to a Unix domain path created, deleted by Dispose as .NET does.
        self._unlink_path: str | None = None
        # ReceiveMessageFrom has asked the kernel for packet information (.NET's _receivingPacketInformation).
        self._pktinfo = False

    @classmethod
    def _from_accepted(cls: type[_S], listener: SocketCore, pysock: _RawSocket, sockaddr: Any) -> _S:
        s = cls.__new__(cls)
        s._setup(pysock, listener._af, listener._st, listener._pt)
        s._adopt_accepted(listener, sockaddr)
        return s

    def _adopt_accepted(self, listener: SocketCore, sockaddr: Any) -> None:
        # The accepted socket inherits the listener's state, as .NET's UpdateAcceptSocket does
        # (but not the duty to delete the listener's Unix domain socket file).
        self._dual = listener._dual
        self._right_ep = listener._right_ep
        self._remote_ep = from_sockaddr(self._pf, sockaddr)  # (_endpoint_from without a hint)
        self._blocking = listener._blocking
        self._io.inline = listener._io.inline
        self._connected = True

    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException(_DISPOSED_NAME)

    def _handle_error(self, exc: OSError) -> Exception:
        """What a member that asks the descriptor (``getsockname``, an option) raises for ``exc``:
        once another thread closed the socket after the member's disposed check (EBADF, or the
        number of a descriptor opened since), .NET's marshalling of the closed handle, an
        ``ObjectDisposedException``; otherwise the ``SocketException``."""
        if self._disposed:
            return ObjectDisposedException("SafeHandle", "Safe handle has been closed.")
        return _SocketOpError(exc)

    def _fd(self) -> int:
        """The descriptor's number, for a call that takes one (``poll``, ``ioctl``): a socket another
        thread closed since the member's disposed check raises as ``_handle_error`` says."""
        fd: int = self._sock.fileno()
        if fd < 0:
            raise self._handle_error(OSError(errno.EBADF, os.strerror(errno.EBADF)))
        return fd

    def _sync_failed(self, exc: OSError) -> SocketException:
        """What a synchronous send or receive raises for its failed system call: once another
        thread closed the socket after the call's disposed check, what a call cut short by
        ``Close`` raises (.NET's Update{Send,Receive}SocketErrorForDisposed); otherwise the
        ``SocketException``, through ``_failed``."""
        if self._disposed:
            return self._failed(self._closed_during(None))
        return self._failed(_SocketOpError(exc))

    def _set_dual(self, dual: bool) -> None:
        try:
            self._sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0 if dual else 1)
        except OSError as exc:
            raise self._handle_error(exc) from None
        self._dual = dual

    def _sockaddr(self, ep: Any, param: str) -> Any:
        """The sockaddr for ``ep``, or an ``OSError`` the kernel would give for it.

        A mismatched family is not an argument error in .NET's send path: the
        kernel rejects it, and the error surfaces from the operation.
        """
        if type(ep) is IPEndPoint:
            # An IPv6 socket always gets the IPv4-mapped form of an IPv4
            # address: a v6-only (non-dual) socket then fails with
            # ENETUNREACH, exactly what .NET's sockaddr_in gets from Linux.
            addr = ep._sockaddr(self._v6)
            if len(addr) == self._alen:
                return addr
        elif ep is None:
            raise ArgumentNullException(param)
        elif type(ep) is SocketAddress:
            # The .NET 8 overloads: the bytes go to the kernel as they are.
            return ep._sockaddr_for(self._pf, self._dual)
        elif isinstance(ep, DnsEndPoint):
            raise ArgumentException("DnsEndPoint is not supported here; resolve it first.", param)
        elif not isinstance(ep, EndPoint):
            raise ArgumentException(f"Expected an EndPoint, not {type(ep).__name__}.", param)
        else:
            try:
                return to_sockaddr(ep, self._pf, self._dual)
            except (ValueError, TypeError, OSError):
                pass
        if self._pf == _AF_INET6:
            return OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH))
        return OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))

    def _check_family(self, ep: EndPoint, param: str) -> None:
        """ReceiveFrom-style check: the endpoint must be of the socket's family."""
        fam = ep.AddressFamily
        if fam == self._af:
            return
        if self._dual and fam == AddressFamily.InterNetwork:
            return
        raise ArgumentException(
            f"The AddressFamily {fam.name} is not valid for the {self._af.name} end point, "
            f"use {self._af.name} instead.",
            param,
        )

    def _endpoint_from(self, sockaddr: Any, hint: EndPoint | None = None) -> EndPoint:
        # A dual-mode socket reports an IPv4 peer as an IPv4-mapped IPv6 endpoint even when the
        # caller passed an IPv4 endpoint (``hint``): current .NET does (DualModeSocketTest.cs).
        if sockaddr is None and hint is not None and not self._dgram:
            # recvfrom on a stream names no sender: .NET leaves the ref remoteEP as it was.
            return hint
        return from_sockaddr(self._pf, sockaddr)

    def _peer(self) -> EndPoint | None:
        """The endpoint an audit event names for an operation on a connected socket (RemoteEndPoint)."""
        ep = self._remote_ep
        if ep is None and self._connected:
            ep = self._remote_from_kernel()
        return ep

    def _remote_from_kernel(self) -> EndPoint | None:
        """The connected peer as the kernel knows it (cached), or None."""
        try:
            self._remote_ep = from_sockaddr(self._pf, self._sock.getpeername())
        except OSError:
            return None
        return self._remote_ep

    def _failed(self, exc: SocketException) -> SocketException:
        """.NET's UpdateStatusAfterSocketError: most errors disconnect the socket."""
        if self._connected and exc.SocketErrorCode not in _KEEPS_CONNECTED:
            self._connected = False
            self._disconnected = True
        return exc

    def _end(self, ar: Any, method: str, tracing: bool | None = None) -> Any:
        """The checks and wait of every End...; ``tracing`` is ``_isEnabledFor(DEBUG)`` when the
        caller already asked (it traces the exit with the same answer)."""
        if tracing is None:
            tracing = _isEnabledFor(DEBUG)
        if tracing:
            trace_enter(method, self, async_result=ar)
        if ar is None:
            raise ArgumentNullException("asyncResult")
        try:
            # Only this socket's operations hold its OpQueue.
            mine = ar._io is self._io and ar.end_method == method
        except AttributeError:
            mine = False
        if not mine:
            raise ArgumentException(
                "The IAsyncResult object was not returned from the corresponding asynchronous method on this class.",
                "asyncResult",
            )
        if ar._ended:
            raise InvalidOperationException(f"{method} can only be called once for each asynchronous operation.")
        if not ar._done:
            # Marked ended only once it is delivered, as .NET sets EndCalled after its wait:
            # an End interrupted here (Ctrl-C) can be called again and gets the result.
            ar._wait(-1)
            if ar._ended:  # another thread's End took it meanwhile
                raise InvalidOperationException(f"{method} can only be called once for each asynchronous operation.")
        ar._ended = True
        err = ar._error
        if err is not None:
            exc = self._failed(_op_error(err))
            if tracing:
                trace_error(method, self, exc)
            raise exc
        return ar

    def _wait_sync(self, op: AsyncOperation, timeout_ms: int) -> Any:
        """Wait for an operation started on behalf of a synchronous call (see ``_engine.syncwait``)."""
        if not op._done:
            io = self._io
            if not self._blocking:
                if io.cancel(op):
                    sent = getattr(op, "sent", 0)
                    if sent:
                        # A non-blocking stream send reports what it handed over, as .NET does.
                        return sent
                    raise SocketException(SocketError.WouldBlock)
            if not _sync_wait(io, op, timeout_ms):
                raise SocketException(SocketError.TimedOut)
        err = op._error
        if err is not None:
            if self._disposed:
                # Aborted by the close, or its call failed on the closed descriptor (EBADF): what
                # .NET's Update...ErrorForDisposed makes of any error once the socket is disposed.
                raise self._closed_during(op)
            raise self._failed(_op_error(err))
        return op._value

    def _closed_during(self, op: AsyncOperation | None) -> SocketException:
        """What a synchronous call cut short by ``Close`` raises (.NET's Update...ErrorForDisposed)."""
        if isinstance(op, ops.AcceptOp):
            return SocketException(SocketError.Interrupted)
        if isinstance(op, ops.ConnectOp):
            return SocketException(SocketError.NotSocket)
        return SocketException(SocketError.Interrupted if self._dgram else SocketError.ConnectionAborted)

    def _start_write(self, op: AsyncOperation, timeout_ms: int) -> Any:
        return self._run_sync(op, timeout_ms, self._io.start_write)

    def _start_read(self, op: AsyncOperation, timeout_ms: int) -> Any:
        return self._run_sync(op, timeout_ms, self._io.start_read)

    def _run_sync(self, op: AsyncOperation, timeout_ms: int, start: Callable[[AsyncOperation], None]) -> Any:
        """A synchronous call: start ``op`` on the engine and wait for it (bounded by ``timeout_ms``)."""
        if op._error is not None:
            # Refused before any I/O (a flag Linux does not have): nothing may be sent or taken
            # off the socket on its behalf, as _begin does for the asynchronous models.
            raise self._failed(_op_error(op._error))
        # It waits on this thread, never through the engine's.
        try:
            op._ctx = _waiters.waiter
        except AttributeError:
            op._ctx = _thread_waiter()
        if _isEnabledFor(DEBUG):
            return trace_sync(self, op, start, self._wait_sync, timeout_ms)
        start(op)
        return self._wait_sync(op, timeout_ms)

    def _opt(self, level: int, name: int) -> int:
        self._throw_if_disposed()
        try:
            return self._sock.getsockopt(level, name)
        except OSError as exc:
            raise self._handle_error(exc) from None

    def _setopt(self, level: int, name: int, value: int | bytes) -> None:
        self._throw_if_disposed()
        try:
            self._sock.setsockopt(level, name, value)
        except OSError as exc:
            raise self._handle_error(exc) from None

    def _only_ipv4(self) -> None:
        if self._af != AddressFamily.InterNetwork:
            raise NotSupportedException("This protocol version is not supported.")

    def _only_ip(self) -> None:
        if self._af != AddressFamily.InterNetwork and self._af != AddressFamily.InterNetworkV6:
            raise NotSupportedException("This protocol version is not supported.")

    @staticmethod
    def _split_overload(
        buffer: Any, args: tuple[Any, ...], with_ep: bool, kwargs: dict[str, Any]
    ) -> tuple[Any, Any, Any, Any, Any]:
        """Map .NET's (buffer[, [[offset,] size,] flags][, ep]) overloads to one shape."""
        offset = kwargs.pop("offset", _MISSING)
        size = kwargs.pop("size", _MISSING)
        flags = kwargs.pop("socket_flags", _MISSING)
        ep = kwargs.pop("remote_ep", _MISSING)
        if kwargs:
            raise TypeError(f"unexpected keyword arguments {sorted(kwargs)}")
        n = len(args)
        if with_ep:
            if n == 0:
                pass
            elif n == 1:
                (ep,) = args
            elif n == 2:
                flags, ep = args
            elif n == 3:
                size, flags, ep = args
            elif n == 4:
                offset, size, flags, ep = args
            else:
                raise TypeError("too many arguments")
        else:
            if n == 0:
                pass
            elif n == 1:
                (flags,) = args
            elif n == 2:
                size, flags = args
            elif n == 3:
                offset, size, flags = args
            else:
                raise TypeError("too many arguments")
        return offset, size, flags, ep, buffer

    def _buffer_range(self, buffer: Any, offset: Any, size: Any, writable: bool) -> Any:
        buf = as_writable_buffer(buffer) if writable else as_buffer(buffer)
        n = len(buf)
        if offset is _MISSING:
            offset = 0
        if size is _MISSING:
            size = n - (offset if type(offset) is int and 0 <= offset <= n else 0)
        offset, size = check_range(n, offset, size)
        if offset == 0 and size == n:
            # A send holds an export of a whole bytearray too (a receive's callers wrap it).
            return buf if writable else send_view(buf)
        return memoryview(buf)[offset : offset + size]

    def _new_send_to(self, view: Any, flags: Any, addr: Any, callback: Any, state: Any) -> Any:
        """Build the send operation of SendTo/BeginSendTo; early errors are stored in it."""
        op: Any
        if self._dgram:
            op = ops.SendToOp(self._io, callback, state)
        else:
            op = ops.StreamSendOp(self._io, callback, state)
            op.sent = 0
        op.buf = view
        op.addr = addr
        _set_flags(op, flags, _send_flags)
        if self._dgram and type(addr) is not tuple and isinstance(addr, OSError):
            op._error = addr
        return op

    def _start_send_to(self, op: Any, remote_ep: EndPoint | SocketAddress) -> None:
        unbound = self._right_ep is None
        if unbound:
            # .NET sets the bound state before the send, so that a callback
            # on another thread already sees LocalEndPoint...
            self._right_ep = remote_ep if isinstance(remote_ep, EndPoint) else self._wildcard()
        if op._error is not None:
            op._complete(True)
        else:
            self._io.start_write(op)
        if unbound and op._sync and op._error is not None:
            # ...and restores it after a send that failed at once (the
            # kernel bound the port anyway; .NET still reports None).
            self._right_ep = None

    def _new_send(
        self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any, state: Any
    ) -> AsyncOperation:
        op: Any
        if isinstance(buffer, (list, tuple)):
            bufs = buffer_list(buffer, False)
            flags = args[0] if args else kwargs.get("socket_flags", 0)
            op = ops.SendListOp(self._io, callback, state)
            op.bufs = bufs
            op.stream = not self._dgram
            op.sent = 0
            op.total = sum(len(b) for b in bufs)
        else:
            if buffer is None:
                raise ArgumentNullException("buffer")
            offset, size, flags, _, buffer = self._split_overload(buffer, args, False, kwargs)
            view = self._buffer_range(buffer, offset, size, False)
            if self._dgram:
                op = ops.DatagramSendOp(self._io, callback, state)
            else:
                op = ops.StreamSendOnlyOp(self._io, callback, state)
                op.sent = 0
                op.addr = None
            op.buf = view
        _set_flags(op, flags, _send_flags)
        return op  # type: ignore[no-any-return]

    def _new_receive(
        self,
        buffer: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        callback: Any,
        state: Any,
        trunc: bool = False,
    ) -> AsyncOperation:
        """``trunc``: the operation says whether the datagram was cut (see ``ops.ReceiveTruncOp``)."""
        op: Any
        if isinstance(buffer, (list, tuple)):
            bufs = buffer_list(buffer, True)
            flags = args[0] if args else kwargs.get("socket_flags", 0)
            op = ops.ReceiveListOp(self._io, callback, state)
            op.bufs = bufs
            op.truncated = 0  # recvmsg reports it
        else:
            if buffer is None:
                raise ArgumentNullException("buffer")
            offset, size, flags, _, buffer = self._split_overload(buffer, args, False, kwargs)
            view = memoryview(self._buffer_range(buffer, offset, size, True))
            if not view.nbytes:
                # It waits for data, taking none (see ReceiveZeroOp); every fast path leaves it here.
                return self._receive_op(ops.ReceiveZeroOp, None, False, flags, view, callback, state)
            return self._receive_op(ops.ReceiveOp, ops.ReceiveTruncOp, trunc, flags, view, callback, state)
        _set_flags(op, flags, _recv_flags)
        return op  # type: ignore[no-any-return]

    def _new_receive_from(
        self,
        buffer: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        callback: Any,
        state: Any,
        trunc: bool = False,
    ) -> tuple[Any, EndPoint]:
        """``trunc``: the operation says whether the datagram was cut (see ``ops.ReceiveFromTruncOp``)."""
        if buffer is None:
            raise ArgumentNullException("buffer")
        offset, size, flags, ep, buffer = self._split_overload(buffer, args, True, kwargs)
        view = memoryview(self._buffer_range(buffer, offset, size, True))
        self._check_receive_ep(ep, "remoteEP")
        if not view.nbytes:  # it waits for data, taking none (see ops.ReceiveFromZeroOp)
            return self._receive_op(ops.ReceiveFromZeroOp, None, False, flags, view, callback, state), ep
        return self._receive_op(ops.ReceiveFromOp, ops.ReceiveFromTruncOp, trunc, flags, view, callback, state), ep

    def _receive_op(
        self, plain: Any, cut: Any, trunc: bool, flags: Any, view: memoryview, callback: Any, state: Any
    ) -> AsyncOperation:
        """A receive into ``view``: of class ``cut`` when it reports truncation (see
        ``ops.ReceiveTruncOp``: asked by ``trunc``, on a datagram socket, unless the caller passes
        Truncated, the kernel's MSG_TRUNC, itself: that one keeps the datagram's length as its
        count, as always), else ``plain``."""
        trunc = trunc and self._dgram and not (isinstance(flags, int) and flags & 0x100)
        op = (cut if trunc else plain)(self._io, callback, state)
        op.buf = view
        _set_flags(op, flags, _recv_flags)
        if trunc:
            op.flags |= ops.TRUNC  # the kernel then reports the datagram's length
            op.truncated = False
        return op  # type: ignore[no-any-return]

    def _wildcard(self) -> EndPoint:
        """An endpoint of the socket's family, for the bound state a send to a ``SocketAddress`` sets."""
        if self._pf == _AF_UNIX:
            return from_sockaddr(self._pf, "")
        return IPEndPoint(IPAddress.IPv6Any if self._v6 else IPAddress.Any, 0)

    def _check_receive_ep(self, ep: Any, param: str) -> None:
        """.NET's ValidateReceiveFromEndpointAndState: an endpoint of the family, on a bound socket."""
        if ep is _MISSING or ep is None:
            raise ArgumentNullException(param)
        if not isinstance(ep, EndPoint) or isinstance(ep, DnsEndPoint):
            raise ArgumentException("Expected an IPEndPoint or UnixDomainSocketEndPoint.", param)
        self._check_family(ep, param)
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")

    def _mismatch(self) -> OSError:
        if self._pf == _AF_INET6:
            return OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH))
        return OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))

    def _begin(self, op: Any, member: str, write: bool) -> IAsyncResult:
        # A ReceiveFrom (or ReceiveMessageFrom) keeps its remote_ep in op.extra; the others address the peer.
        ep = op.extra if "From" in member else None if "Accept" in member else self._peer()
        _audit_op(_EVENTS.get(member) or "dotnet_sockets.Socket." + member, self, ep)
        tracing = _isEnabledFor(DEBUG)
        if tracing:
            trace_start(member, self, op)
        if op._error is not None:
            op._complete(True)
        elif write:
            self._io.start_write(op)
        else:
            self._io.start_read(op)
        if tracing:
            trace_exit(member, self, op)
        return op  # type: ignore[no-any-return]
