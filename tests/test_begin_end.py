"""Every Begin/End pair on the one engine, alone and mixed with the other calls.

Argument checks follow dotnet/runtime's ArgumentValidationTests.cs and
DisposedSocketTests.cs; the IAsyncResult rules (End once, End with a foreign
result, End(None)) and the callback's thread and context are the contract's,
the same as for BeginSendTo.
"""

from __future__ import annotations

import contextvars
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pytest

from conftest import FAMILIES, HAS_IPV6, WAIT, CallbackRecorder, loopback
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    DnsEndPoint,
    IAsyncResult,
    InvalidOperationException,
    IPAddress,
    IPEndPoint,
    NotSupportedException,
    ObjectDisposedException,
    ProtocolType,
    SelectMode,
    Socket,
    SocketError,
    SocketException,
    SocketShutdown,
    SocketType,
    UnixDomainSocketEndPoint,
)
from dotnet_sockets.dns import set_resolver
from socket_helpers import WAIT_US, Made, fill, plain_receive_exactly, receive_exactly, refused_endpoint

needs_ipv6 = pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
EP = IPEndPoint(IPAddress.Loopback, 1)
ANY4 = IPEndPoint(IPAddress.Any, 0)
EndPointKey = tuple[Any, Any, int]


@pytest.fixture
def make_socket() -> Iterator[Made]:
    made = Made()
    yield made
    made.dispose_all()


def ended(ar: IAsyncResult) -> None:
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000)), "the operation never completed"


# -- a disposed socket: every Begin raises ObjectDisposedException (DisposedSocketTests.cs) --------------

BEGINS: list[tuple[str, Callable[[Socket], Any]]] = [
    ("BeginConnect(ep)", lambda s: s.BeginConnect(EP, None, None)),
    ("BeginConnect(address, port)", lambda s: s.BeginConnect(IPAddress.Loopback, 1, None, None)),
    ("BeginConnect(addresses, port)", lambda s: s.BeginConnect([IPAddress.Loopback], 1, None, None)),
    ("BeginConnect(host, port)", lambda s: s.BeginConnect("localhost", 1, None, None)),
    ("BeginSend(buffer)", lambda s: s.BeginSend(bytearray(1), 0, 1, 0, None, None)),
    ("BeginSend(buffers)", lambda s: s.BeginSend([bytearray(1)], 0, None, None)),
    ("BeginSendTo", lambda s: s.BeginSendTo(bytearray(1), 0, 1, 0, EP, None, None)),
    ("BeginReceive(buffer)", lambda s: s.BeginReceive(bytearray(1), 0, 1, 0, None, None)),
    ("BeginReceive(buffers)", lambda s: s.BeginReceive([bytearray(1)], 0, None, None)),
    ("BeginReceiveFrom", lambda s: s.BeginReceiveFrom(bytearray(1), 0, 1, 0, EP, None, None)),
    ("BeginAccept()", lambda s: s.BeginAccept(None, None)),
    ("BeginAccept(size)", lambda s: s.BeginAccept(1, None, None)),
    ("BeginAccept(socket, size)", lambda s: s.BeginAccept(None, 1, None, None)),
    ("BeginDisconnect", lambda s: s.BeginDisconnect(False, None, None)),
]


@pytest.mark.parametrize(("member", "call"), BEGINS, ids=[m for m, _ in BEGINS])
def test_begin_on_a_disposed_socket(make_socket: Made, member: str, call: Callable[[Socket], Any]) -> None:
    s = make_socket.tcp()
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        call(s)


END_NAMES = ["EndConnect", "EndAccept", "EndSend", "EndSendTo", "EndReceive", "EndReceiveFrom", "EndDisconnect"]


@pytest.mark.parametrize("end", END_NAMES)
def test_end_null_even_on_a_disposed_socket(make_socket: Made, end: str) -> None:
    # Current .NET no longer checks disposal in End (dotnet/runtime#73335): the null comes first.
    s = make_socket.tcp()
    for _ in range(2):
        with pytest.raises(ArgumentNullException) as ei:
            getattr(s, end)(None)
        assert ei.value.ParamName == "asyncResult"
        s.Dispose()


# -- bad input (ArgumentValidationTests.cs) -----------------------------------------------------------------


@pytest.mark.parametrize("member", ["BeginSend", "BeginReceive"])
def test_send_receive_buffer_checks(make_socket: Made, member: str) -> None:
    call = getattr(make_socket.tcp(), member)
    with pytest.raises(ArgumentNullException) as ei:
        call(None, 0, 0, 0, None, None)
    assert ei.value.ParamName == "buffer"
    for offset in (-1, 2):
        with pytest.raises(ArgumentOutOfRangeException) as ei2:
            call(bytearray(1), offset, 0, 0, None, None)
        assert ei2.value.ParamName == "offset"
    for offset, size in ((0, -1), (0, 2), (1, 1)):
        with pytest.raises(ArgumentOutOfRangeException) as ei3:
            call(bytearray(1), offset, size, 0, None, None)
        assert ei3.value.ParamName == "size"
    with pytest.raises(ArgumentException) as ei4:
        call([], 0, None, None)
    assert ei4.value.ParamName == "buffers"
    with pytest.raises(ArgumentException) as ei5:
        call(bytearray(1), 0, 1, 0, "not callable", None)
    assert ei5.value.ParamName == "callback"


def test_begin_receive_needs_a_writable_buffer(make_socket: Made) -> None:
    with pytest.raises(ArgumentException) as ei:
        make_socket.tcp().BeginReceive(b"read-only", 0, 1, 0, None, None)
    assert ei.value.ParamName == "buffer"


def test_begin_receive_from_checks(make_socket: Made) -> None:
    s = make_socket.udp()
    call = s.BeginReceiveFrom
    with pytest.raises(ArgumentNullException) as ei:
        call(None, 0, 0, 0, ANY4, None, None)
    assert ei.value.ParamName == "buffer"
    with pytest.raises(ArgumentOutOfRangeException) as ei2:
        call(bytearray(1), 2, 0, 0, ANY4, None, None)
    assert ei2.value.ParamName == "offset"
    with pytest.raises(ArgumentOutOfRangeException) as ei3:
        call(bytearray(1), 0, 2, 0, ANY4, None, None)
    assert ei3.value.ParamName == "size"
    with pytest.raises(ArgumentNullException) as ei4:
        call(bytearray(1), 0, 1, 0, None, None, None)
    assert ei4.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentException) as ei5:
        call(bytearray(1), 0, 1, 0, DnsEndPoint("localhost", 1), None, None)
    assert ei5.value.ParamName == "remoteEP"
    if HAS_IPV6:
        with pytest.raises(ArgumentException) as ei6:
            call(bytearray(1), 0, 1, 0, IPEndPoint(IPAddress.IPv6Any, 0), None, None)
        assert ei6.value.ParamName == "remoteEP"
    with pytest.raises(InvalidOperationException):  # not bound
        make_socket.udp(bound=False).BeginReceiveFrom(bytearray(1), 0, 1, 0, ANY4, None, None)
    with pytest.raises(ArgumentException) as ei7:
        call(bytearray(1), 0, 1, 0, ANY4, "not callable", None)
    assert ei7.value.ParamName == "callback"


def test_begin_connect_checks(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(ArgumentNullException) as ei:
        s.BeginConnect(None, None, None)
    assert ei.value.ParamName == "remoteEP"
    with pytest.raises(ArgumentNullException):
        s.BeginConnect(None, 1, None, None)
    for target in (IPAddress.Loopback, "localhost", [IPAddress.Loopback]):
        for port in (-1, 65536):
            with pytest.raises(ArgumentOutOfRangeException) as ei2:
                s.BeginConnect(target, port, None, None)
            assert ei2.value.ParamName == "port"
    with pytest.raises(ArgumentException) as ei3:
        s.BeginConnect([], 1, None, None)
    assert ei3.value.ParamName == "addresses"
    with pytest.raises(NotSupportedException):
        s.BeginConnect(DnsEndPoint("localhost", 1, AddressFamily.InterNetworkV6), None, None)
    if HAS_IPV6:
        with pytest.raises(NotSupportedException):
            s.BeginConnect(IPAddress.IPv6Loopback, 1, None, None)
        with pytest.raises(NotSupportedException):
            s.BeginConnect(IPEndPoint(IPAddress.IPv6Loopback, 1), None, None)
    with pytest.raises(ArgumentException) as ei4:
        s.BeginConnect(EP, "not callable", None)
    assert ei4.value.ParamName == "callback"
    assert not s.Connected
    lst = make_socket.listener()
    for args in [(EP,), (IPAddress.Loopback, 1), ("localhost", 1), ([IPAddress.Loopback], 1)]:
        with pytest.raises(InvalidOperationException):
            lst.BeginConnect(*args, None, None)


def test_begin_connect_when_connected(make_socket: Made) -> None:
    c, _ = make_socket.pair()
    with pytest.raises(SocketException) as ei:
        c.BeginConnect(EP, None, None)
    assert ei.value.SocketErrorCode == SocketError.IsConnected


def test_begin_accept_checks(make_socket: Made) -> None:
    s = make_socket.tcp()
    with pytest.raises(InvalidOperationException):  # not bound
        s.BeginAccept(None, None)
    s.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):  # not listening
        s.BeginAccept(None, None)
    s.Listen(1)
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        s.BeginAccept(-1, None, None)
    assert ei.value.ParamName == "receiveSize"
    bound = make_socket.tcp()
    bound.Bind(IPEndPoint(IPAddress.Loopback, 0))
    with pytest.raises(InvalidOperationException):
        s.BeginAccept(bound, 0, None, None)
    with pytest.raises(ArgumentException) as ei2:
        s.BeginAccept("not a socket", 0, None, None)
    assert ei2.value.ParamName == "acceptSocket"
    gone = make_socket.tcp()
    gone.Dispose()
    with pytest.raises(ObjectDisposedException):
        s.BeginAccept(gone, 0, None, None)
    with pytest.raises(ArgumentException) as ei3:
        s.BeginAccept(0, "not callable", None)
    assert ei3.value.ParamName == "callback"


def test_begin_disconnect_checks(make_socket: Made) -> None:
    with pytest.raises(ArgumentException) as ei:
        make_socket.tcp().BeginDisconnect(False, "not callable", None)
    assert ei.value.ParamName == "callback"


# -- End misuse for every pair ----------------------------------------------------------------------------


class Results:
    """A completed IAsyncResult of every kind, from two sockets of each kind."""

    def __init__(self, made: Made) -> None:
        self.made = made
        self.by_kind: dict[str, list[tuple[Socket, IAsyncResult]]] = {}
        for _ in range(2):
            self._one_of_each()

    def _add(self, end: str, s: Socket, ar: IAsyncResult) -> None:
        ended(ar)
        self.by_kind.setdefault(end, []).append((s, ar))

    def _one_of_each(self) -> None:
        m = self.made
        lst = m.listener()
        c = m.tcp()
        self._add("EndConnect", c, c.BeginConnect(lst.LocalEndPoint, None, None))
        peer = m.track(lst.Accept())
        m.tcp().Connect(lst.LocalEndPoint)
        self._add("EndAccept", lst, lst.BeginAccept(None, None))
        self._add("EndSend", c, c.BeginSend(b"x", 0, 1, 0, None, None))
        self._add("EndReceive", peer, peer.BeginReceive(bytearray(1), 0, 1, 0, None, None))
        u = m.udp()
        self._add("EndSendTo", u, u.BeginSendTo(b"x", 0, 1, 0, u.LocalEndPoint, None, None))
        self._add("EndReceiveFrom", u, u.BeginReceiveFrom(bytearray(1), 0, 1, 0, ANY4, None, None))
        self._add("EndDisconnect", c, c.BeginDisconnect(False, None, None))

    def close(self) -> None:
        # The connections the accept results hold are only freed by EndAccept.
        for s, ar in self.by_kind["EndAccept"]:
            try:
                self.made.track(s.EndAccept(ar))
            except InvalidOperationException:
                pass  # a test ended it


@pytest.fixture
def results(make_socket: Made) -> Iterator[Results]:
    r = Results(make_socket)
    yield r
    r.close()


@pytest.mark.parametrize("end", END_NAMES)
def test_end_with_the_result_of_another_kind(results: Results, end: str) -> None:
    s, _ = results.by_kind[end][0]
    for other, pairs in results.by_kind.items():
        if other == end:
            continue
        _, ar = pairs[0]
        with pytest.raises(ArgumentException) as ei:
            getattr(s, end)(ar)
        assert ei.value.ParamName == "asyncResult", (end, other)


@pytest.mark.parametrize("end", END_NAMES)
def test_end_with_another_sockets_result(results: Results, end: str) -> None:
    (s, _), (_, foreign) = results.by_kind[end]
    with pytest.raises(ArgumentException) as ei:
        getattr(s, end)(foreign)
    assert ei.value.ParamName == "asyncResult"


@pytest.mark.parametrize("end", END_NAMES)
def test_end_with_something_that_is_no_result(results: Results, end: str) -> None:
    s, _ = results.by_kind[end][0]
    for junk in (object(), 42, "result"):
        with pytest.raises(ArgumentException) as ei:
            getattr(s, end)(junk)
        assert ei.value.ParamName == "asyncResult"


@pytest.mark.parametrize("end", END_NAMES)
def test_end_twice(results: Results, end: str) -> None:
    s, ar = results.by_kind[end][1]
    first = getattr(s, end)(ar)
    if isinstance(first, Socket):
        results.made.track(first)
    with pytest.raises(InvalidOperationException):
        getattr(s, end)(ar)


# -- callbacks: once, on a completion thread, in the caller's context ------------------------------------

VAR: contextvars.ContextVar[str] = contextvars.ContextVar("VAR", default="unset")


def _kind_starts(m: Made) -> dict[str, Callable[[Any, Any], tuple[Socket, IAsyncResult, Callable[[], None]]]]:
    """Each kind of operation, started pending; the trigger makes it complete."""

    def connect(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        lst = m.listener(backlog=0)
        filler = m.tcp()
        filler.Connect(lst.LocalEndPoint)  # the accept queue of a backlog-0 listener is now full
        c = m.tcp()
        ar = c.BeginConnect(lst.LocalEndPoint, cb, st)  # its SYN is dropped until there is room
        return c, ar, lambda: m.track(lst.Accept()) and None

    def accept(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        lst = m.listener()
        return lst, lst.BeginAccept(cb, st), lambda: m.tcp().Connect(lst.LocalEndPoint)

    def accept_receive(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        lst = m.listener()
        c = m.tcp()
        ar = lst.BeginAccept(4, cb, st)
        c.Connect(lst.LocalEndPoint)
        return lst, ar, lambda: c.Send(b"data") and None

    def receive(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        c, a = m.pair()
        return a, a.BeginReceive(bytearray(4), 0, 4, 0, cb, st), lambda: c.Send(b"data") and None

    def receive_list(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        c, a = m.pair()
        return a, a.BeginReceive([bytearray(2), bytearray(2)], 0, cb, st), lambda: c.Send(b"data") and None

    def receive_from(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        u = m.udp()
        ar = u.BeginReceiveFrom(bytearray(4), 0, 4, 0, ANY4, cb, st)
        return u, ar, lambda: m.udp().SendTo(b"data", u.LocalEndPoint) and None

    def send(cb: Any, st: Any) -> tuple[Socket, IAsyncResult, Callable[[], None]]:
        c, a = m.pair()
        fill(c)
        ar = c.BeginSend(bytes(100_000), 0, 100_000, 0, cb, st)

        def drain() -> None:
            a.ReceiveTimeout = 20
            deadline = time.monotonic() + WAIT
            while not ar.IsCompleted and time.monotonic() < deadline:
                try:
                    a.Receive(bytearray(65536))
                except SocketException as exc:
                    assert exc.SocketErrorCode == SocketError.TimedOut

        return c, ar, drain

    return {
        "connect": connect,
        "accept": accept,
        "accept_receive": accept_receive,
        "receive": receive,
        "receive_list": receive_list,
        "receive_from": receive_from,
        "send": send,
    }


END_OF = {
    "connect": "EndConnect",
    "accept": "EndAccept",
    "accept_receive": "EndAccept",
    "receive": "EndReceive",
    "receive_list": "EndReceive",
    "receive_from": "EndReceiveFrom",
    "send": "EndSend",
}


@pytest.mark.parametrize("kind", list(END_OF))
def test_pending_operation_callback_once_on_a_completion_thread_in_the_callers_context(
    make_socket: Made, kind: str
) -> None:
    seen: list[tuple[str, int, bool, Any]] = []

    def action(ar: IAsyncResult) -> Any:
        seen.append((VAR.get(), threading.get_ident(), ar.IsCompleted, ar.AsyncState))
        return getattr(s, END_OF[kind])(ar)  # End inside the callback does not block

    rec = CallbackRecorder(action)
    token = VAR.set("caller")
    try:
        s, ar, trigger = _kind_starts(make_socket)[kind](rec, "my state")
    finally:
        VAR.reset(token)
    assert not ar.IsCompleted and not ar.CompletedSynchronously
    assert not rec.calls
    trigger()
    assert rec.wait(1)
    assert not rec.errors, rec.errors
    assert seen == [("caller", rec.threads[0], True, "my state")]
    assert rec.threads[0] != threading.get_ident()
    assert ar.IsCompleted and not ar.CompletedSynchronously
    assert not rec.wait(2, timeout=0.05)  # and never again
    result = rec.results[0]
    if kind in ("accept", "accept_receive"):
        accepted = result if kind == "accept" else result[0]
        make_socket.track(accepted)
        assert accepted.Connected
    if kind == "accept_receive":
        assert result[1:] == (b"data", 4)


def test_operation_that_finishes_at_once_still_calls_back_on_another_thread(make_socket: Made) -> None:
    c, a = make_socket.pair()
    c.Send(b"ready")
    assert a.Poll(WAIT_US, SelectMode.SelectRead)
    rec = CallbackRecorder(lambda ar: a.EndReceive(ar))
    token = VAR.set("now")
    try:
        ar = a.BeginReceive(bytearray(8), 0, 8, 0, rec, None)
    finally:
        VAR.reset(token)
    assert ar.CompletedSynchronously and ar.IsCompleted
    assert rec.wait(1)
    assert rec.results == [5]
    assert rec.threads[0] != threading.get_ident()


# -- BeginConnect ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("af", FAMILIES)
def test_begin_connect_refused(make_socket: Made, af: AddressFamily) -> None:
    c = make_socket.tcp(af)
    rec = CallbackRecorder()
    ar = c.BeginConnect(refused_endpoint(af), rec, None)
    assert rec.wait(1)
    with pytest.raises(SocketException) as ei:
        c.EndConnect(ar)
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
    assert ei.value.ErrorCode == 10061
    assert not c.Connected
    assert not rec.wait(2, timeout=0.05)


@pytest.mark.parametrize("af", FAMILIES)
def test_begin_connect_state_is_set_before_the_callback(make_socket: Made, af: AddressFamily) -> None:
    lst = make_socket.listener(af)
    c = make_socket.tcp(af)

    def action(ar: IAsyncResult) -> Any:
        return (c.Connected, c.RemoteEndPoint, c.LocalEndPoint)

    rec = CallbackRecorder(action)
    ar = c.BeginConnect(lst.LocalEndPoint, rec, None)
    assert rec.wait(1)
    connected, remote, local = rec.results[0]
    assert connected and remote == lst.LocalEndPoint
    assert isinstance(local, IPEndPoint) and local.Address == loopback(af) and local.Port != 0
    c.EndConnect(ar)
    a = make_socket.track(lst.Accept())
    assert a.RemoteEndPoint == local


def test_begin_connect_tries_the_next_address(make_socket: Made) -> None:
    lst = make_socket.listener()  # on 127.0.0.1 only: 127.0.0.2 refuses
    c = make_socket.tcp()
    fd = c.Handle
    ar = c.BeginConnect([IPAddress.Parse("127.0.0.2"), IPAddress.Loopback], lst.LocalEndPoint.Port, None, None)
    c.EndConnect(ar)
    assert c.Connected and c.RemoteEndPoint == lst.LocalEndPoint
    assert c.Handle == fd  # the fresh socket after the failure sits behind the same number
    c.Send(b"hi")
    a = make_socket.track(lst.Accept())
    assert receive_exactly(a, 2) == b"hi"


def test_begin_connect_all_addresses_refuse(make_socket: Made) -> None:
    dead = refused_endpoint()
    c = make_socket.tcp()
    ar = c.BeginConnect([IPAddress.Parse("127.0.0.2"), IPAddress.Parse("127.0.0.3")], dead.Port, None, None)
    with pytest.raises(SocketException) as ei:
        c.EndConnect(ar)
    assert ei.value.SocketErrorCode == SocketError.ConnectionRefused
    lst = make_socket.listener()
    c.EndConnect(c.BeginConnect(lst.LocalEndPoint, None, None))  # the socket is still usable
    assert c.Connected


class TwoAddresses:
    """A resolver for tests: 'two.test' has a refusing and a listening loopback address."""

    def getaddrinfo(self, host: str, port: Any, family: int = 0, type: int = 0, proto: int = 0, flags: int = 0) -> Any:
        if host == "two.test":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.2", 0)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0)),
            ]
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def getnameinfo(self, sockaddr: Any, flags: int) -> Any:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    def gethostname(self) -> str:
        return "two.test"


def test_begin_connect_by_host_name(make_socket: Made) -> None:
    lst = make_socket.listener()
    with set_resolver(TwoAddresses()):
        c = make_socket.tcp()
        c.EndConnect(c.BeginConnect("two.test", lst.LocalEndPoint.Port, None, None))
        assert c.Connected and c.RemoteEndPoint == lst.LocalEndPoint
        d = make_socket.tcp()
        d.EndConnect(d.BeginConnect(DnsEndPoint("two.test", lst.LocalEndPoint.Port), None, None))
        assert d.Connected
        # A name that does not resolve fails the operation: End raises, Begin does not.
        e = make_socket.tcp()
        rec = CallbackRecorder()
        ar = e.BeginConnect("missing.test", 80, rec, None)
        assert rec.wait(1)
        with pytest.raises(SocketException) as ei:
            e.EndConnect(ar)
        assert ei.value.SocketErrorCode == SocketError.HostNotFound


# -- BeginAccept, with and without a first receive -----------------------------------------------------------


def test_begin_accept_with_receive_size_completes_after_the_first_data(make_socket: Made) -> None:
    lst = make_socket.listener()
    rec = CallbackRecorder()
    ar = lst.BeginAccept(16, rec, "st")
    c = make_socket.tcp()
    c.Connect(lst.LocalEndPoint)
    # The connection is there, but the operation also waits for data.
    assert not rec.wait(1, timeout=0.2)
    assert not ar.IsCompleted
    c.Send(b"first block")
    assert rec.wait(1)
    assert ar.IsCompleted  # so EndAccept below does not wait for anything
    accepted, data, n = lst.EndAccept(ar)
    make_socket.track(accepted)
    assert (data, n) == (b"first block", 11)
    assert accepted.Connected and accepted.RemoteEndPoint == c.LocalEndPoint
    c.Send(b"more")
    assert receive_exactly(accepted, 4) == b"more"


def test_begin_accept_with_receive_size_zero_and_a_peer_that_closes(make_socket: Made) -> None:
    lst = make_socket.listener()
    ar = lst.BeginAccept(0, None, None)
    c = make_socket.tcp()
    c.Connect(lst.LocalEndPoint)
    accepted, data, n = lst.EndAccept(ar)
    make_socket.track(accepted)
    assert (data, n) == (b"", 0)
    ar2 = lst.BeginAccept(8, None, None)
    d = make_socket.tcp()
    d.Connect(lst.LocalEndPoint)
    d.Close()  # no data: the receive sees the end of the stream
    accepted2, data2, n2 = lst.EndAccept(ar2)
    make_socket.track(accepted2)
    assert (data2, n2) == (b"", 0)


def test_begin_accept_into_a_given_socket(make_socket: Made) -> None:
    lst = make_socket.listener()
    target = make_socket.tcp()
    ar = lst.BeginAccept(target, 5, None, None)
    c = make_socket.tcp()
    c.Connect(lst.LocalEndPoint)
    c.Send(b"hello world")
    accepted, data, n = lst.EndAccept(ar)
    assert accepted is target
    assert target.Connected and target.RemoteEndPoint == c.LocalEndPoint
    assert (data, n) == (b"hello", 5)
    assert receive_exactly(target, 6) == b" world"
    target.Send(b"back")
    assert receive_exactly(c, 4) == b"back"


# -- BeginSend / BeginReceive / BeginDisconnect ---------------------------------------------------------------


def test_begin_send_and_receive_with_buffer_lists(make_socket: Made) -> None:
    c, a = make_socket.pair()
    n = c.EndSend(c.BeginSend([b"abc", (bytearray(b"xxdefxx"), 2, 3)], 0, None, None))
    assert n == 6
    first, second = bytearray(2), bytearray(4)
    assert a.Poll(WAIT_US, SelectMode.SelectRead)
    assert a.EndReceive(a.BeginReceive([first, second], 0, None, None)) == 6
    assert (bytes(first), bytes(second)) == (b"ab", b"cdef")


def test_begin_receive_on_udp_and_connected_udp_send(make_socket: Made) -> None:
    a = make_socket.udp()
    b = make_socket.udp()
    b.Connect(a.LocalEndPoint)
    a.Connect(b.LocalEndPoint)
    ar = a.BeginReceive(bytearray(16), 0, 16, 0, None, None)
    assert b.EndSend(b.BeginSend(b"datagram", 0, 8, 0, None, None)) == 8
    assert a.EndReceive(ar) == 8


def test_begin_disconnect(make_socket: Made) -> None:
    c, a = make_socket.pair()
    rec = CallbackRecorder()
    ar = c.BeginDisconnect(True, rec, None)
    assert rec.wait(1)
    c.EndDisconnect(ar)
    assert not c.Connected
    assert a.Receive(bytearray(1)) == 0
    other = make_socket.listener()
    c.EndConnect(c.BeginConnect(other.LocalEndPoint, None, None))  # reused
    assert c.Connected
    lonely = make_socket.tcp()
    ar2 = lonely.BeginDisconnect(False, None, None)
    with pytest.raises(SocketException) as ei:
        lonely.EndDisconnect(ar2)
    assert ei.value.SocketErrorCode == SocketError.NotConnected


# -- ordering and partial writes --------------------------------------------------------------------------------


def test_a_large_send_completes_only_when_every_byte_is_handed_over(make_socket: Made) -> None:
    lst = make_socket.listener()
    peer = socket.create_connection(("127.0.0.1", lst.LocalEndPoint.Port), timeout=WAIT)
    with peer:
        s = make_socket.track(lst.Accept())
        s.SendBufferSize = 65536
        peer.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        data = os.urandom(8 * 1024 * 1024)
        ar = s.BeginSend(data, 0, len(data), 0, None, None)
        assert not ar.IsCompleted  # far more than the buffers hold: the engine goes on writing
        got = plain_receive_exactly(peer, len(data))
        assert s.EndSend(ar) == len(data)
        assert got == data


def test_pending_sends_complete_in_order(make_socket: Made) -> None:
    lst = make_socket.listener()
    peer = socket.create_connection(("127.0.0.1", lst.LocalEndPoint.Port), timeout=WAIT)
    with peer:
        s = make_socket.track(lst.Accept())
        filled = fill(s)
        order: list[bool] = []
        lock = threading.Lock()
        chunks = [bytes([i]) * 300_000 for i in range(1, 5)]
        ars: list[IAsyncResult] = []

        def done(ar: IAsyncResult) -> None:
            # When a send completes, every send started before it has completed already.
            with lock:
                order.append(all(earlier.IsCompleted for earlier in ars[: ar.AsyncState]))

        ars.extend(s.BeginSend(ch, 0, len(ch), 0, done, i) for i, ch in enumerate(chunks))
        assert not any(ar.IsCompleted for ar in ars)
        got = plain_receive_exactly(peer, filled + sum(map(len, chunks)))
        assert [s.EndSend(ar) for ar in ars] == [len(ch) for ch in chunks]
        assert got[filled:] == b"".join(chunks)  # no chunk overtook or cut into another
        rec_deadline = time.monotonic() + WAIT
        while len(order) < len(chunks) and time.monotonic() < rec_deadline:
            time.sleep(0.005)
        assert order == [True] * len(chunks)


def test_pending_receives_complete_in_order(make_socket: Made) -> None:
    c, a = make_socket.pair()
    bufs = [bytearray(1) for _ in range(5)]
    ars = [a.BeginReceive(b, 0, 1, 0, None, None) for b in bufs]
    assert not any(ar.IsCompleted for ar in ars)
    c.Send(b"abcde")
    assert [a.EndReceive(ar) for ar in ars] == [1] * 5
    assert b"".join(bufs) == b"abcde"


def test_pending_receive_froms_complete_in_order(make_socket: Made) -> None:
    u = make_socket.udp()
    bufs = [bytearray(8) for _ in range(4)]
    ars = [u.BeginReceiveFrom(b, 0, 8, 0, ANY4, None, None) for b in bufs]
    sender = make_socket.udp()
    for i in range(4):
        sender.SendTo(b"dgram %d" % i, u.LocalEndPoint)
    for i, ar in enumerate(ars):
        n, ep = u.EndReceiveFrom(ar)
        assert bytes(bufs[i][:n]) == b"dgram %d" % i
        assert ep == sender.LocalEndPoint


# -- mixing models: BeginSendTo senders and a BeginReceiveFrom receiver ------------------------------------------


def families_for_mix() -> Sequence[Any]:
    return [
        *FAMILIES,
        pytest.param(
            "dual", id="dual", marks=pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
        ),
    ]


@pytest.mark.parametrize("mode", families_for_mix())
def test_receive_from_chain_served_by_begin_send_to_senders(make_socket: Made, mode: Any) -> None:
    if mode == "dual":
        receiver = make_socket.track(Socket(SocketType.Dgram, ProtocolType.Udp))
        receiver.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
        sender_af = AddressFamily.InterNetwork
        target = IPEndPoint(IPAddress.Loopback, receiver.LocalEndPoint.Port)
        hint = ANY4  # an IPv4 endpoint: the senders still come back IPv4-mapped (current .NET)
    else:
        receiver = make_socket.udp(mode)
        sender_af = mode
        target = receiver.LocalEndPoint
        hint = IPEndPoint(IPAddress.Any if mode == AddressFamily.InterNetwork else IPAddress.IPv6Any, 0)
    senders = [make_socket.udp(sender_af) for _ in range(4)]
    per_sender = 20  # 80 datagrams fit the receive buffer even if the receiver falls behind
    total = per_sender * len(senders)
    buf = bytearray(64)
    got: list[tuple[bytes, EndPointKey]] = []
    finished = threading.Event()
    errors: list[BaseException] = []

    def on_receive(ar: IAsyncResult) -> None:
        try:
            n, ep = receiver.EndReceiveFrom(ar)
            got.append((bytes(buf[:n]), (ep.AddressFamily, ep.Address, ep.Port)))
            if len(got) == total:
                finished.set()
                return
            receiver.BeginReceiveFrom(buf, 0, len(buf), 0, hint, on_receive, None)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
            finished.set()

    receiver.ReceiveBufferSize = 1 << 20
    receiver.BeginReceiveFrom(buf, 0, len(buf), 0, hint, on_receive, None)
    sent = CallbackRecorder(lambda ar: ar.AsyncState.EndSendTo(ar))
    for i in range(per_sender):
        for k, s in enumerate(senders):
            payload = b"sender %d datagram %03d" % (k, i)
            s.BeginSendTo(payload, 0, len(payload), 0, target, sent, s)
    assert sent.wait(total)
    assert not sent.errors
    assert finished.wait(WAIT), f"{len(got)} of {total} datagrams"
    assert not errors, errors
    expected_from = {}
    for k, s in enumerate(senders):
        local = s.LocalEndPoint
        addr = local.Address.MapToIPv6() if mode == "dual" else local.Address
        fam = AddressFamily.InterNetworkV6 if mode == "dual" else local.AddressFamily
        expected_from[k] = (fam, addr, local.Port)
    seen: dict[int, list[int]] = {k: [] for k in range(len(senders))}
    for payload, sender in got:
        k, i = int(payload.split()[1]), int(payload.split()[3])
        assert payload == b"sender %d datagram %03d" % (k, i)
        assert sender == expected_from[k]
        seen[k].append(i)
    for k in seen:
        assert seen[k] == list(range(per_sender))  # one sender's datagrams keep their order on loopback


# -- mixing models: a BeginAccept echo server and BeginConnect clients -----------------------------------------------


@pytest.mark.parametrize("mode", families_for_mix())
def test_echo_server_with_begin_accept_and_begin_connect_clients(make_socket: Made, mode: Any) -> None:
    if mode == "dual":
        server = make_socket.track(Socket(SocketType.Stream, ProtocolType.Tcp))
        server.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
        server.Listen(16)
        client_af = AddressFamily.InterNetwork
        target = IPEndPoint(IPAddress.Loopback, server.LocalEndPoint.Port)
    else:
        server = make_socket.listener(mode, backlog=16)
        client_af = mode
        target = server.LocalEndPoint
    clients = 6
    size = 200_000
    errors: list[BaseException] = []
    lock = threading.Lock()

    def guard(fn: Callable[[IAsyncResult], None]) -> Callable[[IAsyncResult], None]:
        def run(ar: IAsyncResult) -> None:
            try:
                fn(ar)
            except BaseException as exc:  # noqa: BLE001 - reported below
                with lock:
                    errors.append(exc)

        return run

    # The server: accept in a chain; each connection echoes what it receives until the end of the stream.
    def echo(conn: Socket) -> None:
        buf = bytearray(32768)

        def on_received(ar: IAsyncResult) -> None:
            n = conn.EndReceive(ar)
            if n == 0:
                conn.Shutdown(SocketShutdown.Both)
                return
            conn.BeginSend(bytes(buf[:n]), 0, n, 0, guard(on_sent), None)

        def on_sent(ar: IAsyncResult) -> None:
            conn.EndSend(ar)
            conn.BeginReceive(buf, 0, len(buf), 0, guard(on_received), None)

        conn.BeginReceive(buf, 0, len(buf), 0, guard(on_received), None)

    accepted: list[Socket] = []

    def on_accept(ar: IAsyncResult) -> None:
        conn = server.EndAccept(ar)
        with lock:
            accepted.append(make_socket.track(conn))
            more = len(accepted) < clients
        if more:
            server.BeginAccept(guard(on_accept), None)
        echo(conn)

    server.BeginAccept(guard(on_accept), None)

    # The clients: BeginConnect, then send everything and read the echo back with Begin calls.
    payloads = [os.urandom(size) for _ in range(clients)]
    echoes = [bytearray() for _ in range(clients)]
    done = [threading.Event() for _ in range(clients)]

    def start_client(k: int) -> None:
        c = make_socket.tcp(client_af)
        buf = bytearray(65536)

        def on_connected(ar: IAsyncResult) -> None:
            c.EndConnect(ar)
            c.BeginSend(payloads[k], 0, size, 0, guard(on_sent), None)
            c.BeginReceive(buf, 0, len(buf), 0, guard(on_received), None)

        def on_sent(ar: IAsyncResult) -> None:
            assert c.EndSend(ar) == size
            c.Shutdown(SocketShutdown.Send)  # the server sees the end of the stream

        def on_received(ar: IAsyncResult) -> None:
            n = c.EndReceive(ar)
            if n == 0:
                done[k].set()
                return
            echoes[k].extend(buf[:n])
            c.BeginReceive(buf, 0, len(buf), 0, guard(on_received), None)

        c.BeginConnect(target, guard(on_connected), None)

    for k in range(clients):
        start_client(k)
    for k in range(clients):
        assert done[k].wait(WAIT * 2) or errors, f"client {k} got {len(echoes[k])} of {size} bytes back"
    assert not errors, errors
    for k in range(clients):
        assert bytes(echoes[k]) == payloads[k], f"client {k}: the echo differs"
    assert len(accepted) == clients
    if mode == "dual":
        for conn in accepted:
            assert conn.RemoteEndPoint.AddressFamily == AddressFamily.InterNetworkV6
            assert conn.RemoteEndPoint.Address.IsIPv4MappedToIPv6


# -- Unix domain sockets through Begin/End ---------------------------------------------------------------------


@pytest.fixture
def short_dir() -> Iterator[str]:
    # sun_path holds 107 bytes: pytest's tmp_path can be longer than that.
    d = f"/tmp/ds-be-{os.getpid()}"
    os.makedirs(d, exist_ok=True)
    yield d
    for name in os.listdir(d):
        os.unlink(os.path.join(d, name))
    os.rmdir(d)


def test_unix_stream_with_begin_accept_and_begin_connect(make_socket: Made, short_dir: str) -> None:
    path = UnixDomainSocketEndPoint(os.path.join(short_dir, "s.sock"))
    lst = make_socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
    lst.Bind(path)
    lst.Listen(4)
    accept_ar = lst.BeginAccept(5, None, None)
    c = make_socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified)
    c.EndConnect(c.BeginConnect(path, None, None))
    assert c.Connected and c.RemoteEndPoint == path
    assert c.EndSend(c.BeginSend(b"hello unix", 0, 10, 0, None, None)) == 10
    accepted, data, n = lst.EndAccept(accept_ar)
    make_socket.track(accepted)
    assert (data, n) == (b"hello", 5)
    buf = bytearray(5)
    assert accepted.EndReceive(accepted.BeginReceive(buf, 0, 5, 0, None, None)) == 5
    assert bytes(buf) == b" unix"
    lst.Dispose()
    assert not os.path.exists(path.Path)


def test_unix_datagrams_with_begin_send_to_and_begin_receive_from(make_socket: Made, short_dir: str) -> None:
    a_ep = UnixDomainSocketEndPoint(os.path.join(short_dir, "a.sock"))
    b_ep = UnixDomainSocketEndPoint(os.path.join(short_dir, "b.sock"))
    a = make_socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
    a.Bind(a_ep)
    b = make_socket(AddressFamily.Unix, SocketType.Dgram, ProtocolType.Unspecified)
    b.Bind(b_ep)
    buf = bytearray(32)
    ar = a.BeginReceiveFrom(buf, 0, 32, 0, b_ep, None, None)
    assert not ar.IsCompleted
    assert b.EndSendTo(b.BeginSendTo(b"datagram", 0, 8, 0, a_ep, None, None)) == 8
    n, sender = a.EndReceiveFrom(ar)
    assert bytes(buf[:n]) == b"datagram"
    assert sender == b_ep
