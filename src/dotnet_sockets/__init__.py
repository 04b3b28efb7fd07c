""".NET's ``System.Net.Sockets`` socket API for CPython.

Every public name of the API contract is importable from here::

    from dotnet_sockets import Socket, IPEndPoint, IPAddress, SocketFlags
"""

from __future__ import annotations

from . import _accel
from ._about import __version__ as __version__
from ._about import version_string
from .addresses import DnsEndPoint, EndPoint, IPAddress, IPEndPoint, UnixDomainSocketEndPoint
from .aio import TaskFactory, from_async
from .asyncresult import AsyncCallback, IAsyncResult
from .cancellation import CancellationToken, CancellationTokenRegistration, CancellationTokenSource
from .dns import Dns, IPHostEntry
from .dnsrecords import (
    AddressRecord,
    CNameRecord,
    DnsResolverOptions,
    DnsResponseCode,
    DnsResult,
    MxRecord,
    NsRecord,
    PtrRecord,
    SrvRecord,
    TxtRecord,
)
from .dnsresolver import DnsResolver
from .encoding import Encoding
from .enums import (
    AddressFamily,
    ConnectAlgorithm,
    FileAccess,
    IOControlCode,
    IPProtectionLevel,
    ProtocolFamily,
    ProtocolType,
    SeekOrigin,
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
    InvalidDataException,
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
    TimeoutException,
)
from .execution_context import AsyncFlowControl, ExecutionContext
from .extensions import SocketTaskExtensions
from .handles import SafeSocketHandle, SocketInformation
from .networkstream import NetworkStream
from .options import IPv6MulticastOption, LingerOption, MulticastOption
from .packets import SendPacketsElement
from .results import IPPacketInformation, SocketReceiveFromResult, SocketReceiveMessageFromResult, UdpReceiveResult
from .semaphores import Semaphore, SemaphoreSlim
from .socket import Socket, set_inline_completions
from .socketaddress import SocketAddress
from .tcpclient import TcpClient
from .tcplistener import TcpListener
from .udpclient import UdpClient
from .waithandles import AutoResetEvent, EventWaitHandle, ManualResetEvent, WaitHandle

# Read after every import above: importing ``socket`` installs the accelerator, or falls back.
ACCELERATED: bool = _accel.ACCELERATED
"""True when the compiled send path runs (built at install, ``DOTNET_SOCKETS_PURE`` not set);
False on the pure-Python path, which behaves the same and sends 0.6-0.85x as fast.
``version_string()`` says which, and why."""

# Last: its after-fork handler must run after those of every module imported above.
from . import _fork  # noqa: E402, F401

__all__ = [
    "ACCELERATED",
    "AddressFamily",
    "AddressRecord",
    "AggregateException",
    "ArgumentException",
    "ArgumentNullException",
    "ArgumentOutOfRangeException",
    "AsyncCallback",
    "AsyncFlowControl",
    "AutoResetEvent",
    "CNameRecord",
    "CancellationToken",
    "CancellationTokenRegistration",
    "CancellationTokenSource",
    "ConnectAlgorithm",
    "Dns",
    "DnsEndPoint",
    "DnsResolver",
    "DnsResolverOptions",
    "DnsResponseCode",
    "DnsResult",
    "Encoding",
    "EndOfStreamException",
    "EndPoint",
    "EventWaitHandle",
    "ExecutionContext",
    "FileAccess",
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
    "InvalidDataException",
    "InvalidOperationException",
    "LingerOption",
    "ManualResetEvent",
    "MulticastOption",
    "MxRecord",
    "NetworkStream",
    "NotImplementedException",
    "NotSupportedException",
    "NsRecord",
    "ObjectDisposedException",
    "OperationCanceledException",
    "PlatformNotSupportedException",
    "ProtocolFamily",
    "ProtocolType",
    "PtrRecord",
    "SafeSocketHandle",
    "SecurityException",
    "SeekOrigin",
    "SelectMode",
    "Semaphore",
    "SemaphoreFullException",
    "SemaphoreSlim",
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
    "SocketTaskExtensions",
    "SocketType",
    "SrvRecord",
    "TaskCanceledException",
    "TaskFactory",
    "TcpClient",
    "TcpListener",
    "TimeoutException",
    "TransmitFileOptions",
    "TxtRecord",
    "UdpClient",
    "UdpReceiveResult",
    "UnixDomainSocketEndPoint",
    "WaitHandle",
    "from_async",
    "set_inline_completions",
    "version_string",
]
