"""Shared fixtures: loopback peers made with the plain ``socket`` module.

Peers are plain sockets so that a test of this library never depends on the
part of the library it is testing for its own observations.
"""

from __future__ import annotations

import os
import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

import background
from dotnet_sockets import AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketType

WAIT = 5.0  # seconds: the bound on every wait in the suite

# The suite runs twice (README, .ci/run): on the compiled send path, then with DOTNET_SOCKETS_PURE=1.
PURE_PASS = os.environ.get("DOTNET_SOCKETS_PURE", "") not in ("", "0")
#: For a test whose outcome cannot depend on the pass it runs in: a static checker reading the
#: sources, or a harness that starts both paths itself with its own environment.  It runs in the
#: first pass (and in any run without DOTNET_SOCKETS_PURE); the pure pass would repeat it word for word.
same_in_both_passes = pytest.mark.skipif(
    PURE_PASS, reason="does not depend on the send path: the compiled-path pass of the suite runs it"
)

if TYPE_CHECKING:
    from socket_helpers import Made


def _has_ipv6() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


HAS_IPV6 = _has_ipv6()

FAMILIES = [
    pytest.param(AddressFamily.InterNetwork, id="ipv4"),
    pytest.param(
        AddressFamily.InterNetworkV6,
        id="ipv6",
        marks=pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine"),
    ),
]


def loopback(af: AddressFamily) -> IPAddress:
    return IPAddress.Loopback if af == AddressFamily.InterNetwork else IPAddress.IPv6Loopback


class UdpPeer:
    """A plain UDP socket bound on loopback, with bounded receives."""

    def __init__(self, af: AddressFamily) -> None:
        fam = socket.AF_INET if af == AddressFamily.InterNetwork else socket.AF_INET6
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1" if fam == socket.AF_INET else "::1", 0))
        self.sock.settimeout(WAIT)
        host, port = self.sock.getsockname()[:2]
        self.endpoint = IPEndPoint(IPAddress.Parse(host), port)

    def recv(self) -> tuple[bytes, Any]:
        return self.sock.recvfrom(70000)

    def nothing_pending(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recv(70000)
            return False
        except BlockingIOError:
            return True
        finally:
            self.sock.settimeout(WAIT)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture(params=FAMILIES)
def af(request: pytest.FixtureRequest) -> AddressFamily:
    family: AddressFamily = request.param
    return family


@pytest.fixture
def udp_peer(af: AddressFamily) -> Iterator[UdpPeer]:
    peer = UdpPeer(af)
    yield peer
    peer.close()


@pytest.fixture
def make_socket() -> Iterator[Callable[..., Socket]]:
    """Socket factory; every socket made is disposed at the end of the test."""
    made: list[Socket] = []

    def make(
        af: AddressFamily = AddressFamily.InterNetwork,
        st: SocketType = SocketType.Dgram,
        pt: ProtocolType | None = None,
    ) -> Socket:
        if pt is None:
            pt = ProtocolType.Udp if st == SocketType.Dgram else ProtocolType.Tcp
        s = Socket(af, st, pt)
        made.append(s)
        return s

    yield make
    for s in made:
        s.Dispose()


class CallbackRecorder:
    """An AsyncCallback that records each call and lets the test wait for them."""

    def __init__(self, action: Callable[[Any], Any] | None = None) -> None:
        self.calls: list[Any] = []
        self.threads: list[int] = []
        self.results: list[Any] = []
        self.errors: list[BaseException] = []
        self._event = threading.Event()
        self._lock = threading.Lock()
        self._action = action
        self.expected = 1

    def __call__(self, ar: Any) -> None:
        result: Any = None
        error: BaseException | None = None
        if self._action is not None:
            try:
                result = self._action(ar)
            except BaseException as exc:  # noqa: BLE001 - recorded for the test
                error = exc
        with self._lock:
            self.calls.append(ar)
            self.threads.append(threading.get_ident())
            self.results.append(result)
            if error is not None:
                self.errors.append(error)
            if len(self.calls) >= self.expected:
                self._event.set()

    def wait(self, count: int = 1, timeout: float = WAIT) -> bool:
        with self._lock:
            self.expected = count
            if len(self.calls) >= count:
                return True
            self._event.clear()
        return self._event.wait(timeout)


@pytest.fixture
def made() -> Iterator[Made]:
    """A ``socket_helpers.Made``: every socket it makes or is given is disposed after the test."""
    from socket_helpers import Made  # socket_helpers imports this module: not at the top

    m = Made()
    yield m
    m.dispose_all()


@pytest.fixture
def tiny_switch_interval() -> Iterator[None]:
    """Threads switch every microsecond: races between them are tried at many more points."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        yield
    finally:
        sys.setswitchinterval(old)


@pytest.fixture
def recorder() -> Callable[..., CallbackRecorder]:
    return CallbackRecorder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The lane's own tests go last: earlier, each waited for the suite's job then running.
    items.sort(key=lambda item: getattr(getattr(item, "module", None), "__name__", "") == "test_background_lane")


def pytest_collection_finish(session: pytest.Session) -> None:
    """Start the child processes the selected tests will only read the outcome of (background.py)."""
    selected: dict[Any, set[str]] = {}
    for item in session.items:
        module = getattr(item, "module", None)
        if module is not None:
            selected.setdefault(module, set()).add(getattr(item, "originalname", item.name))
    for module, names in selected.items():
        jobs = getattr(module, "background_jobs", None)
        if jobs is not None:
            background.start(jobs(names))


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.stop()
