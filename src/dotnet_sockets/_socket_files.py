"""``SendFile``, ``BeginSendFile``/``EndSendFile`` and the operation ``SendPacketsAsync`` shares.

Files go out with ``os.sendfile`` from an explicit offset; buffers with
``send``; in the order given, on the socket's write queue like any send.
.NET on Linux refuses every ``TransmitFileOptions`` flag in the synchronous
``SendFile`` (``PlatformNotSupportedException``) but honours ``Disconnect``
and ``ReuseSocket`` in the asynchronous forms, which go through
``SendPacketsAsync``; so does this.
"""

from __future__ import annotations

import errno
import os
from typing import Any, overload

from ._checks import as_buffer, as_transmit_flags
from ._engine import ops
from ._names import dotnet_names
from ._socket_core import SocketCore
from .asyncresult import AsyncCallback, IAsyncResult
from .enums import TransmitFileOptions
from .exceptions import NotSupportedException, PlatformNotSupportedException, SocketException
from .packets import SendPacketsElement, packet_parts
from .security import audit as _audit_op

__all__ = ["SocketFiles", "NOT_CONNECTED_MESSAGE"]

NOT_CONNECTED_MESSAGE = "The operation is not allowed on non-connected sockets."
_DISCONNECTING = TransmitFileOptions.Disconnect | TransmitFileOptions.ReuseSocket
_NO: Any = object()
_OPTIONS_NOT_SUPPORTED = (
    "This platform does not support TransmitFileOptions other than TransmitFileOptions.UseDefaultWorkerThread."
)


def file_elements(file_name: Any, pre_buffer: Any, post_buffer: Any, empty_name_is_file: bool) -> list[Any]:
    """``SendFile``'s arguments as the elements of a packet send: pre-buffer, file, post-buffer."""
    elements: list[Any] = []
    if pre_buffer is not None and len(as_buffer(pre_buffer, "preBuffer")):
        elements.append(SendPacketsElement(pre_buffer))
    if file_name is not None and (file_name != "" or empty_name_is_file):
        elements.append(SendPacketsElement(file_name, 0, 0))
    if post_buffer is not None and len(as_buffer(post_buffer, "postBuffer")):
        elements.append(SendPacketsElement(post_buffer))
    return elements


@dotnet_names
class SocketFiles(SocketCore):
    """``SendFile``, ``BeginSendFile``, ``EndSendFile``."""

    __slots__ = ()

    def _check_send_file(self) -> None:
        self._throw_if_disposed()
        if not self._connected:
            raise NotSupportedException(NOT_CONNECTED_MESSAGE)

    def _new_send_packets(self, elements: Any, flags: TransmitFileOptions, callback: Any, state: Any) -> Any:
        """The operation of a packet send; files named by path are opened here (and closed by it)."""
        parts, owned, error = packet_parts(elements)
        try:
            op = ops.SendPacketsOp(self._io, callback, state)
        except BaseException:
            for f in owned:
                f.close()
            raise
        op.parts = parts
        op.index = op.pos = op.sent = 0
        op.owned = owned
        op.extra = flags
        op.later = False
        op.then = self._disconnect_after if flags & _DISCONNECTING else None
        if error is not None:
            op._error = error
        return op

    def _disconnect_after(self, op: Any, synchronously: bool) -> bool:
        """``TransmitFileOptions.Disconnect``/``ReuseSocket``: disconnect once everything is sent."""
        if op._error is None:
            sock: Any = self  # Disconnect's work lives in SocketConnections, beside this in Socket
            try:
                sock._disconnect(bool(op.extra & TransmitFileOptions.ReuseSocket))
            except SocketException as exc:
                op._error = exc
        return False

    @overload
    def SendFile(self, file_name: str | None) -> None: ...
    @overload
    def SendFile(
        self, file_name: str | None, pre_buffer: Any, post_buffer: Any, flags: TransmitFileOptions | int
    ) -> None: ...

    def SendFile(self, file_name: Any, pre_buffer: Any = None, post_buffer: Any = None, flags: Any = 0) -> None:
        """Send ``pre_buffer``, the file, then ``post_buffer`` on a connected socket.

        ``NotSupportedException`` when the socket is not connected; any ``flags`` but
        ``UseDefaultWorkerThread`` raise ``PlatformNotSupportedException`` (as in .NET on
        Linux); a missing file raises ``FileNotFoundError`` before anything is sent.
        A ``None`` or empty ``file_name`` sends just the buffers.
        """
        self._check_send_file()
        if as_transmit_flags(flags):
            raise PlatformNotSupportedException(_OPTIONS_NOT_SUPPORTED)
        op = self._new_send_packets(file_elements(file_name, pre_buffer, post_buffer, False), flags, None, None)
        try:
            _audit_op("dotnet_sockets.Socket.SendFile", self, self._peer())
            self._start_write(op, self._snd_timeout)
        finally:
            op.release()  # a send that timed out or was interrupted still closes its file

    @overload
    def BeginSendFile(
        self, file_name: str | None, callback: AsyncCallback | None, state: Any
    ) -> IAsyncResult: ...
    @overload
    def BeginSendFile(
        self,
        file_name: str | None,
        pre_buffer: Any,
        post_buffer: Any,
        flags: TransmitFileOptions | int,
        callback: AsyncCallback | None,
        state: Any,
    ) -> IAsyncResult: ...

    def BeginSendFile(self, file_name: Any, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginSendFile(file_name, callback, state)`` or
        ``BeginSendFile(file_name, pre_buffer, post_buffer, flags, callback, state)``.

        ``NotSupportedException`` (not connected) and a missing file raise here; a socket
        that is not a stream fails in ``EndSendFile`` with ``SocketError.NotConnected``.
        ``Disconnect``/``ReuseSocket`` disconnect the socket once the data is sent, before
        the callback runs.
        """
        pre = kwargs.pop("pre_buffer", _NO)
        post = kwargs.pop("post_buffer", _NO)
        flags = kwargs.pop("flags", _NO)
        callback = kwargs.pop("callback", _NO)
        state = kwargs.pop("state", _NO)
        if kwargs:
            raise TypeError(f"BeginSendFile() got unexpected arguments {sorted(kwargs)}")
        pos = list(args)
        if len(pos) >= 3 or pre is not _NO or post is not _NO or flags is not _NO:
            if len(pos) > 5:
                raise TypeError("BeginSendFile() takes at most 6 arguments")
            pos += [_NO] * (5 - len(pos))
            pre = pos[0] if pre is _NO else pre
            post = pos[1] if post is _NO else post
            flags = pos[2] if flags is _NO else flags
            callback = pos[3] if callback is _NO else callback
            state = pos[4] if state is _NO else state
        else:
            pos += [_NO] * (2 - len(pos))
            callback = pos[0] if callback is _NO else callback
            state = pos[1] if state is _NO else state
        pre = None if pre is _NO else pre
        post = None if post is _NO else post
        callback = None if callback is _NO else callback
        state = None if state is _NO else state
        self._check_send_file()
        options = as_transmit_flags(0 if flags is _NO else flags)
        op = self._new_send_packets(file_elements(file_name, pre, post, True), options, callback, state)
        if self._dgram and op._error is None:
            op._error = OSError(errno.ENOTCONN, os.strerror(errno.ENOTCONN))
        return self._begin(op, "BeginSendFile", write=True)

    def EndSendFile(self, async_result: IAsyncResult) -> None:
        """Wait for the send to finish; raises its error (``SocketException``)."""
        self._end(async_result, "EndSendFile")

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    send_file = SendFile
    begin_send_file = BeginSendFile
    end_send_file = EndSendFile
    # -- end of PEP 8 spellings --
