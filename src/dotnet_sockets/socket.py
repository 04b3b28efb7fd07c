"""``Socket``: .NET's socket class, thin over the engine.

Every method checks its arguments in .NET's order, builds one operation
object and hands it to the socket's ``OpQueue``; ``End...`` validates the
``IAsyncResult``, waits for it and returns or raises.  The synchronous calls
try the system call directly and only fall back to the engine (and so to
``Close``-aware, timeout-aware waiting) when it would block.
"""

from __future__ import annotations

import errno
import os
import socket as _socket
import sys
import warnings
from collections.abc import Sequence
from logging import DEBUG
from typing import Any

from . import _platform
from ._checks import as_buffer, as_int, as_writable_buffer, buffer_list, check_range
from ._engine import ops
from ._engine.dispatch import dispatcher
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
from .tracing import VERBOSE, log, trace_dump, trace_enter, trace_error, trace_exit

__all__ = ["Socket", "set_inline_completions"]

_AF_INET = _socket.AF_INET
_AF_INET6 = _socket.AF_INET6
_AF_UNIX = _socket.AF_UNIX
_IP_MTU_DISCOVER = 10  # Linux <netinet/in.h>; not exported by the socket module
_send_flags = _platform.platform_send_flags
_recv_flags = _platform.platform_receive_flags
_isEnabledFor = log.isEnabledFor
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
class Socket:
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

    @classmethod
    def _from_accepted(cls, listener: Socket, pysock: _socket.socket, sockaddr: Any) -> Socket:
        s = cls.__new__(cls)
        s._setup(pysock, listener._af, listener._st, listener._pt)
        s._dual = listener._dual
        s._right_ep = listener._right_ep
        s._remote_ep = s._endpoint_from(sockaddr, None)
        s._connected = True
        return s

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

    def _endpoint_from(self, sockaddr: Any, hint: EndPoint | None) -> EndPoint:
        ep = from_sockaddr(self._pf, sockaddr)
        if (
            self._dual
            and hint is not None
            and hint.AddressFamily == AddressFamily.InterNetwork
            and type(ep) is IPEndPoint
            and ep.Address.IsIPv4MappedToIPv6
        ):
            # A dual-mode socket reports IPv4 peers as IPv4 to a caller that
            # passed an IPv4 endpoint, as .NET does.
            ep = IPEndPoint(ep.Address.MapToIPv4(), ep.Port)
        return ep

    def _failed(self, exc: SocketException) -> SocketException:
        """.NET's UpdateStatusAfterSocketError: most errors disconnect the socket."""
        if self._connected and exc.SocketErrorCode not in _KEEPS_CONNECTED:
            self._connected = False
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
                    raise SocketException(SocketError.WouldBlock)
            if not op._wait(timeout_ms if timeout_ms > 0 else -1):
                if self._io.cancel(op):
                    raise SocketException(SocketError.TimedOut)
                op._wait(-1)
        err = op._error
        if err is not None:
            raise self._failed(_op_error(err))
        return op._value

    def _start_write(self, op: AsyncOperation, timeout_ms: int) -> Any:
        self._io.start_write(op)
        return self._wait_sync(op, timeout_ms)

    def _start_read(self, op: AsyncOperation, timeout_ms: int) -> Any:
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
        if self._pf == _AF_INET6:
            return self._opt(_socket.IPPROTO_IPV6, 23) == 2  # IPV6_MTU_DISCOVER, IP_PMTUDISC_DO
        return self._opt(_socket.IPPROTO_IP, _IP_MTU_DISCOVER) == 2

    @DontFragment.setter
    def DontFragment(self, value: bool) -> None:
        if self._af not in (AddressFamily.InterNetwork, AddressFamily.InterNetworkV6):
            raise NotSupportedException(
                "This property is only valid for InterNetwork and InterNetworkV6 sockets."
            )
        mode = 2 if value else 0
        if self._pf == _AF_INET6:
            self._setopt(_socket.IPPROTO_IPV6, 23, mode)
        else:
            self._setopt(_socket.IPPROTO_IP, _IP_MTU_DISCOVER, mode)

    @property
    def DualMode(self) -> bool:
        """An IPv6 socket that also sends to and receives from IPv4 endpoints."""
        if self._af != AddressFamily.InterNetworkV6:
            raise NotSupportedException("This protocol version is not supported.")
        return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY) == 0

    @DualMode.setter
    def DualMode(self, value: bool) -> None:
        if self._af != AddressFamily.InterNetworkV6:
            raise NotSupportedException("This protocol version is not supported.")
        self._throw_if_disposed()
        self._set_dual(bool(value))

    @property
    def Ttl(self) -> int:
        if self._pf == _AF_INET6:
            return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_UNICAST_HOPS)
        return self._opt(_socket.IPPROTO_IP, _socket.IP_TTL)

    @Ttl.setter
    def Ttl(self, value: int) -> None:
        value = as_int(value, "value")
        if value < 0 or value > 255:
            raise ArgumentOutOfRangeException("value", value)
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
        raw = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, 8) if not self._disposed else b""
        self._throw_if_disposed()
        onoff = int.from_bytes(raw[:4], sys.byteorder)
        secs = int.from_bytes(raw[4:8], sys.byteorder)
        return LingerOption(onoff != 0, secs)

    @LingerState.setter
    def LingerState(self, value: LingerOption) -> None:
        if value is None:
            raise ArgumentNullException("value")
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
        if value < 0:
            raise ArgumentOutOfRangeException("value", value)
        self._setopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF, value)

    @property
    def SendBufferSize(self) -> int:
        return self._opt(_socket.SOL_SOCKET, _socket.SO_SNDBUF)

    @SendBufferSize.setter
    def SendBufferSize(self, value: int) -> None:
        value = as_int(value, "value")
        if value < 0:
            raise ArgumentOutOfRangeException("value", value)
        self._setopt(_socket.SOL_SOCKET, _socket.SO_SNDBUF, value)

    @property
    def ReceiveTimeout(self) -> int:
        """Milliseconds a synchronous receive waits; 0 (or -1 when set) is infinite.

        On expiry the call raises ``SocketException`` with ``SocketError.TimedOut``.
        """
        return self._rcv_timeout

    @ReceiveTimeout.setter
    def ReceiveTimeout(self, value: int) -> None:
        ms = as_int(value, "value")
        if ms < -1:
            raise ArgumentOutOfRangeException("value", ms)
        self._throw_if_disposed()
        self._rcv_timeout = 0 if ms == -1 else ms

    @property
    def SendTimeout(self) -> int:
        """Milliseconds a synchronous send waits; 0 (or -1 when set) is infinite."""
        return self._snd_timeout

    @SendTimeout.setter
    def SendTimeout(self, value: int) -> None:
        ms = as_int(value, "value")
        if ms < -1:
            raise ArgumentOutOfRangeException("value", ms)
        self._throw_if_disposed()
        self._snd_timeout = 0 if ms == -1 else ms

    @property
    def MulticastLoopback(self) -> bool:
        if self._pf == _AF_INET6:
            return self._opt(_socket.IPPROTO_IPV6, _socket.IPV6_MULTICAST_LOOP) != 0
        return self._opt(_socket.IPPROTO_IP, _socket.IP_MULTICAST_LOOP) != 0

    @MulticastLoopback.setter
    def MulticastLoopback(self, value: bool) -> None:
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
        level = SocketOptionLevel(option_level)
        name = SocketOptionName(option_name)
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
        level = SocketOptionLevel(option_level)
        name = SocketOptionName(option_name)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.Linger:
            return self.LingerState
        plevel, pname = _platform.platform_option(level, name)
        if option_length is not None:
            try:
                return self._sock.getsockopt(plevel, pname, as_int(option_length, "optionLength"))
            except OSError as exc:
                raise _SocketOpError(exc) from None
        value = self._opt(plevel, pname)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.ExclusiveAddressUse:
            return 0 if value else 1
        return value

    # -- set-up and tear-down ----------------------------------------------
    def Bind(self, local_ep: EndPoint) -> None:
        """Bind to a local endpoint; port 0 lets the system pick a free port."""
        self._throw_if_disposed()
        if local_ep is None:
            raise ArgumentNullException("localEP")
        if _isEnabledFor(DEBUG):
            trace_enter("Bind", self, local_ep=local_ep)
        addr = self._sockaddr(local_ep, "localEP")
        if isinstance(addr, OSError):
            raise _SocketOpError(addr)
        try:
            self._sock.bind(addr)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._right_ep = local_ep
        self._local_ep = None

    def Listen(self, backlog: int = _socket.SOMAXCONN) -> None:
        self._throw_if_disposed()
        backlog = as_int(backlog, "backlog")
        try:
            self._sock.listen(backlog)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._listening = True

    def _connect_addresses(self, args: tuple[Any, ...]) -> list[EndPoint]:
        """Normalise the Connect overloads to a list of endpoints to try in order."""
        if len(args) == 1:
            ep = args[0]
            if ep is None:
                raise ArgumentNullException("remoteEP")
            if isinstance(ep, DnsEndPoint):
                from .dns import Dns

                addrs = Dns.GetHostAddresses(ep.Host)
                return [IPEndPoint(a, ep.Port) for a in self._usable(addrs)]
            if not isinstance(ep, EndPoint):
                raise ArgumentException(f"Expected an EndPoint, not {type(ep).__name__}.", "remoteEP")
            return [ep]
        if len(args) == 2:
            target, port = args
            if target is None:
                raise ArgumentNullException("address" if not isinstance(target, str) else "host")
            port = as_int(port, "port")
            if port < 0 or port > 0xFFFF:
                raise ArgumentOutOfRangeException("port", port)
            if isinstance(target, IPAddress):
                return [IPEndPoint(target, port)]
            if isinstance(target, str):
                from .dns import Dns

                ok, parsed = IPAddress.TryParse(target)
                addrs = [parsed] if ok and parsed is not None else Dns.GetHostAddresses(target)
                return [IPEndPoint(a, port) for a in self._usable(addrs)]
            addrs = list(target)
            if not addrs:
                raise ArgumentException("The address list is empty.", "addresses")
            if any(a is None for a in addrs):
                raise ArgumentNullException("addresses")
            return [IPEndPoint(a, port) for a in self._usable(addrs)]
        raise TypeError("Connect takes an endpoint, or an address (or host, or address list) and a port")

    def _usable(self, addrs: Sequence[IPAddress]) -> list[IPAddress]:
        fams = {AddressFamily.InterNetwork, AddressFamily.InterNetworkV6} if self._dual else {self._af}
        usable = [a for a in addrs if a.AddressFamily in fams]
        if not usable:
            raise SocketException(SocketError.AddressFamilyNotSupported)
        return usable

    def _check_can_connect(self) -> None:
        self._throw_if_disposed()
        if self._listening:
            raise InvalidOperationException(
                "You may not perform this operation after calling the Listen method."
            )

    def Connect(self, *args: Any) -> None:
        """``Connect(endpoint)``, ``Connect(address, port)``, ``Connect(host, port)``,
        ``Connect(addresses, port)``: the addresses are tried in order."""
        self._check_can_connect()
        endpoints = self._connect_addresses(args)
        if _isEnabledFor(DEBUG):
            trace_enter("Connect", self, endpoints=endpoints)
        last: SocketException | None = None
        for ep in endpoints:
            try:
                self._connect_one(ep)
                return
            except SocketException as exc:
                last = exc
                if len(endpoints) > 1:
                    self._renew_after_failed_connect()
        assert last is not None
        raise last

    def _renew_after_failed_connect(self) -> None:
        # Linux needs a fresh socket after a failed connect before another try.
        old = self._sock
        new = _socket.socket(old.family, old.type, old.proto)
        if old.family == _AF_INET6:
            new.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 0 if self._dual else 1)
        self._io.close()
        self._sock = new
        inline = self._io.inline
        self._io = OpQueue(new)
        self._io.inline = inline

    def _connect_one(self, ep: EndPoint) -> None:
        addr = self._sockaddr(ep, "remoteEP")
        if isinstance(addr, OSError):
            raise _SocketOpError(addr)
        op = ops.ConnectOp(self._io, None, None)
        op.addr = addr
        op.started = False
        op.extra = None
        self._io.start_write(op)
        if not op._done:
            op._wait(-1)
        if op._error is not None:
            raise self._failed(_op_error(op._error))
        self._connected_to(ep)

    def _connected_to(self, ep: EndPoint) -> None:
        self._connected = True
        self._remote_ep = ep
        if self._right_ep is None:
            self._right_ep = ep
        self._local_ep = None

    def Accept(self) -> Socket:
        """Wait for and return the next incoming connection."""
        self._throw_if_disposed()
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")
        if not self._listening:
            raise InvalidOperationException(
                "You must call the Listen method before performing this operation."
            )
        op = ops.AcceptOp(self._io, None, None)
        op.extra = None
        pysock, sa = self._start_read(op, 0)
        return Socket._from_accepted(self, pysock, sa)

    def Shutdown(self, how: SocketShutdown) -> None:
        self._throw_if_disposed()
        try:
            self._sock.shutdown(int(SocketShutdown(how)))
        except (ValueError, TypeError):
            raise ArgumentException("Invalid SocketShutdown value.", "how") from None
        except OSError as exc:
            # .NET ignores ENOTCONN here: shutting down an unconnected socket is harmless.
            if exc.errno != errno.ENOTCONN:
                raise self._failed(_SocketOpError(exc)) from None
        self._local_ep = None

    def Disconnect(self, reuse_socket: bool) -> None:
        """Close the connection; with ``reuse_socket`` the socket can connect again."""
        self._throw_if_disposed()
        try:
            self._sock.shutdown(_socket.SHUT_RDWR)
        except OSError:
            pass
        self._connected = False
        self._remote_ep = None
        self._local_ep = None
        if reuse_socket:
            self._renew_after_failed_connect()
            self._right_ep = None
        else:
            self._io.close()

    def Close(self, timeout: int | None = None) -> None:
        """Close the socket; operations still pending complete once, aborted.

        ``Close(timeout)`` first lingers up to ``timeout`` seconds for unsent data.
        """
        if timeout is not None:
            t = as_int(timeout, "timeout")
            if t < -1:
                raise ArgumentOutOfRangeException("timeout", t)
            if t >= 0 and not self._disposed:
                try:
                    self.LingerState = LingerOption(True, t)
                except SocketException:
                    pass
        self.Dispose()

    def Dispose(self) -> None:
        if self._disposed:
            return
        self._disposed = True
        self._connected = False
        if _isEnabledFor(DEBUG):
            trace_enter("Dispose", self)
        path = self._right_ep
        self._io.close()
        if isinstance(path, UnixDomainSocketEndPoint) and self._listening:
            # .NET deletes the file a listening Unix domain socket created.
            try:
                os.unlink(path.Path)
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
        a1: Any = _MISSING,
        a2: Any = _MISSING,
        a3: Any = _MISSING,
        a4: Any = _MISSING,
        *,
        offset: Any = _MISSING,
        size: Any = _MISSING,
        socket_flags: Any = _MISSING,
        remote_ep: Any = _MISSING,
    ) -> int:
        """``SendTo(buffer[, [[offset,] size,] socket_flags], remote_ep) -> bytes sent``."""
        if (
            a2 is _MISSING
            and type(a1) is IPEndPoint
            and type(buffer) is bytes
            and not self._disposed
            and self._dgram
            and not self._io.wq
            and not _isEnabledFor(DEBUG)
        ):
            # The plain datagram send, kept short: this is the 0.9x-of-socket.sendto path.
            addr = a1._sa_dual if self._v6 else a1._sa
            if addr is None:
                addr = a1._sockaddr(self._v6)
            if len(addr) == self._alen:
                try:
                    n: int = self._sock.sendto(buffer, addr)
                except BlockingIOError:
                    pass
                except OSError as exc:
                    raise self._failed(_SocketOpError(exc)) from None
                else:
                    if self._right_ep is None:
                        self._right_ep = a1
                    return n
        args = tuple(a for a in (a1, a2, a3, a4) if a is not _MISSING)
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
        if _isEnabledFor(DEBUG):
            trace_enter("SendTo", self, size=len(view), socket_flags=flags, remote_ep=ep)
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
        """Readiness of this socket for ``mode`` within ``microseconds`` (-1: wait forever)."""
        self._throw_if_disposed()
        us = as_int(microseconds, "microSeconds")
        mode = SelectMode(mode)
        import select

        ev = {
            SelectMode.SelectRead: select.POLLIN | select.POLLPRI,
            SelectMode.SelectWrite: select.POLLOUT,
            SelectMode.SelectError: select.POLLPRI,
        }[mode]
        p = select.poll()
        p.register(self._sock.fileno(), ev)
        timeout = None if us < 0 else us / 1000.0
        try:
            res = p.poll(timeout)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        if not res:
            return False
        revents = res[0][1]
        if mode == SelectMode.SelectError:
            if revents & select.POLLERR:
                return True
            return self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR) != 0 or bool(revents & ev)
        if mode == SelectMode.SelectRead and revents & (select.POLLHUP | select.POLLERR):
            return True
        return bool(revents & ev) or (mode == SelectMode.SelectWrite and bool(revents & select.POLLERR))

    @staticmethod
    def Select(
        check_read: list[Socket] | None,
        check_write: list[Socket] | None,
        check_error: list[Socket] | None,
        microseconds: int,
    ) -> None:
        """.NET's static Select: the lists are filtered in place to the ready sockets."""
        if not check_read and not check_write and not check_error:
            raise ArgumentNullException(None, "All lists are either null or empty.")
        for lst in (check_read, check_write, check_error):
            if lst is not None and len(lst) > 65536:
                raise ArgumentOutOfRangeException("checkRead", len(lst))
        import select

        us = as_int(microseconds, "microSeconds")
        p = select.poll()
        masks: dict[int, int] = {}
        for lst, bit in (
            (check_read, select.POLLIN),
            (check_write, select.POLLOUT),
            (check_error, select.POLLPRI),
        ):
            for s in lst or ():
                if s is None:
                    raise ArgumentNullException("socketList")
                s._throw_if_disposed()
                fd = s._sock.fileno()
                masks[fd] = masks.get(fd, 0) | bit
        for fd, m in masks.items():
            p.register(fd, m)
        try:
            res = dict(p.poll(None if us < 0 else us / 1000.0))
        except OSError as exc:
            raise _SocketOpError(exc) from None
        hup = select.POLLHUP | select.POLLERR
        for lst, bit in (
            (check_read, select.POLLIN | hup),
            (check_write, select.POLLOUT),
            (check_error, select.POLLPRI | select.POLLERR),
        ):
            if lst is not None:
                lst[:] = [s for s in lst if res.get(s._sock.fileno(), 0) & bit]

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
        view = buffer if offset == 0 and size == n else memoryview(buffer)[offset : offset + size]
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
        args, callback, state = _split_callback(args, kwargs)
        op = self._new_send(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginSend", write=True)

    def EndSend(self, async_result: IAsyncResult) -> int:
        n: int = self._end(async_result, "EndSend")._value
        return n

    def BeginReceive(self, buffer: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginReceive(buffer, offset, size, socket_flags, callback, state)`` or
        ``BeginReceive(buffers, socket_flags, callback, state)``."""
        self._throw_if_disposed()
        args, callback, state = _split_callback(args, kwargs)
        op = self._new_receive(buffer, args, kwargs, callback, state)
        return self._begin(op, "BeginReceive", write=False)

    def EndReceive(self, async_result: IAsyncResult) -> int:
        ar = self._end(async_result, "EndReceive")
        n: int = ar._value
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
        """Start receiving one datagram; ``EndReceiveFrom`` returns ``(bytes, sender)``."""
        self._throw_if_disposed()
        op, hint = self._new_receive_from(
            buffer, (offset, size, socket_flags, remote_ep), {}, callback, state
        )
        op.extra = hint
        return self._begin(op, "BeginReceiveFrom", write=False)

    def EndReceiveFrom(self, async_result: IAsyncResult) -> SocketReceiveFromResult:
        ar: Any = self._end(async_result, "EndReceiveFrom")
        n, sa = ar._value
        if _isEnabledFor(VERBOSE):
            trace_dump("EndReceiveFrom", self, ar.buf[:n])
        return SocketReceiveFromResult(n, self._endpoint_from(sa, ar.extra))

    def BeginConnect(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginConnect(endpoint | address, port | host, port | addresses, port, callback, state)``."""
        self._check_can_connect()
        pos, callback, state = _split_callback(args, kwargs)
        if kwargs:
            pos = pos + tuple(
                kwargs.pop(k) for k in ("remote_ep", "address", "host", "addresses", "port") if k in kwargs
            )
        endpoints = self._connect_addresses(pos)
        op: Any = ops.ConnectOp(self._io, callback, state)
        op.addr = None
        op.started = False
        op.extra = endpoints
        self._next_connect(op)
        return op  # type: ignore[no-any-return]

    def _next_connect(self, op: Any) -> None:
        ep = op.extra[0]
        addr = self._sockaddr(ep, "remoteEP")
        if isinstance(addr, OSError):
            op._error = addr
            op._complete(True)
            return
        op.addr = addr
        self._io.start_write(op)

    def EndConnect(self, async_result: IAsyncResult) -> None:
        ar: Any = self._end(async_result, "EndConnect")
        self._connected_to(ar.extra[0])

    def BeginAccept(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginAccept(callback, state)``, ``BeginAccept(receive_size, callback, state)`` or
        ``BeginAccept(accept_socket, receive_size, callback, state)``.

        With ``receive_size`` > 0, ``EndAccept`` returns ``(socket, data, bytes)``
        as .NET's ``out byte[] buffer, out int bytesTransferred`` overload.
        """
        self._throw_if_disposed()
        pos, callback, state = _split_callback(args, kwargs)
        accept_socket = kwargs.pop("accept_socket", None)
        receive_size = kwargs.pop("receive_size", 0)
        if len(pos) == 1:
            receive_size = pos[0]
        elif len(pos) == 2:
            accept_socket, receive_size = pos
        receive_size = as_int(receive_size, "receiveSize")
        if receive_size < 0:
            raise ArgumentOutOfRangeException("receiveSize", receive_size)
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")
        if not self._listening:
            raise InvalidOperationException(
                "You must call the Listen method before performing this operation."
            )
        if accept_socket is not None:
            if not isinstance(accept_socket, Socket):
                raise ArgumentException("Expected a Socket.", "acceptSocket")
            if accept_socket._right_ep is not None or accept_socket._disposed:
                raise InvalidOperationException("The acceptSocket must not be bound or connected.")
        op: Any = ops.AcceptOp(self._io, callback, state)
        op.extra = (accept_socket, receive_size) if (accept_socket is not None or receive_size) else None
        return self._begin(op, "BeginAccept", write=False)

    def EndAccept(self, async_result: IAsyncResult) -> Any:
        """The accepted ``Socket`` (or ``(socket, data, bytes)`` after ``BeginAccept(receive_size, ...)``)."""
        ar: Any = self._end(async_result, "EndAccept")
        pysock, sa = ar._value
        if ar.extra is None:
            return Socket._from_accepted(self, pysock, sa)
        accept_socket, receive_size = ar.extra
        if accept_socket is not None:
            accept_socket._io.close()
            accept_socket._setup(pysock, self._af, self._st, self._pt)
            accept_socket._right_ep = self._right_ep
            accept_socket._remote_ep = accept_socket._endpoint_from(sa, None)
            accept_socket._connected = True
            accepted = accept_socket
        else:
            accepted = Socket._from_accepted(self, pysock, sa)
        if not receive_size:
            return accepted
        data = bytearray(receive_size)
        n = accepted.Receive(data, 0, receive_size, 0)
        return accepted, bytes(data[:n]), n

    def BeginDisconnect(
        self, reuse_socket: bool, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult:
        self._throw_if_disposed()
        op: Any = ops.DisconnectOp(self._io, callback, state)
        try:
            self.Disconnect(reuse_socket)
        except SocketException as exc:
            op._error = exc
        op._complete(True)
        return op  # type: ignore[no-any-return]

    def EndDisconnect(self, async_result: IAsyncResult) -> None:
        self._end(async_result, "EndDisconnect")

    def _begin(self, op: Any, member: str, write: bool) -> IAsyncResult:
        if _isEnabledFor(DEBUG):
            trace_enter(member, self)
        if op._error is not None:
            op._complete(True)
        elif write:
            self._io.start_write(op)
        else:
            self._io.start_read(op)
        return op  # type: ignore[no-any-return]


def _split_callback(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], Any, Any]:
    """Peel the trailing ``callback, state`` pair off a Begin... argument list."""
    callback = kwargs.pop("callback", _MISSING)
    state = kwargs.pop("state", None)
    if callback is _MISSING:
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
