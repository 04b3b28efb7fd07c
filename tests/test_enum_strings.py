"""str()/format()/ToString() of enum values print what .NET's Enum.ToString() prints.

The expected names were printed by .NET Core 3.1 (``Enum.GetValues`` of each type, ``ToString()``),
including which name .NET shows where several share one value.
"""

from __future__ import annotations

import pytest

from dotnet_sockets import (
    AddressFamily,
    FormatException,
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
from dotnet_sockets.waithandles import EventResetMode


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (AddressFamily.InterNetwork, "InterNetwork"),
        (AddressFamily.InterNetworkV6, "InterNetworkV6"),
        (AddressFamily.Unknown, "Unknown"),
        (AddressFamily.NS, "Ipx"),  # 6: .NET shows Ipx for both names
        (AddressFamily.Osi, "Iso"),
        (ProtocolType.IP, "Unspecified"),  # 0 is IP, IPv6HopByHopOptions and Unspecified
        (ProtocolType.Udp, "Udp"),
        (SocketType.Dgram, "Dgram"),
        (SocketError.ConnectionRefused, "ConnectionRefused"),
        (SocketError.Success, "Success"),
        (SocketOptionName.Debug, "NoDelay"),
        (SocketOptionName.DontLinger, "DontLinger"),
        (SocketOptionName.ExclusiveAddressUse, "ExclusiveAddressUse"),
        (SocketOptionName.ReuseAddress, "ReuseAddress"),
        (SocketOptionLevel.Socket, "Socket"),
        (SocketShutdown.Both, "Both"),
        (SelectMode.SelectRead, "SelectRead"),
        (SocketAsyncOperation.None_, "None"),
        (SocketAsyncOperation.SendTo, "SendTo"),
        (EventResetMode.ManualReset, "ManualReset"),
    ],
)
def test_str_is_the_dotnet_name(value: object, text: str) -> None:
    assert str(value) == text
    assert f"{value}" == text
    assert format(value) == text
    assert value.ToString() == text  # type: ignore[attr-defined]
    assert value.to_string() == text  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("flags", "text"),
    [
        (SocketFlags.None_, "None"),
        (SocketFlags.Peek, "Peek"),
        (SocketFlags.Peek | SocketFlags.DontRoute, "Peek, DontRoute"),
        (SocketFlags.DontRoute | SocketFlags.OutOfBand | SocketFlags.Peek, "OutOfBand, Peek, DontRoute"),
        (SocketFlags.Partial | SocketFlags.Broadcast, "Broadcast, Partial"),
        (SocketFlags(0x20000), "131072"),  # a bit with no name: the whole value is a number
        (SocketFlags(0x20002), "131074"),
    ],
)
def test_flags_print_as_dotnet_lists_them(flags: SocketFlags, text: str) -> None:
    assert str(flags) == text
    assert f"{flags}" == text
    assert flags.ToString() == text


def test_a_value_without_a_name_prints_its_number() -> None:
    odd = SocketError(12345)
    assert str(odd) == "12345"
    assert int(odd) == 12345


def test_int_still_gives_the_number() -> None:
    assert int(AddressFamily.InterNetworkV6) == 23
    assert int(SocketFlags.Peek | SocketFlags.DontRoute) == 6
    assert AddressFamily.InterNetwork == 2
    assert f"{SocketError.ConnectionRefused:d}" == "10061"


def test_dotnet_format_strings() -> None:
    # .NET: string.Format("{0:D} {0:X} {0:G} {0:F}", SocketError.ConnectionRefused)
    refused = SocketError.ConnectionRefused
    assert f"{refused:D} {refused:X} {refused:G} {refused:F}" == "10061 0000274D ConnectionRefused ConnectionRefused"
    both = SocketFlags.Peek | SocketFlags.OutOfBand
    assert f"{both:D} {both:X} {both:G} {both:F}" == "3 00000003 OutOfBand, Peek OutOfBand, Peek"
    assert f"{AddressFamily.Unknown:X}" == "FFFFFFFF"
    assert refused.ToString("D") == "10061"
    assert refused.ToString("x") == "0000274d"


def test_python_number_formats_still_work() -> None:
    refused = SocketError.ConnectionRefused
    assert f"{refused:>7d}" == "  10061"
    assert f"{refused:#x}" == "0x274d"
    assert f"{SocketFlags.Peek:04b}" == "0010"


def test_unknown_dotnet_format_string_is_a_format_exception() -> None:
    with pytest.raises(FormatException):
        SocketError.Success.ToString("Q")
