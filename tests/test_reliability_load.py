"""Load: a soak of many sockets and every model at once, counting every datagram and byte.

UDP senders and receivers and TCP connections are driven by the four models
mixed together: Begin/End callback chains, ``SocketAsyncEventArgs`` chains,
asyncio tasks, and plain threads making synchronous calls.  Over loopback:

* every datagram that arrives is intact, from a sender that sent it, and
  arrives once (UDP may drop under load; drops are counted, not forbidden);
* every byte a TCP sender handed over arrives, in order (checked block by block);
* every operation started completes exactly once (started == completed per chain);
* thread count, open descriptors and resident memory stay flat while it runs,
  and the descriptors are all given back at the end.

``DOTNET_SOCKETS_SOAK_SECONDS`` sets the length (default 4, so the suite
stays short: every check but the memory one is per operation or per descriptor,
and 4 s is thousands of operations; ``DOTNET_SOCKETS_SOAK=1`` makes it 60;
run it longer by hand, e.g. ``DOTNET_SOCKETS_SOAK_SECONDS=600``).
"""

from __future__ import annotations

import asyncio
import gc
import os
import struct
import threading
import time
from collections.abc import Callable
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
    SocketShutdown,
    SocketType,
)
from reliability_support import (
    assert_engine_serves,
    dead_engine_threads,
    fd_count,
    recording_excepthook,
    rss_bytes,
    thread_counts,
)

SOAK = os.environ.get("DOTNET_SOCKETS_SOAK", "") not in ("", "0")
SOAK_SECONDS = float(os.environ.get("DOTNET_SOCKETS_SOAK_SECONDS", "60" if SOAK else "4"))
MODELS = ("apm", "saea", "task", "sync")
ANY4 = IPEndPoint(IPAddress.Any, 0)
UDP_WINDOW = 256  # datagrams a sender may have in flight before it waits for the receivers
REOPEN = 0.5  # seconds after which a full window reopens anyway (so a lost datagram cannot stall it)
BLOCK = 4096  # TCP payload unit: an 12-byte header (pair, index) and a filler byte


class Ops:
    """started/completed counts of one chain; they must match at the end."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.lock = threading.Lock()
        self.started = 0
        self.completed = 0

    def start(self) -> None:
        with self.lock:
            self.started += 1

    def unstart(self) -> None:
        with self.lock:
            self.started -= 1

    def complete(self) -> None:
        with self.lock:
            self.completed += 1


def datagram(sender: int, seq: int, size: int) -> bytes:
    fill = (seq * 31 + sender) & 0xFF
    return struct.pack("<HIH", sender, seq, size) + bytes([fill]) * size


class Soak:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.stop = threading.Event()
        self.failures: list[str] = []
        self.chains: list[Ops] = []
        self.loop = asyncio.new_event_loop()
        self.loop_thread = threading.Thread(target=self.loop.run_forever, name="soak asyncio", daemon=True)
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()
        # UDP bookkeeping
        self.udp_sent: dict[int, int] = {}
        self.udp_sent_bytes = 0
        self.udp_seen: dict[int, bytearray] = {}  # a bitmap of the sequence numbers that arrived
        self.udp_count: dict[int, int] = {}
        self.udp_max: dict[int, int] = {}
        self.udp_received = 0
        self.udp_received_bytes = 0
        self.udp_dupes = 0
        self.room = threading.Condition(self.lock)
        # Callback-model senders waiting for the window: (sender, resume, since).
        self.paused: list[tuple[int, Callable[[], None], float]] = []
        # TCP bookkeeping
        self.tcp_sent: dict[int, int] = {}
        self.tcp_received: dict[int, int] = {}
        self.tcp_done: dict[int, threading.Event] = {}
        self.sockets: list[Socket] = []

    def fail(self, what: str) -> None:
        with self.lock:
            self.failures.append(what)
        self.stop.set()

    def chain(self, name: str) -> Ops:
        ops = Ops(name)
        self.chains.append(ops)
        return ops

    # -- UDP ----------------------------------------------------------------------------------
    def udp_record(self, buf: Any, n: int) -> None:
        if n < 8:
            self.fail(f"short datagram of {n} bytes")
            return
        sender, seq, size = struct.unpack_from("<HIH", buf, 0)
        if n != 8 + size or bytes(buf[8:n]) != bytes([(seq * 31 + sender) & 0xFF]) * size:
            self.fail(f"corrupt datagram {sender}/{seq}")
            return
        with self.room:
            # One bit per datagram: the bookkeeping must not be what makes memory grow.
            seen = self.udp_seen.setdefault(sender, bytearray())
            byte, bit = divmod(seq, 8)
            if byte >= len(seen):
                seen.extend(bytes(byte + 1024 - len(seen)))
            if seen[byte] >> bit & 1:
                self.udp_dupes += 1
            seen[byte] |= 1 << bit
            self.udp_count[sender] = self.udp_count.get(sender, 0) + 1
            self.udp_max[sender] = max(self.udp_max.get(sender, -1), seq)
            if seq >= self.udp_sent.get(sender, 0) + UDP_WINDOW * 4:
                self.failures.append(f"datagram {sender}/{seq} was never sent")
            self.udp_received += 1
            self.udp_received_bytes += n
            self.room.notify_all()

    def has_room(self, sender: int) -> bool:
        return self.udp_sent.get(sender, 0) - self.udp_count.get(sender, 0) < UDP_WINDOW

    def udp_may_send(self, sender: int, wait: bool) -> bool:
        """The window: True when the sender is less than UDP_WINDOW ahead of the receivers."""
        with self.room:
            if self.has_room(sender):
                return True
            if wait:
                # A lost datagram would close the window for good: it reopens after a while.
                self.room.wait_for(lambda: self.has_room(sender), REOPEN)
                return True
            return False

    def udp_sent_one(self, sender: int, n: int) -> None:
        with self.room:
            self.udp_sent[sender] = self.udp_sent.get(sender, 0) + 1
            self.udp_sent_bytes += n

    def udp_receiver(self, model: str, sock: Socket) -> None:
        ops = self.chain(f"udp receive {model}")
        if model == "apm":
            buf = bytearray(2048)

            def on_received(ar: IAsyncResult) -> None:
                ops.complete()
                try:
                    n, _ = sock.EndReceiveFrom(ar)
                except SocketException as exc:
                    if exc.SocketErrorCode != SocketError.OperationAborted:
                        self.fail(f"EndReceiveFrom: {exc.SocketErrorCode!r}")
                    return
                self.udp_record(buf, n)
                begin()

            def begin() -> None:
                ops.start()
                try:
                    sock.BeginReceiveFrom(buf, 0, len(buf), 0, ANY4, on_received, None)
                except ObjectDisposedException:
                    ops.unstart()

            begin()
        elif model == "saea":
            e = SocketAsyncEventArgs()
            e.SetBuffer(bytearray(2048), 0, 2048)
            e.RemoteEndPoint = ANY4

            def handle(ev: SocketAsyncEventArgs) -> bool:
                ops.complete()
                if ev.SocketError != SocketError.Success:
                    if ev.SocketError != SocketError.OperationAborted:
                        self.fail(f"ReceiveFromAsync: {ev.SocketError!r}")
                    return False
                self.udp_record(ev.Buffer, ev.BytesTransferred)
                return True

            def run(ev: SocketAsyncEventArgs) -> None:
                while True:
                    ev.RemoteEndPoint = ANY4
                    ops.start()
                    try:
                        if sock.ReceiveFromAsync(ev):
                            return
                    except ObjectDisposedException:
                        ops.unstart()
                        return
                    if not handle(ev):
                        return

            e.Completed += lambda sender, ev: handle(ev) and run(ev)
            run(e)
        elif model == "task":

            async def receive_loop() -> None:
                # Until the socket is closed, not until stop: what is still queued is read too.
                buf = bytearray(2048)
                while True:
                    ops.start()
                    try:
                        n, _ = await asyncio.wait_for(sock.ReceiveFromAsync(buf, 0, ANY4), 0.2)
                    except TimeoutError:
                        ops.complete()  # cancelled by our own bound: it took no datagram
                        continue
                    except (SocketException, ObjectDisposedException):
                        ops.complete()
                        return
                    ops.complete()
                    self.udp_record(buf, n)

            asyncio.run_coroutine_threadsafe(receive_loop(), self.loop)
        else:

            def receive_thread() -> None:
                buf = bytearray(2048)
                sock.ReceiveTimeout = 100
                while True:
                    ops.start()
                    try:
                        n, _ = sock.ReceiveFrom(buf, ANY4)
                    except SocketException as exc:
                        ops.complete()
                        if exc.SocketErrorCode == SocketError.TimedOut:
                            continue
                        # A synchronous call cut short by Close reports Interrupted, as in .NET.
                        if exc.SocketErrorCode not in (SocketError.OperationAborted, SocketError.Interrupted):
                            self.fail(f"ReceiveFrom: {exc.SocketErrorCode!r}")
                        return
                    except ObjectDisposedException:
                        ops.complete()
                        return
                    ops.complete()
                    self.udp_record(buf, n)

            self.spawn(receive_thread)

    def udp_sender(self, model: str, sender: int, sock: Socket, targets: list[IPEndPoint]) -> threading.Event:
        ops = self.chain(f"udp send {model}")
        finished = threading.Event()
        state = {"seq": 0}

        def next_datagram() -> tuple[bytes, IPEndPoint]:
            seq = state["seq"]
            state["seq"] = seq + 1
            return datagram(sender, seq, 16 + (seq * 37) % 900), targets[seq % len(targets)]

        if model == "apm":

            def on_sent(ar: IAsyncResult) -> None:
                ops.complete()
                try:
                    n = sock.EndSendTo(ar)
                except SocketException as exc:
                    self.fail(f"EndSendTo: {exc.SocketErrorCode!r}")
                    finished.set()
                    return
                self.udp_sent_one(sender, n)
                if self.stop.is_set():
                    finished.set()
                elif self.udp_may_send(sender, wait=False):
                    begin()
                else:
                    with self.room:
                        self.paused.append((sender, begin, time.monotonic()))

            def begin() -> None:
                data, ep = next_datagram()
                ops.start()
                sock.BeginSendTo(data, 0, len(data), 0, ep, on_sent, None)

            begin()
        elif model == "saea":
            e = SocketAsyncEventArgs()

            def handle(ev: SocketAsyncEventArgs) -> bool:
                ops.complete()
                if ev.SocketError != SocketError.Success:
                    self.fail(f"SendToAsync: {ev.SocketError!r}")
                    finished.set()
                    return False
                self.udp_sent_one(sender, ev.BytesTransferred)
                if self.stop.is_set():
                    finished.set()
                    return False
                if not self.udp_may_send(sender, wait=False):
                    with self.room:
                        self.paused.append((sender, lambda: run(ev), time.monotonic()))
                    return False
                return True

            def run(ev: SocketAsyncEventArgs) -> None:
                while True:
                    data, ep = next_datagram()
                    ev.SetBuffer(data, 0, len(data))
                    ev.RemoteEndPoint = ep
                    ops.start()
                    if sock.SendToAsync(ev):
                        return
                    if not handle(ev):
                        return

            e.Completed += lambda s, ev: handle(ev) and run(ev)
            run(e)
        elif model == "task":

            async def send_loop() -> None:
                while not self.stop.is_set():
                    if not self.udp_may_send(sender, wait=False):
                        await asyncio.sleep(0.002)
                        continue
                    data, ep = next_datagram()
                    ops.start()
                    try:
                        n = await sock.SendToAsync(data, 0, ep)
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"SendToAsync: {exc.SocketErrorCode!r}")
                        break
                    ops.complete()
                    self.udp_sent_one(sender, n)
                finished.set()

            asyncio.run_coroutine_threadsafe(send_loop(), self.loop)
        else:

            def send_thread() -> None:
                while not self.stop.is_set():
                    self.udp_may_send(sender, wait=True)
                    data, ep = next_datagram()
                    ops.start()
                    try:
                        n = sock.SendTo(data, ep)
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"SendTo: {exc.SocketErrorCode!r}")
                        break
                    ops.complete()
                    self.udp_sent_one(sender, n)
                finished.set()

            self.spawn(send_thread)
        return finished

    def pacer(self) -> None:
        """Restart paused callback-model senders when their window has room again."""
        while not self.stop.is_set():
            with self.room:
                self.room.wait(0.01)
                now = time.monotonic()
                ready = [p for p in self.paused if self.has_room(p[0]) or now - p[2] > REOPEN]
                self.paused[:] = [p for p in self.paused if p not in ready]
            for _, resume, _ in ready:
                resume()
        # Let the paused chains finish, so that every operation they started completes.
        with self.room:
            ready, self.paused[:] = self.paused[:], []
        for _, resume, _ in ready:
            resume()

    # -- TCP ----------------------------------------------------------------------------------
    def tcp_sender(self, model: str, pair: int, sock: Socket) -> None:
        ops = self.chain(f"tcp send {model}")
        state = {"i": 0}
        self.tcp_sent[pair] = 0

        def block() -> bytes:
            i = state["i"]
            state["i"] = i + 1
            return struct.pack("<IQ", pair, i) + bytes([i % 251]) * (BLOCK - 12)

        def sent(n: int) -> None:
            if n != BLOCK:
                self.fail(f"a stream send returned {n} of {BLOCK}")
            self.tcp_sent[pair] += n

        def finish() -> None:
            sock.Shutdown(SocketShutdown.Send)

        if model == "apm":

            def on_sent(ar: IAsyncResult) -> None:
                ops.complete()
                try:
                    sent(sock.EndSend(ar))
                except SocketException as exc:
                    self.fail(f"EndSend: {exc.SocketErrorCode!r}")
                    return
                if self.stop.is_set():
                    finish()
                else:
                    begin()

            def begin() -> None:
                data = block()
                ops.start()
                sock.BeginSend(data, 0, len(data), 0, on_sent, None)

            begin()
        elif model == "saea":
            e = SocketAsyncEventArgs()

            def handle(ev: SocketAsyncEventArgs) -> bool:
                ops.complete()
                if ev.SocketError != SocketError.Success:
                    self.fail(f"SendAsync: {ev.SocketError!r}")
                    return False
                sent(ev.BytesTransferred)
                if self.stop.is_set():
                    finish()
                    return False
                return True

            def run(ev: SocketAsyncEventArgs) -> None:
                # Bounded by the soak's stop: while sends keep completing at once
                # (SendAsync returns False) this loop is all that runs on its thread.
                while not self.stop.is_set():
                    data = block()
                    ev.SetBuffer(data, 0, len(data))
                    ops.start()
                    if sock.SendAsync(ev):
                        return
                    if not handle(ev):
                        return
                finish()

            e.Completed += lambda s, ev: handle(ev) and run(ev)
            # Its own thread: the first sends may all complete at once, and the main
            # thread must go on to start the other senders and to end the soak.
            def start() -> None:
                run(e)
                self.stop.wait()  # lives as long as the soak: the thread count stays flat

            starter = threading.Thread(target=start, name="saea tcp sender", daemon=True)
            self.threads.append(starter)
            starter.start()
        elif model == "task":

            async def send_loop() -> None:
                while not self.stop.is_set():
                    ops.start()
                    try:
                        n = await sock.SendAsync(block())
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"SendAsync: {exc.SocketErrorCode!r}")
                        return
                    ops.complete()
                    sent(n)
                finish()

            asyncio.run_coroutine_threadsafe(send_loop(), self.loop)
        else:

            def send_thread() -> None:
                while not self.stop.is_set():
                    ops.start()
                    try:
                        n = sock.Send(block())
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"Send: {exc.SocketErrorCode!r}")
                        return
                    ops.complete()
                    sent(n)
                finish()

            self.spawn(send_thread)

    def tcp_receiver(self, model: str, pair: int, sock: Socket) -> None:
        ops = self.chain(f"tcp receive {model}")
        pending = bytearray()
        state = {"next": 0}
        done = self.tcp_done[pair] = threading.Event()
        self.tcp_received[pair] = 0

        def got(data: Any) -> bool:
            """Check whole blocks in order; False at the end of the stream."""
            if not data:
                if pending:
                    self.fail(f"stream {pair} ended inside a block")
                done.set()
                return False
            self.tcp_received[pair] += len(data)
            pending.extend(data)
            while len(pending) >= BLOCK:
                p, i = struct.unpack_from("<IQ", pending, 0)
                want = state["next"]
                if p != pair or i != want or pending[12:BLOCK] != bytes([want % 251]) * (BLOCK - 12):
                    self.fail(f"stream {pair}: block {want} wrong (got {p}/{i})")
                    done.set()
                    return False
                state["next"] = want + 1
                del pending[:BLOCK]
            return True

        size = 8192 + pair * 1000  # unaligned with the blocks on purpose
        if model == "apm":
            buf = bytearray(size)

            def on_received(ar: IAsyncResult) -> None:
                ops.complete()
                try:
                    n = sock.EndReceive(ar)
                except SocketException as exc:
                    self.fail(f"EndReceive: {exc.SocketErrorCode!r}")
                    done.set()
                    return
                if got(buf[:n]):
                    begin()

            def begin() -> None:
                ops.start()
                sock.BeginReceive(buf, 0, len(buf), 0, on_received, None)

            begin()
        elif model == "saea":
            e = SocketAsyncEventArgs()
            e.SetBuffer(bytearray(size), 0, size)

            def handle(ev: SocketAsyncEventArgs) -> bool:
                ops.complete()
                if ev.SocketError != SocketError.Success:
                    self.fail(f"ReceiveAsync: {ev.SocketError!r}")
                    done.set()
                    return False
                return got(ev.Buffer[: ev.BytesTransferred])

            def run(ev: SocketAsyncEventArgs) -> None:
                while True:
                    ops.start()
                    if sock.ReceiveAsync(ev):
                        return
                    if not handle(ev):
                        return

            e.Completed += lambda s, ev: handle(ev) and run(ev)
            run(e)
        elif model == "task":

            async def receive_loop() -> None:
                buf = bytearray(size)
                while True:
                    ops.start()
                    try:
                        n = await sock.ReceiveAsync(buf)
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"ReceiveAsync: {exc.SocketErrorCode!r}")
                        done.set()
                        return
                    ops.complete()
                    if not got(buf[:n]):
                        return

            asyncio.run_coroutine_threadsafe(receive_loop(), self.loop)
        else:

            def receive_thread() -> None:
                buf = bytearray(size)
                while True:
                    ops.start()
                    try:
                        n = sock.Receive(buf)
                    except SocketException as exc:
                        ops.complete()
                        self.fail(f"Receive: {exc.SocketErrorCode!r}")
                        done.set()
                        return
                    ops.complete()
                    if not got(buf[:n]):
                        return

            self.spawn(receive_thread)

    def spawn(self, target: Callable[[], None]) -> None:
        t = threading.Thread(target=target, daemon=True)
        self.threads.append(t)
        t.start()


def sample() -> dict[str, int]:
    gc.collect()
    return {"threads": threading.active_count(), **thread_counts(), "fds": fd_count(), "rss": rss_bytes()}


@pytest.mark.timeout(SOAK_SECONDS * 4 + 120)
def test_soak_every_model_over_udp_and_tcp() -> None:
    before = sample()
    soak = Soak(SOAK_SECONDS)
    soak.loop_thread.start()
    with recording_excepthook() as hook:
        # 8 UDP receivers and 8 UDP senders, two of each model; 8 TCP connections.  Every
        # socket is made before any traffic starts: once it runs, the main thread competes
        # for the GIL with the whole soak.
        receivers: list[Socket] = []
        for _ in range(8):
            r = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            r.Bind(IPEndPoint(IPAddress.Loopback, 0))
            r.ReceiveBufferSize = 1 << 21
            receivers.append(r)
        senders = [Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp) for _ in range(8)]
        listener = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        listener.Bind(IPEndPoint(IPAddress.Loopback, 0))
        listener.Listen(16)
        pairs: list[tuple[Socket, Socket]] = []
        for _ in range(8):
            c = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            c.Connect(listener.LocalEndPoint)
            pairs.append((c, listener.Accept()))
        soak.sockets += [*receivers, *senders, listener, *(s for p in pairs for s in p)]
        targets = [r.LocalEndPoint for r in receivers]

        for k, r in enumerate(receivers):
            soak.udp_receiver(MODELS[k % 4], r)
        for pair, (_, a) in enumerate(pairs):
            soak.tcp_receiver(MODELS[(pair + 2) % 4], pair, a)
        pacer = threading.Thread(target=soak.pacer, daemon=True)
        pacer.start()
        senders_done = [
            soak.udp_sender(MODELS[(k + 1) % 4], k, s, targets)  # type: ignore[arg-type]
            for k, s in enumerate(senders)
        ]
        for pair, (c, _) in enumerate(pairs):
            soak.tcp_sender(MODELS[pair % 4], pair, c)

        samples = []
        t0 = time.monotonic()
        while time.monotonic() - t0 < SOAK_SECONDS and not soak.stop.is_set():
            soak.stop.wait(min(0.5, SOAK_SECONDS / 10))
            samples.append(sample())
        soak.stop.set()

        for pair, ev in soak.tcp_done.items():
            assert ev.wait(WAIT * 2), f"stream {pair} never ended"
        for ev in senders_done:
            assert ev.wait(WAIT), "a UDP sender did not stop"
        pacer.join(WAIT)
        # Datagrams still in the receivers' buffers are not lost: let the receivers drain them.
        last, quiet = -1, time.monotonic()
        while time.monotonic() - quiet < 0.3 and soak.udp_received < sum(soak.udp_sent.values()):
            if soak.udp_received != last:
                last, quiet = soak.udp_received, time.monotonic()
            time.sleep(0.01)
        for s in soak.sockets:
            s.Close()
        for t in soak.threads:
            t.join(WAIT)
            assert not t.is_alive()
        # Every chain: all it started has completed (closes aborted the last receives).
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline and any(c.started != c.completed for c in soak.chains):
            time.sleep(0.01)
        asyncio.run_coroutine_threadsafe(asyncio.sleep(0), soak.loop).result(WAIT)
        soak.loop.call_soon_threadsafe(soak.loop.stop)
        soak.loop_thread.join(WAIT)
        soak.loop.close()

        assert not soak.failures, soak.failures[:10]
        unbalanced = {c.name: (c.started, c.completed) for c in soak.chains if c.started != c.completed}
        assert not unbalanced, unbalanced
        assert not hook.seen, hook.seen[:5]

    # UDP: nothing corrupt or duplicated, nothing received that was not sent.
    sent = sum(soak.udp_sent.values())
    assert soak.udp_dupes == 0
    # Loopback drops only when a receive buffer overflows, and the window keeps each
    # receiver far below its buffer: every datagram sent must arrive.
    assert 0 < soak.udp_received == sent
    for sender, top in soak.udp_max.items():
        assert top < soak.udp_sent[sender]
    # TCP: every byte handed over arrived, in order (block checks ran as it arrived).  How much
    # each connection moved is up to the GIL's scheduling: on a busy machine one may move none.
    for pair in soak.tcp_sent:
        assert soak.tcp_received[pair] == soak.tcp_sent[pair], pair
    assert sum(soak.tcp_sent.values()) > 0

    # Flat: after the first samples (warm-up), no growth.
    steady = samples[len(samples) // 4 :] or samples
    first = steady[0]
    assert max(s["fds"] for s in steady) == first["fds"], [s["fds"] for s in samples]
    # Threads: none come and go but the completion workers, which the dispatcher adds when
    # callbacks look stuck (they do, on a loaded machine) and which stay under its cap.
    assert {s["others"] for s in steady} == {first["others"]}, [s["others"] for s in samples]
    assert max(s["workers"] for s in samples) <= first["max_workers"], [s["workers"] for s in samples]
    assert max(s["rss"] for s in steady) - first["rss"] < 32 << 20, [s["rss"] >> 20 for s in samples]
    assert not dead_engine_threads()
    assert_engine_serves()
    after = sample()
    assert after["fds"] == before["fds"], (before, after)
    report = {
        "seconds": SOAK_SECONDS,
        "udp_sent": sent,
        "udp_sent_bytes": soak.udp_sent_bytes,
        "udp_received": soak.udp_received,
        "udp_received_bytes": soak.udp_received_bytes,
        "udp_dropped": sent - soak.udp_received,
        "tcp_bytes": sum(soak.tcp_sent.values()),
        "operations": sum(c.completed for c in soak.chains),
        "threads": [s["threads"] for s in samples],
        "fds": [s["fds"] for s in samples],
        "rss_mb": [round(s["rss"] / 2**20, 1) for s in samples],
    }
    print("\nsoak:", report)
