"""Audit events (``sys.audit``) of the members added with ``ReceiveMessageFrom``, the file sends,
``IOControl`` and the ``SocketAddress`` forms: named after the .NET member, raised after the
argument checks, and a denial reaches the caller as ``SecurityException`` with nothing done."""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentNullException,
    IOControlCode,
    IPAddress,
    IPEndPoint,
    SecurityException,
    SendPacketsElement,
    Socket,
    SocketAddress,
    SocketAsyncEventArgs,
    SocketFlags,
)
from socket_helpers import Made

_PREFIX = "dotnet_sockets.Socket."


class _Hook:
    events: list[tuple[str, Any]] | None = None
    deny: str | None = None


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if not event.startswith(_PREFIX) or _Hook.events is None:
        return
    member = event[len(_PREFIX) :]
    _Hook.events.append((member, args[0] if args else None))
    if member == _Hook.deny:
        raise PermissionError(f"test hook refuses {member}")


sys.addaudithook(_hook)



@pytest.fixture
def events() -> Iterator[list[tuple[str, Any]]]:
    recorded: list[tuple[str, Any]] = []
    _Hook.events = recorded
    yield recorded
    _Hook.events = None
    _Hook.deny = None


def _names(events: list[tuple[str, Any]], sock: Socket) -> list[str]:
    return [m for m, s in events if s is sock]


def test_new_members_raise_events_named_after_them(made: Made, tmp_path: Path, events: list[Any]) -> None:
    u = made.udp()
    peer = made.udp()
    u.ReceiveTimeout = int(WAIT * 1000)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    for _ in range(4):
        peer.SendTo(b"x", u.LocalEndPoint)
    u.ReceiveMessageFrom(bytearray(4), SocketFlags.None_, any_ep)
    u.EndReceiveMessageFrom(u.BeginReceiveMessageFrom(bytearray(4), 0, 4, SocketFlags.None_, any_ep, None, None))
    u.ReceiveFrom(bytearray(4), SocketFlags.None_, SocketAddress(AddressFamily.InterNetwork))
    done = threading.Event()
    e = SocketAsyncEventArgs()
    e.Completed += lambda s, a: done.set()
    e.SetBuffer(bytearray(4), 0, 4)
    e.RemoteEndPoint = any_ep
    if u.ReceiveMessageFromAsync(e):
        assert done.wait(WAIT)
    u.IOControl(IOControlCode.DataToRead, None, bytearray(4))
    assert _names(events, u)[-5:] == [
        "ReceiveMessageFrom",
        "BeginReceiveMessageFrom",
        "ReceiveFrom",
        "ReceiveMessageFromAsync",
        "IOControl",
    ]
    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    client, _server = made.pair()
    client.SendFile(str(path))
    client.EndSendFile(client.BeginSendFile(str(path), None, None))
    asyncio.run(client.SendFileAsync(str(path)))
    e2 = SocketAsyncEventArgs()
    done.clear()
    e2.Completed += lambda s, a: done.set()
    e2.SendPacketsElements = [SendPacketsElement(b"p")]
    assert client.SendPacketsAsync(e2) and done.wait(WAIT)
    assert _names(events, client)[-4:] == ["SendFile", "BeginSendFile", "SendFileAsync", "SendPacketsAsync"]


def test_events_come_after_the_argument_checks(made: Made, events: list[Any]) -> None:
    u = made.udp()
    with pytest.raises(ArgumentNullException):
        u.ReceiveMessageFrom(None, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0))
    with pytest.raises(ArgumentNullException):
        u.ReceiveFrom(bytearray(4), SocketFlags.None_, received_address=None)
    assert _names(events, u) == ["Bind"]


def test_a_denied_receive_takes_nothing(made: Made, events: list[Any]) -> None:
    u = made.udp()
    peer = made.udp()
    u.ReceiveTimeout = int(WAIT * 1000)
    peer.SendTo(b"kept", u.LocalEndPoint)
    any_ep = IPEndPoint(IPAddress.Any, 0)
    received = SocketAddress(AddressFamily.InterNetwork)
    for member, call in (
        ("ReceiveMessageFrom", lambda: u.ReceiveMessageFrom(bytearray(8), SocketFlags.None_, any_ep)),
        ("ReceiveFrom", lambda: u.ReceiveFrom(bytearray(8), SocketFlags.None_, received)),
    ):
        _Hook.deny = member
        with pytest.raises(SecurityException):
            call()
    _Hook.deny = None
    assert u.Available == 4  # the datagram is still there


def test_a_denied_send_file_sends_nothing_and_closes_its_file(made: Made, tmp_path: Path, events: list[Any]) -> None:
    import os

    path = tmp_path / "f.bin"
    path.write_bytes(b"data")
    client, server = made.pair()
    before = len(os.listdir("/proc/self/fd"))
    _Hook.deny = "SendFile"
    with pytest.raises(SecurityException):
        client.SendFile(str(path), b"pre", None, 0)
    assert len(os.listdir("/proc/self/fd")) == before
    assert server.Available == 0
