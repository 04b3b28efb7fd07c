"""Telemetry: the counters after known traffic hold exact numbers, under any concurrency.

Every test reads the counters as a difference between two snapshots, so the
traffic of other tests in the same process does not matter.
"""

from __future__ import annotations

import socket
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder, UdpPeer
from dotnet_sockets import (
    AddressFamily,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    Socket,
    SocketError,
    SocketException,
    SocketFlags,
    SocketShutdown,
    SocketType,
)
from dotnet_sockets.telemetry import Telemetry, TelemetrySnapshot

MakeSocket = Callable[..., Socket]
LOOPBACK = IPEndPoint(IPAddress.Loopback, 0)


@pytest.fixture
def peer() -> Iterator[UdpPeer]:
    p = UdpPeer(AddressFamily.InterNetwork)
    yield p
    p.close()


@pytest.fixture
def fast_switching() -> Iterator[None]:
    # Thread switches as often as the interpreter allows: a lost update would show.
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)
    yield
    sys.setswitchinterval(old)


def _bound_receiver(make_socket: MakeSocket) -> tuple[Socket, IPEndPoint]:
    r = make_socket()
    r.Bind(LOOPBACK)
    ep = r.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    r.ReceiveTimeout = int(WAIT * 1000)
    return r, ep


def _tcp_pair(make_socket: MakeSocket) -> tuple[Socket, Socket, Socket]:
    listener = make_socket(st=SocketType.Stream)
    listener.Bind(LOOPBACK)
    listener.Listen(4)
    client = make_socket(st=SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    return listener, client, server


# -- datagrams ------------------------------------------------------------------------------------


def test_datagrams_sent_and_received_by_every_call_are_counted_exactly(make_socket: MakeSocket) -> None:
    receiver, target = _bound_receiver(make_socket)
    sender = make_socket()
    before = Telemetry.snapshot()

    rec = CallbackRecorder(sender.EndSendTo)
    for size in (10, 20, 30):
        sender.BeginSendTo(b"b" * size, 0, size, SocketFlags.None_, target, rec, None)
    assert rec.wait(3)
    assert sender.SendTo(b"s" * 5, target) == 5
    assert sender.SendTo(b"t" * 6, 0, 6, SocketFlags.None_, target) == 6
    buf = bytearray(100)
    got = [receiver.ReceiveFrom(buf, IPEndPoint(IPAddress.Any, 0))[0] for _ in range(4)]
    rrec = CallbackRecorder(receiver.EndReceiveFrom)
    receiver.BeginReceiveFrom(buf, 0, len(buf), SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), rrec, None)
    assert rrec.wait()

    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent) == (5, 10 + 20 + 30 + 5 + 6)
    assert (d.datagrams_received, d.bytes_received) == (5, sum(got) + rrec.results[0][0])
    assert d.bytes_received == 71
    assert d.outgoing_connections_established == d.incoming_connections_established == 0


def test_connected_datagram_send_and_receive_are_counted(make_socket: MakeSocket) -> None:
    receiver, target = _bound_receiver(make_socket)
    sender = make_socket()
    sender.Connect(target)
    receiver.Connect(sender.LocalEndPoint)
    before = Telemetry.snapshot()
    assert sender.Send(b"1234567") == 7
    rec = CallbackRecorder(sender.EndSend)
    sender.BeginSend([b"ab", b"cd"], SocketFlags.None_, rec, None)
    assert rec.wait()
    buf = bytearray(64)
    assert receiver.Receive(buf) == 7
    assert receiver.Receive([memoryview(bytearray(3)), memoryview(bytearray(3))]) == 4
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent) == (2, 11)
    assert (d.datagrams_received, d.bytes_received) == (2, 11)


def test_an_empty_datagram_counts_as_a_datagram_of_no_bytes(make_socket: MakeSocket) -> None:
    receiver, target = _bound_receiver(make_socket)
    sender = make_socket()
    before = Telemetry.snapshot()
    assert sender.SendTo(b"", target) == 0
    assert receiver.ReceiveFrom(bytearray(8), IPEndPoint(IPAddress.Any, 0))[0] == 0
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent, d.datagrams_received, d.bytes_received) == (1, 0, 1, 0)


def test_failed_sends_are_not_counted(make_socket: MakeSocket, peer: UdpPeer) -> None:
    sender = make_socket()
    before = Telemetry.snapshot()
    too_big = bytes(70_000)
    ar = sender.BeginSendTo(too_big, 0, len(too_big), SocketFlags.None_, peer.endpoint, None, None)
    with pytest.raises(SocketException) as err:
        sender.EndSendTo(ar)
    assert err.value.SocketErrorCode == SocketError.MessageSize
    broadcast = IPEndPoint(IPAddress.Parse("127.255.255.255"), peer.endpoint.Port)
    ar = sender.BeginSendTo(b"x", 0, 1, SocketFlags.None_, broadcast, None, None)  # EnableBroadcast is off
    with pytest.raises(SocketException) as err:
        sender.EndSendTo(ar)
    assert err.value.SocketErrorCode == SocketError.AccessDenied
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent) == (0, 0)
    # The same socket then counts a send that works: the counter was not stuck.
    sender.SendTo(b"ok", peer.endpoint)
    assert (Telemetry.snapshot() - before).datagrams_sent == 1


# -- connections and streams ------------------------------------------------------------------------


def test_tcp_connections_and_stream_bytes_are_counted(make_socket: MakeSocket) -> None:
    before = Telemetry.snapshot()
    listener, client, server = _tcp_pair(make_socket)
    assert client.Send(b"a" * 1000) == 1000
    rec = CallbackRecorder(client.EndSend)
    client.BeginSend(b"b" * 500, 0, 500, SocketFlags.None_, rec, None)
    assert rec.wait()
    client.Shutdown(SocketShutdown.Send)
    buf = bytearray(4096)
    total = 0
    for _ in range(100):  # bounded: the stream may arrive in pieces
        n = server.Receive(buf)
        if n == 0:
            break
        total += n
    assert total == 1500
    d = Telemetry.snapshot() - before
    assert d.outgoing_connections_started == 1
    assert d.outgoing_connections_established == 1
    assert d.outgoing_connections_failed == 0
    assert d.incoming_connections_established == 1
    assert d.current_outgoing_connect_attempts == 0
    assert (d.bytes_sent, d.bytes_received) == (1500, 1500)
    assert d.datagrams_sent == d.datagrams_received == 0


def test_begin_connect_and_begin_accept_are_counted(make_socket: MakeSocket) -> None:
    listener = make_socket(st=SocketType.Stream)
    listener.Bind(LOOPBACK)
    listener.Listen(4)
    before = Telemetry.snapshot()
    accepted = CallbackRecorder(listener.EndAccept)
    listener.BeginAccept(accepted, None)
    client = make_socket(st=SocketType.Stream)
    connected = CallbackRecorder(client.EndConnect)
    client.BeginConnect(listener.LocalEndPoint, connected, None)
    assert connected.wait() and accepted.wait()
    assert not connected.errors and not accepted.errors
    accepted.results[0].Dispose()
    d = Telemetry.snapshot() - before
    assert (d.outgoing_connections_started, d.outgoing_connections_established) == (1, 1)
    assert d.incoming_connections_established == 1


def test_a_refused_connect_counts_as_failed(make_socket: MakeSocket) -> None:
    with socket.socket() as closed:  # a port that nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    before = Telemetry.snapshot()
    client = make_socket(st=SocketType.Stream)
    with pytest.raises(SocketException) as err:
        client.Connect(IPEndPoint(IPAddress.Loopback, port))
    assert err.value.SocketErrorCode == SocketError.ConnectionRefused
    d = Telemetry.snapshot() - before
    assert (d.outgoing_connections_started, d.outgoing_connections_failed) == (1, 1)
    assert d.outgoing_connections_established == 0
    assert d.current_outgoing_connect_attempts == 0


def test_connects_under_way_are_current_attempts_until_closed(make_socket: MakeSocket) -> None:
    # A listener with a backlog of 0 that never accepts: the kernel completes one
    # handshake and drops the other SYNs, so at least two connects stay under way.
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        target = IPEndPoint(IPAddress.Loopback, listener.getsockname()[1])
        before = Telemetry.snapshot()
        clients = [make_socket(st=SocketType.Stream) for _ in range(3)]
        results = [c.BeginConnect(target, None, None) for c in clients]
        d = Telemetry.snapshot() - before
        assert d.outgoing_connections_started == 3
        assert d.current_outgoing_connect_attempts >= 2
        for c in clients:
            c.Close()
        outcomes = []
        for c, r in zip(clients, results, strict=True):
            assert r.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
            try:
                c.EndConnect(r)
                outcomes.append("established")
            except (SocketException, ObjectDisposedException):
                outcomes.append("failed")
        d = Telemetry.snapshot() - before
    assert d.current_outgoing_connect_attempts == 0
    assert d.outgoing_connections_established == outcomes.count("established") <= 1
    assert d.outgoing_connections_failed == outcomes.count("failed") >= 2


# -- operations pending ---------------------------------------------------------------------------


def test_operations_pending_counts_queued_operations(make_socket: MakeSocket) -> None:
    receiver, target = _bound_receiver(make_socket)
    base = Telemetry.snapshot().operations_pending
    rec = CallbackRecorder()
    buf = bytearray(16)
    for _ in range(3):
        receiver.BeginReceiveFrom(
            buf, 0, len(buf), SocketFlags.None_, IPEndPoint(IPAddress.Any, 0), rec, None
        )
    assert Telemetry.snapshot().operations_pending == base + 3
    sender = make_socket()
    sender.SendTo(b"one", target)
    assert rec.wait(1)
    assert Telemetry.snapshot().operations_pending == base + 2
    receiver.Close()
    assert rec.wait(3)
    assert Telemetry.snapshot().operations_pending == base


# -- exactness under concurrency ------------------------------------------------------------------


def test_counts_are_exact_with_many_threads_sending_at_once(
    make_socket: MakeSocket, peer: UdpPeer, fast_switching: None
) -> None:
    threads_n, per_thread = 8, 400
    senders = [make_socket() for _ in range(threads_n)]
    shared = make_socket()  # one socket used by every thread at once, too
    start = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            start.wait(WAIT)
            own = senders[i]
            for k in range(per_thread):
                size = (i + k) % 7 + 1
                (own if k % 2 else shared).SendTo(b"z" * size, peer.endpoint)
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    before = Telemetry.snapshot()
    threads = [threading.Thread(target=work, args=(i,)) for i in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 6)
    assert not errors and not any(t.is_alive() for t in threads)
    d = Telemetry.snapshot() - before
    assert d.datagrams_sent == threads_n * per_thread
    assert d.bytes_sent == sum((i + k) % 7 + 1 for i in range(threads_n) for k in range(per_thread))


def test_counts_are_exact_across_caller_completion_and_engine_threads(
    make_socket: MakeSocket, peer: UdpPeer, fast_switching: None
) -> None:
    """BeginSendTo chains restarted from callbacks (completion threads) while the caller sends too,
    and stream sends finished by the engine thread once the peer starts reading."""
    chains, per_chain = 16, 100
    sender = make_socket()
    issued = [0] * chains
    all_done = threading.Event()
    finished = [0]
    lock = threading.Lock()

    def callback(ar: Any) -> None:
        sender.EndSendTo(ar)
        i = ar.AsyncState
        if issued[i] < per_chain:
            issued[i] += 1
            sender.BeginSendTo(b"c" * 3, 0, 3, SocketFlags.None_, peer.endpoint, callback, i)
        else:
            with lock:
                finished[0] += 1
                if finished[0] == chains:
                    all_done.set()

    # A TCP pair whose receiver does not read yet: sends queue in the engine.
    listener, client, server = _tcp_pair(make_socket)
    client.SendBufferSize = 4096  # the sends outgrow it and wait in the engine
    block = b"q" * 65536
    stream_rec = CallbackRecorder(client.EndSend)
    before = Telemetry.snapshot()
    for i in range(chains):
        issued[i] = 1
        sender.BeginSendTo(b"c" * 3, 0, 3, SocketFlags.None_, peer.endpoint, callback, i)
    for _ in range(8):
        client.BeginSend(block, 0, len(block), SocketFlags.None_, stream_rec, None)
    for _ in range(200):
        sender.SendTo(b"m", peer.endpoint)
    assert all_done.wait(WAIT * 4)
    buf = bytearray(65536)
    received = 0
    server.ReceiveTimeout = int(WAIT * 1000)
    for _ in range(10_000):  # bounded: 512 KiB in pieces of at most 64 KiB
        if received == 8 * len(block):
            break
        received += server.Receive(buf)
    assert stream_rec.wait(8)
    assert any(not ar.CompletedSynchronously for ar in stream_rec.calls)  # finished by the engine thread
    d = Telemetry.snapshot() - before
    assert d.datagrams_sent == chains * per_chain + 200
    assert d.bytes_sent == chains * per_chain * 3 + 200 + 8 * len(block)
    assert d.bytes_received == received == 8 * len(block)


def test_counts_of_finished_threads_are_kept(make_socket: MakeSocket, peer: UdpPeer) -> None:
    before = Telemetry.snapshot()
    for _ in range(3):
        s = make_socket()
        t = threading.Thread(target=s.SendTo, args=(b"gone", peer.endpoint))
        t.start()
        t.join(WAIT)
    # A new thread folds the finished threads' records away; nothing may be lost.
    t = threading.Thread(target=lambda: make_socket().SendTo(b"12", peer.endpoint))
    t.start()
    t.join(WAIT)
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent) == (4, 14)


# -- the snapshot ---------------------------------------------------------------------------------


def test_snapshot_subtracts_and_names_its_counters_as_dotnet_does() -> None:
    a = TelemetrySnapshot(bytes_sent=10, datagrams_sent=2, operations_pending=1)
    b = TelemetrySnapshot(bytes_sent=3, datagrams_sent=1)
    d = a - b
    assert (d.bytes_sent, d.datagrams_sent, d.operations_pending) == (7, 1, 1)
    names = a.counters()
    for dotnet_name in (
        "bytes-sent",
        "bytes-received",
        "datagrams-sent",
        "datagrams-received",
        "outgoing-connections-established",
        "incoming-connections-established",
        "current-outgoing-connect-attempts",
    ):
        assert dotnet_name in names
    assert names["bytes-sent"] == 10
    assert dict(a) == names
    assert "bytes-sent 10" in str(a)
    with pytest.raises(TypeError):
        _ = a - 1  # type: ignore[operator]


def test_snapshots_taken_while_threads_come_and_go_never_count_twice(
    make_socket: MakeSocket, peer: UdpPeer, fast_switching: None
) -> None:
    """Finished threads' records are folded away while snapshots are summing them."""
    sender = make_socket()
    started = [0]
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []
    rounds = 300

    def one_send() -> None:
        sender.SendTo(b"f", peer.endpoint)

    def churn() -> None:
        try:
            for _ in range(rounds):
                if stop.is_set():
                    return
                with lock:
                    started[0] += 1
                t = threading.Thread(target=one_send)
                t.start()
                t.join(WAIT)
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    before = Telemetry.snapshot()
    churner = threading.Thread(target=churn)
    churner.start()
    seen: list[tuple[int, int]] = []
    try:
        while churner.is_alive():  # bounded: the churner makes `rounds` threads and ends
            d = (Telemetry.snapshot() - before).datagrams_sent
            with lock:
                seen.append((d, started[0]))
    finally:
        churner.join(WAIT * 4)
        stop.set()
    assert not errors and not churner.is_alive()
    assert all(d <= s for d, s in seen), [x for x in seen if x[0] > x[1]][:5]
    assert (Telemetry.snapshot() - before).datagrams_sent == started[0] == rounds


def test_a_snapshot_racing_the_fold_of_a_finished_thread_counts_it_once(
    make_socket: MakeSocket, peer: UdpPeer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deterministic form of the race above: right after a snapshot has taken the records, a new
    thread folds a finished thread's record away; the snapshot must still count that record once."""
    from dotnet_sockets import telemetry

    sender = make_socket()

    def send_once() -> None:
        t = threading.Thread(target=sender.SendTo, args=(b"d", peer.endpoint))
        t.start()
        t.join(WAIT)

    real = telemetry._lock
    main = threading.get_ident()

    class FoldAfterRelease:
        armed = False

        def __enter__(self) -> None:
            real.acquire()

        def __exit__(self, *exc: object) -> None:
            real.release()
            if self.armed and threading.get_ident() == main:
                self.armed = False
                send_once()  # its first count registers it, which folds the finished thread

    before = Telemetry.snapshot()
    send_once()  # a finished thread whose record is not folded yet
    lock = FoldAfterRelease()
    monkeypatch.setattr(telemetry, "_lock", lock)
    lock.armed = True
    during = Telemetry.snapshot() - before
    monkeypatch.setattr(telemetry, "_lock", real)
    assert not lock.armed  # the fold did happen in the window
    assert during.datagrams_sent == 1
    assert (Telemetry.snapshot() - before).datagrams_sent == 2


# -- the other models count the same way ------------------------------------------------------------


def test_event_based_and_asyncio_models_count_like_the_others(make_socket: MakeSocket) -> None:
    import asyncio

    from dotnet_sockets import SocketAsyncEventArgs

    receiver, target = _bound_receiver(make_socket)
    sender = make_socket()
    before = Telemetry.snapshot()

    e = SocketAsyncEventArgs()
    e.SetBuffer(b"event!", 0, 6)
    e.RemoteEndPoint = target
    done = threading.Event()
    e.Completed += lambda _s, _e: done.set()
    if sender.SendToAsync(e):
        assert done.wait(WAIT)
    assert e.SocketError == SocketError.Success and e.BytesTransferred == 6

    async def main() -> tuple[int, int]:
        n = await sender.SendToAsync(b"awaited", SocketFlags.None_, target)
        buf = bytearray(64)
        got = 0
        for _ in range(2):
            res = await asyncio.wait_for(
                receiver.ReceiveFromAsync(buf, SocketFlags.None_, IPEndPoint(IPAddress.Any, 0)), WAIT
            )
            got += res.ReceivedBytes
        return n, got

    sent_n, got = asyncio.run(main())
    assert (sent_n, got) == (7, 13)
    d = Telemetry.snapshot() - before
    assert (d.datagrams_sent, d.bytes_sent) == (2, 13)
    assert (d.datagrams_received, d.bytes_received) == (2, 13)
