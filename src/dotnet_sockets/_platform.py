"""Translation between .NET's enum values and Linux's (the ``socket`` module's).

.NET numbers address families, option names and flags the Windows way
(``InterNetworkV6`` is 23, ``SocketOptionLevel.Socket`` is 0xFFFF); Linux
does not.  This module mirrors what .NET's Unix layer (``pal_networking.c``)
does with them, including what it refuses.
"""

from __future__ import annotations

import socket as _s
from typing import Final

from .enums import AddressFamily, ProtocolType, SocketError, SocketOptionLevel, SocketOptionName, SocketType
from .exceptions import SocketException

__all__ = [
    "to_platform_family",
    "from_platform_family",
    "to_platform_type",
    "from_platform_type",
    "to_platform_protocol",
    "platform_option",
    "platform_send_flags",
    "platform_receive_flags",
    "from_platform_message_flags",
    "IP_MTU_DISCOVER",
    "IP_PMTUDISC_DONT",
    "IP_PMTUDISC_DO",
]

# <linux/in.h> values the socket module of older Pythons does not export.
IP_PKTINFO: Final[int] = getattr(_s, "IP_PKTINFO", 8)
IP_MTU_DISCOVER: Final[int] = getattr(_s, "IP_MTU_DISCOVER", 10)
IP_PMTUDISC_DONT: Final[int] = getattr(_s, "IP_PMTUDISC_DONT", 0)
IP_PMTUDISC_DO: Final[int] = getattr(_s, "IP_PMTUDISC_DO", 2)
IP_UNBLOCK_SOURCE: Final[int] = getattr(_s, "IP_UNBLOCK_SOURCE", 37)
IP_BLOCK_SOURCE: Final[int] = getattr(_s, "IP_BLOCK_SOURCE", 38)
IP_ADD_SOURCE_MEMBERSHIP: Final[int] = getattr(_s, "IP_ADD_SOURCE_MEMBERSHIP", 39)
IP_DROP_SOURCE_MEMBERSHIP: Final[int] = getattr(_s, "IP_DROP_SOURCE_MEMBERSHIP", 40)

# ---------------------------------------------------------------- families

_AF_TO_PLATFORM: Final[dict[int, int]] = {
    AddressFamily.Unspecified: _s.AF_UNSPEC,
    AddressFamily.Unix: _s.AF_UNIX,
    AddressFamily.InterNetwork: _s.AF_INET,
    AddressFamily.InterNetworkV6: _s.AF_INET6,
}
# .NET on Linux also passes these two through.
if hasattr(_s, "AF_PACKET"):
    _AF_TO_PLATFORM[AddressFamily.Packet] = _s.AF_PACKET
if hasattr(_s, "AF_CAN"):
    _AF_TO_PLATFORM[AddressFamily.ControllerAreaNetwork] = _s.AF_CAN
_AF_FROM_PLATFORM: Final[dict[int, AddressFamily]] = {
    native: AddressFamily(dotnet) for dotnet, native in _AF_TO_PLATFORM.items()
}


def to_platform_family(family: AddressFamily | int) -> int:
    """``AF_*`` for a .NET ``AddressFamily``.

    A family Linux has no socket for raises ``SocketException(AddressFamilyNotSupported)``.
    """
    native = _AF_TO_PLATFORM.get(family)
    if native is None:
        raise SocketException(SocketError.AddressFamilyNotSupported)
    return native


def from_platform_family(family: int) -> AddressFamily:
    """The .NET ``AddressFamily`` for an ``AF_*`` value."""
    dotnet = _AF_FROM_PLATFORM.get(family)
    if dotnet is None:
        raise SocketException(SocketError.AddressFamilyNotSupported)
    return dotnet


# ---------------------------------------------------------------- socket types

_TYPE_TO_PLATFORM: Final[dict[int, int]] = {
    SocketType.Stream: _s.SOCK_STREAM,
    SocketType.Dgram: _s.SOCK_DGRAM,
    SocketType.Raw: _s.SOCK_RAW,
    SocketType.Rdm: _s.SOCK_RDM,
    SocketType.Seqpacket: _s.SOCK_SEQPACKET,
}
_TYPE_FROM_PLATFORM: Final[dict[int, SocketType]] = {
    native: SocketType(dotnet) for dotnet, native in _TYPE_TO_PLATFORM.items()
}


def to_platform_type(socket_type: SocketType | int) -> int:
    """``SOCK_*`` for a .NET ``SocketType``; ``SocketException(ProtocolType)`` for ``Unknown``
    (.NET's native layer answers EPROTOTYPE)."""
    native = _TYPE_TO_PLATFORM.get(socket_type)
    if native is None:
        raise SocketException(SocketError.ProtocolType)
    return native


def from_platform_type(socket_type: int) -> SocketType:
    """The .NET ``SocketType`` for a ``SOCK_*`` value (``Unknown`` if it has none)."""
    # Linux may report SOCK_NONBLOCK/SOCK_CLOEXEC bits in socket.type.
    return _TYPE_FROM_PLATFORM.get(socket_type & 0xF, SocketType.Unknown)


# ---------------------------------------------------------------- protocols

# ProtocolType values are IANA protocol numbers, as IPPROTO_* are on Linux;
# only the Novell ones have no Linux counterpart.
_UNSUPPORTED_PROTOCOLS: Final = frozenset({ProtocolType.Ipx, ProtocolType.Spx, ProtocolType.SpxII})


def to_platform_protocol(
    protocol_type: ProtocolType | int, address_family: AddressFamily | int | None = None
) -> int:
    """``IPPROTO_*`` for a .NET ``ProtocolType``.

    ``Unknown`` (-1) and ``Unspecified``/``IP`` (0) give 0, the kernel's
    default for the socket type.  ``Icmp`` on an IPv6 socket means ICMPv6, as
    in .NET.  Protocols Linux cannot have raise ``SocketException(ProtocolNotSupported)``.
    """
    value = int(protocol_type)
    if value <= 0:
        return 0
    if value in _UNSUPPORTED_PROTOCOLS or value > 255:
        raise SocketException(SocketError.ProtocolNotSupported)
    if value == ProtocolType.Icmp and address_family == AddressFamily.InterNetworkV6:
        return _s.IPPROTO_ICMPV6
    return value


# ---------------------------------------------------------------- options

_L = SocketOptionLevel
_N = SocketOptionName


def _option_table() -> dict[tuple[int, int], tuple[int, int]]:
    table: dict[tuple[int, int], tuple[int, int]] = {}

    def add(level: SocketOptionLevel, names: dict[SocketOptionName | int, int | None], native: int) -> None:
        for name, opt in names.items():
            if opt is not None:
                table[(int(level), int(name))] = (native, opt)

    def so(name: str) -> int | None:
        value: int | None = getattr(_s, name, None)
        return value

    add(
        _L.Socket,
        {
            _N.Debug: so("SO_DEBUG"),
            _N.AcceptConnection: so("SO_ACCEPTCONN"),
            _N.ReuseAddress: so("SO_REUSEADDR"),
            _N.KeepAlive: so("SO_KEEPALIVE"),
            _N.DontRoute: so("SO_DONTROUTE"),
            _N.Broadcast: so("SO_BROADCAST"),
            _N.Linger: so("SO_LINGER"),
            _N.OutOfBandInline: so("SO_OOBINLINE"),
            _N.SendBuffer: so("SO_SNDBUF"),
            _N.ReceiveBuffer: so("SO_RCVBUF"),
            _N.SendLowWater: so("SO_SNDLOWAT"),
            _N.ReceiveLowWater: so("SO_RCVLOWAT"),
            _N.SendTimeout: so("SO_SNDTIMEO"),
            _N.ReceiveTimeout: so("SO_RCVTIMEO"),
            _N.Error: so("SO_ERROR"),
            _N.Type: so("SO_TYPE"),
        },
        _s.SOL_SOCKET,
    )
    add(
        _L.IP,
        {
            _N.IPOptions: so("IP_OPTIONS"),
            _N.HeaderIncluded: so("IP_HDRINCL"),
            _N.TypeOfService: so("IP_TOS"),
            _N.IpTimeToLive: so("IP_TTL"),
            _N.MulticastInterface: so("IP_MULTICAST_IF"),
            _N.MulticastTimeToLive: so("IP_MULTICAST_TTL"),
            _N.MulticastLoopback: so("IP_MULTICAST_LOOP"),
            _N.AddMembership: so("IP_ADD_MEMBERSHIP"),
            _N.DropMembership: so("IP_DROP_MEMBERSHIP"),
            # The value needs translating too: 1 <-> IP_PMTUDISC_DO, 0 <-> IP_PMTUDISC_DONT.
            _N.DontFragment: IP_MTU_DISCOVER,
            _N.AddSourceMembership: IP_ADD_SOURCE_MEMBERSHIP,
            _N.DropSourceMembership: IP_DROP_SOURCE_MEMBERSHIP,
            _N.BlockSource: IP_BLOCK_SOURCE,
            _N.UnblockSource: IP_UNBLOCK_SOURCE,
            _N.PacketInformation: IP_PKTINFO,
        },
        _s.IPPROTO_IP,
    )
    add(
        _L.IPv6,
        {
            _N.HopLimit: so("IPV6_HOPLIMIT"),
            _N.IPv6Only: so("IPV6_V6ONLY"),
            _N.PacketInformation: so("IPV6_RECVPKTINFO"),
            _N.MulticastInterface: so("IPV6_MULTICAST_IF"),
            _N.MulticastLoopback: so("IPV6_MULTICAST_LOOP"),
            _N.MulticastTimeToLive: so("IPV6_MULTICAST_HOPS"),
            _N.IpTimeToLive: so("IPV6_UNICAST_HOPS"),
            # Not in .NET's generic table (it joins IPv6 groups through a
            # dedicated call), but these are the options that call uses.
            _N.AddMembership: so("IPV6_JOIN_GROUP"),
            _N.DropMembership: so("IPV6_LEAVE_GROUP"),
        },
        _s.IPPROTO_IPV6,
    )
    add(
        _L.Tcp,
        {
            _N.NoDelay: so("TCP_NODELAY"),
            _N.TcpKeepAliveRetryCount: so("TCP_KEEPCNT"),
            _N.TcpKeepAliveTime: so("TCP_KEEPIDLE"),
            _N.TcpKeepAliveInterval: so("TCP_KEEPINTVL"),
            # SocketOptionName.FastOpen (.NET 9), which shares 15 with AddSourceMembership.
            15: so("TCP_FASTOPEN"),
        },
        _s.IPPROTO_TCP,
    )
    # SocketOptionLevel.Udp: .NET on Unix supports none of its options.
    return table


_OPTIONS: Final = _option_table()


def platform_option(level: SocketOptionLevel | int, name: SocketOptionName | int) -> tuple[int, int]:
    """``(level, optname)`` for ``setsockopt``/``getsockopt``.

    Not covered, because they are not one Linux option (the caller handles
    them, as .NET's native layer does): ``ExclusiveAddressUse`` (the inverse of
    ``ReuseAddress``; .NET sets SO_REUSEADDR and SO_REUSEPORT for both) and
    ``DontLinger``.  ``IP``/``DontFragment`` maps to ``IP_MTU_DISCOVER``, whose
    values are ``IP_PMTUDISC_DO``/``IP_PMTUDISC_DONT``, not 1/0.
    An option Linux does not have raises ``SocketException(ProtocolOption)``.
    """
    found = _OPTIONS.get((level, name))
    if found is None:
        raise SocketException(SocketError.ProtocolOption)
    return found


# ---------------------------------------------------------------- flags

# The SocketFlags bits current .NET passes to the kernel on Linux, and their MSG_* values.
_FLAG_BITS: Final[tuple[tuple[int, int], ...]] = (
    (0x1, _s.MSG_OOB),  # OutOfBand
    (0x2, _s.MSG_PEEK),  # Peek
    (0x4, _s.MSG_DONTROUTE),  # DontRoute
    (0x100, _s.MSG_TRUNC),  # Truncated
    (0x200, _s.MSG_CTRUNC),  # ControlDataTruncated
)
_SUPPORTED_MASK: Final = 0x1 | 0x2 | 0x4 | 0x100 | 0x200

# Every combination seen so far; -1 marks a refused one (a new exception is
# raised each time, never a shared instance).
_flag_cache: dict[int, int] = {}


def _convert_flags(flags: int) -> int:
    native = _flag_cache.get(flags)
    if native is None:
        value = int(flags)
        if value & ~_SUPPORTED_MASK:
            native = -1
        else:
            native = 0
            for bit, msg in _FLAG_BITS:
                if value & bit:
                    native |= msg
        if len(_flag_cache) < 4096:  # arbitrary ints must not grow it without bound
            _flag_cache[flags] = native
    if native < 0:
        raise SocketException(SocketError.OperationNotSupported)
    return native


def platform_send_flags(flags: int) -> int:
    """``MSG_*`` flags for a send's ``SocketFlags``.

    ``MaxIOVectorLength``, ``Broadcast``, ``Multicast``, ``Partial`` and bits
    .NET does not define raise ``SocketException(OperationNotSupported)``, as
    .NET on Linux refuses them before the system call.
    """
    if not flags:
        return 0
    return _convert_flags(flags)


def platform_receive_flags(flags: int) -> int:
    """``MSG_*`` flags for a receive's ``SocketFlags``; refuses what ``platform_send_flags`` refuses."""
    if not flags:
        return 0
    return _convert_flags(flags)


_MESSAGE_FLAGS: dict[int, int] = {}


def from_platform_message_flags(native: int) -> int:
    """The ``SocketFlags`` bits of the ``msg_flags`` a ``recvmsg`` reported (``Truncated``, ...)."""
    value = _MESSAGE_FLAGS.get(native)
    if value is None:
        value = 0
        for bit, msg in _FLAG_BITS:
            if native & int(msg):
                value |= bit
        if len(_MESSAGE_FLAGS) < 256:  # the kernel reports a handful of combinations
            _MESSAGE_FLAGS[native] = value
    return value
