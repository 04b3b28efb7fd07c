"""Dns and IPHostEntry: argument checks, lookups through a fake resolver, and real loopback lookups."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

from dotnet_sockets import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    Dns,
    IPAddress,
    IPHostEntry,
    SocketError,
    SocketException,
)
from dotnet_sockets import dns as dns_mod
from dotnet_sockets.dns import check_host_entry_argument, host_entry_core, set_resolver

P = IPAddress.Parse


class FakeResolver:
    """Answers from tables and records every question it is asked."""

    def __init__(self) -> None:
        self.forward: dict[str, list[str]] = {
            "example.test": ["192.0.2.1", "2001:db8::1", "192.0.2.1"],
            "fakehost": ["198.51.100.7"],
            "ptr-only.test": [],
            "linklocal.test": ["fe80::1%2"],
        }
        self.canonical = {"example.test": "canonical.example.test"}
        self.reverse = {
            "192.0.2.1": "example.test",
            "2001:db8::1": "example.test",
            "192.0.2.50": "ptr-only.test",
        }
        self.errors: dict[str, int] = {"again.test": socket.EAI_AGAIN, "fail.test": socket.EAI_FAIL}
        self.calls: list[tuple[str, Any]] = []

    def getaddrinfo(
        self, host: str, port: int | None, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0
    ) -> list[tuple[int, int, int, str, tuple[Any, ...]]]:
        self.calls.append(("getaddrinfo", host))
        if host in self.errors:
            raise socket.gaierror(self.errors[host], "fake failure")
        if host not in self.forward or not self.forward[host]:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        out: list[tuple[int, int, int, str, tuple[Any, ...]]] = []
        for text in self.forward[host]:
            for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
                first = not out
                canon = self.canonical.get(host, host) if first and flags & socket.AI_CANONNAME else ""
                if ":" in text:
                    bare, _, scope = text.partition("%")
                    out.append((socket.AF_INET6, kind, 0, canon, (bare, 0, 0, int(scope or 0))))
                else:
                    out.append((socket.AF_INET, kind, 0, canon, (text, 0)))
        return out

    def getnameinfo(self, sockaddr: tuple[Any, ...], flags: int) -> tuple[str, str]:
        self.calls.append(("getnameinfo", sockaddr))
        assert flags & socket.NI_NAMEREQD
        name = self.reverse.get(sockaddr[0])
        if name is None:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return name, "0"

    def gethostname(self) -> str:
        self.calls.append(("gethostname", None))
        return "fakehost"


@pytest.fixture
def fake() -> Iterator[FakeResolver]:
    r = FakeResolver()
    with set_resolver(r):
        yield r


# --------------------------------------------------------------------------
# With the fake resolver
# --------------------------------------------------------------------------


def test_get_host_addresses_dedupes_in_order(fake: FakeResolver) -> None:
    assert Dns.GetHostAddresses("example.test") == [P("192.0.2.1"), P("2001:db8::1")]
    assert fake.calls == [("getaddrinfo", "example.test")]


def test_scope_ids_from_the_resolver_are_kept(fake: FakeResolver) -> None:
    (a,) = Dns.GetHostAddresses("linklocal.test")
    assert a.ScopeId == 2 and str(a) == "fe80::1%2"


@pytest.mark.parametrize("literal", ["192.0.2.7", "2001:db8::7", "[::1]", "127.1"])
def test_get_host_addresses_literal_needs_no_resolver(fake: FakeResolver, literal: str) -> None:
    assert Dns.GetHostAddresses(literal) == [P(literal)]
    assert fake.calls == []


@pytest.mark.parametrize("literal", ["0.0.0.0", "::", "0"])
def test_get_host_addresses_rejects_unspecified(fake: FakeResolver, literal: str) -> None:
    with pytest.raises(ArgumentException) as info:
        Dns.GetHostAddresses(literal)
    assert info.value.ParamName == "hostNameOrAddress"
    assert fake.calls == []


def test_null_arguments(fake: FakeResolver) -> None:
    cases = [
        (Dns.GetHostAddresses, "hostNameOrAddress"),
        (Dns.GetHostEntry, "hostNameOrAddress"),
        (Dns.Resolve, "hostName"),
        (Dns.GetHostByName, "hostName"),
    ]
    for method, param in cases:
        with pytest.raises(ArgumentNullException) as info:
            method(None)
        assert info.value.ParamName == param
    with pytest.raises(ArgumentException):
        Dns.GetHostAddresses(42)  # type: ignore[arg-type]
    assert fake.calls == []


def test_host_name_length_limit(fake: FakeResolver) -> None:
    long_name = "a" * 256
    almost = "a" * 255
    with_dot = "a" * 254 + "."
    for method in (Dns.GetHostAddresses, Dns.GetHostEntry, Dns.Resolve, Dns.GetHostByName):
        for name in (long_name, almost):
            with pytest.raises(ArgumentOutOfRangeException) as info:
                method(name)
            assert info.value.ParamName == "hostName"
    assert fake.calls == []
    # 255 characters are allowed when the last is the root dot.
    fake.forward[with_dot] = ["192.0.2.9"]
    assert Dns.GetHostAddresses(with_dot) == [P("192.0.2.9")]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("nosuch.test", SocketError.HostNotFound),
        ("again.test", SocketError.TryAgain),
        ("fail.test", SocketError.NoRecovery),
    ],
)
def test_resolution_errors(fake: FakeResolver, name: str, expected: SocketError) -> None:
    for method in (Dns.GetHostAddresses, Dns.GetHostEntry, Dns.Resolve, Dns.GetHostByName):
        with pytest.raises(SocketException) as info:
            method(name)
        assert info.value.SocketErrorCode == expected
        assert isinstance(info.value, OSError)


def test_get_host_entry_by_name(fake: FakeResolver) -> None:
    e = Dns.GetHostEntry("example.test")
    assert isinstance(e, IPHostEntry)
    assert e.HostName == "canonical.example.test"
    assert e.Aliases == []
    assert e.AddressList == [P("192.0.2.1"), P("2001:db8::1")]


def test_get_host_entry_without_canonical_name_uses_the_name(fake: FakeResolver) -> None:
    e = Dns.GetHostEntry("fakehost")
    assert e.HostName == "fakehost"


@pytest.mark.parametrize("arg", [P("192.0.2.1"), "192.0.2.1", P("2001:db8::1")])
def test_get_host_entry_by_address_is_reverse_then_forward(fake: FakeResolver, arg: Any) -> None:
    e = Dns.GetHostEntry(arg)
    assert e.HostName == "canonical.example.test"
    assert e.AddressList == [P("192.0.2.1"), P("2001:db8::1")]
    assert fake.calls[0][0] == "getnameinfo"
    assert fake.calls[1] == ("getaddrinfo", "example.test")


def test_reverse_sockaddr_shapes(fake: FakeResolver) -> None:
    fake.reverse["fe80::1"] = "example.test"
    Dns.GetHostEntry(P("fe80::1%3"))
    Dns.GetHostEntry(P("192.0.2.1"))
    sockaddrs = [arg for kind, arg in fake.calls if kind == "getnameinfo"]
    assert sockaddrs == [("fe80::1", 0, 0, 3), ("192.0.2.1", 0)]


def test_get_host_entry_ptr_without_address(fake: FakeResolver) -> None:
    e = Dns.GetHostEntry("192.0.2.50")
    assert e.HostName == "ptr-only.test"
    assert e.AddressList == []


def test_get_host_entry_reverse_failure(fake: FakeResolver) -> None:
    with pytest.raises(SocketException) as info:
        Dns.GetHostEntry("192.0.2.99")
    assert info.value.SocketErrorCode == SocketError.HostNotFound


def test_get_host_entry_rejects_unspecified(fake: FakeResolver) -> None:
    for arg, param in [
        (IPAddress.Any, "address"),
        (IPAddress.IPv6Any, "address"),
        ("0.0.0.0", "hostNameOrAddress"),
        ("::", "hostNameOrAddress"),
    ]:
        with pytest.raises(ArgumentException) as info:
            Dns.GetHostEntry(arg)
        assert info.value.ParamName == param
    assert fake.calls == []


def test_resolve_literal_falls_back_to_the_literal(fake: FakeResolver) -> None:
    e = Dns.Resolve("192.0.2.99")
    assert e.HostName == "192.0.2.99"
    assert e.Aliases == []
    assert e.AddressList == [P("192.0.2.99")]
    assert fake.calls[0][0] == "getnameinfo"
    e2 = Dns.Resolve("192.0.2.1")
    assert e2.HostName == "canonical.example.test"


def test_resolve_empty_is_the_local_host(fake: FakeResolver) -> None:
    e = Dns.Resolve("")
    assert e.HostName == "fakehost"
    assert e.AddressList == [P("198.51.100.7")]
    assert fake.calls == [("gethostname", None), ("getaddrinfo", "fakehost")]
    assert Dns.GetHostEntry("").AddressList == [P("198.51.100.7")]
    assert Dns.GetHostAddresses("") == [P("198.51.100.7")]


def test_get_host_by_name_literal_needs_no_resolver(fake: FakeResolver) -> None:
    e = Dns.GetHostByName("192.0.2.1")
    assert (e.HostName, e.Aliases, e.AddressList) == ("192.0.2.1", [], [P("192.0.2.1")])
    assert fake.calls == []
    assert Dns.GetHostByName("example.test").AddressList == [P("192.0.2.1"), P("2001:db8::1")]


def test_get_host_name(fake: FakeResolver) -> None:
    assert Dns.GetHostName() == "fakehost"


def test_async_halves(fake: FakeResolver) -> None:
    """BeginGetHostEntry checks first, then runs the lookup elsewhere: the halves split that way."""
    with pytest.raises(ArgumentException):
        check_host_entry_argument(IPAddress.Any)
    with pytest.raises(ArgumentNullException):
        check_host_entry_argument(None)  # type: ignore[arg-type]
    target = check_host_entry_argument("192.0.2.1")
    assert target == P("192.0.2.1")
    assert check_host_entry_argument("example.test") == "example.test"
    assert fake.calls == []
    assert host_entry_core(target).HostName == "canonical.example.test"
    with pytest.raises(ArgumentOutOfRangeException):
        host_entry_core("a" * 300)


def test_set_resolver_restores() -> None:
    before = dns_mod._resolver
    r = FakeResolver()
    with set_resolver(r) as active:
        assert active is r
        assert Dns.GetHostName() == "fakehost"
    assert dns_mod._resolver is before
    with pytest.raises(ValueError), set_resolver(r):
        raise ValueError
    assert dns_mod._resolver is before


def test_ip_host_entry_is_settable() -> None:
    e = IPHostEntry()
    assert (e.HostName, e.Aliases, e.AddressList) == ("", [], [])
    e.HostName = "h"
    e.Aliases = ["a"]
    e.AddressList = [IPAddress.Loopback]
    assert (e.host_name, e.aliases, e.address_list) == ("h", ["a"], [IPAddress.Loopback])
    assert "IPHostEntry(" in repr(e)


def test_dns_is_static_and_has_pep8_aliases() -> None:
    with pytest.raises(TypeError):
        Dns()
    assert Dns.GetHostEntry is Dns.get_host_entry
    assert Dns.GetHostAddresses is Dns.get_host_addresses
    assert Dns.GetHostName is Dns.get_host_name
    assert Dns.Resolve is Dns.resolve
    assert IPHostEntry.AddressList is IPHostEntry.address_list


# --------------------------------------------------------------------------
# The real resolver, loopback names only
# --------------------------------------------------------------------------


def test_real_localhost() -> None:
    addrs = Dns.GetHostAddresses("localhost")
    assert IPAddress.Loopback in addrs
    assert all(IPAddress.IsLoopback(a) for a in addrs)
    assert len(set(addrs)) == len(addrs)
    v6_system = any(info[0] == socket.AF_INET6 for info in socket.getaddrinfo("localhost", None))
    assert (IPAddress.IPv6Loopback in addrs) == v6_system
    e = Dns.GetHostEntry("localhost")
    assert IPAddress.Loopback in e.AddressList
    assert e.HostName


def test_real_literals() -> None:
    assert Dns.GetHostAddresses("127.0.0.1") == [IPAddress.Loopback]
    assert Dns.GetHostAddresses("::1") == [IPAddress.IPv6Loopback]
    # Reverse lookup of 127.0.0.1, or the literal itself if there is no PTR for it.
    assert IPAddress.Loopback in Dns.Resolve("127.0.0.1").AddressList


def test_real_host_name_and_local_host() -> None:
    name = socket.gethostname()
    assert Dns.GetHostName() == name
    try:
        expected = {info[4][0] for info in socket.getaddrinfo(name, None)}
    except socket.gaierror:
        with pytest.raises(SocketException):
            Dns.Resolve("")
        return
    e = Dns.Resolve("")
    assert e.HostName
    assert {a._sockaddr_host() for a in e.AddressList} == {h.partition("%")[0] for h in expected}
