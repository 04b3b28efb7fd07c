"""``SocketTaskExtensions``: the static class that held ``Socket``'s awaitable methods before .NET Core 2.1.

C# reaches these through the extension-method syntax (``socket.ReceiveAsync(buffer, flags)``),
which needs nothing here; code that names the class (``SocketTaskExtensions.ReceiveAsync(socket,
buffer, flags)``) gets ``Socket``'s own method, called on ``socket``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

from ._names import dotnet_names
from .exceptions import ArgumentException, ArgumentNullException

if TYPE_CHECKING:
    from .socket import Socket

__all__ = ["SocketTaskExtensions"]


def _socket(socket: Any) -> Socket:
    from .socket import Socket

    if socket is None:
        raise ArgumentNullException("socket")
    if not isinstance(socket, Socket):
        raise ArgumentException(f"Expected a Socket, not {type(socket).__name__}.", "socket")
    return socket


@dotnet_names
class SocketTaskExtensions:
    """Static forms of ``AcceptAsync``, ``ConnectAsync``, ``ReceiveAsync``, ``ReceiveFromAsync``,
    ``ReceiveMessageFromAsync``, ``SendAsync`` and ``SendToAsync``: ``socket``'s method with the
    other arguments.  Raises ``ArgumentNullException`` (``socket``) for None, then what the method
    raises."""

    __slots__ = ()

    @staticmethod
    def AcceptAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Socket]:
        """``await SocketTaskExtensions.AcceptAsync(socket[, accept_socket])``."""
        result: Coroutine[Any, Any, Socket] = _socket(socket).AcceptAsync(*args, **kwargs)
        return result

    @staticmethod
    def ConnectAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, None]:
        """``await SocketTaskExtensions.ConnectAsync(socket, remote_ep)``, or with address/host/addresses and port."""
        result: Coroutine[Any, Any, None] = _socket(socket).ConnectAsync(*args, **kwargs)
        return result

    @staticmethod
    def ReceiveAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """``await SocketTaskExtensions.ReceiveAsync(socket, buffer | buffers, socket_flags)``."""
        result: Coroutine[Any, Any, int] = _socket(socket).ReceiveAsync(*args, **kwargs)
        return result

    @staticmethod
    def ReceiveFromAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        """``await SocketTaskExtensions.ReceiveFromAsync(socket, buffer, socket_flags, remote_ep)``."""
        result: Coroutine[Any, Any, Any] = _socket(socket).ReceiveFromAsync(*args, **kwargs)
        return result

    @staticmethod
    def ReceiveMessageFromAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, Any]:
        """``await SocketTaskExtensions.ReceiveMessageFromAsync(socket, buffer, socket_flags, remote_end_point)``."""
        result: Coroutine[Any, Any, Any] = _socket(socket).ReceiveMessageFromAsync(*args, **kwargs)
        return result

    @staticmethod
    def SendAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """``await SocketTaskExtensions.SendAsync(socket, buffer | buffers, socket_flags)``."""
        result: Coroutine[Any, Any, int] = _socket(socket).SendAsync(*args, **kwargs)
        return result

    @staticmethod
    def SendToAsync(socket: Socket, *args: Any, **kwargs: Any) -> Coroutine[Any, Any, int]:
        """``await SocketTaskExtensions.SendToAsync(socket, buffer, socket_flags, remote_ep)``."""
        result: Coroutine[Any, Any, int] = _socket(socket).SendToAsync(*args, **kwargs)
        return result

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    accept_async = AcceptAsync
    connect_async = ConnectAsync
    receive_async = ReceiveAsync
    receive_from_async = ReceiveFromAsync
    receive_message_from_async = ReceiveMessageFromAsync
    send_async = SendAsync
    send_to_async = SendToAsync
    # -- end of PEP 8 spellings --
