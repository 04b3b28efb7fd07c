"""Network tracing: every public socket operation logs entry, exit or error; off costs no formatting.

The trace is read from a handler on the ``dotnet_sockets`` logger; nothing here
measures time (the cost of tracing when off is benchmarks/bench_tracing.py).
"""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from conftest import WAIT, CallbackRecorder, UdpPeer
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
    SocketType,
)
from dotnet_sockets.tracing import DUMP_LIMIT, VERBOSE, hexdump

MakeSocket = Callable[..., Socket]
ROOT = Path(__file__).resolve().parent.parent
LOOPBACK = IPEndPoint(IPAddress.Loopback, 0)


class Trace:
    def __init__(self) -> None:
        self.records: list[logging.LogRecord] = []

    @property
    def text(self) -> str:
        return "\n".join(r.getMessage() for r in self.records)

    def lines(self, member: str) -> list[str]:
        pattern = re.compile(rf"^Socket#\d+ {member} (enter|exit|error)\b")
        return [r.getMessage() for r in self.records if pattern.match(r.getMessage())]

    def kinds(self, member: str) -> set[str]:
        return {line.split()[2] for line in self.lines(member)}


@pytest.fixture
def trace() -> Iterator[Trace]:
    yield from _capture(VERBOSE)


@pytest.fixture
def debug_trace() -> Iterator[Trace]:
    yield from _capture(logging.DEBUG)


def _capture(level: int) -> Iterator[Trace]:
    t = Trace()

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            t.records.append(record)

    lg = logging.getLogger("dotnet_sockets")
    h = Keep(level=1)
    old = lg.level
    lg.addHandler(h)
    lg.setLevel(level)
    try:
        yield t
    finally:
        lg.removeHandler(h)
        lg.setLevel(old)


@pytest.fixture
def peer() -> Iterator[UdpPeer]:
    p = UdpPeer(AddressFamily.InterNetwork)
    yield p
    p.close()


# -- BeginSendTo / EndSendTo ----------------------------------------------------------------------


def test_begin_send_to_and_end_send_to_trace_entry_arguments_bytes_and_outcome(
    make_socket: MakeSocket, peer: UdpPeer, trace: Trace
) -> None:
    s = make_socket()
    rec = CallbackRecorder(s.EndSendTo)
    ar = s.BeginSendTo(b"..hello!", 2, 6, SocketFlags.None_, peer.endpoint, rec, "state")
    assert rec.wait()
    assert rec.results == [6]
    enter, exit_ = trace.lines("BeginSendTo")
    assert "enter (" in enter
    # .NET's parameter order, the flags by name, the endpoint as .NET prints it.
    assert enter.endswith(f"enter (offset=2, size=6, socket_flags=None, remote_ep={peer.endpoint})")
    assert exit_.endswith(repr(ar))
    end_enter, end_exit = trace.lines("EndSendTo")
    assert end_enter.endswith(f"EndSendTo enter (async_result={ar!r})")
    assert end_exit.endswith("EndSendTo exit -> 6")
    dump = [r.getMessage() for r in trace.records if r.levelno == VERBOSE]
    assert any("BeginSendTo 6 bytes" in d and "68 65 6C 6C 6F 21" in d and "hello!" in d for d in dump)
    # The record of EndSendTo comes from the completion thread the callback ran on.
    end_record = next(r for r in trace.records if "EndSendTo exit" in r.getMessage())
    assert end_record.thread == rec.threads[0]
    assert all(r.name.startswith("dotnet_sockets") for r in trace.records)


def test_the_error_of_an_operation_is_traced_at_its_end(make_socket: MakeSocket, trace: Trace) -> None:
    s = make_socket()
    broadcast = IPEndPoint(IPAddress.Parse("127.255.255.255"), 9)  # EnableBroadcast is off
    ar = s.BeginSendTo(b"abc", 0, 3, SocketFlags.None_, broadcast, None, None)
    with pytest.raises(SocketException):
        s.EndSendTo(ar)
    enter, line = trace.lines("EndSendTo")
    assert "EndSendTo enter" in enter
    assert "EndSendTo error -> SocketException" in line


def test_the_hex_dump_is_bounded(make_socket: MakeSocket, peer: UdpPeer, trace: Trace) -> None:
    s = make_socket()
    data = bytes(range(256)) * 12
    s.SendTo(data, peer.endpoint)
    dump = next(r.getMessage() for r in trace.records if r.levelno == VERBOSE)
    assert f"{len(data) - DUMP_LIMIT} more bytes not shown" in dump
    assert dump.count("\n") <= DUMP_LIMIT // 16 + 2


def test_hexdump_format() -> None:
    text = hexdump(b"ABC\x00\xff" + b"z" * 16)
    first, second = text.splitlines()
    assert first.startswith("00000000 : 41 42 43 00 FF 7A")
    assert first.endswith(": ABC..zzzzzzzzzzz")
    assert second.startswith("00000010 : 7A 7A 7A 7A 7A")


# -- every other public operation -----------------------------------------------------------------


def test_every_public_operation_traces_entry_and_exit(make_socket: MakeSocket, debug_trace: Trace) -> None:
    any_ep = IPEndPoint(IPAddress.Any, 0)
    u = make_socket()
    u.Bind(LOOPBACK)
    me = u.LocalEndPoint
    assert isinstance(me, IPEndPoint)
    u.ReceiveTimeout = int(WAIT * 1000)
    u.SendTo(b"one", me)
    u.ReceiveFrom(bytearray(8), any_ep)
    rec = CallbackRecorder(u.EndReceiveFrom)
    u.BeginReceiveFrom(bytearray(8), 0, 8, SocketFlags.None_, any_ep, rec, None)
    u.SendTo(b"two", me)
    assert rec.wait()

    listener = make_socket(st=SocketType.Stream)
    listener.Bind(LOOPBACK)
    listener.Listen(2)
    client = make_socket(st=SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    client.Send(b"x")
    server.ReceiveTimeout = int(WAIT * 1000)
    server.Receive(bytearray(4))
    sent = CallbackRecorder(client.EndSend)
    client.BeginSend(b"y", 0, 1, SocketFlags.None_, sent, None)
    got = CallbackRecorder(server.EndReceive)
    server.BeginReceive(bytearray(4), 0, 4, SocketFlags.None_, got, None)
    assert sent.wait() and got.wait()
    accepted = CallbackRecorder(listener.EndAccept)
    listener.BeginAccept(accepted, None)
    client2 = make_socket(st=SocketType.Stream)
    connected = CallbackRecorder(client2.EndConnect)
    client2.BeginConnect(listener.LocalEndPoint, connected, None)
    assert connected.wait() and accepted.wait()
    client.Shutdown(SocketShutdown.Send)
    accepted.results[0].Close()
    server.Dispose()

    for member in (
        "Bind",
        "SendTo",
        "ReceiveFrom",
        "BeginReceiveFrom",
        "Listen",
        "Connect",
        "Accept",
        "Send",
        "Receive",
        "BeginSend",
        "BeginReceive",
        "BeginAccept",
        "BeginConnect",
        "Shutdown",
        "Close",
        "Dispose",
    ):
        assert {"enter", "exit"} <= debug_trace.kinds(member), member
    for member in ("EndReceiveFrom", "EndSend", "EndReceive", "EndAccept", "EndConnect"):
        assert {"enter", "exit"} <= debug_trace.kinds(member), member
    assert any(f"local_ep={LOOPBACK}" in line for line in debug_trace.lines("Bind"))
    assert any("remote_ep=0.0.0.0:0" in line for line in debug_trace.lines("BeginReceiveFrom"))
    assert any(f"exit -> 3 bytes from {me}" in line for line in debug_trace.lines("EndReceiveFrom"))
    assert any(f"exit -> 3 bytes from {me}" in line for line in debug_trace.lines("ReceiveFrom"))


def test_a_failing_synchronous_call_traces_its_exception(make_socket: MakeSocket, debug_trace: Trace) -> None:
    s = make_socket()
    s.Bind(LOOPBACK)
    s.ReceiveTimeout = 50
    with pytest.raises(SocketException) as err:
        s.Receive(bytearray(4))
    assert err.value.SocketErrorCode == SocketError.TimedOut
    (enter, error) = debug_trace.lines("Receive")
    assert "enter (size=4)" in enter
    assert "error -> SocketException" in error
    with pytest.raises(SocketException):
        make_socket(st=SocketType.Stream).Connect(IPEndPoint(IPAddress.Loopback, _closed_port()))
    assert "error" in debug_trace.kinds("Connect")


def test_close_traces_the_timeout_exactly_as_it_was_given(make_socket: MakeSocket, debug_trace: Trace) -> None:
    # Close() shows no argument; Close(None) and Close(-1) show the one they were given.
    for args, shown in (((), "()"), ((None,), "(timeout=None)"), ((-1,), "(timeout=-1)"), ((0,), "(timeout=0)")):
        debug_trace.records.clear()
        make_socket().Close(*args)
        (enter, exit_) = debug_trace.lines("Close")
        assert enter.endswith(f"Close enter {shown}"), (args, enter)
        assert exit_.endswith("Close exit -> None")
    debug_trace.records.clear()
    make_socket(st=SocketType.Stream).Close(timeout=None)
    assert debug_trace.lines("Close")[0].endswith("Close enter (timeout=None)")


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- off means off --------------------------------------------------------------------------------


class _WatchedEndPoint(IPEndPoint):
    """An endpoint that counts how often the trace formats it."""

    __slots__ = ("formatted",)

    def __init__(self, address: IPAddress, port: int) -> None:
        super().__init__(address, port)
        self.formatted = 0

    def __repr__(self) -> str:
        self.formatted += 1
        return super().__repr__()

    def __str__(self) -> str:
        self.formatted += 1
        return super().__str__()


def test_nothing_is_formatted_or_recorded_when_tracing_is_off(make_socket: MakeSocket, peer: UdpPeer) -> None:
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    lg = logging.getLogger("dotnet_sockets")
    h = Keep()
    old = lg.level
    lg.addHandler(h)
    lg.setLevel(logging.INFO)
    ep = _WatchedEndPoint(peer.endpoint.Address, peer.endpoint.Port)
    try:
        s = make_socket()
        rec = CallbackRecorder(s.EndSendTo)
        s.BeginSendTo(b"quiet", 0, 5, SocketFlags.None_, ep, rec, None)
        assert rec.wait()
        s.SendTo(b"quiet", ep)
        s.Close()
        off_count = ep.formatted
        lg.setLevel(logging.DEBUG)  # the control: on, the same calls format the endpoint
        s2 = make_socket()
        s2.SendTo(b"loud", ep)
    finally:
        lg.removeHandler(h)
        lg.setLevel(old)
    assert off_count == 0
    assert ep.formatted > 0
    assert records  # all of them from s2, made after tracing was switched on
    assert all(f"Socket#{id(s) & 0xFFFFFFF} " not in r.getMessage() for r in records)


# -- switched on from the environment --------------------------------------------------------------

_SCRIPT = """
import socket
from dotnet_sockets import Socket, AddressFamily, SocketType, ProtocolType, IPEndPoint, IPAddress
r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
r.bind(("127.0.0.1", 0))
with Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) as s:
    s.SendTo(b"env-traced", IPEndPoint(IPAddress.Loopback, r.getsockname()[1]))
r.close()
"""


@pytest.mark.parametrize(
    ("value", "expect_trace", "expect_dump"),
    [
        ("1", True, False),
        ("DEBUG", True, False),
        ("verbose", True, True),
        ("5", True, True),
        ("0", False, False),
    ],
)
def test_the_environment_switches_tracing_on(value: str, expect_trace: bool, expect_dump: bool) -> None:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), DOTNET_SOCKETS_TRACE=value)
    res = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=60, env=env, check=False
    )
    assert res.returncode == 0, res.stderr
    assert ("SendTo enter" in res.stderr) == expect_trace
    assert ("SendTo exit -> 10" in res.stderr) == expect_trace
    assert ("65 6E 76 2D 74 72 61 63 65 64" in res.stderr) == expect_dump  # b"env-traced"
    assert res.stdout == ""
