"""The .NET exception classes: bases, attributes, messages, PEP 8 aliases, pickling."""

from __future__ import annotations

import errno
import os
import pickle
import socket

import pytest

from dotnet_sockets.enums import SocketError
from dotnet_sockets.exceptions import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    InvalidOperationException,
    NotImplementedException,
    NotSupportedException,
    ObjectDisposedException,
    SecurityException,
    SocketException,
)

# ---------------------------------------------------------------- bases


@pytest.mark.parametrize(
    ("cls", "bases"),
    [
        (ArgumentException, (ValueError,)),
        (ArgumentNullException, (ArgumentException, ValueError, TypeError)),
        (ArgumentOutOfRangeException, (ArgumentException, ValueError)),
        (FormatException, (ValueError,)),
        (InvalidOperationException, (RuntimeError,)),
        (ObjectDisposedException, (InvalidOperationException, RuntimeError)),
        (NotSupportedException, (RuntimeError,)),
        (NotImplementedException, (NotImplementedError,)),
        (SecurityException, (PermissionError, OSError)),
        (SocketException, (OSError,)),
    ],
)
def test_bases(cls: type[Exception], bases: tuple[type, ...]) -> None:
    for base in bases:
        assert issubclass(cls, base)


def test_argument_null_is_caught_as_value_error_and_type_error() -> None:
    with pytest.raises(ValueError):
        raise ArgumentNullException("buffer")
    with pytest.raises(TypeError):
        raise ArgumentNullException("buffer")


def test_socket_exception_is_not_an_argument_error() -> None:
    assert not issubclass(SocketException, ValueError)
    assert not issubclass(ObjectDisposedException, OSError)


# ---------------------------------------------------------------- argument exceptions


def test_argument_exception_messages() -> None:
    assert str(ArgumentException()) == "Value does not fall within the expected range."
    ex = ArgumentException("The endpoint is not an IPEndPoint.", "remoteEP")
    assert ex.ParamName == "remoteEP"
    assert ex.param_name == "remoteEP"
    assert str(ex) == "The endpoint is not an IPEndPoint. (Parameter 'remoteEP')"
    assert ex.Message == str(ex)
    assert ex.message == ex.Message
    assert ArgumentException("bad").ParamName is None
    assert str(ArgumentException("bad")) == "bad"


def test_argument_null_exception() -> None:
    ex = ArgumentNullException("buffer")
    assert ex.ParamName == "buffer"
    assert str(ex) == "Value cannot be null. (Parameter 'buffer')"
    assert str(ArgumentNullException()) == "Value cannot be null."
    assert str(ArgumentNullException("x", "custom")) == "custom (Parameter 'x')"


def test_argument_out_of_range_exception() -> None:
    ex = ArgumentOutOfRangeException("offset", 17)
    assert ex.ParamName == "offset"
    assert ex.ActualValue == 17
    assert ex.actual_value == 17
    assert str(ex) == (
        "Specified argument was out of the range of valid values. (Parameter 'offset')\nActual value was 17."
    )
    plain = ArgumentOutOfRangeException("size")
    assert plain.ActualValue is None
    assert str(plain) == "Specified argument was out of the range of valid values. (Parameter 'size')"
    zero = ArgumentOutOfRangeException("size", 0)
    assert str(zero).endswith("Actual value was 0.")


def test_other_messages() -> None:
    assert str(InvalidOperationException("twice")) == "twice"
    assert (
        str(InvalidOperationException()) == "Operation is not valid due to the current state of the object."
    )
    assert str(NotSupportedException()) == "Specified method is not supported."
    assert (
        str(FormatException("An invalid IP address was specified.")) == "An invalid IP address was specified."
    )
    assert str(NotImplementedException()) == "The method or operation is not implemented."
    assert str(SecurityException("no")) == "no"


def test_object_disposed_exception() -> None:
    ex = ObjectDisposedException("System.Net.Sockets.Socket")
    assert ex.ObjectName == "System.Net.Sockets.Socket"
    assert ex.object_name == ex.ObjectName
    assert str(ex) == "Cannot access a disposed object.\nObject name: 'System.Net.Sockets.Socket'."
    assert ObjectDisposedException(None).ObjectName == ""
    assert str(ObjectDisposedException(None)) == "Cannot access a disposed object."


# ---------------------------------------------------------------- SocketException


@pytest.mark.parametrize(
    ("se", "error_code", "native"),
    [
        (SocketError.MessageSize, 10040, 90),
        (SocketError.AccessDenied, 10013, 13),
        (SocketError.Shutdown, 10058, 32),
        (SocketError.ConnectionRefused, 10061, 111),
        (SocketError.TimedOut, 10060, 110),
        (SocketError.OperationAborted, 995, 125),
        (SocketError.OperationNotSupported, 10045, 95),
    ],
)
def test_socket_exception_codes(se: SocketError, error_code: int, native: int) -> None:
    for ex in (SocketException(se), SocketException(int(se)), SocketException(error_code=se)):
        assert ex.SocketErrorCode is se
        assert ex.ErrorCode == error_code == int(ex.SocketErrorCode)
        assert ex.NativeErrorCode == native
        assert ex.errno == native
        assert ex.Message == os.strerror(native)
        assert ex.strerror == ex.Message
        assert str(ex) == ex.Message


def test_message_size_text() -> None:
    ex = SocketException(SocketError.MessageSize)
    assert str(ex) == "Message too long"
    assert SocketException(SocketError.AccessDenied).Message == "Permission denied"


def test_int_argument_is_a_socket_error_number_not_an_errno() -> None:
    ex = SocketException(10061)
    assert ex.SocketErrorCode is SocketError.ConnectionRefused
    assert ex.errno == errno.ECONNREFUSED


def test_pep8_aliases_are_the_same_objects() -> None:
    ex = SocketException(SocketError.MessageSize)
    assert ex.socket_error_code is ex.SocketErrorCode
    assert ex.error_code == ex.ErrorCode
    assert ex.native_error_code == ex.NativeErrorCode
    assert ex.message == ex.Message
    assert SocketException.socket_error_code is SocketException.SocketErrorCode
    assert SocketException.error_code is SocketException.ErrorCode
    assert SocketException.native_error_code is SocketException.NativeErrorCode
    assert ArgumentException.param_name is ArgumentException.ParamName


def test_default_and_unmapped_errors_still_have_text() -> None:
    ex = SocketException()
    assert ex.SocketErrorCode is SocketError.SocketError
    assert ex.ErrorCode == -1
    assert str(ex)
    host = SocketException(SocketError.HostNotFound)
    assert host.ErrorCode == 11001
    assert host.NativeErrorCode == 11001
    assert str(host) == "Name or service not known"
    odd = SocketException(4242)
    assert odd.ErrorCode == 4242
    assert odd.SocketErrorCode == 4242
    assert "4242" in str(odd)


def test_success_is_representable() -> None:
    ex = SocketException(SocketError.Success)
    assert ex.ErrorCode == 0
    assert ex.NativeErrorCode == 0


def test_endpoint_is_appended_to_the_message() -> None:
    ex = SocketException(SocketError.ConnectionRefused, endpoint="127.0.0.1:1")
    assert str(ex) == "Connection refused 127.0.0.1:1"
    assert ex.errno == 111
    raw = SocketException._from_errno(errno.ECONNREFUSED, endpoint="127.0.0.1:1")
    assert str(raw) == "Connection refused 127.0.0.1:1"


def test_from_errno_keeps_the_exact_errno() -> None:
    ex = SocketException._from_errno(errno.EPERM)
    assert ex.SocketErrorCode is SocketError.AccessDenied
    assert ex.ErrorCode == 10013
    assert ex.NativeErrorCode == errno.EPERM  # not EACCES: the real errno is kept
    assert ex.errno == errno.EPERM
    assert str(ex) == os.strerror(errno.EPERM)
    unknown = SocketException._from_errno(errno.ENOMEM)
    assert unknown.SocketErrorCode is SocketError.SocketError
    assert unknown.NativeErrorCode == errno.ENOMEM
    assert str(unknown) == os.strerror(errno.ENOMEM)


def test_from_os_error_plain() -> None:
    ex = SocketException._from_os_error(OSError(errno.EMSGSIZE, "Message too long"))
    assert ex.SocketErrorCode is SocketError.MessageSize
    assert (ex.ErrorCode, ex.NativeErrorCode, ex.errno) == (10040, 90, 90)
    refused = SocketException._from_os_error(ConnectionRefusedError(errno.ECONNREFUSED, "x"))
    assert refused.SocketErrorCode is SocketError.ConnectionRefused
    no_errno = SocketException._from_os_error(OSError("something odd"))
    assert no_errno.SocketErrorCode is SocketError.SocketError
    assert str(no_errno) == "something odd"


def test_from_os_error_of_a_real_failed_send() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        with pytest.raises(OSError) as info:
            s.sendto(b"x" * 70000, ("127.0.0.1", 9))
    ex = SocketException._from_os_error(info.value)
    assert ex.SocketErrorCode is SocketError.MessageSize
    assert ex.ErrorCode == 10040
    assert ex.errno == 90


def test_from_os_error_timeouts() -> None:
    ex = SocketException._from_os_error(TimeoutError("timed out"))  # what socket.timeout raises
    assert ex.SocketErrorCode is SocketError.TimedOut
    assert ex.NativeErrorCode == errno.ETIMEDOUT
    assert ex.ErrorCode == 10060
    kernel = SocketException._from_os_error(TimeoutError(errno.ETIMEDOUT, "Connection timed out"))
    assert kernel.SocketErrorCode is SocketError.TimedOut


@pytest.mark.parametrize(
    ("code_name", "se"),
    [
        ("EAI_NONAME", SocketError.HostNotFound),
        ("EAI_AGAIN", SocketError.TryAgain),
        ("EAI_FAIL", SocketError.NoRecovery),
        ("EAI_NODATA", SocketError.NoData),
    ],
)
def test_from_os_error_gaierror(code_name: str, se: SocketError) -> None:
    code = getattr(socket, code_name, None)
    if code is None:
        pytest.skip(f"socket.{code_name} is not defined by this libc")
    ex = SocketException._from_os_error(socket.gaierror(code, "resolver text"))
    assert ex.SocketErrorCode is se
    assert ex.ErrorCode == int(se)
    assert ex.NativeErrorCode == code
    assert str(ex) == "resolver text"


def test_from_os_error_herror() -> None:
    ex = SocketException._from_os_error(socket.herror(1, "Unknown host"))
    assert ex.SocketErrorCode is SocketError.HostNotFound
    assert str(ex) == "Unknown host"


def test_from_os_error_passes_socket_exceptions_through() -> None:
    original = SocketException(SocketError.Shutdown)
    assert SocketException._from_os_error(original) is original


# ---------------------------------------------------------------- pickling


@pytest.mark.parametrize(
    "ex",
    [
        ArgumentException("bad", "buffer"),
        ArgumentNullException("remoteEP"),
        ArgumentOutOfRangeException("size", 99),
        FormatException("nope"),
        InvalidOperationException("twice"),
        ObjectDisposedException("System.Net.Sockets.Socket"),
        NotSupportedException(),
        NotImplementedException(),
        SecurityException("denied"),
    ],
)
def test_pickle_round_trip(ex: Exception) -> None:
    copy = pickle.loads(pickle.dumps(ex))
    assert type(copy) is type(ex)
    assert str(copy) == str(ex)
    for attr in ("ParamName", "ActualValue", "ObjectName"):
        if hasattr(ex, attr):
            assert getattr(copy, attr) == getattr(ex, attr)


def test_pickle_socket_exception() -> None:
    for ex in (
        SocketException(SocketError.MessageSize),
        SocketException._from_errno(errno.EPERM),
        SocketException(SocketError.ConnectionRefused, endpoint="127.0.0.1:1"),
        SocketException._from_os_error(socket.gaierror(socket.EAI_NONAME, "Name or service not known")),
    ):
        copy = pickle.loads(pickle.dumps(ex))
        assert type(copy) is SocketException
        assert copy.SocketErrorCode is ex.SocketErrorCode
        assert (copy.ErrorCode, copy.NativeErrorCode, copy.errno) == (
            ex.ErrorCode,
            ex.NativeErrorCode,
            ex.errno,
        )
        assert str(copy) == str(ex)


class MySocketError(SocketException):
    pass


def test_subclass_pickles_as_itself() -> None:
    ex = MySocketError._from_errno(errno.ETIMEDOUT)
    assert type(ex) is MySocketError
    copy = pickle.loads(pickle.dumps(MySocketError(SocketError.TimedOut)))
    assert type(copy) is MySocketError
    assert copy.SocketErrorCode is SocketError.TimedOut
