"""What the client classes (``TcpClient``, ``TcpListener``, ``UdpClient``, ``NetworkStream``) share."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .cancellation import CancellationToken
from .enums import SocketShutdown
from .exceptions import ObjectDisposedException, SocketException

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["close_socket", "positional", "split_token"]


def close_socket(sock: Socket, timeout: int = -1) -> None:
    """Shut both directions down (as .NET's ``InternalShutdown``, errors ignored), then close."""
    try:
        sock.Shutdown(SocketShutdown.Both)
    except (SocketException, ObjectDisposedException):
        pass  # not connected, or already closed: closing is what matters
    finally:
        if timeout >= 0:
            sock.Close(timeout)
        else:
            sock.Close()


def split_token(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[tuple[Any, ...], CancellationToken]:
    """Take the trailing ``CancellationToken`` (positional or ``cancellation_token=``) off the arguments."""
    token = kwargs.pop("cancellation_token", None)
    if token is None and args and isinstance(args[-1], CancellationToken):
        token, args = args[-1], args[:-1]
    if token is None:
        return args, CancellationToken.None_
    if not isinstance(token, CancellationToken):
        raise TypeError("cancellation_token must be a CancellationToken")
    return args, token


def positional(method: str, args: tuple[Any, ...], kwargs: dict[str, Any], names: tuple[str, ...]) -> tuple[Any, ...]:
    """``args`` followed by the keyword arguments among ``names``, in that order (.NET's overloads
    are told apart by position); any other keyword is a ``TypeError``."""
    named = tuple(kwargs.pop(k) for k in names if k in kwargs)
    if kwargs:
        raise TypeError(f"{method}() got unexpected arguments {sorted(kwargs)}")
    return args + named
