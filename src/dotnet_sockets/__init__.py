""".NET's ``System.Net.Sockets`` socket API for CPython.

Every public name of the API contract is importable from here::

    from dotnet_sockets import Socket, IPEndPoint, IPAddress, SocketFlags
"""

from __future__ import annotations

from .addresses import DnsEndPoint, EndPoint, IPAddress, IPEndPoint, UnixDomainSocketEndPoint
from .aio import TaskFactory, from_async
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, CancellationTokenRegistration, CancellationTokenSource
from .dns import Dns, IPHostEntry
from .encoding import Encoding
from .enums import (
    AddressFamily,
    ProtocolType,
    SelectMode,
    SocketAsyncOperation,
    SocketError,
    SocketFlags,
    SocketOptionLevel,
    SocketOptionName,
    SocketShutdown,
    SocketType,
)
from .eventargs import SocketAsyncEventArgs
from .exceptions import (
    AggregateException,
    ArgumentException,
    ArgumentNullException,
    ArgumentOutOfRangeException,
    EndOfStreamException,
    FormatException,
    InvalidOperationException,
    IOException,
    NotImplementedException,
    NotSupportedException,
    ObjectDisposedException,
    OperationCanceledException,
    PlatformNotSupportedException,
    SecurityException,
    SemaphoreFullException,
    SocketException,
    TaskCanceledException,
)
from .execution_context import AsyncFlowControl, ExecutionContext
from .options import IPv6MulticastOption, LingerOption, MulticastOption
from .results import SocketReceiveFromResult
from .socket import Socket, set_inline_completions
from .waithandles import AutoResetEvent, EventWaitHandle, ManualResetEvent, WaitHandle

__version__ = "0.1.0"

__all__ = [
    "AddressFamily",
    "AggregateException",
    "ArgumentException",
    "ArgumentNullException",
    "ArgumentOutOfRangeException",
    "AsyncCallback",
    "AsyncFlowControl",
    "AutoResetEvent",
    "CancellationToken",
    "CancellationTokenRegistration",
    "CancellationTokenSource",
    "Dns",
    "DnsEndPoint",
    "Encoding",
    "EndOfStreamException",
    "EndPoint",
    "EventWaitHandle",
    "ExecutionContext",
    "FormatException",
    "IAsyncResult",
    "IOException",
    "IPAddress",
    "IPEndPoint",
    "IPHostEntry",
    "IPv6MulticastOption",
    "InvalidOperationException",
    "LingerOption",
    "ManualResetEvent",
    "MulticastOption",
    "NotImplementedException",
    "NotSupportedException",
    "ObjectDisposedException",
    "OperationCanceledException",
    "PlatformNotSupportedException",
    "ProtocolType",
    "SecurityException",
    "SelectMode",
    "SemaphoreFullException",
    "Socket",
    "SocketAsyncEventArgs",
    "SocketAsyncOperation",
    "SocketError",
    "SocketException",
    "SocketFlags",
    "SocketOptionLevel",
    "SocketOptionName",
    "SocketReceiveFromResult",
    "SocketShutdown",
    "SocketType",
    "TaskCanceledException",
    "TaskFactory",
    "UnixDomainSocketEndPoint",
    "WaitHandle",
    "from_async",
    "set_inline_completions",
]
