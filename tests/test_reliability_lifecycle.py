"""Lifecycle faults (issue 14: defects 1, 2, 3, 9, 10): what a program does to wait handles,
the garbage collector, ``fork()``, blocked callbacks and Ctrl-C must not lose a completion,
hang a thread or kill an engine thread.

Every wait is bounded; scenarios that would hang the interpreter for good before the fixes
(a collection that deadlocks, a forked child stuck on a lock) run in child interpreters with
a timeout.  ``DOTNET_SOCKETS_SOAK=1`` runs the random ones longer.
"""

from __future__ import annotations

import asyncio
import gc
import os
import random
import socket
import subprocess
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
    CancellationTokenSource,
    ExecutionContext,
    IAsyncResult,
    IPAddress,
    IPEndPoint,
    ObjectDisposedException,
    ProtocolType,
    Socket,
    SocketAsyncEventArgs,
    SocketException,
    SocketType,
    execution_context,
)
from dotnet_sockets._engine import dispatch
from dotnet_sockets._engine.dispatch import dispatcher
from reliability_support import (
    CHILD_PRELUDE,
    Counter,
    assert_engine_serves,
    dead_engine_threads,
    recording_excepthook,
    tcp_pair,
    udp,
)
from reliability_support import run_child as run_child_timed

ANY4 = IPEndPoint(IPAddress.Any, 0)
SOAK = os.environ.get("DOTNET_SOCKETS_SOAK") == "1"


def addr_of(s: Socket) -> tuple[str, int]:
    ep = s.LocalEndPoint
    assert isinstance(ep, IPEndPoint)
    return ("127.0.0.1", ep.Port)


@pytest.fixture
def hook() -> Iterator[Any]:
    """Nothing may reach threading.excepthook, and no engine thread may die."""
    with recording_excepthook() as rec:
        yield rec
    assert not rec.seen, rec.seen
    assert not dead_engine_threads()


def run_child(code: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a child interpreter; it may not hang, nor print a traceback (an
    exception in an at-fork handler or a thread is only printed)."""
    try:
        proc, _ = run_child_timed(code, timeout)
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        pytest.fail(f"child interpreter hung for {timeout} s; it printed: {out!r}")
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
    return proc


CHILD_COMMON = CHILD_PRELUDE + """
import gc

def reap(pids, seconds=20):
    # Wait for forked children at most `seconds`, kill the rest: (hung, failed).
    deadline = time.monotonic() + seconds
    codes = {}
    while pids and time.monotonic() < deadline:
        for pid in list(pids):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes[pid] = os.waitstatus_to_exitcode(status)
                pids.remove(pid)
        time.sleep(0.01)
    for pid in pids:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return len(pids), sum(1 for c in codes.values() if c != 0)
"""


# -- defect 1: a closed AsyncWaitHandle ---------------------------------------------------------


@pytest.mark.parametrize("how", ["Close", "Dispose", "with"])
def test_closed_wait_handle_still_completes_the_whole_round(how: str, hook: Any) -> None:
    """Common .NET code: wait with a timeout, then close the handle.  The operation still
    completes (callback once, End gives the data), and so does the one queued behind it in
    the same readiness round."""
    rx, tx = udp(), udp(False)
    try:
        counter = Counter()
        bufs = [bytearray(32), bytearray(32)]
        a1 = rx.BeginReceiveFrom(bufs[0], 0, 32, 0, ANY4, counter, None)
        assert not a1.AsyncWaitHandle.WaitOne(10)
        if how == "with":
            with a1.AsyncWaitHandle:
                pass
        else:
            getattr(a1.AsyncWaitHandle, how)()
        a2 = rx.BeginReceiveFrom(bufs[1], 0, 32, 0, ANY4, counter, None)
        a2.AsyncWaitHandle.Close()
        # Both datagrams are in the kernel before the engine may look: one round serves both.
        with rx._io.lock:
            tx.SendTo(b"one", rx.LocalEndPoint)
            tx.SendTo(b"two", rx.LocalEndPoint)
            time.sleep(0.01)
        assert counter.wait_total(2), counter.runs
        got = [rx.EndReceiveFrom(a1), rx.EndReceiveFrom(a2)]
        assert [bytes(b[:n]) for b, (n, _) in zip(bufs, got, strict=True)] == [b"one", b"two"]
        counter.once_each([a1, a2])
        with pytest.raises(ObjectDisposedException):
            a1.AsyncWaitHandle.WaitOne(0)  # as .NET: the user's own wait on a closed handle
    finally:
        rx.Dispose()
        tx.Dispose()
    assert_engine_serves()


def test_close_completes_every_pending_operation_whatever_was_done_to_its_handle(hook: Any) -> None:
    rx = udp()
    counter = Counter()
    ars: list[IAsyncResult] = []
    for k in range(8):
        ar = rx.BeginReceiveFrom(bytearray(16), 0, 16, 0, ANY4, counter, None)
        h = ar.AsyncWaitHandle
        [h.Close, h.Dispose, h.Set, h.Reset, lambda: None, h.Close, h.Set, h.Dispose][k]()
        ars.append(ar)
    rx.Close()  # must not raise
    assert counter.wait_total(len(ars)), counter.runs
    counter.once_each(ars)
    for ar in ars:
        assert ar.IsCompleted
        with pytest.raises((ObjectDisposedException, SocketException)):
            rx.EndReceiveFrom(ar)
    assert_engine_serves()


def test_end_waits_for_the_real_completion_after_any_misuse_of_the_handle(hook: Any) -> None:
    """End must neither fail on a closed handle nor return early on one set by the user."""
    rx, tx = udp(), udp(False)
    try:
        for misuse in ("Close", "Set", "SetThenClose", "Reset"):
            buf = bytearray(32)
            ar = rx.BeginReceive(buf, 0, 32, 0, None, None)
            h: Any = ar.AsyncWaitHandle
            if misuse == "SetThenClose":
                h.Set()
                h.Close()
            else:
                getattr(h, misuse)()
            payload = misuse.encode()
            threading.Timer(0.05, lambda p=payload: tx.SendTo(p, rx.LocalEndPoint)).start()
            n = rx.EndReceive(ar)
            assert bytes(buf[:n]) == payload
    finally:
        rx.Dispose()
        tx.Dispose()


def test_set_and_reset_racing_completions(hook: Any) -> None:
    """Threads hammer the handles with Set/Reset/WaitOne(0)/Close while the operations
    complete: each End returns its own datagram and each callback runs once."""
    rx, tx = udp(), udp(False)
    counter = Counter()
    stop = threading.Event()
    live: list[IAsyncResult] = []
    errors: list[BaseException] = []

    def meddle(seed: int) -> None:
        rng = random.Random(seed)
        while not stop.is_set():
            for ar in list(live):
                h: Any = ar.AsyncWaitHandle
                try:
                    rng.choice([h.Set, h.Reset, lambda h=h: h.WaitOne(0), h.Close])()
                except ObjectDisposedException:
                    pass
                except BaseException as exc:  # noqa: BLE001 - the test's verdict
                    errors.append(exc)
            time.sleep(0)

    meddlers = [threading.Thread(target=meddle, args=(i,)) for i in range(2)]
    for t in meddlers:
        t.start()
    try:
        rounds = 400 if SOAK else 60
        for k in range(rounds):
            buf = bytearray(16)
            ar = rx.BeginReceiveFrom(buf, 0, 16, 0, ANY4, counter, None)
            live[:] = [ar]
            tx.SendTo(b"%d" % k, rx.LocalEndPoint)
            n, _ = rx.EndReceiveFrom(ar)
            assert bytes(buf[:n]) == b"%d" % k
        assert counter.wait_total(rounds)
        assert counter.total == rounds
    finally:
        stop.set()
        for t in meddlers:
            t.join(WAIT)
        rx.Dispose()
        tx.Dispose()
    assert not errors, errors


def test_a_step_that_raises_on_an_engine_thread_still_completes_the_operation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The continuation of an operation (here the adoption of an accepted connection by
    ``BeginAccept(receive_size, ...)``) raises on the engine thread: the operation completes
    once, failed, the exception is reported, and the rest of the round goes on."""
    from dotnet_sockets import _socket_connections

    def broken_adopt(*args: Any) -> Any:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(_socket_connections.SocketConnections, "_adopt", broken_adopt)
    counter = Counter()
    with recording_excepthook() as rec:
        lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
        lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
        lst.Listen(2)
        try:
            ar = lst.BeginAccept(16, counter, None)
            ar2 = lst.BeginAccept(counter, None)
            c1 = socket.create_connection(addr_of(lst), timeout=WAIT)
            c2 = socket.create_connection(addr_of(lst), timeout=WAIT)
            assert counter.wait_total(2), counter.runs
            counter.once_each([ar, ar2])
            with pytest.raises(SocketException) as info:
                lst.EndAccept(ar)
            assert isinstance(info.value.__cause__, RuntimeError)
            accepted = lst.EndAccept(ar2)
            assert accepted.Connected
            accepted.Dispose()
            c1.close()
            c2.close()
        finally:
            lst.Dispose()
    assert [type(e) for e, _ in rec.seen] == [RuntimeError]
    assert_engine_serves()


def test_a_descriptor_the_engine_cannot_rearm_fails_what_waits_and_keeps_what_finished(
    monkeypatch: pytest.MonkeyPatch, hook: Any
) -> None:
    """``epoll_ctl`` refuses the descriptor (closed or replaced behind the package's back
    through ``Handle``): the receive that got its datagram in that round still completes with
    it, the one that would wait fails at once, and a new one fails in ``End``, not never."""
    import errno

    from dotnet_sockets._engine.epoll import engine

    rx, tx = udp(), udp(False)
    counter = Counter()
    try:
        bufs = [bytearray(16), bytearray(16)]
        a1 = rx.BeginReceiveFrom(bufs[0], 0, 16, 0, ANY4, counter, None)
        a2 = rx.BeginReceiveFrom(bufs[1], 0, 16, 0, ANY4, counter, None)
        real_arm = engine.arm

        def refuse(q: Any, mask: int) -> None:
            if q is rx._io:
                raise OSError(errno.EBADF, "Bad file descriptor")
            real_arm(q, mask)

        monkeypatch.setattr(engine, "arm", refuse)
        tx.SendTo(b"first", rx.LocalEndPoint)
        assert counter.wait_total(2), counter.runs
        counter.once_each([a1, a2])
        n, _ = rx.EndReceiveFrom(a1)
        assert bytes(bufs[0][:n]) == b"first"
        with pytest.raises(SocketException):
            rx.EndReceiveFrom(a2)
        a3 = rx.BeginReceive(bytearray(16), 0, 16, 0, counter, None)
        assert counter.wait_total(3)
        with pytest.raises(SocketException):
            rx.EndReceive(a3)
    finally:
        monkeypatch.undo()
        rx.Dispose()
        tx.Dispose()
    assert_engine_serves()


def test_completed_fires_even_when_reading_the_outcome_raises(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading a pending ``ReceiveFromAsync(e)``'s outcome raises on the completion thread (a
    state changed while pending; here a finisher made to raise): ``Completed`` still fires,
    once, with ``SocketError.SocketError``, the exception is reported, and ``e`` is free again."""
    from dotnet_sockets import SocketError, eventargs

    def broken(*args: Any) -> None:
        raise RuntimeError("broken on purpose")

    counter = Counter()
    rx, tx = udp(), udp(False)
    with recording_excepthook() as rec:
        try:
            monkeypatch.setattr(eventargs, "_finish_receive_from", broken)
            e = SocketAsyncEventArgs()
            e.SetBuffer(bytearray(16), 0, 16)
            e.RemoteEndPoint = ANY4
            e.Completed += counter.handler
            assert rx.ReceiveFromAsync(e)
            monkeypatch.undo()
            tx.SendTo(b"x", rx.LocalEndPoint)
            assert counter.wait_total(1)
            assert e.SocketError == SocketError.SocketError
            tx.SendTo(b"again", rx.LocalEndPoint)
            if rx.ReceiveFromAsync(e):  # e is free again
                assert counter.wait_total(2)
            assert e.SocketError == SocketError.Success and e.BytesTransferred == 5
        finally:
            rx.Dispose()
            tx.Dispose()
    assert [type(x) for x, _ in rec.seen] == [RuntimeError]
    assert counter.total in (1, 2)


# -- defect 2: finalizers never take a lock -----------------------------------------------------


def test_collection_under_the_wait_handle_lock_does_not_deadlock() -> None:
    """Deterministic form of the deadlock: a collection starts while this thread holds the
    wait handles' lock, and collects an unclosed socket whose pending receive has a handle."""
    code = CHILD_COMMON + textwrap.dedent("""
    import warnings
    from dotnet_sockets import waithandles
    warnings.simplefilter("ignore", ResourceWarning)
    calls = []
    done = threading.Event()
    def cb(ar):
        calls.append(ar)
        done.set()
    s = udp()
    ar = s.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, cb, None)
    assert not ar.AsyncWaitHandle.WaitOne(1)
    cycle = [s]
    cycle.append(cycle)  # only the collector can free the socket
    del s, cycle
    gc.disable()
    with waithandles._lock:
        gc.collect()
    print("collected", flush=True)
    assert done.wait(5), "the collected socket's receive was never aborted"
    assert ar.AsyncWaitHandle.WaitOne(5)
    time.sleep(0.05)
    assert len(calls) == 1, calls
    print("ok")
    """)
    proc = run_child(code, timeout=20)
    assert proc.returncode == 0 and proc.stdout.split() == ["collected", "ok"], proc.stdout + proc.stderr


def test_unclosed_socket_is_closed_even_when_resource_warnings_are_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    """``-W error::ResourceWarning`` makes the finalizer's warning raise: the socket is closed
    (and its pending receive aborted, once) all the same."""
    import warnings

    gc.collect()  # garbage other tests left is not this test's
    unraisable: list[Any] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    counter = Counter()
    s = udp()
    ar = s.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, counter, None)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ResourceWarning)
        del s
        gc.collect()
    assert counter.wait_total(1), "the unclosed socket's receive was never aborted"
    counter.once_each([ar])
    assert unraisable and all(isinstance(u.exc_value, ResourceWarning) for u in unraisable), unraisable


def test_collection_under_the_flow_count_lock_does_not_deadlock() -> None:
    """The token of a thread that ends while suppressing flow dies while another thread
    holds the count's lock: the dying thread must not wait for it."""
    suppressed = threading.Event()
    go = threading.Event()

    def suppress_and_end() -> None:
        ExecutionContext.SuppressFlow()
        suppressed.set()
        go.wait(WAIT)
        # Ends still suppressing: its token dies with the thread's locals.

    t = threading.Thread(target=suppress_and_end)
    t.start()
    assert suppressed.wait(WAIT)
    with execution_context._count_lock:
        go.set()
        t.join(2.0)
        ended = not t.is_alive()
    t.join(WAIT)
    assert ended, "a thread's end waited for a lock another thread held"
    # The count catches up at the next change, back to what it was.
    with ExecutionContext.SuppressFlow():
        assert ExecutionContext.IsFlowSuppressed()
    assert not ExecutionContext.IsFlowSuppressed()
    assert execution_context._suppressing_threads == 0


def test_collections_from_many_threads_while_others_wait() -> None:
    """Reference cycles holding unclosed sockets with pending operations (Begin/End, SAEA),
    collected by several threads at once while others wait on handles and make sync calls."""
    seconds = 10.0 if SOAK else 1.5
    code = CHILD_COMMON + textwrap.dedent(f"""
    import random, warnings
    warnings.simplefilter("ignore", ResourceWarning)
    SECONDS = {seconds}
    lock = threading.Lock()
    calls = {{}}
    made = []
    def cb(ar):
        with lock:
            calls[id(ar)] = calls.get(id(ar), 0) + 1
    def completed(sender, e):
        with lock:
            calls[e.UserToken] = calls.get(e.UserToken, 0) + 1
    stop = threading.Event()
    failures = []
    def key(x):
        return x if isinstance(x, tuple) else id(x)

    def churn(seed):
        rng = random.Random(seed)
        while not stop.is_set():
            s = udp()
            ar = s.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, cb, None)
            ar.AsyncWaitHandle.WaitOne(0)
            ar2 = s.BeginReceive(bytearray(8), 0, 8, 0, cb, None)
            if rng.random() < 0.5:
                ar2.AsyncWaitHandle.Close()
            # A completed SAEA in the cycle too (a pending one keeps its socket alive, as in .NET).
            e = SocketAsyncEventArgs()
            e.SetBuffer(b"x", 0, 1)
            e.RemoteEndPoint = s.LocalEndPoint
            e.Completed += completed
            e.UserToken = token = ("e", len(made), seed)
            if s.SendToAsync(e):
                made.append(token)
            with lock:
                made.extend((ar, ar2))
            cycle = [s, e]
            cycle.append(cycle)
            del s, ar, ar2, e, cycle

    def collect():
        while not stop.is_set():
            gc.collect()

    def waiter(seed):
        rng = random.Random(seed)
        h = AutoResetEvent(False)
        rx, tx = udp(), udp(False)
        rx.ReceiveTimeout = 2000
        buf = bytearray(8)
        while not stop.is_set():
            h.Set()
            if not h.WaitOne(2000):
                failures.append("WaitOne")
            WaitHandle.WaitAny([ManualResetEvent(False), h], 1)
            tx.SendTo(b"x", rx.LocalEndPoint)
            if rx.Receive(buf) != 1:
                failures.append("Receive")
        rx.Dispose(); tx.Dispose()

    threads = [threading.Thread(target=churn, args=(i,)) for i in range(2)]
    threads += [threading.Thread(target=collect) for _ in range(2)]
    threads += [threading.Thread(target=waiter, args=(i,)) for i in range(2)]
    for t in threads: t.start()
    time.sleep(SECONDS)
    stop.set()
    for t in threads:
        t.join(10)
        assert not t.is_alive(), "a thread hung"
    gc.collect()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with lock:
            if all(calls.get(key(x)) == 1 for x in made):
                break
        gc.collect()
        time.sleep(0.01)
    with lock:
        bad = [calls.get(key(x), 0) for x in made if calls.get(key(x)) != 1]
    assert not bad, (len(made), bad[:10])
    assert not failures, failures
    print("ok", len(made))
    """)
    proc = run_child(code, timeout=60)
    assert proc.returncode == 0 and proc.stdout.startswith("ok"), proc.stdout + proc.stderr


# -- defect 3: fork ---------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_threads_wait_poll_and_operations_are_pending() -> None:
    """Children forked while parent threads poll WaitOne(0), block in WaitOne, suppress and
    restore flow and keep operations pending must all finish their own socket work."""
    children = 60 if SOAK else 16
    code = CHILD_COMMON + textwrap.dedent(f"""
    from dotnet_sockets.telemetry import Telemetry
    CHILDREN = {children}
    stop = threading.Event()
    shared = ManualResetEvent(False)
    blocked_on = AutoResetEvent(False)
    held = udp()
    pending = held.BeginReceiveFrom(bytearray(8), 0, 8, 0, ANY4, lambda ar: None, None)

    def poll():
        while not stop.is_set():
            shared.WaitOne(0)
            pending.AsyncWaitHandle.WaitOne(0)
    def flow():
        while not stop.is_set():
            with ExecutionContext.SuppressFlow():
                pass
    def block():
        while not stop.is_set():
            blocked_on.WaitOne(50)
    def traffic():
        s, sink = udp(False), udp()
        while not stop.is_set():
            s.EndSendTo(s.BeginSendTo(b"t", 0, 1, 0, sink.LocalEndPoint, lambda ar: None, None))
            Telemetry.snapshot()
        s.Dispose(); sink.Dispose()
    threads = [threading.Thread(target=f) for f in (poll, poll, flow, block, block, traffic)]
    for t in threads: t.start()
    time.sleep(0.05)

    def child():
        rx, tx = udp(), udp(False)
        rx.ReceiveTimeout = 200
        try:
            rx.Receive(bytearray(8))
            raise SystemExit("no timeout")
        except SocketException as exc:
            assert exc.SocketErrorCode == SocketError.TimedOut, exc.SocketErrorCode
        tx.SendTo(b"hello", rx.LocalEndPoint)
        buf = bytearray(8)
        ar = rx.BeginReceive(buf, 0, 8, 0, None, None)
        assert ar.AsyncWaitHandle.WaitOne(5000)
        assert bytes(buf[:rx.EndReceive(ar)]) == b"hello"
        # The parent's blocked waiters are gone: a Set goes to this process's next wait.
        blocked_on.Set()
        assert blocked_on.WaitOne(0), "a waiter of the parent took the signal"
        with ExecutionContext.SuppressFlow():
            assert ExecutionContext.IsFlowSuppressed()
        held.Dispose()  # aborts the child's copy of the pending receive
        assert pending.AsyncWaitHandle.WaitOne(5000)
        rx.Dispose(); tx.Dispose()

    pids = []
    for k in range(CHILDREN):
        pid = os.fork()
        if pid == 0:
            try:
                child()
                os._exit(0)
            except BaseException:
                import traceback; traceback.print_exc()
                os._exit(1)
        pids.append(pid)
        time.sleep(0.005)
    hung, failed = reap(pids)
    stop.set()
    blocked_on.Set()
    for t in threads: t.join(5)
    print("hung", hung, "failed", failed)
    """)
    proc = run_child(code, timeout=60)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip() == "hung 0 failed 0", proc.stdout + proc.stderr


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_while_cancellation_sources_and_semaphores_are_busy() -> None:
    """A source's or a semaphore's lock held by a parent thread at the fork, a parent thread
    blocked in ``SemaphoreSlim.Wait``, and a timer that falls due as the child starts: the child
    can still cancel, release and take, and gets its timer."""
    children = 40 if SOAK else 12
    code = CHILD_COMMON + textwrap.dedent(f"""
    stop = threading.Event()
    busy = CancellationTokenSource()
    # Three counts for two threads: a count a parent thread held at the fork stays taken in
    # the child (its thread is gone), as a lock would; one is always left.
    slim = SemaphoreSlim(3)
    blocked = SemaphoreSlim(0)
    counting = Semaphore(3, 3)
    def churn():
        while not stop.is_set():
            busy.Token.Register(lambda: None).Dispose()
    def take_and_give():
        while not stop.is_set():
            if slim.Wait(50):
                slim.Release()
            if counting.WaitOne(50):
                counting.Release()
    def block():
        while not stop.is_set():
            blocked.Wait(50)
    threads = [threading.Thread(target=f) for f in (churn, take_and_give, take_and_give, block)]
    for t in threads: t.start()
    time.sleep(0.02)
    pids = []
    for k in range({children}):
        timed = CancellationTokenSource()
        timed.CancelAfter(k % 3)  # due now, or in a millisecond or two
        pid = os.fork()
        if pid == 0:
            try:
                fired = timed.Token.WaitHandle.WaitOne(5000)
                assert fired, "the inherited CancelAfter never fired"
                busy.Cancel()
                assert busy.IsCancellationRequested
                assert slim.Wait(5000), "the semaphore's lock or count was lost"
                slim.Release()
                assert counting.WaitOne(5000)
                blocked.Release()
                assert blocked.Wait(0), "a waiter of the parent took the count"
                os._exit(0)
            except BaseException:
                import traceback; traceback.print_exc()
                os._exit(1)
        pids.append(pid)
    hung, failed = reap(pids)
    stop.set()
    for t in threads: t.join(5)
    print("hung", hung, "failed", failed)
    """)
    proc = run_child(code, timeout=60)
    assert proc.stdout.strip() == "hung 0 failed 0", proc.stdout + proc.stderr


def test_cancel_with_a_closed_token_wait_handle(hook: Any) -> None:
    """Cancel (and the CancelAfter timer thread) set the token's handle even if it was closed."""
    cts = CancellationTokenSource()
    h = cts.Token.WaitHandle
    h.Close()
    cts.Cancel()  # raised AggregateException(ObjectDisposedException) before
    timed = CancellationTokenSource()
    h2 = timed.Token.WaitHandle
    h3 = timed.Token.WaitHandle
    h2.Dispose()
    timed.CancelAfter(1)
    assert h3.WaitOne(int(WAIT * 1000))
    assert timed.IsCancellationRequested


# -- defect 9: blocked callbacks never starve the one that would free them -----------------------


def test_callbacks_blocked_beyond_the_old_cap_get_another_worker(monkeypatch: pytest.MonkeyPatch, hook: Any) -> None:
    """40 callbacks each wait for an event that only the 41st sets (the old pool stopped at 32)."""
    monkeypatch.setattr(dispatch, "_IDLE_SECONDS", 0.2)  # the extra workers retire soon after
    blocked = 40
    gate = threading.Event()
    gave_up: list[int] = []
    ran = Counter()

    def wait_for_gate(ar: Any) -> None:
        ran(ar)
        if not gate.wait(20):
            gave_up.append(1)

    tx, rx = udp(False), udp()
    try:
        t0 = time.monotonic()
        for _ in range(blocked):
            tx.BeginSendTo(b"b", 0, 1, 0, rx.LocalEndPoint, wait_for_gate, None)
        tx.BeginSendTo(b"g", 0, 1, 0, rx.LocalEndPoint, lambda ar: gate.set(), None)
        assert gate.wait(15), f"the freeing callback never ran; {ran.total} callbacks started"
        elapsed = time.monotonic() - t0
        assert ran.wait_total(blocked)
        assert not gave_up
        assert elapsed < 10, elapsed
    finally:
        gate.set()
        tx.Dispose()
        rx.Dispose()
    # Back to the usual size once idle, so that later tests see the ordinary pool.
    deadline = time.monotonic() + 10
    while dispatcher.thread_count > dispatcher._max and time.monotonic() < deadline:
        time.sleep(0.05)
    assert dispatcher.thread_count <= dispatcher._max


def test_injection_slows_down_past_the_fast_count() -> None:
    d = dispatch.Dispatcher(workers=1)
    assert d._injection_delay() == dispatch._STALL_SECONDS
    d._threads = [threading.current_thread()] * d._max
    slower = d._injection_delay()
    d._threads = [threading.current_thread()] * (d._max + 1000)
    slowest = d._injection_delay()
    assert dispatch._STALL_SECONDS < slower < slowest == dispatch._SLOW_SECONDS


# -- defect 10: Ctrl-C during End --------------------------------------------------------------


def test_end_interrupted_by_ctrl_c_can_be_called_again() -> None:
    code = CHILD_COMMON + textwrap.dedent("""
    import signal, socket as pysock
    # A shell's background job starts with SIGINT ignored, and so would this child (it then hung
    # until its timeout in a suite run from a background job): be the foreground program.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    def interrupt_soon():
        threading.Timer(0.2, lambda: os.kill(os.getpid(), signal.SIGINT)).start()

    rx, tx = udp(), udp(False)
    for end in ("EndReceive", "EndReceiveFrom"):
        buf = bytearray(32)
        if end == "EndReceive":
            ar = rx.BeginReceive(buf, 0, 32, 0, None, None)
        else:
            ar = rx.BeginReceiveFrom(buf, 0, 32, 0, ANY4, None, None)
        interrupt_soon()
        try:
            getattr(rx, end)(ar)
            raise SystemExit(end + " returned without data")
        except KeyboardInterrupt:
            pass
        tx.SendTo(end.encode(), rx.LocalEndPoint)
        r = getattr(rx, end)(ar)
        n = r if isinstance(r, int) else r[0]
        assert bytes(buf[:n]) == end.encode(), bytes(buf[:n])
        try:
            getattr(rx, end)(ar)
            raise SystemExit("a third End was accepted")
        except InvalidOperationException:
            pass

    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0)); lst.Listen(1)
    ar = lst.BeginAccept(None, None)
    interrupt_soon()
    try:
        lst.EndAccept(ar)
        raise SystemExit("EndAccept returned without a connection")
    except KeyboardInterrupt:
        pass
    c = pysock.create_connection(("127.0.0.1", lst.LocalEndPoint.Port))
    a = lst.EndAccept(ar)
    assert a.Connected

    # EndSend of a send waiting for room: the peer reads only after the interrupt.
    a.SendBufferSize = 4096
    size = 2 << 20
    ar = a.BeginSend(bytes(size), 0, size, 0, None, None)
    assert not ar.IsCompleted
    interrupt_soon()
    try:
        a.EndSend(ar)
        raise SystemExit("EndSend returned before the peer read")
    except KeyboardInterrupt:
        pass
    got = 0
    c.settimeout(10)
    while got < size:
        got += len(c.recv(1 << 20))
    assert a.EndSend(ar) == size
    a.Dispose(); c.close(); lst.Dispose(); rx.Dispose(); tx.Dispose()
    print("ok")
    """)
    proc = run_child(code, timeout=30)
    assert proc.returncode == 0 and proc.stdout.strip() == "ok", proc.stdout + proc.stderr


# -- the close race, with the switch interval lowered -------------------------------------------


def _close_race_round(rng: random.Random, loop: asyncio.AbstractEventLoop) -> None:
    counter = Counter()
    sockets = [udp() for _ in range(4)]
    tx = udp(False)
    results: list[IAsyncResult] = []
    events: list[SocketAsyncEventArgs] = []
    sync_outcomes: list[Any] = []
    for s in sockets:
        for _ in range(rng.randint(1, 3)):
            ar = s.BeginReceiveFrom(bytearray(16), 0, 16, 0, ANY4, counter, None)
            if rng.random() < 0.5:
                ar.AsyncWaitHandle.WaitOne(0)
                if rng.random() < 0.5:
                    ar.AsyncWaitHandle.Close()
            results.append(ar)
        e = SocketAsyncEventArgs()
        e.SetBuffer(bytearray(16), 0, 16)
        e.RemoteEndPoint = ANY4
        e.Completed += counter.handler
        if s.ReceiveFromAsync(e):
            events.append(e)
    awaited = [
        asyncio.run_coroutine_threadsafe(s.ReceiveFromAsync(bytearray(16), 0, ANY4), loop) for s in sockets[:2]
    ]
    # The stream side: a receive, a send waiting for room, an accept.
    c, peer = tcp_pair()
    c.SendBufferSize = 4096
    results.append(c.BeginReceive(bytearray(64), 0, 64, 0, counter, None))
    results.append(c.BeginSend(bytes(1 << 20), 0, 1 << 20, 0, counter, None))
    lst = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    lst.Bind(IPEndPoint(IPAddress.Loopback, 0))
    lst.Listen(2)
    results.append(lst.BeginAccept(counter, None))

    def sync_receive(s: Socket) -> None:
        s.ReceiveTimeout = 3000
        try:
            sync_outcomes.append(s.Receive(bytearray(16)))
        except (SocketException, ObjectDisposedException) as exc:
            sync_outcomes.append(type(exc).__name__)

    syncs = [threading.Thread(target=sync_receive, args=(s,)) for s in sockets[2:]]
    for t in syncs:
        t.start()

    # Read before the race: LocalEndPoint of a socket another thread is closing may fail either way.
    targets = [IPEndPoint(IPAddress.Loopback, addr_of(s)[1]) for s in sockets]

    def send_some() -> None:
        for ep in targets:
            tx.SendTo(b"d", ep)

    def close_some(part: list[Socket]) -> None:
        for s in part:
            time.sleep(rng.random() * 0.002)
            s.Close()

    order = [*sockets, c, lst]
    rng.shuffle(order)
    workers = [
        threading.Thread(target=send_some),
        threading.Thread(target=close_some, args=(order[:3],)),
        threading.Thread(target=close_some, args=(order[3:],)),
    ]
    for t in workers:
        t.start()
    for t in workers + syncs:
        t.join(WAIT)
        assert not t.is_alive(), "a thread hung"
    assert counter.wait_total(len(results) + len(events)), (counter.total, len(results), len(events))
    counter.once_each(results + events)
    for f in awaited:
        try:
            f.result(WAIT)
        except (SocketException, ObjectDisposedException):
            pass
    assert len(sync_outcomes) == len(syncs)
    tx.Dispose()
    peer.close()


def test_close_race_with_a_tiny_switch_interval(hook: Any) -> None:
    """Closes from several threads while Begin/End (UDP and TCP receives, a TCP send waiting
    for room, an accept), SAEA, await and sync receives are in flight, with a thread switch
    possible after almost every bytecode."""
    loop = asyncio.new_event_loop()
    loop_thread = threading.Thread(target=loop.run_forever)
    loop_thread.start()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for seed in range(40 if SOAK else 6):
            _close_race_round(random.Random(seed), loop)
    finally:
        sys.setswitchinterval(old)
        loop.call_soon_threadsafe(loop.stop)
        loop_thread.join(WAIT)
        loop.close()
    assert_engine_serves()


def test_closing_a_tcp_socket_with_a_pending_send_and_closed_handles(hook: Any) -> None:
    """The write side: a stream send waiting for room, its handle closed, aborted by Close."""
    c, peer = tcp_pair()
    try:
        c.SendBufferSize = 4096
        counter = Counter()
        ars = [c.BeginSend(bytes(1 << 20), 0, 1 << 20, 0, counter, None) for _ in range(3)]
        assert not ars[-1].IsCompleted
        for ar in ars:
            ar.AsyncWaitHandle.Close()
        c.Close()
        assert counter.wait_total(3)
        counter.once_each(ars)
        for ar in ars:
            with pytest.raises((SocketException, ObjectDisposedException)):
                c.EndSend(ar)
    finally:
        peer.close()
