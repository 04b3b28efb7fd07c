"""The naming rule: .NET and PEP 8 spellings are one object, for every public class."""

from __future__ import annotations

import inspect

import pytest

import dotnet_sockets
from dotnet_sockets._names import pep8_name


@pytest.mark.parametrize(
    ("dotnet", "pep8"),
    [
        ("EndSendTo", "end_send_to"),
        ("IPv6Any", "ipv6_any"),
        ("AddressList", "address_list"),
        ("EnableBroadcast", "enable_broadcast"),
        ("GetHostEntry", "get_host_entry"),
        ("IPEndPoint", "ip_end_point"),
        ("remoteEP", "remote_ep"),
        ("MapToIPv4", "map_to_ipv4"),
        ("SocketErrorCode", "socket_error_code"),
        ("IsIPv4MappedToIPv6", "is_ipv4_mapped_to_ipv6"),
        ("IOControl", "io_control"),
        ("None_", "none_"),
    ],
)
def test_pep8_rule(dotnet: str, pep8: str) -> None:
    assert pep8_name(dotnet) == pep8


def _public_classes() -> list[type]:
    out = []
    for name in dotnet_sockets.__all__:
        obj = getattr(dotnet_sockets, name)
        if inspect.isclass(obj) and not issubclass(obj, int):
            out.append(obj)
    return out


@pytest.mark.parametrize("cls", _public_classes(), ids=lambda c: c.__name__)
def test_every_dotnet_member_has_its_pep8_alias(cls: type) -> None:
    for klass in cls.__mro__:
        if klass.__module__.split(".")[0] != "dotnet_sockets":
            continue
        for name, value in vars(klass).items():
            if not name[:1].isupper():
                continue
            alias = pep8_name(name)
            if alias == name:
                continue
            assert alias in vars(klass), f"{klass.__name__}.{name} has no {alias}"
            assert vars(klass)[alias] is value, f"{klass.__name__}.{alias} is not {name}"


def test_contract_examples() -> None:
    from dotnet_sockets import IPAddress, Socket

    assert Socket.BeginSendTo is Socket.begin_send_to
    assert IPAddress.IPv6Any is IPAddress.ipv6_any
    assert IPAddress.Parse is IPAddress.parse
