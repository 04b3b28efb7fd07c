"""Linux errno and resolver codes <-> ``SocketError``: the one table, as .NET on Unix has it.

The errno -> SocketError direction has .NET's 42 entries; anything else is
``SocketError.SocketError``.  The reverse direction is mostly the inverse, with
.NET's choice where several errnos share one SocketError.  A SocketError with
no Linux errno (``HostNotFound``, ``NoRecovery``, ``SocketError`` itself, the
WSA start-up codes) maps to its own number, as .NET does for those it leaves
unmapped: no errno would describe them better.
"""

from __future__ import annotations

import errno
import socket
from typing import Final

from .enums import SocketError

__all__ = [
    "socket_error_from_errno",
    "native_from_socket_error",
    "socket_error_from_gai",
    "socket_error_from_herror",
    "ERRNO_TO_SOCKET_ERROR",
    "SOCKET_ERROR_TO_NATIVE",
    "GAI_TO_SOCKET_ERROR",
]

_SE = SocketError

ERRNO_TO_SOCKET_ERROR: Final[dict[int, SocketError]] = {
    0: _SE.Success,
    errno.EACCES: _SE.AccessDenied,
    errno.EPERM: _SE.AccessDenied,
    errno.EADDRINUSE: _SE.AddressAlreadyInUse,
    errno.EADDRNOTAVAIL: _SE.AddressNotAvailable,
    errno.ENOENT: _SE.AddressNotAvailable,
    errno.EAFNOSUPPORT: _SE.AddressFamilyNotSupported,
    errno.EAGAIN: _SE.WouldBlock,  # == EWOULDBLOCK on Linux
    errno.EALREADY: _SE.AlreadyInProgress,
    errno.EBADF: _SE.OperationAborted,  # the handle was closed under the operation
    errno.ECANCELED: _SE.OperationAborted,
    errno.ECONNABORTED: _SE.ConnectionAborted,
    errno.ECONNREFUSED: _SE.ConnectionRefused,
    errno.ECONNRESET: _SE.ConnectionReset,
    errno.EDESTADDRREQ: _SE.DestinationAddressRequired,
    errno.EFAULT: _SE.Fault,
    errno.EHOSTDOWN: _SE.HostDown,
    errno.ENXIO: _SE.HostNotFound,
    errno.EHOSTUNREACH: _SE.HostUnreachable,
    errno.EINPROGRESS: _SE.InProgress,
    errno.EINTR: _SE.Interrupted,
    errno.EINVAL: _SE.InvalidArgument,
    errno.EISCONN: _SE.IsConnected,
    errno.EMFILE: _SE.TooManyOpenSockets,
    errno.ENFILE: _SE.TooManyOpenSockets,
    errno.EMSGSIZE: _SE.MessageSize,
    errno.ENETDOWN: _SE.NetworkDown,
    errno.ENETRESET: _SE.NetworkReset,
    errno.ENETUNREACH: _SE.NetworkUnreachable,
    errno.ENOBUFS: _SE.NoBufferSpaceAvailable,
    errno.ENODATA: _SE.NoData,
    errno.ENOPROTOOPT: _SE.ProtocolOption,
    errno.ENOTCONN: _SE.NotConnected,
    errno.ENOTSOCK: _SE.NotSocket,
    errno.ENOTSUP: _SE.OperationNotSupported,  # == EOPNOTSUPP on Linux
    errno.EPIPE: _SE.Shutdown,
    errno.EPFNOSUPPORT: _SE.ProtocolFamilyNotSupported,
    errno.EPROTONOSUPPORT: _SE.ProtocolNotSupported,
    errno.EPROTOTYPE: _SE.ProtocolType,
    errno.ESOCKTNOSUPPORT: _SE.SocketNotSupported,
    errno.ESHUTDOWN: _SE.Disconnecting,
    errno.ETIMEDOUT: _SE.TimedOut,
}
# On a libc where EOPNOTSUPP differs from ENOTSUP, both still mean "not supported".
ERRNO_TO_SOCKET_ERROR.setdefault(errno.EOPNOTSUPP, _SE.OperationNotSupported)

# Where several errnos share one SocketError, .NET reports this one; and a few
# SocketErrors no errno maps to still have a closest errno.
_NATIVE_CHOICES: Final[dict[int, int]] = {
    _SE.AccessDenied: errno.EACCES,
    _SE.AddressNotAvailable: errno.EADDRNOTAVAIL,
    _SE.OperationAborted: errno.ECANCELED,
    _SE.TooManyOpenSockets: errno.ENFILE,
    _SE.WouldBlock: errno.EAGAIN,
    _SE.OperationNotSupported: errno.ENOTSUP,
    _SE.IOPending: errno.EINPROGRESS,
    _SE.TryAgain: errno.EAGAIN,
}

# Keyed by int so a bare SocketError number looks up the same as the member.
SOCKET_ERROR_TO_NATIVE: Final[dict[int, int]] = {
    se: err
    for err, se in ERRNO_TO_SOCKET_ERROR.items()
    # ENXIO ("No such device or address") would be a misleading text for a
    # failed name lookup; .NET also keeps HostNotFound off the errno table.
    if se is not _SE.HostNotFound
}
SOCKET_ERROR_TO_NATIVE.update(_NATIVE_CHOICES)

# getaddrinfo() failures, as Windows' getaddrinfo reports them (its EAI_* are
# these WSA codes), so ported code sees the SocketError it expects.
GAI_TO_SOCKET_ERROR: Final[dict[int, SocketError]] = {
    code: se
    for name, se in (
        ("EAI_NONAME", _SE.HostNotFound),
        ("EAI_AGAIN", _SE.TryAgain),
        ("EAI_FAIL", _SE.NoRecovery),
        ("EAI_NODATA", _SE.NoData),
        ("EAI_ADDRFAMILY", _SE.NoData),
        ("EAI_FAMILY", _SE.AddressFamilyNotSupported),
        ("EAI_SOCKTYPE", _SE.SocketNotSupported),
        ("EAI_SERVICE", _SE.TypeNotFound),
        ("EAI_BADFLAGS", _SE.InvalidArgument),
        ("EAI_MEMORY", _SE.NoBufferSpaceAvailable),
    )
    if (code := getattr(socket, name, None)) is not None
}

# h_errno values of gethostbyname()/gethostbyaddr() (socket.herror), from
# <netdb.h>; the socket module does not export them.
_HOST_NOT_FOUND: Final = 1
_TRY_AGAIN: Final = 2
_NO_RECOVERY: Final = 3
_NO_DATA: Final = 4
_HERROR_TO_SOCKET_ERROR: Final[dict[int, SocketError]] = {
    _HOST_NOT_FOUND: _SE.HostNotFound,
    _TRY_AGAIN: _SE.TryAgain,
    _NO_RECOVERY: _SE.NoRecovery,
    _NO_DATA: _SE.NoData,
}

_errno_get = ERRNO_TO_SOCKET_ERROR.get
_GENERIC: Final = _SE.SocketError


def socket_error_from_errno(err: int) -> SocketError:
    """The SocketError .NET on Linux reports for errno ``err`` (``SocketError`` if none)."""
    return _errno_get(err, _GENERIC)


def native_from_socket_error(se: SocketError | int) -> int:
    """The Linux errno that stands for ``se``; its own number when no errno does."""
    native = SOCKET_ERROR_TO_NATIVE.get(se)
    return int(se) if native is None else native


def socket_error_from_gai(code: int) -> SocketError:
    """The SocketError for a ``socket.gaierror`` code (``EAI_*``)."""
    return GAI_TO_SOCKET_ERROR.get(code, _GENERIC)


def socket_error_from_herror(code: int) -> SocketError:
    """The SocketError for a ``socket.herror`` code (``h_errno``)."""
    return _HERROR_TO_SOCKET_ERROR.get(code, _GENERIC)
