"""Addresses and endpoints: ``IPAddress``, ``IPEndPoint``, ``DnsEndPoint``,
``UnixDomainSocketEndPoint``, and their conversion to and from the
``socket`` module's sockaddr values.

Parsing and formatting follow .NET exactly (``IPAddress.Parse`` accepts the
same non-canonical IPv4 forms and bracketed IPv6 forms; ``str()`` gives the
same text as ``ToString()``), because ported code compares those strings.

Two internal functions, :func:`to_sockaddr` and :func:`from_sockaddr`, run on
every datagram, so endpoints cache their sockaddr tuples and recently seen
peer addresses are reused instead of being parsed again.
"""

from __future__ import annotations

import operator
import socket as _socket
import sys
import typing
from typing import ClassVar, Final

from ._names import dotnet_names
from ._object import DotNetObject
from .enums import AddressFamily as _Family
from .enums import SocketError
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    NotImplementedException,
    SocketException,
)
from .socketaddress import SocketAddress

__all__ = [
    "EndPoint",
    "IPAddress",
    "IPEndPoint",
    "DnsEndPoint",
    "UnixDomainSocketEndPoint",
    "to_sockaddr",
    "from_sockaddr",
]

IPSockAddr = tuple[str, int] | tuple[str, int, int, int]
"""What the ``socket`` module takes and gives for AF_INET / AF_INET6."""

SockAddr = IPSockAddr | bytes | str

# Plain ints: comparing them is cheaper than comparing the socket module's enums.
_AF_INET: Final = int(_socket.AF_INET)
_AF_INET6: Final = int(_socket.AF_INET6)
_AF_UNIX: Final = int(_socket.AF_UNIX)
_inet_pton = _socket.inet_pton
_inet_ntop = _socket.inet_ntop
_new = object.__new__

_BAD_IP = "An invalid IP address was specified."
_HEX_DIGITS: Final = frozenset("0123456789abcdefABCDEF")
_DEC_DIGITS: Final = frozenset("0123456789")
_MAPPED_PREFIX: Final = b"\x00" * 10 + b"\xff\xff"
_UINT32_MAX: Final = 0xFFFFFFFF


# --------------------------------------------------------------------------
# Parsing, as .NET's IPAddressParser does it
# --------------------------------------------------------------------------


def _digit(ch: str, base: int) -> int:
    """Value of ``ch`` in ``base`` (8, 10 or 16), or -1; ASCII only, as .NET."""
    o = ord(ch)
    if 48 <= o <= 57:
        v = o - 48
        return v if v < base else -1
    if base == 16:
        if 97 <= o <= 102:
            return o - 87
        if 65 <= o <= 70:
            return o - 55
    return -1


def _parse_ipv4_any_form(s: str) -> bytes | None:
    """The 4 bytes of an IPv4 address in any form .NET accepts, or None.

    Besides dotted decimal, .NET (like BSD ``inet_aton``) takes octal
    (``010``) and hex (``0x7f``) parts and fewer than four parts, the last one
    filling the remaining bytes (``127.1`` is 127.0.0.1, ``16777217`` is 1.0.0.1).
    """
    n = len(s)
    i = 0
    parts: list[int] = []
    while True:
        base = 10
        value = 0
        have_digit = False
        if i < n and s[i] == "0":
            i += 1
            have_digit = True
            base = 8
            if i < n and s[i] in "xX":
                base = 16
                i += 1
                have_digit = False
        while i < n:
            d = _digit(s[i], base)
            if d < 0:
                break
            value = value * base + d
            if value > _UINT32_MAX:
                return None
            have_digit = True
            i += 1
        if i < n and s[i] == ".":
            if len(parts) >= 3 or not have_digit or value > 0xFF:
                return None
            parts.append(value)
            i += 1
            continue
        break
    if not have_digit or i != n:
        return None
    dots = len(parts)
    # The last part fills all the bytes the missing parts leave.
    if value >= 1 << (8 * (4 - dots)):
        return None
    for k, part in enumerate(parts):
        value |= part << (8 * (3 - k))
    return value.to_bytes(4, "big")


def _parse_ipv4_in_ipv6(s: str) -> bytes | None:
    """The dotted quad that may end an IPv6 address: decimal only, four parts.

    .NET refuses a leading zero in the first three parts but, quirk kept, lets
    one through in the last (``::1.2.3.04`` is ``::1.2.3.4``).
    """
    parts = s.split(".")
    if len(parts) != 4:
        return None
    out = bytearray()
    for k, part in enumerate(parts):
        if not part or not all(c in _DEC_DIGITS for c in part):
            return None
        if len(part) > 1 and part[0] == "0" and (part[1] == "0" or k < 3):
            return None
        v = int(part)
        if v > 0xFF:
            return None
        out.append(v)
    return bytes(out)


def _scope_from_text(text: str) -> int:
    """A numeric scope, else the index of the interface of that name, else 0."""
    if text and len(text) <= 10 and all(c in _DEC_DIGITS for c in text):
        v = int(text)
        if v <= _UINT32_MAX:
            return v
    try:
        return _socket.if_nametoindex(text)
    except (OSError, ValueError):
        return 0


def _parse_ipv6(s: str) -> tuple[bytes, int] | None:
    """``(16 bytes, scope id)`` for an IPv6 literal as .NET accepts it, or None.

    Accepted extras: surrounding brackets, optionally followed by ``:port``
    (decimal or ``0x`` hex digits, validated but ignored), and a ``%scope``
    that is a number or an interface name (unknown names give scope 0).
    """
    text = s
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            return None
        tail = text[close + 1 :]
        text = text[1:close]
        if tail:
            if tail[0] != ":":
                return None
            port = tail[1:]
            if len(port) >= 2 and port[0] == "0" and port[1] in "xX":
                if not all(c in _HEX_DIGITS for c in port[2:]):
                    return None
            elif not all(c in _DEC_DIGITS for c in port):
                return None
    elif "]" in text:
        return None

    scope = 0
    pct = text.find("%")
    if pct >= 0:
        scope_text = text[pct + 1 :]
        text = text[:pct]
        if "/" in scope_text:
            return None
        if scope_text:
            scope = _scope_from_text(scope_text)

    tail_words: list[str] = []
    if "." in text:
        colon = text.rfind(":")
        if colon < 0:
            return None
        v4 = _parse_ipv4_in_ipv6(text[colon + 1 :])
        if v4 is None:
            return None
        text = text[: colon + 1]
        tail_words = [f"{v4[0] << 8 | v4[1]:x}", f"{v4[2] << 8 | v4[3]:x}"]
        # "::" directly before the dotted quad leaves text ending in "::";
        # otherwise strip the single separator colon.
        if not text.endswith("::"):
            text = text[:-1]

    if text.count("::") > 1:
        return None
    if "::" in text:
        left, right = text.split("::", 1)
        head = left.split(":") if left else []
        rest = right.split(":") if right else []
        rest += tail_words
        if len(head) + len(rest) > 7:
            return None
        groups = head + ["0"] * (8 - len(head) - len(rest)) + rest
        checked = head + rest
    else:
        groups = (text.split(":") if text else []) + tail_words
        if len(groups) != 8:
            return None
        checked = groups
    for g in checked:
        if not 1 <= len(g) <= 4 or not all(c in _HEX_DIGITS for c in g):
            return None
    return b"".join(int(g, 16).to_bytes(2, "big") for g in groups), scope


def _parse_address(s: str) -> tuple[bytes, int] | None:
    if ":" in s:
        return _parse_ipv6(s)
    try:
        # inet_pton takes exactly the canonical dotted quad, the common case.
        return _inet_pton(_AF_INET, s), 0
    except (OSError, ValueError):
        pass
    packed = _parse_ipv4_any_form(s)
    return None if packed is None else (packed, 0)


# --------------------------------------------------------------------------
# Formatting, as .NET's IPAddress.ToString does it
# --------------------------------------------------------------------------


def _ipv4_text(p: bytes) -> str:
    return f"{p[0]}.{p[1]}.{p[2]}.{p[3]}"


def _sections(words: tuple[int, ...]) -> str:
    """Hex groups with the longest run (>= 2, first wins) of zeros as ``::``."""
    best_start, best_len, run = -1, 0, 0
    for i, w in enumerate(words):
        if w == 0:
            run += 1
            if run > best_len:
                best_len, best_start = run, i - run + 1
        else:
            run = 0
    if best_len < 2:
        return ":".join(f"{w:x}" for w in words)
    before = ":".join(f"{w:x}" for w in words[:best_start])
    after = ":".join(f"{w:x}" for w in words[best_start + best_len :])
    return f"{before}::{after}"


def _ipv6_text(p: bytes, scope: int) -> str:
    words = tuple(p[i] << 8 | p[i + 1] for i in range(0, 16, 2))
    w = words
    # The forms whose last 32 bits .NET writes as a dotted quad: IPv4-compatible,
    # IPv4-mapped, SIIT (::ffff:0:a.b.c.d) and ISATAP (x:x:x:x:0:5efe:a.b.c.d).
    embed = False
    if w[0] == w[1] == w[2] == w[3] == 0 and w[6] != 0:
        embed = (w[4] == 0 and w[5] in (0, 0xFFFF)) or (w[4] == 0xFFFF and w[5] == 0)
    if not embed:
        embed = w[4] == 0 and w[5] == 0x5EFE
    if embed:
        text = _sections(words[:6])
        if not text.endswith(":"):
            text += ":"
        text += _ipv4_text(p[12:])
    else:
        text = _sections(words)
    if scope:
        text = f"{text}%{scope}"
    return text


# --------------------------------------------------------------------------
# EndPoint and IPAddress
# --------------------------------------------------------------------------


@dotnet_names
class EndPoint(DotNetObject):
    """Base class of every endpoint (.NET ``System.Net.EndPoint``).

    ``Equals``/``GetHashCode``/``ToString`` are ``==``/``hash()``/``str()`` of the endpoint.
    """

    __slots__ = ()
    _dotnet_type = "System.Net.EndPoint"

    @property
    def AddressFamily(self) -> _Family:
        """The endpoint's address family; subclasses override it, the base raises."""
        raise NotImplementedException(f"{type(self).__name__} does not define AddressFamily.")

    def Serialize(self) -> SocketAddress:
        """This endpoint as a ``SocketAddress``; the base (and ``DnsEndPoint``) raise ``NotImplementedException``."""
        raise NotImplementedException()

    def Create(self, socket_address: SocketAddress) -> EndPoint:
        """A new endpoint of this kind from ``socket_address``; the base raises ``NotImplementedException``."""
        raise NotImplementedException()

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    address_family = AddressFamily
    serialize = Serialize
    create = Create
    # -- end of PEP 8 spellings --


class IPAddress(DotNetObject):
    """An IPv4 or IPv6 address (.NET ``System.Net.IPAddress``), immutable.

    ``IPAddress(int)`` takes .NET's ``long`` form, where the *lowest* byte is
    the first octet (``IPAddress(0x0100007F)`` is 127.0.0.1).
    ``IPAddress(bytes)`` takes 4 or 16 bytes in network order; ``scope_id``
    is only allowed (non-zero) for 16 bytes. Unlike .NET, ``ScopeId`` cannot be
    assigned: build a new address instead, which keeps shared constants safe.
    """

    __slots__ = ("_packed", "_scope", "_text", "_host", "_hash")

    _packed: bytes
    _scope: int
    _text: str | None
    _host: str | None
    _hash: int | None

    Any: ClassVar[IPAddress]
    Loopback: ClassVar[IPAddress]
    Broadcast: ClassVar[IPAddress]
    None_: ClassVar[IPAddress]
    IPv6Any: ClassVar[IPAddress]
    IPv6Loopback: ClassVar[IPAddress]
    IPv6None: ClassVar[IPAddress]

    def __init__(self, address: bytes | bytearray | memoryview | int, scope_id: int = 0) -> None:
        if address is None:
            raise ArgumentNullException("address")
        if isinstance(address, int):
            if not 0 <= address <= _UINT32_MAX:
                raise ArgumentOutOfRangeException("newAddress", address)
            if scope_id:
                raise ArgumentException("A scope id is only valid for an IPv6 address.", "address")
            packed = address.to_bytes(4, "little")
        else:
            try:
                packed = bytes(address)
            except TypeError:
                raise ArgumentException(
                    f"Expected bytes or an int, not {type(address).__name__}; use IPAddress.Parse for text.",
                    "address",
                ) from None
            if len(packed) not in (4, 16):
                raise ArgumentException(_BAD_IP, "address")
            if len(packed) == 4 and scope_id:
                raise ArgumentException(_BAD_IP, "address")
            if not 0 <= scope_id <= _UINT32_MAX:
                raise ArgumentOutOfRangeException("scopeid", scope_id)
        self._packed = packed
        self._scope = scope_id
        self._text = None
        self._host = None
        self._hash = None

    # -- parsing --------------------------------------------------------------
    @staticmethod
    def Parse(ip_string: str | bytes | bytearray | memoryview) -> IPAddress:
        """Parse an IPv4 or IPv6 address as .NET does.

        ``ip_string`` is text, or UTF-8 bytes (.NET's ``ReadOnlySpan<byte>`` overload).  Raises
        ``FormatException`` if it is not an address, ``ArgumentNullException`` (``ipString``) for ``None``.
        """
        if ip_string is None:
            raise ArgumentNullException("ipString")
        text = _address_text(ip_string)
        if text is None:
            raise ArgumentException(f"Expected a str, not {type(ip_string).__name__}.", "ipString")
        parsed = _parse_address(text)
        if parsed is None:
            raise FormatException(_BAD_IP, SocketException(SocketError.InvalidArgument))
        return _make_address(parsed[0], parsed[1], None)

    @staticmethod
    def TryParse(ip_string: str | bytes | bytearray | memoryview | None) -> tuple[bool, IPAddress | None]:
        """``(True, address)`` if ``ip_string`` (text or UTF-8 bytes) parses, else ``(False, None)``; never raises."""
        text = _address_text(ip_string)
        if text is None:
            return False, None
        parsed = _parse_address(text)
        if parsed is None:
            return False, None
        return True, _make_address(parsed[0], parsed[1], None)

    @staticmethod
    def IsValid(ip_span: str) -> bool:
        """True if ``ip_span`` is an IPv4 or IPv6 address ``Parse`` accepts (.NET 10); never raises."""
        return isinstance(ip_span, str) and _parse_address(ip_span) is not None

    @staticmethod
    def IsValidUtf8(utf8_text: bytes | bytearray | memoryview) -> bool:
        """``IsValid`` for UTF-8 bytes (.NET 10); never raises."""
        text = _address_text(utf8_text) if not isinstance(utf8_text, str) else None
        return text is not None and _parse_address(text) is not None

    # -- properties -------------------------------------------------------------
    @property
    def AddressFamily(self) -> _Family:
        return _Family.InterNetwork if len(self._packed) == 4 else _Family.InterNetworkV6

    @property
    def ScopeId(self) -> int:
        """The IPv6 scope (interface index); ``SocketException`` for IPv4, as .NET."""
        if len(self._packed) == 4:
            raise SocketException(SocketError.OperationNotSupported)
        return self._scope

    @property
    def Address(self) -> int:
        """Obsolete in .NET: the IPv4 address as an int, first octet in the lowest byte."""
        if len(self._packed) != 4:
            raise SocketException(SocketError.OperationNotSupported)
        return int.from_bytes(self._packed, "little")

    @property
    def IsIPv4MappedToIPv6(self) -> bool:
        return len(self._packed) == 16 and self._packed[:12] == _MAPPED_PREFIX

    @property
    def IsIPv6LinkLocal(self) -> bool:
        p = self._packed
        return len(p) == 16 and p[0] == 0xFE and (p[1] & 0xC0) == 0x80

    @property
    def IsIPv6Multicast(self) -> bool:
        p = self._packed
        return len(p) == 16 and p[0] == 0xFF

    @property
    def IsIPv6SiteLocal(self) -> bool:
        p = self._packed
        return len(p) == 16 and p[0] == 0xFE and (p[1] & 0xC0) == 0xC0

    @property
    def IsIPv6Teredo(self) -> bool:
        p = self._packed
        return len(p) == 16 and p[0] == 0x20 and p[1] == 0x01 and p[2] == 0 and p[3] == 0

    @property
    def IsIPv6UniqueLocal(self) -> bool:
        p = self._packed
        return len(p) == 16 and (p[0] & 0xFE) == 0xFC

    # -- conversions ------------------------------------------------------------
    def GetAddressBytes(self) -> bytes:
        """The address in network order: 4 bytes for IPv4, 16 for IPv6."""
        return self._packed

    def TryWriteBytes(self, destination: bytearray | memoryview) -> tuple[bool, int]:
        """Write the address bytes (network order) to the start of ``destination``.

        Returns ``(True, bytes_written)``, or ``(False, 0)`` when ``destination`` is too small
        (nothing is written).  Raises ``ArgumentException`` (``destination``) for a buffer that
        cannot be written to.
        """
        return _write_into(destination, self._packed)

    def TryFormat(self, destination: bytearray | memoryview) -> tuple[bool, int]:
        """Write ``ToString()`` as ASCII/UTF-8 to the start of ``destination``.

        Returns ``(True, chars_written)``, or ``(False, 0)`` when it does not fit.  Raises
        ``ArgumentException`` (``destination``) for a buffer that cannot be written to.
        """
        return _write_into(destination, self.ToString().encode("ascii"))

    def MapToIPv6(self) -> IPAddress:
        """IPv4 ``a.b.c.d`` as ``::ffff:a.b.c.d``; an IPv6 address is returned as is."""
        if len(self._packed) == 16:
            return self
        return _make_address(_MAPPED_PREFIX + self._packed, 0, "::ffff:" + self._sockaddr_host())

    def MapToIPv4(self) -> IPAddress:
        """The last 4 bytes of an IPv6 address (whatever its prefix, as .NET); IPv4 as is."""
        if len(self._packed) == 4:
            return self
        return _make_address(self._packed[12:], 0, None)

    @staticmethod
    def IsLoopback(address: IPAddress) -> bool:
        """True for 127.0.0.0/8, ``::1`` and ``::ffff:127.0.0.1``."""
        if address is None:
            raise ArgumentNullException("address")
        p = address._packed
        if len(p) == 4:
            return p[0] == 127
        return address._scope == 0 and (p == _V6_LOOPBACK or p == _MAPPED_LOOPBACK)

    @staticmethod
    def HostToNetworkOrder(host: int, bits: int | None = None) -> int:
        """Swap ``host`` to network byte order, as .NET's ``short``/``int``/``long`` overloads.

        Without ``bits`` the width is what C# would pick for the literal:
        32 if the value fits an ``int``, else 64. Pass ``bits=16`` for a
        ``short``. The result is signed, as in .NET.
        """
        return _swap(host, bits, "host")

    @staticmethod
    def NetworkToHostOrder(network: int, bits: int | None = None) -> int:
        """The inverse of ``HostToNetworkOrder`` (the same swap)."""
        return _swap(network, bits, "network")

    def ToString(self) -> str:
        """The address as .NET prints it (``"127.0.0.1"``, ``"::1"``, ``"fe80::1%3"``)."""
        text = self._text
        if text is None:
            p = self._packed
            text = _ipv4_text(p) if len(p) == 4 else _ipv6_text(p, self._scope)
            self._text = text
        return text

    def _sockaddr_host(self) -> str:
        """The numeric host string for a sockaddr tuple (no ``%scope``)."""
        host = self._host
        if host is None:
            p = self._packed
            host = _ipv4_text(p) if len(p) == 4 else _inet_ntop(_AF_INET6, p)
            self._host = host
        return host

    # -- Python protocol -------------------------------------------------------
    def __str__(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"IPAddress.Parse({self.ToString()!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IPAddress):
            return NotImplemented
        return self._packed == other._packed and self._scope == other._scope

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        h = self._hash
        if h is None:
            h = self._hash = hash((self._packed, self._scope))
        return h

    def __reduce__(self) -> tuple[type[IPAddress], tuple[bytes, int]]:
        return IPAddress, (self._packed, self._scope)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    any: ClassVar[IPAddress]
    loopback: ClassVar[IPAddress]
    broadcast: ClassVar[IPAddress]
    none_: ClassVar[IPAddress]
    ipv6_any: ClassVar[IPAddress]
    ipv6_loopback: ClassVar[IPAddress]
    ipv6_none: ClassVar[IPAddress]
    parse = Parse
    try_parse = TryParse
    is_valid = IsValid
    is_valid_utf8 = IsValidUtf8
    address_family = AddressFamily
    scope_id = ScopeId
    address = Address
    is_ipv4_mapped_to_ipv6 = IsIPv4MappedToIPv6
    is_ipv6_link_local = IsIPv6LinkLocal
    is_ipv6_multicast = IsIPv6Multicast
    is_ipv6_site_local = IsIPv6SiteLocal
    is_ipv6_teredo = IsIPv6Teredo
    is_ipv6_unique_local = IsIPv6UniqueLocal
    get_address_bytes = GetAddressBytes
    try_write_bytes = TryWriteBytes
    try_format = TryFormat
    map_to_ipv6 = MapToIPv6
    map_to_ipv4 = MapToIPv4
    is_loopback = IsLoopback
    host_to_network_order = HostToNetworkOrder
    network_to_host_order = NetworkToHostOrder
    to_string = ToString
    # -- end of PEP 8 spellings --


def _address_text(value: object) -> str | None:
    """The text of a ``Parse`` argument: a str as is, bytes-like as UTF-8 (``None`` if neither)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return "\0"  # parses as nothing
    return None


def _write_into(destination: bytearray | memoryview, data: bytes) -> tuple[bool, int]:
    try:
        view = memoryview(destination).cast("B")
    except TypeError:
        raise ArgumentException("The destination must be a writable bytes-like object.", "destination") from None
    if view.readonly:
        raise ArgumentException("The destination must be a writable bytes-like object.", "destination")
    n = len(data)
    if n > len(view):
        return False, 0
    view[:n] = data
    return True, n


def _make_address(packed: bytes, scope: int, host: str | None) -> IPAddress:
    """Build an IPAddress from trusted parts, skipping the constructor's checks."""
    a: IPAddress = _new(IPAddress)
    a._packed = packed
    a._scope = scope
    a._host = host
    a._text = host if len(packed) == 4 else None
    a._hash = None
    return a


def _swap(value: int, bits: int | None, name: str) -> int:
    if bits is None:
        bits = 32 if -(1 << 31) <= value < (1 << 31) else 64
    if bits not in (16, 32, 64):
        raise ArgumentOutOfRangeException("bits", bits, "bits must be 16, 32 or 64.")
    lo, hi = -(1 << (bits - 1)), 1 << (bits - 1)
    if not lo <= value < hi:
        raise ArgumentOutOfRangeException(name, value, f"The value does not fit a signed {bits}-bit integer.")
    if sys.byteorder == "big":
        return value
    raw = value.to_bytes(bits // 8, "little", signed=True)
    return int.from_bytes(raw, "big", signed=True)


_V6_LOOPBACK: Final = b"\x00" * 15 + b"\x01"
_MAPPED_LOOPBACK: Final = _MAPPED_PREFIX + b"\x7f\x00\x00\x01"

IPAddress.Any = _make_address(b"\x00\x00\x00\x00", 0, None)
IPAddress.Loopback = _make_address(b"\x7f\x00\x00\x01", 0, None)
IPAddress.Broadcast = _make_address(b"\xff\xff\xff\xff", 0, None)
IPAddress.None_ = IPAddress.Broadcast
IPAddress.IPv6Any = _make_address(b"\x00" * 16, 0, None)
IPAddress.IPv6Loopback = _make_address(_V6_LOOPBACK, 0, None)
IPAddress.IPv6None = IPAddress.IPv6Any
# Applied after the constants exist, so they get their PEP 8 aliases too.
dotnet_names(IPAddress)


# --------------------------------------------------------------------------
# IPEndPoint
# --------------------------------------------------------------------------


def _check_port(port: int, name: str) -> int:
    if type(port) is not int:
        try:
            port = operator.index(port)
        except TypeError:
            raise ArgumentException(f"Expected an int port, not {type(port).__name__}.", name) from None
    if not 0 <= port <= 0xFFFF:
        raise ArgumentOutOfRangeException(name, port)
    return port


@dotnet_names
class IPEndPoint(EndPoint):
    """An IP address and a port (.NET ``System.Net.IPEndPoint``).

    ``IPEndPoint(address, port)`` where ``address`` is an ``IPAddress`` or
    .NET's ``long`` form of an IPv4 address. ``Address`` and ``Port`` can be
    assigned, with the same checks as the constructor.
    """

    __slots__ = ("_address", "_port", "_sa", "_sa_dual")

    MinPort: ClassVar[int] = 0
    MaxPort: ClassVar[int] = 0xFFFF

    _address: IPAddress
    _port: int
    _sa: IPSockAddr | None
    _sa_dual: IPSockAddr | None

    def __init__(self, address: IPAddress | int, port: int) -> None:
        if isinstance(address, int):
            # .NET's IPEndPoint(long, int) checks the port before the address.
            self._port = _check_port(port, "port")
            self._address = IPAddress(address)
        else:
            if address is None:
                raise ArgumentNullException("address")
            if not isinstance(address, IPAddress):
                raise ArgumentException(f"Expected an IPAddress, not {type(address).__name__}.", "address")
            self._port = _check_port(port, "port")
            self._address = address
        self._sa = None
        self._sa_dual = None

    @property
    def Address(self) -> IPAddress:
        return self._address

    @Address.setter
    def Address(self, value: IPAddress) -> None:
        if value is None:
            raise ArgumentNullException("value")
        if not isinstance(value, IPAddress):
            raise ArgumentException(f"Expected an IPAddress, not {type(value).__name__}.", "value")
        self._address = value
        self._sa = self._sa_dual = None

    @property
    def Port(self) -> int:
        return self._port

    @Port.setter
    def Port(self, value: int) -> None:
        self._port = _check_port(value, "value")
        self._sa = self._sa_dual = None

    @property
    def AddressFamily(self) -> _Family:
        return self._address.AddressFamily

    def Serialize(self) -> SocketAddress:
        """The ``sockaddr_in`` (16 bytes) or ``sockaddr_in6`` (28 bytes) of this endpoint."""
        sa = self._sockaddr(False)
        return SocketAddress._from_sockaddr(_AF_INET if len(sa) == 2 else _AF_INET6, sa)

    def Create(self, socket_address: SocketAddress) -> EndPoint:
        """The ``IPEndPoint`` in ``socket_address``, which must be of this endpoint's family and size."""
        sa = _check_socket_address(socket_address, self.AddressFamily, type(self).__name__)
        need = _SA_MIN[_AF_INET6 if self.AddressFamily == _Family.InterNetworkV6 else _AF_INET]
        if sa.Size < need:
            raise ArgumentException(
                f"The supplied SocketAddress is an invalid size for the {type(self).__name__} end point.",
                "socketAddress",
            )
        return from_sockaddr(sa._native(), sa._sockaddr())

    @staticmethod
    def Parse(s: str | bytes | bytearray | memoryview) -> IPEndPoint:
        """Parse ``"1.2.3.4:80"``, ``"[::1]:80"`` or a bare address (port 0), as text or UTF-8 bytes.

        Raises ``FormatException`` if it is not an endpoint, ``ArgumentNullException`` (``s``) for ``None``.
        """
        if s is None:
            raise ArgumentNullException("s")
        _, ep = IPEndPoint.TryParse(s)
        if ep is None:
            raise FormatException("An invalid IPEndPoint was specified.")
        return ep

    @staticmethod
    def TryParse(s: str | bytes | bytearray | memoryview | None) -> tuple[bool, IPEndPoint | None]:
        """``(True, endpoint)`` if ``s`` (text or UTF-8 bytes) parses, else ``(False, None)``; never raises."""
        text = _address_text(s)
        if text is None:
            return False, None
        s = text
        addr_len = len(s)
        last_colon = s.rfind(":")
        if last_colon > 0:
            if s[last_colon - 1] == "]":
                addr_len = last_colon
            elif s.rfind(":", 0, last_colon) == -1:
                # Only one colon: an IPv4 address with a port.
                addr_len = last_colon
        parsed = _parse_address(s[:addr_len])
        if parsed is None:
            return False, None
        port = 0
        if addr_len != len(s):
            digits = s[addr_len + 1 :]
            if not digits or not all(c in _DEC_DIGITS for c in digits):
                return False, None
            port = int(digits)
            if port > 0xFFFF:
                return False, None
        return True, _make_endpoint(_make_address(parsed[0], parsed[1], None), port, None)

    def ToString(self) -> str:
        """``"127.0.0.1:80"``, or ``"[::1]:80"`` for IPv6, as .NET prints it."""
        if len(self._address._packed) == 16:
            return f"[{self._address.ToString()}]:{self._port}"
        return f"{self._address.ToString()}:{self._port}"

    def TryFormat(self, destination: bytearray | memoryview) -> tuple[bool, int]:
        """Write ``ToString()`` as ASCII/UTF-8 to the start of ``destination`` (.NET 11).

        Returns ``(True, chars_written)``, or ``(False, 0)`` when it does not fit.  Raises
        ``ArgumentException`` (``destination``) for a buffer that cannot be written to.
        """
        return _write_into(destination, self.ToString().encode("ascii"))

    def _sockaddr(self, dual_mode: bool) -> IPSockAddr:
        """The ``socket`` module's address for this endpoint (cached).

        ``dual_mode`` is for an AF_INET6 socket: an IPv4 address is then given
        in its IPv4-mapped IPv6 form.
        """
        if dual_mode:
            sa = self._sa_dual
            if sa is None:
                a = self._address
                if len(a._packed) == 4:
                    sa = ("::ffff:" + a._sockaddr_host(), self._port, 0, 0)
                else:
                    sa = (a._sockaddr_host(), self._port, 0, a._scope)
                self._sa_dual = sa
            return sa
        sa = self._sa
        if sa is None:
            a = self._address
            if len(a._packed) == 4:
                sa = (a._sockaddr_host(), self._port)
            else:
                sa = (a._sockaddr_host(), self._port, 0, a._scope)
            self._sa = sa
        return sa

    def __str__(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"IPEndPoint({self._address!r}, {self._port})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, IPEndPoint):
            return NotImplemented
        return self._port == other._port and self._address == other._address

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self._address) ^ self._port

    def __reduce__(self) -> tuple[type[IPEndPoint], tuple[IPAddress, int]]:
        return IPEndPoint, (self._address, self._port)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    min_port = MinPort
    max_port = MaxPort
    address = Address
    port = Port
    address_family = AddressFamily
    serialize = Serialize
    create = Create
    parse = Parse
    try_parse = TryParse
    to_string = ToString
    try_format = TryFormat
    # -- end of PEP 8 spellings --


def _make_endpoint(address: IPAddress, port: int, sa: IPSockAddr | None) -> IPEndPoint:
    ep: IPEndPoint = _new(IPEndPoint)
    ep._address = address
    ep._port = port
    ep._sa = sa
    ep._sa_dual = sa if sa is not None and len(sa) == 4 else None
    return ep


# --------------------------------------------------------------------------
# DnsEndPoint
# --------------------------------------------------------------------------

_DNS_FAMILIES: Final = (_Family.Unspecified, _Family.InterNetwork, _Family.InterNetworkV6)


@dotnet_names
class DnsEndPoint(EndPoint):
    """A host name and a port, resolved when connecting (.NET ``System.Net.DnsEndPoint``).

    Sockets accept it for ``Connect``; ``SendTo`` rejects it, as in .NET.
    """

    __slots__ = ("_host", "_port", "_family")

    def __init__(self, host: str, port: int, address_family: _Family = _Family.Unspecified) -> None:
        if host is None:
            raise ArgumentNullException("host")
        if not isinstance(host, str):
            raise ArgumentException(f"Expected a str, not {type(host).__name__}.", "host")
        if not host:
            raise ArgumentException("The parameter 'host' cannot be an empty string.", "host")
        port = _check_port(port, "port")
        if address_family not in _DNS_FAMILIES:
            raise ArgumentException(
                "The specified value is not valid: only Unspecified, InterNetwork and "
                "InterNetworkV6 are allowed.",
                "addressFamily",
            )
        self._host = host
        self._port = port
        self._family = _Family(address_family)

    @property
    def Host(self) -> str:
        return self._host

    @property
    def Port(self) -> int:
        return self._port

    @property
    def AddressFamily(self) -> _Family:
        return self._family

    def ToString(self) -> str:
        """``"Unspecified/host:80"``: the address family, the host and the port, as .NET prints it."""
        return f"{self._family.name}/{self._host}:{self._port}"

    def __str__(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"DnsEndPoint({self._host!r}, {self._port}, AddressFamily.{self._family.name})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DnsEndPoint):
            return NotImplemented
        return self._family == other._family and self._port == other._port and self._host == other._host

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash((self._family, self._host, self._port))

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    host = Host
    port = Port
    address_family = AddressFamily
    to_string = ToString
    # -- end of PEP 8 spellings --


# --------------------------------------------------------------------------
# UnixDomainSocketEndPoint
# --------------------------------------------------------------------------

_SUN_PATH_LEN: Final = 108  # sizeof(sockaddr_un.sun_path) on Linux


@dotnet_names
class UnixDomainSocketEndPoint(EndPoint):
    """A Unix domain socket path (.NET ``System.Net.Sockets.UnixDomainSocketEndPoint``).

    A path starting with ``"\\0"`` is in Linux's abstract namespace; ``str()``
    shows that NUL as ``@`` (as .NET does), but ``@`` in the argument is an
    ordinary character. The path is encoded as UTF-8 and must fit in
    ``sun_path``: 107 bytes, or 108 for an abstract name.
    """

    __slots__ = ("_path", "_encoded")

    def __init__(self, path: str) -> None:
        if path is None:
            raise ArgumentNullException("path")
        if not isinstance(path, str):
            raise ArgumentException(f"Expected a str, not {type(path).__name__}.", "path")
        try:
            encoded = path.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise ArgumentException("The path cannot be encoded as UTF-8.", "path") from None
        limit = _SUN_PATH_LEN if path.startswith("\0") else _SUN_PATH_LEN - 1
        if not path or len(encoded) > limit:
            raise ArgumentOutOfRangeException(
                "path",
                path,
                f"The path '{path}' is of an invalid length for use with domain sockets on this "
                f"platform. The length must be between 1 and {_SUN_PATH_LEN} characters, inclusive.",
            )
        self._path = path
        self._encoded = encoded

    @property
    def Path(self) -> str:
        """The path as given (an abstract name keeps its leading ``"\\0"``)."""
        return self._path

    @property
    def AddressFamily(self) -> _Family:
        return _Family.Unix

    def Serialize(self) -> SocketAddress:
        """The ``sockaddr_un`` of this path: a 110-byte buffer, ``Size`` the length the kernel takes."""
        return SocketAddress._from_sockaddr(_AF_UNIX, self._encoded, _SUN_PATH_LEN + 2)

    def Create(self, socket_address: SocketAddress) -> EndPoint:
        """The ``UnixDomainSocketEndPoint`` in ``socket_address`` (``ArgumentOutOfRangeException`` if it is not one)."""
        if socket_address is None:
            raise ArgumentNullException("socketAddress")
        if (
            not isinstance(socket_address, SocketAddress)
            or socket_address._native() != _AF_UNIX
            or socket_address.Size > _SUN_PATH_LEN + 2
        ):
            raise ArgumentOutOfRangeException("socketAddress")
        path = socket_address._sockaddr()
        return _unix_endpoint(path if isinstance(path, bytes) else b"")

    def ToString(self) -> str:
        """The path; an abstract name shows its leading NUL as ``@``, as .NET prints it."""
        if self._path.startswith("\0"):
            return "@" + self._path[1:]
        return self._path

    def __str__(self) -> str:
        return self.ToString()

    def __repr__(self) -> str:
        return f"UnixDomainSocketEndPoint({self._path!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, UnixDomainSocketEndPoint):
            return NotImplemented
        return self._path == other._path

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    def __hash__(self) -> int:
        return hash(self._path)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    path = Path
    address_family = AddressFamily
    serialize = Serialize
    create = Create
    to_string = ToString
    # -- end of PEP 8 spellings --


_SA_MIN: Final = {_AF_INET: 16, _AF_INET6: 28}


def _check_socket_address(socket_address: typing.Any, family: _Family, kind: str) -> SocketAddress:
    """``Create``'s checks: not None, a ``SocketAddress`` of ``family``."""
    if socket_address is None:
        raise ArgumentNullException("socketAddress")
    if not isinstance(socket_address, SocketAddress):
        raise ArgumentException(f"Expected a SocketAddress, not {type(socket_address).__name__}.", "socketAddress")
    fam = socket_address.Family
    if fam != family:
        raise ArgumentException(
            f"The AddressFamily {fam.name} is not valid for the {kind} end point, use {family.name} instead.",
            "socketAddress",
        )
    return socket_address


def _unix_endpoint(encoded: bytes) -> UnixDomainSocketEndPoint:
    """An endpoint for an address the kernel gave, which may be unnamed (empty)."""
    ep: UnixDomainSocketEndPoint = _new(UnixDomainSocketEndPoint)
    if encoded[:1] != b"\0":
        encoded = encoded.rstrip(b"\0")
    ep._encoded = encoded
    ep._path = encoded.decode("utf-8", "surrogateescape")
    return ep


# --------------------------------------------------------------------------
# sockaddr conversion (internal; the socket's hot paths)
# --------------------------------------------------------------------------


def to_sockaddr(ep: EndPoint, platform_family: int, dual_mode: bool) -> SockAddr:
    """The ``socket`` module address for ``ep`` on a socket of ``platform_family``.

    Raises ``ArgumentNullException``/``ArgumentException`` (``remoteEP``) for a
    missing endpoint, a ``DnsEndPoint`` or an unknown kind, and
    ``SocketException`` with the error Linux gives for an endpoint of the
    wrong family (``AddressFamilyNotSupported``; ``InvalidArgument`` on a Unix
    domain socket).
    """
    if type(ep) is IPEndPoint:
        v4 = len(ep._address._packed) == 4
        if platform_family == _AF_INET6:
            if not v4:
                return ep._sockaddr(False)
            if dual_mode:
                return ep._sockaddr(True)
        elif platform_family == _AF_INET:
            if v4:
                return ep._sockaddr(False)
        elif platform_family == _AF_UNIX:
            raise SocketException(SocketError.InvalidArgument)
        raise SocketException(SocketError.AddressFamilyNotSupported)
    if ep is None:
        raise ArgumentNullException("remoteEP")
    if isinstance(ep, IPEndPoint):
        return to_sockaddr(_make_endpoint(ep._address, ep._port, None), platform_family, dual_mode)
    if isinstance(ep, UnixDomainSocketEndPoint):
        if platform_family != _AF_UNIX:
            raise SocketException(SocketError.AddressFamilyNotSupported)
        return ep._encoded
    if isinstance(ep, DnsEndPoint):
        raise ArgumentException("The parameter remoteEP must not be of type DnsEndPoint.", "remoteEP")
    raise ArgumentException(f"{type(ep).__name__} cannot be converted to a socket address.", "remoteEP")


# Recently seen peer addresses, keyed by the host string the kernel gave
# (and scope for IPv6). Bounded: cleared when full, which is cheap and safe
# under concurrent use (a single dict operation each).
_V4_CACHE: dict[str, IPAddress] = {}
_V6_CACHE: dict[tuple[str, int], IPAddress] = {}
_CACHE_MAX: Final = 512


def from_sockaddr(platform_family: int, sockaddr: typing.Any) -> EndPoint:
    """The endpoint for an address from ``recvfrom``/``getsockname``/``getpeername``/``accept``.

    IPv6 keeps the scope id; a dual-mode socket's IPv4 peers come back as
    IPv4-mapped IPv6 addresses, as in .NET. An unnamed Unix domain address
    gives a ``UnixDomainSocketEndPoint`` with an empty path.
    """
    if platform_family == _AF_INET:
        host, port = sockaddr
        addr = _V4_CACHE.get(host)
        if addr is None:
            addr = _make_address(_inet_pton(_AF_INET, host), 0, host)
            if len(_V4_CACHE) >= _CACHE_MAX:
                _V4_CACHE.clear()
            _V4_CACHE[host] = addr
        # _make_endpoint, inlined: this runs once per received datagram.
        ep: IPEndPoint = _new(IPEndPoint)
        ep._address = addr
        ep._port = port
        ep._sa = sockaddr
        ep._sa_dual = None
        return ep
    if platform_family == _AF_INET6:
        host, port, flowinfo, scope = sockaddr
        key = (host, scope)
        addr = _V6_CACHE.get(key)
        if addr is None:
            bare = host.partition("%")[0]
            addr = _make_address(_inet_pton(_AF_INET6, bare), scope, bare)
            if len(_V6_CACHE) >= _CACHE_MAX:
                _V6_CACHE.clear()
            _V6_CACHE[key] = addr
        sa: IPSockAddr | None = sockaddr if flowinfo == 0 and "%" not in host else None
        ep6: IPEndPoint = _new(IPEndPoint)
        ep6._address = addr
        ep6._port = port
        ep6._sa = ep6._sa_dual = sa
        return ep6
    if platform_family == _AF_UNIX:
        if not sockaddr:
            # '' or b'' from getsockname, None from recvfrom: an unnamed socket.
            return _unix_endpoint(b"")
        if isinstance(sockaddr, str):
            return _unix_endpoint(sockaddr.encode("utf-8", "surrogateescape"))
        if isinstance(sockaddr, (bytes, bytearray)):
            return _unix_endpoint(bytes(sockaddr))
        raise ArgumentException("Not a Unix domain socket address.", "socketAddress")
    raise SocketException(SocketError.AddressFamilyNotSupported)
