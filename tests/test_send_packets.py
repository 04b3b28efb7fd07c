"""``SendPacketsAsync`` and ``SendPacketsElement``, ported from dotnet/runtime's
``SendPacketsAsync.cs`` and ``SendPacketsElementTest.cs``.

The peer reads with the library's own ``Receive`` on the accepted socket; every
wait is bounded by ``WAIT``.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import pytest

from conftest import FAMILIES, WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    NotSupportedException,
    ObjectDisposedException,
    SendPacketsElement,
    Socket,
    SocketAsyncEventArgs,
    SocketAsyncOperation,
    SocketError,
    SocketException,
    TransmitFileOptions,
)
from socket_helpers import Made, pending, receive_exactly

FILE_SIZE = 1024
CONTENT = bytes(i % 255 for i in range(FILE_SIZE))



@pytest.fixture
def test_file(tmp_path: Path) -> str:
    path = tmp_path / "packets.bin"
    path.write_bytes(CONTENT)
    return str(path)


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def expected_content(*elements: SendPacketsElement) -> bytes:
    """What a send of ``elements`` puts on the wire, read straight from the buffers and files."""
    out = bytearray()
    for el in elements:
        if el.MemoryBuffer is not None:
            out += bytes(el.MemoryBuffer)
            continue
        if el.FilePath is not None:
            data = Path(el.FilePath).read_bytes()
        else:
            data = Path(el.FileStream.name).read_bytes()
        count = el.Count or len(data) - el.OffsetLong
        out += data[el.OffsetLong : el.OffsetLong + count]
    return bytes(out)


def send_packets(
    made: Made,
    elements: Any,
    expected_error: SocketError = SocketError.Success,
    expected_bytes: int = 0,
    content: bytes | None = None,
    flags: TransmitFileOptions = TransmitFileOptions.UseDefaultWorkerThread,
    af: AddressFamily = AddressFamily.InterNetwork,
) -> tuple[Socket, Socket]:
    client, server = made.pair(af)
    server.ReceiveTimeout = int(WAIT * 1000)
    e = SocketAsyncEventArgs()
    done = threading.Event()
    e.Completed += lambda sender, args: done.set()
    e.SendPacketsElements = elements
    e.SendPacketsFlags = flags
    assert client.SendPacketsAsync(e)  # always pending on Linux, as in .NET
    assert done.wait(WAIT), "timed out"
    assert e.LastOperation == SocketAsyncOperation.SendPackets
    assert e.SocketError == expected_error
    assert e.BytesTransferred == expected_bytes
    if content is not None:
        assert receive_exactly(server, len(content)) == content
    return client, server


# -- basic arguments ----------------------------------------------------------------------------
def test_disposed_throws(made: Made) -> None:
    client, _ = made.pair()
    client.Dispose()
    with pytest.raises(ObjectDisposedException):
        client.SendPacketsAsync(SocketAsyncEventArgs())


def test_null_args_throw(made: Made) -> None:
    client, _ = made.pair()
    with pytest.raises(ArgumentNullException) as ei:
        client.SendPacketsAsync(None)  # type: ignore[arg-type]
    assert ei.value.ParamName == "e"


def test_not_connected_throws(made: Made) -> None:
    s = made.tcp()
    e = SocketAsyncEventArgs()
    e.SendPacketsElements = []
    with pytest.raises(NotSupportedException):
        s.SendPacketsAsync(e)


def test_null_list_throws(made: Made) -> None:
    client, _ = made.pair()
    with pytest.raises(ArgumentException) as ei:
        client.SendPacketsAsync(SocketAsyncEventArgs())
    assert ei.value.ParamName == "e"


def test_null_element_and_empty_list_send_nothing(made: Made) -> None:
    send_packets(made, [None], expected_bytes=0)
    send_packets(made, [], expected_bytes=0)


def test_default_send_size_is_zero_and_settable() -> None:
    e = SocketAsyncEventArgs()
    assert e.SendPacketsSendSize == 0
    e.SendPacketsSendSize = 4096
    assert e.send_packets_send_size == 4096
    assert e.SendPacketsFlags == TransmitFileOptions.UseDefaultWorkerThread
    with pytest.raises(ArgumentException):
        e.SendPacketsElements = [b"not an element"]
    with pytest.raises(ArgumentException):
        e.SendPacketsElements = SendPacketsElement(b"x")


# -- buffers -------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind", [bytes, bytearray, memoryview])
def test_buffers(made: Made, kind: Any) -> None:
    data = kind(bytes(range(10)))
    send_packets(made, [SendPacketsElement(data)], expected_bytes=10, content=bytes(range(10)))
    send_packets(made, [SendPacketsElement(data, 5, 5)], expected_bytes=5, content=bytes(range(5, 10)))
    send_packets(made, [SendPacketsElement(kind(b""))], expected_bytes=0)
    send_packets(made, [SendPacketsElement(data, 4, 0)], expected_bytes=0)


def test_mixed_buffers_skip_the_empty_one(made: Made) -> None:
    data = bytes(range(10))
    elements = [SendPacketsElement(data, 4, 0), SendPacketsElement(data, 4, 4), SendPacketsElement(data, 0, 4)]
    send_packets(made, elements, expected_bytes=8, content=data[4:8] + data[0:4])


def test_zero_count_then_normal_on_one_args_object(made: Made) -> None:
    client, server = made.pair()
    e = SocketAsyncEventArgs()
    done = threading.Event()
    e.Completed += lambda sender, args: done.set()
    e.SendPacketsElements = [SendPacketsElement(bytes(5), 3, 0)]
    assert client.SendPacketsAsync(e) and done.wait(WAIT)
    assert (e.SocketError, e.BytesTransferred) == (SocketError.Success, 0)
    done.clear()
    e.SendPacketsElements = [SendPacketsElement(b"abcde", 1, 4)]
    assert client.SendPacketsAsync(e) and done.wait(WAIT)
    assert (e.SocketError, e.BytesTransferred) == (SocketError.Success, 4)
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, 4) == b"bcde"


def test_args_in_use_throws(made: Made) -> None:
    client, server = made.pair()
    e = SocketAsyncEventArgs()
    done = threading.Event()

    def completed(sender: Any, args: Any) -> None:
        done.set()

    e.Completed += completed
    big = bytes(8 << 20)  # more than the socket buffers take: the send waits for the reader
    e.SendPacketsElements = [SendPacketsElement(big)]
    assert client.SendPacketsAsync(e)
    if not done.is_set():
        with pytest.raises(InvalidOperationException):
            client.SendPacketsAsync(e)
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, len(big)) == big
    assert done.wait(WAIT) and e.BytesTransferred == len(big)


# -- TransmitFileOptions --------------------------------------------------------------------------
def test_disconnect_option_disconnects_after_the_send(made: Made) -> None:
    client, server = send_packets(
        made, [SendPacketsElement(bytes(10), 4, 4)], expected_bytes=4, flags=TransmitFileOptions.Disconnect
    )
    assert not client.Connected
    with pytest.raises(SocketException):
        client.Send(b"\x01")
    assert receive_exactly(server, 4) == bytes(4)


def test_reuse_socket_option_disconnects_and_lets_it_connect_again(made: Made) -> None:
    client, _ = send_packets(
        made,
        [SendPacketsElement(bytes(10), 4, 4)],
        expected_bytes=4,
        flags=TransmitFileOptions.Disconnect | TransmitFileOptions.ReuseSocket,
    )
    assert not client.Connected
    listener = made.listener()
    ar = client.BeginConnect(listener.LocalEndPoint, None, None)
    assert ar.AsyncWaitHandle.WaitOne(int(WAIT * 1000))
    client.EndConnect(ar)
    assert client.Connected


# -- files ---------------------------------------------------------------------------------------
def test_empty_file_name_throws_argument_exception_path(made: Made) -> None:
    with pytest.raises(ArgumentException) as ei:
        send_packets(made, [SendPacketsElement("")])
    assert ei.value.ParamName == "path"


def test_missing_file_or_directory_throws_from_the_call(made: Made, tmp_path: Path) -> None:
    for path in (str(tmp_path / "nodir" / "nofile"), str(tmp_path / "DoesntExist")):
        client, _ = made.pair()
        e = SocketAsyncEventArgs()
        e.SendPacketsElements = [SendPacketsElement(path)]
        before = _open_fds()
        with pytest.raises(FileNotFoundError):
            client.SendPacketsAsync(e)
        assert _open_fds() == before
        # The args object is free again.
        e.SendPacketsElements = [SendPacketsElement(b"ok")]


def test_files(made: Made, test_file: str) -> None:
    send_packets(made, [SendPacketsElement(test_file)], expected_bytes=FILE_SIZE, content=CONTENT)
    send_packets(made, [SendPacketsElement(test_file, 0, 0)], expected_bytes=FILE_SIZE, content=CONTENT)
    send_packets(made, [SendPacketsElement(test_file, 10, 20)], expected_bytes=20, content=CONTENT[10:30])
    elements = [
        SendPacketsElement(test_file, 10, 20),
        SendPacketsElement(test_file, 30, 10),
        SendPacketsElement(test_file, 0, 10),
    ]
    send_packets(made, elements, expected_bytes=40, content=expected_content(*elements))
    assert SendPacketsElement(Path(test_file)).FilePath == test_file  # os.PathLike is a path too


def test_file_range_past_the_end_is_invalid_argument_and_sends_nothing(made: Made, test_file: str) -> None:
    before = _open_fds()
    send_packets(made, [SendPacketsElement(test_file, 11000, 1)], SocketError.InvalidArgument, 0)
    send_packets(made, [SendPacketsElement(test_file, 5, 10000)], SocketError.InvalidArgument, 0)
    send_packets(made, [SendPacketsElement(test_file, (1 << 32) + 11000, 1)], SocketError.InvalidArgument, 0)
    made.dispose_all()
    made.sockets.clear()
    assert _open_fds() == before  # the files the sends opened are closed again


def test_files_opened_by_a_failed_send_are_released(made: Made, test_file: str) -> None:
    client, server = made.pair()
    before = _open_fds()
    good, bad = SocketAsyncEventArgs(), SocketAsyncEventArgs()
    events = [threading.Event(), threading.Event()]
    good.Completed += lambda s, a: events[0].set()
    bad.Completed += lambda s, a: events[1].set()
    good.SendPacketsElements = [SendPacketsElement(test_file, 0, 0)]
    bad.SendPacketsElements = [SendPacketsElement(test_file, 50_000, 10)]
    assert client.SendPacketsAsync(good)
    assert client.SendPacketsAsync(bad)
    assert events[0].wait(WAIT) and events[1].wait(WAIT)
    assert good.SocketError == SocketError.Success and bad.SocketError == SocketError.InvalidArgument
    assert _open_fds() == before
    server.ReceiveTimeout = int(WAIT * 1000)
    assert receive_exactly(server, FILE_SIZE) == CONTENT


# -- file streams ----------------------------------------------------------------------------------
def test_file_stream_is_sent_from_its_offsets_and_keeps_its_position(made: Made, test_file: str) -> None:
    with open(test_file, "rb") as stream:
        stream.seek(FILE_SIZE // 2)
        for element, count in (
            (SendPacketsElement(stream), FILE_SIZE),
            (SendPacketsElement(stream, 0, 0), FILE_SIZE),
            (SendPacketsElement(stream, 0, FILE_SIZE), FILE_SIZE),
            (SendPacketsElement(stream, 10, 20), 20),
            (SendPacketsElement(stream, FILE_SIZE - 20, 20), 20),
        ):
            send_packets(made, [element], expected_bytes=count, content=expected_content(element))
            assert stream.tell() == FILE_SIZE // 2
        assert SendPacketsElement(stream).FileStream is stream
    with open(test_file, "rb") as stream:
        send_packets(made, [SendPacketsElement(stream, (1 << 32) + 11000, 1)], SocketError.InvalidArgument, 0)
        send_packets(made, [SendPacketsElement(stream, 5, 10000)], SocketError.InvalidArgument, 0)


@pytest.mark.parametrize("af", FAMILIES)
def test_mixed_buffers_paths_and_streams(made: Made, test_file: str, af: AddressFamily) -> None:
    with open(test_file, "rb") as stream, open(test_file, "rb") as stream2:
        elements = [
            SendPacketsElement(memoryview(bytes([11, 12, 13]))),
            SendPacketsElement(bytes([5, 6, 7]), 0, 0),
            SendPacketsElement(stream, FILE_SIZE - 10, 10),
            SendPacketsElement(stream2, FILE_SIZE - 100, 10),
            SendPacketsElement(test_file, 0, 10),
            SendPacketsElement(bytes([8, 9, 10]), 0, 1),
            SendPacketsElement(stream, 0, 0),
            SendPacketsElement(test_file, 30, 10),
        ]
        expected = expected_content(*elements)
        send_packets(made, elements, expected_bytes=len(expected), content=expected, af=af)


def test_close_during_a_pending_send_completes_it_aborted(made: Made, test_file: str) -> None:
    client, _server = made.pair()
    e = SocketAsyncEventArgs()
    done = threading.Event()
    e.Completed += lambda s, a: done.set()
    e.SendPacketsElements = [SendPacketsElement(bytes(16 << 20)), SendPacketsElement(test_file)]
    before = _open_fds()
    assert client.SendPacketsAsync(e)
    assert pending(client)  # the peer never reads: the send waits in the queue
    client.Close()
    assert done.wait(WAIT)
    assert e.SocketError == SocketError.OperationAborted
    assert _open_fds() < before  # the client's descriptor and the file are both closed


# -- SendPacketsElement itself --------------------------------------------------------------------
def test_element_buffer_forms() -> None:
    el = SendPacketsElement(bytes(10))
    assert (len(el.Buffer), el.Offset, el.OffsetLong, el.Count, el.EndOfPacket) == (10, 0, 0, 10, False)
    assert len(el.MemoryBuffer) == 10 and el.FilePath is None and el.FileStream is None
    el = SendPacketsElement(bytes(10), 2, 8, True)
    assert (el.Offset, el.Count, el.EndOfPacket, len(el.MemoryBuffer)) == (2, 8, True, 8)
    el = SendPacketsElement(bytes(0))
    assert el.Count == 0 and el.MemoryBuffer is not None and len(el.MemoryBuffer) == 0
    # A bare memoryview is .NET's ReadOnlyMemory<byte> form: no array, offset 0.
    el = SendPacketsElement(memoryview(bytes(10))[2:], True)
    assert el.Buffer is None and el.Offset == 0 and el.Count == 8 and el.EndOfPacket
    assert SendPacketsElement.memory_buffer is SendPacketsElement.MemoryBuffer


@pytest.mark.parametrize(
    ("offset", "count", "param"), [(-1, 11, "offset"), (0, -1, "count"), (11, 1, "offset"), (5, 10, "count")]
)
def test_element_buffer_range_is_checked(offset: int, count: int, param: str) -> None:
    with pytest.raises(ArgumentOutOfRangeException) as ei:
        SendPacketsElement(bytes(10), offset, count)
    assert ei.value.ParamName == param


def test_element_nulls_name_their_parameter() -> None:
    cases: list[tuple[dict[str, Any], str]] = [
        ({}, "buffer"),
        ({"buffer": None}, "buffer"),
        ({"filepath": None}, "filepath"),
        ({"file_stream": None}, "fileStream"),
    ]
    for kwargs, param in cases:
        with pytest.raises(ArgumentNullException) as ei:
            SendPacketsElement(**kwargs)
        assert ei.value.ParamName == param
    with pytest.raises(ArgumentNullException):
        SendPacketsElement(None, 0, 0, True)
    with pytest.raises(ArgumentException):
        SendPacketsElement(12345)  # neither a buffer, a path nor a file


def test_element_file_forms() -> None:
    for name in ("", "   \t ", "SomeFileName"):
        el = SendPacketsElement(name)
        assert (el.FilePath, el.Offset, el.Count, el.Buffer, el.MemoryBuffer) == (name, 0, 0, None, None)
    el = SendPacketsElement("SomeFileName", 2, 8, True)
    assert (el.Offset, el.Count, el.EndOfPacket) == (2, 8, True)
    el = SendPacketsElement("SomeFileName", 1 << 33, 8)
    assert el.OffsetLong == 1 << 33
    with pytest.raises(OverflowError):
        el.Offset  # noqa: B018 - does not fit .NET's int
    for offset, count in ((-1, 11), (0, -1)):
        with pytest.raises(ArgumentOutOfRangeException):
            SendPacketsElement("SomeFileName", offset, count)
