"""A receive of 0 bytes waits for data, in every model.

.NET on Unix makes it a 1-byte ``MSG_PEEK`` (``SocketPal.TryCompleteReceive``): it finishes with 0
once data is there (the data, or the datagram, left for the next receive) or the peer closed its side, and it
would-blocks like any receive until then.  dotnet/runtime's ``SendRecv_0ByteReceive_Success`` and
``Receive0ByteReturns_WhenPeerDisconnects`` (FunctionalTests/SendReceive) run it for the sync,
Begin/End, event-based and task models; this is their scenario, on each path of this package
(the short paths of every model, and the general paths with flags given).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    NetworkStream,
    Socket,
    SocketAddress,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
)
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made

# How long a receive that must wait is watched before data is sent: it cannot prove it waits
# for ever, but a receive that returns at once (the defect) is caught every time.
STILL = 0.1


class Pending:
    """A started 0-byte receive: ``done`` waits (bounded) for its count, or its exception."""

    def __init__(self) -> None:
        self.outcome: list[Any] = []
        self.event = threading.Event()

    def put(self, value: Any) -> None:
        self.outcome.append(value)
        self.event.set()

    def finished_within(self, seconds: float) -> bool:
        return self.event.wait(seconds)

    def result(self) -> Any:
        assert self.event.wait(WAIT), "the receive never finished"
        (value,) = self.outcome
        if isinstance(value, BaseException):
            raise value
        return value


def _in_thread(call: Callable[[], Any]) -> Pending:
    p = Pending()

    def work() -> None:
        try:
            p.put(call())
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            p.put(exc)

    threading.Thread(target=work, daemon=True).start()
    return p


def _sync(s: Socket, buf: bytearray) -> Pending:
    s.ReceiveTimeout = int(WAIT * 1000)
    return _in_thread(lambda: s.Receive(buf, 0, 0, SocketFlags.None_))


def _sync_whole(s: Socket, buf: bytearray) -> Pending:
    s.ReceiveTimeout = int(WAIT * 1000)
    return _in_thread(lambda: s.Receive(bytearray()))


def _sync_flags(s: Socket, buf: bytearray) -> Pending:
    # Receive(buffer, size, flags): not a fast path's shape.
    return _in_thread(lambda: s.Receive(buf, 0, SocketFlags.None_))


def _stream_read(s: Socket, buf: bytearray) -> Pending:
    stream = NetworkStream(s, False)
    return _in_thread(lambda: stream.Read(buf, 0, 0))


def _begin(s: Socket, buf: bytearray) -> Pending:
    p = Pending()

    def callback(ar: Any) -> None:
        try:
            p.put(s.EndReceive(ar))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            p.put(exc)

    s.BeginReceive(buf, 0, 0, SocketFlags.None_, callback, None)
    return p


def _event(s: Socket, buf: bytearray) -> Pending:
    p = Pending()
    e = SocketAsyncEventArgs()
    e.SetBuffer(buf, 0, 0)

    def finished(_: Any, ev: SocketAsyncEventArgs) -> None:
        p.put(ev.BytesTransferred if ev.SocketError == SocketError.Success else SocketException(int(ev.SocketError)))

    e.Completed += finished
    if not s.ReceiveAsync(e):
        finished(s, e)
    return p


def _awaited(s: Socket, buf: bytearray) -> Pending:
    async def main() -> int:
        n: int = await asyncio.wait_for(s.ReceiveAsync(bytearray()), WAIT)
        return n

    return _in_thread(lambda: asyncio.run(main()))


def _awaited_flags(s: Socket, buf: bytearray) -> Pending:
    async def main() -> int:
        n: int = await asyncio.wait_for(s.ReceiveAsync(buf[:0], SocketFlags.Peek), WAIT)
        return n

    return _in_thread(lambda: asyncio.run(main()))


MODELS = {
    "sync": _sync,
    "sync_whole": _sync_whole,
    "sync_flags": _sync_flags,
    "stream_read": _stream_read,
    "begin": _begin,
    "event": _event,
    "awaited": _awaited,
    "awaited_flags": _awaited_flags,
}


@pytest.mark.parametrize("model", MODELS)
def test_a_zero_byte_receive_waits_for_data_and_leaves_it(made: Made, model: str) -> None:
    client, server = made.pair()
    start = MODELS[model]
    buf = bytearray(1)
    for _ in range(2):
        waiting = start(client, buf)
        assert not waiting.finished_within(STILL), f"returned {waiting.outcome} with no data there"
        assert client.Available == 0
        assert server.Send(b"x") == 1
        assert waiting.result() == 0
        assert client.Available == 1  # the byte is still there
        # Data there: it finishes at once, and still takes nothing.
        assert start(client, buf).result() == 0
        assert client.Available == 1
        client.ReceiveTimeout = int(WAIT * 1000)
        assert client.Receive(buf) == 1 and buf == b"x"


@pytest.mark.parametrize("model", MODELS)
def test_a_zero_byte_receive_finishes_when_the_peer_closes(made: Made, model: str) -> None:
    client, server = made.pair()
    waiting = MODELS[model](client, bytearray(1))
    assert not waiting.finished_within(STILL), f"returned {waiting.outcome} with no data there"
    server.Shutdown(2)
    server.Close()
    assert waiting.result() == 0


def test_a_zero_byte_receive_times_out_or_would_block_as_any_receive(made: Made) -> None:
    client, _server = made.pair()
    client.ReceiveTimeout = 50
    with pytest.raises(SocketException) as err:
        client.Receive(bytearray(1), 0, 0, SocketFlags.None_)
    assert err.value.SocketErrorCode == SocketError.TimedOut
    client.Blocking = False
    with pytest.raises(SocketException) as err:
        client.Receive(bytearray())
    assert err.value.SocketErrorCode == SocketError.WouldBlock


def test_a_zero_byte_receive_ended_by_close_is_aborted(made: Made) -> None:
    client, _server = made.pair()
    waiting = _begin(client, bytearray(1))
    assert not waiting.finished_within(STILL)
    client.Close()
    with pytest.raises(SocketException) as err:
        waiting.result()
    assert err.value.SocketErrorCode == SocketError.OperationAborted


@pytest.mark.parametrize("model", [m for m in MODELS if m != "stream_read"])
def test_a_zero_byte_receive_on_a_datagram_socket_waits_for_a_datagram_and_leaves_it(made: Made, model: str) -> None:
    # The same peek: the datagram (even an empty one) stays for the next receive.
    a = made.udp()
    b = made.udp()
    a.Connect(b.LocalEndPoint)
    b.Connect(a.LocalEndPoint)
    for datagram in (b"abc", b""):
        waiting = MODELS[model](b, bytearray(1))
        assert not waiting.finished_within(STILL), f"returned {waiting.outcome} with no datagram there"
        before = Telemetry.snapshot()
        a.Send(datagram)
        assert waiting.result() == 0
        # Counted as .NET counts a datagram receive that succeeded: one datagram, 0 bytes.
        d = Telemetry.snapshot() - before
        assert (d.datagrams_received, d.bytes_received) == (1, 0)
        buf = bytearray(8)
        b.ReceiveTimeout = int(WAIT * 1000)
        assert b.Receive(buf) == len(datagram) and buf[: len(datagram)] == datagram


# -- receive-from: the same peek (SocketPal.TryCompleteReceiveFrom), the sender reported ------------------


def _from_sync(s: Socket, sender: list[Any]) -> Pending:
    s.ReceiveTimeout = int(WAIT * 1000)

    def call() -> int:
        n, ep = s.ReceiveFrom(bytearray(4), 0, 0, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0))
        sender.append(ep)
        return int(n)

    return _in_thread(call)


def _from_sync_whole(s: Socket, sender: list[Any]) -> Pending:
    s.ReceiveTimeout = int(WAIT * 1000)

    def call() -> int:
        n, ep = s.ReceiveFrom(bytearray(), IPEndPoint(IPAddress.Any, 0))
        sender.append(ep)
        return int(n)

    return _in_thread(call)


def _from_address(s: Socket, sender: list[Any]) -> Pending:
    s.ReceiveTimeout = int(WAIT * 1000)
    address = SocketAddress(AddressFamily.InterNetwork)

    def call() -> int:
        n = s.ReceiveFrom(bytearray(), SocketFlags.None_, address)
        sender.append(IPEndPoint(IPAddress.Any, 0).Create(address))
        return int(n)

    return _in_thread(call)


def _from_begin(s: Socket, sender: list[Any]) -> Pending:
    p = Pending()

    def callback(ar: Any) -> None:
        try:
            n, ep = s.EndReceiveFrom(ar)
            sender.append(ep)
            p.put(n)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            p.put(exc)

    s.BeginReceiveFrom(bytearray(4), 0, 0, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), callback, None)
    return p


def _from_event(s: Socket, sender: list[Any]) -> Pending:
    p = Pending()
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(4), 0, 0)
    e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)

    def finished(_: Any, ev: SocketAsyncEventArgs) -> None:
        sender.append(ev.RemoteEndPoint)
        p.put(ev.BytesTransferred if ev.SocketError == SocketError.Success else SocketException(int(ev.SocketError)))

    e.Completed += finished
    if not s.ReceiveFromAsync(e):
        finished(s, e)
    return p


def _from_awaited(s: Socket, sender: list[Any]) -> Pending:
    async def main() -> int:
        r = await asyncio.wait_for(s.ReceiveFromAsync(bytearray(), IPEndPoint(IPAddress.Any, 0)), WAIT)
        sender.append(r.RemoteEndPoint)
        return int(r.ReceivedBytes)

    return _in_thread(lambda: asyncio.run(main()))


FROM_MODELS = {
    "sync": _from_sync,
    "sync_whole": _from_sync_whole,
    "socket_address": _from_address,
    "begin": _from_begin,
    "event": _from_event,
    "awaited": _from_awaited,
}


@pytest.mark.parametrize("model", FROM_MODELS)
def test_a_zero_byte_receive_from_waits_for_a_datagram_names_its_sender_and_leaves_it(made: Made, model: str) -> None:
    a = made.udp()
    b = made.udp()
    for datagram in (b"abc", b""):
        sender: list[Any] = []
        waiting = FROM_MODELS[model](b, sender)
        assert not waiting.finished_within(STILL), f"returned {waiting.outcome} with no datagram there"
        a.SendTo(datagram, b.LocalEndPoint)
        assert waiting.result() == 0
        assert sender == [a.LocalEndPoint]
        buf = bytearray(8)
        b.ReceiveTimeout = int(WAIT * 1000)
        n, ep = b.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))
        assert (bytes(buf[:n]), ep) == (datagram, a.LocalEndPoint)
