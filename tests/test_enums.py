"""Enum values are .NET's, and _platform translates them the way .NET on Linux does."""

from __future__ import annotations

import enum
import socket

import pytest

from dotnet_sockets import _platform
from dotnet_sockets.enums import (
    AddressFamily,
    ProtocolType,
    SelectMode,
    SocketAsyncOperation,
    SocketError,
    SocketFlags,
    SocketOptionLevel,
    SocketOptionName,
    SocketShutdown,
    SocketType,
)
from dotnet_sockets.exceptions import SocketException

# dotnet/runtime SocketError.cs (dotnet-behaviour.md 6.1)
SOCKET_ERROR_VALUES = {
    "Success": 0,
    "SocketError": -1,
    "Interrupted": 10004,
    "AccessDenied": 10013,
    "Fault": 10014,
    "InvalidArgument": 10022,
    "TooManyOpenSockets": 10024,
    "WouldBlock": 10035,
    "InProgress": 10036,
    "AlreadyInProgress": 10037,
    "NotSocket": 10038,
    "DestinationAddressRequired": 10039,
    "MessageSize": 10040,
    "ProtocolType": 10041,
    "ProtocolOption": 10042,
    "ProtocolNotSupported": 10043,
    "SocketNotSupported": 10044,
    "OperationNotSupported": 10045,
    "ProtocolFamilyNotSupported": 10046,
    "AddressFamilyNotSupported": 10047,
    "AddressAlreadyInUse": 10048,
    "AddressNotAvailable": 10049,
    "NetworkDown": 10050,
    "NetworkUnreachable": 10051,
    "NetworkReset": 10052,
    "ConnectionAborted": 10053,
    "ConnectionReset": 10054,
    "NoBufferSpaceAvailable": 10055,
    "IsConnected": 10056,
    "NotConnected": 10057,
    "Shutdown": 10058,
    "TimedOut": 10060,
    "ConnectionRefused": 10061,
    "HostDown": 10064,
    "HostUnreachable": 10065,
    "ProcessLimit": 10067,
    "SystemNotReady": 10091,
    "VersionNotSupported": 10092,
    "NotInitialized": 10093,
    "Disconnecting": 10101,
    "TypeNotFound": 10109,
    "HostNotFound": 11001,
    "TryAgain": 11002,
    "NoRecovery": 11003,
    "NoData": 11004,
    "IOPending": 997,
    "OperationAborted": 995,
}


def members(cls: type[enum.Enum]) -> dict[str, int]:
    """Every name, aliases included, with its value."""
    return {name: int(m.value) for name, m in cls.__members__.items()}


def test_socket_error_has_exactly_the_dotnet_members() -> None:
    assert members(SocketError) == SOCKET_ERROR_VALUES
    assert issubclass(SocketError, enum.IntEnum)


@pytest.mark.parametrize(("name", "value"), sorted(SOCKET_ERROR_VALUES.items()))
def test_socket_error_value(name: str, value: int) -> None:
    assert getattr(SocketError, name) == value
    assert SocketError(value) is getattr(SocketError, name)


def test_socket_error_accepts_any_int_like_a_csharp_cast() -> None:
    odd = SocketError(12345)
    assert isinstance(odd, SocketError)
    assert odd == 12345
    assert SocketError(12345) == odd
    with pytest.raises(ValueError):
        SocketError("AccessDenied")  # type: ignore[arg-type]


def test_address_family() -> None:
    expected = {
        "Unknown": -1, "Unspecified": 0, "Unix": 1, "InterNetwork": 2, "ImpLink": 3, "Pup": 4,
        "Chaos": 5, "NS": 6, "Ipx": 6, "Iso": 7, "Osi": 7, "Ecma": 8, "DataKit": 9, "Ccitt": 10,
        "Sna": 11, "DecNet": 12, "DataLink": 13, "Lat": 14, "HyperChannel": 15, "AppleTalk": 16,
        "NetBios": 17, "VoiceView": 18, "FireFox": 19, "Banyan": 21, "Atm": 22,
        "InterNetworkV6": 23, "Cluster": 24, "Ieee12844": 25, "Irda": 26, "NetworkDesigners": 28,
        "Max": 29, "Packet": 65536, "ControllerAreaNetwork": 65537,
    }  # fmt: skip
    assert members(AddressFamily) == expected
    assert AddressFamily.Ipx == AddressFamily.NS
    assert AddressFamily.Osi is AddressFamily.Iso


def test_socket_type() -> None:
    assert members(SocketType) == {
        "Unknown": -1, "Stream": 1, "Dgram": 2, "Raw": 3, "Rdm": 4, "Seqpacket": 5,
    }  # fmt: skip


def test_protocol_type() -> None:
    assert members(ProtocolType) == {
        "Unknown": -1, "IP": 0, "IPv6HopByHopOptions": 0, "Unspecified": 0, "Icmp": 1, "Igmp": 2,
        "Ggp": 3, "IPv4": 4, "Tcp": 6, "Pup": 12, "Udp": 17, "Idp": 22, "IPv6": 41,
        "IPv6RoutingHeader": 43, "IPv6FragmentHeader": 44, "IPSecEncapsulatingSecurityPayload": 50,
        "IPSecAuthenticationHeader": 51, "IcmpV6": 58, "IPv6NoNextHeader": 59,
        "IPv6DestinationOptions": 60, "ND": 77, "Raw": 255, "Ipx": 1000, "Spx": 1256, "SpxII": 1257,
    }  # fmt: skip
    assert ProtocolType.Unspecified is ProtocolType.IP


def test_socket_flags_is_an_int_flag_with_none_underscore() -> None:
    assert members(SocketFlags) == {
        "None_": 0, "OutOfBand": 1, "Peek": 2, "DontRoute": 4, "MaxIOVectorLength": 0x10,
        "Truncated": 0x100, "ControlDataTruncated": 0x200, "Broadcast": 0x400, "Multicast": 0x800,
        "Partial": 0x8000,
    }  # fmt: skip
    assert issubclass(SocketFlags, enum.IntFlag)
    assert SocketFlags(0) is SocketFlags.None_
    assert SocketFlags.Peek | SocketFlags.DontRoute == 6
    assert SocketFlags(0x20) == 0x20  # undefined bits survive, as in a C# cast


def test_option_level_and_names() -> None:
    assert members(SocketOptionLevel) == {"IP": 0, "Tcp": 6, "Udp": 17, "IPv6": 41, "Socket": 65535}
    assert members(SocketOptionName) == {
        "DontLinger": -129, "ExclusiveAddressUse": -5, "Debug": 1, "IPOptions": 1,
        "NoChecksum": 1, "NoDelay": 1, "AcceptConnection": 2, "BsdUrgent": 2, "Expedited": 2,
        "HeaderIncluded": 2, "TcpKeepAliveTime": 3, "TypeOfService": 3, "IpTimeToLive": 4,
        "ReuseAddress": 4, "KeepAlive": 8, "MulticastInterface": 9, "MulticastTimeToLive": 10,
        "MulticastLoopback": 11, "AddMembership": 12, "DropMembership": 13, "DontFragment": 14,
        "AddSourceMembership": 15, "DontRoute": 16, "DropSourceMembership": 16,
        "TcpKeepAliveRetryCount": 16, "BlockSource": 17, "TcpKeepAliveInterval": 17,
        "UnblockSource": 18, "PacketInformation": 19, "ChecksumCoverage": 20, "HopLimit": 21,
        "IPProtectionLevel": 23, "IPv6Only": 27, "Broadcast": 32, "UseLoopback": 64, "Linger": 128,
        "OutOfBandInline": 256, "SendBuffer": 4097, "ReceiveBuffer": 4098, "SendLowWater": 4099,
        "ReceiveLowWater": 4100, "SendTimeout": 4101, "ReceiveTimeout": 4102, "Error": 4103,
        "Type": 4104, "ReuseUnicastPort": 12295, "UpdateAcceptContext": 28683,
        "UpdateConnectContext": 28688, "MaxConnections": 2147483647,
        "FastOpen": 15,  # .NET 9
    }  # fmt: skip


def test_small_enums() -> None:
    assert members(SocketShutdown) == {"Receive": 0, "Send": 1, "Both": 2}
    assert members(SelectMode) == {"SelectRead": 0, "SelectWrite": 1, "SelectError": 2}
    assert members(SocketAsyncOperation) == {
        "None_": 0, "Accept": 1, "Connect": 2, "Disconnect": 3, "Receive": 4, "ReceiveFrom": 5,
        "ReceiveMessageFrom": 6, "Send": 7, "SendPackets": 8, "SendTo": 9,
    }  # fmt: skip


# ---------------------------------------------------------------- _platform


@pytest.mark.parametrize(
    ("dotnet", "native"),
    [
        (AddressFamily.InterNetwork, socket.AF_INET),
        (AddressFamily.InterNetworkV6, socket.AF_INET6),
        (AddressFamily.Unix, socket.AF_UNIX),
        (AddressFamily.Unspecified, socket.AF_UNSPEC),
    ],
)
def test_family_round_trip(dotnet: AddressFamily, native: int) -> None:
    assert _platform.to_platform_family(dotnet) == native
    assert _platform.to_platform_family(int(dotnet)) == native
    assert _platform.from_platform_family(native) is dotnet


def test_inet6_numbers_differ_between_dotnet_and_linux() -> None:
    assert _platform.to_platform_family(AddressFamily.InterNetworkV6) == 10
    assert _platform.from_platform_family(10) == 23


@pytest.mark.parametrize("family", [AddressFamily.AppleTalk, AddressFamily.Irda, AddressFamily.Unknown, 99])
def test_family_without_linux_counterpart(family: int) -> None:
    with pytest.raises(SocketException) as info:
        _platform.to_platform_family(family)
    assert info.value.SocketErrorCode is SocketError.AddressFamilyNotSupported


def test_unknown_platform_family() -> None:
    with pytest.raises(SocketException) as info:
        _platform.from_platform_family(12345)
    assert info.value.SocketErrorCode is SocketError.AddressFamilyNotSupported


def test_socket_types() -> None:
    assert _platform.to_platform_type(SocketType.Stream) == socket.SOCK_STREAM
    assert _platform.to_platform_type(SocketType.Dgram) == socket.SOCK_DGRAM
    assert _platform.to_platform_type(SocketType.Raw) == socket.SOCK_RAW
    assert _platform.to_platform_type(SocketType.Seqpacket) == socket.SOCK_SEQPACKET
    assert _platform.from_platform_type(socket.SOCK_DGRAM) is SocketType.Dgram
    assert _platform.from_platform_type(socket.SOCK_STREAM | socket.SOCK_CLOEXEC) is SocketType.Stream
    with pytest.raises(SocketException) as info:
        _platform.to_platform_type(SocketType.Unknown)
    assert info.value.SocketErrorCode is SocketError.ProtocolType


def test_protocols() -> None:
    assert _platform.to_platform_protocol(ProtocolType.Tcp) == socket.IPPROTO_TCP
    assert _platform.to_platform_protocol(ProtocolType.Udp) == socket.IPPROTO_UDP
    assert _platform.to_platform_protocol(ProtocolType.Unspecified) == 0
    assert _platform.to_platform_protocol(ProtocolType.Unknown) == 0
    assert _platform.to_platform_protocol(ProtocolType.IcmpV6) == socket.IPPROTO_ICMPV6
    assert _platform.to_platform_protocol(ProtocolType.Icmp) == socket.IPPROTO_ICMP
    assert (
        _platform.to_platform_protocol(ProtocolType.Icmp, AddressFamily.InterNetworkV6)
        == socket.IPPROTO_ICMPV6
    )
    with pytest.raises(SocketException) as info:
        _platform.to_platform_protocol(ProtocolType.Spx)
    assert info.value.SocketErrorCode is SocketError.ProtocolNotSupported


@pytest.mark.parametrize("made_before", [False, True])
def test_an_icmp_socket_of_ipv6_is_icmpv6(made_before: bool) -> None:
    """``Socket(InterNetworkV6, Raw, Icmp)`` opens an ICMPv6 socket, as .NET's native layer maps
    ``Icmp`` on ``AF_INET6`` (``pal_networking.c``; .NET Core 3.1 here: ``socket(AF_INET6, SOCK_RAW,
    IPPROTO_ICMPV6)`` and no ``IPV6_V6ONLY``, which Linux refuses on a raw socket), and its
    ``ProtocolType`` stays ``Icmp``; the second construction takes the constructor's cached numbers."""
    from dotnet_sockets import Socket, SocketOptionLevel, SocketOptionName, SocketType

    def make() -> Socket:
        try:
            return Socket(AddressFamily.InterNetworkV6, SocketType.Raw, ProtocolType.Icmp)
        except SocketException as exc:
            if exc.SocketErrorCode in (SocketError.AccessDenied, SocketError.AddressFamilyNotSupported):
                pytest.skip(f"no raw IPv6 socket here: {exc.SocketErrorCode}")
            raise

    if made_before:
        make().Close()
    s = make()
    try:
        assert s.ProtocolType is ProtocolType.Icmp
        # Left as the kernel made it, as .NET Core 3.1 does (it reports DualMode True here).
        assert s.DualMode == (s.GetSocketOption(SocketOptionLevel.IPv6, SocketOptionName.IPv6Only) == 0)
        assert s.Handle is not None
        raw = socket.socket(fileno=int(s.Handle))
        try:
            assert raw.getsockopt(socket.SOL_SOCKET, socket.SO_PROTOCOL) == socket.IPPROTO_ICMPV6
        finally:
            raw.detach()
    finally:
        s.Close()


@pytest.mark.parametrize(
    ("level", "name", "expected"),
    [
        (SocketOptionLevel.Socket, SocketOptionName.Broadcast, (socket.SOL_SOCKET, socket.SO_BROADCAST)),
        (SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, (socket.SOL_SOCKET, socket.SO_REUSEADDR)),
        (SocketOptionLevel.Socket, SocketOptionName.ReceiveBuffer, (socket.SOL_SOCKET, socket.SO_RCVBUF)),
        (SocketOptionLevel.Socket, SocketOptionName.SendBuffer, (socket.SOL_SOCKET, socket.SO_SNDBUF)),
        (SocketOptionLevel.Socket, SocketOptionName.DontRoute, (socket.SOL_SOCKET, socket.SO_DONTROUTE)),
        (SocketOptionLevel.Socket, SocketOptionName.Linger, (socket.SOL_SOCKET, socket.SO_LINGER)),
        (SocketOptionLevel.Socket, SocketOptionName.Type, (socket.SOL_SOCKET, socket.SO_TYPE)),
        (SocketOptionLevel.Socket, SocketOptionName.Error, (socket.SOL_SOCKET, socket.SO_ERROR)),
        (SocketOptionLevel.IP, SocketOptionName.IpTimeToLive, (socket.IPPROTO_IP, socket.IP_TTL)),
        (SocketOptionLevel.IP, SocketOptionName.DontFragment, (socket.IPPROTO_IP, 10)),  # IP_MTU_DISCOVER
        (SocketOptionLevel.IP, SocketOptionName.PacketInformation, (socket.IPPROTO_IP, 8)),  # IP_PKTINFO
        (SocketOptionLevel.IP, SocketOptionName.AddMembership, (socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP)),
        (
            SocketOptionLevel.IP,
            SocketOptionName.MulticastLoopback,
            (socket.IPPROTO_IP, socket.IP_MULTICAST_LOOP),
        ),
        (SocketOptionLevel.IPv6, SocketOptionName.IPv6Only, (socket.IPPROTO_IPV6, socket.IPV6_V6ONLY)),
        (
            SocketOptionLevel.IPv6,
            SocketOptionName.IpTimeToLive,
            (socket.IPPROTO_IPV6, socket.IPV6_UNICAST_HOPS),
        ),
        (SocketOptionLevel.Tcp, SocketOptionName.NoDelay, (socket.IPPROTO_TCP, socket.TCP_NODELAY)),
        (SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, (socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)),
    ],
)
def test_platform_option(level: SocketOptionLevel, name: SocketOptionName, expected: tuple[int, int]) -> None:
    assert _platform.platform_option(level, name) == expected
    assert _platform.platform_option(int(level), int(name)) == expected


def test_platform_options_really_work_on_a_socket() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        level, name = _platform.platform_option(SocketOptionLevel.Socket, SocketOptionName.Broadcast)
        s.setsockopt(level, name, 1)
        assert s.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
        level, name = _platform.platform_option(SocketOptionLevel.IP, SocketOptionName.DontFragment)
        s.setsockopt(level, name, _platform.IP_PMTUDISC_DO)
        assert s.getsockopt(level, name) == _platform.IP_PMTUDISC_DO


@pytest.mark.parametrize(
    ("level", "name"),
    [
        (SocketOptionLevel.Socket, SocketOptionName.UseLoopback),
        (SocketOptionLevel.Socket, SocketOptionName.ExclusiveAddressUse),
        (SocketOptionLevel.Socket, SocketOptionName.MaxConnections),
        (SocketOptionLevel.Udp, SocketOptionName.NoChecksum),
        (SocketOptionLevel.Tcp, SocketOptionName.BsdUrgent),
        (12345, SocketOptionName.Debug),
    ],
)
def test_unknown_option_is_protocol_option(level: int, name: int) -> None:
    with pytest.raises(SocketException) as info:
        _platform.platform_option(level, name)
    assert info.value.SocketErrorCode is SocketError.ProtocolOption


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        (SocketFlags.None_, 0),
        (0, 0),
        (SocketFlags.OutOfBand, socket.MSG_OOB),
        (SocketFlags.Peek, socket.MSG_PEEK),
        (SocketFlags.DontRoute, socket.MSG_DONTROUTE),
        (SocketFlags.Truncated, socket.MSG_TRUNC),
        (SocketFlags.ControlDataTruncated, socket.MSG_CTRUNC),
        (SocketFlags.DontRoute | SocketFlags.Peek, socket.MSG_DONTROUTE | socket.MSG_PEEK),
        (int(SocketFlags.DontRoute), socket.MSG_DONTROUTE),
    ],
)
def test_flags_passed_through(flags: int, expected: int) -> None:
    assert _platform.platform_send_flags(flags) == expected
    assert _platform.platform_send_flags(flags) == expected  # second call: from the cache
    assert _platform.platform_receive_flags(flags) == expected


def test_linux_msg_values_differ_from_dotnet_for_truncated() -> None:
    # 0x100 in .NET is MSG_TRUNC (0x20) on Linux: a pass-through of the raw number would be wrong.
    assert _platform.platform_send_flags(0x100) == 0x20
    assert _platform.platform_send_flags(0x200) == 0x8


@pytest.mark.parametrize(
    "flags",
    [
        SocketFlags.MaxIOVectorLength,
        SocketFlags.Broadcast,
        SocketFlags.Multicast,
        SocketFlags.Partial,
        SocketFlags.Partial | SocketFlags.DontRoute,
        0x20,
        0x40,
        0x10000,
    ],
)
def test_flags_rejected_as_operation_not_supported(flags: int) -> None:
    for convert in (_platform.platform_send_flags, _platform.platform_receive_flags):
        for _ in range(2):  # the refusal is cached, the exception must still be raised each time
            with pytest.raises(SocketException) as info:
                convert(flags)
            assert info.value.SocketErrorCode is SocketError.OperationNotSupported
            assert info.value.ErrorCode == 10045
            assert info.value.NativeErrorCode == 95


def test_each_rejection_is_a_fresh_exception() -> None:
    with pytest.raises(SocketException) as first:
        _platform.platform_send_flags(SocketFlags.Partial)
    with pytest.raises(SocketException) as second:
        _platform.platform_send_flags(SocketFlags.Partial)
    assert first.value is not second.value
