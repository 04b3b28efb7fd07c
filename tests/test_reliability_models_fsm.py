"""One socket's life as a hypothesis state machine, mixing all four models on TCP and UDP.

Each example opens a loopback pair (a library socket and a plain ``socket.socket`` peer),
then starts sends and receives through the synchronous calls, ``Begin``/``End``,
``SocketAsyncEventArgs`` and ``await`` in a random order, lets the peer send, on TCP stops
the peer reading and fills the connection so that sends wait for room (and lets it read
again), closes the socket at some point and keeps starting operations after that.  What is
checked:

* start order: the peer gets the sends in the order they were started, and the k-th receive
  started gets the peer's k-th message, whatever models the two came through;
* exactly once: each operation completes once (its callback, its ``Completed`` handler
  when the call returned True, its await, or its synchronous return), never twice;
* .NET's errors: after ``Close`` every start raises ``ObjectDisposedException``, and the
  operations still pending complete with ``OperationAborted``.

Runs 100 examples per suite run (about 8 s); ``DOTNET_SOCKETS_SOAK=1`` runs 1,000 longer ones.
"""

from __future__ import annotations

import asyncio
import os
import select
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
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
from reliability_support import dead_engine_threads, recording_excepthook

# Issue 14, defect 4: an awaited operation still pending was overtaken by an operation started
# after it on the same queue (another model's, or a second await's).  With the fix (an await
# stays parked at the head of its queue) the machine mixes those orderings too; False leaves them
# out, to tell that defect apart from a new one.
AWAIT_ORDER_ACROSS_MODELS = True

SOAK = os.environ.get("DOTNET_SOCKETS_SOAK", "") not in ("", "0")
MODELS = ("sync", "begin", "event", "await")
MSG = 8  # the peer's messages: a prefix letter and a 7-digit start index
SEND = 16 * 1024  # a TCP send: its tag repeated, big enough to wait for room on a full connection
ANY4 = IPEndPoint(IPAddress.Any, 0)


def tag(prefix: str, i: int) -> bytes:
    return f"{prefix}{i:07d}".encode()


class Loop:
    """One asyncio loop on its own thread, shared by the examples."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(WAIT)
        self.loop.close()


LOOP: Loop | None = None


class Op:
    """One operation started: its model, direction, start index and completions."""

    def __init__(self, model: str, send: bool, index: int) -> None:
        self.model, self.send, self.index = model, send, index
        self.count = 0
        self.value: Any = None  # bytes sent, or the bytes received
        self.error: SocketError | None = None
        self.extra: list[str] = []  # anything unexpected a completion saw
        self.done = threading.Event()
        self._lock = threading.Lock()

    def hit(self, value: Any = None, error: SocketError | None = None) -> None:
        with self._lock:
            self.count += 1
            if self.count == 1:
                self.value, self.error = value, error
        self.done.set()

    def __repr__(self) -> str:
        kind = "send" if self.send else "receive"
        return f"<{self.model} {kind} #{self.index}: {self.count}x {self.value!r} {self.error}>"


class SocketLife(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.s: Socket | None = None
        self.peer: socket.socket | None = None
        self.extra: list[socket.socket] = []
        self.udp = False
        self.closed = False
        self.ops: list[Op] = []
        self.sends: list[Op] = []
        self.receives: list[Op] = []
        self.peer_sent = 0
        # TCP: what the socket handed to the kernel, in start order (sends and filler), and
        # the peer's reader, which can be paused so that sends wait for room.
        self.stream: list[tuple[Op | None, bytes]] = []
        self.got = bytearray()
        self.reset = False
        self.filled = False
        self.reading = threading.Event()
        self.paused = threading.Event()
        self.stop = threading.Event()
        self.reader: threading.Thread | None = None

    # -- setup -----------------------------------------------------------------------------------
    @initialize(kind=st.sampled_from(["tcp", "udp"]))
    def open(self, kind: str) -> None:
        self.udp = kind == "udp"
        if self.udp:
            s = Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp)
            s.Bind(IPEndPoint(IPAddress.Loopback, 0))
            peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            peer.bind(("127.0.0.1", 0))
            self.peer_ep = IPEndPoint(IPAddress.Loopback, peer.getsockname()[1])
        else:
            lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            # A small window (inherited by the accepted peer): a few kilobytes fill the connection.
            lst.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            s = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
            s.Connect(IPEndPoint(IPAddress.Loopback, lst.getsockname()[1]))
            peer, _ = lst.accept()
            lst.close()
            self.peer_ep = s.RemoteEndPoint
            peer.settimeout(0.05)
            self.reading.set()
            self.reader = threading.Thread(target=self._read, args=(peer,), daemon=True)
            self.reader.start()
        if self.udp:
            peer.settimeout(WAIT)
        s.ReceiveTimeout = int(WAIT * 1000)
        self.s, self.peer = s, peer

    def _read(self, peer: socket.socket) -> None:
        """The TCP peer's reader: reads while allowed, until end of stream."""
        while not self.stop.is_set():
            if not self.reading.is_set():
                self.paused.set()
                self.reading.wait(0.05)
                continue
            self.paused.clear()
            try:
                chunk = peer.recv(65536)
            except TimeoutError:
                continue
            except ConnectionResetError:
                self.reset = True
                return
            except OSError:
                return
            if not chunk:
                return
            self.got += chunk

    # -- helpers ---------------------------------------------------------------------------------
    def _await_pending_elsewhere(self, send: bool, model: str) -> bool:
        """True when this start would be an "await, then another operation" ordering (defect 4)."""
        if AWAIT_ORDER_ACROSS_MODELS:
            return False
        return any(o.model == "await" and o.send == send and not o.done.is_set() for o in self.ops)

    def _send_data(self, index: int) -> bytes:
        """A send's bytes: its tag (UDP: the peer reads only at the end, and keeps every datagram),
        repeated to SEND bytes on TCP."""
        return tag("S", index) * (1 if self.udp else SEND // MSG)

    def _new(self, model: str, send: bool) -> Op:
        lst = self.sends if send else self.receives
        op = Op(model, send, len(lst))
        lst.append(op)
        self.ops.append(op)
        return op

    def _run_await(self, op: Op, make: Callable[[], Any], convert: Callable[[Any], Any]) -> None:
        assert LOOP is not None and self.s is not None
        before = self._queued()
        coro = make()  # checks and exports here, on this thread; starts when the loop runs it

        def finished(f: Any) -> None:
            exc = f.exception()
            if exc is None:
                op.hit(convert(f.result()))
            elif isinstance(exc, SocketException):
                op.hit(error=exc.SocketErrorCode)
            else:
                op.extra.append(repr(exc))
                op.hit(error=SocketError.SocketError)

        asyncio.run_coroutine_threadsafe(coro, LOOP.loop).add_done_callback(finished)
        self._started(op, before)

    def _queued(self) -> tuple[Any, ...]:
        """The operations queued on the socket now (a snapshot: copying a deque does not let
        another thread run)."""
        assert self.s is not None
        io = self.s._io
        return (*tuple(io.rq), *tuple(io.wq))

    def _started(self, op: Op, before: tuple[Any, ...]) -> None:
        """Wait until ``op``, started on another thread, is queued or done: its start order.
        (Only this thread starts operations, so an operation queued since ``before`` is it;
        ``before`` holds those operations, so that no new one can reuse their ids.)"""
        old = {id(o) for o in before}
        for _ in range(int(WAIT / 0.001)):
            if op.done.is_set() or any(id(o) not in old for o in self._queued()):
                return
            op.done.wait(0.001)
        raise AssertionError(f"{op} never started")

    def _begin_callback(
        self, op: Op, end: Callable[[Any], Any], convert: Callable[[Any], Any]
    ) -> Callable[[Any], None]:
        def cb(ar: Any) -> None:
            try:
                op.hit(convert(end(ar)))
            except SocketException as exc:
                op.hit(error=exc.SocketErrorCode)

        return cb

    def _event(
        self,
        op: Op,
        e: SocketAsyncEventArgs,
        start: Callable[[SocketAsyncEventArgs], bool],
        convert: Callable[[SocketAsyncEventArgs], Any],
    ) -> None:
        def finish(ev: SocketAsyncEventArgs) -> None:
            if ev.SocketError == SocketError.Success:
                op.hit(convert(ev))
            else:
                op.hit(error=ev.SocketError)

        e.Completed += lambda _s, ev: finish(ev)
        if not start(e):
            finish(e)  # done inside the call: Completed must not fire as well

    # -- sends -----------------------------------------------------------------------------------
    @precondition(lambda self: self.s is not None and not self.closed)
    @rule(model=st.sampled_from(MODELS))
    def send(self, model: str) -> None:
        if self._await_pending_elsewhere(True, model):
            return
        s = self.s
        assert s is not None
        op = self._new(model, True)
        data = self._send_data(op.index)
        self.stream.append((op, data))
        to = self.peer_ep
        if model == "sync" and self.udp:
            op.hit(s.SendTo(data, to))
        elif model == "sync":
            # It may wait for room: on its own thread, started (queued or done) before going on.
            before = self._queued()

            def send_sync() -> None:
                try:
                    op.hit(s.Send(data))
                except SocketException as exc:
                    op.hit(error=exc.SocketErrorCode)

            threading.Thread(target=send_sync, daemon=True).start()
            self._started(op, before)
        elif model == "begin":
            if self.udp:
                cb = self._begin_callback(op, s.EndSendTo, int)
                s.BeginSendTo(data, 0, len(data), SocketFlags.None_, to, cb, None)
            else:
                s.BeginSend(data, 0, len(data), SocketFlags.None_, self._begin_callback(op, s.EndSend, int), None)
        elif model == "event":
            e = SocketAsyncEventArgs()
            e.SetBuffer(bytearray(data), 0, len(data))
            if self.udp:
                e.RemoteEndPoint = to
            self._event(op, e, s.SendToAsync if self.udp else s.SendAsync, lambda ev: ev.BytesTransferred)
        else:
            make = (lambda: s.SendToAsync(data, SocketFlags.None_, to)) if self.udp else (lambda: s.SendAsync(data, 0))
            self._run_await(op, make, int)

    # -- receives --------------------------------------------------------------------------------
    @precondition(lambda self: self.s is not None and not self.closed)
    @rule(model=st.sampled_from(MODELS), from_=st.booleans())
    def receive(self, model: str, from_: bool) -> None:
        if self._await_pending_elsewhere(False, model):
            return
        if model == "sync" and self.peer_sent <= len(self.receives):
            return  # nothing would arrive for it: a sync receive only where it cannot wait
        s = self.s
        assert s is not None
        frm = from_ and self.udp
        op = self._new(model, False)
        buf = bytearray(MSG)
        if model == "sync":
            n = s.ReceiveFrom(buf, ANY4).ReceivedBytes if frm else s.Receive(buf)
            op.hit(bytes(buf[:n]))
        elif model == "begin":

            def got(n: Any) -> bytes:
                return bytes(buf[: n[0] if isinstance(n, tuple) else n])

            if frm:
                s.BeginReceiveFrom(buf, 0, MSG, 0, ANY4, self._begin_callback(op, s.EndReceiveFrom, got), None)
            else:
                s.BeginReceive(buf, 0, MSG, SocketFlags.None_, self._begin_callback(op, s.EndReceive, got), None)
        elif model == "event":
            e = SocketAsyncEventArgs()
            e.SetBuffer(buf, 0, MSG)
            if frm:
                e.RemoteEndPoint = ANY4
            self._event(
                op, e, s.ReceiveFromAsync if frm else s.ReceiveAsync, lambda ev: bytes(buf[: ev.BytesTransferred])
            )
        else:
            make = (lambda: s.ReceiveFromAsync(buf, 0, ANY4)) if frm else (lambda: s.ReceiveAsync(buf, 0))
            self._run_await(op, make, lambda r: bytes(buf[: r[0] if isinstance(r, tuple) else r]))

    @precondition(lambda self: self.s is not None and not self.closed)
    @rule()
    def peer_sends(self) -> None:
        assert self.peer is not None and self.s is not None
        data = tag("R", self.peer_sent)
        if self.udp:
            self.peer.sendto(data, ("127.0.0.1", self.s.LocalEndPoint.Port))
        else:
            self.peer.sendall(data)
        self.peer_sent += 1

    @precondition(lambda self: self.s is not None and not self.closed and not self.udp and not self.filled)
    @rule()
    def peer_stops_reading(self) -> None:
        """The peer stops reading and the connection fills up: the next sends wait for room."""
        s = self.s
        assert s is not None
        for o in self.sends:  # the peer reads: they finish (waited for, so that what runs next is not up to timing)
            assert o.done.wait(WAIT), f"{o} never completed while the peer was reading"
        self.reading.clear()
        assert self.paused.wait(WAIT)
        s.SendBufferSize = 4096
        s.Blocking = False
        chunk = b"F" * MSG
        refused = 0
        try:
            # Message-sized blocks until even those are refused three times in a row, 10 ms apart
            # (what is in flight settles meanwhile): then the sends that follow wait for room.
            for _ in range(100_000):  # bounded: the two small buffers hold a few tens of KB
                try:
                    n = s.Send(chunk)
                except SocketException as exc:
                    assert exc.SocketErrorCode == SocketError.WouldBlock, exc
                    refused += 1
                    if refused == 3:
                        break
                    select.select([], [], [], 0.01)
                    continue
                refused = 0
                self.stream.append((None, chunk[:n]))
            else:
                raise AssertionError("the connection never filled up")
        finally:
            s.Blocking = True
        self.filled = True

    @precondition(lambda self: self.filled and not self.closed)
    @rule()
    def peer_reads_again(self) -> None:
        self.reading.set()
        self.filled = False

    # -- the end of the socket -------------------------------------------------------------------
    @precondition(lambda self: self.s is not None and not self.closed)
    @rule()
    def close(self) -> None:
        assert self.s is not None
        self.s.Close()
        self.closed = True

    @precondition(lambda self: self.closed)
    @rule(model=st.sampled_from(MODELS), send=st.booleans())
    def start_after_close(self, model: str, send: bool) -> None:
        s = self.s
        assert s is not None
        buf = bytearray(MSG)
        calls: dict[tuple[str, bool], Callable[[], Any]] = {
            ("sync", True): lambda: s.SendTo(bytes(buf), self.peer_ep) if self.udp else s.Send(bytes(buf)),
            ("sync", False): lambda: s.Receive(buf),
            ("begin", True): lambda: s.BeginSend(buf, 0, MSG, SocketFlags.None_, None, None),
            ("begin", False): lambda: s.BeginReceive(buf, 0, MSG, SocketFlags.None_, None, None),
            ("event", True): lambda: s.SendAsync(SocketAsyncEventArgs()),
            ("event", False): lambda: s.ReceiveAsync(SocketAsyncEventArgs()),
            ("await", True): lambda: (
                s.SendToAsync(bytes(buf), 0, self.peer_ep) if self.udp else s.SendAsync(bytes(buf), 0)
            ),
            ("await", False): lambda: s.ReceiveAsync(buf, 0),
        }
        with pytest.raises(ObjectDisposedException):
            calls[(model, send)]()

    @invariant()
    def never_twice(self) -> None:
        for op in self.ops:
            assert op.count <= 1, op

    def teardown(self) -> None:
        try:
            if self.s is not None:
                self._finish()
        finally:
            self.stop.set()
            self.reading.set()
            if self.reader is not None:
                self.reader.join(WAIT)
            if self.s is not None:
                self.s.Close()
            if self.peer is not None:
                self.peer.close()

    def _finish(self) -> None:
        assert self.s is not None and self.peer is not None
        if not self.closed:
            self.s.Close()  # what is still pending completes, aborted
        for op in self.ops:
            assert op.done.wait(WAIT), f"{op} never completed"
        for op in self.ops:
            assert op.count == 1, op
            assert op.extra == [], op
        if self.udp:
            self._check_datagrams_sent()
        else:
            self._check_stream_sent()
        # Receives: the k-th started got the peer's k-th message; the rest were aborted, none lost.
        aborted = False
        for op in self.receives:
            if op.error is None:
                assert not aborted, f"{op} got data after an earlier receive was aborted"
                assert op.value == tag("R", op.index), op
            else:
                aborted = True
                assert op.error == SocketError.OperationAborted, op


    def _check_datagrams_sent(self) -> None:
        """UDP sends never wait: all done, in start order at the peer."""
        assert self.peer is not None
        for op in self.sends:
            assert op.error is None and op.value == MSG, op
        self.peer.setblocking(False)
        got = [self.peer.recv(64) for _ in self.sends]
        assert got == [self._send_data(op.index) for op in self.sends]

    def _check_stream_sent(self) -> None:
        """TCP: the peer got the sends in start order; those pending at Close were aborted."""
        self.reading.set()
        assert self.reader is not None
        self.reader.join(WAIT)  # the socket is closed: the peer reads to the end of the stream
        assert not self.reader.is_alive()
        full = b"".join(data for _, data in self.stream)
        got = bytes(self.got)
        assert full.startswith(got), "the peer got the sends out of their start order"
        aborted = False
        end = 0
        for op, data in self.stream:
            end += len(data)
            if op is None:
                continue
            if op.error is None:
                assert not aborted, f"{op} completed after an earlier send was aborted"
                assert op.value == SEND, op
                # A reset (unread data at Close) may drop what the kernel still held.
                assert self.reset or len(got) >= end, f"{op} completed but its bytes never arrived"
            else:
                aborted = True
                allowed = {SocketError.OperationAborted}
                if op.model == "sync":
                    allowed.add(SocketError.ConnectionAborted)  # .NET's error for a sync call cut short
                assert op.error in allowed, op


@pytest.fixture
def loop() -> Iterator[None]:
    global LOOP
    LOOP = Loop()
    yield
    LOOP.close()
    LOOP = None


@pytest.mark.timeout(3600 if SOAK else 180)
def test_socket_life_across_models(loop: None) -> None:
    with recording_excepthook() as rec:
        run_state_machine_as_test(
            SocketLife,
            settings=settings(
                max_examples=1000 if SOAK else 100,
                stateful_step_count=60 if SOAK else 25,
                deadline=None,
                derandomize=not SOAK,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    assert rec.unexpected(BaseException) == []
    assert not dead_engine_threads()
