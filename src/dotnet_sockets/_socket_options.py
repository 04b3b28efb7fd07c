"""Socket options as .NET exposes them: the option properties and Set/GetSocketOption."""

from __future__ import annotations

import datetime
import socket as _socket
import sys
from typing import TYPE_CHECKING, Any

from . import _platform
from ._checks import as_int, as_timeout_property
from ._names import dotnet_names
from ._types import BytesLike
from .enums import (
    AddressFamily,
    SocketOptionLevel,
    SocketOptionName,
)
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    NotSupportedException,
)
from .options import IPv6MulticastOption, LingerOption, MulticastOption

if TYPE_CHECKING:
    pass
from ._socket_core import (
    _AF_INET6,
    _IP_MTU_DISCOVER,
    _TIMEOUT_OPTIONS,
    SocketCore,
    _bytes_available,
    _option_key,
)

__all__ = ["SocketOptions"]


@dotnet_names
class SocketOptions(SocketCore):
    """Socket options as .NET exposes them: the option properties and Set/GetSocketOption."""

    __slots__ = ()

    @property
    def Available(self) -> int:
        """Bytes that can be read without blocking."""
        self._throw_if_disposed()
        try:
            return _bytes_available(self._sock)
        except OSError as exc:
            raise self._handle_error(exc) from None

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
        if self._right_ep is not None:
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
            raise self._handle_error(exc) from None
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

        Set it in milliseconds or as a ``datetime.timedelta``; it reads back in milliseconds.  On
        expiry the call raises ``SocketException`` with ``SocketError.TimedOut``.  Setting a value
        below -1 raises ``ArgumentOutOfRangeException`` (``value``).
        """
        self._throw_if_disposed()
        return self._rcv_timeout

    @ReceiveTimeout.setter
    def ReceiveTimeout(self, value: int | datetime.timedelta) -> None:
        ms = as_timeout_property(value)
        self._throw_if_disposed()
        self._rcv_timeout = 0 if ms == -1 else ms

    @property
    def SendTimeout(self) -> int:
        """Milliseconds a synchronous send waits; 0 (or -1 when set) is infinite (settable as a ``timedelta``)."""
        self._throw_if_disposed()
        return self._snd_timeout

    @SendTimeout.setter
    def SendTimeout(self, value: int | datetime.timedelta) -> None:
        ms = as_timeout_property(value)
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

    def SetSocketOption(
        self,
        option_level: SocketOptionLevel,
        option_name: SocketOptionName,
        option_value: int | bool | BytesLike | LingerOption | MulticastOption | IPv6MulticastOption,
    ) -> None:
        """``SetSocketOption(option_level, option_name, option_value)``: .NET's four overloads in one.

        ``option_value`` is an int, a bool, bytes (the raw option), a ``LingerOption`` (for
        ``Linger``), or a ``MulticastOption``/``IPv6MulticastOption`` (for ``AddMembership`` and
        ``DropMembership``).

        Raises ``ObjectDisposedException`` (closed), ``ArgumentNullException`` (``optionValue`` is
        None), ``ArgumentOutOfRangeException`` (an int outside .NET's ``int``), ``ArgumentException``
        (a multicast option with another name or level), and ``SocketException``: ``ProtocolOption``
        for a level or name the system does not know, or what the system refused.
        """
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
                raise self._handle_error(exc) from None
        value = self._opt(plevel, pname)
        if level == SocketOptionLevel.Socket and name == SocketOptionName.ExclusiveAddressUse:
            return 0 if value else 1
        return value

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    available = Available
    enable_broadcast = EnableBroadcast
    dont_fragment = DontFragment
    dual_mode = DualMode
    ttl = Ttl
    exclusive_address_use = ExclusiveAddressUse
    no_delay = NoDelay
    linger_state = LingerState
    receive_buffer_size = ReceiveBufferSize
    send_buffer_size = SendBufferSize
    receive_timeout = ReceiveTimeout
    send_timeout = SendTimeout
    multicast_loopback = MulticastLoopback
    inline_completions = InlineCompletions
    set_socket_option = SetSocketOption
    get_socket_option = GetSocketOption
    # -- end of PEP 8 spellings --
