"""Faults: closes racing pending operations, misbehaving callbacks, resets, overflows, fork, exit.

Every test counts: each operation started completes exactly once, each
callback (or ``Completed`` handler) runs exactly once, and afterwards the
engine still serves a normal receive and send.  Random orders and timings
come from seeded ``random.Random`` instances, so a failure replays.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import struct
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
    SocketType,
)
from dotnet_sockets._engine import ops
from dotnet_sockets._engine.epoll import engine
from reliability_support import (
    CHILD_PRELUDE,
    Counter,
    assert_engine_serves,
    dead_engine_threads,
    recording_excepthook,
    run_child,
    tcp_pair,
    udp,
)

ANY4 = IPEndPoint(IPAddress.Any, 0)


class Boom(Exception):
    """Raised on purpose by a callback."""


def port_of(s: Socket) -> int:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return ep.Port


def fill_send_buffer(s: Socket) -> int:
    """Send until the kernel refuses more (the peer does not read): the next send must wait."""
    s.SendBufferSize = 4096
    s.Blocking = False
    chunk = bytes(65536)
    total = 0
    for _ in range(10_000):
        try:
            total += s.Send(chunk)
        except SocketException as exc:
            assert exc.SocketErrorCode == SocketError.WouldBlock
            break
    else:
        raise AssertionError("the send buffer never filled")
    s.Blocking = True
    return total


def reset(peer: socket.socket) -> None:
    """Close with SO_LINGER 0: the kernel sends a RST instead of a FIN."""
    peer.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    peer.close()


@pytest.fixture
def hook() -> Iterator[Any]:
    with recording_excepthook() as rec:
        yield rec
    assert not dead_engine_threads()


def end_outcome(sock: Socket, ar: IAsyncResult, end: str) -> Any:
    """What End... gives: the result, or the SocketError it raised (nothing else may escape)."""
    try:
        return getattr(sock, end)(ar)
    except SocketException as exc:
        return exc.SocketErrorCode


# -- closing from other threads while operations are pending ------------------------------------


@pytest.mark.parametrize("seed", range(12))
def test_close_from_other_threads_while_operations_are_pending(seed: int, hook: Any) -> None:
    rng = random.Random(seed)
    counter = Counter()
    started: list[tuple[Socket, IAsyncResult, str]] = []
    events: list[SocketAsyncEventArgs] = []
    sockets: list[Socket] = []
    peers: list[socket.socket] = []

    receivers = [udp() for _ in range(rng.randint(2, 5))]
    sockets += receivers
    for r in receivers:
        for _ in range(rng.randint(1, 3)):
            ar = r.BeginReceiveFrom(bytearray(64), 0, 64, 0, ANY4, counter, None)
            started.append((r, ar, "EndReceiveFrom"))
        e = SocketAsyncEventArgs()
        e.SetBuffer(bytearray(64), 0, 64)
        e.RemoteEndPoint = ANY4
        e.Completed += counter.handler
        if r.ReceiveFromAsync(e):
            events.append(e)
    for _ in range(rng.randint(1, 3)):
        c, peer = tcp_pair()
        sockets.append(c)
        peers.append(peer)
        started.append((c, c.BeginReceive(bytearray(256), 0, 256, 0, counter, None), "EndReceive"))
        fill_send_buffer(c)
        ar = c.BeginSend(bytes(65536), 0, 65536, 0, counter, None)
        assert not ar.IsCompleted, "the send buffer is full: this send must wait"
        started.append((c, ar, "EndSend"))
    listener = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
    listener.Listen(4)
    sockets.append(listener)
    for _ in range(rng.randint(1, 2)):
        started.append((listener, listener.BeginAccept(counter, None), "EndAccept"))
    # The task model: receives awaited on an asyncio loop in its own thread.
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever)
    loop_thread.start()
    awaited = [
        asyncio.run_coroutine_threadsafe(r.ReceiveFromAsync(bytearray(64), 0, ANY4), loop)
        for r in rng.sample(receivers, min(2, len(receivers)))
    ]

    # Traffic racing the closes: some receives finish with data, others are aborted.
    stop = threading.Event()
    targets = [port_of(r) for r in receivers]

    def traffic() -> None:
        tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        r2 = random.Random(seed + 1000)
        for i in range(2000):
            if stop.is_set():
                break
            try:
                tx.sendto(b"datagram-%05d" % i, ("127.0.0.1", r2.choice(targets)))
            except OSError:
                pass  # ICMP from a receiver already closed
            if i % 50 == 0:
                time.sleep(0.0005)
        tx.close()

    # Begins racing the closes: each either raises ObjectDisposedException or starts.
    late: list[tuple[Socket, IAsyncResult, str]] = []

    def late_begins() -> None:
        r3 = random.Random(seed + 2000)
        for _ in range(200):
            if stop.is_set():
                break
            r = r3.choice(receivers)
            try:
                late.append((r, r.BeginReceiveFrom(bytearray(64), 0, 64, 0, ANY4, counter, None), "EndReceiveFrom"))
            except ObjectDisposedException:
                pass

    order = sockets[:]
    rng.shuffle(order)
    shares = [order[i::3] for i in range(3)]

    def closer(mine: list[Socket], r: random.Random) -> None:
        for s in mine:
            time.sleep(r.uniform(0, 0.003))
            s.Close()

    threads = [threading.Thread(target=traffic), threading.Thread(target=late_begins)]
    threads += [threading.Thread(target=closer, args=(sh, random.Random(seed * 10 + i))) for i, sh in enumerate(shares)]
    for t in threads:
        t.start()
    for t in threads[2:]:
        t.join(WAIT)
    stop.set()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()

    everything = [ar for _, ar, _ in started + late] + events
    assert counter.wait_total(len(everything)), f"{counter.total} of {len(everything)} callbacks ran"
    for s, ar, end in started + late:
        assert ar.IsCompleted
        out = end_outcome(s, ar, end)
        if isinstance(out, SocketError):
            assert out == SocketError.OperationAborted, (end, out)
        elif end == "EndReceiveFrom":
            n, ep = out
            assert n == 14 and ep.Address == IPAddress.Loopback
        elif end == "EndAccept":
            raise AssertionError("nobody connected, yet an accept succeeded")
    for e in events:
        assert e.SocketError in (SocketError.Success, SocketError.OperationAborted), e.SocketError
    for fut in awaited:
        try:
            n, _ = fut.result(WAIT)
            assert n == 14
        except SocketException as exc:
            assert exc.SocketErrorCode == SocketError.OperationAborted
    loop.call_soon_threadsafe(loop.stop)
    loop_thread.join(WAIT)
    loop.close()
    assert_engine_serves()
    counter.once_each(everything)
    for p in peers:
        p.close()
    assert not hook.seen


# -- callbacks that misbehave ---------------------------------------------------------------------


def test_callbacks_that_raise_are_reported_and_stop_nothing(hook: Any) -> None:
    rx = udp()
    tx = udp(False)

    def maybe_raise(ar: IAsyncResult) -> None:
        if ar.AsyncState % 3 == 0:
            raise Boom(f"callback {ar.AsyncState}")

    counter = Counter(maybe_raise)
    n = 60
    ars = [tx.BeginSendTo(b"x", 0, 1, 0, rx.LocalEndPoint, counter, i) for i in range(n)]
    # Completed handlers that raise, in the event-based model, too.
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = ANY4

    handled = Counter()

    def bad_handler(sender: Any, ev: Any) -> None:
        handled(ev)
        raise Boom("handler")

    e.Completed += bad_handler
    rx2 = udp()
    assert rx2.ReceiveFromAsync(e)
    tx.SendTo(b"y", rx2.LocalEndPoint)
    assert counter.wait_total(n) and handled.wait_total(1)
    counter.once_each(ars)
    handled.once_each([e])
    assert all(tx.EndSendTo(ar) == 1 for ar in ars)
    assert_engine_serves()
    raised = sorted(str(x) for x, _ in hook.seen)
    assert raised == sorted([f"callback {i}" for i in range(0, n, 3)] + ["handler"])
    assert all(name.startswith("dotnet-sockets completion") for _, name in hook.seen)
    for s in (rx, tx, rx2):
        s.Dispose()


@pytest.mark.parametrize("blocked", [1, 2, 3])
def test_blocked_callbacks_do_not_stop_other_sockets(blocked: int, hook: Any) -> None:
    """``blocked`` callbacks hold their workers; the dispatcher wakes another for the rest."""
    release = threading.Event()
    inside = threading.Semaphore(0)

    def block(ar: IAsyncResult) -> None:
        inside.release()
        release.wait(10 * WAIT)

    holders = [udp(False) for _ in range(blocked)]
    sink = udp()
    others = [udp(False) for _ in range(20)]
    counter = Counter()
    try:
        for h in holders:
            h.BeginSendTo(b"b", 0, 1, 0, sink.LocalEndPoint, block, None)
            assert inside.acquire(timeout=WAIT), "a blocking callback never started"
        t0 = time.monotonic()
        ars = [s.BeginSendTo(b"o", 0, 1, 0, sink.LocalEndPoint, counter, None) for s in others]
        assert counter.wait_total(len(ars)), "completions waited behind blocked callbacks"
        # Stuck for >20 ms is what wakes the next worker: well under a second in total.
        assert time.monotonic() - t0 < 2.0
        assert not release.is_set()
        counter.once_each(ars)
    finally:
        release.set()
    assert_engine_serves()
    for s in (*holders, sink, *others):
        s.Dispose()
    assert not hook.seen


def test_callbacks_that_start_new_operations(hook: Any) -> None:
    """The Begin-in-callback chain over a stream: every byte arrives, in order, once."""
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(1)
    client = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    client.Connect(lst.LocalEndPoint)
    server = lst.Accept()
    chunks = 400
    payload = [bytes([i % 251]) * 1000 for i in range(chunks)]
    expected = b"".join(payload)
    received = bytearray()
    done = threading.Event()
    sends = Counter()
    recvs = Counter()
    buf = bytearray(8192)
    failures: list[BaseException] = []

    def on_sent(ar: IAsyncResult) -> None:
        sends(ar)
        try:
            assert client.EndSend(ar) == 1000
            i = ar.AsyncState + 1
            if i < chunks:
                client.BeginSend(payload[i], 0, 1000, 0, on_sent, i)
        except BaseException as exc:  # noqa: BLE001 - recorded for the test
            failures.append(exc)

    def on_received(ar: IAsyncResult) -> None:
        recvs(ar)
        try:
            n = server.EndReceive(ar)
            received.extend(buf[:n])
            if n == 0 or len(received) >= len(expected):
                done.set()
                return
            server.BeginReceive(buf, 0, len(buf), 0, on_received, None)
        except BaseException as exc:  # noqa: BLE001
            failures.append(exc)
            done.set()

    server.BeginReceive(buf, 0, len(buf), 0, on_received, None)
    client.BeginSend(payload[0], 0, 1000, 0, on_sent, 0)
    assert done.wait(WAIT * 2)
    assert not failures, failures
    assert bytes(received) == expected
    assert sends.wait_total(chunks)
    assert all(v == 1 for v in sends.runs.values()) and sends.total == chunks
    assert all(v == 1 for v in recvs.runs.values())
    for s in (lst, client, server):
        s.Dispose()
    assert not hook.seen


def test_inline_completion_chains_do_not_recurse(hook: Any) -> None:
    """With inline completions, a callback that starts the next send that finishes at once
    runs after the current one returns, not inside it: the stack stays flat."""
    rx = udp()
    rx.ReceiveBufferSize = 1 << 20
    tx = udp(False)
    tx.InlineCompletions = True
    n = 5000
    depths: list[int] = []
    finished = threading.Event()

    def depth() -> int:
        f, k = sys._getframe(), 0
        while f is not None:
            f, k = f.f_back, k + 1  # type: ignore[assignment]
        return k

    def chain(ar: IAsyncResult) -> None:
        tx.EndSendTo(ar)
        i = ar.AsyncState
        if i % 500 == 0:
            depths.append(depth())
        if i + 1 < n:
            tx.BeginSendTo(b"c", 0, 1, 0, rx.LocalEndPoint, chain, i + 1)
        else:
            finished.set()

    tx.BeginSendTo(b"c", 0, 1, 0, rx.LocalEndPoint, chain, 0)
    assert finished.wait(WAIT * 2)
    assert len(depths) == n // 500
    assert max(depths) - min(depths) <= 2, depths
    rx.Dispose()
    tx.Dispose()
    assert not hook.seen


def test_dispose_inside_a_callback(hook: Any) -> None:
    rx = udp()
    tx = udp(False)
    counter = Counter()
    seen: list[Any] = []

    def first(ar: IAsyncResult) -> None:
        counter(ar)
        rx.Dispose()  # the two other receives are aborted by this
        # End after Dispose of an operation that had completed returns its result.
        seen.append(rx.EndReceiveFrom(ar))
        try:
            rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, counter, None)
        except ObjectDisposedException as exc:
            seen.append(exc)

    a = rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, first, None)
    b = rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, counter, None)
    c = rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, counter, None)
    tx.SendTo(b"one", rx.LocalEndPoint)
    assert counter.wait_total(3)
    counter.once_each([a, b, c])
    assert seen[0][0] == 3 and isinstance(seen[1], ObjectDisposedException)
    for ar in (b, c):
        assert end_outcome(rx, ar, "EndReceiveFrom") == SocketError.OperationAborted

    # The same from a Completed handler of the event-based model.
    rx2 = udp()
    e1, e2 = SocketAsyncEventArgs(), SocketAsyncEventArgs()
    fired = Counter()
    for e in (e1, e2):
        e.SetBuffer(bytearray(8), 0, 8)
        e.RemoteEndPoint = ANY4
        e.Completed += fired.handler
    e1.Completed += lambda sender, e: rx2.Dispose()
    assert rx2.ReceiveFromAsync(e1) and rx2.ReceiveFromAsync(e2)
    tx.SendTo(b"two", rx2.LocalEndPoint)
    assert fired.wait_total(2)
    fired.once_each([e1, e2])
    assert e1.SocketError == SocketError.Success and e1.BytesTransferred == 3
    assert e2.SocketError == SocketError.OperationAborted
    assert_engine_serves()
    tx.Dispose()
    assert not hook.seen


def test_an_operation_that_breaks_on_the_engine_thread_fails_alone(hook: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug inside one operation (here: an attempt() that raises) must not kill the epoll
    thread, lose the operations that finished in the same round, or stop other sockets."""
    original = ops.ReceiveFromOp.attempt

    def attempt(self: Any) -> bool:
        if len(self.buf) == 13:
            raise RuntimeError("broken operation")
        return original(self)

    received = ops.ReceiveFromOp.received

    def received_in_a_batch(self: Any, value: Any) -> None:
        if len(self.buf) == 13:
            raise RuntimeError("broken operation")
        received(self, value)

    monkeypatch.setattr(ops.ReceiveFromOp, "attempt", attempt)
    # Three receives queued: the compiled path serves them in one batch (engine.batch), where
    # each completes through received() instead of attempt(); the same bug breaks it there.
    monkeypatch.setattr(ops.ReceiveFromOp, "received", received_in_a_batch)
    rx = udp()
    tx = udp(False)
    counter = Counter()
    good = rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, counter, None)
    bad = rx.BeginReceiveFrom(bytearray(13), 0, 13, 0, ANY4, counter, None)  # queued behind `good`
    after_buf = bytearray(8)
    after = rx.BeginReceiveFrom(after_buf, 0, 8, 0, ANY4, counter, None)
    tx.SendTo(b"first", rx.LocalEndPoint)
    tx.SendTo(b"second", rx.LocalEndPoint)
    tx.SendTo(b"third", rx.LocalEndPoint)
    assert counter.wait_total(3)
    counter.once_each([good, bad, after])
    assert rx.EndReceiveFrom(good)[0] == 5
    assert end_outcome(rx, bad, "EndReceiveFrom") == SocketError.SocketError
    n = rx.EndReceiveFrom(after)[0]
    # One call each: the broken attempt took nothing, `after` gets the second datagram and the
    # third is still there.  One batch: the kernel gave `bad` the second before its completion
    # broke (lost with it, as a single call's would be), `after` gets the third.
    assert bytes(after_buf[:n]) in (b"second", b"third")
    if bytes(after_buf[:n]) == b"second":
        rest = bytearray(8)
        assert rx.ReceiveFrom(rest, ANY4)[0] == 5 and rest[:5] == b"third"
    assert [type(x) for x, _ in hook.seen] == [RuntimeError]
    assert engine._thread is not None and engine._thread.is_alive()
    monkeypatch.undo()
    assert_engine_serves()
    rx.Dispose()
    tx.Dispose()


# -- peers and buffers ----------------------------------------------------------------------------


def test_peer_resets_mid_stream_while_data_is_queued(hook: Any) -> None:
    c, peer = tcp_pair()
    sent = bytes(range(256)) * 400
    peer.sendall(sent)
    reset(peer)
    got = bytearray()
    buf = bytearray(7000)
    error: SocketError | None = None
    for _ in range(1000):
        ev = threading.Event()
        ar = c.BeginReceive(buf, 0, len(buf), 0, lambda ar, ev=ev: ev.set(), None)
        assert ev.wait(WAIT)
        out = end_outcome(c, ar, "EndReceive")
        if isinstance(out, SocketError):
            error = out
            break
        if out == 0:
            break
        got += buf[:out]
    assert error == SocketError.ConnectionReset
    # What did arrive is the start of what was sent, in order.
    assert sent.startswith(bytes(got))
    assert not c.Connected
    c.Dispose()
    assert_engine_serves()
    assert not hook.seen


def test_peer_resets_while_a_receive_is_pending(hook: Any) -> None:
    c, peer = tcp_pair()
    counter = Counter()
    ar = c.BeginReceive(bytearray(100), 0, 100, 0, counter, None)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(100), 0, 100)
    e.Completed += counter.handler
    assert c.ReceiveAsync(e)  # queued behind the first receive
    reset(peer)
    assert counter.wait_total(2)
    counter.once_each([ar, e])
    assert end_outcome(c, ar, "EndReceive") == SocketError.ConnectionReset
    # The kernel reports the reset once; after it the stream reads as ended.
    assert e.SocketError in (SocketError.Success, SocketError.ConnectionReset)
    c.Dispose()
    assert not hook.seen


def test_peer_resets_while_a_send_is_pending(hook: Any) -> None:
    c, peer = tcp_pair()
    fill_send_buffer(c)
    counter = Counter()
    ar = c.BeginSend(bytes(65536), 0, 65536, 0, counter, None)
    assert not ar.IsCompleted
    reset(peer)
    assert counter.wait_total(1)
    assert end_outcome(c, ar, "EndSend") in (SocketError.ConnectionReset, SocketError.Shutdown)
    assert not c.Connected
    # Later sends fail at once (broken pipe), they do not hang.
    assert end_outcome(c, c.BeginSend(b"x", 0, 1, 0, None, None), "EndSend") in (
        SocketError.ConnectionReset,
        SocketError.Shutdown,
    )
    c.Dispose()
    assert_engine_serves()
    assert not hook.seen


def test_udp_receiver_overflow_drops_datagrams_and_nothing_hangs(hook: Any) -> None:
    rx = udp()
    rx.ReceiveBufferSize = 4096  # room for a few datagrams only
    tx = udp(False)
    counter = Counter()
    n = 2000
    ars = [tx.BeginSendTo(b"%06d" % i + bytes(500), 0, 506, 0, rx.LocalEndPoint, counter, i) for i in range(n)]
    assert counter.wait_total(n)
    counter.once_each(ars)
    # Loopback drops at the receiver, so every send itself succeeded.
    assert all(tx.EndSendTo(ar) == 506 for ar in ars)
    got: list[int] = []
    buf = bytearray(1024)
    rx.ReceiveTimeout = 100
    for _ in range(n + 1):
        try:
            k, _ = rx.ReceiveFrom(buf, ANY4)
        except SocketException as exc:
            assert exc.SocketErrorCode == SocketError.TimedOut
            break
        assert k == 506 and buf[6:506] == bytes(500)
        got.append(int(buf[:6]))
    assert 0 < len(got) < n, "the receive buffer should have overflowed"
    assert got == sorted(set(got)), "datagrams duplicated or reordered"
    # The socket still works after the overflow, and a pending receive is aborted by Close.
    last = Counter()
    ar = rx.BeginReceiveFrom(buf, 0, len(buf), 0, ANY4, last, None)
    tx.SendTo(b"after", rx.LocalEndPoint)
    assert last.wait_total(1)
    assert rx.EndReceiveFrom(ar)[0] == 5
    ar = rx.BeginReceiveFrom(buf, 0, len(buf), 0, ANY4, last, None)
    rx.Close()
    assert last.wait_total(2)
    assert end_outcome(rx, ar, "EndReceiveFrom") == SocketError.OperationAborted
    tx.Dispose()
    assert not hook.seen


# -- calls that fail must not take data with them -----------------------------------------------


@pytest.mark.parametrize("call", ["Receive", "ReceiveFrom", "Send"])
def test_a_call_refused_for_its_flags_moves_no_data(call: str, hook: Any) -> None:
    """Flags Linux does not have make the call fail (OperationNotSupported) before any I/O:
    it must neither take a waiting datagram off the socket nor send anything."""
    rx = udp()
    rx.ReceiveTimeout = int(WAIT * 1000)
    tx = udp()
    tx.SendTo(b"precious", rx.LocalEndPoint)
    buf = bytearray(32)
    with pytest.raises(SocketException) as ei:
        if call == "Receive":
            rx.Receive(buf, SocketFlags.Broadcast)
        elif call == "ReceiveFrom":
            rx.ReceiveFrom(buf, SocketFlags.Broadcast, ANY4)
        else:
            tx.Connect(rx.LocalEndPoint)
            tx.Send(b"must not be sent", SocketFlags.Broadcast)
    assert ei.value.SocketErrorCode == SocketError.OperationNotSupported
    n, _ = rx.ReceiveFrom(buf, ANY4)
    assert bytes(buf[:n]) == b"precious"
    rx.ReceiveTimeout = 100
    with pytest.raises(SocketException) as ei:
        rx.ReceiveFrom(buf, ANY4)
    assert ei.value.SocketErrorCode == SocketError.TimedOut, "something was sent after all"
    rx.Dispose()
    tx.Dispose()
    assert not hook.seen


def test_ctrl_c_in_a_blocking_receive_loses_no_later_datagram() -> None:
    """KeyboardInterrupt while Receive waits withdraws the waiting operation: the next
    datagram goes to the next Receive, not to the call that was interrupted."""
    code = COMMON + textwrap.dedent("""
    import signal
    # A shell's background job starts with SIGINT ignored, and so would this child: be the foreground program.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    rx, tx = udp(), udp(False)
    buf = bytearray(32)
    for k in range(3):
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            rx.Receive(buf)
            raise SystemExit("Receive returned without data")
        except KeyboardInterrupt:
            pass
        tx.SendTo(b"after ctrl-c %d" % k, rx.LocalEndPoint)
        rx.ReceiveTimeout = 5000
        n = rx.Receive(buf)
        assert bytes(buf[:n]) == b"after ctrl-c %d" % k, bytes(buf[:n])
        rx.ReceiveTimeout = 0
    print("ok")
    """)
    proc, _ = run_child(code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok"


# -- fork and interpreter exit, in child interpreters ----------------------------------------------


COMMON = CHILD_PRELUDE + """
def round_trip(tag):
    rx, tx = udp(), udp(False)
    got, sent = threading.Event(), threading.Event()
    buf = bytearray(64)
    a = rx.BeginReceiveFrom(buf, 0, 64, 0, ANY4, lambda ar: got.set(), None)
    assert not a.IsCompleted
    b = tx.BeginSendTo(tag, 0, len(tag), 0, rx.LocalEndPoint, lambda ar: sent.set(), None)
    assert sent.wait(5) and got.wait(5), tag
    assert tx.EndSendTo(b) == len(tag)
    n, _ = rx.EndReceiveFrom(a)
    assert bytes(buf[:n]) == tag
    rx.Dispose(); tx.Dispose()
"""


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_with_the_engine_running() -> None:
    code = COMMON + textwrap.dedent("""
    calls = []
    held = udp()
    buf = bytearray(64)
    pending = held.BeginReceiveFrom(buf, 0, 64, 0, ANY4, lambda ar: calls.append(os.getpid()), None)
    round_trip(b"before fork")  # the epoll thread and a completion worker are running now

    # Traffic on another thread while forking, so the fork lands mid-work.
    stop = threading.Event()
    def traffic():
        s, sink = udp(False), udp()
        while not stop.is_set():
            s.EndSendTo(s.BeginSendTo(b"t", 0, 1, 0, sink.LocalEndPoint, None, None))
        s.Dispose(); sink.Dispose()
    t = threading.Thread(target=traffic); t.start()
    time.sleep(0.05)
    pids = []
    for k in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                round_trip(b"child %d" % k)
                # The inherited pending receive: closing the child's copy aborts it there, once.
                held.Dispose()
                deadline = time.monotonic() + 5
                while not calls and time.monotonic() < deadline:
                    time.sleep(0.001)
                assert calls == [os.getpid()], calls
                round_trip(b"child again %d" % k)
                os._exit(0)
            except BaseException:
                import traceback; traceback.print_exc()
                os._exit(1)
        pids.append(pid)
    round_trip(b"parent while children run")
    for pid in pids:
        deadline = time.monotonic() + 15
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            assert time.monotonic() < deadline, "a child hung"
            time.sleep(0.01)
        assert os.waitstatus_to_exitcode(status) == 0, status
    stop.set(); t.join(5)
    # The parent's pending receive was not disturbed by the children closing their copies.
    assert not pending.IsCompleted and not calls
    tx = udp(False)
    tx.SendTo(b"to the parent", held.LocalEndPoint)
    assert pending.AsyncWaitHandle.WaitOne(5000)
    n, _ = held.EndReceiveFrom(pending)
    assert bytes(buf[:n]) == b"to the parent"
    round_trip(b"parent after")
    print("ok")
    """)
    proc, _ = run_child(code, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "ok"


EXIT_SCRIPT = """
    rx = udp()
    rx.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, lambda ar: None, None)
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(1)
    lst.BeginAccept(lambda ar: None, None)
    e = SocketAsyncEventArgs()
    e.SetBuffer(bytearray(8), 0, 8)
    e.RemoteEndPoint = ANY4
    assert udp().ReceiveFromAsync(e)
    # A completion worker stuck in a callback that never returns.
    stuck = threading.Event()
    tx = udp(False)
    tx.BeginSendTo(b"x", 0, 1, 0, rx.LocalEndPoint, lambda ar: stuck.wait(), None)
    round_trip(b"engine busy")
"""


@pytest.mark.parametrize("ending", ["falls off the end", "sys.exit(0)", "closes first"])
def test_interpreter_exits_promptly_with_operations_pending(ending: str) -> None:
    # Registered before dotnet_sockets is imported, so it runs after the library's own
    # exit handler (atexit runs handlers last-registered first).
    prelude = "import atexit\ndone = []\natexit.register(lambda: print('callbacks', len(done)))\n"
    tail = {
        "falls off the end": "print('bye')",
        "sys.exit(0)": "print('bye'); sys.exit(0)",
        # Aborted just before exit: their callbacks still run.
        "closes first": """
r = udp()
for _ in range(50):
    r.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, lambda ar: done.append(1), None)
r.Close()
print('bye')
""",
    }[ending]
    code = prelude + COMMON + textwrap.dedent(EXIT_SCRIPT) + tail
    proc, took = run_child(code)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "bye" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
    assert took < 5.0, f"exit took {took:.1f}s"
    expected = 50 if ending == "closes first" else 0
    assert f"callbacks {expected}\n" in proc.stdout, proc.stdout
