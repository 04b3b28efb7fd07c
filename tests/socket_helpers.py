"""Helpers shared by the tests of the whole socket surface (sync, Begin/End, close, many sockets)."""

from __future__ import annotations

import asyncio
import select
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from conftest import WAIT, loopback
from dotnet_sockets import AddressFamily, IPEndPoint, ProtocolType, Socket, SocketType

WAIT_US = int(WAIT * 1_000_000)
T = TypeVar("T")


class Made:
    """A socket factory that disposes every socket it made or was given, at the end of a test."""

    def __init__(self) -> None:
        self.sockets: list[Socket] = []

    def __call__(
        self,
        af: AddressFamily = AddressFamily.InterNetwork,
        st: SocketType = SocketType.Dgram,
        pt: ProtocolType | None = None,
    ) -> Socket:
        if pt is None:
            pt = ProtocolType.Udp if st == SocketType.Dgram else ProtocolType.Tcp
        return self.track(Socket(af, st, pt))

    def track(self, s: Socket) -> Socket:
        self.sockets.append(s)
        return s

    def tcp(self, af: AddressFamily = AddressFamily.InterNetwork) -> Socket:
        return self(af, SocketType.Stream)

    def udp(self, af: AddressFamily = AddressFamily.InterNetwork, bound: bool = True) -> Socket:
        s = self(af, SocketType.Dgram)
        if bound:
            s.Bind(IPEndPoint(loopback(af), 0))
        return s

    def listener(self, af: AddressFamily = AddressFamily.InterNetwork, backlog: int = 8) -> Socket:
        s = self.tcp(af)
        s.Bind(IPEndPoint(loopback(af), 0))
        s.Listen(backlog)
        return s

    def pair(self, af: AddressFamily = AddressFamily.InterNetwork) -> tuple[Socket, Socket]:
        """A connected (client, accepted) pair of library sockets."""
        lst = self.listener(af)
        client = self.tcp(af)
        client.Connect(lst.LocalEndPoint)
        return client, self.track(lst.Accept())

    def dispose_all(self) -> None:
        for s in self.sockets:
            s.Dispose()


def run_bounded(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test coroutine in a fresh asyncio loop, bounded by twice WAIT."""

    async def bounded() -> T:
        async with asyncio.timeout(WAIT * 2):
            return await coro

    return asyncio.run(bounded())


def refused_endpoint(af: AddressFamily = AddressFamily.InterNetwork) -> IPEndPoint:
    """A loopback endpoint where nothing listens: connecting there is refused."""
    fam = socket.AF_INET if af == AddressFamily.InterNetwork else socket.AF_INET6
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((str(loopback(af)), 0))
        port = s.getsockname()[1]
    return IPEndPoint(loopback(af), port)


def wait_until(predicate: Callable[[], Any], timeout: float = WAIT) -> bool:
    """Poll ``predicate`` for at most ``timeout`` seconds, for state that no event reports."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.002)
    return True


def pending(s: Socket, count: int = 1) -> bool:
    """Whether ``count`` operations got queued on ``s`` (waiting at most WAIT)."""
    return wait_until(lambda: s._io.pending_count() >= count)


def receive_exactly(s: Socket, n: int) -> bytes:
    out = bytearray()
    buf = bytearray(65536)
    while len(out) < n:
        got = s.Receive(buf, 0, min(len(buf), n - len(out)), 0)
        assert got > 0, "connection closed early"
        out += buf[:got]
    return bytes(out)


def plain_receive_exactly(s: socket.socket, n: int) -> bytes:
    out = bytearray()
    while len(out) < n:
        got = s.recv(n - len(out))
        assert got, "connection closed early"
        out += got
    return bytes(out)


def peer_reset(peer: socket.socket) -> bool:
    """True once the peer got a reset (POLLERR or POLLHUP), waiting at most WAIT."""
    p = select.poll()
    p.register(peer.fileno(), select.POLLERR | select.POLLHUP)
    return bool(p.poll(WAIT * 1000))


def fill(s: Socket) -> int:
    """Make sends on the connected stream ``s`` would-block (its peer must not read); bytes written.

    The buffers stay at 64 KiB or more: with a few KiB, loopback TCP crawls once the peer reads.
    """
    s.SendBufferSize = 65536
    blocking = s.Blocking
    s.Blocking = False
    total = 0
    try:
        for _ in range(100_000):  # bounded: the buffers hold a few hundred kilobytes at most
            total += s.Send(bytes(65536))
    except Exception as exc:  # noqa: BLE001 - WouldBlock is the point
        from dotnet_sockets import SocketError, SocketException

        assert isinstance(exc, SocketException) and exc.SocketErrorCode == SocketError.WouldBlock, exc
    else:
        raise AssertionError("the connection never filled up")
    finally:
        s.Blocking = blocking
    return total
