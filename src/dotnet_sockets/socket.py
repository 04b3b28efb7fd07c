"""``Socket``: .NET's socket class, thin over the engine.

Every method checks its arguments in .NET's order, builds one operation
object and hands it to the socket's ``OpQueue``; ``End...`` validates the
``IAsyncResult``, waits for it and returns or raises.  The synchronous calls
try the system call directly and only fall back to the engine (and so to
``Close``-aware, timeout-aware waiting) when it would block.
"""

from __future__ import annotations

import os
import socket as _socket
import warnings
from _socket import socket as _RawSocket
from logging import DEBUG
from typing import Any, overload

from . import _accel, _platform
from ._async_methods import AsyncMethodsMixin
from ._checks import as_int
from ._engine.collecting import collecting as _collecting
from ._names import dotnet_names
from ._socket_connections import SocketConnections
from ._socket_control import DUPLICATE_NOT_SUPPORTED, SocketControl
from ._socket_core import (
    _AF_INET6,
    _SocketOpError,
    set_inline_completions,
)
from ._socket_files import SocketFiles
from ._socket_messages import SocketMessages
from ._socket_options import SocketOptions
from ._socket_transfer import SocketTransfer
from .addresses import (
    EndPoint,
    IPEndPoint,
    from_sockaddr,
)
from .enums import (
    AddressFamily,
    ProtocolType,
    SocketType,
)
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    PlatformNotSupportedException,
)
from .handles import SafeSocketHandle, SocketInformation
from .tracing import (
    log,
    trace_cached,
    traced_as,
)

__all__ = ["Socket", "set_inline_completions"]

_NO_ARG: Any = object()

_isEnabledFor = log.isEnabledFor
_trace_cached = trace_cached

# (AddressFamily, SocketType, ProtocolType) members -> the (family, type, protocol) numbers the
# platform functions gave them (only looked up with members: see __init__).
_NATIVE: dict[tuple[Any, ...], tuple[int, int, int]] = {}


_SOCK_NONBLOCK = _socket.SOCK_NONBLOCK


@dotnet_names
class Socket(
    SocketTransfer,
    SocketConnections,
    SocketOptions,
    SocketMessages,
    SocketFiles,
    SocketControl,
    AsyncMethodsMixin,
):
    """A .NET ``System.Net.Sockets.Socket``.

    ``Socket(address_family, socket_type, protocol_type)`` or
    ``Socket(socket_type, protocol_type)`` (an IPv6 socket in dual mode, which
    talks to IPv4 endpoints too).  Use it as a context manager where C# has
    ``using``.

    Raises ``ArgumentException`` for a value that is not a member of its enum, and
    ``SocketException`` when the system refuses the combination (``ProtocolNotSupported``,
    ``AddressFamilyNotSupported``, ``SocketNotSupported``) or has no descriptor left
    (``TooManyOpenSockets``).
    """

    __slots__ = ()

    @overload
    def __init__(self, socket_type: SocketType, protocol_type: ProtocolType) -> None: ...
    @overload
    def __init__(self, address_family: AddressFamily, socket_type: SocketType, protocol_type: ProtocolType) -> None: ...
    @overload
    def __init__(self, handle: SafeSocketHandle) -> None: ...
    @overload
    def __init__(self, socket_information: SocketInformation) -> None: ...

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """``Socket(address_family, socket_type, protocol_type)``, ``Socket(socket_type, protocol_type)``
        (IPv6, dual mode) or ``Socket(handle)``, which adopts the descriptor of a ``SafeSocketHandle``
        (its family, type, protocol, bound/connected/listening state and blocking mode are read from
        the system; a handle that does not own its descriptor gets a duplicate, so closing the socket
        leaves it open).  ``Socket(socket_information)`` raises ``PlatformNotSupportedException``, as
        .NET on Linux does."""
        native = None
        if (
            len(args) == 3
            and not kwargs
            and type(args[0]) is AddressFamily
            and type(args[1]) is SocketType
            and type(args[2]) is ProtocolType
        ):
            native = _NATIVE.get(args)
        if native is not None:
            # Socket(AddressFamily, SocketType, ProtocolType) of members seen before: the same
            # triple the general path below computed for them then (only its successes are kept).
            af, st, pt = args
        else:
            if len(args) + len(kwargs) == 1:
                only = args[0] if args else kwargs.get("handle", kwargs.get("socket_information", _NO_ARG))
                if only is not _NO_ARG and not isinstance(only, (int, AddressFamily, SocketType)):
                    self._from_handle(only)
                    return
            af, st, pt = self._parse_ctor(args, kwargs)
            try:
                native = (
                    _platform.to_platform_family(af),
                    _platform.to_platform_type(st),
                    _platform.to_platform_protocol(pt, af),
                )
            except OSError as exc:
                raise _SocketOpError(exc) from None
            if type(af) is AddressFamily and type(st) is SocketType and type(pt) is ProtocolType:
                _NATIVE[af, st, pt] = native
        try:
            # The C socket, not socket.socket: its Python-level __init__ and close (two frames)
            # are a measurable part of a short connection, and nothing here uses its extras.
            # Made non-blocking by socket(2) itself, as the engine wants every descriptor: the
            # socket module then sets its timeout to 0 and OpQueue makes no second system call.
            pysock = _RawSocket(native[0], native[1] | _SOCK_NONBLOCK, native[2])
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._setup(pysock, af, st, pt)
        if self._pf == _AF_INET6:
            # .NET creates IPv6 sockets v6-only (DualMode false) unless asked; a raw one it
            # leaves as the kernel made it (Linux refuses IPV6_V6ONLY on a raw socket: EINVAL).
            dual = len(args) + len(kwargs) == 2
            if dual or st != SocketType.Raw:
                self._set_dual(dual)
            else:
                self._dual = self._sock.getsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY) == 0

    def _from_handle(self, handle: Any) -> None:
        if isinstance(handle, SocketInformation):
            raise PlatformNotSupportedException(DUPLICATE_NOT_SUPPORTED)
        if handle is None:
            raise ArgumentNullException("handle")
        if not isinstance(handle, SafeSocketHandle):
            raise ArgumentException(f"Expected a SafeSocketHandle, not {type(handle).__name__}.", "handle")
        if handle.IsInvalid or handle.IsClosed:
            raise ArgumentException("Invalid handle.", "handle")
        fd = handle.DangerousGetHandle()
        try:
            blocking = os.get_blocking(fd)
            pysock = _RawSocket(fileno=fd if handle._owns else os.dup(fd))
        except OSError as exc:
            raise _SocketOpError(exc) from None
        if handle._owns:
            handle.SetHandleAsInvalid()  # the socket closes the descriptor now
        try:
            af = _platform.from_platform_family(pysock.family)
            st = _platform.from_platform_type(pysock.type)
            pt = ProtocolType(pysock.proto) if pysock.proto in ProtocolType._value2member_map_ else ProtocolType.Unknown
        except Exception:
            pysock.close()
            raise
        self._setup(pysock, af, st, pt)
        self._adopt_state(blocking)

    @staticmethod
    def _parse_ctor(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[AddressFamily, SocketType, ProtocolType]:
        names = ("address_family", "socket_type", "protocol_type")
        if len(args) + len(kwargs) == 2 and "address_family" not in kwargs:
            # Socket(socketType, protocolType): IPv6 in dual mode, as in .NET.
            vals = dict(zip(names[1:], args, strict=False))
            vals.update(kwargs)
            vals["address_family"] = AddressFamily.InterNetworkV6
        else:
            vals = dict(zip(names, args, strict=False))
            vals.update(kwargs)
        unknown = set(vals) - set(names)
        if unknown:
            raise TypeError(f"Socket() got unexpected arguments {sorted(unknown)}")
        missing = [n for n in names if n not in vals]
        if missing:
            raise TypeError(f"Socket() missing {', '.join(missing)}")
        try:
            af = AddressFamily(vals["address_family"])
            st = SocketType(vals["socket_type"])
            pt = ProtocolType(vals["protocol_type"])
        except (ValueError, TypeError) as exc:
            raise ArgumentException(str(exc)) from None
        return af, st, pt

    @property
    def AddressFamily(self) -> AddressFamily:
        return self._af

    @property
    def SocketType(self) -> SocketType:
        return self._st

    @property
    def ProtocolType(self) -> ProtocolType:
        return self._pt

    @property
    def Handle(self) -> int:
        """The operating-system file descriptor (-1 once closed)."""
        return self._sock.fileno()

    @property
    def Blocking(self) -> bool:
        """False makes synchronous calls raise ``WouldBlock`` instead of waiting."""
        return self._blocking

    @Blocking.setter
    def Blocking(self, value: bool) -> None:
        self._throw_if_disposed()
        self._blocking = bool(value)

    @property
    def Connected(self) -> bool:
        """Whether the last operation left the socket connected (not a live probe, as in .NET)."""
        return self._connected

    @property
    def IsBound(self) -> bool:
        return self._right_ep is not None

    @property
    def LocalEndPoint(self) -> EndPoint | None:
        """The local address and port; None until the socket is bound, explicitly or by a send."""
        self._throw_if_disposed()
        if self._right_ep is None:
            return None
        if self._local_ep is None:
            try:
                sa = self._sock.getsockname()
            except OSError as exc:
                raise self._handle_error(exc) from None
            ep = from_sockaddr(self._pf, sa)
            if type(ep) is IPEndPoint and ep.Port == 0:
                return ep
            self._local_ep = ep
        return self._local_ep

    @property
    def RemoteEndPoint(self) -> EndPoint | None:
        self._throw_if_disposed()
        if self._remote_ep is None and self._connected:
            return self._remote_from_kernel()
        return self._remote_ep

    def Close(self, timeout: int | None = _NO_ARG) -> None:
        """Close the socket; operations still pending complete once, aborted.

        ``Close()`` leaves unsent data to the system (as ``LingerState`` says).  ``Close(timeout)``
        takes milliseconds, as in .NET: 0 resets the connection at once; a positive timeout first
        shuts sending down and waits up to ``timeout`` ms for the peer to close its side too, and
        resets the connection if it did not (or sent more data); -1 is ``Close()``.
        """
        # (_trace_cached(DEBUG) is False: isEnabledFor's answer without its frame; see tracing.)
        if (
            timeout is _NO_ARG
            and type(self).Dispose is _DISPOSE
            and (_trace_cached(DEBUG) is False or not _isEnabledFor(DEBUG))
        ):
            # What the traced form below does when tracing is off, without its two layers.
            _dispose(self)
        elif timeout is _NO_ARG:
            _close(self)
        else:
            _close(self, timeout)

    def Dispose(self) -> None:
        """Close the socket (``Close()``); a Unix domain socket file created by ``Bind`` is deleted."""
        if _trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG):
            _dispose_traced(self)
        else:
            _dispose(self)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.Dispose()

    def __del__(self) -> None:
        # Runs inside whatever the collecting thread was doing, maybe holding one of the
        # package's locks: the closing (and the aborts) is left to the engine thread.
        # Closed before the warning: a warnings filter set to "error" must not leave it open.
        try:
            disposed = self._disposed
        except AttributeError:  # its constructor failed before it had a descriptor
            return
        if not disposed:
            try:
                self._io.close_from_finalizer()
            except Exception:  # noqa: BLE001 - nothing may escape a finaliser
                pass
            warnings.warn(f"unclosed {self!r}", ResourceWarning, stacklevel=2)

    def __repr__(self) -> str:
        try:
            fd = self._sock.fileno()
        except Exception:  # noqa: BLE001
            fd = -1
        return f"<Socket fd={fd} {self._af.name}/{self._st.name}/{self._pt.name}>"

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    address_family = AddressFamily
    socket_type = SocketType
    protocol_type = ProtocolType
    handle = Handle
    blocking = Blocking
    connected = Connected
    is_bound = IsBound
    local_end_point = LocalEndPoint
    remote_end_point = RemoteEndPoint
    close = Close
    dispose = Dispose
    # -- end of PEP 8 spellings --


def _closing(self: Socket, timeout: int | None = None) -> None:
    if timeout is not None:
        t = as_int(timeout, "timeout")
        if t < -1 or t > 0x7FFFFFFF:
            raise ArgumentOutOfRangeException("timeout", t)
        if t >= 0 and not self._disposed:
            self._close_within(t)
    self.Dispose()


def _dispose(self: Socket) -> None:
    # The compiled Close()/Dispose() (_speedups.c, "Close and Dispose") make these same steps.
    if self._disposed:
        return
    self._disposed = True
    if self._connected:  # (_set_disconnected)
        self._connected = False
        self._disconnected = True
    if _collecting():
        # A finalizer's Close (a collection on this thread, which may hold the queue's or the
        # dispatcher's lock): the engine thread aborts and closes, as for Socket.__del__.
        self._io.close_from_finalizer()
    else:
        self._io.close()
    if self._unlink_path is not None:
        _unlink_file(self)


def _unlink_file(self: Socket) -> None:
    """Dispose's last step when Bind created a Unix domain socket file: delete it."""
    path = self._unlink_path
    if path is not None:
        self._unlink_path = None
        try:
            os.unlink(path)
        except OSError:
            pass


_close = traced_as("Close", _closing)
_dispose_traced = traced_as("Dispose", _dispose)


# The compiled steady-state paths, when built (see _accel.py); the methods
# above stay their fallbacks and their documentation.
_accel.install()

# What Close() takes for the class's own Dispose: read after install(), which may have put the
# compiled one in its place.
_DISPOSE = Socket.Dispose
