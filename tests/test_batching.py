"""Queued datagram operations served by one recvmmsg/sendmmsg (issue 15 item 7).

Every scenario runs twice in one test: batched (the accelerator's primitives in
use) and unbatched (``batch.recv_batch``/``send_batch`` set to None, the pure
path's per-operation calls), and the two runs must give the same results, the
same order and the same telemetry.  On the compiled path the test also checks
that a batch call was made, so it cannot pass without the batch path; on the
pure path (``DOTNET_SOCKETS_PURE=1``) both runs are per-operation.

Receives are made to find several datagrams at once by holding the socket's
queue lock while the peer sends: the engine thread, woken by the first
datagram, waits for the lock and then finds them all.  Sends are queued behind
a parked placeholder operation, because a UDP send on loopback never finds the
send buffer full (the loopback device releases the sender's buffer at once).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Callable
from typing import Any

import pytest

from conftest import FAMILIES, HAS_IPV6, WAIT, loopback
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
    SocketFlags,
    _accel,
)
from dotnet_sockets._engine import batch
from dotnet_sockets._engine.opqueue import Waiter
from dotnet_sockets.asyncresult import AsyncOperation
from dotnet_sockets.telemetry import Telemetry
from socket_helpers import Made, wait_until
from socket_helpers import run_bounded as run


def batch_calls() -> int:
    return int(_accel._speedups.batch_calls()) if _accel.ACCELERATED else 0


def both_ways(monkeypatch: pytest.MonkeyPatch, scenario: Callable[[], Any]) -> tuple[Any, int]:
    """Run ``scenario`` batched, then unbatched; assert equal outcomes; return them and the batch calls made."""
    before = batch_calls()
    batched = scenario()
    calls = batch_calls() - before
    with monkeypatch.context() as m:
        m.setattr(batch, "recv_batch", None)
        m.setattr(batch, "send_batch", None)
        unbatched = scenario()
    assert batch_calls() - before == calls, "the unbatched run made no batch call"
    assert batched == unbatched
    if _accel.ACCELERATED:
        assert batch.enabled()
    else:
        assert not batch.enabled() and calls == 0
    return batched, calls


def plain_peer(af: AddressFamily) -> socket.socket:
    fam = socket.AF_INET if af == AddressFamily.InterNetwork else socket.AF_INET6
    p = socket.socket(fam, socket.SOCK_DGRAM)
    p.bind((str(loopback(af)), 0))
    return p


def port_of(s: Socket) -> int:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return ep.Port


class Completions:
    """Callbacks that record what End... gave for each operation.

    ``order`` lists them by operation (its state), not in the order the callbacks ran: the
    engine completes a socket's operations in start order, but callbacks run on completion
    workers, where .NET promises no order between them either (what a worker's callback posts
    runs next on that worker, ahead of what waits in the shared queue). Start order shows in
    what reached the wire and in which receive got which datagram.
    """

    def __init__(self, end: Callable[[Any], Any]) -> None:
        self.end = end
        self.seen: list[tuple[Any, Any]] = []
        self.calls: dict[Any, int] = {}
        self.lock = threading.Lock()
        self.all_done = threading.Event()
        self.expected = 1 << 30  # set by wait

    def __call__(self, ar: Any) -> None:
        try:
            out: Any = self.end(ar)
        except SocketException as exc:
            out = ("error", exc.SocketErrorCode)
        except Exception as exc:  # noqa: BLE001 - recorded for the test
            out = ("raised", type(exc).__name__)
        with self.lock:
            self.calls[ar.AsyncState] = self.calls.get(ar.AsyncState, 0) + 1
            self.seen.append((ar.AsyncState, out))
            if len(self.seen) >= self.expected:
                self.all_done.set()

    def wait(self, n: int) -> None:
        with self.lock:
            self.expected = n
            if len(self.seen) >= n:
                return
            self.all_done.clear()
        assert self.all_done.wait(WAIT), f"{len(self.seen)} of {n} completed"

    @property
    def order(self) -> list[tuple[Any, Any]]:
        with self.lock:
            return sorted(self.seen, key=lambda x: x[0])


def queued_receive_froms(
    made: Made, af: AddressFamily, sizes: list[int], payloads: list[bytes], flags: int = 0, dual: bool = False
) -> list[Any]:
    """len(sizes) BeginReceiveFrom queued; the payloads sent at once by two alternating peers."""
    if dual:
        r = made(AddressFamily.InterNetworkV6)
        r.DualMode = True
        r.Bind(IPEndPoint(IPAddress.IPv6Any, 0))
    else:
        r = made.udp(af)
    peers = [plain_peer(af), plain_peer(af)]
    bufs = [bytearray(n) for n in sizes]
    eps: list[Any] = []

    def end(ar: Any) -> Any:
        n, ep = r.EndReceiveFrom(ar)
        return (n, bytes(bufs[ar.AsyncState][:n]), str(ep))

    done = Completions(end)
    before = Telemetry.snapshot()
    for i, size in enumerate(sizes):
        v4 = af == AddressFamily.InterNetwork and not dual
        eps.append(IPEndPoint(IPAddress.Any if v4 else IPAddress.IPv6Any, 0))
        ar = r.BeginReceiveFrom(bufs[i], 0, size, SocketFlags(flags), eps[i], done, i)
        assert not ar.CompletedSynchronously
    assert len(r._io.rq) == len(sizes)
    dest = ("127.0.0.1" if dual or af == AddressFamily.InterNetwork else "::1", port_of(r))
    with r._io.lock:  # the engine, woken by the first datagram, then finds them all
        for i, p in enumerate(payloads):
            peers[i % 2].sendto(p, dest)
    done.wait(len(payloads))
    d = Telemetry.snapshot() - before
    # The sender as the index of the peer it names (ports differ from run to run).
    ports = [p.getsockname()[1] for p in peers]
    for p in peers:
        p.close()
    r.Dispose()
    assert all(c == 1 for c in done.calls.values())
    order = []
    for state, out in done.order:
        if isinstance(out, tuple) and len(out) == 3:
            n, data, sender = out
            ep = IPEndPoint.Parse(sender)
            out = (n, data, str(ep.Address), ports.index(ep.Port))
        order.append((state, out))
    return [order, None, d.datagrams_received, d.bytes_received]


@pytest.mark.parametrize("af", FAMILIES)
def test_queued_receive_froms_complete_in_order_with_their_own_datagram(
    made: Made, af: AddressFamily, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 8
    payloads = [b"d%02d" % i * (i + 1) for i in range(n)]
    (order, _, datagrams, nbytes), calls = both_ways(
        monkeypatch, lambda: queued_receive_froms(made, af, [64] * n, payloads)
    )
    assert [state for state, _ in order] == list(range(n))
    for i, (_, out) in enumerate(order):
        assert out == (len(payloads[i]), payloads[i], str(loopback(af)), i % 2)
    assert (datagrams, nbytes) == (n, sum(map(len, payloads)))
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def test_more_receives_than_one_batch_holds(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    n = batch.LIMIT + 6
    payloads = [i.to_bytes(2, "big") for i in range(n)]
    (order, _, datagrams, _), calls = both_ways(
        monkeypatch, lambda: queued_receive_froms(made, AddressFamily.InterNetwork, [8] * n, payloads)
    )
    assert [(s, out[1]) for s, out in order] == list(enumerate(payloads))
    assert datagrams == n
    assert calls >= 2 if _accel.ACCELERATED else calls == 0


@pytest.mark.parametrize("flags", [0, int(SocketFlags.Truncated)], ids=["none", "truncated"])
def test_mixed_sizes_and_a_datagram_longer_than_its_buffer(
    made: Made, flags: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever the single recvfrom_into does with a datagram that does not fit, the batch does too."""
    sizes = [16, 16, 16, 16, 16, 4]
    payloads = [b"a", b"b" * 16, b"c" * 40, b"", b"e" * 5, b"f" * 9]
    (order, _, datagrams, nbytes), calls = both_ways(
        monkeypatch, lambda: queued_receive_froms(made, AddressFamily.InterNetwork, sizes, payloads, flags)
    )
    assert [s for s, _ in order] == list(range(len(sizes)))
    assert order[0][1][:2] == (1, b"a")
    assert order[3][1][:2] == (0, b"")
    assert order[4][1][:2] == (5, b"eeeee")
    assert datagrams == len(payloads)
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


@pytest.mark.skipif(not HAS_IPV6, reason="no IPv6 loopback on this machine")
def test_dual_mode_receives_name_their_ipv4_senders(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    payloads = [b"x" * i for i in range(1, 6)]
    (order, _, _, _), calls = both_ways(
        monkeypatch, lambda: queued_receive_froms(made, AddressFamily.InterNetwork, [8] * 5, payloads, dual=True)
    )
    for i, (_, out) in enumerate(order):
        assert out == (len(payloads[i]), payloads[i], "::ffff:127.0.0.1", i % 2)
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def test_recv_batch_builds_what_recvfrom_into_returns() -> None:
    """The primitive's sockaddr and byte counts against the socket module's, IPv4, IPv6 and dual-mode."""
    if not _accel.ACCELERATED:
        pytest.skip("the primitive is the accelerator's")
    cases = [(socket.AF_INET, "127.0.0.1", socket.AF_INET, "127.0.0.1")]
    if HAS_IPV6:
        cases += [
            (socket.AF_INET6, "::1", socket.AF_INET6, "::1"),
            (socket.AF_INET6, "::", socket.AF_INET, "127.0.0.1"),
        ]
    for fam, bind_host, peer_fam, dest in cases:
        with socket.socket(fam, socket.SOCK_DGRAM) as a, socket.socket(peer_fam, socket.SOCK_DGRAM) as b:
            a.bind((bind_host, 0))
            a.settimeout(WAIT)
            b.bind((dest, 0))
            for size in (3, 0, 12):
                b.sendto(b"z" * size, (dest, a.getsockname()[1]))
            single = [a.recvfrom_into(bytearray(8), 8, socket.MSG_PEEK)]
            a.setblocking(False)
            got, exc = _accel._speedups.recv_batch(a, [memoryview(bytearray(8)) for _ in range(4)], 0)
            assert exc is None
            assert got[0] == single[0]
            assert [n for n, _ in got] == [3, 0, 8]
            assert len({sa for _, sa in got}) == 1
            got, exc = _accel._speedups.recv_batch(a, [memoryview(bytearray(8))], 0)
            assert got == [] and isinstance(exc, BlockingIOError)


def test_receive_from_async_awaitables_and_begin_in_start_order(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    """Begin/End, ReceiveFromAsync(e) and await ReceiveFromAsync queued together keep their start order."""

    def scenario() -> list[Any]:
        r = made.udp()
        peer = plain_peer(AddressFamily.InterNetwork)
        any4 = IPEndPoint(IPAddress.Any, 0)
        got: list[Any] = [None] * 7
        bufs = [bytearray(8) for _ in range(7)]
        events = []
        finished = threading.Semaphore(0)

        def begin(i: int) -> None:
            def cb(ar: Any) -> None:
                got[i] = bytes(bufs[i][: r.EndReceiveFrom(ar)[0]])
                finished.release()

            r.BeginReceiveFrom(bufs[i], 0, 8, SocketFlags.None_, any4, cb, None)

        def event(i: int) -> None:
            e = SocketAsyncEventArgs()
            e.SetBuffer(bufs[i], 0, 8)
            e.RemoteEndPoint = any4

            def completed(_s: Any, e: Any) -> None:
                got[i] = (
                    bytes(e.Buffer[: e.BytesTransferred]) if e.SocketError == SocketError.Success else e.SocketError
                )
                finished.release()

            e.Completed += completed
            events.append(e)
            assert r.ReceiveFromAsync(e)

        async def main() -> None:
            begin(0)
            event(1)
            task = asyncio.ensure_future(r.ReceiveFromAsync(bufs[2], SocketFlags.None_, any4))
            await asyncio.sleep(0)
            assert wait_until(lambda: len(r._io.rq) == 3)
            begin(3)
            event(4)
            begin(5)
            event(6)
            with r._io.lock:
                for i in range(7):
                    peer.sendto(b"m%d" % i, ("127.0.0.1", port_of(r)))
            res = await task
            got[2] = bytes(bufs[2][: res.ReceivedBytes])
            for _ in range(6):
                assert await asyncio.to_thread(finished.acquire, True, WAIT)

        run(main())
        peer.close()
        r.Dispose()
        return got

    got, calls = both_ways(monkeypatch, scenario)
    assert got == [b"m%d" % i for i in range(7)]
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def test_close_while_a_batch_is_queued(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each queued receive completes once: a prefix with the datagrams that came, the rest aborted."""
    for _round in range(2):
        r = made.udp()
        peer = plain_peer(AddressFamily.InterNetwork)
        bufs = [bytearray(8) for _ in range(10)]

        def end(ar: Any, r: Socket = r) -> Any:
            return r.EndReceiveFrom(ar)[0]

        done = Completions(end)
        for i in range(10):
            r.BeginReceiveFrom(bufs[i], 0, 8, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), done, i)
        closer = threading.Thread(target=r.Close)
        with r._io.lock:
            for i in range(4):
                peer.sendto(b"c%d" % i, ("127.0.0.1", port_of(r)))
            closer.start()
        closer.join(WAIT)
        done.wait(10)
        peer.close()
        assert all(c == 1 for c in done.calls.values()) and len(done.calls) == 10
        outs = [out for _, out in sorted(done.order, key=lambda x: x[0])]
        received = [o for o in outs if isinstance(o, int)]
        # The engine may get the lock first (a batch of what arrived by then) or the close.
        assert outs[: len(received)] == [2] * len(received) and len(received) <= 4, outs
        assert set(outs[len(received) :]) <= {("error", SocketError.OperationAborted)}, outs
        monkeypatch.setattr(batch, "recv_batch", None)  # the second round unbatched


class _Hold(Waiter):
    """Parks a placeholder at the head of a write queue: operations started meanwhile queue behind it."""

    def wake(self) -> None:
        pass


class _Placeholder(AsyncOperation):
    def attempt(self) -> bool:
        return True


def queued_send_tos(
    made: Made, af: AddressFamily, payloads: list[bytes], dest: Callable[[int, int], IPEndPoint] | None = None
) -> list[Any]:
    """BeginSendTo of each payload, queued behind a parked placeholder, then let go in one readiness round."""
    s = made(af)
    s.Bind(IPEndPoint(loopback(af), 0))
    rx = plain_peer(af)
    rx.settimeout(WAIT)
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    ep = IPEndPoint(loopback(af), rx.getsockname()[1])
    hold = _Placeholder(s._io, None, None)
    hold._ctx = _Hold()
    s._io.enqueue_write(hold)
    assert s._io.is_parked(hold)
    done = Completions(s.EndSendTo)
    before = Telemetry.snapshot()
    for i, p in enumerate(payloads):
        ar = s.BeginSendTo(p, 0, len(p), SocketFlags.None_, dest(i, ep.Port) if dest else ep, done, i)
        assert not ar.IsCompleted
    assert len(s._io.wq) == len(payloads) + 1
    assert s._io.retry_parked(hold, True)
    done.wait(len(payloads))
    d = Telemetry.snapshot() - before
    arrived = []
    expected = sum(1 for i in range(len(payloads)) if isinstance(done.order[i][1], int))
    for _ in range(expected):
        arrived.append(rx.recv(70000))
    rx.close()
    s.Dispose()
    assert all(c == 1 for c in done.calls.values())
    return [done.order, arrived, d.datagrams_sent, d.bytes_sent]


@pytest.mark.parametrize("af", FAMILIES)
def test_queued_send_tos_leave_together_each_completing_once(
    made: Made, af: AddressFamily, monkeypatch: pytest.MonkeyPatch
) -> None:
    payloads = [b"s%02d" % i * (1 + i % 3) for i in range(20)]
    (order, arrived, datagrams, nbytes), calls = both_ways(monkeypatch, lambda: queued_send_tos(made, af, payloads))
    assert order == [(i, len(p)) for i, p in enumerate(payloads)]
    assert arrived == payloads
    assert (datagrams, nbytes) == (len(payloads), sum(map(len, payloads)))
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def test_a_send_error_in_mid_batch_fails_that_send_alone(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    """An oversized datagram and a broadcast without SO_BROADCAST among good sends: each fails as its own sendto."""
    payloads = [b"a", b"b", b"x" * 65508, b"d", b"e", b"bcast", b"g"]

    def dest(i: int, port: int) -> IPEndPoint:
        return IPEndPoint(IPAddress.Parse("127.255.255.255") if payloads[i] == b"bcast" else IPAddress.Loopback, port)

    (order, arrived, datagrams, nbytes), calls = both_ways(
        monkeypatch, lambda: queued_send_tos(made, AddressFamily.InterNetwork, payloads, dest)
    )
    assert [s for s, _ in order] == list(range(len(payloads)))
    outs = [o for _, o in order]
    assert outs[2] == ("error", SocketError.MessageSize)
    assert outs[5] == ("error", SocketError.AccessDenied)
    good = [p for i, p in enumerate(payloads) if i not in (2, 5)]
    assert [o for i, o in enumerate(outs) if i not in (2, 5)] == [len(p) for p in good]
    assert arrived == good
    assert (datagrams, nbytes) == (len(good), sum(map(len, good)))
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def test_receives_go_one_by_one_at_light_load_and_batch_again_on_a_burst(made: Made) -> None:
    """Many receives pending, one datagram per wake-up: no batch (it would gather every buffer
    for one datagram); a wake-up that finds several datagrams brings batches back."""
    if not _accel.ACCELERATED:
        pytest.skip("batches are the accelerator's")
    r = made.udp()
    peer = plain_peer(AddressFamily.InterNetwork)
    dest = ("127.0.0.1", port_of(r))
    any4 = IPEndPoint(IPAddress.Any, 0)
    done = Completions(lambda ar: r.EndReceiveFrom(ar)[0])
    for i in range(40):
        r.BeginReceiveFrom(bytearray(8), 0, 8, SocketFlags.None_, any4, done, i)

    def burst(count: int, total: int) -> int:
        before = batch_calls()
        with r._io.lock:
            for _ in range(count):
                peer.sendto(b"b", dest)
        done.wait(total)
        return batch_calls() - before

    assert burst(1, 1) == 1, "a fresh socket tries a batch"
    assert r._io.rwant < batch.MIN_RUN
    assert burst(1, 2) == 0, "one datagram per wake-up: one call each"
    assert burst(1, 3) == 0
    assert burst(6, 9) == 0, "drained one by one..."
    assert r._io.rwant >= batch.MIN_RUN
    assert burst(6, 15) >= 1, "...then the next wake-up batches"
    assert [s for s, _ in done.order] == list(range(15))
    assert all(out == 1 for _, out in done.order)
    peer.close()


def test_connected_begin_receive_and_begin_send_batch_too(made: Made, monkeypatch: pytest.MonkeyPatch) -> None:
    """BeginReceive and BeginSend on connected UDP sockets: recv_into's and send's results, in order."""

    def scenario() -> list[Any]:
        a, b = made.udp(), made.udp()
        a.Connect(b.LocalEndPoint)
        b.Connect(a.LocalEndPoint)
        bufs = [bytearray(16) for _ in range(6)]
        received = Completions(lambda ar: bytes(bufs[ar.AsyncState][: b.EndReceive(ar)]))
        for i in range(6):
            b.BeginReceive(bufs[i], 0, 16, SocketFlags.None_, received, i)
        hold = _Placeholder(a._io, None, None)
        hold._ctx = _Hold()
        a._io.enqueue_write(hold)
        sent = Completions(a.EndSend)
        before = Telemetry.snapshot()
        payloads = [b"r%d" % i * (i + 1) for i in range(6)]
        with b._io.lock:  # the receiver's engine round finds them all
            for i, p in enumerate(payloads):
                a.BeginSend(p, 0, len(p), SocketFlags.None_, sent, i)
            assert a._io.retry_parked(hold, True)
            sent.wait(6)
        received.wait(6)
        d = Telemetry.snapshot() - before
        return [sent.order, received.order, d.datagrams_sent, d.datagrams_received, d.bytes_received]

    (sent, received, n_sent, n_received, nbytes), calls = both_ways(monkeypatch, scenario)
    payloads = [b"r%d" % i * (i + 1) for i in range(6)]
    assert sent == [(i, len(p)) for i, p in enumerate(payloads)]
    assert received == list(enumerate(payloads))
    assert (n_sent, n_received, nbytes) == (6, 6, sum(map(len, payloads)))
    assert calls >= 2 if _accel.ACCELERATED else calls == 0


def test_primitives_let_go_of_every_buffer_and_leak_nothing() -> None:
    """After many calls every buffer can be released (no export left) and reference counts are back."""
    if not _accel.ACCELERATED:
        pytest.skip("the primitives are the accelerator's")
    import sys

    sp = _accel._speedups
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as a, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as b:
        a.bind(("127.0.0.1", 0))
        a.setblocking(False)
        a.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        dest = a.getsockname()
        store = [bytearray(16) for _ in range(4)]
        views = [memoryview(x) for x in store]
        payload = memoryview(b"p" * 10)
        refs: list[int] = []
        for i in range(2001):
            if i == 1:  # after one round: the send path keeps the last address it parsed
                refs = [sys.getrefcount(x) for x in (*views, payload, dest)]
            got, exc, allowed = sp.send_batch(b, [(payload, dest), (payload, dest), (payload, dest)], 0)
            assert (got, exc, allowed) == ([10, 10, 10], None, 3)
            got, exc = sp.recv_batch(a, views, 0)
            assert exc is None and [n for n, _ in got] == [10, 10, 10]
            del got, exc
        got, exc = sp.recv_batch(a, views, 0)
        assert got == [] and isinstance(exc, BlockingIOError)
        assert [sys.getrefcount(x) for x in (*views, payload, dest)] == refs
        for v in (*views, payload):
            v.release()  # raises BufferError if a call kept an export
        store[0].extend(b"resizable again")
        # What the primitives do not take goes back to the operation's own call: ([], None).
        assert sp.recv_batch(a, [memoryview(b"read-only")], 0) == ([], None)
        assert sp.send_batch(b, [(memoryview(b"x"), ("localhost", dest[1]))], 0) == ([], None, 0)
        assert sp.send_batch(b, [(memoryview(b"x"), ("::1", dest[1], 0, 0))], 0) == ([], None, 0)


_AUDIT_SCRIPT = """
import socket, sys
from dotnet_sockets import _accel, AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType
from dotnet_sockets._engine import batch
from dotnet_sockets._engine.opqueue import Waiter
from dotnet_sockets.asyncresult import AsyncOperation

if sys.argv[1] == "off":
    batch.recv_batch = batch.send_batch = None
events = []
def hook(name, args):
    if name == "socket.sendto":
        events.append(args[1])
sys.addaudithook(hook)

class Hold(Waiter):
    def wake(self): pass
class Placeholder(AsyncOperation):
    def attempt(self): return True

rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
s.Bind(IPEndPoint(IPAddress.Loopback, 0))
hold = Placeholder(s._io, None, None)
hold._ctx = Hold()
s._io.enqueue_write(hold)
ep = IPEndPoint(IPAddress.Loopback, rx.getsockname()[1])
ars = [s.BeginSendTo(b"a%d" % i, 0, 2, SocketFlags.None_, ep, None, None) for i in range(5)]
before = len(events)
calls = _accel._speedups.batch_calls() if _accel.ACCELERATED else 0
s._io.retry_parked(hold, True)
print([s.EndSendTo(ar) for ar in ars], len(events) - before, events[-1][0],
      (_accel._speedups.batch_calls() if _accel.ACCELERATED else 0) - calls)
s.Close()
rx.close()
"""


def test_batched_sends_raise_one_audit_event_each() -> None:
    """Audit hooks see 'socket.sendto' once per datagram sent, batched or not."""
    outs = {way: " ".join(lines).split() for way, lines in _children_both_ways(_AUDIT_SCRIPT).items()}
    assert outs["on"][:-1] == outs["off"][:-1] == ["[2,", "2,", "2,", "2,", "2]", "5", "127.0.0.1"]
    assert int(outs["off"][-1]) == 0
    assert int(outs["on"][-1]) == (1 if _accel.ACCELERATED else 0)


def test_a_connected_sockets_icmp_error_fails_the_send_that_meets_it(
    made: Made, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A connected UDP socket whose peer's port is closed: each datagram's ICMP port unreachable
    fails the next send with ``ConnectionRefused``.  Queued ``BeginSend``/``BeginSendTo`` served
    by a batch report it to the operation whose datagram met it, exactly as one call each does
    (``sendmmsg`` would drop it after its first message: the error reached no operation)."""

    def scenario() -> list[Any]:
        closed = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        closed.close()
        s = made.udp()
        target = IPEndPoint(IPAddress.Loopback, port)
        s.Connect(target)
        hold = _Placeholder(s._io, None, None)
        hold._ctx = _Hold()
        s._io.enqueue_write(hold)
        ends = {"send": s.EndSend, "to": s.EndSendTo}
        done = Completions(lambda ar: ends[ar.AsyncState[0]](ar))
        before = Telemetry.snapshot()
        for i in range(12):
            if i % 3 == 2:
                s.BeginSendTo(b"t%d" % i, 0, 2, SocketFlags.None_, target, done, ("to", i))
            else:
                s.BeginSend(b"s%d" % i, 0, 2, SocketFlags.None_, done, ("send", i))
        assert s._io.retry_parked(hold, True)
        done.wait(12)
        d = Telemetry.snapshot() - before
        assert all(c == 1 for c in done.calls.values())
        return [sorted(((state[1], out) for state, out in done.order), key=lambda x: x[0]), d.datagrams_sent]

    (order, sent), calls = both_ways(monkeypatch, scenario)
    assert [i for i, _ in order] == list(range(12))
    refused = [i for i, out in order if out == ("error", SocketError.ConnectionRefused)]
    assert refused, order
    assert sent == 12 - len(refused)
    assert all(out == 2 for i, out in order if i not in refused)
    assert calls >= 1 if _accel.ACCELERATED else calls == 0


def _children_both_ways(script: str) -> dict[str, list[str]]:
    """The output lines of ``script`` run in a child process batched ("on") and unbatched ("off")."""
    import subprocess
    import sys

    outs = {}
    for way in ("on", "off"):
        res = subprocess.run(
            [sys.executable, "-c", script, way], capture_output=True, text=True, timeout=60, check=False
        )
        assert res.returncode == 0, res.stderr
        outs[way] = res.stdout.splitlines()
    return outs


_STOPPED_SCRIPT = """
import collections, socket, sys
from dotnet_sockets import _accel, AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType
from dotnet_sockets._engine import batch
from dotnet_sockets._engine.opqueue import Waiter
from dotnet_sockets.asyncresult import AsyncOperation

if sys.argv[1] == "off":
    batch.recv_batch = batch.send_batch = None
asked = collections.Counter()
def hook(name, args):
    if name == "socket.sendto" and isinstance(args[1], tuple):
        asked[args[1][1]] += 1
sys.addaudithook(hook)

class Hold(Waiter):
    def wake(self): pass
class Placeholder(AsyncOperation):
    def attempt(self): return True

peers = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]
for p in peers:
    p.bind(("127.0.0.1", 0))
eps = [IPEndPoint(IPAddress.Loopback, p.getsockname()[1]) for p in peers]
s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
s.Bind(IPEndPoint(IPAddress.Loopback, 0))
for plan in ("ggBggg", "gggggB"):
    hold = Placeholder(s._io, None, None)
    hold._ctx = Hold()
    s._io.enqueue_write(hold)
    sizes = [70000 if c == "B" else 2 for c in plan]
    ars = [s.BeginSendTo(bytearray(n), 0, n, SocketFlags.None_, ep, None, None) for n, ep in zip(sizes, eps)]
    asked.clear()
    s._io.retry_parked(hold, True)
    outs = []
    for ar in ars:
        assert ar.AsyncWaitHandle.WaitOne(5000)
        try:
            outs.append(s.EndSendTo(ar))
        except Exception as exc:
            outs.append(str(exc.SocketErrorCode))
    print(plan, outs, "asked", [asked[ep.Port] for ep in eps])
print("batches", _accel._speedups.batch_calls() if _accel.ACCELERATED else 0)
s.Close()
"""


def test_a_datagram_a_batch_stopped_short_of_is_not_asked_about_again() -> None:
    """An oversized datagram in a run: sendmmsg sends those before it and stops (no error, which
    the next call meets).  The hooks allowed the rest in that call; they are asked once each all
    the same, as one call each asks them, whether a later batch or their own call sends them."""
    outs = _children_both_ways(_STOPPED_SCRIPT)
    assert outs["on"][:-1] == outs["off"][:-1]
    for line in outs["on"][:-1]:
        assert line.endswith("asked [1, 1, 1, 1, 1, 1]"), line
        assert "MessageSize" in line
    batches = int(outs["on"][-1].split()[-1])
    assert batches >= 2 if _accel.ACCELERATED else batches == 0


_REFUSE_SCRIPT = """
import socket, sys
from dotnet_sockets import _accel, AddressFamily, IPAddress, IPEndPoint, ProtocolType, Socket, SocketFlags, SocketType
from dotnet_sockets import SocketException
from dotnet_sockets._engine import batch
from dotnet_sockets._engine.opqueue import Waiter
from dotnet_sockets.asyncresult import AsyncOperation

if sys.argv[1] == "off":
    batch.recv_batch = batch.send_batch = None
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
denied = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
denied.bind(("127.0.0.1", 0))
bad = denied.getsockname()[1]
asked = []
def hook(name, args):
    if name == "socket.sendto" and isinstance(args[1], tuple):
        asked.append(args[1][1] == bad)
        if args[1][1] == bad:
            raise PermissionError("refused")
sys.addaudithook(hook)

class Hold(Waiter):
    def wake(self): pass
class Placeholder(AsyncOperation):
    def attempt(self): return True

s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
s.Bind(IPEndPoint(IPAddress.Loopback, 0))
good = IPEndPoint(IPAddress.Loopback, rx.getsockname()[1])
to_bad = IPEndPoint(IPAddress.Loopback, bad)
for plan in ("bgggg", "ggbgg", "ggggb"):
    hold = Placeholder(s._io, None, None)
    hold._ctx = Hold()
    s._io.enqueue_write(hold)
    ars = [s.BeginSendTo(b"p%d" % i, 0, 2, SocketFlags.None_, to_bad if c == "b" else good, None, None)
           for i, c in enumerate(plan)]
    del asked[:]
    s._io.retry_parked(hold, True)
    outs = []
    for ar in ars:
        try:
            outs.append(s.EndSendTo(ar))
        except Exception as exc:
            outs.append(type(exc).__name__ + ":" + str(getattr(exc, "SocketErrorCode", "")))
    print(plan, outs, "asked", sum(asked), "of", len(asked))
print("batches", _accel._speedups.batch_calls() if _accel.ACCELERATED else 0)
s.Close()
"""


def test_an_audit_hook_refusing_a_batched_send_is_asked_once() -> None:
    """A hook that refuses one datagram of a batch (first, middle, last): asked once for it, as
    one call each asks it; that send alone fails, as unbatched."""
    outs = _children_both_ways(_REFUSE_SCRIPT)
    assert outs["on"][:-1] == outs["off"][:-1]
    assert len(outs["on"]) == 4
    for line in outs["on"][:-1]:
        plan, rest = line.split(" ", 1)
        assert rest.endswith("asked 1 of 5"), line
        results = rest[: rest.index("]") + 1]
        expected = ["'SocketException:SocketError'" if c == "b" else "2" for c in plan]
        assert results == "[" + ", ".join(expected) + "]", line
    assert outs["off"][-1] == "batches 0"
    assert (outs["on"][-1] != "batches 0") == _accel.ACCELERATED
