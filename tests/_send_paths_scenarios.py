"""Scenarios of every accelerated send path, printed as one JSON document.

``test_accelerator.py`` runs this file twice, once on the compiled paths and once with
``DOTNET_SOCKETS_PURE=1``, and asserts the two documents are equal: whatever the
accelerator does, the pure-Python path does too (results, exceptions and their codes,
callbacks, telemetry, the state of the socket afterwards).  Not collected by pytest.
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from dotnet_sockets import (
    AddressFamily,
    ExecutionContext,
    IPAddress,
    IPEndPoint,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketFlags,
    SocketType,
    _accel,
)
from dotnet_sockets.security import SocketPolicy, using_policy
from dotnet_sockets.telemetry import Telemetry
from odd_flags import LiesFalse, LiesTrue, RaisingBool, RaisingIndex

WAIT = 10.0
out: dict[str, Any] = {"accelerated": _accel.ACCELERATED}
PORTS: list[str] = []  # ephemeral ports, written as PORT in messages so that two runs compare


def outcome(fn: Callable[[], Any]) -> Any:
    """What a call returned, or what it raised (type, SocketErrorCode, message)."""
    try:
        value = fn()
    except Exception as exc:  # noqa: BLE001 - the outcome is the point
        code = getattr(exc, "SocketErrorCode", None)
        text = str(exc)
        for port in PORTS:
            text = text.replace(port, "PORT")
        return ["raised", type(exc).__name__, None if code is None else code.name, text]
    if isinstance(value, (int, str, bool, type(None), float)):
        return ["value", value]
    return ["value", repr(value) if not hasattr(value, "IsCompleted") else "IAsyncResult"]


def receiver(v6: bool = False) -> tuple[socket.socket, IPEndPoint]:
    r = socket.socket(socket.AF_INET6 if v6 else socket.AF_INET, socket.SOCK_DGRAM)
    r.bind(("::1" if v6 else "127.0.0.1", 0))
    r.settimeout(WAIT)
    ip = IPAddress.IPv6Loopback if v6 else IPAddress.Loopback
    PORTS.append(str(r.getsockname()[1]))
    return r, IPEndPoint(ip, r.getsockname()[1])


def received_sizes(r: socket.socket) -> list[int]:
    """The sizes of the datagrams waiting on ``r``, in order (it is left non-blocking)."""
    r.setblocking(False)
    sizes = []
    while True:
        try:
            sizes.append(len(r.recv(70000)))
        except BlockingIOError:
            return sizes


def udp(v6: bool = False) -> Socket:
    af = AddressFamily.InterNetworkV6 if v6 else AddressFamily.InterNetwork
    return Socket(af, SocketType.Dgram, ProtocolType.Udp)


def begin_and_end(s: Socket, *args: Any) -> list[Any]:
    """BeginSendTo(*args) with a callback; the callback's view and EndSendTo's outcome."""
    seen: list[Any] = []
    done = threading.Event()

    def cb(ar: Any) -> None:
        seen.append(["callback", ar.AsyncState, ar.IsCompleted, ar.CompletedSynchronously])
        seen.append(outcome(lambda: s.EndSendTo(ar)))
        seen.append(outcome(lambda: s.EndSendTo(ar)))  # twice: InvalidOperationException
        done.set()

    began = outcome(lambda: s.BeginSendTo(*args, cb, "state"))
    if began[0] == "value":
        done.wait(WAIT)
    return [began, *seen]


def telemetry_delta(fn: Callable[[], Any]) -> list[Any]:
    before = Telemetry.snapshot()
    result = fn()
    delta = Telemetry.snapshot() - before
    return [result, delta.bytes_sent, delta.datagrams_sent]


def scenarios() -> None:
    r, ep = receiver()
    payload = b"0123456789abcdef"

    s = udp()
    out["begin first (binds)"] = telemetry_delta(lambda: begin_and_end(s, payload, 0, len(payload), 0, ep))
    out["local after bind"] = s.LocalEndPoint is not None
    out["begin steady bytes"] = telemetry_delta(lambda: begin_and_end(s, payload, 0, len(payload), 0, ep))
    out["begin bytearray"] = begin_and_end(s, bytearray(payload), 0, 16, SocketFlags.None_, ep)
    out["begin memoryview"] = begin_and_end(s, memoryview(payload), 0, 16, 0, ep)
    out["begin slice"] = begin_and_end(s, payload, 3, 5, 0, ep)
    out["begin DontRoute"] = begin_and_end(s, payload, 0, 16, SocketFlags.DontRoute, ep)
    out["begin Partial"] = begin_and_end(s, payload, 0, 16, SocketFlags.Partial, ep)
    out["begin bad offset"] = begin_and_end(s, payload, 17, 0, 0, ep)
    out["begin bad size"] = begin_and_end(s, payload, 0, 17, 0, ep)
    out["begin None buffer"] = begin_and_end(s, None, 0, 0, 0, ep)
    out["begin None ep"] = begin_and_end(s, payload, 0, 16, 0, None)
    out["begin v6 ep on v4"] = begin_and_end(s, payload, 0, 16, 0, IPEndPoint(IPAddress.IPv6Loopback, 9))
    out["begin too big"] = telemetry_delta(lambda: begin_and_end(s, bytes(70000), 0, 70000, 0, ep))
    bcast = IPEndPoint(IPAddress.Parse("127.255.255.255"), ep.Port)
    out["begin broadcast not enabled"] = begin_and_end(s, payload, 0, 16, 0, bcast)
    out["begin not callable"] = outcome(lambda: s.BeginSendTo(payload, 0, 16, 0, ep, 42, None))
    out["begin no callback"] = outcome(lambda: s.EndSendTo(s.BeginSendTo(payload, 0, 16, 0, ep)))
    other = udp()
    ar = s.BeginSendTo(payload, 0, 16, 0, ep, None, None)
    out["end on another socket"] = outcome(lambda: other.EndSendTo(ar))
    out["end None"] = outcome(lambda: s.EndSendTo(None))  # type: ignore[arg-type]
    other.Close()

    first = udp()
    out["sync first"] = outcome(lambda: first.SendTo(payload, ep))
    first.Close()
    out["sync steady"] = telemetry_delta(lambda: outcome(lambda: s.SendTo(payload, ep)))
    out["sync too big"] = outcome(lambda: s.SendTo(bytes(70000), ep))
    out["sync broadcast"] = outcome(lambda: s.SendTo(payload, bcast))
    out["sync four args"] = outcome(lambda: s.SendTo(payload, 0, 4, 0, ep))

    e = SocketAsyncEventArgs()
    e.SetBuffer(payload, 0, 16)
    e.RemoteEndPoint = ep
    out["event steady"] = telemetry_delta(
        lambda: [outcome(lambda: s.SendToAsync(e)), e.SocketError.name, e.BytesTransferred, e.LastOperation.name]
    )
    e.SetBuffer(bytes(70000), 0, 70000)
    out["event too big"] = [outcome(lambda: s.SendToAsync(e)), e.SocketError.name, e.BytesTransferred]
    e.SetBuffer(payload, 2, 4)
    out["event slice"] = [outcome(lambda: s.SendToAsync(e)), e.SocketError.name, e.BytesTransferred]
    e.RemoteEndPoint = bcast
    out["event broadcast"] = [outcome(lambda: s.SendToAsync(e)), e.SocketError.name]
    e.RemoteEndPoint = None
    out["event no ep"] = outcome(lambda: s.SendToAsync(e))
    e.Dispose()
    out["event disposed args"] = outcome(lambda: s.SendToAsync(e))

    async def awaited() -> dict[str, Any]:
        res: dict[str, Any] = {}

        async def catch(aw: Any) -> Any:
            try:
                return ["value", await aw]
            except Exception as exc:  # noqa: BLE001
                code = getattr(exc, "SocketErrorCode", None)
                return ["raised", type(exc).__name__, None if code is None else code.name]

        res["await steady"] = await catch(s.SendToAsync(payload, 0, ep))
        res["await too big"] = await catch(s.SendToAsync(bytes(70000), 0, ep))
        res["await broadcast"] = await catch(s.SendToAsync(payload, 0, bcast))
        fresh = udp()
        res["await unbound (binds)"] = await catch(fresh.SendToAsync(payload, 0, ep))
        res["await unbound local"] = fresh.LocalEndPoint is not None
        fresh.Close()
        res["await task"] = await catch(asyncio.create_task(s.SendToAsync(payload, 0, ep)))
        aw = s.SendToAsync(payload, 0, ep)
        await aw
        res["await twice"] = await catch(aw)
        not_awaited = s.SendToAsync(payload, 0, ep)
        not_awaited.close()
        res["closed unawaited"] = await catch(not_awaited)
        thrown = s.SendToAsync(payload, 0, ep)
        try:
            thrown.throw(ValueError("thrown in"))
        except ValueError as exc:
            res["throw before start"] = str(exc)
        closed_sock = udp()
        pending = closed_sock.SendToAsync(payload, 0, ep)
        closed_sock.Close()
        res["await after close"] = await catch(pending)
        return res

    out.update(asyncio.run(awaited()))

    # Inline completions: a chain of 2,000 Begins, each issued from the previous callback.
    s.InlineCompletions = True
    order: list[int] = []
    done = threading.Event()
    depth = [0, 0]

    def chain(ar: Any) -> None:
        depth[0] += 1
        depth[1] = max(depth[1], depth[0])
        s.EndSendTo(ar)
        i = ar.AsyncState
        order.append(i)
        if i < 2000:
            s.BeginSendTo(payload, 0, 16, 0, ep, chain, i + 1)
        else:
            done.set()
        depth[0] -= 1

    s.BeginSendTo(payload, 0, 16, 0, ep, chain, 1)
    done.wait(WAIT)
    out["inline chain in order"] = order == list(range(1, 2001))
    out["inline chain never nested"] = depth[1]
    s.InlineCompletions = False

    # The callback runs in the context captured by Begin, or in an empty one under SuppressFlow.
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    var.set("caller")
    seen_ctx: list[str] = []
    got = threading.Event()

    def read_var(ar: Any) -> None:
        s.EndSendTo(ar)
        seen_ctx.append(var.get())
        var.set("changed by the callback")
        got.set()

    for suppress in (False, True, False):
        got.clear()
        if suppress:
            with ExecutionContext.SuppressFlow():
                s.BeginSendTo(payload, 0, 16, 0, ep, read_var, None)
        else:
            s.BeginSendTo(payload, 0, 16, 0, ep, read_var, None)
        got.wait(WAIT)
    out["callback contexts"] = [seen_ctx, var.get()]

    # A callback that raises is reported, and the next callbacks still run.
    reported: list[str] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda a: reported.append(type(a.exc_value).__name__)
    ran = threading.Event()

    def boom(ar: Any) -> None:
        raise KeyError("boom")

    s.BeginSendTo(payload, 0, 16, 0, ep, boom, None)
    s.BeginSendTo(payload, 0, 16, 0, ep, lambda ar: ran.set(), None)
    ran.wait(WAIT)
    threading.excepthook = old_hook
    out["raising callback reported"] = reported
    out["next callback ran"] = ran.is_set()

    # Denied by an audit policy: SecurityException, nothing sent.
    deny = SocketPolicy.deny_only(f"127.0.0.1:{ep.Port}")
    with using_policy(deny):
        out["denied begin"] = telemetry_delta(lambda: outcome(lambda: s.BeginSendTo(payload, 0, 16, 0, ep, None, None)))
        out["denied sync"] = outcome(lambda: s.SendTo(payload, ep))
        e2 = SocketAsyncEventArgs()
        e2.SetBuffer(payload, 0, 16)
        e2.RemoteEndPoint = ep
        out["denied event"] = outcome(lambda: s.SendToAsync(e2))
        out["denied await"] = outcome(lambda: s.SendToAsync(payload, 0, ep))

    # IPv6 and dual mode.
    r6, ep6 = receiver(v6=True)
    s6 = udp(v6=True)
    out["v6 begin"] = begin_and_end(s6, payload, 0, 16, 0, ep6)
    out["v6 sync"] = outcome(lambda: s6.SendTo(payload, ep6))
    dual = udp(v6=True)
    dual.DualMode = True
    out["dual begin v4 ep"] = begin_and_end(dual, payload, 0, 16, 0, ep)
    out["dual sync v4 ep"] = outcome(lambda: dual.SendTo(payload, ep))

    # The datagrams that arrived, in order.
    got = []
    r.setblocking(False)
    while True:
        try:
            got.append(len(r.recv(70000)))
        except BlockingIOError:
            break
    out["received sizes"] = got[:40]

    odd_flags(s, ep)
    hooks(s, ep)

    s.Close()
    out["begin disposed"] = outcome(lambda: s.BeginSendTo(payload, 0, 16, 0, ep, None, None))
    out["sync disposed"] = outcome(lambda: s.SendTo(payload, ep))
    out["await disposed"] = outcome(lambda: s.SendToAsync(payload, 0, ep))
    for x in (s6, dual):
        x.Close()
    r.close()
    r6.close()


def odd_flags(s: Socket, ep: IPEndPoint) -> None:
    """Issue 14, defect 11: socket flags as int subclasses whose __bool__/__index__/__int__ raise or
    lie are read by their value on both paths (the compiled path used to send where Python raised)."""
    payload = b"0123456789abcdef"
    kinds = {
        "raising bool 0": RaisingBool(0),
        "raising index 0": RaisingIndex(0),
        "true 0": LiesTrue(0),
        "false Partial": LiesFalse(0x8000),
        "raising bool Partial": RaisingBool(0x8000),
        "raising index DontRoute": RaisingIndex(4),
    }

    async def awaited(flags: Any) -> Any:
        return await s.SendToAsync(payload, flags, ep)

    for name, flags in kinds.items():
        e = SocketAsyncEventArgs()
        e.SetBuffer(payload, 0, 16)
        e.RemoteEndPoint = ep
        e.SocketFlags = flags
        out[f"odd flags begin {name}"] = begin_and_end(s, payload, 0, 16, flags, ep)
        out[f"odd flags sync {name}"] = outcome(lambda f=flags: s.SendTo(payload, 0, 16, f, ep))
        out[f"odd flags event {name}"] = [
            outcome(lambda ev=e: s.SendToAsync(ev)),
            e.SocketError.name,
            e.BytesTransferred,
        ]
        out[f"odd flags await {name}"] = outcome(lambda f=flags: asyncio.run(awaited(f)))


def accept_into(s_listener: Socket, to: IPEndPoint) -> tuple[Socket, socket.socket, Callable[[], None]]:
    """A UDP socket, bound by a first send, that a pending AcceptAsync will turn into the accepted
    connection when the returned function runs (it connects and waits for the accept)."""
    victim = udp()
    e = SocketAsyncEventArgs()
    e.AcceptSocket = victim
    accepted = threading.Event()
    e.Completed += lambda _s, _e: accepted.set()
    assert s_listener.AcceptAsync(e) is True
    victim.SendTo(b"bind", to)
    client = socket.socket()
    client.settimeout(WAIT)

    def accept_now() -> None:
        client.connect(("127.0.0.1", s_listener.LocalEndPoint.Port))
        accepted.wait(WAIT)

    return victim, client, accept_now


def hooks(s: Socket, ep: IPEndPoint) -> None:
    """Audit hooks, last (a hook cannot be removed): every send also raises the socket
    module's "socket.sendto"; a hook may deny it, or change things under the call."""
    events: list[str] = []
    act: dict[str, Any] = {}

    def hook(event: str, args: tuple[Any, ...]) -> None:
        if not (event.startswith("dotnet_sockets.Socket.") or event == "socket.sendto"):
            return
        events.append(event)
        if event == "socket.sendto" and act.get("deny"):
            raise PermissionError("no sendto")
        if event.startswith("dotnet_sockets.Socket.") and "then" in act:
            act.pop("then")()
        if event == "socket.sendto" and "then sendto" in act:
            act.pop("then sendto")()

    sys.addaudithook(hook)
    r2, ep2 = receiver()
    payload = b"0123456789abcdef"
    e = SocketAsyncEventArgs()
    e.SetBuffer(payload, 0, 16)
    e.RemoteEndPoint = ep2

    async def awaited(sock: Socket, data: bytes, to: IPEndPoint) -> Any:
        return await sock.SendToAsync(data, 0, to)

    calls: dict[str, Callable[[], Any]] = {
        "sync": lambda: s.SendTo(payload, ep2),
        "sync five args": lambda: s.SendTo(bytearray(payload), 2, 9, 0, ep2),
        "begin": lambda: begin_and_end(s, payload, 0, 16, 0, ep2),
        "event": lambda: [s.SendToAsync(e), e.SocketError.name, e.BytesTransferred],
        "await": lambda: asyncio.run(awaited(s, payload, ep2)),
    }
    for name, call in calls.items():
        events.clear()
        out[f"hook events {name}"] = [outcome(call), list(events)]
        act["deny"] = True
        out[f"hook denies socket.sendto {name}"] = outcome(call)
        act.clear()

    # The endpoint moves during the audit: the send goes where it was aimed when called.
    moving = IPEndPoint(IPAddress.Loopback, ep2.Port)
    moving._sockaddr(False)

    def move() -> None:
        moving.Port = ep.Port

    act["then"] = move
    out["hook moves the endpoint"] = begin_and_end(s, payload, 0, 16, 0, moving)
    # The args object changes during the audit: its new buffer is what goes out.
    e.SetBuffer(payload, 0, 16)

    def rebuffer() -> None:
        e.SetBuffer(b"xyz" * 3, 0, 9)

    act["then"] = rebuffer
    out["hook changes the args"] = [outcome(lambda: s.SendToAsync(e)), e.SocketError.name, e.BytesTransferred]
    # The endpoint moves during the audit of an awaited send: it goes where it was aimed.
    moving2 = IPEndPoint(IPAddress.Loopback, ep2.Port)
    moving2._sockaddr(False)

    def move2() -> None:
        moving2.Port = ep.Port

    act["then"] = move2
    out["hook moves the awaited endpoint"] = outcome(lambda: asyncio.run(awaited(s, payload, moving2)))
    # The buffer shrinks during the audit: what is there at the send is sent.
    shrinking = bytearray(payload)

    def shrink() -> None:
        del shrinking[4:]

    act["then"] = shrink
    out["hook shrinks the buffer"] = begin_and_end(s, shrinking, 0, 16, 0, ep2)
    # The socket is closed during the audit: nothing goes out on its old descriptor.
    victim = udp()
    victim.SendTo(payload, ep2)
    act["then"] = victim.Close
    out["hook closes the socket"] = outcome(lambda: victim.SendTo(payload, ep2))
    out["hook receiver got"] = received_sizes(r2)

    # Issue 14, defect 5: a pending accept into the sending socket completes during the audit,
    # which gives the socket a new OpQueue (and frees the old one, unless the send holds it).
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(4)
    for kind in ("begin", "sync", "event", "await"):
        victim, client, accept_now = accept_into(lst, ep2)
        if kind == "await":
            aw = victim.SendToAsync(payload, 0, ep2)
            act["then sendto"] = accept_now

            async def await_it(a: Any = aw) -> Any:
                return await a

            res = outcome(lambda: asyncio.run(await_it()))
        else:
            act["then"] = accept_now
            if kind == "begin":
                res = begin_and_end(victim, payload, 0, 16, 0, ep2)
            elif kind == "sync":
                res = outcome(lambda v=victim: v.SendTo(payload, ep2))
            else:
                e3 = SocketAsyncEventArgs()
                e3.SetBuffer(payload, 0, 16)
                e3.RemoteEndPoint = ep2
                fired = threading.Event()
                e3.Completed += lambda _s, _e, f=fired: f.set()
                res = outcome(lambda v=victim, ev=e3: v.SendToAsync(ev))
                if res == ["value", True]:
                    fired.wait(WAIT)
                res = [res, e3.SocketError.name, e3.BytesTransferred]
        # Every send above has finished (or failed) by now.  One that reported its 16 bytes sent
        # gets the generous bound to show them; one that did not only has to show that nothing
        # came, and a short wait is as deterministic for that as a long one.
        if kind == "begin":
            sent = res[2] == ["value", 16]
        elif kind == "event":
            sent = res[1:] == ["Success", 16]
        else:
            sent = res == ["value", 16]
        client.settimeout(WAIT if sent else 0.05)
        try:
            data: Any = len(client.recv(100))
        except OSError as exc:
            data = type(exc).__name__
        act.clear()
        out[f"hook accepts into the socket {kind}"] = [res, data, victim.SocketType.name]
        victim.Close()
        client.close()
    lst.Close()

    # Issue 14, defect 12: a hook resumes the awaitable while its send runs: refused, one datagram.
    box: dict[str, Any] = {}

    def reenter() -> None:
        aw = box.pop("aw")
        for step in (lambda: aw.send(None), lambda: aw.throw(KeyError("x")), aw.close):
            try:
                step()
                box.setdefault("seen", []).append("ran")
            except BaseException as exc:  # noqa: BLE001 - the outcome is the point
                box.setdefault("seen", []).append(f"{type(exc).__name__}: {exc}")

    async def reentered() -> Any:
        aw = s.SendToAsync(payload, 0, ep2)
        box["aw"] = aw
        act["then sendto"] = reenter
        return await aw

    out["hook re-enters the awaitable"] = [outcome(lambda: asyncio.run(reentered())), box.get("seen")]
    act.clear()
    out["hook re-entered receiver got"] = received_sizes(r2)

    # Issue 14, defect 8: the bytearray is exported before the hooks run: resizing it in one fails.
    growing = bytearray(payload)

    def grow() -> None:
        try:
            growing.extend(b"more")
            box["grow"] = "resized"
        except BufferError as exc:
            box["grow"] = f"BufferError: {exc}"

    act["then"] = grow
    out["hook resizes an exported bytearray"] = [begin_and_end(s, growing, 0, 16, 0, ep2), box.get("grow")]
    act["then"] = grow
    box.pop("grow", None)
    out["hook resizes a sync send's bytearray"] = [outcome(lambda: s.SendTo(growing, 1, 8, 0, ep2)), box.get("grow")]
    act.clear()
    out["grown"] = [len(growing), received_sizes(r2)]
    # The five-argument SendTo, in and around its steady shape.
    five = bytearray(payload)
    for name, args in {
        "bytearray slice": (five, 3, 5, SocketFlags.None_, ep2),
        "bytes slice": (payload, 0, 16, 0, ep2),
        "empty": (five, 16, 0, 0, ep2),
        "offset past the end": (five, 17, 0, 0, ep2),
        "size past the end": (five, 8, 9, 0, ep2),
        "negative offset": (five, -1, 2, 0, ep2),
        "bool offset": (five, True, 2, 0, ep2),
        "big int size": (five, 0, 1 << 70, 0, ep2),
        "flags DontRoute": (five, 0, 4, SocketFlags.DontRoute, ep2),
        "memoryview": (memoryview(five), 0, 4, 0, ep2),
        "too big": (bytearray(70000), 0, 70000, 0, ep2),
    }.items():
        out[f"five args {name}"] = telemetry_delta(lambda a=args: outcome(lambda: s.SendTo(*a)))
    out["five args receiver got"] = received_sizes(r2)
    r2.close()


if __name__ == "__main__":
    scenarios()
    json.dump(out, sys.stdout, indent=1, sort_keys=True)
