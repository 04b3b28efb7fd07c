"""One small class per kind of socket operation.

Each knows how to try its system call once (:meth:`attempt`): it returns
True when the operation is finished (``_value`` or ``_error`` set) and False
when the call would block, in which case the engine retries it when the
descriptor is ready.  Errors are stored as the raw ``OSError``; turning them
into a ``SocketException`` is left to ``End...``, off the hot path.
"""

from __future__ import annotations

import errno
import os
import socket
from _socket import socket as _RawSocket
from collections.abc import Callable
from typing import Any

from ..asyncresult import AsyncOperation
from ..telemetry import DATAGRAM as _DGRAM
from ..telemetry import tls as _tel
from . import batch as _batch
from .batch import NONE as _NO_BATCH
from .batch import RECEIVE as _RECEIVE
from .batch import SEND as _SEND
from .batch import TRUNC as _batch_TRUNC
from .dispatch import report_exception
from .opqueue import _broken

__all__ = [
    "let_go",
    "SendToOp",
    "AllowedSendToOp",
    "StreamSendOp",
    "DatagramSendOp",
    "SendListOp",
    "ReceiveOp",
    "ReceiveZeroOp",
    "ReceiveListOp",
    "ReceiveFromOp",
    "ReceiveFromZeroOp",
    "ReceiveTruncOp",
    "ReceiveFromTruncOp",
    "TRUNC",
    "ReceiveThenOp",
    "AcceptOp",
    "continues",
    "ConnectOp",
    "DisconnectOp",
    "StreamSendOnlyOp",
    "ReceiveMessageFromOp",
    "SendPacketsOp",
]


_MSG_PEEK = socket.MSG_PEEK

TRUNC = _batch_TRUNC
"""The flag a datagram receive that reports truncation adds to its own (see ``ReceiveTruncOp``)."""

Then = Callable[[Any, bool], bool]
"""A continuation ``then(op, synchronously)``: True when it took the operation over."""


def continues(op: Any, synchronously: bool) -> bool:
    """Run ``op.then`` on a finished step: True when the operation went on to its next step.

    A connect to several addresses goes on to the next one after a failure;
    an accept that also receives goes on to the receive; a connect records
    the connection before anyone is told.  A ``_complete`` override of these
    operations calls this first and returns at once when it is True.
    """
    if not synchronously:
        op.later = True
    then = getattr(op, "then", None)  # callers that never set it get a plain operation
    return then is not None and bool(then(op, synchronously))


def _complete_then(op: Any, synchronously: bool) -> None:
    """``_complete`` of an operation that may continue as another step (see :func:`continues`).

    Once a step finished off the caller's thread, the operation as a whole
    did not complete synchronously.
    """
    if op._done:
        return
    try:
        # continues(op, synchronously), inlined: once per step of every connect and accept.
        then = op.then
        if not synchronously:
            op.later = True
        if then is not None and then(op, synchronously):
            return
    except Exception as exc:  # noqa: BLE001 - see _broken
        # The next step raised (a state the program changed meanwhile): it runs on
        # an engine or completion thread, where nobody could catch it, and the
        # operation would never complete.  It completes, failed, instead; a step
        # it had started and that completes later finds it done.
        if op._done:
            report_exception(exc)
            return
        op.then = None
        _broken(op, exc)
    AsyncOperation._complete(op, synchronously and not getattr(op, "later", False))


_raw_family = _RawSocket.family.__get__
_raw_type = _RawSocket.type.__get__


def let_go(data: Any) -> None:
    """End a finished send's export of the caller's buffer (see ``_checks.send_view``).

    The memoryviews a send holds are always its own, made when it started: released here,
    not left to whoever else still refers to them (the frame of a ``Begin...`` that has not
    returned yet while the callback already runs), so that a ``bytearray`` may be resized
    again from the callback on, its ``IAsyncResult`` kept or not.
    """
    if type(data) is memoryview:
        try:
            data.release()
        except BufferError:
            pass  # still in use by a call on another thread: its last reference lets it go
    elif type(data) is list:
        for view in data:
            let_go(view)


def _let_go_of(op: Any, field: str) -> None:
    data = getattr(op, field)
    setattr(op, field, None)
    let_go(data)


def _complete_send(op: Any, synchronously: bool) -> None:
    """``_complete`` of a send holding its data in ``buf``: the data is let go (``let_go``)."""
    if not op._done:
        _let_go_of(op, "buf")
    AsyncOperation._complete(op, synchronously)


def _complete_send_list(op: Any, synchronously: bool) -> None:
    """``_complete`` of a send of a buffer list (``bufs``), as ``_complete_send``."""
    if not op._done:
        _let_go_of(op, "bufs")
    AsyncOperation._complete(op, synchronously)


def _sent_datagram(op: Any, n: int) -> None:
    """A datagram send's ``sent(n)``: ``n`` bytes left; telemetry counts successes only."""
    op._value = n
    _tel.c.sent += n + _DGRAM


class SendToOp(AsyncOperation):
    """``sendto`` of one datagram (datagram sockets: one call sends all or fails)."""

    __slots__ = ("buf", "flags", "addr")
    buf: Any
    flags: int
    addr: Any
    end_method = "EndSendTo"
    batch_kind = _SEND

    _complete = _complete_send

    def attempt(self) -> bool:
        try:
            n = self._io.sock.sendto(self.buf, self.flags, self.addr)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self.sent(n)
        return True

    sent = _sent_datagram

    def message(self) -> tuple[Any, ...]:
        """What a batched send takes: the buffer and the address (see ``batch``)."""
        return (self.buf, self.addr)

    def allowed(self) -> None:
        """The audit hooks allowed this datagram in a batched call that did not send it."""
        self.__class__ = AllowedSendToOp  # (same slots: the class is all that changes)


class AllowedSendToOp(SendToOp):
    """A ``SendToOp`` whose datagram the audit hooks allowed in a batched call that stopped short
    of it: sent without asking them again, as its own ``sendto`` asks once (``sock.sendto``
    would ask again; only the accelerator's batches ask, so its primitive is there to send)."""

    __slots__ = ()

    def attempt(self) -> bool:
        send = _batch.send_batch
        if send is None:  # (batching was turned off since)
            return SendToOp.attempt(self)
        got, exc, _ = send(self._io.sock, [self.message()], self.flags)
        if got:
            self.sent(got[0])
            return True
        if exc is None:
            return SendToOp.attempt(self)  # (not a message the primitive takes: it took it before)
        if isinstance(exc, BlockingIOError):
            return False
        self._error = exc
        return True

    def message(self) -> tuple[Any, ...]:
        return (self.buf, self.addr, True)


class StreamSendOp(AsyncOperation):
    """A stream send: finished only when every byte is handed to the kernel.

    ``addr`` is ignored, as the kernel ignores it on a connected stream; the
    send of an unconnected stream fails with EPIPE, as .NET reports on Linux.
    """

    __slots__ = ("buf", "flags", "addr", "sent")
    buf: Any
    flags: int
    addr: Any
    sent: int
    end_method = "EndSendTo"

    _complete = _complete_send

    def attempt(self) -> bool:
        buf = self.buf
        start = sent = self.sent
        total = len(buf)
        send = self._io.sock.send
        try:
            while True:
                n = send(buf[sent:] if sent else buf, self.flags)
                sent += n
                if sent >= total:
                    break
        except BlockingIOError:
            self.sent = sent
            _tel.c.sent += sent - start  # telemetry counts bytes as they leave, partial writes too
            return False
        except OSError as exc:
            self._error = exc
            _tel.c.sent += sent - start
            return True
        self.sent = sent
        self._value = sent
        _tel.c.sent += sent - start
        return True


class StreamSendOnlyOp(StreamSendOp):
    """``BeginSend`` on a stream: the same work as a stream SendTo, ended by ``EndSend``."""

    __slots__ = ()
    end_method = "EndSend"


class DatagramSendOp(AsyncOperation):
    """``send`` on a connected datagram socket."""

    __slots__ = ("buf", "flags")
    buf: Any
    flags: int
    end_method = "EndSend"
    batch_kind = _SEND

    _complete = _complete_send

    def attempt(self) -> bool:
        try:
            n = self._io.sock.send(self.buf, self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self.sent(n)
        return True

    sent = _sent_datagram

    def message(self) -> tuple[Any, ...]:
        """What a batched send takes: the buffer, and no address (the connected peer)."""
        return (self.buf, None)

    def allowed(self) -> None:
        """(A send without an address asks no audit hook.)"""


class SendListOp(AsyncOperation):
    """``sendmsg`` of a list of buffers; on a stream it continues after partial writes."""

    __slots__ = ("bufs", "flags", "stream", "sent", "total")
    bufs: list[memoryview]
    flags: int
    stream: bool
    sent: int
    total: int
    end_method = "EndSend"

    _complete = _complete_send_list

    def attempt(self) -> bool:
        sendmsg = self._io.sock.sendmsg
        try:
            while True:
                bufs = self.bufs
                n = sendmsg(bufs, (), self.flags)
                self.sent += n
                if not self.stream or self.sent >= self.total:
                    break
                # Drop what was written, keep the rest in order.
                rest: list[memoryview] = []
                for b in bufs:
                    if n >= len(b):
                        n -= len(b)
                        continue
                    rest.append(b[n:] if n else b)
                    n = 0
                self.bufs = rest
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self._value = self.sent
        _tel.c.sent += self.sent if self.stream else self.sent + _DGRAM
        return True


class ReceiveOp(AsyncOperation):
    """``recv_into`` a writable buffer."""

    __slots__ = ("buf", "flags")
    buf: memoryview
    flags: int
    end_method = "EndReceive"
    batch_kind = _RECEIVE

    def attempt(self) -> bool:
        try:
            self._value = n = self._io.sock.recv_into(self.buf, len(self.buf), self.flags)
            _tel.c.received += n + _DGRAM if self._io.dgram else n
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True

    def received(self, value: tuple[int, Any]) -> None:
        """A batched receive (datagram sockets only) got ``value``, what ``recvfrom_into`` returns
        with MSG_TRUNC (the datagram's length): the bytes copied, unless the caller asked for that."""
        n = value[0]
        if n > len(self.buf) and not self.flags & TRUNC:
            n = len(self.buf)
        self._value = n
        _tel.c.received += n + _DGRAM


class ReceiveZeroOp(ReceiveOp):
    """A receive of 0 bytes: finished (value 0) once data is there (a stream's bytes or a datagram,
    left for the next receive) or a stream's peer closed its side.  The common way to learn that
    data arrived without holding a buffer.  .NET on Unix makes it a 1-byte peek, as here: a plain
    receive of 0 bytes returns at once whether or not there is data."""

    __slots__ = ()
    batch_kind = _NO_BATCH  # a peek takes no datagram: it keeps its own call

    def attempt(self) -> bool:
        try:
            self._io.sock.recv(1, self.flags | _MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self._value = 0
        if self._io.dgram:
            _tel.c.received += _DGRAM  # a datagram receive that succeeded, as .NET counts it
        return True


class ReceiveThenOp(ReceiveOp):
    """An internal receive that is a step of another operation (``BeginAccept`` with a receive size)."""

    __slots__ = ("then", "later")
    then: Then | None
    later: bool
    batch_kind = _NO_BATCH  # a step of another operation: it keeps its own call

    _complete = _complete_then


class ReceiveTruncOp(ReceiveOp):
    """A datagram receive that says whether the datagram was cut (``SocketAsyncEventArgs``
    reports it in ``SocketFlags``, as .NET does): its ``flags`` carry :data:`TRUNC`, so the
    kernel returns the datagram's length; the value is the bytes that fit, and ``truncated``
    is set when more did not."""

    __slots__ = ("truncated",)
    truncated: bool

    def attempt(self) -> bool:
        try:
            n = self._io.sock.recv_into(self.buf, len(self.buf), self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self.received((n, None))
        return True

    def received(self, value: tuple[int, Any]) -> None:
        n, size = value[0], len(self.buf)
        self.truncated = n > size
        self._value = n = min(n, size)
        _tel.c.received += n + _DGRAM


class ReceiveListOp(AsyncOperation):
    """``recvmsg_into`` a list of writable buffers; ``truncated``: the kernel's MSG_TRUNC."""

    __slots__ = ("bufs", "flags", "truncated")
    bufs: list[memoryview]
    flags: int
    truncated: int
    end_method = "EndReceive"

    def attempt(self) -> bool:
        try:
            v = self._io.sock.recvmsg_into(self.bufs, 0, self.flags)
            self._value = n = v[0]
            self.truncated = v[2] & TRUNC
            _tel.c.received += n + _DGRAM if self._io.dgram else n
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


class ReceiveFromOp(AsyncOperation):
    """``recvfrom_into``; the value is ``(bytes_received, raw sockaddr)``."""

    __slots__ = ("buf", "flags", "extra")
    buf: memoryview
    flags: int
    extra: Any
    end_method = "EndReceiveFrom"
    batch_kind = _RECEIVE

    def attempt(self) -> bool:
        try:
            v = self._io.sock.recvfrom_into(self.buf, len(self.buf), self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self.received(v)
        return True

    def received(self, value: tuple[int, Any]) -> None:
        """The datagram arrived: ``value`` is ``recvfrom_into``'s ``(bytes_received, raw sockaddr)``
        (a batch's is made with MSG_TRUNC: the bytes copied unless the caller asked for that)."""
        if value[0] > len(self.buf) and not self.flags & TRUNC:
            value = (len(self.buf), value[1])
        self._value = value
        _tel.c.received += value[0] + _DGRAM if self._io.dgram else value[0]


class ReceiveFromZeroOp(ReceiveFromOp):
    """A receive-from of 0 bytes: as :class:`ReceiveZeroOp` (a 1-byte peek, the datagram left for
    the next receive); the value is ``(0, sender)``."""

    __slots__ = ()
    batch_kind = _NO_BATCH  # a peek takes no datagram: it keeps its own call

    def attempt(self) -> bool:
        try:
            sa = self._io.sock.recvfrom(1, self.flags | _MSG_PEEK)[1]
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self._value = (0, sa)
        if self._io.dgram:
            _tel.c.received += _DGRAM  # a datagram receive that succeeded, as .NET counts it
        return True


class ReceiveFromTruncOp(ReceiveFromOp):
    """``ReceiveFromOp`` that says whether the datagram was cut, as :class:`ReceiveTruncOp`."""

    __slots__ = ("truncated",)
    truncated: bool

    def received(self, value: tuple[int, Any]) -> None:
        n, size = value[0], len(self.buf)
        self.truncated = n > size
        if n > size:
            value = (size, value[1])
        self._value = value
        _tel.c.received += value[0] + _DGRAM


class AcceptOp(AsyncOperation):
    """``accept``; the value is ``(C socket, raw sockaddr)`` until ``then`` replaces it."""

    __slots__ = ("extra", "then", "later")
    extra: Any
    then: Then | None
    later: bool
    end_method = "EndAccept"

    _complete = _complete_then

    def attempt(self) -> bool:
        listener = self._io.sock
        try:
            # listener.accept() without its two enum conversions (family/type), made a C socket
            # as every descriptor of the package (see Socket.__init__).
            fd, addr = listener._accept()  # type: ignore[attr-defined]
            try:
                accepted = _RawSocket(_raw_family(listener), _raw_type(listener), listener.proto, fd)
            except BaseException:
                os.close(fd)
                raise
            self._value = (accepted, addr)
            _tel.c.accepted += 1
        except BlockingIOError:
            return False
        except OSError as exc:
            # The connection went away before it was taken: .NET keeps waiting.
            if exc.errno == errno.ECONNABORTED:
                return False
            self._error = exc
        return True


class ConnectOp(AsyncOperation):
    """A non-blocking connect: started with ``connect_ex``, finished on writability.

    ``then`` moves on to the next address of a multi-address connect.  A connect finished on
    writability leaves the peer's raw address in ``_value`` (the ``getpeername`` that told it
    from spurious readiness), for the socket's ``RemoteEndPoint``; else ``None``.
    """

    __slots__ = ("addr", "started", "extra", "index", "then", "later")
    addr: Any
    started: bool
    extra: Any
    index: int
    then: Then | None
    later: bool
    end_method = "EndConnect"

    _complete = _complete_then

    def attempt(self) -> bool:
        sock = self._io.sock
        peer = None
        if not self.started:
            self.started = True
            _tel.c.connects_started += 1
            try:
                err = sock.connect_ex(self.addr)
            except OSError as exc:
                self._error = exc
                _tel.c.connects_failed += 1
                return True
            if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
                return False
        else:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                # Spurious readiness: still connecting unless getpeername works.
                try:
                    peer = sock.getpeername()
                except OSError as exc:
                    if exc.errno == errno.ENOTCONN:
                        return False
        if err:
            self._error = OSError(err, errno.errorcode.get(err, str(err)))
            _tel.c.connects_failed += 1
        else:
            self._value = peer
            _tel.c.connects_established += 1
        return True

    def _abort(self) -> None:
        # Closed while the connect was under way: telemetry counts the attempt as failed.
        if not self._done and self.started:
            _tel.c.connects_failed += 1
        AsyncOperation._abort(self)


class DisconnectOp(AsyncOperation):
    """``BeginDisconnect``: the work is done in the call; only the completion is asynchronous."""

    __slots__ = ()
    end_method = "EndDisconnect"

    def attempt(self) -> bool:
        return True


class ReceiveMessageFromOp(AsyncOperation):
    """``recvmsg_into`` with room for one packet-information control message.

    The value is ``recvmsg_into``'s ``(bytes, ancillary data, message flags, sockaddr)``.
    """

    __slots__ = ("bufs", "flags", "extra", "ancsize")
    bufs: list[memoryview]
    flags: int
    extra: Any
    ancsize: int
    end_method = "EndReceiveMessageFrom"

    def attempt(self) -> bool:
        try:
            self._value = v = self._io.sock.recvmsg_into(self.bufs, self.ancsize, self.flags)
            _tel.c.received += v[0] + _DGRAM if self._io.dgram else v[0]
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


class SendPacketsOp(AsyncOperation):
    """Buffers and file ranges sent in order: ``send`` for a buffer, ``os.sendfile`` for a file range.

    ``parts`` holds ``(buffer, -1, 0, 0)`` or ``(None, fd, offset, count)``.  The files the
    operation opened itself (``owned``) are closed once it ends, however it ends; a caller
    that withdraws it from the queue calls :meth:`release`.  The value is the byte count;
    ``then`` (see :func:`continues`) runs once the data is sent.
    """

    __slots__ = ("parts", "index", "pos", "sent", "owned", "extra", "then", "later")
    parts: list[tuple[Any, int, int, int]]
    index: int
    pos: int
    sent: int
    owned: list[Any]
    extra: Any
    then: Then | None
    later: bool
    end_method = "EndSendFile"

    def attempt(self) -> bool:
        sock = self._io.sock
        parts = self.parts
        try:
            while self.index < len(parts):
                buf, fd, off, cnt = parts[self.index]
                pos = self.pos
                if buf is not None:
                    n = sock.send(buf[pos:]) if pos < len(buf) else 0
                    left = len(buf) - pos - n
                else:
                    n = os.sendfile(sock.fileno(), fd, off + pos, cnt - pos) if pos < cnt else 0
                    left = cnt - pos - n
                    if n == 0 and left > 0:
                        # The file shrank under us: what is left cannot be sent.
                        raise OSError(errno.EINVAL, os.strerror(errno.EINVAL))
                self.sent += n
                _tel.c.sent += n
                if left > 0:
                    self.pos = pos + n
                else:
                    self.index += 1
                    self.pos = 0
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
            return True
        self._value = self.sent
        return True

    def release(self) -> None:
        owned = self.owned
        self.owned = []
        for f in owned:
            try:
                f.close()
            except OSError:
                pass

    def _complete(self, synchronously: bool) -> None:
        # ``then`` is the disconnect of TransmitFileOptions.Disconnect, done before anyone is told.
        if self._done:
            return
        self.release()
        _complete_then(self, synchronously)
