"""The .NET exceptions the socket API raises, as Python exceptions.

Each one also derives from the Python exception a Python caller would expect
(``ArgumentException`` is a ``ValueError``, ``SocketException`` an ``OSError``),
so both ``except SocketException`` and ``except OSError`` work.  ``Message``
is the .NET message text and ``str(ex)`` returns it.
"""

from __future__ import annotations

import errno as _errno_mod
import os
import socket
from collections.abc import Sequence
from typing import Any, ClassVar, Final

from ._errno import (
    ERRNO_TO_SOCKET_ERROR,
    SOCKET_ERROR_TO_NATIVE,
    socket_error_from_gai,
    socket_error_from_herror,
)
from ._names import dotnet_names
from .enums import SocketError

__all__ = [
    "ArgumentException",
    "ArgumentNullException",
    "ArgumentOutOfRangeException",
    "FormatException",
    "InvalidOperationException",
    "ObjectDisposedException",
    "NotSupportedException",
    "NotImplementedException",
    "SecurityException",
    "SocketException",
    "PlatformNotSupportedException",
    "IOException",
    "EndOfStreamException",
    "OperationCanceledException",
    "TaskCanceledException",
    "SemaphoreFullException",
    "AggregateException",
]


@dotnet_names
class _DotNetException:
    """What every exception here shares: ``Message``, ``str()`` and pickling."""

    __slots__ = ()

    _default_message: ClassVar[str] = "An error occurred."
    _message: str
    # The arguments the constructor was called with, so that a pickled
    # exception is rebuilt through its own (.NET-ordered) signature.
    _ctor_args: tuple[Any, ...]

    @property
    def Message(self) -> str:
        """The .NET message text (``str(ex)`` gives the same)."""
        return self._message

    def __str__(self) -> str:
        return self._message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._ctor_args, self.__dict__)


def _with_param(text: str, param_name: str | None) -> str:
    return text if not param_name else f"{text} (Parameter '{param_name}')"


@dotnet_names
class ArgumentException(_DotNetException, ValueError):
    """An argument is not valid.  ``ParamName`` is the .NET name of the parameter."""

    _default_message = "Value does not fall within the expected range."

    def __init__(self, message: str | None = None, param_name: str | None = None) -> None:
        self._ctor_args = (message, param_name)
        self._param_name = param_name
        self._message = _with_param(self._default_message if message is None else message, param_name)
        super().__init__(self._message)

    @property
    def ParamName(self) -> str | None:
        """The .NET name of the offending parameter (``"buffer"``, ``"remoteEP"``, ...)."""
        return self._param_name


@dotnet_names
class ArgumentNullException(ArgumentException, TypeError):
    """A required argument was ``None``."""

    _default_message = "Value cannot be null."

    def __init__(self, param_name: str | None = None, message: str | None = None) -> None:
        super().__init__(message, param_name)
        self._ctor_args = (param_name, message)


@dotnet_names
class ArgumentOutOfRangeException(ArgumentException):
    """An argument is outside the range the method allows.  ``ActualValue`` is the value given."""

    _default_message = "Specified argument was out of the range of valid values."

    def __init__(
        self, param_name: str | None = None, actual_value: object = None, message: str | None = None
    ) -> None:
        super().__init__(message, param_name)
        self._ctor_args = (param_name, actual_value, message)
        self._actual_value = actual_value
        if actual_value is not None:
            self._message = f"{self._message}\nActual value was {actual_value}."
            self.args = (self._message,)

    @property
    def ActualValue(self) -> object:
        """The value that was out of range, or ``None`` when it was not given."""
        return self._actual_value


@dotnet_names
class FormatException(_DotNetException, ValueError):
    """A string is not in the expected format (``IPAddress.Parse``)."""

    _default_message = "One of the identified items was in an invalid format."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


@dotnet_names
class InvalidOperationException(_DotNetException, RuntimeError):
    """The call is not valid in the object's current state."""

    _default_message = "Operation is not valid due to the current state of the object."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


@dotnet_names
class ObjectDisposedException(InvalidOperationException):
    """The object (for a socket: ``"System.Net.Sockets.Socket"``) was closed or disposed."""

    _default_message = "Cannot access a disposed object."

    def __init__(self, object_name: str | None = None, message: str | None = None) -> None:
        super().__init__(message)
        self._ctor_args = (object_name, message)
        self._object_name = object_name
        if object_name:
            self._message = f"{self._message}\nObject name: '{object_name}'."
            self.args = (self._message,)

    @property
    def ObjectName(self) -> str:
        """The name of the disposed object (empty when not given, as in .NET)."""
        return self._object_name or ""


@dotnet_names
class NotSupportedException(_DotNetException, RuntimeError):
    """The operation is not supported (on this platform, or by this object)."""

    _default_message = "Specified method is not supported."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


@dotnet_names
class NotImplementedException(_DotNetException, NotImplementedError):
    """The method exists in .NET but is not implemented here."""

    _default_message = "The method or operation is not implemented."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


@dotnet_names
class SecurityException(_DotNetException, PermissionError):
    """The caller lacks a permission the operation needs."""

    _default_message = "Security error."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


# Texts for the SocketErrors that have no Linux errno (and so no strerror).
_UNMAPPED_TEXT: Final[dict[int, str]] = {
    SocketError.SocketError: "An unspecified socket error occurred.",
    SocketError.HostNotFound: "Name or service not known",
    SocketError.NoRecovery: "Non-recoverable failure in name resolution",
    SocketError.ProcessLimit: "Too many processes are using the socket subsystem.",
    SocketError.SystemNotReady: "The network subsystem is not ready.",
    SocketError.VersionNotSupported: "The requested socket subsystem version is not supported.",
    SocketError.NotInitialized: "The socket subsystem is not initialized.",
    SocketError.TypeNotFound: "The specified service or class was not found.",
}

_strerror_cache: dict[int, str] = {}


def _strerror(err: int) -> str:
    text = _strerror_cache.get(err)
    if text is None:
        text = _strerror_cache[err] = os.strerror(err)
    return text


def _text_for(se: SocketError, native: int) -> str:
    if int(se) in SOCKET_ERROR_TO_NATIVE:
        return _strerror(native)
    return _UNMAPPED_TEXT.get(se, f"Unknown socket error {int(se)}")


_errno_get = ERRNO_TO_SOCKET_ERROR.get
_GENERIC: Final = SocketError.SocketError


@dotnet_names
class SocketException(_DotNetException, OSError):
    """A socket operation failed.

    ``SocketErrorCode`` says what went wrong as a ``SocketError``; ``ErrorCode``
    is its Windows Sockets number (10040 for ``MessageSize``, what the .NET
    documentation tells users to compare against); ``NativeErrorCode`` and the
    inherited ``errno`` are the Linux errno (90 for ``MessageSize``).

    ``SocketException(error_code)`` takes a ``SocketError`` or its number, as the
    .NET constructor does; the errno is then the one .NET on Linux would give.
    ``endpoint``, when given, is appended to the message, as .NET does for
    failed connects ("Connection refused 127.0.0.1:1").
    """

    _se: SocketError
    _native: int

    def __init__(
        self, error_code: SocketError | int = SocketError.SocketError, *, endpoint: object = None
    ) -> None:
        se = SocketError(error_code)
        native = SOCKET_ERROR_TO_NATIVE.get(se)
        if native is None:
            native = int(se)
        self._setup(se, native, _text_for(se, native), endpoint)

    def _setup(self, se: SocketError, native: int, message: str, endpoint: object) -> None:
        if endpoint is not None:
            message = f"{message} {endpoint}"
        self._se = se
        self._native = native
        self._message = message
        OSError.__init__(self, native, message)

    @classmethod
    def _from_errno(cls, err: int, *, endpoint: object = None) -> SocketException:
        """The exception for a failed system call: keeps ``err`` as the native code."""
        self = cls.__new__(cls)
        self._setup(_errno_get(err, _GENERIC), err, _strerror(err), endpoint)
        return self

    @classmethod
    def _from_os_error(cls, exc: OSError, *, endpoint: object = None) -> SocketException:
        """The exception for an ``OSError`` raised by the ``socket`` module."""
        if isinstance(exc, SocketException):
            return exc
        code = exc.errno
        if isinstance(exc, socket.gaierror | socket.herror):
            table = socket_error_from_gai if isinstance(exc, socket.gaierror) else socket_error_from_herror
            se = table(code) if isinstance(code, int) else _GENERIC
            native = code if isinstance(code, int) else int(se)
            message = exc.strerror or _text_for(se, native)
        elif isinstance(exc, TimeoutError):
            # socket.timeout carries no errno; the kernel's ETIMEDOUT is what it means.
            se = SocketError.TimedOut
            native = code if isinstance(code, int) else _errno_mod.ETIMEDOUT
            message = _strerror(native)
        elif isinstance(code, int):
            return cls._from_errno(code, endpoint=endpoint)
        else:
            se = _GENERIC
            native = int(se)
            message = exc.strerror or str(exc) or _text_for(se, native)
        self = cls.__new__(cls)
        self._setup(se, native, message, endpoint)
        return self

    @property
    def SocketErrorCode(self) -> SocketError:
        """What went wrong, as a ``SocketError``."""
        return self._se

    @property
    def ErrorCode(self) -> int:
        """The Windows Sockets error number, ``int(SocketErrorCode)`` (10040, 10013, ...)."""
        return int(self._se)

    @property
    def NativeErrorCode(self) -> int:
        """The platform's error number (the Linux errno, or the resolver's code for name lookups)."""
        return self._native

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_socket_exception, (type(self), int(self._se), self._native, self._message), None)


def _rebuild_socket_exception(
    cls: type[SocketException], error_code: int, native: int, message: str
) -> SocketException:
    self = cls.__new__(cls)
    self._setup(SocketError(error_code), native, message, None)
    return self


@dotnet_names
class PlatformNotSupportedException(NotSupportedException):
    """The member exists in .NET but not on this platform (Windows-only members on Linux)."""

    _default_message = "Operation is not supported on this platform."


@dotnet_names
class IOException(_DotNetException, OSError):
    """An I/O error on a stream.  ``NetworkStream`` wraps the ``SocketException`` in ``InnerException``."""

    _default_message = "I/O error occurred."

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message, inner_exception)
        self._message = self._default_message if message is None else message
        self._inner = inner_exception
        # errno follows the inner SocketException, so `except OSError as e: e.errno` still tells what happened.
        native = getattr(inner_exception, "errno", None)
        if isinstance(native, int):
            OSError.__init__(self, native, self._message)
        else:
            OSError.__init__(self, self._message)
        if inner_exception is not None:
            self.__cause__ = inner_exception

    @property
    def InnerException(self) -> BaseException | None:
        """The exception that caused this one (a ``SocketException`` for a failed network read or write)."""
        return self._inner

    def __str__(self) -> str:
        return self._message


@dotnet_names
class EndOfStreamException(IOException, EOFError):
    """A read needed more bytes than the stream had before its end (``ReadExactly``)."""

    _default_message = "Unable to read beyond the end of the stream."


@dotnet_names
class OperationCanceledException(_DotNetException, Exception):
    """An operation ended because its ``CancellationToken`` was cancelled.

    ``CancellationToken`` is the token that was cancelled (``CancellationToken.None_`` when unknown).
    It is not an ``asyncio.CancelledError``: ``task.cancel()`` keeps its asyncio meaning and raises that.
    """

    _default_message = "The operation was canceled."

    def __init__(self, message: str | None = None, token: object = None) -> None:
        self._ctor_args = (message, token)
        self._message = self._default_message if message is None else message
        self._token = token
        super().__init__(self._message)

    @property
    def CancellationToken(self) -> Any:
        """The token whose cancellation ended the operation."""
        if self._token is None:
            from .cancellation import CancellationToken

            return CancellationToken.None_
        return self._token


@dotnet_names
class TaskCanceledException(OperationCanceledException):
    """A task-returning operation (``Dns.GetHostAddressesAsync``, ...) was cancelled."""

    _default_message = "A task was canceled."


@dotnet_names
class SemaphoreFullException(_DotNetException, Exception):
    """``Release`` would raise a semaphore's count above its maximum."""

    _default_message = "Adding the specified count to the semaphore would cause it to exceed its maximum count."

    def __init__(self, message: str | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)


@dotnet_names
class AggregateException(_DotNetException, Exception):
    """Several exceptions at once (callbacks of a cancelled token that raised).  ``InnerExceptions`` lists them."""

    _default_message = "One or more errors occurred."

    def __init__(self, message: str | None = None, inner_exceptions: Sequence[BaseException] = ()) -> None:
        self._ctor_args = (message, tuple(inner_exceptions))
        self._inner_list = tuple(inner_exceptions)
        text = self._default_message if message is None else message
        if self._inner_list:
            text += " " + " ".join(f"({e})" for e in self._inner_list)
        self._message = text
        super().__init__(self._message)
        if self._inner_list:
            self.__cause__ = self._inner_list[0]

    @property
    def InnerExceptions(self) -> tuple[BaseException, ...]:
        """Every exception collected, in the order they were raised."""
        return self._inner_list

    @property
    def InnerException(self) -> BaseException | None:
        """The first of ``InnerExceptions``."""
        return self._inner_list[0] if self._inner_list else None
