"""``IOControl``, raw socket options, the handle, what the OS supports, and the Windows-only members.

``IOControl`` takes Windows Sockets control codes.  .NET on Linux gives three
of them a meaning: ``DataToRead`` (FIONREAD) and ``OobDataRead`` (SIOCATMARK)
work, ``NonBlockingIO`` (FIONBIO) raises ``InvalidOperationException``
because ``Blocking`` is the one way to change blocking mode, and every other
code raises ``PlatformNotSupportedException``; this does the same.
"""

from __future__ import annotations

import fcntl
import socket as _socket
import sys
import termios
from typing import Any, ClassVar, overload

from ._checks import as_buffer, as_int, as_int32, as_writable_buffer
from ._names import dotnet_names
from ._socket_core import SocketCore, _SocketOpError
from .addresses import IPEndPoint, from_sockaddr
from .enums import AddressFamily, IOControlCode, IPProtectionLevel, SocketError
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    InvalidOperationException,
    NotSupportedException,
    PlatformNotSupportedException,
    SocketException,
)
from .handles import SafeSocketHandle, SocketInformation
from .security import audit as _audit_op

__all__ = ["SocketControl", "os_supports", "DUPLICATE_NOT_SUPPORTED"]

DUPLICATE_NOT_SUPPORTED = "This platform does not support Socket.DuplicateAndClose.  Instead, create a new socket."

_FIONBIO = IOControlCode.NonBlockingIO - (1 << 32)  # the int .NET compares, as unchecked((int)code)
_FIONREAD = int(IOControlCode.DataToRead)
_SIOCATMARK = int(IOControlCode.OobDataRead)
_LINUX_SIOCATMARK = 0x8905  # <linux/sockios.h>


def os_supports(family: int) -> bool:
    """Whether a socket of ``family`` can be made here (what .NET's ``OSSupports...`` probe)."""
    try:
        _socket.socket(family, _socket.SOCK_DGRAM if family != _socket.AF_UNIX else _socket.SOCK_STREAM).close()
    except OSError:
        return False
    return True


def _as_int32(code: Any) -> int:
    """.NET's ``int`` control code: an ``IOControlCode`` above ``int.MaxValue`` wraps, as ``unchecked((int)code)``."""
    value = as_int(code, "ioControlCode")
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value >= 1 << 31 else value


@dotnet_names
class SocketControl(SocketCore):
    """``IOControl``, ``GetRawSocketOption``/``SetRawSocketOption``, ``SafeHandle``, ``OSSupports...``."""

    __slots__ = ()

    OSSupportsIPv4: ClassVar[bool] = os_supports(_socket.AF_INET)
    """Whether the system has IPv4 sockets (static in .NET)."""
    OSSupportsIPv6: ClassVar[bool] = os_supports(_socket.AF_INET6)
    """Whether the system has IPv6 sockets (static in .NET)."""
    OSSupportsUnixDomainSockets: ClassVar[bool] = os_supports(_socket.AF_UNIX)
    """Whether the system has Unix domain sockets (static in .NET)."""
    # Obsolete in .NET, kept for old code: the same answers.
    SupportsIPv4: ClassVar[bool] = OSSupportsIPv4
    SupportsIPv6: ClassVar[bool] = OSSupportsIPv6

    @property
    def UseOnlyOverlappedIO(self) -> bool:
        """Obsolete in .NET and without effect: always False."""
        return False

    @UseOnlyOverlappedIO.setter
    def UseOnlyOverlappedIO(self, value: bool) -> None:
        pass

    def _adopt_state(self, blocking: bool) -> None:
        """What ``Socket(SafeSocketHandle)`` reads from an adopted descriptor, as .NET does."""
        sock = self._sock
        self._blocking = blocking
        if self._pf == _socket.AF_INET6:
            try:
                self._dual = sock.getsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY) == 0
            except OSError:
                pass
        try:
            self._listening = bool(sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ACCEPTCONN))
        except OSError:
            pass
        try:
            local = from_sockaddr(self._pf, sock.getsockname())
        except (OSError, SocketException, ValueError):
            local = None
        if local is not None and not (isinstance(local, IPEndPoint) and local.Port == 0) and str(local) != "":
            self._right_ep = local
        try:
            peer = sock.getpeername()
        except OSError:
            return
        self._remote_ep = from_sockaddr(self._pf, peer)
        self._connected = True
        if self._right_ep is None:
            self._right_ep = local

    @property
    def SafeHandle(self) -> SafeSocketHandle:
        """The descriptor as a ``SafeSocketHandle`` that does not own it (closing that leaves the socket open)."""
        self._throw_if_disposed()
        return SafeSocketHandle(self._sock.fileno(), False)

    @overload
    def IOControl(self, io_control_code: IOControlCode, option_in_value: Any, option_out_value: Any) -> int: ...
    @overload
    def IOControl(self, io_control_code: int, option_in_value: Any, option_out_value: Any) -> int: ...

    def IOControl(self, io_control_code: Any, option_in_value: Any, option_out_value: Any) -> int:
        """Run a Windows Sockets control code; returns the bytes written to ``option_out_value``.

        ``DataToRead`` writes the bytes waiting to be read and ``OobDataRead`` whether the
        stream is at the urgent mark (a 4-byte little-endian int; an ``option_out_value``
        shorter than 4 bytes raises ``SocketException`` ``Fault``).  ``NonBlockingIO``
        raises ``InvalidOperationException`` (use ``Blocking``); any other code raises
        ``PlatformNotSupportedException``, as .NET on Linux does.
        """
        self._throw_if_disposed()
        code = _as_int32(io_control_code)
        if code == _FIONBIO:
            raise InvalidOperationException("Use the Blocking property to change the status of the Socket.")
        if code not in (_FIONREAD, _SIOCATMARK):
            raise PlatformNotSupportedException(
                "Socket.IOControl handles Windows-specific control codes and is not supported on this platform."
            )
        if option_in_value is not None:
            as_buffer(option_in_value, "optionInValue")
        out = None if option_out_value is None else as_writable_buffer(option_out_value, "optionOutValue")
        if out is None or len(out) < 4:
            raise self._failed(SocketException(SocketError.Fault))
        _audit_op("dotnet_sockets.Socket.IOControl", self, None)
        request = termios.FIONREAD if code == _FIONREAD else _LINUX_SIOCATMARK
        buf = bytearray(4)
        try:
            fcntl.ioctl(self._fd(), request, buf)
        except OSError as exc:
            if self._disposed:  # closed by another thread meanwhile
                raise self._handle_error(exc) from None
            raise self._failed(_SocketOpError(exc)) from None
        value = int.from_bytes(buf, sys.byteorder, signed=True)
        out[:4] = value.to_bytes(4, "little", signed=True)
        return 4

    def _raw_option(self, option_level: Any, option_name: Any, option_value: Any) -> tuple[int, int]:
        self._throw_if_disposed()
        level = as_int32(option_level, "optionLevel")
        name = as_int32(option_name, "optionName")
        if option_value is None:
            raise ArgumentNullException("optionValue")
        return level, name

    def GetRawSocketOption(self, option_level: int, option_name: int, option_value: Any) -> int:
        """``getsockopt`` with the platform's own level and name numbers, into ``option_value``; returns the length."""
        level, name = self._raw_option(option_level, option_name, option_value)
        out = as_writable_buffer(option_value, "optionValue")
        try:
            # The socket module reads at most 1024 bytes of an option; no option is longer.
            data = self._sock.getsockopt(level, name, min(len(out), 1024)) if len(out) else b""
        except OSError as exc:
            raise self._handle_error(exc) from None
        out[: len(data)] = data
        return len(data)

    def SetRawSocketOption(self, option_level: int, option_name: int, option_value: Any) -> None:
        """``setsockopt`` with the platform's own level and name numbers and raw bytes."""
        level, name = self._raw_option(option_level, option_name, option_value)
        data = bytes(as_buffer(option_value, "optionValue"))
        try:
            self._sock.setsockopt(level, name, data)
        except OSError as exc:
            raise self._handle_error(exc) from None

    def SetIPProtectionLevel(self, level: IPProtectionLevel | int) -> None:
        """Windows only: ``PlatformNotSupportedException`` on an IP socket, as .NET on Linux.

        ``Unspecified`` raises ``ArgumentException`` first, and a socket that is not IPv4 or
        IPv6 ``NotSupportedException``, in .NET's order.
        """
        if as_int(level, "level") == IPProtectionLevel.Unspecified:
            raise ArgumentException("The specified value is not valid.", "level")
        if self._af not in (AddressFamily.InterNetwork, AddressFamily.InterNetworkV6):
            raise NotSupportedException("This protocol version is not supported.")
        raise PlatformNotSupportedException("IP protection level cannot be controlled on this platform.")

    def DuplicateAndClose(self, target_process_id: int) -> SocketInformation:
        """Windows only: raises ``PlatformNotSupportedException``, as .NET on Linux (pass the
        descriptor over a Unix domain socket instead)."""
        raise PlatformNotSupportedException(DUPLICATE_NOT_SUPPORTED)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    os_supports_ipv4 = OSSupportsIPv4
    os_supports_ipv6 = OSSupportsIPv6
    os_supports_unix_domain_sockets = OSSupportsUnixDomainSockets
    supports_ipv4 = SupportsIPv4
    supports_ipv6 = SupportsIPv6
    use_only_overlapped_io = UseOnlyOverlappedIO
    safe_handle = SafeHandle
    io_control = IOControl
    get_raw_socket_option = GetRawSocketOption
    set_raw_socket_option = SetRawSocketOption
    set_ip_protection_level = SetIPProtectionLevel
    duplicate_and_close = DuplicateAndClose
    # -- end of PEP 8 spellings --
