"""ExecutionContext flow suppression: per thread, .NET's errors, and the capture fast path."""

from __future__ import annotations

import contextvars
import gc
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from dotnet_sockets import execution_context as ec_module
from dotnet_sockets.exceptions import InvalidOperationException
from dotnet_sockets.execution_context import AsyncFlowControl, ExecutionContext, capture_context

WAIT = 5.0

var: contextvars.ContextVar[int] = contextvars.ContextVar("var", default=0)


@pytest.fixture(autouse=True)
def flow_restored() -> Iterator[None]:
    """Every test starts and ends with flow not suppressed anywhere."""
    assert ec_module._suppressing_threads == 0
    yield
    if ExecutionContext.IsFlowSuppressed():
        ExecutionContext.RestoreFlow()
        pytest.fail("test left flow suppressed")
    assert ec_module._suppressing_threads == 0


def on_thread(fn: Callable[[], Any]) -> Any:
    results: queue.Queue[tuple[bool, Any]] = queue.Queue()

    def run() -> None:
        try:
            results.put((True, fn()))
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            results.put((False, exc))

    t = threading.Thread(target=run)
    t.start()
    ok, value = results.get(timeout=WAIT)
    t.join(WAIT)
    if not ok:
        raise value
    return value


def test_capture_copies_the_current_context() -> None:
    token = var.set(42)
    try:
        ctx = ExecutionContext.Capture()
        assert isinstance(ctx, contextvars.Context)
        var.set(7)
        assert ctx.run(var.get) == 42
        assert capture_context() is not None
    finally:
        var.reset(token)


def test_suppress_and_restore() -> None:
    assert ExecutionContext.IsFlowSuppressed() is False
    afc = ExecutionContext.SuppressFlow()
    assert isinstance(afc, AsyncFlowControl)
    assert ExecutionContext.IsFlowSuppressed() is True
    assert ExecutionContext.Capture() is None
    assert capture_context() is None
    assert ec_module._suppressing_threads == 1
    ExecutionContext.RestoreFlow()
    assert ExecutionContext.IsFlowSuppressed() is False
    assert capture_context() is not None
    assert ec_module._suppressing_threads == 0


def test_suppress_twice_raises() -> None:
    ExecutionContext.SuppressFlow()
    try:
        with pytest.raises(InvalidOperationException):
            ExecutionContext.SuppressFlow()
        assert ExecutionContext.IsFlowSuppressed()
        assert ec_module._suppressing_threads == 1
    finally:
        ExecutionContext.RestoreFlow()


def test_restore_without_suppress_raises() -> None:
    with pytest.raises(InvalidOperationException):
        ExecutionContext.RestoreFlow()


def test_undo_restores_once() -> None:
    afc = ExecutionContext.SuppressFlow()
    afc.Undo()
    assert not ExecutionContext.IsFlowSuppressed()
    with pytest.raises(InvalidOperationException):
        afc.Undo()
    with pytest.raises(InvalidOperationException):
        afc.Dispose()


def test_dispose_restores() -> None:
    ExecutionContext.SuppressFlow().Dispose()
    assert not ExecutionContext.IsFlowSuppressed()


def test_context_manager() -> None:
    with ExecutionContext.SuppressFlow() as afc:
        assert isinstance(afc, AsyncFlowControl)
        assert ExecutionContext.IsFlowSuppressed()
        assert capture_context() is None
    assert not ExecutionContext.IsFlowSuppressed()
    assert capture_context() is not None


def test_context_manager_restores_on_exception() -> None:
    with pytest.raises(KeyError), ExecutionContext.SuppressFlow():
        raise KeyError("boom")
    assert not ExecutionContext.IsFlowSuppressed()


def test_nested_suppression_in_with_raises() -> None:
    with ExecutionContext.SuppressFlow():
        with pytest.raises(InvalidOperationException):
            ExecutionContext.SuppressFlow()
    assert not ExecutionContext.IsFlowSuppressed()


def test_undo_after_restore_flow_raises() -> None:
    afc = ExecutionContext.SuppressFlow()
    ExecutionContext.RestoreFlow()
    with pytest.raises(InvalidOperationException):
        afc.Undo()
    # An old AsyncFlowControl cannot end a newer suppression either.
    newer = ExecutionContext.SuppressFlow()
    with pytest.raises(InvalidOperationException):
        afc.Undo()
    assert ExecutionContext.IsFlowSuppressed()
    newer.Undo()


def test_suppression_is_per_thread() -> None:
    token = var.set(42)
    try:
        with ExecutionContext.SuppressFlow():

            def other() -> tuple[bool, int | None]:
                ctx = capture_context()
                return ExecutionContext.IsFlowSuppressed(), None if ctx is None else ctx.run(var.get)

            # A new thread starts in an empty context, so var is at its default.
            assert on_thread(other) == (False, 0)
            assert capture_context() is None
    finally:
        var.reset(token)


def test_suppression_on_another_thread_does_not_affect_this_one() -> None:
    suppressed = threading.Event()
    release = threading.Event()

    def other() -> bool:
        with ExecutionContext.SuppressFlow():
            suppressed.set()
            assert release.wait(WAIT)
            return ExecutionContext.IsFlowSuppressed()

    results: queue.Queue[bool] = queue.Queue()
    t = threading.Thread(target=lambda: results.put(other()))
    t.start()
    try:
        assert suppressed.wait(WAIT)
        assert ec_module._suppressing_threads == 1
        assert ExecutionContext.IsFlowSuppressed() is False
        assert capture_context() is not None  # slow path: the thread-local lookup
    finally:
        release.set()
    assert results.get(timeout=WAIT) is True
    t.join(WAIT)
    assert ec_module._suppressing_threads == 0


def test_undo_on_another_thread_raises() -> None:
    afc = ExecutionContext.SuppressFlow()
    try:
        with pytest.raises(InvalidOperationException):
            on_thread(afc.Undo)
        assert ExecutionContext.IsFlowSuppressed()
    finally:
        afc.Undo()


def test_thread_ending_while_suppressed_gives_back_its_count() -> None:
    kept: list[AsyncFlowControl] = []
    on_thread(lambda: kept.append(ExecutionContext.SuppressFlow()))
    deadline = time.monotonic() + WAIT
    while ec_module._suppressing_threads:
        assert time.monotonic() < deadline
        gc.collect()
        time.sleep(0.001)
    with pytest.raises(InvalidOperationException):
        kept[0].Undo()


def test_execution_context_is_static_only() -> None:
    with pytest.raises(TypeError):
        ExecutionContext()


def test_pep8_aliases() -> None:
    assert ExecutionContext.SuppressFlow is ExecutionContext.suppress_flow
    assert ExecutionContext.RestoreFlow is ExecutionContext.restore_flow
    assert ExecutionContext.IsFlowSuppressed is ExecutionContext.is_flow_suppressed
    assert ExecutionContext.Capture is ExecutionContext.capture
    afc = ExecutionContext.suppress_flow()
    assert afc.Undo == afc.undo and afc.Dispose == afc.dispose
    afc.undo()
    assert not ExecutionContext.is_flow_suppressed()
