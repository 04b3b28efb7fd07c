"""A ``Close`` from another thread landing between a member's disposed check and its system call.

The window is too narrow to hit by racing threads in a test, so each test opens it on purpose:
the socket is closed the way ``Close`` closes it (disposed first, then the descriptor) at the
last moment before the call, with the package's queue not yet told.  What .NET does there:

- a member that only asks the descriptor (``LocalEndPoint``, ``Available``, an option): the
  interop marshalling of the closed ``SafeHandle`` throws ``ObjectDisposedException``
  (ObjectName "SafeHandle"), never a ``SocketException``;
- a synchronous send or receive: ``SocketPal`` reports ``OperationAborted``, which
  ``Update{Send,Receive}SocketErrorForDisposed`` turns into ``ConnectionAborted`` on a stream
  socket and ``Interrupted`` on a datagram socket, what a call cut short by ``Close`` raises.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import Any

import pytest

from dotnet_sockets import (
    IOControlCode,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    SelectMode,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
)
from socket_helpers import Made

_armed: list[Socket] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    # The member's own audit event runs after its disposed check and before its call.
    if _armed and event.startswith("dotnet_sockets.Socket.") and args and args[0] is _armed[0]:
        _close_behind(_armed.pop())


sys.addaudithook(_hook)  # hooks cannot be removed; this one acts only when armed


def _close_behind(s: Socket) -> None:
    """What ``Close`` does first (disposed, then the descriptor closed), with the check of the
    queue already passed: the call that follows finds the descriptor gone (EBADF)."""
    s._disposed = True
    if s._connected:
        s._connected = False
        s._disconnected = True
    os.close(s._io.sock.detach())


class _Closing:
    """A stand-in for the socket object that closes it behind the member's back at the call."""

    def __init__(self, s: Socket) -> None:
        self.s = s
        self.real = s._sock

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.real, name)
        if not callable(attr):
            return attr

        def call(*args: Any) -> Any:
            _close_behind(self.s)
            return attr(*args)

        return call


GETTERS: dict[str, Callable[[Socket], Any]] = {
    "LocalEndPoint": lambda s: s.LocalEndPoint,
    "Available": lambda s: s.Available,
    "ReceiveBufferSize": lambda s: s.ReceiveBufferSize,
    "set ReceiveBufferSize": lambda s: setattr(s, "ReceiveBufferSize", 65536),
    "LingerState": lambda s: s.LingerState,
    "GetSocketOption with a length": lambda s: s.GetSocketOption(0xFFFF, 0x1001, 4),
    "Poll": lambda s: s.Poll(0, SelectMode.SelectRead),
    "IOControl": lambda s: s.IOControl(IOControlCode.DataToRead, None, bytearray(4)),
}


@pytest.mark.parametrize("member", GETTERS)
def test_a_member_asking_the_descriptor_of_a_socket_closed_meanwhile_raises_object_disposed(
    made: Made, member: str
) -> None:
    s = made.udp()
    s._sock = _Closing(s)  # type: ignore[assignment]
    with pytest.raises(ObjectDisposedException) as err:
        GETTERS[member](s)
    assert err.value.ObjectName == "SafeHandle"
    assert "Safe handle has been closed." in err.value.Message
    with pytest.raises(ObjectDisposedException):  # and from now on, the socket's own
        GETTERS[member](s)


def _stream(made: Made) -> tuple[Socket, Socket]:
    return made.pair()


CALLS: dict[str, tuple[bool, Callable[[Socket, Socket], Any]]] = {
    # name: (stream?, the call on the socket about to be closed)
    "Receive": (True, lambda s, peer: s.Receive(bytearray(4))),
    "Receive, offset form": (True, lambda s, peer: s.Receive(bytearray(4), 0, 4, SocketFlags.None_)),
    "Receive, general": (True, lambda s, peer: s.Receive(bytearray(4), 4, SocketFlags.None_)),
    "Send": (True, lambda s, peer: s.Send(b"abcd")),
    "Send, offset form": (True, lambda s, peer: s.Send(b"abcd", 0, 4, SocketFlags.None_)),
    "Send, general": (True, lambda s, peer: s.Send(b"abcd", 4, SocketFlags.None_)),
    "datagram Receive": (False, lambda s, peer: s.Receive(bytearray(4))),
    "ReceiveFrom": (False, lambda s, peer: s.ReceiveFrom(bytearray(4), IPEndPoint(IPAddress.Any, 0))),
    "SendTo": (False, lambda s, peer: s.SendTo(b"abcd", peer.LocalEndPoint)),
    "SendTo, general": (False, lambda s, peer: s.SendTo(b"abcd", 4, SocketFlags.None_, peer.LocalEndPoint)),
}


@pytest.mark.parametrize("call", CALLS)
def test_a_synchronous_call_whose_socket_is_closed_before_its_system_call_is_aborted_as_dotnet_says(
    made: Made, call: str
) -> None:
    stream, run = CALLS[call]
    if stream:
        s, peer = made.pair()
        peer.Send(b"data")  # a receive would not wait: it makes its call at once
    else:
        s, peer = made.udp(), made.udp()
        peer.SendTo(b"data", s.LocalEndPoint)
    s.ReceiveTimeout = s.SendTimeout = 5000
    _armed.append(s)
    try:
        with pytest.raises(SocketException) as err:
            run(s, peer)
    finally:
        _armed.clear()
    expected = SocketError.ConnectionAborted if stream else SocketError.Interrupted
    assert err.value.SocketErrorCode == expected
