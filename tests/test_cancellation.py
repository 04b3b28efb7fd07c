"""CancellationTokenSource / CancellationToken / registrations, and the one awaitable wrapper."""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import threading

import pytest

from dotnet_sockets import (
    AggregateException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    CancellationToken,
    CancellationTokenRegistration,
    CancellationTokenSource,
    ObjectDisposedException,
    OperationCanceledException,
    TaskCanceledException,
)
from dotnet_sockets.cancellation import await_cancellable

WAIT = 5.0


def test_none_token_can_never_be_cancelled() -> None:
    token = CancellationToken.None_
    assert not token.CanBeCanceled and not token.IsCancellationRequested
    token.ThrowIfCancellationRequested()
    assert CancellationToken() == token and hash(CancellationToken()) == hash(token)
    fired: list[int] = []
    with token.Register(lambda: fired.append(1)) as reg:
        assert reg.Token == token
        assert not reg.Unregister()
    assert fired == []


def test_canceled_constructor_and_throw() -> None:
    token = CancellationToken(True)
    assert token.IsCancellationRequested and token.CanBeCanceled
    with pytest.raises(OperationCanceledException) as info:
        token.ThrowIfCancellationRequested()
    assert info.value.CancellationToken == token
    assert info.value.Message == "The operation was canceled."


def test_tokens_of_one_source_are_equal() -> None:
    cts = CancellationTokenSource()
    assert cts.Token == cts.Token and cts.Token.Equals(cts.token)
    assert hash(cts.Token) == cts.Token.GetHashCode()
    assert cts.Token != CancellationTokenSource().Token
    assert cts.Token != CancellationToken.None_


def test_cancel_runs_callbacks_newest_first_once_with_state() -> None:
    cts = CancellationTokenSource()
    order: list[object] = []
    cts.Token.Register(lambda: order.append("first"))
    cts.Token.Register(order.append, "second")
    cts.Cancel()
    cts.Cancel()
    assert order == ["second", "first"]
    assert cts.IsCancellationRequested and cts.Token.IsCancellationRequested


def test_register_on_cancelled_token_runs_at_once() -> None:
    cts = CancellationTokenSource()
    cts.Cancel()
    ran: list[int] = []
    reg = cts.Token.Register(lambda: ran.append(1))
    assert ran == [1]
    assert not reg.Unregister()


def test_register_captures_context_and_rejects_none() -> None:
    var: contextvars.ContextVar[str] = contextvars.ContextVar("var", default="outer")
    cts = CancellationTokenSource()
    seen: list[str] = []
    var.set("registered")
    cts.Token.Register(lambda: seen.append(var.get()))
    cts.Token.UnsafeRegister(lambda: seen.append(var.get()))
    ctx = contextvars.Context()
    ctx.run(cts.Cancel)
    assert seen == ["outer", "registered"]
    with pytest.raises(ArgumentNullException) as info:
        cts.Token.Register(None)  # type: ignore[arg-type]
    assert info.value.ParamName == "callback"


def test_unregister_and_dispose_registration() -> None:
    cts = CancellationTokenSource()
    ran: list[int] = []
    reg = cts.Token.Register(lambda: ran.append(1))
    assert reg.Unregister()
    assert not reg.Unregister()
    with cts.Token.Register(lambda: ran.append(2)):
        pass
    cts.Cancel()
    assert ran == []


def test_exceptions_of_callbacks_are_aggregated_or_thrown_first() -> None:
    cts = CancellationTokenSource()
    ran: list[int] = []
    cts.Token.Register(lambda: ran.append(1))
    cts.Token.Register(lambda: 1 / 0)
    with pytest.raises(AggregateException) as info:
        cts.Cancel()
    assert ran == [1]
    assert isinstance(info.value.InnerExceptions[0], ZeroDivisionError)

    cts2 = CancellationTokenSource()
    cts2.Token.Register(lambda: ran.append(2))
    cts2.Token.Register(lambda: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        cts2.Cancel(True)
    assert ran == [1]


def test_cancel_after_fires_and_can_be_stopped() -> None:
    fired = threading.Event()
    cts = CancellationTokenSource()
    cts.Token.Register(fired.set)
    cts.CancelAfter(datetime.timedelta(milliseconds=10))
    assert fired.wait(WAIT)
    assert cts.IsCancellationRequested

    later = CancellationTokenSource(60_000)
    later.CancelAfter(-1)
    quick = CancellationTokenSource(10)
    done = threading.Event()
    quick.Token.Register(done.set)
    assert done.wait(WAIT)
    # The 10 ms timer came due after the stopped 60 s one was scheduled: had the stop been ignored, it would
    # still be far off, so this only checks that a stopped timer does not fire early.
    assert not later.IsCancellationRequested
    later.CancelAfter(0)
    assert later.IsCancellationRequested


def test_cancel_after_replaces_earlier_timer() -> None:
    cts = CancellationTokenSource(10)
    cts.CancelAfter(60_000)
    marker = CancellationTokenSource(50)
    done = threading.Event()
    marker.Token.Register(done.set)
    assert done.wait(WAIT)
    assert not cts.IsCancellationRequested


def test_bad_delays() -> None:
    with pytest.raises(ArgumentOutOfRangeException) as info:
        CancellationTokenSource(-2)
    assert info.value.ParamName == "millisecondsDelay"
    with pytest.raises(ArgumentOutOfRangeException) as info:
        CancellationTokenSource().CancelAfter(datetime.timedelta(milliseconds=-5))
    assert info.value.ParamName == "delay"
    with pytest.raises(TypeError):
        CancellationTokenSource(1.5)  # type: ignore[arg-type]


def test_dispose() -> None:
    cts = CancellationTokenSource()
    token = cts.Token
    with cts:
        pass
    with pytest.raises(ObjectDisposedException):
        cts.Cancel()
    with pytest.raises(ObjectDisposedException):
        _ = cts.Token
    assert not token.IsCancellationRequested


def test_try_reset() -> None:
    cts = CancellationTokenSource()
    ran: list[int] = []
    cts.Token.Register(lambda: ran.append(1))
    assert cts.TryReset()
    cts.Cancel()
    assert ran == [] and not cts.TryReset()


def test_linked_source() -> None:
    a, b = CancellationTokenSource(), CancellationTokenSource()
    linked = CancellationTokenSource.CreateLinkedTokenSource(a.Token, b.Token)
    assert not linked.IsCancellationRequested
    b.Cancel()
    assert linked.IsCancellationRequested and not a.IsCancellationRequested
    from_list = CancellationTokenSource.CreateLinkedTokenSource([a.Token, CancellationToken.None_])
    a.Cancel()
    assert from_list.IsCancellationRequested


def test_wait_handle_is_set_on_cancel() -> None:
    cts = CancellationTokenSource()
    handle = cts.Token.WaitHandle
    assert not handle.WaitOne(0)
    cts.Cancel()
    assert handle.WaitOne(0)


def test_task_canceled_is_operation_canceled() -> None:
    assert issubclass(TaskCanceledException, OperationCanceledException)
    assert not issubclass(OperationCanceledException, asyncio.CancelledError)


# -- await_cancellable ---------------------------------------------------------------------------


def test_await_cancellable_returns_result_and_no_token_is_free() -> None:
    async def main() -> tuple[int, int]:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        loop.call_soon(fut.set_result, 7)
        cts = CancellationTokenSource()
        first = await await_cancellable(fut, cts.Token)
        return first, await await_cancellable(asyncio.sleep(0, 8), CancellationToken.None_)

    assert asyncio.run(asyncio.wait_for(main(), WAIT)) == (7, 8)


def test_await_cancellable_token_from_another_thread() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        cts = CancellationTokenSource()
        threading.Timer(0.01, cts.Cancel).start()
        with pytest.raises(OperationCanceledException) as info:
            await await_cancellable(fut, cts.Token)
        assert info.value.CancellationToken == cts.Token
        assert fut.cancelled()
        # The task itself is not left cancelling: later awaits work.
        assert asyncio.current_task().cancelling() == 0  # type: ignore[union-attr]
        await asyncio.sleep(0)

    asyncio.run(asyncio.wait_for(main(), WAIT))


def test_await_cancellable_already_cancelled_closes_the_coroutine() -> None:
    started: list[int] = []

    async def op() -> int:
        started.append(1)
        return 1

    async def main() -> None:
        with pytest.raises(OperationCanceledException):
            await await_cancellable(op(), CancellationToken(True))

    asyncio.run(asyncio.wait_for(main(), WAIT))
    assert started == []


def test_task_cancel_keeps_its_asyncio_meaning() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        cts = CancellationTokenSource()
        task = asyncio.ensure_future(await_cancellable(fut, cts.Token))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The registration went away with the await.
        cts.Cancel()

    asyncio.run(asyncio.wait_for(main(), WAIT))


def test_cancel_after_completion_does_not_cancel_later_awaits() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[int] = loop.create_future()
        fut.set_result(1)
        cts = CancellationTokenSource()
        assert await await_cancellable(fut, cts.Token) == 1
        cts.Cancel()
        await asyncio.sleep(0.01)

    asyncio.run(asyncio.wait_for(main(), WAIT))


def test_unregister_takes_no_lock_so_a_finalizer_cannot_deadlock() -> None:
    """A collected ``await_cancellable`` unregisters in its ``finally``, on whatever thread collects it,
    which may be inside the source's own lock: unregistering must not wait for that lock."""
    cts = CancellationTokenSource()
    reg = cts.Token.Register(lambda: None)
    done = threading.Event()
    result: list[bool] = []

    def under_the_lock() -> None:
        with cts._lock:
            result.append(reg.Unregister())
        done.set()

    worker = threading.Thread(target=under_the_lock, daemon=True)
    worker.start()
    assert done.wait(WAIT), "Unregister blocked on the source's lock"
    assert result == [True]


def test_registrations_dropped_by_unregister_do_not_pile_up() -> None:
    cts = CancellationTokenSource()
    for _ in range(10_000):
        cts.Token.Register(lambda: None).Dispose()
    assert len(cts._callbacks) <= 32
    ran: list[int] = []
    cts.Token.Register(lambda: ran.append(1))
    cts.Cancel()
    assert ran == [1]


def _unregister_all(regs: list[CancellationTokenRegistration], out: list[bool]) -> None:
    out.extend(r.Unregister() for r in regs)


def test_cancel_and_unregister_racing_run_each_callback_at_most_once() -> None:
    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(200):
            cts = CancellationTokenSource()
            ran: list[int] = []
            regs = [cts.Token.Register(ran.append, i) for i in range(8)]
            unregistered: list[bool] = []
            t = threading.Thread(target=_unregister_all, args=(regs, unregistered))
            t.start()
            cts.Cancel()
            t.join(WAIT)
            assert not t.is_alive()
            # Each callback either ran or was unregistered, never both, never neither.
            assert len(ran) == len(set(ran))
            assert sorted(ran + [i for i, ok in enumerate(unregistered) if ok]) == list(range(8))
    finally:
        sys.setswitchinterval(old)


def test_await_cancellable_future_with_a_token_cancelled_before_the_await() -> None:
    """The token may be cancelled (by another thread) before the await begins: the future is
    cancelled as it is when the token fires during the await."""

    async def main() -> None:
        fut: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        with pytest.raises(OperationCanceledException):
            await await_cancellable(fut, CancellationToken(True))
        assert fut.cancelled()

    asyncio.run(asyncio.wait_for(main(), WAIT))
