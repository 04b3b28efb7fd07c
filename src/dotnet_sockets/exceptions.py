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
import traceback
from collections.abc import Sequence
from typing import Any, ClassVar, Final, cast

from ._errno import (
    ERRNO_TO_SOCKET_ERROR,
    SOCKET_ERROR_TO_NATIVE,
    socket_error_from_gai,
    socket_error_from_herror,
)
from ._names import dotnet_names
from .enums import SocketError

__all__ = [
    "exception_to_string",
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
    "TimeoutException",
    "InvalidDataException",
]


@dotnet_names
class _DotNetException:
    """What every exception here shares: ``Message``, ``InnerException``, ``HResult``, ``ToString()``,
    ``str()`` and pickling."""

    __slots__ = ()

    _default_message: ClassVar[str] = "An error occurred."
    # .NET's full type name and HResult, as ToString() and HResult report them.
    _dotnet_type: ClassVar[str] = "System.Exception"
    _hresult: ClassVar[int] = -2146233088
    _message: str
    _inner: BaseException | None = None
    # The arguments the constructor was called with, so that a pickled
    # exception is rebuilt through its own (.NET-ordered) signature.
    _ctor_args: tuple[Any, ...]

    @property
    def Message(self) -> str:
        """The .NET message text (``str(ex)`` gives the same)."""
        return self._message

    @property
    def InnerException(self) -> BaseException | None:
        """The exception that caused this one, or ``None`` (also ``__cause__`` when given)."""
        return self._inner

    @property
    def HResult(self) -> int:
        """.NET's HRESULT for this type of exception (``-2147024809`` for ``ArgumentException``)."""
        return self._hresult

    def ToString(self) -> str:
        """What .NET's ``Exception.ToString()`` prints: the full type name and the message, the inner
        exception after `` ---> `` and ``   --- End of inner exception stack trace ---``, then the
        stack trace (innermost call first, ``   at function in file:line N``) once the exception was raised."""
        return _to_string(cast(BaseException, self), self._head())

    def GetBaseException(self) -> BaseException:
        """The innermost exception of the ``InnerException`` chain (this one when it has none)."""
        inner: BaseException = self  # type: ignore[assignment]
        while True:
            nxt = getattr(inner, "InnerException", None)
            if not isinstance(nxt, BaseException):
                return inner
            inner = nxt

    def _head(self) -> str:
        return f"{self._dotnet_type}: {self._message}" if self._message else self._dotnet_type

    def _set_inner(self, inner_exception: BaseException | None) -> None:
        if inner_exception is not None:
            self.__dict__["_inner"] = inner_exception
            cast(BaseException, self).__cause__ = inner_exception

    def __str__(self) -> str:
        return self._message

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), self._ctor_args, self.__dict__)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    message = Message
    inner_exception = InnerException
    h_result = HResult
    to_string = ToString
    get_base_exception = GetBaseException
    # -- end of PEP 8 spellings --


def _stack_trace(exc: BaseException) -> str | None:
    """.NET's ``StackTrace`` text for a raised exception: innermost frame first."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return None
    return "\n".join(f"   at {f.name} in {f.filename}:line {f.lineno}" for f in reversed(frames))


def exception_to_string(exc: BaseException) -> str:
    """``ToString()`` of any exception, .NET's or Python's, in .NET's layout."""
    to_string = getattr(exc, "ToString", None)
    if callable(to_string):
        return str(to_string())
    cls = type(exc)
    name = cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__qualname__}"
    text = str(exc)
    return _to_string(exc, f"{name}: {text}" if text else name)


def _to_string(exc: BaseException, head: str) -> str:
    parts = [head]
    inner = getattr(exc, "InnerException", None)
    if isinstance(inner, BaseException):
        parts.append("\n ---> " + exception_to_string(inner) + "\n   --- End of inner exception stack trace ---")
    trace = _stack_trace(exc)
    if trace is not None:
        parts.append("\n" + trace)
    return "".join(parts)


def _with_param(text: str, param_name: str | None) -> str:
    return text if not param_name else f"{text} (Parameter '{param_name}')"


@dotnet_names
class ArgumentException(_DotNetException, ValueError):
    """An argument is not valid.  ``ParamName`` is the .NET name of the parameter."""

    _default_message = "Value does not fall within the expected range."
    _dotnet_type = "System.ArgumentException"
    _hresult = -2147024809

    def __init__(
        self,
        message: str | None = None,
        param_name: str | BaseException | None = None,
        inner_exception: BaseException | None = None,
    ) -> None:
        """``ArgumentException([message[, param_name][, inner_exception]])``, .NET's overloads."""
        if isinstance(param_name, BaseException):  # (message, innerException)
            param_name, inner_exception = None, param_name
        self._ctor_args = (message, param_name)
        self._param_name = param_name
        self._message = _with_param(self._default_message if message is None else message, param_name)
        super().__init__(self._message)
        self._set_inner(inner_exception)

    @property
    def ParamName(self) -> str | None:
        """The .NET name of the offending parameter (``"buffer"``, ``"remoteEP"``, ...)."""
        return self._param_name

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    param_name = ParamName
    # -- end of PEP 8 spellings --


@dotnet_names
class ArgumentNullException(ArgumentException, TypeError):
    """A required argument was ``None``."""

    _default_message = "Value cannot be null."
    _dotnet_type = "System.ArgumentNullException"
    _hresult = -2147467261

    def __init__(
        self,
        param_name: str | None = None,
        message: str | BaseException | None = None,
        inner_exception: BaseException | None = None,
    ) -> None:
        """``ArgumentNullException([param_name[, message]])`` or ``ArgumentNullException(message, inner_exception)``."""
        if isinstance(message, BaseException):  # (message, innerException)
            param_name, message, inner_exception = None, param_name, message
        super().__init__(message, param_name, inner_exception)
        self._ctor_args = (param_name, message)


@dotnet_names
class ArgumentOutOfRangeException(ArgumentException):
    """An argument is outside the range the method allows.  ``ActualValue`` is the value given."""

    _default_message = "Specified argument was out of the range of valid values."
    _dotnet_type = "System.ArgumentOutOfRangeException"
    _hresult = -2146233086

    def __init__(
        self,
        param_name: str | None = None,
        actual_value: object = None,
        message: str | None = None,
        inner_exception: BaseException | None = None,
    ) -> None:
        """``ArgumentOutOfRangeException([param_name[, actual_value][, message]])``, or
        ``ArgumentOutOfRangeException(message, inner_exception)``."""
        if isinstance(actual_value, BaseException) and message is None:  # (message, innerException)
            param_name, message, actual_value, inner_exception = None, param_name, None, actual_value
        super().__init__(message, param_name, inner_exception)
        self._ctor_args = (param_name, actual_value, message)
        self._actual_value = actual_value
        if actual_value is not None:
            self._message = f"{self._message}\nActual value was {actual_value}."
            self.args = (self._message,)

    @property
    def ActualValue(self) -> object:
        """The value that was out of range, or ``None`` when it was not given."""
        return self._actual_value

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    actual_value = ActualValue
    # -- end of PEP 8 spellings --


@dotnet_names
class FormatException(_DotNetException, ValueError):
    """A string is not in the expected format (``IPAddress.Parse``)."""

    _default_message = "One of the identified items was in an invalid format."
    _dotnet_type = "System.FormatException"
    _hresult = -2146233033

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class InvalidOperationException(_DotNetException, RuntimeError):
    """The call is not valid in the object's current state."""

    _default_message = "Operation is not valid due to the current state of the object."
    _dotnet_type = "System.InvalidOperationException"
    _hresult = -2146233079

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class ObjectDisposedException(InvalidOperationException):
    """The object (for a socket: ``"System.Net.Sockets.Socket"``) was closed or disposed."""

    _default_message = "Cannot access a disposed object."
    _dotnet_type = "System.ObjectDisposedException"
    _hresult = -2146232798

    def __init__(
        self,
        object_name: str | None = None,
        message: str | BaseException | None = None,
        inner_exception: BaseException | None = None,
    ) -> None:
        """``ObjectDisposedException([object_name[, message]])``, or ``(message, inner_exception)``."""
        if isinstance(message, BaseException):  # (message, innerException)
            object_name, message, inner_exception = None, object_name, message
        super().__init__(message, inner_exception)
        self._ctor_args = (object_name, message)
        self._object_name = object_name
        if object_name:
            self._message = f"{self._message}\nObject name: '{object_name}'."
            self.args = (self._message,)

    @property
    def ObjectName(self) -> str:
        """The name of the disposed object (empty when not given, as in .NET)."""
        return self._object_name or ""

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    object_name = ObjectName
    # -- end of PEP 8 spellings --


@dotnet_names
class NotSupportedException(_DotNetException, RuntimeError):
    """The operation is not supported (on this platform, or by this object)."""

    _default_message = "Specified method is not supported."
    _dotnet_type = "System.NotSupportedException"
    _hresult = -2146233067

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class NotImplementedException(_DotNetException, NotImplementedError):
    """The method exists in .NET but is not implemented here."""

    _default_message = "The method or operation is not implemented."
    _dotnet_type = "System.NotImplementedException"
    _hresult = -2147467263

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class SecurityException(_DotNetException, PermissionError):
    """The caller lacks a permission the operation needs."""

    _default_message = "Security error."
    _dotnet_type = "System.Security.SecurityException"
    _hresult = -2146233078

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


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

    _dotnet_type = "System.Net.Sockets.SocketException"
    _hresult = -2147467259  # E_FAIL, as for every Win32Exception
    _se: SocketError
    _native: int

    def __init__(self, error_code: SocketError | int = SocketError.SocketError, *, endpoint: object = None) -> None:
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

    def _head(self) -> str:
        # Win32Exception.ToString(): the native code in brackets after the type name.
        native = self._native
        if native in (0, self._hresult):
            return super()._head()
        code = f"0x{native & 0xFFFFFFFF:08X}" if native < 0 else str(native)
        head = f"{self._dotnet_type} ({code})"
        return f"{head}: {self._message}" if self._message else head

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild_socket_exception, (type(self), int(self._se), self._native, self._message), None)

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    socket_error_code = SocketErrorCode
    error_code = ErrorCode
    native_error_code = NativeErrorCode
    # -- end of PEP 8 spellings --


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
    _dotnet_type = "System.PlatformNotSupportedException"
    _hresult = -2146233031


@dotnet_names
class IOException(_DotNetException, OSError):
    """An I/O error on a stream.  ``NetworkStream`` wraps the ``SocketException`` in ``InnerException``."""

    _default_message = "I/O error occurred."
    _dotnet_type = "System.IO.IOException"
    _hresult = -2146232800

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

    def __str__(self) -> str:
        return self._message


@dotnet_names
class EndOfStreamException(IOException, EOFError):
    """A read needed more bytes than the stream had before its end (``ReadExactly``)."""

    _default_message = "Attempted to read past the end of the stream."
    _dotnet_type = "System.IO.EndOfStreamException"
    _hresult = -2147024858


@dotnet_names
class OperationCanceledException(_DotNetException, Exception):
    """An operation ended because its ``CancellationToken`` was cancelled.

    ``CancellationToken`` is the token that was cancelled (``CancellationToken.None_`` when unknown).
    It is not an ``asyncio.CancelledError``: ``task.cancel()`` keeps its asyncio meaning and raises that.
    """

    _default_message = "The operation was canceled."
    _dotnet_type = "System.OperationCanceledException"
    _hresult = -2146233029

    def __init__(
        self, message: str | None = None, token: object = None, inner_exception: BaseException | None = None
    ) -> None:
        """``OperationCanceledException([message][, token])`` or ``(message, inner_exception[, token])``."""
        if isinstance(token, BaseException):  # (message, innerException[, token])
            token, inner_exception = inner_exception, token
        self._ctor_args = (message, token)
        self._message = self._default_message if message is None else message
        self._token = token
        super().__init__(self._message)
        self._set_inner(inner_exception)

    @property
    def CancellationToken(self) -> Any:
        """The token whose cancellation ended the operation."""
        if self._token is None:
            from .cancellation import CancellationToken

            return CancellationToken.None_
        return self._token

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    cancellation_token = CancellationToken
    # -- end of PEP 8 spellings --


@dotnet_names
class TaskCanceledException(OperationCanceledException):
    """A task-returning operation (``Dns.GetHostAddressesAsync``, ...) was cancelled."""

    _default_message = "A task was canceled."
    _dotnet_type = "System.Threading.Tasks.TaskCanceledException"


@dotnet_names
class SemaphoreFullException(_DotNetException, Exception):
    """``Release`` would raise a semaphore's count above its maximum."""

    _default_message = "Adding the specified count to the semaphore would cause it to exceed its maximum count."
    _dotnet_type = "System.Threading.SemaphoreFullException"
    _hresult = -2146233087

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message,)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class AggregateException(_DotNetException, Exception):
    """Several exceptions at once (callbacks of a cancelled token that raised).  ``InnerExceptions`` lists them."""

    _default_message = "One or more errors occurred."
    _dotnet_type = "System.AggregateException"

    def __init__(self, message: str | None = None, inner_exceptions: Sequence[BaseException] = ()) -> None:
        self._ctor_args = (message, tuple(inner_exceptions))
        self._inner_list = tuple(inner_exceptions)
        text = self._default_message if message is None else message
        if self._inner_list:
            text += " " + " ".join(f"({e})" for e in self._inner_list)
        self._message = text
        super().__init__(self._message)
        if self._inner_list:
            self._set_inner(self._inner_list[0])

    @property
    def InnerExceptions(self) -> tuple[BaseException, ...]:
        """Every exception collected, in the order they were raised."""
        return self._inner_list

    def ToString(self) -> str:
        """.NET's layout: the first inner exception as any exception's, then each other one between
        ``---> (Inner Exception #i)`` and ``<---``."""
        text = super().ToString()
        for i, inner in enumerate(self._inner_list[1:], 1):
            text += f"\n ---> (Inner Exception #{i}) {exception_to_string(inner)}<---\n"
        return text

    # -- PEP 8 spellings: written by tools/gen_names.py, do not edit --
    inner_exceptions = InnerExceptions
    to_string = ToString
    # -- end of PEP 8 spellings --


class _MessageException(_DotNetException, Exception):
    """``(message=None, inner_exception=None)``, the constructor of the exceptions below (the DNS
    record lookups' ``Dns.Resolve*`` raise them)."""

    def __init__(self, message: str | None = None, inner_exception: BaseException | None = None) -> None:
        self._ctor_args = (message, inner_exception)
        self._message = self._default_message if message is None else message
        super().__init__(self._message)
        self._set_inner(inner_exception)


@dotnet_names
class TimeoutException(_MessageException, TimeoutError):
    """No DNS server answered in time (each server is asked three times, three seconds each)."""

    _default_message = "The operation has timed out."
    _dotnet_type = "System.TimeoutException"
    _hresult = -2146233083


@dotnet_names
class InvalidDataException(_MessageException):
    """A DNS answer was malformed (.NET's ``System.IO.InvalidDataException``)."""

    _default_message = "Found invalid data while decoding."
    _dotnet_type = "System.IO.InvalidDataException"
    _hresult = -2146233085
