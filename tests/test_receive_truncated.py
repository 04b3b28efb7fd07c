"""A datagram larger than the receive buffer, in every receive form.

What .NET Core 3.1 does on Linux (``tests/oracle/Truncated.cs``, run with the ``dotnetcore2`` host
on this machine; a 100-byte datagram into a 10-byte buffer): every form receives the 10 bytes that
fit, with no error; the forms that report flags say ``Truncated``::

    Receive / Receive(out error) / ReceiveFrom / BeginReceive / BeginReceiveFrom   10 bytes, Success
    ReceiveAsync / ReceiveFromAsync (awaitables)                                    10 bytes
    ReceiveMessageFrom, EndReceiveMessageFrom (ref flags)                           10, Truncated
    ReceiveMessageFromAsync (awaitable) .SocketFlags                                10, Truncated
    ReceiveAsync(e), ReceiveFromAsync(e), ReceiveMessageFromAsync(e)                10, Success, Truncated

(Mono 6.8 leaves ``e.SocketFlags`` at ``None`` and has no ReceiveMessageFrom; the package follows
.NET Core.)  ``dotnet/runtime``'s ``SocketPal.Unix.cs`` reads the flags out of ``recvmsg``'s
``msg_flags`` for every receive-from and receive-message-from, and ``SocketAsyncEventArgs`` hands
them to ``e.SocketFlags``; the message is cut, which is not an error on Unix (Windows reports
``MessageSize``).
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    IPAddress,
    IPEndPoint,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketFlags,
    _accel,
)
from dotnet_sockets._engine import batch
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made, run_bounded

BIG = bytes(range(100))



def _port(s: Socket) -> int:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return ep.Port


class _Args:
    """One reusable SocketAsyncEventArgs and a bounded wait for its completions."""

    def __init__(self, size: int, lists: bool) -> None:
        self.store = [bytearray(size // 2), bytearray(size - size // 2)] if lists else [bytearray(size)]
        self.e = SocketAsyncEventArgs()
        if lists:
            self.e.BufferList = list(self.store)
        else:
            self.e.SetBuffer(self.store[0], 0, size)
        self.e.RemoteEndPoint = IPEndPoint(IPAddress.Any, 0)
        self.done = threading.Semaphore(0)
        self.e.Completed += lambda _s, _e: self.done.release()

    def run(self, start: Callable[[SocketAsyncEventArgs], bool], send: Callable[[], None], pend: bool) -> Any:
        if not pend:
            send()
        if start(self.e):
            if pend:
                send()
            assert self.done.acquire(timeout=WAIT), "Completed did not fire"
        e = self.e
        got = b"".join(self.store)[: e.BytesTransferred]
        return (e.SocketError, e.BytesTransferred, e.SocketFlags, got)


@pytest.mark.parametrize("method", ["ReceiveAsync", "ReceiveFromAsync"])
@pytest.mark.parametrize("way", ["now", "pending", "buffer_list"])
def test_event_args_say_truncated_and_keep_what_fits(made: Made, method: str, way: str) -> None:
    """.NET Core 3.1: Success, the bytes that fit, ``SocketFlags.Truncated``; the next datagram
    that fits gives ``None`` again on the same ``e``.  Telemetry counts the bytes received."""
    r = made.udp()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = ("127.0.0.1", _port(r))
    args = _Args(10, way == "buffer_list")
    start = getattr(r, method)
    before = Telemetry.snapshot()
    out = args.run(start, lambda: peer.sendto(BIG, dest), way == "pending")
    assert out == (SocketError.Success, 10, SocketFlags.Truncated, BIG[:10])
    out = args.run(start, lambda: peer.sendto(b"fits", dest), way == "pending")
    assert out == (SocketError.Success, 4, SocketFlags.None_, b"fits")
    d = Telemetry.snapshot() - before
    assert (d.datagrams_received, d.bytes_received) == (2, 14)
    peer.close()


def test_a_datagram_that_fills_the_buffer_exactly_is_not_truncated(made: Made) -> None:
    r = made.udp()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    args = _Args(10, False)
    for way in (False, True):
        out = args.run(r.ReceiveFromAsync, lambda: peer.sendto(BIG[:10], ("127.0.0.1", _port(r))), way)
        assert out == (SocketError.Success, 10, SocketFlags.None_, BIG[:10])
    peer.close()


def test_queued_receive_froms_each_say_whether_their_own_datagram_was_cut(
    made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Several ``ReceiveFromAsync(e)`` pending at once (served by one recvmmsg on the compiled
    path): each reports its own datagram's truncation, batched or not."""

    def scenario() -> list[Any]:
        r = made.udp()
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sizes = [8, 8, 8, 8, 8, 8]
        payloads = [b"a" * 3, BIG[:20], b"c" * 8, BIG[:9], b"", BIG]
        all_args = [_Args(n, False) for n in sizes]
        for a in all_args:
            assert r.ReceiveFromAsync(a.e)
        with r._io.lock:  # the engine, woken by the first datagram, then finds them all
            for p in payloads:
                peer.sendto(p, ("127.0.0.1", _port(r)))
        outs = []
        for a in all_args:
            assert a.done.acquire(timeout=WAIT)
            e = a.e
            outs.append((e.SocketError, e.BytesTransferred, e.SocketFlags, bytes(a.store[0][: e.BytesTransferred])))
        peer.close()
        return outs

    before = int(_accel._speedups.batch_calls()) if _accel.ACCELERATED else 0
    batched = scenario()
    if _accel.ACCELERATED:
        assert int(_accel._speedups.batch_calls()) > before, "no batch ran"
    monkeypatch.setattr(batch, "recv_batch", None)
    unbatched = scenario()
    assert batched == unbatched
    trunc, none = SocketFlags.Truncated, SocketFlags.None_
    assert [o[2] for o in batched] == [none, trunc, none, trunc, none, trunc]
    assert [o[1] for o in batched] == [3, 8, 8, 8, 0, 8]
    assert batched[1][3] == BIG[:8]


def test_the_other_forms_as_dotnet_core(made: Made) -> None:
    """The sync, Begin/End and awaitable forms: the bytes that fit, no error; flags where the form has them."""
    r = made.udp()
    r.ReceiveTimeout = int(WAIT * 1000)
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dest = ("127.0.0.1", _port(r))
    any4 = IPEndPoint(IPAddress.Any, 0)
    buf = bytearray(10)

    peer.sendto(BIG, dest)
    assert r.ReceiveFrom(buf, any4).ReceivedBytes == 10
    peer.sendto(BIG, dest)
    res = r.ReceiveMessageFrom(buf, 0, 10, SocketFlags.None_, any4)
    assert (res.ReceivedBytes, res.SocketFlags) == (10, SocketFlags.Truncated)
    peer.sendto(BIG, dest)
    ar = r.BeginReceiveFrom(buf, 0, 10, SocketFlags.None_, any4, None, None)
    assert r.EndReceiveFrom(ar).ReceivedBytes == 10
    peer.sendto(BIG, dest)
    ar = r.BeginReceiveMessageFrom(buf, 0, 10, SocketFlags.None_, any4, None, None)
    res = r.EndReceiveMessageFrom(ar, SocketFlags.None_, any4)
    assert (res.ReceivedBytes, res.SocketFlags) == (10, SocketFlags.Truncated)

    async def awaitables() -> tuple[Any, Any]:
        peer.sendto(BIG, dest)
        a = await r.ReceiveFromAsync(buf, SocketFlags.None_, any4)
        peer.sendto(BIG, dest)
        b = await r.ReceiveMessageFromAsync(buf, SocketFlags.None_, any4)
        return a.ReceivedBytes, (b.ReceivedBytes, b.SocketFlags)

    assert run_bounded(awaitables()) == (10, (10, SocketFlags.Truncated))
    assert bytes(buf) == BIG[:10]
    peer.close()


def test_a_stream_receive_async_loses_no_byte(made: Made) -> None:
    """A stream has no datagram to cut: ``ReceiveAsync(e)`` in small pieces gets every byte, flags None."""
    client, server = made.pair()
    client.Send(BIG)
    args = _Args(10, False)
    got = b""
    for _ in range(20):
        err, n, flags, data = args.run(server.ReceiveAsync, lambda: None, False)
        assert (err, flags) == (SocketError.Success, SocketFlags.None_)
        got += data
        if len(got) >= len(BIG):
            break
    assert got == BIG
