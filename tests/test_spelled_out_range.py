"""The hottest Python paths spell ``_checks.steady_range`` out inline (a frame fewer per call):
``NetworkStream.Write``/``Read``, ``BeginSend`` and ``BeginReceive``.  The rule stays one: for
generated arguments each of them takes its steady path exactly when ``steady_range`` says so,
and in the steady state ``steady_range`` is not called at all (the spelled-out test ran).

Run on both passes against the Python functions themselves (``inspect.unwrap``: on the compiled
pass the installed methods are the compiled twins, pinned by ``test_stream_paths.py`` and
``test_begin_end_paths.py``).
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dotnet_sockets import NetworkStream, Socket, SocketFlags, _checks, _socket_transfer, networkstream
from socket_helpers import Made

NONE = SocketFlags.None_


class _Int(int):
    """An int subclass: never the steady state's exact int."""


class _Took(Exception):
    """Raised by the patched first step of a path, naming the path."""


def _python(owner: type, name: str) -> Callable[..., Any]:
    return inspect.unwrap(vars(owner)[name])  # type: ignore[no-any-return]


_BEGIN_SEND = _python(_socket_transfer.SocketTransfer, "BeginSend")
_BEGIN_RECEIVE = _python(_socket_transfer.SocketTransfer, "BeginReceive")


@pytest.fixture(scope="module")
def pair() -> Iterator[tuple[Socket, Socket]]:
    made = Made()
    yield made.pair()
    made.dispose_all()


def _decide(call: Callable[[], Any]) -> str:
    """Which path ``call`` took: its steady or its general first step raises ``_Took``."""
    try:
        call()
    except _Took as took:
        return str(took)
    return "returned"


def _steady(*_: Any) -> Any:
    raise _Took("steady")


def _general(*_: Any) -> Any:
    raise _Took("general")


_buffers = st.one_of(
    st.binary(max_size=6),
    st.binary(max_size=6).map(bytearray),
    st.sampled_from([None, [b"ab"], "text"]) | st.binary(max_size=6).map(lambda b: memoryview(bytearray(b))),
)
# Plain ints most of the time (the boundaries are what matter), every other kind too.
_counts = st.integers(-3, 9) | st.sampled_from([True, False, 2**70, -(2**70), _Int(0), _Int(2), None, 1.0])
_flags = st.sampled_from([NONE, NONE, 0, 1, None, SocketFlags.Peek, True, _Int(0), SocketFlags.DontRoute])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(buffer=_buffers, offset=_counts, count=_counts, flags=_flags)
@example(buffer=bytearray(6), offset=-1, count=3, flags=NONE)
@example(buffer=b"abcdef", offset=2, count=4, flags=NONE)
@example(buffer=b"abcdef", offset=2, count=5, flags=NONE)
@example(buffer=bytearray(4), offset=4, count=0, flags=NONE)
@example(buffer=bytearray(4), offset=5, count=0, flags=NONE)
@example(buffer=bytearray(4), offset=0, count=_Int(2), flags=NONE)
def test_each_hot_path_is_steady_exactly_when_steady_range_says(
    pair: tuple[Socket, Socket], buffer: Any, offset: Any, count: Any, flags: Any
) -> None:
    c, _ = pair
    stream = NetworkStream(c, False)
    steady = _checks.steady_range(buffer, offset, count, NONE)
    steady_flags = _checks.steady_range(buffer, offset, count, flags)
    with pytest.MonkeyPatch.context() as m:
        m.setattr(_socket_transfer.SocketTransfer, "_send_steady", _steady)
        m.setattr(_socket_transfer.SocketTransfer, "_receive_steady", _steady)
        m.setattr(networkstream.NetworkStream, "_target", _general)
        m.setattr(_socket_transfer, "_audit", _steady)  # the Begin steady paths' first step past the checks
        m.setattr(_socket_transfer.SocketCore, "_throw_if_disposed", _general)  # the general paths' first
        write = _decide(lambda: _python(NetworkStream, "Write")(stream, buffer, offset, count))
        read = _decide(lambda: _python(NetworkStream, "Read")(stream, buffer, offset, count))
        send = _decide(lambda: _BEGIN_SEND(c, buffer, offset, count, flags, None, None))
        receive = _decide(lambda: _BEGIN_RECEIVE(c, buffer, offset, count, flags, None, None))
    assert write == ("steady" if steady else "general")
    assert read == ("steady" if steady and type(buffer) is bytearray else "general")
    assert send == ("steady" if steady_flags else "general")
    # (0 bytes waits for data: the general path builds its operation)
    assert receive == ("steady" if steady_flags and type(buffer) is bytearray and count else "general")


def test_the_steady_state_asks_steady_range_nothing(pair: tuple[Socket, Socket]) -> None:
    """The spelled-out test is what runs: no call of steady_range in a steady Write, Read,
    BeginSend or BeginReceive (the calls complete: data is sent, then read back)."""
    c, s = pair
    ws, rs = NetworkStream(c, False), NetworkStream(s, False)
    calls: list[str] = []
    rule = _checks.steady_range.__code__

    def profile(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code is rule:
            calls.append(event)

    out, into = bytearray(b"abcd"), bytearray(4)
    write, read = _python(NetworkStream, "Write"), _python(NetworkStream, "Read")
    begin_send, begin_receive = _BEGIN_SEND, _BEGIN_RECEIVE
    sys.setprofile(profile)
    try:
        write(ws, out, 0, 4)
        got = read(rs, into, 0, 4)
        ar = begin_send(c, out, 0, 4, NONE, None, None)
    finally:
        sys.setprofile(None)
    assert ar.AsyncWaitHandle.WaitOne(5000)
    assert c.EndSend(ar) == 4
    assert s.Poll(5_000_000, 0)
    sys.setprofile(profile)
    try:
        rar = begin_receive(s, into, 0, 4, NONE, None, None)
    finally:
        sys.setprofile(None)
    assert rar.AsyncWaitHandle.WaitOne(5000)
    assert (got, s.EndReceive(rar), bytes(into)) == (4, 4, b"abcd")
    assert calls == []
    # And the switch the three-way tests use still sends the calls down the general path.
    with pytest.MonkeyPatch.context() as m:
        m.setattr(networkstream, "_steady_range", lambda *a: calls.append("stream") or False)
        m.setattr(_socket_transfer, "_steady_range", lambda *a: calls.append("socket") or False)
        write(ws, out, 0, 4)  # (down to Send, which on the pure pass asks again)
        assert calls[0] == "stream"
        del calls[:]
        assert begin_send(c, out, 0, 4, NONE, None, None).AsyncWaitHandle.WaitOne(5000)
    assert calls == ["socket"]
