"""Permission checks: audit events per operation, denial as SecurityException, the ready-made policy.

Audit hooks cannot be removed, so this module adds one hook of its own, once,
that does nothing unless a test has switched it on (``_hook_state``); the
library's policy hook likewise does nothing unless a policy is installed,
and every test leaves none installed.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from conftest import WAIT, CallbackRecorder, UdpPeer
from dotnet_sockets import (
    AddressFamily,
    ArgumentNullException,
    IPAddress,
    IPEndPoint,
    SecurityException,
    Socket,
    SocketFlags,
    SocketType,
    UnixDomainSocketEndPoint,
)
from dotnet_sockets.security import (
    DESTINATION_MEMBERS,
    SocketPolicy,
    current_policy,
    install_policy,
    uninstall_policy,
    using_policy,
)

MakeSocket = Callable[..., Socket]
PREFIX = "dotnet_sockets.Socket."


class _HookState:
    def __init__(self) -> None:
        self.events: list[tuple[str, Any, Any]] | None = None  # recording when not None
        self.deny: Callable[[str, Any, Any], bool] | None = None
        self.raise_security = False


_hook_state = _HookState()


def _test_hook(event: str, args: tuple[Any, ...]) -> None:
    st = _hook_state
    if not event.startswith(PREFIX):
        return
    member, sock, ep = event[len(PREFIX) :], args[0], args[1]
    if st.events is not None:
        st.events.append((member, sock, ep))
    if st.deny is not None and st.deny(member, sock, ep):
        if st.raise_security:
            raise SecurityException(f"test hook refuses {member} to {ep}")
        raise PermissionError(f"test hook refuses {member} to {ep}")


sys.addaudithook(_test_hook)


@pytest.fixture(autouse=True)
def _clean_state() -> Iterator[None]:
    yield
    _hook_state.events = None
    _hook_state.deny = None
    _hook_state.raise_security = False
    install_policy(None)


@pytest.fixture
def events() -> list[tuple[str, Any, Any]]:
    recorded: list[tuple[str, Any, Any]] = []
    _hook_state.events = recorded
    return recorded


@pytest.fixture
def peer() -> Iterator[UdpPeer]:
    p = UdpPeer(AddressFamily.InterNetwork)
    yield p
    p.close()


def _deny_endpoint(ep: IPEndPoint) -> None:
    _hook_state.deny = lambda member, sock, target: target == ep


def _members(events: list[tuple[str, Any, Any]], sock: Socket) -> list[str]:
    return [m for m, s, _ in events if s is sock]


# -- the audit events -----------------------------------------------------------------------------


def test_begin_send_to_raises_its_audit_event_with_socket_and_endpoint(
    make_socket: MakeSocket, peer: UdpPeer, events: list[tuple[str, Any, Any]]
) -> None:
    s = make_socket()
    rec = CallbackRecorder(s.EndSendTo)
    s.BeginSendTo(b"hi", 0, 2, SocketFlags.None_, peer.endpoint, rec, None)
    assert rec.wait()
    assert ("BeginSendTo", s, peer.endpoint) in events
    assert peer.recv()[0] == b"hi"


def test_every_socket_operation_raises_an_event_named_after_the_dotnet_member(
    make_socket: MakeSocket, peer: UdpPeer, events: list[tuple[str, Any, Any]]
) -> None:
    any_ep = IPEndPoint(IPAddress.Any, 0)
    u = make_socket()
    local = IPEndPoint(IPAddress.Loopback, 0)
    u.Bind(local)
    u.SendTo(b"a", peer.endpoint)
    u.SendTo(b"a", 0, 1, SocketFlags.None_, peer.endpoint)
    target = u.LocalEndPoint
    assert isinstance(target, IPEndPoint)
    u.SendTo(b"self", target)
    u.ReceiveTimeout = int(WAIT * 1000)
    u.ReceiveFrom(bytearray(8), any_ep)
    rec = CallbackRecorder(u.EndReceiveFrom)
    u.BeginReceiveFrom(bytearray(8), 0, 8, SocketFlags.None_, any_ep, rec, None)
    u.SendTo(b"again", target)
    assert rec.wait()

    listener = make_socket(st=SocketType.Stream)
    listener.Bind(local)
    listener.Listen(2)
    client = make_socket(st=SocketType.Stream)
    client.Connect(listener.LocalEndPoint)
    server = listener.Accept()
    client.Send(b"x")
    server.Receive(bytearray(4))
    sent = CallbackRecorder(client.EndSend)
    client.BeginSend(b"y", 0, 1, SocketFlags.None_, sent, None)
    got = CallbackRecorder(server.EndReceive)
    server.BeginReceive(bytearray(4), 0, 4, SocketFlags.None_, got, None)
    assert sent.wait() and got.wait()
    client.Shutdown(1)
    accepted = CallbackRecorder(listener.EndAccept)
    listener.BeginAccept(accepted, None)
    client2 = make_socket(st=SocketType.Stream)
    connected = CallbackRecorder(client2.EndConnect)
    client2.BeginConnect(listener.LocalEndPoint, connected, None)
    assert connected.wait() and accepted.wait()
    accepted.results[0].Dispose()
    server.Dispose()

    assert _members(events, u) == [
        "Bind",
        "SendTo",
        "SendTo",
        "SendTo",
        "ReceiveFrom",
        "BeginReceiveFrom",
        "SendTo",
    ]
    assert ("Bind", u, local) in events
    assert ("ReceiveFrom", u, any_ep) in events and ("BeginReceiveFrom", u, any_ep) in events
    assert _members(events, listener) == ["Bind", "Listen", "Accept", "BeginAccept"]
    assert _members(events, client) == ["Connect", "Send", "BeginSend", "Shutdown"]
    assert ("Connect", client, listener.LocalEndPoint) in events
    assert ("Send", client, listener.LocalEndPoint) in events  # the peer of a connected socket
    assert _members(events, server) == ["Receive", "BeginReceive"]
    assert ("BeginConnect", client2, listener.LocalEndPoint) in events


def test_the_event_comes_after_the_argument_checks(make_socket: MakeSocket, peer: UdpPeer) -> None:
    _hook_state.deny = lambda *_: True
    s = make_socket()
    with pytest.raises(ArgumentNullException):
        s.BeginSendTo(None, 0, 0, SocketFlags.None_, peer.endpoint, None, None)
    with pytest.raises(ArgumentNullException):
        s.SendTo(b"x", None)
    with pytest.raises(SecurityException):
        s.BeginSendTo(b"x", 0, 1, SocketFlags.None_, peer.endpoint, None, None)


# -- a hook that denies -----------------------------------------------------------------------------


@pytest.mark.parametrize("raise_security", [False, True], ids=["PermissionError", "SecurityException"])
def test_a_denying_hook_reaches_the_caller_as_security_exception_with_nothing_sent(
    make_socket: MakeSocket, peer: UdpPeer, raise_security: bool
) -> None:
    denied = peer.endpoint
    other = UdpPeer(AddressFamily.InterNetwork)
    try:
        _deny_endpoint(denied)
        _hook_state.raise_security = raise_security
        s = make_socket()
        callback = CallbackRecorder()
        with pytest.raises(SecurityException) as err:
            s.BeginSendTo(b"secret", 0, 6, SocketFlags.None_, denied, callback, None)
        assert isinstance(err.value, PermissionError)
        assert "refuses BeginSendTo" in str(err.value)
        with pytest.raises(SecurityException):
            s.SendTo(b"secret", denied)
        with pytest.raises(SecurityException):
            s.SendTo(b"secret", 0, 6, SocketFlags.None_, denied)
        assert s.LocalEndPoint is None  # nothing was sent, so nothing bound the socket
        assert not callback.wait(1, timeout=0.2)  # no operation was started
        # The same socket still sends where it may.
        s.SendTo(b"fine", other.endpoint)
        assert other.recv()[0] == b"fine"
        assert peer.nothing_pending()
    finally:
        other.close()


def test_a_denied_connect_raises_security_exception_and_connects_nothing(make_socket: MakeSocket) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(4)
        listener.setblocking(False)
        target = IPEndPoint(IPAddress.Loopback, listener.getsockname()[1])
        _deny_endpoint(target)
        for begin in (False, True):
            c = make_socket(st=SocketType.Stream)
            with pytest.raises(SecurityException):
                if begin:
                    c.BeginConnect(target, None, None)
                else:
                    c.Connect(target)
            assert not c.Connected
        with pytest.raises(BlockingIOError):
            listener.accept()  # no connection ever reached the listener


# -- the ready-made policy --------------------------------------------------------------------------


def test_loopback_only_refuses_a_non_loopback_send_without_sending_it(
    make_socket: MakeSocket, peer: UdpPeer
) -> None:
    # 0.0.0.0 is not a loopback address, yet Linux delivers a datagram sent to it to
    # this host: so the control below proves the send would arrive, without any
    # packet ever leaving the machine.
    to_any = IPEndPoint(IPAddress.Any, peer.endpoint.Port)
    control = make_socket()
    control.SendTo(b"control", to_any)
    assert peer.recv()[0] == b"control"

    install_policy(SocketPolicy.loopback_only())
    s = make_socket()
    with pytest.raises(SecurityException) as err:
        s.BeginSendTo(b"leak", 0, 4, SocketFlags.None_, to_any, None, None)
    assert "not a loopback address" in str(err.value)
    with pytest.raises(SecurityException):
        s.SendTo(b"leak", to_any)
    assert peer.nothing_pending()
    # Loopback destinations are still allowed.
    s.SendTo(b"loop", peer.endpoint)
    assert peer.recv()[0] == b"loop"


def test_no_broadcast_refuses_a_broadcast_send(make_socket: MakeSocket) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver:
        receiver.bind(("127.255.255.255", 0))
        receiver.settimeout(WAIT)
        target = IPEndPoint(IPAddress.Parse("127.255.255.255"), receiver.getsockname()[1])
        s = make_socket()
        s.EnableBroadcast = True
        s.SendTo(b"control", target)
        assert receiver.recv(64) == b"control"
        with using_policy(SocketPolicy.no_broadcast()):
            with pytest.raises(SecurityException) as err:
                s.BeginSendTo(b"no", 0, 2, SocketFlags.None_, target, None, None)
            assert "broadcast" in str(err.value)
        receiver.setblocking(False)
        with pytest.raises(BlockingIOError):
            receiver.recv(64)


def test_using_policy_restores_the_previous_one(make_socket: MakeSocket, peer: UdpPeer) -> None:
    outer = SocketPolicy.no_broadcast()
    install_policy(outer)
    with using_policy(SocketPolicy.deny_only(peer.endpoint)) as inner:
        assert current_policy() is inner
        with pytest.raises(SecurityException):
            make_socket().SendTo(b"x", peer.endpoint)
    assert current_policy() is outer
    assert uninstall_policy() is outer
    assert current_policy() is None
    make_socket().SendTo(b"free", peer.endpoint)
    assert peer.recv()[0] == b"free"


def test_allow_lists_match_networks_addresses_and_ports() -> None:
    p = SocketPolicy.allow_only("10.0.0.0/8", "127.0.0.1:53", "[::1]:53", IPAddress.Parse("192.0.2.7"))

    def ok(addr: str, port: int, member: str = "SendTo") -> bool:
        return p.allows(member, IPEndPoint(IPAddress.Parse(addr), port))

    assert ok("10.1.2.3", 9) and ok("127.0.0.1", 53) and ok("::1", 53) and ok("192.0.2.7", 1)
    assert not ok("127.0.0.1", 54) and not ok("::1", 80) and not ok("11.0.0.1", 9)
    assert ok("::ffff:10.9.9.9", 9)  # an IPv4-mapped address is judged as the IPv4 address
    assert ok("11.0.0.1", 9, member="Bind")  # only sends and connects are judged
    assert p.allows("SendTo", None) and p.allows("SendTo", UnixDomainSocketEndPoint("/tmp/x"))
    assert {"SendTo", "BeginSendTo", "Connect", "BeginConnect"} <= DESTINATION_MEMBERS


def test_policies_combine_and_take_custom_rules() -> None:
    both = SocketPolicy.loopback_only() & SocketPolicy.deny_only("127.0.0.2")
    loop2 = IPEndPoint(IPAddress.Parse("127.0.0.2"), 9)
    assert not both.allows("SendTo", loop2)
    assert both.allows("SendTo", IPEndPoint(IPAddress.Loopback, 9))
    assert not both.allows("Connect", IPEndPoint(IPAddress.Parse("192.0.2.1"), 9))

    seen: list[str] = []

    def no_port_7(member: str, sock: Any, ep: Any) -> None:
        seen.append(member)
        if isinstance(ep, IPEndPoint) and ep.Port == 7:
            raise PermissionError("port 7 is closed to this program")

    custom = SocketPolicy(check=no_port_7, name="no echo")
    custom.check("SendTo", None, IPEndPoint(IPAddress.Loopback, 8))
    with pytest.raises(PermissionError, match="port 7"):
        custom.check("SendTo", None, IPEndPoint(IPAddress.Loopback, 7))
    assert seen == ["SendTo", "SendTo"]


def test_a_custom_policy_denial_reaches_the_caller_as_security_exception(
    make_socket: MakeSocket, peer: UdpPeer
) -> None:
    def refuse(member: str, sock: Any, ep: Any) -> None:
        if member == "Bind":
            raise PermissionError("this program may not bind")

    with using_policy(SocketPolicy(check=refuse)):
        with pytest.raises(SecurityException, match="may not bind"):
            make_socket().Bind(IPEndPoint(IPAddress.Loopback, 0))


def test_install_policy_checks_its_argument() -> None:
    with pytest.raises(TypeError):
        install_policy("loopback")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        SocketPolicy.allow_only("127.0.0.1:http")
    with pytest.raises(ValueError):
        SocketPolicy.allow_only("not an address")
