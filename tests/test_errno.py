"""The errno <-> SocketError table against dotnet-behaviour.md 6.2/6.3 (Linux numbers)."""

from __future__ import annotations

import errno
import socket

import pytest

from dotnet_sockets._errno import (
    ERRNO_TO_SOCKET_ERROR,
    native_from_socket_error,
    socket_error_from_errno,
    socket_error_from_gai,
    socket_error_from_herror,
)
from dotnet_sockets.enums import SocketError

SE = SocketError

# errno number on Linux -> SocketError, the 42 entries of SocketErrorPal.Unix.cs.
LINUX_ERRNO_TABLE = [
    (13, SE.AccessDenied),
    (1, SE.AccessDenied),
    (98, SE.AddressAlreadyInUse),
    (99, SE.AddressNotAvailable),
    (2, SE.AddressNotAvailable),
    (97, SE.AddressFamilyNotSupported),
    (11, SE.WouldBlock),
    (114, SE.AlreadyInProgress),
    (9, SE.OperationAborted),
    (125, SE.OperationAborted),
    (103, SE.ConnectionAborted),
    (111, SE.ConnectionRefused),
    (104, SE.ConnectionReset),
    (89, SE.DestinationAddressRequired),
    (14, SE.Fault),
    (112, SE.HostDown),
    (6, SE.HostNotFound),
    (113, SE.HostUnreachable),
    (115, SE.InProgress),
    (4, SE.Interrupted),
    (22, SE.InvalidArgument),
    (106, SE.IsConnected),
    (24, SE.TooManyOpenSockets),
    (23, SE.TooManyOpenSockets),
    (90, SE.MessageSize),
    (100, SE.NetworkDown),
    (102, SE.NetworkReset),
    (101, SE.NetworkUnreachable),
    (105, SE.NoBufferSpaceAvailable),
    (61, SE.NoData),
    (92, SE.ProtocolOption),
    (107, SE.NotConnected),
    (88, SE.NotSocket),
    (95, SE.OperationNotSupported),
    (32, SE.Shutdown),
    (96, SE.ProtocolFamilyNotSupported),
    (93, SE.ProtocolNotSupported),
    (91, SE.ProtocolType),
    (94, SE.SocketNotSupported),
    (108, SE.Disconnecting),
    (110, SE.TimedOut),
    (0, SE.Success),
]


def test_table_has_the_42_dotnet_entries() -> None:
    assert len(LINUX_ERRNO_TABLE) == 42
    assert {e for e, _ in LINUX_ERRNO_TABLE} == set(ERRNO_TO_SOCKET_ERROR)


@pytest.mark.parametrize(("err", "expected"), LINUX_ERRNO_TABLE)
def test_errno_to_socket_error(err: int, expected: SocketError) -> None:
    assert socket_error_from_errno(err) is expected


def test_aliases_of_one_errno() -> None:
    assert socket_error_from_errno(errno.EWOULDBLOCK) is SE.WouldBlock
    assert socket_error_from_errno(errno.EOPNOTSUPP) is SE.OperationNotSupported


@pytest.mark.parametrize("err", [errno.ENOMEM, errno.EIO, errno.ENOSPC, errno.ELOOP, 9999, -5])
def test_unlisted_errno_is_generic(err: int) -> None:
    assert socket_error_from_errno(err) is SE.SocketError


# SocketError -> Linux errno (6.3), with .NET's choices where several errnos share one.
NATIVE_TABLE = [
    (SE.Success, 0),
    (SE.AccessDenied, 13),  # not EPERM
    (SE.AddressAlreadyInUse, 98),
    (SE.AddressNotAvailable, 99),  # not ENOENT
    (SE.AddressFamilyNotSupported, 97),
    (SE.AlreadyInProgress, 114),
    (SE.ConnectionAborted, 103),
    (SE.ConnectionRefused, 111),
    (SE.ConnectionReset, 104),
    (SE.DestinationAddressRequired, 89),
    (SE.Disconnecting, 108),
    (SE.Fault, 14),
    (SE.HostDown, 112),
    (SE.HostUnreachable, 113),
    (SE.InProgress, 115),
    (SE.Interrupted, 4),
    (SE.InvalidArgument, 22),
    (SE.IOPending, 115),
    (SE.IsConnected, 106),
    (SE.MessageSize, 90),
    (SE.NetworkDown, 100),
    (SE.NetworkReset, 102),
    (SE.NetworkUnreachable, 101),
    (SE.NoBufferSpaceAvailable, 105),
    (SE.NoData, 61),
    (SE.NotConnected, 107),
    (SE.NotSocket, 88),
    (SE.OperationAborted, 125),  # not EBADF
    (SE.OperationNotSupported, 95),
    (SE.ProtocolFamilyNotSupported, 96),
    (SE.ProtocolNotSupported, 93),
    (SE.ProtocolOption, 92),
    (SE.ProtocolType, 91),
    (SE.Shutdown, 32),
    (SE.SocketNotSupported, 94),
    (SE.TimedOut, 110),
    (SE.TooManyOpenSockets, 23),  # ENFILE, not EMFILE
    (SE.TryAgain, 11),
    (SE.WouldBlock, 11),
]


@pytest.mark.parametrize(("se", "native"), NATIVE_TABLE)
def test_socket_error_to_native(se: SocketError, native: int) -> None:
    assert native_from_socket_error(se) == native
    assert native_from_socket_error(int(se)) == native


@pytest.mark.parametrize(
    "se",
    [
        SE.SocketError,
        SE.HostNotFound,
        SE.NoRecovery,
        SE.NotInitialized,
        SE.ProcessLimit,
        SE.SystemNotReady,
        SE.TypeNotFound,
        SE.VersionNotSupported,
    ],
)
def test_socket_error_without_errno_keeps_its_own_number(se: SocketError) -> None:
    assert native_from_socket_error(se) == int(se)


def test_every_socket_error_has_a_native_code() -> None:
    covered = {se for se, _ in NATIVE_TABLE} | {
        SE.SocketError,
        SE.HostNotFound,
        SE.NoRecovery,
        SE.NotInitialized,
        SE.ProcessLimit,
        SE.SystemNotReady,
        SE.TypeNotFound,
        SE.VersionNotSupported,
    }
    assert covered == set(SocketError)


@pytest.mark.parametrize(("err", "se"), [(e, s) for e, s in LINUX_ERRNO_TABLE if s is not SE.HostNotFound])
def test_round_trip_lands_on_the_same_socket_error(err: int, se: SocketError) -> None:
    assert socket_error_from_errno(native_from_socket_error(se)) is se


@pytest.mark.parametrize(
    ("name", "se"),
    [
        ("EAI_NONAME", SE.HostNotFound),
        ("EAI_AGAIN", SE.TryAgain),
        ("EAI_FAIL", SE.NoRecovery),
        ("EAI_NODATA", SE.NoData),
        ("EAI_FAMILY", SE.AddressFamilyNotSupported),
        ("EAI_SERVICE", SE.TypeNotFound),
        ("EAI_SOCKTYPE", SE.SocketNotSupported),
        ("EAI_BADFLAGS", SE.InvalidArgument),
    ],
)
def test_gai_codes(name: str, se: SocketError) -> None:
    code = getattr(socket, name, None)
    if code is None:
        pytest.skip(f"socket.{name} is not defined by this libc")
    assert socket_error_from_gai(code) is se


def test_unknown_gai_code_is_generic() -> None:
    assert socket_error_from_gai(-12345) is SE.SocketError
    assert socket_error_from_gai(socket.EAI_SYSTEM) is SE.SocketError


def test_herror_codes() -> None:
    assert socket_error_from_herror(1) is SE.HostNotFound
    assert socket_error_from_herror(2) is SE.TryAgain
    assert socket_error_from_herror(3) is SE.NoRecovery
    assert socket_error_from_herror(4) is SE.NoData
    assert socket_error_from_herror(77) is SE.SocketError
