"""Helpers shared by the tests of the client classes (TcpClient, TcpListener, UdpClient, NetworkStream)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from conftest import WAIT
from dotnet_sockets import SelectMode

WAIT_MS = int(WAIT * 1000)


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    """Run ``coro`` in a fresh event loop, for at most WAIT seconds."""

    async def bounded() -> Any:
        return await asyncio.wait_for(coro, WAIT)

    return asyncio.run(bounded())


def param_of(exc_type: type[BaseException], call: Callable[[], Any]) -> str | None:
    """The ``ParamName`` of the ``exc_type`` that ``call`` raises (None when it has none)."""
    with pytest.raises(exc_type) as ei:
        call()
    return getattr(ei.value, "ParamName", None)


def pending_connection(listener: Any) -> Any:
    """``listener`` (a TcpListener), once a connection waits for it: accepting then cannot hang.

    Fails the test if none arrives within WAIT seconds.
    """
    assert listener.Server.Poll(int(WAIT * 1_000_000), SelectMode.SelectRead), "no connection to accept"
    return listener
