"""Equals/GetHashCode/ToString of addresses, endpoints and options, and the IPAddress/IPEndPoint members
.NET added later (TryFormat, TryWriteBytes, IsValid, the UTF-8 Parse/TryParse overloads).

Expected values follow dotnet/runtime's System.Net.Primitives tests (IPAddressTest, IPEndPointTest,
IPAddressParsing) and what .NET Core 3.1 printed for the same calls.
"""

from __future__ import annotations

import array

import pytest

from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    DnsEndPoint,
    FormatException,
    IPAddress,
    IPEndPoint,
    IPv6MulticastOption,
    LingerOption,
    MulticastOption,
    SocketError,
    SocketException,
    UnixDomainSocketEndPoint,
)

INT32 = range(-(2**31), 2**31)

EQUAL_PAIRS = [
    (IPAddress.Loopback, IPAddress.Parse("127.0.0.1")),
    (IPAddress.Parse("fe80::1%3"), IPAddress(bytes.fromhex("fe800000000000000000000000000001"), 3)),
    (IPEndPoint(IPAddress.Loopback, 80), IPEndPoint.Parse("127.0.0.1:80")),
    (IPEndPoint(IPAddress.IPv6Loopback, 1), IPEndPoint.Parse("[::1]:1")),
    (DnsEndPoint("host", 1), DnsEndPoint("host", 1)),
    (UnixDomainSocketEndPoint("/tmp/a"), UnixDomainSocketEndPoint("/tmp/a")),
    (LingerOption(True, 5), LingerOption(True, 5)),
]

UNEQUAL_PAIRS = [
    (IPAddress.Loopback, IPAddress.Parse("127.0.0.2")),
    (IPAddress.Parse("fe80::1%3"), IPAddress.Parse("fe80::1%4")),  # the scope counts, as in .NET
    (IPAddress.Loopback, IPAddress.Loopback.MapToIPv6()),
    (IPEndPoint(IPAddress.Loopback, 80), IPEndPoint(IPAddress.Loopback, 81)),
    (DnsEndPoint("host", 1), DnsEndPoint("HOST", 1)),  # .NET compares host names exactly
    (DnsEndPoint("host", 1), DnsEndPoint("host", 1, AddressFamily.InterNetwork)),
    (UnixDomainSocketEndPoint("/tmp/a"), UnixDomainSocketEndPoint("/tmp/b")),
    (LingerOption(True, 5), LingerOption(False, 5)),
]


@pytest.mark.parametrize(("a", "b"), EQUAL_PAIRS)
def test_equals_and_get_hash_code_agree_with_eq_and_hash(a: object, b: object) -> None:
    assert a.Equals(b) and b.Equals(a)  # type: ignore[attr-defined]
    assert a.equals(b)  # type: ignore[attr-defined]
    assert a == b
    assert a.GetHashCode() == b.GetHashCode()  # type: ignore[attr-defined]
    assert a.get_hash_code() in INT32  # type: ignore[attr-defined]
    assert a.ToString() == b.ToString()  # type: ignore[attr-defined]
    if not isinstance(a, LingerOption):
        assert str(a) == a.ToString()  # type: ignore[attr-defined]


@pytest.mark.parametrize(("a", "b"), UNEQUAL_PAIRS)
def test_unequal_values(a: object, b: object) -> None:
    assert not a.Equals(b)  # type: ignore[attr-defined]
    assert not b.Equals(a)  # type: ignore[attr-defined]


@pytest.mark.parametrize("value", [p[0] for p in EQUAL_PAIRS])
def test_equals_another_type_or_none_is_false(value: object) -> None:
    assert not value.Equals(None)  # type: ignore[attr-defined]
    assert not value.Equals(str(value))  # type: ignore[attr-defined]
    assert not value.Equals(42)  # type: ignore[attr-defined]


def test_endpoint_to_string_as_dotnet_prints_it() -> None:
    assert IPEndPoint(IPAddress.Loopback, 80).ToString() == "127.0.0.1:80"
    assert IPEndPoint(IPAddress.IPv6Loopback, 80).ToString() == "[::1]:80"
    assert DnsEndPoint("a", 1).ToString() == "Unspecified/a:1"
    assert DnsEndPoint("a", 1, AddressFamily.InterNetwork).ToString() == "InterNetwork/a:1"
    assert UnixDomainSocketEndPoint("\0abstract").ToString() == "@abstract"
    assert IPAddress.Parse("::ffff:1.2.3.4").ToString() == "::ffff:1.2.3.4"


def test_options_print_their_type_name_and_multicast_options_compare_by_identity() -> None:
    # .NET overrides neither ToString on these nor Equals on the multicast options.
    assert LingerOption(True, 5).ToString() == "System.Net.Sockets.LingerOption"
    group = IPAddress.Parse("224.0.0.1")
    m = MulticastOption(group)
    assert m.ToString() == "System.Net.Sockets.MulticastOption"
    assert m.Equals(m)
    assert not m.Equals(MulticastOption(group))
    v6 = IPv6MulticastOption(IPAddress.Parse("ff02::1"))
    assert v6.ToString() == "System.Net.Sockets.IPv6MulticastOption"
    assert not v6.Equals(IPv6MulticastOption(IPAddress.Parse("ff02::1")))


@pytest.mark.parametrize(
    ("address", "text"),
    [("127.0.0.1", "127.0.0.1"), ("::1", "::1"), ("fe80::1%3", "fe80::1%3"), ("255.255.255.255", "255.255.255.255")],
)
def test_try_format_writes_the_text(address: str, text: str) -> None:
    ip = IPAddress.Parse(address)
    dest = bytearray(64)
    assert ip.TryFormat(dest) == (True, len(text))
    assert dest[: len(text)] == text.encode()
    exact = bytearray(len(text))
    assert ip.try_format(exact) == (True, len(text))
    small = bytearray(len(text) - 1)
    assert ip.TryFormat(small) == (False, 0)
    assert small == bytearray(len(text) - 1)  # nothing written


def test_try_write_bytes() -> None:
    dest = bytearray(16)
    assert IPAddress.Loopback.TryWriteBytes(dest) == (True, 4)
    assert dest[:4] == b"\x7f\x00\x00\x01"
    assert IPAddress.IPv6Loopback.TryWriteBytes(dest) == (True, 16)
    assert bytes(dest) == IPAddress.IPv6Loopback.GetAddressBytes()
    assert IPAddress.Loopback.TryWriteBytes(bytearray(3)) == (False, 0)
    assert IPAddress.IPv6Loopback.TryWriteBytes(bytearray(15)) == (False, 0)
    arr = array.array("B", bytes(4))
    assert IPAddress.Loopback.TryWriteBytes(arr) == (True, 4)  # type: ignore[arg-type]
    assert arr.tobytes() == b"\x7f\x00\x00\x01"
    view = memoryview(bytearray(8))[2:6]
    assert IPAddress.Loopback.TryWriteBytes(view) == (True, 4)


@pytest.mark.parametrize("bad", [b"\x00" * 16, "text", 5])
def test_try_write_bytes_needs_a_writable_buffer(bad: object) -> None:
    with pytest.raises(ArgumentException) as info:
        IPAddress.Loopback.TryWriteBytes(bad)  # type: ignore[arg-type]
    assert info.value.ParamName == "destination"
    with pytest.raises(ArgumentException):
        IPAddress.Loopback.TryFormat(bad)  # type: ignore[arg-type]


def test_endpoint_try_format() -> None:
    ep = IPEndPoint(IPAddress.IPv6Loopback, 443)
    dest = bytearray(32)
    assert ep.TryFormat(dest) == (True, 9)
    assert dest[:9] == b"[::1]:443"
    assert ep.TryFormat(bytearray(8)) == (False, 0)


@pytest.mark.parametrize(
    ("text", "valid"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("0x7f.1", True),  # .NET's IPv4 parser takes the inet_aton forms
        ("1.2.3.256", False),
        ("1.2.3.4.5", False),
        ("", False),
        ("host.example", False),
    ],
)
def test_is_valid_agrees_with_try_parse(text: str, valid: bool) -> None:
    assert IPAddress.IsValid(text) is valid
    assert IPAddress.is_valid_utf8(text.encode()) is valid
    assert IPAddress.TryParse(text)[0] is valid


def test_is_valid_never_raises() -> None:
    assert IPAddress.IsValid(None) is False  # type: ignore[arg-type]
    assert IPAddress.IsValidUtf8(b"\xff\xfe") is False
    assert IPAddress.IsValidUtf8("127.0.0.1") is False  # type: ignore[arg-type]


def test_parse_utf8_bytes_overloads() -> None:
    assert IPAddress.Parse(b"10.0.0.1") == IPAddress.Parse("10.0.0.1")
    assert IPAddress.Parse(bytearray(b"::1")) == IPAddress.IPv6Loopback
    assert IPAddress.TryParse(memoryview(b"1.2.3.4")) == (True, IPAddress.Parse("1.2.3.4"))
    assert IPAddress.TryParse(b"\xff") == (False, None)
    with pytest.raises(FormatException) as bad:
        IPAddress.Parse(b"nope")
    # As .NET: FormatException with the SocketException (InvalidArgument) inside.
    assert isinstance(bad.value.InnerException, SocketException)
    assert bad.value.InnerException.SocketErrorCode == SocketError.InvalidArgument
    assert IPEndPoint.Parse(b"[::1]:80") == IPEndPoint(IPAddress.IPv6Loopback, 80)
    assert IPEndPoint.TryParse(b"1.2.3.4:99999") == (False, None)
    with pytest.raises(ArgumentNullException) as info:
        IPAddress.Parse(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "ipString"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[::1]:80", IPEndPoint(IPAddress.IPv6Loopback, 80)),
        ("1.2.3.4", IPEndPoint(IPAddress.Parse("1.2.3.4"), 0)),
        ("1.2.3.4:65535", IPEndPoint(IPAddress.Parse("1.2.3.4"), 65535)),
        ("1.2.3.4:65536", None),
        ("1.2.3.4:", None),
        ("[::1]:", None),
        ("host:80", None),
        (None, None),
    ],
)
def test_ipendpoint_try_parse(text: str | None, expected: IPEndPoint | None) -> None:
    assert IPEndPoint.TryParse(text) == (expected is not None, expected)
