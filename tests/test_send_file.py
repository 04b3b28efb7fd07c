"""``SendFile`` in every model that has it, ported from dotnet/runtime's ``SendFile.cs``.

The models: the synchronous call, ``BeginSendFile``/``EndSendFile`` and the
awaitable ``SendFileAsync`` (the event-based model is ``SendPacketsAsync``,
tested in ``test_send_packets.py``).  A reader thread drains the peer, so a
file larger than the socket buffers exercises the wait-for-room path.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import FAMILIES, WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    NotSupportedException,
    ObjectDisposedException,
    PlatformNotSupportedException,
    Socket,
    SocketError,
    SocketException,
    SocketShutdown,
    TransmitFileOptions,
)
from socket_helpers import Made, pending, receive_exactly

SendFile = Callable[..., None]
_NO: Any = object()


def _sync(s: Socket, name: Any, pre: Any = _NO, post: Any = None, flags: Any = 0) -> None:
    if pre is _NO:
        s.SendFile(name)
    else:
        s.SendFile(name, pre, post, flags)


def _apm(s: Socket, name: Any, pre: Any = _NO, post: Any = None, flags: Any = 0) -> None:
    done = threading.Event()
    if pre is _NO:
        ar = s.BeginSendFile(name, lambda ar: done.set(), None)
    else:
        ar = s.BeginSendFile(name, pre, post, flags, lambda ar: done.set(), "state")
        assert ar.AsyncState == "state"
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    s.EndSendFile(ar)
    assert done.wait(WAIT)  # the callback runs once the send is complete


def _task(s: Socket, name: Any, pre: Any = _NO, post: Any = None, flags: Any = 0) -> None:
    async def main() -> None:
        if pre is _NO:
            await asyncio.wait_for(s.SendFileAsync(name), WAIT)
        else:
            await asyncio.wait_for(s.SendFileAsync(name, pre, post, flags), WAIT)

    asyncio.run(main())


MODELS: dict[str, SendFile] = {"sync": _sync, "apm": _apm, "asyncio": _task}


@pytest.fixture(params=list(MODELS))
def send_file(request: pytest.FixtureRequest) -> SendFile:
    return MODELS[request.param]



def _make_file(tmp_path: Path, size: int, seed: int = 0) -> tuple[str, bytes]:
    data = random.Random(seed).randbytes(size)
    path = tmp_path / f"file{size}.bin"
    path.write_bytes(data)
    return str(path), data


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


class Reader:
    """Drains the peer on a thread until it sees the end of the stream (bounded by WAIT)."""

    def __init__(self, s: Socket) -> None:
        self.data = bytearray()
        self.error: BaseException | None = None
        s.ReceiveTimeout = int(WAIT * 1000)
        self._s = s
        self._t = threading.Thread(target=self._run)
        self._t.start()

    def _run(self) -> None:
        buf = bytearray(65536)
        try:
            for _ in range(100_000):
                n = self._s.Receive(buf)
                if n == 0:
                    return
                self.data += buf[:n]
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc

    def result(self) -> bytes:
        self._t.join(WAIT)
        assert not self._t.is_alive(), "reader did not finish"
        return bytes(self.data)


def test_disposed_throws(made: Made, send_file: SendFile) -> None:
    s = made.tcp()
    s.Dispose()
    with pytest.raises(ObjectDisposedException):
        send_file(s, None)
    with pytest.raises(ObjectDisposedException):
        send_file(s, None, None, None, TransmitFileOptions.UseDefaultWorkerThread)


def test_not_connected_throws_not_supported(made: Made, send_file: SendFile) -> None:
    s = made.tcp()
    with pytest.raises(NotSupportedException):
        send_file(s, None)
    with pytest.raises(NotSupportedException):
        send_file(s, None, None, None, TransmitFileOptions.UseDefaultWorkerThread)


@pytest.mark.parametrize("with_buffers", [False, True])
def test_file_does_not_exist(made: Made, send_file: SendFile, tmp_path: Path, with_buffers: bool) -> None:
    client, server = made.pair()
    missing = str(tmp_path / "does-not-exist")
    before = _open_fds()
    with pytest.raises(FileNotFoundError):
        if with_buffers:
            send_file(client, missing, b"pre", None, 0)
        else:
            send_file(client, missing)
    assert _open_fds() == before
    assert client.Available == 0 and server.Available == 0  # the pre-buffer was not sent either


@pytest.mark.parametrize("af", FAMILIES)
@pytest.mark.parametrize("pre_and_post", [False, True])
@pytest.mark.parametrize("size", [512, 1024, 3 << 20])
def test_include_file(
    made: Made, send_file: SendFile, tmp_path: Path, af: AddressFamily, pre_and_post: bool, size: int
) -> None:
    """IncludeFile_Success: the bytes arrive in order, pre-buffer, file, post-buffer."""
    path, data = _make_file(tmp_path, size)
    client, server = made.pair(af)
    reader = Reader(server)
    before = _open_fds()
    if pre_and_post:
        pre, post = os.urandom(256), os.urandom(256)
        send_file(client, path, pre, post, TransmitFileOptions.UseDefaultWorkerThread)
        expected = pre + data + post
    else:
        send_file(client, path)
        expected = data
    assert _open_fds() == before  # the file is closed again
    client.Shutdown(SocketShutdown.Send)
    assert reader.result() == expected and reader.error is None


@pytest.mark.parametrize(("use_pre", "use_post"), [(False, False), (False, True), (True, False), (True, True)])
def test_no_file(made: Made, send_file: SendFile, use_pre: bool, use_post: bool) -> None:
    client, server = made.pair()
    send_file(server, None)
    assert client.Available == 0
    pre = b"\x01" if use_pre else None
    post = b"\x02" if use_post else None
    send_file(server, None, pre, post, TransmitFileOptions.UseDefaultWorkerThread)
    expected = (pre or b"") + (post or b"")
    client.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(client, len(expected)) == expected
    assert client.Available == 0


def test_slice_buffers(made: Made, send_file: SendFile) -> None:
    rnd = random.Random(0)
    pre_backing, post_backing = bytearray(rnd.randbytes(100)), bytearray(rnd.randbytes(100))
    pre, post = memoryview(pre_backing)[25:75], memoryview(post_backing)[25:75]
    client, server = made.pair()
    send_file(client, None, pre, post, TransmitFileOptions.UseDefaultWorkerThread)
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, 100) == bytes(pre) + bytes(post)


def test_sync_send_file_refuses_every_transmit_option(made: Made, tmp_path: Path) -> None:
    path, _ = _make_file(tmp_path, 16)
    client, _server = made.pair()
    for flags in (TransmitFileOptions.Disconnect, TransmitFileOptions.ReuseSocket, TransmitFileOptions.WriteBehind):
        with pytest.raises(PlatformNotSupportedException):
            client.SendFile(path, None, None, flags)
    assert client.Connected and client.Available == 0


@pytest.mark.parametrize("model", ["apm", "asyncio"])
def test_async_forms_honour_disconnect(made: Made, tmp_path: Path, model: str) -> None:
    path, data = _make_file(tmp_path, 2048)
    client, server = made.pair()
    reader = Reader(server)
    MODELS[model](client, path, None, None, TransmitFileOptions.Disconnect)
    assert not client.Connected
    assert reader.result() == data
    with pytest.raises(SocketException):
        client.Send(b"x")


@pytest.mark.parametrize("model", ["apm", "asyncio"])
def test_async_forms_fail_on_a_datagram_socket_with_not_connected(made: Made, tmp_path: Path, model: str) -> None:
    path, _ = _make_file(tmp_path, 16)
    receiver = made.udp()
    client = made.udp()
    client.Connect(receiver.LocalEndPoint)
    with pytest.raises(SocketException) as ei:
        MODELS[model](client, path)
    assert ei.value.SocketErrorCode == SocketError.NotConnected


def test_sync_send_file_on_a_connected_datagram_socket_sends_datagrams(made: Made, tmp_path: Path) -> None:
    path, data = _make_file(tmp_path, 100)
    receiver = made.udp()
    receiver.ReceiveTimeout = int(WAIT * 1000)
    client = made.udp()
    client.Connect(receiver.LocalEndPoint)
    client.SendFile(path)
    buf = bytearray(200)
    assert receiver.Receive(buf) == 100 and bytes(buf[:100]) == data


def test_bad_arguments(made: Made, tmp_path: Path) -> None:
    client, _server = made.pair()
    with pytest.raises(ArgumentException) as ei:
        client.SendFile(None, "text is not a buffer", None, 0)
    assert ei.value.ParamName == "preBuffer"
    with pytest.raises(ArgumentException) as ei2:
        client.BeginSendFile(None, None, 42, 0, None, None)
    assert ei2.value.ParamName == "postBuffer"
    with pytest.raises(ArgumentException):
        client.BeginSendFile(None, "not callable")
    with pytest.raises(TypeError):
        client.BeginSendFile(None, None, None, 0, None, None, "extra")
    with pytest.raises(ArgumentException):
        client.EndSendFile(client.BeginSend(b"x", 0, 1, 0, None, None))


def test_begin_send_file_short_form_passes_callback_and_state(made: Made, tmp_path: Path, recorder: Any) -> None:
    path, data = _make_file(tmp_path, 64)
    client, server = made.pair()
    rec = recorder()
    ar = client.BeginSendFile(path, rec, "s")
    assert rec.wait() and rec.calls == [ar] and ar.AsyncState == "s"
    client.EndSendFile(ar)
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, 64) == data


@pytest.mark.parametrize("model", ["sync", "apm"])
def test_dispose_cancels_a_blocked_send_file(made: Made, tmp_path: Path, model: str) -> None:
    """SendFileGetsCanceledByDispose: the peer does not read, so the send waits; Close ends it."""
    path, _ = _make_file(tmp_path, 24 << 20)
    client, _server = made.pair()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            MODELS[model](client, path)
        except BaseException as exc:  # noqa: BLE001 - checked below
            errors.append(exc)

    before = _open_fds()
    t = threading.Thread(target=run)
    t.start()
    assert pending(client)
    client.Dispose()
    t.join(WAIT)
    assert not t.is_alive()
    assert len(errors) == 1 and isinstance(errors[0], SocketException)
    expected = SocketError.ConnectionAborted if model == "sync" else SocketError.OperationAborted
    assert errors[0].SocketErrorCode == expected
    assert _open_fds() < before


def test_cancelled_await_closes_the_file(made: Made, tmp_path: Path) -> None:
    path, _ = _make_file(tmp_path, 24 << 20)
    client, _server = made.pair()
    before = _open_fds()

    async def main() -> None:
        task = asyncio.ensure_future(client.SendFileAsync(path))
        for _ in range(500):
            await asyncio.sleep(0.002)
            if client._io.pending_count():
                break
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert _open_fds() == before


def test_send_file_async_takes_a_cancellation_token(made: Made, tmp_path: Path) -> None:
    from dotnet_sockets import CancellationToken, CancellationTokenSource, OperationCanceledException

    path, data = _make_file(tmp_path, 24 << 20)
    small, small_data = _make_file(tmp_path, 100, seed=1)
    client, server = made.pair()
    cts = CancellationTokenSource()
    before = _open_fds()

    async def main() -> None:
        # A token that is never cancelled changes nothing (positional, .NET's SendFileAsync(name, token)).
        await asyncio.wait_for(client.SendFileAsync(small, CancellationToken.None_), WAIT)
        task = asyncio.ensure_future(client.SendFileAsync(path, None, None, 0, cts.Token))
        for _ in range(500):  # until the send waits for room (the peer does not read yet)
            await asyncio.sleep(0.002)
            if client._io.pending_count():
                break
        cts.Cancel()
        with pytest.raises(OperationCanceledException):
            await asyncio.wait_for(task, WAIT)

    asyncio.run(main())
    assert _open_fds() == before
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, 100) == small_data


def test_send_file_async_on_a_datagram_socket_fails_before_the_connected_check(made: Made) -> None:
    """.NET's SendFileAsync checks for a stream first: an unconnected UDP socket gets NotConnected."""
    s = made.udp()

    async def main() -> None:
        await s.SendFileAsync(None)

    with pytest.raises(SocketException) as ei:
        asyncio.run(main())
    assert ei.value.SocketErrorCode == SocketError.NotConnected
    with pytest.raises(NotSupportedException):
        s.SendFile(None)  # the synchronous form asks for a connection first, as in .NET


def test_messages_are_dotnets(made: Made) -> None:
    client, _ = made.pair()
    with pytest.raises(PlatformNotSupportedException) as ei:
        client.SendFile(None, None, None, TransmitFileOptions.Disconnect)
    assert ei.value.Message == (
        "This platform does not support TransmitFileOptions other than TransmitFileOptions.UseDefaultWorkerThread."
    )
    with pytest.raises(NotSupportedException) as ei2:
        made.tcp().SendFile(None)
    assert ei2.value.Message == "The operation is not allowed on non-connected sockets."
