"""NetworkStream: what dotnet/runtime's NetworkStreamTest.cs checks, in every model, and the ``io`` side.

Every stream here sits on a connected loopback pair of library sockets; every blocking read is
bounded by the socket's ReceiveTimeout or by asyncio.wait_for.
"""

from __future__ import annotations

import asyncio
import gc
import io
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from client_helpers import WAIT_MS, param_of, run
from conftest import WAIT
from dotnet_sockets import (
    AddressFamily,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    CancellationTokenSource,
    EndOfStreamException,
    FileAccess,
    InvalidOperationException,
    IOException,
    NetworkStream,
    NotSupportedException,
    ObjectDisposedException,
    OperationCanceledException,
    SeekOrigin,
    Socket,
    SocketError,
    SocketException,
    SocketShutdown,
)
from socket_helpers import Made, wait_until


@pytest.fixture
def pair(made: Made, af: AddressFamily) -> tuple[Socket, Socket]:
    client, server = made.pair(af)
    for s in (client, server):
        s.ReceiveTimeout = WAIT_MS
        s.SendTimeout = WAIT_MS
    return client, server


@pytest.fixture
def streams(pair: tuple[Socket, Socket]) -> Iterator[tuple[NetworkStream, NetworkStream]]:
    a, b = NetworkStream(pair[0], True), NetworkStream(pair[1], True)
    yield a, b
    a.Close()
    b.Close()


# -- construction and ownership ---------------------------------------------------------------------


def test_ctor_null_socket_every_form() -> None:
    for args in [(), (False,), (True,), (FileAccess.ReadWrite,), (FileAccess.ReadWrite, False)]:
        with pytest.raises(ArgumentNullException) as ei:
            NetworkStream(None, *args)  # type: ignore[arg-type]
        assert ei.value.ParamName == "socket"
    with pytest.raises(ArgumentException) as ei2:
        NetworkStream("not a socket")  # type: ignore[arg-type]
    assert ei2.value.ParamName == "socket"


def test_ctor_not_connected_not_stream_non_blocking(made: Made, af: AddressFamily) -> None:
    with pytest.raises(IOException):
        NetworkStream(made.tcp(af))
    receiver = made.udp(af)
    dgram = made.udp(af)
    dgram.Connect(receiver.LocalEndPoint)
    with pytest.raises(IOException):
        NetworkStream(dgram)
    _, server = made.pair(af)
    server.Blocking = False
    with pytest.raises(IOException):
        NetworkStream(server)


@pytest.mark.parametrize("access", [FileAccess.ReadWrite, FileAccess(42)])
def test_ctor_access_read_write_and_unknown_values(pair: tuple[Socket, Socket], access: FileAccess) -> None:
    client, server = pair
    for _ in range(2):  # closing a stream that does not own its socket leaves the socket usable
        with NetworkStream(server, access, False) as s, NetworkStream(client, access) as c:
            assert s.CanRead and s.CanWrite and c.CanRead and c.CanWrite
            assert not s.CanSeek and s.CanTimeout
            s.Write(b"a", 0, 1)
            buf = bytearray(1)
            assert c.Read(buf, 0, 1) == 1 and buf == b"a"
        assert not s.CanRead and not s.CanWrite
        assert not server._disposed and not client._disposed


def test_ctor_read_only_and_write_only(pair: tuple[Socket, Socket]) -> None:
    client, server = pair
    with NetworkStream(server, FileAccess.Write) as w, NetworkStream(client, FileAccess.Read) as r:
        assert w.CanWrite and not w.CanRead and r.CanRead and not r.CanWrite
        assert w.writable() and not w.readable() and r.readable() and not r.writable()
        w.Write(b"a", 0, 1)
        buf = bytearray(1)
        assert r.Read(buf, 0, 1) == 1
        for call in (
            lambda: w.Read(buf, 0, 1),
            lambda: w.ReadByte(),
            lambda: w.BeginRead(buf, 0, 1, None, None),
            lambda: w.ReadAsync(buf, 0, 1),
            lambda: w.read(1),
            lambda: r.Write(buf, 0, 1),
            lambda: r.WriteByte(1),
            lambda: r.BeginWrite(buf, 0, 1, None, None),
            lambda: r.WriteAsync(buf, 0, 1),
        ):
            with pytest.raises(InvalidOperationException):
                call()
        with pytest.raises(NotSupportedException):
            w.CopyTo(io.BytesIO())


@pytest.mark.parametrize("owns", [False, True])
def test_ownership(pair: tuple[Socket, Socket], owns: bool) -> None:
    client, server = pair
    NetworkStream(server, owns).Close()
    assert server._disposed is owns
    if owns:
        # A second stream over the closed socket: not connected.
        with pytest.raises(IOException):
            NetworkStream(server)
    else:
        with NetworkStream(server) as again:
            again.Write(b"x")
            assert client.Receive(bytearray(1)) == 1


def test_socket_property_and_names(pair: tuple[Socket, Socket]) -> None:
    with NetworkStream(pair[0]) as s:
        assert s.Socket is pair[0] and s.socket is pair[0]
    assert NetworkStream.Read is NetworkStream.read and NetworkStream.Write is NetworkStream.write
    assert NetworkStream.Flush is NetworkStream.flush and NetworkStream.Close is NetworkStream.close
    assert NetworkStream.BeginRead is NetworkStream.begin_read and NetworkStream.ReadAsync is NetworkStream.read_async
    assert NetworkStream.DataAvailable is NetworkStream.data_available
    assert issubclass(NetworkStream, io.RawIOBase)


def test_garbage_collected_stream_leaves_the_socket_open(pair: tuple[Socket, Socket]) -> None:
    client, server = pair
    stream = NetworkStream(server, True)
    del stream
    gc.collect()
    # .NET's finaliser does not close the socket, and neither does io's here.
    assert not server._disposed
    server.Send(b"k")
    assert client.Receive(bytearray(1)) == 1


# -- synchronous reads and writes, both call shapes ---------------------------------------------


def test_read_write_dotnet_shapes(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    assert a.Write(b"xxhelloxx", 2, 5) is None
    buf = bytearray(10)
    n = b.Read(buf, 3, 5)
    assert n == 5 and buf[3:8] == b"hello"
    assert a.Write(memoryview(b"world")) == 5
    buf2 = bytearray(5)
    assert b.Read(buf2) == 5 and buf2 == b"world"
    a.WriteByte(255)
    assert wait_until(lambda: b.DataAvailable)
    # A zero-byte read with data waiting returns 0 at once and takes nothing (without data .NET
    # waits for some; that is the socket's Receive, which returns at once here).
    assert b.Read(bytearray(0), 0, 0) == 0
    assert b.ReadByte() == 255


def test_read_write_io_shapes(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    assert a.write(b"abcdef") == 6
    got = b""
    while len(got) < 6:
        got += b.read(6 - len(got))
    assert got == b"abcdef"
    a.write(b"12")
    view = bytearray(2)
    assert b.readinto(view) in (1, 2)
    assert b.read(0) == b""
    a.write(b"tail")
    a.Socket.Shutdown(SocketShutdown.Send)
    rest = b.read()
    assert rest.endswith(b"tail")
    assert b.read(5) == b"" and b.ReadByte() == -1
    a.flush()
    a.Flush()


def test_buffered_reader_readline_and_text_wrapper(
    af: AddressFamily, streams: tuple[NetworkStream, NetworkStream]
) -> None:
    a, b = streams
    a.Write("héllo\nworld\n".encode())
    reader = io.BufferedReader(b)
    assert reader.readline() == "héllo\n".encode()
    assert reader.readline() == b"world\n"
    writer = io.TextIOWrapper(io.BufferedRWPair(b, b), encoding="utf-8", newline="\n")
    writer.write("line one\nline two\n")
    writer.flush()
    text = io.TextIOWrapper(io.BufferedRWPair(a, a), encoding="utf-8", newline="\n")
    assert text.readline() == "line one\n"
    assert text.readline() == "line two\n"


def test_text_reader_and_writer_as_the_porting_guide_makes_them(
    streams: tuple[NetworkStream, NetworkStream],
) -> None:
    """StreamReader/StreamWriter as two io.TextIOWrapper (the form type checkers accept): the
    writer's line_buffering sends each line at its "\\n" (AutoFlush), and closing the reader first
    closes the stream, after which closing the writer raises nothing."""
    a, b = streams
    writer = io.TextIOWrapper(io.BufferedWriter(b), encoding="utf-8", newline="\n", line_buffering=True)
    reader = io.TextIOWrapper(io.BufferedReader(b), encoding="utf-8", newline="\n")
    writer.write("héllo\n")  # no flush(): line_buffering sends it
    peer = io.TextIOWrapper(io.BufferedReader(a), encoding="utf-8", newline="\n")
    assert peer.readline() == "héllo\n"
    a.Write("wörld\nrest".encode())
    assert reader.readline() == "wörld\n"
    reader.close()
    assert b.closed and not b.CanRead and not b.CanWrite
    writer.close()
    assert writer.closed


def test_read_exactly_and_read_at_least(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    a.Write(b"0123456789")
    buf = bytearray(12)
    b.ReadExactly(buf, 1, 4)
    assert buf[1:5] == b"0123"
    assert b.ReadAtLeast(bytearray(6), 6) == 6
    rest = bytearray(3)
    a.Write(b"abc")
    a.Socket.Shutdown(SocketShutdown.Send)
    b.ReadExactly(rest)
    assert rest == b"abc"
    with pytest.raises(EndOfStreamException):
        b.ReadExactly(bytearray(1))
    assert b.ReadAtLeast(bytearray(4), 4, False) == 0
    with pytest.raises(EndOfStreamException):
        b.ReadAtLeast(bytearray(4), 1)


def test_copy_to(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    payload = bytes(range(256)) * 400
    done = threading.Event()

    def send() -> None:
        a.Write(payload)
        a.Socket.Shutdown(SocketShutdown.Send)
        done.set()

    t = threading.Thread(target=send)
    t.start()
    sink = io.BytesIO()
    b.CopyTo(sink, 4096)
    t.join(WAIT)
    assert done.is_set() and sink.getvalue() == payload


def test_copy_to_another_network_stream(
    made: Made, af: AddressFamily, streams: tuple[NetworkStream, NetworkStream]
) -> None:
    a, b = streams
    c1, c2 = made.pair(af)
    c2.ReceiveTimeout = WAIT_MS
    out = NetworkStream(c1)
    a.Write(b"relay")
    a.Socket.Shutdown(SocketShutdown.Send)
    b.CopyTo(out)
    buf = bytearray(5)
    assert c2.Receive(buf) == 5 and buf == b"relay"


def test_data_available(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    assert not a.DataAvailable and not b.DataAvailable
    a.WriteByte(1)
    assert not a.DataAvailable
    assert wait_until(lambda: b.DataAvailable)


def test_read_timeout_then_usable(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    assert b.ReadTimeout == WAIT_MS and b.WriteTimeout == WAIT_MS
    b.ReadTimeout = 50
    assert b.ReadTimeout == 50 and b.Socket.ReceiveTimeout == 50
    for _ in range(2):
        with pytest.raises(IOException) as ei:
            b.Read(bytearray(4), 0, 4)
        inner = ei.value.InnerException
        assert isinstance(inner, SocketException) and inner.SocketErrorCode == SocketError.TimedOut
        assert b.Socket.Connected
    a.WriteByte(65)
    assert b.Read(bytearray(4), 0, 4) == 1
    b.ReadTimeout = -1
    assert b.ReadTimeout == -1 and b.Socket.ReceiveTimeout == 0
    b.WriteTimeout = 1000
    assert b.WriteTimeout == 1000


def test_no_seeking(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, _ = streams
    for call in (lambda: a.Length, lambda: a.Position, lambda: a.Seek(0, SeekOrigin.Begin), lambda: a.SetLength(1)):
        with pytest.raises(NotSupportedException):
            call()
    with pytest.raises(NotSupportedException):
        a.Position = 1
    with pytest.raises(io.UnsupportedOperation):
        a.seek(0)
    with pytest.raises(OSError):
        a.tell()
    assert not a.seekable()


# -- bad input for every member ------------------------------------------------------------------


def test_buffer_checks_in_every_model(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, _ = streams
    buf = bytearray(4)
    readers = [
        lambda *x: a.Read(*x),
        lambda *x: a.BeginRead(*x, None, None),
        lambda *x: a.ReadAsync(*x),
        lambda *x: a.ReadExactly(*x),
    ]
    writers = [
        lambda *x: a.Write(*x),
        lambda *x: a.BeginWrite(*x, None, None),
        lambda *x: a.WriteAsync(*x),
    ]
    for op in readers + writers:
        assert param_of(ArgumentNullException, lambda op=op: op(None, 0, 1)) == "buffer"
        assert param_of(ArgumentOutOfRangeException, lambda op=op: op(buf, -1, 1)) == "offset"
        assert param_of(ArgumentOutOfRangeException, lambda op=op: op(buf, 0, -1)) == "count"
        assert param_of(ArgumentOutOfRangeException, lambda op=op: op(buf, 0, 5)) == "count"
        assert param_of(ArgumentOutOfRangeException, lambda op=op: op(buf, 5, 0)) == "count"
        assert param_of(ArgumentOutOfRangeException, lambda op=op: op(buf, 3, 2)) == "count"
    for op in readers:
        assert param_of(ArgumentException, lambda op=op: op(b"readonly", 0, 1)) == "buffer"
        assert param_of(ArgumentException, lambda op=op: op("text", 0, 1)) == "buffer"
    assert param_of(ArgumentNullException, lambda: a.Write(None)) == "buffer"
    assert param_of(ArgumentNullException, lambda: a.ReadAsync(None)) == "buffer"
    assert param_of(ArgumentOutOfRangeException, lambda: a.WriteByte(256)) == "value"
    assert param_of(ArgumentOutOfRangeException, lambda: a.WriteByte(-1)) == "value"
    assert param_of(ArgumentNullException, lambda: a.ReadAtLeast(None, 1)) == "buffer"
    assert param_of(ArgumentOutOfRangeException, lambda: a.ReadAtLeast(buf, -1)) == "minimumBytes"
    assert param_of(ArgumentOutOfRangeException, lambda: a.ReadAtLeast(buf, 5)) == "minimumBytes"
    assert param_of(ArgumentOutOfRangeException, lambda: a.ReadAtLeastAsync(buf, 5)) == "minimumBytes"
    assert param_of(ArgumentNullException, lambda: a.CopyTo(None)) == "destination"
    assert param_of(ArgumentOutOfRangeException, lambda: a.CopyTo(io.BytesIO(), 0)) == "bufferSize"
    assert param_of(ArgumentNullException, lambda: a.CopyToAsync(None)) == "destination"
    assert param_of(ArgumentOutOfRangeException, lambda: a.CopyToAsync(io.BytesIO(), -1)) == "bufferSize"
    with pytest.raises(NotSupportedException):
        a.CopyTo(io.BytesIO(b"x").getbuffer())  # not a writable stream
    for bad in (0, -2):
        assert param_of(ArgumentOutOfRangeException, lambda bad=bad: setattr(a, "ReadTimeout", bad)) == "value"
        assert param_of(ArgumentOutOfRangeException, lambda bad=bad: setattr(a, "WriteTimeout", bad)) == "value"
    assert param_of(ArgumentNullException, lambda: a.EndRead(None)) == "asyncResult"
    assert param_of(ArgumentNullException, lambda: a.EndWrite(None)) == "asyncResult"
    with pytest.raises(TypeError):
        a.ReadAsync(buf, cancellation_token="nope")


def test_close_timeout_checks(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    assert param_of(ArgumentOutOfRangeException, lambda: a.Close(-2)) == "timeout"
    a.Close(-1)
    a.Close(0)
    b.Close(100)
    assert b.closed and b.Socket._disposed


def test_disposed_stream_members_raise(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    a.Write(b"abc")
    ar = a.BeginWrite(b"x", 0, 1, None, None)
    a.Dispose()
    a.Dispose()
    a.Close()
    assert a.closed and not a.CanRead and not a.CanWrite
    buf = bytearray(1)
    for call in (
        lambda: a.DataAvailable,
        lambda: a.Read(buf, 0, 1),
        lambda: a.Read(buf),
        lambda: a.read(1),
        lambda: a.readinto(buf),
        lambda: a.ReadByte(),
        lambda: a.Write(buf, 0, 1),
        lambda: a.WriteByte(1),
        lambda: a.BeginRead(buf, 0, 1, None, None),
        lambda: a.BeginWrite(buf, 0, 1, None, None),
        lambda: a.EndRead(ar),
        lambda: a.EndWrite(ar),
        lambda: a.ReadAsync(buf),
        lambda: a.WriteAsync(buf),
        lambda: a.ReadExactly(buf),
        lambda: a.ReadAtLeast(buf, 1),
        lambda: a.CopyTo(io.BytesIO()),
        lambda: a.CopyToAsync(io.BytesIO()),
        lambda: a.fileno(),
        lambda: a.Read(None, 0, 1),  # the stream's state is checked before the arguments...
    ):
        with pytest.raises(ObjectDisposedException):
            call()
    # ... except by Stream's helpers, which check their arguments first, as .NET's do.
    assert param_of(ArgumentNullException, lambda: a.ReadExactly(None)) == "buffer"


def test_socket_disposed_directly_read_write_raise_io_exception(pair: tuple[Socket, Socket]) -> None:
    _, server = pair
    stream = NetworkStream(server)
    server.Dispose()
    buf = bytearray(1)
    for call in (
        lambda: stream.Read(buf, 0, 1),
        lambda: stream.Write(buf, 0, 1),
        lambda: stream.Read(buf),
        lambda: stream.Write(buf),
        lambda: stream.BeginRead(buf, 0, 1, None, None),
        lambda: stream.BeginWrite(buf, 0, 1, None, None),
        lambda: stream.ReadAsync(buf, 0, 1),
        lambda: stream.WriteAsync(buf, 0, 1),
    ):
        with pytest.raises(IOException) as ei:
            call()
        assert isinstance(ei.value.InnerException, ObjectDisposedException)


def test_reset_by_peer_is_io_exception_with_socket_exception(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    a.Socket.Close(0)  # reset
    with pytest.raises(IOException) as ei:
        b.Read(bytearray(4), 0, 4)
    inner = ei.value.InnerException
    assert isinstance(inner, SocketException) and inner.SocketErrorCode == SocketError.ConnectionReset
    assert ei.value.errno == inner.errno


# -- Begin/End -------------------------------------------------------------------------------------


def test_begin_end_read_write(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    buf = bytearray(8)
    done = threading.Event()
    seen: list[Any] = []

    def on_read(ar: Any) -> None:
        seen.append(ar.AsyncState)
        done.set()

    rar = b.BeginRead(buf, 2, 5, on_read, "state")
    war = a.BeginWrite(b"..hello", 2, 5, None, None)
    assert war.AsyncWaitHandle.WaitOne(WAIT_MS)
    a.EndWrite(war)
    assert done.wait(WAIT)
    assert b.EndRead(rar) == 5 and buf[2:7] == b"hello" and seen == ["state"]
    with pytest.raises(IOException):
        b.EndRead(war)  # a result of another operation: .NET wraps the ArgumentException
    with pytest.raises(IOException):
        a.EndWrite(rar)


# -- awaitable ---------------------------------------------------------------------------------------


def test_read_write_async_every_shape(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams
    cts = CancellationTokenSource()

    async def main() -> None:
        await a.WriteAsync(b"..abc..", 2, 3)
        await a.WriteAsync(b"def", cts.Token)
        await a.WriteAsync(b"..ghi", 2, 3, cts.Token)
        await a.WriteAsync(memoryview(b"jkl"), cancellation_token=cts.Token)
        got = bytearray()
        buf = bytearray(12)
        while len(got) < 12:
            n = await b.ReadAsync(buf, 0, 12 - len(got))
            got += buf[:n]
        assert got == b"abcdefghijkl"
        await a.WriteAsync(b"z")
        assert await b.ReadAsync(buf, cts.Token) == 1
        await a.WriteAsync(b"y")
        assert await b.ReadAsync(buf, 0, 1, cts.Token) == 1
        await a.FlushAsync()
        await a.FlushAsync(cts.Token)

    run(main())


def test_read_async_cancelled_loses_nothing(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams

    async def main() -> None:
        buf = bytearray(4)
        for _ in range(2):
            cts = CancellationTokenSource()
            task = asyncio.ensure_future(b.ReadAsync(buf, cts.Token))
            await asyncio.sleep(0)
            cts.Cancel()
            with pytest.raises(OperationCanceledException):
                await task
            assert b.Socket.Connected
        a.Write(b"A")
        assert await b.ReadAsync(buf) == 1 and buf[0] == 65
        cancelled = CancellationTokenSource()
        cancelled.Cancel()
        with pytest.raises(OperationCanceledException):
            await b.ReadAsync(buf, cancelled.Token)
        with pytest.raises(OperationCanceledException):
            await b.FlushAsync(cancelled.Token)

    run(main())


def test_concurrent_async_reads_and_writes(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams

    async def main() -> None:
        b1, b2, b3 = bytearray(1), bytearray(1), bytearray(1)
        reads = [asyncio.ensure_future(b.ReadAsync(x)) for x in (b1, b2, b3)]
        await asyncio.gather(a.WriteAsync(bytes([42])), a.WriteAsync(bytes([43])), a.WriteAsync(bytes([44])))
        assert sum(await asyncio.gather(*reads)) == 3
        assert b1[0] + b2[0] + b3[0] == 42 + 43 + 44

    run(main())


def test_read_exactly_at_least_copy_to_async(streams: tuple[NetworkStream, NetworkStream]) -> None:
    a, b = streams

    async def main() -> None:
        await a.WriteAsync(b"0123456789")
        buf = bytearray(4)
        await b.ReadExactlyAsync(buf)
        assert buf == b"0123"
        assert await b.ReadAtLeastAsync(bytearray(6), 6) == 6
        await a.WriteAsync(b"rest")
        a.Socket.Shutdown(SocketShutdown.Send)
        sink = io.BytesIO()
        await b.CopyToAsync(sink, 2)
        assert sink.getvalue() == b"rest"
        with pytest.raises(EndOfStreamException):
            await b.ReadExactlyAsync(bytearray(1))
        assert await b.ReadAtLeastAsync(bytearray(2), 2, False) == 0

    run(main())


def test_copy_to_async_into_network_stream(
    made: Made, af: AddressFamily, streams: tuple[NetworkStream, NetworkStream]
) -> None:
    a, b = streams
    c1, c2 = made.pair(af)
    out = NetworkStream(c1)

    async def main() -> None:
        await a.WriteAsync(b"relay")
        a.Socket.Shutdown(SocketShutdown.Send)
        await b.CopyToAsync(out)
        got = bytearray(5)
        await NetworkStream(c2).ReadExactlyAsync(got)
        assert got == b"relay"

    run(main())
