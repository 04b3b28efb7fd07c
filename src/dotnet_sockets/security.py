"""Permission checks: an audit event for every socket operation, and a ready-made policy.

Every socket operation raises the Python audit event
``dotnet_sockets.Socket.<Member>`` (``<Member>`` is the .NET name:
``BeginSendTo``, ``SendTo``, ``Connect``, ``Bind``...) with two arguments: the
``Socket`` and the endpoint the operation addresses (the destination of a
send or connect, the local endpoint of ``Bind``, the peer of an operation on
a connected socket, the ``remote_ep`` given to a receive), or ``None``.  The
event is raised after the argument checks and before anything reaches the
operating system.

An audit hook (``sys.addaudithook``) that raises ``PermissionError`` denies
the operation: the caller gets :class:`SecurityException` from the
``Begin...`` or synchronous call itself, and nothing is sent, as .NET
Framework raised ``SecurityException`` when a ``SocketPermission`` was
missing.

Most programs need no hook of their own::

    from dotnet_sockets.security import SocketPolicy, install_policy

    install_policy(SocketPolicy.loopback_only() & SocketPolicy.no_broadcast())

Audit hooks cannot be removed, so the hook this module adds (once, on the
first :func:`install_policy`) consults a replaceable module-level policy:
``install_policy(None)`` turns checking off again, and
``with using_policy(p): ...`` installs ``p`` for a block.  While a policy is
installed every audit event of the process passes through one Python
function; with no policy ever installed nothing is added.
"""

from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import socket as _socket
import struct
import sys
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Final

from .addresses import DnsEndPoint, IPAddress, IPEndPoint, UnixDomainSocketEndPoint
from .exceptions import SecurityException

__all__ = [
    "EVENT_PREFIX",
    "DESTINATION_MEMBERS",
    "SocketPolicy",
    "install_policy",
    "uninstall_policy",
    "current_policy",
    "using_policy",
    "audit",
    "denied",
]

EVENT_PREFIX: Final = "dotnet_sockets.Socket."

DESTINATION_MEMBERS: Final = frozenset(
    {
        "SendTo",
        "BeginSendTo",
        "SendToAsync",
        "Send",
        "BeginSend",
        "SendAsync",
        "Connect",
        "BeginConnect",
        "ConnectAsync",
    }
)
"""The operations that send to or connect to an endpoint: what the ready-made policies judge."""

_sys_audit = sys.audit


def denied(exc: PermissionError) -> SecurityException:
    """The ``SecurityException`` a caller gets for a ``PermissionError`` raised by an audit hook."""
    text = str(exc) or "The operation was denied by an audit hook."
    return SecurityException(text)


def audit(event: str, sock: object, endpoint: object) -> None:
    """Raise ``event`` with ``(sock, endpoint)``; a hook's ``PermissionError`` becomes ``SecurityException``.

    ``Socket`` calls this (or the same three lines inline on its hottest
    paths) after its argument checks and before it touches the system.
    """
    try:
        _sys_audit(event, sock, endpoint)
    except PermissionError as exc:
        raise denied(exc) from exc


# -- the ready-made policy ------------------------------------------------------------------------

_Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_Target = tuple[_Network, int | None]
_Address = ipaddress.IPv4Address | ipaddress.IPv6Address

_LOOPBACK_NETS: Final = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
_SIOCGIFBRDADDR: Final = 0x8919
_VERDICT_CACHE: Final = 1024


def _interface_broadcasts() -> frozenset[_Address]:
    """The IPv4 broadcast addresses of this machine's interfaces, asked from the kernel."""
    found: set[_Address] = {
        ipaddress.IPv4Address("255.255.255.255"),
        ipaddress.IPv4Address("127.255.255.255"),
    }
    try:
        names = [name for _, name in _socket.if_nameindex()]
        probe = _socket.socket(_socket.AF_INET, _socket.SOCK_DGRAM)
    except OSError:
        return frozenset(found)
    with probe:
        for name in names:
            try:
                raw = fcntl.ioctl(probe.fileno(), _SIOCGIFBRDADDR, struct.pack("256s", name.encode()[:15]))
            except OSError:
                continue
            addr = ipaddress.IPv4Address(raw[20:24])
            if not addr.is_unspecified:
                found.add(addr)
    return frozenset(found)


def _parse_target(target: object) -> _Target:
    """``"10.0.0.0/8"``, ``"::1"``, ``"127.0.0.1:53"``, ``"[::1]:53"``, an ``IPAddress`` or ``IPEndPoint``."""
    if isinstance(target, IPEndPoint):
        return ipaddress.ip_network(_as_ip(target.Address)), target.Port
    if isinstance(target, IPAddress):
        return ipaddress.ip_network(_as_ip(target)), None
    if isinstance(target, (ipaddress.IPv4Network, ipaddress.IPv6Network)):
        return target, None
    if isinstance(target, (ipaddress.IPv4Address, ipaddress.IPv6Address)):
        return ipaddress.ip_network(target), None
    if not isinstance(target, str):
        raise TypeError(f"expected an address, network or endpoint, not {type(target).__name__}")
    text = target.strip()
    port: int | None = None
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest:
            if not rest.startswith(":") or not rest[1:].isdigit():
                raise ValueError(f"bad endpoint {target!r}")
            port = int(rest[1:])
        text = host
    elif text.count(":") == 1:
        text, _, port_text = text.partition(":")
        if not port_text.isdigit():
            raise ValueError(f"bad endpoint {target!r}")
        port = int(port_text)
    if port is not None and not 0 <= port <= 0xFFFF:
        raise ValueError(f"port out of range in {target!r}")
    return ipaddress.ip_network(text, strict=False), port


def _as_ip(address: IPAddress) -> _Address:
    ip = ipaddress.ip_address(address.GetAddressBytes())
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        # A dual-mode socket reaches an IPv4 peer through its mapped form: judge the IPv4 address.
        return ip.ipv4_mapped
    return ip


def _matches(targets: Iterable[_Target], ip: _Address, port: int) -> bool:
    return any(ip in net and (p is None or p == port) for net, p in targets)


class SocketPolicy:
    """Where this process's sockets may send and connect.

    A policy judges the operations in :data:`DESTINATION_MEMBERS` by their
    endpoint; every other operation is allowed.  ``allow`` (when given) is an
    allow-list: only those networks/endpoints may be reached; ``deny`` always
    wins; ``broadcast=False`` refuses the broadcast addresses of this machine
    (``255.255.255.255`` and each interface's, ``127.255.255.255`` included).
    Unix domain endpoints are local and always allowed; a ``DnsEndPoint`` is
    judged after resolution, on the address actually used.

    Combine policies with ``&`` (both must allow).  For rules of your own,
    subclass and override :meth:`check`, or pass ``check=`` a function
    ``(member, socket, endpoint) -> None`` that raises ``PermissionError``.
    """

    __slots__ = ("name", "_allow", "_deny", "_broadcast", "_broadcasts", "_extra", "_parts", "_verdicts")

    def __init__(
        self,
        *,
        allow: Iterable[object] | None = None,
        deny: Iterable[object] = (),
        broadcast: bool = True,
        check: Callable[[str, Any, Any], None] | None = None,
        name: str = "custom",
    ) -> None:
        self.name = name
        self._allow: tuple[_Target, ...] | None = None if allow is None else tuple(map(_parse_target, allow))
        self._deny = tuple(map(_parse_target, deny))
        self._broadcast = broadcast
        self._broadcasts: frozenset[_Address] | None = None  # asked from the kernel on first use
        self._extra = check
        self._parts: tuple[SocketPolicy, ...] = ()
        self._verdicts: dict[tuple[IPAddress, int], str | None] = {}

    # -- ready-made ----------------------------------------------------------------------------
    @classmethod
    def loopback_only(cls) -> SocketPolicy:
        """Sends and connects only to ``127.0.0.0/8`` and ``::1`` (and Unix domain sockets)."""
        return cls(allow=_LOOPBACK_NETS, name="loopback only")

    @classmethod
    def no_broadcast(cls) -> SocketPolicy:
        """No sends to a broadcast address; everything else allowed."""
        return cls(broadcast=False, name="no broadcast")

    @classmethod
    def allow_only(cls, *targets: object) -> SocketPolicy:
        """An allow-list: ``SocketPolicy.allow_only("10.0.0.0/8", "192.168.1.5:53", "::1")``."""
        return cls(allow=targets, name="allow-list")

    @classmethod
    def deny_only(cls, *targets: object) -> SocketPolicy:
        """A deny-list: everything but these networks/endpoints."""
        return cls(deny=targets, name="deny-list")

    def __and__(self, other: SocketPolicy) -> SocketPolicy:
        if not isinstance(other, SocketPolicy):
            return NotImplemented
        both = SocketPolicy(name=f"{self.name} & {other.name}")
        both._parts = (self, other)
        return both

    # -- judging -------------------------------------------------------------------------------
    def reason_to_refuse(self, member: str, endpoint: object) -> str | None:
        """Why ``member`` to ``endpoint`` is refused, or ``None`` when it is allowed."""
        for part in self._parts:
            why = part.reason_to_refuse(member, endpoint)
            if why is not None:
                return why
        if member not in DESTINATION_MEMBERS or endpoint is None:
            return None
        if isinstance(endpoint, UnixDomainSocketEndPoint):
            return None
        if isinstance(endpoint, DnsEndPoint):
            return None  # judged again on the resolved address
        if not isinstance(endpoint, IPEndPoint):
            return None if self._allow is None else f"{type(endpoint).__name__} is not on the allow-list"
        # Judging an address costs microseconds; a program sends to few endpoints, many times.
        key = (endpoint.Address, endpoint.Port)  # IPAddress is immutable and hashable
        try:
            return self._verdicts[key]
        except KeyError:
            pass
        why = self._judge(endpoint)
        if len(self._verdicts) >= _VERDICT_CACHE:
            self._verdicts.clear()
        self._verdicts[key] = why
        return why

    def _judge(self, endpoint: IPEndPoint) -> str | None:
        ip = _as_ip(endpoint.Address)
        port = endpoint.Port
        if _matches(self._deny, ip, port):
            return f"{endpoint} is on the deny-list"
        if self._allow is not None and not _matches(self._allow, ip, port):
            if self._allow and all(net in _LOOPBACK_NETS and p is None for net, p in self._allow):
                return f"{endpoint} is not a loopback address"
            return f"{endpoint} is not on the allow-list"
        if not self._broadcast:
            if self._broadcasts is None:
                self._broadcasts = _interface_broadcasts()
            if ip in self._broadcasts:
                return f"{endpoint} is a broadcast address"
        return None

    def allows(self, member: str, endpoint: object) -> bool:
        """True when ``member`` (a .NET member name such as ``"BeginSendTo"``) may reach ``endpoint``."""
        return self.reason_to_refuse(member, endpoint) is None

    def check(self, member: str, sock: object, endpoint: object) -> None:
        """Raise ``PermissionError`` when the operation is refused (the audit hook calls this)."""
        why = self.reason_to_refuse(member, endpoint)
        if why is not None:
            raise PermissionError(f"SocketPolicy '{self.name}' refuses {member}: {why}.")
        if self._extra is not None:
            self._extra(member, sock, endpoint)

    def __repr__(self) -> str:
        return f"<SocketPolicy {self.name!r}>"


# -- the one hook ----------------------------------------------------------------------------------

_policy: SocketPolicy | None = None
_hook_added = False
_PROBE: Final = "dotnet_sockets.security.probe"
_probe_seen = False


def _hook(event: str, args: tuple[Any, ...]) -> None:
    policy = _policy
    if policy is None or not event.startswith("dotnet_sockets."):
        return
    if event.startswith(EVENT_PREFIX) and len(args) >= 2:
        policy.check(event[len(EVENT_PREFIX) :], args[0], args[1])
    elif event == _PROBE:
        global _probe_seen
        _probe_seen = True


def _ensure_hook() -> None:
    global _hook_added, _probe_seen
    if _hook_added:
        return
    sys.addaudithook(_hook)
    _hook_added = True
    # Another hook may veto sys.addaudithook (the veto is silent): make sure
    # ours runs before trusting it with a policy.
    _probe_seen = False
    sys.audit(_PROBE)
    if not _probe_seen:
        _hook_added = False
        raise RuntimeError("an existing audit hook refused the dotnet_sockets policy hook")


def install_policy(policy: SocketPolicy | None) -> SocketPolicy | None:
    """Make ``policy`` the one in force for every socket of the process; returns the previous one.

    ``None`` turns checking off.
    """
    global _policy
    if policy is not None and not isinstance(policy, SocketPolicy):
        raise TypeError(f"expected a SocketPolicy or None, not {type(policy).__name__}")
    previous = _policy
    if policy is not None:
        _policy = policy  # the probe below needs a policy in force
        try:
            _ensure_hook()
        except BaseException:
            _policy = previous
            raise
    _policy = policy
    return previous


def uninstall_policy() -> SocketPolicy | None:
    """Turn checking off; returns the policy that was in force."""
    return install_policy(None)


def current_policy() -> SocketPolicy | None:
    return _policy


@contextlib.contextmanager
def using_policy(policy: SocketPolicy | None) -> Iterator[SocketPolicy | None]:
    """Install ``policy`` for the duration of a ``with`` block, then restore the previous one."""
    previous = install_policy(policy)
    try:
        yield policy
    finally:
        install_policy(previous)
