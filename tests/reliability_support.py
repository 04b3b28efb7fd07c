"""Helpers shared by the reliability tests (test_reliability_*.py).

Kept out of conftest.py so that the rest of the suite does not import them;
the tests of issue 7 import this module directly.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    NotSupportedException,
    ProtocolType,
    SecurityException,
    Socket,
    SocketException,
    SocketType,
)
from dotnet_sockets._engine.dispatch import dispatcher
from dotnet_sockets._engine.epoll import engine

# The only exceptions the contract lets escape a public member (ObjectDisposedException
# is an InvalidOperationException, ArgumentNullException/OutOfRange are ArgumentExceptions).
ALLOWED = (ArgumentException, InvalidOperationException, NotSupportedException, SocketException, SecurityException)


def engine_threads() -> list[threading.Thread]:
    """The engine's own threads that exist now (the epoll thread starts lazily)."""
    threads = list(dispatcher._threads)
    if engine._thread is not None:
        threads.append(engine._thread)
    return threads


def thread_counts() -> dict[str, int]:
    """Completion workers (the dispatcher adds some past blocked callbacks, up to its cap, and
    retires them after a while idle) apart from every other thread of the process."""
    ours = set(map(id, engine_threads()))
    watchdog = getattr(dispatcher, "_watch", None)
    if watchdog is not None:
        ours.add(id(watchdog))
    return {
        "workers": len(dispatcher._threads),
        "max_workers": dispatcher._max,
        "others": sum(1 for t in threading.enumerate() if id(t) not in ours),
    }


def dead_engine_threads() -> list[str]:
    return [t.name for t in engine_threads() if not t.is_alive()]


def assert_engine_serves(timeout: float = WAIT) -> None:
    """A pending BeginReceiveFrom (served by the epoll thread) and a BeginSendTo
    with a callback (run by a completion worker) both finish, with the data."""
    dead = dead_engine_threads()
    assert not dead, f"engine threads died: {dead}"
    rx = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    tx = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    try:
        rx.Bind(IPEndPoint(IPAddress.Loopback, 0))
        got = threading.Event()
        sent = threading.Event()
        buf = bytearray(16)
        ar_rx = rx.BeginReceiveFrom(buf, 0, 16, 0, IPEndPoint(IPAddress.Any, 0), lambda ar: got.set(), None)
        # Nothing was sent yet, so the receive must have gone to the engine.
        assert not ar_rx.IsCompleted
        ar_tx = tx.BeginSendTo(b"health", 0, 6, 0, rx.LocalEndPoint, lambda ar: sent.set(), None)
        assert sent.wait(timeout), "completion workers did not run a send callback"
        assert tx.EndSendTo(ar_tx) == 6
        assert got.wait(timeout), "the epoll thread did not complete a pending receive"
        n, ep = rx.EndReceiveFrom(ar_rx)
        assert bytes(buf[:n]) == b"health"
        # The sender was bound implicitly to 0.0.0.0:port; the datagram came from 127.0.0.1:port.
        assert ep == IPEndPoint(IPAddress.Loopback, tx.LocalEndPoint.Port)  # type: ignore[union-attr]
    finally:
        rx.Dispose()
        tx.Dispose()
    dead = dead_engine_threads()
    assert not dead, f"engine threads died: {dead}"


class HookRecorder:
    """Records what reaches ``threading.excepthook`` (exceptions from callbacks,
    and any exception that would kill an engine thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[tuple[BaseException | None, str]] = []

    def __call__(self, args: Any) -> None:
        name = args.thread.name if args.thread is not None else "?"
        with self.lock:
            self.seen.append((args.exc_value, name))

    def unexpected(self, expected: type[BaseException]) -> list[tuple[BaseException | None, str]]:
        with self.lock:
            return [(e, n) for e, n in self.seen if not isinstance(e, expected)]

    def count(self, kind: type[BaseException]) -> int:
        with self.lock:
            return sum(1 for e, _ in self.seen if isinstance(e, kind))


@contextmanager
def recording_excepthook() -> Iterator[HookRecorder]:
    rec = HookRecorder()
    old = threading.excepthook
    threading.excepthook = rec
    try:
        yield rec
    finally:
        threading.excepthook = old


def fd_count() -> int:
    return len(os.listdir("/proc/self/fd"))


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def subprocess_env() -> dict[str, str]:
    """Environment for a child interpreter that imports the package from src/."""
    env = dict(os.environ)
    src = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
    env["PYTHONPATH"] = src + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env.pop("PYTHONWARNINGS", None)
    return env


PYTHON = sys.executable


def run_child(code: str, timeout: float = 20.0) -> tuple[subprocess.CompletedProcess[str], float]:
    """Run ``code`` in a child interpreter that imports the package from src/; also how long it took."""
    t0 = time.monotonic()
    proc = subprocess.run(
        [PYTHON, "-W", "ignore::DeprecationWarning", "-c", code],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, time.monotonic() - t0


# The start of every child interpreter's script: the package, and a UDP socket maker.
CHILD_PRELUDE = """
import os, sys, threading, time
from dotnet_sockets import *

ANY4 = IPEndPoint(IPAddress.Any, 0)

def udp(bound=True):
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    if bound:
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    return s
"""


class Counter:
    """Counts callback runs per IAsyncResult (or per SocketAsyncEventArgs), thread-safely."""

    def __init__(self, action: Callable[[Any], object] | None = None) -> None:
        self.cond = threading.Condition()
        self.runs: dict[int, int] = {}
        self.keep: list[Any] = []  # holds every result seen, so that no id() is reused
        self.total = 0
        self.action = action

    def __call__(self, ar: Any) -> None:
        with self.cond:
            if id(ar) not in self.runs:
                self.keep.append(ar)
            self.runs[id(ar)] = self.runs.get(id(ar), 0) + 1
            self.total += 1
            self.cond.notify_all()
        if self.action is not None:
            self.action(ar)

    def handler(self, sender: Any, e: Any) -> None:
        self(e)

    def wait_total(self, n: int, timeout: float = WAIT) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: self.total >= n, timeout)

    def once_each(self, items: list[Any]) -> None:
        with self.cond:
            bad = {id(x): self.runs.get(id(x), 0) for x in items if self.runs.get(id(x), 0) != 1}
        assert not bad, f"callbacks not run exactly once: {bad}"


def udp(bound: bool = True) -> Socket:
    s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
    if bound:
        s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    return s


def tcp_pair() -> tuple[Socket, socket.socket]:
    """A connected stream: our Socket, and a plain peer socket."""
    lst = socket.socket()
    lst.bind(("127.0.0.1", 0))
    lst.listen(1)
    c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    c.Connect(IPEndPoint(IPAddress.Loopback, lst.getsockname()[1]))
    lst.settimeout(WAIT)
    peer, _ = lst.accept()
    lst.close()
    return c, peer
