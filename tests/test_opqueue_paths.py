"""``OpQueue``'s steady state: the compiled ``enqueue`` and ``on_ready`` and the Python methods.

With the accelerator built, ``OpQueue.enqueue`` (also ``enqueue_read``) and ``OpQueue.on_ready``
are compiled (``_speedups``, wired by ``_accel``) and call back into ``opqueue.py`` for every
turn off the common case; the Python methods (their ``__wrapped__``) are the pure path and the
reference.  The tests run on every queue path this process has: on the compiled pass both (the
Python one by putting the Python methods back on ``OpQueue``), on the pure pass the Python one.
They ask for the same outcome: operations attempted in start order, each completed exactly
once, an ``attempt`` that raises failing its operation alone, a close from another thread
aborting what waits, reference cycles collected, and a forked child never stuck on a lock.
"""

from __future__ import annotations

import gc
import random
import socket
import textwrap
import threading
import types
import weakref
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import (
    Socket,
    SocketAsyncEventArgs,
    SocketError,
    SocketException,
)
from dotnet_sockets._engine.opqueue import OpQueue
from dotnet_sockets.asyncresult import AsyncOperation
from reliability_support import CHILD_PRELUDE, dead_engine_threads, recording_excepthook
from reliability_support import run_child as run_child_timed
from socket_helpers import Made

NAMES = ("enqueue", "enqueue_read", "on_ready")
COMPILED = not isinstance(vars(OpQueue)["on_ready"], types.FunctionType)
PATHS = [pytest.param(False, id="python")]
if COMPILED:
    PATHS.append(pytest.param(True, id="compiled"))


def python_methods() -> dict[str, Any]:
    return {name: getattr(vars(OpQueue)[name], "__wrapped__", vars(OpQueue)[name]) for name in NAMES}


@pytest.fixture(params=PATHS)
def queue_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> bool:
    """The queue path under test: the compiled methods (as installed) or the Python ones."""
    if not request.param:
        for name, f in python_methods().items():
            monkeypatch.setattr(OpQueue, name, f)
    return bool(request.param)


class ScriptedOp(AsyncOperation):
    """An operation whose attempts follow a script: "ok" finishes, "block" would block, "raise" raises."""

    __slots__ = ("script", "log", "name", "write")

    def attempt(self) -> bool:
        self.log.append(self.name)
        step = self.script.pop(0) if self.script else "ok"
        if step == "raise":
            raise RuntimeError(f"attempt of {self.name}")
        if step == "block":
            return False
        self._value = self.name
        return True


class Outcomes:
    """What each operation's callback saw, and how often it ran."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.seen: dict[str, list[tuple[Any, ...]]] = {}

    def __call__(self, ar: Any) -> None:
        err = ar._error
        cause = getattr(err, "__cause__", None)  # (ABORTED, a close's mark, is not an exception)
        cause = type(cause).__name__ if cause is not None else None
        code = err.SocketErrorCode if isinstance(err, SocketException) else None
        with self.cond:
            self.seen.setdefault(ar.name, []).append((ar._value, type(err).__name__, code, cause))
            self.cond.notify_all()

    def wait(self, count: int) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.seen) >= count, WAIT)


def unwritable_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair whose first end is neither readable nor writable (its send buffer is full):
    the engine gets no report for it, so only the test calls ``on_ready``."""
    a, b = socket.socketpair()
    a.setblocking(False)
    chunk = bytes(65536)
    for _ in range(10_000):  # bounded: the buffer fills within a few MiB
        try:
            a.send(chunk)
        except BlockingIOError:
            break
    return a, b


def run_script(seed: int) -> tuple[Any, ...]:
    """A random mix of enqueue, on_ready, cancel and a final close on one queue; its trace."""
    rnd = random.Random(seed)
    a, b = unwritable_pair()
    io = OpQueue(a)
    outcomes = Outcomes()
    log: list[str] = []
    ops: list[ScriptedOp] = []
    states: list[tuple[Any, ...]] = []
    with recording_excepthook() as hook:
        try:
            for step in range(rnd.randint(5, 40)):
                roll = rnd.random()
                if roll < 0.55:
                    op = ScriptedOp(io, outcomes, None)
                    op.name, op.log, op.write = f"op{len(ops)}", log, rnd.random() < 0.3
                    op.script = rnd.choices(["ok", "block", "raise"], weights=[6, 3, 1], k=rnd.randint(0, 3))
                    ops.append(op)
                    if op.write:
                        io.enqueue(op, True)
                    elif rnd.random() < 0.5:
                        io.enqueue_read(op)
                    else:
                        io.enqueue(op)
                elif roll < 0.9:
                    io.on_ready(rnd.random() < 0.8, rnd.random() < 0.5)
                elif ops:
                    io.cancel(rnd.choice(ops))
                states.append((step, [o.name for o in io.rq], [o.name for o in io.wq], io.mask, io.registered))
            for op in log:
                # Start order: an operation is tried only once every one before it in its
                # direction has left the queue.
                mine = next(o for o in ops if o.name == op)
                earlier = [o for o in ops[: ops.index(mine)] if o.write == mine.write]
                assert all(o._done or o not in (io.wq if o.write else io.rq) for o in earlier), (seed, op)
            cancelled = [o.name for o in ops if not o._done and o not in io.rq and o not in io.wq]
            io.close()  # aborts what still waits
            finished = len(ops) - len(cancelled)
            assert outcomes.wait(finished), (seed, finished, outcomes.seen)
        finally:
            a.close()
            b.close()
            io.close()
    for name, runs in outcomes.seen.items():
        assert len(runs) == 1, (seed, name, runs)  # exactly once
    reported = [repr(e) for e, _ in hook.seen]
    return log, sorted(outcomes.seen.items()), sorted(cancelled), states, reported


@pytest.mark.skipif(not COMPILED, reason="compares the compiled queue with the Python one: the compiled pass runs it")
def test_compiled_queue_matches_python_for_generated_scripts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Same attempts in the same order, same completions (values, errors and their causes),
    same queue state and mask after every step, same exceptions reported, for generated mixes
    of operations that finish, would block or raise, readiness reports, cancels and a close."""
    compiled = [run_script(seed) for seed in range(60)]
    with monkeypatch.context() as m:
        for name, f in python_methods().items():
            m.setattr(OpQueue, name, f)
        python = [run_script(seed) for seed in range(60)]
    for seed, (c, p) in enumerate(zip(compiled, python, strict=True)):
        assert c == p, seed
    assert any("RuntimeError" in str(t[1]) for t in compiled)  # the scripts did raise
    assert any(t[2] for t in compiled)  # and cancel


def test_script_invariants_on_this_path(queue_path: bool) -> None:
    """Each path alone: start order and exactly-once completion (checked inside run_script)."""
    traces = [run_script(seed) for seed in range(20)]
    assert any(any(state[3] for state in t[3]) for t in traces)  # something was armed


def test_an_attempt_that_raises_fails_its_operation_alone(queue_path: bool) -> None:
    """On the engine thread: the operation fails with SocketError (cause: what attempt raised),
    the one queued behind it completes, the exception is reported, and the thread lives on."""
    a, b = socket.socketpair()
    io = OpQueue(a)
    outcomes = Outcomes()
    log: list[str] = []
    try:
        with recording_excepthook() as hook:
            first, second = ScriptedOp(io, outcomes, None), ScriptedOp(io, outcomes, None)
            for op, name, script in ((first, "first", ["raise"]), (second, "second", [])):
                op.name, op.log, op.write, op.script = name, log, False, script
                io.enqueue(op)
            b.send(b"x")  # readable: the engine thread serves the queue
            assert outcomes.wait(2)
        assert outcomes.seen["first"] == [(None, "SocketException", SocketError.SocketError, "RuntimeError")]
        assert outcomes.seen["second"] == [("second", "NoneType", None, None)]
        assert log == ["first", "second"]
        assert [repr(e) for e, _ in hook.seen] == [repr(RuntimeError("attempt of first"))]
        assert not dead_engine_threads()
    finally:
        io.close()
        a.close()
        b.close()


def test_start_order_across_models_and_many_receives(queue_path: bool, made: Made) -> None:
    """Begin/End and SocketAsyncEventArgs receives queued on one socket take the bytes in the
    order they were started, each completing once."""
    c, s = made.pair()
    n = 64
    got: dict[int, list[bytes]] = {}
    lock = threading.Condition()

    def record(i: int, data: bytes) -> None:
        with lock:
            got.setdefault(i, []).append(data)
            lock.notify_all()

    try:
        bufs = [bytearray(1) for _ in range(n)]
        for i in range(n):
            if i % 3 == 2:
                e = SocketAsyncEventArgs()
                e.SetBuffer(bufs[i], 0, 1)
                e.Completed += lambda _s, ev, i=i: record(i, bytes(bufs[i][: ev.BytesTransferred]))
                assert s.ReceiveAsync(e)  # queued behind the others: completes later
            else:
                s.BeginReceive(bufs[i], 0, 1, 0, lambda ar, i=i: record(i, bytes(bufs[i][: s.EndReceive(ar)])), None)
        c.Send(bytes(range(n)))
        with lock:
            assert lock.wait_for(lambda: len(got) == n, WAIT), sorted(got)
        assert got == {i: [bytes([i])] for i in range(n)}
    finally:
        c.Close()
        s.Close()


def _close_round(made: Made) -> None:
    c, s = made.pair()
    n = 32
    outcomes: dict[int, list[Any]] = {}
    cond = threading.Condition()

    def done(ar: Any) -> None:
        try:
            k = s.EndReceive(ar)
            v: Any = bytes(ar.AsyncState[:k])
        except SocketException as exc:
            v = exc.SocketErrorCode
        with cond:
            outcomes.setdefault(id(ar), []).append(v)
            cond.notify_all()

    try:
        bufs = [bytearray(1) for _ in range(n)]
        ars = [s.BeginReceive(bufs[i], 0, 1, 0, done, bufs[i]) for i in range(n)]
        closer = threading.Thread(target=s.Close)
        c.Send(bytes(range(1, n // 2 + 1)))
        closer.start()
        with cond:
            assert cond.wait_for(lambda: len(outcomes) == n, WAIT)
        closer.join(WAIT)
        results = [outcomes[id(ar)] for ar in ars]
        assert all(len(r) == 1 for r in results)  # exactly once
        flat = [r[0] for r in results]
        data = [v for v in flat if isinstance(v, bytes)]
        assert data == [bytes([i + 1]) for i in range(len(data))]
        assert flat[: len(data)] == data  # a prefix: nothing overtook
        assert all(v == SocketError.OperationAborted for v in flat[len(data) :])
    finally:
        c.Close()
        s.Close()


def test_close_from_another_thread_while_receives_wait(
    queue_path: bool, made: Made, tiny_switch_interval: None
) -> None:
    """Receives pending while bytes arrive and another thread closes: each completes exactly
    once, those that got data got it in start order (a prefix), the rest are aborted."""
    for _ in range(10):
        _close_round(made)


def _closed_cycle(made: Made) -> tuple[weakref.ref[Any], weakref.ref[Any], Socket]:
    """A socket whose pending receive's callback refers to it, closed; weak references to both
    ends, and the open peer."""
    c, s = made.pair()
    made.sockets.remove(s)  # watched going away: nothing else may hold it
    ran = threading.Event()

    def callback(ar: Any) -> None:
        try:
            s.EndReceive(ar)
        except SocketException:
            pass
        ran.set()

    s.BeginReceive(bytearray(4), 0, 4, 0, callback, None)
    refs = (weakref.ref(s._io), weakref.ref(s))
    s.Close()
    assert ran.wait(WAIT)
    return (*refs, c)


def test_a_cycle_through_a_pending_callback_is_collected(queue_path: bool, made: Made) -> None:
    """op -> callback -> socket -> queue -> op: once the socket is closed nothing else holds it."""
    queue_ref, sock_ref, peer = _closed_cycle(made)
    for _ in range(50):
        # A completion worker keeps the last item it ran (dispatcher._current, a local of its
        # loop) until it runs the next one: run one more each time round.
        sent = threading.Event()
        peer.BeginSend(b"x", 0, 1, 0, lambda ar, sent=sent: sent.set(), None)
        assert sent.wait(WAIT)
        gc.collect()
        if queue_ref() is None:
            break
    assert queue_ref() is None and sock_ref() is None


def test_a_forked_child_takes_the_lock_of_a_closed_queue() -> None:
    """A parent thread holds a closed queue's lock at the fork: in the child, the paths that take
    that lock before they look at ``closed`` (a connect's retry on a fresh descriptor, a late
    readiness report, a cancel) finish instead of waiting for a thread that is not there."""
    code = CHILD_PRELUDE + textwrap.dedent("""
    from dotnet_sockets._engine.opqueue import OpQueue
    s = Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp)
    ar = s.BeginConnect(IPEndPoint(IPAddress.Loopback, 9), None, None)  # a refused connect
    io = s._io
    s.Close()
    held, leave = threading.Event(), threading.Event()
    def hold():
        with io.lock:
            held.set()
            leave.wait(10)
    t = threading.Thread(target=hold)
    t.start()
    assert held.wait(10)
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            try:
                s._replace_descriptor(rebind=True)
            except ObjectDisposedException:
                pass
            io.on_ready(True, True)
            assert io.cancel(ar) is False
            assert io.lock.acquire(timeout=5)
            code = 0
        finally:
            os._exit(code)
    deadline = time.monotonic() + 20
    status = None
    while time.monotonic() < deadline:
        done, st = os.waitpid(pid, os.WNOHANG)
        if done:
            status = os.waitstatus_to_exitcode(st)
            break
        time.sleep(0.01)
    if status is None:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    leave.set()
    t.join(10)
    print("child", status)
    """)
    proc, _ = run_child_timed(code, timeout=60)
    assert proc.stdout.strip() == "child 0", proc.stdout + proc.stderr
