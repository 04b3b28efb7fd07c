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
    ConnectAlgorithm,
    IOControlCode,
    IPProtectionLevel,
    ProtocolFamily,
    ProtocolType,
    SelectMode,
    SocketAsyncOperation,
    SocketError,
    SocketFlags,
    SocketInformationOptions,
    SocketOptionLevel,
    SocketOptionName,
    SocketShutdown,
    SocketType,
    TransmitFileOptions,
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
from .handles import SafeSocketHandle, SocketInformation
from .options import IPv6MulticastOption, LingerOption, MulticastOption
from .packets import SendPacketsElement
from .results import IPPacketInformation, SocketReceiveFromResult, SocketReceiveMessageFromResult
from .socket import Socket, set_inline_completions
from .socketaddress import SocketAddress
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
    "ConnectAlgorithm",
    "Dns",
    "DnsEndPoint",
    "Encoding",
    "EndOfStreamException",
    "EndPoint",
    "EventWaitHandle",
    "ExecutionContext",
    "FormatException",
    "IAsyncResult",
    "IOControlCode",
    "IOException",
    "IPAddress",
    "IPEndPoint",
    "IPHostEntry",
    "IPPacketInformation",
    "IPProtectionLevel",
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
    "ProtocolFamily",
    "ProtocolType",
    "SafeSocketHandle",
    "SecurityException",
    "SelectMode",
    "SemaphoreFullException",
    "SendPacketsElement",
    "Socket",
    "SocketAddress",
    "SocketAsyncEventArgs",
    "SocketAsyncOperation",
    "SocketError",
    "SocketException",
    "SocketFlags",
    "SocketInformation",
    "SocketInformationOptions",
    "SocketOptionLevel",
    "SocketOptionName",
    "SocketReceiveFromResult",
    "SocketReceiveMessageFromResult",
    "SocketShutdown",
    "SocketType",
    "TaskCanceledException",
    "TaskFactory",
    "TransmitFileOptions",
    "UnixDomainSocketEndPoint",
    "WaitHandle",
    "from_async",
    "set_inline_completions",
]
