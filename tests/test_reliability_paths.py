"""Issue 14, defects 5, 6, 11 and 12: what the two send paths must do alike, and accepts into a disposed socket.

Each test runs on the path the suite runs on (compiled, or ``DOTNET_SOCKETS_PURE=1``).  The tests
with audit hooks run in a child interpreter (a hook cannot be removed); the child inherits the
path.  ``tests/_send_paths_scenarios.py`` also carries these cases, compared across both paths.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    IPEndPoint,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
)
from odd_flags import LiesFalse, LiesTrue, RaisingBool, RaisingIndex
from reliability_support import PYTHON, checked_sockets, fd_count, subprocess_env
from socket_helpers import Made, pending


@pytest.fixture
def made() -> Iterator[Made]:
    with checked_sockets() as m:
        yield m


def run_child(code: str) -> Any:
    proc = subprocess.run(
        [PYTHON, "-X", "dev", "-c", textwrap.dedent(code)],
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.splitlines()[-1])


# -- defect 6: the AcceptSocket disposed while its accept is pending -----------------------------
def _connect_and_watch(port: int) -> socket.socket:
    client = socket.create_connection(("127.0.0.1", port), timeout=WAIT)
    return client


def _closed_by_peer(client: socket.socket) -> bool:
    """True when the accepted end was closed: EOF (or a reset) within WAIT."""
    client.settimeout(WAIT)
    try:
        return client.recv(1) == b""
    except ConnectionResetError:
        return True


@pytest.mark.parametrize("model", ["AcceptAsync(e)", "BeginAccept", "await AcceptAsync"])
def test_accept_into_disposed_accept_socket(made: Made, model: str) -> None:
    """Completion once with OperationAborted, the accepted descriptor closed, nothing on a completion thread."""
    lst = made.listener()
    target = made.tcp()
    fds = fd_count()
    results: list[Any] = []
    done = threading.Event()
    loop: asyncio.AbstractEventLoop | None = None
    thread: threading.Thread | None = None
    if model == "AcceptAsync(e)":
        e = SocketAsyncEventArgs()
        e.AcceptSocket = target
        e.Completed += lambda _s, ev: (results.append(ev.SocketError), done.set())
        assert lst.AcceptAsync(e) is True
    elif model == "BeginAccept":

        def cb(ar: Any) -> None:
            try:
                results.append(lst.EndAccept(ar))
            except SocketException as exc:
                results.append(exc.SocketErrorCode)
            done.set()

        lst.BeginAccept(target, 0, cb, None)
    else:
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, daemon=True)
        thread.start()

        fut = asyncio.run_coroutine_threadsafe(lst.AcceptAsync(target), loop)  # checked here, started there

        def finished(f: Any) -> None:
            exc = f.exception()
            results.append(exc.SocketErrorCode if isinstance(exc, SocketException) else (exc or f.result()))
            done.set()

        fut.add_done_callback(finished)
    assert pending(lst), "the accept did not wait"
    target.Dispose()
    client = _connect_and_watch(lst.LocalEndPoint.Port)
    try:
        assert done.wait(WAIT), "the accept never completed"
        assert results == [SocketError.OperationAborted]
        assert _closed_by_peer(client), "the accepted descriptor was left open"
    finally:
        client.close()
        if loop is not None and thread is not None:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(WAIT)
            loop.close()
    assert fd_count() <= fds
    # The listener still accepts.
    c2 = _connect_and_watch(lst.LocalEndPoint.Port)
    lst.ReceiveTimeout = int(WAIT * 1000)
    made.track(lst.Accept())
    c2.close()


# -- defect 11: socket flags are read by value, whatever an int subclass says -------------------
ODD_FLAGS = {
    "raising __bool__ (0)": (RaisingBool(0), None),
    "raising __index__/__int__ (0)": (RaisingIndex(0), None),
    "true zero": (LiesTrue(0), None),
    "false Partial": (LiesFalse(int(SocketFlags.Partial)), SocketError.OperationNotSupported),
    "raising __bool__ Partial": (RaisingBool(int(SocketFlags.Partial)), SocketError.OperationNotSupported),
}

PAYLOAD = b"0123456789abcdef"


def _send_with(model: str, s: Socket, flags: Any, ep: IPEndPoint) -> Any:
    """Send PAYLOAD with ``flags`` through one model: bytes sent, or the SocketError."""
    try:
        if model == "BeginSendTo":
            return s.EndSendTo(s.BeginSendTo(PAYLOAD, 0, len(PAYLOAD), flags, ep, None, None))
        if model == "SendTo":
            return s.SendTo(PAYLOAD, 0, len(PAYLOAD), flags, ep)
        if model == "SendToAsync(e)":
            e = SocketAsyncEventArgs()
            e.SetBuffer(PAYLOAD, 0, len(PAYLOAD))
            e.RemoteEndPoint = ep
            e.SocketFlags = flags
            got = threading.Event()
            e.Completed += lambda _s, _e: got.set()
            if s.SendToAsync(e):
                assert got.wait(WAIT)
            return e.BytesTransferred if e.SocketError == SocketError.Success else e.SocketError
        if model == "await SendToAsync":
            return asyncio.run(_awaited(s, flags, ep))
        raise AssertionError(model)
    except SocketException as exc:
        return exc.SocketErrorCode


async def _awaited(s: Socket, flags: Any, ep: IPEndPoint) -> int:
    n: int = await s.SendToAsync(PAYLOAD, flags, ep)
    return n


@pytest.mark.parametrize("kind", list(ODD_FLAGS))
@pytest.mark.parametrize("model", ["BeginSendTo", "SendTo", "SendToAsync(e)", "await SendToAsync"])
def test_odd_flags_read_by_value(made: Made, model: str, kind: str) -> None:
    """The flags' stored value decides (never their __bool__/__index__/__int__), in every model, on both paths."""
    rx = made.udp()
    rx.ReceiveTimeout = int(WAIT * 1000)
    s = made.udp()
    s.SendTo(b"warm", rx.LocalEndPoint)  # bound: the steady state the fast paths take
    rx.Receive(bytearray(16))
    flags, error = ODD_FLAGS[kind]
    outcome = _send_with(model, s, flags, rx.LocalEndPoint)
    if error is None:
        assert outcome == len(PAYLOAD)
        buf = bytearray(32)
        assert buf[: rx.Receive(buf)] == PAYLOAD
    else:
        assert outcome == error
        rx.Blocking = False
        assert rx.Available == 0


# -- defect 12: the awaitable of SendToAsync is not re-entered by an audit hook ------------------
def test_awaitable_refuses_reentry_from_audit_hook() -> None:
    """An audit hook calling .send(None) on the running awaitable gets "already executing"; one datagram."""
    out = run_child(
        """
        import asyncio, json, socket, sys
        from dotnet_sockets import *
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); r.setblocking(False)
        ep = IPEndPoint(IPAddress.Loopback, r.getsockname()[1])
        s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
        s.SendTo(b"warm", ep); r.recv(100)
        seen = []
        box = {}
        def hook(event, args):
            aw = box.pop("aw", None)
            if event == "socket.sendto" and aw is not None:
                for step in (lambda: aw.send(None), lambda: aw.throw(KeyError("x")), aw.close):
                    try:
                        step()
                        seen.append("ran")
                    except BaseException as exc:
                        seen.append(f"{type(exc).__name__}: {exc}")
        sys.addaudithook(hook)
        async def main():
            aw = s.SendToAsync(b"payload", 0, ep)
            box["aw"] = aw
            return await aw
        result = asyncio.run(main())
        got = []
        while True:
            try:
                got.append(r.recv(100).decode())
            except BlockingIOError:
                break
        print(json.dumps([result, seen, got]))
        """
    )
    assert out == [
        7,
        ["ValueError: coroutine already executing"] * 3,
        ["payload"],
    ]


# -- defect 5: a hook gives the socket a new OpQueue in the middle of a compiled send ------------
def test_send_survives_hook_that_gives_the_socket_a_new_opqueue() -> None:
    """An accept into the sending socket completes inside the audit hook: no crash, and the send goes
    where the Python path sends it (over the accepted connection, or refused as aborted)."""
    out = run_child(
        """
        import asyncio, json, socket, sys, threading
        from dotnet_sockets import *
        lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        lst.Bind(IPEndPoint(IPAddress.Loopback, 0)); lst.Listen(4)
        r = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); r.bind(("127.0.0.1", 0)); r.settimeout(5)
        ep = IPEndPoint(IPAddress.Loopback, r.getsockname()[1])
        act = {}
        def hook(event, args):
            f = act.pop(event, None)
            if f is not None:
                f()
        sys.addaudithook(hook)
        def outcome(fn):
            try:
                return ["value", fn()]
            except Exception as exc:
                code = getattr(exc, "SocketErrorCode", None)
                return ["raised", type(exc).__name__, code.name if code is not None else None]
        results = {}
        for kind in ("begin", "sync", "event", "await"):
            victim = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            e = SocketAsyncEventArgs(); e.AcceptSocket = victim
            accepted = threading.Event(); e.Completed += lambda s, ev: accepted.set()
            assert lst.AcceptAsync(e) is True
            victim.SendTo(b"bind", ep)  # bound: the steady state the compiled paths take
            client = socket.socket(); client.settimeout(5)
            def accept_now():
                client.connect(("127.0.0.1", lst.LocalEndPoint.Port))
                assert accepted.wait(5)
            if kind == "begin":
                act["dotnet_sockets.Socket.BeginSendTo"] = accept_now
                ended = threading.Event(); res = []
                def cb(ar):
                    res.append(outcome(lambda: victim.EndSendTo(ar))); ended.set()
                began = outcome(lambda: victim.BeginSendTo(b"payload", 0, 7, 0, ep, cb, None) is not None)
                ended.wait(5)
                o = [began, res]
            elif kind == "sync":
                act["dotnet_sockets.Socket.SendTo"] = accept_now
                o = outcome(lambda: victim.SendTo(b"payload", ep))
            elif kind == "event":
                act["dotnet_sockets.Socket.SendToAsync"] = accept_now
                e2 = SocketAsyncEventArgs(); e2.SetBuffer(b"payload", 0, 7); e2.RemoteEndPoint = ep
                fired = threading.Event(); e2.Completed += lambda s, ev: fired.set()
                o = outcome(lambda: victim.SendToAsync(e2))
                if o == ["value", True]:
                    fired.wait(5)
                o = [o, e2.SocketError.name, e2.BytesTransferred]
            else:
                aw = victim.SendToAsync(b"payload", 0, ep)
                act["socket.sendto"] = accept_now
                async def main():
                    return await aw
                o = outcome(lambda: asyncio.run(main()))
            # The send is over: one that reported its 7 bytes gets the generous bound to show them,
            # one that did not only has to show that nothing came (a short wait does that).
            sent = {"begin": o[1:] == [[["value", 7]]], "event": o[1:] == ["Success", 7]}.get(kind, o == ["value", 7])
            client.settimeout(5 if sent else 0.05)
            try:
                data = client.recv(100).decode()
            except OSError as exc:
                data = type(exc).__name__
            results[kind] = [o, data, victim.SocketType.name]
            victim.Close(); client.close()
        print(json.dumps(results))
        """
    )
    # (The awaited send's first try is inside socket.sendto's audit, on the old descriptor,
    # which the accept closed: aborted, as the Python path's socket.sendto finds it.)
    assert out == {
        "begin": [[["value", True], [["value", 7]]], "payload", "Stream"],
        "sync": [["value", 7], "payload", "Stream"],
        "event": [[["value", False], "Success", 7], "payload", "Stream"],
        "await": [["raised", "SocketException", "OperationAborted"], "TimeoutError", "Stream"],
    }


def test_flags_rule_is_one_definition() -> None:
    """The Python spelling of the rule reads an int subclass by value and calls nothing of it."""
    from dotnet_sockets._checks import flags_value, no_flags

    assert no_flags(RaisingBool(0)) and no_flags(RaisingIndex(0)) and no_flags(LiesTrue(0))
    assert not no_flags(LiesFalse(4)) and not no_flags(None) and not no_flags("0")
    assert flags_value(LiesFalse(4)) == 4 and flags_value(RaisingIndex(0x8000)) == 0x8000
    assert flags_value(None) == 0 and flags_value(SocketFlags.DontRoute) == 4
