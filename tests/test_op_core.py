"""The operation core: ``asyncresult._PyOpCore`` and its compiled twin ``_speedups.OpCore``.

Every ``IAsyncResult`` is an ``AsyncOperation``, built on one of two cores with one interface
(its slots, ``__init__``, ``_complete``, ``_abort``, ``_run_callback``): the compiled one
when the accelerator is built, the pure-Python one otherwise.  Each test here runs on every
core this process has (on the compiled pass both, on the pure pass the pure one) and asks for
the same outcome: completion exactly once under races, callbacks posted or run inline as the
operation's queue says, errors raised with .NET's ParamName, reference cycles collected.
"""

from __future__ import annotations

import contextvars
import gc
import threading
import types
import weakref
from typing import Any

import pytest

from conftest import PURE_PASS, WAIT
from dotnet_sockets import ArgumentException, ExecutionContext, IAsyncResult, _accel
from dotnet_sockets._engine import ops
from dotnet_sockets.asyncresult import ABORTED, AsyncOperation, _PyOpCore

CORE_IN_USE: type = AsyncOperation.__mro__[1]
CORES = [pytest.param(_PyOpCore, id="pure")]
if CORE_IN_USE is not _PyOpCore:
    CORES.append(pytest.param(CORE_IN_USE, id="compiled"))

SLOTS = ("_io", "_callback", "_state", "_ctx", "_done", "_sync", "_ended", "_value", "_error", "_handle")


def op_class(core: type) -> Any:
    """A concrete operation on ``core``, as ``AsyncOperation`` is on the core in use."""

    class Op(core, IAsyncResult):  # type: ignore[misc,valid-type]
        __slots__ = ("buf", "completions")

        AsyncState = AsyncOperation.AsyncState
        AsyncWaitHandle = AsyncOperation.AsyncWaitHandle
        IsCompleted = AsyncOperation.IsCompleted
        CompletedSynchronously = AsyncOperation.CompletedSynchronously

    return Op


def queue(inline: bool = False) -> Any:
    """What an operation reads of its queue when it completes: ``inline``."""
    return types.SimpleNamespace(inline=inline)


@pytest.fixture(params=CORES)
def Op(request: pytest.FixtureRequest) -> Any:  # noqa: N802 - a class
    return op_class(request.param)


def test_the_core_in_use_follows_the_send_path() -> None:
    if PURE_PASS or not _accel.ACCELERATED:
        assert CORE_IN_USE is _PyOpCore
    else:
        assert CORE_IN_USE.__module__ == "dotnet_sockets._speedups"
    # Every kind of operation is an AsyncOperation on that core, and an IAsyncResult.
    for name in ops.__all__:
        kind = getattr(ops, name)
        if isinstance(kind, type):
            assert issubclass(kind, AsyncOperation) and issubclass(kind, CORE_IN_USE), name
            assert issubclass(kind, IAsyncResult), name


def test_both_cores_have_one_interface() -> None:
    for core in (c.values[0] for c in CORES):
        for name in (*SLOTS, "_complete", "_abort", "_run_callback", "__init__"):
            assert hasattr(core, name), (core, name)
        assert core.__weakrefoffset__ != 0, core


def test_a_new_operation_holds_what_it_was_given(Op: Any) -> None:
    io, state = queue(), object()

    def cb(ar: Any) -> None:
        pass

    op = Op(io, cb, state)
    assert isinstance(op, IAsyncResult) and isinstance(op, Op)
    assert (op._io, op._callback, op._state) == (io, cb, state)
    assert type(op._ctx) is contextvars.Context
    assert (op._done, op._sync, op._ended, op._value, op._error, op._handle) == (False, False, False, None, None, None)
    assert (op.AsyncState, op.IsCompleted, op.CompletedSynchronously) == (state, False, False)
    plain = Op(io, None, None)
    assert plain._ctx is None and plain._callback is None
    by_name = Op(io=io, callback=None, state=state)
    assert by_name._state is state
    with pytest.raises(TypeError):
        Op(io, None)


def test_a_callback_that_cannot_be_called_is_refused_in_begin(Op: Any) -> None:
    with pytest.raises(ArgumentException) as info:
        Op(queue(), 42, None)
    assert info.value.ParamName == "callback"
    assert "The callback must be callable." in str(info.value)


def test_an_unset_slot_reads_as_a_missing_attribute(Op: Any) -> None:
    op = Op.__new__(Op)
    with pytest.raises(AttributeError):
        op._complete(False)
    with pytest.raises(AttributeError):
        op._abort()
    op.completions = 0  # a subclass's own slot is still its own
    assert op.completions == 0


def test_the_callback_sees_the_context_of_begin(Op: Any) -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="unset")
    seen: list[str] = []
    var.set("at begin")
    op = Op(queue(inline=True), lambda ar: seen.append(var.get()), None)
    var.set("later")
    op._complete(True)
    assert seen == ["at begin"]
    # Flow suppressed: the callback runs in an empty context.
    flow = ExecutionContext.SuppressFlow()
    try:
        quiet = Op(queue(inline=True), lambda ar: seen.append(var.get()), None)
    finally:
        flow.Undo()
    quiet._complete(True)
    assert seen == ["at begin", "unset"]


def test_complete_at_once_runs_inline_only_when_the_queue_says_so(Op: Any) -> None:
    threads: list[threading.Thread] = []
    ran = threading.Event()

    def cb(ar: Any) -> None:
        threads.append(threading.current_thread())
        ran.set()

    inline = Op(queue(inline=True), cb, None)
    inline._complete(True)
    assert threads == [threading.current_thread()]
    assert inline.IsCompleted and inline.CompletedSynchronously
    ran.clear()
    posted = Op(queue(inline=True), cb, None)
    posted._complete(False)  # completed later: a completion thread runs it
    assert ran.wait(WAIT)
    assert threads[1] is not threading.current_thread() and not posted.CompletedSynchronously
    ran.clear()
    not_inline = Op(queue(inline=False), cb, None)
    not_inline._complete(True)
    assert ran.wait(WAIT)
    assert threads[2] is not threading.current_thread() and not_inline.CompletedSynchronously


def test_completion_sets_the_wait_handle(Op: Any) -> None:
    op = Op(queue(), None, None)
    handle = op.AsyncWaitHandle
    assert not handle.WaitOne(0)
    op._complete(False)
    assert handle.WaitOne(0)


def test_the_first_of_complete_and_abort_wins(Op: Any) -> None:
    done = Op(queue(inline=True), None, None)
    done._value = 5
    done._complete(True)
    done._abort()
    done._complete(False)
    assert (done._value, done._error, done._sync) == (5, None, True)
    aborted = Op(queue(inline=True), None, None)
    aborted._abort()
    aborted._complete(True)
    assert aborted._error is ABORTED and aborted._done and aborted._sync is False


def test_abort_goes_through_a_subclass_complete(Op: Any) -> None:
    core = Op.__mro__[1]

    class Send(Op):  # type: ignore[misc,valid-type]
        __slots__ = ()

        def _complete(self, synchronously: bool) -> None:  # as ops._complete_send, on this core
            if not self._done:
                ops._let_go_of(self, "buf")
            core._complete(self, synchronously)

    op = Send(queue(), None, None)
    op.buf = memoryview(bytearray(4))
    view = op.buf
    op._abort()
    assert op.buf is None
    with pytest.raises(ValueError):  # released
        view.tobytes()
    assert op._error is ABORTED and op._done


def test_what_a_callback_raises_is_reported(Op: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_value))

    def cb(ar: Any) -> None:
        raise KeyError("from the callback")

    op = Op(queue(inline=True), cb, None)
    op._complete(True)  # run inline: reported, not raised to the completer
    op._run_callback()
    assert [type(e) for e in reported] == [KeyError, KeyError]
    assert reported[0].__traceback__ is not None


def test_completion_happens_once_under_races(Op: Any, tiny_switch_interval: None) -> None:
    """Two threads complete and abort the same operations at once: each callback runs once."""
    count = 300
    counts = [0] * count
    all_ran = threading.Event()
    lock = threading.Lock()
    ran = [0]

    def cb(ar: Any) -> None:
        with lock:
            counts[ar._state] += 1
            ran[0] += 1
            if ran[0] == count:
                all_ran.set()

    made = [Op(queue(inline=i % 2 == 0), cb, i) for i in range(count)]
    start = threading.Barrier(2, timeout=WAIT)

    def completer() -> None:
        start.wait()
        for i, op in enumerate(made):
            op._value = i
            op._complete(i % 3 == 0)

    def aborter() -> None:
        start.wait()
        for op in reversed(made):
            op._abort()

    threads = [threading.Thread(target=completer), threading.Thread(target=aborter)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()
    assert all_ran.wait(WAIT)
    with lock:
        assert counts == [1] * count
    assert all(op._done for op in made)


def test_an_operation_in_a_cycle_with_its_callback_is_collected(Op: Any) -> None:
    ran = threading.Event()

    def begin() -> weakref.ref[Any]:
        holder: dict[str, Any] = {}

        def cb(ar: Any) -> None:
            holder["again"] = ar  # the callback's closure refers back to the operation
            ran.set()

        op = Op(queue(inline=True), cb, holder)  # op -> state -> op as well
        holder["op"] = op
        op._handle = None
        op._complete(True)
        return weakref.ref(op)

    gc.disable()
    try:
        ref = begin()
        assert ran.is_set()
        assert ref() is not None  # only the cycle keeps it
        gc.collect()
        assert ref() is None
    finally:
        gc.enable()
