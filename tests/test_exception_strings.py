"""Every exception has .NET's Message, InnerException, HResult and ToString().

The expected texts and numbers were printed by .NET Core 3.1 (``e.HResult``, ``e.Message``,
``e.ToString()`` of the same constructor calls).
"""

from __future__ import annotations

import pickle

import pytest

from dotnet_sockets import (
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    FormatException,
    InvalidOperationException,
    IOException,
    NotSupportedException,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    SecurityException,
    SemaphoreFullException,
    SocketError,
    SocketException,
    TaskCanceledException,
)
from dotnet_sockets.exceptions import AggregateException, NotImplementedException, exception_to_string

CASES = [
    (ArgumentException("bad", "x"), -2147024809, "System.ArgumentException: bad (Parameter 'x')"),
    (ArgumentException(), -2147024809, "System.ArgumentException: Value does not fall within the expected range."),
    (
        ArgumentNullException("buf"),
        -2147467261,
        "System.ArgumentNullException: Value cannot be null. (Parameter 'buf')",
    ),
    (
        ArgumentOutOfRangeException("size", 5, "Too big."),
        -2146233086,
        "System.ArgumentOutOfRangeException: Too big. (Parameter 'size')\nActual value was 5.",
    ),
    (
        ObjectDisposedException("System.Net.Sockets.Socket"),
        -2146232798,
        "System.ObjectDisposedException: Cannot access a disposed object.\nObject name: 'System.Net.Sockets.Socket'.",
    ),
    (
        InvalidOperationException(),
        -2146233079,
        "System.InvalidOperationException: Operation is not valid due to the current state of the object.",
    ),
    (NotSupportedException(), -2146233067, "System.NotSupportedException: Specified method is not supported."),
    (
        NotImplementedException(),
        -2147467263,
        "System.NotImplementedException: The method or operation is not implemented.",
    ),
    (FormatException(), -2146233033, "System.FormatException: One of the identified items was in an invalid format."),
    (SecurityException(), -2146233078, "System.Security.SecurityException: Security error."),
    (SocketException(10061), -2147467259, "System.Net.Sockets.SocketException (111): Connection refused"),
    (
        PlatformNotSupportedException(),
        -2146233031,
        "System.PlatformNotSupportedException: Operation is not supported on this platform.",
    ),
    (IOException(), -2146232800, "System.IO.IOException: I/O error occurred."),
    (OperationCanceledException(), -2146233029, "System.OperationCanceledException: The operation was canceled."),
    (TaskCanceledException(), -2146233029, "System.Threading.Tasks.TaskCanceledException: A task was canceled."),
    (
        SemaphoreFullException(),
        -2146233087,
        "System.Threading.SemaphoreFullException: Adding the specified count to the semaphore would cause it to "
        "exceed its maximum count.",
    ),
    (AggregateException(), -2146233088, "System.AggregateException: One or more errors occurred."),
]


@pytest.mark.parametrize(("exc", "hresult", "text"), CASES, ids=[type(c[0]).__name__ for c in CASES])
def test_to_string_and_hresult_as_dotnet_prints_them(exc: BaseException, hresult: int, text: str) -> None:
    assert exc.ToString() == text  # type: ignore[attr-defined]
    assert exc.to_string() == text  # type: ignore[attr-defined]
    assert exc.HResult == hresult  # type: ignore[attr-defined]
    assert exc.h_result == hresult  # type: ignore[attr-defined]
    assert exc.InnerException is None  # type: ignore[attr-defined]
    assert str(exc) == exc.Message  # type: ignore[attr-defined]


def test_inner_exception_is_printed_between_arrows() -> None:
    inner = SocketException(SocketError.ConnectionRefused)
    outer = ArgumentException("outer", "p", inner)
    assert outer.InnerException is inner
    assert outer.inner_exception is inner
    assert outer.__cause__ is inner
    assert outer.ParamName == "p"
    assert outer.ToString() == (
        "System.ArgumentException: outer (Parameter 'p')\n"
        " ---> System.Net.Sockets.SocketException (111): Connection refused\n"
        "   --- End of inner exception stack trace ---"
    )
    io = IOException("Unable to write", SocketException(SocketError.ConnectionReset))
    assert io.ToString() == (
        "System.IO.IOException: Unable to write\n"
        " ---> System.Net.Sockets.SocketException (104): Connection reset by peer\n"
        "   --- End of inner exception stack trace ---"
    )


@pytest.mark.parametrize(
    "make",
    [
        lambda inner: ArgumentException("m", inner),
        lambda inner: ArgumentNullException("m", inner),
        lambda inner: ArgumentOutOfRangeException("m", inner),
        lambda inner: ObjectDisposedException("m", inner),
        lambda inner: InvalidOperationException("m", inner),
        lambda inner: NotSupportedException("m", inner),
        lambda inner: PlatformNotSupportedException("m", inner),
        lambda inner: FormatException("m", inner),
        lambda inner: SecurityException("m", inner),
        lambda inner: SemaphoreFullException("m", inner),
        lambda inner: OperationCanceledException("m", inner),
        lambda inner: TaskCanceledException("m", inner),
        lambda inner: IOException("m", inner),
    ],
)
def test_message_and_inner_exception_overload(make: object) -> None:
    inner = ValueError("why")
    exc = make(inner)  # type: ignore[operator]
    assert exc.Message == "m"
    assert exc.InnerException is inner
    assert exc.GetBaseException() is inner
    assert exc.ToString().endswith(" ---> ValueError: why\n   --- End of inner exception stack trace ---")
    if isinstance(exc, ArgumentException):
        assert exc.ParamName is None


def test_aggregate_lists_the_other_inner_exceptions() -> None:
    agg = AggregateException(None, [ValueError("a"), InvalidOperationException("b")])
    assert agg.Message == "One or more errors occurred. (a) (b)"
    assert agg.ToString() == (
        "System.AggregateException: One or more errors occurred. (a) (b)\n"
        " ---> ValueError: a\n"
        "   --- End of inner exception stack trace ---\n"
        " ---> (Inner Exception #1) System.InvalidOperationException: b<---\n"
    )


def test_raised_exception_prints_its_stack_innermost_first() -> None:
    def fail() -> None:
        raise InvalidOperationException("in")

    try:
        try:
            fail()
        except InvalidOperationException as inner:
            raise IOException("out", inner) from inner
    except IOException as exc:
        lines = exc.ToString().split("\n")
    assert lines[0] == "System.IO.IOException: out"
    assert lines[1] == " ---> System.InvalidOperationException: in"
    assert lines[2].startswith("   at fail in ") and __file__ in lines[2]
    assert lines[3].startswith("   at test_raised_exception_prints_its_stack_innermost_first in ")
    assert lines[4] == "   --- End of inner exception stack trace ---"
    assert lines[5].startswith("   at test_raised_exception_prints_its_stack_innermost_first in ")
    assert len(lines) == 6


def test_socket_exception_with_negative_native_code_prints_hex() -> None:
    exc = SocketException._from_errno(5)
    exc._native = -131073
    assert exc.ToString().startswith("System.Net.Sockets.SocketException (0xFFFDFFFF): ")


def test_python_exceptions_print_in_the_same_layout() -> None:
    assert exception_to_string(ValueError("x")) == "ValueError: x"
    assert exception_to_string(KeyError()) == "KeyError"


def test_inner_exception_survives_pickling() -> None:
    exc = pickle.loads(pickle.dumps(ArgumentException("a", "b", ValueError("c"))))
    assert exc.ParamName == "b"
    assert isinstance(exc.InnerException, ValueError)
    odce = pickle.loads(pickle.dumps(ObjectDisposedException("System.Net.Sockets.Socket")))
    assert odce.ObjectName == "System.Net.Sockets.Socket"
    assert odce.InnerException is None
