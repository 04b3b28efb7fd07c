"""IPAddress, IPEndPoint, DnsEndPoint, UnixDomainSocketEndPoint and the sockaddr conversions."""

from __future__ import annotations

import os
import pickle
import socket
import sys
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    EndPoint,
    FormatException,
    IPAddress,
    IPEndPoint,
    NotImplementedException,
    SocketError,
    SocketException,
    UnixDomainSocketEndPoint,
)
from dotnet_sockets import addresses as addr_mod
from dotnet_sockets.addresses import from_sockaddr, to_sockaddr

WAIT = 5.0


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _has_ipv6()
needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
LO_INDEX = socket.if_nametoindex("lo")


# --------------------------------------------------------------------------
# IPAddress.Parse
# --------------------------------------------------------------------------

VALID = [
    # text, ToString(), family, scope
    ("127.0.0.1", "127.0.0.1", AddressFamily.InterNetwork, None),
    ("0.0.0.0", "0.0.0.0", AddressFamily.InterNetwork, None),
    ("255.255.255.255", "255.255.255.255", AddressFamily.InterNetwork, None),
    # .NET's non-canonical IPv4 forms (as inet_aton)
    ("0", "0.0.0.0", AddressFamily.InterNetwork, None),
    ("1", "0.0.0.1", AddressFamily.InterNetwork, None),
    ("127.1", "127.0.0.1", AddressFamily.InterNetwork, None),
    ("1.2.3", "1.2.0.3", AddressFamily.InterNetwork, None),
    ("1.2.65535", "1.2.255.255", AddressFamily.InterNetwork, None),
    ("0x7f.1", "127.0.0.1", AddressFamily.InterNetwork, None),
    ("0X7F000001", "127.0.0.1", AddressFamily.InterNetwork, None),
    ("010.0.0.1", "8.0.0.1", AddressFamily.InterNetwork, None),
    ("4294967295", "255.255.255.255", AddressFamily.InterNetwork, None),
    ("16777217", "1.0.0.1", AddressFamily.InterNetwork, None),
    # IPv6
    ("::", "::", AddressFamily.InterNetworkV6, 0),
    ("::1", "::1", AddressFamily.InterNetworkV6, 0),
    ("2001:db8::1", "2001:db8::1", AddressFamily.InterNetworkV6, 0),
    ("2001:0DB8:0000:0000:0000:0000:0000:0001", "2001:db8::1", AddressFamily.InterNetworkV6, 0),
    ("1:0:0:1:0:0:0:1", "1:0:0:1::1", AddressFamily.InterNetworkV6, 0),
    ("1:0:0:2:0:0:3:4", "1::2:0:0:3:4", AddressFamily.InterNetworkV6, 0),
    ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0", AddressFamily.InterNetworkV6, 0),
    ("1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0", AddressFamily.InterNetworkV6, 0),
    ("::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8", AddressFamily.InterNetworkV6, 0),
    ("1::", "1::", AddressFamily.InterNetworkV6, 0),
    # embedded IPv4: mapped, compatible, SIIT, ISATAP
    ("::ffff:1.2.3.4", "::ffff:1.2.3.4", AddressFamily.InterNetworkV6, 0),
    ("::FFFF:7f00:1", "::ffff:127.0.0.1", AddressFamily.InterNetworkV6, 0),
    ("::ffff:0.0.0.1", "::ffff:0:1", AddressFamily.InterNetworkV6, 0),
    ("::1.2.3.4", "::1.2.3.4", AddressFamily.InterNetworkV6, 0),
    ("::ffff:0:1.2.3.4", "::ffff:0:1.2.3.4", AddressFamily.InterNetworkV6, 0),
    ("fe80::5efe:1.2.3.4", "fe80::5efe:1.2.3.4", AddressFamily.InterNetworkV6, 0),
    ("1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304", AddressFamily.InterNetworkV6, 0),
    ("::1.2.3.04", "::1.2.3.4", AddressFamily.InterNetworkV6, 0),  # .NET quirk: last octet only
    # brackets, ports, scopes
    ("[::1]", "::1", AddressFamily.InterNetworkV6, 0),
    ("[::1]:80", "::1", AddressFamily.InterNetworkV6, 0),
    ("[::1]:0x50", "::1", AddressFamily.InterNetworkV6, 0),
    ("[::1]:", "::1", AddressFamily.InterNetworkV6, 0),
    ("fe80::1%2", "fe80::1%2", AddressFamily.InterNetworkV6, 2),
    ("[fe80::1%3]:443", "fe80::1%3", AddressFamily.InterNetworkV6, 3),
    ("fe80::1%", "fe80::1", AddressFamily.InterNetworkV6, 0),
    ("fe80::1%0004", "fe80::1%4", AddressFamily.InterNetworkV6, 4),
    ("fe80::1%lo", f"fe80::1%{LO_INDEX}", AddressFamily.InterNetworkV6, LO_INDEX),
    ("fe80::1%nosuchif0", "fe80::1", AddressFamily.InterNetworkV6, 0),
    ("fe80::1%99999999999", "fe80::1", AddressFamily.InterNetworkV6, 0),
    ("::ffff:1.2.3.4%5", "::ffff:1.2.3.4%5", AddressFamily.InterNetworkV6, 5),
]

INVALID = [
    "",
    " ",
    " 1.2.3.4",
    "1.2.3.4 ",
    "1.2.3.4.5",
    "256.1.1.1",
    "1.2.3.256",
    "1.2.3.",
    ".1.2.3",
    "1..2.3",
    "08",
    "0x",
    "0x100000000",
    "4294967296",
    "1.16777216",
    "1.2.65536",
    "abc",
    "1.2.3.4/24",
    "1.2.3.4:80",
    "1.2.3.4%1",
    "\uff11.2.3.4",  # a non-ASCII digit
    ":::",
    "1::2::3",
    ":1::",
    ":1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8::",
    "1:",
    "12345::",
    "::g",
    "[::1",
    "::1]",
    "[::1]x",
    "[::1]:8x",
    "[::1]%1",
    "[::1]]",
    "::1.2.3",
    "::01.2.3.4",
    "::00.1.2.3",
    "::1.2.3.00",
    "::1.2.3.4.5",
    "::256.1.1.1",
    "::1.2.3.4:5",
    "::ffff:1a.2.3.4",
    "1:2:3:4:5:1.2.3.4",
    "1:2:3:4:5:6:7:1.2.3.4",
    "fe80::1%2/64",
    "::1/128",
    "::1 ",
    "[1.2.3.4]",
    "%1",
]


@pytest.mark.parametrize("text, expected, family, scope", VALID)
def test_parse_valid(text: str, expected: str, family: AddressFamily, scope: int | None) -> None:
    a = IPAddress.Parse(text)
    assert str(a) == expected
    assert a.ToString() == expected
    assert a.AddressFamily == family
    if scope is not None:
        assert a.ScopeId == scope
    ok, b = IPAddress.TryParse(text)
    assert ok is True
    assert b == a
    # Whatever .NET prints parses back to the same address.
    assert IPAddress.Parse(expected) == a


@pytest.mark.parametrize("text", INVALID)
def test_parse_invalid(text: str) -> None:
    with pytest.raises(FormatException) as info:
        IPAddress.Parse(text)
    assert "invalid IP address" in str(info.value)
    assert IPAddress.TryParse(text) == (False, None)


def test_parse_none() -> None:
    with pytest.raises(ArgumentNullException) as info:
        IPAddress.Parse(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "ipString"
    assert IPAddress.TryParse(None) == (False, None)


def test_parse_bytes_match_the_kernel() -> None:
    for text in ("2001:db8:85a3::8a2e:370:7334", "::ffff:10.0.0.1", "fe80::1", "ff02::1:ff00:1"):
        assert IPAddress.Parse(text).GetAddressBytes() == socket.inet_pton(socket.AF_INET6, text)
    assert IPAddress.Parse("10.1.2.3").GetAddressBytes() == bytes([10, 1, 2, 3])


@given(st.binary(min_size=16, max_size=16), st.integers(0, 0xFFFFFFFF))
def test_ipv6_text_round_trip(raw: bytes, scope: int) -> None:
    a = IPAddress(raw, scope)
    text = str(a)
    assert IPAddress.Parse(text) == a
    assert text == text.lower()
    bare = text.partition("%")[0]
    assert socket.inet_pton(socket.AF_INET6, bare) == raw
    assert ":::" not in text


@given(st.binary(min_size=4, max_size=4))
def test_ipv4_text_round_trip(raw: bytes) -> None:
    a = IPAddress(raw)
    assert str(a) == socket.inet_ntop(socket.AF_INET, raw)
    assert IPAddress.Parse(str(a)) == a


# --------------------------------------------------------------------------
# IPAddress construction, members, equality
# --------------------------------------------------------------------------


def test_constructor_from_int_is_little_endian_like_dotnet() -> None:
    assert IPAddress(0x0100007F) == IPAddress.Loopback
    assert str(IPAddress(0x04030201)) == "1.2.3.4"
    assert IPAddress(0xFFFFFFFF) == IPAddress.Broadcast
    assert IPAddress(0x0100007F).Address == 0x0100007F


@pytest.mark.parametrize("value", [-1, 0x1_0000_0000])
def test_constructor_int_range(value: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        IPAddress(value)
    assert info.value.ParamName == "newAddress"


def test_constructor_bytes() -> None:
    assert IPAddress(b"\x7f\x00\x00\x01") == IPAddress.Loopback
    assert IPAddress(bytearray(16)) == IPAddress.IPv6Any
    assert IPAddress(memoryview(b"\x00" * 15 + b"\x01")) == IPAddress.IPv6Loopback
    with pytest.raises(ArgumentNullException) as info:
        IPAddress(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "address"
    for bad in (b"", b"\x01\x02\x03", b"\x00" * 5, b"\x00" * 17):
        with pytest.raises(ArgumentException) as info2:
            IPAddress(bad)
        assert info2.value.ParamName == "address"
    with pytest.raises(ArgumentException):
        IPAddress("127.0.0.1")  # type: ignore[arg-type]


def test_constructor_scope() -> None:
    raw = IPAddress.Parse("fe80::1").GetAddressBytes()
    assert IPAddress(raw, 7).ScopeId == 7
    assert str(IPAddress(raw, 7)) == "fe80::1%7"
    for bad in (-1, 0x1_0000_0000):
        with pytest.raises(ArgumentOutOfRangeException) as info:
            IPAddress(raw, bad)
        assert info.value.ParamName == "scopeid"
    with pytest.raises(ArgumentException) as info2:
        IPAddress(b"\x7f\x00\x00\x01", 3)
    assert info2.value.ParamName == "address"


def test_scope_id_of_ipv4_is_not_supported() -> None:
    with pytest.raises(SocketException) as info:
        _ = IPAddress.Loopback.ScopeId
    assert info.value.SocketErrorCode == SocketError.OperationNotSupported
    with pytest.raises(SocketException):
        _ = IPAddress.IPv6Loopback.Address


def test_immutable() -> None:
    a = IPAddress.Parse("fe80::1%2")
    with pytest.raises(AttributeError):
        a.ScopeId = 3  # type: ignore[misc]
    with pytest.raises(AttributeError):
        a.foo = 1  # type: ignore[attr-defined]


def test_constants() -> None:
    assert str(IPAddress.Any) == "0.0.0.0"
    assert str(IPAddress.Loopback) == "127.0.0.1"
    assert str(IPAddress.Broadcast) == "255.255.255.255"
    assert IPAddress.None_ is IPAddress.Broadcast
    assert str(IPAddress.IPv6Any) == "::"
    assert str(IPAddress.IPv6Loopback) == "::1"
    assert IPAddress.IPv6None is IPAddress.IPv6Any


def test_equality_and_hash() -> None:
    a, b = IPAddress.Parse("10.0.0.1"), IPAddress(b"\x0a\x00\x00\x01")
    assert a == b and hash(a) == hash(b) and not (a != b)
    assert IPAddress.Parse("fe80::1%1") != IPAddress.Parse("fe80::1%2")
    assert IPAddress.Parse("fe80::1%1") != IPAddress.Parse("fe80::1")
    assert IPAddress.Parse("::ffff:10.0.0.1") != a  # family is part of equality
    assert a != "10.0.0.1"
    assert len({a, b, IPAddress.Parse("10.0.0.2")}) == 2


def test_repr_and_pickle() -> None:
    for a in (IPAddress.Loopback, IPAddress.Parse("fe80::1%5"), IPAddress.Parse("::ffff:1.2.3.4")):
        assert eval(repr(a), {"IPAddress": IPAddress}) == a
        assert pickle.loads(pickle.dumps(a)) == a


def test_get_address_bytes() -> None:
    assert IPAddress.Loopback.GetAddressBytes() == b"\x7f\x00\x00\x01"
    assert IPAddress.IPv6Loopback.GetAddressBytes() == b"\x00" * 15 + b"\x01"


def test_map_to_ipv6_and_back() -> None:
    m = IPAddress.Parse("192.168.1.1").MapToIPv6()
    assert m.AddressFamily == AddressFamily.InterNetworkV6
    assert m.IsIPv4MappedToIPv6
    assert str(m) == "::ffff:192.168.1.1"
    assert m == IPAddress.Parse("::ffff:192.168.1.1")
    assert m.MapToIPv4() == IPAddress.Parse("192.168.1.1")
    assert m.MapToIPv6() is m
    assert IPAddress.Loopback.MapToIPv4() is IPAddress.Loopback
    # .NET takes the last 4 bytes whatever the prefix.
    assert IPAddress.Parse("2001:db8::102:304").MapToIPv4() == IPAddress.Parse("1.2.3.4")
    assert not IPAddress.Loopback.IsIPv4MappedToIPv6
    assert not IPAddress.Parse("::1.2.3.4").IsIPv4MappedToIPv6


@pytest.mark.parametrize(
    "text, expected",
    [
        ("127.0.0.1", True),
        ("127.255.3.4", True),
        ("128.0.0.1", False),
        ("::1", True),
        ("::ffff:127.0.0.1", True),
        ("::ffff:127.0.0.2", False),
        ("::1%1", False),
        ("::2", False),
    ],
)
def test_is_loopback(text: str, expected: bool) -> None:
    assert IPAddress.IsLoopback(IPAddress.Parse(text)) is expected


def test_is_loopback_none() -> None:
    with pytest.raises(ArgumentNullException) as info:
        IPAddress.IsLoopback(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "address"


def test_ipv6_kind_properties() -> None:
    p = IPAddress.Parse
    assert p("fe80::1").IsIPv6LinkLocal and not p("fec0::1").IsIPv6LinkLocal
    assert p("febf::1").IsIPv6LinkLocal
    assert p("fec0::1").IsIPv6SiteLocal and not p("fe80::1").IsIPv6SiteLocal
    assert p("ff02::1").IsIPv6Multicast and not p("fe02::1").IsIPv6Multicast
    assert p("2001:0:1::1").IsIPv6Teredo and not p("2001:1::1").IsIPv6Teredo
    assert p("fd00::1").IsIPv6UniqueLocal and not p("fe00::1").IsIPv6UniqueLocal
    v4 = IPAddress.Loopback
    assert not (v4.IsIPv6LinkLocal or v4.IsIPv6SiteLocal or v4.IsIPv6Multicast or v4.IsIPv6Teredo)


@pytest.mark.skipif(sys.byteorder != "little", reason="the expected values are for a little-endian host")
def test_host_to_network_order() -> None:
    h = IPAddress.HostToNetworkOrder
    assert h(1) == 0x01000000
    assert h(80) == 1342177280  # a C# int literal: the 32-bit overload
    assert h(80, 16) == 20480
    assert h(0x80, 16) == -32768  # .NET's results are signed
    assert h(-1) == -1
    assert h(0x0102030405060708) == 0x0807060504030201  # beyond int: the 64-bit overload
    assert IPAddress.NetworkToHostOrder(h(12345)) == 12345
    assert IPAddress.NetworkToHostOrder(h(-2, 64), 64) == -2
    with pytest.raises(ArgumentOutOfRangeException) as info:
        h(0x8000, 16)
    assert info.value.ParamName == "host"
    with pytest.raises(ArgumentOutOfRangeException):
        h(1, 8)


def test_pep8_aliases() -> None:
    assert IPAddress.IPv6Any is IPAddress.ipv6_any
    assert IPAddress.IPv6Loopback is IPAddress.ipv6_loopback
    assert IPAddress.IPv6None is IPAddress.ipv6_none
    assert IPAddress.None_ is IPAddress.none_
    assert IPAddress.Any is IPAddress.any
    assert IPAddress.Loopback is IPAddress.loopback
    assert IPAddress.Broadcast is IPAddress.broadcast
    assert IPAddress.Parse is IPAddress.parse
    assert IPAddress.TryParse is IPAddress.try_parse
    assert IPAddress.IsLoopback is IPAddress.is_loopback
    assert IPAddress.MapToIPv6 is IPAddress.map_to_ipv6
    assert IPAddress.MapToIPv4 is IPAddress.map_to_ipv4
    assert IPAddress.GetAddressBytes is IPAddress.get_address_bytes
    assert IPAddress.HostToNetworkOrder is IPAddress.host_to_network_order
    a = IPAddress.Parse("::ffff:1.2.3.4")
    assert a.is_ipv4_mapped_to_ipv6 is a.IsIPv4MappedToIPv6 is True
    assert a.address_family == a.AddressFamily
    assert a.scope_id == a.ScopeId
    assert IPAddress.Parse("fe80::1").is_ipv6_link_local
    assert IPEndPoint.Parse is IPEndPoint.parse
    assert IPEndPoint.MaxPort == IPEndPoint.max_port == 65535
    assert IPEndPoint.MinPort == IPEndPoint.min_port == 0
    ep = IPEndPoint(IPAddress.Loopback, 5)
    assert ep.address is ep.Address and ep.port == 5 and ep.address_family == AddressFamily.InterNetwork
    d = DnsEndPoint("h", 1)
    assert d.host == "h" and d.port == 1 and d.address_family == AddressFamily.Unspecified
    u = UnixDomainSocketEndPoint("/tmp/x")
    assert u.path == "/tmp/x" and u.address_family == AddressFamily.Unix


# --------------------------------------------------------------------------
# IPEndPoint
# --------------------------------------------------------------------------


def test_ip_endpoint_basics() -> None:
    ep = IPEndPoint(IPAddress.Loopback, 80)
    assert ep.Address is IPAddress.Loopback
    assert ep.Port == 80
    assert ep.AddressFamily == AddressFamily.InterNetwork
    assert isinstance(ep, EndPoint)
    assert str(ep) == ep.ToString() == "127.0.0.1:80"
    assert str(IPEndPoint(IPAddress.IPv6Loopback, 80)) == "[::1]:80"
    assert str(IPEndPoint(IPAddress.Parse("fe80::1%2"), 8080)) == "[fe80::1%2]:8080"
    assert IPEndPoint(0x0100007F, 1).Address == IPAddress.Loopback
    assert eval(repr(ep), {"IPAddress": IPAddress, "IPEndPoint": IPEndPoint}) == ep


@pytest.mark.parametrize("port", [-1, 65536, 1 << 40])
def test_ip_endpoint_port_range(port: int) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        IPEndPoint(IPAddress.Loopback, port)
    assert info.value.ParamName == "port"
    assert info.value.ActualValue == port
    ep = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentOutOfRangeException) as info:
        ep.Port = port
    assert info.value.ParamName == "value"  # .NET's property setters name their argument "value"
    assert ep.Port == 1


def test_ip_endpoint_port_edges() -> None:
    assert IPEndPoint(IPAddress.Loopback, 0).Port == 0
    assert IPEndPoint(IPAddress.Loopback, 65535).Port == 65535


def test_ip_endpoint_null_address() -> None:
    with pytest.raises(ArgumentNullException) as info:
        IPEndPoint(None, 80)  # type: ignore[arg-type]
    assert info.value.ParamName == "address"
    ep = IPEndPoint(IPAddress.Loopback, 1)
    with pytest.raises(ArgumentNullException) as info:
        ep.Address = None  # type: ignore[assignment]
    assert info.value.ParamName == "value"
    with pytest.raises(ArgumentException):
        IPEndPoint("127.0.0.1", 80)  # type: ignore[arg-type]


def test_ip_endpoint_long_form_checks_port_first() -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        IPEndPoint(-1, -1)
    assert info.value.ParamName == "port"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        IPEndPoint(-1, 1)
    assert info.value.ParamName == "newAddress"


def test_ip_endpoint_equality_and_hash() -> None:
    a = IPEndPoint(IPAddress.Parse("10.0.0.1"), 80)
    b = IPEndPoint(IPAddress.Parse("10.0.0.1"), 80)
    assert a == b and hash(a) == hash(b) and not (a != b)
    assert a != IPEndPoint(IPAddress.Parse("10.0.0.1"), 81)
    assert a != IPEndPoint(IPAddress.Parse("::ffff:10.0.0.1"), 80)
    assert a != "10.0.0.1:80"
    assert {a: 1}[b] == 1
    assert pickle.loads(pickle.dumps(a)) == a


@pytest.mark.parametrize(
    "text, address, port",
    [
        ("1.2.3.4:80", "1.2.3.4", 80),
        ("1.2.3.4", "1.2.3.4", 0),
        ("1.2.3.4:65535", "1.2.3.4", 65535),
        ("1.2.3.4:0080", "1.2.3.4", 80),
        ("127.1:5", "127.0.0.1", 5),
        ("[::1]:80", "::1", 80),
        ("[::1]", "::1", 0),
        ("::1", "::1", 0),
        ("::1:80", "::1:80", 0),  # no brackets: all of it is the address
        ("[fe80::1%2]:443", "fe80::1%2", 443),
    ],
)
def test_ip_endpoint_parse(text: str, address: str, port: int) -> None:
    ep = IPEndPoint.Parse(text)
    assert ep.Address == IPAddress.Parse(address)
    assert ep.Port == port
    assert IPEndPoint.TryParse(text) == (True, ep)
    assert IPEndPoint.Parse(str(ep)) == ep


@pytest.mark.parametrize(
    "text",
    ["", "1.2.3.4:", "1.2.3.4:65536", "1.2.3.4:-1", "1.2.3.4:+1", "1.2.3.4: 1", "[::1]:", "x:1", ":80"],
)
def test_ip_endpoint_parse_invalid(text: str) -> None:
    with pytest.raises(FormatException):
        IPEndPoint.Parse(text)
    assert IPEndPoint.TryParse(text) == (False, None)


def test_ip_endpoint_parse_none() -> None:
    with pytest.raises(ArgumentNullException) as info:
        IPEndPoint.Parse(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "s"
    assert IPEndPoint.TryParse(None) == (False, None)


def test_sockaddr_forms_and_cache() -> None:
    ep = IPEndPoint(IPAddress.Loopback, 80)
    assert ep._sockaddr(False) == ("127.0.0.1", 80)
    assert ep._sockaddr(False) is ep._sockaddr(False)
    assert ep._sockaddr(True) == ("::ffff:127.0.0.1", 80, 0, 0)
    ep.Port = 81
    assert ep._sockaddr(False) == ("127.0.0.1", 81)
    assert ep._sockaddr(True) == ("::ffff:127.0.0.1", 81, 0, 0)
    ep.Address = IPAddress.Parse("fe80::1%2")
    assert ep._sockaddr(False) == ("fe80::1", 81, 0, 2)
    assert ep._sockaddr(True) == ("fe80::1", 81, 0, 2)


# --------------------------------------------------------------------------
# sockaddr round trips on real sockets
# --------------------------------------------------------------------------


def _udp(family: int, host: str) -> socket.socket:
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.bind((host, 0))
    s.settimeout(WAIT)
    return s


@pytest.mark.parametrize(
    "family, host",
    [
        pytest.param(socket.AF_INET, "127.0.0.1", id="ipv4"),
        pytest.param(socket.AF_INET6, "::1", id="ipv6", marks=needs_ipv6),
    ],
)
def test_round_trip_real_socket(family: int, host: str) -> None:
    with _udp(family, host) as rx, _udp(family, host) as tx:
        local = from_sockaddr(family, rx.getsockname())
        assert isinstance(local, IPEndPoint)
        assert local.Address == IPAddress.Parse(host)
        assert local.Port == rx.getsockname()[1]
        tx.sendto(b"ping", to_sockaddr(local, family, False))
        data, sender = rx.recvfrom(100)
        assert data == b"ping"
        peer = from_sockaddr(family, sender)
        assert peer == from_sockaddr(family, tx.getsockname())
        # The endpoint made from a received address sends straight back.
        rx.sendto(b"pong", to_sockaddr(peer, family, False))
        assert tx.recvfrom(100)[0] == b"pong"


@needs_ipv6
def test_dual_mode_mapping() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as dual, _udp(socket.AF_INET, "127.0.0.1") as v4:
        dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        dual.bind(("::", 0))
        dual.settimeout(WAIT)
        target = from_sockaddr(socket.AF_INET, v4.getsockname())
        sa = to_sockaddr(target, socket.AF_INET6, True)
        assert sa == ("::ffff:127.0.0.1", v4.getsockname()[1], 0, 0)
        dual.sendto(b"to-v4", sa)
        data, _ = v4.recvfrom(100)
        assert data == b"to-v4"
        v4.sendto(b"to-dual", ("127.0.0.1", dual.getsockname()[1]))
        data, sender = dual.recvfrom(100)
        assert data == b"to-dual"
        peer = from_sockaddr(socket.AF_INET6, sender)
        assert isinstance(peer, IPEndPoint)
        assert peer.AddressFamily == AddressFamily.InterNetworkV6
        assert peer.Address.IsIPv4MappedToIPv6
        assert peer.Address.MapToIPv4() == IPAddress.Loopback
        assert str(peer) == f"[::ffff:127.0.0.1]:{v4.getsockname()[1]}"


def test_from_sockaddr_ipv6_scope_and_text_scope() -> None:
    ep = from_sockaddr(socket.AF_INET6, ("fe80::1", 9, 0, 3))
    assert isinstance(ep, IPEndPoint)
    assert ep.Address.ScopeId == 3
    assert str(ep) == "[fe80::1%3]:9"
    # Some resolvers put the interface name in the host text; the scope field wins.
    ep2 = from_sockaddr(socket.AF_INET6, ("fe80::1%lo", 9, 0, 3))
    assert ep2 == ep
    assert ep2._sockaddr(False) == ("fe80::1", 9, 0, 3)
    ep3 = from_sockaddr(socket.AF_INET6, ("2001:db8::1", 9, 77, 0))
    assert ep3._sockaddr(False) == ("2001:db8::1", 9, 0, 0)


def test_from_sockaddr_reuses_addresses_within_bound() -> None:
    a = from_sockaddr(socket.AF_INET, ("10.9.8.7", 1))
    b = from_sockaddr(socket.AF_INET, ("10.9.8.7", 2))
    assert isinstance(a, IPEndPoint) and isinstance(b, IPEndPoint)
    assert a.Address is b.Address
    assert a is not b
    for i in range(addr_mod._CACHE_MAX * 2 + 3):
        from_sockaddr(socket.AF_INET, (f"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 1))
        from_sockaddr(socket.AF_INET6, (f"2001:db8::{i:x}", 1, 0, 0))
    assert len(addr_mod._V4_CACHE) <= addr_mod._CACHE_MAX
    assert len(addr_mod._V6_CACHE) <= addr_mod._CACHE_MAX
    # A cached address is never changed by later use of the endpoint.
    b.Port = 3
    b.Address = IPAddress.Loopback
    c = from_sockaddr(socket.AF_INET, ("10.9.8.7", 1))
    assert isinstance(c, IPEndPoint) and str(c) == "10.9.8.7:1"


def test_to_sockaddr_errors() -> None:
    with pytest.raises(ArgumentException) as info:
        to_sockaddr(DnsEndPoint("example.com", 80), socket.AF_INET, False)
    assert info.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentNullException) as info2:
        to_sockaddr(None, socket.AF_INET, False)  # type: ignore[arg-type]
    assert info2.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentException) as info3:
        to_sockaddr(EndPoint(), socket.AF_INET, False)
    assert info3.value.ParamName == "remoteEP"
    cases = [
        (IPEndPoint(IPAddress.IPv6Loopback, 1), socket.AF_INET, False, SocketError.AddressFamilyNotSupported),
        (IPEndPoint(IPAddress.Loopback, 1), socket.AF_INET6, False, SocketError.AddressFamilyNotSupported),
        (UnixDomainSocketEndPoint("/tmp/x"), socket.AF_INET, False, SocketError.AddressFamilyNotSupported),
        (IPEndPoint(IPAddress.Loopback, 1), socket.AF_UNIX, False, SocketError.InvalidArgument),
    ]
    for ep, family, dual, expected in cases:
        with pytest.raises(SocketException) as info4:
            to_sockaddr(ep, family, dual)
        assert info4.value.SocketErrorCode == expected
    assert to_sockaddr(IPEndPoint(IPAddress.IPv6Loopback, 1), socket.AF_INET6, True) == ("::1", 1, 0, 0)


def test_to_sockaddr_subclass_of_ip_endpoint() -> None:
    class MyEndPoint(IPEndPoint):
        pass

    assert to_sockaddr(MyEndPoint(IPAddress.Loopback, 7), socket.AF_INET, False) == ("127.0.0.1", 7)


# --------------------------------------------------------------------------
# DnsEndPoint
# --------------------------------------------------------------------------


def test_dns_endpoint() -> None:
    d = DnsEndPoint("example.com", 80)
    assert d.Host == "example.com" and d.Port == 80
    assert d.AddressFamily == AddressFamily.Unspecified
    assert str(d) == d.ToString() == "Unspecified/example.com:80"
    d6 = DnsEndPoint("h", 1, AddressFamily.InterNetworkV6)
    assert str(d6) == "InterNetworkV6/h:1"
    assert str(DnsEndPoint("h", 1, AddressFamily.InterNetwork)) == "InterNetwork/h:1"
    assert isinstance(d, EndPoint)
    assert d == DnsEndPoint("example.com", 80) and hash(d) == hash(DnsEndPoint("example.com", 80))
    assert d != DnsEndPoint("Example.com", 80)  # .NET compares host names ordinally
    assert d != DnsEndPoint("example.com", 81)
    assert d != DnsEndPoint("example.com", 80, AddressFamily.InterNetwork)


def test_dns_endpoint_checks() -> None:
    with pytest.raises(ArgumentNullException) as info:
        DnsEndPoint(None, 80)  # type: ignore[arg-type]
    assert info.value.ParamName == "host"
    with pytest.raises(ArgumentException) as info2:
        DnsEndPoint("", 80)
    assert not isinstance(info2.value, ArgumentNullException)
    assert info2.value.ParamName == "host"
    for port in (-1, 65536):
        with pytest.raises(ArgumentOutOfRangeException) as info3:
            DnsEndPoint("h", port)
        assert info3.value.ParamName == "port"
    for family in (AddressFamily.Unix, AddressFamily.Unknown, AddressFamily.AppleTalk):
        with pytest.raises(ArgumentException) as info4:
            DnsEndPoint("h", 1, family)
        assert info4.value.ParamName == "addressFamily"


def test_endpoint_base_address_family() -> None:
    with pytest.raises(NotImplementedException):
        _ = EndPoint().AddressFamily


# --------------------------------------------------------------------------
# UnixDomainSocketEndPoint
# --------------------------------------------------------------------------


@pytest.fixture
def tmp_sock_dir() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="dns-") as d:
        yield d


def test_unix_endpoint_basics() -> None:
    u = UnixDomainSocketEndPoint("/tmp/a.sock")
    assert u.Path == "/tmp/a.sock" and str(u) == "/tmp/a.sock"
    assert u.AddressFamily == AddressFamily.Unix
    assert u == UnixDomainSocketEndPoint("/tmp/a.sock") and hash(u) == hash(
        UnixDomainSocketEndPoint("/tmp/a.sock")
    )
    assert u != UnixDomainSocketEndPoint("/tmp/b.sock")
    abstract = UnixDomainSocketEndPoint("\0name")
    assert abstract.Path == "\0name" and str(abstract) == "@name"
    assert str(UnixDomainSocketEndPoint("@literal")) == "@literal"
    assert UnixDomainSocketEndPoint("@literal") != UnixDomainSocketEndPoint("\0literal")


def test_unix_endpoint_checks() -> None:
    with pytest.raises(ArgumentNullException) as info:
        UnixDomainSocketEndPoint(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "path"
    UnixDomainSocketEndPoint("a" * 107)
    UnixDomainSocketEndPoint("\0" + "a" * 107)
    for bad in ("", "a" * 108, "\0" + "a" * 108, "\u00e9" * 54):
        with pytest.raises(ArgumentOutOfRangeException) as info2:
            UnixDomainSocketEndPoint(bad)
        assert info2.value.ParamName == "path"


def test_unix_round_trip_path(tmp_sock_dir: str) -> None:
    path = os.path.join(tmp_sock_dir, "rx.sock")
    ep = UnixDomainSocketEndPoint(path)
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(to_sockaddr(ep, socket.AF_UNIX, False))
        rx.settimeout(WAIT)
        assert from_sockaddr(socket.AF_UNIX, rx.getsockname()) == ep
        tx.sendto(b"hi", to_sockaddr(ep, socket.AF_UNIX, False))
        data, sender = rx.recvfrom(10)
        assert data == b"hi"
        unnamed = from_sockaddr(socket.AF_UNIX, sender)
        assert isinstance(unnamed, UnixDomainSocketEndPoint)
        assert unnamed.Path == ""


def test_unix_round_trip_abstract() -> None:
    name = f"\0dotnet-sockets-test-{os.getpid()}"
    ep = UnixDomainSocketEndPoint(name)
    with (
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as rx,
        socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as tx,
    ):
        rx.bind(to_sockaddr(ep, socket.AF_UNIX, False))
        rx.settimeout(WAIT)
        got = from_sockaddr(socket.AF_UNIX, rx.getsockname())
        assert got == ep and str(got) == "@" + name[1:]
        tx.sendto(b"hi", to_sockaddr(got, socket.AF_UNIX, False))
        assert rx.recvfrom(10)[0] == b"hi"


def test_unix_unnamed_forms() -> None:
    for raw in ("", b"", None):
        ep = from_sockaddr(socket.AF_UNIX, raw)
        assert isinstance(ep, UnixDomainSocketEndPoint)
        assert ep.Path == "" and str(ep) == ""
