"""One small class per kind of socket operation.

Each knows how to try its system call once (:meth:`attempt`): it returns
True when the operation is finished (``_value`` or ``_error`` set) and False
when the call would block, in which case the engine retries it when the
descriptor is ready.  Errors are stored as the raw ``OSError``; turning them
into a ``SocketException`` is left to ``End...``, off the hot path.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from ..asyncresult import AsyncOperation

__all__ = [
    "SendToOp",
    "StreamSendOp",
    "DatagramSendOp",
    "SendListOp",
    "ReceiveOp",
    "ReceiveListOp",
    "ReceiveFromOp",
    "AcceptOp",
    "ConnectOp",
    "DisconnectOp",
    "StreamSendOnlyOp",
]


class SendToOp(AsyncOperation):
    """``sendto`` of one datagram (datagram sockets: one call sends all or fails)."""

    __slots__ = ("buf", "flags", "addr")
    buf: Any
    flags: int
    addr: Any
    end_method = "EndSendTo"

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.sendto(self.buf, self.flags, self.addr)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


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

    def attempt(self) -> bool:
        buf = self.buf
        sent = self.sent
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
            return False
        except OSError as exc:
            self._error = exc
            return True
        self.sent = sent
        self._value = sent
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

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.send(self.buf, self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


class SendListOp(AsyncOperation):
    """``sendmsg`` of a list of buffers; on a stream it continues after partial writes."""

    __slots__ = ("bufs", "flags", "stream", "sent", "total")
    bufs: list[memoryview]
    flags: int
    stream: bool
    sent: int
    total: int
    end_method = "EndSend"

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
        return True


class ReceiveOp(AsyncOperation):
    """``recv_into`` a writable buffer."""

    __slots__ = ("buf", "flags")
    buf: memoryview
    flags: int
    end_method = "EndReceive"

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.recv_into(self.buf, len(self.buf), self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


class ReceiveListOp(AsyncOperation):
    """``recvmsg_into`` a list of writable buffers."""

    __slots__ = ("bufs", "flags")
    bufs: list[memoryview]
    flags: int
    end_method = "EndReceive"

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.recvmsg_into(self.bufs, 0, self.flags)[0]
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

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.recvfrom_into(self.buf, len(self.buf), self.flags)
        except BlockingIOError:
            return False
        except OSError as exc:
            self._error = exc
        return True


class AcceptOp(AsyncOperation):
    """``accept``; the value is ``(socket.socket, raw sockaddr)``."""

    __slots__ = ("extra",)
    extra: Any
    end_method = "EndAccept"

    def attempt(self) -> bool:
        try:
            self._value = self._io.sock.accept()
        except BlockingIOError:
            return False
        except OSError as exc:
            # The connection went away before it was taken: .NET keeps waiting.
            if exc.errno == errno.ECONNABORTED:
                return False
            self._error = exc
        return True


class ConnectOp(AsyncOperation):
    """A non-blocking connect: started with ``connect_ex``, finished on writability."""

    __slots__ = ("addr", "started", "extra")
    addr: Any
    started: bool
    extra: Any
    end_method = "EndConnect"

    def attempt(self) -> bool:
        sock = self._io.sock
        if not self.started:
            self.started = True
            try:
                err = sock.connect_ex(self.addr)
            except OSError as exc:
                self._error = exc
                return True
            if err in (errno.EINPROGRESS, errno.EAGAIN, errno.EALREADY):
                return False
        else:
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err == 0:
                # Spurious readiness: still connecting unless getpeername works.
                try:
                    sock.getpeername()
                except OSError as exc:
                    if exc.errno == errno.ENOTCONN:
                        return False
        if err:
            self._error = OSError(err, errno.errorcode.get(err, str(err)))
        else:
            self._value = None
        return True


class DisconnectOp(AsyncOperation):
    """``BeginDisconnect``: the work is done in the call; only the completion is asynchronous."""

    __slots__ = ()
    end_method = "EndDisconnect"

    def attempt(self) -> bool:
        return True
