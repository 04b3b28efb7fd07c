"""Thousands of sockets with pending operations on the one engine.

The engine serves every socket from one readiness thread and a small pool of
completion threads: 2,000 pending ``BeginReceiveFrom`` calls must neither
start a thread per socket nor leave a descriptor or a thread behind once the
sockets are closed.
"""

from __future__ import annotations

import os
import resource
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketError,
    SocketException,
    SocketType,
)
from dotnet_sockets._engine.dispatch import dispatcher

COUNT = 2000


def open_descriptors() -> int:
    return len(os.listdir("/proc/self/fd"))


def library_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("dotnet-sockets")]


def other_threads() -> set[threading.Thread]:
    return {t for t in threading.enumerate() if not t.name.startswith("dotnet-sockets")}


@pytest.fixture
def enough_descriptors() -> Iterator[None]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = 2 * COUNT + 256
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} is below {needed}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed if hard == resource.RLIM_INFINITY else hard, hard))
    yield
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def warm_up_engine() -> None:
    """Start the engine's lazily created threads, so that the baseline includes them."""
    with Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as s:
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
        done = threading.Event()
        ar = s.BeginReceiveFrom(bytearray(8), 0, 8, 0, IPEndPoint(IPAddress.Any, 0), lambda _: done.set(), None)
        assert not ar.IsCompleted
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
            peer.sendto(b"warm", ("127.0.0.1", s.LocalEndPoint.Port))
        assert done.wait(WAIT)
        s.EndReceiveFrom(ar)


def wait_until(predicate: Any, timeout: float = WAIT) -> bool:
    """Poll ``predicate`` for at most ``timeout`` seconds (for state no event reports)."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


def test_two_thousand_pending_receives_are_served_and_leave_nothing_behind(enough_descriptors: None) -> None:
    warm_up_engine()
    base_fds = open_descriptors()
    base_others = other_threads()
    # The readiness thread, the completion pool's watchdog and the pool at its cap: not one per socket.
    max_library_threads = 2 + dispatcher._max

    started = time.monotonic()
    lock = threading.Lock()
    results: dict[int, Any] = {}
    calls: dict[int, int] = {}
    all_done = threading.Event()
    callback_threads: set[int] = set()
    sockets: list[Socket] = []
    buffers: list[bytearray] = []

    def on_receive(ar: Any) -> None:
        i = ar.AsyncState
        try:
            outcome: Any = sockets[i].EndReceiveFrom(ar)
        except BaseException as exc:  # noqa: BLE001 - recorded for the assertions
            outcome = exc
        with lock:
            calls[i] = calls.get(i, 0) + 1
            results[i] = outcome
            callback_threads.add(threading.get_ident())
            if len(results) == COUNT:
                all_done.set()

    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(COUNT):
            s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            sockets.append(s)
            s.Bind(IPEndPoint(IPAddress.Loopback, 0))
            buf = bytearray(16)
            buffers.append(buf)
            ar = s.BeginReceiveFrom(buf, 0, len(buf), 0, IPEndPoint(IPAddress.Any, 0), on_receive, i)
            assert not ar.IsCompleted
        assert open_descriptors() >= base_fds + COUNT
        # Nothing arrived yet, and the pending operations did not cost a thread each.
        assert not results
        assert len(library_threads()) <= max_library_threads

        peer.bind(("127.0.0.1", 0))
        peer_port = peer.getsockname()[1]
        for i, s in enumerate(sockets):
            peer.sendto(b"datagram %5d" % i, ("127.0.0.1", s.LocalEndPoint.Port))
        assert all_done.wait(4 * WAIT), f"{COUNT - len(results)} receives never completed"

        assert len(library_threads()) <= max_library_threads
        for i in range(COUNT):
            assert calls[i] == 1
            n, sender = results[i]
            assert n == 14
            assert bytes(buffers[i][:n]) == b"datagram %5d" % i
            assert sender == IPEndPoint(IPAddress.Loopback, peer_port)
        assert threading.get_ident() not in callback_threads

        # A second round that is never served: closing aborts every one of them.
        results.clear()
        calls.clear()
        all_done.clear()
        for i, s in enumerate(sockets):
            s.BeginReceiveFrom(buffers[i], 0, 16, 0, IPEndPoint(IPAddress.Any, 0), on_receive, i)
        for s in sockets:
            s.Close()
        assert all_done.wait(4 * WAIT), f"{COUNT - len(results)} aborted receives never completed"
        for i in range(COUNT):
            assert calls[i] == 1
            exc = results[i]
            assert isinstance(exc, SocketException)
            assert exc.SocketErrorCode == SocketError.OperationAborted
    finally:
        for s in sockets:
            s.Dispose()
        peer.close()

    assert open_descriptors() == base_fds
    # Completion workers beyond the first may retire a little after their last callback.
    assert wait_until(lambda: other_threads() == base_others)
    assert len(library_threads()) <= max_library_threads
    assert time.monotonic() - started < 30
