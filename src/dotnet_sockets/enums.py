"""The ``System.Net.Sockets`` enumerations, with .NET's names and numeric values.

Members keep their .NET spelling; a member that .NET calls ``None`` is
``None_`` here.  Where .NET gives two names one value (``AddressFamily.Ipx``
and ``NS``), both names exist and compare equal; the first one declared is the
canonical name, as ``Enum.ToString()`` would show it in .NET.  The values are
.NET's, not the Linux ones: ``AddressFamily.InterNetworkV6`` is 23 even though
``socket.AF_INET6`` is 10 (``dotnet_sockets._platform`` translates).
"""

from __future__ import annotations

import enum
from typing import Any, Self

__all__ = [
    "DotNetEnum",
    "DotNetFlags",
    "AddressFamily",
    "SocketType",
    "ProtocolType",
    "SocketFlags",
    "SocketError",
    "SocketOptionLevel",
    "SocketOptionName",
    "SocketShutdown",
    "SelectMode",
    "SocketAsyncOperation",
    "ProtocolFamily",
    "IPProtectionLevel",
    "SocketInformationOptions",
    "TransmitFileOptions",
    "IOControlCode",
    "ConnectAlgorithm",
    "FileAccess",
    "SeekOrigin",
]


class _DotNetFormat:
    """``str()``, ``format()`` and ``ToString()`` as .NET's ``Enum.ToString()`` (see :class:`DotNetEnum`)."""

    __slots__ = ()

    def ToString(self, format: str | None = None) -> str:  # noqa: A002 - .NET's parameter name
        """.NET's ``ToString([format])``: the member name, flags joined by ``", "``, or the number for
        a value with no name.  Raises ``FormatException`` for a format string .NET does not know."""
        return _dotnet_format(self, format or "G")

    def __str__(self) -> str:
        return _dotnet_format(self, "G")

    def __format__(self, spec: str) -> str:
        if spec in _DOTNET_SPECS:
            return _dotnet_format(self, spec or "G")
        return int.__format__(int(self), spec)  # type: ignore[call-overload]

    to_string = ToString


class DotNetEnum(_DotNetFormat, enum.IntEnum):
    """An ``IntEnum`` whose ``str()`` and ``format()`` print what .NET's ``Enum.ToString()`` prints.

    ``str(AddressFamily.InterNetwork)`` is ``"InterNetwork"``; ``int()`` gives the number.
    ``format(value, spec)`` takes .NET's format strings: ``"G"``/``"F"`` (the name), ``"D"``
    (the number), ``"X"`` (eight hex digits); any other spec formats the number as an ``int``.
    """


class DotNetFlags(_DotNetFormat, enum.IntFlag, boundary=enum.KEEP):
    """An ``IntFlag`` that prints as .NET prints a ``[Flags]`` enum: ``"Peek, DontRoute"``, ``"None"``.

    Bits with no name make the whole value print as its number, as in .NET.
    """


_DOTNET_SPECS = frozenset({"", "G", "g", "F", "f", "D", "d", "X", "x"})


def _display_name(cls: type, number: int) -> str | None:
    """What .NET prints for a value that has a name (``None_`` prints ``None``); ``None`` if it has none."""
    shown = _SHOWN_ALIAS.get(cls)
    if shown is not None and number in shown:
        return shown[number]
    member = cls._value2member_map_.get(number)  # type: ignore[attr-defined]
    if member is None or member._name_ is None:
        return None
    name: str = member._name_
    return name[:-1] if name.endswith("_") else name


def _flag_names(value: enum.IntFlag) -> str | None:
    number = int(value)
    cls = type(value)
    if number == 0:
        return _display_name(cls, 0)
    # Canonical members only (an alias's member carries the first name declared).
    named = [(int(m), name) for name, m in cls.__members__.items() if m._name_ == name]
    names: list[str] = []
    rest = number
    # Largest named values first, as .NET matches them; printed lowest first.
    for bits, name in sorted(named, reverse=True):
        if bits and rest & bits == bits:
            names.append(_display_name(cls, bits) or name)
            rest &= ~bits
    if rest:
        return None
    return ", ".join(reversed(names))


def _dotnet_format(value: Any, spec: str) -> str:
    number = int(value)
    if spec in ("D", "d"):
        return str(number)
    if spec in ("X", "x"):
        text = f"{number & 0xFFFFFFFF:08X}"
        return text if spec == "X" else text.lower()
    if spec not in ("G", "g", "F", "f"):
        from .exceptions import FormatException

        raise FormatException('Format string can be only "G", "g", "X", "x", "F", "f", "D" or "d".')
    if isinstance(value, enum.IntFlag):
        text_or_none = _flag_names(value)
    else:
        text_or_none = _display_name(type(value), number)
    return str(number) if text_or_none is None else text_or_none


class AddressFamily(DotNetEnum):
    """The addressing scheme of a socket or an address."""

    Unknown = -1
    Unspecified = 0
    Unix = 1
    InterNetwork = 2
    ImpLink = 3
    Pup = 4
    Chaos = 5
    NS = 6
    Ipx = 6
    Iso = 7
    Osi = 7
    Ecma = 8
    DataKit = 9
    Ccitt = 10
    Sna = 11
    DecNet = 12
    DataLink = 13
    Lat = 14
    HyperChannel = 15
    AppleTalk = 16
    NetBios = 17
    VoiceView = 18
    FireFox = 19
    Banyan = 21
    Atm = 22
    InterNetworkV6 = 23
    Cluster = 24
    Ieee12844 = 25
    Irda = 26
    NetworkDesigners = 28
    Max = 29
    # .NET puts the Unix-only families above 0xFFFF so they never clash with Windows values.
    Packet = 65536
    ControllerAreaNetwork = 65537


class SocketType(DotNetEnum):
    """The kind of socket: stream, datagram, raw, ..."""

    Unknown = -1
    Stream = 1
    Dgram = 2
    Raw = 3
    Rdm = 4
    Seqpacket = 5


class ProtocolType(DotNetEnum):
    """The protocol of a socket; the numbers are the IANA protocol numbers."""

    Unknown = -1
    IP = 0
    IPv6HopByHopOptions = 0
    Unspecified = 0
    Icmp = 1
    Igmp = 2
    Ggp = 3
    IPv4 = 4
    Tcp = 6
    Pup = 12
    Udp = 17
    Idp = 22
    IPv6 = 41
    IPv6RoutingHeader = 43
    IPv6FragmentHeader = 44
    IPSecEncapsulatingSecurityPayload = 50
    IPSecAuthenticationHeader = 51
    IcmpV6 = 58
    IPv6NoNextHeader = 59
    IPv6DestinationOptions = 60
    ND = 77
    Raw = 255
    Ipx = 1000
    Spx = 1256
    SpxII = 1257


class SocketFlags(DotNetFlags):
    """Send and receive behaviours; combine with ``|``.  Plain ints are accepted too.

    On Linux only ``None_``, ``OutOfBand``, ``Peek``, ``DontRoute``, ``Truncated``
    and ``ControlDataTruncated`` reach the kernel; the others make the operation
    fail with ``SocketError.OperationNotSupported``, as in current .NET.
    """

    None_ = 0
    OutOfBand = 0x1
    Peek = 0x2
    DontRoute = 0x4
    MaxIOVectorLength = 0x10
    Truncated = 0x100
    ControlDataTruncated = 0x200
    Broadcast = 0x400
    Multicast = 0x800
    Partial = 0x8000


class SocketError(DotNetEnum):
    """Socket error codes: the Windows Sockets numbers, as .NET defines them.

    ``SocketError(n)`` accepts any int, as a cast does in C#; a number that
    names no member gives an unnamed value that still compares equal to ``n``.
    """

    Success = 0
    SocketError = -1
    Interrupted = 10004
    AccessDenied = 10013
    Fault = 10014
    InvalidArgument = 10022
    TooManyOpenSockets = 10024
    WouldBlock = 10035
    InProgress = 10036
    AlreadyInProgress = 10037
    NotSocket = 10038
    DestinationAddressRequired = 10039
    MessageSize = 10040
    ProtocolType = 10041
    ProtocolOption = 10042
    ProtocolNotSupported = 10043
    SocketNotSupported = 10044
    OperationNotSupported = 10045
    ProtocolFamilyNotSupported = 10046
    AddressFamilyNotSupported = 10047
    AddressAlreadyInUse = 10048
    AddressNotAvailable = 10049
    NetworkDown = 10050
    NetworkUnreachable = 10051
    NetworkReset = 10052
    ConnectionAborted = 10053
    ConnectionReset = 10054
    NoBufferSpaceAvailable = 10055
    IsConnected = 10056
    NotConnected = 10057
    Shutdown = 10058
    TimedOut = 10060
    ConnectionRefused = 10061
    HostDown = 10064
    HostUnreachable = 10065
    ProcessLimit = 10067
    SystemNotReady = 10091
    VersionNotSupported = 10092
    NotInitialized = 10093
    Disconnecting = 10101
    TypeNotFound = 10109
    HostNotFound = 11001
    TryAgain = 11002
    NoRecovery = 11003
    NoData = 11004
    IOPending = 997
    OperationAborted = 995

    @classmethod
    def _missing_(cls, value: object) -> Self | None:
        # C# lets any int be cast to SocketError, and ported code does
        # `new SocketException(someInt)`; refusing it would turn a socket
        # error into a ValueError.
        if isinstance(value, int) and not isinstance(value, bool):
            pseudo = int.__new__(cls, value)
            pseudo._name_ = str(value)
            pseudo._value_ = value
            return pseudo
        return None


class SocketOptionLevel(DotNetEnum):
    """The level a socket option belongs to (``SetSocketOption``'s first argument)."""

    IP = 0
    Tcp = 6
    Udp = 17
    IPv6 = 41
    Socket = 65535


class SocketOptionName(DotNetEnum):
    """Socket option names.  Their meaning depends on the level: 1 is ``Debug`` at
    ``Socket`` level, ``IPOptions`` at ``IP`` level and ``NoDelay`` at ``Tcp`` level,
    so those names are equal-valued aliases of one another."""

    DontLinger = -129
    ExclusiveAddressUse = -5
    Debug = 1
    IPOptions = 1
    NoChecksum = 1
    NoDelay = 1
    AcceptConnection = 2
    BsdUrgent = 2
    Expedited = 2
    HeaderIncluded = 2
    TcpKeepAliveTime = 3
    TypeOfService = 3
    IpTimeToLive = 4
    ReuseAddress = 4
    KeepAlive = 8
    MulticastInterface = 9
    MulticastTimeToLive = 10
    MulticastLoopback = 11
    AddMembership = 12
    DropMembership = 13
    DontFragment = 14
    AddSourceMembership = 15
    DontRoute = 16
    DropSourceMembership = 16
    TcpKeepAliveRetryCount = 16
    BlockSource = 17
    TcpKeepAliveInterval = 17
    UnblockSource = 18
    PacketInformation = 19
    ChecksumCoverage = 20
    HopLimit = 21
    IPProtectionLevel = 23
    IPv6Only = 27
    Broadcast = 32
    UseLoopback = 64
    Linger = 128
    OutOfBandInline = 256
    SendBuffer = 4097
    ReceiveBuffer = 4098
    SendLowWater = 4099
    ReceiveLowWater = 4100
    SendTimeout = 4101
    ReceiveTimeout = 4102
    Error = 4103
    Type = 4104
    ReuseUnicastPort = 12295
    UpdateAcceptContext = 28683
    UpdateConnectContext = 28688
    FastOpen = 15
    MaxConnections = 2147483647


class SocketShutdown(DotNetEnum):
    """Which direction ``Shutdown`` closes."""

    Receive = 0
    Send = 1
    Both = 2


class SelectMode(DotNetEnum):
    """What ``Poll`` waits for."""

    SelectRead = 0
    SelectWrite = 1
    SelectError = 2


class SocketAsyncOperation(DotNetEnum):
    """The operation a ``SocketAsyncEventArgs`` last ran (``LastOperation``)."""

    None_ = 0
    Accept = 1
    Connect = 2
    Disconnect = 3
    Receive = 4
    ReceiveFrom = 5
    ReceiveMessageFrom = 6
    Send = 7
    SendPackets = 8
    SendTo = 9


class ProtocolFamily(DotNetEnum):
    """The protocol family of a socket: the names and numbers of ``AddressFamily``.

    Written out (not made from ``AddressFamily``) so that type checkers see the members;
    ``tests/test_socket_control.py`` checks that the two stay the same.
    """

    Unknown = -1
    Unspecified = 0
    Unix = 1
    InterNetwork = 2
    ImpLink = 3
    Pup = 4
    Chaos = 5
    NS = 6
    Ipx = 6
    Iso = 7
    Osi = 7
    Ecma = 8
    DataKit = 9
    Ccitt = 10
    Sna = 11
    DecNet = 12
    DataLink = 13
    Lat = 14
    HyperChannel = 15
    AppleTalk = 16
    NetBios = 17
    VoiceView = 18
    FireFox = 19
    Banyan = 21
    Atm = 22
    InterNetworkV6 = 23
    Cluster = 24
    Ieee12844 = 25
    Irda = 26
    NetworkDesigners = 28
    Max = 29
    Packet = 65536
    ControllerAreaNetwork = 65537


class IPProtectionLevel(DotNetEnum):
    """For ``SetIPProtectionLevel``, which only Windows supports."""

    Unspecified = -1
    Unrestricted = 10
    EdgeRestricted = 20
    Restricted = 30


class SocketInformationOptions(DotNetFlags):
    """The state ``DuplicateAndClose`` records (Windows only)."""

    NonBlocking = 1
    Connected = 2
    Listening = 4
    UseOnlyOverlappedIO = 8  # obsolete in .NET


class TransmitFileOptions(DotNetFlags):
    """Flags of ``SendFile`` and ``SendPacketsAsync``.

    ``UseDefaultWorkerThread`` (0) is the plain send.  On Linux ``SendFile``
    refuses every other flag (``PlatformNotSupportedException``), while
    ``SendPacketsAsync`` honours ``Disconnect`` and ``ReuseSocket``, as .NET
    on Linux does.  The remaining flags mean something on Windows only.
    """

    UseDefaultWorkerThread = 0
    Disconnect = 1
    ReuseSocket = 2
    WriteBehind = 4
    UseSystemThread = 16
    UseKernelApc = 32


class IOControlCode(DotNetEnum):
    """Windows Sockets control codes for ``Socket.IOControl``.

    On Linux only ``DataToRead`` (FIONREAD) and ``OobDataRead`` (SIOCATMARK)
    do something; ``NonBlockingIO`` raises ``InvalidOperationException`` (use
    ``Blocking``) and the others raise ``PlatformNotSupportedException``, as in
    .NET on Linux.
    """

    AsyncIO = 0x8004667D
    NonBlockingIO = 0x8004667E
    DataToRead = 0x4004667F
    OobDataRead = 0x40047307
    AssociateHandle = 0x88000001
    EnableCircularQueuing = 0x28000002
    Flush = 0x28000004
    GetBroadcastAddress = 0x48000005
    GetExtensionFunctionPointer = 0xC8000006
    GetQos = 0xC8000007
    GetGroupQos = 0xC8000008
    MultipointLoopback = 0x88000009
    MulticastScope = 0x8800000A
    SetQos = 0x8800000B
    SetGroupQos = 0x8800000C
    TranslateHandle = 0xC800000D
    RoutingInterfaceQuery = 0xC8000014
    RoutingInterfaceChange = 0x88000015
    AddressListQuery = 0x48000016
    AddressListChange = 0x28000017
    QueryTargetPnpHandle = 0x48000018
    NamespaceChange = 0x88000019
    AddressListSort = 0xC8000019
    ReceiveAll = 0x98000001
    ReceiveAllMulticast = 0x98000002
    ReceiveAllIgmpMulticast = 0x98000003
    KeepAliveValues = 0x98000004
    AbsorbRouterAlert = 0x98000005
    UnicastInterface = 0x98000006
    LimitBroadcasts = 0x98000007
    BindToInterface = 0x98000008
    MulticastInterface = 0x98000009
    AddMulticastGroupOnInterface = 0x9800000A
    DeleteMulticastGroupFromInterface = 0x9800000B


class ConnectAlgorithm(DotNetEnum):
    """How the static ``ConnectAsync`` tries several addresses (.NET 11); ``Parallel`` is taken as ``Default``."""

    Default = 0
    Parallel = 1


class FileAccess(DotNetFlags):
    """``System.IO.FileAccess``: which directions a ``NetworkStream`` allows."""

    Read = 1
    Write = 2
    ReadWrite = 3


class SeekOrigin(DotNetEnum):
    """``System.IO.SeekOrigin``, for ``Stream.Seek`` (which a ``NetworkStream`` does not support)."""

    Begin = 0
    Current = 1
    End = 2


# Where several names share a value, the one .NET's Enum.ToString() prints (seen on .NET Core 3.1).
_SHOWN_ALIAS: dict[type, dict[int, str]] = {
    AddressFamily: {6: "Ipx", 7: "Iso"},
    ProtocolFamily: {6: "Ipx", 7: "Iso"},
    ProtocolType: {0: "Unspecified"},
    SocketOptionName: {
        1: "NoDelay",
        3: "TypeOfService",
        4: "ReuseAddress",
        16: "TcpKeepAliveRetryCount",
        17: "TcpKeepAliveInterval",
    },
}
