"""``Socket``: .NET's socket class, thin over the engine.

Every method checks its arguments in .NET's order, builds one operation
object and hands it to the socket's ``OpQueue``; ``End...`` validates the
``IAsyncResult``, waits for it and returns or raises.  The synchronous calls
try the system call directly and only fall back to the engine (and so to
``Close``-aware, timeout-aware waiting) when it would block.
"""

from __future__ import annotations

import errno
import operator
import os
import select
import socket as _socket
import struct
import sys
import warnings
from logging import DEBUG
from typing import Any

from . import _platform
from ._async_methods import AsyncMethodsMixin
from ._checks import as_buffer, as_int, as_writable_buffer, buffer_list, check_range
from ._engine import ops
from ._engine.dispatch import dispatcher
from ._engine.epoll import engine
from ._engine.opqueue import OpQueue
from ._names import dotnet_names
from .addresses import (
    DnsEndPoint,
    EndPoint,
    IPAddress,
    IPEndPoint,
    UnixDomainSocketEndPoint,
    from_sockaddr,
    to_sockaddr,
)
from .asyncresult import ABORTED, AsyncCallback, AsyncOperation, IAsyncResult, _run_inline
from .enums import (
    AddressFamily,
    ProtocolType,
    SelectMode,
    SocketError,
    SocketFlags,
    SocketOptionLevel,
    SocketOptionName,
    SocketShutdown,
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
from .options import IPv6MulticastOption, LingerOption, MulticastOption
from .results import SocketReceiveFromResult
from .security import audit as _audit_op
from .security import denied as _denied
from .telemetry import DATAGRAM as _DGRAM
from .telemetry import tls as _tel
from .telemetry import track_socket as _track
from .tracing import (
    VERBOSE,
    log,
    trace_dump,
    trace_enter,
    trace_error,
    trace_exit,
    trace_start,
    trace_sync,
    traced,
)

__all__ = ["Socket", "set_inline_completions"]

_AF_INET = _socket.AF_INET
_AF_INET6 = _socket.AF_INET6
_AF_UNIX = _socket.AF_UNIX
_IP_MTU_DISCOVER = 10  # Linux <netinet/in.h>; not exported by the socket module
_send_flags = _platform.platform_send_flags
_recv_flags = _platform.platform_receive_flags
_isEnabledFor = log.isEnabledFor
_audit = sys.audit  # inline on the hottest paths; elsewhere _audit_op, which also maps a denial
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


@dotnet_names
class Socket(AsyncMethodsMixin):
    """A .NET ``System.Net.Sockets.Socket``.

    ``Socket(address_family, socket_type, protocol_type)`` or
    ``Socket(socket_type, protocol_type)`` (an IPv6 socket in dual mode, which
    talks to IPv4 endpoints too).  Use it as a context manager where C# has
    ``using``.
    """

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
        "__weakref__",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        af, st, pt = self._parse_ctor(args, kwargs)
        try:
            pysock = _socket.socket(
                _platform.to_platform_family(af),
                _platform.to_platform_type(st),
                _platform.to_platform_protocol(pt),
            )
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._setup(pysock, af, st, pt)
        if pysock.family == _AF_INET6:
            # .NET creates IPv6 sockets v6-only (DualMode false) unless asked.
            dual = len(args) + len(kwargs) == 2
            self._set_dual(dual)

    @staticmethod
    def _parse_ctor(
        args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[AddressFamily, SocketType, ProtocolType]:
        names = ("address_family", "socket_type", "protocol_type")
        if len(args) + len(kwargs) == 2 and "address_family" not in kwargs:
            # Socket(socketType, protocolType): IPv6 in dual mode, as in .NET.
            vals = dict(zip(names[1:], args, strict=False))
            vals.update(kwargs)
            vals["address_family"] = AddressFamily.InterNetworkV6
        else:
            vals = dict(zip(names, args, strict=False))
            vals.update(kwargs)
        unknown = set(vals) - set(names)
        if unknown:
            raise TypeError(f"Socket() got unexpected arguments {sorted(unknown)}")
        missing = [n for n in names if n not in vals]
        if missing:
            raise TypeError(f"Socket() missing {', '.join(missing)}")
        try:
            af = AddressFamily(vals["address_family"])
            st = SocketType(vals["socket_type"])
            pt = ProtocolType(vals["protocol_type"])
        except (ValueError, TypeError) as exc:
            raise ArgumentException(str(exc)) from None
        return af, st, pt

    def _setup(self, pysock: _socket.socket, af: AddressFamily, st: SocketType, pt: ProtocolType) -> None:
        self._sock = pysock
        self._io = OpQueue(pysock)
        self._io.inline = _inline_default
        self._af = af
        self._st = st
        self._pt = pt
        self._pf = pysock.family
        self._dgram = pysock.type != _socket.SOCK_STREAM
        self._dual = False
        self._v6 = pysock.family == _AF_INET6
        self._alen = 2 if pysock.family == _AF_INET else 4 if pysock.family == _AF_INET6 else 0
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
        _track(self)  # telemetry's count of operations pending

    @classmethod
    def _from_accepted(cls, listener: Socket, pysock: _socket.socket, sockaddr: Any) -> Socket:
        s = cls.__new__(cls)
        s._setup(pysock, listener._af, listener._st, listener._pt)
        s._adopt_accepted(listener, sockaddr)
        return s

    def _adopt_accepted(self, listener: Socket, sockaddr: Any) -> None:
        # The accepted socket inherits the listener's state, as .NET's UpdateAcceptSocket does
        # (but not the duty to delete the listener's Unix domain socket file).
        self._dual = listener._dual
        self._right_ep = listener._right_ep
        self._remote_ep = self._endpoint_from(sockaddr, None)
        self._blocking = listener._blocking
        self._io.inline = listener._io.inline
        self._connected = True

    # -- helpers ------------------------------------------------------------
    def _throw_if_disposed(self) -> None:
        if self._disposed:
            raise ObjectDisposedException(_DISPOSED_NAME)

    def _set_dual(self, dual: bool) -> None:
        try:
            self._sock.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0 if dual else 1)
        except OSError as exc:
            raise _SocketOpError(exc) from None
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
            ep = self.RemoteEndPoint
        return ep

    def _failed(self, exc: SocketException) -> SocketException:
        """.NET's UpdateStatusAfterSocketError: most errors disconnect the socket."""
        if self._connected and exc.SocketErrorCode not in _KEEPS_CONNECTED:
            self._connected = False
            self._disconnected = True
        return exc

    def _end(self, ar: Any, method: str) -> Any:
        if ar is None:
            raise ArgumentNullException("asyncResult")
        try:
            # Only this socket's operations hold its OpQueue.
            mine = ar._io is self._io and ar.end_method == method
        except AttributeError:
            mine = False
        if not mine:
            raise ArgumentException(
                "The IAsyncResult object was not returned from the corresponding asynchronous method "
                "on this class.",
                "asyncResult",
            )
        if ar._ended:
            raise InvalidOperationException(
                f"{method} can only be called once for each asynchronous operation."
            )
        ar._ended = True
        if not ar._done:
            ar._wait(-1)
        err = ar._error
        if err is not None:
            exc = self._failed(_op_error(err))
            if _isEnabledFor(DEBUG):
                trace_error(method, self, exc)
            raise exc
        return ar

    def _wait_sync(self, op: AsyncOperation, timeout_ms: int) -> Any:
        """Wait for an operation queued on behalf of a synchronous call."""
        if not op._done:
            if not self._blocking:
                if self._io.cancel(op):
                    sent = getattr(op, "sent", 0)
                    if sent:
                        # A non-blocking stream send reports what it handed over, as .NET does.
                        return sent
                    raise SocketException(SocketError.WouldBlock)
            try:
                finished = op._wait(timeout_ms if timeout_ms > 0 else -1)
            except BaseException:
                # Interrupted (Ctrl-C in a blocking Receive): withdraw the operation, or the next
                # datagram would go to a call that nobody waits for any more, and be lost.
                self._io.cancel(op)
                raise
            if not finished:
                if self._io.cancel(op):
                    raise SocketException(SocketError.TimedOut)
                op._wait(-1)
        err = op._error
        if err is not None:
            if err is ABORTED and self._disposed:
                raise self._closed_during(op)
            raise self._failed(_op_error(err))
        return op._value

    def _closed_during(self, op: AsyncOperation) -> SocketException:
        """What a synchronous call cut short by ``Close`` raises (.NET's Update...ErrorForDisposed)."""
        if isinstance(op, ops.AcceptOp):
            return SocketException(SocketError.Interrupted)
        if isinstance(op, ops.ConnectOp):
            return SocketException(SocketError.NotSocket)
        return SocketException(SocketError.Interrupted if self._dgram else SocketError.ConnectionAborted)

    def _start_write(self, op: AsyncOperation, timeout_ms: int) -> Any:
        if op._error is not None:
            # Refused before any I/O (a flag Linux does not have): nothing may be sent or taken
            # off the socket on its behalf, as _begin does for the asynchronous models.
            raise self._failed(_op_error(op._error))
        if _isEnabledFor(DEBUG):
            return trace_sync(self, op, self._io.start_write, self._wait_sync, timeout_ms)
        self._io.start_write(op)
        return self._wait_sync(op, timeout_ms)

    def _start_read(self, op: AsyncOperation, timeout_ms: int) -> Any:
        if op._error is not None:
            raise self._failed(_op_error(op._error))
        if _isEnabledFor(DEBUG):
            return trace_sync(self, op, self._io.start_read, self._wait_sync, timeout_ms)
        self._io.start_read(op)
        return self._wait_sync(op, timeout_ms)

    # -- properties ---------------------------------------------------------
    @property
    def AddressFamily(self) -> AddressFamily:
        return self._af

    @property
    def SocketType(self) -> SocketType:
        return self._st

    @property
    def ProtocolType(self) -> ProtocolType:
        return self._pt

    @property
    def Handle(self) -> int:
        """The operating-system file descriptor (-1 once closed)."""
        return self._sock.fileno()

    @property
    def Blocking(self) -> bool:
        """False makes synchronous calls raise ``WouldBlock`` instead of waiting."""
        return self._blocking

    @Blocking.setter
    def Blocking(self, value: bool) -> None:
        self._throw_if_disposed()
        self._blocking = bool(value)

    @property
    def Connected(self) -> bool:
        """Whether the last operation left the socket connected (not a live probe, as in .NET)."""
        return self._connected

    @property
    def IsBound(self) -> bool:
        return self._right_ep is not None

    @property
    def LocalEndPoint(self) -> EndPoint | None:
        """The local address and port; None until the socket is bound, explicitly or by a send."""
        self._throw_if_disposed()
        if self._right_ep is None:
            return None
        if self._local_ep is None:
            try:
                sa = self._sock.getsockname()
            except OSError as exc:
                raise _SocketOpError(exc) from None
            ep = from_sockaddr(self._pf, sa)
            if type(ep) is IPEndPoint and ep.Port == 0:
                return ep
            self._local_ep = ep
        return self._local_ep

    @property
    def RemoteEndPoint(self) -> EndPoint | None:
        self._throw_if_disposed()
        if self._remote_ep is None and self._connected:
            try:
                self._remote_ep = from_sockaddr(self._pf, self._sock.getpeername())
            except OSError:
                return None
        return self._remote_ep

    @property
    def Available(self) -> int:
        """Bytes that can be read without blocking."""
        self._throw_if_disposed()
        import fcntl
        import termios

        buf = bytearray(4)
        try:
            fcntl.ioctl(self._sock.fileno(), termios.FIONREAD, buf)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        return int.from_bytes(buf, sys.byteorder)

    def _opt(self, level: int, name: int) -> int:
        self._throw_if_disposed()
        try:
            return self._sock.getsockopt(level, name)
        except OSError as exc:
            raise _SocketOpError(exc) from None

    def _setopt(self, level: int, name: int, value: int | bytes) -> None:
        self._throw_if_disposed()
        try:
            self._sock.setsockopt(level, name, value)
        except OSError as exc:
            raise _SocketOpError(exc) from None

    @property
    def EnableBroadcast(self) -> bool:
        """Allows sends to broadcast addresses (SO_BROADCAST); without it they fail with AccessDenied."""
        return self._opt(_socket.SOL_SOCKET, _socket.SO_BROADCAST) != 0

    @EnableBroadcast.setter
    def EnableBroadcast(self, value: bool) -> None:
        self._setopt(_socket.SOL_SOCKET, _socket.SO_BROADCAST, 1 if value else 0)

    @property
    def DontFragment(self) -> bool:
        """IPv4 only (``NotSupportedException`` on other sockets, as in .NET): IP_MTU_DISCOVER."""
        self._only_ipv4()
        return self._opt(_socket.IPPROTO_IP, _IP_MTU_DISCOVER) == 2

    @DontFragment.setter
    def DontFragment(self, value: bool) -> None:
        self._only_ipv4()
        self._setopt(_socket.IPPROTO_IP, _IP_MTU_DISCOVER, 2 if value else 0)

    def _only_ipv4(self) -> None:
        if self._af != AddressFamily.InterNetwork:
            raise NotSupportedException("This protocol version is not supported.")

    def _only_ip(self) -> None:
        if self._af != AddressFamily.InterNetwork and self._af != AddressFamily.InterNetworkV6:
            raise NotSupportedException("This protocol version is not supported.")

    @property
    def DualMode(self) -> bool:
        """An IPv6 socket that also sends to and receives from IPv4 endpoints (False for other families)."""
        if self._af != AddressFamily.InterNetworkV6:
            return False
        return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY) == 0

    @DualMode.setter
    def DualMode(self, value: bool) -> None:
        if self._af != AddressFamily.InterNetworkV6:
            raise NotSupportedException("This protocol version is not supported.")
        self._throw_if_disposed()
        self._set_dual(bool(value))

    @property
    def Ttl(self) -> int:
        self._only_ip()
        if self._pf == _AF_INET6:
            return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS)
        return self._opt(_socket.IPPROTO_IP, _socket.IP_TTL)

    @Ttl.setter
    def Ttl(self, value: int) -> None:
        value = as_int(value, "value")
        if value < 0 or value > 255:
            raise ArgumentOutOfRangeException("value", value)
        self._only_ip()
        if self._pf == _AF_INET6:
            self._setopt(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS, value)
        else:
            self._setopt(_socket.IPPROTO_IP, _socket.IP_TTL, value)

    @property
    def ExclusiveAddressUse(self) -> bool:
        """On Linux: the inverse of SO_REUSEADDR, as .NET maps it."""
        return self._opt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR) == 0

    @ExclusiveAddressUse.setter
    def ExclusiveAddressUse(self, value: bool) -> None:
        if self.IsBound:
            raise InvalidOperationException("The socket must not be bound or connected.")
        self._setopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 0 if value else 1)

    @property
    def NoDelay(self) -> bool:
        return self._opt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY) != 0

    @NoDelay.setter
    def NoDelay(self, value: bool) -> None:
        self._setopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1 if value else 0)

    @property
    def LingerState(self) -> LingerOption:
        self._throw_if_disposed()
        try:
            raw = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, 8)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        onoff = int.from_bytes(raw[:4], sys.byteorder)
        secs = int.from_bytes(raw[4:8], sys.byteorder)
        return LingerOption(onoff != 0, secs)

    @LingerState.setter
    def LingerState(self, value: LingerOption) -> None:
        self._throw_if_disposed()
        if value is None:
            raise ArgumentNullException("optionValue")
        if not isinstance(value, LingerOption):
            raise ArgumentException(f"Expected a LingerOption, not {type(value).__name__}.", "optionValue")
        if value.LingerTime < 0 or value.LingerTime > 0xFFFF:
            raise ArgumentException("The linger time must be between 0 and 65535 seconds.", "optionValue")
        raw = int(value.Enabled).to_bytes(4, sys.byteorder) + value.LingerTime.to_bytes(4, sys.byteorder)
        self._setopt(_socket.SOL_SOCKET, _socket.SO_LINGER, raw)

    @property
    def ReceiveBufferSize(self) -> int:
        return self._opt(_socket.SOL_SOCKET, _socket.SO_RCVBUF)

    @ReceiveBufferSize.setter
    def ReceiveBufferSize(self, value: int) -> None:
        value = as_int(value, "value")
        if value < 0 or value > 0x7FFFFFFF:
            raise ArgumentOutOfRangeException("value", value)
        self._setopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, value)

    @property
    def SendBufferSize(self) -> int:
        return self._opt(_socket.SOL_SOCKET, _socket.SO_SNDBUF)

    @SendBufferSize.setter
    def SendBufferSize(self, value: int) -> None:
        value = as_int(value, "value")
        if value < 0 or value > 0x7FFFFFFF:
            raise ArgumentOutOfRangeException("value", value)
        self._setopt(_socket.SOL_SOCKET, _socket.SO_SNDBUF, value)

    @property
    def ReceiveTimeout(self) -> int:
        """Milliseconds a synchronous receive waits; 0 (or -1 when set) is infinite.

        On expiry the call raises ``SocketException`` with ``SocketError.TimedOut``.
        """
        self._throw_if_disposed()
        return self._rcv_timeout

    @ReceiveTimeout.setter
    def ReceiveTimeout(self, value: int) -> None:
        ms = as_int(value, "value")
        if ms < -1 or ms > 0x7FFFFFFF:  # beyond .NET's int the wait of a later Receive would fail
            raise ArgumentOutOfRangeException("value", ms)
        self._throw_if_disposed()
        self._rcv_timeout = 0 if ms == -1 else ms

    @property
    def SendTimeout(self) -> int:
        """Milliseconds a synchronous send waits; 0 (or -1 when set) is infinite."""
        self._throw_if_disposed()
        return self._snd_timeout

    @SendTimeout.setter
    def SendTimeout(self, value: int) -> None:
        ms = as_int(value, "value")
        if ms < -1 or ms > 0x7FFFFFFF:
            raise ArgumentOutOfRangeException("value", ms)
        self._throw_if_disposed()
        self._snd_timeout = 0 if ms == -1 else ms

    @property
    def MulticastLoopback(self) -> bool:
        self._only_ip()
        if self._pf == _AF_INET6:
            return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_LOOP) != 0
        return self._opt(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP) != 0

    @MulticastLoopback.setter
    def MulticastLoopback(self, value: bool) -> None:
        self._only_ip()
        if self._pf == _AF_INET6:
            self._setopt(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_LOOP, 1 if value else 0)
        else:
            self._setopt(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP, 1 if value else 0)

    @property
    def InlineCompletions(self) -> bool:
        """Not .NET API: run callbacks of operations that finish inside ``Begin...`` inline.

        Off by default, because the ``BeginSendTo`` page promises the callback
        on another thread and inline callbacks recurse (the stack overflows
        .NET 6+ users report).  Turning it on gives current .NET's behaviour
        and saves the thread hand-off.
        """
        return self._io.inline

    @InlineCompletions.setter
    def InlineCompletions(self, value: bool) -> None:
        self._io.inline = bool(value)

    # -- socket options -----------------------------------------------------
    def SetSocketOption(
        self, option_level: SocketOptionLevel, option_name: SocketOptionName, option_value: Any
    ) -> None:
        """``SetSocketOption(level, name, int | bool | bytes | LingerOption | MulticastOption)``."""
        self._throw_if_disposed()
        if option_value is None:
            raise ArgumentNullException("optionValue")
        level, name = _option_key(option_level, option_name)
        if level == SocketOptionLevel.Socket and name in _TIMEOUT_OPTIONS:
            # Timeouts of synchronous calls are kept by the socket (the engine never blocks in the kernel).
            ms = as_int(option_value, "optionValue")
            if name == SocketOptionName.ReceiveTimeout:
                self.ReceiveTimeout = ms
            else:
                self.SendTimeout = ms
            return
        if isinstance(option_value, LingerOption):
            self.LingerState = option_value
            return
        if isinstance(option_value, (MulticastOption, IPv6MulticastOption)):
            self._set_membership(level, name, option_value)
            return
        plevel, pname = _platform.platform_option(level, name)
        value: int | bytes
        if isinstance(option_value, bool):
            value = int(option_value)
        elif isinstance(option_value, (bytes, bytearray, memoryview)):
            value = bytes(option_value)
        else:
            value = as_int(option_value, "optionValue")
            if not -0x80000000 <= value <= 0x7FFFFFFF:  # .NET's int; setsockopt would raise TypeError
                raise ArgumentOutOfRangeException("optionValue", value)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.ExclusiveAddressUse:
            value = 0 if value else 1
        self._setopt(plevel, pname, value)
        if level == SocketOptionLevel.IPv6 and name == SocketOptionName.IPv6Only:
            self._dual = not value

    def _set_membership(
        self, level: SocketOptionLevel, name: SocketOptionName, opt: MulticastOption | IPv6MulticastOption
    ) -> None:
        if name not in (SocketOptionName.AddMembership, SocketOptionName.DropMembership):
            raise ArgumentException("A multicast option needs AddMembership or DropMembership.", "optionName")
        add = name == SocketOptionName.AddMembership
        if isinstance(opt, MulticastOption):
            if level != SocketOptionLevel.IP:
                raise ArgumentException("MulticastOption needs SocketOptionLevel.IP.", "optionLevel")
            if opt.InterfaceIndex:
                raw = (
                    opt.Group.GetAddressBytes() + bytes(4) + opt.InterfaceIndex.to_bytes(4, sys.byteorder)
                )  # struct ip_mreqn
            else:
                raw = opt.Group.GetAddressBytes() + opt.LocalAddress.GetAddressBytes()
            pname = _socket.IP_ADD_MEMBERSHIP if add else _socket.IP_DROP_MEMBERSHIP
            self._setopt(_socket.IPPROTO_IP, pname, raw)
        else:
            if level != SocketOptionLevel.IPv6:
                raise ArgumentException("IPv6MulticastOption needs SocketOptionLevel.IPv6.", "optionLevel")
            raw = opt.Group.GetAddressBytes() + opt.InterfaceIndex.to_bytes(4, sys.byteorder)
            pname = _socket.IPV6_JOIN_GROUP if add else _socket.IPV6_LEAVE_GROUP
            self._setopt(_socket.IPPROTO_IPV6, pname, raw)

    def GetSocketOption(
        self, option_level: SocketOptionLevel, option_name: SocketOptionName, option_length: int | None = None
    ) -> Any:
        """Returns an int, a ``LingerOption`` for Linger, or bytes when ``option_length`` is given."""
        self._throw_if_disposed()
        level, name = _option_key(option_level, option_name)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.Linger:
            return self.LingerState
        if level == SocketOptionLevel.Socket and name in _TIMEOUT_OPTIONS and option_length is None:
            return self.ReceiveTimeout if name == SocketOptionName.ReceiveTimeout else self.SendTimeout
        plevel, pname = _platform.platform_option(level, name)
        if option_length is not None:
            length = as_int(option_length, "optionLength")
            if length > 0x7FFFFFFF:  # .NET's int; getsockopt would raise OverflowError
                raise ArgumentOutOfRangeException("optionLength", length)
            try:
                return self._sock.getsockopt(plevel, pname, length)
            except OSError as exc:
                raise _SocketOpError(exc) from None
        value = self._opt(plevel, pname)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.ExclusiveAddressUse:
            return 0 if value else 1
        return value

    # -- set-up and tear-down ----------------------------------------------
    @traced
    def Bind(self, local_ep: EndPoint) -> None:
        """Bind to a local endpoint; port 0 lets the system pick a free port."""
        self._throw_if_disposed()
        if local_ep is None:
            raise ArgumentNullException("localEP")
        _audit_op("dotnet_sockets.Socket.Bind", self, local_ep)
        addr = self._sockaddr(local_ep, "localEP")
        if isinstance(addr, OSError):
            raise _SocketOpError(addr)
        try:
            self._sock.bind(addr)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._right_ep = local_ep
        self._local_ep = None
        if isinstance(local_ep, UnixDomainSocketEndPoint) and not local_ep.Path.startswith("\0"):
            # Like .NET, Dispose deletes the file this Bind created (abstract names have none).
            self._unlink_path = os.path.abspath(local_ep.Path)

    @traced
    def Listen(self, backlog: int = _socket.SOMAXCONN) -> None:
        self._throw_if_disposed()
        backlog = as_int(backlog, "backlog")
        _audit_op("dotnet_sockets.Socket.Listen", self, self._right_ep)
        try:
            # An int in .NET; the system caps it at somaxconn anyway.
            self._sock.listen(max(0, min(backlog, 0x7FFFFFFF)))
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._listening = True

    def _connect_targets(self, args: tuple[Any, ...], begin: bool) -> list[EndPoint] | SocketException:
        """The endpoints a Connect/BeginConnect overload tries, in order, checked as .NET does.

        A host name is resolved here; its failure is returned (``BeginConnect`` reports it from
        ``EndConnect``), not raised.
        """
        if len(args) == 1:
            ep = args[0]
            if ep is None:
                raise ArgumentNullException("remoteEP")
            if not isinstance(ep, EndPoint):
                raise ArgumentException(f"Expected an EndPoint, not {type(ep).__name__}.", "remoteEP")
            self._check_connect_state(begin)
            if isinstance(ep, DnsEndPoint):
                if ep.AddressFamily != AddressFamily.Unspecified and not self._can_try(ep.AddressFamily):
                    raise NotSupportedException("This protocol version is not supported.")
                return self._resolve(ep.Host, ep.Port)
            if begin and isinstance(ep, IPEndPoint) and not self._can_try(ep.AddressFamily):
                raise NotSupportedException("This protocol version is not supported.")
            return [ep]
        if len(args) != 2:
            raise TypeError("Connect takes an endpoint, or an address (or host, or address list) and a port")
        target, port = args
        if target is None:
            raise ArgumentNullException("address")
        if isinstance(target, IPAddress):
            port = _check_port(port)
            self._check_connect_state(begin)
            if not self._can_try(target.AddressFamily):
                raise NotSupportedException("This protocol version is not supported.")
            return [IPEndPoint(target, port)]
        if isinstance(target, str):
            port = _check_port(port)
            self._only_ip()
            self._check_connect_state(begin)
            ok, parsed = IPAddress.TryParse(target)
            if ok and parsed is not None:
                if not self._can_try(parsed.AddressFamily):
                    raise NotSupportedException("This protocol version is not supported.")
                return [IPEndPoint(parsed, port)]
            return self._resolve(target, port)
        try:
            addrs = list(target)
        except (TypeError, ValueError):
            raise ArgumentException(
                f"Expected an IPAddress, a host name or a list of IPAddress, not {type(target).__name__}.",
                "address",
            ) from None
        if not addrs:
            raise ArgumentException("The address list is empty.", "addresses")
        for a in addrs:
            if a is None:
                raise ArgumentNullException("addresses")
            if not isinstance(a, IPAddress):
                raise ArgumentException(f"Expected an IPAddress, not {type(a).__name__}.", "addresses")
        port = _check_port(port)
        self._only_ip()
        self._check_connect_state(begin)
        usable: list[EndPoint] = [IPEndPoint(a, port) for a in addrs if self._can_try(a.AddressFamily)]
        if not usable:
            raise ArgumentException(
                "None of the discovered or specified addresses match the socket address family.", "addresses"
            )
        return usable

    def _resolve(self, host: str, port: int) -> list[EndPoint] | SocketException:
        from .dns import Dns

        try:
            addrs = Dns.GetHostAddresses(host)
        except SocketException as exc:
            return exc
        usable: list[EndPoint] = [IPEndPoint(a, port) for a in addrs if self._can_try(a.AddressFamily)]
        if not usable:
            return SocketException(SocketError.AddressFamilyNotSupported)
        return usable

    def _can_try(self, family: int) -> bool:
        """.NET's CanTryAddressFamily: the socket's own family, or IPv4 on a dual-mode socket."""
        return family == self._af or (family == AddressFamily.InterNetwork and self._dual)

    def _check_connect_state(self, begin: bool) -> None:
        if not begin and self._disconnected:
            raise InvalidOperationException(
                "Once the socket has been disconnected, you can only reconnect again asynchronously, "
                "and only to a different EndPoint."
            )
        if self._listening:
            raise InvalidOperationException(
                "You may not perform this operation after calling the Listen method."
            )
        if self._connected:
            raise SocketException(SocketError.IsConnected)

    def _start_connect(self, targets: list[EndPoint] | SocketException, callback: Any, state: Any) -> Any:
        op: Any = ops.ConnectOp(self._io, callback, state)
        op.addr = None
        op.started = False
        op.index = 0
        op.later = False
        if isinstance(targets, SocketException):
            op.extra = None
            op.then = None
            op._error = targets
            op._complete(True)
            return op
        op.extra = targets
        op.then = self._connect_step
        self._connect_attempt(op)
        return op

    # -- the connect machinery, for the other models (SocketAsyncEventArgs, asyncio) ------------
    def _check_can_connect(self) -> None:
        """The state checks of an asynchronous connect (disposed, listening, connected)."""
        self._throw_if_disposed()
        self._check_connect_state(True)

    def _connect_addresses(self, args: tuple[Any, ...]) -> list[EndPoint]:
        """The endpoints an asynchronous connect tries; a failed name resolution is raised."""
        targets = self._connect_targets(args, begin=True)
        if isinstance(targets, SocketException):
            raise targets
        return targets

    def _next_connect(self, op: Any) -> None:
        """Start a ``ConnectOp`` whose ``extra`` is its endpoint list: it tries them in order and
        sets ``Connected``/``RemoteEndPoint`` before it completes."""
        op.index = 0
        op.later = False
        op.then = self._connect_step
        self._connect_attempt(op)

    def _renew_after_failed_connect(self) -> None:
        """A fresh descriptor now (``_next_connect`` also does it by itself after a failure)."""
        self._replace_descriptor(rebind=True)
        self._connect_failed = False

    def _connect_attempt(self, op: Any) -> None:
        """Start connecting ``op`` to its current endpoint, on a fresh descriptor after a failure."""
        if self._connect_failed:
            try:
                self._replace_descriptor(rebind=True)
            except (SocketException, ObjectDisposedException) as exc:
                op.then = None
                op._error = ABORTED if isinstance(exc, ObjectDisposedException) else exc
                op._complete(True)
                return
            self._connect_failed = False
        addr = self._sockaddr(op.extra[op.index], "remoteEP")
        op.addr = addr
        op.started = False
        if isinstance(addr, OSError):
            op._error = addr
            op._complete(True)
        else:
            self._io.start_write(op)

    def _connect_step(self, op: Any, synchronously: bool) -> bool:
        """A connect attempt ended: record the connection, or go on to the next address."""
        err = op._error
        if err is None:
            op.then = None  # tells EndConnect the state is recorded
            self._connected_to(op.extra[op.index])
            return False
        if err is ABORTED:
            return False
        self._connect_failed = True
        if self._disposed:
            # Closed between two attempts: the operation was cut short, as if still connecting.
            op._error = ABORTED
            return False
        if op.index + 1 < len(op.extra):
            op.index += 1
            op._error = None
            self._connect_attempt(op)
            return True
        return False

    def _replace_descriptor(self, rebind: bool = False) -> None:
        """Put a fresh socket with the same options behind this socket's descriptor number.

        Linux cannot connect a socket again after a failed connect, and ``Disconnect(True)`` must
        leave a socket that can connect anew; .NET on Unix replaces the handle in both cases
        (ReplaceHandle).  ``dup2`` keeps the number, so ``Handle``, the engine's queue and every
        ``IAsyncResult`` of this socket stay valid.  Operations still queued are aborted.
        """
        old = self._sock
        try:
            new = _socket.socket(old.family, old.type, old.proto)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        pending: list[AsyncOperation] = []
        local: Any = None
        try:
            _copy_options(old, new)
            new.setblocking(False)
            if rebind and self._right_ep is not None and old.family != _AF_UNIX:
                try:
                    local = old.getsockname()
                except OSError:
                    local = None
                if local is not None and local[1] == 0:
                    local = None
            io = self._io
            with io.lock:
                if io.closed:
                    raise ObjectDisposedException(_DISPOSED_NAME)
                pending = [*io.rq, *io.wq]
                io.rq.clear()
                io.wq.clear()
                io.mask = 0
                engine.forget(io)
                os.dup2(new.fileno(), io.fd, inheritable=False)
        finally:
            new.close()
        self._local_ep = None
        for op in pending:
            op._abort()
        if local is not None:
            # Keep the local address the user bound before the failed connect.
            try:
                old.bind(local)
            except OSError as exc:
                raise _SocketOpError(exc) from None

    @traced
    def Connect(self, *args: Any, **kwargs: Any) -> None:
        """``Connect(remote_ep)``, ``Connect(address, port)``, ``Connect(host, port)``,
        ``Connect(addresses, port)``: the addresses are tried in order until one accepts.

        A non-blocking socket (``Blocking`` false) raises ``SocketException`` ``WouldBlock`` while the
        connection is still being made; it goes on, and ``Poll(-1, SelectMode.SelectWrite)`` waits for it.
        """
        self._throw_if_disposed()
        targets = self._connect_targets(_connect_args(args, kwargs), begin=False)
        if isinstance(targets, SocketException):
            raise targets
        for ep in targets:  # every address it may try is judged before the first attempt
            _audit_op("dotnet_sockets.Socket.Connect", self, ep)
        op = self._start_connect(targets, None, None)
        if not op._done:
            if not self._blocking:
                raise SocketException(SocketError.WouldBlock)
            op._wait(-1)
        err = op._error
        if err is not None:
            if err is ABORTED and self._disposed:
                raise self._closed_during(op)
            raise self._failed(_op_error(err))

    def _connected_to(self, ep: EndPoint) -> None:
        self._connected = True
        self._disconnected = False
        self._connect_failed = False
        # RemoteEndPoint asks the system, as .NET does: a dual-mode socket connected to an IPv4
        # endpoint reports it IPv4-mapped.
        self._remote_ep = None
        if self._right_ep is None:
            self._right_ep = ep
        self._local_ep = None

    def _check_can_accept(self) -> None:
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")
        if not self._listening:
            raise InvalidOperationException(
                "You must call the Listen method before performing this operation."
            )

    def Accept(self) -> Socket:
        """Wait for and return the next incoming connection."""
        self._throw_if_disposed()
        self._check_can_accept()
        _audit_op("dotnet_sockets.Socket.Accept", self, None)
        op: Any = ops.AcceptOp(self._io, None, None)
        op.extra = None
        op.then = None
        op.later = False
        pysock, sa = self._start_read(op, 0)
        return Socket._from_accepted(self, pysock, sa)

    @traced
    def Shutdown(self, how: SocketShutdown) -> None:
        """Stop sending, receiving or both; afterwards ``Connected`` is false, as in .NET."""
        self._throw_if_disposed()
        _audit_op("dotnet_sockets.Socket.Shutdown", self, self._peer())
        try:
            native = int(SocketShutdown(how))
        except (ValueError, TypeError):
            raise SocketException(SocketError.InvalidArgument) from None
        self._shutdown(native)

    def _shutdown(self, native: int) -> None:
        try:
            self._sock.shutdown(native)
        except OSError as exc:
            # Like .NET: ENOTCONN on a socket that was connected is ignored (the connection may
            # already be closed); on a socket that never was, it is reported.
            if exc.errno != errno.ENOTCONN or not (self._connected or self._disconnected):
                raise self._failed(_SocketOpError(exc)) from None
        self._set_disconnected()
        self._local_ep = None

    def _set_disconnected(self) -> None:
        if self._connected:
            self._connected = False
            self._disconnected = True

    @traced
    def Disconnect(self, reuse_socket: bool) -> None:
        """Shut the connection down.  With ``reuse_socket`` the socket gets a fresh descriptor and
        can connect again, through ``BeginConnect`` (a synchronous ``Connect`` after ``Disconnect``
        raises ``InvalidOperationException``, as in .NET).  A socket that was never connected raises
        ``SocketException`` ``NotConnected``."""
        self._throw_if_disposed()
        _audit_op("dotnet_sockets.Socket.Disconnect", self, self._peer())
        self._disconnect(reuse_socket)

    def _disconnect(self, reuse_socket: bool) -> None:
        self._shutdown(_socket.SHUT_RDWR)
        if reuse_socket:
            self._replace_descriptor()
            self._connect_failed = False
        self._remote_ep = None
        self._local_ep = None

    @traced
    def Close(self, timeout: int | None = None) -> None:
        """Close the socket; operations still pending complete once, aborted.

        ``Close()`` leaves unsent data to the system (as ``LingerState`` says).  ``Close(timeout)``
        takes milliseconds, as in .NET: 0 resets the connection at once; a positive timeout first
        shuts sending down and waits up to ``timeout`` ms for the peer to close its side too, and
        resets the connection if it did not (or sent more data); -1 is ``Close()``.
        """
        if timeout is not None:
            t = as_int(timeout, "timeout")
            if t < -1 or t > 0x7FFFFFFF:
                raise ArgumentOutOfRangeException("timeout", t)
            if t >= 0 and not self._disposed:
                self._close_within(t)
        self.Dispose()

    def _close_within(self, timeout_ms: int) -> None:
        sock = self._sock
        abortive = True
        if timeout_ms > 0:
            try:
                sock.shutdown(_socket.SHUT_WR)
                p = select.poll()
                p.register(sock.fileno(), select.POLLIN)
                if p.poll(timeout_ms):
                    # Readable: the peer's FIN (close quietly) or more data (reset, as .NET does).
                    abortive = self.Available != 0
            except (OSError, SocketException):
                abortive = True
        if abortive:
            try:
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RESET)
            except OSError:
                pass

    @traced
    def Dispose(self) -> None:
        """Close the socket (``Close()``); a Unix domain socket file created by ``Bind`` is deleted."""
        if self._disposed:
            return
        self._disposed = True
        self._set_disconnected()
        self._io.close()
        path = self._unlink_path
        if path is not None:
            self._unlink_path = None
            try:
                os.unlink(path)
            except OSError:
                pass

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __del__(self) -> None:
        if not getattr(self, "_disposed", True):
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=2)
            try:
                self._io.close()
            except Exception:  # noqa: BLE001 - nothing may escape a finaliser
                pass

    def __repr__(self) -> str:
        try:
            fd = self._sock.fileno()
        except Exception:  # noqa: BLE001
            fd = -1
        return f"<Socket fd={fd} {self._af.name}/{self._st.name}/{self._pt.name}>"

    # -- synchronous I/O ----------------------------------------------------
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
            return buf
        return memoryview(buf)[offset : offset + size]

    def SendTo(
        self,
        buffer: Any,
        offset: Any = _MISSING,
        size: Any = _MISSING,
        socket_flags: Any = _MISSING,
        remote_ep: Any = _MISSING,
    ) -> int:
        """``SendTo(buffer[, [[offset,] size,] socket_flags], remote_ep) -> bytes sent``.

        Positional arguments follow the .NET overload of that length; by
        keyword they are ``offset``, ``size``, ``socket_flags``, ``remote_ep``.
        """
        if (
            size is _MISSING
            and type(offset) is IPEndPoint
            and type(buffer) is bytes
            and not self._disposed
            and self._dgram
            and not self._io.wq
            and not _isEnabledFor(DEBUG)
        ):
            # SendTo(buffer, remote_ep), the plain datagram send, kept short:
            # this is the 0.9x-of-socket.sendto path.
            a1 = offset
            addr = a1._sa_dual if self._v6 else a1._sa
            if addr is None:
                addr = a1._sockaddr(self._v6)
            if len(addr) == self._alen:
                try:
                    # (After a would-block the slow path below raises the event again.)
                    _audit("dotnet_sockets.Socket.SendTo", self, a1)
                except PermissionError as exc:
                    raise _denied(exc) from exc
                try:
                    n: int = self._sock.sendto(buffer, addr)
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise self._failed(_SocketOpError(exc)) from None
                else:
                    _tel.c.sent += n + _DGRAM  # telemetry: one datagram of n bytes
                    if self._right_ep is None:
                        self._right_ep = a1
                    return n
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
        _audit_op("dotnet_sockets.Socket.SendTo", self, ep)
        if _isEnabledFor(DEBUG):
            start = lambda o: self._start_send_to(o, ep)  # noqa: E731
            return int(trace_sync(self, op, start, self._wait_sync, self._snd_timeout, remote_ep=ep))
        self._start_send_to(op, ep)
        result: int = self._wait_sync(op, self._snd_timeout)
        return result

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
        op.flags = 0
        if flags and flags is not _MISSING:
            if not isinstance(flags, int):
                flags = as_int(flags, "socketFlags")
            try:
                op.flags = _send_flags(flags)
            except SocketException as exc:
                op._error = exc
        if self._dgram and type(addr) is not tuple and isinstance(addr, OSError):
            op._error = addr
        return op

    def _start_send_to(self, op: Any, remote_ep: EndPoint) -> None:
        unbound = self._right_ep is None
        if unbound:
            # .NET sets the bound state before the send, so that a callback
            # on another thread already sees LocalEndPoint...
            self._right_ep = remote_ep
        if op._error is not None:
            op._complete(True)
        else:
            self._io.start_write(op)
        if unbound and op._sync and op._error is not None:
            # ...and restores it after a send that failed at once (the
            # kernel bound the port anyway; .NET still reports None).
            self._right_ep = None

    def Send(self, buffer: Any, *args: Any, **kwargs: Any) -> int:
        """``Send(buffer[, [[offset,] size,] socket_flags])`` or ``Send(buffers[, socket_flags])``."""
        self._throw_if_disposed()
        op = self._new_send(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.Send", self, self._peer())
        return int(self._start_write(op, self._snd_timeout))

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
        op.flags = 0
        if flags is not _MISSING and flags:
            try:
                op.flags = _send_flags(as_int(flags, "socketFlags"))
            except SocketException as exc:
                op._error = exc
        return op  # type: ignore[no-any-return]

    def Receive(self, buffer: Any, *args: Any, **kwargs: Any) -> int:
        """``Receive(buffer[, [[offset,] size,] socket_flags])`` or ``Receive(buffers[, socket_flags])``."""
        self._throw_if_disposed()
        op = self._new_receive(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.Receive", self, self._peer())
        n: int = self._start_read(op, self._rcv_timeout)
        if _isEnabledFor(VERBOSE) and isinstance(op, ops.ReceiveOp):
            trace_dump("Receive", self, op.buf[:n])
        return n

    def _new_receive(
        self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any, state: Any
    ) -> AsyncOperation:
        op: Any
        if isinstance(buffer, (list, tuple)):
            bufs = buffer_list(buffer, True)
            flags = args[0] if args else kwargs.get("socket_flags", 0)
            op = ops.ReceiveListOp(self._io, callback, state)
            op.bufs = bufs
        else:
            if buffer is None:
                raise ArgumentNullException("buffer")
            offset, size, flags, _, buffer = self._split_overload(buffer, args, False, kwargs)
            op = ops.ReceiveOp(self._io, callback, state)
            op.buf = memoryview(self._buffer_range(buffer, offset, size, True))
        op.flags = 0
        if flags is not _MISSING and flags:
            try:
                op.flags = _recv_flags(as_int(flags, "socketFlags"))
            except SocketException as exc:
                op._error = exc
        return op  # type: ignore[no-any-return]

    def ReceiveFrom(self, buffer: Any, *args: Any, **kwargs: Any) -> SocketReceiveFromResult:
        """``ReceiveFrom(buffer[, [[offset,] size,] socket_flags], remote_ep) -> (bytes, sender)``.

        ``remote_ep`` is .NET's ``ref EndPoint``: its family is checked and the
        sender comes back as the second item of the result.
        """
        self._throw_if_disposed()
        op, hint = self._new_receive_from(buffer, args, kwargs, None, None)
        _audit_op("dotnet_sockets.Socket.ReceiveFrom", self, hint)
        n, sa = self._start_read(op, self._rcv_timeout)
        if _isEnabledFor(VERBOSE):
            trace_dump("ReceiveFrom", self, op.buf[:n])
        return SocketReceiveFromResult(n, self._endpoint_from(sa, hint))

    def _new_receive_from(
        self, buffer: Any, args: tuple[Any, ...], kwargs: dict[str, Any], callback: Any, state: Any
    ) -> tuple[Any, EndPoint]:
        if buffer is None:
            raise ArgumentNullException("buffer")
        offset, size, flags, ep, buffer = self._split_overload(buffer, args, True, kwargs)
        view = memoryview(self._buffer_range(buffer, offset, size, True))
        if ep is _MISSING or ep is None:
            raise ArgumentNullException("remoteEP")
        if not isinstance(ep, EndPoint) or isinstance(ep, DnsEndPoint):
            raise ArgumentException("Expected an IPEndPoint or UnixDomainSocketEndPoint.", "remoteEP")
        self._check_family(ep, "remoteEP")
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")
        op = ops.ReceiveFromOp(self._io, callback, state)
        op.buf = view
        op.flags = 0
        if flags is not _MISSING and flags:
            try:
                op.flags = _recv_flags(as_int(flags, "socketFlags"))
            except SocketException as exc:
                op._error = exc
        return op, ep

    def Poll(self, microseconds: int, mode: SelectMode) -> bool:
        """Whether the socket is ready for ``mode`` within ``microseconds`` (negative: wait forever).

        ``SelectRead``: data, a connection to accept, or the peer closed; ``SelectWrite``: a send
        would not block (a connect in progress has finished); ``SelectError``: an error or urgent
        data is pending.
        """
        self._throw_if_disposed()
        us = as_int(microseconds, "microSeconds")
        try:
            mode = SelectMode(mode)
        except (ValueError, TypeError):
            raise ArgumentException("Invalid SelectMode value.", "mode") from None
        p = select.poll()
        p.register(self._sock.fileno(), _POLL_ASK[mode])
        try:
            res = p.poll(None if us < 0 else _poll_ms(us))
        except OSError as exc:
            raise _SocketOpError(exc) from None
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
        microseconds: int,
    ) -> None:
        """.NET's static Select: the lists are filtered in place to the ready sockets.

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
        us = as_int(microseconds, "microSeconds")
        p = select.poll()
        masks: dict[int, int] = {}
        for lst, name, mode in lists:
            for s in lst or ():
                if s is None:
                    raise ArgumentNullException(name)
                if not isinstance(s, Socket):
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

    # -- asynchronous programming model (Begin/End) ------------------------
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
        if callback is not None and not callable(callback):
            raise ArgumentException("The callback must be callable (an AsyncCallback).", "callback")
        view = buffer if offset == 0 and size == n else memoryview(buffer)[offset : offset + size]
        try:
            _audit("dotnet_sockets.Socket.BeginSendTo", self, remote_ep)
        except PermissionError as exc:
            raise _denied(exc) from exc
        tracing = _isEnabledFor(DEBUG)
        if tracing:
            trace_enter(
                "BeginSendTo", self, size=size, offset=offset, socket_flags=socket_flags, remote_ep=remote_ep
            )
            if _isEnabledFor(VERBOSE):
                trace_dump("BeginSendTo", self, view)
        io = self._io
        if socket_flags or not self._dgram or self._right_ep is None or type(addr) is not tuple:
            op = self._new_send_to(view, socket_flags, addr, callback, state)
            self._start_send_to(op, remote_ep)
        else:
            # The steady-state datagram send, spelled out: this path is what
            # the callback-model benchmarks measure.
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
                # Inlined op._complete(True): nobody can wait on a result
                # that has not been returned yet, so there is no handle to set.
                op._sync = True
                op._done = True
                if callback is not None:
                    if io.inline:
                        _run_inline(op)
                    else:
                        _post(op)
        if tracing:
            trace_exit("BeginSendTo", self, op)
        return op  # type: ignore[no-any-return]

    def _mismatch(self) -> OSError:
        if self._pf == _AF_INET6:
            return OSError(errno.ENETUNREACH, os.strerror(errno.ENETUNREACH))
        return OSError(errno.EAFNOSUPPORT, os.strerror(errno.EAFNOSUPPORT))

    def EndSendTo(self, async_result: IAsyncResult) -> int:
        """The number of bytes sent; waits if the send is still pending, raises its error."""
        ar: Any = async_result
        try:
            fast = (
                ar._done
                and ar._io is self._io
                and ar.end_method == "EndSendTo"
                and not ar._ended
                and ar._error is None
            )
        except AttributeError:
            fast = False
        if fast:
            ar._ended = True
        else:
            ar = self._end(async_result, "EndSendTo")
        n: int = ar._value
        if _isEnabledFor(DEBUG):
            trace_exit("EndSendTo", self, n)
        return n

    def BeginSend(self, buffer: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginSend(buffer, offset, size, socket_flags, callback, state)`` or
        ``BeginSend(buffers, socket_flags, callback, state)``."""
        self._throw_if_disposed()
        args, callback, state = _split_callback(args, kwargs, 1 if isinstance(buffer, (list, tuple)) else 3)
        op = self._new_send(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginSend", write=True)

    def EndSend(self, async_result: IAsyncResult) -> int:
        n: int = self._end(async_result, "EndSend")._value
        if _isEnabledFor(DEBUG):
            trace_exit("EndSend", self, n)
        return n

    def BeginReceive(self, buffer: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginReceive(buffer, offset, size, socket_flags, callback, state)`` or
        ``BeginReceive(buffers, socket_flags, callback, state)``."""
        self._throw_if_disposed()
        args, callback, state = _split_callback(args, kwargs, 1 if isinstance(buffer, (list, tuple)) else 3)
        op = self._new_receive(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginReceive", write=False)

    def EndReceive(self, async_result: IAsyncResult) -> int:
        ar = self._end(async_result, "EndReceive")
        n: int = ar._value
        if _isEnabledFor(DEBUG):
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
        self._throw_if_disposed()
        op, hint = self._new_receive_from(
            buffer, (offset, size, socket_flags, remote_ep), {}, callback, state
        )
        if callback is not None and not callable(callback):
            raise ArgumentException("The callback must be callable.", "callback")
        op.extra = hint
        return self._begin(op, "BeginReceiveFrom", write=False)

    def EndReceiveFrom(self, async_result: IAsyncResult) -> SocketReceiveFromResult:
        ar: Any = self._end(async_result, "EndReceiveFrom")
        n, sa = ar._value
        result = SocketReceiveFromResult(n, self._endpoint_from(sa, ar.extra))
        if _isEnabledFor(DEBUG):
            trace_exit("EndReceiveFrom", self, result)
            if _isEnabledFor(VERBOSE):
                trace_dump("EndReceiveFrom", self, ar.buf[:n])
        return result

    @traced
    def BeginConnect(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginConnect(remote_ep | address, port | host, port | addresses, port, callback, state)``.

        The addresses of a host name or a list are tried in order until one accepts the
        connection; ``EndConnect`` raises the last failure (a refused connection is
        ``SocketException`` ``ConnectionRefused``).  After a failed attempt the socket gets a fresh
        descriptor, as Linux requires (``Handle`` keeps its number).  ``Connected``,
        ``RemoteEndPoint`` and ``LocalEndPoint`` are set before the callback runs.
        """
        self._throw_if_disposed()
        endpoint_form = bool(args) and (
            isinstance(args[0], EndPoint)
            or (args[0] is None and len(args) in (2, 3) and (args[1] is None or callable(args[1])))
        )
        pos, callback, state = _split_callback(args, kwargs, 1 if endpoint_form else 2)
        targets = self._connect_targets(_connect_args(pos, kwargs), begin=True)
        if not isinstance(targets, SocketException):
            for ep in targets:  # every address it may try is judged before the first attempt
                _audit_op("dotnet_sockets.Socket.BeginConnect", self, ep)
        return self._start_connect(targets, callback, state)  # type: ignore[no-any-return]

    @traced
    def EndConnect(self, async_result: IAsyncResult) -> None:
        """Waits for the connection; raises what made the last attempt fail."""
        ar: Any = self._end(async_result, "EndConnect")
        if getattr(ar, "then", None) is not None and ar.extra:
            # A _complete override skipped the step that records the connection.
            self._connected_to(ar.extra[getattr(ar, "index", 0)])

    @traced
    def BeginAccept(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginAccept(callback, state)``: ``EndAccept`` returns the accepted ``Socket``.

        ``BeginAccept(receive_size, callback, state)`` and ``BeginAccept(accept_socket, receive_size,
        callback, state)``: the operation also receives the first block of data (up to
        ``receive_size`` bytes; none when it is 0) on the accepted connection before it completes,
        and ``EndAccept`` returns ``(socket, data, bytes_transferred)``, .NET's ``out`` parameters.
        ``accept_socket``, when given, must be neither bound nor connected; it becomes the accepted
        socket.
        """
        self._throw_if_disposed()
        pos, callback, state = _split_callback(args, kwargs, _accept_lead(args))
        accept_socket = kwargs.pop("accept_socket", None)
        receive_size = kwargs.pop("receive_size", _MISSING)
        if kwargs:
            raise TypeError(f"BeginAccept() got unexpected arguments {sorted(kwargs)}")
        if len(pos) == 1:
            (receive_size,) = pos
        elif len(pos) == 2:
            accept_socket, receive_size = pos
        elif pos:
            raise TypeError("BeginAccept takes [accept_socket,] [receive_size,] callback, state")
        with_receive = receive_size is not _MISSING
        if with_receive:
            receive_size = as_int(receive_size, "receiveSize")
            if receive_size < 0:
                raise ArgumentOutOfRangeException("receiveSize", receive_size)
        self._check_can_accept()
        if accept_socket is not None:
            if not isinstance(accept_socket, Socket):
                raise ArgumentException("Expected a Socket.", "acceptSocket")
            accept_socket._throw_if_disposed()
            if accept_socket._right_ep is not None or accept_socket._connected:
                raise InvalidOperationException("The acceptSocket must not be bound or connected.")
        op: Any = ops.AcceptOp(self._io, callback, state)
        op.later = False
        if with_receive:
            op.extra = (accept_socket, receive_size, _WITH_RECEIVE)
            op.then = self._accept_step
        else:
            op.extra = None
            op.then = None
        return self._begin(op, "BeginAccept", write=False)

    def _accept_step(self, op: Any, synchronously: bool) -> bool:
        """Accepted: adopt the connection, then receive its first block before completing."""
        op.then = None
        if op._error is not None:
            return False
        pysock, sa = op._value
        accept_socket, size, _ = op.extra
        try:
            accepted = self._adopt(pysock, sa, accept_socket)
        except ObjectDisposedException:
            pysock.close()
            op._error = ABORTED
            return False
        if size == 0:
            op._value = (accepted, b"", 0)
            return False

        def received(rop: Any, sync: bool) -> bool:
            if rop._error is None:
                n = rop._value
                op._value = (accepted, bytes(rop.buf[:n]), n)
            else:
                # .NET disposes the accepted socket when its first receive fails.
                accepted.Dispose()
                op._error = rop._error
            op._complete(synchronously and sync)
            return False

        rop: Any = ops.ReceiveThenOp(accepted._io, None, None)
        rop.buf = memoryview(bytearray(size))
        rop.flags = 0
        rop.later = False
        rop.then = received
        accepted._io.start_read(rop)
        return True

    def _adopt(self, pysock: _socket.socket, sockaddr: Any, accept_socket: Socket | None) -> Socket:
        if accept_socket is None:
            return Socket._from_accepted(self, pysock, sockaddr)
        a = accept_socket
        a._throw_if_disposed()
        rcv, snd, inline = a._rcv_timeout, a._snd_timeout, a._io.inline
        a._io.close()
        a._setup(pysock, self._af, self._st, self._pt)
        a._adopt_accepted(self, sockaddr)
        a._rcv_timeout, a._snd_timeout, a._io.inline = rcv, snd, inline
        return a

    @traced
    def EndAccept(self, async_result: IAsyncResult) -> Any:
        """The accepted ``Socket``; ``(socket, data, bytes_transferred)`` after the ``receive_size`` forms."""
        ar: Any = self._end(async_result, "EndAccept")
        extra = ar.extra
        if extra is None:
            pysock, sa = ar._value
            return Socket._from_accepted(self, pysock, sa)
        if len(extra) == 2:
            # (accept_socket, 0): the other models' accept into a given socket.
            pysock, sa = ar._value
            return self._adopt(pysock, sa, extra[0])
        return ar._value  # (socket, data, bytes_transferred), made by _accept_step

    @traced
    def BeginDisconnect(
        self, reuse_socket: bool, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult:
        """Disconnect as ``Disconnect(reuse_socket)`` does (there is nothing to wait for on Linux);
        its error, if any, is raised by ``EndDisconnect``."""
        self._throw_if_disposed()
        if callback is not None and not callable(callback):
            raise ArgumentException("The callback must be callable.", "callback")
        _audit_op("dotnet_sockets.Socket.BeginDisconnect", self, self._peer())
        op: Any = ops.DisconnectOp(self._io, callback, state)
        try:
            self._disconnect(reuse_socket)
        except SocketException as exc:
            op._error = exc
        except ObjectDisposedException:  # closed meanwhile by another thread
            op._error = ABORTED
        op._complete(True)
        return op  # type: ignore[no-any-return]

    @traced
    def EndDisconnect(self, async_result: IAsyncResult) -> None:
        self._end(async_result, "EndDisconnect")

    def _begin(self, op: Any, member: str, write: bool) -> IAsyncResult:
        # A ReceiveFrom keeps its remote_ep in op.extra; the others address the peer, if any.
        ep = op.extra if "ReceiveFrom" in member else None if "Accept" in member else self._peer()
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


def _copy_options(old: _socket.socket, new: _socket.socket) -> None:
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


def _split_callback(
    args: tuple[Any, ...], kwargs: dict[str, Any], lead: int
) -> tuple[tuple[Any, ...], Any, Any]:
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
    if isinstance(first, Socket):
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
