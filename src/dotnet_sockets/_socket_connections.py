"""Binding, connecting, accepting and disconnecting, synchronous and Begin/End.

A connect to several addresses tries them in order; Linux needs a fresh
descriptor after a failed connect, which is put behind the same number.
"""

from __future__ import annotations

import errno
import os
import select
import socket as _socket
from _socket import socket as _RawSocket
from collections.abc import Sequence
from logging import DEBUG
from typing import TYPE_CHECKING, Any, NoReturn, cast, overload

from ._checks import as_int
from ._engine import ops
from ._engine.syncwait import thread_waiter as _thread_waiter
from ._engine.syncwait import wait as _sync_wait
from ._engine.syncwait import waiters as _waiters
from ._lookups import HostLookup, submit
from ._names import dotnet_names
from .addresses import (
    DnsEndPoint,
    EndPoint,
    IPAddress,
    IPEndPoint,
    UnixDomainSocketEndPoint,
    from_sockaddr,
)
from .asyncresult import ABORTED, AsyncCallback, AsyncOperation, IAsyncResult
from .enums import (
    AddressFamily,
    SocketError,
    SocketShutdown,
)
from .exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    InvalidOperationException,
    NotSupportedException,
    ObjectDisposedException,
    SocketException,
)
from .security import audit as _audit_op
from .security import denied as _denied
from .tracing import (
    traced,
    traced_as,
)

if TYPE_CHECKING:
    from .socket import Socket
from ._socket_core import (
    _AF_UNIX,
    _DISPOSED_NAME,
    _LINGER_RESET,
    _MISSING,
    _WITH_RECEIVE,
    SocketCore,
    _accept_lead,
    _audit,
    _bytes_available,
    _check_port,
    _connect_args,
    _copy_options,
    _isEnabledFor,
    _op_error,
    _SocketOpError,
    _split_callback,
    _trace_cached,
)

__all__ = ["SocketConnections"]


@dotnet_names
class SocketConnections(SocketCore):
    """Binding, connecting, accepting and disconnecting, synchronous and Begin/End."""

    __slots__ = ()

    @traced
    def Bind(self, local_ep: EndPoint) -> None:
        """Bind to a local endpoint; port 0 lets the system pick a free port."""
        self._throw_if_disposed()
        if local_ep is None:
            raise ArgumentNullException("localEP")
        _audit_op("dotnet_sockets.Socket.Bind", self, local_ep)
        addr = self._sockaddr(local_ep, "localEP")
        if isinstance(addr, OSError):
            raise _SocketOpError(addr)
        try:
            self._sock.bind(addr)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._right_ep = local_ep
        self._local_ep = None
        if isinstance(local_ep, UnixDomainSocketEndPoint) and not local_ep.Path.startswith("\0"):
            # Like .NET, Dispose deletes the file this Bind created (abstract names have none).
            self._unlink_path = os.path.abspath(local_ep.Path)

    @traced
    def Listen(self, backlog: int = _socket.SOMAXCONN) -> None:
        self._throw_if_disposed()
        backlog = as_int(backlog, "backlog")
        _audit_op("dotnet_sockets.Socket.Listen", self, self._right_ep)
        try:
            # An int in .NET; the system caps it at somaxconn anyway.
            self._sock.listen(max(0, min(backlog, 0x7FFFFFFF)))
        except OSError as exc:
            raise _SocketOpError(exc) from None
        self._listening = True

    def _connect_targets(
        self, args: tuple[Any, ...], begin: bool
    ) -> list[EndPoint] | SocketException | HostLookup:
        """The endpoints a Connect/BeginConnect overload tries, in order, checked as .NET does.

        A synchronous connect resolves a host name here, and its failure is returned, not raised;
        an asynchronous one (``begin``) gets a :class:`HostLookup` to resolve off the caller's thread.
        """
        if len(args) == 1:
            ep = args[0]
            if ep is None:
                raise ArgumentNullException("remoteEP")
            if not isinstance(ep, EndPoint):
                raise ArgumentException(f"Expected an EndPoint, not {type(ep).__name__}.", "remoteEP")
            self._check_connect_state(begin)
            if isinstance(ep, DnsEndPoint):
                if ep.AddressFamily != AddressFamily.Unspecified and not self._can_try(ep.AddressFamily):
                    raise NotSupportedException("This protocol version is not supported.")
                return self._resolve_or_defer(ep.Host, ep.Port, begin)
            if begin and isinstance(ep, IPEndPoint) and not self._can_try(ep.AddressFamily):
                raise NotSupportedException("This protocol version is not supported.")
            return [ep]
        if len(args) != 2:
            raise TypeError("Connect takes an endpoint, or an address (or host, or address list) and a port")
        target, port = args
        if target is None:
            raise ArgumentNullException("address")
        if isinstance(target, IPAddress):
            port = _check_port(port)
            self._check_connect_state(begin)
            if not self._can_try(target.AddressFamily):
                raise NotSupportedException("This protocol version is not supported.")
            return [IPEndPoint(target, port)]
        if isinstance(target, str):
            port = _check_port(port)
            self._only_ip()
            self._check_connect_state(begin)
            ok, parsed = IPAddress.TryParse(target)
            if ok and parsed is not None:
                if not self._can_try(parsed.AddressFamily):
                    raise NotSupportedException("This protocol version is not supported.")
                return [IPEndPoint(parsed, port)]
            return self._resolve_or_defer(target, port, begin)
        try:
            addrs = list(target)
        except (TypeError, ValueError):
            raise ArgumentException(
                f"Expected an IPAddress, a host name or a list of IPAddress, not {type(target).__name__}.",
                "address",
            ) from None
        if not addrs:
            raise ArgumentException("The address list is empty.", "addresses")
        for a in addrs:
            if a is None:
                raise ArgumentNullException("addresses")
            if not isinstance(a, IPAddress):
                raise ArgumentException(f"Expected an IPAddress, not {type(a).__name__}.", "addresses")
        port = _check_port(port)
        self._only_ip()
        self._check_connect_state(begin)
        usable: list[EndPoint] = [IPEndPoint(a, port) for a in addrs if self._can_try(a.AddressFamily)]
        if not usable:
            raise ArgumentException(
                "None of the discovered or specified addresses match the socket address family.", "addresses"
            )
        return usable

    def _resolve_or_defer(self, host: str, port: int, begin: bool) -> list[EndPoint] | SocketException | HostLookup:
        if begin and not IPAddress.TryParse(host)[0]:
            return HostLookup(host, port)
        return self._resolve(host, port)

    def _resolve(self, host: str, port: int) -> list[EndPoint] | SocketException:
        from .dns import Dns

        try:
            addrs = Dns.GetHostAddresses(host)
        except SocketException as exc:
            return exc
        usable: list[EndPoint] = [IPEndPoint(a, port) for a in addrs if self._can_try(a.AddressFamily)]
        if not usable:
            return SocketException(SocketError.AddressFamilyNotSupported)
        return usable

    def _can_try(self, family: int) -> bool:
        """.NET's CanTryAddressFamily: the socket's own family, or IPv4 on a dual-mode socket."""
        return family == self._af or (family == AddressFamily.InterNetwork and self._dual)

    def _check_connect_state(self, begin: bool) -> None:
        if not begin and self._disconnected:
            raise InvalidOperationException(
                "Once the socket has been disconnected, you can only reconnect again asynchronously, "
                "and only to a different EndPoint."
            )
        if self._listening:
            raise InvalidOperationException("You may not perform this operation after calling the Listen method.")
        if self._connected:
            raise SocketException(SocketError.IsConnected)

    def _start_connect(
        self,
        targets: list[EndPoint] | SocketException | HostLookup,
        callback: Any,
        state: Any,
        waiter: Any = None,
    ) -> Any:
        op: Any = ops.ConnectOp(self._io, callback, state)
        if waiter is not None:
            op._ctx = waiter  # a blocking Connect waits on its own thread (see _engine.syncwait)
        op.addr = None
        op.started = False
        op.index = 0
        op.later = False
        if isinstance(targets, SocketException):
            op.extra = None
            op.then = None
            op._error = targets
            op._complete(True)
            return op
        op.extra = targets
        op.then = self._connect_step
        self._connect_attempt(op)
        return op

    def _resolve_lookup(self, lookup: HostLookup) -> list[EndPoint]:
        """Resolve a deferred host name (blocking: run it on the lookup pool) and judge its endpoints;
        raises the ``SocketException`` of a failed lookup."""
        targets = self._resolve(lookup.host, lookup.port)
        if isinstance(targets, SocketException):
            raise targets
        for ep in targets:  # every address it may try is judged before the first attempt
            _audit_op(lookup.event, self, ep)
        return targets

    def _look_up_then_connect(self, op: Any) -> None:
        """Resolve ``op.extra`` (a :class:`HostLookup`) on the lookup pool, then connect from there.

        A failed lookup, or a socket closed meanwhile, completes ``op`` with that error.
        """
        lookup: HostLookup = op.extra
        op.later = True  # whatever follows did not finish inside Begin

        def resolved(targets: Any, error: BaseException | None) -> None:
            if error is None and self._disposed:
                error = ABORTED
            if error is not None:
                op.then = None
                op._error = error
                op._complete(False)
                return
            op.extra = targets
            self._connect_attempt(op)

        submit(lambda: self._resolve_lookup(lookup), resolved)

    def _check_can_connect(self) -> None:
        """The state checks of an asynchronous connect (disposed, listening, connected)."""
        self._throw_if_disposed()
        self._check_connect_state(True)

    def _connect_addresses(self, args: tuple[Any, ...]) -> list[EndPoint] | HostLookup:
        """The endpoints an asynchronous connect tries, or the host name it resolves first."""
        targets = self._connect_targets(args, begin=True)
        if isinstance(targets, SocketException):
            raise targets
        return targets

    def _next_connect(self, op: Any) -> None:
        """Start a ``ConnectOp`` whose ``extra`` is its endpoint list (or a :class:`HostLookup`,
        resolved first off this thread): it tries them in order and sets ``Connected``/
        ``RemoteEndPoint`` before it completes."""
        op.index = 0
        op.later = False
        op.then = self._connect_step
        self._connect_attempt(op)

    def _renew_after_failed_connect(self) -> None:
        """A fresh descriptor now (``_next_connect`` also does it by itself after a failure)."""
        self._replace_descriptor(rebind=True)
        self._connect_failed = False

    def _connect_attempt(self, op: Any) -> None:
        """Start connecting ``op`` to its current endpoint, on a fresh descriptor after a failure."""
        if isinstance(op.extra, HostLookup):
            self._look_up_then_connect(op)
            return
        if self._connect_failed:
            try:
                self._replace_descriptor(rebind=True)
            except (SocketException, ObjectDisposedException) as exc:
                op.then = None
                op._error = ABORTED if isinstance(exc, ObjectDisposedException) else exc
                op._complete(True)
                return
            self._connect_failed = False
        ep = op.extra[op.index]
        # _sockaddr's first case without its frame: an IPEndPoint of the socket's own length.
        addr = ep._sockaddr(self._v6) if type(ep) is IPEndPoint else None
        if addr is None or len(addr) != self._alen:
            addr = self._sockaddr(ep, "remoteEP")
        op.addr = addr
        op.started = False
        if isinstance(addr, OSError):
            op._error = addr
            op._complete(True)
        else:
            self._io.start_write(op)

    def _connect_step(self, op: Any, synchronously: bool) -> bool:
        """A connect attempt ended: record the connection, or go on to the next address."""
        err = op._error
        if err is None:
            op.then = None  # tells EndConnect the state is recorded
            peer, op._value = op._value, None
            self._connected_to(op.extra[op.index], peer)
            return False
        if err is ABORTED:
            return False
        self._connect_failed = True
        if self._disposed:
            # Closed between two attempts: the operation was cut short, as if still connecting.
            op._error = ABORTED
            return False
        if op.index + 1 < len(op.extra):
            op.index += 1
            op._error = None
            self._connect_attempt(op)
            return True
        return False

    def _replace_descriptor(self, rebind: bool = False) -> None:
        """Put a fresh socket with the same options behind this socket's descriptor number.

        Linux cannot connect a socket again after a failed connect, and ``Disconnect(True)`` must
        leave a socket that can connect anew; .NET on Unix replaces the handle in both cases
        (ReplaceHandle).  ``dup2`` keeps the number, so ``Handle``, the engine's queue and every
        ``IAsyncResult`` of this socket stay valid.  Operations still queued are aborted.
        """
        old = self._sock
        try:
            new = _RawSocket(old.family, old.type, old.proto)
        except OSError as exc:
            raise _SocketOpError(exc) from None
        pending: list[AsyncOperation] = []
        local: Any = None
        try:
            _copy_options(old, new)
            new.setblocking(False)
            if rebind and self._right_ep is not None and old.family != _AF_UNIX:
                try:
                    local = old.getsockname()
                except OSError:
                    local = None
                if local is not None and local[1] == 0:
                    local = None
            io = self._io
            with io.lock:
                if io.closed:
                    raise ObjectDisposedException(_DISPOSED_NAME)
                pending = io.take_all()
                io.abort_waiting(pending)
                os.dup2(new.fileno(), io.fd, inheritable=False)
        finally:
            new.close()
        self._local_ep = None
        for op in pending:
            op._abort()
        if local is not None:
            # Keep the local address the user bound before the failed connect.
            try:
                old.bind(local)
            except OSError as exc:
                raise _SocketOpError(exc) from None

    @overload
    def Connect(self, remote_ep: EndPoint) -> None: ...
    @overload
    def Connect(self, address: IPAddress, port: int) -> None: ...
    @overload
    def Connect(self, host: str, port: int) -> None: ...
    @overload
    def Connect(self, addresses: Sequence[IPAddress], port: int) -> None: ...

    def Connect(self, *args: Any, **kwargs: Any) -> None:
        """Connect to a remote endpoint; the addresses of a host or a list are tried in order.

        .NET's overloads: ``Connect(remote_ep)`` (an ``IPEndPoint``, ``DnsEndPoint`` or
        ``UnixDomainSocketEndPoint``), ``Connect(address, port)``, ``Connect(host, port)``,
        ``Connect(addresses, port)``.  A non-blocking socket (``Blocking`` false) raises
        ``SocketException`` ``WouldBlock`` while the connection is still being made; it goes on,
        and ``Poll(-1, SelectMode.SelectWrite)`` waits for it.

        Raises:

        - ``ObjectDisposedException``: the socket is closed.
        - ``ArgumentNullException``: ``remote_ep`` (``remoteEP``) or ``address`` is None.
        - ``ArgumentOutOfRangeException``: ``port`` is outside 0-65535.
        - ``ArgumentException``: an empty address list, or none of its family.
        - ``NotSupportedException``: an address of another family, or a host on a non-IP socket.
        - ``InvalidOperationException``: the socket is listening, or was disconnected (reconnect
          with ``BeginConnect``).
        - ``SecurityException``: a policy refused an address.
        - ``SocketException``: ``IsConnected`` when already connected; otherwise the last attempt's
          error (``ConnectionRefused``, ``TimedOut``, ``HostNotFound`` for a name that does not
          resolve, ``WouldBlock`` when ``Blocking`` is false).
        """
        if (
            len(args) == 1
            and not kwargs
            and type(args[0]) is IPEndPoint
            and not (self._disposed or self._disconnected or self._listening or self._connected)
            and (_trace_cached(DEBUG) is False or not _isEnabledFor(DEBUG))
        ):
            # The steady state, Connect(IPEndPoint) on a fresh socket: past the overload sorting
            # and the state checks, which all pass.
            targets: Any = [args[0]]
            try:
                _audit("dotnet_sockets.Socket.Connect", self, args[0])
            except PermissionError as exc:
                raise _denied(exc) from exc
            self._connect_to(targets)
            return
        _connect(self, *args, **kwargs)

    def _connect(self, *args: Any, **kwargs: Any) -> None:
        """``Connect`` past its steady state (traced as ``Connect``)."""
        self._throw_if_disposed()
        targets = self._connect_targets(_connect_args(args, kwargs), begin=False)
        if isinstance(targets, HostLookup):  # pragma: no cover - only asynchronous connects defer
            targets = self._resolve(targets.host, targets.port)
        if isinstance(targets, SocketException):
            raise targets
        for ep in targets:  # every address it may try is judged before the first attempt
            _audit_op("dotnet_sockets.Socket.Connect", self, ep)
        self._connect_to(targets)

    def _connect_to(self, targets: list[EndPoint]) -> None:
        """``Connect``'s attempts, its arguments and state checked."""
        blocking = self._blocking
        waiter = None  # a non-blocking connect goes on after WouldBlock: the engine finishes it
        if blocking:
            try:
                waiter = _waiters.waiter
            except AttributeError:
                waiter = _thread_waiter()
        op = self._start_connect(targets, None, None, waiter)
        if not op._done:
            if not blocking:
                raise SocketException(SocketError.WouldBlock)
            _sync_wait(self._io, op, -1)
        if op._error is not None:
            self._connect_failed_with(op)

    def _connect_failed_with(self, op: Any) -> NoReturn:
        """Raise what a synchronous ``Connect`` whose operation ``op`` failed raises (the compiled
        ``Connect`` calls it too)."""
        err = op._error
        if err is ABORTED and self._disposed:
            raise self._closed_during(op)
        raise self._failed(_op_error(err))

    def _connected_to(self, ep: EndPoint, peer: Any = None) -> None:
        """Record the connection to ``ep``; ``peer``: the system's raw address of the peer, when
        the connect already asked for it (``ops.ConnectOp``)."""
        self._connected = True
        self._disconnected = False
        self._connect_failed = False
        # RemoteEndPoint asks the system, as .NET does: a dual-mode socket connected to an IPv4
        # endpoint reports it IPv4-mapped.  (Read once: the first Send's audit names it.)
        self._remote_ep = None if peer is None else from_sockaddr(self._pf, peer)
        if self._right_ep is None:
            self._right_ep = ep
        self._local_ep = None

    def _check_can_accept(self) -> None:
        if self._right_ep is None:
            raise InvalidOperationException("You must call the Bind method before performing this operation.")
        if not self._listening:
            raise InvalidOperationException("You must call the Listen method before performing this operation.")

    def Accept(self) -> Socket:
        """Wait for and return the next incoming connection."""
        self._throw_if_disposed()
        self._check_can_accept()
        _audit_op("dotnet_sockets.Socket.Accept", self, None)
        op: Any = ops.AcceptOp(self._io, None, None)
        op.extra = None
        op.then = None
        op.later = False
        pysock, sa = self._start_read(op, 0)
        return cast("Socket", self._from_accepted(self, pysock, sa))

    @traced
    def Shutdown(self, how: SocketShutdown) -> None:
        """Stop sending, receiving or both; afterwards ``Connected`` is false, as in .NET."""
        self._throw_if_disposed()
        _audit_op("dotnet_sockets.Socket.Shutdown", self, self._peer())
        try:
            native = int(SocketShutdown(how))
        except (ValueError, TypeError):
            raise SocketException(SocketError.InvalidArgument) from None
        self._shutdown(native)

    def _shutdown(self, native: int) -> None:
        try:
            self._sock.shutdown(native)
        except OSError as exc:
            # Like .NET: ENOTCONN on a socket that was connected is ignored (the connection may
            # already be closed); on a socket that never was, it is reported.
            if exc.errno != errno.ENOTCONN or not (self._connected or self._disconnected):
                raise self._failed(_SocketOpError(exc)) from None
        self._set_disconnected()
        self._local_ep = None

    def _set_disconnected(self) -> None:
        if self._connected:
            self._connected = False
            self._disconnected = True

    @traced
    def Disconnect(self, reuse_socket: bool) -> None:
        """Shut the connection down.  With ``reuse_socket`` the socket gets a fresh descriptor and
        can connect again, through ``BeginConnect`` (a synchronous ``Connect`` after ``Disconnect``
        raises ``InvalidOperationException``, as in .NET).  A socket that was never connected raises
        ``SocketException`` ``NotConnected``."""
        self._throw_if_disposed()
        _audit_op("dotnet_sockets.Socket.Disconnect", self, self._peer())
        self._disconnect(reuse_socket)

    def _disconnect(self, reuse_socket: bool) -> None:
        self._shutdown(_socket.SHUT_RDWR)
        if reuse_socket:
            self._replace_descriptor()
            self._connect_failed = False
        self._remote_ep = None
        self._local_ep = None

    def _close_within(self, timeout_ms: int) -> None:
        sock = self._sock
        abortive = True
        if timeout_ms > 0:
            try:
                sock.shutdown(_socket.SHUT_WR)
                p = select.poll()
                p.register(sock.fileno(), select.POLLIN)
                if p.poll(timeout_ms):
                    # Readable: the peer's FIN (close quietly) or more data (reset, as .NET does).
                    abortive = _bytes_available(sock) != 0
            except (OSError, SocketException):
                abortive = True
        if abortive:
            try:
                sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, _LINGER_RESET)
            except OSError:
                pass

    @overload
    def BeginConnect(
        self, remote_ep: EndPoint, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginConnect(
        self, address: IPAddress, port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginConnect(
        self, host: str, port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginConnect(
        self, addresses: Sequence[IPAddress], port: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...

    @traced
    def BeginConnect(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """Start connecting; ``EndConnect`` waits for the connection and raises what failed.

        .NET's overloads: ``BeginConnect(remote_ep, callback, state)``,
        ``BeginConnect(address, port, callback, state)``, ``BeginConnect(host, port, callback,
        state)``, ``BeginConnect(addresses, port, callback, state)``.  The addresses of a host name
        or a list are tried in order until one accepts the connection.  After a failed attempt the
        socket gets a fresh descriptor, as Linux requires (``Handle`` keeps its number).
        ``Connected``, ``RemoteEndPoint`` and ``LocalEndPoint`` are set before the callback runs.

        Raises from the call the argument and state errors of ``Connect`` (``ObjectDisposedException``,
        ``ArgumentNullException``, ``ArgumentOutOfRangeException``, ``ArgumentException``,
        ``NotSupportedException``, ``InvalidOperationException`` when listening,
        ``SocketException`` ``IsConnected``, ``SecurityException``); ``EndConnect`` raises the
        last attempt's ``SocketException`` (``ConnectionRefused``, ``TimedOut``, ``HostNotFound``,
        ``OperationAborted`` when closed meanwhile).
        """
        self._throw_if_disposed()
        endpoint_form = bool(args) and (
            isinstance(args[0], EndPoint)
            or (args[0] is None and len(args) in (2, 3) and (args[1] is None or callable(args[1])))
        )
        pos, callback, state = _split_callback(args, kwargs, 1 if endpoint_form else 2)
        targets = self._connect_targets(_connect_args(pos, kwargs), begin=True)
        if isinstance(targets, list):
            for ep in targets:  # every address it may try is judged before the first attempt
                _audit_op("dotnet_sockets.Socket.BeginConnect", self, ep)
        return self._start_connect(targets, callback, state)  # type: ignore[no-any-return]

    @traced
    def EndConnect(self, async_result: IAsyncResult) -> None:
        """Waits for the connection; raises what made the last attempt fail."""
        ar: Any = self._end(async_result, "EndConnect")
        if getattr(ar, "then", None) is not None and ar.extra:
            # A _complete override skipped the step that records the connection.
            self._connected_to(ar.extra[getattr(ar, "index", 0)])

    @overload
    def BeginAccept(self, callback: AsyncCallback | None = None, state: Any = None) -> IAsyncResult: ...
    @overload
    def BeginAccept(
        self, receive_size: int, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult: ...
    @overload
    def BeginAccept(
        self,
        accept_socket: Socket | None,
        receive_size: int,
        callback: AsyncCallback | None = None,
        state: Any = None,
    ) -> IAsyncResult: ...

    def BeginAccept(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginAccept(callback, state)``: ``EndAccept`` returns the accepted ``Socket``.

        ``BeginAccept(receive_size, callback, state)`` and ``BeginAccept(accept_socket, receive_size,
        callback, state)``: the operation also receives the first block of data (up to
        ``receive_size`` bytes; none when it is 0) on the accepted connection before it completes,
        and ``EndAccept`` returns ``(socket, data, bytes_transferred)``, .NET's ``out`` parameters.
        ``accept_socket``, when given, must be neither bound nor connected; it becomes the accepted
        socket.

        Raises from the call ``ObjectDisposedException`` (closed), ``InvalidOperationException``
        (not bound or not listening; ``accept_socket`` bound or connected),
        ``ArgumentOutOfRangeException`` (a negative ``receive_size``) and ``ArgumentException``
        (``accept_socket`` not a ``Socket``, ``callback`` not callable).  ``EndAccept`` raises the
        accept's ``SocketException`` (``OperationAborted`` when the socket is closed meanwhile).
        """
        if (
            len(args) == 2
            and not kwargs
            and self._listening
            and not self._disposed
            and self._right_ep is not None
            and callable(args[0])
            and not isinstance(args[0], SocketCore)
            and (_trace_cached(DEBUG) is False or not _isEnabledFor(DEBUG))
        ):
            # The steady state, BeginAccept(callback, state) on a listening socket: the
            # operation goes straight to the queue's try-then-queue, past the overload sorting.
            try:
                _audit("dotnet_sockets.Socket.BeginAccept", self, None)
            except PermissionError as exc:
                raise _denied(exc) from exc
            fast = ops.AcceptOp(self._io, args[0], args[1])
            fast.later = False
            fast.extra = None
            fast.then = None
            self._io.start_read(fast)
            return fast
        return _begin_accept(self, *args, **kwargs)

    def _begin_accept(self, *args: Any, **kwargs: Any) -> IAsyncResult:
        """``BeginAccept`` past its steady state (traced as ``BeginAccept``)."""
        self._throw_if_disposed()
        pos, callback, state = _split_callback(args, kwargs, _accept_lead(args))
        accept_socket = kwargs.pop("accept_socket", None)
        receive_size = kwargs.pop("receive_size", _MISSING)
        if kwargs:
            raise TypeError(f"BeginAccept() got unexpected arguments {sorted(kwargs)}")
        if len(pos) == 1:
            (receive_size,) = pos
        elif len(pos) == 2:
            accept_socket, receive_size = pos
        elif pos:
            raise TypeError("BeginAccept takes [accept_socket,] [receive_size,] callback, state")
        with_receive = receive_size is not _MISSING
        if with_receive:
            receive_size = as_int(receive_size, "receiveSize")
            if receive_size < 0:
                raise ArgumentOutOfRangeException("receiveSize", receive_size)
        self._check_can_accept()
        if accept_socket is not None:
            if not isinstance(accept_socket, SocketCore):
                raise ArgumentException("Expected a Socket.", "acceptSocket")
            accept_socket._throw_if_disposed()
            if accept_socket._right_ep is not None or accept_socket._connected:
                raise InvalidOperationException("The acceptSocket must not be bound or connected.")
        op: Any = ops.AcceptOp(self._io, callback, state)
        op.later = False
        if with_receive:
            op.extra = (accept_socket, receive_size, _WITH_RECEIVE)
            op.then = self._accept_step
        else:
            op.extra = None
            op.then = None
        return self._begin(op, "BeginAccept", write=False)

    def _accept_step(self, op: Any, synchronously: bool) -> bool:
        """Accepted: adopt the connection, then receive its first block before completing."""
        op.then = None
        if op._error is not None:
            return False
        pysock, sa = op._value
        accept_socket, size, _ = op.extra
        accepted = self._adopt_or_close(pysock, sa, accept_socket)
        if accepted is None:
            op._error = ABORTED
            return False
        if size == 0:
            op._value = (accepted, b"", 0)
            return False

        def received(rop: Any, sync: bool) -> bool:
            if rop._error is None:
                n = rop._value
                op._value = (accepted, bytes(rop.buf[:n]), n)
            else:
                # .NET disposes the accepted socket when its first receive fails.
                accepted.Dispose()
                op._error = rop._error
            op._complete(synchronously and sync)
            return False

        rop: Any = ops.ReceiveThenOp(accepted._io, None, None)
        rop.buf = memoryview(bytearray(size))
        rop.flags = 0
        rop.later = False
        rop.then = received
        accepted._io.start_read(rop)
        return True

    def _adopt_or_close(self, pysock: _RawSocket, sockaddr: Any, accept_socket: Socket | None) -> Socket | None:
        """The accepted connection in its Socket; None when ``accept_socket`` was disposed while
        the accept was pending: the connection is closed then (nobody can use it), and the
        operation reports ``OperationAborted``, in every model."""
        try:
            return self._adopt(pysock, sockaddr, accept_socket)
        except ObjectDisposedException:
            pysock.close()
            return None

    def _adopt(self, pysock: _RawSocket, sockaddr: Any, accept_socket: Socket | None) -> Socket:
        if accept_socket is None:
            return cast("Socket", self._from_accepted(self, pysock, sockaddr))
        a = accept_socket
        a._throw_if_disposed()
        rcv, snd, inline = a._rcv_timeout, a._snd_timeout, a._io.inline
        a._io.close()
        a._setup(pysock, self._af, self._st, self._pt)
        a._adopt_accepted(self, sockaddr)
        a._rcv_timeout, a._snd_timeout, a._io.inline = rcv, snd, inline
        return a

    def EndAccept(self, async_result: IAsyncResult) -> Any:
        """The accepted ``Socket``; ``(socket, data, bytes_transferred)`` after the ``receive_size`` forms."""
        if _trace_cached(DEBUG) is not False and _isEnabledFor(DEBUG):
            return _end_accept(self, async_result)
        ar: Any = self._end(async_result, "EndAccept", False)
        if ar.extra is None:  # (the steady state: BeginAccept(callback, state), without _accepted's frame)
            pysock, sa = ar._value
            return self._from_accepted(self, pysock, sa)
        return self._accept_result(ar)

    def _end_accept(self, async_result: IAsyncResult, tracing: bool | None = None) -> Any:
        """``EndAccept`` (traced as ``EndAccept``); ``tracing`` as ``_end`` takes it."""
        return self._accept_result(self._end(async_result, "EndAccept", tracing))

    def _accept_result(self, ar: Any) -> Any:
        """What ``EndAccept`` returns for the finished accept ``ar``."""
        extra = ar.extra
        if extra is None:
            pysock, sa = ar._value
            return self._from_accepted(self, pysock, sa)
        if len(extra) == 2:
            # (accept_socket, 0): the other models' accept into a given socket.
            pysock, sa = ar._value
            accepted = self._adopt_or_close(pysock, sa, extra[0])
            if accepted is None:
                raise SocketException(SocketError.OperationAborted)
            return accepted
        return ar._value  # (socket, data, bytes_transferred), made by _accept_step

    @traced
    def BeginDisconnect(
        self, reuse_socket: bool, callback: AsyncCallback | None = None, state: Any = None
    ) -> IAsyncResult:
        """Disconnect as ``Disconnect(reuse_socket)`` does (there is nothing to wait for on Linux);
        its error, if any, is raised by ``EndDisconnect``."""
        self._throw_if_disposed()
        if callback is not None and not callable(callback):
            raise ArgumentException("The callback must be callable.", "callback")
        _audit_op("dotnet_sockets.Socket.BeginDisconnect", self, self._peer())
        op: Any = ops.DisconnectOp(self._io, callback, state)
        try:
            self._disconnect(reuse_socket)
        except SocketException as exc:
            op._error = exc
        except ObjectDisposedException:  # closed meanwhile by another thread
            op._error = ABORTED
        op._complete(True)
        return op  # type: ignore[no-any-return]

    @traced
    def EndDisconnect(self, async_result: IAsyncResult) -> None:
        self._end(async_result, "EndDisconnect")

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    bind = Bind
    listen = Listen
    connect = Connect
    accept = Accept
    shutdown = Shutdown
    disconnect = Disconnect
    begin_connect = BeginConnect
    end_connect = EndConnect
    begin_accept = BeginAccept
    end_accept = EndAccept
    begin_disconnect = BeginDisconnect
    end_disconnect = EndDisconnect
    # -- end of PEP 8 spellings --


_begin_accept = traced_as("BeginAccept", SocketConnections._begin_accept)
_end_accept = traced_as("EndAccept", SocketConnections._end_accept)
_connect = traced_as("Connect", SocketConnections._connect)
